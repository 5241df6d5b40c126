#!/bin/bash
#
# tests/integration/nginx.sh - sherve's pre-fork pool behind nginx.
#
# Two `sherve serve --listen unix:SOCK --workers 2` pools (one at the
# site root, one with base-path /go; as root they drop to the nginx
# workers' user with --user) and one nginx with three server blocks
# rendered from contrib/nginx: sherve.conf at "/", sherve-static.conf
# (nginx serves the files, sherve the rest) and sherve.conf at /go. Each
# must answer assets, a nested directory with a slash (and without it,
# 301 to add it), Content-Type, ETag/304, aliases (map from the fake upstream), 404s,
# and the pools' metrics path (--metrics-path /-/metrics) from loopback
# (127.0.0.1) only.
#
# Needs nginx, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
NGINX=$(nginx_path) || skip_all "nginx is not installed (apt-get install nginx)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
PURE=$TOP_SRCDIR/contrib/nginx/sherve.conf
STATIC=$TOP_SRCDIR/contrib/nginx/sherve-static.conf
XACCEL=$TOP_SRCDIR/contrib/nginx/sherve-xaccel.conf
for f in "$PURE" "$STATIC"; do
	[ -r "$f" ] || hard_error "$f: missing"
done
note "nginx: $("$NGINX" -v 2>&1 | head -n 1)"

open_tmp_to_children
make_site
mkdir -p "$T_TMP/outside" "$W/empty-dir"
printf 'CANARY-OUTSIDE\n' >"$T_TMP/outside/canary.txt"
ln -s "$T_TMP/outside/canary.txt" "$W/link.txt"
start_upstream
note "fake upstream on $UP"

U=$(child_user)
# The sockets' directory belongs to the pools' user (like /run/sherve),
# so a master that dropped privileges can still remove its socket.
SOCKDIR=$T_TMP/run
give_to_child "$SOCKDIR"
# nginx_pool NAME BASE_PATH SENDFILE_MODE: start_pool of 2 on
# $SOCKDIR/NAME.sock, its settings in $T_TMP/pool-NAME.conf rendered
# from contrib/sherve.conf; sets P_PID (the pool's master), P_BG (what
# start_bg started) and P_LOG (the pool's stderr). As root, the pool
# "root" is the README's block "pool", run as printed with the test's
# values (its master runs under the block's shell).
nginx_pool() {
	local name=$1 cfg=$T_TMP/pool-$1.conf rc=0
	give_to_child "$T_TMP/state-$name"
	if [ "$name" = root ] && [ "$U" = www-data ]; then
		P_LOG=$T_TMP/readme-pool.log
		start_pool "$SOCKDIR/$name.sock" 0 "$T_TMP/pool-$name.log" \
			readme_run "$TOP_SRCDIR/contrib/nginx/README.md" pool \
			SHERVE="$SHERVE_BIN" WEBROOT="$W" \
			REDIRECTS_URL="$UP/redirects.txt" \
			STATE_DIR="$T_TMP/state-$name" \
			SOCKET="$SOCKDIR/$name.sock" CONFIG="$cfg" WORKERS=2 ||
			rc=$?
	else
		P_LOG=$T_TMP/pool-$name.log
		render_template "$TOP_SRCDIR/contrib/sherve.conf" "$cfg" \
			WEBROOT="$W" REDIRECTS_URL="$UP/redirects.txt" \
			STATE_DIR="$T_TMP/state-$name" BASE_PATH="$2" \
			SENDFILE_MODE="$3" || hard_error "cannot render $cfg"
		start_pool "$SOCKDIR/$name.sock" 0 "$P_LOG" "$SHERVE_BIN" \
			--config "$cfg" serve --listen "unix:$SOCKDIR/$name.sock" \
			--workers 2 ${U:+--user "$U"} || rc=$?
	fi
	log_file "$P_LOG"
	P_BG=$M_PID
	P_PID=$M_PID
	# The README's block runs the master under its shell: the first
	# sherve below (descendants_of lists parents before children).
	[ "$(readlink "/proc/$M_PID/exe")" = "$(readlink -f "$SHERVE_BIN")" ] ||
		P_PID=$(sherve_procs -r "$M_PID" | head -n 1)
	[ "$rc" -eq 0 ] ||
		hard_error "sherve serve '$name' did not create its socket"
	wait_workers "$P_PID" 2 50 || fail "sherve serve '$name' runs 2 workers" \
		"$(sherve_workers "$P_PID" | wc -l)"
}

nginx_pool root / none
ROOT_PID=$P_PID
ROOT_BG=$P_BG
ROOT_LOG=$P_LOG
nginx_pool go /go none
GO_PID=$P_PID
nginx_pool xaccel / nginx
XA_PID=$P_PID
note "pools: root (pid $ROOT_PID), go (pid $GO_PID)"
if [ -n "$U" ]; then
	w=$(sherve_workers "$ROOT_PID" | head -n 1)
	expect_eq "[pool] workers dropped to --user $U" \
		"$(ps -o user= -p "$w" | tr -d ' ')" "$U"
fi

# four_sites PREFIX: print an nginx.conf (start_nginx) with the pure,
# static, /go and X-Accel recipes on free ports P1..P4; B is P1's.
four_sites() {
	local pre=$1
	P1=$(free_port)
	P2=$(free_port)
	P3=$(free_port)
	P4=$(free_port)
	B=http://127.0.0.1:$P1
	{
		render_template "$PURE" "$pre/pure.conf" PORT="$P1" \
			SOCKET="$SOCKDIR/root.sock" BASE_PATH=/ &&
			render_template "$STATIC" "$pre/static.conf" PORT="$P2" \
				SOCKET="$SOCKDIR/root.sock" WEBROOT="$W" &&
			render_template "$PURE" "$pre/go.conf" PORT="$P3" \
				SOCKET="$SOCKDIR/go.sock" BASE_PATH=/go &&
			render_template "$XACCEL" "$pre/xaccel.conf" PORT="$P4" \
				SOCKET="$SOCKDIR/xaccel.sock" WEBROOT="$W"
	} >&2 || return 1
	nginx_skeleton "$pre" "$pre/pure.conf" "$pre/static.conf" \
		"$pre/go.conf" "$pre/xaccel.conf"
}

PRE=$T_TMP/nginx
if ! start_nginx "$PRE" four_sites ||
	! wait_http "http://127.0.0.1:$P3/" "$N_PID" 50; then
	fail "nginx answers on every port" \
		"$(cat "$PRE/stderr.log" "$PRE/error.log" 2>/dev/null)"
	finish
fi
note "nginx (pid $N_PID): pure :$P1, static :$P2, /go :$P3"

# ---- sherve.conf: everything through sherve
readme_render_check nginx "$TOP_SRCDIR/contrib/nginx/README.md" by-hand \
	"$PRE/pure.conf" PORT="$P1" SOCKET="$SOCKDIR/root.sock"
site_checks nginx "http://127.0.0.1:$P1"
recipe_status_checks nginx "$T_TMP/pool-root.conf" - "$UP/redirects.txt" \
	"$T_TMP/state-root"
http "http://127.0.0.1:$P1/link.txt"
expect_status "[nginx] a symlink out of the webroot is 404" 404
expect_body_not_contains "[nginx] ... and leaks nothing" CANARY
http -H 'Range: bytes=0-3' "http://127.0.0.1:$P1/style.css"
expect_status "[nginx] Range is passed to sherve: 206" 206
expect_body_equals "[nginx] ... with the 4 bytes" 'body'
http "http://127.0.0.1:$P1/empty-dir/"
expect_status "[nginx] a directory without index.html is 404" 404
metrics_acl_checks nginx "http://127.0.0.1:$P1"

# ---- sherve-static.conf: nginx serves the files, sherve the rest
site_checks nginx-static "http://127.0.0.1:$P2"
http "http://127.0.0.1:$P2/link.txt"
expect_status "[nginx-static] a symlink out of the webroot is 404" 404
expect_body_not_contains "[nginx-static] ... and leaks nothing" CANARY
http "http://127.0.0.1:$P2/empty-dir/"
expect_status "[nginx-static] a directory without index.html is 404" 404
http "http://127.0.0.1:$P2/%2esecret"
expect_status "[nginx-static] /%2esecret is 404" 404
expect_body_not_contains "[nginx-static] ... and leaks nothing" CANARY
# Which of the two answered: sherve logs one line per request.
n0=$(grep -c '"msg":"request"' "$ROOT_LOG")
http "http://127.0.0.1:$P2/style.css"
http "http://127.0.0.1:$P2/docs/guide/"
n1=$(grep -c '"msg":"request"' "$ROOT_LOG")
expect_eq "[nginx-static] files and indexes are served by nginx alone" \
	"$((n1 - n0))" 0
http "http://127.0.0.1:$P2/foo"
sleep 0.2
n2=$(grep -c '"msg":"request"' "$ROOT_LOG")
expect_eq "[nginx-static] an alias goes to sherve" "$((n2 - n1))" 1
metrics_acl_checks nginx-static "http://127.0.0.1:$P2"

# ---- sherve-xaccel.conf: sherve decides, nginx sends the file
XB=http://127.0.0.1:$P4
site_checks nginx-xaccel "$XB"
n0=$(grep -c '"msg":"request"' "$T_TMP/pool-xaccel.log")
http "$XB/style.css"
expect_status "[nginx-xaccel] an asset is 200" 200
expect_body_file "[nginx-xaccel] ... sent whole by nginx" "$W/style.css"
sleep 0.2
n1=$(grep -c '"msg":"request"' "$T_TMP/pool-xaccel.log")
expect_eq "[nginx-xaccel] ... after sherve decided (one request logged)" \
	"$((n1 - n0))" 1
http -H 'Range: bytes=0-3' "$XB/style.css"
expect_status "[nginx-xaccel] Range, applied by nginx: 206" 206
expect_body_equals "[nginx-xaccel] ... with the 4 bytes" 'body'
http "$XB/.sherve-files/style.css"
expect_status "[nginx-xaccel] the internal location is not reachable directly" 404
http "$XB/link.txt"
expect_status "[nginx-xaccel] a symlink out of the webroot is 404" 404
expect_body_not_contains "[nginx-xaccel] ... and leaks nothing" CANARY
http "$XB/%2esecret"
expect_status "[nginx-xaccel] a dotfile is 404" 404
expect_body_not_contains "[nginx-xaccel] ... and leaks nothing" CANARY
metrics_acl_checks nginx-xaccel "$XB"

# ---- sherve.conf at /go, sherve with base-path /go
base_path_checks nginx "http://127.0.0.1:$P3"
metrics_acl_checks "nginx /go" "http://127.0.0.1:$P3/go"

# ---- the pools
seq 1 60 | xargs -P 6 -I{} curl -s -o /dev/null -m 10 \
	-w '%{http_code}\n' "$B/foo?n={}" >"$T_TMP/burst" 2>/dev/null
expect_eq "[pool] 60 concurrent requests all get 301" \
	"$(grep -c '^301$' "$T_TMP/burst")" 60
expect_file_contains "[pool] the pool's log is where the test reads it" \
	"$ROOT_LOG" '"level":"info"'
expect_file_not_contains "[pool] the pool logged no error" \
	"$ROOT_LOG" '"level":"error"'
expect_file_not_contains "[pool] no worker died" "$ROOT_LOG" \
	'killed by signal'
expect_file_not_contains "[nginx] nginx logged no upstream error" \
	"$PRE/error.log" 'upstream'

expect_term_exit "[pool] SIGTERM: the master exits 0" "$ROOT_PID" 100 \
	"$ROOT_BG"
if [ -e "$SOCKDIR/root.sock" ]; then
	fail "[pool] the master removes its socket on exit" "$SOCKDIR/root.sock"
else
	pass "[pool] the master removes its socket on exit"
fi
http "$B/foo"
expect_status "[nginx] with the pool gone nginx answers 502" 502
T_5XX=0 # that 502 was the point

expect_no_5xx "[nginx] no other request got a 5xx"
finish

#!/bin/bash
#
# tests/integration/nginx.sh - sherve's pre-fork pool behind nginx.
#
# `sherve serve --listen unix:SOCK --workers 2` pools (one at the site
# root, one with base-path /go, one with sendfile-mode nginx; as root
# they drop to the nginx workers' user with --user) and one nginx with
# three server blocks rendered from contrib/nginx: sherve.conf at "/",
# sherve.conf at /go and sherve-xaccel.conf. Each must answer assets, a
# nested directory with a slash (and without it, 301 to add it),
# Content-Type, ETag/304, aliases (map from the fake upstream), 404s, and
# the pools' metrics path (--metrics-path /-/metrics) from loopback
# (127.0.0.1) only. Then sherve-static.conf (nginx sends the files with
# sherve's rules for them, sherve the rest) in a second nginx, in front
# of a pool of its own: the files-first checks (static_checks) and
# sherve's Content-Type for every type it knows.
#
# Needs nginx, curl and python3; skips (77) without them, and the
# files-first part without the brotli_static module
# (libnginx-mod-http-brotli-static).
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
# nginx_pool NAME BASE_PATH SENDFILE_MODE [WEBROOT]: start_pool of 2 on
# $SOCKDIR/NAME.sock serving WEBROOT ($W), its settings in
# $T_TMP/pool-NAME.conf rendered from contrib/sherve.conf, its state in
# $T_TMP/state-NAME; sets P_PID (the pool's master), P_BG (what
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
			WEBROOT="${4:-$W}" REDIRECTS_URL="$UP/redirects.txt" \
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

# three_sites PREFIX: print an nginx.conf (start_nginx) with the pure,
# /go and X-Accel recipes on free ports P1, P2 and P3; B is P1's.
three_sites() {
	local pre=$1
	free_port P1
	free_port P2
	free_port P3
	B=http://127.0.0.1:$P1
	{
		render_template "$PURE" "$pre/pure.conf" PORT="$P1" \
			SOCKET="$SOCKDIR/root.sock" BASE_PATH=/ &&
			render_template "$PURE" "$pre/go.conf" PORT="$P2" \
				SOCKET="$SOCKDIR/go.sock" BASE_PATH=/go &&
			render_template "$XACCEL" "$pre/xaccel.conf" PORT="$P3" \
				SOCKET="$SOCKDIR/xaccel.sock" WEBROOT="$W"
	} >&2 || return 1
	nginx_skeleton "$pre" "$pre/pure.conf" "$pre/go.conf" "$pre/xaccel.conf"
}

PRE=$T_TMP/nginx
if ! start_nginx "$PRE" three_sites ||
	! wait_http "http://127.0.0.1:$P2/" "$N_PID" 50 ||
	! wait_http "http://127.0.0.1:$P3/" "$N_PID" 50; then
	fail "nginx answers on every port" \
		"$(cat "$PRE/stderr.log" "$PRE/error.log" 2>/dev/null)"
	finish
fi
note "nginx (pid $N_PID): pure :$P1, /go :$P2, X-Accel :$P3"

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

# ---- sherve-xaccel.conf: sherve decides, nginx sends the file
XB=http://127.0.0.1:$P3
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
base_path_checks nginx "http://127.0.0.1:$P2"
metrics_acl_checks "nginx /go" "http://127.0.0.1:$P2/go"

# ---- sherve-static.conf: nginx sends the files, sherve the rest
# In an nginx of its own, in front of a pool of its own on static_site's
# webroot, with Debian's nginx.conf's "gzip on" (text/html compressed on
# the fly) and, as its comments offer, gzip_vary and gzip_types for text:
# the server block must override them.
DEBIAN_GZIP='gzip on; gzip_vary on; gzip_types text/plain text/css;'

# static_front PREFIX: print an nginx.conf (start_nginx) with
# sherve-static.conf for $ST_W on a free port, ST_PORT; sets B.
static_front() {
	local pre=$1
	free_port ST_PORT
	B=http://127.0.0.1:$ST_PORT
	render_template "$STATIC" "$pre/static.conf" PORT="$ST_PORT" \
		SOCKET="$SOCKDIR/static.sock" WEBROOT="$ST_W" >&2 || return 1
	nginx_skeleton "$pre" "$pre/static.conf"
}

# static_types_check LABEL BASEURL DIR: for a file of each extension in
# sherve's table (src/mime.c) and one it does not know, nginx sends
# sherve's Content-Type, Vary and Cache-Control (as sherve answers the
# same file run as CGI).
static_types_check() {
	local l=$1 u=$2 d=$3 e n=0 got want h bad=''
	mkdir -p "$d/types"
	for e in $(sed -n 's/^[[:space:]]*{ "\([a-z0-9]*\)", "[^"]*" },$/\1/p' \
		"$TOP_SRCDIR/src/mime.c") unknown; do
		printf 'x' >"$d/types/f.$e"
		http "$u/types/f.$e"
		got="$H_STATUS|$(header Content-Type)|$(header Vary)|$(header Cache-Control)"
		h=$(sherve_alone_head "$d" "/types/f.$e")
		want="200|$(printf '%s\n' "$h" | sed -n 's/^Content-Type: //p')"
		want="$want|$(printf '%s\n' "$h" | sed -n 's/^Vary: //p')"
		want="$want|$(printf '%s\n' "$h" | sed -n 's/^Cache-Control: //p')"
		[ "$got" = "$want" ] || bad="$bad f.$e: $got, want $want;"
		n=$((n + 1))
	done
	if [ "$n" -lt 30 ]; then
		fail "[$l] the types of src/mime.c" "only $n read from it"
	elif [ -n "$bad" ]; then
		fail "[$l] sherve's Content-Type, Vary and Cache-Control for $n types" \
			"$bad"
	else
		pass "[$l] sherve's Content-Type, Vary and Cache-Control for $n types"
	fi
}

# static_nginx_checks LABEL BASEURL DIR: what this recipe sets beyond
# static_checks: siblings behind a proxy (Via) and over HTTP/1.0, never
# compressed on the fly nor twice Vary (DEBIAN_GZIP), no sibling that is
# a link, and the types.
static_nginx_checks() {
	local l=$1 u=$2 d=$3 ae
	for ae in br gzip; do
		http -H "Accept-Encoding: $ae" -H 'Via: 1.1 cache' "$u/style.css"
		expect_header "[$l] through a proxy (Via) accepting $ae: the sibling" \
			Content-Encoding "$ae"
		http --http1.0 -H "Accept-Encoding: $ae" "$u/style.css"
		expect_header "[$l] over HTTP/1.0 accepting $ae: the sibling" \
			Content-Encoding "$ae"
	done
	expect_eq "[$l] ... with one Vary header" \
		"$(grep -ci '^vary:' "$H_HEADERS")" 1
	http -H 'Accept-Encoding: gzip' "$u/data.txt"
	expect_no_header "[$l] a text file without sibling is not compressed" \
		Content-Encoding
	expect_body_file "[$l] ... but sent as itself" "$d/data.txt"
	expect_header "[$l] ... Vary: Accept-Encoding all the same" Vary \
		Accept-Encoding
	expect_match "[$l] ... with a strong ETag" "$(header ETag)" '"?*"'
	printf 'p { margin: 0; }\n' >"$d/linked.css"
	ln -s "$d-outside/canary.txt" "$d/linked.css.br"
	ln -s "$d-outside/canary.txt" "$d/linked.css.gz"
	http -H 'Accept-Encoding: br, gzip' "$u/linked.css"
	expect_no_header "[$l] siblings that are links are never sent" \
		Content-Encoding
	expect_body_file "[$l] ... the file is" "$d/linked.css"
	http -H 'Accept-Encoding: gzip' -H 'Range: bytes=0-3' "$u/style.css"
	expect_status "[$l] a range of a sibling: the whole sibling (200)" 200
	expect_body_file "[$l] ... its bytes" "$d/style.css.gz"
	static_types_check "$l" "$u" "$d"
}

ST_W=$T_TMP/static-www
static_site "$ST_W"
if ! BROTLI=$(nginx_module brotli_static); then
	skip "[nginx-static] contrib/nginx/sherve-static.conf" \
		"brotli_static is missing (apt-get install libnginx-mod-http-brotli-static)"
else
	nginx_pool static / none "$ST_W"
	STATIC_POOL=$P_BG
	if NGINX_LOAD=$BROTLI NGINX_HTTP=$DEBIAN_GZIP \
		start_nginx "$T_TMP/nginx-static" static_front; then
		note "nginx (pid $N_PID): sherve-static.conf on $B"
		readme_render_check nginx-static "$TOP_SRCDIR/contrib/nginx/README.md" \
			by-hand-static "$T_TMP/nginx-static/static.conf" \
			PORT="$ST_PORT" SOCKET="$SOCKDIR/static.sock" WEBROOT="$ST_W"
		static_checks nginx-static "$B" "$ST_W" "$T_TMP/state-static" \
			sherve freshness wildcard
		static_nginx_checks nginx-static "$B" "$ST_W"
		stop_pid "$N_PID"
		expect_file_not_contains "[nginx-static] no upstream error" \
			"$T_TMP/nginx-static/error.log" upstream
	fi
	M_PID=$STATIC_POOL
	stop_pool nginx-static "$P_LOG"
fi

# ---- the pools
seq 1 60 | xargs -P 6 -I{} curl -s -o /dev/null -m 10 \
	-w '%{http_code}\n' "http://127.0.0.1:$P1/foo?n={}" >"$T_TMP/burst" 2>/dev/null
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
http "http://127.0.0.1:$P1/foo"
expect_status "[nginx] with the pool gone nginx answers 502" 502
T_5XX=0 # that 502 was the point

expect_no_5xx "[nginx] no other request got a 5xx"
finish

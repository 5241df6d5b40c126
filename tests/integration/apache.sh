#!/bin/bash
#
# tests/integration/apache.sh - sherve behind Apache 2.4 + mod_fcgid.
#
# Renders contrib/apache/sherve.conf (the virtual host a Debian install
# puts in sites-available) inside a private server skeleton on a free
# 127.0.0.1 port, and checks the HTTP answers: assets, a nested directory
# with a slash (and without it, 301 to add it), Content-Type, ETag/304, aliases (map from the
# fake upstream), 404s, the metrics path (loopback only); then a second
# instance mounted at /go; then contrib/apache/sherve-xsendfile.conf
# (sendfile-mode apache, files sent by mod_xsendfile): sherve still
# decides, Apache sends the bytes, never stale after a rename or a flip
# of a symlinked webroot; then contrib/apache/sherve-proxy-fcgi.conf
# (event MPM, mod_proxy_fcgi with enablereuse=on) in front of a
# `sherve serve` pool whose settings are in its sherve.conf: the same
# site checks, a range, containment, metrics, and kept connections.
# Last, the files-first recipes, contrib/apache/sherve-static.conf
# (mod_fcgid) and sherve-proxy-fcgi-static.conf (a pool): Apache sends
# the files with sherve's rules for them, sherve answers the rest.
#
# Needs apache2 with mod_fcgid (libapache2-mod-fcgid), curl and python3;
# skips (77) without them. Without mod_xsendfile (libapache2-mod-xsendfile)
# the X-Sendfile instance is skipped.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
APACHE=$(apache_path) ||
	skip_all "apache2 is not installed (apt-get install apache2)"
need_apache_modules fcgid mpm_event authz_core authz_host mime log_config dir \
	rewrite headers
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve.conf
XS_TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve-xsendfile.conf
PROXY_TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve-proxy-fcgi.conf
ST_TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve-static.conf
PROXY_ST_TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve-proxy-fcgi-static.conf
for f in "$TEMPLATE" "$XS_TEMPLATE" "$PROXY_TEMPLATE" "$ST_TEMPLATE" \
	"$PROXY_ST_TEMPLATE"; do
	[ -r "$f" ] || hard_error "$f: missing"
done
note "apache: $("$APACHE" -v 2>&1 | head -n 1)"

open_tmp_to_children
make_site
mkdir -p "$T_TMP/outside"
printf 'CANARY-OUTSIDE\n' >"$T_TMP/outside/canary.txt"
ln -s "$T_TMP/outside/canary.txt" "$W/link.txt"
start_upstream
note "fake upstream on $UP"

# fcgid_site RUN PORT BASE_PATH: print the httpd.conf of a private
# server (start_apache) on PORT for the site rendered from $TEMPLATE into
# RUN/sherve-site.conf, with sherve's settings file it names rendered
# from contrib/sherve.conf into RUN/sherve.conf, its state in
# $T_TMP/state-NAME (RUN being .../apache-NAME). SITE_WEBROOT=DIR
# (default $W), SITE_SENDFILE_MODE (default none), SITE_SOCKET and
# SITE_MODULES="..." (loaded as well as fcgid and authz_host) change
# those.
fcgid_site() {
	local run=$1 port=$2 base=$3 name=${1##*/apache-}
	mkdir -p "$run/htdocs" "$run/fcgid"
	give_to_child "$run/fcgid" "$T_TMP/state-$name"
	render_template "$TOP_SRCDIR/contrib/sherve.conf" "$run/sherve.conf" \
		WEBROOT="${SITE_WEBROOT:-$W}" REDIRECTS_URL="$UP/redirects.txt" \
		STATE_DIR="$T_TMP/state-$name" BASE_PATH="$base" \
		SENDFILE_MODE="${SITE_SENDFILE_MODE:-none}" >&2 || return 1
	render_template "$TEMPLATE" "$run/sherve-site.conf" \
		PORT="$port" SHERVE_BIN="$SHERVE_BIN" \
		WEBROOT="${SITE_WEBROOT:-$W}" CONFIG="$run/sherve.conf" \
		RUNDIR="$run" BASE_PATH="$base" SOCKET="${SITE_SOCKET:-}" >&2 ||
		return 1
	# shellcheck disable=SC2086 # a list of module names
	apache_skeleton "$run" "$port" event fcgid authz_host \
		${SITE_MODULES:-}
	# What Debian's fcgid.conf sets, under RUN.
	printf 'FcgidIPCDir "%s/fcgid"\n' "$run"
	printf 'FcgidProcessTableFile "%s/fcgid_shm"\n' "$run"
	printf 'Include "%s/sherve-site.conf"\n' "$run"
}

# readme_fcgid_check LABEL BLOCK VAR=VALUE...: the README's mod_fcgid
# BLOCK, run with the test's values, writes byte for byte the virtual
# host and the settings file the running site ($RUN) was rendered to.
readme_fcgid_check() {
	local l=$1 block=$2
	shift 2
	cp "$RUN/sherve.conf" "$RUN/sherve.conf.test"
	readme_render_check "$l" "$README" "$block" "$RUN/sherve-site.conf" \
		PORT="$PORT" SHERVE_BIN="$SHERVE_BIN" RUNDIR="$RUN" \
		REDIRECTS_URL="$UP/redirects.txt" CONFIG="$RUN/sherve.conf" "$@"
	[ "$(id -u)" -ne 0 ] ||
		check "[$l] ... and the settings file byte for byte" \
			cmp "$RUN/sherve.conf.test" "$RUN/sherve.conf"
}

README=$TOP_SRCDIR/contrib/apache/README.md

if start_apache main fcgid_site /; then
	readme_fcgid_check apache by-hand WEBROOT="$W" \
		STATE_DIR="$T_TMP/state-main"
	# The first request started sherve, which fetched the map once.
	expect_eq "[apache] sherve fetched the map from the upstream once" \
		"$(upstream_count)" 1
	site_checks apache "$B"
	recipe_status_checks apache "$RUN/sherve.conf" "$A_PID" \
		"$UP/redirects.txt" "$T_TMP/state-main"
	metrics_acl_checks apache "$B"
	http "$B/docs/guide"
	expect_header "[apache] the slash redirect is sherve's (mod_dir's would be absolute)" \
		Location /docs/guide/

	# mod_fcgid passes one request at a time per process: a burst makes
	# it start more, never more than FcgidMaxProcessesPerClass (12). The
	# processes come and go; the metrics must still sum to exact totals.
	req_total() {
		sherve_counter "$T_TMP/state-main" sherve_requests_total
	}
	m0=$(req_total)
	seq 1 40 | xargs -P 8 -I{} curl -s -o /dev/null -m 10 \
		-w '%{http_code}\n' "$B/foo?n={}" >"$T_TMP/burst" 2>/dev/null
	expect_eq "[apache] 40 concurrent requests all get 301" \
		"$(grep -c '^301$' "$T_TMP/burst")" 40
	expect_eq "[apache] metrics: exactly 40 more requests, summed over mod_fcgid's processes" \
		"$(($(req_total) - m0))" 40
	n=$(sherve_procs -r "$A_PID" | wc -l)
	if [ "$n" -ge 1 ] && [ "$n" -le 12 ]; then
		pass "[apache] 1 to 12 sherve processes (FcgidMaxProcessesPerClass)"
	else
		fail "[apache] 1 to 12 sherve processes (FcgidMaxProcessesPerClass)" "$n"
	fi
	u=$(child_user)
	if [ -n "$u" ]; then
		owner=$(ps -o user= -p "$(sherve_procs -r "$A_PID" | head -n 1)" 2>/dev/null | tr -d ' ')
		expect_eq "[apache] sherve runs as Apache's User" "$owner" "$u"
	fi
	# sherve's stderr (JSON lines) goes to the server's ErrorLog.
	expect_file_contains "[apache] sherve logs to Apache's error log" \
		"$RUN/server-error.log" '"msg":"request"'
	cat "$RUN/error.log" "$RUN/server-error.log" >"$T_TMP/all-errors.log"
	expect_file_not_contains "[apache] no mod_fcgid errors" \
		"$T_TMP/all-errors.log" 'fcgid:error'
	expect_file_not_contains "[apache] no sherve errors" \
		"$T_TMP/all-errors.log" '"level":"error"'
	procs=$(sherve_procs -r "$A_PID")
	stop_pid "$A_PID"
	gone=yes
	for p in $procs; do
		t_wait_gone "$p" 50 || gone="no: $p alive"
	done
	expect_eq "[apache] stopping Apache stops its sherve processes" "$gone" yes
fi

if start_apache base fcgid_site /go; then
	base_path_checks apache "$B"
	metrics_acl_checks "apache /go" "$B/go"
	stop_pid "$A_PID"
fi

# The X-Sendfile recipe, on a webroot that is a symbolic link (as a
# deploy that flips releases has it).
if [ ! -r "$APACHE_MODDIR/mod_xsendfile.so" ]; then
	skip "[apache-xsendfile] contrib/apache/sherve-xsendfile.conf" \
		"mod_xsendfile is missing (apt-get install libapache2-mod-xsendfile)"
else
	ln -s "$W" "$T_TMP/www-live"
	if TEMPLATE=$XS_TEMPLATE SITE_WEBROOT=$T_TMP/www-live \
		SITE_SENDFILE_MODE=apache SITE_MODULES=xsendfile \
		start_apache main-xsendfile fcgid_site /; then
		site_checks apache-xsendfile "$B"
		recipe_status_checks apache-xsendfile "$RUN/sherve.conf" \
			"$A_PID" "$UP/redirects.txt" "$T_TMP/state-main-xsendfile"
		sendfile_checks apache-xsendfile "$B" "$T_TMP/www-live" \
			"$T_TMP/state-main-xsendfile" "$RUN/server-error.log" \
			identity
		sendfile_flip_checks apache-xsendfile "$B" "$T_TMP/www-live"
		# A documented difference (README): mod_xsendfile has Apache
		# evaluate If-None-Match again on an X-Sendfile answer, and Apache
		# takes a list that starts with "*" as a match where sherve,
		# streaming, answers 200.
		http -H 'If-None-Match: *, "x"' "$B/style.css"
		expect_status "[apache-xsendfile] If-None-Match: *, \"x\" is 304 (Apache's reading)" 304
		metrics_acl_checks apache-xsendfile "$B"
		cat "$RUN/error.log" "$RUN/server-error.log" >"$T_TMP/all-errors.log"
		expect_file_not_contains "[apache-xsendfile] no mod_xsendfile errors" \
			"$T_TMP/all-errors.log" 'xsendfile:'
		expect_file_not_contains "[apache-xsendfile] no mod_fcgid errors" \
			"$T_TMP/all-errors.log" 'fcgid:error'
		stop_pid "$A_PID"
	fi
fi

# The mod_proxy_fcgi recipe: Apache (event MPM) in front of a pool.
proxy_checks() {
	local l=apache-proxy-fcgi n
	site_checks "$l" "$B"
	metrics_acl_checks "$l" "$B"
	http -H 'Range: bytes=0-3' "$B/style.css"
	expect_status "[$l] Range: bytes=0-3 is 206" 206
	expect_body_equals "[$l] ... and its 4 bytes" 'body'
	expect_header "[$l] ... Content-Range" Content-Range 'bytes 0-3/25'
	http "$B/link.txt"
	expect_status "[$l] a symbolic link out of the webroot is 404" 404
	expect_body_not_contains "[$l] ... and leaks nothing" CANARY
	for p in '/%2e%2e/outside/canary.txt' '/docs/%2e%2e/%2e%2e/outside/canary.txt' \
		'/.secret' '/%2esecret'; do
		http "$B$p"
		expect_status_in "[$l] $p is refused" 400 403 404
		expect_body_not_contains "[$l] ... and leaks nothing" CANARY
	done
	kept_connections_check "$l"
}

# kept_connections_check LABEL: enablereuse=on, after a run of requests
# that reach the pool on $SOCK, Apache keeps its FastCGI connections to
# it open (without it, it closes each one).
kept_connections_check() {
	local l=$1 n
	seq 1 20 | xargs -P 4 -I{} curl -s -o /dev/null -m 10 "$B/foo?n={}"
	n=$(ss -xH state established 2>/dev/null | grep -cF " $SOCK ")
	if [ "$n" -ge 1 ]; then
		pass "[$l] Apache keeps FastCGI connections to the pool open ($n)"
	else
		fail "[$l] Apache keeps FastCGI connections to the pool open" \
			"$(ss -xH 2>&1 | grep -F "$SOCK" | head -n 3)"
	fi
}

# fcgi_pool NAME WEBROOT: start_pool, a `sherve serve` pool of 2 workers on
# $T_TMP/pool-NAME/sherve.sock with its settings in its sherve.conf, as
# the mod_proxy_fcgi recipes say; sets SOCK (and M_PID, for stop_pool).
# Returns 1 (after a failed check) when it does not listen.
fcgi_pool() {
	local d=$T_TMP/pool-$1 u
	SOCK=$d/sherve.sock
	mkdir -p "$d"
	give_to_child "$T_TMP/state-$1"
	printf '%s\n' "webroot = $2" "redirects-url = $UP/redirects.txt" \
		"state-dir = $T_TMP/state-$1" "metrics-path = /-/metrics" \
		>"$d/sherve.conf"
	u=$(child_user)
	if start_pool "$SOCK" 0 "$d/pool.log" "$SHERVE_BIN" serve \
		--config "$d/sherve.conf" --listen "unix:$SOCK" --workers 2 \
		${u:+--user "$u"}; then
		return 0
	fi
	fail "[apache] sherve serve listens on $SOCK" "$(cat "$d/pool.log")"
	return 1
}

if ! [ -r "$APACHE_MODDIR/mod_proxy_fcgi.so" ] ||
	! [ -r "$APACHE_MODDIR/mod_proxy.so" ]; then
	skip "[apache-proxy-fcgi] contrib/apache/sherve-proxy-fcgi.conf" \
		"mod_proxy_fcgi is missing ($APACHE_MODDIR)"
elif fcgi_pool proxy "$W"; then
	if TEMPLATE=$PROXY_TEMPLATE SITE_SOCKET=$SOCK \
		SITE_MODULES="proxy proxy_fcgi" start_apache proxy-fcgi fcgid_site /; then
		readme_render_check apache-proxy-fcgi "$README" by-hand-proxy \
			"$RUN/sherve-site.conf" PORT="$PORT" SOCKET="$SOCK" RUNDIR="$RUN"
		proxy_checks
		cat "$RUN/error.log" "$RUN/server-error.log" >"$T_TMP/all-errors.log"
		expect_file_not_contains "[apache-proxy-fcgi] no proxy errors" \
			"$T_TMP/all-errors.log" 'proxy_fcgi:error'
		stop_pid "$A_PID"
	fi
	stop_pool apache-proxy-fcgi "$T_TMP/pool-proxy/pool.log"
fi

# The files-first recipes, on a webroot of their own.
ST_W=$T_TMP/static-www
static_site "$ST_W"
if TEMPLATE=$ST_TEMPLATE SITE_WEBROOT=$ST_W SITE_MODULES="rewrite headers" \
	start_apache static fcgid_site /; then
	readme_fcgid_check apache-static by-hand-static WEBROOT="$ST_W" \
		STATE_DIR="$T_TMP/state-static"
	static_checks apache-static "$B" "$ST_W" "$T_TMP/state-static" 403 \
		freshness
	recipe_status_checks apache-static "$RUN/sherve.conf" "$A_PID" \
		"$UP/redirects.txt" "$T_TMP/state-static"
	cat "$RUN/error.log" "$RUN/server-error.log" >"$T_TMP/all-errors.log"
	expect_file_not_contains "[apache-static] no mod_fcgid errors" \
		"$T_TMP/all-errors.log" 'fcgid:error'
	stop_pid "$A_PID"
fi
# Apache checks for links only inside the webroot's <Directory>: a
# webroot that is a symbolic link itself (a release flipped by a deploy)
# is served.
ln -s "$ST_W" "$T_TMP/static-live"
if TEMPLATE=$ST_TEMPLATE SITE_WEBROOT=$T_TMP/static-live \
	SITE_MODULES="rewrite headers" start_apache static-live fcgid_site /; then
	http "$B/style.css"
	expect_status "[apache-static] a symlinked webroot: a file is 200" 200
	expect_body_file "[apache-static] ... with its bytes" "$ST_W/style.css"
	http "$B/link.txt"
	expect_status "[apache-static] ... a link in it is still 403" 403
	stop_pid "$A_PID"
fi
if ! [ -r "$APACHE_MODDIR/mod_proxy_fcgi.so" ]; then
	skip "[apache-proxy-static] contrib/apache/sherve-proxy-fcgi-static.conf" \
		"mod_proxy_fcgi is missing ($APACHE_MODDIR)"
elif fcgi_pool static "$ST_W"; then
	if TEMPLATE=$PROXY_ST_TEMPLATE SITE_SOCKET=$SOCK SITE_WEBROOT=$ST_W \
		SITE_MODULES="proxy proxy_fcgi rewrite headers" \
		start_apache proxy-static fcgid_site /; then
		readme_render_check apache-proxy-static "$README" \
			by-hand-proxy-static "$RUN/sherve-site.conf" PORT="$PORT" \
			SOCKET="$SOCK" WEBROOT="$ST_W" RUNDIR="$RUN"
		static_checks apache-proxy-static "$B" "$ST_W" \
			"$T_TMP/state-static" 403 freshness
		kept_connections_check apache-proxy-static
		cat "$RUN/error.log" "$RUN/server-error.log" >"$T_TMP/all-errors.log"
		expect_file_not_contains "[apache-proxy-static] no proxy errors" \
			"$T_TMP/all-errors.log" 'proxy_fcgi:error'
		stop_pid "$A_PID"
	fi
	stop_pool apache-proxy-static "$T_TMP/pool-static/pool.log"
fi

expect_no_5xx "[apache] no request got a 5xx"
finish

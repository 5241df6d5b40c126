# shellcheck shell=bash
# shellcheck disable=SC2034 # variables for the scripts that source this
#
# tests/integration/servers.sh - helpers shared by the tests that run
# sherve behind Apache and nginx (apache.sh, shared-hosting.sh, nginx.sh,
# pool.sh, systemd.sh). Source it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/servers.sh"
#
# It provides:
#   - render_template TEMPLATE OUT NAME=VALUE...: @NAME@ substitution;
#   - make_site: the webroot ($W) and redirects file ($REDIRECTS) fixtures;
#   - apache_* and nginx_* helpers: a private server skeleton (what
#     Debian's apache2.conf / nginx.conf provide) around a rendered
#     contrib template, started in the foreground on a free port;
#   - start_apache and start_nginx: the one way each is started (a
#     script's function prints the configuration; stop_pid "$A_PID" or
#     "$N_PID" stops it), start_pool / stop_pool the one way a `sherve
#     serve` pool is (lib.sh has start_lighttpd and start_upstream);
#   - site_checks, base_path_checks: the HTTP checks every recipe runs.

# ---------------------------------------------------------------- templates

# render_template TEMPLATE OUT NAME=VALUE...: contrib/render, the one
# renderer the quickstart and the benchmark use too.
render_template() {
	"$TOP_SRCDIR/contrib/render" "$@"
}

# readme_render_check LABEL README BLOCK RENDERED VAR=VALUE...: the
# README's block, run as printed with the test's values (and SITE, the
# file it writes, in the test's directory), writes byte for byte the
# file the test rendered and serves from (RENDERED).
readme_render_check() {
	local l=$1 readme=$2 block=$3 rendered=$4 rc
	shift 4
	if [ "$(id -u)" -ne 0 ]; then
		skip "[$l] README block $block" "needs root (install -o www-data)"
		return
	fi
	rm -f "$T_TMP/readme-site.conf"
	readme_run "$readme" "$block" "$@" SITE="$T_TMP/readme-site.conf"
	rc=$?
	expect_eq "[$l] ${readme#"$TOP_SRCDIR"/}: block $block runs" "$rc" 0
	[ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/readme-$block.log"
	check "[$l] ... and writes byte for byte the file served from" \
		cmp "$T_TMP/readme-site.conf" "$rendered"
}

# ---------------------------------------------------------------- fixtures

# make_site: a webroot $W with an index, a nested directory, a directory
# without index.html, a stylesheet, a custom 404 page and a dotfile; the
# redirect map $REDIRECTS.
make_site() {
	W=$T_TMP/www
	mkdir -p "$W/docs/guide" "$W/empty-dir"
	printf '<!DOCTYPE html><title>t</title><p>INDEX-MARKER</p>\n' >"$W/index.html"
	printf '<p>NESTED-INDEX</p>\n' >"$W/docs/guide/index.html"
	printf '<p>NESTED-PAGE</p>\n' >"$W/docs/guide/page.html"
	printf 'body { color: #123456; }\n' >"$W/style.css"
	printf '<p>CUSTOM-404</p>\n' >"$W/404.html"
	printf 'CANARY-SECRET\n' >"$W/.secret"
	REDIRECTS=$T_TMP/redirects.txt
	printf '# test map\nfoo https://example.com/foo\nbar https://example.com/bar\n' \
		>"$REDIRECTS"
}

# open_tmp_to_children: the web servers run their children as an
# unprivileged user when started as root; let it reach the fixtures
# (mktemp -d makes T_TMP 0700).
open_tmp_to_children() {
	chmod 0755 "$T_TMP"
}

# child_user: the user the servers run their children as ("" when we are
# not root: then they run as us).
child_user() {
	if [ "$(id -u)" -eq 0 ]; then
		printf '%s' "${CHILD_USER:-www-data}"
	fi
}

# give_to_child DIR...: create DIR, owned by the children's user.
give_to_child() {
	local u
	u=$(child_user)
	mkdir -p "$@"
	if [ -n "$u" ]; then
		chown -R "$u:" "$@"
	fi
}

# as_child CMD...: run CMD as the children's user.
as_child() {
	local u
	u=$(child_user)
	if [ -n "$u" ]; then
		setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
	else
		"$@"
	fi
}

# ---------------------------------------------------------------- apache

# apache_path: the Apache binary (bin_path).
apache_path() {
	bin_path apache2 httpd
}

APACHE_MODDIR=${APACHE_MODDIR:-/usr/lib/apache2/modules}

# need_apache_modules NAME...: skip the script without mod_NAME (a
# loadable mod_NAME.so or compiled in).
need_apache_modules() {
	local m
	for m in "$@"; do
		[ -r "$APACHE_MODDIR/mod_$m.so" ] && continue
		"$APACHE" -l 2>/dev/null | grep -qx "  *mod_$m.c" && continue
		skip_all "mod_$m is missing ($APACHE_MODDIR/mod_$m.so)"
	done
}

# apache_skeleton RUNDIR PORT MPM MODULE...: print the server-level
# configuration Debian's apache2.conf would give (modules, pid file,
# logs, mutexes, runtime dir, user), for 127.0.0.1:PORT only.
apache_skeleton() {
	local run=$1 port=$2 mpm=$3 m u
	shift 3
	u=$(child_user)
	cat <<EOF
ServerRoot "$run"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$run/httpd.pid"
ErrorLog "$run/server-error.log"
LogLevel warn
DefaultRuntimeDir "$run"
Mutex file:$run default
LoadModule mpm_${mpm}_module $APACHE_MODDIR/mod_mpm_$mpm.so
EOF
	for m in authz_core mime log_config dir "$@"; do
		[ -r "$APACHE_MODDIR/mod_$m.so" ] || continue # compiled in
		printf '<IfModule !%s_module>\n' "$m"
		printf '    LoadModule %s_module %s/mod_%s.so\n' "$m" "$APACHE_MODDIR" "$m"
		printf '</IfModule>\n'
	done
	if [ -n "$u" ]; then
		printf 'User %s\nGroup %s\n' "$u" "$(id -gn "$u")"
	fi
	cat <<EOF
TypesConfig /etc/mime.types
StartServers 1
MaxRequestWorkers 32
<IfModule mpm_event_module>
    ServerLimit 2
    ThreadsPerChild 16
</IfModule>
<IfModule mpm_prefork_module>
    ServerLimit 32
</IfModule>
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<IfModule log_config_module>
    LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
</IfModule>
EOF
}

# apache_env RUN: set APACHE_ENV, the command that runs $APACHE (to
# which its arguments are added) as apache_start does. No SHERVE_* may
# reach sherve from here: children get the CGI/fcgid environment only,
# and lib.sh's SHERVE_CONFIG is dropped as well. With APACHE_ENVVARS set
# (Debian's /etc/apache2/envvars), in the environment that file makes,
# its run, lock and log directories in RUN (created): what Debian's own
# apache2.conf reads.
apache_env() {
	APACHE_ENV=(env -u SHERVE_CONFIG)
	[ -n "${APACHE_ENVVARS:-}" ] || return 0
	mkdir -p "$1/run" "$1/lock" "$1/log"
	# shellcheck disable=SC2016 # expanded by that shell
	APACHE_ENV+=(bash -c 'set +u && . "$1" &&
		export APACHE_RUN_DIR=$2/run APACHE_PID_FILE=$2/run/apache2.pid \
			APACHE_LOCK_DIR=$2/lock APACHE_LOG_DIR=$2/log &&
		shift 2 && exec "$@"' sh "$APACHE_ENVVARS" "$1")
}

# apache_start NAME CONF: check CONF's syntax and start Apache in the
# foreground (apache_env). Sets A_PID. Returns 1 when it does not answer
# on $B.
apache_start() {
	local name=$1 conf=$2 run
	run=$(dirname "$conf")
	apache_env "$run"
	if ! "${APACHE_ENV[@]}" "$APACHE" -t -f "$conf" >"$run/syntax.log" 2>&1
	then
		sed 's/^/# /' "$run/syntax.log"
		hard_error "apache2 -t rejects the $name configuration"
	fi
	# setsid: on SIGTERM, prefork signals its whole process group, which
	# would be this script's without a session of its own.
	start_bg "$run/stderr.log" "${APACHE_ENV[@]}" setsid "$APACHE" \
		-f "$conf" -DFOREGROUND
	A_PID=$BG_PID
	log_file "$run/server-error.log"
	wait_http "$B/" "$A_PID" 100
}

# start_apache NAME WRITE [ARG...]: Apache in the foreground on a free
# port (another one when that was taken meanwhile), configured by what
# `WRITE RUN PORT ARG...` prints, RUN being $T_TMP/apache-NAME (with
# APACHE_ENVVARS, see apache_env). Sets RUN, PORT, B and A_PID; says
# "not ok" and returns 1 when it does not answer.
start_apache() {
	local name=$1
	RUN=$T_TMP/apache-$name
	mkdir -p "$RUN"
	T_TRY_LOGS=("$RUN/stderr.log" "$RUN/server-error.log")
	start_tries "apache '$name'" A_PID apache_try "$@"
}

# apache_try NAME WRITE [ARG...]: one try of start_apache (start_tries).
apache_try() {
	local name=$1 write=$2
	shift 2
	free_port PORT
	B=http://127.0.0.1:$PORT
	"$write" "$RUN" "$PORT" "$@" >"$RUN/httpd.conf" ||
		hard_error "cannot write the configuration of apache '$name'"
	log_file "$RUN/error.log"
	apache_start "$name" "$RUN/httpd.conf" || return 1
	note "apache '$name' (pid $A_PID) on $B"
}

# shared_host RUN PORT DOCROOT ALLOWOVERRIDE [LINE...]: print the
# httpd.conf of an Apache (start_apache) with mod_cgi serving an
# account's DOCROOT as a shared host would, granting ALLOWOVERRIDE
# (shared-hosting.sh, shared-group.sh); each LINE is added to the
# server's configuration (e.g. "Group #GID").
shared_host() {
	apache_skeleton "$1" "$2" prefork cgi rewrite authz_host alias headers
	[ "$#" -le 4 ] || printf '%s\n' "${@:5}"
	cat <<EOF
DocumentRoot "$3"
<Directory "$3">
    # What a shared host typically grants its users.
    AllowOverride $4
    Options FollowSymLinks
    Require all granted
</Directory>
AccessFileName .htaccess
EOF
}

# ---------------------------------------------------------------- nginx

# nginx_path: the nginx binary (bin_path).
nginx_path() {
	bin_path nginx
}

# nginx_module NAME: print the path of nginx's dynamic module
# ngx_http_NAME_module.so in the modules directory nginx was built with
# (Debian: /usr/lib/nginx/modules); return 1 when it is not there.
nginx_module() {
	local dir
	dir=$("$NGINX" -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
	[ -r "${dir:-/usr/lib/nginx/modules}/ngx_http_$1_module.so" ] || return 1
	printf '%s\n' "${dir:-/usr/lib/nginx/modules}/ngx_http_$1_module.so"
}

# nginx_skeleton PREFIX SITE...: print an nginx.conf (what Debian's
# nginx.conf gives: events, mime types, logs, the modules of
# modules-enabled) including the rendered server blocks SITE..., with
# every path under PREFIX. NGINX_LOAD="SO..." loads those dynamic
# modules (nginx_module); NGINX_HTTP adds its lines to http { }.
nginx_skeleton() {
	local pre=$1 s u m
	shift
	for m in ${NGINX_LOAD:-}; do
		printf 'load_module %s;\n' "$m"
	done
	u=$(child_user)
	if [ -n "$u" ]; then
		printf 'user %s %s;\n' "$u" "$(id -gn "$u")"
	fi
	cat <<EOF
worker_processes 2;
pid $pre/nginx.pid;
error_log $pre/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $pre/access.log;
    client_body_temp_path $pre/client_body;
    fastcgi_temp_path $pre/fastcgi_temp;
    proxy_temp_path $pre/proxy_temp;
    uwsgi_temp_path $pre/uwsgi_temp;
    scgi_temp_path $pre/scgi_temp;
EOF
	[ -z "${NGINX_HTTP:-}" ] || printf '    %s\n' "$NGINX_HTTP"
	for s in "$@"; do
		printf '    include %s;\n' "$s"
	done
	printf '}\n'
}

# nginx_start PREFIX: test and start $PREFIX/nginx.conf. Sets N_PID.
nginx_start() {
	local pre=$1
	# -e: the error log before the configuration is read (the default
	# one in /var/log/nginx is not writable when we are not root).
	if ! "$NGINX" -t -q -e "$pre/error.log" -p "$pre" -c "$pre/nginx.conf" \
		>"$pre/syntax.log" 2>&1; then
		sed 's/^/# /' "$pre/syntax.log"
		hard_error "nginx -t rejects the rendered configuration"
	fi
	start_bg "$pre/stderr.log" "$NGINX" -e "$pre/error.log" -p "$pre" \
		-c "$pre/nginx.conf" -g 'daemon off;'
	N_PID=$BG_PID
	log_file "$pre/error.log"
	wait_http "$B/" "$N_PID" 100
}

# start_nginx PREFIX WRITE [ARG...]: nginx in the foreground with its
# files under PREFIX, configured by what `WRITE PREFIX ARG...` prints (it
# takes its ports with free_port and sets B, where nginx must answer);
# tried thrice in case another process takes a port first. Sets N_PID;
# says "not ok" and returns 1 when nginx does not answer.
start_nginx() {
	mkdir -p "$1"
	T_TRY_LOGS=("$1/stderr.log" "$1/error.log")
	start_tries nginx N_PID nginx_try "$@"
}

# nginx_try PREFIX WRITE [ARG...]: one try of start_nginx (start_tries).
nginx_try() {
	local pre=$1 write=$2
	shift 2
	"$write" "$pre" "$@" >"$pre/nginx.conf" ||
		hard_error "cannot write the nginx configuration in $pre"
	nginx_start "$pre"
}

# front_site PREFIX TEMPLATE SOCKET: print an nginx.conf (start_nginx)
# in front of SOCKET through TEMPLATE (a contrib/nginx recipe, BASE_PATH
# /) on a free port. Sets PORT and B.
front_site() {
	local pre=$1 tmpl=$2 sock=$3
	free_port PORT
	B=http://127.0.0.1:$PORT
	render_template "$tmpl" "$pre/site.conf" PORT="$PORT" \
		SOCKET="$sock" BASE_PATH=/ >&2 || return 1
	nginx_skeleton "$pre" "$pre/site.conf"
}

# nginx_in_front TEMPLATE PREFIX SOCKET: start_nginx with front_site;
# a script cannot go on without it.
nginx_in_front() {
	start_nginx "$2" front_site "$1" "$3" ||
		hard_error "nginx does not start in front of $3"
}

# nginx_nokeep_template OUT: contrib/nginx/sherve.conf without kept
# FastCGI connections (no upstream keepalive, fastcgi_keep_conn off), so
# every request is a new connection the pool must accept.
nginx_nokeep_template() {
	sed -e '/^ *keepalive [0-9]*;/d' \
		-e 's/fastcgi_keep_conn on;/fastcgi_keep_conn off;/' \
		"$TOP_SRCDIR/contrib/nginx/sherve.conf" >"$1"
	if grep -q 'keepalive [0-9]' "$1" || ! grep -q 'keep_conn off' "$1"; then
		hard_error "cannot take kept connections out of contrib/nginx/sherve.conf"
	fi
}

# ---------------------------------------------------------------- sherve

# wait_exists PATH [TENTHS]: wait until PATH exists (even empty).
wait_exists() {
	wait_path -e "$1" "${2:-50}"
}

# wait_socket PATH [TENTHS]: wait until PATH is a socket.
wait_socket() {
	wait_path -S "$1" "${2:-50}"
}

# start_pool SOCKET WORKERS LOG CMD...: CMD (`sherve serve ...`, or what
# runs it: systemd-socket-activate, setpriv, strace, a README's block) in
# the background, its output in LOG; ready when SOCKET exists (10 s at
# most: strace starts slowly) and, for WORKERS > 0, the master runs that
# many workers (5 s). Sets M_PID (stop_pool stops it). Returns 1 when
# the socket did not come, 2 when the workers did not.
start_pool() {
	local sock=$1 n=$2 log=$3
	shift 3
	rm -f "$sock"
	start_bg "$log" "$@"
	M_PID=$BG_PID
	wait_socket "$sock" 100 || return 1
	[ "$n" -eq 0 ] || wait_workers "$M_PID" "$n" 50 || return 2
}

# stop_pool [LABEL LOG]: stop the pool of start_pool (M_PID) and what it
# spawned; with LABEL, check that LOG, its output, holds no error.
stop_pool() {
	stop_pid "$M_PID"
	[ $# -eq 0 ] || expect_file_not_contains "[$1] no error in the pool's log" \
		"$2" '"level":"error"'
}

# sherve_workers MASTER: the live worker PIDs of a `sherve serve` master.
sherve_workers() {
	local c
	for c in $(children_of "$1"); do
		alive "$c" && printf '%s\n' "$c"
	done
}

# wait_workers MASTER N [TENTHS]: wait until MASTER has N workers.
wait_workers() {
	local m=$1 want=$2 n=${3:-50}
	while [ "$n" -gt 0 ]; do
		[ "$(sherve_workers "$m" | wc -l)" -eq "$want" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# ---------------------------------------------------------------- checks

# site_checks LABEL BASEURL [ETAG_FROM_SHERVE]: the answers every recipe
# must give for make_site's webroot and map, mounted at BASEURL
# (http://host:port or http://host:port/go).
site_checks() {
	local l=$1 u=$2 etag
	http "$u/"
	expect_status "[$l] GET / is 200" 200
	expect_body_contains "[$l] GET / serves index.html" INDEX-MARKER
	expect_header_like "[$l] GET / is text/html" Content-Type 'text/html*'
	http "$u/docs/guide/"
	expect_status "[$l] nested directory with a slash is 200" 200
	expect_body_contains "[$l] nested directory with a slash serves its index" \
		NESTED-INDEX
	slash_checks "$l" "$u"
	http "$u/docs/guide/page.html"
	expect_body_contains "[$l] nested file has its content" NESTED-PAGE
	http "$u/style.css"
	expect_status "[$l] GET /style.css is 200" 200
	expect_header_like "[$l] style.css is text/css" Content-Type 'text/css*'
	expect_body_file "[$l] style.css is sent byte for byte" "$W/style.css"
	etag=$(header ETag) || etag=
	expect_match "[$l] style.css has a quoted ETag" "$etag" '*"?*"'
	http -H "If-None-Match: $etag" "$u/style.css"
	expect_status "[$l] If-None-Match with the ETag is 304" 304
	expect_body_empty "[$l] the 304 has an empty body"
	http -I "$u/style.css"
	expect_status "[$l] HEAD /style.css is 200" 200
	http "$u/foo"
	expect_status "[$l] alias /foo is 301" 301
	expect_header "[$l] /foo Location" Location https://example.com/foo
	http "$u/bar?x=1"
	expect_header "[$l] /bar?x=1 Location (query forwarded)" Location \
		'https://example.com/bar?x=1'
	http "$u/nope"
	expect_status "[$l] unknown path is 404" 404
	expect_body_contains "[$l] the 404 is the webroot's 404.html" CUSTOM-404
	http "$u/.secret"
	expect_status "[$l] dotfile /.secret is 404" 404
	expect_body_not_contains "[$l] dotfile is not leaked" CANARY
	http -X POST -d x "$u/foo"
	expect_status "[$l] POST is 405" 405
}

# base_path_checks LABEL HOSTURL: sherve mounted at /go on HOSTURL.
base_path_checks() {
	local l=$1 h=$2
	http "$h/go/"
	expect_status "[$l] base path: /go/ is 200" 200
	expect_body_contains "[$l] base path: /go/ serves index.html" INDEX-MARKER
	http "$h/go/docs/guide"
	expect_status "[$l] base path: /go/docs/guide is 301" 301
	expect_header "[$l] base path: ... to /go/docs/guide/" Location \
		/go/docs/guide/
	http "$h/go/docs/guide/"
	expect_body_contains "[$l] base path: /go/docs/guide/ serves its index" \
		NESTED-INDEX
	http "$h/go/style.css"
	expect_status "[$l] base path: /go/style.css is 200" 200
	expect_header_like "[$l] base path: /go/style.css is text/css" \
		Content-Type 'text/css*'
	http "$h/go/foo"
	expect_status "[$l] base path: /go/foo is 301" 301
	expect_header "[$l] base path: /go/foo Location" Location \
		https://example.com/foo
	http "$h/go/nope"
	expect_status "[$l] base path: /go/nope is 404" 404
	http "$h/foo"
	expect_status "[$l] base path: /foo (outside the mount) is 404" 404
	http "$h/gofoo"
	expect_status "[$l] base path: /gofoo is 404" 404
}

# ---------------------------------------------------------------- files first

# static_site DIR: the webroot on which the files-first recipes (the web
# server sends the files, sherve the rest) are checked, and DIR-outside
# beside it: an index with its .gz, a nested directory with its index and
# a page, a directory without index, a stylesheet with .gz and .br
# siblings, one with a .gz older than itself, an image with a .gz sibling
# (not a compressible type: never sent), a custom 404 page, dotfiles and a dot-directory, and symbolic
# links: one to a file in the webroot, one to a file and one to a
# directory OUTSIDE it, where every file holds a CANARY.
static_site() {
	local d=$1 out=$1-outside
	mkdir -p "$d/docs/guide" "$d/.git" "$d/empty-dir" "$out"
	printf '<!DOCTYPE html><title>t</title><p>INDEX-MARKER</p>\n' >"$d/index.html"
	gzip -9 -n -c "$d/index.html" >"$d/index.html.gz"
	printf '<p>NESTED-INDEX</p>\n' >"$d/docs/guide/index.html"
	printf '<p>NESTED-PAGE</p>\n' >"$d/docs/guide/page.html"
	printf 'body { color: #123456; }\n' >"$d/style.css"
	gzip -9 -n -c "$d/style.css" >"$d/style.css.gz"
	# Only compared byte for byte: any bytes will do.
	printf 'BR-SIBLING-OF-STYLE\n' >"$d/style.css.br"
	# A sibling older than its file is stale: never sent.
	printf 'p { color: #654321; }\n' >"$d/stale.css"
	gzip -9 -n -c "$d/stale.css" >"$d/stale.css.gz"
	touch -d '2001-01-01 00:00:00' "$d/stale.css.gz"
	printf 'PNG-BYTES' >"$d/image.png"
	gzip -9 -n -c "$d/image.png" >"$d/image.png.gz"
	printf '0123456789abcdef' >"$d/data.txt"
	printf '<p>CUSTOM-404</p>\n' >"$d/404.html"
	printf 'CANARY-SECRET\n' >"$d/.secret"
	printf '[core]\nCANARY-GIT\n' >"$d/.git/config"
	printf 'CANARY-ENV\n' >"$d/docs/.env"
	printf 'CANARY-OUTSIDE\n' >"$out/canary.txt"
	ln -s "$out/canary.txt" "$d/link.txt"
	ln -s "$out" "$d/linkdir"
	ln -s style.css "$d/inlink.css"
	# A minute old: Apache makes the ETag of a file changed within the
	# last second weak (W/"..."), as it may change again unseen.
	find "$d" "$out" -type f ! -name stale.css.gz \
		-exec touch -d "@$(($(date +%s) - 60))" {} +
}

# sherve_alone_head DIR PATH: the CGI header lines sherve itself answers
# for GET PATH on the webroot DIR (run once as CGI, no map, default
# settings).
sherve_alone_head() {
	mkdir -p "$T_TMP/alone-state"
	env -i SHERVE_CONFIG=/dev/null GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD=GET REQUEST_URI="$2" SHERVE_WEBROOT="$1" \
		SHERVE_STATE_DIR="$T_TMP/alone-state" SHERVE_LOG_LEVEL=error \
		"$SHERVE_BIN" 2>/dev/null | tr -d '\r' | sed '/^$/q'
}

# sherve_alone DIR PATH: what sherve itself answers for GET PATH on the
# webroot DIR (sherve_alone_head): "STATUS LOCATION".
sherve_alone() {
	local out
	out=$(sherve_alone_head "$1" "$2")
	printf '%s %s\n' \
		"$(printf '%s\n' "$out" | sed -n 's/^Status: \([0-9]*\).*/\1/p')" \
		"$(printf '%s\n' "$out" | sed -n 's/^Location: //p')"
}

# static_checks LABEL BASEURL DIR STATE_DIR LINK [WITHOUT...]: a
# files-first recipe at the root of BASEURL, on static_site's DIR, in
# front of a sherve whose store is STATE_DIR (map: foo, bar; metrics at
# /-/metrics). The web server sends the files and indexes itself
# (sherve_requests_total does not move) with sherve's Cache-Control on
# 200, 206 and 304, a working ETag and Last-Modified, and ranges.
# Everything else reaches sherve and gets sherve's own answer, headers
# untouched: aliases, misses and its 404 page, a directory without index
# or without its slash (as sherve alone answers it), dotfiles and
# dot-directories. Symbolic links out of the webroot, traversal and
# metrics from elsewhere are refused, and no CANARY ever shows. LINK is
# the status of a link to a file inside the webroot: the web servers
# cannot tell where a link leads; Apache and lighttpd refuse them all
# (403), where sherve alone sends it; `sherve` says the server passes
# every link to sherve, which sends that one (200). WITHOUT names what a
# recipe leaves out, with the reason in its README:
#   siblings  no .br/.gz siblings: every client gets the file itself;
#   methods   the server answers methods other than GET and HEAD (405)
#             instead of passing them to sherve;
#   freshness a sibling older than its file is sent all the same (the
#             server cannot compare modification times);
#   wildcard  only the codings br and gzip named in Accept-Encoding
#             choose a sibling (q-values as sherve reads them): "*" and
#             "x-gzip" choose none, so a client that accepts a coding
#             only through them gets the file itself.
static_checks() {
	local l=$1 u=$2 d=$3 st=$4 link=$5 siblings=yes methods=sherve \
		named=all w n0 n1 want
	shift 5
	for w in "$@"; do
		case $w in
		siblings) siblings=no ;;
		methods) methods=server ;;
		freshness) siblings=stale ;;
		wildcard) named=named ;;
		*) hard_error "static_checks: WITHOUT $w?" ;;
		esac
	done
	n0=$(sherve_counter "$st" sherve_requests_total)
	static_file_checks "$l" "$u" "$d" "$link" "$siblings"
	static_coding_checks "$l" "$u" "$d" "$siblings" "$named"
	n1=$(sherve_counter "$st" sherve_requests_total)
	expect_eq "[$l] the web server sent all of these: sherve saw none" \
		"$((n1 - n0))" 0
	static_sherve_checks "$l" "$u" "$d"
	static_method_checks "$l" "$u"
	want=$([ "$methods" = sherve ] && echo 18 || echo 15)
	if [ "$link" = sherve ]; then
		http "$u/inlink.css"
		expect_status "[$l] a link to a file inside the webroot: sherve sends it" 200
		expect_body_file "[$l] ... the file it leads to" "$d/style.css"
		want=$((want + 1))
	fi
	n0=$(sherve_counter "$st" sherve_requests_total)
	expect_eq "[$l] sherve answered each of these" "$((n0 - n1))" "$want"
	static_refusal_checks "$l" "$u" "$d"
	metrics_acl_checks "$l" "$u"
}

ST_CACHE_CONTROL='public, max-age=31536000, must-revalidate'

# static_file_checks LABEL BASEURL DIR LINK SIBLINGS: files and indexes.
static_file_checks() {
	local l=$1 u=$2 d=$3 cc=$ST_CACHE_CONTROL etag lm
	http "$u/style.css"
	expect_status "[$l] a file is 200" 200
	expect_body_file "[$l] ... byte for byte" "$d/style.css"
	expect_header_like "[$l] ... text/css" Content-Type 'text/css*'
	expect_header "[$l] ... with sherve's Cache-Control" Cache-Control "$cc"
	expect_no_header "[$l] ... no Content-Encoding without Accept-Encoding" \
		Content-Encoding
	etag=$(header ETag) || etag=
	lm=$(header Last-Modified) || lm=
	expect_match "[$l] ... a strong quoted ETag" "$etag" '"?*"'
	http -H "If-None-Match: $etag" "$u/style.css"
	expect_status "[$l] If-None-Match with that ETag is 304" 304
	expect_body_empty "[$l] ... with no body"
	expect_header "[$l] ... and sherve's Cache-Control" Cache-Control "$cc"
	http -H 'If-None-Match: "not-it"' "$u/style.css"
	expect_status "[$l] If-None-Match with another ETag is 200" 200
	http -H "If-Modified-Since: $lm" "$u/style.css"
	expect_status "[$l] If-Modified-Since: Last-Modified is 304" 304
	http -I "$u/style.css"
	expect_status "[$l] HEAD is 200" 200
	expect_header "[$l] ... with the file's Content-Length" Content-Length \
		"$(wc -c <"$d/style.css" | tr -d ' ')"
	http -H 'Range: bytes=0-3' "$u/data.txt"
	expect_status "[$l] Range bytes=0-3 is 206" 206
	expect_header "[$l] ... Content-Range" Content-Range 'bytes 0-3/16'
	expect_body_equals "[$l] ... the 4 bytes" 0123
	expect_header "[$l] ... and sherve's Cache-Control" Cache-Control "$cc"
	http -H 'Range: bytes=-4' "$u/data.txt"
	expect_body_equals "[$l] suffix range bytes=-4: the last 4 bytes" cdef
	http -H 'Range: bytes=100-200' "$u/data.txt"
	expect_status "[$l] an unsatisfiable range is 416" 416
	http "$u/"
	expect_status "[$l] GET / is 200" 200
	expect_body_contains "[$l] ... index.html" INDEX-MARKER
	expect_header_like "[$l] ... text/html" Content-Type 'text/html*'
	expect_header "[$l] ... with sherve's Cache-Control" Cache-Control "$cc"
	http -H 'Accept-Encoding: gzip' "$u/"
	if [ "$5" != no ]; then
		expect_header "[$l] GET / accepting gzip: index.html.gz" \
			Content-Encoding gzip
		expect_body_file "[$l] ... byte for byte" "$d/index.html.gz"
	else
		expect_body_file "[$l] GET / accepting gzip: index.html" \
			"$d/index.html"
	fi
	expect_header_like "[$l] ... text/html" Content-Type 'text/html*'
	http "$u/docs/guide/"
	expect_body_contains "[$l] a nested directory with its slash: its index" \
		NESTED-INDEX
	http "$u/docs/guide/page.html"
	expect_body_contains "[$l] a nested page" NESTED-PAGE
	[ "$4" != sherve ] || return 0
	http "$u/inlink.css"
	expect_status "[$l] a link to a file inside the webroot is $4" "$4"
}

# static_coding_checks LABEL BASEURL DIR SIBLINGS NAMED: Accept-Encoding.
# With SIBLINGS yes (or stale), the .br/.gz sibling as sherve chooses it
# (encoding.c) and Vary, never a stale one (but for SIBLINGS stale), or
# with NAMED "named" (WITHOUT wildcard) as a server that reads only the
# codings br and gzip by name chooses it; with SIBLINGS no, the file
# itself whatever the client accepts.
static_coding_checks() {
	local l=$1 u=$2 d=$3 p ae want
	# ACCEPT-ENCODING:SHERVE'S CHOICE:BY NAME ONLY
	for p in 'gzip:gz:gz' 'gzip, br:br:br' 'br;q=0, gzip:gz:gz' 'x-gzip:gz:' \
		'*:br:' 'br;q=0, *;q=0.5:gz:' 'gzip;q=0::' 'identity::' \
		'GZIP;Q=0.5:gz:gz'; do
		ae=${p%%:*}
		want=${p#*:}
		if [ "$5" = named ]; then
			want=${want#*:}
		else
			want=${want%:*}
		fi
		[ "$4" != no ] || want=
		http -H "Accept-Encoding: $ae" "$u/style.css"
		expect_status "[$l] Accept-Encoding: $ae is 200" 200
		expect_header_like "[$l] ... text/css" Content-Type 'text/css*'
		if [ "$4" != no ]; then
			expect_header "[$l] ... Vary: Accept-Encoding" Vary \
				Accept-Encoding
		fi
		case $want in
		'')
			expect_no_header "[$l] ... no Content-Encoding" Content-Encoding
			expect_body_file "[$l] ... the file itself" "$d/style.css"
			;;
		*)
			expect_header "[$l] ... Content-Encoding of .$want" \
				Content-Encoding "$([ "$want" = gz ] && echo gzip || echo br)"
			expect_body_file "[$l] ... the .$want sibling" "$d/style.css.$want"
			;;
		esac
		expect_header "[$l] ... sherve's Cache-Control" Cache-Control \
			"$ST_CACHE_CONTROL"
	done
	http -H 'Accept-Encoding: gzip' "$u/style.css.gz"
	expect_status "[$l] a .gz asked for by its name is 200" 200
	expect_header_like "[$l] ... application/gzip" Content-Type \
		'application/gzip*'
	expect_no_header "[$l] ... without Content-Encoding" Content-Encoding
	expect_body_file "[$l] ... its bytes" "$d/style.css.gz"
	http -H 'Accept-Encoding: gzip' "$u/stale.css"
	if [ "$4" = stale ]; then
		expect_body_file "[$l] a stale .gz (older than its file) is sent" \
			"$d/stale.css.gz"
	else
		expect_no_header "[$l] a stale .gz (older than its file) is not sent" \
			Content-Encoding
		expect_body_file "[$l] ... the file is" "$d/stale.css"
	fi
	http -H 'Accept-Encoding: gzip' "$u/image.png"
	expect_no_header "[$l] an image is never sent encoded" Content-Encoding
	expect_body_file "[$l] ... but as itself" "$d/image.png"
}

# static_sherve_checks LABEL BASEURL DIR: 15 requests sherve answers.
static_sherve_checks() {
	local l=$1 u=$2 d=$3 p
	http "$u/foo"
	expect_status "[$l] alias /foo is 301 from sherve" 301
	expect_header "[$l] ... to its Location" Location https://example.com/foo
	expect_header "[$l] ... with sherve's redirect Cache-Control" \
		Cache-Control 'public, max-age=3600'
	http "$u/bar?x=1"
	expect_header "[$l] /bar?x=1: the query reaches the target" Location \
		'https://example.com/bar?x=1'
	http "$u/foo/"
	expect_status "[$l] /foo/ (no such directory) is 301 too" 301
	http "$u/nope"
	expect_status "[$l] an unknown path is 404" 404
	expect_body_contains "[$l] ... sherve's 404 page" CUSTOM-404
	expect_header "[$l] ... with Cache-Control: no-store" Cache-Control no-store
	http "$u/empty-dir/"
	expect_status "[$l] a directory without index.html is 404" 404
	expect_body_contains "[$l] ... sherve's 404 page" CUSTOM-404
	http "$u/docs/guide"
	expect_eq "[$l] a directory without its slash: sherve's own answer" \
		"$H_STATUS $(header Location)" "$(sherve_alone "$d" /docs/guide)"
	for p in /.secret /%2esecret /.git/config /.git/ /%2egit/config \
		/docs/.env /docs/%2eenv /.sherve /.sherve/foo; do
		http "$u$p"
		expect_status "[$l] $p is 404 from sherve" 404
		expect_body_contains "[$l] ... its 404 page" CUSTOM-404
		expect_body_not_contains "[$l] ... leaking nothing" CANARY
	done
}

# static_method_checks LABEL BASEURL: only GET and HEAD are served.
static_method_checks() {
	local l=$1 u=$2
	http -X POST -d x "$u/style.css"
	expect_status "[$l] POST to a file is 405" 405
	expect_body_not_contains "[$l] ... not the file" color
	http -X POST -d x "$u/foo"
	expect_status "[$l] POST to an alias is 405" 405
	http -X OPTIONS "$u/style.css"
	expect_status "[$l] OPTIONS is 405" 405
}

# static_refusal_checks LABEL BASEURL DIR: links out, traversal.
static_refusal_checks() {
	local l=$1 u=$2 out p
	out=$(basename "$3")-outside
	for p in /link.txt /linkdir/canary.txt /linkdir/ /linkdir \
		"/%2e%2e/$out/canary.txt" "/docs/%2e%2e/%2e%2e/$out/canary.txt" \
		'/..%2flinkdir%2fcanary.txt' '/style.css/' '/style.css%2f'; do
		http "$u$p"
		expect_status_in "[$l] $p is refused" 400 403 404
		expect_body_not_contains "[$l] ... leaking nothing" CANARY
	done
}

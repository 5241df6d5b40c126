# servers.sh - start functions for contrib/bench/run (sourced; uses $work,
# $www, $top, $resp and appends every started PID to pids[]).
#
# A setup is one function, start_NAME PORT: it writes its config under
# $work, starts the server as a child (foreground) on 127.0.0.1:PORT so
# it can be stopped by PID, and returns non-zero to be skipped. Names
# follow one convention, which run and table.py rely on:
#
#   SERVER-direct             the web server alone (the ceiling)
#   sherve-SERVER[-VARIANT]   sherve behind it; the responder binary is
#                             $resp, never a fixed path
#   floor-SERVER[-VARIANT]    needs no function: run calls
#                             start_sherve-SERVER[-VARIANT] with $resp set
#                             to the FastCGI floor (contrib/bench/floor)
#
# SERVER (lighttpd, nginx or apache) picks the direct row each setup is
# compared with. Adding a setup, say Apache with mod_proxy_fcgi, is one
# start_sherve-apache-proxy function here; its floor-apache-proxy row
# comes with it. The X-Sendfile setups render the shipped recipes
# (contrib/lighttpd/sherve-xsendfile.conf, contrib/apache/...), so they
# measure what ships.

# nginx_main PORT HTTP-BODY [MAIN]: nginx's main config under
# $work/nginx-PORT around HTTP-BODY (the part inside http { }), with the
# main-level lines MAIN (load_module), started in the foreground.
nginx_main() {
	mkdir -p "$work/nginx-$1"
	chmod 755 "$work"
	cat >"$work/nginx-$1/nginx.conf" <<CONF
${3:-}
$([ "$(id -u)" != 0 ] || echo "user www-data;")
worker_processes 2;
pid $work/nginx-$1/nginx.pid;
error_log $work/nginx-$1/error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    include /etc/nginx/mime.types;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $work/nginx-$1/body;
    fastcgi_temp_path $work/nginx-$1/fastcgi;
    proxy_temp_path $work/nginx-$1/proxy;
    uwsgi_temp_path $work/nginx-$1/uwsgi;
    scgi_temp_path $work/nginx-$1/scgi;
    $2
}
CONF
	nginx -c "$work/nginx-$1/nginx.conf" -p "$work/nginx-$1" &
	pids+=($!)
}

nginx_conf() { # port extra-http extra-server location-body
	nginx_main "$1" "$2
    server {
        listen 127.0.0.1:$1;
        root $www;
        $3
        location / { $4 }
    }"
}

FCGI_PARAMS='fastcgi_param REQUEST_METHOD $request_method;
        fastcgi_param REQUEST_URI $request_uri;
        fastcgi_param QUERY_STRING $query_string;
        fastcgi_param SERVER_NAME $server_name;
        fastcgi_param HTTP_HOST $http_host;
        fastcgi_param GATEWAY_INTERFACE CGI/1.1;
        fastcgi_param SERVER_PROTOCOL $server_protocol;'

# As the recipe: 64 KiB buffers, the size of sherve's FastCGI records.
FCGI_BUFFERS='fastcgi_buffer_size 64k; fastcgi_buffers 16 64k;
        fastcgi_busy_buffers_size 128k;'

start_nginx-direct() {
	nginx_conf "$1" \
		"map \$uri \$redir { default \"\"; include $work/site/nginx-map.conf; }" \
		"" \
		'if ($redir) { return 301 $redir; } try_files $uri $uri/index.html =404;'
}

# start_sherve_pool SOCKET [NAME=VALUE...]: a `sherve serve` pool on the
# unix SOCKET with the extra settings. Its socket is 0660: run as root, the
# pool runs as www-data (--user), whose group the web servers' workers
# have (apache_head's User, nginx_main's user), on a state dir of its own
# that www-data owns (the shared one may hold root's files).
start_sherve_pool() {
	local sock=$1 st=${1%.sock}.state i
	shift
	mkdir -p "$st"
	set -- SHERVE_STATE_DIR="$st" "$@"
	if [ "$(id -u)" = 0 ]; then
		chmod 755 "$work"
		chown www-data: "$st"
		set -- "$@" SHERVE_USER=www-data
	fi
	env "$@" "$resp" serve --listen "unix:$sock" \
		--workers "${POOL_WORKERS:-2}" \
		2>>"$work/sherve-pool.log" &
	pids+=($!)
	for i in $(seq 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
	return 1
}

# as_pool_user COMMAND...: COMMAND as the pool's user (www-data when run
# as root), so that what it writes in a pool's store stays the pool's.
as_pool_user() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=www-data --regid=www-data --init-groups "$@"
	else
		"$@"
	fi
}

# As contrib/nginx/sherve.conf: kept FastCGI connections (keepalive).
sherve_upstream() { # port
	echo "upstream sherve$1 { server unix:$work/pool-$1.sock; keepalive 8; }"
}

start_sherve-nginx() {
	start_sherve_pool "$work/pool-$1.sock" || return 1
	nginx_conf "$1" "$(sherve_upstream "$1")" "" \
		"fastcgi_pass sherve$1; fastcgi_keep_conn on; $FCGI_BUFFERS $FCGI_PARAMS"
}

# The concurrency question of the pool: each worker serves one request at
# a time, so more requests in flight per CPU means more workers (a
# threaded worker would add concurrency the same way, without the
# isolation). 8 workers on 2 CPUs is 4x the default.
start_sherve-nginx-w8() {
	POOL_WORKERS=8 start_sherve-nginx "$1"
}

start_sherve-nginx-xaccel() {
	start_sherve_pool "$work/pool-$1.sock" SHERVE_SENDFILE_MODE=nginx || return 1
	nginx_conf "$1" "$(sherve_upstream "$1")" \
		"location /.sherve-files/ { internal; alias $www/; }" \
		"fastcgi_pass sherve$1; fastcgi_keep_conn on; $FCGI_BUFFERS $FCGI_PARAMS"
}

lighttpd_conf() { # port modules body
	mkdir -p "$work/lighttpd-$1"
	cat >"$work/lighttpd-$1/lighttpd.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $1
server.document-root = "$www"
server.errorlog = "$work/lighttpd-$1/error.log"
server.pid-file = "$work/lighttpd-$1/lighttpd.pid"
server.modules = ( $2 )
index-file.names = ( "index.html" )
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
$3
CONF
	lighttpd -D -f "$work/lighttpd-$1/lighttpd.conf" &
	pids+=($!)
}

start_lighttpd-direct() {
	lighttpd_conf "$1" '"mod_redirect"' \
		'url.redirect = ( "^/(l[0-9]+)$" => "https://example.com/target/$1" )
url.redirect-code = 301'
}

lighttpd_sherve() { # port extra-fastcgi-options extra-env
	lighttpd_conf "$1" '"mod_fastcgi"' "fastcgi.server = ( \"/\" => ((
    \"bin-path\" => \"$resp\",
    \"socket\" => \"$work/lighttpd-$1/sherve.sock\",
    \"max-procs\" => 2,
    \"check-local\" => \"disable\",
    $2
    \"bin-environment\" => (
        \"SHERVE_WEBROOT\" => \"$www\",
        \"SHERVE_STATE_DIR\" => \"$SHERVE_STATE_DIR\",
        \"SHERVE_REDIRECTS_URL\" => \"$SHERVE_REDIRECTS_URL\",
        \"SHERVE_REFRESH_INTERVAL\" => \"0\",
        $3
        \"SHERVE_LOG_LEVEL\" => \"warn\" )
)) )"
}

start_sherve-lighttpd() {
	lighttpd_sherve "$1" "" ""
}

# bench_settings FILE SENDFILE_MODE: the settings file the shipped
# lighttpd and mod_fcgid recipes name (SHERVE_CONFIG), rendered from
# contrib/sherve.conf with the bench's webroot, map and store, plus the
# settings every setup shares (log-level warn, refresh-interval 0).
bench_settings() {
	"$top/contrib/render" "$top/contrib/sherve.conf" "$1" WEBROOT="$www" \
		REDIRECTS_URL="$SHERVE_REDIRECTS_URL" STATE_DIR="$SHERVE_STATE_DIR" \
		BASE_PATH=/ SENDFILE_MODE="$2" || return 1
	printf 'log-level = warn\nrefresh-interval = 0\n' >>"$1"
}

# contrib/lighttpd/sherve-xsendfile.conf as shipped (its access log and
# stat-cache-engine "disable" included), with the settings file it names.
start_sherve-lighttpd-xsendfile() {
	local d=$work/lighttpd-$1
	mkdir -p "$d/htdocs"
	bench_settings "$d/sherve.conf" lighttpd || return 1
	"$top/contrib/render" "$top/contrib/lighttpd/sherve-xsendfile.conf" \
		"$d/lighttpd.conf" PORT="$1" SHERVE_BIN="$resp" WEBROOT="$www" \
		CONFIG="$d/sherve.conf" RUNDIR="$d" MAX_PROCS=2 \
		BASE_PATH=/ || return 1
	lighttpd -D -f "$d/lighttpd.conf" &
	pids+=($!)
}

# apache_head DIR PORT ERRORLOG MODULE...: the server part of an Apache
# config under DIR (what Debian's apache2.conf would give, its "combined"
# log format included, which the recipes' access logs use) on stdout,
# with the event MPM, authz_core and the named modules; Apache's children
# run as www-data, so DIR, the work dir and the state dir are made theirs.
apache_head() {
	local d=$1 port=$2 log=$3 mod m=/usr/lib/apache2/modules
	shift 3
	chmod 755 "$work"
	chown -R www-data "$SHERVE_STATE_DIR" "$d"
	cat <<CONF
ServerRoot "$d"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$d/httpd.pid"
ErrorLog "$d/$log"
DefaultRuntimeDir "$d"
Mutex file:$d default
User www-data
Group www-data
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
CONF
	for mod in "$@"; do
		printf 'LoadModule %s_module %s/mod_%s.so\n' "$mod" "$m" "$mod"
	done
	cat <<CONF
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
<IfModule fcgid_module>
FcgidIPCDir "$d/fcgid"
FcgidProcessTableFile "$d/fcgid-shm"
</IfModule>
CONF
}

# Apache serves the files itself (Debian's defaults: mod_mime's types,
# index.html for directories, EnableSendfile off); each alias of the
# map is a mod_alias Redirect, generated from the same map sherve reads.
start_apache-direct() {
	local d=$work/apache-$1 a t
	mkdir -p "$d"
	{
		apache_head "$d" "$1" error.log alias mime dir
		cat <<CONF
TypesConfig /etc/mime.types
DocumentRoot "$www"
DirectoryIndex index.html
<Directory "$www">
    Options None
    AllowOverride None
    Require all granted
</Directory>
CONF
		while read -r a t _; do
			case $a in '' | '#'*) continue ;; esac
			printf 'Redirect 301 /%s %s\n' "${a#/}" "$t"
		done <"$work/site/redirects.txt"
	} >"$d/httpd.conf"
	apache2 -f "$d/httpd.conf" -DFOREGROUND &
	pids+=($!)
}

apache_sherve() { # port extra-config
	local d=$work/apache-$1 m=/usr/lib/apache2/modules
	[ -e "$m/mod_fcgid.so" ] || return 1
	mkdir -p "$d"
	{
		apache_head "$d" "$1" error.log fcgid
		cat <<CONF
FcgidMaxProcesses 12
FcgidMaxProcessesPerClass 12
FcgidMinProcessesPerClass 2
FcgidMaxRequestLen 1048576
FcgidInitialEnv SHERVE_WEBROOT "$www"
FcgidInitialEnv SHERVE_STATE_DIR "$SHERVE_STATE_DIR"
FcgidInitialEnv SHERVE_REDIRECTS_URL "$SHERVE_REDIRECTS_URL"
FcgidInitialEnv SHERVE_REFRESH_INTERVAL 0
FcgidInitialEnv SHERVE_LOG_LEVEL warn
$2
DocumentRoot "$www"
<Location />
    SetHandler fcgid-script
    Options +ExecCGI
    Require all granted
</Location>
FcgidWrapper "$resp" virtual
CONF
	} >"$d/httpd.conf"
	apache2 -f "$d/httpd.conf" -DFOREGROUND &
	pids+=($!)
}

start_sherve-apache() {
	apache_sherve "$1" ""
}

# contrib/apache/sherve-xsendfile.conf as shipped (mod_xsendfile from
# libapache2-mod-xsendfile; its access log included), in a server config
# that loads what Debian's apache2.conf would, with the settings file it
# names (mod_fcgid passes sherve no environment).
start_sherve-apache-xsendfile() {
	local d=$work/apache-$1 m=/usr/lib/apache2/modules mod
	for mod in fcgid xsendfile authz_host; do
		[ -e "$m/mod_$mod.so" ] || return 1
	done
	mkdir -p "$d/htdocs" "$d/fcgid"
	bench_settings "$d/sherve.conf" apache || return 1
	"$top/contrib/render" "$top/contrib/apache/sherve-xsendfile.conf" \
		"$d/sherve-site.conf" PORT="$1" SHERVE_BIN="$resp" \
		WEBROOT="$www" CONFIG="$d/sherve.conf" RUNDIR="$d" \
		BASE_PATH=/ || return 1
	{
		apache_head "$d" "$1" server-error.log authz_host fcgid xsendfile
		printf 'Include "%s/sherve-site.conf"\n' "$d"
	} >"$d/httpd.conf"
	apache2 -f "$d/httpd.conf" -DFOREGROUND &
	pids+=($!)
}

# contrib/apache/sherve-proxy-fcgi.conf as shipped (its access log
# included): Apache (event MPM) with mod_proxy_fcgi and enablereuse=on in
# front of a pool of 2 workers, started as for sherve-nginx. The pool
# reads run's SHERVE_* settings, as it would /etc/sherve/sherve.conf.
start_sherve-apache-proxy() {
	local d=$work/apache-$1 m=/usr/lib/apache2/modules mod
	for mod in proxy proxy_fcgi authz_host; do
		[ -e "$m/mod_$mod.so" ] || return 1
	done
	mkdir -p "$d/htdocs"
	start_sherve_pool "$work/pool-$1.sock" || return 1
	"$top/contrib/render" "$top/contrib/apache/sherve-proxy-fcgi.conf" \
		"$d/sherve-site.conf" PORT="$1" SOCKET="$work/pool-$1.sock" \
		RUNDIR="$d" BASE_PATH=/ || return 1
	{
		apache_head "$d" "$1" server-error.log authz_host proxy proxy_fcgi
		printf 'Include "%s/sherve-site.conf"\n' "$d"
	} >"$d/httpd.conf"
	apache2 -f "$d/httpd.conf" -DFOREGROUND &
	pids+=($!)
}

# The files-first recipes as shipped: the web server sends the files of
# the webroot itself and passes the rest (aliases, misses) to sherve.
# Each is compared with the same server serving directly; none has a
# floor row (the floor would only answer the aliases, as sherve does).
# contrib/nginx/sherve-static.conf, in front of a pool as sherve-nginx;
# its brotli_static module (libnginx-mod-http-brotli-static) loaded as
# Debian's modules-enabled loads it.
start_sherve-nginx-static() {
	local d=$work/nginx-$1 so
	so=$(nginx -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
	so=${so:-/usr/lib/nginx/modules}/ngx_http_brotli_static_module.so
	if [ ! -r "$so" ]; then
		echo "sherve-nginx-static: no $so" \
			"(apt-get install libnginx-mod-http-brotli-static)" >&2
		return 1
	fi
	mkdir -p "$d"
	start_sherve_pool "$work/pool-$1.sock" || return 1
	"$top/contrib/render" "$top/contrib/nginx/sherve-static.conf" \
		"$d/site.conf" PORT="$1" SOCKET="$work/pool-$1.sock" \
		WEBROOT="$www" || return 1
	nginx_main "$1" "include $d/site.conf;" "load_module $so;"
}

# contrib/lighttpd/sherve-static.conf and its sherve-static.lua (needs
# mod_magnet: lighttpd-modules-lua), with the settings file it names.
start_sherve-lighttpd-static() {
	local d=$work/lighttpd-$1
	[ -e /usr/lib/lighttpd/mod_magnet.so ] || return 1
	mkdir -p "$d/htdocs"
	cp "$top/contrib/lighttpd/sherve-static.lua" "$d/"
	bench_settings "$d/sherve.conf" none || return 1
	"$top/contrib/render" "$top/contrib/lighttpd/sherve-static.conf" \
		"$d/lighttpd.conf" PORT="$1" SHERVE_BIN="$resp" WEBROOT="$www" \
		CONFIG="$d/sherve.conf" RUNDIR="$d" MAX_PROCS=2 || return 1
	lighttpd -D -f "$d/lighttpd.conf" &
	pids+=($!)
}

# apache_site PORT TEMPLATE MODULE... -- NAME=VALUE...: Apache with the
# named modules, mod_mime's types as in apache-direct, and TEMPLATE
# rendered with the NAME=VALUE pairs (PORT and RUNDIR added) as its site.
apache_site() {
	local port=$1 tpl=$2 d=$work/apache-$1 mods=() m=/usr/lib/apache2/modules mod
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do mods+=("$1"); shift; done
	shift
	for mod in "${mods[@]}"; do [ -e "$m/mod_$mod.so" ] || return 1; done
	mkdir -p "$d/htdocs" "$d/fcgid"
	"$top/contrib/render" "$tpl" "$d/sherve-site.conf" PORT="$port" \
		RUNDIR="$d" "$@" || return 1
	{
		apache_head "$d" "$port" server-error.log "${mods[@]}"
		echo "TypesConfig /etc/mime.types"
		printf 'Include "%s/sherve-site.conf"\n' "$d"
	} >"$d/httpd.conf"
	apache2 -f "$d/httpd.conf" -DFOREGROUND &
	pids+=($!)
}

# contrib/apache/sherve-static.conf: mod_fcgid runs sherve, with the
# settings file it names (mod_fcgid passes sherve no environment).
start_sherve-apache-static() {
	mkdir -p "$work/apache-$1"
	bench_settings "$work/apache-$1/sherve.conf" none || return 1
	apache_site "$1" "$top/contrib/apache/sherve-static.conf" \
		authz_host fcgid rewrite headers mime dir -- \
		SHERVE_BIN="$resp" WEBROOT="$www" \
		CONFIG="$work/apache-$1/sherve.conf"
}

# contrib/apache/sherve-proxy-fcgi-static.conf, in front of a pool as
# sherve-apache-proxy.
start_sherve-apache-proxy-static() {
	start_sherve_pool "$work/pool-$1.sock" || return 1
	apache_site "$1" "$top/contrib/apache/sherve-proxy-fcgi-static.conf" \
		authz_host proxy proxy_fcgi rewrite headers mime dir -- \
		SOCKET="$work/pool-$1.sock" WEBROOT="$www"
}

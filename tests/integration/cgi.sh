#!/bin/bash
#
# tests/integration/cgi.sh - sherve as a CGI program behind lighttpd's
# mod_cgi: exact counts.
#
# lighttpd sends SIGTERM to a CGI process as soon as its answer is
# complete; sherve counts a request after writing its answer, so a
# SIGTERM in between lost the count. The binary is copied into the
# document root as sherve.cgi with a sherve.conf beside it (as a shared
# host would have it; SHERVE_CONFIG names it through mod_setenv), every
# URL under /go goes to it (mod_rewrite), the map is loaded by
# `sherve refresh`. Then 400 requests from 20 clients at once must each
# get their status and raise sherve_requests_total by exactly 400.
#
# Needs lighttpd, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
note "lighttpd: $("$LIGHTTPD" -v 2>&1 | head -n 1)"

make_site
start_upstream
RUN=$T_TMP/lighttpd
DOCROOT=$RUN/htdocs
STATE=$T_TMP/state
mkdir -p "$DOCROOT" "$STATE"
cp "$SHERVE_BIN" "$DOCROOT/sherve.cgi"
chmod 0755 "$DOCROOT/sherve.cgi"
cat >"$RUN/sherve.conf" <<EOF
webroot = $W
redirects-url = $UP/redirects.txt
state-dir = $STATE
base-path = /go
log-level = warn
EOF
check_exit "sherve refresh loads the map" 0 "$SHERVE_BIN" \
	--config "$RUN/sherve.conf" refresh

# lighttpd with mod_cgi running sherve.cgi for /go: a config of its own,
# started by start_lighttpd like every other.
cat >"$T_TMP/cgi-lighttpd.conf" <<'EOF'
server.modules = ( "mod_rewrite", "mod_setenv", "mod_cgi" )
server.bind          = "127.0.0.1"
server.port          = @PORT@
server.pid-file      = "@RUNDIR@/lighttpd.pid"
server.errorlog      = "@RUNDIR@/error.log"
server.breakagelog   = "@RUNDIR@/sherve.log"
server.document-root = "@RUNDIR@/htdocs"
server.max-connections = 256
url.rewrite-once = ( "^/go(/.*)?$" => "/sherve.cgi$1" )
cgi.assign = ( ".cgi" => "" )
setenv.add-environment = ( "SHERVE_CONFIG" => "@RUNDIR@/sherve.conf" )
EOF
TEMPLATE=$T_TMP/cgi-lighttpd.conf L_WAIT=/go/ start_lighttpd cgi \
	RUNDIR="$RUN" STATE_DIR="$STATE" ||
	hard_error "lighttpd does not start"
note "lighttpd (pid $L_PID) on $B, sherve.cgi in $DOCROOT"

http "$B/go/foo"
expect_status "[cgi] /go/foo is 301" 301
expect_header "[cgi] ... to its Location" Location https://example.com/foo
http "$B/go/style.css"
expect_status "[cgi] /go/style.css is 200" 200
expect_body_file "[cgi] ... byte for byte" "$W/style.css"

exact_count_checks cgi "$B/go" "$STATE"

expect_file_not_contains "[cgi] no sherve error in the log" "$RUN/sherve.log" \
	'"level":"error"'
expect_no_5xx "[cgi] no request got a 5xx"
finish

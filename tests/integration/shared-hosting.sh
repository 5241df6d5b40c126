#!/bin/bash
#
# tests/integration/shared-hosting.sh - sherve as a plain CGI program on
# "shared hosting": Apache + mod_cgi, the recipe in contrib/shared-hosting.
#
# A home directory is laid out as the README tells a user without root:
# public_html/.htaccess (copied verbatim from contrib), the binary copied
# as public_html/go/sherve.cgi and contrib/shared-hosting/sherve.conf
# rendered beside it (no SHERVE_* variable anywhere: Apache runs without
# them and the .htaccess sets none), the store in ~/sherve/state. The
# command of contrib/cron/sherve.crontab loads the map from the fake
# upstream, then Apache (AllowOverride as a host would grant it) must
# answer assets, ETag/304, aliases and 404s under /go/, and 404 outside;
# a directory without its slash with 301 (with directory-slash = serve
# in the file: its index); the metrics path /go/-/metrics from loopback
# (127.0.0.1) only; 400 requests from 20 clients at once raise
# sherve_requests_total by exactly 400. Then a second account laid out by
# the README's files-first steps (static.htaccess: Apache sends
# public_html's files, sherve.cgi the rest) under the AllowOverride that
# layout needs.
#
# Needs apache2 (mod_cgi, mod_rewrite, mpm_prefork), curl, python3 and
# setpriv when run as root; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
APACHE=$(apache_path) ||
	skip_all "apache2 is not installed (apt-get install apache2)"
need_apache_modules cgi rewrite mpm_prefork authz_core authz_host mime log_config \
	dir alias headers
[ "$(id -u)" -ne 0 ] || need_cmd setpriv
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
SH=$TOP_SRCDIR/contrib/shared-hosting
CRONTAB=$TOP_SRCDIR/contrib/cron/sherve.crontab
for f in "$SH/.htaccess" "$SH/static.htaccess" "$SH/sherve.conf" "$CRONTAB"; do
	[ -r "$f" ] || hard_error "$f: missing"
done
note "apache: $("$APACHE" -v 2>&1 | head -n 1)"

open_tmp_to_children
make_site
start_upstream
note "fake upstream on $UP"

# ---------------------------------------------------------------- the account

HOME_DIR=$T_TMP/home/user
DOCROOT=$HOME_DIR/public_html
GO=$DOCROOT/go
STATE=$HOME_DIR/sherve/state
# The README's steps, run as printed with this account's home and the
# test's values in the block's first lines.
mkdir -p "$HOME_DIR"
HOME=$HOME_DIR readme_run "$SH/README.md" steps SHERVE="$SHERVE_BIN" \
	WEBROOT="$W" REDIRECTS_URL="$UP/redirects.txt"
expect_eq "the README's steps run" "$?" 0
check "... and copy the .htaccess as shipped" cmp "$SH/.htaccess" \
	"$DOCROOT/.htaccess"
check "... and the binary as sherve.cgi, mode 0755" \
	test "$(stat -c %a "$GO/sherve.cgi" 2>&1)" = 755
expect_file_contains "... and render sherve.conf with the state dir" \
	"$GO/sherve.conf" "state-dir = $STATE"
printf '<p>OUTSIDE-SHERVE</p>\n' >"$DOCROOT/hello.html"
give_to_child "$HOME_DIR"

# ---------------------------------------------------------------- cron

# The crontab's shared-hosting line, with this account's home.
cron_line=$(grep -E '^[^#[:space:]]' "$CRONTAB" | head -n 1)
cron_cmd=$(printf '%s\n' "$cron_line" | cut -d' ' -f6-)
cron_cmd=${cron_cmd//\/home\/USER\/public_html/$DOCROOT}
case $cron_cmd in
*"$GO/sherve.cgi"*refresh*) pass "the crontab line runs sherve.cgi refresh" ;;
*) fail "the crontab line runs sherve.cgi refresh" "$cron_line" ;;
esac
note "cron: $cron_cmd"
# There is no store yet: a refresh is what creates and loads it (reading
# commands create nothing and exit 74, see sherve(8) and cli.sh).
check_exit "before cron, there is no store (lookup foo exits 74)" 74 \
	as_child "$GO/sherve.cgi" --config "$GO/sherve.conf" lookup foo
expect_file_contains "... and says there is no store yet" "$C_ERR" \
	"no store yet"
check_exit "the crontab command exits 0" 0 as_child env -u SHERVE_CONFIG \
	bash -c "$cron_cmd"
expect_eq "the crontab command prints nothing (stdout to /dev/null)" \
	"$(cat "$C_OUT")" ''
expect_eq "the crontab command logs nothing on success" "$(cat "$C_ERR")" ''
expect_eq "the cron refresh fetched the map once" "$(upstream_count)" 1
check_exit "after cron, sherve.cgi lookup foo finds it" 0 \
	as_child "$GO/sherve.cgi" --config "$GO/sherve.conf" lookup foo
expect_file_contains "lookup prints the target" "$C_OUT" https://example.com/foo
check_exit "a second cron run exits 0 (unchanged)" 0 as_child \
	env -u SHERVE_CONFIG bash -c "$cron_cmd"
FETCHES=$(upstream_count)

# ---------------------------------------------------------------- apache

if start_apache go shared_host "$DOCROOT" 'FileInfo AuthConfig Options=ExecCGI,Indexes'; then
	# Requests that need no fetch: the CGI must use the cron-filled store.
	http "$B/go/foo"
	expect_status "[shared] /go/foo is 301 from the cron-loaded store" 301
	http "$B/go/"
	expect_status "[shared] /go/ is 200" 200
	expect_eq "[shared] CGI requests did not fetch the map again" \
		"$(upstream_count)" "$FETCHES"

	# The CGI reads the file beside it: status with that file sees the
	# store the cron job and the CGI share.
	recipe_status_checks shared "$GO/sherve.conf" - "$UP/redirects.txt" \
		"$STATE"
	site_checks shared "$B/go"
	base_path_checks shared "$B"
	metrics_acl_checks shared "$B/go"
	exact_count_checks shared "$B/go" "$STATE"

	http "$B/hello.html"
	expect_status "[shared] Apache still serves the rest of public_html" 200
	expect_body_contains "[shared] ... with its own content" OUTSIDE-SHERVE
	http "$B/go"
	expect_status "[shared] /go (a real directory) is mod_dir's 301" 301
	expect_header_like "[shared] ... to /go/" Location '*/go/'
	http "$B/go/sherve.conf"
	expect_status_in "[shared] /go/sherve.conf is refused (403 from <Files>)" 403 404
	expect_body_not_contains "[shared] sherve.conf is not leaked" \
		redirects-url
	http "$B/go/sherve.cgi"
	expect_status "[shared] /go/sherve.cgi itself is 404" 404
	expect_header_like "[shared] ... answered by sherve" Content-Type \
		'text/html*'

	expect_file_not_contains "[shared] no sherve errors in Apache's log" \
		"$RUN/server-error.log" '"level":"error"'
	expect_file_not_contains "[shared] no failed CGI run (End of script...)" \
		"$RUN/server-error.log" 'End of script output'

	# directory-slash = serve in the file beside the binary: the CGI
	# answers a directory without its slash with the index, as gosherve.
	cp "$GO/sherve.conf" "$T_TMP/sherve.conf.saved"
	printf 'directory-slash = serve\n' >>"$GO/sherve.conf"
	slash_serve_checks shared "$B/go"
	cp "$T_TMP/sherve.conf.saved" "$GO/sherve.conf"
	http "$B/go/docs/guide"
	expect_status "[shared] without it again, /go/docs/guide is 301" 301

	# Without the file beside the binary, nothing tells sherve about the
	# webroot, the store or /go: proof the settings came from it.
	mv "$GO/sherve.conf" "$GO/sherve.conf.off"
	http "$B/go/foo"
	expect_status "[shared] without sherve.conf beside it, /go/foo is 404" 404
	mv "$GO/sherve.conf.off" "$GO/sherve.conf"
	http "$B/go/foo"
	expect_status "[shared] with sherve.conf back, /go/foo is 301 again" 301

	stop_pid "$A_PID"
fi

# ---------------------------------------------------------------- files first

# A second account, laid out by the README's files-first steps as
# printed: public_html is the webroot, sherve.cgi and its settings live in
# public_html/.sherve, static.htaccess is the .htaccess.
HOME2=$T_TMP/home2/user
mkdir -p "$HOME2"
static_site "$HOME2/public_html"
HOME=$HOME2 readme_run "$SH/README.md" steps-static SHERVE="$SHERVE_BIN" \
	REDIRECTS_URL="$UP/redirects.txt"
expect_eq "[shared-static] the README's files-first steps run" "$?" 0
check "[shared-static] ... and copy static.htaccess as shipped" \
	cmp "$SH/static.htaccess" "$HOME2/public_html/.htaccess"
expect_file_contains "[shared-static] ... and render sherve.conf for /" \
	"$HOME2/public_html/.sherve/sherve.conf" 'base-path = /'
give_to_child "$HOME2"
GO2=$HOME2/public_html/.sherve
check_exit "[shared-static] the cron command loads the map" 0 as_child \
	env -u SHERVE_CONFIG "$GO2/sherve.cgi" --config "$GO2/sherve.conf" refresh
if start_apache static shared_host "$HOME2/public_html" \
	'FileInfo AuthConfig Indexes Options=ExecCGI,Indexes,FollowSymLinks,SymLinksIfOwnerMatch'; then
	static_checks shared-static "$B" "$HOME2/public_html" \
		"$HOME2/sherve/state" 403 siblings methods
	http "$B/.sherve/sherve.conf"
	expect_status_in "[shared-static] the settings file is refused" 403 404
	expect_body_not_contains "[shared-static] ... and not leaked" \
		redirects-url
	http "$B/.sherve/sherve.cgi"
	expect_status "[shared-static] sherve.cgi itself is 404 (sherve's)" 404
	expect_body_contains "[shared-static] ... its 404 page" CUSTOM-404
	expect_file_not_contains "[shared-static] no failed CGI run" \
		"$RUN/server-error.log" 'End of script output'
	stop_pid "$A_PID"
fi
# Without the Options it needs, the host answers 500 for every request
# (loud, never a silent fallback to following links).
if start_apache narrow shared_host "$HOME2/public_html" \
	'FileInfo AuthConfig Indexes Options=ExecCGI,Indexes'; then
	http "$B/style.css"
	expect_status "[shared-static] a host that forbids the Options: 500" 500
	expect_file_contains "[shared-static] ... naming it in its error log" \
		"$RUN/server-error.log" 'not allowed here'
	T_5XX=0 # that 500 was the point
	stop_pid "$A_PID"
fi

expect_no_5xx "[shared] no request got a 5xx"
finish

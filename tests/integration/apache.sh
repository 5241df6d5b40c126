#!/bin/bash
#
# tests/integration/apache.sh - sherve behind Apache 2.4 + mod_fcgid.
#
# Renders contrib/apache/sherve.conf (the virtual host a Debian install
# puts in sites-available) inside a private server skeleton on a free
# 127.0.0.1 port, and checks the HTTP answers: assets, a nested directory
# with and without a slash, Content-Type, ETag/304, aliases (map from the
# fake upstream), 404s, the metrics path (loopback only); then a second
# instance mounted at /go; then contrib/apache/sherve-xsendfile.conf
# (sendfile-mode apache, files sent by mod_xsendfile): sherve still
# decides, Apache sends the bytes, never stale after a rename or a flip
# of a symlinked webroot.
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
need_apache_modules fcgid mpm_event authz_core authz_host mime log_config dir
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve.conf
XS_TEMPLATE=$TOP_SRCDIR/contrib/apache/sherve-xsendfile.conf
for f in "$TEMPLATE" "$XS_TEMPLATE"; do
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

# start_site NAME BASE_PATH: render the template into a private server
# on a free port; sets RUN, PORT, B (the server's root URL).
# TEMPLATE=FILE, SITE_WEBROOT=DIR (default $W) and SITE_MODULES="..."
# (loaded as well as fcgid and authz_host) in front of it change those.
start_site() {
	local name=$1 base=$2
	RUN=$T_TMP/apache-$name
	mkdir -p "$RUN/htdocs" "$RUN/fcgid"
	give_to_child "$RUN/fcgid" "$T_TMP/state-$name"
	for _ in 1 2 3; do
		PORT=$(free_port)
		B=http://127.0.0.1:$PORT
		render_template "$TEMPLATE" "$RUN/sherve-site.conf" \
			PORT="$PORT" SHERVE_BIN="$SHERVE_BIN" \
			WEBROOT="${SITE_WEBROOT:-$W}" \
			REDIRECTS_URL="$UP/redirects.txt" \
			STATE_DIR="$T_TMP/state-$name" RUNDIR="$RUN" \
			BASE_PATH="$base" ||
			hard_error "cannot render $TEMPLATE"
		{
			# shellcheck disable=SC2086 # a list of module names
			apache_skeleton "$RUN" "$PORT" event fcgid authz_host \
				${SITE_MODULES:-}
			# What Debian's fcgid.conf sets, under RUN.
			printf 'FcgidIPCDir "%s/fcgid"\n' "$RUN"
			printf 'FcgidProcessTableFile "%s/fcgid_shm"\n' "$RUN"
			printf 'Include "%s/sherve-site.conf"\n' "$RUN"
		} >"$RUN/httpd.conf"
		log_file "$RUN/error.log"
		if apache_start "$name" "$RUN/httpd.conf"; then
			note "apache '$name' (pid $A_PID) on $B"
			return 0
		fi
		stop_pid "$A_PID"
		grep -qi 'in use' "$RUN/stderr.log" "$RUN/server-error.log" \
			2>/dev/null || break
	done
	fail "apache '$name' starts and answers" \
		"$(cat "$RUN/stderr.log" "$RUN/server-error.log" 2>/dev/null)"
	return 1
}

# sherve_procs: the sherve processes mod_fcgid runs for this server.
sherve_procs() {
	local p
	for p in $(descendants_of "$A_PID"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = \
			"$(readlink -f "$SHERVE_BIN")" ] && printf '%s\n' "$p"
	done
}

if start_site main /; then
	# The first request started sherve, which fetched the map once.
	expect_eq "[apache] sherve fetched the map from the upstream once" \
		"$(upstream_count)" 1
	site_checks apache "$B"
	metrics_acl_checks apache "$B"
	http "$B/docs/guide"
	expect_no_header "[apache] mod_dir adds no slash redirect" Location

	# mod_fcgid passes one request at a time per process: a burst makes
	# it start more, never more than FcgidMaxProcessesPerClass (12). The
	# processes come and go; the metrics must still sum to exact totals.
	req_total() {
		"$SHERVE_BIN" --state-dir "$T_TMP/state-main" metrics 2>/dev/null |
			awk '$1 == "sherve_requests_total" { print $2 }'
	}
	m0=$(req_total)
	seq 1 40 | xargs -P 8 -I{} curl -s -o /dev/null -m 10 \
		-w '%{http_code}\n' "$B/foo?n={}" >"$T_TMP/burst" 2>/dev/null
	expect_eq "[apache] 40 concurrent requests all get 301" \
		"$(grep -c '^301$' "$T_TMP/burst")" 40
	expect_eq "[apache] metrics: exactly 40 more requests, summed over mod_fcgid's processes" \
		"$(($(req_total) - m0))" 40
	n=$(sherve_procs | wc -l)
	if [ "$n" -ge 1 ] && [ "$n" -le 12 ]; then
		pass "[apache] 1 to 12 sherve processes (FcgidMaxProcessesPerClass)"
	else
		fail "[apache] 1 to 12 sherve processes (FcgidMaxProcessesPerClass)" "$n"
	fi
	u=$(child_user)
	if [ -n "$u" ]; then
		owner=$(ps -o user= -p "$(sherve_procs | head -n 1)" 2>/dev/null | tr -d ' ')
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
	procs=$(sherve_procs)
	stop_pid "$A_PID"
	gone=yes
	for p in $procs; do
		t_wait_gone "$p" 50 || gone="no: $p alive"
	done
	expect_eq "[apache] stopping Apache stops its sherve processes" "$gone" yes
fi

if start_site base /go; then
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
		SITE_MODULES=xsendfile start_site main-xsendfile /; then
		site_checks apache-xsendfile "$B"
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

expect_no_5xx "[apache] no request got a 5xx"
finish

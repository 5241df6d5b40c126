#!/bin/bash
#
# tests/integration/versions.sh - map versions, rollback and the health
# check, behind real web servers.
#
# (a) lighttpd (contrib/lighttpd/sherve.conf, max-procs 4, health-path
#     /-/health) in front of a fake upstream that first fails: the health
#     check says fail (503, "no map is stored"); map A is refreshed in
#     (pass, 200, version 1); a bad map B (valid, but its aliases point
#     elsewhere) is refreshed in and served; `versions` and `diff` show
#     it; `rollback` makes every worker answer from A at once (40
#     requests, 8 at a time, right after the command returns, no
#     restart) and the health check warns (pinned); a map C is refreshed:
#     kept as version 3, not served; `unpin` serves C everywhere; bad
#     version numbers exit 65/64 and change nothing; the upstream fails:
#     warn, the last error without the upstream's URL; keep-versions
#     drops the oldest. A health request never counts as a redirect or a
#     miss, and never causes a fetch.
# (b) nginx (contrib/nginx/sherve.conf) + `sherve serve --health-path`,
#     a file:// map: the same three states (fail, warn: failed, warn:
#     pinned), each with its status code and JSON.
#
# Needs lighttpd, nginx, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
lighttpd_path >/dev/null ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"

make_site
ST=$T_TMP/state
mkdir -p "$ST"
upstream_mode ok
start_upstream
URL=$UP/redirects.txt

# sv [SHERVE_NAME=VALUE...] ARGS...: the sherve CLI with the lighttpd
# instance's settings.
sv() {
	local extra=()
	while [[ ${1:-} == SHERVE_*=* ]]; do
		extra+=("$1")
		shift
	done
	env SHERVE_CONFIG=/dev/null SHERVE_STATE_DIR="$ST" \
		SHERVE_REDIRECTS_URL="$URL" SHERVE_WEBROOT="$W" \
		SHERVE_LOG_LEVEL=error "${extra[@]}" "$SHERVE_BIN" "$@"
}

# map_file NAME=TARGET...: the upstream's file.
map_file() {
	local p
	: >"$REDIRECTS.tmp"
	for p in "$@"; do
		printf '%s %s\n' "${p%%=*}" "${p#*=}" >>"$REDIRECTS.tmp"
	done
	mv -f "$REDIRECTS.tmp" "$REDIRECTS"
}

# health URL: GET it; HEALTH is "STATUS VERSION RULES PINNED |OUTPUT|ERROR"
# from its JSON.
health() {
	http "$1"
	HEALTH=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d.get("checks", {})
def v(k, f="observedValue"):
    return c.get(k, [{}])[0].get(f, "-")
print(d["status"], v("map:version"), v("map:rules"),
      str(v("map:pinned")).lower(), "|" + d.get("output", "") + "|" +
      v("refresh:error", "output"))
' <"$H_BODY" 2>&1)
}

# expect_health LABEL URL CODE "STATUS VERSION RULES PINNED" [OUTPUT]:
# status code, health+json, no-store, and the JSON's fields.
expect_health() {
	local l=$1 url=$2 code=$3 want=$4 out=${5:-}
	health "$url"
	expect_status "[$l] health answers $code" "$code"
	expect_header "[$l] health is application/health+json" \
		Content-Type application/health+json
	expect_header "[$l] health is not cached" Cache-Control no-store
	expect_eq "[$l] health JSON: status version rules pinned" \
		"${HEALTH%% |*}" "$want"
	if [ -n "$out" ]; then
		expect_match "[$l] health output says: $out" "$HEALTH" "$out"
	fi
}

# all_answer LABEL ALIAS TARGET: 40 GETs, 8 at a time, all 301 to TARGET.
all_answer() {
	local got
	got=$(seq 40 | xargs -P 8 -I{} curl -s -o /dev/null -m 10 \
		-w '%{http_code} %{redirect_url}\n' "$B/$2" | sort | uniq -c |
		sed 's/^ *//')
	expect_eq "[$1] all 40 requests for /$2 answer from $3" "$got" \
		"40 301 $3"
}

# ------------------------------------------------------------------ (a)
note "(a) lighttpd, max-procs 4, upstream $UP"
upstream_mode 500
start_lighttpd main MAX_PROCS=4 STATE_DIR="$ST" REDIRECTS_URL="$URL" \
	ENV_SHERVE_HEALTH_PATH=/-/health ENV_SHERVE_REFRESH_INTERVAL=0 \
	ENV_SHERVE_MISS_REFRESH_INTERVAL=86400 ||
	hard_error "lighttpd does not start"

expect_health "no map" "$B/-/health" 503 "fail 0 0 false" \
	'*no map is stored*'
upstream_mode ok
map_file foo=https://example.com/foo bar=https://example.com/bar
check_exit "[A] refresh stores map A" 0 sv refresh
expect_health "A" "$B/-/health" 200 "pass 1 2 false"
all_answer A foo https://example.com/foo

# B: valid, but foo points elsewhere.
map_file foo=https://evil.example/foo bar=https://example.com/bar \
	baz=https://example.com/baz
check_exit "[B] refresh stores map B" 0 sv refresh
all_answer B foo https://evil.example/foo
sv versions >"$T_TMP/v.out"
expect_eq "[B] versions: 2 then 1" \
	"$(awk '{ print $1 }' "$T_TMP/v.out" | tr '\n' ' ')" "2 1 "
expect_match "[B] versions: 2 is current, with its rules and source" \
	"$(head -n 1 "$T_TMP/v.out")" "2  *Z  3 rules  ????????????  $URL  current"
expect_match "[B] versions: 1 is neither" "$(tail -n 1 "$T_TMP/v.out")" \
	"1  *Z  2 rules  ????????????  $URL"
sv diff >"$T_TMP/diff.out"
expect_eq "[B] diff exits 1: they differ" "$?" 1
expect_eq "[B] diff shows the changed and the added alias" \
	"$(cat "$T_TMP/diff.out")" \
	"~ foo https://example.com/foo -> https://evil.example/foo
+ baz https://example.com/baz
version 1 -> 2: 1 added, 0 removed, 1 changed"

# Rollback: every worker answers from A at its next request.
check_exit "[rollback] sherve rollback" 0 sv rollback
all_answer rollback foo https://example.com/foo
http "$B/baz"
expect_status "[rollback] an alias only B had is gone" 404
expect_health "rollback" "$B/-/health" 200 "warn 1 2 true" '*pinned*'
expect_match "[rollback] versions: 1 is current and pinned" \
	"$(sv versions | tail -n 1)" '1  *  current  pinned'
expect_eq "[rollback] metrics: version 1, pinned, 2 kept" \
	"$(sv metrics | grep -E '^sherve_map_(version|pinned|versions) ' | tr '\n' ' ')" \
	"sherve_map_version 1 sherve_map_pinned 1 sherve_map_versions 2 "

# C: stored, not served while pinned.
map_file foo=https://example.com/foo-c bar=https://example.com/bar \
	qux=https://example.com/qux
sv refresh >"$T_TMP/refresh.out" 2>&1
expect_eq "[C] refresh exits 0" "$?" 0
expect_match "[C] refresh says C is kept, not served" \
	"$(cat "$T_TMP/refresh.out")" '*kept as version 3, not served*'
all_answer C-pinned foo https://example.com/foo
expect_match "[C] versions lists 3, not current" "$(sv versions | head -n 1)" \
	"3  *  3 rules  ????????????  $URL"
check_exit "[C] diff 1 3 differs" 1 sv diff 1 3
check_exit "[C] diff 3 3 is equal" 0 sv diff 3 3

# Bad input: a one-line error, 65 or 64, and nothing changes.
check_exit "[bad] rollback 99: not kept" 65 sv rollback 99
check_exit "[bad] rollback abc: usage" 64 sv rollback abc
check_exit "[bad] diff 1 99: not kept" 65 sv diff 1 99
check_exit "[bad] rollback 1 2: usage" 64 sv rollback 1 2
all_answer bad foo https://example.com/foo

check_exit "[unpin] sherve unpin" 0 sv unpin
all_answer unpin foo https://example.com/foo-c
expect_health "unpin" "$B/-/health" 200 "pass 3 3 false"
sv versions --json >"$T_TMP/v.json"
expect_eq "[unpin] versions --json: numbers, current, pinned" \
	"$(python3 -c 'import json, sys
print(" ".join("%d:%s:%s" % (v["version"], v["current"], v["pinned"])
               for v in json.load(open(sys.argv[1]))))' "$T_TMP/v.json")" \
	"3:True:False 2:False:False 1:False:False"

# A health request is no redirect, no miss, and fetches nothing.
before=$(upstream_count)
redirects0=$(sv metrics | awk '/^sherve_redirects_served_total\{/ { n += $2 } END { print n + 0 }')
for _ in 1 2 3 4 5; do http "$B/-/health"; done
expect_eq "[health] no fetch for health requests" "$(upstream_count)" "$before"
expect_eq "[health] not counted as redirects" \
	"$(sv metrics | awk '/^sherve_redirects_served_total\{/ { n += $2 } END { print n + 0 }')" \
	"$redirects0"

# The upstream fails: warn, and the error names no URL.
upstream_mode 500
check_exit "[failed] refresh fails" 1 sv refresh
expect_health "failed" "$B/-/health" 200 "warn 3 3 false" \
	'*last refresh failed*|redirects-url: *'
expect_eq "[failed] the health check hides the upstream URL" \
	"$(grep -c "$UP" "$H_BODY")" 0
upstream_mode ok

# keep-versions: the oldest go, in the transaction that adds one.
map_file foo=https://example.com/foo-d bar=https://example.com/bar
check_exit "[keep] refresh with keep-versions 2" 0 \
	sv SHERVE_KEEP_VERSIONS=2 refresh
expect_eq "[keep] versions kept: 4 and 3" \
	"$(sv versions | awk '{ print $1 }' | tr '\n' ' ')" "4 3 "
all_answer keep foo https://example.com/foo-d
stop_pid "$L_PID"
expect_no_backend_death "[a] no sherve died" "$L_RUN/error.log"

# ------------------------------------------------------------------ (b)
NGINX=$(nginx_path) || {
	skip "(b) nginx + sherve serve" "nginx is not installed"
	finish
}
note "(b) nginx + sherve serve, a file:// map"
open_tmp_to_children
U=$(child_user)
NST=$T_TMP/nstate
NMAP=$T_TMP/nmap.txt
SOCKDIR=$T_TMP/run
give_to_child "$SOCKDIR"
give_to_child "$NST"
start_pool "$SOCKDIR/s.sock" 0 "$T_TMP/pool.log" "$SHERVE_BIN" serve \
	--listen "unix:$SOCKDIR/s.sock" --workers 2 ${U:+--user "$U"} \
	--redirects-url "file://$NMAP" --state-dir "$NST" \
	--health-path /-/health --refresh-interval 0 ||
	hard_error "sherve serve: no socket"
nginx_in_front "$TOP_SRCDIR/contrib/nginx/sherve.conf" "$T_TMP/nginx" \
	"$SOCKDIR/s.sock"

nsv() {
	as_child env SHERVE_CONFIG=/dev/null SHERVE_STATE_DIR="$NST" \
		SHERVE_REDIRECTS_URL="file://$NMAP" SHERVE_LOG_LEVEL=error \
		"$SHERVE_BIN" "$@"
}
expect_health "nginx no map" "$B/-/health" 503 "fail 0 0 false" \
	'*no map is stored*'
http -I "$B/-/health"
expect_status "[nginx] HEAD health: 503 too" 503
printf 'one https://example.com/1\n' >"$NMAP"
chmod 0644 "$NMAP"
check_exit "[nginx] refresh version 1" 0 nsv refresh
printf 'one https://example.com/1b\n' >"$NMAP"
check_exit "[nginx] refresh version 2" 0 nsv refresh
expect_health "nginx pass" "$B/-/health" 200 "pass 2 1 false"
check_exit "[nginx] rollback" 0 nsv rollback
expect_health "nginx pinned" "$B/-/health" 200 "warn 1 1 true" '*pinned*'
http "$B/one"
expect_header "[nginx] rolled back: version 1 served" Location \
	https://example.com/1
check_exit "[nginx] unpin" 0 nsv unpin
rm -f "$NMAP"
check_exit "[nginx] refresh fails (file gone)" 1 nsv refresh
expect_health "nginx failed" "$B/-/health" 200 "warn 2 1 false" \
	'*last refresh failed*'
stop_pid "$N_PID"
stop_pool
finish

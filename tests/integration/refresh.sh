#!/bin/bash
#
# tests/integration/refresh.sh - the redirect-map refresh job, end to end.
#
# sherve runs behind a real lighttpd (mod_fastcgi bin-path, max-procs 4,
# rendered from contrib/lighttpd/sherve.conf) and fetches its map from the
# fake upstream (upstream.py, with 429 with Retry-After, a truncated body
# and a body without Content-Length among its modes). Checked:
#   (a) scheduled refresh (refresh-interval 2) over 10 s: about one fetch
#       per interval across the 4 processes, conditional (304), no
#       cache-buster; an edited upstream file is served within the interval;
#       while the upstream answers 500 the map is kept, fetches stay about
#       one per interval, and the timer recovers by itself
#   (b) 1,000 random unknown paths at once (miss-refresh-interval 30):
#       at most 2 fetches, every answer 404
#   (c) miss-refresh-interval 0: a new alias resolves on its first request,
#       fetched with cachebust=; also when another miss refreshed just
#       before, in the same second
#   (d) 304: `sherve refresh` sends If-None-Match, records not_modified,
#       keeps the map
#   (e) every failure (429 + Retry-After, 500, timeout, oversize with and
#       without Content-Length, truncated body, empty body, no valid line,
#       shrink) keeps the last good map and the responder serving it,
#       records last_error, backs off (10 s doubling, capped, >= Retry-After);
#       a good file replaces the map; --force overrides the shrink guard;
#       a map with a redirect loop across its rules (hostnames) is refused
#       even with --force, the loop in the error; a chain is logged
#       with its path and stored
#   (g) `sherve check`: invalid lines with numbers, duplicates, shadowed
#       assets, loops, the diff against the store; exit 1 on invalid lines
#   (f) restart on the same state dir with the upstream gone: stored map
#       and assets served
#   (h) asset requests never trigger a fetch (miss-refresh-interval 0)
#
# Needs lighttpd, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd curl python3
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
[ -r "$TEMPLATE" ] || hard_error "$TEMPLATE: missing"

# ---------------------------------------------------------------- helpers

# expect_le DESC GOT MAX / expect_ge DESC GOT MIN (integers)
expect_le() {
	if [ "$2" -le "$3" ] 2>/dev/null; then pass "$1"; else fail "$1" "$2, want <= $3"; fi
}
expect_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then pass "$1"; else fail "$1" "$2, want >= $3"; fi
}

# write_map ALIAS...: the upstream file, "ALIAS https://example.com/ALIAS"
# a line ("-" alone writes an empty file).
MAP=$T_TMP/redirects.txt
write_map() {
	local a
	if [ "${1:-}" = - ]; then
		: >"$MAP.tmp"
	else
		printf '# redirects served by the fake upstream\n' >"$MAP.tmp"
		for a in "$@"; do
			printf '%s https://example.com/%s\n' "$a" "$a" >>"$MAP.tmp"
		done
	fi
	mv -f "$MAP.tmp" "$MAP"
}

# The fake upstream (start_upstream): one for the whole script.
upstream_mode ok
up_get() { curl -s -m 5 "$UP/-/$1" 2>/dev/null; }
up_count() { up_get count | tr -d '\n'; }
up_mode() { upstream_mode "$1"; }

# sv [SHERVE_NAME=VALUE...] ARGS...: the sherve CLI on the state dir of
# the current instance ($SV_STATE), with the instance's settings.
W=$T_TMP/www
sv() {
	local extra=()
	while [[ ${1:-} == SHERVE_*=* ]]; do
		extra+=("$1")
		shift
	done
	env SHERVE_STATE_DIR="$SV_STATE" SHERVE_REDIRECTS_URL="$URL" \
		SHERVE_WEBROOT="$W" SHERVE_REFRESH_INTERVAL=300 \
		SHERVE_LOG_LEVEL=error "${extra[@]}" "$SHERVE_BIN" "$@"
}

# snap: take `sherve status` once; sf FIELD: a field of that snapshot (the
# label padded to 15 columns); st FIELD: both at once.
snap() {
	sv status >"$T_TMP/status.out" 2>"$T_TMP/status.err"
	SNAP_RC=$?
}
sf() {
	local v
	v=$(awk -v k="$1" 'substr($0, 1, 15) ~ "^" k " *$" { print substr($0, 17) }' \
		"$T_TMP/status.out")
	if [ "$SNAP_RC" -ne 0 ] || [ -z "$v" ]; then
		note "sherve status: exit $SNAP_RC, no '$1': $(t_oneline "$(cat "$T_TMP/status.out" "$T_TMP/status.err")")"
	fi
	printf '%s\n' "$v"
}
st() {
	snap
	sf "$1"
}
iso2epoch() { date -u -d "$1" +%s 2>/dev/null || echo 0; }
# failed_refreshes: sherve_refresh_total{result="failed"} of the instance.
failed_refreshes() {
	sv metrics 2>/dev/null |
		awk '$1 == "sherve_refresh_total{result=\"failed\"}" { n = $2 }
			END { print n + 0 }'
}

# Every lighttpd here: 4 responders, refreshing from the fake upstream;
# ready when an asset answers (assets never fetch).
L_DEFAULTS=(MAX_PROCS=4)
L_WAIT=/index.html

# expect_redirect DESC ALIAS: GET /ALIAS is 301 to example.com/ALIAS.
expect_redirect() {
	http "$B/$2"
	if [ "$H_STATUS" = 301 ] &&
		[ "$(header Location)" = "https://example.com/$2" ]; then
		pass "$1"
	else
		fail "$1" "status $H_STATUS, Location $(header Location)"
	fi
}

# ---------------------------------------------------------------- fixtures

mkdir -p "$W/img"
printf '<!DOCTYPE html><p>INDEX</p>\n' >"$W/index.html"
printf 'body { margin: 0 }\n' >"$W/style.css"
printf 'console.log(1);\n' >"$W/app.js"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$W/img/logo.svg"

start_upstream "$MAP" --slow-seconds 4 --huge-bytes 1000000 \
	--retry-after 120 --stream-bytes 1000000
URL=$UP/redirects.txt
L_DEFAULTS+=(REDIRECTS_URL="$URL")
note "fake upstream on $UP"

# ---------------------------------------------------------------- (a)

section "(a) scheduled refresh: refresh-interval 2, max-procs 4"
write_map foo bar
if start_lighttpd sched ENV_SHERVE_REFRESH_INTERVAL=2 \
	ENV_SHERVE_MISS_REFRESH_INTERVAL=3600; then
	expect_eq "[a] lighttpd runs 4 sherve responders" \
		"$(sherve_procs "$L_PID" | wc -l)" 4
	expect_redirect "[a] the startup fetch stored the map (/foo)" foo
	# One miss now starts the miss rate limit (3600 s), so that later
	# misses cannot fetch: only the timer can bring in a new alias.
	http "$B/prime-the-miss-limit"
	expect_status "[a] an unknown path is 404" 404
	sleep 0.3
	up_get reset >/dev/null
	log0=$(wc -l <"$T_TMP/upstream.log")
	t0=$EPOCHREALTIME
	sleep 10
	n=$(up_count)
	n304=$(up_get count304 | tr -d '\n')
	secs=$(($(ms_since "$t0") / 1000))
	note "[a] $n upstream fetches ($n304 answered 304) in $secs s"
	expect_le "[a] at most one fetch per interval across 4 processes" \
		"$n" $((secs / 2 + 2))
	expect_ge "[a] the timer fetched repeatedly" "$n" 2
	expect_ge "[a] scheduled fetches are conditional (upstream sent 304)" \
		"$n304" 1
	expect_eq "[a] status: the last scheduled refresh was not_modified" \
		"$(st 'last result')" not_modified
	tail -n +"$((log0 + 1))" "$T_TMP/upstream.log" >"$T_TMP/upstream.log.a"
	expect_file_contains "[a] the upstream log shows the scheduled fetches" \
		"$T_TMP/upstream.log.a" 'serving /redirects.txt'
	expect_file_not_contains "[a] scheduled fetches carry no cachebust=" \
		"$T_TMP/upstream.log.a" 'cachebust='
	http "$B/fresh"
	expect_status "[a] /fresh is unknown before the edit" 404
	write_map foo bar fresh
	t0=$EPOCHREALTIME
	for _ in $(seq 1 60); do
		http "$B/fresh"
		[ "$H_STATUS" = 301 ] && break
		sleep 0.1
	done
	ms=$(ms_since "$t0")
	note "[a] the edited map was served after $ms ms"
	expect_status "[a] an alias added upstream is served without a restart" 301
	expect_header "[a] the new alias's Location" Location https://example.com/fresh
	expect_le "[a] ... within the interval (2 s, + slack for timer granularity and load)" \
		"$ms" 4500
	expect_redirect "[a] /foo still redirects" foo

	# The timer's failures: the map is kept, the upstream not hammered
	# (backoff is capped at the interval, Retry-After is 1 s), and the
	# timer recovers by itself.
	up_mode 500
	up_get reset >/dev/null
	t0=$EPOCHREALTIME
	sleep 5
	n=$(up_count)
	secs=$(($(ms_since "$t0") / 1000))
	note "[a] $n fetches in $secs s while the upstream answered 500"
	expect_le "[a] a failing upstream gets at most one fetch per interval" \
		"$n" $((secs / 2 + 2))
	expect_ge "[a] ... and is retried" "$n" 1
	# Counted when it arrived, a fetch is recorded when its refresh
	# ends (a process at nice 19: slow on a busy host). Wait for that.
	for _ in $(seq 1 300); do
		[ "$(failed_refreshes)" -ge 1 ] && break
		sleep 0.1
	done
	snap
	expect_eq "[a] status: the timer's refresh failed" \
		"$(sf 'last result')" failed
	expect_match "[a] status: last error is the 500" "$(sf 'last error')" \
		'*HTTP status 500*'
	expect_redirect "[a] the map is kept while the upstream fails" fresh
	up_mode ok
	# The next timer's refresh, within the interval (backoff is capped
	# at it), in a process at nice 19: up to 30 s on a busy host.
	res=failed
	for _ in $(seq 1 300); do
		res=$(st 'last result')
		[ "$res" != failed ] && break
		sleep 0.1
	done
	case $res in
	updated | not_modified)
		pass "[a] the timer recovers once the upstream does ($res)" ;;
	*) fail "[a] the timer recovers once the upstream does" "$res" ;;
	esac
	stop_lighttpd -d a
fi

# ---------------------------------------------------------------- (b)

section "(b) a flood of unknown paths: miss-refresh-interval 30, refresh-interval 0"
write_map foo bar
up_get reset >/dev/null
if start_lighttpd flood ENV_SHERVE_REFRESH_INTERVAL=0 \
	ENV_SHERVE_MISS_REFRESH_INTERVAL=30; then
	expect_eq "[b] the first start fetched once across 4 processes" \
		"$(up_count)" 1
	up_get reset >/dev/null
	urls=()
	for i in $(seq 1 1000); do
		urls+=("$B/miss-$i-$RANDOM$RANDOM")
	done
	t0=$EPOCHREALTIME
	parallel_get "$T_TMP/flood.codes" "${urls[@]}"
	ms=$(ms_since "$t0")
	n=$(up_count)
	note "[b] 1000 requests in $ms ms caused $n upstream fetches"
	expect_eq "[b] 1000 answers" "$(wc -l <"$T_TMP/flood.codes" | tr -d ' ')" 1000
	expect_eq "[b] every answer is 404" \
		"$(grep -c '^404$' "$T_TMP/flood.codes")" 1000
	expect_eq "[b] no 5xx" "$(grep -c '^5' "$T_TMP/flood.codes")" 0
	expect_le "[b] at most 2 upstream fetches" "$n" 2
	expect_ge "[b] the first miss did fetch" "$n" 1
	expect_le "[b] the flood took under 15 s" "$ms" 15000
	expect_match "[b] the miss fetch carried cachebust=" \
		"$(up_get last | head -n 1)" '*cachebust=*'
	http "$B/one-more-miss"
	expect_status "[b] a later miss is still 404" 404
	expect_eq "[b] ... and does not fetch within miss-refresh-interval" \
		"$(up_count)" "$n"
	expect_redirect "[b] /foo still redirects" foo
	stop_lighttpd -d b
fi

# ---------------------------------------------------------------- (c) (h)

section "(c, h) miss-refresh-interval 0: a miss fetches within the request"
write_map foo bar
up_get reset >/dev/null
if start_lighttpd miss0 ENV_SHERVE_REFRESH_INTERVAL=0 \
	ENV_SHERVE_MISS_REFRESH_INTERVAL=0; then
	expect_eq "[c] the first start fetched once across 4 processes" \
		"$(up_count)" 1
	# (h) assets never fetch.
	up_get reset >/dev/null
	urls=()
	for i in $(seq 1 40); do
		urls+=("$B/" "$B/index.html" "$B/style.css?v=$i" "$B/app.js" \
			"$B/img/logo.svg")
	done
	parallel_get "$T_TMP/assets.codes" "${urls[@]}"
	expect_eq "[h] 200 asset requests are all 200" \
		"$(grep -c '^200$' "$T_TMP/assets.codes")" 200
	expect_eq "[h] asset requests caused no upstream fetch" "$(up_count)" 0

	# (c) a new alias resolves in the request that misses it.
	write_map foo bar newalias
	t_before=$(date +%s)
	expect_redirect "[c] the first request for a new alias is 301" newalias
	t_after=$(date +%s)
	expect_eq "[c] it took one upstream fetch" "$(up_count)" 1
	last=$(up_get last | head -n 1)
	bust=$(printf '%s' "$last" | sed -n 's/.*[?&]cachebust=\([0-9]*\).*/\1/p')
	expect_match "[c] the miss fetch carried cachebust=" "$last" '*cachebust=*'
	if [ -n "$bust" ] && [ "$bust" -ge "$t_before" ] &&
		[ "$bust" -le "$t_after" ]; then
		pass "[c] cachebust= is the unix time of the fetch"
	else
		fail "[c] cachebust= is the unix time of the fetch" \
			"'$bust', want $t_before..$t_after"
	fi
	expect_match "[c] the miss fetch was conditional (If-None-Match)" \
		"$(up_get last)" '*If-None-Match: "*'
	expect_eq "[c] status: updated" "$(st 'last result')" updated

	# The same, when another miss refreshed earlier in the same second:
	# its fetch predates the edit, so it cannot stand in for this one.
	same=no
	for _ in 1 2 3; do
		python3 -c 'import time; time.sleep(1.02 - time.time() % 1)'
		s0=$(date +%s)
		http "$B/unknown-before-the-edit"
		write_map foo bar newalias quick
		http "$B/quick"
		code=$H_STATUS
		[ "$(date +%s)" = "$s0" ] && { same=yes; break; }
		# Not within one second (slow machine): try again from a
		# known state.
		write_map foo bar newalias
	done
	if [ "$same" = yes ]; then
		expect_eq "[c] a new alias resolves on its first request even right after another miss's refresh (same second)" \
			"$code" 301
	else
		skip "[c] same-second miss" "could not fit 2 requests in 1 s"
	fi
	stop_lighttpd -d c
fi

# ---------------------------------------------------------------- (d) (e)

section "(d, e) 304 and failures, driven by 'sherve refresh' on the live state dir"
BASE=(foo bar a1 a2 a3 a4 a5 a6 a7 a8)
write_map "${BASE[@]}"
if start_lighttpd fail ENV_SHERVE_REFRESH_INTERVAL=0 \
	ENV_SHERVE_MISS_REFRESH_INTERVAL=3600; then
	sv list >"$T_TMP/list.base" 2>&1
	expect_eq "[d] the startup fetch stored 10 aliases" \
		"$(wc -l <"$T_TMP/list.base" | tr -d ' ')" 10

	# (d) 304.
	up_get reset >/dev/null
	snap
	etag=$(sf etag)
	success=$(sf 'last success')
	check_exit "[d] sherve refresh of an unchanged file exits 0" 0 sv refresh
	expect_file_contains "[d] it reports 'not modified'" "$C_OUT" 'not modified'
	expect_eq "[d] one upstream request, answered 304" \
		"$(up_count)/$(up_get count304 | tr -d '\n')" 1/1
	expect_file_contains "[d] the request carried If-None-Match with the stored ETag" \
		<(up_get last) "If-None-Match: $etag"
	expect_eq "[d] status: last result not_modified" \
		"$(st 'last result')" not_modified
	expect_eq "[d] status: last success unchanged" "$(st 'last success')" "$success"
	sv list >"$T_TMP/list.now" 2>&1
	check "[d] the stored map is unchanged" cmp "$T_TMP/list.base" "$T_TMP/list.now"
	sv metrics >"$T_TMP/metrics.d" 2>&1
	expect_file_contains "[d] metrics: one not_modified refresh" \
		"$T_TMP/metrics.d" 'sherve_refresh_total{result="not_modified"} 1'

	# (e) failures. fail_case NAME BACKOFF ERROR [SHERVE_X=V...]: one
	# `sherve refresh` that must fail with ERROR, keep the map and the
	# responder, and set the next try BACKOFF seconds after the attempt.
	# Sets FC_MS, the time the refresh took.
	nfail=0
	fail_case() {
		local name=$1 backoff=$2 want=$3 att due t0
		shift 3
		nfail=$((nfail + 1))
		t0=$EPOCHREALTIME
		check_exit "[e:$name] sherve refresh exits 1" 1 sv "$@" refresh
		FC_MS=$(ms_since "$t0")
		expect_file_contains "[e:$name] stderr says why" "$C_ERR" "$want"
		sv list >"$T_TMP/list.now" 2>&1
		check "[e:$name] the stored map is kept" \
			cmp "$T_TMP/list.base" "$T_TMP/list.now"
		snap
		expect_eq "[e:$name] status: last result failed" \
			"$(sf 'last result')" failed
		expect_match "[e:$name] status: last error" "$(sf 'last error')" \
			"*$want*"
		expect_eq "[e:$name] status: consecutive failures" \
			"$(sf failures)" "$nfail"
		att=$(iso2epoch "$(sf 'last attempt')")
		due=$(iso2epoch "$(sf 'next due')")
		expect_eq "[e:$name] next try after ${backoff} s (backoff)" \
			"$((due - att))" "$backoff"
		expect_redirect "[e:$name] the responder still serves /foo" foo
	}
	# Retry-After 120 beats the first backoff step (10 s).
	up_mode 429
	fail_case 429 120 'HTTP status 429'
	# Retry-After 1 is below the second step: 20 s.
	up_mode 500
	fail_case 500 20 'HTTP status 500'
	up_mode slow
	fail_case timeout 40 'Timeout was reached' SHERVE_FETCH_TIMEOUT=2
	ms=$FC_MS
	if [ "$ms" -ge 1500 ] && [ "$ms" -lt 4000 ]; then
		pass "[e:timeout] fetch-timeout 2 gave up after about 2 s"
	else
		fail "[e:timeout] fetch-timeout 2 gave up after about 2 s" "$ms ms"
	fi
	up_mode huge
	fail_case oversize 80 'body larger than max-body' SHERVE_MAX_BODY=65536
	up_mode stream
	fail_case oversize-no-length 160 'body larger than max-body' \
		SHERVE_MAX_BODY=65536
	up_mode truncated
	fail_case truncated 300 'partial file'
	up_mode ok
	write_map -
	fail_case empty 300 'empty body'
	up_mode garbage
	fail_case garbage 300 'no valid line (4 invalid)'
	up_mode ok
	write_map foo bar a1 a2
	fail_case shrink 300 'refused: 4 aliases, 10 stored, max-shrink 50%'
	sv metrics >"$T_TMP/metrics.e" 2>&1
	expect_file_contains "[e] metrics: every failure counted" \
		"$T_TMP/metrics.e" "sherve_refresh_total{result=\"failed\"} $nfail"

	# A good file replaces the map and clears the failure state.
	write_map "${BASE[@]}" newone
	check_exit "[e] a good file: sherve refresh exits 0" 0 sv refresh
	expect_file_contains "[e] it stored 11 aliases" "$C_OUT" 'stored 11 aliases'
	snap
	expect_eq "[e] status: updated" "$(sf 'last result')" updated
	expect_eq "[e] status: last error cleared" "$(sf 'last error')" -
	expect_eq "[e] status: failures reset" "$(sf failures)" 0
	att=$(iso2epoch "$(sf 'last attempt')")
	due=$(iso2epoch "$(sf 'next due')")
	expect_eq "[e] next due is one refresh-interval (300 s) later" \
		"$((due - att))" 300
	expect_eq "[e] status: 11 aliases" "$(sf aliases)" 11
	expect_redirect "[e] the new alias is served" newone
	expect_redirect "[e] an old alias is still served" a8
	sv list >"$T_TMP/list.base" 2>&1

	# The shrink guard, and --force past it.
	write_map foo bar newone a1
	nfail=0
	fail_case shrink-again 10 'refused: 4 aliases, 11 stored, max-shrink 50%'
	check_exit "[e] refresh --force overrides the shrink guard" 0 \
		sv refresh --force
	expect_file_contains "[e] --force stored the 4 aliases" "$C_OUT" \
		'stored 4 aliases'
	expect_file_not_contains "[e] --force sends no If-None-Match" \
		<(up_get last) 'If-None-Match'
	expect_eq "[e] the map now has 4 aliases" "$(sv list 2>/dev/null | wc -l | tr -d ' ')" 4
	check_exit "[e] a removed alias is gone from the store" 1 sv lookup a5
	expect_redirect "[e] a kept alias is served" newone
	# Under 10 aliases half is one or two: such a map loses one at a time.
	write_map foo bar
	check_exit "[e] under 10 aliases, losing 2 of 4 is refused" 1 sv refresh
	expect_file_contains "[e] ... and the message says why" "$C_ERR" \
		'one at a time under 10 aliases'
	write_map foo bar a1
	check_exit "[e] losing one of 4 is accepted" 0 sv refresh
	write_map foo bar
	check_exit "[e] ... and then one more" 0 sv refresh
	expect_eq "[e] the map now has 2 aliases" "$(sv list 2>/dev/null | wc -l | tr -d ' ')" 2

	# Chains and loops across the map, the site named by hostnames: a
	# loop refuses the map (the last good one stays, --force or not); a
	# chain is stored and logged with its path.
	sv list >"$T_TMP/list.base" 2>&1
	printf 'foo https://sherve.test/bar\nbar https://Sherve.Test:8443/foo\n' \
		>"$MAP.tmp"
	mv -f "$MAP.tmp" "$MAP"
	nfail=0
	fail_case loop 10 'refused: line 1: a redirect loop: foo -> bar -> foo' \
		SHERVE_HOSTNAMES=sherve.test
	check_exit "[e:loop] --force does not store a loop" 1 \
		sv SHERVE_HOSTNAMES=sherve.test refresh --force
	expect_redirect "[e:loop] ... and the responder still serves /foo" foo
	# The same loop with its targets percent-encoded: a refresh and
	# sherve check split and decode them in one place (url.c), so both
	# see the loop.
	printf 'foo https://sherve.test/%%62ar\nbar https://sherve.test/%%66oo\n' \
		>"$MAP.tmp"
	mv -f "$MAP.tmp" "$MAP"
	check_exit "[e:loop%] --force does not store a percent-encoded loop" 1 \
		sv SHERVE_HOSTNAMES=sherve.test refresh --force
	expect_file_contains "[e:loop%] ... the refresh names it" "$C_ERR" \
		'refused: line 1: a redirect loop: foo -> bar -> foo'
	check_exit "[e:loop%] sherve check of that file exits 1" 1 \
		sv SHERVE_HOSTNAMES=sherve.test check "$MAP"
	expect_file_contains "[e:loop%] ... and names the same loop" "$C_OUT" \
		'a redirect loop: foo -> bar -> foo'
	expect_redirect "[e:loop%] the responder still serves /foo" foo
	printf 'foo https://sherve.test/bar\nbar https://example.com/bar\n' \
		>"$MAP.tmp"
	mv -f "$MAP.tmp" "$MAP"
	check_exit "[e:chain] a map with a chain: sherve refresh exits 0" 0 \
		sv SHERVE_HOSTNAMES=sherve.test SHERVE_LOG_LEVEL=warn refresh
	expect_file_contains "[e:chain] the chain is logged with its path" \
		"$C_ERR" 'line 1: a chain: foo -> bar -> https://example.com/bar'
	http "$B/foo"
	expect_eq "[e:chain] the chain's first rule is served as written" \
		"$H_STATUS $(header Location)" "301 https://sherve.test/bar"
	write_map foo bar
	check_exit "[e] the plain map again: sherve refresh exits 0" 0 sv refresh

	# (g) sherve check, against this store (foo, bar).
	section "(g) sherve check"
	F=$T_TMP/check.txt
	cat >"$F" <<'EOF'
# line 1: a comment
foo https://example.com/foo-changed
just-one-field
dup https://example.com/dup-1
dup https://example.com/dup-2
index.html https://example.com/shadowed
loop https://example.com/foo
ftp ftp://example.com/not-http
newx https://example.com/newx
EOF
	check_exit "[g] check of a file with invalid lines exits 1" 1 sv check "$F"
	cp "$C_OUT" "$T_TMP/check.out"
	for want in \
		"$F:3: expected 2 fields: alias URL" \
		"$F:8: URL is not absolute http or https" \
		"$F:5: duplicate alias (first line wins)" \
		"$F:6: alias 'index.html' is shadowed by the asset index.html" \
		"$F:7: target of 'loop' is the alias 'foo'" \
		"$F: 5 aliases, 2 invalid lines, 1 duplicates" \
		"~ foo https://example.com/foo -> https://example.com/foo-changed" \
		"- bar https://example.com/bar" \
		"+ newx https://example.com/newx" \
		"+ dup https://example.com/dup-1" \
		"diff against the stored map: 4 added, 1 removed, 1 changed"; do
		expect_file_contains "[g] check prints: $want" "$T_TMP/check.out" "$want"
	done
	expect_file_not_contains "[g] the duplicate's second URL is not in the diff" \
		"$T_TMP/check.out" 'dup-2'
	sv list >"$T_TMP/list.now" 2>&1
	expect_eq "[g] check does not change the store" \
		"$(tr '\n' ' ' <"$T_TMP/list.now")" \
		'bar https://example.com/bar foo https://example.com/foo '
	printf 'foo https://example.com/foo\nbar https://example.com/bar\n' >"$F"
	check_exit "[g] check of a clean file exits 0" 0 sv check "$F"
	expect_file_contains "[g] ... and reports no difference" "$C_OUT" \
		'diff against the stored map: 0 added, 0 removed, 0 changed'
	check_exit "[g] check of the upstream URL exits 0" 0 sv check "$URL"
	expect_file_contains "[g] ... 2 aliases, no invalid line" "$C_OUT" \
		"$URL: 2 aliases, 0 invalid lines, 0 duplicates"

	# (f) restart on the same state dir, with the upstream gone.
	section "(f) restart with the upstream stopped"
	stop_lighttpd -d e
	stop_pid "$UP_PID"
	if start_lighttpd restart STATE_DIR="$T_TMP/state-fail" \
		ENV_SHERVE_REFRESH_INTERVAL=0 ENV_SHERVE_MISS_REFRESH_INTERVAL=3600; then
		expect_redirect "[f] the stored map is served after a restart (/foo)" foo
		expect_redirect "[f] ... and /bar" bar
		http "$B/"
		expect_status "[f] assets work: / is 200" 200
		expect_body_contains "[f] / is index.html" INDEX
		http "$B/style.css"
		expect_status "[f] assets work: /style.css is 200" 200
		http "$B/unknown-after-restart"
		expect_status "[f] a miss with the upstream down is 404" 404
		expect_redirect "[f] the failed miss refresh kept the map" foo
		snap
		expect_eq "[f] status: the miss refresh failure is recorded" \
			"$(sf 'last result')" failed
		expect_match "[f] status: ... as a connection failure" \
			"$(sf 'last error')" "*Couldn't connect*"
		expect_eq "[f] the store still holds 2 aliases" "$(sf aliases)" 2
		stop_lighttpd -d f
	fi
fi

expect_no_5xx "[all] no request got a 5xx"
note "took $(($(ms_since "$T_T0") / 1000)) s"
finish

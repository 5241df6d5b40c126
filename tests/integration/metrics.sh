#!/bin/bash
#
# tests/integration/metrics.sh - sherve's Prometheus metrics, end to end.
#
# sherve runs behind a real lighttpd (mod_fastcgi bin-path, rendered from
# contrib/lighttpd/sherve.conf) with metrics-path /-/metrics; the map is
# loaded with `sherve import`, so no upstream is involved. Checked:
#   (a) exact counts after /, /foo, /bar, /index.html and an unknown path
#       (a scrape is counted after it renders: the next one shows it);
#       the CLI's `sherve metrics` agrees and counts nothing itself;
#       metrics-path is off by default
#   (b) 1,000 parallel requests over 4 processes: exact totals, per status
#       and per alias, in `sherve metrics` and at the metrics path
#   (c) the counts survive a lighttpd restart and a responder killed with
#       SIGKILL (its slot and counts are taken over)
#   (d) the format: promcheck.py (strict, with a self-test) on every
#       exposition, and `promtool check metrics` when it can be had
#   (e) label escaping: an alias with a double quote; an alias with a
#       backslash (unreachable: sherve refuses '\' in paths); long aliases
#       (an older per-alias table kept only the first 104 bytes)
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
PROMCHECK=$T_LIB_DIR/promcheck.py
[ -r "$PROMCHECK" ] || hard_error "$PROMCHECK: missing"
MPATH=/-/metrics

# ---------------------------------------------------------------- helpers

W=$T_TMP/www
# sv ARGS...: the sherve CLI on $SV_STATE (no redirects-url: nothing fetches).
sv() {
	env SHERVE_STATE_DIR="$SV_STATE" SHERVE_WEBROOT="$W" \
		SHERVE_LOG_LEVEL=error "$SHERVE_BIN" "$@"
}

# mval FILE SERIES: the value of the sample SERIES (name{labels} exactly as
# sherve prints it), or "absent".
mval() {
	S=$2 awk '$1 == ENVIRON["S"] { print $2; found = 1 }
		END { if (!found) print "absent" }' "$1"
}

# expect_metric DESC FILE SERIES VALUE
expect_metric() {
	expect_eq "$1: $3" "$(mval "$2" "$3")" "$4"
}

# nlines FILE PREFIX: lines starting with PREFIX (fixed string).
nlines() {
	P=$2 awk 'index($0, ENVIRON["P"]) == 1 { n++ } END { print n + 0 }' "$1"
}

# Every lighttpd here: sherve on its own state, no redirects-url,
# metrics at $MPATH; ready when the port accepts and every responder
# runs (start_lighttpd --procs), no request made: it would be counted.
L_DEFAULTS=(ENV_SHERVE_METRICS_PATH="$MPATH")

# scrape OUT DESC: GET the metrics path into OUT; checks 200 and the type.
scrape() {
	http "$B$MPATH"
	cp "$H_BODY" "$1"
	expect_status "$2: GET $MPATH is 200" 200
	EXPOSITIONS+=("$1")
}
EXPOSITIONS=()

# cli_metrics OUT: `sherve metrics` into OUT (exit status checked).
cli_metrics() {
	check_exit "sherve metrics exits 0 ($(basename "$1"))" 0 sv metrics
	cp "$C_OUT" "$1"
	EXPOSITIONS+=("$1")
}

# syscw PID: write syscalls so far (each answered request makes some).
syscw() {
	awk '$1 == "syscw:" { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------- fixtures

mkdir -p "$W"
printf '<!DOCTYPE html><p>INDEX</p>\n' >"$W/index.html"
printf 'foo https://example.com/foo\nbar https://example.com/bar\n' \
	>"$T_TMP/map.txt"
VERSION=$("$SHERVE_BIN" --version | awk '{ print $2 }')

# ---------------------------------------------------------------- (a)

section "(a) exact counts after five requests (port of servy's metrics test)"
SV_STATE=$T_TMP/state-a
t_import=$(date +%s)
check_exit "[a] sherve import of the map (foo, bar)" 0 sv import "$T_TMP/map.txt"
if start_lighttpd --procs a STATE_DIR="$T_TMP/state-a" MAX_PROCS=2; then
	cli_metrics "$T_TMP/a0.prom"
	expect_metric "[a] before any request" "$T_TMP/a0.prom" \
		sherve_requests_total 0
	http "$B/"
	expect_status "[a] / is 200" 200
	http "$B/foo"
	expect_status "[a] /foo is 301" 301
	http "$B/bar"
	expect_status "[a] /bar is 301" 301
	http "$B/index.html"
	expect_status "[a] /index.html is 200" 200
	http "$B/unknown"
	expect_status "[a] /unknown is 404" 404

	scrape "$T_TMP/a1.prom" "[a] first scrape"
	expect_header "[a] the exposition's Content-Type" Content-Type \
		'text/plain; version=0.0.4; charset=utf-8'
	expect_header "[a] the exposition is not cached" Cache-Control no-store
	M=$T_TMP/a1.prom
	expect_metric "[a] the scrape does not count itself" "$M" \
		sherve_requests_total 5
	expect_metric "[a]" "$M" 'sherve_responses_total{status="200"}' 2
	expect_metric "[a]" "$M" 'sherve_responses_total{status="301"}' 2
	expect_metric "[a]" "$M" 'sherve_responses_total{status="404"}' 1
	expect_eq "[a] no other status has a sample" \
		"$(nlines "$M" 'sherve_responses_total{')" 3
	expect_metric "[a]" "$M" 'sherve_redirects_served_total{alias="foo"}' 1
	expect_metric "[a]" "$M" 'sherve_redirects_served_total{alias="bar"}' 1
	expect_eq "[a] only the served aliases have a sample" \
		"$(nlines "$M" 'sherve_redirects_served_total{')" 2
	expect_metric "[a]" "$M" sherve_redirects_served_other_total 0
	expect_metric "[a]" "$M" sherve_redirects_defined 2
	expect_metric "[a] the import counts as a refresh" "$M" \
		'sherve_refresh_total{result="updated"}' 1
	expect_metric "[a]" "$M" 'sherve_refresh_total{result="not_modified"}' 0
	expect_metric "[a]" "$M" 'sherve_refresh_total{result="failed"}' 0
	expect_metric "[a]" "$M" sherve_request_duration_seconds_count 5
	expect_metric "[a]" "$M" 'sherve_request_duration_seconds_bucket{le="+Inf"}' 5
	expect_metric "[a]" "$M" "sherve_build_info{version=\"$VERSION\"}" 1
	ts=$(mval "$M" sherve_refresh_last_success_timestamp_seconds)
	now=$(date +%s)
	if [ "$ts" -ge "$t_import" ] 2>/dev/null && [ "$ts" -le "$now" ]; then
		pass "[a] last success timestamp is the import's time"
	else
		fail "[a] last success timestamp is the import's time" \
			"$ts, want $t_import..$now"
	fi
	bytes1=$(mval "$M" sherve_response_bytes_total)
	# Each answer is at least its status line's worth of bytes; /, /foo
	# ... together send well over 200 bytes of headers and bodies.
	if [ "$bytes1" -gt 200 ] 2>/dev/null; then
		pass "[a] response bytes are counted ($bytes1)"
	else
		fail "[a] response bytes are counted" "$bytes1"
	fi

	scrape "$T_TMP/a2.prom" "[a] second scrape"
	M=$T_TMP/a2.prom
	expect_metric "[a] the first scrape is counted once it has been answered" \
		"$M" sherve_requests_total 6
	expect_metric "[a] ... as a 200" "$M" 'sherve_responses_total{status="200"}' 3
	expect_metric "[a]" "$M" 'sherve_responses_total{status="301"}' 2
	expect_metric "[a]" "$M" sherve_request_duration_seconds_count 6
	bytes2=$(mval "$M" sherve_response_bytes_total)
	size1=$(wc -c <"$T_TMP/a1.prom" | tr -d ' ')
	d=$((bytes2 - bytes1))
	if [ "$d" -ge "$size1" ] && [ "$d" -le $((size1 + 512)) ]; then
		pass "[a] the first scrape's bytes ($d) = its body ($size1) + headers"
	else
		fail "[a] the first scrape's bytes = its body + headers" \
			"$d for a body of $size1"
	fi

	cli_metrics "$T_TMP/a3.prom"
	expect_metric "[a] sherve metrics sees both scrapes" "$T_TMP/a3.prom" \
		sherve_requests_total 7
	expect_metric "[a] sherve metrics" "$T_TMP/a3.prom" \
		'sherve_responses_total{status="200"}' 4
	cli_metrics "$T_TMP/a4.prom"
	expect_metric "[a] sherve metrics does not count itself" "$T_TMP/a4.prom" \
		sherve_requests_total 7
	stop_lighttpd a
fi

# metrics-path is empty by default: the path is then an ordinary miss.
# One CGI request (no web server needed) on a throwaway state dir.
out=$(env SHERVE_STATE_DIR="$T_TMP/state-off" SHERVE_WEBROOT="$W" \
	SHERVE_LOG_LEVEL=error GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
	REQUEST_URI="$MPATH" SCRIPT_NAME= "$SHERVE_BIN" 2>/dev/null | head -n 1 |
	tr -d '\r')
expect_eq "[a] without metrics-path, $MPATH is a 404" "$out" \
	'Status: 404 Not Found'

# ---------------------------------------------------------------- (b)

section "(b) 1,000 parallel requests over 4 processes"
SV_STATE=$T_TMP/state-b
check_exit "[b] sherve import of the map" 0 sv import "$T_TMP/map.txt"
if start_lighttpd --procs b STATE_DIR="$T_TMP/state-b" MAX_PROCS=4; then
	pids=$(sherve_procs "$L_PID")
	declare -A before
	for p in $pids; do before[$p]=$(syscw "$p"); done
	urls=()
	for i in $(seq 1 1000); do
		case $((i % 10)) in
		0 | 1 | 2 | 3) urls+=("$B/foo") ;;
		4) urls+=("$B/bar?n=$i") ;;
		5 | 6 | 7) urls+=("$B/index.html") ;;
		*) urls+=("$B/nope-$i") ;;
		esac
	done
	t0=$EPOCHREALTIME
	parallel_get "$T_TMP/b.codes" "${urls[@]}"
	note "[b] 1000 requests in $(ms_since "$t0") ms"
	expect_eq "[b] the client got 500 x 301" "$(grep -c '^301$' "$T_TMP/b.codes")" 500
	expect_eq "[b] the client got 300 x 200" "$(grep -c '^200$' "$T_TMP/b.codes")" 300
	expect_eq "[b] the client got 200 x 404" "$(grep -c '^404$' "$T_TMP/b.codes")" 200
	busy=0
	spread=
	for p in $pids; do
		d=$(($(syscw "$p") - ${before[$p]:-0}))
		spread+=" $p:$d"
		[ "$d" -ge 20 ] && busy=$((busy + 1))
	done
	note "[b] write syscalls per responder:$spread"
	if [ "$busy" -ge 2 ]; then
		pass "[b] the requests were spread over several processes ($busy of 4)"
	else
		fail "[b] the requests were spread over several processes" "$spread"
	fi

	cli_metrics "$T_TMP/b1.prom"
	M=$T_TMP/b1.prom
	expect_metric "[b] sherve metrics" "$M" sherve_requests_total 1000
	expect_metric "[b] sherve metrics" "$M" 'sherve_responses_total{status="301"}' 500
	expect_metric "[b] sherve metrics" "$M" 'sherve_responses_total{status="200"}' 300
	expect_metric "[b] sherve metrics" "$M" 'sherve_responses_total{status="404"}' 200
	expect_metric "[b] sherve metrics" "$M" 'sherve_redirects_served_total{alias="foo"}' 400
	expect_metric "[b] sherve metrics" "$M" 'sherve_redirects_served_total{alias="bar"}' 100
	expect_metric "[b] sherve metrics" "$M" sherve_request_duration_seconds_count 1000
	expect_metric "[b] sherve metrics" "$M" 'sherve_request_duration_seconds_bucket{le="+Inf"}' 1000
	scrape "$T_TMP/b2.prom" "[b] scrape"
	M=$T_TMP/b2.prom
	expect_metric "[b] at the metrics path" "$M" sherve_requests_total 1000
	expect_metric "[b] at the metrics path" "$M" 'sherve_responses_total{status="301"}' 500
	expect_metric "[b] at the metrics path" "$M" 'sherve_responses_total{status="200"}' 300
	expect_metric "[b] at the metrics path" "$M" 'sherve_responses_total{status="404"}' 200
	expect_metric "[b] at the metrics path" "$M" 'sherve_redirects_served_total{alias="foo"}' 400
	check "[b] the metrics path shows what sherve metrics showed, byte for byte" \
		cmp "$T_TMP/b1.prom" "$M"
	cli_metrics "$T_TMP/b3.prom"
	expect_metric "[b] after the scrape" "$T_TMP/b3.prom" sherve_requests_total 1001
	expect_metric "[b] after the scrape" "$T_TMP/b3.prom" \
		'sherve_responses_total{status="200"}' 301

	# ------------------------------------------------------------ (c)
	section "(c) counts survive a restart and a killed responder"
	stop_lighttpd b
	cli_metrics "$T_TMP/c0.prom"
	expect_metric "[c] with lighttpd stopped" "$T_TMP/c0.prom" \
		sherve_requests_total 1001
	if start_lighttpd --procs b2 STATE_DIR="$T_TMP/state-b" MAX_PROCS=4; then
		cli_metrics "$T_TMP/c1.prom"
		expect_metric "[c] after the restart, before any request" \
			"$T_TMP/c1.prom" sherve_requests_total 1001
		expect_metric "[c] after the restart" "$T_TMP/c1.prom" \
			'sherve_redirects_served_total{alias="foo"}' 400
		expect_metric "[c] after the restart" "$T_TMP/c1.prom" \
			'sherve_responses_total{status="404"}' 200
		urls=()
		for i in $(seq 1 10); do urls+=("$B/foo"); done
		parallel_get "$T_TMP/c.codes" "${urls[@]}"
		cli_metrics "$T_TMP/c2.prom"
		expect_metric "[c] 10 more requests" "$T_TMP/c2.prom" \
			sherve_requests_total 1011
		expect_metric "[c] 10 more requests" "$T_TMP/c2.prom" \
			'sherve_redirects_served_total{alias="foo"}' 410
		expect_metric "[c] 10 more requests" "$T_TMP/c2.prom" \
			'sherve_responses_total{status="301"}' 510

		# SIGKILL one responder (a child of our lighttpd): its slot
		# stays with its counts; its successor takes it over.
		victim=$(sherve_procs "$L_PID" | head -n 1)
		kill -KILL "$victim" 2>/dev/null
		t_wait_gone "$victim" 50
		if wait_procs "$L_PID" 4; then
			note "[c] lighttpd replaced the killed responder $victim"
		else
			note "[c] lighttpd runs $(sherve_procs "$L_PID" | wc -l) responders after the kill"
		fi
		cli_metrics "$T_TMP/c3.prom"
		expect_metric "[c] a responder killed with SIGKILL loses no count" \
			"$T_TMP/c3.prom" sherve_requests_total 1011
		urls=()
		for i in $(seq 1 20); do urls+=("$B/bar"); done
		parallel_get "$T_TMP/c.codes" "${urls[@]}"
		expect_eq "[c] 20 requests after the kill are answered 301" \
			"$(grep -c '^301$' "$T_TMP/c.codes")" 20
		cli_metrics "$T_TMP/c4.prom"
		expect_metric "[c] after the kill, counting goes on" "$T_TMP/c4.prom" \
			sherve_requests_total 1031
		expect_metric "[c] after the kill" "$T_TMP/c4.prom" \
			'sherve_redirects_served_total{alias="bar"}' 120
		scrape "$T_TMP/c5.prom" "[c] scrape"
		expect_metric "[c] at the metrics path" "$T_TMP/c5.prom" \
			sherve_requests_total 1031
		stop_lighttpd c
	fi
fi

# ---------------------------------------------------------------- (e)

section "(e) label escaping and long aliases"
SV_STATE=$T_TMP/state-e
LONG_A=$(printf 'x%.0s' $(seq 1 104))A
LONG_B=$(printf 'x%.0s' $(seq 1 104))B
# 1 + 2 * 60 bytes: the 104th byte is the first half of an 'é'.
LONG_U=x$(printf '\303\251%.0s' $(seq 1 60))
{
	printf 'foo https://example.com/foo\n'
	printf 'q"uote https://example.com/quote\n'
	printf 'back\\slash https://example.com/backslash\n'
	printf '%s https://example.com/long-a\n' "$LONG_A"
	printf '%s https://example.com/long-b\n' "$LONG_B"
	printf '%s https://example.com/long-u\n' "$LONG_U"
} >"$T_TMP/map-e.txt"
check_exit "[e] sherve import of a map with odd aliases" 0 \
	sv import "$T_TMP/map-e.txt"
expect_file_contains "[e] all 6 aliases were stored" "$C_OUT" 'stored 6 aliases'
if start_lighttpd --procs e STATE_DIR="$T_TMP/state-e" MAX_PROCS=1; then
	http "$B/q%22uote"
	expect_status "[e] /q%22uote is 301" 301
	http "$B/back%5Cslash"
	expect_status "[e] /back%5Cslash is 404 (sherve refuses '\\' in a path)" 404
	scrape "$T_TMP/e1.prom" "[e] scrape"
	expect_file_contains "[e] the double quote is escaped in the label" \
		"$T_TMP/e1.prom" 'sherve_redirects_served_total{alias="q\"uote"} 1'
	expect_eq "[e] no other alias label" \
		"$(nlines "$T_TMP/e1.prom" 'sherve_redirects_served_total{')" 1

	http "$B/$LONG_A"
	expect_status "[e] the first long alias is 301" 301
	http "$B/$LONG_B"
	expect_status "[e] the second long alias is 301" 301
	http "$B/$(printf '%s' "$LONG_U" | od -An -tx1 -v | tr -d ' \n' |
		sed 's/\(..\)/%\1/g')"
	expect_status "[e] the long non-ASCII alias is 301" 301
	scrape "$T_TMP/e2.prom" "[e] scrape after the long aliases"
	# Checked here on its own rather than with the others in (d). An
	# alias may have up to 500 bytes: the label must name that one alias
	# whole and be UTF-8 (Prometheus rejects a scrape with an invalid
	# label value); sherve once kept only 104 bytes of it.
	unset 'EXPOSITIONS[-1]'
	n_a=$(grep -cF "alias=\"$LONG_A\"} 1" "$T_TMP/e2.prom")
	n_b=$(grep -cF "alias=\"$LONG_B\"} 1" "$T_TMP/e2.prom")
	expect_eq "[e] two long aliases with the same first 104 bytes each have a series labelled with the alias" \
		"$n_a/$n_b" 1/1
	if python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' \
		"$T_TMP/e2.prom" 2>/dev/null; then
		pass "[e] the exposition is UTF-8 after a long non-ASCII alias was served"
	else
		fail "[e] the exposition is UTF-8 after a long non-ASCII alias was served" \
			"$(grep -a 'alias="x' "$T_TMP/e2.prom" | tail -n 1 | od -c | tail -n 3 | head -n 2)"
	fi
	if python3 "$PROMCHECK" "$T_TMP/e2.prom" >"$T_TMP/e2.check" 2>&1; then
		pass "[e] promcheck: the exposition after the long aliases is valid"
	else
		fail "[e] promcheck: the exposition after the long aliases is valid" \
			"$(cat "$T_TMP/e2.check")"
	fi
	stop_lighttpd e
fi

# ---------------------------------------------------------------- (d)

section "(d) the exposition format"
PROMTOOL=$(command -v promtool 2>/dev/null)
check_exit "[d] promcheck.py --self-test finds every planted defect" 0 \
	python3 "$PROMCHECK" --self-test
note "[d] expositions checked: $(for f in "${EXPOSITIONS[@]}"; do basename "$f"; done | tr '\n' ' ')"
check_exit "[d] promcheck: all ${#EXPOSITIONS[@]} expositions (CLI and HTTP) are valid" 0 \
	python3 "$PROMCHECK" "${EXPOSITIONS[@]}"
if [ "$C_RC" -ne 0 ]; then
	grep -v '0 problems$' "$C_OUT" | head -n 20 | sed 's/^/# /'
fi
for f in "${EXPOSITIONS[@]}"; do
	if [ -n "$PROMTOOL" ]; then
		C_STDIN=$f check_exit "[d] promtool check metrics: $(basename "$f")" 0 \
			"$PROMTOOL" check metrics
	fi
done
if [ -z "$PROMTOOL" ]; then
	skip "[d] promtool check metrics" "promtool not available (apt-get install prometheus)"
fi

expect_no_5xx "[all] no request got a 5xx"
note "took $(($(ms_since "$T_T0") / 1000)) s"
finish

#!/usr/bin/env bash
# tests/soak/soak.sh - `make soak`: sherve behind lighttpd (max-procs 2) at
# full load for SOAK_SECONDS (default 600) while the upstream map flips
# between two versions every second and a refresh is due every second.
#
# Prints, and fails unless all hold:
#   - zero failed requests (wrk: no socket errors, no non-2xx/3xx; the
#     checking client: every answer as expected, no 5xx);
#   - zero mixed-map answers: an alias that exists only in version A never
#     answers with a version-B target (and the reverse), and an alias that
#     exists in both versions is never missing (a torn map would show it);
#     and every second the whole stored map (sherve list) is exactly A or B;
#   - worker RSS flat within 10% from the end of the warm-up (minute 2, or
#     half-time for runs under 4 minutes) to the end.
. "$(dirname "$0")/../integration/lib.sh"

secs=${SOAK_SECONDS:-600}
need_cmd wrk
need_cmd curl
LIGHTTPD=$(lighttpd_path) || skip_all "lighttpd is not installed"
warm=$((secs >= 240 ? 120 : secs / 2))

www=$T_TMP/www
state=$T_TMP/state
mkdir -p "$www/css" "$state"
head -c 20000 /dev/urandom | base64 >"$www/index.html"
head -c 3000 /dev/urandom | base64 >"$www/css/site.css"
head -c 400000 /dev/urandom >"$www/big.bin"
# Version A and B share c1..c200 (targets differ by host) and each has
# aliases of its own.
for v in a b; do
	{
		for i in $(seq 200); do echo "c$i https://$v.example/c$i"; done
		for i in $(seq 50); do echo "$v$i https://$v.example/$v$i"; done
	} >"$T_TMP/map-$v.txt"
done
cp "$T_TMP/map-a.txt" "$T_TMP/current.txt"

start_lighttpd soak RUNDIR="$T_TMP/run" WEBROOT="$www" \
	REDIRECTS_URL="file://$T_TMP/current.txt" STATE_DIR="$state" \
	ENV_SHERVE_REFRESH_INTERVAL=1 ENV_SHERVE_MISS_REFRESH_INTERVAL=3600 \
	ENV_SHERVE_MAX_SHRINK=100 ENV_SHERVE_LOG_LEVEL=warn ||
	hard_error "lighttpd did not start"
port=$L_PORT
lpid=$L_PID

# The upstream flips every second (an atomic rename, as an editor saves).
flipper() {
	local end=$(($(date +%s) + secs)) v=b
	while [ "$(date +%s)" -lt "$end" ]; do
		cp "$T_TMP/map-$v.txt" "$T_TMP/next.txt"
		mv "$T_TMP/next.txt" "$T_TMP/current.txt"
		if [ "$v" = a ]; then v=b; else v=a; fi
		sleep 1
	done
}
flipper &
T_PIDS+=($!)

# Full load: wrk over assets and common aliases (no Lua response hook).
cat >"$T_TMP/paths.lua" <<'LUA'
local paths = { "/", "/css/site.css", "/big.bin" }
for i = 1, 200 do paths[#paths + 1] = "/c" .. i end
local n = 0
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
LUA
start_bg "$T_TMP/wrk.out" wrk -t1 -c8 -d"${secs}s" -s "$T_TMP/paths.lua" \
	"http://127.0.0.1:$port/"
wrk_pid=$BG_PID

# The checking client: bounded by time; classifies every answer.
checker() {
	local end=$(($(date +%s) + secs - 1)) i alias out code loc
	local n=0 bad=0 mixed=0
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((RANDOM % 50 + 1))
		for alias in "c$((RANDOM % 200 + 1))" "a$i" "b$i"; do
			out=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{redirect_url}' \
				"http://127.0.0.1:$port/$alias") || out="000 "
			code=${out%% *}
			loc=${out#* }
			n=$((n + 1))
			case $alias:$code in
			c*:301)
				[[ $loc =~ ^https://[ab]\.example/$alias$ ]] || mixed=$((mixed + 1)) ;;
			a*:301)
				[ "$loc" = "https://a.example/$alias" ] || mixed=$((mixed + 1)) ;;
			b*:301)
				[ "$loc" = "https://b.example/$alias" ] || mixed=$((mixed + 1)) ;;
			[ab]*:404) ;;
			c*:404) mixed=$((mixed + 1)) ;;
			*) bad=$((bad + 1)) ;;
			esac
		done
	done
	echo "$n $bad $mixed" >"$T_TMP/checker.out"
}
checker &
checker_pid=$!
T_PIDS+=("$checker_pid")

# The whole stored map, read by a separate reader every second, must be
# version A or version B exactly: a torn or merged map shows here even
# for aliases no request happened to ask for.
for v in a b; do
	awk '{ print $1, $2 }' "$T_TMP/map-$v.txt" | LC_ALL=C sort >"$T_TMP/sorted-$v"
done
snapper() {
	local end=$(($(date +%s) + secs - 1)) n=0 torn=0
	while [ "$(date +%s)" -lt "$end" ]; do
		SHERVE_STATE_DIR=$state "$SHERVE_BIN" list 2>/dev/null |
			awk '{ print $1, $2 }' | LC_ALL=C sort >"$T_TMP/snap"
		n=$((n + 1))
		cmp -s "$T_TMP/snap" "$T_TMP/sorted-a" ||
			cmp -s "$T_TMP/snap" "$T_TMP/sorted-b" || torn=$((torn + 1))
		sleep 1
	done
	echo "$n $torn" >"$T_TMP/snapper.out"
}
snapper &
snapper_pid=$!
T_PIDS+=("$snapper_pid")

# Sample the workers' RSS (KiB, summed) every 10 s.
rss_sum() {
	local p sum=0 r
	for p in $(children_of "$lpid"); do
		r=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || r=0
		sum=$((sum + ${r:-0}))
	done
	echo "$sum"
}
start=$(date +%s)
: >"$T_TMP/rss.txt"
while alive "$wrk_pid"; do
	sleep 10
	echo "$(($(date +%s) - start)) $(rss_sum)" >>"$T_TMP/rss.txt"
done
wait "$checker_pid" 2>/dev/null || true
wait "$snapper_pid" 2>/dev/null || true
read -r nsnap torn <"$T_TMP/snapper.out"

read -r n bad mixed <"$T_TMP/checker.out"
reqs=$(awk '/requests in/ {print $1}' "$T_TMP/wrk.out")
errs=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$T_TMP/wrk.out")
non23=$(awk '/Non-2xx/ {print $5}' "$T_TMP/wrk.out")
refreshes=$(SHERVE_STATE_DIR=$state "$SHERVE_BIN" metrics |
	awk '/^sherve_refresh_total\{result="updated"\}/ {print $2}')
read -r rss_warm rss_end < <(awk -v w="$warm" '
	$1 >= w && first == "" { first = $2 } { last = $2 }
	END { print first + 0, last + 0 }' "$T_TMP/rss.txt")

note "soak: ${secs} s, wrk ${reqs:-0} requests, checker $n requests, $refreshes map refreshes"
note "soak: worker RSS ${rss_warm} KiB after warm-up, ${rss_end} KiB at the end"
expect_eq "wrk: no socket errors" "${errs:-0}" 0
expect_eq "wrk: no non-2xx/3xx answers" "${non23:-0}" 0
expect_eq "checker: every answer as expected" "$bad" 0
expect_eq "checker: zero mixed-map answers" "$mixed" 0
note "soak: $nsnap whole-map snapshots (sherve list)"
expect_eq "every whole-map snapshot is version A or B exactly" "$torn" 0
check "whole-map snapshots were taken (>= secs/4)" test "${nsnap:-0}" -ge $((secs / 4))
check "the map really flipped during the run (>= secs/4 refreshes)" \
	test "${refreshes:-0}" -ge $((secs / 4))
check "worker RSS flat within 10% from warm-up to the end" \
	awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN { exit !(a > 0 && b <= a * 1.10 && b >= a * 0.90) }'
check "lighttpd still running" alive "$lpid"
finish

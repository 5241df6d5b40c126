#!/bin/bash
#
# tests/integration/silent.sh - no misconfiguration fails silently, and
# fixing one needs no restart.
#
# Each case of issue 15 that failed without a word, and the store half of
# its "workers recover by themselves":
#   (a) commands refused for their settings create nothing (refresh
#       without or with a bad redirects-url, import of a missing file);
#   (b) an unknown SHERVE_* variable is warned about, with the name meant;
#       SHERVE_BIN and SHERVE_CONFIG are not; behind lighttpd too;
#   (c) status tells "no store yet" from "cannot read the store:
#       Permission denied" (as www-data, on a root-only state dir);
#   (d) files and dirs sherve creates honour the umask (002 and 027);
#   (e) an HTML page or a binary body is refused with one line, the map
#       kept; once the upstream serves the raw file, the next refresh
#       stores it;
#   (f) per-line warnings stop at 20, then one line counts the rest;
#   (g) the shrink guard protects small maps: one alias at a time under
#       10, half above;
#   (h) behind lighttpd, a state dir that cannot be made (a file in the
#       way): assets are 200, aliases 503 with Retry-After, the request
#       log says why, the error is logged once per process; once the
#       admin makes the dir, within a tick and without a restart aliases
#       are 301 and metrics 200 again, "served again" logged once;
#   (i) behind lighttpd running sherve as www-data, a state dir it cannot
#       read: the same, fixed by a chown;
#   (j) two lighttpd sites on one state dir with different
#       redirects-urls: the second neither stores its map nor lets a
#       command store it; stopping the first lets the second take over,
#       and serve its own map, within a tick.
#
# Needs curl and python3; the lighttpd parts skip without lighttpd, the
# www-data parts without root and setpriv.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd curl python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
chmod 0755 "$T_TMP"

MAP=$T_TMP/map.txt
printf 'foo https://example.com/foo\nbar https://example.com/bar\n' >"$MAP"
W=$T_TMP/www
mkdir -p "$W"
printf 'ASSET\n' >"$W/a.txt"
chmod -R a+rX "$W"

# lines FILE: the number of lines in FILE.
lines() {
	wc -l <"$1" | tr -d ' '
}

# ---------------------------------------------------------------- (a)

NEW=$T_TMP/never
check_exit "(a) refresh without redirects-url exits 78" 78 \
	"$SHERVE_BIN" --state-dir "$NEW" refresh
expect_file_contains "(a) ... and says so" "$C_ERR" 'redirects-url: not set'
check "(a) ... and creates no state dir" test ! -e "$NEW"
check_exit "(a) refresh of an ftp:// URL exits 78" 78 \
	"$SHERVE_BIN" --state-dir "$NEW" --redirects-url ftp://example.com/r refresh
check "(a) ... and creates no state dir" test ! -e "$NEW"
check_exit "(a) import of a missing file exits 1" 1 \
	"$SHERVE_BIN" --state-dir "$NEW" import "$T_TMP/no-such-file"
expect_file_contains "(a) ... and names it" "$C_ERR" 'no-such-file: No such file'
check "(a) ... and creates no state dir" test ! -e "$NEW"

# ---------------------------------------------------------------- (b)

ST=$T_TMP/state
"$SHERVE_BIN" --state-dir "$ST" import "$MAP" >/dev/null 2>&1 ||
	hard_error "cannot fill $ST"
C_STDIN=/dev/null check_exit "(b) a command with SHERVE_REDIRECT_URL set still runs" 0 \
	env SHERVE_REDIRECT_URL=http://example.com/r SHERVE_STATE_DIR="$ST" \
	"$SHERVE_BIN" lookup foo
expect_file_contains "(b) ... and warns about the variable, naming the setting meant" \
	"$C_ERR" 'SHERVE_REDIRECT_URL is not a sherve setting and is ignored (did you mean SHERVE_REDIRECTS_URL?)'
expect_eq "(b) ... once" "$(grep -c SHERVE_REDIRECT_URL "$C_ERR")" 1
check_exit "(b) SHERVE_BIN, SHERVE_CONFIG and settings: no warning" 0 \
	env SHERVE_BIN=/x SHERVE_CONFIG=/dev/null SHERVE_STATE_DIR="$ST" \
	"$SHERVE_BIN" lookup foo
expect_eq "(b) ... stderr is empty" "$(wc -c <"$C_ERR" | tr -d ' ')" 0
check_exit "(b) a name far from any setting: a warning without a guess" 0 \
	env SHERVE_NOTHING_LIKE_IT=1 "$SHERVE_BIN" --state-dir "$ST" lookup foo
expect_file_contains "(b) ... it is named" "$C_ERR" \
	'SHERVE_NOTHING_LIKE_IT is not a sherve setting and is ignored'
expect_file_not_contains "(b) ... and no name is guessed" "$C_ERR" 'did you mean'

# ---------------------------------------------------------------- (c)

check_exit "(c) status on an empty state dir exits 74" 74 \
	"$SHERVE_BIN" --state-dir "$T_TMP/empty-state" status
expect_file_contains "(c) ... no store yet" "$C_ERR" 'no store yet'
AS_WWW=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	id www-data >/dev/null 2>&1; then
	AS_WWW="setpriv --reuid=www-data --regid=www-data --clear-groups --"
fi
if [ -n "$AS_WWW" ]; then
	ROOTONLY=$T_TMP/root-only
	cp -r "$ST" "$ROOTONLY"
	chmod 0700 "$ROOTONLY"
	check_exit "(c) status as www-data on a root-only store exits 74" 74 \
		$AS_WWW "$SHERVE_BIN" --state-dir "$ROOTONLY" status
	expect_file_contains "(c) ... cannot read the store: Permission denied" \
		"$C_ERR" 'cannot read the store'
	expect_file_contains "(c) ... (Permission denied)" "$C_ERR" 'Permission denied'
	expect_file_not_contains "(c) ... not 'no store yet'" "$C_ERR" 'no store yet'
else
	skip "(c) status as www-data" "needs root, setpriv and www-data"
fi

# ---------------------------------------------------------------- (d)

# modes_of DIR: "dir file lock refresh-lock metrics" octal modes.
modes_of() {
	stat -c '%a' "$1" "$1/redirects.mdb" "$1/redirects.mdb-lock" \
		"$1/refresh.lock" "$1/metrics.shm" | tr '\n' ' '
}
for um in 002 027; do
	d=$T_TMP/umask-$um
	(
		umask "$um"
		"$SHERVE_BIN" --state-dir "$d" import "$MAP" >/dev/null 2>&1
		GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/foo \
			"$SHERVE_BIN" --state-dir "$d" >/dev/null 2>&1
	)
	if [ "$um" = 002 ]; then
		want='775 664 664 664 664 '
	else
		want='750 640 640 640 640 '
	fi
	expect_eq "(d) umask $um: dir, store, lock, refresh.lock, metrics.shm" \
		"$(modes_of "$d")" "$want"
done

# ---------------------------------------------------------------- (e)

start_upstream --name up "$T_TMP/served"
cp "$MAP" "$T_TMP/served"
EST=$T_TMP/state-e
es() {
	"$SHERVE_BIN" --state-dir "$EST" --redirects-url "$UP/r.txt" "$@"
}
check_exit "(e) a first refresh stores the map" 0 es refresh
{
	printf '\n\n<!DOCTYPE html>\n<html lang="en"><head><title>gist</title></head>\n<body>\n'
	for i in $(seq 1 300); do
		printf '<div class="line">foo%d https://example.com/%d</div>\n' "$i" "$i"
	done
	printf 'only https://example.com/one-line-that-parses\n</body></html>\n'
} >"$T_TMP/served"
check_exit "(e) an HTML page: refresh exits 1" 1 es refresh
expect_eq "(e) ... with one line on stderr" "$(lines "$C_ERR")" 1
expect_file_contains "(e) ... that says what it is" "$C_ERR" \
	'refused: an HTML page, not a redirects file: use the raw URL'
check_exit "(e) ... the map is kept" 0 es lookup bar
es status >"$T_TMP/status-e" 2>&1
expect_file_contains "(e) ... status shows it as the last error" \
	"$T_TMP/status-e" 'an HTML page, not a redirects file'
head -c 30000 /dev/urandom >"$T_TMP/served"
check_exit "(e) a binary body: refresh exits 1" 1 es refresh
expect_eq "(e) ... with one line on stderr" "$(lines "$C_ERR")" 1
expect_file_contains "(e) ... that says what it is" "$C_ERR" \
	'refused: a binary file, not a redirects file'
{ cat "$MAP"; printf 'baz https://example.com/baz\n'; } >"$T_TMP/served"
check_exit "(e) the raw file again: the next refresh stores it" 0 es refresh
check_exit "(e) ... with its new alias" 0 es lookup baz

# ---------------------------------------------------------------- (f)

{
	for i in $(seq 1 100); do printf 'bad%d has three fields\n' "$i"; done
	cat "$MAP"
} >"$T_TMP/noisy.txt"
check_exit "(f) a file with 100 bad lines imports its good ones" 0 \
	"$SHERVE_BIN" --state-dir "$T_TMP/state-f" import "$T_TMP/noisy.txt"
expect_eq "(f) 20 lines are logged one by one" \
	"$(grep -c 'skipped: expected 2 fields' "$C_ERR")" 20
expect_file_contains "(f) ... then one line counts the other 80" "$C_ERR" \
	'80 more lines skipped, not logged one by one'
expect_eq "(f) ... 21 lines in all" "$(lines "$C_ERR")" 21

# ---------------------------------------------------------------- (g)

# gmap N: a map of aliases s1..sN.
gmap() {
	local i
	for ((i = 1; i <= $1; i++)); do
		printf 's%d https://example.com/%d\n' "$i" "$i"
	done >"$T_TMP/g.txt"
}
gs() {
	"$SHERVE_BIN" --state-dir "$T_TMP/state-g" "$@"
}
gmap 3
check_exit "(g) a map of 3" 0 gs import "$T_TMP/g.txt"
gmap 1
check_exit "(g) 3 -> 1 is refused" 1 gs import "$T_TMP/g.txt"
expect_file_contains "(g) ... one at a time under 10 aliases" "$C_ERR" \
	'one at a time under 10 aliases'
gmap 2
check_exit "(g) 3 -> 2 is stored" 0 gs import "$T_TMP/g.txt"
gmap 1
check_exit "(g) 2 -> 1 is stored" 0 gs import "$T_TMP/g.txt"
gmap 12
check_exit "(g) 1 -> 12" 0 gs import "$T_TMP/g.txt"
gmap 6
check_exit "(g) 12 -> 6 (half, max-shrink 50) is stored" 0 gs import "$T_TMP/g.txt"
gmap 4
check_exit "(g) 6 -> 4 is refused" 1 gs import "$T_TMP/g.txt"
check_exit "(g) ... unless --force" 0 gs import --force "$T_TMP/g.txt"
gmap 1
check_exit "(g) 4 -> 1 with max-shrink 100 (guard off) is stored" 0 \
	gs --max-shrink 100 import "$T_TMP/g.txt"

# ---------------------------------------------------------------- lighttpd

if ! lighttpd_path >/dev/null; then
	skip "(h)-(j) behind lighttpd" "lighttpd is not installed"
	finish
fi
cp "$MAP" "$T_TMP/served"

# site NAME STATE URL USER [ENV_X=V...]: lighttpd for one site (2 sherve
# processes, as USER unless "-"). Sets L_RUN, L_PID, B.
site() {
	local name=$1 state=$2 url=$3 user=$4
	shift 4
	start_lighttpd --user "$user" "$name" "$@" STATE_DIR="$state" \
		REDIRECTS_URL="$url" ||
		hard_error "lighttpd '$name' did not start"
}

# until_status WANT PATH: GET PATH until it answers WANT, for up to 1 s
# (a tick is a few ms; the first answer may also fetch the map). Sets
# U_MS, the time it took.
until_status() {
	local t0=$EPOCHREALTIME n=0 now
	while :; do
		http "$B$2"
		n=$((n + 1))
		now=$EPOCHREALTIME
		U_MS=$(((${now%.*} - ${t0%.*}) * 1000 + (10#${now#*.} - 10#${t0#*.}) / 1000))
		[ "$H_STATUS" = "$1" ] && return 0
		[ "$U_MS" -ge 1000 ] && return 1
	done
}

# lines_in LOG PATTERN: lines of LOG matching PATTERN (fixed string).
lines_in() {
	grep -cF -- "$2" "$1" 2>/dev/null
}

# down_then_up LABEL FIXCMD...: the site at $B cannot open its store; run
# the checks of a missing store, then FIXCMD, then those of a whole site.
down_then_up() {
	local l=$1 log=$L_RUN/sherve.log
	shift
	http "$B/a.txt"
	expect_status "[$l] assets are served: /a.txt is 200" 200
	http "$B/foo"
	expect_status "[$l] an alias is 503" 503
	expect_header "[$l] ... with Retry-After" Retry-After 5
	expect_header "[$l] ... not cached" Cache-Control no-store
	http "$B/-/metrics"
	expect_status "[$l] metrics are 503" 503
	for _ in $(seq 1 20); do http -o /dev/null "$B/foo"; done
	expect_between "[$l] the failure is logged once per process, 22 requests on" \
		"$(grep '"level":"error"' "$log" | grep -c 'trying again as requests come')" 1 2
	if grep '"msg":"request"' "$log" | grep '"status":"503"' |
		grep -q '"store":"state-dir'; then
		pass "[$l] the request log line of a 503 says why"
	else
		fail "[$l] the request log line of a 503 says why" \
			"$(grep '"status":"503"' "$log" | tail -n 1)"
	fi
	pids=$(children_of "$L_PID" | sort -n | tr '\n' ' ')
	"$@"
	if until_status 301 /foo; then
		pass "[$l] fixed, no restart: /foo is 301 after ${U_MS} ms"
	else
		fail "[$l] fixed, no restart: /foo is 301 within 1 s" "$H_STATUS"
	fi
	expect_header "[$l] ... to its target" Location https://example.com/foo
	until_status 301 /bar
	expect_status "[$l] ... and /bar is 301" 301
	until_status 200 /-/metrics
	expect_status "[$l] metrics are 200 again" 200
	for _ in $(seq 1 20); do http -o /dev/null "$B/bar"; done
	expect_between "[$l] the recovery is logged once per process" \
		"$(lines_in "$log" 'opened: aliases are served again')" 1 2
	expect_eq "[$l] the same sherve processes (no restart)" \
		"$(children_of "$L_PID" | sort -n | tr '\n' ' ')" "$pids"
	stop_pid "$L_PID"
}

# ---------------------------------------------------------------- (h)

BLOCK=$T_TMP/blocked
printf 'not a directory\n' >"$BLOCK"
site h "$BLOCK/state" "$UP/r.txt" - ENV_SHERVE_REDIRECT_URL=typo
expect_file_contains "[h] the state dir that cannot be made is named" \
	"$L_RUN/sherve.log" "state-dir: $BLOCK/state: Not a directory"
expect_file_contains "[h] (and SHERVE_REDIRECT_URL in lighttpd's bin-environment is warned about)" \
	"$L_RUN/sherve.log" 'did you mean SHERVE_REDIRECTS_URL?'
make_dir() {
	rm -f "$BLOCK" && mkdir "$BLOCK"
}
down_then_up h make_dir

# ---------------------------------------------------------------- (i)

if [ -n "$AS_WWW" ]; then
	IST=$T_TMP/state-i
	"$SHERVE_BIN" --state-dir "$IST" --redirects-url "$UP/r.txt" refresh \
		>/dev/null 2>&1 || hard_error "cannot fill $IST"
	chmod 0700 "$IST"
	site i "$IST" "$UP/r.txt" www-data
	expect_file_contains "[i] the store that cannot be read is named" \
		"$L_RUN/sherve.log" "$IST/redirects.mdb: Permission denied"
	give_www() {
		chown -R www-data: "$IST"
	}
	down_then_up i give_www
else
	skip "(i) a state dir www-data cannot read" "needs root, setpriv and www-data"
fi

# ---------------------------------------------------------------- (j)

printf 'aonly https://a.example/\nshared https://a.example/shared\n' >"$T_TMP/map-a"
printf 'bonly https://b.example/\nshared https://b.example/shared\n' >"$T_TMP/map-b"
UP_A=$UP
start_upstream --name up-b "$T_TMP/map-b"
URL_B=$UP/r.txt
UP=$UP_A
URL_A="file://$T_TMP/map-a"
JST=$T_TMP/state-j
site a "$JST" "$URL_A" -
A_PID=$L_PID
A_B=$B
until_status 301 /aonly
expect_status "[j] site A serves its map: /aonly is 301" 301
check_exit "[j] sherve refresh for B's URL while A runs: refused (exit 78)" 78 \
	"$SHERVE_BIN" --state-dir "$JST" --redirects-url "$URL_B" refresh
expect_file_contains "[j] ... naming the URL the state dir serves" "$C_ERR" \
	"serves $URL_A for a running sherve"
check_exit "[j] ... and A's map is still stored" 0 \
	"$SHERVE_BIN" --state-dir "$JST" lookup aonly
site b "$JST" "$URL_B" - ENV_SHERVE_MISS_REFRESH_INTERVAL=0
B_LOG=$L_RUN/sherve.log
http "$B/bonly"
expect_status "[j] site B on the same state dir: /bonly is not fetched (404)" 404
expect_between "[j] site B logs why, once per process" \
	"$(grep '"level":"error"' "$B_LOG" | grep -c 'for another running sherve')" 1 2
expect_file_contains "[j] ... naming both URLs" "$B_LOG" \
	"serves $URL_A for another running sherve (see its instance.lock); this one (redirects-url $URL_B)"
check_exit "[j] ... and A's map is still stored" 0 \
	"$SHERVE_BIN" --state-dir "$JST" lookup aonly
B_PIDS=$(children_of "$L_PID" | sort -n | tr '\n' ' ')
stop_pid "$A_PID"
if until_status 301 /bonly; then
	pass "[j] A stopped, no restart of B: /bonly is 301 after ${U_MS} ms"
else
	fail "[j] A stopped: /bonly is 301 within 1 s" "$H_STATUS"
fi
expect_header "[j] ... B's own target" Location https://b.example/
http "$B/shared"
expect_header "[j] ... and B's map replaced A's (/shared)" Location \
	https://b.example/shared
expect_between "[j] the takeover is logged once per process" \
	"$(lines_in "$B_LOG" 'no other instance uses it any more')" 1 2
expect_eq "[j] the same sherve processes in B (no restart)" \
	"$(children_of "$L_PID" | sort -n | tr '\n' ' ')" "$B_PIDS"
finish

#!/bin/bash
#
# tests/integration/faults.sh - sherve under broken upstreams, killed
# writers, hostile filesystems and a webroot that moves under load.
#
#  1. refresh against broken upstreams (upstream.py's modes: 500,
#     slow/timeout, huge, garbage, drip, truncated, endless stream,
#     binary, one valid line among binary, empty, redirect to file://, a
#     redirect loop, a reset; and a closed port): each exits 1 with a message
#     naming the cause, within the timeout, and `sherve list` is
#     unchanged; a CGI request during the outage still answers;
#  2. kill -9 of `sherve import`, of `sherve refresh` and of `sherve
#     rollback` of a 300k-alias map at random moments (repeated): the
#     store opens, holds the old map or the new one, never a mix, lookups
#     agree with the count, and the current version is the map served;
#  3. a 500k-alias import (growing the LMDB map when it fills is covered
#     by tests/unit/test_store.c with a small map);
#  4. a read-only state dir (read-only bind mount; and sherve as nobody
#     on a root-owned 0755 dir): a CGI request for a stored alias;
#  5. a full state dir (a 2 MiB tmpfs): the import is refused for room
#     before the map is written (the free space stays), the old map
#     stays; with room again the import works;
#  6. behind lighttpd: the webroot renamed away (503 with Retry-After,
#     aliases still answer) and back, swapped by a
#     symlink flip, and a file rewritten while it is fetched in a loop.
#
# Needs curl and python3; lighttpd, mount and setpriv parts skip without
# them. Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR.

. "$(dirname "$0")/lib.sh"

need_cmd curl python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
MOUNTED=()

# Unmount what this script mounted before lib.sh removes T_TMP.
faults_unmount() {
	local m
	for m in "${MOUNTED[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	MOUNTED=()
}
trap 'rc=$?; faults_unmount; (exit $rc); t_cleanup' EXIT

# ---------------------------------------------------------------- fixture

W=$T_TMP/www
ST=$T_TMP/state
mkdir -p "$W/sub" "$ST"
printf 'A-TXT\n' >"$W/a.txt"
printf '<p>index</p>\n' >"$W/index.html"
{
	printf '# the good map\n'
	printf 'foo https://example.com/foo\n'
	for i in 1 2 3 4 5 6 7 8 9; do
		printf 'alias%d https://example.com/%d\n' "$i" "$i"
	done
} >"$T_TMP/redirects.txt"

# sv ARGS...: sherve on the main state dir with quick timeouts.
sv() {
	"$SHERVE_BIN" --state-dir "$ST" --fetch-timeout 2 --connect-timeout 2 "$@"
}

# cgi URI [OPTION...]: one CGI request; prints the status code.
cgi() {
	local uri=$1
	shift
	GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=$uri \
		SERVER_NAME=localhost timeout 20 "$SHERVE_BIN" "$@" \
		>"$T_TMP/cgi.out" 2>"$T_TMP/cgi.err"
	sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$T_TMP/cgi.out" | tr -d '\r'
}

now_ms() {
	local t=$EPOCHREALTIME
	printf '%s' "$((${t%.*} * 1000 + 10#${t#*.} / 1000))"
}
T_START=$(now_ms)

# load_phase atomic|inplace N: N fetches of $B/load.bin while a writer
# rewrites it. Sets ok200 (whole, Content-Length right), bad (complete
# but the length differs), trunc (curl saw a short body: error 18),
# n5xx and other (anything else but a 5xx).
load_phase() {
	local how=$1 n=$2 i out rc code size cl writer
	rm -f "$T_TMP/writer.stop"
	start_bg "$T_TMP/writer-$how.log" bash -c '
		w=$1 stop=$2 how=$3 i=0
		head -c 200000 /dev/urandom >"$w/.big"
		head -c 1000 /dev/urandom >"$w/.small"
		while [ ! -e "$stop" ] && [ $i -lt 20000 ]; do
			i=$((i + 1))
			sleep 0.005
			if [ $((i % 2)) = 0 ]; then f=.big; else f=.small; fi
			if [ "$how" = atomic ]; then
				cp "$w/$f" "$w/.tmp" && mv -f "$w/.tmp" "$w/load.bin"
			else
				cat "$w/$f" >"$w/load.bin"
			fi
		done' writer "$W" "$T_TMP/writer.stop" "$how"
	writer=$BG_PID
	ok200=0 bad=0 trunc=0 other=0 n5xx=0
	for ((i = 1; i <= n; i++)); do
		out=$(curl -s -m 10 -D "$T_TMP/load.h" -o "$T_TMP/load.b" \
			-w '%{http_code} %{size_download}' "$B/load.bin" 2>/dev/null)
		rc=$?
		code=${out%% *}
		size=${out##* }
		cl=$(tr -d '\r' <"$T_TMP/load.h" |
			sed -n 's/^[Cc]ontent-[Ll]ength: *//p' | tail -n 1)
		if [ "$rc" = 0 ] && [ "$code" = 200 ]; then
			if [ "$cl" = "$size" ]; then
				ok200=$((ok200 + 1))
			else
				bad=$((bad + 1))
			fi
		elif [ "$rc" = 18 ]; then
			trunc=$((trunc + 1))
		elif [[ $code == 5?? ]]; then
			n5xx=$((n5xx + 1))
			note "$how fetch $i: status $code; sherve: $(grep -v '"info"' "$L_RUN/sherve.log" | tail -n 1 | cut -c 1-160)"
		else
			other=$((other + 1))
		fi
	done
	touch "$T_TMP/writer.stop"
	stop_pid "$writer"
	note "$n fetches under $how rewrites: $ok200 whole, $trunc cut short (curl error 18), $bad with a wrong length, $n5xx 5xx, $other other"
}

# ---------------------------------------------------------------- 1. upstreams
note "section 1 at $(( $(now_ms) - T_START )) ms"

# Two fake upstreams, each with a mode of its own: up for the good
# map and the faults a refresh is told to wait out, fx for the others.
start_upstream --name fx "$T_TMP/redirects.txt"
FX=$UP/redirects.txt
start_upstream --name up "$T_TMP/redirects.txt" --slow-seconds 30 \
	--huge-bytes 20000000
upstream_mode ok up
UP=$UP/redirects.txt
closed_port CLOSED_PORT

check_exit "refresh from the good upstream" 0 sv refresh --redirects-url "$UP"
sv list >"$T_TMP/baseline" 2>&1
expect_eq "the good map has 10 aliases" "$(grep -c . "$T_TMP/baseline")" 10
N_FAULTS=0

# fault DESC UPSTREAM MODE URL REGEX [OPTION...]: one broken refresh,
# the upstream named UPSTREAM (up or fx; "" for none) in MODE.
fault() {
	local desc=$1 name=$2 mode=$3 url=$4 re=$5 t0 ms
	shift 5
	N_FAULTS=$((N_FAULTS + 1))
	[ -z "$name" ] || upstream_mode "$mode" "$name"
	t0=$(now_ms)
	check_exit "$desc: refresh exits 1" 1 sv refresh --redirects-url "$url" "$@"
	ms=$(($(now_ms) - t0))
	if grep -qiE -- "$re" "$C_ERR"; then
		pass "$desc: the message names the cause"
	else
		fail "$desc: the message names the cause" "$(head -c 300 "$C_ERR"), want /$re/"
	fi
	if [ "$ms" -lt 8000 ]; then
		pass "$desc: gives up in time (${ms} ms)"
	else
		fail "$desc: gives up in time" "${ms} ms"
	fi
	sv list >"$T_TMP/now" 2>&1
	if cmp -s "$T_TMP/baseline" "$T_TMP/now"; then
		pass "$desc: the stored map is unchanged"
	else
		fail "$desc: the stored map is unchanged" "$(diff "$T_TMP/baseline" "$T_TMP/now" | head -n 5)"
	fi
	sv status >"$T_TMP/status" 2>&1
	expect_file_contains "$desc: status records the failure" \
		"$T_TMP/status" failed
}

fault "upstream 500" up 500 "$UP" 'status 500'
fault "upstream hangs (fetch-timeout 2)" up slow "$UP" 'timeout|timed out'
fault "upstream body over max-body (Content-Length)" up huge "$UP" 'max-body'
fault "upstream garbage lines" up garbage "$UP" 'no valid line'
upstream_mode ok up
fault "slow drip (fetch-timeout 2)" fx drip "$FX" 'timeout|timed out'
fault "truncated body (Content-Length larger than sent)" fx truncated "$FX" 'partial'
fault "endless body without Content-Length" fx stream "$FX" 'max-body' --max-body 1048576
fault "binary body" fx binary "$FX" 'refused: a binary file, not a redirects file'
fault "binary body with one valid line" fx onevalid "$FX" 'refused: a binary file'
fault "empty body" fx empty "$FX" 'empty body'
fault "redirect to file:///etc/passwd" fx redirfile "$FX" 'protocol'
fault "redirect loop" fx redirloop "$FX" 'redirect'
fault "connection reset without an answer" fx reset "$FX" 'nothing|reset|recv|empty reply'
fault "closed port" "" - "http://127.0.0.1:$CLOSED_PORT/r.txt" "connect"
note "$N_FAULTS upstream fault cases"

# The responder while the upstream is down: known aliases still answer,
# and a miss that triggers a fetch is not held longer than the timeout.
upstream_mode 500 up
expect_eq "upstream 500: CGI /foo is still 301" \
	"$(cgi /foo --state-dir "$ST" --webroot "$W" --redirects-url "$UP")" 301
upstream_mode slow up
t0=$(now_ms)
expect_eq "upstream hanging: CGI miss /nope is 404" \
	"$(cgi /nope --state-dir "$ST" --webroot "$W" --redirects-url "$UP" \
		--fetch-timeout 2 --miss-refresh-interval 0)" 404
ms=$(($(now_ms) - t0))
if [ "$ms" -lt 8000 ]; then
	pass "upstream hanging: the miss answers within the fetch timeout (${ms} ms)"
else
	fail "upstream hanging: the miss answers within the fetch timeout" "${ms} ms"
fi
expect_eq "upstream hanging: CGI /a.txt is 200" \
	"$(cgi /a.txt --state-dir "$ST" --webroot "$W" --redirects-url "$UP")" 200
upstream_mode ok up
check_exit "refresh works again once the upstream is back" 0 \
	sv refresh --redirects-url "$UP"

# ---------------------------------------------------------------- 2. kill -9
note "section 2 at $(( $(now_ms) - T_START )) ms"

KST=$T_TMP/kill-state
python3 - "$T_TMP" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/map-a.txt", "w") as f:
    for i in range(300000):
        f.write("x%06d https://a.example/%d\n" % (i, i))
with open(d + "/map-b.txt", "w") as f:
    for i in range(250000):
        f.write("x%06d https://b.example/%d\n" % (i, i))
EOF
ks() {
	"$SHERVE_BIN" --state-dir "$KST" --max-body 67108864 "$@"
}
# The processes below are killed at a random moment, which can fall after
# their commit, inside LeakSanitizer's exit-time scan: the scan then loses
# its threads and leaves a report with no finding in it. A process that is
# SIGKILLed never reaches a leak check that means anything, so they run
# without one; the same verbs run to completion, leak-checked, elsewhere.
KILLED_ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
check_exit "import the 300k map A" 0 ks import "$T_TMP/map-a.txt"
t0=$(now_ms)
check_exit "import the 250k map B" 0 ks import --force "$T_TMP/map-b.txt"
IMPORT_MS=$(($(now_ms) - t0))
note "a 250k import takes ${IMPORT_MS} ms here"

# kill_state: "A" or "B" if the store holds exactly one of the maps.
kill_state() {
	local n u1 u2 last rc=0
	ks list >"$T_TMP/kill-list.out" 2>"$T_TMP/kill-list.err" || rc=$?
	n=$(wc -l <"$T_TMP/kill-list.out")
	u1=$(ks lookup x000001 2>/dev/null)
	u2=$(ks lookup x123456 2>/dev/null)
	last=$(ks lookup x299999 2>/dev/null)
	if [ "$n" = 300000 ] && [ "$u1" = https://a.example/1 ] &&
		[ "$u2" = https://a.example/123456 ] &&
		[ "$last" = https://a.example/299999 ]; then
		echo A
	elif [ "$n" = 250000 ] && [ "$u1" = https://b.example/1 ] &&
		[ "$u2" = https://b.example/123456 ] && [ -z "$last" ]; then
		echo B
	else
		echo "mixed: $n aliases, x000001=$u1 x123456=$u2 x299999=$last" \
			"(list exit $rc: $(head -c 300 "$T_TMP/kill-list.err"))"
	fi
}

# kill_after MS ARGS...: sherve ARGS on the kill state dir, killed with
# SIGKILL after MS milliseconds (not through ks(): a backgrounded
# function is a subshell, and killing it would leave sherve running).
kill_after() {
	local ms=$1 kpid
	shift
	ASAN_OPTIONS=$KILLED_ASAN_OPTIONS "$SHERVE_BIN" --state-dir "$KST" \
		--max-body 67108864 "$@" >/dev/null 2>&1 &
	kpid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
}

cur=B
landed_old=0
landed_new=0
max_ms=$((IMPORT_MS * 3 / 2 + 20))
for round in 1 2 3 4 5 6 7 8 9 10 11 12; do
	if [ "$cur" = A ]; then next=B; file=map-b.txt; else next=A; file=map-a.txt; fi
	delay=$((RANDOM % max_ms + 5))
	# Odd rounds kill an import, even ones a refresh (fetch, lock,
	# write) from a file:// upstream.
	if [ $((round % 2)) = 1 ]; then
		kill_after "$delay" import --force "$T_TMP/$file"
	else
		kill_after "$delay" --redirects-url "file://$T_TMP/$file" \
			refresh --force
	fi
	got=$(kill_state)
	case $got in
	"$cur") landed_old=$((landed_old + 1)) ;;
	"$next") landed_new=$((landed_new + 1)); cur=$next ;;
	*)
		fail "kill -9 round $round after ${delay} ms: old or new map" "$got"
		break
		;;
	esac
done
pass "12 kill -9 rounds (6 imports, 6 refreshes): the store held the old map ${landed_old} times, the new ${landed_new} times, never a mix"

# Aimed kills: wait until the import is writing (its write(2) byte count
# jumps when the LMDB commit flushes pages), then kill it mid-commit.
aimed=0
for round in 1 2 3 4; do
	if [ "$cur" = A ]; then next=B; file=map-b.txt; else next=A; file=map-a.txt; fi
	ASAN_OPTIONS=$KILLED_ASAN_OPTIONS "$SHERVE_BIN" --state-dir "$KST" \
		--max-body 67108864 import --force "$T_TMP/$file" >/dev/null 2>&1 &
	kpid=$!
	hit=
	for ((spin = 0; spin < 200000; spin++)); do
		wchar=
		while read -r k v; do
			[ "$k" = wchar: ] && { wchar=$v; break; }
		done <"/proc/$kpid/io" 2>/dev/null
		[ -n "$wchar" ] || break
		if [ "$wchar" -gt 262144 ]; then
			hit=$wchar
			break
		fi
	done
	kill -KILL "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	[ -z "$hit" ] || aimed=$((aimed + 1))
	got=$(kill_state)
	case $got in
	"$cur") landed_old=$((landed_old + 1)) ;;
	"$next") landed_new=$((landed_new + 1)); cur=$next ;;
	*)
		fail "aimed kill -9 round $round (${hit:-?} bytes written): old or new map" "$got"
		break
		;;
	esac
done
pass "4 kills aimed at the commit ($aimed caught it writing): old map ${landed_old} times in all, new ${landed_new}, never a mix"
if [ "$cur" = A ]; then file=map-b.txt; want=B; else file=map-a.txt; want=A; fi
check_exit "after the kills an import still succeeds" 0 ks import --force "$T_TMP/$file"
expect_eq "and its map is complete" "$(kill_state)" "$want"
check_exit "sherve status opens the store" 0 ks status

# The kept versions agree with the map served: the current version's
# rule count is the map's. Prints "ok" or what differs.
versions_agree() {
	local rules n
	rules=$(ks versions 2>/dev/null | awk '/  current/ { print $3 }')
	n=$(ks list 2>/dev/null | wc -l)
	if [ -n "$rules" ] && [ "$rules" = "$n" ]; then
		echo ok
	else
		echo "current version has '$rules' rules, the map $n"
	fi
}
expect_eq "after the kills the current version is the map served" \
	"$(versions_agree)" ok

# kill -9 during a rollback: the map and the versions' state are written
# in one transaction, so the store holds the old map (and state) or the
# new, never a mix. VA, VB: the newest versions of map A and map B.
VA=$(ks versions | awk '$3 == 300000 { print $1; exit }')
VB=$(ks versions | awk '$3 == 250000 { print $1; exit }')
note "rollback kills between version $VA (A) and $VB (B)"
t0=$(now_ms)
check_exit "rollback to version $VA (A)" 0 ks rollback "$VA"
ROLL_MS=$(($(now_ms) - t0))
cur=A
expect_eq "rollback to A serves A" "$(kill_state)" A
rb_old=0
rb_new=0
for round in 1 2 3 4 5 6; do
	if [ "$cur" = A ]; then next=B; v=$VB; else next=A; v=$VA; fi
	delay=$((RANDOM % (ROLL_MS * 2 + 20) + 5))
	kill_after "$delay" rollback "$v"
	got=$(kill_state)
	agree=$(versions_agree)
	case $got in
	"$cur") rb_old=$((rb_old + 1)) ;;
	"$next") rb_new=$((rb_new + 1)); cur=$next ;;
	*)
		fail "rollback kill -9 round $round after ${delay} ms: old or new map" "$got"
		break
		;;
	esac
	if [ "$agree" != ok ]; then
		fail "rollback kill -9 round $round: versions agree with the map" "$agree"
		break
	fi
done
pass "6 kill -9 rounds of rollback (a rollback takes ${ROLL_MS} ms): the old map ${rb_old} times, the new ${rb_new}, never a mix, the versions always agreeing"
check_exit "after the rollback kills unpin succeeds" 0 ks unpin
expect_eq "and the versions agree with the map" "$(versions_agree)" ok

# ---------------------------------------------------------------- 3. a big map
note "section 3 at $(( $(now_ms) - T_START )) ms"

BST=$T_TMP/big-state
python3 - "$T_TMP/map-500k.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(500000):
        f.write("big/%06d https://example.com/some/longer/path/%d?q=%d\n" % (i, i, i))
EOF
t0=$(now_ms)
check_exit "import a 500k-alias map" 0 \
	"$SHERVE_BIN" --state-dir "$BST" --max-body 134217728 import "$T_TMP/map-500k.txt"
note "500k import: $(($(now_ms) - t0)) ms"
expect_eq "the 500k map is stored whole" \
	"$("$SHERVE_BIN" --state-dir "$BST" list | wc -l)" 500000
expect_eq "its last alias resolves" \
	"$("$SHERVE_BIN" --state-dir "$BST" lookup big/499999)" \
	"https://example.com/some/longer/path/499999?q=499999"
expect_eq "CGI /big/250000 is 301" "$(cgi /big/250000 --state-dir "$BST")" 301

# ---------------------------------------------------------------- 4. read-only
note "section 4 at $(( $(now_ms) - T_START )) ms"

RO_SRC=$T_TMP/ro-state
RO_MNT=$T_TMP/ro-mnt
mkdir -p "$RO_MNT"
"$SHERVE_BIN" --state-dir "$RO_SRC" import "$T_TMP/redirects.txt" >/dev/null 2>&1 ||
	hard_error "cannot fill $RO_SRC"
if [ "$(id -u)" = 0 ] && mount --bind "$RO_SRC" "$RO_MNT" 2>/dev/null; then
	MOUNTED+=("$RO_MNT")
	if mount -o remount,bind,ro "$RO_MNT" 2>/dev/null &&
		! touch "$RO_MNT/.probe" 2>/dev/null; then
		st=$(cgi /foo --state-dir "$RO_MNT" --webroot "$W")
		expect_eq "read-only state dir (ro bind mount): CGI /foo is 301" "$st" 301
		expect_eq "read-only state dir: assets are still served" \
			"$(cgi /a.txt --state-dir "$RO_MNT" --webroot "$W")" 200
		expect_file_contains "read-only state dir: the log names the cause" \
			"$T_TMP/cgi.err" "Read-only file system"
		check "read-only state dir: sherve list works" "$SHERVE_BIN" --state-dir "$RO_MNT" list
	else
		skip "read-only state dir (ro bind mount)" "remount ro refused"
	fi
	faults_unmount
else
	skip "read-only state dir (ro bind mount)" "mount --bind not permitted"
fi

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	id nobody >/dev/null 2>&1; then
	# Root owns the dir (0755) and the map (0644); the lock file is
	# writable by all, as LMDB readers need it.
	NB=$T_TMP/nobody
	mkdir -p "$NB"
	chmod 0755 "$T_TMP" "$NB"
	cp "$RO_SRC/redirects.mdb" "$RO_SRC/redirects.mdb-lock" "$NB/"
	chmod 0755 "$W" "$W/sub"
	chmod 0644 "$NB/redirects.mdb" "$W/a.txt" "$W/index.html"
	chmod 0666 "$NB/redirects.mdb-lock"
	st=$(GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/foo \
		timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$SHERVE_BIN" --state-dir "$NB" --webroot "$W" \
		2>"$T_TMP/nb.err" | sed -n '1s/^Status: \([0-9]*\).*/\1/p' | tr -d '\r')
	expect_eq "state dir not writable (sherve as nobody): CGI /foo is 301" "$st" 301
	expect_file_contains "state dir not writable: the log names the cause" \
		"$T_TMP/nb.err" "Permission denied"
	st=$(GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/a.txt \
		timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$SHERVE_BIN" --state-dir "$NB" --webroot "$W" 2>/dev/null |
		sed -n '1s/^Status: \([0-9]*\).*/\1/p' | tr -d '\r')
	expect_eq "state dir not writable: assets are still served" "$st" 200
else
	skip "state dir not writable (sherve as nobody)" "needs root, setpriv and user nobody"
fi

# ---------------------------------------------------------------- 5. full
note "section 5 at $(( $(now_ms) - T_START )) ms"

FULL=$T_TMP/full
mkdir -p "$FULL"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m tmpfs "$FULL" 2>/dev/null; then
	MOUNTED+=("$FULL")
	fs() {
		"$SHERVE_BIN" --state-dir "$FULL" --max-body 67108864 "$@"
	}
	check_exit "full state dir: a small import fits" 0 fs import "$T_TMP/redirects.txt"
	fs list >"$T_TMP/full-before" 2>&1
	free_before=$(df -k --output=avail "$FULL" | tail -n 1 | tr -d ' ')
	check_exit "full state dir: the 300k import fails with exit 1" 1 \
		fs import --force "$T_TMP/map-a.txt"
	free_after=$(df -k --output=avail "$FULL" | tail -n 1 | tr -d ' ')
	# Refused before a page of the map is written (only the failure
	# counter is, a page or two): the room stays for the old map and the
	# logs (before, the commit failed with the disk at 0 bytes).
	if [ "$free_after" -ge $((free_before - 64)) ]; then
		pass "full state dir: the refusal left the room there was (${free_before} -> ${free_after} KiB free)"
	else
		fail "full state dir: the refusal left the room there was" \
			"${free_before} -> ${free_after} KiB free"
	fi
	expect_file_contains "full state dir: it says the store write failed" \
		"$C_ERR" "store write failed"
	expect_file_contains "full state dir: refused before writing, for room" \
		"$C_ERR" "not enough free space in $FULL"
	fs list >"$T_TMP/full-after" 2>&1
	if cmp -s "$T_TMP/full-before" "$T_TMP/full-after"; then
		pass "full state dir: the old map is intact"
	else
		fail "full state dir: the old map is intact" "$(head -c 200 "$T_TMP/full-after")"
	fi
	expect_eq "full state dir: CGI /foo is still 301" \
		"$(cgi /foo --state-dir "$FULL" --webroot "$W")" 301
	dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
	# The files sherve maps (the metrics, LMDB's lock file) have their
	# blocks: a count or a reader slot on a new page cannot SIGBUS.
	full_codes=
	for a in foo alias1 alias2 alias3 alias4 alias5 alias6 alias7 alias8 alias9; do
		full_codes+="$(cgi "/$a" --state-dir "$FULL" --webroot "$W") "
	done
	expect_eq "state dir at 100%: 10 aliases, each counted in metrics.shm, are 301" \
		"$full_codes" "$(printf '301 %.0s' 1 2 3 4 5 6 7 8 9 10)"
	rm -f "$FULL/metrics.shm"
	expect_eq "state dir at 100%: CGI /foo is still 301 (metrics off)" \
		"$(cgi /foo --state-dir "$FULL" --webroot "$W")" 301
	rm -f "$FULL/filler"
	if mount -o remount,size=64m "$FULL" 2>/dev/null; then
		check_exit "with room again the 300k import succeeds" 0 \
			fs import --force "$T_TMP/map-a.txt"
		expect_eq "and stores all of it" "$(fs list | wc -l)" 300000
	else
		skip "full state dir: recovery" "remount refused"
	fi
	faults_unmount
else
	skip "full state dir (2 MiB tmpfs)" "mount -t tmpfs not permitted"
fi

# ---------------------------------------------------------------- 6. webroot
note "section 6 at $(( $(now_ms) - T_START )) ms"

LIGHTTPD=$(lighttpd_path) || LIGHTTPD=
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
if [ -z "$LIGHTTPD" ] || [ ! -r "$TEMPLATE" ]; then
	skip "webroot faults behind lighttpd" "lighttpd or $TEMPLATE missing"
else
	L_RUN=$T_TMP/run
	mkdir -p "$L_RUN/htdocs" "$T_TMP/rel1" "$T_TMP/rel2"
	printf 'RELEASE-1\n' >"$T_TMP/rel1/v.txt"
	printf 'RELEASE-2\n' >"$T_TMP/rel2/v.txt"
	head -c 200000 /dev/urandom >"$W/load.bin"
	ln -s "$W" "$T_TMP/site"
	if ! L_WAIT=/a.txt start_lighttpd faults RUNDIR="$L_RUN" \
		WEBROOT="$T_TMP/site" STATE_DIR="$ST" REDIRECTS_URL="$UP"; then
		note "section 6 needs lighttpd: it did not start"
	else
		http "$B/a.txt"
		expect_status "webroot present: /a.txt is 200" 200
		# sherve holds the webroot open and checks it again once per
		# clock tick: wait_tick after each swap.
		# A webroot that cannot be opened: the files may exist, so 503
		# with Retry-After (a 404 is kept by clients and caches), and
		# 5xx are expected here only.
		n5xx=$T_5XX
		mv "$W" "$W.away"
		wait_tick
		http "$B/a.txt"
		expect_status "webroot renamed away: /a.txt is 503" 503
		expect_header "webroot renamed away: ... with Retry-After" \
			Retry-After 5
		http "$B/"
		expect_status "webroot renamed away: / is 503" 503
		http "$B/foo"
		expect_status "webroot renamed away: /foo still redirects" 301
		printf 'not a dir\n' >"$W"
		wait_tick
		http "$B/a.txt"
		expect_status "webroot replaced by a file: /a.txt is 503" 503
		T_5XX=$n5xx
		rm -f "$W"
		mv "$W.away" "$W"
		wait_tick
		http "$B/a.txt"
		expect_status "webroot back: /a.txt is 200 again" 200
		expect_body_equals "webroot back: with its content" "A-TXT
"
		# A deploy by symlink flip is seen within a tick.
		ln -sfn "$T_TMP/rel1" "$T_TMP/site"
		wait_tick
		http "$B/v.txt"
		expect_body_equals "symlink flip to release 1 is served" "RELEASE-1
"
		ln -sfn "$T_TMP/rel2" "$T_TMP/site"
		wait_tick
		http "$B/v.txt"
		expect_body_equals "symlink flip to release 2 is served within 20 ms" "RELEASE-2
"
		ln -sfn "$W" "$T_TMP/site"
		wait_tick

		# A file rewritten while it is fetched: by rename (a new inode;
		# the open fd keeps the old one, so every answer is whole), then
		# in place (truncate and write: the size can change mid-answer).
		load_phase atomic 40
		expect_eq "rewritten by rename: no 5xx" "$n5xx" 0
		expect_eq "rewritten by rename: every fetch is a whole 200 with a matching Content-Length" \
			"$ok200" 40
		load_phase inplace 100
		expect_eq "rewritten in place: no 5xx" "$n5xx" 0
		expect_eq "rewritten in place: every complete 200 has a Content-Length matching its body" "$bad" 0
		expect_eq "rewritten in place: every fetch ends in a 200, a detected short body or a 5xx" "$other" 0
		http "$B/a.txt"
		expect_status "after the load test /a.txt is 200" 200
		stop_pid "$L_PID"
	fi
fi

expect_no_5xx "no lighttpd request got a 5xx"
finish

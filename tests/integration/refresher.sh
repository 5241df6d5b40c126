#!/bin/bash
#
# tests/integration/refresher.sh - a worker runs one thread, and every
# refresh is a `sherve refresh` process of its own (src/refresher.h),
# checked through /proc on a `sherve serve` pool of one worker and a
# fake upstream that can hold a fetch (slow mode):
#
#   (a) a worker has one thread, after its startup refresh, while its
#       scheduled refresh is in flight and while a miss refresh is; every
#       descriptor it opened is close-on-exec;
#   (b) the scheduled refresh is an exec'd `sherve refresh --scheduled`
#       (exe, cmdline, comm), the worker's child, at nice 19, with no
#       signal blocked or ignored that would keep SIGTERM from it, stdin
#       and stdout on /dev/null, stderr the worker's log, and none of the
#       worker's descriptors (listener, epoll, timerfd), not even one the
#       pool inherited without close-on-exec;
#   (c) it gets the worker's settings: one only on the command line
#       (cachebust always: its fetch carries cachebust=), one only in the
#       environment (fetch-timeout), one only in the file, and no config
#       file of its own (SHERVE_CONFIG empty): the file edited without a
#       SIGHUP changes nothing (its fetch still names the old URL); the
#       worker's unknown SHERVE_* variable is not passed on;
#   (d) stopping the worker stops its refresh in flight, long before the
#       fetch-timeout would;
#   (e) a miss refresh is `sherve refresh --miss` at the worker's
#       priority, and the request waits for it;
#   (f) after a CGI answer, a due refresh is a detached `sherve refresh
#       --scheduled`: its own session, all three streams on /dev/null;
#   (g) `sherve refresh --scheduled` from the command line: exit 75 when
#       not due, 64 with --force; a JSON log line.
#
# Needs curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
FCGI_GET=(python3 "$T_LIB_DIR/fcgi_get.py")

open_tmp_to_children
make_site
start_upstream
U=$(child_user)
EXE=$(readlink -f "$SHERVE_BIN")
SOCKDIR=$T_TMP/run
SOCK=$SOCKDIR/sherve.sock
STATE=$T_TMP/state
CONF=$T_TMP/sherve.conf
give_to_child "$SOCKDIR" "$STATE"
up_mode() { upstream_mode "$1"; }
# slow_fetches: how many fetches the upstream has held in slow mode.
slow_fetches() { grep -c ' in mode slow$' "$T_TMP/upstream.log" || true; }
up_last() { curl -s -m 5 "$UP/-/last" 2>/dev/null | head -n 1; }

# --------------------------------------------------------------- helpers

# refresh_children PID: PID's children that are `sherve refresh`.
refresh_children() {
	local c
	for c in $(children_of "$1"); do
		alive "$c" || continue
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		*" refresh "*) printf '%s\n' "$c" ;;
		esac
	done
}

# wait_refresh_child PID [TENTHS]: wait for one; sets CHILD.
wait_refresh_child() {
	local n=${2:-100}
	CHILD=
	while [ "$n" -gt 0 ]; do
		CHILD=$(refresh_children "$1" | head -n 1)
		[ -n "$CHILD" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

threads() { find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | sed 's/ $//'; }
# proc_stat PID N: field N of /proc/PID/stat (4 ppid, 6 session, 19 nice).
proc_stat() {
	local s n=$2
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) } # from field 3 (state) on: comm may hold spaces
	# shellcheck disable=SC2086 # split on purpose
	set -- $s
	n=$((n - 2))
	printf '%s' "${!n}"
}
# status_field PID NAME: a field of /proc/PID/status (SigBlk, SigIgn).
status_field() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}
fd_target() { readlink "/proc/$1/fd/$2" 2>/dev/null; }
# environ_has PID ENTRY: /proc/PID/environ holds ENTRY (NAME=VALUE) whole.
environ_has() {
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF -- "$2"
}

# fds_not_cloexec PID: the descriptors >= 3 of PID without O_CLOEXEC,
# as "N->TARGET" words.
fds_not_cloexec() {
	local f n flags
	for f in /proc/"$1"/fdinfo/*; do
		n=${f##*/}
		[ "$n" -ge 3 ] 2>/dev/null || continue
		flags=$(awk '$1 == "flags:" { print $2 }' "$f" 2>/dev/null)
		[ -n "$flags" ] || continue
		# O_CLOEXEC is 02000000 (octal).
		if [ $((8#$flags & 8#2000000)) -eq 0 ]; then
			printf '%s->%s\n' "$n" "$(fd_target "$1" "$n")"
		fi
	done | sort
}

# own_fds PID: the sockets (by inode) and anonymous inodes (epoll,
# timerfd) PID holds; a refresh child holding one of a worker's would
# show the same socket inode, or an epoll or timerfd it never makes.
own_fds() {
	local f t
	for f in /proc/"$1"/fd/*; do
		t=$(readlink "$f" 2>/dev/null) || continue
		case $t in socket:* | anon_inode:*) printf '%s\n' "$t" ;; esac
	done | sort -u
}

# write_conf URL: the config file, with redirects-url URL.
write_conf() {
	cat >"$CONF" <<EOF
# refresher.sh
listen = unix:$SOCK
webroot = $W
state-dir = $STATE
redirects-url = $1
redirect-status = 308
refresh-interval = 2
EOF
}

# serve_one LOG ARGS...: sherve serve --config $CONF --workers 1 ARGS
# (as the children's user when root), with the config file open on fd 7
# without close-on-exec, as a careless parent may leave one; sets M_PID,
# POOL_LOG and WK, its worker.
serve_one() {
	local log=$1
	shift
	POOL_LOG=$log
	# shellcheck disable=SC2094 # fd 7 reads $CONF; nothing writes it
	start_pool "$SOCK" 1 "$log" "$SHERVE_BIN" --config "$CONF" serve \
		--workers 1 ${U:+--user "$U"} "$@" 7<"$CONF" ||
		hard_error "sherve serve did not start its worker on $SOCK"
	WK=$(sherve_workers "$M_PID" | head -n 1)
	note "pool $M_PID, worker $WK"
}

# ---------------------------------------------------------------- (a-d)

write_conf "$UP/redirects.txt"
# cachebust only on the command line, fetch-timeout only in the
# environment, redirect-status only in the file.
SHERVE_FETCH_TIMEOUT=9 SHERVE_NOT_A_SETTING=1 \
	serve_one "$T_TMP/pool-1.log" --cachebust always

"${FCGI_GET[@]}" "$SOCK" /foo >"$T_TMP/foo.out" 2>&1
expect_match "[a] the startup refresh stored the map (/foo is 308)" \
	"$(cat "$T_TMP/foo.out")" '*status=308*'
expect_file_contains "[a] ... and logged what it did" "$POOL_LOG" \
	'"msg":"startup refresh: '
expect_eq "[a] the worker runs one thread" "$(threads "$WK")" 1
# What the worker holds without close-on-exec, it inherited: the master
# holds it too (fd 7, and whatever the test's shell left open).
expect_match "[a] the pool inherited fd 7 without close-on-exec" \
	"$(fds_not_cloexec "$M_PID" | tr '\n' ' ')" "*7->$CONF *"
expect_eq "[a] every descriptor the worker opened is close-on-exec" \
	"$(comm -23 <(fds_not_cloexec "$WK") <(fds_not_cloexec "$M_PID") |
		tr '\n' ' ')" ""

# Hold the next scheduled fetch (refresh-interval 2) in the upstream. One
# worker starts one refresh at a time: once the upstream holds a fetch,
# the worker's refresh child is the one waiting for it.
up_mode slow
for _ in $(seq 1 60); do
	grep -q 'in mode slow' "$T_TMP/upstream.log" 2>/dev/null && break
	sleep 0.1
done
if wait_refresh_child "$WK" 30; then
	C=$CHILD
	t0=$EPOCHREALTIME
	note "[b] scheduled refresh in flight: pid $C"
	expect_eq "[a] ... one thread while its scheduled refresh runs" \
		"$(threads "$WK")" 1
	expect_eq "[b] the refresh runs the worker's binary (exe)" \
		"$(readlink "/proc/$C/exe")" "$EXE"
	expect_eq "[b] ... as 'sherve refresh --scheduled' (cmdline)" \
		"$(cmdline "$C")" "$SHERVE_BIN refresh --scheduled"
	expect_eq "[b] ... named sherve (comm)" "$(cat "/proc/$C/comm")" sherve
	expect_eq "[b] ... a child of the worker" "$(proc_stat "$C" 4)" "$WK"
	expect_eq "[b] ... at nice 19" "$(proc_stat "$C" 19)" 19
	expect_eq "[b] ... with no signal blocked" \
		"$(status_field "$C" SigBlk)" 0000000000000000
	ign=$(status_field "$C" SigIgn)
	if [ -n "$ign" ] && [ $((16#$ign & 0x4000)) -eq 0 ]; then
		pass "[b] ... and SIGTERM not ignored (SigIgn $ign)"
	else
		fail "[b] ... and SIGTERM not ignored" "SigIgn '$ign'"
	fi
	expect_eq "[b] ... stdin on /dev/null" "$(fd_target "$C" 0)" /dev/null
	expect_eq "[b] ... stdout on /dev/null" "$(fd_target "$C" 1)" /dev/null
	expect_eq "[b] ... stderr the worker's log" "$(fd_target "$C" 2)" \
		"$(fd_target "$WK" 2)"
	expect_match "[b] the worker holds a listener, epoll and a timerfd" \
		"$(own_fds "$WK" | tr '\n' ' ')" '*eventpoll*timerfd*socket:*'
	expect_eq "[b] ... and the refresh none of them" \
		"$(comm -12 <(own_fds "$WK") <(own_fds "$C") | tr '\n' ' ')" ""
	expect_eq "[b] ... nor what the worker inherited (fd 7: the config file)" \
		"$(find "/proc/$C/fd" -lname "$CONF" 2>/dev/null)" ""

	for e in SHERVE_CACHEBUST=always SHERVE_FETCH_TIMEOUT=9 \
		SHERVE_REDIRECT_STATUS=308 SHERVE_REFRESH_INTERVAL=2 \
		"SHERVE_REDIRECTS_URL=$UP/redirects.txt" SHERVE_CONFIG=; do
		if environ_has "$C" "$e"; then
			pass "[c] the refresh's environment has $e"
		else
			fail "[c] the refresh's environment has $e" \
				"$(tr '\0' '\n' <"/proc/$C/environ" | grep '^SHERVE_' | tr '\n' ' ')"
		fi
	done
	if tr '\0' '\n' <"/proc/$C/environ" | grep -q '^SHERVE_NOT_A_SETTING='; then
		fail "[c] the worker's unknown SHERVE_ variable is not passed on"
	else
		pass "[c] the worker's unknown SHERVE_ variable is not passed on"
	fi
	expect_match "[c] the option only on the command line reached it (cachebust=)" \
		"$(up_last)" '*/redirects.txt?cachebust=*'

	# (d) The worker stops: its refresh goes with it, well before the
	# fetch-timeout (9 s) or the slow upstream (30 s) would end it.
	kill -TERM "$WK"
	if t_wait_gone "$C" 50; then
		pass "[d] stopping the worker stopped its refresh in flight"
	else
		fail "[d] stopping the worker stopped its refresh in flight" \
			"pid $C alive: $(cmdline "$C")"
	fi
	ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
	note "[d] the refresh was gone $ms ms after it was first seen"
	expect_between "[d] ... before its fetch-timeout (9 s) would have" \
		"$ms" 0 8000
	t_wait_gone "$WK" 50
else
	fail "[b] a scheduled refresh is started and held" \
		"children of $WK: $(children_of "$WK" | tr '\n' ' ')"
fi

# (c) The file edited, no SIGHUP: the respawned worker (the master's
# settings) and its refreshes still fetch the URL the pool started with.
up_mode ok
write_conf "$UP/edited.txt"
wait_workers "$M_PID" 1 50 || hard_error "the pool did not restart its worker"
WK=$(sherve_workers "$M_PID" | head -n 1)
curl -s -m 5 "$UP/-/reset" >/dev/null
for _ in $(seq 1 60); do
	[ "$(upstream_count)" -ge 1 ] && break
	sleep 0.1
done
expect_match "[c] with the file edited, a refresh fetches the pool's URL" \
	"$(up_last)" '*/redirects.txt?cachebust=*'
expect_file_not_contains "[c] ... never the file's new one" \
	"$T_TMP/upstream.log" 'edited.txt'
stop_pid "$M_PID"
write_conf "$UP/redirects.txt"

# ---------------------------------------------------------------- (e)

# An unknown alias, no timer (refresh-interval 0): a miss refresh
# (miss-refresh-interval 30, none yet), held by the slow upstream.
SHERVE_FETCH_TIMEOUT=4 serve_one "$T_TMP/pool-2.log" --refresh-interval 0
up_mode slow
slow_before=$(slow_fetches)
start_bg "$T_TMP/miss.out" "${FCGI_GET[@]}" "$SOCK" /no-such-alias \
	--timeout 30
MISS_PID=$BG_PID
if wait_refresh_child "$WK" 30; then
	expect_eq "[e] a miss refresh is 'sherve refresh --miss'" \
		"$(cmdline "$CHILD")" "$SHERVE_BIN refresh --miss"
	expect_eq "[e] ... at the worker's priority" \
		"$(proc_stat "$CHILD" 19)" "$(proc_stat "$WK" 19)"
	expect_eq "[a] ... one thread while a miss refresh runs" \
		"$(threads "$WK")" 1
	if alive "$MISS_PID"; then
		pass "[e] the request waits for the miss refresh"
	else
		fail "[e] the request waits for the miss refresh" \
			"$(cat "$T_TMP/miss.out")"
	fi
else
	fail "[e] a miss refresh is started" \
		"children of $WK: $(children_of "$WK" | tr '\n' ' ')"
fi
# The mode is read when the fetch arrives, not when the child starts:
# switch back only once the upstream holds this fetch in slow mode.
for _ in $(seq 1 100); do
	[ "$(slow_fetches)" -gt "$slow_before" ] && break
	sleep 0.1
done
up_mode ok
t_wait_gone "$MISS_PID" 100
expect_match "[e] ... and is answered when it ends (fetch-timeout 4 s): 404" \
	"$(cat "$T_TMP/miss.out")" '*status=404*'
expect_file_contains "[e] the miss refresh logged its failure" \
	"$POOL_LOG" '"msg":"miss refresh failed, keeping the last good map: '
stop_pid "$M_PID"

# ---------------------------------------------------------------- (f)

# shellcheck disable=SC2317 # called through check_exit
sv() { "$SHERVE_BIN" --config "$CONF" "$@"; }
# A good refresh ends the miss's backoff; refresh-interval 1 then makes
# the next one due within a second.
check_exit "[f] sherve refresh" 0 sv refresh
up_mode slow
sleep 1.1
# fetch-timeout 20: the slow upstream holds the fetch, so the refresh
# lives until it is found and stopped below, however busy the host.
check_exit "[f] a CGI request with a refresh due exits 0" 0 \
	env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/ \
	SHERVE_FETCH_TIMEOUT=20 "$SHERVE_BIN" --config "$CONF" \
	--refresh-interval 1
# Nobody's child: found by its command line, binary and state dir.
D=
for _ in $(seq 1 100); do
	D=$(detached_refresh "$STATE" | tail -n 1)
	[ -n "$D" ] && break
	sleep 0.1
done
if [ -n "$D" ]; then
	T_PIDS+=("$D")
	expect_eq "[f] the CGI answer left a detached refresh, in a session of its own" \
		"$(proc_stat "$D" 6)" "$D"
	expect_eq "[f] ... with stdin, stdout and stderr on /dev/null" \
		"$(fd_target "$D" 0) $(fd_target "$D" 1) $(fd_target "$D" 2)" \
		"/dev/null /dev/null /dev/null"
	expect_eq "[f] ... at nice 19" "$(proc_stat "$D" 19)" 19
	expect_eq "[f] ... with no signal blocked (the CGI blocked SIGTERM)" \
		"$(status_field "$D" SigBlk)" 0000000000000000
	expect_eq "[f] ... and the CGI's settings (fetch-timeout from its environment)" \
		"$(environ_has "$D" SHERVE_FETCH_TIMEOUT=20 && echo yes)" yes
	stop_pid "$D"
else
	fail "[f] the CGI answer left a detached 'sherve refresh --scheduled'"
fi
up_mode ok

# ---------------------------------------------------------------- (g)

check_exit "[g] sherve refresh" 0 sv refresh
check_exit "[g] refresh --scheduled when not due: exit 75" 75 \
	sv --refresh-interval 300 refresh --scheduled
sleep 1.1
check_exit "[g] refresh --scheduled when due: exit 0" 0 \
	sv --refresh-interval 1 --log-level debug refresh --scheduled
expect_file_contains "[g] ... and a JSON log line" "$C_ERR" \
	'"msg":"scheduled refresh: '
check_exit "[g] refresh --force --scheduled: exit 64" 64 \
	sv refresh --force --scheduled
expect_file_contains "[g] ... says why" "$C_ERR" 'exclude each other'
finish

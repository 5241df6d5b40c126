# shellcheck shell=bash
# shellcheck disable=SC2034 # variables for the scripts that source this
#
# tests/integration/lib.sh - shared helpers for sherve's integration tests.
#
# Source it first thing from a bash test script:
#
#   . "$(dirname "$0")/lib.sh"
#
# It provides:
#   - the trees: TOP_SRCDIR, TOP_BUILDDIR, SHERVE_BIN (from `make check`'s
#     environment, else guessed from this file's location);
#   - T_TMP, a private temp dir, and an EXIT trap that stops every process
#     started with start_bg (and the processes those spawned), by PID, and
#     removes T_TMP (KEEP_TMP=1 keeps it);
#   - free_port, closed_port, wait_http, wait_file, wait_path,
#     wait_lines, alive, stop_pid, children_of, bin_path;
#   - start_upstream (the one fake upstream, upstream.py), upstream_mode and
#     start_lighttpd / stop_lighttpd (the one way lighttpd is run);
#     start_tries, the retry loop of every start_* of a web server;
#   - http / raw_http (one request, remembered for the expect_* checks);
#   - check, check_exit, expect_* (each prints "ok - DESC" or
#     "not ok - DESC (got ...)"), skip, skip_all and finish.
#
# Exit statuses follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.

set -u
LC_ALL=C
export LC_ALL

T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TOP_SRCDIR:=$(cd "$T_LIB_DIR/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${SHERVE_BIN:=$TOP_BUILDDIR/src/sherve}"
export TOP_SRCDIR TOP_BUILDDIR SHERVE_BIN
T_NAME=$(basename "$0")

# Keep the caller's sherve settings out of the tests: drop every SHERVE_*
# variable but SHERVE_BIN, and read no config file (one beside the binary
# or in sysconfdir would otherwise be picked up).
for _v in $(compgen -e); do
	case $_v in
	SHERVE_BIN) ;;
	SHERVE_*) unset "$_v" ;;
	esac
done
unset _v GATEWAY_INTERFACE
export SHERVE_CONFIG=/dev/null

T_PASS=0
T_FAIL=0
T_SKIP=0
T_5XX=0
T_5XX_SEEN=
T_PIDS=()
T_LOGS=()
H_STATUS=000
H_DESC_REQ=

# ---------------------------------------------------------------- output

# Collapse a value to one short line for "(got ...)".
t_oneline() {
	local s
	s=$(printf '%s' "$*" | tr '\r\n\t' '   ' | tr -cd '[:print:]')
	if [ "${#s}" -gt 240 ]; then
		s="${s:0:240}..."
	fi
	printf '%s' "$s"
}

pass() {
	T_PASS=$((T_PASS + 1))
	printf 'ok - %s\n' "$1"
}

fail() {
	T_FAIL=$((T_FAIL + 1))
	printf 'not ok - %s (got %s)\n' "$1" "$(t_oneline "${2:-}")"
}

# skip DESC REASON: a check that could not run here.
skip() {
	T_SKIP=$((T_SKIP + 1))
	printf 'ok - %s # SKIP %s\n' "$1" "$2"
}

note() {
	printf '# %s\n' "$*"
}

# skip_all REASON: the whole script cannot run here (automake SKIP).
skip_all() {
	printf 'SKIP: %s: %s\n' "$T_NAME" "$*"
	exit 77
}

# hard_error REASON: the test itself is broken (automake ERROR).
hard_error() {
	printf 'ERROR: %s: %s\n' "$T_NAME" "$*"
	exit 99
}

# log_file PATH: a file to show when the script fails.
log_file() {
	T_LOGS+=("$1")
}

t_dump_logs() {
	local f
	for f in "${T_LOGS[@]}"; do
		[ -s "$f" ] || continue
		printf '# ---- %s (last 25 lines)\n' "$f"
		tail -n 25 "$f" | cut -c 1-300 | sed 's/^/#   /'
	done
}

# finish: print the counts and exit 0 (all passed) or 1.
# Sanitizer reports that went to a log instead of failing a request (a
# leak at exit, a UBSan note): a sanitizer build must leave none.
t_sanitizer_reports() {
	local hits
	hits=$(grep -rlaE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$T_TMP" 2>/dev/null | head -n 5)
	if [ -n "$hits" ]; then
		fail "no sanitizer report in any log" "$(printf '%s ' $hits)"
	fi
}

finish() {
	t_sanitizer_reports
	if [ "$T_SKIP" -gt 0 ]; then
		printf '# %d skipped\n' "$T_SKIP"
	fi
	printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
	if [ "$T_FAIL" -gt 0 ]; then
		t_dump_logs
		exit 1
	fi
	if [ "$T_PASS" -eq 0 ]; then
		hard_error "no check ran"
	fi
	exit 0
}

# need_cmd NAME...: skip the script when a command is missing.
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			skip_all "$c is not installed (apt-get install $c)"
	done
}

# ---------------------------------------------------------------- processes

# PID's state letter (R, S, Z...), empty if there is no such process.
t_proc_state() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	printf '%s' "${s%% *}"
}

# PID's start time in clock ticks, to tell a PID from its reuse.
t_proc_start() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	# Fields after "pid (comm) ": state is field 3, starttime field 22.
	# shellcheck disable=SC2086 # split on purpose
	set -- $s
	printf '%s' "${20:-}"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(t_proc_state "$1") || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# children_of PID: the PIDs whose parent is PID. Reads the kernel's
# /proc/PID/task/*/children when it has them, else scans /proc.
children_of() {
	local want=$1 f s pid ppid kids
	if [ -r "/proc/$want/task/$want/children" ]; then
		for f in /proc/"$want"/task/*/children; do
			kids=
			# No trailing newline here: read fails but fills kids.
			{ read -r kids <"$f"; } 2>/dev/null
			[ -n "$kids" ] || continue
			for pid in $kids; do
				printf '%s\n' "$pid"
			done
		done
		return 0
	fi
	[ -d "/proc/$want" ] || return 0
	for f in /proc/[0-9]*/stat; do
		{ read -r s <"$f"; } 2>/dev/null || continue
		pid=${s%% *}
		s=${s##*) }
		ppid=${s#* }
		ppid=${ppid%% *}
		if [ "$ppid" = "$want" ]; then
			printf '%s\n' "$pid"
		fi
	done
}

# descendants_of PID: children, grandchildren... (bounded depth).
descendants_of() {
	local level=("$1") next p c _
	for _ in 1 2 3 4; do
		next=()
		for p in "${level[@]}"; do
			for c in $(children_of "$p"); do
				printf '%s\n' "$c"
				next+=("$c")
			done
		done
		[ "${#next[@]}" -gt 0 ] || break
		level=("${next[@]}")
	done
}

# start_bg LOG CMD...: start CMD in the background with stdout and stderr
# to LOG, remember its PID for cleanup, and set BG_PID.
start_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 </dev/null &
	BG_PID=$!
	T_PIDS+=("$BG_PID")
	log_file "$log"
}

# t_wait_gone PID TENTHS: wait until PID is gone or a zombie.
t_wait_gone() {
	local pid=$1 n=$2
	while [ "$n" -gt 0 ] && alive "$pid"; do
		sleep 0.1
		n=$((n - 1))
	done
	! alive "$pid"
}

# expect_term_exit DESC PID TENTHS [BG]: SIGTERM PID (a server that is
# being tested for it), then check that it is gone within TENTHS tenths
# of a second with exit status 0, read from BG (what start_bg started,
# when PID runs under it; PID by default).
expect_term_exit() {
	local desc=$1 pid=$2 n=$3 bg=${4:-$2}
	kill -TERM "$pid"
	if t_wait_gone "$pid" "$n"; then
		wait "$bg"
		expect_eq "$desc" "$?" 0
	else
		fail "$desc" "still running $((n / 10)) s after SIGTERM"
	fi
}

# stop_pid PID: SIGTERM PID (a process this script started), wait up to
# 5 s, then SIGKILL; afterwards stop what it had spawned and left behind
# (checked by start time, so a reused PID is never signalled).
stop_pid() {
	local pid=$1 kids=() k start
	for k in $(descendants_of "$pid"); do
		start=$(t_proc_start "$k") || continue
		kids+=("$k:$start")
	done
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		if ! t_wait_gone "$pid" 50; then
			kill -KILL "$pid" 2>/dev/null
			t_wait_gone "$pid" 20
		fi
	fi
	wait "$pid" 2>/dev/null
	for k in "${kids[@]}"; do
		pid=${k%%:*}
		start=${k#*:}
		[ "$(t_proc_start "$pid" 2>/dev/null)" = "$start" ] || continue
		alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		if ! t_wait_gone "$pid" 30; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	return 0
}

t_cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#T_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${T_PIDS[$i]}"
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		printf '# kept %s\n' "$T_TMP"
	else
		rm -rf "$T_TMP"
	fi
	exit "$rc"
}

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sherve-it.XXXXXX") ||
	hard_error "mktemp failed"
trap t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------- network

# free_port VAR: set VAR to a TCP port on 127.0.0.1 for a server this
# script starts, taken from a pool filled 8 at a time by a python3
# one-liner (python starts slowly on a busy machine). Each port is left
# reserved: a connection to it is accepted and closed by its listening
# end first, which leaves the port in TIME_WAIT for 60 s. Meanwhile the
# kernel gives it to no bind(0), so no other test's free_port (nor a
# server asking for any port, as upstream.py does) can take it before
# this script's server binds it; and a connection to it is refused until
# then. A server binding it by number with SO_REUSEADDR, as lighttpd,
# nginx, Apache and sherve do, binds it at once. Never in a command
# substitution: a subshell would take the pool's first port without
# removing it here, and every later call would get that port again.
T_PORTS=()
free_port() {
	local ports
	[ $# -eq 1 ] || hard_error "free_port: usage: free_port VAR"
	if [ "${#T_PORTS[@]}" -eq 0 ]; then
		ports=$(python3 -c 'import socket
def reserve():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname())
    a = ls.accept()[0]
    a.close()  # closed first: this end, the port, goes to TIME_WAIT
    c.close()
    port = ls.getsockname()[1]
    ls.close()
    return port
print(" ".join(str(reserve()) for _ in range(8)))') ||
			hard_error "free_port: python3 failed"
		read -r -a T_PORTS <<<"$ports"
	fi
	printf -v "$1" '%s' "${T_PORTS[0]}"
	T_PORTS=("${T_PORTS[@]:1}")
}

# closed_port VAR: set VAR to a TCP port on 127.0.0.1 where a connection
# is refused for as long as this script runs: a python3 process (stopped
# at exit) holds it bound without listening, so that no other process,
# whatever it asks for, can bind it meanwhile. (A port from free_port is
# meant for a server; one merely let go of could be taken by another
# test's server, and the "closed port" would then answer.)
closed_port() {
	local f=$T_TMP/closed-$1.port
	[ $# -eq 1 ] || hard_error "closed_port: usage: closed_port VAR"
	rm -f "$f"
	start_bg "$T_TMP/closed-$1.out" python3 -c 'import os, signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
signal.pause()' "$f"
	wait_file "$f" 100 || hard_error "closed_port: python3 did not start"
	printf -v "$1" '%s' "$(cat "$f")"
}

# ms_since START: milliseconds since an $EPOCHREALTIME value.
ms_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'
}

# section TITLE: a note with the seconds since the script started.
T_T0=$EPOCHREALTIME
section() {
	note "$1 (at $(($(ms_since "$T_T0") / 1000)) s)"
}

# parallel_get OUT URL...: GET every URL, 16 at a time; a code a line.
parallel_get() {
	local out=$1 u
	shift
	for u in "$@"; do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$u"
	done >"$T_TMP/curl.cfg"
	curl --parallel --parallel-immediate --parallel-max 16 -s \
		--no-progress-meter -m 20 -w '%{http_code}\n' \
		-K "$T_TMP/curl.cfg" >"$out" 2>/dev/null || true
}

# start_upstream [--name N] [FILE [ARG...]]: the fake upstream,
# upstream.py (every mode a test needs: see its header), on a free port,
# serving FILE (default $REDIRECTS), its mode read from $T_TMP/N.mode,
# its log in $T_TMP/N.log (N: upstream); ARGs go to upstream.py, and
# --tls-cert among them makes it https. Sets UP (its base URL), UP_PORT
# and UP_PID.
UP=
UP_PORT=
UP_PID=
start_upstream() {
	local name=upstream file scheme=http
	if [ "${1:-}" = --name ]; then
		name=$2
		shift 2
	fi
	file=${1:-${REDIRECTS:-}}
	[ $# -eq 0 ] || shift
	case "$*" in *--tls-cert*) scheme=https ;; esac
	rm -f "$T_TMP/$name.port"
	start_bg "$T_TMP/$name.out" python3 "$T_LIB_DIR/upstream.py" \
		--file "$file" --port-file "$T_TMP/$name.port" \
		--mode-file "$T_TMP/$name.mode" --log "$T_TMP/$name.log" "$@"
	UP_PID=$BG_PID
	log_file "$T_TMP/$name.log"
	wait_file "$T_TMP/$name.port" 100 ||
		hard_error "the fake upstream '$name' did not start"
	UP_PORT=$(cat "$T_TMP/$name.port")
	UP=$scheme://127.0.0.1:$UP_PORT
}

# detached_refresh STATE_DIR: the PIDs of the `sherve refresh
# --scheduled` processes of $SHERVE_BIN working on STATE_DIR (named in
# their environment, as a CGI passes it on), one a line. Nobody's child
# (a CGI left it behind): found by one pgrep, not a walk of /proc, which
# takes seconds on a busy host.
detached_refresh() {
	local p exe
	exe=$(readlink -f "$SHERVE_BIN")
	for p in $(pgrep -x -f "$SHERVE_BIN refresh --scheduled"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] || continue
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
			grep -qxF "SHERVE_STATE_DIR=$1" && printf '%s\n' "$p"
	done
}

# upstream_mode MODE [N]: switch the upstream named N (default upstream)
# to MODE. The file is replaced whole (renamed over): upstream.py reads
# it on every request, and a file rewritten in place is empty for a
# moment, which it reads as "ok", neither the old mode nor the new.
upstream_mode() {
	local f=$T_TMP/${2:-upstream}.mode
	printf '%s\n' "$1" >"$f.tmp" && mv -f "$f.tmp" "$f"
}

# upstream_count: the requests for the file the upstream of $UP answered.
upstream_count() {
	curl -s -m 5 "$UP/-/count" 2>/dev/null | tr -d '\n'
}

# wait_path TEST PATH TENTHS: wait until `[ TEST PATH ]` holds (TEST:
# -e, -s, -S...), TENTHS tenths of a second at most.
wait_path() {
	local n=$3
	while [ "$n" -gt 0 ]; do
		[ "$1" "$2" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# wait_file FILE [TENTHS]: wait until FILE exists and is not empty.
wait_file() {
	wait_path -s "$1" "${2:-100}"
}

# wait_tick: let a tick of sherve's clock pass. sherve looks at its
# webroot again at most once per tick of the coarse monotonic clock
# (tick.h): a change made in the tick of its last look is seen at the
# next one, not at once. That tick is the kernel's jiffy, 10 ms at most
# (HZ=100; 4 ms at Debian's 250): 20 ms is two of them.
wait_tick() {
	sleep 0.02
}

# wait_lines FILE STRING N [TENTHS]: wait until N lines of FILE hold
# STRING (a fixed string), TENTHS tenths of a second at most (100),
# looking every 20 ms: for a line another process writes when it has
# done something (a log), so that a check reads FILE once that has
# happened.
wait_lines() {
	local n=$((${4:-100} * 5))
	while [ "$n" -gt 0 ]; do
		[ "$(grep -cF -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}

# wait_http URL [PID] [TENTHS]: wait until URL answers with any HTTP
# status; give up early if PID (the server) died.
wait_http() {
	local url=$1 pid=${2:-} n=${3:-100} code
	while [ "$n" -gt 0 ]; do
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" \
			2>/dev/null) || true
		case $code in
		'' | 000) ;;
		*) return 0 ;;
		esac
		if [ -n "$pid" ] && ! alive "$pid"; then
			return 1
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# http [CURL OPTION...] URL: one request. Sets H_STATUS (000 when no
# answer), H_HEADERS and H_BODY (files). --path-as-is keeps "..".
http() {
	H_HEADERS=$T_TMP/last.headers
	H_BODY=$T_TMP/last.body
	: >"$H_HEADERS"
	: >"$H_BODY"
	H_STATUS=$(curl -s --path-as-is -m 10 -o "$H_BODY" -D "$H_HEADERS" \
		-w '%{http_code}' "$@" 2>/dev/null) || true
	[ -n "$H_STATUS" ] || H_STATUS=000
	H_DESC_REQ="$*"
	t_note_5xx
}

t_note_5xx() {
	case $H_STATUS in
	5??)
		T_5XX=$((T_5XX + 1))
		T_5XX_SEEN="$T_5XX_SEEN $H_STATUS:${H_DESC_REQ##* }"
		;;
	esac
}

# raw_http PORT BYTES: send BYTES (printf escapes allowed) to
# 127.0.0.1:PORT with HTTP/1.0 semantics, read until the server closes.
# Sets H_STATUS, H_HEADERS, H_BODY and H_BODY_BYTES (what followed the
# header block: must be 0 for HEAD and 304).
raw_http() {
	local port=$1 req=$2 out
	H_HEADERS=$T_TMP/last.headers
	H_BODY=$T_TMP/last.body
	out=$(python3 - "$port" "$req" "$H_HEADERS" "$H_BODY" <<'EOF'
import socket, sys
port, req, hfile, bfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
req = req.encode().decode("unicode_escape").encode("latin-1")
data = b""
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
except OSError:
    pass
head, sep, body = data.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
status = "000"
if lines and lines[0].startswith(b"HTTP/"):
    parts = lines[0].split()
    if len(parts) > 1:
        status = parts[1].decode("latin-1")
open(hfile, "wb").write(head + sep)
open(bfile, "wb").write(body)
print(status, len(body))
EOF
	) || out="000 0"
	H_STATUS=${out%% *}
	# shellcheck disable=SC2034 # read by the tests
	H_BODY_BYTES=${out##* }
	H_DESC_REQ="raw ${req%%\\r*}"
	t_note_5xx
}

# header NAME: the value of NAME in the last response ("" and status 1
# when absent). Case-insensitive name, CR and surrounding blanks removed.
header() {
	awk -v want="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		{ sub(/\r$/, "") }
		/^HTTP\// { found = 0; next }   # keep only the last response
		{
			i = index($0, ":")
			if (i == 0) next
			k = tolower(substr($0, 1, i - 1))
			if (k == want) {
				v = substr($0, i + 1)
				sub(/^[ \t]+/, "", v)
				sub(/[ \t]+$/, "", v)
				val = v
				found = 1
			}
		}
		END { if (found) { print val; exit 0 } exit 1 }
	' "$H_HEADERS"
}

# ---------------------------------------------------------------- checks

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1 rc
	shift
	"$@" >"$T_TMP/check.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "exit $rc: $(head -c 200 "$T_TMP/check.out")"
	fi
}

# check_exit DESC CODE CMD...: runs CMD with stdin from /dev/null (unless
# C_STDIN names a file), stdout to $C_OUT and stderr to $C_ERR (files);
# passes when its exit status is CODE. Sets C_RC.
C_OUT=$T_TMP/cmd.out
C_ERR=$T_TMP/cmd.err
check_exit() {
	local desc=$1 want=$2
	shift 2
	"$@" <"${C_STDIN:-/dev/null}" >"$C_OUT" 2>"$C_ERR"
	C_RC=$?
	if [ "$C_RC" -eq "$want" ]; then
		pass "$desc"
	else
		fail "$desc" "exit $C_RC, stderr: $(head -c 300 "$C_ERR")"
	fi
}

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "'$2', want '$3'"
	fi
}

# expect_match DESC GOT GLOB
expect_match() {
	# shellcheck disable=SC2254
	case $2 in
	$3) pass "$1" ;;
	*) fail "$1" "'$2', want $3" ;;
	esac
}

# expect_file_contains DESC FILE STRING (fixed string)
expect_file_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "$(head -c 200 "$2" 2>/dev/null) [no '$3']"
	fi
}

# expect_file_not_contains DESC FILE STRING
expect_file_not_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then
		fail "$1" "'$3' in $(basename "$2")"
	else
		pass "$1"
	fi
}

# expect_status DESC CODE: the last http/raw_http status.
expect_status() {
	if [ "$H_STATUS" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "status $H_STATUS, want $2"
	fi
}

# expect_status_in DESC CODE...: any of the codes.
expect_status_in() {
	local desc=$1 c
	shift
	for c in "$@"; do
		if [ "$H_STATUS" = "$c" ]; then
			pass "$desc"
			return
		fi
	done
	fail "$desc" "status $H_STATUS, want one of $*"
}

# expect_header DESC NAME VALUE: exact value.
expect_header() {
	local v
	if ! v=$(header "$2"); then
		fail "$1" "no $2 header"
	elif [ "$v" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "$2: $v, want $3"
	fi
}

# expect_header_like DESC NAME GLOB
expect_header_like() {
	local v
	if ! v=$(header "$2"); then
		fail "$1" "no $2 header"
		return
	fi
	# shellcheck disable=SC2254
	case $v in
	$3) pass "$1" ;;
	*) fail "$1" "$2: $v, want $3" ;;
	esac
}

# expect_no_header DESC NAME
expect_no_header() {
	local v
	if v=$(header "$2"); then
		fail "$1" "$2: $v"
	else
		pass "$1"
	fi
}

# expect_body_contains DESC STRING (fixed string)
expect_body_contains() {
	if grep -qF -- "$2" "$H_BODY"; then
		pass "$1"
	else
		fail "$1" "status $H_STATUS, body: $(head -c 160 "$H_BODY")"
	fi
}

# expect_body_not_contains DESC STRING
expect_body_not_contains() {
	if grep -qF -- "$2" "$H_BODY"; then
		fail "$1" "status $H_STATUS, body has '$2'"
	else
		pass "$1"
	fi
}

# expect_body_empty DESC
expect_body_empty() {
	local n
	n=$(wc -c <"$H_BODY")
	if [ "$n" -eq 0 ]; then
		pass "$1"
	else
		fail "$1" "$n body bytes"
	fi
}

# expect_body_equals DESC STRING: the whole body, byte for byte.
expect_body_equals() {
	if [ "$(cat "$H_BODY"; printf x)" = "$2x" ]; then
		pass "$1"
	else
		fail "$1" "body: $(head -c 160 "$H_BODY"), want: $2"
	fi
}

# expect_body_file DESC FILE: the body is FILE's bytes.
expect_body_file() {
	if cmp -s "$H_BODY" "$2"; then
		pass "$1"
	else
		fail "$1" "$(wc -c <"$H_BODY") bytes differing from $2"
	fi
}

# expect_no_5xx DESC: no request so far got a 5xx.
expect_no_5xx() {
	if [ "$T_5XX" -eq 0 ]; then
		pass "$1"
	else
		fail "$1" "$T_5XX answers:$T_5XX_SEEN"
	fi
}

# ---------------------------------------------------------------- lighttpd

# render_lighttpd TEMPLATE OUT NAME=VALUE...: substitute @NAME@ in
# TEMPLATE (the first value given for a NAME wins). Unless CONFIG is
# given, sherve's settings file the template names (@CONFIG@) is
# rendered from contrib/sherve.conf beside OUT (OUT less .conf, plus
# .sherve.conf) with the same WEBROOT, REDIRECTS_URL, STATE_DIR,
# BASE_PATH (default /) and SENDFILE_MODE (default none). ENV_<VAR>=VALUE
# adds "VAR" => "VALUE" to the bin-environment block, replacing the
# template's own "VAR" line if it has one (lighttpd refuses a duplicate
# key): a test's own setting, over the file's. Fails when a placeholder
# outside comments is left, or a value holds a quote or a newline.
render_lighttpd() {
	local tmpl=$1 out=$2 text p k v env='' line result='' left=''
	local -A envkeys=() vals=()
	shift 2
	text=$(<"$tmpl") || return 1
	for p in "$@"; do
		k=${p%%=*}
		v=${p#*=}
		case $v in
		*'"'* | *$'\n'*)
			printf 'render_lighttpd: %s: no quotes or newlines\n' "$k" >&2
			return 1
			;;
		esac
		case $k in
		ENV_*)
			[ -n "${envkeys[${k#ENV_}]:-}" ] && continue
			envkeys[${k#ENV_}]=1
			env+="      \"${k#ENV_}\" => \"$v\","$'\n'
			;;
		*)
			[ -n "${vals[$k]+x}" ] || vals[$k]=$v
			text=${text//"@$k@"/"$v"}
			;;
		esac
	done
	if [ -z "${vals[CONFIG]+x}" ]; then
		vals[CONFIG]=${out%.conf}.sherve.conf
		"$TOP_SRCDIR/contrib/render" "$TOP_SRCDIR/contrib/sherve.conf" \
			"${vals[CONFIG]}" WEBROOT="${vals[WEBROOT]-}" \
			REDIRECTS_URL="${vals[REDIRECTS_URL]-}" \
			STATE_DIR="${vals[STATE_DIR]-}" \
			BASE_PATH="${vals[BASE_PATH]:-/}" \
			SENDFILE_MODE="${vals[SENDFILE_MODE]:-none}" || return 1
		text=${text//"@CONFIG@"/"${vals[CONFIG]}"}
	fi
	while IFS= read -r line; do
		if [[ $line =~ ^[[:space:]]*\"([A-Z_]+)\"[[:space:]]*=\> ]] &&
			[ -n "${envkeys[${BASH_REMATCH[1]}]:-}" ]; then
			continue
		fi
		result+="$line"$'\n'
		if [ -n "$env" ] &&
			[[ $line =~ ^[[:space:]]*\"bin-environment\"[[:space:]]*=\>[[:space:]]*\( ]]; then
			result+=$env
			env=
		fi
		if [[ ! $line =~ ^[[:space:]]*# ]] && [[ $line =~ @[A-Z_]+@ ]]; then
			left+=" ${BASH_REMATCH[0]}"
		fi
	done <<<"$text"
	if [ -n "$env" ]; then
		printf 'render_lighttpd: no bin-environment block in %s\n' "$tmpl" >&2
		return 1
	fi
	if [ -n "$left" ]; then
		printf 'render_lighttpd: unset placeholders:%s\n' "$left" >&2
		return 1
	fi
	printf '%s' "$result" >"$out"
}

# ---------------------------------------------------------------- READMEs

# readme_block FILE NAME: print the fenced code block that follows the
# line "<!-- test: NAME -->" in FILE (both may be indented, as in a list
# item: the fence's indentation is removed); fails when there is none. The
# contrib READMEs mark so the commands the tests run, so that what a
# reader follows is what was tested.
readme_block() {
	awk -v tag="<!-- test: $2 -->" '
		{ line = $0; sub(/^ +/, "", line) }
		!want && line == tag { want = 1; next }
		want && line ~ /^```/ {
			if (inblk) exit
			inblk = 1
			match($0, /^ */)
			ind = RLENGTH
			next
		}
		inblk { print substr($0, ind + 1); found = 1 }
		END { exit !found }' "$1"
}

# readme_run FILE NAME VAR=VALUE...: run block NAME of FILE with bash -e
# from the top of the source tree (where the README's paths start).
# The block's leading VAR=value lines are the reader's values: each is
# replaced by the test's, and one the test does not give is an error.
# The rest runs as printed. Output to $T_TMP/readme-NAME.log.
readme_run() {
	local file=$1 name=$2 body head=1 line var given
	local -A vals=()
	shift 2
	for given in "$@"; do
		vals[${given%%=*}]=${given#*=}
	done
	body=$(readme_block "$file" "$name") || {
		printf 'readme_run: no block "%s" in %s\n' "$name" "$file" >&2
		return 2
	}
	local -a envs=() rest=()
	while IFS= read -r line; do
		if [ "$head" = 1 ] && [[ $line =~ ^([A-Z_][A-Z0-9_]*)= ]]; then
			var=${BASH_REMATCH[1]}
			if [ -z "${vals[$var]+x}" ]; then
				printf 'readme_run: %s sets %s, the test does not\n' \
					"$name" "$var" >&2
				return 2
			fi
			envs+=("$var=${vals[$var]}")
			continue
		fi
		head=0
		rest+=("$line")
	done <<<"$body"
	(cd "$TOP_SRCDIR" && env "${envs[@]}" bash -e -c \
		"$(printf '%s\n' "${rest[@]}")") >"$T_TMP/readme-$name.log" 2>&1
}

# recipe_status_checks LABEL CONFIG PID URL STATE: a recipe keeps
# sherve's settings in CONFIG, and the web server (PID) names only that
# file: every sherve process under PID has SHERVE_CONFIG=CONFIG in its
# environment and no other SHERVE_* variable (SHERVE_BIN is the test's,
# not a setting; a sherve's own refresh children are not the server's;
# PID "-": a pool started with --config, no such check),
# and `sherve --config CONFIG status`, as an admin runs it, reports
# CONFIG, URL and STATE, and the map those processes stored there from
# URL (the test stored nothing).
recipe_status_checks() {
	local l=$1 cfg=$2 pid=$3 url=$4 state=$5
	[ "$pid" = - ] || recipe_env_checks "$l" "$cfg" "$pid"
	check_exit "[$l] sherve --config CONFIG status exits 0" 0 \
		env -u SHERVE_CONFIG "$SHERVE_BIN" --config "$cfg" status
	expect_file_contains "[$l] status: that config file" "$C_OUT" \
		"config file     $cfg"
	expect_file_contains "[$l] status: the workers' state dir" "$C_OUT" \
		"state dir       $state"
	expect_file_contains "[$l] status: the workers' redirects-url" \
		"$C_OUT" "configured      $url"
	expect_file_contains "[$l] status: the map they stored, from it" \
		"$C_OUT" "source          $url"
}

# recipe_env_checks LABEL CONFIG PID: see recipe_status_checks.
recipe_env_checks() {
	local l=$1 cfg=$2 p seen='' n=0 all e
	all=" $(sherve_procs -r "$3" | tr '\n' ' ')"
	for p in $all; do
		# A worker's refresh child (`sherve refresh`) gets the worker's
		# settings in its environment by design: only what the web
		# server starts is the recipe's.
		[[ $all != *" $(ps -o ppid= -p "$p" | tr -d ' ') "* ]] || continue
		e=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/environ") || continue
		n=$((n + 1))
		seen+=$(printf '%s\n' "$e" | grep '^SHERVE_' |
			grep -v '^SHERVE_BIN=' | sort | tr '\n' ' ')$'\n'
	done
	[ "$n" -gt 0 ] || fail "[$l] the server runs sherve" "none"
	expect_eq "[$l] each sherve the server runs has SHERVE_CONFIG only" \
		"$(printf '%s' "$seen" | sort -u)" "SHERVE_CONFIG=$cfg "
}

# t_first KEY DEFAULT NAME=VALUE...: the first value given for KEY
# (as render_lighttpd takes it), else DEFAULT.
t_first() {
	local k=$1 d=$2 a
	shift 2
	for a in "$@"; do
		case $a in "$k="*)
			printf '%s' "${a#*=}"
			return
			;;
		esac
	done
	printf '%s' "$d"
}

# sherve_procs [-r] PID: the sherve processes PID runs, one a line: its
# children, or with -r every descendant (Apache's go through a manager).
sherve_procs() {
	local c exe list=children_of
	if [ "$1" = -r ]; then
		list=descendants_of
		shift
	fi
	exe=$(readlink -f "$SHERVE_BIN")
	for c in $("$list" "$1"); do
		if [ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$exe" ]; then
			printf '%s\n' "$c"
		fi
	done
}

# wait_port PORT [PID]: wait (10 s at most) until 127.0.0.1:PORT accepts
# a connection, without a request; give up early if PID died.
wait_port() {
	local n=100
	while [ "$n" -gt 0 ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		[ -z "${2:-}" ] || alive "$2" || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# wait_procs PID N: wait (10 s at most) until PID runs N sherve processes.
wait_procs() {
	local n=100
	while [ "$n" -gt 0 ]; do
		[ "$(sherve_procs "$1" | wc -l)" -eq "$2" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# start_tries DESC PIDVAR TRY [ARG...]: the one retry loop of the
# start_* functions. TRY ARG... writes a server's configuration on a
# free port, starts it (setting the variable PIDVAR) and returns 0 once
# it answers. A try that fails is stopped and made again, three times at
# most, but only when one of the server's logs, the array T_TRY_LOGS,
# says that its port was taken meanwhile ("in use"). Says "not ok - DESC
# starts and answers" with those logs and returns 1 when none answered.
T_TRY_LOGS=()
start_tries() {
	local desc=$1 pidvar=$2 _
	shift 2
	for _ in 1 2 3; do
		"$@" && return 0
		[ -z "${!pidvar:-}" ] || stop_pid "${!pidvar}"
		printf -v "$pidvar" '%s' ''
		grep -qi 'in use' "${T_TRY_LOGS[@]}" 2>/dev/null || break
	done
	fail "$desc starts and answers" "$(cat "${T_TRY_LOGS[@]}" 2>/dev/null)"
	return 1
}

# start_lighttpd [--user U] [--procs] [--write WRITE] NAME
# [NAME=VALUE...]: lighttpd -D running sherve, from $TEMPLATE
# (contrib/lighttpd/sherve.conf unless set) rendered into the run
# directory RUNDIR (default $T_TMP/run-NAME), checked with -tt, on a free
# port (another one when that was taken meanwhile). Values: those given
# win, then the script's own defaults in the array L_DEFAULTS, then
# MAX_PROCS=2 BASE_PATH=/ WEBROOT=$W STATE_DIR=$T_TMP/state-NAME
# (created) and no redirects-url; ENV_X=V as render_lighttpd takes them.
# A template with the files-first Lua script gets it in RUNDIR. With
# --write, the configuration is what `WRITE RUNDIR PORT` prints instead
# (Debian's own lighttpd.conf, say). The error and sherve logs start
# empty. Ready when GET $B$L_WAIT (default /) answers; with --procs,
# when the port accepts and MAX_PROCS responders run, no request made.
# With --user, lighttpd (started as root) runs sherve as U, who owns
# RUNDIR. Sets L_RUN, L_PORT, L_PID, B and SV_STATE; on failure says
# "not ok" and returns 1.
start_lighttpd() {
	local user=- byprocs=0 write="" name run state procs lt
	local tmpl=${TEMPLATE:-$TOP_SRCDIR/contrib/lighttpd/sherve.conf}
	while :; do
		case $1 in
		--user) user=$2 && shift 2 ;;
		--procs) byprocs=1 && shift ;;
		--write) write=$2 && shift 2 ;;
		*) break ;;
		esac
	done
	name=$1
	shift
	local -a given=("$@" ${L_DEFAULTS[@]+"${L_DEFAULTS[@]}"})
	run=$(t_first RUNDIR "$T_TMP/run-$name" "${given[@]}")
	state=$(t_first STATE_DIR "$T_TMP/state-$name" "${given[@]}")
	procs=$(t_first MAX_PROCS 2 "${given[@]}")
	lt=${LIGHTTPD:-$(lighttpd_path)} || hard_error "lighttpd is not installed"
	L_RUN=$run
	SV_STATE=$state
	L_PID=
	mkdir -p "$run/htdocs" "$state"
	if grep -q sherve-static.lua "$tmpl"; then
		cp "$TOP_SRCDIR/contrib/lighttpd/sherve-static.lua" "$run/"
	fi
	T_TRY_LOGS=("$run/stderr.log" "$run/error.log")
	start_tries "lighttpd '$name'" L_PID lighttpd_try
}

# lighttpd_try: one try of start_lighttpd (start_tries), with its locals.
lighttpd_try() {
	free_port L_PORT
	if [ -n "$write" ]; then
		"$write" "$run" "$L_PORT" >"$run/lighttpd.conf" ||
			hard_error "cannot write the configuration of lighttpd '$name'"
	else
		render_lighttpd "$tmpl" "$run/lighttpd.conf" "${given[@]}" \
			PORT="$L_PORT" SHERVE_BIN="$SHERVE_BIN" RUNDIR="$run" \
			MAX_PROCS="$procs" BASE_PATH=/ WEBROOT="${W:-}" \
			STATE_DIR="$state" REDIRECTS_URL= ||
			hard_error "cannot render $tmpl"
	fi
	: >"$run/error.log"
	: >"$run/sherve.log"
	if [ "$user" != - ]; then
		printf 'server.username = "%s"\nserver.groupname = "%s"\n' \
			"$user" "$user" >>"$run/lighttpd.conf"
		chown -R "$user:" "$run"
	fi
	"$lt" -tt -f "$run/lighttpd.conf" >"$run/syntax.log" 2>&1 ||
		hard_error "lighttpd -tt: $(cat "$run/syntax.log")"
	start_bg "$run/stderr.log" "$lt" -D -f "$run/lighttpd.conf"
	L_PID=$BG_PID
	log_file "$run/error.log"
	log_file "$run/sherve.log"
	B=http://127.0.0.1:$L_PORT
	if [ "$byprocs" = 1 ]; then
		wait_port "$L_PORT" "$L_PID" && wait_procs "$L_PID" "$procs"
	else
		wait_http "$B${L_WAIT:-/}" "$L_PID" 100
	fi || return 1
	note "lighttpd '$name' (pid $L_PID) on $B"
}

# stop_lighttpd [-d] [LABEL]: stop the lighttpd of start_lighttpd. With
# LABEL, check that its responders are gone too; with -d also that none
# died while it ran (lighttpd logs "child exited").
stop_lighttpd() {
	local procs c gone=yes deaths=0
	if [ "${1:-}" = -d ]; then
		deaths=1
		shift
	fi
	procs=$(sherve_procs "$L_PID")
	stop_pid "$L_PID"
	[ $# -gt 0 ] || return 0
	for c in $procs; do
		t_wait_gone "$c" 50 || gone="no: $c alive"
	done
	expect_eq "[$1] lighttpd and its responders stopped" "$gone" yes
	if [ "$deaths" = 1 ]; then
		expect_file_not_contains "[$1] no responder died while running" \
			"$L_RUN/error.log" 'child exited'
	fi
}

# expect_no_backend_death DESC LOG: lighttpd's error LOG names no backend
# that died ("child signalled: 7" for a SIGBUS, "died", a crash).
expect_no_backend_death() {
	local re='died|signalled|crash|segfault|abort'
	if grep -qiE "$re" "$2"; then
		fail "$1" "$(grep -iE "$re" "$2" | head -n 3)"
	else
		pass "$1"
	fi
}

# expect_between DESC N LO HI: LO <= N <= HI (a count of log lines that
# each process writes once, say).
expect_between() {
	if [ -n "$2" ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then
		pass "$1 ($2)"
	else
		fail "$1" "'$2', want $3 to $4"
	fi
}

# bin_path NAME...: the first NAME found on PATH or in /usr/sbin or
# /usr/local/sbin (where the web servers are, often off a user's PATH);
# fails when there is none.
bin_path() {
	local n p
	for n in "$@"; do
		for p in "$(command -v "$n" 2>/dev/null)" "/usr/sbin/$n" \
			"/usr/local/sbin/$n"; do
			if [ -n "$p" ] && [ -x "$p" ]; then
				printf '%s' "$p"
				return 0
			fi
		done
	done
	return 1
}

# lighttpd_path: the lighttpd binary.
lighttpd_path() {
	bin_path lighttpd
}

# ---------------------------------------------------------------- metrics

# metrics_acl_checks LABEL BASEURL: the contrib recipes serve sherve's
# Prometheus metrics at BASEURL/-/metrics, to loopback only. From
# 127.0.0.1 the exposition is 200 text/plain with sherve_requests_total
# (and passes `promtool check metrics` when promtool is installed). From
# 127.0.0.2 (still loopback to the kernel, not to the web server's
# allow-list) the path, and the variants that the server normalises to
# it or that merely contain it, are refused (403, or 404 from sherve)
# and never show a metric. A second scrape then shows exactly one more
# request, the first scrape: the refused requests never reached sherve.
metrics_acl_checks() {
	local l=$1 u=$2 p n1 n2 pt
	http "$u/-/metrics"
	expect_status "[$l] metrics: GET /-/metrics from 127.0.0.1 is 200" 200
	expect_header_like "[$l] metrics: ... is text/plain" Content-Type \
		'text/plain*'
	expect_body_contains "[$l] metrics: ... has sherve_requests_total" \
		sherve_requests_total
	expect_body_contains "[$l] metrics: ... types it as a counter" \
		'# TYPE sherve_requests_total counter'
	cp "$H_BODY" "$T_TMP/metrics-acl.prom"
	n1=$(awk '$1 == "sherve_requests_total" { print $2 }' \
		"$T_TMP/metrics-acl.prom")
	pt=$(command -v promtool 2>/dev/null) || pt=
	if [ -n "$pt" ]; then
		C_STDIN=$T_TMP/metrics-acl.prom check_exit \
			"[$l] metrics: promtool check metrics accepts it" 0 \
			"$pt" check metrics
	fi
	http --interface 127.0.0.2 "$u/-/metrics"
	expect_status "[$l] metrics: GET /-/metrics from 127.0.0.2 is 403" 403
	expect_body_not_contains "[$l] metrics: ... and shows no metric" \
		sherve_requests_total
	for p in '/-/metrics?x=1' '/-/metrics/' '//-/metrics' '/%2D/metrics' \
		'/-/metrics/../-/metrics' '/x/../-/metrics' '/nope/-/metrics'; do
		http --interface 127.0.0.2 "$u$p"
		expect_status_in "[$l] metrics: $p from 127.0.0.2 is 403 or 404" \
			403 404
		expect_body_not_contains "[$l] metrics: ... and shows no metric" \
			sherve_requests_total
	done
	http "$u/-/metrics"
	expect_status "[$l] metrics: a second scrape from 127.0.0.1 is 200" 200
	n2=$(awk '$1 == "sherve_requests_total" { print $2 }' "$H_BODY")
	if [ -n "$n1" ] && [ "$n2" = "$((n1 + 1))" ]; then
		pass "[$l] metrics: the count grew by the first scrape only ($n1 -> $n2): refused requests never reached sherve"
	else
		fail "[$l] metrics: the count grew by the first scrape only" \
			"'$n1' -> '$n2'"
	fi
}

# ---------------------------------------------------------------- directory slash

# t_url_parts URL: sets U_PORT and U_PATH ("" or "/go") of an
# http://127.0.0.1:PORT[/PATH] URL.
t_url_parts() {
	local hp=${1#http://}
	U_PATH=
	case $hp in
	*/*) U_PATH=/${hp#*/} hp=${hp%%/*} ;;
	esac
	U_PORT=${hp##*:}
}

# slash_checks LABEL BASEURL: directory-slash = redirect (the default),
# sherve mounted at BASEURL (http://127.0.0.1:PORT or .../go). The
# webroot has docs/guide/index.html (NESTED-INDEX) and empty-dir/, a
# directory without index.html. A directory asked for without its slash
# is 301 to itself with the slash, under the mount, the query kept as
# sent, for HEAD too and whatever the conditionals; following it gives
# the index. A directory without index.html stays a 404, slash or not.
slash_checks() {
	local l=$1 u=$2 eff
	t_url_parts "$u"
	http "$u/docs/guide"
	expect_status "[$l] slash: /docs/guide (a directory) is 301" 301
	expect_header "[$l] slash: ... to $U_PATH/docs/guide/" Location \
		"$U_PATH/docs/guide/"
	expect_header "[$l] slash: ... cached as redirects are" Cache-Control \
		'public, max-age=3600'
	expect_body_not_contains "[$l] slash: ... without the index" NESTED-INDEX
	http "$u/docs/guide?b=2&a=%26%20&&c"
	expect_status "[$l] slash: with a query, 301" 301
	expect_header "[$l] slash: ... the query kept as sent" Location \
		"$U_PATH/docs/guide/?b=2&a=%26%20&&c"
	http -H 'If-None-Match: *' -H 'Range: bytes=0-1' "$u/docs/guide"
	expect_status "[$l] slash: If-None-Match: * and Range change nothing: 301" 301
	raw_http "$U_PORT" "HEAD $U_PATH/docs/guide HTTP/1.0\r\nHost: t\r\n\r\n"
	expect_status "[$l] slash: HEAD is 301" 301
	expect_header "[$l] slash: ... with the Location" Location \
		"$U_PATH/docs/guide/"
	expect_eq "[$l] slash: ... and no body" "$H_BODY_BYTES" 0
	eff=$(curl -s -L --max-redirs 2 -m 10 -o "$T_TMP/slash.body" \
		-w '%{http_code} %{url_effective}' "$u/docs/guide?x=1") || eff=
	expect_eq "[$l] slash: followed, the index at the URL with the slash" \
		"$eff" "200 $u/docs/guide/?x=1"
	expect_file_contains "[$l] slash: ... NESTED-INDEX" "$T_TMP/slash.body" \
		NESTED-INDEX
	http "$u/empty-dir"
	expect_status "[$l] slash: a directory without index.html is 404" 404
	expect_no_header "[$l] slash: ... with no Location" Location
	http "$u/empty-dir/"
	expect_status "[$l] slash: ... with its slash too" 404
}

# slash_serve_checks LABEL BASEURL: directory-slash = serve, the
# predecessors' answer: the index of a directory asked for without its
# slash, 200 with its ETag, and 304 to that ETag.
slash_serve_checks() {
	local l=$1 u=$2 etag
	t_url_parts "$u"
	http "$u/docs/guide?x=1"
	expect_status "[$l] serve: /docs/guide is 200" 200
	expect_body_contains "[$l] serve: ... its index" NESTED-INDEX
	expect_no_header "[$l] serve: ... with no Location" Location
	etag=$(header ETag) || etag=
	expect_match "[$l] serve: ... and its ETag" "$etag" '"*"'
	http -H "If-None-Match: $etag" "$u/docs/guide"
	expect_status "[$l] serve: If-None-Match with it is 304" 304
	raw_http "$U_PORT" "HEAD $U_PATH/docs/guide HTTP/1.0\r\nHost: t\r\n\r\n"
	expect_status "[$l] serve: HEAD is 200" 200
	expect_eq "[$l] serve: ... and no body" "$H_BODY_BYTES" 0
	http "$u/empty-dir"
	expect_status "[$l] serve: a directory without index.html is 404" 404
}

# ---------------------------------------------------------------- counts

# sherve_requests_total STATE_DIR: sherve_requests_total summed over every
# process of the instance (read-only: `sherve metrics`).
sherve_requests_total() {
	"$SHERVE_BIN" --state-dir "$1" metrics 2>/dev/null |
		awk '$1 == "sherve_requests_total" { print $2 }'
}

# exact_count_checks LABEL BASEURL STATE_DIR: 400 requests, 20 clients at
# once (/foo, a 301, and /style.css, a 200, from make_site's fixtures),
# each answered with its status, and sherve_requests_total grows by
# exactly 400: no count lost to a web server that stops a CGI process
# once its answer is complete, none counted twice. The count is read
# again until it reaches 400 (a CGI process may still be exiting), for
# 10 s at most, then once more after 1 s to see that it stays there.
exact_count_checks() {
	local l=$1 u=$2 st=$3 m0 m1 c pids=() n ok
	m0=$(sherve_requests_total "$st")
	for c in $(seq 1 20); do
		if [ $((c % 2)) -eq 0 ]; then
			curl -s -o /dev/null -m 30 -w '%{http_code}\n' \
				"$u/foo?c=$c&i=[1-20]" >"$T_TMP/exact-$c" &
		else
			curl -s -o /dev/null -m 30 -w '%{http_code}\n' \
				"$u/style.css?c=$c&i=[1-20]" >"$T_TMP/exact-$c" &
		fi
		pids+=($!)
	done
	wait "${pids[@]}"
	ok=0
	for c in $(seq 1 20); do
		n=$(grep -cx "$([ $((c % 2)) -eq 0 ] && echo 301 || echo 200)" \
			"$T_TMP/exact-$c")
		ok=$((ok + n))
	done
	expect_eq "[$l] 400 requests from 20 clients at once, each with its status" \
		"$ok" 400
	for _ in $(seq 1 100); do
		m1=$(sherve_requests_total "$st")
		[ "$((${m1:-0} - ${m0:-0}))" -ge 400 ] && break
		sleep 0.1
	done
	sleep 1
	m1=$(sherve_requests_total "$st")
	expect_eq "[$l] sherve_requests_total grew by exactly 400 ($m0 -> $m1)" \
		"$((${m1:-0} - ${m0:-0}))" 400
}

# ---------------------------------------------------------------- sendfile

# sherve_counter STATE_DIR NAME: the counter NAME (sherve_requests_total,
# sherve_response_bytes_total) summed over every process that serves from
# STATE_DIR, whoever started them (read-only: `sherve metrics`).
sherve_counter() {
	"$SHERVE_BIN" --state-dir "$1" metrics 2>/dev/null |
		awk -v n="$2" '$1 == n { print $2 }'
}

# sherve_bytes_total STATE_DIR: sherve_response_bytes_total.
sherve_bytes_total() {
	sherve_counter "$1" sherve_response_bytes_total
}

# t_request_lines LOG PATH STATUS: sherve's request log lines for PATH.
t_request_lines() {
	grep -F '"msg":"request"' "$1" 2>/dev/null |
		grep -F "\"path\":\"$2\"" | grep -cF "\"status\":\"$3\""
}

# headers_only LABEL LOG PATH STATE_DIR N0 B0 MAX: after a 200 for PATH
# in a sendfile mode, sherve logged one request line for it (LOG had N0
# before) and wrote fewer than MAX bytes, but some (the instance's
# sherve_response_bytes_total was B0 before): the web server sent the
# body.
headers_only() {
	local l=$1 log=$2 p=$3 st=$4 n0=$5 b0=$6 max=$7 n1 b1 _
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		n1=$(t_request_lines "$log" "$p" 200)
		[ "$n1" -gt "$n0" ] && break
		sleep 0.2
	done
	expect_eq "[$l] ... after sherve decided (one request line in its log)" \
		"$((n1 - n0))" 1
	b1=$(sherve_bytes_total "$st")
	if [ -n "$b0" ] && [ -n "$b1" ] && [ "$((b1 - b0))" -lt "$max" ] &&
		[ "$((b1 - b0))" -gt 0 ]; then
		pass "[$l] ... but sherve wrote only headers ($((b1 - b0)) bytes): the web server sent the body"
	else
		fail "[$l] ... but sherve wrote only headers" \
			"sherve_response_bytes_total '$b0' -> '$b1'"
	fi
}

# sendfile_checks LABEL BASEURL WEBROOT STATE_DIR LOG GZIP: a recipe in
# which sherve answers a file with X-Sendfile and the web server sends it
# (sendfile-mode lighttpd or apache). WEBROOT is the recipe's webroot and
# holds make_site's files (index.html, docs/guide/, 404.html, .secret)
# and link.txt, a symbolic link out of it to a CANARY file; the map has
# foo. STATE_DIR is sherve's, LOG the file sherve's stderr goes to (log
# level info). GZIP is what a client that accepts gzip gets for a file
# with a .gz sibling: "gzip" (the sibling, with Content-Encoding) or
# "identity" (the file: sherve sends no variant in apache mode, since
# mod_xsendfile drops Content-Encoding). Writes xs-* files and two
# whose names hold a percent-escape ("%2esecret", "link%2etxt") into
# WEBROOT.
#
# Each file answer is 200 with the exact bytes and sherve's headers, but
# sherve logs one request line for it and writes only its headers
# (sherve_response_bytes_total grows by less than 4 KiB for 256 KiB): the
# web server sent the body. sherve's own answers stay sherve's: 304, 206,
# 301, 404 and the refusals of a symlink out and of dotfiles. No body
# comes without its Content-Encoding. A file named with a percent-escape
# is sent as itself (sherve streams it: lighttpd would decode the name),
# never as the file the decoded name names. A file replaced by a rename, or rewritten in place, is sent as
# it is now.
sendfile_checks() {
	local l=$1 u=$2 w=$3 st=$4 log=$5 gz=$6 size n0 b0 i etag
	head -c 196608 /dev/urandom | base64 >"$w/xs-big.txt"
	gzip -9 -n -c "$w/xs-big.txt" >"$w/xs-big.txt.gz"
	size=$(wc -c <"$w/xs-big.txt" | tr -d ' ')

	n0=$(t_request_lines "$log" /xs-big.txt 200)
	b0=$(sherve_bytes_total "$st")
	http "$u/xs-big.txt"
	expect_status "[$l] a ${size}-byte asset is 200" 200
	expect_body_file "[$l] ... with the file's exact bytes" "$w/xs-big.txt"
	expect_header "[$l] ... and its Content-Length" Content-Length "$size"
	expect_header_like "[$l] ... and sherve's Content-Type" Content-Type \
		'text/plain*'
	expect_no_header "[$l] ... and no X-Sendfile header for the client" \
		X-Sendfile
	etag=$(header ETag) || etag=
	expect_match "[$l] ... and sherve's quoted ETag" "$etag" '"*-*-*"'
	headers_only "$l" "$log" /xs-big.txt "$st" "$n0" "$b0" 4096

	http -H "If-None-Match: $etag" "$u/xs-big.txt"
	expect_status "[$l] If-None-Match with that ETag is 304" 304
	expect_body_empty "[$l] ... with an empty body"
	# HEAD over a raw socket, so that a stray body would show.
	t_url_parts "$u"
	raw_http "$U_PORT" "HEAD $U_PATH/xs-big.txt HTTP/1.0\r\nHost: t\r\n\r\n"
	expect_status "[$l] HEAD is 200" 200
	expect_header "[$l] ... with the GET Content-Length" Content-Length "$size"
	expect_eq "[$l] ... and no body" "$H_BODY_BYTES" 0
	http -H 'Range: bytes=1000-1999' "$u/xs-big.txt"
	expect_status "[$l] Range bytes=1000-1999 is 206" 206
	expect_header "[$l] ... with its Content-Range" Content-Range \
		"bytes 1000-1999/$size"
	tail -c +1001 "$w/xs-big.txt" | head -c 1000 >"$T_TMP/xs-range"
	expect_body_file "[$l] ... and those 1000 bytes" "$T_TMP/xs-range"
	http -H 'Accept-Encoding: gzip' "$u/xs-big.txt"
	if [ "$gz" = gzip ]; then
		expect_header "[$l] Accept-Encoding: gzip gets the .gz sibling" \
			Content-Encoding gzip
		expect_body_file "[$l] ... byte for byte" "$w/xs-big.txt.gz"
	else
		expect_no_header "[$l] Accept-Encoding: gzip gets no Content-Encoding" \
			Content-Encoding
		expect_body_file "[$l] ... and the file itself, not the .gz" \
			"$w/xs-big.txt"
	fi

	http "$u/"
	expect_status "[$l] GET / is 200" 200
	expect_body_contains "[$l] ... index.html, sent by the server" \
		INDEX-MARKER
	http "$u/docs/guide/"
	expect_body_contains "[$l] a directory with its slash sends its index" \
		NESTED-INDEX
	http "$u/docs/guide"
	expect_status "[$l] ... without it, sherve's 301" 301
	expect_no_header "[$l] ... with no X-Sendfile" X-Sendfile
	http "$u/foo"
	expect_status "[$l] alias /foo is 301" 301
	expect_header "[$l] ... to its Location" Location https://example.com/foo
	http "$u/nope"
	expect_status "[$l] an unknown path is 404" 404
	expect_body_contains "[$l] ... with the webroot's 404.html" CUSTOM-404
	for i in /link.txt /.secret /%2esecret; do
		http "$u$i"
		expect_status "[$l] refused: $i is 404" 404
		expect_body_not_contains "[$l] ... and leaks nothing" CANARY
	done
	# sherve names the file as it is on disk; a server that decoded the
	# name again would send .secret, or follow link.txt out of the webroot.
	printf 'PCT-NAME\n' >"$w/%2esecret"
	printf 'PCT-LINK\n' >"$w/link%2etxt"
	for i in %2esecret link%2etxt; do
		http "$u/${i//%/%25}"
		expect_body_not_contains "[$l] the file named '$i' leaks nothing" CANARY
		expect_status "[$l] ... and is 200" 200
		expect_body_file "[$l] ... with its own bytes" "$w/$i"
	done

	# The web server opens the file again by its name: what it sends must
	# be the file as it is now, not one its caches remember.
	printf 'SWAP-ONE\n' >"$w/xs-swap.txt"
	http "$u/xs-swap.txt"
	http "$u/xs-swap.txt"
	printf 'SWAP-TWO, a longer second version\n' >"$w/xs-swap.new"
	mv "$w/xs-swap.new" "$w/xs-swap.txt"
	http "$u/xs-swap.txt"
	expect_body_file "[$l] a file replaced by a rename is sent new at once" \
		"$w/xs-swap.txt"
	expect_header "[$l] ... with its new Content-Length" Content-Length \
		"$(wc -c <"$w/xs-swap.txt" | tr -d ' ')"
	printf 'SWAP-3\n' >"$w/xs-swap.txt"
	http "$u/xs-swap.txt"
	expect_body_file "[$l] a file rewritten shorter in place is sent as it is" \
		"$w/xs-swap.txt"
}

# sendfile_flip_checks LABEL BASEURL LINK: LINK, the recipe's webroot, is
# a symbolic link to a directory; a deploy flips it to another release
# (ln -sfn + mv -T). The file sent must come from the release LINK names
# now, then again from the first one when flipped back.
sendfile_flip_checks() {
	local l=$1 u=$2 link=$3 one two
	one=$(readlink -f "$link")
	two=$link.release-two
	mkdir -p "$two"
	printf 'RELEASE-ONE\n' >"$one/xs-flip.txt"
	printf 'RELEASE-TWO, a longer file\n' >"$two/xs-flip.txt"
	http "$u/xs-flip.txt"
	http "$u/xs-flip.txt"
	expect_body_contains "[$l] symlinked webroot: the first release" \
		RELEASE-ONE
	ln -sfn "$two" "$link.new" && mv -T "$link.new" "$link"
	http "$u/xs-flip.txt"
	expect_body_file "[$l] ... flipped: the second release at once" \
		"$two/xs-flip.txt"
	expect_header "[$l] ... with its Content-Length" Content-Length \
		"$(wc -c <"$two/xs-flip.txt" | tr -d ' ')"
	ln -sfn "$one" "$link.new" && mv -T "$link.new" "$link"
	http "$u/xs-flip.txt"
	expect_body_file "[$l] ... flipped back: the first release again" \
		"$one/xs-flip.txt"
	# A request right after each flip, on a kept connection (curl starts
	# too slowly to land within sherve's clock tick): the headers sherve
	# took from its fd (the ETag) and the body must be of the same
	# release, though the server opens the file again by its name.
	local got
	got=$(python3 - "${u#http://}" "$link" "$one" "$two" <<'PY'
import http.client, os, sys
hp, link, rels = sys.argv[1], sys.argv[2], sys.argv[3:5]
host, _, path = hp.partition("/")
base = "/" + path if path else ""
c = http.client.HTTPConnection(host, timeout=10)
bad = 0
for i in range(100):
    os.symlink(rels[(i + 1) % 2], link + ".new")
    os.replace(link + ".new", link)
    c.request("GET", base + "/xs-flip.txt")
    r = c.getresponse()
    body = r.read()
    # Within sherve's clock tick the old release may still answer, but
    # whole: the body of one release under that release's headers.
    ok = False
    for rel in rels:
        f = rel + "/xs-flip.txt"
        st = os.stat(f)
        # sherve's ETag (cond.c): size, mtime seconds, nanoseconds, hex.
        etag = '"%x-%x-%x"' % (st.st_size, st.st_mtime_ns // 10**9,
                               st.st_mtime_ns % 10**9)
        ok = ok or (body == open(f, "rb").read()
                    and r.getheader("Content-Length") == str(len(body))
                    and r.getheader("ETag") == etag)
    bad += 0 if ok else 1
os.symlink(rels[0], link + ".new")
os.replace(link + ".new", link)
print(bad)
PY
) || got="python3 failed"
	expect_eq "[$l] 100 flips, each followed at once by a request: ETag, length and body of one release every time" \
		"$got" 0
}

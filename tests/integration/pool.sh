#!/bin/bash
#
# tests/integration/pool.sh - the pre-fork pool of `sherve serve` under
# load, behind nginx (contrib/nginx/sherve.conf):
#
#   (a) kill -9 of a worker during steady load: the master starts a new
#       one, and at most the request(s) that worker had in flight fail;
#   (b) SIGTERM to the master during load: a slow download already in
#       flight completes in full, the master exits 0 within
#       shutdown-grace and removes its socket; with a short grace, a
#       download that outlives it is cut and the master still exits 0;
#   (c) SIGHUP after redirect-status goes from 301 to 308 in the config
#       file: new workers answer 308, on the same socket, and a request
#       loop across the reload sees no failure; a broken config file on
#       SIGHUP is refused and the running workers stay.
#
# Socket activation (systemd) is in systemd.sh.
#
# Needs nginx, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
NGINX=$(nginx_path) || skip_all "nginx is not installed (apt-get install nginx)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/nginx/sherve.conf
[ -r "$TEMPLATE" ] || hard_error "$TEMPLATE: missing"
FCGI_GET=(python3 "$T_LIB_DIR/fcgi_get.py")

open_tmp_to_children
make_site
# A big asset, for downloads that stay in flight for a while.
head -c $((8 * 1024 * 1024)) /dev/urandom >"$W/big.bin"
BIG_SUM=$(sha256sum "$W/big.bin" | cut -d' ' -f1)
BIG_LEN=$(wc -c <"$W/big.bin" | tr -d ' ')
start_upstream

SOCKDIR=$T_TMP/run
SOCK=$SOCKDIR/sherve.sock
CONF=$T_TMP/sherve.conf
give_to_child "$SOCKDIR" "$T_TMP/state"

# write_conf STATUS [GRACE]: the pool's config file.
write_conf() {
	cat >"$CONF" <<EOF
# pool.sh
listen = unix:$SOCK
workers = 2
webroot = $W
redirects-url = $UP/redirects.txt
state-dir = $T_TMP/state
redirect-status = $1
shutdown-grace = ${2:-10}
EOF
}

# main_pool NAME: start_pool, sherve serve --config $CONF (as the
# children's user when root); sets M_PID and waits for its 2 workers.
main_pool() {
	local name=$1 rc=0
	POOL_LOG=$T_TMP/pool-$name.log
	start_pool "$SOCK" 2 "$POOL_LOG" "$SHERVE_BIN" serve --config "$CONF" \
		${U:+--user "$U"} || rc=$?
	[ "$rc" -ne 1 ] || hard_error "sherve serve '$name' did not create $SOCK"
	[ "$rc" -ne 2 ] || hard_error "sherve serve '$name' did not start 2 workers"
}

# load_loop NAME N URL: N sequential requests in the background (one
# curl, one kept-alive connection to nginx; nginx opens one FastCGI
# connection per request); sets L_PID. load_codes NAME then writes one
# status code per line to $T_TMP/load-NAME.
load_loop() {
	start_bg "$T_TMP/load-$1.raw" curl -s -m 10 \
		-w '\nCODE:%{http_code}\n' "$3?i=[1-$2]"
	L_PID=$BG_PID
}
load_codes() {
	grep -a '^CODE:' "$T_TMP/load-$1.raw" | cut -c6- >"$T_TMP/load-$1"
}

# codes_other FILE REGEX: how many lines of FILE do not match REGEX
# (grep -E, whole line).
codes_other() {
	grep -cvxE "$2" "$1"
}

T_START=$(date +%s.%N)
tnote() {
	note "$(python3 -c "import time; print('%5.1fs' % (time.time() - $T_START))") $*"
}

U=$(child_user)
write_conf 301
main_pool main

# nginx in front, from the contrib template.
PRE=$T_TMP/nginx
nginx_in_front "$TEMPLATE" "$PRE" "$SOCK"
tnote "nginx (pid $N_PID) on $B, pool (pid $M_PID) on $SOCK"
http "$B/foo"
expect_status "the pool answers through nginx" 301

# Kept FastCGI connections (the recipe's upstream keepalive): nginx's 2
# workers may keep up to 16 idle connections to a pool of 2 workers. A
# worker blocked on one idle connection would starve the rest; sherve
# watches them all, so 20 clients at once all get their answers.
tnote "kept connections: 20 clients at once, 400 requests"
req_total() {
	sherve_counter "$T_TMP/state" sherve_requests_total
}
m0=$(req_total)
t0=$EPOCHREALTIME
ka=()
for c in $(seq 1 20); do
	curl -s -o /dev/null -m 10 -w '%{http_code}\n' "$B/foo?c=$c&i=[1-20]" \
		>"$T_TMP/ka-$c" &
	ka+=($!)
done
wait "${ka[@]}"
ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
expect_eq "kept connections: all 400 requests are 301" \
	"$(cat "$T_TMP"/ka-* | grep -c '^301$')" 400
if [ "$ms" -lt 8000 ]; then
	pass "kept connections: no request waited on a held worker ($ms ms)"
else
	fail "kept connections: no request waited on a held worker" "$ms ms"
fi
expect_eq "metrics: the pool counted exactly the 400 requests, over both workers" \
	"$(($(req_total) - m0))" 400
kept=$(ss -xH 2>/dev/null | grep -cF "$SOCK")
if [ "${kept:-0}" -gt 0 ]; then
	pass "kept connections: nginx keeps FastCGI connections open ($kept ends)"
else
	fail "kept connections: nginx keeps FastCGI connections open" "none in ss -x"
fi

# ---------------------------------------------------------------- (a)

tnote "(a) kill -9 of a worker under load"
before=$(sherve_workers "$M_PID" | sort)
# Loops far longer than the test needs (at most 20000 requests each, and
# stopped below): however the host schedules this script, the kill
# lands while both still run, and enough load follows it.
load_loop a1 20000 "$B/foo"
A1=$L_PID
load_loop a2 20000 "$B/style.css"
A2=$L_PID
# load_answers: the answers both loops have had so far.
load_answers() {
	cat "$T_TMP/load-a1.raw" "$T_TMP/load-a2.raw" 2>/dev/null | grep -ac '^CODE:'
}
# Kill the first worker once the load is under way: after 100 answers in
# all, counted over both loops (on a loaded machine one loop can run far
# ahead of the other).
deadline=$(($(date +%s) + 30))
while [ "$(load_answers)" -lt 100 ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.02
done
victim=$(printf '%s\n' "$before" | head -n 1)
kill -KILL "$victim"
at_kill=$(load_answers)
if alive "$A1" && alive "$A2"; then
	pass "(a) the worker was killed during the load"
else
	fail "(a) the worker was killed during the load" "a load loop had ended"
fi
tnote "killed worker $victim after $at_kill requests"
# The master must have 2 workers again, one of them new.
respawned=
for _ in $(seq 1 50); do
	now=$(sherve_workers "$M_PID" | sort)
	if [ "$(printf '%s\n' "$now" | grep -c .)" -eq 2 ] &&
		! printf '%s\n' "$now" | grep -qx "$victim"; then
		respawned=yes
		break
	fi
	sleep 0.1
done
expect_eq "(a) the master is back to 2 workers" \
	"$(sherve_workers "$M_PID" | wc -l | tr -d ' ')" 2
if [ -n "$respawned" ] && [ "$now" != "$before" ]; then
	pass "(a) a new worker replaced the killed one"
else
	fail "(a) a new worker replaced the killed one" \
		"before: ${before//$'\n'/ } now: ${now//$'\n'/ }"
fi
expect_file_contains "(a) the master logged the death" "$POOL_LOG" \
	"worker $victim killed by signal 9"
# 1000 answers after the kill (60 s at most), then the loops are stopped:
# a request cut by the stop leaves no code, so none is counted failed.
deadline=$(($(date +%s) + 60))
while [ "$(load_answers)" -lt $((at_kill + 1000)) ] && alive "$A1" &&
	[ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.1
done
kill -TERM "$A1" "$A2" 2>/dev/null
if t_wait_gone "$A1" 100 && t_wait_gone "$A2" 100; then
	pass "(a) the load loops stopped"
else
	fail "(a) the load loops stopped" "still running 10 s after SIGTERM"
fi
wait "$A1" "$A2" 2>/dev/null
load_codes a1
load_codes a2
total=$(cat "$T_TMP/load-a1" "$T_TMP/load-a2" | grep -c .)
failed=$(($(codes_other "$T_TMP/load-a1" 301) + $(codes_other "$T_TMP/load-a2" 200)))
tnote "(a) $total requests, $failed failed"
if [ "$total" -ge $((at_kill + 1000)) ]; then
	pass "(a) 1000 requests or more were answered after the kill ($((total - at_kill)))"
else
	fail "(a) 1000 requests or more were answered after the kill" \
		"$((total - at_kill)) in 60 s"
fi
if [ "$failed" -le 2 ]; then
	pass "(a) at most the in-flight requests failed ($failed <= 2)"
else
	fail "(a) at most the in-flight requests failed" "$failed failures: $(sort "$T_TMP/load-a1" "$T_TMP/load-a2" | uniq -c | tr '\n' ' ')"
fi
T_5XX=0 # 502s for the killed worker's request are allowed above
http "$B/foo"
expect_status "(a) the pool still answers" 301

# ---------------------------------------------------------------- (c)

tnote "(c) SIGHUP after redirect-status 301 -> 308"
ino_before=$(stat -c %i "$SOCK")
before=$(sherve_workers "$M_PID" | sort)
load_loop c1 200 "$B/foo"
C1=$L_PID
load_loop c2 200 "$B/style.css"
C2=$L_PID
wait_file "$T_TMP/load-c1.raw" 50
sleep 0.3
write_conf 308
kill -HUP "$M_PID"
got=
for _ in $(seq 1 50); do
	code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$B/foo?probe") || true
	if [ "$code" = 308 ]; then
		got=yes
		break
	fi
	sleep 0.1
done
expect_eq "(c) after SIGHUP the alias answers 308" "${got:-no}" yes
t_wait_gone "$C1" 400
t_wait_gone "$C2" 400
wait "$C1" "$C2" 2>/dev/null
load_codes c1
load_codes c2
expect_eq "(c) the loop across the reload saw only 301/308" \
	"$(codes_other "$T_TMP/load-c1" '30[18]')" 0
expect_eq "(c) the asset loop across the reload saw only 200" \
	"$(codes_other "$T_TMP/load-c2" 200)" 0
expect_eq "(c) the loops made all 400 requests" \
	"$(cat "$T_TMP/load-c1" "$T_TMP/load-c2" | grep -c .)" 400
# The old generation serves until the new one is ready, then drains (one
# last answer on each kept connection): a 308 seen does not mean it is
# gone. Wait until it is.
gone=yes
for p in $before; do
	t_wait_gone "$p" 100 || gone="no: $p alive"
done
expect_eq "(c) the old workers are gone after the reload" "$gone" yes
all308=yes
for i in $(seq 1 10); do
	code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$B/foo?after=$i")
	[ "$code" = 308 ] || all308="no: $code"
done
expect_eq "(c) every later request is 308 (old workers gone)" "$all308" yes
wait_workers "$M_PID" 2 50
after=$(sherve_workers "$M_PID" | sort)
expect_eq "(c) 2 workers after the reload" "$(printf '%s\n' "$after" | grep -c .)" 2
common=$(comm -12 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -c .)
expect_eq "(c) the workers were all replaced" "$common" 0
expect_eq "(c) the socket is the same (not re-created)" \
	"$(stat -c %i "$SOCK" 2>/dev/null)" "$ino_before"
expect_file_contains "(c) the master logged the reload" "$POOL_LOG" \
	'serve: reloaded'

# A broken file: refused, nothing changes.
before=$(sherve_workers "$M_PID" | sort)
printf 'redirect-status = 999\n' >>"$CONF"
kill -HUP "$M_PID"
wait_lines "$POOL_LOG" 'reload refused' 1
expect_file_contains "(c) a broken config on SIGHUP is refused" "$POOL_LOG" \
	'reload refused'
expect_eq "(c) ... and the workers stay" "$(sherve_workers "$M_PID" | sort)" \
	"$before"
http "$B/foo"
expect_status "(c) ... and keep answering 308" 308
expect_no_5xx "(c) no request got a 5xx across the reloads"

# ---------------------------------------------------------------- (b)

tnote "(b) SIGTERM to the master during load"
write_conf 308 10
kill -HUP "$M_PID" # a valid file again (grace 10 s)
sleep 0.5
# A slow download straight on the socket (nginx would buffer it and free
# the worker at once): ~4 MB/s for 8 MiB.
rm -f "$T_TMP/dl.started"
start_bg "$T_TMP/dl.out" "${FCGI_GET[@]}" "$SOCK" /big.bin --rate 4000000 \
	--out "$T_TMP/dl.body" --started "$T_TMP/dl.started" --timeout 30
DL=$BG_PID
load_loop b1 3000 "$B/foo"
B1=$L_PID
wait_exists "$T_TMP/dl.started" 50 || true
[ -e "$T_TMP/dl.started" ] || fail "(b) the download started" "no bytes"
t0=$(date +%s.%N)
kill -TERM "$M_PID"
# A request that arrives during the drain (timed, for the log).
start_bg "$T_TMP/late.out" curl -s -o /dev/null -m 15 \
	-w '%{http_code} %{time_total}s' "$B/foo?late"
LATE=$BG_PID
if t_wait_gone "$M_PID" 120; then
	wait "$M_PID"
	rc=$?
	t1=$(date +%s.%N)
	expect_eq "(b) the master exits 0" "$rc" 0
	secs=$(python3 -c "print(round($t1 - $t0, 1))")
	tnote "(b) the master exited ${secs}s after SIGTERM"
	if python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 11 else 1)"; then
		pass "(b) the master exits within shutdown-grace (10 s)"
	else
		fail "(b) the master exits within shutdown-grace (10 s)" "${secs}s"
	fi
else
	fail "(b) the master exits 0" "still running 12 s after SIGTERM"
fi
t_wait_gone "$DL" 100
wait "$DL"
expect_eq "(b) the download in flight completed (exit 0)" "$?" 0
expect_match "(b) ... with status 200 and every byte" "$(cat "$T_TMP/dl.out")" \
	"status=200 bytes=$BIG_LEN length=$BIG_LEN sha256=$BIG_SUM end=1*"
expect_file_contains "(b) the worker finished its request before stopping" \
	"$POOL_LOG" 'fastcgi responder stopping'
expect_file_not_contains "(b) no worker had to be killed" "$POOL_LOG" \
	'killing them'
if [ -e "$SOCK" ]; then
	fail "(b) the master removed its socket" "$SOCK"
else
	pass "(b) the master removed its socket"
fi
t_wait_gone "$B1" 200 && t_wait_gone "$LATE" 100
load_codes b1
tnote "(b) load across the stop: $(sort "$T_TMP/load-b1" | uniq -c | tr '\n' ' ')"
tnote "(b) a request sent just after SIGTERM: $(cat "$T_TMP/late.out")"
late=$(cat "$T_TMP/late.out")
if python3 -c "import sys; sys.exit(0 if float(sys.argv[1].rstrip('s')) < 1 else 1)" \
	"${late#* }" 2>/dev/null; then
	pass "(b) a request after SIGTERM is refused at once, not left in the backlog"
else
	fail "(b) a request after SIGTERM is refused at once, not left in the backlog" "$late"
fi
expect_eq "(b) requests across the stop got 308 or nginx's 502, none hung" \
	"$(codes_other "$T_TMP/load-b1" '308|502')" 0
T_5XX=0 # requests after the stop get nginx's 502 by design

tnote "(b) a download longer than a 1 s shutdown-grace"
write_conf 301 1
main_pool grace
rm -f "$T_TMP/dl2.started"
start_bg "$T_TMP/dl2.out" "${FCGI_GET[@]}" "$SOCK" /big.bin --rate 500000 \
	--out "$T_TMP/dl2.body" --started "$T_TMP/dl2.started" --timeout 30
DL2=$BG_PID
wait_exists "$T_TMP/dl2.started" 50 || true
t0=$(date +%s)
kill -TERM "$M_PID"
if t_wait_gone "$M_PID" 60; then
	wait "$M_PID"
	expect_eq "(b) short grace: the master exits 0" "$?" 0
	expect_match "(b) short grace: it exits after about 1 s" \
		"$(($(date +%s) - t0))" '[0-3]'
else
	fail "(b) short grace: the master exits 0" "still running after 6 s"
fi
expect_file_contains "(b) short grace: the busy worker was killed" \
	"$T_TMP/pool-grace.log" 'killing them'
t_wait_gone "$DL2" 100
wait "$DL2"
expect_eq "(b) short grace: the cut download is incomplete (exit 1)" "$?" 1

tnote "(d) a state dir on a network filesystem stops the pool with 78"
CC_BIN=${CC:-cc}
if command -v "$CC_BIN" >/dev/null 2>&1; then
	# statfs() that reports NFS for the state dir, as on an NFS mount.
	cat >"$T_TMP/nfs.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/vfs.h>
int statfs(const char *p, struct statfs *b)
{
	int (*real)(const char *, struct statfs *) =
		(int (*)(const char *, struct statfs *))dlsym(RTLD_NEXT, "statfs");
	int rc = real(p, b);
	if (rc == 0 && strstr(p, "nfs-state") != NULL)
		b->f_type = 0x6969;
	return rc;
}
EOF
	if "$CC_BIN" -shared -fPIC -o "$T_TMP/nfs.so" "$T_TMP/nfs.c" -ldl 2>"$T_TMP/nfs.cc"; then
		mkdir -p "$T_TMP/nfs-state"
		t0=$(date +%s)
		# A sanitizer build wants its runtime first in the list.
		pre=$T_TMP/nfs.so
		asan=$(ldd "$SHERVE_BIN" 2>/dev/null | awk '/libasan/ { print $3 }')
		[ -z "$asan" ] || pre="$asan:$pre"
		env LD_PRELOAD="$pre" timeout 20 "$SHERVE_BIN" serve \
			--listen "unix:$T_TMP/nfs.sock" --workers 2 \
			--state-dir "$T_TMP/nfs-state" --config /dev/null \
			>"$T_TMP/nfs.out" 2>&1
		rc=$?
		expect_eq "(d) sherve serve exits 78 (not respawning forever)" "$rc" 78
		expect_match "(d) ... within a few seconds" "$(($(date +%s) - t0))" '[0-5]'
		expect_file_contains "(d) ... and says why" "$T_TMP/nfs.out" "is on nfs"
	else
		fail "(d) build the statfs shim" "$(head -c 200 "$T_TMP/nfs.cc")"
	fi
else
	skip "(d) network filesystem state dir" "no C compiler"
fi

finish

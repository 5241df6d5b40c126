#!/bin/bash
#
# tests/integration/slowpeers.sh - a slow or silent peer cannot hold a
# worker of `sherve serve`.
#
# A pool of 2 workers behind nginx (contrib/nginx/sherve.conf without
# kept connections, so every request is a new FastCGI connection the
# pool must accept). tests/integration/halfopen.py opens 50 connections
# straight on the pool's socket, each with a request that never
# completes (nothing, a few bytes of a header, parameters never ended).
# While they are open:
#   - requests through nginx for 1.5 s (2 clients) and 20 straight FastCGI
#     requests are answered, each within 1 s (timed one by one), all
#     before the first half-open connection is closed;
# and then:
#   - sherve closes every half-open connection after its bound (5 s from
#     the accept), not before 4.5 s and not after 10 s, and logs it;
#   - the pool still answers.
# Also: the socket made by --listen unix: is mode 0660, owned by --user
# and its primary group (when run as root), not world-writable.
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
HALF=50

open_tmp_to_children
make_site
start_upstream
U=$(child_user)
SOCK=$T_TMP/run/sherve.sock
give_to_child "$T_TMP/run" "$T_TMP/state"

start_pool "$SOCK" 2 "$T_TMP/sherve.log" "$SHERVE_BIN" serve \
	--listen "unix:$SOCK" --workers 2 --webroot "$W" \
	--redirects-url "$UP/redirects.txt" --state-dir "$T_TMP/state" \
	${U:+--user "$U"} ||
	hard_error "sherve serve did not start (exit $?: socket 1, workers 2)"

expect_eq "the socket is mode 0660 (srw-rw----)" "$(stat -c %A "$SOCK")" \
	srw-rw----
if [ -n "$U" ]; then
	expect_eq "... owned by --user and its primary group" \
		"$(stat -c %U:%G "$SOCK")" "$U:$(id -gn "$U")"
fi

# nginx, one FastCGI connection per request.
NOKEEP=$T_TMP/sherve-nokeep.conf
nginx_nokeep_template "$NOKEEP"
PRE=$T_TMP/nginx
nginx_in_front "$NOKEEP" "$PRE" "$SOCK"
http "$B/foo"
expect_status "the pool answers through nginx" 301

# The half-open connections, as root: the socket is the web server's.
rm -f "$T_TMP/half.started"
start_bg "$T_TMP/half.out" python3 "$T_LIB_DIR/halfopen.py" "$SOCK" "$HALF" \
	--started "$T_TMP/half.started" --max-seconds 30
H_PID=$BG_PID
wait_exists "$T_TMP/half.started" 100 ||
	hard_error "halfopen.py did not open its connections"
t_open=$EPOCHREALTIME
note "$HALF half-open connections on the pool; now the requests"

# Meanwhile: 1.5 s of requests through nginx (2 clients), and 20 FastCGI
# requests straight on the socket, each request timed.
rm -f "$T_TMP/load.stop"
start_bg "$T_TMP/load.out" python3 "$T_LIB_DIR/load.py" "127.0.0.1:$PORT" \
	"$T_TMP/load.stop" /foo=301 /style.css=200 /nope=404 --threads 2 \
	--timeout 10 --max-seconds 1.5
L_PID=$BG_PID
python3 "$T_LIB_DIR/fcgi_get.py" "$SOCK" /style.css --timeout 10 \
	--repeat 20 >"$T_TMP/direct.out" 2>&1
t_wait_gone "$L_PID" 150
wait "$L_PID"
res=$(grep '^sent=' "$T_TMP/load.out")
note "through nginx: $res"
sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' <<<"$res")
expect_match "requests through nginx meanwhile, each answered with its status" \
	"$res" "sent=${sent:-x} answered=${sent:-y} wrong=0 failed=0 *"
if [ "${sent:-0}" -ge 20 ]; then
	pass "... and many of them ($sent)"
else
	fail "... and many of them" "$res"
fi
ms=$(sed -n 's/.* max_ms=\([0-9.]*\) .*/\1/p' <<<"$res")
if [ -n "$ms" ] && [ "${ms%.*}" -lt 1000 ]; then
	pass "... each within 1 s (slowest $ms ms)"
else
	fail "... each within 1 s" "$res"
fi
expect_eq "20 FastCGI requests straight on the socket, all 200 and whole" \
	"$(grep -c '^status=200 .* end=1 ' "$T_TMP/direct.out")" 20
worst=$(sed -n 's/.* ms=\([0-9.]*\)$/\1/p' "$T_TMP/direct.out" | sort -n | tail -n 1)
if [ -n "$worst" ] && [ "${worst%.*}" -lt 1000 ]; then
	pass "... each within 1 s (slowest $worst ms)"
else
	fail "... each within 1 s" "$(tr '\n' ' ' <"$T_TMP/direct.out")"
fi
done_ms=$(ms_since "$t_open")

t_wait_gone "$H_PID" 350
wait "$H_PID"
expect_eq "sherve closed every half-open connection (halfopen.py exit 0)" \
	"$?" 0
res=$(cat "$T_TMP/half.out")
note "halfopen.py: $res"
first=$(sed -n 's/.*first_s=\([0-9.]*\).*/\1/p' <<<"$res")
last=$(sed -n 's/.*last_s=\([0-9.]*\).*/\1/p' <<<"$res")
if python3 -c "import sys; sys.exit(0 if 4.5 <= float('${first:-0}') and float('${last:-99}') <= 10 else 1)"; then
	pass "... after the 5 s bound (first ${first} s, last ${last} s)"
else
	fail "... after the 5 s bound (4.5 s to 10 s)" "$res"
fi
if python3 -c "import sys; sys.exit(0 if $done_ms < 1000 * float('${first:-0}') else 1)"; then
	pass "the requests above were all answered while the $HALF were open ($done_ms ms)"
else
	fail "the requests above were all answered while the $HALF were open" \
		"done after $done_ms ms, first close at ${first} s"
fi
n=$(sed -n 's/.*fastcgi: closed \([0-9]*\) connections\{0,1\} that sent no whole request within 5 s.*/\1/p' \
	"$T_TMP/sherve.log" | awk '{ s += $1 } END { print s + 0 }')
expect_eq "sherve logged the $HALF connections it closed" "$n" "$HALF"

http "$B/style.css"
expect_status "the pool still answers" 200
expect_no_5xx "no request got a 5xx"
finish

#!/bin/bash
#
# tests/integration/openerrors.sh - an asset that cannot be opened is not
# a 404, and a webroot that cannot be opened says so and recovers.
#
# One `sherve serve` worker (as the web server's user when root, so file
# modes apply) behind nginx (contrib/nginx/sherve.conf):
#   1. a file of mode 000, and a file in a directory of mode 0600: 403
#      (a permission the admin chose), logged, no miss refresh;
#   2. the webroot of mode 000, then renamed away: every asset 503 with
#      Retry-After (the files may exist; a 404 is kept by clients and
#      caches), aliases still 301, no miss refresh; one log line with
#      the path and errno for each cause, however many requests; fixed
#      without a restart, the next request is 200 and "recovered" is
#      logged once;
#   3. out of descriptors (the soft RLIMIT_NOFILE of the running worker
#      lowered with prlimit to leave it 2 free descriptors) under 20 clients at
#      once: existing files answer 200 or 503 with Retry-After, never
#      404 (and some 503: the descriptors did run out); no miss refresh;
#      with the limit back, 200 from the same worker.
#
# Needs nginx, curl, python3 and prlimit (util-linux); skips (77)
# without them, and the parts that need file modes to bind skip as a
# user that ignores them (root without a web server user).
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3 prlimit
NGINX=$(nginx_path) || skip_all "nginx is not installed (apt-get install nginx)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/nginx/sherve.conf
[ -r "$TEMPLATE" ] || hard_error "$TEMPLATE: missing"

open_tmp_to_children
make_site
mkdir -p "$W/private"
printf 'LOCKED\n' >"$W/locked.txt"
printf 'PRIVATE\n' >"$W/private/page.html"
start_upstream
U=$(child_user)
SOCK=$T_TMP/run/sherve.sock
give_to_child "$T_TMP/run" "$T_TMP/state"
LOG=$T_TMP/sherve.log

start_pool "$SOCK" 1 "$LOG" "$SHERVE_BIN" serve --listen "unix:$SOCK" \
	--workers 1 --webroot "$W" --redirects-url "$UP/redirects.txt" \
	--state-dir "$T_TMP/state" ${U:+--user "$U"} ||
	hard_error "sherve serve did not start (exit $?: socket 1, workers 2)"
WORKER=$(sherve_workers "$M_PID")

PRE=$T_TMP/nginx
nginx_in_front "$TEMPLATE" "$PRE" "$SOCK"
http "$B/style.css"
expect_status "the pool answers through nginx" 200
FETCHES=$(upstream_count)

# lines FIXED-STRING: how many lines of sherve's log hold it.
lines() {
	grep -cF -- "$1" "$LOG"
}

# Whether file modes bind the worker: they do unless it runs as root.
if [ "$(stat -c %U "/proc/$WORKER")" != root ]; then
	MODES=yes
else
	MODES=
fi

# ---------------------------------------------------------------- 1. 403

if [ -n "$MODES" ]; then
	chmod 000 "$W/locked.txt"
	chmod 0600 "$W/private"
	http "$B/locked.txt"
	expect_status "a file of mode 000 is 403" 403
	expect_body_not_contains "... and shows nothing of it" LOCKED
	http "$B/private/page.html"
	expect_status "a file in a directory of mode 0600 is 403" 403
	expect_file_contains "the 403 is logged with its path and errno" "$LOG" \
		'asset /locked.txt: Permission denied: answered 403'
	chmod 644 "$W/locked.txt"
	chmod 755 "$W/private"
	http "$B/locked.txt"
	expect_status "... readable again: 200" 200
else
	skip "403 for a file of mode 000" "the worker runs as root"
fi

# ---------------------------------------------------------------- 2. webroot

# webroot_down LABEL WHY: the webroot cannot be opened (errno text WHY).
webroot_down() {
	local l=$1 why=$2 i bad=
	http "$B/style.css"
	expect_status "[$l] an asset is 503" 503
	expect_header "[$l] ... with Retry-After" Retry-After 5
	http "$B/"
	expect_status "[$l] / is 503" 503
	http "$B/nope"
	expect_status "[$l] an unknown path is 503, not a 404" 503
	http "$B/foo"
	expect_status "[$l] an alias still answers 301" 301
	for i in $(seq 1 20); do
		code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' \
			"$B/style.css?i=$i") || code=000
		[ "$code" = 503 ] || bad+=" $code"
	done
	expect_eq "[$l] 20 more requests, all 503" "${bad:-none}" none
	expect_eq "[$l] one log line with the path and errno" \
		"$(lines "\"webroot: $W: $why;")" 1
}

# webroot_back LABEL N: fixed; the Nth "recovered" line.
webroot_back() {
	http "$B/style.css"
	expect_status "[$1] fixed, no restart: the next request is 200" 200
	expect_body_file "[$1] ... with the file" "$W/style.css"
	http "$B/style.css"
	expect_eq "[$1] \"recovered\" logged once" \
		"$(lines "\"webroot: $W: recovered; serving assets again\"")" "$2"
}

# After each change, wait_tick: the worker looks at its webroot again
# at the next tick of its clock.
if [ -n "$MODES" ]; then
	chmod 000 "$W"
	wait_tick
	webroot_down "mode 000" "Permission denied"
	chmod 755 "$W"
	wait_tick
	webroot_back "mode 000" 1
else
	skip "a webroot of mode 000" "the worker runs as root"
fi
mv "$W" "$W.away"
wait_tick
webroot_down "renamed away" "No such file or directory"
mv "$W.away" "$W"
wait_tick
webroot_back "renamed away" "$([ -n "$MODES" ] && echo 2 || echo 1)"
expect_eq "no miss refresh for any of it (upstream fetches unchanged)" \
	"$(upstream_count)" "$FETCHES"

# ---------------------------------------------------------------- 3. EMFILE

# free_below PID N: the lowest limit that leaves PID N free descriptors.
free_below() {
	local pid=$1 want=$2 fd=0 free=0
	declare -A used=()
	for f in /proc/"$pid"/fd/*; do
		used[${f##*/}]=1
	done
	while [ "$free" -lt "$want" ]; do
		[ -n "${used[$fd]:-}" ] || free=$((free + 1))
		fd=$((fd + 1))
	done
	echo "$fd"
}

curl -s -o /dev/null "$B/style.css" # the webroot is held from here
limit=$(free_below "$WORKER" 2)
note "worker $WORKER: RLIMIT_NOFILE $limit leaves it 2 free descriptors"
# As the worker's user: only the same user (or CAP_SYS_RESOURCE) may.
as_child prlimit --pid "$WORKER" --nofile="$limit:" ||
	hard_error "prlimit --pid $WORKER failed"
python3 - "127.0.0.1:$PORT" >"$T_TMP/emfile.out" 2>&1 <<'EOF'
import http.client, sys, threading, time
host, _, port = sys.argv[1].rpartition(":")
paths = ["/style.css", "/docs/guide/", "/index.html"]
lock = threading.Lock()
tally, noretry = {}, 0

def client(k):
    global noretry
    stop = time.time() + 3
    i = 0
    while time.time() < stop:
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            c.request("GET", "%s?k=%d&i=%d" % (paths[i % 3], k, i))
            r = c.getresponse()
            r.read()
            st = r.status
            ra = r.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as e:
            print("request failed: %r" % e, file=sys.stderr)
            st, ra = 0, None
        c.close()
        i += 1
        with lock:
            tally[st] = tally.get(st, 0) + 1
            if st == 503 and ra != "5":
                noretry += 1

ts = [threading.Thread(target=client, args=(k,)) for k in range(20)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(" ".join("%d=%d" % kv for kv in sorted(tally.items())),
      "noretry=%d" % noretry)
EOF
res=$(tail -n 1 "$T_TMP/emfile.out")
note "20 clients, 3 s, out of descriptors: $res"
as_child prlimit --pid "$WORKER" --nofile=1024: ||
	hard_error "prlimit --pid $WORKER: cannot give the descriptors back"
others=$(tr ' ' '\n' <<<"$res" | grep -vE '^(200|503)=|^noretry=' | tr '\n' ' ')
expect_eq "existing files: only 200 or 503, never 404 (or anything else)" \
	"${others:-none}" none
expect_match "some answers were 503 (the descriptors did run out)" "$res" \
	'*503=[1-9]*'
expect_match "every 503 had Retry-After: 5" "$res" '*noretry=0'
expect_eq "no miss refresh started (upstream fetches unchanged)" \
	"$(upstream_count)" "$FETCHES"
if [ "$(lines 'answered 503')" -ge 1 ]; then
	pass "the 503s are logged ($(lines 'answered 503') lines)"
else
	fail "the 503s are logged" "no 'answered 503' line"
fi
http "$B/style.css"
expect_status "descriptors back: 200" 200
expect_eq "the worker is still the same process" \
	"$(sherve_workers "$M_PID")" "$WORKER"

stop_pid "$N_PID"
stop_pid "$M_PID"
T_5XX=0 # the 503s above are what this test asks for
finish

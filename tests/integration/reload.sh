#!/bin/bash
#
# tests/integration/reload.sh - reloads lose no request and stall none.
#
# A `sherve serve` pool behind nginx (contrib/nginx/sherve.conf) takes 50
# SIGHUPs, 0.2 s apart, while tests/integration/load.py keeps 4 clients
# busy (a short link, an asset, a directory index, a miss). Each request
# is counted as sent and as answered with its status; its time is kept.
# Every request sent must be answered with the right status, and none may
# take 1 s or more. Run in six setups:
#
#   keep     the recipe as written: nginx keeps FastCGI connections
#            (fastcgi_keep_conn on, upstream keepalive 8)
#   nokeep   the recipe without them: one FastCGI connection per request
#   systemd  the socket made by systemd-socket-activate (LISTEN_FDS), with
#            nginx keeping connections
#
# each with --workers 2 and 8. Each SIGHUP starts a new generation of
# workers on the same socket and stops the old one; a stopping worker
# must not be the only one woken for a new connection (EPOLLEXCLUSIVE),
# nor drop a request sent on a kept connection.
#
# Needs nginx, curl and python3 (systemd-socket-activate for the systemd
# setups, which are skipped without it); skips (77) without nginx.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
NGINX=$(nginx_path) || skip_all "nginx is not installed (apt-get install nginx)"
[ "$(id -u)" -ne 0 ] || need_cmd setpriv
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/nginx/sherve.conf
[ -r "$TEMPLATE" ] || hard_error "$TEMPLATE: missing"
HUPS=50

open_tmp_to_children
make_site
start_upstream
U=$(child_user)

# The recipe without kept connections.
NOKEEP=$T_TMP/sherve-nokeep.conf
nginx_nokeep_template "$NOKEEP"

# reload_pool MODE WORKERS DIR: start_pool, a pool on DIR/sherve.sock,
# as the web server's user when root; sets M_PID.
reload_pool() {
	local mode=$1 n=$2 dir=$3 as=() cmd
	give_to_child "$dir/run" "$dir/state"
	if [ "$mode" = systemd ]; then
		[ -n "$U" ] && as=(setpriv --reuid="$U" --regid="$U" --init-groups --)
		cmd=("${as[@]}" systemd-socket-activate \
			-l "$dir/run/sherve.sock" -E SHERVE_CONFIG=/dev/null \
			-E "SHERVE_WORKERS=$n" -E "SHERVE_WEBROOT=$W" \
			-E "SHERVE_REDIRECTS_URL=$UP/redirects.txt" \
			-E "SHERVE_STATE_DIR=$dir/state" "$SHERVE_BIN" serve)
	else
		cmd=("$SHERVE_BIN" serve \
			--listen "unix:$dir/run/sherve.sock" --workers "$n" \
			--webroot "$W" --redirects-url "$UP/redirects.txt" \
			--state-dir "$dir/state" ${U:+--user "$U"})
	fi
	start_pool "$dir/run/sherve.sock" 0 "$dir/sherve.log" "${cmd[@]}" ||
		hard_error "[$mode/$n] no socket $dir/run/sherve.sock"
}

# reload_case MODE WORKERS: HUPS reloads under load; the checks.
reload_case() {
	local mode=$1 n=$2 l="$1/$2" dir tmpl=$TEMPLATE i res sent ms gen
	dir=$T_TMP/$mode-$n
	mkdir -p "$dir"
	[ "$mode" = nokeep ] && tmpl=$NOKEEP
	reload_pool "$mode" "$n" "$dir"
	nginx_in_front "$tmpl" "$dir/nginx" "$dir/run/sherve.sock"
	# (systemd: nginx's first probe was the connection that started it)
	wait_workers "$M_PID" "$n" 100 ||
		hard_error "[$l] sherve did not start $n workers"
	http "$B/foo"
	expect_status "[$l] the pool answers through nginx" 301

	rm -f "$dir/stop" "$dir/started"
	start_bg "$dir/load.out" python3 "$T_LIB_DIR/load.py" \
		"127.0.0.1:$PORT" "$dir/stop" /foo=301 /style.css=200 \
		/docs/guide/=200 /nope=404 --threads 4 --timeout 10 \
		--max-seconds 90 --started "$dir/started"
	local lp=$BG_PID
	wait_exists "$dir/started" 100 || hard_error "[$l] the load did not start"
	# One SIGHUP at a time: the master folds signals that arrive while
	# it is still starting the last generation. So after each signal,
	# wait until its reload is logged (a reload waits 5 s at most for
	# its new workers, pool.c's POOL_READY_MS; the wait here 10 s).
	for ((i = 1; i <= HUPS; i++)); do
		kill -HUP "$M_PID"
		if ! wait_lines "$dir/sherve.log" '"serve: reloaded' "$i" 100; then
			fail "[$l] reload $i is done within 10 s" \
				"$(grep -c '"serve: reloaded' "$dir/sherve.log") reloads logged"
			break
		fi
		sleep 0.2
	done
	sleep 0.5
	: >"$dir/stop"
	t_wait_gone "$lp" 300
	wait "$lp" 2>/dev/null
	res=$(grep '^sent=' "$dir/load.out")
	note "[$l] $res"
	sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' <<<"$res")
	if [ "${sent:-0}" -ge 200 ]; then
		pass "[$l] load flowed across $HUPS reloads ($sent requests)"
	else
		fail "[$l] load flowed across $HUPS reloads" "$res"
	fi
	expect_match "[$l] every request sent was answered with its status" \
		"$res" "sent=$sent answered=$sent wrong=0 failed=0 *"
	ms=$(sed -n 's/.* max_ms=\([0-9.]*\) .*/\1/p' <<<"$res")
	if [ -n "$ms" ] && [ "${ms%.*}" -lt 1000 ]; then
		pass "[$l] no request took 1 s or more (slowest ${ms} ms)"
	else
		fail "[$l] no request took 1 s or more" "$res"
	fi
	gen=$(grep -c '"serve: reloaded' "$dir/sherve.log")
	expect_eq "[$l] the master reloaded $HUPS times" "$gen" "$HUPS"
	if wait_workers "$M_PID" "$n" 100; then
		pass "[$l] $n workers once the reloads are over"
	else
		fail "[$l] $n workers once the reloads are over" \
			"$(sherve_workers "$M_PID" | wc -l)"
	fi
	expect_file_not_contains "[$l] no error in sherve's log" \
		"$dir/sherve.log" '"level":"error"'
	stop_pid "$N_PID"
	stop_pid "$M_PID"
}

for n in 2 8; do
	reload_case keep "$n"
	reload_case nokeep "$n"
	if command -v systemd-socket-activate >/dev/null 2>&1; then
		reload_case systemd "$n"
	else
		skip "[systemd/$n] reloads" \
			"no systemd-socket-activate (apt-get install systemd)"
	fi
done

finish

#!/bin/bash
#
# tests/integration/systemd.sh - the systemd units of contrib/systemd and
# socket activation of `sherve serve`.
#
# PID 1 need not be systemd: the units are checked offline with
# systemd-analyze verify (and security --offline when available), and
# activation is played by systemd-socket-activate, which listens on the
# socket, waits for the first connection and then execs the unit's
# ExecStart with the socket as fd 3 (LISTEN_FDS=1, LISTEN_PID) and the
# unit's Environment= lines. nginx (contrib/nginx/sherve.conf) is the
# client: the HTTP checks, then SIGHUP (ExecReload) and SIGTERM (stop) on
# the inherited socket.
#
# Needs systemd-socket-activate (Debian: package systemd), nginx, curl and
# python3; skips (77) without them. systemd-analyze is optional.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
command -v systemd-socket-activate >/dev/null 2>&1 ||
	skip_all "systemd-socket-activate is not installed (apt-get install systemd)"
NGINX=$(nginx_path) || skip_all "nginx is not installed (apt-get install nginx)"
[ "$(id -u)" -ne 0 ] || need_cmd setpriv
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
SERVICE=$TOP_SRCDIR/contrib/systemd/sherve.service
SOCKET_UNIT=$TOP_SRCDIR/contrib/systemd/sherve.socket
TEMPLATE=$TOP_SRCDIR/contrib/nginx/sherve.conf
for f in "$SERVICE" "$SOCKET_UNIT" "$TEMPLATE"; do
	[ -r "$f" ] || hard_error "$f: missing"
done

# unit_values FILE KEY: the values of KEY= lines (comments skipped).
unit_values() {
	sed -n "s/^$2=//p" "$1"
}

# The service is a template for the binary's path: render it as the
# Debian package does (and as make install does, with its sbindir).
mkdir -p "$T_TMP/units"
render_template "$SERVICE" "$T_TMP/sherve.service" SBINDIR=/usr/sbin \
	SYSCONFDIR=/etc || hard_error "cannot render $SERVICE"
TEMPLATE_SERVICE=$SERVICE
SERVICE=$T_TMP/sherve.service

# ---------------------------------------------------------------- the units

expect_eq "sherve.socket listens on /run/sherve/sherve.sock" \
	"$(unit_values "$SOCKET_UNIT" ListenStream)" /run/sherve/sherve.sock
expect_eq "sherve.socket hands one socket to one service (Accept=no)" \
	"$(unit_values "$SOCKET_UNIT" Accept)" no
EXEC=$(unit_values "$SERVICE" ExecStart)
expect_eq "sherve.service runs sherve serve (no --listen: the socket is inherited)" \
	"$EXEC" '/usr/sbin/sherve serve'
expect_eq "sherve.service reloads with SIGHUP" \
	"$(unit_values "$SERVICE" ExecReload)" "/bin/kill -HUP \$MAINPID"
for kv in User=www-data Group=www-data StateDirectory=sherve \
	ProtectSystem=strict NoNewPrivileges=yes ProtectHome=yes KillMode=mixed; do
	expect_eq "sherve.service sets $kv" \
		"$(unit_values "$SERVICE" "${kv%%=*}")" "${kv#*=}"
done
# The settings live in sysconfdir/sherve/sherve.conf, which the admin
# commands read too: the unit sets none of them itself.
expect_eq "sherve.service sets no SHERVE_* variable" \
	"$(unit_values "$SERVICE" Environment | grep -c '^SHERVE_')" 0
expect_eq "the StateDirectory is sherve's compiled state dir" \
	"$("$SHERVE_BIN" --help | grep -A1 -- '--state-dir=' | grep -c '\[/var/lib/sherve\]')" 1

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants ExecStart to exist: point it at the built binary.
	cp "$SOCKET_UNIT" "$T_TMP/units/sherve.socket"
	render_template "$TEMPLATE_SERVICE" "$T_TMP/units/sherve.service" \
		SBINDIR="$(dirname "$SHERVE_BIN")" SYSCONFDIR=/etc ||
		hard_error "cannot render $TEMPLATE_SERVICE"
	(cd "$T_TMP/units" && systemd-analyze verify --man=no \
		./sherve.socket ./sherve.service) >"$T_TMP/verify.out" 2>&1
	rc=$?
	expect_eq "systemd-analyze verify accepts both units" \
		"$rc $(tr '\n' ' ' <"$T_TMP/verify.out")" '0 '
	if (cd "$T_TMP/units" && systemd-analyze security --offline=true \
		--no-pager ./sherve.service) >"$T_TMP/security.out" 2>&1; then
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
			"$T_TMP/security.out")
		note "systemd-analyze security: exposure $score"
		if python3 -c "import sys; sys.exit(0 if float('${score:-10}') <= 2.5 else 1)"; then
			pass "systemd-analyze security: exposure $score <= 2.5"
		else
			fail "systemd-analyze security: exposure <= 2.5" "$score"
		fi
	else
		skip "systemd-analyze security" "no --offline support here"
	fi
else
	skip "systemd-analyze verify accepts both units" "no systemd-analyze"
fi

# ---------------------------------------------------------------- activation

open_tmp_to_children
make_site
start_upstream
U=$(child_user)
RUN=$T_TMP/run
SOCK=$RUN/sherve.sock
STATE_ROOT=$T_TMP/state # %S
give_to_child "$RUN" "$STATE_ROOT/sherve"

# The unit's ExecStart and Environment= lines (%S resolved), and the
# site's settings in the file the package keeps them in (here named by
# SHERVE_CONFIG, standing in for /etc/sherve/sherve.conf, with the
# StateDirectory's path). As root, run it all as the unit's user
# (www-data, so nginx may connect: systemd-socket-activate has no
# SocketMode).
printf 'webroot = %s\nredirects-url = %s\nworkers = 2\nstate-dir = %s\n' \
	"$W" "$UP/redirects.txt" "$STATE_ROOT/sherve" >"$T_TMP/sherve.conf"
envs=()
while IFS= read -r e; do
	envs+=(-E "${e//%S/$STATE_ROOT}")
done < <(unit_values "$SERVICE" Environment)
envs+=(-E "SHERVE_CONFIG=$T_TMP/sherve.conf")
read -r -a cmd <<<"$EXEC"
cmd[0]=$SHERVE_BIN
as=()
if [ -n "$U" ]; then
	as=(setpriv --reuid="$U" --regid="$U" --init-groups --)
fi
start_pool "$SOCK" 0 "$T_TMP/activate.log" "${as[@]}" \
	systemd-socket-activate -l "$SOCK" "${envs[@]}" "${cmd[@]}" ||
	hard_error "systemd-socket-activate did not listen"
ino=$(stat -c %i "$SOCK")
sleep 0.3
expect_eq "nothing runs before the first connection" \
	"$(children_of "$M_PID" | wc -l | tr -d ' ') $(cat "/proc/$M_PID/comm")" \
	'0 systemd-socket-'

PRE=$T_TMP/nginx
nginx_in_front "$TEMPLATE" "$PRE" "$SOCK"
note "nginx (pid $N_PID) on $B, socket $SOCK"

# nginx_start's probe was the first connection: sherve took over.
wait_workers "$M_PID" 2 50
expect_eq "the first connection execs sherve in place (same PID)" \
	"$(readlink "/proc/$M_PID/exe")" "$(readlink -f "$SHERVE_BIN")"
expect_eq "sherve serve runs the file's workers = 2" \
	"$(sherve_workers "$M_PID" | wc -l | tr -d ' ')" 2
# The master logs this once it has started its workers: seeing them is
# no sign that the line is written yet.
wait_lines "$T_TMP/activate.log" 'workers on systemd socket' 1
expect_file_contains "sherve says it uses the systemd socket" \
	"$T_TMP/activate.log" 'workers on systemd socket'
check "the store was created in %S/sherve (the StateDirectory)" \
	test -n "$(ls "$STATE_ROOT/sherve" 2>/dev/null)"

site_checks systemd "$B"

if command -v cgi-fcgi >/dev/null 2>&1; then
	env -i REQUEST_METHOD=GET REQUEST_URI=/foo GATEWAY_INTERFACE=CGI/1.1 \
		cgi-fcgi -bind -connect "$SOCK" >"$T_TMP/cgi-fcgi.out" 2>&1
	expect_file_contains "cgi-fcgi straight on the socket: 301" \
		"$T_TMP/cgi-fcgi.out" 'Status: 301'
	expect_file_contains "cgi-fcgi straight on the socket: Location" \
		"$T_TMP/cgi-fcgi.out" 'Location: https://example.com/foo'
else
	skip "cgi-fcgi straight on the socket" "no cgi-fcgi (apt-get install libfcgi-bin)"
fi

# ExecReload: SIGHUP on the inherited socket, under a request loop.
before=$(sherve_workers "$M_PID" | sort)
start_bg "$T_TMP/load.raw" curl -s -m 10 -w '\nCODE:%{http_code}\n' \
	"$B/foo?i=[1-2000]"
LOAD=$BG_PID
for _ in $(seq 1 100); do
	[ "$(grep -ac '^CODE:' "$T_TMP/load.raw" 2>/dev/null)" -ge 100 ] && break
	sleep 0.05
done
kill -HUP "$M_PID"
if alive "$LOAD"; then
	pass "reload: SIGHUP sent during the request loop"
else
	fail "reload: SIGHUP sent during the request loop" "the loop had ended"
fi
t_wait_gone "$LOAD" 300
grep -a '^CODE:' "$T_TMP/load.raw" | cut -c6- >"$T_TMP/load"
expect_eq "reload: 2000 requests across SIGHUP, all 301" \
	"$(grep -c '^301$' "$T_TMP/load")" 2000
wait_workers "$M_PID" 2 50
after=$(sherve_workers "$M_PID" | sort)
expect_eq "reload: 2 new workers" \
	"$(comm -12 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -c .) $(printf '%s\n' "$after" | grep -c .)" \
	'0 2'
expect_eq "reload: the same socket" "$(stat -c %i "$SOCK")" "$ino"
http "$B/style.css"
expect_status "reload: still answering" 200

# Stop: SIGTERM to the main process (KillMode=mixed).
expect_term_exit "stop: sherve exits 0" "$M_PID" 150
if [ -S "$SOCK" ]; then
	pass "stop: sherve leaves systemd's socket file alone"
else
	fail "stop: sherve leaves systemd's socket file alone" "$SOCK removed"
fi
expect_file_not_contains "no error in sherve's log" "$T_TMP/activate.log" \
	'"level":"error"'

expect_no_5xx "no request got a 5xx"
finish

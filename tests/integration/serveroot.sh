#!/bin/bash
#
# tests/integration/serveroot.sh - `sherve serve --user` started as root
# prepares what its workers will need, or says what to create and as
# whom.
#
#   1. a socket directory and a state dir that do not exist (nor their
#      parents): created before the drop, the last of each owned by --user
#      and its primary group (the socket's 0755, the state dir 0750), the
#      parents root's; the pool answers on the socket (0660, --user's),
#      stores its map there, and removes the socket when stopped;
#   2. a state dir that cannot be created (a file where a parent should
#      be), a socket directory likewise, and a state dir that exists but
#      is root's 0755, or one --user could not reach: exit 78
#      (EXIT_CONFIG) at once, with one line that names the setting and
#      the path, and says to create it (or chown it) for --user; nothing
#      is left running, and no directory it had made is left.
#
# Needs root (it is about starting as root), python3 and a web server
# user (www-data, or CHILD_USER); skips (77) otherwise.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

[ "$(id -u)" -eq 0 ] || skip_all "not root: this is about starting as root"
need_cmd python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
U=$(child_user)
id "$U" >/dev/null 2>&1 || skip_all "no user $U (set CHILD_USER)"
G=$(id -gn "$U")

open_tmp_to_children
make_site
start_upstream

# ---------------------------------------------------------------- 1. created

TOP=$T_TMP/srv
RUN=$TOP/run/sherve
STATE=$TOP/lib/sherve
if start_pool "$RUN/sherve.sock" 1 "$T_TMP/pool.log" "$SHERVE_BIN" serve \
	--listen "unix:$RUN/sherve.sock" --workers 1 --user "$U" \
	--webroot "$W" --redirects-url "$UP/redirects.txt" \
	--state-dir "$STATE"; then
	pass "sherve serve --user $U starts on directories it had to create"
else
	fail "sherve serve --user $U starts on directories it had to create" \
		"$(cat "$T_TMP/pool.log")"
fi
expect_eq "the socket directory is $U's, 0755" \
	"$(stat -c '%U:%G %a' "$RUN" 2>&1)" "$U:$G 755"
expect_eq "the state dir is $U's, 0750" \
	"$(stat -c '%U:%G %a' "$STATE" 2>&1)" "$U:$G 750"
expect_eq "their parents are root's, 0755" \
	"$(stat -c '%U %a' "$TOP" "$TOP/run" "$TOP/lib" 2>&1 | sort -u)" \
	"root 755"
expect_eq "the socket is $U's, 0660" \
	"$(stat -c '%U:%G %a' "$RUN/sherve.sock" 2>&1)" "$U:$G 660"
expect_file_contains "the creation is logged" "$T_TMP/pool.log" \
	"serve: created state-dir $STATE for user $U"
check "the pool answers on the socket" python3 "$T_LIB_DIR/fcgi_get.py" \
	"$RUN/sherve.sock" /foo
expect_file_contains "... with the alias from the map it stored" \
	"$T_TMP/check.out" "status=301"
check "the store is in the state dir" test -s "$STATE/redirects.mdb"
stop_pid "$M_PID"
if [ -e "$RUN/sherve.sock" ]; then
	fail "stopped, it removed its socket ($U could, in its directory)" \
		"$RUN/sherve.sock is left"
else
	pass "stopped, it removed its socket ($U could, in its directory)"
fi

# ---------------------------------------------------------------- 2. refused

# refused DESC WANT ARGS...: sherve serve ARGS exits 78 within 10 s with
# one line holding WANT (a fixed string), and nothing left running.
refused() {
	local desc=$1 want=$2 pid
	shift 2
	start_bg "$T_TMP/refused.log" "$SHERVE_BIN" serve --workers 1 \
		--user "$U" --webroot "$W" "$@"
	pid=$BG_PID
	if t_wait_gone "$pid" 100; then
		wait "$pid"
		expect_eq "$desc: exit 78" "$?" 78
	else
		fail "$desc: exit 78" "still running after 10 s"
		stop_pid "$pid"
	fi
	expect_file_contains "$desc: the message says what to do" \
		"$T_TMP/refused.log" "$want"
	expect_eq "$desc: in one line" "$(wc -l <"$T_TMP/refused.log")" 1
}

printf 'a file\n' >"$T_TMP/file"
refused "a state dir under a file" \
	"state-dir: $T_TMP/file/state: Not a directory; create it as root, owned by $U (mkdir -p $T_TMP/file/state && chown $U: $T_TMP/file/state)" \
	--listen "unix:$T_TMP/run2/sherve.sock" --state-dir "$T_TMP/file/state"
refused "a socket directory under a file" \
	"listen: $T_TMP/file/run: Not a directory; create it as root, owned by $U" \
	--listen "unix:$T_TMP/file/run/sherve.sock" --state-dir "$T_TMP/state2"
mkdir -p "$T_TMP/rootstate"
chmod 0755 "$T_TMP/rootstate"
refused "a state dir that is root's 0755" \
	"state-dir: $T_TMP/rootstate: Permission denied for user $U; make it writable by $U (chown $U: $T_TMP/rootstate)" \
	--listen "unix:$T_TMP/run3/sherve.sock" --state-dir "$T_TMP/rootstate"
check "... and the socket directory it had made is gone again" \
	test ! -e "$T_TMP/run3"
mkdir -m 0700 "$T_TMP/closed"
refused "a state dir $U could not reach (under a root 0700 directory)" \
	"state-dir: $T_TMP/closed/a/state: Permission denied for user $U; make it writable by $U" \
	--listen "unix:$T_TMP/run4/sherve.sock" \
	--state-dir "$T_TMP/closed/a/state"
check "... and what it had made is gone again" \
	test ! -e "$T_TMP/closed/a" -a ! -e "$T_TMP/run4"
check "... but not what was there before" test -d "$T_TMP/closed"

finish

#!/bin/bash
#
# tests/integration/writes.sh - sherve writes nothing outside its state
# dir. Every command and both responder modes run under strace, which
# records each call that can change the filesystem: an open for writing
# or creating, mkdir, rename, unlink, link, symlink, truncate, chmod,
# chown. Each must name a path inside the state dir (or /dev/null, where
# a detached refresh sends its output). The webroot, the redirects file,
# the config file and the current directory are all left untouched.
#
# Covered: import, refresh (file:// upstream), list, lookup, status,
# check, check --probe, export to stdout, metrics; CGI requests for an
# asset, an alias, an unknown alias (miss refresh), a 404 page, a
# directory without its slash; a CGI request that starts
# a detached scheduled refresh; `sherve serve` answering FastCGI requests
# and stopping on SIGTERM. The one path outside the state dir sherve may
# touch is the listening socket of `serve --listen unix:PATH`, which the
# admin names: serve binds it, sets its mode and removes it on exit.
#
# Needs strace and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd strace python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
# LeakSanitizer cannot run under ptrace (it would fail every traced run
# of a sanitizer build); the other suites check for leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

S=$T_TMP/state
W=$T_TMP/www
RUN=$T_TMP/cwd
mkdir -p "$S" "$W/sub" "$RUN"
printf 'A\n' >"$W/a.txt"
printf '<p>missing</p>\n' >"$W/404.html"
printf 'SUB\n' >"$W/sub/index.html"
printf 'foo https://example.com/foo\nbar https://example.com/bar\n' \
	>"$T_TMP/map.txt"
printf 'state-dir = %s\nwebroot = %s\n' "$S" "$W" >"$T_TMP/sherve.conf"
URL=file://$T_TMP/map.txt
TRACE=$T_TMP/trace
mkdir -p "$TRACE"
CALLS=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2
CALLS=$CALLS,unlink,unlinkat,rmdir,link,linkat,symlink,symlinkat,truncate
CALLS=$CALLS,chmod,fchmodat,chown,fchownat,lchown,mknod,mknodat

# traced NAME CMD...: run CMD under strace from $RUN, following forks.
traced() {
	local name=$1
	shift
	(cd "$RUN" && strace -f -qq -e trace="$CALLS" -o "$TRACE/$name" "$@") \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
}

cgi() { # NAME URI [options]
	local name=$1 uri=$2
	shift 2
	traced "$name" env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		REQUEST_URI="$uri" "$SHERVE_BIN" --config "$T_TMP/sherve.conf" \
		--redirects-url "$URL" "$@"
}

sv() { # NAME ARGS...
	local name=$1
	shift
	traced "$name" "$SHERVE_BIN" --config "$T_TMP/sherve.conf" \
		--redirects-url "$URL" "$@"
}

sv import import "$T_TMP/map.txt"
check "import stored the map" grep -q 'stored 2 aliases' "$T_TMP/import.out"
sv refresh refresh --force
check "refresh ran" grep -q 'stored 2 aliases' "$T_TMP/refresh.out"
sv list list
sv lookup lookup foo
sv status status
sv check check "$T_TMP/map.txt"
closed_port CLOSED
printf 'x http://127.0.0.1:%s/x\n' "$CLOSED" >"$T_TMP/probe.txt"
sv probe check --probe "$T_TMP/probe.txt"
check "check --probe ran" grep -q '1 dead' "$T_TMP/probe.out"
sv export export --format nginx
sv metrics metrics
cgi asset /a.txt
check "CGI asset answered" grep -q '^A' "$T_TMP/asset.out"
cgi alias /foo
check "CGI alias answered" grep -q 'Status: 301' "$T_TMP/alias.out"
cgi miss /nope --miss-refresh-interval 0
check "CGI miss answered" grep -q 'Status: 404' "$T_TMP/miss.out"
cgi dir /sub/
cgi slash /sub
check "CGI directory without its slash answered" \
	grep -q 'Status: 301' "$T_TMP/slash.out"
# A due scheduled refresh, started detached by a CGI request: wait for
# it (strace -f follows it and ends with it).
sleep 1.1
cgi due / --refresh-interval 1

# serve: a FastCGI request straight on the socket, then SIGTERM.
SOCK=$T_TMP/sock/s.sock
mkdir -p "$T_TMP/sock"
start_pool "$SOCK" 0 "$T_TMP/serve.out" env -C "$RUN" \
	strace -f -qq -e trace="$CALLS" -o "$TRACE/serve" \
	"$SHERVE_BIN" --config "$T_TMP/sherve.conf" --redirects-url "$URL" \
	serve --listen "unix:$SOCK" --workers 1
SPID=$M_PID
check "serve created its socket" test -S "$SOCK"
if [ -S "$SOCK" ]; then
	check "serve answered a FastCGI request" \
		python3 "$T_LIB_DIR/fcgi_get.py" "$SOCK" /a.txt --out "$T_TMP/fcgi.body"
	check "serve answered an alias" python3 "$T_LIB_DIR/fcgi_get.py" "$SOCK" /foo
fi
# strace's pid is SPID; signal sherve itself (its child).
kill -TERM "$(children_of "$SPID" | head -n 1)" 2>/dev/null
t_wait_gone "$SPID" 100
wait "$SPID" 2>/dev/null

# The verdict: every filesystem-changing call names a path in $S.
python3 - "$S" "$RUN" "$SOCK" "$TRACE"/* >"$T_TMP/verdict" 2>&1 <<'EOF'
import os, re, sys
state, cwd = os.path.realpath(sys.argv[1]), sys.argv[2]
WRITE = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
# The listening socket the admin named (serve sets its mode, removes it
# on exit), and where a detached refresh sends its output.
ok = {"/dev/null", sys.argv[3]}
line_re = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)')
bad, seen = [], 0

def inside(p):
    if not p.startswith("/"):
        p = os.path.join(cwd, p)
    p = os.path.normpath(p)
    return p in ok or p == state or p.startswith(state + "/")

for f in sys.argv[4:]:
    for line in open(f, errors="replace"):
        m = line_re.match(line)
        if not m or int(m.group(3)) < 0:
            continue  # not a call, or it failed: nothing changed
        call, args = m.group(1), m.group(2)
        paths = re.findall(r'"((?:[^"\\]|\\.)*)"', args)
        if call in ("open", "openat", "openat2", "creat"):
            if call != "creat" and not any(w in args for w in WRITE):
                continue
            dirfd = args.split(",", 1)[0]
            if call in ("openat", "openat2") and dirfd != "AT_FDCWD" and \
                    not paths[0].startswith("/"):
                bad.append("%s: write under dirfd %s" % (f, line.strip()))
                continue
        seen += 1
        for p in paths[:2]:
            if not inside(p):
                bad.append("%s: %s" % (os.path.basename(f), line.strip()))
print("%d filesystem-changing calls checked" % seen)
for b in bad[:20]:
    print("OUTSIDE: " + b)
sys.exit(1 if bad or seen == 0 else 0)
EOF
rc=$?
note "$(head -n 1 "$T_TMP/verdict")"
if [ "$rc" -eq 0 ]; then
	pass "no command or request wrote outside the state dir"
else
	fail "no command or request wrote outside the state dir" \
		"$(grep OUTSIDE "$T_TMP/verdict" | head -n 3)"
fi
check "the detached refresh was traced (it wrote the store)" \
	grep -q 'redirects.mdb' "$TRACE/due"
expect_eq "the current directory is still empty" "$(ls -A "$RUN")" ""
finish

#!/bin/bash
#
# tests/integration/cli.sh - sherve's command line without a web server:
# --help/--version, configuration errors, the admin verbs (refresh, list,
# lookup, status, import) against file:// and a fake http upstream that
# fails in several ways, the no-server exit, and one-shot CGI requests.
#
# Needs python3 (the fake upstream); skips (77) without it.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
note "sherve: $SHERVE_BIN"

S=$T_TMP/state
mkdir -p "$S"

# sherve ARGS...: the binary with the test store.
sherve() {
	"$SHERVE_BIN" --state-dir "$S" "$@"
}

# the stored map, sorted
list_sorted() {
	sherve list 2>/dev/null | LC_ALL=C sort
}

cat >"$T_TMP/map1.txt" <<'EOF'
# map one
foo https://example.com/foo

bar	https://example.com/bar
EOF
printf 'bar https://example.com/bar\nfoo https://example.com/foo\n' \
	>"$T_TMP/map1.sorted"

# ---------------------------------------------------------------- basics

check_exit "--help exits 0" 0 "$SHERVE_BIN" --help
for w in refresh list lookup import status; do
	expect_file_contains "--help mentions $w" "$C_OUT" "$w"
done
check_exit "-h exits 0" 0 "$SHERVE_BIN" -h
check_exit "--help again" 0 "$SHERVE_BIN" --help
expect_eq "--help fits in 80 columns" \
	"$(awk 'length > 79' "$C_OUT" | head -n 3)" ""
expect_file_contains "--help names the value of --state-dir" "$C_OUT" \
	'--state-dir=DIR'
expect_file_contains "--help names the value of --redirects-url" "$C_OUT" \
	'--redirects-url=URL'
expect_file_contains "--help shows the compiled state dir" "$C_OUT" \
	'[/var/lib/sherve]'
cp "$C_OUT" "$T_TMP/help.out"
check_exit "sherve help exits 0" 0 "$SHERVE_BIN" help
expect_eq "sherve help prints --help" "$(cat "$C_OUT")" "$(cat "$T_TMP/help.out")"
# A config file with an error must not stop help.
printf 'no-such-setting = 1\n' >"$T_TMP/broken.conf"
check_exit "sherve help ignores a broken config" 0 "$SHERVE_BIN" \
	--config "$T_TMP/broken.conf" help
for v in serve refresh check import list lookup export metrics status; do
	check_exit "sherve $v --help exits 0" 0 "$SHERVE_BIN" "$v" --help
	expect_eq "sherve $v --help is $v's help" \
		"$(head -n 1 "$C_OUT" | awk '{ print $4 }')" "$v"
	cp "$C_OUT" "$T_TMP/cmd-help.out"
	check_exit "sherve help $v exits 0" 0 "$SHERVE_BIN" help "$v"
	expect_eq "sherve help $v is sherve $v --help" "$(cat "$C_OUT")" \
		"$(cat "$T_TMP/cmd-help.out")"
done
check_exit "sherve help nope exits 64" 64 "$SHERVE_BIN" help nope
expect_file_contains "it names the unknown command" "$C_ERR" 'nope: unknown command'
check_exit "sherve nope --help exits 64" 64 "$SHERVE_BIN" nope --help

VERSION=$(sed -n 's/^AC_INIT(\[sherve\], \[\([^]]*\)\].*/\1/p' \
	"$TOP_SRCDIR/configure.ac" 2>/dev/null)
[ -n "$VERSION" ] || VERSION=0.1.0
check_exit "--version exits 0" 0 "$SHERVE_BIN" --version
expect_eq "--version prints 'sherve $VERSION'" "$(cat "$C_OUT")" "sherve $VERSION"

check_exit "--redirect-status 305 exits 78" 78 sherve --redirect-status 305 list
expect_eq "the error is one line" "$(wc -l <"$C_ERR" | tr -d ' ')" 1
expect_file_contains "the error names redirect-status" "$C_ERR" redirect-status
expect_eq "nothing on stdout" "$(wc -c <"$C_OUT" | tr -d ' ')" 0
check_exit "SHERVE_REDIRECT_STATUS=305 exits 78" 78 \
	env SHERVE_REDIRECT_STATUS=305 "$SHERVE_BIN" --state-dir "$S" list
expect_file_contains "the env error names redirect-status" "$C_ERR" redirect-status
check_exit "--log-level loud exits 78" 78 sherve --log-level loud list
check_exit "--webroot on a missing directory exits 78" 78 \
	sherve --webroot "$T_TMP/no-such-dir" list
check_exit "--base-path without a leading / exits 78" 78 \
	sherve --base-path go list
printf 'redirect-status = 302\nno-such-setting = 1\n' >"$T_TMP/bad.conf"
check_exit "an unknown setting in --config exits 78" 78 \
	"$SHERVE_BIN" --config "$T_TMP/bad.conf" --state-dir "$S" list
expect_file_contains "the config error has file:line" "$C_ERR" "bad.conf:2"
check_exit "an unknown command exits 64" 64 sherve frobnicate
check_exit "lookup without an alias exits 64" 64 sherve lookup

# ---------------------------------------------------------------- file://

check_exit "refresh from file:// exits 0" 0 \
	sherve --redirects-url "file://$T_TMP/map1.txt" refresh
expect_file_contains "refresh reports 2 aliases" "$C_OUT" "2 aliases"
check_exit "list exits 0" 0 sherve list
expect_eq "list prints the aliases" "$(list_sorted)" "$(cat "$T_TMP/map1.sorted")"
check_exit "lookup foo exits 0" 0 sherve lookup foo
expect_eq "lookup foo prints the URL" "$(cat "$C_OUT")" https://example.com/foo
check_exit "lookup /foo/ trims slashes" 0 sherve lookup /foo/
expect_eq "lookup /foo/ prints the URL" "$(cat "$C_OUT")" https://example.com/foo
# Output that cannot be written fails the command, which says why: a
# short one (the write fails when it is flushed at the end) and a long
# one (it fails while the buffer fills, and is only seen in its error
# flag).
for v in status list "lookup foo" versions metrics; do
	C_OUT=/dev/full check_exit "$v to a full disk exits 1" 1 sherve $v
	expect_file_contains "... $v says why" "$C_ERR" \
		"sherve: ${v%% *}: cannot write the output: No space left on device"
done
python3 "$T_LIB_DIR/genmap.py" gosherve 400000 "$T_TMP/long.txt" >/dev/null ||
	hard_error "genmap.py failed"
check_exit "import of a map of 400 kB exits 0" 0 \
	"$SHERVE_BIN" --state-dir "$T_TMP/long" import "$T_TMP/long.txt"
C_OUT=/dev/full check_exit "list of it to a full disk exits 1" 1 \
	"$SHERVE_BIN" --state-dir "$T_TMP/long" list
expect_file_contains "... and says why" "$C_ERR" \
	"sherve: list: cannot write the output: No space left on device"
check_exit "lookup nope exits 1" 1 sherve lookup nope
expect_file_contains "lookup nope says so" "$C_ERR" nope
check_exit "status exits 0" 0 sherve --redirects-url "file://$T_TMP/map1.txt" status
expect_file_contains "status shows the alias count" "$C_OUT" aliases
expect_file_contains "status shows the source" "$C_OUT" "file://$T_TMP/map1.txt"
expect_file_contains "status shows the state dir it used" "$C_OUT" \
	"state dir       $S"
# lib.sh sets SHERVE_CONFIG=/dev/null, so that is the file read.
expect_file_contains "status names the file SHERVE_CONFIG named" "$C_OUT" \
	"config file     /dev/null"
printf 'redirects-url = file://%s/map1.txt\n' "$T_TMP" >"$T_TMP/status.conf"
check_exit "status with --config exits 0" 0 sherve --config "$T_TMP/status.conf" status
expect_file_contains "status names the config file it read" "$C_OUT" \
	"config file     $T_TMP/status.conf"
expect_file_contains "status shows the file's redirects-url" "$C_OUT" \
	"configured      file://$T_TMP/map1.txt"

closed_port CLOSED
check_exit "refresh from an unreachable URL exits 1" 1 \
	sherve --redirects-url "http://127.0.0.1:$CLOSED/x" --connect-timeout 2 refresh
expect_eq "the map is kept after the failure" "$(list_sorted)" \
	"$(cat "$T_TMP/map1.sorted")"
check_exit "status after the failure exits 0" 0 sherve status
expect_file_contains "status records the failure" "$C_OUT" failed

printf '# nothing valid\nonlyalias\nfoo ftp://example.com/x\nbar notaurl\n' \
	>"$T_TMP/invalid.txt"
check_exit "refresh from a file of invalid lines exits 1" 1 \
	sherve --redirects-url "file://$T_TMP/invalid.txt" refresh
expect_eq "the map is kept after the invalid file" "$(list_sorted)" \
	"$(cat "$T_TMP/map1.sorted")"
: >"$T_TMP/empty.txt"
check_exit "refresh from an empty file exits 1" 1 \
	sherve --redirects-url "file://$T_TMP/empty.txt" refresh
expect_eq "the map is kept after the empty file" "$(list_sorted)" \
	"$(cat "$T_TMP/map1.sorted")"
check_exit "refresh from a missing file exits 1" 1 \
	sherve --redirects-url "file://$T_TMP/missing.txt" refresh
check_exit "refresh with a gopher:// URL exits 78" 78 \
	sherve --redirects-url gopher://x refresh
check_exit "refresh without redirects-url exits 78" 78 sherve refresh
expect_eq "the map is kept after all that" "$(list_sorted)" \
	"$(cat "$T_TMP/map1.sorted")"

# ---------------------------------------------------------------- import

printf 'foo https://example.com/foo\nbar https://example.com/bar\nbaz https://example.com/baz\n' \
	>"$T_TMP/map2.txt"
check_exit "import FILE exits 0" 0 sherve import "$T_TMP/map2.txt"
check_exit "lookup baz after import" 0 sherve lookup baz
expect_eq "baz is imported" "$(cat "$C_OUT")" https://example.com/baz
printf 'qux https://example.com/qux\n' >"$T_TMP/tiny.txt"
check_exit "import refuses a map that shrinks by more than max-shrink" 1 \
	sherve import "$T_TMP/tiny.txt"
check_exit "baz survives the refused import" 0 sherve lookup baz
C_STDIN=$T_TMP/tiny.txt check_exit "import --force - (stdin) exits 0" 0 \
	sherve import --force -
check_exit "the forced map replaced the old one" 1 sherve lookup foo
check_exit "qux is in the forced map" 0 sherve lookup qux
check_exit "import of a missing file exits 1" 1 sherve import "$T_TMP/missing.txt"
check_exit "re-import map1" 0 sherve import --force "$T_TMP/map1.txt"

# ---------------------------------------------------------------- http upstream

cp "$T_TMP/map2.txt" "$T_TMP/served.txt"
start_upstream "$T_TMP/served.txt" --slow-seconds 20 --huge-bytes 3000000
URL=$UP/redirects.txt
note "fake upstream on $UP"
up() {
	curl -s -m 5 "$UP/-/$1" 2>/dev/null | tr -d '\n'
}
mode() {
	upstream_mode "$1"
}

mode ok
check_exit "refresh from http exits 0" 0 sherve --redirects-url "$URL" refresh
check_exit "baz came over http" 0 sherve lookup baz
check_exit "a second refresh exits 0" 0 sherve --redirects-url "$URL" refresh
expect_file_contains "the second refresh is 'not modified' (ETag)" "$C_OUT" \
	"not modified"
expect_eq "the upstream answered it 304" "$(up count304)" 1
check_exit "refresh --force exits 0" 0 sherve --redirects-url "$URL" --force refresh
expect_eq "--force sends no validators" "$(up count304)" 1
expect_eq "the upstream saw 3 requests" "$(up count)" 3

mode 500
check_exit "refresh from a 500 upstream exits 1" 1 sherve --redirects-url "$URL" refresh
expect_file_contains "the 500 is reported" "$C_ERR" 500
check_exit "baz is kept after the 500" 0 sherve lookup baz

mode garbage
check_exit "refresh from an upstream of invalid lines exits 1" 1 \
	sherve --redirects-url "$URL" --force refresh
check_exit "baz is kept after the invalid body" 0 sherve lookup baz

mode huge
check_exit "refresh of a body over max-body exits 1" 1 \
	sherve --redirects-url "$URL" --max-body 65536 --force refresh
check_exit "baz is kept after the huge body" 0 sherve lookup baz

mode slow
t0=$(date +%s)
check_exit "refresh from a hanging upstream exits 1" 1 \
	sherve --redirects-url "$URL" --fetch-timeout 1 --force refresh
t1=$(date +%s)
if [ $((t1 - t0)) -le 6 ]; then
	pass "fetch-timeout 1 bounds the hang ($((t1 - t0)) s)"
else
	fail "fetch-timeout 1 bounds the hang" "$((t1 - t0)) s"
fi
check_exit "baz is kept after the timeout" 0 sherve lookup baz
mode ok
expect_eq "list is the last good map" "$(list_sorted)" \
	"$(LC_ALL=C sort "$T_TMP/map2.txt")"

# While the upstream is in backoff, an unknown alias does not fetch
# either, even with miss-refresh-interval 0.
n0=$(up count)
check_exit "CGI miss during the backoff exits 0" 0 env GATEWAY_INTERFACE=CGI/1.1 \
	REQUEST_METHOD=GET REQUEST_URI=/no-such-alias "$SHERVE_BIN" --state-dir "$S" \
	--redirects-url "$URL" --miss-refresh-interval 0
expect_file_contains "... answers 404" "$C_OUT" "Status: 404"
expect_eq "... and did not fetch (the upstream's backoff holds)" "$(up count)" "$n0"
check_exit "an explicit refresh ends the backoff" 0 sherve --redirects-url "$URL" refresh
n0=$(up count)
check_exit "CGI miss after the backoff exits 0" 0 env GATEWAY_INTERFACE=CGI/1.1 \
	REQUEST_METHOD=GET REQUEST_URI=/no-such-alias "$SHERVE_BIN" --state-dir "$S" \
	--redirects-url "$URL" --miss-refresh-interval 0
expect_eq "... fetched once" "$(up count)" "$((n0 + 1))"

# CGI has no timer: a request that finds a scheduled refresh due starts
# it detached and does not wait for it, even from a hanging upstream.
mode slow
sleep 2
n0=$(up count)
t0=$EPOCHREALTIME
check_exit "CGI with a refresh due exits 0" 0 env GATEWAY_INTERFACE=CGI/1.1 \
	REQUEST_METHOD=GET REQUEST_URI=/ "$SHERVE_BIN" --state-dir "$S" \
	--redirects-url "$URL" --refresh-interval 1 --fetch-timeout 3
ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
if [ "$ms" -lt 1500 ]; then
	pass "... without waiting for the hanging upstream ($ms ms)"
else
	fail "... without waiting for the hanging upstream" "$ms ms"
fi
for _ in $(seq 50); do
	[ "$(up count)" -gt "$n0" ] && break
	sleep 0.1
done
expect_eq "... and the detached refresh reached the upstream" "$(up count)" "$((n0 + 1))"
# Its fetch is held: it records the timeout (fetch-timeout 3) when it
# ends. Wait for that, not for a time.
D=$(detached_refresh "$S" | head -n 1)
if [ -n "$D" ]; then
	T_PIDS+=("$D")
	t_wait_gone "$D" 200 ||
		fail "... the detached refresh ends after its fetch-timeout (3 s)" \
			"pid $D still running after 20 s"
else
	fail "... the detached refresh is running" \
		"no '$SHERVE_BIN refresh --scheduled' for $S"
fi
check_exit "status after the detached refresh" 0 sherve status
expect_file_contains "... records its failure" "$C_OUT" "Timeout"
mode ok

# ---------------------------------------------------------------- no server

check_exit "no command and no web server exits 64" 64 \
	env -u GATEWAY_INTERFACE "$SHERVE_BIN" --state-dir "$S"
expect_file_contains "it says why" "$C_ERR" "web server"

# ---------------------------------------------------------------- CGI

# cgi METHOD URI [ARGS...]: one CGI request; the response in $C_OUT.
# shellcheck disable=SC2317 # called through check_exit
cgi() {
	local m=$1 u=$2
	shift 2
	env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$m" REQUEST_URI="$u" \
		SERVER_PROTOCOL=HTTP/1.1 "$SHERVE_BIN" --state-dir "$S" "$@"
}
# cgi_header NAME: a header of the CGI response in $C_OUT.
cgi_header() {
	# shellcheck disable=SC2034 # read by header
	H_HEADERS=$C_OUT
	header "$1"
}

check_exit "CGI GET /foo exits 0" 0 cgi GET /foo
expect_eq "CGI /foo prints Status: 301" "$(head -n 1 "$C_OUT" | tr -d '\r')" \
	"Status: 301 Moved Permanently"
expect_eq "CGI /foo Location" "$(cgi_header Location)" https://example.com/foo
check_exit "CGI HEAD /foo exits 0" 0 cgi HEAD /foo
expect_eq "CGI HEAD sends no body" \
	"$(sed -n '/^\r*$/,$p' "$C_OUT" | tail -n +2 | wc -c | tr -d ' ')" 0
check_exit "CGI GET /nope exits 0" 0 cgi GET /nope
expect_file_contains "CGI /nope prints Status: 404" "$C_OUT" "Status: 404"
check_exit "CGI POST exits 0" 0 cgi POST /foo
expect_file_contains "CGI POST prints Status: 405" "$C_OUT" "Status: 405"
check_exit "CGI with redirect-status 308" 0 cgi GET /bar --redirect-status 308
expect_file_contains "CGI prints Status: 308" "$C_OUT" "Status: 308"
printf 'redirect-status = 302\nredirect-cache-control = "no-cache"\n' \
	>"$T_TMP/sherve.conf"
check_exit "CGI with --config" 0 cgi GET /foo --config "$T_TMP/sherve.conf"
expect_file_contains "the config file sets redirect-status 302" "$C_OUT" \
	"Status: 302"
expect_eq "the config file sets redirect-cache-control" \
	"$(cgi_header Cache-Control)" no-cache
mkdir -p "$T_TMP/www"
printf 'CGI-ASSET\n' >"$T_TMP/www/a.txt"
check_exit "CGI serves an asset" 0 cgi GET /a.txt --webroot "$T_TMP/www"
expect_file_contains "CGI asset body" "$C_OUT" CGI-ASSET
expect_eq "CGI asset Content-Type" "$(cgi_header Content-Type)" \
	"text/plain; charset=utf-8"

# A fresh store: CGI fetches the map once, then leaves it to cron.
S2=$T_TMP/state2
mkdir -p "$S2"
check_exit "CGI on an empty store fetches the map" 0 env GATEWAY_INTERFACE=CGI/1.1 \
	REQUEST_METHOD=GET REQUEST_URI=/baz "$SHERVE_BIN" --state-dir "$S2" \
	--redirects-url "$URL"
expect_file_contains "CGI /baz after the startup fetch is 301" "$C_OUT" "Status: 301"

# Apache's mod_cgid runs a CGI program with a connected unix socket as
# stdin: that is CGI, not a FastCGI listener.
cat >"$T_TMP/cgid.py" <<'EOF'
import os, socket, subprocess, sys
a, b = socket.socketpair()
env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET",
           REQUEST_URI="/a.txt")
r = subprocess.run(sys.argv[1:], stdin=b, capture_output=True, env=env,
                   timeout=20)
sys.stdout.buffer.write(r.stdout)
sys.exit(r.returncode)
EOF
check_exit "CGI with a connected socket on stdin (mod_cgid) exits 0" 0 \
	python3 "$T_TMP/cgid.py" "$SHERVE_BIN" --state-dir "$S" --webroot "$T_TMP/www"
expect_file_contains "... and answers the request as CGI" "$C_OUT" CGI-ASSET

# Without REQUEST_URI the path is SCRIPT_NAME + PATH_INFO; one too long
# for sherve's buffer is 414, never a fallback to "/".
long=$(printf 'p%.0s' $(seq 1 9000))
check_exit "CGI with an overlong PATH_INFO exits 0" 0 env -u REQUEST_URI \
	GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_NAME=/go \
	PATH_INFO="/$long" "$SHERVE_BIN" --state-dir "$S" --webroot "$T_TMP/www"
expect_file_contains "... and answers 414" "$C_OUT" "Status: 414"
check_exit "CGI with SCRIPT_NAME + PATH_INFO exits 0" 0 env -u REQUEST_URI \
	GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_NAME=/a.txt \
	"$SHERVE_BIN" --state-dir "$S" --webroot "$T_TMP/www"
expect_file_contains "... and serves that path" "$C_OUT" CGI-ASSET

# Reading commands create nothing: run as root (cron, a textfile
# collector), they must not leave files the workers cannot open.
S3=$T_TMP/state3
mkdir -p "$S3"
check_exit "metrics on an empty state dir exits 0" 0 \
	"$SHERVE_BIN" --state-dir "$S3" metrics
expect_file_contains "... and prints zero requests" "$C_OUT" "sherve_requests_total 0"
for v in list status export "lookup foo"; do
	# shellcheck disable=SC2086
	check_exit "$v on an empty state dir exits 74" 74 \
		"$SHERVE_BIN" --state-dir "$S3" $v
	expect_file_contains "... and says there is no store yet" "$C_ERR" "no store yet"
done
printf 'docs/* https://example.org/docs\nx https://example.org/docs/a/b\n' \
	>"$T_TMP/prefix-loop.txt"
check_exit "check on an empty state dir exits 0" 0 \
	"$SHERVE_BIN" --state-dir "$S3" check "$T_TMP/prefix-loop.txt"
expect_file_contains "... and warns of a target under a prefix rule" "$C_OUT" \
	"target of 'x' falls under the prefix rule 'docs/*'"
expect_eq "reading commands created no file in the state dir" \
	"$(ls -A "$S3" | tr '\n' ' ')" ""
check_exit "import creates the store" 0 \
	"$SHERVE_BIN" --state-dir "$S3" import "$T_TMP/map1.txt"
rm -f "$S3/redirects.mdb-lock"
check_exit "list of a store whose lock file is gone exits 0" 0 \
	"$SHERVE_BIN" --state-dir "$S3" list
expect_file_contains "... and lists the map" "$C_OUT" "foo https://example.com/foo"
expect_eq "... and does not create a lock file" \
	"$(ls -A "$S3" | grep -c 'mdb-lock$')" 0

finish

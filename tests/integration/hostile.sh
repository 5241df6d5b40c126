#!/bin/bash
#
# tests/integration/hostile.sh - a hostile request corpus through a real
# lighttpd running sherve (contrib/lighttpd/sherve.conf, max-procs 2).
#
# The requests are the lines of hostile.txt (see its header for the
# format) plus a generated matrix: every spelling of ".." we know times
# every spelling of "/", shallow and deep, overlong paths and oversized
# headers, odd methods. For each answer:
#   - there is an HTTP answer (000 only where hostile.txt allows it);
#   - the status is not 5xx (a 5xx from lighttpd would mean sherve failed;
#     lighttpd's own 501 for a method it does not know is allowed only
#     where hostile.txt lists it);
#   - the status is one hostile.txt allows, where it lists some;
#   - the bytes of the canary (the file outside the webroot the symlinks
#     point at, and the dotfiles) appear in no answer.
# Afterwards the same sherve processes (children of lighttpd) are alive
# and still answer.
#
# Needs lighttpd, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd curl python3 mkfifo
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
[ -r "$TEMPLATE" ] || hard_error "$TEMPLATE: missing"
CORPUS=$T_LIB_DIR/hostile.txt
[ -r "$CORPUS" ] || hard_error "$CORPUS: missing"

# ---------------------------------------------------------------- fixture

CANARY="HOSTILE-CANARY-$$-$RANDOM$RANDOM"
W=$T_TMP/www
OUT=$T_TMP/outside
mkdir -p "$W/sub" "$W/.git" "$OUT" "$T_TMP/state" "$T_TMP/run/htdocs"
printf '<p>index</p>\n' >"$W/index.html"
printf 'A-TXT\n' >"$W/a.txt"
printf '<p>page</p>\n' >"$W/sub/page.html"
printf 'cafe\n' >"$W/caf"$'\xc3\xa9'".txt"
head -c 100000 /dev/zero | tr '\0' 'b' >"$W/big.bin"
printf '%s outside\n' "$CANARY" >"$OUT/canary.txt"
printf '%s dotfile\n' "$CANARY" >"$W/.secret"
printf '[core]\n%s git\n' "$CANARY" >"$W/.git/config"
printf '%s htaccess\n' "$CANARY" >"$W/sub/.htaccess"
ln -s "$OUT/canary.txt" "$W/link.txt"
ln -s ../outside/canary.txt "$W/rel-link.txt"
ln -s ../outside "$W/linkdir"
mkfifo "$W/fifo"
printf 'foo https://example.com/foo\nbar/baz https://example.com/bar\n' \
	>"$T_TMP/redirects.txt"

# ---------------------------------------------------------------- lighttpd

L_WAIT=/a.txt start_lighttpd hostile RUNDIR="$T_TMP/run" \
	STATE_DIR="$T_TMP/state" REDIRECTS_URL="file://$T_TMP/redirects.txt" ||
	hard_error "lighttpd does not start"
note "lighttpd (pid $L_PID) on $B, webroot $W"

# The sherve processes lighttpd runs, as "pid:starttime" (a reused PID
# would not match).
responders() {
	local c
	for c in $(sherve_procs "$L_PID"); do
		printf '%s:%s\n' "$c" "$(t_proc_start "$c")"
	done | sort
}

PROCS_BEFORE=$(responders)
expect_eq "lighttpd runs 2 sherve responders" \
	"$(printf '%s\n' "$PROCS_BEFORE" | grep -c .)" 2

# ---------------------------------------------------------------- requests

ALL=$T_TMP/all-answers
: >"$ALL"
N_TRIED=0
N_NOANSWER=0
N_UNANSWERED=0
N_5XX=0

# t_short STRING: a one-line description, at most 90 bytes, escaped.
t_short() {
	local s=${1:0:90}
	s=${s//[![:print:]]/?}
	if [ "${#1}" -gt 90 ]; then
		s+="...(${#1} bytes)"
	fi
	T_SHORT=$s
}

# judge DESC ALLOWED: check the last answer (H_STATUS, H_HEADERS, H_BODY).
judge() {
	local desc=$1 allowed=$2 ok=1 why=
	N_TRIED=$((N_TRIED + 1))
	# One file for all answers, each after a "=== request" line; it is
	# searched for the canary at the end (one grep, not one per request).
	{
		printf '\n=== %s\n' "$desc"
		cat "$H_HEADERS" "$H_BODY"
	} >>"$ALL" 2>/dev/null
	if [ -n "$allowed" ]; then
		case ",$allowed," in
		*",$H_STATUS,"*) ;;
		*)
			ok=0
			why="${why:+$why; }status $H_STATUS, want $allowed"
			;;
		esac
	fi
	case $H_STATUS in
	000)
		N_NOANSWER=$((N_NOANSWER + 1))
		[ -n "$allowed" ] || {
			N_UNANSWERED=$((N_UNANSWERED + 1))
			ok=0
			why="${why:+$why; }no HTTP answer"
		}
		;;
	5??)
		case ",$allowed," in
		*",$H_STATUS,"*) ;;
		*)
			N_5XX=$((N_5XX + 1))
			ok=0
			why="${why:+$why; }status $H_STATUS"
			;;
		esac
		;;
	esac
	if [ "$ok" = 1 ]; then
		pass "$desc => $H_STATUS"
	else
		fail "$desc" "$why"
	fi
}

# Printable ASCII but '#', '%' and '\' (a regex: a glob is quadratic on
# the 64 KiB targets).
PLAIN_RE='^/[]!"$&-[^-~]*$'

# send METHOD TARGET [HEADER...]: one request with curl. TARGET and the
# headers are already unescaped bytes.
send() {
	local method=$1 target=$2 args=() h
	shift 2
	H_HEADERS=$T_TMP/last.headers
	H_BODY=$T_TMP/last.body
	: >"$H_HEADERS"
	: >"$H_BODY"
	case $method in
	GET) ;;
	HEAD) args+=(-I) ;;
	*) args+=(-X "$method") ;;
	esac
	for h in "$@"; do
		args+=(-H "$h")
	done
	# Plain origin-form paths go in the URL (--path-as-is keeps the dot
	# segments); anything else is sent verbatim as the request-target.
	if [[ $target =~ $PLAIN_RE ]]; then
		args+=(--path-as-is "$B$target")
	else
		args+=(--request-target "$target" "$B/")
	fi
	H_STATUS=$(curl -s -m 10 -o "$H_BODY" -D "$H_HEADERS" \
		-w '%{http_code}' "${args[@]}" 2>/dev/null) || true
	[ -n "$H_STATUS" ] || H_STATUS=000
}

# unescape STRING: \xNN and friends to bytes, into U (no fork without
# a backslash).
unescape() {
	if [[ $1 == *\\* ]]; then
		U=$(printf '%b' "$1")
	else
		U=$1
	fi
}

# parse_line LINE: split one corpus line into P_ALLOWED, P_RAW (the bytes
# of a RAW line) or P_METHOD, P_TARGET, P_HDRS (unescaped) and P_DESC.
parse_line() {
	local line=$1 rest h
	P_ALLOWED=
	P_RAW=
	P_HDRS=()
	if [[ $line == *' => '* ]]; then
		P_ALLOWED=${line##* => }
		line=${line% => *}
	fi
	if [[ $line == 'RAW '* ]]; then
		P_RAW=${line#RAW }
		t_short "$P_RAW"
		P_DESC="RAW $T_SHORT"
		return
	fi
	P_METHOD=${line%% *}
	rest=${line#* }
	# Substrings by length: a ${x#"$long"} match is quadratic.
	P_TARGET=${rest%% | *}
	rest=${rest:${#P_TARGET}}
	while [[ $rest == ' | '* ]]; do
		rest=${rest:3}
		h=${rest%% | *}
		rest=${rest:${#h}}
		unescape "$h"
		P_HDRS+=("$U")
	done
	t_short "$P_METHOD $P_TARGET${P_HDRS[*]:+ | ${P_HDRS[*]}}"
	P_DESC=$T_SHORT
	unescape "$P_TARGET"
	P_TARGET=$U
}

# run_line LINE: one line of the corpus format, through lighttpd.
run_line() {
	parse_line "$1"
	if [ -n "$P_RAW" ]; then
		raw_http "$L_PORT" "$P_RAW"
	else
		send "$P_METHOD" "$P_TARGET" "${P_HDRS[@]}"
	fi
	judge "$P_DESC" "$P_ALLOWED"
}

# cgi_line LINE: the same request straight to sherve as a CGI program,
# without lighttpd's own checks in front; the answer is kept in
# $CGI_DIR/N.out and judged by cgi_verdicts. RAW lines are skipped.
CGI_DIR=$T_TMP/cgi
CGI_N=0
cgi_line() {
	local h name val envs
	parse_line "$1"
	[ -z "$P_RAW" ] || return 0
	envs=(GATEWAY_INTERFACE=CGI/1.1 "REQUEST_METHOD=$P_METHOD"
		"REQUEST_URI=$P_TARGET" SERVER_NAME=localhost "PATH=$PATH")
	for h in "${P_HDRS[@]}"; do
		name=${h%%:*}
		val=${h#*:}
		val=${val# }
		name=${name^^}
		envs+=("HTTP_${name//-/_}=$val")
	done
	CGI_N=$((CGI_N + 1))
	env -i "${envs[@]}" timeout 10 "$SHERVE_BIN" --config /dev/null \
		--webroot "$W" --state-dir "$T_TMP/state" \
		--redirects-url "file://$T_TMP/redirects.txt" \
		>"$CGI_DIR/$CGI_N.out" 2>>"$CGI_DIR/stderr"
	printf '%s\t%s\t%s\t%s\n' "$CGI_N" "$?" "$P_METHOD" "$P_DESC" \
		>>"$CGI_DIR/index"
}

# cgi_verdicts: one line per CGI answer that breaks a rule (no 5xx, exit
# 0, a framed header block, Content-Length = body, no canary).
cgi_verdicts() {
	python3 - "$CGI_DIR" "$CANARY" <<'PYEOF'
import sys
d, canary = sys.argv[1], sys.argv[2].encode()
for row in open(d + "/index", encoding="latin-1"):
    n, rc, method, desc = row.rstrip("\n").split("\t", 3)
    out = open("%s/%s.out" % (d, n), "rb").read()
    why = []
    if rc != "0":
        why.append("exit %s" % rc)
    head, sep, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = 0
    if not sep or not lines[0].startswith(b"Status: "):
        why.append("no framed header block")
    else:
        status = int(lines[0][8:11])
        if status >= 500:
            why.append("status %d" % status)
    for l in lines:
        if b"\r" in l or b"\n" in l:
            why.append("CR or LF inside a header")
    cl = [l.split(b":", 1)[1].strip() for l in lines
          if l.lower().startswith(b"content-length:")]
    if method == "HEAD" or status == 304:
        if body:
            why.append("a body with %s %d" % (method, status))
    elif cl and int(cl[-1]) != len(body):
        why.append("Content-Length %s, body %d" % (cl[-1].decode(), len(body)))
    if canary in out:
        why.append("the canary leaked")
    if why:
        print("%s (%s)" % (desc, "; ".join(why)))
PYEOF
}

# run_file FUNCTION FILE: FUNCTION for each request line of FILE.
run_file() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'' | '#'*) continue ;;
		esac
		"$1" "$line"
	done <"$2"
}

# rep N STRING: STRING N times.
rep() {
	yes "$2" | head -n "$1" | tr -d '\n'
}

# The generated part of the corpus, in the same format.
generate() {
	local dd sep abs deep
	local dots=('..' '%2e%2e' '%2e.' '.%2e' '%2E%2E' '%2E.' '.%2E'
		'%c0%ae%c0%ae' '%252e%252e' '%e0%80%ae%e0%80%ae' '..%00'
		'.%00.')
	local seps=('/' '%2f' '%2F' '%5c' '%5C' '%c0%af' '%252f' '\\')
	for dd in "${dots[@]}"; do
		for sep in "${seps[@]}"; do
			printf 'GET /%s%soutside%scanary.txt => 400,404\n' \
				"$dd" "$sep" "$sep"
			abs=${OUT#/}/canary.txt
			deep=$(rep 12 "$dd$sep")
			printf 'GET /%s%s => 400,404\n' "$deep" "${abs//\//$sep}"
		done
	done
	# Overlong paths: around sherve's 4 KiB path and 8 KiB URI buffers,
	# and far past lighttpd's own limits.
	printf 'GET /%s\n' "$(rep 4095 a)"
	printf 'GET /%s\n' "$(rep 4096 a)"
	printf 'GET /%s\n' "$(rep 2047 a/)"
	printf 'GET /%s\n' "$(rep 2049 a/)"
	printf 'GET /%s\n' "$(rep 8190 a)"
	printf 'GET /%s\n' "$(rep 8200 a)"
	printf 'GET /%s\n' "$(rep 65535 a)"
	printf 'GET /%s\n' "$(rep 21845 ../)"
	printf 'GET /%s\n' "$(rep 9000 %2e%2e/)"
	printf 'GET /%s\n' "$(rep 30000 /a)"
	printf 'GET /a.txt?%s => 200,414,431\n' "$(rep 7000 x)"
	printf 'GET /%s.txt\n' "$(rep 1000 %c3%a9)"
	# Oversized and pathological headers: some under lighttpd's 8 KiB
	# header limit (they reach sherve), some over it.
	printf 'GET /big.bin | Range: bytes=%s\n' "$(rep 8186 0)"
	printf 'GET /big.bin | Range: bytes=%s-\n' "$(rep 6000 1)"
	# (lighttpd may answer a Range list itself: no fixed status.)
	printf 'GET /big.bin | Range: bytes=%s\n' "$(rep 1000 0-0,)"
	printf 'GET /big.bin | Range: bytes=%s\n' "$(rep 600 0-0,)"
	printf 'GET /big.bin | Range: bytes=%s1-2 => 206,431\n' "$(rep 6000 ' ')"
	printf 'GET /a.txt | If-None-Match: %s => 200,431\n' "$(rep 1600 '"x", ')"
	printf 'GET /a.txt | If-None-Match: %s => 200,431\n' "$(rep 700 'W/"x",')"
	printf 'GET /a.txt | If-None-Match: "%s" => 200,431\n' "$(rep 6000 a)"
	printf 'GET /a.txt | If-None-Match: %s* => 200,304,431\n' "$(rep 3000 ', ')"
	printf 'GET /a.txt | If-Modified-Since: %s => 200,431\n' "$(rep 1600 'Sun, ')"
	printf 'GET /a.txt | If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT%s => 200,431\n' "$(rep 6000 ' ')"
	printf 'GET /big.bin | Range: bytes=0-0 | If-Range: "%s" => 200,431\n' "$(rep 6000 z)"
	printf 'GET /a.txt | Accept-Encoding: %s => 200,431\n' "$(rep 700 'gzip;q=0.5, ')"
	printf 'GET /a.txt | X-Big: %s => 200,431\n' "$(rep 9000 y)"
	# Methods.
	printf '%s /a.txt => 400,405,501\n' "$(rep 100 A)"
	printf '%s /a.txt => 400,405,501\n' "$(rep 1000 M)"
	printf 'GETX /a.txt => 400,405,501\n'
	printf 'GE /a.txt => 400,405,501\n'
}

generate >"$T_TMP/generated.txt"
note "corpus: $CORPUS and $(grep -c . "$T_TMP/generated.txt") generated requests"
run_file run_line "$CORPUS"
run_file run_line "$T_TMP/generated.txt"

# ---------------------------------------------------------------- verdicts

note "$N_TRIED requests tried"
LEAKS=$(awk -v c="$CANARY" '/^=== / { req = $0 } index($0, c) { print req }' "$ALL" | sort -u)
expect_eq "no answer holds the canary bytes" "$LEAKS" ""
expect_eq "no request got a 5xx" "$N_5XX" 0
expect_eq "every request got an HTTP answer (but those allowed none)" \
	"$N_UNANSWERED" 0
check "lighttpd is still running" alive "$L_PID"
PROCS_AFTER=$(responders)
expect_eq "the same sherve processes are alive (none died or restarted)" \
	"$PROCS_AFTER" "$PROCS_BEFORE"
send GET /a.txt
expect_status "sherve still serves /a.txt" 200
expect_body_equals "with its content" "A-TXT
"
send GET /foo
expect_status "sherve still redirects /foo" 301
expect_no_backend_death "lighttpd logged no backend death" "$L_RUN/error.log"
note "$N_TRIED hostile requests tried, $N_NOANSWER without an HTTP answer (allowed)"

# ---------------------------------------------------------------- CGI

# The same corpus straight to sherve, without lighttpd refusing the worst
# of it first: every answer framed, no 5xx, no canary.
mkdir -p "$CGI_DIR"
: >"$CGI_DIR/index"
run_file cgi_line "$CORPUS"
run_file cgi_line "$T_TMP/generated.txt"
cgi_verdicts >"$T_TMP/cgi-bad"
if [ -s "$T_TMP/cgi-bad" ]; then
	while IFS= read -r line; do
		fail "CGI: $line" "a rule broken"
	done <"$T_TMP/cgi-bad"
else
	pass "CGI: all $CGI_N requests answered, framed, no 5xx, no canary"
fi
note "$CGI_N requests sent straight to sherve as CGI"
finish

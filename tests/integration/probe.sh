#!/bin/bash
#
# tests/integration/probe.sh - `sherve check --probe`: the targets of a
# map asked whether they still answer, against the fake upstream
# (tests/integration/upstream.py, its /probe/ targets).
#
# One map holds every kind of target: live, held for a while, dead (404,
# 500, a closed port), slow (beyond fetch-timeout), 405 to HEAD, a chain
# of 3 redirects, a loop of 7, a redirect to a dead page, redirects to
# mailto: and file: (never followed), a prefix rule, relative targets in
# and out of an @host section, two rules of one target. The JSON report
# must classify each as the server answered it, exit 1 (dead ones), and
# the server must have seen at most 4 requests in flight (and 4 reached,
# so the cap is what held them) and at most 10 arrivals in any second,
# every redirect hop and retry included, each target asked once. Then a
# map of live targets only exits 0 with its text report, TLS is verified
# (a self-signed https upstream is dead without --ca-bundle, fine with
# it), and --json alone is a usage error.
#
# Needs curl, python3 and openssl; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd curl python3 openssl
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"

S=$T_TMP/state
# sherve ARGS...: the binary with a private state dir and no config.
sherve() {
	"$SHERVE_BIN" --state-dir "$S" "$@"
}

# The fake upstreams serve their /probe/ targets; their file is unused.
printf 'unused x\n' >"$T_TMP/unused.txt"
start_upstream --name plain "$T_TMP/unused.txt" --hold-seconds 1 \
	--slow-seconds 30
U=$UP
note "fake upstream on $U"
closed_port CLOSED

# ---------------------------------------------------------------- every kind

cat >"$T_TMP/map.txt" <<EOF
# Held first: the first four fill the slots for a second.
h1       $U/probe/hold/1
h2       $U/probe/hold/2
h3       $U/probe/hold/3
h4       $U/probe/hold/4
h5       $U/probe/hold/5
live     $U/probe/ok/a
also     $U/probe/ok/a
gone     $U/probe/dead/a
broken   $U/probe/error/a
nohead   $U/probe/nohead/a
chain    $U/probe/chain/3/a
loop     $U/probe/loop/0/a
moved    $U/probe/to-dead/a
mail     $U/probe/mailto/a
file     $U/probe/to-file/a
docs/*   $U/probe/ok/docs/:splat
closed   http://127.0.0.1:$CLOSED/x
this line is not a rule
here     /local/page
@host example.localhost
there    /elsewhere
@host *
# Last: nothing else is in flight when it times out.
slow     $U/probe/slow/a
EOF

T0=$(date +%s%N)
check_exit "--probe --json: exit 1 when a target is dead" 1 \
	sherve --fetch-timeout 3 --connect-timeout 3 \
	--allow-relative-targets yes check --probe --json "$T_TMP/map.txt"
T1=$(date +%s%N)
note "the probe took $(((T1 - T0) / 1000000)) ms"
cp "$C_OUT" "$T_TMP/report.json"
cp "$C_ERR" "$T_TMP/report.err"
log_file "$T_TMP/report.err"
expect_file_contains "the skipped line is reported on stderr with its number" \
	"$T_TMP/report.err" "$T_TMP/map.txt:19:"
curl -s -m 5 "$U/-/probe-stats" >"$T_TMP/stats.json"

# judge REPORT STATS: one "ok - ..." or "not ok - ..." line per check,
# for the python side of the verdicts.
python3 - "$T_TMP/report.json" "$T_TMP/stats.json" "$U" "$CLOSED" \
	"$T_TMP/map.txt" >"$T_TMP/judged" 2>&1 <<'PY'
import json, sys
rep_file, stats_file, U, closed, src = sys.argv[1:6]

def say(ok, desc, got=""):
    print(("ok - %s" % desc) if ok else ("not ok - %s (got %s)" % (desc, got)))

try:
    rep = json.load(open(rep_file))
except ValueError as e:
    say(False, "the report is JSON", e)
    sys.exit(0)
say(True, "the report is JSON")
say(rep.get("source") == src, "source names the file", rep.get("source"))
say(rep.get("rules") == 20, "20 rules read", rep.get("rules"))
by = {t["url"]: t for t in rep["targets"]}
order = [t["url"] for t in rep["targets"]]

# url: (result, status, final_url, redirects, method, detail substring)
want = {
    U + "/probe/hold/1": ("fine", 200, U + "/probe/hold/1", 0, "HEAD", None),
    U + "/probe/ok/a": ("fine", 200, U + "/probe/ok/a", 0, "HEAD", None),
    U + "/probe/dead/a": ("dead", 404, U + "/probe/dead/a", 0, "HEAD", None),
    U + "/probe/error/a": ("dead", 500, U + "/probe/error/a", 0, "HEAD", None),
    U + "/probe/nohead/a": ("fine", 200, U + "/probe/nohead/a", 0, "GET", None),
    U + "/probe/chain/3/a": ("redirected", 200, U + "/probe/chain/0/a", 3,
                             "HEAD", None),
    U + "/probe/loop/0/a": ("dead", 302, U + "/probe/loop/5/a", 5, "HEAD",
                            "more than 5 redirects"),
    U + "/probe/to-dead/a": ("dead", 404, U + "/probe/dead/a", 1, "HEAD",
                             None),
    U + "/probe/mailto/a": ("redirected", 302, "mailto:a@example.org", 1,
                            "HEAD", "not followed"),
    U + "/probe/to-file/a": ("redirected", 302, "file:///etc/passwd", 1,
                             "HEAD", "not followed"),
    U + "/probe/ok/docs/": ("fine", 200, U + "/probe/ok/docs/", 0, "HEAD",
                            None),
    "http://127.0.0.1:%s/x" % closed: ("dead", None,
                                      "http://127.0.0.1:%s/x" % closed, 0,
                                      "HEAD", "connect"),
    U + "/probe/slow/a": ("dead", None, U + "/probe/slow/a", 0, "HEAD",
                          "timed out"),
    "/local/page": ("skipped", None, None, 0, None, "no host"),
}
for url, (res, st, fin, nred, meth, det) in want.items():
    t = by.get(url)
    if t is None:
        say(False, "%s is in the report" % url, sorted(by))
        continue
    got = (t["result"], t["status"], t["final_url"], t["redirects"],
           t["method"])
    say(got == (res, st, fin, nred, meth),
        "%s: %s, status %s, at %s after %d redirects, %s" %
        (url, res, st, fin, nred, meth), got)
    if det is None:
        say(t["detail"] is None, "%s: no detail" % url, t["detail"])
    else:
        say(t["detail"] is not None and det in t["detail"],
            "%s: the detail says '%s'" % (url, det), t["detail"])
for i in range(2, 6):
    t = by.get(U + "/probe/hold/%d" % i, {})
    say(t.get("result") == "fine", "hold/%d is fine" % i, t.get("result"))

t = by.get("https://example.localhost/elsewhere")
say(t is not None and t["result"] != "skipped",
    "a relative target of an @host section is probed on https://NAME/path",
    sorted(by))
t = by.get(U + "/probe/ok/a", {"rules": []})
say([(r["alias"], r["line"]) for r in t["rules"]] == [("live", 7),
                                                     ("also", 8)],
    "two rules of one target: one target, both rules listed", t["rules"])
t = by.get(U + "/probe/ok/docs/", {"rules": []})
say([r["alias"] for r in t["rules"]] == ["docs/*"],
    "a prefix rule is probed with an empty splat", t["rules"])
t = by.get("https://example.localhost/elsewhere", {"rules": [{}]})
say(t["rules"][0].get("host") == "example.localhost",
    "... and its rule names its host", t["rules"])
say(len(order) == 19 and order[0] == U + "/probe/hold/1" and
    order[-1] == U + "/probe/slow/a", "19 targets, in the order of the file",
    order)
say(rep.get("counts") == {"fine": 8, "redirected": 3, "dead": 7,
                          "skipped": 1},
    "counts: 8 fine, 3 redirected, 7 dead, 1 skipped", rep.get("counts"))

st = json.load(open(stats_file))
reqs = st["requests"]
say(st["max_in_flight"] <= 4,
    "the server saw at most 4 requests in flight", st["max_in_flight"])
say(st["max_in_flight"] == 4,
    "... and 4 at once (the held targets filled every slot)",
    st["max_in_flight"])
say(st["max_per_second"] <= 10,
    "the server saw at most 10 arrivals in any second, hops included",
    st["max_per_second"])
say(len(reqs) == 26,
    "26 requests: 1 per target of this server (16), +1 GET after a 405, "
    "+3 chain, +5 loop, +1 redirect to a dead page",
    "%d: %s" % (len(reqs), reqs))
say(reqs.count("HEAD /probe/ok/a") == 1, "a target of two rules asked once",
    reqs)
say(reqs.index("HEAD /probe/nohead/a") < reqs.index("GET /probe/nohead/a")
    if "GET /probe/nohead/a" in reqs else False,
    "HEAD refused with 405, then GET", reqs)
say([r for r in reqs if r.startswith("GET") and "nohead" not in r] == [],
    "no GET but after a 405", reqs)
say(sum(1 for r in reqs if "/probe/loop/" in r) == 6,
    "the loop: the first request and 5 redirects followed, no more", reqs)
PY
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*)
		d=${line#not ok - }
		g=${d##* (got }
		fail "${d% (got *}" "${g%)}"
		;;
	*) fail "judge prints only verdicts" "$line" ;;
	esac
done <"$T_TMP/judged"
[ -s "$T_TMP/judged" ] || fail "the report was judged" "nothing printed"

# ---------------------------------------------------------------- all alive

curl -s -m 5 "$U/-/probe-reset" >/dev/null
cat >"$T_TMP/alive.txt" <<EOF
live     $U/probe/ok/b
chain    $U/probe/chain/1/b
mail     $U/probe/mailto/b
accent   $U/probe/utf8/b
here     /local/page
EOF
check_exit "--probe without a dead target exits 0" 0 \
	sherve --allow-relative-targets yes check --probe "$T_TMP/alive.txt"
expect_file_contains "text: a fine target, its status and URL" "$C_OUT" \
	"fine       200 $U/probe/ok/b  <- live (line 1)"
expect_file_contains "text: a redirected one, where it ends" "$C_OUT" \
	"redirected 200 $U/probe/chain/1/b -> $U/probe/chain/0/b (1 redirect)"
expect_file_contains "text: a skipped one, why" "$C_OUT" \
	"skipped      - /local/page (relative target outside any @host section"
# (libcurl encodes in lower case, sherve in upper: either will do.)
check "text: a raw UTF-8 Location, percent-encoded" grep -qiF \
	"redirected 200 $U/probe/utf8/b -> $U/probe/ok/caf%C3%A9 (1 redirect)" \
	"$C_OUT"
expect_file_contains "text: the summary" "$C_OUT" \
	"$T_TMP/alive.txt: 5 targets of 5 rules: 1 fine, 3 redirected, 0 dead, 1 skipped"

# ---------------------------------------------------------------- TLS

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T_TMP/key.pem" \
	-out "$T_TMP/cert.pem" >"$T_TMP/openssl.log" 2>&1 ||
	hard_error "openssl could not make a certificate"
start_upstream --name tls "$T_TMP/unused.txt" --tls-cert "$T_TMP/cert.pem" \
	--tls-key "$T_TMP/key.pem"
printf 'secure %s/probe/ok/t\n' "$UP" >"$T_TMP/tls.txt"
check_exit "https with a self-signed certificate: dead, exit 1" 1 \
	sherve check --probe --json "$T_TMP/tls.txt"
expect_file_contains "... a TLS verification failure" "$C_OUT" '"status":null'
expect_file_contains "... said in the detail" "$C_OUT" 'certificate'
check_exit "... fine with --ca-bundle naming it, exit 0" 0 \
	sherve --ca-bundle "$T_TMP/cert.pem" check --probe --json "$T_TMP/tls.txt"
expect_file_contains "... with its 200" "$C_OUT" \
	"\"url\":\"$UP/probe/ok/t\",\"result\":\"fine\",\"status\":200"

# ---------------------------------------------------------------- usage

check_exit "--json without --probe is a usage error" 64 \
	sherve check --json "$T_TMP/tls.txt"
expect_file_contains "... that says so" "$C_ERR" "--json goes with --probe"
check_exit "--probe of a missing file exits 1" 1 \
	sherve check --probe "$T_TMP/none.txt"
expect_file_contains "... naming it" "$C_ERR" "$T_TMP/none.txt"

finish

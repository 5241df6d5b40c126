#!/bin/bash
#
# tests/integration/heal.sh - a damaged store never takes the site down,
# and heals by itself.
#
# The store is a cache of the upstream map. sherve runs behind a real
# lighttpd (contrib/lighttpd/sherve.conf, 2 processes, refresh-interval 2,
# map of 3,000 aliases from the fake upstream). For each damage a live
# store file can suffer (damage.py): truncated to half, one page of the
# map zeroed, the nodes of one page overwritten with random bytes (a
# change only the checksum sees), while requests keep coming:
#   - no sherve process dies: the same PIDs before and after, all alive;
#   - every asset request answers 200 with its bytes, throughout;
#   - an alias answers 301 to its target, 404 or sherve's own 503
#     (Retry-After), never another status: no worker died under it;
#   - the damage is logged as an error ("is damaged ... set aside");
#   - within 20 s every alias of a sample answers 301 again, `sherve
#     list` counts the whole map and `sherve status` says the store is ok.
# Then each admin command (status, list, lookup, export, check, refresh,
# refresh --force, import) runs on its own damaged copy of a store, for
# each damage (plus a zeroed header page and an empty file): each exits
# with a status below 128 and says something; the readers report the
# damage (exit 74, "damaged" and the repair); refresh, refresh --force
# and import set the file aside and store the whole map.
#
# Needs curl, python3 and lighttpd (the CLI part runs without lighttpd).
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd curl python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"

N=3000
MAP=$T_TMP/map.txt
python3 - "$MAP" "$N" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("t%04d https://example.com/target/%04d\n" % (i, i))
EOF
W=$T_TMP/www
mkdir -p "$W"
head -c 20000 /dev/urandom | base64 >"$W/asset.txt"
DAMAGE=$T_LIB_DIR/damage.py

# ---------------------------------------------------------------- CLI

# A healthy store of the map, copied for each run.
GOOD=$T_TMP/good
"$SHERVE_BIN" --state-dir "$GOOD" import "$MAP" >/dev/null 2>&1 ||
	hard_error "cannot fill $GOOD"

# cli_case KIND CMD...: CMD on a fresh damaged copy of the good store.
cli_case() {
	local kind=$1 d out err rc n
	shift
	d=$T_TMP/cli-$kind-$RANDOM
	cp -r "$GOOD" "$d"
	python3 "$DAMAGE" "$d/redirects.mdb" "$kind" \
		"https://example.com/target/1500" >/dev/null ||
		hard_error "damage.py $kind failed"
	out=$T_TMP/cli.out
	err=$T_TMP/cli.err
	"$SHERVE_BIN" --state-dir "$d" --redirects-url "file://$MAP" \
		--max-shrink 100 "$@" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -lt 128 ] && { [ -s "$out" ] || [ -s "$err" ]; }; then
		pass "[$kind] sherve $* exits $rc (no signal) and says something"
	else
		fail "[$kind] sherve $* exits by no signal, with a message" \
			"exit $rc, stderr: $(head -c 200 "$err")"
	fi
	case $1 in
	status | list | export | check)
		# The readers: the damage, and what repairs it.
		expect_eq "[$kind] ... $1 exits 74" "$rc" 74
		if grep -qi 'damaged' "$out" "$err" &&
			grep -q 'refresh --force' "$out" "$err"; then
			pass "[$kind] ... $1 says the store is damaged and what repairs it"
		else
			fail "[$kind] ... $1 says the store is damaged and what repairs it" \
				"$(head -c 300 "$err") / $(tail -n 1 "$out")"
		fi
		;;
	refresh | import)
		expect_eq "[$kind] ... $1 exits 0" "$rc" 0
		n=$("$SHERVE_BIN" --state-dir "$d" list 2>/dev/null | wc -l)
		expect_eq "[$kind] ... and the whole map is stored again" "$n" "$N"
		check_exit "[$kind] ... and status says the store is ok" 0 \
			"$SHERVE_BIN" --state-dir "$d" status
		expect_file_contains "[$kind] ... (store ok)" "$C_OUT" 'store           ok'
		;;
	esac
	rm -rf "$d"
}

for kind in truncate zero scribble header empty; do
	cli_case "$kind" status
	cli_case "$kind" list
	cli_case "$kind" lookup t1500
	cli_case "$kind" lookup t0001
	cli_case "$kind" export
	cli_case "$kind" check "$MAP"
	cli_case "$kind" refresh
	cli_case "$kind" refresh --force
	cli_case "$kind" import "$MAP"
done

# ---------------------------------------------------------------- lighttpd

if ! lighttpd_path >/dev/null; then
	skip "a damaged store behind lighttpd" "lighttpd is not installed"
	finish
fi

start_upstream --name up "$MAP"
URL=$UP/redirects.txt
# sv ARG...: the CLI on the site's state dir ($ST) and URL.
sv() {
	"$SHERVE_BIN" --state-dir "$ST" --redirects-url "$URL" "$@"
}

# probe SECONDS LOG: requests until the site is whole again (once a damage
# was logged in LOG, a full pass over the sample answers 301 to the
# right targets) or SECONDS pass. Prints one line of counts.
probe() {
	python3 - "$B" "$1" "$2" "$ERRORS_BEFORE" "$W/asset.txt" <<'EOF'
import http.client, sys, time, urllib.parse
base, secs, log, before, asset = sys.argv[1:6]
host = urllib.parse.urlsplit(base).netloc
want_asset = open(asset, "rb").read()
sample = list(range(0, 3000, 60)) + [1500, 1499, 1501]
c = {"asset": 0, "asset_bad": 0, "alias": 0, "301": 0, "404": 0,
     "503": 0, "wrong": 0, "other": 0, "healed_s": -1}
def get(path):
    h = http.client.HTTPConnection(host, timeout=10)
    try:
        h.request("GET", path)
        r = h.getresponse()
        return r.status, r.getheader("Location"), r.getheader("Retry-After"), r.read()
    except OSError as e:
        return 0, None, None, str(e).encode()
    finally:
        h.close()
def damage_logged():
    n = 0
    with open(log, errors="replace") as f:
        for line in f:
            if '"level":"error"' in line and "is damaged" in line:
                n += 1
    return n > int(before)
t0 = time.monotonic()
while time.monotonic() - t0 < float(secs):
    whole = True
    for i in sample:
        st, _, _, body = get("/asset.txt")
        c["asset"] += 1
        if st != 200 or body != want_asset:
            c["asset_bad"] += 1
        st, loc, ra, body = get("/t%04d" % i)
        c["alias"] += 1
        if st == 301:
            if loc == "https://example.com/target/%04d" % i:
                c["301"] += 1
            else:
                c["wrong"] += 1
                whole = False
        elif st == 503 and ra == "5" and b"Redirects are unavailable" in body:
            c["503"] += 1
            whole = False
        elif st == 404:
            c["404"] += 1
            whole = False
        else:
            c["other"] += 1
            whole = False
            sys.stderr.write("t%04d: %d %r\n" % (i, st, body[:120]))
    if whole and damage_logged():
        c["healed_s"] = round(time.monotonic() - t0, 2)
        break
print(" ".join("%s=%s" % kv for kv in c.items()))
EOF
}

# count NAME LINE: the value of NAME=... in a probe line.
count() {
	local kv
	for kv in $2; do
		[ "${kv%%=*}" = "$1" ] && { printf '%s' "${kv#*=}"; return; }
	done
}

# damage_round NAME INTERVAL: each damage to a live store, behind
# lighttpd on a fresh state dir $ST (filled by one refresh first) with
# refresh-interval INTERVAL. With 0 the workers find the damage
# themselves (the file check at each tick, a fault or LMDB's own error
# in a lookup), and the scribbled page, which reads fine, waits for the
# next refresh: here `sherve refresh`. With 2, the periodic check of the
# scheduled refresh also finds it.
damage_round() {
	local name=$1 interval=$2 kind before line healed log
	ST=$T_TMP/state-$name
	mkdir -p "$ST"
	check_exit "[$name] the first refresh stores the map" 0 sv refresh
	start_lighttpd "$name" ENV_SHERVE_REFRESH_INTERVAL="$interval" \
		ENV_SHERVE_MISS_REFRESH_INTERVAL=1 ENV_SHERVE_LOG_LEVEL=warn \
		STATE_DIR="$ST" REDIRECTS_URL="$URL" ||
		hard_error "lighttpd did not start"
	for kind in truncate zero scribble; do
		expect_eq "[$name:$kind] the store holds the whole map first" \
			"$(sv list 2>/dev/null | wc -l)" "$N"
		# Warm: every worker maps the file and has read its pages.
		for i in 1 2 3 4; do http "$B/t1500"; done
		expect_status "[$name:$kind] /t1500 is 301 before" 301
		before=$(sherve_procs "$L_PID" | sort -n)
		expect_eq "[$name:$kind] lighttpd runs 2 sherve processes" \
			"$(printf '%s\n' "$before" | grep -c .)" 2
		log=$L_RUN/sherve.log
		ERRORS_BEFORE=$(grep -c '"level":"error".*is damaged' "$log")
		python3 "$DAMAGE" "$ST/redirects.mdb" "$kind" \
			"https://example.com/target/1500" >/dev/null ||
			hard_error "damage.py $kind failed"
		if [ "$interval" = 0 ] && [ "$kind" = scribble ]; then
			# Silent: the next refresh's check finds it.
			for i in 1 2 3 4; do http "$B/t1500"; done
			log=$T_TMP/refresh.err
			ERRORS_BEFORE=0
			check_exit "[$name:$kind] the next sherve refresh exits 0" 0 \
				sv refresh
			cp "$C_ERR" "$log"
		fi
		line=$(probe 20 "$log" 2>"$T_TMP/probe.err")
		note "[$name:$kind] $line"
		expect_eq "[$name:$kind] every asset answered 200 with its bytes" \
			"$(count asset_bad "$line")" 0
		expect_eq "[$name:$kind] aliases: no status but 301, 404 and sherve's 503" \
			"$(count other "$line")" 0
		healed=$(count healed_s "$line")
		if [ -n "$healed" ] && [ "$healed" != -1 ]; then
			pass "[$name:$kind] the damage was logged and the whole sample answered 301 again after ${healed} s"
		else
			fail "[$name:$kind] the damage was logged and the whole sample answered 301 again within 20 s" \
				"$line; $(grep -v '"info"' "$log" | tail -n 3)"
		fi
		expect_eq "[$name:$kind] no sherve process died (same PIDs)" \
			"$(sherve_procs "$L_PID" | sort -n)" "$before"
		expect_file_contains "[$name:$kind] the error names the set-aside copy" \
			"$log" 'redirects.mdb.damaged-'
		expect_eq "[$name:$kind] sherve list counts the whole map" \
			"$(sv list 2>/dev/null | wc -l)" "$N"
		check_exit "[$name:$kind] sherve status exits 0" 0 sv status
		expect_file_contains "[$name:$kind] ... store ok" "$C_OUT" \
			'store           ok'
	done
	expect_no_backend_death "[$name] lighttpd saw no backend die" \
		"$L_RUN/error.log"
	stop_lighttpd
}

damage_round workers 0
damage_round timer 2
finish

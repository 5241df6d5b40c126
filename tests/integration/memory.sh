#!/bin/bash
#
# tests/integration/memory.sh - the memory a refresh takes, against the
# size of the map. `sherve refresh --force` stores a generated gosherve
# map of 64 MB (1.3 M rules of 49 bytes a line, the shortest a real map
# has: the costs per rule weigh most) from a file:// upstream, then
# replaces it with itself; each run's peak resident set (the kernel's
# maxrss of the child) must stay within the bound that README.md
# ("Resources") documents:
#
#   peak <= 6 x the file's size + 16 MiB
#
# Where it comes from: the peak is the write, one transaction that holds
# the parsed map (48 bytes a rule and its strings, about the file's size
# again) beside LMDB's dirty pages of the new map (the rule's bytes and
# about 25 more; a replace also reads the old map's branch pages), and,
# since each stored file is kept as a version (sherve versions, written
# with the map so that no crash can leave the two apart), the body as
# fetched and LMDB's pages of its copy; 16 MiB is the program before any
# map (libcurl, libc). On this map it measured 5.7x storing (366 MB) and
# 4.9x replacing (315 MB); 3.7x and 3.9x before versions were kept, and
# 4.5x before rules lost their padding and their strings one malloc
# each. Writing the version's file in a transaction of its own, ahead of
# the map's, would take the body out of the peak.
#
# Under AddressSanitizer the memory is not the program's (shadow memory,
# quarantine): the bound is skipped there, the refresh still checked.
# Not timed: the machine may be busy, the memory is the same.
#
# Needs python3; skips (77) without it.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd python3
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"

MAP=$T_TMP/map.txt
S=$T_TMP/state
W=$T_TMP/www
mkdir -p "$S" "$W"
RULES=$(python3 "$T_LIB_DIR/genmap.py" gosherve 64000000 "$MAP") ||
	hard_error "genmap.py failed"
SIZE=$(wc -c <"$MAP" | tr -d ' ')
LIMIT=$((SIZE * 6 + 16 * 1024 * 1024))
note "map: $SIZE bytes, $RULES rules; bound $LIMIT bytes"
SAN=
if ldd "$SHERVE_BIN" 2>/dev/null | grep -q libasan; then
	SAN=1
fi
export SHERVE_STATE_DIR=$S SHERVE_WEBROOT=$W SHERVE_MAX_BODY=134217728
export SHERVE_REDIRECTS_URL=file://$MAP

# maxrss ARGS...: run sherve ARGS (stdout to C_OUT, stderr to C_ERR);
# writes its exit status and peak resident set in bytes to $T_TMP/rss.
maxrss() {
	python3 - "$SHERVE_BIN" "$@" >"$T_TMP/rss" <<'PY'
import os, resource, subprocess, sys
with open(os.environ["C_OUT"], "w") as out, \
        open(os.environ["C_ERR"], "w") as err:
    rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=err)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
PY
}
export C_OUT C_ERR

for run in "stores the map" "replaces it"; do
	maxrss refresh --force
	read -r rc peak <"$T_TMP/rss"
	expect_eq "refresh --force $run: exit 0" "$rc" 0
	expect_file_contains "... and says how many rules it stored" "$C_OUT" \
		"stored $RULES aliases"
	if [ -n "$SAN" ]; then
		skip "peak RSS $run <= 6 x the map + 16 MiB" \
			"a sanitizer build: the memory is not the program's"
	elif [ "$peak" -le "$LIMIT" ]; then
		pass "peak RSS $run: $peak bytes <= $LIMIT ($((peak * 100 / SIZE))% of the map)"
	else
		fail "peak RSS $run <= $LIMIT bytes (6 x the map + 16 MiB)" \
			"$peak bytes, $((peak * 100 / SIZE))% of the map"
	fi
done

# The map is whole: its last rule answers.
read -r alias url < <(tail -n 1 "$MAP")
check_exit "lookup of the last rule, $alias" 0 "$SHERVE_BIN" lookup "$alias"
expect_file_contains "... names its target" "$C_OUT" "$url"

finish

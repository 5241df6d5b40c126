#!/bin/sh
#
# tests/fuzz/replay.sh - replay the fuzz seeds and crash reproducers.
#
# For each target, runs tests/fuzz/replay_TARGET (built by `make check`
# with the ordinary compiler) over tests/fuzz/corpus/TARGET and
# tests/fuzz/regress/TARGET. A violated invariant aborts the replay and
# the last input named in its output is the culprit.
#
# Environment (set by `make check`): TOP_SRCDIR, TOP_BUILDDIR.

LC_ALL=C
export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
targets="path range cond httpdate redirects conf params fcgi"

log=$(mktemp "${TMPDIR:-/tmp}/sherve-replay.XXXXXX") || exit 99
trap 'rm -f "$log"' EXIT
pass=0
fail=0
for t in $targets; do
	bin=$TOP_BUILDDIR/tests/fuzz/replay_$t
	corpus=$TOP_SRCDIR/tests/fuzz/corpus/$t
	regress=$TOP_SRCDIR/tests/fuzz/regress/$t
	if [ ! -x "$bin" ]; then
		echo "not ok - replay $t ($bin is not built)"
		fail=$((fail + 1))
		continue
	fi
	if "$bin" "$corpus" "$regress" >"$log" 2>&1; then
		echo "ok - replay $t: $(tail -n 1 "$log" | sed 's/.*: //')"
		pass=$((pass + 1))
	else
		rc=$?
		echo "not ok - replay $t (exit $rc); the last lines:"
		tail -n 15 "$log" | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

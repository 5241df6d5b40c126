#!/bin/sh
#
# tests/fuzz/fuzz.sh - `make fuzz`: build the drivers with libFuzzer and
# run each for a while.
#
# Usage: fuzz.sh TOP_SRCDIR TOP_BUILDDIR OUTDIR SOURCE...
#   SOURCE...  the library sources (src/*.c and headers; only .c are
#              compiled), relative to TOP_SRCDIR
# Environment (make fuzz sets them):
#   FUZZ_CC       clang (needs libFuzzer: Debian libclang-rt-14-dev)
#   FUZZ_CFLAGS   sanitizer and debug flags
#   FUZZ_CPPFLAGS, FUZZ_LIBS  extra include flags and libraries
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_JOBS     targets run at once (0: one per CPU)
#   FUZZ_TARGETS  the targets (default: all)
#
# OUTDIR gets the objects, the fuzz_TARGET binaries, a scratch corpus per
# target (corpus-TARGET, grown run after run; the checked-in seeds are
# only read), its log (TARGET.log) and any crash, leak or timeout input
# (TARGET-crash-*, ...). Exit status 1 if a target failed to build or
# found a bug.

set -u
LC_ALL=C
export LC_ALL

if [ $# -lt 3 ]; then
	echo "usage: fuzz.sh TOP_SRCDIR TOP_BUILDDIR OUTDIR SOURCE..." >&2
	exit 2
fi
src=$1
build=$2
out=$3
shift 3
cc=${FUZZ_CC:-clang}
cflags=${FUZZ_CFLAGS:--g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined}
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-0}
targets=${FUZZ_TARGETS:-path range cond httpdate redirects conf params fcgi}
cppflags="-DHAVE_CONFIG_H -I$build -I$src/src -I$src/tests/fuzz ${FUZZ_CPPFLAGS:-}"
libs=${FUZZ_LIBS:--lcurl -llmdb -lpthread}

if [ "$jobs" -le 0 ] 2>/dev/null; then
	jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
fi
[ -f "$build/config.h" ] || {
	echo "fuzz: $build/config.h missing: run configure first" >&2
	exit 1
}
mkdir -p "$out/obj" || exit 1

# libFuzzer present? (clang alone is not enough on Debian.)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ return 0; }\n' \
	>"$out/probe.c"
if ! $cc -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" \
	>"$out/probe.log" 2>&1; then
	cat "$out/probe.log" >&2
	echo "fuzz: '$cc -fsanitize=fuzzer' does not link: install clang" \
		"and libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
fi
rm -f "$out/probe" "$out/probe.c" "$out/probe.log"

# The library, compiled once for every target.
echo "fuzz: compiling the sources with $cc"
objs=
for f in "$@"; do
	case $f in
	*.c) ;;
	*) continue ;;
	esac
	o=$out/obj/$(basename "$f" .c).o
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer-no-link $cppflags -c "$src/$f" -o "$o" ||
		exit 1
	objs="$objs $o"
done
for t in $targets; do
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer $cppflags "$src/tests/fuzz/fuzz_$t.c" \
		$objs $libs -o "$out/fuzz_$t" || exit 1
done

# One target: its scratch corpus first (libFuzzer adds new inputs to the
# first directory only), then the checked-in seeds and reproducers.
run_one() {
	t=$1
	mkdir -p "$out/corpus-$t" "$out/tmp-$t"
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$t-"
	if [ -f "$src/tests/fuzz/dict/$t.dict" ]; then
		set -- "$@" -dict="$src/tests/fuzz/dict/$t.dict"
	fi
	TMPDIR=$out/tmp-$t "$out/fuzz_$t" "$@" "$out/corpus-$t" \
		"$src/tests/fuzz/corpus/$t" "$src/tests/fuzz/regress/$t" \
		>"$out/$t.log" 2>&1
	echo $? >"$out/$t.rc"
	rm -rf "$out/tmp-$t"
}

echo "fuzz: running $targets for ${secs}s each, $jobs at a time"
running=0
pids=
for t in $targets; do
	rm -f "$out/$t.rc"
	run_one "$t" &
	pids="$pids $!"
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

failed=0
for t in $targets; do
	rc=$(cat "$out/$t.rc" 2>/dev/null || echo '?')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$out/$t.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -n 1)
	corp=$(ls "$out/corpus-$t" | wc -l)
	if [ "$rc" = 0 ]; then
		echo "ok - fuzz_$t: ${execs:-?} runs, ${cov:-cov: ?}, corpus $corp"
	else
		failed=$((failed + 1))
		echo "not ok - fuzz_$t: exit $rc; see $out/$t.log"
		grep -E 'ERROR|invariant|SUMMARY|Test unit written' \
			"$out/$t.log" | head -n 8 | sed 's/^/#   /'
	fi
done
ls "$out" | grep -E -- '-(crash|leak|timeout|oom|slow-unit)-' |
	sed "s|^|# kept: $out/|"
[ "$failed" -eq 0 ]

#!/bin/bash
#
# contrib/quickstart.sh - install what sherve needs, build it, and either
# serve the demo site behind lighttpd or run the whole test suite.
#
#   ./contrib/quickstart.sh serve   # demo on http://127.0.0.1:8080/
#   ./contrib/quickstart.sh test    # make check, then a summary
#
# Debian/Ubuntu only for the package step (apt-get); see --help.

set -euo pipefail

PROG=${0##*/}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

BUILD_PKGS=(build-essential autoconf automake pkg-config
	libcurl4-openssl-dev liblmdb-dev libcunit1-dev lighttpd curl python3
	ca-certificates)
TEST_PKGS=(apache2 libapache2-mod-fcgid libapache2-mod-xsendfile nginx
	libnginx-mod-http-brotli-static lighttpd-modules-lua clang libclang-rt-14-dev valgrind spawn-fcgi
	libfcgi-bin prometheus systemd util-linux wrk strace)

# wrap INDENT TEXT: TEXT folded at blanks to end before column 79, each
# line indented by INDENT blanks (the help stays within 80 columns).
wrap() {
	printf '%s\n' "$2" | fold -s -w $((78 - $1)) | sed 's/ *$//' |
		sed "s/^/$(printf '%*s' "$1" '')/"
}

usage() {
	cat <<EOF
Usage: $PROG COMMAND

Install the Debian packages sherve needs (apt-get, as root or through
sudo; only when something is missing), bootstrap and build the tree, then:

  serve   run the demo site (etc/demo/www) and short links
          (etc/demo/redirects.txt) behind lighttpd on 127.0.0.1:\$PORT,
          until Ctrl-C; lighttpd spawns sherve from
          contrib/lighttpd/sherve.conf
  test    also install the test-only packages
$(wrap 10 "(${TEST_PKGS[*]}),")
          run \`make check\` and print the unit and integration results,
          ending with a line "N passed, N failed, N skipped";
          the exit status is make check's

Environment:
  PORT=N          serve: port to listen on (default 8080)
  MAX_PROCS=N     serve: sherve processes lighttpd runs (default 2)
  SKIP_INSTALL=1  do not look for or install packages
  SHERVE_*        passed on to sherve (e.g. SHERVE_LOG_LEVEL=debug)

Packages:
$(wrap 2 "${BUILD_PKGS[*]}")
EOF
}

say() {
	printf '==> %s\n' "$*"
}

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- packages

SUDO=()
POLICY_CREATED=
# invoke-rc.d asks this script whether a service may start (overridable
# only to test this script).
POLICY_RC_D=${POLICY_RC_D:-/usr/sbin/policy-rc.d}

remove_policy() {
	if [ -n "$POLICY_CREATED" ]; then
		"${SUDO[@]}" rm -f "$POLICY_RC_D" || true
		POLICY_CREATED=
	fi
}

# Warn when something listens on port 80: the install must not start the
# packaged lighttpd, apache2 or nginx services.
check_port_80() {
	local f
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		# local_address is HEX_IP:0050, state 0A is LISTEN.
		if awk 'NR > 1 && $2 ~ /:0050$/ && $4 == "0A" { found = 1 }
			END { exit !found }' "$f"; then
			printf '%s: warning: something listens on port 80 (a packaged web server service?)\n' \
				"$PROG" >&2
			return
		fi
	done
}

install_packages() {
	local missing=() p
	if [ "${SKIP_INSTALL:-0}" = 1 ]; then
		say "SKIP_INSTALL=1: not checking packages"
		return 0
	fi
	if ! command -v dpkg-query >/dev/null 2>&1; then
		say "not a Debian system: make sure these are installed: $*"
		return 0
	fi
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		say "packages: all ${#} present"
		return 0
	fi
	say "packages to install: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 &&
			{ sudo -n true 2>/dev/null || [ -t 0 ]; }; then
			SUDO=(sudo)
		else
			printf '%s: not root and no usable sudo; as root, run:\n' "$PROG" >&2
			printf '  apt-get update && apt-get install -y --no-install-recommends %s\n' \
				"${missing[*]}" >&2
			exit 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Installing lighttpd, apache2 or nginx would start their services on
	# port 80 through invoke-rc.d: a policy-rc.d answering 101 forbids it.
	# Only remove one we created.
	if [ ! -e "$POLICY_RC_D" ]; then
		# shellcheck disable=SC2016
		"${SUDO[@]}" sh -c 'printf "#!/bin/sh\n# quickstart.sh: no service starts during the install\nexit 101\n" >"$1" && chmod 755 "$1"' sh "$POLICY_RC_D"
		POLICY_CREATED=1
	fi
	trap remove_policy EXIT
	say "apt-get update && apt-get install (services kept from starting by $POLICY_RC_D)"
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}"
	remove_policy
	trap - EXIT
	check_port_80
}

# ---------------------------------------------------------------- build

build() {
	local jobs
	jobs=$(nproc 2>/dev/null || echo 2)
	cd "$REPO"
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		say "autoreconf -fi"
		autoreconf -fi
	fi
	if [ ! -f Makefile ]; then
		say "./configure --enable-werror"
		./configure --enable-werror
	fi
	say "make -j$jobs"
	make -j"$jobs"
}

lighttpd_path() {
	local p
	for p in "$(command -v lighttpd 2>/dev/null || true)" /usr/sbin/lighttpd \
		/usr/local/sbin/lighttpd; do
		if [ -n "$p" ] && [ -x "$p" ]; then
			printf '%s' "$p"
			return 0
		fi
	done
	return 1
}

# render TEMPLATE OUT NAME=VALUE...: contrib/render, after refusing
# quotes, which would end a lighttpd string early.
render() {
	local p
	for p in "${@:3}"; do
		case ${p#*=} in
		*'"'*) die "render: ${p%%=*}: quotes are not allowed" ;;
		esac
	done
	"$REPO/contrib/render" "$@" || die "render: cannot render $1"
}

# ---------------------------------------------------------------- serve

RUN=
LPID=
KIDS=()

# Stop lighttpd (it stops its sherve processes), then any of those left.
stop_serve() {
	local k _
	if [ -n "$LPID" ]; then
		kill -TERM "$LPID" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$LPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$LPID" 2>/dev/null || true
		wait "$LPID" 2>/dev/null || true
		LPID=
	fi
	for k in "${KIDS[@]}"; do
		# Only if it still is the sherve we saw (PIDs get reused).
		if [ "$(readlink "/proc/$k/exe" 2>/dev/null || true)" = "$REPO/src/sherve" ]; then
			kill -TERM "$k" 2>/dev/null || true
		fi
	done
	if [ -n "$RUN" ]; then
		rm -rf "$RUN"
		RUN=
	fi
}

# shellcheck disable=SC2317 # called by trap
on_signal() {
	printf '\n'
	say "stopping"
	stop_serve
	exit 0
}

serve() {
	local port=${PORT:-8080} procs=${MAX_PROCS:-2} lighttpd code kids f _
	case $port in '' | *[!0-9]*) die "PORT must be a number" ;; esac
	case $procs in '' | *[!0-9]* | 0) die "MAX_PROCS must be a number >= 1" ;; esac
	case $REPO in *[[:space:]]* | *'"'*)
		die "the repository path must not contain blanks or quotes (lighttpd's bin-path)" ;;
	esac
	lighttpd=$(lighttpd_path) || die "lighttpd is not installed"
	[ -x "$REPO/src/sherve" ] || die "src/sherve was not built"

	RUN=$(mktemp -d "${TMPDIR:-/tmp}/sherve-quickstart.XXXXXX")
	trap on_signal INT TERM HUP
	trap stop_serve EXIT
	mkdir -p "$RUN/htdocs" "$RUN/state"
	# sherve's settings in a file of the demo's own, which the lighttpd
	# config names (SHERVE_CONFIG) and the admin commands read.
	render "$REPO/contrib/sherve.conf" "$RUN/sherve.conf" \
		WEBROOT="$REPO/etc/demo/www" \
		REDIRECTS_URL="file://$REPO/etc/demo/redirects.txt" \
		STATE_DIR="$RUN/state" BASE_PATH=/ SENDFILE_MODE=none
	render "$REPO/contrib/lighttpd/sherve.conf" "$RUN/lighttpd.conf" \
		PORT="$port" SHERVE_BIN="$REPO/src/sherve" CONFIG="$RUN/sherve.conf" \
		RUNDIR="$RUN" MAX_PROCS="$procs" BASE_PATH=/
	"$lighttpd" -tt -f "$RUN/lighttpd.conf" || die "lighttpd rejects $RUN/lighttpd.conf"

	say "starting lighttpd on 127.0.0.1:$port (config $RUN/lighttpd.conf)"
	"$lighttpd" -D -f "$RUN/lighttpd.conf" </dev/null &
	LPID=$!
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
			"http://127.0.0.1:$port/" 2>/dev/null || true)
		case $code in '' | 000) ;; *) break ;; esac
		if ! kill -0 "$LPID" 2>/dev/null; then
			wait "$LPID" 2>/dev/null || true
			LPID=
			for f in error.log sherve.log; do
				[ -s "$RUN/$f" ] && sed "s|^|$f: |" "$RUN/$f" >&2
			done
			die "lighttpd exited (port $port in use? try PORT=18080)"
		fi
		sleep 0.1
	done
	case $code in '' | 000) die "lighttpd does not answer on port $port" ;; esac
	kids=$(cat /proc/"$LPID"/task/*/children 2>/dev/null || true)
	read -r -a KIDS <<<"$kids" || true

	local b=http://127.0.0.1:$port
	cat <<EOF

sherve is answering on $b/ (lighttpd pid $LPID, sherve pids ${KIDS[*]:-?})

Try:
  curl -i $b/                      # index.html from etc/demo/www
  curl -i $b/css/site.css          # an asset: ETag, Last-Modified, Cache-Control
  curl -i $b/gh                    # a short link: 301 + Location
  curl -i $b/no-such-page          # 404 with the demo's 404.html
  curl -i -H 'Range: bytes=0-15' $b/css/site.css

ETag and 304 Not Modified:
  etag=\$(curl -sI $b/css/site.css | awk 'tolower(\$1) == "etag:" { print \$2 }' | tr -d '\r')
  curl -i -H "If-None-Match: \$etag" $b/css/site.css

Logs: $RUN/sherve.log (sherve, JSON lines), $RUN/error.log, $RUN/access.log
Settings: $RUN/sherve.conf
Admin: $REPO/src/sherve --config $RUN/sherve.conf status (or list)

Press Ctrl-C to stop.
EOF
	set +e
	wait "$LPID"
	code=$?
	set -e
	LPID=
	say "lighttpd exited with status $code"
	stop_serve
	exit 1
}

# ---------------------------------------------------------------- test

# Per-test counts from the automake logs, then one total line.
summarize() {
	local trs log name res counts p f s total_p=0 total_f=0 total_s=0
	local unit_logs=() int_lines=()
	while IFS= read -r trs; do
		log=${trs%.trs}.log
		name=${trs%.trs}
		res=$(sed -n 's/^:test-result: *//p' "$trs" | head -n 1)
		p=0 f=0 s=0
		if [ -f "$log" ] && counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1) &&
			[ -n "$counts" ]; then
			p=${counts%% passed*}
			f=${counts#*, }
			f=${f%% failed*}
			s=$(sed -n 's/^# \([0-9][0-9]*\) skipped$/\1/p' "$log" | tail -n 1)
			s=${s:-0}
		elif [ -f "$log" ] && counts=$(awk '$1 == "tests" && NF >= 6 { print $4, $5, $6 }' "$log" | tail -n 1) &&
			[ -n "$counts" ]; then
			read -r p f s <<<"$counts"
		else
			case $res in
			PASS | XFAIL) p=1 ;;
			SKIP) s=1 ;;
			*) f=1 ;;
			esac
		fi
		# A crash after the counts still counts as a failure.
		case $res in
		FAIL | ERROR | XPASS) [ "$f" -gt 0 ] || f=1 ;;
		esac
		total_p=$((total_p + p))
		total_f=$((total_f + f))
		total_s=$((total_s + s))
		case $name in
		*/unit/*) unit_logs+=("$log") ;;
		*) int_lines+=("$(printf '%-34s %-5s %d passed, %d failed, %d skipped' \
			"${name#./}" "$res" "$p" "$f" "$s")") ;;
		esac
		case $name in
		*/integration/*)
			if [ "$res" = SKIP ] && [ -f "$log" ]; then
				int_lines+=("$(printf '%-34s       %s' '' "$(grep -m1 '^SKIP:' "$log" || true)")")
			fi
			;;
		esac
	done < <(find tests -name '*.trs' | LC_ALL=C sort)

	printf '\n== unit tests (CUnit)\n'
	if [ "${#unit_logs[@]}" -eq 0 ]; then
		printf '(none ran)\n'
	fi
	for f in "${unit_logs[@]}"; do
		printf -- '--- %s: %s\n' "${f%.log}" \
			"$(sed -n 's/^:test-result: *//p' "${f%.log}.trs" | head -n 1)"
		if grep -q 'Run Summary' "$f"; then
			sed -n '/Run Summary/,$p' "$f" |
				grep -v -e '^:test-result' -e '(exit status: [0-9]*)$' |
				sed -e '/^$/d' -e 's/^/    /'
		else
			tail -n 5 "$f" | sed 's/^/    /'
		fi
	done
	printf '\n== integration tests (checks)\n'
	if [ "${#int_lines[@]}" -eq 0 ]; then
		printf '(none ran)\n'
	fi
	for s in "${int_lines[@]}"; do
		printf '%s\n' "$s"
	done
	printf '\n%d passed, %d failed, %d skipped\n' "$total_p" "$total_f" "$total_s"
}

run_tests() {
	local jobs rc trs
	jobs=$(nproc 2>/dev/null || echo 2)
	cd "$REPO"
	# Old results of tests since removed would pollute the summary.
	while IFS= read -r trs; do
		rm -f "$trs" "${trs%.trs}.log"
	done < <(find tests -name '*.trs')
	say "make -j$jobs check"
	set +e
	make -j"$jobs" check VERBOSE=1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		say "make check failed (exit $rc); see test-suite.log and tests/*/*.log"
	fi
	# The counts line comes last, alone.
	summarize
	return "$rc"
}

# ---------------------------------------------------------------- main

case ${1:-} in
-h | --help | help)
	usage
	exit 0
	;;
serve)
	[ $# -eq 1 ] || die "serve takes no arguments (see --help)"
	install_packages "${BUILD_PKGS[@]}"
	build
	serve
	;;
test)
	[ $# -eq 1 ] || die "test takes no arguments (see --help)"
	install_packages "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
	build
	rc=0
	run_tests || rc=$?
	exit "$rc"
	;;
'')
	usage >&2
	exit 64
	;;
*)
	printf '%s: %s: unknown command\n\n' "$PROG" "$1" >&2
	usage >&2
	exit 64
	;;
esac

# syscalls.sh - system calls per request, sherve and the floor side by
# side (run --syscalls; sourced by run, uses $work, $here, $results,
# $requests, running[], port_of[], roots_of[], tracepid and run's helpers).
#
# For each started setup, each of the redirects and small loads, and each
# side (the FastCGI responder's processes, sherve or the floor, none for a
# direct setup; then the web server's, Apache's children and mod_fcgid's
# manager included), so that each side is traced alone:
#  1. warm-ups of REQUESTS/4 requests (at least 200) under strace, until
#     one starts no new process: mod_fcgid starts processes when requests
#     wait, and strace makes them wait (processes started during the
#     counted run would escape its trace: the report counts them);
#  2. `strace -c -f` attached to that side's processes while curl makes
#     exactly REQUESTS requests, 10 at a time on kept connections, cycling
#     the path list; every answer is checked as in the status pass.
# strace slows what it traces; counts of calls, not times, are reported.
# curl rather than wrk: it makes an exact number of requests and reports
# every status.
#
# Rows appended to $results:
#   SETUP sys LOAD SIDE SYSCALL CALLS ERRORS   SIDE responder or server
#   SETUP sysrun LOAD SIDE REQUESTS WRONG PROCS NEW
#   SETUP sysfail LOAD SIDE                    strace could not attach
# WRONG: answers not as expected; PROCS: processes traced; NEW: processes
# of that side that appeared during the traced requests.

# sys_curl SETUP PORT LOAD N: N requests; prints the number of wrong answers.
sys_curl() {
	local setup=$1 port=$2 n=$4 bad=0 code size loc url
	awk -v n="$n" -v base="http://127.0.0.1:$port" '
		NF { p[++m] = $0 }
		END {
			for (i = 0; i < n; i++)
				printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, p[i % m + 1]
		}' "$work/site/paths-$3.txt" >"$work/sys-curl.cfg"
	curl -s --parallel --parallel-immediate --parallel-max 10 \
		-K "$work/sys-curl.cfg" \
		-w '%{http_code} %{size_download} %{url} %{redirect_url}\n' \
		>"$work/sys-curl.out" 2>/dev/null || true
	while read -r code size url loc; do
		answer_ok "$setup" "${url#http://127.0.0.1:"$port"}" "$code" \
			"$size" "${loc:-}" || bad=$((bad + 1))
	done <"$work/sys-curl.out"
	# Requests that got no line at all are wrong too.
	bad=$((bad + n - $(wc -l <"$work/sys-curl.out")))
	echo "$bad"
}

# sys_attach OUT PID...: strace -c -f on the PIDs, once all are attached.
sys_attach() {
	local out=$1 args=() p i
	shift
	for p in "$@"; do args+=(-p "$p"); done
	strace -c -f -o "$out" "${args[@]}" 2>"$out.log" &
	tracepid=$!
	for i in $(seq 100); do
		[ "$(grep -c 'attached' "$out.log" || true)" -lt $# ] || return 0
		sleep 0.05
	done
	echo "run: strace did not attach to $* (see $out.log)" >&2
	return 1
}

sys_detach() {
	kill -INT "$tracepid" 2>/dev/null || true
	wait "$tracepid" 2>/dev/null || true
	tracepid=
}

# side_procs SETUP SIDE: the PIDs of that side of the setup.
side_procs() {
	if [ "$2" = responder ]; then
		resp_procs "${roots_of[$1]}"
	else
		server_procs "${roots_of[$1]}"
	fi
}

# sys_warm SETUP LOAD SIDE: warm-ups of REQUESTS/4 requests (at least
# 200) under strace, as long as one starts new processes (at most 4).
# mod_fcgid starts processes when requests wait, and strace makes them
# wait: an untraced warm-up would leave that to the counted run.
sys_warm() {
	local n=$((requests / 4)) i before
	[ "$n" -ge 200 ] || n=200
	for i in 1 2 3 4; do
		before=$(side_procs "$1" "$3")
		# shellcheck disable=SC2086 # one PID per word
		sys_attach "$work/strace-warm.txt" $before || { sys_detach; return 1; }
		sys_curl "$1" "${port_of[$1]}" "$2" "$n" >/dev/null
		sys_detach
		[ "$(side_procs "$1" "$3")" != "$before" ] || return 0
		echo "$1 $2 $3: warm-up $i started processes; again" >&2
	done
}

# sys_side SETUP LOAD SIDE: one traced run of REQUESTS requests.
sys_side() {
	local setup=$1 load=$2 side=$3 before= after new=0 bad p
	local out=$work/strace-$1-$2-$3.txt
	[ -n "$(side_procs "$setup" "$side")" ] || return 0 # direct: no responder
	if sys_warm "$setup" "$load" "$side"; then
		before=$(side_procs "$setup" "$side")
	fi
	# shellcheck disable=SC2086 # one PID per word
	if [ -z "$before" ] || ! sys_attach "$out" $before; then
		sys_detach
		printf '%s\tsysfail\t%s\t%s\n' "$setup" "$load" "$side" \
			>>"$results"
		return 0
	fi
	bad=$(sys_curl "$setup" "${port_of[$setup]}" "$load" "$requests")
	after=$(side_procs "$setup" "$side")
	sys_detach
	for p in $after; do
		case " ${before//$'\n'/ } " in *" $p "*) ;; *) new=$((new + 1)) ;; esac
	done
	printf '%s\tsysrun\t%s\t%s\t%s\t%s\t%s\t%s\n' "$setup" "$load" "$side" \
		"$requests" "$bad" "$(echo "$before" | wc -w)" "$new" >>"$results"
	# The summary: "% time seconds usecs/call calls [errors] syscall".
	awk -v pre="$setup	sys	$load	$side" '
		/^%/ || /^-/ || $NF == "total" { next }
		NF == 5 { printf "%s\t%s\t%s\t0\n", pre, $5, $4 }
		NF == 6 { printf "%s\t%s\t%s\t%s\n", pre, $6, $4, $5 }' \
		"$out" >>"$results"
	echo "$setup $load $side: $requests requests traced, $bad wrong," \
		"$new new processes" >&2
}

syscall_pass() {
	local setup load
	for setup in "${running[@]}"; do
		for load in redirects small; do
			sys_side "$setup" "$load" responder
			sys_side "$setup" "$load" server
		done
	done
}

# hotpath.sh - the hot-path measurements of issue 6 section 5 with a
# 100,000-alias map (sourced by run; uses $work, $here, $sherve, $repeat,
# $duration, $results, pids[], loadpid and the servers.sh functions).
#
#  a. `sherve refresh --force` of the 100k file into a fresh state dir,
#     REPEAT times (target: <= 2 s);
#  b. a redirect-only wrk load over every alias against sherve behind
#     nginx (`sherve serve`, as sherve-nginx) on that store, without and
#     with refreshes running meanwhile (alternating two 100k maps, so each
#     is a real rewrite): readers are not blocked if there are no errors and
#     the p99 with refreshes is <= 2x the p99 without;
#  c. then each pool worker's private memory, Private_Clean + Private_Dirty
#     of /proc/PID/smaps_rollup (target: <= 8 MiB);
#  d. with keep-versions 10 (the default): versions_refreshes distinct
#     100k files (map a, each with its own comment line) refreshed into
#     one state dir, so that from the 11th on each keeps its file as a
#     version and drops the oldest in the same transaction (target, as a:
#     <= 2 s each); then the store file's size.
#
# Rows appended to $results (hotpath-quiet / hotpath-refreshing are wrk
# rows like the others, load "big"):
#   hotpath refresh SECONDS|failed         a, one per repeat
#   hotpath refresh-load SECONDS|failed    b, one per refresh during a load
#   hotpath refreshes N                    b, refreshes during one load
#   hotpath status WRONG                   aliases not answering 301
#   hotpath worker PID PRIVATE_KIB RSS_KIB c, one per worker
#   hotpath master PID PRIVATE_KIB RSS_KIB
#   hotpath versions-refresh SECONDS|failed  d, each after 10 are kept
#   hotpath versions-store BYTES KEPT        d, the store file's size

big_n=100000
# Refreshes spread over each loaded run.
refreshes_per_load=5
# d: refreshes of distinct files into one state dir (10 fill it).
versions_refreshes=14

hot_refresh() { # state-dir map-file -> prints seconds, or fails
	local t0
	t0=$(date +%s.%N)
	# As the pool's user: the pool serves from this store (start_sherve_pool).
	mkdir -p "$1"
	[ "$(id -u)" != 0 ] || chown www-data: "$1"
	if as_pool_user env SHERVE_STATE_DIR="$1" SHERVE_REDIRECTS_URL="file://$2" \
		SHERVE_MAX_SHRINK=100 SHERVE_MAX_BODY=67108864 \
		SHERVE_LOG_LEVEL=warn nice -n "${hot_nice:-0}" "$sherve" \
		refresh --force \
		>"$work/hot-refresh.out" 2>&1 &&
		grep -q "stored $big_n aliases" "$work/hot-refresh.out"; then
		seconds_since "$t0"
		return 0
	fi
	sed 's/^/hotpath: refresh: /' "$work/hot-refresh.out" >&2
	return 1
}

hotpath() {
	local big=$work/big st=$work/hot-state port sock r t i bad p n gap
	local master w map=a
	python3 "$here/gen.py" big "$big" "$big_n" >&2

	# a. Into a fresh state dir each time.
	for r in $(seq "$repeat"); do
		rm -rf "$work/hot-fresh"
		t=$(hot_refresh "$work/hot-fresh" "$big/redirects-big-a.txt") || t=failed
		printf 'hotpath\trefresh\t%s\n' "$t" >>"$results"
		echo "hotpath: refresh of $big_n aliases into a fresh store: $t s" >&2
	done
	rm -rf "$work/hot-fresh"
	# d. (needs no server) 10 versions kept.
	hot_versions "$big"

	# b. The pool on a store holding map a, nginx in front.
	# One URL for the pool's store, as in production (a store refuses a
	# second redirects-url): live.txt, which holds map a or map b.
	cp "$big/redirects-big-a.txt" "$big/live.txt"
	if ! hot_refresh "$st" "$big/live.txt" >/dev/null; then
		echo "hotpath: could not fill $st; skipped" >&2
		return 0
	fi
	port=$(free_port)
	sock=$work/pool-hot.sock
	# Its redirects-url is live.txt too, so even a miss refresh (there
	# should be none: every path is an alias) fetches a big map, never the
	# bench's small one.
	if ! start_sherve_pool "$sock" SHERVE_STATE_DIR="$st" \
		SHERVE_REDIRECTS_URL="file://$big/live.txt"; then
		echo "hotpath: sherve serve did not start; skipped" >&2
		return 0
	fi
	master=${pids[-1]}
	nginx_conf "$port" "upstream sherve_hot { server unix:$sock; keepalive 8; }" \
		"" "fastcgi_pass sherve_hot; fastcgi_keep_conn on; $FCGI_BUFFERS $FCGI_PARAMS"
	wait_up "$port" || return 0
	bad=0
	for p in $(head -50 "$big/paths-big.txt"); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$port$p" || true)" = 301 ] || bad=$((bad + 1))
	done
	printf 'hotpath\tstatus\t%s\n' "$bad" >>"$results"
	echo "hotpath: status check (50 of $big_n aliases): $bad wrong" >&2

	gap=$(awk -v d="$duration" -v n="$refreshes_per_load" \
		'BEGIN { g = d / (n + 1); printf "%.2f", g < 0.1 ? 0.1 : g }')
	for r in $(seq "$repeat"); do
		BENCH_PATHS=$big/paths-big.txt wrk -t2 -c10 -d"${duration}s" \
			--latency -s "$here/paths.lua" "http://127.0.0.1:$port/" \
			>"$work/wrk.out" 2>&1 || true
		python3 "$here/table.py" parse hotpath-quiet big \
			<"$work/wrk.out" >>"$results"

		BENCH_PATHS=$big/paths-big.txt wrk -t2 -c10 -d"${duration}s" \
			--latency -s "$here/paths.lua" "http://127.0.0.1:$port/" \
			>"$work/wrk.out" 2>&1 &
		loadpid=$!
		# Bounded: at most refreshes_per_load, and only while wrk runs.
		n=0
		for i in $(seq "$refreshes_per_load"); do
			sleep "$gap"
			kill -0 "$loadpid" 2>/dev/null || break
			if [ "$map" = a ]; then map=b; else map=a; fi
			# At the priority sherve gives its own scheduled
			# refreshes (nice 19), as the timer would run it.
			cp "$big/redirects-big-$map.txt" "$big/live.tmp"
			mv "$big/live.tmp" "$big/live.txt"
			t=$(hot_nice=19 hot_refresh "$st" "$big/live.txt") || t=failed
			printf 'hotpath\trefresh-load\t%s\n' "$t" >>"$results"
			n=$((n + 1))
		done
		wait "$loadpid" || true
		loadpid=
		printf 'hotpath\trefreshes\t%s\n' "$n" >>"$results"
		python3 "$here/table.py" parse hotpath-refreshing big \
			<"$work/wrk.out" >>"$results"
		echo "hotpath: load run $r: $n refreshes during it" >&2
	done

	# c. The workers are the master's children.
	printf 'hotpath\tmaster\t%s\t%s\t%s\n' "$master" \
		"$(private_kib "$master")" "$(rss_kib "$master")" >>"$results"
	for w in $(ps -o pid= --ppid "$master" || true); do
		printf 'hotpath\tworker\t%s\t%s\t%s\n' "$w" "$(private_kib "$w")" \
			"$(rss_kib "$w")" >>"$results"
	done
}

# d. keep-versions at its default, 10: the refreshes past the tenth each
# add a version and drop the oldest in their transaction.
hot_versions() { # big-dir
	local st=$work/hot-versions f=$work/hot-versions.txt i t kept
	rm -rf "$st"
	for i in $(seq "$versions_refreshes"); do
		{ printf '# version %s\n' "$i"; cat "$1/redirects-big-a.txt"; } >"$f"
		t=$(hot_refresh "$st" "$f") || t=failed
		if [ "$i" -gt 10 ]; then
			printf 'hotpath\tversions-refresh\t%s\n' "$t" >>"$results"
			echo "hotpath: refresh $i with 10 versions kept: $t s" >&2
		fi
	done
	kept=$(SHERVE_STATE_DIR=$st "$sherve" versions 2>/dev/null | wc -l)
	printf 'hotpath\tversions-store\t%s\t%s\n' \
		"$(stat -c %s "$st/redirects.mdb")" "$kept" >>"$results"
	echo "hotpath: store with $kept versions: $(stat -c %s "$st/redirects.mdb") bytes" >&2
	rm -rf "$st" "$f"
}


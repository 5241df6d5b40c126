#!/bin/bash
#
# tests/integration/rules.sh - every rule kind of sherve.redirects(5)
# through a real lighttpd: per-line statuses, prefix rules with :splat,
# the longest prefix, the catch-all, reserved paths, host sections with
# their fallback, query forwarding (merge and drop), alias-case, relative
# targets, a Netlify "_redirects" file with its unsupported lines
# skipped, and the demo map the README's curl examples use.
#
# Renders contrib/lighttpd/sherve.conf for each instance on a free
# 127.0.0.1 port (settings through bin-environment), with the redirects
# file read from a file:// URL.
#
# Needs lighttpd, curl and python3; skips (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd curl python3
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
[ -r "$TEMPLATE" ] || hard_error "$TEMPLATE: missing"
note "lighttpd: $("$LIGHTTPD" -v 2>&1 | head -n 1)"

# ---------------------------------------------------------------- fixtures

W=$T_TMP/www
mkdir -p "$W"
printf '<p>INDEX</p>\n' >"$W/index.html"
printf 'body {}\n' >"$W/style.css"

cat >"$T_TMP/rules.txt" <<'EOF'
# Every kind of rule (sherve.redirects(5)).
gh          https://github.com/
temp        https://example.com/temp        302
see-other   https://example.com/other       303
moved       https://example.com/moved       308
docs        https://new.example/docs-home
docs/*      https://new.example/docs/:splat
docs/api/*  https://api.example/v2/:splat   307
campaign    https://example.com/landing?utm_source=short&ref=a
style.css   https://shadowed.example/
robots.txt  https://never.example/
*           https://fallback.example/:splat 302

@host Example.ORG
gh          https://github.com/example-org
docs/*      https://org.example/manual/:splat

@host *
after       https://after.example/
EOF

# A Netlify/Cloudflare file: read as such because of its name.
cat >"$T_TMP/_redirects" <<'EOF'
https://shop.example/* https://store.example/:splat 308
/old                /new                    301
/blog/*             https://news.example/:splat
/blog/special       https://special.example/
/posts/:year/:slug  https://news.example/:slug
/spa/*              /index.html             200
/gone               /x                      410
/force              https://f.example/      301!
/fr                 https://fr.example/     302  Country=fr
/plain              https://plain.example/
EOF

# ---------------------------------------------------------------- lighttpd

# start_lighttpd NAME NAME=VALUE...: render the template (values given
# win over the defaults below) and start lighttpd -D. Sets L_RUN, L_PID
# and B (the base URL). Returns 1 when it does not come up.
start_lighttpd() {
	local name=$1 port _
	shift
	L_RUN=$T_TMP/run-$name
	mkdir -p "$L_RUN/htdocs" "$T_TMP/state-$name"
	for _ in 1 2 3; do
		free_port port
		render_lighttpd "$TEMPLATE" "$L_RUN/lighttpd.conf" "$@" \
			PORT="$port" SHERVE_BIN="$SHERVE_BIN" RUNDIR="$L_RUN" \
			MAX_PROCS=1 BASE_PATH=/ WEBROOT="$W" \
			STATE_DIR="$T_TMP/state-$name" \
			REDIRECTS_URL="file://$T_TMP/rules.txt" ||
			hard_error "cannot render $TEMPLATE"
		"$LIGHTTPD" -tt -f "$L_RUN/lighttpd.conf" >"$L_RUN/syntax.log" 2>&1 ||
			hard_error "lighttpd -tt: $(cat "$L_RUN/syntax.log")"
		start_bg "$L_RUN/stderr.log" "$LIGHTTPD" -D -f "$L_RUN/lighttpd.conf"
		L_PID=$BG_PID
		log_file "$L_RUN/error.log"
		log_file "$L_RUN/sherve.log"
		B=http://127.0.0.1:$port
		if wait_http "$B/" "$L_PID" 100; then
			note "lighttpd '$name' (pid $L_PID) on $B"
			return 0
		fi
		stop_pid "$L_PID"
		grep -q 'in use' "$L_RUN/error.log" "$L_RUN/stderr.log" || break
	done
	fail "lighttpd '$name' starts and answers" "$(cat "$L_RUN/stderr.log" "$L_RUN/error.log" 2>/dev/null)"
	return 1
}

# redirect DESC PATH STATUS LOCATION [CURL OPTION...]
redirect() {
	local desc=$1 path=$2 status=$3 loc=$4
	shift 4
	http "$@" "$B$path"
	expect_status "$desc: status $status" "$status"
	expect_header "$desc: Location" Location "$loc"
}

# ---------------------------------------------------------------- main

note "instance 'rules': every rule kind, gosherve superset"
if start_lighttpd rules; then
	redirect "exact alias" /gh 301 https://github.com/
	redirect "per-line 302" /temp 302 https://example.com/temp
	redirect "per-line 303" /see-other 303 https://example.com/other
	redirect "per-line 308" /moved 308 https://example.com/moved
	redirect "exact beats its prefix" /docs 301 \
		https://new.example/docs-home
	redirect "prefix with :splat" /docs/guide/install 301 \
		https://new.example/docs/guide/install
	redirect "prefix, trailing slash" /docs/guide/ 301 \
		https://new.example/docs/guide
	redirect "longest prefix, its status" /docs/api/users 307 \
		https://api.example/v2/users
	redirect "longest prefix, empty splat" /docs/api 307 \
		https://api.example/v2/
	redirect "splat is re-encoded" '/docs/a%20b' 301 \
		'https://new.example/docs/a%20b'
	redirect "catch-all" /anything/else 302 \
		https://fallback.example/anything/else
	redirect "case matters (alias-case sensitive)" /GH 302 \
		https://fallback.example/GH
	http "$B/style.css"
	expect_status "an asset beats the alias of its name" 200
	http "$B/"
	expect_status "the root is the index, not the catch-all" 200
	for p in /robots.txt /favicon.ico /.well-known/security.txt; do
		http "$B$p"
		expect_status "reserved $p: never redirected (404)" 404
	done

	# Query forwarding (forward-query = merge, the default).
	redirect "query appended" '/gh?utm_source=mail' 301 \
		'https://github.com/?utm_source=mail'
	redirect "query merged, the request wins" \
		'/campaign?utm_source=mail&x=1' 301 \
		'https://example.com/landing?ref=a&utm_source=mail&x=1'
	redirect "splat and query" '/docs/guide?lang=de' 301 \
		'https://new.example/docs/guide?lang=de'

	# Host sections, normalised; and the fallback to the default map.
	redirect "host section" /gh 301 https://github.com/example-org \
		-H 'Host: example.org'
	redirect "host: case and port ignored" /gh 301 \
		https://github.com/example-org -H 'Host: EXAMPLE.org:8080'
	redirect "host prefix beats the default exact" /docs 301 \
		https://org.example/manual/ -H 'Host: example.org'
	redirect "host falls back to the default map" /temp 302 \
		https://example.com/temp -H 'Host: example.org'
	redirect "after '@host *' back to default" /after 301 \
		https://after.example/ -H 'Host: other.example'
	redirect "other hosts use the default map" /gh 301 \
		https://github.com/ -H 'Host: other.example'

	# The CLI reads the same store.
	check_exit "sherve list" 0 "$SHERVE_BIN" --state-dir "$T_TMP/state-rules" list
	expect_file_contains "list prints per-line statuses" "$C_OUT" \
		'temp https://example.com/temp 302'
	expect_file_contains "list prints prefixes" "$C_OUT" \
		'docs/* https://new.example/docs/:splat'
	expect_file_contains "list prints host sections" "$C_OUT" '@host example.org'
	check_exit "sherve lookup with a host" 0 "$SHERVE_BIN" \
		--state-dir "$T_TMP/state-rules" lookup docs/a example.org
	expect_eq "lookup substitutes the splat" "$(cat "$C_OUT")" \
		https://org.example/manual/a
	check_exit "sherve check exits 0 on the file" 0 "$SHERVE_BIN" \
		--state-dir "$T_TMP/state-rules" --webroot "$W" check "$T_TMP/rules.txt"
	expect_file_contains "check warns about the reserved alias" "$C_OUT" \
		"rules.txt:11: alias 'robots.txt' would shadow the reserved path"
	expect_file_contains "check warns about the catch-all" "$C_OUT" \
		"rules.txt:12: the catch-all '*' never answers robots.txt"
	expect_file_contains "check warns about the shadowed alias" "$C_OUT" \
		"alias 'style.css' is shadowed by the asset style.css"
	expect_no_5xx "no 5xx from the rules instance"
	stop_pid "$L_PID"
fi

note "instance 'netlify': a _redirects file, detected by its name"
if start_lighttpd netlify REDIRECTS_URL="file://$T_TMP/_redirects" \
	ENV_SHERVE_ALLOW_RELATIVE_TARGETS=yes; then
	redirect "_redirects: relative target" /old 301 /new
	redirect "_redirects: splat" /blog/2024/hello 301 \
		https://news.example/2024/hello
	http "$B/blog/special"
	expect_header "_redirects: first match wins, /blog/* before /blog/special" \
		Location https://news.example/special
	redirect "_redirects: host from-URL" /cart/1 308 \
		https://store.example/cart/1 -H 'Host: shop.example'
	redirect "_redirects: plain line" /plain 301 https://plain.example/
	for p in /posts/2024/x /spa/app /gone /force /fr; do
		http "$B$p"
		expect_status "_redirects: unsupported rule $p is not applied" 404
	done
	sleep 0.2
	for n in 4 5 6 7 8 9; do
		expect_file_contains "_redirects: line $n is skipped with a warning" \
			"$L_RUN/sherve.log" "_redirects: line $n skipped"
	done
	expect_no_5xx "no 5xx from the _redirects instance"
	stop_pid "$L_PID"
fi

note "instance 'options': alias-case, forward-query drop, relative targets"
cat >"$T_TMP/options.txt" <<'EOF'
GitHub  https://github.com/
Docs/*  https://docs.example/:splat
local   /index.html 302
EOF
if start_lighttpd options REDIRECTS_URL="file://$T_TMP/options.txt" \
	ENV_SHERVE_ALIAS_CASE=insensitive ENV_SHERVE_FORWARD_QUERY=drop \
	ENV_SHERVE_ALLOW_RELATIVE_TARGETS=yes; then
	redirect "alias-case insensitive" /GITHUB 301 https://github.com/
	redirect "the splat keeps the request's case" /docs/ReadMe 301 \
		https://docs.example/ReadMe
	redirect "forward-query drop" '/github?utm=1' 301 https://github.com/
	redirect "relative target" /local 302 /index.html
	stop_pid "$L_PID"
fi

note "instance 'demo': etc/demo/redirects.txt, as the README shows it"
if start_lighttpd demo REDIRECTS_URL="file://$TOP_SRCDIR/etc/demo/redirects.txt" \
	WEBROOT="$TOP_SRCDIR/etc/demo/www"; then
	redirect "demo: exact" /gh 301 https://github.com/
	redirect "demo: the exact docs alias is kept" /docs 301 \
		https://www.gnu.org/software/automake/manual/html_node/Tests.html
	redirect "demo: prefix" /man/sherve.8 301 \
		https://man.example.org/sherve/sherve.8
	redirect "demo: per-line 302" /latest 302 \
		https://github.com/example/sherve/releases/latest
	redirect "demo: query merged" '/gh?tab=repositories' 301 \
		'https://github.com/?tab=repositories'
	redirect "demo: host section" /gh 301 https://github.com/example \
		-H 'Host: example.localhost'
	redirect "demo: host falls back" /lmdb 301 http://www.lmdb.tech/doc/ \
		-H 'Host: example.localhost'
	http "$B/blog/"
	expect_status "demo: the blog asset is still served" 200
	stop_pid "$L_PID"
fi

finish

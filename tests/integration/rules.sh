#!/bin/bash
#
# tests/integration/rules.sh - every rule kind of sherve.redirects(5)
# through a real lighttpd: per-line statuses, prefix rules with :splat,
# the longest prefix, the catch-all, reserved paths, host sections with
# their fallback, query forwarding (merge and drop), alias-case, relative
# targets, "_redirects" files (a Netlify one with every syntax of
# sherve.redirects(5), tests/integration/netlify_redirects, a Cloudflare
# one, tests/integration/cloudflare_redirects, read in that dialect), gone
# and expiring links (410, expires= switching at request time), and the
# demo map the README's curl examples use.
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

# Every lighttpd here: one responder, the map rules.txt unless told.
L_DEFAULTS=(MAX_PROCS=1 REDIRECTS_URL="file://$T_TMP/rules.txt")

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
if start_lighttpd netlify REDIRECTS_URL="file://$T_TMP/_redirects"; then
	redirect "_redirects: relative target, by default" /old 301 /new
	redirect "_redirects: splat" /blog/2024/hello 301 \
		https://news.example/2024/hello
	http "$B/blog/special"
	expect_header "_redirects: first match wins, /blog/* before /blog/special" \
		Location https://news.example/special
	redirect "_redirects: host from-URL" /cart/1 308 \
		https://store.example/cart/1 -H 'Host: shop.example'
	redirect "_redirects: plain line" /plain 301 https://plain.example/
	redirect "_redirects: a placeholder" /posts/2024/x 301 \
		https://news.example/x
	redirect "_redirects: a forced rule" /force 301 https://f.example/
	http "$B/spa/app"
	expect_status "_redirects: a 200 rewrite serves the file" 200
	expect_body_contains "... the index" "INDEX"
	http "$B/gone"
	expect_status "_redirects: 410 on a line" 410
	http "$B/fr"
	expect_status "_redirects: a Country= line is not applied" 404
	sleep 0.2
	expect_file_contains "_redirects: the Country= line is skipped" \
		"$L_RUN/sherve.log" "_redirects: line 9 skipped: conditions"
	expect_no_5xx "no 5xx from the _redirects instance"
	stop_pid "$L_PID"
fi

# ---------------------------------------------------------------- _redirects

# The project's own _redirects files (tests/integration/*_redirects):
# every syntax of sherve.redirects(5), THE _REDIRECTS FORMAT, each line
# probed as the platform documents it.
NW=$T_TMP/www-netlify
mkdir -p "$NW/manual" "$NW/legacy" "$NW/app"
printf '<p>SITE-INDEX</p>\n' >"$NW/index.html"
printf '<p>TERMS-FILE</p>\n' >"$NW/terms.html"
printf '<p>MANUAL-INTRO</p>\n' >"$NW/manual/intro.html"
printf '<p>LEGACY-MISSING</p>\n' >"$NW/legacy/missing.html"
printf '<p>RETIRED-PAGE</p>\n' >"$NW/retired.html"
printf '<p>APP-INDEX</p>\n' >"$NW/app/index.html"
cp "$T_LIB_DIR/netlify_redirects" "$T_TMP/netlify_redirects"

# page DESC PATH STATUS MARKER [CURL OPTION...]: a page, not a redirect.
page() {
	local desc=$1 path=$2 status=$3 marker=$4
	shift 4
	http "$@" "$B$path"
	expect_status "$desc: status $status" "$status"
	expect_no_header "$desc: no Location" Location
	expect_body_contains "$desc: body" "$marker"
}

note "instance 'netlify-own': tests/integration/netlify_redirects"
if start_lighttpd netlify-own WEBROOT="$NW" \
	REDIRECTS_URL="file://$T_TMP/netlify_redirects"; then
	N=netlify_redirects
	redirect "$N: relative target" /home 301 /
	redirect "$N: no status is 301" /old-page 301 /pages/new-page
	redirect "$N: /press/ is also /press" /press 302 /news/press
	redirect "$N: ... and /press/" /press/ 302 /news/press
	redirect "$N: a forced rule beats the file" /terms.html 301 \
		/legal/terms
	page "$N: a file beats an unforced rule" /manual/intro.html 200 \
		MANUAL-INTRO
	redirect "$N: splat" /manual/x/y 301 /guide/x/y
	redirect "$N: the splat keeps the trailing slash" /manual/x/ 301 \
		/guide/x/
	redirect "$N: placeholders" /blog/2024/05/hello 302 \
		/posts/2024-05-hello.html
	redirect "$N: first match: the splat rule next" /blog/2024/hello 301 \
		/posts/2024/hello
	redirect "$N: '*' in the last segment" /v2/docs 301 /versions/2/docs
	redirect "$N: '*' inside a segment, a suffix after" \
		/releases/sherve-1.0.tar.gz 302 \
		https://dl.example.org/sherve/sherve-1.0.tar.gz
	redirect "$N: '*' between segments" /wiki/Install/Guide/edit 302 \
		https://git.example.org/wiki/Install/Guide/edit
	redirect "$N: a query parameter" '/store?id=42&ref=mail' 301 \
		/shop/items/42
	page "$N: the parameter missing: the next rule (the fallback)" \
		/store 200 SITE-INDEX
	redirect "$N: a query parameter to another host" '/search?q=sherve' \
		302 'https://search.example.org/?q=sherve'
	redirect "$N: a percent-encoded from path" \
		'/team/j%C3%A9r%C3%B4me' 301 /team/jerome
	page "$N: 404 with its page" /legacy/old/thing 404 LEGACY-MISSING
	page "$N: 410 with its page" /retired 410 RETIRED-PAGE
	expect_header "$N: ... not cached" Cache-Control no-store
	page "$N: 410 with no page and no 410.html" /withdrawn 410 Gone
	printf '<p>SITE-GONE</p>\n' >"$NW/410.html"
	page "$N: 410 with 410.html" /withdrawn 410 SITE-GONE
	page "$N: expires= in the past: 410" /promo 410 SITE-GONE
	redirect "$N: expires= ahead" /later 302 https://later.example.org/
	redirect "$N: a host's own forced rules" /any/path 301 \
		https://www.example.org/any/path -H 'Host: old.example.org'
	page "$N: a Country= line is skipped" /shop 200 SITE-INDEX
	page "$N: a proxy line is skipped" /api/v1 200 SITE-INDEX
	page "$N: a rewrite to a page of the site" /app/dashboard 200 \
		APP-INDEX
	page "$N: the single-page fallback" /some/client/route 200 \
		SITE-INDEX
	etag=$(header ETag)
	http "$B/index.html"
	expect_header "$N: a rewrite has the file's own ETag" ETag "$etag"
	http -H "If-None-Match: $etag" "$B/another/route"
	expect_status "$N: ... and answers its conditionals (304)" 304
	http "$B/robots.txt"
	expect_status "$N: a reserved path is no rule's (404)" 404
	sleep 0.2
	for n in 40 41; do
		expect_file_contains "$N: line $n is skipped with a warning" \
			"$L_RUN/sherve.log" "_redirects: line $n skipped"
	done
	check_exit "sherve check sums up what sherve lacks (exit 1)" 1 "$SHERVE_BIN" \
		--state-dir "$T_TMP/state-netlify-own" --webroot "$NW" check \
		"$T_TMP/netlify_redirects"
	expect_file_contains "... 2 of the lines" "$C_OUT" \
		"2 of 23 lines need features sherve does not have: 1 proxy, 1 condition"
	expect_no_5xx "no 5xx from the netlify-own instance"
	stop_pid "$L_PID"
fi

CW=$T_TMP/www-cloudflare
mkdir -p "$CW"
printf 'body {}\n' >"$CW/style.css"
printf 'FILE-B\n' >"$CW/b"
printf '<p>FILE-C</p>\n' >"$CW/c.html"
cp "$T_LIB_DIR/cloudflare_redirects" "$T_TMP/cloudflare_redirects"

note "instance 'cloudflare': redirects-dialect = cloudflare"
if start_lighttpd cloudflare WEBROOT="$CW" \
	REDIRECTS_URL="file://$T_TMP/cloudflare_redirects" \
	ENV_SHERVE_REDIRECTS_DIALECT=cloudflare; then
	C=cloudflare
	redirect "$C: a status" /home301 301 /
	redirect "$C: 302 by default" /home302 302 /
	redirect "$C: the target's query" /querystrings 301 /?query=string
	redirect "$C: ... only" '/querystrings?utm=x' 301 /?query=string
	redirect "$C: no query of the request" '/twitch?ref=a' 302 \
		https://twitch.tv
	redirect "$C: /trailing" /trailing 301 /trailing/
	http "$B/trailing/"
	expect_status "$C: no trailing-slash aliasing: /trailing/ is no rule" 404
	redirect "$C: /notrailing/" /notrailing/ 301 /nottrailing
	http "$B/notrailing"
	expect_status "$C: ... and /notrailing is none" 404
	redirect "$C: a fragment" /page/ 301 '/page2/#fragment'
	redirect "$C: a greedy splat" /blog/a/b/ 302 \
		https://blog.example.org/a/b/
	http "$B/blog"
	expect_status "$C: /blog/* needs the '/'" 404
	redirect "$C: placeholders into a query" /products/123/shoe 302 \
		'/products?code=123&name=shoe'
	redirect "$C: a placeholder" /movies/alien 302 /media/alien
	redirect "$C: rules come before files" /style.css 301 /other.css
	page "$C: a rewrite renders its file" /a 200 FILE-B
	page "$C: ... and /b its own" /b 200 FILE-C
	expect_no_5xx "no 5xx from the cloudflare instance"
	stop_pid "$L_PID"
fi

# ---------------------------------------------------------------- gone

# Gone and expiring links in the gosherve format: "alias 410" and
# expires=. The expiry is read at request time: no refresh switches it.
GW=$T_TMP/www-gone
mkdir -p "$GW"
printf '<p>INDEX</p>\n' >"$GW/index.html"
# gone_map EXPIRY: the map, with 'soon' expiring at EXPIRY.
gone_map() {
	cat <<EOG
gh      https://github.com/
gone    410
lost    404
old     https://old.example/    301 expires=2000-01-01
soon    https://soon.example/   301 expires=$1
docs/*  https://docs.example/:splat expires=2099-01-01
EOG
}
gone_map 2099-01-01 >"$T_TMP/gone.txt"

# state LABEL: the refresh bookkeeping of the gone instance.
gone_state() {
	"$SHERVE_BIN" --state-dir "$T_TMP/state-gone" status |
		grep -E '^(last attempt|last success|aliases)'
}

note "instance 'gone': 410 lines and expires="
if start_lighttpd gone WEBROOT="$GW" REDIRECTS_URL="file://$T_TMP/gone.txt"; then
	# The expiry is set once the server is up, 6 s ahead: what comes
	# between it and the first request is one import and the request
	# itself, never the start or the checks below.
	soon=$(($(date +%s) + 6))
	soon_at=$(date -u -d "@$soon" +%Y-%m-%dT%H:%M:%SZ)
	gone_map "$soon_at" >"$T_TMP/gone.txt"
	# As the user whose workers write the store, when root runs this.
	as=()
	u=$(stat -c %U "$T_TMP/state-gone")
	[ "$(id -u)" != 0 ] ||
		as=(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups --)
	rc=0
	"${as[@]}" "$SHERVE_BIN" --config /dev/null \
		--state-dir "$T_TMP/state-gone" import "$T_TMP/gone.txt" \
		>"$T_TMP/gone-import.out" 2>&1 || rc=$?
	expect_eq "the map with 'soon' expiring at $soon_at is imported" \
		"$rc $(tail -n 1 "$T_TMP/gone-import.out")" \
		"0 import:$T_TMP/gone.txt: stored 6 aliases (0 invalid lines skipped) as version 2"
	before=$(gone_state)
	t0=$(date +%s)
	redirect "an alias expiring at $soon_at: before, 301" /soon 301 \
		https://soon.example/
	if [ "$t0" -ge "$soon" ]; then
		fail "the first request came before the expiry" \
			"it started at $t0, the expiry is $soon (a slow machine)"
	fi
	http "$B/gone"
	expect_status "alias 410: 410 Gone" 410
	expect_body_contains "... a short text without 410.html" Gone
	expect_header "... not cached, as a 404" Cache-Control no-store
	printf '<p>GONE-PAGE</p>\n' >"$GW/410.html"
	http "$B/gone"
	expect_status "alias 410 with 410.html: 410" 410
	expect_body_contains "... with the page" GONE-PAGE
	http "$B/lost"
	expect_status "alias 404: 404" 404
	http "$B/old"
	expect_status "expires= in the past: 410" 410
	expect_body_contains "... the 410 page" GONE-PAGE
	redirect "expires= on a prefix rule, ahead" /docs/a 301 \
		https://docs.example/a
	while [ "$(date +%s)" -le "$soon" ]; do sleep 0.2; done
	http "$B/soon"
	expect_status "... after, 410, with no refresh" 410
	expect_eq "no refresh ran meanwhile" "$(gone_state)" "$before"
	check_exit "sherve metrics" 0 "$SHERVE_BIN" \
		--state-dir "$T_TMP/state-gone" metrics
	expect_file_contains "sherve_redirects_gone_total counts 'gone'" \
		"$C_OUT" 'sherve_redirects_gone_total{alias="gone"} 2'
	expect_file_contains "... and 'soon', once" "$C_OUT" \
		'sherve_redirects_gone_total{alias="soon"} 1'
	expect_file_contains "... whose redirect was counted too" "$C_OUT" \
		'sherve_redirects_served_total{alias="soon"} 1'
	expect_file_not_contains "... a rule only ever gone has no redirects" \
		"$C_OUT" 'sherve_redirects_served_total{alias="gone"}'
	check_exit "sherve lookup of an expired alias exits 0" 0 \
		"$SHERVE_BIN" --state-dir "$T_TMP/state-gone" lookup soon
	expect_eq "... and says it is gone" "$(cat "$C_OUT")" "410 Gone"
	in3d=$(date -u -d "@$(($(date +%s) + 3 * 86400))" +%Y-%m-%d)
	printf 'a https://a/ expires=2001-02-03\nb https://b/ expires=%s\nc https://c/ expires=2099-01-01\n' \
		"$in3d" >"$T_TMP/expiring.txt"
	check_exit "sherve check of expiring rules" 0 "$SHERVE_BIN" \
		--state-dir "$T_TMP/state-gone" check "$T_TMP/expiring.txt"
	expect_file_contains "... lists the expired one" "$C_OUT" \
		"expiring.txt:1: 'a' expired at 2001-02-03T00:00:00Z: it answers 410 Gone"
	expect_file_contains "... and the one expiring within 7 days" \
		"$C_OUT" "expiring.txt:2: 'b' expires at ${in3d}T00:00:00Z, in"
	expect_file_not_contains "... not the one expiring later" "$C_OUT" \
		"'c' expire"
	expect_no_5xx "no 5xx from the gone instance"
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

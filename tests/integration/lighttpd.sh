#!/bin/bash
#
# tests/integration/lighttpd.sh - sherve behind a real lighttpd.
#
# Renders contrib/lighttpd/sherve.conf (the template the quickstart uses)
# for several lighttpd instances on free 127.0.0.1 ports, each spawning
# sherve through mod_fastcgi's bin-path, and checks the HTTP answers:
# assets, conditionals, ranges, redirects, 404s, refused paths, a missing
# webroot, unreachable and malformed redirects URLs, a restart on a kept
# store with the upstream gone, redirect-status 308 and a base path; the
# recipe's metrics path, readable from loopback (127.0.0.1) only; the 301
# that adds a directory's slash (and directory-slash = serve). Then
# contrib/lighttpd/sherve-xsendfile.conf (sendfile-mode lighttpd, files
# sent by lighttpd's x-sendfile): sherve still decides, lighttpd sends
# the bytes, never stale after a rename or a flip of a symlinked webroot.
# Then the demo site: every relative link of its blog page resolves.
# Then contrib/lighttpd/sherve-static.conf (files first: lighttpd sends the
# files, with sherve-static.lua for Cache-Control and the .br/.gz
# siblings; sherve answers the rest). Last, the README's blocks.
#
# Needs lighttpd, curl and python3; skips (77) without them, and the
# files-first part without mod_magnet (lighttpd-modules-lua).
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh" # site_checks

need_cmd curl python3
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
XS_TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve-xsendfile.conf
ST_TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve-static.conf
ST_SCRIPT=$TOP_SRCDIR/contrib/lighttpd/sherve-static.lua
for f in "$TEMPLATE" "$XS_TEMPLATE" "$ST_TEMPLATE" "$ST_SCRIPT"; do
	[ -r "$f" ] || hard_error "$f: missing"
done
note "lighttpd: $("$LIGHTTPD" -v 2>&1 | head -n 1)"
note "sherve: $SHERVE_BIN"

# ---------------------------------------------------------------- fixtures

W=$T_TMP/www
mkdir -p "$W/blog" "$W/docs/guide" "$W/empty-dir" "$W/.git" "$T_TMP/outside"
printf '<!DOCTYPE html><title>t</title><p>INDEX-MARKER</p>\n' >"$W/index.html"
printf '<p>BLOG-INDEX</p>\n' >"$W/blog/index.html"
printf '<p>NESTED-INDEX</p>\n' >"$W/docs/guide/index.html"
printf '<p>NESTED-PAGE</p>\n' >"$W/docs/guide/page.html"
printf 'body { color: #123456; }\n' >"$W/style.css"
printf '0123456789abcdef' >"$W/data.txt"
printf '<p>CUSTOM-404</p>\n' >"$W/404.html"
printf 'CANARY-SECRET\n' >"$W/.secret"
printf '[core]\nCANARY-GIT\n' >"$W/.git/config"
printf 'CANARY-OUTSIDE\n' >"$T_TMP/outside/canary.txt"
ln -s "$T_TMP/outside/canary.txt" "$W/link.txt"
ln -s ../outside "$W/linkdir"
# A webroot without 404.html, for the plain-text 404 of sherve itself.
W2=$T_TMP/www-no404
mkdir -p "$W2"
printf '<p>W2-INDEX</p>\n' >"$W2/index.html"

printf '# test map\nfoo https://example.com/foo\nbar https://example.com/bar\n' \
	>"$T_TMP/redirects.txt"

# ---------------------------------------------------------------- main

start_upstream "$T_TMP/redirects.txt"
note "fake upstream on $UP"
# Every instance refreshes from it unless told otherwise.
L_DEFAULTS=(REDIRECTS_URL="$UP/redirects.txt")

note "instance 'main': webroot, upstream map, max-procs 2"
if start_lighttpd main; then
	MAIN_RUN=$L_RUN
	procs=$(sherve_procs "$L_PID" | wc -l)
	expect_eq "lighttpd runs max-procs (2) sherve responders" "$procs" 2
	expect_eq "startup fetched the map from the upstream once" \
		"$(upstream_count)" 1

	# Assets.
	http "$B/"
	expect_status "GET / is 200" 200
	expect_body_contains "GET / serves index.html" INDEX-MARKER
	expect_header_like "GET / is text/html" Content-Type 'text/html*'
	http "$B/docs/guide/"
	expect_status "nested directory with a slash is 200" 200
	expect_body_contains "nested directory with a slash serves its index" \
		NESTED-INDEX
	slash_checks lighttpd "$B"
	http "$B/blog/"
	expect_body_contains "GET /blog/ serves blog/index.html" BLOG-INDEX
	http "$B/docs/guide/page.html"
	expect_status "nested file is 200" 200
	expect_body_contains "nested file has its content" NESTED-PAGE
	http "$B/style.css"
	expect_status "GET /style.css is 200" 200
	expect_header_like "style.css is text/css" Content-Type 'text/css*'
	expect_body_file "style.css is sent byte for byte" "$W/style.css"
	expect_header "style.css has the Content-Length of the file" \
		Content-Length "$(wc -c <"$W/style.css" | tr -d ' ')"
	expect_header "assets get the default Cache-Control" Cache-Control \
		'public, max-age=31536000, must-revalidate'
	expect_header "assets advertise byte ranges" Accept-Ranges bytes
	ETAG=$(header ETag) || ETAG=
	LASTMOD=$(header Last-Modified) || LASTMOD=
	expect_match "style.css has a quoted ETag" "$ETAG" '*"?*"'
	expect_match "style.css has a Last-Modified date" "$LASTMOD" '???, ?? ??? ???? ??:??:?? GMT'

	# Conditionals.
	http -H "If-None-Match: $ETAG" "$B/style.css"
	expect_status "If-None-Match with the ETag is 304" 304
	expect_body_empty "the 304 has an empty body"
	expect_header "the 304 repeats the ETag" ETag "$ETAG"
	http -H 'If-None-Match: "not-the-etag"' "$B/style.css"
	expect_status "If-None-Match with another ETag is 200" 200
	http -H "If-None-Match: W/$ETAG, \"x\"" "$B/style.css"
	expect_status "If-None-Match matches a weak form in a list" 304
	http -H "If-Modified-Since: $LASTMOD" "$B/style.css"
	expect_status "If-Modified-Since: Last-Modified is 304" 304
	expect_body_empty "the If-Modified-Since 304 has an empty body"
	http -H 'If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT' "$B/style.css"
	expect_status "If-Modified-Since in 1970 is 200" 200

	# HEAD, over a raw socket so a stray body would show.
	raw_http "$L_PORT" 'HEAD /style.css HTTP/1.0\r\nHost: t\r\n\r\n'
	expect_status "HEAD /style.css is 200" 200
	expect_eq "HEAD sends no body" "$H_BODY_BYTES" 0
	expect_header "HEAD has the GET Content-Length" Content-Length \
		"$(wc -c <"$W/style.css" | tr -d ' ')"
	expect_header "HEAD has the ETag" ETag "$ETAG"
	raw_http "$L_PORT" 'HEAD /foo HTTP/1.0\r\nHost: t\r\n\r\n'
	expect_status "HEAD /foo is 301" 301
	expect_eq "HEAD of a redirect sends no body" "$H_BODY_BYTES" 0

	# Ranges.
	http -H 'Range: bytes=0-3' "$B/data.txt"
	expect_status "Range bytes=0-3 is 206" 206
	expect_header "206 has Content-Range" Content-Range 'bytes 0-3/16'
	expect_body_equals "206 sends the 4 bytes" 0123
	http -H 'Range: bytes=-4' "$B/data.txt"
	expect_body_equals "suffix range bytes=-4 sends the last 4 bytes" cdef
	http -H 'Range: bytes=100-200' "$B/data.txt"
	expect_status "unsatisfiable range is 416" 416
	expect_header "416 has Content-Range bytes */size" Content-Range 'bytes */16'
	http -H 'Range: bytes=0-3' -H 'If-Range: "stale"' "$B/data.txt"
	expect_status "Range with a stale If-Range is a full 200" 200

	# Redirects.
	http "$B/foo"
	expect_status "GET /foo is 301" 301
	expect_header "/foo Location" Location https://example.com/foo
	expect_header "/foo Access-Control-Allow-Origin" \
		Access-Control-Allow-Origin '*'
	expect_header "/foo Cache-Control" Cache-Control 'public, max-age=3600'
	expect_body_contains "/foo has a tiny HTML body with the link" \
		'https://example.com/foo'
	http "$B/foo/"
	expect_status "GET /foo/ is 301" 301
	expect_header "/foo/ Location" Location https://example.com/foo
	http "$B/bar"
	expect_header "/bar Location" Location https://example.com/bar
	http "$B/foo?utm=1"
	expect_header "the query string is forwarded (forward-query merge)" \
		Location 'https://example.com/foo?utm=1'
	http "$B/%66oo"
	expect_header "the path is percent-decoded (/%66oo)" Location \
		https://example.com/foo

	# 404s and errors.
	http "$B/nope"
	expect_status "unknown alias is 404" 404
	expect_header "404 has Cache-Control: no-store" Cache-Control no-store
	expect_body_contains "404 serves the webroot's 404.html" CUSTOM-404
	expect_header_like "404.html is text/html" Content-Type 'text/html*'
	http "$B/missing.css"
	expect_status "missing asset is 404" 404
	http -X POST -d x "$B/"
	expect_status "POST is 405" 405
	expect_header "405 has Allow: GET, HEAD" Allow 'GET, HEAD'
	http -X PUT -d x "$B/foo"
	expect_status "PUT /foo is 405" 405
	http -X DELETE "$B/style.css"
	expect_status "DELETE is 405" 405
	http "$B/%zz"
	expect_status "malformed percent-encoding /%zz is 400" 400
	http "$B/foo%"
	expect_status "truncated percent-encoding /foo% is 400" 400

	# Paths that must never leave the webroot or show hidden files.
	for p in '/../outside/canary.txt' '/%2e%2e/outside/canary.txt' \
		'/%2E%2E/outside/canary.txt' '/%2f../outside/canary.txt' \
		'/..%2foutside%2fcanary.txt' '/blog/../../outside/canary.txt' \
		'/docs/%2e%2e/%2e%2e/outside/canary.txt' '/.secret' '/%2esecret' \
		'/.git/config' '/.git/' '/%2egit/config' '/link.txt' \
		'/linkdir/canary.txt' '/linkdir/' '/style.css/' \
		'/style.css%2f' '/docs%2fguide%2fpage.html'; do
		http "$B$p"
		expect_status "refused: $p is 404" 404
		expect_body_not_contains "refused: $p leaks nothing" CANARY
	done
	for p in '/%00' '/style.css%00.txt' '/foo%0a' '/%5c..%5coutside%5ccanary.txt'; do
		http "$B$p"
		expect_status_in "refused: $p is 400 or 404" 400 404
		expect_body_not_contains "refused: $p leaks nothing" CANARY
	done

	# The recipe's metrics: loopback only (mod_access).
	metrics_acl_checks lighttpd "$B"

	# A burst of concurrent requests across both responders.
	seq 1 16 | xargs -P 8 -I{} curl -s -o /dev/null -m 10 \
		-w '%{http_code}\n' "$B/foo?n={}" >"$T_TMP/burst" 2>/dev/null
	expect_eq "16 concurrent requests all get 301" \
		"$(grep -c '^301$' "$T_TMP/burst")" 16

	# Log lines: sherve's stderr is lighttpd's server.breakagelog.
	http "$B/bar?log-probe"
	sleep 0.2
	# Prints "bad LINE" for a line that is not a JSON object with time and
	# level, then "probe yes|no" for the request line of the probe.
	python3 - "$L_RUN/sherve.log" >"$T_TMP/logcheck" 2>&1 <<'EOF'
import json, sys
probe = "no"
for l in open(sys.argv[1]):
    if not l.strip():
        continue
    try:
        o = json.loads(l)
    except ValueError:
        o = None
    if not isinstance(o, dict) or "time" not in o or "level" not in o:
        print("bad", l.strip()[:200])
        continue
    if (o.get("msg") == "request" and o.get("path") == "/bar?log-probe"
            and o.get("status") == "301" and o.get("method") == "GET"
            and o.get("location") == "https://example.com/bar?log-probe"):
        probe = "yes"
print("probe", probe)
EOF
	if [ -s "$L_RUN/sherve.log" ] && ! grep -q '^bad' "$T_TMP/logcheck"; then
		pass "every sherve log line is a JSON object"
	else
		fail "every sherve log line is a JSON object" "$(head -c 300 "$T_TMP/logcheck")"
	fi
	if grep -q '^probe yes' "$T_TMP/logcheck"; then
		pass "the request is logged as JSON (method, path, status, location)"
	else
		fail "the request is logged as JSON (method, path, status, location)" \
			"$(grep -F log-probe "$L_RUN/sherve.log" | head -n 1)"
	fi
	expect_file_not_contains "lighttpd saw no backend die" \
		"$L_RUN/error.log" 'child exited'

	# Stopping lighttpd stops its responders.
	procs=$(sherve_procs "$L_PID")
	stop_lighttpd
	gone=yes
	for c in $procs; do
		t_wait_gone "$c" 50 || gone="no: $c alive"
	done
	expect_eq "stopping lighttpd stops its sherve processes" "$gone" yes
	expect_file_contains "sherve logged its shutdown" "$MAIN_RUN/sherve.log" \
		'responder stopping'
fi

note "instance 'noroot': no webroot"
if start_lighttpd noroot WEBROOT=; then
	http "$B/nope"
	expect_status "without a webroot an unknown path is 404" 404
	expect_header_like "the plain 404 is text/plain" Content-Type 'text/plain*'
	expect_body_equals "the plain 404 body is 'Not found'" 'Not found
'
	expect_header "the plain 404 has Cache-Control: no-store" Cache-Control no-store
	http "$B/"
	expect_status "without a webroot / is 404" 404
	http "$B/foo"
	expect_status "without a webroot aliases still redirect" 301
	stop_lighttpd
fi

note "instance 'no404': a webroot without 404.html"
if start_lighttpd no404 WEBROOT="$W2"; then
	http "$B/"
	expect_body_contains "the second webroot serves its index" W2-INDEX
	http "$B/nope"
	expect_status "no 404.html: unknown path is 404" 404
	expect_body_equals "no 404.html: body is 'Not found'" 'Not found
'
	stop_lighttpd
fi

# gosherve and servy sent the stored URL whatever the query; so does
# forward-query = drop, byte for byte. They served a directory's index
# without its slash; so does directory-slash = serve.
note "instance 'drop': forward-query = drop, directory-slash = serve, the predecessors' answers"
if start_lighttpd drop ENV_SHERVE_FORWARD_QUERY=drop \
	ENV_SHERVE_DIRECTORY_SLASH=serve; then
	http "$B/foo?utm=1"
	expect_status "[drop] /foo?utm=1 is 301" 301
	expect_header "[drop] the query string is ignored" Location https://example.com/foo
	http "$B/foo/?utm=1&x=2"
	expect_header "[drop] ... with a trailing slash too" Location https://example.com/foo
	slash_serve_checks drop "$B"
	stop_lighttpd
fi

closed_port CLOSED
nbad=0
for bad in "http://127.0.0.1:$CLOSED/x" 'gopher://x' 'not a url'; do
	nbad=$((nbad + 1))
	note "instance 'bad$nbad': redirects-url '$bad'"
	if start_lighttpd "bad$nbad" REDIRECTS_URL="$bad"; then
		http "$B/foo"
		expect_status "[$bad] aliases are 404" 404
		http "$B/style.css"
		expect_status "[$bad] assets are still 200" 200
		http "$B/nope"
		expect_status "[$bad] an unknown path is 404" 404
		http "$B/"
		expect_status "[$bad] still answers after the misses" 200
		if alive "$L_PID" && [ "$(sherve_procs "$L_PID" | wc -l)" -eq 2 ]; then
			pass "[$bad] lighttpd and both responders stay up"
		else
			fail "[$bad] lighttpd and both responders stay up" \
				"$(sherve_procs "$L_PID" | wc -l) responders"
		fi
		expect_file_contains "[$bad] the failed refresh is logged" \
			"$L_RUN/sherve.log" 'refresh failed'
		expect_file_not_contains "[$bad] no responder died" \
			"$L_RUN/error.log" 'child exited'
		# A refresh that fails at once must not be retried in a loop: with
		# refresh-interval 300 nothing is due for minutes.
		n=$(grep -c 'scheduled refresh' "$L_RUN/sherve.log")
		if [ "$n" -le 2 ]; then
			pass "[$bad] no scheduled-refresh retry loop ($n log lines)"
		else
			fail "[$bad] no scheduled-refresh retry loop" \
				"$n 'scheduled refresh' lines of $(wc -l <"$L_RUN/sherve.log") in sherve.log while up: $(grep -m1 'scheduled refresh' "$L_RUN/sherve.log")"
		fi
		stop_lighttpd
	fi
done

note "instance 'kept': the upstream is gone, the store from 'main' is kept"
stop_pid "$UP_PID"
if start_lighttpd kept STATE_DIR="$T_TMP/state-main"; then
	http "$B/foo"
	expect_status "the stored map is served without the upstream" 301
	expect_header "the stored /foo Location" Location https://example.com/foo
	http "$B/nope"
	expect_status "a miss with the upstream down is 404" 404
	http "$B/bar"
	expect_status "the store survives the failed miss refresh" 301
	stop_lighttpd
fi

note "instance 's308': redirect-status 308 through bin-environment"
if start_lighttpd s308 STATE_DIR="$T_TMP/state-main" \
	ENV_SHERVE_REDIRECT_STATUS=308 \
	ENV_SHERVE_REDIRECT_CACHE_CONTROL='no-cache'; then
	http "$B/foo"
	expect_status "redirect-status 308 is used" 308
	expect_header "the 308 Location" Location https://example.com/foo
	expect_header "redirect-cache-control is used" Cache-Control no-cache
	stop_lighttpd
fi

note "instance 'base': mounted at /go"
if start_lighttpd base STATE_DIR="$T_TMP/state-main" BASE_PATH=/go; then
	http "$B/go/"
	expect_status "base path: /go/ is 200" 200
	expect_body_contains "base path: /go/ serves index.html" INDEX-MARKER
	http "$B/go/style.css"
	expect_status "base path: /go/style.css is 200" 200
	http "$B/go/foo"
	expect_status "base path: /go/foo is 301" 301
	expect_header "base path: /go/foo Location" Location https://example.com/foo
	http "$B/go/foo/"
	expect_status "base path: /go/foo/ is 301" 301
	slash_checks "lighttpd /go" "$B/go"
	http "$B/go?x=1"
	expect_status "base path: /go?x=1 (the webroot itself) is 301" 301
	expect_header "base path: ... to /go/?x=1" Location '/go/?x=1'
	http "$B/foo"
	expect_status "base path: /foo (outside the mount) is 404" 404
	http "$B/gofoo"
	expect_status "base path: /gofoo is 404" 404
	http "$B/go/../foo"
	expect_status "base path: /go/../foo is 404" 404
	metrics_acl_checks "lighttpd /go" "$B/go"
	stop_lighttpd
fi

# The X-Sendfile recipe, on a webroot that is a symbolic link (as a
# deploy that flips releases has it), on the kept store of 'main'.
note "instance 'xsendfile': contrib/lighttpd/sherve-xsendfile.conf"
ln -s "$W" "$T_TMP/www-live"
if TEMPLATE=$XS_TEMPLATE start_lighttpd xsendfile WEBROOT="$T_TMP/www-live" \
	STATE_DIR="$T_TMP/state-main" SENDFILE_MODE=lighttpd; then
	sendfile_checks lighttpd-xsendfile "$B" "$T_TMP/www-live" \
		"$T_TMP/state-main" "$L_RUN/sherve.log" gzip
	sendfile_flip_checks lighttpd-xsendfile "$B" "$T_TMP/www-live"
	slash_checks lighttpd-xsendfile "$B"
	recipe_status_checks lighttpd-xsendfile "$L_RUN/lighttpd.sherve.conf" \
		"$L_PID" "$UP/redirects.txt" "$T_TMP/state-main"
	# A documented difference (README): lighttpd evaluates If-None-Match
	# again on an X-Sendfile answer, and takes a "*" inside a list as a
	# match where sherve, streaming, answers 200.
	http -H 'If-None-Match: *, "x"' "$B/style.css"
	expect_status "[xsendfile] If-None-Match: *, \"x\" is 304 (lighttpd's reading)" 304
	# lighttpd would decode a "%" in sherve's X-Sendfile name again, so
	# sherve streams such a file itself; other escapes go to lighttpd.
	printf 'PCT-100\n' >"$W/100%.txt"
	printf 'SPACED\n' >"$W/a b.txt"
	http "$B/100%25.txt"
	expect_status "[xsendfile] /100%25.txt (a '%' in the name) is 200" 200
	expect_body_file "[xsendfile] ... with the file '100%.txt'" "$W/100%.txt"
	http "$B/a%20b.txt"
	expect_status "[xsendfile] /a%20b.txt is 200" 200
	expect_body_file "[xsendfile] ... with the file 'a b.txt'" "$W/a b.txt"
	http "$B/foo?q=100%25"
	expect_status "[xsendfile] a '%' in the query string is no matter: 301" 301
	metrics_acl_checks lighttpd-xsendfile "$B"
	expect_file_not_contains "[xsendfile] lighttpd logged no X-Sendfile error" \
		"$L_RUN/error.log" 'X-Sendfile'
	stop_lighttpd
fi

note "instance 'xsendfile-serve': the X-Sendfile recipe, directory-slash = serve"
if TEMPLATE=$XS_TEMPLATE start_lighttpd xsendfile-serve WEBROOT="$W" \
	STATE_DIR="$T_TMP/state-main" SENDFILE_MODE=lighttpd \
	ENV_SHERVE_DIRECTORY_SLASH=serve; then
	slash_serve_checks lighttpd-xsendfile "$B"
	n0=$(t_request_lines "$L_RUN/sherve.log" /docs/guide 200)
	b0=$(sherve_bytes_total "$T_TMP/state-main")
	http "$B/docs/guide"
	expect_body_file "[xsendfile-serve] /docs/guide is its index, byte for byte" \
		"$W/docs/guide/index.html"
	headers_only xsendfile-serve "$L_RUN/sherve.log" /docs/guide \
		"$T_TMP/state-main" "$n0" "$b0" 1024
	stop_lighttpd
fi

# The issue that asked for the slash: the demo blog's index links to
# "hello.html". Served at /blog, a browser resolves that to /hello.html
# (a 404); after the 301 to /blog/, to /blog/hello.html.
note "instance 'demo': etc/demo/www, its relative links"
if start_lighttpd demo WEBROOT="$TOP_SRCDIR/etc/demo/www" \
	STATE_DIR="$T_TMP/state-main"; then
	got=$(python3 - "$B" <<'PY'
import re, sys, urllib.request, urllib.parse
base = sys.argv[1]
out = []
for start in ("/blog", "/blog/"):
    r = urllib.request.urlopen(base + start, timeout=10)  # follows the 301
    page = r.read().decode()
    for link in re.findall(r'(?:href|src)="([^"#]+)"', page):
        u = urllib.parse.urljoin(r.geturl(), link)
        try:
            code = urllib.request.urlopen(u, timeout=10).status
        except urllib.error.HTTPError as e:
            code = e.code
        if code != 200:
            out.append("%s: %s -> %s %d" % (start, link, u, code))
    out.append("%s ends at %s" % (start, urllib.parse.urlparse(r.geturl()).path))
print("; ".join(out))
PY
) || got="python3 failed"
	expect_eq "[demo] every relative link of the blog resolves to a 200 from /blog and /blog/" \
		"$got" "/blog ends at /blog/; /blog/ ends at /blog/"
	http "$B/blog"
	expect_status "[demo] /blog is 301" 301
	expect_header "[demo] ... to /blog/" Location /blog/
	stop_lighttpd
fi

# x-sendfile-docroot must name the webroot: lighttpd refuses an empty
# entry, and sherve refuses sendfile-mode without a webroot.
render_lighttpd "$XS_TEMPLATE" "$T_TMP/xs-noroot.conf" PORT=1 \
	SHERVE_BIN="$SHERVE_BIN" RUNDIR="$T_TMP" MAX_PROCS=1 BASE_PATH=/ \
	WEBROOT= STATE_DIR="$T_TMP/state-main" REDIRECTS_URL="$UP/redirects.txt" \
	SENDFILE_MODE=lighttpd || hard_error "cannot render $XS_TEMPLATE"
if "$LIGHTTPD" -tt -f "$T_TMP/xs-noroot.conf" >"$T_TMP/xs-noroot.out" 2>&1; then
	fail "[xsendfile] without a webroot lighttpd -tt refuses the recipe" \
		"exit 0: $(head -c 200 "$T_TMP/xs-noroot.out")"
else
	pass "[xsendfile] without a webroot lighttpd -tt refuses the recipe"
fi
expect_file_contains "[xsendfile] ... naming x-sendfile-docroot" \
	"$T_TMP/xs-noroot.out" x-sendfile-docroot
check_exit "[xsendfile] ... and sherve refuses sendfile-mode without one" 78 \
	"$SHERVE_BIN" --config "$T_TMP/xs-noroot.sherve.conf" status

# The files-first recipe, on a webroot of its own and the kept store of
# 'main' (the map: foo, bar). lighttpd follows no symbolic link there, so
# the webroot is given by its real path.
ST_W=$T_TMP/static-www
static_site "$ST_W"
if [ ! -r /usr/lib/lighttpd/mod_magnet.so ]; then
	skip "[lighttpd-static] contrib/lighttpd/sherve-static.conf" \
		"mod_magnet is missing (apt-get install lighttpd-modules-lua)"
else
	note "instance 'static': contrib/lighttpd/sherve-static.conf"
	if TEMPLATE=$ST_TEMPLATE start_lighttpd static WEBROOT="$ST_W" \
		STATE_DIR="$T_TMP/state-main"; then
		static_checks lighttpd-static "$B" "$ST_W" "$T_TMP/state-main" 403
		expect_file_not_contains "[lighttpd-static] no Lua error" \
			"$L_RUN/error.log" 'magnet'
		stop_lighttpd
	fi
	# lighttpd checks every component of a file's path for links, the
	# webroot's own included: a symlinked webroot refuses every file.
	ln -s "$ST_W" "$T_TMP/static-live"
	if TEMPLATE=$ST_TEMPLATE start_lighttpd static-link \
		WEBROOT="$T_TMP/static-live" STATE_DIR="$T_TMP/state-main"; then
		http "$B/style.css"
		expect_status "[lighttpd-static] a symlinked webroot: files are 403" 403
		http "$B/foo"
		expect_status "[lighttpd-static] ... aliases still 301" 301
		stop_lighttpd
	fi
fi

# ---------------------------------------------------------------- README

# contrib/lighttpd/README.md's by-hand blocks, run as printed with this
# test's values in their first lines: each creates the directories,
# renders its template, adds the user lines and runs lighttpd in the
# foreground (here in the background), which drops to www-data.
README=$TOP_SRCDIR/contrib/lighttpd/README.md

# readme_lighttpd BLOCK WEBROOT: run BLOCK on a map and store of its own
# under $T_TMP/readme-BLOCK; sets RH, R_PID and B. Returns 1 (after a
# failed check) when its lighttpd does not answer.
readme_lighttpd() {
	local block=$1
	RH=$T_TMP/readme-$block
	mkdir -p "$RH"
	chmod 0755 "$RH"
	printf 'foo https://example.com/foo\nbar https://example.com/bar\n' \
		>"$RH/redirects.txt"
	free_port L_PORT
	B=http://127.0.0.1:$L_PORT
	start_bg "$T_TMP/readme-$block.out" readme_run "$README" "$block" \
		PORT="$L_PORT" SHERVE_BIN="$SHERVE_BIN" WEBROOT="$2" \
		REDIRECTS_URL="file://$RH/redirects.txt" STATE_DIR="$RH/state" \
		RUNDIR="$RH/run" CONFIG="$RH/sherve.conf"
	R_PID=$BG_PID
	log_file "$T_TMP/readme-$block.log"
	if wait_http "$B/" "$R_PID" 100; then
		return 0
	fi
	fail "[readme] the README's block $block starts lighttpd" \
		"$(cat "$T_TMP/readme-$block.log" "$RH/run/error.log" 2>/dev/null)"
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	skip "[readme] contrib/lighttpd/README.md by-hand blocks" \
		"needs root (they give directories to www-data)"
else
	chmod 0755 "$T_TMP" # www-data reaches the webroot and the run dir
	if readme_lighttpd by-hand "$W"; then
		site_checks readme "$B"
		metrics_acl_checks readme "$B"
		expect_eq "[readme] lighttpd runs sherve as www-data" \
			"$(ps -o user= -p "$(sherve_procs "$(children_of "$R_PID" | head -n 1)" 2>/dev/null | head -n 1)" 2>/dev/null | tr -d ' ')" \
			www-data
		expect_eq "[readme] the store belongs to www-data" \
			"$(stat -c %U "$RH/state/redirects.mdb" 2>&1)" www-data
		recipe_status_checks readme "$RH/sherve.conf" "$R_PID" \
			"file://$RH/redirects.txt" "$RH/state"
	fi
	stop_pid "$R_PID"
	if [ ! -r /usr/lib/lighttpd/mod_magnet.so ]; then
		skip "[readme] the by-hand-static block" "mod_magnet is missing"
	elif readme_lighttpd by-hand-static "$ST_W"; then
		static_checks readme-static "$B" "$ST_W" "$RH/state" 403
		recipe_status_checks readme-static "$RH/sherve.conf" "$R_PID" \
			"file://$RH/redirects.txt" "$RH/state"
	fi
	stop_pid "$R_PID"
fi

expect_no_5xx "no request got a 5xx"
finish

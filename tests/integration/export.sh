#!/bin/bash
#
# tests/integration/export.sh - `sherve export` round trips:
#   - nginx: the exported map include and the five documented `if`
#     lines in a real nginx must answer every path of every rule kind,
#     on every host, with the Location and status sherve (behind a real
#     lighttpd) answers;
#   - apache: `apache2 -t` accepts the exported block, and a real
#     Apache with mod_rewrite answers as sherve does;
#   - redirects: the exported _redirects file, imported again, gives
#     back the same map;
#   - `sherve lookup` answers every path on every host as the handler
#     does: rule precedence lives in one place (src/match.c) and lookup
#     normalises as a request does. The paths include percent-encoded
#     and dot-segment spellings, which sherve refuses or decodes before
#     any rule (the exports refuse them from the raw request too).
# Known, documented differences are left out of the comparison: a query
# parameter named by both the request and the target (nginx and Apache
# keep both), bytes that sherve percent-encodes in a splat, and (nginx)
# the case of an exact alias that has no twin differing only in case.
#
# Needs lighttpd, nginx, curl and python3 (Apache is optional); skips
# (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

. "$(dirname "$0")/lib.sh"

need_cmd curl python3
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null) ||
	skip_all "nginx is not installed (apt-get install nginx-light)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
note "nginx: $("$NGINX" -v 2>&1)"

# The servers' children may run as another user: let them read T_TMP.
chmod 0755 "$T_TMP"

cat >"$T_TMP/map.txt" <<'EOF'
gh          https://github.com/
temp        https://example.com/temp        302
see         https://example.com/see         303
keep        https://example.com/keep        307
perm        https://example.com/perm        308
docs        https://new.example/docs-home
docs/*      https://new.example/docs/:splat
docs/api/*  https://api.example/v2/:splat   307
campaign    https://example.com/landing?utm_source=short
frag        https://example.com/page#top
dollar      https://example.com/$price
local       /index.html
Case        https://example.com/upper
case        https://example.com/lower
deep/a/b/*  https://deep.example/:splat?x=1
*           https://fallback.example/:splat 302
@host example.org
gh          https://github.com/example-org
docs/*      https://org.example/manual/:splat 308
@host other.example
*           https://other.example.net/:splat
EOF

HOSTS=("" example.org Example.ORG:8080 other.example unknown.example)
PATHS=(/gh /gh/ /temp /see /keep /perm /docs /docs/ /docs/a/b /docs/api
	/docs/api/x/y /campaign /frag /dollar /local /deep/a/b /deep/a/b/c
	/deep/a /zzz /zzz/y/ /robots.txt /favicon.ico /.well-known/x
	'/gh?utm=1' '/campaign?x=1' '/frag?a=1' '/docs/a?b=2&c=3'
	'/deep/a/b/c?y=2' /Case /case /CASE
	/d%6fcs/a /%64ocs '/docs/./a' '/docs/%2e/a' '/x/../docs/a'
	'/a/%2e%2e/docs' '/a/%2E%2e/docs' '/docs%2Fa' '//docs//a' '/.hidden'
	'/docs/.x' '/docs/%2ex' '/g%68' '/docs/a%01b')

# answer BASE PATH HOST: "STATUS LOCATION" of one GET, the scheme and
# authority of BASE cut from a Location that a server made absolute.
answer() {
	local base=$1 path=$2 host=$3 st loc
	local -a hdr=()
	[ -n "$host" ] && hdr=(-H "Host: $host")
	st=$(curl -s -m 10 --path-as-is -o /dev/null -D "$T_TMP/ans.h" \
		-w '%{http_code}' \
		"${hdr[@]}" "$base$path" 2>/dev/null) || st=000
	loc=$(awk 'tolower($1) == "location:" { sub(/\r$/, ""); print $2 }' \
		"$T_TMP/ans.h")
	# A web server may refuse a control byte itself (lighttpd: 400)
	# where a rule-less answer is sherve's 404: either way no rule.
	[ "$st" = 400 ] && st=404
	printf '%s %s' "$st" "${loc#"$base"}"
}

# compare NAME BASE: every PATH on every HOST against sherve's answers.
compare() {
	local name=$1 base=$2 h p want got bad=0 n=0
	for h in "${HOSTS[@]}"; do
		for p in "${PATHS[@]}"; do
			n=$((n + 1))
			want=$(answer "$S" "$p" "$h")
			got=$(answer "$base" "$p" "$h")
			# A server may make a relative target absolute.
			case $want in
			*' /'*) got=$(printf '%s' "$got" | sed -E 's#^([0-9]+) https?://[^/]+/#\1 /#') ;;
			esac
			if [ "$want" != "$got" ]; then
				bad=$((bad + 1))
				fail "$name answers like sherve: ${h:-(no host)} $p" \
					"$name '$got', sherve '$want'"
			fi
		done
	done
	if [ "$bad" -eq 0 ]; then
		pass "$name answers like sherve for all $n requests"
	fi
}

# ---------------------------------------------------------------- sherve

free_port SPORT
mkdir -p "$T_TMP/sherve/htdocs" "$T_TMP/state"
render_lighttpd "$TEMPLATE" "$T_TMP/sherve/lighttpd.conf" \
	PORT="$SPORT" SHERVE_BIN="$SHERVE_BIN" RUNDIR="$T_TMP/sherve" \
	MAX_PROCS=1 BASE_PATH=/ WEBROOT= STATE_DIR="$T_TMP/state" \
	REDIRECTS_URL="file://$T_TMP/map.txt" \
	ENV_SHERVE_ALLOW_RELATIVE_TARGETS=yes ||
	hard_error "cannot render $TEMPLATE"
start_bg "$T_TMP/sherve/stderr.log" "$LIGHTTPD" -D -f "$T_TMP/sherve/lighttpd.conf"
log_file "$T_TMP/sherve/error.log"
S=http://127.0.0.1:$SPORT
wait_http "$S/gh" "$BG_PID" 100 || hard_error "lighttpd with sherve did not start"
expect_eq "sherve serves the map" "$(answer "$S" /docs/a "")" \
	"301 https://new.example/docs/a"

sherve() {
	"$SHERVE_BIN" --state-dir "$T_TMP/state" --allow-relative-targets yes "$@"
}

# ---------------------------------------------------------------- nginx

N=$T_TMP/nginx
mkdir -p "$N/logs" "$N/tmp"
check_exit "export --format nginx exits 0" 0 sherve export --format nginx \
	"$N/sherve-map.conf"
expect_file_contains "the include names the server snippet" \
	"$N/sherve-map.conf" 'if ($sherve_status = 308) { return 308 $sherve_location; }'
free_port NPORT
cat >"$N/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	include $N/sherve-map.conf;
	server {
		listen 127.0.0.1:$NPORT;
		server_name _;
		# sherve sends relative targets as they are.
		absolute_redirect off;
$(sed -n 's/^#     \(if (\$sherve_status.*\)$/\t\t\1/p' "$N/sherve-map.conf")
		location / { return 404; }
	}
}
EOF
if "$NGINX" -t -p "$N" -c "$N/nginx.conf" >"$N/t.log" 2>&1; then
	pass "nginx -t accepts the exported map"
else
	fail "nginx -t accepts the exported map" "$(cat "$N/t.log")"
fi
start_bg "$N/stderr.log" "$NGINX" -p "$N" -c "$N/nginx.conf"
log_file "$N/logs/error.log"
if wait_http "http://127.0.0.1:$NPORT/" "$BG_PID" 100; then
	compare nginx "http://127.0.0.1:$NPORT"
	stop_pid "$BG_PID"
else
	fail "nginx starts with the exported map" "$(cat "$N/stderr.log")"
fi

# ---------------------------------------------------------------- apache

A=$T_TMP/apache
APACHE=$(command -v apache2 || ls /usr/sbin/apache2 2>/dev/null) || APACHE=
MODS=/usr/lib/apache2/modules
if [ -z "$APACHE" ] || [ ! -r "$MODS/mod_rewrite.so" ]; then
	skip "Apache round trip" "apache2 with mod_rewrite is not installed"
else
	mkdir -p "$A/htdocs"
	check_exit "export --format without a map file exits 64" 64 \
		sherve export --format apache
	check_exit "export --format apache exits 0" 0 sherve export \
		--format apache "$A/sherve.map"
	cp "$C_OUT" "$A/rules.conf"
	chmod 0755 "$A"
	chmod 0644 "$A/sherve.map"
	free_port APORT
	user=nobody
	id "$user" >/dev/null 2>&1 || user=$(id -un)
	cat >"$A/httpd.conf" <<EOF
ServerRoot $A
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule rewrite_module $MODS/mod_rewrite.so
ServerName 127.0.0.1
Listen 127.0.0.1:$APORT
PidFile $A/httpd.pid
ErrorLog $A/error.log
DefaultRuntimeDir $A
Mutex file:$A
DocumentRoot $A/htdocs
User $user
Group $(id -gn "$user")
<VirtualHost 127.0.0.1:$APORT>
	Include $A/rules.conf
</VirtualHost>
EOF
	if "$APACHE" -t -f "$A/httpd.conf" >"$A/t.log" 2>&1; then
		pass "apache2 -t accepts the exported rules"
	else
		fail "apache2 -t accepts the exported rules" "$(cat "$A/t.log")"
	fi
	start_bg "$A/stderr.log" "$APACHE" -X -f "$A/httpd.conf"
	log_file "$A/error.log"
	if wait_http "http://127.0.0.1:$APORT/gh" "$BG_PID" 100; then
		# Apache makes a relative target absolute; answer() cuts it.
		compare apache "http://127.0.0.1:$APORT"
		stop_pid "$BG_PID"
	else
		fail "Apache starts with the exported rules" "$(cat "$A/stderr.log")"
	fi
fi

# ---------------------------------------------------------------- lookup

# lookup_answer PATH HOST: "STATUS LOCATION" as the handler's answer
# reads, from `sherve lookup` (which prints no status: only 3xx or 404).
lookup_answer() {
	local path=$1 host=$2 loc
	local -a h=()
	[ -n "$host" ] && h=("$host")
	if loc=$(sherve lookup "$path" "${h[@]}" 2>/dev/null); then
		printf '3xx %s' "$loc"
	else
		printf '404 '
	fi
}

n=0
bad=0
for h in "${HOSTS[@]}"; do
	for p in "${PATHS[@]}"; do
		n=$((n + 1))
		want=$(answer "$S" "$p" "$h")
		case $want in 30[12378]' '*) want="3xx ${want#* }" ;; esac
		got=$(lookup_answer "$p" "$h")
		if [ "$want" != "$got" ]; then
			bad=$((bad + 1))
			fail "lookup answers like a request: ${h:-(no host)} $p" \
				"lookup '$got', handler '$want'"
		fi
	done
done
if [ "$bad" -eq 0 ]; then
	pass "sherve lookup answers like the handler for all $n requests"
fi

# ---------------------------------------------------------------- redirects

R=$T_TMP/rt
mkdir -p "$R"
check_exit "export --format redirects exits 0" 0 sherve export \
	--format redirects "$R/_redirects"
expect_file_contains "host rules become https://HOST/ from-URLs" \
	"$R/_redirects" 'https://example.org/docs/* https://org.example/manual/:splat 308'
check_exit "export with no --format writes _redirects too" 0 sherve export
expect_eq "the default export is the redirects format" \
	"$(cat "$C_OUT")" "$(cat "$R/_redirects")"
check_exit "the exported _redirects imports again" 0 \
	"$SHERVE_BIN" --state-dir "$R/state" --allow-relative-targets yes \
	import "$R/_redirects"
expect_file_not_contains "no line of it is skipped" "$C_ERR" skipped
"$SHERVE_BIN" --state-dir "$R/state" list >"$R/list.after" 2>&1
sherve list >"$R/list.before" 2>&1
if cmp -s "$R/list.before" "$R/list.after"; then
	pass "the round trip through _redirects keeps the map"
else
	fail "the round trip through _redirects keeps the map" \
		"$(diff "$R/list.before" "$R/list.after" | head -c 300)"
fi
check_exit "export --format bogus exits 64" 64 sherve export --format bogus

expect_no_5xx "no 5xx anywhere"
finish

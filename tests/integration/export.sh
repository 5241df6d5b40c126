#!/bin/bash
#
# tests/integration/export.sh - one map, four readers that must agree:
# the handler (sherve behind a real lighttpd), `sherve lookup`, `sherve
# check` and `sherve export` (nginx and Apache running the export). Rule
# precedence lives in src/match.c and lookup normalises as a request
# does, so each request of each map below gets the same answer from all:
#   - nginx: the exported map include and the documented `if` lines in a
#     real nginx answer every path on every host with the status and
#     Location sherve answers;
#   - apache: `apache2 -t` accepts the exported block, and a real Apache
#     with mod_rewrite answers as sherve does;
#   - lookup: `sherve lookup` answers every request as the handler does;
#   - check: `sherve check --resolve-chains` of the map plus one probe
#     rule per request (its target the request's URL, on one of the
#     site's hostnames) collapses each probe to where following the
#     handler's redirects ends;
#   - redirects: the exported _redirects file, imported again, gives
#     back the same map.
# The requests include percent-encoded and dot-segment spellings, which
# sherve refuses or decodes before any rule (the exports refuse them
# from the raw request too). Three maps: a gosherve map (every rule kind
# of that format, host sections), a _redirects map (placeholders, '*'
# inside a segment, 404 and 410 lines, an expired rule, '!', a host rule,
# an exact rule a pattern may take, a key long enough for nginx to need
# the export's map_hash_bucket_size hint) and a Cloudflare one. Rules an
# export cannot express (a rewrite, a rule that expires later, query
# conditions) are left to sherve: the export says so in a comment and
# the server answers nothing for them (asserted: its own 404).
# Known, documented differences are left out of the comparison: a query
# parameter named by both the request and the target (nginx and Apache
# keep both), bytes that sherve percent-encodes in a splat, and (nginx)
# the case of an exact alias that has no twin differing only in case.
#
# Needs lighttpd, nginx, curl and python3 (Apache is optional); skips
# (77) without them.
# Environment (set by `make check`): SHERVE_BIN, TOP_SRCDIR, TOP_BUILDDIR.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/servers.sh
. "$(dirname "$0")/servers.sh"

need_cmd curl python3
LIGHTTPD=$(lighttpd_path) ||
	skip_all "lighttpd is not installed (apt-get install lighttpd)"
NGINX=$(nginx_path) ||
	skip_all "nginx is not installed (apt-get install nginx-light)"
[ -x "$SHERVE_BIN" ] || hard_error "$SHERVE_BIN: not built"
TEMPLATE=$TOP_SRCDIR/contrib/lighttpd/sherve.conf
APACHE=$(apache_path) || APACHE=
[ -r "$APACHE_MODDIR/mod_rewrite.so" ] || APACHE=
note "nginx: $("$NGINX" -v 2>&1)"

# The servers' children may run as another user: let them read T_TMP.
open_tmp_to_children

# The site's own names: check follows a target on one of them.
OWN_HOSTS="127.0.0.1 example.org other.example unknown.example"

# ---------------------------------------------------------------- shared

# answer BASE PATH HOST: "STATUS LOCATION" of one GET, the scheme and
# authority of BASE cut from a Location that a server made absolute.
answer() {
	local base=$1 path=$2 host=$3 loc
	local -a hdr=()
	[ -n "$host" ] && hdr=(-H "Host: $host")
	H_STATUS=$(curl -s -m 10 --path-as-is -o /dev/null -D "$T_TMP/ans.h" \
		-w '%{http_code}' \
		"${hdr[@]}" "$base$path" 2>/dev/null) || H_STATUS=000
	H_DESC_REQ="$host $path"
	t_note_5xx
	loc=$(awk 'tolower($1) == "location:" { sub(/\r$/, ""); print $2 }' \
		"$T_TMP/ans.h")
	# A web server may refuse a control byte itself (lighttpd: 400)
	# where a rule-less answer is sherve's 404: either way no rule.
	[ "$H_STATUS" = 400 ] && H_STATUS=404
	printf '%s %s' "$H_STATUS" "${loc#"$base"}"
}

# left PATH: 0 if PATH is one of LEFT (answered by a rule the exports
# leave to sherve: a server answers it itself, here its own 404).
left() {
	local l
	for l in "${LEFT[@]}"; do
		[ "$l" = "$1" ] && return 0
	done
	return 1
}

# compare NAME BASE: every PATH on every HOST against sherve's answers.
compare() {
	local name=$1 base=$2 h p want got bad=0 n=0
	for h in "${HOSTS[@]}"; do
		for p in "${PATHS[@]}"; do
			n=$((n + 1))
			want=$(answer "$S" "$p" "$h")
			left "$p" && want='404 '
			got=$(answer "$base" "$p" "$h")
			# A server may make a relative target absolute.
			case $want in
			*' /'*) got=$(printf '%s' "$got" | sed -E 's#^([0-9]+) https?://[^/]+/#\1 /#') ;;
			esac
			if [ "$want" != "$got" ]; then
				bad=$((bad + 1))
				fail "$MAP: $name answers like sherve: ${h:-(no host)} $p" \
					"$name '$got', sherve '$want'"
			fi
		done
	done
	if [ "$bad" -eq 0 ]; then
		pass "$MAP: $name answers like sherve for all $n requests"
	fi
}

# serve_map MAPFILE [NAME=VALUE...]: lighttpd with sherve serving
# MAPFILE, state in $W/state; sets S (its base URL) and SPID.
serve_map() {
	local map=$1
	shift
	start_lighttpd sherve "$@" RUNDIR="$W/sherve" MAX_PROCS=1 WEBROOT= \
		STATE_DIR="$W/state" REDIRECTS_URL="file://$map" ||
		hard_error "$MAP: lighttpd with sherve did not start"
	SPID=$L_PID
	S=$B
}

# sherve ARG...: the CLI on the current map's store and settings.
sherve() {
	"$SHERVE_BIN" --state-dir "$W/state" "${SHERVE_OPTS[@]}" "$@"
}

# accepts DESC DIR CMD...: CMD, a server's test of its config, passes
# (its output in DIR/t.log).
accepts() {
	local desc=$1 d=$2
	shift 2
	if "$@" >"$d/t.log" 2>&1; then
		pass "$MAP: $desc"
	else
		fail "$MAP: $desc" "$(cat "$d/t.log")"
	fi
}

# export_nginx PREFIX NAME [HINT]: print an nginx.conf (nginx_skeleton)
# whose one server, on a free port, runs PREFIX/sherve-map.conf (the
# export) with the `if` lines its header documents, and answers 404 to
# the rest; HINT, the header's map_hash lines, goes before the include.
# The server block is PREFIX/server-NAME.conf. Sets B (start_nginx's
# writer).
export_nginx() {
	local pre=$1 port
	free_port port
	B=http://127.0.0.1:$port
	{
		[ -z "${3:-}" ] || printf '%s\n' "$3"
		printf 'include %s/sherve-map.conf;\n' "$pre"
		printf 'server {\n\tlisten 127.0.0.1:%s;\n' "$port"
		sed -n 's/^#     \(if (\$sherve_status.*\)$/\t\1/p' \
			"$pre/sherve-map.conf"
		printf '\tlocation / { return 404; }\n}\n'
	} >"$pre/server-$2.conf"
	nginx_skeleton "$pre" "$pre/server-$2.conf"
}

# nginx_round: export the store as an nginx include; a real nginx with
# it (and its hint lines, if any) must answer like sherve.
nginx_round() {
	local N=$W/nginx hint
	mkdir -p "$N"
	check_exit "$MAP: export --format nginx exits 0" 0 \
		sherve export --format nginx "$N/sherve-map.conf"
	expect_file_contains "$MAP: the include names the server snippet" \
		"$N/sherve-map.conf" 'if ($sherve_status = 308) { return 308 $sherve_location; }'
	hint=$(sed -n 's/^#     \(map_hash_[a-z_]* [0-9]*;\)$/\1/p' \
		"$N/sherve-map.conf")
	if [ -n "$hint" ]; then
		# Without the hint's lines, nginx cannot build the map.
		export_nginx "$N" nohint >"$N/nohint.conf"
		if "$NGINX" -t -e "$N/error.log" -p "$N" -c "$N/nohint.conf" \
			>"$N/t.log" 2>&1; then
			fail "$MAP: nginx needs the header's map_hash lines" \
				"nginx -t passed without them"
		else
			expect_file_contains "$MAP: nginx needs the header's map_hash lines" \
				"$N/t.log" 'map_hash_bucket_size'
		fi
	fi
	export_nginx "$N" main "$hint" >"$N/nginx.conf"
	accepts "nginx -t accepts the exported map" "$N" \
		"$NGINX" -t -e "$N/error.log" -p "$N" -c "$N/nginx.conf"
	expect_file_not_contains "$MAP: nginx builds the maps with no warning" \
		"$N/t.log" 'warn'
	if start_nginx "$N" export_nginx main "$hint"; then
		compare nginx "$B"
		stop_pid "$N_PID"
	fi
}

# export_apache RUN PORT DIR: print an httpd.conf (apache_skeleton) with
# mod_rewrite whose one virtual host on PORT includes DIR/rules.conf (the
# export) and answers the rest from an empty DocumentRoot: 404.
export_apache() {
	apache_skeleton "$1" "$2" event rewrite
	cat <<EOF
DocumentRoot "$3/htdocs"
<Directory "$3/htdocs">
    Require all granted
</Directory>
<VirtualHost 127.0.0.1:$2>
	Include $3/rules.conf
</VirtualHost>
EOF
}

# apache_round: the same through `export --format apache` and a real
# Apache with mod_rewrite (skipped without them).
apache_round() {
	local A=$W/apache port
	if [ -z "$APACHE" ]; then
		skip "$MAP: Apache round trip" "apache2 with mod_rewrite is not installed"
		return
	fi
	mkdir -p "$A/htdocs"
	check_exit "$MAP: export --format apache exits 0" 0 sherve export \
		--format apache "$A/sherve.map"
	cp "$C_OUT" "$A/rules.conf"
	chmod 0755 "$A"
	chmod 0644 "$A/sherve.map"
	free_port port
	export_apache "$A" "$port" "$A" >"$A/httpd.conf"
	accepts "apache2 -t accepts the exported rules" "$A" \
		"$APACHE" -t -f "$A/httpd.conf"
	# Apache makes a relative target absolute; answer() cuts it.
	if start_apache "export-$MAP" export_apache "$A"; then
		compare apache "$B"
		stop_pid "$A_PID"
	fi
}

# lookup_answer PATH HOST [STATE]: "STATUS LOCATION" as the handler's
# answer reads, from `sherve lookup` (3xx for any redirect: it prints
# the Location alone; a 200, 404 or 410 rule prints its status first).
lookup_answer() {
	local path=$1 host=$2 out
	local -a h=()
	[ -n "$host" ] && h=("$host")
	if out=$("$SHERVE_BIN" --state-dir "${3:-$W/state}" "${SHERVE_OPTS[@]}" \
		lookup "$path" "${h[@]}" 2>/dev/null); then
		case $out in
		[0-9][0-9][0-9]' '*) printf '%s ' "${out%% *}" ;;
		*) printf '3xx %s' "$out" ;;
		esac
	else
		printf '404 '
	fi
}

# lookup_round: `sherve lookup` against the handler, every request.
lookup_round() {
	local h p want got n=0 bad=0
	for h in "${HOSTS[@]}"; do
		for p in "${PATHS[@]}"; do
			n=$((n + 1))
			want=$(answer "$S" "$p" "$h")
			case $want in
			30[12378]' '*) want="3xx ${want#* }" ;;
			[24]*) want="${want%% *} " ;; # a page has no Location
			esac
			got=$(lookup_answer "$p" "$h")
			if [ "$want" != "$got" ]; then
				bad=$((bad + 1))
				fail "$MAP: lookup answers like a request: ${h:-(no host)} $p" \
					"lookup '$got', handler '$want'"
			fi
		done
	done
	if [ "$bad" -eq 0 ]; then
		pass "$MAP: sherve lookup answers like the handler for all $n requests"
	fi
}

# own URL: 0 if URL (a Location) is on the site: a path, or a URL whose
# host is one of OWN_HOSTS.
own() {
	local h
	case $1 in
	/*) return 0 ;;
	http://* | https://*) ;;
	*) return 1 ;;
	esac
	h=${1#*://}
	h=${h%%[/?#]*}
	h=${h%:*}
	h=${h,,}
	case " $OWN_HOSTS " in
	*" $h "*) return 0 ;;
	esac
	return 1
}

# follow HOST PATH: where the handler's redirects lead from one request,
# hop by hop while they stay on the site: the last Location, or "-" if
# the first answer is no redirect.
follow() {
	local host=$1 path=$2 ans st loc rest end=- i
	for i in 1 2 3 4 5 6 7 8; do
		ans=$(answer "$S" "$path" "$host")
		st=${ans%% *}
		loc=${ans#* }
		case $st in 30[12378]) ;; *) break ;; esac
		end=$loc
		own "$loc" || break
		case $loc in
		/*) path=$loc ;;
		*)
			rest=${loc#*://}
			host=${rest%%[/?#]*}
			path=${rest#"$host"}
			[ "${path:0:1}" = / ] || path=/$path
			;;
		esac
	done
	printf '%s' "$end"
}

# check_round MAPFILE FORMAT: `sherve check --resolve-chains` of MAPFILE
# plus one probe rule per request ("probeN" whose target is the request
# on its host) must collapse each probe to where the handler's redirects
# lead, and leave alone those the handler answers with no redirect.
check_round() {
	local map=$1 format=$2 probes=$W/probe h p url want got i=0 n=0 bad=0
	local from
	: >"$probes.rules"
	for h in "${HOSTS[@]}"; do
		for p in "${PATHS[@]}"; do
			i=$((i + 1))
			url="https://${h:-127.0.0.1}$p"
			if [ "$format" = redirects ]; then
				printf '/probe%d %s 301\n' "$i" "$url"
			else
				printf 'probe%d %s 301\n' "$i" "$url"
			fi
		done
	done >>"$probes.rules"
	# The probes go first: before any @host line, before a catch-all.
	mkdir -p "$probes"
	cat "$probes.rules" "$map" >"$probes/$(basename "$map")"
	"$SHERVE_BIN" --config /dev/null "${SHERVE_OPTS[@]}" \
		--hostnames "$OWN_HOSTS" check --resolve-chains \
		"$probes/$(basename "$map")" >"$probes.out" 2>"$probes.err"
	i=0
	for h in "${HOSTS[@]}"; do
		for p in "${PATHS[@]}"; do
			i=$((i + 1))
			n=$((n + 1))
			url="https://${h:-127.0.0.1}$p"
			from=probe$i
			[ "$format" = redirects ] && from=/probe$i
			got=$(awk -v f="$from" '$1 == f { print $2; exit }' "$probes.out")
			want=$(follow "$h" "$p")
			[ "$want" = - ] && want=$url
			# A relative end is on the probe's own host.
			case $want in /*) want="https://${h:-127.0.0.1}$want" ;; esac
			case $got in /*) got="https://${h:-127.0.0.1}$got" ;; esac
			if [ "${want,,}" != "${got,,}" ]; then
				bad=$((bad + 1))
				fail "$MAP: check follows a request as the handler does: ${h:-(no host)} $p" \
					"check '$got', handler '$want'"
			fi
		done
	done
	if [ "$bad" -eq 0 ]; then
		pass "$MAP: check --resolve-chains ends where the handler's redirects do, all $n requests"
	fi
}

# redirects_round FILE: export --format redirects to FILE, import it
# into a new store, export that: the same text.
redirects_round() {
	local R=$W/rt
	mkdir -p "$R"
	check_exit "$MAP: export --format redirects exits 0" 0 sherve export \
		--format redirects "$R/_redirects"
	check_exit "$MAP: the exported _redirects imports again" 0 \
		"$SHERVE_BIN" --state-dir "$R/state" "${SHERVE_OPTS[@]}" \
		import "$R/_redirects"
	expect_file_not_contains "$MAP: no line of it is skipped" "$C_ERR" skipped
	"$SHERVE_BIN" --state-dir "$R/state" export --format redirects \
		>"$R/again" 2>&1
	# A gosherve map's export says how its splats differ: a comment.
	if cmp -s <(grep -v '^#' "$R/_redirects") <(grep -v '^#' "$R/again")
	then
		pass "$MAP: the round trip through _redirects keeps the map"
	else
		fail "$MAP: the round trip through _redirects keeps the map" \
			"$(diff "$R/_redirects" "$R/again" | head -c 300)"
	fi
}

# same_answers STATE: the store in STATE answers every request as the
# current map's does (lookup).
same_answers() {
	local state=$1 desc=$2 h p a b bad=0 n=0
	for h in "${HOSTS[@]}"; do
		for p in "${PATHS[@]}"; do
			n=$((n + 1))
			a=$(lookup_answer "$p" "$h")
			b=$(lookup_answer "$p" "$h" "$state")
			if [ "$a" != "$b" ]; then
				bad=$((bad + 1))
				fail "$MAP: $desc: ${h:-(no host)} $p" "'$b', before '$a'"
			fi
		done
	done
	[ "$bad" -eq 0 ] && pass "$MAP: $desc, all $n requests"
}

# ---------------------------------------------------------------- gosherve

MAP=gosherve
W=$T_TMP/gosherve
mkdir -p "$W"
cat >"$W/map.txt" <<'EOF'
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
to-docs     https://example.org/docs/guide
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
	'/deep/a/b/c?y=2' /Case /case /CASE /to-docs
	/d%6fcs/a /%64ocs '/docs/./a' '/docs/%2e/a' '/x/../docs/a'
	'/a/%2e%2e/docs' '/a/%2E%2e/docs' '/docs%2Fa' '//docs//a' '/.hidden'
	'/docs/.x' '/docs/%2ex' '/g%68' '/docs/a%01b')
LEFT=()
SHERVE_OPTS=(--allow-relative-targets yes)
serve_map "$W/map.txt" ENV_SHERVE_ALLOW_RELATIVE_TARGETS=yes
expect_eq "sherve serves the map" "$(answer "$S" /docs/a "")" \
	"301 https://new.example/docs/a"
nginx_round
check_exit "export --format without a map file exits 64" 64 \
	sherve export --format apache
apache_round
lookup_round
check_round "$W/map.txt" gosherve
expect_file_contains "$MAP: check names the chain it collapsed" \
	"$W/probe.err" 'a chain: to-docs -> https://example.org/docs/* -> https://org.example/manual/guide'
redirects_round
expect_file_contains "host rules become https://HOST/ from-URLs" \
	"$W/rt/_redirects" 'https://example.org/docs/* https://org.example/manual/:splat 308'
expect_file_contains "the export says where gosherve and _redirects splats differ" \
	"$W/rt/_redirects" 'trailing slash'
check_exit "export with no --format writes _redirects too" 0 sherve export
expect_eq "the default export is the redirects format" \
	"$(cat "$C_OUT")" "$(cat "$W/rt/_redirects")"
# A gosherve map's own text is `sherve list`: that round trip loses
# nothing, down to the answers.
sherve list >"$W/list.txt" 2>&1
check_exit "$MAP: the listed map imports again" 0 \
	"$SHERVE_BIN" --state-dir "$W/relisted" "${SHERVE_OPTS[@]}" \
	import "$W/list.txt"
same_answers "$W/relisted" "the listed map, imported again, answers as before"
check_exit "export --format bogus exits 64" 64 sherve export --format bogus
stop_pid "$SPID"

# ---------------------------------------------------------------- _redirects

MAP=_redirects
W=$T_TMP/redirects
mkdir -p "$W/www"
LONG=/reports/the-annual-report-of-the-society-for-the-keeping-of-very-long-paths-in-order
cat >"$W/_redirects" <<EOF
# The site's _redirects: the rules an export can write, and three it
# cannot (they stay with sherve).
/home                  /                                   301
/blog/:year/:slug      https://blog.example/:year/:slug
/news/*                https://news.example/:splat         302
/files/*.pdf           https://cdn.example/pdf/:splat
/old-app/*             https://app.example/:splat          301!
/gone                  410
/missing               404
/expired               https://x.example/    301  expires=2020-01-01
/later                 https://y.example/    301  expires=2099-01-01
/spa/*                 /index.html                         200
/search  q=:q          https://search.example/?q=:q
https://example.org/docs/*  https://org.example/manual/:splat  308
/docs/:page            https://docs.example/:page
/docs/special          https://special.example/
/shop/*                https://shop.example/:splat
/a/b                   https://ab.example/
/to-home               /home
$LONG  https://reports.example/annual
/*                     https://fallback.example/:splat     302
EOF
printf '<p>the app</p>\n' >"$W/www/index.html"
chmod -R a+rX "$W"
HOSTS=("" example.org)
PATHS=(/home /home/ /blog/2024/hello /blog/2024/hello/ /blog/2024
	/news /news/x/y /news/x/y/ '/news/x?a=1' /files/report.pdf
	/files/a/b.pdf /files/report.txt /old-app /old-app/x/ /gone /gone/
	/missing /expired /docs/special /docs/other /docs/a/b /shop/
	/shop/a/ /a/b /a/b/ /to-home /zzz /zzz/y/ "$LONG"
	/bl%6fg/2024/x '/news/./x' '/x/../home' '/news%2Fx' '/files/%2e.pdf'
	/robots.txt /later /spa/x '/search?q=1' /search)
LEFT=(/later /spa/x '/search?q=1' /search)
SHERVE_OPTS=(--webroot "$W/www")
serve_map "$W/_redirects" WEBROOT="$W/www"
expect_eq "$MAP: sherve serves the map" "$(answer "$S" /blog/2024/hello "")" \
	"301 https://blog.example/2024/hello"
nginx_round
expect_file_contains "$MAP: the nginx export says what it leaves to sherve" \
	"$W/nginx/sherve-map.conf" '# left to sherve (line 12): /spa/*: a rewrite'
expect_file_contains "$MAP: the nginx export hints map_hash_bucket_size" \
	"$W/nginx/sherve-map.conf" '#     map_hash_bucket_size '
apache_round
lookup_round
check_round "$W/_redirects" redirects
expect_file_contains "$MAP: check names the chain it collapsed" \
	"$W/probe.err" 'a chain: /to-home -> /home -> /'
redirects_round
expect_file_contains "$MAP: the export keeps each kind as written" \
	"$W/rt/_redirects" '/files/*.pdf https://cdn.example/pdf/:splat'
same_answers "$W/rt/state" "the exported _redirects, imported again, answers as before"
stop_pid "$SPID"

# ---------------------------------------------------------------- Cloudflare

MAP=cloudflare
W=$T_TMP/cloudflare
mkdir -p "$W"
cat >"$W/_redirects" <<'EOF'
# Cloudflare Pages: 302 unless said, exact slashes, the target's query.
/home           /                              301
/docs/          https://docs.example/          301
/blog/:slug     https://blog.example/:slug
/blog/:slug/    https://blog.example/:slug/
/news/*         https://news.example/:splat    308
/to-home        /home
/*              https://fallback.example/:splat
EOF
HOSTS=("")
PATHS=(/home /home/ /docs /docs/ /blog/a /blog/a/ /news /news/ /news/x/y/
	'/news/x?a=1' '/home?a=1' /to-home /zzz /zzz/ /bl%6fg/a '/x/../home')
LEFT=()
SHERVE_OPTS=(--redirects-dialect cloudflare)
serve_map "$W/_redirects" ENV_SHERVE_REDIRECTS_DIALECT=cloudflare
expect_eq "$MAP: sherve serves the map" "$(answer "$S" /blog/a "")" \
	"302 https://blog.example/a"
nginx_round
apache_round
lookup_round
check_round "$W/_redirects" redirects
redirects_round
same_answers "$W/rt/state" "the exported _redirects, imported again, answers as before"
stop_pid "$SPID"

expect_no_5xx "no 5xx anywhere"
finish

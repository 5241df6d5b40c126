/* export.c - the stored map as nginx, Apache or _redirects; see export.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "export.h"
#include "listing.h"
#include "match.h"
#include "redirects.h"
#include "util.h"

#define SPLAT     ":splat"
#define SPLAT_LEN (sizeof(SPLAT) - 1)
/* PCRE for a path under a prefix, trailing slashes left out of the splat. */
#define SPLAT_RE    "(?:/+(?<sherve_splat>.*?))?/*$"
#define RESERVED_RE "(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$"
/* Said by an export with rules it cannot express. */
#define LEFT_NOTE                                                              \
	"# Rules marked \"left to sherve\" answer nothing here: their "        \
	"requests\n# reach sherve as any request no rule takes does.\n"
/*
 * A raw request path sherve refuses (path.h) before any rule: a segment
 * that decodes to a dotfile or "..", an encoded '/' or '\\', a control
 * byte. The servers decode and merge these away before their rules run,
 * so the raw request is what must be looked at.
 */
#define REFUSED_RE "(/(\\.|%2[eE])[^/?]|%2[fF]|%5[cC]|%[01][0-9a-fA-F]|%7[fF])"

/* 1 if r is past its expiry at export time: it answers 410. */
static int
is_gone(const struct listing *x, const struct listing_rule *r)
{
	return r->expires != 0 && r->expires <= x->now;
}

static unsigned
status_of(const struct listing *x, const struct listing_rule *r)
{
	if (r->url[0] == '\0' || is_gone(x, r))
		return r->url[0] == '\0' && r->status == 404 ? 404 : 410;
	return r->status != 0 ? r->status : x->redirect_status;
}

/* 1 if the request's query goes on into a target (not on Cloudflare). */
static int
merges(const struct listing *x, const struct conf *c)
{
	return c->forward_query == FORWARD_MERGE &&
	       !(x->flags & MATCH_CLOUDFLARE);
}

/*
 * Why a server's rules cannot say what r means, or NULL (export them).
 * The reasons are written as comments where the rule would be.
 */
static const char *
inexpressible(const struct listing *x, const struct listing_rule *r)
{
	if (is_gone(x, r))
		return NULL; /* past its expiry: a plain 410 */
	if (r->expires != 0)
		return "it expires (expires=), which no server rule can say";
	if (r->status == 200)
		return "a rewrite to a file of the site (write it as try_files "
		       "or an internal rewrite)";
	if ((r->status == 404 || r->status == 410) && r->url[0] != '\0')
		return "its page of the site is not carried (answer the status "
		       "with error_page or ErrorDocument)";
	if (r->query[0] != '\0')
		return "query conditions (a map or RewriteRule keyed on the "
		       "path cannot see them)";
	if (r->flags & MATCH_YIELD)
		return "an earlier rule of the default section answers some of "
		       "its paths first";
	return NULL;
}

/*
 * A comment line where a rule a server cannot express stands. The rule
 * is still written, with no answer: its requests fall through to
 * whatever serves the site (sherve), rather than to a later rule.
 */
static void
not_exported(FILE *fp, const struct listing_rule *r, const char *why)
{
	fprintf(fp, "# left to sherve (line %u): ", r->line);
	listing_put_from(fp, r);
	fprintf(fp, ": %s\n", why);
}

/* 1 if some rule of x is left to sherve (see not_exported()). */
static int
any_left(const struct listing *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (!listing_unreachable(&x->v[i]) &&
		    inexpressible(x, &x->v[i]) != NULL)
			return 1;
	return 0;
}

/*
 * 1 if a server is to be told about r (a comment says why it answers
 * nothing, if so), 0 to leave it out: sherve never answers it.
 */
static int
exported(FILE *fp, const struct listing *x, const struct listing_rule *r)
{
	const char *why;

	if (listing_unreachable(r))
		return 0;
	if ((why = inexpressible(x, r)) != NULL)
		not_exported(fp, r, why);
	return 1;
}

/* ---- nginx ---- */

enum ngx_part { NGX_KEY, NGX_VALUE, NGX_SPLAT_VALUE };

/*
 * s inside "...": '"' and '\' escaped; in values '$' would start a
 * variable, and ":splat" of a prefix rule is the capture.
 */
static void
ngx_str(FILE *fp, const char *s, size_t n, enum ngx_part part)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (part != NGX_KEY && s[i] == '$')
			fputs("${sherve_dollar}", fp);
		else if (part == NGX_SPLAT_VALUE && n - i >= SPLAT_LEN &&
		         memcmp(s + i, SPLAT, SPLAT_LEN) == 0) {
			fputs("${sherve_splat}", fp);
			i += SPLAT_LEN - 1;
		} else {
			if (s[i] == '"' || s[i] == '\\')
				fputc('\\', fp);
			fputc(s[i], fp);
		}
	}
}

/* PCRE-escape s into a quoted nginx or Apache string. */
static void
re_str(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr(".^$|?*+()[]{}\\", *s) != NULL)
			fputc('\\', fp);
		else if (*s == '"')
			fputc('\\', fp);
		fputc(*s, fp);
	}
}

/*
 * The index (from 1) of placeholder name (n bytes) among the ":name"
 * segments of pattern alias, or 0; the splat ('*') counts in order too,
 * for Apache's $N.
 */
static unsigned
group_of(const char *alias, const char *name, size_t n)
{
	unsigned k = 0;
	size_t i, nl;

	for (i = 0; alias[i] != '\0'; i++) {
		if (alias[i] == '*') {
			k++;
			if (n == 5 && memcmp(name, "splat", 5) == 0)
				return k;
		}
		if (alias[i] != ':' || (i > 0 && alias[i - 1] != '/') ||
		    (nl = match_name_len(alias + i + 1,
		                         strlen(alias + i + 1))) == 0)
			continue;
		k++;
		if (nl == n && memcmp(alias + i + 1, name, n) == 0)
			return k;
		i += nl;
	}
	return 0;
}

/*
 * A pattern rule's target as a map value or a substitution: each
 * ":name" of its own placeholders and ":splat" the captured group
 * ("${sherve_p_name}" for nginx, "$N" for Apache); the rest escaped
 * for the server's string.
 */
static void
pattern_subst(FILE *fp, const struct listing_rule *r, int apache)
{
	const char *u = r->url;
	size_t nl;
	unsigned k;

	for (; *u != '\0'; u++) {
		if (*u == ':' &&
		    (nl = match_name_len(u + 1, strlen(u + 1))) > 0 &&
		    (k = group_of(r->alias, u + 1, nl)) > 0) {
			if (apache)
				fprintf(fp, "$%u", k);
			else if (nl == 5 && memcmp(u + 1, "splat", 5) == 0)
				fputs("${sherve_splat}", fp);
			else
				fprintf(fp, "${sherve_p_%.*s}", (int)nl, u + 1);
			u += nl;
			continue;
		}
		if (!apache && *u == '$')
			fputs("${sherve_dollar}", fp);
		else if (apache && strchr("$%\\\"", *u) != NULL)
			fprintf(fp, "\\%c", *u);
		else if (!apache && (*u == '"' || *u == '\\'))
			fprintf(fp, "\\%c", *u);
		else
			fputc(*u, fp);
	}
}

/*
 * The path regex of a pattern rule, after "^/": literal bytes escaped, a
 * ":name" segment one segment, '*' anything; Netlify's trailing '/' is
 * optional (a "/\*" at the end also takes the path above it), a
 * Cloudflare rule's is exact.
 */
static void
re_pattern(FILE *fp, const struct listing *x, const struct listing_rule *r,
           int apache)
{
	const char *a = r->alias;
	int cf = (x->flags & MATCH_CLOUDFLARE) != 0;
	size_t i, nl, n = strlen(a);
	char one[2] = { 0, 0 };

	for (i = 0; i < n; i++) {
		if (!cf && a[i] == '/' && i + 2 == n && a[i + 1] == '*') {
			fputs(apache ? "(?:/(.*))?$"
			             : "(?:/(?<sherve_splat>.*))?$",
			      fp);
			return;
		}
		if (a[i] == '*') {
			fputs(apache ? "(.*)" : "(?<sherve_splat>.*)", fp);
		} else if (a[i] == ':' && (i == 0 || a[i - 1] == '/') &&
		           (nl = match_name_len(a + i + 1, n - i - 1)) > 0) {
			if (apache)
				fputs("([^/]+)", fp);
			else
				fprintf(fp, "(?<sherve_p_%.*s>[^/]+)", (int)nl,
				        a + i + 1);
			i += nl;
		} else {
			one[0] = a[i];
			re_str(fp, one);
		}
	}
	if (cf)
		fputs((r->flags & MATCH_SLASH) ? "/$" : "$", fp);
	else
		fputs(n > 0 && a[n - 1] == '*' ? "$" : "/*$", fp);
}

/* The value of r's entry: "STATUS LOCATION", or "-": no answer. */
static void
ngx_value(FILE *fp, const struct listing *x, const struct listing_rule *r)
{
	if (inexpressible(x, r) != NULL) {
		fputs(" \"-\";\n", fp);
		return;
	}
	fprintf(fp, " \"%u ", status_of(x, r));
	if (status_of(x, r) >= 400)
		;
	else if (r->kind == REDIRECT_PATTERN)
		pattern_subst(fp, r, 0);
	else
		ngx_str(fp, r->url, strlen(r->url),
		        r->kind == REDIRECT_PREFIX ? NGX_SPLAT_VALUE
		                                   : NGX_VALUE);
	fputs("\";\n", fp);
}

/* 1 if an exact rule next to v[i] differs from it only in case. */
static int
case_twin(const struct listing *x, size_t i)
{
	const struct listing_rule *r = &x->v[i], *o;
	int k;

	for (k = -1; k <= 1; k += 2) {
		if ((k < 0 && i == 0) || (k > 0 && i + 1 >= x->n))
			continue;
		o = &x->v[(size_t)((long)i + k)];
		if (o->kind == REDIRECT_EXACT && r->kind == REDIRECT_EXACT &&
		    strcmp(o->host, r->host) == 0 &&
		    strcasecmp(o->alias, r->alias) == 0)
			return 1;
	}
	return 0;
}

/* A regex key for rule r: "~^HOST/" and, after it, the path. */
static void
ngx_regex(FILE *fp, const struct listing *x, const struct listing_rule *r,
          int fold)
{
	int cf = (x->flags & MATCH_CLOUDFLARE) != 0;
	int ordered = (x->flags & MATCH_ORDERED) != 0;

	fprintf(fp, "\t\"~%s^", fold ? "*" : "");
	re_str(fp, r->host);
	fputc('/', fp);
	if (r->kind == REDIRECT_PATTERN) {
		re_pattern(fp, x, r, 0);
	} else if (r->kind == REDIRECT_EXACT) {
		re_str(fp, r->alias);
		fputs(cf ? "$" : "/*$", fp);
	} else if (r->alias[0] == '\0') {
		fputs(ordered ? "(?<sherve_splat>.+)$"
		              : "(?<sherve_splat>.+?)/*$",
		      fp);
	} else {
		re_str(fp, r->alias);
		fputs(cf        ? "/(?<sherve_splat>.*)$"
		      : ordered ? "(?:/(?<sherve_splat>.*))?$"
		                : SPLAT_RE,
		      fp);
	}
	fputc('"', fp);
}

/* An exact rule as strings: "/path" and, but on Cloudflare, "/path/". */
static void
ngx_strings(FILE *fp, const struct listing *x, const struct listing_rule *r)
{
	int cf = (x->flags & MATCH_CLOUDFLARE) != 0;
	size_t n = strlen(r->alias);

	fputs("\t\"", fp);
	ngx_str(fp, r->host, strlen(r->host), NGX_KEY);
	fputc('/', fp);
	if (strcmp(r->alias, "/") != 0)
		ngx_str(fp, r->alias, n, NGX_KEY);
	fputc('"', fp);
	if (cf || strcmp(r->alias, "/") == 0)
		return;
	/* sherve trims trailing slashes; $uri keeps one. */
	ngx_value(fp, x, r);
	fputs("\t\"", fp);
	ngx_str(fp, r->host, strlen(r->host), NGX_KEY);
	fputc('/', fp);
	ngx_str(fp, r->alias, n, NGX_KEY);
	fputs("/\"", fp);
}

/* 1 if r is written as strings (ngx_strings()), not as a regex. */
static int
ngx_is_string(const struct listing *x, size_t i)
{
	const struct listing_rule *r = &x->v[i];

	return r->kind == REDIRECT_EXACT && !case_twin(x, i) &&
	       !(r->flags & MATCH_SCAN);
}

/*
 * nginx builds each map's strings into a hash whose bucket must hold the
 * longest key (map_hash_bucket_size, by default a cache line: 64 bytes
 * on x86-64) and whose size it looks for up to map_hash_max_size (2048;
 * past 10000 it tries the last 1000 sizes only). A key takes a pointer
 * and its length plus 2, pointer-aligned; a bucket ends in a pointer.
 * The hint asks for a bucket of four average keys, and room for the
 * longest, and twice as many slots as keys: nginx -t then builds the
 * maps with no warning (measured from 10 to 100000 rules). A map of a
 * few short keys needs no hint.
 */
/* The bytes nginx's hash gives a key of len bytes. */
static size_t
ngx_elt(size_t len)
{
	const size_t ptr = sizeof(void *);

	return ptr + (len + 2 + ptr - 1) / ptr * ptr;
}

static void
ngx_hash_hint(FILE *fp, const struct listing *x)
{
	size_t i, len, longest = 0, total = 0, n[2] = { 0, 0 }, most, avg;
	size_t bucket = 64, max_size = 2048, need;

	for (i = 0; i < x->n; i++) {
		const struct listing_rule *r = &x->v[i];

		if (listing_unreachable(r) || !ngx_is_string(x, i))
			continue;
		len = strlen(r->host) + 1 + strlen(r->alias) + 1;
		longest = len > longest ? len : longest;
		total += 2 * len; /* "/path" and "/path/" */
		n[r->host[0] != '\0'] += 2;
	}
	most = n[0] > n[1] ? n[0] : n[1];
	if (most == 0)
		return;
	avg = total / (n[0] + n[1]);
	need = ngx_elt(longest) + sizeof(void *);
	if (4 * ngx_elt(avg) + sizeof(void *) > need)
		need = 4 * ngx_elt(avg) + sizeof(void *);
	while (bucket < need)
		bucket *= 2;
	while (max_size < 2 * most)
		max_size *= 2;
	if (ngx_elt(longest) + sizeof(void *) <= 64 && most <= 32)
		return; /* nginx's defaults do */
	fprintf(fp,
	        "# nginx needs, in http {} before this include (keys of up to "
	        "%zu bytes,\n# %zu in a map):\n"
	        "#     map_hash_bucket_size %zu;\n"
	        "#     map_hash_max_size %zu;\n",
	        longest, most, bucket, max_size);
}

/*
 * The entries of one map: host rules keyed "HOST/path", default "/path",
 * in the listing's order. Exact rules are strings, which nginx tries
 * before any regex, but those that differ from another only in case
 * (map strings ignore case) and those an earlier pattern may take
 * (MATCH_SCAN): regexes, which nginx tries in order.
 */
static void
ngx_entries(FILE *fp, const struct listing *x, int hosts, int fold)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct listing_rule *r = &x->v[i];

		if ((r->host[0] != '\0') != hosts || !exported(fp, x, r))
			continue;
		if (ngx_is_string(x, i))
			ngx_strings(fp, x, r);
		else
			ngx_regex(fp, x, r, fold);
		ngx_value(fp, x, r);
	}
}

static void
ngx_header(FILE *fp, const struct listing *x, const struct conf *c)
{
	fprintf(fp,
	        "# nginx map include written by `sherve export --format "
	        "nginx`: %zu rules.\n"
	        "# Include it in the http {} block, then in each server {} "
	        "that answers\n"
	        "# for sherve (before any proxying):\n"
	        "#\n",
	        x->n);
	fprintf(fp, "#     if ($sherve_status = 404) { return 404; }\n"
	            "#     if ($sherve_status = 410) { return 410; }\n"
	            "#     if ($sherve_status = 301) { return 301 "
	            "$sherve_location; }\n"
	            "#     if ($sherve_status = 302) { return 302 "
	            "$sherve_location; }\n"
	            "#     if ($sherve_status = 303) { return 303 "
	            "$sherve_location; }\n"
	            "#     if ($sherve_status = 307) { return 307 "
	            "$sherve_location; }\n"
	            "#     if ($sherve_status = 308) { return 308 "
	            "$sherve_location; }\n"
	            "#\n"
	            "# With assets on disk, put them in a named location "
	            "reached by\n"
	            "# try_files $uri $uri/ @sherve; so files win, as they do "
	            "in sherve.\n"
	            "# Map strings match without regard to case. See "
	            "sherve(8), EXPORT.\n");
	if (x->flags & MATCH_FORCED)
		fputs("# Forced rules ('!'"
		      ", or Cloudflare's) answer before files: with files on\n"
		      "# disk, put the if lines in the server {} itself.\n",
		      fp);
	if (any_left(x))
		fputs(LEFT_NOTE, fp);
	ngx_hash_hint(fp, x);
	fprintf(fp, "# forward-query = %s\n\n",
	        merges(x, c) ? "merge" : "drop");
}

static void
ngx_tail(FILE *fp, const struct listing *x, const struct conf *c)
{
	fputs("map $sherve_host_rule $sherve_rule {\n"
	      "\t\"\" $sherve_default_rule;\n"
	      "\tdefault $sherve_host_rule;\n}\n\n"
	      "map \"$sherve_refused$sherve_rule\" $sherve_status {\n"
	      "\t\"~^x\" \"\";\n"
	      "\t\"~^(?<sherve_st>\\d+) \" $sherve_st;\n"
	      "\tdefault \"\";\n}\n\n"
	      "map $sherve_rule $sherve_target {\n"
	      "\t\"~^\\d+ (?<sherve_tg>.*)$\" $sherve_tg;\n"
	      "\tdefault \"\";\n}\n\n",
	      fp);
	if (!merges(x, c)) {
		fputs("map $sherve_target $sherve_location {\n"
		      "\tdefault $sherve_target;\n}\n",
		      fp);
		return;
	}
	/* The request's query goes before any #fragment of the target. */
	fputs("map $sherve_target $sherve_qsep {\n"
	      "\t\"~\\?\" \"&\";\n\tdefault \"?\";\n}\n\n"
	      "map $args $sherve_query {\n"
	      "\t\"\" \"\";\n\tdefault \"$sherve_qsep$args\";\n}\n\n"
	      "map $sherve_target $sherve_location {\n"
	      "\t\"~^(?<sherve_b>[^#]*)(?<sherve_f>#.*)?$\" "
	      "\"$sherve_b$sherve_query$sherve_f\";\n"
	      "\tdefault \"\";\n}\n",
	      fp);
}

static void
export_nginx(FILE *fp, const struct listing *x, const struct conf *c)
{
	ngx_header(fp, x, c);
	/* geo values are not scripts: the one way to say a literal '$'. */
	fputs("geo $sherve_dollar {\n\tdefault \"$\";\n}\n\n", fp);
	fputs("map $request_uri $sherve_refused {\n\tdefault \"\";\n"
	      "\t\"~^[^?]*" REFUSED_RE "\" x;\n}\n\n",
	      fp);
	fputs("map \"$host$uri\" $sherve_host_rule {\n\tdefault \"\";\n"
	      "\t\"~*^[^/]*/" RESERVED_RE "\" \"\";\n",
	      fp);
	ngx_entries(fp, x, 1, c->alias_fold);
	fputs("}\n\nmap $uri $sherve_default_rule {\n\tdefault \"\";\n"
	      "\t\"~*^/" RESERVED_RE "\" \"\";\n",
	      fp);
	ngx_entries(fp, x, 0, c->alias_fold);
	fputs("}\n\n", fp);
	ngx_tail(fp, x, c);
}

/* ---- Apache ---- */

/* A substitution: '$', '%', '\' and '"' escaped, ":splat" as $1. */
static void
ap_subst(FILE *fp, const char *s, size_t n, int prefix)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (prefix && n - i >= SPLAT_LEN &&
		    memcmp(s + i, SPLAT, SPLAT_LEN) == 0) {
			fputs("$1", fp);
			i += SPLAT_LEN - 1;
			continue;
		}
		if (s[i] == '$' || s[i] == '%' || s[i] == '\\' || s[i] == '"')
			fputc('\\', fp);
		fputc(s[i], fp);
	}
}

static const char *
ap_query(const struct listing *x, const struct conf *c)
{
	return merges(x, c) ? "QSA" : "QSD";
}

/* A request for one host section: Host lower-cased, port dropped. */
static void
ap_host_cond(FILE *fp, const char *host)
{
	fputs("RewriteCond \"${sherve_lc:%{HTTP_HOST}}\" \"^", fp);
	re_str(fp, host);
	fputs("\\.?(:[0-9]+)?$\"\n", fp);
}

static void
ap_pattern(FILE *fp, const struct listing *x, const struct listing_rule *r)
{
	int cf = (x->flags & MATCH_CLOUDFLARE) != 0;
	int ordered = (x->flags & MATCH_ORDERED) != 0;

	fputs("RewriteRule \"^/", fp);
	if (r->kind == REDIRECT_PATTERN) {
		re_pattern(fp, x, r, 1);
	} else if (r->kind == REDIRECT_EXACT) {
		if (strcmp(r->alias, "/") != 0)
			re_str(fp, r->alias);
		fputs(cf || strcmp(r->alias, "/") == 0 ? "$" : "/*$", fp);
	} else if (r->alias[0] == '\0') {
		fputs(ordered ? "(.+)$" : "(.+?)/*$", fp);
	} else {
		re_str(fp, r->alias);
		fputs(cf        ? "/(.*)$"
		      : ordered ? "(?:/(.*))?$"
		                : "(?:/+(.*?))?/*$",
		      fp);
	}
	fputc('"', fp);
}

/*
 * The RewriteRule of one rule. mod_rewrite would append the request's
 * query after a target's #fragment, so such a target gets a rule that
 * splices it in before, for requests that have one.
 */
static void
ap_rule(FILE *fp, const struct listing *x, const struct conf *c,
        const struct listing_rule *r)
{
	const char *hash = strchr(r->url, '#');
	const char *nc = c->alias_fold ? ",NC" : "";
	int prefix = r->kind == REDIRECT_PREFIX;
	unsigned st = status_of(x, r);
	size_t base;

	if (inexpressible(x, r) != NULL || st >= 400) {
		if (r->host[0] != '\0')
			ap_host_cond(fp, r->host);
		ap_pattern(fp, x, r);
		fprintf(fp, " - [%sL%s]\n",
		        inexpressible(x, r) != NULL ? ""
		        : st == 410                 ? "G,"
		                                    : "R=404,",
		        nc);
		return;
	}
	if (r->kind == REDIRECT_PATTERN) {
		if (r->host[0] != '\0')
			ap_host_cond(fp, r->host);
		ap_pattern(fp, x, r);
		fputs(" \"", fp);
		pattern_subst(fp, r, 1);
		fprintf(fp, "\" [R=%u,NE,L,%s%s]\n", st, ap_query(x, c), nc);
		return;
	}
	if (hash != NULL && merges(x, c)) {
		base = (size_t)(hash - r->url);
		if (r->host[0] != '\0')
			ap_host_cond(fp, r->host);
		fputs("RewriteCond \"%{QUERY_STRING}\" \"^(.+)$\"\n", fp);
		ap_pattern(fp, x, r);
		fputs(" \"", fp);
		ap_subst(fp, r->url, base, prefix);
		fputs(memchr(r->url, '?', base) != NULL ? "&%1" : "?%1", fp);
		ap_subst(fp, hash, strlen(hash), prefix);
		fprintf(fp, "\" [R=%u,NE,L,QSD%s]\n", status_of(x, r), nc);
	}
	if (r->host[0] != '\0')
		ap_host_cond(fp, r->host);
	ap_pattern(fp, x, r);
	fputs(" \"", fp);
	ap_subst(fp, r->url, strlen(r->url), prefix);
	fprintf(fp, "\" [R=%u,NE,L,%s%s]\n", st, ap_query(x, c), nc);
}

/*
 * Exact redirects are looked up in the map, which comes before every
 * RewriteRule: but for #fragment targets, Cloudflare's exact slashes,
 * aliases with a blank (a map line splits there) and those an earlier
 * pattern may take (MATCH_SCAN).
 */
static int
in_map(const struct listing *x, const struct listing_rule *r)
{
	return r->kind == REDIRECT_EXACT && !listing_unreachable(r) &&
	       inexpressible(x, r) == NULL && status_of(x, r) < 400 &&
	       strchr(r->url, '#') == NULL && !(r->flags & MATCH_SCAN) &&
	       strpbrk(r->alias, " \t") == NULL &&
	       !(x->flags & MATCH_CLOUDFLARE) && strcmp(r->alias, "/") != 0;
}

/*
 * The map lookups of a section, one rule per status (mod_rewrite takes
 * no variable status). The map's value is trusted, so its '?' may start
 * a query (UnsafeAllow3F, Apache 2.4.60 and later).
 */
static void
ap_lookups(FILE *fp, const struct listing *x, const struct conf *c, int hosts)
{
	static const unsigned codes[] = { 301, 302, 303, 307, 308 };
	const char *path = c->alias_fold ? "${sherve_lc:$1}" : "$1";
	size_t i, k;

	for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
		for (i = 0; i < x->n; i++)
			if (in_map(x, &x->v[i]) &&
			    (x->v[i].host[0] != '\0') == hosts &&
			    status_of(x, &x->v[i]) == codes[k])
				break;
		if (i == x->n)
			continue;
		if (hosts)
			fputs("RewriteCond \"${sherve_lc:%{HTTP_HOST}}\" "
			      "\"^(\\[[^]]*\\]|[^:]*?)\\.?(:[0-9]+)?$\"\n",
			      fp);
		fprintf(fp, "RewriteCond \"${sherve:%s%s|-}\" \"^%u,(.*)$\"\n",
		        hosts ? "%1" : "", path, codes[k]);
		fprintf(fp,
		        "RewriteRule \"^(/.*?)/*$\" \"%%1\" "
		        "[R=%u,NE,L,%s,UnsafeAllow3F]\n",
		        codes[k], ap_query(x, c));
	}
}

/*
 * A section's rules after its map lookups, in the listing's order: for
 * a gosherve map sherve's (exact, then longest prefix), for a
 * "_redirects" map the file's (first match wins, as in mod_rewrite).
 */
static void
ap_section(FILE *fp, const struct listing *x, const struct conf *c, int hosts)
{
	size_t i;

	ap_lookups(fp, x, c, hosts);
	for (i = 0; i < x->n; i++) {
		const struct listing_rule *r = &x->v[i];

		if ((r->host[0] != '\0') == hosts && !in_map(x, r) &&
		    exported(fp, x, r))
			ap_rule(fp, x, c, r);
	}
}

static void
ap_map(FILE *map, const struct listing *x)
{
	size_t i;

	fputs("# RewriteMap txt file written by `sherve export --format "
	      "apache`.\n",
	      map);
	for (i = 0; i < x->n; i++) {
		const struct listing_rule *r = &x->v[i];

		if (in_map(x, r))
			fprintf(map, "%s/%s %u,%s\n", r->host, r->alias,
			        status_of(x, r), r->url);
	}
}

static void
export_apache(FILE *fp, FILE *map, const char *map_path,
              const struct listing *x, const struct conf *c)
{
	ap_map(map, x);
	fprintf(fp,
	        "# mod_rewrite rules written by `sherve export --format "
	        "apache`: %zu rules.\n"
	        "# For the server config or a <VirtualHost> (RewriteMap is "
	        "not allowed in\n"
	        "# .htaccess); the exact rules are in the map file. Apache "
	        "before 2.4.60:\n"
	        "# remove \",UnsafeAllow3F\". See sherve(8), EXPORT.\n"
	        "RewriteEngine On\n"
	        "RewriteMap sherve \"txt:%s\"\n"
	        "RewriteMap sherve_lc \"int:tolower\"\n"
	        "# Reserved paths are the site's own; sherve refuses some.\n"
	        "RewriteRule \"^/" RESERVED_RE "\" - [NC,L]\n",
	        x->n, map_path);
	fputs("RewriteCond \"%{THE_REQUEST}\" \"^\\S+\\s[^?\\s]*" REFUSED_RE
	      "\"\nRewriteRule ^ - [L]\n",
	      fp);
	fputs("# The host sections, then the default one: the map lookups, "
	      "then the rules.\n",
	      fp);
	ap_section(fp, x, c, 1);
	ap_section(fp, x, c, 0);
}

int
export_format_parse(const char *name, enum export_format *f)
{
	static const char *const names[] = { "nginx", "apache", "redirects" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*f = (enum export_format)i;
			return 0;
		}
	}
	return -1;
}

int
export_write(struct store *s, const struct conf *c, enum export_format f,
             FILE *out, FILE *map, const char *map_path)
{
	struct listing x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.redirect_status = c->redirect_status;
	x.now = (uint64_t)time(NULL);
	if ((rc = listing_collect(s, &x)) != 0)
		goto out;
	listing_sort(&x);
	if (f == EXPORT_NGINX)
		export_nginx(out, &x, c);
	else if (f == EXPORT_APACHE)
		export_apache(out, map, map_path, &x, c);
	else
		(void)listing_write(out, &x, LISTING_REDIRECTS);
	rc = ferror(out) || (map != NULL && ferror(map)) ? SH_EIO : SH_OK;
out:
	listing_free(&x);
	return rc;
}

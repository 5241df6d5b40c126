/* export.c - the stored map as nginx, Apache or _redirects; see export.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "match.h"
#include "redirects.h"
#include "util.h"

#define SPLAT     ":splat"
#define SPLAT_LEN (sizeof(SPLAT) - 1)
/* PCRE for a path under a prefix, trailing slashes left out of the splat. */
#define SPLAT_RE    "(?:/+(?<sherve_splat>.*?))?/*$"
#define RESERVED_RE "(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$"
/*
 * A raw request path sherve refuses (path.h) before any rule: a segment
 * that decodes to a dotfile or "..", an encoded '/' or '\\', a control
 * byte. The servers decode and merge these away before their rules run,
 * so the raw request is what must be looked at.
 */
#define REFUSED_RE "(/(\\.|%2[eE])[^/?]|%2[fF]|%5[cC]|%[01][0-9a-fA-F]|%7[fF])"

/* One rule, copied out of the store, NUL-terminated. */
struct xrule {
	char *host;  /* "" for the default section */
	char *alias; /* the key: a prefix without "/" "*" */
	char *url;
	unsigned kind, status;
};

struct xmap {
	struct xrule *v;
	size_t n, cap;
	unsigned status; /* redirect-status, for rules without their own */
};

static int
collect(void *ctx, const struct store_rule *r)
{
	struct xmap *x = ctx;
	struct xrule *e;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct xrule *v = reallocarray(x->v, cap, sizeof(*v));

		if (v == NULL)
			return SH_ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	e = &x->v[x->n];
	e->host = strndup(r->host, r->hlen);
	e->alias = strndup(r->alias, r->alen);
	e->url = strndup(r->url, r->ulen);
	e->kind = r->kind;
	e->status = r->status;
	if (e->host == NULL || e->alias == NULL || e->url == NULL) {
		free(e->host);
		free(e->alias);
		free(e->url);
		return SH_ENOMEM;
	}
	x->n++;
	return 0;
}

static void
xmap_free(struct xmap *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		free(x->v[i].host);
		free(x->v[i].alias);
		free(x->v[i].url);
	}
	free(x->v);
}

/* match_order() for qsort: first-match servers see sherve's order. */
static int
precedence(const void *pa, const void *pb)
{
	const struct xrule *a = pa, *b = pb;

	return match_order(a->host, a->kind, a->alias, b->host, b->kind,
	                   b->alias);
}

static unsigned
status_of(const struct xmap *x, const struct xrule *r)
{
	return r->status != 0 ? r->status : x->status;
}

/* A rule sherve never answers with (reserved, or a path it refuses). */
static int
unreachable(const struct xrule *r)
{
	return strchr(r->alias, '\\') != NULL ||
	       match_reserved(r->alias, strlen(r->alias));
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

static void
ngx_value(FILE *fp, const struct xmap *x, const struct xrule *r)
{
	fprintf(fp, " \"%u ", status_of(x, r));
	ngx_str(fp, r->url, strlen(r->url),
	        r->kind == REDIRECT_PREFIX ? NGX_SPLAT_VALUE : NGX_VALUE);
	fputs("\";\n", fp);
}

/* 1 if an exact rule next to v[i] differs from it only in case. */
static int
case_twin(const struct xmap *x, size_t i)
{
	const struct xrule *r = &x->v[i], *o;
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

/*
 * The entries of one map: host rules keyed "HOST/path", default "/path".
 * Exact rules are strings, but those that differ from another only in
 * case: map strings ignore case, so they are case-sensitive regexes.
 */
static void
ngx_entries(FILE *fp, const struct xmap *x, int hosts, int fold)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct xrule *r = &x->v[i];

		if ((r->host[0] != '\0') != hosts || unreachable(r))
			continue;
		if (r->kind == REDIRECT_EXACT && case_twin(x, i)) {
			fputs("\t\"~^", fp);
			re_str(fp, r->host);
			fputc('/', fp);
			re_str(fp, r->alias);
			fputs("/*$\"", fp);
		} else if (r->kind == REDIRECT_EXACT) {
			/* sherve trims trailing slashes; $uri keeps one. */
			fputs("\t\"", fp);
			ngx_str(fp, r->host, strlen(r->host), NGX_KEY);
			fputc('/', fp);
			ngx_str(fp, r->alias, strlen(r->alias), NGX_KEY);
			fputc('"', fp);
			ngx_value(fp, x, r);
			fputs("\t\"", fp);
			ngx_str(fp, r->host, strlen(r->host), NGX_KEY);
			fputc('/', fp);
			ngx_str(fp, r->alias, strlen(r->alias), NGX_KEY);
			fputs("/\"", fp);
		} else {
			fprintf(fp, "\t\"~%s^", fold ? "*" : "");
			re_str(fp, r->host);
			if (r->alias[0] != '\0') {
				fputc('/', fp);
				re_str(fp, r->alias);
				fputs(SPLAT_RE "\"", fp);
			} else {
				fputs("/(?<sherve_splat>.+?)/*$\"", fp);
			}
		}
		ngx_value(fp, x, r);
	}
}

static void
ngx_header(FILE *fp, const struct xmap *x, const struct conf *c)
{
	fprintf(fp,
	        "# nginx map include written by `sherve export --format "
	        "nginx`: %zu rules.\n"
	        "# Include it in the http {} block, then in each server {} "
	        "that answers\n"
	        "# for sherve (before any proxying):\n"
	        "#\n",
	        x->n);
	fprintf(fp, "#     if ($sherve_status = 301) { return 301 "
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
	fprintf(fp, "# forward-query = %s\n\n",
	        c->forward_query == FORWARD_MERGE ? "merge" : "drop");
}

static void
ngx_tail(FILE *fp, const struct conf *c)
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
	if (c->forward_query == FORWARD_DROP) {
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
export_nginx(FILE *fp, const struct xmap *x, const struct conf *c)
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
	ngx_tail(fp, c);
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
ap_query(const struct conf *c)
{
	return c->forward_query == FORWARD_MERGE ? "QSA" : "QSD";
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
ap_pattern(FILE *fp, const struct xrule *r)
{
	fputs("RewriteRule \"^/", fp);
	re_str(fp, r->alias);
	if (r->kind == REDIRECT_EXACT)
		fputs("/*$\"", fp);
	else if (r->alias[0] != '\0')
		fputs("(?:/+(.*?))?/*$\"", fp);
	else
		fputs("(.+?)/*$\"", fp);
}

/*
 * The RewriteRule of one rule. mod_rewrite would append the request's
 * query after a target's #fragment, so such a target gets a rule that
 * splices it in before, for requests that have one.
 */
static void
ap_rule(FILE *fp, const struct xmap *x, const struct conf *c,
        const struct xrule *r)
{
	const char *hash = strchr(r->url, '#');
	const char *nc = c->alias_fold ? ",NC" : "";
	int prefix = r->kind == REDIRECT_PREFIX;
	size_t base;

	if (hash != NULL && c->forward_query == FORWARD_MERGE) {
		base = (size_t)(hash - r->url);
		if (r->host[0] != '\0')
			ap_host_cond(fp, r->host);
		fputs("RewriteCond \"%{QUERY_STRING}\" \"^(.+)$\"\n", fp);
		ap_pattern(fp, r);
		fputs(" \"", fp);
		ap_subst(fp, r->url, base, prefix);
		fputs(memchr(r->url, '?', base) != NULL ? "&%1" : "?%1", fp);
		ap_subst(fp, hash, strlen(hash), prefix);
		fprintf(fp, "\" [R=%u,NE,L,QSD%s]\n", status_of(x, r), nc);
	}
	if (r->host[0] != '\0')
		ap_host_cond(fp, r->host);
	ap_pattern(fp, r);
	fputs(" \"", fp);
	ap_subst(fp, r->url, strlen(r->url), prefix);
	fprintf(fp, "\" [R=%u,NE,L,%s%s]\n", status_of(x, r), ap_query(c), nc);
}

/* Exact rules are looked up in the map, but for #fragment targets. */
static int
in_map(const struct xrule *r)
{
	return r->kind == REDIRECT_EXACT && !unreachable(r) &&
	       strchr(r->url, '#') == NULL;
}

/*
 * The map lookups of a section, one rule per status (mod_rewrite takes
 * no variable status). The map's value is trusted, so its '?' may start
 * a query (UnsafeAllow3F, Apache 2.4.60 and later).
 */
static void
ap_lookups(FILE *fp, const struct xmap *x, const struct conf *c, int hosts)
{
	static const unsigned codes[] = { 301, 302, 303, 307, 308 };
	const char *path = c->alias_fold ? "${sherve_lc:$1}" : "$1";
	size_t i, k;

	for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
		for (i = 0; i < x->n; i++)
			if (in_map(&x->v[i]) &&
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
		        codes[k], ap_query(c));
	}
}

/* A section's rules, in sherve's order: exact, then longest prefix. */
static void
ap_section(FILE *fp, const struct xmap *x, const struct conf *c, int hosts)
{
	size_t i;

	ap_lookups(fp, x, c, hosts);
	for (i = 0; i < x->n; i++) {
		const struct xrule *r = &x->v[i];

		if ((r->host[0] != '\0') == hosts && !unreachable(r) &&
		    r->kind == REDIRECT_EXACT && !in_map(r))
			ap_rule(fp, x, c, r);
	}
	for (i = 0; i < x->n; i++) {
		const struct xrule *r = &x->v[i];

		if ((r->host[0] != '\0') == hosts && !unreachable(r) &&
		    r->kind == REDIRECT_PREFIX)
			ap_rule(fp, x, c, r);
	}
}

static void
ap_map(FILE *map, const struct xmap *x)
{
	size_t i;

	fputs("# RewriteMap txt file written by `sherve export --format "
	      "apache`.\n",
	      map);
	for (i = 0; i < x->n; i++) {
		const struct xrule *r = &x->v[i];

		if (in_map(r))
			fprintf(map, "%s/%s %u,%s\n", r->host, r->alias,
			        status_of(x, r), r->url);
	}
}

static void
export_apache(FILE *fp, FILE *map, const char *map_path, const struct xmap *x,
              const struct conf *c)
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
	fputs("# The host sections: exact rules, then prefixes.\n", fp);
	ap_section(fp, x, c, 1);
	fputs("# The default section: exact rules, then prefixes.\n", fp);
	ap_section(fp, x, c, 0);
}

/* ---- _redirects ---- */

static void
export_redirects(FILE *fp, const struct xmap *x)
{
	size_t i;

	fprintf(fp,
	        "# _redirects written by `sherve export --format redirects`: "
	        "%zu rules.\n"
	        "# First match wins: host rules, exact rules, then longest "
	        "prefixes first.\n",
	        x->n);
	for (i = 0; i < x->n; i++) {
		const struct xrule *r = &x->v[i];
		unsigned st = status_of(x, r);

		if (unreachable(r))
			continue;
		if (r->host[0] != '\0')
			fprintf(fp, "https://%s", r->host);
		fprintf(fp, "/%s%s %s", r->alias,
		        r->kind != REDIRECT_PREFIX ? ""
		        : r->alias[0] != '\0'      ? "/*"
		                                   : "*",
		        r->url);
		/* No status is Netlify's 301; say any other. */
		if (r->status != 0 || st != 301)
			fprintf(fp, " %u", st);
		fputc('\n', fp);
	}
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
	struct xmap x = { NULL, 0, 0, c->redirect_status };
	int rc;

	if ((rc = store_foreach_rule(s, collect, &x)) != 0)
		goto out;
	if (x.n > 1)
		qsort(x.v, x.n, sizeof(x.v[0]), precedence);
	if (f == EXPORT_NGINX)
		export_nginx(out, &x, c);
	else if (f == EXPORT_APACHE)
		export_apache(out, map, map_path, &x, c);
	else
		export_redirects(out, &x);
	rc = ferror(out) || (map != NULL && ferror(map)) ? SH_EIO : SH_OK;
out:
	xmap_free(&x);
	return rc;
}

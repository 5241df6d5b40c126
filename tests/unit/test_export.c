/*
 * test_export.c - export_write() of small maps, as exact text: nginx's
 * rule maps, Apache's RewriteMap file and rules, a "_redirects" file;
 * quoting and escaping of targets, host sections, prefix rules, and the
 * rule kinds a server cannot say (expiry, rewrites, query conditions),
 * which are commented as left to sherve; forward-query = drop; the
 * format names. Each map goes through the real parser and an LMDB store
 * in a temporary state directory.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "export.h"
#include "fixture.h"
#include "redirects.h"
#include "store.h"
#include "util.h"

static char dir[] = "/tmp/sherve-export.XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

struct out {
	char *text, *map; /* malloc'd: export_write's out and map files */
	size_t tlen, mlen;
};

/* A new state directory's store holding map (fixture_store()). */
static struct store *
stored(const char *map, int redirects)
{
	static unsigned n;
	char state[96];

	snprintf(state, sizeof(state), "%s/%u", dir, n++);
	return fixture_store(state, map, redirects);
}

/* The settings export reads: redirect-status 301, forward-query fq. */
static void
settings(struct conf *c, enum forward_query fq)
{
	memset(c, 0, sizeof(*c));
	c->redirect_status = 301;
	c->forward_query = fq;
}

/*
 * Store map (see stored()) and export it in format f. Returns
 * export_write's code, or -1 when the fixture could not be set up.
 */
static int
export_map(const char *map, int redirects, enum export_format f,
           enum forward_query fq, struct out *o)
{
	struct store *s = stored(map, redirects);
	struct conf c;
	FILE *out = NULL, *mf = NULL;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	settings(&c, fq);
	if (s == NULL || (out = open_memstream(&o->text, &o->tlen)) == NULL ||
	    (mf = open_memstream(&o->map, &o->mlen)) == NULL)
		goto out;
	rc = export_write(s, &c, f, out, mf, "/etc/sherve/map.txt");
out:
	if (out != NULL)
		fclose(out);
	if (mf != NULL)
		fclose(mf);
	store_close(s);
	return rc;
}

static void
out_free(struct out *o)
{
	free(o->text);
	free(o->map);
}

/* The part of an nginx export that holds the rules: the host and the
 * default rule maps. */
static char *
nginx_rules(const char *text)
{
	const char *b = strstr(text, "map \"$host$uri\" $sherve_host_rule {");
	const char *e =
	        b != NULL ? strstr(b, "\nmap $sherve_host_rule ") : NULL;

	return e != NULL ? strndup(b, (size_t)(e - b)) : NULL;
}

/* What follows the refusal rules of an Apache export. */
static const char *
apache_rules(const char *text)
{
	const char *p = strstr(text, "RewriteRule ^ - [L]\n");

	return p != NULL ? p + strlen("RewriteRule ^ - [L]\n") : NULL;
}

struct row {
	unsigned line;
	const char *desc;
	int redirects; /* the map is a "_redirects" file */
	const char *map;
	const char *nginx, *apache, *apache_map, *out_redirects;
};

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "one exact rule", 0,
	  "foo https://example.com/foo\n",
	  "map \"$host$uri\" $sherve_host_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "}\n"
	  "\n"
	  "map $uri $sherve_default_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"/foo\" \"301 https://example.com/foo\";\n"
	  "	\"/foo/\" \"301 https://example.com/foo\";\n"
	  "}\n",
	  "# The host sections, then the default one: the map lookups, then the rules.\n"
	  "RewriteCond \"${sherve:$1|-}\" \"^301,(.*)$\"\n"
	  "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=301,NE,L,QSA,UnsafeAllow3F]\n",
	  "# RewriteMap txt file written by `sherve export --format apache`.\n"
	  "/foo 301,https://example.com/foo\n",
	  "# _redirects written by sherve: 1 rules; the first line that matches answers.\n"
	  "/foo https://example.com/foo\n" },
	{ __LINE__, "quotes, backslashes and dollars in a target", 0,
	  "q https://x.example/a\"b\\c$d{e}f 302\n",
	  "map \"$host$uri\" $sherve_host_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "}\n"
	  "\n"
	  "map $uri $sherve_default_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"/q\" \"302 https://x.example/a\\\"b\\\\c${sherve_dollar}d{e}f\";\n"
	  "	\"/q/\" \"302 https://x.example/a\\\"b\\\\c${sherve_dollar}d{e}f\";\n"
	  "}\n",
	  "# The host sections, then the default one: the map lookups, then the rules.\n"
	  "RewriteCond \"${sherve:$1|-}\" \"^302,(.*)$\"\n"
	  "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=302,NE,L,QSA,UnsafeAllow3F]\n",
	  "# RewriteMap txt file written by `sherve export --format apache`.\n"
	  "/q 302,https://x.example/a\"b\\c$d{e}f\n",
	  "# _redirects written by sherve: 1 rules; the first line that matches answers.\n"
	  "/q https://x.example/a\"b\\c$d{e}f 302\n" },
	{ __LINE__, "a host section: its exact rule and its prefix rule", 0,
	  "hi https://d.example/hi\n@host a.example\nhi https://b.example/hi\ndocs/* https://a.example/d/:splat 308\n",
	  "map \"$host$uri\" $sherve_host_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"a.example/hi\" \"301 https://b.example/hi\";\n"
	  "	\"a.example/hi/\" \"301 https://b.example/hi\";\n"
	  "	\"~^a\\.example/docs(?:/+(?<sherve_splat>.*?))?/*$\" \"308 https://a.example/d/${sherve_splat}\";\n"
	  "}\n"
	  "\n"
	  "map $uri $sherve_default_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"/hi\" \"301 https://d.example/hi\";\n"
	  "	\"/hi/\" \"301 https://d.example/hi\";\n"
	  "}\n",
	  "# The host sections, then the default one: the map lookups, then the rules.\n"
	  "RewriteCond \"${sherve_lc:%{HTTP_HOST}}\" \"^(\\[[^]]*\\]|[^:]*?)\\.?(:[0-9]+)?$\"\n"
	  "RewriteCond \"${sherve:%1$1|-}\" \"^301,(.*)$\"\n"
	  "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=301,NE,L,QSA,UnsafeAllow3F]\n"
	  "RewriteCond \"${sherve_lc:%{HTTP_HOST}}\" \"^a\\.example\\.?(:[0-9]+)?$\"\n"
	  "RewriteRule \"^/docs(?:/+(.*?))?/*$\" \"https://a.example/d/$1\" [R=308,NE,L,QSA]\n"
	  "RewriteCond \"${sherve:$1|-}\" \"^301,(.*)$\"\n"
	  "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=301,NE,L,QSA,UnsafeAllow3F]\n",
	  "# RewriteMap txt file written by `sherve export --format apache`.\n"
	  "a.example/hi 301,https://b.example/hi\n"
	  "/hi 301,https://d.example/hi\n",
	  "# _redirects written by sherve: 3 rules; the first line that matches answers.\n"
	  "# From a gosherve map, whose splats leave out a request's trailing slash:\n"
	  "# here they keep it. `sherve list` writes the map as it reads.\n"
	  "https://a.example/hi https://b.example/hi\n"
	  "https://a.example/docs/* https://a.example/d/:splat 308\n"
	  "/hi https://d.example/hi\n" },
	{ __LINE__, "a prefix rule and an exact rule under it", 0,
	  "docs/* https://docs.example.com/:splat 301\ndocs/old https://docs.example.com/new\n",
	  "map \"$host$uri\" $sherve_host_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "}\n"
	  "\n"
	  "map $uri $sherve_default_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"/docs/old\" \"301 https://docs.example.com/new\";\n"
	  "	\"/docs/old/\" \"301 https://docs.example.com/new\";\n"
	  "	\"~^/docs(?:/+(?<sherve_splat>.*?))?/*$\" \"301 https://docs.example.com/${sherve_splat}\";\n"
	  "}\n",
	  "# The host sections, then the default one: the map lookups, then the rules.\n"
	  "RewriteCond \"${sherve:$1|-}\" \"^301,(.*)$\"\n"
	  "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=301,NE,L,QSA,UnsafeAllow3F]\n"
	  "RewriteRule \"^/docs(?:/+(.*?))?/*$\" \"https://docs.example.com/$1\" [R=301,NE,L,QSA]\n",
	  "# RewriteMap txt file written by `sherve export --format apache`.\n"
	  "/docs/old 301,https://docs.example.com/new\n",
	  "# _redirects written by sherve: 2 rules; the first line that matches answers.\n"
	  "# From a gosherve map, whose splats leave out a request's trailing slash:\n"
	  "# here they keep it. `sherve list` writes the map as it reads.\n"
	  "/docs/old https://docs.example.com/new\n"
	  "/docs/* https://docs.example.com/:splat 301\n" },
	{ __LINE__, "the rule kinds no server can say", 1,
	  "/gone /x 410\n/old https://x.example/old expires=2000-01-01\n/soon https://x.example/s 302 expires=2999-01-01\n/page /p.html 200\n/q id=:id https://x.example/q/:id 301\n/nf /404.html 404\n",
	  "map \"$host$uri\" $sherve_host_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "}\n"
	  "\n"
	  "map $uri $sherve_default_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "# left to sherve (line 1): /gone: its page of the site is not carried (answer the status with error_page or ErrorDocument)\n"
	  "	\"/gone\" \"-\";\n"
	  "	\"/gone/\" \"-\";\n"
	  "	\"/old\" \"410 \";\n"
	  "	\"/old/\" \"410 \";\n"
	  "# left to sherve (line 3): /soon: it expires (expires=), which no server rule can say\n"
	  "	\"/soon\" \"-\";\n"
	  "	\"/soon/\" \"-\";\n"
	  "# left to sherve (line 4): /page: a rewrite to a file of the site (write it as try_files or an internal rewrite)\n"
	  "	\"/page\" \"-\";\n"
	  "	\"/page/\" \"-\";\n"
	  "# left to sherve (line 5): /q: query conditions (a map or RewriteRule keyed on the path cannot see them)\n"
	  "	\"~^/q/*$\" \"-\";\n"
	  "# left to sherve (line 6): /nf: its page of the site is not carried (answer the status with error_page or ErrorDocument)\n"
	  "	\"/nf\" \"-\";\n"
	  "	\"/nf/\" \"-\";\n"
	  "}\n",
	  "# The host sections, then the default one: the map lookups, then the rules.\n"
	  "# left to sherve (line 1): /gone: its page of the site is not carried (answer the status with error_page or ErrorDocument)\n"
	  "RewriteRule \"^/gone/*$\" - [L]\n"
	  "RewriteRule \"^/old/*$\" - [G,L]\n"
	  "# left to sherve (line 3): /soon: it expires (expires=), which no server rule can say\n"
	  "RewriteRule \"^/soon/*$\" - [L]\n"
	  "# left to sherve (line 4): /page: a rewrite to a file of the site (write it as try_files or an internal rewrite)\n"
	  "RewriteRule \"^/page/*$\" - [L]\n"
	  "# left to sherve (line 5): /q: query conditions (a map or RewriteRule keyed on the path cannot see them)\n"
	  "RewriteRule \"^/q/*$\" - [L]\n"
	  "# left to sherve (line 6): /nf: its page of the site is not carried (answer the status with error_page or ErrorDocument)\n"
	  "RewriteRule \"^/nf/*$\" - [L]\n",
	  "# RewriteMap txt file written by `sherve export --format apache`.\n",
	  "# _redirects written by sherve: 6 rules; the first line that matches answers.\n"
	  "/gone /x 410\n"
	  "/old https://x.example/old expires=2000-01-01\n"
	  "/soon https://x.example/s 302 expires=2999-01-01\n"
	  "/page /p.html 200\n"
	  "/q id=:id https://x.example/q/:id 301\n"
	  "/nf /404.html 404\n" },
	{ __LINE__, "a _redirects file: first match wins, a host from-URL", 1,
	  "/a/* https://x.example/:splat 302\n/a/b https://x.example/ab\nhttps://h.example/x https://y.example/x\n",
	  "map \"$host$uri\" $sherve_host_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"h.example/x\" \"301 https://y.example/x\";\n"
	  "	\"h.example/x/\" \"301 https://y.example/x\";\n"
	  "}\n"
	  "\n"
	  "map $uri $sherve_default_rule {\n"
	  "	default \"\";\n"
	  "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	  "	\"~^/a(?:/(?<sherve_splat>.*))?$\" \"302 https://x.example/${sherve_splat}\";\n"
	  "}\n",
	  "# The host sections, then the default one: the map lookups, then the rules.\n"
	  "RewriteCond \"${sherve_lc:%{HTTP_HOST}}\" \"^(\\[[^]]*\\]|[^:]*?)\\.?(:[0-9]+)?$\"\n"
	  "RewriteCond \"${sherve:%1$1|-}\" \"^301,(.*)$\"\n"
	  "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=301,NE,L,QSA,UnsafeAllow3F]\n"
	  "RewriteRule \"^/a(?:/(.*))?$\" \"https://x.example/$1\" [R=302,NE,L,QSA]\n",
	  "# RewriteMap txt file written by `sherve export --format apache`.\n"
	  "h.example/x 301,https://y.example/x\n",
	  "# _redirects written by sherve: 2 rules; the first line that matches answers.\n"
	  "/a/* https://x.example/:splat 302\n"
	  "https://h.example/x https://y.example/x\n" },
};
/* clang-format on */

static void
test_formats(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const struct row *t = &rows[i];
		struct out o;
		char *ng;

		expect_int(t->line, t->desc, SH_OK,
		           export_map(t->map, t->redirects, EXPORT_NGINX,
		                      FORWARD_MERGE, &o));
		ng = o.text != NULL ? nginx_rules(o.text) : NULL;
		expect_str(t->line, t->desc, t->nginx, ng);
		free(ng);
		out_free(&o);
		expect_int(t->line, t->desc, SH_OK,
		           export_map(t->map, t->redirects, EXPORT_APACHE,
		                      FORWARD_MERGE, &o));
		expect_str(t->line, t->desc, t->apache,
		           o.text != NULL ? apache_rules(o.text) : NULL);
		expect_str(t->line, t->desc, t->apache_map, o.map);
		out_free(&o);
		expect_int(t->line, t->desc, SH_OK,
		           export_map(t->map, t->redirects, EXPORT_REDIRECTS,
		                      FORWARD_MERGE, &o));
		expect_str(t->line, t->desc, t->out_redirects, o.text);
		expect_str(t->line, "no map file but for Apache", "", o.map);
		out_free(&o);
	}
}

/* One small map, the whole text: the header comments and the plumbing
 * maps that turn a rule into a status and a Location. */
static void
test_whole(void)
{
	static const char nginx[] =
	        "# nginx map include written by `sherve export --format nginx`: 1 rules.\n"
	        "# Include it in the http {} block, then in each server {} that answers\n"
	        "# for sherve (before any proxying):\n"
	        "#\n"
	        "#     if ($sherve_status = 404) { return 404; }\n"
	        "#     if ($sherve_status = 410) { return 410; }\n"
	        "#     if ($sherve_status = 301) { return 301 $sherve_location; }\n"
	        "#     if ($sherve_status = 302) { return 302 $sherve_location; }\n"
	        "#     if ($sherve_status = 303) { return 303 $sherve_location; }\n"
	        "#     if ($sherve_status = 307) { return 307 $sherve_location; }\n"
	        "#     if ($sherve_status = 308) { return 308 $sherve_location; }\n"
	        "#\n"
	        "# With assets on disk, put them in a named location reached by\n"
	        "# try_files $uri $uri/ @sherve; so files win, as they do in sherve.\n"
	        "# Map strings match without regard to case. See sherve(8), EXPORT.\n"
	        "# forward-query = merge\n"
	        "\n"
	        "geo $sherve_dollar {\n"
	        "	default \"$\";\n"
	        "}\n"
	        "\n"
	        "map $request_uri $sherve_refused {\n"
	        "	default \"\";\n"
	        "	\"~^[^?]*(/(\\.|%2[eE])[^/?]|%2[fF]|%5[cC]|%[01][0-9a-fA-F]|%7[fF])\" x;\n"
	        "}\n"
	        "\n"
	        "map \"$host$uri\" $sherve_host_rule {\n"
	        "	default \"\";\n"
	        "	\"~*^[^/]*/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	        "}\n"
	        "\n"
	        "map $uri $sherve_default_rule {\n"
	        "	default \"\";\n"
	        "	\"~*^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" \"\";\n"
	        "	\"/foo\" \"301 https://example.com/foo\";\n"
	        "	\"/foo/\" \"301 https://example.com/foo\";\n"
	        "}\n"
	        "\n"
	        "map $sherve_host_rule $sherve_rule {\n"
	        "	\"\" $sherve_default_rule;\n"
	        "	default $sherve_host_rule;\n"
	        "}\n"
	        "\n"
	        "map \"$sherve_refused$sherve_rule\" $sherve_status {\n"
	        "	\"~^x\" \"\";\n"
	        "	\"~^(?<sherve_st>\\d+) \" $sherve_st;\n"
	        "	default \"\";\n"
	        "}\n"
	        "\n"
	        "map $sherve_rule $sherve_target {\n"
	        "	\"~^\\d+ (?<sherve_tg>.*)$\" $sherve_tg;\n"
	        "	default \"\";\n"
	        "}\n"
	        "\n"
	        "map $sherve_target $sherve_qsep {\n"
	        "	\"~\\?\" \"&\";\n"
	        "	default \"?\";\n"
	        "}\n"
	        "\n"
	        "map $args $sherve_query {\n"
	        "	\"\" \"\";\n"
	        "	default \"$sherve_qsep$args\";\n"
	        "}\n"
	        "\n"
	        "map $sherve_target $sherve_location {\n"
	        "	\"~^(?<sherve_b>[^#]*)(?<sherve_f>#.*)?$\" \"$sherve_b$sherve_query$sherve_f\";\n"
	        "	default \"\";\n"
	        "}\n";
	static const char apache[] =
	        "# mod_rewrite rules written by `sherve export --format apache`: 1 rules.\n"
	        "# For the server config or a <VirtualHost> (RewriteMap is not allowed in\n"
	        "# .htaccess); the exact rules are in the map file. Apache before 2.4.60:\n"
	        "# remove \",UnsafeAllow3F\". See sherve(8), EXPORT.\n"
	        "RewriteEngine On\n"
	        "RewriteMap sherve \"txt:/etc/sherve/map.txt\"\n"
	        "RewriteMap sherve_lc \"int:tolower\"\n"
	        "# Reserved paths are the site's own; sherve refuses some.\n"
	        "RewriteRule \"^/(robots\\.txt|favicon\\.ico|\\.well-known(/.*)?)/*$\" - [NC,L]\n"
	        "RewriteCond \"%{THE_REQUEST}\" \"^\\S+\\s[^?\\s]*(/(\\.|%2[eE])[^/?]|%2[fF]|%5[cC]|%[01][0-9a-fA-F]|%7[fF])\"\n"
	        "RewriteRule ^ - [L]\n"
	        "# The host sections, then the default one: the map lookups, then the rules.\n"
	        "RewriteCond \"${sherve:$1|-}\" \"^301,(.*)$\"\n"
	        "RewriteRule \"^(/.*?)/*$\" \"%1\" [R=301,NE,L,QSA,UnsafeAllow3F]\n";
	struct out o;

	expect_int(__LINE__, "nginx", SH_OK,
	           export_map("foo https://example.com/foo\n", 0, EXPORT_NGINX,
	                      FORWARD_MERGE, &o));
	expect_str(__LINE__, "the whole nginx export", nginx, o.text);
	out_free(&o);
	expect_int(__LINE__, "apache", SH_OK,
	           export_map("foo https://example.com/foo\n", 0, EXPORT_APACHE,
	                      FORWARD_MERGE, &o));
	expect_str(__LINE__, "the whole Apache export", apache, o.text);
	out_free(&o);
}

/* forward-query = drop: no query merging in nginx, QSD for Apache. */
static void
test_drop(void)
{
	static const char map[] = "docs/* https://docs.example.com/:splat\n"
	                          "docs/old https://docs.example.com/new\n";
	struct out o;

	expect_int(__LINE__, "nginx", SH_OK,
	           export_map(map, 0, EXPORT_NGINX, FORWARD_DROP, &o));
	expect_has(__LINE__, "said in the header", o.text,
	           "# forward-query = drop\n");
	expect_lacks(__LINE__, "no $args in nginx", o.text, "$args");
	expect_has(__LINE__, "the Location is the target", o.text,
	           "map $sherve_target $sherve_location {\n"
	           "\tdefault $sherve_target;\n}\n");
	out_free(&o);
	expect_int(__LINE__, "apache", SH_OK,
	           export_map(map, 0, EXPORT_APACHE, FORWARD_DROP, &o));
	expect_str(__LINE__, "QSD, never QSA, in Apache's rules",
	           "# The host sections, then the default one: the map "
	           "lookups, then the rules.\n"
	           "RewriteCond \"${sherve:$1|-}\" \"^301,(.*)$\"\n"
	           "RewriteRule \"^(/.*?)/*$\" \"%1\" "
	           "[R=301,NE,L,QSD,UnsafeAllow3F]\n"
	           "RewriteRule \"^/docs(?:/+(.*?))?/*$\" "
	           "\"https://docs.example.com/$1\" [R=301,NE,L,QSD]\n",
	           o.text != NULL ? apache_rules(o.text) : NULL);
	out_free(&o);
}

/* A write that fails is SH_EIO, whatever the format. */
static void
test_write_error(void)
{
	static const enum export_format f[] = { EXPORT_NGINX, EXPORT_APACHE,
		                                EXPORT_REDIRECTS };
	struct store *s = stored("a https://x.example/\n", 0);
	struct conf c;
	size_t i;

	settings(&c, FORWARD_MERGE);
	require_true(__LINE__, "a store with a map", s != NULL);
	for (i = 0; i < NELEM(f); i++) {
		FILE *full = fopen("/dev/full", "w");

		require_true(__LINE__, "/dev/full", full != NULL);
		setvbuf(full, NULL, _IONBF, 0);
		expect_int(__LINE__, "a write to /dev/full", SH_EIO,
		           export_write(s, &c, f[i], full, full, "/x"));
		fclose(full);
	}
	store_close(s);
}

static void
test_format_parse(void)
{
	static const struct {
		unsigned line;
		const char *name;
		int rc;
		enum export_format f;
	} t[] = {
		{ __LINE__, "nginx", 0, EXPORT_NGINX },
		{ __LINE__, "apache", 0, EXPORT_APACHE },
		{ __LINE__, "redirects", 0, EXPORT_REDIRECTS },
		{ __LINE__, "NGINX", -1, EXPORT_NGINX },
		{ __LINE__, "lighttpd", -1, EXPORT_NGINX },
		{ __LINE__, "", -1, EXPORT_NGINX },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++) {
		enum export_format f = EXPORT_NGINX;

		expect_int(t[i].line, t[i].name, t[i].rc,
		           export_format_parse(t[i].name, &f));
		expect_int(t[i].line, t[i].name, t[i].f, f);
	}
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_formats),      UNIT_TEST(test_whole),
	UNIT_TEST(test_drop),         UNIT_TEST(test_write_error),
	UNIT_TEST(test_format_parse), UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "export", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}

/* handler.c - one request, top to bottom; see handler.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asset.h"
#include "entity.h"
#include "handler.h"
#include "health.h"
#include "httpdate.h"
#include "log.h"
#include "metrics.h"
#include "path.h"
#include "redirects.h"
#include "location.h"
#include "match.h"
#include "tick.h"
#include "util.h"

#define NOT_FOUND_BODY   "Not found\n"
#define GONE_BODY        "Gone\n"
#define OPEN_RETRY_AFTER "5" /* seconds, after an open error */

/* The webroot's directory fd, or -1 when there is none to serve from. */
static int
root_fd(struct handler *h)
{
	if (h->conf->webroot[0] == '\0')
		return -1;
	return webroot_fd(&h->root, h->conf->webroot);
}

/* One info line per request; built only when info is enabled. */
static void
log_request(const struct request *rq, int status, const char *key,
            const char *val)
{
	char st[8];

	if (!log_enabled(SH_LOG_INFO))
		return;
	snprintf(st, sizeof(st), "%d", status);
	log_fields(SH_LOG_INFO, "request", "method", rq->method, "path",
	           rq->uri, "status", st, key, val, (const char *)NULL);
}

/* A short text/plain answer, with one more header if name is set. */
static int
text_answer(struct sink *out, const struct request *rq, int status,
            const char *body, const char *name, const char *value)
{
	struct response r;

	resp_begin(&r, out, status);
	resp_header(&r, "Content-Type", "text/plain; charset=utf-8");
	resp_header_u64(&r, "Content-Length", strlen(body));
	resp_header(&r, "Cache-Control", "no-store");
	if (name != NULL)
		resp_header(&r, name, value);
	if (!request_is_head(rq))
		resp_body(&r, body, strlen(body));
	resp_finish(&r);
	log_request(rq, status, NULL, NULL);
	return status;
}

/* A short text/plain answer for errors that carry no page. */
static int
serve_text(struct sink *out, const struct request *rq, int status,
           const char *body, const char *allow)
{
	return text_answer(out, rq, status, body,
	                   allow != NULL ? "Allow" : NULL, allow);
}

/*
 * An asset that could not be opened for a reason other than absence: 403
 * for a permission the admin chose (EACCES, EPERM), else 503 (out of
 * descriptors, an I/O error, a webroot that cannot be opened): the file
 * may exist, so a 404, which clients and caches keep, would be a lie, and
 * no miss refresh is started for it. One log line per clock tick each.
 */
static int
serve_open_error(const struct request *rq, struct sink *out, int rc,
                 const char *rel, int err)
{
	static struct timespec tick403, tick503;

	if (rc == ASSET_FORBIDDEN) {
		if (tick_new(&tick403))
			log_warnx("asset /%s: %s: answered 403", rel,
			          strerror(err));
		return serve_text(out, rq, 403, "Forbidden\n", NULL);
	}
	if (rel != NULL && tick_new(&tick503))
		log_warnx("asset /%s: %s: answered 503", rel, strerror(err));
	return text_answer(out, rq, 503, "Service unavailable\n", "Retry-After",
	                   OPEN_RETRY_AFTER);
}

/* Send a, honouring conditionals and Range (entity.c); status given for
 * a page. */
static int
serve_asset(struct handler *h, const struct request *rq, struct sink *out,
            int root, struct asset *a, int status)
{
	struct entity_from e = { h->conf, &h->root, root };
	char sent[ASSET_PATH_MAX];

	status = entity_serve(&e, rq, out, a, status, sent, sizeof(sent));
	if (status == 412)
		return serve_text(out, rq, 412, "Precondition failed\n", NULL);
	log_request(rq, status, "file", sent);
	return status;
}

/* A 404 or 410: the file page of the webroot if it has it (404.html,
 * 410.html, or a rule's own page), else a short text. */
static int
serve_error(struct handler *h, const struct request *rq, struct sink *out,
            int status, const char *page)
{
	const char *own = status == 404 ? "/404.html" : "/410.html";
	char rel[ASSET_PATH_MAX];
	struct asset a;
	int root = root_fd(h), slash;

	if (root >= 0 && page != NULL &&
	    path_normalise(page, "", rel, sizeof(rel), &slash) == PATH_OK &&
	    rel[0] != '\0' && asset_open(root, rel, slash, &a) == ASSET_OK) {
		status = serve_asset(h, rq, out, root, &a, status);
		asset_close(&a);
		return status;
	}
	if (page != own)
		return serve_error(h, rq, out, status, own);
	return serve_text(out, rq, status,
	                  status == 404 ? NOT_FOUND_BODY : GONE_BODY, NULL);
}

static int
serve_not_found(struct handler *h, const struct request *rq, struct sink *out)
{
	return serve_error(h, rq, out, 404, "/404.html");
}

/* Escape &, <, >, " for the tiny HTML body of a redirect. */
static size_t
html_escape(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		size_t rl;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		}
		rl = rep != NULL ? strlen(rep) : 1;
		if (n + rl + 1 > outsz)
			break;
		memcpy(out + n, rep != NULL ? rep : s, rl);
		n += rl;
	}
	out[n] = '\0';
	return n;
}

static int
serve_redirect(struct handler *h, const struct request *rq, struct sink *out,
               const char *url, int status)
{
	char body[REDIRECT_URL_MAX * 2 + 128], esc[REDIRECT_URL_MAX * 2];
	struct response r;
	int n;

	html_escape(url, esc, sizeof(esc));
	n = snprintf(body, sizeof(body), "<a href=\"%s\">%s</a>.\n", esc,
	             resp_reason(status));
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	resp_begin(&r, out, status);
	if (resp_header(&r, "Location", url) != 0) {
		/* Ingest refuses CTLs; a bad stored value is still no 5xx. */
		log_warnx("alias target refused as a header: %s", url);
		return serve_not_found(h, rq, out);
	}
	resp_header(&r, "Access-Control-Allow-Origin", "*");
	resp_header(&r, "Cache-Control", h->conf->redirect_cache_control);
	resp_header(&r, "Content-Type", "text/html; charset=utf-8");
	resp_header_u64(&r, "Content-Length", (uint64_t)n);
	if (!request_is_head(rq))
		resp_body(&r, body, (size_t)n);
	resp_finish(&r);
	log_request(rq, status, "location", url);
	return status;
}

/*
 * The store cannot answer (not open, or found damaged): whether path is
 * an alias is unknown, so no 404, which clients and caches would keep.
 */
static int
serve_store_down(const struct request *rq, struct sink *out, const char *why)
{
	static const char body[] = "Redirects are unavailable for a moment\n";
	struct response r;

	resp_begin(&r, out, 503);
	resp_header(&r, "Content-Type", "text/plain; charset=utf-8");
	resp_header_u64(&r, "Content-Length", sizeof(body) - 1);
	resp_header(&r, "Cache-Control", "no-store");
	resp_header(&r, "Retry-After", "5");
	if (!request_is_head(rq))
		resp_body(&r, body, sizeof(body) - 1);
	resp_finish(&r);
	log_request(rq, 503, "store", why);
	return 503;
}

/*
 * Values that point into the folded copy of the path point into the
 * request's own path instead: the splat keeps the request's case.
 */
static void
unfold(struct match_result *m, const char *folded, const char *rel)
{
	size_t i;

	if (m->splat != NULL)
		m->splat = rel + (m->splat - folded);
	for (i = 0; i < m->ncap; i++)
		if (!m->cap[i].from_query)
			m->cap[i].val = rel + (m->cap[i].val - folded);
}

int
handler_rule(const struct conf *c, struct store *s, const char *rel, int slash,
             const char *host, const char *query, struct handler_rule *a)
{
	char folded[ASSET_PATH_MAX], h[LOCATION_HOST_MAX + 1];
	struct match_request rq = { rel,  strlen(rel), slash,
		                    NULL, query,       (uint64_t)time(NULL) };
	int rc;

	a->status = 0;
	a->location[0] = '\0';
	if (c->alias_fold) {
		if (rq.len >= sizeof(folded))
			return SH_ENOTFOUND;
		location_fold(rel, rq.len, folded);
		rq.path = folded;
	}
	if (host != NULL && location_host(host, strlen(host), h, sizeof(h)) > 0)
		rq.host = h;
	rc = store_resolve(s, &rq, a->url, sizeof(a->url), &a->m);
	if (rc != SH_OK)
		return rc;
	if (c->alias_fold)
		unfold(&a->m, folded, rel);
	a->status = a->m.rule.status != 0 ? (int)a->m.rule.status
	                                  : (int)c->redirect_status;
	if (a->m.gone) {
		a->status = 410; /* expired: no page of its own */
		if (!entity_is_error_page((int)a->m.rule.status))
			a->url[0] = '\0';
	}
	/* Cloudflare sends the target's query only; a rule with query
	 * conditions has used it up, as on Netlify; a page has none. */
	if (c->forward_query != FORWARD_MERGE ||
	    (a->m.mapflags & MATCH_CLOUDFLARE) || a->m.rule.qlen > 0 ||
	    a->status == 200 || entity_is_error_page(a->status))
		query = NULL;
	if (location_build(a->url, &a->m, query, a->location,
	                   sizeof(a->location)) < 0)
		return SH_ETOOLONG;
	return SH_OK;
}

/*
 * The rule for rel: one LMDB read for a gosherve map, a few for host
 * sections and prefix rules (store_resolve); on a miss, the rate-limited
 * refresh hook and a retry. A reserved path can never match, so it never
 * causes a fetch; nor does a store error. Returns handler_rule()'s code.
 */
static int
lookup(struct handler *h, const struct request *rq, const char *rel, int slash,
       int may_fetch, struct handler_rule *a)
{
	int rc = handler_rule(h->conf, h->store, rel, slash, rq->host,
	                      rq->query, a);

	if (rc != SH_ENOTFOUND || !may_fetch || h->on_miss == NULL ||
	    rel[0] == '\0' || match_reserved(rel, strlen(rel)) ||
	    !h->on_miss(h->miss_ctx))
		return rc;
	return handler_rule(h->conf, h->store, rel, slash, rq->host, rq->query,
	                    a);
}

/* Count a redirect or a 410 under the rule's alias: "go", "docs/\*",
 * "*" or a pattern's from path. */
static void
count_rule(struct handler *h, const struct match_result *m, int gone)
{
	char alias[REDIRECT_KEY_MAX + 3];
	size_t an = m->rule.klen;
	const char *k = m->rule.key;

	if (m->rule.kind == REDIRECT_PREFIX && an <= REDIRECT_KEY_MAX) {
		memcpy(alias, m->rule.key, an);
		memcpy(alias + an, an > 0 ? "/*" : "*", an > 0 ? 2 : 1);
		k = alias;
		an += an > 0 ? 2 : 1;
	}
	if (gone)
		metrics_gone(h->metrics, k, an);
	else
		metrics_redirect(h->metrics, k, an);
}

/*
 * A rewrite (status 200): the file of the webroot the target names,
 * through the asset path (containment, conditionals, variants, sendfile
 * modes), never a file outside it; a missing file is a 404, one that
 * cannot be opened a 403 or 503 as for any asset.
 */
static int
serve_rewrite(struct handler *h, const struct request *rq, struct sink *out,
              const char *path)
{
	char rel[ASSET_PATH_MAX];
	struct asset a;
	int root = root_fd(h), slash, status, rc;

	if (root < 0 && h->conf->webroot[0] != '\0')
		return serve_open_error(rq, out, ASSET_ERROR, NULL, 0);
	if (root < 0 ||
	    path_normalise(path, "", rel, sizeof(rel), &slash) != PATH_OK ||
	    (rc = asset_open(root, rel, slash, &a)) == ASSET_NOT_FOUND)
		return serve_not_found(h, rq, out);
	if (rc != ASSET_OK)
		return serve_open_error(rq, out, rc, rel, errno);
	status = serve_asset(h, rq, out, root, &a, 200);
	asset_close(&a);
	return status;
}

/* What a matched rule answers: a redirect, a rewrite, a 404 or 410. */
static int
serve_rule(struct handler *h, const struct request *rq, struct sink *out,
           const struct handler_rule *a)
{
	const char *page = a->url[0] != '\0' ? a->location : NULL;

	if (a->status == 410) {
		count_rule(h, &a->m, 1);
		return serve_error(h, rq, out, 410, page);
	}
	if (a->status == 404)
		return serve_error(h, rq, out, 404, page);
	if (a->status == 200)
		return serve_rewrite(h, rq, out, a->location);
	count_rule(h, &a->m, 0);
	return serve_redirect(h, rq, out, a->location, a->status);
}

/*
 * The redirect for rel, if a rule has it: returns the status sent, or 0
 * when no rule matched. The Location is built on the stack: the target,
 * the splat (in the request's own case), the merged query. may_fetch 0:
 * a miss starts no refresh (the webroot could not be looked at, so rel
 * may well be a file).
 */
static int
serve_alias(struct handler *h, const struct request *rq, struct sink *out,
            const char *rel, int slash, int may_fetch)
{
	struct handler_rule a;
	int rc = lookup(h, rq, rel, slash, may_fetch, &a);

	if (rc == SH_EDAMAGED)
		return serve_store_down(rq, out, store_damage(h->store));
	if (rc == SH_ETOOLONG) {
		/* Over 8 KiB or a CTL once merged: no header, and no 5xx. */
		log_warnx("redirect refused: the Location for %s would be too "
		          "long or hold a control character",
		          rq->uri);
		return serve_not_found(h, rq, out);
	}
	if (rc != SH_OK)
		return 0;
	return serve_rule(h, rq, out, &a);
}

/*
 * A file of the webroot answers rel, but a forced rule ('!', or any rule
 * of a Cloudflare map) answers before files: the rule's answer, or 0 for
 * the file's. Only maps that have forced rules pay the lookup.
 */
static int
serve_forced(struct handler *h, const struct request *rq, struct sink *out,
             const char *rel, int slash)
{
	struct handler_rule a;

	if (h->store == NULL || !(store_map_flags(h->store) & MATCH_FORCED) ||
	    handler_rule(h->conf, h->store, rel, slash, rq->host, rq->query,
	                 &a) != SH_OK ||
	    !(a.m.rule.flags & MATCH_FORCE))
		return 0;
	return serve_rule(h, rq, out, &a);
}

/*
 * A directory asked for without its '/': with directory-slash redirect,
 * 301 to "dir/" (query kept, under base-path), as nginx, Apache's
 * DirectorySlash and lighttpd answer, so the relative links of its
 * index.html resolve inside it; conditionals and Range apply to the
 * index, not to this redirect. With serve, its index.html, as gosherve
 * and servy did.
 */
static int
serve_dir(struct handler *h, const struct request *rq, struct sink *out,
          int root, struct asset *a, const char *rel)
{
	char loc[REDIRECT_URL_MAX + 1];

	if (h->conf->directory_slash == DIRSLASH_SERVE)
		return serve_asset(h, rq, out, root, a, 200);
	if (location_dir(h->conf->base_path, rel, rq->query, loc, sizeof(loc)) <
	    0) {
		/* Over 8 KiB or a CTL in the query: no header, no 5xx. */
		log_debug("no slash redirect for %s: the Location would be "
		          "too long or hold a control character",
		          rq->uri);
		return serve_asset(h, rq, out, root, a, 200);
	}
	return serve_redirect(h, rq, out, loc, 301);
}

static int
refuse_path(struct handler *h, const struct request *rq, struct sink *out,
            int rc)
{
	if (rc == PATH_BAD_REQUEST)
		return serve_text(out, rq, 400, "Bad request\n", NULL);
	if (rc == PATH_TOO_LONG)
		return serve_text(out, rq, 414, "URI too long\n", NULL);
	log_debug("path refused: %s", rq->uri);
	return serve_not_found(h, rq, out);
}

/* A generated answer (metrics, health): never cached; text is freed. */
static int
serve_generated(const struct request *rq, struct sink *out, int status,
                const char *type, char *text, size_t len)
{
	struct response r;

	resp_begin(&r, out, status);
	resp_header(&r, "Content-Type", type);
	resp_header_u64(&r, "Content-Length", len);
	resp_header(&r, "Cache-Control", "no-store");
	if (!request_is_head(rq))
		resp_body(&r, text, len);
	resp_finish(&r);
	free(text);
	return status;
}

static int
serve_metrics(struct handler *h, const struct request *rq, struct sink *out)
{
	size_t len = 0;
	char *text;

	if (h->metrics == NULL ||
	    (text = metrics_render(h->metrics, h->store, &len)) == NULL)
		return serve_text(out, rq, 503, "Metrics unavailable\n", NULL);
	log_request(rq, 200, "metrics", h->conf->metrics_path);
	return serve_generated(rq, out, 200,
	                       "text/plain; version=0.0.4; charset=utf-8", text,
	                       len);
}

/*
 * The metrics and the health check answer only the exact path as sent,
 * base-path included: the web server's access rule for that path (an
 * allow-list) must not be dodged by a spelling that normalises to it
 * ("//-/metrics", "/-/metrics/", "/%2D/metrics").
 */
static int
is_exact_path(const struct conf *c, const char *uri, const char *path)
{
	size_t bl = strlen(c->base_path), ml = strlen(path);

	if (ml == 0 || uri == NULL)
		return 0;
	while (bl > 0 && c->base_path[bl - 1] == '/')
		bl--;
	if (strncmp(uri, c->base_path, bl) != 0)
		return 0;
	uri += bl;
	return strncmp(uri, path, ml) == 0 &&
	       (uri[ml] == '\0' || uri[ml] == '?');
}

/* health.h: never a redirect, a miss, or a refresh. */
static int
serve_health(struct handler *h, const struct request *rq, struct sink *out)
{
	size_t len = 0;
	int status = 503;
	char *text =
	        health_render(h->conf, h->store, "the store cannot be opened",
	                      (uint64_t)time(NULL), &len, &status);

	if (text == NULL)
		return serve_text(out, rq, 503, "Health unavailable\n", NULL);
	log_request(rq, status, "health", h->conf->health_path);
	return serve_generated(rq, out, status, "application/health+json", text,
	                       len);
}

/*
 * The webroot cannot be opened (logged by webroot.c): aliases still
 * answer, from the map as it is; anything else is 503, since rel may be
 * a file there.
 */
static int
serve_no_webroot(struct handler *h, const struct request *rq, struct sink *out,
                 const char *rel, int slash)
{
	int status;

	if (h->store != NULL && rel[0] != '\0' &&
	    (status = serve_alias(h, rq, out, rel, slash, 0)) != 0)
		return status;
	return serve_open_error(rq, out, ASSET_ERROR, NULL, 0);
}

static int
route(struct handler *h, const struct request *rq, struct sink *out)
{
	char rel[ASSET_PATH_MAX];
	struct asset a;
	int rc, slash, status, root;

	if (rq->method == NULL ||
	    (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0))
		return serve_text(out, rq, 405, "Method not allowed\n",
		                  "GET, HEAD");
	if (rq->uri_too_long)
		return refuse_path(h, rq, out, PATH_TOO_LONG);
	rc = path_normalise(rq->uri, h->conf->base_path, rel, sizeof(rel),
	                    &slash);
	if (rc != PATH_OK)
		return refuse_path(h, rq, out, rc);
	if (is_exact_path(h->conf, rq->uri, h->conf->metrics_path))
		return serve_metrics(h, rq, out);
	if (is_exact_path(h->conf, rq->uri, h->conf->health_path))
		return serve_health(h, rq, out);
	root = root_fd(h);
	if (root < 0 && h->conf->webroot[0] != '\0')
		return serve_no_webroot(h, rq, out, rel, slash);
	if (root >= 0 && (rc = asset_open(root, rel, slash, &a)) != ASSET_OK &&
	    rc != ASSET_NOT_FOUND)
		return serve_open_error(rq, out, rc, rel, errno);
	if (root >= 0 && rc == ASSET_OK) {
		if ((status = serve_forced(h, rq, out, rel, slash)) == 0)
			status = a.dir && !slash
			                 ? serve_dir(h, rq, out, root, &a, rel)
			                 : serve_asset(h, rq, out, root, &a,
			                               200);
		asset_close(&a);
		return status;
	}
	/* Without a redirects-url a missing store hides no alias: 404. */
	if (h->store == NULL && h->store_why != NULL && rel[0] != '\0' &&
	    h->conf->redirects_url[0] != '\0')
		return serve_store_down(rq, out, h->store_why);
	if (h->store != NULL &&
	    (status = serve_alias(h, rq, out, rel, slash, 1)) != 0)
		return status;
	return serve_not_found(h, rq, out);
}

struct counting {
	struct sink *next;
	uint64_t bytes;
};

static int
count_write(void *ctx, const char *buf, size_t n)
{
	struct counting *c = ctx;

	c->bytes += n;
	return c->next->write(c->next->ctx, buf, n);
}

static int
count_sendfile(void *ctx, int fd, uint64_t off, uint64_t n)
{
	struct counting *c = ctx;

	c->bytes += n;
	return c->next->sendfile(c->next->ctx, fd, off, n);
}

int
handler_serve(struct handler *h, const struct request *rq, struct sink *out)
{
	struct counting cnt = { out, 0 };
	struct sink counted = { count_write, &cnt,
		                out->sendfile != NULL ? count_sendfile : NULL };
	uint64_t t0;
	int status;

	if (h->tick != NULL)
		h->tick(h->tick_ctx, h);
	if (h->metrics == NULL)
		return route(h, rq, out);
	t0 = mono_ns();
	status = route(h, rq, &counted);
	metrics_request(h->metrics, status, cnt.bytes, mono_ns() - t0);
	return status;
}

void
handler_close(struct handler *h)
{
	webroot_close(&h->root);
}

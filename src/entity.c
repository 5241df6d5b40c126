/* entity.c - what an asset answers with; see entity.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cond.h"
#include "encoding.h"
#include "entity.h"
#include "httpdate.h"
#include "log.h"
#include "mime.h"
#include "range.h"
#include "util.h"

int
entity_is_error_page(int status)
{
	return status == 404 || status == 410;
}

static void
validators(struct response *r, const char *etag, time_t mtime,
           const char *cache_control)
{
	char date[HTTPDATE_LEN];

	resp_header(r, "ETag", etag);
	if (httpdate_format(mtime, date, sizeof(date)) == 0)
		resp_header(r, "Last-Modified", date);
	resp_header(r, "Cache-Control", cache_control);
}

/* Pick 200, 206 or 416 from Range/If-Range; sets the span to send. */
static int
choose_range(const struct request *rq, const char *etag, struct asset *a,
             uint64_t *off, uint64_t *len)
{
	uint64_t size = (uint64_t)a->st.st_size;
	int rc;

	*off = 0;
	*len = size;
	if (rq->range == NULL ||
	    !cond_if_range(rq->if_range, etag, a->st.st_mtim.tv_sec))
		return 200;
	rc = range_parse(rq->range, size, off, len);
	if (rc == RANGE_UNSATISFIABLE)
		return 416;
	if (rc == RANGE_OK)
		return 206;
	*off = 0;
	*len = size;
	return 200;
}

static void
content_range(struct response *r, int status, uint64_t off, uint64_t len,
              uint64_t size)
{
	char v[80];

	if (status == 206)
		snprintf(v, sizeof(v), "bytes %llu-%llu/%llu",
		         (unsigned long long)off,
		         (unsigned long long)(off + len - 1),
		         (unsigned long long)size);
	else
		snprintf(v, sizeof(v), "bytes */%llu",
		         (unsigned long long)size);
	resp_header(r, "Content-Range", v);
}

/* What is sent for an asset: the file, or its precompressed sibling. */
struct rep {
	struct asset *file;  /* the bytes sent */
	const char *type_of; /* the path that names the Content-Type */
	enum encoding enc;
	int vary;
	char etag[ETAG_MAX];
};

/* Swap in a precompressed sibling if the client accepts one. */
static void
pick_variant(const struct entity_from *e, const struct request *rq,
             struct asset *a, struct asset *v, struct rep *p)
{
	static const enum encoding order[] = { ENC_BR, ENC_GZIP };
	unsigned ok;
	size_t i;

	p->file = a;
	p->type_of = a->path;
	p->enc = ENC_IDENTITY;
	p->vary = 0;
	/* nginx drops Content-Encoding on X-Accel-Redirect responses, and
	 * so does Apache's mod_xsendfile on X-Sendfile ones. */
	if (!e->conf->precompressed || !mime_compressible(a->path) ||
	    e->conf->sendfile_mode == SENDFILE_NGINX ||
	    e->conf->sendfile_mode == SENDFILE_APACHE)
		return;
	p->vary = 1;
	ok = encoding_accepted(rq->accept_encoding);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((ok & (1u << order[i])) &&
		    asset_sibling(e->root, a, encoding_suffix(order[i]), v) ==
		            ASSET_OK) {
			p->file = v;
			p->enc = order[i];
			return;
		}
	}
}

static void
entity_headers(struct response *r, const struct rep *p)
{
	if (p->enc != ENC_IDENTITY)
		resp_header(r, "Content-Encoding", encoding_token(p->enc));
	if (p->vary)
		resp_header(r, "Vary", "Accept-Encoding");
}

/*
 * Let the web server move the bytes (sendfile-mode): sherve has checked
 * containment and preconditions; the server applies Range itself.
 * Returns 0, or -1 to stream the open file instead:
 *  - a name the server would read as another: nginx takes a URI ('?',
 *    '%', '#'), lighttpd (and mod_xsendfile 1.0) percent-decode the
 *    X-Sendfile path, so "%2esecret" would send ".secret", and lighttpd
 *    answers 502 for bytes that do not decode as UTF-8;
 *  - a webroot swapped by a deploy since this worker's last check: the
 *    server would open the new tree's file under the old one's headers.
 */
static int
send_by_server(const struct entity_from *e, struct response *r,
               const struct rep *p)
{
	const struct conf *c = e->conf;
	int nginx = c->sendfile_mode == SENDFILE_NGINX, n;
	char v[ASSET_PATH_MAX * 2];

	if (!str_ascii_except(p->file->path, nginx ? "?%#" : "%") ||
	    !webroot_current(e->webroot, c->webroot))
		return -1;
	n = snprintf(v, sizeof(v), "%s/%s",
	             nginx ? c->sendfile_prefix : c->webroot, p->file->path);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -1;
	return resp_header(r, nginx ? "X-Accel-Redirect" : "X-Sendfile", v);
}

/* The strong ETag of what p sends, from its fstat; "" if it cannot be. */
static void
rep_etag(const struct entity_from *e, struct rep *p)
{
	if (cond_etag(&p->file->st, e->conf->etag_inode,
	              p->enc == ENC_BR     ? "br"
	              : p->enc == ENC_GZIP ? "gz"
	                                   : "",
	              p->etag, sizeof(p->etag)) != 0)
		p->etag[0] = '\0';
}

/*
 * Headers and body of a 200, 206, 404 or 410 (a page). A whole
 * file's first chunk is read before the headers go out, so a file that
 * shrank since its fstat (rewritten in place) is answered as it is now
 * rather than with a Content-Length its body cannot meet.
 */
static void
send_entity(const struct entity_from *e, const struct request *rq,
            struct response *r, struct rep *p, int status, uint64_t off,
            uint64_t len)
{
	struct asset *f = p->file;
	const char *cc = entity_is_error_page(status) ? "no-store"
	                                              : e->conf->cache_control;
	char first[ASSET_CHUNK];
	ssize_t n = 0;
	int streamed =
	        !request_is_head(rq) && len > 0 && status != 206 &&
	        !(status == 200 && e->conf->sendfile_mode != SENDFILE_NONE);

	if (streamed) {
		uint64_t size = (uint64_t)f->st.st_size;

		n = asset_read_first(f, first, sizeof(first));
		if (n >= 0 && (uint64_t)f->st.st_size != size) {
			len = (uint64_t)f->st.st_size;
			rep_etag(e, p);
		}
	}

	resp_header(r, "Content-Type", mime_type(p->type_of));
	entity_headers(r, p);
	if (!entity_is_error_page(status)) {
		validators(r, p->etag, f->st.st_mtim.tv_sec, cc);
		resp_header(r, "Accept-Ranges", "bytes");
	} else {
		resp_header(r, "Cache-Control", cc);
	}
	if (status == 200 && e->conf->sendfile_mode != SENDFILE_NONE &&
	    send_by_server(e, r, p) == 0) {
		resp_finish(r);
		return;
	}
	resp_header_u64(r, "Content-Length", len);
	if (status == 206)
		content_range(r, 206, off, len, (uint64_t)f->st.st_size);
	if (request_is_head(rq) || len == 0) {
		resp_finish(r);
		return;
	}
	if (streamed && (n < 0 || resp_body(r, first, (size_t)n) != 0))
		n = -1;
	else if (asset_stream(f, off + (uint64_t)n, len - (uint64_t)n, r) == 0)
		return;
	if (!r->failed)
		log_warnx("%s: file changed or unreadable while sending",
		          f->path);
}

/*
 * The status a 200 becomes under the request's conditionals (304, 412)
 * and Range (206, 416); sets the span to send.
 */
static int
precondition(const struct request *rq, const struct rep *p, uint64_t *off,
             uint64_t *len)
{
	switch (cond_evaluate(&rq->cond, p->etag, p->file->st.st_mtim.tv_sec)) {
	case COND_NOT_MODIFIED: return 304;
	case COND_PRECONDITION_FAILED: return 412;
	case COND_PROCEED: break;
	}
	return choose_range(rq, p->etag, p->file, off, len);
}

int
entity_serve(const struct entity_from *e, const struct request *rq,
             struct sink *out, struct asset *a, int status, char *sent,
             size_t sentsz)
{
	struct asset v = { .fd = -1 };
	struct response r;
	struct rep p;
	uint64_t off = 0, len;

	pick_variant(e, rq, a, &v, &p);
	if (status != 200)
		p.vary = 0;
	rep_etag(e, &p);
	len = (uint64_t)p.file->st.st_size;
	if (status == 200)
		status = precondition(rq, &p, &off, &len);
	str_copy(sent, p.file->path, sentsz);
	if (status == 412) {
		asset_close(&v);
		return 412;
	}
	resp_begin(&r, out, status);
	if (status == 304) {
		validators(&r, p.etag, p.file->st.st_mtim.tv_sec,
		           e->conf->cache_control);
		entity_headers(&r, &p);
		resp_finish(&r);
	} else if (status == 416) {
		content_range(&r, 416, 0, 0, (uint64_t)p.file->st.st_size);
		resp_header(&r, "Content-Length", "0");
		resp_finish(&r);
	} else {
		send_entity(e, rq, &r, &p, status, off, len);
	}
	asset_close(&v);
	return status;
}

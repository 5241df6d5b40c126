/* versions.c - list, roll back, unpin and diff versions; see versions.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mapdiff.h"
#include "redirects.h"
#include "refresh.h"
#include "sha256.h"
#include "util.h"
#include "versions.h"

#define SHORT_HASH 12 /* hex digits shown of a file's SHA-256 */

struct printer {
	FILE *out;
	int json;
	unsigned n; /* printed so far */
};

static void
rfc3339(uint64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%llu", (unsigned long long)t);
}

static int
file_put(void *ctx, const char *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

static void
json_str(FILE *out, const char *key, const char *s)
{
	fprintf(out, "\"%s\":\"", key);
	(void)json_escape(s, file_put, out);
	fputs("\"", out);
}

static int
print_one(void *ctx, const struct store_version *v)
{
	struct printer *p = ctx;
	char hex[SHA256_HEX], when[32];

	sha256_hex(v->sha, hex);
	rfc3339(v->stored_at, when);
	if (!p->json) {
		fprintf(p->out, "%llu  %s  %llu rules  %.*s  %s%s%s\n",
		        (unsigned long long)v->n, when,
		        (unsigned long long)v->rules, SHORT_HASH, hex,
		        v->source, v->current ? "  current" : "",
		        v->pinned ? "  pinned" : "");
		return 0;
	}
	fprintf(p->out,
	        "%s{\"version\":%llu,\"time\":\"%s\",\"rules\":%llu,"
	        "\"sha256\":\"%s\",",
	        p->n > 0 ? "," : "", (unsigned long long)v->n, when,
	        (unsigned long long)v->rules, hex);
	json_str(p->out, "source", v->source);
	fputc(',', p->out);
	json_str(p->out, "etag", v->etag);
	fputc(',', p->out);
	json_str(p->out, "last_modified", v->last_modified);
	fprintf(p->out, ",\"current\":%s,\"pinned\":%s}",
	        v->current ? "true" : "false", v->pinned ? "true" : "false");
	p->n++;
	return 0;
}

int
versions_print(struct store *s, int json, FILE *out)
{
	struct printer p = { out, json, 0 };
	int rc;

	if (json)
		fputc('[', out);
	rc = store_versions_list(s, print_one, &p, NULL);
	if (json)
		fputs("]\n", out);
	return rc;
}

/* The newest version kept before "before", for versions_rollback(). */
struct before {
	uint64_t before, found;
};

static int
find_before(void *ctx, const struct store_version *v)
{
	struct before *b = ctx;

	if (v->n < b->before) {
		b->found = v->n;
		return 1; /* newest first: the first one below is it */
	}
	return 0;
}

/* The version before the current one into *n, or SH_EINVAL. */
static int
previous(struct store *s, uint64_t *n, char *msg, size_t msgsz)
{
	struct store_vstate st;
	struct before b = { 0, 0 };
	int rc;

	if ((rc = store_versions_state(s, &st)) != SH_OK)
		return rc;
	b.before = st.current;
	rc = store_versions_list(s, find_before, &b, NULL);
	if (rc != SH_OK && rc != 1)
		return rc;
	if (b.found == 0) {
		if (st.count == 0)
			snprintf(msg, msgsz, "no versions are kept yet");
		else
			snprintf(msg, msgsz,
			         "no version before %llu is kept (%llu kept)",
			         (unsigned long long)st.current,
			         (unsigned long long)st.count);
		return SH_EINVAL;
	}
	*n = b.found;
	return SH_OK;
}

/* Version n's file, checked against its SHA-256 and parsed into m. */
static int
load_map(const struct conf *c, struct store *s, uint64_t n,
         struct redirect_map *m, char *msg, size_t msgsz)
{
	struct redirects_opts o;
	struct store_version *v;
	unsigned char sum[SHA256_LEN];
	char *body = NULL;
	size_t len = 0;
	int rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return SH_ENOMEM;
	rc = store_version_get(s, n, v, &body, &len);
	if (rc == SH_ENOTFOUND)
		snprintf(msg, msgsz,
		         "version %llu: not kept (sherve versions "
		         "lists them)",
		         (unsigned long long)n);
	if (rc != SH_OK)
		goto out;
	sha256(body, len, sum);
	if (memcmp(sum, v->sha, SHA256_LEN) != 0) {
		snprintf(msg, msgsz, "version %llu: its file fails its SHA-256",
		         (unsigned long long)n);
		rc = SH_EDAMAGED;
		goto out;
	}
	refresh_parse_opts(c, v->source, &o);
	if ((rc = redirects_parse_opts(body, len, &o, m, NULL, NULL)) ==
	            SH_OK &&
	    m->n == 0) {
		snprintf(msg, msgsz, "version %llu: no valid line",
		         (unsigned long long)n);
		rc = SH_EPARSE;
	}
out:
	free(body);
	free(v);
	return rc;
}

/* Under the lock: make version n current, pinned or not. */
static int
switch_locked(const struct conf *c, struct store *s, uint64_t n, int pin,
              char *msg, size_t msgsz)
{
	struct redirect_map m = { 0 };
	struct store_vput vp = { STORE_VSWITCH, NULL, NULL, 0, 0, n, pin };
	int rc;

	if (n == 0 && (rc = previous(s, &n, msg, msgsz)) != SH_OK)
		return rc;
	vp.n = n;
	if ((rc = load_map(c, s, n, &m, msg, msgsz)) != SH_OK)
		goto out;
	rc = store_replace_version(s, &m, NULL, 0, &vp, NULL);
	if (rc == SH_OK)
		snprintf(msg, msgsz, "version %llu is current (%zu rules)%s",
		         (unsigned long long)n, m.n,
		         pin ? ", pinned: refreshes keep new versions but do "
		               "not serve them until sherve unpin"
		             : "");
	else if (rc == SH_ENOTFOUND)
		snprintf(msg, msgsz, "version %llu: not kept",
		         (unsigned long long)n);
	else
		snprintf(msg, msgsz, "store write failed: %s",
		         store_write_error(s));
out:
	redirects_free(&m);
	return rc;
}

int
versions_rollback(const struct conf *c, struct store *s, uint64_t n, char *msg,
                  size_t msgsz)
{
	int fd, rc;

	if ((fd = refresh_lock(c, msg, msgsz)) < 0)
		return SH_EIO;
	rc = switch_locked(c, s, n, 1, msg, msgsz);
	refresh_unlock(fd);
	return rc;
}

int
versions_unpin(const struct conf *c, struct store *s, char *msg, size_t msgsz)
{
	struct store_vstate st;
	int fd, rc;

	if ((fd = refresh_lock(c, msg, msgsz)) < 0)
		return SH_EIO;
	if ((rc = store_versions_state(s, &st)) != SH_OK) {
		snprintf(msg, msgsz, "cannot read the store");
	} else if (st.count == 0) {
		snprintf(msg, msgsz, "no versions are kept yet");
		rc = SH_EINVAL;
	} else if (!st.pinned) {
		snprintf(msg, msgsz, "no pin is set; version %llu is current",
		         (unsigned long long)st.current);
	} else {
		rc = switch_locked(c, s, st.newest, 0, msg, msgsz);
	}
	refresh_unlock(fd);
	return rc;
}

int
versions_diff(const struct conf *c, struct store *s, uint64_t a, uint64_t b,
              FILE *out, int *differ, char *msg, size_t msgsz)
{
	struct redirect_map ma = { 0 }, mb = { 0 };
	struct mapdiff_counts n;
	struct store_vstate st;
	int rc;

	*differ = 0;
	if ((rc = store_versions_state(s, &st)) != SH_OK)
		return rc;
	if (b == 0)
		b = st.current;
	if (a == 0 && (rc = previous(s, &a, msg, msgsz)) != SH_OK)
		return rc;
	if ((rc = load_map(c, s, a, &ma, msg, msgsz)) != SH_OK ||
	    (rc = load_map(c, s, b, &mb, msg, msgsz)) != SH_OK)
		goto out;
	if ((rc = mapdiff_maps(out, &ma, &mb, &n)) != SH_OK)
		goto out;
	fprintf(out, "version %llu -> %llu: %u added, %u removed, %u changed\n",
	        (unsigned long long)a, (unsigned long long)b, n.added,
	        n.removed, n.changed);
	*differ = n.added + n.removed + n.changed > 0;
out:
	redirects_free(&ma);
	redirects_free(&mb);
	return rc;
}

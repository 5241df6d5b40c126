/* health.c - the health check; see health.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "refresh_state.h"
#include "util.h"

/* What the checks say, read from the store. */
struct health {
	const char *status; /* "pass", "warn", "fail" */
	const char *output; /* why, for warn and fail */
	uint64_t version, rules, age;
	int pinned, has_success, failed;
	char error[320];
};

static int
file_put(void *ctx, const char *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

/* The last error e without the upstream's URL (see health.h). */
static void
error_text(const struct conf *c, const char *e, char *out, size_t outsz)
{
	size_t ul = strlen(c->redirects_url);

	if (ul > 0 && strncmp(e, c->redirects_url, ul) == 0)
		snprintf(out, outsz, "redirects-url%s", e + ul);
	else
		(void)str_copy(out, e, outsz);
}

static void
verdict(struct health *h, const char *status, const char *output)
{
	h->status = status;
	h->output = output;
}

/* The store's state into h, and the verdict. */
static void
assess(const struct conf *c, struct store *s, const struct refresh_state *rs,
       uint64_t now, struct health *h)
{
	struct store_vstate st;
	uint64_t last = rs->last_success;
	int url = c->redirects_url[0] != '\0';

	h->rules = store_count(s);
	h->status = "pass";
	if (store_versions_state(s, &st) != SH_OK || store_damage(s) != NULL) {
		verdict(h, "fail", "the store cannot be read");
		return;
	}
	h->version = st.current;
	h->pinned = st.pinned;
	h->has_success = last != 0;
	h->age = last != 0 && now > last ? now - last : 0;
	h->failed = rs->last_result == REFRESH_FAILED;
	error_text(c, rs->last_error, h->error, sizeof(h->error));
	if (url && h->rules == 0)
		verdict(h, "fail", "no map is stored");
	else if (url && h->failed)
		verdict(h, "warn", "the last refresh failed");
	else if (url && c->refresh_interval > 0 && h->has_success &&
	         h->age > 3 * c->refresh_interval)
		verdict(h, "warn",
		        "the last refresh that succeeded is older than 3 x "
		        "refresh-interval");
	else if (h->pinned)
		verdict(h, "warn", "a version is pinned (sherve unpin)");
}

static void
check_u64(FILE *f, const char *name, uint64_t v, const char *unit,
          const char *status)
{
	fprintf(f, "\"%s\":[{\"observedValue\":%llu,", name,
	        (unsigned long long)v);
	if (unit != NULL)
		fprintf(f, "\"observedUnit\":\"%s\",", unit);
	fprintf(f, "\"status\":\"%s\"}]", status);
}

static void
print_checks(FILE *f, const struct health *h)
{
	fputs(",\"checks\":{", f);
	check_u64(f, "map:version", h->version, NULL, "pass");
	fputc(',', f);
	check_u64(f, "map:rules", h->rules, "rules",
	          h->rules > 0 ? "pass" : "warn");
	fprintf(f, ",\"map:pinned\":[{\"observedValue\":%s,\"status\":\"%s\"}]",
	        h->pinned ? "true" : "false", h->pinned ? "warn" : "pass");
	if (h->has_success) {
		fputc(',', f);
		check_u64(f, "refresh:age", h->age, "s", "pass");
	}
	fprintf(f, ",\"refresh:error\":[{\"status\":\"%s\",\"output\":\"",
	        h->failed ? "warn" : "pass");
	(void)json_escape(h->error, file_put, f);
	fputs("\"}]}", f);
}

char *
health_render(const struct conf *c, struct store *s, const char *why,
              uint64_t now, size_t *len, int *status)
{
	struct refresh_state *rs = NULL;
	struct health h;
	char *text = NULL;
	FILE *f;

	memset(&h, 0, sizeof(h));
	if (s != NULL && (rs = malloc(sizeof(*rs))) == NULL)
		return NULL;
	if (s != NULL && refresh_state_load(s, rs) != SH_OK)
		verdict(&h, "fail", "the store cannot be read");
	else if (s != NULL)
		assess(c, s, rs, now, &h);
	else if (c->redirects_url[0] != '\0')
		verdict(&h, "fail", why != NULL ? why : "no store");
	else
		verdict(&h, "pass", NULL);
	*status = strcmp(h.status, "fail") == 0 ? 503 : 200;
	if ((f = open_memstream(&text, len)) == NULL) {
		free(rs);
		return NULL;
	}
	fprintf(f,
	        "{\"status\":\"%s\",\"serviceId\":\"sherve\","
	        "\"releaseId\":\"%s\"",
	        h.status, PACKAGE_VERSION);
	if (h.output != NULL) {
		fputs(",\"output\":\"", f);
		(void)json_escape(h.output, file_put, f);
		fputc('"', f);
	}
	if (s != NULL)
		print_checks(f, &h);
	fputs("}\n", f);
	free(rs);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * test_metrics.c - the shared counters: a slot per process (the same one
 * on a second open, another process's while it lives), a dead process's
 * slot taken over with its counts, a closed slot's counts kept, the last
 * slot shared when every one is busy; a file of another layout replaced;
 * the reader creating nothing; and the exposition: every family with
 * HELP and TYPE, counters ending in _total, cumulative histogram
 * buckets with +Inf, "other" statuses, alias labels escaped and cut on
 * a UTF-8 boundary, aliases past the table counted as other.
 * metrics.c is included to reach its slots.
 */
#include "unit.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/metrics.c"

static char dir[] = "/tmp/sherve-metrics.XXXXXX";

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

/* A new state directory for one test. */
static const char *
fresh(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return mkdir(path, 0700) == 0 ? path : NULL;
}

static size_t
slot_index(const struct metrics *m)
{
	return (size_t)(m->slot - m->shm->slots);
}

/* In a child: open, count n requests, then close or just die. */
static int
child_counts(const char *state, unsigned n, int close_it)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct metrics *m;
		char err[256];
		unsigned i;

		if (metrics_open(state, &m, err, sizeof(err)) != SH_OK)
			_exit(1);
		for (i = 0; i < n; i++)
			metrics_request(m, 200, 1, 0);
		if (close_it)
			metrics_close(m);
		_exit(0); /* without close: the slot keeps a dead pid */
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	                       WEXITSTATUS(st) == 0
	               ? 0
	               : -1;
}

static void
test_slots(void)
{
	const char *state = fresh("slots");
	struct metrics *a = NULL, *b = NULL;
	char err[256];

	require_true(__LINE__, "a state dir", state != NULL);
	/* A child dies holding slot 0 with 3 requests. */
	require_true(__LINE__, "a child counts 3 and dies",
	             child_counts(state, 3, 0) == 0);
	require_true(__LINE__, "metrics_open",
	             metrics_open(state, &a, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "the dead pid's slot is taken over", 0,
	           slot_index(a));
	expect_int(__LINE__, "... with its counts", 3,
	           atomic_load(&a->slot->requests));
	expect_int(__LINE__, "... now tagged with our pid", getpid(),
	           atomic_load(&a->slot->pid));
	require_true(__LINE__, "a second open",
	             metrics_open(state, &b, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "a process's second open finds its own slot", 0,
	           slot_index(b));
	/* Another live process gets the next slot, and closing frees it. */
	require_true(__LINE__, "a child counts 2 and closes",
	             child_counts(state, 2, 1) == 0);
	expect_int(__LINE__, "a live slot is not taken: the child had 1", 2,
	           atomic_load(&a->shm->slots[1].requests));
	expect_int(__LINE__, "metrics_close frees the slot", 0,
	           atomic_load(&a->shm->slots[1].pid));
	/* Slot 1 is free: the next child reuses it and its counts. */
	require_true(__LINE__, "a child counts 4 and closes",
	             child_counts(state, 4, 1) == 0);
	expect_int(__LINE__, "a freed slot carries its counts on", 6,
	           atomic_load(&a->shm->slots[1].requests));
	expect_int(__LINE__, "slot 2 never used", 0,
	           atomic_load(&a->shm->slots[2].requests));
	/* Both opens share the slot: closing either releases it. */
	metrics_close(b);
	expect_int(__LINE__, "metrics_close of our slot frees it", 0,
	           atomic_load(&a->shm->slots[0].pid));
	expect_int(__LINE__, "... and keeps its counts", 3,
	           atomic_load(&a->shm->slots[0].requests));
	metrics_close(a);
}

/* Every slot held by a live process: the last one is shared. */
static void
test_slots_full(void)
{
	const char *state = fresh("full");
	struct metrics *a = NULL;
	char err[256];
	size_t i;
	int st = 0;
	pid_t pid;

	require_true(__LINE__, "a state dir", state != NULL);
	require_true(__LINE__, "metrics_open",
	             metrics_open(state, &a, err, sizeof(err)) == SH_OK);
	for (i = 0; i < METRICS_SLOTS; i++)
		atomic_store(&a->shm->slots[i].pid, (int64_t)getpid());
	pid = fork();
	if (pid == 0) {
		struct metrics *m;

		if (metrics_open(state, &m, err, sizeof(err)) != SH_OK)
			_exit(1);
		metrics_request(m, 200, 1, 0);
		_exit(slot_index(m) == METRICS_SLOTS - 1 ? 0 : 2);
	}
	require_true(__LINE__, "fork", pid > 0);
	expect_true(__LINE__, "the child shares the last slot",
	            waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	                    WEXITSTATUS(st) == 0);
	expect_int(__LINE__, "... and counts there", 1,
	           atomic_load(&a->shm->slots[METRICS_SLOTS - 1].requests));
	metrics_close(a);
}

/* A file of another layout is replaced by a new, zeroed one. */
static void
test_layout(void)
{
	const char *state = fresh("layout");
	struct metrics *m = NULL;
	char path[256], err[256];
	FILE *f;
	struct stat st;

	require_true(__LINE__, "a state dir", state != NULL);
	snprintf(path, sizeof(path), "%s/metrics.shm", state);
	require_true(__LINE__, "an old file", (f = fopen(path, "w")) != NULL);
	fputs("not a metrics file", f);
	fclose(f);
	require_true(__LINE__, "metrics_open",
	             metrics_open(state, &m, err, sizeof(err)) == SH_OK);
	expect_true(__LINE__, "the file has the new layout",
	            stat(path, &st) == 0 &&
	                    st.st_size == (off_t)sizeof(struct shm));
	expect_u64(__LINE__, "... and magic", METRICS_MAGIC, m->shm->magic);
	expect_int(__LINE__, "... and version", METRICS_VERSION,
	           m->shm->version);
	metrics_close(m);
	snprintf(path, sizeof(path), "%s/nosuchdir", dir);
	expect_int(__LINE__, "a state dir that is not there", SH_EIO,
	           metrics_open(path, &m, err, sizeof(err)));
	expect_has(__LINE__, "... says which file", err, "metrics.shm");
}

/* The reader of a state dir with no file: zeros, and no file made. */
static void
test_reader(void)
{
	const char *state = fresh("reader");
	struct metrics *m = NULL;
	char path[256], *text;
	size_t len = 0;

	require_true(__LINE__, "a state dir", state != NULL);
	require_true(__LINE__, "metrics_open_reader",
	             metrics_open_reader(state, &m) == SH_OK);
	text = metrics_render(m, NULL, &len);
	expect_has(__LINE__, "zero requests", text,
	           "\nsherve_requests_total 0\n");
	expect_int(__LINE__, "len is the text's", strlen(text ? text : ""),
	           len);
	free(text);
	metrics_close(m);
	snprintf(path, sizeof(path), "%s/metrics.shm", state);
	expect_int(__LINE__, "the reader created no file", -1,
	           access(path, F_OK));
	/* NULL is accepted by every recording function. */
	metrics_request(NULL, 200, 1, 1);
	metrics_redirect(NULL, "a", 1);
	metrics_gone(NULL, "a", 1);
	metrics_close(NULL);
}

/* The text without the per-alias lines (their order is the table's). */
static char *
without_aliases(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	const char *p = text;

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		const char *e = strchr(p, '\n');
		size_t n = e != NULL ? (size_t)(e - p) + 1 : strlen(p);

		if (strncmp(p, "sherve_redirects_served_total{", 30) != 0 &&
		    strncmp(p, "sherve_redirects_gone_total{", 28) != 0) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

static unsigned
count_lines(const char *text, const char *prefix)
{
	unsigned n = 0;
	const char *p = text;

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p += p != NULL)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

/* clang-format off */
static const char want_text[] =
	"# HELP sherve_requests_total Requests answered.\n"
	"# TYPE sherve_requests_total counter\n"
	"sherve_requests_total 3\n"
	"# HELP sherve_responses_total Responses by HTTP status.\n"
	"# TYPE sherve_responses_total counter\n"
	"sherve_responses_total{status=\"200\"} 1\n"
	"sherve_responses_total{status=\"404\"} 1\n"
	"sherve_responses_total{status=\"other\"} 1\n"
	"# HELP sherve_response_bytes_total Bytes written to the web server, headers included.\n"
	"# TYPE sherve_response_bytes_total counter\n"
	"sherve_response_bytes_total 110\n"
	"# HELP sherve_request_duration_seconds Time sherve spent handling a request.\n"
	"# TYPE sherve_request_duration_seconds histogram\n"
	"sherve_request_duration_seconds_bucket{le=\"0.0001\"} 1\n"
	"sherve_request_duration_seconds_bucket{le=\"0.00025\"} 1\n"
	"sherve_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"
	"sherve_request_duration_seconds_bucket{le=\"0.001\"} 1\n"
	"sherve_request_duration_seconds_bucket{le=\"0.0025\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.005\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.01\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.025\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.05\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.1\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.25\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"0.5\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"1\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"2.5\"} 2\n"
	"sherve_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"
	"sherve_request_duration_seconds_sum 3.002000000\n"
	"sherve_request_duration_seconds_count 3\n"
	"# HELP sherve_redirects_served_total Redirects served, by alias.\n"
	"# TYPE sherve_redirects_served_total counter\n"
	"# HELP sherve_redirects_served_other_total Redirects served for aliases beyond the per-alias table.\n"
	"# TYPE sherve_redirects_served_other_total counter\n"
	"sherve_redirects_served_other_total 0\n"
	"# HELP sherve_redirects_gone_total 410 Gone answered for gone or expired rules, by alias.\n"
	"# TYPE sherve_redirects_gone_total counter\n"
	"# HELP sherve_redirects_gone_other_total 410 Gone answered for aliases beyond the per-alias table.\n"
	"# TYPE sherve_redirects_gone_other_total counter\n"
	"sherve_redirects_gone_other_total 0\n"
	"# HELP sherve_redirects_defined Aliases in the stored redirect map.\n"
	"# TYPE sherve_redirects_defined gauge\n"
	"sherve_redirects_defined 0\n"
	"# HELP sherve_refresh_total Refreshes of the redirect map, by result.\n"
	"# TYPE sherve_refresh_total counter\n"
	"sherve_refresh_total{result=\"updated\"} 0\n"
	"sherve_refresh_total{result=\"not_modified\"} 0\n"
	"sherve_refresh_total{result=\"failed\"} 0\n"
	"# HELP sherve_refresh_last_success_timestamp_seconds Unix time of the last refresh that stored a map.\n"
	"# TYPE sherve_refresh_last_success_timestamp_seconds gauge\n"
	"sherve_refresh_last_success_timestamp_seconds 0\n"
	"# HELP sherve_map_version The version of the map being served (0: none kept).\n"
	"# TYPE sherve_map_version gauge\n"
	"sherve_map_version 0\n"
	"# HELP sherve_map_pinned 1 while sherve rollback pins the version served.\n"
	"# TYPE sherve_map_pinned gauge\n"
	"sherve_map_pinned 0\n"
	"# HELP sherve_map_versions Versions of the map kept (keep-versions bounds them).\n"
	"# TYPE sherve_map_versions gauge\n"
	"sherve_map_versions 0\n"
	"# HELP sherve_build_info The running sherve.\n"
	"# TYPE sherve_build_info gauge\n"
	"sherve_build_info{version=\"" PACKAGE_VERSION "\"} 1\n";
/* clang-format on */

/* Requests in three buckets (one past the last), three statuses, and
 * aliases: the whole text, then the alias lines. */
static void
test_render(void)
{
	static const struct {
		unsigned line;
		const char *desc, *want;
	} alias_lines[] = {
		{ __LINE__, "an alias's redirects",
		  "sherve_redirects_served_total{alias=\"foo\"} 2\n" },
		{ __LINE__, "'\"', '\\' and newline escaped",
		  "sherve_redirects_served_total{alias=\"a\\\"b\\\\c\\nd\"} "
		  "1\n" },
		{ __LINE__, "an alias's 410s",
		  "sherve_redirects_gone_total{alias=\"old\"} 1\n" },
		{ __LINE__, "an alias with both: its redirects",
		  "sherve_redirects_served_total{alias=\"both\"} 1\n" },
		{ __LINE__, "an alias with both: its 410s",
		  "sherve_redirects_gone_total{alias=\"both\"} 1\n" },
	};
	const char *state = fresh("render");
	struct metrics *m = NULL, *r = NULL;
	char err[256], *text = NULL, *rest;
	size_t i, len = 0;

	require_true(__LINE__, "a state dir", state != NULL);
	require_true(__LINE__, "metrics_open",
	             metrics_open(state, &m, err, sizeof(err)) == SH_OK);
	metrics_request(m, 200, 100, 0);
	metrics_request(m, 404, 10, 2000000);
	metrics_request(m, 599, 0, 3000000000ULL);
	metrics_redirect(m, "foo", 3);
	metrics_redirect(m, "foo", 3);
	metrics_redirect(m, "a\"b\\c\nd", 7);
	metrics_gone(m, "old", 3);
	metrics_redirect(m, "both", 4);
	metrics_gone(m, "both", 4);
	metrics_close(m);
	/* Rendered by a reader, as `sherve metrics` does. */
	require_true(__LINE__, "metrics_open_reader",
	             metrics_open_reader(state, &r) == SH_OK);
	require_true(__LINE__, "metrics_render",
	             (text = metrics_render(r, NULL, &len)) != NULL);
	expect_int(__LINE__, "len", strlen(text), len);
	rest = without_aliases(text);
	expect_str(__LINE__, "the exposition but for alias lines", want_text,
	           rest);
	free(rest);
	for (i = 0; i < NELEM(alias_lines); i++)
		expect_has(alias_lines[i].line, alias_lines[i].desc, text,
		           alias_lines[i].want);
	expect_int(__LINE__, "served lines: foo, a\"b..., both", 3,
	           count_lines(text, "sherve_redirects_served_total{"));
	expect_int(__LINE__, "gone lines: old, both", 2,
	           count_lines(text, "sherve_redirects_gone_total{"));
	free(text);
	metrics_close(r);
}

/* More aliases than the table holds: the rest count as other. */
static void
test_alias_table(void)
{
	const char *state = fresh("aliases");
	struct metrics *m = NULL;
	char err[256], alias[700], *text;
	uint64_t named = 0, n;
	size_t i, len;
	const char *p;

	require_true(__LINE__, "a state dir", state != NULL);
	require_true(__LINE__, "metrics_open",
	             metrics_open(state, &m, err, sizeof(err)) == SH_OK);
	/* 511 bytes, then a 2-byte character across the 512-byte cut. */
	memset(alias, 'a', 511);
	memcpy(alias + 511, "\xc3\xa9tail", 6);
	metrics_gone(m, alias, 517);
	for (i = 0; i < METRICS_ALIASES + 200; i++) {
		int k = snprintf(alias, sizeof(alias), "alias-%zu", i);

		metrics_redirect(m, alias, (size_t)k);
	}
	require_true(__LINE__, "metrics_render",
	             (text = metrics_render(m, NULL, &len)) != NULL);
	for (p = text;
	     (p = strstr(p, "sherve_redirects_served_total{")) != NULL; p++) {
		const char *sp = strstr(p, "} ");

		if (sp != NULL && sscanf(sp + 2, "%" SCNu64, &n) == 1)
			named += n;
	}
	p = strstr(text, "\nsherve_redirects_served_other_total ");
	n = 0;
	expect_true(__LINE__, "an other line",
	            p != NULL && sscanf(p + 37, "%" SCNu64, &n) == 1);
	expect_true(__LINE__, "the table filled up", n > 0);
	expect_u64(__LINE__, "named and other add up to every redirect",
	           METRICS_ALIASES + 200, named + n);
	memset(alias, 'a', 511);
	alias[511] = '\0';
	{
		char want[800];

		snprintf(want, sizeof(want),
		         "sherve_redirects_gone_total{alias=\"%s\"} 1\n",
		         alias);
		expect_has(__LINE__, "a long alias cut before a UTF-8 sequence",
		           text, want);
	}
	free(text);
	metrics_close(m);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_slots),
	UNIT_TEST(test_slots_full),
	UNIT_TEST(test_layout),
	UNIT_TEST(test_reader),
	UNIT_TEST(test_render),
	UNIT_TEST(test_alias_table),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "metrics", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}

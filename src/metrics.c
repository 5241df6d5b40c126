/* metrics.c - shared-memory counters and their exposition; see metrics.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "refresh_state.h"
#include "util.h"

#define METRICS_MAGIC   0x7368657276656d31ULL /* "shervem1" */
#define METRICS_VERSION 3
/* Bytes of an alias kept for its label: a whole rule ("docs/\*" and a
 * 500-byte alias), so two aliases never share a label. */
#define ALIAS_KEEP   512
#define ALIAS_PROBES 16

/* The statuses sherve answers with; anything else counts as "other". */
static const int statuses[] = { 200, 206, 301, 302, 303, 304, 307, 308, 400,
	                        404, 405, 410, 412, 414, 416, 500, 0 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* Upper bounds in seconds, as Prometheus le labels. */
static const double bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	                         0.005,  0.01,    0.025,  0.05,  0.1,
	                         0.25,   0.5,     1,      2.5 };
#define NBUCKETS (sizeof(bounds) / sizeof(bounds[0]))

struct slot {
	_Atomic int64_t pid;
	_Atomic uint64_t requests;
	_Atomic uint64_t bytes;
	_Atomic uint64_t duration_ns;
	_Atomic uint64_t status[NSTATUS];
	_Atomic uint64_t buckets[NBUCKETS]; /* not cumulative */
} __attribute__((aligned(64)));

struct alias_count {
	_Atomic uint64_t hash; /* 0: free */
	_Atomic uint32_t ready;
	uint32_t len;
	_Atomic uint64_t count; /* redirects */
	_Atomic uint64_t gone;  /* 410s: the rule is gone or expired */
	char alias[ALIAS_KEEP];
} __attribute__((aligned(64)));

struct shm {
	uint64_t magic;
	uint32_t version, size;
	struct slot slots[METRICS_SLOTS];
	struct alias_count aliases[METRICS_ALIASES];
	_Atomic uint64_t aliases_other;
	_Atomic uint64_t gone_other;
};

struct metrics {
	struct shm *shm;
	struct slot *slot; /* NULL for a reader */
	int zeroed;        /* a reader with no file: shm is calloc'd */
};

/* 1 if fd is a metrics file of this version and layout. */
static int
shm_valid(int fd)
{
	struct shm hdr;
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof(struct shm) &&
	       pread(fd, &hdr, 16, 0) == 16 && hdr.magic == METRICS_MAGIC &&
	       hdr.version == METRICS_VERSION;
}

/*
 * Write a zeroed file beside path and rename it into place. Processes of
 * an older sherve keep their mapping of the old inode (never truncated
 * under them); they just stop adding to the new totals.
 */
static int
shm_create(const char *path)
{
	char tmp[4112];
	struct shm hdr;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	(void)unlink(tmp);
	/* 0666 less the umask, as every file sherve creates. */
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0)
		return -1;
	memset(&hdr, 0, 16);
	hdr.magic = METRICS_MAGIC;
	hdr.version = METRICS_VERSION;
	hdr.size = (uint32_t)sizeof(struct shm);
	if (ftruncate(fd, (off_t)sizeof(struct shm)) != 0 ||
	    pwrite(fd, &hdr, 16, 0) != 16 || rename(tmp, path) != 0) {
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	return fd;
}

/*
 * The file is mapped and written through the mapping: a page the disk
 * has no block for raises SIGBUS when a count first lands on it (a new
 * slot, a new alias), on a full disk. ftruncate() leaves the file a
 * hole; allocate its blocks now, where a full disk is a clean error.
 * Returns fd, or -1 (closed, err set).
 */
static int
shm_blocks(int fd, const char *path, char *err, size_t errsz)
{
	int rc = posix_fallocate(fd, 0, (off_t)sizeof(struct shm));

	if (rc == 0 || rc == EOPNOTSUPP || rc == EINVAL)
		return fd;
	snprintf(err, errsz, "metrics: %s: %s", path, strerror(rc));
	close(fd);
	return -1;
}

/* Open, or create under an flock of the state dir; returns the fd. */
static int
shm_file(const char *dir, char *err, size_t errsz)
{
	char path[4096];
	int fd, dfd = -1;

	snprintf(path, sizeof(path), "%s/metrics.shm", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0 && shm_valid(fd))
		return shm_blocks(fd, path, err, errsz);
	if (fd >= 0)
		close(fd);
	/* Only one process may create it, or counts go to a lost inode. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    flock(dfd, LOCK_EX) != 0)
		goto fail;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0 && !shm_valid(fd)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 && (fd = shm_create(path)) < 0)
		goto fail;
	close(dfd);
	return shm_blocks(fd, path, err, errsz);
fail:
	snprintf(err, errsz, "metrics: %s: %s", path, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return -1;
}

static int
pid_dead(int64_t pid)
{
	return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Take a free slot, or one whose owner died (its counts carry on). */
static struct slot *
slot_claim(struct shm *shm)
{
	int64_t me = (int64_t)getpid(), cur;
	size_t i;

	for (i = 0; i < METRICS_SLOTS; i++) {
		cur = atomic_load(&shm->slots[i].pid);
		if (cur == me)
			return &shm->slots[i];
		if ((cur == 0 || pid_dead(cur)) &&
		    atomic_compare_exchange_strong(&shm->slots[i].pid, &cur,
		                                   me))
			return &shm->slots[i];
	}
	return NULL;
}

int
metrics_open(const char *state_dir, struct metrics **out, char *err,
             size_t errsz)
{
	struct metrics *m;
	void *p;
	int fd;

	*out = NULL;
	if ((fd = shm_file(state_dir, err, errsz)) < 0)
		return SH_EIO;
	p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED,
	         fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errsz, "metrics: mmap: %s", strerror(errno));
		return SH_EIO;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		munmap(p, sizeof(struct shm));
		return SH_ENOMEM;
	}
	m->shm = p;
	/* With every slot busy, share the last one: atomics keep it exact. */
	if ((m->slot = slot_claim(m->shm)) == NULL)
		m->slot = &m->shm->slots[METRICS_SLOTS - 1];
	*out = m;
	return SH_OK;
}

int
metrics_open_reader(const char *state_dir, struct metrics **out)
{
	char path[4096];
	struct metrics *m;
	void *p = MAP_FAILED;
	int fd;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return SH_ENOMEM;
	snprintf(path, sizeof(path), "%s/metrics.shm", state_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (shm_valid(fd))
			p = mmap(NULL, sizeof(struct shm), PROT_READ,
			         MAP_SHARED, fd, 0);
		close(fd);
	}
	if (p != MAP_FAILED) {
		m->shm = p;
	} else if ((m->shm = calloc(1, sizeof(struct shm))) != NULL) {
		m->zeroed = 1; /* nothing counted yet: all zero */
	} else {
		free(m);
		return SH_ENOMEM;
	}
	*out = m;
	return SH_OK;
}

void
metrics_close(struct metrics *m)
{
	int64_t me;

	if (m == NULL)
		return;
	if (m->slot != NULL) {
		me = (int64_t)getpid();
		(void)atomic_compare_exchange_strong(&m->slot->pid, &me, 0);
	}
	if (m->zeroed)
		free(m->shm);
	else
		munmap(m->shm, sizeof(struct shm));
	free(m);
}

#define ADD(field, n)                                                          \
	atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)

void
metrics_request(struct metrics *m, int status, uint64_t bytes, uint64_t ns)
{
	struct slot *s;
	size_t i, b;

	if (m == NULL)
		return;
	s = m->slot;
	for (i = 0; i < NSTATUS - 1 && statuses[i] != status; i++)
		;
	for (b = 0; b < NBUCKETS && (double)ns / 1e9 > bounds[b]; b++)
		;
	ADD(s->requests, 1);
	ADD(s->bytes, bytes);
	ADD(s->duration_ns, ns);
	ADD(s->status[i], 1);
	if (b < NBUCKETS)
		ADD(s->buckets[b], 1);
}

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h != 0 ? h : 1;
}

/* The alias table's entry of alias (claimed if new), or NULL: full. */
static struct alias_count *
alias_entry(struct metrics *m, const char *alias, size_t len)
{
	uint64_t h, cur;
	size_t i, keep = len < ALIAS_KEEP ? len : ALIAS_KEEP;

	/* Never cut a UTF-8 sequence: a label must stay valid UTF-8. */
	if (keep < len)
		while (keep > 0 && ((unsigned char)alias[keep] & 0xc0) == 0x80)
			keep--;
	h = fnv1a(alias, len);
	for (i = 0; i < ALIAS_PROBES; i++) {
		struct alias_count *e =
		        &m->shm->aliases[(h + i) % METRICS_ALIASES];

		cur = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (cur == 0) {
			if (!atomic_compare_exchange_strong(&e->hash, &cur,
			                                    h) &&
			    cur != h)
				continue;
			if (cur == 0) {
				/* We own the entry: name it, then publish. */
				memcpy(e->alias, alias, keep);
				e->len = (uint32_t)keep;
				atomic_store_explicit(&e->ready, 1,
				                      memory_order_release);
			}
		} else if (cur != h) {
			continue;
		}
		return e;
	}
	return NULL;
}

/* One redirect (gone 0) or 410 (gone 1) under alias. */
static void
count_alias(struct metrics *m, const char *alias, size_t len, int gone)
{
	struct alias_count *e;

	if (m == NULL)
		return;
	if ((e = alias_entry(m, alias, len)) != NULL)
		ADD(*(gone ? &e->gone : &e->count), 1);
	else
		ADD(*(gone ? &m->shm->gone_other : &m->shm->aliases_other), 1);
}

void
metrics_redirect(struct metrics *m, const char *alias, size_t len)
{
	count_alias(m, alias, len, 0);
}

void
metrics_gone(struct metrics *m, const char *alias, size_t len)
{
	count_alias(m, alias, len, 1);
}

struct text {
	char *p;
	size_t len, cap;
	int failed;
};

static void put(struct text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (t->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = t->cap * 2 + (size_t)n;
			char *np = realloc(t->p, cap);

			if (np == NULL) {
				t->failed = 1;
				return;
			}
			t->p = np;
			t->cap = cap;
		}
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_label(struct text *t, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			put(t, "\\%c", s[i]);
		else if (s[i] == '\n')
			put(t, "\\n");
		else
			put(t, "%c", s[i]);
	}
}

static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Sum every slot into one, for exposition. */
static void
sum_slots(const struct shm *shm, uint64_t *req, uint64_t *bytes, uint64_t *ns,
          uint64_t st[NSTATUS], uint64_t bk[NBUCKETS])
{
	size_t i, j;

	*req = *bytes = *ns = 0;
	memset(st, 0, NSTATUS * sizeof(st[0]));
	memset(bk, 0, NBUCKETS * sizeof(bk[0]));
	for (i = 0; i < METRICS_SLOTS; i++) {
		const struct slot *s = &shm->slots[i];

		*req += atomic_load_explicit(&s->requests,
		                             memory_order_relaxed);
		*bytes += atomic_load_explicit(&s->bytes, memory_order_relaxed);
		*ns += atomic_load_explicit(&s->duration_ns,
		                            memory_order_relaxed);
		for (j = 0; j < NSTATUS; j++)
			st[j] += atomic_load_explicit(&s->status[j],
			                              memory_order_relaxed);
		for (j = 0; j < NBUCKETS; j++)
			bk[j] += atomic_load_explicit(&s->buckets[j],
			                              memory_order_relaxed);
	}
}

static void
render_requests(struct text *t, const struct shm *shm)
{
	uint64_t req, bytes, ns, st[NSTATUS], bk[NBUCKETS], cum = 0;
	size_t i;

	sum_slots(shm, &req, &bytes, &ns, st, bk);
	family(t, "sherve_requests_total", "counter", "Requests answered.");
	put(t, "sherve_requests_total %llu\n", (unsigned long long)req);
	family(t, "sherve_responses_total", "counter",
	       "Responses by HTTP status.");
	for (i = 0; i < NSTATUS; i++) {
		if (st[i] == 0)
			continue;
		if (statuses[i] != 0)
			put(t, "sherve_responses_total{status=\"%d\"} %llu\n",
			    statuses[i], (unsigned long long)st[i]);
		else
			put(t,
			    "sherve_responses_total{status=\"other\"} %llu\n",
			    (unsigned long long)st[i]);
	}
	family(t, "sherve_response_bytes_total", "counter",
	       "Bytes written to the web server, headers included.");
	put(t, "sherve_response_bytes_total %llu\n", (unsigned long long)bytes);
	family(t, "sherve_request_duration_seconds", "histogram",
	       "Time sherve spent handling a request.");
	for (i = 0; i < NBUCKETS; i++) {
		cum += bk[i];
		put(t,
		    "sherve_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    bounds[i], (unsigned long long)cum);
	}
	/* A request in flight has counted itself but maybe not its bucket
	 * yet: +Inf must never be below a finite bucket. */
	if (cum > req)
		req = cum;
	put(t, "sherve_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)req);
	put(t, "sherve_request_duration_seconds_sum %.9f\n", (double)ns / 1e9);
	put(t, "sherve_request_duration_seconds_count %llu\n",
	    (unsigned long long)req);
}

/*
 * One counter per alias of the table: the redirects, or the 410s. An
 * alias that has only ever answered 410 gets no redirects line.
 */
static void
alias_counters(struct text *t, const struct shm *shm, const char *name,
               int gone)
{
	size_t i;

	for (i = 0; i < METRICS_ALIASES; i++) {
		const struct alias_count *e = &shm->aliases[i];
		uint64_t n = atomic_load(gone ? &e->gone : &e->count);

		if (!atomic_load_explicit(&e->ready, memory_order_acquire) ||
		    (n == 0 && (gone || atomic_load(&e->gone) > 0)))
			continue;
		put(t, "%s{alias=\"", name);
		put_label(t, e->alias, e->len);
		put(t, "\"} %llu\n", (unsigned long long)n);
	}
}

static void
render_aliases(struct text *t, const struct shm *shm)
{
	family(t, "sherve_redirects_served_total", "counter",
	       "Redirects served, by alias.");
	alias_counters(t, shm, "sherve_redirects_served_total", 0);
	family(t, "sherve_redirects_served_other_total", "counter",
	       "Redirects served for aliases beyond the per-alias table.");
	put(t, "sherve_redirects_served_other_total %llu\n",
	    (unsigned long long)atomic_load(&shm->aliases_other));
	family(t, "sherve_redirects_gone_total", "counter",
	       "410 Gone answered for gone or expired rules, by alias.");
	alias_counters(t, shm, "sherve_redirects_gone_total", 1);
	family(t, "sherve_redirects_gone_other_total", "counter",
	       "410 Gone answered for aliases beyond the per-alias table.");
	put(t, "sherve_redirects_gone_other_total %llu\n",
	    (unsigned long long)atomic_load(&shm->gone_other));
}

static void
render_store(struct text *t, struct store *s)
{
	struct refresh_state *st = calloc(1, sizeof(*st));

	if (st != NULL && s != NULL && refresh_state_load(s, st) != SH_OK)
		memset(st, 0, sizeof(*st));
	family(t, "sherve_redirects_defined", "gauge",
	       "Aliases in the stored redirect map.");
	put(t, "sherve_redirects_defined %zu\n", s ? store_count(s) : 0);
	family(t, "sherve_refresh_total", "counter",
	       "Refreshes of the redirect map, by result.");
	put(t, "sherve_refresh_total{result=\"updated\"} %llu\n",
	    (unsigned long long)(st ? st->updated_total : 0));
	put(t, "sherve_refresh_total{result=\"not_modified\"} %llu\n",
	    (unsigned long long)(st ? st->not_modified_total : 0));
	put(t, "sherve_refresh_total{result=\"failed\"} %llu\n",
	    (unsigned long long)(st ? st->failed_total : 0));
	family(t, "sherve_refresh_last_success_timestamp_seconds", "gauge",
	       "Unix time of the last refresh that stored a map.");
	put(t, "sherve_refresh_last_success_timestamp_seconds %llu\n",
	    (unsigned long long)(st ? st->last_success : 0));
	if (st == NULL)
		t->failed = 1;
	free(st);
}

/* The kept versions (store.h): which is current, a pin, how many. */
static void
render_versions(struct text *t, struct store *s)
{
	struct store_vstate st;

	if (s == NULL || store_versions_state(s, &st) != SH_OK)
		memset(&st, 0, sizeof(st));
	family(t, "sherve_map_version", "gauge",
	       "The version of the map being served (0: none kept).");
	put(t, "sherve_map_version %llu\n", (unsigned long long)st.current);
	family(t, "sherve_map_pinned", "gauge",
	       "1 while sherve rollback pins the version served.");
	put(t, "sherve_map_pinned %d\n", st.pinned ? 1 : 0);
	family(t, "sherve_map_versions", "gauge",
	       "Versions of the map kept (keep-versions bounds them).");
	put(t, "sherve_map_versions %llu\n", (unsigned long long)st.count);
}

char *
metrics_render(struct metrics *m, struct store *s, size_t *len)
{
	struct text t = { NULL, 0, 0, 0 };

	if ((t.p = malloc(t.cap = 16384)) == NULL)
		return NULL;
	t.p[0] = '\0';
	render_requests(&t, m->shm);
	render_aliases(&t, m->shm);
	render_store(&t, s);
	render_versions(&t, s);
	family(&t, "sherve_build_info", "gauge", "The running sherve.");
	put(&t, "sherve_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	if (t.failed) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}

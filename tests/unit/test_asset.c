/*
 * test_asset.c - asset_open() beneath a temporary webroot, as a table: a
 * file, a nested one, a directory's index.html with and without the
 * slash, a directory without index.html, a file asked for with a slash,
 * a symlink out of the webroot, a FIFO (refused without hanging), a
 * file without read permission (as nobody when run as root); then
 * asset_sibling() (a newer sibling taken, an older one ignored),
 * asset_read_first() and asset_stream() into a buffer sink.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asset.h"

static char dir[] = "/tmp/sherve-asset.XXXXXX";
static char www[64];
static int root = -1;

static int
file_in(const char *rel, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", www, rel);
	return unit_write_file(path, text);
}

/* Set rel's mtime to now + delta seconds. */
static int
age(const char *rel, long delta)
{
	struct timeval tv[2];
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", www, rel);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec += delta;
	tv[1] = tv[0];
	return utimes(path, tv);
}

static int
suite_init(void)
{
	char p[256];

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(www, sizeof(www), "%s/www", dir);
	snprintf(p, sizeof(p), "%s/outside.txt", dir);
	if (mkdir(www, 0755) != 0 || unit_write_file(p, "OUTSIDE\n") != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/sub", www);
	if (mkdir(p, 0755) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/empty", www);
	if (mkdir(p, 0755) != 0)
		return -1;
	if (file_in("a.txt", "0123456789") != 0 ||
	    file_in("sub/index.html", "<p>sub</p>\n") != 0 ||
	    file_in("sub/page.html", "<p>page</p>\n") != 0 ||
	    file_in("secret.txt", "S\n") != 0 ||
	    file_in("a.txt.gz", "GZ") != 0 || file_in("a.txt.br", "BR") != 0 ||
	    age("a.txt", -100) != 0 || age("a.txt.gz", 0) != 0 ||
	    age("a.txt.br", -200) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/secret.txt", www);
	if (chmod(p, 0) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/out-link.txt", www);
	if (symlink("../outside.txt", p) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/fifo", www);
	if (mkfifo(p, 0644) != 0)
		return -1;
	root = open(www, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return root >= 0 ? 0 : -1;
}

static int
suite_cleanup(void)
{
	if (root >= 0)
		close(root);
	return unit_rmtree(dir);
}

static void
test_open(void)
{
	static const struct {
		unsigned line;
		const char *desc, *rel;
		int slash, rc, isdir;
		const char *path;
		long long size;
	} t[] = {
		{ __LINE__, "a file", "a.txt", 0, ASSET_OK, 0, "a.txt", 10 },
		{ __LINE__, "a nested file", "sub/page.html", 0, ASSET_OK, 0,
		  "sub/page.html", 12 },
		{ __LINE__, "a directory with its slash", "sub", 1, ASSET_OK, 1,
		  "sub/index.html", 11 },
		{ __LINE__, "a directory without it", "sub", 0, ASSET_OK, 1,
		  "sub/index.html", 11 },
		{ __LINE__, "the webroot itself", "", 1, ASSET_NOT_FOUND, 0,
		  NULL, 0 },
		{ __LINE__, "a directory without index.html", "empty", 1,
		  ASSET_NOT_FOUND, 0, NULL, 0 },
		{ __LINE__, "a file asked for with a slash", "a.txt", 1,
		  ASSET_NOT_FOUND, 0, NULL, 0 },
		{ __LINE__, "nothing there", "nope.txt", 0, ASSET_NOT_FOUND, 0,
		  NULL, 0 },
		{ __LINE__, "a symlink out of the webroot", "out-link.txt", 0,
		  ASSET_NOT_FOUND, 0, NULL, 0 },
		{ __LINE__, "a FIFO", "fifo", 0, ASSET_NOT_FOUND, 0, NULL, 0 },
		{ __LINE__, "below a file", "a.txt/x", 0, ASSET_NOT_FOUND, 0,
		  NULL, 0 },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++) {
		struct asset a;
		int rc = asset_open(root, t[i].rel, t[i].slash, &a);

		expect_int(t[i].line, t[i].desc, t[i].rc, rc);
		if (rc != ASSET_OK)
			continue;
		expect_int(t[i].line, t[i].desc, t[i].isdir, a.dir);
		expect_str(t[i].line, t[i].desc, t[i].path, a.path);
		expect_int(t[i].line, t[i].desc, t[i].size, a.st.st_size);
		asset_close(&a);
		asset_close(&a);
		expect_int(t[i].line, "closed twice, safely", -1, a.fd);
	}
}

/* secret.txt as a user who may not read it: 0 ASSET_FORBIDDEN, else 1. */
static int
forbidden_as_user(void)
{
	struct asset a;
	int rc = asset_open(root, "secret.txt", 0, &a);

	if (rc == ASSET_OK)
		asset_close(&a);
	return rc == ASSET_FORBIDDEN ? 0 : 1;
}

/* Permissions are the admin's: 403, not 404. Root reads anything, so
 * as root the check runs in a child that became nobody. */
static void
test_forbidden(void)
{
	int st = 0;
	pid_t pid;

	if (geteuid() != 0) {
		expect_int(__LINE__, "a file without read permission", 0,
		           forbidden_as_user());
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(setgroups(0, NULL) == 0 &&
		                      setresgid(65534, 65534, 65534) == 0 &&
		                      setresuid(65534, 65534, 65534) == 0
		              ? forbidden_as_user()
		              : 2);
	require_true(__LINE__, "fork", pid > 0);
	expect_true(__LINE__, "a file without read permission, as nobody",
	            waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	                    WEXITSTATUS(st) == 0);
}

static void
test_sibling(void)
{
	struct asset a, v;

	require_true(__LINE__, "a.txt",
	             asset_open(root, "a.txt", 0, &a) == ASSET_OK);
	expect_int(__LINE__, "a newer .gz is taken", ASSET_OK,
	           asset_sibling(root, &a, ".gz", &v));
	expect_int(__LINE__, "... its size", 2, v.st.st_size);
	asset_close(&v);
	expect_int(__LINE__, "an older .br is ignored", ASSET_NOT_FOUND,
	           asset_sibling(root, &a, ".br", &v));
	expect_int(__LINE__, "no .zst", ASSET_NOT_FOUND,
	           asset_sibling(root, &a, ".zst", &v));
	asset_close(&a);
}

struct buf {
	char data[64];
	size_t len;
};

static int
buf_write(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;

	if (b->len + n > sizeof(b->data))
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void
test_read_stream(void)
{
	struct buf b = { { 0 }, 0 };
	struct sink s = { buf_write, &b, NULL };
	struct response *r = malloc(sizeof(*r));
	struct asset a;
	char first[4];

	require_true(__LINE__, "malloc", r != NULL);
	require_true(__LINE__, "a.txt",
	             asset_open(root, "a.txt", 0, &a) == ASSET_OK);
	expect_int(__LINE__, "the first bytes", 4,
	           asset_read_first(&a, first, sizeof(first)));
	expect_mem(__LINE__, "... are the file's", "0123", first, 4);
	resp_begin(r, &s, 206);
	expect_int(__LINE__, "a range streamed", 0, asset_stream(&a, 3, 4, r));
	expect_true(__LINE__, "... after the head",
	            b.len >= 4 && memcmp(b.data + b.len - 4, "3456", 4) == 0);
	expect_int(__LINE__, "past the end: the file is short", -1,
	           asset_stream(&a, 8, 4, r));
	asset_close(&a);
	free(r);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_open),
	UNIT_TEST(test_forbidden),
	UNIT_TEST(test_sibling),
	UNIT_TEST(test_read_stream),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "asset", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}

/*
 * fuzz_conf.c - conf_load() on an arbitrary config file: it either fails
 * with one line naming the file (or the setting) or yields settings that
 * are all inside their bounds.
 *
 * Input: the bytes of the file named by --config. SHERVE_* variables are
 * removed first, so the caller's environment cannot change the outcome,
 * and --config keeps sherve.conf beside the binary and in sysconfdir out.
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

extern char **environ;

static char path[1024];
static int fd = -1;

static void
remove_file(void)
{
	if (path[0] != '\0')
		unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char name[256];
	size_t i, n;

	(void)argc;
	(void)argv;
	/* unsetenv() reshuffles environ: restart the scan after each. */
	for (i = 0; environ[i] != NULL;) {
		if (strncmp(environ[i], "SHERVE_", 7) != 0) {
			i++;
			continue;
		}
		n = strcspn(environ[i], "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, environ[i]);
		unsetenv(name);
		i = 0;
	}
	snprintf(path, sizeof(path), "%s/fuzz_conf.XXXXXX",
	         tmp != NULL && tmp[0] == '/' && strlen(tmp) < 512 ? tmp
	                                                           : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		perror("fuzz_conf: mkstemp");
		abort();
	}
	atexit(remove_file);
	return 0;
}

/* A base-path-like value: "" or "/x" without a trailing '/'. */
static void
check_base(const char *v)
{
	size_t n = strlen(v);

	FUZZ_ASSERT(n == 0 || (v[0] == '/' && v[n - 1] != '/'));
	FUZZ_ASSERT(strstr(v, "//") == NULL && strpbrk(v, "%?") == NULL);
}

static void
check_str(const char *v)
{
	FUZZ_ASSERT(v != NULL && !str_has_ctl(v, strlen(v)));
}

static void
check_ok(const struct conf *c)
{
	struct stat st;

	check_str(c->webroot);
	check_str(c->redirects_url);
	check_str(c->state_dir);
	check_str(c->cache_control);
	check_str(c->redirect_cache_control);
	check_str(c->ca_bundle);
	check_str(c->listen);
	check_str(c->user);
	check_base(c->base_path);
	check_base(c->metrics_path);
	check_base(c->sendfile_prefix);
	FUZZ_ASSERT(c->state_dir[0] != '\0');
	FUZZ_ASSERT(c->webroot[0] == '\0' ||
	            (stat(c->webroot, &st) == 0 && S_ISDIR(st.st_mode)));
	FUZZ_ASSERT(c->sendfile_mode == SENDFILE_NONE || c->webroot[0] == '/');
	FUZZ_ASSERT(c->redirect_status == 301 || c->redirect_status == 302 ||
	            c->redirect_status == 303 || c->redirect_status == 307 ||
	            c->redirect_status == 308);
	FUZZ_ASSERT(c->log_level >= SH_LOG_DEBUG && c->log_level <= SH_LOG_ERROR);
	FUZZ_ASSERT(c->etag_inode == 0 || c->etag_inode == 1);
	FUZZ_ASSERT(c->precompressed == 0 || c->precompressed == 1);
	FUZZ_ASSERT(c->sendfile_mode <= SENDFILE_NGINX);
	FUZZ_ASSERT(c->cachebust <= CACHEBUST_NEVER);
	FUZZ_ASSERT(c->refresh_interval <= 604800);
	FUZZ_ASSERT(c->miss_refresh_interval <= 86400);
	FUZZ_ASSERT(c->max_shrink <= 100);
	FUZZ_ASSERT(c->fetch_timeout >= 1 && c->fetch_timeout <= 3600);
	FUZZ_ASSERT(c->connect_timeout >= 1 && c->connect_timeout <= 300);
	FUZZ_ASSERT(c->max_body >= 1024 && c->max_body <= (1ULL << 30));
	FUZZ_ASSERT(c->workers <= 1024);
	FUZZ_ASSERT(c->shutdown_grace >= 1 && c->shutdown_grace <= 3600);
	FUZZ_ASSERT(c->config_file != NULL &&
	            strcmp(c->config_file, path) == 0);
	FUZZ_ASSERT(c->nargs == 0 && !c->help && !c->version && !c->force);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a0[] = "sherve", a1[] = "--config", err[512];
	char *argv[] = { a0, a1, path, NULL };
	struct conf c;
	size_t n;
	int rc;

	if (fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(err, 'X', sizeof(err));
	rc = conf_load(&c, 3, argv, err, sizeof(err));
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == SH_OK) {
		FUZZ_ASSERT(err[0] == '\0');
		check_ok(&c);
		conf_free(&c);
		FUZZ_ASSERT(c.webroot == NULL && c.config_file == NULL);
		return 0;
	}
	FUZZ_ASSERT(rc == SH_EINVAL || rc == SH_ENOMEM);
	/* One line, naming the file or the setting at fault. */
	n = strlen(err);
	FUZZ_ASSERT(n > 0 && strchr(err, '\n') == NULL);
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0 ||
	            strncmp(err, "webroot: ", 9) == 0 ||
	            strncmp(err, "sendfile-mode: ", 15) == 0 ||
	            strncmp(err, "state-dir: ", 11) == 0 ||
	            strcmp(err, "out of memory") == 0);
	/* On error the struct is freed already. */
	FUZZ_ASSERT(c.webroot == NULL && c.config_file == NULL);
	return 0;
}

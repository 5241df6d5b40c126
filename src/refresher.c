/* refresher.c - a refresh as a process of its own; see refresher.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "refresher.h"
#include "util.h"

#define REFRESHER_EXE "/proc/self/exe"

extern char **environ;

/* NULL until refresher_init(): no refresh is started before. */
static const char *self_argv0;

void
refresher_init(const char *argv0)
{
	const char *base;
	char comm[16] = "";

	if (argv0 == NULL || argv0[0] == '\0')
		argv0 = "sherve"; /* exec'd with an empty argv */
	self_argv0 = argv0;
	/* Started through /proc/self/exe, the kernel named us "exe". */
	base = strrchr(argv0, '/') != NULL ? strrchr(argv0, '/') + 1 : argv0;
	if (prctl(PR_GET_NAME, comm, 0, 0, 0) == 0 &&
	    strcmp(comm, "exe") == 0 && base[0] != '\0')
		(void)prctl(PR_SET_NAME, base, 0, 0, 0);
}

/* Free env and its strings from index own on (the rest are environ's). */
static void
env_free(char **env, size_t own)
{
	size_t i;

	for (i = own; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * The child's environment: the worker's without its SHERVE_* variables,
 * then every setting of c and SHERVE_CONFIG empty (no file). The strings
 * from index *own on are allocated here (env_free()). NULL: no memory.
 * (i + 2: the settings are i entries, SHERVE_CONFIG and NULL follow.)
 */
static char **
child_env(const struct conf *c, size_t *own)
{
	size_t n = 0, k = 0, i;
	char **env;
	int len;

	while (environ != NULL && environ[n] != NULL)
		n++;
	for (i = 0; conf_env_entry(c, i, NULL, 0) > 0; i++)
		;
	if ((env = calloc(n + i + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "SHERVE_", 7) != 0)
			env[k++] = environ[i];
	*own = k;
	for (i = 0; (len = conf_env_entry(c, i, NULL, 0)) > 0; i++) {
		if ((env[k] = malloc((size_t)len + 1)) == NULL)
			goto fail;
		(void)conf_env_entry(c, i, env[k++], (size_t)len + 1);
	}
	if (len < 0 || (env[k++] = str_dup("SHERVE_CONFIG=")) == NULL)
		goto fail;
	return env;
fail:
	env_free(env, *own);
	return NULL;
}

/*
 * Standard streams on /dev/null (stderr too when detached), no other
 * descriptor, an empty signal mask, every disposition at its default,
 * and, detached, a session of its own. Returns 0, or an errno value.
 */
static int
child_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, int detached)
{
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	sigset_t none, all;
	int e;

	sigemptyset(&none);
	sigfillset(&all);
	e = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_addopen(fa, 1, "/dev/null",
		                                     O_WRONLY, 0);
	if (e == 0 && detached)
		e = posix_spawn_file_actions_addopen(fa, 2, "/dev/null",
		                                     O_WRONLY, 0);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	/* What sherve opens is close-on-exec; what it inherited from
	 * whoever started it may not be. */
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
	if (e == 0)
		e = posix_spawnattr_setsigmask(at, &none);
	if (e == 0)
		e = posix_spawnattr_setsigdefault(at, &all);
	if (e == 0)
		e = posix_spawnattr_setflags(
		        at,
		        (short)(flags | (detached ? POSIX_SPAWN_SETSID : 0)));
	return e;
}

/* A SIGCHLD ignored by whoever started us would reap the child unseen. */
static void
keep_child_status(void)
{
	struct sigaction sa;

	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
		sa.sa_handler = SIG_DFL;
		(void)sigaction(SIGCHLD, &sa, NULL);
	}
}

static const char *const mode_flag[] = {
	[REFRESHER_STARTUP] = "--startup",
	[REFRESHER_SCHEDULED] = "--scheduled",
	[REFRESHER_MISS] = "--miss",
	[REFRESHER_DETACHED] = "--scheduled",
};

int
refresher_start(const struct conf *c, enum refresher_mode m, pid_t *pid)
{
	char *argv[] = { (char *)self_argv0, "refresh", (char *)mode_flag[m],
		         NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	size_t own = 0;
	char **env;
	int e;

	if (self_argv0 == NULL)
		return SH_EINVAL; /* a program that is not sherve */
	if ((env = child_env(c, &own)) == NULL)
		return SH_ENOMEM;
	keep_child_status();
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto out_env;
	if ((e = posix_spawnattr_init(&at)) != 0)
		goto out_fa;
	if ((e = child_setup(&fa, &at, m == REFRESHER_DETACHED)) != 0)
		goto out;
	e = posix_spawn(pid, REFRESHER_EXE, &fa, &at, argv, env);
	/* No /proc: the binary by the name we were started with. */
	if (e == ENOENT || e == EACCES || e == ENOEXEC)
		e = strchr(self_argv0, '/') != NULL
		            ? posix_spawn(pid, self_argv0, &fa, &at, argv, env)
		            : posix_spawnp(pid, self_argv0, &fa, &at, argv,
		                           env);
out:
	posix_spawnattr_destroy(&at);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
out_env:
	env_free(env, own);
	if (e == 0)
		return SH_OK;
	errno = e;
	log_warn("refresh: cannot start %s refresh", mode_flag[m]);
	return SH_EIO;
}

/* What a refresh child's wait status says (see refresher_wait()). */
static int
status_code(int st)
{
	if (!WIFEXITED(st))
		return SH_EIO;
	switch (WEXITSTATUS(st)) {
	case EXIT_OK: return SH_OK;
	case EXIT_TEMPFAIL: return SH_EBUSY;
	case EXIT_CONFIG: return SH_EINVAL;
	default: return SH_EIO;
	}
}

int
refresher_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return SH_EIO;
	return status_code(st);
}

int
refresher_poll(pid_t pid, int *rc)
{
	pid_t r;
	int st;

	while ((r = waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return 0;
	*rc = r == pid ? status_code(st) : SH_EIO; /* r < 0: gone already */
	return 1;
}

/* guard.c - memory faults turned into an error return; see guard.h. */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "guard.h"
#include "util.h"

#define GUARD_WHY_MAX 160

/* One guard_run() in progress; they nest through prev. */
struct frame {
	sigjmp_buf jb;
	struct frame *prev;
};

/* The innermost guard_run() (a process of sherve runs one thread). The
 * message is not in the frame: an automatic object written between
 * sigsetjmp and siglongjmp would be indeterminate after the jump. */
static struct frame *top;
static char fault_why[GUARD_WHY_MAX];

static struct sigaction old_bus, old_segv;
static int installed; /* tried: install_rc holds the outcome */
static int install_rc = -1;

/* strcpy for a signal handler: no locale, no allocation. */
static void
set_why(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < sizeof(fault_why); i++)
		fault_why[i] = s[i];
	fault_why[i] = '\0';
}

static void
leave(struct frame *f)
{
	top = f->prev;
	siglongjmp(f->jb, 1);
}

static void
on_fault(int sig, siginfo_t *si, void *uc)
{
	struct frame *f = top;

	(void)uc;
	if (f != NULL) {
		set_why(sig == SIGBUS ? "SIGBUS: a read past the end of the "
		                        "mapped file (truncated, or a "
		                        "damaged page pointing past it)"
		                      : "SIGSEGV: a read outside the mapped "
		                        "file (a damaged page)");
		leave(f);
	}
	/* Not inside a guard: a bug, or someone's kill. Put back what was
	 * there (the default, or a sanitizer's handler) and let it act:
	 * a fault happens again when this returns; a signal sent by kill
	 * (si_code <= 0) must be sent again. */
	(void)sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL);
	if (si == NULL || si->si_code <= 0)
		(void)raise(sig);
}

static void
install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	/* SA_NODEFER: the signal is not blocked inside the handler, so the
	 * jump out of it needs no sigprocmask to unblock it. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_bus) != 0 ||
	    sigaction(SIGSEGV, &sa, &old_segv) != 0)
		return;
	install_rc = 0;
}

int
guard_install(void)
{
	/* Once per process, which runs one thread. */
	if (!installed) {
		installed = 1;
		install();
	}
	return install_rc;
}

int
guard_run(int (*fn)(void *ctx), void *ctx, char *why, size_t whysz)
{
	struct frame f;
	int rc;

	if (whysz > 0)
		why[0] = '\0';
	if (guard_install() != 0)
		return fn(ctx); /* no handlers: a fault stays fatal */
	f.prev = top;
	if (sigsetjmp(f.jb, 0) != 0) {
		if (whysz > 0)
			(void)str_copy(why, fault_why, whysz);
		return GUARD_FAULT;
	}
	top = &f;
	rc = fn(ctx);
	top = f.prev;
	return rc;
}

void
guard_fail(const char *why)
{
	struct frame *f = top;

	if (f == NULL)
		return;
	set_why(why);
	leave(f);
}

/*
 * guard.h - run a function with memory faults turned into an error.
 *
 * The store maps its file: a read past the end of a file truncated under
 * it raises SIGBUS, and a scribbled page can send LMDB to an address
 * outside the map (SIGSEGV) or into one of its assertions (abort). None
 * of these may take a worker down with the assets it serves, nor make an
 * admin command die by a signal. guard_run() calls a function; such a
 * fault inside it returns to guard_run() (siglongjmp), which answers
 * GUARD_FAULT with what happened.
 *
 * What is safe after the jump is the caller's business, and only the
 * caller can know it: the function was cut short at any instruction
 * reading the faulting memory. store.c (see there) abandons the
 * transaction and never reads that environment again.
 *
 * Caveats:
 *  - The handlers are process-wide (installed once, by guard_run() or
 *    guard_install()), and so is the jump target: for a process that runs
 *    one thread, as every sherve process does (a fault in a second thread
 *    would jump to the first one's stack).
 *  - A fault outside any guard_run() is not ours: the handler restores the
 *    disposition it found (the default, or a sanitizer's) and returns, so
 *    the faulting instruction runs again under it: a bug still crashes.
 *  - The jump skips whatever the function was doing: it must hold no lock
 *    and own no resource that it alone could release, at any point where
 *    it may fault (hold them in a struct the caller can clean up).
 *  - No sigprocmask per call: handlers run with SA_NODEFER, so the jump
 *    leaves the signal mask as it was. Cost: a sigsetjmp (no system call).
 */
#ifndef SHERVE_GUARD_H
#define SHERVE_GUARD_H

#include <stddef.h>

#define GUARD_FAULT (-1000) /* guard_run(): the function faulted */

/*
 * Install the SIGBUS and SIGSEGV handlers (once per process; later calls
 * do nothing). Returns 0, or -1 with errno set.
 */
int guard_install(void);

/*
 * Call fn(ctx) and return what it returns, or GUARD_FAULT if it faulted
 * (then why holds "SIGBUS (a read past the end of a file)" or the message
 * given to guard_fail()). Calls may nest: a fault returns to the innermost.
 */
int guard_run(int (*fn)(void *ctx), void *ctx, char *why, size_t whysz);

/*
 * Inside fn: leave it now, as a fault would, with why as the message
 * (LMDB's assertion hook calls it). Outside any guard_run() it returns,
 * and the caller goes on to do what it would have done (abort()).
 */
void guard_fail(const char *why);

#endif

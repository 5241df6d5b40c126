/*
 * refresher.h - a refresh as a process of its own: `sherve refresh --MODE`,
 * executed afresh with the worker's settings, never a forked copy of the
 * worker doing the work.
 *
 * A worker never fetches, parses or writes the map itself. libcurl (its
 * resolver runs in a thread of its own), OpenSSL and LMDB's write
 * transaction run in a new program image, so no library state crosses a
 * fork(): no lock another thread held, no thread curl left behind. The
 * heap a parse grows goes with the child, and a worker's private memory
 * stays that of a reader. The child is posix_spawn()ed: the parent waits
 * until the exec (vfork semantics), no page table is copied, and there is
 * no moment when the child holds copies of the worker's descriptors.
 *
 * What the child runs and gets:
 *  - the binary: /proc/self/exe, the very image the worker runs, even
 *    after an upgrade replaced the file (the new one could read settings
 *    or the store another way); argv[0] (PATH searched if it holds no
 *    '/') only when /proc is not mounted. Its argv is the worker's
 *    argv[0], "refresh" and the mode (ps shows `sherve refresh
 *    --scheduled`), and it names itself after argv[0] (refresher_init()), as
 *    an exec of /proc/self/exe would name it "exe".
 *  - the settings: every one, as the worker holds it, in the environment
 *    (conf_env_entry(): SHERVE_NAME=value, the values a file, the
 *    environment or the command line gave the worker), with SHERVE_CONFIG
 *    empty, so that no file is read: the child sees the worker's
 *    configuration exactly, even when the file was edited since (a SIGHUP
 *    gives both the new one). The environment, not the command line:
 *    /proc/PID/environ is readable by the owner only, and a redirects-url
 *    may carry a token. The worker's other SHERVE_* variables are left
 *    out, the rest of its environment (http_proxy, ...) is kept.
 *  - descriptors: stdin and stdout on /dev/null, stderr the worker's (its
 *    log), or all three on /dev/null for a detached refresh; no other.
 *    Everything a worker opens is close-on-exec (the listener, the
 *    connections, epoll, the timerfd, the store, the metrics, the claim),
 *    and what it inherited without that flag from whoever started it is
 *    closed in the child (posix_spawn_file_actions_addclosefrom_np()).
 *  - signals: an empty mask and every disposition at its default. A
 *    worker blocks SIGTERM outside its wait and ignores SIGPIPE; the
 *    child must die of the SIGTERM schedule_stop() sends.
 *  - priority: the worker's; `refresh --scheduled` lowers its own.
 *
 * Caveats: Linux (/proc/self/exe, prctl). Call from a process that runs
 * no thread other than its own (sherve creates none). The child's exit
 * status (exitcode.h) says what became of it; refresher_wait() reads it.
 */
#ifndef SHERVE_REFRESHER_H
#define SHERVE_REFRESHER_H

#include <sys/types.h>

#include "conf.h"

enum refresher_mode {
	REFRESHER_STARTUP,   /* refresh --startup: the store never held a map */
	REFRESHER_SCHEDULED, /* refresh --scheduled: a worker's timer */
	REFRESHER_MISS,      /* refresh --miss: a worker's unknown alias */
	REFRESHER_DETACHED,  /* refresh --scheduled after a CGI answer: in its
	                    own  session, standard streams on /dev/null */
};

/*
 * main() calls this first with its argv[0]: what a refresh child is
 * called, and the binary when /proc/self/exe cannot be run. In a process
 * that was started through /proc/self/exe (its name is then "exe"), it
 * also renames the process after argv[0], so that ps, top and pgrep see
 * "sherve". Until it is called, no refresh is started: a program that
 * is not sherve (a unit test) would run itself. A test program that
 * calls it must answer `refresh --MODE` as sherve would.
 */
void refresher_init(const char *argv0);

/*
 * Start `sherve refresh --MODE` with the settings of c (see above).
 * Returns SH_OK with *pid set, SH_EINVAL (refresher_init() was not
 * called), SH_ENOMEM, or SH_EIO (logged: the spawn failed).
 */
int refresher_start(const struct conf *c, enum refresher_mode m, pid_t *pid);

/*
 * Wait for pid to end. Returns what its exit status says: SH_OK (0: the
 * map was stored, or the upstream answered 304), SH_EBUSY (75: nothing to
 * do now: not due, rate-limited, or another process refreshed), SH_EINVAL
 * (78: a setting), or SH_EIO (it failed, or a signal ended it; the child
 * logged why).
 */
int refresher_wait(pid_t pid);

/*
 * refresher_wait() without the wait: 1 with *rc set when pid has ended (and
 * is reaped), 0 while it runs.
 */
int refresher_poll(pid_t pid, int *rc);

#endif

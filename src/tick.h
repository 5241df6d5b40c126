/*
 * tick.h - "at most once per clock tick": the one test for work a hot
 * path may do only when the coarse monotonic clock has moved on (a
 * webroot re-check, a state-dir re-check, a rate-limited log line).
 *
 * CLOCK_MONOTONIC_COARSE is read from the vDSO: no system call; its tick
 * is the kernel's jiffy (1-4 ms), so a change is seen within that.
 *
 * Caveats: inline, because webroot_fd() asks it on every request; tests
 * define TICK_CLOCK(ts) before including this header (through the .c
 * under test) to drive the clock by hand.
 */
#ifndef SHERVE_TICK_H
#define SHERVE_TICK_H

#include <time.h>

#ifndef TICK_CLOCK
#define TICK_CLOCK(ts) clock_gettime(CLOCK_MONOTONIC_COARSE, (ts))
#endif

/*
 * 1 if the clock has ticked since *last, recording the new tick in
 * *last; 0 if it is still the tick *last holds. A clock that cannot be
 * read counts as a new tick (*last unchanged): the work is done rather
 * than skipped forever. *last starts zeroed.
 */
static inline int
tick_new(struct timespec *last)
{
	struct timespec now;

	if (TICK_CLOCK(&now) != 0)
		return 1;
	if (now.tv_sec == last->tv_sec && now.tv_nsec == last->tv_nsec)
		return 0;
	*last = now;
	return 1;
}

#endif

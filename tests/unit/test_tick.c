/*
 * test_tick.c - tick.h: "at most once per clock tick", with the clock
 * driven by hand (TICK_CLOCK), so ticks are exact, not slept for.
 */
#include "unit.h"

#include <errno.h>
#include <time.h>

static struct timespec fake_now;
static int clock_fails;

static int
fake_clock(struct timespec *ts)
{
	if (clock_fails) {
		errno = EINVAL;
		return -1;
	}
	*ts = fake_now;
	return 0;
}

#define TICK_CLOCK(ts) fake_clock(ts)
#include "../../src/tick.h"

static void
test_once_per_tick(void)
{
	struct timespec last = { 0, 0 };

	fake_now.tv_sec = 100;
	fake_now.tv_nsec = 4000000;
	expect_int(__LINE__, "the first call is a new tick", 1,
	           tick_new(&last));
	expect_int(__LINE__, "... and records it", 4000000, (int)last.tv_nsec);
	expect_int(__LINE__, "the same tick again: no", 0, tick_new(&last));
	expect_int(__LINE__, "... nor a third time", 0, tick_new(&last));
	fake_now.tv_nsec = 8000000;
	expect_int(__LINE__, "the next tick (nsec moved)", 1, tick_new(&last));
	expect_int(__LINE__, "... once", 0, tick_new(&last));
	fake_now.tv_sec = 101;
	expect_int(__LINE__, "a new second, same nsec", 1, tick_new(&last));
	expect_int(__LINE__, "... once", 0, tick_new(&last));
}

static void
test_clock_fails(void)
{
	struct timespec last = { 7, 7 };

	fake_now.tv_sec = 7;
	fake_now.tv_nsec = 7;
	clock_fails = 1;
	expect_int(__LINE__, "an unreadable clock: do the work", 1,
	           tick_new(&last));
	expect_int(__LINE__, "... every time", 1, tick_new(&last));
	expect_int(__LINE__, "... and *last is unchanged", 7, (int)last.tv_sec);
	clock_fails = 0;
	expect_int(__LINE__, "readable again: the recorded tick holds", 0,
	           tick_new(&last));
}

static void
test_independent(void)
{
	struct timespec a = { 0, 0 }, b = { 0, 0 };

	fake_now.tv_sec = 200;
	fake_now.tv_nsec = 0;
	expect_int(__LINE__, "a: new", 1, tick_new(&a));
	expect_int(__LINE__, "b keeps its own tick: new too", 1, tick_new(&b));
	expect_int(__LINE__, "a: same", 0, tick_new(&a));
	expect_int(__LINE__, "b: same", 0, tick_new(&b));
}

static const struct unit_test tick_tests[] = {
	UNIT_TEST(test_once_per_tick),
	UNIT_TEST(test_clock_fails),
	UNIT_TEST(test_independent),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "tick", NULL, NULL, tick_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}

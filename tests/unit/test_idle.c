/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/idle.h: the worker's spin-then-sleep policy on a
 * fake clock (ns here; the worker uses TSC cycles), no sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "idle.h"

#define US UINT64_C(1000)

static const struct xvs_idle_params P = {
	.spin = XVS_IDLE_SPIN_US * US,
	.spin_fd = XVS_IDLE_SPIN_FD_US * US,
	.sleep_min_ns = XVS_IDLE_SLEEP_MIN_NS,
	.sleep_max_ns = XVS_IDLE_SLEEP_MAX_NS,
	.sleep_intr_ns = XVS_IDLE_SLEEP_INTR_NS,
};

/* The figures the worker and doc/architecture.md rely on. */
static void
test_idle_defaults(void **state)
{
	(void)state;
	assert_int_equal(XVS_IDLE_SPIN_US, 200);
	assert_int_equal(XVS_IDLE_SPIN_FD_US, 10);
	assert_true(XVS_IDLE_SPIN_FD_US < XVS_IDLE_SPIN_US);
	assert_int_equal(XVS_IDLE_SLEEP_MIN_NS, 20 * US);
	assert_int_equal(XVS_IDLE_SLEEP_MAX_NS, 2000 * US);
	assert_true(XVS_IDLE_SLEEP_MIN_NS < XVS_IDLE_SLEEP_MAX_NS);
}

static void
test_idle_spins_before_sleeping(void **state)
{
	struct xvs_idle s;
	uint64_t t0 = 1000000 * US;

	(void)state;
	xvs_idle_init(&s, &P, t0);
	/* PMD queues (or a mix): the full spin period, to the nanosecond */
	assert_false(xvs_idle_may_sleep(&s, &P, t0, false));
	assert_false(xvs_idle_may_sleep(&s, &P, t0 + 200 * US - 1, false));
	assert_true(xvs_idle_may_sleep(&s, &P, t0 + 200 * US, false));
	/* taps only: each empty look is a syscall, so a short spin */
	assert_false(xvs_idle_may_sleep(&s, &P, t0 + 10 * US - 1, true));
	assert_true(xvs_idle_may_sleep(&s, &P, t0 + 10 * US, true));
	/* work restarts the spin */
	xvs_idle_work(&s, &P, t0 + 150 * US);
	assert_false(xvs_idle_may_sleep(&s, &P, t0 + 300 * US, false));
	assert_true(xvs_idle_may_sleep(&s, &P, t0 + 350 * US, false));
}

static void
test_idle_timed_sleeps_double_up_to_max(void **state)
{
	static const uint64_t want[] = {20, 40, 80, 160, 320, 640, 1280, 2000, 2000, 2000};
	struct xvs_idle s;
	uint64_t now = 5 * US;

	(void)state;
	xvs_idle_init(&s, &P, now);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t t = xvs_idle_timeout_ns(&s, &P, false);

		assert_int_equal(t, want[i] * US);
		assert_true(t <= P.sleep_max_ns);
		now += t;
		xvs_idle_woke(&s, &P, now, false, false);
		/* timed out: it looks once, then may sleep again at once */
		assert_true(xvs_idle_may_sleep(&s, &P, now, false));
		assert_true(xvs_idle_may_sleep(&s, &P, now, true));
	}
	/* work resets the timeout */
	xvs_idle_work(&s, &P, now);
	assert_int_equal(xvs_idle_timeout_ns(&s, &P, false), 20 * US);
}

static void
test_idle_woken_spins_again(void **state)
{
	struct xvs_idle s;
	uint64_t now = 0;

	(void)state;
	xvs_idle_init(&s, &P, now);
	now += 200 * US;
	xvs_idle_woke(&s, &P, now, false, false);
	assert_int_equal(xvs_idle_timeout_ns(&s, &P, false), 40 * US);
	/* an fd woke it: a full spin before the next sleep, and no growth */
	now += 40 * US;
	xvs_idle_woke(&s, &P, now, true, false);
	assert_int_equal(xvs_idle_timeout_ns(&s, &P, false), 40 * US);
	assert_false(xvs_idle_may_sleep(&s, &P, now + 199 * US, false));
	assert_true(xvs_idle_may_sleep(&s, &P, now + 200 * US, false));
}

static void
test_idle_all_interrupts_sleep_long(void **state)
{
	struct xvs_idle s;

	(void)state;
	xvs_idle_init(&s, &P, 0);
	/* every queue can wake the worker: one long sleep, no backoff */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(xvs_idle_timeout_ns(&s, &P, true), 100000 * US);
		xvs_idle_woke(&s, &P, (uint64_t)(i + 1) * 100000 * US, false, true);
	}
	assert_int_equal(xvs_idle_timeout_ns(&s, &P, false), 20 * US);
}

/* A clock near the top of its range: differences still work. */
static void
test_idle_clock_wraps(void **state)
{
	struct xvs_idle s;
	uint64_t t0 = UINT64_MAX - 50 * US;

	(void)state;
	xvs_idle_init(&s, &P, t0);
	assert_false(xvs_idle_may_sleep(&s, &P, t0 + 100 * US, false)); /* wrapped */
	assert_true(xvs_idle_may_sleep(&s, &P, t0 + 200 * US, false));
	xvs_idle_woke(&s, &P, 3 * US, false, false);
	assert_true(xvs_idle_may_sleep(&s, &P, 3 * US, false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_defaults),
		cmocka_unit_test(test_idle_spins_before_sleeping),
		cmocka_unit_test(test_idle_timed_sleeps_double_up_to_max),
		cmocka_unit_test(test_idle_woken_spins_again),
		cmocka_unit_test(test_idle_all_interrupts_sleep_long),
		cmocka_unit_test(test_idle_clock_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

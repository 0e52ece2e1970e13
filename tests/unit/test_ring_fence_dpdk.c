/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring fence of a queue move (src/dp/ring_fence.h) on real DPDK rings
 * (rte_ring_init on plain memory, no EAL): a mark taken while frames wait is
 * passed only once the consumer has taken every one of them, whatever comes
 * after the mark, and across the 32-bit wrap of the ring's positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <rte_ring.h>

#include "ring_fence.h"

#define RING_SIZE 64

static struct rte_ring *
ring_new(unsigned int flags)
{
	ssize_t sz = rte_ring_get_memsize(RING_SIZE);
	struct rte_ring *r;

	assert_true(sz > 0);
	r = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)RTE_ALIGN(sz, RTE_CACHE_LINE_SIZE));
	assert_non_null(r);
	assert_int_equal(rte_ring_init(r, "fence", RING_SIZE, flags), 0);
	return r;
}

/* Start both ends at pos, as a ring that has carried that many frames. */
static void
ring_at(struct rte_ring *r, uint32_t pos)
{
	r->prod.head = r->prod.tail = pos;
	r->cons.head = r->cons.tail = pos;
}

static void
check_fence(struct rte_ring *r)
{
	void *objs[8], *got[8];
	uint32_t mark;

	for (int i = 0; i < 8; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
	/* an empty ring is passed at once */
	assert_true(xvs_ring_passed(r, xvs_ring_mark(r)));
	assert_int_equal(rte_ring_enqueue_burst(r, objs, 3, NULL), 3);
	mark = xvs_ring_mark(r);
	assert_false(xvs_ring_passed(r, mark));
	/* more frames after the mark do not matter; the ones before it do */
	assert_int_equal(rte_ring_enqueue_burst(r, objs + 3, 5, NULL), 5);
	assert_int_equal(rte_ring_dequeue_burst(r, got, 2, NULL), 2);
	assert_false(xvs_ring_passed(r, mark));
	assert_int_equal(rte_ring_dequeue_burst(r, got, 1, NULL), 1);
	assert_true(xvs_ring_passed(r, mark));
	assert_int_equal(rte_ring_dequeue_burst(r, got, 8, NULL), 5);
	assert_true(xvs_ring_passed(r, mark));
}

static void
test_fence_spsc(void **state)
{
	struct rte_ring *r = ring_new(RING_F_SP_ENQ | RING_F_SC_DEQ);

	(void)state;
	check_fence(r);
	free(r);
}

static void
test_fence_mpsc(void **state)
{
	struct rte_ring *r = ring_new(RING_F_SC_DEQ);

	(void)state;
	check_fence(r);
	free(r);
}

static void
test_fence_across_wrap(void **state)
{
	struct rte_ring *r = ring_new(RING_F_SP_ENQ | RING_F_SC_DEQ);

	(void)state;
	ring_at(r, UINT32_MAX - 1); /* the mark lands past the wrap */
	check_fence(r);
	ring_at(r, UINT32_MAX - 5); /* the mark before it, the consumer after */
	check_fence(r);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fence_spsc),
		cmocka_unit_test(test_fence_mpsc),
		cmocka_unit_test(test_fence_across_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring fence: has a ring's consumer taken everything its producers had
 * published at some earlier moment? The control thread uses it when a queue
 * moves (switch.c, handoff_fence): frames its old poller handed on must leave
 * their rings before the new poller's frames of the same flows can follow
 * them. Hand-written: DPDK's rings have no "wait until consumed" call.
 * prod.tail and cons.tail are their public head/tail (rte_ring_core.h), in
 * the default sync modes every ring of xvs uses (SP/SC and MP/SC); positions
 * are free-running 32-bit counters, compared as the ring does, wrap-around
 * safe. Any thread; the ring is not changed.
 */
#ifndef XVS_RING_FENCE_H
#define XVS_RING_FENCE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

/* The position up to which r's producers have published frames now. */
static inline uint32_t
xvs_ring_mark(const struct rte_ring *r)
{
	return __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
}

/* Whether r's consumer has taken every frame published up to pos (a mark). */
static inline bool
xvs_ring_passed(const struct rte_ring *r, uint32_t pos)
{
	return (int32_t)(__atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE) - pos) >= 0;
}

#endif /* XVS_RING_FENCE_H */

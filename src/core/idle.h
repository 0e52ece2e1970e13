/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker idle policy (core, no DPDK, no clock): when a worker that finds no
 * work may go to sleep, and how long a timed sleep lasts.
 *
 * A worker that found nothing keeps polling for a spin period after its last
 * work (a stream's next burst usually comes within it, and waking costs tens
 * of microseconds), a shorter one when every queue it polls is a tap (each
 * empty look there is a syscall, on a CPU a VM could use) or an AF_XDP
 * socket (its fd wakes the worker as a tap's does; a long spin after each
 * frame of a sparse flow costs a core's percents for nothing). Then it sleeps:
 * on its fds with a long timeout when every queue has an interrupt fd, else
 * with a timeout that doubles from sleep_min_ns to sleep_max_ns while the
 * sleeps keep timing out, so a quiet PMD queue is looked at ever less often
 * but within sleep_max_ns. Work found resets both.
 *
 * The worker does the I/O (arming interrupts, blocking, see worker.c) and
 * passes the time in: `now` is in the caller's units (the worker uses TSC
 * cycles; spin and spin_fd must be in the same units); timeouts are in ns,
 * which is what the kernel takes. Inline: the worker calls these every loop
 * turn.
 */
#ifndef XVS_IDLE_H
#define XVS_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#define XVS_IDLE_SPIN_US 200
#define XVS_IDLE_SPIN_FD_US 10
#define XVS_IDLE_SLEEP_MIN_NS UINT64_C(20000)
#define XVS_IDLE_SLEEP_MAX_NS UINT64_C(2000000)
#define XVS_IDLE_SLEEP_INTR_NS UINT64_C(100000000) /* with interrupts on every queue */

struct xvs_idle_params {
	uint64_t spin;          /* no work this long (caller's units): may sleep */
	uint64_t spin_fd;       /* the same for a worker whose every queue is a tap or
				 * an AF_XDP socket (caps rx_lazy, rx_spin_short) */
	uint64_t sleep_min_ns;  /* first timed sleep after work */
	uint64_t sleep_max_ns;  /* longest timed sleep */
	uint64_t sleep_intr_ns; /* sleep when every queue has an interrupt fd */
};

/* Owned by one worker. */
struct xvs_idle {
	uint64_t last_work;     /* when work was last found (caller's units) */
	uint64_t sleep_ns;      /* next timed sleep */
};

/* Work was found at now: spin again from now, and start timed sleeps short. */
static inline void
xvs_idle_work(struct xvs_idle *s, const struct xvs_idle_params *p, uint64_t now)
{
	s->last_work = now;
	s->sleep_ns = p->sleep_min_ns;
}

/* Start as if work had just been found. */
static inline void
xvs_idle_init(struct xvs_idle *s, const struct xvs_idle_params *p, uint64_t now)
{
	xvs_idle_work(s, p, now);
}

/* Has the worker spun long enough without work to sleep? tap_only: every
 * queue it polled this turn was a tap or an AF_XDP socket. */
static inline bool
xvs_idle_may_sleep(const struct xvs_idle *s, const struct xvs_idle_params *p, uint64_t now,
		   bool tap_only)
{
	return now - s->last_work >= (tap_only ? p->spin_fd : p->spin);
}

/* How long the next sleep may last (ns). all_intr: every queue the worker
 * polls has an interrupt fd, so it is woken for any frame. */
static inline uint64_t
xvs_idle_timeout_ns(const struct xvs_idle *s, const struct xvs_idle_params *p, bool all_intr)
{
	return all_intr ? p->sleep_intr_ns : s->sleep_ns;
}

/* The worker returned from a sleep at now; woken: an fd woke it (else the
 * timeout ran out). Woken, it spins a full period again, since a wake-up
 * socket may fire a moment before the PMD's ring holds the frame; timed out,
 * it looks once and may sleep again, for twice as long (up to sleep_max_ns). */
static inline void
xvs_idle_woke(struct xvs_idle *s, const struct xvs_idle_params *p, uint64_t now, bool woken,
	      bool all_intr)
{
	if (!woken && !all_intr)
		s->sleep_ns = s->sleep_ns >= p->sleep_max_ns / 2 ? p->sleep_max_ns : 2 * s->sleep_ns;
	s->last_work = woken ? now : now - p->spin;
}

#endif /* XVS_IDLE_H */

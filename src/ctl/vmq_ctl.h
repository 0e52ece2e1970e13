/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VMQ on the control thread (doc/vmq.md): each uplink with vmq-queues has a
 * pool of software receive queues (core/balancer.h, xvs_vmq_pool); every VM
 * port with vmq-weight > 0 and a MAC asks each such uplink for one, keyed by
 * its MAC and VLAN. A queue is an object with an owner worker (placed on the
 * least loaded worker that does not poll the uplink), counters and busy
 * cycles (the workers' vmq_ctr, by counter id), so the balancer can move it
 * (xvsd_vmq_queue_move). The filters (core/vmq.h) go to the workers in the
 * snapshot.
 *
 * xvsd_publish() calls xvsd_vmq_sync() once it cannot fail any more: it
 * reconciles the pools with the port table (ports that left or changed give
 * their queue back, and waiting ports get freed queues; new ports ask, in
 * slot order) and builds each uplink's next filter table. When an uplink's
 * filters change, some frames change worker; so that none is reordered,
 * publish first swaps in a snapshot that does not poll that uplink
 * (xvsd_vmq_strip), waits until every hand-off ring's consumer has passed
 * what it held then (xvsd_handoff_fence: RSS rings, a grace period, tx and
 * QoS rings), and only then the new filters. xvsd_vmq_published()
 * then retires the old tables and counter ids.
 *
 * Thread: control thread only.
 */
#ifndef XVSD_VMQ_CTL_H
#define XVSD_VMQ_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dp.h"
#include "xvs_err.h"

/* The balancer's memory of one queue, kept on the queue object (so queues
 * coming and going do not confuse it): busy cycles at the last sample, the
 * busy share over the last interval, and its last move (the hold). */
struct xvsd_bal_hold {
	uint64_t prev_busy_tsc;
	double busy_pct;
	bool moved;
	uint64_t moved_ns;
};

/* A VMQ queue in use, as the balancer lists it beside the rx queues. */
struct xvsd_vmq_item {
	uint16_t uplink;              /* the uplink's slot */
	uint16_t queue;               /* 1..vmq-queues */
	uint16_t worker;              /* the worker that runs its frames */
	uint64_t busy_tsc;            /* its busy cycles, summed over the workers */
	struct xvsd_bal_hold *hold;   /* on the queue object; valid until the next publish */
	char name[40];                /* "UPLINK/vmqN" */
	char owner[40];               /* "VMPORT/K" (K: its VMMQ queue) */
};

/* The worker a VMQ queue in use was placed on at creation (where it goes
 * back when the balancer is disabled), or -ENOENT. */
int xvsd_vmq_queue_placed(uint16_t uplink, uint16_t queue);

/* Every VMQ queue in use, at most max, into out; returns how many. */
unsigned int xvsd_vmq_items(struct xvsd_vmq_item *out, unsigned int max);

/* Reconcile pools and filters with the port table for n_workers active
 * workers. Returns true if some uplink's filters change (fence needed). */
bool xvsd_vmq_sync(uint16_t n_workers);

/* The filter table snapshot port slot gets (NULL: no VMQ, or no filter). */
const struct xvs_vmq_table *xvsd_vmq_table(uint16_t slot);

/* Remove from s the rx queues of the uplinks whose filters change. */
void xvsd_vmq_strip(struct xvs_snapshot *s);

/* After the snapshot with the new filters is in force. */
void xvsd_vmq_published(void);

/* Rates of every VMQ queue over the last tick (dt_tsc). */
void xvsd_vmq_tick(uint64_t dt_tsc);

/* For the balancer: give queue `queue` (1..) of uplink slot `uplink` to
 * worker; in force with the next publish (which fences it). 0, -ENOENT (no
 * such queue in use), -EINVAL (no such worker). */
int xvsd_vmq_queue_move(uint16_t uplink, uint16_t queue, uint16_t worker, struct xvs_err *err);

/* vmq show of uplink slot (NULL if the port has no VMQ state). */
json_t *xvsd_vmq_json(uint16_t slot);

/* Forget everything (shutdown). */
void xvsd_vmq_shutdown(void);

#endif /* XVSD_VMQ_CTL_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture stage (datapath, built-in capture stage).
 *
 * A capture of one port copies the frames it receives (ingress) and/or the
 * frames the switch sends to it (egress) with DPDK's rte_pcapng_copy, which
 * formats each copy as a pcapng Enhanced Packet Block (timestamp, direction,
 * queue) in an mbuf of the capture's own pool, and puts the copy on the
 * worker's ring of that capture (single producer: the worker; single
 * consumer: the control thread). The control thread drains the rings and
 * writes the file (cmd_capture.c); workers never touch the file. A full ring
 * or an empty pool drops the copy and counts it (the frame itself is not
 * affected).
 *
 * Lifetime (control thread): xvs_capture_create, then the stage is
 * configured on the port with "id=N" and published; to stop, the stage is
 * configured empty and published (after which no worker can see the capture),
 * the rings are drained a last time, then xvs_capture_destroy.
 */
#ifndef XVS_STAGE_CAPTURE_H
#define XVS_STAGE_CAPTURE_H

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include <xvs/xvs_ext.h>

#include "dp.h"

#define XVS_CAPTURE_MAX 64              /* captures at once (and one per port at most):
					 * the control thread scans them every poll, so
					 * not one per port slot (XVS_MAX_PORTS) */
#define XVS_CAPTURE_RING 1024           /* copies waiting per worker */
#define XVS_CAPTURE_SNAPLEN XVS_JUMBO_DATA /* bytes kept of a frame */

extern const struct xvs_ext_desc xvs_capture_desc;

/* Counters of one worker for one capture; written by that worker only. */
struct xvs_capture_worker {
	uint64_t copied;      /* copies on the ring */
	uint64_t drop_full;   /* ring full */
	uint64_t drop_nombuf; /* pool empty */
} __rte_cache_aligned;

/* One capture. Set up by the control thread before it is published; workers
 * read slot/dirs and use the rings and the pool. */
struct xvs_capture {
	uint16_t slot;                   /* captured port (pcapng copy's port id) */
	uint8_t dirs;                    /* XVS_EXT_INGRESS / XVS_EXT_EGRESS bits */
	uint16_t n_workers;              /* rings made */
	uint64_t base_tsc;               /* TSC at start ... */
	uint64_t base_ns;                /* ... and the wall-clock time then (ns since 1970) */
	struct rte_mempool *pool;        /* pcapng-formatted copies */
	struct rte_ring *ring[XVS_MAX_WORKERS];
	struct xvs_capture_worker ctr[XVS_MAX_WORKERS];
};

/* Make capture id's pool and rings (control thread). -ENOMEM, -EEXIST. */
int xvs_capture_create(unsigned id, uint16_t slot, uint8_t dirs, uint16_t n_workers,
		       struct xvs_capture **out);
/* Free what xvs_capture_create made, with any copy still on a ring. Only once
 * no worker can see the capture. */
void xvs_capture_destroy(struct xvs_capture *c);
/* Sum of the workers' counters. */
void xvs_capture_counters(const struct xvs_capture *c, struct xvs_capture_worker *sum);

#endif /* XVS_STAGE_CAPTURE_H */

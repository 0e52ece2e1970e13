/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress QoS on the datapath: one scheduling point per port with qos=on.
 *
 * Model
 * -----
 * A port whose egress is scheduled has exactly one owner worker (snapshot
 * port qos_owner, chosen by xvsd among the workers with a tx queue of their
 * own on it; a move goes through a snapshot without owner, see
 * xvsd_qos_fill). Any worker that
 * forwards a frame to the port classifies it (source port's class, else
 * the first traffic-class rule that matches, else the default flow; result
 * in the mbuf, see "Where the class lives"): in its L2 stage when no stage
 * fills the metadata (xvs_qos_classify_l2), else at its tx flush from the metadata
 * (xvs_qos_classify_burst), and hands it to the owner: the owner's own
 * frames go out at once when nothing else waits (picked from the burst
 * itself) or straight into the class FIFOs, another worker's through its
 * own single-producer/single-consumer ring to the owner (ring[w->id]), so
 * no lock and no shared producer index.
 * Once per loop turn the owner takes in its rings, tail-drops into per-class
 * FIFOs bounded in frames and bytes (drop qos_queue_full), and asks the
 * core scheduler (core/qos.h: SCFQ weights, token-bucket caps, paced to
 * the port's capacity) which class sends next, until the scheduler says
 * "not before T" or a turn's budget is spent. It marks 802.1p where the
 * class says so and transmits on its own tx queue.
 *
 * Ownership
 * ---------
 * - struct xvs_qos_plan: built by the control thread per publication,
 *   immutable, reached through the snapshot (struct xvs_snap_port.qos_plan),
 *   freed after the grace period of the publication that replaced it.
 * - struct xvs_qos_port: one per port slot that ever had qos=on, allocated
 *   and freed by the control thread. The rings' producer sides belong to
 *   their workers; everything below `owner only` to the owner worker while a
 *   snapshot names the port as scheduled. When qos goes off, the control
 *   thread (after the grace period, when no worker can touch it) frees the
 *   frames left in it and counts them (flushed, drop qos_flushed). The
 *   control thread reads the counters (torn-free 64-bit loads).
 *
 * Where the class lives
 * ---------------------
 * In the mbuf's hash.sched.traffic_class (rte_mbuf_sched_traffic_class_set
 * and _get), on every path: the L2 stage's write, the flush's
 * classification, hand-off rings, GSO segments (worker.c copies it), the
 * FIFOs and the direct path. It is on the mbuf's first cache line, which
 * every path touches anyway; the metadata (xvs_pkt_meta.tclass) is in the
 * private area, a line the no-stage path would touch for the class alone.
 * The byte shares the hash union with hash.rss (the flow hash, bytes 0-3,
 * left alone) and fdir.hi (not read by xvs); it is written for every frame
 * of a QoS port before it is read, so what an rx PMD left there does not
 * matter. The metadata's tclass (the extension ABI's) is not read by xvsd.
 *
 * Why not rte_sched: see core/qos.h (its weights exist only inside its
 * best-effort class). Why not rte_ring for the class FIFOs: they are private
 * to the owner, so a plain array ring without atomics is what is needed.
 */
#ifndef XVS_QOS_EGRESS_H
#define XVS_QOS_EGRESS_H

#include <stdalign.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp.h"
#include "qos.h"

struct xvs_worker;
struct xvs_snapshot;
struct xvs_snap_port;

#define XVS_QOS_NO_OWNER UINT16_MAX /* snap port qos_owner while its owner moves */
#define XVS_QOS_RING_SIZE 1024      /* hand-off ring per producer worker */
#define XVS_QOS_FIFO_SIZE 1024      /* frames a class FIFO holds at most (power of 2) */
#define XVS_QOS_TURN_BUDGET 128     /* frames sent per port per owner turn at most */
#define XVS_QOS_RULES_MAX XVS_QOS_MAX_CLASSES
#define XVS_QOS_MAX_PORTS 1024      /* = XVS_MAX_PORTS (checked in qos_egress.c) */
#define XVS_QOS_POOLS 6             /* mbuf pools told apart: xvs_dp's five, other */
#define XVS_QOS_POOL_SHARE 4        /* QoS FIFOs hold at most 1/4 of a pool's mbufs */

/* What the workers need of a port's QoS settings. Immutable once published. */
struct xvs_qos_plan {
	uint64_t gen;                   /* unique per plan: the owner re-inits on change */
	uint64_t layout_gen;            /* changes when classes are added/removed/renamed:
					 * the owner zeroes its class counters */
	struct xvs_qos_cfg cfg;         /* validated (xvs_qos_validate) */
	uint32_t n_rules;
	struct xvs_qos_match rules[XVS_QOS_RULES_MAX]; /* traffic classes, in order */
	struct xvs_qos_classifier classifier; /* rules compiled (xvs_qos_classifier_build) */
	uint8_t src_cls[XVS_QOS_MAX_PORTS]; /* class of frames from a source slot; 0: rules */
	int8_t pcp[XVS_QOS_MAX_CLASSES];    /* 802.1p priority to mark, -1: leave */
	bool any_pcp;                   /* some class marks */
	uint64_t qlimit_bytes;          /* per-class FIFO limit */
	bool wire_len;                  /* charge frames + 24 B (preamble, IFG, FCS):
					 * capacity is a physical link's speed */
};

/* Per class counters. The owner writes sent and dropped only: per frame, the
 * fewer stores the better; offered and depth are derived when read
 * (xvs_qos_class_read: depth from the FIFO, offered = sent + dropped + depth). */
struct xvs_qos_class_ctr {
	uint64_t sent_frames, sent_bytes;       /* picked by the scheduler and transmitted */
	uint64_t dropped_frames, dropped_bytes; /* tail-dropped: FIFO full (qos_queue_full) */
	uint64_t offered_frames, offered_bytes; /* reached the scheduling point (derived) */
	uint64_t depth_frames, depth_bytes;     /* queued now (derived) */
};

/* A class FIFO, private to the owner. */
struct xvs_qos_fifo {
	uint32_t head, tail;            /* free-running; tail - head = frames */
	uint64_t bytes;
	struct rte_mbuf *m[XVS_QOS_FIFO_SIZE];
	uint8_t pool[XVS_QOS_FIFO_SIZE];  /* pool index of m[i] (pool_q) */
	uint32_t len[XVS_QOS_FIFO_SIZE]; /* pkt_len of m[i]: the scheduler reads
					  * lengths without touching the mbufs */
};

struct xvs_qos_port {
	/* Control thread. */
	uint16_t slot;
	uint64_t flushed;               /* frames freed when qos went off (control thread) */
	struct rte_ring *ring[16];      /* SP/SC hand-off from worker i to the owner */

	/* Pause frames received on the port (any rx worker; relaxed atomics). */
	alignas(64) uint64_t pause_until[8]; /* per 802.1p priority, xvs_tsc_ns; 0: none */
	uint64_t pfc_rx[8];             /* PFC frames whose class-enable vector names it */
	uint64_t pause_rx;              /* 802.3x PAUSE frames */
	uint32_t pause_seq;             /* bumped per pause frame: the owner looks again */

	/* Owner only. */
	alignas(64) uint64_t plan_gen;  /* plan the scheduler was built for */
	uint64_t layout_gen;
	uint64_t wake_ns;               /* scheduler: nothing may send before this */
	uint32_t pause_seen;            /* pause_seq the owner last acted on */
	uint32_t direct_seq;            /* pause_seq the direct path last looked at, */
	uint64_t pause_end;             /* and when every pause it saw ends (xvs_tsc_ns) */
	uint32_t pool_q[XVS_QOS_POOLS]; /* frames of each pool in the FIFOs */
	uint64_t pool_limited;          /* tail-dropped: its pool's share was queued */
	struct xvs_qos_sched sched;
	struct xvs_qos_class_ctr ctr[XVS_QOS_MAX_CLASSES];
	struct xvs_qos_fifo q[XVS_QOS_MAX_CLASSES];
};

/* The class of frame d[0..len) under pl's rules (the source port's class
 * is the caller's: pl->src_cls), from w1, bytes 8-15 of its metadata (pcp,
 * l3, l4_proto, flags, l3_off, l4_off: xvs_meta_w1) and its L3/L4 header
 * bytes: the tx flush's, from the metadata, and the L2 stage's
 * (xvs_qos_classify_l2) but for IPv4 under rules on DSCP or ports, which it
 * reads from the header itself (test_qos_dp holds the two to one class). */
static inline uint8_t
xvs_qos_classify_w1(const struct xvs_qos_plan *pl, uint64_t w1, const uint8_t *d, uint32_t len)
{
	uint8_t l3 = (uint8_t)(w1 >> 8), flags = (uint8_t)(w1 >> 24);
	uint16_t l3_off = (uint16_t)(w1 >> 32), l4_off = (uint16_t)(w1 >> 48);
	/* An initializer, not a memset call: this runs per frame. */
	struct xvs_qos_pkt k = {
		.has_pcp = (flags & XVS_META_TAGGED) != 0,
		.pcp = (uint8_t)w1,
		.is_ip = l3 != 0,
		.proto = (uint8_t)(w1 >> 16),
	};

	if (k.is_ip && (pl->classifier.uses & XVS_QOS_USES_L34)) {
		/* RFC 2474: DSCP is the upper 6 bits of the IPv4 TOS byte and
		 * of the IPv6 traffic class (bits 4-11 of the first word). */
		if (l3_off + 2u <= len)
			k.dscp = l3 == 4 ? (uint8_t)(d[l3_off + 1] >> 2) :
					   (uint8_t)(((d[l3_off] & 0x0f) << 2) | (d[l3_off + 1] >> 6));
		if ((flags & XVS_META_HAS_PORTS) && l4_off + 4u <= len) {
			k.has_ports = true;
			k.sport = (uint16_t)(d[l4_off] << 8 | d[l4_off + 1]);
			k.dport = (uint16_t)(d[l4_off + 2] << 8 | d[l4_off + 3]);
		}
	}
	return xvs_qos_classifier_run(&pl->classifier, &k);
}

/* The class of frame m from in_port under pl, from its parsed L2 header l2
 * (l2->l3_off as in the frame now), without its metadata: what
 * xvs_qos_classify_burst finds for it once xvs_meta_fill(m, l2, in_port, .)
 * has filled them. For a switch whose only metadata reader is QoS (no
 * stages): the L2 stage classifies from its own parse and stores only the
 * class (stage_l2.c). */
static inline uint8_t
xvs_qos_classify_l2(const struct xvs_qos_plan *pl, const struct rte_mbuf *m,
		    const struct xvs_l2 *l2, uint16_t in_port)
{
	uint8_t c = in_port < XVS_QOS_MAX_PORTS ? pl->src_cls[in_port] : 0;
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	if (c != 0 || pl->n_rules == 0)
		return c;
	if (likely(l2->ethertype == XVS_ETYPE_IPV4) && (pl->classifier.uses & XVS_QOS_USES_L34)) {
		/* IPv4, the common case: the fields xvs_meta_w1 would give
		 * (its checks), read once, without packing them into metadata
		 * the classifier then unpacks. */
		const uint8_t *ip = d + l2->l3_off;
		struct xvs_qos_pkt k = {.has_pcp = l2->tagged, .pcp = l2->pcp};
		uint32_t ihl, tot;

		if (xvs_ipv4_header(d, len, l2->l3_off, &ihl, &tot)) {
			k.is_ip = true;
			k.proto = ip[9];
			k.dscp = (uint8_t)(ip[1] >> 2);
			if ((xvs_rd16(ip + 6) & 0x3fff) == 0 && xvs_l4_has_ports(k.proto, tot - ihl)) {
				k.has_ports = true;
				k.sport = xvs_rd16(ip + ihl);
				k.dport = xvs_rd16(ip + ihl + 2);
			}
		}
		return xvs_qos_classifier_run(&pl->classifier, &k);
	}
	return xvs_qos_classify_w1(pl, xvs_meta_w1(d, len, l2, l2->tagged ? XVS_META_TAGGED : 0,
						   l2->pcp),
				   d, len);
}

/* Classify pkts[0..n) for pl into their mbufs' class: frames whose bit
 * is set in classed (i < 32) have theirs (xvs_qos_classify_l2), frame i
 * with bit i of same_class takes frame i - 1's (a run, xvs_txbuf), the
 * others are classified from their metadata (filled). Any worker. */
void xvs_qos_classify_burst(const struct xvs_qos_plan *pl, struct rte_mbuf **pkts, uint16_t n,
			    uint32_t same_class, uint32_t classed);

/* Hand pkts[0..n) (classified) to port out's scheduling point. Consumes
 * every mbuf: queued, or freed under tx_full (hand-off ring full). Any
 * worker. */
void xvs_qos_handoff(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t out,
		     struct rte_mbuf **pkts, uint16_t n);

/* The owner's turn: take in the hand-off rings and send what the scheduler
 * allows, for every port w schedules in s. Returns frames taken in or sent. */
uint32_t xvs_qos_service(struct xvs_worker *w, const struct xvs_snapshot *s);

/* Does w hold frames waiting for the scheduler (sleep with a timeout then)?
 * *wake_ns: the earliest time (xvs_tsc_ns) one of them may leave, by the
 * schedulers' last word (0: now); UINT64_MAX when none waits. */
bool xvs_qos_pending(const struct xvs_worker *w, const struct xvs_snapshot *s,
		     uint64_t *wake_ns);

/* A MAC control frame m (ethertype 0x8808) arrived on port in_port (p):
 * on a scheduling port a PAUSE or PFC frame is counted and pauses the
 * classes of the priorities it names (a class's priority is its pcp=, else
 * 0) for its time at the port's capacity; 0 resumes. The caller drops m
 * (mac_control): MAC control frames are never forwarded. Any worker. */
void xvs_qos_mac_control(const struct xvs_snap_port *p, const struct rte_mbuf *m);

/* ---- Control thread. ---- */

/* Allocate the state of port slot (rings for n_workers producers). NULL if
 * out of memory. */
struct xvs_qos_port *xvs_qos_port_create(uint16_t slot, uint16_t n_workers);

/* Free every frame q holds (rings and FIFOs), counting them in q->flushed.
 * Only when no snapshot in force names q. */
void xvs_qos_port_flush(struct xvs_qos_port *q);

/* Flush and free q (NULL: nothing). Same condition. */
void xvs_qos_port_free(struct xvs_qos_port *q);

/* Class c's counters as the control thread shows them (any thread). */
void xvs_qos_class_read(const struct xvs_qos_port *q, uint32_t c, struct xvs_qos_class_ctr *out);

/* Frames queued in q now (rings + FIFOs): part of the port's tx_queued. */
uint64_t xvs_qos_port_queued(const struct xvs_qos_port *q);

#endif /* XVS_QOS_EGRESS_H */

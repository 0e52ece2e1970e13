/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Datapath objects shared by the control thread and the workers.
 *
 * Threads and ownership
 * ---------------------
 * - The control thread (the EAL main lcore) owns every struct xvs_port and every
 *   decision: which ports exist, their VLAN rules, which worker polls which rx
 *   queue. It writes that down in a struct xvs_snapshot, which is immutable once
 *   published, and publishes it with one atomic pointer store (xvs_dp_publish).
 * - Workers (EAL worker lcores) load the snapshot pointer once per loop turn and
 *   use only that snapshot for the whole turn. Each worker reports a quiescent
 *   state to the QSBR variable once per turn (and goes offline while it sleeps),
 *   so the control thread knows when no worker can still hold an old snapshot
 *   or use a port that was removed from it; only then is the old snapshot freed
 *   or the port's device closed (rte_rcu_qsbr_synchronize).
 * - Per-worker state, counters included, lives in one cache-aligned struct
 *   xvs_worker written only by its worker. The control thread reads the
 *   counters (torn-free 64-bit loads) and sums them; it never writes them while
 *   the worker may run, except to zero the counters of a port slot after that
 *   port has left every snapshot and a grace period has passed.
 * - The FDB is single-writer (the control thread); workers look up lock-free
 *   and ask for learning through a per-worker ring (see fdb.h, xvs_learn_req).
 */
#ifndef XVS_DP_H
#define XVS_DP_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "config.h"
#include "fdb.h"
#include "pipeline.h"
#include "pkt_parse.h"
#include "rss.h"
#include "vlan.h"
#include "vmq.h"

#define XVS_BURST 32
/* Port slots. 1,024: a virtualization host's hundreds of VMs with room to
 * spare (issue 11 asks for at least 1,000), a power of two, and the per-port
 * arrays it sizes stay small: a worker's counters and tx buffers are ~0.6 MB
 * of which only the lines of ports it sends to or receives from are touched
 * (doc/ports.md, "How many ports"). Only ethdev-backed kinds (afpacket, pci,
 * pcap, null) are bound by RTE_MAX_ETHPORTS as well (port.c refuses beyond). */
#define XVS_MAX_PORTS 1024
_Static_assert(XVS_MAX_PORTS <= XVS_FDB_PORT_MAX + 1, "the fdb stores every port index");
_Static_assert(XVS_MAX_PORTS <= XVS_STAGE_PORT_SLOTS, "the stage registry keeps every port slot");
#define XVS_MAX_WORKERS 16
#define XVS_MAX_QUEUES 16                  /* rx/tx queue pairs per port */
#define XVS_MAX_RXQ_PER_WORKER (XVS_MAX_PORTS * XVS_MAX_QUEUES) /* all on one worker */
#define XVS_LEARN_RING_SIZE 1024
#define XVS_TX_RING_SIZE 2048
#define XVS_JUMBO_DATA 9216u                /* data room of a jumbo mbuf: MTU 9000 + headers */
#define XVS_VMQ_IDS 256                     /* VMQ software queues in use, switch-wide */
#define XVS_VMQ_HANDOFF 0x8000u             /* in mbuf.port of a frame handed to a VMQ
					     * queue's worker: its tag is in the dynfield */
_Static_assert(XVS_MAX_PORTS <= XVS_VMQ_HANDOFF, "a port slot leaves the hand-off bit free");
#define XVS_RSS_RING_SIZE 4096               /* software RSS hand-off, per worker pair: ~1 ms at
                                             * 4 Mpps, what waking a halted vCPU takes */

/* Named per-port drop reasons. Order is the order shown to users. */
#define XVS_DROP_REASONS(X)                                                      \
	X(runt)             /* shorter than an Ethernet header */                  \
	X(truncated_vlan)   /* 802.1Q tag cut off */                               \
	X(stacked_vlan)     /* QinQ / double tag: not switched */                  \
	X(bad_vid)          /* VID 4095 */                                         \
	X(bad_src_mac)      /* multicast or zero source MAC */                     \
	X(oversize)         /* longer than the port's MTU allows */                \
	X(bad_offload)      /* tap: virtio-net header asks the impossible or        \
			     * disagrees with the frame */                          \
	X(bad_l3_len)       /* tap, with an offload request: IP or TCP length       \
			     * field disagrees with the frame */                    \
	X(vlan_tagged_on_access) /* tagged frame on an access port */              \
	X(vlan_not_allowed) /* tag outside the trunk's allowed VLANs */            \
	X(vlan_untagged)    /* untagged on a trunk without native VLAN */          \
	X(rss_ring_full)    /* software RSS or VMQ: the chosen worker's hand-off ring \
			     * is full */                                           \
	X(same_port)        /* destination is the port it came from */             \
	X(no_dest)          /* flooded but no other port carries the VLAN */       \
	X(copy_failed)      /* no mbuf for a flood copy */                         \
	X(tx_full)          /* egress queue full after retries (egress port) */    \
	X(tx_error)         /* the kernel refused a tap write (egress port) */     \
	X(offload_failed)   /* software segmentation/checksum impossible (egress) */ \
	X(tx_oversize)      /* longer than the egress port's MTU allows (egress port) */ \
	X(port_down)        /* destination port being removed (egress port) */         \
	X(policy)           /* dropped by an ingress stage: guard, ACL, extension      \
			     * (the stage's own counters say which and why) */          \
	X(tx_policy)        /* dropped or excluded by an egress stage (egress port) */ \
	X(qos_queue_full)   /* QoS: the frame's class queue was full (egress port) */  \
	X(qos_flushed)      /* QoS: queued when its class or the port's QoS went away  \
			     * (egress port) */                                       \
	X(mac_control)      /* an 802.3 MAC control frame (PAUSE, PFC): consumed,      \
			     * never forwarded or learned (doc/qos.md) */

enum xvs_drop {
#define XVS_DROP_ENUM(n) XVS_DROP_##n,
	XVS_DROP_REASONS(XVS_DROP_ENUM)
#undef XVS_DROP_ENUM
	XVS_DROP__MAX
};
extern const char *const xvs_drop_names[XVS_DROP__MAX];

/* Per worker, per port slot counters. Written only by the owning worker. */
struct xvs_port_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t forwarded;             /* received frames sent to one known port */
	uint64_t flooded;               /* received frames that were flooded */
	uint64_t learn_requests;        /* learn/move requests queued for the control thread */
	uint64_t learn_ring_full;       /* learn requests lost to a full ring */
	uint64_t learn_limit;           /* learn/move requests not sent: the port was at its
					 * mac-limit (xvs_fdb_port_full); part of fdb.learn_limit */
	/* Egress: frames handed to this port's transmit path (counted per tx
	 * buffer flush, so once per burst) and the segments software GSO made
	 * beyond the frames they came from. Egress conservation (doc/l2.md):
	 * egress_packets + tx_gso_segments == tx_packets + tx_full + tx_error +
	 * offload_failed + port_down + frames waiting in the tx hand-off ring. */
	uint64_t egress_packets;
	uint64_t tx_gso_segments;
	uint64_t rx_events;             /* epoll reported one of the port's rx fds readable */
	uint64_t drop[XVS_DROP__MAX];
};

/* A learn request from a worker to the control thread. */
struct xvs_learn_req {
	uint8_t mac[6];
	uint16_t vid;
	uint16_t port;     /* port slot the source was seen on */
	uint16_t pad[3];
};
static_assert(sizeof(struct xvs_learn_req) == 16, "learn request is two words");

/* Remembers a recent learn request so a worker does not repeat it every packet. */
struct xvs_learn_dedup {
	uint64_t key;     /* mac | vid << 48 */
	uint64_t tsc;     /* when it was requested */
	uint16_t port;
};

/* Per worker, per rx queue counters (the queue objects of port.h). Written
 * only by the worker that polls the queue; the control thread sums them over
 * workers (a queue that moved has counts on more than one). */
struct xvs_rxq_counters {
	uint64_t packets;           /* received */
	uint64_t bytes;
	uint64_t polls;             /* rx bursts asked for */
	uint64_t empty_polls;       /* of which returned nothing */
	uint64_t busy_tsc;          /* TSC cycles of its non-empty polls and of running
				     * their frames through the pipeline (ingress stages, L2;
				     * its share of the turn's tx flush, egress stages
				     * included) */
};

/* A port as the workers see it in a snapshot. */
struct xvs_port_ops;
struct xvs_qos_port;
struct xvs_qos_plan;
struct xvs_snap_port {
	bool active;                /* slot in use and started */
	bool tx_meta_offload;       /* takes GSO/checksum requests as metadata (caps) */
	bool rx_lazy;               /* read a queue only when its fd is readable (caps) */
	bool rx_spin_short;         /* the short idle spin suffices (caps) */
	uint8_t tx_drop;            /* drop reason of frames tx_burst did not send (caps) */
	const struct xvs_port_ops *ops; /* its kind: rx/tx bursts, wake-up */
	void *priv;                 /* the kind's state, the ops' first argument */
	uint16_t n_txq;             /* tx queues configured on the device */
	uint16_t tx_owner;          /* worker that transmits for workers without a txq */
	struct rte_ring *tx_ring;   /* hand-off ring to tx_owner (NULL if every worker has a txq) */
	uint32_t max_frame;         /* longest accepted frame, untagged (MTU + 14) */
	struct xvs_vlan_cfg vlan;
	/* Software RSS: the polling worker hashes each frame and hands it to
	 * rss_reta[hash & rss_reta_mask] (a worker id) unless that is itself. */
	bool rss_spread;
	uint16_t rss_reta_mask;     /* table size - 1 */
	uint32_t rss_types;         /* XVS_RSS_* */
	const struct xvs_rss_table *rss_table; /* per-key table, owned by the port */
	uint16_t rss_reta[XVS_RSS_RETA_MAX];
	uint16_t n_rx_workers;      /* workers that may run its received frames (storm limit
				     * splits its rate between them) */
	/* VMQ (an uplink with vmq-queues): its pollers look each frame's
	 * destination up here and hand the frames of a VM's queue to that
	 * queue's worker (vmq_steer.c). NULL: every frame on the default queue. */
	const struct xvs_vmq_table *vmq;
	struct xvs_snap_pipeline pipe;  /* stages enabled on the port (xvs_stage_fill_port) */
	/* Egress QoS (qos_egress.h): NULL unless the port schedules its egress. */
	struct xvs_qos_port *qos;       /* its scheduling point, owned by qos_owner */
	const struct xvs_qos_plan *qos_plan; /* classes, rules, scheduler settings */
	uint16_t qos_owner;             /* worker that schedules it; XVS_QOS_NO_OWNER while
					 * the owner moves (frames wait in the rings) */
};

struct xvs_snap_rxq {
	uint16_t port;    /* port slot */
	uint16_t queue;   /* rx queue id on the device */
};

/* What one worker does under a snapshot. */
struct xvs_snap_worker {
	uint16_t n_rxq;
	struct xvs_snap_rxq rxq[XVS_MAX_RXQ_PER_WORKER];
	uint16_t n_tx_owned;              /* ports whose tx hand-off ring this worker drains */
	uint16_t tx_owned[XVS_MAX_PORTS];
	uint16_t n_qos_owned;             /* ports whose egress this worker schedules */
	uint16_t qos_owned[XVS_MAX_PORTS];
};

/* Immutable once published. Built and freed by the control thread. */
struct xvs_snapshot {
	uint64_t gen;                      /* increases with every publication */
	uint16_t n_workers;                /* active workers (the rest idle) */
	uint16_t n_flood;                  /* active port slots, in slot order */
	uint16_t flood[XVS_MAX_PORTS];
	uint16_t n_egress_ports;           /* ports with egress stages: frames get their
					    * metadata for them (xvs_meta_for_egress) */
	uint16_t egress_port;              /* the one, when n_egress_ports is 1 */
	bool qos_ports;                    /* some port schedules its egress (QoS): without
					    * stages the L2 stage classifies its frames */
	uint16_t n_qos_owners;             /* workers scheduling some port's egress: the
					    * QoS pool share is split between them */
	struct xvs_snap_port port[XVS_MAX_PORTS];
	struct xvs_snap_worker worker[XVS_MAX_WORKERS];
};

/* Do frames received on in_port need their metadata for some port's egress
 * stages? Not when the only port with egress stages is in_port itself: a
 * frame never leaves on the port it came in on (a hairpin is dropped, a
 * flood skips it, and what a stage emits gets metadata of its own). A port
 * whose ACL or mirror runs both ways has egress stages: its own traffic to
 * the uplink then carries none. */
static inline bool
xvs_meta_for_egress(const struct xvs_snapshot *s, uint16_t in_port)
{
	return s->n_egress_ports > 1 || (s->n_egress_ports == 1 && s->egress_port != in_port);
}

/* Frames stages emitted during a burst (xvs_ext_burst.emit), copied into
 * flood-pool mbufs and sent after the burst. */
#define XVS_EMIT_MAX 32
struct xvs_emitq {
	uint16_t n;
	uint16_t port[XVS_EMIT_MAX];      /* destination port slot */
	struct rte_mbuf *m[XVS_EMIT_MAX];
};

/* TX buffer of one worker toward one port. */
_Static_assert(XVS_BURST <= 32, "xvs_txbuf.same_class has a bit per frame");

struct xvs_txbuf {
	uint16_t n;
	bool listed;                      /* in the worker's dirty list this turn */
	bool needs_resolve;               /* holds a frame with offload requests or segments */
	uint32_t same_class;              /* bit i: frame i is of the run of frame i - 1 (the
					   * L2 stage's same_l34), so of its traffic class */
	uint32_t qos_classed;             /* bit i: the L2 stage wrote frame i's traffic class
					   * (xvs_qos_classify_l2, in the mbuf's
					   * hash.sched.traffic_class), its metadata is not filled */
	struct rte_mbuf *pkts[XVS_BURST];
};

/* What a worker's epoll set reports (epoll_event.data.u64): the fd of a
 * lazily read queue (caps.rx_lazy: a tap) carries XVS_EV_LAZY with the port
 * slot and queue, so that the worker reads just that queue; another rx fd (an
 * interrupt fd, a vhost kick, a wake-up socket) carries XVS_EV_RXQ with its
 * slot and queue, so that the port's rx_events counts it; the wake eventfd
 * carries the fd itself. */
#define XVS_EV_LAZY (UINT64_C(1) << 63)
#define XVS_EV_RXQ (UINT64_C(1) << 62)
#define XVS_EV_LAZY_DATA(slot, q) (XVS_EV_LAZY | (uint64_t)(slot) << 16 | (uint64_t)(q))
#define XVS_EV_RXQ_DATA(slot, q) (XVS_EV_RXQ | (uint64_t)(slot) << 16 | (uint64_t)(q))

/* Per-worker state: one per worker lcore, cache aligned, written by its worker. */
struct xvs_worker {
	/* Read-mostly, set up by the control thread before launch. */
	uint16_t id;                      /* 0..n-1; also the worker's QSBR thread id and txq */
	unsigned int lcore;               /* EAL lcore it runs on */
	int epfd;                         /* epoll set: wakefd + rx interrupt fds */
	int wakefd;                       /* eventfd: control thread wakes the worker */
	struct rte_ring *learn_ring;      /* SP/SC: learn requests to the control thread */
	/* SP/SC hand-off rings into this worker, one per source worker (software
	 * RSS): one producer and one consumer each, so FIFO order per source, and
	 * a flow has one source (its queue's poller), so per-flow order holds. */
	struct rte_ring *rss_ring[XVS_MAX_WORKERS];
	struct xvs_fcache *fcache;        /* policy flow cache (flow_cache.h), or NULL:
					   * the stages run as they are */

	/* Shared flags (one line of their own). */
	alignas(RTE_CACHE_LINE_SIZE) atomic_int sleeping; /* 1 from arming to waking; the first waker clears it */
	atomic_int learn_kicked;          /* 1 after the worker signalled pending learns */
	atomic_bool parked;               /* blocked with no timeout: no queue, no hand-off
					   * ring to drain, no tx pending (worker.c) */

	/* Written only by the worker. */
	alignas(RTE_CACHE_LINE_SIZE) uint64_t loops;     /* loop turns */
	uint64_t busy_tsc;                /* TSC cycles of turns that did work */
	uint64_t idle_tsc;                /* TSC cycles of turns that found nothing */
	uint64_t sleep_tsc;               /* TSC cycles spent blocked */
	uint64_t wakeups;                 /* returns from sleep */
	uint64_t parks;                   /* sleeps as a parked worker */
	int tid;                          /* its thread id (gettid), for CPU accounting */
	bool away;                        /* allowed on every CPU (asleep or just woken) */
	bool offline;                     /* QSBR-offline (blocked): writes no counter, as
					   * the control thread may be zeroing a slot's */
	/* Lazy queues (a tap's) worth a read: bit q of lazy_ready[slot], and
	 * listed in lzr (below). Reading one is a syscall, so a queue found
	 * empty is read again only when epoll reports its fd (see
	 * xvs_worker_main). */
	uint16_t lazy_ready[XVS_MAX_PORTS];
	uint64_t lazy_gen;                /* snapshot generation lazy_ready is for */
	uint64_t lazy_sweep_tsc;          /* when every lazy queue was last marked ready */
	uint64_t rx_packets;              /* received from the queues it polls */
	uint64_t tx_packets;
	uint64_t switched_packets;        /* frames this worker ran through the pipeline */
	uint64_t rss_out;                 /* frames handed to other workers (software RSS) */
	uint64_t rss_in;                  /* frames taken from other workers' hand-off */
	uint64_t rss_drops;               /* frames lost to a full hand-off ring */
	uint64_t vmq_out;                 /* VMQ: frames handed to their queue's worker */
	uint64_t vmq_in;                  /* VMQ: frames of queues it owns that it ran */
	uint64_t vmq_default;             /* VMQ: frames of VMQ uplinks left on the default queue */
	uint64_t vmq_drops;               /* VMQ: frames lost to a full hand-off ring */
	/* VMQ software queues it ran frames of, by counter id (tag - 1): packets,
	 * bytes, busy cycles; polls counts runs. */
	struct xvs_rxq_counters vmq_ctr[XVS_VMQ_IDS];
	struct xvs_learn_dedup learn_dedup[256]; /* last learn request per hash slot */
	uint16_t n_dirty;                 /* ports with buffered tx this turn */
	uint16_t dirty[XVS_MAX_PORTS];
	/* Ports whose kind keeps tx frames back (ops tx_pending) that this
	 * worker sent to since they last had none pending: what it asks
	 * before sleeping, instead of every port (worker.c, tx_pending). */
	uint16_t n_txp;
	uint16_t txp[XVS_MAX_PORTS];
	bool txp_listed[XVS_MAX_PORTS];
	/* The rx queues it polls: those of its snapshot entry whose port is
	 * active and whose kind says they can have frames (ops rxq_ready), built
	 * when the snapshot or xvs_dp.rxq_epoch changes (worker.c, poll_build).
	 * A thousand guest-less vhost-user queues then cost nothing per turn. */
	uint32_t n_poll;                  /* poll[0..n_poll): queues read every turn */
	uint32_t n_lazy;                  /* poll[n_poll..+n_lazy): lazy queues (rx_lazy) */
	struct xvs_snap_rxq poll[XVS_MAX_RXQ_PER_WORKER];
	/* The lazy queues that may have frames: lzr[0..n_lzr), each with its
	 * bit set in lazy_ready; a turn reads only these (a thousand idle taps
	 * cost nothing per turn), and drops those that ran dry. */
	uint32_t n_lzr;
	struct xvs_snap_rxq lzr[XVS_MAX_RXQ_PER_WORKER];
	uint16_t lazy_mine[XVS_MAX_PORTS]; /* bit q of slot: a lazy queue of the poll list */
	struct xvs_port_counters ctr[XVS_MAX_PORTS];
	struct xvs_rxq_counters rxq_ctr[XVS_MAX_PORTS][XVS_MAX_QUEUES];
	struct xvs_txbuf tx[XVS_MAX_PORTS];
	struct xvs_emitq emitq;           /* frames stages emitted, sent after the burst */
	struct xvs_stage_ctr stage_ctr[XVS_STAGES_MAX]; /* per stage registry id (pipeline.h) */
} __rte_cache_aligned;

/* Global datapath context, owned by the control thread. */
struct xvs_dp {
	_Atomic(struct xvs_snapshot *) snap;   /* current snapshot (workers: acquire load) */
	_Atomic uint64_t rxq_epoch;            /* bumped when a queue's rxq_ready may have
						* changed (xvs_dp_rxq_changed) */
	struct rte_rcu_qsbr *qsbr;             /* one thread per worker */
	struct xvs_fdb *fdb;                   /* single writer: control thread */
	struct rte_mempool *pool;              /* mbufs for every port */
	struct rte_mempool *tap_pool;          /* 64 KB mbufs for tap reads (NULL: none) */
	struct rte_mempool *jumbo_pool;        /* 9 KB mbufs for jumbo rx, made on first use */
	/* Flood copies come from pools of their own, never from a port's receive
	 * pool: a storm from one port then exhausts at most these, and the others
	 * keep receiving (a copy failing is copy_failed on its egress port). */
	struct rte_mempool *flood_pool;        /* 2 KB mbufs: copies of frames that fit one */
	struct rte_mempool *flood_big_pool;    /* XVS_JUMBO_DATA mbufs: copies of longer frames,
					 * and long chains flattened at egress (worker.c) */
	uint16_t n_workers_max;                /* worker lcores started */
	struct xvs_worker *worker[XVS_MAX_WORKERS];
	int learn_efd;                         /* eventfd the workers kick on pending learns */
	uint64_t tsc_hz;
	volatile bool quit;                    /* set once at shutdown */
};

extern struct xvs_dp xvs_dp;

/* Worker main loop (rte_eal_remote_launch target; arg is the struct xvs_worker). */
int xvs_worker_main(void *arg);

/* Process one received burst from port slot in_port on worker w under snapshot s:
 * parse, VLAN ingress, learn, forward or flood into w's tx buffers. Frees or
 * takes ownership of every mbuf. Returns n. */
uint16_t xvs_l2_forward_burst(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t in_port,
			      struct rte_mbuf **pkts, uint16_t n, uint64_t now_tsc);

/* ---- The pipeline's datapath half (pipeline_run.c) ---- */

/* Where a packet's struct xvs_pkt_meta lives: the mbuf's private area, right
 * after struct rte_mbuf. Not an mbuf dynamic field, which DESIGN.md had in
 * mind: the dynamic area of a DPDK 22.11 mbuf is 36 bytes (dynfield1[9]),
 * the metadata is 32 (ABI), and net_pcap registers the 8-byte Rx timestamp
 * field when a pcap port is created, so both cannot fit (a pcap port failed
 * to open with EPERM). The private area travels with the mbuf the same way
 * and costs the same to reach; what it needs is that every mempool frames
 * are received into or copied into has XVS_MBUF_PRIV_SIZE bytes of it
 * (xvsd's pools do, see main.c and port.c), and that a copy carries it over
 * by hand (rte_pktmbuf_copy copies dynamic fields, not the private area). */
#define XVS_MBUF_PRIV_SIZE RTE_ALIGN(sizeof(struct xvs_pkt_meta), RTE_MBUF_PRIV_ALIGN)

/* xvsd's own bits of xvs_pkt_meta.flags (xvs_ext.h leaves bits 5-7 to it),
 * hints between its stages, cleared by xvs_meta_fill and when a stage
 * modifies the frame:
 * - GUARD_CLEAN: neither dhcp_guard nor router_guard acts on the frame (IP
 *   with its L4 header, not a fragment, not ICMP/ICMPv6, not UDP from or to
 *   a DHCP port), found while the metadata is filled, so the guards skip a
 *   burst of such frames with one look at the flags (guards.c);
 * - DST_LOOKED, DST_KNOWN: the L2 stage looked the unicast destination up
 *   before the ingress stages and found it, so storm_limit need not look
 *   again and the forward stage reuses the answer. */
#define XVS_META_GUARD_CLEAN (1u << 5)
#define XVS_META_DST_LOOKED (1u << 6)
#define XVS_META_DST_KNOWN (1u << 7)

/* Is the UDP header at udp (its ports in the frame) one of a DHCP message
 * a guard must look at? guard.h: DHCPv4 from 67 or to 68; DHCPv6 from 547
 * or to 546/547. */
static inline bool
xvs_udp_dhcp_ports(const uint8_t *udp)
{
	uint16_t sport = xvs_rd16(udp), dport = xvs_rd16(udp + 2);

	return sport == 67 || dport == 68 || sport == 547 || dport == 546 || dport == 547;
}

/* Does XVS_META_GUARD_CLEAN apply to frame d with these metadata fields?
 * The classifier of guards.c's surely_clean, from the same metadata. */
static inline __attribute__((always_inline)) bool
xvs_meta_guard_clean(const uint8_t *d, uint8_t l3, uint8_t proto, uint8_t flags, uint16_t l4_off)
{
	if (l3 == 0 || l4_off == 0 || (flags & XVS_META_FRAGMENT) || proto == 1 || proto == 58)
		return false;
	return proto != 17 || ((flags & XVS_META_HAS_PORTS) && !xvs_udp_dhcp_ports(d + l4_off));
}

/* Set XVS_META_GUARD_CLEAN on md (frame d) when it applies. */
static inline void
xvs_meta_guard_mark(struct xvs_pkt_meta *md, const uint8_t *d)
{
	if (xvs_meta_guard_clean(d, md->l3, md->l4_proto, md->flags, md->l4_off))
		md->flags |= XVS_META_GUARD_CLEAN;
}

static inline struct xvs_pkt_meta *
xvs_meta(struct rte_mbuf *m)
{
	return (struct xvs_pkt_meta *)(m + 1);
}

/* L3/L4 fields of md from frame d[0..len) whose L2 header is l2 (l3_off as
 * in the frame now): what xvs_parse_flow finds, without the addresses and
 * ports. IPv4 inline (the common case, per frame), IPv6 through
 * xvs_parse_flow. */
void xvs_meta_l34_slow(struct xvs_pkt_meta *md, const uint8_t *d, uint32_t len,
		       const struct xvs_l2 *l2);

/* Bytes 8-15 of the metadata (pcp, l3, l4_proto, flags, l3_off, l4_off; see
 * the static_asserts below) for frame d[0..len) with L2 header l2, the flags
 * so far flags0 and priority pcp: computed in registers, so that the fill
 * writes the metadata in one store instead of field by field. */
static_assert(offsetof(struct xvs_pkt_meta, pcp) == 8 && offsetof(struct xvs_pkt_meta, l3) == 9 &&
	      offsetof(struct xvs_pkt_meta, l4_proto) == 10 &&
	      offsetof(struct xvs_pkt_meta, flags) == 11 &&
	      offsetof(struct xvs_pkt_meta, l3_off) == 12 &&
	      offsetof(struct xvs_pkt_meta, l4_off) == 14 &&
	      offsetof(struct xvs_pkt_meta, in_port) == 4 && offsetof(struct xvs_pkt_meta, vid) == 6,
	      "metadata layout the one-store fill assumes");
static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "the one-store fill packs little-endian");

static inline __attribute__((always_inline)) uint64_t
xvs_meta_w1(const uint8_t *d, uint32_t len, const struct xvs_l2 *l2, uint8_t flags0, uint8_t pcp)
{
	const uint8_t *ip = d + l2->l3_off;
	uint32_t off = l2->l3_off, ihl, tot;
	uint64_t base = pcp | (uint64_t)off << 32;
	uint8_t proto, flags = flags0;
	uint16_t frag, l4_off;

	if (l2->ethertype != XVS_ETYPE_IPV4) {
		struct xvs_pkt_meta t = {.pcp = pcp, .flags = flags0};
		uint64_t w;

		xvs_meta_l34_slow(&t, d, len, l2);
		memcpy(&w, (const uint8_t *)&t + 8, 8);
		return w;
	}
	/* A header that fails RFC 791's checks leaves the frame "not IP"
	 * for the stages. */
	if (!xvs_ipv4_header(d, len, off, &ihl, &tot))
		return base | (uint64_t)flags << 24;
	proto = ip[9];
	frag = xvs_rd16(ip + 6);
	l4_off = (uint16_t)(off + ihl);
	if ((frag & 0x3fff) != 0) {
		flags |= XVS_META_FRAGMENT;
		if ((frag & 0x1fff) != 0)
			l4_off = 0;
	} else {
		if (xvs_l4_has_ports(proto, tot - ihl))
			flags |= XVS_META_HAS_PORTS;
		if (xvs_meta_guard_clean(d, 4, proto, flags, l4_off))
			flags |= XVS_META_GUARD_CLEAN;
	}
	return base | (uint64_t)4 << 8 | (uint64_t)proto << 16 | (uint64_t)flags << 24 |
	       (uint64_t)l4_off << 48;
}

static inline void
xvs_meta_l34(struct xvs_pkt_meta *md, const uint8_t *d, uint32_t len, const struct xvs_l2 *l2)
{
	uint64_t w1 = xvs_meta_w1(d, len, l2, md->flags, md->pcp);

	memcpy((uint8_t *)md + 8, &w1, 8);
}

/* Fill m's metadata from its parsed L2 header (l2->l3_off as in the frame
 * now): L3/L4 offsets, protocol and flags; in_port, vid; dst and the rest
 * cleared. Inline: it runs per frame when stages are on. The 32 bytes are
 * built in registers and written as two 16-byte stores, instead of a memset
 * and a store per field. */
typedef uint64_t xvs_meta_v2 __attribute__((vector_size(16)));

/* The metadata's flow hash of m: the RSS hash its port gave, or 0. */
static inline uint32_t
xvs_meta_flow_hash(const struct rte_mbuf *m)
{
	return m->ol_flags & RTE_MBUF_F_RX_RSS_HASH ? m->hash.rss : 0;
}

/* The metadata of m into md: m's own (xvs_meta(m)), or the copy the L2
 * stage holds for a burst whose metadata may never be needed
 * (xvs_stages_run_ingress held). */
static inline void
xvs_meta_fill_at(struct xvs_pkt_meta *md, const struct rte_mbuf *m, const struct xvs_l2 *l2,
		 uint16_t in_port, uint16_t vid)
{
	/* Vectors built from registers: an array of words would go through
	 * the stack and stall on store forwarding when read back as one. */
	xvs_meta_v2 lo = {xvs_meta_flow_hash(m) | (uint64_t)in_port << 32 | (uint64_t)vid << 48,
			  xvs_meta_w1(rte_pktmbuf_mtod(m, const uint8_t *),
				      rte_pktmbuf_data_len(m), l2,
				      l2->tagged ? XVS_META_TAGGED : 0, l2->pcp)};
	xvs_meta_v2 hi = {0, 0};

	memcpy(md, &lo, sizeof(lo));
	memcpy((uint8_t *)md + sizeof(lo), &hi, sizeof(hi));
}

static inline void
xvs_meta_fill(struct rte_mbuf *m, const struct xvs_l2 *l2, uint16_t in_port, uint16_t vid)
{
	xvs_meta_fill_at(xvs_meta(m), m, l2, in_port, vid);
}

/* m's metadata for a frame of the run of prev (the same header bytes, the
 * L2 stage's same_l34): prev's, but for the flow hash. */
static inline void
xvs_meta_of_run(struct rte_mbuf *m, struct rte_mbuf *prev)
{
	*xvs_meta(m) = *xvs_meta(prev);
	xvs_meta(m)->flow_hash = xvs_meta_flow_hash(m);
}

/* Run stages st[0..n_st) of place (XVS_EXT_INGRESS / XVS_EXT_EGRESS) of port
 * on pkts[0..n), whose metadata is filled. Applies the verdicts as xvs_ext.h
 * says: dropped (and, on egress, excluded) frames are freed and counted under
 * the stage's reason and the port's policy / tx_policy drop; bad verdicts are
 * counted (bad_verdict) and taken as PASS; a MODIFIED frame is parsed again
 * (its metadata refreshed) and flagged in mod[]. Keeps the survivors in
 * pkts, in order, and returns their count; orig[i] (if orig is not NULL) is
 * the index survivor i had on entry, mod[i] (if not NULL) tells whether it
 * was modified. Worker only. */
uint16_t xvs_stages_run(struct xvs_worker *w, const struct xvs_snapshot *s,
			const struct xvs_snap_stage *st, unsigned n_st, uint8_t place,
			uint16_t port, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns,
			uint8_t *orig, uint8_t *mod);

/* xvs_stages_run for a port's ingress stages, through the worker's policy
 * flow cache (flow_cache.h) when the stages are ones it stands for (the
 * port-security set, with or without an ACL) and every frame of the burst
 * is one it answers; the same results and counters either way. same[i]
 * (same may be NULL), for i > 0: frame i has frame i - 1's metadata and
 * policy key (the L2 stage compared their bytes), so the cache takes it
 * into i - 1's run without building its key. held (only with same, and
 * only where xvs_stages_lazy_ok; else NULL): the frames' metadata is held
 * back by the caller (flow_cache.h struct xvs_held), which made their
 * cache keys instead; it is written (held->meta, then into the mbufs, runs
 * included) only where something reads it: the cache's misses, a burst the
 * cache does not answer, the ACL's per-packet work. When the cache answers
 * for every frame it never is, and the caller must not read it (nothing
 * after the ingress stages does unless xvs_meta_for_egress or the snapshot
 * has qos_ports): 32 bytes a frame neither made nor written. With changed
 * given,
 * *changed tells whether any frame was dropped or modified, and orig and
 * mod are written only if so (a burst that passes untouched costs no walk).
 * Worker only. */
struct xvs_held;
uint16_t xvs_stages_run_ingress(struct xvs_worker *w, const struct xvs_snapshot *s,
				const struct xvs_snap_stage *st, unsigned n_st, uint16_t port,
				struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns,
				const uint8_t *same, const struct xvs_held *held, uint8_t *orig,
				uint8_t *mod, bool *changed);

/* May the L2 stage hold the burst's metadata back (the held of
 * xvs_stages_run_ingress) for ingress stages pipe->in? When w's flow cache
 * stands for them (its plan in *plan), which needs no metadata where it
 * answers. The caller also checks that nothing reads it after them (no
 * egress stage the frames may reach, xvs_meta_for_egress, and no QoS
 * port). */
struct xvs_fcache_plan;
bool xvs_stages_lazy_ok(const struct xvs_worker *w, const struct xvs_snap_pipeline *pipe,
			struct xvs_fcache_plan *plan);

/* Buffer m for transmission to port slot out (stage_l2.c). Worker only. */
void xvs_tx_enqueue(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t out,
		    struct rte_mbuf *m);

/* Send what stages emitted into w's tx buffers. Worker only. */
void xvs_emit_flush(struct xvs_worker *w, const struct xvs_snapshot *s);

/* Nanoseconds of a TSC value. */
static inline uint64_t
xvs_tsc_ns(uint64_t tsc)
{
	return (uint64_t)((double)tsc * 1e9 / (double)xvs_dp.tsc_hz);
}

/* Send pkts[0..n) on w's own tx queue of port out (w->id < p->n_txq) and
 * count what was sent and what was not. Consumes every mbuf. Worker only. */
void xvs_tx_direct(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t out,
		   struct rte_mbuf **pkts, uint16_t n);

/* Transmit what w has buffered for port slot out. */
void xvs_tx_flush_port(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t out);

/* Transmit everything buffered in w's tx buffers (and hand-off rings it owns). */
void xvs_tx_flush_all(struct xvs_worker *w, const struct xvs_snapshot *s);

/* Hand out[0..k), received on port slot in_port, to worker t through t's
 * hand-off ring from w (software RSS, VMQ); wake t if any went. Frames that
 * do not fit are freed and counted on in_port as received and dropped
 * (rss_ring_full). Returns how many went. Worker w only. */
uint16_t xvs_handoff_burst(struct xvs_worker *w, uint16_t t, uint16_t in_port,
			   struct rte_mbuf **out, uint16_t k);

/* ---- VMQ software queues (vmq_steer.c) ---- */

/* Offset of the mbuf dynamic field holding a handed-over frame's VMQ tag. */
extern int xvs_vmq_tag_offset;

/* Register the tag's mbuf dynamic field (once, before workers start). 0 or a
 * negative errno. */
int xvs_vmq_dp_init(void);

/* Classify a burst from uplink slot in_port by destination MAC + VLAN (p->vmq,
 * not NULL): frames of a queue owned by another worker are handed to it
 * through its hand-off ring from w (frames of one queue stay in order); those
 * of w's own queues are run through the pipeline here, timed on the VMQ
 * queue when acct is given (the uplink's rx queue, acct's open one, resumes
 * after); the rest (the default queue) stay in pkts, in order. Returns their
 * count. Worker only. */
struct xvs_busy_acct;
uint16_t xvs_vmq_steer_burst(struct xvs_worker *w, const struct xvs_snapshot *s,
			     const struct xvs_snap_port *p, uint16_t in_port, struct rte_mbuf **pkts,
			     uint16_t n, uint64_t now_tsc, struct xvs_busy_acct *acct);

/* Busy-cycle accounting of a worker's turn (worker.c), for the VMQ queues it
 * runs frames of: the open interval and the queues that share the tx flush. */
struct xvs_busy_acct {
	struct xvs_rxq_counters **open_q; /* queue whose time runs from *tq, or NULL */
	uint64_t *tq;
	struct xvs_rxq_counters **q;      /* queues that had frames this turn */
	uint16_t *n;                      /* and how many */
	uint16_t *nq;
	uint16_t max;
};

/* Run pkts[0..n), handed over for a VMQ queue (the first frame's mbuf.port
 * has XVS_VMQ_HANDOFF), through the pipeline: the leading frames with the
 * same port and tag, as one run, timed on the queue's counters. Returns how
 * many it took (>= 1). Worker only. */
uint16_t xvs_vmq_run_handed(struct xvs_worker *w, const struct xvs_snapshot *s,
			    struct rte_mbuf **pkts, uint16_t n, uint64_t now_tsc,
			    struct xvs_busy_acct *acct);

/* Wake a worker if it sleeps (any thread). */
void xvs_worker_wake(struct xvs_worker *w);

/* A kind's rxq_ready answer for some queue may have changed (a vhost-user
 * guest attached, enabled or disabled a vring, left): call after the
 * change is visible. Every worker rebuilds its poll list before its next
 * turn; sleeping ones are woken for it. Any thread; no lock, no allocation. */
void xvs_dp_rxq_changed(void);

#endif /* XVS_DP_H */

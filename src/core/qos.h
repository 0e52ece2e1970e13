/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QoS for converged networks: the model, its validation, the traffic-class
 * classifier and the egress scheduler's arithmetic (core, no DPDK, no clock).
 *
 * Model. One scheduling point per egress port, scheduling against a
 * capacity in bit/s (the link speed, or a configured rate for links that
 * report none). Its classes are: the default flow (class 0: every port or
 * frame without a minimum of its own), ports with a minimum, and traffic
 * classes (matched by 802.1p priority, DSCP, IP protocol and L4 port). Each
 * class has a minimum, by weight (1-100, 0 = none) or absolute (bit/s), and an
 * optional cap (maximum bit/s, 0 = none) that holds even on an idle link. The
 * bandwidth mode is per switch: weight, absolute or none, never mixed.
 *
 * Semantics (Hyper-V's, ../shared/reference/FEATURES.md 7): under congestion
 * each backlogged class gets capacity x weight / sum of the backlogged
 * weights; what a class does not use goes to the others by weight (work
 * conservation: weighted max-min fairness); caps always hold; absolute
 * minimums hold. In absolute mode a class's weight is its minimum in bit/s:
 * since validation keeps the minimums' sum within the capacity, each
 * backlogged class gets at least its minimum and the spare is shared in
 * proportion. A class without a minimum gets the smallest weight (1, or
 * 1 bit/s in absolute mode). In mode none every class has weight 1 (plain
 * fair queueing); caps still hold.
 *
 * Algorithm: self-clocked fair queueing (SCFQ, Golestani 1994: virtual
 * finish tags, the system's virtual time is the tag of the frame last
 * served) for the weighted share, with a token bucket per class for its cap
 * and an optional one for the port when the capacity is a configured rate.
 * Why: virtual-time tags give each class its share within one maximum frame
 * per class at any instant, whatever the frame sizes (DRR's error is a
 * quantum, which must be at least a max frame times weight ratio, so with
 * weights 1..100 and 64 KB frames it is megabytes), cost O(classes) per
 * frame with classes <= 8..16, and need no per-round state, so an idle
 * class waking takes its share back at its very next frame.
 * Why not rte_sched: its hierarchy is fixed (port/subport/pipe/13 traffic
 * classes), the 12 upper traffic classes are served in strict priority and
 * weights (WRR) exist only among the 4 queues of the best-effort class 12,
 * so it cannot give N classes weighted work-conserving minimums; rte_meter
 * only polices (drops), it neither queues nor shares.
 *
 * ETS (802.1Qaz) groups: a class may be strict priority (level 1-8) instead
 * of weighted. Backlogged strict classes are served first, higher level
 * first, limited only by their caps (give them one, or they can starve the
 * weighted classes, as in ETS); the weighted classes share what is left. A
 * strict class has no minimum.
 *
 * Time is passed in (nanoseconds, any origin, monotonic). The scheduler does
 * not own frames: the caller tells it each class's head-of-line frame size
 * (0 = empty), and it picks the class that sends next and charges it.
 */
#ifndef XVS_QOS_H
#define XVS_QOS_H

#include <stdbool.h>
#include <stdint.h>

#include "xvs_err.h"

#define XVS_QOS_MAX_CLASSES 16
#define XVS_QOS_WEIGHT_MAX 100
#define XVS_QOS_NAME_LEN 32

enum xvs_qos_mode {
	XVS_QOS_MODE_NONE = 0,     /* no minimums on any class; fair queueing */
	XVS_QOS_MODE_WEIGHT,       /* minimums are relative weights 1-100 */
	XVS_QOS_MODE_ABSOLUTE,     /* minimums are bit/s */
};

/* Parse/format "none" | "weight" | "absolute". Parse returns -EINVAL. */
int xvs_qos_mode_parse(const char *s, enum xvs_qos_mode *mode);
const char *xvs_qos_mode_name(enum xvs_qos_mode mode);

struct xvs_qos_class_cfg {
	char name[XVS_QOS_NAME_LEN]; /* "default", a port name, a class name */
	uint32_t weight;             /* weight mode: 1-100, 0 = no minimum */
	uint64_t min_bps;            /* absolute mode: bit/s, 0 = no minimum */
	uint64_t max_bps;            /* cap in bit/s, 0 = none */
	uint8_t strict;              /* 0: weighted (ETS); 1-8: strict priority,
				      * higher first, before every weighted class */
};

/* One egress port's scheduling point. class[0] is the default flow. */
struct xvs_qos_cfg {
	enum xvs_qos_mode mode;
	uint64_t capacity_bps;       /* link speed or configured rate, > 0 */
	bool shape_port;             /* pace to capacity (link reports no speed) */
	uint32_t n_classes;          /* 1..XVS_QOS_MAX_CLASSES */
	struct xvs_qos_class_cfg cls[XVS_QOS_MAX_CLASSES];
};

/* Check cfg; 0, or -EINVAL with one message per impossible setting: a
 * capacity of 0, a class count out of range, a weight above 100, a weight
 * set in absolute mode or an absolute set in weight mode (mixing), any
 * minimum in mode none, absolute minimums summing above the capacity, a cap
 * below the class's minimum (absolute; in weight mode, below the weight's
 * share with every class backlogged), duplicate class names, a strict
 * priority level above 8 or a strict class with a minimum. */
int xvs_qos_validate(const struct xvs_qos_cfg *cfg, struct xvs_err *err);

/* May the switch's mode change from cfg->mode to mode? Refused (-EBUSY)
 * while any class has a minimum: they would change meaning. */
int xvs_qos_mode_change(const struct xvs_qos_cfg *cfg, enum xvs_qos_mode mode,
			struct xvs_err *err);

/* Parse a bit rate for "what" (messages): digits with an optional K, M, G or
 * T suffix (powers of 1000, as link speeds are given), "0" = none; at most
 * XVS_QOS_RATE_MAX. Returns 0 or -EINVAL naming what and the rule.
 * The maximum keeps a token bucket's depth in bit-ns within int64: a
 * bucket holds XVS_QOS_BURST_NS at its rate, so rate x 1e-3 s x 1e9 must
 * stay below 9.22e18 (9.22 Tbit/s); 4 Tbit/s leaves a margin. */
#define XVS_QOS_RATE_MAX 4000000000000ull /* 4 Tbit/s */
int xvs_qos_rate_parse(const char *what, const char *s, uint64_t *out, struct xvs_err *err);

/* ---- Traffic classifier (pure function). ----------------------------- */

/* What the classifier looks at, filled by the parse stage. */
struct xvs_qos_pkt {
	bool has_pcp;       /* frame carried an 802.1Q tag */
	uint8_t pcp;        /* 0-7 */
	bool is_ip;         /* IPv4 or IPv6 */
	uint8_t dscp;       /* 0-63 */
	uint8_t proto;      /* IP protocol / IPv6 upper-layer header */
	bool has_ports;     /* TCP, UDP or SCTP with ports, not a later fragment */
	uint16_t sport, dport;
};

/* One rule; every field set must match (AND); unset = any. */
struct xvs_qos_match {
	uint8_t pcp_mask;           /* bit p = priority p; 0 = any */
	uint64_t dscp_mask;         /* bit d = DSCP d; 0 = any (implies IP) */
	uint8_t proto;              /* 0 = any (implies IP when set) */
	uint16_t port_lo, port_hi;  /* L4 port range, 0/0 = any */
	bool port_is_src;           /* match the source port, not destination */
	uint8_t cls;                /* class index the rule selects */
};

/* Check one rule against a configuration of n_classes: -EINVAL if its class
 * does not exist or it can match nothing (port_lo > port_hi; ports with a
 * protocol that has none). */
int xvs_qos_match_validate(const struct xvs_qos_match *m, uint32_t n_classes,
			   struct xvs_err *err);

/* Parse a match as an operator writes it, tokens separated by spaces, every
 * one must hold: "tcp" | "udp" | "sctp" | "proto N" (IP protocol), "pcp
 * LIST" (802.1p priorities 0-7), "dscp LIST" (0-63), "dport N[-M]" or "sport
 * N[-M]" (L4 port or range; needs tcp or udp, whose ports alone the
 * datapath reads), where LIST is N[,N...].
 * For example "tcp dport 6600" (Live Migration), "tcp dport 445" (SMB),
 * "pcp 3", "udp dport 3343". m->cls is left 0. Returns 0, or -EINVAL naming
 * the token and the rule; an empty match (matches everything) is refused. */
int xvs_qos_match_parse(const char *s, struct xvs_qos_match *m, struct xvs_err *err);

static inline bool
xvs_qos_match_one(const struct xvs_qos_match *m, const struct xvs_qos_pkt *p)
{
	if (m->pcp_mask != 0 &&
	    !(p->has_pcp && p->pcp < 8 && (m->pcp_mask >> p->pcp) & 1))
		return false;
	if (m->dscp_mask != 0 &&
	    !(p->is_ip && p->dscp < 64 && (m->dscp_mask >> p->dscp) & 1))
		return false;
	if (m->proto != 0 && !(p->is_ip && p->proto == m->proto))
		return false;
	if (m->port_lo != 0 || m->port_hi != 0) {
		uint16_t port = m->port_is_src ? p->sport : p->dport;

		if (!p->is_ip || !p->has_ports || port < m->port_lo || port > m->port_hi)
			return false;
	}
	return true;
}

/* First rule matching p, in order; class 0 (default flow) if none does.
 * The definition of a class: the datapath runs the rules compiled
 * (xvs_qos_classifier_run), which test_qos checks against this. */
static inline uint8_t
xvs_qos_classify(const struct xvs_qos_match *rules, uint32_t n_rules,
		 const struct xvs_qos_pkt *p)
{
	for (uint32_t i = 0; i < n_rules; i++)
		if (xvs_qos_match_one(&rules[i], p))
			return rules[i].cls;
	return 0;
}

/* The rules compiled for the datapath: per field, the rules (bit r:
 * rules[r]) that accept each of its values, so that the rules a frame
 * matches are the AND of one load per field and its class is the first
 * one's: xvs_qos_classify's answer without a test per rule (whose cost grew
 * with the rules a frame passes before its own: all of them for the
 * default flow). A port by its high byte and its low byte: port[][hi]
 * gives the rules every port of that byte's 256 accepts (mask) and a block
 * of 256 for its low byte (block 0: every rule), so that a range starting
 * or ending inside those 256 ports (at most two blocks a rule) costs one
 * more load, not a branch that the ports of mixed traffic mispredict. */
#define XVS_QOS_RULE_BITS XVS_QOS_MAX_CLASSES /* rules a classifier holds */
#define XVS_QOS_PORT_BLOCKS (2 * XVS_QOS_RULE_BITS + 1)

struct xvs_qos_port_byte {
	uint16_t mask;  /* rules the high byte accepts */
	uint16_t block; /* block[] of the low byte's */
};

struct xvs_qos_classifier {
	uint8_t cls[XVS_QOS_RULE_BITS + 1];   /* class of rule r; [RULE_BITS]: 0 */
	uint16_t pcp[9];                      /* [8]: no priority (untagged) */
	uint16_t dscp[65];                    /* [64]: not IP */
	uint16_t proto[257];                  /* [256]: not IP */
	struct xvs_qos_port_byte port[2][257]; /* [0] source, [1] destination;
						* [256]: no ports */
	uint16_t block[XVS_QOS_PORT_BLOCKS][256];
	uint16_t all; /* the rules' bits */
	uint8_t uses; /* XVS_QOS_USES_*: fields some rule reads (the others'
		       * tables accept every value: not looked at) */
};

#define XVS_QOS_USES_PCP 1u
#define XVS_QOS_USES_DSCP 2u
#define XVS_QOS_USES_PROTO 4u
#define XVS_QOS_USES_SPORT 8u
#define XVS_QOS_USES_DPORT 16u
/* fields read from the header beyond the metadata word (qos_egress.h) */
#define XVS_QOS_USES_L34 (XVS_QOS_USES_DSCP | XVS_QOS_USES_SPORT | XVS_QOS_USES_DPORT)

/* Compile rules[0..n) into c. -EINVAL when n > XVS_QOS_RULE_BITS. */
int xvs_qos_classifier_build(struct xvs_qos_classifier *c, const struct xvs_qos_match *rules,
			     uint32_t n, struct xvs_err *err);

static inline uint32_t
xvs_qos_classifier_port(const struct xvs_qos_classifier *c, unsigned dir, bool ports,
			uint16_t port)
{
	struct xvs_qos_port_byte e = c->port[dir][ports ? port >> 8 : 256];

	return e.mask & c->block[e.block][port & 0xff];
}

/* xvs_qos_classify(rules, n, p) of the rules c was built from. */
static inline uint8_t
xvs_qos_classifier_run(const struct xvs_qos_classifier *c, const struct xvs_qos_pkt *p)
{
	bool ports = p->is_ip && p->has_ports;
	uint32_t m = c->all;

	if (c->uses & XVS_QOS_USES_PCP)
		m &= c->pcp[p->has_pcp && p->pcp < 8 ? p->pcp : 8];
	if (c->uses & XVS_QOS_USES_DSCP)
		m &= c->dscp[p->is_ip && p->dscp < 64 ? p->dscp : 64];
	if (c->uses & XVS_QOS_USES_PROTO)
		m &= c->proto[p->is_ip ? p->proto : 256];
	if (c->uses & XVS_QOS_USES_SPORT)
		m &= xvs_qos_classifier_port(c, 0, ports, p->sport);
	if (c->uses & XVS_QOS_USES_DPORT)
		m &= xvs_qos_classifier_port(c, 1, ports, p->dport);
	return c->cls[__builtin_ctz(m | 1u << XVS_QOS_RULE_BITS)];
}

/* ---- Scheduler. --------------------------------------------------------- */

/* Token bucket, in bit-nanoseconds (bits x 1e9) so the refill is exact in
 * integers: rate (bit/s) x elapsed (ns). */
struct xvs_qos_tb {
	uint64_t rate_bps;   /* 0 = no limit */
	int64_t tokens;      /* bit-ns; may go negative by one frame */
	int64_t depth;       /* bit-ns; the burst allowed after idling */
	uint64_t last_ns;
};

struct xvs_qos_class {
	uint64_t inv_w;      /* virtual time per byte: XVS_QOS_VSCALE / weight */
	uint64_t finish;     /* virtual finish tag of the last frame served */
	bool active;         /* was backlogged at the previous pick */
	uint8_t strict;      /* 0 weighted, else strict priority level */
	struct xvs_qos_tb cap;
	uint64_t sent_bytes, sent_frames;
};

struct xvs_qos_sched {
	uint32_t n;
	uint64_t vtime;      /* system virtual time: tag of the last frame served */
	struct xvs_qos_tb port;  /* pacing to capacity when shape_port */
	struct xvs_qos_class cls[XVS_QOS_MAX_CLASSES];
};

/* Burst allowed by a cap after idling: max(2 x 64 KB frames, 1 ms at rate). */
#define XVS_QOS_BURST_NS 1000000ull

/* Build the scheduler of a validated cfg, at time now_ns. */
void xvs_qos_sched_init(struct xvs_qos_sched *s, const struct xvs_qos_cfg *cfg,
			uint64_t now_ns);

/* Pick the class that sends next and charge it head_len[class] bytes.
 * head_len[i] is class i's head-of-line frame in bytes, 0 when it is empty.
 * Returns the class, or -1 if nothing may send now: then *wake_ns (if not
 * NULL) is when a capped class or the port may send again (UINT64_MAX when
 * every class is empty). */
int xvs_qos_pick(struct xvs_qos_sched *s, const uint32_t *head_len,
		 uint64_t now_ns, uint64_t *wake_ns);

/* A class's backlog as xvs_qos_pick_burst sees it: the lengths (bytes) of
 * its queued frames in a ring of mask + 1 entries, head first. */
struct xvs_qos_backlog {
	const uint32_t *len;
	uint32_t mask;
	uint32_t head;       /* free-running index of the head frame */
	uint32_t n;          /* frames queued; 0 = empty */
};

/* Pick up to max frames at now_ns, exactly as max calls of xvs_qos_pick
 * would (each class's frames leave in order; a frame is charged len +
 * extra bytes): out[k] is the class of the k-th frame. Returns how many
 * were picked. When fewer than max, *wake_ns (if not NULL) is as
 * xvs_qos_pick's when it returns -1; else 0. Per burst rather than per
 * frame: the caps are refilled and the eligible classes found once, then
 * only the class that sent is looked at again. */
uint32_t xvs_qos_pick_burst(struct xvs_qos_sched *s, const struct xvs_qos_backlog *b,
			    uint32_t extra, uint64_t now_ns, uint8_t *out, uint32_t max,
			    uint64_t *wake_ns);

/* A burst of n frames (frame i of class cls[i], len[i] + extra bytes
 * charged) that is all the scheduler has: may every frame go now? When
 * each of its classes is weighted and uncapped and the port's bucket holds
 * them all, the picks of xvs_qos_pick_burst(.., max = n) would take every
 * frame, and only their order among classes would tell them apart, which a
 * burst sent at once does not show: the scheduler is left as those picks
 * leave it (tags, virtual time, buckets, counts, active classes), without
 * making them, and true is returned; the frames may go in the order they
 * came; *sent (if not NULL) then says what each class sent, for the
 * caller's counters. Else false and nothing changed (also when a frame's
 * charge reaches FRAME_MAX, 128 KiB, which the picks clip). n <= 4096. */
struct xvs_qos_sent {
	uint32_t seen;                          /* bit c: class c sent */
	uint32_t frames[XVS_QOS_MAX_CLASSES];   /* of class c, where seen */
	uint64_t bytes[XVS_QOS_MAX_CLASSES];    /* their len[] (without extra) */
};

bool xvs_qos_pick_all(struct xvs_qos_sched *s, const uint8_t *cls, const uint32_t *len,
		      uint32_t n, uint32_t extra, uint64_t now_ns, struct xvs_qos_sent *sent);

/* ---- 802.1Qbb priority flow control and 802.3x PAUSE (received). ---- */

#define XVS_QOS_ETH_MAC_CTRL 0x8808  /* MAC control ethertype */
#define XVS_QOS_OP_PAUSE 0x0001      /* 802.3x PAUSE: every priority */
#define XVS_QOS_OP_PFC 0x0101        /* 802.1Qbb: per priority */

struct xvs_qos_pause {
	bool pfc;              /* 802.1Qbb (else 802.3x PAUSE) */
	uint8_t enable;        /* priorities the frame speaks for (PAUSE: all 8) */
	uint16_t quanta[8];    /* pause time per priority, in 512 bit times */
};

/* The destination of PAUSE and PFC frames: 01:80:c2:00:00:01. */
extern const uint8_t xvs_qos_pause_dst[6];

/* Parse a MAC control frame (from the destination MAC on; VLAN tags are not
 * allowed on MAC control frames). Returns 1 if it is a PAUSE or PFC frame
 * sent to xvs_qos_pause_dst (filled into *out), 0 if it is another MAC
 * control frame, or a PAUSE/PFC frame to another address (still to be
 * consumed: never forwarded, never obeyed), -1 if it is not a MAC control
 * frame. */
int xvs_qos_pause_parse(const uint8_t *frame, uint32_t len, struct xvs_qos_pause *out);

/* Until when a pause of quanta x 512 bit times at link_bps holds, from
 * now_ns (rounded up to the ns). 0 for quanta 0 (resume) or link_bps 0. */
uint64_t xvs_qos_pause_until(uint16_t quanta, uint64_t link_bps, uint64_t now_ns);

#endif /* XVS_QOS_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress QoS on real mbufs (EAL --no-huge): the owner's direct path
 * (qos_egress.c send_direct: its own burst picked from the burst itself when
 * nothing else waits) against what queueing would have done: frames of a
 * class leave in order, behind what waits; a burst of several classes is
 * counted per class; frames other workers handed over are not skipped. And
 * the class a frame of a run takes from the frame before it (xvs_txbuf
 * same_class), through the L2 stage; and the class of software TSO segments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "random_frame.h"
#include "flow_cache.h"
#include "pipeline.h"
#include "port_ops.h"
#include "qos_egress.h"
#include "stages.h"

struct xvs_dp xvs_dp;

static struct rte_mempool *mp;
static struct xvs_worker *w0, *w1;
static struct xvs_snapshot *snap;
static struct xvs_qos_plan *pl;

/* What port 1 sent, by the sequence number in each frame's payload, and
 * the class each was sent in. */
static uint32_t sent_seq[4096];
static uint8_t sent_cls[4096];
static int8_t sent_pcp[4096]; /* the 802.1p priority it left with, -1: untagged */
static unsigned n_sent;

static uint16_t
record_tx(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	(void)priv, (void)q;
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		bool tagged = d[12] == 0x81 && d[13] == 0x00;
		uint32_t seq;

		memcpy(&seq, d + (tagged ? 46 : 42), 4);
		if (n_sent < RTE_DIM(sent_seq)) {
			sent_cls[n_sent] = rte_mbuf_sched_traffic_class_get(pkts[i]);
			sent_pcp[n_sent] = tagged ? (int8_t)(d[14] >> 5) : -1;
			sent_seq[n_sent++] = seq;
		}
		*bytes += pkts[i]->pkt_len;
	}
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

static const struct xvs_port_ops ops = {.tx_burst = record_tx};

/* A UDP frame of len bytes to dport (class: dport 100 -> 1, 200 -> 2, else
 * 0), seq in its payload, metadata filled as the L2 stage does. */
static struct rte_mbuf *
frame(uint16_t dport, uint32_t seq, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct xvs_l2 l2;
	uint8_t *d;

	assert_non_null(m);
	d = (uint8_t *)rte_pktmbuf_append(m, len);
	memset(d, 0, len);
	memcpy(d, (uint8_t[]){2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}, 14);
	d[14] = 0x45, d[16] = (uint8_t)((len - 14) >> 8), d[17] = (uint8_t)(len - 14);
	d[22] = 64, d[23] = 17;
	d[36] = (uint8_t)(dport >> 8), d[37] = (uint8_t)dport;
	d[38] = (uint8_t)((len - 34) >> 8), d[39] = (uint8_t)(len - 34);
	memcpy(d + 42, &seq, 4);
	assert_int_equal(xvs_parse_l2(d, len, &l2), XVS_PARSE_OK);
	xvs_meta_fill(m, &l2, 0, 1);
	return m;
}

/* Metadata as a frame's mbuf may hold from its last use (the L2 stage
 * fills none on a switch whose only metadata reader is QoS): zeroes, which
 * classify as the default flow. */
static void
meta_stale(struct rte_mbuf *m)
{
	memset(xvs_meta(m), 0, sizeof(struct xvs_pkt_meta));
}

/* pl's rules were written: compile them, as plan_build does. */
static void
rules_changed(void)
{
	struct xvs_err err;

	assert_int_equal(xvs_qos_classifier_build(&pl->classifier, pl->rules, pl->n_rules, &err),
			 0);
}

/* Port 1 with classes default, c1 (udp dport 100), c2 (udp dport 200), all
 * of weight 1, at capacity_bps (paced), owned by worker 0. */
static int
setup(void **state)
{
	struct xvs_err err;

	(void)state;
	memset(pl, 0, sizeof(*pl));
	pl->gen = 1;
	pl->layout_gen = 1;
	pl->cfg.mode = XVS_QOS_MODE_WEIGHT;
	pl->cfg.shape_port = true;
	pl->cfg.n_classes = 3;
	memset(pl->pcp, -1, sizeof(pl->pcp));
	for (unsigned c = 0; c < 3; c++) {
		snprintf(pl->cfg.cls[c].name, XVS_QOS_NAME_LEN, "c%u", c);
		pl->cfg.cls[c].weight = 1;
	}
	assert_int_equal(xvs_qos_match_parse("udp dport 100", &pl->rules[0], &err), 0);
	assert_int_equal(xvs_qos_match_parse("udp dport 200", &pl->rules[1], &err), 0);
	pl->rules[0].cls = 1;
	pl->rules[1].cls = 2;
	pl->n_rules = 2;
	rules_changed();
	pl->qlimit_bytes = 1u << 30;
	xvs_qos_port_free(snap->port[1].qos);
	memset(snap, 0, sizeof(*snap));
	snap->port[1].active = true;
	snap->port[1].ops = &ops;
	snap->port[1].n_txq = 2;
	snap->port[1].qos = xvs_qos_port_create(1, 2);
	snap->port[1].qos_plan = pl;
	snap->port[1].qos_owner = 0;
	snap->n_workers = 2;
	snap->n_qos_owners = 1;
	snap->worker[0].n_qos_owned = 1;
	snap->worker[0].qos_owned[0] = 1;
	assert_non_null(snap->port[1].qos);
	n_sent = 0;
	return 0;
}

static void
capacity(uint64_t bps)
{
	struct xvs_err err;

	pl->cfg.capacity_bps = bps;
	assert_int_equal(xvs_qos_validate(&pl->cfg, &err), 0);
}

/* Hand n frames (dport, seq from *seq on) to port 1 from worker w. */
static void
hand(struct xvs_worker *w, uint16_t dport, uint32_t *seq, unsigned n, uint16_t len)
{
	struct rte_mbuf *pkts[XVS_BURST];

	for (unsigned i = 0; i < n; i++)
		pkts[i] = frame(dport, (*seq)++, len);
	xvs_qos_classify_burst(pl, pkts, (uint16_t)n, 0, 0);
	xvs_qos_handoff(w, &snap->port[1], 1, pkts, (uint16_t)n);
}

/* A paced port: the owner's bursts go out at once while the bucket lasts,
 * then queue; a burst that comes while frames wait goes behind them, also
 * when the bucket has refilled meanwhile. */
static void
test_qos_dp_direct_keeps_order(void **state)
{
	uint32_t seq = 0;

	(void)state;
	capacity(10000000); /* 10 Mbit/s: a bucket of ~87 1500-byte frames */
	xvs_qos_service(w0, snap); /* the scheduler built for the plan */
	for (int b = 0; b < 6; b++)
		hand(w0, 100, &seq, XVS_BURST, 1500);
	assert_true(n_sent > 0 && n_sent < seq);
	rte_delay_us_block(20000); /* tokens for ~16 frames */
	hand(w0, 100, &seq, XVS_BURST, 1500);
	assert_true(n_sent < seq);
	xvs_qos_service(w0, snap);
	assert_true(n_sent > 0);
	for (unsigned i = 0; i < n_sent; i++)
		assert_int_equal(sent_seq[i], i);
	xvs_qos_port_flush(snap->port[1].qos);
}

/* An 802.3x PAUSE received on the port holds the owner's burst for the
 * scheduler (queued, sent by a turn after the pause); once the pause has
 * ended the owner's bursts go out directly again, at the hand-off. */
static void
test_qos_dp_direct_after_pause(void **state)
{
	/* to 01:80:c2:00:00:01, MAC control, PAUSE, 0xffff quanta: 3.4 ms at 10G */
	static const uint8_t pause[60] = {0x01, 0x80, 0xc2, 0, 0, 0x01, 2, 0, 0, 0, 0, 9,
					  0x88, 0x08, 0, 0x01, 0xff, 0xff};
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint32_t seq = 0;

	(void)state;
	capacity(10000000000ull);
	xvs_qos_service(w0, snap);
	hand(w0, 100, &seq, XVS_BURST, 64);
	assert_int_equal(n_sent, XVS_BURST); /* direct */
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, sizeof(pause)), pause, sizeof(pause));
	xvs_qos_mac_control(&snap->port[1], m);
	rte_pktmbuf_free(m);
	hand(w0, 100, &seq, XVS_BURST, 64);
	assert_int_equal(n_sent, XVS_BURST); /* held while paused */
	rte_delay_us_block(5000);
	xvs_qos_service(w0, snap);
	assert_int_equal(n_sent, 2 * XVS_BURST);
	hand(w0, 100, &seq, XVS_BURST, 64);
	assert_int_equal(n_sent, 3 * XVS_BURST); /* direct again */
	for (unsigned i = 0; i < n_sent; i++)
		assert_int_equal(sent_seq[i], i);
}

/* A burst whose frames change class midway: counted per class. */
static void
test_qos_dp_direct_mixed_classes(void **state)
{
	struct xvs_qos_class_ctr c1, c2;
	uint32_t seq = 0;
	struct rte_mbuf *pkts[XVS_BURST];

	(void)state;
	capacity(1000000000000ull);
	xvs_qos_service(w0, snap);
	for (unsigned i = 0; i < XVS_BURST; i++)
		pkts[i] = frame(i < 20 ? 100 : 200, seq++, 64);
	xvs_qos_classify_burst(pl, pkts, XVS_BURST, 0, 0);
	xvs_qos_handoff(w0, &snap->port[1], 1, pkts, XVS_BURST);
	xvs_qos_service(w0, snap);
	assert_int_equal(n_sent, XVS_BURST);
	xvs_qos_class_read(snap->port[1].qos, 1, &c1);
	xvs_qos_class_read(snap->port[1].qos, 2, &c2);
	assert_int_equal(c1.sent_frames, 20);
	assert_int_equal(c2.sent_frames, XVS_BURST - 20);
}

/* Frames another worker handed over: the owner's turn sends them, and the
 * owner's own burst, of another class, shares the link with them as if both
 * were queued (not sent ahead of them). */
static void
test_qos_dp_rings_seen(void **state)
{
	unsigned theirs = 0;
	uint32_t seq = 0;

	(void)state;
	capacity(1000000000000ull);
	xvs_qos_service(w0, snap);
	hand(w1, 200, &seq, XVS_BURST, 64);
	assert_int_equal(n_sent, 0);
	xvs_qos_service(w0, snap);
	assert_int_equal(n_sent, XVS_BURST);
	hand(w1, 200, &seq, XVS_BURST, 64);
	hand(w0, 100, &seq, XVS_BURST, 64);
	xvs_qos_service(w0, snap);
	assert_int_equal(n_sent, 3 * XVS_BURST);
	for (unsigned i = XVS_BURST; i < 2 * XVS_BURST; i++)
		theirs += sent_seq[i] < 2 * XVS_BURST;
	assert_true(theirs >= XVS_BURST / 4); /* equal weights: about half each */
}

/* An ingress filter on port 3 that drops the frames whose sequence numbers
 * dropped[] marks. */
static bool dropped[256];

static void
drop_marked(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	(void)ctx;
	for (uint16_t i = 0; i < b->n; i++) {
		uint32_t seq;

		memcpy(&seq, b->data[i] + 42, 4);
		verdict[i] = seq < RTE_DIM(dropped) && dropped[seq] ? XVS_VERDICT_DROP :
								       XVS_VERDICT_PASS;
		reason[i] = 0;
	}
}

static const struct xvs_ext_ops drop_ops = {.size = sizeof(drop_ops), .process = drop_marked};
static const char *const drop_reasons[] = {"marked", NULL};
static const struct xvs_ext_desc drop_desc = {
	.abi_version = XVS_EXT_ABI_VERSION, .size = sizeof(drop_desc), .name = "drop_marked",
	.kind = XVS_EXT_FILTER, .places = XVS_EXT_INGRESS, .drop_reasons = drop_reasons,
	.ops = &drop_ops,
};

/* Ports 1 (QoS) and 3 in the L2 stage's view: access ports of VLAN 1 up to
 * 1514 bytes, port 3 active; the FDB knows 02:..:02 on port 1 and
 * 02:..:01 on port 3 in VLAN vid. */
static void
l2_ports(uint16_t vid)
{
	struct xvs_fdb_params fp = {.max_entries = 64, .aging_ns = 0};
	const uint8_t dst[8] = {2, 0, 0, 0, 0, 2}, src[8] = {2, 0, 0, 0, 0, 1};
	struct xvs_err err;

	assert_int_equal(xvs_fdb_create(&fp, &xvs_dp.fdb, &err), 0);
	assert_int_equal(xvs_fdb_add_static(xvs_dp.fdb, dst, vid, 1, &err), 0);
	assert_int_equal(xvs_fdb_add_static(xvs_dp.fdb, src, vid, 3, &err), 0);
	for (int p = 1; p <= 3; p += 2) {
		xvs_vlan_cfg_init(&snap->port[p].vlan);
		snap->port[p].max_frame = 1514;
	}
	snap->port[3].active = true;
}

/* Frames from port 3 through the L2 stage to port 1 (QoS), in runs of one
 * flow broken by a change of UDP port, i.e. of class: a frame of a run takes
 * the class of the frame before it without being classified, and the first
 * frame after a run is classified afresh. In the last rounds an ingress
 * filter drops the first frame of some runs: the frame that then follows
 * another run's frame is no run of it. Each frame leaves in the class its
 * port says. */
#define FCACHE_FILL 30

enum runs_mode {
	RUNS_META,   /* some port has stages: the metadata is filled */
	RUNS_L2,     /* QoS alone: the L2 stage classifies */
	RUNS_FCACHE, /* the input port's guards, through the flow cache */
};

static void
runs_keep_their_class(enum runs_mode mode)
{
	bool meta = mode == RUNS_META;
	static const uint16_t dports[] = {100, 100, 100, 200, 200, 7, 7, 7, 100, 200, 100, 100,
					  200, 200, 200, 200, 7, 100, 100, 200, 7, 7, 100, 200};
	const unsigned n = RTE_DIM(dports);
	struct rte_mbuf *pkts[XVS_BURST];
	uint64_t fwd0 = w0->ctr[3].forwarded;

	capacity(1000000000000ull);
	l2_ports(1);
	/* With metadata (some port has stages), or QoS alone: the L2 stage
	 * classifies (until the ingress stage comes in round 2). */
	snap->n_egress_ports = meta; /* as if port 1 had egress stages */
	snap->egress_port = 1;
	snap->qos_ports = true;
	if (mode == RUNS_FCACHE) {
		/* Stages the flow cache stands for, which spares a run's frames
		 * their metadata when nothing reads it after them: QoS at the
		 * flush does. */
		w0->fcache = xvs_fcache_create(SOCKET_ID_ANY);
		assert_non_null(w0->fcache);
		snap->gen++;
		snap->port[3].pipe.n_in = 2;
		snap->port[3].pipe.in[0] = (struct xvs_snap_stage){.desc = &xvs_stage_dhcp_guard,
								   .id = 2};
		snap->port[3].pipe.in[1] = (struct xvs_snap_stage){.desc = &xvs_stage_router_guard,
								   .id = 3};
	}
	xvs_qos_service(w0, snap);
	memset(dropped, 0, sizeof(dropped));
	for (unsigned round = 0; round < 4; round++) {
		if (round == 2 && mode != RUNS_FCACHE) {
			/* the first frame of runs 100, 7 and 100: 200 and 100 then
			 * follow a run's frame of another class */
			for (unsigned r = 2; r < 4; r++)
				dropped[r * n + 0] = dropped[r * n + 5] = dropped[r * n + 8] = true;
			snap->port[3].pipe.n_in = 1;
			snap->port[3].pipe.in[0] = (struct xvs_snap_stage){.desc = &drop_desc, .id = 1};
		}
		if (mode == RUNS_FCACHE) {
			/* 30 frames of class 0 first (frame 5's headers), so that
			 * the tx buffer goes out between the first run's second and
			 * third frames: the third is then classified at the flush,
			 * from its own metadata. */
			for (unsigned i = 0; i < FCACHE_FILL; i++) {
				pkts[i] = frame(dports[5], round * n + 5, 64);
				meta_stale(pkts[i]);
			}
			xvs_l2_forward_burst(w0, snap, 3, pkts, FCACHE_FILL, rte_rdtsc());
		}
		for (unsigned i = 0; i < n; i++) {
			pkts[i] = frame(dports[i], round * n + i, 64);
			if (!meta)
				meta_stale(pkts[i]);
		}
		xvs_l2_forward_burst(w0, snap, 3, pkts, (uint16_t)n, rte_rdtsc());
		xvs_tx_flush_all(w0, snap);
		xvs_qos_service(w0, snap);
	}
	unsigned n_drop = mode == RUNS_FCACHE ? 0 : 6, n_fill = mode == RUNS_FCACHE ? FCACHE_FILL : 0;

	assert_int_equal(n_sent, 4 * (n + n_fill) - n_drop);
	for (unsigned i = 0; i < n_sent; i++) {
		uint16_t d = dports[sent_seq[i] % n];

		assert_false(dropped[sent_seq[i]]);
		if (sent_cls[i] != (d == 100 ? 1 : d == 200 ? 2 : 0))
			fail_msg("frame %u (udp port %u) sent in class %u", sent_seq[i], d,
				 sent_cls[i]);
	}
	assert_int_equal(w0->ctr[3].forwarded - fwd0, 4 * (n + n_fill) - n_drop);
	if (w0->fcache != NULL) {
		xvs_fcache_free(w0->fcache);
		w0->fcache = NULL;
	}
	xvs_fdb_destroy(xvs_dp.fdb);
	xvs_dp.fdb = NULL;
	memset(&snap->port[3], 0, sizeof(snap->port[3]));
}

static void
test_qos_dp_runs_keep_their_class(void **state)
{
	(void)state;
	runs_keep_their_class(RUNS_META);
}

/* The same on a switch whose only metadata reader is QoS: the L2 stage
 * classifies from its own parse (xvs_qos_classify_l2), the metadata is not
 * filled (left stale here: a class read from it would be 0). */
static void
test_qos_dp_l2_classifies_runs(void **state)
{
	(void)state;
	runs_keep_their_class(RUNS_L2);
}

/* The same behind the input port's guards, which the flow cache stands
 * for: a run's frames are spared their metadata only where nothing reads it
 * later, and QoS at the flush reads it (metadata left stale here). */
static void
test_qos_dp_runs_behind_the_flow_cache(void **state)
{
	(void)state;
	runs_keep_their_class(RUNS_FCACHE);
}

/* QoS alone: frames from trunk port 3, tagged (VLAN 5) with priority 5 or
 * 3, classified by 802.1p (class 1: pcp 5) as received, also when the
 * access port 1 pops the tag; and flooded frames (an unknown destination),
 * whose copies are classified at the flush from the metadata filled for
 * them. */
static void
test_qos_dp_l2_classifies_tags_and_floods(void **state)
{
	struct rte_mbuf *pkts[XVS_BURST];
	uint64_t flooded0 = w0->ctr[3].flooded;
	struct xvs_err err;
	const unsigned n = 16;

	(void)state;
	capacity(1000000000000ull);
	assert_int_equal(xvs_qos_match_parse("pcp 5", &pl->rules[0], &err), 0);
	pl->rules[0].cls = 1;
	rules_changed();
	l2_ports(5);
	snap->port[1].vlan.access_vid = 5;
	snap->port[3].vlan.mode = XVS_VLAN_TRUNK;
	memset(snap->port[3].vlan.allowed, 0xff, sizeof(snap->port[3].vlan.allowed));
	snap->n_flood = 2;
	snap->flood[0] = 1;
	snap->flood[1] = 3;
	snap->qos_ports = true;
	xvs_qos_service(w0, snap);
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m = frame(i % 4 == 3 ? 200 : 100, round * n + i, 64);
			uint8_t *d;

			assert_non_null(rte_pktmbuf_prepend(m, 4));
			d = rte_pktmbuf_mtod(m, uint8_t *);
			memmove(d, d + 4, 12);
			d[12] = 0x81, d[13] = 0;
			d[14] = (uint8_t)((i % 2 ? 5 : 3) << 5), d[15] = 5;
			if (round == 1)
				d[5] = 9; /* unknown: flooded to port 1 */
			meta_stale(m);
			pkts[i] = m;
		}
		xvs_l2_forward_burst(w0, snap, 3, pkts, (uint16_t)n, rte_rdtsc());
		xvs_tx_flush_all(w0, snap);
		xvs_qos_service(w0, snap);
	}
	assert_int_equal(n_sent, 2 * n);
	for (unsigned i = 0; i < n_sent; i++)
		if (sent_cls[i] != (sent_seq[i] % 2 ? 1 : 0))
			fail_msg("frame %u (pcp %u) sent in class %u", sent_seq[i],
				 sent_seq[i] % 2 ? 5 : 3, sent_cls[i]);
	assert_int_equal(w0->ctr[3].flooded - flooded0, n);
	xvs_fdb_destroy(xvs_dp.fdb);
	xvs_dp.fdb = NULL;
	memset(&snap->port[3], 0, sizeof(snap->port[3]));
}

/* The owner's burst of several classes, sent direct (taken whole:
 * xvs_qos_pick_all), leaves each class's frames in the order and with the
 * counts, tags and virtual time the scheduler gives the same frames queued:
 * the same bursts handed over by another worker and sent by the owner's
 * turn, which interleaves the classes by their picks; sent direct, a burst
 * keeps the order it came in. Weights 1, 2, 4; lengths vary; frames
 * charged on the wire (+ 24 bytes); class 2 marks 802.1p priority 5. */
static void
test_qos_dp_direct_mixed_same_picks(void **state)
{
	static const uint16_t dports[] = {7, 100, 200, 200, 100, 7, 7, 200, 100, 100, 7, 200};
	uint32_t seq_a[8 * XVS_BURST];
	uint8_t cls_a[8 * XVS_BURST];
	struct xvs_qos_class_ctr ca[3], cb;
	uint64_t fin_a[3], vtime_a = 0;
	unsigned n_a = 0;

	for (int run = 0; run < 2; run++) {
		struct xvs_worker *w = run == 0 ? w0 : w1;
		uint32_t seq = 0;

		setup(state);
		pl->gen++; /* a new scheduler, from zero tags */
		for (unsigned c = 0; c < 3; c++)
			pl->cfg.cls[c].weight = 1u << c;
		pl->wire_len = true;
		pl->pcp[2] = 5;
		pl->any_pcp = true;
		capacity(1000000000000ull);
		xvs_qos_service(w0, snap);
		for (unsigned b = 0; b < 8; b++) {
			struct rte_mbuf *pkts[XVS_BURST];
			unsigned before = n_sent;

			for (unsigned i = 0; i < XVS_BURST; i++, seq++)
				pkts[i] = frame(dports[(seq * 7 + b) % RTE_DIM(dports)], seq,
						(uint16_t)(64 + (seq * 37) % 1400));
			xvs_qos_classify_burst(pl, pkts, XVS_BURST, 0, 0);
			xvs_qos_handoff(w, &snap->port[1], 1, pkts, XVS_BURST);
			if (run == 0)
				assert_int_equal(n_sent, before + XVS_BURST); /* direct */
			xvs_qos_service(w0, snap);
		}
		assert_int_equal(n_sent, 8 * XVS_BURST);
		for (unsigned i = 0; i < n_sent; i++)
			if (sent_pcp[i] != (sent_cls[i] == 2 ? 5 : -1))
				fail_msg("%s: frame %u of class %u left with priority %d",
					 run == 0 ? "direct" : "queued", sent_seq[i], sent_cls[i],
					 sent_pcp[i]);
		if (run == 0) {
			memcpy(seq_a, sent_seq, sizeof(seq_a));
			memcpy(cls_a, sent_cls, sizeof(cls_a));
			n_a = n_sent;
			for (unsigned c = 0; c < 3; c++) {
				xvs_qos_class_read(snap->port[1].qos, c, &ca[c]);
				fin_a[c] = snap->port[1].qos->sched.cls[c].finish;
			}
			vtime_a = snap->port[1].qos->sched.vtime;
			for (unsigned i = 0; i < n_sent; i++)
				if (sent_seq[i] != i)
					fail_msg("direct: frame %u went out as %u", sent_seq[i], i);
			continue;
		}
		assert_int_equal(n_sent, n_a);
		for (unsigned c = 0; c < 3; c++) {
			unsigned ia = 0, ib = 0;

			for (;;) {
				while (ia < n_a && cls_a[ia] != c)
					ia++;
				while (ib < n_sent && sent_cls[ib] != c)
					ib++;
				if (ia == n_a || ib == n_sent)
					break;
				if (seq_a[ia] != sent_seq[ib])
					fail_msg("class %u: direct sent %u, queued %u", c, seq_a[ia],
						 sent_seq[ib]);
				ia++;
				ib++;
			}
			assert_int_equal(ia, n_a);
			assert_int_equal(ib, n_sent);
			xvs_qos_class_read(snap->port[1].qos, c, &cb);
			assert_int_equal(ca[c].sent_frames, cb.sent_frames);
			assert_int_equal(ca[c].sent_bytes, cb.sent_bytes);
			assert_true(snap->port[1].qos->sched.cls[c].finish == fin_a[c]);
		}
		assert_true(snap->port[1].qos->sched.vtime == vtime_a);
	}
	pl->wire_len = false;
	pl->pcp[2] = -1;
	pl->any_pcp = false;
}

/* A paced port: bursts of several classes sent direct while the bucket
 * lasts, the rest queued; every frame leaves once, each class's in order. */
static void
test_qos_dp_direct_mixed_keeps_order(void **state)
{
	uint32_t seq = 0, last[3] = {0, 0, 0};
	bool seen[3] = {false, false, false};

	(void)state;
	capacity(10000000); /* 10 Mbit/s: a bucket of ~87 1500-byte frames */
	xvs_qos_service(w0, snap);
	for (int b = 0; b < 4; b++) {
		struct rte_mbuf *pkts[XVS_BURST];

		for (unsigned i = 0; i < XVS_BURST; i++, seq++)
			pkts[i] = frame(seq % 3 == 0 ? 7 : seq % 3 == 1 ? 100 : 200, seq, 1500);
		xvs_qos_classify_burst(pl, pkts, XVS_BURST, 0, 0);
		xvs_qos_handoff(w0, &snap->port[1], 1, pkts, XVS_BURST);
	}
	assert_true(n_sent > 0 && n_sent < seq);
	for (int t = 0; t < 200 && n_sent < seq; t++) {
		rte_delay_us_block(2000);
		xvs_qos_service(w0, snap);
	}
	assert_int_equal(n_sent, seq);
	for (unsigned i = 0; i < n_sent; i++) {
		unsigned c = sent_cls[i];

		assert_true(c < 3);
		assert_int_equal(sent_seq[i] % 3, c == 0 ? 0 : c == 1 ? 1 : 2);
		if (seen[c])
			assert_true(sent_seq[i] > last[c]);
		seen[c] = true;
		last[c] = sent_seq[i];
	}
	/* Each class counted its own frames, also those the direct path
	 * picked frame by frame once the bucket no longer held a burst. */
	for (unsigned c = 0; c < 3; c++) {
		struct xvs_qos_class_ctr ctr;

		xvs_qos_class_read(snap->port[1].qos, c, &ctr);
		assert_int_equal(ctr.sent_frames, (seq + 2 - c) / 3);
	}
}

/* A TSO frame to a QoS port that cannot take offloads is segmented in
 * software at the flush (worker.c resolve_offloads), after it was classified:
 * each segment, a fresh mbuf, is sent in the frame's class, not in what
 * its mbuf's class byte held from its last use (0 here). */
static void
test_qos_dp_segments_keep_their_class(void **state)
{
	struct rte_mbuf *m, *spare[2048];
	struct xvs_txbuf *tb = &w0->tx[1];
	const uint16_t len = 14 + 20 + 20 + 1446, mss = 400;
	struct xvs_err err;
	struct xvs_l2 l2;
	unsigned n_spare = 0;
	uint8_t *d;

	(void)state;
	capacity(1000000000000ull);
	assert_int_equal(xvs_qos_match_parse("tcp dport 200", &pl->rules[1], &err), 0);
	pl->rules[1].cls = 2;
	rules_changed();
	/* Every free mbuf's class byte 0: the segments' unless copied. */
	while (n_spare < RTE_DIM(spare) && (m = rte_pktmbuf_alloc(mp)) != NULL) {
		rte_mbuf_sched_traffic_class_set(m, 0);
		spare[n_spare++] = m;
	}
	rte_pktmbuf_free_bulk(spare, n_spare);
	/* frame()'s UDP frame made TCP: protocol 6, data offset 20 bytes */
	m = frame(200, 0, len);
	d = rte_pktmbuf_mtod(m, uint8_t *);
	d[23] = 6;
	d[46] = 5 << 4;
	assert_int_equal(xvs_parse_l2(d, len, &l2), XVS_PARSE_OK);
	xvs_meta_fill(m, &l2, 0, 1);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4 |
		       RTE_MBUF_F_TX_IP_CKSUM;
	m->l2_len = 14, m->l3_len = 20, m->l4_len = 20, m->tso_segsz = mss;
	tb->pkts[tb->n++] = m;
	tb->needs_resolve = true;
	xvs_qos_service(w0, snap); /* the plan taken in: the owner's direct path */
	xvs_tx_flush_port(w0, snap, 1);
	assert_int_equal(n_sent, (1446 + mss - 1) / mss);
	for (unsigned i = 0; i < n_sent; i++)
		assert_int_equal(sent_cls[i], 2);
	assert_int_equal(snap->port[1].qos->ctr[2].sent_frames, n_sent);
}

/* The class of a frame from the packet parser (xvs_parse_flow) by the rule
 * walk (xvs_qos_classify, the definition): the L2 stage's classifier
 * (xvs_qos_classify_l2, its own IPv4 read) and the flush's from the
 * metadata (xvs_meta_w1, xvs_qos_classify_w1) both give it. */
static uint8_t
class_by_rules(const uint8_t *d, uint32_t len, const struct xvs_l2 *l2)
{
	struct xvs_qos_pkt p = {.has_pcp = l2->tagged, .pcp = l2->pcp};
	struct xvs_flow f;
	const uint8_t *ip = d + l2->l3_off;

	memset(&f, 0, sizeof(f));
	if (xvs_parse_flow(d, len, l2, &f) == 0 && f.l3 != 0) {
		p.is_ip = true;
		p.proto = f.proto;
		/* RFC 2474: the upper 6 bits of the TOS byte / traffic class */
		p.dscp = f.l3 == 4 ? (uint8_t)(ip[1] >> 2) :
				     (uint8_t)(((ip[0] & 0x0f) << 2) | (ip[1] >> 6));
		p.has_ports = f.has_ports;
		p.sport = rte_be_to_cpu_16(f.sport);
		p.dport = rte_be_to_cpu_16(f.dport);
	}
	return xvs_qos_classify(pl->rules, pl->n_rules, &p);
}

/* Classify random frames (a fixed seed) under rules[0..n) (class r + 1
 * for rule r) three ways, which must agree; per_class[c]: frames of class c. */
static void
classes_agree(const char *const *rules, unsigned n, unsigned frames, unsigned *per_class)
{
	uint64_t seed = 0x2545f4914f6cdd1dull;
	struct xvs_err err;

	pl->cfg.n_classes = n + 1;
	for (unsigned c = 0; c <= n; c++)
		pl->cfg.cls[c].weight = 1;
	for (unsigned r = 0; r < n; r++) {
		assert_int_equal(xvs_qos_match_parse(rules[r], &pl->rules[r], &err), 0);
		pl->rules[r].cls = (uint8_t)(r + 1);
	}
	pl->n_rules = n;
	rules_changed();
#define RND() random_frame_next(&seed)
	for (unsigned t = 0; t < frames; t++) {
		static const uint8_t protos[] = {6, 17, 47, 1};
		uint8_t d[128] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
		unsigned o, len;
		struct xvs_l2 l2;
		uint8_t a, b;
		uint64_t w1;
		bool v6;

		len = random_frame(d, sizeof(d), &seed, 4, 8, protos, RTE_DIM(protos), &o, &v6);
		if (!v6) /* DSCP: mostly 0-3, sometimes 46 (EF) */
			d[o + 1] = RND() % 8 ? (uint8_t)(RND() % 4 << 2) : (uint8_t)(46 << 2 | RND() % 4);
		if (RND() % 2 == 0) { /* ports in a rule's range */
			unsigned ihl = (d[o] & 0x0f) * 4u, sp = 900 + (unsigned)(RND() % 1200);

			if (o + ihl + 4 <= sizeof(d)) {
				d[o + ihl] = (uint8_t)(sp >> 8), d[o + ihl + 1] = (uint8_t)sp;
				d[o + ihl + 2] = RND() % 2 ? 0x19 : 0x01;
				d[o + ihl + 3] = RND() % 2 ? 0xc8 : 0x2c;
			}
		}
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)len), d, len);
		if (xvs_parse_l2(d, len, &l2) != XVS_PARSE_OK) {
			rte_pktmbuf_free(m);
			continue;
		}
		a = xvs_qos_classify_l2(pl, m, &l2, 0);
		w1 = xvs_meta_w1(d, len, &l2, l2.tagged ? XVS_META_TAGGED : 0, l2.pcp);
		b = xvs_qos_classify_w1(pl, w1, d, len);
		if (a != b || a != class_by_rules(d, len, &l2))
			fail_msg("frame %u (len %u): class %u from the L2 stage, %u from its metadata, "
				 "%u by the rules", t, len, a, b, class_by_rules(d, len, &l2));
		per_class[a]++;
		rte_pktmbuf_free(m);
	}
#undef RND
}

/* Random IPv4 headers (versions, header and total lengths, fragments,
 * protocols, DSCP, ports), IPv6, tagged frames, truncated frames: the L2
 * stage's class, the metadata's and the rule walk's are one, under rules on
 * each field, and under rules that read no port (the L2 stage's own IPv4
 * read is for rules on ports or DSCP). */
static void
test_qos_dp_l2_class_is_the_metadata_class(void **state)
{
	static const char *const rules[] = {"dscp 46", "tcp dport 6600", "udp sport 1000-1999",
					    "proto 47", "pcp 5", "udp dport 300-40000"};
	static const char *const no_ports[] = {"dscp 46", "proto 47", "pcp 5"};
	unsigned per_class[8] = {0};

	(void)state;
	classes_agree(rules, RTE_DIM(rules), 200000, per_class);
	for (unsigned c = 0; c < 7; c++) {
		print_message("# class %u: %u frames\n", c, per_class[c]);
		assert_true(per_class[c] > 1000);
	}
	memset(per_class, 0, sizeof(per_class));
	classes_agree(no_ports, RTE_DIM(no_ports), 50000, per_class);
	for (unsigned c = 0; c < 4; c++)
		assert_true(per_class[c] > 1000);
}

int
main(void)
{
	char *eal[] = {"test_qos_dp", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
		       "-l", "0", "--log-level", "error", "--no-telemetry", NULL};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_qos_dp_direct_keeps_order, setup),
		cmocka_unit_test_setup(test_qos_dp_direct_mixed_classes, setup),
		cmocka_unit_test_setup(test_qos_dp_rings_seen, setup),
		cmocka_unit_test_setup(test_qos_dp_direct_after_pause, setup),
		cmocka_unit_test_setup(test_qos_dp_runs_keep_their_class, setup),
		cmocka_unit_test_setup(test_qos_dp_l2_classifies_runs, setup),
		cmocka_unit_test_setup(test_qos_dp_runs_behind_the_flow_cache, setup),
		cmocka_unit_test_setup(test_qos_dp_l2_classifies_tags_and_floods, setup),
		cmocka_unit_test_setup(test_qos_dp_direct_mixed_same_picks, setup),
		cmocka_unit_test_setup(test_qos_dp_direct_mixed_keeps_order, setup),
		cmocka_unit_test_setup(test_qos_dp_segments_keep_their_class, setup),
		cmocka_unit_test_setup(test_qos_dp_l2_class_is_the_metadata_class, setup),
	};

	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("t", 2048, 0, XVS_MBUF_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w0 = rte_zmalloc("w0", sizeof(*w0), RTE_CACHE_LINE_SIZE);
	w1 = rte_zmalloc("w1", sizeof(*w1), RTE_CACHE_LINE_SIZE);
	snap = rte_zmalloc("s", sizeof(*snap), RTE_CACHE_LINE_SIZE);
	pl = rte_zmalloc("pl", sizeof(*pl), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || w0 == NULL || w1 == NULL || snap == NULL || pl == NULL)
		return 1;
	w1->id = 1;
	xvs_dp.pool = mp;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	xvs_dp.n_workers_max = 2;
	xvs_dp.worker[0] = w0;
	xvs_dp.worker[1] = w1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * micro_qos: what egress QoS costs per packet, in one process, on mbufs of a
 * real mempool (EAL --no-huge): a port with 8 classes (the default flow and 7
 * traffic classes by UDP source port, as datapath_xvs.py's xvs-fdb-qos8),
 * bursts of 32 64-byte UDP frames spread over the classes. Per burst: the
 * direct transmit (the QoS-off path: xvs_tx_direct to a port whose tx_burst
 * takes the frames back) against classification + hand-off into the class
 * FIFOs + the owner's scheduling turn + the same transmit. Then the whole
 * switch path without the I/O (each burst copied into fresh mbufs as a pcap
 * port does, xvs_l2_forward_burst from port 0 to port 1, the tx flush, the
 * owner's turn; port 1's tx frees the frames) with QoS off and on, for 1
 * flow (the default flow's), 1 flow whose frames spread over the 8 classes,
 * and the 10k flows of bench/'s pcap, 1250 a class, in random order as in
 * the pcap (a burst's frames of all 8 classes): the ratio issue 13's target is about (QoS-on rate / QoS-off
 * rate), minus the drivers' share. The minimum over many trials of TSC
 * cycles per packet, so other load on the host does not count.
 *
 *   build/micro_qos [trials [row]]
 *
 * row (1-3) runs only that row of the switch path (1 flow; 1 flow over 8
 * classes; 10k flows), for perf record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "micro/bench_set.h"
#include "micro/bench_switch.h"
#include "port_ops.h"
#include "qos_egress.h"

struct xvs_dp xvs_dp;

#define ITERS 200
#define N_RULES 7
#define FLOW_SETS 313 /* bursts of the 10k-flow set: 10,016 frames */

/* The rules of datapath_xvs.py qos_classes(): rule i (class i + 1) is UDP
 * source ports SPORT0 + (i + 1) * SPORT_STEP .. + SPORT_STEP - 1, so that the
 * 10k flows (sources 1024 + flow) split 1250 a class, the first 1250 and the
 * 1-flow pcap's (1024) in the default flow (class 0). A source port of
 * class c: */
#define SPORT0 1024u
#define SPORT_STEP 1250u

static uint16_t
sport_of(unsigned c)
{
	return (uint16_t)(SPORT0 + c * SPORT_STEP + 100);
}

/* The port takes every frame back into back[] (nothing is freed). */
static struct rte_mbuf *back[XVS_BURST];
static uint16_t n_back;

static uint16_t
take_back(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	(void)priv;
	(void)q;
	for (uint16_t i = 0; i < n; i++) {
		back[n_back++] = pkts[i];
		*bytes += pkts[i]->pkt_len;
	}
	return n;
}

static const struct xvs_port_ops ops = {.tx_burst = take_back};

static double
measure(struct xvs_worker *w, const struct xvs_snapshot *s, struct rte_mbuf **pkts,
	unsigned trials, bool qos)
{
	const struct xvs_snap_port *p = &s->port[1];
	uint64_t best = UINT64_MAX;

	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < ITERS; it++) {
			n_back = 0;
			if (qos) {
				xvs_qos_classify_burst(p->qos_plan, pkts, XVS_BURST, 0, 0);
				xvs_qos_handoff(w, p, 1, pkts, XVS_BURST);
				xvs_qos_service(w, s);
			} else {
				xvs_tx_direct(w, p, 1, pkts, XVS_BURST);
			}
			if (n_back != XVS_BURST) {
				fprintf(stderr, "%u of %u frames came back\n", n_back, XVS_BURST);
				exit(1);
			}
			memcpy(pkts, back, sizeof(back));
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	return (double)best / (ITERS * XVS_BURST);
}

/* QoS on port 1 (plan pl, state q) or off, as xvsd's snapshot has it: on,
 * the L2 stage classifies the port's frames (qos_ports; no stages, so no
 * metadata fill) and worker 0 owns the port's scheduling point. */
static void
set_qos(struct xvs_snapshot *s, struct xvs_qos_port *q, struct xvs_qos_plan *pl)
{
	s->port[1].qos = q;
	s->port[1].qos_plan = pl;
	s->port[1].qos_owner = 0;
	s->qos_ports = q != NULL;
	s->worker[0].n_qos_owned = q != NULL;
	s->n_qos_owners = q != NULL;
}

/* The switch path per packet: n_sets bursts copied from the templates in
 * sets[] into fresh mbufs, through xvs_l2_forward_burst from port 0 to port
 * 1, the tx flush and (QoS on) the owner's turn, as the worker loop runs
 * them. */
static double
measure_switch(struct xvs_worker *w, struct xvs_snapshot *s, struct rte_mbuf **sets,
	       unsigned n_sets, unsigned trials)
{
	uint64_t best = UINT64_MAX;
	uint64_t rx0 = w->ctr[0].rx_packets, tx0 = w->ctr[1].tx_packets;

	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < n_sets; it++) {
			struct rte_mbuf *pkts[XVS_BURST];

			bench_copy_burst(xvs_dp.pool, &sets[it * XVS_BURST], pkts, XVS_BURST);
			xvs_l2_forward_burst(w, s, 0, pkts, XVS_BURST, t0);
			if (s->worker[0].n_qos_owned > 0)
				xvs_qos_service(w, s);
			xvs_tx_flush_all(w, s);
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	if (w->ctr[1].tx_packets - tx0 != w->ctr[0].rx_packets - rx0) {
		fprintf(stderr, "the switch lost frames: rx %lu tx %lu\n",
			(unsigned long)(w->ctr[0].rx_packets - rx0),
			(unsigned long)(w->ctr[1].tx_packets - tx0));
		exit(1);
	}
	return (double)best / (n_sets * XVS_BURST);
}

/* The switch path with QoS off and on, alternately (the minimum of each over
 * rounds), and their ratio: the QoS-on rate over the QoS-off rate. */
static void
compare_switch(const char *what, struct xvs_worker *w, struct xvs_snapshot *s,
	       struct xvs_qos_port *q, struct xvs_qos_plan *pl, struct rte_mbuf **sets,
	       unsigned n_sets, unsigned trials)
{
	double off = 1e30, on = 1e30, ns = 1e9 / (double)xvs_dp.tsc_hz;

	for (unsigned r = 0; r < 4; r++) {
		set_qos(s, NULL, NULL);
		off = RTE_MIN(off, measure_switch(w, s, sets, n_sets, trials));
		set_qos(s, q, pl);
		on = RTE_MIN(on, measure_switch(w, s, sets, n_sets, trials));
	}
	set_qos(s, NULL, NULL);
	printf("  %-22s QoS off %6.2f ns, on %6.2f ns (QoS adds %5.2f ns): ratio %.2f\n", what,
	       off * ns, on * ns, (on - off) * ns, off / on);
}

/* Anchor: the scheduler alone, what QoS costs at least per frame with the
 * classes' shares exact: xvs_qos_pick_burst of bursts of 32 64-byte frames
 * of n_cls classes, 32 / n_cls each (1: the 1-flow case; 8: a burst of
 * the shuffled 10k flows), the clock read once per burst as the owner's
 * turn does. */
static double
measure_pick(const struct xvs_qos_plan *pl, unsigned n_cls, unsigned trials)
{
	static uint32_t lens[XVS_QOS_FIFO_SIZE];
	struct xvs_qos_backlog bl[XVS_QOS_MAX_CLASSES] = {{0}};
	struct xvs_qos_sched sch;
	uint64_t best = UINT64_MAX;
	uint8_t out[XVS_BURST];

	for (unsigned i = 0; i < XVS_QOS_FIFO_SIZE; i++)
		lens[i] = 60;
	for (unsigned c = 0; c < XVS_QOS_MAX_CLASSES; c++)
		bl[c] = (struct xvs_qos_backlog){lens, XVS_QOS_FIFO_SIZE - 1, 0, 0};
	xvs_qos_sched_init(&sch, &pl->cfg, xvs_tsc_ns(rte_rdtsc()));
	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < ITERS; it++) {
			for (unsigned c = 0; c < n_cls; c++)
				bl[n_cls == 1 ? 1 : c].n = XVS_BURST / n_cls;
			if (xvs_qos_pick_burst(&sch, bl, 0, xvs_tsc_ns(rte_rdtsc()), out, XVS_BURST,
					       NULL) != XVS_BURST)
				exit(1);
			for (unsigned c = 0; c < n_cls; c++)
				bl[n_cls == 1 ? 1 : c].head += XVS_BURST / n_cls;
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	return (double)best / (ITERS * XVS_BURST);
}

/* Anchor: the class of a frame parsed already, as the L2 stage finds it
 * for a QoS port (xvs_qos_classify_l2): XVS_BURST distinct frames of the
 * 10k-flow set, headers in cache. */
static double
measure_classify(const struct xvs_qos_plan *pl, struct rte_mbuf **sets, unsigned trials)
{
	struct xvs_l2 l2[XVS_BURST];
	uint64_t best = UINT64_MAX;
	volatile uint32_t sink;

	for (unsigned i = 0; i < XVS_BURST; i++)
		if (xvs_parse_l2(rte_pktmbuf_mtod(sets[i], const uint8_t *),
				 rte_pktmbuf_data_len(sets[i]), &l2[i]) != XVS_PARSE_OK)
			exit(1);
	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;
		uint32_t acc = 0;

		for (unsigned it = 0; it < ITERS; it++) {
			asm volatile("" ::: "memory"); /* classified afresh each time */
			for (unsigned i = 0; i < XVS_BURST; i++)
				acc += xvs_qos_classify_l2(pl, sets[i], &l2[i], 0);
		}
		sink = acc;
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	(void)sink;
	return (double)best / (ITERS * XVS_BURST);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "-l", "0",
		       "--log-level", "error", "--no-telemetry"};
	unsigned trials = argc > 1 ? (unsigned)atoi(argv[1]) : 300;
	unsigned row = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	struct rte_mbuf *pkts[XVS_BURST];
	struct xvs_qos_plan *pl;
	struct xvs_snapshot *s;
	struct xvs_worker *w;
	struct rte_mempool *mp;
	struct xvs_err err;
	struct xvs_fdb_params fp = {.max_entries = 4096, .aging_ns = 0};
	static struct rte_mbuf *sets[FLOW_SETS * XVS_BURST];
	struct rte_mbuf *one[XVS_BURST], *spread[XVS_BURST];
	struct xvs_qos_port *q;
	struct xvs_l2 l2;
	double off, on;

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		return 1;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	xvs_dp.n_workers_max = 1;
	mp = rte_pktmbuf_pool_create("bench", 16384, 256, XVS_MBUF_PRIV_SIZE,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);
	s = rte_zmalloc("s", sizeof(*s), RTE_CACHE_LINE_SIZE);
	pl = rte_zmalloc("pl", sizeof(*pl), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || w == NULL || s == NULL || pl == NULL ||
	    xvs_fdb_create(&fp, &xvs_dp.fdb, &err) < 0)
		return 1;
	xvs_dp.pool = xvs_dp.flood_pool = mp;
	/* 8 classes: default + 7 UDP source port ranges, weights 1..7 */
	pl->gen = 1;
	pl->layout_gen = 1;
	pl->cfg.mode = XVS_QOS_MODE_WEIGHT;
	pl->cfg.capacity_bps = 1000000000000ull;
	pl->cfg.shape_port = true;
	pl->cfg.n_classes = N_RULES + 1;
	memset(pl->pcp, -1, sizeof(pl->pcp));
	snprintf(pl->cfg.cls[0].name, XVS_QOS_NAME_LEN, "default");
	pl->cfg.cls[0].weight = 1;
	for (unsigned i = 0; i < N_RULES; i++) {
		char m[64];

		snprintf(pl->cfg.cls[i + 1].name, XVS_QOS_NAME_LEN, "c%u", i);
		pl->cfg.cls[i + 1].weight = i + 1;
		snprintf(m, sizeof(m), "udp sport %u-%u", SPORT0 + (i + 1) * SPORT_STEP,
			 SPORT0 + (i + 2) * SPORT_STEP - 1);
		if (xvs_qos_match_parse(m, &pl->rules[i], &err) < 0)
			return 1;
		pl->rules[i].cls = (uint8_t)(i + 1);
	}
	pl->n_rules = N_RULES;
	if (xvs_qos_classifier_build(&pl->classifier, pl->rules, pl->n_rules, &err) < 0)
		return 1;
	pl->qlimit_bytes = 1u << 30;
	if (xvs_qos_validate(&pl->cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	s->port[1].active = true;
	s->port[1].ops = &ops;
	s->port[1].n_txq = 1;
	s->port[1].qos = xvs_qos_port_create(1, 1);
	s->port[1].qos_plan = pl;
	s->n_workers = 1;
	s->worker[0].n_qos_owned = 1;
	s->worker[0].qos_owned[0] = 1;
	for (unsigned i = 0; i < XVS_BURST; i++) {
		uint8_t *d;
		uint16_t sport = sport_of(i % 8); /* class i % 8 */

		pkts[i] = rte_pktmbuf_alloc(mp);
		d = (uint8_t *)rte_pktmbuf_append(pkts[i], sizeof(bench_frame));
		memcpy(d, bench_frame, sizeof(bench_frame));
		d[34] = (uint8_t)(sport >> 8);
		d[35] = (uint8_t)sport;
		xvs_parse_l2(d, sizeof(bench_frame), &l2);
		xvs_meta_fill(pkts[i], &l2, 0, 1);
	}
	printf("TSC %.3f GHz, %u trials of %u bursts of %u, 8 classes, minimum per packet:\n",
	       (double)xvs_dp.tsc_hz / 1e9, trials, ITERS, XVS_BURST);
	if (row == 0) {
		off = measure(w, s, pkts, trials, false);
		on = measure(w, s, pkts, trials, true);
		printf("  direct tx (QoS off)                       %6.2f ns\n",
		       off * 1e9 / (double)xvs_dp.tsc_hz);
		printf("  classify + hand-off + schedule + tx       %6.2f ns  (QoS adds %.2f ns)\n",
		       on * 1e9 / (double)xvs_dp.tsc_hz,
		       (on - off) * 1e9 / (double)xvs_dp.tsc_hz);
	}

	/* The switch path: port 0 -> port 1, the frames' sources on port 0
	 * and destinations on port 1 in the FDB, as datapath_xvs.py's xvs-fdb. */
	q = s->port[1].qos;
	bench_two_ports(s);
	xvs_fdb_add_static(xvs_dp.fdb, bench_frame, 1, 1, &err);
	xvs_fdb_add_static(xvs_dp.fdb, bench_frame + 6, 1, 0, &err);
	for (unsigned i = 0; i < XVS_BURST; i++) {
		uint8_t *d;

		one[i] = rte_pktmbuf_alloc(mp);
		spread[i] = rte_pktmbuf_alloc(mp);
		if (one[i] == NULL || spread[i] == NULL)
			return 1;
		d = (uint8_t *)rte_pktmbuf_append(one[i], sizeof(bench_frame));
		memcpy(d, bench_frame, sizeof(bench_frame));
		d[34] = SPORT0 >> 8; /* 1024 -> 9 as the 1-flow pcap: the default flow */
		d[35] = SPORT0 & 0xff;
		d[36] = 0;
		d[37] = 9;
		d = (uint8_t *)rte_pktmbuf_append(spread[i], sizeof(bench_frame));
		memcpy(d, bench_frame, sizeof(bench_frame));
		d[34] = (uint8_t)(sport_of(i % 8) >> 8);
		d[35] = (uint8_t)sport_of(i % 8);
	}
	for (unsigned i = 0; i < FLOW_SETS * XVS_BURST; i++) {
		uint8_t f[64];
		unsigned len = bench_flow_frame(i, f);

		sets[i] = rte_pktmbuf_alloc(mp);
		if (sets[i] == NULL)
			return 1;
		memcpy(rte_pktmbuf_append(sets[i], (uint16_t)len), f, len);
		memset(&l2, 0, sizeof(l2));
		xvs_parse_l2(f, len, &l2);
		xvs_fdb_add_static(xvs_dp.fdb, f, l2.tagged ? l2.vid : 1, 1, &err);
		xvs_fdb_add_static(xvs_dp.fdb, f + 6, l2.tagged ? l2.vid : 1, 0, &err);
	}
	/* In random order, as gen_pcaps.py shuffles the 10k-flow pcap: a
	 * burst's frames are of all 8 classes, as the switch gets them. */
	for (unsigned i = FLOW_SETS * XVS_BURST - 1, r = 1; i > 0; i--) {
		struct rte_mbuf *t = sets[i];
		unsigned j;

		r = r * 1103515245u + 12345u;
		j = (r >> 8) % (i + 1);
		sets[i] = sets[j];
		sets[j] = t;
	}
	trials = trials / 10 > 3 ? trials / 10 : 3;
	printf("the switch path (parse, forward, QoS, tx; I/O replaced by copies), %u trials x 4:\n",
	       trials);
	if (row == 0 || row == 1)
		compare_switch("1 flow, 1 class", w, s, q, pl, one, 1, trials * 50);
	if (row == 0 || row == 2)
		compare_switch("1 flow, 8 classes", w, s, q, pl, spread, 1, trials * 50);
	if (row == 0 || row == 3)
		compare_switch("10k flows, 8 classes", w, s, q, pl, sets, FLOW_SETS, trials / 4 + 1);
	if (row != 0)
		return 0;

	/* What QoS cannot do without, per frame: the class (classification
	 * of a frame parsed already, as the L2 stage does it for a QoS port,
	 * xvs_qos_classify_l2) and the scheduler's pick (tag and buckets).
	 * The floor of the ratio: QoS-off plus both (10k flows: each frame
	 * classified, a burst's frames of all 8 classes), QoS-off plus the
	 * pick (1 flow: a run, classified once a burst, one class). */
	{
		double plain1 = 1e30, plain10k = 1e30, cls, pick, pick8;
		double ns = 1e9 / (double)xvs_dp.tsc_hz;

		for (unsigned r = 0; r < 4; r++) {
			set_qos(s, NULL, NULL);
			plain1 = RTE_MIN(plain1, measure_switch(w, s, one, 1, trials * 50));
			plain10k = RTE_MIN(plain10k,
					   measure_switch(w, s, sets, FLOW_SETS, trials / 4 + 1));
		}
		cls = measure_classify(pl, sets, trials * 10);
		pick = measure_pick(pl, 1, trials * 10);
		pick8 = measure_pick(pl, 8, trials * 10);
		printf("anchors: classification %.2f ns, scheduler pick %.2f ns per frame (8 classes "
		       "a burst: %.2f ns); at best\n"
		       "  1 flow: QoS-off %.2f ns + pick = %.2f ns: ratio %.2f\n"
		       "  10k flows: QoS-off %.2f ns + classification + pick of 8 = %.2f ns: ratio "
		       "%.2f\n",
		       cls * ns, pick * ns, pick8 * ns, plain1 * ns, (plain1 + pick) * ns,
		       plain1 / (plain1 + pick), plain10k * ns, (plain10k + cls + pick8) * ns,
		       plain10k / (plain10k + cls + pick8));
	}
	return 0;
}

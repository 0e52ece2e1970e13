/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * micro_qos: what egress QoS costs per packet, in one process, on mbufs of a
 * real mempool (EAL --no-huge): a port with 8 classes (the default flow and 7
 * traffic classes by UDP destination port, as datapath_xvs.py's xvs-fdb-qos8),
 * bursts of 32 64-byte UDP frames spread over the classes. Per burst: the
 * direct transmit (the QoS-off path: xvs_tx_direct to a port whose tx_burst
 * takes the frames back) against classification + hand-off into the class
 * FIFOs + the owner's scheduling turn + the same transmit. The minimum over
 * many trials of TSC cycles per packet, so other load on the host does not
 * count.
 *
 *   build/micro_qos [trials]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "port_ops.h"
#include "qos_egress.h"

struct xvs_dp xvs_dp;

#define ITERS 200
#define N_RULES 7

static const uint8_t frame[60] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,          /* Ethernet */
	0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
	0x04, 0xd2, 0x16, 0x2e, 0, 26, 0, 0,                                  /* UDP */
};

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
				xvs_qos_classify_burst(p->qos_plan, pkts, XVS_BURST);
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

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "-l", "0",
		       "--log-level", "error", "--no-telemetry"};
	unsigned trials = argc > 1 ? (unsigned)atoi(argv[1]) : 300;
	struct rte_mbuf *pkts[XVS_BURST];
	struct xvs_qos_plan *pl;
	struct xvs_snapshot *s;
	struct xvs_worker *w;
	struct rte_mempool *mp;
	struct xvs_err err;
	struct xvs_l2 l2;
	double off, on;

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		return 1;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	xvs_dp.n_workers_max = 1;
	mp = rte_pktmbuf_pool_create("bench", 1024, 0, XVS_MBUF_PRIV_SIZE,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);
	s = rte_zmalloc("s", sizeof(*s), RTE_CACHE_LINE_SIZE);
	pl = rte_zmalloc("pl", sizeof(*pl), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || w == NULL || s == NULL || pl == NULL)
		return 1;
	/* 8 classes: default + 7 UDP destination port ranges, weights 1..7 */
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
		pl->cfg.cls[i + 1].weight = i + 2;
		snprintf(m, sizeof(m), "udp dport %u-%u", 1000 + i * 1000, 1999 + i * 1000);
		if (xvs_qos_match_parse(m, &pl->rules[i], &err) < 0)
			return 1;
		pl->rules[i].cls = (uint8_t)(i + 1);
	}
	pl->n_rules = N_RULES;
	pl->need_l34 = true;
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
		uint16_t dport = (uint16_t)(500 + (i % 8) * 1000); /* class i % 8 */

		pkts[i] = rte_pktmbuf_alloc(mp);
		d = (uint8_t *)rte_pktmbuf_append(pkts[i], sizeof(frame));
		memcpy(d, frame, sizeof(frame));
		d[36] = (uint8_t)(dport >> 8);
		d[37] = (uint8_t)dport;
		xvs_parse_l2(d, sizeof(frame), &l2);
		xvs_meta_fill(pkts[i], &l2, 0, 1);
	}
	printf("TSC %.3f GHz, %u trials of %u bursts of %u, 8 classes, minimum per packet:\n",
	       (double)xvs_dp.tsc_hz / 1e9, trials, ITERS, XVS_BURST);
	off = measure(w, s, pkts, trials, false);
	on = measure(w, s, pkts, trials, true);
	printf("  direct tx (QoS off)                       %6.2f ns\n",
	       off * 1e9 / (double)xvs_dp.tsc_hz);
	printf("  classify + hand-off + schedule + tx       %6.2f ns  (QoS adds %.2f ns)\n",
	       on * 1e9 / (double)xvs_dp.tsc_hz, (on - off) * 1e9 / (double)xvs_dp.tsc_hz);
	return 0;
}

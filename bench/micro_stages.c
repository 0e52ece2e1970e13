/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * micro_stages: what the pipeline costs per packet, in one process, on mbufs
 * of a real mempool (EAL --no-huge): filling the metadata, then running 0, 1,
 * 4 and 8 pass-through stages, and the guard set (mac_spoof, dhcp_guard,
 * router_guard, storm_limit with a known unicast destination) over bursts of
 * 32 copies of a 64-byte UDP frame. Each figure is the minimum over many
 * trials of TSC cycles per packet, so other load on the host (which the
 * switch-level benchmark cannot escape on a shared 2-CPU VM) does not count.
 *
 *   build/bench/micro_stages [trials]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "stages.h"

struct xvs_dp xvs_dp;

#define ITERS 200

static const uint8_t frame[60] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,          /* Ethernet */
	0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
	0x04, 0xd2, 0x16, 0x2e, 0, 26, 0, 0,                                  /* UDP */
};

/* Minimum cycles per packet of fn over trials. */
static double
measure(struct xvs_worker *w, const struct xvs_snapshot *s, const struct xvs_snap_stage *st,
	unsigned n_st, struct rte_mbuf **pkts, unsigned trials, bool fill)
{
	uint64_t best = UINT64_MAX;
	struct xvs_l2 l2;

	xvs_parse_l2(rte_pktmbuf_mtod(pkts[0], const uint8_t *), sizeof(frame), &l2);
	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < ITERS; it++) {
			if (fill)
				for (unsigned i = 0; i < XVS_BURST; i++)
					xvs_meta_fill(pkts[i], &l2, 0, 1);
			if (n_st > 0 &&
			    xvs_stages_run(w, s, st, n_st, XVS_EXT_INGRESS, 0, pkts, XVS_BURST, t0,
					   NULL, NULL) != XVS_BURST) {
				fprintf(stderr, "a stage dropped a frame\n");
				exit(1);
			}
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	return (double)best / (ITERS * XVS_BURST);
}

static void
stage_of(struct xvs_snap_stage *ss, const struct xvs_ext_desc *d, uint16_t id, const char *key,
	 const char *value)
{
	struct xvs_ext_kv kv = {key, value};
	char err[256];
	void *state = NULL;

	memset(ss, 0, sizeof(*ss));
	ss->desc = d;
	ss->id = id;
	if (d->ops->init != NULL && d->ops->init(NULL, &ss->ctx) < 0)
		exit(1);
	if (key != NULL && d->ops->config_apply(ss->ctx, 0, &kv, 1, &state, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		exit(1);
	}
	ss->state = state;
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "-l", "0",
		       "--log-level", "error", "--no-telemetry"};
	unsigned trials = argc > 1 ? (unsigned)atoi(argv[1]) : 300;
	struct xvs_snap_stage pass[XVS_PASSTHROUGH_MAX], guards[4];
	struct xvs_fdb_params fp = {.max_entries = 1024, .aging_ns = 0};
	struct rte_mbuf *pkts[XVS_BURST];
	struct xvs_snapshot *s;
	struct xvs_worker *w;
	struct rte_mempool *mp;
	struct xvs_err err;
	double base, c;
	uint8_t dst[6];

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		return 1;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	mp = rte_pktmbuf_pool_create("bench", 1024, 0, XVS_MBUF_PRIV_SIZE,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);
	s = rte_zmalloc("s", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || w == NULL || s == NULL || xvs_fdb_create(&fp, &xvs_dp.fdb, &err) < 0)
		return 1;
	xvs_dp.pool = xvs_dp.flood_pool = mp;
	s->port[0].active = s->port[1].active = true;
	s->port[0].n_rx_workers = 1;
	atomic_store(&xvs_dp.snap, s);
	memcpy(dst, frame, 6);
	xvs_fdb_add_static(xvs_dp.fdb, dst, 1, 1, &err); /* known unicast: storm does not count it */
	for (unsigned i = 0; i < XVS_BURST; i++) {
		pkts[i] = rte_pktmbuf_alloc(mp);
		memcpy(rte_pktmbuf_append(pkts[i], sizeof(frame)), frame, sizeof(frame));
	}
	for (unsigned i = 0; i < XVS_PASSTHROUGH_MAX; i++)
		stage_of(&pass[i], &xvs_stage_passthrough[i], (uint16_t)i, NULL, NULL);
	stage_of(&guards[0], &xvs_stage_mac_spoof, 8, "macs", "02:00:00:00:00:01");
	stage_of(&guards[1], &xvs_stage_dhcp_guard, 9, NULL, NULL);
	stage_of(&guards[2], &xvs_stage_router_guard, 10, NULL, NULL);
	stage_of(&guards[3], &xvs_stage_storm_limit, 11, "pps", "100000000");

	printf("TSC %.3f GHz, %u trials of %u bursts of %u, minimum per packet:\n",
	       (double)xvs_dp.tsc_hz / 1e9, trials, ITERS, XVS_BURST);
	base = measure(w, s, pass, 0, pkts, trials, true);
	printf("  metadata fill             %6.2f ns\n", base * 1e9 / (double)xvs_dp.tsc_hz);
	for (unsigned n = 1; n <= 8; n *= 2) {
		if (n == 2)
			n = 4;
		c = measure(w, s, pass, n, pkts, trials, true);
		printf("  fill + %u pass-through     %6.2f ns  (%.2f ns per stage)\n", n,
		       c * 1e9 / (double)xvs_dp.tsc_hz,
		       (c - base) / n * 1e9 / (double)xvs_dp.tsc_hz);
	}
	c = measure(w, s, guards, 4, pkts, trials, true);
	printf("  fill + guards (4 stages)  %6.2f ns  (%.2f ns for the guards)\n",
	       c * 1e9 / (double)xvs_dp.tsc_hz, (c - base) * 1e9 / (double)xvs_dp.tsc_hz);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * micro_l2: what the L2 forward path costs per frame at 1 flow and at 10,000
 * flows, in one process, on mbufs of a real mempool (EAL --no-huge): the
 * switch path of micro_stages without stages (each burst copied from the
 * templates into fresh mbufs, as a pcap port does, through
 * xvs_l2_forward_burst from port 0 to port 1, whose tx frees the frames),
 * with the FDB as bench/pvp_xvs.py sets it up: the destinations static on
 * port 1, the sources learned on port 0 (so every frame's source is looked
 * up and refreshed), xvsd's default table size. Rows, each the minimum over
 * many trials of TSC cycles per frame:
 *
 *   copy only      the I/O stand-in alone (copy into fresh mbufs, free)
 *   switch path    copy + xvs_l2_forward_burst + tx flush
 *   anchor         copy + the L2 work any switch does, bare: read each
 *                  frame's destination and VLAN, one DPDK rte_hash bulk
 *                  lookup per burst in a table of the flow set's MAC/VLAN
 *                  keys, the VLAN egress check, one tx burst (testpmd io's
 *                  work plus one lookup per frame)
 *   learning anchor the same with what a learning switch adds: each frame's
 *                  source looked up too (in the same bulk lookup, 64 keys),
 *                  checked to be on the input port and its last-seen time
 *                  refreshed when older than a second, as xvs's FDB does
 *
 * for 1 flow and for the 10k-flow set (bench/micro/bench_set.h).
 *
 *   taskset -c 0 build/micro_l2 [trials [switch10k]]
 *
 * "switch10k" runs only the 10k-flow switch path (for perf record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "micro/bench_set.h"
#include "micro/bench_switch.h"

struct xvs_dp xvs_dp;

#define FLOW_SETS 313 /* bursts of the 10k-flow set: 10,016 frames */

enum mode { COPY_ONLY, SWITCH, ANCHOR, ANCHOR_LEARN };

/* The anchors' table: DPDK's rte_hash of the flow set's (MAC, VLAN) keys,
 * each with its port and last-seen time. */
struct anchor_ent {
	uint16_t port;
	uint64_t seen_ns;
};

static struct rte_hash *anchor_h;
static struct anchor_ent anchor_ent[4096];
static unsigned anchor_n;

/* The anchors' per-burst work: what any L2 switch does for each frame (the
 * destination looked up, its port's VLAN checked, one tx burst), and with
 * learn what a learning switch adds (the source looked up too, in the same
 * bulk lookup, and its time refreshed when a second old, as xvs's FDB). */
static void
anchor_burst(const struct xvs_snapshot *s, struct rte_mbuf **pkts, bool learn, uint64_t now_ns)
{
	uint64_t keys[2 * XVS_BURST], hit = 0, bytes = 0;
	const void *kp[2 * XVS_BURST];
	void *data[2 * XVS_BURST];
	unsigned nk = learn ? 2 * XVS_BURST : XVS_BURST;
	uint16_t n = 0;

	for (unsigned i = 0; i < XVS_BURST; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		uint16_t vid = 1;

		if (f[12] == 0x81 && f[13] == 0)
			vid = (uint16_t)((f[14] & 0xf) << 8 | f[15]);
		keys[i] = xvs_fdb_key_of(f, vid);
		kp[i] = &keys[i];
		if (learn) {
			keys[XVS_BURST + i] = xvs_fdb_key_of(f + 6, vid);
			kp[XVS_BURST + i] = &keys[XVS_BURST + i];
		}
	}
	rte_hash_lookup_bulk_data(anchor_h, kp, nk, &hit, data);
	for (unsigned i = 0; i < XVS_BURST; i++) {
		const struct anchor_ent *d = data[i];
		bool tagged;

		if (learn) {
			struct anchor_ent *src = data[XVS_BURST + i];

			if (!(hit >> (XVS_BURST + i) & 1) || src->port != 0)
				exit(1); /* every source is known, on port 0 */
			if (now_ns - src->seen_ns > XVS_FDB_TOUCH_NS)
				src->seen_ns = now_ns;
		}
		if ((hit >> i & 1) && xvs_vlan_egress(&s->port[d->port].vlan, (uint16_t)keys[i], &tagged))
			pkts[n++] = pkts[i];
		else
			rte_pktmbuf_free(pkts[i]);
	}
	if (s->port[1].ops->tx_burst(NULL, 0, pkts, n, &bytes) != n)
		exit(1);
}

/* Minimum cycles per frame over trials of n_sets bursts of sets[]. */
static double
measure(struct xvs_worker *w, struct xvs_snapshot *s, enum mode mode, struct rte_mbuf **sets,
	unsigned n_sets, unsigned trials)
{
	uint64_t best = UINT64_MAX, rx0 = w->ctr[0].rx_packets, tx0 = w->ctr[1].tx_packets;

	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < n_sets; it++) {
			struct rte_mbuf *pkts[XVS_BURST];

			bench_copy_burst(xvs_dp.pool, &sets[it * XVS_BURST], pkts, XVS_BURST);
			if (mode == COPY_ONLY) {
				rte_pktmbuf_free_bulk(pkts, XVS_BURST);
			} else if (mode != SWITCH) {
				anchor_burst(s, pkts, mode == ANCHOR_LEARN, xvs_tsc_ns(t0));
			} else {
				xvs_l2_forward_burst(w, s, 0, pkts, XVS_BURST, t0);
				xvs_tx_flush_all(w, s);
			}
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	if (w->ctr[1].tx_packets - tx0 != w->ctr[0].rx_packets - rx0) {
		fprintf(stderr, "the switch lost frames\n");
		exit(1);
	}
	return (double)best / (n_sets * XVS_BURST);
}

static double
ns(double cyc)
{
	return cyc * 1e9 / (double)xvs_dp.tsc_hz;
}

static void
anchor_add(uint64_t k, uint16_t port, uint64_t now_ns)
{
	if (rte_hash_lookup(anchor_h, &k) >= 0)
		return;
	if (anchor_n == RTE_DIM(anchor_ent))
		exit(1);
	anchor_ent[anchor_n] = (struct anchor_ent){.port = port, .seen_ns = now_ns};
	if (rte_hash_add_key_data(anchor_h, &k, &anchor_ent[anchor_n++]) < 0)
		exit(1);
}

/* Learn f's source on port 0 (dynamic, as the switch learns p1's) and make
 * its destination static on port 1 and a key of the anchor's table. */
static void
fdb_of(const uint8_t *f, uint16_t len, uint64_t now_ns)
{
	struct xvs_l2 l2 = {0};
	struct xvs_err err;
	uint16_t vid;

	xvs_parse_l2(f, len, &l2);
	vid = l2.tagged ? l2.vid : 1;
	if (xvs_fdb_learn(xvs_dp.fdb, f + 6, vid, 0, now_ns) < 0 ||
	    xvs_fdb_add_static(xvs_dp.fdb, f, vid, 1, &err) < 0)
		exit(1);
	anchor_add(xvs_fdb_key_of(f, vid), 1, now_ns);
	anchor_add(xvs_fdb_key_of(f + 6, vid), 0, now_ns);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "-l", "0",
		       "--log-level", "error", "--no-telemetry"};
	unsigned trials = argc > 1 ? (unsigned)atoi(argv[1]) : 300;
	static struct rte_mbuf *sets[FLOW_SETS * XVS_BURST];
	struct xvs_fdb_params fp = {.max_entries = XVS_FDB_DEFAULT_MAX,
				    .aging_ns = XVS_FDB_DEFAULT_AGING_S * UINT64_C(1000000000)};
	struct rte_hash_parameters hp = {
		.name = "anchor_fdb", .entries = 4096, .key_len = 8,
		.hash_func = rte_hash_crc, .socket_id = SOCKET_ID_ANY,
	};
	struct rte_mbuf *one[XVS_BURST * 8];
	struct xvs_snapshot *s;
	struct xvs_worker *w;
	struct rte_mempool *mp;
	struct xvs_err err;
	uint64_t now_ns;

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		return 1;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	now_ns = xvs_tsc_ns(rte_rdtsc());
	mp = rte_pktmbuf_pool_create("bench", 12288, 0, XVS_MBUF_PRIV_SIZE,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);
	s = rte_zmalloc("s", sizeof(*s), RTE_CACHE_LINE_SIZE);
	anchor_h = rte_hash_create(&hp);
	if (mp == NULL || w == NULL || s == NULL || anchor_h == NULL ||
	    xvs_fdb_create(&fp, &xvs_dp.fdb, &err) < 0)
		return 1;
	xvs_dp.pool = xvs_dp.flood_pool = mp;
	xvs_dp.n_workers_max = 1;
	bench_two_ports(s);

	fdb_of(bench_frame, sizeof(bench_frame), now_ns);
	for (unsigned i = 0; i < RTE_DIM(one); i++)
		if ((one[i] = bench_mbuf_of(mp, bench_frame, sizeof(bench_frame))) == NULL)
			return 1;
	for (unsigned i = 0; i < FLOW_SETS * XVS_BURST; i++) {
		uint8_t f[64];
		uint16_t len = (uint16_t)bench_flow_frame(i, f);

		if ((sets[i] = bench_mbuf_of(mp, f, len)) == NULL)
			return 1;
		fdb_of(f, len, now_ns);
	}

	trials = trials > 3 ? trials : 3;
	if (argc > 2 && strcmp(argv[2], "switch10k") == 0) {
		printf("10k flows switch path %.2f ns\n",
		       ns(measure(w, s, SWITCH, sets, FLOW_SETS, trials)));
		return 0;
	}
	printf("TSC %.3f GHz, minimum per frame over %u trials (1 flow: x10):\n",
	       (double)xvs_dp.tsc_hz / 1e9, trials);
	for (int set = 0; set < 2; set++) {
		struct rte_mbuf **fr = set == 0 ? one : sets;
		unsigned nb = set == 0 ? 8 : FLOW_SETS, tr = set == 0 ? trials * 10 : trials;
		const char *name = set == 0 ? "1 flow" : "10k flows";
		double cp = measure(w, s, COPY_ONLY, fr, nb, tr);
		double sw = measure(w, s, SWITCH, fr, nb, tr);
		double an = measure(w, s, ANCHOR, fr, nb, tr);
		double al = measure(w, s, ANCHOR_LEARN, fr, nb, tr);

		printf("  %-9s copy only %6.2f ns, switch path %6.2f ns, anchor %6.2f ns, "
		       "learning anchor %6.2f ns: switch/anchor %.2f, switch/learning anchor %.2f\n",
		       name, ns(cp), ns(sw), ns(an), ns(al), sw / an, sw / al);
	}
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * micro_stages: what the pipeline costs per packet, in one process, on mbufs
 * of a real mempool (EAL --no-huge): filling the metadata, then running 0, 1,
 * 4 and 8 pass-through stages, the guard set (mac_spoof, dhcp_guard,
 * router_guard, storm_limit with a known unicast destination), and the guards
 * with the ACL stage holding the benchmark's 100 rules (datapath_xvs.py
 * acl_rules()), over bursts of 32 copies of a 64-byte UDP frame; then the
 * same policy on 10,000 flows shaped like bench/'s 10k-flow pcap (parsed and
 * filled per frame, as the switch does). Last, the whole switch path without
 * the I/O (xvs_l2_forward_burst into a port whose tx frees the frames, with
 * each burst copied into fresh mbufs first, as a pcap port does) with and
 * without the policy on the input port: the ratio the issue's target is
 * about, minus the drivers' share; "metadata only" (filled, no stage run)
 * is the floor's anchor. Each figure is the minimum over many
 * trials of TSC cycles per packet, so other load on the host (which the
 * switch-level benchmark cannot escape on a shared 2-CPU VM) does not count.
 *
 *   build/micro_stages [trials [ROW]]
 *
 * ROW runs only the rows whose name starts with it (for perf record/annotate
 * of one of them): fill, stages, 10k-stages, switch-1flow-none,
 * switch-1flow-store, switch-1flow-meta, switch-1flow-pass,
 * switch-1flow-guards, switch-1flow-acl, switch-1flow-policy,
 * switch-10k-none, switch-10k-store, switch-10k-meta, switch-10k-policy,
 * switch-10k-exact, anchor-10k-inloop, anchor-10k-line, anchor-10k (e.g. "switch-1flow": the 1-flow switch
 * rows). A ratio whose no-policy row did not run is not printed.
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
#include <rte_prefetch.h>

#include "acl_stage.h"
#include "micro/bench_set.h"
#include "micro/bench_switch.h"
#include "dp.h"
#include "flow_cache.h"
#include "policy_floor.h"
#include "port_ops.h"
#include "stages.h"

struct xvs_dp xvs_dp;

#define ITERS 200

static const char *only; /* ROW: run the rows whose name starts with it */

static bool
want(const char *row)
{
	return only == NULL || strncmp(row, only, strlen(only)) == 0;
}

/* Nanoseconds of c TSC cycles. */
#define NS(c) ((c) * 1e9 / (double)xvs_dp.tsc_hz)

/* ": ratio R" of the no-policy figure base to c, or nothing when the
 * no-policy row did not run. */
static const char *
ratio(double base, double c)
{
	static char buf[32];

	if (base <= 0)
		return "";
	snprintf(buf, sizeof(buf), ": ratio %.2f", base / c);
	return buf;
}
#define FLOW_SETS 313 /* bursts of the 10k-flow set: 10,016 frames */

/* Minimum cycles per packet over trials of: n_sets bursts of 32 (sets[],
 * each iters times), each burst's metadata filled (from one parse of the
 * first frame, or with parse_each from each frame's own parse, VLAN the
 * tag's or 1), then stages st[0..n_st). */
static double
measure(struct xvs_worker *w, const struct xvs_snapshot *s, const struct xvs_snap_stage *st,
	unsigned n_st, struct rte_mbuf **sets, unsigned n_sets, unsigned iters, unsigned trials,
	bool parse_each)
{
	uint64_t best = UINT64_MAX;
	struct xvs_l2 l2;

	xvs_parse_l2(rte_pktmbuf_mtod(sets[0], const uint8_t *), rte_pktmbuf_data_len(sets[0]),
		     &l2);
	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < n_sets * iters; it++) {
			struct rte_mbuf **pkts = &sets[(it % n_sets) * XVS_BURST];

			for (unsigned i = 0; i < XVS_BURST; i++) {
				if (parse_each)
					xvs_parse_l2(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
						     rte_pktmbuf_data_len(pkts[i]), &l2);
				xvs_meta_fill(pkts[i], &l2, 0, l2.tagged ? l2.vid : 1);
			}
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
	return (double)best / (n_sets * iters * XVS_BURST);
}

/* The 10k flows' keys for the anchors below (addresses, ports, protocol,
 * VLAN: 16 bytes, extracted beforehand, so the anchors do not even read the
 * frames), in the order the switch path sees them, and DPDK's rte_hash
 * holding them all. */
static uint8_t bare_keys[FLOW_SETS * XVS_BURST][16];
static const void *bare_kp[FLOW_SETS * XVS_BURST];

static struct rte_hash *
bare_table(struct rte_mbuf **sets, unsigned n_sets)
{
	static struct rte_hash *h;
	struct rte_hash_parameters hp = {
		.name = "bare_flows", .entries = 16384, .key_len = 16,
		.hash_func = rte_hash_crc, .socket_id = (int)rte_socket_id(),
	};

	if (h != NULL)
		return h;
	if ((h = rte_hash_create(&hp)) == NULL)
		exit(1);
	for (unsigned i = 0; i < n_sets * XVS_BURST; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(sets[i], const uint8_t *);
		struct xvs_l2 l2 = {0};

		if (xvs_parse_l2(f, rte_pktmbuf_data_len(sets[i]), &l2) != XVS_PARSE_OK)
			exit(1);
		memcpy(bare_keys[i], f + l2.l3_off + 12, 8);     /* addresses */
		memcpy(bare_keys[i] + 8, f + l2.l3_off + 20, 4); /* ports */
		bare_keys[i][12] = f[l2.l3_off + 9];
		memcpy(bare_keys[i] + 13, &l2.vid, 2);
		bare_kp[i] = bare_keys[i];
		if (rte_hash_add_key_data(h, bare_keys[i], (void *)(uintptr_t)(i + 1)) < 0)
			exit(1);
	}
	return h;
}

/* The anchor of the 10k-flow floor: one exact-match lookup per frame and
 * nothing else, rte_hash in bulk (32 keys) over bare_table, with the table
 * alone in the caches. Any per-flow policy answer costs at least this with
 * 10k flows in turn. */
static double
measure_bare_lookup(struct rte_mbuf **sets, unsigned n_sets, unsigned trials)
{
	struct rte_hash *h = bare_table(sets, n_sets);
	uint64_t best = UINT64_MAX, hits = 0;

	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < n_sets; it++) {
			void *data[XVS_BURST];
			uint64_t hit = 0;

			rte_hash_lookup_bulk_data(h, &bare_kp[it * XVS_BURST], XVS_BURST, &hit, data);
			hits += (unsigned)__builtin_popcountll(hit);
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	if (hits != (uint64_t)trials * n_sets * XVS_BURST)
		exit(1);
	return (double)best / (n_sets * XVS_BURST);
}

/* Anchor rows: before the switch path, one 32-byte store per frame into
 * its mbuf's private area (where the metadata lives), and nothing else:
 * the least a per-packet policy verdict kept in the mbuf costs. */
static bool store_meta;

/* The anchor row of the 10k-flow policy: the switch path with the metadata
 * filled (as for a port with stages) plus, per burst, one bulk rte_hash
 * lookup of its frames' keys in bare_table, in the same loop, so the
 * table's lines compete with the frames' for the caches as a policy's
 * would: the no-policy switch plus the least any per-flow answer costs. */
static struct rte_hash *inloop_h;
static uint64_t inloop_hits;

/* The barest per-flow state: one 64-byte line read per frame, the flow's
 * line of a 1 MB table (16384 lines, as the flow cache's sets) chosen by a
 * hash of the flow computed beforehand, with the metadata filled: what any
 * per-flow answer kept in memory costs at least, with no key built and
 * nothing compared. */
#define LINE_SETS 16384u
static const uint64_t (*inloop_lines)[8];
static uint32_t line_of[FLOW_SETS * XVS_BURST];
static uint64_t inloop_sum;

/* The floor of a per-flow policy: per burst, each frame's IPv4 header
 * checked as the guards must (options, fragment, protocol, DHCP ports:
 * what the metadata's GUARD_CLEAN says) and its 5-tuple read from it
 * (untagged or one tag), hashed (two CRC32s), its line of a 1 MB table
 * prefetched, then the 16 bytes compared. No metadata is written (the
 * policy path holds it out of the mbufs), no rule counted, one entry a
 * line: what any per-flow answer with the guards costs at least, the key
 * built and hashed in the loop (anchor-10k-line has both done
 * beforehand). The table holds every flow at its line. */
static const uint64_t (*exact_lines)[8];
static uint64_t exact_hits;

/* Frame m's key in k; whether the guards would pass it (policy_floor.h:
 * the same floor as pvprelay's at the switch). */
static inline bool
exact_key(const struct rte_mbuf *m, uint64_t *k)
{
	return policy_floor_key(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), k);
}

static inline uint32_t
exact_line(const uint64_t *k)
{
	return rte_hash_crc_8byte(k[1], rte_hash_crc_8byte(k[0], 0)) % LINE_SETS;
}

static void
exact_burst(struct rte_mbuf **pkts)
{
	const uint64_t *ln[XVS_BURST];
	uint64_t k[XVS_BURST][2];
	bool clean[XVS_BURST];

	for (unsigned i = 0; i < XVS_BURST; i++) {
		clean[i] = exact_key(pkts[i], k[i]);
		ln[i] = exact_lines[exact_line(k[i])];
		rte_prefetch0(ln[i]);
	}
	for (unsigned i = 0; i < XVS_BURST; i++)
		exact_hits += clean[i] && ((ln[i][0] ^ k[i][0]) | (ln[i][1] ^ k[i][1])) == 0;
}

/* The "metadata only" rows: port 1 with egress stages in the snapshot's
 * eyes, so frames from port 0 get their metadata (xvs_meta_for_egress). */
static void
meta_for_port1(struct xvs_snapshot *s, bool on)
{
	s->n_egress_ports = on;
	s->egress_port = 1;
}

static double measure_switch(struct xvs_worker *w, struct xvs_snapshot *s,
			     const struct xvs_snap_stage *st, unsigned n_st, struct rte_mbuf **sets,
			     unsigned n_sets, unsigned trials);

/* An in-loop anchor row (set up by the caller): the 10k-flow switch path
 * with the metadata filled, no stage. */
static double
measure_meta_anchor(struct xvs_worker *w, struct xvs_snapshot *s, struct rte_mbuf **sets,
		    unsigned trials)
{
	double c;

	meta_for_port1(s, true);
	c = measure_switch(w, s, NULL, 0, sets, FLOW_SETS, trials);
	meta_for_port1(s, false);
	return c;
}

/* The switch path per packet: n_sets bursts copied from the templates in
 * sets[] into fresh mbufs, through xvs_l2_forward_burst from port 0 (with
 * ingress stages st[0..n_st)) to port 1, and transmitted. */
static double
measure_switch(struct xvs_worker *w, struct xvs_snapshot *s, const struct xvs_snap_stage *st,
	       unsigned n_st, struct rte_mbuf **sets, unsigned n_sets, unsigned trials)
{
	uint64_t best = UINT64_MAX;

	bool egress0 = false;

	s->port[0].pipe.n_in = (uint8_t)n_st;
	memcpy(s->port[0].pipe.in, st, n_st * sizeof(*st));
	/* As xvsd lists them: the ACL runs both ways, so it is also port 0's
	 * egress stage (which port 0's own frames never reach). */
	for (unsigned j = 0; j < n_st; j++)
		if (st[j].desc == &xvs_acl_stage_desc && s->n_egress_ports == 0) {
			s->port[0].pipe.n_out = 1;
			s->port[0].pipe.out[0] = st[j];
			s->n_egress_ports = 1;
			s->egress_port = 0;
			egress0 = true;
		}
	s->gen++; /* a new pipeline: a new snapshot (the flow cache's entries go) */
	for (unsigned t = 0; t < trials; t++) {
		uint64_t t0 = rte_rdtsc_precise(), d;

		for (unsigned it = 0; it < n_sets; it++) {
			struct rte_mbuf *pkts[XVS_BURST];

			bench_copy_burst(xvs_dp.pool, &sets[it * XVS_BURST], pkts, XVS_BURST);
			for (unsigned i = 0; store_meta && i < XVS_BURST; i++) {
				struct xvs_pkt_meta md = {.in_port = 0, .vid = 1, .l3 = 4};

				*xvs_meta(pkts[i]) = md;
			}
			if (inloop_h != NULL) {
				void *data[XVS_BURST];
				uint64_t hit = 0;

				rte_hash_lookup_bulk_data(inloop_h, &bare_kp[it * XVS_BURST],
							  XVS_BURST, &hit, data);
				inloop_hits += (unsigned)__builtin_popcountll(hit);
			}
			if (exact_lines != NULL)
				exact_burst(pkts);
			for (unsigned i = 0; inloop_lines != NULL && i < XVS_BURST; i++)
				inloop_sum += inloop_lines[line_of[it * XVS_BURST + i]][0];
			xvs_l2_forward_burst(w, s, 0, pkts, XVS_BURST, t0);
			xvs_tx_flush_all(w, s);
		}
		d = rte_rdtsc_precise() - t0;
		if (d < best)
			best = d;
	}
	s->port[0].pipe.n_in = 0;
	if (egress0) {
		s->port[0].pipe.n_out = 0;
		s->n_egress_ports = 0;
	}
	s->gen++;
	if (w->ctr[1].tx_packets != w->ctr[0].rx_packets) {
		fprintf(stderr, "the switch lost frames: rx %lu tx %lu\n",
			(unsigned long)w->ctr[0].rx_packets, (unsigned long)w->ctr[1].tx_packets);
		exit(1);
	}
	return (double)best / (n_sets * XVS_BURST);
}

/* The ACL stage with rules of bench/datapath_xvs.py acl_rules(). */
static void
acl_stage_of(struct xvs_snap_stage *ss, uint16_t id, unsigned n)
{
	static char keys[100][12], vals[100][200];
	struct xvs_ext_kv kv[100];
	char err[256] = "";
	void *state = NULL;

	for (unsigned i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%u", i + 1);
		bench_acl_rule(i, n, vals[i], sizeof(vals[i]));
		kv[i].key = keys[i];
		kv[i].value = vals[i];
	}
	memset(ss, 0, sizeof(*ss));
	ss->desc = &xvs_acl_stage_desc;
	ss->id = id;
	if (ss->desc->ops->init(NULL, &ss->ctx) < 0 ||
	    ss->desc->ops->config_apply(ss->ctx, 0, kv, n, &state, err, sizeof(err)) < 0) {
		fprintf(stderr, "acl: %s\n", err);
		exit(1);
	}
	ss->state = state;
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
	struct xvs_snap_stage pass[XVS_PASSTHROUGH_MAX], guards[5], nospoof[4];
	static struct rte_mbuf *sets[FLOW_SETS * XVS_BURST];
	struct xvs_fdb_params fp = {.max_entries = 4096, .aging_ns = 0};
	struct rte_mbuf *pkts[XVS_BURST];
	struct xvs_snapshot *s;
	struct xvs_worker *w;
	struct rte_mempool *mp;
	struct xvs_err err;
	double base, c;
	uint8_t dst[6];

	only = argc > 2 ? argv[2] : NULL;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		return 1;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	mp = rte_pktmbuf_pool_create("bench", 12288, 256, XVS_MBUF_PRIV_SIZE,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);
	s = rte_zmalloc("s", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || w == NULL || s == NULL || xvs_fdb_create(&fp, &xvs_dp.fdb, &err) < 0)
		return 1;
	xvs_dp.pool = xvs_dp.flood_pool = mp;
	/* As xvsd's workers have it; XVS_NO_FCACHE=1 measures without. */
	if (getenv("XVS_NO_FCACHE") == NULL && (w->fcache = xvs_fcache_create(SOCKET_ID_ANY)) == NULL)
		return 1;
	s->port[0].active = s->port[1].active = true;
	s->port[0].n_rx_workers = 1;
	atomic_store(&xvs_dp.snap, s);
	memcpy(dst, bench_frame, 6);
	xvs_fdb_add_static(xvs_dp.fdb, dst, 1, 1, &err); /* known unicast: storm does not count it */
	for (unsigned i = 0; i < XVS_BURST; i++) {
		pkts[i] = rte_pktmbuf_alloc(mp);
		memcpy(rte_pktmbuf_append(pkts[i], sizeof(bench_frame)), bench_frame, sizeof(bench_frame));
	}
	for (unsigned i = 0; i < FLOW_SETS * XVS_BURST; i++) {
		uint8_t f[64];
		unsigned len = bench_flow_frame(i, f);
		struct xvs_l2 l2 = {0};

		sets[i] = rte_pktmbuf_alloc(mp);
		if (sets[i] == NULL)
			return 1;
		memcpy(rte_pktmbuf_append(sets[i], (uint16_t)len), f, len);
		xvs_parse_l2(f, len, &l2);
		xvs_fdb_add_static(xvs_dp.fdb, f, l2.tagged ? l2.vid : 1, 1, &err);
	}
	xvs_dp.n_workers_max = 1;
	for (unsigned i = 0; i < XVS_PASSTHROUGH_MAX; i++)
		stage_of(&pass[i], &xvs_stage_passthrough[i], (uint16_t)i, NULL, NULL);
	stage_of(&guards[0], &xvs_stage_mac_spoof, 8, "macs", "02:00:00:00:00:01");
	stage_of(&guards[1], &xvs_stage_dhcp_guard, 9, NULL, NULL);
	stage_of(&guards[2], &xvs_stage_router_guard, 10, NULL, NULL);
	stage_of(&guards[3], &xvs_stage_storm_limit, 11, "pps", "100000000");
	acl_stage_of(&guards[4], 12, 100);
	memcpy(nospoof, &guards[1], sizeof(nospoof)); /* 256 sources: mac-spoof off */

	printf("TSC %.3f GHz, %u trials of %u bursts of %u, minimum per packet:\n",
	       (double)xvs_dp.tsc_hz / 1e9, trials, ITERS, XVS_BURST);
	if (want("fill") || want("stages")) {
		base = measure(w, s, pass, 0, pkts, 1, ITERS, trials, false);
		printf("  metadata fill             %6.2f ns\n", NS(base));
	}
	if (want("stages")) {
		for (unsigned n = 1; n <= 8; n *= 2) {
			if (n == 2)
				n = 4;
			c = measure(w, s, pass, n, pkts, 1, ITERS, trials, false);
			printf("  fill + %u pass-through     %6.2f ns  (%.2f ns per stage)\n", n,
			       NS(c), NS(c - base) / n);
		}
		c = measure(w, s, guards, 4, pkts, 1, ITERS, trials, false);
		printf("  fill + guards (4 stages)  %6.2f ns  (%.2f ns for the guards)\n", NS(c),
		       NS(c - base));
		c = measure(w, s, &guards[4], 1, pkts, 1, ITERS, trials, false);
		printf("  fill + acl100             %6.2f ns  (%.2f ns for the ACL)\n", NS(c),
		       NS(c - base));
		c = measure(w, s, guards, 5, pkts, 1, ITERS, trials, false);
		printf("  fill + guards + acl100    %6.2f ns  (%.2f ns for the policy)\n", NS(c),
		       NS(c - base));
	}
	trials = trials / 20 > 3 ? trials / 20 : 3;
	if (want("10k-stages")) {
		base = measure(w, s, NULL, 0, sets, FLOW_SETS, 1, trials, true);
		printf("10k flows (%u trials over all of them), minimum per packet:\n", trials);
		printf("  parse + fill              %6.2f ns\n", NS(base));
		c = measure(w, s, &guards[4], 1, sets, FLOW_SETS, 1, trials, true);
		printf("  parse + fill + acl100     %6.2f ns  (%.2f ns for the ACL)\n", NS(c),
		       NS(c - base));
		c = measure(w, s, nospoof, 4, sets, FLOW_SETS, 1, trials, true);
		printf("  parse + fill + 3 guards + acl100 %6.2f ns  (%.2f ns for the policy)\n",
		       NS(c), NS(c - base));
	}
	{
		struct rte_mbuf *one[XVS_BURST * 8];
		struct xvs_l2 l2 = {0};
		double sw0 = 0, sw1, meta = 0;

		bench_two_ports(s);
		xvs_fdb_add_static(xvs_dp.fdb, bench_frame + 6, 1, 0, &err);
		for (unsigned i = 0; i < FLOW_SETS * XVS_BURST; i++) {
			const uint8_t *f = rte_pktmbuf_mtod(sets[i], const uint8_t *);

			xvs_parse_l2(f, rte_pktmbuf_data_len(sets[i]), &l2);
			xvs_fdb_add_static(xvs_dp.fdb, f + 6, l2.tagged ? l2.vid : 1, 0, &err);
		}
		for (unsigned i = 0; i < RTE_DIM(one); i++)
			one[i] = pkts[i % XVS_BURST];
		trials = trials > 3 ? trials : 3;
		printf("the switch path (parse, stages, forward, tx; I/O replaced by copies):\n");
		if (want("switch-1flow-none")) {
			sw0 = measure_switch(w, s, NULL, 0, one, 8, trials * 10);
			printf("  1 flow: no policy         %6.2f ns\n", NS(sw0));
		}
		if (want("switch-1flow-store")) {
			store_meta = true;
			sw1 = measure_switch(w, s, NULL, 0, one, 8, trials * 10);
			store_meta = false;
			printf("  1 flow: anchor, no policy + a 32-byte store per frame %6.2f ns%s\n",
			       NS(sw1), ratio(sw0, sw1));
		}
		/* The anchor of the floor: the metadata filled for every frame
		 * (as when some port has egress stages) and no stage run. */
		if (want("switch-1flow-meta")) {
			meta_for_port1(s, true);
			sw1 = measure_switch(w, s, NULL, 0, one, 8, trials * 10);
			meta_for_port1(s, false);
			printf("  1 flow: metadata only     %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		if (want("switch-1flow-pass")) {
			sw1 = measure_switch(w, s, pass, 1, one, 8, trials * 10);
			printf("  1 flow: 1 pass-through    %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		if (want("switch-1flow-guards")) {
			sw1 = measure_switch(w, s, guards, 4, one, 8, trials * 10);
			printf("  1 flow: guards            %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		if (want("switch-1flow-acl")) {
			sw1 = measure_switch(w, s, &guards[4], 1, one, 8, trials * 10);
			printf("  1 flow: acl100            %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		if (want("switch-1flow-policy")) {
			sw1 = measure_switch(w, s, guards, 5, one, 8, trials * 10);
			printf("  1 flow: guards + acl100   %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		sw0 = 0;
		if (want("switch-10k-none") || want("anchor-10k")) {
			sw0 = measure_switch(w, s, NULL, 0, sets, FLOW_SETS, trials);
			printf("  10k flows: no policy      %6.2f ns\n", NS(sw0));
		}
		if (want("switch-10k-store")) {
			store_meta = true;
			sw1 = measure_switch(w, s, NULL, 0, sets, FLOW_SETS, trials);
			store_meta = false;
			printf("  10k flows: anchor, no policy + a 32-byte store per frame %6.2f ns%s\n",
			       NS(sw1), ratio(sw0, sw1));
		}
		if (want("switch-10k-meta") || want("anchor-10k")) {
			sw1 = measure_meta_anchor(w, s, sets, trials);
			printf("  10k flows: metadata only  %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
			meta = sw1 - sw0;
		}
		if (want("switch-10k-policy")) {
			sw1 = measure_switch(w, s, nospoof, 4, sets, FLOW_SETS, trials);
			printf("  10k flows: 3 guards + acl100 %6.2f ns%s\n", NS(sw1),
			       ratio(sw0, sw1));
		}
		if (want("switch-10k-exact")) {
			uint64_t (*lines)[8] = rte_zmalloc("lines", LINE_SETS * 64, 64);

			if (lines == NULL)
				exit(1);
			for (unsigned i = 0; i < FLOW_SETS * XVS_BURST; i++) {
				uint64_t k[2];

				exact_key(sets[i], k);
				memcpy(lines[exact_line(k)], k, sizeof(k));
			}
			exact_lines = (const uint64_t (*)[8])lines;
			exact_hits = 0;
			sw1 = measure_switch(w, s, NULL, 0, sets, FLOW_SETS, trials);
			exact_lines = NULL;
			rte_free(lines);
			printf("  10k flows: anchor, the guards' header checks + a bare exact-match "
			       "lookup per frame (%.0f %% found) %6.2f ns%s\n",
			       100.0 * exact_hits / ((double)trials * FLOW_SETS * XVS_BURST),
			       NS(sw1), ratio(sw0, sw1));
		}
		if (want("anchor-10k-inloop")) {
			inloop_h = bare_table(sets, FLOW_SETS);
			inloop_hits = 0;
			sw1 = measure_meta_anchor(w, s, sets, trials);
			inloop_h = NULL;
			if (inloop_hits != (uint64_t)trials * FLOW_SETS * XVS_BURST)
				exit(1);
			printf("  10k flows: anchor, metadata + a bare rte_hash lookup per frame in the "
			       "loop %6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		if (want("anchor-10k-line")) {
			uint64_t (*lines)[8] = rte_zmalloc("lines", LINE_SETS * 64, 64);

			if (lines == NULL)
				exit(1);
			(void)bare_table(sets, FLOW_SETS); /* the keys */
			for (unsigned i = 0; i < FLOW_SETS * XVS_BURST; i++) {
				line_of[i] = rte_hash_crc(bare_keys[i], 16, 0) % LINE_SETS;
				lines[line_of[i]][0] = i;
			}
			inloop_lines = (const uint64_t (*)[8])lines;
			sw1 = measure_meta_anchor(w, s, sets, trials);
			inloop_lines = NULL;
			rte_free(lines);
			printf("  10k flows: anchor, metadata + one line of a 1 MB table per frame "
			       "%6.2f ns%s\n", NS(sw1), ratio(sw0, sw1));
		}
		if (want("anchor-10k")) {
			sw1 = measure_bare_lookup(sets, FLOW_SETS, trials);
			printf("  10k flows: anchor, a bare rte_hash lookup per frame %6.2f ns: no "
			       "policy + metadata + it, ratio %.2f\n", NS(sw1),
			       sw0 / (sw0 + meta + sw1));
		}
	}
	if (w->fcache != NULL) {
		struct xvs_fcache_stats fs;

		xvs_fcache_stats(w->fcache, &fs);
		printf("flow cache: %lu hits, %lu misses, %lu inserts, %lu bursts bypassed\n",
		       (unsigned long)fs.hits, (unsigned long)fs.misses, (unsigned long)fs.inserts,
		       (unsigned long)fs.bypass);
	}
	return 0;
}

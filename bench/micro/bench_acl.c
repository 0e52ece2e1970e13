/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of the ACL stage's process() (src/dp/stages/acl.c) per packet, alone:
 * bursts of 32 frames shaped like bench/'s 10k-flow pcap (UDP 64 B, 10k
 * flows, 1/3 untagged, 2/3 in VLAN 10/20) through a port's state compiled
 * from N rules (default 100: the shape bench/README.md "ACL" describes), on
 * the place where the rules apply. Prints ns and cycles per packet.
 *
 * FLOWS (default 10000) uses only the first FLOWS frames, cycled: 1 is the
 * 1-flow pcap, which the verdict cache serves after the first packet.
 *
 *   build/bench/micro/bench_acl [RULES] [SECONDS] [FLOWS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "acl.h"
#include "acl_stage.h"
#include "bench_set.h"
#include "dp.h"
#include "pkt_parse.h"

struct xvs_dp xvs_dp; /* the stage reads n_workers_max and qsbr */

#define N_FRAMES 10000
#define BURST 32

static uint8_t frames[N_FRAMES][64];
static uint32_t lens[N_FRAMES];
static struct xvs_pkt_meta metas[N_FRAMES];

static void
make_frames(void)
{
	for (unsigned i = 0; i < N_FRAMES; i++) {
		uint8_t *f = frames[i];
		struct xvs_l2 l2;
		struct xvs_flow fl;

		lens[i] = bench_flow_frame(i, f);
		xvs_parse_l2(f, 60, &l2);
		xvs_parse_flow(f, 60, &l2, &fl);
		metas[i].l3_off = l2.l3_off;
		metas[i].l3 = fl.l3;
		metas[i].l4_proto = fl.proto;
		metas[i].l4_off = fl.l4_off;
		metas[i].flags = fl.has_ports ? XVS_META_HAS_PORTS : 0;
	}
}

int
main(int argc, char **argv)
{
	char *eal[] = {"bench_acl", "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "-l", "0",
		       "--log-level", "error", "--no-telemetry", NULL};
	unsigned n_rules = argc > 1 ? (unsigned)atoi(argv[1]) : 100;
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	unsigned flows = argc > 3 ? (unsigned)atoi(argv[3]) : N_FRAMES;
	static char keys[XVS_ACL_MAX_RULES][12], vals[XVS_ACL_MAX_RULES][200];
	static struct xvs_ext_kv kv[XVS_ACL_MAX_RULES];
	const struct xvs_ext_ops *ops = xvs_acl_stage_desc.ops;
	struct rte_mbuf *pkts[BURST];
	uint8_t *data[BURST], verdict[BURST], reason[BURST];
	uint64_t ctr[XVS_ACL_CTR__MAX] = {0};
	struct xvs_pkt_meta *meta[BURST];
	struct rte_mempool *pool;
	char err[256] = "";
	void *ctx, *state;
	uint64_t t0, t1, n = 0, hz;
	struct timespec c0, c1;
	double cpu_ns;

	if (n_rules < 1 || n_rules > XVS_ACL_MAX_RULES || flows < 1 || flows > N_FRAMES ||
	    rte_eal_init(11, eal) < 0)
		return 1;
	xvs_dp.n_workers_max = 1;
	make_frames();
	pool = rte_pktmbuf_pool_create("b", 256, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	for (unsigned i = 0; i < BURST; i++) {
		pkts[i] = rte_pktmbuf_alloc(pool);
		pkts[i]->pkt_len = 60;
	}
	for (unsigned i = 0; i < n_rules; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%u", i + 1);
		bench_acl_rule(i, n_rules, vals[i], sizeof(vals[i]));
		kv[i].key = keys[i];
		kv[i].value = vals[i];
	}
	if (ops->init(NULL, &ctx) != 0 || ops->config_apply(ctx, 0, kv, n_rules, &state, err,
							      sizeof(err)) != 0) {
		fprintf(stderr, "bench_acl: %s\n", err);
		return 1;
	}
	hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	t0 = rte_rdtsc();
	do {
		for (unsigned base = 0; base + BURST <= N_FRAMES; base += BURST) {
			struct xvs_ext_burst b = {
				.size = sizeof(b), .pkts = pkts, .data = data, .len = &lens[base],
				.meta = meta, .n = BURST, .place = XVS_EXT_INGRESS, .now_ns = 1,
				.state = state, .counters = ctr,
			};

			for (unsigned i = 0; i < BURST; i++) {
				data[i] = frames[(base + i) % flows];
				meta[i] = &metas[(base + i) % flows];
			}
			memset(verdict, 0, sizeof(verdict));
			ops->process(ctx, &b, verdict, reason);
			n += BURST;
		}
		t1 = rte_rdtsc();
	} while (t1 - t0 < (uint64_t)(secs * (double)hz));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	cpu_ns = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
	/* CPU time, not wall time: the host is shared, and a preempted
	 * interval would count as cost. */
	printf("acl stage, %u rules, %u-flow UDP 64 B, bursts of %d: %.1f ns/packet of CPU "
	       "(%.1f wall, CPU share %.0f%%); allowed %llu no_match %llu denied %llu\n", n_rules,
	       flows, BURST, cpu_ns / (double)n, (double)(t1 - t0) * 1e9 / (double)hz / (double)n,
	       100.0 * cpu_ns / ((double)(t1 - t0) * 1e9 / (double)hz),
	       (unsigned long long)ctr[XVS_ACL_CTR_ALLOWED],
	       (unsigned long long)ctr[XVS_ACL_CTR_NO_MATCH],
	       (unsigned long long)ctr[XVS_ACL_CTR_DENIED]);
	ops->state_free(ctx, state);
	ops->fini(ctx);
	return 0;
}

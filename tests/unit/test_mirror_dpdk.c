/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mirror and capture stages (src/dp/stages/mirror.c, capture.c) on
 * crafted bursts, through their descriptors as the pipeline calls them: the
 * settings they accept and refuse, the copies per direction with offload
 * requests and metadata kept, the emit queue's limit, and capture's pcapng
 * blocks (type, lengths, direction flag, wall-clock timestamp) and full-ring
 * drops. DPDK's EAL runs with --no-huge, no PCI, the main lcore only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "capture.h"
#include "dp.h"
#include "mirror.h"

struct xvs_dp xvs_dp; /* xvsd's is in main.c */

static struct rte_mempool *pool;

/* A frame of len bytes from src_byte, with its metadata's in_port set. */
static struct rte_mbuf *
frame(uint16_t len, uint8_t src_byte)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t f[128];
	char *d;

	assert_non_null(m);
	assert_true(len >= 14 && len <= sizeof(f));
	memset(f, 0xff, 6);
	memset(f + 6, src_byte, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint16_t i = 14; i < len; i++)
		f[i] = (uint8_t)i;
	d = rte_pktmbuf_append(m, len);
	assert_non_null(d);
	memcpy(d, f, len);
	memset(xvs_meta(m), 0, sizeof(struct xvs_pkt_meta));
	xvs_meta(m)->in_port = 1;
	return m;
}

struct burst {
	struct rte_mbuf *pkts[XVS_EXT_BURST_MAX];
	uint8_t *data[XVS_EXT_BURST_MAX];
	uint32_t len[XVS_EXT_BURST_MAX];
	struct xvs_pkt_meta *meta[XVS_EXT_BURST_MAX];
	uint64_t counters[XVS_EXT_MAX_COUNTERS];
	uint8_t verdict[XVS_EXT_BURST_MAX], reason[XVS_EXT_BURST_MAX];
	struct xvs_ext_burst b;
};

static void
burst_init(struct burst *bu, uint16_t n, uint8_t place, const void *state)
{
	memset(bu, 0, sizeof(*bu));
	for (uint16_t i = 0; i < n; i++) {
		bu->pkts[i] = frame((uint16_t)(60 + i), (uint8_t)(i + 1));
		bu->data[i] = rte_pktmbuf_mtod(bu->pkts[i], uint8_t *);
		bu->len[i] = bu->pkts[i]->data_len;
		bu->meta[i] = xvs_meta(bu->pkts[i]);
	}
	bu->b = (struct xvs_ext_burst){
		.size = sizeof(struct xvs_ext_burst), .pkts = bu->pkts, .data = bu->data,
		.len = bu->len, .meta = bu->meta, .n = n, .port = 1, .place = place,
		.worker = 0, .state = state, .counters = bu->counters,
	};
}

static void
burst_free(struct burst *bu)
{
	for (uint16_t i = 0; i < bu->b.n; i++)
		rte_pktmbuf_free(bu->pkts[i]);
}

static void
run(const struct xvs_ext_desc *d, void *ctx, struct burst *bu)
{
	d->ops->process(ctx, &bu->b, bu->verdict, bu->reason);
	for (uint16_t i = 0; i < bu->b.n; i++)
		assert_int_equal(bu->verdict[i], XVS_VERDICT_PASS); /* capture kind */
}

static void
emitq_clear(void)
{
	struct xvs_emitq *q = &xvs_dp.worker[0]->emitq;

	for (uint16_t i = 0; i < q->n; i++)
		rte_pktmbuf_free(q->m[i]);
	q->n = 0;
}

static void
test_mirror_settings(void **state)
{
	const struct xvs_ext_ops *o = xvs_mirror_desc.ops;
	char err[256];
	const struct xvs_ext_kv good[] = {{"in", "3:0,4:63"}, {"out", "2:1"}};
	const struct xvs_ext_kv bad[][1] = {
		{{"in", "3"}}, {{"in", "x:1"}}, {{"in", "3:64"}}, {{"out", "3:1,"}},
		{{"in", "99999:1"}}, {{"sideways", "3:1"}},
		{{"in", "1:0,2:0,3:0,4:0,5:0,6:0,7:0,8:0,9:0"}},
	};

	(void)state;
	assert_int_equal(o->config_validate(NULL, 1, good, 2, err, sizeof(err)), 0);
	assert_int_equal(o->config_validate(NULL, 1, NULL, 0, err, sizeof(err)), 0);
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		err[0] = '\0';
		assert_int_equal(o->config_validate(NULL, 1, bad[i], 1, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(o->config_validate(NULL, XVS_EXT_PORT_NONE, good, 1, err, sizeof(err)),
			 -EINVAL);
}

static void
test_mirror_copies_per_direction(void **state)
{
	const struct xvs_ext_ops *o = xvs_mirror_desc.ops;
	const struct xvs_ext_kv kv[] = {{"in", "2:5"}, {"out", "3:6"}};
	struct xvs_emitq *q = &xvs_dp.worker[0]->emitq;
	struct xvs_mirror_counters c5, c6;
	void *ctx = NULL, *st = NULL;
	struct burst bu;
	char err[256];

	(void)state;
	assert_int_equal(o->init(NULL, &ctx), 0);
	assert_int_equal(o->config_apply(ctx, 1, kv, 2, &st, err, sizeof(err)), 0);
	burst_init(&bu, 3, XVS_EXT_INGRESS, st);
	/* a TSO frame's offload requests must survive the copy */
	bu.pkts[2]->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4;
	bu.pkts[2]->tso_segsz = 1448;
	xvs_meta(bu.pkts[2])->vid = 42;
	run(&xvs_mirror_desc, ctx, &bu);
	assert_int_equal(q->n, 3);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(q->port[i], 2);
		assert_ptr_not_equal(q->m[i], bu.pkts[i]);
		assert_int_equal(q->m[i]->pkt_len, bu.pkts[i]->pkt_len);
		assert_memory_equal(rte_pktmbuf_mtod(q->m[i], void *), bu.data[i], bu.len[i]);
		assert_int_equal(xvs_meta(q->m[i])->dst.kind, XVS_DEST_PORT);
		assert_int_equal(xvs_meta(q->m[i])->dst.id, 2);
		assert_int_equal(xvs_meta(q->m[i])->in_port, 1);
	}
	assert_true(q->m[2]->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	assert_int_equal(q->m[2]->tso_segsz, 1448);
	assert_int_equal(xvs_meta(q->m[2])->vid, 42);
	emitq_clear();
	/* egress: the other session's destination */
	bu.b.place = XVS_EXT_EGRESS;
	run(&xvs_mirror_desc, ctx, &bu);
	assert_int_equal(q->n, 3);
	assert_int_equal(q->port[0], 3);
	emitq_clear();
	xvs_mirror_session_counters(5, &c5);
	xvs_mirror_session_counters(6, &c6);
	assert_int_equal(c5.packets, 3);
	assert_int_equal(c5.bytes, 60 + 61 + 62);
	assert_int_equal(c6.packets, 3);
	assert_int_equal(c5.drops + c6.drops, 0);
	assert_int_equal(bu.counters[0], 6); /* "mirrored" */
	/* no state (no session on the port): nothing */
	bu.b.state = NULL;
	run(&xvs_mirror_desc, ctx, &bu);
	assert_int_equal(q->n, 0);
	burst_free(&bu);
	o->state_free(ctx, st);
	o->fini(ctx);
}

static void
test_mirror_full_emit_queue_counts_drops(void **state)
{
	const struct xvs_ext_ops *o = xvs_mirror_desc.ops;
	const struct xvs_ext_kv kv[] = {{"in", "2:7"}};
	struct xvs_emitq *q = &xvs_dp.worker[0]->emitq;
	struct xvs_mirror_counters c;
	void *ctx = NULL, *st = NULL;
	struct burst bu;
	char err[256];

	(void)state;
	assert_int_equal(o->init(NULL, &ctx), 0);
	assert_int_equal(o->config_apply(ctx, 1, kv, 1, &st, err, sizeof(err)), 0);
	q->n = XVS_EMIT_MAX - 1; /* as if other stages had emitted */
	for (uint16_t i = 0; i < q->n; i++)
		q->m[i] = NULL;
	burst_init(&bu, 3, XVS_EXT_INGRESS, st);
	run(&xvs_mirror_desc, ctx, &bu);
	assert_int_equal(q->n, XVS_EMIT_MAX);
	rte_pktmbuf_free(q->m[XVS_EMIT_MAX - 1]);
	q->n = 0;
	xvs_mirror_session_counters(7, &c);
	assert_int_equal(c.packets, 1);
	assert_int_equal(c.drops, 2);
	assert_int_equal(bu.counters[1], 2); /* "mirror_drops" */
	burst_free(&bu);
	o->state_free(ctx, st);
	o->fini(ctx);
}

/* The pcapng Enhanced Packet Block rte_pcapng_copy made (draft-ietf-opsawg-pcapng 4.3). */
static void
check_epb(struct rte_mbuf *c, const struct rte_mbuf *orig, uint32_t flags)
{
	const uint32_t *w = rte_pktmbuf_mtod(c, const uint32_t *);
	uint32_t blen = w[1], caplen = w[5], padded = (caplen + 3) & ~3u;
	const uint8_t *opt = (const uint8_t *)(w + 7) + padded;
	struct timespec now;
	uint64_t ts = (uint64_t)w[3] << 32 | w[4], now_ns;
	uint16_t code, olen;
	uint32_t v;

	assert_int_equal(c->nb_segs, 1);
	assert_int_equal(w[0], 6);
	assert_int_equal(blen, c->data_len);
	assert_int_equal(caplen, orig->pkt_len);
	assert_int_equal(w[6], orig->pkt_len);
	assert_memory_equal(w + 7, rte_pktmbuf_mtod(orig, const void *), caplen);
	memcpy(&code, opt, 2);
	memcpy(&olen, opt + 2, 2);
	memcpy(&v, opt + 4, 4);
	assert_int_equal(code, 2); /* epb_flags */
	assert_int_equal(olen, 4);
	assert_int_equal(v & 3, flags);
	assert_int_equal(*(const uint32_t *)((const uint8_t *)w + blen - 4), blen);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	/* the TSC-derived time may run a little ahead of the clock */
	assert_true(ts < now_ns + 1000000000ull && ts + 5000000000ull > now_ns);
}

static void
test_capture_blocks_and_directions(void **state)
{
	const struct xvs_ext_ops *o = xvs_capture_desc.ops;
	const struct xvs_ext_kv kv[] = {{"id", "3"}};
	struct xvs_capture *cap;
	struct rte_mbuf *got[XVS_EXT_BURST_MAX];
	struct xvs_capture_worker sum;
	struct burst bu;
	void *st = NULL;
	char err[256];

	(void)state;
	assert_int_equal(xvs_capture_create(3, 1, XVS_EXT_INGRESS, 1, &cap), 0);
	assert_int_equal(xvs_capture_create(3, 1, XVS_EXT_INGRESS, 1, &cap), -EEXIST);
	assert_int_equal(o->config_validate(NULL, 1, kv, 1, err, sizeof(err)), 0);
	assert_int_equal(o->config_apply(NULL, 1, kv, 1, &st, err, sizeof(err)), 0);
	assert_ptr_equal(st, cap);
	burst_init(&bu, 4, XVS_EXT_INGRESS, st);
	run(&xvs_capture_desc, NULL, &bu);
	assert_int_equal(rte_ring_sc_dequeue_burst(cap->ring[0], (void **)got, 32, NULL), 4);
	for (uint16_t i = 0; i < 4; i++) {
		check_epb(got[i], bu.pkts[i], 1); /* inbound */
		rte_pktmbuf_free(got[i]);
	}
	/* egress is not captured with dir=in */
	bu.b.place = XVS_EXT_EGRESS;
	run(&xvs_capture_desc, NULL, &bu);
	assert_int_equal(rte_ring_count(cap->ring[0]), 0);
	cap->dirs = XVS_EXT_BOTH;
	run(&xvs_capture_desc, NULL, &bu);
	assert_int_equal(rte_ring_sc_dequeue_burst(cap->ring[0], (void **)got, 32, NULL), 4);
	check_epb(got[0], bu.pkts[0], 2); /* outbound */
	rte_pktmbuf_free_bulk(got, 4);
	/* a full ring drops and counts; the frames themselves are untouched */
	for (unsigned k = 0; k < XVS_CAPTURE_RING / 4 + 2; k++)
		run(&xvs_capture_desc, NULL, &bu);
	xvs_capture_counters(cap, &sum);
	assert_int_equal(rte_ring_count(cap->ring[0]), XVS_CAPTURE_RING - 1);
	assert_int_equal(sum.copied, 8 + XVS_CAPTURE_RING - 1);
	assert_int_equal(sum.drop_full, (XVS_CAPTURE_RING / 4 + 2) * 4 - (XVS_CAPTURE_RING - 1));
	assert_int_equal(sum.drop_nombuf, 0);
	burst_free(&bu);
	xvs_capture_destroy(cap);
	/* gone: its id is refused */
	assert_int_equal(o->config_validate(NULL, 1, kv, 1, err, sizeof(err)), -EINVAL);
}

static void
test_capture_settings(void **state)
{
	const struct xvs_ext_ops *o = xvs_capture_desc.ops;
	const struct xvs_ext_kv bad[][1] = {{{"id", "99999"}}, {{"id", "x"}}, {{"file", "/x"}}};
	char err[256];

	(void)state;
	for (size_t i = 0; i < RTE_DIM(bad); i++)
		assert_int_equal(o->config_validate(NULL, 1, bad[i], 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(o->config_validate(NULL, 1, NULL, 0, err, sizeof(err)), 0);
}

static int
setup(void **state)
{
	char *eal[] = {"test_mirror_dpdk", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
		       "-l", "0", "--log-level", "error", "--no-telemetry", NULL};

	(void)state;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("frames", 4096, 0, XVS_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	xvs_dp.flood_pool = rte_pktmbuf_pool_create("flood", 1024, 0, XVS_MBUF_PRIV_SIZE,
						    RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	xvs_dp.flood_big_pool = xvs_dp.flood_pool;
	xvs_dp.worker[0] = rte_zmalloc("worker", sizeof(struct xvs_worker), RTE_CACHE_LINE_SIZE);
	xvs_dp.n_workers_max = 1;
	return pool != NULL && xvs_dp.flood_pool != NULL && xvs_dp.worker[0] != NULL ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_settings),
		cmocka_unit_test(test_mirror_copies_per_direction),
		cmocka_unit_test(test_mirror_full_emit_queue_counts_drops),
		cmocka_unit_test(test_capture_blocks_and_directions),
		cmocka_unit_test(test_capture_settings),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ACL stage (src/dp/stages/acl.c) on real DPDK: its rte_acl classifier
 * against the reference matcher xvs_acl_match_slow on random rules and
 * frames (a third of them 802.1Q-tagged) in both directions, stateful return traffic across two workers with
 * a controlled clock (and the sweep that expires flows), meters (rte_meter)
 * and refused settings. The EAL runs with --no-huge, no PCI, one lcore.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "acl.h"
#include "acl_stage.h"
#include "dp.h"
#include "flow_cache.h"
#include "guard.h"
#include "pkt_parse.h"
#include "test_rng.h"
#include "test_acl_rand.h"

struct xvs_dp xvs_dp; /* the stage reads n_workers_max and qsbr */

static struct rte_mempool *pool;
static void *ctx;
static const struct xvs_ext_ops *ops;

#define SEC 1000000000ull

/* A frame with p's fields; IPv4 or IPv6 fragments where p has TCP/UDP
 * without ports; with an 802.1Q tag (VID 10) when tagged. Returns its
 * length. */
static uint32_t
build_frame(const struct xvs_acl_pkt *p, uint8_t *f, bool tagged)
{
	uint32_t off = 14, l4len;
	bool frag = (p->proto == 6 || p->proto == 17) && !p->has_ports;

	memset(f, 0, 128);
	memcpy(f, p->dst_mac, 6);
	memcpy(f + 6, p->src_mac, 6);
	if (tagged) {
		f[12] = 0x81;
		f[15] = 10;
		f += 4; /* the rest as untagged, 4 bytes on */
	}
	l4len = p->proto == 6 && !frag ? 20 : 8;
	if (p->l3 == 0) {
		f[12] = 0x08;
		f[13] = 0x06; /* ARP: not IP */
		return 60;
	}
	if (p->l3 == 4) {
		f[12] = 0x08;
		f[14] = 0x45;
		f[16] = 0;
		f[17] = (uint8_t)(20 + l4len);
		if (frag)
			f[20] = 0x20; /* more fragments */
		f[22] = 64;
		f[23] = p->proto;
		memcpy(f + 26, p->src, 4);
		memcpy(f + 30, p->dst, 4);
		off += 20;
	} else {
		f[12] = 0x86;
		f[13] = 0xdd;
		f[14] = 0x60;
		f[19] = (uint8_t)(l4len + (frag ? 8 : 0));
		f[20] = frag ? 44 : p->proto;
		f[21] = 64;
		memcpy(f + 22, p->src, 16);
		memcpy(f + 38, p->dst, 16);
		off += 40;
		if (frag) {
			f[off] = p->proto;
			f[off + 3] = 0x08; /* offset 1: no L4 header here */
			off += 8;
		}
	}
	if (p->has_ports) {
		f[off] = (uint8_t)(p->sport >> 8);
		f[off + 1] = (uint8_t)p->sport;
		f[off + 2] = (uint8_t)(p->dport >> 8);
		f[off + 3] = (uint8_t)p->dport;
		if (p->proto == 6)
			f[off + 12] = 0x50;
		else
			f[off + 5] = 8;
	}
	off += l4len + (tagged ? 4 : 0);
	return off < 60 ? 60 : off;
}


/* Metadata as the pipeline fills it (xvs_parse_l2 + xvs_parse_flow). */
static void
fill_meta(const uint8_t *f, uint32_t len, struct xvs_pkt_meta *m)
{
	struct xvs_flow fl;
	struct xvs_l2 l2;

	memset(m, 0, sizeof(*m));
	assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
	m->l3_off = l2.l3_off;
	if (xvs_parse_flow(f, len, &l2, &fl) != 0 || fl.l3 == 0)
		return;
	m->l3 = fl.l3;
	m->l4_proto = fl.proto;
	if (fl.has_ports) {
		m->flags |= XVS_META_HAS_PORTS;
		m->l4_off = fl.l4_off;
	}
	if (fl.fragment)
		m->flags |= XVS_META_FRAGMENT;
}

/* One burst of up to XVS_EXT_BURST_MAX frames through the stage. */
struct burst {
	uint8_t frame[XVS_EXT_BURST_MAX][128];
	uint8_t *data[XVS_EXT_BURST_MAX];
	uint32_t len[XVS_EXT_BURST_MAX];
	struct xvs_pkt_meta meta_s[XVS_EXT_BURST_MAX];
	struct xvs_pkt_meta *meta[XVS_EXT_BURST_MAX];
	struct rte_mbuf *pkts[XVS_EXT_BURST_MAX];
	uint8_t verdict[XVS_EXT_BURST_MAX], reason[XVS_EXT_BURST_MAX];
	uint64_t ctr[XVS_ACL_CTR__MAX];
	uint16_t n;
};

static void
burst_add_tagged(struct burst *b, const struct xvs_acl_pkt *p, uint32_t pkt_len, bool tagged)
{
	uint16_t i = b->n++;

	b->len[i] = build_frame(p, b->frame[i], tagged);
	b->data[i] = b->frame[i];
	fill_meta(b->frame[i], b->len[i], &b->meta_s[i]);
	b->meta[i] = &b->meta_s[i];
	b->pkts[i]->pkt_len = pkt_len != 0 ? pkt_len : b->len[i];
}

static void
burst_add(struct burst *b, const struct xvs_acl_pkt *p, uint32_t pkt_len)
{
	burst_add_tagged(b, p, pkt_len, false);
}

/* b as the stage sees it. */
static struct xvs_ext_burst
ext_of(struct burst *b, const void *state, uint8_t dir, unsigned worker, uint64_t now_ns)
{
	struct xvs_ext_burst eb = {
		.size = sizeof(eb),
		.pkts = b->pkts,
		.data = b->data,
		.len = b->len,
		.meta = b->meta,
		.n = b->n,
		.place = dir == XVS_ACL_OUT ? XVS_EXT_INGRESS : XVS_EXT_EGRESS,
		.worker = worker,
		.now_ns = now_ns,
		.state = state,
		.counters = b->ctr,
	};

	return eb;
}

static void
run(struct burst *b, const void *state, uint8_t dir, unsigned worker, uint64_t now_ns)
{
	struct xvs_ext_burst eb = ext_of(b, state, dir, worker, now_ns);

	memset(b->verdict, XVS_VERDICT_PASS, sizeof(b->verdict));
	ops->process(ctx, &eb, b->verdict, b->reason);
	b->n = 0;
}

static struct burst *
burst_new(void)
{
	struct burst *b = calloc(1, sizeof(*b));
	unsigned i;

	assert_non_null(b);
	for (i = 0; i < XVS_EXT_BURST_MAX; i++) {
		b->pkts[i] = rte_pktmbuf_alloc(pool);
		assert_non_null(b->pkts[i]);
	}
	return b;
}

static void
burst_free(struct burst *b)
{
	unsigned i;

	for (i = 0; i < XVS_EXT_BURST_MAX; i++)
		rte_pktmbuf_free(b->pkts[i]);
	free(b);
}

/* Compile rules (ids 1..n, canonical text) for port 0. */
static void *
compile(const struct xvs_acl_rule *rs, unsigned n)
{
	static char keys[XVS_ACL_MAX_RULES][12], vals[XVS_ACL_MAX_RULES][256];
	static struct xvs_ext_kv kv[XVS_ACL_MAX_RULES];
	char err[256] = "";
	void *state = NULL;
	unsigned i;

	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%u", i + 1);
		xvs_acl_rule_format(&rs[i], vals[i], sizeof(vals[i]));
		kv[i].key = keys[i];
		kv[i].value = vals[i];
	}
	if (ops->config_validate(ctx, 0, kv, n, err, sizeof(err)) != 0 ||
	    ops->config_apply(ctx, 0, kv, n, &state, err, sizeof(err)) != 0)
		fail_msg("compile: %s", err);
	return state;
}

static void *
compile_str(const char *const *lines, unsigned n)
{
	struct xvs_acl_rule rs[8];
	struct xvs_err e;
	unsigned i;

	for (i = 0; i < n; i++)
		if (xvs_acl_rule_parse_str(lines[i], &rs[i], &e) != 0)
			fail_msg("%s: %s", lines[i], e.msg);
	return compile(rs, n);
}

/* The rule whose hit counter moved between before[] and now, or -1. */
static int
hit_rule(const void *state, uint64_t *before, unsigned n)
{
	uint32_t ids[64];
	uint64_t hits[64];
	int got = -1;
	unsigned i;

	assert_int_equal(xvs_acl_stage_hits(state, ids, hits, 64), n);
	for (i = 0; i < n; i++) {
		if (hits[i] != before[i]) {
			assert_int_equal(got, -1);
			assert_int_equal(hits[i], before[i] + 1);
			got = (int)i;
		}
		before[i] = hits[i];
	}
	return got;
}

static void
test_acl_dpdk_random_against_reference(void **state)
{
	static struct xvs_acl_rule rs[64];
	struct burst *b = burst_new();
	unsigned iter, i, hits = 0;

	(void)state;
	rng_state = 0xd9d4ac1;
	for (iter = 0; iter < 150; iter++) {
		unsigned n = 1 + rnd(64);
		uint64_t before[64] = {0};
		void *st;

		for (i = 0; i < n; i++) {
			rand_rule(&rs[i]);
			rs[i].stateful = false; /* flows would decide before the rules */
			rs[i].timeout_s = 0;
			if (rs[i].action == XVS_ACL_METER)
				rs[i].rate_bps = 1000000000000ull, /* never limits here */
				rs[i].rate_pps = 0;
		}
		st = compile(rs, n);
		for (i = 0; i < 150; i++) {
			uint8_t dir = 1 + rnd(2);
			struct xvs_acl_pkt p, seen;
			int want, got;

			rand_pkt(&p);
			burst_add_tagged(b, &p, 0, rnd(3) == 0);
			/* The reference sees the frame as the core parses it. */
			assert_int_equal(xvs_acl_pkt_from_frame(b->frame[0], b->len[0], &seen), 0);
			want = xvs_acl_match_slow(rs, n, &seen, dir);
			run(b, st, dir, 0, SEC);
			got = hit_rule(st, before, n);
			if (got != want)
				fail_msg("iter %u pkt %u dir %u l3 %u proto %u ports %d: rte_acl %d, "
					 "reference %d", iter, i, dir, seen.l3, seen.proto,
					 seen.has_ports, got, want);
			assert_int_equal(b->verdict[0], want >= 0 && rs[want].action == XVS_ACL_DENY
								? XVS_VERDICT_DROP
								: XVS_VERDICT_PASS);
			hits += got >= 0;
		}
		ops->state_free(ctx, st);
	}
	assert_true(hits > 150 * 150 / 3);
	burst_free(b);
}

/* n random rules, only allow and deny (no meters, nothing stateful). */
static void
rand_allow_deny(struct xvs_acl_rule *rs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		rand_rule(&rs[i]);
		rs[i].stateful = false;
		rs[i].timeout_s = 0;
		if (rs[i].action == XVS_ACL_METER)
			rs[i].action = XVS_ACL_ALLOW, rs[i].rate_bps = 0, rs[i].rate_pps = 0;
	}
}

/* Whole bursts give the same answers as single packets. */
static void
test_acl_dpdk_burst_matches_singles(void **state)
{
	static struct xvs_acl_rule rs[100];
	struct xvs_acl_pkt p[XVS_EXT_BURST_MAX];
	struct burst *b = burst_new();
	unsigned i, j;
	void *st;

	(void)state;
	rng_state = 0xb0b;
	rand_allow_deny(rs, 100);
	st = compile(rs, 100);
	for (j = 0; j < 20; j++) {
		uint8_t dir = 1 + rnd(2);
		uint8_t want[XVS_EXT_BURST_MAX];

		for (i = 0; i < XVS_EXT_BURST_MAX; i++) {
			struct xvs_acl_pkt seen;
			int r;

			rand_pkt(&p[i]);
			burst_add(b, &p[i], 0);
			xvs_acl_pkt_from_frame(b->frame[i], b->len[i], &seen);
			r = xvs_acl_match_slow(rs, 100, &seen, dir);
			want[i] = r >= 0 && rs[r].action == XVS_ACL_DENY ? XVS_VERDICT_DROP
								      : XVS_VERDICT_PASS;
		}
		run(b, st, dir, 0, SEC);
		assert_memory_equal(b->verdict, want, XVS_EXT_BURST_MAX);
	}
	ops->state_free(ctx, st);
	burst_free(b);
}

static struct xvs_acl_pkt
udp_pkt(const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	struct xvs_acl_pkt p;

	memset(&p, 0, sizeof(p));
	memcpy(p.src_mac, "\x52\x54\0\0\0\x01", 6);
	memcpy(p.dst_mac, "\x52\x54\0\0\0\x02", 6);
	p.l3 = 4;
	p.proto = 17;
	p.has_ports = true;
	inet_pton(AF_INET, src, p.src);
	inet_pton(AF_INET, dst, p.dst);
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct xvs_acl_pkt
reply_of(struct xvs_acl_pkt p)
{
	struct xvs_acl_pkt r = p;

	memcpy(r.src, p.dst, 16);
	memcpy(r.dst, p.src, 16);
	memcpy(r.src_mac, p.dst_mac, 6);
	memcpy(r.dst_mac, p.src_mac, 6);
	r.sport = p.dport;
	r.dport = p.sport;
	return r;
}

/* Stateful allow-out: the reply comes in on another worker and passes; an
 * unsolicited inbound packet does not; idle past the timeout, neither does
 * the reply; the sweep then deletes the flow. */
static void
test_acl_dpdk_stateful_across_workers(void **state)
{
	static const char *const lines[] = {
		"dir=out action=allow proto=udp stateful=on timeout=2",
		"dir=in action=deny",
	};
	struct xvs_acl_pkt req = udp_pkt("10.0.0.1", "10.0.0.2", 4000, 53);
	struct xvs_acl_pkt rep = reply_of(req);
	struct burst *b = burst_new();
	uint64_t t = 100 * SEC;
	unsigned i;
	void *st;

	(void)state;
	xvs_dp.n_workers_max = 2;
	st = compile_str(lines, 2);
	/* Before the request: the reply is unsolicited. */
	burst_add(b, &rep, 0);
	run(b, st, XVS_ACL_IN, 1, t);
	assert_int_equal(b->verdict[0], XVS_VERDICT_DROP);
	assert_int_equal(b->reason[0], XVS_ACL_DROP_DENY);
	/* The request goes out on worker 0 and records the flow. */
	burst_add(b, &req, 0);
	run(b, st, XVS_ACL_OUT, 0, t);
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(b->ctr[XVS_ACL_CTR_FLOW_ADDED], 1);
	assert_int_equal(xvs_acl_stage_flows(st), 1);
	/* Its reply comes in on worker 1: allowed by the flow, refreshing it. */
	burst_add(b, &rep, 0);
	run(b, st, XVS_ACL_IN, 1, t + SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(b->ctr[XVS_ACL_CTR_FLOW_ALLOWED], 1);
	/* 2.5 s after the request but 1.5 s after the reply: still live. */
	burst_add(b, &rep, 0);
	run(b, st, XVS_ACL_IN, 1, t + SEC * 5 / 2);
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	/* Another remote port is another flow: denied. */
	{
		struct xvs_acl_pkt other = reply_of(req);

		other.sport = 54;
		burst_add(b, &other, 0);
		run(b, st, XVS_ACL_IN, 1, t + 3 * SEC);
		assert_int_equal(b->verdict[0], XVS_VERDICT_DROP);
	}
	/* Idle for more than 2 s: the reply is denied again. */
	burst_add(b, &rep, 0);
	run(b, st, XVS_ACL_IN, 0, t + 5 * SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_DROP);
	/* The owner's sweep deletes the idle flow; its slot is reclaimed after
	 * the grace period. */
	for (i = 0; i < 4; i++) {
		struct xvs_acl_pkt nonip = req;

		nonip.l3 = 0;
		burst_add(b, &nonip, 0);
		run(b, st, XVS_ACL_OUT, 0, t + 6 * SEC);
		rte_rcu_qsbr_quiescent(xvs_dp.qsbr, 0);
	}
	assert_int_equal(b->ctr[XVS_ACL_CTR_FLOW_EXPIRED], 1);
	/* The flow can be recorded again. */
	burst_add(b, &req, 0);
	run(b, st, XVS_ACL_OUT, 0, t + 7 * SEC);
	assert_int_equal(b->ctr[XVS_ACL_CTR_FLOW_ADDED], 2);
	ops->state_free(ctx, st);
	xvs_dp.n_workers_max = 1;
	burst_free(b);
}

/* Bursts made of runs of one packet (the stage answers a key equal to the one
 * before it without a lookup, and counts a run of one answer at once): every
 * verdict as the reference says, and the hit and action counters count
 * every packet. */
static void
test_acl_dpdk_runs_match_singles(void **state)
{
	static struct xvs_acl_rule rs[60];
	uint64_t want_hits[60] = {0}, got_hits[60];
	uint64_t want_allowed = 0, want_denied = 0, want_none = 0;
	uint32_t ids[60];
	struct burst *b = burst_new();
	unsigned i, j, k;
	void *st;

	(void)state;
	rng_state = 0x5eed;
	rand_allow_deny(rs, 60);
	st = compile(rs, 60);
	for (j = 0; j < 40; j++) {
		uint8_t dir = 1 + rnd(2);
		uint8_t want[XVS_EXT_BURST_MAX];

		for (i = 0; i < XVS_EXT_BURST_MAX;) {
			struct xvs_acl_pkt p, seen;
			unsigned run_len = 1 + rnd(8);
			int r;

			rand_pkt(&p);
			for (k = 0; k < run_len && i < XVS_EXT_BURST_MAX; k++, i++) {
				burst_add(b, &p, 0);
				xvs_acl_pkt_from_frame(b->frame[i], b->len[i], &seen);
				r = xvs_acl_match_slow(rs, 60, &seen, dir);
				want[i] = r >= 0 && rs[r].action == XVS_ACL_DENY ? XVS_VERDICT_DROP
									      : XVS_VERDICT_PASS;
				if (r >= 0)
					want_hits[r]++;
				want_none += r < 0;
				want_denied += r >= 0 && rs[r].action == XVS_ACL_DENY;
				want_allowed += r >= 0 && rs[r].action != XVS_ACL_DENY;
			}
		}
		run(b, st, dir, 0, SEC);
		assert_memory_equal(b->verdict, want, XVS_EXT_BURST_MAX);
	}
	assert_int_equal(xvs_acl_stage_hits(st, ids, got_hits, 60), 60);
	assert_memory_equal(got_hits, want_hits, sizeof(want_hits));
	assert_int_equal(b->ctr[XVS_ACL_CTR_ALLOWED], want_allowed);
	assert_int_equal(b->ctr[XVS_ACL_CTR_DENIED], want_denied);
	assert_int_equal(b->ctr[XVS_ACL_CTR_NO_MATCH], want_none);
	ops->state_free(ctx, st);
	burst_free(b);
}

/* n UDP frames at one instant through st in dir, alternately len_even and
 * len_odd bytes long; how many passed (the others must be meter drops). */
static unsigned
meter_run(struct burst *b, const void *st, uint8_t dir, unsigned n, uint32_t len_even,
	  uint32_t len_odd)
{
	struct xvs_acl_pkt p = udp_pkt("10.0.0.1", "10.0.0.2", 4000, 53);
	unsigned i, pass = 0;

	for (i = 0; i < n; i++) {
		burst_add(b, &p, i % 2 ? len_odd : len_even);
		run(b, st, dir, 0, SEC);
		if (b->verdict[0] == XVS_VERDICT_PASS)
			pass++;
		else
			assert_int_equal(b->reason[0], XVS_ACL_DROP_METER);
	}
	return pass;
}

/* A meter rule passes its committed burst and then drops: 8 Mbit/s is
 * 1 MB/s, whose burst is max(20 ms = 20000 B, 66048 B) = 66 frames of 1000
 * bytes when they come all at once. */
static void
test_acl_dpdk_meter(void **state)
{
	static const char *const lines[] = {"dir=out action=meter rate=8m proto=udp"};
	struct burst *b = burst_new();
	unsigned pass;
	void *st;

	(void)state;
	st = compile_str(lines, 1);
	pass = meter_run(b, st, XVS_ACL_OUT, 200, 1000, 1000);
	assert_in_range(pass, 65, 67);
	assert_int_equal(b->ctr[XVS_ACL_CTR_METER_PASS], pass);
	assert_int_equal(b->ctr[XVS_ACL_CTR_METER_DROP], 200 - pass);
	/* The other direction is not metered. */
	assert_int_equal(meter_run(b, st, XVS_ACL_IN, 1, 1000, 1000), 1);
	ops->state_free(ctx, st);
	burst_free(b);
}

/* A packet rate: 1000 pps has a burst of max(20 ms = 20, 32) packets,
 * whatever their size. */
static void
test_acl_dpdk_meter_pps(void **state)
{
	static const char *const lines[] = {"dir=in action=meter rate=1kpps"};
	struct burst *b = burst_new();
	void *st;

	(void)state;
	st = compile_str(lines, 1);
	assert_in_range(meter_run(b, st, XVS_ACL_IN, 100, 9000, 60), 32, 33);
	ops->state_free(ctx, st);
	burst_free(b);
}

/* The verdict cache in front of rte_acl: a repeated packet is a hit with
 * the same verdict and still counts its rule; the cache tells the
 * directions apart (a packet whose key is the same both ways); a new rule
 * set starts with an empty cache; a meter still sees every packet. */
static void
test_acl_dpdk_verdict_cache(void **state)
{
	static const char *const both[] = {"dir=out action=deny proto=udp",
					   "dir=in action=allow proto=udp"};
	static const char *const allow[] = {"dir=out action=allow proto=udp"};
	static const char *const meter[] = {"dir=out action=meter rate=1kpps"};
	struct xvs_acl_pkt p = udp_pkt("10.0.0.1", "10.0.0.1", 53, 53);
	struct burst *b = burst_new();
	uint64_t hits[2] = {0, 0};
	void *st;

	(void)state;
	memcpy(p.dst_mac, p.src_mac, 6); /* the same key in both directions */
	st = compile_str(both, 2);
	burst_add(b, &p, 0);
	run(b, st, XVS_ACL_OUT, 0, SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_DROP);
	assert_int_equal(hit_rule(st, hits, 2), 0);
	assert_int_equal(xvs_acl_stage_cache_hits(st), 0);
	burst_add(b, &p, 0);
	run(b, st, XVS_ACL_OUT, 0, SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_DROP);
	assert_int_equal(hit_rule(st, hits, 2), 0);
	assert_int_equal(xvs_acl_stage_cache_hits(st), 1);
	burst_add(b, &p, 0);
	run(b, st, XVS_ACL_IN, 0, SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(hit_rule(st, hits, 2), 1);
	ops->state_free(ctx, st);

	/* Rules changed: the new state's answer, not the cached deny. */
	st = compile_str(allow, 1);
	burst_add(b, &p, 0);
	run(b, st, XVS_ACL_OUT, 0, SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(xvs_acl_stage_cache_hits(st), 0);
	ops->state_free(ctx, st);

	/* 100 packets at one instant, 99 from the cache: the burst of 32 passes. */
	st = compile_str(meter, 1);
	assert_in_range(meter_run(b, st, XVS_ACL_OUT, 100, 60, 60), 32, 33);
	assert_int_equal(xvs_acl_stage_cache_hits(st), 99);
	ops->state_free(ctx, st);
	burst_free(b);
}

/* Hit counts survive a rule-set change for the rules that stay. */
static void
test_acl_dpdk_hits_carry_over(void **state)
{
	static const char *const lines[] = {"dir=out action=deny proto=udp",
					    "dir=out action=allow proto=tcp"};
	struct xvs_acl_pkt p = udp_pkt("10.0.0.1", "10.0.0.2", 4000, 53);
	struct burst *b = burst_new();
	uint32_t ids[2];
	uint64_t hits[2];
	void *st, *st2;

	(void)state;
	st = compile_str(lines, 2);
	burst_add(b, &p, 0);
	burst_add(b, &p, 0);
	run(b, st, XVS_ACL_OUT, 0, SEC);
	st2 = compile_str(lines, 1); /* rule 2 deleted */
	assert_int_equal(xvs_acl_stage_hits(st2, ids, hits, 2), 1);
	assert_int_equal(ids[0], 1);
	assert_int_equal(hits[0], 2);
	ops->state_free(ctx, st);
	ops->state_free(ctx, st2);
	burst_free(b);
}

static void
test_acl_dpdk_bad_settings(void **state)
{
	char err[256];
	struct xvs_ext_kv bad_id[] = {{"x1", "dir=in action=deny"}};
	struct xvs_ext_kv bad_rule[] = {{"1", "dir=in action=deny"},
					{"2", "dir=in action=deny remote-ip=10.0.0.1/8"}};
	struct xvs_ext_kv dup[] = {{"3", "dir=in action=deny"}, {"3", "dir=out action=deny"}};

	(void)state;
	assert_int_equal(ops->config_validate(ctx, 0, bad_id, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'x1' is not a rule id"));
	assert_int_equal(ops->config_validate(ctx, 0, bad_rule, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rule 2: acl: remote-ip '10.0.0.1/8' has host bits set"));
	assert_int_equal(ops->config_validate(ctx, 0, dup, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rule 3 given twice"));
	assert_int_equal(ops->config_validate(ctx, XVS_EXT_PORT_NONE, bad_rule, 1, err,
					      sizeof(err)),
			 -EINVAL);
	assert_int_equal(ops->config_validate(ctx, 0, NULL, 0, err, sizeof(err)), 0);
}

/* A burst of b through the flow cache as the pipeline runs it on a port's
 * ingress (flow_cache.h): mac_spoof with guard g (NULL: not on the port)
 * and the ACL state st, under snapshot generation gen. Returns whether the
 * cache took it (else nothing ran). by[] gets the dropping stage (0
 * mac_spoof, 1 the ACL). */
static bool
run_cached_same(struct xvs_fcache *fc, uint64_t gen, struct burst *b,
		const struct xvs_mac_guard *g, const void *st, uint8_t *by, uint64_t now_ns,
		const uint8_t *same)
{
	/* The MACs in the key only when an answer depends on them, as the
	 * pipeline plans it (pipeline_run.c fcache_plan). */
	struct xvs_fcache_plan plan = {.spoof = g != NULL ? 0 : -1, .acl = 1, .storm = false,
				       .macs = g != NULL || xvs_acl_stage_reads_macs(st),
				       .mask = xvs_acl_stage_fcache_mask(st)};
	struct xvs_ext_burst eb = ext_of(b, NULL, XVS_ACL_OUT, 0, now_ns);
	bool ok;
	int r;

	for (uint16_t i = 0; i < b->n; i++) {
		/* As the metadata fill does (fill_meta leaves l4_off 0
		 * without ports; the frames' IPv4 headers are 20 bytes). */
		if (b->meta[i]->l3 == 4 && !(b->meta[i]->flags & XVS_META_FRAGMENT))
			b->meta[i]->l4_off = (uint16_t)(b->meta[i]->l3_off + 20);
		xvs_meta_guard_mark(b->meta[i], b->data[i]);
	}
	memset(b->verdict, 0xee, sizeof(b->verdict));
	r = xvs_fcache_run(fc, gen, &plan, &eb, same, NULL, g, st, b->ctr, b->verdict, b->reason,
			   by);
	if (r == 0) /* every frame passes, nothing written */
		memset(b->verdict, XVS_VERDICT_PASS, sizeof(b->verdict));
	ok = r >= 0;
	b->n = 0;
	return ok;
}

static bool
run_cached_at(struct xvs_fcache *fc, uint64_t gen, struct burst *b, const struct xvs_mac_guard *g,
	      const void *st, uint8_t *by, uint64_t now_ns)
{
	return run_cached_same(fc, gen, b, g, st, by, now_ns, NULL);
}

static bool
run_cached(struct xvs_fcache *fc, uint64_t gen, struct burst *b, const struct xvs_mac_guard *g,
	   const void *st, uint8_t *by)
{
	return run_cached_at(fc, gen, b, g, st, by, SEC);
}

/* Whether a state's answers depend on the MACs (the flow cache keys on
 * them only then): a rule matching either MAC says so, others do not. */
static void
test_acl_dpdk_reads_macs(void **state)
{
	static const char *const local[] = {"dir=out action=deny proto=udp",
					    "dir=both action=allow local-mac=02:00:00:00:00:01"};
	static const char *const remote[] = {"dir=in action=deny remote-mac=02:00:00:00:00:02"};
	static const char *const none[] = {"dir=both action=deny remote-ip=10.0.0.0/8",
					   "dir=out action=allow proto=tcp local-port=80"};
	void *st;

	(void)state;
	st = compile_str(local, 2);
	assert_true(xvs_acl_stage_reads_macs(st));
	ops->state_free(ctx, st);
	st = compile_str(remote, 1);
	assert_true(xvs_acl_stage_reads_macs(st));
	ops->state_free(ctx, st);
	st = compile_str(none, 2);
	assert_false(xvs_acl_stage_reads_macs(st));
	ops->state_free(ctx, st);
	assert_false(xvs_acl_stage_reads_macs(NULL));
}

/* The bytes of mask m for class c as they lie in a frame: source and
 * destination address (4 each), source and destination port (2 each). */
static void
mask_bytes(const struct xvs_fcache_mask *m, unsigned c, uint8_t *src, uint8_t *dst, uint8_t *sp,
	   uint8_t *dp)
{
	uint8_t w2[8], w3[8];

	memcpy(w2, &m->c[c].addrs, 8);
	memcpy(w3, &m->c[c].ports, 8);
	memcpy(src, w2, 4);
	memcpy(dst, w2 + 4, 4);
	memcpy(sp, w3, 2);
	memcpy(dp, w3 + 2, 2);
}

/* field = its bits under mask m, random ones elsewhere */
static void
blend(uint8_t *field, const uint8_t *m, const uint8_t *rnd_bytes, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		field[i] = (uint8_t)((field[i] & m[i]) | (rnd_bytes[i] & ~m[i]));
}

/* What the flow cache's key keeps of an IPv4 frame on ingress (the ACL's
 * mask, flow_cache.h) is all its answer depends on: random rule sets, and
 * for random IPv4 packets others that differ from them only outside the
 * mask of their protocol, in addresses and ports; the reference matcher
 * gives both the same answer. And the mask does leave bits out. */
static void
test_acl_dpdk_fcache_mask_keeps_answer(void **state)
{
	static struct xvs_acl_rule rs[32];
	unsigned iter, changed = 0, left_out = 0;

	(void)state;
	rng_state = 0x3a5c0de5;
	for (iter = 0; iter < 300; iter++) {
		unsigned n = 1 + rnd(32), i;
		const struct xvs_fcache_mask *m;
		void *st;

		for (i = 0; i < n; i++) {
			rand_rule(&rs[i]);
			/* ranges to the top, one of them the whole range
			 * (which reads nothing but that there are ports) */
			if (rs[i].has_local_port && rnd(3) == 0)
				rs[i].local_port_lo = (uint16_t)(rnd(2) ? 0 : 1 + rnd(3)),
				rs[i].local_port_hi = 0xffff;
			if (rs[i].has_remote_port && rnd(3) == 0)
				rs[i].remote_port_lo = (uint16_t)(rnd(2) ? 0 : 1 + rnd(3)),
				rs[i].remote_port_hi = 0xffff;
		}
		st = compile(rs, n);
		m = xvs_acl_stage_fcache_mask(st);
		for (i = 0; i < 200; i++) {
			struct xvs_acl_pkt p, q;
			uint8_t ms[4], md[4], msp[2], mdp[2], r[4];
			uint16_t port;
			int a, b;

			rand_pkt(&p);
			if (p.l3 != 4) {
				p.l3 = 4;
				rand_addr(4, p.src);
				rand_addr(4, p.dst);
			}
			if (p.has_ports && rnd(2)) /* ports at the bottom of a range too */
				p.sport = (uint16_t)rnd(4);
			if (p.has_ports && rnd(2))
				p.dport = (uint16_t)rnd(4);
			mask_bytes(m, xvs_fcache_class(p.proto), ms, md, msp, mdp);
			left_out += ms[3] != 0xff || md[3] != 0xff || msp[1] != 0xff ||
				    mdp[1] != 0xff;
			for (unsigned t = 0; t < 4; t++) {
				q = p;
				/* a pool address half the time: rules are made of those */
				if (rnd(2))
					memcpy(r, pool4[rnd(4)], 4);
				else
					for (unsigned j = 0; j < 4; j++)
						r[j] = (uint8_t)rnd(256);
				blend(q.src, ms, r, 4);
				memcpy(r, pool4[rnd(4)], 4);
				r[3] = (uint8_t)rnd(256);
				blend(q.dst, md, r, 4);
				if (p.has_ports) {
					uint8_t pb[2], rb[2];

					port = (uint16_t)(rnd(2) ? rnd(4) : rnd(160));
					pb[0] = (uint8_t)(p.sport >> 8), pb[1] = (uint8_t)p.sport;
					rb[0] = (uint8_t)(port >> 8), rb[1] = (uint8_t)port;
					blend(pb, msp, rb, 2);
					q.sport = (uint16_t)(pb[0] << 8 | pb[1]);
					port = (uint16_t)(rnd(2) ? rnd(4) : rnd(160));
					pb[0] = (uint8_t)(p.dport >> 8), pb[1] = (uint8_t)p.dport;
					rb[0] = (uint8_t)(port >> 8), rb[1] = (uint8_t)port;
					blend(pb, mdp, rb, 2);
					q.dport = (uint16_t)(pb[0] << 8 | pb[1]);
				}
				changed += memcmp(&p, &q, sizeof(p)) != 0;
				a = xvs_acl_match_slow(rs, n, &p, XVS_ACL_OUT);
				b = xvs_acl_match_slow(rs, n, &q, XVS_ACL_OUT);
				if (a != b)
					fail_msg("iter %u: rule %d for one packet, %d for one equal "
						 "to it under the mask", iter, a, b);
			}
		}
		ops->state_free(ctx, st);
	}
	print_message("# %u packets changed outside the mask, %u masks leaving bits out\n",
		      changed, left_out);
	assert_true(changed > 100000 && left_out > 20000);
}

/* The benchmark's rule shapes (bench/datapath_xvs.py acl_rules): a UDP
 * frame's key keeps the destination's /24 and port, not the source's
 * address or port; a TCP frame's the source's /24 and port. */
static void
test_acl_dpdk_fcache_mask_of_rules(void **state)
{
	static const char *const lines[] = {
		"dir=out action=deny remote-ip=172.16.0.0/24 proto=udp remote-port=1000-1100",
		"dir=both action=deny local-ip=192.168.1.0/24 proto=tcp local-port=2001",
		"dir=in action=deny remote-ip=10.102.0.0/16",
		"dir=both action=allow proto=udp",
	};
	static const uint8_t none[4], p24[4] = {0xff, 0xff, 0xff, 0}, all[2] = {0xff, 0xff};
	uint8_t ms[4], md[4], msp[2], mdp[2];
	const struct xvs_fcache_mask *m;
	void *st;

	(void)state;
	st = compile_str(lines, 4);
	m = xvs_acl_stage_fcache_mask(st);
	mask_bytes(m, XVS_FCACHE_UDP, ms, md, msp, mdp);
	assert_memory_equal(ms, none, 4);
	assert_memory_equal(md, p24, 4);
	assert_memory_equal(msp, none, 2);
	assert_memory_equal(mdp, all, 2);
	mask_bytes(m, XVS_FCACHE_TCP, ms, md, msp, mdp);
	assert_memory_equal(ms, p24, 4);
	assert_memory_equal(md, none, 4);
	assert_memory_equal(msp, all, 2);
	assert_memory_equal(mdp, none, 2);
	mask_bytes(m, XVS_FCACHE_OTHER, ms, md, msp, mdp);
	assert_memory_equal(ms, none, 4);
	assert_memory_equal(md, none, 4);
	ops->state_free(ctx, st);
	assert_ptr_equal(xvs_acl_stage_fcache_mask(NULL), &xvs_fcache_mask_l2);
}

/* The flow cache gives the stages' answers: random rule sets (replaced,
 * with a new snapshot generation, between random bursts) and mac_spoof
 * allowing one of the two sources the frames use, against the reference
 * matcher; every packet is counted on its rule, from the cache or not.
 * Half the rule sets match no MAC, and half go without mac_spoof: with
 * neither, the keys leave the MACs out (flow_cache.h plan macs), so frames
 * of one flow from two sources share an entry. */
static void
test_acl_dpdk_flow_cache_against_reference(void **state)
{
	static struct xvs_acl_rule rs[64];
	static struct xvs_acl_pkt pool_p[48];
	struct xvs_fcache *fc = xvs_fcache_create(SOCKET_ID_ANY);
	struct burst *b = burst_new();
	struct xvs_fcache_stats fs;
	struct xvs_mac_guard g;
	struct xvs_err e;
	uint64_t gen = 7;
	unsigned iter, taken = 0, n = 0, last = 0;
	bool spoof_on = true, mac_rules;
	void *st = NULL;

	(void)state;
	assert_non_null(fc);
	rng_state = 0x5eed1e55;
	for (iter = 0; iter < 3000; iter++) {
		struct xvs_acl_pkt seen[XVS_EXT_BURST_MAX];
		uint64_t before[64], after[64], want_hits[64] = {0};
		uint32_t ids[64];
		uint8_t by[XVS_EXT_BURST_MAX];
		bool spoofed[XVS_EXT_BURST_MAX], any_ip = rnd(4) != 0, tagged, prev_tagged = false;
		uint8_t same[XVS_EXT_BURST_MAX];
		unsigned prev = ~0u;
		unsigned k = 1 + rnd(XVS_EXT_BURST_MAX), i;

		if (st == NULL || rnd(8) == 0) {
			/* New rules (and frames): a new state, a new generation. */
			if (st != NULL)
				ops->state_free(ctx, st);
			n = 1 + rnd(64);
			spoof_on = rnd(2) == 0;
			mac_rules = rnd(2) == 0;
			for (i = 0; i < n; i++) {
				rand_rule(&rs[i]);
				if (!mac_rules)
					rs[i].has_local_mac = rs[i].has_remote_mac = false;
				rs[i].stateful = false;
				rs[i].timeout_s = 0;
				if (rs[i].action == XVS_ACL_METER)
					rs[i].rate_bps = 1000000000000ull, rs[i].rate_pps = 0;
			}
			st = compile(rs, n);
			for (i = 0; i < RTE_DIM(pool_p); i++) {
				rand_pkt(&pool_p[i]);
				if (i != 0) {
					/* mostly IPv4, which the cache takes */
					if (pool_p[i].l3 != 4) {
						rand_addr(4, pool_p[i].src);
						rand_addr(4, pool_p[i].dst);
					}
					pool_p[i].l3 = 4;
					if (pool_p[i].proto == 58 || pool_p[i].proto == 1)
						pool_p[i].proto = 6; /* the guards' business */
					if ((pool_p[i].proto == 6 || pool_p[i].proto == 17) &&
					    !pool_p[i].has_ports)
						pool_p[i].has_ports = true; /* not a fragment */
				}
			}
			assert_int_equal(xvs_mac_guard_set(&g, "t", false,
							   &macs[0], 1, 0, &e),
					 0);
			gen++;
		}
		xvs_acl_stage_hits(st, ids, before, 64);
		for (i = 0; i < k; i++) {
			const struct xvs_acl_pkt *p;
			int want;

			/* Runs of one flow, as in real bursts, and some mixing;
			 * pool_p[0] is the one that may be anything. */
			if (i == 0 || rnd(2) == 0)
				last = any_ip ? 1 + rnd(47) : rnd(48);
			p = &pool_p[last];
			tagged = rnd(3) == 0;
			burst_add_tagged(b, p, 0, tagged);
			/* A repeat of the frame before: one run, as the L2
			 * stage marks it (same[], half of them; the rest the
			 * cache finds by their keys). */
			same[i] = i > 0 && last == prev && tagged == prev_tagged && rnd(2) == 0;
			prev = last;
			prev_tagged = tagged;
			assert_int_equal(xvs_acl_pkt_from_frame(b->frame[i], b->len[i], &seen[i]),
					 0);
			spoofed[i] = spoof_on && memcmp(seen[i].src_mac, macs[0], 6) != 0;
			want = xvs_acl_match_slow(rs, n, &seen[i], XVS_ACL_OUT);
			if (!spoofed[i] && want >= 0)
				want_hits[want]++;
			/* the drop the stages would give: mac_spoof first */
			by[i] = spoofed[i] ? 0 : want >= 0 && rs[want].action == XVS_ACL_DENY ? 1 : 2;
		}
		{
			uint8_t want_by[XVS_EXT_BURST_MAX];

			memcpy(want_by, by, sizeof(want_by));
			if (!run_cached_same(fc, gen, b, spoof_on ? &g : NULL, st, by, SEC, same))
				continue; /* a frame the cache does not take: the stages' job */
			taken++;
			for (i = 0; i < k; i++) {
				if (want_by[i] == 2) {
					assert_int_equal(b->verdict[i], XVS_VERDICT_PASS);
					continue;
				}
				if (b->verdict[i] != XVS_VERDICT_DROP || by[i] != want_by[i])
					fail_msg("iter %u frame %u: verdict %u by %u, want drop by %u",
						 iter, i, b->verdict[i], by[i], want_by[i]);
				assert_int_equal(b->reason[i], 0); /* spoofed / deny */
			}
		}
		xvs_acl_stage_hits(st, ids, after, 64);
		for (i = 0; i < n; i++)
			if (after[i] - before[i] != want_hits[i])
				fail_msg("iter %u rule %u: %lu hits, want %lu", iter, i,
					 (unsigned long)(after[i] - before[i]),
					 (unsigned long)want_hits[i]);
	}
	xvs_fcache_stats(fc, &fs);
	/* The cache answered most packets of the bursts it took. */
	if (taken < 1000)
		fail_msg("the cache took %u bursts of 3000", taken);
	assert_true(fs.hits > fs.misses);
	ops->state_free(ctx, st);
	xvs_fcache_free(fc);
	burst_free(b);
}

/* A rule change invalidates: the cached deny of a flow is not used under
 * the next snapshot generation, which the new rules come with. */
static void
test_acl_dpdk_flow_cache_invalidates(void **state)
{
	static const char *const deny[] = {"dir=out action=deny proto=udp"};
	static const char *const allow[] = {"dir=out action=allow proto=udp"};
	struct xvs_acl_pkt p = udp_pkt("10.0.0.1", "10.0.0.2", 4000, 53);
	struct xvs_fcache *fc = xvs_fcache_create(SOCKET_ID_ANY);
	struct burst *b = burst_new();
	struct xvs_fcache_stats fs;
	uint64_t hits[1] = {0};
	uint8_t by[XVS_EXT_BURST_MAX];
	void *st;

	(void)state;
	assert_non_null(fc);
	st = compile_str(deny, 1);
	for (int round = 0; round < 2; round++) {
		burst_add(b, &p, 0);
		assert_true(run_cached(fc, 1, b, NULL, st, by));
		assert_int_equal(b->verdict[0], XVS_VERDICT_DROP);
		assert_int_equal(hit_rule(st, hits, 1), 0);
	}
	xvs_fcache_stats(fc, &fs);
	assert_int_equal(fs.hits, 1); /* the second from the cache */
	ops->state_free(ctx, st);
	st = compile_str(allow, 1);
	hits[0] = 0;
	burst_add(b, &p, 0);
	assert_true(run_cached(fc, 2, b, NULL, st, by));
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(hit_rule(st, hits, 1), 0);
	xvs_fcache_stats(fc, &fs);
	assert_int_equal(fs.hits, 1);
	ops->state_free(ctx, st);
	xvs_fcache_free(fc);
	burst_free(b);
}

/* The reader the seam runs: the reply on worker 1 at seam_now. */
static struct burst *seam_b;
static const void *seam_st;
static struct xvs_acl_pkt seam_rep;
static uint64_t seam_now;
static int seam_verdict = -1;

static void
seam_reader(void)
{
	burst_add(seam_b, &seam_rep, 0);
	run(seam_b, seam_st, XVS_ACL_IN, 1, seam_now);
	seam_verdict = seam_b->verdict[0];
}

/* A stateful flow is live only with its timeout: a reader on another
 * worker at the moment the flow becomes visible with its time (the seam in
 * flow_add) sees it live, 5 s later, under a 30 s timeout. The request goes
 * through the flow cache, whose hits refresh the flow too. */
static void
test_acl_dpdk_stateful_publication_order(void **state)
{
	static const char *const lines[] = {
		"dir=out action=allow proto=udp stateful=on timeout=30",
		"dir=in action=deny",
	};
	struct xvs_acl_pkt req = udp_pkt("10.0.0.1", "10.0.0.2", 4000, 53);
	struct xvs_fcache *fc = xvs_fcache_create(SOCKET_ID_ANY);
	struct burst *b = burst_new();
	struct xvs_fcache_stats fs;
	uint8_t by[XVS_EXT_BURST_MAX];
	uint64_t t = 100 * SEC;
	void *st;

	(void)state;
	assert_non_null(fc);
	xvs_dp.n_workers_max = 2;
	st = compile_str(lines, 2);
	seam_b = burst_new();
	seam_st = st;
	seam_rep = reply_of(req);
	seam_now = t + 5 * SEC;
	xvs_acl_test_flow_seam = seam_reader;
	burst_add(b, &req, 0);
	assert_true(run_cached_at(fc, 1, b, NULL, st, by, t));
	xvs_acl_test_flow_seam = NULL;
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(b->ctr[XVS_ACL_CTR_FLOW_ADDED], 1);
	assert_int_equal(seam_verdict, XVS_VERDICT_PASS);
	assert_int_equal(seam_b->ctr[XVS_ACL_CTR_FLOW_ALLOWED], 1);
	/* Requests 20 s on, the second from the cache, refresh the flow. */
	burst_add(b, &req, 0);
	burst_add(b, &req, 0);
	assert_true(run_cached_at(fc, 1, b, NULL, st, by, t + 20 * SEC));
	xvs_fcache_stats(fc, &fs);
	assert_true(fs.hits >= 1);
	assert_int_equal(b->ctr[XVS_ACL_CTR_FLOW_ALLOWED], 2);
	/* 40 s after the flow was recorded, 20 s after the refresh: live. */
	burst_add(b, &seam_rep, 0);
	run(b, st, XVS_ACL_IN, 1, t + 40 * SEC);
	assert_int_equal(b->verdict[0], XVS_VERDICT_PASS);
	ops->state_free(ctx, st);
	xvs_fcache_free(fc);
	burst_free(seam_b);
	burst_free(b);
	xvs_dp.n_workers_max = 1;
}

static int
setup(void **state)
{
	char *eal[] = {"test_acl_dpdk", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
		       "-l", "0", "--log-level", "error", "--no-telemetry", NULL};
	size_t sz;

	(void)state;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("acl", 256, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	sz = rte_rcu_qsbr_get_memsize(1);
	xvs_dp.qsbr = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	if (pool == NULL || xvs_dp.qsbr == NULL || rte_rcu_qsbr_init(xvs_dp.qsbr, 1) != 0)
		return -1;
	rte_rcu_qsbr_thread_register(xvs_dp.qsbr, 0);
	rte_rcu_qsbr_thread_online(xvs_dp.qsbr, 0);
	xvs_dp.n_workers_max = 1;
	ops = xvs_acl_stage_desc.ops;
	return ops->init(NULL, &ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_dpdk_random_against_reference),
		cmocka_unit_test(test_acl_dpdk_reads_macs),
		cmocka_unit_test(test_acl_dpdk_fcache_mask_keeps_answer),
		cmocka_unit_test(test_acl_dpdk_fcache_mask_of_rules),
		cmocka_unit_test(test_acl_dpdk_burst_matches_singles),
		cmocka_unit_test(test_acl_dpdk_runs_match_singles),
		cmocka_unit_test(test_acl_dpdk_stateful_across_workers),
		cmocka_unit_test(test_acl_dpdk_meter),
		cmocka_unit_test(test_acl_dpdk_meter_pps),
		cmocka_unit_test(test_acl_dpdk_hits_carry_over),
		cmocka_unit_test(test_acl_dpdk_verdict_cache),
		cmocka_unit_test(test_acl_dpdk_bad_settings),
		cmocka_unit_test(test_acl_dpdk_flow_cache_against_reference),
		cmocka_unit_test(test_acl_dpdk_flow_cache_invalidates),
		cmocka_unit_test(test_acl_dpdk_stateful_publication_order),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

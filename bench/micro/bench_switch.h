/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process switch of the micro benchmarks' switch-path rows: two
 * active trunk ports (all VLANs, native 1, MTU 1500) whose tx frees the
 * frames, both flooded to, published as the snapshot, and the one-flow
 * frame they send: micro_l2.c, micro_stages.c and micro_qos.c.
 */
#ifndef XVS_BENCH_SWITCH_H
#define XVS_BENCH_SWITCH_H

#include <string.h>

#include <rte_mbuf.h>

#include "dp.h"
#include "port_ops.h"

/* 02:02:00:00:00:01 -> 02:00:00:00:00:02, UDP 10.0.0.1:1234 -> 10.0.0.2:5678. */
static const uint8_t bench_frame[60] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,          /* Ethernet */
	0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
	0x04, 0xd2, 0x16, 0x2e, 0, 26, 0, 0,                                  /* UDP */
};

static inline uint16_t
bench_sink_tx(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	(void)priv, (void)q;
	for (uint16_t i = 0; i < n; i++)
		*bytes += rte_pktmbuf_pkt_len(pkts[i]);
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

/* A frame of pool holding the len bytes at f, or NULL (pool dry). */
static inline struct rte_mbuf *
bench_mbuf_of(struct rte_mempool *pool, const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m != NULL)
		memcpy(rte_pktmbuf_append(m, len), f, len);
	return m;
}

static inline void
bench_two_ports(struct xvs_snapshot *s)
{
	static const struct xvs_port_ops sink = {.tx_burst = bench_sink_tx};

	for (int p = 0; p <= 1; p++) {
		s->port[p].active = true;
		s->port[p].ops = &sink;
		s->port[p].n_txq = 1;
		s->port[p].tx_meta_offload = true;
		s->port[p].max_frame = 1514;
		s->port[p].vlan.mode = XVS_VLAN_TRUNK;
		s->port[p].vlan.native_vid = 1;
		memset(s->port[p].vlan.allowed, 0xff, sizeof(s->port[p].vlan.allowed));
	}
	s->port[0].n_rx_workers = 1;
	s->n_flood = 2;
	s->flood[0] = 0;
	s->flood[1] = 1;
	atomic_store(&xvs_dp.snap, s);
}

#endif /* XVS_BENCH_SWITCH_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the micro benchmarks (bench_acl.c, ../micro_stages.c) run: the
 * frames of bench/'s 10k-flow pcap, built in memory (as bench/anchors
 * gen_pcaps.py: UDP 64 B 10.0.x.y:1024+i -> 10.200.0.d:9, 256 sources, 256
 * destinations, a third untagged and the rest in VLAN 10 or 20), and the
 * ACL rules of bench/datapath_xvs.py acl_rules().
 */
#ifndef XVS_BENCH_SET_H
#define XVS_BENCH_SET_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

/* Write frame i into f (64 bytes); returns its length (60, no FCS). */
static inline unsigned
bench_flow_frame(unsigned i, uint8_t *f)
{
	unsigned s = i % 256, d = (i * 7 + i / 256) % 256, vlan = (unsigned[]){0, 10, 20}[d % 3];
	unsigned off = 12, sport = 1024 + i % 50000;
	uint8_t *ip;

	memset(f, 0, 64);
	memcpy(f, (uint8_t[]){0x02, 0x20, 0, 0, 0, (uint8_t)d, 0x02, 0x10, 0, 0, 0, (uint8_t)s}, 12);
	if (vlan) {
		f[12] = 0x81, f[13] = 0, f[14] = 0, f[15] = (uint8_t)vlan;
		off = 16;
	}
	f[off] = 0x08, f[off + 1] = 0;
	ip = f + off + 2;
	ip[0] = 0x45, ip[3] = 28, ip[8] = 64, ip[9] = 17;
	ip[12] = 10, ip[13] = 0, ip[14] = (uint8_t)(i >> 8), ip[15] = (uint8_t)i;
	ip[16] = 10, ip[17] = 200, ip[18] = 0, ip[19] = (uint8_t)d;
	ip[20] = (uint8_t)(sport >> 8), ip[21] = (uint8_t)sport, ip[23] = 9, ip[25] = 8;
	return 60;
}

/* Rule i of n of the benchmark's ACL: n - 1 that never match the traffic
 * (other prefixes, TCP, other ports, both directions), then one allow that
 * matches all of it: acl_rules() of bench/datapath_xvs.py, the same text. */
static inline void
bench_acl_rule(unsigned i, unsigned n, char *buf, size_t len)
{
	if (i == n - 1)
		snprintf(buf, len, "dir=both action=allow proto=udp");
	else if (i % 3 == 0)
		snprintf(buf, len, "dir=out action=deny remote-ip=172.16.%u.0/24 proto=udp "
			 "remote-port=%u-%u weight=%u", i, 1000 + i, 1100 + i, i % 7);
	else if (i % 3 == 1)
		snprintf(buf, len, "dir=both action=deny local-ip=192.168.%u.0/24 proto=tcp "
			 "local-port=%u weight=%u", i, 2000 + i, i % 5);
	else
		snprintf(buf, len, "dir=in action=deny remote-ip=10.%u.0.0/16 weight=%u", 100 + i,
			 i % 3);
}

/* A burst as a port that copies frames (pcap) hands it over: n fresh mbufs
 * from pool in pkts[], holding copies of the templates tpl[0..n). */
static inline void
bench_copy_burst(struct rte_mempool *pool, struct rte_mbuf *const *tpl, struct rte_mbuf **pkts,
		 unsigned n)
{
	if (rte_pktmbuf_alloc_bulk(pool, pkts, n) != 0) {
		fprintf(stderr, "mbuf pool dry\n");
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		uint16_t len = rte_pktmbuf_data_len(tpl[i]);

		memcpy(rte_pktmbuf_append(pkts[i], len), rte_pktmbuf_mtod(tpl[i], const void *),
		       len);
	}
}

#endif /* XVS_BENCH_SET_H */

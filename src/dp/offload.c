/* SPDX-License-Identifier: BSD-3-Clause */
/* Software offload resolution at egress (datapath); see offload.h. */
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "offload.h"

struct rte_mbuf *
xvs_offload_linearize(struct rte_mbuf *m)
{
	if (m->nb_segs == 1)
		return m;
	if (rte_pktmbuf_linearize(m) == 0)
		return m;
	/* Not enough tailroom in the first segment: copy into a fresh mbuf. */
	struct rte_mbuf *c = rte_pktmbuf_alloc(m->pool);

	if (c == NULL || m->pkt_len > rte_pktmbuf_tailroom(c)) {
		rte_pktmbuf_free(c);
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_pktmbuf_read(m, 0, m->pkt_len, rte_pktmbuf_mtod(c, void *));
	c->data_len = (uint16_t)m->pkt_len;
	c->pkt_len = m->pkt_len;
	c->ol_flags = m->ol_flags;
	c->tx_offload = m->tx_offload;
	rte_pktmbuf_free(m);
	return c;
}

/* Fill in the checksums m's flags ask for, over a single-segment frame. */
static bool
checksum(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint32_t off = (uint32_t)m->l2_len + m->l3_len;

	if (off + 8 > m->data_len)
		return false;
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + m->l2_len);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
			struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + off);

			th->cksum = 0;
			th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		} else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
			struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(p + off);

			uh->dgram_cksum = 0;
			uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
		}
	} else if (m->ol_flags & RTE_MBUF_F_TX_IPV6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + m->l2_len);

		if (l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
			struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + off);

			th->cksum = 0;
			th->cksum = rte_ipv6_udptcp_cksum(ip, th);
		} else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
			struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(p + off);

			uh->dgram_cksum = 0;
			uh->dgram_cksum = rte_ipv6_udptcp_cksum(ip, uh);
		}
	} else {
		return false;
	}
	m->ol_flags &= ~(XVS_OL_REQUESTS | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
	return true;
}

uint16_t
xvs_offload_resolve(struct rte_mbuf *m, struct rte_gso_ctx *gso, struct rte_mbuf **out,
		    uint16_t max)
{
	uint16_t n = 1;

	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		uint32_t seg = (uint32_t)m->l2_len + m->l3_len + m->l4_len + m->tso_segsz;
		int r;

		if (seg > UINT16_MAX || seg < RTE_GSO_SEG_SIZE_MIN)
			goto fail;
		gso->gso_size = (uint16_t)seg;
		/* GSO wants the checksum request flag of the segments it makes. */
		m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_TX_L4_MASK) | RTE_MBUF_F_TX_TCP_CKSUM;
		r = rte_gso_segment(m, gso, out, max);
		if (r < 0)
			goto fail;
		if (r == 0) {
			/* Already small enough: just checksum it. */
			m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
			out[0] = m;
		} else {
			n = (uint16_t)r;
			rte_pktmbuf_free(m); /* segments hold their own references */
		}
	} else {
		out[0] = m;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *s = xvs_offload_linearize(out[i]);

		if (s == NULL || !checksum(s)) {
			/* Drop the whole frame: a TCP segment missing would stall the flow. */
			if (s != NULL)
				rte_pktmbuf_free(s);
			for (uint16_t j = i + 1; j < n; j++)
				rte_pktmbuf_free(out[j]);
			for (uint16_t j = 0; j < i; j++)
				rte_pktmbuf_free(out[j]);
			return 0;
		}
		out[i] = s;
	}
	return n;
fail:
	rte_pktmbuf_free(m);
	return 0;
}

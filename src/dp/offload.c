/* SPDX-License-Identifier: BSD-3-Clause */
/* Offload requests: check at a tap, software resolution at egress (datapath);
 * see offload.h. */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "offload.h"

#define TCP_F_FIN 0x01
#define TCP_F_PSH 0x08
#define TCP_F_CWR 0x80

static inline uint16_t
be16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

enum xvs_drop
xvs_offload_from_vnet(const struct virtio_net_hdr *vh, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t gso = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	uint32_t l2 = RTE_ETHER_HDR_LEN, l3;
	uint16_t etype;

	/* DATA_VALID alone (the kernel vouches for the checksum) asks nothing. */
	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && gso == VIRTIO_NET_HDR_GSO_NONE)
		return XVS_OFFLOAD_OK;
	/* Segmentation needs a checksum to fill in per segment. */
	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return XVS_DROP_bad_offload;
	if (m->data_len < RTE_ETHER_HDR_LEN + 4)
		return XVS_DROP_bad_offload;
	etype = be16_at(p + 12);
	if (etype == RTE_ETHER_TYPE_VLAN) {
		l2 += 4;
		etype = be16_at(p + 16);
	}
	if (etype == RTE_ETHER_TYPE_IPV4)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	else if (etype == RTE_ETHER_TYPE_IPV6)
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;
	else
		return XVS_DROP_bad_offload;
	/* csum_start is 16 bits, l3_len 9: range-check before storing. */
	if (vh->csum_start < l2 + sizeof(struct rte_ipv4_hdr) || vh->csum_start - l2 > 60)
		return XVS_DROP_bad_offload;
	l3 = vh->csum_start - l2;
	m->l2_len = l2;
	m->l3_len = l3;
	if (vh->csum_offset == offsetof(struct rte_tcp_hdr, cksum))
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	else if (vh->csum_offset == offsetof(struct rte_udp_hdr, dgram_cksum))
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	else
		return XVS_DROP_bad_offload;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6: {
		uint32_t l4 = l2 + l3;

		if ((gso == VIRTIO_NET_HDR_GSO_TCPV4) != (etype == RTE_ETHER_TYPE_IPV4) ||
		    !(m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM))
			return XVS_DROP_bad_offload;
		if (l4 + sizeof(struct rte_tcp_hdr) > m->data_len)
			return XVS_DROP_bad_l3_len;
		m->l4_len = (p[l4 + 12] >> 4) * 4;
		m->tso_segsz = vh->gso_size;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		break;
	}
	default:
		return XVS_DROP_bad_offload; /* UDP fragmentation offload: not negotiated */
	}
	return xvs_offload_check(m);
}

enum xvs_drop
xvs_offload_check(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t fl = m->ol_flags, l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	bool v4 = (fl & RTE_MBUF_F_TX_IPV4) != 0;
	uint32_t l2 = m->l2_len, l3 = m->l3_len, ip_end, l4_off = l2 + l3;
	uint8_t proto;

	if (!(fl & XVS_OL_REQUESTS))
		return XVS_OFFLOAD_OK;
	if (v4 == ((fl & RTE_MBUF_F_TX_IPV6) != 0) || ((fl & RTE_MBUF_F_TX_IP_CKSUM) && !v4))
		return XVS_DROP_bad_offload;
	if (l4 != 0 && l4 != RTE_MBUF_F_TX_TCP_CKSUM && l4 != RTE_MBUF_F_TX_UDP_CKSUM)
		return XVS_DROP_bad_offload;
	if ((fl & RTE_MBUF_F_TX_TCP_SEG) && l4 != RTE_MBUF_F_TX_TCP_CKSUM)
		return XVS_DROP_bad_offload;
	/* Headers are read in place: they must be in the first segment. */
	if (l2 < RTE_ETHER_HDR_LEN || l4_off > m->data_len || m->data_len > m->pkt_len ||
	    be16_at(p + l2 - 2) != (v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6))
		return XVS_DROP_bad_offload;
	if (v4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + l2);
		uint32_t ihl, tot;

		/* l3 >= 20 first: only then is the header inside the segment. */
		if (l3 < sizeof(*ip))
			return XVS_DROP_bad_offload;
		ihl = (ip->version_ihl & 0xf) * 4u;
		if ((ip->version_ihl >> 4) != 4)
			return XVS_DROP_bad_offload;
		if (ihl != l3)
			return ihl < sizeof(*ip) ? XVS_DROP_bad_l3_len : XVS_DROP_bad_offload;
		tot = rte_be_to_cpu_16(ip->total_length);
		if (tot < ihl || l2 + tot > m->pkt_len)
			return XVS_DROP_bad_l3_len;
		ip_end = l2 + tot;
		proto = ip->next_proto_id;
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(p + l2);

		if (l3 != sizeof(*ip) || (p[l2] >> 4) != 6)
			return XVS_DROP_bad_offload;
		ip_end = l4_off + rte_be_to_cpu_16(ip->payload_len);
		if (ip_end > m->pkt_len)
			return XVS_DROP_bad_l3_len;
		proto = ip->proto;
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
		uint32_t doff;

		if (proto != IPPROTO_TCP)
			return XVS_DROP_bad_offload;
		if (l4_off + sizeof(struct rte_tcp_hdr) > ip_end)
			return XVS_DROP_bad_l3_len;
		if (l4_off + sizeof(struct rte_tcp_hdr) > m->data_len)
			return XVS_DROP_bad_offload;
		doff = (p[l4_off + 12] >> 4) * 4u;
		if (doff < sizeof(struct rte_tcp_hdr) || l4_off + doff > ip_end)
			return XVS_DROP_bad_l3_len;
		if (fl & RTE_MBUF_F_TX_TCP_SEG) {
			if (m->l4_len != doff || l4_off + doff > m->data_len ||
			    m->tso_segsz < XVS_TSO_MSS_MIN)
				return XVS_DROP_bad_offload;
		}
	} else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
		if (proto != IPPROTO_UDP)
			return XVS_DROP_bad_offload;
		if (l4_off + sizeof(struct rte_udp_hdr) > ip_end)
			return XVS_DROP_bad_l3_len;
		if (l4_off + sizeof(struct rte_udp_hdr) > m->data_len)
			return XVS_DROP_bad_offload;
	}
	return XVS_OFFLOAD_OK;
}

struct rte_mbuf *
xvs_offload_linearize(struct rte_mbuf *m, struct rte_mempool *big)
{
	if (m->nb_segs == 1)
		return m;
	if (rte_pktmbuf_linearize(m) == 0)
		return m;
	/* Not enough tailroom in the first segment: copy into a fresh mbuf,
	 * one of big when the frame is longer than an mbuf of m's pool holds
	 * (a jumbo frame read as a chain of 2 KB mbufs). */
	bool fits = m->pkt_len + RTE_PKTMBUF_HEADROOM <= rte_pktmbuf_data_room_size(m->pool);
	struct rte_mbuf *c = rte_pktmbuf_alloc(fits || big == NULL ? m->pool : big);

	if (c == NULL || m->pkt_len > rte_pktmbuf_tailroom(c)) {
		rte_pktmbuf_free(c);
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_pktmbuf_read(m, 0, m->pkt_len, rte_pktmbuf_mtod(c, void *));
	c->data_len = (uint16_t)m->pkt_len;
	c->pkt_len = m->pkt_len;
	/* Only the requests: m's own flags (an external buffer) are not c's. */
	c->ol_flags = m->ol_flags & (XVS_OL_REQUESTS | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
	c->tx_offload = m->tx_offload;
	rte_pktmbuf_free(m);
	return c;
}

/* Fill in the checksums m's flags ask for, over a single-segment frame that
 * passed xvs_offload_check(): the IP length fields the DPDK helpers use are
 * within the frame. */
static void
checksum(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint8_t *l4h = p + m->l2_len + m->l3_len, *ck = NULL;
	uint16_t sum = 0;

	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM)
		ck = l4h + offsetof(struct rte_tcp_hdr, cksum);
	else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		ck = l4h + offsetof(struct rte_udp_hdr, dgram_cksum);
	if (ck != NULL)
		memset(ck, 0, sizeof(sum));
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + m->l2_len);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (ck != NULL)
			sum = rte_ipv4_udptcp_cksum(ip, l4h);
	} else if (ck != NULL) {
		sum = rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)(p + m->l2_len), l4h);
	}
	if (ck != NULL)
		memcpy(ck, &sum, sizeof(sum));
	m->ol_flags &= ~(XVS_OL_REQUESTS | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
}

/* Why TCP segmentation is written out here rather than left to rte_gso:
 * DPDK 22.11's GSO library segments TCP over IPv4 only, writes at most as
 * many segments as the caller has room for (a 64 KB frame at MSS 536 is 123;
 * the fixed 64 dropped every such frame) and makes each segment a header
 * mbuf chained to an indirect one, which every port here then had to copy
 * flat anyway. Copying each segment once into a fresh mbuf does the same
 * work without the chain, for both IP versions, in chunks of any size. */
void
xvs_offload_begin(struct xvs_offload_iter *it, struct rte_mbuf *m, struct rte_mempool *pool,
		  struct rte_mempool *big)
{
	uint32_t room, payload;

	memset(it, 0, sizeof(*it));
	it->m = m;
	it->pool = pool;
	it->big = big;
	if (!xvs_offload_pending(m))
		return;
	if (xvs_offload_check(m) != XVS_OFFLOAD_OK)
		goto fail;
	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG))
		return;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(p + m->l2_len + m->l3_len);

	it->hdr_len = (uint16_t)(m->l2_len + m->l3_len + m->l4_len);
	it->off = it->hdr_len;
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + m->l2_len);

		it->end = m->l2_len + rte_be_to_cpu_16(ip->total_length);
		it->ip_id = rte_be_to_cpu_16(ip->packet_id);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(p + m->l2_len);

		it->end = it->hdr_len - m->l4_len + rte_be_to_cpu_16(ip->payload_len);
	}
	payload = it->end - it->off;
	if (payload <= m->tso_segsz) {
		/* One segment's worth: only the checksums to do. */
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		return;
	}
	room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
	if (room <= it->hdr_len)
		goto fail;
	it->seg_payload = (uint16_t)RTE_MIN((uint32_t)m->tso_segsz, room - it->hdr_len);
	it->seq = rte_be_to_cpu_32(th->sent_seq);
	it->first = true;
	return;
fail:
	rte_pktmbuf_free(m);
	it->m = NULL;
	it->failed = true;
}

/* Segment of it->m starting at it->off, as a fresh single-segment frame. */
static struct rte_mbuf *
make_segment(struct xvs_offload_iter *it)
{
	struct rte_mbuf *m = it->m, *s = rte_pktmbuf_alloc(it->pool);
	uint32_t len = RTE_MIN((uint32_t)it->seg_payload, it->end - it->off);
	bool last = it->off + len == it->end;
	uint8_t *d, flags_clear = 0;
	const void *src;

	if (s == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(s, (uint16_t)(it->hdr_len + len));
	memcpy(d, rte_pktmbuf_mtod(m, const uint8_t *), it->hdr_len);
	src = rte_pktmbuf_read(m, it->off, len, d + it->hdr_len);
	if (src != d + it->hdr_len)
		memcpy(d + it->hdr_len, src, len);

	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(d + m->l2_len + m->l3_len);
	uint16_t l3_payload = (uint16_t)(m->l4_len + len);

	/* RFC 3168 6.1.2 and what Linux's tcp_gso_segment does: CWR on the
	 * first segment only, FIN and PSH on the last only. */
	if (!it->first)
		flags_clear |= TCP_F_CWR;
	if (!last)
		flags_clear |= TCP_F_FIN | TCP_F_PSH;
	th->tcp_flags &= (uint8_t)~flags_clear;
	th->sent_seq = rte_cpu_to_be_32(it->seq);
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + m->l2_len);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(m->l3_len + l3_payload));
		ip->packet_id = rte_cpu_to_be_16(it->ip_id);
		it->ip_id++;
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + m->l2_len);

		ip->payload_len = rte_cpu_to_be_16(l3_payload);
	}
	s->ol_flags = m->ol_flags & ((XVS_OL_REQUESTS & ~RTE_MBUF_F_TX_TCP_SEG) |
				     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
	s->l2_len = m->l2_len;
	s->l3_len = m->l3_len;
	s->l4_len = m->l4_len;
	s->port = m->port;
	checksum(s);
	it->off += len;
	it->seq += len;
	it->first = false;
	return s;
}

uint16_t
xvs_offload_next(struct xvs_offload_iter *it, struct rte_mbuf **out, uint16_t max)
{
	struct rte_mbuf *m = it->m;
	uint16_t k = 0;

	if (m == NULL || max == 0)
		return 0;
	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
		it->m = NULL;
		m = xvs_offload_linearize(m, it->big);
		if (m == NULL) {
			it->failed = true;
			return 0;
		}
		if (xvs_offload_pending(m))
			checksum(m);
		out[0] = m;
		return 1;
	}
	while (k < max && it->off < it->end) {
		struct rte_mbuf *s = make_segment(it);

		if (s == NULL) {
			/* The segments sent so far stand; TCP retransmits the rest. */
			it->failed = true;
			break;
		}
		out[k++] = s;
	}
	if (it->failed || it->off >= it->end) {
		rte_pktmbuf_free(m);
		it->m = NULL;
	}
	return k;
}

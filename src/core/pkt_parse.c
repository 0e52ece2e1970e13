/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet, IPv4/IPv6 and TCP/UDP header parsing over plain buffers (core).
 *
 * Every read is preceded by a bounds check against len (or against the end of
 * the IP datagram, which has itself been checked against len): the frame comes
 * from outside and its length fields are only believed after they have been
 * compared with what was actually received. tests/fuzz/fuzz_pkt_parse.c runs
 * both functions on arbitrary input.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pkt_parse.h"

#define IPV6_HLEN 40
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_DSTOPTS_ 60
#define IPV6_MAX_EXT_HDRS 8


static const char *const reason_names[XVS_PARSE__MAX] = {
	[XVS_PARSE_OK] = "ok",
	[XVS_PARSE_RUNT] = "runt",
	[XVS_PARSE_TRUNCATED_VLAN] = "truncated_vlan",
	[XVS_PARSE_STACKED_VLAN] = "stacked_vlan",
	[XVS_PARSE_BAD_VID] = "bad_vid",
	[XVS_PARSE_BAD_SRC_MAC] = "bad_src_mac",
};

const char *
xvs_parse_reason_name(int reason)
{
	if (reason < 0 || reason >= XVS_PARSE__MAX)
		return "unknown";
	return reason_names[reason];
}

/* Ports of a TCP or UDP header at off, if the whole minimal header lies before end. */
static void
parse_l4(const uint8_t *frame, uint32_t off, uint32_t end, struct xvs_flow *flow)
{
	/* l4_off is 16 bits: a header further in cannot be described. */
	if (off > UINT16_MAX)
		return;
	flow->l4_off = (uint16_t)off;
	if (end < off || !xvs_l4_has_ports(flow->proto, end - off))
		return;
	memcpy(&flow->sport, frame + off, 2);
	memcpy(&flow->dport, frame + off + 2, 2);
	flow->has_ports = true;
}

static int
parse_ipv4(const uint8_t *frame, uint32_t len, uint32_t off, struct xvs_flow *flow)
{
	const uint8_t *ip = frame + off;
	uint32_t ihl, tot_len;
	uint16_t frag;

	if (!xvs_ipv4_header(frame, len, off, &ihl, &tot_len))
		return -EINVAL;

	flow->l3 = 4;
	flow->proto = ip[9];
	memcpy(flow->src, ip + 12, 4);
	memcpy(flow->dst, ip + 16, 4);
	frag = xvs_rd16(ip + 6);
	/* MF flag or a non-zero fragment offset: ports are absent from later
	 * fragments, so no fragment gets them and all hash alike. */
	if ((frag & 0x3fff) != 0) {
		flow->fragment = true;
		if ((frag & 0x1fff) == 0 && off + ihl <= UINT16_MAX)
			flow->l4_off = (uint16_t)(off + ihl);
		return 0;
	}
	parse_l4(frame, off + ihl, off + tot_len, flow);
	return 0;
}

static int
parse_ipv6(const uint8_t *frame, uint32_t len, uint32_t off, struct xvs_flow *flow)
{
	const uint8_t *ip = frame + off;
	uint32_t end, cur, hlen;
	uint8_t nh;
	int i;

	if (len - off < IPV6_HLEN)
		return -EINVAL;
	if ((ip[0] >> 4) != 6)
		return -EINVAL;
	end = off + IPV6_HLEN + xvs_rd16(ip + 4);
	if (end > len)
		return -EINVAL;

	flow->l3 = 6;
	memcpy(flow->src, ip + 8, 16);
	memcpy(flow->dst, ip + 24, 16);
	nh = ip[6];
	cur = off + IPV6_HLEN;

	/* RFC 8200 4: walk the extension headers we know the length of. The
	 * pass after the last allowed header only looks at the upper layer. */
	for (i = 0; i <= IPV6_MAX_EXT_HDRS; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			if (i == IPV6_MAX_EXT_HDRS)
				goto too_many;
			if (end - cur < 8)
				return -EINVAL;
			/* Hdr Ext Len: 8-octet units, not counting the first 8. */
			hlen = ((uint32_t)frame[cur + 1] + 1) * 8;
			if (end - cur < hlen)
				return -EINVAL;
			nh = frame[cur];
			cur += hlen;
			break;
		case IPPROTO_FRAGMENT_:
			if (i == IPV6_MAX_EXT_HDRS)
				goto too_many;
			if (end - cur < 8)
				return -EINVAL;
			flow->fragment = true;
			flow->proto = frame[cur];
			/* Only the first fragment (offset 0) holds the upper header. */
			if ((xvs_rd16(frame + cur + 2) & 0xfff8) == 0 && cur + 8 <= UINT16_MAX)
				flow->l4_off = (uint16_t)(cur + 8);
			return 0;
		default:
			flow->proto = nh;
			parse_l4(frame, cur, end, flow);
			return 0;
		}
	}
too_many:
	/* More extension headers than we walk: report where we stopped,
	 * without ports. */
	flow->proto = nh;
	return 0;
}

int
xvs_parse_flow(const uint8_t *frame, uint32_t len, const struct xvs_l2 *l2,
	       struct xvs_flow *flow)
{
	uint32_t off;

	if (flow == NULL)
		return -EINVAL;
	memset(flow, 0, sizeof(*flow));
	if (frame == NULL || l2 == NULL)
		return -EINVAL;

	off = l2->l3_off;
	switch (l2->ethertype) {
	case XVS_ETYPE_IPV4:
		if (off > len)
			return -EINVAL;
		return parse_ipv4(frame, len, off, flow);
	case XVS_ETYPE_IPV6:
		if (off > len)
			return -EINVAL;
		return parse_ipv6(frame, len, off, flow);
	default:
		return 0;
	}
}

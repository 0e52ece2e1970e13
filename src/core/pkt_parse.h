/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet header parsing over plain buffers (core, no DPDK).
 *
 * The datapath calls xvs_parse_l2() once per received frame, so it is an
 * inline function over the first bytes of the frame. Parsing never reads past
 * len and never trusts a length field from the packet. Every rejection has its
 * own reason code so the datapath can count it under a named drop counter.
 */
#ifndef XVS_PKT_PARSE_H
#define XVS_PKT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XVS_ETH_HLEN 14
#define XVS_VLAN_HLEN 4
#define XVS_ETH_MIN_FRAME 14        /* header only: shorter is a runt */
#define XVS_ETYPE_VLAN 0x8100
#define XVS_ETYPE_QINQ 0x88a8
#define XVS_ETYPE_IPV4 0x0800
#define XVS_ETYPE_IPV6 0x86dd
#define XVS_ETYPE_ARP 0x0806

/* Why a frame was rejected by xvs_parse_l2(). 0 = accepted. */
enum xvs_parse_reason {
	XVS_PARSE_OK = 0,
	XVS_PARSE_RUNT,            /* shorter than an Ethernet header */
	XVS_PARSE_TRUNCATED_VLAN,  /* 802.1Q TPID present but tag cut off */
	XVS_PARSE_STACKED_VLAN,    /* QinQ / 0x88a8 / a second 0x8100 tag: not switched */
	XVS_PARSE_BAD_VID,         /* VID 4095 (reserved) */
	XVS_PARSE_BAD_SRC_MAC,     /* source is multicast/broadcast or all-zero */
	XVS_PARSE__MAX
};

/* Result of L2 parsing. Pointers point into the caller's buffer. */
struct xvs_l2 {
	const uint8_t *dst;  /* destination MAC (6 bytes) */
	const uint8_t *src;  /* source MAC (6 bytes) */
	uint16_t ethertype;  /* host order; the inner type when tagged */
	uint16_t vid;        /* 0 when untagged or priority-tagged */
	uint8_t pcp;         /* 802.1p priority of the tag, 0 when untagged */
	bool tagged;         /* an 802.1Q tag (VID != 0) is present in the frame */
	bool prio_tagged;    /* an 802.1Q tag with VID 0 is present */
	uint16_t l3_off;     /* offset of the L3 header */
};

/* Big-endian 16-bit read from a possibly unaligned address. */
static inline uint16_t
xvs_rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* The IPv4 header at frame[off..len) as RFC 791 has it: version 4, IHL at
 * least 5 words, a total length that covers the header and lies within the
 * frame (trailing Ethernet padding allowed). Its length in *ihl and the
 * datagram's in *tot, or false: the frame is not IP to whoever asks. The
 * one check of the parser, the packet metadata and QoS's own read. */
static inline bool
xvs_ipv4_header(const uint8_t *frame, uint32_t len, uint32_t off, uint32_t *ihl, uint32_t *tot)
{
	const uint8_t *ip = frame + off;

	if (len < off + 20 || (ip[0] >> 4) != 4)
		return false;
	*ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	*tot = xvs_rd16(ip + 2);
	return *ihl >= 20 && *tot >= *ihl && *tot <= len - off;
}

/* The IP protocols whose ports xvs reads (for flows, ACLs, QoS): TCP and
 * UDP. */
static inline bool
xvs_l4_proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17;
}

/* Does an unfragmented datagram of protocol proto with l4_len bytes after
 * its IP header carry ports? TCP with its 20-byte header, UDP with its 8. */
static inline bool
xvs_l4_has_ports(uint8_t proto, uint32_t l4_len)
{
	return (proto == 6 && l4_len >= 20) || (proto == 17 && l4_len >= 8);
}

/* Parse the Ethernet header (and at most one 802.1Q tag) of frame[0..len).
 * Returns XVS_PARSE_OK and fills *out, or a reason code (out is then
 * unspecified). Thread-safe, no side effects. Inline: it runs per frame. */
static inline int
xvs_parse_l2(const uint8_t *frame, uint32_t len, struct xvs_l2 *out)
{
	const uint8_t *src;
	uint16_t etype, tci;

	if (frame == NULL || len < XVS_ETH_MIN_FRAME)
		return XVS_PARSE_RUNT;

	src = frame + 6;
	/* IEEE 802.3 clause 3.2.3: the I/G bit is the LSB of the first octet.
	 * A group or all-zero source cannot be learned and is never legitimate. */
	if ((src[0] & 1) != 0 || (src[0] | src[1] | src[2] | src[3] | src[4] | src[5]) == 0)
		return XVS_PARSE_BAD_SRC_MAC;

	out->dst = frame;
	out->src = src;
	out->vid = 0;
	out->pcp = 0;
	out->tagged = false;
	out->prio_tagged = false;

	etype = xvs_rd16(frame + 12);
	if (etype == XVS_ETYPE_QINQ)
		return XVS_PARSE_STACKED_VLAN;
	if (etype != XVS_ETYPE_VLAN) {
		out->ethertype = etype;
		out->l3_off = XVS_ETH_HLEN;
		return XVS_PARSE_OK;
	}

	if (len < XVS_ETH_HLEN + XVS_VLAN_HLEN)
		return XVS_PARSE_TRUNCATED_VLAN;
	tci = xvs_rd16(frame + 14);
	etype = xvs_rd16(frame + 16);
	/* Only single-tagged frames are switched: a second tag would need a
	 * service VLAN model xvs does not have. */
	if (etype == XVS_ETYPE_VLAN || etype == XVS_ETYPE_QINQ)
		return XVS_PARSE_STACKED_VLAN;
	/* IEEE 802.1Q-2018 9.6: VID 0xFFF is reserved and must not be transmitted. */
	if ((tci & 0x0fff) == 0x0fff)
		return XVS_PARSE_BAD_VID;

	out->vid = tci & 0x0fff;
	out->pcp = (uint8_t)(tci >> 13);
	/* VID 0 carries only a priority: the frame belongs to the port's VLAN. */
	out->tagged = out->vid != 0;
	out->prio_tagged = out->vid == 0;
	out->ethertype = etype;
	out->l3_off = XVS_ETH_HLEN + XVS_VLAN_HLEN;
	return XVS_PARSE_OK;
}


/* Name of a reason, for counters and logs: "runt", "truncated_vlan", ... */
const char *xvs_parse_reason_name(int reason);

/* Flow key for hashing (RSS) and ACLs; addresses and ports in network order,
 * exactly as they appear in the packet. */
struct xvs_flow {
	uint8_t l3;          /* 4, 6, or 0 when not IP */
	uint8_t proto;       /* IP protocol (after IPv6 extension headers), 0 if none */
	bool fragment;       /* IPv4 MF/offset or IPv6 fragment header: no L4 ports */
	bool has_ports;      /* TCP or UDP header present and complete */
	uint8_t src[16];     /* IPv4 uses the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport; /* network order */
	uint16_t l4_off;     /* offset of the L4 header from frame start, 0 if none */
};

/* Parse L3/L4 starting at l2->l3_off. Returns 0, or -EINVAL for a malformed
 * IP header (bad version/IHL, total length past the frame); a non-IP frame
 * returns 0 with flow->l3 = 0. Walks IPv6 extension headers (hop-by-hop,
 * routing, destination options, fragment) up to 8 of them. */
int xvs_parse_flow(const uint8_t *frame, uint32_t len, const struct xvs_l2 *l2,
		   struct xvs_flow *flow);

#endif /* XVS_PKT_PARSE_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/pkt_parse.c on hand-built frames: every reject
 * reason, the tag cases, and IPv4/IPv6 flows including fragments, extension
 * headers and truncation at every length.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt_parse.h"

static const uint8_t DST[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t SRC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* Ethernet header, optionally one tag (tpid != 0). Returns bytes written. */
static uint32_t
put_eth(uint8_t *f, const uint8_t *src, uint16_t tpid, uint16_t tci, uint16_t etype)
{
	uint32_t off = 12;

	memcpy(f, DST, 6);
	memcpy(f + 6, src, 6);
	if (tpid != 0) {
		f[off++] = tpid >> 8;
		f[off++] = tpid & 0xff;
		f[off++] = tci >> 8;
		f[off++] = tci & 0xff;
	}
	f[off++] = etype >> 8;
	f[off++] = etype & 0xff;
	return off;
}

/* IPv4 header with IHL 5 at f; returns 20. */
static uint32_t
put_ipv4(uint8_t *f, uint8_t proto, uint16_t tot_len, uint16_t frag)
{
	memset(f, 0, 20);
	f[0] = 0x45;
	f[2] = tot_len >> 8;
	f[3] = tot_len & 0xff;
	f[6] = frag >> 8;
	f[7] = frag & 0xff;
	f[8] = 64;
	f[9] = proto;
	f[12] = 10, f[13] = 0, f[14] = 0, f[15] = 1;
	f[16] = 10, f[17] = 0, f[18] = 0, f[19] = 2;
	return 20;
}

static uint32_t
put_ports(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t hlen)
{
	memset(f, 0, hlen);
	f[0] = sport >> 8;
	f[1] = sport & 0xff;
	f[2] = dport >> 8;
	f[3] = dport & 0xff;
	return hlen;
}

static uint32_t
put_ipv6(uint8_t *f, uint8_t nh, uint16_t payload_len)
{
	memset(f, 0, 40);
	f[0] = 0x60;
	f[4] = payload_len >> 8;
	f[5] = payload_len & 0xff;
	f[6] = nh;
	f[7] = 64;
	f[8] = 0x20, f[9] = 0x01, f[23] = 1;
	f[24] = 0x20, f[25] = 0x01, f[39] = 2;
	return 40;
}

static uint16_t
be16(uint16_t v)
{
	uint8_t b[2] = {v >> 8, v & 0xff};
	uint16_t r;

	memcpy(&r, b, 2);
	return r;
}

static void
test_pkt_parse_untagged(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, 0, 0, XVS_ETYPE_ARP);
	assert_int_equal(xvs_parse_l2(f, 60, &l2), XVS_PARSE_OK);
	assert_ptr_equal(l2.dst, f);
	assert_ptr_equal(l2.src, f + 6);
	assert_int_equal(l2.ethertype, XVS_ETYPE_ARP);
	assert_int_equal(l2.vid, 0);
	assert_false(l2.tagged);
	assert_false(l2.prio_tagged);
	assert_int_equal(l2.l3_off, 14);
}

static void
test_pkt_parse_header_only_is_accepted(void **state)
{
	uint8_t f[14];
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 14, &l2), XVS_PARSE_OK);
	assert_int_equal(l2.l3_off, 14);
}

static void
test_pkt_parse_tagged(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, XVS_ETYPE_VLAN, 5 << 13 | 100, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	assert_true(l2.tagged);
	assert_false(l2.prio_tagged);
	assert_int_equal(l2.vid, 100);
	assert_int_equal(l2.pcp, 5);
	assert_int_equal(l2.ethertype, XVS_ETYPE_IPV4);
	assert_int_equal(l2.l3_off, 18);
}

static void
test_pkt_parse_vid_boundaries(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, XVS_ETYPE_VLAN, 1, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	assert_int_equal(l2.vid, 1);
	put_eth(f, SRC, XVS_ETYPE_VLAN, 4094, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	assert_int_equal(l2.vid, 4094);
	/* CFI/DEI bit does not leak into the VID */
	put_eth(f, SRC, XVS_ETYPE_VLAN, 0x1000 | 7, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	assert_int_equal(l2.vid, 7);
}

static void
test_pkt_parse_prio_tagged(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, XVS_ETYPE_VLAN, 3 << 13 | 0, XVS_ETYPE_IPV6);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	assert_false(l2.tagged);
	assert_true(l2.prio_tagged);
	assert_int_equal(l2.vid, 0);
	assert_int_equal(l2.pcp, 3);
	assert_int_equal(l2.ethertype, XVS_ETYPE_IPV6);
	assert_int_equal(l2.l3_off, 18);
}

static void
test_pkt_parse_vid_4095_rejected(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, XVS_ETYPE_VLAN, 0xefff, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_BAD_VID);
}

static void
test_pkt_parse_qinq_rejected(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, XVS_ETYPE_QINQ, 100, XVS_ETYPE_VLAN);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_STACKED_VLAN);
	/* 0x88a8 rejected even when the frame ends right after it */
	assert_int_equal(xvs_parse_l2(f, 14, &l2), XVS_PARSE_STACKED_VLAN);
	put_eth(f, SRC, XVS_ETYPE_VLAN, 100, XVS_ETYPE_VLAN);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_STACKED_VLAN);
	put_eth(f, SRC, XVS_ETYPE_VLAN, 100, XVS_ETYPE_QINQ);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_STACKED_VLAN);
}

static void
test_pkt_parse_truncated_tag(void **state)
{
	uint8_t f[18] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, XVS_ETYPE_VLAN, 100, XVS_ETYPE_IPV4);
	for (uint32_t len = 14; len < 18; len++)
		assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_TRUNCATED_VLAN);
	assert_int_equal(xvs_parse_l2(f, 18, &l2), XVS_PARSE_OK);
}

static void
test_pkt_parse_runt(void **state)
{
	uint8_t f[14] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	for (uint32_t len = 0; len < 14; len++)
		assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_RUNT);
	assert_int_equal(xvs_parse_l2(NULL, 64, &l2), XVS_PARSE_RUNT);
}

static void
test_pkt_parse_bad_src_mac(void **state)
{
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6] = {0};
	static const uint8_t low_bit_other_octet[6] = {0x02, 0x01, 0x01, 0x01, 0x01, 0x01};
	uint8_t f[64] = {0};
	struct xvs_l2 l2;

	(void)state;
	put_eth(f, mcast, 0, 0, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_BAD_SRC_MAC);
	put_eth(f, bcast, 0, 0, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_BAD_SRC_MAC);
	put_eth(f, zero, 0, 0, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_BAD_SRC_MAC);
	put_eth(f, low_bit_other_octet, 0, 0, XVS_ETYPE_IPV4);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	/* a multicast destination is fine */
	put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	memcpy(f, bcast, 6);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
}

static void
test_pkt_parse_reason_names(void **state)
{
	(void)state;
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE_OK), "ok");
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE_RUNT), "runt");
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE_TRUNCATED_VLAN), "truncated_vlan");
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE_STACKED_VLAN), "stacked_vlan");
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE_BAD_VID), "bad_vid");
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE_BAD_SRC_MAC), "bad_src_mac");
	assert_string_equal(xvs_parse_reason_name(XVS_PARSE__MAX), "unknown");
	assert_string_equal(xvs_parse_reason_name(-1), "unknown");
}

static void
test_pkt_parse_ipv4_tcp(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, XVS_ETYPE_VLAN, 10, XVS_ETYPE_IPV4);
	off += put_ipv4(f + off, 6, 40, 0x4000 /* DF */);
	off += put_ports(f + off, 1234, 80, 20);
	assert_int_equal(xvs_parse_l2(f, off, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_int_equal(fl.l3, 4);
	assert_int_equal(fl.proto, 6);
	assert_false(fl.fragment);
	assert_true(fl.has_ports);
	assert_int_equal(fl.sport, be16(1234));
	assert_int_equal(fl.dport, be16(80));
	assert_int_equal(fl.l4_off, 38);
	assert_memory_equal(fl.src, ((uint8_t[]){10, 0, 0, 1}), 4);
	assert_memory_equal(fl.dst, ((uint8_t[]){10, 0, 0, 2}), 4);
}

static void
test_pkt_parse_ipv4_udp_with_padding(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	off += put_ipv4(f + off, 17, 28, 0);
	off += put_ports(f + off, 53, 5353, 8);
	/* Ethernet minimum frame: padding after the datagram is ignored */
	assert_int_equal(xvs_parse_l2(f, 60, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, 60, &l2, &fl), 0);
	assert_int_equal(fl.proto, 17);
	assert_true(fl.has_ports);
	assert_int_equal(fl.sport, be16(53));
	assert_int_equal(fl.dport, be16(5353));
}

static void
test_pkt_parse_ipv4_options(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	put_ipv4(f + off, 17, 24 + 8, 0);
	f[off] = 0x46; /* IHL 6: 4 bytes of options */
	put_ports(f + off + 24, 7, 9, 8);
	assert_int_equal(xvs_parse_l2(f, off + 32, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off + 32, &l2, &fl), 0);
	assert_int_equal(fl.l4_off, 14 + 24);
	assert_int_equal(fl.sport, be16(7));
}

static void
test_pkt_parse_ipv4_fragment(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	/* first fragment: MF set, offset 0 */
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	off += put_ipv4(f + off, 17, 28, 0x2000);
	off += put_ports(f + off, 1, 2, 8);
	assert_int_equal(xvs_parse_l2(f, off, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_true(fl.fragment);
	assert_false(fl.has_ports);
	assert_int_equal(fl.proto, 17);
	assert_int_equal(fl.l4_off, 34);
	/* later fragment: offset != 0, MF clear */
	put_ipv4(f + 14, 17, 28, 0x0010);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_true(fl.fragment);
	assert_false(fl.has_ports);
	assert_int_equal(fl.l4_off, 0);
}

static void
test_pkt_parse_ipv4_bad_header(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	put_ipv4(f + off, 6, 40, 0);
	assert_int_equal(xvs_parse_l2(f, 74, &l2), XVS_PARSE_OK);
	f[14] = 0x44; /* IHL 4 < 5 */
	assert_int_equal(xvs_parse_flow(f, 74, &l2, &fl), -EINVAL);
	f[14] = 0x55; /* version 5 */
	assert_int_equal(xvs_parse_flow(f, 74, &l2, &fl), -EINVAL);
	f[14] = 0x4f; /* IHL 60 > total length 40 */
	assert_int_equal(xvs_parse_flow(f, 74, &l2, &fl), -EINVAL);
	f[14] = 0x45;
	f[16] = 0, f[17] = 61; /* total length past the frame (14 + 61 > 74) */
	assert_int_equal(xvs_parse_flow(f, 74, &l2, &fl), -EINVAL);
	f[17] = 60; /* exactly the frame */
	assert_int_equal(xvs_parse_flow(f, 74, &l2, &fl), 0);
}

static void
test_pkt_parse_ipv4_truncated(void **state)
{
	uint8_t f[54] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	off += put_ipv4(f + off, 6, 40, 0);
	off += put_ports(f + off, 1, 2, 20);
	/* every cut shorter than the datagram is malformed (tot_len past frame) */
	for (uint32_t len = 14; len < off; len++) {
		assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
		assert_int_equal(xvs_parse_flow(f, len, &l2, &fl), -EINVAL);
	}
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_true(fl.has_ports);
}

static void
test_pkt_parse_ipv4_l4_truncated_no_ports(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	/* consistent lengths, but the TCP header is cut short by tot_len */
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV4);
	off += put_ipv4(f + off, 6, 20 + 19, 0);
	assert_int_equal(xvs_parse_l2(f, 64, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, 64, &l2, &fl), 0);
	assert_int_equal(fl.proto, 6);
	assert_false(fl.has_ports);
}

static void
test_pkt_parse_ipv6_udp(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV6);
	off += put_ipv6(f + off, 17, 8);
	off += put_ports(f + off, 546, 547, 8);
	assert_int_equal(xvs_parse_l2(f, off, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_int_equal(fl.l3, 6);
	assert_int_equal(fl.proto, 17);
	assert_true(fl.has_ports);
	assert_int_equal(fl.sport, be16(546));
	assert_int_equal(fl.dport, be16(547));
	assert_int_equal(fl.l4_off, 54);
	assert_int_equal(fl.src[0], 0x20);
	assert_int_equal(fl.dst[15], 2);
}

static void
test_pkt_parse_ipv6_ext_headers(void **state)
{
	uint8_t f[256] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off, ip;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV6);
	ip = off;
	/* hop-by-hop (8) -> routing (24) -> dest opts (8) -> TCP (20) */
	off += put_ipv6(f + off, 0, 8 + 24 + 8 + 20);
	f[off] = 43, f[off + 1] = 0;
	off += 8;
	f[off] = 60, f[off + 1] = 2;
	off += 24;
	f[off] = 6, f[off + 1] = 0;
	off += 8;
	off += put_ports(f + off, 22, 2222, 20);
	assert_int_equal(xvs_parse_l2(f, off, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_int_equal(fl.proto, 6);
	assert_true(fl.has_ports);
	assert_int_equal(fl.sport, be16(22));
	assert_int_equal(fl.dport, be16(2222));
	assert_int_equal(fl.l4_off, ip + 40 + 40);
}

static void
test_pkt_parse_ipv6_fragment(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV6);
	off += put_ipv6(f + off, 44, 8 + 8);
	f[off] = 17;
	f[off + 3] = 1; /* offset 0, M set */
	off += 8;
	off += put_ports(f + off, 1, 2, 8);
	assert_int_equal(xvs_parse_l2(f, off, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_true(fl.fragment);
	assert_false(fl.has_ports);
	assert_int_equal(fl.proto, 17);
	assert_int_equal(fl.l4_off, 14 + 48);
	f[14 + 40 + 2] = 0x01; /* offset 32 */
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_true(fl.fragment);
	assert_int_equal(fl.l4_off, 0);
}

static void
test_pkt_parse_ipv6_too_many_ext_headers(void **state)
{
	uint8_t f[256] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV6);
	off += put_ipv6(f + off, 60, 9 * 8 + 8);
	for (int i = 0; i < 9; i++) {
		f[off] = i == 8 ? 17 : 60;
		off += 8;
	}
	off += put_ports(f + off, 1, 2, 8);
	assert_int_equal(xvs_parse_l2(f, off, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_int_equal(fl.l3, 6);
	assert_false(fl.has_ports);
	assert_int_equal(fl.proto, 60);

	/* exactly 8 are walked */
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV6);
	off += put_ipv6(f + off, 60, 8 * 8 + 8);
	for (int i = 0; i < 8; i++) {
		f[off] = i == 7 ? 17 : 60;
		f[off + 1] = 0;
		off += 8;
	}
	off += put_ports(f + off, 1, 2, 8);
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_int_equal(fl.proto, 17);
	assert_true(fl.has_ports);
}

static void
test_pkt_parse_ipv6_truncated(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;
	uint32_t off;

	(void)state;
	off = put_eth(f, SRC, 0, 0, XVS_ETYPE_IPV6);
	off += put_ipv6(f + off, 0, 16 + 8);
	f[off] = 17, f[off + 1] = 1; /* hop-by-hop of 16 */
	off += 16;
	off += put_ports(f + off, 1, 2, 8);
	for (uint32_t len = 14; len < off; len++) {
		assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
		assert_int_equal(xvs_parse_flow(f, len, &l2, &fl), -EINVAL);
	}
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), 0);
	assert_true(fl.has_ports);

	/* extension header claims more than the payload length */
	f[14 + 40 + 1] = 5;
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), -EINVAL);
	/* version mismatch */
	f[14 + 40 + 1] = 1;
	f[14] = 0x40;
	assert_int_equal(xvs_parse_flow(f, off, &l2, &fl), -EINVAL);
}

static void
test_pkt_parse_non_ip(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2;
	struct xvs_flow fl;

	(void)state;
	put_eth(f, SRC, 0, 0, XVS_ETYPE_ARP);
	assert_int_equal(xvs_parse_l2(f, 14, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_parse_flow(f, 14, &l2, &fl), 0);
	assert_int_equal(fl.l3, 0);
	assert_int_equal(fl.proto, 0);
	assert_false(fl.has_ports);
}

static void
test_pkt_parse_flow_invalid_args(void **state)
{
	uint8_t f[64] = {0};
	struct xvs_l2 l2 = {.ethertype = XVS_ETYPE_IPV4, .l3_off = 100};
	struct xvs_flow fl;

	(void)state;
	assert_int_equal(xvs_parse_flow(f, 64, &l2, NULL), -EINVAL);
	assert_int_equal(xvs_parse_flow(NULL, 64, &l2, &fl), -EINVAL);
	assert_int_equal(xvs_parse_flow(f, 64, NULL, &fl), -EINVAL);
	/* l3_off beyond len must not be trusted */
	assert_int_equal(xvs_parse_flow(f, 64, &l2, &fl), -EINVAL);
	l2.ethertype = XVS_ETYPE_IPV6;
	assert_int_equal(xvs_parse_flow(f, 64, &l2, &fl), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_parse_untagged),
		cmocka_unit_test(test_pkt_parse_header_only_is_accepted),
		cmocka_unit_test(test_pkt_parse_tagged),
		cmocka_unit_test(test_pkt_parse_vid_boundaries),
		cmocka_unit_test(test_pkt_parse_prio_tagged),
		cmocka_unit_test(test_pkt_parse_vid_4095_rejected),
		cmocka_unit_test(test_pkt_parse_qinq_rejected),
		cmocka_unit_test(test_pkt_parse_truncated_tag),
		cmocka_unit_test(test_pkt_parse_runt),
		cmocka_unit_test(test_pkt_parse_bad_src_mac),
		cmocka_unit_test(test_pkt_parse_reason_names),
		cmocka_unit_test(test_pkt_parse_ipv4_tcp),
		cmocka_unit_test(test_pkt_parse_ipv4_udp_with_padding),
		cmocka_unit_test(test_pkt_parse_ipv4_options),
		cmocka_unit_test(test_pkt_parse_ipv4_fragment),
		cmocka_unit_test(test_pkt_parse_ipv4_bad_header),
		cmocka_unit_test(test_pkt_parse_ipv4_truncated),
		cmocka_unit_test(test_pkt_parse_ipv4_l4_truncated_no_ports),
		cmocka_unit_test(test_pkt_parse_ipv6_udp),
		cmocka_unit_test(test_pkt_parse_ipv6_ext_headers),
		cmocka_unit_test(test_pkt_parse_ipv6_fragment),
		cmocka_unit_test(test_pkt_parse_ipv6_too_many_ext_headers),
		cmocka_unit_test(test_pkt_parse_ipv6_truncated),
		cmocka_unit_test(test_pkt_parse_non_ip),
		cmocka_unit_test(test_pkt_parse_flow_invalid_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/rss.c: the published Toeplitz vectors through the
 * reference and the table-driven hash and end to end from hand-built frames;
 * hash type selection, fragments, VLAN, IPv6 extension headers and the "ex"
 * types; RETA vectors; properties (zero input, symmetric key, distribution
 * with a chi-square test, table == reference on random input); the settings
 * parsers and port keys; worker selection; the conservative profile; and
 * flow-order preservation of the burst partition.
 *
 * Vectors: doc acceptance-vectors.md section 1 (DPDK app/test/test_thash.c,
 * which cites the Intel 82599 / Microsoft RSS verification suite).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "pkt_parse.h"
#include "rss.h"
#include "test_rng.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define XVS_BURST_TEST 32   /* XVS_BURST of the datapath */

/* ---- vectors ---- */

struct rss_vec {
	int af;               /* AF_INET or AF_INET6 */
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t l3;          /* hash of the addresses only */
	uint32_t l4;          /* hash of addresses and ports */
};

/* acceptance-vectors.md 1.3, source -> destination as fed to the hash. */
static const struct rss_vec vecs[] = {
	{AF_INET, "66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178},
	{AF_INET, "199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea},
	{AF_INET, "24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
	{AF_INET, "38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f},
	{AF_INET, "153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2},
	{AF_INET6, "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5,
	 0x40207d3d},
	{AF_INET6, "3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c,
	 0xdde51bbf},
	{AF_INET6, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251,
	 38024, 0x4b61e985, 0x02d1feef},
};

#define V6_FIRST 5   /* index of the first IPv6 vector */

static struct xvs_rss_table default_tbl;

static int
setup_tables(void **state)
{
	(void)state;
	xvs_rss_table_init(&default_tbl, xvs_rss_default_key);
	return 0;
}

static void
addr_parse(int af, const char *s, uint8_t *out)
{
	if (inet_pton(af, s, out) != 1)
		fail_msg("inet_pton(%s) failed", s);
}

static size_t
addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

/* Hash input of a vector: src, dst [, sport, dport]; reversed swaps the two
 * directions. Returns its length. */
static size_t
vec_input(const struct rss_vec *v, bool ports, bool reversed, uint8_t in[XVS_RSS_INPUT_MAX])
{
	size_t alen = addr_len(v->af);
	uint16_t sp = reversed ? v->dport : v->sport, dp = reversed ? v->sport : v->dport;

	addr_parse(v->af, reversed ? v->dst : v->src, in);
	addr_parse(v->af, reversed ? v->src : v->dst, in + alen);
	if (!ports)
		return 2 * alen;
	in[2 * alen] = (uint8_t)(sp >> 8);
	in[2 * alen + 1] = (uint8_t)sp;
	in[2 * alen + 2] = (uint8_t)(dp >> 8);
	in[2 * alen + 3] = (uint8_t)dp;
	return 2 * alen + 4;
}

static void
rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd32();
}

/* ---- frames ---- */

static const uint8_t MAC_DST[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t MAC_SRC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* What to put in a test frame. Zero fields mean: untagged, TCP, not a
 * fragment, no IPv6 extension headers, the vector's own addresses. */
struct frame_spec {
	const struct rss_vec *v;
	uint8_t proto;          /* IPPROTO_TCP (0 = TCP), IPPROTO_UDP, IPPROTO_ICMP(V6) */
	bool vlan;              /* one 802.1Q tag, VID 100 */
	uint16_t frag;          /* IPv4 flags + fragment offset field */
	uint8_t ihl;            /* IPv4 header words, 0 = 5 */
	const uint8_t *ext;     /* IPv6 extension headers, chained; the last names proto */
	uint32_t ext_len;
	uint8_t ext_nh;         /* IPv6 next header naming ext[0] */
	const char *src, *dst;  /* header addresses instead of the vector's */
};

static uint32_t
l4_len(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 20 : 8;
}

/* Write the frame to f (room for 256 bytes); returns its length. */
static uint32_t
build_frame(const struct frame_spec *s, uint8_t *f)
{
	const struct rss_vec *v = s->v;
	uint8_t proto = s->proto != 0 ? s->proto : IPPROTO_TCP;
	uint32_t off = 12, l4 = l4_len(proto), ip_len;
	uint8_t *ip, *l4h;

	memset(f, 0, 256);
	memcpy(f, MAC_DST, 6);
	memcpy(f + 6, MAC_SRC, 6);
	if (s->vlan) {
		f[off++] = 0x81, f[off++] = 0x00;
		f[off++] = 0x00, f[off++] = 100;
	}
	f[off++] = v->af == AF_INET ? 0x08 : 0x86;
	f[off++] = v->af == AF_INET ? 0x00 : 0xdd;
	ip = f + off;
	if (v->af == AF_INET) {
		ip_len = (s->ihl != 0 ? s->ihl : 5) * 4u;
		ip[0] = (uint8_t)(0x40 | ip_len / 4);
		ip[2] = (uint8_t)((ip_len + l4) >> 8);
		ip[3] = (uint8_t)(ip_len + l4);
		ip[6] = (uint8_t)(s->frag >> 8);
		ip[7] = (uint8_t)s->frag;
		ip[8] = 64;
		ip[9] = proto;
		addr_parse(AF_INET, s->src != NULL ? s->src : v->src, ip + 12);
		addr_parse(AF_INET, s->dst != NULL ? s->dst : v->dst, ip + 16);
		for (uint32_t i = 20; i < ip_len; i++)
			ip[i] = 1;   /* IPv4 NOP options */
	} else {
		ip_len = 40 + s->ext_len;
		ip[0] = 0x60;
		ip[4] = (uint8_t)((s->ext_len + l4) >> 8);
		ip[5] = (uint8_t)(s->ext_len + l4);
		ip[6] = s->ext != NULL ? s->ext_nh : proto;
		ip[7] = 64;
		addr_parse(AF_INET6, s->src != NULL ? s->src : v->src, ip + 8);
		addr_parse(AF_INET6, s->dst != NULL ? s->dst : v->dst, ip + 24);
		if (s->ext != NULL)
			memcpy(ip + 40, s->ext, s->ext_len);
	}
	l4h = ip + ip_len;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		l4h[0] = (uint8_t)(v->sport >> 8);
		l4h[1] = (uint8_t)v->sport;
		l4h[2] = (uint8_t)(v->dport >> 8);
		l4h[3] = (uint8_t)v->dport;
		if (proto == IPPROTO_TCP) {
			l4h[12] = 0x50;   /* data offset 5 */
			l4h[13] = 0x02;   /* SYN */
		} else {
			l4h[5] = 8;       /* UDP length */
		}
	} else {
		l4h[0] = v->af == AF_INET ? 8 : 128;   /* echo request */
	}
	return (uint32_t)(l4h + l4 - f);
}

/* Parse L2 and build the hash input of frame[0..len). */
static size_t
frame_input(const uint8_t *f, uint32_t len, uint32_t types, uint8_t in[XVS_RSS_INPUT_MAX])
{
	struct xvs_l2 l2;

	assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
	return xvs_rss_input(f, len, &l2, types, in);
}

/* Hash of a frame built from spec with types; expects input length want_len. */
static uint32_t
frame_hash(const struct frame_spec *s, uint32_t types, size_t want_len)
{
	uint8_t f[256], in[XVS_RSS_INPUT_MAX];
	uint32_t len = build_frame(s, f);
	size_t n = frame_input(f, len, types, in);

	if (n != want_len)
		fail_msg("%s -> %s proto %u types 0x%x: input length %zu, expected %zu",
			 s->src != NULL ? s->src : s->v->src, s->dst != NULL ? s->dst : s->v->dst,
			 s->proto, types, n, want_len);
	return xvs_rss_hash(&default_tbl, in, n);
}

/* ---- 1. published vectors ---- */

static void
test_rss_vectors_ref(void **state)
{
	uint8_t in[XVS_RSS_INPUT_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		n = vec_input(&vecs[i], false, false, in);
		assert_int_equal(n, 2 * addr_len(vecs[i].af));
		assert_int_equal(xvs_toeplitz_ref(xvs_rss_default_key, in, n), vecs[i].l3);
		n = vec_input(&vecs[i], true, false, in);
		assert_int_equal(n, 2 * addr_len(vecs[i].af) + 4);
		assert_int_equal(xvs_toeplitz_ref(xvs_rss_default_key, in, n), vecs[i].l4);
	}
}

static void
test_rss_vectors_table(void **state)
{
	uint8_t in[XVS_RSS_INPUT_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		n = vec_input(&vecs[i], false, false, in);
		assert_int_equal(xvs_rss_hash(&default_tbl, in, n), vecs[i].l3);
		n = vec_input(&vecs[i], true, false, in);
		assert_int_equal(xvs_rss_hash(&default_tbl, in, n), vecs[i].l4);
	}
}

/* ---- 2. hash input of frames ---- */

static void
test_rss_input_tcp_vectors(void **state)
{
	uint8_t f[256], in[XVS_RSS_INPUT_MAX], want[XVS_RSS_INPUT_MAX];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		struct frame_spec s = {.v = &vecs[i]};
		uint32_t len = build_frame(&s, f);
		size_t n = frame_input(f, len, XVS_RSS_TYPES_DEFAULT, in);

		assert_int_equal(n, vec_input(&vecs[i], true, false, want));
		/* the input is exactly the bytes of the layout in 1.2 */
		assert_memory_equal(in, want, n);
		assert_int_equal(xvs_rss_hash(&default_tbl, in, n), vecs[i].l4);
	}
}

static void
test_rss_input_udp_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		struct frame_spec s = {.v = &vecs[i], .proto = IPPROTO_UDP};
		size_t n = 2 * addr_len(vecs[i].af) + 4;

		assert_int_equal(frame_hash(&s, XVS_RSS_TYPES_DEFAULT, n), vecs[i].l4);
		assert_int_equal(frame_hash(&s, XVS_RSS_UDP4 | XVS_RSS_UDP6, n), vecs[i].l4);
	}
}

static void
test_rss_input_address_only_types(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		struct frame_spec tcp = {.v = &vecs[i]};
		struct frame_spec udp = {.v = &vecs[i], .proto = IPPROTO_UDP};
		uint32_t l3 = vecs[i].af == AF_INET ? XVS_RSS_IPV4 : XVS_RSS_IPV6;
		size_t n = 2 * addr_len(vecs[i].af);

		assert_int_equal(frame_hash(&tcp, l3, n), vecs[i].l3);
		assert_int_equal(frame_hash(&udp, l3, n), vecs[i].l3);
		/* tcp enabled, udp not: UDP falls back to the addresses */
		assert_int_equal(frame_hash(&udp, l3 | XVS_RSS_TCP4 | XVS_RSS_TCP6, n), vecs[i].l3);
	}
}

static void
test_rss_input_type_not_enabled(void **state)
{
	const struct rss_vec *v4 = &vecs[0], *v6 = &vecs[V6_FIRST];
	struct frame_spec udp4 = {.v = v4, .proto = IPPROTO_UDP};
	struct frame_spec icmp4 = {.v = v4, .proto = IPPROTO_ICMP};
	struct frame_spec tcp4 = {.v = v4};
	struct frame_spec udp6 = {.v = v6, .proto = IPPROTO_UDP};
	struct frame_spec icmp6 = {.v = v6, .proto = IPPROTO_ICMPV6};
	struct frame_spec tcp6 = {.v = v6};

	(void)state;
	frame_hash(&udp4, XVS_RSS_TCP4, 0);
	frame_hash(&icmp4, XVS_RSS_TCP4, 0);
	frame_hash(&tcp4, XVS_RSS_UDP4, 0);
	frame_hash(&udp6, XVS_RSS_TCP6, 0);
	frame_hash(&icmp6, XVS_RSS_TCP6, 0);
	frame_hash(&tcp6, XVS_RSS_UDP6, 0);
	/* IPv6 types do not hash IPv4 and the reverse */
	frame_hash(&tcp4, XVS_RSS_IPV6 | XVS_RSS_TCP6 | XVS_RSS_UDP6, 0);
	frame_hash(&tcp6, XVS_RSS_IPV4 | XVS_RSS_TCP4 | XVS_RSS_UDP4, 0);
	/* ICMP with the address type enabled hashes on the addresses */
	assert_int_equal(frame_hash(&icmp4, XVS_RSS_TYPES_DEFAULT, 8), v4->l3);
	assert_int_equal(frame_hash(&icmp6, XVS_RSS_TYPES_DEFAULT, 32), v6->l3);
	/* the matching type alone works */
	assert_int_equal(frame_hash(&tcp4, XVS_RSS_TCP4, 12), v4->l4);
	assert_int_equal(frame_hash(&udp4, XVS_RSS_UDP4, 12), v4->l4);
	assert_int_equal(frame_hash(&tcp6, XVS_RSS_TCP6, 36), v6->l4);
	assert_int_equal(frame_hash(&udp6, XVS_RSS_UDP6, 36), v6->l4);
}

static void
test_rss_input_ipv4_fragments(void **state)
{
	/* MF; MF + offset; last fragment (offset only); the same with DF set */
	static const uint16_t frag[] = {0x2000, 0x2001, 0x0001, 0x1fff, 0x6000, 0x4010};

	(void)state;
	for (size_t i = 0; i < V6_FIRST; i++) {
		struct frame_spec df = {.v = &vecs[i], .frag = 0x4000};

		for (size_t j = 0; j < ARRAY_SIZE(frag); j++) {
			struct frame_spec s = {.v = &vecs[i], .frag = frag[j]};
			struct frame_spec u = {.v = &vecs[i], .frag = frag[j],
					       .proto = IPPROTO_UDP};

			assert_int_equal(frame_hash(&s, XVS_RSS_TYPES_DEFAULT, 8), vecs[i].l3);
			assert_int_equal(frame_hash(&u, XVS_RSS_TYPES_DEFAULT, 8), vecs[i].l3);
			/* without the address type a fragment is not hashed */
			frame_hash(&s, XVS_RSS_TCP4 | XVS_RSS_UDP4, 0);
		}
		/* DF alone is not a fragment */
		assert_int_equal(frame_hash(&df, XVS_RSS_TYPES_DEFAULT, 12), vecs[i].l4);
	}
}

static void
test_rss_input_ipv4_options(void **state)
{
	(void)state;
	for (size_t i = 0; i < V6_FIRST; i++) {
		struct frame_spec s = {.v = &vecs[i], .ihl = 6};
		struct frame_spec m = {.v = &vecs[i], .ihl = 15};

		assert_int_equal(frame_hash(&s, XVS_RSS_TYPES_DEFAULT, 12), vecs[i].l4);
		assert_int_equal(frame_hash(&m, XVS_RSS_TYPES_DEFAULT, 12), vecs[i].l4);
	}
}

static void
test_rss_input_not_ip(void **state)
{
	struct frame_spec s = {.v = &vecs[0]};
	uint8_t f[256] = {0}, in[XVS_RSS_INPUT_MAX];
	struct xvs_l2 l2;
	uint32_t len;

	(void)state;
	memcpy(f, MAC_DST, 6);
	memcpy(f + 6, MAC_SRC, 6);
	f[12] = 0x08, f[13] = 0x06;   /* ARP request, 28 bytes */
	f[14] = 0x00, f[15] = 0x01, f[16] = 0x08, f[17] = 0x00, f[18] = 6, f[19] = 4;
	f[21] = 1;
	assert_int_equal(frame_input(f, 42, XVS_RSS_TYPES_ALL, in), 0);
	/* an IPv4 header behind a non-IP ethertype is not looked at */
	len = build_frame(&s, f);
	f[12] = 0x88, f[13] = 0xb5;   /* local experimental ethertype */
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	/* no frame or no L2 result */
	f[12] = 0x08, f[13] = 0x00;
	assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
	assert_int_equal(xvs_rss_input(NULL, len, &l2, XVS_RSS_TYPES_ALL, in), 0);
	assert_int_equal(xvs_rss_input(f, len, NULL, XVS_RSS_TYPES_ALL, in), 0);
	assert_int_equal(xvs_rss_input(f, len, &l2, XVS_RSS_TYPES_ALL, in), 12);
	/* no type enabled */
	assert_int_equal(xvs_rss_input(f, len, &l2, 0, in), 0);
}

/* Every prefix of a complete frame is rejected; the copy is exactly len bytes
 * long so a sanitizer build catches any read past it. */
static void
check_truncations(const struct frame_spec *s)
{
	uint8_t f[256], in[XVS_RSS_INPUT_MAX];
	uint32_t full = build_frame(s, f);
	struct xvs_l2 l2;

	assert_int_equal(xvs_parse_l2(f, full, &l2), XVS_PARSE_OK);
	for (uint32_t len = 0; len < full; len++) {
		uint8_t *p = malloc(len > 0 ? len : 1);
		size_t n;

		assert_non_null(p);
		memcpy(p, f, len);
		n = xvs_rss_input(p, len, &l2, XVS_RSS_TYPES_ALL, in);
		free(p);
		if (n != 0)
			fail_msg("frame of %u bytes cut to %u: input length %zu", full, len, n);
	}
}

static void
test_rss_input_truncated(void **state)
{
	static const uint8_t hbh[8] = {IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0};
	struct frame_spec s4 = {.v = &vecs[0]};
	struct frame_spec s4v = {.v = &vecs[0], .vlan = true};
	struct frame_spec s6 = {.v = &vecs[V6_FIRST]};
	struct frame_spec s6u = {.v = &vecs[V6_FIRST], .proto = IPPROTO_UDP};
	struct frame_spec s6h = {.v = &vecs[V6_FIRST], .ext = hbh, .ext_len = 8,
				 .ext_nh = IPPROTO_HOPOPTS};

	(void)state;
	check_truncations(&s4);
	check_truncations(&s4v);
	check_truncations(&s6);
	check_truncations(&s6u);
	check_truncations(&s6h);
}

static void
test_rss_input_malformed(void **state)
{
	const struct rss_vec *v4 = &vecs[0], *v6 = &vecs[V6_FIRST];
	static const uint8_t long_hbh[8] = {IPPROTO_TCP, 3, 1, 4, 0, 0, 0, 0};
	struct frame_spec s4 = {.v = v4}, s6 = {.v = v6};
	struct frame_spec h = {.v = v6, .ext = long_hbh, .ext_len = 8, .ext_nh = IPPROTO_HOPOPTS};
	uint8_t f[256], in[XVS_RSS_INPUT_MAX];
	uint32_t len;

	(void)state;
	/* IPv4: version 5, IHL below 5, total length below the header, total
	 * length past the frame */
	len = build_frame(&s4, f);
	f[14] = 0x55;
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	f[14] = 0x44;
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	f[14] = 0x45, f[16] = 0, f[17] = 19;
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	f[17] = (uint8_t)(len - 14 + 1);
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	/* IHL larger than the total length */
	f[14] = 0x4f, f[17] = 40;
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	/* an IPv6 packet behind the IPv4 ethertype */
	len = build_frame(&s6, f);
	f[12] = 0x08, f[13] = 0x00;
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	/* IPv6: version 4, payload length past the frame */
	len = build_frame(&s6, f);
	f[14] = 0x40;
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	f[14] = 0x60, f[19] = (uint8_t)(f[19] + 1);
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);
	/* IPv6: an extension header longer than the payload */
	len = build_frame(&h, f);
	assert_int_equal(frame_input(f, len, XVS_RSS_TYPES_ALL, in), 0);

	/* A TCP header cut short inside a consistent IP packet carries no
	 * ports: hashed on the addresses, or not at all without that type. */
	len = build_frame(&s4, f);
	f[16] = 0, f[17] = 20 + 8;
	assert_int_equal(frame_input(f, 14 + 28, XVS_RSS_TYPES_DEFAULT, in), 8);
	assert_int_equal(xvs_rss_hash(&default_tbl, in, 8), v4->l3);
	assert_int_equal(frame_input(f, 14 + 28, XVS_RSS_TCP4, in), 0);
	len = build_frame(&s6, f);
	f[18] = 0, f[19] = 8;
	assert_int_equal(frame_input(f, 14 + 48, XVS_RSS_TYPES_DEFAULT, in), 32);
	assert_int_equal(xvs_rss_hash(&default_tbl, in, 32), v6->l3);
	assert_int_equal(frame_input(f, 14 + 48, XVS_RSS_TCP6, in), 0);
}

static void
test_rss_input_vlan(void **state)
{
	uint8_t f[256], in[XVS_RSS_INPUT_MAX];
	struct xvs_l2 l2;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		struct frame_spec s = {.v = &vecs[i], .vlan = true};
		struct frame_spec u = {.v = &vecs[i], .vlan = true, .proto = IPPROTO_UDP};
		uint32_t len = build_frame(&s, f);
		size_t n4 = 2 * addr_len(vecs[i].af) + 4;

		assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
		assert_int_equal(l2.l3_off, 18);
		assert_int_equal(xvs_rss_input(f, len, &l2, XVS_RSS_TYPES_DEFAULT, in), n4);
		assert_int_equal(xvs_rss_hash(&default_tbl, in, n4), vecs[i].l4);
		assert_int_equal(frame_hash(&u, XVS_RSS_TYPES_DEFAULT, n4), vecs[i].l4);
		assert_int_equal(frame_hash(&s, XVS_RSS_IPV4 | XVS_RSS_IPV6, n4 - 4), vecs[i].l3);
	}
}

static void
test_rss_input_ipv6_extension_headers(void **state)
{
	/* hop-by-hop with a PadN, then TCP */
	static const uint8_t hbh[8] = {IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0};
	/* hop-by-hop, then a 16-byte destination options header, then UDP */
	static const uint8_t hbh_dst[24] = {
		IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
		IPPROTO_UDP, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	/* a fragment header (first fragment, M set), then TCP */
	static const uint8_t frag[8] = {IPPROTO_TCP, 0, 0x00, 0x01, 0, 0, 0, 1};

	(void)state;
	for (size_t i = V6_FIRST; i < ARRAY_SIZE(vecs); i++) {
		struct frame_spec h = {.v = &vecs[i], .ext = hbh, .ext_len = 8,
				       .ext_nh = IPPROTO_HOPOPTS};
		struct frame_spec hd = {.v = &vecs[i], .proto = IPPROTO_UDP, .ext = hbh_dst,
					.ext_len = 24, .ext_nh = IPPROTO_HOPOPTS};
		struct frame_spec fr = {.v = &vecs[i], .ext = frag, .ext_len = 8,
					.ext_nh = IPPROTO_FRAGMENT};

		assert_int_equal(frame_hash(&h, XVS_RSS_TYPES_DEFAULT, 36), vecs[i].l4);
		assert_int_equal(frame_hash(&hd, XVS_RSS_TYPES_DEFAULT, 36), vecs[i].l4);
		/* fragments hash on the addresses only */
		assert_int_equal(frame_hash(&fr, XVS_RSS_TYPES_DEFAULT, 32), vecs[i].l3);
		frame_hash(&fr, XVS_RSS_TCP6 | XVS_RSS_UDP6, 0);
	}
}

/* Destination options header carrying a Home Address option (RFC 6275 6.3:
 * type 0xc9, length 16, aligned 8n+6 by a PadN), next header nh. */
static void
put_home_address_opt(uint8_t d[24], uint8_t nh, const char *home)
{
	memset(d, 0, 24);
	d[0] = nh;
	d[1] = 2;                 /* (2 + 1) * 8 = 24 bytes */
	d[2] = 1, d[3] = 2;       /* PadN, 2 bytes */
	d[6] = 0xc9, d[7] = 16;   /* Home Address */
	addr_parse(AF_INET6, home, d + 8);
}

/* Type 2 routing header (RFC 6275 6.4), one segment left, next header nh. */
static void
put_type2_routing(uint8_t r[24], uint8_t nh, const char *home)
{
	memset(r, 0, 24);
	r[0] = nh;
	r[1] = 2;     /* 24 bytes */
	r[2] = 2;     /* routing type 2 */
	r[3] = 1;     /* segments left */
	addr_parse(AF_INET6, home, r + 8);
}

#define TYPES_EX (XVS_RSS_TYPES_DEFAULT | XVS_RSS_IPV6_EX | XVS_RSS_TCP6_EX | XVS_RSS_UDP6_EX)

static void
test_rss_input_ipv6_home_address_option(void **state)
{
	const char *care_of = "2001:db8:99::7";
	uint8_t d[24], in[XVS_RSS_INPUT_MAX];

	(void)state;
	for (size_t i = V6_FIRST; i < ARRAY_SIZE(vecs); i++) {
		const struct rss_vec *v = &vecs[i];
		struct frame_spec s = {.v = v, .ext = d, .ext_len = 24, .ext_nh = IPPROTO_DSTOPTS,
				       .src = care_of};
		struct rss_vec own = *v;
		uint32_t h;

		/* The mobile node sends from its care-of address; the vector's
		 * source is its home address, in the option. */
		put_home_address_opt(d, IPPROTO_TCP, v->src);
		assert_int_equal(frame_hash(&s, TYPES_EX, 36), v->l4);
		assert_int_equal(frame_hash(&s, XVS_RSS_TCP6_EX, 36), v->l4);
		assert_int_equal(frame_hash(&s, XVS_RSS_IPV6_EX, 32), v->l3);

		/* Without an "ex" type the option is ignored: the header's own
		 * addresses are hashed. */
		own.src = care_of;
		h = frame_hash(&s, XVS_RSS_TYPES_DEFAULT, 36);
		assert_int_equal(h, xvs_toeplitz_ref(xvs_rss_default_key, in,
						     vec_input(&own, true, false, in)));
		assert_int_not_equal(h, v->l4);
		h = frame_hash(&s, XVS_RSS_IPV6, 32);
		assert_int_equal(h, xvs_toeplitz_ref(xvs_rss_default_key, in,
						     vec_input(&own, false, false, in)));

		put_home_address_opt(d, IPPROTO_UDP, v->src);
		s.proto = IPPROTO_UDP;
		assert_int_equal(frame_hash(&s, TYPES_EX, 36), v->l4);
		assert_int_equal(frame_hash(&s, XVS_RSS_UDP6_EX, 36), v->l4);
		/* tcp6-ex does not cover UDP: only ipv6-ex remains */
		assert_int_equal(frame_hash(&s, XVS_RSS_TCP6_EX | XVS_RSS_IPV6_EX, 32), v->l3);
	}
}

static void
test_rss_input_ipv6_type2_routing_header(void **state)
{
	const char *care_of = "2001:db8:77::1";
	uint8_t r[24], both[48], in[XVS_RSS_INPUT_MAX];

	(void)state;
	for (size_t i = V6_FIRST; i < ARRAY_SIZE(vecs); i++) {
		const struct rss_vec *v = &vecs[i];
		struct frame_spec s = {.v = v, .ext = r, .ext_len = 24, .ext_nh = IPPROTO_ROUTING,
				       .dst = care_of};
		struct frame_spec b = {.v = v, .ext = both, .ext_len = 48,
				       .ext_nh = IPPROTO_ROUTING, .src = "2001:db8:99::7",
				       .dst = care_of};
		struct rss_vec own = *v;
		uint32_t h;

		/* A correspondent sends to the mobile node's care-of address; its
		 * home address, the vector's destination, is in the header. */
		put_type2_routing(r, IPPROTO_TCP, v->dst);
		assert_int_equal(frame_hash(&s, TYPES_EX, 36), v->l4);
		assert_int_equal(frame_hash(&s, XVS_RSS_IPV6_EX, 32), v->l3);
		own.dst = care_of;
		h = frame_hash(&s, XVS_RSS_TYPES_DEFAULT, 36);
		assert_int_equal(h, xvs_toeplitz_ref(xvs_rss_default_key, in,
						     vec_input(&own, true, false, in)));
		assert_int_not_equal(h, v->l4);

		/* Both headers: routing, then destination options, then TCP. */
		put_type2_routing(both, IPPROTO_DSTOPTS, v->dst);
		put_home_address_opt(both + 24, IPPROTO_TCP, v->src);
		assert_int_equal(frame_hash(&b, TYPES_EX, 36), v->l4);
		assert_int_equal(frame_hash(&b, XVS_RSS_IPV6_EX, 32), v->l3);
	}
}

/* ---- 3. indirection table ---- */

static void
test_rss_reta_vectors(void **state)
{
	/* acceptance-vectors.md 1.4: index, queue for Q=4, queue for Q=6 */
	static const uint8_t want[][3] = {
		{120, 0, 0}, {106, 2, 4}, {74, 2, 2}, {127, 3, 1},
		{34, 2, 4},  {61, 1, 1},  {63, 3, 3}, {111, 3, 3},
	};
	uint16_t reta4[XVS_RSS_RETA_DEFAULT], reta6[XVS_RSS_RETA_DEFAULT];

	(void)state;
	xvs_rss_reta_fill(reta4, XVS_RSS_RETA_DEFAULT, 4);
	xvs_rss_reta_fill(reta6, XVS_RSS_RETA_DEFAULT, 6);
	for (uint32_t i = 0; i < XVS_RSS_RETA_DEFAULT; i++) {
		assert_int_equal(reta4[i], i % 4);
		assert_int_equal(reta6[i], i % 6);
	}
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		uint32_t idx = xvs_rss_reta_index(vecs[i].l4, XVS_RSS_RETA_DEFAULT);

		assert_int_equal(idx, want[i][0]);
		assert_int_equal(reta4[idx], want[i][1]);
		assert_int_equal(reta6[idx], want[i][2]);
	}
}

static void
test_rss_reta_sizes(void **state)
{
	uint16_t reta[XVS_RSS_RETA_MAX + 1];

	(void)state;
	/* the table is written up to size and no further */
	reta[XVS_RSS_RETA_MAX] = 0xbeef;
	xvs_rss_reta_fill(reta, XVS_RSS_RETA_MAX, 7);
	for (uint32_t i = 0; i < XVS_RSS_RETA_MAX; i++)
		assert_int_equal(reta[i], i % 7);
	assert_int_equal(reta[XVS_RSS_RETA_MAX], 0xbeef);
	xvs_rss_reta_fill(reta, 1, 5);
	assert_int_equal(reta[0], 0);
	assert_int_equal(reta[1], 1);   /* left from the fill above */
	xvs_rss_reta_fill(reta, 16, 1);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(reta[i], 0);
	/* more queues than entries: the first size queues */
	xvs_rss_reta_fill(reta, 4, 16);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(reta[i], i);

	assert_int_equal(xvs_rss_reta_index(0xffffffff, 1), 0);
	assert_int_equal(xvs_rss_reta_index(0xffffffff, 512), 511);
	assert_int_equal(xvs_rss_reta_index(0x12345678, 512), 0x078);
	assert_int_equal(xvs_rss_reta_index(0x12345678, 64), 0x38);
}

/* ---- 4. properties ---- */

static void
test_rss_zero_input_hashes_to_zero(void **state)
{
	static struct xvs_rss_table tbl;
	uint8_t zero[XVS_RSS_INPUT_MAX] = {0}, key[XVS_RSS_KEY_LEN];

	(void)state;
	rng_state = 0x2545f4914f6cdd1dULL;
	for (int k = 0; k < 4; k++) {
		if (k == 0)
			memcpy(key, xvs_rss_default_key, sizeof(key));
		else if (k == 1)
			memset(key, 0xff, sizeof(key));
		else
			rnd_bytes(key, sizeof(key));
		xvs_rss_table_init(&tbl, key);
		for (size_t n = 0; n <= XVS_RSS_INPUT_MAX; n++) {
			assert_int_equal(xvs_toeplitz_ref(key, zero, n), 0);
			assert_int_equal(xvs_rss_hash(&tbl, zero, n), 0);
		}
	}
}

static void
test_rss_symmetric_key(void **state)
{
	static struct xvs_rss_table tbl;
	uint8_t key[XVS_RSS_KEY_LEN], fwd[XVS_RSS_INPUT_MAX], rev[XVS_RSS_INPUT_MAX];
	size_t n;

	(void)state;
	for (int i = 0; i < XVS_RSS_KEY_LEN; i += 2)
		key[i] = 0x6d, key[i + 1] = 0x5a;
	xvs_rss_table_init(&tbl, key);

	n = vec_input(&vecs[0], true, false, fwd);
	vec_input(&vecs[0], true, true, rev);
	assert_int_equal(xvs_toeplitz_ref(key, fwd, n), 0x9fcc9fcc);
	assert_int_equal(xvs_toeplitz_ref(key, rev, n), 0x9fcc9fcc);
	assert_int_equal(xvs_rss_hash(&tbl, fwd, n), 0x9fcc9fcc);
	assert_int_equal(xvs_rss_hash(&tbl, rev, n), 0x9fcc9fcc);

	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		for (int ports = 0; ports <= 1; ports++) {
			uint32_t h;

			n = vec_input(&vecs[i], ports, false, fwd);
			vec_input(&vecs[i], ports, true, rev);
			assert_memory_not_equal(fwd, rev, n);
			h = xvs_toeplitz_ref(key, fwd, n);
			assert_int_equal(xvs_toeplitz_ref(key, rev, n), h);
			assert_int_equal(xvs_rss_hash(&tbl, fwd, n), h);
			assert_int_equal(xvs_rss_hash(&tbl, rev, n), h);
		}
	}
}

#define DIST_N 100000

/* Chi-square critical values at p = 0.01 for Q - 1 degrees of freedom. */
static double
chi2_crit_001(unsigned int df)
{
	switch (df) {
	case 1:
		return 6.635;
	case 2:
		return 9.210;
	case 3:
		return 11.345;
	case 7:
		return 18.475;
	case 127:
		return 166.987;
	}
	fail_msg("no critical value for %u degrees of freedom", df);
	return 0;
}

/* Chi-square of counts[0..k) against expected shares want[i] / total. */
static double
chi2_stat(const uint32_t *counts, const uint32_t *want, uint32_t total, unsigned int k)
{
	double x = 0;

	for (unsigned int i = 0; i < k; i++) {
		double e = (double)DIST_N * want[i] / total, d = counts[i] - e;

		x += d * d / e;
	}
	return x;
}

static void
test_rss_distribution(void **state)
{
	static const uint16_t queues[] = {2, 3, 4, 8};
	uint32_t *idx = malloc(sizeof(*idx) * DIST_N);
	uint32_t entry_count[XVS_RSS_RETA_DEFAULT] = {0}, ones[XVS_RSS_RETA_DEFAULT];
	uint16_t reta[XVS_RSS_RETA_DEFAULT];
	uint8_t in[12];
	double x;

	(void)state;
	assert_non_null(idx);
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (uint32_t i = 0; i < DIST_N; i++) {
		rnd_bytes(in, sizeof(in));
		idx[i] = xvs_rss_reta_index(xvs_rss_hash(&default_tbl, in, sizeof(in)),
					    XVS_RSS_RETA_DEFAULT);
		entry_count[idx[i]]++;
	}
	/* the RETA index alone is uniform over the 128 entries */
	for (uint32_t e = 0; e < XVS_RSS_RETA_DEFAULT; e++)
		ones[e] = 1;
	x = chi2_stat(entry_count, ones, XVS_RSS_RETA_DEFAULT, XVS_RSS_RETA_DEFAULT);

	if (x > chi2_crit_001(XVS_RSS_RETA_DEFAULT - 1))
		fail_msg("128 entries: chi-square %.2f", x);

	for (size_t qi = 0; qi < ARRAY_SIZE(queues); qi++) {
		uint16_t q = queues[qi];
		uint32_t count[8] = {0}, entries[8] = {0};

		xvs_rss_reta_fill(reta, XVS_RSS_RETA_DEFAULT, q);
		for (uint32_t e = 0; e < XVS_RSS_RETA_DEFAULT; e++)
			entries[reta[e]]++;
		for (uint32_t i = 0; i < DIST_N; i++)
			count[reta[idx[i]]]++;
		for (uint16_t j = 0; j < q; j++) {
			double share = (double)count[j] / DIST_N;

			if (fabs(share - 1.0 / q) > 0.05 / q)
				fail_msg("Q=%u: queue %u got %.4f of the packets", q, j, share);
		}
		/* Expected counts follow the table: 128 entries over 3 queues are
		 * 43/43/42, so 1/Q itself is not the null hypothesis there. */
		x = chi2_stat(count, entries, XVS_RSS_RETA_DEFAULT, q);
		if (x > chi2_crit_001(q - 1u))
			fail_msg("Q=%u: chi-square %.2f above %.3f", q, x, chi2_crit_001(q - 1u));
	}
	free(idx);
}

static void
test_rss_table_matches_ref_random(void **state)
{
	static struct xvs_rss_table tbl;
	uint8_t key[XVS_RSS_KEY_LEN], in[XVS_RSS_INPUT_MAX];

	(void)state;
	rng_state = 0xd1b54a32d192ed03ULL;
	/* 100 random keys x 100 random inputs of random length 0..36 */
	for (int k = 0; k < 100; k++) {
		rnd_bytes(key, sizeof(key));
		xvs_rss_table_init(&tbl, key);
		for (int i = 0; i < 100; i++) {
			size_t n = rnd(XVS_RSS_INPUT_MAX + 1);
			uint32_t ref, got;

			rnd_bytes(in, n);
			ref = xvs_toeplitz_ref(key, in, n);
			got = xvs_rss_hash(&tbl, in, n);
			if (ref != got)
				fail_msg("key %d input %d (%zu bytes): table 0x%08x, ref 0x%08x", k,
					 i, n, got, ref);
		}
	}
}

static void
test_rss_hash_linear(void **state)
{
	uint8_t a[XVS_RSS_INPUT_MAX], b[XVS_RSS_INPUT_MAX], x[XVS_RSS_INPUT_MAX];

	(void)state;
	/* Toeplitz is linear over GF(2): h(a ^ b) == h(a) ^ h(b); and a single
	 * bit at position p selects the key window starting at bit p. */
	rng_state = 0x853c49e6748fea9bULL;
	for (int i = 0; i < 1000; i++) {
		rnd_bytes(a, sizeof(a));
		rnd_bytes(b, sizeof(b));
		for (size_t j = 0; j < sizeof(x); j++)
			x[j] = a[j] ^ b[j];
		assert_int_equal(xvs_rss_hash(&default_tbl, x, sizeof(x)),
				 xvs_rss_hash(&default_tbl, a, sizeof(a)) ^
					 xvs_rss_hash(&default_tbl, b, sizeof(b)));
	}
	memset(x, 0, sizeof(x));
	x[0] = 0x80;
	assert_int_equal(xvs_rss_hash(&default_tbl, x, 1), 0x6d5a56da);
	x[0] = 0x01;
	assert_int_equal(xvs_rss_hash(&default_tbl, x, 1), 0xad2b6d12); /* key bits 7..38 */
	x[0] = 0, x[35] = 0x01;
	/* the last input bit uses key bits 287..318: the last 4 bytes shifted */
	assert_int_equal(xvs_rss_hash(&default_tbl, x, 36),
			 xvs_toeplitz_ref(xvs_rss_default_key, x, 36));
	assert_int_equal(xvs_rss_hash(&default_tbl, x, 36), 0xdf5600fd);
}

/* ---- 5. settings ---- */

static const char DEFAULT_KEY_HEX[] =
	"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa";

static void
test_rss_cfg_init_defaults(void **state)
{
	struct xvs_rss_cfg cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	xvs_rss_cfg_init(&cfg);
	assert_true(cfg.enabled);
	assert_int_equal(cfg.base_cpu, -1);
	assert_int_equal(cfg.max_cpu, -1);
	assert_int_equal(cfg.max_cpus, 0);
	assert_int_equal(cfg.queues, 0);
	assert_int_equal(cfg.reta_size, 128);
	assert_int_equal(cfg.profile, XVS_RSS_CONSERVATIVE);
	assert_int_equal(cfg.types, XVS_RSS_TYPES_DEFAULT);
	assert_memory_equal(cfg.key, xvs_rss_default_key, XVS_RSS_KEY_LEN);
}

static void
test_rss_key_parse_format(void **state)
{
	char buf[2 * XVS_RSS_KEY_LEN + 1], sep[3 * XVS_RSS_KEY_LEN];
	uint8_t key[XVS_RSS_KEY_LEN], rkey[XVS_RSS_KEY_LEN];
	struct xvs_err err;

	(void)state;
	xvs_rss_key_format(xvs_rss_default_key, buf);
	assert_string_equal(buf, DEFAULT_KEY_HEX);
	xvs_err_clear(&err);
	assert_int_equal(xvs_rss_key_parse("rss-key", buf, key, &err), 0);
	assert_memory_equal(key, xvs_rss_default_key, XVS_RSS_KEY_LEN);

	/* ':' and '-' between bytes, upper case */
	for (int s = 0; s < 2; s++) {
		size_t o = 0;

		for (int i = 0; i < XVS_RSS_KEY_LEN; i++) {
			if (i > 0)
				sep[o++] = s == 0 ? ':' : '-';
			sep[o++] = DEFAULT_KEY_HEX[2 * i];
			sep[o++] = DEFAULT_KEY_HEX[2 * i + 1];
		}
		sep[o] = '\0';
		memset(key, 0, sizeof(key));
		assert_int_equal(xvs_rss_key_parse("rss-key", sep, key, &err), 0);
		assert_memory_equal(key, xvs_rss_default_key, XVS_RSS_KEY_LEN);
	}
	assert_int_equal(xvs_rss_key_parse("rss-key",
					   "6D5A56DA255B0EC24167253D43A38FB0D0CA2BCBAE7B30B4"
					   "77CB2DA38030F20C6A42B73BBEAC01FA", key, &err), 0);
	assert_memory_equal(key, xvs_rss_default_key, XVS_RSS_KEY_LEN);

	/* random keys round trip */
	rng_state = 0x5851f42d4c957f2dULL;
	for (int i = 0; i < 100; i++) {
		rnd_bytes(rkey, sizeof(rkey));
		xvs_rss_key_format(rkey, buf);
		assert_int_equal(strlen(buf), 2 * XVS_RSS_KEY_LEN);
		assert_int_equal(xvs_rss_key_parse("rss-key", buf, key, &err), 0);
		assert_memory_equal(key, rkey, XVS_RSS_KEY_LEN);
	}
}

static void
test_rss_key_parse_invalid(void **state)
{
	char s41[96], s79[96], sg[96], slead[96], sspace[96], s0x[96];
	const char *bad[] = {"", DEFAULT_KEY_HEX + 2, s41, s79, sg, slead, sspace, s0x};
	uint8_t key[XVS_RSS_KEY_LEN], before[XVS_RSS_KEY_LEN];
	struct xvs_err err;
	size_t nb = ARRAY_SIZE(bad);

	(void)state;
	/* bad[1] is 39 bytes */
	snprintf(s41, sizeof(s41), "%s00", DEFAULT_KEY_HEX);          /* 41 bytes */
	snprintf(s79, sizeof(s79), "%.79s", DEFAULT_KEY_HEX);         /* 79 digits */
	snprintf(sg, sizeof(sg), "%.79sg", DEFAULT_KEY_HEX);          /* not hex */
	snprintf(slead, sizeof(slead), ":%s", DEFAULT_KEY_HEX);       /* separator first */
	snprintf(sspace, sizeof(sspace), "%.2s %s", DEFAULT_KEY_HEX, DEFAULT_KEY_HEX + 2);
	snprintf(s0x, sizeof(s0x), "0x%s", DEFAULT_KEY_HEX + 2);      /* 0x prefix */

	memset(before, 0x11, sizeof(before));
	for (size_t i = 0; i < nb; i++) {
		memcpy(key, before, sizeof(key));
		xvs_err_clear(&err);
		if (xvs_rss_key_parse("rss-key", bad[i], key, &err) != -EINVAL)
			fail_msg("key \"%s\" accepted", bad[i]);
		assert_int_equal(err.code, -EINVAL);
		assert_true(strlen(err.msg) > 0);
		assert_non_null(strstr(err.msg, "rss-key"));
		assert_memory_equal(key, before, sizeof(key));
	}
	xvs_err_clear(&err);
	assert_int_equal(xvs_rss_key_parse("rss-key", NULL, key, &err), -EINVAL);
	assert_true(strlen(err.msg) > 0);
	assert_memory_equal(key, before, sizeof(key));
	/* the count of bytes given is in the message */
	assert_int_equal(xvs_rss_key_parse("rss-key", "6d5a", key, &err), -EINVAL);
	assert_string_equal(err.msg, "rss-key: 2 bytes given, the key has 40");
	/* err may be NULL */
	assert_int_equal(xvs_rss_key_parse("rss-key", "zz", key, NULL), -EINVAL);
	assert_memory_equal(key, before, sizeof(key));
}

static void
test_rss_types_parse_format(void **state)
{
	char buf[128];
	uint32_t t;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_rss_types_format(XVS_RSS_TYPES_DEFAULT, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ipv4,tcp4,udp4,ipv6,tcp6,udp6");
	assert_int_equal(xvs_rss_types_format(XVS_RSS_TYPES_ALL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ipv4,tcp4,udp4,ipv6,tcp6,udp6,ipv6-ex,tcp6-ex,udp6-ex");
	assert_int_equal(xvs_rss_types_parse("rss-types", "udp6-ex,ipv4", &t, &err), 0);
	assert_int_equal(t, XVS_RSS_UDP6_EX | XVS_RSS_IPV4);
	assert_int_equal(xvs_rss_types_parse("rss-types", "tcp4", &t, &err), 0);
	assert_int_equal(t, XVS_RSS_TCP4);

	/* every non-empty set round trips */
	for (uint32_t set = 1; set <= XVS_RSS_TYPES_ALL; set++) {
		assert_int_equal(xvs_rss_types_format(set, buf, sizeof(buf)), 0);
		t = 0;
		if (xvs_rss_types_parse("rss-types", buf, &t, &err) != 0)
			fail_msg("\"%s\": %s", buf, err.msg);
		assert_int_equal(t, set);
	}
	/* too small a buffer */
	assert_int_equal(xvs_rss_types_format(XVS_RSS_IPV4 | XVS_RSS_TCP4, buf, 9), -ENOSPC);
	assert_int_equal(xvs_rss_types_format(XVS_RSS_IPV4 | XVS_RSS_TCP4, buf, 10), 0);
	assert_string_equal(buf, "ipv4,tcp4");
	assert_int_equal(xvs_rss_types_format(XVS_RSS_IPV4, buf, 0), -ENOSPC);
}

static void
test_rss_types_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "tcp5", "ipv4,tcp", "IPV4", "ipv4 ,tcp4", "ipv4,,tcp4", ",", "ipv4;tcp4",
	};
	uint32_t t;
	struct xvs_err err;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		t = 0x5a5a;
		xvs_err_clear(&err);
		if (xvs_rss_types_parse("rss-types", bad[i], &t, &err) != -EINVAL)
			fail_msg("types \"%s\" accepted", bad[i]);
		assert_int_equal(err.code, -EINVAL);
		assert_non_null(strstr(err.msg, "rss-types"));
		assert_int_equal(t, 0x5a5a);
	}
	assert_int_equal(xvs_rss_types_parse("rss-types", NULL, &t, &err), -EINVAL);
	assert_int_equal(t, 0x5a5a);
	assert_int_equal(xvs_rss_types_parse("rss-types", "tcp5,ipv4", &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\"tcp5\""));
	assert_int_equal(xvs_rss_types_parse("rss-types", "", &t, &err), -EINVAL);
	assert_string_equal(err.msg, "rss-types: at least one hash type is needed");
}

static void
test_rss_profile_parse(void **state)
{
	static const char *const names[] = {"closest", "static", "conservative"};
	enum xvs_rss_profile p;
	struct xvs_err err;

	(void)state;
	for (int i = 0; i < XVS_RSS_PROFILE__MAX; i++) {
		p = XVS_RSS_PROFILE__MAX;
		assert_int_equal(xvs_rss_profile_parse("rss-profile", names[i], &p, &err), 0);
		assert_int_equal(p, i);
		assert_string_equal(xvs_rss_profile_name(p), names[i]);
	}
	p = XVS_RSS_STATIC;
	xvs_err_clear(&err);
	assert_int_equal(xvs_rss_profile_parse("rss-profile", "fastest", &p, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_non_null(strstr(err.msg, "fastest"));
	assert_int_equal(p, XVS_RSS_STATIC);
	assert_int_equal(xvs_rss_profile_parse("rss-profile", "Closest", &p, &err), -EINVAL);
	assert_int_equal(xvs_rss_profile_parse("rss-profile", "", &p, &err), -EINVAL);
	assert_int_equal(xvs_rss_profile_parse("rss-profile", NULL, &p, &err), -EINVAL);
	assert_int_equal(p, XVS_RSS_STATIC);
	assert_string_equal(xvs_rss_profile_name(XVS_RSS_PROFILE__MAX), "?");
}

/* Port-level keys through config.c. */
static void
port_set(struct xvs_port_cfg *cfg, const char *key, const char *value, int rc)
{
	struct xvs_port_cfg before = *cfg;
	struct xvs_err err;

	xvs_err_clear(&err);
	if (xvs_port_cfg_set(cfg, key, value, &err) != rc)
		fail_msg("%s=%s: expected %d, message \"%s\"", key, value, rc, err.msg);
	if (rc < 0) {
		assert_int_equal(err.code, rc);
		assert_true(strlen(err.msg) > 0);
		assert_non_null(strstr(err.msg, key));
		/* a rejected value changes nothing */
		assert_memory_equal(&before, cfg, sizeof(before));
	}
}

static void
port_get(const struct xvs_port_cfg *cfg, const char *key, const char *value)
{
	char buf[256];

	assert_int_equal(xvs_port_cfg_get(cfg, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, value);
}

static void
new_port(struct xvs_port_cfg *cfg)
{
	/* zeroed first so memcmp of the whole struct is meaningful */
	memset(cfg, 0, sizeof(*cfg));
	xvs_port_cfg_init(cfg, "vm1", XVS_PORT_VHOST);
	port_set(cfg, "path", "/tmp/vm1.sock", 0);
}

static void
test_rss_port_keys_defaults(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_rss_cfg def;
	char buf[16];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_VHOST);
	xvs_rss_cfg_init(&def);
	assert_memory_equal(&cfg.rss, &def, sizeof(def));
	port_set(&cfg, "path", "/tmp/vm1.sock", 0);
	port_get(&cfg, "rss", "true");
	port_get(&cfg, "rss-base-cpu", "auto");
	port_get(&cfg, "rss-max-cpu", "auto");
	port_get(&cfg, "rss-max-cpus", "all");
	port_get(&cfg, "rss-queues", "all");
	port_get(&cfg, "rss-profile", "conservative");
	port_get(&cfg, "rss-types", "ipv4,tcp4,udp4,ipv6,tcp6,udp6");
	port_get(&cfg, "rss-key", DEFAULT_KEY_HEX);
	port_get(&cfg, "rss-reta-size", "128");
	assert_int_equal(xvs_port_cfg_get(&cfg, "rss-key", buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(xvs_port_cfg_validate(&cfg, NULL), 0);
}

static void
test_rss_port_keys_set(void **state)
{
	struct xvs_port_cfg cfg;
	char num[8];

	(void)state;
	new_port(&cfg);
	port_set(&cfg, "rss", "false", 0);
	port_get(&cfg, "rss", "false");
	assert_false(cfg.rss.enabled);
	port_set(&cfg, "rss", "maybe", -EINVAL);
	port_set(&cfg, "rss", "true", 0);
	assert_true(cfg.rss.enabled);

	port_set(&cfg, "rss-base-cpu", "3", 0);
	port_get(&cfg, "rss-base-cpu", "3");
	assert_int_equal(cfg.rss.base_cpu, 3);
	port_set(&cfg, "rss-base-cpu", "0", 0);
	port_get(&cfg, "rss-base-cpu", "0");
	port_set(&cfg, "rss-base-cpu", "1023", 0);
	port_set(&cfg, "rss-base-cpu", "1024", -EINVAL);
	port_set(&cfg, "rss-base-cpu", "-2", -EINVAL);
	port_set(&cfg, "rss-base-cpu", "two", -EINVAL);
	port_set(&cfg, "rss-base-cpu", "", -EINVAL);
	port_set(&cfg, "rss-base-cpu", "auto", 0);
	port_get(&cfg, "rss-base-cpu", "auto");
	assert_int_equal(cfg.rss.base_cpu, -1);

	port_set(&cfg, "rss-max-cpu", "7", 0);
	port_get(&cfg, "rss-max-cpu", "7");
	assert_int_equal(cfg.rss.max_cpu, 7);
	port_set(&cfg, "rss-max-cpu", "99999", -EINVAL);
	port_set(&cfg, "rss-max-cpu", "auto", 0);
	assert_int_equal(cfg.rss.max_cpu, -1);

	for (int n = 1; n <= 16; n++) {
		snprintf(num, sizeof(num), "%d", n);
		port_set(&cfg, "rss-max-cpus", num, 0);
		port_get(&cfg, "rss-max-cpus", num);
		assert_int_equal(cfg.rss.max_cpus, n);
		port_set(&cfg, "rss-queues", num, 0);
		port_get(&cfg, "rss-queues", num);
		assert_int_equal(cfg.rss.queues, n);
	}
	port_set(&cfg, "rss-max-cpus", "17", -EINVAL);
	port_set(&cfg, "rss-max-cpus", "-1", -EINVAL);
	port_set(&cfg, "rss-max-cpus", "all", 0);
	port_get(&cfg, "rss-max-cpus", "all");
	assert_int_equal(cfg.rss.max_cpus, 0);
	port_set(&cfg, "rss-queues", "17", -EINVAL);
	port_set(&cfg, "rss-queues", "many", -EINVAL);
	port_set(&cfg, "rss-queues", "all", 0);
	port_get(&cfg, "rss-queues", "all");
	assert_int_equal(cfg.rss.queues, 0);

	for (unsigned int n = 1; n <= XVS_RSS_RETA_MAX; n *= 2) {
		snprintf(num, sizeof(num), "%u", n);
		port_set(&cfg, "rss-reta-size", num, 0);
		port_get(&cfg, "rss-reta-size", num);
		assert_int_equal(cfg.rss.reta_size, n);
	}
	port_set(&cfg, "rss-reta-size", "3", -EINVAL);
	port_set(&cfg, "rss-reta-size", "0", -EINVAL);
	port_set(&cfg, "rss-reta-size", "1024", -EINVAL);
	port_set(&cfg, "rss-reta-size", "96", -EINVAL);
	port_set(&cfg, "rss-reta-size", "513", -EINVAL);
	assert_int_equal(cfg.rss.reta_size, XVS_RSS_RETA_MAX);

	port_set(&cfg, "rss-profile", "static", 0);
	port_get(&cfg, "rss-profile", "static");
	port_set(&cfg, "rss-profile", "eager", -EINVAL);
	port_set(&cfg, "rss-types", "tcp4,udp6-ex", 0);
	port_get(&cfg, "rss-types", "tcp4,udp6-ex");
	port_set(&cfg, "rss-types", "", -EINVAL);
	port_set(&cfg, "rss-types", "sctp4", -EINVAL);
	port_set(&cfg, "rss-key",
		 "6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:"
		 "6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a:6d:5a", 0);
	port_get(&cfg, "rss-key",
		 "6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a"
		 "6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a");
	port_set(&cfg, "rss-key", "6d5a", -EINVAL);
	port_set(&cfg, "rss-key", DEFAULT_KEY_HEX, 0);
	assert_memory_equal(cfg.rss.key, xvs_rss_default_key, XVS_RSS_KEY_LEN);
}

static void
test_rss_port_validate(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_err err;

	(void)state;
	new_port(&cfg);
	port_set(&cfg, "queues", "4", 0);
	port_set(&cfg, "rss-queues", "4", 0);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
	/* each key alone is fine; the pair is checked by validate */
	port_set(&cfg, "rss-queues", "5", 0);
	xvs_err_clear(&err);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port vm1"));
	assert_non_null(strstr(err.msg, "rss-queues 5"));
	port_set(&cfg, "rss-queues", "all", 0);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);

	port_set(&cfg, "rss-base-cpu", "4", 0);
	port_set(&cfg, "rss-max-cpu", "3", 0);
	xvs_err_clear(&err);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "port vm1: rss-max-cpu 3 is below rss-base-cpu 4");
	port_set(&cfg, "rss-max-cpu", "4", 0);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
	/* auto on either side has no order to break */
	port_set(&cfg, "rss-max-cpu", "0", 0);
	port_set(&cfg, "rss-base-cpu", "auto", 0);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
}

/* ---- 6. worker selection ---- */

static void
select_expect(const struct xvs_rss_cfg *cfg, const uint16_t *cpus, uint16_t n,
	      const uint16_t *want, int nwant)
{
	uint16_t out[16];
	struct xvs_err err;
	int k;

	memset(out, 0xff, sizeof(out));
	xvs_err_clear(&err);
	k = xvs_rss_select(cfg, cpus, n, out, &err);
	if (k != nwant)
		fail_msg("selected %d workers, expected %d (%s)", k, nwant, err.msg);
	assert_memory_equal(out, want, sizeof(out[0]) * (size_t)nwant);
	/* nothing written past the selection */
	for (int i = nwant; i < 16; i++)
		assert_int_equal(out[i], 0xffff);
}

static const uint16_t four_cpus[] = {1, 1, 2, 3};   /* CPU of worker 0..3 */

static void
test_rss_select_default(void **state)
{
	static const uint16_t all[] = {0, 1, 2, 3};
	struct xvs_rss_cfg cfg;

	(void)state;
	xvs_rss_cfg_init(&cfg);
	select_expect(&cfg, four_cpus, 4, all, 4);
	cfg.base_cpu = 1;
	select_expect(&cfg, four_cpus, 4, all, 4);
	cfg.max_cpus = 16;
	select_expect(&cfg, four_cpus, 4, all, 4);
}

static void
test_rss_select_base_cpu(void **state)
{
	static const uint16_t want[] = {2, 3};
	struct xvs_rss_cfg cfg;
	uint16_t out[4];
	struct xvs_err err;

	(void)state;
	xvs_rss_cfg_init(&cfg);
	cfg.base_cpu = 2;
	select_expect(&cfg, four_cpus, 4, want, 2);
	cfg.base_cpu = 3;
	select_expect(&cfg, four_cpus, 4, want + 1, 1);

	/* a CPU without a worker, above and below the workers' */
	cfg.base_cpu = 5;
	xvs_err_clear(&err);
	assert_int_equal(xvs_rss_select(&cfg, four_cpus, 4, out, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_non_null(strstr(err.msg, "base-cpu 5"));
	assert_non_null(strstr(err.msg, "1,1,2,3"));
	cfg.base_cpu = 0;
	assert_int_equal(xvs_rss_select(&cfg, four_cpus, 4, out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "base-cpu 0"));
	/* no worker at all */
	xvs_rss_cfg_init(&cfg);
	xvs_err_clear(&err);
	assert_int_equal(xvs_rss_select(&cfg, four_cpus, 0, out, &err), -EINVAL);
	assert_true(strlen(err.msg) > 0);
}

static void
test_rss_select_max_cpus(void **state)
{
	static const uint16_t want[] = {0, 1, 2};
	struct xvs_rss_cfg cfg;

	(void)state;
	xvs_rss_cfg_init(&cfg);
	cfg.max_cpus = 1;
	select_expect(&cfg, four_cpus, 4, want, 1);
	cfg.max_cpus = 3;
	select_expect(&cfg, four_cpus, 4, want, 3);
	cfg.base_cpu = 2;
	cfg.max_cpus = 1;
	select_expect(&cfg, four_cpus, 4, (const uint16_t[]){2}, 1);
}

static void
test_rss_select_max_cpu(void **state)
{
	static const uint16_t want[] = {0, 1, 2};
	struct xvs_rss_cfg cfg;
	uint16_t out[4];
	struct xvs_err err;

	(void)state;
	xvs_rss_cfg_init(&cfg);
	cfg.max_cpu = 2;
	select_expect(&cfg, four_cpus, 4, want, 3);
	cfg.max_cpu = 1;
	select_expect(&cfg, four_cpus, 4, want, 2);
	cfg.base_cpu = 2;
	cfg.max_cpu = 2;
	select_expect(&cfg, four_cpus, 4, want + 2, 1);
	/* max-cpu between workers' CPUs */
	cfg.base_cpu = 1;
	cfg.max_cpu = 100;
	select_expect(&cfg, four_cpus, 4, (const uint16_t[]){0, 1, 2, 3}, 4);
	cfg.max_cpu = 1;
	cfg.base_cpu = 2;
	xvs_err_clear(&err);
	assert_int_equal(xvs_rss_select(&cfg, four_cpus, 4, out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "max-cpu 1"));
}

static void
test_rss_select_unsorted(void **state)
{
	static const uint16_t cpus3[] = {3, 1, 2};
	static const uint16_t cpus6[] = {7, 2, 9, 2, 4, 7};
	struct xvs_rss_cfg cfg;

	(void)state;
	xvs_rss_cfg_init(&cfg);
	select_expect(&cfg, cpus3, 3, (const uint16_t[]){1, 2, 0}, 3);
	select_expect(&cfg, cpus6, 6, (const uint16_t[]){1, 3, 4, 0, 5, 2}, 6);
	cfg.base_cpu = 4;
	cfg.max_cpu = 8;
	select_expect(&cfg, cpus6, 6, (const uint16_t[]){4, 0, 5}, 3);
	cfg.max_cpus = 2;
	select_expect(&cfg, cpus6, 6, (const uint16_t[]){4, 0}, 2);
}

/* ---- 7. conservative profile ---- */

static void
test_rss_conservative_next(void **state)
{
	(void)state;
	/* grow: the busiest is above the threshold and workers are left */
	assert_int_equal(xvs_rss_conservative_next(2, 4, (const double[]){80, 10}), 3);
	assert_int_equal(xvs_rss_conservative_next(1, 4, (const double[]){75.1}), 2);
	assert_int_equal(xvs_rss_conservative_next(3, 4, (const double[]){10, 90, 10}), 4);
	/* exactly at the threshold is not above it */
	assert_int_equal(xvs_rss_conservative_next(2, 4, (const double[]){XVS_RSS_GROW_PCT, 40}),
			 2);
	/* no growth past the set */
	assert_int_equal(xvs_rss_conservative_next(4, 4, (const double[]){99, 99, 99, 99}), 4);
	assert_int_equal(xvs_rss_conservative_next(1, 1, (const double[]){100}), 1);
	/* shrink: the total fits in k - 1 workers below the shrink threshold */
	assert_int_equal(xvs_rss_conservative_next(3, 4, (const double[]){20, 20, 20}), 2);
	assert_int_equal(xvs_rss_conservative_next(2, 4, (const double[]){10, 5}), 1);
	assert_int_equal(xvs_rss_conservative_next(3, 4, (const double[]){49.9, 50, 0}), 2);
	/* the total exactly at (k - 1) * 50 holds */
	assert_int_equal(xvs_rss_conservative_next(3, 4, (const double[]){50, 50, 0}), 3);
	/* hold in between */
	assert_int_equal(xvs_rss_conservative_next(3, 4, (const double[]){60, 60, 60}), 3);
	assert_int_equal(xvs_rss_conservative_next(2, 4, (const double[]){40, 40}), 2);
	/* never below one */
	assert_int_equal(xvs_rss_conservative_next(1, 4, (const double[]){0}), 1);
	/* none in use: start with one; busy is not read */
	assert_int_equal(xvs_rss_conservative_next(0, 4, NULL), 1);
	assert_int_equal(xvs_rss_conservative_next(0, 1, NULL), 1);
}

/* ---- 8. partition and flow order ---- */

static void
test_rss_partition_basic(void **state)
{
	static const uint16_t dst[] = {2, 0, 1, 0, 2, 2, 1, 0};
	static const uint16_t want_start[] = {0, 3, 5, 8};
	static const uint16_t want_idx[] = {1, 3, 7, 2, 6, 0, 4, 5};
	static const uint16_t dst5[] = {3, 3, 1};
	static const uint16_t want5_start[] = {0, 0, 1, 1, 3, 3};
	static const uint16_t want5_idx[] = {2, 0, 1};
	uint16_t start[4], idx[8], start5[6], idx5[3];

	(void)state;
	xvs_rss_partition(dst, 8, 3, start, idx);
	assert_memory_equal(start, want_start, sizeof(want_start));
	assert_memory_equal(idx, want_idx, sizeof(want_idx));

	/* empty targets get empty ranges */
	xvs_rss_partition(dst5, 3, 5, start5, idx5);
	assert_memory_equal(start5, want5_start, sizeof(want5_start));
	assert_memory_equal(idx5, want5_idx, sizeof(want5_idx));
}

static void
test_rss_partition_empty_and_single(void **state)
{
	uint16_t dst[XVS_BURST_TEST], start[5], idx[XVS_BURST_TEST];

	(void)state;
	memset(dst, 0, sizeof(dst));
	memset(start, 0xff, sizeof(start));
	xvs_rss_partition(dst, 0, 4, start, idx);
	for (int t = 0; t <= 4; t++)
		assert_int_equal(start[t], 0);

	xvs_rss_partition(dst, XVS_BURST_TEST, 1, start, idx);
	assert_int_equal(start[0], 0);
	assert_int_equal(start[1], XVS_BURST_TEST);
	for (uint16_t i = 0; i < XVS_BURST_TEST; i++)
		assert_int_equal(idx[i], i);
}

static void
test_rss_partition_random(void **state)
{
	uint16_t dst[256], start[17], idx[256];

	(void)state;
	rng_state = 0x6a09e667f3bcc909ULL;
	for (int round = 0; round < 200; round++) {
		uint16_t n = (uint16_t)rnd(257), nt = (uint16_t)(1 + rnd(16));
		bool seen[256] = {false};

		for (uint16_t i = 0; i < n; i++)
			dst[i] = (uint16_t)rnd(nt);
		xvs_rss_partition(dst, n, nt, start, idx);
		assert_int_equal(start[0], 0);
		assert_int_equal(start[nt], n);
		for (uint16_t t = 0; t < nt; t++) {
			assert_true(start[t] <= start[t + 1]);
			for (uint16_t j = start[t]; j < start[t + 1]; j++) {
				assert_true(idx[j] < n);
				assert_false(seen[idx[j]]);
				seen[idx[j]] = true;
				assert_int_equal(dst[idx[j]], t);
				/* stable: original order within a target */
				if (j > start[t])
					assert_true(idx[j - 1] < idx[j]);
			}
		}
	}
}

#define FLOWS 200
#define PACKETS 10000
#define BURST 32
#define TARGETS 4

struct test_pkt {
	uint16_t flow;
	uint32_t seq;   /* per flow, from 1 */
	uint32_t id;    /* global, 0..PACKETS-1 */
};

static void
test_rss_flow_order_preserved(void **state)
{
	static struct test_pkt stream[PACKETS], fifo[TARGETS][PACKETS];
	uint32_t fifo_len[TARGETS] = {0}, flow_hash[FLOWS], next_seq[FLOWS] = {0};
	uint16_t reta[XVS_RSS_RETA_DEFAULT];
	uint8_t in[12];
	int flow_fifo[FLOWS];
	uint32_t last_seq[FLOWS];
	bool seen[PACKETS] = {false};
	uint32_t total = 0;

	(void)state;
	rng_state = 0xbb67ae8584caa73bULL;
	xvs_rss_reta_fill(reta, XVS_RSS_RETA_DEFAULT, TARGETS);
	for (int f = 0; f < FLOWS; f++) {
		rnd_bytes(in, sizeof(in));
		flow_hash[f] = xvs_rss_hash(&default_tbl, in, sizeof(in));
	}
	for (uint32_t p = 0; p < PACKETS; p++) {
		uint16_t f = (uint16_t)rnd(FLOWS);

		stream[p] = (struct test_pkt){f, ++next_seq[f], p};
	}

	for (uint32_t b = 0; b < PACKETS; b += BURST) {
		uint16_t n = (uint16_t)(PACKETS - b < BURST ? PACKETS - b : BURST);
		uint16_t dst[BURST], start[TARGETS + 1], idx[BURST];

		for (uint16_t i = 0; i < n; i++)
			dst[i] = reta[xvs_rss_reta_index(flow_hash[stream[b + i].flow],
							 XVS_RSS_RETA_DEFAULT)];
		xvs_rss_partition(dst, n, TARGETS, start, idx);
		assert_int_equal(start[TARGETS], n);
		for (uint16_t t = 0; t < TARGETS; t++)
			for (uint16_t j = start[t]; j < start[t + 1]; j++)
				fifo[t][fifo_len[t]++] = stream[b + idx[j]];
	}

	for (int f = 0; f < FLOWS; f++) {
		flow_fifo[f] = -1;
		last_seq[f] = 0;
	}
	for (int t = 0; t < TARGETS; t++) {
		/* 200 flows over 4 targets: every target must see traffic */
		assert_true(fifo_len[t] > 0);
		total += fifo_len[t];
		for (uint32_t j = 0; j < fifo_len[t]; j++) {
			const struct test_pkt *p = &fifo[t][j];

			if (flow_fifo[p->flow] < 0)
				flow_fifo[p->flow] = t;
			if (flow_fifo[p->flow] != t)
				fail_msg("flow %u in targets %d and %d", p->flow,
					 flow_fifo[p->flow], t);
			if (p->seq <= last_seq[p->flow])
				fail_msg("flow %u: seq %u after %u in target %d", p->flow, p->seq,
					 last_seq[p->flow], t);
			last_seq[p->flow] = p->seq;
			assert_false(seen[p->id]);
			seen[p->id] = true;
		}
	}
	assert_int_equal(total, PACKETS);
	for (uint32_t p = 0; p < PACKETS; p++)
		assert_true(seen[p]);
	for (int f = 0; f < FLOWS; f++)
		if (next_seq[f] > 0)
			assert_int_equal(last_seq[f], next_seq[f]);
}

/* A large frame of which only the first segment (the headers) can be read,
 * as a 64 KB TSO frame from a tap: its length fields are judged against the
 * whole frame and it hashes like the small one. */
static void
test_rss_input_first_segment_of_large_frame(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		struct frame_spec sp = {.v = &vecs[i]};
		uint8_t f[256], in[XVS_RSS_INPUT_MAX];
		uint32_t len = build_frame(&sp, f), wire = 60000;
		struct xvs_l2 l2;
		size_t want = vecs[i].af == AF_INET ? 12 : 36;

		assert_int_equal(xvs_parse_l2(f, len, &l2), XVS_PARSE_OK);
		if (vecs[i].af == AF_INET) {  /* IPv4 total length */
			f[l2.l3_off + 2] = (uint8_t)((wire - l2.l3_off) >> 8);
			f[l2.l3_off + 3] = (uint8_t)(wire - l2.l3_off);
		} else {                      /* IPv6 payload length */
			f[l2.l3_off + 4] = (uint8_t)((wire - l2.l3_off - 40) >> 8);
			f[l2.l3_off + 5] = (uint8_t)(wire - l2.l3_off - 40);
		}
		/* the whole frame claimed but only len readable: not hashed */
		assert_int_equal(xvs_rss_input(f, len, &l2, XVS_RSS_TYPES_DEFAULT, in), 0);
		assert_int_equal(xvs_rss_input_seg(f, len, wire, &l2, XVS_RSS_TYPES_DEFAULT, in),
				 want);
		assert_int_equal(xvs_rss_hash(&default_tbl, in, want), vecs[i].l4);
		/* ports cut off by the segment end: addresses only */
		assert_int_equal(xvs_rss_input_seg(f, len - l4_len(IPPROTO_TCP) + 2, wire, &l2,
						   XVS_RSS_TYPES_DEFAULT, in),
				 want - 4);
		assert_int_equal(xvs_rss_hash(&default_tbl, in, want - 4), vecs[i].l3);
		/* a frame shorter than what is readable is nonsense: not hashed */
		assert_int_equal(xvs_rss_input_seg(f, len, len - 1, &l2, XVS_RSS_TYPES_DEFAULT, in),
				 0);
	}
}

/* Closest profile: entries move from the busiest to the least busy worker,
 * in proportion to the gap, only past the thresholds, never all of them. */
static void
test_rss_rebalance(void **state)
{
	uint16_t reta[128], w[2] = {3, 5};
	double busy[8] = {0};
	uint16_t n3 = 0, n5 = 0, moved;

	(void)state;
	for (int i = 0; i < 128; i++)
		reta[i] = w[i % 2];
	/* under the thresholds: nothing moves */
	busy[3] = 55, busy[5] = 10;
	assert_int_equal(xvs_rss_rebalance(reta, 128, w, 2, busy), 0);
	busy[3] = 90, busy[5] = 70;
	assert_int_equal(xvs_rss_rebalance(reta, 128, w, 2, busy), 0);
	assert_int_equal(xvs_rss_rebalance(reta, 128, w, 1, busy), 0);
	/* 100 % vs 40 %: 64 * 60 / 200 = 19 entries from worker 3 to 5 */
	busy[3] = 100, busy[5] = 40;
	moved = xvs_rss_rebalance(reta, 128, w, 2, busy);
	assert_int_equal(moved, 19);
	for (int i = 0; i < 128; i++) {
		n3 += reta[i] == 3;
		n5 += reta[i] == 5;
	}
	assert_int_equal(n3, 64 - 19);
	assert_int_equal(n5, 64 + 19);
	/* the busiest worker always keeps an entry */
	for (int i = 0; i < 128; i++)
		reta[i] = 5;
	reta[7] = 3;
	busy[3] = 100, busy[5] = 0;
	assert_int_equal(xvs_rss_rebalance(reta, 128, w, 2, busy), 0);
	assert_int_equal(reta[7], 3);
}

/* Capacity = rate / busiest worker's busy fraction, before vs after. */
/* One sample of a synthetic trace: the busy % of the workers in use, the
 * port's rate, and the verdict and worker count the profile must give. */
struct cons_sample {
	double busy[4];
	double pps;
	uint16_t k_after;
	enum xvs_rss_cons_verdict verdict;
};

#define SEC UINT64_C(1000000000)

/* Feed samples one second apart from t0 (s), starting with k workers of n. */
static uint16_t
cons_run(struct xvs_rss_cons *st, uint16_t k, uint16_t n, uint64_t t0, const struct cons_sample *tr,
	 size_t len)
{
	for (size_t i = 0; i < len; i++) {
		enum xvs_rss_cons_verdict v;
		uint16_t next = xvs_rss_conservative_step(st, k, n, tr[i].busy, tr[i].pps,
							  (t0 + i) * SEC, &v);

		if (next != tr[i].k_after || v != tr[i].verdict)
			fail_msg("sample %zu (t=%llu s): k %u -> %u verdict %d, expected %u verdict %d",
				 i, (unsigned long long)(t0 + i), k, next, v, tr[i].k_after,
				 tr[i].verdict);
		k = next;
	}
	return k;
}

static void
test_rss_conservative_step_idle_stays_on_one(void **state)
{
	static const struct cons_sample tr[] = {
		{{0}, 0, 1, XVS_RSS_CONS_KEEP},
		{{30}, 1e5, 1, XVS_RSS_CONS_KEEP},
		{{75}, 1e6, 1, XVS_RSS_CONS_KEEP},     /* at the threshold is not above */
		/* busy, but with no traffic of its own (other ports load the worker) */
		{{100}, 0, 1, XVS_RSS_CONS_KEEP},
		{{100}, 0, 1, XVS_RSS_CONS_KEEP},
	};
	struct xvs_rss_cons st = {0};

	(void)state;
	assert_int_equal(cons_run(&st, 1, 2, 100, tr, sizeof(tr) / sizeof(tr[0])), 1);
	assert_int_equal(st.trial, 0);
	/* a set of one never grows */
	assert_int_equal(xvs_rss_conservative_step(&st, 1, 1, (const double[]){100}, 1e6, 0, NULL),
			 1);
}

static void
test_rss_conservative_step_growth_that_pays_stays(void **state)
{
	static const struct cons_sample tr[] = {
		{{95}, 2e6, 2, XVS_RSS_CONS_GROW},
		/* first sample after: partly before the new snapshot, not judged
		 * (judged, it would not pay) */
		{{100, 10}, 2e6, 2, XVS_RSS_CONS_KEEP},
		/* second: capacity 2e6/0.95 = 2.1 M -> 3e6/0.6 = 5 M: paid */
		{{60, 55}, 3e6, 2, XVS_RSS_CONS_KEEP},
		/* still heavy: the next worker of the set */
		{{80, 70}, 3e6, 3, XVS_RSS_CONS_GROW},
		{{60, 60, 20}, 3.5e6, 3, XVS_RSS_CONS_KEEP},
		{{50, 50, 50}, 4.5e6, 3, XVS_RSS_CONS_KEEP},
		/* load falls: pack one step per sample */
		{{20, 20, 20}, 1e6, 2, XVS_RSS_CONS_SHRINK},
		{{20, 20}, 1e6, 1, XVS_RSS_CONS_SHRINK},
		{{40}, 1e6, 1, XVS_RSS_CONS_KEEP},
	};
	struct xvs_rss_cons st = {0};

	(void)state;
	assert_int_equal(cons_run(&st, 1, 4, 10, tr, sizeof(tr) / sizeof(tr[0])), 1);
}

static void
test_rss_conservative_step_unpaid_growth_goes_back_and_holds(void **state)
{
	static const struct cons_sample grow[] = {
		{{100}, 1e6, 2, XVS_RSS_CONS_GROW},
		/* during the trial nothing else is decided, not even a shrink */
		{{10, 10}, 1e6, 2, XVS_RSS_CONS_KEEP},
		/* capacity 1e6/1.0 -> 1.05e6/1.0: under 10 % more, taken back */
		{{100, 50}, 1.05e6, 1, XVS_RSS_CONS_NOT_PAID},
	};
	static const struct cons_sample busy[] = {{{100}, 1e6, 1, XVS_RSS_CONS_KEEP}};
	static const struct cons_sample regrow[] = {{{100}, 1e6, 2, XVS_RSS_CONS_GROW}};
	struct xvs_rss_cons st = {0};
	uint64_t t;

	(void)state;
	assert_int_equal(cons_run(&st, 1, 2, 1000, grow, 3), 1);
	/* judged at t = 1002 s: no growth until 30 s later, however busy */
	assert_int_equal(st.hold_until_ns, 1032 * SEC);
	for (t = 1003; t < 1032; t++)
		cons_run(&st, 1, 2, t, busy, 1);
	/* a sample 1 ns before the end of the hold still holds */
	assert_int_equal(xvs_rss_conservative_step(&st, 1, 2, (const double[]){100}, 1e6,
						   1032 * SEC - 1, NULL),
			 1);
	cons_run(&st, 1, 2, 1032, regrow, 1);
	/* a shrink is not held back */
	st = (struct xvs_rss_cons){.hold_until_ns = UINT64_MAX};
	assert_int_equal(xvs_rss_conservative_step(&st, 2, 2, (const double[]){5, 5}, 1e6, 0, NULL),
			 1);
}

static void
test_rss_conservative_step_trial_without_load_data(void **state)
{
	static const struct cons_sample tr[] = {
		{{90}, 1e6, 2, XVS_RSS_CONS_GROW},
		{{0, 0}, 0, 2, XVS_RSS_CONS_KEEP},
		/* no busy figure to judge by: the growth stands */
		{{0, 0}, 0, 2, XVS_RSS_CONS_KEEP},
		{{0, 0}, 0, 1, XVS_RSS_CONS_SHRINK},
	};
	struct xvs_rss_cons st = {0};

	(void)state;
	assert_int_equal(cons_run(&st, 1, 2, 0, tr, sizeof(tr) / sizeof(tr[0])), 1);
	/* a trial that finds the port already back on one worker ends quietly */
	st = (struct xvs_rss_cons){.trial = 1};
	assert_int_equal(xvs_rss_conservative_step(&st, 1, 2, (const double[]){100}, 1e6, 0, NULL),
			 1);
	assert_int_equal(st.trial, 0);
}

/* The balancer is enabled (or disabled) with a growth under trial: the new
 * controller's first sample may measure a window that starts before the
 * growth, and must not judge it; the trial restarts and is judged on the
 * new controller's second sample, against the rate before the growth. */
static void
test_rss_conservative_trial_restarts_on_switch(void **state)
{
	static const struct cons_sample grow[] = {
		{{100}, 1e6, 2, XVS_RSS_CONS_GROW},
		{{100, 10}, 1e6, 2, XVS_RSS_CONS_KEEP}, /* the old controller's first */
	};
	/* after the switch: a window mostly before the growth (judged, it
	 * would not pay), then one wholly after it (pays) */
	static const struct cons_sample after[] = {
		{{100, 10}, 1e6, 2, XVS_RSS_CONS_KEEP},
		{{60, 55}, 1.5e6, 2, XVS_RSS_CONS_KEEP},
	};
	struct xvs_rss_cons st = {0};

	(void)state;
	assert_int_equal(cons_run(&st, 1, 2, 50, grow, 2), 2);
	assert_int_equal(st.trial, 1);
	xvs_rss_cons_restart_trial(&st);
	assert_int_equal(st.trial, XVS_RSS_TRIAL_SAMPLES);
	assert_true(st.trial_pps == 1e6 && st.trial_busy == 100); /* the baseline stays */
	assert_int_equal(cons_run(&st, 2, 2, 52, after, 2), 2);
	assert_int_equal(st.trial, 0);
	/* no trial under way: nothing to restart */
	xvs_rss_cons_restart_trial(&st);
	assert_int_equal(st.trial, 0);
}

static void
test_rss_spread_paid(void **state)
{
	(void)state;
	/* memory-only source: 15 Mpps on one saturated worker, 11 on two */
	assert_false(xvs_rss_spread_paid(15e6, 100, 11e6, 100));
	/* tap traffic: same rate, the busiest worker half as busy */
	assert_true(xvs_rss_spread_paid(1e6, 90, 1e6, 50));
	/* more traffic at the same busy %: paid */
	assert_true(xvs_rss_spread_paid(1e6, 100, 1.8e6, 100));
	/* a gain under XVS_RSS_PAY_GAIN is not worth the hand-off */
	assert_false(xvs_rss_spread_paid(1e6, 100, 1.05e6, 100));
	/* nothing measured: no judgement against the growth */
	assert_true(xvs_rss_spread_paid(0, 0, 0, 0));
}

/* An "ex" type alone still hashes IPv6 without extension headers, on the
 * header's own addresses (Microsoft, "RSS hashing types"). */
static void
test_rss_input_ipv6_ex_types_without_ex_headers(void **state)
{
	struct frame_spec s = {.v = &vecs[V6_FIRST]};

	(void)state;
	assert_int_equal(frame_hash(&s, XVS_RSS_IPV6_EX, 32), vecs[V6_FIRST].l3);
	assert_int_equal(frame_hash(&s, XVS_RSS_TCP6_EX, 36), vecs[V6_FIRST].l4);
}

/* Separators go between bytes only; list elements are never empty. */
static void
test_rss_parse_strict_separators(void **state)
{
	uint8_t key[XVS_RSS_KEY_LEN];
	char hex[2 * XVS_RSS_KEY_LEN + 1], buf[200];
	uint32_t types = 0;

	(void)state;
	xvs_rss_key_format(xvs_rss_default_key, hex);
	snprintf(buf, sizeof(buf), "%s:", hex);
	assert_int_equal(xvs_rss_key_parse("k", buf, key, NULL), -EINVAL);
	snprintf(buf, sizeof(buf), "6d::%s", hex + 2);
	assert_int_equal(xvs_rss_key_parse("k", buf, key, NULL), -EINVAL);
	assert_int_equal(xvs_rss_types_parse("t", "ipv4,", &types, NULL), -EINVAL);
	assert_int_equal(xvs_rss_types_parse("t", ",ipv4", &types, NULL), -EINVAL);
	assert_int_equal(xvs_rss_types_parse("t", "ipv4,,tcp4", &types, NULL), -EINVAL);
	assert_int_equal(xvs_rss_types_parse("t", "ipv4,tcp4", &types, NULL), 0);
	assert_int_equal(types, XVS_RSS_IPV4 | XVS_RSS_TCP4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_vectors_ref),
		cmocka_unit_test(test_rss_vectors_table),
		cmocka_unit_test(test_rss_input_tcp_vectors),
		cmocka_unit_test(test_rss_input_udp_vectors),
		cmocka_unit_test(test_rss_input_address_only_types),
		cmocka_unit_test(test_rss_input_type_not_enabled),
		cmocka_unit_test(test_rss_input_ipv4_fragments),
		cmocka_unit_test(test_rss_input_ipv4_options),
		cmocka_unit_test(test_rss_input_not_ip),
		cmocka_unit_test(test_rss_input_truncated),
		cmocka_unit_test(test_rss_input_malformed),
		cmocka_unit_test(test_rss_input_vlan),
		cmocka_unit_test(test_rss_input_ipv6_extension_headers),
		cmocka_unit_test(test_rss_input_ipv6_home_address_option),
		cmocka_unit_test(test_rss_input_ipv6_type2_routing_header),
		cmocka_unit_test(test_rss_input_ipv6_ex_types_without_ex_headers),
		cmocka_unit_test(test_rss_input_first_segment_of_large_frame),
		cmocka_unit_test(test_rss_spread_paid),
		cmocka_unit_test(test_rss_conservative_step_idle_stays_on_one),
		cmocka_unit_test(test_rss_conservative_trial_restarts_on_switch),
		cmocka_unit_test(test_rss_conservative_step_growth_that_pays_stays),
		cmocka_unit_test(test_rss_conservative_step_unpaid_growth_goes_back_and_holds),
		cmocka_unit_test(test_rss_conservative_step_trial_without_load_data),
		cmocka_unit_test(test_rss_rebalance),
		cmocka_unit_test(test_rss_parse_strict_separators),
		cmocka_unit_test(test_rss_reta_vectors),
		cmocka_unit_test(test_rss_reta_sizes),
		cmocka_unit_test(test_rss_zero_input_hashes_to_zero),
		cmocka_unit_test(test_rss_symmetric_key),
		cmocka_unit_test(test_rss_distribution),
		cmocka_unit_test(test_rss_table_matches_ref_random),
		cmocka_unit_test(test_rss_hash_linear),
		cmocka_unit_test(test_rss_cfg_init_defaults),
		cmocka_unit_test(test_rss_key_parse_format),
		cmocka_unit_test(test_rss_key_parse_invalid),
		cmocka_unit_test(test_rss_types_parse_format),
		cmocka_unit_test(test_rss_types_parse_invalid),
		cmocka_unit_test(test_rss_profile_parse),
		cmocka_unit_test(test_rss_port_keys_defaults),
		cmocka_unit_test(test_rss_port_keys_set),
		cmocka_unit_test(test_rss_port_validate),
		cmocka_unit_test(test_rss_select_default),
		cmocka_unit_test(test_rss_select_base_cpu),
		cmocka_unit_test(test_rss_select_max_cpus),
		cmocka_unit_test(test_rss_select_max_cpu),
		cmocka_unit_test(test_rss_select_unsorted),
		cmocka_unit_test(test_rss_conservative_next),
		cmocka_unit_test(test_rss_partition_basic),
		cmocka_unit_test(test_rss_partition_empty_and_single),
		cmocka_unit_test(test_rss_partition_random),
		cmocka_unit_test(test_rss_flow_order_preserved),
	};

	return cmocka_run_group_tests(tests, setup_tables, NULL);
}

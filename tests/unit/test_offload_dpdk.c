/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload requests from a tap (src/dp/offload.c) on real mbufs: the
 * virtio-net header checks against frames that lie, and software TCP
 * segmentation at every MSS down to the floor, IPv4 and IPv6, from one mbuf
 * or a chain. DPDK's EAL runs with --no-huge, no PCI, the main lcore only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "offload.h"

static struct rte_mempool *pool;     /* 2 KB mbufs: segments, chains */
static struct rte_mempool *big_pool; /* 64 KB mbufs, as a tap reads into */

#define TCP_F_FIN 0x01
#define TCP_F_PSH 0x08
#define TCP_F_ACK 0x10
#define TCP_F_CWR 0x80

struct frame {
	uint8_t b[UINT16_MAX + 64]; /* Ethernet + tag + IPv6 header + 64 KB */
	uint32_t len;
	uint16_t l2, l3;   /* header lengths */
	uint16_t l4_off;   /* l2 + l3 */
};

/* Ethernet (+ tag) + IPv4/IPv6 + TCP (with a 12-byte timestamp option) +
 * payload bytes i * 7. */
static void
build_tcp(struct frame *f, bool v6, bool vlan, uint32_t payload, uint8_t flags)
{
	uint8_t *p = f->b;
	uint16_t l4 = 32;

	memset(f, 0, sizeof(*f));
	memcpy(p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	f->l2 = 14;
	if (vlan) {
		p[12] = 0x81;
		p[13] = 0x00;
		p[15] = 5;
		f->l2 = 18;
	}
	p[f->l2 - 2] = v6 ? 0x86 : 0x08;
	p[f->l2 - 1] = v6 ? 0xdd : 0x00;
	f->l3 = v6 ? 40 : 20;
	f->l4_off = f->l2 + f->l3;
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + f->l2);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(l4 + payload));
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = 64;
		ip->src_addr[0] = 0xfd;
		ip->src_addr[15] = 1;
		ip->dst_addr[0] = 0xfd;
		ip->dst_addr[15] = 2;
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + f->l2);

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4 + payload));
		ip->packet_id = rte_cpu_to_be_16(1000);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(0x0a000001);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	}
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + f->l4_off);

	th->src_port = rte_cpu_to_be_16(1234);
	th->dst_port = rte_cpu_to_be_16(80);
	th->sent_seq = rte_cpu_to_be_32(0xfffff000); /* wraps within a 64 KB frame */
	th->data_off = (uint8_t)((l4 / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(1000);
	memcpy(p + f->l4_off + 20, "\x01\x01\x08\x0a\0\0\0\x01\0\0\0\x02", 12);
	for (uint32_t i = 0; i < payload; i++)
		p[f->l4_off + l4 + i] = (uint8_t)(i * 7);
	f->len = f->l4_off + l4 + payload;
}

/* The frame in one big mbuf, or in a chain of 2 KB mbufs. */
static struct rte_mbuf *
to_mbuf(const struct frame *f, bool chain)
{
	struct rte_mbuf *head = NULL, *prev = NULL;
	uint32_t off = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(chain ? pool : big_pool);
		uint32_t n;

		assert_non_null(m);
		n = RTE_MIN(f->len - off, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), f->b + off, n);
		if (head == NULL) {
			head = m;
		} else {
			prev->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		prev = m;
		off += n;
	} while (off < f->len);
	return head;
}

static struct virtio_net_hdr
vnet(uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t csum_start,
     uint16_t csum_offset)
{
	struct virtio_net_hdr vh = {
		.flags = flags,
		.gso_type = gso_type,
		.gso_size = gso_size,
		.csum_start = csum_start,
		.csum_offset = csum_offset,
	};
	return vh;
}

static struct virtio_net_hdr
vnet_tso(const struct frame *f, bool v6, uint16_t mss)
{
	return vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
						      VIRTIO_NET_HDR_GSO_TCPV4,
		    mss, f->l4_off, offsetof(struct rte_tcp_hdr, cksum));
}

/* Segment f as the tap rx and egress paths do, in chunks of `chunk`, and
 * check every segment against f. */
static void
check_tso(bool v6, bool vlan, bool chain, uint32_t payload, uint16_t mss, uint16_t chunk)
{
	static struct frame f;
	struct virtio_net_hdr vh;
	struct xvs_offload_iter it;
	struct rte_mbuf *m, *out[64];
	uint32_t got = 0, nseg = 0, want_segs = (payload + mss - 1) / mss;
	uint16_t hdr;

	build_tcp(&f, v6, vlan, payload, TCP_F_ACK | TCP_F_PSH | TCP_F_FIN | TCP_F_CWR);
	hdr = f.l4_off + 32;
	m = to_mbuf(&f, chain);
	vh = vnet_tso(&f, v6, mss);
	assert_int_equal(xvs_offload_from_vnet(&vh, m), XVS_OFFLOAD_OK);
	xvs_offload_begin(&it, m, pool, NULL);
	while (it.m != NULL) {
		uint16_t k = xvs_offload_next(&it, out, chunk);

		assert_true(k <= chunk);
		for (uint16_t i = 0; i < k; i++, nseg++) {
			struct rte_mbuf *s = out[i];
			const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
			const struct rte_tcp_hdr *th = (const void *)(p + f.l4_off);
			uint32_t seg = s->pkt_len - hdr;
			bool first = nseg == 0, last = got + seg == payload;

			assert_int_equal(s->nb_segs, 1);
			assert_false(xvs_offload_pending(s));
			assert_false(s->ol_flags & RTE_MBUF_F_EXTERNAL);
			assert_true(seg > 0 && seg <= mss);
			assert_memory_equal(p + hdr, f.b + hdr + got, seg);
			assert_int_equal(rte_be_to_cpu_32(th->sent_seq), 0xfffff000u + got);
			assert_int_equal(th->tcp_flags & TCP_F_CWR, first ? TCP_F_CWR : 0);
			assert_int_equal(th->tcp_flags & (TCP_F_FIN | TCP_F_PSH),
					 last ? TCP_F_FIN | TCP_F_PSH : 0);
			assert_int_equal(th->tcp_flags & TCP_F_ACK, TCP_F_ACK);
			if (v6) {
				const struct rte_ipv6_hdr *ip = (const void *)(p + f.l2);

				assert_int_equal(rte_be_to_cpu_16(ip->payload_len),
						 s->pkt_len - f.l4_off);
				assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, th), 0);
			} else {
				const struct rte_ipv4_hdr *ip = (const void *)(p + f.l2);

				assert_int_equal(rte_be_to_cpu_16(ip->total_length),
						 s->pkt_len - f.l2);
				assert_int_equal(rte_be_to_cpu_16(ip->packet_id), 1000 + nseg);
				assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
				assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, th), 0);
			}
			got += seg;
			rte_pktmbuf_free(s);
		}
	}
	assert_false(it.failed);
	assert_int_equal(got, payload);
	assert_int_equal(nseg, want_segs);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	assert_int_equal(rte_mempool_in_use_count(big_pool), 0);
}

/* The largest frame a tap hands over (IPv4 total length 65535), at every MSS
 * iperf3 -M was seen failing with: more than 64 segments each below 1024. */
static void
test_offload_tso_ipv4_every_mss(void **state)
{
	static const uint16_t mss[] = {XVS_TSO_MSS_MIN, 88, 536, 1000, 1220, 1400, 1448, 1460};

	for (size_t i = 0; i < RTE_DIM(mss); i++)
		check_tso(false, false, false, 65535 - 20 - 32, mss[i], 32);
}

static void
test_offload_tso_ipv6(void **state)
{
	check_tso(true, false, false, 65535 - 32, 1220, 32);
	check_tso(true, false, false, 65535 - 32, 88, 32);
	check_tso(true, true, false, 5000, 1428, 32);
}

/* A chain of 2 KB mbufs (a tap without 64 KB read buffers), a tag, odd
 * chunk sizes and a payload that is not a multiple of the MSS. */
static void
test_offload_tso_chain_and_chunks(void **state)
{
	check_tso(false, false, true, 65535 - 20 - 32, 536, 32);
	check_tso(false, true, true, 10001, 1000, 1);
	check_tso(true, true, true, 30000, 777, 7);
	check_tso(false, false, false, 2 * 1448 + 1, 1448, 64);
}

/* An MSS larger than a 2 KB segment mbuf holds: segments carry what fits. */
static void
test_offload_tso_mss_beyond_mbuf(void **state)
{
	static struct frame f;
	struct virtio_net_hdr vh;
	struct xvs_offload_iter it;
	struct rte_mbuf *m, *out[8];
	uint32_t got = 0;

	build_tcp(&f, false, false, 20000, TCP_F_ACK);
	m = to_mbuf(&f, false);
	vh = vnet_tso(&f, false, 9000);
	assert_int_equal(xvs_offload_from_vnet(&vh, m), XVS_OFFLOAD_OK);
	xvs_offload_begin(&it, m, pool, NULL);
	while (it.m != NULL) {
		uint16_t k = xvs_offload_next(&it, out, RTE_DIM(out));

		for (uint16_t i = 0; i < k; i++) {
			uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;

			assert_true(out[i]->pkt_len <= room);
			got += out[i]->pkt_len - (f.l4_off + 32);
			rte_pktmbuf_free(out[i]);
		}
	}
	assert_false(it.failed);
	assert_int_equal(got, 20000);
}

/* A partial checksum without segmentation, TCP and UDP, both IP versions,
 * with Ethernet padding after the IP packet. */
static void
test_offload_partial_checksums(void **state)
{
	static struct frame f;

	for (int v6 = 0; v6 <= 1; v6++) {
		for (int udp = 0; udp <= 1; udp++) {
			struct xvs_offload_iter it;
			struct virtio_net_hdr vh;
			struct rte_mbuf *m, *s;
			uint8_t *p;

			build_tcp(&f, v6, false, 3, TCP_F_ACK);
			if (udp) {
				f.b[f.l2 + (v6 ? 6 : 9)] = IPPROTO_UDP;
				struct rte_udp_hdr *uh = (void *)(f.b + f.l4_off);

				uh->dgram_len = rte_cpu_to_be_16(35);
			}
			f.len += 6; /* padding */
			m = to_mbuf(&f, false);
			vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, f.l4_off,
				  udp ? offsetof(struct rte_udp_hdr, dgram_cksum) :
					offsetof(struct rte_tcp_hdr, cksum));
			assert_int_equal(xvs_offload_from_vnet(&vh, m), XVS_OFFLOAD_OK);
			xvs_offload_begin(&it, m, pool, NULL);
			assert_int_equal(xvs_offload_next(&it, &s, 1), 1);
			assert_null(it.m);
			assert_false(xvs_offload_pending(s));
			p = rte_pktmbuf_mtod(s, uint8_t *);
			if (v6)
				assert_int_equal(rte_ipv6_udptcp_cksum_verify((void *)(p + f.l2),
									      p + f.l4_off), 0);
			else
				assert_int_equal(rte_ipv4_udptcp_cksum_verify((void *)(p + f.l2),
									      p + f.l4_off), 0);
			rte_pktmbuf_free(s);
		}
	}
}

/* One lie per row: a header or length field a guest controls, set to a
 * value that points outside the frame or disagrees with it. */
struct lie {
	const char *what;
	bool v6;
	enum xvs_drop want;
	void (*mutate)(struct frame *f, struct virtio_net_hdr *vh);
};

static void
csum_start_past_frame(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->csum_start = (uint16_t)(f->len + 100);
}

static void
csum_start_overflows_l3_len(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->csum_start = (uint16_t)(f->l2 + 512 + 20); /* l3_len is 9 bits */
}

static void
csum_start_in_l2(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->csum_start = 10;
}

static void
csum_offset_odd(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->csum_offset = 3;
}

static void
udp_offset_on_tcp(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->gso_type = 0;
	vh->csum_offset = offsetof(struct rte_udp_hdr, dgram_cksum);
}

static void
gso_v4_on_v6(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
}

static void
gso_udp(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->gso_type = VIRTIO_NET_HDR_GSO_UDP;
}

static void
gso_without_csum(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->flags = 0;
}

static void
gso_size_zero(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->gso_size = 0;
}

static void
gso_size_below_floor(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->gso_size = XVS_TSO_MSS_MIN - 1;
}

/* Linux never segments below 48 (TCP_MIN_SND_MSS); a guest that asks for
 * less only wants to make the worker copy more segments. */
static void
gso_size_below_linux(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->gso_size = 47;
}

static void
not_ip(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[12] = 0x08;
	f->b[13] = 0x06;
}

static void
runt(struct frame *f, struct virtio_net_hdr *vh)
{
	f->len = 16;
}

static void
headers_cut(struct frame *f, struct virtio_net_hdr *vh)
{
	f->len = f->l4_off + 10; /* TCP header cut short */
}

static void
ip_total_length_past_frame(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2 + 2] = 0xff;
	f->b[f->l2 + 3] = 0xff;
}

static void
ip_total_length_below_headers(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2 + 2] = 0;
	f->b[f->l2 + 3] = 30;
}

static void
ihl_below_5(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2] = 0x44;
}

static void
ihl_disagrees(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2] = 0x4f;
}

static void
ip_version_wrong(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2] = 0x65;
}

static void
ip_proto_udp(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2 + 9] = IPPROTO_UDP;
}

static void
tcp_doff_below_5(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l4_off + 12] = 0x40;
}

static void
tcp_doff_past_ip_packet(struct frame *f, struct virtio_net_hdr *vh)
{
	/* 60-byte TCP header; the IP packet holds 32 + 10 */
	f->b[f->l4_off + 12] = 0xf0;
}

static void
ipv6_payload_past_frame(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2 + 4] = 0xff;
}

static void
ipv6_ext_header(struct frame *f, struct virtio_net_hdr *vh)
{
	vh->csum_start = (uint16_t)(f->l4_off + 8); /* as if a hop-by-hop header */
}

static void
ipv6_next_header_not_tcp(struct frame *f, struct virtio_net_hdr *vh)
{
	f->b[f->l2 + 6] = 0; /* hop-by-hop */
}

static const struct lie lies[] = {
	{"csum_start past the frame", false, XVS_DROP_bad_offload, csum_start_past_frame},
	{"csum_start overflows l3_len", false, XVS_DROP_bad_offload, csum_start_overflows_l3_len},
	{"csum_start inside the Ethernet header", false, XVS_DROP_bad_offload, csum_start_in_l2},
	{"csum_offset neither TCP nor UDP", false, XVS_DROP_bad_offload, csum_offset_odd},
	{"UDP checksum offset on TCP", false, XVS_DROP_bad_offload, udp_offset_on_tcp},
	{"GSO TCPv4 on an IPv6 frame", true, XVS_DROP_bad_offload, gso_v4_on_v6},
	{"UDP fragmentation offload", false, XVS_DROP_bad_offload, gso_udp},
	{"GSO without NEEDS_CSUM", false, XVS_DROP_bad_offload, gso_without_csum},
	{"gso_size 0", false, XVS_DROP_bad_offload, gso_size_zero},
	{"gso_size below the floor", false, XVS_DROP_bad_offload, gso_size_below_floor},
	{"gso_size below Linux's 48", false, XVS_DROP_bad_offload, gso_size_below_linux},
	{"not IP", false, XVS_DROP_bad_offload, not_ip},
	{"16-byte frame", false, XVS_DROP_bad_offload, runt},
	{"TCP header cut short", false, XVS_DROP_bad_l3_len, headers_cut},
	{"IPv4 total length past the frame", false, XVS_DROP_bad_l3_len,
	 ip_total_length_past_frame},
	{"IPv4 total length below the headers", false, XVS_DROP_bad_l3_len,
	 ip_total_length_below_headers},
	{"IHL below 5", false, XVS_DROP_bad_l3_len, ihl_below_5},
	{"IHL disagrees with csum_start", false, XVS_DROP_bad_offload, ihl_disagrees},
	{"IP version 6 in an IPv4 frame", false, XVS_DROP_bad_offload, ip_version_wrong},
	{"TCP request on a UDP packet", false, XVS_DROP_bad_offload, ip_proto_udp},
	{"TCP data offset below 5", false, XVS_DROP_bad_l3_len, tcp_doff_below_5},
	{"TCP data offset past the IP packet", false, XVS_DROP_bad_l3_len, tcp_doff_past_ip_packet},
	{"IPv6 payload length past the frame", true, XVS_DROP_bad_l3_len, ipv6_payload_past_frame},
	{"IPv6 extension header", true, XVS_DROP_bad_offload, ipv6_ext_header},
	{"IPv6 next header not TCP", true, XVS_DROP_bad_offload, ipv6_next_header_not_tcp},
};

static void
test_offload_vnet_lies_are_dropped(void **state)
{
	static struct frame f;

	for (size_t i = 0; i < RTE_DIM(lies); i++) {
		struct virtio_net_hdr vh;
		struct rte_mbuf *m;
		enum xvs_drop got;

		build_tcp(&f, lies[i].v6, false, 10, TCP_F_ACK);
		vh = vnet_tso(&f, lies[i].v6, 536);
		lies[i].mutate(&f, &vh);
		m = to_mbuf(&f, false);
		got = xvs_offload_from_vnet(&vh, m);
		if (got != lies[i].want)
			fail_msg("%s: verdict %d, want %d", lies[i].what, got, lies[i].want);
		rte_pktmbuf_free(m);
	}
	/* The honest frame the lies start from passes. */
	for (int v6 = 0; v6 <= 1; v6++) {
		struct virtio_net_hdr vh;
		struct rte_mbuf *m;

		build_tcp(&f, v6, false, 10, TCP_F_ACK);
		vh = vnet_tso(&f, v6, XVS_TSO_MSS_MIN);
		m = to_mbuf(&f, false);
		assert_int_equal(xvs_offload_from_vnet(&vh, m), XVS_OFFLOAD_OK);
		rte_pktmbuf_free(m);
	}
}

/* Found by fuzz_offload: segments and linearized copies took every flag of
 * the frame, RTE_MBUF_F_EXTERNAL included, so freeing one read a
 * shared-info pointer it did not have. A frame in an external buffer (as the
 * fuzzer builds them) must give segments with only the request flags. */
static void
ext_free(void *addr, void *opaque)
{
	free(addr);
}

static void
test_offload_external_buffer_flags_not_copied(void **state)
{
	static struct frame f;
	struct rte_mbuf_ext_shared_info sh = {.free_cb = ext_free};
	struct xvs_offload_iter it;
	struct virtio_net_hdr vh;
	struct rte_mbuf *m, *out[16];
	uint8_t *buf;
	uint16_t k, n = 0;

	build_tcp(&f, false, false, 3000, TCP_F_ACK);
	buf = malloc(f.len);
	assert_non_null(buf);
	memcpy(buf, f.b, f.len);
	m = rte_pktmbuf_alloc(pool);
	rte_mbuf_ext_refcnt_set(&sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, (uint16_t)f.len, &sh);
	m->data_off = 0;
	m->data_len = (uint16_t)f.len;
	m->pkt_len = f.len;
	vh = vnet_tso(&f, false, 1000);
	assert_int_equal(xvs_offload_from_vnet(&vh, m), XVS_OFFLOAD_OK);
	xvs_offload_begin(&it, m, pool, NULL);
	while (it.m != NULL) {
		k = xvs_offload_next(&it, out, RTE_DIM(out));
		for (uint16_t i = 0; i < k; i++, n++) {
			assert_false(out[i]->ol_flags & RTE_MBUF_F_EXTERNAL);
			rte_pktmbuf_free(out[i]);
		}
	}
	assert_int_equal(n, 3);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* A jumbo frame without requests that arrives as a chain of 2 KB mbufs (a
 * tap read without its 64 KB buffers) is flattened into one mbuf of the big
 * pool; without one it cannot be, and is one failed frame. */
static void
test_offload_long_chain_flattened_into_big_pool(void **state)
{
	static struct frame f;
	struct xvs_offload_iter it;
	struct rte_mbuf *m, *out[4];

	build_tcp(&f, false, false, 8000, TCP_F_ACK);
	m = to_mbuf(&f, true);
	assert_true(m->nb_segs > 1);
	xvs_offload_begin(&it, m, pool, big_pool);
	assert_int_equal(xvs_offload_next(&it, out, RTE_DIM(out)), 1);
	assert_null(it.m);
	assert_false(it.failed);
	assert_int_equal(out[0]->nb_segs, 1);
	assert_ptr_equal(out[0]->pool, big_pool);
	assert_int_equal(out[0]->pkt_len, f.len);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), f.b, f.len);
	rte_pktmbuf_free(out[0]);

	m = to_mbuf(&f, true);
	xvs_offload_begin(&it, m, pool, NULL);
	assert_int_equal(xvs_offload_next(&it, out, RTE_DIM(out)), 0);
	assert_true(it.failed);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	assert_int_equal(rte_mempool_in_use_count(big_pool), 0);
}

static void
ext_keep(void *addr, void *opaque)
{
}

/* A frame that is only an Ethernet header asking for an IPv4 header checksum
 * with l3_len 0 (as a caller other than xvs_offload_from_vnet() could set
 * it): the check must refuse it without reading the IP header that is not
 * there. The frame ends at a page boundary followed by an inaccessible page,
 * so a read past it faults. */
static void
test_offload_check_short_l3_reads_nothing_past_the_frame(void **state)
{
	static const uint8_t eth[RTE_ETHER_HDR_LEN] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
						       0x08, 0x00};
	struct rte_mbuf_ext_shared_info sh = {.free_cb = ext_keep};
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *buf;
	struct rte_mbuf *m;

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
	buf = map + pg - sizeof(eth);
	memcpy(buf, eth, sizeof(eth));
	m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	rte_mbuf_ext_refcnt_set(&sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, sizeof(eth), &sh);
	m->data_off = 0;
	m->data_len = sizeof(eth);
	m->pkt_len = sizeof(eth);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = 0;
	assert_int_equal(xvs_offload_check(m), XVS_DROP_bad_offload);
	rte_pktmbuf_free(m);
	munmap(map, (size_t)pg * 2);
}

static int
setup(void **state)
{
	char *eal[] = {"test_offload_dpdk", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
		       "-l", "0", "--log-level", "error", "--no-telemetry", NULL};

	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("seg", 2048, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	big_pool = rte_pktmbuf_pool_create("big", 4, 0, 0, UINT16_MAX, 0);
	return pool != NULL && big_pool != NULL ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offload_tso_ipv4_every_mss),
		cmocka_unit_test(test_offload_tso_ipv6),
		cmocka_unit_test(test_offload_tso_chain_and_chunks),
		cmocka_unit_test(test_offload_tso_mss_beyond_mbuf),
		cmocka_unit_test(test_offload_partial_checksums),
		cmocka_unit_test(test_offload_vnet_lies_are_dropped),
		cmocka_unit_test(test_offload_external_buffer_flags_not_copied),
		cmocka_unit_test(test_offload_long_chain_flattened_into_big_pool),
		cmocka_unit_test(test_offload_check_short_l3_reads_nothing_past_the_frame),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: a tap frame's virtio-net header and offload requests,
 * through the functions the datapath uses: xvs_offload_from_vnet() (tap rx)
 * and xvs_offload_begin()/xvs_offload_next() (egress toward a port without
 * offloads). Input: 1 byte of mode, a struct virtio_net_hdr (10 bytes), then
 * the frame.
 *
 * Real mbufs come from DPDK's EAL, started once (--no-huge, no PCI, main
 * lcore only). The frame is put into mbufs whose buffers are malloc'd to the
 * exact size of their piece (external buffers), so AddressSanitizer sees any
 * access past the frame; mode bit 0 splits it into a chain of pieces.
 *
 * Invariants: a frame accepted with requests passes xvs_offload_check() again;
 * resolution yields single-segment frames without pending requests, whose
 * IPv4 header and TCP/UDP checksums verify; TSO segments carry the frame's
 * payload exactly once, each within tso_segsz, IP lengths matching; and no
 * mbuf is left behind.
 *
 * scripts/test.sh runs it 10 s from tests/fuzz/corpus/offload, where inputs
 * stay under 4 KB; to reach 64 KB TSO frames:
 *   ./build-fuzz/tests/fuzz/fuzz_offload -max_len=65546 -max_total_time=300 \
 *       /tmp/scratch tests/fuzz/corpus/offload
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "offload.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;      /* segments, linearized copies */
static struct rte_mempool *hdr_pool;  /* mbufs that get the external buffers */

#define CHECK(c)                                                                  \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);   \
			abort();                                                  \
		}                                                                 \
	} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {"fuzz_offload", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
		       "-l", "0", "--log-level", "error", "--no-telemetry", NULL};

	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_offload: EAL init failed\n");
		abort();
	}
	pool = rte_pktmbuf_pool_create("seg", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	hdr_pool = rte_pktmbuf_pool_create("ext", 256, 0, 0, 0, 0);
	CHECK(pool != NULL && hdr_pool != NULL);
	return 0;
}

static void
ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

/* An mbuf holding exactly data[0..len) in a malloc'd buffer of that size. */
static struct rte_mbuf *
ext_mbuf(const uint8_t *data, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(hdr_pool);
	struct rte_mbuf_ext_shared_info *sh = malloc(sizeof(*sh));
	uint8_t *buf = malloc(len ? len : 1);

	CHECK(m != NULL && sh != NULL && buf != NULL);
	memcpy(buf, data, len);
	sh->free_cb = ext_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, len ? len : 1, sh);
	m->data_off = 0;
	m->data_len = len;
	m->pkt_len = len;
	return m;
}

/* The frame as a tap read leaves it: one mbuf, or a chain of pieces. */
static struct rte_mbuf *
frame_mbuf(const uint8_t *f, uint32_t len, bool chain, uint16_t piece)
{
	struct rte_mbuf *head = NULL, *prev = NULL;
	uint32_t off = 0;

	if (!chain)
		piece = UINT16_MAX;
	piece = (uint16_t)RTE_MAX((uint32_t)piece, len / 128 + 1); /* hdr_pool holds 256 */
	do {
		uint16_t n = (uint16_t)RTE_MIN((uint32_t)piece, len - off);
		struct rte_mbuf *m = ext_mbuf(f + off, n);

		if (head == NULL) {
			head = m;
		} else {
			prev->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		prev = m;
		off += n;
	} while (off < len);
	return head;
}

/* Checksums of a resolved frame that asked for them. */
static void
verify(const struct rte_mbuf *s, uint64_t fl, uint16_t l2, uint16_t l3)
{
	const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
	uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;

	if (fl & RTE_MBUF_F_TX_IPV4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + l2);

		CHECK(rte_raw_cksum(ip, l3) == 0xffff);
		if (l4 != 0)
			CHECK(rte_ipv4_udptcp_cksum_verify(ip, p + l2 + l3) == 0);
	} else if (l4 != 0) {
		CHECK(rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)(p + l2),
						   p + l2 + l3) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	struct xvs_offload_iter it;
	struct rte_mbuf *m, *out[64];
	uint8_t mode;
	uint32_t len;
	uint16_t l2, l3, l4, hdr = 0, mss;
	uint32_t payload = 0, got = 0, nseg = 0;
	uint64_t fl;
	bool tso;

	if (size < 1 + sizeof(vh) + 1 || size > 1 + sizeof(vh) + UINT16_MAX)
		return 0;
	mode = data[0];
	memcpy(&vh, data + 1, sizeof(vh));
	len = (uint32_t)(size - 1 - sizeof(vh));
	m = frame_mbuf(data + 1 + sizeof(vh), len, mode & 1, (uint16_t)(64 + (mode >> 1) * 16));
	if (xvs_offload_from_vnet(&vh, m) != XVS_OFFLOAD_OK) {
		rte_pktmbuf_free(m);
		goto done;
	}
	CHECK(xvs_offload_check(m) == XVS_OFFLOAD_OK);
	fl = m->ol_flags;
	l2 = m->l2_len;
	l3 = m->l3_len;
	l4 = m->l4_len;
	mss = m->tso_segsz;
	tso = (fl & RTE_MBUF_F_TX_TCP_SEG) != 0;
	if (tso) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

		hdr = l2 + l3 + l4;
		if (fl & RTE_MBUF_F_TX_IPV4)
			payload = l2 + rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)(p + l2))
							  ->total_length) - hdr;
		else
			payload = l4 == 0 ? 0 :
				  rte_be_to_cpu_16(((const struct rte_ipv6_hdr *)(p + l2))
							   ->payload_len) - l4;
	}
	xvs_offload_begin(&it, m, pool, NULL);
	tso = it.seg_payload != 0; /* segmenting: more than one segment's worth */
	while (it.m != NULL) {
		uint16_t max = (uint16_t)(1 + (mode >> 4) % RTE_DIM(out));
		uint16_t k = xvs_offload_next(&it, out, max);

		CHECK(k <= max);
		for (uint16_t i = 0; i < k; i++) {
			struct rte_mbuf *s = out[i];

			CHECK(s->nb_segs == 1 && s->data_len == s->pkt_len);
			CHECK(!xvs_offload_pending(s));
			if ((fl & XVS_OL_REQUESTS) && s->pkt_len >= (uint32_t)l2 + l3)
				verify(s, fl, l2, l3);
			if (tso) {
				const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
				uint32_t seg = s->pkt_len - hdr;

				CHECK(s->pkt_len > hdr && seg <= mss);
				const struct rte_ipv4_hdr *ip4 = (const void *)(p + l2);
				const struct rte_ipv6_hdr *ip6 = (const void *)(p + l2);

				if (fl & RTE_MBUF_F_TX_IPV4)
					CHECK(rte_be_to_cpu_16(ip4->total_length) == s->pkt_len - l2);
				else
					CHECK(rte_be_to_cpu_16(ip6->payload_len) ==
					      s->pkt_len - l2 - l3);
				got += seg;
				nseg++;
			}
			rte_pktmbuf_free(s);
		}
	}
	/* Segmented: every payload byte went out once, in more than one segment
	 * (the pool never runs dry here: segments are freed as they come). */
	if (tso)
		CHECK(!it.failed && got == payload && nseg > 1);
done:
	CHECK(rte_mempool_in_use_count(pool) == 0);
	CHECK(rte_mempool_in_use_count(hdr_pool) == 0);
	return 0;
}

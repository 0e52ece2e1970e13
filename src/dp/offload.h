/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload requests: taken in at a tap, checked, and resolved at egress
 * (datapath).
 *
 * A tap guest's frame comes with a virtio-net header asking for a partial
 * checksum and, for TCP, segmentation (TSO). xvs_offload_from_vnet() turns
 * the header into mbuf TX flags and lengths, after checking every offset and
 * length the guest controls (the header's and the frame's own IP and TCP
 * length fields) against the frame: later code indexes the frame with them.
 * A frame that lies is dropped under a named reason (XVS_DROP_bad_offload,
 * XVS_DROP_bad_l3_len).
 *
 * The frame keeps its requests all the way through the switch. Ports that
 * take offload metadata (tap) get it as it came. At an egress port that
 * cannot honour them, xvs_offload_begin()/xvs_offload_next() carry them out
 * in software: TCP segmentation (IPv4 and IPv6), IPv4 header and TCP/UDP
 * checksums, flattening of chains. Segmentation hands segments out in chunks
 * the caller transmits as it goes, so no MSS needs a bigger array: a 64 KB
 * frame at the smallest MSS allowed (XVS_TSO_MSS_MIN) is ~1400 segments.
 *
 * Called by the worker that receives (checks) or transmits (resolution);
 * nothing here allocates beyond mbufs, locks or makes a syscall.
 */
#ifndef XVS_OFFLOAD_H
#define XVS_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

#include "dp.h"

#define XVS_OL_REQUESTS (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM)

/* Smallest TSO segment payload accepted: Linux's own floor. Its MSS never
 * goes below tcp_min_snd_mss, which cannot be set below TCP_MIN_SND_MSS (48,
 * "room for full set of TCP options and 8 bytes of data",
 * net/ipv4/tcp_output.c, __tcp_mtu_to_mss), so an honest guest never asks for
 * less. Bounds the work one frame can make a worker do at ~1400 segments
 * (a floor of 8 let a guest make ~8000 per 64 KB frame). */
#define XVS_TSO_MSS_MIN 48

/* No drop: the verdict of a check that passed. */
#define XVS_OFFLOAD_OK XVS_DROP__MAX

/* Does m ask for anything? */
static inline bool
xvs_offload_pending(const struct rte_mbuf *m)
{
	return (m->ol_flags & XVS_OL_REQUESTS) != 0;
}

/* Take in the virtio-net header vh of frame m (as a tap reads it; m->ol_flags
 * zero): set m's TX flags, l2_len, l3_len, l4_len and tso_segsz, then check
 * them with xvs_offload_check(). Returns XVS_OFFLOAD_OK, or the reason to drop
 * m (the caller frees and counts it). vh->hdr_len is a hint (virtio 1.2
 * 5.1.6.2) and is not used: header lengths are read from the frame. */
enum xvs_drop xvs_offload_from_vnet(const struct virtio_net_hdr *vh, struct rte_mbuf *m);

/* Check m's offload requests against its bytes, so that resolving them reads
 * and writes only inside the frame: one of IPv4/IPv6 with the EtherType to
 * match, l3_len equal to the IPv4 IHL (IPv6: 40, extension headers are not
 * taken), the IP length within the frame, a TCP/UDP header of the protocol
 * the IP header names inside the IP packet and in the first segment, for TSO
 * l4_len equal to the TCP data offset and tso_segsz >= XVS_TSO_MSS_MIN.
 * Returns XVS_OFFLOAD_OK for a frame without requests or one that passes;
 * XVS_DROP_bad_l3_len when an IP or TCP length field disagrees with the
 * frame; XVS_DROP_bad_offload for any other inconsistency. */
enum xvs_drop xvs_offload_check(const struct rte_mbuf *m);

/* Software resolution of one frame, as an iterator: begin, then next until
 * done. Lives on the caller's stack. */
struct xvs_offload_iter {
	struct rte_mbuf *m;          /* frame being resolved; NULL when done */
	struct rte_mempool *pool;    /* where segments come from */
	struct rte_mempool *big;     /* where a long chain is flattened into (or NULL) */
	uint32_t off;                /* offset in m of the next segment's payload */
	uint32_t end;                /* end of the TCP payload: end of the IP packet */
	uint32_t seq;                /* TCP sequence number at off (host order) */
	uint16_t hdr_len;            /* l2 + l3 + l4, copied into every segment */
	uint16_t seg_payload;        /* payload bytes per segment (the last may have less) */
	uint16_t ip_id;              /* IPv4 identification of the next segment */
	bool first;                  /* the next segment is the first one */
	bool failed;                 /* the frame or part of it was dropped */
};

/* Start resolving m (consumed: owned by it until done). Segments are
 * allocated from pool, whose data room bounds their size: a segment carries
 * less than tso_segsz when hdr + tso_segsz does not fit (legal TCP). A chain
 * that needs no segmentation is flattened as xvs_offload_linearize(m, big)
 * does. */
void xvs_offload_begin(struct xvs_offload_iter *it, struct rte_mbuf *m, struct rte_mempool *pool,
		       struct rte_mempool *big);

/* Write up to max (>= 1) single-segment frames with every request carried
 * out to out[] and return their number; the caller owns them. m itself is
 * one of them when it needed no segmentation. When it->m is NULL the frame
 * is done; it->failed then says it, or some of its segments, could not be
 * made (failed check, no mbuf, frame too long for one mbuf): count one drop. */
uint16_t xvs_offload_next(struct xvs_offload_iter *it, struct rte_mbuf **out, uint16_t max);

/* Make m a single segment (for ports that cannot send chains): in place when
 * its first segment has the tailroom, else copied into a fresh mbuf of
 * m->pool, or of big (may be NULL) when the frame is longer than an mbuf of
 * m->pool holds. Returns m or the copy, or NULL (m freed) when the frame does
 * not fit one mbuf. */
struct rte_mbuf *xvs_offload_linearize(struct rte_mbuf *m, struct rte_mempool *big);

#endif /* XVS_OFFLOAD_H */

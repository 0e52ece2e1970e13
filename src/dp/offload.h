/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload resolution at egress (datapath).
 *
 * Frames keep the offload requests they arrived with (a tap guest's TCP GSO
 * frame, a partial checksum) as mbuf TX flags all the way through the switch.
 * Only at an egress port that cannot honour them are they carried out, here,
 * in software: TCP segmentation with DPDK's GSO library, then IPv4 header and
 * TCP/UDP checksums. Ports that take offload metadata (tap) get the frame as
 * it came. Called by the worker that transmits, per frame that has a request,
 * so frames without requests cost one flag test.
 */
#ifndef XVS_OFFLOAD_H
#define XVS_OFFLOAD_H

#include <rte_gso.h>
#include <rte_mbuf.h>

#define XVS_OL_REQUESTS (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM)
#define XVS_GSO_MAX_SEGS 64

/* Does m ask for anything? */
static inline bool
xvs_offload_pending(const struct rte_mbuf *m)
{
	return (m->ol_flags & XVS_OL_REQUESTS) != 0;
}

/* Carry out m's offload requests in software. Writes the resulting
 * single-segment frames to out[0..max) and returns their number (m itself, or
 * its GSO segments). Consumes m. Returns 0 (m freed) if it could not be done:
 * no mbufs, or a malformed request; the caller counts a drop. */
uint16_t xvs_offload_resolve(struct rte_mbuf *m, struct rte_gso_ctx *gso, struct rte_mbuf **out,
			     uint16_t max);

/* Make m a single segment (for ports that cannot send chains). Returns m,
 * or NULL (m freed) when the frame does not fit one mbuf. */
struct rte_mbuf *xvs_offload_linearize(struct rte_mbuf *m);

#endif /* XVS_OFFLOAD_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MTU arithmetic of the port kinds (core, no DPDK).
 *
 * What each port kind can carry, and how an AF_PACKET ring is laid out for an
 * MTU. Config validation refuses an MTU a kind cannot carry before anything is
 * stored; the datapath (src/dp/port.c) sizes the devices from the same
 * numbers and checks at build time that its DPDK constants agree with the
 * ones here. Pure functions, no globals.
 */
#ifndef XVS_PORT_MTU_H
#define XVS_PORT_MTU_H

#include <stdint.h>

#include "config.h"
#include "xvs_err.h"

/* Longest frame a port of MTU mtu receives: Ethernet header and one 802.1Q tag. */
#define XVS_FRAME_MAX(mtu) ((uint32_t)(mtu) + 14u + 4u)
/* Frame data of one 2 KB packet buffer (DPDK's RTE_MBUF_DEFAULT_DATAROOM). */
#define XVS_MBUF_DATA 2048u
/* AF_XDP receives a frame into one 2 KB UMEM frame after 256 bytes of XDP headroom
 * (src/dp/ports/afxdp.c checks it at build time). */
#define XVS_AFXDP_MTU_MAX (XVS_MBUF_DATA - 256u - XVS_FRAME_MAX(0))
/* AF_PACKET (TPACKET_V2) writes a frame at TPACKET_ALIGN(TPACKET2_HDRLEN + 16)
 * - 14 = 66 bytes into its ring slot (net/packet/af_packet.c, tpacket_rcv). */
#define XVS_AFP_MAC_OFF 66u
#define XVS_AFP_FRAMES 512u   /* ring slots per queue and direction, at least */

/* Largest MTU ports of kind carry; *limit (if not NULL) says what sets it. */
uint32_t xvs_port_kind_mtu_max(enum xvs_port_kind kind, const char **limit);

/* 0 if ports of kind carry mtu, else -EINVAL with "port NAME: mtu N is more
 * than KIND ports carry (at most M: WHY)" in err. */
int xvs_port_mtu_check(const char *port, enum xvs_port_kind kind, uint32_t mtu,
		       struct xvs_err *err);

/* AF_PACKET ring geometry (the af_packet PMD's framesz, blocksz, framecnt). */
struct xvs_afp_ring {
	uint32_t framesz;   /* slot: a frame of the MTU, a tag, one byte spare, in 1 KB steps */
	uint32_t blocksz;   /* a whole number of slots and of pages */
	uint32_t framecnt;  /* a whole number of blocks, at least XVS_AFP_FRAMES */
};

/* Ring for mtu on a host of page-byte pages (page a power of two). The PMD
 * finds slot i at i * framesz across the ring while the kernel starts each
 * block afresh, so a block holds whole slots with nothing left over. The spare
 * byte keeps a longer frame, which the kernel cuts to the slot without a word,
 * too long for the MTU check. MTU 1500 gives the PMD's own 2048/4096/512. */
void xvs_afp_ring_for_mtu(uint32_t mtu, uint32_t page, struct xvs_afp_ring *r);

/* Largest MTU a ring of framesz slots carries. */
uint32_t xvs_afp_ring_mtu_max(uint32_t framesz);

#endif /* XVS_PORT_MTU_H */

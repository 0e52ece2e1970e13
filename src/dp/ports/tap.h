/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tap port with offload metadata (datapath).
 *
 * Why not DPDK's net_tap: it reads without a virtio-net header, so the kernel
 * must segment and checksum every TCP packet before handing it over (64 KB
 * becomes 45 frames and 45 read syscalls), and it raises SIGIO for every frame
 * that arrives. This port opens /dev/net/tun with IFF_VNET_HDR and
 * TUN_F_CSUM|TUN_F_TSO4, as QEMU and vhost-net do: a guest's 64 KB
 * TCP segment with a partial checksum crosses the switch as one mbuf (a 64 KB
 * one of the tap read pool, plus a 2 KB one for the last bytes of the largest
 * frames; a chain of 2 KB mbufs when that pool is empty), and is segmented and checksummed in software only at an egress port
 * that cannot take it (offload.h). Debian's DPDK ships no driver headers, so
 * this is a port kind of xvs's own rather than an ethdev PMD.
 *
 * Threads: xvs_tap_open/close run on the control thread. A queue's rx side is
 * used by the one worker that polls it; writes to a tap fd are atomic per
 * frame in the kernel, so several workers may transmit on one queue.
 */
#ifndef XVS_PORTS_TAP_H
#define XVS_PORTS_TAP_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "xvs_err.h"

struct xvs_tap;
struct xvs_port_counters;

/* Counters of one tap port, summed over queues (read by the control thread). */
struct xvs_tap_stats {
	uint64_t rx_nombuf;        /* reads skipped: mempool empty */
	uint64_t rx_errors;        /* read errors other than EAGAIN */
	uint64_t rx_bad_offload;   /* offload request we cannot honour or that lies:
				    * dropped (also in the port's drop reasons) */
	uint64_t tx_errors;        /* writes the kernel refused */
	uint64_t rx_reads;         /* read syscalls */
	uint64_t rx_reads_empty;   /* of which found no frame (the worker reads a tap
				    * only when epoll reports it: few of these) */
	uint64_t rx_reads_chained; /* of which went to 2 KB segments: no 64 KB mbuf
				    * was free */
};

/* Create tap ifname with nq queues, in the caller's network namespace, and
 * set its MAC (if mac != NULL) and bring it up. Frames are read into one mbuf
 * of big_pool (data room up to 64 KB) plus a 2 KB one of pool for what does
 * not fit, or, when big_pool is NULL or empty, into a chain of pool's mbufs.
 * Returns 0 or a negative errno with the reason in err. */
int xvs_tap_open(const char *ifname, uint16_t nq, const uint8_t *mac, struct rte_mempool *pool,
		 struct rte_mempool *big_pool, struct xvs_tap **out, struct xvs_err *err);
void xvs_tap_close(struct xvs_tap *t);

/* Let the kernel steer frames to queues 0..n-1 only (TUNSETQUEUE attach /
 * detach; the kernel picks among attached queues by flow hash) and transmit
 * on those only. Control thread; call with n smaller only after no worker
 * polls the queues being detached. */
int xvs_tap_attach_queues(struct xvs_tap *t, uint16_t n, struct xvs_err *err);

/* Transmit on queues 0..n-1 only, from now on: call before the grace period
 * that precedes detaching the others. */
void xvs_tap_limit_tx(struct xvs_tap *t, uint16_t n);

/* The queue's fd: readable when frames wait (the worker's wake-up source). */
int xvs_tap_fd(const struct xvs_tap *t, uint16_t q);
void xvs_tap_get_stats(const struct xvs_tap *t, struct xvs_tap_stats *st);

/* Receive up to n frames from queue q (one worker per queue). Frames carry the
 * kernel's offload requests as mbuf TX flags (RTE_MBUF_F_TX_TCP_SEG with
 * tso_segsz, RTE_MBUF_F_TX_{TCP,UDP}_CKSUM with l2_len/l3_len/l4_len), checked
 * against the frame (xvs_offload_from_vnet). A frame whose virtio-net header
 * or length fields lie is freed and counted in c (the port's counters of the
 * calling worker) as received and dropped under its reason. */
uint16_t xvs_tap_rx_burst(struct xvs_tap *t, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			  struct xvs_port_counters *c);

/* Write pkts[0..n) to queue q with their offload requests in the virtio-net
 * header. Consumes every mbuf; returns how many the kernel accepted and adds
 * their bytes to *bytes (the rest are counted in tx_errors and freed). */
uint16_t xvs_tap_tx_burst(struct xvs_tap *t, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			  uint64_t *bytes);

#endif /* XVS_PORTS_TAP_H */

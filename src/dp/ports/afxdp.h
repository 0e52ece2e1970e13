/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AF_XDP port on libxdp's xsk API (datapath).
 *
 * Why not DPDK's net_af_xdp: the 22.11 PMD leaves its AF_XDP sockets and BPF
 * objects open when its device is closed (the socket keeps the netdev queue,
 * so the port cannot be added again), its error paths after a failed queue
 * setup are not safe to retry (a re-added port received mbufs with a NULL
 * buf_addr), and it has no rx interrupt, so a worker polling it could not
 * sleep and woke on a timer (~1 ms a ping). The rule: where the PMD
 * cannot do it, write the port on libxdp/libbpf, as Open vSwitch's
 * netdev-afxdp does. This port owns every object it creates (UMEMs, sockets,
 * the XSKMAP and the XDP program) and releases them all on close.
 *
 * Layout: one UMEM per socket, one socket per netdev queue
 * (start_queue .. start_queue + nq - 1). A UMEM's frames are split: the rx
 * half circulates between the fill ring and the rx ring only (a received
 * frame is copied into an mbuf of the caller's pool and its UMEM frame goes
 * straight back to the fill ring, so mbufs can go anywhere); the tx half is a
 * free list refilled from the completion ring (an mbuf is copied into a free
 * frame, every segment, and freed). The rx side of a queue is used by the one
 * worker that polls it, the tx side by the one worker whose id is the queue
 * (others hand off through the port's tx ring): the halves share nothing.
 *
 * Waking: XDP_USE_NEED_WAKEUP. The socket fd is readable while its rx ring
 * holds frames; it is the queue's wake-up fd in the worker's epoll set, so an
 * idle port costs no CPU and the first frame wakes the worker. No blocking
 * poll() anywhere: tx kicks are sendto(MSG_DONTWAIT) when the tx ring holds
 * unsent frames and asks for one (a copy-mode socket sends at most 32 a
 * kick), rx kicks recvfrom(MSG_DONTWAIT) when the fill ring asks. Frames a
 * kick left in the tx ring are kicked again by the next tx burst and by
 * xvs_xsk_tx_flush(), which the tx queue's worker calls before it sleeps
 * (sleeping then with a timeout while any remain).
 *
 * Threads: open/close/stats/link on the control thread.
 */
#ifndef XVS_PORTS_AFXDP_H
#define XVS_PORTS_AFXDP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "xvs_err.h"

struct xvs_xsk;

/* The xdp-mode port option. */
enum xvs_xsk_mode {
	XVS_XSK_AUTO = 0,   /* zero-copy if the driver binds it, else copy */
	XVS_XSK_COPY,
	XVS_XSK_ZEROCOPY,
};

/* Largest frame a UMEM frame takes on rx (after the kernel's XDP headroom). */
uint32_t xvs_xsk_frame_max(void);

/* Counters of one port, summed over queues (control thread). */
struct xvs_xsk_stats {
	uint64_t rx_alloc_failed;    /* rx bursts the mempool could not serve in full
				      * (the frames wait in the rx ring; lost ones the
				      * kernel counts in rx_kernel_dropped) */
	uint64_t rx_kernel_dropped;  /* kernel: no fill frame, rx ring full, or other */
	uint64_t rx_invalid;         /* kernel: invalid fill descriptors */
	uint64_t tx_invalid;         /* kernel: invalid tx descriptors */
	uint64_t tx_too_long;        /* frames longer than a UMEM frame: dropped (a
				      * guard: the egress MTU check drops them first,
				      * as tx_oversize) */
	uint64_t tx_kicks;           /* sendto() calls */
	uint64_t tx_kick_busy;       /* of which the kernel said EAGAIN/EBUSY */
	uint64_t rx_kicks;           /* recvfrom() calls for the fill ring */
};

/* Attach an XDP program redirecting netdev ifname's queues start_queue ..
 * start_queue + nq - 1 to AF_XDP sockets bound to them in the given mode,
 * in the caller's network namespace. pool gives the mbufs frames are
 * received into. A program of ours that a killed xvsd left on the netdev is
 * replaced; a live one (another port, another xvsd) is not: -EBUSY. Returns 0
 * or a negative errno with the reason in err; on failure every socket, UMEM
 * and BPF object made here is released again (the netdev's MTU is the
 * caller's to restore). */
int xvs_xsk_open(const char *ifname, uint16_t nq, uint16_t start_queue, enum xvs_xsk_mode mode,
		 struct rte_mempool *pool, struct xvs_xsk **out, struct xvs_err *err);

/* Detach the program and release every socket, UMEM and BPF object. Call only
 * after no worker uses the port. */
void xvs_xsk_close(struct xvs_xsk *x);

/* Queue q's socket fd: readable while received frames wait. */
int xvs_xsk_fd(const struct xvs_xsk *x, uint16_t q);

/* Mode in force: "zero-copy" or "copy", and how the XDP program is attached
 * ("native" or "generic"). */
const char *xvs_xsk_mode_name(const struct xvs_xsk *x);
const char *xvs_xsk_attach_name(const struct xvs_xsk *x);

/* The netdev is up and has carrier. */
bool xvs_xsk_link_up(const struct xvs_xsk *x);

void xvs_xsk_get_stats(const struct xvs_xsk *x, struct xvs_xsk_stats *st);

/* Receive up to n frames from queue q into mbufs (one worker per queue). */
uint16_t xvs_xsk_rx_burst(struct xvs_xsk *x, uint16_t q, struct rte_mbuf **pkts, uint16_t n);

/* Copy pkts[0..) into free tx frames of queue q and free them, as
 * rte_eth_tx_burst does: returns how many were taken from the front (a frame
 * too long for a UMEM frame is taken, dropped and counted in tx_too_long);
 * the caller keeps the rest (no free tx frame or tx ring slot). One worker
 * per queue. Kicks the kernel whenever the tx ring holds frames it has not
 * taken, whether or not this call queued any. */
uint16_t xvs_xsk_tx_burst(struct xvs_xsk *x, uint16_t q, struct rte_mbuf **pkts, uint16_t n);

/* Take back sent tx frames of queue q and kick the kernel for frames still in
 * its tx ring (the tx queue's worker, before it sleeps). Returns true if some
 * remain unsent: the caller must come back (sleep with a timeout). */
bool xvs_xsk_tx_flush(struct xvs_xsk *x, uint16_t q);

#endif /* XVS_PORTS_AFXDP_H */

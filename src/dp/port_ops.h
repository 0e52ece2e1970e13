/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port kinds as ops tables (datapath; in the manner of Open vSwitch's
 * struct netdev_class).
 *
 * Each port kind (tap, vhost-user, AF_XDP, AF_PACKET, PCI, pcap, null, later
 * team and VF) is one const struct xvs_port_ops in its own file under
 * src/dp/ports/. Nothing outside a kind's file asks which kind a port is: the
 * worker loop, the control code and the CLI use these callbacks and the
 * capabilities a port's open fills in (struct xvs_port_caps).
 *
 * Threads
 * -------
 * - open, close, link, set_mtu, mtu_allowed, rss_apply, limit_tx, dev_stats and
 *   info run on the control thread only, with the port (struct xvs_port) it owns.
 * - rx_burst, tx_burst, tx_pending, rxq_ready and rxq_intr run on workers,
 *   with the kind's private pointer (struct xvs_port.priv, copied into the
 *   snapshot): they must not
 *   touch struct xvs_port, allocate, lock, or log above rate-limited debug.
 *   An rx queue has one polling worker at a time (the snapshot says which);
 *   a tx queue is used by one worker (its id), unless the kind says that
 *   several may write one (caps.n_txq >= XVS_MAX_WORKERS, e.g. a tap).
 * - Between close and the port's last snapshot lies a QSBR grace period:
 *   close may free what the datapath callbacks use.
 */
#ifndef XVS_PORT_OPS_H
#define XVS_PORT_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "config.h"
#include "xvs_err.h"

struct xvs_port;
struct xvs_port_counters;
struct xvs_ethdev_kind;

/* What an open port can do, filled in by its kind's open (control thread;
 * read by the control code, and copied into snapshots for the workers). */
struct xvs_port_caps {
	bool uplink;              /* connects the switch to a network (else a VM's port) */
	bool tx_meta_offload;     /* takes GSO/checksum requests as mbuf metadata (no
				   * software resolution at egress) */
	bool rx_lazy;             /* reading a queue is a syscall: read it only when its
				   * wake-up fd says frames wait (see worker.c) */
	bool rx_spin_short;       /* its wake-up fd wakes the worker for any frame: spin
				   * only XVS_IDLE_SPIN_FD_US before sleeping, as for a
				   * lazy queue (worker.c) */
	uint8_t tx_drop;          /* enum xvs_drop counted for frames tx_burst did not send */
	uint64_t rx_offloads;     /* RTE_ETH_RX_OFFLOAD_* the device offers (0: none known) */
	uint64_t tx_offloads;     /* RTE_ETH_TX_OFFLOAD_* the device offers (0: none known) */
	uint32_t mtu_min;         /* MTU range the device reports (0: not reported) */
	uint32_t mtu_max;
	uint16_t max_rx_queues;   /* what the device could have */
	uint16_t max_tx_queues;
};

/* Link state as a kind reports it. */
struct xvs_port_link {
	bool up;                  /* can carry frames now (a guest attached, carrier) */
	uint32_t speed_mbps;      /* 0: unknown or not applicable */
};

/* Device-level counters: what the device lost or refused before xvs saw it. */
#define XVS_PORT_DEV_EXTRA 8
struct xvs_port_dev_stats {
	bool valid;               /* the kind reported something */
	uint64_t rx_missed;       /* frames lost for want of buffers */
	uint64_t rx_errors;
	uint64_t tx_errors;
	uint8_t n_extra;          /* kind-specific counters, shown as dev_<name> */
	struct {
		const char *name;
		uint64_t value;
	} extra[XVS_PORT_DEV_EXTRA];
};

/* Kind-specific facts of an open port, shown as top-level keys of its port
 * show (an AF_XDP port's xdp_mode and xdp_attach). The strings are the
 * kind's, valid while the port is open. */
#define XVS_PORT_INFO_MAX 4
struct xvs_port_info {
	uint8_t n;
	struct {
		const char *name;
		const char *value;
	} kv[XVS_PORT_INFO_MAX];
};

struct xvs_port_ops {
	enum xvs_port_kind kind;  /* the configuration's kind this table implements */

	/* Known before a port is opened (validation of a port add). */
	bool steerable;           /* xvs may choose which rx queues get traffic (open may
				   * still find that this device cannot) */
	bool needs_pci_bus;       /* needs xvsd --pci */
	bool ifname_exclusive;    /* two ports of this kind cannot share cfg.ifname */
	const char *ifname_exclusive_hint; /* appended to that refusal (NULL: nothing) */
	/* DPDK ethdev kinds: how they specialize the shared base (ports/ethdev.h),
	 * NULL for a kind that is not an ethdev. */
	const struct xvs_ethdev_kind *ethdev;

	/* Create and start the device of p->cfg; set p->priv, p->devname,
	 * p->driver, p->n_rxq, p->n_txq, p->rxq[q].fd (or -1), p->rx_intr, p->mac,
	 * p->caps, p->mtu_max, p->rx_mtu_max, p->rss_steerable/rss_hw_reta/
	 * reta_size/rss_attached. On failure return a negative errno with the
	 * reason in err and leave nothing behind (p->priv NULL). */
	int (*open)(struct xvs_port *p, struct xvs_err *err);

	/* Stop and free the device and p->priv. Called only after the port has
	 * left every snapshot and a grace period has passed. */
	void (*close)(struct xvs_port *p);

	/* Receive up to n frames from rx queue q into pkts. Returns how many.
	 * Frames the kind drops itself (a lying offload header) are counted in c,
	 * the calling worker's counters of the port, as received and dropped. */
	uint16_t (*rx_burst)(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			     struct xvs_port_counters *c);

	/* Transmit pkts[0..n) on tx queue q, retrying while the device makes
	 * progress. Consumes every mbuf: those not sent are freed. Returns how
	 * many were sent and adds their bytes to *bytes; the caller counts the
	 * others under caps.tx_drop. */
	uint16_t (*tx_burst)(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			     uint64_t *bytes);

	/* Optional (NULL: caps.tx_meta_offload says it). For a kind whose
	 * peer chooses the offloads it takes (a vhost-user guest negotiates
	 * them at each attach): whether tx_burst may be given checksum and TSO
	 * requests as metadata now; if not, the worker carries them out in
	 * software first. Only asked for bursts that hold requests. Worker. */
	bool (*tx_meta_now)(void *priv);

	/* Optional (NULL: the kind keeps nothing back). For kinds whose tx_burst
	 * may leave frames queued that the device has not taken yet (an AF_XDP
	 * socket's tx ring, whose kernel side sends at most 32 a kick): take
	 * back what was sent and push the rest of tx queue q. Returns true if
	 * frames remain. Called by the worker whose id is q (q < the port's
	 * n_txq) before it sleeps: it then sleeps with a timeout, since no fd
	 * says when the device could take them. No allocation, no lock; a
	 * non-blocking syscall is fine (once per sleep, not per frame). */
	bool (*tx_pending)(void *priv, uint16_t q);

	/* Optional (NULL: always). Whether rx queue q can have frames now (a
	 * vhost-user queue: a guest attached and the vring enabled); a queue
	 * that cannot is neither polled nor armed. The kind calls
	 * xvs_dp_rxq_changed() after every change of the answer, and rx_burst
	 * must still be safe on a queue whose answer just turned false.
	 * Called by the workers when they rebuild their poll lists (rarely). */
	bool (*rxq_ready)(void *priv, uint16_t q);

	/* Arm (on) or disarm the wake-up of rx queue q: after arming, its fd
	 * (p->rxq[q].fd) turns readable when a frame arrives. 0, or a negative
	 * errno when the queue cannot wake a sleeping worker (it is then looked
	 * at on a timer). Called by the queue's polling worker. */
	int (*rxq_intr)(void *priv, uint16_t q, bool on);

	/* Link state and speed of an open port. */
	void (*link)(const struct xvs_port *p, struct xvs_port_link *l);

	/* Would set_mtu take mtu, as far as the kind's own rules go (its limit,
	 * the receive buffers it was opened with)? Changes nothing. 0 or -EINVAL
	 * with the rule in err. */
	int (*mtu_allowed)(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err);

	/* Set the MTU of an open port's device. 0 or a negative errno. */
	int (*set_mtu)(struct xvs_port *p, uint32_t mtu, struct xvs_err *err);

	/* Make the device deliver to rx queues 0..n-1 only (tap: attach queues;
	 * a NIC: program its RETA, key and hash types from cfg.rss). NULL for
	 * kinds whose queues xvs cannot steer. Called with n smaller only once
	 * no worker polls the queues given up. */
	int (*rss_apply)(struct xvs_port *p, uint16_t n, struct xvs_err *err);

	/* Optional: transmit on tx queues 0..n-1 only from now on (before a
	 * grace period and rss_apply with a smaller n). */
	void (*limit_tx)(struct xvs_port *p, uint16_t n);

	/* Device-level counters of an open port. */
	void (*dev_stats)(const struct xvs_port *p, struct xvs_port_dev_stats *st);

	/* Optional: kind-specific facts of an open port (struct xvs_port_info). */
	void (*info)(const struct xvs_port *p, struct xvs_port_info *info);

	/* Optional (NULL: the kind has no NIC filters). VMQ: would the device
	 * steer frames to destination mac on VLAN vid (0: any) into rx queue
	 * `queue` (rte_flow: eth dst + vlan -> QUEUE)? Validates only, installs
	 * nothing: 0, or a negative errno with the device's reason in err. The
	 * caller falls back to a software queue on failure (src/ctl/vmq.c). */
	int (*vmq_filter)(const struct xvs_port *p, const uint8_t mac[6], uint16_t vid,
			  uint16_t queue, struct xvs_err *err);
};

/* For a kind's tx_burst over a device call that takes what it can from the
 * front, as rte_eth_tx_burst does: retry while it makes progress (as OVS
 * netdev_dpdk_eth_tx_burst), then free the rest. Adds the bytes sent to
 * *bytes and returns how many were sent (the tx_burst contract). Worker. */
#define XVS_PORT_TX_RETRIES 8
static inline uint16_t
xvs_port_tx_retry(uint16_t (*send)(void *dev, uint16_t q, struct rte_mbuf **pkts, uint16_t n),
		  void *dev, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	uint64_t b = 0;
	uint16_t sent = 0;

	for (uint16_t i = 0; i < n; i++)
		b += pkts[i]->pkt_len;
	for (int tries = 0; sent < n && tries < XVS_PORT_TX_RETRIES; tries++) {
		uint16_t k = send(dev, q, pkts + sent, (uint16_t)(n - sent));

		if (k == 0 && tries > 0)
			break;
		sent += k;
	}
	for (uint16_t i = sent; i < n; i++) {
		b -= pkts[i]->pkt_len;
		rte_pktmbuf_free(pkts[i]);
	}
	*bytes += b;
	return sent;
}

/* The ops table of every kind, by enum xvs_port_kind (port.c). */
const struct xvs_port_ops *xvs_port_ops_of(enum xvs_port_kind kind);

/* One table per kind, each in its own file under src/dp/ports/. */
extern const struct xvs_port_ops xvs_port_tap_ops;
extern const struct xvs_port_ops xvs_port_afxdp_ops;
extern const struct xvs_port_ops xvs_port_afpacket_ops;
extern const struct xvs_port_ops xvs_port_vhost_ops;
extern const struct xvs_port_ops xvs_port_pcap_ops;
extern const struct xvs_port_ops xvs_port_null_ops;
extern const struct xvs_port_ops xvs_port_pci_ops;

/* lib vhost's socket set (vhost.c): entries in use now, kept for the
 * vhost-user ports once all their guests connect, and its limit. */
void xvs_vhost_fdset(unsigned int *used, unsigned int *reserved, unsigned int *max);

#endif /* XVS_PORT_OPS_H */

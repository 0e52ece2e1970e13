/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared base of the port kinds that are DPDK ethdevs (af_packet,
 * pci, pcap, null): hot-plug probe, configure, start, stop,
 * remove, and rx/tx through rte_eth_*. A kind specializes it with a struct
 * xvs_ethdev_kind (its devargs and its quirks) and an ops table that uses
 * the xvs_ethdev_* callbacks below (XVS_ETHDEV_OPS fills in the common ones).
 *
 * Threads: as port_ops.h. The private state (struct xvs_ethdev, or a kind's
 * struct that begins with one) is rte_zmalloc'd at open and freed at close;
 * workers read port_id, rx_intr and wake_fd from it.
 */
#ifndef XVS_PORT_ETHDEV_H
#define XVS_PORT_ETHDEV_H

#include <rte_ethdev.h>

#include "port.h"

/* Private state of an ethdev port. Kinds with more put this first in theirs. */
struct xvs_ethdev {
	uint16_t port_id;          /* DPDK ethdev id */
	bool rx_intr;              /* every rx queue has an interrupt fd */
	int wake_fd;               /* a kind's wake-up socket standing in for rx interrupts
				    * on its one rx queue (af_packet), or -1 */
	uint64_t rss_hf_capa;      /* RSS hash types the device offers */
	uint16_t reta_size;        /* the device's RETA entries (0: none) */
	uint16_t hash_key_size;
};

/* How a kind specializes the base. Every hook is optional except devargs. */
struct xvs_ethdev_kind {
	const char *bus;           /* hot-plug bus of its devices: "vdev" or "pci" */
	size_t priv_size;          /* its private struct (>= sizeof(struct xvs_ethdev)) */
	bool scatter;              /* may receive a long frame into a chain of 2 KB mbufs
				    * when the device offers it (NICs) */
	bool own_mtu_limit;        /* the device's reported max_mtu means nothing (af_packet) */
	bool uplink;               /* its ports connect the switch to a network (caps.uplink) */

	/* Write the device arguments into buf and the device name into
	 * p->devname; *nq rx queues wanted. 0 or -ENAMETOOLONG. */
	int (*devargs)(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len,
		       uint16_t *nq);
	/* Before the probe (checks, leftovers). 0 or a negative errno + err. */
	int (*pre_probe)(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err);
	/* Whether a frame of p->cfg.mtu fits one 2 KB mbuf of the device's
	 * receive path; sets p->rx_mtu_max. Default: frame <= 2 KB. */
	bool (*rx_fits)(struct xvs_port *p, struct xvs_ethdev *e);
	/* Adjust the device configuration (RSS) for nrx rx queues. */
	void (*configure)(struct xvs_port *p, struct xvs_ethdev *e, uint16_t nrx,
			  struct rte_eth_conf *conf);
	/* Set the MTU (default: rte_eth_dev_set_mtu, -ENOTSUP tolerated). */
	int (*set_mtu)(struct xvs_port *p, uint32_t mtu, struct xvs_err *err);
	/* After start, before the port is open: wake-up sockets, RETA
	 * capability, kind-specific fixes. 0 or a negative errno + err. */
	int (*post_start)(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err);
	/* Before stop at close (frames still arriving). */
	void (*pre_close)(struct xvs_port *p, struct xvs_ethdev *e);
	/* After the device is removed, at close and after a failed open. */
	void (*post_remove)(struct xvs_port *p, struct xvs_ethdev *e);
};

/* Open p as an ethdev of p->ops->ethdev. See struct xvs_port_ops.open. */
int xvs_ethdev_open(struct xvs_port *p, struct xvs_err *err);
void xvs_ethdev_close(struct xvs_port *p);
uint16_t xvs_ethdev_rx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			     struct xvs_port_counters *c);
uint16_t xvs_ethdev_tx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			     uint64_t *bytes);
int xvs_ethdev_rxq_intr(void *priv, uint16_t q, bool on);
void xvs_ethdev_link(const struct xvs_port *p, struct xvs_port_link *l);
int xvs_ethdev_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err);
int xvs_ethdev_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err);
void xvs_ethdev_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st);
int xvs_ethdev_vmq_filter(const struct xvs_port *p, const uint8_t mac[6], uint16_t vid,
			  uint16_t queue, struct xvs_err *err);

/* ethdev RSS flags for xvs hash types (XVS_RSS_*). */
uint64_t xvs_ethdev_rss_hf(uint32_t types);

static inline struct xvs_ethdev *
xvs_ethdev_of(const struct xvs_port *p)
{
	return p->priv;
}

/* The callbacks every ethdev kind shares; a kind names its open, close,
 * rxq_intr (xvs_ethdev_rxq_intr unless it has its own wake-up) and
 * rss_apply (or NULL), and its hooks. */
#define XVS_ETHDEV_OPS(KIND, HOOKS)                                                          \
	.kind = (KIND), .ethdev = (HOOKS), .rx_burst = xvs_ethdev_rx_burst,                   \
	.tx_burst = xvs_ethdev_tx_burst, .link = xvs_ethdev_link, .mtu_allowed = xvs_ethdev_mtu_allowed,                       \
	.set_mtu = xvs_ethdev_set_mtu, .dev_stats = xvs_ethdev_dev_stats,                       \
	.vmq_filter = xvs_ethdev_vmq_filter

#endif /* XVS_PORT_ETHDEV_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: one attachment of the switch (a VM's tap or vhost-user socket, an
 * uplink netdev through AF_XDP or AF_PACKET, a PCI NIC, a pcap or null device),
 * each backed by a DPDK ethdev that is hot-plugged with rte_dev_probe() when the
 * port is added and removed with rte_dev_remove() when it is deleted; tap and
 * afxdp ports are xvs's own (port_tap.h, ports/afxdp.h), without an ethdev.
 *
 * Owned by the control thread. Workers see a port only through its
 * struct xvs_snap_port in the current snapshot.
 */
#ifndef XVS_PORT_H
#define XVS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dp.h"
#include "xvs_err.h"

struct xvs_xsk;

struct xvs_port {
	struct xvs_port_cfg cfg;     /* as stored */
	uint16_t slot;               /* index in the port table and in snapshots */
	bool open;                   /* device probed, configured and started */
	char error[256];             /* why the device is not open ("" if open) */
	char devname[64];            /* DPDK device name */
	uint16_t eth_port;           /* ethdev id while open */
	uint16_t n_rxq;              /* rx queues polled */
	uint16_t n_txq;              /* tx queues (workers with id >= n_txq hand off) */
	bool rx_intr;                /* every rx queue has an interrupt fd */
	int rxq_fd[XVS_MAX_QUEUES];  /* interrupt fd per rx queue, -1 if none */
	struct rte_ring *tx_ring;    /* hand-off ring when n_txq < workers */
	struct xvs_tap *tap;         /* tap ports: xvs's own tap device (no ethdev) */
	struct xvs_xsk *xsk;         /* afxdp ports: xvs's own AF_XDP sockets (no ethdev) */
	int wake_fd;                 /* afpacket: wake-up socket (see port_wake_*), or -1 */
	char driver[32];             /* PMD name, for show */
	uint32_t mtu_max;            /* the device's own MTU limit (0: none reported) */
	unsigned int afp_framesz;    /* af_packet: ring slot size the device was opened with */
	uint32_t rx_mtu_max;         /* largest MTU its receive buffers hold (0: any, tap) */
	uint8_t mac[6];              /* device MAC as DPDK reports it */

	/* RSS in force (control thread; settings in cfg.rss, plan in switch.c). */
	bool rss_steerable;          /* xvs picks which rx queues get traffic (tap, pci) */
	bool rss_hw_reta;            /* the device hashes with our key and takes our RETA (pci) */
	uint16_t reta_size;          /* the device's RETA entries (rss_hw_reta) */
	uint64_t rss_hf_capa;        /* ethdev RSS hash types the device offers */
	struct xvs_rss_table *rss_table; /* for cfg.rss.key (rte_malloc), NULL = none yet */
	uint8_t rss_table_key[XVS_RSS_KEY_LEN];
	uint16_t rss_k;              /* conservative profile: workers in use now */
	uint16_t rss_n_set;          /* workers the settings allow, in rss_set */
	uint16_t rss_set[XVS_MAX_WORKERS];
	uint16_t rss_n_active;       /* of those, in use (the first rss_n_active) */
	uint16_t rss_queues_used;    /* rx queues polled */
	uint16_t rss_attached;       /* rx queues the device delivers to (steerable ports) */
	uint8_t rss_hw_key[XVS_RSS_KEY_LEN]; /* key and types the device was given (pci) */
	uint32_t rss_hw_types;
	uint16_t rss_queue_worker[XVS_MAX_QUEUES];
	bool rss_spread;             /* software spreading over the active workers */
	uint16_t rss_reta_size;      /* size rss_reta was filled for, 0 = refill */
	enum xvs_rss_profile rss_reta_profile; /* profile it was filled under */
	uint16_t rss_reta[XVS_RSS_RETA_MAX]; /* worker ids */
	uint64_t rss_rebalances;     /* RETA moves by the closest profile */
	uint64_t rss_prev_rx;        /* port rx_packets at the last tick */
	double rss_rx_pps;           /* over the last tick */
	struct xvs_rss_cons rss_cons; /* conservative profile: trial and hold (core/rss.h) */
	uint64_t rss_unpaid;         /* growths taken back */
	char rss_error[300];         /* why the settings could not be applied ("" = fine) */
};

/* Probe, configure and start the device of p->cfg. On failure p->open is
 * false, p->error and err say why, and nothing is left behind. */
int xvs_port_open(struct xvs_port *p, struct xvs_err *err);

/* Stop and remove the device. Call only after the port has left every snapshot
 * and a QSBR grace period has passed. Frees mbufs left in the hand-off ring. */
void xvs_port_close(struct xvs_port *p);

/* Set the MTU of an open port's device (a tap's kernel side, wherever its
 * namespace is; an ethdev through DPDK, which some PMDs do not support: then
 * only xvs's own frame-size check changes). Returns 0 or a negative errno. */
int xvs_port_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err);

/* Would xvs_port_set_mtu() take mtu, as far as xvs's own rules go (the kind's
 * limit, the receive buffers the port was opened with, the device's limit)?
 * Changes nothing: for validating a request before it is stored. Returns 0 or
 * -EINVAL with the rule in err. The device itself may still refuse. */
int xvs_port_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err);

/* Make the device deliver to rx queues 0..n-1 only: attach/detach tap queues,
 * or program a PCI NIC's RETA (entry i -> queue i mod n), key and hash types
 * from cfg.rss. A no-op for ports whose queues xvs cannot steer. */
int xvs_port_rss_apply(struct xvs_port *p, uint16_t n, struct xvs_err *err);

/* Wake-up sockets stand in for rx interrupts on af_packet ports (the PMD has
 * none): an AF_PACKET socket on the same netdev whose BPF filter
 * drops everything while the worker polls, and lets incoming frames through
 * (1 byte each) while it sleeps, so the socket turns readable on the first frame.
 * Arm/disarm are called by the worker that polls the port's only rx queue. */
int xvs_port_wake_arm(int fd);
void xvs_port_wake_disarm(int fd);

#endif /* XVS_PORT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: one attachment of the switch (a VM's tap or vhost-user socket, an
 * uplink netdev through AF_XDP or AF_PACKET, a PCI NIC, a pcap or null device).
 * Each kind is an ops table (port_ops.h) in its own file under ports/; this
 * file is what the control code sees of any port: the generic state, the rx
 * queues as objects, and the calls that go through the kind's ops.
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
#include "port_ops.h"
#include "xvs_err.h"

/* An rx queue of a port (a NIC queue, a tap queue, a virtqueue, an AF_XDP
 * socket): the unit that RSS placement (switch.c) and later the balancer
 * give to one worker. Owned by the control thread; the worker that polls it
 * counts its packets and busy cycles in its own struct xvs_rxq_counters
 * (dp.h), which the control thread sums over workers. */
struct xvs_rxq {
	uint16_t port;               /* port slot */
	uint16_t id;                 /* queue id on the device */
	uint16_t worker;             /* owner: the worker that polls it, if polled */
	bool polled;                 /* in the snapshot (id < the port's rss_queues_used) */
	int fd;                      /* wake-up fd (interrupt, kick, tap fd), -1 if none */
	/* rates over the last tick (xvsd_tick) */
	uint64_t prev_packets;
	uint64_t prev_busy_tsc;
	double pps;
	double busy_pct;             /* share of one worker's cycles spent on it */
	/* The balancer (ctl/balancer.c): the worker it placed the queue on
	 * (wins over RSS placement while bal_placed), its busy cycles at the
	 * last sample, and its last move (the hold). */
	bool bal_placed;
	uint16_t bal_worker;
	uint64_t bal_prev_busy_tsc;
	double bal_busy_pct;         /* over the last balancer interval */
	bool bal_moved;
	uint64_t bal_moved_ns;
};

struct xvs_port {
	struct xvs_port_cfg cfg;     /* as stored */
	uint16_t slot;               /* index in the port table and in snapshots */
	bool open;                   /* device probed, configured and started */
	char error[256];             /* why the device is not open ("" if open) */
	char devname[64];            /* DPDK device name */
	uint16_t n_rxq;              /* rx queues polled */
	uint16_t n_txq;              /* tx queues (workers with id >= n_txq hand off) */
	bool rx_intr;                /* every rx queue has a wake-up fd */
	struct xvs_rxq rxq[XVS_MAX_QUEUES]; /* 0..n_rxq-1 */
	struct rte_ring *tx_ring;    /* hand-off ring when n_txq < workers */
	const struct xvs_port_ops *ops; /* its kind */
	void *priv;                  /* the kind's state while open (workers get it too) */
	struct xvs_port_caps caps;   /* filled by open */
	char driver[32];             /* PMD name, for show */
	uint32_t mtu_max;            /* the device's own MTU limit (0: none reported) */
	uint32_t rx_mtu_max;         /* largest MTU its receive buffers hold (0: any, tap) */
	uint8_t mac[6];              /* device MAC as the device reports it */

	/* RSS in force (control thread; settings in cfg.rss, plan in switch.c). */
	bool rss_steerable;          /* xvs picks which rx queues get traffic (tap, pci) */
	bool rss_hw_reta;            /* the device hashes with our key and takes our RETA (pci) */
	uint16_t reta_size;          /* the device's RETA entries (rss_hw_reta) */
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

/* Open the device of p->cfg through its kind's ops, and the tx hand-off ring
 * when it has fewer tx queues than there are workers. On failure p->open is
 * false, p->error and err say why, and nothing is left behind. */
int xvs_port_open(struct xvs_port *p, struct xvs_err *err);

/* Whether the kind of cfg lets xvs steer its rx queues (before opening). */
bool xvs_port_kind_steerable(enum xvs_port_kind kind);

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

/* Make the device deliver to rx queues 0..n-1 only (the kind's rss_apply).
 * A no-op for ports whose queues xvs cannot steer. */
int xvs_port_rss_apply(struct xvs_port *p, uint16_t n, struct xvs_err *err);

/* Transmit on tx queues 0..n-1 only from now on (kinds that care). */
void xvs_port_limit_tx(struct xvs_port *p, uint16_t n);

/* Link state of p (down if not open). */
void xvs_port_link(const struct xvs_port *p, struct xvs_port_link *l);

/* Device-level counters of p (st->valid false if none or not open). */
void xvs_port_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st);

/* Kind-specific facts of p for port show (info->n 0 if none or not open). */
void xvs_port_info(const struct xvs_port *p, struct xvs_port_info *info);

/* ---- helpers for the kinds (ports/) ---- */

/* Set the MTU of existing netdev p->cfg.ifname (SIOCSIFMTU, in the caller's
 * namespace): for kinds on a netdev whose driver cannot (af_packet, AF_XDP).
 * 0 or a negative errno with the reason in err (err may be NULL). */
int xvs_port_netdev_set_mtu(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err);

/* The MTU of netdev ifname now, 0 if it cannot be read. */
uint32_t xvs_port_netdev_mtu(const char *ifname);

/* Netdev ifname's MAC into mac (unchanged if it cannot be read). */
void xvs_port_netdev_mac(const char *ifname, uint8_t mac[6]);

/* "port NAME: mtu N is more than KIND ports carry (at most MAX: LIMIT)". */
int xvs_port_mtu_refuse(const struct xvs_port *p, uint32_t mtu, uint32_t max, const char *limit,
			struct xvs_err *err);

/* Run iproute2 (argv, no shell): for once-per-port kernel-side actions.
 * 0 or -EIO with the command and its status in err (err may be NULL). */
int xvs_port_run_ip(struct xvs_err *err, const char *const argv[]);

/* A new number for each DPDK device name, unique across re-adds. */
unsigned int xvs_port_devname_seq(void);

#endif /* XVS_PORT_H */

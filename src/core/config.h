/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration model and validation (core, no DPDK).
 *
 * Everything an operator can set arrives as text (CLI key=value, JSON strings,
 * rows of the SQLite store) and passes through these functions before it
 * touches the running switch. One table per object (port keys, switch keys)
 * drives parsing, validation and the help text, so the three never disagree.
 * All functions are pure: no I/O, no globals, errors in struct xvs_err.
 */
#ifndef XVS_CONFIG_H
#define XVS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qos.h"
#include "rss.h"
#include "vlan.h"
#include "xvs_err.h"

#define XVS_NAME_MAX 15   /* like IFNAMSIZ - 1: port and interface names */
#define XVS_PATH_MAX 107  /* sun_path - 1 */

enum xvs_port_kind {
	XVS_PORT_TAP = 0,   /* kernel tap device (VM or namespace side) */
	XVS_PORT_AFXDP,     /* AF_XDP socket on an existing netdev (uplink) */
	XVS_PORT_AFPACKET,  /* AF_PACKET socket on an existing netdev (uplink fallback) */
	XVS_PORT_VHOST,     /* vhost-user socket (QEMU guest or virtio-user) */
	XVS_PORT_PCAP,      /* replay a pcap file; optionally write one */
	XVS_PORT_NULL,      /* sink / synthetic source for benchmarks */
	XVS_PORT_PCI,       /* DPDK-bound PCI NIC */
	XVS_PORT__MAX
};

/* afxdp: how the AF_XDP sockets bind (the xdp-mode option). */
enum xvs_xdp_mode {
	XVS_XDP_AUTO = 0,   /* zero-copy where the driver takes it, else copy */
	XVS_XDP_COPY,
	XVS_XDP_ZEROCOPY,
};

/* One port's configuration. Owned by the control thread. */
struct xvs_port_cfg {
	char name[XVS_NAME_MAX + 1];     /* switch-wide unique port name */
	enum xvs_port_kind kind;
	char ifname[XVS_NAME_MAX + 1];   /* tap: device to create (default: name);
					  * afxdp/afpacket: existing netdev */
	char netns[64];                  /* tap: namespace to move the kernel side into ("" = stay) */
	char mac[18];                    /* the VM's MAC: tap: of the kernel side ("" = random);
					  * others: what the VM sends from (mac-spoof) */
	char path[XVS_PATH_MAX + 1];     /* vhost: socket path; pcap: rx file */
	char tx_path[XVS_PATH_MAX + 1];  /* pcap: tx file ("" = drop) */
	char pci[32];                    /* pci: address, e.g. 0000:01:00.0 */
	bool vhost_client;               /* vhost: connect to path instead of listening */
	bool pcap_infinite;              /* pcap: replay forever */
	uint16_t queues;                 /* requested rx/tx queue pairs, 1..16 */
	uint16_t start_queue;            /* afxdp: first netdev queue */
	enum xvs_xdp_mode xdp_mode;      /* afxdp: copy, zero-copy or auto (default) */
	uint32_t mtu;                    /* largest L3 payload accepted, 68..9000 */
	struct xvs_vlan_cfg vlan;
	uint32_t mac_limit;              /* most dynamic FDB entries of the port; 0 = no limit */
	struct xvs_rss_cfg rss;          /* receive side scaling (rss-* keys) */
	/* Port security, enforced by built-in stages (src/ctl/guard.c). */
	bool mac_spoof;                  /* MAC spoofing protection: default on for tap and
					  * vhost ports; in force with mac= or mac=sticky */
	bool mac_sticky;                 /* mac=sticky: adopt the first source the VM sends */
	bool dhcp_guard;                 /* drop DHCP server messages the port sends */
	bool router_guard;               /* drop router advertisements/redirects it sends */
	uint32_t storm_limit;            /* broadcast+multicast+unknown unicast pps; 0 = off */
	/* QoS (doc/qos.md). As an egress port: */
	bool qos;                        /* schedule its egress (one owner worker) */
	uint64_t link_rate;              /* capacity scheduled against, bit/s; 0: the link's
					  * reported speed */
	/* As a source, at every scheduling egress port: */
	uint32_t min_bw_weight;          /* minimum by weight, 1-100; 0 = none */
	uint64_t min_bw;                 /* absolute minimum, bit/s; 0 = none */
	uint64_t max_bw;                 /* cap, bit/s; 0 = none */
	/* VMQ (doc/vmq.md). */
	uint8_t vmq_weight;              /* VM ports: 0 never a queue of its own, 1-100
					  * priority when queues run out; default 100 */
	uint16_t vmq_queues;             /* uplinks: queues given to VM ports; 0 = VMQ off */
	uint8_t vmmq_queues;             /* VM ports: queues asked of each VMQ uplink (VMMQ,
					  * spread by RSS), 1-16; default 1 */
};

/* Kinds that connect the switch to a network (a NIC, a host netdev), not to
 * one VM: port guards are refused on them. */
static inline bool
xvs_port_kind_uplink(enum xvs_port_kind kind)
{
	return kind == XVS_PORT_AFXDP || kind == XVS_PORT_AFPACKET || kind == XVS_PORT_PCI;
}

/* MAC spoofing protection is in force: asked for, and the port has a MAC to
 * compare with (assigned, or sticky). */
static inline bool
xvs_port_cfg_mac_spoof_active(const struct xvs_port_cfg *cfg)
{
	return cfg->mac_spoof && !xvs_port_kind_uplink(cfg->kind) &&
	       (cfg->mac[0] != '\0' || cfg->mac_sticky);
}

/* Switch-wide settings. */
struct xvs_switch_cfg {
	uint32_t aging_s;     /* FDB aging, 10..1000000 s; default 300 */
	uint32_t fdb_max;     /* FDB capacity (restart to change) */
	uint32_t workers;     /* active workers, 1..lcores started */
	enum xvs_qos_mode bw_mode;   /* bandwidth-mode: weight (default), absolute, none */
	uint32_t df_weight;   /* default-flow-weight: the default flow's minimum weight, 0-100 */
	uint64_t df_min_bw;   /* default-flow-min-bw: its absolute minimum, bit/s */
};

/* Set defaults: kind, name as given; ifname = name; queues 1; mtu 1500; access VLAN 1;
 * mac-limit XVS_FDB_DEFAULT_PORT_LIMIT; vmq-weight 100, vmq-queues 0, vmmq-queues 1;
 * RSS on with the defaults of xvs_rss_cfg_init(). */
void xvs_port_cfg_init(struct xvs_port_cfg *cfg, const char *name, enum xvs_port_kind kind);
void xvs_switch_cfg_init(struct xvs_switch_cfg *cfg);

/* Apply one "key=value" (key and value given separately) to a port config.
 * Unknown keys, keys that do not apply to the port's kind, and bad values are
 * rejected with a message naming the port, the key and the rule; cfg is then
 * unchanged. VLAN keys: vlan-mode=access|trunk, vlan=ID (access VLAN),
 * trunks=LIST, native=ID|none. Every string that reaches a DPDK device
 * argument, a file name or a command line is checked here: names (port,
 * ifname, netns) are 1-15 (netns 63) characters of A-Z a-z 0-9 _ . - not
 * starting with - or .; paths (path, tx-path) are absolute, at most 107
 * characters, without control characters, ',' or '='. */
int xvs_port_cfg_set(struct xvs_port_cfg *cfg, const char *key, const char *value,
		     struct xvs_err *err);

/* Format the value of key into buf (for show and for the store). Returns 0,
 * -ENOENT for an unknown key or one that does not apply to the port's kind (so
 * storing every key for which get succeeds and replaying it through set works),
 * or -ENOSPC if buf is too small. */
int xvs_port_cfg_get(const struct xvs_port_cfg *cfg, const char *key, char *buf, size_t len);

/* Whole-object checks that need several keys (e.g. afxdp needs ifname, vhost
 * needs path, pcap needs path, pci needs pci). */
int xvs_port_cfg_validate(const struct xvs_port_cfg *cfg, struct xvs_err *err);

/* Key table, for help text and for storing a config as key/value rows. */
struct xvs_cfg_key {
	const char *key;
	const char *help;     /* one line: "vhost socket path" */
	uint32_t kinds;       /* bit (1u << kind) for each kind the key applies to */
};
extern const struct xvs_cfg_key xvs_port_cfg_keys[];  /* terminated by key == NULL */

int xvs_switch_cfg_set(struct xvs_switch_cfg *cfg, const char *key, const char *value,
		       uint32_t max_workers, struct xvs_err *err);
int xvs_switch_cfg_get(const struct xvs_switch_cfg *cfg, const char *key, char *buf, size_t len);
extern const struct xvs_cfg_key xvs_switch_cfg_keys[];

const char *xvs_port_kind_name(enum xvs_port_kind kind);
int xvs_port_kind_parse(const char *s, enum xvs_port_kind *kind, struct xvs_err *err);

/* Scalar parsers; `what` names the field in messages. */
int xvs_name_validate(const char *what, const char *name, struct xvs_err *err);
int xvs_mac_parse(const char *what, const char *s, uint8_t mac[6], struct xvs_err *err);
void xvs_mac_format(const uint8_t mac[6], char buf[18]);
int xvs_u32_parse(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out,
		  struct xvs_err *err);
int xvs_bool_parse(const char *what, const char *s, bool *out, struct xvs_err *err);
/* Value of a hex digit (either case), or -1. */
int xvs_hex_digit(char c);

#endif /* XVS_CONFIG_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for ports: port.add, port.del,
 * port.set, port.list, port.stats, and the port helpers other features'
 * methods share (cmd_util.h). Handlers validate all parameters before they
 * change anything, commit to the store, apply, publish, and only then return
 * success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "cmd_util.h"
#include "log.h"
#include "params.h"
#include "xvsd.h"

struct xvs_port *
xvsd_port_named(const char *name, struct xvs_err *err, int *rc)
{
	struct xvs_port *p = xvsd_port_find(name);

	*rc = 0;
	if (p == NULL)
		*rc = xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port list)", name);
	return p;
}

struct xvs_port *
xvsd_port_param(json_t *params, const char *key, bool required, struct xvs_err *err,
		int *rc)
{
	char name[XVS_PARAM_NAME_LEN];
	int r = xvs_param_str(params, key, required, name, sizeof(name), err);

	*rc = r < 0 ? r : 0;
	if (r != 0)
		return NULL;
	return xvsd_port_named(name, err, rc);
}

/* ---- JSON views ---- */

/* What an open port can do (its kind fills it in at open). */
static json_t *
caps_json(const struct xvs_port *p)
{
	const struct xvs_port_caps *c = &p->caps;

	return json_pack("{s:s,s:b,s:b,s:b,s:b,s:b,s:I,s:I,s:i,s:i,s:i,s:i,s:s}", "role",
			 c->uplink ? "uplink" : "vm", "rss_steerable", p->rss_steerable,
			 "rss_hw_reta", p->rss_hw_reta, "tx_meta_offload", c->tx_meta_offload,
			 "rx_lazy", c->rx_lazy, "rx_spin_short", c->rx_spin_short,
			 "rx_offloads", (json_int_t)c->rx_offloads,
			 "tx_offloads", (json_int_t)c->tx_offloads, "mtu_min", (int)c->mtu_min,
			 "mtu_max", (int)c->mtu_max, "max_rx_queues", (int)c->max_rx_queues,
			 "max_tx_queues", (int)c->max_tx_queues, "tx_drop",
			 xvs_drop_names[c->tx_drop]);
}

static json_t *
port_json(const struct xvs_port *p)
{
	json_t *o = json_object(), *opts = json_object();
	struct xvs_port_link link;
	char val[512];

	json_object_set_new(o, "name", json_string(p->cfg.name));
	json_object_set_new(o, "kind", json_string(xvs_port_kind_name(p->cfg.kind)));
	json_object_set_new(o, "state", json_string(p->open ? "up" : "error"));
	xvs_port_link(p, &link);
	json_object_set_new(o, "link", json_string(link.up ? "up" : "down"));
	if (link.speed_mbps != 0)
		json_object_set_new(o, "link_speed_mbps", json_integer(link.speed_mbps));
	if (!p->open)
		json_object_set_new(o, "error", json_string(p->error));
	json_object_set_new(o, "slot", json_integer(p->slot));
	for (const struct xvs_cfg_key *k = xvs_port_cfg_keys; k->key != NULL; k++) {
		if (!(k->kinds & (1u << p->cfg.kind)))
			continue;
		if (xvs_port_cfg_get(&p->cfg, k->key, val, sizeof(val)) == 0)
			json_object_set_new(opts, k->key, json_string(val));
	}
	json_object_set_new(o, "options", opts);
	json_object_set_new(o, "stages", xvsd_guard_json(p));
	if (p->cfg.mac_sticky)
		json_object_set_new(o, "sticky_macs", xvsd_guard_sticky_json(p));
	if (p->open) {
		struct xvs_port_info info;
		char mac[18];

		xvs_mac_format(p->mac, mac);
		json_object_set_new(o, "driver", json_string(p->driver));
		json_object_set_new(o, "rx_queues", json_integer(p->n_rxq));
		json_object_set_new(o, "tx_queues", json_integer(p->n_txq));
		json_object_set_new(o, "rx_interrupts", json_boolean(p->rx_intr));
		json_object_set_new(o, "tx_handoff", json_boolean(p->tx_ring != NULL));
		json_object_set_new(o, "tx_offload", json_boolean(p->caps.tx_meta_offload));
		json_object_set_new(o, "capabilities", caps_json(p));
		json_object_set_new(o, "device_mac", json_string(mac));
		xvs_port_info(p, &info);
		for (uint8_t i = 0; i < info.n; i++)
			json_object_set_new(o, info.kv[i].name, json_string(info.kv[i].value));
	}
	return o;
}

void
xvsd_port_counters_sum(uint16_t slot, struct xvs_port_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_port_counters *c = &xvs_dp.worker[w]->ctr[slot];

		sum->rx_packets += c->rx_packets;
		sum->rx_bytes += c->rx_bytes;
		sum->tx_packets += c->tx_packets;
		sum->tx_bytes += c->tx_bytes;
		sum->forwarded += c->forwarded;
		sum->flooded += c->flooded;
		sum->learn_requests += c->learn_requests;
		sum->learn_ring_full += c->learn_ring_full;
		sum->learn_limit += c->learn_limit;
		sum->egress_packets += c->egress_packets;
		sum->tx_gso_segments += c->tx_gso_segments;
		sum->rx_events += c->rx_events;
		for (int d = 0; d < XVS_DROP__MAX; d++)
			sum->drop[d] += c->drop[d];
	}
}

static json_t *
port_stats_json(const struct xvs_port *p)
{
	struct xvs_port_counters c;
	struct xvs_port_dev_stats ds;
	json_t *o = json_object(), *drops = json_object();
	uint64_t total = 0;

	xvsd_port_counters_sum(p->slot, &c);
	c.drop[XVS_DROP_qos_flushed] += xvsd_qos_flushed(p->slot); /* by the control thread */
	json_object_set_new(o, "name", json_string(p->cfg.name));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)c.rx_packets));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)c.rx_bytes));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)c.tx_packets));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)c.tx_bytes));
	json_object_set_new(o, "forwarded", json_integer((json_int_t)c.forwarded));
	json_object_set_new(o, "flooded", json_integer((json_int_t)c.flooded));
	json_object_set_new(o, "learn_requests", json_integer((json_int_t)c.learn_requests));
	json_object_set_new(o, "learn_ring_full", json_integer((json_int_t)c.learn_ring_full));
	json_object_set_new(o, "fdb", xvsd_fdb_port_json(p));
	json_object_set_new(o, "egress_packets", json_integer((json_int_t)c.egress_packets));
	json_object_set_new(o, "tx_gso_segments", json_integer((json_int_t)c.tx_gso_segments));
	/* waiting in the tx hand-off ring, and at the QoS scheduling point */
	json_object_set_new(o, "tx_queued", json_integer((p->open && p->tx_ring != NULL ?
							  (json_int_t)rte_ring_count(p->tx_ring) : 0) +
							 (json_int_t)xvsd_qos_queued(p->slot)));
	json_object_set_new(o, "rx_events", json_integer((json_int_t)c.rx_events));
	/* copies mirror sessions sent to the port: not forwarded traffic */
	json_object_set_new(o, "mirrored",
			    json_integer((json_int_t)xvsd_mirror_port_mirrored(p->cfg.name)));
	for (int d = 0; d < XVS_DROP__MAX; d++) {
		json_object_set_new(drops, xvs_drop_names[d], json_integer((json_int_t)c.drop[d]));
		total += c.drop[d];
	}
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "drops_total", json_integer((json_int_t)total));
	/* Device-level counters: frames the device lost before we polled them. */
	xvs_port_dev_stats(p, &ds);
	if (ds.valid) {
		json_object_set_new(o, "dev_rx_missed", json_integer((json_int_t)ds.rx_missed));
		json_object_set_new(o, "dev_rx_errors", json_integer((json_int_t)ds.rx_errors));
		json_object_set_new(o, "dev_tx_errors", json_integer((json_int_t)ds.tx_errors));
		for (uint8_t i = 0; i < ds.n_extra; i++) {
			char k[64];

			snprintf(k, sizeof(k), "dev_%s", ds.extra[i].name);
			json_object_set_new(o, k, json_integer((json_int_t)ds.extra[i].value));
		}
	}
	return o;
}

/* ---- port methods ---- */

static int
find_free_slot(void)
{
	for (int i = 0; i < XVS_MAX_PORTS; i++)
		if (xvsd.port[i] == NULL)
			return i;
	return -1;
}

/* Check and open the port params describe, and write it to the store (the
 * caller's transaction): everything of port.add up to the commit. On
 * success *out holds the open port, not yet in the port table. */
int
xvsd_port_add_open(json_t *params, struct xvs_port **out, struct xvs_err *err)
{
	const struct xvs_port_ops *kops;
	struct xvs_req_port_add req;
	struct xvs_port *p;
	int r, slot;

	r = xvs_params_port_add(params, &req, err);
	if (r < 0)
		return r;
	if (xvsd_port_find(req.name) != NULL)
		return xvs_err_set(err, -EEXIST, "port %s already exists", req.name);
	kops = xvs_port_ops_of(req.cfg.kind);
	if (kops->needs_pci_bus && !xvsd.pci_bus)
		return xvs_err_set(err, -ENOTSUP, "port %s: the PCI bus is not scanned; restart "
				   "xvsd with --pci to add %s ports", req.name,
				   xvs_port_kind_name(req.cfg.kind));
	slot = find_free_slot();
	if (slot < 0)
		return xvs_err_set(err, -ENOSPC, "port %s: port table full (%d ports)", req.name,
				   XVS_MAX_PORTS);
	r = xvsd_rss_check(NULL, &req.cfg, err);
	if (r < 0)
		return r;
	for (int i = 0; i < XVS_MAX_PORTS; i++) {
		const struct xvs_port *o = xvsd.port[i];

		if (o != NULL && kops->ifname_exclusive && o->cfg.kind == req.cfg.kind &&
		    strcmp(o->cfg.ifname, req.cfg.ifname) == 0)
			return xvs_err_set(err, -EEXIST, "port %s: %s is already %s port %s%s",
					   req.name, req.cfg.ifname,
					   xvs_port_kind_name(req.cfg.kind), o->cfg.name,
					   kops->ifname_exclusive_hint != NULL ?
					   kops->ifname_exclusive_hint : "");
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return xvs_err_set(err, -ENOMEM, "out of memory");
	p->cfg = req.cfg;
	p->slot = (uint16_t)slot;
	/* Opening is the last check: no worker sees the port until it is published. */
	r = xvs_port_open(p, err);
	if (r < 0)
		goto free;
	if ((r = xvsd_qos_check_port(p, &p->cfg, err)) < 0)
		goto close;
	if ((r = xvs_store_port_put(xvsd.store, &p->cfg, err)) < 0)
		goto close;
	*out = p;
	return 0;
close:
	xvs_port_close(p);
free:
	free(p);
	return r;
}

/* The rows of ports a committed add stored, deleted in one transaction. */
struct ports_undo {
	struct xvs_port **p;
	unsigned n;
};

static int
store_del_ports(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct ports_undo *u = arg;
	int r = 0;

	for (unsigned i = 0; i < u->n && r == 0; i++)
		r = xvs_store_port_del(st, u->p[i]->cfg.name, e);
	return r;
}

/* Take back ports xvsd_port_add_open opened, after their transaction was
 * rolled back or (committed) is undone: p[i] may be in the port table and
 * have guards applied, but no snapshot has shown it to a worker. err holds
 * why the command failed; a failed undo of the store adds to it. */
void
xvsd_port_add_undo(struct xvs_port **p, unsigned n, bool stored, struct xvs_err *err)
{
	struct ports_undo u = {.p = p, .n = n};

	if (stored && n > 0)
		xvsd_store_restore(store_del_ports, &u, err);
	for (unsigned i = 0; i < n; i++) {
		if (xvsd.port[p[i]->slot] == p[i]) {
			xvsd_guard_port_removed(p[i]);
			xvsd.port[p[i]->slot] = NULL;
		}
		xvs_port_close(p[i]);
		free(p[i]);
	}
}

static int
m_port_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port *p;
	int r;

	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvsd_port_add_open(params, &p, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0) {
		xvsd_port_add_undo(&p, 1, false, err);
		return r;
	}
	xvsd.port[p->slot] = p;
	r = xvsd_guard_apply(p, err);
	if (r == 0)
		r = xvsd_publish_err(err);
	if (r < 0) {
		/* not published: no worker ever saw p */
		xvsd_port_add_undo(&p, 1, true, err);
		return r;
	}
	XVS_INFO("port", "%s: added (%s, %s, %u rx / %u tx queues%s)", p->cfg.name,
		 xvs_port_kind_name(p->cfg.kind), p->driver, p->n_rxq, p->n_txq,
		 p->rx_intr ? ", rx interrupts" : "");
	*result = port_json(p);
	return 0;
}

/* A deleted port as it was stored: its configuration and static MACs. */
struct port_undo {
	const struct xvs_port *p;
	int64_t seq;       /* its place among the stored ports */
	json_t *statics;   /* [[mac, vlan], ...] */
};

static int
static_of_port(const struct xvs_fdb_entry_info *e, void *arg)
{
	struct port_undo *u = arg;
	char mac[18];

	if (e->is_static && e->port == u->p->slot) {
		xvs_mac_format(e->mac, mac);
		json_array_append_new(u->statics, json_pack("[s,i]", mac, (int)e->vid));
	}
	return 0;
}

static int
store_put_port_back(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	struct port_undo *u = arg;
	size_t i;
	json_t *v;
	int r = xvs_store_port_put(st, &u->p->cfg, e);

	if (r == 0 && u->seq > 0)
		r = xvs_store_port_set_seq(st, u->p->cfg.name, u->seq, e);
	json_array_foreach(u->statics, i, v) {
		if (r < 0)
			break;
		r = xvs_store_static_put(st, json_string_value(json_array_get(v, 0)),
					 (unsigned int)json_integer_value(json_array_get(v, 1)),
					 u->p->cfg.name, e);
	}
	return r;
}

static int
m_port_del(json_t *params, json_t **result, struct xvs_err *err)
{
	struct port_undo u;
	struct xvs_port *p;
	int r;

	p = xvsd_port_param(params, "name", true, err, &r);
	if (p == NULL)
		return r;
	/* Its minimum leaves the other ports' models (weight mode: a share
	 * grows, maybe above a cap). */
	if ((r = xvsd_qos_check_port_del(p, err)) < 0)
		return r;
	u.seq = xvs_store_port_seq(xvsd.store, p->cfg.name);
	r = xvs_store_begin(xvsd.store, err);
	if (r < 0)
		return r;
	if ((r = xvs_store_port_del(xvsd.store, p->cfg.name, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	/* Leave the snapshot first; after the grace period no worker touches it. */
	xvsd.port[p->slot] = NULL;
	r = xvsd_publish_err(err);
	if (r < 0) {
		/* Still in the snapshot in force, so still open and in use: back
		 * in the table, and in the store with its static MACs. */
		xvsd.port[p->slot] = p;
		u.p = p;
		u.statics = json_array();
		xvs_fdb_walk(xvs_dp.fdb, xvs_now_ns(), static_of_port, &u);
		xvsd_store_restore(store_put_port_back, &u, err);
		json_decref(u.statics);
		return r;
	}
	xvsd_rss_rings_wait_empty();
	xvsd_guard_port_removed(p);
	xvs_port_close(p);
	xvs_fdb_flush(xvs_dp.fdb, p->slot, -1, true);
	xvs_fdb_port_reset(xvs_dp.fdb, p->slot);
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		memset(&xvs_dp.worker[w]->ctr[p->slot], 0, sizeof(struct xvs_port_counters));
		memset(xvs_dp.worker[w]->rxq_ctr[p->slot], 0,
		       sizeof(xvs_dp.worker[w]->rxq_ctr[p->slot]));
	}
	XVS_INFO("port", "%s: deleted", p->cfg.name);
	*result = json_pack("{s:s}", "deleted", p->cfg.name);
	free(p);
	return 0;
}

static int
store_put_cfg(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	return xvs_store_port_put(st, arg, e);
}

static int
set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	if (xvsd_fault(XVSD_FAULT_APPLY))
		return xvs_err_set(err, -EIO, "port %s: mtu %u: device refused (injected fault)",
				   p->cfg.name, mtu);
	return xvs_port_set_mtu(p, mtu, err);
}

/* Port p's new configuration cfg, validated: stored (committed), applied to
 * the device (MTU), then in force with the next snapshot. On a failure after
 * the commit, the device, p and the store are put back as they were. */
int
xvsd_port_cfg_commit(struct xvs_port *p, const struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	struct xvs_port_cfg old = p->cfg;
	uint16_t old_k = p->rss_k;
	bool mtu = cfg->mtu != old.mtu;
	int r;

	/* A refused MTU must not reach the store. */
	if (mtu && (r = xvs_port_mtu_allowed(p, cfg->mtu, err)) < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_port_put(xvsd.store, cfg, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	if (mtu && (r = set_mtu(p, cfg->mtu, err)) < 0)
		goto restore_store;
	/* conservative starts over from one worker */
	if (cfg->rss.profile == XVS_RSS_CONSERVATIVE &&
	    (old.rss.profile != XVS_RSS_CONSERVATIVE || !old.rss.enabled))
		p->rss_k = 1;
	p->cfg = *cfg;
	r = xvsd_guard_apply(p, err);
	if (r == 0)
		r = xvsd_publish_err(err);
	if (r == 0)
		return 0;
	p->cfg = old;
	p->rss_k = old_k;
	{
		struct xvs_err e;

		/* back to the stages of the settings in force (no publish
		 * happened, so they are what the workers run) */
		if (xvsd_guard_apply(p, &e) < 0)
			XVS_ERR("port", "%s: port security settings not restored: %s",
				p->cfg.name, e.msg);
	}
	if (mtu) {
		struct xvs_err e;

		if (xvs_port_set_mtu(p, old.mtu, &e) < 0)
			XVS_ERR("port", "%s: mtu left at %u, not %u as stored: %s", p->cfg.name,
				cfg->mtu, old.mtu, e.msg);
	}
restore_store:
	xvsd_store_restore(store_put_cfg, &old, err);
	return r;
}

struct xvs_port *
xvsd_port_set(json_t *params, bool rss_only, struct xvs_err *err, int *ret)
{
	struct xvs_port_cfg cfg;
	struct xvs_port *p;
	int r;

	p = xvsd_port_param(params, "name", true, err, ret);
	if (p == NULL)
		return NULL;
	cfg = p->cfg;
	r = rss_only ? xvs_params_rss_options(params, &cfg, err)
		     : xvs_params_port_options(params, &cfg, true, err);
	if (r == 0)
		r = xvsd_rss_check(p, &cfg, err);
	if (r == 0)
		r = xvsd_qos_check_port(p, &cfg, err);
	if (r == 0)
		r = xvsd_port_cfg_commit(p, &cfg, err);
	*ret = r;
	return r < 0 ? NULL : p;
}

static int
m_port_set(json_t *params, json_t **result, struct xvs_err *err)
{
	int r;
	struct xvs_port *p = xvsd_port_set(params, false, err, &r);

	if (p == NULL)
		return r;
	*result = port_json(p);
	return 0;
}

/* {"ports": [view(p) for every port, or only params.name]} */
int
xvsd_ports_view(json_t *params, json_t **result, struct xvs_err *err,
		json_t *(*view)(const struct xvs_port *p))
{
	struct xvs_port *only = NULL;
	json_t *a;
	int r;

	if (json_object_get(params, "name") != NULL) {
		only = xvsd_port_param(params, "name", true, err, &r);
		if (only == NULL)
			return r;
	}
	a = json_array();
	for (int i = 0; i < XVS_MAX_PORTS; i++)
		if (xvsd.port[i] != NULL && (only == NULL || only == xvsd.port[i]))
			json_array_append_new(a, view(xvsd.port[i]));
	*result = json_pack("{s:o}", "ports", a);
	return 0;
}

static int
m_port_list(json_t *params, json_t **result, struct xvs_err *err)
{
	return xvsd_ports_view(params, result, err, port_json);
}

static int
m_port_stats(json_t *params, json_t **result, struct xvs_err *err)
{
	return xvsd_ports_view(params, result, err, port_stats_json);
}

const struct xvsd_method xvsd_port_methods[] = {
	{"port.add", m_port_add, "add a port: name, kind, options {key: value}"},
	{"port.del", m_port_del, "delete a port: name"},
	{"port.set", m_port_set, "change VLAN or MTU of a port: name, options"},
	{"port.list", m_port_list, "list ports (optional name)"},
	{"port.stats", m_port_stats, "port counters (optional name)"},
	{NULL, NULL, NULL},
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for ports, FDB, RSS, workers and the
 * switch. xvsd_methods[] names each with its handler and help line; other
 * features keep theirs in cmd_<feature>.c (see xvsd_method_tables, rpc.c). Handlers validate all parameters
 * before they change anything, commit to the store, apply, publish, and only
 * then return success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "log.h"
#include "params.h"
#include "xvsd.h"

#define XVS_VERSION "0.1.0"

/* ---- parameter helpers (parsing itself: params.c) ---- */

/* RSS checks that need the running switch: the CPUs workers run on and the
 * queues the device has. cfg is the proposed configuration of port p (p may
 * be NULL when the port is being added: queues are then checked at open). */
static int
rss_check(const struct xvs_port *p, const struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	uint16_t cpu[XVS_MAX_WORKERS], set[XVS_MAX_WORKERS];
	uint16_t n = (uint16_t)RTE_MIN(xvsd.sw.workers, xvs_dp.n_workers_max);
	/* an open port knows (a PCI NIC may refuse our key or RETA) */
	bool steerable = p != NULL && p->open ? p->rss_steerable :
		xvs_port_kind_steerable(cfg->kind);
	uint16_t nq = p != NULL && p->open ? p->n_rxq : cfg->queues;
	struct xvs_err e;

	xvsd_worker_cpus(cpu, n);
	if (xvs_rss_select(&cfg->rss, cpu, n, set, &e) <= 0)
		return xvs_err_set(err, -EINVAL, "port %s: %s", cfg->name,
				   e.code ? e.msg : "rss: no worker between base-cpu and max-cpu");
	if (cfg->rss.queues > nq)
		return xvs_err_set(err, -EINVAL,
				   "port %s: rss queues=%u but the port has %u rx queue%s", cfg->name,
				   cfg->rss.queues, nq, nq == 1 ? "" : "s");
	if (cfg->rss.queues != 0 && cfg->rss.queues < nq && !steerable)
		return xvs_err_set(err, -EINVAL,
				   "port %s: traffic reaches all %u rx queues of %s ports (xvs "
				   "cannot steer it): rss queues must be all", cfg->name, nq,
				   xvs_port_kind_name(cfg->kind));
	return 0;
}

static struct xvs_port *
port_named(const char *name, struct xvs_err *err, int *rc)
{
	struct xvs_port *p = xvsd_port_find(name);

	*rc = 0;
	if (p == NULL)
		*rc = xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port list)", name);
	return p;
}

static struct xvs_port *
port_param(json_t *params, const char *key, bool required, struct xvs_err *err, int *rc)
{
	char name[XVS_PARAM_NAME_LEN];
	int r = xvs_param_str(params, key, required, name, sizeof(name), err);

	*rc = r < 0 ? r : 0;
	if (r != 0)
		return NULL;
	return port_named(name, err, rc);
}

/* ---- the steps after validation, and their undo ---- */

int
xvsd_store_commit(struct xvs_err *err)
{
	int r = xvsd_fault(XVSD_FAULT_COMMIT) ?
			xvs_err_set(err, -EIO, "config store: commit failed (injected fault)") :
			xvs_store_commit(xvsd.store, err);

	if (r < 0)
		xvs_store_rollback(xvsd.store);
	return r;
}

int
xvsd_publish_err(struct xvs_err *err)
{
	int r = xvsd_publish();

	if (r < 0)
		return xvs_err_set(err, r, "cannot publish the change to the workers (%s); "
				   "nothing changed, try again", strerror(-r));
	return 0;
}

void
xvsd_store_restore(int (*undo)(struct xvs_store *st, void *arg, struct xvs_err *e), void *arg,
	      struct xvs_err *err)
{
	struct xvs_err e;
	int r = xvs_store_begin(xvsd.store, &e);

	if (r == 0 && (r = undo(xvsd.store, arg, &e)) < 0)
		xvs_store_rollback(xvsd.store);
	if (r == 0)
		r = xvsd_store_commit(&e);
	if (r == 0)
		return;
	XVS_ERR("store", "stored configuration no longer matches the running switch (%s) "
		"after: %s", e.msg, err->msg);
	snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
		 "; and the stored configuration could not be restored: %s", e.msg);
}

/* ---- JSON views ---- */

/* What an open port can do (its kind fills it in at open). */
static json_t *
caps_json(const struct xvs_port *p)
{
	const struct xvs_port_caps *c = &p->caps;

	return json_pack("{s:s,s:b,s:b,s:b,s:b,s:I,s:I,s:i,s:i,s:i,s:i,s:s}", "role",
			 c->uplink ? "uplink" : "vm", "rss_steerable", p->rss_steerable,
			 "rss_hw_reta", p->rss_hw_reta, "tx_meta_offload", c->tx_meta_offload,
			 "rx_lazy", c->rx_lazy, "rx_offloads", (json_int_t)c->rx_offloads,
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

static void
port_counters_sum(uint16_t slot, struct xvs_port_counters *sum)
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

/* The port's learning state in the FDB (control thread: the FDB's writer).
 * learn_limit adds the requests workers did not send because the port was
 * at its limit to those the FDB refused. */
static json_t *
fdb_port_json(const struct xvs_port *p)
{
	struct xvs_fdb_port_stats ps;
	struct xvs_port_counters c;

	xvs_fdb_get_port_stats(xvs_dp.fdb, p->slot, &ps);
	port_counters_sum(p->slot, &c);
	return json_pack("{s:I,s:I,s:I,s:I}", "learned", (json_int_t)ps.learned, "mac_limit",
			 (json_int_t)p->cfg.mac_limit, "learn_limit",
			 (json_int_t)(ps.learn_limit + c.learn_limit), "static_conflict",
			 (json_int_t)ps.static_conflict);
}

static json_t *
port_stats_json(const struct xvs_port *p)
{
	struct xvs_port_counters c;
	struct xvs_port_dev_stats ds;
	json_t *o = json_object(), *drops = json_object();
	uint64_t total = 0;

	port_counters_sum(p->slot, &c);
	json_object_set_new(o, "name", json_string(p->cfg.name));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)c.rx_packets));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)c.rx_bytes));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)c.tx_packets));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)c.tx_bytes));
	json_object_set_new(o, "forwarded", json_integer((json_int_t)c.forwarded));
	json_object_set_new(o, "flooded", json_integer((json_int_t)c.flooded));
	json_object_set_new(o, "learn_requests", json_integer((json_int_t)c.learn_requests));
	json_object_set_new(o, "learn_ring_full", json_integer((json_int_t)c.learn_ring_full));
	json_object_set_new(o, "fdb", fdb_port_json(p));
	json_object_set_new(o, "egress_packets", json_integer((json_int_t)c.egress_packets));
	json_object_set_new(o, "tx_gso_segments", json_integer((json_int_t)c.tx_gso_segments));
	json_object_set_new(o, "tx_queued", json_integer(p->open && p->tx_ring != NULL ?
							 (json_int_t)rte_ring_count(p->tx_ring) : 0));
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

static int
store_del_port(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	return xvs_store_port_del(st, arg, e);
}

static int
m_port_add(json_t *params, json_t **result, struct xvs_err *err)
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
	r = rss_check(NULL, &req.cfg, err);
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
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		goto close;
	if ((r = xvs_store_port_put(xvsd.store, &p->cfg, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		goto close;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		goto close;
	xvsd.port[slot] = p;
	r = xvsd_guard_apply(p, err);
	if (r == 0)
		r = xvsd_publish_err(err);
	if (r < 0) {
		/* not published: no worker ever saw p */
		xvsd_guard_port_removed(p);
		xvsd.port[slot] = NULL;
		xvsd_store_restore(store_del_port, p->cfg.name, err);
		goto close;
	}
	XVS_INFO("port", "%s: added (%s, %s, %u rx / %u tx queues%s)", req.name, req.kind,
		 p->driver, p->n_rxq, p->n_txq, p->rx_intr ? ", rx interrupts" : "");
	*result = port_json(p);
	return 0;
close:
	xvs_port_close(p);
free:
	free(p);
	return r;
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

	p = port_param(params, "name", true, err, &r);
	if (p == NULL)
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
static int
port_cfg_commit(struct xvs_port *p, const struct xvs_port_cfg *cfg, struct xvs_err *err)
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

static int
m_port_set(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port_cfg cfg;
	struct xvs_port *p;
	int r;

	p = port_param(params, "name", true, err, &r);
	if (p == NULL)
		return r;
	cfg = p->cfg;
	r = xvs_params_port_options(params, &cfg, true, err);
	if (r == 0)
		r = rss_check(p, &cfg, err);
	if (r < 0)
		return r;
	r = port_cfg_commit(p, &cfg, err);
	if (r < 0)
		return r;
	*result = port_json(p);
	return 0;
}

/* {"ports": [view(p) for every port, or only params.name]} */
static int
ports_view(json_t *params, json_t **result, struct xvs_err *err,
	   json_t *(*view)(const struct xvs_port *p))
{
	struct xvs_port *only = NULL;
	json_t *a;
	int r;

	if (json_object_get(params, "name") != NULL) {
		only = port_param(params, "name", true, err, &r);
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
	return ports_view(params, result, err, port_json);
}

static int
m_port_stats(json_t *params, json_t **result, struct xvs_err *err)
{
	return ports_view(params, result, err, port_stats_json);
}

/* ---- rss methods ---- */

static json_t *
u16_array(const uint16_t *v, uint16_t n)
{
	json_t *a = json_array();

	for (uint16_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* Settings as stored, plus what is in force: mode, queues, workers, RETA. */
static json_t *
rss_json(const struct xvs_port *p)
{
	static const struct {
		const char *json, *key;
	} keys[] = {
		{"profile", "rss-profile"}, {"base_cpu", "rss-base-cpu"},
		{"max_cpu", "rss-max-cpu"}, {"max_cpus", "rss-max-cpus"},
		{"queues", "rss-queues"},   {"types", "rss-types"},
		{"key", "rss-key"},
	};
	const struct xvs_rss_cfg *c = &p->cfg.rss;
	json_t *o = json_object(), *qw = json_array(), *ppw = json_array();
	const char *mode;
	uint64_t drops = 0;

	json_object_set_new(o, "name", json_string(p->cfg.name));
	json_object_set_new(o, "enabled", json_boolean(c->enabled));
	for (size_t i = 0; i < RTE_DIM(keys); i++) {
		char buf[128];

		if (xvs_port_cfg_get(&p->cfg, keys[i].key, buf, sizeof(buf)) == 0)
			json_object_set_new(o, keys[i].json, json_string(buf));
	}
	json_object_set_new(o, "reta_size", json_integer(c->reta_size));
	if (!p->open)
		mode = "down";
	else if (!c->enabled)
		mode = "off";
	else if (p->rss_spread)
		mode = "software";
	else if (p->rss_queues_used > 1 && p->rss_n_active > 1)
		mode = "hardware";
	else
		mode = "single";
	json_object_set_new(o, "mode", json_string(mode));
	json_object_set_new(o, "queues_max", json_integer(p->open ? p->n_rxq : 0));
	json_object_set_new(o, "queues_used", json_integer(p->open ? p->rss_queues_used : 0));
	json_object_set_new(o, "workers", u16_array(p->rss_set, p->rss_n_set));
	json_object_set_new(o, "workers_active", u16_array(p->rss_set, p->rss_n_active));
	for (uint16_t q = 0; p->open && q < p->rss_queues_used; q++)
		json_array_append_new(qw, json_pack("[i,i]", q, p->rxq[q].worker));
	json_object_set_new(o, "queue_workers", qw);
	json_object_set_new(o, "reta", p->rss_spread ? u16_array(p->rss_reta, p->rss_reta_size)
						     : json_array());
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_port_counters *ctr = &xvs_dp.worker[w]->ctr[p->slot];

		/* switched by that worker: not those lost at its hand-off */
		json_array_append_new(ppw, json_integer((json_int_t)(ctr->rx_packets -
							ctr->drop[XVS_DROP_rss_ring_full])));
		drops += ctr->drop[XVS_DROP_rss_ring_full];
	}
	json_object_set_new(o, "packets_per_worker", ppw);
	json_object_set_new(o, "handoff_drops", json_integer((json_int_t)drops));
	json_object_set_new(o, "rebalances", json_integer((json_int_t)p->rss_rebalances));
	json_object_set_new(o, "spread_not_paid", json_integer((json_int_t)p->rss_unpaid));
	if (p->rss_error[0] != '\0')
		json_object_set_new(o, "error", json_string(p->rss_error));
	return o;
}

static int
m_rss_show(json_t *params, json_t **result, struct xvs_err *err)
{
	return ports_view(params, result, err, rss_json);
}

/* {name, options: {enabled|base-cpu|max-cpu|max-cpus|queues|profile|types|key|
 * reta-size: value}}: the port's rss-* options, checked, stored, then in force
 * with the next snapshot. */
static int
m_rss_set(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port_cfg cfg;
	struct xvs_port *p;
	int r;

	p = port_param(params, "name", true, err, &r);
	if (p == NULL)
		return r;
	cfg = p->cfg;
	r = xvs_params_rss_options(params, &cfg, err);
	if (r == 0)
		r = rss_check(p, &cfg, err);
	if (r < 0)
		return r;
	r = port_cfg_commit(p, &cfg, err);
	if (r < 0)
		return r;
	XVS_INFO("rss", "%s: rss %s, profile %s, %u of %u queues, workers %u of %u%s", p->cfg.name,
		 cfg.rss.enabled ? "on" : "off", xvs_rss_profile_name(cfg.rss.profile),
		 p->rss_queues_used, p->n_rxq, p->rss_n_active, p->rss_n_set,
		 p->rss_spread ? ", software spreading" : "");
	*result = rss_json(p);
	return 0;
}

/* ---- worker methods ---- */

static int
m_worker_stats(json_t *params, json_t **result, struct xvs_err *err)
{
	const struct xvs_snapshot *s = atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_worker *wk = xvs_dp.worker[w];
		json_t *o = json_object(), *qs = json_array(), *qb = json_array();

		if (w < s->n_workers) {
			const struct xvs_snap_worker *sw = &s->worker[w];

			for (uint16_t i = 0; i < sw->n_rxq; i++) {
				const struct xvs_port *p = xvsd.port[sw->rxq[i].port];
				char q[48];

				snprintf(q, sizeof(q), "%s/%u", p != NULL ? p->cfg.name : "?",
					 sw->rxq[i].queue);
				json_array_append_new(qs, json_string(q));
				json_array_append_new(qb, json_real(p != NULL ?
						p->rxq[sw->rxq[i].queue].busy_pct : 0.0));
			}
		}
		json_object_set_new(o, "worker", json_integer(w));
		json_object_set_new(o, "lcore", json_integer(wk->lcore));
		json_object_set_new(o, "cpu", json_integer(xvsd_worker_cpu(w)));
		json_object_set_new(o, "active", json_boolean(w < s->n_workers));
		json_object_set_new(o, "busy_pct", json_real(xvsd.busy_pct[w]));
		json_object_set_new(o, "rx_pps", json_real(xvsd.rx_pps[w]));
		json_object_set_new(o, "rx_packets", json_integer((json_int_t)wk->rx_packets));
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)wk->tx_packets));
		json_object_set_new(o, "switched_packets",
				    json_integer((json_int_t)wk->switched_packets));
		json_object_set_new(o, "switched_pps", json_real(xvsd.switched_pps[w]));
		json_object_set_new(o, "rss_in", json_integer((json_int_t)wk->rss_in));
		json_object_set_new(o, "rss_out", json_integer((json_int_t)wk->rss_out));
		json_object_set_new(o, "rss_in_pps", json_real(xvsd.rss_in_pps[w]));
		json_object_set_new(o, "rss_out_pps", json_real(xvsd.rss_out_pps[w]));
		json_object_set_new(o, "rss_drops", json_integer((json_int_t)wk->rss_drops));
		json_object_set_new(o, "loops", json_integer((json_int_t)wk->loops));
		json_object_set_new(o, "wakeups", json_integer((json_int_t)wk->wakeups));
		json_object_set_new(o, "queues", qs);
		json_object_set_new(o, "queue_busy_pct", qb); /* per queue, as queue.show */
		json_array_append_new(a, o);
	}
	*result = json_pack("{s:o}", "workers", a);
	return 0;
}

/* ---- fdb methods ---- */

struct fdb_filter {
	int32_t port;
	int32_t vid;
	json_t *out;
};

static int
fdb_row(const struct xvs_fdb_entry_info *e, void *arg)
{
	struct fdb_filter *f = arg;
	const struct xvs_port *p = e->port < XVS_MAX_PORTS ? xvsd.port[e->port] : NULL;
	char mac[18];

	if ((f->port >= 0 && e->port != f->port) || (f->vid >= 0 && e->vid != f->vid))
		return 0;
	xvs_mac_format(e->mac, mac);
	json_array_append_new(f->out,
			      json_pack("{s:s,s:i,s:s,s:s,s:f}", "mac", mac, "vlan", (int)e->vid,
					"port", p != NULL ? p->cfg.name : "?", "type",
					e->is_static ? "static" : "dynamic", "age_s",
					(double)e->age_ns / 1e9));
	return 0;
}

static int
fdb_filter_params(json_t *params, struct fdb_filter *f, struct xvs_err *err)
{
	struct xvs_req_fdb_filter req;
	int r = xvs_params_fdb_filter(params, &req, err);

	if (r < 0)
		return r;
	f->port = -1;
	f->vid = req.vid;
	if (req.port[0] != '\0') {
		struct xvs_port *p = port_named(req.port, err, &r);

		if (p == NULL)
			return r;
		f->port = p->slot;
	}
	return 0;
}

static int
m_fdb_show(json_t *params, json_t **result, struct xvs_err *err)
{
	struct fdb_filter f;
	struct xvs_fdb_stats st;
	json_t *ports;
	int r = fdb_filter_params(params, &f, err);

	if (r < 0)
		return r;
	f.out = json_array();
	xvs_fdb_walk(xvs_dp.fdb, xvs_now_ns(), fdb_row, &f);
	xvs_fdb_get_stats(xvs_dp.fdb, &st);
	ports = json_object();
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (xvsd.port[slot] != NULL && (f.port < 0 || f.port == slot))
			json_object_set_new(ports, xvsd.port[slot]->cfg.name,
					    fdb_port_json(xvsd.port[slot]));
	*result = json_pack("{s:o,s:i,s:i,s:o}", "entries", f.out, "count", (int)st.entries, "max",
			    (int)st.max_entries, "ports", ports);
	return 0;
}

static int
m_fdb_flush(json_t *params, json_t **result, struct xvs_err *err)
{
	struct fdb_filter f;
	int r = fdb_filter_params(params, &f, err);
	uint32_t n;

	if (r < 0)
		return r;
	/* Dynamic entries only: static entries are configuration (fdb del). */
	n = xvs_fdb_flush(xvs_dp.fdb, f.port, f.vid, false);
	*result = json_pack("{s:i}", "flushed", (int)n);
	return 0;
}

/* The static entry (mac, vid) as it was stored before a change: on port
 * (a name), or none (port NULL). */
struct static_undo {
	const struct xvs_req_fdb_static *s;
	const char *port;
};

static int
store_put_static_back(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct static_undo *u = arg;

	if (u->port == NULL)
		return xvs_store_static_del(st, u->s->mac_s, u->s->vid, e);
	return xvs_store_static_put(st, u->s->mac_s, u->s->vid, u->port, e);
}

/* The FDB's entry for (mac, vid), if any. */
static bool
fdb_find(const struct xvs_req_fdb_static *s, struct xvs_fdb_hit *hit)
{
	uint8_t mac[8] = {0}; /* xvs_fdb_key_of() reads 8 bytes */

	memcpy(mac, s->mac, 6);
	return xvs_fdb_lookup(xvs_dp.fdb, mac, (uint16_t)s->vid, hit);
}

static int
m_fdb_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_req_fdb_static s;
	struct static_undo u = {.s = &s};
	struct xvs_fdb_hit prior;
	struct xvs_port *p;
	int r;

	r = xvs_params_fdb_static(params, true, &s, err);
	if (r < 0)
		return r;
	p = port_named(s.port, err, &r);
	if (p == NULL)
		return r;
	if (fdb_find(&s, &prior) && prior.is_static && prior.port < XVS_MAX_PORTS &&
	    xvsd.port[prior.port] != NULL)
		u.port = xvsd.port[prior.port]->cfg.name;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_static_put(xvsd.store, s.mac_s, s.vid, p->cfg.name, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	/* A failed add leaves the FDB as it was: only the store needs undoing. */
	r = xvsd_fault(XVSD_FAULT_APPLY) ?
		    xvs_err_set(err, -ENOSPC, "fdb: no room for %s vlan %u (injected fault)",
				s.mac_s, s.vid) :
		    xvs_fdb_add_static(xvs_dp.fdb, s.mac, (uint16_t)s.vid, p->slot, err);
	if (r < 0) {
		xvsd_store_restore(store_put_static_back, &u, err);
		return r;
	}
	*result = json_pack("{s:s,s:i,s:s}", "mac", s.mac_s, "vlan", (int)s.vid, "port",
			    p->cfg.name);
	return 0;
}

static int
m_fdb_del(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_req_fdb_static s;
	struct xvs_fdb_hit hit;
	int r;

	r = xvs_params_fdb_static(params, false, &s, err);
	if (r < 0)
		return r;
	/* Checked first, so that a refusal changes nothing; only the control
	 * thread writes the FDB, so the entry is still there below. */
	if (!fdb_find(&s, &hit))
		return xvs_err_set(err, -ENOENT, "no entry for %s vlan %u", s.mac_s, s.vid);
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_static_del(xvsd.store, s.mac_s, s.vid, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	xvs_fdb_del(xvs_dp.fdb, s.mac, (uint16_t)s.vid);
	*result = json_pack("{s:s,s:i}", "deleted", s.mac_s, "vlan", (int)s.vid);
	return 0;
}

/* ---- switch methods ---- */

static int
m_switch_show(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_fdb_stats st;
	json_t *o = json_object(), *set = json_object(), *f;
	char val[64];

	(void)params;
	(void)err;
	for (const struct xvs_cfg_key *k = xvs_switch_cfg_keys; k->key != NULL; k++)
		if (xvs_switch_cfg_get(&xvsd.sw, k->key, val, sizeof(val)) == 0)
			json_object_set_new(set, k->key, json_string(val));
	xvs_fdb_get_stats(xvs_dp.fdb, &st);
	f = json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:I}", "entries", (int)st.entries,
		      "static", (int)st.static_entries, "max", (int)st.max_entries, "learned",
		      (json_int_t)st.learned, "moved", (json_int_t)st.moved, "aged",
		      (json_int_t)st.aged, "learn_full", (json_int_t)st.learn_full,
		      "static_conflict", (json_int_t)st.static_conflict);
	json_object_set_new(o, "version", json_string(XVS_VERSION));
	json_object_set_new(o, "settings", set);
	json_object_set_new(o, "fdb", f);
	json_object_set_new(o, "worker_lcores", json_integer(xvs_dp.n_workers_max));
	json_object_set_new(o, "hugepages", json_boolean(xvsd.hugepages));
	json_object_set_new(o, "max_ports", json_integer(XVS_MAX_PORTS));
	json_object_set_new(o, "rpc_requests", json_integer((json_int_t)xvsd.rpc_requests));
	json_object_set_new(o, "rpc_errors", json_integer((json_int_t)xvsd.rpc_errors));
	json_object_set_new(o, "rpc_clients", json_integer(xvsd.rpc_clients));
	json_object_set_new(o, "rpc_idle_closed", json_integer((json_int_t)xvsd.rpc_idle_closed));
	json_object_set_new(o, "rpc_evicted", json_integer((json_int_t)xvsd.rpc_evicted));
	*result = o;
	return 0;
}

/* Switch settings as stored before a change: the keys of the request. */
struct settings_undo {
	json_t *opts;
	const struct xvs_switch_cfg *cfg;
};

static int
store_put_settings(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct settings_undo *u = arg;
	const char *key;
	json_t *v;
	int r = 0;

	json_object_foreach(u->opts, key, v) {
		char val[64];

		xvs_switch_cfg_get(u->cfg, key, val, sizeof(val));
		if ((r = xvs_store_setting_put(st, key, val, e)) < 0)
			break;
	}
	return r;
}

static int
m_switch_set(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_switch_cfg cfg = xvsd.sw, old = xvsd.sw;
	struct settings_undo u = {.opts = json_object_get(params, "options"), .cfg = &cfg};
	int r;

	r = xvs_params_switch_set(params, &cfg, xvs_dp.n_workers_max, err);
	if (r < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = store_put_settings(xvsd.store, &u, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	if (cfg.fdb_max != old.fdb_max)
		XVS_INFO("ctl", "fdb-max %u stored; it takes effect when xvsd restarts", cfg.fdb_max);
	if (cfg.aging_s != old.aging_s)
		xvs_fdb_set_aging(xvs_dp.fdb, (uint64_t)cfg.aging_s * 1000000000ull);
	xvsd.sw = cfg;
	if (cfg.workers != old.workers) {
		r = xvsd_publish_err(err);
		if (r < 0) {
			xvsd.sw = old;
			if (cfg.aging_s != old.aging_s)
				xvs_fdb_set_aging(xvs_dp.fdb, (uint64_t)old.aging_s * 1000000000ull);
			u.cfg = &old;
			xvsd_store_restore(store_put_settings, &u, err);
			return r;
		}
		XVS_INFO("ctl", "active workers now %u", cfg.workers);
	}
	return m_switch_show(NULL, result, err);
}

/* test.fault {point, after, count}: arm a fault point (xvsd.h); only with
 * --test-faults. Returns every point's state. */
static int
m_test_fault(json_t *params, json_t **result, struct xvs_err *err)
{
	static const char *const names[] = {"publish", "commit", "apply"};
	struct xvs_req_fault req;
	json_t *o;
	int r;

	if (!xvsd.test_faults)
		return xvs_err_set(err, -EPERM, "test.fault needs xvsd --test-faults");
	r = xvs_params_fault(params, &req, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < RTE_DIM(names); i++) {
		if (strcmp(req.point, "none") == 0)
			xvsd.fault[i].count = 0;
		else if (strcmp(req.point, names[i]) == 0)
			xvsd.fault[i] = (struct xvsd_fault){.after = req.after, .count = req.count,
							    .fired = xvsd.fault[i].fired};
	}
	o = json_object();
	for (size_t i = 0; i < RTE_DIM(names); i++)
		json_object_set_new(o, names[i],
				    json_pack("{s:i,s:i,s:I}", "after", (int)xvsd.fault[i].after,
					      "count", (int)xvsd.fault[i].count, "fired",
					      (json_int_t)xvsd.fault[i].fired));
	*result = o;
	return 0;
}

static int
m_help(json_t *params, json_t **result, struct xvs_err *err);

const struct xvsd_method xvsd_methods[] = {
	{"port.add", m_port_add, "add a port: name, kind, options {key: value}"},
	{"port.del", m_port_del, "delete a port: name"},
	{"port.set", m_port_set, "change VLAN or MTU of a port: name, options"},
	{"port.list", m_port_list, "list ports (optional name)"},
	{"port.stats", m_port_stats, "port counters (optional name)"},
	{"worker.stats", m_worker_stats, "per-worker load, rates and queues"},
	{"rss.show", m_rss_show, "RSS settings and state (optional name)"},
	{"rss.set", m_rss_set, "change RSS settings: name, options {enabled, base-cpu, max-cpu, "
			       "max-cpus, queues, profile, types, key, reta-size}"},
	{"fdb.show", m_fdb_show, "FDB entries (optional port, vlan)"},
	{"fdb.flush", m_fdb_flush, "remove dynamic FDB entries (optional port, vlan)"},
	{"fdb.add", m_fdb_add, "add a static entry: mac, vlan, port"},
	{"fdb.del", m_fdb_del, "delete an entry: mac, vlan"},
	{"switch.show", m_switch_show, "settings, FDB totals, version"},
	{"switch.set", m_switch_set, "change settings: options {aging, fdb-max, workers}"},
	{"test.fault", m_test_fault, "testing only (xvsd --test-faults): make a step fail: "
				     "point publish|commit|apply|none, after, count"},
	{"help", m_help, "list methods"},
	{NULL, NULL, NULL},
};

static int
m_help(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (const struct xvsd_method *const *tb = xvsd_method_tables; *tb != NULL; tb++)
		for (const struct xvsd_method *m = *tb; m->name != NULL; m++)
			json_array_append_new(a, json_pack("{s:s,s:s}", "method", m->name, "help",
							   m->help));
	*result = json_pack("{s:o}", "methods", a);
	return 0;
}

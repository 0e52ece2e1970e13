/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread). One table, xvsd_methods[], names every
 * method with its handler and help line. Handlers validate all parameters
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
#include "xvsd.h"

#define XVS_VERSION "0.1.0"

/* ---- parameter helpers ---- */

/* Get a string parameter; numbers and booleans are accepted and converted, so
 * JSON clients may send {"vlan": 10} as well as {"vlan": "10"}. */
static int
param_str(json_t *params, const char *key, bool required, char *buf, size_t len,
	  struct xvs_err *err)
{
	json_t *v = params != NULL ? json_object_get(params, key) : NULL;

	buf[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (required)
			return xvs_err_set(err, -EINVAL, "missing parameter \"%s\"", key);
		return 1;
	}
	if (json_is_string(v)) {
		if (json_string_length(v) >= len)
			return xvs_err_set(err, -EINVAL, "parameter \"%s\" is too long", key);
		snprintf(buf, len, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(buf, len, "%s", json_is_true(v) ? "on" : "off");
	} else {
		return xvs_err_set(err, -EINVAL, "parameter \"%s\" must be a string or number", key);
	}
	return 0;
}

static int
value_str(const char *key, json_t *v, char *buf, size_t len, struct xvs_err *err)
{
	if (json_is_string(v) && json_string_length(v) < len)
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "on" : "off");
	else
		return xvs_err_set(err, -EINVAL, "option \"%s\": value must be a string or number",
				   key);
	return 0;
}

/* Only these may change on a running port: they touch no device state. */
static bool
live_key(const char *key)
{
	static const char *const keys[] = {"vlan-mode", "vlan", "trunks", "native", "mtu", NULL};

	for (int i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	/* RSS settings take effect with the next snapshot (see rss_check) */
	return strcmp(key, "rss") == 0 || strncmp(key, "rss-", 4) == 0;
}

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
		cfg->kind == XVS_PORT_TAP || cfg->kind == XVS_PORT_PCI;
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

/* Apply params.options to cfg (a copy); nothing else changes on error. */
static int
apply_options(struct xvs_port_cfg *cfg, json_t *params, bool live_only, struct xvs_err *err)
{
	json_t *opts = json_object_get(params, "options");
	const char *key;
	json_t *v;
	int r;

	if (opts == NULL || json_is_null(opts))
		return 0;
	if (!json_is_object(opts))
		return xvs_err_set(err, -EINVAL, "\"options\" must be an object of key: value");
	/* vlan-mode first, so vlan/trunks/native are judged against the new mode */
	v = json_object_get(opts, "vlan-mode");
	if (v != NULL) {
		char val[512];

		r = value_str("vlan-mode", v, val, sizeof(val), err);
		if (r < 0 || (r = xvs_port_cfg_set(cfg, "vlan-mode", val, err)) < 0)
			return r;
	}
	json_object_foreach(opts, key, v) {
		char val[512];

		if (strcmp(key, "vlan-mode") == 0)
			continue;
		if (live_only && !live_key(key) && xvs_port_cfg_get(cfg, key, val, sizeof(val)) == 0)
			return xvs_err_set(err, -EBUSY,
					   "port %s: option \"%s\" cannot change on a running "
					   "port; delete the port and add it again",
					   cfg->name, key);
		r = value_str(key, v, val, sizeof(val), err);
		if (r < 0)
			return r;
		r = xvs_port_cfg_set(cfg, key, val, err);
		if (r < 0)
			return r;
	}
	return xvs_port_cfg_validate(cfg, err);
}

static struct xvs_port *
port_param(json_t *params, const char *key, bool required, struct xvs_err *err, int *rc)
{
	char name[64];
	struct xvs_port *p;
	int r = param_str(params, key, required, name, sizeof(name), err);

	*rc = r < 0 ? r : 0;
	if (r != 0)
		return NULL;
	p = xvsd_port_find(name);
	if (p == NULL)
		*rc = xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port list)", name);
	return p;
}

/* ---- JSON views ---- */

/* Whether the port can carry frames now: a vhost port has a guest attached,
 * an uplink's netdev has carrier. A tap is up while it exists. */
static bool
port_link_up(const struct xvs_port *p)
{
	struct rte_eth_link link;

	if (!p->open)
		return false;
	if (p->tap != NULL)
		return true;
	return rte_eth_link_get_nowait(p->eth_port, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_UP;
}

static json_t *
port_json(const struct xvs_port *p)
{
	json_t *o = json_object(), *opts = json_object();
	char val[512];

	json_object_set_new(o, "name", json_string(p->cfg.name));
	json_object_set_new(o, "kind", json_string(xvs_port_kind_name(p->cfg.kind)));
	json_object_set_new(o, "state", json_string(p->open ? "up" : "error"));
	json_object_set_new(o, "link", json_string(port_link_up(p) ? "up" : "down"));
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
	if (p->open) {
		char mac[18];

		xvs_mac_format(p->mac, mac);
		json_object_set_new(o, "driver", json_string(p->driver));
		json_object_set_new(o, "rx_queues", json_integer(p->n_rxq));
		json_object_set_new(o, "tx_queues", json_integer(p->n_txq));
		json_object_set_new(o, "rx_interrupts", json_boolean(p->rx_intr));
		json_object_set_new(o, "tx_handoff", json_boolean(p->tx_ring != NULL));
		json_object_set_new(o, "tx_offload", json_boolean(p->tap != NULL));
		json_object_set_new(o, "device_mac", json_string(mac));
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
	json_object_set_new(o, "egress_packets", json_integer((json_int_t)c.egress_packets));
	json_object_set_new(o, "tx_gso_segments", json_integer((json_int_t)c.tx_gso_segments));
	json_object_set_new(o, "tx_queued", json_integer(p->open && p->tx_ring != NULL ?
							 (json_int_t)rte_ring_count(p->tx_ring) : 0));
	json_object_set_new(o, "rx_events", json_integer((json_int_t)c.rx_events));
	for (int d = 0; d < XVS_DROP__MAX; d++) {
		json_object_set_new(drops, xvs_drop_names[d], json_integer((json_int_t)c.drop[d]));
		total += c.drop[d];
	}
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "drops_total", json_integer((json_int_t)total));
	if (p->open && p->tap != NULL) {
		struct xvs_tap_stats ts;

		xvs_tap_get_stats(p->tap, &ts);
		json_object_set_new(o, "dev_rx_missed", json_integer((json_int_t)ts.rx_nombuf));
		json_object_set_new(o, "dev_rx_errors",
				    json_integer((json_int_t)(ts.rx_errors + ts.rx_bad_offload)));
		json_object_set_new(o, "dev_tx_errors", json_integer((json_int_t)ts.tx_errors));
		json_object_set_new(o, "dev_rx_reads", json_integer((json_int_t)ts.rx_reads));
		json_object_set_new(o, "dev_rx_reads_empty",
				    json_integer((json_int_t)ts.rx_reads_empty));
		json_object_set_new(o, "dev_rx_reads_chained",
				    json_integer((json_int_t)ts.rx_reads_chained));
	} else if (p->open) {
		struct rte_eth_stats es;

		/* Device-level counters: frames the device lost before we polled them. */
		if (rte_eth_stats_get(p->eth_port, &es) == 0) {
			json_object_set_new(o, "dev_rx_missed", json_integer((json_int_t)es.imissed));
			json_object_set_new(o, "dev_rx_errors", json_integer((json_int_t)es.ierrors));
			json_object_set_new(o, "dev_tx_errors", json_integer((json_int_t)es.oerrors));
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
m_port_add(json_t *params, json_t **result, struct xvs_err *err)
{
	char name[64], kind_s[32];
	enum xvs_port_kind kind;
	struct xvs_port *p;
	int r, slot;

	if ((r = param_str(params, "name", true, name, sizeof(name), err)) < 0 ||
	    (r = param_str(params, "kind", true, kind_s, sizeof(kind_s), err)) < 0)
		return r;
	if ((r = xvs_name_validate("port name", name, err)) < 0 ||
	    (r = xvs_port_kind_parse(kind_s, &kind, err)) < 0)
		return r;
	if (xvsd_port_find(name) != NULL)
		return xvs_err_set(err, -EEXIST, "port %s already exists", name);
	if (kind == XVS_PORT_PCI && !xvsd.pci_bus)
		return xvs_err_set(err, -ENOTSUP, "port %s: the PCI bus is not scanned; restart "
				   "xvsd with --pci to add pci ports", name);
	slot = find_free_slot();
	if (slot < 0)
		return xvs_err_set(err, -ENOSPC, "port %s: port table full (%d ports)", name,
				   XVS_MAX_PORTS);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return xvs_err_set(err, -ENOMEM, "out of memory");
	xvs_port_cfg_init(&p->cfg, name, kind);
	p->slot = (uint16_t)slot;
	r = apply_options(&p->cfg, params, false, err);
	if (r == 0)
		r = xvs_port_cfg_validate(&p->cfg, err);
	if (r == 0)
		r = rss_check(NULL, &p->cfg, err);
	if (r < 0)
		goto free;
	for (int i = 0; i < XVS_MAX_PORTS; i++) {
		const struct xvs_port *o = xvsd.port[i];

		if (o != NULL && o->cfg.kind == kind && kind == XVS_PORT_TAP &&
		    strcmp(o->cfg.ifname, p->cfg.ifname) == 0) {
			r = xvs_err_set(err, -EEXIST, "port %s: tap %s is already port %s", name,
					p->cfg.ifname, o->cfg.name);
			goto free;
		}
	}
	r = xvs_store_begin(xvsd.store, err);
	if (r < 0)
		goto free;
	r = xvs_store_port_put(xvsd.store, &p->cfg, err);
	if (r < 0)
		goto rollback;
	r = xvs_port_open(p, err);
	if (r < 0)
		goto rollback;
	r = xvs_store_commit(xvsd.store, err);
	if (r < 0) {
		xvs_port_close(p);
		goto rollback;
	}
	xvsd.port[slot] = p;
	xvsd_publish();
	XVS_INFO("port", "%s: added (%s, %s, %u rx / %u tx queues%s)", name, kind_s, p->driver,
		 p->n_rxq, p->n_txq, p->rx_intr ? ", rx interrupts" : "");
	*result = port_json(p);
	return 0;
rollback:
	xvs_store_rollback(xvsd.store);
free:
	free(p);
	return r;
}

static int
m_port_del(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port *p;
	int r;

	p = port_param(params, "name", true, err, &r);
	if (p == NULL)
		return r;
	r = xvs_store_begin(xvsd.store, err);
	if (r < 0)
		return r;
	r = xvs_store_port_del(xvsd.store, p->cfg.name, err);
	if (r < 0 || (r = xvs_store_commit(xvsd.store, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	/* Leave the snapshot first; after the grace period no worker touches it. */
	xvsd.port[p->slot] = NULL;
	xvsd_publish();
	xvsd_rss_rings_wait_empty();
	xvs_port_close(p);
	xvs_fdb_flush(xvs_dp.fdb, p->slot, -1, true);
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++)
		memset(&xvs_dp.worker[w]->ctr[p->slot], 0, sizeof(struct xvs_port_counters));
	XVS_INFO("port", "%s: deleted", p->cfg.name);
	*result = json_pack("{s:s}", "deleted", p->cfg.name);
	free(p);
	return 0;
}

/* Store cfg as port p's configuration (committed), then put it in force. */
static int
port_cfg_commit(struct xvs_port *p, const struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	int r = xvs_store_begin(xvsd.store, err);

	if (r < 0)
		return r;
	r = xvs_store_port_put(xvsd.store, cfg, err);
	if (r < 0 || (r = xvs_store_commit(xvsd.store, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	/* conservative starts over from one worker */
	if (cfg->rss.profile == XVS_RSS_CONSERVATIVE &&
	    (p->cfg.rss.profile != XVS_RSS_CONSERVATIVE || !p->cfg.rss.enabled))
		p->rss_k = 1;
	p->cfg = *cfg;
	xvsd_publish();
	return 0;
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
	r = apply_options(&cfg, params, true, err);
	if (r == 0)
		r = xvs_port_cfg_validate(&cfg, err);
	if (r == 0)
		r = rss_check(p, &cfg, err);
	if (r < 0)
		return r;
	if (cfg.mtu != p->cfg.mtu) {
		r = xvs_port_set_mtu(p, cfg.mtu, err);
		if (r < 0)
			return r;
	}
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
		json_array_append_new(qw, json_pack("[i,i]", q, p->rss_queue_worker[q]));
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
	json_t *opts = json_object_get(params, "options");
	struct xvs_port_cfg cfg;
	struct xvs_port *p;
	const char *key;
	json_t *v;
	int r;

	p = port_param(params, "name", true, err, &r);
	if (p == NULL)
		return r;
	if (!json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "rss.set needs \"options\": {key: value, ...}");
	cfg = p->cfg;
	json_object_foreach(opts, key, v) {
		char val[512], full[32];

		if (strcmp(key, "enabled") == 0)
			snprintf(full, sizeof(full), "rss");
		else
			snprintf(full, sizeof(full), "rss-%.24s", key);
		if (strcmp(full, "rss") != 0 && xvs_port_cfg_get(&cfg, full, val, sizeof(val)) == -ENOENT)
			return xvs_err_set(err, -EINVAL,
					   "port %s: unknown rss setting \"%.32s\" (valid: enabled, "
					   "base-cpu, max-cpu, max-cpus, queues, profile, types, key, "
					   "reta-size)", p->cfg.name, key);
		r = value_str(key, v, val, sizeof(val), err);
		if (r < 0 || (r = xvs_port_cfg_set(&cfg, full, val, err)) < 0)
			return r;
	}
	r = xvs_port_cfg_validate(&cfg, err);
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
		json_t *o = json_object(), *qs = json_array();

		if (w < s->n_workers) {
			const struct xvs_snap_worker *sw = &s->worker[w];

			for (uint16_t i = 0; i < sw->n_rxq; i++) {
				const struct xvs_port *p = xvsd.port[sw->rxq[i].port];
				char q[48];

				snprintf(q, sizeof(q), "%s/%u", p != NULL ? p->cfg.name : "?",
					 sw->rxq[i].queue);
				json_array_append_new(qs, json_string(q));
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
	char v[32];
	int r;

	f->port = -1;
	f->vid = -1;
	if (json_object_get(params, "port") != NULL) {
		struct xvs_port *p = port_param(params, "port", true, err, &r);

		if (p == NULL)
			return r;
		f->port = p->slot;
	}
	r = param_str(params, "vlan", false, v, sizeof(v), err);
	if (r < 0)
		return r;
	if (r == 0) {
		uint32_t vid;

		r = xvs_u32_parse("vlan", v, XVS_VLAN_MIN, XVS_VLAN_MAX, &vid, err);
		if (r < 0)
			return r;
		f->vid = (int32_t)vid;
	}
	return 0;
}

static int
m_fdb_show(json_t *params, json_t **result, struct xvs_err *err)
{
	struct fdb_filter f;
	struct xvs_fdb_stats st;
	int r = fdb_filter_params(params, &f, err);

	if (r < 0)
		return r;
	f.out = json_array();
	xvs_fdb_walk(xvs_dp.fdb, xvs_now_ns(), fdb_row, &f);
	xvs_fdb_get_stats(xvs_dp.fdb, &st);
	*result = json_pack("{s:o,s:i,s:i}", "entries", f.out, "count", (int)st.entries, "max",
			    (int)st.max_entries);
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

static int
static_params(json_t *params, bool need_port, char mac_s[18], uint8_t mac[6], uint32_t *vid,
	      struct xvs_port **port, struct xvs_err *err)
{
	char v[32], m[64];
	int r;

	if ((r = param_str(params, "mac", true, m, sizeof(m), err)) < 0 ||
	    (r = xvs_mac_parse("mac", m, mac, err)) < 0)
		return r;
	if (mac[0] & 1)
		return xvs_err_set(err, -EINVAL, "mac %s is a multicast address", m);
	xvs_mac_format(mac, mac_s);
	if ((r = param_str(params, "vlan", true, v, sizeof(v), err)) < 0 ||
	    (r = xvs_u32_parse("vlan", v, XVS_VLAN_MIN, XVS_VLAN_MAX, vid, err)) < 0)
		return r;
	if (need_port) {
		*port = port_param(params, "port", true, err, &r);
		if (*port == NULL)
			return r;
	}
	return 0;
}

static int
m_fdb_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port *p = NULL;
	uint8_t mac[6];
	char mac_s[18];
	uint32_t vid;
	int r;

	r = static_params(params, true, mac_s, mac, &vid, &p, err);
	if (r < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	r = xvs_store_static_put(xvsd.store, mac_s, vid, p->cfg.name, err);
	if (r == 0)
		r = xvs_fdb_add_static(xvs_dp.fdb, mac, (uint16_t)vid, p->slot, err);
	if (r < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	r = xvs_store_commit(xvsd.store, err);
	if (r < 0) {
		xvs_store_rollback(xvsd.store);
		xvs_fdb_del(xvs_dp.fdb, mac, (uint16_t)vid);
		return r;
	}
	*result = json_pack("{s:s,s:i,s:s}", "mac", mac_s, "vlan", (int)vid, "port", p->cfg.name);
	return 0;
}

static int
m_fdb_del(json_t *params, json_t **result, struct xvs_err *err)
{
	uint8_t mac[6];
	char mac_s[18];
	uint32_t vid;
	int r;

	r = static_params(params, false, mac_s, mac, &vid, NULL, err);
	if (r < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	r = xvs_store_static_del(xvsd.store, mac_s, vid, err);
	if (r < 0 || (r = xvs_store_commit(xvsd.store, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if (xvs_fdb_del(xvs_dp.fdb, mac, (uint16_t)vid) < 0)
		return xvs_err_set(err, -ENOENT, "no entry for %s vlan %u", mac_s, vid);
	*result = json_pack("{s:s,s:i}", "deleted", mac_s, "vlan", (int)vid);
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
	*result = o;
	return 0;
}

static int
m_switch_set(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *opts = json_object_get(params, "options");
	struct xvs_switch_cfg cfg = xvsd.sw;
	const char *key;
	json_t *v;
	int r;

	if (opts == NULL || !json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "switch set needs at least one key=value");
	json_object_foreach(opts, key, v) {
		char val[64];

		r = value_str(key, v, val, sizeof(val), err);
		if (r < 0)
			return r;
		r = xvs_switch_cfg_set(&cfg, key, val, xvs_dp.n_workers_max, err);
		if (r < 0)
			return r;
	}
	if (cfg.fdb_max != xvsd.sw.fdb_max)
		XVS_INFO("ctl", "fdb-max %u stored; it takes effect when xvsd restarts", cfg.fdb_max);
	r = xvs_store_begin(xvsd.store, err);
	if (r < 0)
		return r;
	json_object_foreach(opts, key, v) {
		char val[64];

		xvs_switch_cfg_get(&cfg, key, val, sizeof(val));
		r = xvs_store_setting_put(xvsd.store, key, val, err);
		if (r < 0) {
			xvs_store_rollback(xvsd.store);
			return r;
		}
	}
	r = xvs_store_commit(xvsd.store, err);
	if (r < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if (cfg.aging_s != xvsd.sw.aging_s)
		xvs_fdb_set_aging(xvs_dp.fdb, (uint64_t)cfg.aging_s * 1000000000ull);
	bool republish = cfg.workers != xvsd.sw.workers;

	xvsd.sw = cfg;
	if (republish) {
		XVS_INFO("ctl", "active workers now %u", cfg.workers);
		xvsd_publish();
	}
	return m_switch_show(NULL, result, err);
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
	{"help", m_help, "list methods"},
	{NULL, NULL, NULL},
};

static int
m_help(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (const struct xvsd_method *m = xvsd_methods; m->name != NULL; m++)
		json_array_append_new(a, json_pack("{s:s,s:s}", "method", m->name, "help", m->help));
	*result = json_pack("{s:o}", "methods", a);
	return 0;
}

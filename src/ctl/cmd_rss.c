/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for RSS: rss.show, rss.set, and the
 * RSS checks port.add and port.set share (xvsd_rss_check, cmd_util.h).
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

/* RSS checks that need the running switch: the CPUs workers run on and the
 * queues the device has. cfg is the proposed configuration of port p (p may
 * be NULL when the port is being added: queues are then checked at open). */
int
xvsd_rss_check(const struct xvs_port *p, const struct xvs_port_cfg *cfg, struct xvs_err *err)
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
	return xvsd_ports_view(params, result, err, rss_json);
}

/* {name, options: {enabled|base-cpu|max-cpu|max-cpus|queues|profile|types|key|
 * reta-size: value}}: the port's rss-* options, checked, stored, then in force
 * with the next snapshot. */
static int
m_rss_set(json_t *params, json_t **result, struct xvs_err *err)
{
	int r;
	struct xvs_port *p = xvsd_port_set(params, true, err, &r);

	if (p == NULL)
		return r;
	XVS_INFO("rss", "%s: rss %s, profile %s, %u of %u queues, workers %u of %u%s", p->cfg.name,
		 p->cfg.rss.enabled ? "on" : "off", xvs_rss_profile_name(p->cfg.rss.profile),
		 p->rss_queues_used, p->n_rxq, p->rss_n_active, p->rss_n_set,
		 p->rss_spread ? ", software spreading" : "");
	*result = rss_json(p);
	return 0;
}

const struct xvsd_method xvsd_rss_methods[] = {
	{"rss.show", m_rss_show, "RSS settings and state (optional name)"},
	{"rss.set", m_rss_set, "change RSS settings: name, options {enabled, base-cpu, max-cpu, "
			       "max-cpus, queues, profile, types, key, reta-size}"},
	{NULL, NULL, NULL},
};

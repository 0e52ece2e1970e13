/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for the switch settings: switch.show,
 * switch.set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "balancer.h"
#include "cmd_util.h"
#include "log.h"
#include "params.h"
#include "xvsd.h"

#define XVS_VERSION "0.1.0"

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
	/* what else bounds the port count: ethdev-backed kinds, open fds */
	json_object_set_new(o, "max_ethdev_ports", json_integer(RTE_MAX_ETHPORTS));
	{
		unsigned int used, reserved, max;

		xvs_vhost_fdset(&used, &reserved, &max);
		json_object_set_new(o, "vhost_fdset_used", json_integer(used));
		json_object_set_new(o, "vhost_fdset_reserved", json_integer(reserved));
		json_object_set_new(o, "vhost_fdset_max", json_integer(max));
	}
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
			json_object_set_new(o, "max_open_files", json_integer((json_int_t)rl.rlim_cur));
	}
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
	if (r == 0)
		r = xvsd_qos_check_switch(&cfg, err);
	/* The balancer plans over the active workers only. */
	if (r == 0 && cfg.workers < old.workers &&
	    xvsd_balancer_cfg()->home_worker >= RTE_MIN(cfg.workers, xvs_dp.n_workers_max))
		r = xvs_err_set(err, -EBUSY, "switch: workers=%u leaves the balancer's home worker "
				"%u idle; set balancer home-worker below %u first", cfg.workers,
				xvsd_balancer_cfg()->home_worker, cfg.workers);
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
	/* QoS settings are in the snapshot's plans. */
	if (cfg.workers != old.workers || cfg.bw_mode != old.bw_mode ||
	    cfg.df_weight != old.df_weight || cfg.df_min_bw != old.df_min_bw) {
		r = xvsd_publish_err(err);
		if (r < 0) {
			xvsd.sw = old;
			if (cfg.aging_s != old.aging_s)
				xvs_fdb_set_aging(xvs_dp.fdb, (uint64_t)old.aging_s * 1000000000ull);
			u.cfg = &old;
			xvsd_store_restore(store_put_settings, &u, err);
			return r;
		}
		if (cfg.workers != old.workers)
			XVS_INFO("ctl", "active workers now %u", cfg.workers);
	}
	return m_switch_show(NULL, result, err);
}

const struct xvsd_method xvsd_switch_methods[] = {
	{"switch.show", m_switch_show, "settings, FDB totals, version"},
	{"switch.set", m_switch_set, "change settings: options {aging, fdb-max, workers, bandwidth-mode, "
			       "default-flow-weight, default-flow-min-bw}"},
	{NULL, NULL, NULL},
};

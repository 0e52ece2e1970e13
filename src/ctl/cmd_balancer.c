/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for the queue balancer (balancer.c):
 * balancer.show (settings, counters, per-worker load and parked state, the
 * last moves) and balancer.set (settings, checked with xvs_bal_cfg_check,
 * stored, then in force).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "balancer.h"
#include "params.h"
#include "cmd_util.h"
#include "xvsd.h"

static int
m_balancer_show(json_t *params, json_t **result, struct xvs_err *err)
{
	int r = xvsd_params_only(params, "balancer.show", (const char *const[]){NULL}, err);

	if (r < 0)
		return r;
	*result = xvsd_balancer_json();
	return 0;
}

static int
store_put(struct xvs_store *st, const struct xvs_bal_cfg *cfg, json_t *opts,
	  struct xvs_err *err)
{
	const char *key;
	json_t *v;
	int r = 0;

	json_object_foreach(opts, key, v) {
		char val[32];

		xvs_bal_cfg_get(cfg, key, val, sizeof(val));
		if ((r = xvs_store_balancer_put(st, key, val, err)) < 0)
			break;
	}
	return r;
}

struct undo {
	const struct xvs_bal_cfg *cfg;
	json_t *opts;
};

static int
undo_put(struct xvs_store *st, void *arg, struct xvs_err *err)
{
	const struct undo *u = arg;

	return store_put(st, u->cfg, u->opts, err);
}

/* {options: {key: value}}: xvs_bal_cfg_keys */
static int
m_balancer_set(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_bal_cfg cfg = *xvsd_balancer_cfg(), old = cfg;
	json_t *opts = json_object_get(params, "options"), *v;
	const char *key;
	int r;

	if ((r = xvsd_params_only(params, "balancer.set", (const char *const[]){"options", NULL},
				  err)) < 0)
		return r;
	if (!json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "balancer.set: options {key: value} expected (%s)",
				   "enabled, high, low, interval-ms, hysteresis, hold-intervals, "
				   "home-worker, cores-first");
	json_object_foreach(opts, key, v) {
		char val[64];

		if ((r = xvs_param_value(key, v, val, sizeof(val), err)) < 0)
			return r;
		if ((r = xvs_bal_cfg_set(&cfg, key, val, err)) < 0)
			return r;
	}
	/* Against the active workers: the balancer plans over those, and a
	 * home worker beyond them would leave it "not balancing" for good. */
	if ((r = xvs_bal_cfg_check(&cfg, xvsd_workers_active(), err)) < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = store_put(xvsd.store, &cfg, opts, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	if ((r = xvsd_balancer_apply(&cfg, err)) < 0) {
		struct undo u = {.cfg = &old, .opts = opts};

		/* only a disable publishes, and on failure it kept the old
		 * settings in force: the store follows */
		xvsd_store_restore(undo_put, &u, err);
		return r;
	}
	*result = xvsd_balancer_json();
	return 0;
}

const struct xvsd_method xvsd_balancer_methods[] = {
	{"balancer.show", m_balancer_show,
	 "queue balancer: settings, moves, per-worker load and parked state"},
	{"balancer.set", m_balancer_set,
	 "change balancer settings: options {enabled, high, low, interval-ms, hysteresis, "
	 "hold-intervals, home-worker, cores-first}"},
	{NULL, NULL, NULL},
};

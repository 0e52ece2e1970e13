/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers the RPC methods of several features share (control thread). Each
 * is defined in the file of the feature it belongs to.
 */
#ifndef XVS_CTL_CMD_UTIL_H
#define XVS_CTL_CMD_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "xvsd.h"

/* cmd_qos.c */
/* Refuse params that are not an object (absent or null is fine) or hold a
 * key not in keys (NULL-terminated): -EINVAL naming method and the key.
 * Without it a misspelt or stray key is ignored and the request acts. */
int xvsd_params_only(json_t *params, const char *method, const char *const *keys,
		     struct xvs_err *err);

/* cmd_port.c */
/* The port named name, or NULL with *rc and err set (ENOENT). */
struct xvs_port *xvsd_port_named(const char *name, struct xvs_err *err, int *rc);
/* The port named by params[key] (read as xvs_param_str does); NULL with
 * *rc < 0 and err set on an error. */
struct xvs_port *xvsd_port_param(json_t *params, const char *key, bool required,
				 struct xvs_err *err, int *rc);
/* Port slot's counters summed over every worker. */
void xvsd_port_counters_sum(uint16_t slot, struct xvs_port_counters *sum);
/* Port p's new, validated configuration cfg: stored, applied, published;
 * on a failure, put back as it was. */
int xvsd_port_cfg_commit(struct xvs_port *p, const struct xvs_port_cfg *cfg,
			 struct xvs_err *err);
/* port.set and rss.set: the port params.name names with params.options (its
 * rss-* options only if rss_only) applied to a copy of its configuration,
 * checked (RSS, QoS) and committed. NULL with *rc < 0 and err set on an
 * error, and nothing changed. */
struct xvs_port *xvsd_port_set(json_t *params, bool rss_only, struct xvs_err *err, int *rc);
/* {"ports": [view(p) for every port, or only params.name]} */
int xvsd_ports_view(json_t *params, json_t **result, struct xvs_err *err,
		    json_t *(*view)(const struct xvs_port *p));

/* cmd_rss.c: RSS checks that need the running switch (p may be NULL). */
int xvsd_rss_check(const struct xvs_port *p, const struct xvs_port_cfg *cfg,
		   struct xvs_err *err);

/* cmd_fdb.c: port p's learning state in the FDB. */
json_t *xvsd_fdb_port_json(const struct xvs_port *p);

#endif

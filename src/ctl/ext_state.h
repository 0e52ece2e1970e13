/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extensions on the control thread, the part behind the ext.* methods
 * (cmd_ext.c): what the store holds of extensions (store.h, "Extensions"),
 * replaying it into the stage registry (src/dp/pipeline.h) when an extension
 * is registered, loading objects, and the order check. Control thread only.
 *
 * The registry holds the running state: loaded stages, where each is
 * enabled, their per-port states, order constraints. The store holds what
 * the operator asked for, by extension name, so it outlives a shared object:
 * when an extension is registered (at start-up or by ext.load), its stored
 * settings, ports and order constraints are replayed into the registry;
 * until then `ext list` shows them as waiting.
 */
#ifndef XVSD_EXT_STATE_H
#define XVSD_EXT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <xvs/xvs_ext.h>

#include "ext_order.h"
#include "pipeline.h"
#include "store.h"
#include "xvs_err.h"

#define EXT_SETTINGS_MAX 64  /* settings per extension and port */
#define EXT_KEY_MAX 64       /* setting key length with the NUL */
#define EXT_VALUE_MAX 256    /* setting value length with the NUL */
#define EXT_ORDERS_MAX 64    /* operator order constraints (the registry's limit) */
#define BUILT_IN "built-in"  /* origin of the stages xvsd registers itself */

/* The settings of one (extension, port), as the store has them. */
struct ext_settings {
	unsigned n;
	char key[EXT_SETTINGS_MAX][EXT_KEY_MAX];
	char value[EXT_SETTINGS_MAX][EXT_VALUE_MAX];
	struct xvs_ext_kv kv[EXT_SETTINGS_MAX]; /* pointing at key/value */
};

/* One stored operator constraint: ext runs rel ("before"/"after") other. */
struct ext_order_row {
	char ext[XVS_EXT_NAME_MAX];
	bool before;
	char other[XVS_EXT_NAME_MAX];
};

struct ext_orders {
	unsigned n;
	struct ext_order_row row[EXT_ORDERS_MAX];
};

/* What replaying the store did for one stage just registered. */
struct xvsd_ext_replay {
	struct xvs_stage *st;
	const char *name;
	unsigned ports, settings, orders; /* applied */
	unsigned refused;
	char last_port[64];               /* replay's own: the port replayed last */
};

/* "capture", "filter", "forward". */
const char *xvsd_ext_kind_name(uint8_t kind);
/* A stage xvsd registered itself (switched by port options, not ext.*). */
bool xvsd_ext_built_in(const struct xvs_stage *st);
/* Run put(store, arg) in a transaction and commit it (the commit fault
 * point applies); on failure nothing of it stays. */
int xvsd_ext_store_txn(int (*put)(struct xvs_store *st, void *arg, struct xvs_err *e),
		       void *arg, struct xvs_err *err);

/* Settings lists: kv[] points into key[]/value[] after settings_link. put
 * sets key to value ("" removes it); load reads ext's stored settings of
 * port ("" = global). */
void xvsd_ext_settings_link(struct ext_settings *s);
int xvsd_ext_settings_put(struct ext_settings *s, const char *key, const char *value,
			  struct xvs_err *err);
int xvsd_ext_settings_load(const char *ext, const char *port, struct ext_settings *out,
			   struct xvs_err *err);

/* Every stored operator order constraint. */
int xvsd_ext_orders_load(struct ext_orders *o, struct xvs_err *err);
/* The order the registry will resolve, as a pure check: the loaded stages
 * with their descriptors' constraints, the stored operator constraints and,
 * if extra is not NULL, one more. Returns 0 with the order per place
 * (indices of xvs_stage_at), or -ELOOP (cycle) / -EINVAL with a message. */
int xvsd_ext_order_resolve(const struct ext_orders *o, const struct ext_order_row *extra,
			   struct xvs_ext_order *in, struct xvs_ext_order *out,
			   struct xvs_err *err);

/* Apply what the store holds for rp->st, just registered: global settings,
 * per-port settings and enablement of ports that exist, order constraints
 * whose other side is loaded. Refusals are logged (ERR) and counted; the
 * stored rows stay. */
void xvsd_ext_replay(struct xvsd_ext_replay *rp);

/* The loaded stage whose object is path, or NULL. */
struct xvs_stage *xvsd_ext_stage_of_origin(const char *path);
/* Open, check and register the object at path (not published yet).
 * Returns the stage, or NULL with err set (message names path). */
struct xvs_stage *xvsd_ext_load(const char *path, struct xvs_err *err);
/* The INFO line of a loaded extension with what was replayed. */
void xvsd_ext_log_loaded(const struct xvsd_ext_replay *rp, const char *path);

#endif /* XVSD_EXT_STATE_H */

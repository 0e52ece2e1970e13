/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch pipeline: a registry of stages and what a snapshot holds of it.
 *
 * Every stage, built-in (L2 forward, guards, ACL, mirror, capture) or loaded
 * from a shared object, is a struct xvs_ext_desc (include/xvs/xvs_ext.h) in
 * the registry, which the control thread owns. Per port, the registry yields
 * the ordered ingress and egress stages enabled on it with their per-port
 * state; that goes into the port's struct xvs_snap_pipeline in the next
 * snapshot, and workers run exactly that (parse -> ingress stages -> forward
 * -> egress stages per destination port -> transmit).
 *
 * Control thread only, unless said otherwise. Nothing here publishes: callers
 * change the registry, then publish a snapshot (which calls
 * xvs_stage_fill_port for every port), then call xvs_stage_reclaim() after the
 * grace period to free what no worker can see any more (old states, removed
 * stages).
 */
#ifndef XVS_PIPELINE_H
#define XVS_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "xvs_err.h"
#include <xvs/xvs_ext.h>

#define XVS_STAGES_MAX 32       /* stages in the registry, built-in ones included */
#define XVS_PORT_STAGES_MAX 16  /* stages enabled on one port, per place */
#define XVS_STAGE_PORT_SLOTS 1024 /* port slots the registry keeps state for
				   * (>= XVS_MAX_PORTS, checked in dp.h) */

/* One stage as workers see it in a snapshot (immutable once published). */
struct xvs_snap_stage {
	const struct xvs_ext_desc *desc;
	void *ctx;          /* from init */
	const void *state;  /* this port's state from config_apply, or NULL */
	uint16_t id;        /* registry index: selects the worker's counters */
};

/* A port's stages in execution order (see xvs_ext.h for the order rules);
 * the forward stage is not among them (it is the switch's one forward). */
struct xvs_snap_pipeline {
	uint8_t n_in;
	uint8_t n_out;
	struct xvs_snap_stage in[XVS_PORT_STAGES_MAX];
	struct xvs_snap_stage out[XVS_PORT_STAGES_MAX];
};

struct xvs_stage; /* opaque registry entry */

/* Add a stage. Checks the descriptor (xvs_ext_desc_check: ABI version, sizes,
 * names, kind/places), refuses a duplicate name or an ordering cycle with the
 * stages already there (message names the cycle), calls ops->init, and
 * re-resolves the order. dl is the dlopen handle (NULL for built-ins), origin
 * "built-in" or the shared object's path. Enabled on no port yet. */
int xvs_stage_register(const struct xvs_ext_desc *desc, void *dl, const char *origin,
		       struct xvs_err *err);

/* Remove a stage: it leaves every port at the next publish; after the grace
 * period (xvs_stage_reclaim) its states are freed, ops->fini runs and the
 * shared object is closed. Built-in stages cannot be removed (-EPERM). */
int xvs_stage_unregister(const char *name, struct xvs_err *err);

struct xvs_stage *xvs_stage_find(const char *name);
unsigned xvs_stage_count(void);
struct xvs_stage *xvs_stage_at(unsigned i); /* registry order; NULL past the end */
const struct xvs_ext_desc *xvs_stage_desc(const struct xvs_stage *st);
const char *xvs_stage_origin(const struct xvs_stage *st);

/* Enable or disable st on the port in slot (name for messages). Calls
 * ops->port_enable, which may refuse (then nothing changes). */
int xvs_stage_port_enable(struct xvs_stage *st, uint16_t slot, const char *port_name, bool on,
			  struct xvs_err *err);
bool xvs_stage_port_enabled(const struct xvs_stage *st, uint16_t slot);

/* Settings of st for the port in slot (XVS_EXT_PORT_NONE: global), complete
 * list (not a delta). With apply false only ops->config_validate runs (no
 * side effect: for checking before the store commit); with apply true
 * ops->config_apply builds the new state, which replaces the old one at the
 * next publish. */
int xvs_stage_configure(struct xvs_stage *st, uint16_t slot, const struct xvs_ext_kv *kv,
			unsigned n, bool apply, struct xvs_err *err);

/* Operator ordering constraint: name runs before (or after) other, on top of
 * the descriptors' own. Refused with the cycle named if it makes one. */
int xvs_stage_order_add(const char *name, bool before, const char *other, struct xvs_err *err);

/* A stage switched off after it misbehaved, or by the operator: it stays
 * registered and keeps its settings but runs on no port. */
void xvs_stage_set_disabled(struct xvs_stage *st, bool disabled, const char *why);
bool xvs_stage_disabled(const struct xvs_stage *st);

/* Sum of every worker's counters of st: out[0 .. n_counters) are the
 * descriptor's counters, then one per drop reason, then the host's own
 * ("bad_verdict", "emit_full"), as xvs_stage_counter_name() names them.
 * Returns how many were written. Any thread. */
unsigned xvs_stage_counters(const struct xvs_stage *st, uint64_t *out, unsigned max);
const char *xvs_stage_counter_name(const struct xvs_stage *st, unsigned i);

/* Snapshot building: the stages of the port in slot, in order. */
void xvs_stage_fill_port(uint16_t slot, struct xvs_snap_pipeline *pipe);

/* After a publish and its grace period: free replaced states and finish
 * removed stages. */
void xvs_stage_reclaim(void);

/* A snapshot was built, with or without ports (each port's pipeline through
 * xvs_stage_fill_port): what was retired before it is in none of its
 * pipelines, so the next xvs_stage_reclaim() may free it. Without this, a
 * stage removed while no port is open would never be finished. */
void xvs_stage_snapshot_built(void);

/* ---- Additions to the agreed interface (nothing above changed) ---- */

/* Layout of a worker's counters of one stage (struct xvs_stage_ctr, one per
 * registry id in struct xvs_worker): the descriptor's counters from 0 (what
 * b->counters points at), the drop reasons from XVS_STAGE_CTR_DROP0, then the
 * host's own. xvs_stage_counters() compacts this into the order it documents;
 * xvs_stage_counter_name() names drop reasons "drop_<reason>". */
#define XVS_STAGE_CTR_DROP0 XVS_EXT_MAX_COUNTERS
#define XVS_STAGE_CTR_BAD_VERDICT (XVS_EXT_MAX_COUNTERS + XVS_EXT_MAX_DROP_REASONS)
#define XVS_STAGE_CTR_EMIT_FULL (XVS_STAGE_CTR_BAD_VERDICT + 1)
#define XVS_STAGE_CTR_MAX (XVS_STAGE_CTR_EMIT_FULL + 1)

/* One worker's counters of one stage. Written only by that worker. */
struct xvs_stage_ctr {
	uint64_t v[XVS_STAGE_CTR_MAX];
};

/* Where the registry finds the workers' counters: ctr(arg, w) returns worker
 * w's array of XVS_STAGES_MAX struct xvs_stage_ctr, or NULL past the last
 * worker. Set once at start-up (xvsd: the struct xvs_worker array). Without
 * it every counter reads 0. */
typedef struct xvs_stage_ctr *xvs_stage_ctr_fn(void *arg, unsigned worker);
void xvs_stage_set_counters(xvs_stage_ctr_fn *fn, void *arg);

/* Log sink for stages (struct xvs_ext_host.log) and for the registry's notes
 * (ignored constraints). level is syslog's; stage is the stage's name or
 * "pipeline". Without it, nothing is logged. */
typedef void xvs_stage_log_fn(int level, const char *stage, const char *msg);
void xvs_stage_set_log(xvs_stage_log_fn *fn);

/* What a port is, for port_enable (XVS_EXT_PORT_UPLINK: guards refuse it).
 * The control thread calls it when a port takes the slot, before enabling
 * any stage on it. */
void xvs_stage_port_set_flags(uint16_t slot, uint16_t flags);

/* The port in slot is going away: every stage enabled on it is told
 * (port_enable off; a refusal is ignored), disabled there, and its states
 * there are freed at the next xvs_stage_reclaim(). */
void xvs_stage_port_removed(uint16_t slot, const char *port_name);

/* This port's settings state of st (for tests and "show"), or NULL. */
const void *xvs_stage_port_state(const struct xvs_stage *st, uint16_t slot);

/* The registry id of st (index of its counters in a worker). */
uint16_t xvs_stage_id(const struct xvs_stage *st);

/* The active forward stage (kind FORWARD), or NULL. */
struct xvs_stage *xvs_stage_forward(void);
void *xvs_stage_ctx(const struct xvs_stage *st);

/* Why st is disabled ("" when it is not). */
const char *xvs_stage_disabled_why(const struct xvs_stage *st);

/* Take back an operator constraint of xvs_stage_order_add ("a before b" and
 * "b after a" are the same one). The stages need not be registered. Returns
 * 0, or -ENOENT when there is no such constraint. Removing one cannot make a
 * cycle. (Added for xvsctl ext unorder.) */
int xvs_stage_order_del(const char *name, bool before, const char *other, struct xvs_err *err);

/* Remove every stage, built-ins included, and free everything (shutdown,
 * tests). No worker may run. */
void xvs_stage_registry_clear(void);

#endif /* XVS_PIPELINE_H */

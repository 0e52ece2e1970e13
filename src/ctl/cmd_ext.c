/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ext.* RPC methods (control thread): loading and unloading at run
 * time, enabling on ports, order constraints, settings, and the views.
 *
 * What the store holds and how it is replayed into the stage registry:
 * ext_state.c.
 *
 * Every method: validate (nothing changes), store and commit, apply to the
 * registry, publish, reply. A callback that refuses after the commit (a
 * port_enable or config_apply that fails) gets the stored rows put back;
 * the registry keeps the old state on such a failure (pipeline.h).
 *
 * Unloading with traffic flowing: the stage leaves the registry, the next
 * snapshot no longer runs it, the publish waits for every worker to pass a
 * quiescent state, and only then xvs_stage_reclaim() frees its states, calls
 * fini and dlclose()s the object.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ext_order.h"
#include "ext_state.h"
#include "log.h"
#include "params.h"
#include "xvsd.h"

/* ---- parameters and small views ---- */

static json_t *
places_json(uint8_t places)
{
	json_t *a = json_array();

	if (places & XVS_EXT_INGRESS)
		json_array_append_new(a, json_string("ingress"));
	if (places & XVS_EXT_EGRESS)
		json_array_append_new(a, json_string("egress"));
	return a;
}

static json_t *
names_json(const char *const *names)
{
	json_t *a = json_array();

	for (unsigned i = 0; names != NULL && names[i] != NULL; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static struct xvs_stage *
stage_named(const char *name, struct xvs_err *err, int *rc)
{
	struct xvs_stage *st = xvs_stage_find(name);

	*rc = 0;
	if (st == NULL)
		*rc = xvs_err_set(err, -ENOENT, "no extension named \"%s\" is loaded (see: xvsctl "
				  "ext list)", name);
	return st;
}

/* A loaded, third-party extension the operator may switch and configure. */
static struct xvs_stage *
stage_param(json_t *params, struct xvs_err *err, int *rc)
{
	char name[XVS_PARAM_NAME_LEN];
	struct xvs_stage *st;

	*rc = xvs_param_str(params, "name", true, name, sizeof(name), err);
	if (*rc < 0)
		return NULL;
	st = stage_named(name, err, rc);
	if (st != NULL && xvsd_ext_built_in(st)) {
		*rc = xvs_err_set(err, -EPERM, "extension %s is built into xvsd and set through "
				  "its port options (see doc/extensions.md)", name);
		return NULL;
	}
	return st;
}

static struct xvs_port *
port_param(json_t *params, const char *key, bool required, struct xvs_err *err, int *rc)
{
	char name[XVS_PARAM_NAME_LEN];
	struct xvs_port *p;

	*rc = xvs_param_str(params, key, required, name, sizeof(name), err);
	if (*rc != 0) {
		*rc = *rc < 0 ? *rc : 0;
		return NULL;
	}
	p = xvsd_port_find(name);
	if (p == NULL)
		*rc = xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port list)",
				  name);
	return p;
}

/* ---- views ---- */

static json_t *
ports_json(const struct xvs_stage *st)
{
	json_t *a = json_array();

	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (xvsd.port[slot] != NULL && xvs_stage_port_enabled(st, slot))
			json_array_append_new(a, json_string(xvsd.port[slot]->cfg.name));
	return a;
}

/* What the store holds for ext: {"global": {k: v}, "ports": {port: {k: v}}},
 * the ports it is enabled on and the order constraints naming it. */
static int
stored_row(const char *const *c, unsigned n, void *arg)
{
	json_t *o = arg;

	if (n == 4) {
		json_t *g = c[1][0] ? json_object_get(json_object_get(o, "ports"), c[1])
				    : json_object_get(o, "global");

		if (g == NULL) {
			g = json_object();
			json_object_set_new(json_object_get(o, "ports"), c[1], g);
		}
		json_object_set_new(g, c[2], json_string(c[3]));
	} else if (n == 2) {
		json_array_append_new(json_object_get(o, "enabled_on"), json_string(c[1]));
	} else if (n == 3) {
		json_array_append_new(json_object_get(o, "order"),
				      json_pack("{s:s,s:s,s:s}", "ext", c[0], "rel", c[1], "other",
						c[2]));
	}
	return 0;
}

static json_t *
stored_json(const char *name)
{
	json_t *o = json_pack("{s:{},s:{},s:[],s:[]}", "global", "ports", "enabled_on", "order");
	struct xvs_err e;

	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_SETTING, name, stored_row, o, &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_PORT, name, stored_row, o, &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_ORDER, name, stored_row, o, &e);
	return o;
}

static json_t *
stage_json(const struct xvs_stage *st)
{
	const struct xvs_ext_desc *d = xvs_stage_desc(st);

	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:b,s:o}", "name", d->name, "description",
			 d->description != NULL ? d->description : "", "kind",
			 xvsd_ext_kind_name(d->kind), "places", places_json(d->places), "origin",
			 xvs_stage_origin(st), "loaded", 1, "disabled", xvs_stage_disabled(st),
			 "ports", ports_json(st));
}

/* Where st runs in the resolved order of each place. */
static json_t *
runs_json(const struct xvs_stage *st)
{
	static struct ext_orders o;
	struct xvs_ext_order in, out;
	struct xvs_err e;
	json_t *r = json_object();

	if (xvsd_ext_orders_load(&o, &e) < 0 ||
	    xvsd_ext_order_resolve(&o, NULL, &in, &out, &e) < 0) {
		json_object_set_new(r, "error", json_string(e.msg));
		return r;
	}
	for (int k = 0; k < 2; k++) {
		const struct xvs_ext_order *ord = k == 0 ? &in : &out;
		json_t *names = json_array();
		int pos = -1;

		for (uint16_t i = 0; i < ord->n; i++) {
			struct xvs_stage *s = xvs_stage_at(ord->idx[i]);

			if (s == st)
				pos = i;
			json_array_append_new(names, json_string(xvs_stage_desc(s)->name));
		}
		json_object_set_new(r, k == 0 ? "ingress" : "egress",
				    json_pack("{s:i,s:o}", "position", pos, "order", names));
	}
	return r;
}

static json_t *
counters_json(const struct xvs_stage *st)
{
	uint64_t v[XVS_EXT_MAX_COUNTERS + XVS_EXT_MAX_DROP_REASONS + 8];
	unsigned n = xvs_stage_counters(st, v, sizeof(v) / sizeof(v[0]));
	json_t *o = json_object();

	for (unsigned i = 0; i < n; i++)
		json_object_set_new(o, xvs_stage_counter_name(st, i),
				    json_integer((json_int_t)v[i]));
	return o;
}

/* Every extension name in a row of the store. */
static int
name_row(const char *const *c, unsigned n, void *arg)
{
	json_object_set_new(arg, c[0], json_true());
	if (n == 3)
		json_object_set_new(arg, c[2], json_true());
	return 0;
}

static int
m_ext_list(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *a = json_array(), *names = json_object(), *v;
	struct xvs_err e;
	const char *k;

	for (unsigned i = 0; i < xvs_stage_count(); i++)
		json_array_append_new(a, stage_json(xvs_stage_at(i)));
	/* names the store holds that are not loaded: their settings wait */
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_SETTING, NULL, name_row, names, &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_PORT, NULL, name_row, names, &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_ORDER, NULL, name_row, names, &e);
	json_object_foreach(names, k, v)
		if (xvs_stage_find(k) == NULL)
			json_array_append_new(a, json_pack("{s:s,s:b,s:o}", "name", k, "loaded", 0,
							   "stored", stored_json(k)));
	json_decref(names);
	*result = json_pack("{s:o}", "extensions", a);
	return 0;
}

static int
m_ext_show(json_t *params, json_t **result, struct xvs_err *err)
{
	char name[XVS_PARAM_NAME_LEN];
	const struct xvs_ext_desc *d;
	struct xvs_stage *st;
	json_t *o;
	int r;

	r = xvs_param_str(params, "name", true, name, sizeof(name), err);
	if (r < 0)
		return r;
	st = xvs_stage_find(name);
	if (st == NULL) {
		o = stored_json(name);
		if (json_object_size(json_object_get(o, "global")) == 0 &&
		    json_object_size(json_object_get(o, "ports")) == 0 &&
		    json_array_size(json_object_get(o, "enabled_on")) == 0 &&
		    json_array_size(json_object_get(o, "order")) == 0) {
			json_decref(o);
			return stage_named(name, err, &r), r;
		}
		*result = json_pack("{s:s,s:b,s:o}", "name", name, "loaded", 0, "stored", o);
		return 0;
	}
	d = xvs_stage_desc(st);
	o = stage_json(st);
	json_object_set_new(o, "runs_before", names_json(d->runs_before));
	json_object_set_new(o, "runs_after", names_json(d->runs_after));
	json_object_set_new(o, "counter_names", names_json(d->counters));
	json_object_set_new(o, "drop_reasons", names_json(d->drop_reasons));
	json_object_set_new(o, "disabled_why", json_string(xvs_stage_disabled_why(st)));
	json_object_set_new(o, "runs", runs_json(st));
	json_object_set_new(o, "counters", counters_json(st));
	json_object_set_new(o, "stored", stored_json(name));
	*result = o;
	return 0;
}

/* ---- load, unload ---- */

static int
store_module_del(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	return xvs_store_ext_module_del(st, arg, e);
}

static int
store_module_put(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	return xvs_store_ext_module_put(st, arg, e);
}

/* Take st out of the registry and, once no worker can run it, finish it. */
static int
unload(const char *name, struct xvs_err *err)
{
	int r = xvs_stage_unregister(name, err);

	if (r < 0)
		return r;
	if (xvsd_publish() < 0) {
		/* the running snapshot still has it: freed after the retry */
		xvsd.republish = true;
		return 0;
	}
	xvs_stage_reclaim();
	return 0;
}

static int
m_ext_load(json_t *params, json_t **result, struct xvs_err *err)
{
	char path[PATH_MAX];
	struct xvsd_ext_replay rp = {0};
	int r;

	r = xvs_param_str(params, "path", true, path, sizeof(path), err);
	if (r < 0)
		return r;
	if (path[0] != '/')
		return xvs_err_set(err, -EINVAL, "extension path \"%s\" must be absolute", path);
	if (xvsd_ext_stage_of_origin(path) != NULL)
		return xvs_err_set(err, -EEXIST, "extension %s is loaded already (as %s)", path,
				   xvs_stage_desc(xvsd_ext_stage_of_origin(path))->name);
	rp.st = xvsd_ext_load(path, err);
	if (rp.st == NULL)
		return err->code;
	rp.name = xvs_stage_desc(rp.st)->name;
	/* Registered but in no snapshot yet: on failure it goes without a grace
	 * period. */
	if ((r = xvsd_ext_store_txn(store_module_put, path, err)) < 0)
		goto unregister;
	xvsd_ext_replay(&rp);
	r = xvsd_publish_err(err);
	if (r < 0) {
		xvsd_store_restore(store_module_del, path, err);
		goto unregister;
	}
	xvs_stage_reclaim();
	xvsd_ext_log_loaded(&rp, path);
	*result = stage_json(rp.st);
	return 0;
unregister:
	xvs_stage_unregister(rp.name, NULL);
	xvs_stage_reclaim();
	return r;
}

static int
count_row(const char *const *c, unsigned n, void *arg)
{
	(*(unsigned *)arg)++;
	return 0;
}

static int
m_ext_unload(json_t *params, json_t **result, struct xvs_err *err)
{
	char arg[PATH_MAX], name[XVS_EXT_NAME_MAX], origin[PATH_MAX];
	struct xvs_stage *st;
	int r;

	r = xvs_param_str(params, "name", true, arg, sizeof(arg), err);
	if (r < 0)
		return r;
	st = arg[0] == '/' ? xvsd_ext_stage_of_origin(arg) : xvs_stage_find(arg);
	if (st == NULL && arg[0] == '/') {
		/* stored by ext.load, but the object is missing: forget it */
		unsigned stored = 0;

		xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_MODULE, arg, count_row, &stored, err);
		if (stored > 0) {
			if ((r = xvsd_ext_store_txn(store_module_del, arg, err)) < 0)
				return r;
			XVS_INFO("ext", "extension %s: no longer loaded at start-up", arg);
			*result = json_pack("{s:s}", "forgotten", arg);
			return 0;
		}
	}
	if (st == NULL)
		return stage_named(arg, err, &r), r;
	if (xvsd_ext_built_in(st))
		return xvs_err_set(err, -EPERM, "extension %s is built into xvsd and cannot be "
				   "unloaded", arg);
	snprintf(name, sizeof(name), "%s", xvs_stage_desc(st)->name);
	snprintf(origin, sizeof(origin), "%s", xvs_stage_origin(st));
	if ((r = xvsd_ext_store_txn(store_module_del, origin, err)) < 0)
		return r;
	r = unload(name, err);
	if (r < 0) {
		xvsd_store_restore(store_module_put, origin, err);
		return r;
	}
	XVS_INFO("ext", "extension %s: unloaded (%s); its stored settings are kept", name,
		 origin);
	*result = json_pack("{s:s,s:s}", "unloaded", name, "path", origin);
	return 0;
}

/* ---- enable, disable ---- */

struct port_row {
	const char *ext, *port;
	bool on;
};

static int
store_port_row(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	struct port_row *pr = arg;

	return xvs_store_ext_port_put(st, pr->ext, pr->port, pr->on, e);
}

static int
ext_switch(json_t *params, json_t **result, struct xvs_err *err, bool on)
{
	struct port_row undo;
	struct xvs_stage *st;
	struct xvs_port *p;
	struct xvs_err e;
	const char *name;
	int r;

	st = stage_param(params, err, &r);
	if (st == NULL)
		return r;
	p = port_param(params, "port", true, err, &r);
	if (p == NULL)
		return r;
	name = xvs_stage_desc(st)->name;
	if (xvs_stage_port_enabled(st, p->slot) == on) {
		*result = json_pack("{s:s,s:s,s:b,s:b}", "name", name, "port", p->cfg.name,
				    "enabled", on, "changed", 0);
		return 0;
	}
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_ext_port_put(xvsd.store, name, p->cfg.name, on, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	/* the extension may refuse the port: before the commit, then */
	if ((r = xvs_stage_port_enable(st, p->slot, p->cfg.name, on, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		goto undo;
	if ((r = xvsd_publish_err(err)) < 0) {
		undo = (struct port_row){.ext = name, .port = p->cfg.name, .on = !on};
		xvsd_store_restore(store_port_row, &undo, err);
		goto undo;
	}
	xvs_stage_reclaim();
	XVS_INFO("ext", "extension %s: %s on port %s", name, on ? "enabled" : "disabled",
		 p->cfg.name);
	*result = json_pack("{s:s,s:s,s:b,s:b}", "name", name, "port", p->cfg.name, "enabled", on,
			    "changed", 1);
	return 0;
undo:
	if (xvs_stage_port_enable(st, p->slot, p->cfg.name, !on, &e) < 0)
		XVS_ERR("ext", "extension %s: port %s left %s: %s", name, p->cfg.name,
			on ? "enabled" : "disabled", e.msg);
	return r;
}

static int
m_ext_enable(json_t *params, json_t **result, struct xvs_err *err)
{
	return ext_switch(params, result, err, true);
}

static int
m_ext_disable(json_t *params, json_t **result, struct xvs_err *err)
{
	return ext_switch(params, result, err, false);
}

/* ---- order ---- */

static int
store_order_del(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct ext_order_row *r = arg;

	return xvs_store_ext_order_del(st, r->ext, r->before ? "before" : "after", r->other, e);
}

static int
store_order_put(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct ext_order_row *r = arg;

	return xvs_store_ext_order_put(st, r->ext, r->before ? "before" : "after", r->other, e);
}

/* name, rel (before|after), other: into row. */
static int
order_params(json_t *params, struct ext_order_row *row, struct xvs_err *err)
{
	char rel[16], name[XVS_PARAM_NAME_LEN], other[XVS_PARAM_NAME_LEN];
	int r;

	if ((r = xvs_param_str(params, "name", true, name, sizeof(name), err)) < 0 ||
	    (r = xvs_param_str(params, "rel", true, rel, sizeof(rel), err)) < 0 ||
	    (r = xvs_param_str(params, "other", true, other, sizeof(other), err)) < 0)
		return r;
	if (strcmp(rel, "before") != 0 && strcmp(rel, "after") != 0)
		return xvs_err_set(err, -EINVAL, "order: expected \"before\" or \"after\", not "
				   "\"%s\"", rel);
	if (!xvs_ext_name_ok(name) || !xvs_ext_name_ok(other))
		return xvs_err_set(err, -EINVAL, "order: \"%s\" or \"%s\" is not an extension "
				   "name", name, other);
	if (strcmp(name, other) == 0)
		return xvs_err_set(err, -EINVAL, "order: extension %s cannot run %s itself", name,
				   rel);
	snprintf(row->ext, sizeof(row->ext), "%.31s", name); /* name_ok: fits */
	snprintf(row->other, sizeof(row->other), "%.31s", other);
	row->before = rel[0] == 'b';
	return 0;
}

static json_t *
order_reply(const struct ext_order_row *row)
{
	struct xvs_stage *st = xvs_stage_find(row->ext);

	return json_pack("{s:s,s:s,s:s,s:o}", "name", row->ext, "rel",
			 row->before ? "before" : "after", "other", row->other, "runs",
			 st != NULL ? runs_json(st) : json_object());
}

static int
m_ext_order(json_t *params, json_t **result, struct xvs_err *err)
{
	static struct ext_orders o;
	struct ext_order_row row;
	struct xvs_ext_order in, out;
	struct xvs_err e;
	int r;

	if ((r = order_params(params, &row, err)) < 0)
		return r;
	if (stage_named(row.ext, err, &r) == NULL || stage_named(row.other, err, &r) == NULL)
		return r;
	/* the whole order with the new constraint, before anything is stored:
	 * the registry checks only after the commit */
	if ((r = xvsd_ext_orders_load(&o, err)) < 0)
		return r;
	if (o.n == EXT_ORDERS_MAX)
		return xvs_err_set(err, -ENOSPC, "order: at most %d constraints (see ext unorder)",
				   EXT_ORDERS_MAX);
	if ((r = xvsd_ext_order_resolve(&o, &row, &in, &out, err)) < 0)
		return r;
	if ((r = xvsd_ext_store_txn(store_order_put, &row, err)) < 0)
		return r;
	if ((r = xvs_stage_order_add(row.ext, row.before, row.other, err)) < 0) {
		xvsd_store_restore(store_order_del, &row, err);
		return r;
	}
	if ((r = xvsd_publish_err(err)) < 0) {
		xvs_stage_order_del(row.ext, row.before, row.other, &e);
		xvsd_store_restore(store_order_del, &row, err);
		return r;
	}
	XVS_INFO("ext", "extension order: %s runs %s %s", row.ext, row.before ? "before" : "after",
		 row.other);
	*result = order_reply(&row);
	return 0;
}

/* Both spellings of one constraint: "a before b" is "b after a". */
static int
store_order_del_both(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct ext_order_row *r = arg;
	struct ext_order_row flip = {.before = !r->before};
	int rc = store_order_del(st, arg, e);

	snprintf(flip.ext, sizeof(flip.ext), "%.31s", r->other);
	snprintf(flip.other, sizeof(flip.other), "%.31s", r->ext);
	return rc < 0 ? rc : store_order_del(st, &flip, e);
}

static int
m_ext_unorder(json_t *params, json_t **result, struct xvs_err *err)
{
	static struct ext_orders o;
	struct ext_order_row row;
	bool stored = false;
	struct xvs_err e;
	int r;

	if ((r = order_params(params, &row, err)) < 0)
		return r;
	if ((r = xvsd_ext_orders_load(&o, err)) < 0)
		return r;
	for (unsigned i = 0; i < o.n; i++) {
		const struct ext_order_row *k = &o.row[i];

		stored |= (strcmp(k->ext, row.ext) == 0 && strcmp(k->other, row.other) == 0 &&
			   k->before == row.before) ||
			  (strcmp(k->ext, row.other) == 0 && strcmp(k->other, row.ext) == 0 &&
			   k->before != row.before);
	}
	if (!stored)
		return xvs_err_set(err, -ENOENT, "no order rule \"%s %s %s\" (see: xvsctl ext show)",
				   row.ext, row.before ? "before" : "after", row.other);
	if ((r = xvsd_ext_store_txn(store_order_del_both, &row, err)) < 0)
		return r;
	/* absent from the registry when one side was never loaded: nothing to do */
	xvs_stage_order_del(row.ext, row.before, row.other, &e);
	if ((r = xvsd_publish_err(err)) < 0) {
		if (xvs_stage_find(row.ext) != NULL && xvs_stage_find(row.other) != NULL)
			xvs_stage_order_add(row.ext, row.before, row.other, &e);
		xvsd_store_restore(store_order_put, &row, err);
		return r;
	}
	XVS_INFO("ext", "extension order: %s no longer runs %s %s", row.ext,
		 row.before ? "before" : "after", row.other);
	*result = order_reply(&row);
	json_object_set_new(*result, "removed", json_true());
	return 0;
}

/* ---- settings ---- */

/* [a-z0-9_.-]+: a key an extension can document and a shell can pass */
static bool
key_ok(const char *k)
{
	if (k[0] == '\0')
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' ||
		      *k == '-' || *k == '.'))
			return false;
	return true;
}

struct settings_row {
	const char *ext, *port;
	const struct ext_settings *s;
};

static int
store_settings(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct settings_row *sr = arg;

	return xvs_store_ext_settings_put(st, sr->ext, sr->port, sr->s->kv, sr->s->n, e);
}

static int
m_ext_set(json_t *params, json_t **result, struct xvs_err *err)
{
	static struct ext_settings old, cur;
	json_t *opts = params != NULL ? json_object_get(params, "options") : NULL, *v;
	struct settings_row undo;
	struct xvs_stage *st;
	struct xvs_port *p;
	const char *name, *port, *k;
	uint16_t slot;
	int r;

	st = stage_param(params, err, &r);
	if (st == NULL)
		return r;
	name = xvs_stage_desc(st)->name;
	if (!json_is_object(opts) ||
	    json_object_size(opts) == (json_object_get(opts, "port") != NULL ? 1u : 0u))
		return xvs_err_set(err, -EINVAL, "extension %s: nothing to set (key=value ...)",
				   name);
	p = port_param(opts, "port", false, err, &r);
	if (r < 0)
		return r;
	port = p != NULL ? p->cfg.name : "";
	slot = p != NULL ? p->slot : XVS_EXT_PORT_NONE;
	if ((r = xvsd_ext_settings_load(name, port, &old, err)) < 0)
		return r;
	cur = old;
	xvsd_ext_settings_link(&cur);
	json_object_foreach(opts, k, v) {
		char val[EXT_VALUE_MAX];

		if (strcmp(k, "port") == 0)
			continue;
		if (!key_ok(k) || strlen(k) >= EXT_KEY_MAX)
			return xvs_err_set(err, -EINVAL,
					   "extension %s: setting \"%.64s\": keys are [a-z0-9_.-], "
					   "at most %d characters", name, k, EXT_KEY_MAX - 1);
		if ((r = xvs_param_value(k, v, val, sizeof(val), err)) < 0 ||
		    (r = xvsd_ext_settings_put(&cur, k, val, err)) < 0)
			return r;
	}
	/* the extension checks the complete list, without side effects */
	if ((r = xvs_stage_configure(st, slot, cur.kv, cur.n, false, err)) < 0)
		return r;
	undo = (struct settings_row){.ext = name, .port = port, .s = &cur};
	if ((r = xvsd_ext_store_txn(store_settings, &undo, err)) < 0)
		return r;
	undo.s = &old;
	xvsd_ext_settings_link(&old);
	/* a failing config_apply leaves the state in force as it was */
	if ((r = xvs_stage_configure(st, slot, cur.kv, cur.n, true, err)) < 0) {
		xvsd_store_restore(store_settings, &undo, err);
		return r;
	}
	if ((r = xvsd_publish_err(err)) < 0) {
		struct xvs_err e;

		if (xvs_stage_configure(st, slot, old.kv, old.n, true, &e) < 0)
			XVS_ERR("ext", "extension %s: previous settings not applied again: %s",
				name, e.msg);
		xvsd_store_restore(store_settings, &undo, err);
		return r;
	}
	xvs_stage_reclaim();
	XVS_INFO("ext", "extension %s: %u setting(s) of %s%s in force", name, cur.n,
		 p != NULL ? "port " : "", p != NULL ? port : "the extension");
	*result = json_pack("{s:s,s:s,s:o}", "name", name, "port", port, "settings",
			    json_object());
	for (unsigned i = 0; i < cur.n; i++)
		json_object_set_new(json_object_get(*result, "settings"), cur.key[i],
				    json_string(cur.value[i]));
	return 0;
}

const struct xvsd_method xvsd_ext_methods[] = {
	{"ext.list", m_ext_list, "extensions: loaded ones, and those whose settings wait"},
	{"ext.show", m_ext_show, "{name}: descriptor, order, ports, settings, counters"},
	{"ext.load", m_ext_load, "{path}: load a shared-object extension (kept across restarts)"},
	{"ext.unload", m_ext_unload, "{name}: unload an extension (name or path)"},
	{"ext.enable", m_ext_enable, "{name, port}: run the extension on a port"},
	{"ext.disable", m_ext_disable, "{name, port}: stop running it on a port"},
	{"ext.order", m_ext_order, "{name, rel: before|after, other}: an order constraint"},
	{"ext.unorder", m_ext_unorder, "{name, rel, other}: take an order constraint back"},
	{"ext.set", m_ext_set, "{name, options: {[port], key: value}}: settings (\"\" removes)"},
	{NULL, NULL, NULL},
};

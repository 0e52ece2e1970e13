/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extensions on the control thread: loading (--ext-dir at start-up, ext.load
 * and ext.unload at run time), the ext.* RPC methods, and what the store
 * keeps of them (store.h, "Extensions").
 *
 * The pipeline registry (src/dp/pipeline.h) holds the running state: loaded
 * stages, where each is enabled, their per-port states, order constraints.
 * The store holds what the operator asked for, by extension name, so it
 * outlives a shared object: when an extension is registered (at start-up or
 * by ext.load), its stored settings, ports and order constraints are replayed
 * into the registry; until then `ext list` shows them as waiting.
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
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ext_load.h"
#include "ext_order.h"
#include "log.h"
#include "params.h"
#include "pipeline.h"
#include "xvsd.h"

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

/* ---- small helpers ---- */

static const char *
kind_name(uint8_t kind)
{
	switch (kind) {
	case XVS_EXT_CAPTURE: return "capture";
	case XVS_EXT_FILTER: return "filter";
	case XVS_EXT_FORWARD: return "forward";
	default: return "?";
	}
}

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

static bool
built_in(const struct xvs_stage *st)
{
	return strcmp(xvs_stage_origin(st), BUILT_IN) == 0;
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
	if (st != NULL && built_in(st)) {
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

/* Run put(store, arg) in a transaction and commit it (the commit fault
 * point applies); on failure nothing of it stays. */
static int
store_txn(int (*put)(struct xvs_store *st, void *arg, struct xvs_err *e), void *arg,
	  struct xvs_err *err)
{
	int r = xvs_store_begin(xvsd.store, err);

	if (r < 0)
		return r;
	if ((r = put(xvsd.store, arg, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	return xvsd_store_commit(err);
}

/* ---- stored settings ---- */

static void
settings_link(struct ext_settings *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		s->kv[i].key = s->key[i];
		s->kv[i].value = s->value[i];
	}
}

/* Set key to value ("" removes it). */
static int
settings_put(struct ext_settings *s, const char *key, const char *value, struct xvs_err *err)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->key[i], key) == 0)
			break;
	if (value[0] == '\0') {
		if (i < s->n) {
			s->n--;
			memmove(&s->key[i], &s->key[i + 1], sizeof(s->key[0]) * (s->n - i));
			memmove(&s->value[i], &s->value[i + 1], sizeof(s->value[0]) * (s->n - i));
		}
		settings_link(s);
		return 0;
	}
	if (i == s->n && s->n == EXT_SETTINGS_MAX)
		return xvs_err_set(err, -ENOSPC, "at most %d settings per extension and port",
				   EXT_SETTINGS_MAX);
	if (strlen(key) >= EXT_KEY_MAX || strlen(value) >= EXT_VALUE_MAX)
		return xvs_err_set(err, -EINVAL, "setting \"%.64s\": key at most %d, value at "
				   "most %d characters", key, EXT_KEY_MAX - 1, EXT_VALUE_MAX - 1);
	snprintf(s->key[i], EXT_KEY_MAX, "%s", key);
	snprintf(s->value[i], EXT_VALUE_MAX, "%s", value);
	if (i == s->n)
		s->n++;
	settings_link(s);
	return 0;
}

struct settings_query {
	const char *port;          /* "" = global */
	struct ext_settings *out;
};

static int
settings_row(const char *const *c, unsigned n, void *arg)
{
	struct settings_query *q = arg;

	if (n == 4 && strcmp(c[1], q->port) == 0)
		settings_put(q->out, c[2], c[3], NULL);
	return 0;
}

static int
settings_load(const char *ext, const char *port, struct ext_settings *out, struct xvs_err *err)
{
	struct settings_query q = {.port = port, .out = out};

	out->n = 0;
	return xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_SETTING, ext, settings_row, &q, err);
}

/* ---- order ---- */

static int
order_row(const char *const *c, unsigned n, void *arg)
{
	struct ext_orders *o = arg;
	struct ext_order_row *r;

	if (n != 3 || o->n == EXT_ORDERS_MAX)
		return 0;
	r = &o->row[o->n++];
	snprintf(r->ext, sizeof(r->ext), "%s", c[0]);
	r->before = strcmp(c[1], "before") == 0;
	snprintf(r->other, sizeof(r->other), "%s", c[2]);
	return 0;
}

static int
orders_load(struct ext_orders *o, struct xvs_err *err)
{
	o->n = 0;
	return xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_ORDER, NULL, order_row, o, err);
}

/* The order the registry will resolve, computed here as a pure check: the
 * loaded stages with their descriptors' constraints, the stored operator
 * constraints and, if extra is not NULL, one more. Returns 0 with the order
 * per place, or -ELOOP (cycle) / -EINVAL with the resolver's message. */
static int
order_resolve(const struct ext_orders *o, const struct ext_order_row *extra,
	      struct xvs_ext_order *in, struct xvs_ext_order *out, struct xvs_err *err)
{
	enum { LIST = XVS_EXT_MAX_CONSTRAINTS + EXT_ORDERS_MAX + 2 };
	static struct xvs_ext_order_in ext[XVS_STAGES_MAX];
	static const char *before[XVS_STAGES_MAX][LIST], *after[XVS_STAGES_MAX][LIST];
	unsigned n = xvs_stage_count();

	for (unsigned i = 0; i < n; i++) {
		const struct xvs_ext_desc *d = xvs_stage_desc(xvs_stage_at(i));
		unsigned nb = 0, na = 0;

		for (unsigned k = 0; d->runs_before != NULL && d->runs_before[k] != NULL; k++)
			before[i][nb++] = d->runs_before[k];
		for (unsigned k = 0; d->runs_after != NULL && d->runs_after[k] != NULL; k++)
			after[i][na++] = d->runs_after[k];
		for (unsigned k = 0; k <= o->n; k++) {
			const struct ext_order_row *r = k < o->n ? &o->row[k] : extra;

			if (r == NULL || strcmp(r->ext, d->name) != 0)
				continue;
			if (r->before)
				before[i][nb++] = r->other;
			else
				after[i][na++] = r->other;
		}
		before[i][nb] = NULL;
		after[i][na] = NULL;
		ext[i] = (struct xvs_ext_order_in){.name = d->name, .kind = d->kind,
						   .places = d->places, .runs_before = before[i],
						   .runs_after = after[i]};
	}
	return xvs_ext_order_resolve(ext, n, in, out, NULL, NULL, err);
}

/* ---- replaying the store into the registry ---- */

struct replay {
	struct xvs_stage *st;
	const char *name;
	unsigned ports, settings, orders; /* applied */
	unsigned refused;
};

static void
replay_settings(struct replay *rp, const char *port_name, uint16_t slot)
{
	static struct ext_settings s;
	struct xvs_err e;

	if (settings_load(rp->name, port_name, &s, &e) < 0 || s.n == 0)
		return;
	if (xvs_stage_configure(rp->st, slot, s.kv, s.n, false, &e) < 0 ||
	    xvs_stage_configure(rp->st, slot, s.kv, s.n, true, &e) < 0) {
		XVS_ERR("ext", "extension %s: stored settings%s%s refused: %s; kept in the store, "
			"not applied", rp->name, port_name[0] ? " of port " : "", port_name, e.msg);
		rp->refused++;
		return;
	}
	rp->settings += s.n;
}

static int
replay_port_setting(const char *const *c, unsigned n, void *arg)
{
	struct replay *rp = arg;
	struct xvs_port *p;

	/* one call per (ext, port): the rows come sorted by port */
	static char last[XVS_PARAM_NAME_LEN];

	if (n != 4 || c[1][0] == '\0' || strcmp(c[1], last) == 0)
		return 0;
	snprintf(last, sizeof(last), "%s", c[1]);
	p = xvsd_port_find(c[1]);
	if (p != NULL)
		replay_settings(rp, p->cfg.name, p->slot);
	return 0;
}

static int
replay_port(const char *const *c, unsigned n, void *arg)
{
	struct replay *rp = arg;
	struct xvs_port *p;
	struct xvs_err e;

	if (n != 2 || (p = xvsd_port_find(c[1])) == NULL)
		return 0;
	if (xvs_stage_port_enable(rp->st, p->slot, p->cfg.name, true, &e) < 0) {
		XVS_ERR("ext", "extension %s: stored enable on port %s refused: %s; kept in the "
			"store", rp->name, p->cfg.name, e.msg);
		rp->refused++;
		return 0;
	}
	rp->ports++;
	return 0;
}

static int
replay_order(const char *const *c, unsigned n, void *arg)
{
	struct replay *rp = arg;
	struct xvs_err e;

	if (n != 3 || xvs_stage_find(c[0]) == NULL || xvs_stage_find(c[2]) == NULL)
		return 0; /* waits for the other one */
	if (xvs_stage_order_add(c[0], strcmp(c[1], "before") == 0, c[2], &e) < 0) {
		XVS_ERR("ext", "extension %s: stored order \"%s %s %s\" refused: %s; kept in the "
			"store", rp->name, c[0], c[1], c[2], e.msg);
		rp->refused++;
		return 0;
	}
	rp->orders++;
	return 0;
}

/* Apply what the store holds for the stage just registered. Refusals are
 * logged and leave the stored rows alone. */
static void
replay(struct replay *rp)
{
	struct xvs_err e;

	replay_settings(rp, "", XVS_EXT_PORT_NONE);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_SETTING, rp->name, replay_port_setting, rp,
			   &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_PORT, rp->name, replay_port, rp, &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_ORDER, rp->name, replay_order, rp, &e);
}

/* ---- loading ---- */

static struct xvs_stage *
stage_of_origin(const char *path)
{
	for (unsigned i = 0; i < xvs_stage_count(); i++)
		if (strcmp(xvs_stage_origin(xvs_stage_at(i)), path) == 0)
			return xvs_stage_at(i);
	return NULL;
}

/* Open, check and register the object at path (not published). */
static struct xvs_stage *
load(const char *path, struct xvs_err *err)
{
	const struct xvs_ext_desc *d;
	struct xvs_err e;
	void *dl;
	int r;

	if (xvs_ext_open(path, &d, &dl, err) < 0)
		return NULL;
	r = xvs_stage_register(d, dl, path, &e);
	if (r < 0) {
		dlclose(dl);
		xvs_err_set(err, r, "extension %s: %s", path, e.msg);
		return NULL;
	}
	return xvs_stage_find(d->name);
}

static void
log_loaded(const struct replay *rp, const char *path)
{
	const struct xvs_ext_desc *d = xvs_stage_desc(rp->st);

	XVS_INFO("ext", "extension %s: loaded from %s (%s, %s%s%s): %u port(s), %u setting(s), "
		 "%u order constraint(s) restored", d->name, path, kind_name(d->kind),
		 d->places & XVS_EXT_INGRESS ? "ingress" : "",
		 d->places == XVS_EXT_BOTH ? "+" : "", d->places & XVS_EXT_EGRESS ? "egress" : "",
		 rp->ports, rp->settings, rp->orders);
}

/* Start-up: one object; a refusal is one log line and xvsd goes on. */
static int
load_at_start(const char *path, void *arg)
{
	struct replay rp = {0};
	struct xvs_err e;
	unsigned *loaded = arg;

	if (stage_of_origin(path) != NULL)
		return 0; /* in --ext-dir and stored by ext.load */
	rp.st = load(path, &e);
	if (rp.st == NULL) {
		XVS_ERR("ext", "%s; not loaded, xvsd goes on without it", e.msg);
		return 0;
	}
	rp.name = xvs_stage_desc(rp.st)->name;
	replay(&rp);
	log_loaded(&rp, path);
	(*loaded)++;
	return 0;
}

static int
module_row(const char *const *c, unsigned n, void *arg)
{
	return n == 1 ? load_at_start(c[0], arg) : 0;
}

int
xvsd_ext_restore(void)
{
	unsigned loaded = 0;
	struct xvs_err e;

	if (xvsd.ext_dir != NULL &&
	    xvs_ext_dir_scan(xvsd.ext_dir, load_at_start, &loaded, &e) < 0)
		XVS_ERR("ext", "%s; no extensions loaded from it", e.msg);
	if (xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_MODULE, NULL, module_row, &loaded, &e) <
	    0)
		XVS_ERR("ext", "%s", e.msg);
	return (int)loaded;
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
			 kind_name(d->kind), "places", places_json(d->places), "origin",
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

	if (orders_load(&o, &e) < 0 || order_resolve(&o, NULL, &in, &out, &e) < 0) {
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
		json_object_set_new(o, xvs_stage_counter_name(st, i), json_integer((json_int_t)v[i]));
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
	struct replay rp = {0};
	int r;

	r = xvs_param_str(params, "path", true, path, sizeof(path), err);
	if (r < 0)
		return r;
	if (path[0] != '/')
		return xvs_err_set(err, -EINVAL, "extension path \"%s\" must be absolute", path);
	if (stage_of_origin(path) != NULL)
		return xvs_err_set(err, -EEXIST, "extension %s is loaded already (as %s)", path,
				   xvs_stage_desc(stage_of_origin(path))->name);
	rp.st = load(path, err);
	if (rp.st == NULL)
		return err->code;
	rp.name = xvs_stage_desc(rp.st)->name;
	/* Registered but in no snapshot yet: on failure it goes without a grace
	 * period. */
	if ((r = store_txn(store_module_put, path, err)) < 0)
		goto unregister;
	replay(&rp);
	r = xvsd_publish_err(err);
	if (r < 0) {
		xvsd_store_restore(store_module_del, path, err);
		goto unregister;
	}
	xvs_stage_reclaim();
	log_loaded(&rp, path);
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
	st = arg[0] == '/' ? stage_of_origin(arg) : xvs_stage_find(arg);
	if (st == NULL && arg[0] == '/') {
		/* stored by ext.load, but the object is missing: forget it */
		unsigned stored = 0;

		xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_MODULE, arg, count_row, &stored, err);
		if (stored > 0) {
			if ((r = store_txn(store_module_del, arg, err)) < 0)
				return r;
			XVS_INFO("ext", "extension %s: no longer loaded at start-up", arg);
			*result = json_pack("{s:s}", "forgotten", arg);
			return 0;
		}
	}
	if (st == NULL)
		return stage_named(arg, err, &r), r;
	if (built_in(st))
		return xvs_err_set(err, -EPERM, "extension %s is built into xvsd and cannot be "
				   "unloaded", arg);
	snprintf(name, sizeof(name), "%s", xvs_stage_desc(st)->name);
	snprintf(origin, sizeof(origin), "%s", xvs_stage_origin(st));
	if ((r = store_txn(store_module_del, origin, err)) < 0)
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

static int
m_ext_order(json_t *params, json_t **result, struct xvs_err *err)
{
	static struct ext_orders o;
	struct ext_order_row row;
	struct xvs_ext_order in, out;
	char rel[16], name[XVS_PARAM_NAME_LEN], other[XVS_PARAM_NAME_LEN];
	struct xvs_stage *st;
	int r;

	if ((r = xvs_param_str(params, "name", true, name, sizeof(name), err)) < 0 ||
	    (r = xvs_param_str(params, "rel", true, rel, sizeof(rel), err)) < 0 ||
	    (r = xvs_param_str(params, "other", true, other, sizeof(other), err)) < 0)
		return r;
	if (strcmp(rel, "before") != 0 && strcmp(rel, "after") != 0)
		return xvs_err_set(err, -EINVAL, "order: expected \"before\" or \"after\", not "
				   "\"%s\"", rel);
	if ((st = stage_named(name, err, &r)) == NULL || stage_named(other, err, &r) == NULL)
		return r;
	if (strcmp(name, other) == 0)
		return xvs_err_set(err, -EINVAL, "order: extension %s cannot run %s itself", name,
				   rel);
	snprintf(row.ext, sizeof(row.ext), "%.31s", name); /* registered: fits */
	snprintf(row.other, sizeof(row.other), "%.31s", other);
	row.before = rel[0] == 'b';
	/* the whole order with the new constraint, before anything is stored */
	if ((r = orders_load(&o, err)) < 0)
		return r;
	if (o.n == EXT_ORDERS_MAX)
		return xvs_err_set(err, -ENOSPC, "order: at most %d constraints", EXT_ORDERS_MAX);
	if ((r = order_resolve(&o, &row, &in, &out, err)) < 0)
		return r;
	if ((r = store_txn(store_order_put, &row, err)) < 0)
		return r;
	if ((r = xvs_stage_order_add(name, row.before, other, err)) < 0) {
		xvsd_store_restore(store_order_del, &row, err);
		return r;
	}
	/* The registry has no way to take a constraint back: if this publish
	 * fails, the tick publishes it (store and registry agree already). */
	if (xvsd_publish() < 0)
		xvsd.republish = true;
	else
		xvs_stage_reclaim();
	XVS_INFO("ext", "extension order: %s runs %s %s", name, rel, other);
	*result = json_pack("{s:s,s:s,s:s,s:o}", "name", name, "rel", rel, "other", other, "runs",
			    runs_json(st));
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
	if (!json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "extension %s: nothing to set (key=value ...)",
				   name);
	p = port_param(opts, "port", false, err, &r);
	if (r < 0)
		return r;
	port = p != NULL ? p->cfg.name : "";
	slot = p != NULL ? p->slot : XVS_EXT_PORT_NONE;
	if ((r = settings_load(name, port, &old, err)) < 0)
		return r;
	cur = old;
	settings_link(&cur);
	json_object_foreach(opts, k, v) {
		char val[EXT_VALUE_MAX];

		if (strcmp(k, "port") == 0)
			continue;
		if (!key_ok(k) || strlen(k) >= EXT_KEY_MAX)
			return xvs_err_set(err, -EINVAL, "extension %s: setting \"%.64s\": keys are "
					   "[a-z0-9_.-], at most %d characters", name, k,
					   EXT_KEY_MAX - 1);
		if ((r = xvs_param_value(k, v, val, sizeof(val), err)) < 0 ||
		    (r = settings_put(&cur, k, val, err)) < 0)
			return r;
	}
	/* the extension checks the complete list, without side effects */
	if ((r = xvs_stage_configure(st, slot, cur.kv, cur.n, false, err)) < 0)
		return r;
	undo = (struct settings_row){.ext = name, .port = port, .s = &cur};
	if ((r = store_txn(store_settings, &undo, err)) < 0)
		return r;
	undo.s = &old;
	settings_link(&old);
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
	{"ext.set", m_ext_set, "{name, options: {[port], key: value}}: settings (\"\" removes)"},
	{NULL, NULL, NULL},
};

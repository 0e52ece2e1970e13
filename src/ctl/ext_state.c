/* SPDX-License-Identifier: BSD-3-Clause */
/* Extensions' stored state and its replay into the registry (control
 * thread); see ext_state.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ext_load.h"
#include "ext_state.h"
#include "log.h"
#include "params.h"
#include "xvsd.h"

const char *
xvsd_ext_kind_name(uint8_t kind)
{
	switch (kind) {
	case XVS_EXT_CAPTURE: return "capture";
	case XVS_EXT_FILTER: return "filter";
	case XVS_EXT_FORWARD: return "forward";
	default: return "?";
	}
}

bool
xvsd_ext_built_in(const struct xvs_stage *st)
{
	return strcmp(xvs_stage_origin(st), BUILT_IN) == 0;
}

/* Run put(store, arg) in a transaction and commit it (the commit fault
 * point applies); on failure nothing of it stays. */
int
xvsd_ext_store_txn(int (*put)(struct xvs_store *st, void *arg, struct xvs_err *e), void *arg,
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

void
xvsd_ext_settings_link(struct ext_settings *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		s->kv[i].key = s->key[i];
		s->kv[i].value = s->value[i];
	}
}

/* Set key to value ("" removes it). */
int
xvsd_ext_settings_put(struct ext_settings *s, const char *key, const char *value,
		      struct xvs_err *err)
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
		xvsd_ext_settings_link(s);
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
	xvsd_ext_settings_link(s);
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
		xvsd_ext_settings_put(q->out, c[2], c[3], NULL);
	return 0;
}

int
xvsd_ext_settings_load(const char *ext, const char *port, struct ext_settings *out,
		       struct xvs_err *err)
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

int
xvsd_ext_orders_load(struct ext_orders *o, struct xvs_err *err)
{
	o->n = 0;
	return xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_ORDER, NULL, order_row, o, err);
}

/* The order the registry will resolve, computed here as a pure check: the
 * loaded stages with their descriptors' constraints, the stored operator
 * constraints and, if extra is not NULL, one more. Returns 0 with the order
 * per place, or -ELOOP (cycle) / -EINVAL with the resolver's message. */
int
xvsd_ext_order_resolve(const struct ext_orders *o, const struct ext_order_row *extra,
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

static void
replay_settings(struct xvsd_ext_replay *rp, const char *port_name, uint16_t slot)
{
	static struct ext_settings s;
	struct xvs_err e;

	if (xvsd_ext_settings_load(rp->name, port_name, &s, &e) < 0 || s.n == 0)
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
	struct xvsd_ext_replay *rp = arg;
	struct xvs_port *p;

	/* one call per (ext, port): the rows come sorted by port */
	if (n != 4 || c[1][0] == '\0' || strcmp(c[1], rp->last_port) == 0)
		return 0;
	snprintf(rp->last_port, sizeof(rp->last_port), "%s", c[1]);
	p = xvsd_port_find(c[1]);
	if (p != NULL)
		replay_settings(rp, p->cfg.name, p->slot);
	return 0;
}

static int
replay_port(const char *const *c, unsigned n, void *arg)
{
	struct xvsd_ext_replay *rp = arg;
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
	struct xvsd_ext_replay *rp = arg;
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
void
xvsd_ext_replay(struct xvsd_ext_replay *rp)
{
	struct xvs_err e;

	replay_settings(rp, "", XVS_EXT_PORT_NONE);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_SETTING, rp->name, replay_port_setting, rp,
			   &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_PORT, rp->name, replay_port, rp, &e);
	xvs_store_load_ext(xvsd.store, XVS_STORE_EXT_ORDER, rp->name, replay_order, rp, &e);
}

/* ---- loading ---- */

struct xvs_stage *
xvsd_ext_stage_of_origin(const char *path)
{
	for (unsigned i = 0; i < xvs_stage_count(); i++)
		if (strcmp(xvs_stage_origin(xvs_stage_at(i)), path) == 0)
			return xvs_stage_at(i);
	return NULL;
}

/* Open, check and register the object at path (not published). */
struct xvs_stage *
xvsd_ext_load(const char *path, struct xvs_err *err)
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

void
xvsd_ext_log_loaded(const struct xvsd_ext_replay *rp, const char *path)
{
	const struct xvs_ext_desc *d = xvs_stage_desc(rp->st);

	XVS_INFO("ext", "extension %s: loaded from %s (%s, %s%s%s): %u port(s), %u setting(s), "
		 "%u order constraint(s) restored", d->name, path, xvsd_ext_kind_name(d->kind),
		 d->places & XVS_EXT_INGRESS ? "ingress" : "",
		 d->places == XVS_EXT_BOTH ? "+" : "", d->places & XVS_EXT_EGRESS ? "egress" : "",
		 rp->ports, rp->settings, rp->orders);
}

/* Start-up: one object; a refusal is one log line and xvsd goes on. */
static int
load_at_start(const char *path, void *arg)
{
	struct xvsd_ext_replay rp = {0};
	struct xvs_err e;
	unsigned *loaded = arg;

	if (xvsd_ext_stage_of_origin(path) != NULL)
		return 0; /* in --ext-dir and stored by ext.load */
	rp.st = xvsd_ext_load(path, &e);
	if (rp.st == NULL) {
		XVS_ERR("ext", "%s; not loaded, xvsd goes on without it", e.msg);
		return 0;
	}
	rp.name = xvs_stage_desc(rp.st)->name;
	xvsd_ext_replay(&rp);
	xvsd_ext_log_loaded(&rp, path);
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


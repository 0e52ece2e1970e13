/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stage registry (control thread): which stages exist, their order, which
 * ports they are enabled on and with which state, and what goes into a port's
 * struct xvs_snap_pipeline when a snapshot is built. See pipeline.h.
 *
 * Lifetimes. Workers see registry objects (descriptor, ctx, states) only
 * through a published snapshot, so nothing a snapshot may still point to is
 * freed before the next snapshot was built (xvs_stage_fill_port) and its
 * grace period passed (xvs_stage_reclaim). A replaced state or a removed stage
 * is put on a retire list stamped with the fill sequence at the time; reclaim
 * frees what was retired before the last fill. Stage ids (counter indices in
 * the workers) are reused only after that, with their counters zeroed.
 *
 * Sizes are small (XVS_STAGES_MAX stages) and all of this runs on the control
 * thread when something changes, so plain arrays and linear scans suffice.
 * DPDK-free on purpose: the unit test runs it without an EAL.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ext_order.h"
#include "pipeline.h"

_Static_assert(XVS_STAGES_MAX <= XVS_EXT_MAX, "the order resolver takes every stage");

#define ORDER_RULES_MAX 64 /* operator constraints (xvs_stage_order_add) */
#define NAMES_MAX (XVS_EXT_MAX_CONSTRAINTS + ORDER_RULES_MAX + 1)

/* A registry entry. Owned by the control thread. */
struct xvs_stage {
	const struct xvs_ext_desc *desc; /* checked; static storage of its object */
	void *dl;                        /* dlopen handle, NULL for built-ins */
	char origin[256];                /* "built-in" or the shared object's path */
	void *ctx;                       /* from ops->init */
	struct xvs_ext_host host;        /* given to init; valid until fini (xvs_ext.h) */
	uint16_t id;                     /* counter index in the workers */
	uint8_t n_counters;
	uint8_t n_reasons;
	bool disabled;                   /* runs on no port */
	char why[128];                   /* reason it is disabled */
	bool dying;                      /* unregistered, waiting for reclaim */
	uint64_t dying_seq;              /* fill sequence when it was unregistered */
	uint16_t n_enabled;              /* ports it is enabled on */
	uint8_t enabled[XVS_STAGE_PORT_SLOTS / 8];
	void *state[XVS_STAGE_PORT_SLOTS]; /* current per-port state (may be unpublished) */
	void *global_state;              /* XVS_EXT_PORT_NONE settings */
	char names[XVS_STAGE_CTR_MAX][XVS_EXT_NAME_MAX + 8]; /* "drop_<reason>" */
};

/* A state replaced or orphaned, to be freed by reclaim. */
struct retired {
	struct retired *next;
	struct xvs_stage *st;
	void *state;
	uint64_t seq;
};

struct order_rule {
	char first[XVS_EXT_NAME_MAX];  /* runs before second */
	char second[XVS_EXT_NAME_MAX];
};

static struct {
	struct xvs_stage *live[XVS_STAGES_MAX]; /* registration order */
	unsigned n_live;
	struct xvs_stage *by_id[XVS_STAGES_MAX]; /* live or dying, by counter id */
	struct xvs_stage *in_order[XVS_STAGES_MAX]; /* ingress, forward excluded */
	unsigned n_in;
	struct xvs_stage *out_order[XVS_STAGES_MAX];
	unsigned n_out;
	struct order_rule rules[ORDER_RULES_MAX];
	unsigned n_rules;
	struct retired *retired;
	uint64_t fill_seq;           /* fills so far */
	uint16_t port_flags[XVS_STAGE_PORT_SLOTS];
	xvs_stage_ctr_fn *ctr_fn;
	void *ctr_arg;
	xvs_stage_log_fn *log_fn;
} reg;

static void __attribute__((format(printf, 3, 4)))
note(int level, const char *who, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (reg.log_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reg.log_fn(level, who, msg);
}

/* struct xvs_ext_host.log: host_ctx is the stage. */
static void __attribute__((format(printf, 3, 4)))
host_log(void *host_ctx, int level, const char *fmt, ...)
{
	const struct xvs_stage *st = host_ctx;
	char msg[512];
	va_list ap;

	if (reg.log_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reg.log_fn(level, st->desc->name, msg);
}

/* A callback is there only if the extension's ops table is long enough to
 * hold it (an older, shorter table leaves the newer ones out). */
#define OPS_HAS(ops, f) \
	((ops)->size >= offsetof(struct xvs_ext_ops, f) + sizeof(void *) && (ops)->f != NULL)

static bool
is_enabled(const struct xvs_stage *st, uint16_t slot)
{
	return slot < XVS_STAGE_PORT_SLOTS && (st->enabled[slot / 8] >> (slot % 8)) & 1;
}

static void
set_enabled(struct xvs_stage *st, uint16_t slot, bool on)
{
	if (is_enabled(st, slot) == on)
		return;
	if (on) {
		st->enabled[slot / 8] |= (uint8_t)(1u << (slot % 8));
		st->n_enabled++;
	} else {
		st->enabled[slot / 8] &= (uint8_t)~(1u << (slot % 8));
		st->n_enabled--;
	}
}

static void
retire(struct xvs_stage *st, void *state)
{
	struct retired *r;

	if (state == NULL)
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		/* Leaking one state beats freeing one a worker may still read. */
		note(LOG_ERR, st->desc->name, "out of memory retiring a state; leaked");
		return;
	}
	r->st = st;
	r->state = state;
	r->seq = reg.fill_seq;
	r->next = reg.retired;
	reg.retired = r;
}

static int
list_len(const char *const *l)
{
	int n = 0;

	while (l != NULL && l[n] != NULL)
		n++;
	return n;
}

/* Resolve the order of cand[0..n) (registration order), with the operator's
 * rules plus extra (NULL or one more rule under test). On success and when
 * commit is set, the result becomes the registry's order. */
static int
resolve(struct xvs_stage *const *cand, unsigned n, const struct order_rule *extra, bool commit,
	struct xvs_err *err)
{
	static const char *before[XVS_STAGES_MAX][NAMES_MAX], *after[XVS_STAGES_MAX][NAMES_MAX];
	struct xvs_ext_order_in in[XVS_STAGES_MAX];
	struct xvs_ext_order oi, oe;
	unsigned i, r, nr = reg.n_rules + (extra != NULL);
	int rc;

	for (i = 0; i < n; i++) {
		const struct xvs_ext_desc *d = cand[i]->desc;
		int nb = 0, na = 0, k;

		for (k = 0; k < list_len(d->runs_before); k++)
			before[i][nb++] = d->runs_before[k];
		for (k = 0; k < list_len(d->runs_after); k++)
			after[i][na++] = d->runs_after[k];
		for (r = 0; r < nr; r++) {
			const struct order_rule *o = r < reg.n_rules ? &reg.rules[r] : extra;

			if (strcmp(o->first, d->name) == 0)
				before[i][nb++] = o->second;
		}
		before[i][nb] = NULL;
		after[i][na] = NULL;
		in[i].name = d->name;
		in[i].kind = d->kind;
		in[i].places = d->places;
		in[i].runs_before = before[i];
		in[i].runs_after = after[i];
	}
	rc = xvs_ext_order_resolve(in, n, &oi, &oe, NULL, NULL, err);
	if (rc < 0 || !commit)
		return rc;
	reg.n_in = 0;
	for (i = 0; i < oi.n; i++)
		if (cand[oi.idx[i]]->desc->kind != XVS_EXT_FORWARD)
			reg.in_order[reg.n_in++] = cand[oi.idx[i]];
	reg.n_out = 0;
	for (i = 0; i < oe.n; i++)
		reg.out_order[reg.n_out++] = cand[oe.idx[i]];
	return 0;
}

/* Tell the log about constraints naming absent stages (not an error). */
static void
log_absent_peers(const struct xvs_ext_desc *d)
{
	const char *const *lists[2] = {d->runs_before, d->runs_after};
	static const char *const rel[2] = {"runs_before", "runs_after"};

	for (unsigned l = 0; l < 2; l++)
		for (int k = 0; k < list_len(lists[l]); k++)
			if (xvs_stage_find(lists[l][k]) == NULL)
				note(LOG_INFO, d->name, "%s '%s' is not loaded; ignored until it is",
				     rel[l], lists[l][k]);
}

static void
make_names(struct xvs_stage *st)
{
	const struct xvs_ext_desc *d = st->desc;
	unsigned i;

	for (i = 0; i < st->n_counters; i++)
		snprintf(st->names[i], sizeof(st->names[i]), "%s", d->counters[i]);
	for (i = 0; i < st->n_reasons; i++)
		snprintf(st->names[st->n_counters + i], sizeof(st->names[0]), "drop_%s",
			 d->drop_reasons[i]);
	snprintf(st->names[st->n_counters + st->n_reasons], sizeof(st->names[0]), "bad_verdict");
	snprintf(st->names[st->n_counters + st->n_reasons + 1], sizeof(st->names[0]),
		 "emit_full");
}

static void
zero_counters(uint16_t id)
{
	struct xvs_stage_ctr *c;

	if (reg.ctr_fn == NULL)
		return;
	for (unsigned w = 0; (c = reg.ctr_fn(reg.ctr_arg, w)) != NULL; w++)
		memset(&c[id], 0, sizeof(c[id]));
}

int
xvs_stage_register(const struct xvs_ext_desc *desc, void *dl, const char *origin,
		   struct xvs_err *err)
{
	struct xvs_stage *cand[XVS_STAGES_MAX];
	struct xvs_ext_host *host;
	struct xvs_stage *st;
	int rc, id = -1;
	unsigned i;

	rc = xvs_ext_desc_check(desc, err);
	if (rc < 0)
		return rc;
	if (xvs_stage_find(desc->name) != NULL)
		return xvs_err_set(err, -EEXIST, "extension '%s' is already registered (from %s)",
				   desc->name, xvs_stage_origin(xvs_stage_find(desc->name)));
	for (i = 0; i < XVS_STAGES_MAX && id < 0; i++)
		if (reg.by_id[i] == NULL)
			id = (int)i;
	if (id < 0 || reg.n_live >= XVS_STAGES_MAX)
		return xvs_err_set(err, -ENOSPC,
				   "extension '%s': the switch holds at most %d stages%s", desc->name,
				   XVS_STAGES_MAX,
				   id < 0 ? " (removed ones are freed after the next publish)" : "");
	memcpy(cand, reg.live, reg.n_live * sizeof(cand[0]));
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return xvs_err_set(err, -ENOMEM, "extension '%s': out of memory", desc->name);
	st->desc = desc;
	cand[reg.n_live] = st;
	rc = resolve(cand, reg.n_live + 1, NULL, false, err);
	if (rc < 0) {
		free(st);
		return rc;
	}
	st->dl = dl;
	snprintf(st->origin, sizeof(st->origin), "%s", origin != NULL ? origin : "built-in");
	st->id = (uint16_t)id;
	st->n_counters = (uint8_t)list_len(desc->counters);
	st->n_reasons = (uint8_t)list_len(desc->drop_reasons);
	make_names(st);
	if (OPS_HAS(desc->ops, init)) {
		/* in the stage, not on the stack: an extension may keep the
		 * pointer (the example does not, an older xvsd gave a stack copy) */
		host = &st->host;
		host->abi_version = XVS_EXT_ABI_VERSION;
		host->size = sizeof(*host);
		host->log = host_log;
		host->host_ctx = st;
		rc = desc->ops->init(host, &st->ctx);
		if (rc < 0) {
			xvs_err_set(err, rc, "extension '%s': init failed: %s", desc->name,
				    strerror(-rc));
			free(st);
			return rc;
		}
	}
	zero_counters(st->id);
	reg.by_id[id] = st;
	reg.live[reg.n_live++] = st;
	/* Cannot fail: the same set resolved above. */
	resolve(reg.live, reg.n_live, NULL, true, NULL);
	log_absent_peers(desc);
	return 0;
}

int
xvs_stage_unregister(const char *name, struct xvs_err *err)
{
	struct xvs_stage *st = xvs_stage_find(name);
	unsigned i, j;

	if (st == NULL)
		return xvs_err_set(err, -ENOENT, "no extension '%s'", name);
	if (st->dl == NULL)
		return xvs_err_set(err, -EPERM, "extension '%s' is built in; it cannot be removed "
				   "(disable it on the ports instead)", name);
	for (i = 0, j = 0; i < reg.n_live; i++)
		if (reg.live[i] != st)
			reg.live[j++] = reg.live[i];
	reg.n_live = j;
	/* A smaller set cannot have a new cycle or conflict. */
	resolve(reg.live, reg.n_live, NULL, true, NULL);
	st->dying = true;
	st->dying_seq = reg.fill_seq;
	return 0;
}

struct xvs_stage *
xvs_stage_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (unsigned i = 0; i < reg.n_live; i++)
		if (strcmp(reg.live[i]->desc->name, name) == 0)
			return reg.live[i];
	return NULL;
}

unsigned
xvs_stage_count(void)
{
	return reg.n_live;
}

struct xvs_stage *
xvs_stage_at(unsigned i)
{
	return i < reg.n_live ? reg.live[i] : NULL;
}

const struct xvs_ext_desc *
xvs_stage_desc(const struct xvs_stage *st)
{
	return st->desc;
}

const char *
xvs_stage_origin(const struct xvs_stage *st)
{
	return st->origin;
}

uint16_t
xvs_stage_id(const struct xvs_stage *st)
{
	return st->id;
}

void *
xvs_stage_ctx(const struct xvs_stage *st)
{
	return st->ctx;
}

struct xvs_stage *
xvs_stage_forward(void)
{
	for (unsigned i = 0; i < reg.n_live; i++)
		if (reg.live[i]->desc->kind == XVS_EXT_FORWARD)
			return reg.live[i];
	return NULL;
}

/* Stages enabled on slot in one place's order. */
static unsigned
count_on_port(struct xvs_stage *const *order, unsigned n, uint16_t slot)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n; i++)
		c += is_enabled(order[i], slot);
	return c;
}

static int
call_port_enable(struct xvs_stage *st, uint16_t slot, const char *port_name, bool on,
		 struct xvs_err *err)
{
	const struct xvs_ext_ops *ops = st->desc->ops;
	struct xvs_ext_port port;
	int rc;

	if (!OPS_HAS(ops, port_enable))
		return 0;
	memset(&port, 0, sizeof(port));
	port.size = sizeof(port);
	port.index = slot;
	port.flags = reg.port_flags[slot];
	port.name = port_name;
	xvs_err_clear(err);
	rc = ops->port_enable(st->ctx, &port, on, err != NULL ? err->msg : NULL,
			      err != NULL ? sizeof(err->msg) : 0);
	if (rc < 0) {
		if (err != NULL) {
			err->code = rc;
			if (err->msg[0] == '\0')
				snprintf(err->msg, sizeof(err->msg),
					 "extension '%s' refused port %s: %s", st->desc->name,
					 port_name, strerror(-rc));
		}
		return rc;
	}
	return 0;
}

int
xvs_stage_port_enable(struct xvs_stage *st, uint16_t slot, const char *port_name, bool on,
		      struct xvs_err *err)
{
	int rc;

	if (st == NULL || st->dying)
		return xvs_err_set(err, -ENOENT, "no such extension");
	if (slot >= XVS_STAGE_PORT_SLOTS)
		return xvs_err_set(err, -EINVAL, "port %s: slot %u out of range", port_name,
				   slot);
	if (st->desc->kind == XVS_EXT_FORWARD)
		return xvs_err_set(err, -EINVAL,
				   "extension '%s' is the forward stage; it runs on every port",
				   st->desc->name);
	if (is_enabled(st, slot) == on)
		return 0;
	if (on && (count_on_port(reg.in_order, reg.n_in, slot) >= XVS_PORT_STAGES_MAX ||
		   count_on_port(reg.out_order, reg.n_out, slot) >= XVS_PORT_STAGES_MAX))
		return xvs_err_set(err, -ENOSPC, "port %s: at most %d stages per port",
				   port_name, XVS_PORT_STAGES_MAX);
	rc = call_port_enable(st, slot, port_name, on, err);
	if (rc < 0)
		return rc;
	set_enabled(st, slot, on);
	return 0;
}

bool
xvs_stage_port_enabled(const struct xvs_stage *st, uint16_t slot)
{
	return is_enabled(st, slot);
}

int
xvs_stage_configure(struct xvs_stage *st, uint16_t slot, const struct xvs_ext_kv *kv, unsigned n,
		    bool apply, struct xvs_err *err)
{
	const struct xvs_ext_ops *ops;
	void *state = NULL, **slotp;
	int rc;

	if (st == NULL || st->dying)
		return xvs_err_set(err, -ENOENT, "no such extension");
	ops = st->desc->ops;
	if (slot != XVS_EXT_PORT_NONE && slot >= XVS_STAGE_PORT_SLOTS)
		return xvs_err_set(err, -EINVAL, "extension '%s': port slot %u out of range",
				   st->desc->name, slot);
	if (!OPS_HAS(ops, config_validate) || !OPS_HAS(ops, config_apply)) {
		if (n == 0)
			return 0;
		return xvs_err_set(err, -EINVAL, "extension '%s' takes no settings ('%s')",
				   st->desc->name, kv[0].key);
	}
	xvs_err_clear(err);
	rc = ops->config_validate(st->ctx, slot, kv, n, err != NULL ? err->msg : NULL,
				  err != NULL ? sizeof(err->msg) : 0);
	if (rc >= 0 && !apply)
		return 0;
	if (rc >= 0)
		rc = ops->config_apply(st->ctx, slot, kv, n, &state, err != NULL ? err->msg : NULL,
				       err != NULL ? sizeof(err->msg) : 0);
	if (rc < 0) {
		if (err != NULL) {
			err->code = rc;
			if (err->msg[0] == '\0')
				snprintf(err->msg, sizeof(err->msg),
					 "extension '%s': settings refused: %s", st->desc->name,
					 strerror(-rc));
		}
		return rc;
	}
	slotp = slot == XVS_EXT_PORT_NONE ? &st->global_state : &st->state[slot];
	retire(st, *slotp);
	*slotp = state;
	return 0;
}

const void *
xvs_stage_port_state(const struct xvs_stage *st, uint16_t slot)
{
	if (slot == XVS_EXT_PORT_NONE)
		return st->global_state;
	return slot < XVS_STAGE_PORT_SLOTS ? st->state[slot] : NULL;
}

int
xvs_stage_order_add(const char *name, bool before, const char *other, struct xvs_err *err)
{
	struct order_rule rule;
	int rc;

	if (xvs_stage_find(name) == NULL)
		return xvs_err_set(err, -ENOENT, "no extension '%s'", name);
	if (xvs_stage_find(other) == NULL)
		return xvs_err_set(err, -ENOENT, "no extension '%s'", other);
	if (strcmp(name, other) == 0)
		return xvs_err_set(err, -EINVAL, "extension '%s' cannot run %s itself", name,
				   before ? "before" : "after");
	if (reg.n_rules >= ORDER_RULES_MAX)
		return xvs_err_set(err, -ENOSPC, "at most %d ordering rules", ORDER_RULES_MAX);
	snprintf(rule.first, sizeof(rule.first), "%s", before ? name : other);
	snprintf(rule.second, sizeof(rule.second), "%s", before ? other : name);
	for (unsigned i = 0; i < reg.n_rules; i++)
		if (strcmp(reg.rules[i].first, rule.first) == 0 &&
		    strcmp(reg.rules[i].second, rule.second) == 0)
			return 0;
	rc = resolve(reg.live, reg.n_live, &rule, false, err);
	if (rc < 0)
		return rc;
	reg.rules[reg.n_rules++] = rule;
	resolve(reg.live, reg.n_live, NULL, true, NULL);
	return 0;
}

int
xvs_stage_order_del(const char *name, bool before, const char *other, struct xvs_err *err)
{
	const char *first = before ? name : other, *second = before ? other : name;

	for (unsigned i = 0; i < reg.n_rules; i++) {
		if (strcmp(reg.rules[i].first, first) != 0 || strcmp(reg.rules[i].second, second) != 0)
			continue;
		memmove(&reg.rules[i], &reg.rules[i + 1],
			(reg.n_rules - i - 1) * sizeof(reg.rules[0]));
		reg.n_rules--;
		/* fewer constraints: no new cycle */
		resolve(reg.live, reg.n_live, NULL, true, NULL);
		return 0;
	}
	return xvs_err_set(err, -ENOENT, "no order rule '%s' %s '%s'", name,
			   before ? "before" : "after", other);
}

void
xvs_stage_set_disabled(struct xvs_stage *st, bool disabled, const char *why)
{
	st->disabled = disabled;
	snprintf(st->why, sizeof(st->why), "%s", disabled && why != NULL ? why : "");
}

bool
xvs_stage_disabled(const struct xvs_stage *st)
{
	return st->disabled;
}

const char *
xvs_stage_disabled_why(const struct xvs_stage *st)
{
	return st->why;
}

unsigned
xvs_stage_counters(const struct xvs_stage *st, uint64_t *out, unsigned max)
{
	unsigned nc = st->n_counters, nr = st->n_reasons, total = nc + nr + 2, i;
	struct xvs_stage_ctr *c;

	if (max > total)
		max = total;
	memset(out, 0, max * sizeof(*out));
	if (reg.ctr_fn == NULL)
		return max;
	for (unsigned w = 0; (c = reg.ctr_fn(reg.ctr_arg, w)) != NULL; w++) {
		/* Torn-free: aligned 64-bit loads, written by one worker each. */
		const volatile uint64_t *v = c[st->id].v;

		for (i = 0; i < max; i++) {
			unsigned src = i < nc ? i :
				       i < nc + nr ? XVS_STAGE_CTR_DROP0 + (i - nc) :
				       i == nc + nr ? XVS_STAGE_CTR_BAD_VERDICT :
						      XVS_STAGE_CTR_EMIT_FULL;

			out[i] += v[src];
		}
	}
	return max;
}

const char *
xvs_stage_counter_name(const struct xvs_stage *st, unsigned i)
{
	return i < (unsigned)st->n_counters + st->n_reasons + 2 ? st->names[i] : NULL;
}

static unsigned
fill_place(struct xvs_stage *const *order, unsigned n, uint16_t slot, struct xvs_snap_stage *out)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && k < XVS_PORT_STAGES_MAX; i++) {
		struct xvs_stage *st = order[i];

		if (st->disabled || !is_enabled(st, slot))
			continue;
		out[k].desc = st->desc;
		out[k].ctx = st->ctx;
		out[k].state = st->state[slot] != NULL ? st->state[slot] : st->global_state;
		out[k].id = st->id;
		k++;
	}
	return k;
}

void
xvs_stage_fill_port(uint16_t slot, struct xvs_snap_pipeline *pipe)
{
	reg.fill_seq++;
	memset(pipe, 0, sizeof(*pipe));
	if (slot >= XVS_STAGE_PORT_SLOTS)
		return;
	pipe->n_in = (uint8_t)fill_place(reg.in_order, reg.n_in, slot, pipe->in);
	pipe->n_out = (uint8_t)fill_place(reg.out_order, reg.n_out, slot, pipe->out);
}

void
xvs_stage_snapshot_built(void)
{
	reg.fill_seq++;
}

static void
free_state(struct xvs_stage *st, void *state)
{
	if (state != NULL && OPS_HAS(st->desc->ops, state_free))
		st->desc->ops->state_free(st->ctx, state);
}

/* Free everything of a stage that left every snapshot. */
static void
finish_stage(struct xvs_stage *st)
{
	struct retired **pp, *r;

	for (pp = &reg.retired; (r = *pp) != NULL;) {
		if (r->st == st) {
			*pp = r->next;
			free_state(st, r->state);
			free(r);
		} else {
			pp = &r->next;
		}
	}
	for (unsigned s = 0; s < XVS_STAGE_PORT_SLOTS; s++)
		free_state(st, st->state[s]);
	free_state(st, st->global_state);
	if (OPS_HAS(st->desc->ops, fini))
		st->desc->ops->fini(st->ctx);
	zero_counters(st->id);
	reg.by_id[st->id] = NULL;
	if (st->dl != NULL)
		dlclose(st->dl);
	free(st);
}

void
xvs_stage_reclaim(void)
{
	struct retired **pp, *r;

	for (pp = &reg.retired; (r = *pp) != NULL;) {
		if (r->seq < reg.fill_seq) {
			*pp = r->next;
			free_state(r->st, r->state);
			free(r);
		} else {
			pp = &r->next;
		}
	}
	for (unsigned i = 0; i < XVS_STAGES_MAX; i++) {
		struct xvs_stage *st = reg.by_id[i];

		if (st != NULL && st->dying && st->dying_seq < reg.fill_seq)
			finish_stage(st);
	}
}

void
xvs_stage_set_counters(xvs_stage_ctr_fn *fn, void *arg)
{
	reg.ctr_fn = fn;
	reg.ctr_arg = arg;
}

void
xvs_stage_set_log(xvs_stage_log_fn *fn)
{
	reg.log_fn = fn;
}

void
xvs_stage_port_set_flags(uint16_t slot, uint16_t flags)
{
	if (slot < XVS_STAGE_PORT_SLOTS)
		reg.port_flags[slot] = flags;
}

void
xvs_stage_port_removed(uint16_t slot, const char *port_name)
{
	if (slot >= XVS_STAGE_PORT_SLOTS)
		return;
	for (unsigned i = 0; i < reg.n_live; i++) {
		struct xvs_stage *st = reg.live[i];

		if (is_enabled(st, slot)) {
			struct xvs_err err;

			if (call_port_enable(st, slot, port_name, false, &err) < 0)
				note(LOG_WARNING, st->desc->name, "port %s removed: %s", port_name,
				     err.msg);
			set_enabled(st, slot, false);
		}
		retire(st, st->state[slot]);
		st->state[slot] = NULL;
	}
	reg.port_flags[slot] = 0;
}

void
xvs_stage_registry_clear(void)
{
	struct retired *r;

	while ((r = reg.retired) != NULL) {
		reg.retired = r->next;
		free_state(r->st, r->state);
		free(r);
	}
	for (unsigned i = 0; i < XVS_STAGES_MAX; i++)
		if (reg.by_id[i] != NULL)
			finish_stage(reg.by_id[i]);
	reg.n_live = reg.n_in = reg.n_out = reg.n_rules = 0;
	memset(reg.port_flags, 0, sizeof(reg.port_flags));
}

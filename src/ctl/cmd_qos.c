/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress QoS (control thread): traffic classes (qos.class_add, qos.class_del,
 * their store and restore), the checks a port, switch or class change must
 * pass, the per-port plans a snapshot carries (src/dp/qos_egress.h), and
 * qos.show.
 *
 * A port with qos=on schedules its egress against its capacity (link-rate,
 * else the link's reported speed). Its classes, in this order: the default
 * flow (default-flow-weight / default-flow-min-bw), every other port with a
 * minimum or a cap of its own (frames from that port), then the traffic
 * classes that apply to it (every scheduling port, or the one named by
 * port=), matched in the order they were added. A frame from a port with a
 * class of its own is in that class; else in the first traffic class that
 * matches; else in the default flow. The core (core/qos.h) validates each
 * port's resulting model: a request that would make any scheduling port's
 * model invalid is refused with the core's message, prefixed by the port.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "cmd_util.h"
#include "log.h"
#include "params.h"
#include "port.h"
#include "qos_egress.h"
#include "xvsd.h"

/* A traffic class as configured. Owned by the control thread. */
struct qos_tclass {
	char name[XVS_QOS_NAME_LEN];
	char match[256];             /* as given */
	struct xvs_qos_match m;      /* parsed (cls set per port at plan time) */
	uint32_t weight;             /* weight mode: 1-100, 0 = none */
	uint64_t min_bw;             /* absolute mode: bit/s */
	uint64_t max_bw;             /* cap, bit/s, 0 = none */
	int pcp;                     /* 802.1p priority to mark on egress, -1 = leave */
	uint8_t strict;              /* ETS strict priority level 1-8, 0 = weighted */
	char port[XVS_NAME_MAX + 1]; /* "" = every scheduling port */
};

#define TCLASS_MAX (XVS_QOS_MAX_CLASSES - 1)
static struct qos_tclass tclasses[TCLASS_MAX];
static unsigned n_tclasses;

/* Plans per port slot: the one in force and the one the snapshot being built
 * carries; the state per slot (qos_egress.h); and each slot's last qos.show
 * sample, for the share over the interval since. */
static struct {
	struct xvs_qos_plan *cur, *next;
	struct xvs_qos_port *state;
	char error[256];             /* why qos=on is not in force ("" if it is) */
	uint64_t prev_ns;
	uint64_t prev_sent[XVS_QOS_MAX_CLASSES];
	uint64_t prev_layout;
	uint16_t owner_cur, owner_next; /* owner worker + 1 in force / being published; 0: none */
	uint16_t owner_move;            /* new owner + 1 while the snapshot being published
					 * has none (a move); 0: no move */
} qs[XVS_MAX_PORTS];
static uint64_t plan_gen;

/* A port or switch change under check: its configuration replaces the
 * running one while plans are built for validation. */
static struct {
	const struct xvs_port *p;        /* port being changed or added (or NULL) */
	const struct xvs_port_cfg *cfg;
	const struct xvs_port *gone;     /* port being deleted (or NULL) */
	const struct xvs_switch_cfg *sw; /* switch settings (NULL: xvsd.sw) */
	const struct qos_tclass *tc;     /* class list (NULL: tclasses) */
	unsigned n_tc;
} cand;

static const struct xvs_port_cfg *
cfg_of(const struct xvs_port *p)
{
	return cand.p == p && cand.cfg != NULL ? cand.cfg : &p->cfg;
}

/* Port in slot, the candidate included (an added port is not in the table). */
static const struct xvs_port *
port_at(uint16_t slot)
{
	if (cand.p != NULL && cand.p->slot == slot)
		return cand.p;
	if (cand.gone != NULL && cand.gone->slot == slot)
		return NULL;
	return xvsd.port[slot];
}

static struct qos_tclass *tclass_find(const char *name);

static uint64_t
fnv(uint64_t h, const void *d, size_t n)
{
	const uint8_t *b = d;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Each port's last reported link speed above 0 (bit/s): a link that goes
 * down (a vhost guest gone, an ethdev link lost) keeps its scheduling. */
static struct {
	const struct xvs_port *p;
	uint64_t bps;
} last_link[XVS_MAX_PORTS];

/* Capacity the port's egress is scheduled against; 0 if unknown. */
static uint64_t
capacity_of(const struct xvs_port *p, const struct xvs_port_cfg *c, bool *wire)
{
	struct xvs_port_link l;
	uint64_t bps;

	*wire = false;
	if (c->link_rate != 0)
		return c->link_rate;
	if (!p->open)
		return 0;
	xvs_port_link(p, &l);
	*wire = true;
	bps = (uint64_t)l.speed_mbps * 1000000ull;
	if (bps != 0 && xvsd.port[p->slot] == p) {
		last_link[p->slot].p = p;
		last_link[p->slot].bps = bps;
	} else if (bps == 0 && last_link[p->slot].p == p) {
		bps = last_link[p->slot].bps;
	}
	return bps;
}

static int
add_class(struct xvs_qos_cfg *cfg, const char *port, const char *name, struct xvs_err *err)
{
	if (cfg->n_classes >= XVS_QOS_MAX_CLASSES)
		return xvs_err_set(err, -ENOSPC, "port %s: more than %u QoS classes (default flow, "
				   "ports with a minimum or cap, traffic classes)", port,
				   XVS_QOS_MAX_CLASSES);
	memset(&cfg->cls[cfg->n_classes], 0, sizeof(cfg->cls[0]));
	snprintf(cfg->cls[cfg->n_classes].name, XVS_QOS_NAME_LEN, "%s", name);
	cfg->n_classes++;
	return 0;
}

/* Build the plan of scheduling port eg (slot) from the configuration as it
 * would be (cand). pl->gen is left 0. */
static int
plan_build(const struct xvs_port *eg, struct xvs_qos_plan *pl, struct xvs_err *err)
{
	const struct xvs_switch_cfg *sw = cand.sw != NULL ? cand.sw : &xvsd.sw;
	const struct qos_tclass *tc = cand.tc != NULL ? cand.tc : tclasses;
	unsigned n_tc = cand.tc != NULL ? cand.n_tc : n_tclasses;
	const struct xvs_port_cfg *ec = cfg_of(eg);
	struct xvs_qos_cfg *cfg = &pl->cfg;
	struct xvs_err e;
	uint64_t h = 0xcbf29ce484222325ull;
	int r;

	memset(pl, 0, sizeof(*pl));
	memset(pl->pcp, -1, sizeof(pl->pcp));
	cfg->mode = sw->bw_mode;
	cfg->capacity_bps = capacity_of(eg, ec, &pl->wire_len);
	if (cfg->capacity_bps == 0)
		return xvs_err_set(err, -EINVAL, "port %s: qos=on needs link-rate=RATE (the link "
				   "reports no speed)", ec->name);
	/* Pace to the capacity in software: a veth, tap or AF_PACKET socket
	 * takes frames faster than the rate asked for, and a NIC's own
	 * back-pressure comes from a ring deeper than the FIFOs. */
	cfg->shape_port = true;
	add_class(cfg, ec->name, "default", err);
	cfg->cls[0].weight = sw->df_weight;
	cfg->cls[0].min_bps = sw->df_min_bw;
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		const struct xvs_port *p = port_at(slot);
		const struct xvs_port_cfg *c;

		if (p == NULL || p == eg)
			continue;
		c = cfg_of(p);
		if (c->min_bw_weight == 0 && c->min_bw == 0 && c->max_bw == 0)
			continue;
		if ((r = add_class(cfg, ec->name, c->name, err)) < 0)
			return r;
		cfg->cls[cfg->n_classes - 1].weight = c->min_bw_weight;
		cfg->cls[cfg->n_classes - 1].min_bps = c->min_bw;
		cfg->cls[cfg->n_classes - 1].max_bps = c->max_bw;
		pl->src_cls[slot] = (uint8_t)(cfg->n_classes - 1);
	}
	for (unsigned i = 0; i < n_tc; i++) {
		const struct qos_tclass *t = &tc[i];
		struct xvs_qos_match *m;

		if (t->port[0] != '\0' && strcmp(t->port, ec->name) != 0)
			continue;
		if ((r = add_class(cfg, ec->name, t->name, err)) < 0)
			return r;
		cfg->cls[cfg->n_classes - 1].weight = t->weight;
		cfg->cls[cfg->n_classes - 1].min_bps = t->min_bw;
		cfg->cls[cfg->n_classes - 1].max_bps = t->max_bw;
		cfg->cls[cfg->n_classes - 1].strict = t->strict;
		pl->pcp[cfg->n_classes - 1] = (int8_t)t->pcp;
		pl->any_pcp |= t->pcp >= 0;
		m = &pl->rules[pl->n_rules++];
		*m = t->m;
		m->cls = (uint8_t)(cfg->n_classes - 1);
		if (xvs_qos_match_validate(m, cfg->n_classes, &e) < 0)
			return xvs_err_set(err, e.code, "port %s: class %s: %s", ec->name, t->name,
					   e.msg);
	}
	if (xvs_qos_validate(cfg, &e) < 0)
		return xvs_err_set(err, e.code, "port %s: %s", ec->name, e.msg);
	if (xvs_qos_classifier_build(&pl->classifier, pl->rules, pl->n_rules, &e) < 0)
		return xvs_err_set(err, e.code, "port %s: %s", ec->name, e.msg);
	/* Room for 20 ms at the capacity per class, at least 1 MB: a TCP
	 * stream whose guest sends 64 KB TSO frames keeps its class
	 * backlogged through a loss (with 256 KB, a Live-Migration-like
	 * stream got 0.49 of the link for a 5/9 share); latency stays bounded
	 * (Linux's default 1000-packet queue is ~1.5 MB). */
	pl->qlimit_bytes = RTE_MAX(1024ull * 1024, cfg->capacity_bps / 8 / 50);
	for (uint32_t i = 0; i < cfg->n_classes; i++)
		h = fnv(h, cfg->cls[i].name, strnlen(cfg->cls[i].name, XVS_QOS_NAME_LEN) + 1);
	pl->layout_gen = h;
	return 0;
}

/* Check the settings that do not depend on a port's capacity (mode mixing,
 * a minimum in mode none, an absolute cap below its minimum, a strict class
 * with a minimum, a bad match): each class with a minimum, cap or rule alone
 * beside the default flow, at the highest capacity, caps left out in weight
 * mode (their floor is a share of the capacity). Without it, settings made
 * while no port schedules were stored and only refused at the next qos=on. */
static int
check_alone(struct xvs_err *err)
{
	const struct xvs_switch_cfg *sw = cand.sw != NULL ? cand.sw : &xvsd.sw;
	const struct qos_tclass *tc = cand.tc != NULL ? cand.tc : tclasses;
	unsigned n_tc = cand.tc != NULL ? cand.n_tc : n_tclasses;
	struct xvs_qos_cfg cfg;
	struct xvs_err e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = sw->bw_mode;
	cfg.capacity_bps = XVS_QOS_RATE_MAX;
	cfg.n_classes = 1;
	snprintf(cfg.cls[0].name, XVS_QOS_NAME_LEN, "default");
	cfg.cls[0].weight = sw->df_weight;
	cfg.cls[0].min_bps = sw->df_min_bw;
	if (xvs_qos_validate(&cfg, &e) < 0)
		return xvs_err_set(err, e.code, "switch: default flow: %s", e.msg);
	cfg.n_classes = 2;
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		const struct xvs_port *p = port_at(slot);
		const struct xvs_port_cfg *c;

		if (p == NULL)
			continue;
		c = cfg_of(p);
		if (c->min_bw_weight == 0 && c->min_bw == 0 && c->max_bw == 0)
			continue;
		memset(&cfg.cls[1], 0, sizeof(cfg.cls[1]));
		snprintf(cfg.cls[1].name, XVS_QOS_NAME_LEN, "%.*s", XVS_QOS_NAME_LEN - 1, c->name);
		cfg.cls[1].weight = c->min_bw_weight;
		cfg.cls[1].min_bps = c->min_bw;
		cfg.cls[1].max_bps = sw->bw_mode == XVS_QOS_MODE_WEIGHT ? 0 : c->max_bw;
		if (xvs_qos_validate(&cfg, &e) < 0)
			return xvs_err_set(err, e.code, "port %s: %s", c->name, e.msg);
	}
	for (unsigned i = 0; i < n_tc; i++) {
		const struct qos_tclass *t = &tc[i];
		struct xvs_qos_match m = t->m;

		memset(&cfg.cls[1], 0, sizeof(cfg.cls[1]));
		snprintf(cfg.cls[1].name, XVS_QOS_NAME_LEN, "%.*s", XVS_QOS_NAME_LEN - 1, t->name);
		cfg.cls[1].weight = t->weight;
		cfg.cls[1].min_bps = t->min_bw;
		cfg.cls[1].max_bps = sw->bw_mode == XVS_QOS_MODE_WEIGHT ? 0 : t->max_bw;
		cfg.cls[1].strict = t->strict;
		m.cls = 1;
		if (xvs_qos_validate(&cfg, &e) < 0 || xvs_qos_match_validate(&m, 2, &e) < 0)
			return xvs_err_set(err, e.code, "qos class %s: %s", t->name, e.msg);
	}
	return 0;
}

/* Check that every scheduling port's model is valid with the candidate
 * change in place, that a bandwidth-mode change finds no minimum, and that
 * the settings no port schedules yet are possible (check_alone). */
static int
check_all(struct xvs_err *err)
{
	const struct xvs_switch_cfg *sw = cand.sw != NULL ? cand.sw : &xvsd.sw;
	struct xvs_qos_plan *pl;
	int r = 0;

	if (sw->bw_mode != xvsd.sw.bw_mode) {
		const char *mode = xvs_qos_mode_name(xvsd.sw.bw_mode),
			   *to = xvs_qos_mode_name(sw->bw_mode);

		if (xvsd.sw.df_weight != 0 || xvsd.sw.df_min_bw != 0)
			return xvs_err_set(err, -EBUSY, "switch: cannot change bandwidth-mode from "
					   "%s to %s while the default flow has a minimum; "
					   "remove the minimums first", mode, to);
		for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
			const struct xvs_port *p = xvsd.port[slot];

			if (p != NULL && (p->cfg.min_bw_weight != 0 || p->cfg.min_bw != 0))
				return xvs_err_set(err, -EBUSY, "switch: cannot change "
						   "bandwidth-mode from %s to %s while port %s has "
						   "a minimum; remove the minimums first", mode, to,
						   p->cfg.name);
		}
		for (unsigned i = 0; i < n_tclasses; i++)
			if (tclasses[i].weight != 0 || tclasses[i].min_bw != 0)
				return xvs_err_set(err, -EBUSY, "switch: cannot change "
						   "bandwidth-mode from %s to %s while class %s has "
						   "a minimum; remove the minimums first", mode, to,
						   tclasses[i].name);
	}
	pl = malloc(sizeof(*pl));
	if (pl == NULL)
		return xvs_err_set(err, -ENOMEM, "out of memory");
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS && r == 0; slot++) {
		const struct xvs_port *p = port_at(slot);

		if (p != NULL && cfg_of(p)->qos)
			r = plan_build(p, pl, err);
	}
	free(pl);
	if (r == 0)
		r = check_alone(err);
	return r;
}

int
xvsd_qos_check_port(const struct xvs_port *p, const struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	int r;

	/* Port and class names are one namespace (a frame's class is named
	 * by either); a restart would drop the class otherwise. */
	if (xvsd.port[p->slot] != p && tclass_find(cfg->name) != NULL)
		return xvs_err_set(err, -EEXIST, "port %s: the name is taken by a qos class",
				   cfg->name);
	cand.p = p;
	cand.cfg = cfg;
	r = check_all(err);
	memset(&cand, 0, sizeof(cand));
	return r;
}

int
xvsd_qos_check_port_del(const struct xvs_port *p, struct xvs_err *err)
{
	int r;

	cand.gone = p;
	r = check_all(err);
	memset(&cand, 0, sizeof(cand));
	if (r < 0) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		return xvs_err_set(err, r, "port %s: cannot delete it: %s", p->cfg.name, why);
	}
	return r;
}

int
xvsd_qos_check_switch(const struct xvs_switch_cfg *sw, struct xvs_err *err)
{
	int r;

	cand.sw = sw;
	r = check_all(err);
	memset(&cand, 0, sizeof(cand));
	return r;
}

/* The worker that schedules p's egress in s: the one in force while it is
 * still an active worker with its own tx queue on p (an owner moves only
 * when it must: each move pauses the port for a publication); else the one
 * owning the fewest QoS ports so far, ties by the least busy. */
static uint16_t
owner_choose(const struct xvs_snapshot *s, const struct xvs_port *p, uint16_t cur_p1)
{
	uint16_t lim = RTE_MIN(s->n_workers, p->n_txq), best = 0;

	if (lim == 0)
		lim = 1;
	if (cur_p1 != 0 && cur_p1 - 1 < lim)
		return (uint16_t)(cur_p1 - 1);
	for (uint16_t w = 1; w < lim; w++)
		if (s->worker[w].n_qos_owned < s->worker[best].n_qos_owned ||
		    (s->worker[w].n_qos_owned == s->worker[best].n_qos_owned &&
		     xvsd.busy_pct[w] < xvsd.busy_pct[best]))
			best = w;
	return best;
}

void
xvsd_qos_fill(struct xvs_snapshot *s, uint16_t slot)
{
	const struct xvs_port *p = xvsd.port[slot];
	struct xvs_snap_port *sp = &s->port[slot];
	struct xvs_snap_worker *ow;
	struct xvs_qos_plan *pl;
	struct xvs_err e;
	uint16_t owner;

	qs[slot].next = NULL;
	qs[slot].owner_next = 0;
	qs[slot].owner_move = 0;
	if (p == NULL || !p->open || !p->cfg.qos) {
		qs[slot].error[0] = '\0';
		return;
	}
	pl = rte_malloc("xvs_qos_plan", sizeof(*pl), RTE_CACHE_LINE_SIZE);
	if (pl == NULL) {
		snprintf(qs[slot].error, sizeof(qs[slot].error), "out of memory for its plan");
		return;
	}
	if (plan_build(p, pl, &e) < 0) {
		/* Checked before it was stored; a restart with a link that
		 * reports no speed any more lands here. */
		if (strcmp(qs[slot].error, e.msg) != 0)
			XVS_ERR("qos", "%s: not scheduled: %s", p->cfg.name, e.msg);
		snprintf(qs[slot].error, sizeof(qs[slot].error), "%s", e.msg);
		rte_free(pl);
		return;
	}
	qs[slot].error[0] = '\0';
	if (qs[slot].state == NULL) {
		qs[slot].state = xvs_qos_port_create(slot, xvs_dp.n_workers_max);
		if (qs[slot].state == NULL) {
			snprintf(qs[slot].error, sizeof(qs[slot].error), "out of memory");
			rte_free(pl);
			return;
		}
	}
	/* Unchanged settings keep the plan, so the owner keeps its scheduler
	 * (tags and token buckets): publications happen for other reasons. */
	if (qs[slot].cur != NULL) {
		pl->gen = qs[slot].cur->gen;
		if (memcmp(pl, qs[slot].cur, sizeof(*pl)) == 0) {
			rte_free(pl);
			pl = qs[slot].cur;
		}
	}
	if (pl != qs[slot].cur)
		pl->gen = ++plan_gen;
	qs[slot].next = pl;
	sp->qos = qs[slot].state;
	sp->qos_plan = pl;
	owner = owner_choose(s, p, qs[slot].owner_cur);
	if (qs[slot].owner_cur != 0 && owner != qs[slot].owner_cur - 1) {
		/* A move: first a snapshot without owner (frames wait in the
		 * hand-off rings), then, once the old owner is past it (the
		 * grace period of this publication), one with the new owner:
		 * never two owners on the FIFOs, nothing lost or reordered. */
		sp->qos_owner = XVS_QOS_NO_OWNER;
		qs[slot].owner_move = (uint16_t)(owner + 1);
		s->qos_ports = true;
		return;
	}
	sp->qos_owner = owner;
	qs[slot].owner_next = (uint16_t)(owner + 1);
	ow = &s->worker[owner];
	s->n_qos_owners += ow->n_qos_owned == 0;
	ow->qos_owned[ow->n_qos_owned++] = slot;
	/* Frames are classified for it: by the L2 stage, or from their
	 * metadata where stages fill it (stage_l2.c). */
	s->qos_ports = true;
}

bool
xvsd_qos_moving(void)
{
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (qs[slot].owner_move != 0)
			return true;
	return false;
}

void
xvsd_qos_hand_over(struct xvs_snapshot *s, bool final)
{
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_snap_port *sp = &s->port[slot];
		struct xvs_snap_worker *ow;
		uint16_t owner;

		if (qs[slot].owner_move == 0 || sp->qos_owner != XVS_QOS_NO_OWNER)
			continue;
		owner = (uint16_t)(qs[slot].owner_move - 1);
		sp->qos_owner = owner;
		ow = &s->worker[owner];
		s->n_qos_owners += ow->n_qos_owned == 0;
		ow->qos_owned[ow->n_qos_owned++] = slot;
		if (final)
			qs[slot].owner_next = qs[slot].owner_move; /* no follow-up needed */
	}
}

bool
xvsd_qos_published(void)
{
	bool moving = false;

	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		/* a port without owner in force is between two owners: publish
		 * again now that the old one is past it */
		moving |= qs[slot].next != NULL && qs[slot].owner_next == 0;
		qs[slot].owner_cur = qs[slot].owner_next;
		if (qs[slot].cur != qs[slot].next)
			rte_free(qs[slot].cur);
		qs[slot].cur = qs[slot].next;
		qs[slot].next = NULL;
		if (qs[slot].state == NULL || qs[slot].cur != NULL)
			continue;
		/* No snapshot names the state any more (grace period passed). */
		if (xvsd.port[slot] == NULL) {
			xvs_qos_port_free(qs[slot].state);
			qs[slot].state = NULL;
			memset(&qs[slot], 0, sizeof(qs[slot]));
		} else {
			xvs_qos_port_flush(qs[slot].state);
		}
	}
	return moving;
}

void
xvsd_qos_tick(void)
{
	bool changed = false;

	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		const struct xvs_port *p = xvsd.port[slot];
		uint64_t bps, had;
		bool wire;

		if (p == NULL || !p->open || !p->cfg.qos || p->cfg.link_rate != 0)
			continue;
		had = last_link[slot].p == p ? last_link[slot].bps : 0;
		bps = capacity_of(p, &p->cfg, &wire);
		/* A speed first reported (a guest attached, a link up after a
		 * start without it) or changed: the plan follows. */
		if (bps != 0 && bps != had) {
			XVS_INFO("qos", "%s: link speed %llu bit/s, scheduling against it", p->cfg.name,
				 (unsigned long long)bps);
			changed = true;
		}
	}
	if (changed) {
		struct xvs_err e;

		if (xvsd_publish_err(&e) < 0)
			XVS_WARN("qos", "link speed change not published: %s", e.msg);
	}
}

unsigned int
xvsd_qos_rings(struct rte_ring **out, unsigned int max)
{
	const struct xvs_snapshot *s = atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
	unsigned int n = 0;

	RTE_BUILD_BUG_ON(RTE_DIM(qs[0].state->ring) > XVSD_QOS_RINGS_PER_PORT);
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		const struct xvs_qos_port *q = qs[slot].state;

		/* Rings nobody drains in the snapshot in force (an owner moves:
		 * xvsd_publish gives the new one before the fence, so this is a
		 * guard): waiting on them only stalls the fence. */
		if (q == NULL || s->port[slot].qos != q || s->port[slot].qos_owner == XVS_QOS_NO_OWNER)
			continue;

		for (uint16_t i = 0; q != NULL && i < RTE_DIM(q->ring) && n < max; i++)
			if (q->ring[i] != NULL)
				out[n++] = q->ring[i];
	}
	return n;
}

uint64_t
xvsd_qos_queued(uint16_t slot)
{
	return xvs_qos_port_queued(qs[slot].state);
}

uint64_t
xvsd_qos_flushed(uint16_t slot)
{
	return qs[slot].state != NULL ? qs[slot].state->flushed : 0;
}

/* ---- traffic classes ---- */

static struct qos_tclass *
tclass_find(const char *name)
{
	for (unsigned i = 0; i < n_tclasses; i++)
		if (strcmp(tclasses[i].name, name) == 0)
			return &tclasses[i];
	return NULL;
}

/* A class from name and its options {match, weight, min-bw, max-bw, pcp,
 * strict, port}. */
static int
tclass_parse(const char *name, json_t *opts, struct qos_tclass *t, struct xvs_err *err)
{
	const char *key;
	json_t *v;
	char what[96];
	int r;

	memset(t, 0, sizeof(*t));
	t->pcp = -1;
	if (strlen(name) >= XVS_QOS_NAME_LEN || name[0] == '\0')
		return xvs_err_set(err, -EINVAL, "qos class \"%.40s\": name must be 1-%d characters",
				   name, XVS_QOS_NAME_LEN - 1);
	if ((r = xvs_name_validate("qos class", name, err)) < 0)
		return r;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (strcmp(name, "default") == 0 || xvsd_port_find(name) != NULL)
		return xvs_err_set(err, -EEXIST, "qos class %s: the name is taken by %s", name,
				   strcmp(name, "default") == 0 ? "the default flow" : "a port");
	if (!json_is_object(opts))
		return xvs_err_set(err, -EINVAL, "qos class %s: needs options, at least match=",
				   name);
	json_object_foreach(opts, key, v) {
		char val[256];
		uint32_t u;

		if ((r = xvs_param_value(key, v, val, sizeof(val), err)) < 0)
			return r;
		snprintf(what, sizeof(what), "qos class %s: %s", name, key);
		if (strcmp(key, "match") == 0) {
			struct xvs_err e;

			if (xvs_qos_match_parse(val, &t->m, &e) < 0)
				return xvs_err_set(err, e.code, "qos class %s: %s", name, e.msg);
			snprintf(t->match, sizeof(t->match), "%s", val);
		} else if (strcmp(key, "weight") == 0) {
			if ((r = xvs_u32_parse(what, val, 0, XVS_QOS_WEIGHT_MAX, &t->weight, err)) < 0)
				return r;
		} else if (strcmp(key, "min-bw") == 0) {
			if ((r = xvs_qos_rate_parse(what, val, &t->min_bw, err)) < 0)
				return r;
		} else if (strcmp(key, "max-bw") == 0) {
			if ((r = xvs_qos_rate_parse(what, val, &t->max_bw, err)) < 0)
				return r;
		} else if (strcmp(key, "pcp") == 0) {
			if (strcmp(val, "none") == 0) {
				t->pcp = -1;
				continue;
			}
			if ((r = xvs_u32_parse(what, val, 0, 7, &u, err)) < 0)
				return r;
			t->pcp = (int)u;
		} else if (strcmp(key, "strict") == 0) {
			if ((r = xvs_u32_parse(what, val, 0, 8, &u, err)) < 0)
				return r;
			t->strict = (uint8_t)u;
		} else if (strcmp(key, "port") == 0) {
			if ((r = xvs_name_validate(what, val, err)) < 0)
				return r;
			snprintf(t->port, sizeof(t->port), "%.*s", XVS_NAME_MAX, val);
		} else {
			return xvs_err_set(err, -EINVAL, "qos class %s: unknown option \"%.32s\" "
					   "(valid: match, weight, min-bw, max-bw, pcp, strict, port)",
					   name, key);
		}
	}
	if (t->match[0] == '\0')
		return xvs_err_set(err, -EINVAL, "qos class %s: needs match=\"...\" (e.g. "
				   "match=\"tcp dport 6600\")", name);
	return 0;
}

static json_t *
tclass_opts(const struct qos_tclass *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "match", json_string(t->match));
	json_object_set_new(o, "weight", json_integer(t->weight));
	json_object_set_new(o, "min-bw", json_integer((json_int_t)t->min_bw));
	json_object_set_new(o, "max-bw", json_integer((json_int_t)t->max_bw));
	if (t->pcp >= 0)
		json_object_set_new(o, "pcp", json_integer(t->pcp));
	json_object_set_new(o, "strict", json_integer(t->strict));
	if (t->port[0] != '\0')
		json_object_set_new(o, "port", json_string(t->port));
	return o;
}

static int
store_put_tclass(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct qos_tclass *t = arg;
	json_t *o = tclass_opts(t);
	char *spec = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	json_decref(o);
	if (spec == NULL)
		return xvs_err_set(e, -ENOMEM, "out of memory");
	r = xvs_store_qos_class_put(st, t->name, spec, e);
	free(spec);
	return r;
}

static int
store_del_tclass(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	return xvs_store_qos_class_del(st, arg, e);
}

int
xvsd_params_only(json_t *params, const char *method, const char *const *keys,
		 struct xvs_err *err)
{
	const char *key;
	json_t *v;

	if (params == NULL || json_is_null(params))
		return 0;
	if (!json_is_object(params))
		return xvs_err_set(err, -EINVAL, "%s: params must be an object", method);
	json_object_foreach(params, key, v) {
		const char *const *k = keys;

		while (*k != NULL && strcmp(*k, key) != 0)
			k++;
		if (*k == NULL)
			return xvs_err_set(err, -EINVAL, "%s: unknown parameter \"%.32s\"", method,
					   key);
	}
	return 0;
}

static int
m_class_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct qos_tclass t, saved[TCLASS_MAX];
	unsigned n_saved = n_tclasses;
	char name[64];
	int r;

	if ((r = xvsd_params_only(params, "qos.class_add", (const char *const[]){"name", "options",
										 NULL}, err)) < 0)
		return r;
	if ((r = xvs_param_str(params, "name", true, name, sizeof(name), err)) < 0)
		return r;
	if ((r = tclass_parse(name, json_object_get(params, "options"), &t, err)) < 0)
		return r;
	if (tclass_find(t.name) != NULL)
		return xvs_err_set(err, -EEXIST, "qos class %s already exists", t.name);
	if (n_tclasses >= TCLASS_MAX)
		return xvs_err_set(err, -ENOSPC, "qos class %s: %u classes already", t.name,
				   TCLASS_MAX);
	memcpy(saved, tclasses, sizeof(saved));
	{
		static struct qos_tclass next[TCLASS_MAX];

		memcpy(next, tclasses, sizeof(next));
		next[n_tclasses] = t;
		cand.tc = next;
		cand.n_tc = n_tclasses + 1;
		r = check_all(err);
		memset(&cand, 0, sizeof(cand));
		if (r < 0)
			return r;
	}
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = store_put_tclass(xvsd.store, &t, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	tclasses[n_tclasses++] = t;
	if ((r = xvsd_publish_err(err)) < 0) {
		memcpy(tclasses, saved, sizeof(saved));
		n_tclasses = n_saved;
		xvsd_store_restore(store_del_tclass, t.name, err);
		return r;
	}
	XVS_INFO("qos", "class %s added (match \"%s\")", t.name, t.match);
	*result = json_pack("{s:s,s:o}", "name", t.name, "options", tclass_opts(&t));
	return 0;
}

static int
m_class_del(json_t *params, json_t **result, struct xvs_err *err)
{
	struct qos_tclass saved[TCLASS_MAX], t;
	unsigned n_saved = n_tclasses, i;
	char name[64];
	int r;

	if ((r = xvsd_params_only(params, "qos.class_del", (const char *const[]){"name", NULL},
				  err)) < 0)
		return r;
	if ((r = xvs_param_str(params, "name", true, name, sizeof(name), err)) < 0)
		return r;
	if (tclass_find(name) == NULL)
		return xvs_err_set(err, -ENOENT, "qos class %s does not exist", name);
	/* Removing a class can make a model invalid: in weight mode the sum
	 * of the weights shrinks, so another class's share grows, maybe above
	 * its cap. Refuse rather than let the next publication turn QoS off. */
	{
		static struct qos_tclass next[TCLASS_MAX];

		i = (unsigned)(tclass_find(name) - tclasses);
		memcpy(next, tclasses, sizeof(next));
		memmove(&next[i], &next[i + 1], (n_tclasses - i - 1) * sizeof(next[0]));
		cand.tc = next;
		cand.n_tc = n_tclasses - 1;
		r = check_all(err);
		memset(&cand, 0, sizeof(cand));
		if (r < 0) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			return xvs_err_set(err, r, "qos class %s: cannot delete it: %s", name,
					   why);
		}
	}
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_qos_class_del(xvsd.store, name, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	memcpy(saved, tclasses, sizeof(saved));
	i = (unsigned)(tclass_find(name) - tclasses);
	t = tclasses[i];
	memmove(&tclasses[i], &tclasses[i + 1], (n_tclasses - i - 1) * sizeof(tclasses[0]));
	n_tclasses--;
	if ((r = xvsd_publish_err(err)) < 0) {
		memcpy(tclasses, saved, sizeof(saved));
		n_tclasses = n_saved;
		xvsd_store_restore(store_put_tclass, &t, err);
		return r;
	}
	XVS_INFO("qos", "class %s deleted", name);
	*result = json_pack("{s:s}", "deleted", name);
	return 0;
}

static const char *
class_kind(const struct xvs_qos_plan *pl, uint32_t c)
{
	if (c == 0)
		return "default";
	for (uint32_t i = 0; i < pl->n_rules; i++)
		if (pl->rules[i].cls == c)
			return "class";
	return "port";
}

static json_t *
port_qos_json(const struct xvs_port *p)
{
	uint16_t slot = p->slot;
	const struct xvs_qos_plan *pl = qs[slot].cur;
	const struct xvs_qos_port *st = qs[slot].state;
	json_t *o = json_object(), *a;
	uint64_t now = xvs_now_ns(), dt;
	bool fresh;

	json_object_set_new(o, "port", json_string(p->cfg.name));
	json_object_set_new(o, "qos", json_boolean(p->cfg.qos));
	json_object_set_new(o, "scheduled", json_boolean(pl != NULL));
	if (qs[slot].error[0] != '\0')
		json_object_set_new(o, "error", json_string(qs[slot].error));
	if (pl == NULL || st == NULL)
		return o;
	json_object_set_new(o, "owner_worker", json_integer((json_int_t)qs[slot].owner_cur - 1));
	json_object_set_new(o, "mode", json_string(xvs_qos_mode_name(pl->cfg.mode)));
	json_object_set_new(o, "capacity_bps", json_integer((json_int_t)pl->cfg.capacity_bps));
	json_object_set_new(o, "capacity_from",
			    json_string(p->cfg.link_rate != 0 ? "link-rate" : "link speed"));
	json_object_set_new(o, "queued", json_integer((json_int_t)xvs_qos_port_queued(st)));
	{
		/* Pause frames received (802.1Qbb per priority, 802.3x). */
		json_t *pfc = json_array(), *held = json_array();
		uint64_t tnow = xvs_tsc_ns(rte_rdtsc());

		for (int pr = 0; pr < 8; pr++) {
			json_array_append_new(pfc, json_integer((json_int_t)__atomic_load_n(
							   &st->pfc_rx[pr], __ATOMIC_RELAXED)));
			if (__atomic_load_n(&st->pause_until[pr], __ATOMIC_RELAXED) > tnow)
				json_array_append_new(held, json_integer(pr));
		}
		json_object_set_new(o, "pfc_rx", pfc);
		json_object_set_new(o, "paused", held);
		json_object_set_new(o, "pause_rx", json_integer((json_int_t)__atomic_load_n(
								 &st->pause_rx, __ATOMIC_RELAXED)));
		json_object_set_new(o, "pool_limited", json_integer((json_int_t)__atomic_load_n(
								     &st->pool_limited, __ATOMIC_RELAXED)));
	}
	/* The owner adopts a new layout at its next turn; until then its
	 * counters are the old classes'. */
	fresh = st->layout_gen == pl->layout_gen;
	dt = now - qs[slot].prev_ns;
	a = json_array();
	for (uint32_t c = 0; c < pl->cfg.n_classes; c++) {
		const struct xvs_qos_class_cfg *cc = &pl->cfg.cls[c];
		struct xvs_qos_class_ctr k;
		json_t *j;
		double share = 0;

		memset(&k, 0, sizeof(k));
		if (fresh)
			xvs_qos_class_read(st, c, &k);
		if (fresh && qs[slot].prev_layout == pl->layout_gen && qs[slot].prev_ns != 0 &&
		    dt > 0 && k.sent_bytes >= qs[slot].prev_sent[c])
			share = (double)(k.sent_bytes - qs[slot].prev_sent[c]) * 8e9 / (double)dt /
				(double)pl->cfg.capacity_bps;
		qs[slot].prev_sent[c] = k.sent_bytes;
		j = json_pack("{s:s,s:s,s:i,s:I,s:I,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}",
			      "name", cc->name, "kind", class_kind(pl, c), "weight",
			      (int)cc->weight, "min_bps", (json_int_t)cc->min_bps, "max_bps",
			      (json_int_t)cc->max_bps, "strict", (int)cc->strict,
			      "offered_frames", (json_int_t)k.offered_frames, "offered_bytes",
			      (json_int_t)k.offered_bytes, "sent_frames", (json_int_t)k.sent_frames,
			      "sent_bytes", (json_int_t)k.sent_bytes, "dropped_frames",
			      (json_int_t)k.dropped_frames, "dropped_bytes",
			      (json_int_t)k.dropped_bytes, "queue_frames",
			      (json_int_t)k.depth_frames, "queue_bytes", (json_int_t)k.depth_bytes,
			      "share", share);
		if (pl->pcp[c] >= 0)
			json_object_set_new(j, "pcp", json_integer(pl->pcp[c]));
		json_array_append_new(a, j);
	}
	qs[slot].prev_ns = now;
	qs[slot].prev_layout = pl->layout_gen;
	json_object_set_new(o, "classes", a);
	return o;
}

static int
m_qos_show(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port *only = NULL;
	json_t *ports, *cls;
	int r;

	if ((r = xvsd_params_only(params, "qos.show", (const char *const[]){"name", NULL}, err)) < 0)
		return r;
	ports = json_array();
	cls = json_array();
	if (json_object_get(params, "name") != NULL) {
		only = xvsd_port_param(params, "name", true, err, &r);
		if (only == NULL) {
			json_decref(ports);
			json_decref(cls);
			return r;
		}
	}
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		const struct xvs_port *p = xvsd.port[slot];

		if (p != NULL && (only == NULL ? p->cfg.qos : p == only))
			json_array_append_new(ports, port_qos_json(p));
	}
	for (unsigned i = 0; i < n_tclasses; i++)
		json_array_append_new(cls, json_pack("{s:s,s:o}", "name", tclasses[i].name,
						     "options", tclass_opts(&tclasses[i])));
	*result = json_pack("{s:s,s:i,s:I,s:o,s:o}", "bandwidth_mode",
			    xvs_qos_mode_name(xvsd.sw.bw_mode), "default_flow_weight",
			    (int)xvsd.sw.df_weight, "default_flow_min_bw",
			    (json_int_t)xvsd.sw.df_min_bw, "classes", cls, "ports", ports);
	return 0;
}

static int
restore_tclass(const char *name, const char *spec, void *arg)
{
	struct qos_tclass t;
	struct xvs_err e;
	json_t *o = json_loads(spec, 0, NULL);

	(void)arg;
	if (o == NULL || tclass_parse(name, o, &t, &e) < 0 || n_tclasses >= TCLASS_MAX) {
		XVS_ERR("store", "qos class %s not restored: %s", name,
			o == NULL ? "bad row" : n_tclasses >= TCLASS_MAX ? "too many" : e.msg);
		json_decref(o);
		return 0;
	}
	json_decref(o);
	tclasses[n_tclasses++] = t;
	return 0;
}

int
xvsd_qos_restore(struct xvs_err *err)
{
	return xvs_store_load_qos_classes(xvsd.store, restore_tclass, NULL, err);
}

const struct xvsd_method xvsd_qos_methods[] = {
	{"qos.show", m_qos_show, "{name?}: bandwidth mode, traffic classes, and per scheduling "
				 "port its classes with offered, sent, dropped, share, queue"},
	{"qos.class_add", m_class_add, "{name, options: {match, weight, min-bw, max-bw, pcp, "
				       "strict, port}}: add a traffic class"},
	{"qos.class_del", m_class_del, "{name}: delete a traffic class"},
	{NULL, NULL, NULL},
};

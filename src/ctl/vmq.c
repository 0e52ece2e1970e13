/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VMQ on the control thread: pools, queue objects, filters, the fence around
 * their changes, and vmq show (see vmq_ctl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "balancer.h"
#include "log.h"
#include "vmq_ctl.h"
#include "xvsd.h"

/* The pool knows ports by number: a VM port in slot v asks for its k-th
 * queue (VMMQ, k < vmmq-queues) as number v + k * XVS_MAX_PORTS. */
#define PID(v, k) ((uint32_t)(v) + (uint32_t)(k) * XVS_MAX_PORTS)
#define PID_SLOT(pid) ((uint16_t)((pid) % XVS_MAX_PORTS))
#define PID_SUB(pid) ((uint16_t)((pid) / XVS_MAX_PORTS))

/* A queue of an uplink's pool (1..vmq-queues). */
struct vmq_queue {
	uint32_t owner;          /* PID of the VM port's request, XVS_VMQ_NONE when free */
	const struct xvs_port *owner_port; /* that port (slots are reused) */
	uint16_t id;             /* counter id (workers' vmq_ctr) while owned */
	uint16_t worker;         /* the worker that runs its frames */
	uint16_t placed;         /* its worker at creation (place()): a disabled balancer's */
	bool hw;                 /* the NIC would filter it (rte_flow validated) */
	char hw_error[256];      /* why not, "" if it would */
	/* rates over the last tick */
	uint64_t prev_packets;
	uint64_t prev_busy_tsc;
	double pps;
	double busy_pct;
	struct xvsd_bal_hold bal;  /* the balancer's (ctl/balancer.c) */
};

/* What a VM port last asked an uplink with, to notice a change. */
enum member_state {
	M_NONE = 0,   /* not a VM port, or not seen */
	M_ASKED,      /* asked the pool (holds, waits, or weight 0) */
	M_NO_MAC,     /* no mac= option: nothing to filter on */
};

struct vmq_member {
	enum member_state state;
	const struct xvs_port *port;
	uint8_t weight;
	uint8_t n_q;             /* queues it asks for (vmmq-queues) */
	uint8_t mac[6];
	uint16_t vid;            /* XVS_VMQ_ANY_VLAN for a trunk port */
};

/* One uplink with vmq-queues > 0. */
struct vmq_uplink {
	const struct xvs_port *port;
	uint16_t slot;              /* its slot */
	uint16_t n_queues;
	struct xvs_vmq_pool pool;
	struct vmq_queue q[XVS_VMQ_QUEUES_MAX + 1];
	struct vmq_member m[XVS_MAX_PORTS];
	struct xvs_vmq_table *cur;  /* in force (referenced by the snapshot) */
	struct xvs_vmq_table *next; /* built by sync; in force after the publish */
	struct xvs_rss_table *hash; /* VMMQ: Toeplitz of the uplink's rss-key (at creation) */
	bool changed;               /* next differs from cur */
	uint64_t hw_fallbacks;      /* queues whose NIC filter was refused */
	uint64_t assigned;          /* queues given to ports */
	uint64_t pauses;            /* publications that paused its polling while the
				     * hand-off rings drained (its filters changed) */
};

static struct vmq_uplink *uplinks[XVS_MAX_PORTS];
static struct vmq_uplink *dying[XVS_MAX_PORTS]; /* freed after the publish */
static uint16_t n_dying;
static bool id_used[XVS_VMQ_IDS];
static bool id_freed[XVS_VMQ_IDS]; /* zero its counters after the publish */

static int
id_alloc(void)
{
	for (int i = 0; i < XVS_VMQ_IDS; i++)
		if (!id_used[i] && !id_freed[i]) {
			id_used[i] = true;
			return i;
		}
	return -1;
}

static void
id_free(uint16_t id)
{
	id_used[id] = false;
	id_freed[id] = true;
}

static void
queue_counters(uint16_t id, struct xvs_rxq_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_rxq_counters *c = &xvs_dp.worker[w]->vmq_ctr[id];

		sum->packets += c->packets;
		sum->bytes += c->bytes;
		sum->polls += c->polls;
		sum->busy_tsc += c->busy_tsc;
	}
}

static void
uplink_free(struct vmq_uplink *u)
{
	for (uint16_t i = 1; i <= u->n_queues; i++)
		if (u->q[i].owner != XVS_VMQ_NONE)
			id_free(u->q[i].id);
	rte_free(u->cur);
	rte_free(u->next);
	rte_free(u->hash);
	free(u);
}

static struct vmq_uplink *
uplink_new(const struct xvs_port *p)
{
	struct vmq_uplink *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->cur = rte_zmalloc("xvs_vmq_table", sizeof(*u->cur), RTE_CACHE_LINE_SIZE);
	u->next = rte_zmalloc("xvs_vmq_table", sizeof(*u->next), RTE_CACHE_LINE_SIZE);
	u->hash = rte_malloc("xvs_vmq_hash", sizeof(*u->hash), RTE_CACHE_LINE_SIZE);
	if (u->cur == NULL || u->next == NULL || u->hash == NULL ||
	    xvs_vmq_pool_init(&u->pool, p->cfg.vmq_queues, NULL) < 0) {
		rte_free(u->cur);
		rte_free(u->next);
		rte_free(u->hash);
		free(u);
		return NULL;
	}
	xvs_rss_table_init(u->hash, p->cfg.rss.key);
	u->port = p;
	u->slot = p->slot;
	u->n_queues = p->cfg.vmq_queues;
	for (uint16_t i = 0; i <= XVS_VMQ_QUEUES_MAX; i++)
		u->q[i].owner = XVS_VMQ_NONE;
	return u;
}

/* Retire u after the next publish (its table may be in force now). */
static void
uplink_retire(uint16_t slot)
{
	struct vmq_uplink *u = uplinks[slot];

	uplinks[slot] = NULL;
	if (u->cur->n > 0)
		u->changed = true; /* its frames go back to the default queue */
	dying[n_dying++] = u;
}

/* What VM port v would ask with; false if it is not a VM port. */
static bool
member_of(const struct xvs_port *v, struct vmq_member *m)
{
	char val[8];
	struct xvs_err e;

	memset(m, 0, sizeof(*m));
	/* vmq-weight applies to VM port kinds only (config.c) */
	if (v == NULL || xvs_port_cfg_get(&v->cfg, "vmq-weight", val, sizeof(val)) < 0)
		return false;
	m->port = v;
	m->weight = v->cfg.vmq_weight;
	m->n_q = v->cfg.vmmq_queues;
	if (v->cfg.mac[0] == '\0' || xvs_mac_parse("mac", v->cfg.mac, m->mac, &e) < 0) {
		m->state = M_NO_MAC;
		return true;
	}
	m->state = M_ASKED;
	m->vid = v->cfg.vlan.mode == XVS_VLAN_ACCESS ? v->cfg.vlan.access_vid : XVS_VMQ_ANY_VLAN;
	return true;
}

static bool
member_eq(const struct vmq_member *a, const struct vmq_member *b)
{
	return a->state == b->state && a->port == b->port && a->weight == b->weight &&
	       a->n_q == b->n_q && memcmp(a->mac, b->mac, 6) == 0 && a->vid == b->vid;
}

/* VMQ queues plus polled rx queues on each worker: what placement levels. */
static void
worker_load(uint16_t *load, uint16_t n_workers)
{
	memset(load, 0, sizeof(load[0]) * XVS_MAX_WORKERS);
	for (uint16_t s = 0; s < XVS_MAX_PORTS; s++) {
		const struct xvs_port *p = xvsd.port[s];
		const struct vmq_uplink *u = uplinks[s];

		if (p != NULL && p->open)
			for (uint16_t q = 0; q < p->n_rxq; q++)
				if (p->rxq[q].polled && p->rxq[q].worker < n_workers)
					load[p->rxq[q].worker]++;
		if (u != NULL)
			for (uint16_t i = 1; i <= u->n_queues; i++)
				if (u->q[i].owner != XVS_VMQ_NONE && u->q[i].worker < n_workers)
					load[u->q[i].worker]++;
	}
}

/* Placement at creation: spread. The least loaded worker that does not poll
 * the uplink (the point of a queue of its own is to take the VM's receive
 * work off the poller), else the least loaded; ties to the lowest id. */
static uint16_t
place(const struct xvs_port *up, uint16_t n_workers)
{
	uint16_t load[XVS_MAX_WORKERS], best = 0;
	bool polls[XVS_MAX_WORKERS] = {false}, other = false;

	worker_load(load, n_workers);
	for (uint16_t q = 0; q < up->n_rxq; q++)
		if (up->rxq[q].polled && up->rxq[q].worker < n_workers)
			polls[up->rxq[q].worker] = true;
	for (uint16_t w = 0; w < n_workers; w++)
		other |= !polls[w];
	for (uint16_t w = 1; w < n_workers; w++) {
		if (other && polls[w])
			continue;
		if ((other && polls[best]) || load[w] < load[best])
			best = w;
	}
	return best;
}

static const char *
port_name(uint32_t pid)
{
	uint16_t slot = PID_SLOT(pid);

	return xvsd.port[slot] != NULL ? xvsd.port[slot]->cfg.name : "?";
}

/* Queue i of u got a new owner o (or none): its id, worker and NIC filter. */
static void
queue_take(struct vmq_uplink *u, uint16_t i, uint32_t o, uint16_t n_workers)
{
	struct vmq_queue *q = &u->q[i];
	const struct xvs_port *up = u->port;
	const struct vmq_member *m;
	struct xvs_err e;
	char mac[18];
	int id;

	if (q->owner != XVS_VMQ_NONE)
		id_free(q->id);
	q->owner = o;
	q->owner_port = NULL;
	if (o == XVS_VMQ_NONE)
		return;
	id = id_alloc();
	if (id < 0) {
		/* cannot happen while XVS_VMQ_IDS >= ports x uplinks in use */
		XVS_ERR("vmq", "%s: no counter id left for queue %u: %s stays on the default "
			"queue", up->cfg.name, i, port_name(o));
		q->owner = XVS_VMQ_NONE;
		return;
	}
	m = &u->m[PID_SLOT(o)];
	q->owner_port = m->port;
	q->id = (uint16_t)id;
	q->worker = q->placed = place(up, n_workers);
	q->prev_packets = q->prev_busy_tsc = 0;
	q->pps = q->busy_pct = 0;
	memset(&q->bal, 0, sizeof(q->bal)); /* a new id: its counters start at 0 */
	u->assigned++;
	/* A NIC filter where the device has one; a software queue always does
	 * the work (no hardware VMQ queues are wired yet: issue 14). */
	q->hw = false;
	if (up->ops->vmq_filter == NULL) {
		snprintf(q->hw_error, sizeof(q->hw_error), "%s ports have no NIC filters",
			 xvs_port_kind_name(up->cfg.kind));
	} else if (up->ops->vmq_filter(up, m->mac, m->vid, i, &e) < 0) {
		snprintf(q->hw_error, sizeof(q->hw_error), "%s", e.msg);
	} else {
		q->hw = true;
		snprintf(q->hw_error, sizeof(q->hw_error),
			 "NIC filter possible, hardware VMQ queues not wired yet");
	}
	if (!q->hw)
		u->hw_fallbacks++;
	xvs_mac_format(m->mac, mac);
	XVS_INFO("vmq", "%s: queue %u -> %s/%u (%s vlan %u) on worker %u, software (%s)",
		 up->cfg.name, i, port_name(o), PID_SUB(o), mac, m->vid, q->worker, q->hw_error);
}

/* The pool's view of owners -> queue objects. */
static void
queues_follow_pool(struct vmq_uplink *u, uint16_t n_workers)
{
	for (uint16_t i = 1; i <= u->n_queues; i++) {
		uint32_t o = u->pool.owner[i];

		if (o != u->q[i].owner ||
		    (o != XVS_VMQ_NONE && u->q[i].owner_port != u->m[PID_SLOT(o)].port))
			queue_take(u, i, o, n_workers);
		else if (o != XVS_VMQ_NONE && u->q[i].worker >= n_workers)
			/* its worker was stopped */
			u->q[i].worker = u->q[i].placed = place(u->port, n_workers);
	}
}

static void
member_release(struct vmq_uplink *u, uint16_t v)
{
	uint32_t to = XVS_VMQ_NONE;
	uint16_t q;

	for (uint16_t k = 0; u->m[v].state == M_ASKED && k < u->m[v].n_q; k++) {
		q = xvs_vmq_release(&u->pool, PID(v, k), &to);
		if (q != 0 && to != XVS_VMQ_NONE)
			XVS_INFO("vmq", "%s: queue %u freed by %s goes to waiting %s",
				 u->port->cfg.name, q, port_name(v), port_name(to));
	}
	memset(&u->m[v], 0, sizeof(u->m[v]));
}

static void
member_ask(struct vmq_uplink *u, uint16_t v, const struct vmq_member *want)
{
	struct xvs_vmq_alloc a;
	struct xvs_err e;

	uint16_t got = 0, k;

	u->m[v] = *want;
	if (want->state != M_ASKED)
		return;
	for (k = 0; k < want->n_q; k++) {
		if (xvs_vmq_request(&u->pool, PID(v, k), want->weight, &a, &e) < 0) {
			XVS_WARN("vmq", "%s: %s: queue %u of %u not asked for: %s",
				 u->port->cfg.name, want->port->cfg.name, k + 1, want->n_q, e.msg);
			u->m[v].n_q = (uint8_t)k; /* what it asked for, to release */
			break;
		}
		got += a.status == XVS_VMQ_OWN;
	}
	if (want->weight == 0 || got == k)
		return;
	if (got == 0)
		XVS_WARN("vmq", "%s: no free queue for %s (vmq-queues %u, all in use): it shares "
			 "the default queue until one is freed", u->port->cfg.name,
			 want->port->cfg.name, u->n_queues);
	else
		XVS_WARN("vmq", "%s: %s got %u of its %u queues (vmq-queues %u, all in use); the "
			 "rest come as queues are freed", u->port->cfg.name, want->port->cfg.name,
			 got, want->n_q, u->n_queues);
}

static void
uplink_sync(struct vmq_uplink *u, uint16_t n_workers)
{
	struct vmq_member want[XVS_MAX_PORTS];
	uint16_t up_slot = u->slot;

	memset(want, 0, sizeof(want));
	if (u->n_queues != u->port->cfg.vmq_queues) {
		/* a new pool size: every port asks again, in slot order */
		for (uint16_t v = 0; v < XVS_MAX_PORTS; v++)
			memset(&u->m[v], 0, sizeof(u->m[v]));
		for (uint16_t i = 1; i <= u->n_queues; i++)
			queue_take(u, i, XVS_VMQ_NONE, n_workers);
		u->n_queues = u->port->cfg.vmq_queues;
		xvs_vmq_pool_init(&u->pool, u->n_queues, NULL);
	}
	/* Releases first, so that what they free goes to the waiters... */
	for (uint16_t v = 0; v < XVS_MAX_PORTS; v++) {
		if (v == up_slot || !member_of(xvsd.port[v], &want[v]))
			want[v].state = M_NONE;
		if (u->m[v].state != M_NONE && !member_eq(&u->m[v], &want[v]))
			member_release(u, v);
	}
	/* ...then newcomers ask, first come (slot order within one change). */
	for (uint16_t v = 0; v < XVS_MAX_PORTS; v++)
		if (want[v].state != M_NONE && u->m[v].state == M_NONE)
			member_ask(u, v, &want[v]);
	queues_follow_pool(u, n_workers);
	/* the next filter table: per VM port, its queues in request order */
	xvs_vmq_table_init(u->next);
	u->next->hash = u->hash;
	u->next->hash_types = u->port->cfg.rss.types;
	for (uint16_t v = 0; v < XVS_MAX_PORTS; v++) {
		const struct vmq_member *m = &u->m[v];
		struct xvs_vmq_target tg[XVS_VMMQ_QUEUES_MAX];
		uint8_t n = 0;

		if (m->state != M_ASKED)
			continue;
		for (uint16_t k = 0; k < m->n_q; k++)
			for (uint16_t i = 1; i <= u->n_queues; i++)
				if (u->q[i].owner == PID(v, k))
					tg[n++] = (struct xvs_vmq_target){
						.worker = u->q[i].worker,
						.tag = (uint16_t)(u->q[i].id + 1), .queue = i};
		if (n > 0 && xvs_vmq_table_add_group(u->next, m->mac, m->vid, tg, n) < 0)
			XVS_DEBUG("vmq", "%s: %s's MAC and VLAN already have a queue",
				  u->port->cfg.name, port_name(v));
	}
	u->changed = !xvs_vmq_table_equal(u->cur, u->next);
}

bool
xvsd_vmq_sync(uint16_t n_workers)
{
	bool fence = false;

	for (uint16_t s = 0; s < XVS_MAX_PORTS; s++) {
		const struct xvs_port *p = xvsd.port[s];
		bool want = p != NULL && p->open && p->cfg.vmq_queues > 0;

		if (uplinks[s] != NULL && (!want || uplinks[s]->port != p)) {
			uplink_retire(s);
			fence |= dying[n_dying - 1]->changed;
		}
		if (!want)
			continue;
		if (uplinks[s] == NULL) {
			uplinks[s] = uplink_new(p);
			if (uplinks[s] == NULL) {
				XVS_ERR("vmq", "%s: out of memory: no VMQ queues", p->cfg.name);
				continue;
			}
		}
		uplink_sync(uplinks[s], n_workers);
		fence |= uplinks[s]->changed;
	}
	return fence;
}

const struct xvs_vmq_table *
xvsd_vmq_table(uint16_t slot)
{
	const struct vmq_uplink *u = uplinks[slot];
	const struct xvs_vmq_table *t;

	if (u == NULL)
		return NULL;
	t = u->changed ? u->next : u->cur;
	return t->n > 0 ? t : NULL;
}

/* Whether the uplink in slot changes its filters (or leaves VMQ) now. */
static bool
fenced(uint16_t slot)
{
	if (uplinks[slot] != NULL && uplinks[slot]->changed)
		return true;
	for (uint16_t i = 0; i < n_dying; i++)
		if (dying[i]->slot == slot && dying[i]->changed && xvsd.port[slot] == dying[i]->port)
			return true;
	return false;
}

void
xvsd_vmq_strip(struct xvs_snapshot *s)
{
	for (uint16_t w = 0; w < s->n_workers; w++) {
		struct xvs_snap_worker *sw = &s->worker[w];
		uint16_t k = 0;

		for (uint16_t i = 0; i < sw->n_rxq; i++)
			if (!fenced(sw->rxq[i].port))
				sw->rxq[k++] = sw->rxq[i];
		sw->n_rxq = k;
	}
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (uplinks[slot] != NULL && uplinks[slot]->changed)
			uplinks[slot]->pauses++;
}

void
xvsd_vmq_published(void)
{
	bool freed = false;

	for (uint16_t s = 0; s < XVS_MAX_PORTS; s++) {
		struct vmq_uplink *u = uplinks[s];

		if (u != NULL && u->changed) {
			struct xvs_vmq_table *t = u->cur;

			u->cur = u->next;
			u->next = t;
			u->changed = false;
		}
	}
	for (uint16_t i = 0; i < n_dying; i++)
		uplink_free(dying[i]);
	n_dying = 0;
	for (uint16_t id = 0; id < XVS_VMQ_IDS; id++)
		freed |= id_freed[id];
	if (!freed)
		return;
	/* No filter names a freed id any more; frames tagged with one may
	 * still wait in a ring (the queue changed without a fence: its
	 * uplink was deleted). Zero its counters once they are gone. */
	xvsd_rss_rings_wait_empty();
	for (uint16_t id = 0; id < XVS_VMQ_IDS; id++) {
		if (!id_freed[id])
			continue;
		for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++)
			memset(&xvs_dp.worker[w]->vmq_ctr[id], 0, sizeof(struct xvs_rxq_counters));
		id_freed[id] = false;
	}
}

void
xvsd_vmq_tick(uint64_t dt_tsc)
{
	for (uint16_t s = 0; s < XVS_MAX_PORTS; s++) {
		struct vmq_uplink *u = uplinks[s];

		if (u == NULL)
			continue;
		for (uint16_t i = 1; i <= u->n_queues; i++) {
			struct vmq_queue *q = &u->q[i];
			struct xvs_rxq_counters c;

			if (q->owner == XVS_VMQ_NONE)
				continue;
			queue_counters(q->id, &c);
			q->pps = dt_tsc > 0 && c.packets >= q->prev_packets ?
					 (double)(c.packets - q->prev_packets) * (double)xvs_dp.tsc_hz /
						 (double)dt_tsc :
					 0.0;
			q->busy_pct = dt_tsc > 0 && c.busy_tsc >= q->prev_busy_tsc ?
					      100.0 * (double)(c.busy_tsc - q->prev_busy_tsc) /
						      (double)dt_tsc :
					      0.0;
			q->prev_packets = c.packets;
			q->prev_busy_tsc = c.busy_tsc;
		}
	}
}

int
xvsd_vmq_queue_move(uint16_t uplink, uint16_t queue, uint16_t worker, struct xvs_err *err)
{
	struct vmq_uplink *u = uplink < XVS_MAX_PORTS ? uplinks[uplink] : NULL;

	if (u == NULL || queue < 1 || queue > u->n_queues || u->q[queue].owner == XVS_VMQ_NONE)
		return xvs_err_set(err, -ENOENT, "vmq: no queue %u in use on port slot %u", queue,
				   uplink);
	if (worker >= xvsd.sw.workers || worker >= xvs_dp.n_workers_max)
		return xvs_err_set(err, -EINVAL, "vmq: no active worker %u", worker);
	u->q[queue].worker = worker; /* the next sync's table differs: fenced */
	return 0;
}

int
xvsd_vmq_queue_placed(uint16_t uplink, uint16_t queue)
{
	const struct vmq_uplink *u = uplink < XVS_MAX_PORTS ? uplinks[uplink] : NULL;

	if (u == NULL || queue < 1 || queue > u->n_queues || u->q[queue].owner == XVS_VMQ_NONE)
		return -ENOENT;
	return u->q[queue].placed;
}

unsigned int
xvsd_vmq_items(struct xvsd_vmq_item *out, unsigned int max)
{
	unsigned int n = 0;

	for (uint16_t s = 0; s < XVS_MAX_PORTS; s++) {
		struct vmq_uplink *u = uplinks[s];

		for (uint16_t i = 1; u != NULL && i <= u->n_queues && n < max; i++) {
			struct vmq_queue *q = &u->q[i];
			struct xvs_rxq_counters c;

			if (q->owner == XVS_VMQ_NONE)
				continue;
			queue_counters(q->id, &c);
			out[n] = (struct xvsd_vmq_item){.uplink = s, .queue = i, .worker = q->worker,
							.busy_tsc = c.busy_tsc, .hold = &q->bal};
			snprintf(out[n].name, sizeof(out[n].name), "%s/vmq%u", u->port->cfg.name, i);
			snprintf(out[n].owner, sizeof(out[n].owner), "%s/%u", port_name(q->owner),
				 PID_SUB(q->owner));
			n++;
		}
	}
	return n;
}

static const char *
shared_reason(const struct vmq_uplink *u, uint16_t v)
{
	struct xvs_vmq_alloc a;

	if (u->m[v].state == M_NO_MAC)
		return "no-mac";
	for (uint16_t i = 1; i <= u->n_queues; i++)
		if (u->q[i].owner != XVS_VMQ_NONE && PID_SLOT(u->q[i].owner) == v)
			return NULL; /* it has one at least: no frame of it on the default queue */
	if (xvs_vmq_lookup(&u->pool, v, &a) < 0 || a.status == XVS_VMQ_SHARED_WEIGHT0)
		return "weight-0";
	return a.status == XVS_VMQ_SHARED_EXHAUSTED ? "exhausted" : NULL;
}

json_t *
xvsd_vmq_json(uint16_t slot)
{
	const struct vmq_uplink *u = uplinks[slot];
	json_t *qs = json_array(), *shared = json_array();

	if (u == NULL)
		return NULL;
	for (uint16_t i = 1; i <= u->n_queues; i++) {
		const struct vmq_queue *q = &u->q[i];
		struct xvs_rxq_counters c;
		char mac[18];
		json_t *o;

		if (q->owner == XVS_VMQ_NONE) {
			json_array_append_new(qs, json_pack("{s:i,s:n,s:s}", "queue", i, "owner",
							    "state", "free"));
			continue;
		}
		queue_counters(q->id, &c);
		xvs_mac_format(u->m[PID_SLOT(q->owner)].mac, mac);
		o = json_pack("{s:i,s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:f,s:f,s:I,s:I,s:I}", "queue", i,
			      "state", "in-use", "owner", port_name(q->owner), "owner_queue",
			      PID_SUB(q->owner), "vlan", u->m[PID_SLOT(q->owner)].vid, "worker",
			      q->worker, "mac", mac, "filter",
			      "software", "filter_note", q->hw_error, "pps", q->pps, "busy_pct",
			      q->busy_pct, "rx_packets", (json_int_t)c.packets, "rx_bytes",
			      (json_int_t)c.bytes, "busy_cycles", (json_int_t)c.busy_tsc);
		json_array_append_new(qs, o);
	}
	for (uint16_t v = 0; v < XVS_MAX_PORTS; v++) {
		const char *why;

		if (u->m[v].state == M_NONE || (why = shared_reason(u, v)) == NULL)
			continue;
		json_array_append_new(shared, json_pack("{s:s,s:s}", "port", port_name(v),
							"reason", why));
	}
	return json_pack("{s:s,s:i,s:o,s:o,s:I,s:I,s:I,s:I}", "uplink", u->port->cfg.name,
			 "vmq_queues", u->n_queues, "queues", qs, "default_queue", shared,
			 "exhausted", (json_int_t)u->pool.exhausted, "filter_fallbacks",
			 (json_int_t)u->hw_fallbacks, "assigned", (json_int_t)u->assigned, "pauses",
			 (json_int_t)u->pauses);
}

void
xvsd_vmq_shutdown(void)
{
	for (uint16_t s = 0; s < XVS_MAX_PORTS; s++)
		if (uplinks[s] != NULL) {
			uplink_free(uplinks[s]);
			uplinks[s] = NULL;
		}
	for (uint16_t i = 0; i < n_dying; i++)
		uplink_free(dying[i]);
	n_dying = 0;
}

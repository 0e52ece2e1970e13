/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The balancer loop (control thread): Dynamic VMQ's queue mover, issue 14.
 *
 * Every interval (a timerfd of its own in the control loop, main.c) it reads
 * each polled rx queue's busy cycles (struct xvs_rxq: any queue object, a
 * NIC queue, a tap queue, a virtqueue) and each software VMQ queue's
 * (xvsd_vmq_items: counted by the worker that runs its frames), turns their
 * delta into a busy share of one worker over the interval, and hands them to
 * the policy in the core (xvs_bal_step, core/balancer.h) with the time and the
 * workers' CPU topology passed in. The plan's moves are written on the queue
 * objects (bal_placed, bal_worker: they win over RSS placement in
 * switch.c's rss_plan; a VMQ queue's worker, xvsd_vmq_queue_move, which
 * changes its uplink's filters) and published as one snapshot: xvsd_publish takes a
 * moved queue away from its old poller first, waits for the grace period
 * (the old poller has flushed its tx buffers) and for the hand-off rings
 * to drain (handoff_fence), and only then gives it to the new one, so that a
 * move loses nothing and reorders nothing within a flow. Each move is logged
 * once with its numbers and counted. Workers left with no queue park
 * (worker.c): they sleep with no timeout until a snapshot gives them work.
 *
 * Time: the policy's clock is the count of timer expirations times the
 * interval (a late timer tick does not make the next sample "not due"); the
 * busy shares are measured over the TSC time between two samples.
 *
 * Settings (`xvsctl balancer set`, stored in the balancer_setting table,
 * restored at start): off by default, since it overrides RSS placement;
 * xvs_bal_cfg_check validates them against the workers started.
 *
 * The RSS conservative profile is the balancer's client while it is enabled:
 * its step runs inside the balancer's sample (rss_client), its change goes out
 * in the balancer's snapshot and is logged and counted here; its own
 * controller (xvsd_rss_tick) stands down. See doc/balancer.md for how this
 * differs from the full design (RETA groups as balancer queues).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "balancer.h"
#include "log.h"
#include "vmq_ctl.h"
#include "xvsd.h"

#define XVSD_BAL_HISTORY 16 /* last moves kept for balancer.show */

/* A balancer item of this sample: rx queue q of the port in slot, or (vmq)
 * the VMQ queue vmq_items[q]. */
struct bal_qref {
	bool vmq;
	uint16_t slot;
	uint16_t q;
};

/* A move as balancer.show lists it. */
struct bal_move_rec {
	char queue[88];                        /* port/queue, or UPLINK/vmqN (VMQ queue of PORT/K) */
	uint16_t from, to;
	double busy_pct, from_before, from_after, to_before, to_after;
	const char *reason;                    /* "spread" or "coalesce" */
	uint64_t sample;                       /* the sample it was planned on */
};

static struct {
	struct xvs_bal_cfg cfg;
	struct xvs_bal_state st;
	struct xvs_bal_plan plan;              /* the last sample's */
	struct xvs_bal_worker topo[XVS_MAX_WORKERS];
	int tfd;
	uint64_t ticks;                        /* timer expirations since (re)start */
	uint64_t prev_tsc;                     /* TSC of the last sample */
	bool sampled;                          /* prev_tsc and the queues' prev are set */
	uint64_t samples, moves, spreads, coalesces, publish_failed;
	uint64_t rss_deferred; /* samples whose moves gave way to an RSS client change */
	/* RSS conservative as the balancer's client (rss_client) */
	uint64_t rss_grows, rss_shrinks, rss_not_paid;
	uint64_t prev_busy[XVS_MAX_WORKERS], prev_total[XVS_MAX_WORKERS];
	uint64_t prev_rx[XVS_MAX_PORTS], prev_rx_tsc[XVS_MAX_PORTS]; /* per port: rate over its own window */
	const struct xvs_port *prev_rx_port[XVS_MAX_PORTS]; /* whose prev_rx (slots are reused) */
	char error[256];                       /* why the last sample failed ("" = fine) */
	struct bal_move_rec last[XVSD_BAL_HISTORY];
	uint32_t n_last;                       /* moves recorded, last[n_last % H] next */
} bal;

const struct xvs_bal_cfg *
xvsd_balancer_cfg(void)
{
	return &bal.cfg;
}

bool
xvsd_balancer_enabled(void)
{
	return bal.cfg.enabled;
}

/* A worker's physical core from sysfs (package << 10 | core_id); its CPU when
 * the topology cannot be read (then every worker is a core of its own). */
static uint16_t
cpu_core(uint16_t cpu)
{
	unsigned int core = cpu, pkg = 0;
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%u", &core) != 1)
		core = cpu;
	if (f != NULL)
		fclose(f);
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/topology/physical_package_id",
		 cpu);
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%u", &pkg) != 1)
		pkg = 0;
	if (f != NULL)
		fclose(f);
	return (uint16_t)(pkg << 10 | (core & 0x3ff));
}

static void
arm_timer(void)
{
	uint64_t ns = bal.cfg.interval_ns;
	struct itimerspec its = {
		.it_interval = {.tv_sec = (time_t)(ns / 1000000000u),
				.tv_nsec = (long)(ns % 1000000000u)},
	};

	its.it_value = its.it_interval;
	timerfd_settime(bal.tfd, 0, &its, NULL);
	bal.ticks = 0;
}

int
xvsd_balancer_init(void)
{
	xvs_bal_cfg_init(&bal.cfg);
	bal.cfg.enabled = false; /* opt-in: it overrides RSS placement */
	xvs_bal_state_init(&bal.st);
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		bal.topo[w].cpu = xvsd_worker_cpu(w);
		bal.topo[w].core_id = cpu_core(bal.topo[w].cpu);
	}
	bal.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (bal.tfd >= 0)
		arm_timer();
	return bal.tfd;
}

void
xvsd_balancer_close(void)
{
	if (bal.tfd >= 0)
		close(bal.tfd);
	bal.tfd = -1;
}

/* The controller of the conservative ports changes (the balancer's sample,
 * or xvsd_rss_tick's own): each growth under trial is judged afresh on the
 * new controller's windows (xvs_rss_cons_restart_trial), since the old
 * one's may have started before the growth. */
static void
rss_trials_restart(void)
{
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (xvsd.port[slot] != NULL)
			xvs_rss_cons_restart_trial(&xvsd.port[slot]->rss_cons);
}

/* Set every queue's placement flag to placed[] (NULL: clear them all, the
 * queues go back to where RSS puts them on the next publish), saving the
 * flags as they were in save[] (if not NULL). */
static void
set_placed(const bool (*placed)[XVS_MAX_QUEUES], bool (*save)[XVS_MAX_QUEUES])
{
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];

		if (p == NULL)
			continue;
		for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++) {
			if (save != NULL)
				save[slot][q] = p->rxq[q].bal_placed;
			p->rxq[q].bal_placed = placed != NULL && placed[slot][q];
			p->rxq[q].bal_moved = false;
		}
	}
}

/* This sample's VMQ queues (collect), valid until the plan is published. */
static struct xvsd_vmq_item vmq_items[XVS_BAL_QUEUES_MAX];

/* Every VMQ queue in use back to its placement at creation (back: false,
 * to where vmq_items[0..nv) says it was, after a failed publish). */
static void
vmq_unplace(unsigned int nv, bool back)
{
	for (unsigned int i = 0; i < nv; i++) {
		const struct xvsd_vmq_item *it = &vmq_items[i];
		int w = back ? xvsd_vmq_queue_placed(it->uplink, it->queue) : it->worker;
		struct xvs_err e;

		if (w < 0 || w == it->worker)
			continue;
		if (xvsd_vmq_queue_move(it->uplink, it->queue, (uint16_t)w, &e) < 0)
			XVS_WARN("balancer", "%s: %s", it->name, e.msg); /* e.g. its worker stopped */
		it->hold->moved = false;
	}
}

int
xvsd_balancer_apply(const struct xvs_bal_cfg *cfg, struct xvs_err *err)
{
	struct xvs_bal_cfg old = bal.cfg;

	bal.cfg = *cfg;
	if (cfg->interval_ns != old.interval_ns)
		arm_timer();
	if (cfg->enabled != old.enabled || cfg->interval_ns != old.interval_ns) {
		/* counters of a condition and the clock start over */
		xvs_bal_state_init(&bal.st);
		bal.ticks = 0;
		bal.sampled = false;
	}
	bal.error[0] = '\0';
	if (old.enabled && !cfg->enabled) {
		static bool placed[XVS_MAX_PORTS][XVS_MAX_QUEUES];
		unsigned int nv = xvsd_vmq_items(vmq_items, RTE_DIM(vmq_items));
		int r;

		set_placed(NULL, placed);
		/* VMQ queues too: back to their placement at creation, as rx
		 * queues go back to RSS's (one snapshot, fenced) */
		vmq_unplace(nv, true);
		r = xvsd_publish_err(err);
		if (r < 0) {
			/* all or nothing: the snapshot in force still has them */
			set_placed((const bool(*)[XVS_MAX_QUEUES])placed, NULL);
			vmq_unplace(nv, false);
			bal.cfg = old;
			return r;
		}
		rss_trials_restart();
		XVS_INFO("balancer", "disabled: queues back to their RSS placement, VMQ queues to "
			 "their placement at creation");
		return 0;
	}
	if (!old.enabled && cfg->enabled)
		rss_trials_restart();
	if (!old.enabled && cfg->enabled)
		XVS_INFO("balancer", "enabled (high %.0f%%, low %.0f%%, interval %llu ms, home "
			 "worker %u)", cfg->high_pct, cfg->low_pct,
			 (unsigned long long)(cfg->interval_ns / 1000000u), cfg->home_worker);
	return 0;
}

/* The port's worker count is the RSS conservative profile's (rss_client). */
static bool
rss_conservative_port(const struct xvs_port *p)
{
	return p->cfg.rss.enabled && p->rss_n_set >= 2 &&
	       p->cfg.rss.profile == XVS_RSS_CONSERVATIVE;
}

/* One controller per queue: while the conservative profile spreads a port
 * over more than one worker, RSS places its queues (set[q % k]); at one
 * worker (every port's start, and where an idle one shrinks back to) the
 * balancer does. */
static bool
rss_owns_queues(const struct xvs_port *p)
{
	return rss_conservative_port(p) && p->rss_n_active > 1;
}

/* The port's worker count changed: its queues go where RSS puts them with
 * the new count (the next publish), whatever the balancer placed. */
static void
rss_unplace(struct xvs_port *p)
{
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++) {
		p->rxq[q].bal_placed = false;
		p->rxq[q].bal_moved = false;
	}
}

/* Every polled queue on an active worker, then every VMQ queue in use (the
 * worker that runs its frames counts its busy cycles), with its busy share
 * since the last sample (dt_tsc ago); every queue's busy cycles become its
 * new baseline. */
static uint16_t
collect(uint64_t dt_tsc, uint16_t n_workers, struct bal_qref *ref, struct xvs_bal_queue *q)
{
	uint16_t nq = 0;
	unsigned int nv;

	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];

		if (p == NULL || !p->open)
			continue;
		bool pin = rss_owns_queues(p);

		for (uint16_t i = 0; i < p->n_rxq; i++) {
			struct xvs_rxq *rq = &p->rxq[i];
			struct xvs_rxq_counters c;

			/* A port spread by conservative RSS: the balancer counts
			 * its queues' load but does not move them, and drops a
			 * placement of its own (the next publish puts them
			 * where RSS does). */
			if (pin && rq->bal_placed) {
				rq->bal_placed = false;
				xvsd.republish = true;
			}

			xvsd_rxq_counters(p, i, &c);
			rq->bal_busy_pct = RTE_MIN(100.0, xvsd_busy_share(c.busy_tsc,
									  &rq->bal_prev_busy_tsc, dt_tsc));
			if (!rq->polled || rq->worker >= n_workers || nq >= XVS_BAL_QUEUES_MAX)
				continue;
			ref[nq] = (struct bal_qref){.slot = slot, .q = i};
			q[nq] = (struct xvs_bal_queue){.worker = rq->worker,
						       .busy_pct = rq->bal_busy_pct, .pinned = pin};
			/* the hold lives on the queue object: indexes here are per sample */
			bal.st.moved[nq] = rq->bal_moved;
			bal.st.moved_ns[nq] = rq->bal_moved_ns;
			nq++;
		}
	}
	nv = xvsd_vmq_items(vmq_items, RTE_DIM(vmq_items));
	for (unsigned int i = 0; i < nv; i++) {
		struct xvsd_bal_hold *h = vmq_items[i].hold;

		h->busy_pct = RTE_MIN(100.0, xvsd_busy_share(vmq_items[i].busy_tsc,
							     &h->prev_busy_tsc, dt_tsc));
		if (vmq_items[i].worker >= n_workers || nq >= XVS_BAL_QUEUES_MAX)
			continue;
		ref[nq] = (struct bal_qref){.vmq = true, .q = (uint16_t)i};
		q[nq] = (struct xvs_bal_queue){.worker = vmq_items[i].worker,
					       .busy_pct = h->busy_pct};
		bal.st.moved[nq] = h->moved;
		bal.st.moved_ns[nq] = h->moved_ns;
		nq++;
	}
	return nq;
}

/* Item r's placement: to worker `to` (place), or back as it was (!place:
 * to, placed). A VMQ queue's move goes through its uplink's filters, which
 * the publication fences (ctl/vmq.c). */
static void
item_place(const struct bal_qref *r, bool place, uint16_t to, bool placed)
{
	if (r->vmq) {
		struct xvsd_vmq_item *it = &vmq_items[r->q];
		struct xvs_err e;

		if (xvsd_vmq_queue_move(it->uplink, it->queue, to, &e) < 0)
			XVS_WARN("balancer", "%s: %s", it->name, e.msg); /* cannot happen */
		if (!place)
			it->hold->moved = false;
		return;
	}
	struct xvs_rxq *rq = &xvsd.port[r->slot]->rxq[r->q];

	rq->bal_placed = place || placed;
	rq->bal_worker = to;
	if (!place)
		rq->bal_moved = false;
}

static void
record(const char *qname, const struct xvs_bal_move *m, const struct xvs_bal_plan *pl)
{
	struct bal_move_rec *r = &bal.last[bal.n_last++ % XVSD_BAL_HISTORY];

	snprintf(r->queue, sizeof(r->queue), "%s", qname);
	r->from = m->from;
	r->to = m->to;
	r->busy_pct = m->busy_pct;
	r->from_before = pl->load_before[m->from];
	r->from_after = pl->load_after[m->from];
	r->to_before = pl->load_before[m->to];
	r->to_after = pl->load_after[m->to];
	r->reason = pl->reason == XVS_BAL_SPREAD ? "spread" : "coalesce";
	r->sample = bal.samples;
}

/* Each worker's busy % (whole worker: hand-off work included) over the last
 * dt_tsc, into busy[]; the baselines move on. */
static void
worker_busy(double *busy)
{
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_worker *wk = xvs_dp.worker[w];
		uint64_t b = wk->busy_tsc, tot = b + wk->idle_tsc + wk->sleep_tsc;
		uint64_t db = b - bal.prev_busy[w], dt = tot - bal.prev_total[w];

		busy[w] = dt > 0 ? RTE_MIN(100.0, 100.0 * (double)db / (double)dt) : 0.0;
		bal.prev_busy[w] = b;
		bal.prev_total[w] = tot;
	}
}

/* A port's frames through the pipeline per second since its own last
 * reading (as xvsd_rss_tick measures them: not those lost at hand-off); the
 * reading becomes the baseline. Over the port's own window, not the
 * sample's: a sample that did not read it (not due, a failed step) must not
 * inflate the next rate. */
static double
port_rx_pps(const struct xvs_port *p, uint64_t now_tsc)
{
	uint64_t rx = 0, prev = bal.prev_rx[p->slot];
	uint64_t dt_tsc = now_tsc - bal.prev_rx_tsc[p->slot];
	bool known = bal.prev_rx_port[p->slot] == p;

	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++)
		rx += xvs_dp.worker[w]->ctr[p->slot].rx_packets -
		      xvs_dp.worker[w]->ctr[p->slot].drop[XVS_DROP_rss_ring_full];
	bal.prev_rx[p->slot] = rx;
	bal.prev_rx_tsc[p->slot] = now_tsc;
	bal.prev_rx_port[p->slot] = p;
	if (!known || dt_tsc == 0 || rx < prev)
		return 0.0;
	return (double)(rx - prev) * (double)xvs_dp.tsc_hz / (double)dt_tsc;
}

/* RSS conservative as a client of the balancer: on each due sample, each
 * conservative port's step (grow / shrink its software spread, the growth
 * trial, the hold) runs here, at the balancer's interval, from the
 * workers' busy % over the interval, and its change goes out in the
 * balancer's snapshot, logged under "balancer" and counted here. Its own
 * controller (xvsd_rss_tick) stands down while the balancer is on. Returns
 * whether some port's worker count changed. (The full design, each RETA
 * group a balancer queue, is not done: doc/balancer.md.) */
static bool
rss_client(const double *busy, uint64_t now_tsc, uint64_t now_ns)
{
	bool changed = false;

	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];
		enum xvs_rss_cons_verdict v;
		double pps;
		bool ch;

		if (p == NULL || !p->open)
			continue;
		pps = port_rx_pps(p, now_tsc);
		if (!rss_conservative_port(p))
			continue;
		v = xvsd_rss_conservative(p, busy, pps, now_ns, "balancer", &ch);
		bal.rss_grows += v == XVS_RSS_CONS_GROW;
		bal.rss_shrinks += v == XVS_RSS_CONS_SHRINK;
		bal.rss_not_paid += v == XVS_RSS_CONS_NOT_PAID;
		if (ch)
			rss_unplace(p); /* else a hardware-RSS port's growth moves nothing */
		changed |= ch;
	}
	return changed;
}

void
xvsd_balancer_tick(void)
{
	static struct bal_qref ref[XVS_BAL_QUEUES_MAX];
	static struct xvs_bal_queue q[XVS_BAL_QUEUES_MAX];
	const struct xvs_snapshot *s = atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
	struct xvs_bal_plan *pl = &bal.plan;
	uint64_t exp = 0, now_tsc = rte_rdtsc(), dt;
	uint16_t n = s->n_workers, nq;
	bool first = !bal.sampled, rss_changed;
	double busy[XVS_MAX_WORKERS];
	struct xvs_err e;

	if (bal.tfd >= 0 && read(bal.tfd, &exp, sizeof(exp)) == sizeof(exp))
		bal.ticks += exp;
	dt = now_tsc - bal.prev_tsc;
	bal.prev_tsc = now_tsc;
	bal.sampled = true;
	nq = collect(first ? 0 : dt, n, ref, q);
	worker_busy(busy);
	if (!bal.cfg.enabled || first) {
		for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
			if (xvsd.port[slot] != NULL)
				port_rx_pps(xvsd.port[slot], now_tsc); /* baselines */
		return;
	}
	if (xvs_bal_step(&bal.cfg, &bal.st, bal.topo, n, q, nq, bal.ticks * bal.cfg.interval_ns,
			 pl, &e) < 0) {
		if (strcmp(bal.error, e.msg) != 0)
			XVS_WARN("balancer", "not balancing: %s", e.msg);
		snprintf(bal.error, sizeof(bal.error), "%s", e.msg);
		/* the RSS client does not depend on the plan: it goes on (its
		 * own controller stands down while the balancer is enabled) */
		if (rss_client(busy, now_tsc, xvs_now_ns()) && xvsd_publish() < 0)
			xvsd.republish = true;
		return;
	}
	bal.error[0] = '\0';
	if (!pl->due)
		return;
	bal.samples++;
	/* its hold is in real time, as when it runs alone (it may switch) */
	rss_changed = rss_client(busy, now_tsc, xvs_now_ns());
	/* One decision per sample: a port's worker count changed, so this
	 * sample's plan (made from loads measured before it) is dropped: the
	 * holds it would set are not kept, and the next sample plans from loads
	 * measured with the new count. Otherwise a queue moved onto the worker
	 * the port just grew onto makes the growth look unpaid. */
	if (rss_changed) {
		bal.rss_deferred++;
		if (xvsd_publish() < 0) {
			bal.publish_failed++;
			xvsd.republish = true; /* the new worker count goes out later */
		}
		return;
	}
	for (uint16_t i = 0; i < nq; i++) {
		bool *moved;
		uint64_t *moved_ns;

		if (ref[i].vmq) {
			moved = &vmq_items[ref[i].q].hold->moved;
			moved_ns = &vmq_items[ref[i].q].hold->moved_ns;
		} else {
			moved = &xvsd.port[ref[i].slot]->rxq[ref[i].q].bal_moved;
			moved_ns = &xvsd.port[ref[i].slot]->rxq[ref[i].q].bal_moved_ns;
		}
		*moved = bal.st.moved[i];
		*moved_ns = bal.st.moved_ns[i];
	}
	if (pl->n_moves == 0)
		return;
	bool was_placed[XVS_BAL_QUEUES_MAX];
	uint16_t was_worker[XVS_BAL_QUEUES_MAX];

	static char qname[XVS_BAL_QUEUES_MAX][88];

	for (uint16_t i = 0; i < pl->n_moves; i++) {
		const struct bal_qref *r = &ref[pl->moves[i].queue];

		if (r->vmq) {
			const struct xvsd_vmq_item *it = &vmq_items[r->q];

			/* named now: the publish may retire the uplink's objects */
			snprintf(qname[i], sizeof(qname[i]), "%s (VMQ queue of %s)", it->name,
				 it->owner);
			was_placed[i] = false;
			was_worker[i] = it->worker;
		} else {
			const struct xvs_port *p = xvsd.port[r->slot];

			snprintf(qname[i], sizeof(qname[i]), "%s/%u", p->cfg.name, r->q);
			was_placed[i] = p->rxq[r->q].bal_placed;
			was_worker[i] = p->rxq[r->q].bal_worker;
		}
		item_place(r, true, pl->moves[i].to, true);
	}
	/* one snapshot for the whole plan: rx queues and VMQ queues together */
	if (xvsd_publish() < 0) {
		for (uint16_t i = 0; i < pl->n_moves; i++)
			item_place(&ref[pl->moves[i].queue], false, was_worker[i], was_placed[i]);
		bal.publish_failed++;
		XVS_WARN("balancer", "%u queue move(s) not applied: no memory for the snapshot; "
			 "next interval", pl->n_moves);
		return;
	}
	if (pl->reason == XVS_BAL_SPREAD)
		bal.spreads++;
	else
		bal.coalesces++;
	for (uint16_t i = 0; i < pl->n_moves; i++) {
		const struct xvs_bal_move *m = &pl->moves[i];

		bal.moves++;
		record(qname[i], m, pl);
		XVS_INFO("balancer", "queue %s moved worker %u -> %u (%s; queue busy %.1f%%; worker "
			 "%u %.1f%% -> %.1f%%, worker %u %.1f%% -> %.1f%%)", qname[i], m->from, m->to,
			 pl->reason == XVS_BAL_SPREAD ? "spread" : "coalesce", m->busy_pct, m->from,
			 pl->load_before[m->from], pl->load_after[m->from], m->to,
			 pl->load_before[m->to], pl->load_after[m->to]);
	}
}

json_t *
xvsd_balancer_json(void)
{
	const struct xvs_snapshot *s = atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
	json_t *set = json_object(), *ws = json_array(), *mv = json_array();
	char val[32];

	for (const char *const *k = xvs_bal_cfg_keys; *k != NULL; k++)
		if (xvs_bal_cfg_get(&bal.cfg, *k, val, sizeof(val)) == 0)
			json_object_set_new(set, *k, json_string(val));
	unsigned int nv = xvsd_vmq_items(vmq_items, RTE_DIM(vmq_items));

	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		uint16_t nrx = w < s->n_workers ? s->worker[w].n_rxq : 0, nvmq = 0;
		double load = 0;

		for (unsigned int i = 0; i < nv; i++)
			if (vmq_items[i].worker == w) {
				nvmq++;
				load += vmq_items[i].hold->busy_pct;
			}
		for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
			const struct xvs_port *p = xvsd.port[slot];

			for (uint16_t i = 0; p != NULL && p->open && i < p->n_rxq; i++)
				if (p->rxq[i].polled && p->rxq[i].worker == w)
					load += p->rxq[i].bal_busy_pct;
		}
		json_array_append_new(
			ws, json_pack("{s:i,s:i,s:i,s:b,s:i,s:i,s:f,s:b}", "worker", w, "cpu",
				      bal.topo[w].cpu, "core", bal.topo[w].core_id, "active",
				      w < s->n_workers, "queues", nrx + nvmq, "vmq_queues", nvmq,
				      "load_pct", load, "parked",
				      atomic_load_explicit(&xvs_dp.worker[w]->parked,
							   memory_order_relaxed)));
	}
	for (uint32_t i = bal.n_last > XVSD_BAL_HISTORY ? bal.n_last - XVSD_BAL_HISTORY : 0;
	     i < bal.n_last; i++) {
		const struct bal_move_rec *r = &bal.last[i % XVSD_BAL_HISTORY];

		json_array_append_new(
			mv, json_pack("{s:s,s:i,s:i,s:s,s:f,s:f,s:f,s:f,s:f,s:I}", "queue", r->queue,
				      "from", r->from, "to", r->to, "reason", r->reason, "busy_pct",
				      r->busy_pct, "from_before", r->from_before, "from_after",
				      r->from_after, "to_before", r->to_before, "to_after",
				      r->to_after, "sample", (json_int_t)r->sample));
	}
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I},s:s,s:o,s:o}", "settings",
			 set, "samples",
			 (json_int_t)bal.samples, "moves", (json_int_t)bal.moves, "spreads",
			 (json_int_t)bal.spreads, "coalesces", (json_int_t)bal.coalesces,
			 "publish_failed", (json_int_t)bal.publish_failed, "fences",
			 (json_int_t)xvsd.fences, "rss_conservative", "grows",
			 (json_int_t)bal.rss_grows, "shrinks", (json_int_t)bal.rss_shrinks, "not_paid",
			 (json_int_t)bal.rss_not_paid, "moves_deferred", (json_int_t)bal.rss_deferred,
			 "error", bal.error, "workers", ws, "last_moves", mv);
}

/* ---- restore ---- */

static int
restore_one(const char *key, const char *value, void *arg)
{
	struct xvs_bal_cfg *cfg = arg;
	struct xvs_err e;

	if (xvs_bal_cfg_set(cfg, key, value, &e) < 0)
		XVS_WARN("store", "balancer setting %s=%s not restored: %s", key, value, e.msg);
	return 0;
}

uint16_t
xvsd_workers_active(void)
{
	return (uint16_t)RTE_MIN(xvsd.sw.workers, xvs_dp.n_workers_max);
}

int
xvsd_balancer_restore(struct xvs_err *err)
{
	struct xvs_bal_cfg cfg = bal.cfg;
	struct xvs_err e;
	int r;

	r = xvs_store_load_balancer(xvsd.store, restore_one, &cfg, err);
	if (r < 0)
		return r;
	if (xvs_bal_cfg_check(&cfg, xvsd_workers_active(), &e) < 0) {
		/* e.g. home-worker=3 stored, fewer workers active now */
		XVS_WARN("store", "balancer settings not restored: %s", e.msg);
		return 0;
	}
	return xvsd_balancer_apply(&cfg, err);
}

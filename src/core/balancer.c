/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dynamic queue balancer's policy and the VMQ queue pool (core, no DPDK).
 * The policy is described in balancer.h and doc/balancer.md. Hand-written:
 * DPDK has no queue-placement policy (OVS's pmd-auto-lb, the nearest, lives
 * inside dpif-netdev and never gives a core back).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "balancer.h"
#include "config.h"

void
xvs_bal_cfg_init(struct xvs_bal_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->high_pct = 80.0;
	cfg->low_pct = 20.0;
	cfg->interval_ns = UINT64_C(1000000000);
	cfg->hysteresis = 2;
	cfg->hold_intervals = 3;
	cfg->home_worker = 0;
	cfg->cores_first = true;
}

const char *const xvs_bal_cfg_keys[] = {
	"enabled", "high", "low", "interval-ms", "hysteresis", "hold-intervals", "home-worker",
	"cores-first", NULL,
};

int
xvs_bal_cfg_set(struct xvs_bal_cfg *cfg, const char *key, const char *value,
		struct xvs_err *err)
{
	uint32_t v;
	int r;

	if (strcmp(key, "enabled") == 0)
		return xvs_bool_parse("balancer: enabled", value, &cfg->enabled, err);
	if (strcmp(key, "cores-first") == 0)
		return xvs_bool_parse("balancer: cores-first", value, &cfg->cores_first, err);
	if (strcmp(key, "high") == 0 || strcmp(key, "low") == 0) {
		r = xvs_u32_parse(key[0] == 'h' ? "balancer: high" : "balancer: low", value, 0, 100,
				  &v, err);
		if (r == 0)
			*(key[0] == 'h' ? &cfg->high_pct : &cfg->low_pct) = v;
		return r;
	}
	if (strcmp(key, "interval-ms") == 0) {
		r = xvs_u32_parse("balancer: interval-ms", value, 1, 60000, &v, err);
		if (r == 0)
			cfg->interval_ns = (uint64_t)v * 1000000u;
		return r;
	}
	if (strcmp(key, "hysteresis") == 0) {
		r = xvs_u32_parse("balancer: hysteresis", value, 1, 100, &v, err);
		if (r == 0)
			cfg->hysteresis = (uint16_t)v;
		return r;
	}
	if (strcmp(key, "hold-intervals") == 0) {
		r = xvs_u32_parse("balancer: hold-intervals", value, 0, 1000, &v, err);
		if (r == 0)
			cfg->hold_intervals = (uint16_t)v;
		return r;
	}
	if (strcmp(key, "home-worker") == 0) {
		r = xvs_u32_parse("balancer: home-worker", value, 0, XVS_BAL_WORKERS_MAX - 1, &v,
				  err);
		if (r == 0)
			cfg->home_worker = (uint16_t)v;
		return r;
	}
	return xvs_err_set(err, -EINVAL,
			   "balancer: unknown setting \"%.64s\" (enabled, high, low, interval-ms, "
			   "hysteresis, hold-intervals, home-worker, cores-first)", key);
}

int
xvs_bal_cfg_get(const struct xvs_bal_cfg *cfg, const char *key, char *buf, unsigned len)
{
	if (strcmp(key, "enabled") == 0)
		snprintf(buf, len, "%s", cfg->enabled ? "on" : "off");
	else if (strcmp(key, "cores-first") == 0)
		snprintf(buf, len, "%s", cfg->cores_first ? "on" : "off");
	else if (strcmp(key, "high") == 0)
		snprintf(buf, len, "%.0f", cfg->high_pct);
	else if (strcmp(key, "low") == 0)
		snprintf(buf, len, "%.0f", cfg->low_pct);
	else if (strcmp(key, "interval-ms") == 0)
		snprintf(buf, len, "%llu", (unsigned long long)(cfg->interval_ns / 1000000u));
	else if (strcmp(key, "hysteresis") == 0)
		snprintf(buf, len, "%u", cfg->hysteresis);
	else if (strcmp(key, "hold-intervals") == 0)
		snprintf(buf, len, "%u", cfg->hold_intervals);
	else if (strcmp(key, "home-worker") == 0)
		snprintf(buf, len, "%u", cfg->home_worker);
	else
		return -ENOENT;
	return 0;
}

int
xvs_bal_cfg_check(const struct xvs_bal_cfg *cfg, uint16_t n_workers, struct xvs_err *err)
{
	if (!(cfg->high_pct > 0.0 && cfg->high_pct <= 100.0))
		return xvs_err_set(err, -EINVAL, "balancer: high %.1f%% outside (0, 100]",
				   cfg->high_pct);
	if (!(cfg->low_pct >= 0.0 && cfg->low_pct < cfg->high_pct))
		return xvs_err_set(err, -EINVAL,
				   "balancer: low %.1f%% must be at least 0 and below high %.1f%%",
				   cfg->low_pct, cfg->high_pct);
	if (cfg->interval_ns == 0)
		return xvs_err_set(err, -EINVAL, "balancer: interval must be above 0");
	if (cfg->hysteresis == 0)
		return xvs_err_set(err, -EINVAL, "balancer: hysteresis must be at least 1 sample");
	if (n_workers == 0 || n_workers > XVS_BAL_WORKERS_MAX)
		return xvs_err_set(err, -EINVAL, "balancer: %u workers (1..%d)", n_workers,
				   XVS_BAL_WORKERS_MAX);
	if (cfg->home_worker >= n_workers)
		return xvs_err_set(err, -EINVAL,
				   "balancer: home worker %u does not exist (workers 0..%u)",
				   cfg->home_worker, n_workers - 1);
	return 0;
}

void
xvs_bal_state_init(struct xvs_bal_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
xvs_bal_queue_forget(struct xvs_bal_state *st, uint16_t q)
{
	if (q < XVS_BAL_QUEUES_MAX)
		st->moved[q] = false;
}

/* Is worker i the first (lowest CPU, then lowest index) of its core? */
static bool
is_primary(const struct xvs_bal_worker *w, uint16_t n, uint16_t i)
{
	for (uint16_t j = 0; j < n; j++)
		if (j != i && w[j].core_id == w[i].core_id &&
		    (w[j].cpu < w[i].cpu || (w[j].cpu == w[i].cpu && j < i)))
			return false;
	return true;
}

void
xvs_bal_order(const struct xvs_bal_cfg *cfg, const struct xvs_bal_worker *w, uint16_t n,
	      uint16_t *out)
{
	uint16_t k = 0;
	bool used[XVS_BAL_WORKERS_MAX] = {false};

	if (n > XVS_BAL_WORKERS_MAX)
		n = XVS_BAL_WORKERS_MAX;
	if (cfg->home_worker < n) {
		out[k++] = cfg->home_worker;
		used[cfg->home_worker] = true;
	}
	/* Two rounds (primaries, then siblings) of selection by (cpu, index):
	 * n is at most a few dozen. */
	for (int round = 0; round < 2; round++) {
		for (;;) {
			int best = -1;

			for (uint16_t i = 0; i < n; i++) {
				if (used[i])
					continue;
				if (cfg->cores_first && round == 0 && !is_primary(w, n, i))
					continue;
				if (best < 0 || w[i].cpu < w[best].cpu)
					best = i;
			}
			if (best < 0)
				break;
			used[best] = true;
			out[k++] = (uint16_t)best;
		}
	}
}

struct bal_ctx {
	uint16_t n, nq;
	uint16_t order[XVS_BAL_WORKERS_MAX];
	uint16_t count[XVS_BAL_WORKERS_MAX];  /* queues on the worker (planned) */
	uint16_t where[XVS_BAL_QUEUES_MAX];   /* planned worker of each queue */
	bool moved_now[XVS_BAL_QUEUES_MAX];
};

/* Queue qi may not move on this sample: pinned, or moved too recently. */
static bool
held(const struct xvs_bal_cfg *cfg, const struct xvs_bal_state *st, const struct xvs_bal_queue *q,
     uint16_t qi, uint64_t now)
{
	uint64_t hold = (uint64_t)cfg->hold_intervals * cfg->interval_ns;

	if (q[qi].pinned)
		return true;
	return st->moved[qi] && now - st->moved_ns[qi] < hold;
}

static void
plan_move(struct bal_ctx *c, struct xvs_bal_plan *plan, const struct xvs_bal_queue *q,
	  uint16_t qi, uint16_t to)
{
	uint16_t from = c->where[qi];
	struct xvs_bal_move *m = &plan->moves[plan->n_moves++];

	m->queue = qi;
	m->from = from;
	m->to = to;
	m->busy_pct = q[qi].busy_pct;
	plan->load_after[from] -= q[qi].busy_pct;
	plan->load_after[to] += q[qi].busy_pct;
	c->count[from]--;
	c->count[to]++;
	c->where[qi] = to;
	c->moved_now[qi] = true;
}

/* Levels within this of each other are a tie: sums of busy shares differ in
 * their last bits with the order of the additions. */
#define BAL_TIE_PCT 1e-6

/* The best levelling move off worker src (see balancer.h), or false. */
static bool
best_spread(const struct xvs_bal_cfg *cfg, const struct xvs_bal_state *st, struct bal_ctx *c,
	    const struct xvs_bal_plan *plan, const struct xvs_bal_queue *q, uint16_t src,
	    uint64_t now, uint16_t *best_q, uint16_t *best_t)
{
	const double *load = plan->load_after;
	double best = load[src], best_src = load[src];
	bool best_parked = false, found = false;
	int first_parked = -1;

	for (uint16_t r = 0; r < c->n; r++)
		if (c->count[c->order[r]] == 0) {
			first_parked = c->order[r];
			break;
		}
	for (uint16_t r = 0; r < c->n; r++) {
		uint16_t t = c->order[r];
		bool parked = c->count[t] == 0;

		if (t == src || (parked && t != first_parked))
			continue;
		for (uint16_t qi = 0; qi < c->nq; qi++) {
			double a, b, worst;
			bool tie;

			if (c->where[qi] != src || c->moved_now[qi] || held(cfg, st, q, qi, now))
				continue;
			a = load[src] - q[qi].busy_pct;
			b = load[t] + q[qi].busy_pct;
			worst = a > b ? a : b;
			tie = found && worst <= best + BAL_TIE_PCT && worst >= best - BAL_TIE_PCT;
			/* Strictly better levels; on a tie, an active worker
			 * beats waking a parked one, then the move that takes
			 * the most off the source: the busiest queue goes (a
			 * busy VM's queue rather than the uplink's beside it,
			 * as Dynamic VMQ moves the queue that loads the core). */
			if (worst < best - BAL_TIE_PCT || (tie && best_parked && !parked) ||
			    (tie && parked == best_parked && a < best_src - BAL_TIE_PCT)) {
				best = worst;
				best_src = a;
				best_parked = parked;
				*best_q = qi;
				*best_t = t;
				found = true;
			}
		}
	}
	return found;
}

static void
spread(const struct xvs_bal_cfg *cfg, const struct xvs_bal_state *st, struct bal_ctx *c,
       struct xvs_bal_plan *plan, const struct xvs_bal_queue *q, uint64_t now)
{
	/* Busiest overloaded worker first, one move at a time, until no
	 * overloaded worker has a levelling move left. */
	bool stuck[XVS_BAL_WORKERS_MAX] = {false};

	for (;;) {
		int src = -1;
		uint16_t qi, t;

		for (uint16_t i = 0; i < c->n; i++)
			if (!stuck[i] && st->over[i] >= cfg->hysteresis &&
			    plan->load_after[i] > cfg->high_pct &&
			    (src < 0 || plan->load_after[i] > plan->load_after[src]))
				src = i;
		if (src < 0)
			return;
		if (best_spread(cfg, st, c, plan, q, (uint16_t)src, now, &qi, &t))
			plan_move(c, plan, q, qi, t);
		else
			stuck[src] = true;
	}
}

/* A coalesce judges by smoothed load (st->mean, weight XVS_BAL_MEAN_NEW for
 * the newest sample), the larger of it and the sample: a load that sits
 * between low and high with noise dips below low now and then, and packing
 * on such a dip gives a worker the whole load back, which its next spike
 * spreads again: a queue flapping every few seconds. Spreading still acts on
 * the samples (fast). */
#define XVS_BAL_MEAN_NEW 0.2

static inline double
max_d(double a, double b)
{
	return a > b ? a : b;
}

static void
coalesce(const struct xvs_bal_cfg *cfg, const struct xvs_bal_state *st, struct bal_ctx *c,
	 struct xvs_bal_plan *plan, const struct xvs_bal_queue *q, uint64_t now)
{
	double pack = (cfg->low_pct + cfg->high_pct) / 2.0;

	/* From the last worker in order backwards; never the home worker. */
	for (int r = c->n - 1; r > 0; r--) {
		uint16_t src = c->order[r];
		uint16_t to[XVS_BAL_QUEUES_MAX];
		double add[XVS_BAL_WORKERS_MAX] = {0};
		bool ok = true;

		double src_mean = max_d(st->mean[src], plan->load_before[src]);

		if (c->count[src] == 0 || st->under[src] < cfg->hysteresis)
			continue;
		/* Place every queue (first fit in order); all or none. */
		for (uint16_t qi = 0; qi < c->nq && ok; qi++) {
			if (c->where[qi] != src)
				continue;
			if (c->moved_now[qi] || held(cfg, st, q, qi, now)) {
				ok = false;
				break;
			}
			ok = false;
			for (int rt = 0; rt < r; rt++) {
				uint16_t t = c->order[rt];

				if (c->count[t] == 0 && rt != 0)
					continue; /* never wake a worker to park another */
				/* the queue's share of its worker's smoothed load */
				double ql = plan->load_before[src] > 0.0
						    ? q[qi].busy_pct * src_mean / plan->load_before[src]
						    : src_mean / c->count[src];

				if (max_d(plan->load_after[t], st->mean[t]) + add[t] + ql <= pack) {
					add[t] += ql;
					to[qi] = t;
					ok = true;
					break;
				}
			}
		}
		if (!ok)
			continue;
		for (uint16_t qi = 0; qi < c->nq; qi++)
			if (c->where[qi] == src)
				plan_move(c, plan, q, qi, to[qi]);
	}
}

int
xvs_bal_step(const struct xvs_bal_cfg *cfg, struct xvs_bal_state *st,
	     const struct xvs_bal_worker *w, uint16_t n, const struct xvs_bal_queue *q,
	     uint16_t nq, uint64_t now_ns, struct xvs_bal_plan *plan, struct xvs_err *err)
{
	struct bal_ctx c; /* about 2 KiB */
	int rc;

	plan->due = false;
	plan->n_moves = 0;
	plan->n_parked = 0;
	rc = xvs_bal_cfg_check(cfg, n, err);
	if (rc < 0)
		return rc;
	if (nq > XVS_BAL_QUEUES_MAX)
		return xvs_err_set(err, -EINVAL, "balancer: %u queues (at most %d)", nq,
				   XVS_BAL_QUEUES_MAX);
	for (uint16_t i = 0; i < nq; i++)
		if (q[i].worker >= n)
			return xvs_err_set(err, -EINVAL,
					   "balancer: queue %u is on worker %u, which does not exist",
					   i, q[i].worker);
	if (st->started && now_ns - st->last_ns < cfg->interval_ns)
		return 0;
	st->started = true;
	st->last_ns = now_ns;
	plan->due = true;

	memset(&c, 0, sizeof(c));
	c.n = n;
	c.nq = nq;
	xvs_bal_order(cfg, w, n, c.order);
	for (uint16_t i = 0; i < n; i++)
		plan->load_before[i] = 0.0;
	for (uint16_t i = 0; i < nq; i++) {
		plan->load_before[q[i].worker] += q[i].busy_pct;
		c.count[q[i].worker]++;
		c.where[i] = q[i].worker;
	}
	memcpy(plan->load_after, plan->load_before, sizeof(plan->load_before[0]) * n);

	if (!cfg->enabled) {
		memset(st->over, 0, sizeof(st->over));
		memset(st->under, 0, sizeof(st->under));
		memset(st->mean, 0, sizeof(st->mean));
		return 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		st->mean[i] = XVS_BAL_MEAN_NEW * plan->load_before[i] +
			      (1.0 - XVS_BAL_MEAN_NEW) * st->mean[i];
		st->over[i] = plan->load_before[i] > cfg->high_pct ? st->over[i] + 1 : 0;
		st->under[i] = plan->load_before[i] < cfg->low_pct ? st->under[i] + 1 : 0;
		if (st->over[i] > cfg->hysteresis)
			st->over[i] = cfg->hysteresis;
		if (st->under[i] > cfg->hysteresis)
			st->under[i] = cfg->hysteresis;
	}

	spread(cfg, st, &c, plan, q, now_ns);
	if (plan->n_moves > 0) {
		plan->reason = XVS_BAL_SPREAD;
	} else {
		coalesce(cfg, st, &c, plan, q, now_ns);
		plan->reason = XVS_BAL_COALESCE;
	}
	for (uint16_t m = 0; m < plan->n_moves; m++) {
		uint16_t qi = plan->moves[m].queue;

		st->moved[qi] = true;
		st->moved_ns[qi] = now_ns;
		/* A worker that gave or took load starts its counts over. */
		st->over[plan->moves[m].from] = st->under[plan->moves[m].from] = 0;
		st->over[plan->moves[m].to] = st->under[plan->moves[m].to] = 0;
	}
	for (uint16_t i = 0; i < n; i++)
		if (c.count[i] == 0)
			plan->parked[plan->n_parked++] = i;
	return 0;
}

/* VMQ queue pool. */

int
xvs_vmq_pool_init(struct xvs_vmq_pool *p, uint16_t n_queues, struct xvs_err *err)
{
	if (n_queues > XVS_VMQ_QUEUES_MAX)
		return xvs_err_set(err, -EINVAL, "vmq-queues %u is over %d", n_queues,
				   XVS_VMQ_QUEUES_MAX);
	memset(p, 0, sizeof(*p));
	p->n_queues = n_queues;
	for (uint16_t i = 0; i <= XVS_VMQ_QUEUES_MAX; i++)
		p->owner[i] = XVS_VMQ_NONE;
	return 0;
}

static int
find_waiter(const struct xvs_vmq_pool *p, uint32_t port)
{
	for (uint32_t i = 0; i < p->n_wait; i++)
		if (p->wait[i].port == port)
			return (int)i;
	return -1;
}

static uint16_t
find_queue(const struct xvs_vmq_pool *p, uint32_t port)
{
	for (uint16_t i = 1; i <= p->n_queues; i++)
		if (p->owner[i] == port)
			return i;
	return 0;
}

int
xvs_vmq_request(struct xvs_vmq_pool *p, uint32_t port, uint8_t weight,
		struct xvs_vmq_alloc *out, struct xvs_err *err)
{
	out->queue = XVS_VMQ_DEFAULT_QUEUE;
	out->status = XVS_VMQ_SHARED_EXHAUSTED;
	if (weight > XVS_VMQ_WEIGHT_MAX)
		return xvs_err_set(err, -EINVAL, "vmq-weight %u is over %d", weight,
				   XVS_VMQ_WEIGHT_MAX);
	if (port == XVS_VMQ_NONE)
		return xvs_err_set(err, -EINVAL, "vmq: port index %u is reserved", port);
	if (find_queue(p, port) != 0 || find_waiter(p, port) >= 0)
		return xvs_err_set(err, -EEXIST, "vmq: port %u already asked for a queue", port);
	if (weight == 0) {
		out->status = XVS_VMQ_SHARED_WEIGHT0;
		return 0;
	}
	for (uint16_t i = 1; i <= p->n_queues; i++)
		if (p->owner[i] == XVS_VMQ_NONE) {
			p->owner[i] = port;
			out->queue = i;
			out->status = XVS_VMQ_OWN;
			return 0;
		}
	if (p->n_wait >= XVS_VMQ_WAIT_MAX)
		return xvs_err_set(err, -ENOSPC, "vmq: %d ports already wait for a queue",
				   XVS_VMQ_WAIT_MAX);
	p->wait[p->n_wait].port = port;
	p->wait[p->n_wait].weight = weight;
	p->wait[p->n_wait].seq = p->seq++;
	p->n_wait++;
	p->exhausted++;
	return 0;
}

uint16_t
xvs_vmq_release(struct xvs_vmq_pool *p, uint32_t port, uint32_t *to_port)
{
	uint16_t qn = find_queue(p, port);
	int w = find_waiter(p, port), best = -1;

	*to_port = XVS_VMQ_NONE;
	if (w >= 0) {
		p->wait[w] = p->wait[--p->n_wait];
		return 0;
	}
	if (qn == 0)
		return 0;
	p->owner[qn] = XVS_VMQ_NONE;
	/* Highest weight, then earliest arrival. */
	for (uint32_t i = 0; i < p->n_wait; i++)
		if (best < 0 || p->wait[i].weight > p->wait[best].weight ||
		    (p->wait[i].weight == p->wait[best].weight &&
		     p->wait[i].seq < p->wait[best].seq))
			best = (int)i;
	if (best >= 0) {
		p->owner[qn] = p->wait[best].port;
		*to_port = p->wait[best].port;
		p->wait[best] = p->wait[--p->n_wait];
	}
	return qn;
}

int
xvs_vmq_lookup(const struct xvs_vmq_pool *p, uint32_t port, struct xvs_vmq_alloc *out)
{
	uint16_t qn = find_queue(p, port);

	if (qn != 0) {
		out->queue = qn;
		out->status = XVS_VMQ_OWN;
		return 0;
	}
	if (find_waiter(p, port) >= 0) {
		out->queue = XVS_VMQ_DEFAULT_QUEUE;
		out->status = XVS_VMQ_SHARED_EXHAUSTED;
		return 0;
	}
	return -ENOENT;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dynamic queue balancer's policy and the VMQ queue pool (core, no DPDK).
 *
 * Dynamic VMQ (doc/balancer.md, FEATURES.md §3): queues (the unit of receive
 * work) are placed on workers. The control thread measures each queue's busy
 * share over an interval and calls xvs_bal_step() once per sample; the step
 * returns a plan, a list of moves queue -> worker to be published together as
 * one snapshot, and the workers left with no queue, which park. Nothing here
 * reads a clock, sleeps or touches DPDK: time and load are passed in, so the
 * tests drive it with synthetic traces.
 *
 * Policy, per sample that is due (at least cfg.interval_ns after the last):
 *  - Load of a worker = sum of the busy % of the queues on it (a queue's busy
 *    share follows it when it moves; a queue is never split).
 *  - Spread: a worker above cfg.high_pct for cfg.hysteresis consecutive
 *    samples gives away the one queue, and picks the target worker, that
 *    minimise the larger of the two resulting loads (the move that best
 *    levels the load). Targets are the workers that already have queues and
 *    the first parked worker in topology order; on a tie an active worker
 *    beats waking a parked one, then the move that leaves the source lowest
 *    (the busier queue goes), then topology order decides. A move is made
 *    only if it lowers the source's load below what it was (a lone queue on a
 *    worker stays). Repeated while overloaded workers remain.
 *  - Coalesce: a worker other than home whose load stayed below cfg.low_pct
 *    for cfg.hysteresis consecutive samples, when no spread happened in this
 *    sample, hands all its queues to workers earlier in topology order (home
 *    first), each target staying at or below the pack limit, the midpoint of
 *    low and high (so coalescing cannot push a worker straight back over
 *    high). All of its queues move or none do: half-emptying a worker saves
 *    no core. Workers are emptied from the last in order backwards.
 *  - Hold: a queue moved at time t is not moved again before t +
 *    cfg.hold_intervals x cfg.interval_ns, and moves at most once per sample.
 *    With the hysteresis on the worker's condition this is what keeps a load
 *    oscillating around a threshold from flapping.
 *  - Topology order: home worker first, then, with cfg.cores_first, one
 *    worker per physical core (the lowest CPU of each core) by CPU, then the
 *    hyper-thread siblings by CPU (D-VMQ uses one logical processor per
 *    core); without it, by CPU.
 *  - Disabled (cfg.enabled false): no moves, nothing parked; counters reset.
 *
 * The RSS conservative profile (rss.h, xvs_rss_conservative_step) is a
 * client of the balancer, not a second controller. The full design's mapping:
 * a port's RETA is cut into groups of entries, each group a balancer queue
 * whose busy % is the worker time its frames cost; "grow by one worker when
 * the busiest is above XVS_RSS_GROW_PCT" is the spread rule with high_pct =
 * 75; "shrink when the load fits in k - 1 workers below XVS_RSS_SHRINK_PCT"
 * is the coalesce rule (low_pct / pack limit 50); XVS_RSS_HOLD_NS is the hold.
 * What the balancer lacks today is the growth trial (xvs_rss_spread_paid: a
 * spread that did not raise the port's capacity by 10 % is undone and
 * growth held off); it would become a post-move check of the moved queues'
 * rate. Until that lands, ctl/balancer.c runs rss.c's step inside its own
 * sample while the balancer is enabled (one controller, one snapshot, one
 * log and count path); this policy does not see the RETA.
 *
 * VMQ pool (xvs_vmq_*): a bounded pool of receive queues per uplink
 * (vmq-queues), numbered 1..n; queue 0 is the default queue, which always
 * exists and is shared by every port without a queue of its own. See the
 * declarations below.
 *
 * Thread: all of it runs on the control thread; the structs are owned by
 * their caller and are not shared with workers (workers see the published
 * assignment snapshot, never these).
 */
#ifndef XVS_BALANCER_H
#define XVS_BALANCER_H

#include <stdbool.h>
#include <stdint.h>

#include "xvs_err.h"

#define XVS_BAL_WORKERS_MAX 64
#define XVS_BAL_QUEUES_MAX 512

/* Settings (`xvsctl balancer set`). */
struct xvs_bal_cfg {
	bool enabled;            /* default on */
	double high_pct;         /* spread above this worker busy %; default 80 */
	double low_pct;          /* coalesce below this; default 20; 0 <= low < high <= 100 */
	uint64_t interval_ns;    /* sample period; default 1 s; > 0 */
	uint16_t hysteresis;     /* consecutive samples a condition must hold; default 2; >= 1 */
	uint16_t hold_intervals; /* a moved queue stays this many intervals; default 3 */
	uint16_t home_worker;    /* index of the worker every queue packs onto; default 0 */
	bool cores_first;        /* physical cores before hyper-thread siblings; default on */
};

/* A worker as the balancer sees it. */
struct xvs_bal_worker {
	uint16_t cpu;     /* the CPU it runs on */
	uint16_t core_id; /* its physical core (same core_id = hyper-thread siblings) */
};

/* A queue on one sample. */
struct xvs_bal_queue {
	uint16_t worker; /* the worker it is on now */
	double busy_pct; /* its share of that worker's time over the interval, 0..100 */
	bool pinned;     /* another controller places it (a conservative RSS port's
			  * queue): its load counts on its worker, it never moves, so
			  * its worker never coalesces */
};

/* What the balancer carries from one sample to the next. Zero it (or call
 * xvs_bal_state_init) to start over; queue indexes must be stable between
 * samples (reset the state, or xvs_bal_queue_forget, when a queue goes). */
struct xvs_bal_state {
	bool started;                             /* a sample was taken */
	uint64_t last_ns;                         /* time of the last sample that was due */
	uint16_t over[XVS_BAL_WORKERS_MAX];       /* consecutive samples above high */
	uint16_t under[XVS_BAL_WORKERS_MAX];      /* consecutive samples below low */
	double mean[XVS_BAL_WORKERS_MAX];         /* busy %, smoothed over samples (coalesce) */
	bool moved[XVS_BAL_QUEUES_MAX];           /* the queue was moved at moved_ns */
	uint64_t moved_ns[XVS_BAL_QUEUES_MAX];    /* when it was last moved */
};

struct xvs_bal_move {
	uint16_t queue;  /* queue index */
	uint16_t from;   /* worker it leaves */
	uint16_t to;     /* worker it goes to */
	double busy_pct; /* its busy % on this sample */
};

enum xvs_bal_reason {
	XVS_BAL_SPREAD = 0, /* the plan spreads load off an overloaded worker */
	XVS_BAL_COALESCE,   /* the plan packs an idle worker's queues back */
};

/* The result of one sample: applied whole (one snapshot) or not at all. */
struct xvs_bal_plan {
	bool due;                                 /* the sample was an interval after the last */
	enum xvs_bal_reason reason;               /* why, when n_moves > 0 */
	uint16_t n_moves;
	struct xvs_bal_move moves[XVS_BAL_QUEUES_MAX];
	uint16_t n_parked;                        /* workers with no queue after the plan */
	uint16_t parked[XVS_BAL_WORKERS_MAX];     /* their indexes, ascending */
	double load_before[XVS_BAL_WORKERS_MAX];  /* worker busy % measured */
	double load_after[XVS_BAL_WORKERS_MAX];   /* expected after the moves */
};

void xvs_bal_cfg_init(struct xvs_bal_cfg *cfg);

/* The settings as text, for `xvsctl balancer set` and the store: keys
 * enabled, cores-first (booleans), high, low (whole %, 0-100), interval-ms
 * (1-60000), hysteresis (1-100), hold-intervals (0-1000), home-worker.
 * NULL-terminated. set parses one key into *cfg (nothing else checked:
 * xvs_bal_cfg_check the whole), -EINVAL naming the key; get writes its
 * value, -ENOENT for an unknown key. */
extern const char *const xvs_bal_cfg_keys[];
int xvs_bal_cfg_set(struct xvs_bal_cfg *cfg, const char *key, const char *value,
		    struct xvs_err *err);
int xvs_bal_cfg_get(const struct xvs_bal_cfg *cfg, const char *key, char *buf, unsigned len);

/* Check cfg against n_workers: thresholds, interval, hysteresis, home worker.
 * 0, or -EINVAL with a message naming the setting. */
int xvs_bal_cfg_check(const struct xvs_bal_cfg *cfg, uint16_t n_workers, struct xvs_err *err);

void xvs_bal_state_init(struct xvs_bal_state *st);

/* The queue index q leaves (or is reused): forget its hold. */
void xvs_bal_queue_forget(struct xvs_bal_state *st, uint16_t q);

/* Topology order of the n workers (see the policy above): writes their
 * indexes to out[0..n). */
void xvs_bal_order(const struct xvs_bal_cfg *cfg, const struct xvs_bal_worker *w, uint16_t n,
		   uint16_t *out);

/* One load sample at now_ns (monotonic): n workers w, nq queues q (their
 * current worker and busy %). Fills *plan (plan->due false, nothing else
 * meaningful, when the sample comes less than an interval after the last
 * due one) and updates *st as if the plan is applied. Returns 0, or -EINVAL
 * with a message when cfg is invalid, n or nq is over the maximum, or a
 * queue names a worker that does not exist; *st is then unchanged. */
int xvs_bal_step(const struct xvs_bal_cfg *cfg, struct xvs_bal_state *st,
		 const struct xvs_bal_worker *w, uint16_t n, const struct xvs_bal_queue *q,
		 uint16_t nq, uint64_t now_ns, struct xvs_bal_plan *plan, struct xvs_err *err);

/*
 * VMQ queue pool. Ports (VM ports, identified by the caller's port index)
 * ask for a queue when they start; a queue is theirs until they release it.
 *  - vmq-weight 0 never gets a queue (XVS_VMQ_SHARED_WEIGHT0).
 *  - A free queue goes to the asker, first come first served; the lowest
 *    numbered free queue first. A queue held is never taken back to give it
 *    to a heavier port: moving a VM's receive path while it runs costs more
 *    than the priority gains (Windows does not preempt either).
 *  - When none is free the port shares the default queue and waits
 *    (XVS_VMQ_SHARED_EXHAUSTED; the caller counts and logs it). Weight is the
 *    priority among waiters: a freed queue goes to the waiting port of
 *    highest weight, then the earliest to ask.
 */
#define XVS_VMQ_QUEUES_MAX 128
#define XVS_VMQ_WAIT_MAX 1024
#define XVS_VMQ_DEFAULT_QUEUE 0
#define XVS_VMQ_WEIGHT_DEFAULT 100
#define XVS_VMQ_WEIGHT_MAX 100
#define XVS_VMQ_NONE UINT32_MAX

enum xvs_vmq_status {
	XVS_VMQ_OWN = 0,          /* the port has a queue of its own */
	XVS_VMQ_SHARED_WEIGHT0,   /* on the default queue: vmq-weight 0 */
	XVS_VMQ_SHARED_EXHAUSTED, /* on the default queue: the pool is exhausted, waiting */
};

struct xvs_vmq_alloc {
	uint16_t queue;             /* its queue, XVS_VMQ_DEFAULT_QUEUE when shared */
	enum xvs_vmq_status status; /* why */
};

/* Owned by the control thread, one per uplink. */
struct xvs_vmq_pool {
	uint16_t n_queues;                      /* vmq-queues: queues 1..n_queues */
	uint32_t owner[XVS_VMQ_QUEUES_MAX + 1]; /* port holding queue i, or XVS_VMQ_NONE */
	uint32_t n_wait;                        /* ports waiting */
	struct {
		uint32_t port;   /* the port */
		uint8_t weight;  /* its vmq-weight, 1..100 */
		uint64_t seq;    /* arrival order */
	} wait[XVS_VMQ_WAIT_MAX];               /* unordered; chosen by (weight, seq) */
	uint64_t seq;                           /* next arrival number */
	uint64_t exhausted;                     /* requests that found no free queue */
};

/* Empty pool of n_queues (0..XVS_VMQ_QUEUES_MAX); -EINVAL otherwise. */
int xvs_vmq_pool_init(struct xvs_vmq_pool *p, uint16_t n_queues, struct xvs_err *err);

/* Port asks for a queue with its vmq-weight (0..100). Fills *out. -EINVAL
 * for a weight over 100, -EEXIST if the port already holds or waits, -ENOSPC
 * when the wait list is full (the port still shares the default queue, *out
 * says so); the pool is then unchanged. */
int xvs_vmq_request(struct xvs_vmq_pool *p, uint32_t port, uint8_t weight,
		    struct xvs_vmq_alloc *out, struct xvs_err *err);

/* Port goes (or its weight drops to 0): its queue, if it had one, is freed
 * and handed to the best waiter, whose index is written to *to_port
 * (XVS_VMQ_NONE when the queue stays free or the port had none); a waiting
 * port just leaves the wait list. Returns the queue freed, or 0. */
uint16_t xvs_vmq_release(struct xvs_vmq_pool *p, uint32_t port, uint32_t *to_port);

/* Where the port stands now: 0 and *out, or -ENOENT if it holds no queue and
 * does not wait (it never asked, released, or asked with weight 0). */
int xvs_vmq_lookup(const struct xvs_vmq_pool *p, uint32_t port, struct xvs_vmq_alloc *out);

#endif /* XVS_BALANCER_H */

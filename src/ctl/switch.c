/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-thread switch logic: the port table, snapshot building and
 * publication, queue-to-worker assignment, FDB learning from worker requests,
 * aging, and restore from the store at start-up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "log.h"
#include "ring_fence.h"
#include "vmq_ctl.h"
#include "xvsd.h"

struct xvsd xvsd;

uint64_t
xvs_now_ns(void)
{
	return (uint64_t)((double)rte_rdtsc() * 1e9 / (double)xvs_dp.tsc_hz);
}

struct xvs_port *
xvsd_port_find(const char *name)
{
	for (int i = 0; i < XVS_MAX_PORTS; i++)
		if (xvsd.port[i] != NULL && strcmp(xvsd.port[i]->cfg.name, name) == 0)
			return xvsd.port[i];
	return NULL;
}

static bool
watch_eq(const struct xvsd_watch *a, const struct xvsd_watch *b)
{
	return a->fd == b->fd && a->data == b->data;
}

/* Bring each worker's epoll set in line with the rx queues it now polls. A
 * lazy queue's fd (caps.rx_lazy) is watched with its port slot and queue in
 * the event data (XVS_EV_LAZY), so an fd whose number now belongs to another slot or queue is
 * watched again with the new data. */
static void
update_epoll(const struct xvs_snapshot *s)
{
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		struct xvsd_watch want[XVS_MAX_RXQ_PER_WORKER];
		uint16_t nwant = 0;
		struct xvs_worker *wk = xvs_dp.worker[w];

		if (w < s->n_workers) {
			const struct xvs_snap_worker *sw = &s->worker[w];

			for (uint16_t i = 0; i < sw->n_rxq; i++) {
				const struct xvs_snap_rxq *q = &sw->rxq[i];
				const struct xvs_port *p = xvsd.port[q->port];
				int fd = p != NULL ? p->rxq[q->queue].fd : -1;

				if (fd < 0)
					continue;
				want[nwant].fd = fd;
				want[nwant].data = p->caps.rx_lazy ?
							   XVS_EV_LAZY_DATA(q->port, q->queue) :
							   XVS_EV_RXQ_DATA(q->port, q->queue);
				nwant++;
			}
		}
		/* remove fds no longer wanted, or wanted with other data */
		for (uint16_t i = 0; i < xvsd.n_worker_fd[w]; i++) {
			const struct xvsd_watch *h = &xvsd.worker_fd[w][i];
			bool keep = false;

			for (uint16_t j = 0; j < nwant; j++)
				keep |= watch_eq(&want[j], h);
			if (!keep)
				epoll_ctl(wk->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		}
		for (uint16_t j = 0; j < nwant; j++) {
			bool have = false;

			for (uint16_t i = 0; i < xvsd.n_worker_fd[w]; i++)
				have |= watch_eq(&xvsd.worker_fd[w][i], &want[j]);
			if (!have) {
				struct epoll_event ev = {.events = EPOLLIN, .data.u64 = want[j].data};

				if (epoll_ctl(wk->epfd, EPOLL_CTL_ADD, want[j].fd, &ev) < 0)
					XVS_WARN("ctl", "worker %u: cannot watch rx fd %d: %s", w,
						 want[j].fd, strerror(errno));
			}
		}
		memcpy(xvsd.worker_fd[w], want, sizeof(want[0]) * nwant);
		xvsd.n_worker_fd[w] = nwant;
	}
}

uint16_t
xvsd_worker_cpu(uint16_t w)
{
	/* The lcore's CPU set, not rte_lcore_to_cpu_id(): with --lcores 1@0 that
	 * returns the lcore id's core, not the CPU the thread is pinned to. */
	rte_cpuset_t set = rte_lcore_cpuset(xvs_dp.worker[w]->lcore);

	for (uint16_t c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	return 0;
}

/* CPU of every worker, for the RSS settings' base-cpu / max-cpu. */
void
xvsd_worker_cpus(uint16_t *cpu, uint16_t n)
{
	for (uint16_t w = 0; w < n; w++)
		cpu[w] = xvsd_worker_cpu(w);
}

/* Decide, from p->cfg.rss and the n active workers, which rx queues of p are
 * used, which worker polls each, and whether (and over which workers) the
 * pollers spread frames in software. Fills p->rss_*; keeps the RETA when the
 * workers it spreads over did not change (the closest profile rebalances it in
 * place, see xvsd_rss_tick). Returns the per-key table to free after the
 * next grace period, if the key changed. */
static struct xvs_rss_table *
rss_plan(struct xvs_port *p, uint16_t n)
{
	const struct xvs_rss_cfg *c = &p->cfg.rss;
	uint16_t cpu[XVS_MAX_WORKERS], set[XVS_MAX_WORKERS], k, used, nq = p->n_rxq;
	struct xvs_rss_table *old = NULL;
	struct xvs_err e;
	int ns;

	xvsd_worker_cpus(cpu, n);
	p->rss_error[0] = '\0';
	ns = xvs_rss_select(c, cpu, n, set, &e);
	if (ns <= 0) {
		/* e.g. workers reduced below base-cpu: keep the port working on
		 * the default set and say why */
		struct xvs_rss_cfg dflt = *c;

		snprintf(p->rss_error, sizeof(p->rss_error), "%s; using all workers",
			 ns < 0 ? e.msg : "rss: no worker in range");
		dflt.base_cpu = dflt.max_cpu = -1;
		ns = xvs_rss_select(&dflt, cpu, n, set, NULL);
		if (ns <= 0) {
			set[0] = 0;
			ns = 1;
		}
	}
	/* Without an explicit base-cpu, ports start on different workers (by
	 * slot, so a port keeps its worker when others come and go): n
	 * one-queue ports on n workers get one each, as before RSS. */
	if (c->base_cpu < 0 && ns > 1) {
		uint16_t rot[XVS_MAX_WORKERS], h = (uint16_t)(p->slot % ns);

		for (int i = 0; i < ns; i++)
			rot[i] = set[(h + i) % ns];
		memcpy(set, rot, sizeof(set[0]) * ns);
	}
	if (!c->enabled) {
		k = 1;
		used = p->rss_steerable ? 1 : nq;
	} else {
		used = p->rss_steerable && c->queues != 0 ? RTE_MIN(c->queues, nq) : nq;
		k = (uint16_t)ns;
		if (c->profile == XVS_RSS_CONSERVATIVE)
			k = (uint16_t)RTE_MAX(1, RTE_MIN(p->rss_k, ns));
	}
	p->rss_k = k;
	if (used < 1)
		used = 1;
	/* queue -> worker, on the queue objects */
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++) {
		p->rxq[q].polled = q < used && q < nq;
		if (p->rxq[q].polled)
			p->rxq[q].worker = set[q % k];
		/* the balancer's placement wins (ctl/balancer.c) */
		if (p->rxq[q].polled && p->rxq[q].bal_placed && p->rxq[q].bal_worker < n)
			p->rxq[q].worker = p->rxq[q].bal_worker;
	}
	/* other workers, or a profile that may not keep closest's moves: refill */
	if (p->rss_n_set != ns || p->rss_n_active != k || memcmp(p->rss_set, set, sizeof(set[0]) * ns) ||
	    p->rss_reta_profile != c->profile)
		p->rss_reta_size = 0;
	p->rss_reta_profile = c->profile;
	memcpy(p->rss_set, set, sizeof(set[0]) * ns);
	p->rss_n_set = (uint16_t)ns;
	p->rss_n_active = k;
	p->rss_queues_used = used;
	p->rss_spread = c->enabled && used < k;
	if (!p->rss_spread)
		return NULL;
	if (p->rss_reta_size != c->reta_size) {
		for (uint16_t i = 0; i < c->reta_size; i++)
			p->rss_reta[i] = set[i % k];
		p->rss_reta_size = c->reta_size;
	}
	if (p->rss_table == NULL || memcmp(p->rss_table_key, c->key, XVS_RSS_KEY_LEN) != 0) {
		struct xvs_rss_table *t = rte_malloc("xvs_rss_table", sizeof(*t), RTE_CACHE_LINE_SIZE);

		if (t == NULL) {
			snprintf(p->rss_error, sizeof(p->rss_error),
				 "rss: no memory for the hash table; not spreading");
			p->rss_spread = false;
			return NULL;
		}
		xvs_rss_table_init(t, c->key);
		old = p->rss_table;
		p->rss_table = t;
		memcpy(p->rss_table_key, c->key, XVS_RSS_KEY_LEN);
	}
	return old;
}

/* Swap in s, let every worker see it, and free the snapshot it replaces once
 * no worker can hold it any more. */
static void
swap_snapshot(struct xvs_snapshot *s)
{
	struct xvs_snapshot *old = atomic_exchange_explicit(&xvs_dp.snap, s, memory_order_acq_rel);

	update_epoll(s);
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		uint64_t one = 1;

		/* Unconditional: a worker about to block must see the new set. */
		(void)!write(xvs_dp.worker[w]->wakefd, &one, sizeof(one));
	}
	rte_rcu_qsbr_synchronize(xvs_dp.qsbr, RTE_QSBR_THRID_INVALID);
	rte_free(old);
}

/* The worker that polls rx queue q of port slot in s, or -1. */
static int
queue_owner(const struct xvs_snapshot *s, uint16_t slot, uint16_t q)
{
	for (uint16_t w = 0; w < s->n_workers; w++)
		for (uint16_t i = 0; i < s->worker[w].n_rxq; i++)
			if (s->worker[w].rxq[i].port == slot && s->worker[w].rxq[i].queue == q)
				return w;
	return -1;
}

/* A queue whose worker changes (RSS settings, the conservative profile,
 * the worker count) must never be polled by both workers at once: rx queues
 * have one consumer. If s moves any, publish first a copy of s without the
 * moved queues, so that after its grace period nobody polls them, then s.
 * Returns that intermediate snapshot, built in mid (allocated beforehand, so
 * that this step cannot fail), or NULL when nothing moves. */
static struct xvs_snapshot *
without_moved_queues(const struct xvs_snapshot *cur, const struct xvs_snapshot *s,
		     struct xvs_snapshot *mid)
{
	bool moved = false;

	for (uint16_t w = 0; w < s->n_workers && !moved; w++)
		for (uint16_t i = 0; i < s->worker[w].n_rxq && !moved; i++) {
			int o = queue_owner(cur, s->worker[w].rxq[i].port, s->worker[w].rxq[i].queue);

			moved = o >= 0 && o != w;
		}
	if (!moved)
		return NULL;
	memcpy(mid, s, sizeof(*mid));
	for (uint16_t w = 0; w < s->n_workers; w++) {
		uint16_t k = 0;

		for (uint16_t i = 0; i < s->worker[w].n_rxq; i++) {
			int o = queue_owner(cur, s->worker[w].rxq[i].port, s->worker[w].rxq[i].queue);

			if (o < 0 || o == w)
				mid->worker[w].rxq[k++] = s->worker[w].rxq[i];
		}
		mid->worker[w].n_rxq = k;
	}
	return mid;
}

/* Between the snapshot without the moved queues (its grace period over: their
 * old pollers run none of their frames any more, their tx buffers are
 * flushed, as a worker flushes before its quiescent state) and the one that
 * gives them to their new pollers: frames of theirs may still wait in
 * hand-off rings: the software-RSS rings into other workers, then, on the
 * way out, the ports' tx hand-off rings and the QoS hand-off rings into the
 * scheduling owner (which queues its own frames straight into the class
 * FIFOs). A new poller's frames of the same flow go through other rings
 * (its own) or straight to the device or class FIFO, and could overtake
 * them, so wait until every such ring's consumer has taken what it holds now
 * (ring_fence.h). In two stages: a frame an RSS ring's consumer took may be
 * in its hands or its tx buffer until its next quiescent state, and only
 * then in an egress ring, so the egress rings are marked after a grace
 * period that follows the RSS rings' fence. Rings are drained every turn, by
 * workers that are awake while they hold frames (a producer wakes the
 * consumer). */
#define XVS_FENCE_WAIT_US 200000
#define XVS_FENCE_RINGS (XVS_MAX_WORKERS * XVS_MAX_WORKERS + XVS_MAX_PORTS + \
			 XVS_MAX_PORTS * XVSD_QOS_RINGS_PER_PORT)

/* Wait until rings[0..n) passed their marks now; the time left in *waited. */
static void
fence_rings(struct rte_ring *const *rings, unsigned int n, unsigned int *waited)
{
	uint32_t pos[XVS_FENCE_RINGS];

	for (unsigned int i = 0; i < n; i++)
		pos[i] = xvs_ring_mark(rings[i]);
	for (unsigned int i = 0; i < n; i++) {
		while (!xvs_ring_passed(rings[i], pos[i]) && *waited < XVS_FENCE_WAIT_US) {
			rte_delay_us_sleep(20);
			*waited += 20;
		}
	}
}

void
xvsd_handoff_fence(void)
{
	struct rte_ring *rings[XVS_FENCE_RINGS];
	unsigned int n = 0, waited = 0;

	for (uint16_t d = 0; d < xvs_dp.n_workers_max; d++)
		for (uint16_t src = 0; src < xvs_dp.n_workers_max; src++)
			if (xvs_dp.worker[d]->rss_ring[src] != NULL)
				rings[n++] = xvs_dp.worker[d]->rss_ring[src];
	if (n > 0) {
		fence_rings(rings, n, &waited);
		rte_rcu_qsbr_synchronize(xvs_dp.qsbr, RTE_QSBR_THRID_INVALID);
	}
	n = 0;
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (xvsd.port[slot] != NULL && xvsd.port[slot]->tx_ring != NULL)
			rings[n++] = xvsd.port[slot]->tx_ring;
	n += xvsd_qos_rings(&rings[n], RTE_DIM(rings) - n);
	fence_rings(rings, n, &waited);
	if (waited >= XVS_FENCE_WAIT_US)
		XVS_WARN("ctl", "queue move or VMQ change: hand-off rings not drained within "
			 "%u ms; frames of moved flows may be reordered", XVS_FENCE_WAIT_US / 1000);
	xvsd.fences++;
}

/* Make the device deliver to n rx queues; on failure stop steering it (every
 * queue is then polled) and say why in rss show. Returns false on failure. */
static bool
rss_apply(struct xvs_port *p, uint16_t n)
{
	struct xvs_err e;

	if (xvs_port_rss_apply(p, n, &e) == 0) {
		p->rss_attached = n;
		memcpy(p->rss_hw_key, p->cfg.rss.key, XVS_RSS_KEY_LEN);
		p->rss_hw_types = p->cfg.rss.types;
		return true;
	}
	XVS_WARN("rss", "%s; polling all %u rx queues instead", e.msg, p->n_rxq);
	snprintf(p->rss_error, sizeof(p->rss_error), "%s; polling all rx queues", e.msg);
	p->rss_steerable = false;
	p->rss_attached = p->n_rxq;
	return false;
}

bool
xvsd_fault(enum xvsd_fault_point p)
{
	struct xvsd_fault *f = &xvsd.fault[p];

	if (!xvsd.test_faults || f->count == 0)
		return false;
	if (f->after > 0) {
		f->after--;
		return false;
	}
	f->count--;
	f->fired++;
	return true;
}

int
xvsd_publish(void)
{
	struct xvs_snapshot *s, *mid, *spare, *spare2;
	struct xvs_rss_table *old_tables[XVS_MAX_PORTS];
	uint16_t n_old_tables = 0;
	bool replan = false, vmq_fence;

	/* The only way to fail, and before anything changed (see xvsd.h). */
	if (xvsd_fault(XVSD_FAULT_PUBLISH))
		return -ENOMEM;
	xvsd_mirror_sync(); /* sessions follow their ports into this snapshot */
	/* Both snapshots a publish may swap in, before anything changes. */
	s = rte_zmalloc("xvs_snapshot", sizeof(*s), RTE_CACHE_LINE_SIZE);
	spare = rte_malloc("xvs_snapshot", sizeof(*spare), RTE_CACHE_LINE_SIZE);
	spare2 = rte_malloc("xvs_snapshot", sizeof(*spare2), RTE_CACHE_LINE_SIZE);
	if (s == NULL || spare == NULL || spare2 == NULL) {
		rte_free(s);
		rte_free(spare);
		rte_free(spare2);
		return -ENOMEM;
	}
	xvsd.republish = false;
	s->gen = ++xvsd.gen;
	s->n_workers = (uint16_t)RTE_MIN(xvsd.sw.workers, xvs_dp.n_workers_max);
	vmq_fence = xvsd_vmq_sync(s->n_workers);
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];
		struct xvs_snap_port *sp = &s->port[slot];
		struct xvs_rss_table *ot;

		if (p == NULL || !p->open)
			continue;
		/* The FDB is the control thread's: its limits change here, with
		 * the rest of the port's configuration. */
		xvs_fdb_set_port_limit(xvs_dp.fdb, slot, p->cfg.mac_limit);
		sp->active = true;
		sp->ops = p->ops;
		sp->priv = p->priv;
		sp->tx_meta_offload = p->caps.tx_meta_offload;
		sp->rx_lazy = p->caps.rx_lazy;
		sp->rx_spin_short = p->caps.rx_spin_short;
		sp->tx_drop = p->caps.tx_drop;
		sp->n_txq = p->n_txq;
		sp->tx_owner = 0;
		sp->tx_ring = p->tx_ring;
		sp->max_frame = p->cfg.mtu + XVS_ETH_HLEN;
		sp->vlan = p->cfg.vlan;
		sp->vmq = xvsd_vmq_table(slot);
		xvs_stage_fill_port(slot, &sp->pipe);
		if (sp->pipe.n_out > 0) {
			s->egress_port = slot;
			s->n_egress_ports++;
		}
		xvsd_qos_fill(s, slot);
		s->flood[s->n_flood++] = slot;
		/* Queues go to workers as the port's RSS settings say. */
		ot = rss_plan(p, s->n_workers);
		if (ot != NULL)
			old_tables[n_old_tables++] = ot;
		if (p->rss_steerable &&
		    (p->rss_queues_used > p->rss_attached ||
		     (p->rss_hw_reta && (p->rss_hw_types != p->cfg.rss.types ||
					 memcmp(p->rss_hw_key, p->cfg.rss.key, XVS_RSS_KEY_LEN))))) {
			/* more queues (or a new key): the device may deliver to
			 * them once they are polled, so before publishing */
			replan |= !rss_apply(p, RTE_MAX(p->rss_queues_used, p->rss_attached));
		}
		if (p->rss_queues_used < p->rss_attached)
			xvs_port_limit_tx(p, p->rss_queues_used); /* detached after the swap */
		for (uint16_t q = 0; q < p->rss_queues_used; q++) {
			struct xvs_snap_worker *sw = &s->worker[p->rxq[q].worker];

			sw->rxq[sw->n_rxq].port = slot;
			sw->rxq[sw->n_rxq].queue = q;
			sw->n_rxq++;
		}
		{
			uint32_t seen = 0; /* workers polling one of its queues */

			for (uint16_t q = 0; q < p->rss_queues_used; q++)
				seen |= 1u << p->rxq[q].worker;
			sp->n_rx_workers = p->rss_spread ? s->n_workers :
							   (uint16_t)__builtin_popcount(seen);
		}
		if (p->rss_spread) {
			sp->rss_spread = true;
			sp->rss_types = p->cfg.rss.types;
			sp->rss_table = p->rss_table;
			sp->rss_reta_mask = (uint16_t)(p->rss_reta_size - 1);
			memcpy(sp->rss_reta, p->rss_reta, sizeof(p->rss_reta[0]) * p->rss_reta_size);
		}
		if (p->tx_ring != NULL) {
			struct xvs_snap_worker *ow = &s->worker[0];

			ow->tx_owned[ow->n_tx_owned++] = slot;
		}
	}
	xvs_stage_snapshot_built();
	mid = without_moved_queues(atomic_load_explicit(&xvs_dp.snap, memory_order_acquire), s,
				   spare);
	if (vmq_fence) {
		/* VMQ filters change: the uplink pauses while the rings drain */
		if (mid == NULL)
			mid = memcpy(spare, s, sizeof(*spare));
		xvsd_vmq_strip(mid);
	}
	if (mid != NULL) {
		mid->gen = s->gen;
		s->gen = ++xvsd.gen;
		swap_snapshot(mid);
		if (xvsd_qos_moving()) {
			/* A QoS owner moves too: mid has none (its grace period
			 * is over: the old owner is past it). The fence waits
			 * on every QoS ring, which only an owner drains: the
			 * new one takes over first, the queues still held. */
			memcpy(spare2, mid, sizeof(*spare2));
			xvsd_qos_hand_over(spare2, false);
			xvsd_qos_hand_over(s, true);
			spare2->gen = s->gen;
			s->gen = ++xvsd.gen;
			swap_snapshot(spare2);
			spare2 = NULL;
		}
		/* Also the VMQ fence: the position fence, not "every ring
		 * empty at once" (rarely true under steady software-RSS load:
		 * the uplink went unpolled 100 ms per change). */
		xvsd_handoff_fence();
	} else {
		rte_free(spare);
	}
	rte_free(spare2);
	swap_snapshot(s);
	xvsd_vmq_published();
	/* s replaced every stage state and stage it does not hold: free them. */
	xvs_stage_reclaim();
	replan |= xvsd_qos_published();
	for (uint16_t i = 0; i < n_old_tables; i++)
		rte_free(old_tables[i]);
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];

		/* fewer queues: detach only now that no worker polls them */
		if (p != NULL && p->open && p->rss_steerable && p->rss_queues_used < p->rss_attached)
			replan |= !rss_apply(p, p->rss_queues_used);
	}
	/* a device refused to steer: plan again, now polling all its queues
	 * (at most once: such a port is no longer steerable). s is out and in
	 * force, so a failure here is not the caller's: the tick retries. */
	if (replan && xvsd_publish() < 0)
		xvsd.republish = true;
	return 0;
}

void
xvsd_rss_rings_wait_empty(void)
{
	/* Frames of a deleted port may still wait in hand-off rings, tagged with
	 * its slot; let the workers drain them (they do, every turn) before the
	 * slot can be reused. */
	for (int tries = 0; tries < 100; tries++) {
		unsigned int n = 0;

		for (uint16_t d = 0; d < xvs_dp.n_workers_max; d++)
			for (uint16_t src = 0; src < xvs_dp.n_workers_max; src++)
				if (xvs_dp.worker[d]->rss_ring[src] != NULL)
					n += rte_ring_count(xvs_dp.worker[d]->rss_ring[src]);
		if (n == 0)
			return;
		rte_delay_us_sleep(1000);
	}
}

void
xvsd_drain_learn(void)
{
	uint64_t now = xvs_now_ns();

	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		struct xvs_worker *wk = xvs_dp.worker[w];
		struct xvs_learn_req req[64];
		unsigned int n;

		/* Clear the kick first: a request queued after this re-kicks us. */
		atomic_store_explicit(&wk->learn_kicked, 0, memory_order_seq_cst);
		while ((n = rte_ring_sc_dequeue_burst_elem(wk->learn_ring, req, sizeof(req[0]),
							   RTE_DIM(req), NULL)) > 0) {
			for (unsigned int i = 0; i < n; i++) {
				const struct xvs_port *p =
					req[i].port < XVS_MAX_PORTS ? xvsd.port[req[i].port] : NULL;

				if (p == NULL || !p->open)
					continue; /* port left while the request was queued */
				/* Outcomes, refusals included, land in the FDB's stats
				 * and its per-port counters (learn_limit,
				 * static_conflict). */
				(void)xvs_fdb_learn(xvs_dp.fdb, req[i].mac, req[i].vid, req[i].port,
						    now);
			}
		}
	}
}

/* Rate of a counter since its previous sample, which it then becomes. */
static double
per_s(uint64_t now, uint64_t *prev, uint64_t dt_tsc)
{
	/* now < prev: the counters were zeroed (a port slot deleted) */
	double r = dt_tsc > 0 && now >= *prev ?
			   (double)(now - *prev) * (double)xvs_dp.tsc_hz / (double)dt_tsc : 0.0;

	*prev = now;
	return r;
}

double
xvsd_busy_share(uint64_t busy_tsc, uint64_t *prev, uint64_t dt_tsc)
{
	double r = dt_tsc > 0 && busy_tsc >= *prev ?
			   100.0 * (double)(busy_tsc - *prev) / (double)dt_tsc : 0.0;

	*prev = busy_tsc;
	return r;
}

void
xvsd_rxq_counters(const struct xvs_port *p, uint16_t q, struct xvs_rxq_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_rxq_counters *c = &xvs_dp.worker[w]->rxq_ctr[p->slot][q];

		sum->packets += c->packets;
		sum->bytes += c->bytes;
		sum->polls += c->polls;
		sum->empty_polls += c->empty_polls;
		sum->busy_tsc += c->busy_tsc;
	}
}

/* Rates of every rx queue over the last tick: packets per second, and busy
 * cycles as a share of one worker's (what the balancer will weigh). */
static void
rxq_tick(uint64_t dt_tsc)
{
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];

		if (p == NULL || !p->open)
			continue;
		for (uint16_t q = 0; q < p->n_rxq; q++) {
			struct xvs_rxq *rq = &p->rxq[q];
			struct xvs_rxq_counters c;

			xvsd_rxq_counters(p, q, &c);
			rq->pps = per_s(c.packets, &rq->prev_packets, dt_tsc);
			rq->busy_pct = xvsd_busy_share(c.busy_tsc, &rq->prev_busy_tsc, dt_tsc);
		}
	}
}

void
xvsd_tick(void)
{
	uint64_t now_tsc = rte_rdtsc();
	uint64_t dt = now_tsc - xvsd.prev_sample_tsc;
	uint32_t aged = xvs_fdb_age(xvs_dp.fdb, xvs_now_ns());

	if (aged > 0)
		XVS_DEBUG("fdb", "aged out %u entries", aged);
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_worker *wk = xvs_dp.worker[w];
		uint64_t busy = wk->busy_tsc, idle = wk->idle_tsc, slp = wk->sleep_tsc;
		uint64_t db = busy - xvsd.prev_busy[w];
		uint64_t tot = db + (idle - xvsd.prev_idle[w]) + (slp - xvsd.prev_sleep[w]);

		xvsd.busy_pct[w] = tot > 0 ? 100.0 * (double)db / (double)tot : 0.0;
		xvsd.rx_pps[w] = per_s(wk->rx_packets, &xvsd.prev_rx[w], dt);
		xvsd.prev_busy[w] = busy;
		xvsd.prev_idle[w] = idle;
		xvsd.prev_sleep[w] = slp;
		xvsd.switched_pps[w] = per_s(wk->switched_packets, &xvsd.prev_switched[w], dt);
		xvsd.rss_in_pps[w] = per_s(wk->rss_in, &xvsd.prev_rss_in[w], dt);
		xvsd.rss_out_pps[w] = per_s(wk->rss_out, &xvsd.prev_rss_out[w], dt);
	}
	xvsd.prev_sample_tsc = now_tsc;
	rxq_tick(dt);
	xvsd_vmq_tick(dt);
	xvsd_guard_tick();
	xvsd_rss_tick(dt);
	xvsd_qos_tick();
}

/* Closest profile: see xvs_rss_rebalance(). Flows of moved entries may see
 * one reordering at the move; others never do. */
static bool
rss_rebalance(struct xvs_port *p)
{
	if (xvs_rss_rebalance(p->rss_reta, p->rss_reta_size, p->rss_set, p->rss_n_active,
			      xvsd.busy_pct) == 0)
		return false;
	p->rss_rebalances++;
	return true;
}

enum xvs_rss_cons_verdict
xvsd_rss_conservative(struct xvs_port *p, const double *busy_w, double rx_pps, uint64_t now_ns,
		      const char *mod, bool *changed)
{
	struct xvs_rss_cons before = p->rss_cons;
	enum xvs_rss_cons_verdict v;
	double busy[XVS_MAX_WORKERS], busiest = 0;
	uint16_t k;

	for (uint16_t i = 0; i < p->rss_n_active; i++) {
		busy[i] = busy_w[p->rss_set[i]];
		busiest = RTE_MAX(busiest, busy[i]);
	}
	k = xvs_rss_conservative_step(&p->rss_cons, p->rss_n_active, p->rss_n_set, busy, rx_pps,
				      now_ns, &v);
	if (v == XVS_RSS_CONS_NOT_PAID) {
		XVS_INFO(mod, "%s: RSS spreading to %u workers did not pay (%.2f Mpps at %.0f%% "
			 "busy before, %.2f Mpps at %.0f%% after): back to %u for %u s",
			 p->cfg.name, p->rss_n_active, before.trial_pps / 1e6, before.trial_busy,
			 rx_pps / 1e6, busiest, k, (unsigned int)(XVS_RSS_HOLD_NS / 1000000000u));
		p->rss_unpaid++;
	} else if (v != XVS_RSS_CONS_KEEP) {
		XVS_INFO(mod, "%s: RSS %s to %u worker%s (busy %.0f%% on worker %u)", p->cfg.name,
			 k > p->rss_n_active ? "spreading" : "packing", k, k == 1 ? "" : "s",
			 busy[0], p->rss_set[0]);
	}
	*changed = k != p->rss_n_active;
	if (*changed)
		p->rss_k = k;
	return v;
}

void
xvsd_rss_tick(uint64_t dt_tsc)
{
	uint64_t now_ns = xvs_now_ns();
	bool changed = false;

	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		struct xvs_port *p = xvsd.port[slot];
		uint64_t rx = 0;

		if (p == NULL)
			continue;
		/* the port's frames through the pipeline (not lost at hand-off) */
		for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++)
			rx += xvs_dp.worker[w]->ctr[slot].rx_packets -
			      xvs_dp.worker[w]->ctr[slot].drop[XVS_DROP_rss_ring_full];
		p->rss_rx_pps = per_s(rx, &p->rss_prev_rx, dt_tsc);

		if (!p->open || !p->cfg.rss.enabled || p->rss_n_set < 2)
			continue;
		/* the balancer, when on, is the one controller: it runs the
		 * conservative step in its own (ctl/balancer.c) */
		if (p->cfg.rss.profile == XVS_RSS_CONSERVATIVE && !xvsd_balancer_enabled()) {
			bool grew_or_shrank;

			xvsd_rss_conservative(p, xvsd.busy_pct, p->rss_rx_pps, now_ns, "rss",
					      &grew_or_shrank);
			changed |= grew_or_shrank;
		} else if (p->cfg.rss.profile == XVS_RSS_CLOSEST && p->rss_spread) {
			changed |= rss_rebalance(p);
		}
	}
	/* on failure the previous snapshot stays in force; try again next second */
	if ((changed || xvsd.republish) && xvsd_publish() < 0)
		xvsd.republish = true;
}

/* ---- restore from the store ---- */

struct restore_ctx {
	struct xvs_port_cfg *cfg;
	struct xvs_err *err;
};

static int
restore_setting(const char *key, const char *value, void *arg)
{
	struct xvs_err e;

	(void)arg;
	if (xvs_switch_cfg_set(&xvsd.sw, key, value, xvs_dp.n_workers_max, &e) < 0) {
		/* e.g. workers=4 stored, fewer started now: keep going with the default */
		XVS_WARN("store", "setting %s=%s not applied: %s", key, value, e.msg);
	}
	return 0;
}

static int
restore_option(const char *key, const char *value, void *arg)
{
	struct restore_ctx *c = arg;

	return xvs_port_cfg_set(c->cfg, key, value, c->err) < 0 ? -1 : 0;
}

static int
restore_port(const char *name, const char *kind, void *arg)
{
	struct xvs_err *err = arg, e;
	enum xvs_port_kind k;
	struct xvs_port *p;
	int slot = -1;

	for (int i = 0; i < XVS_MAX_PORTS && slot < 0; i++)
		if (xvsd.port[i] == NULL)
			slot = i;
	if (slot < 0) {
		XVS_ERR("store", "port %s not restored: port table full", name);
		return 0;
	}
	if (xvs_port_kind_parse(kind, &k, &e) < 0) {
		XVS_ERR("store", "port %s not restored: %s", name, e.msg);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return xvs_err_set(err, -ENOMEM, "out of memory");
	xvs_port_cfg_init(&p->cfg, name, k);
	struct restore_ctx ctx = {.cfg = &p->cfg, .err = &e};

	if (xvs_store_load_port_options(xvsd.store, name, restore_option, &ctx, err) < 0 ||
	    xvs_port_cfg_validate(&p->cfg, &e) < 0) {
		XVS_ERR("store", "port %s not restored: %s", name, e.msg);
		free(p);
		return 0;
	}
	p->slot = (uint16_t)slot;
	xvsd.port[slot] = p;
	if (xvsd_guard_apply(p, &e) < 0)
		XVS_ERR("port", "%s: port security not in force: %s", name, e.msg);
	if (xvs_port_open(p, &e) < 0)
		XVS_ERR("port", "%s: restored but not working: %s", name, e.msg);
	else
		XVS_INFO("port", "%s: restored (%s, %s, %u rx / %u tx queues%s)", name, kind,
			 p->driver, p->n_rxq, p->n_txq, p->rx_intr ? ", rx interrupts" : "");
	return 0;
}

static int
restore_static(const char *mac, unsigned int vlan, const char *port, void *arg)
{
	struct xvs_port *p = xvsd_port_find(port);
	uint8_t m[6];
	struct xvs_err e;

	(void)arg;
	if (p == NULL || xvs_mac_parse("mac", mac, m, &e) < 0 ||
	    xvs_fdb_add_static(xvs_dp.fdb, m, (uint16_t)vlan, p->slot, &e) < 0)
		XVS_ERR("store", "static entry %s vlan %u on %s not restored", mac, vlan, port);
	return 0;
}

int
xvsd_restore(struct xvs_err *err)
{
	int r;

	r = xvs_store_load_ports(xvsd.store, restore_port, err, err);
	if (r < 0)
		return r;
	r = xvs_store_load_static(xvsd.store, restore_static, NULL, err);
	if (r < 0)
		return r;
	r = xvsd_mirror_restore(err);
	if (r < 0)
		return r;
	r = xvsd_acl_restore(err);
	if (r < 0)
		return r;
	r = xvsd_qos_restore(err);
	if (r < 0)
		return r;
	/* with the ports there, before any traffic: the first snapshot runs
	 * the extensions the operator enabled */
	xvsd_ext_restore();
	return xvsd_publish();
}

int
xvsd_restore_settings(struct xvs_err *err)
{
	return xvs_store_load_settings(xvsd.store, restore_setting, NULL, err);
}

void
xvsd_shutdown_ports(void)
{
	xvsd_vmq_shutdown();
	for (int i = 0; i < XVS_MAX_PORTS; i++) {
		if (xvsd.port[i] == NULL)
			continue;
		xvs_port_close(xvsd.port[i]);
		free(xvsd.port[i]);
		xvsd.port[i] = NULL;
	}
}

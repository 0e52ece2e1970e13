/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker poll loop (datapath).
 *
 * A worker polls the rx queues its snapshot entry lists, in bursts, runs the
 * pipeline on each burst, transmits its per-port tx buffers once per turn and
 * reports a QSBR quiescent state. It never takes a lock, allocates, or makes a
 * syscall per packet or per burst.
 *
 * Ports are reached only through their kind's ops (port_ops.h): one
 * indirect call per rx burst, per tx burst and per wake-up arming.
 *
 * Poll list: a worker visits only the rx queues that can have frames (its
 * snapshot entry's queues of active ports, less those whose kind's
 * rxq_ready says no: a vhost-user queue without a guest or with its vring
 * disabled), rebuilt when the snapshot changes or a kind announces a change
 * (xvs_dp_rxq_changed, which wakes sleepers for it). Visiting a thousand
 * guest-less vhost-user queues cost a 64 B stream 1,200-2,300 TSC cycles per
 * forwarded frame, ~10x the frame itself (bench/ports1000.py --mem).
 * Queues left out are neither polled nor armed: nothing can wake them, and
 * the kind's announcement does.
 *
 * Lazy queues (caps.rx_lazy, a tap's): reading one is a syscall, so such a
 * queue is read only while it may have frames: a read that finds none marks
 * it empty, and its fd in the epoll set (data: XVS_EV_LAZY, slot, queue)
 * marks it ready again; the worker looks at the epoll set (timeout 0) once
 * per turn while any lazy queue is empty.
 *
 * Queues: every rx poll is counted on its queue (struct xvs_rxq_counters),
 * and a poll that returned frames is timed with the TSC from the poll to the
 * end of their processing; the rest of the turn (its tx flush) is shared
 * among the queues that had frames, in proportion to them. A worker's busy
 * cycles are the sum over its queues plus its overhead (hand-off rings, empty
 * lazy reads). The clock is read only at a boundary between two busy queues
 * (and around lazy reads and hand-off work): a turn with one busy queue costs
 * no rdtsc beyond the two the worker's own busy time takes.
 *
 * Idle (policy and thresholds in core/idle.h, unit-tested there): after
 * XVS_IDLE_SPIN_US without work the worker arms rx interrupts on
 * its queues (ops rxq_intr), takes one more look (so a frame that arrived while
 * arming is not missed), goes QSBR-offline and blocks in epoll_pwait2() on its
 * epoll set: the queues' wake-up fds (tap fds, AF_XDP socket fds, vhost kick
 * fds, the wake-up sockets of af_packet ports) plus its wake eventfd. Queues with none
 * of those are looked at again after a timeout that grows from
 * XVS_IDLE_SLEEP_MIN_NS to XVS_IDLE_SLEEP_MAX_NS while nothing arrives, and
 * so is a worker whose tx queues still hold frames the device has not taken
 * (ops tx_pending).
 *
 * Parked: a worker with no duty under the snapshot (no rx queue, no tx
 * hand-off ring to drain; the balancer or the worker count took them all)
 * and no tx frames pending blocks with no timeout at all: zero CPU until
 * its wake eventfd fires. Every publication writes that eventfd (switch.c,
 * swap_snapshot), so a new snapshot that gives it a queue wakes it; a worker
 * that hands it frames through a software-RSS ring wakes it as any sleeper
 * (xvs_worker_wake). It shows as parked in worker.stats while it sleeps.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_prefetch.h>

#include "dp.h"
#include "idle.h"
#include "offload.h"
#include "port_ops.h"
#include "qos_egress.h"

/* Every lazy queue is read at least this often while the worker is awake,
 * whatever epoll says: insurance against an fd that could not be watched.
 * Per XVS_LAZY_SWEEP_QUEUES lazy queues the worker polls: a sweep is a read
 * syscall per queue, and with a thousand taps one every 10 ms took a tenth
 * of the worker (and most of an idle switch's CPU, the worker waking every
 * XVS_IDLE_SLEEP_INTR_NS); so a sweep costs at most ~1 % at any count. */
#define XVS_LAZY_SWEEP_US 10000
#define XVS_LAZY_SWEEP_QUEUES 10u
/* While the last turn had frames, the epoll set is looked at for lazy
 * queues that ran dry at most this often: the look is a syscall, and one
 * per turn cost a 64 B stream from a pcap port 70 % of its rate per
 * worker CPU-second (idle taps beside it, ports1000.py --mem --kind tap).
 * A turn that found nothing looks every time (no latency added at idle). */
#define XVS_LAZY_LOOK_US 20

void
xvs_dp_rxq_changed(void)
{
	/* seq_cst: the change before it, then the look at sleeping in
	 * xvs_worker_wake; the worker sets sleeping before its last look at
	 * the epoch (xvs_worker_main), so one of the two sees the other. */
	atomic_fetch_add_explicit(&xvs_dp.rxq_epoch, 1, memory_order_seq_cst);
	for (uint16_t i = 0; i < xvs_dp.n_workers_max; i++)
		if (xvs_dp.worker[i] != NULL)
			xvs_worker_wake(xvs_dp.worker[i]);
}

void
xvs_worker_wake(struct xvs_worker *w)
{
	uint64_t one = 1;

	/* The waker that takes the flag writes the eventfd, the others do not:
	 * a producer handing over a burst every few microseconds to a worker
	 * that takes a millisecond to wake (a halted vCPU) must not make a
	 * syscall per burst. The worker sets the flag again before it sleeps.
	 * The fence orders the caller's ring store before the look at sleeping
	 * (x86 may reorder a store with a later load): the worker stores
	 * sleeping, then looks at its rings. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&w->sleeping, memory_order_seq_cst) != 0 &&
	    atomic_exchange_explicit(&w->sleeping, 0, memory_order_seq_cst) != 0)
		(void)!write(w->wakefd, &one, sizeof(one));
}

/* Send pkts[0..n) on tx queue w->id of port out through its kind's ops
 * (which consume every mbuf) and count what was sent and what was not. */
void
xvs_tx_direct(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t out,
	      struct rte_mbuf **pkts, uint16_t n)
{
	struct xvs_port_counters *c = &w->ctr[out];
	uint64_t bytes = 0;
	uint16_t sent = p->ops->tx_burst(p->priv, w->id, pkts, n, &bytes);

	/* A kind that may keep frames back is asked before the worker sleeps. */
	if (unlikely(p->ops->tx_pending != NULL) && !w->txp_listed[out]) {
		w->txp_listed[out] = true;
		w->txp[w->n_txp++] = out;
	}
	c->tx_bytes += bytes;
	c->tx_packets += sent;
	c->drop[p->tx_drop] += n - sent;
	w->tx_packets += sent;
}

/* Transmit pkts[0..n) to port out: on this worker's own tx queue, or
 * through the port's hand-off ring when the device has fewer tx queues than
 * there are workers, or to its QoS scheduling point. Consumes every mbuf. */
static void
tx_port(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t out,
	struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent;

	if (n == 0)
		return;
	if (unlikely(p->qos != NULL)) {
		xvs_qos_handoff(w, p, out, pkts, n);
		return;
	}
	if (likely(w->id < p->n_txq)) {
		xvs_tx_direct(w, p, out, pkts, n);
		return;
	}
	/* The owner counts tx when it transmits; a full ring is a tx_full drop here. */
	sent = (uint16_t)rte_ring_mp_enqueue_burst(p->tx_ring, (void **)pkts, n, NULL);
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	w->ctr[out].drop[XVS_DROP_tx_full] += n - sent;
	if (sent > 0 && p->tx_owner < xvs_dp.n_workers_max)
		xvs_worker_wake(xvs_dp.worker[p->tx_owner]);
}

/* Carry out offload requests in software for a port that cannot take them,
 * and flatten chains (DPDK PMDs here send single segments). Frames with
 * requests are replaced by their resolved segments, in order; whenever the
 * burst is full it is sent, so a frame may turn into any number of segments
 * (a 64 KB one at MSS 88 is ~750). Returns the count left in pkts. */
static uint16_t
resolve_offloads(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t out,
		 struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *res[XVS_BURST];
	uint16_t k, i;

	for (i = 0; i < n; i++)
		if (xvs_offload_pending(pkts[i]) || pkts[i]->nb_segs > 1)
			break;
	if (likely(i == n))
		return n;
	memcpy(res, pkts, sizeof(pkts[0]) * i);
	k = i;
	for (; i < n; i++) {
		struct xvs_offload_iter it;
		uint32_t segs = 0;
		uint8_t tclass = rte_mbuf_sched_traffic_class_get(pkts[i]); /* QoS: its segments' */

		/* A chain longer than 2 KB (a tap read without its 64 KB
		 * buffers, a NIC that scatters) is flattened into a jumbo mbuf
		 * of the flood copy pool: no port receives into it, so egress
		 * copies cannot leave a port without receive buffers, and it
		 * exists whether or not a port made the jumbo receive pool. */
		xvs_offload_begin(&it, pkts[i], xvs_dp.pool, xvs_dp.flood_big_pool);
		while (it.m != NULL) {
			uint16_t r;

			if (k == XVS_BURST) {
				tx_port(w, p, out, res, k);
				k = 0;
			}
			r = xvs_offload_next(&it, res + k, XVS_BURST - k);
			if (unlikely(p->qos != NULL))
				for (uint16_t j = 0; j < r; j++)
					rte_mbuf_sched_traffic_class_set(res[k + j], tclass);
			k += r;
			segs += r;
		}
		/* Conservation (dp.h): one frame in; segments out beyond it are
		 * tx_gso_segments, and a frame that failed part-way is one drop
		 * whose segments already made are all extra. */
		if (unlikely(it.failed)) {
			w->ctr[out].drop[XVS_DROP_offload_failed]++;
			w->ctr[out].tx_gso_segments += segs;
		} else {
			w->ctr[out].tx_gso_segments += segs - 1u;
		}
	}
	memcpy(pkts, res, sizeof(pkts[0]) * k);
	return k;
}

void
xvs_tx_flush_port(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t out)
{
	struct xvs_txbuf *tb = &w->tx[out];
	const struct xvs_snap_port *p = &s->port[out];
	uint16_t n = tb->n;
	bool needs_resolve = tb->needs_resolve;
	uint32_t same_class = tb->same_class, classed = tb->qos_classed;

	if (n == 0)
		return;
	tb->n = 0;
	tb->needs_resolve = false;
	tb->same_class = 0;
	tb->qos_classed = 0;
	w->ctr[out].egress_packets += n;
	if (unlikely(!p->active)) {
		rte_pktmbuf_free_bulk(tb->pkts, n);
		w->ctr[out].drop[XVS_DROP_port_down] += n;
		return;
	}
	/* Egress stages see the frames as the port will send them: floods
	 * resolved into this port's copies, tags fixed up. */
	if (unlikely(p->pipe.n_out > 0)) {
		n = xvs_stages_run(w, s, p->pipe.out, p->pipe.n_out, XVS_EXT_EGRESS, out, tb->pkts,
				   n, xvs_tsc_ns(rte_rdtsc()), NULL, NULL);
		if (n == 0)
			return;
		same_class = classed = 0; /* a stage may have dropped, modified or emitted */
	}
	/* QoS: classified here, on the worker that forwarded the frames,
	 * before offloads are resolved (segments take their frame's class). */
	if (unlikely(p->qos != NULL))
		xvs_qos_classify_burst(p->qos_plan, tb->pkts, n, same_class, classed);
	/* A port whose device decides per attach (tx_meta_now, a vhost guest)
	 * is asked now; its QoS owner may send much later, to another guest
	 * that took no offloads: with QoS, resolved here in software. */
	if (needs_resolve && !(p->tx_meta_offload &&
			       (p->ops->tx_meta_now == NULL ||
				(p->qos == NULL && p->ops->tx_meta_now(p->priv)))))
		n = resolve_offloads(w, p, out, tb->pkts, n);
	tx_port(w, p, out, tb->pkts, n);
}

/* Transmit what other workers handed over for ports this worker owns. */
static uint32_t
drain_tx_rings(struct xvs_worker *w, const struct xvs_snapshot *s)
{
	const struct xvs_snap_worker *sw = &s->worker[w->id];
	struct rte_mbuf *pkts[XVS_BURST];
	uint32_t total = 0;

	for (uint16_t i = 0; i < sw->n_tx_owned; i++) {
		uint16_t out = sw->tx_owned[i];
		const struct xvs_snap_port *p = &s->port[out];
		unsigned int n;

		if (p->tx_ring == NULL)
			continue;
		while ((n = rte_ring_sc_dequeue_burst(p->tx_ring, (void **)pkts, XVS_BURST,
						      NULL)) > 0) {
			xvs_tx_direct(w, p, out, pkts, (uint16_t)n);
			total += n;
			if (n < XVS_BURST)
				break;
		}
	}
	return total;
}

void
xvs_tx_flush_all(struct xvs_worker *w, const struct xvs_snapshot *s)
{
	/* Frames egress stages emitted while flushing go out in a second round;
	 * what that round emits waits for the next burst or turn. */
	for (int round = 0; round < 2; round++) {
		for (uint16_t i = 0; i < w->n_dirty; i++) {
			w->tx[w->dirty[i]].listed = false;
			xvs_tx_flush_port(w, s, w->dirty[i]);
		}
		w->n_dirty = 0;
		if (likely(w->emitq.n == 0))
			break;
		xvs_emit_flush(w, s);
	}
}

uint16_t
xvs_handoff_burst(struct xvs_worker *w, uint16_t t, uint16_t in_port, struct rte_mbuf **out,
		  uint16_t k)
{
	uint16_t sent = (uint16_t)rte_ring_sp_enqueue_burst(xvs_dp.worker[t]->rss_ring[w->id],
							    (void **)out, k, NULL);

	if (unlikely(sent < k)) {
		struct xvs_port_counters *c = &w->ctr[in_port];

		for (uint16_t j = sent; j < k; j++) {
			c->rx_bytes += out[j]->pkt_len;
			rte_pktmbuf_free(out[j]);
		}
		c->rx_packets += k - sent;
		c->drop[XVS_DROP_rss_ring_full] += k - sent;
	}
	if (sent > 0)
		xvs_worker_wake(xvs_dp.worker[t]);
	return sent;
}

/* Software RSS (like Linux RPS, with the Toeplitz hash NICs use): hash every
 * frame of a burst from port slot in_port and hand the frames whose RETA entry
 * names another worker to that worker's ring from us. Keeps this worker's own
 * frames in pkts, in order, and returns their count. */
static uint16_t
rss_spread(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t in_port,
	   struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t dst[XVS_BURST], idx[XVS_BURST], start[XVS_MAX_WORKERS + 1];
	struct rte_mbuf *out[XVS_BURST];
	uint16_t keep = 0, nw = xvs_dp.n_workers_max;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t h = 0;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
			h = m->hash.rss; /* the NIC's Toeplitz, programmed with our key */
		} else {
			const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
			uint8_t in[XVS_RSS_INPUT_MAX];
			struct xvs_l2 l2;
			size_t len;

			if (xvs_parse_l2(d, m->data_len, &l2) == XVS_PARSE_OK) {
				len = xvs_rss_input_seg(d, m->data_len, m->pkt_len, &l2,
							p->rss_types, in);
				h = xvs_rss_hash(p->rss_table, in, len);
			}
			m->hash.rss = h;
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		}
		dst[i] = p->rss_reta[h & p->rss_reta_mask];
		if (unlikely(dst[i] >= nw))
			dst[i] = w->id;
	}
	xvs_rss_partition(dst, n, nw, start, idx);
	for (uint16_t t = 0; t < nw; t++) {
		uint16_t k = 0, sent;

		for (uint16_t j = start[t]; j < start[t + 1]; j++)
			out[k++] = pkts[idx[j]];
		if (k == 0)
			continue;
		if (t == w->id) {
			keep = k;
			continue;
		}
		for (uint16_t j = 0; j < k; j++)
			out[j]->port = in_port; /* the receiving worker needs the ingress slot */
		sent = xvs_handoff_burst(w, t, in_port, out, k);
		w->rss_out += sent;
		w->rss_drops += k - sent;
	}
	/* This worker's own frames go last, into pkts[0..keep), in order. */
	for (uint16_t j = start[w->id], k = 0; j < start[w->id + 1]; j++)
		pkts[k++] = pkts[idx[j]];
	return keep;
}

/* Run what other workers handed over (software RSS, VMQ queues this worker
 * owns) through the pipeline, in runs of frames from one ingress port (and
 * one VMQ queue, timed on it: acct). */
static uint32_t
rss_drain(struct xvs_worker *w, const struct xvs_snapshot *s, uint64_t now_tsc,
	  struct xvs_busy_acct *acct)
{
	struct rte_mbuf *pkts[XVS_BURST];
	uint32_t total = 0;

	for (uint16_t src = 0; src < xvs_dp.n_workers_max; src++) {
		struct rte_ring *r = w->rss_ring[src];
		unsigned int n;

		if (r == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(r, (void **)pkts, XVS_BURST, NULL);
		if (n == 0)
			continue;
		/* The mbufs and headers were last written on the producer's core. */
		for (unsigned int i = 0; i < n; i++)
			rte_prefetch0(pkts[i]);
		total += n;
		w->rss_in += n;
		for (unsigned int i = 0; i < n;) {
			uint16_t port = pkts[i]->port;
			unsigned int j = i + 1;

			if (unlikely(port & XVS_VMQ_HANDOFF)) {
				i += xvs_vmq_run_handed(w, s, pkts + i, (uint16_t)(n - i), now_tsc,
							acct);
				continue;
			}
			while (j < n && pkts[j]->port == port)
				j++;
			if (likely(port < XVS_MAX_PORTS && s->port[port].active))
				xvs_l2_forward_burst(w, s, port, pkts + i, (uint16_t)(j - i), now_tsc);
			else
				rte_pktmbuf_free_bulk(pkts + i, j - i); /* port removed meanwhile */
			i = j;
		}
	}
	return total;
}

/* Build w's poll list (dp.h) from its entry in s. The caller read
 * xvs_dp.rxq_epoch before: a change announced after that read is seen at
 * the next turn's. */
static void
poll_build(struct xvs_worker *w, const struct xvs_snapshot *s)
{
	const struct xvs_snap_worker *sw = &s->worker[w->id];
	uint32_t n = 0, nl = 0;

	memset(w->lazy_mine, 0, sizeof(w->lazy_mine));
	for (int lazy = 0; lazy < 2 && w->id < s->n_workers; lazy++) {
		for (uint16_t i = 0; i < sw->n_rxq; i++) {
			const struct xvs_snap_rxq *q = &sw->rxq[i];
			const struct xvs_snap_port *p = &s->port[q->port];

			if (!p->active || p->rx_lazy != (lazy == 1))
				continue;
			if (p->ops->rxq_ready != NULL && !p->ops->rxq_ready(p->priv, q->queue))
				continue;
			w->poll[n + nl] = *q;
			if (lazy) {
				w->lazy_mine[q->port] |= (uint16_t)(1u << q->queue);
				nl++;
			} else {
				n++;
			}
		}
	}
	w->n_poll = n;
	w->n_lazy = nl;
	w->n_lzr = 0; /* lazy_ready_all fills it */
}

/* Arm or disarm rx interrupts on every queue of w's poll list, built under
 * s. Returns true if all of them support interrupts. */
static bool
intr_set(const struct xvs_worker *w, const struct xvs_snapshot *s, bool on)
{
	bool all = true;

	for (uint32_t i = 0; i < w->n_poll + w->n_lazy; i++) {
		const struct xvs_snap_port *p = &s->port[w->poll[i].port];

		if (!p->active || p->ops->rxq_intr(p->priv, w->poll[i].queue, on) != 0)
			all = false;
	}
	return all;
}

/* Before sleeping: let the kinds that keep frames of a tx burst queued
 * (ops tx_pending, an AF_XDP socket's tx ring) push them, on the tx queues
 * that are this worker's. True if frames remain: sleep with a timeout then,
 * since no fd says when the device could take them. */
static bool
tx_pending(struct xvs_worker *w, const struct xvs_snapshot *s)
{
	uint16_t k = 0;

	/* Only the ports w sent to (xvs_tx_direct lists them); one that has
	 * nothing left leaves the list until w sends to it again. A slot
	 * reused by another port meanwhile is asked once for nothing. */
	for (uint16_t i = 0; i < w->n_txp; i++) {
		uint16_t out = w->txp[i];
		const struct xvs_snap_port *p = &s->port[out];

		if (p->active && p->ops->tx_pending != NULL && w->id < p->n_txq &&
		    p->ops->tx_pending(p->priv, w->id))
			w->txp[k++] = out;
		else
			w->txp_listed[out] = false;
	}
	w->n_txp = k;
	return k > 0;
}

/* Leave the armed state. Interrupts are switched off only if the snapshot they
 * were armed under is still the current one (an older one may be freed; leaving
 * an unpolled queue armed costs at most a spurious wake-up). */
static void
disarm(struct xvs_worker *w, const struct xvs_snapshot *s, bool *armed, uint64_t armed_gen)
{
	/* The poll list is the one armed: it is rebuilt only after a disarm. */
	if (s->gen == armed_gen && w->id < s->n_workers)
		intr_set(w, s, false);
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
	*armed = false;
}

/* A worker that has slept XVS_UNPIN_AFTER_US may run on any CPU, and it goes
 * back to its own once it has been busy for XVS_REPIN_US without a break.
 *
 * Why: the frame that ends a silence is written by a task on some CPU, and
 * waking a worker pinned to another CPU that has halted means waking that
 * vCPU: 0.4-2.6 ms on this kind of VM after 10 s idle (measured), against tens of
 * microseconds wanted. Unpinned, the scheduler may run the woken worker
 * where the writer is (a wake-up from a socket write is a sync wake-up), so
 * the first frames after idle cross without that cost; a ping and its reply
 * stay well under XVS_REPIN_US. A sustained load goes back to the worker's
 * own core, where the rest of the design (one worker per core) expects it. */
#define XVS_REPIN_US 2000
/* Only an idle worker is let go: a stream's frames come closer than this,
 * and a worker unpinned at every short sleep of a stream wandered between
 * the CPUs and lost 10-20 % of a tap TCP stream (measured). */
#define XVS_UNPIN_AFTER_US 1000ull

static void
set_home(struct xvs_worker *w, bool home)
{
	rte_cpuset_t set;

	if (home) {
		set = rte_lcore_cpuset(w->lcore);
	} else {
		CPU_ZERO(&set);
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &set); /* the kernel keeps the allowed ones */
	}
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0)
		w->away = !home;
}

/* Every lazy queue of the poll list ready (in w->lzr). */
static void
lazy_ready_all(struct xvs_worker *w, uint64_t now_tsc)
{
	const struct xvs_snap_rxq *lz = w->poll + w->n_poll;

	memset(w->lazy_ready, 0, sizeof(w->lazy_ready));
	for (uint32_t i = 0; i < w->n_lazy; i++) {
		w->lazy_ready[lz[i].port] |= (uint16_t)(1u << lz[i].queue);
		w->lzr[i] = lz[i];
	}
	w->n_lzr = w->n_lazy;
	w->lazy_sweep_tsc = now_tsc;
}

/* Lazy queue q of port slot ready (its fd said so): listed once, and only
 * if it is w's. */
static void
lazy_ready(struct xvs_worker *w, uint16_t slot, uint16_t q)
{
	uint16_t bit = (uint16_t)(1u << q);

	if ((w->lazy_mine[slot] & bit) && !(w->lazy_ready[slot] & bit)) {
		w->lazy_ready[slot] |= bit;
		w->lzr[w->n_lzr].port = slot;
		w->lzr[w->n_lzr++].queue = q;
	}
}

#define EVENTS_MAX 16

/* block()'s timeout of a parked worker: wait for an fd only. */
#define XVS_PARK_FOREVER UINT64_MAX

/* Whether w has anything to look at under s besides its hand-off rings
 * (whose producers wake it): rx queues that can have frames (a queue that
 * becomes ready wakes it, xvs_dp_rxq_changed), or tx hand-off rings it
 * drains. */
static bool
has_duty(const struct xvs_worker *w, const struct xvs_snapshot *s)
{
	if (w->id >= s->n_workers)
		return false;
	return w->n_poll + w->n_lazy > 0 || s->worker[w->id].n_tx_owned > 0;
}

/* Queues whose share of a turn's tx flush is tracked (the others, beyond
 * this many busy queues in one turn, get none: the worker's overhead). */
#define XVS_BUSY_QUEUES_MAX 32

/* Share flush_tsc, the cost of transmitting a turn's frames (measured from
 * the end of the last busy queue's processing to the end of the turn), among
 * the queues that received them, in proportion to their frames (got: all
 * frames of the turn, those from hand-off rings included, whose share stays
 * overhead). */
static void
queues_share_flush(struct xvs_rxq_counters **q, const uint16_t *n, uint16_t nq, uint32_t got,
		   uint64_t flush_tsc)
{
	if (likely(nq == 1 && n[0] == got)) {
		q[0]->busy_tsc += flush_tsc;
		return;
	}
	for (uint16_t i = 0; i < nq; i++)
		q[i]->busy_tsc += flush_tsc * n[i] / got;
}

/* Wait up to ts for the worker's epoll set (ts 0: just look) and take in what
 * it reports: a tap queue's fd marks that queue ready, the wake eventfd is
 * drained. The port slot of each rx event goes to slots[] (XVS_MAX_PORTS for
 * other events), for count_events() once the worker is QSBR-online: this may
 * run offline, where counters are not written. Returns the number of events,
 * 0 on timeout. */
static int
take_events(struct xvs_worker *w, const struct timespec *ts, uint16_t slots[EVENTS_MAX])
{
	struct epoll_event ev[EVENTS_MAX];
	int n = epoll_pwait2(w->epfd, ev, RTE_DIM(ev), ts, NULL);

	for (int i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;

		slots[i] = XVS_MAX_PORTS;
		if (d & (XVS_EV_LAZY | XVS_EV_RXQ)) {
			uint16_t slot = (uint16_t)(d >> 16), q = (uint16_t)d;

			if (slot >= XVS_MAX_PORTS || q >= XVS_MAX_QUEUES)
				continue;
			slots[i] = slot;
			if (d & XVS_EV_LAZY)
				lazy_ready(w, slot, q);
		} else if ((int)d == w->wakefd) {
			uint64_t v;

			(void)!read(w->wakefd, &v, sizeof(v));
		}
	}
	return n;
}

/* Count the rx events take_events() returned. QSBR-online only: a slot's
 * counters are zeroed by the control thread after a grace period, which an
 * offline worker does not hold up. */
static void
count_events(struct xvs_worker *w, const uint16_t *slots, int n)
{
	assert(!w->offline);
	for (int i = 0; i < n; i++)
		if (slots[i] < XVS_MAX_PORTS)
			w->ctr[slots[i]].rx_events++;
}

/* Returns true if an fd woke the worker, false on timeout. */
static bool
block(struct xvs_worker *w, uint64_t timeout_ns)
{
	uint64_t t0 = rte_rdtsc();
	uint64_t first_ns = timeout_ns;
	uint16_t slots[EVENTS_MAX];
	struct timespec ts;
	int n;

	rte_rcu_qsbr_thread_offline(xvs_dp.qsbr, w->id);
	w->offline = true;
	/* Pinned for the first XVS_UNPIN_AFTER_US: a stream's next frame comes
	 * within that, and the worker should not wander between frames. */
	if (!w->away && first_ns > XVS_UNPIN_AFTER_US * 1000)
		first_ns = XVS_UNPIN_AFTER_US * 1000;
	ts.tv_sec = (time_t)(first_ns / 1000000000ull);
	ts.tv_nsec = (long)(first_ns % 1000000000ull);
	n = w->away && timeout_ns == XVS_PARK_FOREVER ? 0 : take_events(w, &ts, slots);
	if (n == 0 && timeout_ns == XVS_PARK_FOREVER) {
		/* parked: no timeout, an fd (the wake eventfd) ends it */
		set_home(w, false);
		atomic_store_explicit(&w->parked, true, memory_order_relaxed);
		w->parks++;
		n = take_events(w, NULL, slots);
		atomic_store_explicit(&w->parked, false, memory_order_relaxed);
	} else if (n == 0 && first_ns < timeout_ns) {
		set_home(w, false);
		ts.tv_sec = (time_t)((timeout_ns - first_ns) / 1000000000ull);
		ts.tv_nsec = (long)((timeout_ns - first_ns) % 1000000000ull);
		n = take_events(w, &ts, slots);
	}
	rte_rcu_qsbr_thread_online(xvs_dp.qsbr, w->id);
	w->offline = false;
	count_events(w, slots, n);
	w->sleep_tsc += rte_rdtsc() - t0;
	w->wakeups++;
	/* A timeout marks no lazy queue ready: each has an fd that epoll
	 * watches, and the main loop's sweep (XVS_LAZY_SWEEP_US per
	 * XVS_LAZY_SWEEP_QUEUES queues) reads them all when one is due. Marking
	 * them all here read a thousand taps every XVS_IDLE_SLEEP_INTR_NS. */
	return n > 0;
}

int
xvs_worker_main(void *arg)
{
	struct xvs_worker *w = arg;
	struct rte_mbuf *pkts[XVS_BURST];
	const struct xvs_idle_params idle_p = {
		.spin = xvs_dp.tsc_hz / 1000000 * XVS_IDLE_SPIN_US,
		.spin_fd = xvs_dp.tsc_hz / 1000000 * XVS_IDLE_SPIN_FD_US,
		.sleep_min_ns = XVS_IDLE_SLEEP_MIN_NS,
		.sleep_max_ns = XVS_IDLE_SLEEP_MAX_NS,
		.sleep_intr_ns = XVS_IDLE_SLEEP_INTR_NS,
	};
	struct xvs_idle idle;
	uint64_t sweep_base_tsc = xvs_dp.tsc_hz / 1000000 * XVS_LAZY_SWEEP_US;
	uint64_t sweep_tsc = sweep_base_tsc;
	uint64_t look_tsc = xvs_dp.tsc_hz / 1000000 * XVS_LAZY_LOOK_US, looked_tsc = 0;
	bool lazy_skipped = false, last_got = false;
	uint64_t repin_tsc = xvs_dp.tsc_hz / 1000000 * XVS_REPIN_US;
	uint64_t woke_tsc = 0;
	uint64_t armed_gen = 0;
	uint64_t poll_gen = UINT64_MAX, poll_epoch = 0; /* what w->poll was built for */
	bool armed = false, all_intr = false, parkable = false;
	uint64_t qos_wake = UINT64_MAX; /* when the scheduler may send again */

	{
		sigset_t io; /* see main(): tap data signals are handled here */

		sigemptyset(&io);
		sigaddset(&io, SIGIO);
		pthread_sigmask(SIG_UNBLOCK, &io, NULL);
	}
	w->tid = (int)gettid();
	rte_rcu_qsbr_thread_register(xvs_dp.qsbr, w->id);
	rte_rcu_qsbr_thread_online(xvs_dp.qsbr, w->id);
	xvs_idle_init(&idle, &idle_p, rte_rdtsc());

	while (!xvs_dp.quit) {
		/* Quiescent here, before the turn takes its snapshot, not after
		 * its tx flush: the rest of a turn (arming interrupts, tx_pending,
		 * disarm) still reads s, and a quiescent state reported before
		 * that let the control thread free s and build the next snapshot
		 * in its memory while this worker read it (a worker crashed in
		 * intr_set on a port with active set and ops not yet, seen while
		 * adding the 700th of 1,000 ports one port.add each). */
		rte_rcu_qsbr_quiescent(xvs_dp.qsbr, w->id);
		const struct xvs_snapshot *s =
			atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
		uint64_t epoch = atomic_load_explicit(&xvs_dp.rxq_epoch, memory_order_seq_cst);
		uint64_t t0 = rte_rdtsc(), t1;
		uint64_t tq = t0; /* start of the open interval */
		struct xvs_rxq_counters *open_q = NULL; /* queue whose time runs from tq */
		uint32_t got = 0, handed = 0;
		/* queues that had frames this turn, and how many: they share the
		 * cost of the tx flush */
		struct xvs_rxq_counters *busy_q[XVS_BUSY_QUEUES_MAX];
		uint16_t busy_n[XVS_BUSY_QUEUES_MAX], n_busy = 0;
		struct xvs_busy_acct acct = {&open_q, &tq, busy_q, busy_n, &n_busy,
					     RTE_DIM(busy_q)};
		bool polled_busy = false, polled_short = false;

		if (unlikely(poll_gen != s->gen || poll_epoch != epoch)) {
			/* Armed queues are disarmed from the list that armed
			 * them; the next idle turn arms the new one. */
			if (armed)
				disarm(w, s, &armed, armed_gen);
			poll_build(w, s);
			poll_gen = s->gen;
			poll_epoch = epoch;
			w->lazy_gen = UINT64_MAX; /* the ready list names old queues */
		}
		/* Which lazy queues to read this turn: all of them after a change
		 * of queues and every XVS_LAZY_SWEEP_US, else those epoll reports. */
		if (unlikely(w->lazy_gen != s->gen) || t0 - w->lazy_sweep_tsc > sweep_tsc) {
			sweep_tsc = sweep_base_tsc *
				    RTE_MAX(1u, (unsigned int)w->n_lazy / XVS_LAZY_SWEEP_QUEUES);
			w->lazy_gen = s->gen;
			lazy_ready_all(w, t0);
		} else if (lazy_skipped && (!last_got || t0 - looked_tsc > look_tsc)) {
			static const struct timespec now = {0, 0};
			uint16_t slots[EVENTS_MAX];

			looked_tsc = t0;
			count_events(w, slots, take_events(w, &now, slots));
		}
		polled_short = w->n_lazy > 0;
		if (likely(w->id < s->n_workers)) {
			/* The queues that are not lazy, then the lazy ones that
			 * may have frames (w->lzr, compacted as they run dry). */
			uint32_t n_nl = w->n_poll, n_all = n_nl + w->n_lzr, kept = 0;

			for (uint32_t i = 0; i < n_all; i++) {
				const struct xvs_snap_rxq *q =
					i < n_nl ? &w->poll[i] : &w->lzr[i - n_nl];
				const struct xvs_snap_port *p = &s->port[q->port];
				struct xvs_rxq_counters *qc = &w->rxq_ctr[q->port][q->queue];
				uint64_t bytes = 0;
				uint16_t n, bit = (uint16_t)(1u << q->queue);

				if (i >= n_nl) {
					/* its read is a syscall: nobody else's busy time */
					if (open_q != NULL) {
						t1 = rte_rdtsc();
						open_q->busy_tsc += t1 - tq;
						open_q = NULL;
						tq = t1;
					}
				} else if (p->rx_spin_short) {
					polled_short = true;
				} else {
					polled_busy = true;
				}
				n = p->ops->rx_burst(p->priv, q->queue, pkts, XVS_BURST,
						     &w->ctr[q->port]);
				qc->polls++;
				if (n == 0) {
					qc->empty_polls++;
					/* Nothing: a lazy queue's fd is dry (or the pool
					 * is; epoll will say it is readable). One that
					 * gave frames is read again next turn without
					 * asking epoll first: under load that is one
					 * syscall less per turn. Its empty read was a
					 * syscall: not the next queue's busy time. */
					if (i >= n_nl) {
						w->lazy_ready[q->port] &= (uint16_t)~bit;
						tq = rte_rdtsc();
					}
					continue;
				}
				if (i >= n_nl)
					w->lzr[kept++] = *q; /* kept <= i - n_nl */
				/* This queue's time starts here (or at the last
				 * boundary read, with the empty polls since): end
				 * the open one's, if another queue had frames. */
				if (open_q != NULL) {
					t1 = rte_rdtsc();
					open_q->busy_tsc += t1 - tq;
					tq = t1;
				}
				open_q = qc;
				got += n;
				w->rx_packets += n;
				for (uint16_t j = 0; j < n; j++)
					bytes += pkts[j]->pkt_len;
				qc->packets += n;
				qc->bytes += bytes;
				if (likely(n_busy < RTE_DIM(busy_q))) {
					busy_q[n_busy] = qc;
					busy_n[n_busy++] = n;
				}
				if (p->vmq != NULL)
					n = xvs_vmq_steer_burst(w, s, p, q->port, pkts, n, t0,
								&acct);
				if (p->rss_spread && n > 0)
					n = rss_spread(w, p, q->port, pkts, n);
				if (n > 0)
					xvs_l2_forward_burst(w, s, q->port, pkts, n, t0);
			}
			w->n_lzr = kept;
			handed = drain_tx_rings(w, s);
			if (unlikely(s->worker[w->id].n_qos_owned > 0))
				handed += xvs_qos_service(w, s);
		}
		/* A lazy queue ran dry (or was not ready): ask epoll next turn. */
		lazy_skipped = w->n_lzr < w->n_lazy;
		/* Even when no longer active: what was handed over before the
		 * worker count dropped must not stay stuck in its rings. */
		handed += rss_drain(w, s, t0, &acct);
		got += handed;
		/* End the last busy queue's time before the flush when the flush
		 * is to be shared: with other busy queues, or with the frames
		 * handed over by other workers (whose work is overhead). The
		 * common turn, one busy queue, reads no clock of its own. */
		if (open_q != NULL && (n_busy > 1 || handed > 0)) {
			t1 = rte_rdtsc();
			open_q->busy_tsc += t1 - tq;
			open_q = NULL;
			tq = t1;
		} else if (unlikely(handed > 0)) {
			tq = rte_rdtsc();
		}
		xvs_tx_flush_all(w, s);
		w->loops++;
		t1 = rte_rdtsc();
		/* The rest of the turn, mostly its tx flush: to the one busy
		 * queue with its own processing, or shared by frames. */
		if (open_q != NULL)
			open_q->busy_tsc += t1 - tq;
		else if (n_busy > 0)
			queues_share_flush(busy_q, busy_n, n_busy, got, t1 - tq);
		n_busy = 0;
		last_got = got > 0;
		if (got > 0) {
			w->busy_tsc += t1 - t0;
			if (unlikely(w->away) && t1 - woke_tsc > repin_tsc)
				set_home(w, true);
			xvs_idle_work(&idle, &idle_p, t1);
			if (unlikely(armed))
				disarm(w, s, &armed, armed_gen);
			continue;
		}
		w->idle_tsc += t1 - t0;
		/* Short spin only for a worker whose every queue is lazy or
		 * rx_spin_short: one that only drains hand-off rings polls
		 * memory, which is cheap. */
		if (!xvs_idle_may_sleep(&idle, &idle_p, t1, polled_short && !polled_busy))
			continue;
		if (armed && armed_gen != s->gen)
			disarm(w, s, &armed, armed_gen);
		if (!armed) {
			/* Arm interrupts and announce sleep, then take one more turn: a
			 * frame that arrived before arming is picked up by that turn, one
			 * that arrives after it raises an interrupt or sees sleeping. */
			all_intr = intr_set(w, s, true);
			qos_wake = UINT64_MAX;
			if (w->id < s->n_workers && xvs_qos_pending(w, s, &qos_wake))
				all_intr = parkable = false;
			else if (tx_pending(w, s))
				all_intr = parkable = false;
			else
				parkable = !has_duty(w, s);
			atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
			atomic_thread_fence(memory_order_seq_cst); /* before the next look at the rings */
			armed = true;
			armed_gen = s->gen;
			continue;
		}
		uint64_t tmo = parkable ? XVS_PARK_FOREVER :
					  xvs_idle_timeout_ns(&idle, &idle_p, all_intr);

		/* Pacing: frames wait for the scheduler's time, not the idle
		 * back-off (which doubles up to its maximum). */
		if (qos_wake != UINT64_MAX) {
			uint64_t now_ns = xvs_tsc_ns(rte_rdtsc());

			tmo = RTE_MIN(tmo, qos_wake > now_ns ? qos_wake - now_ns : 0);
		}
		bool woken = block(w, tmo);

		/* s may have been freed while we were offline: use the current one. */
		disarm(w, atomic_load_explicit(&xvs_dp.snap, memory_order_acquire), &armed,
		       armed_gen);
		woke_tsc = rte_rdtsc();
		xvs_idle_woke(&idle, &idle_p, woke_tsc, woken, all_intr);
	}
	xvs_tx_flush_all(w, atomic_load_explicit(&xvs_dp.snap, memory_order_acquire));
	rte_rcu_qsbr_thread_offline(xvs_dp.qsbr, w->id);
	rte_rcu_qsbr_thread_unregister(xvs_dp.qsbr, w->id);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress QoS on the datapath (see qos_egress.h for the model and who owns
 * what): classification at the producers' tx flush, hand-off to the owner
 * worker, per-class FIFOs, the scheduler's picks, 802.1p marking, transmit.
 */
#include <stddef.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dp.h"
#include "qos_egress.h"

_Static_assert(XVS_QOS_MAX_PORTS == XVS_MAX_PORTS, "plan's src_cls covers every slot");
_Static_assert(XVS_MAX_WORKERS <= 16, "one hand-off ring per worker");
_Static_assert((XVS_QOS_FIFO_SIZE & (XVS_QOS_FIFO_SIZE - 1)) == 0, "FIFO size power of 2");
_Static_assert(XVS_QOS_MAX_CLASSES <= 256, "a class fits the mbuf's hash.sched.traffic_class");

/* The class of frame m from its metadata and headers. */
static inline uint8_t
classify(const struct xvs_qos_plan *pl, struct rte_mbuf *m)
{
	const struct xvs_pkt_meta *md = xvs_meta(m);
	uint8_t c = md->in_port < XVS_MAX_PORTS ? pl->src_cls[md->in_port] : 0;
	uint64_t w1;

	if (c != 0 || pl->n_rules == 0)
		return c;
	memcpy(&w1, (const uint8_t *)md + 8, sizeof(w1)); /* pcp .. l4_off (dp.h) */
	return xvs_qos_classify_w1(pl, w1, rte_pktmbuf_mtod(m, const uint8_t *),
				   rte_pktmbuf_data_len(m));
}

void
xvs_qos_classify_burst(const struct xvs_qos_plan *pl, struct rte_mbuf **pkts, uint16_t n,
		       uint32_t same_class, uint32_t classed)
{
	/* n <= XVS_BURST <= 32 (dp.h): a bit per frame. */
	uint32_t all = n == 32 ? UINT32_MAX : (1u << n) - 1;
	uint8_t c = 0;

	if ((classed & all) == all)
		return; /* the L2 stage classified them all */
	for (uint16_t i = 0; i < n; i++) {
		if (classed & (1u << i)) {
			c = rte_mbuf_sched_traffic_class_get(pkts[i]);
			continue;
		}
		if (i == 0 || !(same_class & (1u << i)))
			c = classify(pl, pkts[i]);
		rte_mbuf_sched_traffic_class_set(pkts[i], c);
	}
}

#define PREFETCH_AHEAD 4

/* Which of xvs_dp's pools m comes from (XVS_QOS_POOLS - 1: another). */
static inline uint32_t
pool_index(const struct rte_mbuf *m)
{
	const struct rte_mempool *mp = m->pool;

	if (likely(mp == xvs_dp.pool))
		return 0;
	if (mp == xvs_dp.tap_pool)
		return 1;
	if (mp == xvs_dp.flood_pool)
		return 2;
	if (mp == xvs_dp.flood_big_pool)
		return 3;
	if (mp == xvs_dp.jumbo_pool)
		return 4;
	return XVS_QOS_POOLS - 1;
}

/* What the owner's FIFOs hold of each pool, over every port it schedules,
 * and what they may hold: its part of a share of the pool, so that frames
 * waiting for the scheduler (a slow class, a pause) never take the buffers
 * rx needs. The share is split evenly between the owners (the snapshot
 * counts them): each counts only its own FIFOs, and the bound must hold for
 * all of them together. Per burst; another pool (the last index) is not
 * limited. */
struct pool_budget {
	uint32_t tot[XVS_QOS_POOLS], lim[XVS_QOS_POOLS];
	uint32_t n_ports;               /* ports the owner schedules */
};

static void
pool_budget(const struct xvs_worker *w, const struct xvs_snapshot *s, struct pool_budget *b)
{
	const struct xvs_snap_worker *sw = &s->worker[w->id];
	const struct rte_mempool *mp[XVS_QOS_POOLS - 1] = {
		xvs_dp.pool, xvs_dp.tap_pool, xvs_dp.flood_pool, xvs_dp.flood_big_pool,
		xvs_dp.jumbo_pool};

	uint32_t owners = RTE_MAX(s->n_qos_owners, 1);

	memset(b->tot, 0, sizeof(b->tot));
	for (uint32_t k = 0; k < XVS_QOS_POOLS; k++)
		b->lim[k] = k < XVS_QOS_POOLS - 1 && mp[k] != NULL ?
				    mp[k]->size / XVS_QOS_POOL_SHARE / owners : UINT32_MAX;
	for (uint16_t i = 0; i < sw->n_qos_owned; i++)
		for (uint32_t k = 0; k < XVS_QOS_POOLS; k++)
			b->tot[k] += s->port[sw->qos_owned[i]].qos->pool_q[k];
	b->n_ports = RTE_MAX(sw->n_qos_owned, 1);
}

/* The owner's part of the pool's share is used up: may class c still queue
 * a frame? Only while it holds less than its fair part of that part (over
 * the backlogged classes of this port and the owner's ports): a shared limit
 * alone would let a slow class keep the buffers and empty the fast ones'
 * queues, and with them their share of the link. So each owner's FIFOs hold
 * at most twice its part, all owners' together twice the share. Rare (the
 * part is full): per frame then. */
static bool
pool_fair(const struct xvs_qos_port *q, uint32_t n_cls, uint32_t c, uint32_t lim,
	  uint32_t n_ports)
{
	uint32_t busy = 1, held = q->q[c].tail - q->q[c].head;

	for (uint32_t k = 0; k < n_cls; k++)
		busy += k != c && q->q[k].tail != q->q[k].head;
	return held < lim / (busy * n_ports);
}

/* Put pkts[0..n) into their class FIFOs (owner only), or drop them: FIFO
 * full. Counted per burst where it can be: per frame only the FIFO's slot,
 * length and bytes. */
static inline void
fifo_put_burst(struct xvs_worker *w, struct xvs_qos_port *q, const struct xvs_qos_plan *pl,
	       uint16_t out, struct rte_mbuf **pkts, uint32_t n, struct pool_budget *pb)
{
	uint32_t n_cls = pl->cfg.n_classes, drops = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = m->pkt_len, c;
		struct xvs_qos_fifo *f;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(pkts[i + PREFETCH_AHEAD]);
		c = rte_mbuf_sched_traffic_class_get(m);
		if (unlikely(c >= n_cls))
			c = 0; /* classified under a plan with more classes */
		f = &q->q[c];
		uint32_t pi = pool_index(m);

		if (unlikely(f->tail - f->head >= XVS_QOS_FIFO_SIZE ||
			     (f->bytes + len > pl->qlimit_bytes && f->tail != f->head) ||
			     (pb->tot[pi] >= pb->lim[pi] &&
			      !pool_fair(q, n_cls, c, pb->lim[pi], pb->n_ports)))) {
			if (pb->tot[pi] >= pb->lim[pi])
				q->pool_limited++;
			q->ctr[c].dropped_frames++;
			q->ctr[c].dropped_bytes += len;
			drops++;
			rte_pktmbuf_free(m);
			continue;
		}
		pb->tot[pi]++;
		q->pool_q[pi]++;
		f->pool[f->tail & (XVS_QOS_FIFO_SIZE - 1)] = (uint8_t)pi;
		f->m[f->tail & (XVS_QOS_FIFO_SIZE - 1)] = m;
		f->len[f->tail & (XVS_QOS_FIFO_SIZE - 1)] = len;
		f->tail++;
		f->bytes += len;
	}
	if (unlikely(drops > 0))
		w->ctr[out].drop[XVS_DROP_qos_queue_full] += drops;
	if (n > drops)
		q->wake_ns = 0; /* a new head may send now, whatever held the others */
}

/* 802.1p: set the priority of a tagged frame, or give an untagged one a
 * priority tag (VID 0, IEEE 802.1Q-2018 9.6), as the uplink's class says.
 * Without headroom for the tag the frame goes unmarked. */
static inline void
mark_pcp(struct rte_mbuf *m, uint8_t pcp)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	if (m->data_len >= 18 && d[12] == 0x81 && d[13] == 0x00) {
		d[14] = (uint8_t)((d[14] & 0x1f) | (pcp << 5));
		return;
	}
	d = (uint8_t *)rte_pktmbuf_prepend(m, 4);
	if (d == NULL)
		return;
	memmove(d, d + 4, 12);
	d[12] = 0x81;
	d[13] = 0x00;
	d[14] = (uint8_t)(pcp << 5);
	d[15] = 0;
	if (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM))
		m->l2_len += 4; /* offload offsets follow the headers */
}

/* send_direct for a burst the scheduler lets go whole (xvs_qos_pick_all):
 * as it came, counted per class. False (nothing done) when it does not. */
static bool
send_whole(struct xvs_worker *w, const struct xvs_snap_port *p, struct xvs_qos_port *q,
	   uint16_t out, struct rte_mbuf **pkts, uint16_t n, const uint8_t *tc,
	   const uint32_t *lens, uint64_t now_ns)
{
	const struct xvs_qos_plan *pl = p->qos_plan;
	struct xvs_qos_sent sent;

	if (!xvs_qos_pick_all(&q->sched, tc, lens, n, pl->wire_len ? 24 : 0, now_ns, &sent))
		return false;
	for (uint32_t m = sent.seen; m != 0; m &= m - 1) {
		uint32_t c = (uint32_t)__builtin_ctz(m);

		q->ctr[c].sent_frames += sent.frames[c];
		q->ctr[c].sent_bytes += sent.bytes[c];
	}
	if (pl->any_pcp)
		for (uint16_t i = 0; i < n; i++)
			if (pl->pcp[tc[i]] >= 0)
				mark_pcp(pkts[i], (uint8_t)pl->pcp[tc[i]]);
	xvs_tx_direct(w, p, out, pkts, n);
	return true;
}

/* send_direct for a burst of several classes (tc[i]: frame i's, lens[i]:
 * its length) that does not go whole: the frames are sorted by class,
 * stably, into ord[], each class's lengths a backlog of its own, and the
 * scheduler's picks take each class's next frame. pkts[] is left with what
 * was not sent, each class's frames in order (*k_out: how many were sent). */
static void
send_direct_mixed(struct xvs_worker *w, const struct xvs_snap_port *p, struct xvs_qos_port *q,
		  uint16_t out, struct rte_mbuf **pkts, uint16_t n, const uint8_t *tc,
		  const uint32_t *lens, uint64_t now_ns, uint32_t *k_out)
{
	const struct xvs_qos_plan *pl = p->qos_plan;
	struct xvs_qos_backlog bl[XVS_QOS_MAX_CLASSES];
	uint32_t n_cls = pl->cfg.n_classes, k, off[XVS_QOS_MAX_CLASSES + 1] = {0};
	uint32_t at[XVS_QOS_MAX_CLASSES], slen[XVS_BURST];
	struct rte_mbuf *ord[XVS_BURST], *burst[XVS_BURST];
	uint8_t cls[XVS_BURST];
	uint64_t wake = 0;

	for (uint16_t i = 0; i < n; i++)
		off[tc[i] + 1]++;
	for (uint32_t c = 0; c < n_cls; c++)
		off[c + 1] += off[c];
	memcpy(at, off, sizeof(at[0]) * n_cls);
	for (uint16_t i = 0; i < n; i++) {
		uint32_t j = at[tc[i]]++;

		ord[j] = pkts[i];
		slen[j] = lens[i];
	}
	for (uint32_t c = 0; c < n_cls; c++)
		bl[c] = (struct xvs_qos_backlog){slen + off[c], UINT32_MAX, 0, off[c + 1] - off[c]};
	k = xvs_qos_pick_burst(&q->sched, bl, pl->wire_len ? 24 : 0, now_ns, cls, n, &wake);
	memcpy(at, off, sizeof(at[0]) * n_cls);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t c = cls[j], i = at[c]++;

		burst[j] = ord[i];
		q->ctr[c].sent_frames++;
		q->ctr[c].sent_bytes += slen[i];
		if (pl->any_pcp && pl->pcp[c] >= 0)
			mark_pcp(burst[j], (uint8_t)pl->pcp[c]);
	}
	if (k > 0)
		xvs_tx_direct(w, p, out, burst, (uint16_t)k);
	if (k < n) {
		uint32_t r = 0;

		/* What waits: each class's rest, in order, from pkts[k] on
		 * (the caller queues pkts[k..n)). */
		for (uint32_t c = 0; c < n_cls; c++)
			for (uint32_t i = at[c]; i < off[c + 1]; i++)
				pkts[k + r++] = ord[i];
		q->wake_ns = wake;
	}
	*k_out = k;
}

/* Nothing of port q waits for its scheduler: every class FIFO and every
 * worker's hand-off ring empty. */
static inline bool
nothing_queued(const struct xvs_qos_port *q, const struct xvs_qos_plan *pl)
{
	for (uint32_t c = 0; c < pl->cfg.n_classes; c++)
		if (q->q[c].tail != q->q[c].head)
			return false;
	for (uint16_t i = 0; i < xvs_dp.n_workers_max && i < RTE_DIM(q->ring); i++)
		if (q->ring[i] != NULL && !rte_ring_empty(q->ring[i]))
			return false;
	return true;
}

/* Does a pause frame hold some priority of the port now? None was ever
 * received: one load. Else the latest end of the pauses the frames so far
 * set, taken again only when another came (pause_seq moved), against the
 * clock: a port paused once takes the direct path again once that passed. */
static inline bool
paused(struct xvs_qos_port *q)
{
	uint32_t seq = __atomic_load_n(&q->pause_seq, __ATOMIC_ACQUIRE);

	if (likely(seq == 0))
		return false;
	if (seq != q->direct_seq) {
		uint64_t end = 0;

		for (uint32_t pr = 0; pr < 8; pr++)
			end = RTE_MAX(end, __atomic_load_n(&q->pause_until[pr], __ATOMIC_RELAXED));
		q->direct_seq = seq;
		q->pause_end = end;
	}
	return xvs_tsc_ns(rte_rdtsc()) < q->pause_end;
}

/* The owner's own burst when the scheduler knows of nothing else: its
 * FIFOs and every hand-off ring empty, the plan its scheduler was built for,
 * no priority paused now. Then the scheduler sees exactly what it would see once the
 * frames were queued (each class's frames of the burst, in order, the only
 * backlog), so it picks from the burst itself: what it allows now is sent
 * at once, in the order of its picks (no FIFO put and take per frame, no
 * scheduling turn), the rest is queued in order: a burst the scheduler
 * lets go whole as it came (send_whole), else one of several classes
 * through send_direct_mixed. Returns false (nothing done) when these do not
 * hold. */
static bool
send_direct(struct xvs_worker *w, const struct xvs_snap_port *p, struct xvs_qos_port *q,
	    uint16_t out, struct rte_mbuf **pkts, uint16_t n, uint32_t *k_out)
{
	const struct xvs_qos_plan *pl = p->qos_plan;
	struct xvs_qos_backlog bl[XVS_QOS_MAX_CLASSES];
	uint32_t lens[XVS_BURST], n_cls = pl->cfg.n_classes, c, k, mixed = 0;
	uint8_t cls[XVS_BURST], tc[XVS_BURST];
	uint64_t bytes = 0, wake = 0, now_ns;

	if (unlikely(n > XVS_BURST || q->plan_gen != pl->gen || paused(q)) ||
	    !nothing_queued(q, pl))
		return false;
	c = rte_mbuf_sched_traffic_class_get(pkts[0]);
	for (uint16_t i = 0; i < n; i++) {
		tc[i] = rte_mbuf_sched_traffic_class_get(pkts[i]);
		mixed |= tc[i] ^ c;
		if (unlikely(tc[i] >= n_cls))
			return false;
		lens[i] = pkts[i]->pkt_len;
	}
	now_ns = xvs_tsc_ns(rte_rdtsc());
	if (send_whole(w, p, q, out, pkts, n, tc, lens, now_ns)) {
		*k_out = n;
		return true;
	}
	if (unlikely(mixed != 0)) {
		send_direct_mixed(w, p, q, out, pkts, n, tc, lens, now_ns, k_out);
		return true;
	}
	for (uint32_t i = 0; i < n_cls; i++)
		bl[i] = (struct xvs_qos_backlog){lens, UINT32_MAX, 0, i == c ? n : 0};
	k = xvs_qos_pick_burst(&q->sched, bl, pl->wire_len ? 24 : 0, now_ns, cls, n, &wake);
	for (uint32_t i = 0; i < k; i++)
		bytes += lens[i];
	if (pl->any_pcp && pl->pcp[c] >= 0)
		for (uint32_t i = 0; i < k; i++)
			mark_pcp(pkts[i], (uint8_t)pl->pcp[c]);
	if (k > 0) {
		q->ctr[c].sent_frames += k;
		q->ctr[c].sent_bytes += bytes;
		xvs_tx_direct(w, p, out, pkts, (uint16_t)k);
	}
	if (k < n)
		q->wake_ns = wake;
	*k_out = k;
	return true;
}

void
xvs_qos_handoff(struct xvs_worker *w, const struct xvs_snap_port *p, uint16_t out,
		struct rte_mbuf **pkts, uint16_t n)
{
	struct xvs_qos_port *q = p->qos;
	uint16_t sent;

	/* The owner queues its own frames directly, unless frames it handed
	 * over before it became the owner still wait in its ring: after them. */
	if (w->id == p->qos_owner && rte_ring_empty(q->ring[w->id])) {
		struct pool_budget pb;
		uint32_t k = 0;
		bool direct = send_direct(w, p, q, out, pkts, n, &k);
		uint64_t wake = q->wake_ns;

		if (k == n)
			return;
		/* The rest (all of it without the direct path) waits in the
		 * FIFOs. p is &s->port[out] of the snapshot the worker runs on. */
		pool_budget(w, (const struct xvs_snapshot *)(const void *)
				       ((const char *)(p - out) - offsetof(struct xvs_snapshot, port)),
			    &pb);
		fifo_put_burst(w, q, p->qos_plan, out, pkts + k, (uint16_t)(n - k), &pb);
		if (direct)
			q->wake_ns = wake; /* the scheduler's word on what waits */
		return;
	}
	/* One producer per ring: this worker. The owner counts what it takes. */
	sent = (uint16_t)rte_ring_sp_enqueue_burst(q->ring[w->id], (void **)pkts, n, NULL);
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		w->ctr[out].drop[XVS_DROP_tx_full] += n - sent;
	}
	if (sent > 0 && p->qos_owner < xvs_dp.n_workers_max)
		xvs_worker_wake(xvs_dp.worker[p->qos_owner]);
}

/* The plan changed: rebuild the scheduler (tags and buckets start afresh),
 * drop what waits in classes the plan no longer has. */
static void
reconfigure(struct xvs_worker *w, struct xvs_qos_port *q, const struct xvs_qos_plan *pl,
	    uint16_t out, uint64_t now_ns)
{
	for (uint32_t c = pl->cfg.n_classes; c < XVS_QOS_MAX_CLASSES; c++) {
		struct xvs_qos_fifo *f = &q->q[c];

		while (f->head != f->tail) {
			q->pool_q[f->pool[f->head & (XVS_QOS_FIFO_SIZE - 1)]]--;
			rte_pktmbuf_free(f->m[f->head++ & (XVS_QOS_FIFO_SIZE - 1)]);
			w->ctr[out].drop[XVS_DROP_qos_flushed]++;
		}
		f->bytes = 0;
	}
	if (q->layout_gen != pl->layout_gen) {
		memset(q->ctr, 0, sizeof(q->ctr));
		/* offered = sent + dropped + queued: what waits now was offered */
		q->layout_gen = pl->layout_gen;
	}
	xvs_qos_sched_init(&q->sched, &pl->cfg, now_ns);
	q->plan_gen = pl->gen;
	q->wake_ns = 0;
}

/* Take in what other workers handed over. */
static uint32_t
take_in(struct xvs_worker *w, struct xvs_qos_port *q, const struct xvs_qos_plan *pl,
	uint16_t out, struct pool_budget *pb)
{
	struct rte_mbuf *pkts[XVS_BURST];
	uint32_t total = 0;

	for (uint16_t src = 0; src < xvs_dp.n_workers_max; src++) {
		unsigned int n;

		if (q->ring[src] == NULL)
			continue;
		/* Up to a FIFO's worth per turn: a full ring is drained in a few turns. */
		for (int b = 0; b < 8; b++) {
			n = rte_ring_sc_dequeue_burst(q->ring[src], (void **)pkts, XVS_BURST, NULL);
			fifo_put_burst(w, q, pl, out, pkts, n, pb);
			total += n;
			if (n < XVS_BURST)
				break;
		}
	}
	return total;
}

/* Send what the scheduler allows now, at most XVS_QOS_TURN_BUDGET frames:
 * the scheduler picks a burst at a time from the FIFOs' length rings, the
 * class counters are updated per burst from the FIFOs' heads and bytes. */
static uint32_t
schedule(struct xvs_worker *w, const struct xvs_snap_port *p, struct xvs_qos_port *q,
	 const struct xvs_qos_plan *pl, uint16_t out, uint64_t now_ns)
{
	struct xvs_qos_backlog bl[XVS_QOS_MAX_CLASSES];
	uint32_t head0[XVS_QOS_MAX_CLASSES];
	uint64_t bytes0[XVS_QOS_MAX_CLASSES];
	struct rte_mbuf *burst[XVS_BURST];
	uint8_t cls[XVS_BURST];
	uint32_t n_cls = pl->cfg.n_classes, sent = 0, extra = pl->wire_len ? 24 : 0;

	uint32_t seq = __atomic_load_n(&q->pause_seq, __ATOMIC_ACQUIRE), paused = 0;
	uint64_t resume = UINT64_MAX;

	if (unlikely(seq != q->pause_seen)) {
		q->pause_seen = seq; /* a pause frame came: what it changed counts now */
		q->wake_ns = 0;
	}
	if (now_ns < q->wake_ns)
		return 0;
	if (unlikely(seq != 0)) {
		/* Some pause frame was received once: which priorities hold now. */
		for (uint32_t pr = 0; pr < 8; pr++) {
			uint64_t until = __atomic_load_n(&q->pause_until[pr], __ATOMIC_RELAXED);

			if (until > now_ns) {
				paused |= 1u << pr;
				resume = RTE_MIN(resume, until);
			}
		}
	}
	for (uint32_t c = 0; c < n_cls; c++) {
		struct xvs_qos_fifo *f = &q->q[c];

		head0[c] = f->head;
		bytes0[c] = f->bytes;
		bl[c] = (struct xvs_qos_backlog){f->len, XVS_QOS_FIFO_SIZE - 1, f->head,
						 f->tail - f->head};
		/* A paused priority's class looks empty to the scheduler: it
		 * earns no credit while paused (as one held by its cap). */
		if (unlikely(paused != 0) && (paused >> (pl->pcp[c] >= 0 ? pl->pcp[c] : 0)) & 1)
			bl[c].n = 0;
	}
	while (sent < XVS_QOS_TURN_BUDGET) {
		uint32_t want = RTE_MIN((uint32_t)XVS_BURST, XVS_QOS_TURN_BUDGET - sent), k;
		uint64_t wake = 0;

		k = xvs_qos_pick_burst(&q->sched, bl, extra, now_ns, cls, want, &wake);
		for (uint32_t j = 0; j < k; j++) {
			uint32_t c = cls[j];
			struct xvs_qos_fifo *f = &q->q[c];
			uint32_t i = f->head++ & (XVS_QOS_FIFO_SIZE - 1);

			burst[j] = f->m[i];
			f->bytes -= f->len[i];
			q->pool_q[f->pool[i]]--;
			bl[c].head++;
			bl[c].n--;
		}
		if (pl->any_pcp)
			for (uint32_t j = 0; j < k; j++)
				if (pl->pcp[cls[j]] >= 0)
					mark_pcp(burst[j], (uint8_t)pl->pcp[cls[j]]);
		if (k > 0)
			xvs_tx_direct(w, p, out, burst, (uint16_t)k);
		sent += k;
		if (k < want) {
			q->wake_ns = RTE_MIN(wake, resume);
			break;
		}
	}
	for (uint32_t c = 0; c < n_cls && sent > 0; c++) {
		const struct xvs_qos_fifo *f = &q->q[c];

		q->ctr[c].sent_frames += f->head - head0[c];
		q->ctr[c].sent_bytes += bytes0[c] - f->bytes;
	}
	return sent;
}

/* Nothing waits for port q's scheduler (its rings and FIFOs empty, no
 * pause frame since the last turn): the owner's own frames went out at
 * hand-off (send_direct). */
static inline bool
idle(const struct xvs_qos_port *q, const struct xvs_qos_plan *pl)
{
	return __atomic_load_n(&q->pause_seq, __ATOMIC_RELAXED) == q->pause_seen &&
	       nothing_queued(q, pl);
}

uint32_t
xvs_qos_service(struct xvs_worker *w, const struct xvs_snapshot *s)
{
	const struct xvs_snap_worker *sw = &s->worker[w->id];
	uint64_t now_ns = 0;
	uint32_t total = 0;
	struct pool_budget pb;
	bool have_pb = false;

	for (uint16_t i = 0; i < sw->n_qos_owned; i++) {
		uint16_t out = sw->qos_owned[i];
		const struct xvs_snap_port *p = &s->port[out];
		struct xvs_qos_port *q = p->qos;
		const struct xvs_qos_plan *pl = p->qos_plan;

		if (unlikely(q->plan_gen != pl->gen)) {
			if (now_ns == 0)
				now_ns = xvs_tsc_ns(rte_rdtsc());
			reconfigure(w, q, pl, out, now_ns);
		}
		if (idle(q, pl)) {
			/* What a pick with nothing backlogged does (core/qos.c):
			 * every class leaves the sharing. No clock read. */
			for (uint32_t c = 0; c < pl->cfg.n_classes; c++)
				q->sched.cls[c].active = false;
			continue;
		}
		if (now_ns == 0)
			now_ns = xvs_tsc_ns(rte_rdtsc());
		if (!have_pb) {
			pool_budget(w, s, &pb);
			have_pb = true;
		}
		total += take_in(w, q, pl, out, &pb);
		total += schedule(w, p, q, pl, out, now_ns);
	}
	return total;
}

void
xvs_qos_mac_control(const struct xvs_snap_port *p, const struct rte_mbuf *m)
{
	struct xvs_qos_port *q = p->qos;
	struct xvs_qos_pause pz;
	uint64_t now_ns, link;

	if (q == NULL || m->data_len < 16 ||
	    xvs_qos_pause_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &pz) != 1)
		return;
	if (!pz.pfc)
		__atomic_fetch_add(&q->pause_rx, 1, __ATOMIC_RELAXED);
	now_ns = xvs_tsc_ns(rte_rdtsc());
	link = p->qos_plan->cfg.capacity_bps;
	for (uint32_t pr = 0; pr < 8; pr++) {
		if (!((pz.enable >> pr) & 1))
			continue;
		if (pz.pfc)
			__atomic_fetch_add(&q->pfc_rx[pr], 1, __ATOMIC_RELAXED);
		__atomic_store_n(&q->pause_until[pr], xvs_qos_pause_until(pz.quanta[pr], link, now_ns),
				 __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&q->pause_seq, 1, __ATOMIC_RELEASE);
	if (p->qos_owner < xvs_dp.n_workers_max)
		xvs_worker_wake(xvs_dp.worker[p->qos_owner]);
}

bool
xvs_qos_pending(const struct xvs_worker *w, const struct xvs_snapshot *s, uint64_t *wake_ns)
{
	const struct xvs_snap_worker *sw = &s->worker[w->id];

	*wake_ns = UINT64_MAX;
	for (uint16_t i = 0; i < sw->n_qos_owned; i++) {
		const struct xvs_qos_port *q = s->port[sw->qos_owned[i]].qos;

		for (uint32_t c = 0; c < XVS_QOS_MAX_CLASSES; c++)
			if (q->q[c].head != q->q[c].tail) {
				*wake_ns = RTE_MIN(*wake_ns, q->wake_ns);
				break;
			}
	}
	return *wake_ns != UINT64_MAX;
}

/* ---- Control thread. ---- */

struct xvs_qos_port *
xvs_qos_port_create(uint16_t slot, uint16_t n_workers)
{
	struct xvs_qos_port *q = rte_zmalloc("xvs_qos_port", sizeof(*q), RTE_CACHE_LINE_SIZE);
	static unsigned int seq;

	if (q == NULL)
		return NULL;
	q->slot = slot;
	for (uint16_t i = 0; i < n_workers && i < RTE_DIM(q->ring); i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "xvs_qos%u_%u", seq, i);
		q->ring[i] = rte_ring_create(name, XVS_QOS_RING_SIZE, SOCKET_ID_ANY,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (q->ring[i] == NULL) {
			xvs_qos_port_free(q);
			return NULL;
		}
	}
	seq++;
	return q;
}

void
xvs_qos_port_flush(struct xvs_qos_port *q)
{
	struct rte_mbuf *m;

	for (uint16_t i = 0; i < RTE_DIM(q->ring); i++)
		while (q->ring[i] != NULL && rte_ring_sc_dequeue(q->ring[i], (void **)&m) == 0) {
			rte_pktmbuf_free(m);
			q->flushed++;
		}
	for (uint32_t c = 0; c < XVS_QOS_MAX_CLASSES; c++) {
		struct xvs_qos_fifo *f = &q->q[c];

		while (f->head != f->tail) {
			rte_pktmbuf_free(f->m[f->head++ & (XVS_QOS_FIFO_SIZE - 1)]);
			q->flushed++;
		}
		f->bytes = 0;
	}
	memset(q->pool_q, 0, sizeof(q->pool_q));
}

void
xvs_qos_port_free(struct xvs_qos_port *q)
{
	if (q == NULL)
		return;
	xvs_qos_port_flush(q);
	for (uint16_t i = 0; i < RTE_DIM(q->ring); i++)
		rte_ring_free(q->ring[i]);
	rte_free(q);
}

void
xvs_qos_class_read(const struct xvs_qos_port *q, uint32_t c, struct xvs_qos_class_ctr *out)
{
	const struct xvs_qos_fifo *f = &q->q[c];

	*out = q->ctr[c];
	out->depth_frames = (uint32_t)(__atomic_load_n(&f->tail, __ATOMIC_RELAXED) -
				       __atomic_load_n(&f->head, __ATOMIC_RELAXED));
	out->depth_bytes = __atomic_load_n(&f->bytes, __ATOMIC_RELAXED);
	out->offered_frames = out->sent_frames + out->dropped_frames + out->depth_frames;
	out->offered_bytes = out->sent_bytes + out->dropped_bytes + out->depth_bytes;
}

uint64_t
xvs_qos_port_queued(const struct xvs_qos_port *q)
{
	uint64_t n = 0;

	if (q == NULL)
		return 0;
	for (uint16_t i = 0; i < RTE_DIM(q->ring); i++)
		if (q->ring[i] != NULL)
			n += rte_ring_count(q->ring[i]);
	for (uint32_t c = 0; c < XVS_QOS_MAX_CLASSES; c++) {
		const struct xvs_qos_fifo *f = &q->q[c];

		n += (uint32_t)(__atomic_load_n(&f->tail, __ATOMIC_RELAXED) -
				__atomic_load_n(&f->head, __ATOMIC_RELAXED));
	}
	return n;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline on the workers (datapath): per-packet metadata (in the mbuf's
 * private area, see xvs_meta() in dp.h), running a port's ingress or egress stages over a burst and
 * applying their verdicts, and the emit queue.
 *
 * Cost model: a port without stages never gets here (one test of n_in/n_out
 * per burst in stage_l2.c and worker.c). With stages, the burst's
 * data/len/meta arrays are built once for all of them; each stage costs one
 * indirect call, a verdict reset and an OR over the verdicts, and only a burst
 * with a non-PASS verdict is walked packet by packet.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "acl_stage.h"
#include "dp.h"
#include "flow_cache.h"
#include "stages.h"

void
xvs_meta_l34_slow(struct xvs_pkt_meta *md, const uint8_t *d, uint32_t len, const struct xvs_l2 *l2)
{
	struct xvs_flow f;

	md->l3_off = l2->l3_off;
	/* A malformed IP header leaves l3 0: stages see a non-IP frame. */
	if (xvs_parse_flow(d, len, l2, &f) != 0 || f.l3 == 0)
		return;
	md->l3 = f.l3;
	md->l4_proto = f.proto;
	md->l4_off = f.l4_off;
	if (f.fragment)
		md->flags |= XVS_META_FRAGMENT;
	if (f.has_ports)
		md->flags |= XVS_META_HAS_PORTS;
	xvs_meta_guard_mark(md, d);
}

/* What emit_cb needs: the worker, its snapshot and the emitting stage. */
struct emit_ctx {
	struct xvs_worker *w;
	const struct xvs_snapshot *s;
	uint16_t id;
	uint16_t from;
};

static int
emit_cb(void *arg, uint16_t port, const void *frame, uint32_t len)
{
	struct emit_ctx *e = arg;
	struct xvs_emitq *q = &e->w->emitq;
	struct rte_mbuf *m;
	char *p;

	if (port >= XVS_MAX_PORTS || !e->s->port[port].active || frame == NULL ||
	    len < XVS_ETH_HLEN)
		return -EINVAL;
	if (len > RTE_MBUF_DEFAULT_DATAROOM)
		return -EMSGSIZE;
	if (q->n >= XVS_EMIT_MAX || (m = rte_pktmbuf_alloc(xvs_dp.flood_pool)) == NULL) {
		e->w->stage_ctr[e->id].v[XVS_STAGE_CTR_EMIT_FULL]++;
		return -ENOBUFS;
	}
	p = rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(p, frame, len);
	{
		struct xvs_pkt_meta *md = xvs_meta(m);
		struct xvs_l2 l2;

		if (xvs_parse_l2((const uint8_t *)p, len, &l2) == XVS_PARSE_OK) {
			xvs_meta_fill(m, &l2, e->from, l2.vid);
		} else {
			memset(md, 0, sizeof(*md));
			md->in_port = e->from;
		}
		md->dst.kind = XVS_DEST_PORT;
		md->dst.id = port;
	}
	q->port[q->n] = port;
	q->m[q->n++] = m;
	return 0;
}

void
xvs_emit_flush(struct xvs_worker *w, const struct xvs_snapshot *s)
{
	struct xvs_emitq *q = &w->emitq;
	uint16_t n = q->n;
	uint16_t port[XVS_EMIT_MAX];
	struct rte_mbuf *m[XVS_EMIT_MAX];

	/* tx_enqueue may flush a port and run its egress stages, which may emit
	 * again into q: take the queue out first (a copy, not q's slots), later
	 * emits wait for the next call. */
	memcpy(port, q->port, n * sizeof(port[0]));
	memcpy(m, q->m, n * sizeof(m[0]));
	q->n = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t out = port[i];

		if (unlikely(!s->port[out].active)) {
			w->ctr[out].egress_packets++;
			w->ctr[out].drop[XVS_DROP_port_down]++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		xvs_tx_enqueue(w, s, out, m[i]);
	}
}

static unsigned
list_len(const char *const *l)
{
	unsigned n = 0;

	while (l != NULL && l[n] != NULL)
		n++;
	return n;
}

/* Walk the verdicts of one stage; compacts the burst arrays and returns how
 * many frames stay. */
static uint16_t
apply_verdicts(struct xvs_worker *w, const struct xvs_snap_stage *sg, uint8_t place, uint16_t port,
	       struct rte_mbuf **pkts, uint8_t **data, uint32_t *len, struct xvs_pkt_meta **meta,
	       uint16_t n, const uint8_t *verdict, const uint8_t *reason, uint8_t *orig,
	       uint8_t *mod)
{
	uint64_t *ctr = w->stage_ctr[sg->id].v;
	uint8_t kind = sg->desc->kind;
	unsigned n_reasons = 0;
	bool counted = false;
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint8_t v = verdict[i];
		bool drop = false;

		switch (v) {
		case XVS_VERDICT_PASS:
			break;
		case XVS_VERDICT_DROP:
			if (kind == XVS_EXT_CAPTURE)
				goto bad;
			if (!counted) {
				n_reasons = list_len(sg->desc->drop_reasons);
				counted = true;
			}
			/* A reason the stage did not declare: dropped as asked,
			 * but the contract was broken. */
			if (likely(reason[i] < n_reasons))
				ctr[XVS_STAGE_CTR_DROP0 + reason[i]]++;
			else
				ctr[XVS_STAGE_CTR_BAD_VERDICT]++;
			drop = true;
			break;
		case XVS_VERDICT_MODIFIED: {
			struct xvs_l2 l2;

			if (kind == XVS_EXT_CAPTURE)
				goto bad;
			data[i] = rte_pktmbuf_mtod(pkts[i], uint8_t *);
			len[i] = rte_pktmbuf_data_len(pkts[i]);
			if (unlikely(xvs_parse_l2(data[i], len[i], &l2) != XVS_PARSE_OK)) {
				/* The stage broke the frame: the switch cannot
				 * carry it further. */
				ctr[XVS_STAGE_CTR_BAD_VERDICT]++;
				drop = true;
				break;
			}
			meta[i]->l3 = 0;
			meta[i]->l4_proto = 0;
			meta[i]->l4_off = 0;
			meta[i]->flags &= (uint8_t)~(XVS_META_FRAGMENT | XVS_META_HAS_PORTS |
						     XVS_META_GUARD_CLEAN | XVS_META_DST_LOOKED |
						     XVS_META_DST_KNOWN);
			xvs_meta_l34(meta[i], data[i], len[i], &l2);
			if (mod != NULL)
				mod[i] = 1;
			break;
		}
		case XVS_VERDICT_EXCLUDE:
			if (place != XVS_EXT_EGRESS || kind != XVS_EXT_FILTER)
				goto bad;
			drop = true;
			break;
		default:
bad:
			ctr[XVS_STAGE_CTR_BAD_VERDICT]++;
			break;
		}
		if (drop) {
			w->ctr[port].drop[place == XVS_EXT_INGRESS ? XVS_DROP_policy :
								     XVS_DROP_tx_policy]++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		pkts[k] = pkts[i];
		data[k] = data[i];
		len[k] = len[i];
		meta[k] = meta[i];
		if (orig != NULL)
			orig[k] = orig[i];
		if (mod != NULL)
			mod[k] = mod[i];
		k++;
	}
	return k;
}

/* A burst's arrays as stages see them (struct xvs_ext_burst). */
struct burst_arrays {
	uint8_t *data[XVS_BURST];
	uint32_t len[XVS_BURST];
	struct xvs_pkt_meta *meta[XVS_BURST];
};

/* The arrays of burst b over pkts[0..n): the metadata the mbufs', or
 * held[] when not NULL. */
static inline void
arrays_of(struct burst_arrays *a, struct rte_mbuf *const *pkts, uint16_t n,
	  struct xvs_pkt_meta *held)
{
	for (uint16_t i = 0; i < n; i++) {
		a->data[i] = rte_pktmbuf_mtod(pkts[i], uint8_t *);
		a->len[i] = rte_pktmbuf_data_len(pkts[i]);
		a->meta[i] = held != NULL ? &held[i] : xvs_meta(pkts[i]);
	}
}

/* b over pkts[0..n) of port at place, its arrays in a, built (the mbufs'
 * metadata) when fill. */
static inline void
burst_of(struct xvs_ext_burst *b, struct burst_arrays *a, const struct xvs_worker *w,
	 uint8_t place, uint16_t port, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns,
	 bool fill)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->pkts = pkts;
	b->data = a->data;
	b->len = a->len;
	b->meta = a->meta;
	b->n = n;
	b->port = port;
	b->place = place;
	b->worker = w->id;
	b->now_ns = now_ns;
	if (fill)
		arrays_of(a, pkts, n, NULL);
}

/* A held burst's arrays are built only when the flow cache has its
 * metadata written (a miss, the ACL's per-packet work): answered from its
 * keys alone, it reads none of them. */
struct held_arrays {
	const struct xvs_held *held; /* the L2 stage's */
	struct burst_arrays *a;
	struct rte_mbuf *const *pkts;
	uint16_t n;
	bool built;
};

static void
held_arrays_write(void *ctx, const uint16_t *idx, uint16_t n)
{
	struct held_arrays *h = ctx;

	if (!h->built) {
		arrays_of(h->a, h->pkts, h->n, h->held->meta);
		h->built = true;
	}
	h->held->write(h->held->ctx, idx, n);
}

/* The burst as it came: survivor i is frame i, none modified. */
static inline void
unchanged_burst(uint8_t *orig, uint8_t *mod, uint16_t n)
{
	for (uint16_t i = 0; orig != NULL && i < n; i++)
		orig[i] = (uint8_t)i;
	if (mod != NULL)
		memset(mod, 0, n);
}

/* xvs_stages_run, but orig[] and mod[] are written only if a stage gave a
 * verdict other than PASS (*changed set): else the burst is as it came. */
static uint16_t
stages_run(struct xvs_worker *w, const struct xvs_snapshot *s, const struct xvs_snap_stage *st,
	   unsigned n_st, uint8_t place, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
	   uint64_t now_ns, uint8_t *orig, uint8_t *mod, bool *changed)
{
	struct burst_arrays a;
	uint8_t **data = a.data;
	uint32_t *len = a.len;
	struct xvs_pkt_meta **meta = a.meta;
	uint8_t verdict[XVS_BURST], reason[XVS_BURST];
	struct emit_ctx ec = {.w = w, .s = s, .from = port};
	struct xvs_ext_burst b;

	*changed = false;
	burst_of(&b, &a, w, place, port, pkts, n, now_ns, true);
	b.emit = emit_cb;
	b.emit_ctx = &ec;
	for (unsigned j = 0; j < n_st && n > 0; j++) {
		const struct xvs_snap_stage *sg = &st[j];
		uint8_t any = 0;

		b.n = n;
		b.state = sg->state;
		b.counters = w->stage_ctr[sg->id].v;
		ec.id = sg->id;
		/* Whole arrays, fixed size: a few vector stores and loads
		 * instead of a memset call and a byte loop per stage. */
		memset(verdict, XVS_VERDICT_PASS, sizeof(verdict));
		sg->desc->ops->process(sg->ctx, &b, verdict, reason);
		for (unsigned i = 0; i < sizeof(verdict); i++)
			any |= verdict[i];
		if (likely(any == XVS_VERDICT_PASS))
			continue;
		if (!*changed) {
			/* The first verdict to apply: from here on the
			 * survivors are tracked. */
			*changed = true;
			unchanged_burst(orig, mod, n);
		}
		n = apply_verdicts(w, sg, place, port, pkts, data, len, meta, n, verdict, reason,
				   orig, mod);
	}
	return n;
}

uint16_t
xvs_stages_run(struct xvs_worker *w, const struct xvs_snapshot *s, const struct xvs_snap_stage *st,
	       unsigned n_st, uint8_t place, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
	       uint64_t now_ns, uint8_t *orig, uint8_t *mod)
{
	bool changed;

	n = stages_run(w, s, st, n_st, place, port, pkts, n, now_ns, orig, mod, &changed);
	if (!changed)
		unchanged_burst(orig, mod, n);
	return n;
}

/* Does the flow cache stand for st[0..n)? The port-security stages, with
 * or without an ACL (after mac_spoof), nothing else. Without mac_spoof and
 * the ACL it looks nothing up: the guards' answer is in the metadata flags
 * (xvs_fcache_run), and frames of a run need no metadata of their own. */
static inline bool
fcache_plan(const struct xvs_snap_stage *st, unsigned n, struct xvs_fcache_plan *p)
{
	p->spoof = -1;
	p->acl = -1;
	p->storm = false;
	p->macs = false;
	for (unsigned j = 0; j < n; j++) {
		const struct xvs_ext_desc *d = st[j].desc;

		if (d == &xvs_acl_stage_desc) {
			if (p->acl >= 0)
				return false;
			p->acl = (int8_t)j;
		} else if (d == &xvs_stage_mac_spoof) {
			if (p->acl >= 0 || p->spoof >= 0)
				return false;
			p->spoof = (int8_t)j;
		} else if (d == &xvs_stage_storm_limit) {
			p->storm = true;
		} else if (d != &xvs_stage_dhcp_guard && d != &xvs_stage_router_guard) {
			return false;
		}
	}
	p->macs = p->spoof >= 0 || (p->acl >= 0 && xvs_acl_stage_reads_macs(st[p->acl].state));
	p->mask = xvs_acl_stage_fcache_mask(p->acl >= 0 ? st[p->acl].state : NULL);
	return true;
}

/* Write the metadata the L2 stage held (held[i] frame i's, a run's frames
 * none: the frame's before them) into the mbufs. */
static void
meta_unhold(struct rte_mbuf **pkts, const struct xvs_pkt_meta *held, const uint8_t *same,
	    uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (i > 0 && same[i])
			xvs_meta_of_run(pkts[i], pkts[i - 1]);
		else
			*xvs_meta(pkts[i]) = held[i];
	}
}

bool
xvs_stages_lazy_ok(const struct xvs_worker *w, const struct xvs_snap_pipeline *pipe,
		   struct xvs_fcache_plan *plan)
{
	return w->fcache != NULL && pipe->n_in > 0 && fcache_plan(pipe->in, pipe->n_in, plan);
}

uint16_t
xvs_stages_run_ingress(struct xvs_worker *w, const struct xvs_snapshot *s,
		       const struct xvs_snap_stage *st, unsigned n_st, uint16_t port,
		       struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns, const uint8_t *same,
		       const struct xvs_held *held, uint8_t *orig, uint8_t *mod, bool *changed)
{
	uint8_t verdict[XVS_BURST], reason[XVS_BURST], by[XVS_BURST];
	struct xvs_fcache_plan own;
	const struct xvs_fcache_plan *plan = &own;
	struct burst_arrays a;
	struct xvs_ext_burst b;
	struct held_arrays ha;
	struct xvs_held hw;
	bool ch;
	uint16_t k = 0;
	int r;

	if (n == 0)
		goto stages;
	if (held != NULL)
		plan = held->plan; /* the L2 stage's, xvs_stages_lazy_ok */
	else if (w->fcache == NULL || !fcache_plan(st, n_st, &own))
		goto stages;
	burst_of(&b, &a, w, XVS_EXT_INGRESS, port, pkts, n, now_ns, held == NULL);
	if (held != NULL) {
		ha = (struct held_arrays){.held = held, .a = &a, .pkts = pkts, .n = n};
		hw = *held;
		hw.write = held_arrays_write;
		hw.ctx = &ha;
	}
	r = xvs_fcache_run(w->fcache, s->gen, plan, &b, same, held != NULL ? &hw : NULL,
			   plan->spoof >= 0 ? st[plan->spoof].state : NULL,
			   plan->acl >= 0 ? st[plan->acl].state : NULL,
			   plan->acl >= 0 ? w->stage_ctr[st[plan->acl].id].v : NULL, verdict, reason,
			   by);
	if (r < 0)
		goto stages;
	if (likely(r == 0))
		goto unchanged;
	if (mod != NULL)
		memset(mod, 0, n);
	for (uint16_t i = 0; i < n; i++) {
		if (verdict[i] != XVS_VERDICT_DROP) {
			if (orig != NULL)
				orig[k] = (uint8_t)i;
			pkts[k++] = pkts[i];
		} else {
			/* Counted as the stage that dropped it would be
			 * (apply_verdicts). */
			w->stage_ctr[st[by[i]].id].v[XVS_STAGE_CTR_DROP0 + reason[i]]++;
			w->ctr[port].drop[XVS_DROP_policy]++;
			rte_pktmbuf_free(pkts[i]);
		}
	}
	if (changed != NULL)
		*changed = true;
	return k;
stages:
	/* The stages read every frame's metadata, from the mbufs. */
	if (held != NULL) {
		held->write(held->ctx, NULL, n);
		meta_unhold(pkts, held->meta, same, n);
	}
	n = stages_run(w, s, st, n_st, XVS_EXT_INGRESS, port, pkts, n, now_ns, orig, mod, &ch);
	if (ch) {
		if (changed != NULL)
			*changed = true;
		return n;
	}
unchanged:
	if (changed != NULL)
		*changed = false;
	else
		unchanged_burst(orig, mod, n);
	return n;
}

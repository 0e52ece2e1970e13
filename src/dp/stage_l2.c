/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2 forwarding stage (datapath): parse, VLAN ingress rules, learning requests,
 * FDB lookup, unicast or flood into the worker's per-port tx buffers, VLAN tag
 * push/pop on egress.
 *
 * Runs on a worker for one received burst. The burst is parsed and classified
 * first (prefetching headers ahead), then each frame is sent to its
 * destination buffers; buffers are transmitted in bursts by xvs_tx_flush_all()
 * once per loop turn, one tx burst per destination port.
 *
 * Every mbuf that enters is transmitted, buffered for transmission, or freed
 * under a named drop counter of the ingress port (egress-side drops count on
 * the egress port): rx_packets == unicast + flooded + sum(ingress drops).
 */
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp.h"
#include "flow_cache.h"
#include "offload.h"
#include "qos_egress.h"
#include "stages.h"

const char *const xvs_drop_names[XVS_DROP__MAX] = {
#define XVS_DROP_NAME(n) #n,
	XVS_DROP_REASONS(XVS_DROP_NAME)
#undef XVS_DROP_NAME
};

static const uint8_t parse_to_drop[XVS_PARSE__MAX] = {
	[XVS_PARSE_RUNT] = XVS_DROP_runt,
	[XVS_PARSE_TRUNCATED_VLAN] = XVS_DROP_truncated_vlan,
	[XVS_PARSE_STACKED_VLAN] = XVS_DROP_stacked_vlan,
	[XVS_PARSE_BAD_VID] = XVS_DROP_bad_vid,
	[XVS_PARSE_BAD_SRC_MAC] = XVS_DROP_bad_src_mac,
};

/* Ask the control thread to learn (or move) src on in_port. Requests for the same
 * (mac, vid, port) are sent at most every ~50 ms per worker, so a flow from an
 * unknown source does not flood the ring while the control thread catches up.
 * key is the source's FDB key (xvs_fdb_key_of), already computed for its lookup. */
static void
learn_request(struct xvs_worker *w, const uint8_t *src, uint16_t vid, uint64_t key,
	      uint16_t in_port, uint64_t now_tsc)
{
	unsigned int slot = (unsigned int)(((key ^ in_port) * 0x9e3779b97f4a7c15ull) >> 56);
	struct xvs_learn_dedup *d = &w->learn_dedup[slot];
	struct xvs_port_counters *c = &w->ctr[in_port];
	struct xvs_learn_req req;

	/* A port at its mac-limit would have every request refused: sending
	 * them anyway lets a source-MAC spray fill this worker's learn ring,
	 * which the dedup below cannot stop for random addresses, and other
	 * ports' requests are lost. */
	if (unlikely(xvs_fdb_port_full(xvs_dp.fdb, in_port))) {
		c->learn_limit++;
		return;
	}
	if (d->key == key && d->port == in_port && now_tsc - d->tsc < xvs_dp.tsc_hz / 20)
		return;
	d->key = key;
	d->port = in_port;
	d->tsc = now_tsc;

	memcpy(req.mac, src, 6);
	req.vid = vid;
	req.port = in_port;
	memset(req.pad, 0, sizeof(req.pad));
	if (unlikely(rte_ring_sp_enqueue_elem(w->learn_ring, &req, sizeof(req)) != 0)) {
		c->learn_ring_full++;
		return;
	}
	c->learn_requests++;
	if (atomic_load_explicit(&w->learn_kicked, memory_order_relaxed) == 0) {
		uint64_t one = 1;

		/* Rare: once per control-thread drain cycle, not per packet. */
		atomic_store_explicit(&w->learn_kicked, 1, memory_order_relaxed);
		/* Can only fail on counter overflow, impossible at one write per drain. */
		(void)!write(xvs_dp.learn_efd, &one, sizeof(one));
	}
}

/* The frame's headers moved by delta bytes (a tag pushed or popped): keep
 * the metadata's offsets on them. */
static inline void
meta_shift(struct rte_mbuf *m, int delta)
{
	struct xvs_pkt_meta *md = xvs_meta(m);

	md->l3_off = (uint16_t)(md->l3_off + delta);
	if (md->l4_off != 0)
		md->l4_off = (uint16_t)(md->l4_off + delta);
}

/* Make the frame's tag state match what the egress port wants. Returns false if
 * the mbuf could not be changed (no headroom: counted by the caller). meta_on:
 * the frame's metadata is filled (and egress stages will read it). */
static inline bool
vlan_fixup(struct rte_mbuf *m, bool tagged, bool want_tagged, uint16_t vid, uint8_t pcp,
	   bool meta_on)
{
	if (likely(tagged == want_tagged))
		return true;
	if (unlikely(meta_on))
		meta_shift(m, tagged ? -XVS_VLAN_HLEN : XVS_VLAN_HLEN);
	if (tagged) {
		/* pop: move the MAC addresses 4 bytes forward over the tag */
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		memmove(p + XVS_VLAN_HLEN, p, 2 * RTE_ETHER_ADDR_LEN);
		rte_pktmbuf_adj(m, XVS_VLAN_HLEN);
		if (m->ol_flags & XVS_OL_REQUESTS)
			m->l2_len -= XVS_VLAN_HLEN; /* offload offsets follow the headers */
		return true;
	}
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, XVS_VLAN_HLEN);

	if (unlikely(p == NULL))
		return false; /* the frame is dropped: its metadata does not matter */
	memmove(p, p + XVS_VLAN_HLEN, 2 * RTE_ETHER_ADDR_LEN);
	struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(p + 2 * RTE_ETHER_ADDR_LEN + 2);

	*(uint16_t *)(p + 2 * RTE_ETHER_ADDR_LEN) = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	vh->vlan_tci = rte_cpu_to_be_16((uint16_t)(pcp << 13) | vid);
	/* vh->eth_proto already holds the original EtherType (it followed the MACs) */
	if (m->ol_flags & XVS_OL_REQUESTS)
		m->l2_len += XVS_VLAN_HLEN;
	return true;
}

/* Frame i of the run of frame i - 1 (pass 1 copied i - 1's metadata, the
 * header bytes compared equal) takes its traffic class at the flush when
 * i - 1 is the frame just before it in the tx buffer: forwarded the same
 * way, not dropped, no flush between (xvs_txbuf same_class). A pointer, not
 * a content compare: prev is live until the buffer goes out, and a freed
 * mbuf is never in it. */
static inline bool
same_class_mark(const struct xvs_txbuf *tb, const struct rte_mbuf *prev)
{
	return tb->n > 0 && tb->pkts[tb->n - 1] == prev;
}

static inline void
tx_enqueue(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t out, struct rte_mbuf *m)
{
	struct xvs_txbuf *tb = &w->tx[out];

	/* Listed once per turn, also when a full buffer went out mid-turn and
	 * fills again (many queues or hand-off frames in one turn). */
	if (!tb->listed) {
		tb->listed = true;
		w->dirty[w->n_dirty++] = out;
	}
	/* Noted here, where the mbuf's first line is in cache, so that a flush
	 * toward a port without offloads need not look at every frame again. */
	tb->needs_resolve |= xvs_offload_pending(m) | (m->nb_segs > 1);
	tb->pkts[tb->n++] = m;
	if (unlikely(tb->n == XVS_BURST))
		xvs_tx_flush_port(w, s, out);
}

void
xvs_tx_enqueue(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t out,
	       struct rte_mbuf *m)
{
	tx_enqueue(w, s, out, m);
}

/* Length that counts against the MTU. A GSO frame is as long as the segments
 * it stands for. The branch keeps the mbuf's second cache line (tx_offload)
 * untouched for ordinary frames: a select computing both sides read it for
 * every frame and stalled there (19% of the stage's samples). */
static inline uint32_t
frame_len(const struct rte_mbuf *m)
{
	if (unlikely(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG))
		return (uint32_t)m->l2_len + m->l3_len + m->l4_len + m->tso_segsz;
	return m->pkt_len;
}

/* Per-frame classification result. */
struct l2_cls {
	struct xvs_l2 l2;
	uint16_t vid;
	struct xvs_fdb_key src;  /* prepared (hashed, buckets prefetched) in pass 1 */
	struct xvs_fdb_key dst;  /* only for unicast destinations */
	bool same;               /* same addresses and VLAN as the frame before it */
	bool dst_looked;         /* dst looked up before the ingress stages: */
	bool dst_found;          /* the answer, */
	struct xvs_fdb_hit dst_hit; /* and the entry */
};

/* A switch whose only metadata reader is QoS (qos_l2): a flooded frame's
 * copies may go to ports of different plans, so its metadata is filled for
 * the flush to classify each copy; returns qos_l2, flood()'s meta_on then. */
static inline bool
qos_flood_meta(struct rte_mbuf *m, const struct l2_cls *c, uint16_t in_port, bool qos_l2)
{
	if (unlikely(qos_l2))
		xvs_meta_fill(m, &c->l2, in_port, c->vid);
	return qos_l2;
}

/* Same destination, source and VLAN as the previous frame of the burst: its
 * FDB answers hold for this one too. A burst of one flow (a TCP stream, a
 * replayed capture) then costs one pair of lookups, not one per frame. The 12
 * address bytes are contiguous (dst, then src) also after a priority tag was
 * removed. */
static inline bool
same_addrs(const struct l2_cls *a, const struct l2_cls *b)
{
	uint64_t a8, b8;
	uint32_t a4, b4;

	memcpy(&a8, a->l2.dst, 8);
	memcpy(&b8, b->l2.dst, 8);
	memcpy(&a4, a->l2.dst + 8, 4);
	memcpy(&b4, b->l2.dst + 8, 4);
	return ((a8 ^ b8) | (a4 ^ b4) | (uint32_t)(a->vid ^ b->vid)) == 0;
}

/* Frame m (classified c, c->same with the frame p before it, classified pc)
 * carries what its metadata and the policy flow cache's key are made of
 * byte for byte as p does: the same length, tag or EtherType (IPv4), and an
 * option-less IPv4 header equal to p's but for the ID, TTL and checksum,
 * followed by the same 4 bytes (the ports). Then p's metadata is m's (but
 * the flow hash), and the flow cache takes the two as one run
 * (xvs_stages_run_ingress same[]). The bytes, not the parsed fields: those
 * were just written one by one and would stall a load of them. */
static inline bool
same_l34(const struct rte_mbuf *m, const struct rte_mbuf *p, const struct l2_cls *c,
	 const struct l2_cls *pc)
{
	typedef uint8_t v16 __attribute__((vector_size(16)));
	/* bytes l3_off - 4 .. + 12: tag or MAC, EtherType, IPv4 header but
	 * the ID (+4, +5), TTL (+8) and checksum (+10, +11) */
	static const v16 mask = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				 0, 0, 0xff, 0xff, 0, 0xff, 0, 0};
	uint16_t off = c->l2.l3_off;
	const uint8_t *a = rte_pktmbuf_mtod(m, const uint8_t *) + off;
	const uint8_t *b = rte_pktmbuf_mtod(p, const uint8_t *) + off;
	uint64_t a8, b8, x[2];
	uint32_t a4, b4;
	v16 va, vb;

	/* Equal offsets: both tagged or both not (a priority tag is gone). */
	if (off != pc->l2.l3_off || c->l2.ethertype != XVS_ETYPE_IPV4 ||
	    rte_pktmbuf_data_len(m) != rte_pktmbuf_data_len(p) ||
	    rte_pktmbuf_data_len(m) < off + 24u || a[0] != 0x45)
		return false;
	memcpy(&va, a - 4, 16);
	memcpy(&vb, b - 4, 16);
	memcpy(&a8, a + 12, 8); /* addresses */
	memcpy(&b8, b + 12, 8);
	memcpy(&a4, a + 20, 4); /* ports */
	memcpy(&b4, b + 20, 4);
	va = (va ^ vb) & mask;
	memcpy(x, &va, 16);
	return (x[0] | x[1] | (a8 ^ b8) | (a4 ^ b4)) == 0;
}

/* Does m, received on a port whose frames may be max_in long, exceed what
 * egress port out carries? An L2 switch cannot fragment, so such a frame is
 * dropped on the egress port (tx_oversize), as a bridge does. Ports of equal
 * MTU, the common case, cost one comparison of two snapshot fields; the
 * frame's length is looked at only behind a port with a smaller MTU. The
 * length compared is the untagged one, as at ingress: a tag pushed at egress
 * does not count. */
static inline bool
egress_oversize(const struct xvs_snap_port *out, uint32_t max_in, const struct rte_mbuf *m,
		const struct l2_cls *c)
{
	if (likely(max_in <= out->max_frame))
		return false;
	return frame_len(m) - (c->l2.tagged ? XVS_VLAN_HLEN : 0u) > out->max_frame;
}

static void
flood(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t in_port, struct rte_mbuf *m,
      const struct l2_cls *c, bool meta_on)
{
	uint16_t targets[XVS_MAX_PORTS];
	bool tagged_out[XVS_MAX_PORTS];
	uint32_t max_in = s->port[in_port].max_frame;
	uint16_t nt = 0, n_big = 0;

	for (uint16_t i = 0; i < s->n_flood; i++) {
		uint16_t p = s->flood[i];

		if (p == in_port)
			continue;
		if (!xvs_vlan_egress(&s->port[p].vlan, c->vid, &tagged_out[nt]))
			continue;
		if (unlikely(egress_oversize(&s->port[p], max_in, m, c))) {
			w->ctr[p].drop[XVS_DROP_tx_oversize]++;
			n_big++;
			continue;
		}
		targets[nt++] = p;
	}
	if (nt == 0) {
		/* Every port of the VLAN had too small an MTU: flooded, and
		 * dropped on each of them (counted above). */
		if (n_big > 0)
			w->ctr[in_port].flooded++;
		else
			w->ctr[in_port].drop[XVS_DROP_no_dest]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->ctr[in_port].flooded++;
	if (unlikely(meta_on)) {
		/* Before the copies, which take it along. */
		xvs_meta(m)->dst.kind = XVS_DEST_FLOOD;
		xvs_meta(m)->dst.id = c->vid;
	}
	/* Copies for all but the last target; the original goes to the last one, so
	 * the common single-destination flood costs no copy. Copies come from the
	 * flood pools, not from m's (a tap's 64 KB read pool, or the pool every
	 * ethdev port receives into), so that a broadcast storm from one port
	 * cannot leave the others without receive buffers; a frame longer than a
	 * 2 KB mbuf is copied into one jumbo mbuf (a port without offloads could
	 * not send it as a chain of 2 KB ones: it would linearize it into one). */
	struct rte_mempool *cp_pool = likely(m->pkt_len <= RTE_MBUF_DEFAULT_DATAROOM) ?
					      xvs_dp.flood_pool : xvs_dp.flood_big_pool;

	for (uint16_t i = 0; i + 1 < nt; i++) {
		struct rte_mbuf *cp = rte_pktmbuf_copy(m, cp_pool, 0, UINT32_MAX);

		if (unlikely(cp == NULL)) {
			w->ctr[targets[i]].drop[XVS_DROP_copy_failed]++;
			continue;
		}
		if (unlikely(meta_on))
			*xvs_meta(cp) = *xvs_meta(m); /* not copied with the mbuf (dp.h) */
		if (unlikely(!vlan_fixup(cp, c->l2.tagged, tagged_out[i], c->vid, c->l2.pcp,
						 meta_on))) {
			w->ctr[targets[i]].drop[XVS_DROP_copy_failed]++;
			rte_pktmbuf_free(cp);
			continue;
		}
		tx_enqueue(w, s, targets[i], cp);
	}
	if (unlikely(!vlan_fixup(m, c->l2.tagged, tagged_out[nt - 1], c->vid, c->l2.pcp,
					 meta_on))) {
		w->ctr[targets[nt - 1]].drop[XVS_DROP_copy_failed]++;
		rte_pktmbuf_free(m);
		return;
	}
	tx_enqueue(w, s, targets[nt - 1], m);
}

/* Prepare the FDB keys of a classified frame (pass 1 of the burst). */
static inline void
prepare_keys(struct l2_cls *c)
{
	c->dst_looked = false;
	xvs_fdb_key_prepare_src(xvs_dp.fdb, xvs_fdb_key_of(c->l2.src, c->vid), &c->src);
	if (!(c->l2.dst[0] & 1))
		xvs_fdb_key_prepare(xvs_dp.fdb, xvs_fdb_key_of(c->l2.dst, c->vid), &c->dst);
}

/* Look the unicast destinations up before the ingress stages (the keys
 * were prepared in pass 1, so the buckets are in cache), and leave the
 * answers in the metadata for storm_limit (XVS_META_DST_*, dp.h) and in cls
 * for pass 2: one lookup per destination serves both. held: the metadata is
 * held back, and written with the answers from cls (held_write). */
static void
lookup_dsts(struct rte_mbuf **pkts, struct l2_cls *cls, const uint8_t *run, uint16_t k, bool held)
{
	uint8_t flags = 0;

	for (uint16_t i = 0; i < k; i++) {
		struct l2_cls *c = &cls[i];
		struct xvs_pkt_meta *md = xvs_meta(pkts[i]);

		/* held: its metadata, flags included, is frame i - 1's when it
		 * is written, and pass 2 takes i - 1's destination (or looks
		 * it up, dst_looked false, if i - 1 went). */
		if (held && run[i])
			continue;
		if (c->l2.dst[0] & 1)
			continue;
		if (run[i] && cls[i - 1].dst_looked) {
			/* The metadata of the frame before, copied before
			 * its flags got here: the same flags, stored without
			 * loading them back from the copy just written. */
			c->dst_found = cls[i - 1].dst_found;
			c->dst_hit = cls[i - 1].dst_hit;
			c->dst_looked = true;
			md->flags = flags;
			continue;
		}
		if (c->same && cls[i - 1].dst_looked) {
			c->dst_found = cls[i - 1].dst_found;
			c->dst_hit = cls[i - 1].dst_hit;
		} else {
			c->dst_found = xvs_fdb_lookup_key(xvs_dp.fdb, &c->dst, &c->dst_hit);
		}
		c->dst_looked = true;
		if (held)
			continue;
		flags = md->flags | XVS_META_DST_LOOKED | (c->dst_found ? XVS_META_DST_KNOWN : 0);
		md->flags = flags;
	}
}

/* The metadata the L2 stage holds back (struct xvs_held): what it is
 * written from when the flow cache asks for it. */
struct held_ctx {
	struct rte_mbuf *const *pkts;
	const struct l2_cls *cls;
	const uint8_t *run;
	struct xvs_pkt_meta *meta;
	uint16_t in_port;
};

/* Frame i's metadata, as pass 1 and lookup_dsts would have written it. */
static inline void
held_write_one(const struct held_ctx *h, uint16_t i)
{
	const struct l2_cls *c = &h->cls[i];
	struct xvs_pkt_meta *md = &h->meta[i];

	xvs_meta_fill_at(md, h->pkts[i], &c->l2, h->in_port, c->vid);
	if (c->dst_looked)
		md->flags |= XVS_META_DST_LOOKED | (c->dst_found ? XVS_META_DST_KNOWN : 0);
}

static void
held_write(void *ctx, const uint16_t *idx, uint16_t n)
{
	const struct held_ctx *h = ctx;

	for (uint16_t j = 0; j < n; j++) {
		if (idx != NULL)
			held_write_one(h, idx[j]);
		else if (j == 0 || !h->run[j])
			held_write_one(h, j);
	}
}

/* Does a stage of the port use the answers of lookup_dsts? Only
 * storm_limit: on other ports the lookup stays in pass 2, where it costs
 * less (measured: ~4 ns per packet of 1-flow traffic before a pass-through
 * stage, in micro_stages). */
static inline bool
wants_dsts(const struct xvs_snap_pipeline *pipe)
{
	for (unsigned j = 0; j < pipe->n_in; j++)
		if (pipe->in[j].desc == &xvs_stage_storm_limit)
			return true;
	return false;
}

/* The input port's ingress stages, between classification and forwarding:
 * what they drop is neither learned nor forwarded. cls[] follows the
 * survivors; a frame a stage modified is classified again (its VLAN stays). */
static uint16_t
ingress_stages(struct xvs_worker *w, const struct xvs_snapshot *s, const struct xvs_snap_port *ip,
	       uint16_t in_port, struct rte_mbuf **pkts, struct l2_cls *cls, uint8_t *run,
	       uint16_t k, uint64_t now_ns, const struct xvs_held *held)
{
	uint8_t orig[XVS_BURST], mod[XVS_BURST];
	bool changed, prev_mod = false;
	uint16_t n = xvs_stages_run_ingress(w, s, ip->pipe.in, ip->pipe.n_in, in_port, pkts, k,
					    now_ns, run, held, orig, mod, &changed);

	if (likely(!changed))
		return n; /* every frame passed as it was: cls[] holds */

	for (uint16_t i = 0; i < n; i++) {
		struct l2_cls *c = &cls[i];

		if (orig[i] != i)
			*c = cls[orig[i]];
		/* A frame after a dropped or modified one is not "the same" as
		 * the one now before it. */
		if (orig[i] != i || prev_mod)
			c->same = false;
		prev_mod = mod[i];
		run[i] = run[i] && c->same && !mod[i]; /* pass 2 reads it (QoS class) */
		if (likely(!mod[i]))
			continue;
		/* xvs_stages_run parsed it already; only the pointers and keys
		 * are needed here. */
		(void)xvs_parse_l2(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				   rte_pktmbuf_data_len(pkts[i]), &c->l2);
		c->same = false;
		prepare_keys(c);
	}
	return n;
}

uint16_t
xvs_l2_forward_burst(struct xvs_worker *w, const struct xvs_snapshot *s, uint16_t in_port,
		     struct rte_mbuf **pkts, uint16_t n, uint64_t now_tsc)
{
	const struct xvs_snap_port *ip = &s->port[in_port];
	struct xvs_port_counters *ic = &w->ctr[in_port];
	struct l2_cls cls[XVS_BURST];
	uint8_t run[XVS_BURST];  /* with metadata: frame i is of the run of i - 1 (same_l34) */
	struct xvs_pkt_meta held[XVS_BURST]; /* lazy: the metadata, out of the mbufs */
	uint64_t fkey[XVS_BURST][4];         /* lazy: the flow cache's keys (xvs_held) */
	uint8_t fok[XVS_BURST];
	uint32_t fhash[XVS_BURST];
	struct xvs_fcache_plan plan;
	uint64_t now_ns = xvs_tsc_ns(now_tsc);
	uint64_t bytes = 0;
	/* Metadata is for stages: filled when this port has ingress stages or
	 * some port egress ones; a switch without stages never writes it.
	 * meta_out: read after the ingress stages (egress stages, or QoS
	 * classifying at the flush from the metadata), so the forward stage
	 * writes its destination. lazy: the metadata is held back, and pass 1
	 * makes each frame's flow cache key from its headers instead, which
	 * only the flow cache's stages can spare (it has the metadata written,
	 * into the mbufs too, before another reader: xvs_stages_run_ingress,
	 * held_write): neither made nor written (a cache line per frame, m +
	 * 1, which nothing else on the path touches) when the cache answers. */
	bool egress_meta = xvs_meta_for_egress(s, in_port);
	bool meta_out = egress_meta || s->qos_ports;
	bool meta_on = ip->pipe.n_in > 0 || egress_meta;
	bool lazy = !meta_out && unlikely(ip->pipe.n_in > 0) &&
		    xvs_stages_lazy_ok(w, &ip->pipe, &plan);
	const uint8_t *ftable = lazy ? xvs_fcache_table(w->fcache) : NULL;
	/* the cache looks keys up (else the guards' flags are its answer) */
	bool flookup = lazy && (plan.spoof >= 0 || plan.acl >= 0);
	/* QoS without stages: the frames for a QoS port are classified here
	 * from this stage's parse, and only the class is written (no metadata
	 * fill); runs (run[]) take their class from the frame before. */
	bool qos_l2 = !meta_on && s->qos_ports;
	uint16_t q_prev = UINT16_MAX, q_out = XVS_MAX_PORTS; /* last frame classified here */
	uint8_t q_cls = 0;

	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	/* Pass 1: parse and apply ingress VLAN rules; drop what fails, in place. */
	uint16_t k = 0;
	bool prio_prev = false; /* the frame before (kept) had a priority tag */

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct l2_cls *c = &cls[k];
		bool prio = false;
		int r;

		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		bytes += m->pkt_len;
		r = xvs_parse_l2(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				 &c->l2);
		if (unlikely(r != XVS_PARSE_OK)) {
			ic->drop[parse_to_drop[r]]++;
			goto drop;
		}
		if (unlikely(c->l2.ethertype == XVS_QOS_ETH_MAC_CTRL)) {
			/* PAUSE / PFC (802.3 Annex 31B, 802.1Qbb): for this link
			 * only, never forwarded or learned. */
			xvs_qos_mac_control(ip, m);
			ic->drop[XVS_DROP_mac_control]++;
			goto drop;
		}
		/* l3_off - 14 is the tag's 4 bytes when there is one. Reading the
		 * tagged/prio_tagged bytes together here stalled on store forwarding
		 * right after the parser wrote them one by one. */
		if (unlikely(frame_len(m) > ip->max_frame + (uint32_t)(c->l2.l3_off - XVS_ETH_HLEN))) {
			ic->drop[XVS_DROP_oversize]++;
			goto drop;
		}
		r = xvs_vlan_ingress(&ip->vlan, c->l2.tagged, c->l2.vid, &c->vid);
		if (unlikely(r != XVS_VLAN_PASS)) {
			ic->drop[r == XVS_VLAN_DROP_TAGGED_ON_ACCESS ? XVS_DROP_vlan_tagged_on_access :
				 r == XVS_VLAN_DROP_NOT_ALLOWED ? XVS_DROP_vlan_not_allowed :
				 XVS_DROP_vlan_untagged]++;
			goto drop;
		}
		if (unlikely(c->l2.prio_tagged)) {
			/* A priority tag (VID 0) is not a VLAN: remove it so the frame is
			 * plain untagged from here on. */
			uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

			memmove(p + XVS_VLAN_HLEN, p, 2 * RTE_ETHER_ADDR_LEN);
			rte_pktmbuf_adj(m, XVS_VLAN_HLEN);
			if (m->ol_flags & XVS_OL_REQUESTS)
				m->l2_len -= XVS_VLAN_HLEN;
			c->l2.dst = rte_pktmbuf_mtod(m, const uint8_t *);
			c->l2.src = c->l2.dst + RTE_ETHER_ADDR_LEN;
			c->l2.prio_tagged = false;
			c->l2.l3_off -= XVS_VLAN_HLEN;
			prio = true;
		}
		/* Hash both addresses now and prefetch their buckets: by pass 2
		 * the lines are in cache. */
		c->same = k > 0 && same_addrs(c, &cls[k - 1]);
		if (unlikely(meta_on || qos_l2)) {
			/* A frame of the run before it: the same bytes its
			 * metadata and its class are made of, so it takes that
			 * frame's (its metadata copied, unless lazy; its class
			 * in pass 2). Not across a priority tag, whose PCP the
			 * bytes compared no longer hold. */
			run[k] = c->same && !(prio | prio_prev) &&
				 same_l34(m, pkts[k - 1], c, &cls[k - 1]);
			if (lazy) {
				/* No metadata: the flow cache's key, its set
				 * prefetched (struct xvs_held); a frame of a
				 * run has its run's. */
				if (!run[k]) {
					fok[k] = xvs_fcache_key_of(fkey[k],
								   rte_pktmbuf_mtod(m, const uint8_t *),
								   rte_pktmbuf_data_len(m), &c->l2,
								   in_port, plan.macs, plan.mask);
					if (flookup && fok[k]) {
						fhash[k] = xvs_fcache_hash(fkey[k], plan.macs);
						rte_prefetch0(xvs_fcache_line(ftable, fhash[k]));
					}
				}
			} else if (meta_on && !run[k]) {
				xvs_meta_fill_at(xvs_meta(m), m, &c->l2, in_port, c->vid);
			} else if (meta_on) {
				xvs_meta_of_run(m, pkts[k - 1]);
			}
		}
		c->dst_looked = false;
		if (c->same) {
			c->src = cls[k - 1].src;
			c->dst = cls[k - 1].dst;
		} else {
			prepare_keys(c);
		}
		pkts[k++] = m;
		prio_prev = prio;
		continue;
drop:
		rte_pktmbuf_free(m);
	}
	ic->rx_packets += n;
	w->switched_packets += n;
	ic->rx_bytes += bytes;
	if (unlikely(ip->pipe.n_in > 0) && k > 0) {
		struct held_ctx hc = {.pkts = pkts, .cls = cls, .run = run, .meta = held,
				      .in_port = in_port};
		struct xvs_held h = {.plan = &plan, .meta = held, .key = (const uint64_t (*)[4])fkey,
				     .ok = fok, .hash = fhash, .write = held_write, .ctx = &hc};

		if (wants_dsts(&ip->pipe))
			lookup_dsts(pkts, cls, run, k, lazy);
		/* storm_limit counts what is not known unicast: the cache
		 * answers only for the rest. */
		for (uint16_t i = 0; lazy && plan.storm && i < k; i++)
			if (i == 0 || !run[i])
				fok[i] &= cls[i].dst_looked && cls[i].dst_found;
		k = ingress_stages(w, s, ip, in_port, pkts, cls, run, k, now_ns,
				   lazy ? &h : NULL);
	}
	/* From here on the metadata is for the egress side (egress stages,
	 * QoS classifying from it) only: without one, nothing reads the
	 * destination or the offsets pass 2 would keep in it. A switch whose
	 * only reader is QoS (qos_l2) filled none: it stays off. */
	meta_on = meta_on && meta_out;

	/* Pass 2: learn and forward. last_out is the unicast destination of the
	 * frame before (XVS_MAX_PORTS: it was not unicast), which a frame with
	 * the same addresses reuses without looking anything up: the source was
	 * checked (and refreshed, or its learning requested) for the first one. */
	uint16_t last_out = XVS_MAX_PORTS;
	bool last_tagged = false;

	for (uint16_t i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct l2_cls *c = &cls[i];
		struct xvs_fdb_hit hit;
		bool want_tagged;
		uint16_t out;

		if (c->same && last_out < XVS_MAX_PORTS) {
			out = last_out;
			want_tagged = last_tagged;
			goto unicast;
		}
		last_out = XVS_MAX_PORTS;
		if (likely(xvs_fdb_lookup_key(xvs_dp.fdb, &c->src, &hit))) {
			if (likely(hit.port == in_port))
				xvs_fdb_touch(xvs_dp.fdb, &hit, now_ns);
			else
				/* A move, or a source a static entry holds on
				 * another port: the control thread refuses that
				 * one and counts it (static_conflict). The frame
				 * is forwarded either way, as by Linux and OVS. */
				learn_request(w, c->l2.src, c->vid, c->src.key, in_port, now_tsc);
		} else {
			learn_request(w, c->l2.src, c->vid, c->src.key, in_port, now_tsc);
		}

		if (unlikely(c->l2.dst[0] & 1) ||
		    !(c->dst_looked ? (hit = c->dst_hit, c->dst_found)
				    : xvs_fdb_lookup_key(xvs_dp.fdb, &c->dst, &hit))) {
			flood(w, s, in_port, m, c, meta_on || qos_flood_meta(m, c, in_port, qos_l2));
			continue;
		}
		out = hit.port;
		if (unlikely(out == in_port)) {
			ic->drop[XVS_DROP_same_port]++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(out >= XVS_MAX_PORTS || !s->port[out].active ||
			     !xvs_vlan_egress(&s->port[out].vlan, c->vid, &want_tagged))) {
			/* Stale entry (port leaving) or a static entry on a port that does
			 * not carry the VLAN: treat as unknown. */
			flood(w, s, in_port, m, c, meta_on || qos_flood_meta(m, c, in_port, qos_l2));
			continue;
		}
		last_out = out;
		last_tagged = want_tagged;
unicast:
		/* here, not before the jump: a frame of the same flow gets it too */
		if (unlikely(meta_on)) {
			xvs_meta(m)->dst.kind = XVS_DEST_PORT;
			xvs_meta(m)->dst.id = out;
		}
		/* Forwarded on ingress whatever becomes of the frame next: a
		 * loss on the way out is the egress port's (tx_oversize,
		 * copy_failed), so rx == forwarded + flooded + drops holds. */
		ic->forwarded++;
		if (unlikely(egress_oversize(&s->port[out], ip->max_frame, m, c))) {
			w->ctr[out].drop[XVS_DROP_tx_oversize]++;
			rte_pktmbuf_free(m);
			continue;
		}
		/* Before the tag changes: the headers as parsed. A frame of the
		 * run of the one classified just before, to the same port, has
		 * its class. */
		if (unlikely(qos_l2) && s->port[out].qos != NULL) {
			if (!(run[i] && q_prev == i - 1 && q_out == out))
				q_cls = xvs_qos_classify_l2(s->port[out].qos_plan, m, &c->l2, in_port);
			q_prev = i;
			q_out = out;
			rte_mbuf_sched_traffic_class_set(m, q_cls);
		}
		if (unlikely(!vlan_fixup(m, c->l2.tagged, want_tagged, c->vid, c->l2.pcp, meta_on))) {
			w->ctr[out].drop[XVS_DROP_copy_failed]++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(meta_on) && run[i] && same_class_mark(&w->tx[out], pkts[i - 1]))
			w->tx[out].same_class |= 1u << w->tx[out].n;
		else if (unlikely(qos_l2) && q_prev == i)
			w->tx[out].qos_classed |= 1u << w->tx[out].n;
		tx_enqueue(w, s, out, m);
	}
	if (unlikely(w->emitq.n > 0))
		xvs_emit_flush(w, s);
	return n;
}

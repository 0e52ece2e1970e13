/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VMQ software queues on the datapath (doc/vmq.md).
 *
 * An uplink with vmq-queues gives each VM port a receive queue of its own,
 * keyed by the VM's MAC and VLAN. No NIC here takes rte_flow filters, so the
 * queue is xvs's own: the uplink's polling worker looks each received
 * frame's destination up in the snapshot's filter table right after rx
 * (xvs_vmq_steer_burst) and hands the frames of a queue owned by another
 * worker to that worker through the software-RSS hand-off ring from the
 * poller to it (one producer, one consumer: FIFO, so a queue's frames keep
 * their order). The frame carries its uplink slot with XVS_VMQ_HANDOFF in
 * mbuf.port and its queue's tag in an mbuf dynamic field; the owner runs it
 * through the pipeline (xvs_vmq_run_handed) and counts packets, bytes and
 * busy cycles on the queue, so the queue is an object the balancer can weigh
 * and move like an rx queue. Frames of queues the poller owns itself are run
 * at once, timed on the queue too (not on the uplink's rx queue).
 *
 * VMMQ: a VM port with vmmq-queues has a group of queues behind its filter;
 * the frame's Toeplitz hash (the NIC's, or computed here with the uplink's
 * key, as software RSS does) picks one, so a flow stays on one queue.
 *
 * Moving a queue (a new owner, a VM getting or losing its queue) never
 * reorders it: the control thread stops polling the uplink for one
 * publication and lets the rings drain before the new filters take effect
 * (src/ctl/vmq.c).
 */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "dp.h"

int xvs_vmq_tag_offset = -1;

int
xvs_vmq_dp_init(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "xvs_vmq_tag",
		.size = sizeof(uint16_t),
		.align = __alignof__(uint16_t),
	};

	xvs_vmq_tag_offset = rte_mbuf_dynfield_register(&desc);
	return xvs_vmq_tag_offset < 0 ? -rte_errno : 0;
}

static inline uint16_t *
vmq_tag(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, xvs_vmq_tag_offset, uint16_t *);
}

/* The VLAN a frame from uplink p belongs to, as its ingress rules will put
 * it: the tag's, or the port's untagged VLAN. A frame those rules drop
 * matches no filter of a VM on another VLAN; if it lands on a queue it is
 * dropped there under the same reason. */
static inline uint16_t
frame_vid(const struct xvs_snap_port *p, const uint8_t *d, uint32_t len)
{
	if (len >= 18 && d[12] == 0x81 && d[13] == 0x00)
		return xvs_rd16(d + 14) & 0xfff;
	return p->vlan.mode == XVS_VLAN_ACCESS ? p->vlan.access_vid : p->vlan.native_vid;
}

/* The Toeplitz hash of m (the NIC's if it gave one), kept in the mbuf for
 * the pipeline as rss_spread does. */
static uint32_t
frame_hash(const struct xvs_vmq_table *t, struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t in[XVS_RSS_INPUT_MAX];
	struct xvs_l2 l2;
	uint32_t h = 0;

	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
		return m->hash.rss;
	if (t->hash != NULL && xvs_parse_l2(d, m->data_len, &l2) == XVS_PARSE_OK) {
		size_t len = xvs_rss_input_seg(d, m->data_len, m->pkt_len, &l2, t->hash_types, in);

		h = xvs_rss_hash(t->hash, in, len);
	}
	m->hash.rss = h;
	m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	return h;
}

uint16_t
xvs_vmq_steer_burst(struct xvs_worker *w, const struct xvs_snapshot *s,
		    const struct xvs_snap_port *p, uint16_t in_port, struct rte_mbuf **pkts,
		    uint16_t n, uint64_t now_tsc, struct xvs_busy_acct *acct)
{
	const struct xvs_vmq_table *t = p->vmq;
	uint16_t dst[XVS_BURST], idx[XVS_BURST], tag[XVS_BURST], start[XVS_MAX_WORKERS + 2];
	struct rte_mbuf *out[XVS_BURST];
	uint16_t nw = xvs_dp.n_workers_max, dflt = nw, keep = 0;
	bool any = false;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct xvs_vmq_filter *f = NULL;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (likely(m->data_len >= 14))
			f = xvs_vmq_filter_lookup(t, d, frame_vid(p, d, m->data_len));
		if (f == NULL) {
			dst[i] = dflt;
			continue;
		}
		if (unlikely(f->n_sub > 1)) {
			const struct xvs_vmq_target *q = xvs_vmq_filter_pick(t, f, frame_hash(t, m));

			dst[i] = q->worker;
			tag[i] = q->tag;
		} else {
			dst[i] = f->worker;
			tag[i] = f->tag;
		}
		/* a worker beyond those started would never drain its ring */
		if (unlikely(dst[i] >= nw))
			dst[i] = w->id;
		any = true;
	}
	if (!any) {
		w->vmq_default += n;
		return n;
	}
	xvs_rss_partition(dst, n, (uint16_t)(nw + 1), start, idx);
	for (uint16_t t_w = 0; t_w < nw; t_w++) {
		uint16_t k = 0, sent;

		for (uint16_t j = start[t_w]; j < start[t_w + 1]; j++) {
			struct rte_mbuf *m = pkts[idx[j]];

			m->port = (uint16_t)(in_port | XVS_VMQ_HANDOFF);
			*vmq_tag(m) = tag[idx[j]];
			out[k++] = m;
		}
		if (k == 0)
			continue;
		if (t_w == w->id) {
			/* its own queues: run here, in runs of one queue, timed on
			 * the queue and not on the uplink's rx queue, so that the
			 * balancer weighs and moves the queue apart from the uplink */
			struct xvs_rxq_counters *upq = acct != NULL ? *acct->open_q : NULL;
			uint16_t nb = acct != NULL ? *acct->nq : 0;

			for (uint16_t j = 0; j < k;)
				j += xvs_vmq_run_handed(w, s, out + j, (uint16_t)(k - j), now_tsc, acct);
			if (acct != NULL) {
				/* the uplink's time resumes (from the run's end); the
				 * queues' frames take their share of the flush, not it */
				*acct->open_q = upq;
				if (nb > 0 && acct->q[nb - 1] == upq && acct->n[nb - 1] >= k)
					acct->n[nb - 1] = (uint16_t)(acct->n[nb - 1] - k);
			}
			continue;
		}
		sent = xvs_handoff_burst(w, t_w, in_port, out, k);
		w->vmq_out += sent;
		w->vmq_drops += k - sent;
	}
	/* The default queue's frames, in order, into pkts[0..keep). */
	for (uint16_t j = start[dflt]; j < start[dflt + 1]; j++)
		pkts[keep++] = pkts[idx[j]];
	w->vmq_default += keep;
	return keep;
}

uint16_t
xvs_vmq_run_handed(struct xvs_worker *w, const struct xvs_snapshot *s, struct rte_mbuf **pkts,
		   uint16_t n, uint64_t now_tsc, struct xvs_busy_acct *acct)
{
	uint16_t port = pkts[0]->port, tg = *vmq_tag(pkts[0]), slot = port & ~XVS_VMQ_HANDOFF;
	struct xvs_rxq_counters *qc;
	uint64_t bytes = 0, t0 = 0, t1;
	uint16_t k = 1;

	while (k < n && pkts[k]->port == port && *vmq_tag(pkts[k]) == tg)
		k++;
	for (uint16_t i = 0; i < k; i++) {
		bytes += pkts[i]->pkt_len;
		pkts[i]->port = slot;
	}
	if (unlikely(slot >= XVS_MAX_PORTS || !s->port[slot].active || tg == 0 ||
		     tg > XVS_VMQ_IDS)) {
		rte_pktmbuf_free_bulk(pkts, k); /* port removed meanwhile */
		return k;
	}
	qc = &w->vmq_ctr[tg - 1];
	qc->packets += k;
	qc->bytes += bytes;
	qc->polls++;
	w->vmq_in += k;
	if (acct != NULL) {
		/* This run's time is the queue's: end the open interval first. */
		t0 = rte_rdtsc();
		if (*acct->open_q != NULL) {
			(*acct->open_q)->busy_tsc += t0 - *acct->tq;
			*acct->open_q = NULL;
		}
	}
	xvs_l2_forward_burst(w, s, slot, pkts, k, now_tsc);
	if (acct != NULL) {
		t1 = rte_rdtsc();
		qc->busy_tsc += t1 - t0;
		*acct->tq = t1;
		/* and its share of the turn's tx flush */
		if (likely(*acct->nq < acct->max)) {
			acct->q[*acct->nq] = qc;
			acct->n[(*acct->nq)++] = k;
		}
	}
	return k;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy flow cache (flow_cache.h says what it caches and when).
 *
 * Hand-written rather than an rte_hash: rte_hash has no notion of an entry
 * going stale with a generation, no bounded replacement (it fails an add
 * when a bucket is full, and deleting to make room is a writer's job), and
 * its lookup walks signatures, then keys, then data through three arrays;
 * here a set is one cache line of two entries holding key, generation and
 * answer (a key's choices: the four lines of one 256-byte block), written
 * only by the worker that owns it.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "acl.h"
#include "acl_stage.h"
#include "dp.h"
#include "flow_cache.h"
#include "guard.h"

#define WAYS 2u
#define CHOICES 4u  /* sets a key may be in: the lines of one 256-byte block */

/* One flow in 32 bytes, so that a set of two is one cache line and 10k
 * flows' sets (one line each) stay in a core's L2 (64 bytes an entry
 * measured 24-27 ns of policy at 10k flows; bench/README.md). A flow whose
 * set is full goes to its second choice, the neighbouring set (the other
 * line of the same 128 bytes), looked at only when the first misses, and
 * then to the two other lines of the same 256 bytes: with one choice ~4.5 %
 * of 10k flows in 32k ways found no way and missed on every packet, with
 * two ~0.5 % (every frame of theirs classified by the ACL). k[0..2] and the
 * low half of w3 are the key (make_key); the rest of w3 is the epoch it is
 * valid for (0: empty) and the answer. */
struct fc_ent {
	uint64_t k[3];
	uint64_t w3;     /* ports | epoch << 32 | answer << 48 */
};
static_assert(sizeof(struct fc_ent) * WAYS == 64, "a set is one cache line");
static_assert(XVS_MAX_PORTS <= 1024, "the key holds a port in 10 bits");
static_assert(XVS_ACL_MAX_RULES < 0x8000, "the answer holds a rule index in 15 bits");

#define W3_KEY 0xffffffffull        /* the key's part of w3 */
#define W3_CMP 0xffffffffffffull     /* key and epoch */
#define ANS_SPOOF 0x8000u            /* answer: mac_spoof drops it; the rest is res */

struct xvs_fcache {
	uint64_t gen;                /* snapshot generation of the epoch */
	uint16_t ep;                 /* epoch: entries of another one are empty */
	uint32_t rnd;                /* replacement lottery (LCG) */
	struct xvs_fcache_stats st;
	struct fc_ent *ent;          /* XVS_FCACHE_SETS * WAYS */
};

struct xvs_fcache *
xvs_fcache_create(int socket)
{
	struct xvs_fcache *fc = rte_zmalloc_socket("xvs_fcache", sizeof(*fc), RTE_CACHE_LINE_SIZE,
						   socket);

	if (fc == NULL)
		return NULL;
	/* Aligned to the block of a key's choices (choice_of). */
	fc->ent = rte_zmalloc_socket("xvs_fcache_ent",
				     sizeof(struct fc_ent) * XVS_FCACHE_SETS * WAYS,
				     CHOICES * sizeof(struct fc_ent) * WAYS, socket);
	if (fc->ent == NULL) {
		rte_free(fc);
		return NULL;
	}
	fc->rnd = 0x2545f491u;
	fc->ep = 1;
	fc->gen = UINT64_MAX;
	return fc;
}

void
xvs_fcache_free(struct xvs_fcache *fc)
{
	if (fc == NULL)
		return;
	rte_free(fc->ent);
	rte_free(fc);
}

void
xvs_fcache_stats(const struct xvs_fcache *fc, struct xvs_fcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (fc != NULL)
		*out = fc->st;
}

static inline bool
key_eq(const uint64_t *a, const uint64_t *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

/* Does e hold key k in epoch ep? */
static inline bool
ent_eq(const struct fc_ent *e, const uint64_t *k, uint64_t ep)
{
	return ((e->k[0] ^ k[0]) | (e->k[1] ^ k[1]) | (e->k[2] ^ k[2]) |
		((e->w3 ^ (k[3] | ep << 32)) & W3_CMP)) == 0;
}

/* Choice c (0 .. CHOICES - 1) of a key whose first choice is set s: 1 is
 * its neighbour, the other line of the same 128 bytes. */
static inline struct fc_ent *
choice_of(struct fc_ent *s, unsigned c)
{
	return (struct fc_ent *)((uintptr_t)s ^ c * sizeof(struct fc_ent) * WAYS);
}

/* The answer of key k in set s (epoch ep) in *ans, or false. */
static inline bool
set_find(const struct fc_ent *s, const uint64_t *k, uint64_t ep, uint32_t *ans)
{
	if (ent_eq(&s[0], k, ep)) {
		*ans = (uint32_t)(s[0].w3 >> 48);
		return true;
	}
	if (ent_eq(&s[1], k, ep)) {
		*ans = (uint32_t)(s[1].w3 >> 48);
		return true;
	}
	return false;
}

/* Key k's set. */
static inline struct fc_ent *
set_of(const struct xvs_fcache *fc, const uint64_t *k, bool macs)
{
	return &fc->ent[(xvs_fcache_hash(k, macs) & (XVS_FCACHE_SETS - 1)) * WAYS];
}

const struct xvs_fcache_mask xvs_fcache_mask_l2; /* all zero */

/* The first bits of a 4-byte field in network order, as a mask of the
 * bytes as they lie in memory (the key loads them as they lie). */
static uint32_t
prefix_bytes(unsigned bits)
{
	uint8_t b[4] = {0};
	uint32_t v;

	for (unsigned i = 0; i < 4 && bits > 0; i++) {
		unsigned n = bits < 8 ? bits : 8;

		b[i] = (uint8_t)(0xff00u >> n);
		bits -= n;
	}
	memcpy(&v, b, 4);
	return v;
}

void
xvs_fcache_mask_add(struct xvs_fcache_mask *m, unsigned c, unsigned src_bits, unsigned dst_bits,
		    bool sport, bool dport)
{
	/* source then destination, each as it lies in the frame */
	m->c[c].addrs |= (uint64_t)prefix_bytes(src_bits) | (uint64_t)prefix_bytes(dst_bits) << 32;
	m->c[c].ports |= (uint64_t)prefix_bytes(sport ? 16 : 0) |
			 (uint64_t)prefix_bytes(dport ? 16 : 0) << 16;
}

const uint8_t *
xvs_fcache_table(const struct xvs_fcache *fc)
{
	static_assert(sizeof(struct fc_ent) * WAYS == 64, "xvs_fcache_line: a set a line");
	return (const uint8_t *)fc->ent;
}

/* Write answer ans of key k into the first of its choices (from set) with
 * a free or stale way, or (1 in XVS_FCACHE_REPLACE) over a live one of its
 * set; nothing when k is there already (a burst with frames of one flow in
 * two runs, A B A, misses in both before either is written). Ways fill in
 * order within an epoch, so a copy comes before the first free way. */
static inline void
insert(struct xvs_fcache *fc, struct fc_ent *set, const uint64_t *k, uint64_t ep, uint32_t ans)
{
	struct fc_ent *e;

	for (unsigned c = 0; c < CHOICES; c++) {
		struct fc_ent *o = choice_of(set, c);

		for (unsigned w = 0; w < WAYS; w++) {
			if (ent_eq(&o[w], k, ep))
				return;
			if ((uint16_t)(o[w].w3 >> 32) != ep) {
				e = &o[w];
				goto write;
			}
		}
	}
	fc->rnd = fc->rnd * 1103515245u + 12345u;
	if (((fc->rnd >> 16) & (XVS_FCACHE_REPLACE - 1)) != 0)
		return;
	e = &set[(fc->rnd >> 30) & 1];
write:
	e->k[0] = k[0];
	e->k[1] = k[1];
	e->k[2] = k[2];
	e->w3 = k[3] | ep << 32 | (uint64_t)ans << 48;
	fc->st.inserts++;
}

/* The epoch of generation gen: a new one for every new generation, so that
 * what the entries hold from before is empty. An entry keeps 16 bits of it:
 * when they wrap, the table is cleared (every 65535 publications). */
static inline uint64_t
epoch_of(struct xvs_fcache *fc, uint64_t gen)
{
	if (likely(gen == fc->gen))
		return fc->ep;
	fc->gen = gen;
	if (unlikely(++fc->ep == 0)) {
		memset(fc->ent, 0, sizeof(struct fc_ent) * XVS_FCACHE_SETS * WAYS);
		fc->ep = 1;
	}
	return fc->ep;
}

/* The runs of burst b whose metadata is in place (fcache_run's first
 * pass): their keys made into keys[] from the metadata, the prefetched
 * set[] of each run's first frame start[], their count, or UINT16_MAX when
 * some frame is not one the cache answers. A frame of the run before it
 * (same[i]: the L2 stage compared the bytes the key is made of) joins it
 * without a key, and so does a frame whose key is the run's (same_l34 also
 * tells apart frames of one flow whose length, TOS or fragment field
 * differ: as runs of their own they would miss together after a
 * publication and each take an entry). Inlined with macs constant: the
 * loop is the cache's per-frame cost at 10k flows. */
static inline __attribute__((always_inline)) uint16_t
runs_of(struct xvs_fcache *fc, const struct xvs_ext_burst *b, const uint8_t *same, uint8_t need,
	bool macs, const struct xvs_fcache_mask *mask, uint64_t (*keys)[4], struct fc_ent **set,
	uint16_t *start)
{
	uint16_t nu = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		const struct xvs_pkt_meta *md = b->meta[i];
		uint64_t w1;

		if (same != NULL && i > 0 && same[i])
			continue; /* frame i - 1's key and metadata: its run */
		memcpy(&w1, (const uint8_t *)md + 8, 8);
		if (unlikely((md->flags & need) != need ||
			     !xvs_fcache_key(keys[i], b->data[i], w1, b->port, macs, mask)))
			return UINT16_MAX;
		if (i > 0 && key_eq(keys[i], keys[start[nu - 1]]))
			continue;
		set[nu] = set_of(fc, keys[i], macs);
		rte_prefetch0(set[nu]);
		start[nu++] = i;
	}
	return nu;
}

/* runs_of and the first choices' lookups for a held burst (its keys,
 * hashes and ok from the L2 stage, the sets prefetched there): the runs'
 * start[] and count, answers ans[] of those found, and the others listed
 * as fcache_run's misses (set, miss, mrun; *nm of them, the next choice's
 * line prefetched); UINT16_MAX when some frame is not one the cache
 * answers. A frame joins the run before it as in runs_of; the hashes are
 * compared before the keys. */
static inline uint16_t
held_runs(struct xvs_fcache *fc, const struct xvs_ext_burst *b, const uint8_t *same,
	  const struct xvs_held *held, uint64_t ep, uint32_t *ans, uint16_t *start,
	  struct fc_ent **set, uint16_t *miss, uint16_t *mrun, uint16_t *nm)
{
	const uint64_t (*key)[4] = held->key;
	const uint32_t *hash = held->hash;
	const uint8_t *ok = held->ok;
	struct fc_ent *ent = fc->ent;
	uint16_t nu = 0, n_miss = 0, last = 0, n = b->n;

	for (uint16_t i = 0; i < n; i++) {
		struct fc_ent *s;

		if (i > 0 && same[i])
			continue;
		if (unlikely(!ok[i]))
			return UINT16_MAX;
		if (i > 0 && hash[i] == hash[last] && key_eq(key[i], key[last]))
			continue;
		s = &ent[(hash[i] & (XVS_FCACHE_SETS - 1)) * WAYS];
		last = i;
		if (!set_find(s, key[i], ep, &ans[nu])) {
			set[n_miss] = s;
			rte_prefetch0(choice_of(s, 1));
			miss[n_miss] = i;
			mrun[n_miss++] = nu;
		}
		start[nu++] = i;
	}
	*nm = n_miss;
	return nu;
}

void
xvs_fcache_meta_runs(struct xvs_pkt_meta *const *meta, struct rte_mbuf *const *pkts,
		     const uint8_t *same, uint16_t n)
{
	for (uint16_t i = 1; i < n; i++) {
		if (!same[i])
			continue;
		*meta[i] = *meta[i - 1];
		meta[i]->flow_hash = xvs_meta_flow_hash(pkts[i]);
	}
}

int
xvs_fcache_run(struct xvs_fcache *fc, uint64_t gen, const struct xvs_fcache_plan *plan,
	       const struct xvs_ext_burst *b, const uint8_t *same, const struct xvs_held *held,
	       const void *spoof_state, const void *acl_state, uint64_t *acl_ctr,
	       uint8_t *verdict, uint8_t *reason, uint8_t *by)
{
	uint64_t keys[XVS_EXT_BURST_MAX][4];
	const uint64_t (*kk)[4] = held != NULL ? held->key : (const uint64_t (*)[4])keys;
	struct fc_ent *set[XVS_EXT_BURST_MAX];
	uint32_t ans[XVS_EXT_BURST_MAX], res[XVS_EXT_BURST_MAX], mres[XVS_EXT_BURST_MAX];
	uint16_t start[XVS_EXT_BURST_MAX], miss[XVS_EXT_BURST_MAX], mrun[XVS_EXT_BURST_MAX];
	uint16_t nu = 0, nm = 0, i, j;
	uint8_t spoof[XVS_EXT_BURST_MAX];
	uint32_t any_spoof = 0;
	const struct xvs_mac_guard *g = plan->spoof >= 0 ? spoof_state : NULL;
	uint8_t need = XVS_META_GUARD_CLEAN | (plan->storm ? XVS_META_DST_KNOWN : 0);
	uint64_t ep;
	int r;

	/* Every frame must be one the cache answers, or none is taken. Keys;
	 * a frame with the key of the one before it (a burst is mostly runs of
	 * one flow) joins its run, which shares one lookup and is counted at
	 * once. The sets of the runs are prefetched first and compared after,
	 * so their misses overlap. */
	if (plan->spoof < 0 && plan->acl < 0) {
		/* The guards pass what they marked clean: nothing to look up. */
		for (i = 0; i < b->n; i++) {
			const struct xvs_pkt_meta *md;

			if (same != NULL && i > 0 && same[i])
				continue;
			if (held != NULL ? !held->ok[i] :
			    ((md = b->meta[i])->l3 != 4 || (md->flags & need) != need)) {
				fc->st.bypass++;
				return -1;
			}
		}
		return 0;
	}
	ep = epoch_of(fc, gen);
	/* Held keys: their sets were prefetched with them (the L2 stage), and
	 * the runs and their first choices take one pass. */
	nu = held != NULL ? held_runs(fc, b, same, held, ep, ans, start, set, miss, mrun, &nm)
	     : plan->macs ? runs_of(fc, b, same, need, true, plan->mask, keys, set, start)
			  : runs_of(fc, b, same, need, false, plan->mask, keys, set, start);
	if (unlikely(nu == UINT16_MAX)) {
		fc->st.bypass++;
		return -1;
	}
	/* Else first choices; the runs not there look at their next choices
	 * after, each choice's line prefetched for all of them first. */
	for (j = 0; held == NULL && j < nu; j++) {
		if (!set_find(set[j], kk[start[j]], ep, &ans[j])) {
			set[nm] = set[j];
			rte_prefetch0(choice_of(set[j], 1));
			miss[nm] = start[j];
			mrun[nm++] = j;
		}
	}
	for (unsigned c = 1; c < CHOICES && nm > 0; c++) {
		for (i = 0, j = 0; i < nm; i++) {
			if (set_find(choice_of(set[i], c), kk[miss[i]], ep, &ans[mrun[i]]))
				continue;
			if (c + 1 < CHOICES)
				rte_prefetch0(choice_of(set[i], c + 1));
			set[j] = set[i];
			miss[j] = miss[i];
			mrun[j++] = mrun[i];
		}
		nm = j;
	}
	if (nm > 0) {
		/* The ACL classifies the misses from their metadata. */
		if (held != NULL)
			held->write(held->ctx, miss, nm);
		/* mac_spoof's answer first: a source it would adopt (sticky)
		 * has a side effect and is left to the stage, before anything
		 * was counted or written. */
		for (j = 0; j < nm; j++) {
			const uint8_t *src = b->data[miss[j]] + 6;
			enum xvs_mac_verdict v = g == NULL ? XVS_MAC_ALLOW : xvs_mac_guard_check(g, src);

			if (unlikely(v == XVS_MAC_LEARN)) {
				fc->st.bypass++;
				return -1;
			}
			spoof[j] = v == XVS_MAC_SPOOF;
		}
		if (plan->acl < 0) {
			memset(mres, 0, sizeof(mres[0]) * nm);
		} else if (unlikely(xvs_acl_stage_classify(acl_state, b, miss, nm, mres) != 0)) {
			/* No answer to keep for an epoch: the stages classify
			 * this burst, uncached (nothing was counted or written
			 * yet). */
			fc->st.bypass++;
			return -1;
		}
		for (j = 0; j < nm; j++) {
			uint32_t a = mres[j] | (spoof[j] ? ANS_SPOOF : 0);

			ans[mrun[j]] = a;
			insert(fc, set[j], kk[miss[j]], ep, a);
		}
	}
	fc->st.misses += nm;
	fc->st.hits += (uint64_t)(b->n - nm);
	for (j = 0; j < nu; j++) {
		res[j] = ans[j] & ~ANS_SPOOF;
		any_spoof |= ans[j];
	}
	any_spoof &= ANS_SPOOF;
	if (plan->acl < 0) {
		if (likely(!any_spoof))
			return 0;
		memset(verdict, XVS_VERDICT_PASS, b->n);
		goto spoofed;
	}
	if (likely(!any_spoof)) {
		struct xvs_ext_burst ab = *b;

		ab.state = acl_state;
		ab.counters = acl_ctr;
		r = xvs_acl_stage_apply_runs(acl_state, &ab, res, start, nu, verdict, reason);
		if (r >= 0) {
			if (r > 0)
				memset(by, (uint8_t)plan->acl, b->n);
			return r;
		}
	}
	/* Per packet: meters, stateful flows, or spoofed frames among them.
	 * The ACL reads every frame's metadata here. */
	if (held != NULL) {
		held->write(held->ctx, NULL, b->n);
		xvs_fcache_meta_runs(b->meta, b->pkts, same, b->n);
	}
	{
		uint32_t pres[XVS_EXT_BURST_MAX];

		for (j = 0, i = 0; i < b->n; i++) {
			if (j + 1 < nu && start[j + 1] == i)
				j++;
			pres[i] = res[j];
			spoof[i] = (ans[j] & ANS_SPOOF) != 0;
		}
		memset(verdict, XVS_VERDICT_PASS, b->n);
		if (likely(!any_spoof)) {
			struct xvs_ext_burst ab = *b;

			ab.state = acl_state;
			ab.counters = acl_ctr;
			xvs_acl_stage_apply(acl_state, &ab, pres, verdict, reason);
			memset(by, (uint8_t)plan->acl, b->n);
			return 1;
		}
		/* The ACL sees the frames mac_spoof let through, as in the
		 * stages: a burst of those only. */
		struct rte_mbuf *pk[XVS_EXT_BURST_MAX];
		uint8_t *dt[XVS_EXT_BURST_MAX], sv[XVS_EXT_BURST_MAX], sr[XVS_EXT_BURST_MAX];
		uint32_t ln[XVS_EXT_BURST_MAX], sres[XVS_EXT_BURST_MAX];
		struct xvs_pkt_meta *mt[XVS_EXT_BURST_MAX];
		uint16_t at[XVS_EXT_BURST_MAX], k = 0;
		struct xvs_ext_burst ab = *b;

		for (i = 0; i < b->n; i++) {
			if (spoof[i])
				continue;
			pk[k] = b->pkts[i];
			dt[k] = b->data[i];
			ln[k] = b->len[i];
			mt[k] = b->meta[i];
			sres[k] = pres[i];
			sv[k] = XVS_VERDICT_PASS;
			at[k++] = i;
		}
		if (k > 0) {
			ab.pkts = pk;
			ab.data = dt;
			ab.len = ln;
			ab.meta = mt;
			ab.n = k;
			ab.state = acl_state;
			ab.counters = acl_ctr;
			xvs_acl_stage_apply(acl_state, &ab, sres, sv, sr);
			for (j = 0; j < k; j++) {
				verdict[at[j]] = sv[j];
				reason[at[j]] = sr[j];
				by[at[j]] = (uint8_t)plan->acl;
			}
		}
	}
spoofed:
	/* Spoofed frames: the runs whose answer says so. */
	for (j = 0; j < nu; j++) {
		if (!(ans[j] & ANS_SPOOF))
			continue;
		for (i = start[j]; i < (j + 1 < nu ? start[j + 1] : b->n); i++) {
			verdict[i] = XVS_VERDICT_DROP;
			reason[i] = 0; /* mac_spoof's "spoofed" */
			by[i] = (uint8_t)plan->spoof;
		}
	}
	return 1;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy flow cache (flow_cache.h says what it caches and when).
 *
 * Hand-written rather than an rte_hash: rte_hash has no notion of an entry
 * going stale with a generation, no bounded replacement (it fails an add
 * when a bucket is full, and deleting to make room is a writer's job), and
 * its lookup walks signatures, then keys, then data through three arrays;
 * here a set is two adjacent cache lines holding key, generation and answer,
 * written only by the worker that owns it.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "acl_stage.h"
#include "dp.h"
#include "flow_cache.h"
#include "guard.h"

#define WAYS 2u

/* One flow: the key, the generation it is valid for (+ 1: 0 is empty) and
 * the answer. */
struct fc_ent {
	uint64_t key[4];
	uint64_t gen1;
	uint32_t res;    /* the ACL's answer: rule index + 1, 0 no match / no ACL */
	uint8_t spoof;   /* mac_spoof drops it */
	uint8_t pad[19];
} __rte_cache_aligned;
static_assert(sizeof(struct fc_ent) == 64, "one cache line per entry");

struct xvs_fcache {
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
	fc->ent = rte_zmalloc_socket("xvs_fcache_ent",
				     sizeof(struct fc_ent) * XVS_FCACHE_SETS * WAYS, 128, socket);
	if (fc->ent == NULL) {
		rte_free(fc);
		return NULL;
	}
	fc->rnd = 0x2545f491u;
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

static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The key of frame d (metadata md, IPv4 with its L4 header) on port. */
static inline void
make_key(uint64_t *k, const uint8_t *d, const struct xvs_pkt_meta *md, uint16_t port)
{
	bool ports = (md->flags & XVS_META_HAS_PORTS) != 0;

	k[0] = ld64(d);                                          /* dst MAC, src MAC 0-1 */
	k[1] = ld32(d + 8) | (uint64_t)port << 32 | (uint64_t)md->vid << 48;
	k[2] = ld64(d + md->l3_off + 12);                        /* src, dst address */
	k[3] = (ports ? ld32(d + md->l4_off) : 0) | (uint64_t)md->l4_proto << 32 |
	       (uint64_t)ports << 40;
}

static inline bool
key_eq(const uint64_t *a, const uint64_t *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

static inline struct fc_ent *
set_of(const struct xvs_fcache *fc, const uint64_t *k)
{
	uint32_t h = rte_hash_crc_8byte(k[0] ^ k[3], 0);

	h = rte_hash_crc_8byte(k[1], h);
	h = rte_hash_crc_8byte(k[2], h);
	return &fc->ent[(h & (XVS_FCACHE_SETS - 1)) * WAYS];
}

/* Write the answer of key k into its set: a free or stale way, or (1 in
 * XVS_FCACHE_REPLACE) a live one. */
static inline void
insert(struct xvs_fcache *fc, struct fc_ent *set, const uint64_t *k, uint64_t gen1, uint32_t res,
       uint8_t spoof)
{
	struct fc_ent *e;

	if (set[0].gen1 != gen1) {
		e = &set[0];
	} else if (set[1].gen1 != gen1) {
		e = &set[1];
	} else {
		fc->rnd = fc->rnd * 1103515245u + 12345u;
		if (((fc->rnd >> 16) & (XVS_FCACHE_REPLACE - 1)) != 0)
			return;
		e = &set[(fc->rnd >> 30) & 1];
	}
	memcpy(e->key, k, sizeof(e->key));
	e->gen1 = gen1;
	e->res = res;
	e->spoof = spoof;
	fc->st.inserts++;
}

bool
xvs_fcache_run(struct xvs_fcache *fc, uint64_t gen, const struct xvs_fcache_plan *plan,
	       const struct xvs_ext_burst *b, const void *spoof_state, const void *acl_state,
	       uint64_t *acl_ctr, uint8_t *verdict, uint8_t *reason, uint8_t *by)
{
	uint64_t keys[XVS_EXT_BURST_MAX][4];
	struct fc_ent *set[XVS_EXT_BURST_MAX];
	uint32_t res[XVS_EXT_BURST_MAX], mres[XVS_EXT_BURST_MAX];
	uint16_t uniq[XVS_EXT_BURST_MAX], miss[XVS_EXT_BURST_MAX], nu = 0, nm = 0, i, j;
	uint8_t spoof[XVS_EXT_BURST_MAX], any_spoof = 0;
	const struct xvs_mac_guard *g = plan->spoof >= 0 ? spoof_state : NULL;
	uint8_t need = XVS_META_GUARD_CLEAN | (plan->storm ? XVS_META_DST_KNOWN : 0);
	uint64_t gen1 = gen + 1;

	/* Every frame must be one the cache answers, or none is taken. Keys;
	 * a frame with the key of the one before it (a burst is mostly runs of
	 * one flow) shares its lookup. The sets of the rest are prefetched
	 * first and compared after, so their misses overlap. */
	for (i = 0; i < b->n; i++) {
		const struct xvs_pkt_meta *md = b->meta[i];

		if (unlikely(md->l3 != 4 || (md->flags & need) != need)) {
			fc->st.bypass++;
			return false;
		}
		make_key(keys[i], b->data[i], md, b->port);
		if (i > 0 && key_eq(keys[i], keys[i - 1]))
			continue;
		set[nu] = set_of(fc, keys[i]);
		rte_prefetch0(set[nu]);
		uniq[nu++] = i;
	}
	for (j = 0; j < nu; j++) {
		const struct fc_ent *s = set[j];
		const uint64_t *k = keys[uniq[j]];

		if (s[0].gen1 == gen1 && key_eq(s[0].key, k)) {
			res[uniq[j]] = s[0].res;
			spoof[uniq[j]] = s[0].spoof;
		} else if (s[1].gen1 == gen1 && key_eq(s[1].key, k)) {
			res[uniq[j]] = s[1].res;
			spoof[uniq[j]] = s[1].spoof;
		} else {
			set[nm] = set[j];
			miss[nm++] = uniq[j];
		}
	}
	if (nm > 0) {
		/* mac_spoof's answer first: a source it would adopt (sticky)
		 * has a side effect and is left to the stage, before anything
		 * was counted or written. */
		for (j = 0; j < nm; j++) {
			const uint8_t *src = b->data[miss[j]] + 6;
			enum xvs_mac_verdict v = g == NULL ? XVS_MAC_ALLOW : xvs_mac_guard_check(g, src);

			if (unlikely(v == XVS_MAC_LEARN)) {
				fc->st.bypass++;
				return false;
			}
			spoof[miss[j]] = v == XVS_MAC_SPOOF;
		}
		if (plan->acl < 0) {
			memset(mres, 0, sizeof(mres[0]) * nm);
		} else if (unlikely(xvs_acl_stage_classify(acl_state, b, miss, nm, mres) != 0)) {
			/* No answer to keep for a generation: the stages
			 * classify this burst, uncached (nothing was counted
			 * or written yet). */
			fc->st.bypass++;
			return false;
		}
		for (j = 0; j < nm; j++) {
			res[miss[j]] = mres[j];
			insert(fc, set[j], keys[miss[j]], gen1, mres[j], spoof[miss[j]]);
		}
	}
	fc->st.misses += nm;
	fc->st.hits += (uint64_t)(b->n - nm);
	/* The runs share their first frame's answer. */
	for (j = 0, i = 0; i < b->n; i++) {
		if (j < nu && uniq[j] == i) {
			j++;
		} else {
			res[i] = res[i - 1];
			spoof[i] = spoof[i - 1];
		}
		any_spoof |= spoof[i];
	}
	memset(verdict, XVS_VERDICT_PASS, b->n);
	if (plan->acl < 0)
		goto spoofed;
	if (likely(!any_spoof)) {
		struct xvs_ext_burst ab = *b;

		ab.state = acl_state;
		ab.counters = acl_ctr;
		xvs_acl_stage_apply(acl_state, &ab, res, verdict, reason);
		memset(by, (uint8_t)plan->acl, b->n);
	} else {
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
			sres[k] = res[i];
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
	if (unlikely(any_spoof))
		for (i = 0; i < b->n; i++)
			if (spoof[i]) {
				verdict[i] = XVS_VERDICT_DROP;
				reason[i] = 0; /* mac_spoof's "spoofed" */
				by[i] = (uint8_t)plan->spoof;
			}
	return true;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding database: the table's layout and its lock-free reader side.
 *
 * Not an API of its own: fdb.h includes this so that a worker, which looks
 * up two addresses per frame, runs the lookup inline (no calls, the hit kept
 * in registers) instead of through calls into the core library. Use the
 * functions fdb.h documents; the layout below may change.
 *
 * Layout
 * ------
 * nbuckets (a power of two) buckets of XVS_FDB_SLOTS (6) slots. A bucket is
 * one cache line: its 6 keys, its 32-bit sequence counter and the slots'
 * ports, each with its static bit (bit 15). So a lookup, hit or miss, reads one line. (The table used to
 * have 8-slot buckets whose keys filled a line and whose ports sat in a
 * second one: two lines per lookup, five per switched frame with the source's
 * last-seen time. One line per bucket is what pays at 10,000 flows, where the
 * buckets compete for L1 with the frames.) A slot's port is 16 bits: the
 * port index in the low 12 (a switch has up to 1,024 ports, doc/ports.md;
 * the table takes indexes up to XVS_FDB_PORT_MAX) and the static flag in bit
 * 15, so that the sequence counter keeps 32 bits in the line: a reader misses
 * a change only if the writer changes the same bucket 2^31 times between its
 * two loads of it (with 16 bits, 32,768 changes while a reader was preempted
 * for ~33 ms could do it). Each bucket's count of occupied slots, which only
 * the writer reads, is in an array of its own (xvs_fdb.used).
 *
 * Last-seen times are in a separate array, one cache line per bucket: only a
 * source lookup reads one (to refresh it at most once a second), and the
 * stores readers make there must not dirty the lines every lookup reads.
 *
 * A key is the MAC's bytes (first byte lowest) << 16 | vid; 0 marks a free
 * slot (a zero MAC is never stored). Each key has two candidate buckets from
 * one 64-bit hash (two-choice hashing), with nbuckets >= max_entries / 2:
 * at most 2 entries per 6-slot bucket on average when full. A new key goes to
 * its first bucket while that holds fewer than 4 entries or no more than the
 * second, else to the emptier second: so about 96 % of keys sit in their
 * first bucket even in a full table (simulated: 2^20 keys, 2^19 buckets, no
 * overflow in any of 10 seeds), and lookups prefetch only that one. Keys are
 * never moved between buckets, so a reader that misses in one bucket cannot
 * have "missed" an entry in flight. A small stash of extra buckets absorbs
 * the rare overflow (or a deliberate collision attack) and costs lookups one
 * load while it is empty. If even the stash is full, learning fails like a
 * full table.
 *
 * Seqlock, without fences so ThreadSanitizer can follow it: the writer stores
 * seq + 1 (odd), writes slots with release stores, and stores seq + 2 with
 * release. A reader loads seq with acquire, reads slots with acquire loads and
 * loads seq again: if it saw any new slot value, acquire/release ordering
 * guarantees it also sees the odd value, and it retries. Acquire loads are
 * plain loads on x86.
 */
#ifndef XVS_FDB_TABLE_H
#define XVS_FDB_TABLE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#define XVS_FDB_SLOTS 6
#define XVS_FDB_PORT_MAX 4095 /* > XVS_MAX_PORTS (dp.h); sizes the per-port arrays below */
#define XVS_FDB_STASH_BUCKETS 4
#define XVS_FDB_SEEN_STRIDE 8 /* last-seen times per bucket: one cache line */
#define XVS_FDB_TOUCH_NS UINT64_C(1000000000)

/* One bucket: everything a lookup reads, in one cache line. */
struct xvs_fdb_bucket {
	uint64_t key[XVS_FDB_SLOTS];  /* mac << 16 | vid; 0 = free */
	uint32_t seq;                 /* seqlock: odd while the writer changes the bucket */
	uint16_t port[XVS_FDB_SLOTS]; /* port of slot i */
} __attribute__((aligned(64)));

/* A slot's port field: the port index, | XVS_FDB_STATIC for a static entry. */
#define XVS_FDB_STATIC 0x8000u
#define XVS_FDB_PORT_BITS 0x0fffu
_Static_assert(XVS_FDB_PORT_MAX <= XVS_FDB_PORT_BITS, "port indexes fit below the static bit");

_Static_assert(sizeof(struct xvs_fdb_bucket) == 64, "a bucket is one cache line");

/* Written by the control thread only; workers read buckets and stash_used,
 * and store to last_seen (xvs_fdb_touch). */
struct xvs_fdb {
	/* Read by every lookup; unchanged after create. */
	struct xvs_fdb_bucket *bucket; /* nbuckets + XVS_FDB_STASH_BUCKETS */
	uint8_t *used;                 /* occupied slots per bucket (writer only) */
	uint64_t *last_seen;           /* ns, XVS_FDB_SEEN_STRIDE per bucket; relaxed atomics */
	uint64_t seed;                 /* hash seed, from the table's address */
	uint32_t mask;                 /* nbuckets - 1 */
	uint32_t nbuckets;             /* power of two, >= 2 */
	uint32_t stash_used;           /* entries in the stash; atomic, readers skip it at 0 */

	/* Written by the writer whenever a port's learned count or limit
	 * changes, read by workers before they ask to learn on the port
	 * (xvs_fdb_port_full): 1 while the port is at its limit. Relaxed
	 * atomics; stored only when it changes, in lines of its own. */
	alignas(64) uint8_t port_full[XVS_FDB_PORT_MAX + 1];

	/* Writer only. */
	alignas(64) uint64_t aging_ns; /* 0 = never age */
	struct xvs_fdb_stats stats;    /* entries, counters */
	struct xvs_fdb_port_stats port[XVS_FDB_PORT_MAX + 1]; /* per-port limit and counts */
};

static inline void
xvs_fdb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/* MurmurHash3 fmix64: full avalanche, so both halves make independent bucket
 * choices. */
static inline uint64_t
xvs_fdb_hash(const struct xvs_fdb *fdb, uint64_t key)
{
	uint64_t h = key ^ fdb->seed;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static inline void
xvs_fdb_candidates(const struct xvs_fdb *fdb, uint64_t key, uint32_t *b1, uint32_t *b2)
{
	uint64_t h = xvs_fdb_hash(fdb, key);

	*b1 = (uint32_t)h & fdb->mask;
	*b2 = (uint32_t)(h >> 32) & fdb->mask;
	if (*b2 == *b1)
		*b2 = *b1 ^ 1;
}

static inline bool
xvs_fdb_bucket_lookup(const struct xvs_fdb *fdb, uint32_t b, uint64_t key,
		      struct xvs_fdb_hit *hit)
{
	const struct xvs_fdb_bucket *bk = &fdb->bucket[b];
	uint32_t s1, s2;
	uint16_t port = 0;
	int i;

	for (;;) {
		s1 = __atomic_load_n(&bk->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			xvs_fdb_cpu_relax();
			continue;
		}
		for (i = 0; i < XVS_FDB_SLOTS; i++)
			if (__atomic_load_n(&bk->key[i], __ATOMIC_ACQUIRE) == key)
				break;
		if (i < XVS_FDB_SLOTS)
			port = __atomic_load_n(&bk->port[i], __ATOMIC_ACQUIRE);
		/* Ordered after the acquire loads above. */
		s2 = __atomic_load_n(&bk->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			break;
	}
	if (i == XVS_FDB_SLOTS)
		return false;
	hit->port = (uint16_t)(port & XVS_FDB_PORT_BITS);
	hit->is_static = (port & XVS_FDB_STATIC) != 0;
	hit->slot = b * XVS_FDB_SEEN_STRIDE + (uint32_t)i;
	return true;
}

/* The first bucket only: insert puts keys in the second bucket only when the
 * first is fuller (see the layout comment). */
static inline void
xvs_fdb_key_prepare(const struct xvs_fdb *fdb, uint64_t key, struct xvs_fdb_key *k)
{
	k->key = key;
	xvs_fdb_candidates(fdb, key, &k->b1, &k->b2);
	__builtin_prefetch(&fdb->bucket[k->b1]);
}

static inline void
xvs_fdb_key_prepare_src(const struct xvs_fdb *fdb, uint64_t key, struct xvs_fdb_key *k)
{
	xvs_fdb_key_prepare(fdb, key, k);
	/* xvs_fdb_touch() reads one of the bucket's times. */
	__builtin_prefetch(&fdb->last_seen[k->b1 * XVS_FDB_SEEN_STRIDE]);
}

/* Slow part of a lookup, out of line: the stash, when it holds anything. */
bool xvs_fdb_lookup_stash(const struct xvs_fdb *fdb, uint64_t key, struct xvs_fdb_hit *hit);

/* Always inline: the compiler kept one out-of-line copy that the worker
 * called twice per frame (hit returned through memory); inlined, the 10k-flow
 * switch path costs ~4 % less against bench/micro_l2's learning anchor (14 of
 * 16 paired runs on each CPU, median ratio 1.047 -> 1.009). */
static inline __attribute__((always_inline)) bool
xvs_fdb_lookup_key(const struct xvs_fdb *fdb, const struct xvs_fdb_key *k,
		   struct xvs_fdb_hit *hit)
{
	if (xvs_fdb_bucket_lookup(fdb, k->b1, k->key, hit) ||
	    xvs_fdb_bucket_lookup(fdb, k->b2, k->key, hit))
		return true;
	if (__builtin_expect(__atomic_load_n(&fdb->stash_used, __ATOMIC_RELAXED) == 0, 1))
		return false;
	return xvs_fdb_lookup_stash(fdb, k->key, hit);
}

/* Is port at its limit of learned entries (mac-limit)? A learn or move
 * request for it would be refused: workers skip it. May lag the writer by a
 * moment: a request too many is refused as before, one too few is asked
 * again by the source's next frame. */
static inline bool
xvs_fdb_port_full(const struct xvs_fdb *fdb, uint16_t port)
{
	return port <= XVS_FDB_PORT_MAX &&
	       __atomic_load_n(&fdb->port_full[port], __ATOMIC_RELAXED) != 0;
}

static inline void
xvs_fdb_touch(const struct xvs_fdb *fdb, const struct xvs_fdb_hit *hit, uint64_t now_ns)
{
	uint64_t *ls;
	uint64_t old;

	if (hit->is_static ||
	    hit->slot >= (fdb->nbuckets + XVS_FDB_STASH_BUCKETS) * XVS_FDB_SEEN_STRIDE)
		return;
	/* If the slot was reused since the lookup, this refreshes the new entry,
	 * which the writer has just stamped anyway: harmless. Writing at most
	 * once a second keeps the line from bouncing between workers. */
	ls = &fdb->last_seen[hit->slot];
	old = __atomic_load_n(ls, __ATOMIC_RELAXED);
	if (now_ns > old && now_ns - old > XVS_FDB_TOUCH_NS)
		__atomic_store_n(ls, now_ns, __ATOMIC_RELAXED);
}

#endif /* XVS_FDB_TABLE_H */

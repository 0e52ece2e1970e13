/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding database (core): bounded hash table of (MAC, VLAN) -> port with
 * one writer and lock-free readers. See fdb.h for the concurrency contract.
 *
 * Layout
 * ------
 * nbuckets (a power of two) buckets of XVS_FDB_SLOTS (8) slots. A bucket's keys
 * fill exactly one cache line, so a lookup compares all 8 candidates after a
 * single miss; the ports, the static bits and the bucket's sequence counter
 * sit in a 32-byte record in the next cache line (struct fdb_bucket), and
 * last-seen times in a separate array, because readers touch them only on a
 * hit (ports) or rarely (times).
 *
 * A key is the MAC's bytes (first byte lowest) << 16 | vid; 0 marks a free
 * slot (a zero MAC is never stored).
 * Each key has two candidate buckets from one 64-bit hash (two-choice
 * hashing). With nbuckets >= max_entries / 4, a full table holds 4 entries
 * per 8-slot bucket on average. A new key goes to its first bucket while
 * that holds fewer than 4 entries or no more than the second, else to the
 * emptier second: so nearly every key sits in its first bucket until the
 * table fills, and lookups prefetch only that one, while the choice near
 * full keeps 2^20 random keys fitting. Keys are never moved between buckets,
 * so a reader that misses in one bucket cannot have "missed" an entry in
 * flight. A small stash of extra buckets absorbs the rare overflow (or a
 * deliberate collision attack) and costs lookups one load while it is empty.
 * If even the stash is full, learning fails like a full table.
 *
 * Seqlock, without fences so ThreadSanitizer can follow it: the writer stores
 * seq + 1 (odd), writes slots with release stores, and stores seq + 2 with
 * release. A reader loads seq with acquire, reads slots with acquire loads and
 * loads seq again: if it saw any new slot value, acquire/release ordering
 * guarantees it also sees the odd value, and it retries. Acquire loads are
 * plain loads on x86.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"

#define XVS_FDB_SLOTS 8
#define FDB_STASH_BUCKETS 4
#define FDB_TOUCH_NS UINT64_C(1000000000)

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/* One cache line of keys, scanned by every lookup. */
struct fdb_keys {
	uint64_t key[XVS_FDB_SLOTS]; /* mac << 16 | vid; 0 = free */
} __attribute__((aligned(64)));

/* Per-bucket data read on a hit and written only by the writer. */
struct fdb_meta {
	uint32_t seq;                  /* seqlock: odd while the writer changes the bucket */
	uint8_t static_mask;           /* bit i: slot i is a static entry */
	uint8_t used;                  /* occupied slots (writer only) */
	uint16_t port[XVS_FDB_SLOTS];  /* port of slot i */
	uint8_t pad[10];               /* keep two records per cache line */
} __attribute__((aligned(32)));

/* Keys and meta of a bucket side by side in one 128-byte block (a lookup
 * reads both: the sequence counter, then the keys). Prefetching both lines
 * of both candidate buckets of both addresses of a 32-frame burst overran the
 * line fill buffers (measured: 13.0 vs 14.3 Mpps); both lines of the first
 * bucket only, where nearly every key is (see insert()), is the best of the
 * variants measured. */
struct fdb_bucket {
	struct fdb_keys k;
	struct fdb_meta m;
	uint8_t pad[32];
} __attribute__((aligned(128)));

_Static_assert(sizeof(struct fdb_keys) == 64, "keys of a bucket must fill one cache line");
_Static_assert(sizeof(struct fdb_bucket) == 128, "a bucket is two adjacent cache lines");
_Static_assert(sizeof(struct fdb_meta) == 32, "bucket meta must be 32 bytes");

/*
 * The table. Written by the control thread only; workers read keys, meta and
 * stash_used, and store to last_seen (xvs_fdb_touch).
 */
struct xvs_fdb {
	/* Read by every lookup; unchanged after create. */
	struct fdb_bucket *bucket;  /* nbuckets + FDB_STASH_BUCKETS */
	uint64_t *last_seen;        /* ns, per slot; relaxed atomics (touched by readers) */
	uint64_t seed;              /* hash seed, from the table's address */
	uint32_t mask;              /* nbuckets - 1 */
	uint32_t nbuckets;          /* power of two, >= 2 */
	uint32_t stash_used;        /* entries in the stash; atomic, readers skip it at 0 */

	/* Writer only. */
	uint64_t aging_ns;          /* 0 = never age */
	struct xvs_fdb_stats stats; /* entries, counters */
};

static inline uint64_t
make_key(const uint8_t mac[6], uint16_t vid)
{
	uint8_t b[8] = {0};

	memcpy(b, mac, 6);
	return xvs_fdb_key_of(b, vid);
}

static inline void
key_mac(uint64_t key, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(key >> (16 + 8 * i));
}

/* MurmurHash3 fmix64: full avalanche, so both halves make independent bucket
 * choices. */
static inline uint64_t
hash_key(const struct xvs_fdb *fdb, uint64_t key)
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
candidates(const struct xvs_fdb *fdb, uint64_t key, uint32_t *b1, uint32_t *b2)
{
	uint64_t h = hash_key(fdb, key);

	*b1 = (uint32_t)h & fdb->mask;
	*b2 = (uint32_t)(h >> 32) & fdb->mask;
	if (*b2 == *b1)
		*b2 = *b1 ^ 1;
}

static inline bool
mac_learnable(const uint8_t mac[6])
{
	return (mac[0] & 1) == 0 && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0;
}

static uint32_t
next_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int
xvs_fdb_create(const struct xvs_fdb_params *params, struct xvs_fdb **out, struct xvs_err *err)
{
	struct xvs_fdb *fdb;
	uint32_t nb, total;

	if (out == NULL || params == NULL)
		return xvs_err_set(err, -EINVAL, "fdb: no parameters");
	*out = NULL;
	if (params->max_entries < 1 || params->max_entries > XVS_FDB_MAX_MAX)
		return xvs_err_set(err, -EINVAL, "fdb: max entries %u outside 1-%u",
				   params->max_entries, XVS_FDB_MAX_MAX);

	/* Load factor at most 1/2 when full: see the layout comment. */
	nb = next_pow2((params->max_entries * 2 + XVS_FDB_SLOTS - 1) / XVS_FDB_SLOTS);
	if (nb < 2)
		nb = 2;
	total = nb + FDB_STASH_BUCKETS;

	fdb = calloc(1, sizeof(*fdb));
	if (fdb == NULL)
		goto nomem;
	fdb->bucket = aligned_alloc(128, (size_t)total * sizeof(struct fdb_bucket));
	if (fdb->bucket == NULL)
		goto nomem_fdb;
	fdb->last_seen = aligned_alloc(64, (size_t)total * XVS_FDB_SLOTS * sizeof(uint64_t));
	if (fdb->last_seen == NULL)
		goto nomem_bucket;
	memset(fdb->bucket, 0, (size_t)total * sizeof(struct fdb_bucket));
	memset(fdb->last_seen, 0, (size_t)total * XVS_FDB_SLOTS * sizeof(uint64_t));

	fdb->nbuckets = nb;
	fdb->mask = nb - 1;
	/* The core reads no entropy source; the heap address varies per run
	 * (ASLR), which is enough to keep bucket choice from being predictable
	 * from MACs alone. */
	fdb->seed = (uint64_t)(uintptr_t)fdb * UINT64_C(0x9e3779b97f4a7c15);
	fdb->aging_ns = params->aging_ns;
	fdb->stats.max_entries = params->max_entries;
	*out = fdb;
	return 0;

nomem_bucket:
	free(fdb->bucket);
nomem_fdb:
	free(fdb);
nomem:
	return xvs_err_set(err, -ENOMEM, "fdb: cannot allocate %u entries", params->max_entries);
}

void
xvs_fdb_destroy(struct xvs_fdb *fdb)
{
	if (fdb == NULL)
		return;
	free(fdb->last_seen);
	free(fdb->bucket);
	free(fdb);
}

/* ---- reader side ---- */

static inline bool
bucket_lookup(const struct xvs_fdb *fdb, uint32_t b, uint64_t key, struct xvs_fdb_hit *hit)
{
	const struct fdb_keys *k = &fdb->bucket[b].k;
	const struct fdb_meta *m = &fdb->bucket[b].m;
	uint32_t s1, s2;
	uint16_t port = 0;
	uint8_t smask = 0;
	int i;

	for (;;) {
		s1 = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < XVS_FDB_SLOTS; i++)
			if (__atomic_load_n(&k->key[i], __ATOMIC_ACQUIRE) == key)
				break;
		if (i < XVS_FDB_SLOTS) {
			port = __atomic_load_n(&m->port[i], __ATOMIC_ACQUIRE);
			smask = __atomic_load_n(&m->static_mask, __ATOMIC_ACQUIRE);
		}
		/* Ordered after the acquire loads above. */
		s2 = __atomic_load_n(&m->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			break;
	}
	if (i == XVS_FDB_SLOTS)
		return false;
	hit->port = port;
	hit->is_static = (smask >> i) & 1;
	hit->slot = b * XVS_FDB_SLOTS + (uint32_t)i;
	return true;
}

void
xvs_fdb_key_prepare(const struct xvs_fdb *fdb, uint64_t key, struct xvs_fdb_key *k)
{
	k->key = key;
	candidates(fdb, k->key, &k->b1, &k->b2);
	/* The first bucket only: insert() puts keys in the second bucket only
	 * when the first is fuller. At 10,000 flows, prefetching both buckets'
	 * key lines was 4 % slower than the first's key line alone, and adding
	 * its meta line 1-4 % faster again. */
	__builtin_prefetch(&fdb->bucket[k->b1].k);
	__builtin_prefetch(&fdb->bucket[k->b1].m);
}

void
xvs_fdb_key_prepare_src(const struct xvs_fdb *fdb, uint64_t key, struct xvs_fdb_key *k)
{
	xvs_fdb_key_prepare(fdb, key, k);
	/* A bucket's 8 times fill one line; xvs_fdb_touch() reads one of them. */
	__builtin_prefetch(&fdb->last_seen[k->b1 * XVS_FDB_SLOTS]);
}

bool
xvs_fdb_lookup_key(const struct xvs_fdb *fdb, const struct xvs_fdb_key *k,
		   struct xvs_fdb_hit *hit)
{
	if (bucket_lookup(fdb, k->b1, k->key, hit) || bucket_lookup(fdb, k->b2, k->key, hit))
		return true;
	if (__atomic_load_n(&fdb->stash_used, __ATOMIC_RELAXED) == 0)
		return false;
	for (uint32_t b = fdb->nbuckets; b < fdb->nbuckets + FDB_STASH_BUCKETS; b++)
		if (bucket_lookup(fdb, b, k->key, hit))
			return true;
	return false;
}

bool
xvs_fdb_lookup(const struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid,
	       struct xvs_fdb_hit *hit)
{
	struct xvs_fdb_key k;

	k.key = make_key(mac, vid);
	candidates(fdb, k.key, &k.b1, &k.b2);
	return xvs_fdb_lookup_key(fdb, &k, hit);
}

void
xvs_fdb_touch(const struct xvs_fdb *fdb, const struct xvs_fdb_hit *hit, uint64_t now_ns)
{
	uint64_t *ls;
	uint64_t old;

	if (hit->is_static || hit->slot >= (fdb->nbuckets + FDB_STASH_BUCKETS) * XVS_FDB_SLOTS)
		return;
	/* If the slot was reused since the lookup, this refreshes the new entry,
	 * which the writer has just stamped anyway: harmless. Writing at most
	 * once a second keeps the line from bouncing between workers. */
	ls = &fdb->last_seen[hit->slot];
	old = __atomic_load_n(ls, __ATOMIC_RELAXED);
	if (now_ns > old && now_ns - old > FDB_TOUCH_NS)
		__atomic_store_n(ls, now_ns, __ATOMIC_RELAXED);
}

/* ---- writer side ---- */

static inline void
write_begin(struct fdb_meta *m)
{
	__atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELAXED);
}

static inline void
write_end(struct fdb_meta *m)
{
	__atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
}

static inline bool
is_stash(const struct xvs_fdb *fdb, uint32_t b)
{
	return b >= fdb->nbuckets;
}

/* Find key; the writer owns the slots, so plain reads are enough here. */
static bool
find(const struct xvs_fdb *fdb, uint64_t key, uint32_t *bucket, int *slot)
{
	uint32_t cand[2], b;
	int i, c;

	candidates(fdb, key, &cand[0], &cand[1]);
	for (c = 0; c < 2; c++)
		for (i = 0; i < XVS_FDB_SLOTS; i++)
			if (fdb->bucket[cand[c]].k.key[i] == key)
				goto found;
	if (fdb->stash_used == 0)
		return false;
	for (b = fdb->nbuckets; b < fdb->nbuckets + FDB_STASH_BUCKETS; b++)
		for (i = 0; i < XVS_FDB_SLOTS; i++)
			if (fdb->bucket[b].k.key[i] == key) {
				*bucket = b;
				*slot = i;
				return true;
			}
	return false;
found:
	*bucket = cand[c];
	*slot = i;
	return true;
}

static int
free_slot(const struct xvs_fdb *fdb, uint32_t b)
{
	for (int i = 0; i < XVS_FDB_SLOTS; i++)
		if (fdb->bucket[b].k.key[i] == 0)
			return i;
	return -1;
}

/* Insert a key known to be absent. Returns 0 or -ENOSPC (both candidates and
 * the stash are full, or the table holds max_entries). */
static int
insert(struct xvs_fdb *fdb, uint64_t key, uint16_t port, bool is_static, uint64_t now_ns)
{
	uint32_t b1, b2, b, smask;
	struct fdb_meta *m;
	int i = -1;

	if (fdb->stats.entries >= fdb->stats.max_entries)
		return -ENOSPC;
	candidates(fdb, key, &b1, &b2);
	/* First bucket preferred (see the layout comment); with only the emptier
	 * rule half the keys sat in the second one, which lookups reach after
	 * a miss in the first. Half-full is still two-choice enough for 2^20
	 * keys to fit (test_fdb_fills_to_max_entries). */
	b = fdb->bucket[b1].m.used < XVS_FDB_SLOTS / 2 ||
			    fdb->bucket[b1].m.used <= fdb->bucket[b2].m.used ?
		    b1 :
		    b2;
	if (fdb->bucket[b].m.used < XVS_FDB_SLOTS) {
		i = free_slot(fdb, b);
	} else {
		for (b = fdb->nbuckets; b < fdb->nbuckets + FDB_STASH_BUCKETS; b++) {
			i = free_slot(fdb, b);
			if (i >= 0)
				break;
		}
		if (i < 0)
			return -ENOSPC;
	}

	m = &fdb->bucket[b].m;
	__atomic_store_n(&fdb->last_seen[b * XVS_FDB_SLOTS + (uint32_t)i], now_ns,
			 __ATOMIC_RELAXED);
	write_begin(m);
	__atomic_store_n(&m->port[i], port, __ATOMIC_RELEASE);
	smask = is_static ? m->static_mask | 1u << i : m->static_mask & ~(1u << i);
	__atomic_store_n(&m->static_mask, (uint8_t)smask, __ATOMIC_RELEASE);
	__atomic_store_n(&fdb->bucket[b].k.key[i], key, __ATOMIC_RELEASE);
	write_end(m);
	m->used++;

	if (is_stash(fdb, b))
		__atomic_store_n(&fdb->stash_used, fdb->stash_used + 1, __ATOMIC_RELAXED);
	fdb->stats.entries++;
	if (is_static)
		fdb->stats.static_entries++;
	return 0;
}

/* Remove the entry in slot i of bucket b. The caller holds the bucket's
 * write section open (write_begin) so several removals share one. */
static void
remove_locked(struct xvs_fdb *fdb, uint32_t b, int i)
{
	struct fdb_meta *m = &fdb->bucket[b].m;

	if ((m->static_mask >> i) & 1) {
		fdb->stats.static_entries--;
		__atomic_store_n(&m->static_mask, (uint8_t)(m->static_mask & ~(1u << i)),
				 __ATOMIC_RELEASE);
	}
	__atomic_store_n(&fdb->bucket[b].k.key[i], 0, __ATOMIC_RELEASE);
	m->used--;
	fdb->stats.entries--;
	if (is_stash(fdb, b))
		__atomic_store_n(&fdb->stash_used, fdb->stash_used - 1, __ATOMIC_RELAXED);
}

static void
set_port(struct xvs_fdb *fdb, uint32_t b, int i, uint16_t port, bool is_static)
{
	struct fdb_meta *m = &fdb->bucket[b].m;
	bool was_static = (m->static_mask >> i) & 1;

	write_begin(m);
	__atomic_store_n(&m->port[i], port, __ATOMIC_RELEASE);
	if (is_static != was_static)
		__atomic_store_n(&m->static_mask, (uint8_t)(m->static_mask ^ (1u << i)),
				 __ATOMIC_RELEASE);
	write_end(m);
	if (is_static && !was_static)
		fdb->stats.static_entries++;
}

int
xvs_fdb_learn(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid, uint16_t port,
	      uint64_t now_ns)
{
	uint64_t key;
	uint32_t b;
	int i;

	if (!mac_learnable(mac) || vid < 1 || vid > 4094)
		return -EINVAL;
	key = make_key(mac, vid);

	if (find(fdb, key, &b, &i)) {
		if ((fdb->bucket[b].m.static_mask >> i) & 1) {
			if (fdb->bucket[b].m.port[i] == port)
				return XVS_FDB_REFRESHED;
			fdb->stats.static_conflict++;
			return -EPERM;
		}
		__atomic_store_n(&fdb->last_seen[b * XVS_FDB_SLOTS + (uint32_t)i], now_ns,
				 __ATOMIC_RELAXED);
		if (fdb->bucket[b].m.port[i] == port)
			return XVS_FDB_REFRESHED;
		set_port(fdb, b, i, port, false);
		fdb->stats.moved++;
		return XVS_FDB_MOVED;
	}

	if (insert(fdb, key, port, false, now_ns) < 0) {
		fdb->stats.learn_full++;
		return -ENOSPC;
	}
	fdb->stats.learned++;
	return XVS_FDB_ADDED;
}

int
xvs_fdb_add_static(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid, uint16_t port,
		   struct xvs_err *err)
{
	uint64_t key;
	uint32_t b;
	int i;

	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return xvs_err_set(err, -EINVAL, "fdb: mac 00:00:00:00:00:00 cannot be an entry");
	if (!mac_learnable(mac))
		return xvs_err_set(err, -EINVAL,
				   "fdb: mac %02x:%02x:%02x:%02x:%02x:%02x is multicast "
				   "(static entries are for unicast addresses)",
				   mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (vid < 1 || vid > 4094)
		return xvs_err_set(err, -EINVAL, "fdb: vlan %u outside 1-4094", vid);
	key = make_key(mac, vid);

	if (find(fdb, key, &b, &i)) {
		set_port(fdb, b, i, port, true);
		return 0;
	}
	if (insert(fdb, key, port, true, 0) < 0)
		return xvs_err_set(err, -ENOSPC,
				   "fdb: no room for %02x:%02x:%02x:%02x:%02x:%02x vlan %u "
				   "(%u of %u entries used)",
				   mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], vid,
				   fdb->stats.entries, fdb->stats.max_entries);
	return 0;
}

int
xvs_fdb_del(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid)
{
	uint32_t b;
	int i;

	if (!find(fdb, make_key(mac, vid), &b, &i))
		return -ENOENT;
	write_begin(&fdb->bucket[b].m);
	remove_locked(fdb, b, i);
	write_end(&fdb->bucket[b].m);
	return 0;
}

/* Remove every slot for which match() says so; one write section per bucket
 * that changes. */
static uint32_t
sweep(struct xvs_fdb *fdb, bool (*match)(const struct xvs_fdb *, uint32_t, int, const void *),
      const void *arg)
{
	uint32_t b, removed = 0;
	bool open;

	for (b = 0; b < fdb->nbuckets + FDB_STASH_BUCKETS; b++) {
		if (fdb->bucket[b].m.used == 0)
			continue;
		open = false;
		for (int i = 0; i < XVS_FDB_SLOTS; i++) {
			if (fdb->bucket[b].k.key[i] == 0 || !match(fdb, b, i, arg))
				continue;
			if (!open) {
				write_begin(&fdb->bucket[b].m);
				open = true;
			}
			remove_locked(fdb, b, i);
			removed++;
		}
		if (open)
			write_end(&fdb->bucket[b].m);
	}
	return removed;
}

struct flush_arg {
	int32_t port;     /* -1 = any */
	int32_t vid;      /* -1 = any */
	bool with_static; /* also static entries */
};

static bool
flush_match(const struct xvs_fdb *fdb, uint32_t b, int i, const void *arg)
{
	const struct flush_arg *f = arg;

	if (!f->with_static && ((fdb->bucket[b].m.static_mask >> i) & 1))
		return false;
	if (f->port >= 0 && fdb->bucket[b].m.port[i] != f->port)
		return false;
	if (f->vid >= 0 && (int32_t)(fdb->bucket[b].k.key[i] & 0xffff) != f->vid)
		return false;
	return true;
}

uint32_t
xvs_fdb_flush(struct xvs_fdb *fdb, int32_t port, int32_t vid, bool with_static)
{
	struct flush_arg f = {.port = port, .vid = vid, .with_static = with_static};

	return sweep(fdb, flush_match, &f);
}

struct age_arg {
	uint64_t now_ns;   /* current time */
	uint64_t aging_ns; /* entries older than this go */
};

static bool
age_match(const struct xvs_fdb *fdb, uint32_t b, int i, const void *arg)
{
	const struct age_arg *a = arg;
	uint64_t ls;

	if ((fdb->bucket[b].m.static_mask >> i) & 1)
		return false;
	ls = __atomic_load_n(&fdb->last_seen[b * XVS_FDB_SLOTS + (uint32_t)i], __ATOMIC_RELAXED);
	/* A worker's clock may run slightly ahead of the caller's: not aged. */
	return a->now_ns > ls && a->now_ns - ls >= a->aging_ns;
}

uint32_t
xvs_fdb_age(struct xvs_fdb *fdb, uint64_t now_ns)
{
	struct age_arg a = {.now_ns = now_ns, .aging_ns = fdb->aging_ns};
	uint32_t n;

	if (fdb->aging_ns == 0)
		return 0;
	n = sweep(fdb, age_match, &a);
	fdb->stats.aged += n;
	return n;
}

void
xvs_fdb_set_aging(struct xvs_fdb *fdb, uint64_t aging_ns)
{
	fdb->aging_ns = aging_ns;
}

uint64_t
xvs_fdb_aging(const struct xvs_fdb *fdb)
{
	return fdb->aging_ns;
}

int
xvs_fdb_walk(const struct xvs_fdb *fdb, uint64_t now_ns, xvs_fdb_walk_cb cb, void *arg)
{
	struct xvs_fdb_entry_info e;
	uint64_t key, ls;
	uint32_t b;
	int i, ret;

	for (b = 0; b < fdb->nbuckets + FDB_STASH_BUCKETS; b++) {
		if (fdb->bucket[b].m.used == 0)
			continue;
		for (i = 0; i < XVS_FDB_SLOTS; i++) {
			key = fdb->bucket[b].k.key[i];
			if (key == 0)
				continue;
			key_mac(key, e.mac);
			e.vid = (uint16_t)(key & 0xffff);
			e.port = fdb->bucket[b].m.port[i];
			e.is_static = (fdb->bucket[b].m.static_mask >> i) & 1;
			ls = __atomic_load_n(&fdb->last_seen[b * XVS_FDB_SLOTS + (uint32_t)i],
					     __ATOMIC_RELAXED);
			e.age_ns = e.is_static || now_ns < ls ? 0 : now_ns - ls;
			ret = cb(&e, arg);
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}

void
xvs_fdb_get_stats(const struct xvs_fdb *fdb, struct xvs_fdb_stats *st)
{
	*st = fdb->stats;
}

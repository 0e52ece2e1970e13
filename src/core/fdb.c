/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding database (core): bounded hash table of (MAC, VLAN) -> port with
 * one writer and lock-free readers. See fdb.h for the concurrency contract and
 * fdb_table.h for the layout and the (inline) reader side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"

/* A new key goes to its first bucket while that holds fewer entries than
 * this (or no more than its second bucket): see fdb_table.h. */
#define FDB_FIRST_BUCKET_FILL 4

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

/* Publish whether port is at its limit, for the workers (xvs_fdb_port_full),
 * after its learned count or limit changed. */
static void
publish_full(struct xvs_fdb *fdb, uint16_t port)
{
	const struct xvs_fdb_port_stats *ps = &fdb->port[port];
	uint8_t full = ps->limit != 0 && ps->learned >= ps->limit;

	if (fdb->port_full[port] != full)
		__atomic_store_n(&fdb->port_full[port], full, __ATOMIC_RELAXED);
}

static void
learned_add(struct xvs_fdb *fdb, uint16_t port, int d)
{
	fdb->port[port].learned += (uint32_t)d;
	publish_full(fdb, port);
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

	/* At most 2 entries per bucket when full: see fdb_table.h. */
	nb = next_pow2((params->max_entries + 1) / 2);
	if (nb < 2)
		nb = 2;
	total = nb + XVS_FDB_STASH_BUCKETS;

	fdb = aligned_alloc(alignof(struct xvs_fdb), sizeof(*fdb)); /* port_full in lines of its own */
	if (fdb == NULL)
		goto nomem;
	memset(fdb, 0, sizeof(*fdb));
	fdb->bucket = aligned_alloc(64, (size_t)total * sizeof(struct xvs_fdb_bucket));
	if (fdb->bucket == NULL)
		goto nomem_fdb;
	fdb->last_seen = aligned_alloc(64, (size_t)total * XVS_FDB_SEEN_STRIDE * sizeof(uint64_t));
	if (fdb->last_seen == NULL)
		goto nomem_bucket;
	fdb->used = calloc(total, sizeof(*fdb->used));
	if (fdb->used == NULL) {
		free(fdb->last_seen);
		goto nomem_bucket;
	}
	memset(fdb->bucket, 0, (size_t)total * sizeof(struct xvs_fdb_bucket));
	memset(fdb->last_seen, 0, (size_t)total * XVS_FDB_SEEN_STRIDE * sizeof(uint64_t));

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
	free(fdb->used);
	free(fdb->last_seen);
	free(fdb->bucket);
	free(fdb);
}

/* ---- reader side ---- */

bool
xvs_fdb_lookup_stash(const struct xvs_fdb *fdb, uint64_t key, struct xvs_fdb_hit *hit)
{
	for (uint32_t b = fdb->nbuckets; b < fdb->nbuckets + XVS_FDB_STASH_BUCKETS; b++)
		if (xvs_fdb_bucket_lookup(fdb, b, key, hit))
			return true;
	return false;
}

bool
xvs_fdb_lookup(const struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid,
	       struct xvs_fdb_hit *hit)
{
	struct xvs_fdb_key k;

	k.key = make_key(mac, vid);
	xvs_fdb_candidates(fdb, k.key, &k.b1, &k.b2);
	return xvs_fdb_lookup_key(fdb, &k, hit);
}

/* ---- writer side ---- */

static inline void
write_begin(struct xvs_fdb_bucket *m)
{
	__atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELAXED);
}

static inline void
write_end(struct xvs_fdb_bucket *m)
{
	__atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
}

/* Slot i's port index and static flag (the writer's plain reads). */
static inline uint16_t
slot_port(const struct xvs_fdb *fdb, uint32_t b, int i)
{
	return (uint16_t)(fdb->bucket[b].port[i] & XVS_FDB_PORT_BITS);
}

static inline bool
slot_static(const struct xvs_fdb *fdb, uint32_t b, int i)
{
	return (fdb->bucket[b].port[i] & XVS_FDB_STATIC) != 0;
}

static inline uint16_t
port_field(uint16_t port, bool is_static)
{
	return (uint16_t)(port | (is_static ? XVS_FDB_STATIC : 0));
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

	xvs_fdb_candidates(fdb, key, &cand[0], &cand[1]);
	for (c = 0; c < 2; c++)
		for (i = 0; i < XVS_FDB_SLOTS; i++)
			if (fdb->bucket[cand[c]].key[i] == key)
				goto found;
	if (fdb->stash_used == 0)
		return false;
	for (b = fdb->nbuckets; b < fdb->nbuckets + XVS_FDB_STASH_BUCKETS; b++)
		for (i = 0; i < XVS_FDB_SLOTS; i++)
			if (fdb->bucket[b].key[i] == key) {
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
		if (fdb->bucket[b].key[i] == 0)
			return i;
	return -1;
}

/* Insert a key known to be absent. Returns 0 or -ENOSPC (both candidates and
 * the stash are full, or the table holds max_entries). */
static int
insert(struct xvs_fdb *fdb, uint64_t key, uint16_t port, bool is_static, uint64_t now_ns)
{
	uint32_t b1, b2, b;
	struct xvs_fdb_bucket *m;
	int i = -1;

	if (fdb->stats.entries >= fdb->stats.max_entries)
		return -ENOSPC;
	xvs_fdb_candidates(fdb, key, &b1, &b2);
	/* First bucket preferred (see fdb_table.h); with only the emptier rule
	 * half the keys sat in the second one, which lookups reach after a miss
	 * in the first. This is still two-choice enough for 2^20 keys to fit
	 * (test_fdb_fills_to_max_entries). */
	b = fdb->used[b1] < FDB_FIRST_BUCKET_FILL || fdb->used[b1] <= fdb->used[b2] ?
		    b1 :
		    b2;
	if (fdb->used[b] < XVS_FDB_SLOTS) {
		i = free_slot(fdb, b);
	} else {
		for (b = fdb->nbuckets; b < fdb->nbuckets + XVS_FDB_STASH_BUCKETS; b++) {
			i = free_slot(fdb, b);
			if (i >= 0)
				break;
		}
		if (i < 0)
			return -ENOSPC;
	}

	m = &fdb->bucket[b];
	__atomic_store_n(&fdb->last_seen[b * XVS_FDB_SEEN_STRIDE + (uint32_t)i], now_ns,
			 __ATOMIC_RELAXED);
	write_begin(m);
	__atomic_store_n(&m->port[i], port_field(port, is_static), __ATOMIC_RELEASE);
	__atomic_store_n(&fdb->bucket[b].key[i], key, __ATOMIC_RELEASE);
	write_end(m);
	fdb->used[b]++;

	if (is_stash(fdb, b))
		__atomic_store_n(&fdb->stash_used, fdb->stash_used + 1, __ATOMIC_RELAXED);
	fdb->stats.entries++;
	if (is_static)
		fdb->stats.static_entries++;
	else
		learned_add(fdb, port, 1);
	return 0;
}

/* Remove the entry in slot i of bucket b. The caller holds the bucket's
 * write section open (write_begin) so several removals share one. */
static void
remove_locked(struct xvs_fdb *fdb, uint32_t b, int i)
{
	struct xvs_fdb_bucket *m = &fdb->bucket[b];

	if (slot_static(fdb, b, i))
		fdb->stats.static_entries--;
	else
		learned_add(fdb, slot_port(fdb, b, i), -1);
	__atomic_store_n(&m->key[i], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&m->port[i], 0, __ATOMIC_RELEASE);
	fdb->used[b]--;
	fdb->stats.entries--;
	if (is_stash(fdb, b))
		__atomic_store_n(&fdb->stash_used, fdb->stash_used - 1, __ATOMIC_RELAXED);
}

static void
set_port(struct xvs_fdb *fdb, uint32_t b, int i, uint16_t port, bool is_static)
{
	struct xvs_fdb_bucket *m = &fdb->bucket[b];
	bool was_static = slot_static(fdb, b, i);

	/* Only dynamic entries count against a port's limit. */
	if (!was_static)
		learned_add(fdb, slot_port(fdb, b, i), -1);
	if (!is_static)
		learned_add(fdb, port, 1);
	write_begin(m);
	__atomic_store_n(&m->port[i], port_field(port, is_static), __ATOMIC_RELEASE);
	write_end(m);
	if (is_static && !was_static)
		fdb->stats.static_entries++;
}

/* Is port at its limit of learned entries? Counts the refusal if so. */
static bool
port_full(struct xvs_fdb *fdb, uint16_t port)
{
	struct xvs_fdb_port_stats *ps = &fdb->port[port];

	if (ps->limit == 0 || ps->learned < ps->limit)
		return false;
	ps->learn_limit++;
	return true;
}

int
xvs_fdb_learn(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid, uint16_t port,
	      uint64_t now_ns)
{
	uint64_t key;
	uint32_t b;
	int i;

	if (!mac_learnable(mac) || vid < 1 || vid > 4094 || port > XVS_FDB_PORT_MAX)
		return -EINVAL;
	key = make_key(mac, vid);

	if (find(fdb, key, &b, &i)) {
		if (slot_static(fdb, b, i)) {
			if (slot_port(fdb, b, i) == port)
				return XVS_FDB_REFRESHED;
			fdb->stats.static_conflict++;
			fdb->port[port].static_conflict++;
			return -EPERM;
		}
		if (slot_port(fdb, b, i) == port) {
			__atomic_store_n(&fdb->last_seen[b * XVS_FDB_SEEN_STRIDE + (uint32_t)i],
					 now_ns, __ATOMIC_RELAXED);
			return XVS_FDB_REFRESHED;
		}
		/* A refused move leaves the entry's age alone: frames on the full
		 * port must not keep the old port's entry alive. */
		if (port_full(fdb, port))
			return -EDQUOT;
		__atomic_store_n(&fdb->last_seen[b * XVS_FDB_SEEN_STRIDE + (uint32_t)i], now_ns,
				 __ATOMIC_RELAXED);
		set_port(fdb, b, i, port, false);
		fdb->stats.moved++;
		return XVS_FDB_MOVED;
	}

	if (port_full(fdb, port))
		return -EDQUOT;
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
	if (port > XVS_FDB_PORT_MAX)
		return xvs_err_set(err, -EINVAL, "fdb: port index %u above %u", port,
				   XVS_FDB_PORT_MAX);
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
	write_begin(&fdb->bucket[b]);
	remove_locked(fdb, b, i);
	write_end(&fdb->bucket[b]);
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

	for (b = 0; b < fdb->nbuckets + XVS_FDB_STASH_BUCKETS; b++) {
		if (fdb->used[b] == 0)
			continue;
		open = false;
		for (int i = 0; i < XVS_FDB_SLOTS; i++) {
			if (fdb->bucket[b].key[i] == 0 || !match(fdb, b, i, arg))
				continue;
			if (!open) {
				write_begin(&fdb->bucket[b]);
				open = true;
			}
			remove_locked(fdb, b, i);
			removed++;
		}
		if (open)
			write_end(&fdb->bucket[b]);
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

	if (!f->with_static && slot_static(fdb, b, i))
		return false;
	if (f->port >= 0 && slot_port(fdb, b, i) != f->port)
		return false;
	if (f->vid >= 0 && (int32_t)(fdb->bucket[b].key[i] & 0xffff) != f->vid)
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

	if (slot_static(fdb, b, i))
		return false;
	ls = __atomic_load_n(&fdb->last_seen[b * XVS_FDB_SEEN_STRIDE + (uint32_t)i], __ATOMIC_RELAXED);
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

	for (b = 0; b < fdb->nbuckets + XVS_FDB_STASH_BUCKETS; b++) {
		if (fdb->used[b] == 0)
			continue;
		for (i = 0; i < XVS_FDB_SLOTS; i++) {
			key = fdb->bucket[b].key[i];
			if (key == 0)
				continue;
			key_mac(key, e.mac);
			e.vid = (uint16_t)(key & 0xffff);
			e.port = slot_port(fdb, b, i);
			e.is_static = slot_static(fdb, b, i);
			ls = __atomic_load_n(&fdb->last_seen[b * XVS_FDB_SEEN_STRIDE + (uint32_t)i],
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

int
xvs_fdb_set_port_limit(struct xvs_fdb *fdb, uint16_t port, uint32_t limit)
{
	if (port > XVS_FDB_PORT_MAX)
		return -EINVAL;
	fdb->port[port].limit = limit;
	publish_full(fdb, port);
	return 0;
}

void
xvs_fdb_get_port_stats(const struct xvs_fdb *fdb, uint16_t port, struct xvs_fdb_port_stats *st)
{
	if (port > XVS_FDB_PORT_MAX) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = fdb->port[port];
}

void
xvs_fdb_port_reset(struct xvs_fdb *fdb, uint16_t port)
{
	if (port > XVS_FDB_PORT_MAX)
		return;
	fdb->port[port].learn_limit = 0;
	fdb->port[port].static_conflict = 0;
}

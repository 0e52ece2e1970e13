/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding database: (MAC, VLAN) -> port, bounded, with aging (core, no DPDK).
 *
 * Concurrency model
 * -----------------
 * One writer, many readers. The control thread is the only writer: it learns
 * (from learn events the workers queue to it), ages, flushes and adds static
 * entries. Workers only read: lookups are lock-free and never block the writer.
 * Each bucket carries a sequence counter (seqlock): the writer makes it odd,
 * changes slots, makes it even again (release); a reader samples it before and
 * after reading a slot (acquire) and retries if it changed or was odd. So a
 * reader sees either the old or the new entry, never a torn mix of a key of one
 * entry and the port of another.
 *
 * The one thing readers write is an entry's last-seen time (xvs_fdb_touch), a
 * relaxed atomic store kept in a separate array so it does not dirty the cache
 * lines the lookups read; it is written at most once per second per entry.
 *
 * The table is bounded by max_entries. When it is full, learning a new address
 * fails with -ENOSPC and is counted (stats.learn_full); existing entries are never
 * evicted or corrupted, and frames to unknown addresses are flooded as usual.
 *
 * Each port may also be limited to a number of learned (dynamic) entries
 * (xvs_fdb_set_port_limit), so that one port sending from many source MACs
 * cannot fill the table for every other port. A learn or a move that would
 * take a port over its limit fails with -EDQUOT and is counted on that port
 * (learn_limit); static entries do not count against the limit.
 *
 * Time is passed in (now_ns); the FDB reads no clock.
 */
#ifndef XVS_FDB_H
#define XVS_FDB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "xvs_err.h"

#define XVS_FDB_DEFAULT_AGING_S 300
#define XVS_FDB_DEFAULT_MAX 8192
#define XVS_FDB_MAX_MAX (1u << 20)
/* Learned entries a port may hold unless configured otherwise (mac-limit):
 * half the default table, so that one port flooding the switch with source
 * MACs leaves the other half to the rest, while an uplink with a large LAN
 * behind it still learns thousands. Linux (fdb_max_learned) and OVS
 * (mac-table-size, 2048) bound only the whole table. */
#define XVS_FDB_DEFAULT_PORT_LIMIT 4096

struct xvs_fdb; /* layout in fdb_table.h */

struct xvs_fdb_params {
	uint32_t max_entries; /* 1 .. XVS_FDB_MAX_MAX */
	uint64_t aging_ns;    /* dynamic entries unseen this long are removed; 0 = never */
};

/* Result of a reader lookup. */
struct xvs_fdb_hit {
	uint16_t port;     /* port index the address lives on */
	bool is_static;    /* configured entry: never aged, never moved by learning */
	uint32_t slot;     /* opaque handle for xvs_fdb_touch() */
};

/* Learn outcomes (>= 0). */
enum xvs_fdb_learn_result {
	XVS_FDB_ADDED = 0,
	XVS_FDB_MOVED = 1,     /* the address was on another port; now on this one */
	XVS_FDB_REFRESHED = 2, /* already there on this port */
};

struct xvs_fdb_stats {
	uint32_t entries;        /* current entries, static included */
	uint32_t static_entries;
	uint32_t max_entries;
	uint64_t learned;        /* XVS_FDB_ADDED results */
	uint64_t moved;          /* XVS_FDB_MOVED results */
	uint64_t aged;           /* entries removed by aging */
	uint64_t learn_full;     /* learns refused because the table was full */
	uint64_t static_conflict; /* learns refused because a static entry holds the address */
};

/* Per-port learning state, written by the writer only. */
struct xvs_fdb_port_stats {
	uint32_t learned;         /* dynamic entries on the port now (all VLANs) */
	uint32_t limit;           /* most dynamic entries the port may have; 0 = no limit */
	uint64_t learn_limit;     /* learns and moves refused because of the limit */
	uint64_t static_conflict; /* learns refused: a static entry on another port holds the
				   * address */
};

struct xvs_fdb_entry_info {
	uint8_t mac[6];
	uint16_t vid;
	uint16_t port;
	bool is_static;
	uint64_t age_ns; /* now - last seen (0 for static) */
};

/* Create an empty table. Returns 0 or -EINVAL (bad params, message in err),
 * -ENOMEM. */
int xvs_fdb_create(const struct xvs_fdb_params *params, struct xvs_fdb **out, struct xvs_err *err);
void xvs_fdb_destroy(struct xvs_fdb *fdb);

/* ---- reader side: any thread, lock-free ---- */

/* Look up (mac, vid). Returns true and fills *hit if present. */
bool xvs_fdb_lookup(const struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid,
		    struct xvs_fdb_hit *hit);

/* The table's key for (mac, vid): the address bytes as they lie in memory,
 * first byte lowest, above the VID. mac must be followed by two more readable
 * bytes (8 in all), as both addresses in a frame's header are: the key comes
 * from one 8-byte load, not six byte loads. */
static inline uint64_t
xvs_fdb_key_of(const uint8_t *mac, uint16_t vid)
{
	uint64_t v;

	memcpy(&v, mac, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v << 16 | vid;
}

/* A looked-up key, prepared ahead: xvs_fdb_key_prepare() computes the hash and
 * prefetches the first candidate bucket, so a burst can prepare every frame's
 * keys first and look them up once the cache lines have arrived. */
struct xvs_fdb_key {
	uint64_t key;  /* xvs_fdb_key_of() */
	uint32_t b1;   /* candidate buckets */
	uint32_t b2;
};

/* The reader functions below are inline (fdb_table.h): a worker runs them
 * for both addresses of every frame.
 *
 * xvs_fdb_key_prepare(fdb, key, k): compute k's buckets, prefetch the first.
 * xvs_fdb_key_prepare_src(fdb, key, k): the same for a source address, which
 *   is touched when found: also prefetches the bucket's last-seen times.
 * xvs_fdb_lookup_key(fdb, k, hit): xvs_fdb_lookup() for a prepared key.
 * xvs_fdb_touch(fdb, hit, now_ns): note that the entry behind hit was seen at
 *   now_ns (refreshes its age). Cheap: stores only when the stored time is
 *   more than a second old.
 * xvs_fdb_port_full(fdb, port): port is at its limit of learned entries, so
 *   a learn or move request for it would be refused; the writer updates it
 *   whenever the port's learned count or limit changes. */
#include "fdb_table.h"

/* ---- writer side: the control thread only ---- */

/* Learn mac/vid on port. Returns an xvs_fdb_learn_result, or -ENOSPC (full),
 * -EDQUOT (port is at its limit of learned entries: a new address is not
 * added, a known one is not moved and keeps its port and age),
 * -EPERM (a static entry holds the address on another port: not moved),
 * -EINVAL (multicast/zero MAC, vid outside 1-4094, port above
 * XVS_FDB_PORT_MAX). -EDQUOT and -EPERM are counted on port
 * (xvs_fdb_get_port_stats), -ENOSPC and -EPERM in the table's stats. */
int xvs_fdb_learn(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid, uint16_t port,
		  uint64_t now_ns);

/* Add or replace a static entry. Replacing a dynamic entry is allowed. Returns
 * 0, -ENOSPC, -EINVAL (with messages in err; the same cases as learning). */
int xvs_fdb_add_static(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid, uint16_t port,
		       struct xvs_err *err);

/* Remove one entry (static or dynamic). Returns 0 or -ENOENT. */
int xvs_fdb_del(struct xvs_fdb *fdb, const uint8_t mac[6], uint16_t vid);

/* Remove entries matching port (-1 = any) and vid (-1 = any); static entries
 * only if with_static. Returns how many were removed. */
uint32_t xvs_fdb_flush(struct xvs_fdb *fdb, int32_t port, int32_t vid, bool with_static);

/* Remove dynamic entries not seen for aging_ns. Returns how many. */
uint32_t xvs_fdb_age(struct xvs_fdb *fdb, uint64_t now_ns);

void xvs_fdb_set_aging(struct xvs_fdb *fdb, uint64_t aging_ns);
uint64_t xvs_fdb_aging(const struct xvs_fdb *fdb);

/* Visit every entry (writer thread only). cb returns non-zero to stop; that
 * value is returned. */
typedef int (*xvs_fdb_walk_cb)(const struct xvs_fdb_entry_info *e, void *arg);
int xvs_fdb_walk(const struct xvs_fdb *fdb, uint64_t now_ns, xvs_fdb_walk_cb cb, void *arg);

void xvs_fdb_get_stats(const struct xvs_fdb *fdb, struct xvs_fdb_stats *st);

/* Limit port to limit learned entries (0 = no limit). Entries already there
 * stay when the limit is lowered below their number; learning resumes once
 * aging or a flush brings the port under it. Returns 0 or -EINVAL (port above
 * XVS_FDB_PORT_MAX). Writer thread only. */
int xvs_fdb_set_port_limit(struct xvs_fdb *fdb, uint16_t port, uint32_t limit);

/* The port's learned count, limit and refusal counters (writer thread only;
 * zeroes for a port above XVS_FDB_PORT_MAX). */
void xvs_fdb_get_port_stats(const struct xvs_fdb *fdb, uint16_t port,
			    struct xvs_fdb_port_stats *st);

/* Zero port's refusal counters, for a port slot that is being reused. Its
 * entries must have been flushed first (the learned count is not touched). */
void xvs_fdb_port_reset(struct xvs_fdb *fdb, uint16_t port);

#endif /* XVS_FDB_H */

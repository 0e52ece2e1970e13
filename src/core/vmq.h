/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VMQ filters (core, no DPDK): the table an uplink's polling worker looks
 * each received frame up in, destination MAC + VLAN -> the VMQ queue that
 * frame belongs to (doc/vmq.md, FEATURES.md §2).
 *
 * The same filter a NIC would hold (rte_flow: eth dst + vlan -> queue), kept
 * in software because the uplinks here (veth, af_packet, tap, AF_XDP) take
 * no rte_flow rules. Hand-written rather than an rte_hash: the table is
 * immutable once published, built by the control thread for each snapshot
 * that changes the filters (at most XVS_VMQ_FILTERS_MAX entries), so the
 * filters and the queue -> worker assignment change together in one pointer
 * swap; an rte_hash is updated in place and would need a second RCU scheme
 * for its readers. Open addressing, linear probing, half full at most: a
 * lookup reads one or two 16-byte slots.
 *
 * A key is (MAC, VLAN). VLAN 0 is "any VLAN": a VM port in trunk mode
 * receives on several VLANs and owns its MAC on all of them. A lookup tries
 * the exact key, then (if the table has any) the any-VLAN key.
 *
 * VMMQ: a key may name a group of queues (a VM port with vmmq-queues > 1);
 * the frame's Toeplitz hash (with the table's key and types) picks one,
 * hash % n, so a flow stays on one queue (xvs_vmq_filter_pick).
 *
 * Thread: built by the control thread; read by workers through the snapshot,
 * never written once published.
 */
#ifndef XVS_VMQ_H
#define XVS_VMQ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "rss.h"

#define XVS_VMQ_FILTERS_MAX 128   /* = XVS_VMQ_QUEUES_MAX (balancer.h) */
#define XVS_VMQ_TABLE_SLOTS 256   /* power of two, twice the filters */
#define XVS_VMQ_ANY_VLAN 0

/* One queue a filter sends frames to. */
struct xvs_vmq_target {
	uint16_t worker;  /* the queue's owner: the worker that runs its frames */
	uint16_t tag;     /* the queue's counter id + 1 (dp: carried in the mbuf) */
	uint16_t queue;   /* the queue's number in its uplink's pool (1..) */
	uint16_t pad;
};

struct xvs_vmq_filter {
	uint64_t key;     /* MAC (48 bits) | VLAN << 48; 0 = empty (MAC 0 is never a VM's) */
	uint16_t worker;  /* its first (VMQ: only) queue, as in struct xvs_vmq_target */
	uint16_t tag;
	uint16_t queue;
	uint8_t n_sub;    /* queues of the group: 1 (VMQ), or VMMQ's, in sub[] */
	uint8_t sub;      /* index of the group's first queue in the table's sub[] */
};

struct xvs_vmq_table {
	uint16_t n;                                     /* filters */
	bool any_vlan;                                  /* some filter has VLAN 0 */
	uint16_t n_sub;                                 /* sub[] in use */
	const struct xvs_rss_table *hash;               /* VMMQ: Toeplitz of the uplink's key */
	uint32_t hash_types;                            /* XVS_RSS_* hashed */
	struct xvs_vmq_filter slot[XVS_VMQ_TABLE_SLOTS];
	struct xvs_vmq_target sub[XVS_VMQ_FILTERS_MAX]; /* VMMQ groups' queues */
};

/* The queue of f's group for a frame of hash h. */
static inline const struct xvs_vmq_target *
xvs_vmq_filter_pick(const struct xvs_vmq_table *t, const struct xvs_vmq_filter *f, uint32_t h)
{
	return &t->sub[f->sub + h % f->n_sub];
}

static inline uint64_t
xvs_vmq_key(const uint8_t mac[6], uint16_t vid)
{
	return (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 | (uint64_t)mac[2] << 24 |
	       (uint64_t)mac[3] << 16 | (uint64_t)mac[4] << 8 | (uint64_t)mac[5] |
	       (uint64_t)(vid & 0xfff) << 48;
}

static inline uint32_t
xvs_vmq_slot_of(uint64_t key)
{
	/* Fibonacci hashing: the top bits of key * 2^64/phi. */
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 56) & (XVS_VMQ_TABLE_SLOTS - 1);
}

static inline const struct xvs_vmq_filter *
xvs_vmq_filter_find(const struct xvs_vmq_table *t, uint64_t key)
{
	for (uint32_t i = xvs_vmq_slot_of(key), k = 0; k < XVS_VMQ_TABLE_SLOTS;
	     i = (i + 1) & (XVS_VMQ_TABLE_SLOTS - 1), k++) {
		if (t->slot[i].key == key)
			return &t->slot[i];
		if (t->slot[i].key == 0)
			return NULL;
	}
	return NULL;
}

/* The filter frame (dst mac, vid) matches, or NULL (the default queue). */
static inline const struct xvs_vmq_filter *
xvs_vmq_filter_lookup(const struct xvs_vmq_table *t, const uint8_t mac[6], uint16_t vid)
{
	uint64_t key = xvs_vmq_key(mac, vid);
	const struct xvs_vmq_filter *f;

	if (t->n == 0 || (mac[0] & 1))
		return NULL; /* multicast and broadcast: the default queue */
	f = xvs_vmq_filter_find(t, key);
	if (f == NULL && t->any_vlan && vid != XVS_VMQ_ANY_VLAN)
		f = xvs_vmq_filter_find(t, key & UINT64_C(0xffffffffffff));
	return f;
}

/* Empty table. */
void xvs_vmq_table_init(struct xvs_vmq_table *t);

/* Add filter (mac, vid) -> worker, tag, queue. 0; -EINVAL for a multicast
 * or zero MAC or a vid over 4095; -EEXIST if the key is there; -ENOSPC with
 * XVS_VMQ_FILTERS_MAX filters. The table is unchanged on error. */
int xvs_vmq_table_add(struct xvs_vmq_table *t, const uint8_t mac[6], uint16_t vid,
		      uint16_t worker, uint16_t tag, uint16_t queue);

/* Add filter (mac, vid) -> the group q[0..n) (1 <= n <= XVS_VMMQ_QUEUES_MAX):
 * frames spread over it by hash. Errors as xvs_vmq_table_add, and -EINVAL
 * for n out of range, -ENOSPC when sub[] is full. */
#define XVS_VMMQ_QUEUES_MAX 16
int xvs_vmq_table_add_group(struct xvs_vmq_table *t, const uint8_t mac[6], uint16_t vid,
			    const struct xvs_vmq_target *q, uint8_t n);

/* Same filters with the same targets (in any slot order), same hash? */
bool xvs_vmq_table_equal(const struct xvs_vmq_table *a, const struct xvs_vmq_table *b);

#endif /* XVS_VMQ_H */

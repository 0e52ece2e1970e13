/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VMQ filter table (core): building and comparing the immutable tables of
 * vmq.h. Lookups are inline in the header (workers call them per frame).
 */
#include <errno.h>

#include "vmq.h"

void
xvs_vmq_table_init(struct xvs_vmq_table *t)
{
	memset(t, 0, sizeof(*t));
}

int
xvs_vmq_table_add(struct xvs_vmq_table *t, const uint8_t mac[6], uint16_t vid, uint16_t worker,
		  uint16_t tag, uint16_t queue)
{
	const struct xvs_vmq_target q = {.worker = worker, .tag = tag, .queue = queue};

	return xvs_vmq_table_add_group(t, mac, vid, &q, 1);
}

int
xvs_vmq_table_add_group(struct xvs_vmq_table *t, const uint8_t mac[6], uint16_t vid,
			const struct xvs_vmq_target *q, uint8_t n)
{
	uint64_t key;
	uint32_t i;

	if ((mac[0] & 1) || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0 ||
	    vid > 4095 || n < 1 || n > XVS_VMMQ_QUEUES_MAX)
		return -EINVAL;
	key = xvs_vmq_key(mac, vid);
	if (xvs_vmq_filter_find(t, key) != NULL)
		return -EEXIST;
	if (t->n >= XVS_VMQ_FILTERS_MAX || t->n_sub + n > XVS_VMQ_FILTERS_MAX)
		return -ENOSPC;
	for (i = xvs_vmq_slot_of(key); t->slot[i].key != 0; i = (i + 1) & (XVS_VMQ_TABLE_SLOTS - 1))
		;
	t->slot[i] = (struct xvs_vmq_filter){.key = key, .worker = q[0].worker, .tag = q[0].tag,
					     .queue = q[0].queue, .n_sub = n,
					     .sub = (uint8_t)t->n_sub};
	memcpy(&t->sub[t->n_sub], q, sizeof(q[0]) * n);
	t->n_sub = (uint16_t)(t->n_sub + n);
	t->n++;
	if (vid == XVS_VMQ_ANY_VLAN)
		t->any_vlan = true;
	return 0;
}

bool
xvs_vmq_table_equal(const struct xvs_vmq_table *a, const struct xvs_vmq_table *b)
{
	if (a->n != b->n || a->hash != b->hash || a->hash_types != b->hash_types)
		return false;
	for (uint32_t i = 0; i < XVS_VMQ_TABLE_SLOTS; i++) {
		const struct xvs_vmq_filter *f = &a->slot[i], *g;

		if (f->key == 0)
			continue;
		g = xvs_vmq_filter_find(b, f->key);
		if (g == NULL || g->worker != f->worker || g->tag != f->tag ||
		    g->queue != f->queue || g->n_sub != f->n_sub)
			return false;
		for (uint8_t k = 0; k < f->n_sub; k++) {
			const struct xvs_vmq_target *x = &a->sub[f->sub + k], *y = &b->sub[g->sub + k];

			if (x->worker != y->worker || x->tag != y->tag || x->queue != y->queue)
				return false;
		}
	}
	return true;
}

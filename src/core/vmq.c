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
	uint64_t key;
	uint32_t i;

	if ((mac[0] & 1) || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0 ||
	    vid > 4095)
		return -EINVAL;
	key = xvs_vmq_key(mac, vid);
	if (xvs_vmq_filter_find(t, key) != NULL)
		return -EEXIST;
	if (t->n >= XVS_VMQ_FILTERS_MAX)
		return -ENOSPC;
	for (i = xvs_vmq_slot_of(key); t->slot[i].key != 0; i = (i + 1) & (XVS_VMQ_TABLE_SLOTS - 1))
		;
	t->slot[i] = (struct xvs_vmq_filter){
		.key = key, .worker = worker, .tag = tag, .queue = queue};
	t->n++;
	if (vid == XVS_VMQ_ANY_VLAN)
		t->any_vlan = true;
	return 0;
}

bool
xvs_vmq_table_equal(const struct xvs_vmq_table *a, const struct xvs_vmq_table *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < XVS_VMQ_TABLE_SLOTS; i++) {
		const struct xvs_vmq_filter *f = &a->slot[i], *g;

		if (f->key == 0)
			continue;
		g = xvs_vmq_filter_find(b, f->key);
		if (g == NULL || g->worker != f->worker || g->tag != f->tag || g->queue != f->queue)
			return false;
	}
	return true;
}

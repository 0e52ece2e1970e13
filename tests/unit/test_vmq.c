/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/vmq.c: the VMQ filter table against a linear list
 * on random filters and lookups, the any-VLAN filters of trunk VMs, the
 * frames that never match (multicast), and invalid arguments.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "vmq.h"

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0x0b};

static void
test_vmq_exact_and_any_vlan(void **state)
{
	static struct xvs_vmq_table t;
	const struct xvs_vmq_filter *f;

	(void)state;
	xvs_vmq_table_init(&t);
	assert_null(xvs_vmq_filter_lookup(&t, MAC_A, 10));
	assert_int_equal(xvs_vmq_table_add(&t, MAC_A, 10, 1, 5, 1), 0);
	f = xvs_vmq_filter_lookup(&t, MAC_A, 10);
	assert_non_null(f);
	assert_int_equal(f->worker, 1);
	assert_int_equal(f->tag, 5);
	assert_int_equal(f->queue, 1);
	/* another VLAN of the same MAC is another key */
	assert_null(xvs_vmq_filter_lookup(&t, MAC_A, 11));
	assert_null(xvs_vmq_filter_lookup(&t, MAC_B, 10));
	/* a trunk VM: its MAC on every VLAN */
	assert_int_equal(xvs_vmq_table_add(&t, MAC_B, XVS_VMQ_ANY_VLAN, 0, 6, 2), 0);
	assert_true(t.any_vlan);
	for (uint16_t v = 1; v < 4095; v += 97) {
		f = xvs_vmq_filter_lookup(&t, MAC_B, v);
		assert_non_null(f);
		assert_int_equal(f->tag, 6);
	}
	/* the exact key wins over any-VLAN */
	assert_int_equal(xvs_vmq_table_add(&t, MAC_B, 7, 1, 7, 3), 0);
	assert_int_equal(xvs_vmq_filter_lookup(&t, MAC_B, 7)->tag, 7);
	assert_int_equal(xvs_vmq_filter_lookup(&t, MAC_B, 8)->tag, 6);
	assert_int_equal(t.n, 3);
}

static void
test_vmq_multicast_never_matches(void **state)
{
	static struct xvs_vmq_table t;
	uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t mcast[6] = {0x03, 0, 0, 0, 0, 0x0a};

	(void)state;
	xvs_vmq_table_init(&t);
	assert_int_equal(xvs_vmq_table_add(&t, MAC_A, XVS_VMQ_ANY_VLAN, 1, 1, 1), 0);
	assert_null(xvs_vmq_filter_lookup(&t, bcast, 1));
	assert_null(xvs_vmq_filter_lookup(&t, mcast, 1));
}

static void
test_vmq_invalid_arguments(void **state)
{
	static struct xvs_vmq_table t, before;
	uint8_t zero[6] = {0}, mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};

	(void)state;
	xvs_vmq_table_init(&t);
	assert_int_equal(xvs_vmq_table_add(&t, MAC_A, 1, 0, 1, 1), 0);
	before = t;
	assert_int_equal(xvs_vmq_table_add(&t, zero, 1, 0, 2, 2), -EINVAL);
	assert_int_equal(xvs_vmq_table_add(&t, mcast, 1, 0, 2, 2), -EINVAL);
	assert_int_equal(xvs_vmq_table_add(&t, MAC_B, 4096, 0, 2, 2), -EINVAL);
	assert_int_equal(xvs_vmq_table_add(&t, MAC_A, 1, 1, 2, 2), -EEXIST);
	assert_memory_equal(&t, &before, sizeof(t));
}

static void
test_vmq_full_table_refuses(void **state)
{
	static struct xvs_vmq_table t;
	uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0};

	(void)state;
	xvs_vmq_table_init(&t);
	for (int i = 0; i < XVS_VMQ_FILTERS_MAX; i++) {
		mac[5] = (uint8_t)i;
		mac[4] = 1;
		assert_int_equal(xvs_vmq_table_add(&t, mac, 1, 0, (uint16_t)(i + 1), 1), 0);
	}
	mac[4] = 2;
	assert_int_equal(xvs_vmq_table_add(&t, mac, 1, 0, 999, 1), -ENOSPC);
	assert_int_equal(t.n, XVS_VMQ_FILTERS_MAX);
	for (int i = 0; i < XVS_VMQ_FILTERS_MAX; i++) {
		mac[5] = (uint8_t)i;
		mac[4] = 1;
		assert_int_equal(xvs_vmq_filter_lookup(&t, mac, 1)->tag, i + 1);
	}
}

/* Reference: a linear list of the filters added. */
struct ref {
	int n;
	uint8_t mac[XVS_VMQ_FILTERS_MAX][6];
	uint16_t vid[XVS_VMQ_FILTERS_MAX];
	uint16_t tag[XVS_VMQ_FILTERS_MAX];
};

static int
ref_lookup(const struct ref *r, const uint8_t mac[6], uint16_t vid)
{
	int any = -1;

	if (mac[0] & 1)
		return -1;
	for (int i = 0; i < r->n; i++) {
		if (memcmp(r->mac[i], mac, 6) != 0)
			continue;
		if (r->vid[i] == vid)
			return r->tag[i];
		if (r->vid[i] == XVS_VMQ_ANY_VLAN)
			any = r->tag[i];
	}
	return any;
}

static void
test_vmq_random_against_list(void **state)
{
	static struct xvs_vmq_table t, u;
	static struct ref r;

	(void)state;
	rng_state = 0x5eed;
	for (int round = 0; round < 200; round++) {
		int want = (int)rnd(XVS_VMQ_FILTERS_MAX) + 1;

		xvs_vmq_table_init(&t);
		memset(&r, 0, sizeof(r));
		while (r.n < want) {
			uint8_t mac[6] = {0x02, 0, 0, 0, (uint8_t)(rnd(4)),
					  (uint8_t)(rnd(64))};
			uint16_t vid = (uint16_t)(rnd(5));
			int rc = xvs_vmq_table_add(&t, mac, vid, 0, (uint16_t)(r.n + 1), 1);

			if (rc == -EEXIST)
				continue;
			assert_int_equal(rc, 0);
			memcpy(r.mac[r.n], mac, 6);
			r.vid[r.n] = vid;
			r.tag[r.n] = (uint16_t)(r.n + 1);
			r.n++;
		}
		for (int k = 0; k < 500; k++) {
			uint8_t mac[6] = {(uint8_t)(rnd(8) == 0 ? 0x03 : 0x02), 0, 0,
					  0, (uint8_t)(rnd(5)),
					  (uint8_t)(rnd(70))};
			uint16_t vid = (uint16_t)(rnd(6));
			const struct xvs_vmq_filter *f = xvs_vmq_filter_lookup(&t, mac, vid);
			int want_tag = ref_lookup(&r, mac, vid);

			if (want_tag < 0)
				assert_null(f);
			else
				assert_int_equal(f == NULL ? -1 : f->tag, want_tag);
		}
		/* the same filters added in reverse order: an equal table */
		xvs_vmq_table_init(&u);
		for (int i = r.n - 1; i >= 0; i--)
			assert_int_equal(xvs_vmq_table_add(&u, r.mac[i], r.vid[i], 0, r.tag[i], 1), 0);
		assert_true(xvs_vmq_table_equal(&t, &u));
		assert_true(xvs_vmq_table_equal(&u, &t));
		if (r.n > 0) {
			/* one filter's worker changed: not equal (a move to fence) */
			uint64_t key = xvs_vmq_key(r.mac[0], r.vid[0]);

			for (int i = 0; i < XVS_VMQ_TABLE_SLOTS; i++)
				if (u.slot[i].key == key)
					u.slot[i].worker = 1;
			assert_false(xvs_vmq_table_equal(&t, &u));
		}
	}
}

/* VMMQ: a group of queues behind one key, picked by hash, compared whole. */
static void
test_vmq_group_spreads_by_hash(void **state)
{
	static struct xvs_vmq_table t, u;
	const struct xvs_vmq_target q[3] = {{0, 1, 1, 0}, {1, 2, 2, 0}, {1, 3, 3, 0}};
	const struct xvs_vmq_filter *f;
	unsigned int seen[4] = {0};

	(void)state;
	xvs_vmq_table_init(&t);
	assert_int_equal(xvs_vmq_table_add(&t, MAC_B, 1, 0, 9, 4), 0);
	assert_int_equal(xvs_vmq_table_add_group(&t, MAC_A, 1, q, 3), 0);
	assert_int_equal(t.n_sub, 4);
	f = xvs_vmq_filter_lookup(&t, MAC_A, 1);
	assert_non_null(f);
	assert_int_equal(f->n_sub, 3);
	for (uint32_t h = 0; h < 300; h++) {
		const struct xvs_vmq_target *x = xvs_vmq_filter_pick(&t, f, h);

		assert_int_equal(x->tag, h % 3 + 1);
		seen[x->tag]++;
	}
	assert_true(seen[1] == 100 && seen[2] == 100 && seen[3] == 100);
	/* a plain filter is a group of one */
	f = xvs_vmq_filter_lookup(&t, MAC_B, 1);
	assert_int_equal(xvs_vmq_filter_pick(&t, f, 12345)->tag, 9);
	/* invalid group sizes change nothing */
	assert_int_equal(xvs_vmq_table_add_group(&t, MAC_B, 2, q, 0), -EINVAL);
	assert_int_equal(xvs_vmq_table_add_group(&t, MAC_B, 2, q, XVS_VMMQ_QUEUES_MAX + 1),
			 -EINVAL);
	assert_int_equal(t.n, 2);
	/* equal only with the same group */
	xvs_vmq_table_init(&u);
	assert_int_equal(xvs_vmq_table_add_group(&u, MAC_A, 1, q, 3), 0);
	assert_int_equal(xvs_vmq_table_add(&u, MAC_B, 1, 0, 9, 4), 0);
	assert_true(xvs_vmq_table_equal(&t, &u));
	for (int i = 0; i < XVS_VMQ_TABLE_SLOTS; i++)
		if (u.slot[i].key == xvs_vmq_key(MAC_A, 1))
			u.sub[u.slot[i].sub + 2].worker = 0; /* its third queue moves */
	assert_false(xvs_vmq_table_equal(&t, &u));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmq_exact_and_any_vlan),
		cmocka_unit_test(test_vmq_multicast_never_matches),
		cmocka_unit_test(test_vmq_invalid_arguments),
		cmocka_unit_test(test_vmq_full_table_refuses),
		cmocka_unit_test(test_vmq_random_against_list),
		cmocka_unit_test(test_vmq_group_spreads_by_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

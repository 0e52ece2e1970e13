/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/fdb.c: learning, static entries, the full table,
 * aging on a fake clock, flush and walk; a randomized comparison against a
 * linear-list reference model (WireGuard horrible_allowedips style); and a
 * smoke test of the seqlock with one writer thread and one reader thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "fdb.h"
#include "test_rng.h"

#define NS UINT64_C(1000000000)

/* Locally administered unicast MAC derived from n. */
static void
mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x5e;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static struct xvs_fdb *
mk(uint32_t max, uint64_t aging_ns)
{
	struct xvs_fdb_params p = {.max_entries = max, .aging_ns = aging_ns};
	struct xvs_fdb *fdb = NULL;

	assert_int_equal(xvs_fdb_create(&p, &fdb, NULL), 0);
	assert_non_null(fdb);
	return fdb;
}

static int
lookup_port(const struct xvs_fdb *fdb, uint32_t n, uint16_t vid)
{
	struct xvs_fdb_hit hit;
	uint8_t mac[6];

	mac_of(n, mac);
	if (!xvs_fdb_lookup(fdb, mac, vid, &hit))
		return -1;
	return hit.port;
}

static int
learn(struct xvs_fdb *fdb, uint32_t n, uint16_t vid, uint16_t port, uint64_t now)
{
	uint8_t mac[6];

	mac_of(n, mac);
	return xvs_fdb_learn(fdb, mac, vid, port, now);
}

static void
test_fdb_create_invalid_args(void **state)
{
	struct xvs_fdb_params p = {.max_entries = 0};
	struct xvs_fdb *fdb = (struct xvs_fdb *)1;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_fdb_create(&p, &fdb, &err), -EINVAL);
	assert_null(fdb);
	assert_string_equal(err.msg, "fdb: max entries 0 outside 1-1048576");
	p.max_entries = XVS_FDB_MAX_MAX + 1;
	assert_int_equal(xvs_fdb_create(&p, &fdb, &err), -EINVAL);
	assert_int_equal(xvs_fdb_create(NULL, &fdb, &err), -EINVAL);
	assert_int_equal(xvs_fdb_create(&p, NULL, &err), -EINVAL);
	xvs_fdb_destroy(NULL);
}

static void
test_fdb_create_boundaries(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;

	(void)state;
	fdb = mk(1, 0);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 1, 1, 0), -ENOSPC);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.max_entries, 1);
	assert_int_equal(st.entries, 1);
	xvs_fdb_destroy(fdb);

	fdb = mk(XVS_FDB_MAX_MAX, 0);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.max_entries, XVS_FDB_MAX_MAX);
	assert_int_equal(st.entries, 0);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_learn_lookup(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(lookup_port(fdb, 1, 10), -1);
	assert_int_equal(learn(fdb, 1, 10, 3, 0), XVS_FDB_ADDED);
	assert_int_equal(lookup_port(fdb, 1, 10), 3);
	/* same MAC in another VLAN is another entry */
	assert_int_equal(lookup_port(fdb, 1, 11), -1);
	assert_int_equal(learn(fdb, 1, 11, 4, 0), XVS_FDB_ADDED);
	assert_int_equal(lookup_port(fdb, 1, 11), 4);
	assert_int_equal(lookup_port(fdb, 1, 10), 3);
	mac_of(1, mac);
	assert_true(xvs_fdb_lookup(fdb, mac, 10, &hit));
	assert_false(hit.is_static);
	/* lookups with impossible VLANs simply miss */
	assert_false(xvs_fdb_lookup(fdb, mac, 0, &hit));
	assert_false(xvs_fdb_lookup(fdb, mac, 4095, &hit));
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.learned, 2);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_move_and_refresh(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(learn(fdb, 7, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 7, 1, 1, 1), XVS_FDB_REFRESHED);
	assert_int_equal(learn(fdb, 7, 1, 2, 2), XVS_FDB_MOVED);
	assert_int_equal(lookup_port(fdb, 7, 1), 2);
	assert_int_equal(learn(fdb, 7, 1, 2, 3), XVS_FDB_REFRESHED);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.learned, 1);
	assert_int_equal(st.moved, 1);
	xvs_fdb_destroy(fdb);
}

/* A reader that loaded a bucket's sequence before the writer changed the
 * bucket 32,768 times (a 16-bit counter wraps: 65,536) must see a different
 * one, else it takes a torn read for a clean one. */
static void
test_fdb_seq_survives_32768_changes(void **state)
{
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	uint32_t b, s0;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(learn(fdb, 7, 1, 1, 0), XVS_FDB_ADDED);
	mac_of(7, mac);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	b = hit.slot / XVS_FDB_SEEN_STRIDE;
	s0 = __atomic_load_n(&fdb->bucket[b].seq, __ATOMIC_ACQUIRE);
	for (uint32_t n = 0; n < 32768; n++)
		assert_int_equal(learn(fdb, 7, 1, (uint16_t)(2 + (n & 1)), n + 1), XVS_FDB_MOVED);
	assert_int_not_equal(__atomic_load_n(&fdb->bucket[b].seq, __ATOMIC_ACQUIRE), s0);
	assert_int_equal(lookup_port(fdb, 7, 1), 3);
	xvs_fdb_destroy(fdb);
}

/* The static flag shares the port field (bit 15): neither leaks into the
 * other at the extremes. */
static void
test_fdb_static_bit_and_port_field(void **state)
{
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	struct xvs_err err;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(learn(fdb, 1, 1, XVS_FDB_PORT_MAX, 0), XVS_FDB_ADDED);
	mac_of(2, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 0, &err), 0);
	mac_of(1, mac);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	assert_int_equal(hit.port, XVS_FDB_PORT_MAX);
	assert_false(hit.is_static);
	mac_of(2, mac);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	assert_int_equal(hit.port, 0);
	assert_true(hit.is_static);
	/* a static entry made dynamic again by delete + learn loses the flag */
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), 0);
	assert_int_equal(learn(fdb, 2, 1, 5, 1), XVS_FDB_ADDED);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	assert_int_equal(hit.port, 5);
	assert_false(hit.is_static);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_learn_invalid_args(void **state)
{
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6] = {0};
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(8, 0);
	mac_of(1, mac);
	assert_int_equal(xvs_fdb_learn(fdb, mcast, 1, 1, 0), -EINVAL);
	assert_int_equal(xvs_fdb_learn(fdb, bcast, 1, 1, 0), -EINVAL);
	assert_int_equal(xvs_fdb_learn(fdb, zero, 1, 1, 0), -EINVAL);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 0, 1, 0), -EINVAL);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 4095, 1, 0), -EINVAL);
	/* ports are stored in a byte: a larger index must not wrap around */
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, XVS_FDB_PORT_MAX + 1, 0), -EINVAL);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 4094, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 1, 0), XVS_FDB_ADDED);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 2);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_static_wins_over_learning(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 10 * NS);
	mac_of(5, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, NULL), 0);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 2, 0), -EPERM);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 1, 0), XVS_FDB_REFRESHED);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	assert_int_equal(hit.port, 1);
	assert_true(hit.is_static);
	/* never aged */
	assert_int_equal(xvs_fdb_age(fdb, 1000 * NS), 0);
	assert_int_equal(lookup_port(fdb, 5, 1), 1);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.static_conflict, 1);
	assert_int_equal(st.static_entries, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.moved, 0);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_static_replaces_dynamic(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 0);
	mac_of(5, mac);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 2, 0), XVS_FDB_ADDED);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 3, NULL), 0);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	assert_int_equal(hit.port, 3);
	assert_true(hit.is_static);
	/* replacing a static keeps it static, on the new port */
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 4, NULL), 0);
	assert_int_equal(lookup_port(fdb, 5, 1), 4);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.static_entries, 1);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), 0);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.static_entries, 0);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_add_static_invalid_args(void **state)
{
	static const uint8_t mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
	static const uint8_t zero[6] = {0};
	struct xvs_fdb *fdb;
	struct xvs_err err;
	uint8_t mac[6];

	(void)state;
	fdb = mk(8, 0);
	mac_of(1, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mcast, 1, 1, &err), -EINVAL);
	assert_string_equal(err.msg, "fdb: mac 33:33:00:00:00:01 is multicast (static entries are "
				     "for unicast addresses)");
	assert_int_equal(xvs_fdb_add_static(fdb, zero, 1, 1, &err), -EINVAL);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 0, 1, &err), -EINVAL);
	assert_string_equal(err.msg, "fdb: vlan 0 outside 1-4094");
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 4095, 1, &err), -EINVAL);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, XVS_FDB_PORT_MAX + 1, &err), -EINVAL);
	assert_string_equal(err.msg, "fdb: port index 4096 above 4095");
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 4094, XVS_FDB_PORT_MAX, &err), 0);
	assert_int_equal(lookup_port(fdb, 1, 4094), XVS_FDB_PORT_MAX);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_del(void **state)
{
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(8, 0);
	mac_of(1, mac);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), -ENOENT);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(xvs_fdb_del(fdb, mac, 2), -ENOENT);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), 0);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), -ENOENT);
	assert_int_equal(lookup_port(fdb, 1, 1), -1);
	/* the slot is reusable */
	assert_int_equal(learn(fdb, 1, 1, 2, 0), XVS_FDB_ADDED);
	assert_int_equal(lookup_port(fdb, 1, 1), 2);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_full_table(void **state)
{
	const uint32_t max = 100;
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;
	struct xvs_err err;
	uint8_t mac[6];

	(void)state;
	fdb = mk(max, 0);
	for (uint32_t i = 0; i < max; i++)
		assert_int_equal(learn(fdb, i, 1, (uint16_t)(i % 7), 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, max, 1, 1, 0), -ENOSPC);
	assert_int_equal(learn(fdb, max + 1, 2, 1, 0), -ENOSPC);
	mac_of(max + 2, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "100 of 100 entries used"));
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.learn_full, 2);
	assert_int_equal(st.entries, max);

	/* existing entries intact, still refreshed and moved while full */
	for (uint32_t i = 0; i < max; i++)
		assert_int_equal(lookup_port(fdb, i, 1), (int)(i % 7));
	assert_int_equal(lookup_port(fdb, max, 1), -1);
	assert_int_equal(learn(fdb, 0, 1, 0, 1), XVS_FDB_REFRESHED);
	assert_int_equal(learn(fdb, 0, 1, 9, 1), XVS_FDB_MOVED);
	mac_of(1, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 8, NULL), 0);

	/* room again after a delete */
	mac_of(2, mac);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), 0);
	assert_int_equal(learn(fdb, max, 1, 5, 0), XVS_FDB_ADDED);
	assert_int_equal(lookup_port(fdb, max, 1), 5);
	assert_int_equal(lookup_port(fdb, 0, 1), 9);
	assert_int_equal(lookup_port(fdb, 1, 1), 8);
	xvs_fdb_destroy(fdb);
}

/* max_entries must always fit, whatever the hash does with the keys. */
static void
test_fdb_fills_to_max_entries(void **state)
{
	static const uint32_t sizes[] = {1, 2, 3, 7, 8, 9, 31, 1000, 8192, 100000, XVS_FDB_MAX_MAX};
	static const uint8_t other[6] = {0x02, 0x99, 0, 0, 0, 1}; /* not made by mac_of() */
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		fdb = mk(sizes[s], 0);
		for (uint32_t i = 0; i < sizes[s]; i++)
			if (learn(fdb, i * 2654435761u, (uint16_t)(i % 4094 + 1), 1, 0) !=
			    XVS_FDB_ADDED)
				fail_msg("size %u: learn %u failed", sizes[s], i);
		assert_int_equal(xvs_fdb_learn(fdb, other, 1, 1, 0), -ENOSPC);
		xvs_fdb_get_stats(fdb, &st);
		assert_int_equal(st.entries, sizes[s]);
		xvs_fdb_destroy(fdb);
	}
}

static void
test_fdb_aging(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 10 * NS);
	assert_int_equal(xvs_fdb_aging(fdb), 10 * NS);
	assert_int_equal(learn(fdb, 1, 1, 1, 100 * NS), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 1, 1, 100 * NS), XVS_FDB_ADDED);
	mac_of(3, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, NULL), 0);

	/* a reader sees entry 1 at +5 s */
	mac_of(1, mac);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	xvs_fdb_touch(fdb, &hit, 105 * NS);

	assert_int_equal(xvs_fdb_age(fdb, 109 * NS), 0);
	assert_int_equal(xvs_fdb_age(fdb, 110 * NS), 1); /* entry 2: exactly 10 s */
	assert_int_equal(lookup_port(fdb, 2, 1), -1);
	assert_int_equal(lookup_port(fdb, 1, 1), 1);
	/* relearning also refreshes */
	assert_int_equal(learn(fdb, 1, 1, 1, 112 * NS), XVS_FDB_REFRESHED);
	assert_int_equal(xvs_fdb_age(fdb, 121 * NS), 0);
	assert_int_equal(xvs_fdb_age(fdb, 122 * NS), 1);
	assert_int_equal(lookup_port(fdb, 1, 1), -1);
	assert_int_equal(lookup_port(fdb, 3, 1), 1);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.aged, 2);
	assert_int_equal(st.entries, 1);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_aging_disabled(void **state)
{
	struct xvs_fdb *fdb;

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(xvs_fdb_age(fdb, UINT64_MAX), 0);
	xvs_fdb_set_aging(fdb, NS);
	assert_int_equal(xvs_fdb_aging(fdb), NS);
	/* a clock behind the entry's time does not age it */
	assert_int_equal(learn(fdb, 2, 1, 1, 50 * NS), XVS_FDB_ADDED);
	assert_int_equal(xvs_fdb_age(fdb, 10 * NS), 1);
	assert_int_equal(lookup_port(fdb, 2, 1), 1);
	xvs_fdb_destroy(fdb);
}

static int
age_of(struct xvs_fdb_entry_info const *e, void *arg)
{
	*(uint64_t *)arg = e->age_ns;
	return 0;
}

static void
test_fdb_touch_rate_limited(void **state)
{
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	uint64_t age = 0;
	uint8_t mac[6];

	(void)state;
	fdb = mk(8, 100 * NS);
	mac_of(1, mac);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 1, 10 * NS), XVS_FDB_ADDED);
	assert_true(xvs_fdb_lookup(fdb, mac, 1, &hit));
	/* within a second of the stored time: no store */
	xvs_fdb_touch(fdb, &hit, 10 * NS + NS / 2);
	xvs_fdb_walk(fdb, 12 * NS, age_of, &age);
	assert_int_equal(age, 2 * NS);
	xvs_fdb_touch(fdb, &hit, 11 * NS);
	xvs_fdb_walk(fdb, 12 * NS, age_of, &age);
	assert_int_equal(age, 2 * NS);
	/* more than a second: stored */
	xvs_fdb_touch(fdb, &hit, 11 * NS + 1);
	xvs_fdb_walk(fdb, 12 * NS, age_of, &age);
	assert_int_equal(age, NS - 1);
	/* an out-of-range slot handle is ignored */
	hit.slot = UINT32_MAX;
	xvs_fdb_touch(fdb, &hit, 50 * NS);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_flush(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(256, 0);
	/* 40 entries: port = i % 4, vid = i % 5 + 1; every 10th static */
	for (uint32_t i = 0; i < 40; i++) {
		mac_of(i, mac);
		if (i % 10 == 0)
			assert_int_equal(xvs_fdb_add_static(fdb, mac, (uint16_t)(i % 5 + 1),
							    (uint16_t)(i % 4), NULL), 0);
		else
			assert_int_equal(xvs_fdb_learn(fdb, mac, (uint16_t)(i % 5 + 1),
						       (uint16_t)(i % 4), 0), XVS_FDB_ADDED);
	}
	/* port 1: i = 1,5,...,37 (10 entries, none static since i%10==0 means port 0 or 2) */
	assert_int_equal(xvs_fdb_flush(fdb, 1, -1, false), 10);
	assert_int_equal(xvs_fdb_flush(fdb, 1, -1, false), 0);
	/* vid 1 (i % 5 == 0): 0,10,20,30 static; 5,25 went with port 1; 15,35 remain */
	assert_int_equal(xvs_fdb_flush(fdb, -1, 1, false), 2);
	assert_int_equal(lookup_port(fdb, 0, 1), 0);
	/* port 0 and vid 1 with statics: i = 0, 20 */
	assert_int_equal(xvs_fdb_flush(fdb, 0, 1, true), 2);
	assert_int_equal(lookup_port(fdb, 0, 1), -1);
	assert_int_equal(lookup_port(fdb, 10, 1), 2);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 40 - 14);
	assert_int_equal(st.static_entries, 2);
	/* everything dynamic, then everything */
	assert_int_equal(xvs_fdb_flush(fdb, -1, -1, false), 24);
	assert_int_equal(xvs_fdb_flush(fdb, -1, -1, true), 2);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.static_entries, 0);
	xvs_fdb_destroy(fdb);
}

struct walk_acc {
	uint32_t n;       /* entries seen */
	uint32_t statics; /* of which static */
	uint32_t stop_at; /* return 7 at this many (0 = never) */
	uint64_t max_age; /* oldest dynamic age seen */
};

static int
walk_cb(const struct xvs_fdb_entry_info *e, void *arg)
{
	struct walk_acc *a = arg;
	uint8_t mac[6];
	uint32_t n;

	n = (uint32_t)e->mac[2] << 24 | (uint32_t)e->mac[3] << 16 | (uint32_t)e->mac[4] << 8 |
	    e->mac[5];
	mac_of(n, mac);
	assert_memory_equal(mac, e->mac, 6);
	assert_int_equal(e->vid, n % 100 + 1);
	assert_int_equal(e->port, n % 3);
	assert_int_equal(e->is_static, n % 4 == 0);
	if (e->is_static)
		assert_int_equal(e->age_ns, 0);
	else if (e->age_ns > a->max_age)
		a->max_age = e->age_ns;
	a->n++;
	a->statics += e->is_static;
	return a->n == a->stop_at ? 7 : 0;
}

static void
test_fdb_walk(void **state)
{
	struct walk_acc acc = {0};
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(128, 0);
	assert_int_equal(xvs_fdb_walk(fdb, 0, walk_cb, &acc), 0);
	assert_int_equal(acc.n, 0);
	for (uint32_t i = 0; i < 100; i++) {
		mac_of(i, mac);
		if (i % 4 == 0)
			xvs_fdb_add_static(fdb, mac, (uint16_t)(i % 100 + 1), (uint16_t)(i % 3),
					   NULL);
		else
			xvs_fdb_learn(fdb, mac, (uint16_t)(i % 100 + 1), (uint16_t)(i % 3), i * NS);
	}
	assert_int_equal(xvs_fdb_walk(fdb, 200 * NS, walk_cb, &acc), 0);
	assert_int_equal(acc.n, 100);
	assert_int_equal(acc.statics, 25);
	assert_int_equal(acc.max_age, 199 * NS);
	memset(&acc, 0, sizeof(acc));
	acc.stop_at = 10;
	assert_int_equal(xvs_fdb_walk(fdb, 200 * NS, walk_cb, &acc), 7);
	assert_int_equal(acc.n, 10);
	xvs_fdb_destroy(fdb);
}

/* ---- per-port limit on learned entries ---- */

static uint32_t
port_learned(const struct xvs_fdb *fdb, uint16_t port)
{
	struct xvs_fdb_port_stats ps;

	xvs_fdb_get_port_stats(fdb, port, &ps);
	return ps.learned;
}

static uint64_t
port_refused(const struct xvs_fdb *fdb, uint16_t port)
{
	struct xvs_fdb_port_stats ps;

	xvs_fdb_get_port_stats(fdb, port, &ps);
	return ps.learn_limit;
}

static void
test_fdb_port_limit_boundaries(void **state)
{
	struct xvs_fdb_port_stats ps;
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, XVS_FDB_PORT_MAX + 1, 1), -EINVAL);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, XVS_FDB_PORT_MAX, 1), 0);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 3), 0);
	/* up to the limit, across VLANs */
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 7, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(port_learned(fdb, 1), 3);
	/* one more is refused, counted on the port, not as a full table */
	assert_int_equal(learn(fdb, 3, 1, 1, 0), -EDQUOT);
	assert_int_equal(learn(fdb, 4, 1, 1, 0), -EDQUOT);
	assert_int_equal(lookup_port(fdb, 3, 1), -1);
	xvs_fdb_get_port_stats(fdb, 1, &ps);
	assert_int_equal(ps.learned, 3);
	assert_int_equal(ps.limit, 3);
	assert_int_equal(ps.learn_limit, 2);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.learn_full, 0);
	assert_int_equal(st.entries, 3);
	/* known addresses on the full port are still refreshed */
	assert_int_equal(learn(fdb, 1, 1, 1, 5), XVS_FDB_REFRESHED);
	assert_int_equal(port_refused(fdb, 1), 2);
	/* other ports keep learning; 0 means no limit */
	for (uint32_t i = 100; i < 120; i++)
		assert_int_equal(learn(fdb, i, 1, 2, 0), XVS_FDB_ADDED);
	assert_int_equal(port_learned(fdb, 2), 20);
	assert_int_equal(port_refused(fdb, 2), 0);
	/* a limit of 1 */
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 3, 1), 0);
	assert_int_equal(learn(fdb, 200, 1, 3, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 201, 1, 3, 0), -EDQUOT);
	/* lowering the limit keeps what is there, raising it lets learning resume */
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 1), 0);
	assert_int_equal(port_learned(fdb, 1), 3);
	assert_int_equal(lookup_port(fdb, 2, 7), 1);
	assert_int_equal(learn(fdb, 5, 1, 1, 0), -EDQUOT);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 0), 0);
	assert_int_equal(learn(fdb, 5, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(port_learned(fdb, 1), 4);
	/* a port index the table cannot hold reads as zeroes */
	xvs_fdb_get_port_stats(fdb, XVS_FDB_PORT_MAX + 1, &ps);
	assert_int_equal(ps.learned + ps.limit + ps.learn_limit + ps.static_conflict, 0);
	/* reset clears the refusals, not the count */
	xvs_fdb_port_reset(fdb, 3);
	xvs_fdb_get_port_stats(fdb, 3, &ps);
	assert_int_equal(ps.learn_limit, 0);
	assert_int_equal(ps.learned, 1);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_port_limit_moves(void **state)
{
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 2), 0);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 9, 1, 2, 10 * NS), XVS_FDB_ADDED);
	/* a move into the full port is refused: the entry stays, not refreshed */
	assert_int_equal(learn(fdb, 9, 1, 1, 20 * NS), -EDQUOT);
	assert_int_equal(lookup_port(fdb, 9, 1), 2);
	assert_int_equal(port_learned(fdb, 1), 2);
	assert_int_equal(port_learned(fdb, 2), 1);
	assert_int_equal(port_refused(fdb, 1), 1);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.moved, 0);
	/* a move out of the full port makes room, and the counts follow */
	assert_int_equal(learn(fdb, 1, 1, 2, 30 * NS), XVS_FDB_MOVED);
	assert_int_equal(port_learned(fdb, 1), 1);
	assert_int_equal(port_learned(fdb, 2), 2);
	assert_int_equal(learn(fdb, 9, 1, 1, 40 * NS), XVS_FDB_MOVED);
	assert_int_equal(lookup_port(fdb, 9, 1), 1);
	assert_int_equal(port_learned(fdb, 1), 2);
	assert_int_equal(port_learned(fdb, 2), 1);
	assert_int_equal(learn(fdb, 3, 1, 1, 40 * NS), -EDQUOT);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_port_limit_refused_move_keeps_age(void **state)
{
	struct xvs_fdb *fdb;

	(void)state;
	fdb = mk(64, 100 * NS);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 1), 0);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 9, 1, 2, 10 * NS), XVS_FDB_ADDED);
	/* frames from the full port do not keep the other port's entry alive */
	assert_int_equal(learn(fdb, 9, 1, 1, 90 * NS), -EDQUOT);
	assert_int_equal(xvs_fdb_age(fdb, 105 * NS), 1);
	assert_int_equal(lookup_port(fdb, 1, 1), -1);
	assert_int_equal(lookup_port(fdb, 9, 1), 2);
	assert_int_equal(xvs_fdb_age(fdb, 110 * NS), 1);
	assert_int_equal(lookup_port(fdb, 9, 1), -1);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_port_limit_aging_and_flush_free_room(void **state)
{
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 10 * NS);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 2), 0);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 1, 1, 5 * NS), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 3, 1, 1, 6 * NS), -EDQUOT);
	/* entry 1 ages out: room for one */
	assert_int_equal(xvs_fdb_age(fdb, 10 * NS), 1);
	assert_int_equal(port_learned(fdb, 1), 1);
	assert_int_equal(learn(fdb, 3, 1, 1, 11 * NS), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 4, 1, 1, 11 * NS), -EDQUOT);
	/* a delete and a flush free room too */
	mac_of(2, mac);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), 0);
	assert_int_equal(port_learned(fdb, 1), 1);
	assert_int_equal(learn(fdb, 4, 1, 1, 12 * NS), XVS_FDB_ADDED);
	assert_int_equal(xvs_fdb_flush(fdb, 1, -1, false), 2);
	assert_int_equal(port_learned(fdb, 1), 0);
	assert_int_equal(learn(fdb, 5, 1, 1, 13 * NS), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 6, 1, 1, 13 * NS), XVS_FDB_ADDED);
	assert_int_equal(port_refused(fdb, 1), 2);
	xvs_fdb_destroy(fdb);
}

static void
test_fdb_port_limit_static_not_counted(void **state)
{
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 1, 2), 0);
	/* static entries on the port take none of its room */
	for (uint32_t i = 50; i < 55; i++) {
		mac_of(i, mac);
		assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, NULL), 0);
	}
	assert_int_equal(port_learned(fdb, 1), 0);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 2, 1, 1, 0), XVS_FDB_ADDED);
	assert_int_equal(learn(fdb, 3, 1, 1, 0), -EDQUOT);
	/* a learned entry made static gives its room back */
	mac_of(2, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, NULL), 0);
	assert_int_equal(port_learned(fdb, 1), 1);
	assert_int_equal(learn(fdb, 3, 1, 1, 0), XVS_FDB_ADDED);
	/* so does one made static on another port, which then does not count there */
	mac_of(3, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 2, NULL), 0);
	assert_int_equal(port_learned(fdb, 1), 1);
	assert_int_equal(port_learned(fdb, 2), 0);
	/* a static entry moved between ports, or deleted, changes no count */
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, NULL), 0);
	assert_int_equal(xvs_fdb_del(fdb, mac, 1), 0);
	assert_int_equal(xvs_fdb_flush(fdb, 1, -1, true), 7);
	assert_int_equal(port_learned(fdb, 1), 0);
	assert_int_equal(port_learned(fdb, 2), 0);
	xvs_fdb_destroy(fdb);
}

/* A source that a static entry holds on another port: not learned, not moved,
 * counted on the port the frame came in on (and in the table's total). */
static void
test_fdb_static_conflict_counted_per_port(void **state)
{
	struct xvs_fdb_port_stats ps;
	struct xvs_fdb_stats st;
	struct xvs_fdb *fdb;
	uint8_t mac[6];

	(void)state;
	fdb = mk(64, 0);
	assert_int_equal(xvs_fdb_set_port_limit(fdb, 2, 1), 0);
	mac_of(5, mac);
	assert_int_equal(xvs_fdb_add_static(fdb, mac, 1, 1, NULL), 0);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 2, 0), -EPERM);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 2, 0), -EPERM);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 3, 0), -EPERM);
	assert_int_equal(xvs_fdb_learn(fdb, mac, 1, 1, 0), XVS_FDB_REFRESHED);
	/* the same MAC in another VLAN is another entry */
	assert_int_equal(xvs_fdb_learn(fdb, mac, 2, 2, 0), XVS_FDB_ADDED);
	xvs_fdb_get_port_stats(fdb, 2, &ps);
	assert_int_equal(ps.static_conflict, 2);
	assert_int_equal(ps.learn_limit, 0);
	assert_int_equal(ps.learned, 1);
	xvs_fdb_get_port_stats(fdb, 3, &ps);
	assert_int_equal(ps.static_conflict, 1);
	xvs_fdb_get_port_stats(fdb, 1, &ps);
	assert_int_equal(ps.static_conflict, 0);
	xvs_fdb_get_stats(fdb, &st);
	assert_int_equal(st.static_conflict, 3);
	assert_int_equal(lookup_port(fdb, 5, 1), 1);
	xvs_fdb_port_reset(fdb, 2);
	xvs_fdb_get_port_stats(fdb, 2, &ps);
	assert_int_equal(ps.static_conflict, 0);
	xvs_fdb_destroy(fdb);
}

/* ---- randomized comparison with a linear list ---- */

struct ref_entry {
	uint32_t n;         /* MAC id */
	uint16_t vid;
	uint16_t port;
	bool is_static;
	uint64_t last_seen; /* ns */
};

#define REF_PORTS 8

struct ref_fdb {
	struct ref_entry *e; /* unordered */
	uint32_t count;
	uint32_t max;
	uint64_t aging_ns;
	uint32_t limit[REF_PORTS]; /* learned entries per port; 0 = no limit */
};

static uint32_t
ref_learned(const struct ref_fdb *r, uint16_t port)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->count; i++)
		n += !r->e[i].is_static && r->e[i].port == port;
	return n;
}

static bool
ref_port_full(const struct ref_fdb *r, uint16_t port)
{
	return r->limit[port] != 0 && ref_learned(r, port) >= r->limit[port];
}

static struct ref_entry *
ref_find(struct ref_fdb *r, uint32_t n, uint16_t vid)
{
	for (uint32_t i = 0; i < r->count; i++)
		if (r->e[i].n == n && r->e[i].vid == vid)
			return &r->e[i];
	return NULL;
}

static void
ref_remove(struct ref_fdb *r, struct ref_entry *e)
{
	*e = r->e[--r->count];
}

static int
ref_learn(struct ref_fdb *r, uint32_t n, uint16_t vid, uint16_t port, uint64_t now)
{
	struct ref_entry *e = ref_find(r, n, vid);

	if (e != NULL) {
		if (e->is_static)
			return e->port == port ? XVS_FDB_REFRESHED : -EPERM;
		if (e->port == port) {
			e->last_seen = now;
			return XVS_FDB_REFRESHED;
		}
		if (ref_port_full(r, port))
			return -EDQUOT;
		e->last_seen = now;
		e->port = port;
		return XVS_FDB_MOVED;
	}
	if (ref_port_full(r, port))
		return -EDQUOT;
	if (r->count == r->max)
		return -ENOSPC;
	r->e[r->count++] = (struct ref_entry){n, vid, port, false, now};
	return XVS_FDB_ADDED;
}

static int
ref_static(struct ref_fdb *r, uint32_t n, uint16_t vid, uint16_t port)
{
	struct ref_entry *e = ref_find(r, n, vid);

	if (e != NULL) {
		e->port = port;
		e->is_static = true;
		return 0;
	}
	if (r->count == r->max)
		return -ENOSPC;
	r->e[r->count++] = (struct ref_entry){n, vid, port, true, 0};
	return 0;
}

static uint32_t
ref_flush(struct ref_fdb *r, int32_t port, int32_t vid, bool with_static)
{
	uint32_t removed = 0;

	for (uint32_t i = 0; i < r->count;) {
		struct ref_entry *e = &r->e[i];

		if ((with_static || !e->is_static) && (port < 0 || e->port == port) &&
		    (vid < 0 || e->vid == vid)) {
			ref_remove(r, e);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

static uint32_t
ref_age(struct ref_fdb *r, uint64_t now)
{
	uint32_t removed = 0;

	if (r->aging_ns == 0)
		return 0;
	for (uint32_t i = 0; i < r->count;) {
		struct ref_entry *e = &r->e[i];

		if (!e->is_static && now > e->last_seen && now - e->last_seen >= r->aging_ns) {
			ref_remove(r, e);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

static void
random_vs_reference(uint32_t max, uint32_t nmacs, uint32_t nvids, uint32_t ops, uint64_t seed,
		    const uint32_t limit[REF_PORTS])
{
	struct ref_fdb ref = {.max = max, .aging_ns = 30 * NS};
	struct xvs_fdb_stats st;
	struct xvs_fdb_hit hit;
	struct xvs_fdb *fdb;
	struct ref_entry *e;
	uint64_t now = 1000 * NS;
	uint8_t mac[6];
	uint32_t n;
	uint16_t vid, port;
	bool found;

	rng_state = seed;
	ref.e = calloc(max, sizeof(*ref.e));
	assert_non_null(ref.e);
	fdb = mk(max, ref.aging_ns);
	for (uint16_t p = 0; p < REF_PORTS && limit != NULL; p++) {
		ref.limit[p] = limit[p];
		assert_int_equal(xvs_fdb_set_port_limit(fdb, p, limit[p]), 0);
	}

	for (uint32_t op = 0; op < ops; op++) {
		n = rnd(nmacs) + 1;
		vid = (uint16_t)(rnd(nvids) + 1);
		port = (uint16_t)rnd(REF_PORTS);
		mac_of(n, mac);
		now += rnd(200) * NS / 100;

		switch (rnd(100)) {
		case 0 ... 59:
			assert_int_equal(xvs_fdb_learn(fdb, mac, vid, port, now),
					 ref_learn(&ref, n, vid, port, now));
			break;
		case 60 ... 64:
			assert_int_equal(xvs_fdb_add_static(fdb, mac, vid, port, NULL),
					 ref_static(&ref, n, vid, port));
			break;
		case 65 ... 79:
			e = ref_find(&ref, n, vid);
			assert_int_equal(xvs_fdb_del(fdb, mac, vid), e == NULL ? -ENOENT : 0);
			if (e != NULL)
				ref_remove(&ref, e);
			break;
		case 80:
			assert_int_equal(xvs_fdb_flush(fdb, port, -1, false),
					 ref_flush(&ref, port, -1, false));
			break;
		case 81:
			found = rnd(2);
			assert_int_equal(xvs_fdb_flush(fdb, -1, vid, found),
					 ref_flush(&ref, -1, vid, found));
			break;
		case 82 ... 84:
			assert_int_equal(xvs_fdb_age(fdb, now), ref_age(&ref, now));
			break;
		default:
			/* a reader hit refreshes the entry, at most once a second */
			e = ref_find(&ref, n, vid);
			found = xvs_fdb_lookup(fdb, mac, vid, &hit);
			assert_int_equal(found, e != NULL);
			if (e != NULL) {
				assert_int_equal(hit.port, e->port);
				assert_int_equal(hit.is_static, e->is_static);
				xvs_fdb_touch(fdb, &hit, now);
				if (!e->is_static && now > e->last_seen &&
				    now - e->last_seen > NS)
					e->last_seen = now;
			}
			break;
		}

		/* every so often, compare every possible lookup */
		if (op % 1000 == 0) {
			for (uint32_t m = 1; m <= nmacs; m++) {
				for (uint16_t v = 1; v <= nvids; v++) {
					mac_of(m, mac);
					e = ref_find(&ref, m, v);
					found = xvs_fdb_lookup(fdb, mac, v, &hit);
					assert_int_equal(found, e != NULL);
					if (e != NULL)
						assert_int_equal(hit.port, e->port);
				}
			}
			xvs_fdb_get_stats(fdb, &st);
			assert_int_equal(st.entries, ref.count);
			for (uint16_t p = 0; p < REF_PORTS; p++)
				assert_int_equal(port_learned(fdb, p), ref_learned(&ref, p));
		}
	}
	xvs_fdb_destroy(fdb);
	free(ref.e);
}

static void
test_fdb_random_vs_reference_small(void **state)
{
	(void)state;
	static const uint32_t limits[REF_PORTS] = {1, 2, 3, 0, 5, 0, 2, 4};

	/* more keys than room: exercises -ENOSPC constantly */
	random_vs_reference(16, 24, 2, 50000, 1, NULL);
	random_vs_reference(1, 3, 1, 5000, 2, NULL);
	/* per-port limits below the table's room: -EDQUOT and refused moves */
	random_vs_reference(32, 24, 2, 50000, 4, limits);
	random_vs_reference(12, 24, 2, 50000, 5, limits);
}

static void
test_fdb_random_vs_reference_large(void **state)
{
	(void)state;
	static const uint32_t limits[REF_PORTS] = {40, 0, 100, 7, 0, 60, 1, 150};

	random_vs_reference(500, 400, 3, 100000, 3, NULL);
	random_vs_reference(500, 400, 3, 100000, 6, limits);
}

/* ---- one writer, one reader ---- */

#define CONC_KEYS 512

struct conc {
	struct xvs_fdb *fdb;
	uint32_t stop;      /* atomic: writer done */
	uint64_t lookups;   /* reader's count */
	uint64_t hits;      /* reader's hits */
	uint64_t bad;       /* reader saw a port never associated with the key */
};

/* The only two ports key n is ever associated with. */
static inline uint16_t
conc_port(uint32_t n, int alt)
{
	return (uint16_t)((n * 37 + 11) % 4000 * 2 + alt);
}

static void *
conc_reader(void *arg)
{
	struct conc *c = arg;
	struct xvs_fdb_hit hit;
	uint8_t mac[6];
	uint32_t n = 0;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		n = (n + 7) % CONC_KEYS;
		mac_of(n, mac);
		c->lookups++;
		if (!xvs_fdb_lookup(c->fdb, mac, 1, &hit))
			continue;
		c->hits++;
		if (hit.port != conc_port(n, 0) && hit.port != conc_port(n, 1))
			c->bad++;
		xvs_fdb_touch(c->fdb, &hit, c->lookups * NS);
	}
	return NULL;
}

static void
test_fdb_concurrent_reader_sees_no_torn_entry(void **state)
{
	struct conc c = {0};
	pthread_t reader;
	uint8_t mac[6];
	uint32_t n;

	(void)state;
	/* small table: slots are reused by different keys all the time */
	c.fdb = mk(CONC_KEYS / 2, 0);
	rng_state = 99;
	assert_int_equal(pthread_create(&reader, NULL, conc_reader, &c), 0);
	for (uint32_t i = 0; i < 400000; i++) {
		n = rnd(CONC_KEYS);
		mac_of(n, mac);
		switch (rnd(4)) {
		case 0:
			xvs_fdb_del(c.fdb, mac, 1);
			break;
		case 1:
			xvs_fdb_flush(c.fdb, conc_port(n, rnd(2)), -1, false);
			break;
		default:
			xvs_fdb_learn(c.fdb, mac, 1, conc_port(n, rnd(2)), i);
			break;
		}
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(reader, NULL), 0);
	print_message("reader: %llu lookups, %llu hits\n", (unsigned long long)c.lookups,
		      (unsigned long long)c.hits);
	assert_int_equal(c.bad, 0);
	assert_true(c.lookups > 0);
	xvs_fdb_destroy(c.fdb);
}

/* A prepared key finds exactly what a plain lookup finds. */
static void
test_fdb_prepared_key_matches_lookup(void **state)
{
	struct xvs_fdb_params p = {.max_entries = 512, .aging_ns = 0};
	struct xvs_fdb *fdb;
	/* 8 bytes, as in a frame header: key_prepare loads two past the MAC,
	 * and they must not change the key. */
	uint8_t mac[8] = {0x02, 0, 0, 0, 0, 0, 0xa5, 0x5a};

	(void)state;
	assert_int_equal(xvs_fdb_create(&p, &fdb, NULL), 0);
	for (int i = 0; i < 400; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		assert_true(xvs_fdb_learn(fdb, mac, (uint16_t)(1 + i % 7), (uint16_t)(i % 5), 1) >= 0);
	}
	for (int i = 0; i < 800; i++) {
		struct xvs_fdb_hit a, b;
		struct xvs_fdb_key k;
		bool fa, fb;

		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		xvs_fdb_key_prepare(fdb, xvs_fdb_key_of(mac, (uint16_t)(1 + i % 7)), &k);
		fa = xvs_fdb_lookup(fdb, mac, (uint16_t)(1 + i % 7), &a);
		fb = xvs_fdb_lookup_key(fdb, &k, &b);
		assert_int_equal(fa, fb);
		assert_int_equal(fa, i < 400);
		if (fa) {
			assert_int_equal(a.port, b.port);
			assert_int_equal(a.slot, b.slot);
			assert_int_equal(b.port, i % 5);
		}
	}
	xvs_fdb_destroy(fdb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdb_prepared_key_matches_lookup),
		cmocka_unit_test(test_fdb_create_invalid_args),
		cmocka_unit_test(test_fdb_create_boundaries),
		cmocka_unit_test(test_fdb_learn_lookup),
		cmocka_unit_test(test_fdb_move_and_refresh),
		cmocka_unit_test(test_fdb_learn_invalid_args),
		cmocka_unit_test(test_fdb_static_wins_over_learning),
		cmocka_unit_test(test_fdb_static_replaces_dynamic),
		cmocka_unit_test(test_fdb_add_static_invalid_args),
		cmocka_unit_test(test_fdb_del),
		cmocka_unit_test(test_fdb_full_table),
		cmocka_unit_test(test_fdb_fills_to_max_entries),
		cmocka_unit_test(test_fdb_aging),
		cmocka_unit_test(test_fdb_aging_disabled),
		cmocka_unit_test(test_fdb_touch_rate_limited),
		cmocka_unit_test(test_fdb_flush),
		cmocka_unit_test(test_fdb_walk),
		cmocka_unit_test(test_fdb_port_limit_boundaries),
		cmocka_unit_test(test_fdb_port_limit_moves),
		cmocka_unit_test(test_fdb_port_limit_refused_move_keeps_age),
		cmocka_unit_test(test_fdb_port_limit_aging_and_flush_free_room),
		cmocka_unit_test(test_fdb_port_limit_static_not_counted),
		cmocka_unit_test(test_fdb_static_conflict_counted_per_port),
		cmocka_unit_test(test_fdb_random_vs_reference_small),
		cmocka_unit_test(test_fdb_random_vs_reference_large),
		cmocka_unit_test(test_fdb_concurrent_reader_sees_no_torn_entry),
		cmocka_unit_test(test_fdb_seq_survives_32768_changes),
		cmocka_unit_test(test_fdb_static_bit_and_port_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

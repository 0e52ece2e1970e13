/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-check of the core's table-driven Toeplitz hash (src/core/rss.c)
 * against DPDK's rte_softrss() and rte_softrss_be() (lib/hash/rte_thash.h,
 * DPDK 22.11). Both are static inline, so this test uses only the header and
 * links nothing from DPDK; meson builds it only where DPDK is found and the
 * datapath is not disabled.
 *
 * rte_softrss(uint32_t *input_tuple, uint32_t input_len, const uint8_t *rss_key)
 * takes input_len 32-bit words in host order (the header's rte_ipv4_tuple is
 * filled with rte_be_to_cpu_32 of the packet fields) and the key as bytes in
 * the order the NIC is given them; rte_softrss_be() takes a key converted by
 * rte_convert_rss_key(). Both read the key as 32-bit words, one word past the
 * input, so keys here are 4-byte aligned and 40 bytes long.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_thash.h>

#include "rss.h"
#include "test_rng.h"

#define N_RANDOM 10000

union rss_key {
	uint8_t b[XVS_RSS_KEY_LEN];
	uint32_t w[XVS_RSS_KEY_LEN / 4];
};

/* The hash input bytes as rte_softrss() words: network order -> host order. */
static void
to_words(const uint8_t *in, size_t len, uint32_t *w)
{
	for (size_t i = 0; i < len / 4; i++) {
		uint32_t be;

		memcpy(&be, in + 4 * i, 4);
		w[i] = ntohl(be);
	}
}

/* Published vectors (acceptance-vectors.md 1.3) first, so a wrong reading of
 * the rte_softrss() input convention fails here and not as a random
 * mismatch below. */
static void
test_rss_dpdk_softrss_published_vectors(void **state)
{
	union rss_key key, conv;
	uint8_t v4[12], v6[36];
	uint32_t w[9];
	struct xvs_rss_table *tbl = *state;

	memcpy(key.b, xvs_rss_default_key, sizeof(key.b));
	rte_convert_rss_key(key.w, conv.w, XVS_RSS_KEY_LEN);

	/* vector 1: 66.9.149.187:2794 -> 161.142.100.80:1766 */
	assert_int_equal(inet_pton(AF_INET, "66.9.149.187", v4), 1);
	assert_int_equal(inet_pton(AF_INET, "161.142.100.80", v4 + 4), 1);
	v4[8] = 2794 >> 8, v4[9] = 2794 & 0xff, v4[10] = 1766 >> 8, v4[11] = 1766 & 0xff;
	to_words(v4, sizeof(v4), w);
	assert_int_equal(w[2], (uint32_t)2794 << 16 | 1766);
	assert_int_equal(rte_softrss(w, RTE_THASH_V4_L3_LEN, key.b), 0x323e8fc2);
	assert_int_equal(rte_softrss(w, RTE_THASH_V4_L4_LEN, key.b), 0x51ccc178);
	assert_int_equal(rte_softrss_be(w, RTE_THASH_V4_L4_LEN, conv.b), 0x51ccc178);
	assert_int_equal(xvs_rss_hash(tbl, v4, 12), 0x51ccc178);

	/* vector 6: 3ffe:2501:200:1fff::7:2794 -> 3ffe:2501:200:3::1:1766 */
	assert_int_equal(inet_pton(AF_INET6, "3ffe:2501:200:1fff::7", v6), 1);
	assert_int_equal(inet_pton(AF_INET6, "3ffe:2501:200:3::1", v6 + 16), 1);
	v6[32] = 2794 >> 8, v6[33] = 2794 & 0xff, v6[34] = 1766 >> 8, v6[35] = 1766 & 0xff;
	to_words(v6, sizeof(v6), w);
	assert_int_equal(rte_softrss(w, RTE_THASH_V6_L3_LEN, key.b), 0x2cc18cd5);
	assert_int_equal(rte_softrss(w, RTE_THASH_V6_L4_LEN, key.b), 0x40207d3d);
	assert_int_equal(rte_softrss_be(w, RTE_THASH_V6_L4_LEN, conv.b), 0x40207d3d);
	assert_int_equal(xvs_rss_hash(tbl, v6, 36), 0x40207d3d);
}

/* N_RANDOM random 12-byte and N_RANDOM random 36-byte inputs under key. */
static void
compare_random(struct xvs_rss_table *tbl, const union rss_key *key)
{
	union rss_key conv;
	uint8_t in[36];
	uint32_t w[9];

	xvs_rss_table_init(tbl, key->b);
	rte_convert_rss_key(key->w, conv.w, XVS_RSS_KEY_LEN);
	for (int i = 0; i < 2 * N_RANDOM; i++) {
		size_t len = i < N_RANDOM ? 12 : 36;
		uint32_t got, want;

		for (size_t j = 0; j < len; j++)
			in[j] = (uint8_t)rnd32();
		to_words(in, len, w);
		got = xvs_rss_hash(tbl, in, len);
		want = rte_softrss(w, (uint32_t)(len / 4), key->b);
		if (got != want)
			fail_msg("input %d (%zu bytes): table 0x%08x, rte_softrss 0x%08x", i, len,
				 got, want);
		assert_int_equal(rte_softrss_be(w, (uint32_t)(len / 4), conv.b), want);
		assert_int_equal(xvs_toeplitz_ref(key->b, in, len), want);
	}
}

static void
test_rss_dpdk_softrss_random_default_key(void **state)
{
	union rss_key key;

	memcpy(key.b, xvs_rss_default_key, sizeof(key.b));
	rng_state = 0x243f6a8885a308d3ULL;
	compare_random(*state, &key);
}

static void
test_rss_dpdk_softrss_random_key(void **state)
{
	union rss_key key;

	rng_state = 0x13198a2e03707344ULL;
	for (int k = 0; k < 2; k++) {
		for (size_t j = 0; j < sizeof(key.b); j++)
			key.b[j] = (uint8_t)rnd32();
		compare_random(*state, &key);
	}
}

static int
setup(void **state)
{
	static struct xvs_rss_table tbl;

	xvs_rss_table_init(&tbl, xvs_rss_default_key);
	*state = &tbl;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rss_dpdk_softrss_published_vectors, setup),
		cmocka_unit_test_setup(test_rss_dpdk_softrss_random_default_key, setup),
		cmocka_unit_test_setup(test_rss_dpdk_softrss_random_key, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

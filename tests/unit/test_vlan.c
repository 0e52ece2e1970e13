/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/vlan.c: access/trunk ingress and egress rules, VLAN
 * list parsing and formatting (round trip), and whole-config validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vlan.h"

static void
trunk(struct xvs_vlan_cfg *cfg, const char *list, uint16_t native)
{
	xvs_vlan_cfg_init(cfg);
	cfg->mode = XVS_VLAN_TRUNK;
	cfg->native_vid = native;
	assert_int_equal(xvs_vlan_list_parse("trunks", list, cfg->allowed, NULL), 0);
}

static void
test_vlan_init_defaults(void **state)
{
	struct xvs_vlan_cfg cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	xvs_vlan_cfg_init(&cfg);
	assert_int_equal(cfg.mode, XVS_VLAN_ACCESS);
	assert_int_equal(cfg.access_vid, 1);
	assert_int_equal(cfg.native_vid, 0);
	for (int i = 0; i < XVS_VLAN_WORDS; i++)
		assert_int_equal(cfg.allowed[i], 0);
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "p", NULL), 0);
}

static void
test_vlan_access_ingress(void **state)
{
	struct xvs_vlan_cfg cfg;
	uint16_t vid = 0;

	(void)state;
	xvs_vlan_cfg_init(&cfg);
	cfg.access_vid = 10;
	assert_int_equal(xvs_vlan_ingress(&cfg, false, 0, &vid), XVS_VLAN_PASS);
	assert_int_equal(vid, 10);
	/* priority-tagged is untagged */
	vid = 0;
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 0, &vid), XVS_VLAN_PASS);
	assert_int_equal(vid, 10);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 10, &vid), XVS_VLAN_DROP_TAGGED_ON_ACCESS);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 20, &vid), XVS_VLAN_DROP_TAGGED_ON_ACCESS);
}

static void
test_vlan_trunk_ingress(void **state)
{
	struct xvs_vlan_cfg cfg;
	uint16_t vid = 0;

	(void)state;
	trunk(&cfg, "10-20,4094", 0);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 10, &vid), XVS_VLAN_PASS);
	assert_int_equal(vid, 10);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 4094, &vid), XVS_VLAN_PASS);
	assert_int_equal(vid, 4094);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 9, &vid), XVS_VLAN_DROP_NOT_ALLOWED);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 21, &vid), XVS_VLAN_DROP_NOT_ALLOWED);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 4095, &vid), XVS_VLAN_DROP_NOT_ALLOWED);
	assert_int_equal(xvs_vlan_ingress(&cfg, false, 0, &vid), XVS_VLAN_DROP_UNTAGGED);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 0, &vid), XVS_VLAN_DROP_UNTAGGED);
}

static void
test_vlan_trunk_native(void **state)
{
	struct xvs_vlan_cfg cfg;
	uint16_t vid = 0;
	bool tagged = true;

	(void)state;
	trunk(&cfg, "10", 99);
	assert_int_equal(xvs_vlan_ingress(&cfg, false, 0, &vid), XVS_VLAN_PASS);
	assert_int_equal(vid, 99);
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 0, &vid), XVS_VLAN_PASS);
	assert_int_equal(vid, 99);
	/* native carried even though not in the list; accepted tagged too */
	assert_true(xvs_vlan_carries(&cfg, 99));
	assert_int_equal(xvs_vlan_ingress(&cfg, true, 99, &vid), XVS_VLAN_PASS);
	assert_true(xvs_vlan_egress(&cfg, 99, &tagged));
	assert_false(tagged);
	assert_true(xvs_vlan_egress(&cfg, 10, &tagged));
	assert_true(tagged);
	assert_false(xvs_vlan_egress(&cfg, 11, &tagged));
}

static void
test_vlan_access_egress(void **state)
{
	struct xvs_vlan_cfg cfg;
	bool tagged = true;

	(void)state;
	xvs_vlan_cfg_init(&cfg);
	cfg.access_vid = 7;
	assert_true(xvs_vlan_egress(&cfg, 7, &tagged));
	assert_false(tagged);
	assert_false(xvs_vlan_egress(&cfg, 8, &tagged));
	assert_false(xvs_vlan_egress(&cfg, 0, &tagged));
}

static void
test_vlan_carries_boundaries(void **state)
{
	struct xvs_vlan_cfg cfg;

	(void)state;
	trunk(&cfg, "1-4094", 0);
	assert_false(xvs_vlan_carries(&cfg, 0));
	assert_true(xvs_vlan_carries(&cfg, 1));
	assert_true(xvs_vlan_carries(&cfg, 4094));
	assert_false(xvs_vlan_carries(&cfg, 4095));
	assert_false(xvs_vlan_carries(&cfg, 65535));
	/* a corrupt bitmap with bit 0 or 4095 set still does not carry them */
	cfg.allowed[0] |= 1;
	cfg.allowed[63] |= UINT64_C(1) << 63;
	assert_false(xvs_vlan_carries(&cfg, 0));
	assert_false(xvs_vlan_carries(&cfg, 4095));
}

static void
test_vlan_list_parse_valid(void **state)
{
	uint64_t bm[XVS_VLAN_WORDS];
	char buf[64];

	(void)state;
	assert_int_equal(xvs_vlan_list_parse("t", "1-10,20,30-40", bm, NULL), 0);
	assert_int_equal(xvs_vlan_list_format(bm, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "1-10,20,30-40");
	/* overlapping and unordered items are merged */
	assert_int_equal(xvs_vlan_list_parse("t", "5,3,4,1-2,2", bm, NULL), 0);
	xvs_vlan_list_format(bm, buf, sizeof(buf));
	assert_string_equal(buf, "1-5");
	assert_int_equal(xvs_vlan_list_parse("t", "7-7", bm, NULL), 0);
	xvs_vlan_list_format(bm, buf, sizeof(buf));
	assert_string_equal(buf, "7");
	assert_int_equal(xvs_vlan_list_parse("t", "1-4094", bm, NULL), 0);
	xvs_vlan_list_format(bm, buf, sizeof(buf));
	assert_string_equal(buf, "1-4094");
	assert_int_equal(xvs_vlan_list_parse("t", "", bm, NULL), 0);
	assert_int_equal(xvs_vlan_list_format(bm, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void
test_vlan_list_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"0", "4095", "5000", "1-4095", "0-5", "10-5", ",", "1,", ",1", "1,,2", "a",
		"1-", "-1", "1--2", " 1", "1 ", "+1", "1.5", "99999999999999999999", "1-2-3",
	};
	uint64_t bm[XVS_VLAN_WORDS];
	struct xvs_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xvs_err_clear(&err);
		if (xvs_vlan_list_parse("port vm1: trunks", bad[i], bm, &err) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(err.code, -EINVAL);
		assert_non_null(strstr(err.msg, "port vm1: trunks"));
	}
	assert_int_equal(xvs_vlan_list_parse("t", NULL, bm, NULL), -EINVAL);
}

static void
test_vlan_list_parse_messages(void **state)
{
	uint64_t bm[XVS_VLAN_WORDS];
	struct xvs_err err;

	(void)state;
	xvs_vlan_list_parse("port vm1: trunks", "10,5000", bm, &err);
	assert_string_equal(err.msg, "port vm1: trunks: VLAN 5000 outside 1-4094");
	xvs_vlan_list_parse("port vm1: trunks", "20-10", bm, &err);
	assert_string_equal(err.msg, "port vm1: trunks: range 20-10 is descending (write 10-20)");
}

static void
test_vlan_list_format_truncates_like_snprintf(void **state)
{
	uint64_t bm[XVS_VLAN_WORDS];
	char buf[6];

	(void)state;
	assert_int_equal(xvs_vlan_list_parse("t", "1-10,20,30-40", bm, NULL), 0);
	assert_int_equal(xvs_vlan_list_format(bm, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "1-10,");
	assert_int_equal(xvs_vlan_list_format(bm, NULL, 0), 13);
	buf[0] = 'x';
	assert_int_equal(xvs_vlan_list_format(bm, buf, 0), 13);
	assert_int_equal(buf[0], 'x');
}

static void
test_vlan_list_round_trip_random(void **state)
{
	uint64_t bm[XVS_VLAN_WORDS], back[XVS_VLAN_WORDS];
	static char buf[20000];
	int n;

	(void)state;
	srand(42);
	for (int iter = 0; iter < 200; iter++) {
		memset(bm, 0, sizeof(bm));
		for (int v = 1; v <= 4094; v++)
			if (rand() % (iter % 7 + 2) == 0)
				bm[v / 64] |= UINT64_C(1) << (v % 64);
		n = xvs_vlan_list_format(bm, buf, sizeof(buf));
		assert_true(n >= 0 && (size_t)n < sizeof(buf));
		assert_int_equal(xvs_vlan_list_parse("t", buf, back, NULL), 0);
		assert_memory_equal(bm, back, sizeof(bm));
	}
}

static void
test_vlan_validate(void **state)
{
	struct xvs_vlan_cfg cfg;
	struct xvs_err err;

	(void)state;
	xvs_vlan_cfg_init(&cfg);
	cfg.access_vid = 0;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "vm1", &err), -EINVAL);
	assert_string_equal(err.msg, "port vm1: vlan 0 outside 1-4094");
	cfg.access_vid = 4095;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "vm1", &err), -EINVAL);
	cfg.access_vid = 4094;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "vm1", &err), 0);

	xvs_vlan_cfg_init(&cfg);
	cfg.mode = XVS_VLAN_TRUNK;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "up0", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port up0: trunk carries no VLAN"));
	cfg.native_vid = 5;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "up0", &err), 0);
	cfg.native_vid = 4095;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "up0", &err), -EINVAL);
	cfg.native_vid = 0;
	cfg.allowed[0] = 1; /* VLAN 0 */
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "up0", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "reserved VLAN 0"));
	cfg.allowed[0] = 2;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "up0", &err), 0);
	cfg.mode = (enum xvs_vlan_mode)7;
	assert_int_equal(xvs_vlan_cfg_validate(&cfg, "up0", &err), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_init_defaults),
		cmocka_unit_test(test_vlan_access_ingress),
		cmocka_unit_test(test_vlan_trunk_ingress),
		cmocka_unit_test(test_vlan_trunk_native),
		cmocka_unit_test(test_vlan_access_egress),
		cmocka_unit_test(test_vlan_carries_boundaries),
		cmocka_unit_test(test_vlan_list_parse_valid),
		cmocka_unit_test(test_vlan_list_parse_invalid),
		cmocka_unit_test(test_vlan_list_parse_messages),
		cmocka_unit_test(test_vlan_list_format_truncates_like_snprintf),
		cmocka_unit_test(test_vlan_list_round_trip_random),
		cmocka_unit_test(test_vlan_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

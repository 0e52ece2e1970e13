/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/port_mtu.c: the MTU limit of each port kind and its
 * message, and the AF_PACKET ring geometry for every MTU against the rules the
 * af_packet PMD and the kernel impose (a block of whole slots and pages, a slot
 * that holds the frame and a spare byte, whole blocks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "port_mtu.h"

static void
test_port_mtu_kind_limits(void **state)
{
	struct xvs_err err;
	const char *limit;

	(void)state;
	for (int k = 0; k < XVS_PORT__MAX; k++) {
		uint32_t max = xvs_port_kind_mtu_max((enum xvs_port_kind)k, &limit);

		assert_true(max >= 1500);
		assert_non_null(limit);
		assert_int_equal(xvs_port_mtu_check("p", (enum xvs_port_kind)k, max, &err), 0);
		assert_int_equal(xvs_port_mtu_check("p", (enum xvs_port_kind)k, max + 1, &err),
				 -EINVAL);
	}
	assert_int_equal(xvs_port_kind_mtu_max(XVS_PORT_AFXDP, NULL), 1774);
	assert_int_equal(xvs_port_kind_mtu_max(XVS_PORT_AFPACKET, NULL), 9000);
	assert_int_equal(xvs_port_kind_mtu_max(XVS_PORT_TAP, NULL), 9000);
	assert_int_equal(xvs_port_mtu_check("up0", XVS_PORT_AFXDP, 9000, &err), -EINVAL);
	assert_string_equal(err.msg, "port up0: mtu 9000 is more than afxdp ports carry (at most "
				     "1774: one 2 KB umem frame per packet)");
	assert_int_equal(xvs_port_kind_mtu_max((enum xvs_port_kind)XVS_PORT__MAX, &limit), 0);
	assert_int_equal(xvs_port_mtu_check("p", (enum xvs_port_kind)XVS_PORT__MAX, 68, NULL),
			 -EINVAL);
}

/* Known answers: 1500 is what the PMD used before (2048/4096/512), 9000 packs 4
 * slots of 9 KB in a 36 KB block. */
static void
test_port_mtu_afp_ring_known(void **state)
{
	struct xvs_afp_ring r;

	(void)state;
	xvs_afp_ring_for_mtu(1500, 4096, &r);
	assert_int_equal(r.framesz, 2048);
	assert_int_equal(r.blocksz, 4096);
	assert_int_equal(r.framecnt, 512);
	xvs_afp_ring_for_mtu(9000, 4096, &r);
	assert_int_equal(r.framesz, 9216);
	assert_int_equal(r.blocksz, 36864);
	assert_int_equal(r.framecnt, 512);
	assert_int_equal(xvs_afp_ring_mtu_max(2048), 1963);
	xvs_afp_ring_for_mtu(1963, 4096, &r);
	assert_int_equal(r.framesz, 2048);
	xvs_afp_ring_for_mtu(1964, 4096, &r);
	assert_int_equal(r.framesz, 3072);
	assert_int_equal(r.blocksz, 12288);
}

/* Every MTU, 4 KB and 64 KB pages: the rules, and no slot larger than needed. */
static void
test_port_mtu_afp_ring_every_mtu(void **state)
{
	static const uint32_t pages[] = {4096, 16384, 65536};

	(void)state;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		for (uint32_t mtu = 68; mtu <= 9000; mtu++) {
			struct xvs_afp_ring r;
			uint32_t need = XVS_AFP_MAC_OFF + XVS_FRAME_MAX(mtu) + 1;

			xvs_afp_ring_for_mtu(mtu, pages[i], &r);
			if (r.framesz % 1024 != 0 || r.framesz < need || r.framesz < 2048 ||
			    (r.framesz > 2048 && r.framesz - 1024 >= need) ||
			    r.blocksz % pages[i] != 0 || r.blocksz % r.framesz != 0 ||
			    r.framecnt % (r.blocksz / r.framesz) != 0 ||
			    r.framecnt < XVS_AFP_FRAMES ||
			    r.framecnt >= XVS_AFP_FRAMES + r.blocksz / r.framesz ||
			    xvs_afp_ring_mtu_max(r.framesz) < mtu)
				fail_msg("mtu %u page %u: framesz %u blocksz %u framecnt %u", mtu,
					 pages[i], r.framesz, r.blocksz, r.framecnt);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_mtu_kind_limits),
		cmocka_unit_test(test_port_mtu_afp_ring_known),
		cmocka_unit_test(test_port_mtu_afp_ring_every_mtu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

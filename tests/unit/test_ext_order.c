/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/ext_order.c: descriptor validation (ABI version and
 * size, names, kinds, ops), and the stage order: kind order per place,
 * constraints, registration order as the tie-break, absent peers, cycles,
 * cross-kind contradictions, and a randomized check that every constraint of
 * an acyclic random set is honoured.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ext_order.h"
#include "test_rng.h"

static void
nop_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	(void)ctx, (void)b, (void)verdict, (void)reason;
}

static int
nop_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *e,
	     size_t l)
{
	return 0;
}

static int
nop_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
	  char *e, size_t l)
{
	return 0;
}

static void
nop_free(void *ctx, void *state)
{
}

static struct xvs_ext_ops ops;
static const char *const counters[] = {"offers_seen", NULL};
static const char *const reasons[] = {"dhcp_server", NULL};

static struct xvs_ext_desc
good_desc(void)
{
	struct xvs_ext_desc d = {
		.abi_version = XVS_EXT_ABI_VERSION,
		.size = sizeof(struct xvs_ext_desc),
		.name = "dhcp_guard",
		.kind = XVS_EXT_FILTER,
		.places = XVS_EXT_INGRESS,
		.counters = counters,
		.drop_reasons = reasons,
		.ops = &ops,
	};

	memset(&ops, 0, sizeof(ops));
	ops.size = sizeof(ops);
	ops.process = nop_process;
	return d;
}

static void
test_ext_order_desc_good(void **state)
{
	struct xvs_ext_desc d = good_desc();
	struct xvs_err err;

	(void)state;
	xvs_err_clear(&err);
	assert_int_equal(xvs_ext_desc_check(&d, &err), 0);
	assert_int_equal(err.code, 0);
	ops.config_validate = nop_validate;
	ops.config_apply = nop_apply;
	ops.state_free = nop_free;
	assert_int_equal(xvs_ext_desc_check(&d, &err), 0);
}

static void
test_ext_order_desc_abi_version(void **state)
{
	struct xvs_ext_desc d = good_desc();
	struct xvs_err err;

	(void)state;
	d.abi_version = 2;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "ABI version 2, xvsd supports 1"));
	assert_int_equal(xvs_ext_desc_check(NULL, &err), -EINVAL);
}

static void
test_ext_order_desc_size(void **state)
{
	struct {
		struct xvs_ext_desc d;
		uint8_t newer[16];
	} big;
	struct xvs_ext_desc d = good_desc();
	struct xvs_err err;

	(void)state;
	d.size = XVS_EXT_DESC_SIZE_V1 - 1;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "below the ABI 1 minimum"));
	d.size = XVS_EXT_DESC_SIZE_V1;
	assert_int_equal(xvs_ext_desc_check(&d, &err), 0);

	/* Built against a newer header: fine while the unknown tail is zero. */
	memset(&big, 0, sizeof(big));
	big.d = good_desc();
	big.d.size = sizeof(big);
	assert_int_equal(xvs_ext_desc_check(&big.d, &err), 0);
	big.newer[15] = 1;
	assert_int_equal(xvs_ext_desc_check(&big.d, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "upgrade xvsd"));
	assert_non_null(strstr(err.msg, "'dhcp_guard'"));
}

static void
test_ext_order_desc_ops(void **state)
{
	struct xvs_ext_desc d = good_desc();
	struct xvs_err err;

	(void)state;
	ops.process = NULL;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "process is required"));
	ops.process = nop_process;
	ops.size = XVS_EXT_OPS_SIZE_V1 - 1;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EPROTO);
	ops.size = sizeof(ops);
	ops.config_validate = nop_validate;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "go together"));
	ops.config_apply = nop_apply;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "state_free"));
	d.ops = NULL;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
}

static void
test_ext_order_desc_names_and_kinds(void **state)
{
	static const char *const bad_counter[] = {"ok", "Bad", NULL};
	static const char *const dup_reason[] = {"a", "a", NULL};
	static const char *const bad_before[] = {"9lives", NULL};
	struct xvs_ext_desc d;
	struct xvs_err err;

	(void)state;
	assert_true(xvs_ext_name_ok("a"));
	assert_true(xvs_ext_name_ok("mac_guard2"));
	assert_true(xvs_ext_name_ok("abcdefghijklmnopqrstuvwxyz01234")); /* 31 */
	assert_false(xvs_ext_name_ok("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_false(xvs_ext_name_ok(""));
	assert_false(xvs_ext_name_ok("_x"));
	assert_false(xvs_ext_name_ok("mac-guard"));
	assert_false(xvs_ext_name_ok(NULL));

	d = good_desc();
	d.name = "DHCP";
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'DHCP'"));
	d = good_desc();
	d.name = NULL;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	d = good_desc();
	d.kind = 4;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	d = good_desc();
	d.places = 0;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	d.places = 4;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	d = good_desc();
	d.kind = XVS_EXT_FORWARD;
	d.places = XVS_EXT_BOTH;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "ingress only"));
	d = good_desc();
	d.flags = 1;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	d = good_desc();
	d.counters = bad_counter;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "counters 'Bad'"));
	d = good_desc();
	d.drop_reasons = dup_reason;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	d = good_desc();
	d.runs_before = bad_before;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
}

static void
test_ext_order_desc_too_many_counters(void **state)
{
	static char names[XVS_EXT_MAX_COUNTERS + 1][8];
	static const char *list[XVS_EXT_MAX_COUNTERS + 2];
	struct xvs_ext_desc d = good_desc();
	struct xvs_err err;
	int i;

	(void)state;
	for (i = 0; i <= XVS_EXT_MAX_COUNTERS; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		list[i] = names[i];
	}
	list[XVS_EXT_MAX_COUNTERS] = NULL;
	d.counters = list;
	assert_int_equal(xvs_ext_desc_check(&d, &err), 0);
	list[XVS_EXT_MAX_COUNTERS] = names[XVS_EXT_MAX_COUNTERS];
	list[XVS_EXT_MAX_COUNTERS + 1] = NULL;
	assert_int_equal(xvs_ext_desc_check(&d, &err), -EINVAL);
}

/* Order as names joined by spaces, for readable comparisons. */
static const char *
order_str(const struct xvs_ext_order_in *e, const struct xvs_ext_order *o)
{
	static char buf[512];
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < o->n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "",
					e[o->idx[i]].name);
	return buf;
}

static void
test_ext_order_kind_order_and_registration(void **state)
{
	struct xvs_ext_order_in e[] = {
		{"acl", XVS_EXT_FILTER, XVS_EXT_BOTH, NULL, NULL},
		{"l2", XVS_EXT_FORWARD, XVS_EXT_INGRESS, NULL, NULL},
		{"pcap", XVS_EXT_CAPTURE, XVS_EXT_BOTH, NULL, NULL},
		{"mac_guard", XVS_EXT_FILTER, XVS_EXT_INGRESS, NULL, NULL},
		{"stats", XVS_EXT_CAPTURE, XVS_EXT_EGRESS, NULL, NULL},
		{"qos_mark", XVS_EXT_FILTER, XVS_EXT_EGRESS, NULL, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_ext_order_resolve(e, 6, &in, &out, NULL, NULL, &err), 0);
	assert_string_equal(order_str(e, &in), "pcap acl mac_guard l2");
	/* Egress: filters after forwarding, capture last (sees what is sent). */
	assert_string_equal(order_str(e, &out), "acl qos_mark pcap stats");
}

static void
test_ext_order_constraints(void **state)
{
	static const char *const before_acl[] = {"acl", NULL};
	static const char *const after_dhcp[] = {"dhcp_guard", NULL};
	struct xvs_ext_order_in e[] = {
		{"acl", XVS_EXT_FILTER, XVS_EXT_BOTH, NULL, after_dhcp},
		{"dhcp_guard", XVS_EXT_FILTER, XVS_EXT_INGRESS, NULL, NULL},
		{"mac_guard", XVS_EXT_FILTER, XVS_EXT_INGRESS, before_acl, NULL},
		{"storm", XVS_EXT_FILTER, XVS_EXT_EGRESS, before_acl, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_ext_order_resolve(e, 4, &in, &out, NULL, NULL, &err), 0);
	assert_string_equal(order_str(e, &in), "dhcp_guard mac_guard acl");
	assert_string_equal(order_str(e, &out), "storm acl");
}

static void
note_count(void *arg, const char *msg)
{
	int *n = arg;

	if (strstr(msg, "'mirror' is not loaded; ignored") != NULL)
		(*n)++;
}

static void
test_ext_order_absent_peer_is_ignored_with_note(void **state)
{
	static const char *const before_mirror[] = {"mirror", NULL};
	struct xvs_ext_order_in e[] = {
		{"b", XVS_EXT_FILTER, XVS_EXT_INGRESS, NULL, before_mirror},
		{"a", XVS_EXT_FILTER, XVS_EXT_INGRESS, before_mirror, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;
	int notes = 0;

	(void)state;
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, note_count, &notes, &err), 0);
	assert_int_equal(notes, 2);
	assert_string_equal(order_str(e, &in), "b a");
	assert_int_equal(out.n, 0);
	/* No note callback is fine too. */
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), 0);
}

static void
test_ext_order_cycle_is_refused(void **state)
{
	static const char *const before_b[] = {"b", NULL};
	static const char *const before_c[] = {"c", NULL};
	static const char *const after_c[] = {"c", NULL};
	struct xvs_ext_order_in e[] = {
		{"x", XVS_EXT_FILTER, XVS_EXT_INGRESS, NULL, NULL},
		{"a", XVS_EXT_FILTER, XVS_EXT_BOTH, before_b, NULL},
		{"b", XVS_EXT_FILTER, XVS_EXT_BOTH, before_c, NULL},
		{"c", XVS_EXT_FILTER, XVS_EXT_EGRESS, NULL, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;

	(void)state;
	/* a -> b -> c, c only on egress: acyclic. */
	assert_int_equal(xvs_ext_order_resolve(e, 4, &in, &out, NULL, NULL, &err), 0);
	assert_string_equal(order_str(e, &out), "a b c");
	/* c runs_after... no: a runs_after c closes a -> b -> c -> a on egress. */
	e[1].runs_after = after_c;
	assert_int_equal(xvs_ext_order_resolve(e, 4, &in, &out, NULL, NULL, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "egress"));
	assert_non_null(strstr(err.msg, "a -> b -> c -> a"));
}

static void
test_ext_order_self_cycle(void **state)
{
	static const char *const before_self[] = {"a", NULL};
	struct xvs_ext_order_in e[] = {
		{"a", XVS_EXT_CAPTURE, XVS_EXT_INGRESS, before_self, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_ext_order_resolve(e, 1, &in, &out, NULL, NULL, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "a -> a"));
}

static void
test_ext_order_cross_kind(void **state)
{
	static const char *const before_cap[] = {"cap", NULL};
	static const char *const after_filt[] = {"filt", NULL};
	struct xvs_ext_order_in e[] = {
		{"cap", XVS_EXT_CAPTURE, XVS_EXT_INGRESS, NULL, NULL},
		{"filt", XVS_EXT_FILTER, XVS_EXT_INGRESS, NULL, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;

	(void)state;
	/* Agrees with the kind order on ingress: accepted. */
	e[1].runs_after = before_cap;
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), 0);
	assert_string_equal(order_str(e, &in), "cap filt");
	/* Contradicts it: refused, saying why. */
	e[1].runs_after = NULL;
	e[1].runs_before = before_cap;
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'filt' runs_before 'cap'"));
	assert_non_null(strstr(err.msg, "on ingress"));
	/* On egress the kind order flips: capture after filter is right there. */
	e[0].places = XVS_EXT_EGRESS;
	e[1].places = XVS_EXT_EGRESS;
	e[1].runs_before = before_cap;
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), 0);
	e[1].runs_before = NULL;
	e[0].runs_before = (const char *const *)after_filt;
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "on egress"));
}

static void
test_ext_order_invalid_sets(void **state)
{
	struct xvs_ext_order_in e[] = {
		{"l2", XVS_EXT_FORWARD, XVS_EXT_INGRESS, NULL, NULL},
		{"mine", XVS_EXT_FORWARD, XVS_EXT_INGRESS, NULL, NULL},
	};
	struct xvs_ext_order in, out;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'l2' and 'mine' are both forward"));
	e[1].kind = XVS_EXT_FILTER;
	e[1].name = "l2";
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), -EEXIST);
	e[1].name = "bad name";
	assert_int_equal(xvs_ext_order_resolve(e, 2, &in, &out, NULL, NULL, &err), -EINVAL);
	assert_int_equal(xvs_ext_order_resolve(NULL, 1, &in, &out, NULL, NULL, &err), -EINVAL);
	assert_int_equal(xvs_ext_order_resolve(e, 1, NULL, &out, NULL, NULL, &err), -EINVAL);
	assert_int_equal(xvs_ext_order_resolve(e, XVS_EXT_MAX + 1, &in, &out, NULL, NULL, &err),
			 -EINVAL);
	assert_int_equal(xvs_ext_order_resolve(NULL, 0, &in, &out, NULL, NULL, &err), 0);
	assert_int_equal(in.n, 0);
}

/* Random acyclic constraint sets (edges only from a lower to a higher rank of
 * a hidden random permutation): every constraint holds in the result, every
 * member appears exactly once, and kinds are in their place's order. */
static void
test_ext_order_random_constraints_hold(void **state)
{
	static char names[XVS_EXT_MAX][8];
	static const char *lists[XVS_EXT_MAX][2][5];
	struct xvs_ext_order_in e[XVS_EXT_MAX];
	struct xvs_ext_order in, out;
	struct xvs_err err;
	int iter;

	(void)state;
	rng_state = 0x5eed0e47;
	for (iter = 0; iter < 300; iter++) {
		unsigned n = 1 + rnd(XVS_EXT_MAX), perm[XVS_EXT_MAX], pos_in[XVS_EXT_MAX];
		unsigned pos_out[XVS_EXT_MAX], i, k, l;

		for (i = 0; i < n; i++)
			perm[i] = i;
		for (i = n - 1; i > 0; i--) {
			unsigned j = rnd(i + 1), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "e%u", i);
			e[i].name = names[i];
			e[i].kind = rnd(2) ? XVS_EXT_FILTER : XVS_EXT_CAPTURE;
			e[i].places = 1 + rnd(3);
		}
		for (i = 0; i < n; i++) {
			for (l = 0; l < 2; l++) {
				unsigned m = 0, c = rnd(4);

				for (k = 0; k < c; k++) {
					unsigned j = rnd(n);

					/* before: perm[i] < perm[j]; after: perm[j] < perm[i] */
					/* Cross-kind constraints have their own test. */
					if (j == i || e[i].kind != e[j].kind ||
					    (l == 0) != (perm[i] < perm[j]))
						continue;
					lists[i][l][m++] = names[j];
				}
				if (rnd(8) == 0)
					lists[i][l][m++] = "absent";
				lists[i][l][m] = NULL;
			}
			e[i].runs_before = lists[i][0];
			e[i].runs_after = lists[i][1];
		}
		assert_int_equal(xvs_ext_order_resolve(e, n, &in, &out, NULL, NULL, &err), 0);

		for (i = 0; i < n; i++)
			pos_in[i] = pos_out[i] = UINT32_MAX;
		for (i = 0; i < in.n; i++) {
			assert_int_equal(pos_in[in.idx[i]], UINT32_MAX);
			pos_in[in.idx[i]] = i;
			if (i > 0)
				assert_true(e[in.idx[i - 1]].kind <= e[in.idx[i]].kind);
		}
		for (i = 0; i < out.n; i++) {
			assert_int_equal(pos_out[out.idx[i]], UINT32_MAX);
			pos_out[out.idx[i]] = i;
			if (i > 0)
				assert_true(e[out.idx[i - 1]].kind >= e[out.idx[i]].kind);
		}
		for (i = 0; i < n; i++) {
			assert_int_equal(pos_in[i] != UINT32_MAX, (e[i].places & 1) != 0);
			assert_int_equal(pos_out[i] != UINT32_MAX, (e[i].places & 2) != 0);
			for (l = 0; l < 2; l++) {
				for (k = 0; lists[i][l][k] != NULL; k++) {
					unsigned j;

					if (sscanf(lists[i][l][k], "e%u", &j) != 1)
						continue;
					if (e[i].kind != e[j].kind)
						continue;
					if (pos_in[i] != UINT32_MAX && pos_in[j] != UINT32_MAX)
						assert_true((pos_in[i] < pos_in[j]) == (l == 0));
					if (pos_out[i] != UINT32_MAX && pos_out[j] != UINT32_MAX)
						assert_true((pos_out[i] < pos_out[j]) == (l == 0));
				}
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext_order_desc_good),
		cmocka_unit_test(test_ext_order_desc_abi_version),
		cmocka_unit_test(test_ext_order_desc_size),
		cmocka_unit_test(test_ext_order_desc_ops),
		cmocka_unit_test(test_ext_order_desc_names_and_kinds),
		cmocka_unit_test(test_ext_order_desc_too_many_counters),
		cmocka_unit_test(test_ext_order_kind_order_and_registration),
		cmocka_unit_test(test_ext_order_constraints),
		cmocka_unit_test(test_ext_order_absent_peer_is_ignored_with_note),
		cmocka_unit_test(test_ext_order_cycle_is_refused),
		cmocka_unit_test(test_ext_order_self_cycle),
		cmocka_unit_test(test_ext_order_cross_kind),
		cmocka_unit_test(test_ext_order_invalid_sets),
		cmocka_unit_test(test_ext_order_random_constraints_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

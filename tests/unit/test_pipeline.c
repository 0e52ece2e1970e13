/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the stage registry (src/dp/pipeline.c, DPDK-free): register
 * and refuse, order per port and place, port enable and its refusal,
 * settings validate/apply and the lifetime of replaced states and removed
 * stages across fill + reclaim, per-worker counters summed and named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "pipeline.h"

/* ---- a configurable test stage ---- */

static int n_init, n_fini, n_freed, n_enable_calls;
static int live_states;

static void
nop_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
}

static int
t_init(const struct xvs_ext_host *host, void **ctx)
{
	n_init++;
	*ctx = &n_init;
	return 0;
}

static void
t_fini(void *ctx)
{
	n_fini++;
}

static int
t_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
	   size_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(kv[i].key, "rate") != 0) {
			snprintf(err, len, "unknown setting '%s'", kv[i].key);
			return -EINVAL;
		}
	return 0;
}

static int
t_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
	char *err, size_t len)
{
	int *s = malloc(sizeof(*s));

	*s = n > 0 ? atoi(kv[0].value) : 0;
	*state = s;
	live_states++;
	return 0;
}

static void
t_free(void *ctx, void *state)
{
	n_freed++;
	live_states--;
	free(state);
}

static int
t_port_enable(void *ctx, const struct xvs_ext_port *port, bool on, char *err, size_t len)
{
	n_enable_calls++;
	if (on && (port->flags & XVS_EXT_PORT_UPLINK)) {
		snprintf(err, len, "port %s is an uplink", port->name);
		return -EPERM;
	}
	return 0;
}

static const struct xvs_ext_ops full_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.init = t_init,
	.fini = t_fini,
	.process = nop_process,
	.config_validate = t_validate,
	.config_apply = t_apply,
	.state_free = t_free,
	.port_enable = t_port_enable,
};

static const struct xvs_ext_ops min_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.process = nop_process,
};

static const char *const ctrs[] = {"seen", "hits", NULL};
static const char *const reasons[] = {"bad", NULL};

#define DESC(nm, k, pl, o, b, a)                                                              \
	{                                                                                      \
		.abi_version = XVS_EXT_ABI_VERSION, .size = sizeof(struct xvs_ext_desc),       \
		.name = nm, .kind = k, .places = pl, .ops = o, .runs_before = b,               \
		.runs_after = a, .counters = ctrs, .drop_reasons = reasons,                   \
	}

static const char *const before_b[] = {"b", NULL};
static const char *const after_c[] = {"c", NULL};

static const struct xvs_ext_desc d_fwd = DESC("fwd", XVS_EXT_FORWARD, XVS_EXT_INGRESS, &min_ops,
					      NULL, NULL);
static const struct xvs_ext_desc d_a = DESC("a", XVS_EXT_FILTER, XVS_EXT_BOTH, &full_ops,
					    NULL, NULL);
static const struct xvs_ext_desc d_b = DESC("b", XVS_EXT_FILTER, XVS_EXT_INGRESS, &min_ops,
					    NULL, NULL);
static const struct xvs_ext_desc d_c = DESC("c", XVS_EXT_FILTER, XVS_EXT_INGRESS, &min_ops,
					    before_b, NULL);
static const struct xvs_ext_desc d_cap = DESC("cap", XVS_EXT_CAPTURE, XVS_EXT_BOTH, &min_ops,
					      NULL, NULL);
/* b after c is in c's descriptor; "b before c" from this one makes a cycle */
static const char *const before_c[] = {"c", NULL};
static const struct xvs_ext_desc d_loop = DESC("loop", XVS_EXT_FILTER, XVS_EXT_INGRESS,
					       &min_ops, before_c, after_c);

/* Fake workers: two, each with its counters. */
static struct xvs_stage_ctr wctr[2][XVS_STAGES_MAX];

static struct xvs_stage_ctr *
ctr_of(void *arg, unsigned w)
{
	return w < 2 ? wctr[w] : NULL;
}

static int
setup(void **state)
{
	n_init = n_fini = n_freed = n_enable_calls = live_states = 0;
	memset(wctr, 0xee, sizeof(wctr)); /* register must zero its id's counters */
	xvs_stage_set_counters(ctr_of, NULL);
	return 0;
}

static int
teardown(void **state)
{
	xvs_stage_registry_clear();
	assert_int_equal(live_states, 0);
	return 0;
}

static void
reg_ok(const struct xvs_ext_desc *d, void *dl)
{
	struct xvs_err err;

	xvs_err_clear(&err);
	assert_int_equal(xvs_stage_register(d, dl, dl != NULL ? "/x.so" : NULL, &err), 0);
}

static void
enable(const char *name, uint16_t slot, bool on)
{
	struct xvs_err err;

	assert_int_equal(xvs_stage_port_enable(xvs_stage_find(name), slot, "p", on, &err), 0);
}

static void
test_pipeline_register_and_find(void **state)
{
	struct xvs_err err;
	struct xvs_ext_desc bad = d_b;

	reg_ok(&d_fwd, NULL);
	reg_ok(&d_a, NULL);
	assert_int_equal(n_init, 1);
	assert_int_equal(xvs_stage_count(), 2);
	assert_ptr_equal(xvs_stage_desc(xvs_stage_at(1)), &d_a);
	assert_null(xvs_stage_at(2));
	assert_string_equal(xvs_stage_origin(xvs_stage_find("a")), "built-in");
	assert_ptr_equal(xvs_stage_forward(), xvs_stage_find("fwd"));
	/* duplicate */
	assert_int_equal(xvs_stage_register(&d_a, NULL, NULL, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "'a'"));
	/* bad descriptor */
	bad.abi_version = 2;
	assert_int_equal(xvs_stage_register(&bad, NULL, NULL, &err), -EPROTO);
	/* a second forward */
	bad = d_fwd;
	bad.name = "fwd2";
	assert_int_equal(xvs_stage_register(&bad, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "forward"));
	assert_int_equal(xvs_stage_count(), 2);
	/* built-ins stay */
	assert_int_equal(xvs_stage_unregister("a", &err), -EPERM);
	assert_int_equal(xvs_stage_unregister("zz", &err), -ENOENT);
}

static void
test_pipeline_cycle_refused(void **state)
{
	struct xvs_err err;

	reg_ok(&d_b, NULL);
	reg_ok(&d_c, NULL);
	assert_int_equal(xvs_stage_register(&d_loop, NULL, NULL, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "->"));
	assert_null(xvs_stage_find("loop"));
	assert_int_equal(xvs_stage_count(), 2);
	/* operator rule making a cycle */
	assert_int_equal(xvs_stage_order_add("b", true, "c", &err), -ELOOP);
	assert_int_equal(xvs_stage_order_add("b", true, "nope", &err), -ENOENT);
	assert_int_equal(xvs_stage_order_add("b", true, "b", &err), -EINVAL);
}

static void
test_pipeline_fill_order(void **state)
{
	struct xvs_snap_pipeline pipe;
	struct xvs_err err;

	reg_ok(&d_fwd, NULL);
	reg_ok(&d_b, NULL);
	reg_ok(&d_a, NULL);
	reg_ok(&d_c, NULL);   /* c before b */
	reg_ok(&d_cap, NULL); /* capture first on ingress, last on egress */
	enable("a", 3, true);
	enable("b", 3, true);
	enable("c", 3, true);
	enable("cap", 3, true);
	enable("b", 4, true);
	assert_int_equal(xvs_stage_port_enable(xvs_stage_find("fwd"), 3, "p", true, &err),
			 -EINVAL);

	xvs_stage_fill_port(3, &pipe);
	assert_int_equal(pipe.n_in, 4);
	assert_string_equal(pipe.in[0].desc->name, "cap");
	assert_string_equal(pipe.in[1].desc->name, "a");
	assert_string_equal(pipe.in[2].desc->name, "c");
	assert_string_equal(pipe.in[3].desc->name, "b");
	assert_int_equal(pipe.n_out, 2);
	assert_string_equal(pipe.out[0].desc->name, "a");
	assert_string_equal(pipe.out[1].desc->name, "cap");
	assert_ptr_equal(pipe.in[1].ctx, &n_init);
	assert_int_equal(pipe.in[1].id, xvs_stage_id(xvs_stage_find("a")));

	xvs_stage_fill_port(4, &pipe);
	assert_int_equal(pipe.n_in, 1);
	assert_int_equal(pipe.n_out, 0);
	xvs_stage_fill_port(5, &pipe);
	assert_int_equal(pipe.n_in + pipe.n_out, 0);

	/* operator order: a after b */
	assert_int_equal(xvs_stage_order_add("a", false, "b", &err), 0);
	xvs_stage_fill_port(3, &pipe);
	assert_string_equal(pipe.in[1].desc->name, "c");
	assert_string_equal(pipe.in[2].desc->name, "b");
	assert_string_equal(pipe.in[3].desc->name, "a");

	/* disabled: leaves the port, keeps its enablement */
	xvs_stage_set_disabled(xvs_stage_find("c"), true, "crashed");
	assert_true(xvs_stage_disabled(xvs_stage_find("c")));
	assert_string_equal(xvs_stage_disabled_why(xvs_stage_find("c")), "crashed");
	xvs_stage_fill_port(3, &pipe);
	assert_int_equal(pipe.n_in, 3);
	xvs_stage_set_disabled(xvs_stage_find("c"), false, NULL);
	xvs_stage_fill_port(3, &pipe);
	assert_int_equal(pipe.n_in, 4);

	enable("c", 3, false);
	assert_false(xvs_stage_port_enabled(xvs_stage_find("c"), 3));
	xvs_stage_fill_port(3, &pipe);
	assert_int_equal(pipe.n_in, 3);
}

static void
test_pipeline_port_refused(void **state)
{
	struct xvs_snap_pipeline pipe;
	struct xvs_err err;

	reg_ok(&d_a, NULL);
	xvs_stage_port_set_flags(7, XVS_EXT_PORT_UPLINK);
	assert_int_equal(xvs_stage_port_enable(xvs_stage_find("a"), 7, "up0", true, &err),
			 -EPERM);
	assert_string_equal(err.msg, "port up0 is an uplink");
	assert_false(xvs_stage_port_enabled(xvs_stage_find("a"), 7));
	xvs_stage_fill_port(7, &pipe);
	assert_int_equal(pipe.n_in, 0);
	/* the slot goes to a VM port */
	xvs_stage_port_removed(7, "up0");
	enable("a", 7, true);
	assert_true(xvs_stage_port_enabled(xvs_stage_find("a"), 7));
	n_enable_calls = 0;
	xvs_stage_port_removed(7, "vm1");
	assert_int_equal(n_enable_calls, 1);
	assert_false(xvs_stage_port_enabled(xvs_stage_find("a"), 7));
}

static void
test_pipeline_states(void **state)
{
	struct xvs_ext_kv kv[] = {{"rate", "5"}}, bad[] = {{"speed", "1"}};
	struct xvs_snap_pipeline pipe;
	struct xvs_stage *a;
	struct xvs_err err;

	reg_ok(&d_a, NULL);
	reg_ok(&d_b, NULL);
	a = xvs_stage_find("a");
	enable("a", 2, true);
	/* validate only: no state */
	assert_int_equal(xvs_stage_configure(a, 2, kv, 1, false, &err), 0);
	assert_null(xvs_stage_port_state(a, 2));
	assert_int_equal(xvs_stage_configure(a, 2, bad, 1, true, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown setting 'speed'");
	assert_int_equal(live_states, 0);
	/* a stage without config hooks takes no settings */
	assert_int_equal(xvs_stage_configure(xvs_stage_find("b"), 2, kv, 1, false, &err),
			 -EINVAL);
	assert_int_equal(xvs_stage_configure(xvs_stage_find("b"), 2, NULL, 0, true, &err), 0);

	assert_int_equal(xvs_stage_configure(a, 2, kv, 1, true, &err), 0);
	assert_int_equal(*(const int *)xvs_stage_port_state(a, 2), 5);
	xvs_stage_fill_port(2, &pipe);
	assert_ptr_equal(pipe.in[0].state, xvs_stage_port_state(a, 2));
	assert_ptr_equal(pipe.out[0].state, xvs_stage_port_state(a, 2));
	xvs_stage_reclaim();
	assert_int_equal(n_freed, 0);

	/* replaced: the old state lives until a fill and a reclaim */
	kv[0].value = "7";
	assert_int_equal(xvs_stage_configure(a, 2, kv, 1, true, &err), 0);
	xvs_stage_reclaim();
	assert_int_equal(n_freed, 0);
	xvs_stage_fill_port(2, &pipe);
	assert_int_equal(*(const int *)pipe.in[0].state, 7);
	xvs_stage_reclaim();
	assert_int_equal(n_freed, 1);
	assert_int_equal(live_states, 1);

	/* global state stands in where the port has none */
	assert_int_equal(xvs_stage_configure(a, XVS_EXT_PORT_NONE, kv, 1, true, &err), 0);
	enable("a", 9, true);
	xvs_stage_fill_port(9, &pipe);
	assert_ptr_equal(pipe.in[0].state, xvs_stage_port_state(a, XVS_EXT_PORT_NONE));

	/* a removed port's state goes after the next fill */
	xvs_stage_port_removed(2, "vm1");
	assert_null(xvs_stage_port_state(a, 2));
	xvs_stage_reclaim();
	assert_int_equal(n_freed, 1);
	xvs_stage_fill_port(9, &pipe);
	xvs_stage_reclaim();
	assert_int_equal(n_freed, 2);
}

static void
test_pipeline_unregister_lifetime(void **state)
{
	struct xvs_ext_kv kv[] = {{"rate", "1"}};
	struct xvs_snap_pipeline pipe;
	struct xvs_err err;
	uint16_t id;

	/* A "loaded" stage: dl must be a real handle for dlclose; use the
	 * main program's. */
	void *self = dlopen(NULL, RTLD_NOW);

	assert_non_null(self);
	reg_ok(&d_a, self);
	id = xvs_stage_id(xvs_stage_find("a"));
	wctr[0][id].v[0] = 3;
	enable("a", 1, true);
	assert_int_equal(xvs_stage_configure(xvs_stage_find("a"), 1, kv, 1, true, &err), 0);
	xvs_stage_fill_port(1, &pipe);
	assert_int_equal(pipe.n_in, 1);

	assert_int_equal(xvs_stage_unregister("a", &err), 0);
	assert_null(xvs_stage_find("a"));
	assert_int_equal(xvs_stage_count(), 0);
	xvs_stage_reclaim(); /* no fill yet: the snapshot may still hold it */
	assert_int_equal(n_fini, 0);
	assert_int_equal(live_states, 1);
	xvs_stage_fill_port(1, &pipe);
	assert_int_equal(pipe.n_in, 0);
	xvs_stage_reclaim();
	assert_int_equal(n_fini, 1);
	assert_int_equal(live_states, 0);
	assert_int_equal(wctr[0][id].v[0], 0);

	/* Removed while no port is open: a snapshot without ports is built (no
	 * fill), and that is enough. */
	reg_ok(&d_a, dlopen(NULL, RTLD_NOW));
	assert_int_equal(xvs_stage_unregister("a", &err), 0);
	xvs_stage_reclaim();
	assert_int_equal(n_fini, 1);
	xvs_stage_snapshot_built();
	xvs_stage_reclaim();
	assert_int_equal(n_fini, 2);
}

static void
test_pipeline_counters(void **state)
{
	uint64_t out[XVS_STAGE_CTR_MAX];
	struct xvs_stage *a;
	uint16_t id;

	reg_ok(&d_b, NULL);
	reg_ok(&d_a, NULL);
	a = xvs_stage_find("a");
	id = xvs_stage_id(a);
	assert_int_equal(wctr[0][id].v[5], 0); /* zeroed at register */
	wctr[0][id].v[0] = 1;
	wctr[1][id].v[0] = 2;
	wctr[1][id].v[1] = 4;
	wctr[0][id].v[XVS_STAGE_CTR_DROP0] = 8;
	wctr[1][id].v[XVS_STAGE_CTR_BAD_VERDICT] = 16;
	wctr[0][id].v[XVS_STAGE_CTR_EMIT_FULL] = 32;
	assert_int_equal(xvs_stage_counters(a, out, XVS_STAGE_CTR_MAX), 5);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 4);
	assert_int_equal(out[2], 8);
	assert_int_equal(out[3], 16);
	assert_int_equal(out[4], 32);
	assert_string_equal(xvs_stage_counter_name(a, 0), "seen");
	assert_string_equal(xvs_stage_counter_name(a, 2), "drop_bad");
	assert_string_equal(xvs_stage_counter_name(a, 3), "bad_verdict");
	assert_string_equal(xvs_stage_counter_name(a, 4), "emit_full");
	assert_null(xvs_stage_counter_name(a, 5));
	assert_int_equal(xvs_stage_counters(a, out, 2), 2);
}

static void
test_pipeline_port_stage_limit(void **state)
{
	static struct xvs_ext_desc many[XVS_PORT_STAGES_MAX + 1];
	static char names[XVS_PORT_STAGES_MAX + 1][8];
	struct xvs_err err;
	int i;

	for (i = 0; i <= XVS_PORT_STAGES_MAX; i++) {
		many[i] = d_b;
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		many[i].name = names[i];
		reg_ok(&many[i], NULL);
		if (i < XVS_PORT_STAGES_MAX)
			enable(names[i], 0, true);
	}
	assert_int_equal(xvs_stage_port_enable(xvs_stage_find(names[i - 1]), 0, "p", true, &err),
			 -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipeline_register_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_cycle_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_fill_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_port_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_unregister_lifetime, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_port_stage_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/ctl/params.c: request framing, the JSON envelope and the
 * params of each method, valid and invalid (tests/fuzz/fuzz_rpc.c runs the
 * same functions on random input; inputs it finds to crash belong here).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "params.h"

static json_t *
js(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

/* method's parser on params text; returns its code, message in err */
static int
check(const char *method, const char *params, struct xvs_err *err)
{
	json_t *p = params != NULL ? js(params) : NULL;
	int r;

	xvs_err_clear(err);
	r = xvs_params_check(method, p, NULL, 4, err);
	json_decref(p);
	if (r < 0)
		assert_true(err->msg[0] != '\0');
	return r;
}

static void
test_params_frame_boundaries(void **state)
{
	char *buf = malloc(XVS_RPC_MAX + 2);
	size_t line = 0;

	(void)state;
	memset(buf, ' ', XVS_RPC_MAX + 2);
	assert_int_equal(xvs_rpc_frame(buf, 0, &line), 0);
	assert_int_equal(xvs_rpc_frame("{}\n{}\n", 6, &line), 1);
	assert_int_equal(line, 2);
	/* a line of exactly XVS_RPC_MAX bytes is a request */
	buf[XVS_RPC_MAX] = '\n';
	assert_int_equal(xvs_rpc_frame(buf, XVS_RPC_MAX + 1, &line), 1);
	assert_int_equal(line, XVS_RPC_MAX);
	/* one byte more without a newline is too long; up to the limit, wait */
	buf[XVS_RPC_MAX] = ' ';
	assert_int_equal(xvs_rpc_frame(buf, XVS_RPC_MAX, &line), 0);
	assert_int_equal(xvs_rpc_frame(buf, XVS_RPC_MAX + 1, &line), -E2BIG);
	buf[XVS_RPC_MAX + 1] = '\n';
	assert_int_equal(xvs_rpc_frame(buf, XVS_RPC_MAX + 2, &line), -E2BIG);
	free(buf);
}

static void
test_params_decode_envelope(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "\"port.add\"", "{\"method\": 5}", "{\"params\": {}}",
		"{\"method\": \"help\", \"params\": [1]}", "{\"method\": \"help\", \"params\": 3}",
		"{\"method\": \"a\", \"method\": \"b\"}", "{\"method\": \"x\\u0000y\"}",
		"{\"method\": \"help\"} trailing", NULL,
	};
	const char *method;
	json_t *req, *params;
	struct xvs_err err;

	(void)state;
	for (int i = 0; bad[i] != NULL; i++) {
		xvs_err_clear(&err);
		assert_int_equal(xvs_rpc_decode(bad[i], strlen(bad[i]), &req, &method, &params,
						&err), -EINVAL);
		assert_null(req);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(xvs_rpc_decode("{\"method\": \"help\"}", 18, &req, &method, &params,
					&err), 0);
	assert_string_equal(method, "help");
	assert_null(params);
	json_decref(req);
	/* embedded NUL bytes in the line itself */
	assert_int_equal(xvs_rpc_decode("{\"method\":\"h\0\"}", 15, &req, &method, &params,
					&err), -EINVAL);
}

static void
test_params_port_add(void **state)
{
	struct xvs_req_port_add req;
	struct xvs_err err;
	json_t *p;

	(void)state;
	p = js("{\"name\": \"vm1\", \"kind\": \"tap\", \"options\": {\"vlan\": 10, \"mtu\": "
	       "\"9000\", \"vlan-mode\": \"access\"}}");
	assert_int_equal(xvs_params_port_add(p, &req, &err), 0);
	assert_string_equal(req.cfg.name, "vm1");
	assert_int_equal(req.cfg.kind, XVS_PORT_TAP);
	assert_int_equal(req.cfg.vlan.access_vid, 10);
	assert_int_equal(req.cfg.mtu, 9000);
	json_decref(p);

	assert_int_equal(check("port.add", NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\"name\""));
	assert_int_equal(check("port.add", "{\"name\": \"x\"}", &err), -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"x\", \"kind\": \"bogus\"}", &err),
			 -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"-x\", \"kind\": \"null\"}", &err),
			 -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": [], \"kind\": \"null\"}", &err), -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"x\", \"kind\": \"null\", \"options\": "
					   "[1]}", &err), -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"x\", \"kind\": \"null\", \"options\": "
					   "{\"vlan\": {}}}", &err), -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"x\", \"kind\": \"null\", \"options\": "
					   "{\"vlan\": 1.5}}", &err), -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"x\", \"kind\": \"vhost\"}", &err),
			 -EINVAL);
	assert_int_equal(check("port.add", "{\"name\": \"x\", \"kind\": \"null\", \"options\": "
					   "{\"vlan\": 4095}}", &err), -EINVAL);
}

static void
test_params_long_values(void **state)
{
	char name[200], text[400];
	struct xvs_err err;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"name\": \"%s\", \"kind\": \"null\"}", name);
	assert_int_equal(check("port.add", text, &err), -EINVAL);
	assert_int_equal(check("port.del", text, &err), -EINVAL);
	assert_int_equal(check("port.list", text, &err), -EINVAL);
	snprintf(text, sizeof(text), "{\"mac\": \"%s\", \"vlan\": 1}", name);
	assert_int_equal(check("fdb.del", text, &err), -EINVAL);
}

static void
test_params_port_set_live_only(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_err err;
	json_t *p;

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	p = js("{\"options\": {\"ifname\": \"other\"}}");
	assert_int_equal(xvs_params_port_options(p, &cfg, true, &err), -EBUSY);
	json_decref(p);
	p = js("{\"options\": {\"vlan-mode\": \"trunk\", \"trunks\": \"10-20\", \"native\": "
	       "\"none\", \"mtu\": 1400}}");
	assert_int_equal(xvs_params_port_options(p, &cfg, true, &err), 0);
	assert_int_equal(cfg.vlan.mode, XVS_VLAN_TRUNK);
	assert_int_equal(cfg.mtu, 1400);
	json_decref(p);
	/* a key of another kind is unknown to this port, not "busy" */
	assert_int_equal(check("port.set", "{\"name\": \"vm1\", \"options\": {\"pci\": "
					   "\"0000:01:00.0\"}}", &err), -EINVAL);
	assert_int_equal(check("port.set", "{\"options\": {}}", &err), -EINVAL);
}

static void
test_params_rss_set(void **state)
{
	struct xvs_err err;

	(void)state;
	assert_int_equal(check("rss.set", "{\"name\": \"p\", \"options\": {\"profile\": "
					  "\"static\", \"enabled\": false}}", &err), 0);
	assert_int_equal(check("rss.set", "{\"name\": \"p\", \"options\": {}}", &err), -EINVAL);
	assert_int_equal(check("rss.set", "{\"name\": \"p\"}", &err), -EINVAL);
	assert_int_equal(check("rss.set", "{\"name\": \"p\", \"options\": {\"bogus\": 1}}", &err),
			 -EINVAL);
	/* a key longer than any rss key must not be cut to a valid one */
	assert_int_equal(check("rss.set", "{\"name\": \"p\", \"options\": "
					  "{\"profileprofileprofileprofile\": 1}}", &err), -EINVAL);
	assert_int_equal(check("rss.set", "{\"name\": \"p\", \"options\": "
					  "{\"reta-size\": 100}}", &err), -EINVAL);
}

static void
test_params_fdb(void **state)
{
	struct xvs_req_fdb_filter f;
	struct xvs_req_fdb_static s;
	struct xvs_err err;
	json_t *p;

	(void)state;
	p = js("{\"mac\": \"02:5A:00:00:00:01\", \"vlan\": \"10\", \"port\": \"a\"}");
	assert_int_equal(xvs_params_fdb_static(p, true, &s, &err), 0);
	assert_string_equal(s.mac_s, "02:5a:00:00:00:01");
	assert_int_equal(s.vid, 10);
	assert_string_equal(s.port, "a");
	json_decref(p);
	p = js("{}");
	assert_int_equal(xvs_params_fdb_filter(p, &f, &err), 0);
	assert_int_equal(f.vid, -1);
	assert_string_equal(f.port, "");
	json_decref(p);
	assert_int_equal(check("fdb.add", "{\"mac\": \"01:00:5e:00:00:01\", \"vlan\": 1, "
					  "\"port\": \"a\"}", &err), -EINVAL);
	assert_int_equal(check("fdb.add", "{\"mac\": \"02:00:00:00:00:01\", \"vlan\": 1}", &err),
			 -EINVAL);
	assert_int_equal(check("fdb.del", "{\"mac\": \"02:00:00:00:00:01\", \"vlan\": 0}", &err),
			 -EINVAL);
	assert_int_equal(check("fdb.del", "{\"mac\": \"02:00:00:00:00:01\"}", &err), -EINVAL);
	assert_int_equal(check("fdb.show", "{\"vlan\": 4095}", &err), -EINVAL);
	assert_int_equal(check("fdb.flush", "{\"vlan\": true}", &err), -EINVAL);
	assert_int_equal(check("fdb.show", "{\"port\": {}}", &err), -EINVAL);
}

static void
test_params_switch_set_and_fault(void **state)
{
	struct xvs_switch_cfg sw;
	struct xvs_req_fault f;
	struct xvs_err err;
	json_t *p;

	(void)state;
	xvs_switch_cfg_init(&sw);
	p = js("{\"options\": {\"aging\": 600, \"workers\": \"2\"}}");
	assert_int_equal(xvs_params_switch_set(p, &sw, 4, &err), 0);
	assert_int_equal(sw.aging_s, 600);
	assert_int_equal(sw.workers, 2);
	json_decref(p);
	assert_int_equal(check("switch.set", "{}", &err), -EINVAL);
	assert_int_equal(check("switch.set", "{\"options\": {\"workers\": 5}}", &err), -EINVAL);
	assert_int_equal(check("switch.set", "{\"options\": {\"bogus\": 5}}", &err), -EINVAL);
	assert_int_equal(check("switch.set", "{\"options\": {\"aging\": null}}", &err), -EINVAL);

	p = js("{\"point\": \"commit\", \"after\": 2}");
	assert_int_equal(xvs_params_fault(p, &f, &err), 0);
	assert_string_equal(f.point, "commit");
	assert_int_equal(f.after, 2);
	assert_int_equal(f.count, 1);
	json_decref(p);
	assert_int_equal(check("test.fault", "{\"point\": \"disk\"}", &err), -EINVAL);
	assert_int_equal(check("test.fault", "{\"point\": \"apply\", \"count\": -1}", &err),
			 -EINVAL);
}

static void
test_params_unknown_method(void **state)
{
	struct xvs_err err;

	(void)state;
	assert_int_equal(check("port.frobnicate", "{}", &err), -ENOENT);
	assert_int_equal(check("help", NULL, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_frame_boundaries),
		cmocka_unit_test(test_params_decode_envelope),
		cmocka_unit_test(test_params_port_add),
		cmocka_unit_test(test_params_long_values),
		cmocka_unit_test(test_params_port_set_live_only),
		cmocka_unit_test(test_params_rss_set),
		cmocka_unit_test(test_params_fdb),
		cmocka_unit_test(test_params_switch_set_and_fault),
		cmocka_unit_test(test_params_unknown_method),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

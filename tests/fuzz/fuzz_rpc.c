/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the control protocol as xvsd reads it (src/ctl/
 * params.c): the framing of a request line, the JSON envelope, and the
 * params parser of every method. Input: the bytes a client sends. Whatever
 * method the input names, every method's parser runs on its params, so each
 * one sees every params object the fuzzer makes. Checks: a refusal is a
 * negative errno with a message; an accepted port.add or port.set yields a
 * configuration that validates and that its own key=value form reproduces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = {
	"port.add", "port.del", "port.set", "port.list", "port.stats", "worker.stats",
	"rss.show", "rss.set", "fdb.show", "fdb.flush", "fdb.add", "fdb.del",
	"switch.show", "switch.set", "test.fault", "help", NULL,
};

static void
check_err(int r, const struct xvs_err *err)
{
	if (r > 0 || (r < 0 && err->msg[0] == '\0'))
		abort();
}

/* cfg round trip: every key get prints, set accepts and reproduces */
static void
check_cfg(const struct xvs_port_cfg *cfg)
{
	struct xvs_port_cfg again;
	struct xvs_err err;
	char val[512];

	if (xvs_port_cfg_validate(cfg, &err) != 0)
		abort();
	xvs_port_cfg_init(&again, cfg->name, cfg->kind);
	if (xvs_port_cfg_get(cfg, "vlan-mode", val, sizeof(val)) == 0 &&
	    xvs_port_cfg_set(&again, "vlan-mode", val, &err) != 0)
		abort();
	for (const struct xvs_cfg_key *k = xvs_port_cfg_keys; k->key != NULL; k++)
		if (xvs_port_cfg_get(cfg, k->key, val, sizeof(val)) == 0 &&
		    xvs_port_cfg_set(&again, k->key, val, &err) != 0)
			abort();
}

static void
run_parsers(json_t *params)
{
	struct xvs_port_cfg base[2];
	struct xvs_req_port_add add;
	struct xvs_err err;
	int r;

	xvs_port_cfg_init(&base[0], "fz0", XVS_PORT_TAP);
	xvs_port_cfg_init(&base[1], "fz1", XVS_PORT_AFPACKET);
	snprintf(base[1].ifname, sizeof(base[1].ifname), "eth0");
	xvs_port_cfg_set(&base[1], "vlan-mode", "trunk", &err);
	for (int i = 0; methods[i] != NULL; i++)
		for (int b = 0; b < 2; b++) {
			xvs_err_clear(&err);
			r = xvs_params_check(methods[i], params, &base[b], 1 + (uint32_t)b * 7,
					     &err);
			check_err(r, &err);
		}
	xvs_err_clear(&err);
	r = xvs_params_port_add(params, &add, &err);
	check_err(r, &err);
	if (r == 0)
		check_cfg(&add.cfg);
	for (int b = 0; b < 2; b++) {
		struct xvs_port_cfg cfg = base[b];

		r = xvs_params_port_options(params, &cfg, true, &err);
		check_err(r, &err);
		if (r == 0)
			check_cfg(&cfg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *method;
	json_t *req, *params;
	struct xvs_err err;
	size_t line = size;
	int f, r;

	f = xvs_rpc_frame(buf, size, &line);
	if ((f == 1 && (line > size || line > XVS_RPC_MAX || buf[line] != '\n')) ||
	    (f < 0 && size <= XVS_RPC_MAX))
		abort();
	if (f != 1)
		line = size; /* decode what came anyway: the decoder must cope */
	xvs_err_clear(&err);
	r = xvs_rpc_decode(buf, line, &req, &method, &params, &err);
	check_err(r, &err);
	if (r < 0)
		return 0;
	if (method == NULL || (params != NULL && !json_is_object(params)))
		abort();
	xvs_err_clear(&err);
	r = xvs_params_check(method, params, NULL, 4, &err);
	check_err(r, &err);
	run_parsers(params);
	json_decref(req);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the pipeline (control thread): the registered stages with
 * their summed counters and ports, and (xvsd --test-faults only) enabling a
 * stage on a port by hand, which tests and benchmarks use for the
 * pass-through stages. Operators enable stages through port options
 * (guards) and the ext methods.
 */
#include <errno.h>
#include <string.h>

#include "pipeline.h"
#include "xvsd.h"

static const char *
kind_name(uint8_t kind)
{
	return kind == XVS_EXT_CAPTURE ? "capture" : kind == XVS_EXT_FILTER ? "filter" : "forward";
}

static json_t *
stage_json(const struct xvs_stage *st)
{
	const struct xvs_ext_desc *d = xvs_stage_desc(st);
	uint64_t v[XVS_STAGE_CTR_MAX];
	json_t *ctr = json_object(), *ports = json_array(), *pl = json_array();
	unsigned n = xvs_stage_counters(st, v, XVS_STAGE_CTR_MAX);

	for (unsigned i = 0; i < n; i++)
		json_object_set_new(ctr, xvs_stage_counter_name(st, i), json_integer((json_int_t)v[i]));
	for (int i = 0; i < XVS_MAX_PORTS; i++)
		if (xvsd.port[i] != NULL && xvs_stage_port_enabled(st, (uint16_t)i))
			json_array_append_new(ports, json_string(xvsd.port[i]->cfg.name));
	if (d->places & XVS_EXT_INGRESS)
		json_array_append_new(pl, json_string("ingress"));
	if (d->places & XVS_EXT_EGRESS)
		json_array_append_new(pl, json_string("egress"));
	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:s,s:o,s:o}", "name", d->name, "description",
			 d->description != NULL ? d->description : "", "kind", kind_name(d->kind),
			 "places", pl, "origin", xvs_stage_origin(st), "disabled",
			 xvs_stage_disabled(st), "disabled_why", xvs_stage_disabled_why(st), "ports",
			 ports, "counters", ctr);
}

/* {"stages": [...]} in registry order. */
static int
m_pipeline_stages(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < xvs_stage_count(); i++)
		json_array_append_new(a, stage_json(xvs_stage_at(i)));
	*result = json_pack("{s:o}", "stages", a);
	return 0;
}

/* {"stage": NAME, "port": NAME, "on": bool}: not stored (test only). */
static int
m_test_stage(json_t *params, json_t **result, struct xvs_err *err)
{
	const char *stage = NULL, *port = NULL;
	struct xvs_stage *st;
	struct xvs_port *p;
	int on = 1, r;

	if (!xvsd.test_faults)
		return xvs_err_set(err, -EPERM, "test.stage needs xvsd --test-faults");
	if (json_unpack(params, "{s:s,s:s,s?b}", "stage", &stage, "port", &port, "on", &on) != 0)
		return xvs_err_set(err, -EINVAL, "test.stage: needs stage, port and optional on");
	st = xvs_stage_find(stage);
	if (st == NULL)
		return xvs_err_set(err, -ENOENT, "no stage '%s'", stage);
	p = xvsd_port_find(port);
	if (p == NULL)
		return xvs_err_set(err, -ENOENT, "no port %s", port);
	r = xvs_stage_port_enable(st, p->slot, p->cfg.name, on != 0, err);
	if (r < 0)
		return r;
	r = xvsd_publish();
	if (r < 0)
		return xvs_err_set(err, r, "cannot publish: %s", strerror(-r));
	*result = stage_json(st);
	return 0;
}

const struct xvsd_method xvsd_pipeline_methods[] = {
	{"pipeline.stages", m_pipeline_stages,
	 "the pipeline's stages: kind, places, origin, ports and counters summed over workers"},
	{"test.stage", m_test_stage,
	 "testing only (xvsd --test-faults): enable a stage on a port: stage, port, on"},
	{NULL, NULL, NULL},
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every feature's RPC methods share (control thread): the steps after
 * validation (xvsd_store_commit, xvsd_publish_err, xvsd_store_restore), and
 * the methods of no feature: test.fault and help (xvsd_methods[]). Each
 * feature keeps its methods in cmd_<feature>.c (see xvsd_method_tables,
 * rpc.c). Handlers validate all parameters before they change anything,
 * commit to the store, apply, publish, and only then return success.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "params.h"
#include "xvsd.h"

/* ---- the steps after validation, and their undo ---- */

int
xvsd_store_commit(struct xvs_err *err)
{
	int r = xvsd_fault(XVSD_FAULT_COMMIT) ?
			xvs_err_set(err, -EIO, "config store: commit failed (injected fault)") :
			xvs_store_commit(xvsd.store, err);

	if (r < 0)
		xvs_store_rollback(xvsd.store);
	return r;
}

int
xvsd_publish_err(struct xvs_err *err)
{
	int r = xvsd_publish();

	if (r < 0)
		return xvs_err_set(err, r, "cannot publish the change to the workers (%s); "
				   "nothing changed, try again", strerror(-r));
	return 0;
}

void
xvsd_store_restore(int (*undo)(struct xvs_store *st, void *arg, struct xvs_err *e), void *arg,
	      struct xvs_err *err)
{
	struct xvs_err e;
	int r = xvs_store_begin(xvsd.store, &e);

	if (r == 0 && (r = undo(xvsd.store, arg, &e)) < 0)
		xvs_store_rollback(xvsd.store);
	if (r == 0)
		r = xvsd_store_commit(&e);
	if (r == 0)
		return;
	XVS_ERR("store", "stored configuration no longer matches the running switch (%s) "
		"after: %s", e.msg, err->msg);
	snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
		 "; and the stored configuration could not be restored: %s", e.msg);
}

/* test.fault {point, after, count}: arm a fault point (xvsd.h); only with
 * --test-faults. Returns every point's state. */
static int
m_test_fault(json_t *params, json_t **result, struct xvs_err *err)
{
	static const char *const names[] = {"publish", "commit", "apply"};
	struct xvs_req_fault req;
	json_t *o;
	int r;

	if (!xvsd.test_faults)
		return xvs_err_set(err, -EPERM, "test.fault needs xvsd --test-faults");
	r = xvs_params_fault(params, &req, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < RTE_DIM(names); i++) {
		if (strcmp(req.point, "none") == 0)
			xvsd.fault[i].count = 0;
		else if (strcmp(req.point, names[i]) == 0)
			xvsd.fault[i] = (struct xvsd_fault){.after = req.after, .count = req.count,
							    .fired = xvsd.fault[i].fired};
	}
	o = json_object();
	for (size_t i = 0; i < RTE_DIM(names); i++)
		json_object_set_new(o, names[i],
				    json_pack("{s:i,s:i,s:I}", "after", (int)xvsd.fault[i].after,
					      "count", (int)xvsd.fault[i].count, "fired",
					      (json_int_t)xvsd.fault[i].fired));
	*result = o;
	return 0;
}

static int
m_help(json_t *params, json_t **result, struct xvs_err *err);

const struct xvsd_method xvsd_methods[] = {
	{"test.fault", m_test_fault, "testing only (xvsd --test-faults): make a step fail: "
				     "point publish|commit|apply|none, after, count"},
	{"help", m_help, "list methods"},
	{NULL, NULL, NULL},
};

static int
m_help(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (const struct xvsd_method *const *tb = xvsd_method_tables; *tb != NULL; tb++)
		for (const struct xvsd_method *m = *tb; m->name != NULL; m++)
			json_array_append_new(a, json_pack("{s:s,s:s}", "method", m->name, "help",
							   m->help));
	*result = json_pack("{s:o}", "methods", a);
	return 0;
}

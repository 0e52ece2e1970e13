/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC framing (control thread): one JSON object per line over a unix stream
 * socket. Request {"method": "port.add", "params": {...}}; response
 * {"result": ...} or {"error": {"code": "EINVAL", "message": "..."}}.
 * A request longer than XVS_RPC_MAX bytes, or one that is not a JSON object
 * with a string "method", gets an error and changes nothing.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "params.h"
#include "xvsd.h"

static const char *
errno_name(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOSPC: return "ENOSPC";
	case EBUSY: return "EBUSY";
	case ENOMEM: return "ENOMEM";
	case EIO: return "EIO";
	case EPERM: return "EPERM";
	case ENOTSUP: return "ENOTSUP";
	case E2BIG: return "E2BIG";
	case ENODEV: return "ENODEV";
	case ELOOP: return "ELOOP";
	case EPROTO: return "EPROTO";
	case ENOEXEC: return "ENOEXEC";
	default: return "EFAULT";
	}
}

static json_t *
error_reply(int code, const char *msg)
{
	xvsd.rpc_errors++;
	return json_pack("{s:{s:s,s:s}}", "error", "code", errno_name(-code), "message", msg);
}

/* Every feature's method table; a new feature adds one line. */
const struct xvsd_method *const xvsd_method_tables[] = {
	xvsd_port_methods,
	xvsd_worker_methods,
	xvsd_rss_methods,
	xvsd_fdb_methods,
	xvsd_switch_methods,
	xvsd_methods,
	xvsd_queue_methods,
	xvsd_pipeline_methods,
	xvsd_ext_methods,
	xvsd_mirror_methods,
	xvsd_capture_methods,
	xvsd_acl_methods,
	xvsd_balancer_methods,
	xvsd_qos_methods,
	xvsd_vmq_methods,
	xvsd_port_batch_methods,
	NULL,
};

json_t *
xvsd_rpc_handle(const char *line, size_t len)
{
	struct xvs_err err;
	json_t *req, *params, *result = NULL, *reply;
	const char *method;
	int r;

	xvsd.rpc_requests++;
	xvs_err_clear(&err);
	r = xvs_rpc_decode(line, len, &req, &method, &params, &err);
	if (r < 0)
		return error_reply(r, err.msg);
	for (const struct xvsd_method *const *tb = xvsd_method_tables; *tb != NULL; tb++) {
		for (const struct xvsd_method *m = *tb; m->name != NULL; m++) {
			if (strcmp(m->name, method) != 0)
				continue;
			r = m->fn(params, &result, &err);
			if (r < 0) {
				XVS_DEBUG("rpc", "%s: %s", method, err.msg);
				reply = error_reply(r, err.msg[0] ? err.msg : strerror(-r));
			} else {
				reply = json_pack("{s:o}", "result",
						  result != NULL ? result : json_object());
			}
			json_decref(req);
			return reply;
		}
	}
	{
		char msg[200];

		snprintf(msg, sizeof(msg), "unknown method \"%.64s\" (see method \"help\")", method);
		json_decref(req);
		return error_reply(-EINVAL, msg);
	}
}

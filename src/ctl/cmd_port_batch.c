/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port.add_many: add a list of ports with one store transaction and one
 * snapshot publish (doc/ports.md, "How many ports"). One port.add each costs
 * a commit (an fsync) and a publish (a grace period) per port; a thousand
 * ports took ~100 s that way, most of it waiting. All or nothing: the first
 * port that cannot be added undoes the others and names itself in the error.
 */
#include <errno.h>
#include <stdlib.h>

#include "cmd_util.h"
#include "log.h"
#include "xvsd.h"

/* {ports: [{name, kind, options}, ...]}: {added: N, ports: [names]} */
static int
m_port_add_many(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *list = json_is_object(params) ? json_object_get(params, "ports") : NULL;
	struct xvs_port **p;
	unsigned n = 0, want;
	json_t *names;
	int r = 0;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return xvs_err_set(err, -EINVAL, "port.add_many: expected {ports: [{name, kind, "
				   "options}, ...]}");
	want = (unsigned)json_array_size(list);
	if (want > XVS_MAX_PORTS)
		return xvs_err_set(err, -ENOSPC, "port.add_many: %u ports, the switch takes %d",
				   want, XVS_MAX_PORTS);
	p = calloc(want, sizeof(*p));
	if (p == NULL)
		return xvs_err_set(err, -ENOMEM, "out of memory");
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		goto out;
	for (n = 0; n < want; n++) {
		r = xvsd_port_add_open(json_array_get(list, n), &p[n], err);
		if (r < 0) {
			xvs_store_rollback(xvsd.store);
			xvsd_port_add_undo(p, n, false, err);
			goto out;
		}
		/* in the table (unpublished), so the next ones see its slot,
		 * name and interface taken */
		xvsd.port[p[n]->slot] = p[n];
	}
	if ((r = xvsd_store_commit(err)) < 0) {
		xvsd_port_add_undo(p, n, false, err);
		goto out;
	}
	for (unsigned i = 0; i < n && r == 0; i++)
		r = xvsd_guard_apply(p[i], err);
	if (r == 0)
		r = xvsd_publish_err(err);
	if (r < 0) {
		xvsd_port_add_undo(p, n, true, err);
		goto out;
	}
	names = json_array();
	for (unsigned i = 0; i < n; i++) {
		XVS_DEBUG("port", "%s: added (%s, %s, %u rx / %u tx queues)", p[i]->cfg.name,
			  xvs_port_kind_name(p[i]->cfg.kind), p[i]->driver, p[i]->n_rxq,
			  p[i]->n_txq);
		json_array_append_new(names, json_string(p[i]->cfg.name));
	}
	XVS_INFO("port", "%u ports added (%s ... %s)", n, p[0]->cfg.name, p[n - 1]->cfg.name);
	*result = json_pack("{s:i,s:o}", "added", (int)n, "ports", names);
out:
	free(p);
	return r;
}

const struct xvsd_method xvsd_port_batch_methods[] = {
	{"port.add_many", m_port_add_many,
	 "add ports in one transaction and one publish: {ports: [{name, kind, options}, ...]}"},
	{NULL, NULL, NULL},
};

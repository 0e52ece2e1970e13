/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods for VMQ (control thread): vmq.show lists an uplink's VMQ
 * queues (queue -> owner port, MAC/VLAN -> worker -> packets/s -> busy %,
 * and how it is filtered) and the VM ports that share its default queue and
 * why (doc/vmq.md). The pools themselves live in vmq.c.
 */
#include <errno.h>
#include <string.h>

#include "cmd_util.h"
#include "vmq_ctl.h"
#include "xvsd.h"

static json_t *
uplink_view(const struct xvs_port *p)
{
	json_t *o = xvsd_vmq_json(p->slot);

	if (o != NULL)
		return o;
	/* VMQ off (vmq-queues 0), or the device is not open */
	return json_pack("{s:s,s:i,s:[],s:[],s:i,s:i,s:i,s:i}", "uplink", p->cfg.name,
			 "vmq_queues", p->cfg.vmq_queues, "queues", "default_queue", "exhausted", 0,
			 "filter_fallbacks", 0, "assigned", 0, "pauses", 0);
}

/* {name?}: {uplinks: [{uplink, vmq_queues, queues: [{queue, state, owner, mac,
 * vlan, worker, filter, filter_note, pps, busy_pct, rx_packets, rx_bytes,
 * busy_cycles}], default_queue: [{port, reason}], exhausted, filter_fallbacks,
 * assigned, pauses}]}; without a name, the uplinks with vmq-queues > 0. */
static int
m_vmq_show(json_t *params, json_t **result, struct xvs_err *err)
{
	const struct xvs_port *p;
	json_t *a;
	int r;

	if ((r = xvsd_params_only(params, "vmq.show", (const char *const[]){"name", NULL}, err)) < 0)
		return r;
	p = xvsd_port_param(params, "name", false, err, &r);
	if (r < 0)
		return r;
	if (p != NULL && !xvs_port_kind_uplink(p->cfg.kind))
		return xvs_err_set(err, -EINVAL, "port %s is a %s port, not an uplink: VMQ queues "
				   "belong to uplinks (afxdp, afpacket, pci)", p->cfg.name,
				   xvs_port_kind_name(p->cfg.kind));
	a = json_array();
	if (p != NULL) {
		json_array_append_new(a, uplink_view(p));
	} else {
		for (int i = 0; i < XVS_MAX_PORTS; i++)
			if (xvsd.port[i] != NULL && xvsd.port[i]->cfg.vmq_queues > 0)
				json_array_append_new(a, uplink_view(xvsd.port[i]));
	}
	*result = json_pack("{s:o}", "uplinks", a);
	return 0;
}

const struct xvsd_method xvsd_vmq_methods[] = {
	{"vmq.show", m_vmq_show,
	 "VMQ queues of an uplink: owner MAC/VLAN, worker, pps, busy %; ports on the default "
	 "queue ({name?})"},
	{NULL, NULL, NULL},
};

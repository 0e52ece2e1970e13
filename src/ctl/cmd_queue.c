/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods for rx queues (control thread): queue.show lists every rx
 * queue of every port (or of one) as the object it is: its port and id, the
 * worker that owns it (RSS placement, switch.c), its counters summed over
 * the workers, and its rate and busy share over the last tick.
 */
#include <string.h>

#include "params.h"
#include "xvsd.h"

/* polled: a worker polls it; idle: the port does not use it now (RSS
 * queues, or a steerable device told not to deliver to it); down: the
 * port's device is not open. */
static const char *
rxq_state(const struct xvs_port *p, const struct xvs_rxq *q)
{
	if (!p->open)
		return "down";
	return q->polled ? "polled" : "idle";
}

static void
port_queues(const struct xvs_port *p, json_t *a)
{
	for (uint16_t i = 0; i < (p->open ? p->n_rxq : 0); i++) {
		const struct xvs_rxq *q = &p->rxq[i];
		struct xvs_rxq_counters c;
		json_t *o;

		xvsd_rxq_counters(p, i, &c);
		o = json_pack("{s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:b}", "port",
			      p->cfg.name, "queue", i, "state", rxq_state(p, q), "rx_packets",
			      (json_int_t)c.packets, "rx_bytes", (json_int_t)c.bytes, "polls",
			      (json_int_t)c.polls, "empty_polls", (json_int_t)c.empty_polls,
			      "busy_cycles", (json_int_t)c.busy_tsc, "pps", q->pps, "busy_pct",
			      q->busy_pct, "wakeup_fd", q->fd >= 0);
		json_object_set_new(o, "worker", q->polled ? json_integer(q->worker) : json_null());
		json_array_append_new(a, o);
	}
}

/* {name?}: {queues: [{port, queue, worker, state, rx_packets, rx_bytes,
 * polls, empty_polls, busy_cycles, pps, busy_pct, wakeup_fd}]} */
static int
m_queue_show(json_t *params, json_t **result, struct xvs_err *err)
{
	const struct xvs_port *only = NULL;
	char name[XVS_PARAM_NAME_LEN];
	json_t *a;
	int r;

	r = xvs_param_str(params, "name", false, name, sizeof(name), err);
	if (r < 0)
		return r;
	if (r == 0) {
		only = xvsd_port_find(name);
		if (only == NULL)
			return xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port "
					   "list)", name);
	}
	a = json_array();
	for (int i = 0; i < XVS_MAX_PORTS; i++)
		if (xvsd.port[i] != NULL && (only == NULL || only == xvsd.port[i]))
			port_queues(xvsd.port[i], a);
	*result = json_pack("{s:o,s:I}", "queues", a, "tsc_hz", (json_int_t)xvs_dp.tsc_hz);
	return 0;
}

const struct xvsd_method xvsd_queue_methods[] = {
	{"queue.show", m_queue_show,
	 "rx queues: owner worker, packets, polls, busy cycles, pps, busy % ({name?})"},
	{NULL, NULL, NULL},
};

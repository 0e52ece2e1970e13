/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for the workers: worker.stats (what
 * xvsctl top and xvsctl worker show).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "cmd_util.h"
#include "flow_cache.h"
#include "log.h"
#include "params.h"
#include "xvsd.h"

/* ---- worker methods ---- */

static int
m_worker_stats(json_t *params, json_t **result, struct xvs_err *err)
{
	const struct xvs_snapshot *s = atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		const struct xvs_worker *wk = xvs_dp.worker[w];
		json_t *o = json_object(), *qs = json_array(), *qb = json_array();

		if (w < s->n_workers) {
			const struct xvs_snap_worker *sw = &s->worker[w];

			for (uint16_t i = 0; i < sw->n_rxq; i++) {
				const struct xvs_port *p = xvsd.port[sw->rxq[i].port];
				char q[48];

				snprintf(q, sizeof(q), "%s/%u", p != NULL ? p->cfg.name : "?",
					 sw->rxq[i].queue);
				json_array_append_new(qs, json_string(q));
				json_array_append_new(qb, json_real(p != NULL ?
						p->rxq[sw->rxq[i].queue].busy_pct : 0.0));
			}
		}
		json_object_set_new(o, "worker", json_integer(w));
		json_object_set_new(o, "lcore", json_integer(wk->lcore));
		json_object_set_new(o, "cpu", json_integer(xvsd_worker_cpu(w)));
		json_object_set_new(o, "active", json_boolean(w < s->n_workers));
		json_object_set_new(o, "busy_pct", json_real(xvsd.busy_pct[w]));
		json_object_set_new(o, "rx_pps", json_real(xvsd.rx_pps[w]));
		json_object_set_new(o, "rx_packets", json_integer((json_int_t)wk->rx_packets));
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)wk->tx_packets));
		json_object_set_new(o, "switched_packets",
				    json_integer((json_int_t)wk->switched_packets));
		json_object_set_new(o, "switched_pps", json_real(xvsd.switched_pps[w]));
		json_object_set_new(o, "rss_in", json_integer((json_int_t)wk->rss_in));
		json_object_set_new(o, "rss_out", json_integer((json_int_t)wk->rss_out));
		json_object_set_new(o, "vmq_in", json_integer((json_int_t)wk->vmq_in));
		json_object_set_new(o, "vmq_out", json_integer((json_int_t)wk->vmq_out));
		json_object_set_new(o, "vmq_default", json_integer((json_int_t)wk->vmq_default));
		json_object_set_new(o, "vmq_drops", json_integer((json_int_t)wk->vmq_drops));
		json_object_set_new(o, "rss_in_pps", json_real(xvsd.rss_in_pps[w]));
		json_object_set_new(o, "rss_out_pps", json_real(xvsd.rss_out_pps[w]));
		json_object_set_new(o, "rss_drops", json_integer((json_int_t)wk->rss_drops));
		json_object_set_new(o, "loops", json_integer((json_int_t)wk->loops));
		json_object_set_new(o, "wakeups", json_integer((json_int_t)wk->wakeups));
		/* asleep with no timeout: no queue, no ring to drain (worker.c) */
		json_object_set_new(o, "parked", json_boolean(atomic_load_explicit(
							 &wk->parked, memory_order_relaxed)));
		json_object_set_new(o, "parks", json_integer((json_int_t)wk->parks));
		json_object_set_new(o, "tid", json_integer(wk->tid));
		/* raw TSC cycles (queue.show has tsc_hz), for a load at finer
		 * steps than busy_pct's 1 s */
		json_object_set_new(o, "busy_cycles", json_integer((json_int_t)wk->busy_tsc));
		json_object_set_new(o, "idle_cycles", json_integer((json_int_t)wk->idle_tsc));
		json_object_set_new(o, "sleep_cycles", json_integer((json_int_t)wk->sleep_tsc));
		json_object_set_new(o, "queues", qs);
		json_object_set_new(o, "queue_busy_pct", qb); /* per queue, as queue.show */
		{
			/* The policy flow cache (flow_cache.h): written by the
			 * worker alone, read here without a lock (aligned
			 * 64-bit words). */
			struct xvs_fcache_stats fs;

			xvs_fcache_stats(wk->fcache, &fs);
			json_object_set_new(o, "flow_cache",
					    json_pack("{s:I,s:I,s:I,s:I}", "hits", (json_int_t)fs.hits,
						      "misses", (json_int_t)fs.misses, "inserts",
						      (json_int_t)fs.inserts, "bypassed_bursts",
						      (json_int_t)fs.bypass));
		}
		json_array_append_new(a, o);
	}
	*result = json_pack("{s:o}", "workers", a);
	return 0;
}

const struct xvsd_method xvsd_worker_methods[] = {
	{"worker.stats", m_worker_stats, "per-worker load, rates and queues"},
	{NULL, NULL, NULL},
};

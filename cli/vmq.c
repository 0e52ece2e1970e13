/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl vmq commands: an uplink's VMQ queues (vmq.show), one row per queue
 * (queue -> owner port, MAC/VLAN -> worker -> packets/s -> busy %), then the
 * VM ports that share the default queue and why.
 */
#include <stdio.h>

#include "xvsctl.h"

static void
print_vmq(json_t *r)
{
	json_t *u, *q;
	size_t iu, iq;

	json_array_foreach(json_object_get(r, "uplinks"), iu, u) {
		printf("uplink %s: vmq-queues %lld, %lld given, %lld requests found none, "
		       "%lld NIC filters refused\n", s(u, "uplink"), i(u, "vmq_queues"),
		       i(u, "assigned"), i(u, "exhausted"), i(u, "filter_fallbacks"));
		printf("%5s %-15s %-17s %4s %6s %10s %6s  %s\n", "QUEUE", "OWNER", "MAC", "VLAN",
		       "WORKER", "PPS", "BUSY%", "FILTER");
		json_array_foreach(json_object_get(u, "queues"), iq, q) {
			char owner[24];

			if (json_object_get(q, "worker") == NULL) {
				printf("%5lld %-15s\n", i(q, "queue"), "(free)");
				continue;
			}
			/* VMMQ: the port's k-th queue as PORT/k */
			snprintf(owner, sizeof(owner), "%s/%lld", s(q, "owner"), i(q, "owner_queue"));
			printf("%5lld %-15s %-17s %4lld %6lld %10.0f %6.1f  %s\n", i(q, "queue"),
			       owner, s(q, "mac"), i(q, "vlan"), i(q, "worker"),
			       json_number_value(json_object_get(q, "pps")),
			       json_number_value(json_object_get(q, "busy_pct")), s(q, "filter"));
		}
		json_array_foreach(json_object_get(u, "default_queue"), iq, q)
			printf("%5s %-15s default queue (%s)\n", "-", s(q, "port"), s(q, "reason"));
	}
}

const struct cmd vmq_cmds[] = {
	{{"vmq", "show"}, "vmq.show", ARGS_OPT_NAME, "[UPLINK]",
	 "VMQ queues: owner MAC/VLAN, worker, pps, busy %; VMs on the default queue",
	 print_vmq},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl queue commands: rx queues as objects (queue.show), one row each
 * with its owner worker, packets, rate and busy share.
 */
#include <stdio.h>

#include "xvsctl.h"

static void
print_queues(json_t *r)
{
	json_t *q, *w;
	size_t idx;

	printf("%-15s %5s %6s %14s %10s %6s  %s\n", "PORT", "QUEUE", "WORKER", "RX_PACKETS", "PPS",
	       "BUSY%", "STATE");
	json_array_foreach(json_object_get(r, "queues"), idx, q) {
		char worker[16] = "-";

		w = json_object_get(q, "worker");
		if (json_is_integer(w))
			snprintf(worker, sizeof(worker), "%lld", json_integer_value(w));
		printf("%-15s %5lld %6s %14lld %10.0f %6.1f  %s\n", s(q, "port"), i(q, "queue"),
		       worker, i(q, "rx_packets"), json_number_value(json_object_get(q, "pps")),
		       json_number_value(json_object_get(q, "busy_pct")), s(q, "state"));
	}
}

const struct cmd queue_cmds[] = {
	{{"queue", "show"}, "queue.show", ARGS_OPT_NAME, "[PORT]",
	 "rx queues: owner worker, packets, pps, busy % (of one worker), state", print_queues},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

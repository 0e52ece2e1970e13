/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl balancer commands: show and set (balancer.*), the queue balancer's
 * settings, counters, per-worker load and parked state, and its last moves.
 */
#include <stdio.h>

#include <jansson.h>

#include "xvsctl.h"

static void
print_balancer(json_t *r)
{
	json_t *set = json_object_get(r, "settings"), *v, *w;
	const char *k;
	size_t idx;

	json_object_foreach(set, k, v)
		printf("%s: %s\n", k, json_string_value(v));
	printf("samples: %lld  moves: %lld (spreads %lld, coalesces %lld)  publish failed: %lld\n",
	       i(r, "samples"), i(r, "moves"), i(r, "spreads"), i(r, "coalesces"),
	       i(r, "publish_failed"));
	v = json_object_get(r, "rss_conservative");
	printf("rss conservative (its step runs in the balancer): grows %lld, shrinks %lld, "
	       "not paid %lld, samples whose moves gave way %lld\n", i(v, "grows"),
	       i(v, "shrinks"), i(v, "not_paid"), i(v, "moves_deferred"));
	if (s(r, "error")[0] != '\0' && s(r, "error")[0] != '-')
		printf("error: %s\n", s(r, "error"));
	printf("%-6s %4s %5s %6s %6s  %s\n", "WORKER", "CPU", "CORE", "QUEUES", "LOAD%", "STATE");
	json_array_foreach(json_object_get(r, "workers"), idx, w)
		printf("%-6lld %4lld %5lld %6lld %6.1f  %s\n", i(w, "worker"), i(w, "cpu"),
		       i(w, "core"), i(w, "queues"),
		       json_number_value(json_object_get(w, "load_pct")),
		       json_is_true(json_object_get(w, "parked")) ? "parked" :
		       json_is_true(json_object_get(w, "active")) ? "active" : "inactive");
	json_array_foreach(json_object_get(r, "last_moves"), idx, w) {
		if (idx == 0)
			printf("last moves:\n");
		printf("  %s worker %lld -> %lld (%s; queue %.1f%%; worker %lld %.1f%% -> %.1f%%, "
		       "worker %lld %.1f%% -> %.1f%%)\n", s(w, "queue"), i(w, "from"), i(w, "to"),
		       s(w, "reason"), json_number_value(json_object_get(w, "busy_pct")),
		       i(w, "from"), json_number_value(json_object_get(w, "from_before")),
		       json_number_value(json_object_get(w, "from_after")), i(w, "to"),
		       json_number_value(json_object_get(w, "to_before")),
		       json_number_value(json_object_get(w, "to_after")));
	}
}

const struct cmd balancer_cmds[] = {
	{{"balancer", "show"}, "balancer.show", ARGS_NONE, "",
	 "queue balancer: settings, moves, per-worker load, parked workers", print_balancer},
	{{"balancer", "set"}, "balancer.set", ARGS_KV, "key=value ...",
	 "enabled=on|off high=PCT low=PCT interval-ms=MS hysteresis=N hold-intervals=N "
	 "home-worker=W cores-first=on|off", print_balancer},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

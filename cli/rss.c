/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl rss commands: show and set (rss.*): settings, the workers RSS
 * uses, the RETA and the spread of frames; the rss set options.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xvsctl.h"

/* "0,1,2" from an array of integers, "none" when empty. */
static void
join_ints(char *buf, size_t len, json_t *a)
{
	size_t used = 0;
	json_t *v;
	size_t idx;

	buf[0] = '\0';
	json_array_foreach(a, idx, v) {
		int n = snprintf(buf + used, len - used, "%s%lld", idx ? "," : "",
				 (long long)json_integer_value(v));

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

static bool
int_in(json_t *a, long long x)
{
	json_t *v;
	size_t idx;

	json_array_foreach(a, idx, v)
		if (json_integer_value(v) == x)
			return true;
	return false;
}

/* RETA as entry counts per worker, in worker order; --json has the table. */
static void
print_reta_summary(json_t *reta)
{
	long long max = -1;
	long long *count;
	json_t *v;
	size_t idx;

	if (json_array_size(reta) == 0) {
		printf("  reta: not in use (no software spreading)\n");
		return;
	}
	printf("  reta: %zu entries", json_array_size(reta));
	json_array_foreach(reta, idx, v)
		if (json_integer_value(v) > max && json_integer_value(v) <= 65535)
			max = json_integer_value(v);
	count = calloc((size_t)(max + 2), sizeof(*count)); /* never 0 bytes */
	if (count == NULL) {
		putchar('\n');
		return;
	}
	json_array_foreach(reta, idx, v)
		if (json_integer_value(v) >= 0 && json_integer_value(v) <= max)
			count[json_integer_value(v)]++;
	for (long long w = 0; w <= max; w++)
		if (count[w] != 0)
			printf(", worker %lld: %lld", w, count[w]);
	putchar('\n');
	free(count);
}

/* Frames per worker: the workers RSS may use, and any other that switched
 * frames of this port (before a change of the set, or as the default). */
static void
print_rss_packets(json_t *p)
{
	json_t *ppw = json_object_get(p, "packets_per_worker"), *ws = json_object_get(p, "workers");
	long long total = 0;
	bool any = false;
	json_t *v;
	size_t w;

	json_array_foreach(ppw, w, v)
		total += json_integer_value(v);
	printf("  packets by worker:");
	json_array_foreach(ppw, w, v) {
		long long n = json_integer_value(v);

		if (n == 0 && !int_in(ws, (long long)w))
			continue;
		printf(" %zu: %lld (%.1f%%) ", w, n, total > 0 ? 100.0 * (double)n / (double)total : 0.0);
		any = true;
	}
	printf("%s  hand-off drops %lld\n", any ? "" : " none", i(p, "handoff_drops"));
}

static void
print_rss(json_t *r)
{
	json_t *p, *ports = ports_of(r);
	size_t idx;

	if (json_array_size(ports) == 0)
		printf("no ports\n");
	json_array_foreach(ports, idx, p) {
		char ws[512], act[512];
		json_t *qw;
		size_t j;

		join_ints(ws, sizeof(ws), json_object_get(p, "workers"));
		join_ints(act, sizeof(act), json_object_get(p, "workers_active"));
		if (idx != 0)
			putchar('\n');
		printf("port %s: rss %s, profile %s, mode %s (%lld of %lld queues, workers %s; "
		       "active %s)\n",
		       s(p, "name"), json_is_true(json_object_get(p, "enabled")) ? "on" : "off",
		       s(p, "profile"), s(p, "mode"), i(p, "queues_used"), i(p, "queues_max"), ws, act);
		printf("  base-cpu %s  max-cpu %s  max-cpus %s  queues %s  reta %lld  types %s\n",
		       s(p, "base_cpu"), s(p, "max_cpu"), s(p, "max_cpus"), s(p, "queues"),
		       i(p, "reta_size"), s(p, "types"));
		printf("  key %s\n", s(p, "key"));
		printf("  queue->worker:");
		json_array_foreach(json_object_get(p, "queue_workers"), j, qw)
			printf(" %lld->%lld", (long long)json_integer_value(json_array_get(qw, 0)),
			       (long long)json_integer_value(json_array_get(qw, 1)));
		printf("%s\n", json_array_size(json_object_get(p, "queue_workers")) ? "" : " none");
		print_reta_summary(json_object_get(p, "reta"));
		print_rss_packets(p);
		if (json_object_get(p, "rebalances") != NULL)
			printf("  rebalances (closest): %lld   spreads taken back, not paid "
			       "(conservative): %lld\n", i(p, "rebalances"), i(p, "spread_not_paid"));
		if (json_object_get(p, "error") != NULL)
			printf("  error: %s\n", s(p, "error"));
	}
	json_decref(ports);
}

const struct cmd rss_cmds[] = {
	{{"rss", "show"}, "rss.show", ARGS_OPT_NAME, "[NAME]", "RSS settings, workers and spread",
	 print_rss},
	{{"rss", "set"}, "rss.set", ARGS_NAME_KV, "NAME key=value ...",
	 "change RSS settings of a port (keys below)", print_rss},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char rss_options_help[] =
	"\nrss set options (key=value):\n"
	"  enabled=on|off   profile=closest|static|conservative   reta-size=1..512 (2^n)\n"
	"  base-cpu=CPU|auto   max-cpu=CPU|auto   max-cpus=N|all   queues=N|all\n"
	"  types=LIST (ipv4,tcp4,udp4,ipv6,tcp6,udp6,ipv6-ex,tcp6-ex,udp6-ex)\n"
	"  key=HEX (40 bytes: 80 hex digits, ':' or '-' between bytes allowed)\n";

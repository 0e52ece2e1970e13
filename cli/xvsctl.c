/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl: command-line client of xvsd. It only speaks the JSON protocol over
 * the control socket (see src/ctl/rpc.c). Tables of commands, one per
 * feature (xvsctl_tables, struct cmd in xvsctl.h), give every command its
 * words, its RPC method, how its arguments map to parameters, its help line
 * and its human table; --json prints the daemon's result as is.
 * A command that is more than one request and one reply (top) names its own
 * run function in the table instead.
 * Errors: the daemon's message on stderr, exit status 1 (2 for usage errors,
 * 3 when the daemon cannot be reached).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "xvsctl.h"

const char *
s(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		return json_string_value(v);
	return "-";
}

long long
i(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* The ports of a list result ({"ports": [...]}), or the one port a
 * port.add / port.set / rss.set result is. New reference. */
static json_t *
ports_of(json_t *r)
{
	json_t *a = json_object_get(r, "ports");

	return json_is_array(a) ? json_incref(a) : json_pack("[O]", r);
}

static void
print_ports(json_t *r)
{
	json_t *p, *ports = ports_of(r);
	size_t idx;

	printf("%-15s %-9s %-6s %-24s %-6s %-12s %s\n", "NAME", "KIND", "STATE", "VLAN", "QUEUES",
	       "DRIVER", "ATTACHMENT");
	json_array_foreach(ports, idx, p) {
		json_t *o = json_object_get(p, "options");
		char vlan[64], q[16], att[160];
		const char *mode = s(o, "vlan-mode");

		if (strcmp(mode, "trunk") == 0)
			snprintf(vlan, sizeof(vlan), "trunk %s%s%s", s(o, "trunks"),
				 strcmp(s(o, "native"), "none") ? " native " : "",
				 strcmp(s(o, "native"), "none") ? s(o, "native") : "");
		else
			snprintf(vlan, sizeof(vlan), "access %s", s(o, "vlan"));
		snprintf(q, sizeof(q), "%lld/%lld", i(p, "rx_queues"), i(p, "tx_queues"));
		if (json_object_get(o, "path") != NULL)
			snprintf(att, sizeof(att), "%s", s(o, "path"));
		else if (json_object_get(o, "pci") != NULL)
			snprintf(att, sizeof(att), "%s", s(o, "pci"));
		else if (json_object_get(o, "ifname") != NULL)
			snprintf(att, sizeof(att), "%s%s%s", s(o, "ifname"),
				 json_object_get(o, "netns") && strcmp(s(o, "netns"), "") ?
					 " netns " : "",
				 json_object_get(o, "netns") ? s(o, "netns") : "");
		else
			snprintf(att, sizeof(att), "-");
		printf("%-15s %-9s %-6s %-24s %-6s %-12s %s\n", s(p, "name"), s(p, "kind"),
		       s(p, "state"), vlan, q, s(p, "driver"), att);
		if (json_object_get(p, "error") != NULL)
			printf("  error: %s\n", s(p, "error"));
		if (json_object_get(p, "xdp_mode") != NULL)
			printf("  xdp-mode: %s in force (%s), XDP program attached %s\n",
			       s(p, "xdp_mode"), s(o, "xdp-mode"), s(p, "xdp_attach"));
	}
	json_decref(ports);
}

/* A port's learning state (fdb.show "ports", port.stats "fdb"); with all
 * false only when something was refused. */
static void
print_fdb_port(const char *name, json_t *f, bool all)
{
	if (f == NULL || (!all && i(f, "learn_limit") == 0 && i(f, "static_conflict") == 0))
		return;
	printf("  %s: %lld learned of mac-limit %lld%s, learn_limit %lld, static_conflict %lld\n",
	       name, i(f, "learned"), i(f, "mac_limit"), i(f, "mac_limit") ? "" : " (none)",
	       i(f, "learn_limit"), i(f, "static_conflict"));
}

static void
print_port_stats(json_t *r)
{
	json_t *p;
	size_t idx;

	printf("%-15s %12s %14s %12s %14s %10s %10s %10s\n", "PORT", "RX_PACKETS", "RX_BYTES",
	       "TX_PACKETS", "TX_BYTES", "FORWARDED", "FLOODED", "DROPS");
	json_array_foreach(json_object_get(r, "ports"), idx, p) {
		printf("%-15s %12lld %14lld %12lld %14lld %10lld %10lld %10lld\n", s(p, "name"),
		       i(p, "rx_packets"), i(p, "rx_bytes"), i(p, "tx_packets"), i(p, "tx_bytes"),
		       i(p, "forwarded"), i(p, "flooded"), i(p, "drops_total"));
	}
	/* Then every non-zero drop reason, so nothing is hidden. */
	json_array_foreach(json_object_get(r, "ports"), idx, p) {
		const char *k;
		json_t *v;

		json_object_foreach(json_object_get(p, "drops"), k, v)
			if (json_integer_value(v) != 0)
				printf("  %s drop_%s: %lld\n", s(p, "name"), k,
				       (long long)json_integer_value(v));
		if (i(p, "dev_rx_missed") != 0)
			printf("  %s dev_rx_missed: %lld\n", s(p, "name"), i(p, "dev_rx_missed"));
		print_fdb_port(s(p, "name"), json_object_get(p, "fdb"), false);
	}
}

static void
print_workers(json_t *r)
{
	json_t *w;
	size_t idx;

	printf("%-6s %-4s %-6s %6s %12s %14s %14s  %s\n", "WORKER", "CPU", "ACTIVE", "BUSY%",
	       "RX_PPS", "RX_PACKETS", "TX_PACKETS", "QUEUES");
	json_array_foreach(json_object_get(r, "workers"), idx, w) {
		char qs[512] = "";
		json_t *q;
		size_t j;

		json_array_foreach(json_object_get(w, "queues"), j, q) {
			strncat(qs, j ? " " : "", sizeof(qs) - strlen(qs) - 1);
			strncat(qs, json_string_value(q), sizeof(qs) - strlen(qs) - 1);
		}
		printf("%-6lld %-4lld %-6s %6.1f %12.0f %14lld %14lld  %s\n", i(w, "worker"),
		       i(w, "cpu"), json_is_true(json_object_get(w, "active")) ? "yes" : "no",
		       json_real_value(json_object_get(w, "busy_pct")),
		       json_real_value(json_object_get(w, "rx_pps")), i(w, "rx_packets"),
		       i(w, "tx_packets"), qs[0] ? qs : "-");
	}
}

static void
print_fdb(json_t *r)
{
	json_t *e, *f;
	const char *k;
	size_t idx;

	printf("%-17s %5s %-15s %-8s %8s\n", "MAC", "VLAN", "PORT", "TYPE", "AGE(s)");
	json_array_foreach(json_object_get(r, "entries"), idx, e)
		printf("%-17s %5lld %-15s %-8s %8.0f\n", s(e, "mac"), i(e, "vlan"), s(e, "port"),
		       s(e, "type"), json_real_value(json_object_get(e, "age_s")));
	printf("%lld of %lld entries\n", i(r, "count"), i(r, "max"));
	json_object_foreach(json_object_get(r, "ports"), k, f)
		print_fdb_port(k, f, true);
}

/* Key: value lines for a flat or one-level nested object. */
void
print_kv(json_t *r)
{
	const char *k, *k2;
	json_t *v, *v2;

	json_object_foreach(r, k, v) {
		if (json_is_object(v)) {
			printf("%s:\n", k);
			json_object_foreach(v, k2, v2) {
				char *t = json_dumps(v2, JSON_ENCODE_ANY);

				printf("  %-18s %s\n", k2, json_is_string(v2) ?
				       json_string_value(v2) : t);
				free(t);
			}
		} else {
			char *t = json_dumps(v, JSON_ENCODE_ANY);

			printf("%-20s %s\n", k, json_is_string(v) ? json_string_value(v) : t);
			free(t);
		}
	}
}

static void
print_methods(json_t *r)
{
	json_t *m;
	size_t idx;

	json_array_foreach(json_object_get(r, "methods"), idx, m)
		printf("%-14s %s\n", s(m, "method"), s(m, "help"));
}

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

static int
run_top(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv);

static const struct cmd base_cmds[] = {
	{{"port", "add"}, "port.add", ARGS_NAME_KIND_KV, "NAME KIND [key=value ...]",
	 "add a port; KIND: tap afxdp afpacket vhost pcap null pci", print_ports},
	{{"port", "del"}, "port.del", ARGS_NAME, "NAME", "delete a port", print_kv},
	{{"port", "set"}, "port.set", ARGS_NAME_KV, "NAME key=value ...",
	 "change vlan-mode, vlan, trunks, native, mtu or mac-limit of a port", print_ports},
	{{"port", "list"}, "port.list", ARGS_NONE, "", "list ports", print_ports},
	{{"port", "show"}, "port.list", ARGS_NAME, "NAME", "show one port", print_ports},
	{{"port", "stats"}, "port.stats", ARGS_OPT_NAME, "[NAME]", "port counters",
	 print_port_stats},
	{{"worker", "stats"}, "worker.stats", ARGS_NONE, "", "per-worker load and queues",
	 print_workers},
	{{"top", NULL}, "worker.stats", ARGS_NONE, "[--once] [--interval SECONDS]",
	 "live per-worker load and rates (q or Ctrl-C quits)", NULL, run_top},
	{{"rss", "show"}, "rss.show", ARGS_OPT_NAME, "[NAME]", "RSS settings, workers and spread",
	 print_rss},
	{{"rss", "set"}, "rss.set", ARGS_NAME_KV, "NAME key=value ...",
	 "change RSS settings of a port (keys below)", print_rss},
	{{"fdb", "show"}, "fdb.show", ARGS_FILTER, "[port=NAME] [vlan=ID]", "show the FDB",
	 print_fdb},
	{{"fdb", "flush"}, "fdb.flush", ARGS_FILTER, "[port=NAME] [vlan=ID]",
	 "remove learned entries", print_kv},
	{{"fdb", "add"}, "fdb.add", ARGS_MAC_KV, "MAC vlan=ID port=NAME", "add a static entry",
	 print_kv},
	{{"fdb", "del"}, "fdb.del", ARGS_MAC_KV, "MAC vlan=ID", "delete an entry", print_kv},
	{{"switch", "show"}, "switch.show", ARGS_NONE, "", "settings and totals", print_kv},
	{{"switch", "set"}, "switch.set", ARGS_KV, "key=value ...",
	 "aging=SECONDS fdb-max=N workers=N", print_kv},
	{{"methods", NULL}, "help", ARGS_NONE, "", "list the daemon's RPC methods",
	 print_methods},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

#define BASE_OPTIONS_HELP \
	"\nport options (key=value):\n" \
	"  ifname=IF (tap, afxdp, afpacket)   netns=NS mac=MAC (tap)\n" \
	"  path=FILE (vhost socket, pcap rx)   tx-path=FILE infinite=on (pcap)\n" \
	"  client=on (vhost)   queues=N   start-queue=N (afxdp)   pci=ADDR (pci)\n" \
	"  xdp-mode=auto|copy|zero-copy (afxdp)\n" \
	"  mtu=N   vlan-mode=access|trunk   vlan=ID   trunks=LIST   native=ID|none\n" \
	"  mac-limit=N (MACs learned on the port, 0 = no limit, default 4096)\n" \
	"\nrss set options (key=value):\n" \
	"  enabled=on|off   profile=closest|static|conservative   reta-size=1..512 (2^n)\n" \
	"  base-cpu=CPU|auto   max-cpu=CPU|auto   max-cpus=N|all   queues=N|all\n" \
	"  types=LIST (ipv4,tcp4,udp4,ipv6,tcp6,udp6,ipv6-ex,tcp6-ex,udp6-ex)\n" \
	"  key=HEX (40 bytes: 80 hex digits, ':' or '-' between bytes allowed)\n" \
	"\ntop: --once prints one frame (with --json: the worker.stats result and\n" \
	"  \"time\"); --interval SECONDS (0.2-60, default 1) between live frames.\n"

/* Every feature's table; a new feature adds one line. */
static const struct cmd_table xvsctl_tables[] = {
	{base_cmds, BASE_OPTIONS_HELP},
	{queue_cmds, ""},
	{ext_cmds, EXT_OPTIONS_HELP},
	{mirror_cmds, mirror_options_help},
	{capture_cmds, capture_options_help},
	{xvsctl_acl_cmds, xvsctl_acl_help},
	{NULL, NULL},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: xvsctl [--socket PATH] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct cmd_table *t = xvsctl_tables; t->cmds != NULL; t++)
		for (const struct cmd *c = t->cmds; c->method != NULL; c++) {
			char w[64];

			snprintf(w, sizeof(w), "%s%s%s %s", c->words[0], c->words[1] ? " " : "",
				 c->words[1] ? c->words[1] : "", c->usage);
			fprintf(f, "  %-44s %s\n", w, c->help);
		}
	for (const struct cmd_table *t = xvsctl_tables; t->cmds != NULL; t++)
		fputs(t->options_help, f);
	fprintf(f, "\nThe socket defaults to " DEFAULT_SOCKET " (root only).\n");
}

/* One line on stderr, exit status 2. */
int
fail_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "xvsctl: %s%s%s (see xvsctl --help)\n", msg, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

/* key=value words into obj; returns 0 or prints an error and returns 2. */
int
kv_into(json_t *obj, int argc, char **argv)
{
	for (int k = 0; k < argc; k++) {
		char *eq = strchr(argv[k], '=');

		if (eq == NULL || eq == argv[k])
			return fail_usage("expected key=value", argv[k]);
		*eq = '\0';
		if (json_object_get(obj, argv[k]) != NULL)
			return fail_usage("key given twice", argv[k]);
		json_object_set_new(obj, argv[k], json_string(eq + 1));
	}
	return 0;
}

static int
build_params(const struct cmd *c, int argc, char **argv, json_t *params)
{
	json_t *opts;

	switch (c->args) {
	case ARGS_NONE:
		return argc == 0 ? 0 : fail_usage("unexpected argument", argv[0]);
	case ARGS_NAME:
		if (argc != 1)
			return fail_usage("expected one NAME", NULL);
		json_object_set_new(params, "name", json_string(argv[0]));
		return 0;
	case ARGS_OPT_NAME:
		if (argc > 1)
			return fail_usage("expected at most one NAME", NULL);
		if (argc == 1)
			json_object_set_new(params, "name", json_string(argv[0]));
		return 0;
	case ARGS_NAME_KV:
	case ARGS_NAME_KIND_KV: {
		int skip = c->args == ARGS_NAME_KIND_KV ? 2 : 1;

		if (argc < skip)
			return fail_usage("missing arguments, expected", c->usage);
		json_object_set_new(params, "name", json_string(argv[0]));
		if (skip == 2)
			json_object_set_new(params, "kind", json_string(argv[1]));
		opts = json_object();
		json_object_set_new(params, "options", opts);
		if (c->args == ARGS_NAME_KV && argc == 1)
			return fail_usage("nothing to set, expected", c->usage);
		return kv_into(opts, argc - skip, argv + skip);
	}
	case ARGS_FILTER:
		return kv_into(params, argc, argv);
	case ARGS_MAC_KV:
		if (argc < 1)
			return fail_usage("missing MAC, expected", c->usage);
		json_object_set_new(params, "mac", json_string(argv[0]));
		return kv_into(params, argc - 1, argv + 1);
	case ARGS_PORT:
		if (argc != 1)
			return fail_usage("expected one PORT", NULL);
		json_object_set_new(params, "port", json_string(argv[0]));
		return 0;
	case ARGS_PORT_FILE_KV:
		if (argc < 2)
			return fail_usage("missing arguments, expected", c->usage);
		json_object_set_new(params, "port", json_string(argv[0]));
		json_object_set_new(params, "file", json_string(argv[1]));
		opts = json_object();
		json_object_set_new(params, "options", opts);
		return kv_into(opts, argc - 2, argv + 2);
	case ARGS_NAME_ID:
		if (argc != 2)
			return fail_usage("expected", c->usage);
		json_object_set_new(params, "name", json_string(argv[0]));
		json_object_set_new(params, "id", json_string(argv[1]));
		return 0;
	case ARGS_KV:
		if (argc == 0)
			return fail_usage("nothing to set, expected", c->usage);
		opts = json_object();
		json_object_set_new(params, "options", opts);
		return kv_into(opts, argc, argv);
	}
	return 2;
}

/* Send one request line, read one reply line. timeout_ms > 0 bounds each
 * send and receive. On failure returns NULL with one line in why (no prefix). */
json_t *
call(const char *path, json_t *req, int timeout_ms, char *why, size_t why_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *out = json_dumps(req, JSON_COMPACT);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	json_error_t jerr;
	json_t *reply = NULL;
	int fd = -1;

	if (out == NULL || buf == NULL) {
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && timeout_ms > 0) {
		struct timeval tv = {.tv_sec = timeout_ms / 1000,
				     .tv_usec = (timeout_ms % 1000) * 1000};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, why_len, "cannot reach xvsd at %s: %s", path, strerror(errno));
		goto out;
	}
	if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		snprintf(why, why_len, "send to xvsd: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t k;

		if (len + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);

			if (bigger == NULL) {
				snprintf(why, why_len, "out of memory");
				goto out;
			}
			buf = bigger;
			cap *= 2;
		}
		k = recv(fd, buf + len, cap - len - 1, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			snprintf(why, why_len, "no reply from xvsd at %s within %d ms", path,
				 timeout_ms);
			goto out;
		}
		if (k < 0) {
			snprintf(why, why_len, "receive from xvsd: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len == 0) {
		snprintf(why, why_len, "xvsd at %s closed the connection without a reply", path);
		goto out;
	}
	reply = json_loadb(buf, len, 0, &jerr);
	if (reply == NULL)
		snprintf(why, why_len, "bad reply from xvsd: %s", jerr.text);
out:
	if (fd >= 0)
		close(fd);
	free(out);
	free(buf);
	return reply;
}

/* Print a reply's error as every command does: the message on stderr, and with
 * --json the whole reply on stdout. */
static int
print_error(json_t *reply, bool as_json)
{
	json_t *err = json_object_get(reply, "error");

	if (as_json) {
		char *t = json_dumps(reply, JSON_COMPACT);

		printf("%s\n", t);
		free(t);
	}
	fprintf(stderr, "xvsctl: %s\n", s(err, "message"));
	return 1;
}

/* ---- top ----
 *
 * Polls worker.stats. Busy % is always the daemon's (it samples the workers'
 * cycle counters every second), per worker and per queue (QUEUES: port/queue:busy%); packet rates are computed here from counter
 * deltas between two polls, except for a first frame, which shows the
 * daemon's *_pps fields (and "-" where the daemon has no rate).
 */

#define TOP_TIMEOUT_MS 5000 /* a daemon silent this long counts as gone */

struct top_opts {
	bool once;          /* one frame, no screen control */
	double interval_s;  /* live refresh period, 0.2-60 */
};

/* Counter k of o (0 when absent, e.g. from an older daemon). */
static double
num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static json_t *
worker_by_id(json_t *r, long long id)
{
	json_t *w;
	size_t idx;

	json_array_foreach(json_object_get(r, "workers"), idx, w)
		if (i(w, "worker") == id)
			return w;
	return NULL;
}

/* Rate of counter k between prev and cur (dt s apart); the daemon's field
 * pps_k without a previous poll or after a counter reset; -1 when unknown. */
static double
rate(json_t *cur, json_t *prev, double dt, const char *k, const char *pps_k)
{
	double now = num(cur, k), then;

	if (prev != NULL && dt > 0) {
		then = num(prev, k);
		if (now >= then)
			return (now - then) / dt;
	}
	return pps_k != NULL ? num(cur, pps_k) : -1;
}

/* One output line, built piecewise; appends past the end are dropped. */
struct line {
	char s[4096];
	size_t n;
};

static void __attribute__((format(printf, 2, 3)))
lput(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n += (size_t)k < sizeof(l->s) - l->n ? (size_t)k : sizeof(l->s) - l->n - 1;
}

/* Print l, cut to cols (0: no limit) with "..." marking the cut. */
static void
lemit(struct line *l, int cols)
{
	if (cols > 3 && l->n > (size_t)cols)
		printf("%.*s...\n", cols - 3, l->s);
	else
		printf("%s\n", l->s);
	l->n = 0;
	l->s[0] = '\0';
}

/* A rate in 8 columns: 3 significant digits with k or M above 9999, "-"
 * when unknown. */
static void
fmt_rate(char *buf, size_t len, double r)
{
	if (r < 0)
		snprintf(buf, len, "-");
	else if (r < 9999.5)
		snprintf(buf, len, "%.0f", r);
	else if (r < 999.5e3)
		snprintf(buf, len, "%.*fk", r < 99.95e3 ? 1 : 0, r / 1e3);
	else
		snprintf(buf, len, "%.*fM", r < 9.995e6 ? 2 : r < 99.95e6 ? 1 : 0, r / 1e6);
}

/* Header, column titles and one row per worker. cols/rows: terminal size, 0
 * when not a terminal (nothing is cut). */
static void
top_frame(json_t *cur, json_t *prev, double dt, int cols, int rows, const char *hint)
{
	json_t *ws = json_object_get(cur, "workers"), *w;
	double total = 0, drops = 0;
	int active = 0, shown = 0, room;
	struct line l = {.n = 0};
	char when[16];
	time_t t = time(NULL);
	size_t idx;

	json_array_foreach(ws, idx, w) {
		json_t *pw = prev != NULL ? worker_by_id(prev, i(w, "worker")) : NULL;

		active += json_is_true(json_object_get(w, "active"));
		total += rate(w, pw, dt, "switched_packets", "switched_pps");
		drops += num(w, "rss_drops");
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	lput(&l, "%s  workers %d/%zu active  switched %.0f pkt/s", when, active, json_array_size(ws),
	     total);
	if (drops > 0)
		lput(&l, "  rss hand-off drops %.0f", drops);
	if (hint != NULL)
		lput(&l, "  %s", hint);
	lemit(&l, cols);
	lput(&l, "%-6s %4s  %-19s %8s %8s %8s %9s  %s", "WORKER", "CPU", "BUSY", "SWITCH/s", "RX/s",
	     "RSS_IN/s", "RSS_OUT/s", "QUEUES");
	lemit(&l, cols);
	/* Keep the last line of the terminal free so the screen never scrolls. */
	room = rows > 3 ? rows - 3 : -1;
	json_array_foreach(ws, idx, w) {
		json_t *pw = prev != NULL ? worker_by_id(prev, i(w, "worker")) : NULL;
		double busy = num(w, "busy_pct");
		char bar[16], sw[24], rx[24], in[24], out[24];
		int hashes = (int)(busy / 10 + 0.5);
		json_t *q;
		size_t j;

		if (room >= 0 && shown == room - 1 && json_array_size(ws) > (size_t)room) {
			lput(&l, "(%zu more workers; enlarge the terminal)", json_array_size(ws) - idx);
			lemit(&l, cols);
			break;
		}
		if (json_is_true(json_object_get(w, "active"))) {
			bar[0] = '[';
			for (int k = 0; k < 10; k++)
				bar[1 + k] = k < hashes ? '#' : '.';
			bar[11] = ']';
			bar[12] = '\0';
		} else {
			snprintf(bar, sizeof(bar), "[ inactive ]");
		}
		fmt_rate(sw, sizeof(sw), rate(w, pw, dt, "switched_packets", "switched_pps"));
		fmt_rate(rx, sizeof(rx), rate(w, pw, dt, "rx_packets", "rx_pps"));
		fmt_rate(in, sizeof(in), rate(w, pw, dt, "rss_in", "rss_in_pps"));
		fmt_rate(out, sizeof(out), rate(w, pw, dt, "rss_out", "rss_out_pps"));
		lput(&l, "%-6lld %4lld  %-12s %5.1f%% %8s %8s %8s %9s  ", i(w, "worker"),
		     i(w, "cpu"), bar, busy, sw, rx, in, out);
		/* each queue with its busy share, as queue.show has it */
		json_array_foreach(json_object_get(w, "queues"), j, q) {
			json_t *qb = json_array_get(json_object_get(w, "queue_busy_pct"), j);

			lput(&l, "%s%s", j ? "," : "", json_is_string(q) ? json_string_value(q) : "?");
			if (json_is_number(qb))
				lput(&l, ":%.0f%%", json_number_value(qb));
		}
		if (json_array_size(json_object_get(w, "queues")) == 0)
			lput(&l, "-");
		lemit(&l, cols);
		shown++;
	}
}

/* One worker.stats request: the reply (result or error; the caller owns it),
 * or NULL with the reason in why when xvsd cannot be reached. */
static json_t *
top_poll(const struct cmd *c, const char *sock, char *why, size_t why_len)
{
	json_t *req = json_pack("{s:s,s:{}}", "method", c->method, "params");
	json_t *reply = call(sock, req, TOP_TIMEOUT_MS, why, why_len);

	json_decref(req);
	if (reply != NULL && json_object_get(reply, "error") == NULL &&
	    !json_is_array(json_object_get(json_object_get(reply, "result"), "workers"))) {
		snprintf(why, why_len, "bad reply from xvsd: no \"workers\" in the result");
		json_decref(reply);
		return NULL;
	}
	return reply;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Live mode state. Signals reach the loop through a self-pipe, so one poll()
 * waits for the next frame, a key and a signal alike. */
static int top_sigpipe[2] = {-1, -1};

static void
top_on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	if (write(top_sigpipe[1], &b, 1) < 0) {
		/* pipe full: a signal is already pending there */
	}
	errno = saved;
}

struct top_tty {
	bool in;                 /* stdin is a terminal: 'q' quits */
	bool out;                /* stdout is a terminal: alternate screen */
	bool saved;              /* orig holds stdin's modes to restore */
	struct termios orig;
};

static void
top_screen_enter(struct top_tty *t)
{
	if (t->in && tcgetattr(STDIN_FILENO, &t->orig) == 0) {
		struct termios raw = t->orig;

		/* No line buffering or echo, so a 'q' arrives alone; ISIG stays on,
		 * so Ctrl-C and Ctrl-Z still signal. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		t->saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	/* alternate screen (terminals only), hide the cursor */
	printf("%s\033[?25l", t->out ? "\033[?1049h" : "");
	fflush(stdout);
}

static void
top_screen_leave(struct top_tty *t)
{
	printf("\033[?25h%s", t->out ? "\033[?1049l" : "");
	fflush(stdout);
	if (t->saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->orig);
	t->saved = false;
}

static void
term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* SIGPIPE (top | head) and SIGQUIT (Ctrl-\\) quit like SIGINT: the terminal is restored. */
static const int top_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP};

static void
top_handlers(bool install)
{
	struct sigaction sa = {.sa_handler = install ? top_on_signal : SIG_DFL,
			       .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < sizeof(top_signals) / sizeof(top_signals[0]); k++)
		sigaction(top_signals[k], &sa, NULL);
}

/* Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT. */
static void
top_suspend(struct top_tty *t)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, mine = {.sa_handler = top_on_signal,
								.sa_flags = SA_RESTART};

	top_screen_leave(t);
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&mine.sa_mask);
	sigaction(SIGTSTP, &dfl, NULL);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &mine, NULL);
	top_screen_enter(t);
}

enum top_event {
	TOP_TICK,   /* time for the next poll */
	TOP_REDRAW, /* same data again: the terminal changed */
	TOP_QUIT,   /* 'q', SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE */
};

/* Wait until deadline (monotonic s) for a key or a signal. */
static enum top_event
top_wait(struct top_tty *tty, double deadline)
{
	for (;;) {
		struct pollfd pf[2] = {{.fd = top_sigpipe[0], .events = POLLIN},
				       {.fd = tty->in ? STDIN_FILENO : -1, .events = POLLIN}};
		enum top_event ev = TOP_TICK;
		double left = deadline - mono_s();
		char b[64];
		ssize_t n;

		if (left <= 0)
			return TOP_TICK;
		if (poll(pf, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			return TOP_QUIT;
		if (pf[1].revents & POLLIN) {
			n = read(STDIN_FILENO, b, sizeof(b));
			if (n <= 0)
				tty->in = false; /* no more keys; signals still work */
			for (ssize_t k = 0; k < n; k++)
				if (b[k] == 'q' || b[k] == 'Q')
					return TOP_QUIT;
		} else if (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			tty->in = false;
		}
		if (pf[0].revents & POLLIN) {
			n = read(top_sigpipe[0], b, sizeof(b));
			for (ssize_t k = 0; k < n; k++) {
				if (b[k] == SIGWINCH) {
					ev = TOP_REDRAW;
				} else if (b[k] == SIGTSTP) {
					top_suspend(tty);
					ev = TOP_REDRAW;
				} else {
					return TOP_QUIT;
				}
			}
		}
		if (ev != TOP_TICK)
			return ev;
	}
}

static int
top_live(const struct cmd *c, const char *sock, const struct top_opts *o)
{
	struct top_tty tty = {.in = isatty(STDIN_FILENO), .out = isatty(STDOUT_FILENO)};
	json_t *cur = NULL, *prev = NULL;
	double t_cur = 0, t_prev = 0;
	enum top_event ev = TOP_TICK;
	char why[512] = "", hint[64];
	int rc = 0;

	snprintf(hint, sizeof(hint), "every %.1f s, %s quits", o->interval_s,
		 tty.in ? "q" : "Ctrl-C");
	if (pipe2(top_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "xvsctl: pipe: %s\n", strerror(errno));
		return 1;
	}
	top_handlers(true);
	top_screen_enter(&tty);
	while (ev != TOP_QUIT) {
		json_t *reply = top_poll(c, sock, why, sizeof(why));
		double deadline;

		if (reply == NULL) {
			rc = 3;
			break;
		}
		if (json_object_get(reply, "error") != NULL) {
			snprintf(why, sizeof(why), "%s",
				 s(json_object_get(reply, "error"), "message"));
			json_decref(reply);
			rc = 1;
			break;
		}
		json_decref(prev);
		prev = cur;
		t_prev = t_cur;
		cur = json_incref(json_object_get(reply, "result"));
		json_decref(reply);
		t_cur = mono_s();
		deadline = t_cur + o->interval_s;
		do {
			int cols, rows;

			term_size(&cols, &rows);
			printf("\033[H\033[2J");
			top_frame(cur, prev, t_cur - t_prev, cols, rows, hint);
			fflush(stdout);
			ev = top_wait(&tty, deadline);
		} while (ev == TOP_REDRAW);
	}
	top_screen_leave(&tty);
	top_handlers(false);
	close(top_sigpipe[0]);
	close(top_sigpipe[1]);
	json_decref(prev);
	json_decref(cur);
	/* After the screen is restored, so that the message stays visible. */
	if (why[0] != '\0')
		fprintf(stderr, "xvsctl: %s\n", why);
	return rc;
}

static int
top_once(const struct cmd *c, const char *sock, bool as_json)
{
	char why[512] = "";
	int cols = 0, rows;
	json_t *reply = top_poll(c, sock, why, sizeof(why)), *cur;

	if (reply == NULL) {
		fprintf(stderr, "xvsctl: %s\n", why);
		return 3;
	}
	if (json_object_get(reply, "error") != NULL) {
		int rc = print_error(reply, as_json);

		json_decref(reply);
		return rc;
	}
	cur = json_object_get(reply, "result");
	if (as_json) {
		char *t;

		json_object_set_new(cur, "time", json_integer((json_int_t)time(NULL)));
		t = json_dumps(cur, JSON_INDENT(2));
		printf("%s\n", t);
		free(t);
	} else {
		if (isatty(STDOUT_FILENO))
			term_size(&cols, &rows);
		top_frame(cur, NULL, 0, cols, 0, NULL);
	}
	json_decref(reply);
	return 0;
}

static int
run_top(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	struct top_opts o = {.once = false, .interval_s = 1.0};

	for (int k = 0; k < argc; k++) {
		const char *v;
		char *end;

		if (strcmp(argv[k], "--once") == 0) {
			o.once = true;
			continue;
		}
		if (strcmp(argv[k], "--interval") == 0) {
			if (k + 1 >= argc)
				return fail_usage("--interval needs SECONDS", NULL);
			v = argv[++k];
		} else if (strncmp(argv[k], "--interval=", 11) == 0) {
			v = argv[k] + 11;
		} else {
			return fail_usage("top: unexpected argument", argv[k]);
		}
		errno = 0;
		o.interval_s = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' || !(o.interval_s >= 0.2) ||
		    !(o.interval_s <= 60))
			return fail_usage("--interval must be 0.2 to 60 seconds", v);
	}
	if (as_json && !o.once)
		return fail_usage("top: --json needs --once (live mode draws a screen)", NULL);
	if (o.once)
		return top_once(c, sock, as_json);
	return top_live(c, sock, &o);
}

/* Send c's method with params (a reference taken over) and print the reply
 * as every command does: the result through c->print or as JSON, an error's
 * message on stderr. Returns the exit status. */
int
request(const struct cmd *c, const char *sock, bool as_json, json_t *params)
{
	json_t *req, *reply;
	char why[512];
	int r;

	req = json_pack("{s:s,s:o}", "method", c->method, "params", params);
	reply = call(sock, req, 0, why, sizeof(why));
	json_decref(req);
	if (reply == NULL) {
		fprintf(stderr, "xvsctl: %s\n", why);
		return 3;
	}
	if (json_object_get(reply, "error") != NULL) {
		r = print_error(reply, as_json);
		json_decref(reply);
		return r;
	}
	if (as_json) {
		char *t = json_dumps(json_object_get(reply, "result"), JSON_INDENT(2));

		printf("%s\n", t);
		free(t);
	} else {
		c->print(json_object_get(reply, "result"));
	}
	json_decref(reply);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("XVS_SOCKET") ? getenv("XVS_SOCKET") : DEFAULT_SOCKET;
	bool as_json = false;
	const struct cmd *c;
	json_t *params;
	int a = 1, r;

	while (a < argc && argv[a][0] == '-') {
		if (strcmp(argv[a], "--json") == 0) {
			as_json = true;
		} else if (strcmp(argv[a], "--socket") == 0 && a + 1 < argc) {
			sock = argv[++a];
		} else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			return fail_usage("unknown option", argv[a]);
		}
		a++;
	}
	/* allow --json after the command too */
	for (int k = a; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0) {
			as_json = true;
			memmove(&argv[k], &argv[k + 1], sizeof(char *) * (size_t)(argc - k));
			argc--;
			k--;
		}
	}
	if (a >= argc) {
		usage(stderr);
		return 2;
	}
	c = NULL;
	for (const struct cmd_table *t = xvsctl_tables; t->cmds != NULL && c == NULL; t++)
		for (const struct cmd *k = t->cmds; k->method != NULL; k++) {
			if (strcmp(k->words[0], argv[a]) != 0)
				continue;
			if (k->words[1] == NULL ||
			    (a + 1 < argc && strcmp(k->words[1], argv[a + 1]) == 0)) {
				c = k;
				break;
			}
		}
	if (c == NULL) {
		char what[128];

		snprintf(what, sizeof(what), "%s%s%s", argv[a], a + 1 < argc ? " " : "",
			 a + 1 < argc ? argv[a + 1] : "");
		return fail_usage("unknown command", what);
	}
	a += c->words[1] != NULL ? 2 : 1;
	if (c->run != NULL)
		return c->run(c, sock, as_json, argc - a, argv + a);
	params = json_object();
	r = build_params(c, argc - a, argv + a, params);
	if (r != 0) {
		json_decref(params);
		return r;
	}
	return request(c, sock, as_json, params);
}

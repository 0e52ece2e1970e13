/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl: command-line client of xvsd. It only speaks the JSON protocol over
 * the control socket (see src/ctl/rpc.c). One table, cmds[], gives every
 * command its words, its RPC method, how its arguments map to parameters, its
 * help line and its human table; --json prints the daemon's result as is.
 * Errors: the daemon's message on stderr, exit status 1 (2 for usage errors,
 * 3 when the daemon cannot be reached).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/xvs/xvsd.sock"

enum argmode {
	ARGS_NONE,       /* no arguments */
	ARGS_NAME_KV,    /* NAME [key=value ...] -> name, options */
	ARGS_NAME_KIND_KV, /* NAME KIND [key=value ...] -> name, kind, options */
	ARGS_NAME,       /* NAME -> name */
	ARGS_OPT_NAME,   /* [NAME] -> name */
	ARGS_FILTER,     /* [key=value ...] -> params */
	ARGS_MAC_KV,     /* MAC key=value ... -> mac, params */
	ARGS_KV,         /* key=value ... -> options */
};

typedef void (*print_fn)(json_t *result);

struct cmd {
	const char *words[2];
	const char *method;
	enum argmode args;
	const char *usage;
	const char *help;
	print_fn print;
};

static const char *
s(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		return json_string_value(v);
	return "-";
}

static long long
i(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void
print_ports(json_t *r)
{
	json_t *p;
	size_t idx;

	printf("%-15s %-9s %-6s %-24s %-6s %-12s %s\n", "NAME", "KIND", "STATE", "VLAN", "QUEUES",
	       "DRIVER", "ATTACHMENT");
	json_array_foreach(json_object_get(r, "ports"), idx, p) {
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
	}
}

static void
print_ports_one(json_t *r)
{
	json_t *w = json_pack("{s:[O]}", "ports", r);

	print_ports(w);
	json_decref(w);
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
	json_t *e;
	size_t idx;

	printf("%-17s %5s %-15s %-8s %8s\n", "MAC", "VLAN", "PORT", "TYPE", "AGE(s)");
	json_array_foreach(json_object_get(r, "entries"), idx, e)
		printf("%-17s %5lld %-15s %-8s %8.0f\n", s(e, "mac"), i(e, "vlan"), s(e, "port"),
		       s(e, "type"), json_real_value(json_object_get(e, "age_s")));
	printf("%lld of %lld entries\n", i(r, "count"), i(r, "max"));
}

/* Key: value lines for a flat or one-level nested object. */
static void
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

static const struct cmd cmds[] = {
	{{"port", "add"}, "port.add", ARGS_NAME_KIND_KV, "NAME KIND [key=value ...]",
	 "add a port; KIND: tap afxdp afpacket vhost pcap null pci", print_ports_one},
	{{"port", "del"}, "port.del", ARGS_NAME, "NAME", "delete a port", print_kv},
	{{"port", "set"}, "port.set", ARGS_NAME_KV, "NAME key=value ...",
	 "change vlan-mode, vlan, trunks, native or mtu of a port", print_ports_one},
	{{"port", "list"}, "port.list", ARGS_NONE, "", "list ports", print_ports},
	{{"port", "show"}, "port.list", ARGS_NAME, "NAME", "show one port", print_ports},
	{{"port", "stats"}, "port.stats", ARGS_OPT_NAME, "[NAME]", "port counters",
	 print_port_stats},
	{{"worker", "stats"}, "worker.stats", ARGS_NONE, "", "per-worker load and queues",
	 print_workers},
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

static void
usage(FILE *f)
{
	fprintf(f, "usage: xvsctl [--socket PATH] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct cmd *c = cmds; c->method != NULL; c++) {
		char w[64];

		snprintf(w, sizeof(w), "%s%s%s %s", c->words[0], c->words[1] ? " " : "",
			 c->words[1] ? c->words[1] : "", c->usage);
		fprintf(f, "  %-44s %s\n", w, c->help);
	}
	fprintf(f, "\nport options (key=value):\n"
		   "  ifname=IF (tap, afxdp, afpacket)   netns=NS mac=MAC (tap)\n"
		   "  path=FILE (vhost socket, pcap rx)   tx-path=FILE infinite=on (pcap)\n"
		   "  client=on (vhost)   queues=N   start-queue=N (afxdp)   pci=ADDR (pci)\n"
		   "  mtu=N   vlan-mode=access|trunk   vlan=ID   trunks=LIST   native=ID|none\n"
		   "\nThe socket defaults to " DEFAULT_SOCKET " (root only).\n");
}

/* One line on stderr, exit status 2. */
static int
fail_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "xvsctl: %s%s%s (see xvsctl --help)\n", msg, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

/* key=value words into obj; returns 0 or prints an error and returns 2. */
static int
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
	case ARGS_KV:
		if (argc == 0)
			return fail_usage("nothing to set, expected", c->usage);
		opts = json_object();
		json_object_set_new(params, "options", opts);
		return kv_into(opts, argc, argv);
	}
	return 2;
}

/* Send one request line, read one reply line. */
static json_t *
call(const char *path, json_t *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *out = json_dumps(req, JSON_COMPACT);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	json_error_t jerr;
	json_t *reply = NULL;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "xvsctl: cannot reach xvsd at %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "xvsctl: send to xvsd: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t k;

		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		k = recv(fd, buf + len, cap - len - 1, 0);
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	reply = json_loadb(buf, len, 0, &jerr);
	if (reply == NULL)
		fprintf(stderr, "xvsctl: bad reply from xvsd: %s\n", jerr.text);
out:
	if (fd >= 0)
		close(fd);
	free(out);
	free(buf);
	return reply;
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("XVS_SOCKET") ? getenv("XVS_SOCKET") : DEFAULT_SOCKET;
	bool as_json = false;
	const struct cmd *c;
	json_t *params, *req, *reply, *err;
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
	for (c = cmds; c->method != NULL; c++) {
		if (strcmp(c->words[0], argv[a]) != 0)
			continue;
		if (c->words[1] == NULL)
			break;
		if (a + 1 < argc && strcmp(c->words[1], argv[a + 1]) == 0)
			break;
	}
	if (c->method == NULL) {
		char what[128];

		snprintf(what, sizeof(what), "%s%s%s", argv[a], a + 1 < argc ? " " : "",
			 a + 1 < argc ? argv[a + 1] : "");
		return fail_usage("unknown command", what);
	}
	a += c->words[1] != NULL ? 2 : 1;
	params = json_object();
	r = build_params(c, argc - a, argv + a, params);
	if (r != 0) {
		json_decref(params);
		return r;
	}
	req = json_pack("{s:s,s:o}", "method", c->method, "params", params);
	reply = call(sock, req);
	json_decref(req);
	if (reply == NULL)
		return 3;
	err = json_object_get(reply, "error");
	if (err != NULL) {
		if (as_json) {
			char *t = json_dumps(reply, JSON_COMPACT);

			printf("%s\n", t);
			free(t);
		}
		fprintf(stderr, "xvsctl: %s\n", s(err, "message"));
		json_decref(reply);
		return 1;
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

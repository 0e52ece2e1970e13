/* SPDX-License-Identifier: BSD-3-Clause */
/* xvsctl qos: egress QoS, traffic classes and their counters (RPC: src/ctl/cmd_qos.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xvsctl.h"

static void
print_rate(long long bps, char *buf, size_t len)
{
	if (bps == 0)
		snprintf(buf, len, "-");
	else if (bps % 1000000000 == 0)
		snprintf(buf, len, "%lldG", bps / 1000000000);
	else if (bps % 1000000 == 0)
		snprintf(buf, len, "%lldM", bps / 1000000);
	else if (bps % 1000 == 0)
		snprintf(buf, len, "%lldK", bps / 1000);
	else
		snprintf(buf, len, "%lld", bps);
}

static void
print_port(json_t *p)
{
	json_t *a = json_object_get(p, "classes"), *c;
	char cap[32], min[32], max[32];
	size_t idx;

	if (!json_is_array(a)) {
		printf("port %s: qos %s, not scheduled%s%s\n", s(p, "port"),
		       json_is_true(json_object_get(p, "qos")) ? "on" : "off",
		       json_object_get(p, "error") != NULL ? ": " : "",
		       json_object_get(p, "error") != NULL ? s(p, "error") : "");
		return;
	}
	print_rate(i(p, "capacity_bps"), cap, sizeof(cap));
	printf("port %s: capacity %s (%s), mode %s, owner worker %lld, queued %lld\n",
	       s(p, "port"), cap, s(p, "capacity_from"), s(p, "mode"), i(p, "owner_worker"),
	       i(p, "queued"));
	{
		json_t *pfc = json_object_get(p, "pfc_rx"), *held = json_object_get(p, "paused"), *v;
		size_t k;

		printf("  pfc_rx");
		json_array_foreach(pfc, k, v)
			printf(" %lld", (long long)json_integer_value(v));
		printf("  pause_rx %lld  pool_limited %lld  paused", i(p, "pause_rx"),
		       i(p, "pool_limited"));
		if (json_array_size(held) == 0)
			printf(" -");
		json_array_foreach(held, k, v)
			printf(" %lld", (long long)json_integer_value(v));
		printf("\n");
	}
	printf("  %-16s %-7s %6s %7s %7s %6s %12s %12s %10s %7s %8s %5s\n", "CLASS", "KIND",
	       "WEIGHT", "MIN", "MAX", "STRICT", "OFFERED_B", "SENT_B", "DROPPED", "SHARE",
	       "QUEUE_B", "PCP");
	json_array_foreach(a, idx, c) {
		print_rate(i(c, "min_bps"), min, sizeof(min));
		print_rate(i(c, "max_bps"), max, sizeof(max));
		printf("  %-16s %-7s %6lld %7s %7s %6lld %12lld %12lld %10lld %6.1f%% %8lld %5s\n",
		       s(c, "name"), s(c, "kind"), i(c, "weight"), min, max, i(c, "strict"),
		       i(c, "offered_bytes"), i(c, "sent_bytes"), i(c, "dropped_frames"),
		       100.0 * json_real_value(json_object_get(c, "share")), i(c, "queue_bytes"),
		       json_object_get(c, "pcp") != NULL ? "" : "-");
	}
}

static void
print_qos(json_t *r)
{
	json_t *a = json_object_get(r, "ports"), *p, *cls = json_object_get(r, "classes");
	size_t idx;

	if (!json_is_array(a)) {
		print_kv(r); /* class add / del */
		return;
	}
	printf("bandwidth-mode %s, default flow weight %lld min %lld bit/s\n",
	       s(r, "bandwidth_mode"), i(r, "default_flow_weight"), i(r, "default_flow_min_bw"));
	json_array_foreach(cls, idx, p) {
		json_t *o = json_object_get(p, "options");

		printf("class %-16s match \"%s\" weight %lld min %lld max %lld strict %lld%s%s\n",
		       s(p, "name"), s(o, "match"), i(o, "weight"), i(o, "min-bw"), i(o, "max-bw"),
		       i(o, "strict"), json_object_get(o, "port") != NULL ? " port " : "",
		       json_object_get(o, "port") != NULL ? s(o, "port") : "");
	}
	json_array_foreach(a, idx, p)
		print_port(p);
}

/* qos class add NAME key=value ... | qos class del NAME */
static int
run_class(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	struct cmd one = *c;
	json_t *params;
	int r;

	if (argc < 2 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "del") != 0))
		return fail_usage("expected", c->usage);
	params = json_object();
	json_object_set_new(params, "name", json_string(argv[1]));
	if (argv[0][0] == 'a') {
		json_t *opts = json_object();

		one.method = "qos.class_add";
		json_object_set_new(params, "options", opts);
		if ((r = kv_into(opts, argc - 2, argv + 2)) != 0) {
			json_decref(params);
			return r;
		}
	} else {
		one.method = "qos.class_del";
		if (argc != 2) {
			json_decref(params);
			return fail_usage("expected", c->usage);
		}
	}
	return request(&one, sock, as_json, params);
}

static void
print_nothing(json_t *r)
{
	(void)r;
}

/* qos top [PORT] [count=N]: qos show once a second (shares over the second). */
static int
run_qos_top(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	struct cmd quiet = *c;
	long count = -1;
	const char *port = NULL;
	int r = 0;

	quiet.print = print_nothing;
	for (int k = 0; k < argc; k++) {
		if (strncmp(argv[k], "count=", 6) == 0)
			count = strtol(argv[k] + 6, NULL, 10);
		else if (port == NULL)
			port = argv[k];
		else
			return fail_usage("expected", c->usage);
	}
	for (long n = 0; count < 0 || n <= count; n++) {
		json_t *params = json_object();

		if (port != NULL)
			json_object_set_new(params, "name", json_string(port));
		/* the first reply only starts the share interval */
		if (n > 0 && !as_json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (n > 0 || count == 0)
			r = request(c, sock, as_json, params);
		else
			r = request(&quiet, sock, false, params);
		fflush(stdout);
		if (r != 0)
			return r;
		if (count < 0 || n < count)
			sleep(1);
	}
	return r;
}

/* qos_top_section's previous reply and when it came. */
static json_t *top_prev;
static double top_prev_t;

/* The element of array o[arr] whose field key is name, or NULL. */
static json_t *
named(json_t *o, const char *arr, const char *key, const char *name)
{
	json_t *e;
	size_t k;

	json_array_foreach(json_object_get(o, arr), k, e)
		if (strcmp(s(e, key), name) == 0)
			return e;
	return NULL;
}

/* Per second, counter k of c since pc (dt s); -1 when unknown. */
static double
per_s(json_t *c, json_t *pc, double dt, const char *k)
{
	if (pc == NULL || dt <= 0 || i(c, k) < i(pc, k))
		return -1;
	return (double)(i(c, k) - i(pc, k)) / dt;
}

static void
top_row(int cols, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
top_row(int cols, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cols > 3 && strlen(buf) > (size_t)cols)
		printf("%.*s...\n", cols - 3, buf);
	else
		printf("%s\n", buf);
}

void
qos_top_section(const char *sock, int cols, int term_rows, size_t n_workers)
{
	/* top keeps its last line free; the workers take 2 + n_workers */
	int rows = term_rows > 0 ? term_rows - 3 - (int)n_workers : 0;
	json_t *req = json_pack("{s:s,s:{}}", "method", "qos.show", "params");
	char why[256];
	json_t *reply = call(sock, req, 5000, why, sizeof(why)), *r, *p;
	struct timespec ts;
	double now, dt;
	int shown = 0;
	size_t k;

	json_decref(req);
	if (term_rows > 0 && rows < 3) {
		json_decref(reply);
		return; /* no room */
	}
	r = reply != NULL ? json_object_get(reply, "result") : NULL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	dt = now - top_prev_t;
	json_array_foreach(json_object_get(r, "ports"), k, p) {
		json_t *pp = named(top_prev, "ports", "port", s(p, "port")), *c;
		double cap = (double)i(p, "capacity_bps");
		size_t j;

		if (!json_is_array(json_object_get(p, "classes")))
			continue;
		if (shown == 0) {
			top_row(cols, "%s", "");
			top_row(cols, "%-12s %-14s %9s %9s %9s %6s %7s %9s", "QOS PORT", "CLASS",
				"OFFER/s", "SENT/s", "DROP/s", "SHARE", "QUEUE", "QUEUE_B");
			shown = 2;
		}
		json_array_foreach(json_object_get(p, "classes"), j, c) {
			json_t *pc = pp != NULL ? named(pp, "classes", "name", s(c, "name")) : NULL;
			double sb = per_s(c, pc, dt, "sent_bytes");
			char of[16] = "-", se[16] = "-", dr[16] = "-", sh[16] = "-";

			if (rows > 0 && shown >= rows) {
				top_row(cols, "(more QoS classes; enlarge the terminal or see qos top)");
				goto out;
			}
			if (pc != NULL) {
				snprintf(of, sizeof(of), "%.0f", per_s(c, pc, dt, "offered_frames"));
				snprintf(se, sizeof(se), "%.0f", per_s(c, pc, dt, "sent_frames"));
				snprintf(dr, sizeof(dr), "%.0f", per_s(c, pc, dt, "dropped_frames"));
				if (sb >= 0 && cap > 0)
					snprintf(sh, sizeof(sh), "%.1f%%", 100.0 * sb * 8 / cap);
			}
			top_row(cols, "%-12s %-14s %9s %9s %9s %6s %7lld %9lld", j == 0 ? s(p, "port") : "",
				s(c, "name"), of, se, dr, sh, i(c, "queue_frames"), i(c, "queue_bytes"));
			shown++;
		}
	}
out:
	if (r != NULL) {
		json_decref(top_prev);
		top_prev = json_incref(r);
		top_prev_t = now;
	}
	json_decref(reply);
}

const struct cmd qos_cmds[] = {
	{{"qos", "show"}, "qos.show", ARGS_OPT_NAME, "[PORT]",
	 "egress QoS: per scheduling port its classes, offered, sent, dropped, share, queue",
	 print_qos},
	{{"qos", "class"}, "qos.class_add", ARGS_NONE,
	 "add NAME match=\"...\" [weight=N] [min-bw=R] [max-bw=R] [pcp=P] [strict=L] [port=P] "
	 "| del NAME",
	 "add or delete a traffic class (stored)", print_qos, run_class},
	{{"qos", "top"}, "qos.show", ARGS_NONE, "[PORT] [count=N]",
	 "qos show every second, shares over the last second", print_qos, run_qos_top},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char qos_options_help[] =
	"\nqos: a port with qos=on schedules its egress against link-rate=RATE (bit/s, K/M/G;\n"
	"  0: the link's reported speed). Classes: the default flow (switch set\n"
	"  default-flow-weight=N or default-flow-min-bw=R), every port with min-bw-weight=N,\n"
	"  min-bw=R or max-bw=R (its frames), and traffic classes matched by\n"
	"  \"tcp|udp|sctp|proto N pcp LIST dscp LIST dport N[-M] sport N[-M]\" (ports of tcp\n"
	"  and udp). Minimums are weights or absolutes as switch set\n"
	"  bandwidth-mode=weight|absolute|none says;\n"
	"  caps (max-bw) hold even on an idle link; pcp=P marks 802.1p on egress; strict=L\n"
	"  (1-8) serves a class before every weighted one (ETS strict priority).\n";

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl: command-line client of xvsd. It only speaks the JSON protocol over
 * the control socket (see src/ctl/rpc.c). Tables of commands, one per
 * feature (xvsctl_tables, struct cmd in xvsctl.h), give every command its
 * words, its RPC method, how its arguments map to parameters, its help line
 * and its human table; --json prints the daemon's result as is.
 * A command that is more than one request and one reply (top) names its own
 * run function in the table instead (cli/top.c). This file keeps main, the
 * dispatch, argument building, usage and the socket call; each feature's
 * commands, printers and option help are in cli/<feature>.c.
 * Errors: the daemon's message on stderr, exit status 1 (2 for usage errors,
 * 3 when the daemon cannot be reached).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
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

static const struct cmd base_cmds[] = {
	{{"methods", NULL}, "help", ARGS_NONE, "", "list the daemon's RPC methods",
	 print_methods},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

/* Every feature's table; a new feature adds one line. */
static const struct cmd_table xvsctl_tables[] = {
	{port_cmds, port_options_help},
	{top_cmds, top_options_help},
	{rss_cmds, rss_options_help},
	{fdb_cmds, ""},
	{switch_cmds, ""},
	{base_cmds, ""},
	{queue_cmds, ""},
	{balancer_cmds, ""},
	{vmq_cmds, ""},
	{ext_cmds, EXT_OPTIONS_HELP},
	{mirror_cmds, mirror_options_help},
	{capture_cmds, capture_options_help},
	{xvsctl_acl_cmds, xvsctl_acl_help},
	{qos_cmds, qos_options_help},
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
int
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

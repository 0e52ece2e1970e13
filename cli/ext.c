/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl ext: extensions (the ext.* methods of src/ctl/cmd_ext.c). Commands
 * with positional words (enable NAME PORT, order NAME before|after OTHER)
 * map them to parameters here; the rest use the common argument modes.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xvsctl.h"

static void
print_list(json_t *r)
{
	json_t *e, *p;
	size_t k, j;

	printf("%-20s %-8s %-15s %-7s %s\n", "NAME", "KIND", "PLACES", "STATE", "PORTS / ORIGIN");
	json_array_foreach(json_object_get(r, "extensions"), k, e) {
		char places[32] = "", ports[256] = "";

		if (!json_is_true(json_object_get(e, "loaded"))) {
			printf("%-20s %-8s %-15s %-7s %s\n", s(e, "name"), "-", "-", "waiting",
			       "settings stored, not loaded");
			continue;
		}
		json_array_foreach(json_object_get(e, "places"), j, p)
			snprintf(places + strlen(places), sizeof(places) - strlen(places), "%s%s",
				 j ? "," : "", json_string_value(p));
		json_array_foreach(json_object_get(e, "ports"), j, p)
			snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%s%s",
				 j ? "," : "", json_string_value(p));
		printf("%-20s %-8s %-15s %-7s %s  %s\n", s(e, "name"), s(e, "kind"), places,
		       json_is_true(json_object_get(e, "disabled")) ? "off" : "on",
		       ports[0] ? ports : "-", s(e, "origin"));
	}
}

static void
print_names(const char *label, json_t *a)
{
	json_t *v;
	size_t k;

	printf("%s:", label);
	if (json_array_size(a) == 0)
		printf(" -");
	json_array_foreach(a, k, v)
		printf(" %s", json_string_value(v));
	printf("\n");
}

static void
print_settings(const char *label, json_t *o)
{
	const char *k;
	json_t *v;

	printf("  %s:", label);
	if (json_object_size(o) == 0)
		printf(" -");
	json_object_foreach(o, k, v)
		printf(" %s=%s", k, json_string_value(v));
	printf("\n");
}

static void
print_stored(json_t *st)
{
	const char *k;
	json_t *v;
	size_t i;

	printf("settings:\n");
	print_settings("global", json_object_get(st, "global"));
	json_object_foreach(json_object_get(st, "ports"), k, v)
		print_settings(k, v);
	print_names("stored ports", json_object_get(st, "enabled_on"));
	printf("order rules:");
	if (json_array_size(json_object_get(st, "order")) == 0)
		printf(" -");
	json_array_foreach(json_object_get(st, "order"), i, v)
		printf(" [%s %s %s]", s(v, "ext"), s(v, "rel"), s(v, "other"));
	printf("\n");
}

/* "ingress order, position N: a b c" per place of runs. */
static void
print_runs(json_t *runs)
{
	const char *k;
	json_t *v;

	json_object_foreach(runs, k, v) {
		if (!json_is_object(v)) {
			printf("order: %s\n", json_string_value(v));
			continue;
		}
		printf("%s order, position %lld", k, i(v, "position"));
		print_names("", json_object_get(v, "order"));
	}
}

static void
print_order(json_t *r)
{
	printf("%s %s %s %s\n", s(r, "name"),
	       json_is_true(json_object_get(r, "removed")) ? "no longer runs" : "runs", s(r, "rel"),
	       s(r, "other"));
	print_runs(json_object_get(r, "runs"));
}

static void
print_show(json_t *r)
{
	const char *k;
	json_t *v;

	printf("extension %s%s\n", s(r, "name"),
	       json_is_true(json_object_get(r, "loaded")) ? "" : " (not loaded: settings wait)");
	if (!json_is_true(json_object_get(r, "loaded"))) {
		print_stored(json_object_get(r, "stored"));
		return;
	}
	printf("description: %s\nkind: %s\norigin: %s\n", s(r, "description"), s(r, "kind"),
	       s(r, "origin"));
	print_names("places", json_object_get(r, "places"));
	print_names("runs before", json_object_get(r, "runs_before"));
	print_names("runs after", json_object_get(r, "runs_after"));
	if (json_is_true(json_object_get(r, "disabled")))
		printf("disabled: %s\n", s(r, "disabled_why"));
	print_runs(json_object_get(r, "runs"));
	print_names("ports", json_object_get(r, "ports"));
	print_stored(json_object_get(r, "stored"));
	printf("counters:\n");
	json_object_foreach(json_object_get(r, "counters"), k, v)
		printf("  %-24s %lld\n", k, (long long)json_integer_value(v));
	print_names("drop reasons", json_object_get(r, "drop_reasons"));
}

static void
print_set(json_t *r)
{
	printf("extension %s, %s%s:\n", s(r, "name"), s(r, "port")[0] ? "port " : "",
	       s(r, "port")[0] ? s(r, "port") : "global");
	print_settings("settings", json_object_get(r, "settings"));
}

static void
print_done(json_t *r)
{
	print_kv(r);
}

/* Positional words into params under names[0..n). */
static int
words(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv,
      const char *const *names, int n)
{
	json_t *params;

	if (argc != n)
		return fail_usage("expected", c->usage);
	params = json_object();
	for (int k = 0; k < n; k++)
		json_object_set_new(params, names[k], json_string(argv[k]));
	return request(c, sock, as_json, params);
}

static int
run_switch(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	static const char *const names[] = {"name", "port"};

	return words(c, sock, as_json, argc, argv, names, 2);
}

static int
run_order(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	static const char *const names[] = {"name", "rel", "other"};

	if (argc == 3 && strcmp(argv[1], "before") != 0 && strcmp(argv[1], "after") != 0)
		return fail_usage("expected before or after", argv[1]);
	return words(c, sock, as_json, argc, argv, names, 3);
}

/* The daemon resolves paths in its own working directory: send an absolute
 * one. */
static int
run_load(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	static const char *const names[] = {"path"};
	char abs[PATH_MAX];
	char *arg[1];

	if (argc != 1)
		return fail_usage("expected", c->usage);
	if (argv[0][0] != '/' && realpath(argv[0], abs) != NULL)
		arg[0] = abs;
	else
		arg[0] = argv[0];
	return words(c, sock, as_json, 1, arg, names, 1);
}

const struct cmd ext_cmds[] = {
	{{"ext", "list"}, "ext.list", ARGS_NONE, "", "extensions, loaded and waiting", print_list},
	{{"ext", "show"}, "ext.show", ARGS_NAME, "NAME",
	 "an extension: descriptor, order, ports, settings, counters", print_show},
	{{"ext", "load"}, "ext.load", ARGS_NONE, "PATH", "load a shared-object extension",
	 print_done, run_load},
	{{"ext", "unload"}, "ext.unload", ARGS_NAME, "NAME|PATH",
	 "unload an extension (its settings stay stored)", print_done},
	{{"ext", "enable"}, "ext.enable", ARGS_NONE, "NAME PORT", "run an extension on a port",
	 print_done, run_switch},
	{{"ext", "disable"}, "ext.disable", ARGS_NONE, "NAME PORT",
	 "stop running an extension on a port", print_done, run_switch},
	{{"ext", "order"}, "ext.order", ARGS_NONE, "NAME before|after OTHER",
	 "order two extensions", print_order, run_order},
	{{"ext", "unorder"}, "ext.unorder", ARGS_NONE, "NAME before|after OTHER",
	 "take an order constraint back", print_order, run_order},
	{{"ext", "set"}, "ext.set", ARGS_NAME_KV, "NAME [port=PORT] key=value ...",
	 "change an extension's settings", print_set},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

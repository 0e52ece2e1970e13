/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl fdb commands: show, flush, add, del (fdb.*), and a port's
 * learning state (print_fdb_port, shown by port stats too).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xvsctl.h"

/* A port's learning state (fdb.show "ports", port.stats "fdb"); with all
 * false only when something was refused. */
void
print_fdb_port(const char *name, json_t *f, bool all)
{
	if (f == NULL || (!all && i(f, "learn_limit") == 0 && i(f, "static_conflict") == 0))
		return;
	printf("  %s: %lld learned of mac-limit %lld%s, learn_limit %lld, static_conflict %lld\n",
	       name, i(f, "learned"), i(f, "mac_limit"), i(f, "mac_limit") ? "" : " (none)",
	       i(f, "learn_limit"), i(f, "static_conflict"));
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

const struct cmd fdb_cmds[] = {
	{{"fdb", "show"}, "fdb.show", ARGS_FILTER, "[port=NAME] [vlan=ID]", "show the FDB",
	 print_fdb},
	{{"fdb", "flush"}, "fdb.flush", ARGS_FILTER, "[port=NAME] [vlan=ID]",
	 "remove learned entries", print_kv},
	{{"fdb", "add"}, "fdb.add", ARGS_MAC_KV, "MAC vlan=ID port=NAME", "add a static entry",
	 print_kv},
	{{"fdb", "del"}, "fdb.del", ARGS_MAC_KV, "MAC vlan=ID", "delete an entry", print_kv},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

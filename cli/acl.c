/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl acl: port ACL rules (add, del, show, clear) over the acl.* methods
 * (src/ctl/cmd_acl.c). Rule keys are checked by xvsd, which names the field
 * of a malformed rule; doc/acl.md explains them.
 */
#include <stdio.h>

#include "xvsctl.h"

static void
print_acl_added(json_t *r)
{
	printf("port %s: rule %lld: %s\n", s(r, "port"), i(r, "id"), s(r, "rule"));
}

static void
print_acl(json_t *r)
{
	json_t *ports = json_object_get(r, "ports"), *p, *rule, *ctr;
	const char *key;
	size_t k, j;

	if (json_array_size(ports) == 0)
		printf("no ACL rules\n");
	json_array_foreach(ports, k, p) {
		json_t *rules = json_object_get(p, "rules");

		printf("port %s: %zu rule%s, stage %s, %lld stateful flow%s\n", s(p, "port"),
		       json_array_size(rules), json_array_size(rules) == 1 ? "" : "s",
		       json_is_true(json_object_get(p, "enabled")) ? "on" : "off", i(p, "flows"),
		       i(p, "flows") == 1 ? "" : "s");
		if (json_array_size(rules) > 0)
			printf("  %6s %12s  %s\n", "ID", "HITS", "RULE");
		json_array_foreach(rules, j, rule)
			printf("  %6lld %12lld  %s\n", i(rule, "id"), i(rule, "hits"),
			       s(rule, "rule"));
	}
	ctr = json_object_get(r, "counters");
	if (json_object_size(ctr) > 0) {
		json_t *v;
		int col = 0;

		printf("acl stage (all ports):");
		json_object_foreach(ctr, key, v) {
			printf("%s%s %lld", col++ % 4 == 0 ? "\n  " : "   ", key,
			       (long long)json_integer_value(v));
		}
		printf("\n");
	}
}

const struct cmd xvsctl_acl_cmds[] = {
	{{"acl", "add"}, "acl.add", ARGS_NAME_KV, "PORT dir=D action=A [key=value ...]",
	 "add an ACL rule to a port (keys below)", print_acl_added},
	{{"acl", "del"}, "acl.del", ARGS_NAME_ID, "PORT ID", "delete rule ID of a port", print_kv},
	{{"acl", "show"}, "acl.show", ARGS_OPT_NAME, "[PORT]",
	 "ACL rules with ids and hit counts, stage counters", print_acl},
	{{"acl", "clear"}, "acl.clear", ARGS_NAME, "PORT", "delete every ACL rule of a port",
	 print_kv},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char xvsctl_acl_help[] =
	"\nacl add keys (dir and action required; in = to the port, out = from it):\n"
	"  dir=in|out|both   action=allow|deny|meter   rate=BITS/S[k|m|g] or rate=N[k]pps\n"
	"  local=PREFIX remote=PREFIX (also local-ip=, remote-ip=; IPv4 or IPv6)\n"
	"  local-mac=MAC remote-mac=MAC   proto=tcp|udp|icmp|icmpv6|N\n"
	"  local-port=N[-M] remote-port=N[-M] (tcp, udp)   weight=0-65535 (higher wins;\n"
	"  ties: the older rule)   stateful=on [timeout=SECONDS] (allow: lets the\n"
	"  flow's return traffic in, until idle for timeout, default 60)\n";

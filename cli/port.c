/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl port commands: add, del, set, list, show, stats (port.*), their
 * options (kinds and per-port settings) and their tables.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xvsctl.h"

/* The ports of a list result ({"ports": [...]}), or the one port a
 * port.add / port.set / rss.set result is. New reference. */
json_t *
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

const struct cmd port_cmds[] = {
	{{"port", "add"}, "port.add", ARGS_NAME_KIND_KV, "NAME KIND [key=value ...]",
	 "add a port; KIND: tap afxdp afpacket vhost pcap null pci", print_ports},
	{{"port", "del"}, "port.del", ARGS_NAME, "NAME", "delete a port", print_kv},
	{{"port", "set"}, "port.set", ARGS_NAME_KV, "NAME key=value ...",
	 "change vlan-mode, vlan, trunks, native, mtu or mac-limit of a port", print_ports},
	{{"port", "list"}, "port.list", ARGS_NONE, "", "list ports", print_ports},
	{{"port", "show"}, "port.list", ARGS_NAME, "NAME", "show one port", print_ports},
	{{"port", "stats"}, "port.stats", ARGS_OPT_NAME, "[NAME]", "port counters",
	 print_port_stats},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char port_options_help[] =
	"\nport options (key=value):\n"
	"  ifname=IF (tap, afxdp, afpacket)   netns=NS mac=MAC (tap)\n"
	"  path=FILE (vhost socket, pcap rx)   tx-path=FILE infinite=on (pcap)\n"
	"  client=on (vhost)   queues=N   start-queue=N (afxdp)   pci=ADDR (pci)\n"
	"  xdp-mode=auto|copy|zero-copy (afxdp)\n"
	"  mtu=N   vlan-mode=access|trunk   vlan=ID   trunks=LIST   native=ID|none\n"
	"  mac-limit=N (MACs learned on the port, 0 = no limit, default 4096)\n"
	"  vmq-weight=0-100 (tap, vhost: a receive queue of its own on VMQ uplinks; 0 never,\n"
	"    default 100)   vmmq-queues=1-16 (tap, vhost: VMMQ, queues per VMQ uplink)\n"
	"  vmq-queues=N (afxdp, afpacket, pci: VMQ queues, 0 = off)\n";

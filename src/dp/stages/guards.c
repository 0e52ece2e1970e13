/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_guard and router_guard (datapath): ingress filters of VM ports that
 * drop the server side of DHCP and of IPv6/IPv4 router discovery, with the
 * classifier of src/core/guard.c. Refused on uplinks, where the real servers
 * and routers are. No settings: enabled on a port means on.
 */
#include <stdio.h>

#include "guard.h"
#include "pkt_parse.h"
#include "stages.h"

/* Indices into each stage's drop_reasons. */
enum { DHCP_R_DHCP4, DHCP_R_DHCP6, DHCP_R_INCOMPLETE };
enum { ROUTER_R_ROUTER6, ROUTER_R_ROUTER4, ROUTER_R_INCOMPLETE };

static inline void
guard_burst(const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason, bool dhcp)
{
	for (uint16_t i = 0; i < b->n; i++) {
		enum xvs_guard_class cls;

		/* Neither guard acts on a frame that is not IP. The EtherType,
		 * not meta.l3: an IP header the parser gave up on (too many IPv6
		 * extension headers) must still reach the classifier, which
		 * drops what it cannot see through. */
		uint16_t et = xvs_rd16(b->data[i] + b->meta[i]->l3_off - 2);

		if (et != XVS_ETYPE_IPV4 && et != XVS_ETYPE_IPV6)
			continue;
		cls = xvs_guard_classify(b->data[i], b->len[i]);
		if (!xvs_guard_drops(cls, dhcp, !dhcp))
			continue;
		verdict[i] = XVS_VERDICT_DROP;
		switch (cls) {
		case XVS_GUARD_DHCP4_SERVER:
			reason[i] = DHCP_R_DHCP4;
			break;
		case XVS_GUARD_DHCP6_SERVER:
			reason[i] = DHCP_R_DHCP6;
			break;
		case XVS_GUARD_ROUTER6:
			reason[i] = ROUTER_R_ROUTER6;
			break;
		case XVS_GUARD_ROUTER4:
			reason[i] = ROUTER_R_ROUTER4;
			break;
		default:
			reason[i] = dhcp ? DHCP_R_INCOMPLETE : ROUTER_R_INCOMPLETE;
			break;
		}
	}
}

static void
dhcp_guard_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	guard_burst(b, verdict, reason, true);
}

static void
router_guard_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	guard_burst(b, verdict, reason, false);
}

static int
vm_port_only(void *ctx, const struct xvs_ext_port *port, bool on, char *err, size_t err_len)
{
	const char *what = ctx;

	if (on && (port->flags & XVS_EXT_PORT_UPLINK)) {
		snprintf(err, err_len, "port %s: %s is for VM ports; an uplink is where the real %s are",
			 port->name, what, what[0] == 'd' ? "DHCP servers" : "routers");
		return -EPERM;
	}
	return 0;
}

static int
dhcp_init(const struct xvs_ext_host *host, void **ctx)
{
	*ctx = (void *)"dhcp-guard";
	return 0;
}

static int
router_init(const struct xvs_ext_host *host, void **ctx)
{
	*ctx = (void *)"router-guard";
	return 0;
}

static const struct xvs_ext_ops dhcp_guard_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.init = dhcp_init,
	.process = dhcp_guard_process,
	.port_enable = vm_port_only,
};

static const struct xvs_ext_ops router_guard_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.init = router_init,
	.process = router_guard_process,
	.port_enable = vm_port_only,
};

static const char *const dhcp_reasons[] = {"dhcp4_server", "dhcp6_server",
					   "incomplete_header_chain", NULL};
static const char *const router_reasons[] = {"router6", "router4", "incomplete_header_chain",
					     NULL};

const struct xvs_ext_desc xvs_stage_dhcp_guard = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "dhcp_guard",
	.description = "drops DHCP server messages (DHCPv4 offer/ack, DHCPv6 advertise/reply) a VM sends",
	.kind = XVS_EXT_FILTER,
	.places = XVS_EXT_INGRESS,
	.drop_reasons = dhcp_reasons,
	.ops = &dhcp_guard_ops,
};

const struct xvs_ext_desc xvs_stage_router_guard = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "router_guard",
	.description = "drops router advertisements and redirects (ICMPv6 134/137, ICMP 9/5) a VM sends",
	.kind = XVS_EXT_FILTER,
	.places = XVS_EXT_INGRESS,
	.drop_reasons = router_reasons,
	.ops = &router_guard_ops,
};

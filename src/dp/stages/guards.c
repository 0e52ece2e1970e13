/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_guard and router_guard (datapath): ingress filters of VM ports that
 * drop the server side of DHCP and of IPv6/IPv4 router discovery, with the
 * classifier of src/core/guard.c. Refused on uplinks, where the real servers
 * and routers are. No settings: enabled on a port means on.
 */
#include <stdio.h>

#include <rte_branch_prediction.h>

#include "dp.h"
#include "guard.h"
#include "pkt_parse.h"
#include "stages.h"

/* Indices into each stage's drop_reasons. */
enum { DHCP_R_DHCP4, DHCP_R_DHCP6, DHCP_R_INCOMPLETE };
enum { ROUTER_R_ROUTER6, ROUTER_R_ROUTER4, ROUTER_R_INCOMPLETE };

#define PROTO_ICMP 1
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

/* Can the metadata alone clear the frame? Only when the parser saw the whole
 * header chain (an L4 offset, not a fragment) and the protocol or ports are
 * not what the guard looks for; anything else goes to the classifier, which
 * also drops what it cannot see through (an IPv6 chain longer than the parser
 * walks has no L4 offset). A frame that is not IP is cleared by its EtherType,
 * not by meta.l3, which a malformed IP header also leaves 0. The common case
 * (meta.l3 set, which the parser does only for an IPv4/IPv6 EtherType) is
 * decided from the metadata alone, without reading the frame but for ports. */
static inline __attribute__((always_inline)) bool
surely_clean(const struct xvs_pkt_meta *md, const uint8_t *d, bool dhcp)
{
	uint16_t et, sport, dport;

	if (likely(md->l3 != 0 && md->l4_off != 0 && !(md->flags & XVS_META_FRAGMENT))) {
		if (!dhcp)
			return md->l4_proto != PROTO_ICMP && md->l4_proto != PROTO_ICMPV6;
		if (md->l4_proto != PROTO_UDP)
			return true;
		if (!(md->flags & XVS_META_HAS_PORTS))
			return false;
		/* guard.h: DHCPv4 from 67 or to 68; DHCPv6 from 547 or to 546/547. */
		sport = xvs_rd16(d + md->l4_off);
		dport = xvs_rd16(d + md->l4_off + 2);
		return sport != 67 && dport != 68 && sport != 547 && dport != 546 && dport != 547;
	}
	et = xvs_rd16(d + md->l3_off - 2);
	return et != XVS_ETYPE_IPV4 && et != XVS_ETYPE_IPV6;
}

static inline __attribute__((always_inline)) void
guard_burst(const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason, bool dhcp)
{
	uint8_t all = 0xff;

	/* The metadata fill marked the frames neither guard acts on (dp.h):
	 * a burst of them only, the common case, is one look at each flag. */
	for (uint16_t i = 0; i < b->n; i++)
		all &= b->meta[i]->flags;
	if (all & XVS_META_GUARD_CLEAN)
		return;
	for (uint16_t i = 0; i < b->n; i++) {
		enum xvs_guard_class cls;

		if ((b->meta[i]->flags & XVS_META_GUARD_CLEAN) ||
		    surely_clean(b->meta[i], b->data[i], dhcp))
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

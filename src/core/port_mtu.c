/* SPDX-License-Identifier: BSD-3-Clause */
/* MTU arithmetic of the port kinds (core); see port_mtu.h. */
#include <errno.h>

#include "port_mtu.h"

/* Largest MTU per kind, and what sets it (for the message that refuses more). */
static const struct {
	uint32_t mtu_max;
	const char *limit;
} kind_caps[XVS_PORT__MAX] = {
	[XVS_PORT_TAP] = {9000, "kernel tap"},
	[XVS_PORT_AFXDP] = {XVS_AFXDP_MTU_MAX, "one 2 KB umem frame per packet"},
	[XVS_PORT_AFPACKET] = {9000, "ring slots sized from the MTU"},
	[XVS_PORT_VHOST] = {9000, "a chain is flattened into one 9 KB mbuf for ports without offloads"},
	[XVS_PORT_PCAP] = {9000, "one jumbo mbuf per frame"},
	[XVS_PORT_NULL] = {9000, "no frames"},
	[XVS_PORT_PCI] = {9000, "scattered rx or jumbo mbufs; the NIC may allow less"},
};

uint32_t
xvs_port_kind_mtu_max(enum xvs_port_kind kind, const char **limit)
{
	if ((unsigned int)kind >= XVS_PORT__MAX) {
		if (limit != NULL)
			*limit = "unknown kind";
		return 0;
	}
	if (limit != NULL)
		*limit = kind_caps[kind].limit;
	return kind_caps[kind].mtu_max;
}

int
xvs_port_mtu_check(const char *port, enum xvs_port_kind kind, uint32_t mtu, struct xvs_err *err)
{
	const char *limit;
	uint32_t max = xvs_port_kind_mtu_max(kind, &limit);

	if (mtu <= max)
		return 0;
	return xvs_err_set(err, -EINVAL,
			   "port %s: mtu %u is more than %s ports carry (at most %u: %s)", port,
			   mtu, xvs_port_kind_name(kind), max, limit);
}

void
xvs_afp_ring_for_mtu(uint32_t mtu, uint32_t page, struct xvs_afp_ring *r)
{
	uint32_t f = (XVS_AFP_MAC_OFF + XVS_FRAME_MAX(mtu) + 1 + 1023) / 1024 * 1024;
	uint32_t b, fpb;

	if (f < 2048)
		f = 2048;
	/* least common multiple of the slot and the page: at most page / 1024
	 * slots, since the slot is a multiple of 1 KB */
	for (b = f; b % page != 0; b += f)
		;
	fpb = b / f;
	r->framesz = f;
	r->blocksz = b;
	r->framecnt = (XVS_AFP_FRAMES + fpb - 1) / fpb * fpb;
}

uint32_t
xvs_afp_ring_mtu_max(uint32_t framesz)
{
	return framesz - XVS_AFP_MAC_OFF - XVS_FRAME_MAX(0) - 1;
}

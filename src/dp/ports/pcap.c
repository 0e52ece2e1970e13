/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap and null port kinds (datapath, control thread): DPDK's net_pcap
 * replaying capture files (and optionally writing one) and net_null as a
 * sink, for tests and the memory-only benchmark. Built on the ethdev base
 * (ethdev.h); what is theirs: the devargs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ethdev.h"

/* One rx queue per rx_pcap file: with queues=N, queue i replays the path
 * with "{q}" replaced by i (a capture split the way a NIC's RSS would split
 * the traffic), or the same file when there is no {q}. */
static int
pcap_devargs(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len, uint16_t *nq)
{
	const struct xvs_port_cfg *c = &p->cfg;
	const char *ph = strstr(c->path, "{q}");
	uint16_t q = c->queues ? c->queues : 1;
	size_t used;
	int n;

	(void)e;
	*nq = q;
	snprintf(p->devname, sizeof(p->devname), "net_pcap_xvs%u", xvs_port_devname_seq());
	n = snprintf(buf, len, "%s", p->devname);
	used = n > 0 ? (size_t)n : len;
	for (uint16_t i = 0; i < q && used < len; i++) {
		if (ph != NULL)
			n = snprintf(buf + used, len - used, ",rx_pcap=%.*s%u%s",
				     (int)(ph - c->path), c->path, i, ph + 3);
		else
			n = snprintf(buf + used, len - used, ",rx_pcap=%s", c->path);
		used += n > 0 ? (size_t)n : len;
	}
	if (used < len)
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s",
					 c->pcap_infinite ? ",infinite_rx=1" : "",
					 c->tx_path[0] ? ",tx_pcap=" : "", c->tx_path);
	return used < len ? 0 : -ENAMETOOLONG;
}

static int
null_devargs(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len, uint16_t *nq)
{
	int n;

	(void)e;
	*nq = 1;
	snprintf(p->devname, sizeof(p->devname), "net_null_xvs%u", xvs_port_devname_seq());
	n = snprintf(buf, len, "%s,no-rx=1", p->devname);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static const struct xvs_ethdev_kind pcap_kind = {
	.bus = "vdev",
	.priv_size = sizeof(struct xvs_ethdev),
	.devargs = pcap_devargs,
};

static const struct xvs_ethdev_kind null_kind = {
	.bus = "vdev",
	.priv_size = sizeof(struct xvs_ethdev),
	.devargs = null_devargs,
};

const struct xvs_port_ops xvs_port_pcap_ops = {
	XVS_ETHDEV_OPS(XVS_PORT_PCAP, &pcap_kind),
	.rxq_intr = xvs_ethdev_rxq_intr,
	.open = xvs_ethdev_open,
	.close = xvs_ethdev_close,
};

const struct xvs_port_ops xvs_port_null_ops = {
	XVS_ETHDEV_OPS(XVS_PORT_NULL, &null_kind),
	.rxq_intr = xvs_ethdev_rxq_intr,
	.open = xvs_ethdev_open,
	.close = xvs_ethdev_close,
};

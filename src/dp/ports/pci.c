/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI NIC port kind (datapath, control thread): a DPDK-bound NIC probed on
 * the PCI bus (xvsd --pci). Built on the ethdev base (ethdev.h); what is its
 * own: receiving long frames as chains (scatter), and RSS in the NIC: with
 * several rx queues it hashes with xvs's key and types, and xvs programs its
 * RETA to choose which queues get traffic (xvs_port_ops.rss_apply).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "ethdev.h"

static int
pci_devargs(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len, uint16_t *nq)
{
	int n;

	(void)e;
	*nq = p->cfg.queues ? p->cfg.queues : 1;
	snprintf(p->devname, sizeof(p->devname), "%s", p->cfg.pci);
	n = snprintf(buf, len, "%s", p->cfg.pci);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* The NIC hashes with our key and types; rss_apply programs the RETA once
 * the device runs. */
static void
pci_configure(struct xvs_port *p, struct xvs_ethdev *e, uint16_t nrx, struct rte_eth_conf *conf)
{
	if (nrx <= 1)
		return;
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_key = p->cfg.rss.key;
	conf->rx_adv_conf.rss_conf.rss_key_len = XVS_RSS_KEY_LEN;
	conf->rx_adv_conf.rss_conf.rss_hf = xvs_ethdev_rss_hf(p->cfg.rss.types) & e->rss_hf_capa;
}

/* Several queues: steer with its RETA (needs a Toeplitz hash over our key,
 * which the device must report it supports). */
static int
pci_post_start(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err)
{
	(void)err;
	if (p->n_rxq > 1 && e->reta_size > 0 && e->hash_key_size == XVS_RSS_KEY_LEN) {
		p->rss_steerable = true;
		p->rss_hw_reta = true;
		p->reta_size = e->reta_size;
	}
	return 0;
}

/* RETA entry i -> queue i mod n, with key and hash types from cfg.rss. */
static int
pci_rss_apply(struct xvs_port *p, uint16_t n, struct xvs_err *err)
{
	struct rte_eth_rss_reta_entry64 reta[XVS_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	const struct xvs_ethdev *e = p->priv;
	struct rte_eth_rss_conf conf = {
		.rss_key = p->cfg.rss.key,
		.rss_key_len = XVS_RSS_KEY_LEN,
		.rss_hf = xvs_ethdev_rss_hf(p->cfg.rss.types) & e->rss_hf_capa,
	};
	uint16_t size = RTE_MIN(p->reta_size, XVS_RSS_RETA_MAX);
	int r;

	if (!p->rss_hw_reta)
		return 0;
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % n;
	}
	r = rte_eth_dev_rss_hash_update(e->port_id, &conf);
	if (r == 0)
		r = rte_eth_dev_rss_reta_update(e->port_id, reta, size);
	if (r < 0)
		return xvs_err_set(err, r, "port %s: program RSS (key, types, %u-entry "
				   "table over %u queues): %s", p->cfg.name, size, n,
				   rte_strerror(-r));
	return 0;
}

static const struct xvs_ethdev_kind pci_kind = {
	.bus = "pci",
	.priv_size = sizeof(struct xvs_ethdev),
	.scatter = true,
	.uplink = true,
	.devargs = pci_devargs,
	.configure = pci_configure,
	.post_start = pci_post_start,
};

const struct xvs_port_ops xvs_port_pci_ops = {
	XVS_ETHDEV_OPS(XVS_PORT_PCI, &pci_kind),
	.steerable = true,
	.needs_pci_bus = true,
	.rxq_intr = xvs_ethdev_rxq_intr,
	.open = xvs_ethdev_open,
	.close = xvs_ethdev_close,
	.rss_apply = pci_rss_apply,
};

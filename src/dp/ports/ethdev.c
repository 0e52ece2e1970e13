/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK-ethdev base of port kinds (datapath; open and close on the
 * control thread, bursts on workers): hot-plug, queue setup, rx interrupts,
 * MTU, rx/tx through rte_eth_*. See ethdev.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_flow.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ethdev.h"
#include "port_mtu.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* Frame data one mbuf of xvs_dp.pool holds. */
#define POOL_DATA (RTE_MBUF_DEFAULT_DATAROOM)
#define FRAME_MAX(mtu) XVS_FRAME_MAX(mtu)
/* Jumbo receive buffers: one mbuf holds a frame of the largest MTU (9000). */
#define JUMBO_MBUFS 2047u

/* The core's MTU arithmetic (port_mtu.h) stands for these DPDK numbers. */
static_assert(XVS_MBUF_DATA == RTE_MBUF_DEFAULT_DATAROOM, "2 KB mbuf data room");
static_assert(XVS_FRAME_MAX(0) == RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN, "frame overhead");
static_assert(XVS_JUMBO_DATA >= XVS_FRAME_MAX(9000), "a jumbo mbuf holds a 9000-byte frame");

/* The pool of jumbo receive buffers, created the first time a port needs it
 * (an af_packet port, or a NIC that cannot scatter, with an MTU beyond what a
 * 2 KB mbuf holds). Control thread. */
static struct rte_mempool *
jumbo_pool(struct xvs_err *err)
{
	if (xvs_dp.jumbo_pool == NULL) {
		xvs_dp.jumbo_pool = rte_pktmbuf_pool_create("xvs_jumbo", JUMBO_MBUFS, 64,
							    XVS_MBUF_PRIV_SIZE,
							    RTE_PKTMBUF_HEADROOM + XVS_JUMBO_DATA,
							    (int)rte_socket_id());
		if (xvs_dp.jumbo_pool == NULL)
			xvs_err_set(err, -ENOMEM, "no memory for %u jumbo receive buffers: %s "
				    "(raise --mem)", JUMBO_MBUFS, rte_strerror(rte_errno));
	}
	return xvs_dp.jumbo_pool;
}

uint64_t
xvs_ethdev_rss_hf(uint32_t types)
{
	uint64_t hf = 0;

	if (types & XVS_RSS_IPV4)
		hf |= RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER;
	if (types & XVS_RSS_TCP4)
		hf |= RTE_ETH_RSS_NONFRAG_IPV4_TCP;
	if (types & XVS_RSS_UDP4)
		hf |= RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	if (types & XVS_RSS_IPV6)
		hf |= RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER;
	if (types & XVS_RSS_TCP6)
		hf |= RTE_ETH_RSS_NONFRAG_IPV6_TCP;
	if (types & XVS_RSS_UDP6)
		hf |= RTE_ETH_RSS_NONFRAG_IPV6_UDP;
	if (types & XVS_RSS_IPV6_EX)
		hf |= RTE_ETH_RSS_IPV6_EX;
	if (types & XVS_RSS_TCP6_EX)
		hf |= RTE_ETH_RSS_IPV6_TCP_EX;
	if (types & XVS_RSS_UDP6_EX)
		hf |= RTE_ETH_RSS_IPV6_UDP_EX;
	return hf;
}

/* Where the device receives p's frames, and the largest MTU whose frames it
 * then receives whole into one mbuf (p->rx_mtu_max: a live MTU change may not
 * go past it). 2 KB mbufs while a frame of the MTU fits one, or a NIC scatters
 * (and ethdev egress flattens chains at a cost: only NICs). Past that, one
 * jumbo mbuf per frame: pcap would chain 2 KB mbufs, which a port
 * without offloads could then not send (it flattens a chain into one 2 KB
 * mbuf). Kinds with their own rule say so (rx_fits). Also sets the rx
 * offloads that go with it. */
static struct rte_mempool *
rx_pool(struct xvs_port *p, struct xvs_ethdev *e, const struct rte_eth_dev_info *info,
	struct rte_eth_conf *conf, struct xvs_err *err)
{
	const struct xvs_ethdev_kind *k = p->ops->ethdev;
	bool fits;

	if (k->rx_fits != NULL) {
		fits = k->rx_fits(p, e);
	} else {
		fits = FRAME_MAX(p->cfg.mtu) <= POOL_DATA;
		p->rx_mtu_max = fits ? POOL_DATA - FRAME_MAX(0) : XVS_JUMBO_DATA - FRAME_MAX(0);
	}
	if (fits)
		return xvs_dp.pool;
	if (k->scatter && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		return xvs_dp.pool;
	}
	return jumbo_pool(err);
}

static int
configure(struct xvs_port *p, struct xvs_ethdev *e, const struct rte_eth_dev_info *info,
	  uint16_t nrx, uint16_t ntx, bool intr, struct xvs_err *err)
{
	struct rte_mempool *pool;
	struct rte_eth_conf conf;
	int r;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.rxq = intr ? 1 : 0;
	pool = rx_pool(p, e, info, &conf, err);
	if (pool == NULL)
		return -ENOMEM;
	if (p->ops->ethdev->configure != NULL)
		p->ops->ethdev->configure(p, e, nrx, &conf);
	r = rte_eth_dev_configure(e->port_id, nrx, ntx, &conf);
	if (r < 0)
		return xvs_err_set(err, r, "port %s: configure %u rx / %u tx queues: %s",
				   p->cfg.name, nrx, ntx, rte_strerror(-r));
	for (uint16_t q = 0; q < nrx; q++) {
		r = rte_eth_rx_queue_setup(e->port_id, q, RX_DESC, rte_socket_id(), NULL, pool);
		if (r < 0)
			return xvs_err_set(err, r, "port %s: rx queue %u: %s", p->cfg.name, q,
					   rte_strerror(-r));
	}
	for (uint16_t q = 0; q < ntx; q++) {
		r = rte_eth_tx_queue_setup(e->port_id, q, TX_DESC, rte_socket_id(), NULL);
		if (r < 0)
			return xvs_err_set(err, r, "port %s: tx queue %u: %s", p->cfg.name, q,
					   rte_strerror(-r));
	}
	return 0;
}

static void
hotplug_remove(const struct xvs_port *p)
{
	rte_eal_hotplug_remove(p->ops->ethdev->bus, p->devname);
}

int
xvs_ethdev_open(struct xvs_port *p, struct xvs_err *err)
{
	const struct xvs_ethdev_kind *k = p->ops->ethdev;
	struct rte_eth_dev_info info;
	struct xvs_ethdev *e;
	char devargs[2048];
	uint16_t nq, nrx, ntx;
	int r;

	uint16_t existing;

	e = rte_zmalloc("xvs_ethdev", k->priv_size, RTE_CACHE_LINE_SIZE);
	if (e == NULL)
		return xvs_err_set(err, -ENOMEM, "port %s: no memory", p->cfg.name);
	e->wake_fd = -1;
	p->priv = e;
	r = k->devargs(p, e, devargs, sizeof(devargs), &nq);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: device arguments too long", p->cfg.name);
		goto out;
	}
	/* The switch takes XVS_MAX_PORTS ports, DPDK RTE_MAX_ETHPORTS ethdevs:
	 * only a port whose probe creates an ethdev counts against the second
	 * (a pci port's NIC that EAL probed at start has one already). */
	if (rte_eth_dev_get_port_by_name(p->devname, &existing) != 0 &&
	    rte_eth_dev_count_total() >= RTE_MAX_ETHPORTS) {
		r = xvs_err_set(err, -ENOSPC,
				"port %s: all %d DPDK ethdev ports are in use (%s ports need one; "
				"tap, vhost-user and afxdp ports do not)",
				p->cfg.name, RTE_MAX_ETHPORTS, xvs_port_kind_name(p->cfg.kind));
		goto out;
	}
	if (k->pre_probe != NULL) {
		r = k->pre_probe(p, e, err);
		if (r < 0)
			goto out;
	}
	r = rte_dev_probe(devargs);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: cannot create %s device (%s): %s", p->cfg.name,
			    xvs_port_kind_name(p->cfg.kind), devargs, rte_strerror(-r));
		goto removed;
	}
	r = rte_eth_dev_get_port_by_name(p->devname, &e->port_id);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: device %s has no ethdev", p->cfg.name, p->devname);
		goto remove;
	}
	r = rte_eth_dev_info_get(e->port_id, &info);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: device info: %s", p->cfg.name, rte_strerror(-r));
		goto close;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	e->rss_hf_capa = info.flow_type_rss_offloads;
	e->reta_size = info.reta_size;
	e->hash_key_size = info.hash_key_size;
	p->caps.rx_offloads = info.rx_offload_capa;
	p->caps.tx_offloads = info.tx_offload_capa;
	p->caps.mtu_min = info.min_mtu;
	p->caps.mtu_max = info.max_mtu;
	p->caps.max_rx_queues = info.max_rx_queues;
	p->caps.max_tx_queues = info.max_tx_queues;
	p->caps.tx_drop = XVS_DROP_tx_full;
	p->caps.uplink = k->uplink;
	if (!k->own_mtu_limit && info.max_mtu != UINT16_MAX)
		p->mtu_max = info.max_mtu;
	if (p->mtu_max != 0 && p->cfg.mtu > p->mtu_max) {
		r = xvs_port_mtu_refuse(p, p->cfg.mtu, p->mtu_max, info.driver_name, err);
		goto close;
	}
	nrx = RTE_MIN(nq, info.max_rx_queues);
	ntx = RTE_MIN(RTE_MAX(nq, xvs_dp.n_workers_max), info.max_tx_queues);
	if (nrx == 0 || ntx == 0) {
		r = -ENOTSUP;
		xvs_err_set(err, r, "port %s: device offers %u rx / %u tx queues", p->cfg.name,
			    info.max_rx_queues, info.max_tx_queues);
		goto close;
	}
	nrx = RTE_MIN(nrx, XVS_MAX_QUEUES);
	ntx = RTE_MIN(ntx, XVS_MAX_QUEUES);
	/* Rx interrupts let an idle worker sleep; PMDs without them refuse the
	 * flag at configure time, and then the worker polls them on a timer. */
	r = configure(p, e, &info, nrx, ntx, true, err);
	if (r < 0) {
		xvs_err_clear(err);
		r = configure(p, e, &info, nrx, ntx, false, err);
	}
	if (r < 0)
		goto close;
	if (p->cfg.mtu != 1500) {
		r = k->set_mtu != NULL ? k->set_mtu(p, p->cfg.mtu, err)
				       : rte_eth_dev_set_mtu(e->port_id, (uint16_t)p->cfg.mtu);
		if (r < 0 && k->set_mtu == NULL && r != -ENOTSUP)
			xvs_err_set(err, r, "port %s: mtu %u: %s", p->cfg.name, p->cfg.mtu,
				    rte_strerror(-r));
		if (r < 0 && (k->set_mtu != NULL || r != -ENOTSUP))
			goto close;
	}
	r = rte_eth_dev_start(e->port_id);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: start: %s", p->cfg.name, rte_strerror(-r));
		goto close;
	}
	/* A switch port receives every frame; not all PMDs have the notion. */
	(void)rte_eth_promiscuous_enable(e->port_id);
	p->n_rxq = nrx;
	p->n_txq = ntx;
	p->rss_attached = nrx; /* the device's own default spreads over all */
	e->rx_intr = true;
	for (uint16_t q = 0; q < nrx; q++) {
		p->rxq[q].fd = rte_eth_dev_rx_intr_ctl_q_get_fd(e->port_id, q);
		if (p->rxq[q].fd < 0) {
			p->rxq[q].fd = -1;
			e->rx_intr = false;
		}
	}
	p->rx_intr = e->rx_intr;
	{
		struct rte_ether_addr mac;

		if (rte_eth_macaddr_get(e->port_id, &mac) == 0)
			memcpy(p->mac, mac.addr_bytes, 6);
	}
	if (k->post_start != NULL) {
		r = k->post_start(p, e, err);
		if (r < 0)
			goto stop;
	}
	return 0;

stop:
	rte_eth_dev_stop(e->port_id);
close:
	rte_eth_dev_close(e->port_id);
remove:
	hotplug_remove(p);
removed:
	if (k->post_remove != NULL)
		k->post_remove(p, e);
out:
	rte_free(e);
	p->priv = NULL;
	return r;
}

void
xvs_ethdev_close(struct xvs_port *p)
{
	const struct xvs_ethdev_kind *k = p->ops->ethdev;
	struct xvs_ethdev *e = p->priv;

	if (e == NULL)
		return;
	if (k->pre_close != NULL)
		k->pre_close(p, e);
	(void)rte_eth_dev_stop(e->port_id);
	(void)rte_eth_dev_close(e->port_id);
	hotplug_remove(p);
	if (k->post_remove != NULL)
		k->post_remove(p, e);
	rte_free(e);
	p->priv = NULL;
}

uint16_t
xvs_ethdev_rx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
		    struct xvs_port_counters *c)
{
	const struct xvs_ethdev *e = priv;

	(void)c;
	return rte_eth_rx_burst(e->port_id, q, pkts, n);
}

static uint16_t
ethdev_send(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(((const struct xvs_ethdev *)priv)->port_id, q, pkts, n);
}

uint16_t
xvs_ethdev_tx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	return xvs_port_tx_retry(ethdev_send, priv, q, pkts, n, bytes);
}

int
xvs_ethdev_rxq_intr(void *priv, uint16_t q, bool on)
{
	const struct xvs_ethdev *e = priv;

	if (!e->rx_intr)
		return -ENOTSUP;
	return on ? rte_eth_dev_rx_intr_enable(e->port_id, q)
		  : rte_eth_dev_rx_intr_disable(e->port_id, q);
}

void
xvs_ethdev_link(const struct xvs_port *p, struct xvs_port_link *l)
{
	const struct xvs_ethdev *e = p->priv;
	struct rte_eth_link link;

	memset(l, 0, sizeof(*l));
	if (rte_eth_link_get_nowait(e->port_id, &link) != 0)
		return;
	l->up = link.link_status == RTE_ETH_LINK_UP;
	l->speed_mbps = link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN ? link.link_speed : 0;
}

int
xvs_ethdev_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	int r = xvs_port_mtu_check(p->cfg.name, p->cfg.kind, mtu, err);

	if (r < 0)
		return r;
	/* Ring slots and receive buffers were sized for the MTU the port was
	 * opened with. */
	if (p->rx_mtu_max != 0 && mtu > p->rx_mtu_max)
		return xvs_err_set(err, -EINVAL,
				   "port %s: mtu %u does not fit the %s receive buffers the port "
				   "was opened with (mtu up to %u): delete and add the port again",
				   p->cfg.name, mtu,
				   p->ops->ethdev->own_mtu_limit ? "AF_PACKET ring's" : "device's",
				   p->rx_mtu_max);
	if (!p->ops->ethdev->own_mtu_limit && p->mtu_max != 0 && mtu > p->mtu_max)
		return xvs_port_mtu_refuse(p, mtu, p->mtu_max, "the device's own limit", err);
	return 0;
}

int
xvs_ethdev_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	const struct xvs_ethdev *e = p->priv;
	int r = xvs_ethdev_mtu_allowed(p, mtu, err);

	if (r < 0)
		return r;
	if (p->ops->ethdev->set_mtu != NULL)
		return p->ops->ethdev->set_mtu(p, mtu, err);
	r = rte_eth_dev_set_mtu(e->port_id, (uint16_t)mtu);
	if (r < 0 && r != -ENOTSUP)
		return xvs_err_set(err, r, "port %s: mtu %u: %s", p->cfg.name, mtu,
				   rte_strerror(-r));
	return 0;
}

void
xvs_ethdev_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st)
{
	const struct xvs_ethdev *e = p->priv;
	struct rte_eth_stats es;

	/* Device-level counters: frames the device lost before we polled them. */
	if (rte_eth_stats_get(e->port_id, &es) != 0)
		return;
	st->valid = true;
	st->rx_missed = es.imissed;
	st->rx_errors = es.ierrors;
	st->tx_errors = es.oerrors;
}

int
xvs_ethdev_vmq_filter(const struct xvs_port *p, const uint8_t mac[6], uint16_t vid,
		      uint16_t queue, struct xvs_err *err)
{
	const struct xvs_ethdev *e = xvs_ethdev_of(p);
	const struct rte_flow_attr attr = {.ingress = 1};
	struct rte_flow_item_eth eth = {0}, eth_mask = {0};
	struct rte_flow_item_vlan vlan = {0}, vlan_mask = {0};
	const struct rte_flow_action_queue aq = {.index = queue};
	struct rte_flow_item pattern[3] = {
		{.type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &eth, .mask = &eth_mask},
		{.type = RTE_FLOW_ITEM_TYPE_END},
		{.type = RTE_FLOW_ITEM_TYPE_END},
	};
	const struct rte_flow_action actions[2] = {
		{.type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &aq},
		{.type = RTE_FLOW_ACTION_TYPE_END},
	};
	struct rte_flow_error fe = {0};
	int r;

	memcpy(eth.dst.addr_bytes, mac, 6);
	memset(eth_mask.dst.addr_bytes, 0xff, 6);
	if (vid != 0) {
		vlan.tci = rte_cpu_to_be_16(vid);
		vlan_mask.tci = rte_cpu_to_be_16(0x0fff);
		pattern[1] = (struct rte_flow_item){
			.type = RTE_FLOW_ITEM_TYPE_VLAN, .spec = &vlan, .mask = &vlan_mask};
	}
	r = rte_flow_validate(e->port_id, &attr, pattern, actions, &fe);
	if (r == 0)
		return 0;
	return xvs_err_set(err, r < 0 ? r : -EIO, "NIC filter refused (rte_flow: %s)",
			   fe.message != NULL ? fe.message : rte_strerror(-r));
}

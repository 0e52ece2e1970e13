/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports (datapath, called from the control thread): what every port kind
 * shares. The kind's ops (port_ops.h, one file per kind under ports/) open
 * and close the device; this file checks the MTU first, sets up the rx queue
 * objects and the tx hand-off ring, and dispatches the other control calls.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_lcore.h>

#include "port.h"
#include "port_mtu.h"

static const struct xvs_port_ops *const kinds[XVS_PORT__MAX] = {
	[XVS_PORT_TAP] = &xvs_port_tap_ops,
	[XVS_PORT_AFXDP] = &xvs_port_afxdp_ops,
	[XVS_PORT_AFPACKET] = &xvs_port_afpacket_ops,
	[XVS_PORT_VHOST] = &xvs_port_vhost_ops,
	[XVS_PORT_PCAP] = &xvs_port_pcap_ops,
	[XVS_PORT_NULL] = &xvs_port_null_ops,
	[XVS_PORT_PCI] = &xvs_port_pci_ops,
};

const struct xvs_port_ops *
xvs_port_ops_of(enum xvs_port_kind kind)
{
	return (unsigned int)kind < XVS_PORT__MAX ? kinds[kind] : NULL;
}

bool
xvs_port_kind_steerable(enum xvs_port_kind kind)
{
	const struct xvs_port_ops *o = xvs_port_ops_of(kind);

	return o != NULL && o->steerable;
}

int
xvs_port_mtu_refuse(const struct xvs_port *p, uint32_t mtu, uint32_t max, const char *limit,
		    struct xvs_err *err)
{
	return xvs_err_set(err, -EINVAL,
			   "port %s: mtu %u is more than %s ports carry (at most %u: %s)",
			   p->cfg.name, mtu, xvs_port_kind_name(p->cfg.kind), max, limit);
}

extern char **environ;

static unsigned int devname_seq; /* keeps DPDK device names unique across re-adds */

unsigned int
xvs_port_devname_seq(void)
{
	return devname_seq++;
}

/* Moving a link into a named namespace and configuring it there are
 * control-plane, once-per-port actions; iproute2 already does them right for
 * every kernel we run on. */
int
xvs_port_run_ip(struct xvs_err *err, const char *const argv[])
{
	pid_t pid;
	int st, r;

	r = posix_spawnp(&pid, "ip", NULL, NULL, (char *const *)argv, environ);
	if (r != 0)
		return xvs_err_set(err, -r, "cannot run ip: %s", strerror(r));
	if (waitpid(pid, &st, 0) < 0)
		return xvs_err_set(err, -errno, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char cmd[256] = "";

		for (int i = 0; argv[i] != NULL; i++) {
			strncat(cmd, argv[i], sizeof(cmd) - strlen(cmd) - 2);
			strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
		}
		return xvs_err_set(err, -EIO, "'%s' failed (status %d)", cmd,
				   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}

static void
tx_ring_free(struct xvs_port *p)
{
	struct rte_mbuf *m;

	if (p->tx_ring == NULL)
		return;
	while (rte_ring_dequeue(p->tx_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(p->tx_ring);
	p->tx_ring = NULL;
}

int
xvs_port_open(struct xvs_port *p, struct xvs_err *err)
{
	int r;

	p->open = false;
	p->ops = xvs_port_ops_of(p->cfg.kind);
	p->priv = NULL;
	p->mtu_max = 0;
	p->rx_mtu_max = 0;
	p->rx_intr = false;
	p->tx_ring = NULL;
	p->rss_steerable = false;
	p->rss_hw_reta = false;
	p->reta_size = 0;
	p->rss_reta_size = 0;
	memset(&p->caps, 0, sizeof(p->caps));
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++)
		p->rxq[q] = (struct xvs_rxq){.port = p->slot, .id = q, .fd = -1};
	if (p->ops == NULL) {
		r = xvs_err_set(err, -EINVAL, "port %s: unknown kind", p->cfg.name);
		goto out;
	}
	r = xvs_port_mtu_check(p->cfg.name, p->cfg.kind, p->cfg.mtu, err);
	if (r < 0)
		goto out;
	r = p->ops->open(p, err);
	if (r < 0)
		goto out;
	/* Workers without a tx queue of their own hand frames to the owner. */
	if (p->n_txq < xvs_dp.n_workers_max) {
		char rname[RTE_RING_NAMESIZE];

		snprintf(rname, sizeof(rname), "xvs_tx%u_%u", p->slot, devname_seq++);
		p->tx_ring = rte_ring_create(rname, XVS_TX_RING_SIZE, rte_socket_id(),
					     RING_F_SC_DEQ);
		if (p->tx_ring == NULL) {
			r = xvs_err_set(err, -rte_errno, "port %s: tx hand-off ring: %s",
					p->cfg.name, rte_strerror(rte_errno));
			p->ops->close(p);
			goto out;
		}
	}
	p->open = true;
	p->error[0] = '\0';
	return 0;
out:
	snprintf(p->error, sizeof(p->error), "%s", err != NULL ? err->msg : "open failed");
	return r;
}

int
xvs_port_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	if (!p->open)
		return 0;
	return p->ops->mtu_allowed(p, mtu, err);
}

int
xvs_port_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	if (!p->open)
		return 0;
	return p->ops->set_mtu(p, mtu, err);
}

int
xvs_port_rss_apply(struct xvs_port *p, uint16_t n, struct xvs_err *err)
{
	if (!p->open || !p->rss_steerable || p->ops->rss_apply == NULL)
		return 0;
	if (n < 1 || n > p->n_rxq)
		return xvs_err_set(err, -EINVAL, "port %s: %u rx queues to use, it has %u",
				   p->cfg.name, n, p->n_rxq);
	return p->ops->rss_apply(p, n, err);
}

void
xvs_port_limit_tx(struct xvs_port *p, uint16_t n)
{
	if (p->open && p->ops->limit_tx != NULL)
		p->ops->limit_tx(p, n);
}

void
xvs_port_link(const struct xvs_port *p, struct xvs_port_link *l)
{
	memset(l, 0, sizeof(*l));
	if (p->open)
		p->ops->link(p, l);
}

void
xvs_port_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (p->open && p->ops->dev_stats != NULL)
		p->ops->dev_stats(p, st);
}

void
xvs_port_info(const struct xvs_port *p, struct xvs_port_info *info)
{
	memset(info, 0, sizeof(*info));
	if (p->open && p->ops->info != NULL)
		p->ops->info(p, info);
}

int
xvs_port_netdev_set_mtu(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return xvs_err_set(err, -errno, "port %s: socket: %s", p->cfg.name,
				   strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->cfg.ifname);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) < 0)
		r = xvs_err_set(err, -errno, "port %s: set mtu %u on %s: %s", p->cfg.name, mtu,
				p->cfg.ifname, strerror(errno));
	close(fd);
	return r;
}

/* One SIOCGIF* ioctl on ifname; false if it failed. */
static bool
netdev_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	ok = fd >= 0 && ioctl(fd, req, ifr) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

uint32_t
xvs_port_netdev_mtu(const char *ifname)
{
	struct ifreq ifr;

	return netdev_ioctl(ifname, SIOCGIFMTU, &ifr) && ifr.ifr_mtu > 0 ?
		       (uint32_t)ifr.ifr_mtu : 0;
}

void
xvs_port_netdev_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;

	if (netdev_ioctl(ifname, SIOCGIFHWADDR, &ifr))
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

void
xvs_port_close(struct xvs_port *p)
{
	rte_free(p->rss_table);
	p->rss_table = NULL;
	p->rss_reta_size = 0;
	if (!p->open)
		return;
	p->open = false;
	p->ops->close(p);
	tx_ring_free(p);
}

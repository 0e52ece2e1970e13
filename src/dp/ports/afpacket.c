/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AF_PACKET port kind (datapath; control thread but for the wake-up arming):
 * an existing netdev through DPDK's net_af_packet PMD, the uplink fallback
 * where AF_XDP is not available. Built on the ethdev base (ethdev.h); what is
 * its own: the ring laid out for the MTU (core/port_mtu.h), MTU changes on
 * the netdev itself, a wake-up socket standing in for the rx interrupts the
 * PMD does not have, and keeping the host's own outgoing frames out.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "ethdev.h"
#include "port_mtu.h"

static_assert(XVS_AFP_MAC_OFF == TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - RTE_ETHER_HDR_LEN,
	      "where AF_PACKET puts a frame in its slot");

struct afp {
	struct xvs_ethdev base;
	unsigned int framesz;        /* ring slot size the device was opened with */
};

static int
afp_devargs(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len, uint16_t *nq)
{
	const struct xvs_port_cfg *c = &p->cfg;
	struct afp *a = (struct afp *)e;
	struct xvs_afp_ring ring;
	int n;

	*nq = c->queues ? c->queues : 1;
	snprintf(p->devname, sizeof(p->devname), "net_af_packet_xvs%u", xvs_port_devname_seq());
	xvs_afp_ring_for_mtu(c->mtu, (uint32_t)getpagesize(), &ring);
	a->framesz = ring.framesz;
	n = snprintf(buf, len, "%s,iface=%s,qpairs=%u,qdisc_bypass=1,blocksz=%u,framesz=%u,"
		     "framecnt=%u", p->devname, c->ifname, *nq, ring.blocksz, ring.framesz,
		     ring.framecnt);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* The PMD copies a frame into one mbuf and refuses a queue whose ring slot's
 * data does not fit one: its test. */
static bool
afp_rx_fits(struct xvs_port *p, struct xvs_ethdev *e)
{
	const struct afp *a = (const struct afp *)e;

	p->rx_mtu_max = xvs_afp_ring_mtu_max(a->framesz);
	return a->framesz - (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)) <=
	       RTE_MBUF_DEFAULT_DATAROOM;
}

/* Set the netdev's MTU: the PMD's own mtu_set is refused by ethdev above
 * 1500, its max_rx_pktlen being 1518. */
static int
afp_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	return xvs_port_netdev_set_mtu(p, mtu, err);
}

/* Wake-up sockets stand in for rx interrupts (the PMD has none): an
 * AF_PACKET socket on the same netdev whose BPF filter drops everything while
 * the worker polls, and lets incoming frames through (1 byte each) while it
 * sleeps, so the socket turns readable on the first frame. */
static struct sock_filter wake_drop_insn[] = {
	BPF_STMT(BPF_RET | BPF_K, 0),
};
static struct sock_filter wake_accept_insn[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static int
wake_filter(int fd, bool accept)
{
	struct sock_fprog prog = {
		.len = accept ? RTE_DIM(wake_accept_insn) : RTE_DIM(wake_drop_insn),
		.filter = accept ? wake_accept_insn : wake_drop_insn,
	};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static void
wake_disarm(int fd)
{
	char b[64];

	(void)wake_filter(fd, false);
	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

static int
wake_open(const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 || wake_filter(fd, false) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -1;
	}
	wake_disarm(fd); /* frames that slipped in before the filter */
	return fd;
}

/* Worker that polls the port's only rx queue: arm or disarm its wake-up
 * socket; without one, the base's (no interrupts: -ENOTSUP). */
static int
afp_rxq_intr(void *priv, uint16_t q, bool on)
{
	const struct xvs_ethdev *e = priv;

	if (e->wake_fd < 0)
		return xvs_ethdev_rxq_intr(priv, q, on);
	if (on)
		return wake_filter(e->wake_fd, true) < 0 ? -errno : 0;
	wake_disarm(e->wake_fd);
	return 0;
}

/* The PMD's socket also receives the frames this host's own stack sends on
 * the netdev (PACKET_OUTGOING), which the switch would then forward to VMs as
 * if they came from the wire. The PMD offers no option for it, and its
 * sockets sit in a PACKET_FANOUT group, where the per-socket
 * PACKET_IGNORE_OUTGOING has no effect. So find its sockets (AF_PACKET, bound
 * to the netdev) among our fds and give each a BPF filter that drops outgoing
 * frames; socket filters run after the fanout picks a socket. */
static struct sock_filter no_outgoing_insn[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
};

static int
ignore_outgoing(const char *ifname, int skip_fd)
{
	struct sock_fprog prog = {.len = RTE_DIM(no_outgoing_insn), .filter = no_outgoing_insn};
	int ifindex = (int)if_nametoindex(ifname), n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL || ifindex == 0) {
		if (d != NULL)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		struct sockaddr_ll sll;
		socklen_t len = sizeof(sll);
		int fd = atoi(e->d_name), dom;
		socklen_t dl = sizeof(dom);

		if (fd <= 2 || fd == skip_fd || fd == dirfd(d))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_PACKET)
			continue;
		if (getsockname(fd, (struct sockaddr *)&sll, &len) < 0 ||
		    sll.sll_ifindex != ifindex)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
afp_post_start(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err)
{
	/* One rx queue: let a sleeping worker be woken by the first frame
	 * instead of a timer. Best effort. */
	if (!e->rx_intr && p->n_rxq == 1) {
		e->wake_fd = wake_open(p->cfg.ifname);
		p->rxq[0].fd = e->wake_fd;
	}
	if (ignore_outgoing(p->cfg.ifname, e->wake_fd) == 0)
		return xvs_err_set(err, -ENOTSUP, "port %s: cannot make the AF_PACKET socket on "
				   "%s ignore the host's own frames", p->cfg.name, p->cfg.ifname);
	return 0;
}

static void
afp_post_remove(struct xvs_port *p, struct xvs_ethdev *e)
{
	(void)p;
	if (e->wake_fd >= 0) {
		close(e->wake_fd);
		e->wake_fd = -1;
	}
}

static const struct xvs_ethdev_kind afp_kind = {
	.bus = "vdev",
	.priv_size = sizeof(struct afp),
	.own_mtu_limit = true, /* it reports ethdev's defaults (1518-byte frames) */
	.uplink = true,
	.devargs = afp_devargs,
	.rx_fits = afp_rx_fits,
	.set_mtu = afp_set_mtu,
	.post_start = afp_post_start,
	.post_remove = afp_post_remove,
};

const struct xvs_port_ops xvs_port_afpacket_ops = {
	XVS_ETHDEV_OPS(XVS_PORT_AFPACKET, &afp_kind),
	.rxq_intr = afp_rxq_intr,
	.open = xvs_ethdev_open,
	.close = xvs_ethdev_close,
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port devices (datapath, called from the control thread): devargs per port
 * kind, hot-plug, queue setup, rx interrupts, and the tap's kernel side
 * (namespace, MAC, link up).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "port.h"
#include "port_mtu.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* Frame data one mbuf of xvs_dp.pool holds. */
#define POOL_DATA (RTE_MBUF_DEFAULT_DATAROOM)
#define FRAME_MAX(mtu) XVS_FRAME_MAX(mtu)
/* Jumbo receive buffers: one mbuf holds a frame of the largest MTU (9000). */
#define JUMBO_MBUFS 2047u

/* The core's MTU arithmetic (port_mtu.h) stands for these DPDK and kernel numbers. */
static_assert(XVS_MBUF_DATA == RTE_MBUF_DEFAULT_DATAROOM, "2 KB mbuf data room");
static_assert(XVS_AFP_MAC_OFF == TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - RTE_ETHER_HDR_LEN,
	      "where AF_PACKET puts a frame in its slot");
static_assert(XVS_FRAME_MAX(0) == RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN, "frame overhead");
static_assert(XVS_JUMBO_DATA >= XVS_FRAME_MAX(9000), "a jumbo mbuf holds a 9000-byte frame");

static int
mtu_refuse(const struct xvs_port *p, uint32_t mtu, uint32_t max, const char *limit,
	   struct xvs_err *err)
{
	return xvs_err_set(err, -EINVAL,
			   "port %s: mtu %u is more than %s ports carry (at most %u: %s)",
			   p->cfg.name, mtu, xvs_port_kind_name(p->cfg.kind), max, limit);
}

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

/* Set a netdev's MTU (af_packet: the PMD's own mtu_set is refused by ethdev
 * above 1500, its max_rx_pktlen being 1518). */
static int
netdev_set_mtu(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
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

extern char **environ;

static unsigned int devname_seq; /* keeps DPDK device names unique across re-adds */

/* Run iproute2 for the kernel side of a tap port: moving a link into a named
 * namespace and configuring it there are control-plane, once-per-port actions;
 * iproute2 already does them right for every kernel we run on. argv only, no
 * shell. Returns 0 or -EIO with the command's exit status in err. */
static int
run_ip(struct xvs_err *err, const char *const argv[])
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

/* Move a tap's kernel side into its namespace and bring it up there (moving a
 * link takes it down). The MAC was set before the move and travels with it. */
static int
tap_to_netns(const struct xvs_port *p, struct xvs_err *err)
{
	const struct xvs_port_cfg *c = &p->cfg;
	const char *mv[] = {"ip", "link", "set", "dev", c->ifname, "netns", c->netns, NULL};
	const char *up[] = {"ip", "-n", c->netns, "link", "set", "dev", c->ifname, "up", NULL};
	int r;

	if (c->netns[0] == '\0')
		return 0;
	r = run_ip(err, mv);
	return r < 0 ? r : run_ip(err, up);
}

static int
tap_open(struct xvs_port *p, struct xvs_err *err)
{
	uint8_t mac[6];
	uint16_t nq = p->cfg.queues ? p->cfg.queues : 1;
	bool has_mac = p->cfg.mac[0] != '\0' && xvs_mac_parse("mac", p->cfg.mac, mac, NULL) == 0;
	int r;

	r = xvs_tap_open(p->cfg.ifname, nq, has_mac ? mac : NULL, xvs_dp.pool,
			 xvs_dp.tap_pool, &p->tap, err);
	if (r < 0)
		goto out;
	if (p->cfg.mtu != 1500) {
		char mtu[16];
		const char *set[] = {"ip", "link", "set", "dev", p->cfg.ifname, "mtu", mtu, NULL};

		snprintf(mtu, sizeof(mtu), "%u", p->cfg.mtu);
		r = run_ip(err, set);
	}
	if (r == 0)
		r = tap_to_netns(p, err);
	if (r < 0) {
		xvs_tap_close(p->tap);
		p->tap = NULL;
		goto out;
	}
	snprintf(p->devname, sizeof(p->devname), "%s", p->cfg.ifname);
	snprintf(p->driver, sizeof(p->driver), "xvs_tap");
	p->n_rxq = nq;
	p->n_txq = XVS_MAX_WORKERS; /* any worker may write any queue */
	p->rss_steerable = true;    /* queues attach and detach (TUNSETQUEUE) */
	p->rss_attached = nq;
	p->rx_intr = true;
	for (uint16_t q = 0; q < nq; q++)
		p->rxq_fd[q] = xvs_tap_fd(p->tap, q);
	if (has_mac)
		memcpy(p->mac, mac, 6);
	p->open = true;
	p->error[0] = '\0';
	return 0;
out:
	snprintf(p->error, sizeof(p->error), "%s", err != NULL ? err->msg : "open failed");
	return r;
}

/* BPF for the wake-up socket: drop everything / keep 1 byte of incoming frames. */
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

int
xvs_port_wake_arm(int fd)
{
	return wake_filter(fd, true);
}

void
xvs_port_wake_disarm(int fd)
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
	xvs_port_wake_disarm(fd); /* frames that slipped in before the filter */
	return fd;
}

/* A vhost-user server socket left behind by an xvsd that was killed (kill -9
 * skips the close that removes it) makes DPDK's bind fail, and the vhost PMD
 * then removes the file on its way out: a second try works, but only after the
 * first configure failed, which cost the port its rx interrupts. So remove a
 * leftover first: a socket file that nobody listens on. One that somebody
 * listens on belongs to a running process: refuse. Returns 0 or -EADDRINUSE. */
static int
vhost_stale_socket_remove(const struct xvs_port *p, struct xvs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = p->cfg.path;
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(sa.sun_path))
		return 0; /* absent, or not a socket: DPDK's bind says why */
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (r == 0)
		return xvs_err_set(err, -EADDRINUSE, "port %s: socket %s is in use: another "
				   "process listens on it", p->cfg.name, path);
	if (e == ECONNREFUSED)
		(void)unlink(path); /* if that fails, DPDK's bind says so */
	return 0;
}

static int
build_devargs(struct xvs_port *p, char *buf, size_t len, uint16_t *nq)
{
	const struct xvs_port_cfg *c = &p->cfg;
	unsigned int seq = devname_seq++;
	uint16_t q = c->queues ? c->queues : 1;
	struct xvs_afp_ring ring;
	int n;

	*nq = q;
	switch (c->kind) {
	case XVS_PORT_AFXDP:
		snprintf(p->devname, sizeof(p->devname), "net_af_xdp_xvs%u", seq);
		n = snprintf(buf, len, "%s,iface=%s,start_queue=%u,queue_count=%u", p->devname,
			     c->ifname, c->start_queue, q);
		break;
	case XVS_PORT_AFPACKET:
		snprintf(p->devname, sizeof(p->devname), "net_af_packet_xvs%u", seq);
		xvs_afp_ring_for_mtu(c->mtu, (uint32_t)getpagesize(), &ring);
		p->afp_framesz = ring.framesz;
		n = snprintf(buf, len, "%s,iface=%s,qpairs=%u,qdisc_bypass=1,blocksz=%u,framesz=%u,"
			     "framecnt=%u", p->devname, c->ifname, q, ring.blocksz, ring.framesz,
			     ring.framecnt);
		break;
	case XVS_PORT_VHOST:
		snprintf(p->devname, sizeof(p->devname), "net_vhost_xvs%u", seq);
		n = snprintf(buf, len, "%s,iface=%s,queues=%u,client=%d", p->devname, c->path, q,
			     c->vhost_client ? 1 : 0);
		break;
	case XVS_PORT_PCAP: {
		/* One rx queue per rx_pcap file: with queues=N, queue i replays the
		 * path with "{q}" replaced by i (a capture split the way a NIC's RSS
		 * would split the traffic), or the same file when there is no {q}. */
		const char *ph = strstr(c->path, "{q}");
		size_t used;

		snprintf(p->devname, sizeof(p->devname), "net_pcap_xvs%u", seq);
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
		n = used < len ? (int)used : -1;
		break;
	}
	case XVS_PORT_NULL:
		snprintf(p->devname, sizeof(p->devname), "net_null_xvs%u", seq);
		n = snprintf(buf, len, "%s,no-rx=1", p->devname);
		*nq = 1;
		break;
	case XVS_PORT_PCI:
		snprintf(p->devname, sizeof(p->devname), "%s", c->pci);
		n = snprintf(buf, len, "%s", c->pci);
		break;
	default:
		return -EINVAL;
	}
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* xvs hash types -> ethdev RSS flags. */
static uint64_t
rss_hf(uint32_t types)
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
 * jumbo mbuf per frame: af_packet copies a frame into one mbuf and refuses a
 * queue whose ring slot is larger; vhost and pcap would chain 2 KB mbufs,
 * which a port without offloads could then not send (it flattens a chain
 * into one 2 KB mbuf). af_xdp's MTU is capped to what a 2 KB umem chunk holds.
 * Also sets the rx offloads that go with it. */
static struct rte_mempool *
rx_pool(struct xvs_port *p, const struct rte_eth_dev_info *info, struct rte_eth_conf *conf,
	struct xvs_err *err)
{
	bool fits;

	if (p->cfg.kind == XVS_PORT_AFPACKET) {
		/* the PMD's test: a slot's data must fit one mbuf */
		fits = p->afp_framesz - (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)) <= POOL_DATA;
		p->rx_mtu_max = xvs_afp_ring_mtu_max(p->afp_framesz);
	} else {
		fits = FRAME_MAX(p->cfg.mtu) <= POOL_DATA || p->cfg.kind == XVS_PORT_AFXDP;
		p->rx_mtu_max = fits ? POOL_DATA - FRAME_MAX(0) : XVS_JUMBO_DATA - FRAME_MAX(0);
	}
	if (fits)
		return xvs_dp.pool;
	if (p->cfg.kind == XVS_PORT_PCI && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		return xvs_dp.pool;
	}
	return jumbo_pool(err);
}

static int
configure(struct xvs_port *p, const struct rte_eth_dev_info *info, uint16_t nrx, uint16_t ntx,
	  bool intr, struct xvs_err *err)
{
	struct rte_mempool *pool;
	struct rte_eth_conf conf;
	int r;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.rxq = intr ? 1 : 0;
	pool = rx_pool(p, info, &conf, err);
	if (pool == NULL)
		return -ENOMEM;
	if (p->cfg.kind == XVS_PORT_PCI && nrx > 1) {
		/* The NIC hashes with our key and types; xvs_port_rss_apply()
		 * programs the RETA once the device runs. */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = p->cfg.rss.key;
		conf.rx_adv_conf.rss_conf.rss_key_len = XVS_RSS_KEY_LEN;
		conf.rx_adv_conf.rss_conf.rss_hf = rss_hf(p->cfg.rss.types) & p->rss_hf_capa;
	}
	r = rte_eth_dev_configure(p->eth_port, nrx, ntx, &conf);
	if (r < 0)
		return xvs_err_set(err, r, "port %s: configure %u rx / %u tx queues: %s",
				   p->cfg.name, nrx, ntx, rte_strerror(-r));
	for (uint16_t q = 0; q < nrx; q++) {
		r = rte_eth_rx_queue_setup(p->eth_port, q, RX_DESC, rte_socket_id(), NULL, pool);
		if (r < 0)
			return xvs_err_set(err, r, "port %s: rx queue %u: %s", p->cfg.name, q,
					   rte_strerror(-r));
	}
	for (uint16_t q = 0; q < ntx; q++) {
		r = rte_eth_tx_queue_setup(p->eth_port, q, TX_DESC, rte_socket_id(), NULL);
		if (r < 0)
			return xvs_err_set(err, r, "port %s: tx queue %u: %s", p->cfg.name, q,
					   rte_strerror(-r));
	}
	return 0;
}

int
xvs_port_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	int r;

	if (!p->open || p->tap != NULL)
		return 0; /* a tap's kernel side takes what its kind allows */
	r = xvs_port_mtu_check(p->cfg.name, p->cfg.kind, mtu, err);
	if (r < 0)
		return r;
	/* Ring slots and receive buffers were sized for the MTU the port was
	 * opened with. */
	if (p->rx_mtu_max != 0 && mtu > p->rx_mtu_max)
		return xvs_err_set(err, -EINVAL,
				   "port %s: mtu %u does not fit the %s receive buffers the port "
				   "was opened with (mtu up to %u): delete and add the port again",
				   p->cfg.name, mtu,
				   p->cfg.kind == XVS_PORT_AFPACKET ? "AF_PACKET ring's" :
								      "device's",
				   p->rx_mtu_max);
	if (p->cfg.kind != XVS_PORT_AFPACKET && p->mtu_max != 0 && mtu > p->mtu_max)
		return mtu_refuse(p, mtu, p->mtu_max, "the device's own limit", err);
	return 0;
}

int
xvs_port_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	char m[16];
	int r;

	if (!p->open)
		return 0;
	snprintf(m, sizeof(m), "%u", mtu);
	if (p->tap != NULL) {
		const char *here[] = {"ip", "link", "set", "dev", p->cfg.ifname, "mtu", m, NULL};
		const char *there[] = {"ip", "-n", p->cfg.netns, "link", "set", "dev",
				       p->cfg.ifname, "mtu", m, NULL};

		return run_ip(err, p->cfg.netns[0] ? there : here);
	}
	r = xvs_port_mtu_allowed(p, mtu, err);
	if (r < 0)
		return r;
	if (p->cfg.kind == XVS_PORT_AFPACKET)
		return netdev_set_mtu(p, mtu, err);
	r = rte_eth_dev_set_mtu(p->eth_port, (uint16_t)mtu);
	if (r < 0 && r != -ENOTSUP)
		return xvs_err_set(err, r, "port %s: mtu %u: %s", p->cfg.name, mtu,
				   rte_strerror(-r));
	return 0;
}

/* The af_packet PMD's socket also receives the frames this host's own stack
 * sends on the netdev (PACKET_OUTGOING), which the switch would then forward
 * to VMs as if they came from the wire. The PMD offers no option for it, and
 * its sockets sit in a PACKET_FANOUT group, where the per-socket
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
afpacket_ignore_outgoing(const char *ifname, int skip_fd)
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

/* The af_xdp PMD of DPDK 22.11 (with libxdp) leaves its AF_XDP socket and
 * BPF program and map fds open when its device is closed (and opens the
 * program once more while closing). The socket stays bound to the netdev
 * queue, so the next port on that netdev fails to create its own ("rx queue
 * 0: Invalid argument") until xvsd exits. So note which of those objects
 * the device's probe opened, by an identity that is never reused while the
 * object lives (a BPF object's kernel id, a socket's inode), and after the
 * device is closed, close every fd that still refers to one of them. */
#define OBJ_BPF (UINT64_C(1) << 63)

/* Identity of the object behind fd if it is a BPF map or program, or an
 * AF_XDP socket; 0 for anything else. */
static uint64_t
obj_key(int fd, const char *target)
{
	char path[64], line[128];
	uint32_t id = 0;
	FILE *f;

	if (strncmp(target, "socket:", 7) == 0) {
		struct stat st;
		int dom;
		socklen_t dl = sizeof(dom);

		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_XDP ||
		    fstat(fd, &st) < 0)
			return 0;
		return (uint64_t)st.st_ino & ~OBJ_BPF;
	}
	if (strcmp(target, "anon_inode:bpf-map") != 0 && strcmp(target, "anon_inode:bpf-prog") != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (id == 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "map_id: %u", &id) != 1 && sscanf(line, "prog_id: %u", &id) != 1)
			id = 0;
	fclose(f);
	return id != 0 ? OBJ_BPF | id : 0;
}

struct obj_set {
	uint16_t n;
	uint64_t key[64];
};

static bool
obj_set_has(const struct obj_set *s, uint64_t key)
{
	for (uint16_t i = 0; i < s->n; i++)
		if (s->key[i] == key)
			return true;
	return false;
}

/* Walk our fds: with close_in == NULL, add every object's key to seen; else
 * close the fds whose object is in close_in. */
static void
objs_walk(struct obj_set *seen, const struct obj_set *close_in)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[64], target[64];
		int fd = atoi(e->d_name);
		ssize_t n;
		uint64_t key;

		if (fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		key = obj_key(fd, target);
		if (key == 0)
			continue;
		if (close_in != NULL && obj_set_has(close_in, key))
			close(fd);
		else if (close_in == NULL && !obj_set_has(seen, key) && seen->n < RTE_DIM(seen->key))
			seen->key[seen->n++] = key;
	}
	closedir(d);
}

/* After the probe: p->objs gets the objects that were not there before. */
static void
objs_note_new(struct xvs_port *p, const struct obj_set *before)
{
	struct obj_set now = {.n = 0};

	objs_walk(&now, NULL);
	p->n_objs = 0;
	for (uint16_t i = 0; i < now.n && p->n_objs < XVS_PORT_OBJS_MAX; i++)
		if (!obj_set_has(before, now.key[i]))
			p->objs[p->n_objs++] = now.key[i];
}

/* Unmap what is still mapped of the sockets in set (their rings): a mapping
 * holds the socket's file open as much as an fd does. */
static void
objs_unmap(const struct obj_set *set)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long start, end, ino;
		const char *sock = strstr(line, "socket:[");

		if (sock == NULL || sscanf(line, "%lx-%lx", &start, &end) != 2 ||
		    sscanf(sock, "socket:[%lu]", &ino) != 1 || !obj_set_has(set, (uint64_t)ino))
			continue;
		(void)munmap((void *)start, end - start);
	}
	fclose(f);
}

static void
objs_close_left(struct xvs_port *p)
{
	struct obj_set mine = {.n = 0};

	for (uint8_t i = 0; i < p->n_objs; i++)
		mine.key[mine.n++] = p->objs[i];
	if (mine.n > 0) {
		objs_walk(NULL, &mine);
		objs_unmap(&mine);
	}
	p->n_objs = 0;
}

static int
ethdev_open(struct xvs_port *p, struct xvs_err *err)
{
	struct obj_set *objs_before = NULL;
	struct rte_eth_dev_info info;
	char devargs[2048];
	uint16_t nq, nrx, ntx;
	int r;

	p->open = false;
	p->rss_steerable = false;
	p->rss_hw_reta = false;
	p->rss_reta_size = 0;
	p->tx_ring = NULL;
	p->tap = NULL;
	p->wake_fd = -1;
	for (int i = 0; i < XVS_MAX_QUEUES; i++)
		p->rxq_fd[i] = -1;
	r = build_devargs(p, devargs, sizeof(devargs), &nq);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: device arguments too long", p->cfg.name);
		goto out;
	}
	if (p->cfg.kind == XVS_PORT_VHOST && !p->cfg.vhost_client) {
		char dir[sizeof(p->cfg.path)];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", p->cfg.path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir)
			*slash = '\0';
		if (slash != NULL && access(dir, W_OK) != 0) {
			r = xvs_err_set(err, -errno, "port %s: cannot create socket %s: directory "
					"%s: %s", p->cfg.name, p->cfg.path, dir, strerror(errno));
			goto out;
		}
		r = vhost_stale_socket_remove(p, err);
		if (r < 0)
			goto out;
	}
	p->n_objs = 0;
	if (p->cfg.kind == XVS_PORT_AFXDP) {
		objs_before = calloc(1, sizeof(*objs_before));
		if (objs_before != NULL)
			objs_walk(objs_before, NULL);
	}
	r = rte_dev_probe(devargs);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: cannot create %s device (%s): %s", p->cfg.name,
			    xvs_port_kind_name(p->cfg.kind), devargs, rte_strerror(-r));
		goto out;
	}
	r = rte_eth_dev_get_port_by_name(p->devname, &p->eth_port);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: device %s has no ethdev", p->cfg.name, p->devname);
		goto remove;
	}
	r = rte_eth_dev_info_get(p->eth_port, &info);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: device info: %s", p->cfg.name, rte_strerror(-r));
		goto close;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	p->rss_hf_capa = info.flow_type_rss_offloads;
	/* af_packet reports ethdev's defaults (1518-byte frames), not its ring's. */
	if (p->cfg.kind != XVS_PORT_AFPACKET && info.max_mtu != UINT16_MAX)
		p->mtu_max = info.max_mtu;
	if (p->mtu_max != 0 && p->cfg.mtu > p->mtu_max) {
		r = mtu_refuse(p, p->cfg.mtu, p->mtu_max, info.driver_name, err);
		goto close;
	}
	nrx = RTE_MIN(nq, info.max_rx_queues);
	ntx = RTE_MIN(RTE_MAX(nq, xvs_dp.n_workers_max), info.max_tx_queues);
	if (p->cfg.kind == XVS_PORT_TAP)
		nrx = ntx; /* the tap PMD pairs every rx queue with a tx queue */
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
	r = configure(p, &info, nrx, ntx, true, err);
	if (r < 0) {
		xvs_err_clear(err);
		r = configure(p, &info, nrx, ntx, false, err);
	}
	if (r < 0)
		goto close;
	if (p->cfg.mtu != 1500 && p->cfg.kind == XVS_PORT_AFPACKET) {
		r = netdev_set_mtu(p, p->cfg.mtu, err);
		if (r < 0)
			goto close;
	} else if (p->cfg.mtu != 1500) {
		r = rte_eth_dev_set_mtu(p->eth_port, (uint16_t)p->cfg.mtu);
		if (r < 0 && r != -ENOTSUP) {
			xvs_err_set(err, r, "port %s: mtu %u: %s", p->cfg.name, p->cfg.mtu,
				    rte_strerror(-r));
			goto close;
		}
	}
	r = rte_eth_dev_start(p->eth_port);
	if (r < 0) {
		xvs_err_set(err, r, "port %s: start: %s", p->cfg.name, rte_strerror(-r));
		goto close;
	}
	/* A switch port receives every frame; not all PMDs have the notion. */
	(void)rte_eth_promiscuous_enable(p->eth_port);
	p->n_rxq = nrx;
	p->n_txq = ntx;
	p->rss_attached = nrx; /* the device's own default spreads over all */
	p->rx_intr = true;
	for (uint16_t q = 0; q < nrx; q++) {
		p->rxq_fd[q] = rte_eth_dev_rx_intr_ctl_q_get_fd(p->eth_port, q);
		if (p->rxq_fd[q] < 0) {
			p->rxq_fd[q] = -1;
			p->rx_intr = false;
		}
	}
	/* Software for everything: no PMD here takes GSO/checksum requests as we
	 * carry them (vhost negotiates none by default, see doc/ports.md). */
	if (ntx < xvs_dp.n_workers_max) {
		char rname[RTE_RING_NAMESIZE];

		snprintf(rname, sizeof(rname), "xvs_tx%u_%u", p->slot, devname_seq);
		p->tx_ring = rte_ring_create(rname, XVS_TX_RING_SIZE, rte_socket_id(),
					     RING_F_SC_DEQ);
		if (p->tx_ring == NULL) {
			r = -rte_errno;
			xvs_err_set(err, r, "port %s: tx hand-off ring: %s", p->cfg.name,
				    rte_strerror(rte_errno));
			goto stop;
		}
	}
	{
		struct rte_ether_addr mac;

		if (rte_eth_macaddr_get(p->eth_port, &mac) == 0)
			memcpy(p->mac, mac.addr_bytes, 6);
	}
	/* One af_packet rx queue: let a sleeping worker be woken by the first
	 * frame instead of a timer. Not for af_xdp: its XDP program redirects
	 * frames before any packet socket sees them. Best effort. */
	if (!p->rx_intr && nrx == 1 && p->cfg.kind == XVS_PORT_AFPACKET) {
		p->wake_fd = wake_open(p->cfg.ifname);
		p->rxq_fd[0] = p->wake_fd;
	}
	if (p->cfg.kind == XVS_PORT_AFPACKET && afpacket_ignore_outgoing(p->cfg.ifname,
									 p->wake_fd) == 0) {
		r = -ENOTSUP;
		xvs_err_set(err, r, "port %s: cannot make the AF_PACKET socket on %s ignore "
			    "the host's own frames", p->cfg.name, p->cfg.ifname);
		goto stop;
	}
	/* A PCI NIC with several queues: steer with its RETA (needs a Toeplitz
	 * hash over our key, which the device must report it supports). */
	if (p->cfg.kind == XVS_PORT_PCI && nrx > 1 && info.reta_size > 0 &&
	    info.hash_key_size == XVS_RSS_KEY_LEN) {
		p->rss_steerable = true;
		p->rss_hw_reta = true;
		p->reta_size = info.reta_size;
	}
	if (objs_before != NULL) {
		objs_note_new(p, objs_before);
		free(objs_before);
	}
	p->open = true;
	p->error[0] = '\0';
	return 0;

stop:
	if (p->wake_fd >= 0) {
		close(p->wake_fd);
		p->wake_fd = -1;
	}
	rte_ring_free(p->tx_ring);
	p->tx_ring = NULL;
	rte_eth_dev_stop(p->eth_port);
close:
	rte_eth_dev_close(p->eth_port);
remove:
	rte_eal_hotplug_remove(p->cfg.kind == XVS_PORT_PCI ? "pci" : "vdev", p->devname);
	if (objs_before != NULL) {
		objs_note_new(p, objs_before);
		objs_close_left(p);
	}
out:
	free(objs_before);
	snprintf(p->error, sizeof(p->error), "%s", err != NULL ? err->msg : "open failed");
	return r;
}

int
xvs_port_open(struct xvs_port *p, struct xvs_err *err)
{
	int r;

	p->open = false;
	p->mtu_max = 0;
	p->rx_mtu_max = 0;
	r = xvs_port_mtu_check(p->cfg.name, p->cfg.kind, p->cfg.mtu, err);
	if (r < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err != NULL ? err->msg : "open failed");
		return r;
	}
	if (p->cfg.kind == XVS_PORT_TAP)
		return tap_open(p, err);
	/* af_xdp: the kernel lets go of a closed AF_XDP socket, and so of its
	 * netdev queue, in deferred work a moment after the close: a port
	 * deleted and added again may find the queue still taken (EINVAL from
	 * the rx queue setup). Give it up to half a second. */
	for (int tries = 0;; tries++) {
		r = ethdev_open(p, err);
		if (r != -EINVAL || p->cfg.kind != XVS_PORT_AFXDP)
			return r;
		if (tries == 50)
			break;
		xvs_err_clear(err);
		rte_delay_us_sleep(10000);
	}
	/* With frames arriving while the old port was deleted, the kernel can
	 * keep its queue until the process exits (doc/ports.md). */
	if (err != NULL) {
		char msg[2 * sizeof(err->msg)];
		size_t n;

		snprintf(msg, sizeof(msg), "%s; if an afxdp port on %s was deleted while "
			 "traffic arrived, the kernel may still hold its queue: restart xvsd",
			 err->msg, p->cfg.ifname);
		n = RTE_MIN(strlen(msg), sizeof(err->msg) - 1);
		memcpy(err->msg, msg, n);
		err->msg[n] = '\0';
		memcpy(p->error, err->msg, n + 1);
	}
	return r;
}

int
xvs_port_rss_apply(struct xvs_port *p, uint16_t n, struct xvs_err *err)
{
	if (!p->open || !p->rss_steerable)
		return 0;
	if (n < 1 || n > p->n_rxq)
		return xvs_err_set(err, -EINVAL, "port %s: %u rx queues to use, it has %u",
				   p->cfg.name, n, p->n_rxq);
	if (p->tap != NULL)
		return xvs_tap_attach_queues(p->tap, n, err);
	if (p->rss_hw_reta) {
		struct rte_eth_rss_reta_entry64 reta[XVS_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
		struct rte_eth_rss_conf conf = {
			.rss_key = p->cfg.rss.key,
			.rss_key_len = XVS_RSS_KEY_LEN,
			.rss_hf = rss_hf(p->cfg.rss.types) & p->rss_hf_capa,
		};
		uint16_t size = RTE_MIN(p->reta_size, XVS_RSS_RETA_MAX);
		int r;

		memset(reta, 0, sizeof(reta));
		for (uint16_t i = 0; i < size; i++) {
			reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
			reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % n;
		}
		r = rte_eth_dev_rss_hash_update(p->eth_port, &conf);
		if (r == 0)
			r = rte_eth_dev_rss_reta_update(p->eth_port, reta, size);
		if (r < 0)
			return xvs_err_set(err, r, "port %s: program RSS (key, types, %u-entry "
					   "table over %u queues): %s", p->cfg.name, size, n,
					   rte_strerror(-r));
	}
	return 0;
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
	if (p->tap != NULL) {
		xvs_tap_close(p->tap);
		p->tap = NULL;
		return;
	}
	if (p->cfg.kind == XVS_PORT_AFXDP) {
		/* Frames stop reaching the AF_XDP socket before its device goes
		 * (see objs_close_left): the XDP program that redirects them off. */
		const char *off[] = {"ip", "link", "set", "dev", p->cfg.ifname, "xdp", "off", NULL};

		(void)run_ip(NULL, off);
	}
	(void)rte_eth_dev_stop(p->eth_port);
	(void)rte_eth_dev_close(p->eth_port);
	rte_eal_hotplug_remove(p->cfg.kind == XVS_PORT_PCI ? "pci" : "vdev", p->devname);
	objs_close_left(p);
	if (p->wake_fd >= 0) {
		close(p->wake_fd);
		p->wake_fd = -1;
	}
	if (p->tx_ring != NULL) {
		struct rte_mbuf *m;

		while (rte_ring_dequeue(p->tx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(p->tx_ring);
		p->tx_ring = NULL;
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tap port kind (datapath): xvs's own tap device with virtio-net headers
 * (see tap.h for why it is not DPDK's net_tap), and its ops table: open and
 * close with the kernel side (MTU, namespace), lazy rx (a read is a
 * syscall), queues attached and detached for RSS (TUNSETQUEUE).
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"
#include "port.h"
#include "offload.h"
#include "port_mtu.h"
#include "tap.h"

/* Enough segments for a 64 KB GSO frame plus headers in 2 KB mbufs. */
#define TAP_RX_SEGS 34
/* A read goes to one big mbuf (up to 64 KB of data room) and one 2 KB mbuf for
 * what does not fit (a 64 KB TSO frame plus headers is 65549 bytes, one mbuf's
 * data_len is 16 bits). Why: a TCP stream through two taps, 4 streams, kept
 * the worker at 100 % of a core at 9.6 Gbit/s reading into 34-segment chains,
 * while a bare relay reading into one buffer moved 12.8 at 87 %: per frame,
 * the chain costs 34 allocations and frees, a 35-entry iovec and a copy in
 * 2 KB pieces. Without a free big mbuf the read falls back to the chain. */
#define TAP_RX_IOV_BIG 3
#define TAP_MAX_QUEUES XVS_MAX_QUEUES

struct tap_rxq {
	int fd;
	uint16_t nseg;                         /* ready segments in seg[] */
	struct rte_mbuf *seg[TAP_RX_SEGS];     /* next read lands here */
	struct rte_mbuf *big;                  /* or here first, with seg[0] for the rest */
	uint64_t nombuf;
	uint64_t errors;
	uint64_t bad_offload;
	uint64_t reads;                        /* read syscalls */
	uint64_t reads_empty;                  /* of which found nothing (EAGAIN) */
	uint64_t reads_chained;                /* of which into seg[] only: no big mbuf */
} __rte_cache_aligned;

struct xvs_tap {
	uint16_t nq;
	_Atomic uint16_t nq_attached;          /* queues 0..nq_attached-1 get traffic */
	struct rte_mempool *pool;
	struct rte_mempool *big_pool;          /* NULL: reads go to chains of pool's mbufs */
	int ctl_sock;                          /* for SIOCSIFFLAGS / SIOCSIFHWADDR */
	char ifname[IFNAMSIZ];
	uint64_t tx_errors[XVS_MAX_WORKERS];   /* per worker, no sharing */
	struct tap_rxq rxq[TAP_MAX_QUEUES];
};

int
xvs_tap_fd(const struct xvs_tap *t, uint16_t q)
{
	return q < t->nq ? t->rxq[q].fd : -1;
}

void
xvs_tap_get_stats(const struct xvs_tap *t, struct xvs_tap_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (uint16_t q = 0; q < t->nq; q++) {
		st->rx_nombuf += t->rxq[q].nombuf;
		st->rx_errors += t->rxq[q].errors;
		st->rx_bad_offload += t->rxq[q].bad_offload;
		st->rx_reads += t->rxq[q].reads;
		st->rx_reads_empty += t->rxq[q].reads_empty;
		st->rx_reads_chained += t->rxq[q].reads_chained;
	}
	for (int w = 0; w < XVS_MAX_WORKERS; w++)
		st->tx_errors += t->tx_errors[w];
}

static int
open_queue(const char *ifname, struct xvs_err *err)
{
	struct ifreq ifr;
	/* TCP segmentation for both IP versions: offload.c segments either for
	 * ports without offloads. */
	unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	int hdr = sizeof(struct virtio_net_hdr);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return xvs_err_set(err, -errno, "tap %s: /dev/net/tun: %s", ifname, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		close(fd);
		return xvs_err_set(err, -e, "tap %s: %s%s", ifname, strerror(e),
				   e == EBUSY || e == EINVAL ? " (does a device of that name exist?)" :
				   "");
	}
	/* What we accept from the kernel: partial checksums and TCP GSO frames. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, offload) < 0) {
		int e = errno;

		close(fd);
		return xvs_err_set(err, -e, "tap %s: offload setup: %s", ifname, strerror(e));
	}
	return fd;
}

static void
free_queues(struct xvs_tap *t)
{
	for (uint16_t q = 0; q < TAP_MAX_QUEUES; q++) {
		struct tap_rxq *rq = &t->rxq[q];

		if (rq->fd >= 0)
			close(rq->fd);
		rq->fd = -1;
		for (uint16_t i = 0; i < rq->nseg; i++)
			rte_pktmbuf_free(rq->seg[i]);
		rq->nseg = 0;
		rte_pktmbuf_free(rq->big);
		rq->big = NULL;
	}
}

int
xvs_tap_open(const char *ifname, uint16_t nq, const uint8_t *mac, struct rte_mempool *pool,
	     struct rte_mempool *big_pool, struct xvs_tap **out, struct xvs_err *err)
{
	struct xvs_tap *t;
	struct ifreq ifr;
	int r;

	if (nq == 0 || nq > TAP_MAX_QUEUES)
		return xvs_err_set(err, -EINVAL, "tap %s: %u queues (1-%d)", ifname, nq,
				   TAP_MAX_QUEUES);
	t = rte_zmalloc("xvs_tap", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return xvs_err_set(err, -ENOMEM, "tap %s: out of memory", ifname);
	t->pool = pool;
	t->big_pool = big_pool;
	t->ctl_sock = -1;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	for (uint16_t q = 0; q < TAP_MAX_QUEUES; q++)
		t->rxq[q].fd = -1;
	for (uint16_t q = 0; q < nq; q++) {
		r = open_queue(ifname, err);
		if (r < 0)
			goto fail;
		t->rxq[q].fd = r;
	}
	t->nq = nq;
	t->nq_attached = nq;
	t->ctl_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t->ctl_sock < 0) {
		r = xvs_err_set(err, -errno, "tap %s: socket: %s", ifname, strerror(errno));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (mac != NULL) {
		ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
		memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
		if (ioctl(t->ctl_sock, SIOCSIFHWADDR, &ifr) < 0) {
			r = xvs_err_set(err, -errno, "tap %s: set MAC: %s", ifname, strerror(errno));
			goto fail;
		}
	}
	if (ioctl(t->ctl_sock, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(t->ctl_sock, SIOCSIFFLAGS, &ifr) < 0) {
			r = xvs_err_set(err, -errno, "tap %s: link up: %s", ifname, strerror(errno));
			goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	free_queues(t);
	if (t->ctl_sock >= 0)
		close(t->ctl_sock);
	rte_free(t);
	return r;
}

void
xvs_tap_limit_tx(struct xvs_tap *t, uint16_t n)
{
	if (n >= 1 && n <= t->nq)
		atomic_store_explicit(&t->nq_attached, n, memory_order_relaxed);
}

int
xvs_tap_attach_queues(struct xvs_tap *t, uint16_t n, struct xvs_err *err)
{
	if (n < 1 || n > t->nq)
		return xvs_err_set(err, -EINVAL, "tap %s: %u queues to attach, it has %u", t->ifname,
				   n, t->nq);
	/* Attach first, then let writers use the queue; detach after writers
	 * stopped using it (a write to a detached queue fails with EBADFD). */
	for (uint16_t q = 0; q < t->nq; q++) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = q < n ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (q >= n)
			atomic_store_explicit(&t->nq_attached, n, memory_order_relaxed);
		/* EINVAL: already in that state */
		if (ioctl(t->rxq[q].fd, TUNSETQUEUE, &ifr) < 0 && errno != EINVAL)
			return xvs_err_set(err, -errno, "tap %s: %s queue %u: %s", t->ifname,
					   q < n ? "attach" : "detach", q, strerror(errno));
	}
	atomic_store_explicit(&t->nq_attached, n, memory_order_relaxed);
	return 0;
}

void
xvs_tap_close(struct xvs_tap *t)
{
	if (t == NULL)
		return;
	free_queues(t); /* the device goes away with its last fd */
	close(t->ctl_sock);
	rte_free(t);
}

/* A queue found empty gives its read buffers back: they came from pools
 * every port shares, and a thousand idle taps holding 34 mbufs and a 64 KB
 * one each would leave nothing for the others (the pool ran dry at ~960
 * taps). A busy queue keeps them from one read to the next; an idle one
 * takes them again (from the mempool cache) at its next read. */
static void
rx_release(struct tap_rxq *rq)
{
	if (rq->nseg > 0)
		rte_pktmbuf_free_bulk(rq->seg, rq->nseg);
	rq->nseg = 0;
	rte_pktmbuf_free(rq->big);
	rq->big = NULL;
}

uint16_t
xvs_tap_rx_burst(struct xvs_tap *t, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
		 struct xvs_port_counters *c)
{
	struct tap_rxq *rq = &t->rxq[q];
	struct iovec iov[TAP_RX_SEGS + 1];
	struct virtio_net_hdr vh;
	enum xvs_drop why;
	uint16_t k = 0;

	while (k < n) {
		int niov;
		ssize_t r;
		uint32_t len, left;
		uint16_t used;

		uint16_t want;

		/* Buffers for the next read: the big mbuf and seg[0], or all
		 * of seg[] (no big one to be had). */
		if (rq->big == NULL && t->big_pool != NULL)
			rq->big = rte_pktmbuf_alloc(t->big_pool);
		want = rq->big != NULL ? 1 : TAP_RX_SEGS;
		if (rq->nseg < want) {
			if (rte_pktmbuf_alloc_bulk(t->pool, rq->seg + rq->nseg,
						   want - rq->nseg) != 0) {
				rq->nombuf++;
				break;
			}
			rq->nseg = want;
		}
		iov[0].iov_base = &vh;
		iov[0].iov_len = sizeof(vh);
		if (rq->big != NULL) {
			iov[1].iov_base = rte_pktmbuf_mtod(rq->big, void *);
			iov[1].iov_len = rte_pktmbuf_tailroom(rq->big);
			iov[2].iov_base = rte_pktmbuf_mtod(rq->seg[0], void *);
			iov[2].iov_len = rte_pktmbuf_tailroom(rq->seg[0]);
			niov = TAP_RX_IOV_BIG;
		} else {
			for (uint16_t i = 0; i < TAP_RX_SEGS; i++) {
				iov[i + 1].iov_base = rte_pktmbuf_mtod(rq->seg[i], void *);
				iov[i + 1].iov_len = rte_pktmbuf_tailroom(rq->seg[i]);
			}
			niov = TAP_RX_SEGS + 1;
		}
		r = readv(rq->fd, iov, niov);
		rq->reads++;
		if (r < 0) {
			if (errno == EAGAIN) {
				rq->reads_empty++;
				rx_release(rq);
			} else if (errno != EINTR)
				rq->errors++;
			break;
		}
		if (niov != TAP_RX_IOV_BIG)
			rq->reads_chained++;
		if ((size_t)r <= sizeof(vh)) {
			rq->errors++;
			continue;
		}
		len = (uint32_t)((size_t)r - sizeof(vh));
		/* Chain as many segments as the frame filled: the big mbuf and
		 * seg[0], or seg[0..]. */
		struct rte_mbuf *head, *prev = NULL;

		left = len;
		used = 0;
		if (niov == TAP_RX_IOV_BIG) {
			head = prev = rq->big;
			rq->big = NULL;
			head->data_len = (uint16_t)RTE_MIN(left, (uint32_t)iov[1].iov_len);
			left -= head->data_len;
		} else {
			head = rq->seg[0];
		}
		while (left > 0) {
			struct rte_mbuf *s = rq->seg[used++];
			uint16_t dl = (uint16_t)RTE_MIN(left, (uint32_t)rte_pktmbuf_tailroom(s));

			s->data_len = dl;
			left -= dl;
			if (prev != NULL)
				prev->next = s;
			prev = s;
		}
		prev->next = NULL;
		head->nb_segs = (uint16_t)(used + (niov == TAP_RX_IOV_BIG));
		head->pkt_len = len;
		head->port = 0;
		head->ol_flags = 0;
		memmove(rq->seg, rq->seg + used, sizeof(rq->seg[0]) * (size_t)(rq->nseg - used));
		rq->nseg = (uint16_t)(rq->nseg - used);
		why = xvs_offload_from_vnet(&vh, head);
		if (unlikely(why != XVS_OFFLOAD_OK)) {
			/* Received and dropped here, so counted as both. */
			rq->bad_offload++;
			c->rx_packets++;
			c->rx_bytes += len;
			c->drop[why]++;
			rte_pktmbuf_free(head);
			continue;
		}
		pkts[k++] = head;
	}
	return k;
}

static void
mbuf_to_vnet(const struct rte_mbuf *m, struct virtio_net_hdr *vh)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

	memset(vh, 0, sizeof(*vh));
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		vh->gso_type = (m->ol_flags & RTE_MBUF_F_TX_IPV6) ? VIRTIO_NET_HDR_GSO_TCPV6 :
								     VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = m->tso_segsz;
		vh->hdr_len = (uint16_t)(m->l2_len + m->l3_len + m->l4_len);
		l4 = RTE_MBUF_F_TX_TCP_CKSUM;
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM || l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = (uint16_t)(m->l2_len + m->l3_len);
		vh->csum_offset = l4 == RTE_MBUF_F_TX_TCP_CKSUM ?
					  offsetof(struct rte_tcp_hdr, cksum) :
					  offsetof(struct rte_udp_hdr, dgram_cksum);
	}
}

uint16_t
xvs_tap_tx_burst(struct xvs_tap *t, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t *bytes)
{
	uint16_t na = atomic_load_explicit(&t->nq_attached, memory_order_relaxed);
	int fd = t->rxq[q % (na ? na : 1)].fd;
	struct iovec iov[TAP_RX_SEGS + 8];
	struct virtio_net_hdr vh;
	uint16_t sent = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *s = m;
		int niov = 1;

		mbuf_to_vnet(m, &vh);
		iov[0].iov_base = &vh;
		iov[0].iov_len = sizeof(vh);
		for (; s != NULL && niov < (int)RTE_DIM(iov); s = s->next, niov++) {
			iov[niov].iov_base = rte_pktmbuf_mtod(s, void *);
			iov[niov].iov_len = s->data_len;
		}
		if (likely(s == NULL && writev(fd, iov, niov) > 0)) {
			sent++;
			*bytes += m->pkt_len;
		} else
			t->tx_errors[q % XVS_MAX_WORKERS]++;
		rte_pktmbuf_free(m);
	}
	return sent;
}

/* ---- the port kind ---- */

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
	r = xvs_port_run_ip(err, mv);
	return r < 0 ? r : xvs_port_run_ip(err, up);
}

static int
tap_port_open(struct xvs_port *p, struct xvs_err *err)
{
	struct xvs_tap *t;
	uint8_t mac[6];
	uint16_t nq = p->cfg.queues ? p->cfg.queues : 1;
	bool has_mac = p->cfg.mac[0] != '\0' && xvs_mac_parse("mac", p->cfg.mac, mac, NULL) == 0;
	int r;

	r = xvs_tap_open(p->cfg.ifname, nq, has_mac ? mac : NULL, xvs_dp.pool,
			 xvs_dp.tap_pool, &t, err);
	if (r < 0)
		return r;
	if (p->cfg.mtu != 1500) {
		char mtu[16];
		const char *set[] = {"ip", "link", "set", "dev", p->cfg.ifname, "mtu", mtu, NULL};

		snprintf(mtu, sizeof(mtu), "%u", p->cfg.mtu);
		r = xvs_port_run_ip(err, set);
	}
	if (r == 0)
		r = tap_to_netns(p, err);
	if (r < 0) {
		xvs_tap_close(t);
		return r;
	}
	p->priv = t;
	snprintf(p->devname, sizeof(p->devname), "%s", p->cfg.ifname);
	snprintf(p->driver, sizeof(p->driver), "xvs_tap");
	p->n_rxq = nq;
	p->n_txq = XVS_MAX_WORKERS; /* writes are per frame and thread-safe: any worker, any queue */
	p->rss_steerable = true;    /* queues attach and detach (TUNSETQUEUE) */
	p->rss_attached = nq;
	p->rx_intr = true;
	for (uint16_t q = 0; q < nq; q++)
		p->rxq[q].fd = xvs_tap_fd(t, q);
	if (has_mac)
		memcpy(p->mac, mac, 6);
	p->caps.tx_meta_offload = true;
	p->caps.rx_lazy = true;
	p->caps.tx_drop = XVS_DROP_tx_error;
	p->caps.max_rx_queues = TAP_MAX_QUEUES;
	p->caps.max_tx_queues = TAP_MAX_QUEUES;
	p->caps.mtu_min = 68;
	p->caps.mtu_max = xvs_port_kind_mtu_max(p->cfg.kind, NULL);
	return 0;
}

static void
tap_port_close(struct xvs_port *p)
{
	xvs_tap_close(p->priv);
	p->priv = NULL;
}

static uint16_t
tap_port_rx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
		  struct xvs_port_counters *c)
{
	return xvs_tap_rx_burst(priv, q, pkts, n, c);
}

static uint16_t
tap_port_tx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	return xvs_tap_tx_burst(priv, q, pkts, n, bytes);
}

/* A tap fd is readable while frames wait: nothing to arm. */
static int
tap_port_rxq_intr(void *priv, uint16_t q, bool on)
{
	(void)priv;
	(void)q;
	(void)on;
	return 0;
}

/* A tap is up while it exists. */
static void
tap_port_link(const struct xvs_port *p, struct xvs_port_link *l)
{
	(void)p;
	l->up = true;
	l->speed_mbps = 0;
}

/* Its kernel side takes what the kind allows (checked with the config). */
static int
tap_port_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	(void)p;
	(void)mtu;
	(void)err;
	return 0;
}

/* The kernel side's MTU, wherever its namespace is. */
static int
tap_port_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	char m[16];
	const char *here[] = {"ip", "link", "set", "dev", p->cfg.ifname, "mtu", m, NULL};
	const char *there[] = {"ip", "-n", p->cfg.netns, "link", "set", "dev",
			       p->cfg.ifname, "mtu", m, NULL};

	snprintf(m, sizeof(m), "%u", mtu);
	return xvs_port_run_ip(err, p->cfg.netns[0] ? there : here);
}

static int
tap_port_rss_apply(struct xvs_port *p, uint16_t n, struct xvs_err *err)
{
	return xvs_tap_attach_queues(p->priv, n, err);
}

static void
tap_port_limit_tx(struct xvs_port *p, uint16_t n)
{
	xvs_tap_limit_tx(p->priv, n);
}

static void
tap_port_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st)
{
	struct xvs_tap_stats ts;

	xvs_tap_get_stats(p->priv, &ts);
	st->valid = true;
	st->rx_missed = ts.rx_nombuf;
	st->rx_errors = ts.rx_errors + ts.rx_bad_offload;
	st->tx_errors = ts.tx_errors;
	st->extra[0].name = "rx_reads";
	st->extra[0].value = ts.rx_reads;
	st->extra[1].name = "rx_reads_empty";
	st->extra[1].value = ts.rx_reads_empty;
	st->extra[2].name = "rx_reads_chained";
	st->extra[2].value = ts.rx_reads_chained;
	st->n_extra = 3;
}

const struct xvs_port_ops xvs_port_tap_ops = {
	.kind = XVS_PORT_TAP,
	.steerable = true,
	.ifname_exclusive = true,
	.open = tap_port_open,
	.close = tap_port_close,
	.rx_burst = tap_port_rx_burst,
	.tx_burst = tap_port_tx_burst,
	.rxq_intr = tap_port_rxq_intr,
	.link = tap_port_link,
	.mtu_allowed = tap_port_mtu_allowed,
	.set_mtu = tap_port_set_mtu,
	.rss_apply = tap_port_rss_apply,
	.limit_tx = tap_port_limit_tx,
	.dev_stats = tap_port_dev_stats,
};

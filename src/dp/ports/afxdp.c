/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_XDP port on libxdp's xsk API (datapath); see afxdp.h for why. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "afxdp.h"
#include "dp.h"
#include "port.h"
#include "port_mtu.h"
#include "xsk_redirect.h"

/* A UMEM frame: the rx side gets XDP_PACKET_HEADROOM (256) before the
 * frame, so it receives frames of up to 1792 bytes, the MTU limit of the
 * kind (core/port_mtu.h). */
#define XSK_FRAME_SIZE 2048u
#define XSK_RX_FRAMES 2048u   /* rx half: circulates fill ring -> rx ring -> fill ring */
#define XSK_TX_FRAMES 1024u   /* tx half: as many as the completion ring holds */
/* The fill ring holds twice the rx frames: the kernel publishes a frame in the
 * rx ring before it moves the fill ring's consumer, so a ring of exactly the
 * frame count can look full while frames it took are already back with us. */
#define XSK_FILL_RING (2u * XSK_RX_FRAMES)
#define XSK_RX_RING XSK_RX_FRAMES
#define XSK_TX_RING XSK_TX_FRAMES
#define XSK_MAX_QUEUES XVS_MAX_QUEUES
/* sendto() on a copy-mode socket sends at most 32 frames and says EAGAIN
 * when more wait: kick again, up to this many times. */
#define XSK_KICKS_MAX 8
/* The kernel lets go of a closed socket's netdev queue in deferred work: a
 * bind right after a close on the same queue may find it still taken. */
#define XSK_BIND_WAIT_MS 1000
/* Program name: XSK_PROG_NAME "_" and the pid of the xvsd that attached it
 * (BPF_OBJ_NAME_LEN 16: "xvs_xsk_" and up to 7 digits, pid_max is 2^22). */
#define XSK_PROG_NAME "xvs_xsk"
/* An rx burst the mempool could not serve at all: the socket fd stays
 * readable (level-triggered), so back off this long rather than spin. */
#define XSK_NOMBUF_BACKOFF_US 50

static_assert(XVS_FRAME_MAX(XVS_AFXDP_MTU_MAX) <= XSK_FRAME_SIZE - XDP_PACKET_HEADROOM,
	      "a frame of the afxdp MTU fits one UMEM frame after the XDP headroom");
/* The egress stage drops a frame longer than the port's MTU as tx_oversize
 * (stage_l2.c); one that passes, with a VLAN tag pushed at egress, fits a tx
 * frame: the too-long guard in xvs_xsk_tx_burst never fires for it. */
static_assert(XVS_FRAME_MAX(XVS_AFXDP_MTU_MAX) + 4u <= XSK_FRAME_SIZE,
	      "a frame the egress MTU check passes fits one tx UMEM frame");
static_assert(XSK_FRAME_SIZE - XDP_PACKET_HEADROOM <= RTE_MBUF_DEFAULT_DATAROOM,
	      "a received frame fits one 2 KB mbuf");

struct xsk_rxq {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	uint32_t n_stash;
	uint64_t alloc_failed;
	uint64_t kicks;
	/* Frames back from the rx ring not yet posted to the fill ring (it had
	 * no room; cannot happen with XSK_FILL_RING, kept as the safety net). */
	uint64_t stash[XSK_RX_FRAMES];
} __rte_cache_aligned;

struct xsk_txq {
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	uint32_t n_free;
	uint64_t free[XSK_TX_FRAMES]; /* UMEM addresses of free tx frames */
	uint64_t too_long;
	uint64_t kicks;
	uint64_t kick_busy;           /* kicks the kernel answered EAGAIN/EBUSY to */
} __rte_cache_aligned;

struct xsk_q {
	struct xsk_rxq r;
	struct xsk_txq t;
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	void *area;
	int fd;
	uint32_t queue_id; /* netdev queue */
};

struct xvs_xsk {
	char ifname[IFNAMSIZ];
	int ifindex;
	uint16_t nq;
	bool zerocopy;
	uint32_t xdp_flags;  /* attach mode of the program */
	int map_fd;          /* XSKMAP: netdev queue -> socket */
	int prog_fd;         /* the redirect program, -1 when not attached */
	struct rte_mempool *pool;
	struct xsk_q q[XSK_MAX_QUEUES];
};

uint32_t
xvs_xsk_frame_max(void)
{
	return XSK_FRAME_SIZE - XDP_PACKET_HEADROOM;
}

int
xvs_xsk_fd(const struct xvs_xsk *x, uint16_t q)
{
	return q < x->nq ? x->q[q].fd : -1;
}

const char *
xvs_xsk_mode_name(const struct xvs_xsk *x)
{
	return x->zerocopy ? "zero-copy" : "copy";
}

const char *
xvs_xsk_attach_name(const struct xvs_xsk *x)
{
	return (x->xdp_flags & XDP_FLAGS_DRV_MODE) ? "native" : "generic";
}

bool
xvs_xsk_link_up(const struct xvs_xsk *x)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up = false;

	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname((unsigned int)x->ifindex, ifr.ifr_name) != NULL &&
	    ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	close(fd);
	return up;
}

void
xvs_xsk_get_stats(const struct xvs_xsk *x, struct xvs_xsk_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (uint16_t i = 0; i < x->nq; i++) {
		const struct xsk_q *q = &x->q[i];
		struct xdp_statistics ks;
		socklen_t len = sizeof(ks);

		memset(&ks, 0, sizeof(ks));
		st->rx_alloc_failed += q->r.alloc_failed;
		st->tx_kick_busy += q->t.kick_busy;
		st->rx_kicks += q->r.kicks;
		st->tx_too_long += q->t.too_long;
		st->tx_kicks += q->t.kicks;
		/* A frame lost for want of a fill frame counts in rx_dropped and
		 * rx_fill_ring_empty_descs both: only the first is a drop count. */
		if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &ks, &len) == 0 &&
		    len >= offsetof(struct xdp_statistics, tx_invalid_descs) + sizeof(ks.tx_invalid_descs)) {
			st->rx_kernel_dropped += ks.rx_dropped + ks.rx_ring_full;
			st->rx_invalid += ks.rx_invalid_descs;
			st->tx_invalid += ks.tx_invalid_descs;
		}
	}
}

/* ---- the XDP program ----
 *
 * xsk_redirect.h's: a frame on a queue with a socket goes to it, any other to
 * the kernel stack. Written out as instructions rather than loaded from an
 * object file (libxdp's default program would do the same, but its lookup of
 * an existing program on the netdev and its multi-program dispatcher leave
 * fds open that hold the sockets, the DPDK PMD's failure): one program and
 * one map of our own, detached and closed on close. */
static int
prog_load(int map_fd, struct xvs_err *err)
{
	char name[BPF_OBJ_NAME_LEN + 16]; /* the kernel takes BPF_OBJ_NAME_LEN - 1 */
	int fd;

	snprintf(name, sizeof(name), XSK_PROG_NAME "_%ld", (long)getpid());
	fd = xvs_xsk_redirect_prog_load(map_fd, name);
	if (fd < 0)
		return xvs_err_set(err, -errno, "load XDP program: %s", strerror(errno));
	return fd;
}

/* Whether a program of ours named name was attached by an xvsd that is gone:
 * its name carries the attaching pid (prog_load), and a live pid, this
 * process's included (another port on the netdev), still owns it. A name
 * without a pid is from an xvsd before the pid was recorded: stale. */
static bool
prog_owner_gone(const char *name)
{
	const char *p = name + strlen(XSK_PROG_NAME);
	char *end;
	long pid;

	if (strncmp(name, XSK_PROG_NAME, strlen(XSK_PROG_NAME)) != 0)
		return false;
	if (*p == '\0')
		return true;
	if (*p != '_')
		return false;
	pid = strtol(p + 1, &end, 10);
	if (*end != '\0' || pid <= 0)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* An fd of a program of ours attached to ifindex in mode by an xvsd that was
 * killed (which we may replace), or -1. */
static int
stale_prog_fd(int ifindex, uint32_t mode)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), id = 0;
	int fd;

	if (bpf_xdp_query_id(ifindex, (int)mode, &id) < 0 || id == 0)
		return -1;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || !prog_owner_gone(info.name)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Attach the program in native mode, else generic (zero-copy needs native).
 * A program left by an xvsd that died is replaced; anyone else's is not. */
static int
prog_attach(struct xvs_xsk *x, bool need_native, struct xvs_err *err)
{
	static const uint32_t modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	int r = -EOPNOTSUPP;

	for (unsigned int i = 0; i < (need_native ? 1u : RTE_DIM(modes)); i++) {
		int old = stale_prog_fd(x->ifindex, modes[i]);
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old >= 0 ? old : 0);

		r = bpf_xdp_attach(x->ifindex, x->prog_fd,
				   modes[i] | (old >= 0 ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST),
				   old >= 0 ? &opts : NULL);
		if (old >= 0)
			close(old);
		if (r == 0) {
			x->xdp_flags = modes[i];
			return 0;
		}
		if (r == -EBUSY || r == -EEXIST)
			return xvs_err_set(err, r, "%s has an XDP program attached that is not "
					   "a dead xvsd's (another port, another xvsd or someone "
					   "else's; ip link set dev %s xdp off)", x->ifname,
					   x->ifname);
	}
	return xvs_err_set(err, r, "attach XDP program to %s%s: %s", x->ifname,
			   need_native ? " in native mode (zero-copy needs it)" : "", strerror(-r));
}

/* ---- sockets ---- */

/* The netdev's rx and tx queue counts (ETHTOOL_GCHANNELS), or -EOPNOTSUPP
 * for a driver that does not say. A copy-mode sendto() on a queue id at or
 * past real_num_tx_queues sends nothing and says nothing: check first. */
static int
netdev_queues(const char *ifname, uint32_t *rxq, uint32_t *txq)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	*rxq = ch.rx_count + ch.combined_count;
	*txq = ch.tx_count + ch.combined_count;
	return 0;
}

static void
queue_free(struct xsk_q *q)
{
	if (q->xsk != NULL)
		xsk_socket__delete(q->xsk);
	q->xsk = NULL;
	if (q->umem != NULL)
		(void)xsk_umem__delete(q->umem);
	q->umem = NULL;
	if (q->area != NULL)
		munmap(q->area, (size_t)(XSK_RX_FRAMES + XSK_TX_FRAMES) * XSK_FRAME_SIZE);
	q->area = NULL;
	q->fd = -1;
}

static int
queue_try(struct xvs_xsk *x, struct xsk_q *q, bool zc)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = XSK_FILL_RING,
		.comp_size = XSK_TX_FRAMES,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	const struct xsk_socket_config scfg = {
		.rx_size = XSK_RX_RING,
		.tx_size = XSK_TX_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, /* our own, prog_attach */
		.bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY),
	};
	size_t len = (size_t)(XSK_RX_FRAMES + XSK_TX_FRAMES) * XSK_FRAME_SIZE;
	int r;

	q->area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return -errno;
	}
	r = xsk_umem__create(&q->umem, q->area, len, &q->r.fill, &q->t.comp, &ucfg);
	if (r < 0) {
		q->umem = NULL;
		queue_free(q);
		return r;
	}
	for (int waited = 0;; waited += 10) {
		r = xsk_socket__create(&q->xsk, x->ifname, q->queue_id, q->umem, &q->r.rx, &q->t.tx,
				       &scfg);
		if (r != -EBUSY || waited >= XSK_BIND_WAIT_MS)
			break;
		rte_delay_us_sleep(10000);
	}
	if (r < 0) {
		q->xsk = NULL;
		queue_free(q);
		return r;
	}
	q->fd = xsk_socket__fd(q->xsk);
	return 0;
}

static int
queue_open(struct xvs_xsk *x, struct xsk_q *q, enum xvs_xsk_mode mode, struct xvs_err *err)
{
	uint32_t idx;
	int r = -EOPNOTSUPP;

	if (mode != XVS_XSK_COPY) {
		r = queue_try(x, q, true);
		if (r < 0 && mode == XVS_XSK_ZEROCOPY)
			return xvs_err_set(err, r, "%s queue %u: zero-copy AF_XDP socket: %s "
					   "(xdp-mode=auto falls back to copy)", x->ifname,
					   q->queue_id, strerror(-r));
	}
	if (r < 0) {
		r = queue_try(x, q, false);
		if (r < 0)
			return xvs_err_set(err, r, "%s queue %u: AF_XDP socket: %s", x->ifname,
					   q->queue_id, strerror(-r));
		x->zerocopy = false;
	}
	/* Every rx frame to the kernel, every tx frame to the free list. */
	if (xsk_ring_prod__reserve(&q->r.fill, XSK_RX_FRAMES, &idx) != XSK_RX_FRAMES) {
		queue_free(q);
		return xvs_err_set(err, -EIO, "%s queue %u: fill ring", x->ifname, q->queue_id);
	}
	for (uint32_t i = 0; i < XSK_RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&q->r.fill, idx + i) = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&q->r.fill, XSK_RX_FRAMES);
	q->t.n_free = XSK_TX_FRAMES;
	for (uint32_t i = 0; i < XSK_TX_FRAMES; i++)
		q->t.free[i] = (uint64_t)(XSK_RX_FRAMES + i) * XSK_FRAME_SIZE;
	if (bpf_map_update_elem(x->map_fd, &q->queue_id, &q->fd, 0) < 0) {
		r = -errno;
		queue_free(q);
		return xvs_err_set(err, r, "%s queue %u: XSKMAP: %s", x->ifname, q->queue_id,
				   strerror(-r));
	}
	return 0;
}

void
xvs_xsk_close(struct xvs_xsk *x)
{
	if (x == NULL)
		return;
	/* Frames stop being redirected first, then the sockets go. */
	if (x->xdp_flags != 0) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = x->prog_fd);

		(void)bpf_xdp_detach(x->ifindex, x->xdp_flags, &opts);
	}
	for (uint16_t i = 0; i < x->nq; i++) {
		if (x->q[i].fd >= 0 && x->map_fd >= 0)
			(void)bpf_map_delete_elem(x->map_fd, &x->q[i].queue_id);
		queue_free(&x->q[i]);
	}
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->map_fd >= 0)
		close(x->map_fd);
	rte_free(x);
}

int
xvs_xsk_open(const char *ifname, uint16_t nq, uint16_t start_queue, enum xvs_xsk_mode mode,
	     struct rte_mempool *pool, struct xvs_xsk **out, struct xvs_err *err)
{
	struct xvs_xsk *x;
	int r;

	*out = NULL;
	if (nq == 0 || nq > XSK_MAX_QUEUES)
		return xvs_err_set(err, -EINVAL, "%s: %u queues (1-%d)", ifname, nq,
				   XSK_MAX_QUEUES);
	x = rte_zmalloc("xvs_xsk", sizeof(*x), RTE_CACHE_LINE_SIZE);
	if (x == NULL)
		return xvs_err_set(err, -ENOMEM, "%s: out of memory", ifname);
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	x->pool = pool;
	x->map_fd = -1;
	x->prog_fd = -1;
	x->zerocopy = mode != XVS_XSK_COPY;
	for (uint16_t i = 0; i < XSK_MAX_QUEUES; i++)
		x->q[i].fd = -1;
	x->ifindex = (int)if_nametoindex(ifname);
	if (x->ifindex == 0) {
		r = xvs_err_set(err, -ENODEV, "%s: no such netdev", ifname);
		goto fail;
	}
	{
		uint32_t rxq = 0, txq = 0;

		if (netdev_queues(ifname, &rxq, &txq) == 0 && txq > 0 &&
		    (uint32_t)start_queue + nq > txq) {
			r = xvs_err_set(err, -EINVAL, "%s has %u tx queues; queues %u-%u need %u "
					"(ethtool -L %s tx %u, or fewer queues)", ifname, txq,
					start_queue, start_queue + nq - 1, start_queue + nq,
					ifname, start_queue + nq);
			goto fail;
		}
	}
	x->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "xvs_xsks", sizeof(uint32_t),
				   sizeof(int), (uint32_t)start_queue + nq, NULL);
	if (x->map_fd < 0) {
		r = xvs_err_set(err, -errno, "%s: XSKMAP: %s", ifname, strerror(errno));
		goto fail;
	}
	for (uint16_t i = 0; i < nq; i++) {
		x->q[i].queue_id = (uint32_t)start_queue + i;
		x->nq = i + 1; /* what close releases */
		r = queue_open(x, &x->q[i], i == 0 ? mode : (x->zerocopy ? XVS_XSK_ZEROCOPY :
							     XVS_XSK_COPY), err);
		if (r < 0)
			goto fail;
	}
	x->prog_fd = prog_load(x->map_fd, err);
	if (x->prog_fd < 0) {
		r = x->prog_fd;
		goto fail;
	}
	r = prog_attach(x, x->zerocopy, err);
	if (r < 0)
		goto fail;
	*out = x;
	return 0;
fail:
	xvs_xsk_close(x);
	return r;
}

/* ---- datapath ---- */

/* Post the stashed rx frames to the fill ring: all of them or, when it has
 * no room for all, none (next call tries again). */
static inline void
fill_post(struct xsk_rxq *r)
{
	uint32_t idx;

	if (unlikely(xsk_ring_prod__reserve(&r->fill, r->n_stash, &idx) != r->n_stash))
		return;
	for (uint32_t i = 0; i < r->n_stash; i++)
		*xsk_ring_prod__fill_addr(&r->fill, idx + i) = r->stash[i];
	xsk_ring_prod__submit(&r->fill, r->n_stash);
	r->n_stash = 0;
}

uint16_t
xvs_xsk_rx_burst(struct xvs_xsk *x, uint16_t qi, struct rte_mbuf **pkts, uint16_t n)
{
	struct xsk_q *q = &x->q[qi];
	uint32_t idx, got, take;

	if (unlikely(q->r.n_stash > 0))
		fill_post(&q->r);
	got = xsk_ring_cons__peek(&q->r.rx, n, &idx);
	if (got == 0) {
		/* A zero-copy driver that ran out of fill frames waits to be told. */
		if (unlikely(xsk_ring_prod__needs_wakeup(&q->r.fill))) {
			q->r.kicks++;
			(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		}
		return 0;
	}
	/* rte_pktmbuf_alloc_bulk is all or nothing: with fewer mbufs free than
	 * frames waiting, take as many as there are (halving) rather than none. */
	for (take = got; take > 0; take /= 2)
		if (rte_pktmbuf_alloc_bulk(x->pool, pkts, take) == 0)
			break;
	if (unlikely(take < got)) {
		/* The rest wait in the ring (the kernel counts rx_ring_full if it
		 * fills): one event, however often it is retried. */
		xsk_ring_cons__cancel(&q->r.rx, got - take);
		q->r.alloc_failed++;
		got = take;
		if (got == 0) {
			/* The fd stays readable: without a pause the worker would spin
			 * at loop rate until mbufs come back. */
			rte_delay_us_sleep(XSK_NOMBUF_BACKOFF_US);
			return 0;
		}
	}
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->r.rx, idx + i);
		struct rte_mbuf *m = pkts[i];

		rte_memcpy(rte_pktmbuf_mtod(m, void *), xsk_umem__get_data(q->area, d->addr), d->len);
		m->data_len = (uint16_t)d->len;
		m->pkt_len = d->len;
		q->r.stash[q->r.n_stash++] =
			xsk_umem__extract_addr(d->addr) & ~(uint64_t)(XSK_FRAME_SIZE - 1);
	}
	xsk_ring_cons__release(&q->r.rx, got);
	fill_post(&q->r);
	return (uint16_t)got;
}

static void
tx_kick(struct xsk_q *q)
{
	for (int i = 0; i < XSK_KICKS_MAX; i++) {
		q->t.kicks++;
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			break;
		if (errno != EAGAIN && errno != EBUSY)
			break;
		q->t.kick_busy++;
	}
}

/* Entries in the tx ring the kernel has not taken yet. */
static inline uint32_t
tx_unsent(const struct xsk_txq *t)
{
	return t->tx.cached_prod - __atomic_load_n(t->tx.consumer, __ATOMIC_ACQUIRE);
}

/* Take back the tx frames the kernel has sent. */
static void
tx_reclaim(struct xsk_q *q)
{
	uint32_t idx, n = xsk_ring_cons__peek(&q->t.comp, XSK_TX_FRAMES, &idx);

	for (uint32_t i = 0; i < n; i++)
		q->t.free[q->t.n_free++] = *xsk_ring_cons__comp_addr(&q->t.comp, idx + i);
	xsk_ring_cons__release(&q->t.comp, n);
}

/* Kick the kernel if the tx ring holds frames it has not taken and it waits
 * to be told, whether or not this call queued any: a kick that met EAGAIN
 * (copy mode sends 32 a kick) or a busy device left them there, and with
 * every tx frame in the ring nothing else would ever kick again. */
static inline void
tx_kick_pending(struct xsk_q *q)
{
	if (tx_unsent(&q->t) > 0 && xsk_ring_prod__needs_wakeup(&q->t.tx))
		tx_kick(q);
}

bool
xvs_xsk_tx_flush(struct xvs_xsk *x, uint16_t qi)
{
	struct xsk_q *q = &x->q[qi];

	tx_reclaim(q);
	tx_kick_pending(q);
	return tx_unsent(&q->t) > 0;
}

uint16_t
xvs_xsk_tx_burst(struct xvs_xsk *x, uint16_t qi, struct rte_mbuf **pkts, uint16_t n)
{
	struct xsk_q *q = &x->q[qi];
	uint16_t i;
	uint32_t queued = 0;

	tx_reclaim(q);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct xdp_desc *d;
		uint64_t addr;
		uint8_t *dst;
		uint32_t idx;

		if (unlikely(m->pkt_len > XSK_FRAME_SIZE)) {
			q->t.too_long++; /* freed below with the others taken */
			continue;
		}
		if (q->t.n_free == 0 || xsk_ring_prod__reserve(&q->t.tx, 1, &idx) != 1)
			break;
		addr = q->t.free[--q->t.n_free];
		dst = xsk_umem__get_data(q->area, addr);
		/* Every segment of a chain, in order. */
		for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
			rte_memcpy(dst, rte_pktmbuf_mtod(s, const void *), s->data_len);
			dst += s->data_len;
		}
		d = xsk_ring_prod__tx_desc(&q->t.tx, idx);
		d->addr = addr;
		d->len = m->pkt_len;
		d->options = 0;
		queued++;
	}
	rte_pktmbuf_free_bulk(pkts, i);
	if (queued > 0)
		xsk_ring_prod__submit(&q->t.tx, queued);
	tx_kick_pending(q);
	return i;
}

/* ---- the port kind ---- */


static const enum xvs_xsk_mode xsk_mode[] = {
	[XVS_XDP_AUTO] = XVS_XSK_AUTO,
	[XVS_XDP_COPY] = XVS_XSK_COPY,
	[XVS_XDP_ZEROCOPY] = XVS_XSK_ZEROCOPY,
};

/* xvs's own AF_XDP sockets rather than DPDK's af_xdp PMD, which left sockets
 * and BPF objects behind on close, had no rx interrupt and was not safe to
 * retry after a failed queue setup (afxdp.h). One socket per queue, its fd
 * the queue's wake-up fd; as many tx queues as sockets (a worker without one
 * hands off: the tx ring of a socket has one producer). */
static int
afxdp_port_open(struct xvs_port *p, struct xvs_err *err)
{
	uint16_t nq = p->cfg.queues ? p->cfg.queues : 1;
	uint32_t mtu0 = xvs_port_netdev_mtu(p->cfg.ifname); /* put back if the open fails */
	struct xvs_xsk *x = NULL;
	int r;

	r = p->cfg.mtu != 1500 ? xvs_port_netdev_set_mtu(p, p->cfg.mtu, err) : 0;
	if (r == 0) {
		r = xvs_xsk_open(p->cfg.ifname, nq, p->cfg.start_queue, xsk_mode[p->cfg.xdp_mode],
				 xvs_dp.pool, &x, err);
		if (r < 0 && err != NULL) {
			char msg[sizeof(err->msg)];

			snprintf(msg, sizeof(msg), "%s", err->msg);
			xvs_err_set(err, r, "port %s: cannot create afxdp device on %s: %s",
				    p->cfg.name, p->cfg.ifname, msg);
		}
	}
	if (r < 0) {
		if (mtu0 > 0 && mtu0 != p->cfg.mtu)
			(void)xvs_port_netdev_set_mtu(p, mtu0, NULL);
		return r;
	}
	p->priv = x;
	snprintf(p->devname, sizeof(p->devname), "%s", p->cfg.ifname);
	snprintf(p->driver, sizeof(p->driver), "xvs_afxdp");
	p->n_rxq = nq;
	p->n_txq = nq;
	p->rss_attached = nq; /* the NIC's own hash spreads over them */
	p->rx_intr = true;
	/* The socket fd wakes the worker for the first frame, as a tap's does:
	 * a long spin after each frame would cost a sparse flow (a ping every
	 * 10 ms) 2 % of a core for nothing (bench/afxdp.py beside xdprelay). */
	p->caps.rx_spin_short = true;
	for (uint16_t q = 0; q < nq; q++)
		p->rxq[q].fd = xvs_xsk_fd(x, q);
	xvs_port_netdev_mac(p->cfg.ifname, p->mac);
	/* One UMEM frame per packet (static_assert above). */
	p->mtu_max = XVS_AFXDP_MTU_MAX;
	p->rx_mtu_max = XVS_AFXDP_MTU_MAX;
	p->caps.uplink = true;
	p->caps.tx_drop = XVS_DROP_tx_full;
	p->caps.mtu_min = 68;
	p->caps.mtu_max = XVS_AFXDP_MTU_MAX;
	p->caps.max_rx_queues = nq;
	p->caps.max_tx_queues = nq;
	return 0;
}

static void
afxdp_port_close(struct xvs_port *p)
{
	xvs_xsk_close(p->priv);
	p->priv = NULL;
}

/* A look at rings in memory; a syscall only to wake a zero-copy driver out
 * of fill frames, or to back off when the mempool is empty. */
static uint16_t
afxdp_port_rx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
		    struct xvs_port_counters *c)
{
	(void)c;
	return xvs_xsk_rx_burst(priv, q, pkts, n);
}

static uint16_t
afxdp_send(void *x, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return xvs_xsk_tx_burst(x, q, pkts, n);
}

static uint16_t
afxdp_port_tx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	return xvs_port_tx_retry(afxdp_send, priv, q, pkts, n, bytes);
}

static bool
afxdp_port_tx_pending(void *priv, uint16_t q)
{
	return xvs_xsk_tx_flush(priv, q);
}

/* A socket's fd is readable while frames wait in its rx ring: nothing to arm. */
static int
afxdp_port_rxq_intr(void *priv, uint16_t q, bool on)
{
	(void)priv;
	(void)q;
	(void)on;
	return 0;
}

static void
afxdp_port_link(const struct xvs_port *p, struct xvs_port_link *l)
{
	l->up = xvs_xsk_link_up(p->priv);
	l->speed_mbps = 0;
}

/* The kind's limit (one UMEM frame) is checked with the configuration. */
static int
afxdp_port_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	if (mtu > XVS_AFXDP_MTU_MAX)
		return xvs_port_mtu_refuse(p, mtu, XVS_AFXDP_MTU_MAX, "one 2 KB umem frame "
					   "per packet", err);
	return 0;
}

static int
afxdp_port_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	return xvs_port_netdev_set_mtu(p, mtu, err);
}

static void
afxdp_port_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st)
{
	struct xvs_xsk_stats xs;

	xvs_xsk_get_stats(p->priv, &xs);
	st->valid = true;
	st->rx_missed = xs.rx_kernel_dropped;
	st->rx_errors = xs.rx_invalid;
	/* A too-long frame is one count, tx_too_long, not a tx error too. */
	st->tx_errors = xs.tx_invalid;
	st->extra[0].name = "rx_alloc_failed";
	st->extra[0].value = xs.rx_alloc_failed;
	st->extra[1].name = "tx_kick_busy";
	st->extra[1].value = xs.tx_kick_busy;
	st->extra[2].name = "tx_too_long";
	st->extra[2].value = xs.tx_too_long;
	st->extra[3].name = "tx_kicks";
	st->extra[3].value = xs.tx_kicks;
	st->extra[4].name = "rx_kicks";
	st->extra[4].value = xs.rx_kicks;
	st->n_extra = 5;
}

static void
afxdp_port_info(const struct xvs_port *p, struct xvs_port_info *info)
{
	info->kv[0].name = "xdp_mode";
	info->kv[0].value = xvs_xsk_mode_name(p->priv);
	info->kv[1].name = "xdp_attach";
	info->kv[1].value = xvs_xsk_attach_name(p->priv);
	info->n = 2;
}

const struct xvs_port_ops xvs_port_afxdp_ops = {
	.kind = XVS_PORT_AFXDP,
	/* One XDP program per netdev: a second port (another start-queue) would
	 * have to share it. */
	.ifname_exclusive = true,
	.ifname_exclusive_hint = " (one afxdp port per netdev; give it more queues)",
	.open = afxdp_port_open,
	.close = afxdp_port_close,
	.rx_burst = afxdp_port_rx_burst,
	.tx_burst = afxdp_port_tx_burst,
	.tx_pending = afxdp_port_tx_pending,
	.rxq_intr = afxdp_port_rxq_intr,
	.link = afxdp_port_link,
	.mtu_allowed = afxdp_port_mtu_allowed,
	.set_mtu = afxdp_port_set_mtu,
	.dev_stats = afxdp_port_dev_stats,
	.info = afxdp_port_info,
};

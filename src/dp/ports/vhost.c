/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user port kind (datapath; open/close on the control thread, bursts
 * on workers, device callbacks on DPDK's vhost-events thread): a VM's
 * virtio-net device, as server (xvs creates the socket) or client.
 *
 * Built directly on DPDK's vhost library (rte_vhost.h), as Open vSwitch's
 * lib/netdev-dpdk.c is, not on the net_vhost ethdev: that PMD takes one of
 * the 32 ethdev ports per VM, negotiates no offloads unless told at probe
 * and then only as a whole, hides the kick fds behind its interrupt handle
 * and fixes the queue count at probe. Here xvs chooses the virtio features,
 * sees which ones the guest took, uses each queue's kick eventfd as that
 * queue's wake-up and switches the guest's notifications itself.
 *
 * Queues: queue pair q of the guest is the port's rx queue q (the guest's
 * tx virtqueue, vring 2q+1), an xvs_rxq that RSS placement gives a worker
 * like any other; its wake-up fd is an epoll fd of the port's own, holding
 * the kick eventfd of the current guest (kick fds change at every
 * (re)connection; the epoll fd does not, so the worker's epoll set need not
 * change). Frames to the guest go to its rx virtqueues (vring 2q), spread
 * by the Toeplitz hash of the port's RSS key and types over the ones the
 * guest enabled (entry i of a 128-entry table is the (i mod n)th, Linux's
 * default table). lib vhost locks each virtqueue: every worker transmits
 * directly (n_txq = XVS_MAX_WORKERS).
 *
 * Offloads: the guest may hand over TCP/UDP checksum and TSO requests
 * (CSUM, HOST_TSO4/6) and take them (GUEST_CSUM, GUEST_TSO4/6, with
 * MRG_RXBUF for 64 KB frames). With RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS,
 * lib vhost reports a guest's request as ethdev rx flags (L4_CKSUM_NONE,
 * LRO + tso_segsz); rx_burst turns them back into a virtio-net header and
 * through xvs_offload_from_vnet(), the same checks a tap's requests get.
 * Towards the guest, lib vhost writes mbuf tx requests into the virtio-net
 * header as they are; tx_meta_now says whether this guest negotiated them,
 * and the worker resolves them in software when it did not.
 *
 * Device lifetime: new_device publishes the vid to the workers;
 * destroy_device withdraws it and waits for a QSBR grace period before it
 * returns, after which lib vhost may free the virtqueues (as OVS waits with
 * ovsrcu_synchronize()). lib vhost calls destroy_device with no virtqueue
 * lock of that guest held, and it waits without reg_lock: vring_state_changed
 * of another guest runs with every virtqueue lock of that guest held and
 * takes reg_lock, and a worker spinning on one of those locks would never
 * let the grace period end. vring_state_changed only updates flags and the
 * epoll fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_net.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vhost.h>

#include "dp.h"
#include "offload.h"
#include "port.h"
#include "port_mtu.h"
#include "rss.h"

RTE_LOG_REGISTER(xvs_vhost_logtype, xvs.vhost, INFO);
#define VLOG(level, ...) rte_log(RTE_LOG_##level, xvs_vhost_logtype, "xvs vhost: " __VA_ARGS__)

/* Features the guest is offered beyond lib vhost's own (version 1,
 * indirect descriptors, event index, packed rings, ...): what xvs carries.
 * Taken away: UDP fragmentation offload, which offload.c does not resolve. */
#define F(x) (1ULL << (x))
#define VHOST_OL_FEATURES                                                                    \
	(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |        \
	 F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | \
	 F(VIRTIO_NET_F_MRG_RXBUF))
#define VHOST_OFF_FEATURES                                                                   \
	(F(VIRTIO_NET_F_HOST_UFO) | F(VIRTIO_NET_F_GUEST_UFO) | F(VIRTIO_NET_F_GUEST_ECN) |     \
	 F(VIRTIO_NET_F_GSO))
/* What a guest must have taken for xvs to leave requests to it. */
#define VHOST_GUEST_OL                                                                       \
	(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))

#define VHOST_TX_RETA 128 /* hash -> guest queue table (Linux's default size) */
#define VHOST_TX_RETRIES 8

/* State of one port, rte_zmalloc'd at open, freed at close. Written by the
 * control thread (open/close) and the vhost-events thread (callbacks, under
 * reg_lock); workers read vid, the queue flags and tables, atomically. */
struct vhost_port {
	/* read by workers */
	_Atomic int vid;                     /* the attached guest's device, -1: none */
	_Atomic bool guest_ol;               /* guest took VHOST_GUEST_OL */
	_Atomic bool host_ol;                /* guest may send requests (CSUM, HOST_TSO*) */
	_Atomic bool rxq_on[XVS_MAX_QUEUES]; /* guest tx vring 2q+1 enabled */
	_Atomic uint16_t n_txq;              /* guest rx vrings enabled: txq[0..n_txq) */
	_Atomic uint16_t txq[XVS_MAX_QUEUES]; /* their queue pair numbers, ascending */
	_Atomic bool kick_on[XVS_MAX_QUEUES]; /* the guest may kick rx queue q (set at attach) */
	/* rx queue q's poller sleeps on it: that worker's lcore + 1, 0 none.
	 * By lcore: after a balancer move the old poller, asleep under the old
	 * snapshot, does not disarm q; the new one must still turn kicks off. */
	_Atomic unsigned int armed_by[XVS_MAX_QUEUES];
	uint16_t n_rxq;                      /* rx queues polled (queue pairs offered) */
	uint32_t rss_types;                  /* XVS_RSS_* hashed for tx spreading */
	struct rte_mempool *pool;            /* where dequeued frames go */
	struct xvs_rss_table *rss;           /* for cfg.rss.key, tx spreading */

	/* control thread and callbacks (reg_lock) */
	int qep[XVS_MAX_QUEUES];             /* per rx queue: epoll fd with its kick fd */
	_Atomic int kick[XVS_MAX_QUEUES];    /* our dup of that kick fd, -1 (workers read) */
	bool txq_on[XVS_MAX_QUEUES];         /* guest rx vring 2q enabled */
	_Atomic uint64_t features;           /* negotiated by the attached guest */
	_Atomic uint64_t attaches;           /* guests attached since open */
	_Atomic uint16_t guest_qps;          /* queue pairs the attached guest has */
	_Atomic uint16_t unpolled;           /* of those, beyond n_rxq: never read */
	char name[XVS_NAME_MAX + 1];         /* port name, for messages */
	char path[XVS_PATH_MAX + 1];         /* socket path, lib vhost's key */
	bool client;                         /* client mode: no listen socket */
	char info_feat[24];                  /* port show strings (control thread) */
	char info_ol[96];
	char info_qps[8];
	char info_unpolled[8];
};

/* Ports by socket path, for the callbacks (which get a vid). The lock is
 * taken by the callbacks (destroy_device drops it for its grace period) and
 * by close to remove a port, never around lib vhost calls that may call
 * back (unregister) nor across rte_rcu_qsbr_synchronize(). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vhost_port *reg[XVS_MAX_PORTS];

/* lib vhost (22.11) watches every vhost-user socket of the process in one
 * fdset of MAX_FDS = 1024 entries (lib/vhost/fd_man.h, not installed), one
 * taken by its own wake-up pipe: a server port's listen socket and each
 * connected guest's socket (server or client mode; a client port's socket
 * is in it only while connected, its reconnect thread holds it otherwise).
 * When it is full, lib vhost closes a new connection with only a log line.
 * So xvs refuses a port that could not get its entries once every port's
 * guest is connected: server port 2, client port 1. XVS_VHOST_FDSET_MAX
 * lowers the limit (tests). */
#define VHOST_FDSET_MAX (1024 - 1)

static unsigned int
fdset_max(void)
{
	const char *s = getenv("XVS_VHOST_FDSET_MAX");
	unsigned long n;
	char *end;

	if (s == NULL || *s == '\0')
		return VHOST_FDSET_MAX;
	n = strtoul(s, &end, 10);
	return *end == '\0' && n < VHOST_FDSET_MAX ? (unsigned int)n : VHOST_FDSET_MAX;
}

static unsigned int
fdset_need(const struct vhost_port *v)
{
	return v->client ? 1 : 2;
}

/* reg_lock held */
static unsigned int
fdset_reserved(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < RTE_DIM(reg); i++)
		if (reg[i] != NULL)
			n += fdset_need(reg[i]);
	return n;
}

void
xvs_vhost_fdset(unsigned int *used, unsigned int *reserved, unsigned int *max)
{
	unsigned int u = 0;

	pthread_mutex_lock(&reg_lock);
	for (unsigned int i = 0; i < RTE_DIM(reg); i++)
		if (reg[i] != NULL)
			u += (reg[i]->client ? 0 : 1) + (atomic_load(&reg[i]->vid) >= 0);
	*reserved = fdset_reserved();
	pthread_mutex_unlock(&reg_lock);
	*used = u;
	*max = fdset_max();
}

static struct vhost_port *
reg_find(int vid)
{
	char path[PATH_MAX];

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return NULL;
	for (unsigned int i = 0; i < RTE_DIM(reg); i++)
		if (reg[i] != NULL && strcmp(reg[i]->path, path) == 0)
			return reg[i];
	return NULL;
}

/* ---- workers ---- */

/* Kicks off while a worker polls: a kick is an eventfd write (a syscall in
 * the guest) per burst it sends. Off when another worker armed the queue (a
 * balancer move), and when this poll hands the worker frames (got: what it
 * returns, not what it dequeued): a worker that got frames takes another
 * turn, it does not sleep (so also in the look it takes after arming; frames
 * all dropped there leave the kicks on, or the worker would sleep deaf to
 * this guest). armed_by alone is not enough: a worker whose snapshot changed
 * while it slept does not disarm (worker.c), and one that stays busy after
 * that (PVP: its pcap port never runs dry) left armed_by at its own lcore and
 * the guest kicking at every burst, 42,000 kicks a second. */
static inline uint16_t
kicks_off_if_polled(struct vhost_port *v, int vid, uint16_t q, uint16_t got)
{
	if (unlikely(atomic_load_explicit(&v->kick_on[q], memory_order_relaxed)) &&
	    (got > 0 ||
	     atomic_load_explicit(&v->armed_by[q], memory_order_relaxed) != rte_lcore_id() + 1)) {
		atomic_store_explicit(&v->kick_on[q], false, memory_order_relaxed);
		(void)rte_vhost_enable_guest_notification(vid, (uint16_t)(2 * q + 1), 0);
	}
	return got;
}

static uint16_t
vhost_rx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
	       struct xvs_port_counters *c)
{
	struct vhost_port *v = priv;
	int vid = atomic_load_explicit(&v->vid, memory_order_acquire);
	uint16_t got, k = 0;

	if (vid < 0 || !atomic_load_explicit(&v->rxq_on[q], memory_order_acquire))
		return 0;
	got = rte_vhost_dequeue_burst(vid, (uint16_t)(2 * q + 1), v->pool, pkts, n);
	if (!atomic_load_explicit(&v->host_ol, memory_order_relaxed))
		return kicks_off_if_polled(v, vid, q, got);
	/* The guest's requests, as lib vhost reports them under
	 * NET_COMPLIANT_OL_FLAGS: L4_CKSUM_NONE is a partial checksum (it
	 * checked csum_start against the headers it parsed), LRO a TSO frame.
	 * Made a virtio-net header again, so that a guest's request is checked
	 * exactly as a tap guest's (offload.c). */
	for (uint16_t i = 0; i < got; i++) {
		struct rte_mbuf *m = pkts[i];
		uint64_t fl = m->ol_flags;

		if ((fl & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE ||
		    (fl & RTE_MBUF_F_RX_LRO)) {
			struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
			struct rte_net_hdr_lens hl;
			uint32_t pt = rte_net_get_ptype(m, &hl, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK |
							 RTE_PTYPE_L4_MASK);
			enum xvs_drop why;

			vh.csum_start = (uint16_t)(hl.l2_len + hl.l3_len);
			if ((pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP)
				vh.csum_offset = offsetof(struct rte_tcp_hdr, cksum);
			else if ((pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP)
				vh.csum_offset = offsetof(struct rte_udp_hdr, dgram_cksum);
			if (fl & RTE_MBUF_F_RX_LRO) {
				vh.gso_type = RTE_ETH_IS_IPV4_HDR(pt) ? VIRTIO_NET_HDR_GSO_TCPV4
								      : VIRTIO_NET_HDR_GSO_TCPV6;
				vh.gso_size = m->tso_segsz;
			}
			m->ol_flags = 0;
			why = xvs_offload_from_vnet(&vh, m);
			if (unlikely(why != XVS_OFFLOAD_OK)) {
				c->rx_packets++;
				c->rx_bytes += m->pkt_len;
				c->drop[why]++;
				rte_pktmbuf_free(m);
				continue;
			}
		} else {
			m->ol_flags = 0;
		}
		pkts[k++] = m;
	}
	return kicks_off_if_polled(v, vid, q, k);
}

/* Enqueue pkts[0..n) on guest rx vring 2*gq, retrying while it takes some
 * (lib vhost copies at most 32 a call); frees all of them (lib vhost copies
 * and leaves the mbufs to the caller). Returns how many the guest got. */
static uint16_t
vhost_send(int vid, uint16_t gq, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	uint16_t sent = 0;

	for (int tries = 0; sent < n && tries < VHOST_TX_RETRIES; tries++) {
		uint16_t k = rte_vhost_enqueue_burst(vid, (uint16_t)(2 * gq), pkts + sent,
						     (uint16_t)(n - sent));

		if (k == 0 && tries > 0)
			break;
		sent += k;
	}
	for (uint16_t i = 0; i < sent; i++)
		*bytes += pkts[i]->pkt_len;
	rte_pktmbuf_free_bulk(pkts, n);
	return sent;
}

/* The guest queue pair a frame goes to, of n enabled (n > 1): Toeplitz over
 * the port's hash types, then entry (hash mod 128) of a table whose entry i
 * is the (i mod n)th enabled queue. */
static uint16_t
tx_pick(const struct vhost_port *v, const struct rte_mbuf *m, uint16_t n)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t in[XVS_RSS_INPUT_MAX];
	struct xvs_l2 l2;
	uint32_t h = 0;

	if (xvs_parse_l2(d, m->data_len, &l2) == XVS_PARSE_OK) {
		size_t len = xvs_rss_input_seg(d, m->data_len, m->pkt_len, &l2, v->rss_types, in);

		h = xvs_rss_hash(v->rss, in, len);
	}
	return (uint16_t)(xvs_rss_reta_index(h, VHOST_TX_RETA) % n);
}

static uint16_t
vhost_tx_burst(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes)
{
	struct vhost_port *v = priv;
	int vid = atomic_load_explicit(&v->vid, memory_order_acquire);
	uint16_t nq = atomic_load_explicit(&v->n_txq, memory_order_acquire);
	struct rte_mbuf *by[XVS_MAX_QUEUES][XVS_BURST];
	uint16_t cnt[XVS_MAX_QUEUES], sent = 0;

	(void)q; /* the queue is the guest's, chosen by hash below */
	if (unlikely(vid < 0 || nq == 0)) {
		rte_pktmbuf_free_bulk(pkts, n);
		return 0;
	}
	if (likely(nq == 1))
		return vhost_send(vid, atomic_load_explicit(&v->txq[0], memory_order_relaxed),
				  pkts, n, bytes);
	nq = RTE_MIN(nq, XVS_MAX_QUEUES);
	memset(cnt, 0, sizeof(cnt[0]) * nq);
	for (uint16_t i = 0; i < n; i++) {
		uint16_t j = tx_pick(v, pkts[i], nq);

		by[j][cnt[j]++] = pkts[i];
		if (cnt[j] == XVS_BURST) {
			sent += vhost_send(vid, atomic_load_explicit(&v->txq[j], memory_order_relaxed),
					   by[j], cnt[j], bytes);
			cnt[j] = 0;
		}
	}
	for (uint16_t j = 0; j < nq; j++)
		if (cnt[j] > 0)
			sent += vhost_send(vid, atomic_load_explicit(&v->txq[j], memory_order_relaxed),
					   by[j], cnt[j], bytes);
	return sent;
}

/* Whether rx queue q can have frames: what rx_burst checks first. Every
 * change of the answer (vid, rxq_on) is announced (xvs_dp_rxq_changed), so
 * that a worker visits only the queues of attached guests. */
static bool
vhost_rxq_ready(void *priv, uint16_t q)
{
	struct vhost_port *v = priv;

	return atomic_load_explicit(&v->vid, memory_order_acquire) >= 0 &&
	       atomic_load_explicit(&v->rxq_on[q], memory_order_acquire);
}

/* Whether the attached guest takes checksum and TSO requests as they are. */
static bool
vhost_tx_meta_now(void *priv)
{
	const struct vhost_port *v = priv;

	return atomic_load_explicit(&v->guest_ol, memory_order_relaxed);
}

/* Arm: drain the queue's epoll fd (its kick fd is in it edge-triggered; a
 * kick left from before must not wake the worker at once), then ask the
 * guest to kick. Disarm: stop the kicks (the worker polls), drain. Without
 * a guest the epoll fd is empty; new_device turns kicks on. With a guest,
 * also on a vring not enabled (yet or again): lib vhost keeps the setting
 * (across disable/enable and device stop/start) and applies it when the
 * vring is ready, so a stale "no kicks" must not survive an arm. An
 * enabled vring without a kick fd watched (the guest gave none, or the dup
 * failed) cannot wake the worker: not interrupt-capable then (-ENOTSUP, the
 * worker sleeps with a timeout). */
static int
vhost_rxq_intr(void *priv, uint16_t q, bool on)
{
	struct vhost_port *v = priv;
	int vid = atomic_load_explicit(&v->vid, memory_order_acquire);
	struct epoll_event ev[2];

	/* No kick fd in qep (no guest): nothing to take, skip the syscall (a
	 * worker arms and disarms every queue it polls around each sleep, and
	 * a thousand guest-less ports made that 20,000 syscalls a second at
	 * idle). A kick fd added a moment ago is taken at the next call. */
	if (atomic_load_explicit(&v->kick[q], memory_order_relaxed) >= 0)
		(void)!epoll_wait(v->qep[q], ev, RTE_DIM(ev), 0);
	if (on && vid >= 0 && atomic_load_explicit(&v->rxq_on[q], memory_order_acquire) &&
	    atomic_load_explicit(&v->kick[q], memory_order_relaxed) < 0)
		return -ENOTSUP;
	atomic_store_explicit(&v->armed_by[q], on ? rte_lcore_id() + 1 : 0, memory_order_relaxed);
	atomic_store_explicit(&v->kick_on[q], on, memory_order_relaxed);
	if (vid >= 0)
		(void)rte_vhost_enable_guest_notification(vid, (uint16_t)(2 * q + 1), on ? 1 : 0);
	return 0;
}

/* ---- lib vhost callbacks (vhost-events thread, or the control thread
 * inside rte_vhost_driver_unregister) ---- */

static void
kick_forget(struct vhost_port *v, uint16_t q)
{
	if (v->kick[q] >= 0) {
		epoll_ctl(v->qep[q], EPOLL_CTL_DEL, v->kick[q], NULL);
		close(v->kick[q]);
		v->kick[q] = -1;
	}
}

/* Our own dup of the guest's kick fd goes into the queue's epoll fd, so it
 * can be taken out again whatever lib vhost does with its copy. */
static void
kick_watch(struct vhost_port *v, int vid, uint16_t q)
{
	struct rte_vhost_vring vr;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	int fd;

	kick_forget(v, q);
	if (rte_vhost_get_vhost_vring(vid, (uint16_t)(2 * q + 1), &vr) != 0 || vr.kickfd < 0)
		return;
	fd = fcntl(vr.kickfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (epoll_ctl(v->qep[q], EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return;
	}
	v->kick[q] = fd;
}

static void
txq_rebuild(struct vhost_port *v, const bool *on)
{
	uint16_t n = 0;

	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++)
		if (on[q])
			atomic_store_explicit(&v->txq[n++], q, memory_order_relaxed);
	atomic_store_explicit(&v->n_txq, n, memory_order_release);
}

static int
cb_vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct vhost_port *v;
	uint16_t q = vring / 2;

	pthread_mutex_lock(&reg_lock);
	v = reg_find(vid);
	if (v == NULL || q >= XVS_MAX_QUEUES) {
		pthread_mutex_unlock(&reg_lock);
		return 0;
	}
	if (vring & 1) {
		/* the guest's tx: our rx queue q, if we poll one */
		if (q < v->n_rxq) {
			if (enable)
				kick_watch(v, vid, q);
			else
				kick_forget(v, q);
			atomic_store_explicit(&v->rxq_on[q], enable != 0, memory_order_release);
			xvs_dp_rxq_changed();
		}
	} else {
		v->txq_on[q] = enable != 0;
		txq_rebuild(v, v->txq_on);
	}
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

static const char *
ol_names(uint64_t f, char *buf, size_t len)
{
	static const struct {
		int bit;
		const char *name;
	} n[] = {{VIRTIO_NET_F_CSUM, "csum"},           {VIRTIO_NET_F_GUEST_CSUM, "guest_csum"},
		 {VIRTIO_NET_F_HOST_TSO4, "host_tso4"}, {VIRTIO_NET_F_HOST_TSO6, "host_tso6"},
		 {VIRTIO_NET_F_GUEST_TSO4, "guest_tso4"}, {VIRTIO_NET_F_GUEST_TSO6, "guest_tso6"},
		 {VIRTIO_NET_F_MRG_RXBUF, "mrg_rxbuf"}};
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < RTE_DIM(n); i++)
		if ((f & F(n[i].bit)) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", n[i].name);
	if (o == 0)
		snprintf(buf, len, "none");
	return buf;
}

static int
cb_new_device(int vid)
{
	struct vhost_port *v;
	uint64_t f = 0;
	uint16_t qps;
	char ol[96];

	pthread_mutex_lock(&reg_lock);
	v = reg_find(vid);
	if (v == NULL) {
		pthread_mutex_unlock(&reg_lock);
		return -1;
	}
	(void)rte_vhost_get_negotiated_features(vid, &f);
	qps = (uint16_t)(rte_vhost_get_vring_num(vid) / 2);
	atomic_store_explicit(&v->features, f, memory_order_relaxed);
	atomic_store_explicit(&v->guest_qps, qps, memory_order_relaxed);
	atomic_store_explicit(&v->unpolled, qps > v->n_rxq ? (uint16_t)(qps - v->n_rxq) : 0,
			      memory_order_relaxed);
	atomic_store_explicit(&v->guest_ol, (f & VHOST_GUEST_OL) == VHOST_GUEST_OL,
			      memory_order_relaxed);
	atomic_store_explicit(&v->host_ol, (f & (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
						  F(VIRTIO_NET_F_HOST_TSO6))) != 0,
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&v->attaches, 1, memory_order_relaxed);
	/* Queues enabled before the device was complete: watch their kick fds
	 * as they are now (a later SET_VRING_KICK may have replaced one). The
	 * vid goes out last. */
	for (uint16_t q = 0; q < v->n_rxq; q++)
		if (atomic_load_explicit(&v->rxq_on[q], memory_order_relaxed))
			kick_watch(v, vid, q);
	/* No kicks while workers poll: a kick is a syscall in the guest (an
	 * eventfd write, or a VM exit) per burst. The guest's rx queues never
	 * need them (a worker fills them as it transmits). Its tx queues kick
	 * until their poller, if awake, turns that off (kick_on): a sleeping
	 * poller needs the first kick. Turned on here: lib vhost keeps a
	 * vring's setting across a device stop/start on the same connection,
	 * and a poller that armed while there was no device did not set it. */
	for (uint16_t r = 0; r < 2 * qps; r += 2) {
		(void)rte_vhost_enable_guest_notification(vid, r, 0);
		(void)rte_vhost_enable_guest_notification(vid, (uint16_t)(r + 1), 1);
	}
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++)
		atomic_store_explicit(&v->kick_on[q], true, memory_order_relaxed);
	atomic_store_explicit(&v->vid, vid, memory_order_release);
	xvs_dp_rxq_changed();
	VLOG(INFO, "port %s: guest attached, %u queue pairs, offloads %s\n", v->name, qps,
	     ol_names(f, ol, sizeof(ol)));
	/* lib vhost 22.11 cannot cap the queue pairs offered, and a Linux
	 * guest sends on all it has: what it sends on the others is never
	 * read. Said in the log and in port show/stats (unpolled). */
	if (qps > v->n_rxq)
		VLOG(WARNING, "port %s: the guest uses %u queue pairs, the port polls %u: what "
		     "it sends on queues %u..%u is never read; give the port queues=%u\n",
		     v->name, qps, v->n_rxq, v->n_rxq, qps - 1, qps);
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

/* Forget the queue state of a guest whose device workers no longer use. */
static void
queues_forget(struct vhost_port *v)
{
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++) {
		atomic_store_explicit(&v->rxq_on[q], false, memory_order_relaxed);
		kick_forget(v, q);
		v->txq_on[q] = false;
	}
	atomic_store_explicit(&v->n_txq, 0, memory_order_relaxed);
	atomic_store_explicit(&v->guest_ol, false, memory_order_relaxed);
	atomic_store_explicit(&v->host_ol, false, memory_order_relaxed);
	atomic_store_explicit(&v->guest_qps, 0, memory_order_relaxed);
	atomic_store_explicit(&v->unpolled, 0, memory_order_relaxed);
}

static void
cb_destroy_device(int vid)
{
	struct vhost_port *v;

	pthread_mutex_lock(&reg_lock);
	v = reg_find(vid);
	if (v == NULL || atomic_load_explicit(&v->vid, memory_order_relaxed) != vid) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	atomic_store_explicit(&v->vid, -1, memory_order_release);
	xvs_dp_rxq_changed();
	/* No worker may use vid once this returns: lib vhost frees its
	 * virtqueues next. Sleeping workers are QSBR-offline and do not delay it.
	 * Not under reg_lock: a worker may be spinning on another guest's
	 * virtqueue lock (enqueue, notification switch) while lib vhost's
	 * thread holds it and waits for reg_lock in vring_state_changed; the
	 * grace period would never end. v stays: close frees it only after
	 * rte_vhost_driver_unregister, which waits for this callback. */
	pthread_mutex_unlock(&reg_lock);
	rte_rcu_qsbr_synchronize(xvs_dp.qsbr, RTE_QSBR_THRID_INVALID);
	pthread_mutex_lock(&reg_lock);
	/* A guest that attached meanwhile (another connection) keeps its queues. */
	if (atomic_load_explicit(&v->vid, memory_order_relaxed) < 0)
		queues_forget(v);
	VLOG(INFO, "port %s: guest detached\n", v->name);
	pthread_mutex_unlock(&reg_lock);
}

/* The connection is gone: its queues too, also those of a guest that never
 * completed its device (no destroy_device then, and a new guest may not
 * enable the same queues). */
static void
cb_destroy_connection(int vid)
{
	struct vhost_port *v;

	pthread_mutex_lock(&reg_lock);
	v = reg_find(vid);
	if (v != NULL && atomic_load_explicit(&v->vid, memory_order_relaxed) < 0)
		queues_forget(v);
	pthread_mutex_unlock(&reg_lock);
}

static const struct rte_vhost_device_ops vhost_cbs = {
	.new_device = cb_new_device,
	.destroy_device = cb_destroy_device,
	.vring_state_changed = cb_vring_state_changed,
	.destroy_connection = cb_destroy_connection,
};

/* ---- control thread ---- */

/* A vhost-user server socket left behind by an xvsd that was killed (kill -9
 * skips the close that removes it) makes lib vhost's bind fail. So remove a
 * leftover first: a socket file that nobody listens on. One that somebody
 * listens on belongs to a running process: refuse. Returns 0 or -EADDRINUSE. */
static int
stale_socket_remove(const struct xvs_port *p, struct xvs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = p->cfg.path;
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(sa.sun_path))
		return 0; /* absent, or not a socket: lib vhost's bind says why */
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
		(void)unlink(path); /* if that fails, lib vhost's bind says so */
	return 0;
}

static int
server_dir_check(const struct xvs_port *p, struct xvs_err *err)
{
	char dir[sizeof(p->cfg.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", p->cfg.path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir)
		*slash = '\0';
	if (slash != NULL && access(dir, W_OK) != 0)
		return xvs_err_set(err, -errno, "port %s: cannot create socket %s: directory "
				   "%s: %s", p->cfg.name, p->cfg.path, dir, strerror(errno));
	return stale_socket_remove(p, err);
}

static void
vhost_free(struct vhost_port *v)
{
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++) {
		kick_forget(v, q);
		if (v->qep[q] >= 0)
			close(v->qep[q]);
	}
	rte_free(v->rss);
	rte_free(v);
}

static int
vhost_open(struct xvs_port *p, struct xvs_err *err)
{
	const struct xvs_port_cfg *c = &p->cfg;
	uint16_t nq = c->queues ? RTE_MIN(c->queues, XVS_MAX_QUEUES) : 1;
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;
	unsigned int reserved, max;
	struct vhost_port *v;
	int r, slot = -1;

	v = rte_zmalloc("xvs_vhost", sizeof(*v), RTE_CACHE_LINE_SIZE);
	if (v == NULL)
		return xvs_err_set(err, -ENOMEM, "port %s: no memory", c->name);
	for (uint16_t q = 0; q < XVS_MAX_QUEUES; q++)
		v->qep[q] = v->kick[q] = -1;
	atomic_store(&v->vid, -1);
	v->n_rxq = nq;
	v->pool = xvs_dp.pool;
	v->rss_types = c->rss.types;
	snprintf(v->name, sizeof(v->name), "%s", c->name);
	snprintf(v->path, sizeof(v->path), "%s", c->path);
	v->rss = rte_malloc("xvs_vhost_rss", sizeof(*v->rss), RTE_CACHE_LINE_SIZE);
	if (v->rss == NULL) {
		r = xvs_err_set(err, -ENOMEM, "port %s: no memory", c->name);
		goto free;
	}
	xvs_rss_table_init(v->rss, c->rss.key);
	for (uint16_t q = 0; q < nq; q++) {
		v->qep[q] = epoll_create1(EPOLL_CLOEXEC);
		if (v->qep[q] < 0) {
			r = xvs_err_set(err, -errno, "port %s: epoll: %s", c->name, strerror(errno));
			goto free;
		}
	}
	if (c->vhost_client)
		flags |= RTE_VHOST_USER_CLIENT;
	else if ((r = server_dir_check(p, err)) < 0)
		goto free;
	v->client = c->vhost_client;
	pthread_mutex_lock(&reg_lock);
	reserved = fdset_reserved();
	max = fdset_max();
	if (reserved + fdset_need(v) > max) {
		pthread_mutex_unlock(&reg_lock);
		r = xvs_err_set(err, -ENOSPC, "port %s: lib vhost's socket set is full: %u of %u "
				"entries kept for the vhost-user ports (server 2, client 1); "
				"use client mode (client=on) for more VMs", c->name,
				reserved, max);
		goto free;
	}
	for (unsigned int i = 0; i < RTE_DIM(reg) && slot < 0; i++)
		if (reg[i] == NULL)
			slot = (int)i;
	if (slot >= 0)
		reg[slot] = v;
	pthread_mutex_unlock(&reg_lock);
	if (slot < 0) {
		r = xvs_err_set(err, -ENOSPC, "port %s: too many vhost ports", c->name);
		goto free;
	}
	if (rte_vhost_driver_register(c->path, flags) != 0) {
		r = xvs_err_set(err, -EIO, "port %s: cannot %s vhost-user socket %s (see the "
				"log for lib vhost's reason)", c->name,
				c->vhost_client ? "connect to" : "create", c->path);
		goto unreg;
	}
	/* lib vhost's own set (version 1, event index, packed rings, ...)
	 * with the offloads xvs carries and without those it does not.
	 * enable/disable, not set_features: setting them declares a backend
	 * of one's own and turns off lib vhost's virtio-net (enqueue/dequeue). */
	if (rte_vhost_driver_disable_features(c->path, VHOST_OFF_FEATURES) != 0 ||
	    rte_vhost_driver_enable_features(c->path, VHOST_OL_FEATURES) != 0 ||
	    rte_vhost_driver_callback_register(c->path, &vhost_cbs) != 0 ||
	    rte_vhost_driver_start(c->path) != 0) {
		r = xvs_err_set(err, -EIO, "port %s: cannot start vhost-user socket %s",
				c->name, c->path);
		goto driver;
	}
	p->priv = v;
	snprintf(p->devname, sizeof(p->devname), "vhost:%s", c->name);
	snprintf(p->driver, sizeof(p->driver), "xvs_vhost");
	p->n_rxq = nq;
	p->n_txq = XVS_MAX_WORKERS; /* lib vhost locks each virtqueue */
	p->rss_attached = nq;
	p->rx_intr = true;
	for (uint16_t q = 0; q < nq; q++)
		p->rxq[q].fd = v->qep[q];
	p->caps.tx_meta_offload = true; /* as far as the guest took them: tx_meta_now */
	p->caps.tx_drop = XVS_DROP_tx_full;
	p->caps.rx_offloads = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
			      RTE_ETH_RX_OFFLOAD_TCP_LRO;
	p->caps.tx_offloads = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			      RTE_ETH_TX_OFFLOAD_TCP_TSO;
	p->caps.max_rx_queues = XVS_MAX_QUEUES;
	p->caps.max_tx_queues = XVS_MAX_QUEUES;
	p->caps.mtu_min = 68;
	p->caps.mtu_max = xvs_port_kind_mtu_max(c->kind, NULL);
	return 0;

driver:
	rte_vhost_driver_unregister(c->path);
unreg:
	pthread_mutex_lock(&reg_lock);
	reg[slot] = NULL;
	pthread_mutex_unlock(&reg_lock);
free:
	vhost_free(v);
	return r;
}

static void
vhost_close(struct xvs_port *p)
{
	struct vhost_port *v = p->priv;

	if (v == NULL)
		return;
	/* Destroys an attached device through our callback (on this thread),
	 * and removes a server socket file. Not under reg_lock: it waits for
	 * the vhost-events thread, which may be in a callback. */
	rte_vhost_driver_unregister(v->path);
	pthread_mutex_lock(&reg_lock);
	for (unsigned int i = 0; i < RTE_DIM(reg); i++)
		if (reg[i] == v)
			reg[i] = NULL;
	pthread_mutex_unlock(&reg_lock);
	vhost_free(v);
	p->priv = NULL;
}

/* Up while a guest is attached (its device complete and running). */
static void
vhost_link(const struct xvs_port *p, struct xvs_port_link *l)
{
	const struct vhost_port *v = p->priv;

	memset(l, 0, sizeof(*l));
	l->up = atomic_load_explicit(&v->vid, memory_order_acquire) >= 0;
	l->speed_mbps = l->up ? 10000 : 0;
}

/* Frames of any length arrive as chains of 2 KB mbufs: nothing but the
 * kind's limit applies. */
static int
vhost_mtu_allowed(const struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	return xvs_port_mtu_check(p->cfg.name, p->cfg.kind, mtu, err);
}

static int
vhost_set_mtu(struct xvs_port *p, uint32_t mtu, struct xvs_err *err)
{
	return vhost_mtu_allowed(p, mtu, err);
}

static void
vhost_dev_stats(const struct xvs_port *p, struct xvs_port_dev_stats *st)
{
	const struct vhost_port *v = p->priv;

	st->valid = true;
	st->extra[0].name = "guest_attaches";
	st->extra[0].value = atomic_load_explicit(&v->attaches, memory_order_relaxed);
	st->extra[1].name = "guest_queue_pairs";
	st->extra[1].value = atomic_load_explicit(&v->guest_qps, memory_order_relaxed);
	st->extra[2].name = "guest_tx_queues";
	st->extra[2].value = atomic_load_explicit(&v->n_txq, memory_order_relaxed);
	st->extra[3].name = "guest_queue_pairs_unpolled";
	st->extra[3].value = atomic_load_explicit(&v->unpolled, memory_order_relaxed);
	st->n_extra = 4;
}

/* What the attached guest negotiated, for port show. */
static void
vhost_info(const struct xvs_port *p, struct xvs_port_info *info)
{
	struct vhost_port *v = p->priv;
	uint64_t f = atomic_load_explicit(&v->features, memory_order_relaxed);
	bool up = atomic_load_explicit(&v->vid, memory_order_acquire) >= 0;

	snprintf(v->info_feat, sizeof(v->info_feat), "0x%" PRIx64, up ? f : 0);
	if (up)
		ol_names(f & VHOST_OL_FEATURES, v->info_ol, sizeof(v->info_ol));
	else
		snprintf(v->info_ol, sizeof(v->info_ol), "none");
	snprintf(v->info_qps, sizeof(v->info_qps), "%u",
		 up ? atomic_load_explicit(&v->guest_qps, memory_order_relaxed) : 0);
	info->kv[0].name = "vhost_features";
	info->kv[0].value = v->info_feat;
	info->kv[1].name = "vhost_offloads";
	info->kv[1].value = v->info_ol;
	info->kv[2].name = "vhost_queue_pairs";
	info->kv[2].value = v->info_qps;
	snprintf(v->info_unpolled, sizeof(v->info_unpolled), "%u",
		 up ? atomic_load_explicit(&v->unpolled, memory_order_relaxed) : 0);
	info->kv[3].name = "vhost_unpolled_queue_pairs";
	info->kv[3].value = v->info_unpolled;
	info->n = 4;
}

const struct xvs_port_ops xvs_port_vhost_ops = {
	.kind = XVS_PORT_VHOST,
	.open = vhost_open,
	.close = vhost_close,
	.rx_burst = vhost_rx_burst,
	.tx_burst = vhost_tx_burst,
	.tx_meta_now = vhost_tx_meta_now,
	.rxq_ready = vhost_rxq_ready,
	.rxq_intr = vhost_rxq_intr,
	.link = vhost_link,
	.mtu_allowed = vhost_mtu_allowed,
	.set_mtu = vhost_set_mtu,
	.dev_stats = vhost_dev_stats,
	.info = vhost_info,
};

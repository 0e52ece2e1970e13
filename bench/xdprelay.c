/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdprelay — the least a user-space program can do to move frames between two
 * AF_XDP sockets: a benchmark anchor, not part of xvs.
 *
 * Usage: xdprelay IFNAME1 IFNAME2 [spin]
 *
 * Opens one AF_XDP socket on queue 0 of each netdev the way xvs's afxdp port
 * does (src/dp/ports/afxdp.c): copy mode, XDP_USE_NEED_WAKEUP, its own UMEM
 * per socket, and the same redirect program (src/dp/ports/xsk_redirect.h),
 * native attach else generic. Then it
 * copies each frame from one socket's rx ring into a free frame of the other
 * socket's UMEM, puts it on that socket's tx ring, kicks the kernel with
 * sendto() and gives the rx frame straight back to the fill ring. One thread;
 * when both rx rings are empty and nothing waits in a tx ring it sleeps in
 * epoll_wait() on the two socket fds, as xvs's worker does (xvs first spins
 * 10 us: XVS_IDLE_SPIN_FD_US), unless "spin" is given (then it never sleeps,
 * like a DPDK PMD thread).
 *
 * What it is: one memcpy, one sendto() per burst and an epoll_wait() per wake
 * up — the unavoidable work of any AF_XDP switch in copy mode on this kernel,
 * so its latency (epoll) is the floor for a switch that sleeps, and (spin) for
 * one that does not. What it is not: a switch. No mbufs, no parsing, no
 * learning, no VLANs, no counters beyond a total, no multi-queue, no
 * zero-copy, one netdev queue each. Frames that find no free tx frame are
 * dropped and counted.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "xsk_redirect.h" /* xvs's afxdp port's own XDP program */

/* The same geometry as xvs's afxdp port (afxdp.c). */
#define FRAME_SIZE 2048u
#define RX_FRAMES 2048u
#define TX_FRAMES 1024u
#define FILL_RING (2u * RX_FRAMES)
#define BURST 32u
#define KICKS_MAX 8

struct end {
	const char *ifname;
	int ifindex;
	uint32_t xdp_flags;
	int map_fd, prog_fd, fd;
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx, comp;
	struct xsk_ring_prod fill, tx;
	uint32_t n_free;
	uint64_t free[TX_FRAMES];
	unsigned long frames, drops;
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
end_open(struct end *e)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = FILL_RING, .comp_size = TX_FRAMES, .frame_size = FRAME_SIZE,
	};
	const struct xsk_socket_config scfg = {
		.rx_size = RX_FRAMES, .tx_size = TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	static const uint32_t modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	size_t len = (size_t)(RX_FRAMES + TX_FRAMES) * FRAME_SIZE;
	uint32_t idx, q0 = 0;
	int r;

	e->ifindex = (int)if_nametoindex(e->ifname);
	if (e->ifindex == 0)
		return -ENODEV;
	e->area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);
	if (e->area == MAP_FAILED)
		return -errno;
	r = xsk_umem__create(&e->umem, e->area, len, &e->fill, &e->comp, &ucfg);
	if (r < 0)
		return r;
	r = xsk_socket__create(&e->xsk, e->ifname, 0, e->umem, &e->rx, &e->tx, &scfg);
	if (r < 0)
		return r;
	e->fd = xsk_socket__fd(e->xsk);
	if (xsk_ring_prod__reserve(&e->fill, RX_FRAMES, &idx) != RX_FRAMES)
		return -EIO;
	for (uint32_t i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&e->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&e->fill, RX_FRAMES);
	for (uint32_t i = 0; i < TX_FRAMES; i++)
		e->free[e->n_free++] = (uint64_t)(RX_FRAMES + i) * FRAME_SIZE;
	e->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "xdprelay", sizeof(uint32_t), sizeof(int),
				   1, NULL);
	if (e->map_fd < 0 || bpf_map_update_elem(e->map_fd, &q0, &e->fd, 0) < 0)
		return -errno;
	e->prog_fd = xvs_xsk_redirect_prog_load(e->map_fd, "xdprelay");
	if (e->prog_fd < 0)
		return -errno;
	for (unsigned int i = 0; i < 2; i++) {
		r = bpf_xdp_attach(e->ifindex, e->prog_fd, modes[i] | XDP_FLAGS_UPDATE_IF_NOEXIST,
				   NULL);
		if (r == 0) {
			e->xdp_flags = modes[i];
			return 0;
		}
	}
	return r;
}

static void
end_close(struct end *e)
{
	if (e->xdp_flags != 0)
		(void)bpf_xdp_detach(e->ifindex, e->xdp_flags, NULL);
	if (e->xsk != NULL)
		xsk_socket__delete(e->xsk);
	if (e->umem != NULL)
		(void)xsk_umem__delete(e->umem);
}

static uint32_t
tx_unsent(const struct end *e)
{
	return e->tx.cached_prod - __atomic_load_n(e->tx.consumer, __ATOMIC_ACQUIRE);
}

/* Take back sent frames; kick the kernel while it holds unsent ones and
 * asks (copy mode sends at most 32 a kick and says EAGAIN when more wait). */
static void
tx_service(struct end *e)
{
	uint32_t idx, n = xsk_ring_cons__peek(&e->comp, TX_FRAMES, &idx);

	for (uint32_t i = 0; i < n; i++)
		e->free[e->n_free++] = *xsk_ring_cons__comp_addr(&e->comp, idx + i);
	xsk_ring_cons__release(&e->comp, n);
	if (tx_unsent(e) == 0 || !xsk_ring_prod__needs_wakeup(&e->tx))
		return;
	for (int i = 0; i < KICKS_MAX; i++)
		if (sendto(e->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 ||
		    (errno != EAGAIN && errno != EBUSY))
			break;
}

/* Move up to BURST frames from a's rx ring to b's tx ring. Returns frames seen. */
static uint32_t
relay(struct end *a, struct end *b)
{
	uint32_t idx, fidx = 0, tidx, got = xsk_ring_cons__peek(&a->rx, BURST, &idx), sent = 0;

	if (got == 0) {
		if (xsk_ring_prod__needs_wakeup(&a->fill))
			(void)recvfrom(a->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	/* The fill ring holds twice the rx frames: it always has room. */
	(void)xsk_ring_prod__reserve(&a->fill, got, &fidx);
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&a->rx, idx + i);
		uint64_t addr = xsk_umem__extract_addr(d->addr) & ~(uint64_t)(FRAME_SIZE - 1);

		if (b->n_free > 0 && xsk_ring_prod__reserve(&b->tx, 1, &tidx) == 1) {
			struct xdp_desc *t = xsk_ring_prod__tx_desc(&b->tx, tidx);

			t->addr = b->free[--b->n_free];
			t->len = d->len;
			t->options = 0;
			memcpy(xsk_umem__get_data(b->area, t->addr),
			       xsk_umem__get_data(a->area, d->addr), d->len);
			sent++;
		} else {
			a->drops++;
		}
		*xsk_ring_prod__fill_addr(&a->fill, fidx + i) = addr;
	}
	xsk_ring_cons__release(&a->rx, got);
	xsk_ring_prod__submit(&a->fill, got);
	if (sent > 0)
		xsk_ring_prod__submit(&b->tx, sent);
	a->frames += got;
	return got;
}

int
main(int argc, char **argv)
{
	static struct end e[2];
	struct epoll_event ev[2];
	int ep, spin, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s IFNAME1 IFNAME2 [spin]\n", argv[0]);
		return 2;
	}
	spin = argc > 3 && strcmp(argv[3], "spin") == 0;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (int i = 0; i < 2; i++) {
		int r;

		e[i].ifname = argv[1 + i];
		e[i].fd = e[i].map_fd = e[i].prog_fd = -1;
		r = end_open(&e[i]);
		if (r < 0) {
			fprintf(stderr, "xdprelay: %s: %s\n", e[i].ifname, strerror(-r));
			rc = 1;
			goto out;
		}
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		struct epoll_event x = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, e[i].fd, &x) < 0) {
			perror("xdprelay: epoll");
			rc = 1;
			goto out;
		}
	}
	fprintf(stderr, "xdprelay: %s <-> %s (%s, %s XDP, copy mode)\n", e[0].ifname, e[1].ifname,
		spin ? "spin" : "epoll", e[0].xdp_flags == XDP_FLAGS_DRV_MODE ? "native" : "generic");
	while (!quit) {
		uint32_t n = relay(&e[0], &e[1]) + relay(&e[1], &e[0]);

		tx_service(&e[0]);
		tx_service(&e[1]);
		if (spin || n > 0)
			continue;
		/* Nothing came in: sleep until a socket is readable, or 1 ms at
		 * most while a tx ring still holds frames the kernel has not sent. */
		(void)epoll_wait(ep, ev, 2, tx_unsent(&e[0]) + tx_unsent(&e[1]) > 0 ? 1 : -1);
	}
out:
	fprintf(stderr, "xdprelay: %lu/%lu frames, %lu/%lu dropped (no tx frame)\n", e[0].frames,
		e[1].frames, e[0].drops, e[1].drops);
	for (int i = 0; i < 2; i++)
		end_close(&e[i]);
	return rc;
}

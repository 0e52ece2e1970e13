/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AF_XDP port kind through DPDK's net_af_xdp PMD (datapath, control thread):
 * an uplink netdev's queues as AF_XDP sockets. Built on the ethdev base
 * (ethdev.h); what is its own: the devargs, the 2 KB umem chunk that caps its
 * MTU, and closing what the PMD leaves open. Moved here as it was; the native
 * AF_XDP port (ports/afxdp.c) replaces it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <rte_cycles.h>

#include "ethdev.h"
#include "port_mtu.h"

#define XVS_PORT_OBJS_MAX 16

struct obj_set;

struct afxdp_pmd {
	struct xvs_ethdev base;
	struct obj_set *objs_before; /* objects open before the probe (until noted) */
	/* the sockets and BPF objects the PMD opened, closed after the device
	 * if it left them open (see objs_close_left) */
	uint8_t n_objs;
	uint64_t objs[XVS_PORT_OBJS_MAX];
};

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

/* After the probe: a->objs gets the objects that were not there before. */
static void
objs_note_new(struct afxdp_pmd *p, const struct obj_set *before)
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
objs_close_left(struct afxdp_pmd *a)
{
	struct obj_set mine = {.n = 0};

	for (uint8_t i = 0; i < a->n_objs; i++)
		mine.key[mine.n++] = a->objs[i];
	if (mine.n > 0) {
		objs_walk(NULL, &mine);
		objs_unmap(&mine);
	}
	a->n_objs = 0;
}

static int
afxdp_devargs(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len, uint16_t *nq)
{
	const struct xvs_port_cfg *c = &p->cfg;
	int n;

	(void)e;
	*nq = c->queues ? c->queues : 1;
	snprintf(p->devname, sizeof(p->devname), "net_af_xdp_xvs%u", xvs_port_devname_seq());
	n = snprintf(buf, len, "%s,iface=%s,start_queue=%u,queue_count=%u", p->devname,
		     c->ifname, c->start_queue, *nq);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int
afxdp_pre_probe(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err)
{
	struct afxdp_pmd *a = (struct afxdp_pmd *)e;

	(void)p;
	(void)err;
	a->n_objs = 0;
	a->objs_before = calloc(1, sizeof(*a->objs_before));
	if (a->objs_before != NULL)
		objs_walk(a->objs_before, NULL);
	return 0;
}

/* af_xdp's MTU is capped to what a 2 KB umem chunk holds (port_mtu.h). */
static bool
afxdp_rx_fits(struct xvs_port *p, struct xvs_ethdev *e)
{
	(void)e;
	p->rx_mtu_max = XVS_MBUF_DATA - XVS_FRAME_MAX(0);
	return true;
}

static void
objs_noted(struct xvs_port *p, struct afxdp_pmd *a)
{
	(void)p;
	if (a->objs_before == NULL)
		return;
	objs_note_new(a, a->objs_before);
	free(a->objs_before);
	a->objs_before = NULL;
}

static int
afxdp_post_start(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err)
{
	(void)err;
	objs_noted(p, (struct afxdp_pmd *)e);
	return 0;
}

/* Frames stop reaching the AF_XDP socket before its device goes (see
 * objs_close_left): the XDP program that redirects them off. */
static void
afxdp_pre_close(struct xvs_port *p, struct xvs_ethdev *e)
{
	const char *off[] = {"ip", "link", "set", "dev", p->cfg.ifname, "xdp", "off", NULL};

	(void)e;
	(void)xvs_port_run_ip(NULL, off);
}

static void
afxdp_post_remove(struct xvs_port *p, struct xvs_ethdev *e)
{
	struct afxdp_pmd *a = (struct afxdp_pmd *)e;

	objs_noted(p, a);
	objs_close_left(a);
}

/* af_xdp: the kernel lets go of a closed AF_XDP socket, and so of its netdev
 * queue, in deferred work a moment after the close: a port deleted and added
 * again may find the queue still taken (EINVAL from the rx queue setup). Give
 * it up to half a second. */
static int
afxdp_open(struct xvs_port *p, struct xvs_err *err)
{
	int r;

	for (int tries = 0;; tries++) {
		r = xvs_ethdev_open(p, err);
		if (r != -EINVAL)
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
	}
	return r;
}

static const struct xvs_ethdev_kind afxdp_kind = {
	.bus = "vdev",
	.priv_size = sizeof(struct afxdp_pmd),
	.uplink = true,
	.devargs = afxdp_devargs,
	.pre_probe = afxdp_pre_probe,
	.rx_fits = afxdp_rx_fits,
	.post_start = afxdp_post_start,
	.pre_close = afxdp_pre_close,
	.post_remove = afxdp_post_remove,
};

const struct xvs_port_ops xvs_port_afxdp_ops = {
	XVS_ETHDEV_OPS(XVS_PORT_AFXDP, &afxdp_kind),
	.rxq_intr = xvs_ethdev_rxq_intr,
	.open = afxdp_open,
	.close = xvs_ethdev_close,
};

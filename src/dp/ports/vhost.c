/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user port kind (datapath, control thread): a VM's virtio-net device
 * through DPDK's net_vhost PMD, as server (xvs creates the socket) or client.
 * Built on the ethdev base (ethdev.h); what is its own: the devargs, and
 * removing a socket file left behind by an xvsd that was killed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ethdev.h"

static int
vhost_devargs(struct xvs_port *p, struct xvs_ethdev *e, char *buf, size_t len, uint16_t *nq)
{
	const struct xvs_port_cfg *c = &p->cfg;
	int n;

	(void)e;
	*nq = c->queues ? c->queues : 1;
	snprintf(p->devname, sizeof(p->devname), "net_vhost_xvs%u", xvs_port_devname_seq());
	n = snprintf(buf, len, "%s,iface=%s,queues=%u,client=%d", p->devname, c->path, *nq,
		     c->vhost_client ? 1 : 0);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* A vhost-user server socket left behind by an xvsd that was killed (kill -9
 * skips the close that removes it) makes DPDK's bind fail, and the vhost PMD
 * then removes the file on its way out: a second try works, but only after the
 * first configure failed, which cost the port its rx interrupts. So remove a
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
vhost_pre_probe(struct xvs_port *p, struct xvs_ethdev *e, struct xvs_err *err)
{
	char dir[sizeof(p->cfg.path)];
	char *slash;

	(void)e;
	if (p->cfg.vhost_client)
		return 0;
	snprintf(dir, sizeof(dir), "%s", p->cfg.path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir)
		*slash = '\0';
	if (slash != NULL && access(dir, W_OK) != 0)
		return xvs_err_set(err, -errno, "port %s: cannot create socket %s: directory "
				   "%s: %s", p->cfg.name, p->cfg.path, dir, strerror(errno));
	return stale_socket_remove(p, err);
}

static const struct xvs_ethdev_kind vhost_kind = {
	.bus = "vdev",
	.priv_size = sizeof(struct xvs_ethdev),
	.devargs = vhost_devargs,
	.pre_probe = vhost_pre_probe,
};

const struct xvs_port_ops xvs_port_vhost_ops = {
	XVS_ETHDEV_OPS(XVS_PORT_VHOST, &vhost_kind),
	.rxq_intr = xvs_ethdev_rxq_intr,
	.open = xvs_ethdev_open,
	.close = xvs_ethdev_close,
};

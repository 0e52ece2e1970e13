/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * taprelay — the least a user-space program can do to move frames between two
 * tap devices: a benchmark anchor, not part of xvs.
 *
 * Usage: taprelay IFNAME1 MAC1 IFNAME2 MAC2 [spin]
 *
 * Creates two taps with virtio-net headers and the offloads xvs's tap ports
 * negotiate (partial checksums, TCPv4 segmentation), then copies every frame
 * read from one into the other, header included: no parsing, no switching, no
 * second buffer. One thread; it sleeps in epoll_wait() unless "spin" is given.
 * What it reaches on a machine is the ceiling of any tap-based user-space
 * switch there (two copies and two syscalls per frame), so bench/run.sh puts
 * it beside xvs's tap rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#define FRAME_MAX (sizeof(struct virtio_net_hdr) + 65536 + 64)

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
tap_open(const char *name, const char *mac)
{
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN;
	int hdr = sizeof(struct virtio_net_hdr), s, fd;
	unsigned int m[6];
	struct ifreq r;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &r) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, off) < 0)
		return -1;
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		errno = EINVAL;
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	r.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
	for (int i = 0; i < 6; i++)
		r.ifr_hwaddr.sa_data[i] = (char)m[i];
	if (ioctl(s, SIOCSIFHWADDR, &r) < 0 || ioctl(s, SIOCGIFFLAGS, &r) < 0)
		return -1;
	r.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &r) < 0)
		return -1;
	close(s);
	return fd;
}

/* Move what fd from holds to fd to, up to 64 frames. Returns frames moved. */
static int
relay(int from, int to, char *buf, unsigned long *drops)
{
	int n = 0;

	for (; n < 64; n++) {
		ssize_t r = read(from, buf, FRAME_MAX);

		if (r <= 0)
			break;
		if (write(to, buf, (size_t)r) != r)
			(*drops)++;
	}
	return n;
}

int
main(int argc, char **argv)
{
	static char buf[FRAME_MAX];
	unsigned long frames = 0, drops = 0;
	struct epoll_event ev[2];
	int fd[2], ep, spin;

	if (argc < 5) {
		fprintf(stderr, "usage: %s IFNAME1 MAC1 IFNAME2 MAC2 [spin]\n", argv[0]);
		return 2;
	}
	spin = argc > 5 && strcmp(argv[5], "spin") == 0;
	for (int i = 0; i < 2; i++) {
		fd[i] = tap_open(argv[1 + 2 * i], argv[2 + 2 * i]);
		if (fd[i] < 0) {
			fprintf(stderr, "taprelay: %s: %s\n", argv[1 + 2 * i], strerror(errno));
			return 1;
		}
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e) < 0) {
			perror("taprelay: epoll_ctl");
			return 1;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "taprelay: %s <-> %s (%s)\n", argv[1], argv[3], spin ? "spin" : "epoll");
	while (!quit) {
		if (spin) {
			frames += (unsigned long)relay(fd[0], fd[1], buf, &drops);
			frames += (unsigned long)relay(fd[1], fd[0], buf, &drops);
			continue;
		}
		int n = epoll_wait(ep, ev, 2, -1);

		for (int i = 0; i < n; i++) {
			int a = (int)ev[i].data.u32;

			frames += (unsigned long)relay(fd[a], fd[1 - a], buf, &drops);
		}
	}
	fprintf(stderr, "taprelay: %lu frames, %lu write errors\n", frames, drops);
	return 0;
}

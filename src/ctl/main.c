/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsd: the xvs switch daemon. Parses its options, starts the DPDK EAL (on
 * hugepages when they are mounted and free, otherwise --no-huge with a sized
 * memory pool), creates the workers, rebuilds the switch from the config store
 * and runs the control loop: RPC clients, learn requests, a 1 s tick (aging,
 * load sampling), signals.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <syslog.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "flow_cache.h"
#include "log.h"
#include "params.h"
#include "stages.h"
#include "xvsd.h"

#define XVS_MAX_CLIENTS 32
#define DEFAULT_CLIENT_TIMEOUT_S 30
#define DEFAULT_SOCKET "/run/xvs/xvsd.sock"
#define DEFAULT_DB "/var/lib/xvs/xvs.db"

struct xvs_dp xvs_dp;

struct opts {
	const char *db;
	const char *socket;
	int workers;          /* worker lcores to start; -1 = all cores but one */
	const char *cpus;     /* CPUs for the workers, "1,2" or "1-3" */
	uint32_t mem_mb;      /* EAL memory without hugepages */
	uint32_t mbufs;
	uint32_t tap_mbufs;   /* 64 KB mbufs for tap reads; UINT32_MAX = mbufs / 32 */
	const char *eal;      /* extra EAL arguments */
	bool pci;             /* scan the PCI bus (needed for pci ports) */
	uint32_t client_timeout_s; /* close a control client idle this long */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: xvsd [options]\n"
		"  --db PATH          configuration database (default " DEFAULT_DB ")\n"
		"  --socket PATH      control socket, root-only (default " DEFAULT_SOCKET ")\n"
		"  --workers N        worker lcores to start (default: CPUs - 1, at least 1);\n"
		"                     'xvsctl switch set workers=N' picks how many are active\n"
		"  --cpus LIST        CPUs the workers run on, e.g. 1 or 1,2 (default: all but\n"
		"                     CPU 0, which runs the control thread; CPU 0 on 1-CPU hosts)\n"
		"  --mem MB           DPDK memory when no hugepages are available (default 512)\n"
		"  --mbufs N          packet buffers in the pool (default 32767)\n"
		"  --tap-mbufs N      64 KB buffers that tap ports read into (default: --mbufs/32,\n"
		"                     at least 255; 0: taps read into chains of 2 KB buffers)\n"
		"  --pci              scan the PCI bus so pci ports can be added (on by\n"
		"                     itself when the database has a pci port)\n"
		"  --eal 'ARGS'       extra DPDK EAL arguments\n"
		"  --log-level L      err|warning|info|debug (default info)\n"
		"  --client-timeout S close a control connection that has not sent its request\n"
		"                     S seconds after connecting (default 30, 1-3600); when\n"
		"                     all 32 are taken, a new one closes the oldest\n"
		"  --ext-dir DIR      load every *.so in DIR as an extension at start-up (one\n"
		"                     refused is logged and skipped; see doc/extensions.md)\n"
		"  --test-faults      allow the test.fault method, which makes chosen steps of\n"
		"                     later commands fail (for tests; never in production)\n"
		"  -h, --help         this text\n");
}

/* Remove a directory and the files in it (DPDK puts only files there). */
static void
remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char f[768];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(path);
}

/* A numeric option, with the core's parser and its message. */
static bool
opt_u32(const char *name, const char *arg, uint32_t min, uint32_t max, uint32_t *out)
{
	struct xvs_err e;

	if (xvs_u32_parse(name, arg, min, max, out, &e) == 0)
		return true;
	fprintf(stderr, "xvsd: %s (see xvsd --help)\n", e.msg);
	return false;
}

static bool
hugepages_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long free_pages = 0;
	bool mounted = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "HugePages_Free: %ld", &free_pages);
	fclose(f);
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, " hugetlbfs ") != NULL)
			mounted = true;
	fclose(f);
	/* 64 free 2 MB pages = 128 MB: enough for the pool and rings. */
	return mounted && free_pages >= 64;
}

/* DPDK keeps a runtime directory per file prefix (ours: xvs<pid>) even with
 * --no-shconf. Remove the ones of xvsd processes that are gone (kill -9). */
static void
remove_stale_runtime_dirs(void)
{
	const char *base = "/var/run/dpdk";
	DIR *d = opendir(base);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[512], proc[64];
		int pid;

		if (sscanf(e->d_name, "xvs%d", &pid) != 1 || pid <= 0)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%d", pid);
		if (access(proc, F_OK) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		remove_dir(path);
	}
	closedir(d);
}

static int
parse_cpus(const char *s, int *cpus, int max)
{
	int n = 0;
	char *copy = strdup(s), *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		int a, b;

		if (sscanf(tok, "%d-%d", &a, &b) == 2) {
			for (int c = a; c <= b && n < max; c++)
				cpus[n++] = c;
		} else if (sscanf(tok, "%d", &a) == 1) {
			cpus[n++] = a;
		} else {
			n = -1;
			break;
		}
	}
	free(copy);
	return n;
}

static int
eal_start(const struct opts *o, const char *prog)
{
	static char lcores[512], mem[16], prefix[64];
	char *argv[64];
	int argc = 0, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), cpus[XVS_MAX_WORKERS];
	int ncpus, nworkers;

	if (o->cpus != NULL) {
		ncpus = parse_cpus(o->cpus, cpus, XVS_MAX_WORKERS);
		if (ncpus <= 0) {
			XVS_ERR("main", "--cpus %s: expected a list like 1,2 or 1-3", o->cpus);
			return -EINVAL;
		}
	} else {
		ncpus = 0;
		for (int c = 1; c < ncpu && ncpus < XVS_MAX_WORKERS; c++)
			cpus[ncpus++] = c;
		if (ncpus == 0)
			cpus[ncpus++] = 0;
	}
	nworkers = o->workers > 0 ? o->workers : ncpus;
	if (nworkers > XVS_MAX_WORKERS) {
		XVS_ERR("main", "--workers %d: at most %d", nworkers, XVS_MAX_WORKERS);
		return -EINVAL;
	}
	/* lcore 0 (control) on CPU 0; worker lcores 1..n round-robin over cpus. */
	int len = snprintf(lcores, sizeof(lcores), "0@0");

	for (int w = 0; w < nworkers; w++)
		len += snprintf(lcores + len, sizeof(lcores) - (size_t)len, ",%d@%d", w + 1,
				cpus[w % ncpus]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=xvs%d", (int)getpid());
	argv[argc++] = (char *)prog;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--main-lcore";
	argv[argc++] = "0";
	argv[argc++] = prefix;
	xvsd.hugepages = hugepages_available();
	if (xvsd.hugepages) {
		argv[argc++] = "--in-memory"; /* one process: no runtime files */
	} else {
		/* --no-huge implies legacy memory, which --in-memory refuses */
		argv[argc++] = "--no-shconf";
		snprintf(mem, sizeof(mem), "%u", o->mem_mb);
		argv[argc++] = "--no-huge";
		argv[argc++] = "-m";
		argv[argc++] = mem;
	}
	/* Without pci ports, leave the host's PCI devices alone entirely. */
	if (!o->pci)
		argv[argc++] = "--no-pci";
	xvsd.pci_bus = o->pci;
	argv[argc++] = "--log-level=lib.eal:warning";
	if (o->eal != NULL) {
		static char ealbuf[1024];
		char *save = NULL;

		snprintf(ealbuf, sizeof(ealbuf), "%s", o->eal);
		for (char *t = strtok_r(ealbuf, " ", &save); t != NULL && argc < 60;
		     t = strtok_r(NULL, " ", &save))
			argv[argc++] = t;
	}
	argv[argc] = NULL;
	XVS_INFO("main", "starting DPDK: %d worker lcore(s) [%s], %s", nworkers, lcores,
		 xvsd.hugepages ? "hugepages" : "no hugepages");
	if (rte_eal_init(argc, argv) < 0) {
		XVS_ERR("main", "DPDK EAL init failed: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return nworkers;
}

static void *pkt_va; /* the region pool_socket() maps, NULL: none */

/* Say how much of pool_socket()'s region the kernel backed with huge pages
 * once the pools filled it (/proc/self/smaps): the datapath's speed depends on
 * it (pcap->null, 1 flow: 28-29 Mpps on 4 KB pages, 44-47 on 2 MB ones). */
static void
log_pkt_thp(void)
{
	unsigned long lo, hi;
	long rss = -1, huge = -1;
	bool in = false;
	char line[256];
	FILE *f;

	if (pkt_va == NULL || (f = fopen("/proc/self/smaps", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
			if (in)
				break;
			in = lo == (unsigned long)(uintptr_t)pkt_va;
		} else if (in) {
			sscanf(line, "Rss: %ld", &rss);
			sscanf(line, "AnonHugePages: %ld", &huge);
		}
	}
	fclose(f);
	if (rss > 0 && huge >= 0)
		XVS_INFO("main", "packet buffers: %ld of %ld MB resident on huge pages", huge >> 10,
			 rss >> 10);
}

/* 64 KB mbufs for tap reads (--tap-mbufs): one per frame a worker holds (up
 * to a burst per tap queue per turn, freed when written); by default 1/32 of
 * --mbufs, at least 255. */
static uint32_t
tap_mbufs(const struct opts *o)
{
	return o->tap_mbufs != UINT32_MAX ? o->tap_mbufs : RTE_MAX(o->mbufs / 32, 255u);
}

/* Flood copies (2 KB mbufs): a copy lives until its egress port's tx buffer is
 * written out, at most a burst per port per worker turn, or a hand-off ring's
 * worth; a quarter of --mbufs. Jumbo copies: fewer, they are rare. */
#define FLOOD_BIG_MBUFS 511u

static uint32_t
flood_mbufs(const struct opts *o)
{
	return o->mbufs / 4;
}

/* Where the packet buffers live. With hugepages: DPDK's own heap. Without,
 * that heap is a memfd of 4 KB shared-memory pages, which transparent huge
 * pages do not cover (shmem_enabled is "never" by default), so the mbufs go to
 * an external heap of anonymous memory that asks for huge pages, sized from
 * --mbufs and --tap-mbufs (228 MB for the defaults: 2 KB mbufs, 64 KB ones
 * for tap reads, and the flood copy pools), besides --mem.
 * Why: a frame touches its mbufs' headers and data, spread over many pages,
 * and a host that ages guest memory makes the first touch of each page after
 * an aging pass slow (this VM's kdamond samples access bits every 0.5 s: 10 ms
 * pings through two taps waited 1.2-1.9 ms in 2-3 % of cases, in user space
 * between the worker's wake-up and its first read; with kdamond stopped the
 * p99 was 0.2 ms, and with the mbufs on 2 MB pages 0.4 ms).
 * Falls back to DPDK's heap if any step fails. */
static int
pool_socket(const struct opts *o)
{
	const size_t pg = (size_t)2 << 20;
	size_t len = (size_t)o->mbufs * (RTE_MBUF_DEFAULT_BUF_SIZE + 2 * sizeof(struct rte_mbuf)) * 3 / 2 +
		     (size_t)tap_mbufs(o) * (UINT16_MAX + 4 * sizeof(struct rte_mbuf)) +
		     (size_t)flood_mbufs(o) *
			     (RTE_MBUF_DEFAULT_BUF_SIZE + 2 * sizeof(struct rte_mbuf)) * 3 / 2 +
		     (size_t)FLOOD_BIG_MBUFS *
			     (RTE_PKTMBUF_HEADROOM + XVS_JUMBO_DATA + 4 * sizeof(struct rte_mbuf)) +
		     ((size_t)16 << 20);
	rte_iova_t *iova = NULL;
	const char *step;
	uint8_t *map, *va;
	unsigned int n;
	int e;

	if (xvsd.hugepages)
		return (int)rte_socket_id();
	len = RTE_ALIGN_CEIL(len, pg);
	n = (unsigned int)(len / pg);
	map = mmap(NULL, len + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (map == MAP_FAILED) {
		e = errno;
		step = "mmap";
		goto fallback;
	}
	va = RTE_PTR_ALIGN_CEIL(map, pg); /* 2 MB aligned, the rest given back */
	if (va > map)
		munmap(map, (size_t)(va - map));
	munmap(va + len, pg - (size_t)(va - map));
	step = "madvise(MADV_HUGEPAGE)";
	if (madvise(va, len, MADV_HUGEPAGE) != 0) {
		e = errno;
		goto unmap;
	}
	if (rte_eal_iova_mode() == RTE_IOVA_VA) {
		step = "malloc";
		e = ENOMEM;
		iova = malloc(n * sizeof(*iova));
		if (iova == NULL)
			goto unmap;
		for (unsigned int i = 0; i < n; i++)
			iova[i] = (rte_iova_t)(uintptr_t)(va + (size_t)i * pg);
	}
	step = "rte_malloc_heap_create";
	if (rte_malloc_heap_create("xvs_pkt") != 0) {
		e = rte_errno;
		goto unmap;
	}
	step = "rte_malloc_heap_memory_add";
	if (rte_malloc_heap_memory_add("xvs_pkt", va, len, iova, n, pg) != 0) {
		e = rte_errno;
		rte_malloc_heap_destroy("xvs_pkt");
		goto unmap;
	}
	free(iova);
	pkt_va = va;
	XVS_INFO("main", "packet buffers: %zu MB of anonymous memory, transparent huge pages asked for",
		 len >> 20);
	return rte_malloc_heap_get_socket("xvs_pkt");
unmap:
	munmap(va, len);
fallback:
	XVS_WARN("main", "packet buffers on DPDK's 4 KB pages: %s: %s", step, rte_strerror(e));
	free(iova);
	return (int)rte_socket_id();
}

static int
workers_create(int n, uint32_t mbufs)
{
	size_t qsz = rte_rcu_qsbr_get_memsize((uint32_t)n);
	unsigned int lcore;
	int w = 0;

	xvs_dp.qsbr = rte_zmalloc("xvs_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (xvs_dp.qsbr == NULL || rte_rcu_qsbr_init(xvs_dp.qsbr, (uint32_t)n) != 0)
		return -ENOMEM;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct xvs_worker *wk = rte_zmalloc("xvs_worker", sizeof(*wk), RTE_CACHE_LINE_SIZE);
		char rname[RTE_RING_NAMESIZE];
		struct epoll_event ev = {.events = EPOLLIN};

		if (wk == NULL || w >= n)
			return -ENOMEM;
		wk->id = (uint16_t)w;
		wk->lcore = lcore;
		snprintf(rname, sizeof(rname), "xvs_learn%d", w);
		wk->learn_ring = rte_ring_create_elem(rname, sizeof(struct xvs_learn_req),
						      XVS_LEARN_RING_SIZE, rte_socket_id(),
						      RING_F_SP_ENQ | RING_F_SC_DEQ);
		/* The policy flow cache (flow_cache.h): without memory for it
		 * the stages run uncached. */
		wk->fcache = xvs_fcache_create((int)rte_lcore_to_socket_id(lcore));
		if (wk->fcache == NULL)
			XVS_WARN("main", "worker %d: no memory for the policy flow cache (2 MB): "
				 "port security and ACLs run uncached", w);
		wk->epfd = epoll_create1(EPOLL_CLOEXEC);
		wk->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (wk->learn_ring == NULL || wk->epfd < 0 || wk->wakefd < 0)
			return -ENOMEM;
		ev.data.u64 = (uint64_t)(uint32_t)wk->wakefd; /* see XVS_EV_LAZY */
		epoll_ctl(wk->epfd, EPOLL_CTL_ADD, wk->wakefd, &ev);
		xvs_dp.worker[w++] = wk;
	}
	xvs_dp.n_workers_max = (uint16_t)w;
	/* Software RSS hand-off: one SP/SC ring per (source, destination) pair,
	 * XVS_RSS_RING_SIZE deep unless that would let the rings hold more than
	 * half the mbufs (a halted worker must not starve every port's rx). */
	uint32_t ring_size = XVS_RSS_RING_SIZE;

	while (ring_size > 256 && (uint64_t)ring_size * (uint32_t)w * (uint32_t)(w - 1) > mbufs / 2)
		ring_size /= 2;
	for (int d = 0; d < w; d++)
		for (int src = 0; src < w; src++) {
			char rname[RTE_RING_NAMESIZE];

			if (src == d)
				continue;
			snprintf(rname, sizeof(rname), "xvs_rss%d_%d", src, d);
			xvs_dp.worker[d]->rss_ring[src] =
				rte_ring_create(rname, ring_size, rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (xvs_dp.worker[d]->rss_ring[src] == NULL)
				return -ENOMEM;
		}
	return 0;
}

/* ---- control socket ---- */

/* A control connection: one request, one reply. A client that has not sent
 * its whole request --client-timeout s after connecting is closed, and when
 * every slot is taken a new connection closes the oldest, so idle or slow
 * clients (trickling a byte now and then included) can never lock the
 * operator out. */
struct client {
	int fd;
	size_t len;
	char *buf;          /* XVS_RPC_MAX + 1 */
	uint64_t since_ns;  /* CLOCK_MONOTONIC at accept */
};

static struct client clients[XVS_MAX_CLIENTS];

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Create the directory that will hold path (one level, as before). */
static void
mkdir_parent(const char *path, mode_t mode)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, mode);
	}
}

/* One xvsd per database and per control socket: an exclusive flock on
 * "<path>.lock", held as long as the process lives. The kernel releases it
 * on any exit, kill -9 included, so a crashed xvsd never blocks a restart.
 * The file holds the owner's pid, for the message. Returns the fd or < 0. */
static int
lock_beside(const char *path, const char *what)
{
	char lp[600], pid[16] = "";
	int fd;

	snprintf(lp, sizeof(lp), "%s.lock", path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		XVS_ERR("main", "cannot open %s: %s", lp, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t n = read(fd, pid, sizeof(pid) - 1);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			XVS_ERR("main", "%s %s is in use by another xvsd (pid %s); stop it, or "
				"give this one another --db and --socket", what, path,
				pid[0] ? pid : "?");
		else
			XVS_ERR("main", "cannot lock %s: %s", lp, strerror(e));
		close(fd);
		return -EBUSY;
	}
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%d\n", (int)getpid());
	return fd;
}

/* A socket file at path that accepts connections belongs to a live server
 * (an xvsd of another database, or anything else): never take it over. One
 * that refuses them is what a killed xvsd left behind. */
static bool
socket_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* EAGAIN: its backlog is full, so it is alive too */
	alive = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return alive;
}

static int
listen_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		XVS_ERR("rpc", "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (socket_alive(path)) {
		XVS_ERR("rpc", "%s is served by another process; not taking it over", path);
		return -EADDRINUSE;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	old = umask(0077); /* never group/other-accessible, not even briefly */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		int e = errno;

		umask(old);
		XVS_ERR("rpc", "cannot listen on %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	umask(old);
	return fd;
}

/* Idempotent: a client closed already (fd -1) is left alone. */
static void
client_close(int epfd, struct client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	xvsd.rpc_clients--;
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
}

static void
client_reply(int epfd, struct client *c, json_t *reply)
{
	char *out = json_dumps(reply, JSON_COMPACT);
	size_t len = out != NULL ? strlen(out) : 0, off = 0;

	json_decref(reply);
	/* Replies are small; the client reads them at once. A client that does not
	 * read is cut off rather than allowed to stall the control thread. */
	if (out != NULL) {
		int fl = fcntl(c->fd, F_GETFL);

		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
		struct timeval tv = {.tv_sec = 1};

		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		while (off < len) {
			ssize_t k = send(c->fd, out + off, len - off, MSG_NOSIGNAL);

			if (k <= 0)
				break;
			off += (size_t)k;
		}
		if (off == len)
			(void)!send(c->fd, "\n", 1, MSG_NOSIGNAL);
		free(out);
	}
	client_close(epfd, c);
}

/* c's fd is readable, or was: the timer (clients_expire) may have closed c
 * earlier in the same batch of epoll events, which then still holds c's
 * stale event. */
static void
client_read(int epfd, struct client *c)
{
	if (c->fd < 0)
		return;
	for (;;) {
		ssize_t k = recv(c->fd, c->buf + c->len, XVS_RPC_MAX + 1 - c->len, 0);
		size_t line;
		int f;

		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0) {
			client_close(epfd, c);
			return;
		}
		c->len += (size_t)k;
		f = xvs_rpc_frame(c->buf, c->len, &line);
		if (f > 0) {
			client_reply(epfd, c, xvsd_rpc_handle(c->buf, line));
			return;
		}
		if (f < 0) {
			xvsd.rpc_requests++;
			xvsd.rpc_errors++;
			client_reply(epfd, c,
				     json_pack("{s:{s:s,s:s}}", "error", "code", "E2BIG", "message",
					       "request larger than 65536 bytes"));
			return;
		}
	}
}

/* Close the clients connected timeout_s ago or more (called every second):
 * a request is sent at once, a reply needs no more from the client. */
static void
clients_expire(int epfd, uint32_t timeout_s)
{
	uint64_t now = mono_ns();

	for (int i = 0; i < XVS_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && now - clients[i].since_ns >= timeout_s * 1000000000ull) {
			client_close(epfd, &clients[i]);
			xvsd.rpc_idle_closed++;
		}
}

static void
client_accept(int epfd, int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct client *c = NULL;

		for (int i = 0; i < XVS_MAX_CLIENTS; i++)
			if (clients[i].fd < 0) {
				c = &clients[i];
				break;
			}
		if (c == NULL) {
			/* all taken: the oldest goes (a client sends its request
			 * right after connecting, so the oldest is the least likely
			 * to be a working one) */
			c = &clients[0];
			for (int i = 1; i < XVS_MAX_CLIENTS; i++)
				if (clients[i].since_ns < c->since_ns)
					c = &clients[i];
			client_close(epfd, c);
			xvsd.rpc_evicted++;
		}
		c->buf = malloc(XVS_RPC_MAX + 1);
		if (c->buf == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->since_ns = mono_ns();
		xvsd.rpc_clients++;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* The stage registry's view of the workers' counters (pipeline.h). */
static struct xvs_stage_ctr *
stage_counters_of(void *arg, unsigned w)
{
	return w < xvs_dp.n_workers_max ? xvs_dp.worker[w]->stage_ctr : NULL;
}

/* Stages log under their own name, with syslog levels. */
static void
stage_log(int level, const char *stage, const char *msg)
{
	enum xvs_log_level l = level <= LOG_ERR       ? XVS_LOG_ERR :
			       level == LOG_WARNING   ? XVS_LOG_WARNING :
			       level <= LOG_INFO      ? XVS_LOG_INFO :
							XVS_LOG_DEBUG;

	xvs_log(l, stage, "%s", msg);
}

/* Stop the workers and wait for them. A worker may be parked with no timeout
 * (no queue, worker.c): it sees quit only when its wake-up fd is written. */
static void
workers_stop(void)
{
	xvs_dp.quit = true;
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		uint64_t one = 1;

		/* Unconditional: a worker may be between its last check and epoll. */
		(void)!write(xvs_dp.worker[w]->wakefd, &one, sizeof(one));
	}
	rte_eal_mp_wait_lcore();
}

/* Every port holds fds (a tap one per queue, a vhost-user port its socket
 * and one kick and call fd per queue, an afpacket port its socket) and each
 * polled queue's fd sits in a worker's epoll set: a thousand ports need more
 * than the usual soft limit of 1,024 fds. Take the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;

	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		XVS_WARN("main", "cannot raise the open-file limit from %llu to %llu: %s",
			 (unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"workers", required_argument, NULL, 'w'},
		{"cpus", required_argument, NULL, 'c'},
		{"mem", required_argument, NULL, 'm'},
		{"mbufs", required_argument, NULL, 'n'},
		{"tap-mbufs", required_argument, NULL, 't'},
		{"eal", required_argument, NULL, 'e'},
		{"pci", no_argument, NULL, 'p'},
		{"log-level", required_argument, NULL, 'l'},
		{"test-faults", no_argument, NULL, 'F'},
		{"ext-dir", required_argument, NULL, 'x'},
		{"client-timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.db = DEFAULT_DB, .socket = DEFAULT_SOCKET, .workers = -1,
			 .mem_mb = 512, .mbufs = 32767, .tap_mbufs = UINT32_MAX,
			 .client_timeout_s = DEFAULT_CLIENT_TIMEOUT_S};
	struct xvs_fdb_params fp;
	struct xvs_err err;
	int c, epfd, lfd, tfd, sfd, bfd, nworkers;
	uint32_t u;
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.db = optarg; break;
		case 's': o.socket = optarg; break;
		case 'w':
			if (!opt_u32("--workers", optarg, 1, XVS_MAX_WORKERS, &u))
				return 2;
			o.workers = (int)u;
			break;
		case 'c': o.cpus = optarg; break;
		case 'm':
			if (!opt_u32("--mem", optarg, 64, 1u << 20, &o.mem_mb))
				return 2;
			break;
		case 'n':
			if (!opt_u32("--mbufs", optarg, 1024, 1u << 24, &o.mbufs))
				return 2;
			break;
		case 't':
			if (!opt_u32("--tap-mbufs", optarg, 0, 1u << 16, &o.tap_mbufs))
				return 2;
			break;
		case 'e': o.eal = optarg; break;
		case 'p': o.pci = true; break;
		case 'l':
			if (strcmp(optarg, "err") == 0) xvs_log_max = XVS_LOG_ERR;
			else if (strcmp(optarg, "warning") == 0) xvs_log_max = XVS_LOG_WARNING;
			else if (strcmp(optarg, "info") == 0) xvs_log_max = XVS_LOG_INFO;
			else if (strcmp(optarg, "debug") == 0) xvs_log_max = XVS_LOG_DEBUG;
			else { usage(stderr); return 2; }
			break;
		case 'F': xvsd.test_faults = true; break;
		case 'x': xvsd.ext_dir = optarg; break;
		case 'T':
			if (!opt_u32("--client-timeout", optarg, 1, 3600, &o.client_timeout_s))
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xvsd: unexpected argument \"%s\" (see xvsd --help)\n", argv[optind]);
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	/* Before anything else: a second xvsd on the same database or socket
	 * stops here, having touched neither. */
	mkdir_parent(o.db, 0700);
	mkdir_parent(o.socket, 0755);
	if (lock_beside(o.db, "database") < 0 || lock_beside(o.socket, "control socket") < 0)
		return 1;
	if (socket_alive(o.socket)) {
		XVS_ERR("main", "control socket %s is served by another process; not taking it "
			"over (give this xvsd another --socket)", o.socket);
		return 1;
	}
	/* The store first: a database we cannot open means nothing to run. */
	if (xvs_store_open(o.db, &xvsd.store, &err) < 0) {
		XVS_ERR("store", "%s", err.msg);
		return 1;
	}
	xvs_switch_cfg_init(&xvsd.sw);
	if (xvs_store_count_kind(xvsd.store, "pci") > 0)
		o.pci = true;

	/* net_tap signals SIGIO when a tap has data (its rx burst skips the read
	 * syscall until then). The handler must run on the worker that polls the
	 * tap, not interrupt the control thread's epoll_wait for every frame: block
	 * it here, before EAL creates its threads (they inherit the mask), and let
	 * workers unblock it (xvs_worker_main). */
	/* SIGTERM/SIGINT are read by the control thread from a signalfd; block
	 * them before EAL starts its threads too, or the kernel delivers them to
	 * whichever thread does not block them, and the default action kills
	 * the process without a clean stop. */
	{
		sigset_t io;

		sigemptyset(&io);
		sigaddset(&io, SIGIO);
		sigaddset(&io, SIGTERM);
		sigaddset(&io, SIGINT);
		pthread_sigmask(SIG_BLOCK, &io, NULL);
	}
	remove_stale_runtime_dirs();
	nworkers = eal_start(&o, argv[0]);
	if (nworkers < 0)
		return 1;
	xvs_dp.tsc_hz = rte_get_tsc_hz();
	if (workers_create(nworkers, o.mbufs) < 0) {
		XVS_ERR("main", "cannot create workers");
		return 1;
	}
	xvsd.sw.workers = xvs_dp.n_workers_max;
	if (xvs_vmq_dp_init() < 0) {
		XVS_ERR("main", "cannot register the VMQ mbuf field: %s", rte_strerror(rte_errno));
		return 1;
	}
	xvs_stage_set_counters(stage_counters_of, NULL);
	xvs_stage_set_log(stage_log);
	/* Before ports are restored: their options enable these. The
	 * pass-through stages are for tests and benchmarks only. */
	if (xvs_stages_builtin_register(xvsd.test_faults, &err) < 0) {
		XVS_ERR("pipeline", "%s", err.msg);
		return 1;
	}
	if (xvsd_restore_settings(&err) < 0) {
		XVS_ERR("store", "%s", err.msg);
		return 1;
	}
	int pkt_socket = pool_socket(&o);

	xvs_dp.pool = rte_pktmbuf_pool_create("xvs_mbuf", o.mbufs, 256, XVS_MBUF_PRIV_SIZE,
					      RTE_MBUF_DEFAULT_BUF_SIZE, pkt_socket);
	if (xvs_dp.pool == NULL) {
		XVS_ERR("main", "cannot create %u mbufs: %s (raise --mem)", o.mbufs,
			rte_strerror(rte_errno));
		return 1;
	}
	/* Tap reads: a whole 64 KB TSO frame in one mbuf (ports/tap.c). Optional:
	 * without it taps read into chains of 2 KB mbufs. */
	uint32_t ntap = tap_mbufs(&o);

	if (ntap > 0)
		xvs_dp.tap_pool = rte_pktmbuf_pool_create("xvs_tap", ntap, RTE_MIN(32u, ntap / 2),
							  XVS_MBUF_PRIV_SIZE,
							  UINT16_MAX, pkt_socket);
	if (xvs_dp.tap_pool == NULL && ntap > 0)
		XVS_WARN("main", "no 64 KB tap read buffers (%s): taps read into 2 KB mbufs",
			 rte_strerror(rte_errno));
	/* Flood copies: pools no port receives into (stage_l2.c, flood()). */
	xvs_dp.flood_pool = rte_pktmbuf_pool_create("xvs_flood", flood_mbufs(&o), 256,
						    XVS_MBUF_PRIV_SIZE,
						    RTE_MBUF_DEFAULT_BUF_SIZE, pkt_socket);
	xvs_dp.flood_big_pool = rte_pktmbuf_pool_create("xvs_flood_big", FLOOD_BIG_MBUFS, 32,
							XVS_MBUF_PRIV_SIZE,
							RTE_PKTMBUF_HEADROOM + XVS_JUMBO_DATA,
							pkt_socket);
	if (xvs_dp.flood_pool == NULL || xvs_dp.flood_big_pool == NULL) {
		XVS_ERR("main", "cannot create flood copy buffers: %s (raise --mem)",
			rte_strerror(rte_errno));
		return 1;
	}
	log_pkt_thp();
	fp.max_entries = xvsd.sw.fdb_max;
	fp.aging_ns = (uint64_t)xvsd.sw.aging_s * 1000000000ull;
	if (xvs_fdb_create(&fp, &xvs_dp.fdb, &err) < 0) {
		XVS_ERR("fdb", "%s", err.msg);
		return 1;
	}
	xvs_dp.learn_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* An empty snapshot before the workers start, so they never see NULL. */
	{
		struct xvs_snapshot *s = rte_zmalloc("xvs_snapshot", sizeof(*s),
						     RTE_CACHE_LINE_SIZE);

		if (s == NULL)
			return 1;
		s->n_workers = (uint16_t)RTE_MIN(xvsd.sw.workers, xvs_dp.n_workers_max);
		atomic_store(&xvs_dp.snap, s);
	}
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++)
		rte_eal_remote_launch(xvs_worker_main, xvs_dp.worker[w], xvs_dp.worker[w]->lcore);

	if (xvsd_restore(&err) < 0) {
		XVS_ERR("store", "restore failed: %s", err.msg);
		workers_stop();
		return 1;
	}
	bfd = xvsd_balancer_init();
	if (bfd < 0 || xvsd_balancer_restore(&err) < 0)
		XVS_ERR("balancer", "not started: %s", bfd < 0 ? strerror(errno) : err.msg);

	for (int i = 0; i < XVS_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	lfd = listen_socket(o.socket);
	if (lfd < 0) {
		workers_stop();
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	{
		struct itimerspec its = {.it_interval = {.tv_sec = 1}, .it_value = {.tv_sec = 1}};

		timerfd_settime(tfd, 0, &its, NULL);
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	/* Each fixed fd is told apart by the address of its tag; clients by their
	 * struct client. */
	static int tag_listen, tag_timer, tag_signal, tag_learn, tag_balancer;
	struct epoll_event ev;

	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_balancer};
	if (bfd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_ADD, bfd, &ev);

	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_listen};
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_timer};
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_signal};
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_learn};
	epoll_ctl(epfd, EPOLL_CTL_ADD, xvs_dp.learn_efd, &ev);

	XVS_INFO("main", "xvsd ready: socket %s, database %s, %u worker(s), %u active",
		 o.socket, o.db, xvs_dp.n_workers_max, xvsd.sw.workers);
	bool quit = false;

	while (!quit) {
		struct epoll_event evs[16];
		int n = epoll_wait(epfd, evs, 16, xvsd_capture_poll_ms());

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			void *t = evs[i].data.ptr;
			uint64_t v;

			if (t == &tag_listen) {
				client_accept(epfd, lfd);
			} else if (t == &tag_timer) {
				(void)!read(tfd, &v, sizeof(v));
				clients_expire(epfd, o.client_timeout_s);
				xvsd_drain_learn();
				xvsd_tick();
			} else if (t == &tag_balancer) {
				xvsd_balancer_tick();
			} else if (t == &tag_learn) {
				(void)!read(xvs_dp.learn_efd, &v, sizeof(v));
				xvsd_drain_learn();
			} else if (t == &tag_signal) {
				struct signalfd_siginfo si;

				(void)!read(sfd, &si, sizeof(si));
				XVS_INFO("main", "signal %u: shutting down", si.ssi_signo);
				quit = true;
			} else {
				client_read(epfd, (struct client *)t);
			}
		}
		xvsd_capture_poll();
	}
	workers_stop();
	xvsd_balancer_close();
	xvsd_capture_shutdown();
	for (int i = 0; i < XVS_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(epfd, &clients[i]);
	xvsd_shutdown_ports();
	xvs_stage_registry_clear(); /* the workers have stopped: states, contexts, stages */
	unlink(o.socket);
	xvs_fdb_destroy(xvs_dp.fdb);
	xvs_store_close(xvsd.store);
	for (uint16_t w = 0; w < xvs_dp.n_workers_max; w++) {
		close(xvs_dp.worker[w]->epfd);
		close(xvs_dp.worker[w]->wakefd);
		rte_ring_free(xvs_dp.worker[w]->learn_ring);
		for (uint16_t src = 0; src < xvs_dp.n_workers_max; src++) {
			struct rte_ring *r = xvs_dp.worker[w]->rss_ring[src];
			void *m = NULL;

			while (r != NULL && rte_ring_sc_dequeue(r, &m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(r);
		}
		xvs_fcache_free(xvs_dp.worker[w]->fcache);
		rte_free(xvs_dp.worker[w]);
	}
	rte_free(atomic_load(&xvs_dp.snap));
	rte_mempool_free(xvs_dp.pool);
	rte_mempool_free(xvs_dp.tap_pool);
	rte_mempool_free(xvs_dp.jumbo_pool);
	rte_mempool_free(xvs_dp.flood_pool);
	rte_mempool_free(xvs_dp.flood_big_pool);
	rte_free(xvs_dp.qsbr);
	close(epfd);
	close(tfd);
	close(sfd);
	close(lfd);
	close(xvs_dp.learn_efd);
	{
		char rundir[512];

		snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		remove_dir(rundir);
	}
	XVS_INFO("main", "stopped");
	return 0;
}

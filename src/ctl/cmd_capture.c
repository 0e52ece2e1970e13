/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture to pcapng (control thread): the capture.* RPC methods and
 * the file writer.
 *
 * capture.start opens the file, writes its section and interface blocks,
 * makes the capture's pool and per-worker rings (src/dp/stages/capture.h)
 * and enables the capture stage on the port. Workers copy frames into the
 * rings with rte_pcapng_copy; xvsd_capture_poll(), run by the control loop
 * every XVS_CAPTURE_POLL_MS while a capture runs, drains them into the file.
 * A size limit (bytes of file) or a packet count stops the capture cleanly:
 * the last block written is whole, the stage is switched off, the file
 * closed. Captures are runtime state only, not stored: they end with xvsd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "log.h"
#include "params.h"
#include "pipeline.h"
#include "stages/capture.h"
#include "xvsd.h"

#define LIMIT_MIN 1024u /* bytes: room for the headers and a few frames */

/* One capture and its file. Owned by the control thread. */
struct capture_file {
	bool used;
	bool running;                /* the stage copies for it */
	char port[XVS_NAME_MAX + 1];
	uint16_t slot;
	char path[PATH_MAX];
	int fd;                      /* -1 once closed */
	uint8_t dirs;                /* XVS_EXT_INGRESS / XVS_EXT_EGRESS */
	uint64_t limit;              /* file bytes; 0: none */
	uint64_t count;              /* packets; 0: none */
	uint64_t bytes;              /* file size so far */
	uint64_t packets;            /* packets written */
	uint64_t not_written;        /* copies discarded after a limit or an error */
	struct xvs_capture_worker ctr; /* workers' counters, kept at stop */
	char stopped[96];            /* why it stopped; "" while running */
	time_t started;
	struct xvs_capture *cap;
};

static struct capture_file files[XVS_CAPTURE_MAX];

/* ---- pcapng blocks (draft-ietf-opsawg-pcapng) ----
 * DPDK 22.11's rte_pcapng_fdopen writes one interface block for every ethdev
 * (named "dpdk:N" or by kernel index) and has no rte_pcapng_add_interface
 * (23.11); xvs ports are not all ethdevs (a tap is not), and a file should
 * describe the one port it captures, by its xvs name. So the section header
 * and the interface block are written here; the packet blocks are
 * rte_pcapng_copy's. */

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_MAGIC 0x1A2B3C4Du
#define OPT_END 0
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define LINKTYPE_ETHERNET 1

struct blk {
	uint8_t b[512];
	size_t len;
};

static void
put(struct blk *k, const void *v, size_t n)
{
	if (n == 0)
		return; /* opt_endofopt has no value: v may be NULL */
	memcpy(k->b + k->len, v, n);
	k->len += n;
}

static void
put32(struct blk *k, uint32_t v)
{
	put(k, &v, 4);
}

static void
put_opt(struct blk *k, uint16_t code, const void *v, uint16_t n)
{
	static const uint8_t zero[4];

	put(k, &code, 2);
	put(k, &n, 2);
	put(k, v, n);
	put(k, zero, (4 - n % 4) % 4);
}

/* Finish a block: end of options, total length at both ends. */
static void
blk_end(struct blk *k)
{
	uint32_t total;

	put_opt(k, OPT_END, NULL, 0);
	total = (uint32_t)k->len + 4;
	memcpy(k->b + 4, &total, 4);
	put32(k, total);
}

static int
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int
write_headers(struct capture_file *f, const struct xvs_port *p)
{
	static const char app[] = "xvsd (xvs virtual switch)";
	struct blk shb = {.len = 0}, idb = {.len = 0};
	uint16_t major = 1, minor = 0;
	int64_t section_len = -1;
	uint8_t tsresol = 9; /* rte_pcapng_copy stamps nanoseconds */
	char descr[96];
	struct iovec iov[2];

	put32(&shb, PCAPNG_SHB);
	put32(&shb, 0);
	put32(&shb, PCAPNG_MAGIC);
	put(&shb, &major, 2);
	put(&shb, &minor, 2);
	put(&shb, &section_len, 8);
	put_opt(&shb, SHB_USERAPPL, app, sizeof(app) - 1);
	blk_end(&shb);

	put32(&idb, PCAPNG_IDB);
	put32(&idb, 0);
	put32(&idb, LINKTYPE_ETHERNET); /* link type, then 2 reserved bytes */
	put32(&idb, XVS_CAPTURE_SNAPLEN);
	put_opt(&idb, IF_NAME, p->cfg.name, (uint16_t)strlen(p->cfg.name));
	snprintf(descr, sizeof(descr), "xvs port %s (%s)", p->cfg.name,
		 xvs_port_kind_name(p->cfg.kind));
	put_opt(&idb, IF_DESCRIPTION, descr, (uint16_t)strlen(descr));
	put_opt(&idb, IF_TSRESOL, &tsresol, 1);
	blk_end(&idb);

	iov[0] = (struct iovec){shb.b, shb.len};
	iov[1] = (struct iovec){idb.b, idb.len};
	f->bytes = shb.len + idb.len;
	return write_all(f->fd, iov, 2);
}

/* ---- draining ---- */

#define DRAIN_BURST 64

/* Write what the rings hold, within the limits. Returns true when a limit
 * was reached or the file failed (reason in f->stopped, then the caller
 * stops the capture). */
static bool
drain(struct capture_file *f)
{
	struct rte_mbuf *pkts[DRAIN_BURST];
	struct iovec iov[DRAIN_BURST];
	bool done = f->stopped[0] != '\0';

	for (uint16_t w = 0; w < f->cap->n_workers; w++) {
		unsigned n;

		while ((n = rte_ring_sc_dequeue_burst(f->cap->ring[w], (void **)pkts, DRAIN_BURST,
						      NULL)) > 0) {
			unsigned k = 0;
			uint64_t bytes = 0;
			int r;

			for (; k < n && !done; k++) {
				uint32_t *epb = rte_pktmbuf_mtod(pkts[k], uint32_t *);
				uint32_t len = rte_pktmbuf_data_len(pkts[k]);

				if (f->count != 0 && f->packets + k >= f->count) {
					snprintf(f->stopped, sizeof(f->stopped), "count reached");
					done = true;
					break;
				}
				if (f->limit != 0 && f->bytes + bytes + len > f->limit) {
					snprintf(f->stopped, sizeof(f->stopped),
						 "size limit reached");
					done = true;
					break;
				}
				epb[2] = 0; /* interface id: the file's one interface */
				iov[k] = (struct iovec){epb, len};
				bytes += len;
			}
			if (k > 0) {
				r = write_all(f->fd, iov, (int)k);
				if (r < 0) {
					snprintf(f->stopped, sizeof(f->stopped), "write failed: %s",
						 strerror(-r));
					XVS_WARN("capture", "%s: %s: %s", f->port, f->path,
						 f->stopped);
					done = true;
					f->not_written += k;
				} else {
					f->packets += k;
					f->bytes += bytes;
				}
			}
			/* the count is exact: stop now, not at the next frame */
			if (!done && f->count != 0 && f->packets >= f->count) {
				snprintf(f->stopped, sizeof(f->stopped), "count reached");
				done = true;
			}
			f->not_written += n - k;
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
	return done;
}

/* ---- start and stop ---- */

static struct xvs_stage *
stage(void)
{
	return xvs_stage_find(xvs_capture_desc.name);
}

/* Switch the stage on the port on (for f) or off. */
static int
stage_set(struct capture_file *f, bool on, struct xvs_err *err)
{
	struct xvs_stage *st = stage();
	char id[12];
	struct xvs_ext_kv kv = {"id", id};
	int r;

	if (st == NULL)
		return xvs_err_set(err, -ENOTSUP, "capture: the capture stage is not registered");
	snprintf(id, sizeof(id), "%u", (unsigned)(f - files));
	r = xvs_stage_configure(st, f->slot, &kv, on ? 1 : 0, true, err);
	if (r == 0)
		r = xvs_stage_port_enable(st, f->slot, f->port, on, err);
	return r;
}

static void
close_file(struct capture_file *f)
{
	xvs_capture_counters(f->cap, &f->ctr);
	xvs_capture_destroy(f->cap);
	f->cap = NULL;
	if (f->fd >= 0 && close(f->fd) < 0 && f->stopped[0] == '\0')
		snprintf(f->stopped, sizeof(f->stopped), "close failed: %s", strerror(errno));
	f->fd = -1;
}

/* Stop f: the stage leaves the port, then (no worker can see the capture
 * after the publish) the rings are drained a last time and the file closed. */
static int
capture_stop(struct capture_file *f, const char *why, struct xvs_err *err)
{
	struct xvs_err e;
	int r;

	/* A deleted port's slot may refuse: publishing is what matters. */
	if (stage_set(f, false, &e) < 0)
		XVS_DEBUG("capture", "%s: %s", f->port, e.msg);
	r = xvsd_publish();
	if (r < 0) {
		/* still in the snapshot: keeps copying, try again later */
		stage_set(f, true, &e);
		return xvs_err_set(err, r, "capture on %s: cannot stop now (%s); try again",
				   f->port, strerror(-r));
	}
	f->running = false;
	drain(f);
	if (f->stopped[0] == '\0')
		snprintf(f->stopped, sizeof(f->stopped), "%s", why);
	close_file(f);
	XVS_INFO("capture", "%s: stopped (%s): %s, %llu packets, %llu bytes, %llu dropped",
		 f->port, f->stopped, f->path, (unsigned long long)f->packets,
		 (unsigned long long)f->bytes,
		 (unsigned long long)(f->ctr.drop_full + f->ctr.drop_nombuf + f->not_written));
	return 0;
}

static struct capture_file *
capture_of(const char *port)
{
	for (unsigned i = 0; i < XVS_CAPTURE_MAX; i++)
		if (files[i].used && strcmp(files[i].port, port) == 0)
			return &files[i];
	return NULL;
}

static json_t *
capture_json(const struct capture_file *f)
{
	struct xvs_capture_worker c = f->ctr;

	if (f->cap != NULL)
		xvs_capture_counters(f->cap, &c);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "port", f->port,
			 "file", f->path, "dir",
			 f->dirs == XVS_EXT_INGRESS ? "in" : f->dirs == XVS_EXT_EGRESS ? "out" :
			 "both", "state", f->running ? "running" : "stopped", "reason", f->stopped,
			 "packets", (json_int_t)f->packets, "bytes", (json_int_t)f->bytes,
			 "captured", (json_int_t)c.copied, "drops",
			 (json_int_t)(c.drop_full + c.drop_nombuf + f->not_written), "drops_ring_full",
			 (json_int_t)c.drop_full, "drops_no_buffer", (json_int_t)c.drop_nombuf,
			 "limit", (json_int_t)f->limit, "count", (json_int_t)f->count);
}

/* "1000", "64k", "10M", "1G" (powers of 1024). */
static int
parse_size(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || end == v)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': x <<= 10; end++; break;
	case 'm': case 'M': x <<= 20; end++; break;
	case 'g': case 'G': x <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0')
		return -EINVAL;
	*out = x;
	return 0;
}

/* An absolute path in a writable directory, not another capture's file. */
static int
path_check(const char *path, struct xvs_err *err)
{
	char dir[PATH_MAX];
	struct stat sb;
	char *slash;

	if (path[0] != '/')
		return xvs_err_set(err, -EINVAL, "capture file \"%s\": give an absolute path "
				   "(xvsd does not share the client's working directory)", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash[1] == '\0')
		return xvs_err_set(err, -EINVAL, "capture file \"%s\": names a directory, not a "
				   "file", path);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return xvs_err_set(err, -ENOENT, "capture file %s: directory %s does not exist",
				   path, dir);
	if (access(dir, W_OK | X_OK) < 0)
		return xvs_err_set(err, -EPERM, "capture file %s: directory %s is not writable "
				   "(%s)", path, dir, strerror(errno));
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return xvs_err_set(err, -EINVAL, "capture file %s: exists and is not a regular "
				   "file", path);
	for (unsigned i = 0; i < XVS_CAPTURE_MAX; i++)
		if (files[i].used && files[i].running && strcmp(files[i].path, path) == 0)
			return xvs_err_set(err, -EBUSY, "capture file %s: the capture on %s writes "
					   "it", path, files[i].port);
	return 0;
}

/* {port, file, options: {dir, limit, count}} */
static int
m_capture_start(json_t *params, json_t **result, struct xvs_err *err)
{
	char port[XVS_PARAM_NAME_LEN], path[PATH_MAX], buf[64];
	json_t *opts = json_object_get(params, "options"), *v;
	struct capture_file nf = {.fd = -1, .dirs = XVS_EXT_BOTH}, *f = NULL;
	const struct xvs_port *p;
	const char *key;
	int r;

	if ((r = xvs_param_str(params, "port", true, port, sizeof(port), err)) < 0 ||
	    (r = xvs_param_str(params, "file", true, path, sizeof(path), err)) < 0)
		return r;
	p = xvsd_port_find(port);
	if (p == NULL)
		return xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port list)",
				   port);
	if (opts != NULL && !json_is_object(opts))
		return xvs_err_set(err, -EINVAL, "capture: options must be an object");
	json_object_foreach(opts, key, v) {
		if ((r = xvs_param_value(key, v, buf, sizeof(buf), err)) < 0)
			return r;
		if (strcmp(key, "dir") == 0) {
			nf.dirs = strcmp(buf, "in") == 0 ? XVS_EXT_INGRESS :
				  strcmp(buf, "out") == 0 ? XVS_EXT_EGRESS :
				  strcmp(buf, "both") == 0 ? XVS_EXT_BOTH : 0;
			if (nf.dirs == 0)
				return xvs_err_set(err, -EINVAL, "capture: dir \"%s\": must be in, "
						   "out or both", buf);
		} else if (strcmp(key, "limit") == 0) {
			if (parse_size(buf, &nf.limit) < 0 || nf.limit < LIMIT_MIN)
				return xvs_err_set(err, -EINVAL, "capture: limit \"%s\": must be a "
						   "size of at least %u bytes (suffix k, M or G "
						   "allowed)", buf, LIMIT_MIN);
		} else if (strcmp(key, "count") == 0) {
			if (parse_size(buf, &nf.count) < 0 || nf.count == 0)
				return xvs_err_set(err, -EINVAL, "capture: count \"%s\": must be a "
						   "number of packets, at least 1", buf);
		} else {
			return xvs_err_set(err, -EINVAL, "capture: unknown option \"%s\" (dir, "
					   "limit, count)", key);
		}
	}
	f = capture_of(port);
	if (f != NULL && f->running)
		return xvs_err_set(err, -EBUSY, "port %s: already captured to %s (xvsctl capture "
				   "stop %s first)", port, f->path, port);
	if ((r = path_check(path, err)) < 0)
		return r;
	if (f == NULL) {
		for (unsigned i = 0; i < XVS_CAPTURE_MAX && f == NULL; i++)
			if (!files[i].used)
				f = &files[i];
		for (unsigned i = 0; i < XVS_CAPTURE_MAX && f == NULL; i++)
			if (!files[i].running)
				f = &files[i]; /* forget the oldest finished one */
	}
	if (f == NULL)
		return xvs_err_set(err, -ENOSPC, "capture: %d captures already run",
				   XVS_CAPTURE_MAX);
	snprintf(nf.port, sizeof(nf.port), "%.*s", XVS_NAME_MAX, port);
	snprintf(nf.path, sizeof(nf.path), "%s", path);
	nf.slot = p->slot;
	nf.started = time(NULL);
	nf.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (nf.fd < 0) {
		int e = errno;

		return xvs_err_set(err, e == EACCES ? -EPERM : -e, "capture file %s: %s", path,
				   strerror(e));
	}
	if ((r = write_headers(&nf, p)) < 0) {
		xvs_err_set(err, -EIO, "capture file %s: %s", path, strerror(-r));
		goto close;
	}
	r = xvs_capture_create((unsigned)(f - files), p->slot, nf.dirs, xvs_dp.n_workers_max,
			       &nf.cap);
	if (r < 0) {
		xvs_err_set(err, r, "capture on %s: no memory for its buffers", port);
		goto close;
	}
	nf.used = true;
	nf.running = true;
	*f = nf;
	if ((r = stage_set(f, true, err)) < 0 || (r = xvsd_publish_err(err)) < 0) {
		struct xvs_err e;

		stage_set(f, false, &e);
		xvs_capture_destroy(f->cap);
		memset(f, 0, sizeof(*f));
		f->fd = -1;
		goto close;
	}
	*result = capture_json(f);
	XVS_INFO("capture", "%s: capturing (dir %s) to %s", port,
		 json_string_value(json_object_get(*result, "dir")), path);
	return 0;
close:
	close(nf.fd);
	unlink(path);
	return r;
}

static int
m_capture_stop(json_t *params, json_t **result, struct xvs_err *err)
{
	char port[XVS_PARAM_NAME_LEN];
	struct capture_file *f;
	int r;

	if ((r = xvs_param_str(params, "port", true, port, sizeof(port), err)) < 0)
		return r;
	f = capture_of(port);
	if (f == NULL || !f->running) {
		if (xvsd_port_find(port) == NULL && f == NULL)
			return xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port "
					   "list)", port);
		if (f != NULL)
			return xvs_err_set(err, -ENOENT, "port %s: no capture running (the last "
					   "one stopped: %s)", port, f->stopped);
		return xvs_err_set(err, -ENOENT, "port %s: no capture running", port);
	}
	r = capture_stop(f, "stopped", err);
	if (r < 0)
		return r;
	*result = capture_json(f);
	return 0;
}

static int
m_capture_show(json_t *params, json_t **result, struct xvs_err *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (unsigned i = 0; i < XVS_CAPTURE_MAX; i++)
		if (files[i].used)
			json_array_append_new(a, capture_json(&files[i]));
	*result = json_pack("{s:o}", "captures", a);
	return 0;
}

int
xvsd_capture_poll_ms(void)
{
	for (unsigned i = 0; i < XVS_CAPTURE_MAX; i++)
		if (files[i].running)
			return XVS_CAPTURE_POLL_MS;
	return -1;
}

void
xvsd_capture_poll(void)
{
	for (unsigned i = 0; i < XVS_CAPTURE_MAX; i++) {
		struct capture_file *f = &files[i];
		const struct xvs_port *p;
		struct xvs_err e;

		if (!f->running)
			continue;
		p = xvsd.port[f->slot];
		if (p == NULL || strcmp(p->cfg.name, f->port) != 0) {
			snprintf(f->stopped, sizeof(f->stopped), "port deleted");
			capture_stop(f, f->stopped, &e);
			continue;
		}
		if (drain(f) && capture_stop(f, f->stopped, &e) < 0)
			XVS_DEBUG("capture", "%s", e.msg); /* tried again next poll */
	}
}

void
xvsd_capture_shutdown(void)
{
	/* Workers have stopped: drain and close without a publish. */
	for (unsigned i = 0; i < XVS_CAPTURE_MAX; i++) {
		struct capture_file *f = &files[i];

		if (!f->running)
			continue;
		f->running = false;
		drain(f);
		if (f->stopped[0] == '\0')
			snprintf(f->stopped, sizeof(f->stopped), "xvsd stopped");
		close_file(f);
	}
}

const struct xvsd_method xvsd_capture_methods[] = {
	{"capture.start", m_capture_start,
	 "{port, file, options: {dir: in|out|both, limit: BYTES, count: PACKETS}}: capture a "
	 "port's frames to a pcapng file (not stored: ends with xvsd)"},
	{"capture.stop", m_capture_stop, "{port}: stop the port's capture and close its file"},
	{"capture.show", m_capture_show, "captures, running and finished, with their counters"},
	{NULL, NULL, NULL},
};

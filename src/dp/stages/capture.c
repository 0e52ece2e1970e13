/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet capture stage (datapath, built-in); see capture.h. */
#define ALLOW_EXPERIMENTAL_API 1 /* rte_pcapng is experimental in DPDK 22.11 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_time.h>

#include "capture.h"

/* Captures by id, so that a stage setting ("id=N") names one. Control thread. */
static struct xvs_capture *captures[XVS_CAPTURE_MAX];

enum { CTR_CAPTURED, CTR_DROPS };
static const char *const capture_counters[] = {"captured", "capture_drops", NULL};

int
xvs_capture_create(unsigned id, uint16_t slot, uint8_t dirs, uint16_t n_workers,
		   struct xvs_capture **out)
{
	struct xvs_capture *c;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (id >= XVS_CAPTURE_MAX || n_workers > XVS_MAX_WORKERS)
		return -EINVAL;
	if (captures[id] != NULL)
		return -EEXIST;
	c = rte_zmalloc("xvs_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL)
		return -ENOMEM;
	c->slot = slot;
	c->dirs = dirs;
	c->n_workers = n_workers;
	{
		struct timespec ts;

		c->base_tsc = rte_get_tsc_cycles();
		clock_gettime(CLOCK_REALTIME, &ts);
		c->base_ns = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
	}
	/* One mbuf per copy, never a chain: the pcapng block of a copy must be
	 * one segment (rte_pcapng_mbuf_size, as dpdk-dumpcap sizes its pool). */
	snprintf(name, sizeof(name), "xvs_cap%u", id);
	c->pool = rte_pktmbuf_pool_create(name, (unsigned)n_workers * XVS_CAPTURE_RING + 255, 32,
					  0, (uint16_t)rte_pcapng_mbuf_size(XVS_CAPTURE_SNAPLEN),
					  (int)rte_socket_id());
	if (c->pool == NULL)
		goto fail;
	for (uint16_t w = 0; w < n_workers; w++) {
		snprintf(name, sizeof(name), "xvs_cap%u_%u", id, w);
		c->ring[w] = rte_ring_create(name, XVS_CAPTURE_RING, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (c->ring[w] == NULL)
			goto fail;
	}
	captures[id] = c;
	*out = c;
	return 0;
fail:
	xvs_capture_destroy(c);
	return -ENOMEM;
}

void
xvs_capture_destroy(struct xvs_capture *c)
{
	if (c == NULL)
		return;
	for (unsigned id = 0; id < XVS_CAPTURE_MAX; id++)
		if (captures[id] == c)
			captures[id] = NULL;
	for (uint16_t w = 0; w < XVS_MAX_WORKERS; w++) {
		void *m;

		while (c->ring[w] != NULL && rte_ring_sc_dequeue(c->ring[w], &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(c->ring[w]);
	}
	rte_mempool_free(c->pool);
	rte_free(c);
}

void
xvs_capture_counters(const struct xvs_capture *c, struct xvs_capture_worker *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (uint16_t w = 0; w < XVS_MAX_WORKERS; w++) {
		sum->copied += c->ctr[w].copied;
		sum->drop_full += c->ctr[w].drop_full;
		sum->drop_nombuf += c->ctr[w].drop_nombuf;
	}
}

/* Wall-clock nanoseconds of TSC value tsc. rte_pcapng_copy's own conversion
 * in DPDK 22.11 gave dates centuries ahead here (its cycles-to-ns product
 * overflows once the process has run a few seconds), so the packet block's
 * timestamp is set from the capture's base instead; whole seconds first, so
 * nothing overflows for any TSC below 18 GHz. */
static inline uint64_t
wall_ns(const struct xvs_capture *c, uint64_t tsc)
{
	uint64_t hz = rte_get_tsc_hz(), d = tsc - c->base_tsc;

	return c->base_ns + d / hz * NS_PER_S + d % hz * NS_PER_S / hz;
}

static void
capture_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	const struct xvs_capture *c = b->state;
	struct xvs_capture_worker *cw;
	struct rte_mbuf *copy[XVS_EXT_BURST_MAX];
	enum rte_pcapng_direction dir;
	unsigned n = 0, sent;
	uint64_t tsc, ns;

	(void)ctx; /* a capture stage leaves every verdict PASS */
	(void)verdict;
	(void)reason;
	if (c == NULL || !(c->dirs & b->place) || unlikely(b->worker >= c->n_workers))
		return;
	cw = (struct xvs_capture_worker *)&c->ctr[b->worker];
	dir = b->place == XVS_EXT_INGRESS ? RTE_PCAPNG_DIRECTION_IN : RTE_PCAPNG_DIRECTION_OUT;
	tsc = rte_get_tsc_cycles();
	ns = wall_ns(c, tsc);
	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = rte_pcapng_copy(c->slot, 0, b->pkts[i], c->pool,
						     XVS_CAPTURE_SNAPLEN, tsc, dir);
		uint32_t *epb;

		if (unlikely(m == NULL)) {
			cw->drop_nombuf++;
			b->counters[CTR_DROPS]++;
			continue;
		}
		/* pcapng EPB: timestamp high and low words at bytes 12 and 16 */
		epb = rte_pktmbuf_mtod(m, uint32_t *);
		epb[3] = (uint32_t)(ns >> 32);
		epb[4] = (uint32_t)ns;
		copy[n++] = m;
	}
	if (n == 0)
		return;
	sent = rte_ring_sp_enqueue_burst(c->ring[b->worker], (void **)copy, n, NULL);
	cw->copied += sent;
	b->counters[CTR_CAPTURED] += sent;
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(copy + sent, n - sent);
		cw->drop_full += n - sent;
		b->counters[CTR_DROPS] += n - sent;
	}
}

/* "id=N" names the capture of the port; nothing: no capture. */
static int
parse_id(const struct xvs_ext_kv *kv, unsigned n, struct xvs_capture **c, char *err,
	 size_t err_len)
{
	unsigned long id;
	char *end;

	*c = NULL;
	if (n == 0)
		return 0;
	if (n != 1 || strcmp(kv[0].key, "id") != 0) {
		snprintf(err, err_len, "capture takes one setting, id (use xvsctl capture start)");
		return -EINVAL;
	}
	id = strtoul(kv[0].value, &end, 10);
	if (end == kv[0].value || *end != '\0' || id >= XVS_CAPTURE_MAX || captures[id] == NULL) {
		snprintf(err, err_len, "id %s: no such capture (use xvsctl capture start)",
			 kv[0].value);
		return -EINVAL;
	}
	*c = captures[id];
	return 0;
}

static int
capture_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
		 size_t err_len)
{
	struct xvs_capture *c;

	(void)ctx;
	if (port == XVS_EXT_PORT_NONE && n > 0) {
		snprintf(err, err_len, "capture has no switch-wide settings");
		return -EINVAL;
	}
	return parse_id(kv, n, &c, err, err_len);
}

/* The state is the capture itself, owned by cmd_capture.c, which frees it
 * only after the port's state was replaced and a grace period passed. */
static int
capture_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
	      char *err, size_t err_len)
{
	struct xvs_capture *c;
	int r = parse_id(kv, n, &c, err, err_len);

	(void)ctx;
	(void)port;
	*state = c;
	return r;
}

static void
capture_state_free(void *ctx, void *state)
{
	(void)ctx;
	(void)state; /* see capture_apply */
}

static const struct xvs_ext_ops capture_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.process = capture_process,
	.config_validate = capture_validate,
	.config_apply = capture_apply,
	.state_free = capture_state_free,
};

const struct xvs_ext_desc xvs_capture_desc = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "capture",
	.description = "packet capture to pcapng (xvsctl capture)",
	.kind = XVS_EXT_CAPTURE,
	.places = XVS_EXT_BOTH,
	.counters = capture_counters,
	.ops = &capture_ops,
};

/* SPDX-License-Identifier: BSD-3-Clause */
/* Port mirroring stage (datapath, built-in); see mirror.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "mirror.h"

/* Where one direction's copies go. */
struct mirror_to {
	uint16_t dst;   /* destination port slot */
	uint16_t sess;  /* session id: selects the counters */
};

/* A source port's state; immutable once published. */
struct mirror_state {
	uint8_t n[2];                                 /* [0] ingress, [1] egress */
	struct mirror_to to[2][XVS_MIRROR_PER_PORT];
};

/* Written by one worker each. */
struct mirror_worker {
	struct xvs_mirror_counters sess[XVS_MIRROR_MAX];
} __rte_cache_aligned;

struct mirror_ctx {
	struct mirror_worker w[XVS_MAX_WORKERS];
};

enum { CTR_MIRRORED, CTR_DROPS };
static const char *const mirror_counters[] = {"mirrored", "mirror_drops", NULL};

/* The one instance (built-in), for the control thread's counter reads. */
static struct mirror_ctx *mirror_the_ctx;

static int
mirror_init(const struct xvs_ext_host *host, void **ctx)
{
	struct mirror_ctx *c = rte_zmalloc("xvs_mirror", sizeof(*c), RTE_CACHE_LINE_SIZE);

	(void)host;
	if (c == NULL)
		return -ENOMEM;
	mirror_the_ctx = c;
	*ctx = c;
	return 0;
}

static void
mirror_fini(void *ctx)
{
	if (mirror_the_ctx == ctx)
		mirror_the_ctx = NULL;
	rte_free(ctx);
}

void
xvs_mirror_session_counters(unsigned id, struct xvs_mirror_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (mirror_the_ctx == NULL || id >= XVS_MIRROR_MAX)
		return;
	for (unsigned w = 0; w < XVS_MAX_WORKERS; w++) {
		const struct xvs_mirror_counters *c = &mirror_the_ctx->w[w].sess[id];

		out->packets += c->packets;
		out->bytes += c->bytes;
		out->drops += c->drops;
	}
}

/* A copy of m towards port dst on worker w's emit queue.
 *
 * Why not b->emit: it copies the bytes of one segment of at most 2 KB and
 * drops the frame's offload requests, and a VM's TCP stream reaches the
 * switch from its tap as 64 KB TSO frames (a test measured 34510 of them lost
 * in 2 s of iperf3). rte_pktmbuf_copy keeps the offload requests and the
 * packet metadata; the emit queue's flush then hands the copy to the
 * destination's transmit path like any emitted frame (which segments it in
 * software for a port that needs that). Built-in stages may do this; the ABI
 * keeps emit for extensions. */
static inline int
mirror_copy(struct xvs_worker *w, uint16_t dst, const struct rte_mbuf *m)
{
	struct xvs_emitq *q = &w->emitq;
	struct rte_mbuf *c;

	if (unlikely(q->n >= XVS_EMIT_MAX))
		return -ENOBUFS;
	/* the flood pools: a storm of mirrored frames cannot empty the rx pools */
	c = rte_pktmbuf_copy(m, likely(m->pkt_len <= RTE_MBUF_DEFAULT_DATAROOM) ?
				xvs_dp.flood_pool : xvs_dp.flood_big_pool, 0, UINT32_MAX);
	if (unlikely(c == NULL))
		return -ENOBUFS;
	/* the metadata lives in the private area, which the copy does not carry */
	*xvs_meta(c) = *xvs_meta((struct rte_mbuf *)(uintptr_t)m);
	xvs_meta(c)->dst = (struct xvs_dest){.kind = XVS_DEST_PORT, .id = dst};
	q->port[q->n] = dst;
	q->m[q->n++] = c;
	return 0;
}

static void
mirror_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	struct mirror_ctx *c = ctx;
	const struct mirror_state *st = b->state;
	unsigned d = b->place == XVS_EXT_INGRESS ? 0 : 1;
	struct xvs_mirror_counters *sc;
	struct xvs_worker *w;

	(void)verdict; /* a capture stage leaves every verdict PASS */
	(void)reason;
	if (st == NULL || st->n[d] == 0 || unlikely(b->worker >= XVS_MAX_WORKERS))
		return;
	w = xvs_dp.worker[b->worker];
	sc = c->w[b->worker].sess;
	for (uint16_t i = 0; i < b->n; i++) {
		const struct rte_mbuf *m = b->pkts[i];

		for (uint8_t k = 0; k < st->n[d]; k++) {
			struct xvs_mirror_counters *x = &sc[st->to[d][k].sess];

			if (likely(mirror_copy(w, st->to[d][k].dst, m) == 0)) {
				x->packets++;
				x->bytes += m->pkt_len;
				b->counters[CTR_MIRRORED]++;
			} else {
				x->drops++;
				b->counters[CTR_DROPS]++;
			}
		}
	}
}

/* "D:S,D:S" into to[], at most XVS_MIRROR_PER_PORT entries. Returns the count
 * or -1 with a message. */
static int
parse_list(const char *key, const char *v, struct mirror_to *to, char *err, size_t err_len)
{
	int n = 0;

	while (*v != '\0') {
		char *end;
		unsigned long dst = strtoul(v, &end, 10), sess;

		if (end == v || *end != ':')
			goto bad;
		v = end + 1;
		sess = strtoul(v, &end, 10);
		if (end == v || (*end != ',' && *end != '\0') || dst >= XVS_MAX_PORTS ||
		    sess >= XVS_MIRROR_MAX)
			goto bad;
		if (n == XVS_MIRROR_PER_PORT) {
			snprintf(err, err_len, "%s: more than %d destinations", key,
				 XVS_MIRROR_PER_PORT);
			return -1;
		}
		to[n].dst = (uint16_t)dst;
		to[n].sess = (uint16_t)sess;
		n++;
		if (*end == ',' && end[1] == '\0')
			goto bad;
		v = *end == ',' ? end + 1 : end;
	}
	return n;
bad:
	snprintf(err, err_len, "%s: expected PORT_SLOT:SESSION[,...], got \"%s\"", key, v);
	return -1;
}

static int
parse_state(const struct xvs_ext_kv *kv, unsigned n, struct mirror_state *st, char *err,
	    size_t err_len)
{
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < n; i++) {
		unsigned d;
		int k;

		if (strcmp(kv[i].key, "in") == 0) {
			d = 0;
		} else if (strcmp(kv[i].key, "out") == 0) {
			d = 1;
		} else {
			snprintf(err, err_len, "unknown setting \"%s\" (in, out)", kv[i].key);
			return -EINVAL;
		}
		k = parse_list(kv[i].key, kv[i].value, st->to[d], err, err_len);
		if (k < 0)
			return -EINVAL;
		st->n[d] = (uint8_t)k;
	}
	return 0;
}

static int
mirror_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
		size_t err_len)
{
	struct mirror_state st;

	(void)ctx;
	if (port == XVS_EXT_PORT_NONE && n > 0) {
		snprintf(err, err_len, "mirror has no switch-wide settings");
		return -EINVAL;
	}
	return parse_state(kv, n, &st, err, err_len);
}

static int
mirror_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
	     char *err, size_t err_len)
{
	struct mirror_state *st;
	int r;

	(void)ctx;
	(void)port;
	*state = NULL;
	if (n == 0)
		return 0; /* no session on this port: nothing to run */
	st = rte_zmalloc("xvs_mirror_state", sizeof(*st), RTE_CACHE_LINE_SIZE);
	if (st == NULL)
		return -ENOMEM;
	r = parse_state(kv, n, st, err, err_len);
	if (r < 0) {
		rte_free(st);
		return r;
	}
	*state = st;
	return 0;
}

static void
mirror_state_free(void *ctx, void *state)
{
	(void)ctx;
	rte_free(state);
}

static const struct xvs_ext_ops mirror_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.init = mirror_init,
	.fini = mirror_fini,
	.process = mirror_process,
	.config_validate = mirror_validate,
	.config_apply = mirror_apply,
	.state_free = mirror_state_free,
};

const struct xvs_ext_desc xvs_mirror_desc = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "mirror",
	.description = "port mirroring: copies a port's frames to another port",
	.kind = XVS_EXT_CAPTURE,
	.places = XVS_EXT_BOTH,
	.counters = mirror_counters,
	.ops = &mirror_ops,
};

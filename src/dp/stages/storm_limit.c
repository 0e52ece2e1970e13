/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_limit (datapath): broadcast + multicast + unknown-unicast frames a
 * port sends, in packets per second, with src/core/guard.h's token bucket;
 * the excess is dropped.
 *
 * Where it runs: as an ingress filter, looking the unicast destinations up in
 * the FDB itself (read-only, lock-free), rather than inside the forward stage
 * where a frame is flooded. That keeps it a stage like the others (ordered,
 * counted, enabled per port through the registry), costs nothing on ports
 * without a limit, and drops storm frames before the switch spends anything
 * on them: no learn requests and, above all, no flood copies, which are what
 * a storm costs. It costs no FDB lookup of its own: the forward stage looks
 * the unicast destinations of a port with storm_limit up before running
 * them and leaves the answer in the metadata flags (XVS_META_DST_*, dp.h);
 * only a frame without that answer is looked up here.
 *
 * Buckets: one per worker and port, in the stage's context, written only by
 * that worker; the port's rate is split evenly between the workers that run
 * its received frames (xvs_snap_port.n_rx_workers), as guard.h describes.
 *
 * Settings: pps=N (0 = no limit).
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dp.h"
#include "guard.h"
#include "stages.h"

struct storm_state {
	uint64_t pps; /* the port's limit */
};

struct storm_bucket {
	struct xvs_storm b;
	uint64_t share; /* rate b was set up with */
};

struct storm_worker {
	alignas(64) struct storm_bucket port[XVS_MAX_PORTS];
};

static void
storm_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	const struct storm_state *st = b->state;
	struct storm_worker *sw = ctx;
	const struct xvs_snapshot *s;
	struct storm_bucket *bk;
	uint8_t counted[XVS_EXT_BURST_MAX];
	uint32_t n_counted = 0, pass;
	uint64_t share;

	if (st == NULL || st->pps == 0 || b->port >= XVS_MAX_PORTS)
		return;
	/* A burst of known unicast only (the forward stage's answers, dp.h),
	 * the common case: nothing to count. */
	uint8_t all = 0xff;

	for (uint16_t i = 0; i < b->n; i++)
		all &= b->meta[i]->flags;
	if (all & XVS_META_DST_KNOWN)
		return;
	uint64_t last_key = UINT64_MAX;
	bool last_known = false;

	for (uint16_t i = 0; i < b->n; i++) {
		const uint8_t *dst = b->data[i];
		struct xvs_fdb_hit hit;
		uint64_t key;

		if ((dst[0] & 1) == 0) {
			uint8_t f = b->meta[i]->flags;

			/* The forward stage's own lookup, made before the
			 * ingress stages (dp.h). */
			if (f & XVS_META_DST_LOOKED) {
				if (f & XVS_META_DST_KNOWN)
					continue;
				counted[n_counted++] = (uint8_t)i;
				continue;
			}
			/* Not looked up (a test, a frame a stage modified): a
			 * burst is mostly a few flows, look each destination up
			 * once. */
			key = xvs_fdb_key_of(dst, b->meta[i]->vid);
			if (key != last_key) {
				last_key = key;
				last_known = xvs_fdb_lookup(xvs_dp.fdb, dst, b->meta[i]->vid, &hit);
			}
			if (last_known)
				continue;
		}
		counted[n_counted++] = (uint8_t)i;
	}
	if (n_counted == 0)
		return;
	/* The snapshot this burst runs under, or a newer one: only the worker
	 * count is read. */
	s = atomic_load_explicit(&xvs_dp.snap, memory_order_acquire);
	share = st->pps / (s->port[b->port].n_rx_workers > 1 ? s->port[b->port].n_rx_workers : 1);
	if (share == 0)
		share = 1;
	bk = &sw[b->worker % XVS_MAX_WORKERS].port[b->port];
	if (bk->share != share) {
		xvs_storm_init(&bk->b, share, b->now_ns, NULL);
		bk->share = share;
	}
	pass = xvs_storm_admit(&bk->b, b->now_ns, n_counted);
	for (uint32_t j = pass; j < n_counted; j++) {
		verdict[counted[j]] = XVS_VERDICT_DROP;
		reason[counted[j]] = 0;
	}
}

static int
storm_init(const struct xvs_ext_host *host, void **ctx)
{
	struct storm_worker *sw = aligned_alloc(64, sizeof(*sw) * XVS_MAX_WORKERS);

	if (sw == NULL)
		return -ENOMEM;
	memset(sw, 0, sizeof(*sw) * XVS_MAX_WORKERS);
	*ctx = sw;
	return 0;
}

static void
storm_fini(void *ctx)
{
	free(ctx);
}

static int
parse(const struct xvs_ext_kv *kv, unsigned n, uint64_t *pps, char *err, size_t err_len)
{
	struct xvs_err e;
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(kv[i].key, "pps") != 0) {
			snprintf(err, err_len, "unknown setting '%s' (pps)", kv[i].key);
			return -EINVAL;
		}
		if (xvs_u32_parse("pps", kv[i].value, 0, XVS_STORM_MAX_PPS, &v, &e) < 0) {
			snprintf(err, err_len, "%s", e.msg);
			return -EINVAL;
		}
	}
	*pps = v;
	return 0;
}

static int
storm_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
	       size_t err_len)
{
	uint64_t pps;

	return parse(kv, n, &pps, err, err_len);
}

static int
storm_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
	    char *err, size_t err_len)
{
	struct storm_state *st = malloc(sizeof(*st));
	int rc;

	if (st == NULL)
		return -ENOMEM;
	rc = parse(kv, n, &st->pps, err, err_len);
	if (rc < 0) {
		free(st);
		return rc;
	}
	*state = st;
	return 0;
}

static void
storm_free(void *ctx, void *state)
{
	free(state);
}

static const struct xvs_ext_ops storm_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.init = storm_init,
	.fini = storm_fini,
	.process = storm_process,
	.config_validate = storm_validate,
	.config_apply = storm_apply,
	.state_free = storm_free,
};

static const char *const storm_reasons[] = {"storm", NULL};

const struct xvs_ext_desc xvs_stage_storm_limit = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "storm_limit",
	.description = "limits the broadcast, multicast and unknown-unicast packets/s a port sends",
	.kind = XVS_EXT_FILTER,
	.places = XVS_EXT_INGRESS,
	.drop_reasons = storm_reasons,
	.ops = &storm_ops,
};

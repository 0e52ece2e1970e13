/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal third-party extension, built as a shared object against nothing
 * but <xvs/xvs_ext.h>, for test_ext_load.c. It counts IPv4 packets per burst
 * and drops frames shorter than 60 bytes. Built several times: as is, with
 * SAMPLE_ABI=2 (a future ABI version) and with SAMPLE_TAIL (a descriptor from
 * a newer header that sets a field this xvsd does not know); and for the
 * loader's refusals (test_ext_load.c): SAMPLE_NO_SYMBOL (no entry point),
 * SAMPLE_NULL (the entry point returns NULL), SAMPLE_SIZE (a size that lies),
 * SAMPLE_NAME / SAMPLE_BEFORE (bad names, an ordering cycle between two
 * objects), SAMPLE_INIT_FAIL (init fails).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <xvs/xvs_ext.h>

#ifndef SAMPLE_ABI
#define SAMPLE_ABI XVS_EXT_ABI_VERSION
#endif

enum { CNT_IPV4, CNT_BURSTS };
enum { DROP_RUNT };

static const char *const counters[] = {"ipv4", "bursts", NULL};
static const char *const drop_reasons[] = {"runt", NULL};
#ifndef SAMPLE_NAME
#define SAMPLE_NAME "sample"
#endif
#ifndef SAMPLE_BEFORE
#define SAMPLE_BEFORE "acl"
#endif

static const char *const runs_before[] = {SAMPLE_BEFORE, NULL};

static void
sample_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	uint16_t i;

	(void)ctx;
	b->counters[CNT_BURSTS]++;
	for (i = 0; i < b->n; i++) {
		if (b->meta[i]->l3 == 4)
			b->counters[CNT_IPV4]++;
		if (b->len[i] < 60) {
			verdict[i] = XVS_VERDICT_DROP;
			reason[i] = DROP_RUNT;
		}
	}
}

#ifdef SAMPLE_INIT_FAIL
static int
sample_init(const struct xvs_ext_host *host, void **ctx)
{
	(void)host;
	(void)ctx;
	return -EIO;
}
#endif

static const struct xvs_ext_ops sample_ops = {
	.size = sizeof(struct xvs_ext_ops),
#ifdef SAMPLE_INIT_FAIL
	.init = sample_init,
#endif
	.process = sample_process,
};

/* A descriptor as a newer header could lay it out: one more field. */
static const struct {
	struct xvs_ext_desc d;
	uint64_t newer_field;
} sample = {
	.d = {
		.abi_version = SAMPLE_ABI,
#if defined(SAMPLE_TAIL)
		.size = sizeof(sample),
#elif defined(SAMPLE_SIZE)
		.size = SAMPLE_SIZE,
#else
		.size = sizeof(struct xvs_ext_desc),
#endif
		.name = SAMPLE_NAME,
		.description = "counts IPv4, drops runts",
		.kind = XVS_EXT_FILTER,
		.places = XVS_EXT_INGRESS,
		.runs_before = runs_before,
		.counters = counters,
		.drop_reasons = drop_reasons,
		.ops = &sample_ops,
	},
#ifdef SAMPLE_TAIL
	.newer_field = 1,
#endif
};

#ifdef SAMPLE_NO_SYMBOL
#define xvs_ext_register xvs_ext_register_v0 /* a typo in the entry point's name */
const struct xvs_ext_desc *xvs_ext_register(uint32_t host_abi_version);
#endif

const struct xvs_ext_desc *
xvs_ext_register(uint32_t host_abi_version)
{
	(void)host_abi_version;
#ifdef SAMPLE_NULL
	(void)&sample;
	return NULL;
#else
	return &sample.d;
#endif
}

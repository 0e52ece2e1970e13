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
 * objects), SAMPLE_INIT_FAIL (init fails); and SAMPLE_CONFIG (settings whose
 * apply fails, ports it refuses) and SAMPLE_BAD_VERDICT (a capture extension
 * that gives verdicts it may not) for test_ext.py.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#ifdef SAMPLE_BAD_VERDICT
		verdict[i] = i % 2 ? XVS_VERDICT_DROP : 200; /* capture may only PASS */
		continue;
#endif
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

#ifdef SAMPLE_CONFIG
/* The host's services, kept by pointer as xvs_ext.h allows. */
static const struct xvs_ext_host *sample_host;

static int
sample_init(const struct xvs_ext_host *host, void **ctx)
{
	(void)ctx;
	sample_host = host;
	return 0;
}

/* mode=ok|fail: both valid; applying "fail" fails as if out of memory. */
static int
sample_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
		size_t err_len)
{
	(void)ctx;
	(void)port;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(kv[i].key, "mode") != 0 ||
		    (strcmp(kv[i].value, "ok") != 0 && strcmp(kv[i].value, "fail") != 0)) {
			snprintf(err, err_len, "%s: only mode=ok|fail", SAMPLE_NAME);
			return -EINVAL;
		}
	return 0;
}

static int
sample_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
	     char *err, size_t err_len)
{
	(void)ctx;
	(void)port;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(kv[i].value, "fail") == 0) {
			snprintf(err, err_len, "%s: mode=fail: no memory for the state",
				 SAMPLE_NAME);
			return -ENOMEM;
		}
	*state = malloc(1);
	return *state != NULL ? 0 : -ENOMEM;
}

static void
sample_state_free(void *ctx, void *state)
{
	(void)ctx;
	free(state);
}

/* Refuses ports whose name starts with "up" (as a guard refuses uplinks). */
static int
sample_port_enable(void *ctx, const struct xvs_ext_port *port, bool on, char *err,
		   size_t err_len)
{
	(void)ctx;
	sample_host->log(sample_host->host_ctx, 6 /* LOG_INFO */, "port %s %s", port->name,
			 on ? "on" : "off");
	if (on && strncmp(port->name, "up", 2) == 0) {
		snprintf(err, err_len, "%s: not on uplink %s", SAMPLE_NAME, port->name);
		return -EPERM;
	}
	return 0;
}
#endif

static const struct xvs_ext_ops sample_ops = {
	.size = sizeof(struct xvs_ext_ops),
#if defined(SAMPLE_INIT_FAIL) || defined(SAMPLE_CONFIG)
	.init = sample_init,
#endif
	.process = sample_process,
#ifdef SAMPLE_CONFIG
	.config_validate = sample_validate,
	.config_apply = sample_apply,
	.state_free = sample_state_free,
	.port_enable = sample_port_enable,
#endif
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
#ifdef SAMPLE_BAD_VERDICT
		.kind = XVS_EXT_CAPTURE,
#else
		.kind = XVS_EXT_FILTER,
#endif
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

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mac_spoof (datapath): MAC spoofing protection of a VM port, an ingress
 * filter over src/core/guard.c's struct xvs_mac_guard. Frames from a source
 * the port may not use are dropped before the forward stage, so they are
 * never learned either. Refused on uplinks.
 *
 * Settings (complete list per port, from src/ctl/guard.c):
 *   macs=M1,M2,...   the assigned MACs (may be empty with sticky)
 *   sticky=N         sources adopted from what the VM sends, 0-8
 *   learned=M1,...   the sticky sources adopted so far
 * Sticky: a frame from a new source with a free sticky slot passes and is
 * reported to the control thread through a one-entry mailbox per worker
 * (xvs_mac_spoof_take_sticky); the control thread adopts it and publishes a
 * new state. A busy mailbox just means the report comes with a later frame.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dp.h"
#include "guard.h"
#include "stages.h"

#define STICKY_VALID (UINT64_C(1) << 63)

/* One mailbox per worker, each on its own cache line: written by its worker
 * (when empty), emptied by the control thread. */
struct sticky_box {
	alignas(64) _Atomic uint64_t req; /* STICKY_VALID | port << 48 | mac */
};

static struct sticky_box boxes[XVS_MAX_WORKERS];

static inline bool
same_mac(const uint8_t *a, const uint8_t *b)
{
	uint32_t a0, b0;
	uint16_t a1, b1;

	memcpy(&a0, a, 4);
	memcpy(&b0, b, 4);
	memcpy(&a1, a + 4, 2);
	memcpy(&b1, b + 4, 2);
	return ((a0 ^ b0) | (uint32_t)(a1 ^ b1)) == 0;
}

static void
mac_spoof_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	const struct xvs_mac_guard *g = b->state;

	if (g == NULL)
		return; /* enabled but not configured yet: nothing to compare with */
	bool one = g->n_assigned + g->n_learned > 0;

	for (uint16_t i = 0; i < b->n; i++) {
		const uint8_t *src = b->data[i] + 6;
		struct sticky_box *box;
		uint64_t v;

		/* A VM mostly sends from its first MAC (checked usable when it was
		 * set or learned): two loads and a compare, no call. */
		if (one && same_mac(src, g->mac[0]))
			continue;
		switch (xvs_mac_guard_check(g, src)) {
		case XVS_MAC_ALLOW:
			break;
		case XVS_MAC_SPOOF:
			verdict[i] = XVS_VERDICT_DROP;
			reason[i] = 0;
			break;
		case XVS_MAC_LEARN:
			b->counters[0]++;
			box = &boxes[b->worker % XVS_MAX_WORKERS];
			if (atomic_load_explicit(&box->req, memory_order_relaxed) != 0)
				break;
			v = STICKY_VALID | (uint64_t)b->port << 48;
			for (int k = 0; k < 6; k++)
				v |= (uint64_t)src[k] << (8 * (5 - k));
			atomic_store_explicit(&box->req, v, memory_order_release);
			break;
		}
	}
}

bool
xvs_mac_spoof_take_sticky(uint16_t *port, uint8_t mac[6])
{
	for (unsigned w = 0; w < XVS_MAX_WORKERS; w++) {
		uint64_t v = atomic_exchange_explicit(&boxes[w].req, 0, memory_order_acquire);

		if (v == 0)
			continue;
		*port = (uint16_t)((v >> 48) & 0x7fff);
		for (int k = 0; k < 6; k++)
			mac[k] = (uint8_t)(v >> (8 * (5 - k)));
		return true;
	}
	return false;
}

/* Parse a comma-separated MAC list into macs[]; returns the count or -EINVAL. */
static int
parse_macs(const char *key, const char *s, uint8_t (*macs)[6], unsigned max, char *err,
	   size_t err_len)
{
	char buf[XVS_MAC_GUARD_MAX * 18 + 1], *tok, *save = NULL;
	struct xvs_err e;
	unsigned n = 0;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, err_len, "%s: at most %u MACs", key, max);
		return -EINVAL;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n >= max) {
			snprintf(err, err_len, "%s: at most %u MACs", key, max);
			return -EINVAL;
		}
		if (xvs_mac_parse(key, tok, macs[n], &e) < 0) {
			snprintf(err, err_len, "%s", e.msg);
			return -EINVAL;
		}
		n++;
	}
	return (int)n;
}

/* Build the guard of a settings list into g (validation and apply share it). */
static int
build(uint16_t port, const struct xvs_ext_kv *kv, unsigned n, struct xvs_mac_guard *g, char *err,
      size_t err_len)
{
	uint8_t macs[XVS_MAC_GUARD_MAX][6], learned[XVS_MAC_GUARD_MAX][6];
	int n_macs = 0, n_learned = 0;
	uint32_t sticky = 0;
	char name[16];
	struct xvs_err e;

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(kv[i].key, "macs") == 0) {
			n_macs = parse_macs("macs", kv[i].value, macs, XVS_MAC_GUARD_MAX, err,
					    err_len);
			if (n_macs < 0)
				return n_macs;
		} else if (strcmp(kv[i].key, "learned") == 0) {
			n_learned = parse_macs("learned", kv[i].value, learned, XVS_MAC_GUARD_MAX,
					       err, err_len);
			if (n_learned < 0)
				return n_learned;
		} else if (strcmp(kv[i].key, "sticky") == 0) {
			if (xvs_u32_parse("sticky", kv[i].value, 0, XVS_MAC_GUARD_MAX, &sticky,
					  &e) < 0) {
				snprintf(err, err_len, "%s", e.msg);
				return -EINVAL;
			}
		} else {
			snprintf(err, err_len, "unknown setting '%s' (macs, sticky, learned)",
				 kv[i].key);
			return -EINVAL;
		}
	}
	snprintf(name, sizeof(name), "%u", port);
	if (xvs_mac_guard_set(g, name, false, (const uint8_t(*)[6])macs, (unsigned)n_macs,
			      sticky, &e) < 0) {
		snprintf(err, err_len, "%s", e.msg);
		return e.code;
	}
	/* Adopted sources beyond the sticky slots (fewer slots now) are dropped. */
	for (int i = 0; i < n_learned; i++)
		(void)xvs_mac_guard_learn(g, learned[i]);
	return 0;
}

static int
mac_spoof_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
		   size_t err_len)
{
	struct xvs_mac_guard g;

	return build(port, kv, n, &g, err, err_len);
}

static int
mac_spoof_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
		char *err, size_t err_len)
{
	struct xvs_mac_guard *g = malloc(sizeof(*g));
	int rc;

	if (g == NULL)
		return -ENOMEM;
	rc = build(port, kv, n, g, err, err_len);
	if (rc < 0) {
		free(g);
		return rc;
	}
	*state = g;
	return 0;
}

static void
mac_spoof_free(void *ctx, void *state)
{
	free(state);
}

static int
mac_spoof_port_enable(void *ctx, const struct xvs_ext_port *port, bool on, char *err,
		      size_t err_len)
{
	if (on && (port->flags & XVS_EXT_PORT_UPLINK)) {
		snprintf(err, err_len,
			 "port %s: mac-spoof is for VM ports; an uplink carries many sources",
			 port->name);
		return -EPERM;
	}
	return 0;
}

static const struct xvs_ext_ops mac_spoof_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.process = mac_spoof_process,
	.config_validate = mac_spoof_validate,
	.config_apply = mac_spoof_apply,
	.state_free = mac_spoof_free,
	.port_enable = mac_spoof_port_enable,
};

static const char *const mac_spoof_counters[] = {"sticky_seen", NULL};
static const char *const mac_spoof_reasons[] = {"spoofed", NULL};
/* Spoofed frames should not use up another stage's budget (storm tokens). */
static const char *const mac_spoof_before[] = {"dhcp_guard", "router_guard", "storm_limit",
					       NULL};

const struct xvs_ext_desc xvs_stage_mac_spoof = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "mac_spoof",
	.description = "drops frames a VM port sends from a source MAC other than its own",
	.kind = XVS_EXT_FILTER,
	.places = XVS_EXT_INGRESS,
	.runs_before = mac_spoof_before,
	.counters = mac_spoof_counters,
	.drop_reasons = mac_spoof_reasons,
	.ops = &mac_spoof_ops,
};

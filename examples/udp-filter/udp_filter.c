/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_filter: an example third-party xvs extension, built out of tree against
 * the installed <xvs/xvs_ext.h> (see Makefile and doc/extensions.md).
 *
 * A filter on ingress: it drops UDP datagrams (IPv4 or IPv6, first fragment
 * or whole) to one destination port, and counts what it sees. Settings:
 *   dport=N    UDP destination port to drop, 1-65535 (no setting: drop nothing)
 * given for the whole extension ("xvsctl ext set udp_filter dport=53") or for
 * one port ("xvsctl ext set udp_filter port=vm1 dport=5201"), the port's own
 * winning. It shows the whole contract: a context from init, settings checked
 * without side effects and applied into an immutable per-port state, counters
 * and a named drop reason, and a process() that only reads packets and writes
 * verdicts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <xvs/xvs_ext.h>

enum { CNT_PACKETS, CNT_IPV4, CNT_IPV6, CNT_UDP };
enum { DROP_UDP_DPORT };

static const char *const counters[] = {"packets", "ipv4", "ipv6", "udp", NULL};
static const char *const drop_reasons[] = {"udp_dport", NULL};

/* The extension's context: the host's services, for logging (a copy: the
 * contract does not say *host outlives init). */
struct ctx {
	struct xvs_ext_host host;
};

/* A port's (or the global) settings, immutable once xvsd publishes it. */
struct state {
	uint16_t dport; /* UDP destination port to drop */
};

static int
uf_init(const struct xvs_ext_host *host, void **ctx)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	/* the part both sides know: an older xvsd has a smaller struct */
	memcpy(&c->host, host, host->size < sizeof(c->host) ? host->size : sizeof(c->host));
	*ctx = c;
	return 0;
}

static void
uf_fini(void *ctx)
{
	free(ctx);
}

/* The burst's packets that are UDP to the state's port are dropped. */
static void
uf_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	const struct state *st = b->state;
	uint64_t *cnt = b->counters;
	uint16_t i;

	(void)ctx;
	cnt[CNT_PACKETS] += b->n;
	for (i = 0; i < b->n; i++) {
		const struct xvs_pkt_meta *m = b->meta[i];
		const uint8_t *udp;

		cnt[CNT_IPV4] += m->l3 == 4;
		cnt[CNT_IPV6] += m->l3 == 6;
		if (m->l4_proto != 17 || !(m->flags & XVS_META_HAS_PORTS))
			continue;
		cnt[CNT_UDP]++;
		/* xvsd guarantees every header up to L4 in data[i]; check anyway */
		if (st == NULL || (uint32_t)m->l4_off + 4 > b->len[i])
			continue;
		udp = b->data[i] + m->l4_off;
		if (((uint16_t)udp[2] << 8 | udp[3]) == st->dport) {
			verdict[i] = XVS_VERDICT_DROP;
			reason[i] = DROP_UDP_DPORT;
		}
	}
}

/* dport=N, 1-65535; nothing else. Into *dport when not NULL. */
static int
parse(const struct xvs_ext_kv *kv, unsigned n, uint16_t *dport, char *err, size_t err_len)
{
	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long v;

		if (strcmp(kv[i].key, "dport") != 0) {
			snprintf(err, err_len,
				 "udp_filter: unknown setting \"%s\" (it takes dport)", kv[i].key);
			return -EINVAL;
		}
		errno = 0;
		v = strtoul(kv[i].value, &end, 10);
		if (errno != 0 || end == kv[i].value || *end != '\0' || v < 1 || v > 65535 ||
		    kv[i].value[0] == '-' || kv[i].value[0] == '+') {
			snprintf(err, err_len, "udp_filter: dport \"%s\": must be 1-65535",
				 kv[i].value);
			return -EINVAL;
		}
		if (dport != NULL)
			*dport = (uint16_t)v;
	}
	return 0;
}

static int
uf_config_validate(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, char *err,
		   size_t err_len)
{
	(void)ctx;
	(void)port;
	return parse(kv, n, NULL, err, err_len);
}

static int
uf_config_apply(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n, void **state,
		char *err, size_t err_len)
{
	struct state *s;
	uint16_t dport = 0;
	int r = parse(kv, n, &dport, err, err_len);

	(void)ctx;
	(void)port;
	if (r < 0)
		return r;
	if (dport == 0) { /* nothing to drop: no state */
		*state = NULL;
		return 0;
	}
	s = malloc(sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->dport = dport;
	*state = s;
	return 0;
}

static void
uf_state_free(void *ctx, void *state)
{
	(void)ctx;
	free(state);
}

static int
uf_port_enable(void *ctx, const struct xvs_ext_port *port, bool on, char *err, size_t err_len)
{
	struct ctx *c = ctx;

	(void)err;
	(void)err_len;
	if (c->host.log != NULL)
		c->host.log(c->host.host_ctx, LOG_INFO, "%s on port %s",
			    on ? "enabled" : "disabled", port->name);
	return 0;
}

static const struct xvs_ext_ops ops = {
	.size = sizeof(struct xvs_ext_ops),
	.init = uf_init,
	.fini = uf_fini,
	.process = uf_process,
	.config_validate = uf_config_validate,
	.config_apply = uf_config_apply,
	.state_free = uf_state_free,
	.port_enable = uf_port_enable,
};

static const struct xvs_ext_desc desc = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "udp_filter",
	.description = "drops UDP to a configured destination port; counts what it sees",
	.kind = XVS_EXT_FILTER,
	.places = XVS_EXT_INGRESS,
	.counters = counters,
	.drop_reasons = drop_reasons,
	.ops = &ops,
};

const struct xvs_ext_desc *
xvs_ext_register(uint32_t host_abi_version)
{
	/* built for this ABI only: say so instead of guessing */
	if (host_abi_version != XVS_EXT_ABI_VERSION)
		return NULL;
	return &desc;
}

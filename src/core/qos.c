/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QoS model, validation, classifier and scheduler arithmetic (see qos.h for
 * the semantics and why SCFQ + token buckets rather than rte_sched).
 * Hand-written: no DPDK library gives weighted work-conserving minimums with
 * caps (rte_sched's weights exist only inside its best-effort class), and the
 * core has no DPDK by design.
 */
#include <stdlib.h>
#include <string.h>

#include "pkt_parse.h"
#include "qos.h"

/* Virtual time per byte of a class of normalized weight w is VSCALE / w.
 * Weights are normalized so the largest is WNORM: the ratios of absolute
 * minimums (bit/s, up to 2^40) keep 20 bits of precision and inv_w stays
 * >= 2^25. A frame costs at most FRAME_MAX x VSCALE = 2^62 of virtual time,
 * so live tags are within 2^62 of vtime and wrap-aware comparison is safe. */
#define VSCALE (1ull << 45)
#define WNORM (1ull << 20)
#define FRAME_MAX (1u << 17)
#define TAG_AHEAD_MAX (1ull << 62)
#define NS_PER_S 1000000000ull

int
xvs_qos_mode_parse(const char *s, enum xvs_qos_mode *mode)
{
	if (strcmp(s, "none") == 0)
		*mode = XVS_QOS_MODE_NONE;
	else if (strcmp(s, "weight") == 0)
		*mode = XVS_QOS_MODE_WEIGHT;
	else if (strcmp(s, "absolute") == 0)
		*mode = XVS_QOS_MODE_ABSOLUTE;
	else
		return -EINVAL;
	return 0;
}

const char *
xvs_qos_mode_name(enum xvs_qos_mode mode)
{
	switch (mode) {
	case XVS_QOS_MODE_NONE:
		return "none";
	case XVS_QOS_MODE_WEIGHT:
		return "weight";
	case XVS_QOS_MODE_ABSOLUTE:
		return "absolute";
	}
	return "?";
}

static bool
has_min(const struct xvs_qos_class_cfg *c)
{
	return c->weight != 0 || c->min_bps != 0;
}

int
xvs_qos_validate(const struct xvs_qos_cfg *cfg, struct xvs_err *err)
{
	uint64_t sum_abs = 0, sum_w = 0;

	if (cfg->capacity_bps == 0)
		return xvs_err_set(err, -EINVAL, "qos: capacity must be > 0 bit/s");
	if (cfg->n_classes < 1 || cfg->n_classes > XVS_QOS_MAX_CLASSES)
		return xvs_err_set(err, -EINVAL, "qos: %u classes, must be 1-%u",
				   cfg->n_classes, XVS_QOS_MAX_CLASSES);
	for (uint32_t i = 0; i < cfg->n_classes; i++) {
		const struct xvs_qos_class_cfg *c = &cfg->cls[i];

		for (uint32_t j = 0; j < i; j++)
			if (strncmp(c->name, cfg->cls[j].name, XVS_QOS_NAME_LEN) == 0)
				return xvs_err_set(err, -EINVAL, "qos: class name '%.*s' used twice",
						   XVS_QOS_NAME_LEN, c->name);
		if (c->strict > 8)
			return xvs_err_set(err, -EINVAL, "qos class '%.*s': strict priority %u "
					   "outside 1-8", XVS_QOS_NAME_LEN, c->name, c->strict);
		if (c->strict != 0 && has_min(c))
			return xvs_err_set(err, -EINVAL, "qos class '%.*s': a strict priority "
					   "class has no minimum (it is served first)",
					   XVS_QOS_NAME_LEN, c->name);
		if (c->weight > XVS_QOS_WEIGHT_MAX)
			return xvs_err_set(err, -EINVAL, "qos class '%.*s': weight %u outside 0-%u",
					   XVS_QOS_NAME_LEN, c->name, c->weight,
					   XVS_QOS_WEIGHT_MAX);
		if (c->weight != 0 && c->min_bps != 0)
			return xvs_err_set(err, -EINVAL,
					   "qos class '%.*s': weight and absolute minimum both set "
					   "(they cannot be mixed)", XVS_QOS_NAME_LEN, c->name);
		if (cfg->mode == XVS_QOS_MODE_NONE && has_min(c))
			return xvs_err_set(err, -EINVAL,
					   "qos class '%.*s': minimum set but the bandwidth mode is none",
					   XVS_QOS_NAME_LEN, c->name);
		if (cfg->mode == XVS_QOS_MODE_WEIGHT && c->min_bps != 0)
			return xvs_err_set(err, -EINVAL,
					   "qos class '%.*s': absolute minimum in weight mode "
					   "(weights and absolutes cannot be mixed)",
					   XVS_QOS_NAME_LEN, c->name);
		if (cfg->mode == XVS_QOS_MODE_ABSOLUTE && c->weight != 0)
			return xvs_err_set(err, -EINVAL,
					   "qos class '%.*s': weight in absolute mode "
					   "(weights and absolutes cannot be mixed)",
					   XVS_QOS_NAME_LEN, c->name);
		if (c->max_bps != 0 && c->max_bps < c->min_bps)
			return xvs_err_set(err, -EINVAL,
					   "qos class '%.*s': cap %llu bit/s below its minimum %llu bit/s",
					   XVS_QOS_NAME_LEN, c->name,
					   (unsigned long long)c->max_bps,
					   (unsigned long long)c->min_bps);
		sum_abs += c->min_bps;
		sum_w += c->weight;
		if (sum_abs < c->min_bps || sum_abs > cfg->capacity_bps)
			return xvs_err_set(err, -EINVAL,
					   "qos: absolute minimums sum above the capacity %llu bit/s "
					   "(at class '%.*s')",
					   (unsigned long long)cfg->capacity_bps,
					   XVS_QOS_NAME_LEN, c->name);
	}
	/* In weight mode a cap below the class's share with every class
	 * backlogged would make its minimum a promise the cap breaks. */
	if (cfg->mode == XVS_QOS_MODE_WEIGHT && sum_w != 0) {
		for (uint32_t i = 0; i < cfg->n_classes; i++) {
			const struct xvs_qos_class_cfg *c = &cfg->cls[i];
			unsigned __int128 share = (unsigned __int128)cfg->capacity_bps *
						  c->weight / sum_w;

			if (c->max_bps != 0 && c->weight != 0 && c->max_bps < share)
				return xvs_err_set(err, -EINVAL,
						   "qos class '%.*s': cap %llu bit/s below its weight's "
						   "minimum %llu bit/s", XVS_QOS_NAME_LEN, c->name,
						   (unsigned long long)c->max_bps,
						   (unsigned long long)share);
		}
	}
	return 0;
}

int
xvs_qos_mode_change(const struct xvs_qos_cfg *cfg, enum xvs_qos_mode mode,
		    struct xvs_err *err)
{
	if (mode == cfg->mode)
		return 0;
	for (uint32_t i = 0; i < cfg->n_classes && i < XVS_QOS_MAX_CLASSES; i++)
		if (has_min(&cfg->cls[i]))
			return xvs_err_set(err, -EBUSY,
					   "qos: cannot change the bandwidth mode from %s to %s while "
					   "class '%.*s' has a minimum; remove the minimums first",
					   xvs_qos_mode_name(cfg->mode), xvs_qos_mode_name(mode),
					   XVS_QOS_NAME_LEN, cfg->cls[i].name);
	return 0;
}

int
xvs_qos_rate_parse(const char *what, const char *s, uint64_t *out, struct xvs_err *err)
{
	static const struct {
		char c;
		uint64_t mul;
	} suf[] = {{'k', 1000ull}, {'K', 1000ull}, {'m', 1000000ull}, {'M', 1000000ull},
		   {'g', 1000000000ull}, {'G', 1000000000ull}, {'t', 1000000000000ull},
		   {'T', 1000000000000ull}};
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (p == NULL || *p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > XVS_QOS_RATE_MAX)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0') {
		size_t i;

		for (i = 0; i < sizeof(suf) / sizeof(suf[0]); i++)
			if (*p == suf[i].c)
				break;
		if (i == sizeof(suf) / sizeof(suf[0]) || p[1] != '\0')
			goto bad;
		mul = suf[i].mul;
	}
	if (v > XVS_QOS_RATE_MAX / mul)
		goto bad;
	*out = v * mul;
	return 0;
bad:
	return xvs_err_set(err, -EINVAL, "%s: \"%.32s\" is not a bit rate (bit/s, with an "
			   "optional K, M, G or T suffix, at most %lluT)", what, s == NULL ? "" : s,
			   XVS_QOS_RATE_MAX / 1000000000000ull);
}

/* ---- Classifier. ---------------------------------------------------------- */

int
xvs_qos_match_validate(const struct xvs_qos_match *m, uint32_t n_classes,
		       struct xvs_err *err)
{
	bool ports = m->port_lo != 0 || m->port_hi != 0;

	if (m->cls >= n_classes)
		return xvs_err_set(err, -EINVAL, "qos match: class %u does not exist", m->cls);
	if (ports && m->port_lo > m->port_hi)
		return xvs_err_set(err, -EINVAL, "qos match: port range %u-%u is empty "
				   "(matches nothing)", m->port_lo, m->port_hi);
	/* The ports the datapath reads (pkt_parse.h): a rule on another
	 * protocol's ports (SCTP, DCCP, UDP-Lite) would match nothing. */
	if (ports && m->proto != 0 && !xvs_l4_proto_has_ports(m->proto))
		return xvs_err_set(err, -EINVAL, "qos match: ports of IP protocol %u are not "
				   "read, only those of tcp and udp (matches nothing)", m->proto);
	return 0;
}

/* "N" or "N-M" within 0..max into lo/hi. */
static int
range_parse(const char *t, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	char *end;
	unsigned long a, b;

	if (*t < '0' || *t > '9')
		return -1;
	a = strtoul(t, &end, 10);
	b = a;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return -1;
		b = strtoul(end + 1, &end, 10);
	}
	if (*end != '\0' || a > max || b > max)
		return -1;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

/* "N[,N...]" of values 0..max into a bit mask. */
static int
list_parse(const char *t, uint32_t max, uint64_t *mask)
{
	char buf[128], *save = NULL, *tok;

	if (strlen(t) >= sizeof(buf))
		return -1;
	strcpy(buf, t);
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint32_t lo, hi;

		if (range_parse(tok, max, &lo, &hi) < 0 || lo > hi)
			return -1;
		for (uint32_t v = lo; v <= hi; v++)
			*mask |= 1ull << v;
	}
	return *mask != 0 ? 0 : -1;
}

/* Does rule m accept port v in direction dir (0 source, 1 destination)?
 * v 65536: the frame has no ports. */
static bool
rule_port_ok(const struct xvs_qos_match *m, unsigned dir, uint32_t v)
{
	if ((m->port_lo == 0 && m->port_hi == 0) || (unsigned)!m->port_is_src != dir)
		return true; /* no port, or the other direction's */
	return v < 65536 && v >= m->port_lo && v <= m->port_hi;
}

int
xvs_qos_classifier_build(struct xvs_qos_classifier *c, const struct xvs_qos_match *rules,
			 uint32_t n, struct xvs_err *err)
{
	uint32_t nb = 0;

	if (n > XVS_QOS_RULE_BITS)
		return xvs_err_set(err, -EINVAL, "%u traffic class rules, at most %u", n,
				   XVS_QOS_RULE_BITS);
	memset(c, 0, sizeof(*c));
	for (uint32_t r = 0; r < n; r++) {
		const struct xvs_qos_match *m = &rules[r];
		uint16_t bit = (uint16_t)(1u << r);

		c->cls[r] = m->cls;
		c->all |= bit;
		c->uses |= (m->pcp_mask != 0 ? XVS_QOS_USES_PCP : 0) |
			   (m->dscp_mask != 0 ? XVS_QOS_USES_DSCP : 0) |
			   (m->proto != 0 ? XVS_QOS_USES_PROTO : 0);
		if (m->port_lo != 0 || m->port_hi != 0)
			c->uses |= m->port_is_src ? XVS_QOS_USES_SPORT : XVS_QOS_USES_DPORT;
		for (uint32_t v = 0; v <= 8; v++)
			if (m->pcp_mask == 0 || (v < 8 && (m->pcp_mask >> v) & 1))
				c->pcp[v] |= bit;
		for (uint32_t v = 0; v <= 64; v++)
			if (m->dscp_mask == 0 || (v < 64 && (m->dscp_mask >> v) & 1))
				c->dscp[v] |= bit;
		for (uint32_t v = 0; v <= 256; v++)
			if (m->proto == 0 || v == m->proto)
				c->proto[v] |= bit;
	}
	for (uint32_t lo = 0; lo < 256; lo++)
		c->block[0][lo] = 0xffff;
	nb = 1;
	for (unsigned dir = 0; dir < 2; dir++) {
		for (uint32_t hi = 0; hi <= 256; hi++) {
			uint16_t at[256];
			bool uniform = true;

			for (uint32_t lo = 0; lo < (hi < 256 ? 256u : 1u); lo++) {
				uint32_t v = hi < 256 ? hi << 8 | lo : 65536;

				at[lo] = 0;
				for (uint32_t r = 0; r < n; r++)
					if (rule_port_ok(&rules[r], dir, v))
						at[lo] |= (uint16_t)(1u << r);
				uniform &= at[lo] == at[0];
			}
			if (uniform) {
				c->port[dir][hi] = (struct xvs_qos_port_byte){at[0], 0};
				continue;
			}
			if (nb == XVS_QOS_PORT_BLOCKS) /* at most two a rule: not reached */
				return xvs_err_set(err, -EINVAL, "traffic class port ranges: too many");
			memcpy(c->block[nb], at, sizeof(at));
			c->port[dir][hi] = (struct xvs_qos_port_byte){0xffff, (uint16_t)nb++};
		}
	}
	return 0;
}

int
xvs_qos_match_parse(const char *s, struct xvs_qos_match *m, struct xvs_err *err)
{
	char buf[256], *save = NULL, *tok;
	bool any = false;

	memset(m, 0, sizeof(*m));
	if (s == NULL || strlen(s) >= sizeof(buf))
		return xvs_err_set(err, -EINVAL, "qos match: missing or longer than 255 characters");
	strcpy(buf, s);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		char *arg = NULL;
		uint32_t lo, hi;
		uint64_t mask;

		any = true;
		if (strcmp(tok, "tcp") == 0) {
			m->proto = 6;
			continue;
		}
		if (strcmp(tok, "udp") == 0) {
			m->proto = 17;
			continue;
		}
		if (strcmp(tok, "sctp") == 0) {
			m->proto = 132;
			continue;
		}
		if (strcmp(tok, "proto") != 0 && strcmp(tok, "pcp") != 0 &&
		    strcmp(tok, "dscp") != 0 && strcmp(tok, "dport") != 0 &&
		    strcmp(tok, "sport") != 0)
			return xvs_err_set(err, -EINVAL, "qos match: unknown word \"%.32s\" (valid: "
					   "tcp, udp, sctp, proto N, pcp LIST, dscp LIST, dport N[-M], "
					   "sport N[-M])", tok);
		arg = strtok_r(NULL, " \t", &save);
		if (arg == NULL)
			return xvs_err_set(err, -EINVAL, "qos match: \"%s\" needs a value", tok);
		if (strcmp(tok, "proto") == 0) {
			if (range_parse(arg, 255, &lo, &hi) < 0 || lo != hi || lo == 0)
				return xvs_err_set(err, -EINVAL, "qos match: proto \"%.32s\" is not "
						   "an IP protocol 1-255", arg);
			m->proto = (uint8_t)lo;
		} else if (strcmp(tok, "pcp") == 0) {
			if (list_parse(arg, 7, &mask) < 0)
				return xvs_err_set(err, -EINVAL, "qos match: pcp \"%.32s\" is not a "
						   "list of priorities 0-7", arg);
			m->pcp_mask = (uint8_t)mask;
		} else if (strcmp(tok, "dscp") == 0) {
			if (list_parse(arg, 63, &mask) < 0)
				return xvs_err_set(err, -EINVAL, "qos match: dscp \"%.32s\" is not a "
						   "list of DSCPs 0-63", arg);
			m->dscp_mask = mask;
		} else {
			if (range_parse(arg, 65535, &lo, &hi) < 0 || lo == 0)
				return xvs_err_set(err, -EINVAL, "qos match: %s \"%.32s\" is not a "
						   "port 1-65535 or a range N-M", tok, arg);
			m->port_lo = (uint16_t)lo;
			m->port_hi = (uint16_t)hi;
			m->port_is_src = tok[0] == 's';
		}
	}
	if (!any)
		return xvs_err_set(err, -EINVAL, "qos match: empty (it would match every frame; "
				   "the default flow already does)");
	if ((m->port_lo != 0 || m->port_hi != 0) && m->proto == 0)
		return xvs_err_set(err, -EINVAL, "qos match: a port needs tcp or udp");
	return xvs_qos_match_validate(m, 1, err);
}

/* ---- Scheduler. ----------------------------------------------------------- */

static void
tb_init(struct xvs_qos_tb *tb, uint64_t rate_bps, uint64_t now_ns)
{
	uint64_t depth_bits = rate_bps / (NS_PER_S / XVS_QOS_BURST_NS);

	if (depth_bits < 2ull * 65536 * 8)
		depth_bits = 2ull * 65536 * 8;
	tb->rate_bps = rate_bps;
	tb->depth = (int64_t)(depth_bits * NS_PER_S);
	tb->tokens = tb->depth;
	tb->last_ns = now_ns;
}

/* Class c back from idle: it starts at the system's virtual time, unless
 * its last tag is still ahead of it. */
static inline void
rejoin(const struct xvs_qos_sched *s, struct xvs_qos_class *c)
{
	uint64_t d = c->finish - s->vtime;

	if (d == 0 || d > TAG_AHEAD_MAX)
		c->finish = s->vtime;
}

static void
tb_refill(struct xvs_qos_tb *tb, uint64_t now_ns)
{
	if (tb->rate_bps == 0 || now_ns <= tb->last_ns)
		return;
	/* rate x dt may overflow 64 bits after a long idle: clamp in 128. */
	unsigned __int128 add = (unsigned __int128)tb->rate_bps * (now_ns - tb->last_ns);
	__int128 t = (__int128)tb->tokens + (__int128)add;

	tb->tokens = t > tb->depth ? tb->depth : (int64_t)t;
	tb->last_ns = now_ns;
}

/* Bit-ns a frame of len bytes costs. */
static int64_t
tb_cost(uint32_t len)
{
	return (int64_t)len * 8 * (int64_t)NS_PER_S;
}

/* When will tb hold cost (now if it does)? */
static uint64_t
tb_ready_at(const struct xvs_qos_tb *tb, int64_t cost, uint64_t now_ns)
{
	if (tb->rate_bps == 0 || tb->tokens >= cost)
		return now_ns;
	uint64_t need = (uint64_t)(cost - tb->tokens);

	return now_ns + (need + tb->rate_bps - 1) / tb->rate_bps;
}

void
xvs_qos_sched_init(struct xvs_qos_sched *s, const struct xvs_qos_cfg *cfg,
		   uint64_t now_ns)
{
	uint64_t raw[XVS_QOS_MAX_CLASSES], max = 1;

	memset(s, 0, sizeof(*s));
	s->n = cfg->n_classes;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct xvs_qos_class_cfg *c = &cfg->cls[i];

		switch (cfg->mode) {
		case XVS_QOS_MODE_WEIGHT:
			raw[i] = c->weight;
			break;
		case XVS_QOS_MODE_ABSOLUTE:
			raw[i] = c->min_bps;
			break;
		default:
			raw[i] = 1;
			break;
		}
		if (raw[i] == 0)
			raw[i] = 1; /* no minimum: the smallest share */
		if (raw[i] > max)
			max = raw[i];
	}
	for (uint32_t i = 0; i < s->n; i++) {
		uint64_t w = (uint64_t)((unsigned __int128)raw[i] * WNORM / max);

		s->cls[i].inv_w = VSCALE / (w ? w : 1);
		s->cls[i].strict = cfg->cls[i].strict;
		tb_init(&s->cls[i].cap, cfg->cls[i].max_bps, now_ns);
	}
	tb_init(&s->port, cfg->shape_port ? cfg->capacity_bps : 0, now_ns);
}

int
xvs_qos_pick(struct xvs_qos_sched *s, const uint32_t *head_len,
	     uint64_t now_ns, uint64_t *wake_ns)
{
	uint64_t wake = UINT64_MAX, best_tag = 0;
	int best = -1, best_strict = -1;

	for (uint32_t i = 0; i < s->n; i++) {
		struct xvs_qos_class *c = &s->cls[i];
		uint32_t len = head_len[i] < FRAME_MAX ? head_len[i] : FRAME_MAX;

		if (len == 0) {
			c->active = false;
			continue;
		}
		tb_refill(&c->cap, now_ns);
		uint64_t ready = tb_ready_at(&c->cap, tb_cost(len), now_ns);

		if (ready > now_ns) {
			/* Held by its cap: out of the sharing until it may send,
			 * so it earns no credit while it waits. */
			c->active = false;
			if (ready < wake)
				wake = ready;
			continue;
		}
		if (c->strict != 0) {
			if (best_strict < 0 || c->strict > s->cls[best_strict].strict)
				best_strict = (int)i;
			continue;
		}
		if (!c->active) {
			rejoin(s, c);
			c->active = true;
		}
		uint64_t tag = c->finish + (uint64_t)len * c->inv_w;

		if (best < 0 || (int64_t)(tag - best_tag) < 0) {
			best = (int)i;
			best_tag = tag;
		}
	}
	if (best_strict >= 0)
		best = best_strict;
	if (best < 0) {
		if (wake_ns != NULL)
			*wake_ns = wake;
		return -1;
	}
	uint32_t len = head_len[best] < FRAME_MAX ? head_len[best] : FRAME_MAX;

	tb_refill(&s->port, now_ns);
	uint64_t ready = tb_ready_at(&s->port, tb_cost(len), now_ns);

	if (ready > now_ns) {
		if (wake_ns != NULL)
			*wake_ns = ready;
		return -1;
	}
	struct xvs_qos_class *c = &s->cls[best];

	if (c->strict == 0) {
		c->finish = best_tag;
		s->vtime = best_tag;
	}
	if (c->cap.rate_bps != 0)
		c->cap.tokens -= tb_cost(len);
	if (s->port.rate_bps != 0)
		s->port.tokens -= tb_cost(len);
	c->sent_bytes += head_len[best];
	c->sent_frames++;
	return best;
}

/* Look at class i with head frame len (> 0) for a burst pick: held by its
 * cap (out of the sharing, as in xvs_qos_pick), strict, or weighted with
 * its candidate tag in tag[i]. Returns true if it may send now. */
static inline bool
burst_eval(struct xvs_qos_sched *s, uint32_t i, uint32_t len, uint64_t now_ns,
	   uint64_t *tag, uint64_t *wake)
{
	struct xvs_qos_class *c = &s->cls[i];
	uint64_t ready = tb_ready_at(&c->cap, tb_cost(len), now_ns);

	if (ready > now_ns) {
		c->active = false;
		if (ready < *wake)
			*wake = ready;
		return false;
	}
	if (c->strict != 0)
		return true;
	if (!c->active) {
		rejoin(s, c);
		c->active = true;
	}
	tag[i] = c->finish + (uint64_t)len * c->inv_w;
	return true;
}

/* The one-class path's m frames of class i (weighted, uncapped, eligible,
 * its frames from b->head on) when the port's bucket holds them all: the
 * picks frame by frame would each pass (the bucket holds the rest of the
 * sum at each), so the tags and charges are their sums, without a check
 * per frame. Returns false (nothing changed) when the bucket does not hold
 * them all: then frame by frame. m <= 4096: the cost sum fits an int64. */
static bool
burst_one_class(struct xvs_qos_sched *s, const struct xvs_qos_backlog *b, uint32_t i,
		uint32_t extra, uint32_t m, uint8_t *out)
{
	struct xvs_qos_class *c = &s->cls[i];
	uint64_t vt = 0, bytes = 0;
	int64_t cost = 0;

	if (m > 4096)
		return false;
	for (uint32_t j = 0, p = b->head; j < m; j++, p++) {
		uint32_t len = b->len[p & b->mask] + extra;
		uint32_t clen = len < FRAME_MAX ? len : FRAME_MAX;

		vt += (uint64_t)clen * c->inv_w;
		cost += tb_cost(clen);
		bytes += len;
	}
	if (s->port.rate_bps != 0 && s->port.tokens < cost)
		return false;
	if (s->port.rate_bps != 0)
		s->port.tokens -= cost;
	c->finish += vt;
	s->vtime = c->finish;
	c->sent_bytes += bytes;
	c->sent_frames += m;
	memset(out, (int)i, m);
	return true;
}

/* xvs_qos_pick_all's sums: frames (from bit 40 on) and bytes in one word,
 * one add per frame. n x FRAME_MAX < 2^40: the bytes never reach the
 * frames. */
#define ACC_FRAME (1ull << 40)

static inline uint64_t
acc_bytes(uint64_t a)
{
	return a & (ACC_FRAME - 1);
}

/* What a sum is charged: its bytes and extra per frame. */
static inline uint64_t
acc_charge(uint64_t a, uint32_t extra)
{
	return acc_bytes(a) + (a / ACC_FRAME) * extra;
}

bool
xvs_qos_pick_all(struct xvs_qos_sched *s, const uint8_t *cls, const uint32_t *len,
		 uint32_t n, uint32_t extra, uint64_t now_ns, struct xvs_qos_sent *sent)
{
	/* The burst's sum, and each class's (acc: walked again only when
	 * there are several; a burst of one class stays in a register). A
	 * frame's charge is its length + extra, below FRAME_MAX (a longer
	 * one declines: the picks clip it), so a class's tag moves by inv_w x
	 * its charge, and the bucket by the burst's. */
	uint64_t acc[XVS_QOS_MAX_CLASSES], chg[XVS_QOS_MAX_CLASSES], fin[XVS_QOS_MAX_CLASSES];
	uint64_t sum = 0;
	uint32_t seen = 0, last, big = 0;
	struct xvs_qos_tb port;
	int64_t cost;

	if (n == 0 || n > 4096)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = cls[i];

		if (c >= s->n)
			return false;
		big |= len[i] >= FRAME_MAX - extra;
		seen |= 1u << c;
		sum += ACC_FRAME | len[i];
	}
	if (big != 0 || extra >= FRAME_MAX)
		return false;
	if ((seen & (seen - 1)) == 0) {
		acc[__builtin_ctz(seen)] = sum;
	} else {
		for (uint32_t m = seen; m != 0; m &= m - 1)
			acc[__builtin_ctz(m)] = 0;
		for (uint32_t i = 0; i < n; i++)
			acc[cls[i]] += ACC_FRAME | len[i];
	}
	for (uint32_t m = seen; m != 0; m &= m - 1) {
		uint32_t i = (uint32_t)__builtin_ctz(m);
		const struct xvs_qos_class *c = &s->cls[i];

		if (c->strict != 0 || c->cap.rate_bps != 0)
			return false;
		/* A tag moving 2^62 or more in one burst (absolute mode: a
		 * class without a minimum beside large ones has a huge inv_w)
		 * would make the comparison of the tags below wrap: the picks,
		 * frame by frame, decide then. */
		chg[i] = acc_charge(acc[i], extra);
		if (c->inv_w != 0 && chg[i] >= TAG_AHEAD_MAX / c->inv_w)
			return false;
	}
	cost = tb_cost((uint32_t)acc_charge(sum, extra)); /* n x FRAME_MAX < 2^32 */
	port = s->port;
	tb_refill(&port, now_ns);
	if (port.rate_bps != 0 && port.tokens < cost)
		return false;
	s->port = port;
	/* The picks' first look at the classes (xvs_qos_pick_burst's first
	 * loop): the empty ones go inactive, the others rejoin. */
	for (uint32_t i = 0; i < s->n; i++) {
		struct xvs_qos_class *c = &s->cls[i];

		if (!(seen >> i & 1)) {
			c->active = false;
			continue;
		}
		if (!c->active)
			rejoin(s, c);
		fin[i] = c->finish + chg[i] * c->inv_w;
	}
	/* The last pick: the largest tag, of equal ones the highest class. Every
	 * class's frames ran out; the loop looked again at all but that one's. */
	last = (uint32_t)__builtin_ctz(seen);
	for (uint32_t m = seen & (seen - 1); m != 0; m &= m - 1) {
		uint32_t i = (uint32_t)__builtin_ctz(m);

		if ((int64_t)(fin[i] - fin[last]) >= 0)
			last = i;
	}
	if (sent != NULL)
		sent->seen = seen;
	for (uint32_t m = seen; m != 0; m &= m - 1) {
		uint32_t i = (uint32_t)__builtin_ctz(m);
		struct xvs_qos_class *c = &s->cls[i];

		c->finish = fin[i];
		c->sent_bytes += chg[i];
		c->sent_frames += acc[i] / ACC_FRAME;
		c->active = i == last;
		if (sent != NULL) {
			sent->frames[i] = (uint32_t)(acc[i] / ACC_FRAME);
			sent->bytes[i] = acc_bytes(acc[i]);
		}
	}
	s->vtime = fin[last];
	s->port.tokens -= s->port.rate_bps != 0 ? cost : 0;
	return true;
}

uint32_t
xvs_qos_pick_burst(struct xvs_qos_sched *s, const struct xvs_qos_backlog *b,
		   uint32_t extra, uint64_t now_ns, uint8_t *out, uint32_t max,
		   uint64_t *wake_ns)
{
	uint64_t tag[XVS_QOS_MAX_CLASSES], wake = UINT64_MAX;
	uint32_t len[XVS_QOS_MAX_CLASSES], pos[XVS_QOS_MAX_CLASSES], left[XVS_QOS_MAX_CLASSES];
	uint32_t elig = 0, strict = 0, k = 0;

	for (uint32_t i = 0; i < s->n; i++) {
		struct xvs_qos_class *c = &s->cls[i];

		if (b[i].n == 0) {
			c->active = false;
			continue;
		}
		pos[i] = b[i].head;
		left[i] = b[i].n;
		len[i] = b[i].len[pos[i] & b[i].mask] + extra;
		tb_refill(&c->cap, now_ns);
		if (burst_eval(s, i, len[i] < FRAME_MAX ? len[i] : FRAME_MAX, now_ns, tag, &wake))
			elig |= 1u << i;
		if (c->strict != 0)
			strict |= 1u << i;
	}
	if (elig != 0 && (elig & (elig - 1)) == 0 && k < max) {
		/* One class may send (a single flow's, or the others empty or
		 * held by their caps, which are not looked at again within a
		 * burst): the loop below would pick it every time until its
		 * frames, the port's bucket or max run out. The same picks and
		 * charges without the search, when it is weighted and uncapped
		 * (a strict or capped class takes the general loop). */
		uint32_t i = (uint32_t)__builtin_ctz(elig);
		struct xvs_qos_class *c = &s->cls[i];

		if (c->strict == 0 && c->cap.rate_bps == 0) {
			uint32_t m = max < left[i] ? max : left[i];

			tb_refill(&s->port, now_ns);
			if (burst_one_class(s, &b[i], i, extra, m, out)) {
				k = m;
				if (k < max)
					c->active = false; /* its frames ran out */
				if (wake_ns != NULL)
					*wake_ns = k == max ? 0 : wake;
				return k;
			}
			for (;;) {
				uint32_t clen = len[i] < FRAME_MAX ? len[i] : FRAME_MAX;
				uint64_t ready = tb_ready_at(&s->port, tb_cost(clen), now_ns);

				if (ready > now_ns) {
					wake = ready;
					break;
				}
				c->finish = tag[i];
				s->vtime = tag[i];
				if (s->port.rate_bps != 0)
					s->port.tokens -= tb_cost(clen);
				c->sent_bytes += len[i];
				c->sent_frames++;
				out[k++] = (uint8_t)i;
				if (k == max)
					break;
				if (--left[i] == 0) {
					c->active = false;
					break;
				}
				pos[i]++;
				len[i] = b[i].len[pos[i] & b[i].mask] + extra;
				clen = len[i] < FRAME_MAX ? len[i] : FRAME_MAX;
				tag[i] = c->finish + (uint64_t)clen * c->inv_w;
			}
			if (wake_ns != NULL)
				*wake_ns = k == max ? 0 : wake;
			return k;
		}
	}
	for (int last = -1; k < max; ) {
		uint32_t m, best = 0, clen;
		int best_strict = -1;

		if (last >= 0) {
			/* Only the class that sent changes: its next frame. Done
			 * only when another pick follows, as xvs_qos_pick would. */
			if (--left[last] == 0) {
				s->cls[last].active = false;
				elig &= ~(1u << last);
			} else {
				pos[last]++;
				len[last] = b[last].len[pos[last] & b[last].mask] + extra;
				if (!burst_eval(s, (uint32_t)last,
						len[last] < FRAME_MAX ? len[last] : FRAME_MAX,
						now_ns, tag, &wake))
					elig &= ~(1u << last);
			}
		}
		if ((elig & strict) != 0) {
			for (m = elig & strict; m != 0; m &= m - 1) {
				uint32_t i = (uint32_t)__builtin_ctz(m);

				if (best_strict < 0 || s->cls[i].strict > s->cls[best_strict].strict)
					best_strict = (int)i;
			}
			best = (uint32_t)best_strict;
		} else if (elig != 0) {
			m = elig;
			best = (uint32_t)__builtin_ctz(m);
			for (m &= m - 1; m != 0; m &= m - 1) {
				uint32_t i = (uint32_t)__builtin_ctz(m);

				if ((int64_t)(tag[i] - tag[best]) < 0)
					best = i;
			}
		} else {
			break;
		}
		clen = len[best] < FRAME_MAX ? len[best] : FRAME_MAX;
		if (k == 0)
			tb_refill(&s->port, now_ns); /* where xvs_qos_pick does it */
		uint64_t ready = tb_ready_at(&s->port, tb_cost(clen), now_ns);

		if (ready > now_ns) {
			wake = ready;
			break;
		}
		struct xvs_qos_class *c = &s->cls[best];

		if (c->strict == 0) {
			c->finish = tag[best];
			s->vtime = tag[best];
		}
		if (c->cap.rate_bps != 0)
			c->cap.tokens -= tb_cost(clen);
		if (s->port.rate_bps != 0)
			s->port.tokens -= tb_cost(clen);
		c->sent_bytes += len[best];
		c->sent_frames++;
		out[k++] = (uint8_t)best;
		last = (int)best;
	}
	if (wake_ns != NULL)
		*wake_ns = k == max ? 0 : wake;
	return k;
}

/* ---- Pause frames. -------------------------------------------------------- */

const uint8_t xvs_qos_pause_dst[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x01};

int
xvs_qos_pause_parse(const uint8_t *f, uint32_t len, struct xvs_qos_pause *out)
{
	uint16_t op;

	if (len < 16 || f[12] != (XVS_QOS_ETH_MAC_CTRL >> 8) ||
	    f[13] != (XVS_QOS_ETH_MAC_CTRL & 0xff))
		return -1;
	op = (uint16_t)(f[14] << 8 | f[15]);
	memset(out, 0, sizeof(*out));
	/* Honoured only when sent to the MAC control multicast address
	 * (802.3 31B.1, 802.1Qbb 36.1.3.1): a PAUSE or PFC frame to any other
	 * address (a guest's unicast, broadcast) is consumed, not obeyed. */
	if (memcmp(f, xvs_qos_pause_dst, sizeof(xvs_qos_pause_dst)) != 0)
		return 0;
	if (op == XVS_QOS_OP_PAUSE && len >= 18) {
		/* 802.3 Annex 31B: one pause time for the whole link. */
		out->enable = 0xff;
		for (int p = 0; p < 8; p++)
			out->quanta[p] = (uint16_t)(f[16] << 8 | f[17]);
		return 1;
	}
	if (op == XVS_QOS_OP_PFC && len >= 34) {
		/* 802.1Qbb 36.1.3.1: class-enable vector (low octet: bit p =
		 * priority p), then eight 2-octet times, priority 0 first. */
		out->pfc = true;
		out->enable = f[17];
		for (int p = 0; p < 8; p++)
			out->quanta[p] = (uint16_t)(f[18 + 2 * p] << 8 | f[19 + 2 * p]);
		return 1;
	}
	return 0;
}

uint64_t
xvs_qos_pause_until(uint16_t quanta, uint64_t link_bps, uint64_t now_ns)
{
	if (quanta == 0 || link_bps == 0)
		return 0;
	/* One quantum is 512 bit times: quanta x 512 x 1e9 / link_bps ns. */
	uint64_t bits_ns = (uint64_t)quanta * 512 * NS_PER_S;

	return now_ns + (bits_ns + link_bps - 1) / link_bps;
}

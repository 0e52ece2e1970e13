/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port ACL rules: the key=value parser (one table gives keys, parsing and
 * formatting), validation, the reference matcher and the stateful flow table
 * model (core). acl.h states the semantics; this file is their plain
 * implementation, written for obviousness rather than speed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "pkt_parse.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

struct key {
	const char *name;
	int (*parse)(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err);
};

static int
bad(struct xvs_err *err, const char *key, const char *val, const char *why)
{
	return xvs_err_set(err, -EINVAL, "acl: %s '%s': %s", key, val, why);
}

/* Strict unsigned decimal: digits only, no sign or spaces, at most max. */
static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* A value from a fixed list of words, e.g. dir=in|out|both. */
struct word {
	const char *word;
	uint8_t value;
};

static int
p_word(const char *key, const char *val, const struct word *words, size_t n, uint8_t *out,
       const char *hint, struct xvs_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(val, words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	return bad(err, key, val, hint);
}

static int
p_dir(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	static const struct word w[] = {
		{"in", XVS_ACL_IN}, {"out", XVS_ACL_OUT}, {"both", XVS_ACL_BOTH}};

	return p_word(key, val, w, 3, &r->dir, "use in, out or both", err);
}

static int
p_action(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	static const struct word w[] = {
		{"allow", XVS_ACL_ALLOW}, {"deny", XVS_ACL_DENY}, {"meter", XVS_ACL_METER}};

	return p_word(key, val, w, 3, &r->action, "use allow, deny or meter", err);
}

static int
p_rate(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	char num[24];
	size_t l = strlen(val);
	uint64_t mult = 1, v;

	bool pps = l > 3 && strcmp(val + l - 3, "pps") == 0;

	if (l == 0 || l >= sizeof(num))
		return bad(err, key, val, "use bits per second, e.g. 500000, 500k, 10m or 1g");
	memcpy(num, val, l + 1);
	if (pps) {
		l -= 3;
		num[l] = '\0';
	}
	switch (num[l - 1]) {
	case 'k':
		mult = 1000;
		break;
	case 'm':
		mult = 1000000;
		break;
	case 'g':
		mult = 1000000000;
		break;
	}
	if (mult != 1)
		num[l - 1] = '\0';
	if (pps && (mult == 1000000000 || !parse_u64(num, UINT32_MAX / mult, &v) || v == 0))
		return bad(err, key, val, "use packets per second above 0, e.g. 1000pps or 10kpps");
	if (!pps && (!parse_u64(num, UINT64_MAX / mult, &v) || v == 0))
		return bad(err, key, val, "use bits per second above 0, e.g. 500k, 10m or 1g, "
			   "or packets per second, e.g. 10kpps");
	if (pps)
		r->rate_pps = v * mult;
	else
		r->rate_bps = v * mult;
	return 0;
}

static void
mask_host_bits(uint8_t *a, unsigned len, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static int
p_ip(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	struct xvs_acl_prefix *pfx = key[0] == 'l' ? &r->local_ip : &r->remote_ip;
	char addr[INET6_ADDRSTRLEN + 8], shown[INET6_ADDRSTRLEN];
	const char *slash = strchr(val, '/');
	size_t alen = slash != NULL ? (size_t)(slash - val) : strlen(val);
	uint8_t masked[16];
	unsigned max;
	uint64_t len;

	if (alen == 0 || alen >= sizeof(addr))
		return bad(err, key, val, "use an IPv4 or IPv6 address with an optional /length");
	memcpy(addr, val, alen);
	addr[alen] = '\0';
	memset(pfx, 0, sizeof(*pfx));
	if (inet_pton(AF_INET, addr, pfx->addr) == 1) {
		pfx->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, pfx->addr) == 1) {
		pfx->family = 6;
		max = 128;
	} else {
		return bad(err, key, val, "not an IPv4 or IPv6 address");
	}
	len = max;
	if (slash != NULL && !parse_u64(slash + 1, max, &len))
		return xvs_err_set(err, -EINVAL, "acl: %s '%s': prefix length must be 0-%u", key,
				   val, max);
	pfx->len = (uint8_t)len;
	memcpy(masked, pfx->addr, 16);
	mask_host_bits(masked, pfx->len, max / 8);
	if (memcmp(masked, pfx->addr, 16) != 0) {
		inet_ntop(pfx->family == 4 ? AF_INET : AF_INET6, masked, shown, sizeof(shown));
		return xvs_err_set(err, -EINVAL,
				   "acl: %s '%s' has host bits set; did you mean %s/%u?", key, val,
				   shown, pfx->len);
	}
	return 0;
}

static int
p_mac(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	uint8_t *mac = key[0] == 'l' ? r->local_mac : r->remote_mac;
	unsigned i;

	/* Exactly aa:bb:cc:dd:ee:ff, hex digits of either case. */
	if (strlen(val) != 17)
		return bad(err, key, val, "use a MAC address aa:bb:cc:dd:ee:ff");
	for (i = 0; i < 6; i++) {
		char hex[3] = {val[3 * i], val[3 * i + 1], '\0'};
		char *end;

		if ((i < 5 && val[3 * i + 2] != ':') || strspn(hex, "0123456789abcdefABCDEF") != 2)
			return bad(err, key, val, "use a MAC address aa:bb:cc:dd:ee:ff");
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
	}
	if (key[0] == 'l')
		r->has_local_mac = true;
	else
		r->has_remote_mac = true;
	return 0;
}

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	{"tcp", PROTO_TCP},
	{"udp", PROTO_UDP},
	{"icmp", PROTO_ICMP},
	{"icmpv6", PROTO_ICMPV6},
};

static int
p_proto(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (strcmp(val, proto_names[i].name) == 0) {
			r->proto = proto_names[i].proto;
			r->has_proto = true;
			return 0;
		}
	}
	if (!parse_u64(val, 255, &v))
		return bad(err, key, val, "use tcp, udp, icmp, icmpv6 or a number 0-255");
	r->proto = (uint8_t)v;
	r->has_proto = true;
	return 0;
}

static int
p_port(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	const char *dash = strchr(val, '-');
	char lo_s[8];
	uint64_t lo, hi;
	size_t l = dash != NULL ? (size_t)(dash - val) : strlen(val);

	if (l == 0 || l >= sizeof(lo_s))
		return bad(err, key, val, "use a port 0-65535 or a range lo-hi");
	memcpy(lo_s, val, l);
	lo_s[l] = '\0';
	if (!parse_u64(lo_s, 65535, &lo) || (dash != NULL && !parse_u64(dash + 1, 65535, &hi)))
		return bad(err, key, val, "use a port 0-65535 or a range lo-hi");
	if (dash == NULL)
		hi = lo;
	if (lo > hi)
		return bad(err, key, val, "range is empty (lo above hi)");
	if (key[0] == 'l') {
		r->has_local_port = true;
		r->local_port_lo = (uint16_t)lo;
		r->local_port_hi = (uint16_t)hi;
	} else {
		r->has_remote_port = true;
		r->remote_port_lo = (uint16_t)lo;
		r->remote_port_hi = (uint16_t)hi;
	}
	return 0;
}

static int
p_weight(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	uint64_t v;

	if (!parse_u64(val, UINT16_MAX, &v))
		return bad(err, key, val, "use a number 0-65535 (higher wins)");
	r->weight = (uint16_t)v;
	return 0;
}

static int
p_stateful(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	static const struct word w[] = {{"on", 1}, {"off", 0}};
	uint8_t on = 0;
	int rc = p_word(key, val, w, 2, &on, "use on or off", err);

	r->stateful = on != 0;
	return rc;
}

static int
p_timeout(const char *key, const char *val, struct xvs_acl_rule *r, struct xvs_err *err)
{
	uint64_t v;

	if (!parse_u64(val, XVS_ACL_MAX_TIMEOUT_S, &v) || v == 0)
		return xvs_err_set(err, -EINVAL, "acl: %s '%s': use seconds 1-%u", key, val,
				   XVS_ACL_MAX_TIMEOUT_S);
	r->timeout_s = (uint32_t)v;
	return 0;
}

/* One table: the keys, their parsers, and the canonical order of format. */
static const struct key keys[] = {
	{"dir", p_dir},
	{"action", p_action},
	{"rate", p_rate},
	{"local-ip", p_ip},
	{"remote-ip", p_ip},
	{"local-mac", p_mac},
	{"remote-mac", p_mac},
	{"proto", p_proto},
	{"local-port", p_port},
	{"remote-port", p_port},
	{"weight", p_weight},
	{"stateful", p_stateful},
	{"timeout", p_timeout},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Short names from FEATURES.md ("remote=10.0.0.0/8"): the same key as the
 * long one, so giving both is "given twice". */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{"local", "local-ip"},
	{"remote", "remote-ip"},
};

/* The alias key[0..klen) stands for, or NULL. */
static const char *
alias_of(const char *key, size_t klen, const char **typed)
{
	size_t a;

	for (a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
		if (strlen(aliases[a].alias) == klen && strncmp(aliases[a].alias, key, klen) == 0) {
			*typed = aliases[a].alias;
			return aliases[a].name;
		}
	}
	return NULL;
}

static size_t
key_index(const char *name)
{
	size_t k;

	for (k = 0; k < N_KEYS; k++)
		if (strcmp(keys[k].name, name) == 0)
			break;
	return k;
}

/* The message lists the keys from the table, so it never goes stale. */
static int
unknown_key(const char *key, size_t klen, struct xvs_err *err)
{
	char list[160];
	size_t off = 0, k;

	for (k = 0; k < N_KEYS && off < sizeof(list); k++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", k ? " " : "",
					keys[k].name);
	return xvs_err_set(err, -EINVAL, "acl: unknown key '%.*s' (keys: %s)",
			   (int)(klen > 32 ? 32 : klen), key, list);
}

int
xvs_acl_rule_parse(const char *const *tokens, unsigned n, struct xvs_acl_rule *out,
		   struct xvs_err *err)
{
	bool seen[N_KEYS] = {false};
	unsigned i;
	size_t k;
	int rc;

	if (out == NULL || (tokens == NULL && n > 0))
		return xvs_err_set(err, -EINVAL, "acl: NULL argument");
	memset(out, 0, sizeof(*out));
	if (n > XVS_ACL_MAX_TOKENS)
		return xvs_err_set(err, -EINVAL, "acl: %u settings, at most %d", n,
				   XVS_ACL_MAX_TOKENS);
	for (i = 0; i < n; i++) {
		const char *eq = tokens[i] != NULL ? strchr(tokens[i], '=') : NULL;
		size_t klen;

		if (eq == NULL)
			return xvs_err_set(err, -EINVAL, "acl: '%s' is not key=value",
					   tokens[i] != NULL ? tokens[i] : "(null)");
		const char *name, *typed = NULL;

		klen = (size_t)(eq - tokens[i]);
		name = alias_of(tokens[i], klen, &typed);
		for (k = 0; k < N_KEYS; k++)
			if (strlen(keys[k].name) == klen &&
			    strncmp(keys[k].name, tokens[i], klen) == 0)
				break;
		if (name != NULL)
			k = key_index(name);
		if (k == N_KEYS)
			return unknown_key(tokens[i], klen, err);
		if (seen[k])
			return xvs_err_set(err, -EINVAL, "acl: %s given twice", keys[k].name);
		seen[k] = true;
		rc = keys[k].parse(typed != NULL ? typed : keys[k].name, eq + 1, out, err);
		if (rc < 0)
			return rc;
	}
	if (!seen[0])
		return xvs_err_set(err, -EINVAL, "acl: dir is required (in, out or both)");
	if (!seen[1])
		return xvs_err_set(err, -EINVAL, "acl: action is required (allow, deny or meter)");
	if (out->stateful && out->timeout_s == 0)
		out->timeout_s = XVS_ACL_DEFAULT_TIMEOUT_S;
	return xvs_acl_rule_check(out, err);
}

int
xvs_acl_rule_parse_str(const char *line, struct xvs_acl_rule *out, struct xvs_err *err)
{
	char buf[512], *save = NULL, *tok;
	const char *tokens[XVS_ACL_MAX_TOKENS + 1];
	unsigned n = 0;

	if (line == NULL || out == NULL)
		return xvs_err_set(err, -EINVAL, "acl: NULL argument");
	if (strlen(line) >= sizeof(buf))
		return xvs_err_set(err, -EINVAL, "acl: rule longer than %zu characters",
				   sizeof(buf) - 1);
	strcpy(buf, line);
	for (tok = strtok_r(buf, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (n > XVS_ACL_MAX_TOKENS)
			break;
		tokens[n++] = tok;
	}
	return xvs_acl_rule_parse(tokens, n, out, err);
}

static int
check_prefix(const char *key, const struct xvs_acl_prefix *p, struct xvs_err *err)
{
	uint8_t masked[16];
	unsigned max;

	if (p->family == 0) {
		static const uint8_t zero[16];

		if (p->len != 0 || memcmp(p->addr, zero, 16) != 0)
			return xvs_err_set(err, -EINVAL, "acl: %s without family has an address",
					   key);
		return 0;
	}
	if (p->family != 4 && p->family != 6)
		return xvs_err_set(err, -EINVAL, "acl: %s family %u is not 4 or 6", key,
				   p->family);
	max = p->family == 4 ? 32 : 128;
	if (p->len > max)
		return xvs_err_set(err, -EINVAL, "acl: %s prefix length %u above %u", key, p->len,
				   max);
	memcpy(masked, p->addr, 16);
	mask_host_bits(masked, p->len, 16);
	if (memcmp(masked, p->addr, 16) != 0)
		return xvs_err_set(err, -EINVAL, "acl: %s has host bits set past /%u", key, p->len);
	return 0;
}

int
xvs_acl_rule_check(const struct xvs_acl_rule *r, struct xvs_err *err)
{
	uint8_t fam;
	int rc;

	if (r == NULL)
		return xvs_err_set(err, -EINVAL, "acl: NULL rule");
	if (r->dir < XVS_ACL_IN || r->dir > XVS_ACL_BOTH)
		return xvs_err_set(err, -EINVAL, "acl: dir %u is not in, out or both", r->dir);
	if (r->action < XVS_ACL_ALLOW || r->action > XVS_ACL_METER)
		return xvs_err_set(err, -EINVAL, "acl: action %u is not allow, deny or meter",
				   r->action);
	if (r->action == XVS_ACL_METER && (r->rate_bps == 0) == (r->rate_pps == 0))
		return xvs_err_set(err, -EINVAL, "acl: action=meter needs rate= (bits/s or "
				   "...pps, one of them)");
	if (r->action != XVS_ACL_METER && (r->rate_bps != 0 || r->rate_pps != 0))
		return xvs_err_set(err, -EINVAL, "acl: rate= is only for action=meter");
	if (r->rate_pps > UINT32_MAX)
		return xvs_err_set(err, -EINVAL, "acl: rate %llupps above %u",
				   (unsigned long long)r->rate_pps, UINT32_MAX);
	rc = check_prefix("local-ip", &r->local_ip, err);
	if (rc == 0)
		rc = check_prefix("remote-ip", &r->remote_ip, err);
	if (rc < 0)
		return rc;
	if (r->local_ip.family != 0 && r->remote_ip.family != 0 &&
	    r->local_ip.family != r->remote_ip.family)
		return xvs_err_set(err, -EINVAL,
				   "acl: local-ip is IPv%u but remote-ip is IPv%u; "
				   "no packet is both",
				   r->local_ip.family, r->remote_ip.family);
	fam = r->local_ip.family | r->remote_ip.family;
	if ((r->has_local_port || r->has_remote_port) &&
	    (!r->has_proto || (r->proto != PROTO_TCP && r->proto != PROTO_UDP)))
		return xvs_err_set(err, -EINVAL, "acl: local-port/remote-port need proto=tcp or "
				   "proto=udp");
	if ((r->has_local_port && r->local_port_lo > r->local_port_hi) ||
	    (r->has_remote_port && r->remote_port_lo > r->remote_port_hi))
		return xvs_err_set(err, -EINVAL, "acl: a port range is empty (lo above hi)");
	if (r->has_proto && ((r->proto == PROTO_ICMP && fam == 6) ||
			     (r->proto == PROTO_ICMPV6 && fam == 4)))
		return xvs_err_set(err, -EINVAL, "acl: proto %s does not go with IPv%u addresses "
				   "(use %s)", r->proto == PROTO_ICMP ? "icmp" : "icmpv6", fam,
				   fam == 6 ? "icmpv6" : "icmp");
	if (r->stateful && r->action != XVS_ACL_ALLOW)
		return xvs_err_set(err, -EINVAL, "acl: stateful=on is for action=allow only");
	if (r->stateful && (r->timeout_s == 0 || r->timeout_s > XVS_ACL_MAX_TIMEOUT_S))
		return xvs_err_set(err, -EINVAL, "acl: stateful timeout %u outside 1-%u s",
				   r->timeout_s, XVS_ACL_MAX_TIMEOUT_S);
	if (!r->stateful && r->timeout_s != 0)
		return xvs_err_set(err, -EINVAL, "acl: timeout= is only for stateful=on");
	return 0;
}

/* snprintf into buf at *off, tracking the length needed even past len. */
static void __attribute__((format(printf, 4, 5)))
put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(*off < len ? buf + *off : NULL, *off < len ? len - *off : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		*off += (size_t)w;
}

static void
put_prefix(char *buf, size_t len, size_t *off, const char *key, const struct xvs_acl_prefix *p)
{
	char s[INET6_ADDRSTRLEN];

	if (p->family == 0)
		return;
	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, s, sizeof(s));
	put(buf, len, off, " %s=%s/%u", key, s, p->len);
}

static void
put_mac(char *buf, size_t len, size_t *off, const char *key, const uint8_t *m)
{
	put(buf, len, off, " %s=%02x:%02x:%02x:%02x:%02x:%02x", key, m[0], m[1], m[2], m[3], m[4],
	    m[5]);
}

static void
put_range(char *buf, size_t len, size_t *off, const char *key, uint16_t lo, uint16_t hi)
{
	if (lo == hi)
		put(buf, len, off, " %s=%u", key, lo);
	else
		put(buf, len, off, " %s=%u-%u", key, lo, hi);
}

int
xvs_acl_rule_format(const struct xvs_acl_rule *r, char *buf, size_t len)
{
	static const char *const dirs[] = {"?", "in", "out", "both"};
	static const char *const acts[] = {"?", "allow", "deny", "meter"};
	size_t off = 0, i;

	if (len > 0)
		buf[0] = '\0';
	put(buf, len, &off, "dir=%s action=%s", dirs[r->dir & 3], acts[r->action & 3]);
	if (r->rate_bps != 0)
		put(buf, len, &off, " rate=%llu", (unsigned long long)r->rate_bps);
	if (r->rate_pps != 0)
		put(buf, len, &off, " rate=%llupps", (unsigned long long)r->rate_pps);
	put_prefix(buf, len, &off, "local-ip", &r->local_ip);
	put_prefix(buf, len, &off, "remote-ip", &r->remote_ip);
	if (r->has_local_mac)
		put_mac(buf, len, &off, "local-mac", r->local_mac);
	if (r->has_remote_mac)
		put_mac(buf, len, &off, "remote-mac", r->remote_mac);
	if (r->has_proto) {
		for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
			if (proto_names[i].proto == r->proto)
				break;
		if (i < sizeof(proto_names) / sizeof(proto_names[0]))
			put(buf, len, &off, " proto=%s", proto_names[i].name);
		else
			put(buf, len, &off, " proto=%u", r->proto);
	}
	if (r->has_local_port)
		put_range(buf, len, &off, "local-port", r->local_port_lo, r->local_port_hi);
	if (r->has_remote_port)
		put_range(buf, len, &off, "remote-port", r->remote_port_lo, r->remote_port_hi);
	if (r->weight != 0)
		put(buf, len, &off, " weight=%u", r->weight);
	if (r->stateful)
		put(buf, len, &off, " stateful=on timeout=%u", r->timeout_s);
	return (int)off;
}

int
xvs_acl_pkt_from_frame(const uint8_t *frame, uint32_t len, struct xvs_acl_pkt *p)
{
	struct xvs_flow f;
	struct xvs_l2 l2;

	if (p == NULL)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (xvs_parse_l2(frame, len, &l2) != XVS_PARSE_OK)
		return -EINVAL;
	memcpy(p->dst_mac, l2.dst, 6);
	memcpy(p->src_mac, l2.src, 6);
	if (xvs_parse_flow(frame, len, &l2, &f) != 0 || f.l3 == 0)
		return 0;
	p->l3 = f.l3;
	p->proto = f.proto;
	memcpy(p->src, f.src, 16);
	memcpy(p->dst, f.dst, 16);
	if (f.has_ports) {
		p->has_ports = true;
		p->sport = ntohs(f.sport);
		p->dport = ntohs(f.dport);
	}
	return 0;
}

static bool
prefix_matches(const struct xvs_acl_prefix *pfx, uint8_t l3, const uint8_t *addr)
{
	uint8_t masked[16];

	if (pfx->family == 0)
		return true;
	if (pfx->family != l3)
		return false;
	memcpy(masked, addr, 16);
	mask_host_bits(masked, pfx->len, 16);
	return memcmp(masked, pfx->addr, 16) == 0;
}

bool
xvs_acl_rule_matches(const struct xvs_acl_rule *r, const struct xvs_acl_pkt *p, uint8_t dir)
{
	bool out = dir == XVS_ACL_OUT;
	const uint8_t *lmac = out ? p->src_mac : p->dst_mac, *rmac = out ? p->dst_mac : p->src_mac;
	const uint8_t *lip = out ? p->src : p->dst, *rip = out ? p->dst : p->src;
	uint16_t lport = out ? p->sport : p->dport, rport = out ? p->dport : p->sport;

	if ((r->dir & dir) == 0)
		return false;
	if (r->has_local_mac && memcmp(r->local_mac, lmac, 6) != 0)
		return false;
	if (r->has_remote_mac && memcmp(r->remote_mac, rmac, 6) != 0)
		return false;
	if (!prefix_matches(&r->local_ip, p->l3, lip) || !prefix_matches(&r->remote_ip, p->l3, rip))
		return false;
	if (r->has_proto && (p->l3 == 0 || p->proto != r->proto))
		return false;
	if (r->has_local_port &&
	    (!p->has_ports || lport < r->local_port_lo || lport > r->local_port_hi))
		return false;
	if (r->has_remote_port &&
	    (!p->has_ports || rport < r->remote_port_lo || rport > r->remote_port_hi))
		return false;
	return true;
}

int
xvs_acl_match_slow(const struct xvs_acl_rule *rules, unsigned n, const struct xvs_acl_pkt *p,
		   uint8_t dir)
{
	int best = -1;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (!xvs_acl_rule_matches(&rules[i], p, dir))
			continue;
		/* Strictly greater: an equal weight keeps the earlier rule. */
		if (best < 0 || rules[i].weight > rules[best].weight)
			best = (int)i;
	}
	return best;
}

void
xvs_acl_flows_init(struct xvs_acl_flows *t, struct xvs_acl_flow *slot, uint32_t cap)
{
	t->slot = slot;
	t->cap = slot != NULL ? cap : 0;
	t->n = 0;
	if (slot != NULL)
		memset(slot, 0, (size_t)cap * sizeof(*slot));
}

static bool
expired(const struct xvs_acl_flow *f, uint64_t now_ns)
{
	return now_ns > f->last_ns && now_ns - f->last_ns > f->timeout_ns;
}

uint32_t
xvs_acl_flows_expire(struct xvs_acl_flows *t, uint64_t now_ns)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->cap; i++) {
		if (t->slot[i].used && expired(&t->slot[i], now_ns)) {
			t->slot[i].used = false;
			t->n--;
			n++;
		}
	}
	return n;
}

/* The flow key of p in dir, in local/remote terms so both directions of a
 * flow give the same key. */
static void
flow_key(const struct xvs_acl_pkt *p, uint8_t dir, struct xvs_acl_flow *k)
{
	bool out = dir == XVS_ACL_OUT;

	memset(k, 0, sizeof(*k));
	k->l3 = p->l3;
	k->proto = p->proto;
	memcpy(k->local, out ? p->src : p->dst, 16);
	memcpy(k->remote, out ? p->dst : p->src, 16);
	if (p->has_ports) {
		k->local_port = out ? p->sport : p->dport;
		k->remote_port = out ? p->dport : p->sport;
	}
}

static bool
same_flow(const struct xvs_acl_flow *a, const struct xvs_acl_flow *b)
{
	return a->l3 == b->l3 && a->proto == b->proto && a->local_port == b->local_port &&
	       a->remote_port == b->remote_port && memcmp(a->local, b->local, 16) == 0 &&
	       memcmp(a->remote, b->remote, 16) == 0;
}

static struct xvs_acl_flow *
flow_find(struct xvs_acl_flows *t, const struct xvs_acl_flow *k, uint64_t now_ns)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++)
		if (t->slot[i].used && !expired(&t->slot[i], now_ns) && same_flow(&t->slot[i], k))
			return &t->slot[i];
	return NULL;
}

/* Record k; an expired slot is reused. False when the table is full. */
static bool
flow_add(struct xvs_acl_flows *t, const struct xvs_acl_flow *k, uint16_t rule,
	 uint64_t timeout_ns, uint64_t now_ns)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++) {
		struct xvs_acl_flow *s = &t->slot[i];

		if (s->used && !expired(s, now_ns))
			continue;
		if (!s->used)
			t->n++;
		*s = *k;
		s->used = true;
		s->rule = rule;
		s->last_ns = now_ns;
		s->timeout_ns = timeout_ns;
		return true;
	}
	return false;
}

void
xvs_acl_eval(const struct xvs_acl_rule *rules, unsigned n, struct xvs_acl_flows *t,
	     const struct xvs_acl_pkt *p, uint8_t dir, uint64_t now_ns, struct xvs_acl_verdict *v)
{
	struct xvs_acl_flow k, *f;
	int r;

	memset(v, 0, sizeof(*v));
	v->rule = -1;
	flow_key(p, dir, &k);
	if (t != NULL && p->l3 != 0) {
		f = flow_find(t, &k, now_ns);
		if (f != NULL) {
			if (now_ns > f->last_ns)
				f->last_ns = now_ns;
			v->action = XVS_ACL_ALLOW;
			v->from_flow = true;
			return;
		}
	}
	r = xvs_acl_match_slow(rules, n, p, dir);
	if (r < 0) {
		v->action = XVS_ACL_ALLOW;
		return;
	}
	v->rule = r;
	v->action = rules[r].action;
	if (rules[r].stateful && p->l3 != 0 && t != NULL)
		v->table_full = !flow_add(t, &k, (uint16_t)r,
					  (uint64_t)rules[r].timeout_s * 1000000000ull, now_ns);
	else if (rules[r].stateful && p->l3 != 0)
		v->table_full = true;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive Side Scaling (core). See rss.h.
 *
 * References: Microsoft "RSS hashing functions" and "Verifying the RSS hash
 * calculation" (learn.microsoft.com/windows-hardware/drivers/network/), Intel
 * 82599 datasheet 7.1.2.8, RFC 6275 (Home Address option, type 2 routing
 * header) for the IPv6 "ex" hash types.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "rss.h"

const uint8_t xvs_rss_default_key[XVS_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The 32 key bits starting at bit offset off (MSB of key[0] is bit 0). */
static uint32_t
key_window(const uint8_t key[XVS_RSS_KEY_LEN], unsigned int off)
{
	uint64_t w = 0;
	unsigned int byte = off / 8, shift = off % 8;

	/* five bytes cover any 32-bit window; past the key's end reads as zero */
	for (unsigned int i = 0; i < 5; i++)
		w = w << 8 | (byte + i < XVS_RSS_KEY_LEN ? key[byte + i] : 0);
	return (uint32_t)(w >> (8 - shift));
}

uint32_t
xvs_toeplitz_ref(const uint8_t key[XVS_RSS_KEY_LEN], const uint8_t *in, size_t len)
{
	uint32_t result = 0;

	if (len > XVS_RSS_INPUT_MAX)
		len = XVS_RSS_INPUT_MAX;
	/* For every set input bit, MSB of byte 0 first, XOR in the left-most 32
	 * bits of the key shifted left by that bit's position. */
	for (size_t i = 0; i < len; i++)
		for (unsigned int b = 0; b < 8; b++)
			if (in[i] & (0x80u >> b))
				result ^= key_window(key, (unsigned int)(i * 8 + b));
	return result;
}

void
xvs_rss_table_init(struct xvs_rss_table *t, const uint8_t key[XVS_RSS_KEY_LEN])
{
	for (unsigned int pos = 0; pos < XVS_RSS_INPUT_MAX; pos++) {
		uint32_t bit[8];

		for (unsigned int b = 0; b < 8; b++)
			bit[b] = key_window(key, pos * 8 + b);
		for (unsigned int v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (unsigned int b = 0; b < 8; b++)
				if (v & (0x80u >> b))
					h ^= bit[b];
			t->t[pos][v] = h;
		}
	}
}

/* ---- hash input ---- */

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_DSTOPTS_ 60
#define IPV6_OPT_HOME_ADDRESS 0xc9   /* RFC 6275 6.3 */
#define IPV6_MAX_EXT_HDRS 8

/* In the functions below, cap is how many bytes of the frame can be read
 * (its first segment) and wire its whole length: length fields are checked
 * against wire, reads against cap. */
static size_t
add_ports(const uint8_t *frame, uint32_t cap, uint32_t l4_off, uint32_t end, uint8_t proto,
	  uint32_t tcp_type, uint32_t udp_type, uint32_t types, uint8_t *in, size_t at)
{
	/* The ports are the first 4 bytes of both headers; a header too short to
	 * hold them is hashed on addresses, like a non-TCP/UDP packet. */
	if (((proto == IPPROTO_TCP_ && (types & tcp_type)) ||
	     (proto == IPPROTO_UDP_ && (types & udp_type))) &&
	    l4_off <= end && end - l4_off >= (proto == IPPROTO_TCP_ ? 20u : 8u) &&
	    l4_off <= cap && cap - l4_off >= 4) {
		memcpy(in + at, frame + l4_off, 4);
		return at + 4;
	}
	return 0;
}

static size_t
input_ipv4(const uint8_t *frame, uint32_t cap, uint32_t wire, uint32_t off, uint32_t types,
	   uint8_t *in)
{
	const uint8_t *ip = frame + off;
	uint32_t ihl, tot;
	size_t r;

	if (cap < off || cap - off < 20 || (ip[0] >> 4) != 4)
		return 0;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = xvs_rd16(ip + 2);
	if (ihl < 20 || tot < ihl || tot > wire - off)
		return 0;
	memcpy(in, ip + 12, 8);
	/* MF or a fragment offset: later fragments carry no ports, so no
	 * fragment is hashed on them (all fragments of a datagram agree). */
	if ((xvs_rd16(ip + 6) & 0x3fff) == 0) {
		r = add_ports(frame, cap, off + ihl, off + tot, ip[9], XVS_RSS_TCP4, XVS_RSS_UDP4,
			      types, in, 8);
		if (r != 0)
			return r;
	}
	return (types & XVS_RSS_IPV4) ? 8 : 0;
}

static size_t
input_ipv6(const uint8_t *frame, uint32_t cap, uint32_t wire, uint32_t off, uint32_t types,
	   uint8_t *in)
{
	const uint8_t *ip = frame + off;
	const uint8_t *src, *dst;
	uint32_t end, cur, hlen;
	bool fragment = false;
	uint8_t nh;
	size_t r;

	if (cap < off || cap - off < 40 || (ip[0] >> 4) != 6)
		return 0;
	end = off + 40 + xvs_rd16(ip + 4);
	if (end > wire)
		return 0;
	src = ip + 8;
	dst = ip + 24;
	nh = ip[6];
	cur = off + 40;
	/* RFC 8200 4: walk the extension headers, picking up the addresses the
	 * "ex" types hash instead (RFC 6275: the Home Address destination option
	 * replaces the source, a type 2 routing header's address the destination). */
	for (int i = 0; i < IPV6_MAX_EXT_HDRS; i++) {
		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ && nh != IPPROTO_DSTOPTS_ &&
		    nh != IPPROTO_FRAGMENT_)
			break;
		if (end - cur < 8 || cap < cur || cap - cur < 8)
			return 0;
		hlen = nh == IPPROTO_FRAGMENT_ ? 8 : ((uint32_t)frame[cur + 1] + 1) * 8;
		if (end - cur < hlen || cap - cur < hlen)
			return 0;
		if (nh == IPPROTO_FRAGMENT_) {
			fragment = true;
		} else if (nh == IPPROTO_ROUTING_ && frame[cur + 2] == 2 && hlen == 24 &&
			   frame[cur + 3] == 1) {
			dst = frame + cur + 8;  /* type 2, one segment left: the home address */
		} else if (nh == IPPROTO_DSTOPTS_) {
			/* TLV options after the 2-byte header; Pad1 is a lone 0 byte. */
			for (uint32_t o = cur + 2; o < cur + hlen;) {
				uint8_t type = frame[o];

				if (type == 0) {
					o++;
					continue;
				}
				if (cur + hlen - o < 2 || cur + hlen - o - 2 < frame[o + 1])
					break;
				if (type == IPV6_OPT_HOME_ADDRESS && frame[o + 1] == 16) {
					src = frame + o + 2;
				}
				o += 2u + frame[o + 1];
			}
		}
		nh = frame[cur];
		cur += hlen;
	}
	/* An "ex" type hashes the header's own addresses when the packet has no
	 * such extension header (Microsoft, "RSS hashing types"). */
	if (types & (XVS_RSS_IPV6_EX | XVS_RSS_TCP6_EX | XVS_RSS_UDP6_EX)) {
		memcpy(in, src, 16);
		memcpy(in + 16, dst, 16);
		if (!fragment) {
			r = add_ports(frame, cap, cur, end, nh, XVS_RSS_TCP6_EX, XVS_RSS_UDP6_EX,
				      types, in, 32);
			if (r != 0)
				return r;
		}
		if (types & XVS_RSS_IPV6_EX)
			return 32;
	}
	/* Without an "ex" type the packet's own header addresses are hashed. */
	memcpy(in, ip + 8, 32);
	if (!fragment) {
		r = add_ports(frame, cap, cur, end, nh, XVS_RSS_TCP6, XVS_RSS_UDP6, types, in, 32);
		if (r != 0)
			return r;
	}
	return (types & XVS_RSS_IPV6) ? 32 : 0;
}

size_t
xvs_rss_input_seg(const uint8_t *frame, uint32_t cap, uint32_t wire, const struct xvs_l2 *l2,
		  uint32_t types, uint8_t in[XVS_RSS_INPUT_MAX])
{
	if (frame == NULL || l2 == NULL || wire < cap)
		return 0;
	if (l2->ethertype == XVS_ETYPE_IPV4)
		return input_ipv4(frame, cap, wire, l2->l3_off, types, in);
	if (l2->ethertype == XVS_ETYPE_IPV6)
		return input_ipv6(frame, cap, wire, l2->l3_off, types, in);
	return 0;
}

size_t
xvs_rss_input(const uint8_t *frame, uint32_t len, const struct xvs_l2 *l2, uint32_t types,
	      uint8_t in[XVS_RSS_INPUT_MAX])
{
	return xvs_rss_input_seg(frame, len, len, l2, types, in);
}

void
xvs_rss_reta_fill(uint16_t *reta, uint32_t size, uint16_t n)
{
	if (n == 0)
		n = 1;
	for (uint32_t i = 0; i < size; i++)
		reta[i] = (uint16_t)(i % n);
}

/* ---- settings ---- */

static const char *const profile_names[XVS_RSS_PROFILE__MAX] = {
	[XVS_RSS_CLOSEST] = "closest",
	[XVS_RSS_STATIC] = "static",
	[XVS_RSS_CONSERVATIVE] = "conservative",
};

static const char *const type_names[] = {
	"ipv4", "tcp4", "udp4", "ipv6", "tcp6", "udp6", "ipv6-ex", "tcp6-ex", "udp6-ex",
};

void
xvs_rss_cfg_init(struct xvs_rss_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->base_cpu = -1;
	cfg->max_cpu = -1;
	cfg->max_cpus = 0;
	cfg->queues = 0;
	cfg->reta_size = XVS_RSS_RETA_DEFAULT;
	cfg->profile = XVS_RSS_CONSERVATIVE;
	cfg->types = XVS_RSS_TYPES_DEFAULT;
	memcpy(cfg->key, xvs_rss_default_key, XVS_RSS_KEY_LEN);
}

int
xvs_rss_key_parse(const char *what, const char *s, uint8_t key[XVS_RSS_KEY_LEN],
		  struct xvs_err *err)
{
	uint8_t k[XVS_RSS_KEY_LEN];
	size_t n = 0;

	if (s == NULL)
		s = "";
	for (const char *p = s; *p != '\0';) {
		int hi, lo;

		/* one separator between two bytes, never first, last or doubled */
		if ((*p == ':' || *p == '-') && n > 0 && p[-1] != ':' && p[-1] != '-' && p[1] != '\0') {
			p++;
			continue;
		}
		hi = xvs_hex_digit(p[0]);
		lo = hi < 0 ? -1 : xvs_hex_digit(p[1]);
		if (hi < 0 || lo < 0 || n == XVS_RSS_KEY_LEN)
			return xvs_err_set(err, -EINVAL,
					   "%s: expected %d bytes in hex (80 hex digits, optionally "
					   "separated by : or -)", what, XVS_RSS_KEY_LEN);
		k[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (n != XVS_RSS_KEY_LEN)
		return xvs_err_set(err, -EINVAL, "%s: %zu bytes given, the key has %d", what, n,
				   XVS_RSS_KEY_LEN);
	memcpy(key, k, sizeof(k));
	return 0;
}

void
xvs_rss_key_format(const uint8_t key[XVS_RSS_KEY_LEN], char buf[2 * XVS_RSS_KEY_LEN + 1])
{
	for (int i = 0; i < XVS_RSS_KEY_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", key[i]);
}

int
xvs_rss_types_parse(const char *what, const char *s, uint32_t *types, struct xvs_err *err)
{
	uint32_t t = 0;
	const char *p = s == NULL ? "" : s;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		unsigned int i;

		if (n == 0 || (p[n] == ',' && p[n + 1] == '\0'))
			return xvs_err_set(err, -EINVAL, "%s: empty hash type in \"%.64s\"", what,
					   s);
		for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (strlen(type_names[i]) == n && strncmp(type_names[i], p, n) == 0)
				break;
		if (i == sizeof(type_names) / sizeof(type_names[0]))
			return xvs_err_set(err, -EINVAL,
					   "%s: unknown hash type \"%.*s\" (valid: ipv4, tcp4, udp4, "
					   "ipv6, tcp6, udp6, ipv6-ex, tcp6-ex, udp6-ex)",
					   what, (int)(n > 32 ? 32 : n), p);
		t |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	if (t == 0)
		return xvs_err_set(err, -EINVAL, "%s: at least one hash type is needed", what);
	*types = t;
	return 0;
}

int
xvs_rss_types_format(uint32_t types, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (unsigned int i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		int n;

		if (!(types & (1u << i)))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", type_names[i]);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

int
xvs_rss_profile_parse(const char *what, const char *s, enum xvs_rss_profile *p,
		      struct xvs_err *err)
{
	for (int i = 0; i < XVS_RSS_PROFILE__MAX; i++)
		if (s != NULL && strcmp(s, profile_names[i]) == 0) {
			*p = (enum xvs_rss_profile)i;
			return 0;
		}
	return xvs_err_set(err, -EINVAL,
			   "%s \"%.32s\" is not a profile (valid: closest, static, conservative)",
			   what, s == NULL ? "" : s);
}

const char *
xvs_rss_profile_name(enum xvs_rss_profile p)
{
	return (unsigned int)p < XVS_RSS_PROFILE__MAX ? profile_names[p] : "?";
}

int
xvs_rss_select(const struct xvs_rss_cfg *cfg, const uint16_t *worker_cpu, uint16_t n,
	       uint16_t *out, struct xvs_err *err)
{
	uint16_t k = 0;
	int32_t lo = cfg->base_cpu, hi = cfg->max_cpu;
	bool base_found = false;

	if (n == 0)
		return xvs_err_set(err, -EINVAL, "rss: no worker is active");
	if (lo < 0) {
		lo = worker_cpu[0];
		for (uint16_t i = 1; i < n; i++)
			if (worker_cpu[i] < lo)
				lo = worker_cpu[i];
	}
	for (uint16_t i = 0; i < n; i++)
		base_found |= worker_cpu[i] == lo;
	if (!base_found) {
		char cpus[96];
		size_t used = 0;

		cpus[0] = '\0';
		for (uint16_t i = 0; i < n && used < sizeof(cpus) - 8; i++)
			used += (size_t)snprintf(cpus + used, sizeof(cpus) - used, "%s%u",
						 i ? "," : "", worker_cpu[i]);
		return xvs_err_set(err, -EINVAL,
				   "rss: base-cpu %d runs no worker (workers run on CPUs %s)", lo,
				   cpus);
	}
	if (hi >= 0 && hi < lo)
		return xvs_err_set(err, -EINVAL, "rss: max-cpu %d is below base-cpu %d", hi, lo);
	/* Selection sort by (cpu, id): n is at most a few dozen. */
	for (int32_t cpu = lo; k < n; cpu++) {
		int32_t next = -1;

		for (uint16_t i = 0; i < n; i++) {
			if (worker_cpu[i] < cpu)
				continue;
			if (next < 0 || worker_cpu[i] < next)
				next = worker_cpu[i];
		}
		if (next < 0 || (hi >= 0 && next > hi))
			break;
		for (uint16_t i = 0; i < n; i++)
			if (worker_cpu[i] == next &&
			    (cfg->max_cpus == 0 || k < cfg->max_cpus))
				out[k++] = i;
		cpu = next;
		if (cfg->max_cpus != 0 && k >= cfg->max_cpus)
			break;
	}
	return k;
}

uint16_t
xvs_rss_conservative_next(uint16_t k, uint16_t n, const double *busy_pct)
{
	double max = 0, sum = 0;

	if (n == 0)
		return 0;
	if (k < 1)
		return 1;
	if (k > n)
		return n;
	for (uint16_t i = 0; i < k; i++) {
		sum += busy_pct[i];
		if (busy_pct[i] > max)
			max = busy_pct[i];
	}
	if (max > XVS_RSS_GROW_PCT && k < n)
		return k + 1;
	if (k > 1 && sum < XVS_RSS_SHRINK_PCT * (k - 1))
		return k - 1;
	return k;
}

uint16_t
xvs_rss_rebalance(uint16_t *reta, uint32_t size, const uint16_t *w, uint16_t n,
		  const double *busy_pct)
{
	uint16_t b, l, nb = 0, m, moved;
	double gap;

	if (n < 2)
		return 0;
	b = l = w[0];
	for (uint16_t i = 1; i < n; i++) {
		if (busy_pct[w[i]] > busy_pct[b])
			b = w[i];
		if (busy_pct[w[i]] < busy_pct[l])
			l = w[i];
	}
	gap = busy_pct[b] - busy_pct[l];
	if (b == l || busy_pct[b] < XVS_RSS_REBALANCE_MIN_PCT || gap < XVS_RSS_REBALANCE_GAP_PCT)
		return 0;
	for (uint32_t i = 0; i < size; i++)
		nb += reta[i] == b;
	m = (uint16_t)((double)nb * gap / (2.0 * busy_pct[b]));
	if (m < 1)
		m = 1;
	if (m >= nb)
		m = nb > 1 ? (uint16_t)(nb - 1) : 0;
	moved = m;
	/* every other one of b's entries first, so the moved flows are spread
	 * over the hash space rather than one block of it */
	for (uint32_t i = 0, seen = 0; i < size && m > 0; i++)
		if (reta[i] == b && (seen++ & 1)) {
			reta[i] = l;
			m--;
		}
	for (uint32_t i = 0; i < size && m > 0; i++)
		if (reta[i] == b) {
			reta[i] = l;
			m--;
		}
	return moved;
}

bool
xvs_rss_spread_paid(double pps_before, double busiest_pct_before, double pps_after,
		    double busiest_pct_after)
{
	double before, after;

	if (busiest_pct_before <= 0 || busiest_pct_after <= 0)
		return true; /* no load to judge by: keep the decision */
	before = pps_before * 100.0 / busiest_pct_before;
	after = pps_after * 100.0 / busiest_pct_after;
	return after >= before * XVS_RSS_PAY_GAIN;
}

uint16_t
xvs_rss_conservative_step(struct xvs_rss_cons *st, uint16_t k, uint16_t n,
			  const double *busy_pct, double rx_pps, uint64_t now_ns,
			  enum xvs_rss_cons_verdict *verdict)
{
	enum xvs_rss_cons_verdict v = XVS_RSS_CONS_KEEP;
	double busiest = 0;
	uint16_t next;

	for (uint16_t i = 0; i < k && i < n; i++)
		if (busy_pct[i] > busiest)
			busiest = busy_pct[i];
	if (st->trial > 0) {
		/* judge a growth on a sample taken wholly after it */
		if (--st->trial > 0 || k <= 1) {
			next = k;
			goto out;
		}
		if (xvs_rss_spread_paid(st->trial_pps, st->trial_busy, rx_pps, busiest)) {
			next = k;
			goto out;
		}
		st->hold_until_ns = now_ns + XVS_RSS_HOLD_NS;
		next = (uint16_t)(k - 1);
		v = XVS_RSS_CONS_NOT_PAID;
		goto out;
	}
	next = xvs_rss_conservative_next(k, n, busy_pct);
	/* growing helps only a port with traffic of its own */
	if (next > k && (now_ns < st->hold_until_ns || rx_pps <= 0))
		next = k;
	if (next > k) {
		st->trial = XVS_RSS_TRIAL_SAMPLES;
		st->trial_pps = rx_pps;
		st->trial_busy = busiest;
		v = XVS_RSS_CONS_GROW;
	} else if (next < k) {
		v = XVS_RSS_CONS_SHRINK;
	}
out:
	if (verdict != NULL)
		*verdict = v;
	return next;
}

void
xvs_rss_cons_restart_trial(struct xvs_rss_cons *st)
{
	st->trial = st->trial > 0 ? XVS_RSS_TRIAL_SAMPLES : 0;
}

void
xvs_rss_partition(const uint16_t *dst, uint16_t n, uint16_t n_targets, uint16_t *start,
		  uint16_t *idx)
{
	uint16_t fill[n_targets > 0 ? n_targets : 1];

	/* Counting sort: stable, so each target keeps its items' arrival order. */
	memset(start, 0, sizeof(start[0]) * (n_targets + 1u));
	for (uint16_t i = 0; i < n; i++)
		start[dst[i] + 1]++;
	for (uint16_t t = 0; t < n_targets; t++) {
		start[t + 1] += start[t];
		fill[t] = start[t];
	}
	for (uint16_t i = 0; i < n; i++)
		idx[fill[dst[i]]++] = i;
}

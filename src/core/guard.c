/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port security: DHCP/router guard classifiers, MAC spoofing check with
 * sticky learning, and the storm limiter's token bucket (core).
 *
 * The classifier reuses pkt_parse for Ethernet, IPv4 options and the IPv6
 * extension header walk, so the guards see exactly the offsets the rest of
 * the switch sees; it only adds the bounded reads of the L4 fields it needs
 * (UDP ports, DHCPv6 message type, ICMP type), each checked against the end
 * of the IP datagram.
 */
#include <errno.h>
#include <string.h>

#include "guard.h"
#include "pkt_parse.h"

#define PROTO_ICMP 1
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_HOPOPTS 0
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_DSTOPTS 60

#define DHCP4_SERVER_PORT 67
#define DHCP4_CLIENT_PORT 68
#define DHCP6_CLIENT_PORT 546
#define DHCP6_SERVER_PORT 547

#define NS_PER_S 1000000000ull

static const char *const class_names[XVS_GUARD__MAX] = {
	[XVS_GUARD_NONE] = "none",
	[XVS_GUARD_DHCP4_SERVER] = "dhcp4_server",
	[XVS_GUARD_DHCP6_SERVER] = "dhcp6_server",
	[XVS_GUARD_ROUTER6] = "router6",
	[XVS_GUARD_ROUTER4] = "router4",
	[XVS_GUARD_INCOMPLETE] = "incomplete_header_chain",
};

const char *
xvs_guard_class_name(int cls)
{
	if (cls < 0 || cls >= XVS_GUARD__MAX)
		return "unknown";
	return class_names[cls];
}

static bool
is_ipv6_ext(uint8_t proto)
{
	return proto == PROTO_HOPOPTS || proto == PROTO_ROUTING || proto == PROTO_FRAGMENT ||
	       proto == PROTO_DSTOPTS;
}

/* RFC 8415 7.3: the messages only servers and relays (towards clients) send. */
static bool
dhcp6_server_type(uint8_t type)
{
	return type == 2 || type == 7 || type == 10 || type == 13;
}

/* Classify from the L4 header at f->l4_off, which lies before end. */
static enum xvs_guard_class
classify_l4(const uint8_t *frame, uint32_t end, const struct xvs_flow *f)
{
	uint32_t off = f->l4_off, need;
	uint16_t sport, dport;

	switch (f->proto) {
	case PROTO_UDP:
		need = 8;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		need = 1;
		break;
	default:
		return XVS_GUARD_NONE;
	}
	/* A complete datagram this short is malformed (the parse stage's
	 * business); a first fragment this short hides its header. */
	if (end - off < need)
		return f->fragment ? XVS_GUARD_INCOMPLETE : XVS_GUARD_NONE;

	if (f->l3 == 4 && f->proto == PROTO_ICMP)
		return frame[off] == 9 || frame[off] == 5 ? XVS_GUARD_ROUTER4 : XVS_GUARD_NONE;
	if (f->l3 == 6 && f->proto == PROTO_ICMPV6)
		return frame[off] == 134 || frame[off] == 137 ? XVS_GUARD_ROUTER6
							      : XVS_GUARD_NONE;
	if (f->proto != PROTO_UDP)
		return XVS_GUARD_NONE;

	sport = xvs_rd16(frame + off);
	dport = xvs_rd16(frame + off + 2);
	if (f->l3 == 4)
		return sport == DHCP4_SERVER_PORT || dport == DHCP4_CLIENT_PORT
			       ? XVS_GUARD_DHCP4_SERVER
			       : XVS_GUARD_NONE;
	if (sport != DHCP6_SERVER_PORT && dport != DHCP6_CLIENT_PORT && dport != DHCP6_SERVER_PORT)
		return XVS_GUARD_NONE;
	if (end - off < 9)
		return f->fragment ? XVS_GUARD_INCOMPLETE : XVS_GUARD_NONE;
	return dhcp6_server_type(frame[off + 8]) ? XVS_GUARD_DHCP6_SERVER : XVS_GUARD_NONE;
}

enum xvs_guard_class
xvs_guard_classify(const uint8_t *frame, uint32_t len)
{
	struct xvs_flow f;
	struct xvs_l2 l2;
	uint32_t end;

	if (xvs_parse_l2(frame, len, &l2) != XVS_PARSE_OK)
		return XVS_GUARD_NONE;
	if (l2.ethertype != XVS_ETYPE_IPV4 && l2.ethertype != XVS_ETYPE_IPV6)
		return XVS_GUARD_NONE;
	if (xvs_parse_flow(frame, len, &l2, &f) != 0)
		return XVS_GUARD_NONE;
	/* xvs_parse_flow checked both length fields against len. */
	if (f.l3 == 4)
		end = l2.l3_off + xvs_rd16(frame + l2.l3_off + 2);
	else
		end = l2.l3_off + 40u + xvs_rd16(frame + l2.l3_off + 4);

	if (f.l4_off == 0) {
		/* Non-first fragment: nothing to see, and harmless (guard.h). */
		if (f.fragment)
			return XVS_GUARD_NONE;
		/* IPv6 chain longer than the walk (or past 64 KB). */
		return f.l3 == 6 ? XVS_GUARD_INCOMPLETE : XVS_GUARD_NONE;
	}
	/* RFC 7112: the first fragment must hold the whole header chain. */
	if (f.l3 == 6 && f.fragment && is_ipv6_ext(f.proto))
		return XVS_GUARD_INCOMPLETE;
	if (f.l4_off > end)
		return XVS_GUARD_NONE;
	return classify_l4(frame, end, &f);
}

static bool
mac_usable(const uint8_t m[6])
{
	return (m[0] & 1) == 0 && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0;
}

int
xvs_mac_guard_set(struct xvs_mac_guard *g, const char *port, bool uplink,
		  const uint8_t (*macs)[6], unsigned n, unsigned sticky_max, struct xvs_err *err)
{
	unsigned i, j;

	if (port == NULL)
		port = "?";
	if (g == NULL || (macs == NULL && n > 0))
		return xvs_err_set(err, -EINVAL, "port %s: mac guard: NULL argument", port);
	if (uplink)
		return xvs_err_set(err, -EPERM,
				   "port %s: MAC spoofing protection is for VM ports; an uplink "
				   "carries many sources",
				   port);
	if (n + sticky_max > XVS_MAC_GUARD_MAX)
		return xvs_err_set(err, -EINVAL,
				   "port %s: %u assigned + %u sticky MACs, at most %d in all", port,
				   n, sticky_max, XVS_MAC_GUARD_MAX);
	if (n + sticky_max == 0)
		return xvs_err_set(err, -EINVAL,
				   "port %s: MAC spoofing protection needs an assigned MAC or "
				   "sticky learning",
				   port);
	for (i = 0; i < n; i++) {
		if (!mac_usable(macs[i]))
			return xvs_err_set(err, -EINVAL,
					   "port %s: assigned MAC %u is a group or zero address",
					   port, i);
		for (j = 0; j < i; j++)
			if (memcmp(macs[i], macs[j], 6) == 0)
				return xvs_err_set(err, -EINVAL,
						   "port %s: assigned MAC %u repeats MAC %u", port,
						   i, j);
	}
	memset(g, 0, sizeof(*g));
	if (n > 0)
		memcpy(g->mac, macs, (size_t)n * 6);
	g->n_assigned = (uint8_t)n;
	g->sticky_max = (uint8_t)sticky_max;
	return 0;
}

static bool
mac_allowed(const struct xvs_mac_guard *g, const uint8_t src[6])
{
	unsigned i, n = (unsigned)g->n_assigned + g->n_learned;

	for (i = 0; i < n && i < XVS_MAC_GUARD_MAX; i++)
		if (memcmp(g->mac[i], src, 6) == 0)
			return true;
	return false;
}

enum xvs_mac_verdict
xvs_mac_guard_check(const struct xvs_mac_guard *g, const uint8_t src[6])
{
	if (!mac_usable(src))
		return XVS_MAC_SPOOF;
	if (mac_allowed(g, src))
		return XVS_MAC_ALLOW;
	return g->n_learned < g->sticky_max ? XVS_MAC_LEARN : XVS_MAC_SPOOF;
}

int
xvs_mac_guard_learn(struct xvs_mac_guard *g, const uint8_t src[6])
{
	unsigned at;

	if (!mac_usable(src))
		return -EINVAL;
	if (mac_allowed(g, src))
		return 0;
	if (g->n_learned >= g->sticky_max)
		return -ENOSPC;
	at = (unsigned)g->n_assigned + g->n_learned;
	memcpy(g->mac[at], src, 6);
	g->n_learned++;
	return 0;
}

int
xvs_storm_init(struct xvs_storm *s, uint64_t pps, uint64_t now_ns, struct xvs_err *err)
{
	if (s == NULL)
		return xvs_err_set(err, -EINVAL, "storm limit: NULL argument");
	if (pps > XVS_STORM_MAX_PPS)
		return xvs_err_set(err, -EINVAL, "storm limit %llu pps above the maximum %llu",
				   (unsigned long long)pps, XVS_STORM_MAX_PPS);
	s->pps = pps;
	s->tokens = pps * NS_PER_S;
	s->last_ns = now_ns;
	return 0;
}

uint32_t
xvs_storm_admit(struct xvs_storm *s, uint64_t now_ns, uint32_t n)
{
	uint64_t cap = s->pps * NS_PER_S, avail;

	if (s->pps == 0)
		return n;
	if (now_ns > s->last_ns) {
		uint64_t dt = now_ns - s->last_ns;

		/* Past one second the bucket is full anyway; capping dt first
		 * keeps dt * pps below 1e17. */
		if (dt >= NS_PER_S || cap - s->tokens <= dt * s->pps)
			s->tokens = cap;
		else
			s->tokens += dt * s->pps;
		s->last_ns = now_ns;
	}
	avail = s->tokens / NS_PER_S;
	if (avail < n)
		n = (uint32_t)avail;
	s->tokens -= (uint64_t)n * NS_PER_S;
	return n;
}

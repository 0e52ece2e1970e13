/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port security classifiers and policies (core, no DPDK).
 *
 * The built-in guard stages (src/dp/stages/, on the extension ABI) run these
 * on frames a VM port sends (that port's ingress); none of them applies to an
 * uplink. They are pure functions over plain buffers, except the storm
 * limiter, whose token bucket the caller owns and whose time is passed in.
 *
 * Classification (xvs_guard_classify), on frames that xvs_parse_l2 accepts
 * (one 802.1Q tag at most):
 *  - DHCPv4 server message: IPv4 UDP with source port 67 (a server or relay
 *    answering) or destination port 68 (only servers and relays send to the
 *    client port, whatever their source port: clients filter on 68 alone).
 *  - DHCPv6 server message: IPv6 UDP with source port 547 or destination
 *    port 546 or 547, whose message type (first payload byte, RFC 8415 7.3) is
 *    ADVERTISE 2, REPLY 7, RECONFIGURE 10 or RELAY-REPL 13.
 *  - IPv6 router message: ICMPv6 Router Advertisement 134 or Redirect 137
 *    (RFC 4861), after any hop-by-hop, routing and destination options headers
 *    (up to 8, as xvs_parse_flow walks them).
 *  - IPv4 router message: ICMP Router Advertisement 9 (RFC 1256) or Redirect 5
 *    (RFC 792), after any IPv4 options (IHL).
 *  - Fragments. A non-first fragment carries no L4 header: it cannot be
 *    classified and passes (XVS_GUARD_NONE). That is safe because the first
 *    fragment, which holds the ports or ICMP type, is classified and dropped,
 *    and the receiver cannot reassemble a datagram without it; for ND,
 *    RFC 6980 also makes hosts discard fragmented RAs. A first fragment whose
 *    header chain does not reach the upper-layer header (an IPv6 extension
 *    header after the fragment header, RFC 7112), or an IPv6 chain longer than
 *    the parser walks, is XVS_GUARD_INCOMPLETE: RFC 7113 3 advises RA-Guard to
 *    drop what it cannot inspect, and the stages do when a guard is on.
 *  - A frame whose IP header is malformed is XVS_GUARD_NONE here: it is the
 *    parse stage's job to drop it with its own reason.
 */
#ifndef XVS_GUARD_H
#define XVS_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "xvs_err.h"

enum xvs_guard_class {
	XVS_GUARD_NONE = 0,         /* nothing the guards act on */
	XVS_GUARD_DHCP4_SERVER,     /* DHCP guard drops it */
	XVS_GUARD_DHCP6_SERVER,     /* DHCP guard drops it */
	XVS_GUARD_ROUTER6,          /* router guard drops it: RA or redirect */
	XVS_GUARD_ROUTER4,          /* router guard drops it: router adv. or redirect */
	XVS_GUARD_INCOMPLETE,       /* header chain not inspectable: any guard drops it */
	XVS_GUARD__MAX
};

/* Classify frame[0..len). Never reads past len. Thread-safe, no state. */
enum xvs_guard_class xvs_guard_classify(const uint8_t *frame, uint32_t len);

/* Should a frame of class cls be dropped on a port with these guards on?
 * An incomplete header chain is dropped by either guard: it could hide what
 * both look for. */
static inline bool
xvs_guard_drops(enum xvs_guard_class cls, bool dhcp_guard, bool router_guard)
{
	switch (cls) {
	case XVS_GUARD_DHCP4_SERVER:
	case XVS_GUARD_DHCP6_SERVER:
		return dhcp_guard;
	case XVS_GUARD_ROUTER6:
	case XVS_GUARD_ROUTER4:
		return router_guard;
	case XVS_GUARD_INCOMPLETE:
		return dhcp_guard || router_guard;
	default:
		return false;
	}
}

/* "none", "dhcp4_server", ... (also the drop reason names of the stages). */
const char *xvs_guard_class_name(int cls);

/* MAC spoofing protection of one VM port.
 *
 * The port may send only from its allowed set: the assigned MACs, and with
 * sticky on, the first sources it used, up to the free slots. A frame from any
 * other source (including a group address) is XVS_MAC_SPOOF and dropped; the
 * switch then does not learn that source either. With spoofing protection
 * off, the stage is not enabled at all.
 *
 * Sticky learning is decided by the control thread, which owns this struct:
 * workers read it through the snapshot and only report XVS_MAC_LEARN, and the
 * control thread calls xvs_mac_guard_learn() (first request wins, further
 * ones fail with -ENOSPC) and publishes. A LEARN frame passes: the first
 * frames a fresh VM sends (DHCP discover) would otherwise be lost for a
 * retransmit timeout, and the window is bounded by one control-thread round
 * trip and by the free slots. */
#define XVS_MAC_GUARD_MAX 8

struct xvs_mac_guard {
	uint8_t mac[XVS_MAC_GUARD_MAX][6]; /* allowed sources: assigned, then learned */
	uint8_t n_assigned;                /* configured MACs at mac[0..n_assigned) */
	uint8_t n_learned;                 /* sticky MACs after them */
	uint8_t sticky_max;                /* learned MACs allowed; 0 = sticky off */
};

enum xvs_mac_verdict {
	XVS_MAC_ALLOW = 0, /* source is allowed */
	XVS_MAC_SPOOF = 1, /* drop: not allowed and no sticky slot */
	XVS_MAC_LEARN = 2, /* pass, and ask the control thread to learn it */
};

/* Configure g for a port: n assigned MACs (unicast, not zero, distinct) and
 * sticky_max learned ones (n + sticky_max <= XVS_MAC_GUARD_MAX, and at
 * least one of them non-zero: a guard with no allowed source would drop
 * everything). Refused with -EPERM on an uplink: uplinks carry many
 * sources. Clears learned MACs. Returns 0 or -EINVAL/-EPERM with a message
 * naming port. Control thread. */
int xvs_mac_guard_set(struct xvs_mac_guard *g, const char *port, bool uplink,
		      const uint8_t (*macs)[6], unsigned n, unsigned sticky_max,
		      struct xvs_err *err);

/* Verdict for a frame from src. Reads g only (workers). */
enum xvs_mac_verdict xvs_mac_guard_check(const struct xvs_mac_guard *g, const uint8_t src[6]);

/* Learn src as sticky (control thread). Returns 0 (also when already
 * allowed), -ENOSPC when the sticky slots are used, -EINVAL for a group or
 * zero address. */
int xvs_mac_guard_learn(struct xvs_mac_guard *g, const uint8_t src[6]);

/* Storm limit of one port: broadcast, multicast and unknown-unicast frames
 * the port sends, in packets per second, as a token bucket that holds one
 * second of rate (an idle port may send a burst of rate frames, then rate per
 * second). Known unicast is never counted or limited. Fixed-point: tokens are
 * counted in units of 1/1e9 packet, so any rate up to XVS_STORM_MAX_PPS is
 * exact. Time going backwards adds nothing. The caller owns the bucket; the
 * datapath keeps one per port and per worker receiving from it, with the rate
 * split between them. */
#define XVS_STORM_MAX_PPS 100000000ull /* 1e8: keeps rate * 1e9 * 1 s < 2^64 */

struct xvs_storm {
	uint64_t pps;     /* limit; 0 = no limit */
	uint64_t tokens;  /* in 1e-9 packets, at most pps * 1e9 */
	uint64_t last_ns; /* time of the last refill */
};

/* Configure the bucket (full) at now_ns. -EINVAL when pps > XVS_STORM_MAX_PPS. */
int xvs_storm_init(struct xvs_storm *s, uint64_t pps, uint64_t now_ns, struct xvs_err *err);

/* Does a frame to dst count against the limit? Group destinations always do,
 * unicast only when the forwarding lookup missed (it will be flooded). */
static inline bool
xvs_storm_counts(const uint8_t dst[6], bool fdb_hit)
{
	return (dst[0] & 1) != 0 || !fdb_hit;
}

/* Take tokens for up to n counted frames at now_ns; returns how many pass
 * (the first ones: the rest are dropped). */
uint32_t xvs_storm_admit(struct xvs_storm *s, uint64_t now_ns, uint32_t n);

#endif /* XVS_GUARD_H */

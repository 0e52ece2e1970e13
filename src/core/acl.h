/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port ACL rule model, parser and reference matcher (core, no DPDK).
 *
 * This file defines what an ACL rule means. The datapath's classifier
 * (rte_acl, src/dp/stages/) must give the same answer as xvs_acl_match_slow()
 * for every rule set and packet; its tests compare the two on random input.
 *
 * Semantics, exactly:
 *  - Direction is seen from the VM: "out" is traffic the VM sends (the port's
 *    ingress), "in" is traffic delivered to the VM (the port's egress); "both"
 *    is either. For "out", local = the packet's source and remote = its
 *    destination; for "in", local = destination and remote = source. This
 *    applies to MACs, IP addresses and L4 ports alike.
 *  - A rule matches a packet when its direction includes the packet's and
 *    every field it sets matches; unset fields match anything:
 *      local-mac / remote-mac: equal to the packet's MAC on that side.
 *      local-ip / remote-ip:   the packet is IP of the prefix's family (4 or
 *                              6) and the first len bits of its address on
 *                              that side equal the prefix. /0 matches every
 *                              packet of that family (and no other).
 *      proto:                  the packet is IPv4 or IPv6 and its protocol
 *                              (after IPv6 extension headers, as
 *                              xvs_parse_flow reports it) is equal.
 *      local-port / remote-port: the packet has TCP or UDP ports
 *                              (xvs_flow.has_ports: not for any IP fragment)
 *                              and the port on that side is in [lo, hi].
 *    A frame that xvs_parse_flow rejects as malformed is no IP packet here:
 *    it can only match rules without IP, proto or port fields.
 *  - Of all matching rules, the one with the highest weight wins; among equal
 *    weights the one inserted first (lowest index). Its action applies:
 *    allow, deny, or meter (allow up to rate bits or packets per second, drop the excess;
 *    the metering itself is the datapath's token bucket, not part of the
 *    match). When no rule matches, the packet is allowed.
 *    (rte_acl returns the highest priority and does not define ties, so the
 *    datapath gives rule i the unique priority
 *    weight * XVS_ACL_MAX_RULES + (XVS_ACL_MAX_RULES - i), which for every
 *    weight and i < XVS_ACL_MAX_RULES lies in [RTE_ACL_MIN_PRIORITY 1,
 *    RTE_ACL_MAX_PRIORITY 2^29 - 1].)
 *  - Stateful rules (stateful=on, action allow only): a packet that this rule
 *    allows records its flow (IP family, protocol, local/remote address and
 *    port; ports 0 when the packet has none) with the rule's idle timeout.
 *    Before rules are consulted, a packet of a recorded flow in either
 *    direction is allowed and refreshes it; that is what lets return traffic
 *    through a deny rule. Only IP packets record or use flows; when the table
 *    is full, the packet is still allowed but its flow is not recorded (the
 *    verdict says so, the datapath counts it). A flow expires when now_ns - last_ns > timeout. No
 *    TCP state is tracked: FIN/RST do not end a flow, the timeout does. Any
 *    change to a port's rule set clears its flows (the snapshot carries a new,
 *    empty table).
 */
#ifndef XVS_ACL_H
#define XVS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xvs_err.h"

#define XVS_ACL_MAX_RULES 4096              /* per port */
#define XVS_ACL_MAX_TIMEOUT_S 86400u        /* stateful idle timeout, seconds */
#define XVS_ACL_DEFAULT_TIMEOUT_S 60u       /* when stateful=on has no timeout= */
#define XVS_ACL_MAX_TOKENS 16               /* key=value tokens of one rule */

enum xvs_acl_dir {
	XVS_ACL_IN = 1,   /* delivered to the VM */
	XVS_ACL_OUT = 2,  /* sent by the VM */
	XVS_ACL_BOTH = 3,
};

enum xvs_acl_action {
	XVS_ACL_ALLOW = 1,
	XVS_ACL_DENY = 2,
	XVS_ACL_METER = 3, /* allow up to rate_bps or rate_pps, drop the excess */
};

struct xvs_acl_prefix {
	uint8_t family;    /* 0 = not set, 4 or 6 */
	uint8_t len;       /* prefix length: 0-32 or 0-128 */
	uint8_t addr[16];  /* network order; IPv4 in the first 4 bytes; bits past len zero */
};

/* One rule. Owned by the control thread; workers see the compiled form. */
struct xvs_acl_rule {
	uint8_t dir;                        /* enum xvs_acl_dir */
	uint8_t action;                     /* enum xvs_acl_action */
	bool has_proto;                     /* proto is set */
	uint8_t proto;                      /* IP protocol */
	bool has_local_mac, has_remote_mac; /* the MACs below are set */
	uint8_t local_mac[6], remote_mac[6];
	bool has_local_port, has_remote_port; /* the ranges below are set */
	uint16_t local_port_lo, local_port_hi;   /* inclusive, host order */
	uint16_t remote_port_lo, remote_port_hi;
	struct xvs_acl_prefix local_ip, remote_ip;
	uint16_t weight;                    /* higher wins; default 0 */
	bool stateful;                      /* record allowed flows */
	uint32_t timeout_s;                 /* stateful idle timeout; 0 when not stateful */
	uint64_t rate_bps;                  /* meter rate, bits/s; 0 unless meter */
	uint64_t rate_pps;                  /* or packets/s (rate=...pps); one of the two */
};

/* Parse one rule from key=value tokens as the CLI sends them:
 *   dir=in|out|both action=allow|deny|meter rate=<n>[k|m|g] (bit/s, meter)
 *   or rate=<n>[k|m]pps (packets/s, meter)
 *   local-ip=/remote-ip=<addr>[/<len>] local-mac=/remote-mac=<aa:bb:..>
 *   proto=tcp|udp|icmp|icmpv6|<0-255> local-port=/remote-port=<n>[-<m>]
 *   weight=<0-65535> stateful=on|off timeout=<seconds>
 * dir and action are required; each key at most once. The result is checked
 * with xvs_acl_rule_check(). Returns 0, or -EINVAL with a message naming the
 * token and the rule ("acl: remote-ip '10.0.0.1/8' has host bits set; did you
 * mean 10.0.0.0/8?"). *out is zeroed first. */
int xvs_acl_rule_parse(const char *const *tokens, unsigned n, struct xvs_acl_rule *out,
		       struct xvs_err *err);

/* The same from one string of space-separated tokens. */
int xvs_acl_rule_parse_str(const char *line, struct xvs_acl_rule *out, struct xvs_err *err);

/* Canonical text of a valid rule, parseable by xvs_acl_rule_parse_str into an
 * equal rule; keys in the order above, unset ones left out. Returns the
 * length it needs (snprintf rule). */
int xvs_acl_rule_format(const struct xvs_acl_rule *r, char *buf, size_t len);

/* Check a rule built in code: known dir and action; rate set exactly for
 * meter; prefixes with valid family and length and no host bits; both
 * prefixes of one family; port ranges lo <= hi and only with proto tcp or
 * udp; icmp only with IPv4 and icmpv6 only with IPv6 prefixes; stateful only
 * for allow, with a timeout of 1..XVS_ACL_MAX_TIMEOUT_S, and no timeout
 * otherwise. Returns 0 or -EINVAL with a message. */
int xvs_acl_rule_check(const struct xvs_acl_rule *r, struct xvs_err *err);

/* A packet as the ACL sees it, independent of direction. */
struct xvs_acl_pkt {
	uint8_t src_mac[6], dst_mac[6];
	uint8_t l3;            /* 4, 6, or 0: not IP (or malformed IP) */
	uint8_t proto;         /* IP protocol, when l3 != 0 */
	bool has_ports;        /* sport/dport valid (TCP/UDP, not a fragment) */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint16_t sport, dport; /* host order */
};

/* Fill *p from a frame (xvs_parse_l2 + xvs_parse_flow). Returns 0, or
 * -EINVAL when xvs_parse_l2 rejects the frame. A malformed IP header gives
 * l3 = 0 (see the semantics above). */
int xvs_acl_pkt_from_frame(const uint8_t *frame, uint32_t len, struct xvs_acl_pkt *p);

/* Does rule r match packet p travelling in dir (XVS_ACL_IN or _OUT)? */
bool xvs_acl_rule_matches(const struct xvs_acl_rule *r, const struct xvs_acl_pkt *p,
			  uint8_t dir);

/* The unique rte_acl priority of rule idx (< XVS_ACL_MAX_RULES) of weight
 * (see the semantics above): a higher priority is exactly a rule that wins
 * over the other in xvs_acl_match_slow. */
static inline uint32_t
xvs_acl_priority(uint16_t weight, unsigned idx)
{
	return (uint32_t)weight * XVS_ACL_MAX_RULES + (XVS_ACL_MAX_RULES - idx);
}

/* Reference matcher: index of the winning rule of rules[0..n) for p in dir,
 * or -1 when none matches (the packet is then allowed). Linear; for tests
 * and as the definition the fast classifier is held to. */
int xvs_acl_match_slow(const struct xvs_acl_rule *rules, unsigned n,
		       const struct xvs_acl_pkt *p, uint8_t dir);

/* Stateful flows of one port: a fixed-capacity table model (the datapath
 * keeps the same entries in a per-port hash). Owned by its user. */
struct xvs_acl_flow {
	uint8_t l3, proto;
	uint16_t local_port, remote_port; /* host order, 0 without ports */
	uint8_t local[16], remote[16];
	uint16_t rule;        /* index of the stateful rule that created it */
	bool used;            /* slot in use (may still be expired) */
	uint64_t last_ns;     /* last packet seen */
	uint64_t timeout_ns;  /* idle timeout */
};

struct xvs_acl_flows {
	struct xvs_acl_flow *slot; /* cap entries, caller's memory */
	uint32_t cap;
	uint32_t n;                /* slots used */
};

/* Start an empty table on slot[0..cap). */
void xvs_acl_flows_init(struct xvs_acl_flows *t, struct xvs_acl_flow *slot, uint32_t cap);

/* Drop every flow whose idle timeout has passed at now_ns; returns how many. */
uint32_t xvs_acl_flows_expire(struct xvs_acl_flows *t, uint64_t now_ns);

struct xvs_acl_verdict {
	uint8_t action;     /* enum xvs_acl_action: what to do */
	int rule;           /* deciding rule, -1 for the default or a flow */
	bool from_flow;     /* allowed by a recorded stateful flow */
	bool table_full;    /* a stateful allow could not be recorded */
};

/* Full decision for p in dir at now_ns, with the stateful flows in t (may be
 * NULL when no rule is stateful): recorded flow first, then the rules (see
 * the semantics above). Records or refreshes a flow as a side effect. */
void xvs_acl_eval(const struct xvs_acl_rule *rules, unsigned n, struct xvs_acl_flows *t,
		  const struct xvs_acl_pkt *p, uint8_t dir, uint64_t now_ns,
		  struct xvs_acl_verdict *v);

#endif /* XVS_ACL_H */

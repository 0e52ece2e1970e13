/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/acl.c: the key=value parser (known answers, every
 * error, format/parse round trip), the reference matcher (direction and
 * local/remote, prefixes, MACs, ports and fragments, weight and insertion
 * order, default), packets from crafted frames, the stateful flow table
 * against a controlled clock, and a randomized comparison of
 * xvs_acl_match_slow with a second, independently written matcher
 * (WireGuard's horrible_allowedips idea).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"
#include "test_rng.h"

static struct xvs_acl_rule
rule(const char *s)
{
	struct xvs_acl_rule r;
	struct xvs_err err;
	int rc = xvs_acl_rule_parse_str(s, &r, &err);

	if (rc != 0)
		fail_msg("'%s': %s", s, err.msg);
	return r;
}

static void
test_acl_parse_known(void **state)
{
	struct xvs_acl_rule r;

	(void)state;
	r = rule("dir=in action=deny remote-ip=10.0.0.0/8 proto=tcp local-port=22 weight=100");
	assert_int_equal(r.dir, XVS_ACL_IN);
	assert_int_equal(r.action, XVS_ACL_DENY);
	assert_int_equal(r.remote_ip.family, 4);
	assert_int_equal(r.remote_ip.len, 8);
	assert_int_equal(r.remote_ip.addr[0], 10);
	assert_int_equal(r.local_ip.family, 0);
	assert_true(r.has_proto);
	assert_int_equal(r.proto, 6);
	assert_true(r.has_local_port);
	assert_int_equal(r.local_port_lo, 22);
	assert_int_equal(r.local_port_hi, 22);
	assert_false(r.has_remote_port);
	assert_int_equal(r.weight, 100);
	assert_false(r.stateful);

	r = rule("dir=both action=meter rate=10m local-ip=2001:db8::/32 "
		 "remote-mac=FF:ff:ff:ff:ff:ff proto=udp remote-port=1000-2000");
	assert_int_equal(r.dir, XVS_ACL_BOTH);
	assert_int_equal(r.rate_bps, 10000000);
	assert_int_equal(r.rate_pps, 0);
	assert_int_equal(r.local_ip.family, 6);
	assert_int_equal(r.local_ip.len, 32);
	assert_int_equal(r.local_ip.addr[1], 0x01);
	assert_true(r.has_remote_mac);
	assert_int_equal(r.remote_mac[0], 0xff);
	assert_int_equal(r.remote_port_lo, 1000);
	assert_int_equal(r.remote_port_hi, 2000);

	r = rule("dir=out action=allow stateful=on remote-ip=192.0.2.7");
	assert_true(r.stateful);
	assert_int_equal(r.timeout_s, XVS_ACL_DEFAULT_TIMEOUT_S);
	assert_int_equal(r.remote_ip.len, 32);
	r = rule("  dir=out\taction=allow stateful=on timeout=5 proto=icmpv6 ");
	assert_int_equal(r.timeout_s, 5);
	assert_int_equal(r.proto, 58);
	/* local= and remote= are local-ip= and remote-ip= (FEATURES.md). */
	r = rule("dir=in action=deny remote=10.0.0.0/8 local=10.1.0.0/16 weight=10");
	assert_int_equal(r.remote_ip.len, 8);
	assert_int_equal(r.local_ip.addr[1], 1);
	{
		struct xvs_err e;

		assert_int_equal(xvs_acl_rule_parse_str("dir=in action=deny remote=10.0.0.0/8 "
							"remote-ip=10.0.0.0/8", &r, &e),
				 -EINVAL);
		assert_string_equal(e.msg, "acl: remote-ip given twice");
		assert_int_equal(xvs_acl_rule_parse_str("dir=in action=deny remote=10.0.0.1/8", &r,
							&e),
				 -EINVAL);
		assert_string_equal(e.msg, "acl: remote '10.0.0.1/8' has host bits set; did you "
				    "mean 10.0.0.0/8?");
	}
	r = rule("dir=in action=allow proto=0 local-ip=0.0.0.0/0");
	assert_true(r.has_proto);
	assert_int_equal(r.proto, 0);
	assert_int_equal(r.local_ip.family, 4);
	assert_int_equal(r.local_ip.len, 0);
}

static void
test_acl_parse_errors(void **state)
{
	static const struct {
		const char *line;
		const char *msg;
	} cases[] = {
		{"", "dir is required"},
		{"dir=in", "action is required"},
		{"action=deny", "dir is required"},
		{"dir=up action=deny", "dir 'up': use in, out or both"},
		{"dir=in action=drop", "use allow, deny or meter"},
		{"dir=in action=deny dir=out", "dir given twice"},
		{"dir=in action=deny colour=red",
		 "unknown key 'colour' (keys: dir action rate local-ip remote-ip local-mac "
		 "remote-mac proto local-port remote-port weight stateful timeout)"},
		{"dir=in action=deny remote-ip", "'remote-ip' is not key=value"},
		{"dir=in action=deny remote-ip=10.0.0.1/8",
		 "has host bits set; did you mean 10.0.0.0/8?"},
		{"dir=in action=deny remote-ip=2001:db8::1/32", "did you mean 2001:db8::/32?"},
		{"dir=in action=deny remote-ip=10.0.0.0/33", "prefix length must be 0-32"},
		{"dir=in action=deny remote-ip=10.0.0.0/", "prefix length must be 0-32"},
		{"dir=in action=deny remote-ip=::/129", "prefix length must be 0-128"},
		{"dir=in action=deny remote-ip=10.0.0.256", "not an IPv4 or IPv6 address"},
		{"dir=in action=deny remote-ip=/8", "use an IPv4 or IPv6 address"},
		{"dir=in action=deny local-ip=10.0.0.0/8 remote-ip=::/0", "no packet is both"},
		{"dir=in action=deny local-mac=02:00:00:00:00", "use a MAC address"},
		{"dir=in action=deny local-mac=02-00-00-00-00-01", "use a MAC address"},
		{"dir=in action=deny local-mac=02:00:00:00:00:0g", "use a MAC address"},
		{"dir=in action=deny proto=256", "use tcp, udp, icmp, icmpv6 or a number 0-255"},
		{"dir=in action=deny proto=-1", "use tcp, udp"},
		{"dir=in action=deny local-port=22", "need proto=tcp or proto=udp"},
		{"dir=in action=deny proto=icmp local-port=22", "need proto=tcp or proto=udp"},
		{"dir=in action=deny proto=tcp local-port=65536", "use a port 0-65535"},
		{"dir=in action=deny proto=tcp local-port=20-10", "range is empty"},
		{"dir=in action=deny proto=tcp local-port=20-", "use a port"},
		{"dir=in action=deny proto=tcp local-port=-20", "use a port"},
		{"dir=in action=deny proto=icmp remote-ip=::/0", "use icmpv6"},
		{"dir=in action=deny proto=icmpv6 remote-ip=0.0.0.0/0", "use icmp)"},
		{"dir=in action=deny weight=65536", "use a number 0-65535"},
		{"dir=in action=deny weight=+1", "use a number 0-65535"},
		{"dir=in action=meter", "action=meter needs rate="},
		{"dir=in action=deny rate=1k", "rate= is only for action=meter"},
		{"dir=in action=meter rate=0", "above 0"},
		{"dir=in action=meter rate=k", "above 0"},
		{"dir=in action=meter rate=99999999999999999999", "above 0"},
		{"dir=in action=meter rate=20000000000g", "above 0"},
		{"dir=in action=meter rate=0pps", "packets per second above 0"},
		{"dir=in action=meter rate=1gpps", "packets per second above 0"},
		{"dir=in action=meter rate=5000000kpps", "packets per second above 0"},
		{"dir=in action=deny rate=10pps", "rate= is only for action=meter"},
		{"dir=in action=deny stateful=on", "stateful=on is for action=allow only"},
		{"dir=in action=allow stateful=yes", "use on or off"},
		{"dir=in action=allow timeout=5", "timeout= is only for stateful=on"},
		{"dir=in action=allow stateful=on timeout=0", "use seconds 1-86400"},
		{"dir=in action=allow stateful=on timeout=86401", "use seconds 1-86400"},
		{"dir=in action=deny weight=1 weight=1 weight=1 weight=1 weight=1 weight=1 "
		 "weight=1 weight=1 weight=1 weight=1 weight=1 weight=1 weight=1 weight=1 "
		 "weight=1 weight=1",
		 "17 settings, at most 16"},
	};
	struct xvs_acl_rule r;
	struct xvs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xvs_err_clear(&err);
		if (xvs_acl_rule_parse_str(cases[i].line, &r, &err) != -EINVAL ||
		    strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("'%s': got '%s', want '%s'", cases[i].line, err.msg,
				 cases[i].msg);
	}
	assert_int_equal(xvs_acl_rule_parse_str(NULL, &r, &err), -EINVAL);
	assert_int_equal(xvs_acl_rule_parse(NULL, 1, &r, &err), -EINVAL);
	assert_int_equal(xvs_acl_rule_check(NULL, &err), -EINVAL);
	memset(&r, 0, sizeof(r));
	r.dir = 4;
	r.action = XVS_ACL_DENY;
	assert_int_equal(xvs_acl_rule_check(&r, &err), -EINVAL);
	r.dir = XVS_ACL_IN;
	assert_int_equal(xvs_acl_rule_check(&r, &err), 0);
	r.remote_ip.len = 3; /* no family */
	assert_int_equal(xvs_acl_rule_check(&r, &err), -EINVAL);
	r.remote_ip.family = 5;
	assert_int_equal(xvs_acl_rule_check(&r, &err), -EINVAL);
	r.remote_ip.family = 4;
	r.remote_ip.len = 3;
	r.remote_ip.addr[0] = 0x10;
	assert_int_equal(xvs_acl_rule_check(&r, &err), -EINVAL);
	r.remote_ip.addr[0] = 0x20;
	assert_int_equal(xvs_acl_rule_check(&r, &err), 0);
}

static void
test_acl_format_round_trip(void **state)
{
	static const char *const lines[] = {
		"dir=in action=deny remote-ip=10.0.0.0/8 proto=tcp local-port=22 weight=100",
		"dir=both action=meter rate=1500000 local-ip=2001:db8::/32 "
		"remote-mac=ff:ff:ff:ff:ff:ff proto=udp remote-port=1000-2000",
		"dir=out action=allow local-mac=52:54:00:00:00:01 proto=47 stateful=on timeout=30",
	};
	struct xvs_acl_rule r, again;
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		r = rule(lines[i]);
		assert_int_equal(xvs_acl_rule_format(&r, buf, sizeof(buf)), strlen(lines[i]));
		assert_string_equal(buf, lines[i]);
		again = rule(buf);
		assert_memory_equal(&r, &again, sizeof(r));
	}
	/* Truncation: returns the length needed, output NUL-terminated. */
	r = rule(lines[0]);
	assert_int_equal(xvs_acl_rule_format(&r, buf, 10), strlen(lines[0]));
	assert_string_equal(buf, "dir=in ac");
	r = rule("dir=out action=meter rate=3kpps");
	assert_int_equal(r.rate_pps, 3000);
	assert_int_equal(r.rate_bps, 0);
	xvs_acl_rule_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "dir=out action=meter rate=3000pps");
	r = rule("dir=out action=meter rate=2k");
	xvs_acl_rule_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "dir=out action=meter rate=2000");
}

/* A TCP or UDP packet 10.0.0.1:sport (MAC ..:01) -> 10.0.0.2:dport (..:02). */
static struct xvs_acl_pkt
pkt4(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct xvs_acl_pkt p;

	memset(&p, 0, sizeof(p));
	memcpy(p.src_mac, (uint8_t[6]){0x52, 0x54, 0, 0, 0, 1}, 6);
	memcpy(p.dst_mac, (uint8_t[6]){0x52, 0x54, 0, 0, 0, 2}, 6);
	p.l3 = 4;
	p.proto = proto;
	memcpy(p.src, (uint8_t[4]){10, 0, 0, 1}, 4);
	memcpy(p.dst, (uint8_t[4]){10, 0, 0, 2}, 4);
	p.has_ports = proto == 6 || proto == 17;
	p.sport = sport;
	p.dport = dport;
	return p;
}

static void
test_acl_match_direction_is_local_remote(void **state)
{
	struct xvs_acl_rule r = rule("dir=in action=deny remote-ip=10.0.0.1/32 proto=tcp "
				     "local-port=22");
	struct xvs_acl_pkt p = pkt4(6, 40000, 22);

	(void)state;
	/* Delivered to the VM (10.0.0.2:22) from 10.0.0.1: local = dst. */
	assert_true(xvs_acl_rule_matches(&r, &p, XVS_ACL_IN));
	/* The same bytes sent by the VM: local = src = 10.0.0.1:40000. */
	assert_false(xvs_acl_rule_matches(&r, &p, XVS_ACL_OUT));
	r.dir = XVS_ACL_BOTH;
	assert_false(xvs_acl_rule_matches(&r, &p, XVS_ACL_OUT));
	/* The VM answering from port 22 to 10.0.0.1: out, local = src. */
	r = rule("dir=out action=deny remote-ip=10.0.0.2 proto=tcp local-port=40000");
	assert_true(xvs_acl_rule_matches(&r, &p, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches(&r, &p, XVS_ACL_IN));
	r = rule("dir=out action=deny local-mac=52:54:00:00:00:01 remote-mac=52:54:00:00:00:02");
	assert_true(xvs_acl_rule_matches(&r, &p, XVS_ACL_OUT));
	r.dir = XVS_ACL_IN;
	assert_false(xvs_acl_rule_matches(&r, &p, XVS_ACL_IN));
}

static void
test_acl_match_fields(void **state)
{
	struct xvs_acl_pkt p = pkt4(17, 53, 5353), frag = pkt4(17, 0, 0), arp;

	(void)state;
	frag.has_ports = false;
	memset(&arp, 0, sizeof(arp));
	memcpy(arp.src_mac, p.src_mac, 6);
	assert_true(xvs_acl_rule_matches(&(struct xvs_acl_rule){.dir = 3, .action = 2}, &arp, 1));

	assert_true(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny remote-ip=10.0.0.2/31")}, &p, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny remote-ip=10.0.0.0/32")}, &p, XVS_ACL_OUT));
	/* /0 of a family matches that family only. */
	assert_true(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny remote-ip=0.0.0.0/0")}, &p, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny remote-ip=::/0")}, &p, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny remote-ip=0.0.0.0/0")}, &arp, XVS_ACL_OUT));
	/* proto: IP only. */
	assert_true(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=udp")}, &frag, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=0")}, &arp, XVS_ACL_OUT));
	/* Port ranges, inclusive, and never on a fragment. */
	assert_true(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=udp local-port=53 remote-port=5353-5354")}, &p,
		XVS_ACL_OUT));
	assert_true(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=udp remote-port=5000-5353")}, &p, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=udp remote-port=5354-6000")}, &p, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=udp remote-port=0-65535")}, &frag, XVS_ACL_OUT));
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny proto=tcp remote-port=0-65535")}, &p, XVS_ACL_OUT));
}

static void
test_acl_match_weight_ties_default(void **state)
{
	struct xvs_acl_rule rs[4];
	struct xvs_acl_pkt p = pkt4(6, 40000, 22);

	(void)state;
	rs[0] = rule("dir=both action=allow weight=10");
	rs[1] = rule("dir=in action=deny proto=tcp local-port=22 weight=20");
	rs[2] = rule("dir=in action=allow proto=tcp weight=20");
	rs[3] = rule("dir=in action=meter rate=1m weight=5");
	assert_int_equal(xvs_acl_match_slow(rs, 4, &p, XVS_ACL_IN), 1); /* tie: first */
	assert_int_equal(xvs_acl_match_slow(rs, 4, &p, XVS_ACL_OUT), 0);
	assert_int_equal(xvs_acl_match_slow(rs + 2, 2, &p, XVS_ACL_IN), 0);
	assert_int_equal(xvs_acl_match_slow(rs + 3, 1, &p, XVS_ACL_OUT), -1);
	assert_int_equal(xvs_acl_match_slow(rs, 0, &p, XVS_ACL_IN), -1);
	/* Priorities for rte_acl: unique, ordered, within 1 .. 2^29 - 1. */
	assert_int_equal(xvs_acl_priority(0, XVS_ACL_MAX_RULES - 1), 1);
	assert_true(xvs_acl_priority(65535, 0) <= (1u << 29) - 1);
	assert_true(xvs_acl_priority(1, XVS_ACL_MAX_RULES - 1) > xvs_acl_priority(0, 0));
	assert_true(xvs_acl_priority(7, 3) > xvs_acl_priority(7, 4));
	/* Order, not specificity, breaks a tie. */
	rs[0] = rule("dir=in action=allow remote-ip=10.0.0.0/8");
	rs[1] = rule("dir=in action=deny remote-ip=10.0.0.1/32");
	assert_int_equal(xvs_acl_match_slow(rs, 2, &p, XVS_ACL_IN), 0);
	rs[1].weight = 1;
	assert_int_equal(xvs_acl_match_slow(rs, 2, &p, XVS_ACL_IN), 1);
}

static void
test_acl_pkt_from_frame(void **state)
{
	uint8_t f[128] = {0};
	struct xvs_acl_pkt p;

	(void)state;
	/* Tagged IPv6 UDP 2001:db8::1:546 -> ff02::1:2:547. */
	memcpy(f, (uint8_t[]){0x33, 0x33, 0, 1, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x81, 0, 0, 7,
			      0x86, 0xdd},
	       18);
	f[18] = 0x60;
	f[23] = 8;
	f[24] = 17;
	f[25] = 1;
	f[26] = 0x20, f[27] = 0x01, f[28] = 0x0d, f[29] = 0xb8, f[41] = 1;
	f[42] = 0xff, f[43] = 0x02, f[55] = 1, f[56] = 0, f[57] = 2;
	f[58] = 546 >> 8, f[59] = 546 & 0xff, f[60] = 547 >> 8, f[61] = 547 & 0xff;
	assert_int_equal(xvs_acl_pkt_from_frame(f, 66, &p), 0);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.proto, 17);
	assert_true(p.has_ports);
	assert_int_equal(p.sport, 546);
	assert_int_equal(p.dport, 547);
	assert_int_equal(p.dst_mac[0], 0x33);
	assert_int_equal(p.src[0], 0x20);
	assert_true(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny local-ip=2001:db8::/32 remote-ip=ff02::/16 proto=udp "
		"remote-port=547")}, &p, XVS_ACL_OUT));
	/* Payload length past the frame: malformed, so no IP fields. */
	f[23] = 200;
	assert_int_equal(xvs_acl_pkt_from_frame(f, 66, &p), 0);
	assert_int_equal(p.l3, 0);
	assert_false(xvs_acl_rule_matches((struct xvs_acl_rule[]){rule(
		"dir=out action=deny remote-ip=::/0")}, &p, XVS_ACL_OUT));
	assert_int_equal(xvs_acl_pkt_from_frame(f, 10, &p), -EINVAL);
	assert_int_equal(xvs_acl_pkt_from_frame(f, 66, NULL), -EINVAL);
}

#define SEC 1000000000ull

static void
test_acl_stateful_return_traffic(void **state)
{
	struct xvs_acl_flow slot[2];
	struct xvs_acl_flows t;
	struct xvs_acl_rule rs[2];
	struct xvs_acl_pkt syn = pkt4(6, 40000, 443), reply, other;
	struct xvs_acl_verdict v;
	uint64_t now = 100 * SEC;

	(void)state;
	rs[0] = rule("dir=out action=allow proto=tcp remote-port=443 stateful=on timeout=10");
	rs[1] = rule("dir=in action=deny");
	xvs_acl_flows_init(&t, slot, 2);
	/* Return traffic is the same bytes, reversed, delivered to the VM. */
	reply = syn;
	memcpy(reply.src, syn.dst, 16), memcpy(reply.dst, syn.src, 16);
	reply.sport = syn.dport, reply.dport = syn.sport;

	xvs_acl_eval(rs, 2, &t, &reply, XVS_ACL_IN, now, &v);
	assert_int_equal(v.action, XVS_ACL_DENY); /* no flow yet */
	assert_int_equal(v.rule, 1);
	xvs_acl_eval(rs, 2, &t, &syn, XVS_ACL_OUT, now, &v);
	assert_int_equal(v.action, XVS_ACL_ALLOW);
	assert_int_equal(v.rule, 0);
	assert_false(v.from_flow);
	assert_int_equal(t.n, 1);
	xvs_acl_eval(rs, 2, &t, &reply, XVS_ACL_IN, now + 10 * SEC, &v);
	assert_int_equal(v.action, XVS_ACL_ALLOW);
	assert_true(v.from_flow);
	/* Refreshed at +10 s: still there at +20 s, gone after +20 s. */
	xvs_acl_eval(rs, 2, &t, &reply, XVS_ACL_IN, now + 20 * SEC, &v);
	assert_true(v.from_flow);
	xvs_acl_eval(rs, 2, &t, &reply, XVS_ACL_IN, now + 30 * SEC + 1, &v);
	assert_int_equal(v.action, XVS_ACL_DENY);
	assert_int_equal(xvs_acl_flows_expire(&t, now + 30 * SEC + 1), 1);
	assert_int_equal(t.n, 0);

	/* Another port of the same hosts is another flow. */
	xvs_acl_eval(rs, 2, &t, &syn, XVS_ACL_OUT, now, &v);
	other = reply;
	other.sport = 444;
	xvs_acl_eval(rs, 2, &t, &other, XVS_ACL_IN, now, &v);
	assert_int_equal(v.action, XVS_ACL_DENY);
	/* The table is full: still allowed, not recorded, and said so. */
	syn.sport = 40001;
	xvs_acl_eval(rs, 2, &t, &syn, XVS_ACL_OUT, now, &v);
	assert_false(v.table_full);
	syn.sport = 40002;
	xvs_acl_eval(rs, 2, &t, &syn, XVS_ACL_OUT, now, &v);
	assert_int_equal(v.action, XVS_ACL_ALLOW);
	assert_true(v.table_full);
	/* An expired slot is reused without an explicit expire pass. */
	xvs_acl_eval(rs, 2, &t, &syn, XVS_ACL_OUT, now + 11 * SEC, &v);
	assert_false(v.table_full);
	assert_int_equal(t.n, 2);
	/* Without a table, a stateful allow reports it could not record. */
	xvs_acl_eval(rs, 2, NULL, &syn, XVS_ACL_OUT, now, &v);
	assert_int_equal(v.action, XVS_ACL_ALLOW);
	assert_true(v.table_full);
}

/* ---- randomized comparison ------------------------------------------- */

#include "test_acl_rand.h"

/* Bit i of a (MSB first), for the independent prefix test of horrible_side. */
static int
bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* The same semantics written differently: per side, bit by bit. */
static bool
horrible_side(const struct xvs_acl_prefix *pfx, const struct xvs_acl_pkt *p, const uint8_t *a)
{
	unsigned i;

	if (pfx->family == 0)
		return true;
	if (p->l3 != pfx->family)
		return false;
	for (i = 0; i < pfx->len; i++)
		if (bit(pfx->addr, i) != bit(a, i))
			return false;
	return true;
}

static bool
horrible_port(bool has, uint16_t lo, uint16_t hi, const struct xvs_acl_pkt *p, uint16_t port)
{
	unsigned v;

	if (!has)
		return true;
	if (!p->has_ports)
		return false;
	for (v = lo; v <= hi; v++)
		if (v == port)
			return true;
	return false;
}

static bool
horrible_match(const struct xvs_acl_rule *r, const struct xvs_acl_pkt *p, uint8_t dir)
{
	if (dir == XVS_ACL_IN) {
		if (r->dir == XVS_ACL_OUT)
			return false;
		return (!r->has_local_mac || memcmp(r->local_mac, p->dst_mac, 6) == 0) &&
		       (!r->has_remote_mac || memcmp(r->remote_mac, p->src_mac, 6) == 0) &&
		       horrible_side(&r->local_ip, p, p->dst) &&
		       horrible_side(&r->remote_ip, p, p->src) &&
		       (!r->has_proto || (p->l3 != 0 && r->proto == p->proto)) &&
		       horrible_port(r->has_local_port, r->local_port_lo, r->local_port_hi, p,
				     p->dport) &&
		       horrible_port(r->has_remote_port, r->remote_port_lo, r->remote_port_hi, p,
				     p->sport);
	}
	if (r->dir == XVS_ACL_IN)
		return false;
	return (!r->has_local_mac || memcmp(r->local_mac, p->src_mac, 6) == 0) &&
	       (!r->has_remote_mac || memcmp(r->remote_mac, p->dst_mac, 6) == 0) &&
	       horrible_side(&r->local_ip, p, p->src) && horrible_side(&r->remote_ip, p, p->dst) &&
	       (!r->has_proto || (p->l3 != 0 && r->proto == p->proto)) &&
	       horrible_port(r->has_local_port, r->local_port_lo, r->local_port_hi, p, p->sport) &&
	       horrible_port(r->has_remote_port, r->remote_port_lo, r->remote_port_hi, p, p->dport);
}

/* Highest weight first, then the earliest: scan weights downwards. */
static int
horrible_lookup(const struct xvs_acl_rule *rs, unsigned n, const struct xvs_acl_pkt *p,
		uint8_t dir)
{
	int w;
	unsigned i;

	for (w = 65535; w >= 0; w--) {
		for (i = 0; i < n; i++)
			if (rs[i].weight == w && horrible_match(&rs[i], p, dir))
				return (int)i;
		if (w > 16)
			w = 17; /* random weights stay below 16: skip ahead */
	}
	return -1;
}

static void
test_acl_random_rules_against_reference(void **state)
{
	static struct xvs_acl_rule rs[64];
	struct xvs_acl_rule again;
	struct xvs_acl_pkt p;
	struct xvs_err err;
	char buf[512];
	unsigned iter, i, hits = 0;

	(void)state;
	rng_state = 0xac1ac1;
	for (iter = 0; iter < 400; iter++) {
		unsigned n = rnd(65);

		for (i = 0; i < n; i++) {
			rand_rule(&rs[i]);
			if (xvs_acl_rule_check(&rs[i], &err) != 0)
				fail_msg("random rule refused: %s", err.msg);
			/* Canonical text parses back to the same rule. */
			xvs_acl_rule_format(&rs[i], buf, sizeof(buf));
			if (xvs_acl_rule_parse_str(buf, &again, &err) != 0)
				fail_msg("'%s': %s", buf, err.msg);
			assert_memory_equal(&rs[i], &again, sizeof(again));
		}
		for (i = 0; i < 200; i++) {
			uint8_t dir = 1 + rnd(2);
			int got, want;

			rand_pkt(&p);
			got = xvs_acl_match_slow(rs, n, &p, dir);
			want = horrible_lookup(rs, n, &p, dir);
			if (got != want)
				fail_msg("iter %u pkt %u dir %u: match_slow %d, reference %d", iter,
					 i, dir, got, want);
			hits += got >= 0;
			/* The rte_acl priorities pick the same winner. */
			{
				int best = -1;
				unsigned j;

				for (j = 0; j < n; j++)
					if (xvs_acl_rule_matches(&rs[j], &p, dir) &&
					    (best < 0 ||
					     xvs_acl_priority(rs[j].weight, j) >
						     xvs_acl_priority(rs[best].weight,
								      (unsigned)best)))
						best = (int)j;
				assert_int_equal(best, got);
			}
			/* A rule written from the packet itself always matches,
			 * and a higher weight makes it win. */
			if (p.l3 != 0 && n < 64) {
				struct xvs_acl_rule *r = &rs[n];

				memset(r, 0, sizeof(*r));
				r->dir = dir;
				r->action = XVS_ACL_DENY;
				r->local_ip.family = r->remote_ip.family = p.l3;
				r->local_ip.len = r->remote_ip.len = p.l3 == 4 ? 32 : 128;
				memcpy(r->local_ip.addr, dir == XVS_ACL_OUT ? p.src : p.dst, 16);
				memcpy(r->remote_ip.addr, dir == XVS_ACL_OUT ? p.dst : p.src, 16);
				r->weight = 16;
				assert_int_equal(xvs_acl_match_slow(rs, n + 1, &p, dir), (int)n);
				assert_int_equal(xvs_acl_match_slow(rs, n + 1, &p, 3 - dir) ==
							 (int)n,
						 false);
			}
		}
	}
	/* The pools are small enough that rules decide most packets. */
	assert_true(hits > 400 * 200 / 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_parse_known),
		cmocka_unit_test(test_acl_parse_errors),
		cmocka_unit_test(test_acl_format_round_trip),
		cmocka_unit_test(test_acl_match_direction_is_local_remote),
		cmocka_unit_test(test_acl_match_fields),
		cmocka_unit_test(test_acl_match_weight_ties_default),
		cmocka_unit_test(test_acl_pkt_from_frame),
		cmocka_unit_test(test_acl_stateful_return_traffic),
		cmocka_unit_test(test_acl_random_rules_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/guard.c on frames built byte by byte: DHCPv4/v6
 * server messages against client ones, RA/redirect against other ICMP, VLAN
 * tags, IPv4 options, IPv6 extension headers, fragments (first, non-first,
 * chain split), truncation at every length; the MAC guard with assigned and
 * sticky MACs; the storm limiter's bucket against a controlled clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"

static const uint8_t DST[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t SRC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* A frame under construction. */
struct fb {
	uint8_t b[512];
	uint32_t len;
	uint32_t l3;  /* offset of the IP header */
};

static void
put8(struct fb *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static void
put16(struct fb *f, uint16_t v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put_zero(struct fb *f, unsigned n)
{
	memset(f->b + f->len, 0, n);
	f->len += n;
}

static void
eth(struct fb *f, uint16_t vid, uint16_t etype)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, DST, 6);
	memcpy(f->b + 6, SRC, 6);
	f->len = 12;
	if (vid != 0) {
		put16(f, 0x8100);
		put16(f, 3 << 13 | vid);
	}
	put16(f, etype);
	f->l3 = f->len;
}

/* IPv4 header with opt_words 32-bit words of options (NOP), fragment field
 * frag; the total length is fixed up by done(). */
static void
ipv4(struct fb *f, uint8_t proto, unsigned opt_words, uint16_t frag)
{
	put8(f, 0x40 | (5 + opt_words));
	put8(f, 0);
	put16(f, 0); /* total length, later */
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put8(f, 10), put8(f, 0), put8(f, 0), put8(f, 1);
	put8(f, 10), put8(f, 0), put8(f, 0), put8(f, 2);
	memset(f->b + f->len, 1, opt_words * 4);
	f->len += opt_words * 4;
}

static void
ipv6(struct fb *f, uint8_t nh)
{
	put8(f, 0x60);
	put_zero(f, 3);
	put16(f, 0); /* payload length, later */
	put8(f, nh);
	put8(f, 255);
	put8(f, 0xfe), put8(f, 0x80);
	put_zero(f, 13);
	put8(f, 1);
	put8(f, 0xff), put8(f, 0x02);
	put_zero(f, 13);
	put8(f, 1);
}

/* An 8-byte hop-by-hop / destination options / routing header. */
static void
ext8(struct fb *f, uint8_t nh)
{
	put8(f, nh);
	put8(f, 0);
	put_zero(f, 6);
}

static void
frag6(struct fb *f, uint8_t nh, uint16_t offset, bool more)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	put16(f, 0xabcd), put16(f, 0x0001);
}

static void
udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
}

static void
icmp(struct fb *f, uint8_t type)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put_zero(f, 12);
}

/* Fix the IP length field and pad to the 60-byte Ethernet minimum. */
static uint32_t
done(struct fb *f)
{
	uint32_t ip_len = f->len - f->l3;

	if ((f->b[f->l3] >> 4) == 4) {
		f->b[f->l3 + 2] = ip_len >> 8;
		f->b[f->l3 + 3] = ip_len & 0xff;
	} else {
		f->b[f->l3 + 4] = (ip_len - 40) >> 8;
		f->b[f->l3 + 5] = (ip_len - 40) & 0xff;
	}
	if (f->len < 60)
		f->len = 60;
	return f->len;
}

static enum xvs_guard_class
classify(struct fb *f)
{
	return xvs_guard_classify(f->b, done(f));
}

static void
test_guard_dhcp4(void **state)
{
	struct fb f;

	(void)state;
	/* OFFER from a server: 67 -> 68. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 67, 68), put_zero(&f, 240);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	/* Relay to server: 67 -> 67. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 67, 67);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	/* A rogue server from another port still reaches the client port. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 4000, 68);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	/* DISCOVER from the client: 68 -> 67 passes. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 68, 67), put_zero(&f, 240);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
	/* Ordinary UDP, and TCP with port 67 (not DHCP). */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 53, 5353);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
	eth(&f, 0, 0x0800), ipv4(&f, 6, 0, 0), udp(&f, 67, 68), put_zero(&f, 12);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_dhcp4_vlan_and_options(void **state)
{
	struct fb f;

	(void)state;
	eth(&f, 100, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 67, 68);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	/* Priority-tagged (VID 0) carries no VLAN but a tag all the same. */
	eth(&f, 0, 0x8100), put16(&f, 0x2000), put16(&f, 0x0800);
	f.l3 = f.len;
	ipv4(&f, 17, 0, 0), udp(&f, 67, 68);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	/* Options shift the UDP header: IHL 15, the maximum. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 10, 0), udp(&f, 67, 68);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	eth(&f, 7, 0x0800), ipv4(&f, 17, 3, 0), udp(&f, 68, 67);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_dhcp4_fragments(void **state)
{
	struct fb f;

	(void)state;
	/* First fragment (MF, offset 0) holds the ports: classified. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0x2000), udp(&f, 67, 68), put_zero(&f, 16);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP4_SERVER);
	/* A first fragment cut inside the UDP header hides it. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0x2000), put16(&f, 67);
	assert_int_equal(classify(&f), XVS_GUARD_INCOMPLETE);
	/* Non-first fragment: no header to see, passes (its first is dropped). */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0x0003), udp(&f, 67, 68);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_dhcp6(void **state)
{
	static const uint8_t server[] = {2, 7, 10, 13};
	static const uint8_t client[] = {1, 3, 4, 5, 6, 8, 9, 11, 12};
	struct fb f;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(server); i++) {
		eth(&f, 0, 0x86dd), ipv6(&f, 17), udp(&f, 547, 546), put8(&f, server[i]);
		put_zero(&f, 3);
		assert_int_equal(classify(&f), XVS_GUARD_DHCP6_SERVER);
		/* From any port to the client port, and relay-reply to a relay. */
		eth(&f, 0, 0x86dd), ipv6(&f, 17), udp(&f, 999, 546), put8(&f, server[i]);
		assert_int_equal(classify(&f), XVS_GUARD_DHCP6_SERVER);
		eth(&f, 0, 0x86dd), ipv6(&f, 17), udp(&f, 999, 547), put8(&f, server[i]);
		assert_int_equal(classify(&f), XVS_GUARD_DHCP6_SERVER);
		/* Not DHCPv6 ports: the byte means nothing. */
		eth(&f, 0, 0x86dd), ipv6(&f, 17), udp(&f, 999, 998), put8(&f, server[i]);
		assert_int_equal(classify(&f), XVS_GUARD_NONE);
	}
	for (i = 0; i < sizeof(client); i++) {
		eth(&f, 0, 0x86dd), ipv6(&f, 17), udp(&f, 546, 547), put8(&f, client[i]);
		put_zero(&f, 3);
		assert_int_equal(classify(&f), XVS_GUARD_NONE);
	}
	/* No message type byte: a complete datagram is not a message. */
	eth(&f, 0, 0x86dd), ipv6(&f, 17), udp(&f, 547, 546);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_dhcp6_ext_headers_and_fragments(void **state)
{
	struct fb f;

	(void)state;
	/* hop-by-hop -> destination options -> routing -> UDP, tagged. */
	eth(&f, 42, 0x86dd), ipv6(&f, 0), ext8(&f, 60), ext8(&f, 43), ext8(&f, 17);
	udp(&f, 547, 546), put8(&f, 7);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP6_SERVER);
	/* First fragment with the whole chain. */
	eth(&f, 0, 0x86dd), ipv6(&f, 44), frag6(&f, 17, 0, true), udp(&f, 547, 546);
	put8(&f, 2), put_zero(&f, 7);
	assert_int_equal(classify(&f), XVS_GUARD_DHCP6_SERVER);
	/* First fragment ending after the UDP header: type not visible. */
	eth(&f, 0, 0x86dd), ipv6(&f, 44), frag6(&f, 17, 0, true), udp(&f, 547, 546);
	assert_int_equal(classify(&f), XVS_GUARD_INCOMPLETE);
	/* A destination options header after the fragment header (RFC 7112). */
	eth(&f, 0, 0x86dd), ipv6(&f, 44), frag6(&f, 60, 0, true), ext8(&f, 17);
	udp(&f, 547, 546), put8(&f, 2);
	assert_int_equal(classify(&f), XVS_GUARD_INCOMPLETE);
	/* Non-first fragment: passes. */
	eth(&f, 0, 0x86dd), ipv6(&f, 44), frag6(&f, 17, 8, false), udp(&f, 547, 546);
	put8(&f, 2);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_router6(void **state)
{
	struct fb f;
	unsigned t, i;

	(void)state;
	for (t = 0; t < 256; t++) {
		eth(&f, 0, 0x86dd), ipv6(&f, 58), icmp(&f, (uint8_t)t);
		assert_int_equal(classify(&f),
				 t == 134 || t == 137 ? XVS_GUARD_ROUTER6 : XVS_GUARD_NONE);
	}
	/* Behind a hop-by-hop header, tagged. */
	eth(&f, 9, 0x86dd), ipv6(&f, 0), ext8(&f, 58), icmp(&f, 134);
	assert_int_equal(classify(&f), XVS_GUARD_ROUTER6);
	/* Eight extension headers: still walked. Nine: not, so incomplete. */
	eth(&f, 0, 0x86dd), ipv6(&f, 60);
	for (i = 0; i < 7; i++)
		ext8(&f, 60);
	ext8(&f, 58), icmp(&f, 134);
	assert_int_equal(classify(&f), XVS_GUARD_ROUTER6);
	eth(&f, 0, 0x86dd), ipv6(&f, 60);
	for (i = 0; i < 8; i++)
		ext8(&f, 60);
	ext8(&f, 58), icmp(&f, 128);
	assert_int_equal(classify(&f), XVS_GUARD_INCOMPLETE);
	/* ICMPv6 type 134 inside IPv4 protocol 58 is not ND. */
	eth(&f, 0, 0x0800), ipv4(&f, 58, 0, 0), icmp(&f, 134);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_router4(void **state)
{
	struct fb f;
	unsigned t;

	(void)state;
	for (t = 0; t < 256; t++) {
		eth(&f, 0, 0x0800), ipv4(&f, 1, 0, 0), icmp(&f, (uint8_t)t);
		assert_int_equal(classify(&f),
				 t == 9 || t == 5 ? XVS_GUARD_ROUTER4 : XVS_GUARD_NONE);
	}
	eth(&f, 300, 0x0800), ipv4(&f, 1, 2, 0), icmp(&f, 5);
	assert_int_equal(classify(&f), XVS_GUARD_ROUTER4);
	/* Non-first fragment whose payload happens to start with 9. */
	eth(&f, 0, 0x0800), ipv4(&f, 1, 0, 0x0001), icmp(&f, 9);
	assert_int_equal(classify(&f), XVS_GUARD_NONE);
}

static void
test_guard_not_ip_and_malformed(void **state)
{
	struct fb f;

	(void)state;
	eth(&f, 0, 0x0806), put_zero(&f, 28);
	assert_int_equal(xvs_guard_classify(f.b, f.len), XVS_GUARD_NONE);
	assert_int_equal(xvs_guard_classify(NULL, 0), XVS_GUARD_NONE);
	assert_int_equal(xvs_guard_classify(f.b, 13), XVS_GUARD_NONE);
	/* IPv4 total length beyond the frame: malformed, parse's business. */
	eth(&f, 0, 0x0800), ipv4(&f, 17, 0, 0), udp(&f, 67, 68);
	done(&f);
	f.b[f.l3 + 2] = 0x05;
	assert_int_equal(xvs_guard_classify(f.b, f.len), XVS_GUARD_NONE);
	/* Stacked VLANs are not switched at all. */
	eth(&f, 5, 0x8100), put16(&f, 6), put16(&f, 0x0800);
	assert_int_equal(xvs_guard_classify(f.b, f.len), XVS_GUARD_NONE);
	assert_string_equal(xvs_guard_class_name(XVS_GUARD_DHCP6_SERVER), "dhcp6_server");
	assert_string_equal(xvs_guard_class_name(XVS_GUARD__MAX), "unknown");
	assert_string_equal(xvs_guard_class_name(-1), "unknown");
}

/* Every prefix of a classified frame must classify without reading past it
 * (ASan checks the reads; the buffer is exactly len bytes). */
static void
test_guard_truncation_every_length(void **state)
{
	struct fb f;
	uint32_t len, cut;

	(void)state;
	eth(&f, 10, 0x86dd), ipv6(&f, 0), ext8(&f, 44), frag6(&f, 17, 0, true);
	udp(&f, 547, 546), put8(&f, 2);
	len = done(&f);
	for (cut = 0; cut <= len; cut++) {
		uint8_t *copy = test_malloc(cut ? cut : 1);

		memcpy(copy, f.b, cut);
		(void)xvs_guard_classify(copy, cut);
		test_free(copy);
	}
}

static void
test_guard_drops_by_enabled_guard(void **state)
{
	int c, on;

	(void)state;
	for (c = 0; c < XVS_GUARD__MAX; c++) {
		for (on = 0; on < 4; on++) {
			bool dhcp = on & 1, router = on & 2, want;

			switch (c) {
			case XVS_GUARD_DHCP4_SERVER:
			case XVS_GUARD_DHCP6_SERVER:
				want = dhcp;
				break;
			case XVS_GUARD_ROUTER4:
			case XVS_GUARD_ROUTER6:
				want = router;
				break;
			case XVS_GUARD_INCOMPLETE:
				want = dhcp || router;
				break;
			default:
				want = false;
			}
			assert_int_equal(xvs_guard_drops(c, dhcp, router), want);
		}
	}
}

static const uint8_t M1[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t M2[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};
static const uint8_t M3[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x03};

static void
test_guard_mac_assigned(void **state)
{
	const uint8_t macs[2][6] = {{0x52, 0x54, 0, 0, 0, 1}, {0x52, 0x54, 0, 0, 0, 2}};
	const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t zero[6] = {0};
	struct xvs_mac_guard g;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, macs, 2, 0, &err), 0);
	assert_int_equal(xvs_mac_guard_check(&g, M1), XVS_MAC_ALLOW);
	assert_int_equal(xvs_mac_guard_check(&g, M2), XVS_MAC_ALLOW);
	assert_int_equal(xvs_mac_guard_check(&g, M3), XVS_MAC_SPOOF);
	assert_int_equal(xvs_mac_guard_check(&g, bcast), XVS_MAC_SPOOF);
	assert_int_equal(xvs_mac_guard_check(&g, zero), XVS_MAC_SPOOF);
	assert_int_equal(xvs_mac_guard_learn(&g, M3), -ENOSPC);
	assert_int_equal(xvs_mac_guard_check(&g, M3), XVS_MAC_SPOOF);
}

static void
test_guard_mac_sticky(void **state)
{
	const uint8_t one[1][6] = {{0x52, 0x54, 0, 0, 0, 1}};
	struct xvs_mac_guard g;
	struct xvs_err err;

	(void)state;
	/* No assigned MAC, one sticky slot: the first source seen wins. */
	assert_int_equal(xvs_mac_guard_set(&g, "vm2.0", false, NULL, 0, 1, &err), 0);
	assert_int_equal(xvs_mac_guard_check(&g, M2), XVS_MAC_LEARN);
	assert_int_equal(xvs_mac_guard_check(&g, M3), XVS_MAC_LEARN);
	assert_int_equal(xvs_mac_guard_learn(&g, M2), 0);
	assert_int_equal(xvs_mac_guard_learn(&g, M3), -ENOSPC);
	assert_int_equal(xvs_mac_guard_learn(&g, M2), 0); /* idempotent */
	assert_int_equal(xvs_mac_guard_check(&g, M2), XVS_MAC_ALLOW);
	assert_int_equal(xvs_mac_guard_check(&g, M3), XVS_MAC_SPOOF);
	/* Assigned plus sticky; re-setting clears what was learned. */
	assert_int_equal(xvs_mac_guard_set(&g, "vm2.0", false, one, 1, 1, &err), 0);
	assert_int_equal(xvs_mac_guard_check(&g, M2), XVS_MAC_LEARN);
	assert_int_equal(xvs_mac_guard_check(&g, M1), XVS_MAC_ALLOW);
	assert_int_equal(xvs_mac_guard_learn(&g, M1), 0);
	assert_int_equal(g.n_learned, 0);
	assert_int_equal(xvs_mac_guard_learn(&g, M3), 0);
	assert_int_equal(xvs_mac_guard_check(&g, M3), XVS_MAC_ALLOW);
	assert_int_equal(xvs_mac_guard_check(&g, M2), XVS_MAC_SPOOF);
}

static void
test_guard_mac_invalid(void **state)
{
	const uint8_t dup[2][6] = {{0x52, 0x54, 0, 0, 0, 1}, {0x52, 0x54, 0, 0, 0, 1}};
	const uint8_t grp[1][6] = {{0x01, 0x00, 0x5e, 0, 0, 1}};
	const uint8_t many[9][6] = {{2, 0, 0, 0, 0, 1}};
	const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct xvs_mac_guard g;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_mac_guard_set(&g, "up0", true, dup, 1, 0, &err), -EPERM);
	assert_non_null(strstr(err.msg, "port up0"));
	assert_non_null(strstr(err.msg, "uplink"));
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, dup, 2, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "repeats"));
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, grp, 1, 0, &err), -EINVAL);
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, many, 9, 0, &err), -EINVAL);
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, many, 1, 8, &err), -EINVAL);
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, NULL, 0, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "needs an assigned MAC"));
	assert_int_equal(xvs_mac_guard_set(NULL, "vm1.0", false, NULL, 0, 1, &err), -EINVAL);
	assert_int_equal(xvs_mac_guard_set(&g, "vm1.0", false, NULL, 0, 1, &err), 0);
	assert_int_equal(xvs_mac_guard_learn(&g, bcast), -EINVAL);
	assert_int_equal(xvs_mac_guard_check(&g, bcast), XVS_MAC_SPOOF);
}

#define MS 1000000ull
#define SEC 1000000000ull

static void
test_guard_storm_bucket(void **state)
{
	struct xvs_storm s;
	struct xvs_err err;
	uint64_t t = 5 * SEC;

	(void)state;
	assert_int_equal(xvs_storm_init(&s, 1000, t, &err), 0);
	/* A full bucket: one second of rate at once, then nothing. */
	assert_int_equal(xvs_storm_admit(&s, t, 32), 32);
	assert_int_equal(xvs_storm_admit(&s, t, 2000), 968);
	assert_int_equal(xvs_storm_admit(&s, t, 1), 0);
	/* 1 ms is one packet at 1000 pps; 0.5 ms is none yet, 1.5 ms one more. */
	assert_int_equal(xvs_storm_admit(&s, t + MS / 2, 5), 0);
	assert_int_equal(xvs_storm_admit(&s, t + MS, 5), 1);
	assert_int_equal(xvs_storm_admit(&s, t + 2 * MS, 5), 1);
	/* Over 10 s, never more than rate * time + one bucket. */
	{
		uint64_t passed = 0, now;

		for (now = t + 2 * MS; now <= t + 10 * SEC; now += 100 * 1000)
			passed += xvs_storm_admit(&s, now, 4);
		assert_true(passed <= 10 * 1000 + 1);
		assert_true(passed >= 10 * 1000 - 2);
	}
	/* Idle for a long time: refilled to one second, not more. */
	assert_int_equal(xvs_storm_admit(&s, t + 1000 * SEC, 5000), 1000);
	/* Time going backwards adds nothing. */
	assert_int_equal(xvs_storm_admit(&s, t, 10), 0);
}

static void
test_guard_storm_limits(void **state)
{
	const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
	struct xvs_storm s;
	struct xvs_err err;

	(void)state;
	assert_int_equal(xvs_storm_init(&s, 0, 0, &err), 0);
	assert_int_equal(xvs_storm_admit(&s, 0, 32), 32); /* 0 = no limit */
	assert_int_equal(xvs_storm_init(&s, 1, 0, &err), 0);
	assert_int_equal(xvs_storm_admit(&s, 0, 32), 1);
	assert_int_equal(xvs_storm_admit(&s, SEC - 1, 32), 0);
	assert_int_equal(xvs_storm_admit(&s, SEC, 32), 1);
	assert_int_equal(xvs_storm_init(&s, XVS_STORM_MAX_PPS, 0, &err), 0);
	assert_int_equal(xvs_storm_admit(&s, 0, 32), 32);
	assert_int_equal(xvs_storm_admit(&s, 3 * SEC, 32), 32);
	assert_int_equal(xvs_storm_init(&s, XVS_STORM_MAX_PPS + 1, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "above the maximum"));
	assert_int_equal(xvs_storm_init(NULL, 1, 0, &err), -EINVAL);

	assert_true(xvs_storm_counts(bcast, true));
	assert_true(xvs_storm_counts(mcast, true));
	assert_true(xvs_storm_counts(DST, false));
	assert_false(xvs_storm_counts(DST, true));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_dhcp4),
		cmocka_unit_test(test_guard_dhcp4_vlan_and_options),
		cmocka_unit_test(test_guard_dhcp4_fragments),
		cmocka_unit_test(test_guard_dhcp6),
		cmocka_unit_test(test_guard_dhcp6_ext_headers_and_fragments),
		cmocka_unit_test(test_guard_router6),
		cmocka_unit_test(test_guard_router4),
		cmocka_unit_test(test_guard_not_ip_and_malformed),
		cmocka_unit_test(test_guard_truncation_every_length),
		cmocka_unit_test(test_guard_drops_by_enabled_guard),
		cmocka_unit_test(test_guard_mac_assigned),
		cmocka_unit_test(test_guard_mac_sticky),
		cmocka_unit_test(test_guard_mac_invalid),
		cmocka_unit_test(test_guard_storm_bucket),
		cmocka_unit_test(test_guard_storm_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Random ACL rules and packets for the unit tests (test_acl: the reference
 * matcher against a second one; test_acl_dpdk: rte_acl against the
 * reference). Include after test_rng.h and acl.h.
 */
#ifndef XVS_TEST_ACL_RAND_H
#define XVS_TEST_ACL_RAND_H

/* Addresses and ports from small pools so that random rules and packets
 * meet often. */
static const uint8_t pool4[4][4] = {{10, 0, 0, 1}, {10, 0, 1, 2}, {10, 128, 0, 3}, {192, 0, 2, 4}};
static const uint8_t pool6[3][16] = {
	{0x20, 0x01, 0x0d, 0xb8, [15] = 1},
	{0x20, 0x01, 0x0d, 0xb8, 0x80, [15] = 2},
	{0xfe, 0x80, [15] = 3},
};
static const uint8_t protos[] = {6, 17, 1, 58, 47};
static const uint8_t macs[3][6] = {{0x52, 0x54, 0, 0, 0, 1}, {0x52, 0x54, 0, 0, 0, 2},
				   {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static void
rand_addr(uint8_t fam, uint8_t *a)
{
	memset(a, 0, 16);
	if (fam == 4)
		memcpy(a, pool4[rnd(4)], 4);
	else
		memcpy(a, pool6[rnd(3)], 16);
}

static void
rand_prefix(uint8_t fam, struct xvs_acl_prefix *p)
{
	unsigned max = fam == 4 ? 32 : 128, i;

	p->family = fam;
	p->len = (uint8_t)rnd(max + 1);
	rand_addr(fam, p->addr);
	for (i = p->len; i < max; i++)
		p->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static void
rand_rule(struct xvs_acl_rule *r)
{
	uint8_t fam = rnd(3) == 0 ? 0 : rnd(2) ? 4 : 6;

	memset(r, 0, sizeof(*r));
	r->dir = 1 + rnd(3);
	r->action = 1 + rnd(3);
	if (r->action == XVS_ACL_METER && rnd(2))
		r->rate_bps = 1 + rnd(1000000);
	else if (r->action == XVS_ACL_METER)
		r->rate_pps = 1 + rnd(100000);
	if (fam != 0 && rnd(2))
		rand_prefix(fam, &r->local_ip);
	if (fam != 0 && rnd(2))
		rand_prefix(fam, &r->remote_ip);
	if (rnd(4) == 0) {
		r->has_local_mac = true;
		memcpy(r->local_mac, macs[rnd(3)], 6);
	}
	if (rnd(4) == 0) {
		r->has_remote_mac = true;
		memcpy(r->remote_mac, macs[rnd(3)], 6);
	}
	if (rnd(2)) {
		r->has_proto = true;
		do
			r->proto = protos[rnd(sizeof(protos))];
		while ((r->proto == 1 && fam == 6) || (r->proto == 58 && fam == 4));
	}
	if (r->has_proto && (r->proto == 6 || r->proto == 17)) {
		if (rnd(2)) {
			r->has_local_port = true;
			r->local_port_lo = (uint16_t)rnd(100);
			r->local_port_hi = (uint16_t)(r->local_port_lo + rnd(3) * rnd(50));
		}
		if (rnd(2)) {
			r->has_remote_port = true;
			r->remote_port_lo = (uint16_t)rnd(100);
			r->remote_port_hi = (uint16_t)(r->remote_port_lo + rnd(3) * rnd(50));
		}
	}
	r->weight = (uint16_t)rnd(4) * (uint16_t)rnd(3); /* many ties */
	if (r->action == XVS_ACL_ALLOW && rnd(4) == 0) {
		r->stateful = true;
		r->timeout_s = 1 + rnd(XVS_ACL_MAX_TIMEOUT_S);
	}
}

static void
rand_pkt(struct xvs_acl_pkt *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->src_mac, macs[rnd(2)], 6);
	memcpy(p->dst_mac, macs[rnd(3)], 6);
	p->l3 = (uint8_t[]){0, 4, 6, 4, 6}[rnd(5)];
	if (p->l3 == 0)
		return;
	rand_addr(p->l3, p->src);
	rand_addr(p->l3, p->dst);
	p->proto = protos[rnd(sizeof(protos))];
	if ((p->proto == 6 || p->proto == 17) && rnd(8) != 0) {
		p->has_ports = true;
		p->sport = (uint16_t)rnd(160);
		p->dport = (uint16_t)rnd(160);
	}
}

#endif /* XVS_TEST_ACL_RAND_H */

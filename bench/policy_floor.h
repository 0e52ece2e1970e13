/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy floor's per-frame key, for the anchors of issue 12's policy
 * target: what any per-flow answer with xvs's port guards must read and
 * check at least. micro_stages' switch-10k-exact row (in one process) and
 * pvprelay's policy-floor (at the switch) use this one function, so the two
 * anchors are the same floor. No xvs code.
 */
#ifndef XVS_BENCH_POLICY_FLOOR_H
#define XVS_BENCH_POLICY_FLOOR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Frame f[0..len)'s key in k[0..2) (0 when it is too short to hold one):
 * its IPv4 addresses, ports and protocol (untagged or one 802.1Q tag);
 * whether the guards would pass it: an IPv4
 * header without options, not a fragment, TCP or UDP with its ports, not
 * DHCP (what xvs's GUARD_CLEAN says). */
static inline bool
policy_floor_key(const uint8_t *f, uint32_t len, uint64_t *k)
{
	uint32_t off = f[12] == 0x81 && f[13] == 0 ? 18 : 14;
	const uint8_t *ip = f + off;
	uint16_t sport, dport;
	uint32_t p4;

	if (len < off + 24) {
		k[0] = k[1] = 0;
		return false;
	}
	sport = (uint16_t)(ip[20] << 8 | ip[21]);
	dport = (uint16_t)(ip[22] << 8 | ip[23]);
	memcpy(&k[0], ip + 12, 8); /* addresses */
	memcpy(&p4, ip + 20, 4);   /* ports */
	k[1] = p4 | (uint64_t)ip[9] << 32;
	return ip[0] == 0x45 && ((ip[6] << 8 | ip[7]) & 0x3fff) == 0 &&
	       (ip[9] == 6 || (ip[9] == 17 && sport != 67 && dport != 68 && sport != 547 &&
			       dport != 546 && dport != 547));
}

#endif /* XVS_BENCH_POLICY_FLOOR_H */

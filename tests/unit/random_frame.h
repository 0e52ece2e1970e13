/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Random frames for tests that compare two ways of reading one frame's
 * headers (the L2 stage's against the metadata's): an Ethernet header with
 * or without an 802.1Q tag, then IPv6 or IPv4 whose fields are mostly
 * sound and each sometimes not (version and IHL, total length, fragment
 * fields, protocol), ports after the IP header, a random length, sometimes
 * cut short.
 */
#ifndef XVS_TEST_RANDOM_FRAME_H
#define XVS_TEST_RANDOM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The next number of the generator (a 64-bit LCG) at *seed. */
static inline unsigned
random_frame_next(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(*seed >> 33);
}

/* Fill d[12..cap) (the MACs are the caller's): a tag 1 in tag_in, IPv6 1
 * in v6_in, else IPv4 with protocol one of protos[0..n_protos) or (as
 * often as each) a random one; the rest random. Returns the frame's length (sometimes shorter than its L3
 * header); *l3 the L3 offset, *v6 whether it is IPv6. The caller may edit
 * the fields before using it (the length in the IPv4 header is set from
 * the frame's, or random, here). */
static inline unsigned
random_frame(uint8_t *d, unsigned cap, uint64_t *seed, unsigned tag_in, unsigned v6_in,
	     const uint8_t *protos, unsigned n_protos, unsigned *l3, bool *v6)
{
#define RND() random_frame_next(seed)
	bool tag = RND() % tag_in == 0;
	unsigned o = tag ? 18 : 14, len;

	*v6 = RND() % v6_in == 0;
	if (tag)
		d[12] = 0x81, d[13] = 0, d[14] = (uint8_t)(RND() % 8 << 5), d[15] = 7;
	d[o - 2] = *v6 ? 0x86 : 0x08, d[o - 1] = *v6 ? 0xdd : 0x00;
	for (unsigned k = o; k < cap; k++)
		d[k] = (uint8_t)RND();
	if (*v6) {
		d[o] = (uint8_t)(0x60 | (RND() % 16));
		d[o + 6] = RND() % 2 ? 17 : 6;
	} else {
		d[o] = RND() % 6 ? 0x45 : (uint8_t)(RND() % 2 ? 0x46 + RND() % 3 : RND());
		d[o + 6] = RND() % 4 ? (uint8_t)(RND() % 2 ? 0x40 : 0) : d[o + 6];
		d[o + 7] = RND() % 4 ? 0 : d[o + 7];
		unsigned pi = RND() % (n_protos + 1);

		d[o + 9] = pi < n_protos ? protos[pi] : (uint8_t)RND();
	}
	len = o + 20 + RND() % (cap - o - 19);
	if (!*v6) {
		unsigned tot = RND() % 4 ? len - o : RND() % 140;

		d[o + 2] = (uint8_t)(tot >> 8), d[o + 3] = (uint8_t)tot;
	}
	if (RND() % 16 == 0)
		len = o + RND() % 24; /* truncated */
	*l3 = o;
	return len;
#undef RND
}

#endif /* XVS_TEST_RANDOM_FRAME_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy flow cache (datapath): one cache per worker, of masked keys, that
 * stands in for a port's port-security stages (mac_spoof, dhcp_guard,
 * router_guard, storm_limit) and its ACL, if any, together: one lookup per packet
 * gives the combined answer of its flow, "spoofed" (mac_spoof drops it) or
 * the ACL's rule (allow, deny or meter), and whatever must still happen per
 * packet (rule hits and counters, meters, stateful flows) runs from that
 * answer (acl_stage.h xvs_acl_stage_apply). doc/acl.md "How it runs".
 *
 * What it caches is a function of the key: a frame is taken only when the
 * guards' answers do not depend on anything else, i.e. IPv4 with its L4
 * header, not a fragment, not ICMP, not DHCP (XVS_META_GUARD_CLEAN: the
 * guards pass it), and, when storm_limit is on the port, unicast to a known
 * destination (XVS_META_DST_KNOWN: never counted); mac_spoof's answer for a
 * source it would adopt (sticky) is never cached. A burst with any other
 * frame runs the stages as before. The key: input port, protocol, whether
 * there are ports, and of both IPv4 addresses and both ports the bits the
 * port's answers depend on (plan mask, by protocol: an ACL gives the
 * prefixes and ports its rules for that protocol read, as Open vSwitch's
 * megaflows leave out what no rule looks at, so flows that no rule tells
 * apart share one entry); not the VLAN, on which no answer depends; both
 * MACs when an answer depends on them (plan macs: mac_spoof, or an ACL
 * rule matching a MAC).
 *
 * Validity: an entry holds the cache's epoch it was made in, and the cache
 * starts a new epoch with every snapshot generation it sees (dp.h
 * xvs_snapshot.gen, new with every publication, which is how every change of
 * rules, guard settings, sticky MACs or port options reaches the workers):
 * under another generation it is empty.
 *
 * Layout: XVS_FCACHE_SETS sets of 2 entries of 32 bytes, a set one cache
 * line (1 MB per worker), the set chosen by CRC32 of the key; a key whose
 * set is full goes to its neighbour (the other line of the same 128 bytes),
 * or else to the two other lines of the same 256 bytes, looked at in that
 * order and only when the ones before miss. A run of
 * frames with one key in a burst shares one lookup and is counted at once.
 * A miss fills a free or stale way of these; it replaces a live entry of
 * its first set only 1 in XVS_FCACHE_REPLACE times (as Open vSwitch's EMC
 * inserts with a probability), so a storm of new flows does not push out
 * the flows the cache holds. No allocation after create.
 */
#ifndef XVS_FLOW_CACHE_H
#define XVS_FLOW_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include <xvs/xvs_ext.h>

#include "dp.h"

#define XVS_FCACHE_SETS 16384u  /* x 2 ways: 32768 flows per worker */
#define XVS_FCACHE_REPLACE 16u  /* a miss replaces a live entry 1 in this many */

/* The classes of protocol a mask tells apart. */
enum {
	XVS_FCACHE_TCP,
	XVS_FCACHE_UDP,
	XVS_FCACHE_OTHER, /* any other protocol */
	XVS_FCACHE_CLASSES
};

static inline unsigned
xvs_fcache_class(uint8_t proto)
{
	return proto == 17 ? XVS_FCACHE_UDP : proto == 6 ? XVS_FCACHE_TCP : XVS_FCACHE_OTHER;
}

/* The bits of a key's addresses and ports (xvs_fcache_key's k[2], k[3])
 * that a port's answers depend on, for a frame of each protocol class: the
 * cache keys a frame on them masked so. The rest of a key (MACs, input
 * port, protocol, whether there are ports) is always all of it. Made by the
 * control thread (from xvs_fcache_mask_l2 by xvs_fcache_mask_add), read by
 * workers. */
struct xvs_fcache_mask {
	struct {
		uint64_t addrs; /* k[2]: source, destination address */
		uint64_t ports; /* k[3]: source, destination port */
	} c[XVS_FCACHE_CLASSES];
};

/* The mask of answers that read nothing of a frame past its MACs, port and
 * protocol (mac_spoof alone, or an ACL without rules for IPv4 on the
 * port's ingress): none of the addresses and ports; what
 * xvs_fcache_mask_add adds to. */
extern const struct xvs_fcache_mask xvs_fcache_mask_l2;

/* Add to class c of m: the first src_bits of the source address and
 * dst_bits of the destination (0-32), and the source and destination
 * ports where sport / dport. */
void xvs_fcache_mask_add(struct xvs_fcache_mask *m, unsigned c, unsigned src_bits,
			 unsigned dst_bits, bool sport, bool dport);

/* What of a port's ingress stages the cache stands for (pipeline_run.c
 * fills it from the stage list): indexes into the list, -1 for none. */
struct xvs_fcache_plan {
	int8_t spoof;  /* mac_spoof */
	int8_t acl;    /* the ACL, after mac_spoof (with neither, nothing is
			* looked up: the guards' flags decide) */
	bool storm;    /* storm_limit is on: only known unicast is cached */
	bool macs;     /* the answer depends on the MACs (mac_spoof, or an ACL
			* rule matching one): they are part of the key */
	const struct xvs_fcache_mask *mask; /* what of the key the answers read */
};

struct xvs_fcache; /* one worker's, written by that worker only */

/* Statistics (one worker's; tests and benchmarks). */
struct xvs_fcache_stats {
	uint64_t hits;     /* packets answered from an entry */
	uint64_t misses;   /* packets classified (and offered to the cache) */
	uint64_t inserts;  /* entries written */
	uint64_t bypass;   /* bursts left to the stages (a frame the cache cannot answer) */
};

/* A cache on NUMA socket (SOCKET_ID_ANY), or NULL without memory. Control
 * thread; freed with xvs_fcache_free. */
struct xvs_fcache *xvs_fcache_create(int socket);
void xvs_fcache_free(struct xvs_fcache *fc);
void xvs_fcache_stats(const struct xvs_fcache *fc, struct xvs_fcache_stats *out);

/* A burst whose metadata the L2 stage holds back (xvs_stages_lazy_ok): not
 * written anywhere yet, and never written when the cache answers every
 * frame from the keys the L2 stage made in its parse pass. The cache asks
 * for it (write) only where something reads it: for its misses (the ACL
 * classifies them), for a burst it does not answer (the stages run), or
 * for the ACL's per-packet work (meters, stateful flows). */
struct xvs_held {
	const struct xvs_fcache_plan *plan; /* the port's stages, as the cache stands for them */
	struct xvs_pkt_meta *meta;          /* meta[i]: frame i's, once written */
	const uint64_t (*key)[4];           /* frame i's key (xvs_fcache_key), not for a
					     * frame of a run (same[i]) */
	const uint8_t *ok;                  /* frame i is one the cache answers (as key) */
	const uint32_t *hash;               /* frame i's xvs_fcache_hash, its set prefetched */
	/* Write meta[idx[0..n)] (idx NULL: of every frame not of a run, whose
	 * metadata is its run's first frame's); again is harmless. */
	void (*write)(void *ctx, const uint16_t *idx, uint16_t n);
	void *ctx;
};

/* k's addresses and ports as mask keeps them for protocol proto. */
static inline __attribute__((always_inline)) void
xvs_fcache_key_mask(uint64_t *k, const struct xvs_fcache_mask *mask, uint8_t proto)
{
	unsigned c = xvs_fcache_class(proto);

	k[2] &= mask->c[c].addrs;
	k[3] &= mask->c[c].ports;
}

/* The cache's key of frame d in k[0..4) (addresses and ports masked by
 * mask), and whether the cache may answer for it: IPv4 its guards pass (the
 * metadata's l3 4 and GUARD_CLEAN; with plan storm also a known unicast
 * destination, which the caller checks). w1 is bytes 8-15 of the frame's
 * metadata (xvs_meta_w1: protocol, flags, offsets), port the metadata's
 * in_port: the cache makes
 * the key from the metadata, xvs_fcache_key_of (the L2 stage, before any
 * metadata is written) from xvs_meta_w1 for the frames it does not read
 * directly, and the two agree by construction. Its MACs 0 unless macs. */
static inline __attribute__((always_inline)) bool
xvs_fcache_key(uint64_t *k, const uint8_t *d, uint64_t w1, uint16_t port, bool macs,
	       const struct xvs_fcache_mask *mask)
{
	uint8_t l3 = (uint8_t)(w1 >> 8), proto = (uint8_t)(w1 >> 16), flags = (uint8_t)(w1 >> 24);
	uint16_t l3_off = (uint16_t)(w1 >> 32), l4_off = (uint16_t)(w1 >> 48);
	/* A word, not a bool: a bool kept on the stack and read back as a
	 * word stalls on store forwarding. */
	uint64_t ports = (flags & XVS_META_HAS_PORTS) != 0 ? 1 : 0;
	uint64_t a8 = 0;
	uint32_t a4 = 0, p4 = 0;

	if (l3 != 4 || !(flags & XVS_META_GUARD_CLEAN))
		return false;
	if (macs) {
		memcpy(&a8, d, 8);     /* dst MAC, src MAC 0-1 */
		memcpy(&a4, d + 8, 4); /* src MAC 2-5 */
	}
	if (ports != 0)
		memcpy(&p4, d + l4_off, 4);
	k[0] = a8;
	k[1] = a4 | (uint64_t)port << 32 | (uint64_t)proto << 54 | ports << 62;
	memcpy(&k[2], d + l3_off + 12, 8); /* src, dst address */
	k[3] = p4;
	xvs_fcache_key_mask(k, mask, proto);
	return true;
}

/* CRC32-C step: the instruction itself where the build has it, not
 * rte_hash_crc_8byte, which checks which one to use per call. */
static inline uint32_t
xvs_fcache_crc(uint64_t v, uint32_t h)
{
#if defined(RTE_ARCH_X86) && defined(__SSE4_2__)
	return (uint32_t)__builtin_ia32_crc32di(h, v);
#else
	return rte_hash_crc_8byte(v, h);
#endif
}

/* The hash of key k that chooses its set (its MACs hashed only when they
 * are part of it). */
static inline uint32_t
xvs_fcache_hash(const uint64_t *k, bool macs)
{
	uint32_t h = xvs_fcache_crc(k[1] ^ k[3], 0);

	h = xvs_fcache_crc(k[2], h);
	if (macs)
		h = xvs_fcache_crc(k[0], h);
	return h;
}

/* xvs_fcache_key of frame d[0..len) with L2 header l2, made straight from
 * its headers (no metadata word) for an IPv4 header without options, the
 * common case, and through xvs_meta_w1 for any other frame: the same key
 * and answer as xvs_fcache_key(k, d, xvs_meta_w1(d, len, l2, ...), ...),
 * in fewer steps (test_fcache_key_of compares them). */
static inline __attribute__((always_inline)) bool
xvs_fcache_key_of(uint64_t *k, const uint8_t *d, uint32_t len, const struct xvs_l2 *l2,
		  uint16_t port, bool macs, const struct xvs_fcache_mask *mask)
{
	uint32_t off = l2->l3_off, tot;
	const uint8_t *ip = d + off;
	uint64_t a8 = 0, ports;
	uint32_t a4 = 0, p4 = 0;
	uint8_t proto;

	if (unlikely(l2->ethertype != XVS_ETYPE_IPV4 || len < off + 20 || ip[0] != 0x45))
		return xvs_fcache_key(k, d, xvs_meta_w1(d, len, l2, 0, 0), port, macs, mask);
	/* RFC 791's checks (xvs_ipv4_header), not a fragment, not ICMP */
	tot = xvs_rd16(ip + 2);
	proto = ip[9];
	if (unlikely((xvs_rd16(ip + 6) & 0x3fff) != 0 || tot < 20 || tot > len - off || proto == 1 ||
		     proto == 58))
		return false;
	ports = xvs_l4_has_ports(proto, tot - 20) ? 1 : 0;
	if (likely(ports != 0))
		memcpy(&p4, ip + 20, 4);
	/* UDP: with its ports (read only then: they may lie past the frame),
	 * and not DHCP (xvs_meta_guard_clean) */
	if (proto == 17 && unlikely(ports == 0 || xvs_udp_dhcp_ports(ip + 20)))
		return false;
	if (macs) {
		memcpy(&a8, d, 8);
		memcpy(&a4, d + 8, 4);
	}
	k[0] = a8;
	k[1] = a4 | (uint64_t)port << 32 | (uint64_t)proto << 54 | ports << 62;
	memcpy(&k[2], ip + 12, 8);
	k[3] = p4;
	xvs_fcache_key_mask(k, mask, proto);
	return true;
}

/* The table of fc, and the line of hash h in it (what a lookup of the key
 * reads first: prefetch it early). */
const uint8_t *xvs_fcache_table(const struct xvs_fcache *fc);
static inline const void *
xvs_fcache_line(const uint8_t *table, uint32_t h)
{
	return table + (size_t)(h & (XVS_FCACHE_SETS - 1)) * 64;
}

/* Run the policy of plan (stages st[], their states and the ACL's counters
 * acl_ctr) over the ingress burst b under snapshot generation gen; same as
 * xvs_stages_run_ingress has it (dp.h; may be NULL). held (else NULL): the
 * burst's metadata is held back (b->meta[i] is held->meta + i), its keys
 * are held's, and the cache has it written before anything reads it.
 * Returns
 * -1, having changed nothing but the bypass count (and the cache's epoch,
 * which the next burst would move anyway), when some frame of b is not one
 * the cache answers (the caller runs the stages); 0 when every
 * frame passes (verdict, reason, by not written); 1 with verdict[i]
 * (XVS_VERDICT_PASS or _DROP), reason[i] and by[i] (the index in st of the
 * dropping stage) set for every frame. Either way the ACL's per-packet work
 * is done. Worker only. */
int xvs_fcache_run(struct xvs_fcache *fc, uint64_t gen, const struct xvs_fcache_plan *plan,
		   const struct xvs_ext_burst *b, const uint8_t *same, const struct xvs_held *held,
		   const void *spoof_state, const void *acl_state, uint64_t *acl_ctr,
		   uint8_t *verdict, uint8_t *reason, uint8_t *by);

/* Write the metadata of a run's frames the L2 stage left unwritten: frame i of
 * pkts[0..n) with same[i] gets frame i - 1's, with its own flow hash, in
 * order, so that every frame of a run has its first frame's; meta[i] is
 * frame i's (in the mbuf, or held by the L2 stage). Worker only. */
struct rte_mbuf;
struct xvs_pkt_meta;
void xvs_fcache_meta_runs(struct xvs_pkt_meta *const *meta, struct rte_mbuf *const *pkts,
			  const uint8_t *same, uint16_t n);

#endif /* XVS_FLOW_CACHE_H */

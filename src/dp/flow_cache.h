/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy flow cache (datapath): one exact-match cache per worker that
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
 * frame runs the stages as before. The key: input port, VLAN, both IPv4
 * addresses, protocol, ports (and whether there are ports), and both MACs
 * when an answer depends on them (plan macs: mac_spoof, or an ACL rule
 * matching a MAC).
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

#include <xvs/xvs_ext.h>

#define XVS_FCACHE_SETS 16384u  /* x 2 ways: 32768 flows per worker */
#define XVS_FCACHE_REPLACE 16u  /* a miss replaces a live entry 1 in this many */

/* What of a port's ingress stages the cache stands for (pipeline_run.c
 * fills it from the stage list): indexes into the list, -1 for none. */
struct xvs_fcache_plan {
	int8_t spoof;  /* mac_spoof */
	int8_t acl;    /* the ACL, after mac_spoof (with neither, nothing is
			* looked up: the guards' flags decide) */
	bool storm;    /* storm_limit is on: only known unicast is cached */
	bool macs;     /* the answer depends on the MACs (mac_spoof, or an ACL
			* rule matching one): they are part of the key */
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

/* Run the policy of plan (stages st[], their states and the ACL's counters
 * acl_ctr) over the ingress burst b under snapshot generation gen; same as
 * xvs_stages_run_ingress has it (dp.h; may be NULL), lazy when the frames
 * of a run have no metadata yet (b->meta[i], in the mbufs or held, is
 * written from the run's first frame before the ACL's per-packet path
 * reads it). Returns
 * -1, having changed nothing but the bypass count, when some frame of b is
 * not one the cache answers (the caller runs the stages); 0 when every
 * frame passes (verdict, reason, by not written); 1 with verdict[i]
 * (XVS_VERDICT_PASS or _DROP), reason[i] and by[i] (the index in st of the
 * dropping stage) set for every frame. Either way the ACL's per-packet work
 * is done. Worker only. */
int xvs_fcache_run(struct xvs_fcache *fc, uint64_t gen, const struct xvs_fcache_plan *plan,
		   const struct xvs_ext_burst *b, const uint8_t *same, bool lazy,
		   const void *spoof_state, const void *acl_state, uint64_t *acl_ctr,
		   uint8_t *verdict, uint8_t *reason, uint8_t *by);

/* Write the metadata the L2 stage left unwritten (lazy): frame i of
 * pkts[0..n) with same[i] gets frame i - 1's, with its own flow hash, in
 * order, so that every frame of a run has its first frame's; meta[i] is
 * frame i's (in the mbuf, or held by the L2 stage). Worker only. */
struct rte_mbuf;
struct xvs_pkt_meta;
void xvs_fcache_meta_runs(struct xvs_pkt_meta *const *meta, struct rte_mbuf *const *pkts,
			  const uint8_t *same, uint16_t n);

#endif /* XVS_FLOW_CACHE_H */

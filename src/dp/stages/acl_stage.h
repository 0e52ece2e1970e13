/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port ACL stage (datapath): a built-in filter on the extension ABI
 * (include/xvs/xvs_ext.h), ingress and egress, that applies a port's ACL
 * rules (src/core/acl.h gives their meaning) with DPDK's rte_acl.
 *
 * Settings. The stage's per-port settings are the port's complete rule list
 * as key=value pairs: key = the rule's id (decimal, as the store numbers it),
 * value = the rule's canonical text (xvs_acl_rule_format). Their order is the
 * insertion order, which breaks weight ties (the first rule wins). The
 * control code (src/ctl/cmd_acl.c) keeps the rules in SQLite and hands the
 * whole list to xvs_stage_configure() after every change.
 *
 * State. config_apply compiles an immutable state per port: one rte_acl
 * context per direction that has rules ("out" runs at the port's ingress,
 * "in" at its egress), one rte_meter srTCM profile per meter rule, and
 * per-worker writable areas (hit counters, meters, stateful flows), each
 * written only by its worker. A rule change builds a new state; the registry
 * publishes it and frees the old one after the grace period (state_free).
 *
 * Threads: process() on workers; everything else on the control thread.
 */
#ifndef XVS_ACL_STAGE_H
#define XVS_ACL_STAGE_H

#include <stdint.h>

#include <xvs/xvs_ext.h>

#define XVS_ACL_STAGE_NAME "acl"
#define XVS_ACL_FLOWS_PER_WORKER 8192 /* stateful flows one worker records, per port
				      * (~1 MB of DPDK memory per worker and port) */

/* The stage's descriptor, registered by xvsd at start-up. */
extern const struct xvs_ext_desc xvs_acl_stage_desc;

/* Counters of the descriptor, in order (b->counters indexes). */
enum xvs_acl_ctr {
	XVS_ACL_CTR_ALLOWED,      /* a rule allowed the packet */
	XVS_ACL_CTR_DENIED,       /* a deny rule dropped it */
	XVS_ACL_CTR_METER_PASS,   /* a meter rule let it through (within rate) */
	XVS_ACL_CTR_METER_DROP,   /* a meter rule dropped it (above rate) */
	XVS_ACL_CTR_NO_MATCH,     /* no rule matched: allowed by default */
	XVS_ACL_CTR_FLOW_ALLOWED, /* allowed by a recorded stateful flow */
	XVS_ACL_CTR_FLOW_ADDED,   /* a stateful allow recorded its flow */
	XVS_ACL_CTR_FLOW_FULL,    /* a stateful allow could not be recorded (table full) */
	XVS_ACL_CTR_FLOW_EXPIRED, /* idle flows removed by the sweep */
	XVS_ACL_CTR__MAX
};

/* Drop reasons of the descriptor, in order. */
enum xvs_acl_drop {
	XVS_ACL_DROP_DENY,  /* "deny" */
	XVS_ACL_DROP_METER, /* "meter": above the rule's rate */
};

/* Hit counters of a published state (summed over workers), for "acl show":
 * writes up to max pairs (rule id, hits) in rule order and returns the
 * number of rules of the state. Any thread; torn-free 64-bit loads. Hits of
 * a rule survive a rule-set change (the new state starts from the old
 * counts, minus what workers counted on the old state after the copy). */
unsigned xvs_acl_stage_hits(const void *state, uint32_t *ids, uint64_t *hits, unsigned max);

/* Packets of a state classified from its verdict cache (all workers; read
 * by tests and benchmarks, not synchronised with the workers). */
uint64_t xvs_acl_stage_cache_hits(const void *state);

/* Recorded stateful flows of a state (all workers): expired ones count until
 * the sweep deletes them and the grace period has passed. */
unsigned xvs_acl_stage_flows(const void *state);

/* ---- For the flow cache (src/dp/flow_cache.c), workers only ----
 * process() split in two, so that one cached answer per flow can stand in
 * for the classification while everything per packet still runs. */

/* rte_acl's answer (rule index + 1, 0 for no match) for frames idx[0..n)
 * of b under state, in res[0..n): a pure function of the frame's ACL key
 * (direction, MACs, addresses, protocol, ports) and the state. Neither the
 * verdict cache nor any counter is touched. Returns 0, or -1 if rte_acl
 * failed: res is then no answer, to be neither used nor cached. */
int xvs_acl_stage_classify(const void *state, const struct xvs_ext_burst *b,
			    const uint16_t *idx, uint16_t n, uint32_t *res);

/* What process() does after classifying, with res[i] the answer for frame
 * i of b (as xvs_acl_stage_classify gives it): rule hits and counters
 * (b->counters) for every packet, meters per packet, stateful flows looked
 * up and refreshed before the rule, recorded by stateful allows, and the
 * sweep; verdict[i]/reason[i] set for drops. */
void xvs_acl_stage_apply(const void *state, const struct xvs_ext_burst *b, const uint32_t *res,
			 uint8_t *verdict, uint8_t *reason);

/* Does some rule of state match a MAC (else its answer is the same
 * whatever the frame's MACs)? */
bool xvs_acl_stage_reads_macs(const void *state);

/* What of the flow cache's key of an IPv4 frame on the port's ingress
 * (dir=out) state's answer depends on, by protocol: the prefixes and ports
 * its rules for that protocol read (flow_cache.h struct xvs_fcache_mask);
 * for a NULL state the base mask. Two frames equal under it, and in their
 * MACs where xvs_acl_stage_reads_macs, get the same answer from
 * xvs_acl_stage_classify. */
struct xvs_fcache_mask;
const struct xvs_fcache_mask *xvs_acl_stage_fcache_mask(const void *state);

/* xvs_acl_stage_apply for runs of frames with one answer each: run j is
 * frames start[j] .. start[j + 1] - 1 of b (the last one to b->n), res[j]
 * its answer. Counts each run at once. Returns 0 when every frame passes
 * (verdict and reason not written), 1 when some were denied (verdict[i] set
 * for every frame, reason[i] for the drops), or -1, having done nothing,
 * when the state has meters or stateful rules (per packet work: use
 * xvs_acl_stage_apply). */
int xvs_acl_stage_apply_runs(const void *state, const struct xvs_ext_burst *b, const uint32_t *res,
			     const uint16_t *start, uint16_t n_runs, uint8_t *verdict,
			     uint8_t *reason);

/* Test seam: when set, a stateful allow recording a flow calls it between
 * writing the flow's timeout and its time (which makes the flow live with
 * that timeout), on the recording worker, so a test can run a reader at the
 * publication point. NULL in xvsd: one predictable branch per new flow. */
extern void (*xvs_acl_test_flow_seam)(void);

#endif /* XVS_ACL_STAGE_H */

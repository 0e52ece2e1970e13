/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The built-in stages (datapath), each a struct xvs_ext_desc on the public
 * extension ABI (include/xvs/xvs_ext.h), registered at start-up before ports
 * are restored:
 *
 *   l2_forward   forward  the learning switch (stage_l2.c runs it inline; the
 *                         descriptor names it in the registry)
 *   mac_spoof    filter   ingress: sources other than the port's MACs dropped
 *   dhcp_guard   filter   ingress: DHCP server messages from a VM dropped
 *   router_guard filter   ingress: router advertisements/redirects dropped
 *   storm_limit  filter   ingress: broadcast + multicast + unknown unicast
 *                         packets/s per port; the rest dropped
 *   acl          filter   ingress and egress: port ACLs on rte_acl (acl_stage.h;
 *                         settings from src/ctl/cmd_acl.c, not port options)
 *   passthroughN filter   ingress, only with --test-faults / benchmarks: does
 *                         nothing, measures what a stage costs
 *
 * Their settings (xvs_stage_configure key=value) are what src/ctl/guard.c
 * derives from the port options (mac-spoof, mac, dhcp-guard, router-guard,
 * storm-limit); operators set the port options, not these.
 */
#ifndef XVS_STAGES_H
#define XVS_STAGES_H

#include <stdbool.h>
#include <stdint.h>

#include <xvs/xvs_ext.h>

#include "xvs_err.h"

#define XVS_PASSTHROUGH_MAX 8

extern const struct xvs_ext_desc xvs_stage_l2_forward;
extern const struct xvs_ext_desc xvs_stage_mac_spoof;
extern const struct xvs_ext_desc xvs_stage_dhcp_guard;
extern const struct xvs_ext_desc xvs_stage_router_guard;
extern const struct xvs_ext_desc xvs_stage_storm_limit;
extern const struct xvs_ext_desc xvs_stage_passthrough[XVS_PASSTHROUGH_MAX];

/* Register the built-in stages; with passthrough, also passthrough0..7.
 * Control thread, once at start-up. */
int xvs_stages_builtin_register(bool passthrough, struct xvs_err *err);

/* mac_spoof with sticky learning: a source a sticky port sent from, which
 * the control thread may adopt (xvs_mac_guard_learn) and publish. Returns
 * false when no worker asked since the last call. Control thread. */
bool xvs_mac_spoof_take_sticky(uint16_t *port, uint8_t mac[6]);

#endif /* XVS_STAGES_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port VLAN model and rules (core, no DPDK).
 *
 * Access port: carries one VLAN, untagged on the wire. Tagged frames (VID != 0)
 * arriving on it are dropped; priority-tagged (VID 0) frames are accepted as
 * untagged. Trunk port: carries the VLANs of its allowed set, tagged; an
 * optional native VLAN travels untagged. Untagged frames on a trunk without a
 * native VLAN are dropped. Egress: a frame may leave a port only if its VLAN is
 * carried by that port; it leaves untagged on an access port or on the native
 * VLAN of a trunk, tagged otherwise.
 */
#ifndef XVS_VLAN_H
#define XVS_VLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xvs_err.h"

#define XVS_VLAN_MIN 1
#define XVS_VLAN_MAX 4094
#define XVS_VLAN_DEFAULT 1
#define XVS_VLAN_WORDS (4096 / 64)

enum xvs_vlan_mode {
	XVS_VLAN_ACCESS = 0,
	XVS_VLAN_TRUNK = 1,
};

struct xvs_vlan_cfg {
	enum xvs_vlan_mode mode;
	uint16_t access_vid;                /* access: the port's VLAN (1-4094) */
	uint16_t native_vid;                /* trunk: untagged VLAN, 0 = none */
	uint64_t allowed[XVS_VLAN_WORDS];   /* trunk: bitmap of carried VLANs */
};

/* Ingress verdicts (0 = pass). */
enum xvs_vlan_verdict {
	XVS_VLAN_PASS = 0,
	XVS_VLAN_DROP_TAGGED_ON_ACCESS,  /* tagged frame on an access port */
	XVS_VLAN_DROP_NOT_ALLOWED,       /* tag not in the trunk's allowed set */
	XVS_VLAN_DROP_UNTAGGED,          /* untagged frame on a trunk without native VLAN */
};

/* Default config: access, VLAN 1. */
void xvs_vlan_cfg_init(struct xvs_vlan_cfg *cfg);

/* The per-frame rules below are inline: the datapath runs them for every
 * frame (ingress) and every destination (egress). */

static inline bool
xvs_vlan_vid_valid(uint32_t vid)
{
	return vid >= XVS_VLAN_MIN && vid <= XVS_VLAN_MAX;
}

static inline bool
xvs_vlan_bit_test(const uint64_t *bm, uint16_t vid)
{
	return (bm[vid / 64] >> (vid % 64)) & 1;
}

/* Does the port carry vid (access VLAN, or trunk allowed set incl. native)? */
static inline bool
xvs_vlan_carries(const struct xvs_vlan_cfg *cfg, uint16_t vid)
{
	if (!xvs_vlan_vid_valid(vid))
		return false;
	if (cfg->mode == XVS_VLAN_ACCESS)
		return vid == cfg->access_vid;
	/* | not ||: on a trunk with tagged and native frames mixed, a branch on
	 * "is it the native VLAN" mispredicts for a large share of frames. */
	return (vid == cfg->native_vid) | xvs_vlan_bit_test(cfg->allowed, vid);
}

/* Classify an arriving frame: tagged/vid as parsed (vid 0 = untagged or
 * priority-tagged). On XVS_VLAN_PASS *out_vid is the frame's VLAN. */
static inline int
xvs_vlan_ingress(const struct xvs_vlan_cfg *cfg, bool tagged, uint16_t vid, uint16_t *out_vid)
{
	/* A VID 0 tag only carries a priority (802.1Q-2018 9.6): untagged. */
	bool has_vid = tagged & (vid != 0);
	uint16_t v;

	if (cfg->mode == XVS_VLAN_ACCESS) {
		if (has_vid)
			return XVS_VLAN_DROP_TAGGED_ON_ACCESS;
		*out_vid = cfg->access_vid;
		return XVS_VLAN_PASS;
	}
	/* Trunk: written to compile without a branch on tagged/untagged, which
	 * mixed traffic would mispredict. An untagged frame takes the native
	 * VLAN (0: none, dropped), which the port always carries; a tagged one
	 * on the native VLAN is accepted, as most switches do. */
	v = has_vid ? vid : cfg->native_vid;
	if (v == 0)
		return XVS_VLAN_DROP_UNTAGGED;
	if (!xvs_vlan_carries(cfg, v))
		return XVS_VLAN_DROP_NOT_ALLOWED;
	*out_vid = v;
	return XVS_VLAN_PASS;
}

/* May a frame of VLAN vid leave through this port? Returns true and sets
 * *tagged to whether it must carry a tag; false if the port does not carry vid. */
static inline bool
xvs_vlan_egress(const struct xvs_vlan_cfg *cfg, uint16_t vid, bool *tagged)
{
	if (!xvs_vlan_carries(cfg, vid))
		return false;
	*tagged = (cfg->mode == XVS_VLAN_TRUNK) & (vid != cfg->native_vid);
	return true;
}

/* Parse "10", "1-10,20,30-40" into a bitmap (cleared first). Each VLAN must be
 * 1-4094, ranges ascending, no empty items. err names `what`. */
int xvs_vlan_list_parse(const char *what, const char *s, uint64_t bitmap[XVS_VLAN_WORDS],
			struct xvs_err *err);

/* Format a bitmap as "1-10,20"; returns the length that was needed (like
 * snprintf), "" for an empty set. */
int xvs_vlan_list_format(const uint64_t bitmap[XVS_VLAN_WORDS], char *buf, size_t len);

/* Validate a whole config; port names the port in the message. Trunks must
 * allow at least one VLAN (the native VLAN counts,
 * and is carried even when it is not in the allowed list). */
int xvs_vlan_cfg_validate(const struct xvs_vlan_cfg *cfg, const char *port, struct xvs_err *err);

#endif /* XVS_VLAN_H */

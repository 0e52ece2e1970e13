/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l2_forward: the switch's forward stage in the registry (datapath).
 *
 * The worker runs the learning switch inline (stage_l2.c, pass 2: learning,
 * FDB lookup, flood), because it is on every frame's path and its lookups are
 * batched with the parse; this descriptor makes it a stage like the others
 * (listed, ordered last on ingress, counted). Its process() is the same
 * decision without learning, for callers that run stages through the ABI.
 */
#include "dp.h"
#include "stages.h"

static void
l2_forward_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	for (uint16_t i = 0; i < b->n; i++) {
		struct xvs_pkt_meta *md = b->meta[i];
		const uint8_t *dst = b->data[i];
		struct xvs_fdb_hit hit;

		if ((dst[0] & 1) == 0 && xvs_fdb_lookup(xvs_dp.fdb, dst, md->vid, &hit)) {
			md->dst.kind = XVS_DEST_PORT;
			md->dst.id = hit.port;
		} else {
			md->dst.kind = XVS_DEST_FLOOD;
			md->dst.id = md->vid;
		}
	}
}

static const struct xvs_ext_ops l2_forward_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.process = l2_forward_process,
};

const struct xvs_ext_desc xvs_stage_l2_forward = {
	.abi_version = XVS_EXT_ABI_VERSION,
	.size = sizeof(struct xvs_ext_desc),
	.name = "l2_forward",
	.description = "learning L2 switch: known unicast to its port, the rest flooded in the VLAN",
	.kind = XVS_EXT_FORWARD,
	.places = XVS_EXT_INGRESS,
	.ops = &l2_forward_ops,
};

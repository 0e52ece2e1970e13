/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration of the built-in stages (datapath, control thread).
 */
#include "acl_stage.h"
#include "pipeline.h"
#include "stages.h"
#include "capture.h"
#include "mirror.h"

int
xvs_stages_builtin_register(bool passthrough, struct xvs_err *err)
{
	const struct xvs_ext_desc *const builtin[] = {
		&xvs_stage_l2_forward, &xvs_stage_mac_spoof, &xvs_stage_dhcp_guard,
		&xvs_stage_router_guard, &xvs_stage_storm_limit, &xvs_acl_stage_desc,
		&xvs_mirror_desc, &xvs_capture_desc,
	};
	int rc;

	for (unsigned i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		rc = xvs_stage_register(builtin[i], NULL, "built-in", err);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; passthrough && i < XVS_PASSTHROUGH_MAX; i++) {
		rc = xvs_stage_register(&xvs_stage_passthrough[i], NULL, "built-in", err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

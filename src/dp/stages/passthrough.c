/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * passthrough0..7 (built-in, registered only for tests and benchmarks): a
 * filter stage that passes every frame, so the cost of the stage machinery
 * itself can be measured (bench/README.md) with 0, 1, 4 or 8 of them.
 */
#include "stages.h"

static void
passthrough_process(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict, uint8_t *reason)
{
	(void)ctx, (void)b, (void)verdict, (void)reason;
}

static const struct xvs_ext_ops passthrough_ops = {
	.size = sizeof(struct xvs_ext_ops),
	.process = passthrough_process,
};

#define PASSTHROUGH(n)                                                                   \
	{                                                                                \
		.abi_version = XVS_EXT_ABI_VERSION, .size = sizeof(struct xvs_ext_desc), \
		.name = "passthrough" #n, .description = "test stage: passes every frame", \
		.kind = XVS_EXT_FILTER, .places = XVS_EXT_INGRESS, .ops = &passthrough_ops,   \
	}

const struct xvs_ext_desc xvs_stage_passthrough[XVS_PASSTHROUGH_MAX] = {
	PASSTHROUGH(0), PASSTHROUGH(1), PASSTHROUGH(2), PASSTHROUGH(3),
	PASSTHROUGH(4), PASSTHROUGH(5), PASSTHROUGH(6), PASSTHROUGH(7),
};

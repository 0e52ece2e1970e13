/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: xvs_parse_l2() and xvs_parse_flow() on arbitrary frames.
 * The input is copied into a buffer of exactly its size so AddressSanitizer
 * catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xvs_flow flow;
	struct xvs_l2 l2;
	uint8_t *frame;
	int rc;

	frame = malloc(size ? size : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data, size);

	rc = xvs_parse_l2(frame, (uint32_t)size, &l2);
	if (xvs_parse_reason_name(rc) == NULL)
		abort();
	if (rc == XVS_PARSE_OK) {
		if (l2.l3_off > size || (l2.tagged && l2.prio_tagged) || l2.vid > 4094)
			abort();
		if (xvs_parse_flow(frame, (uint32_t)size, &l2, &flow) == 0) {
			if (flow.l4_off > size || (flow.has_ports && flow.fragment))
				abort();
			if (flow.has_ports && flow.l4_off + 4u > size)
				abort();
		}
	}
	free(frame);
	return 0;
}

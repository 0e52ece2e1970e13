/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: xvs_parse_l2(), xvs_parse_flow() and the RSS hash input
 * (xvs_rss_input(), every hash type) on arbitrary frames.
 * The input is copied into a buffer of exactly its size so AddressSanitizer
 * catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_parse.h"
#include "rss.h"

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
		/* The types byte comes from the frame itself, so every mix is tried. */
		uint32_t types = size > 0 ? (uint32_t)frame[size - 1] << 1 | (size & 1) : 0;
		uint8_t in[XVS_RSS_INPUT_MAX];
		size_t n = xvs_rss_input(frame, (uint32_t)size, &l2, types & XVS_RSS_TYPES_ALL, in);

		if (n != 0 && n != 8 && n != 12 && n != 32 && n != 36)
			abort();
		if (n > 0 && l2.ethertype != 0x0800 && l2.ethertype != 0x86dd)
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

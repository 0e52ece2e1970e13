/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: QoS settings (they come from the CLI) and the scheduler
 * run on what validation accepts.
 *
 * The input is read as: mode, capacity, class count, per class weight,
 * minimum, cap, strict level; then a trace of steps (head frame sizes of
 * every class, time step). Invariants checked: xvs_qos_validate() never
 * crashes and sets a message when it refuses; on an accepted configuration
 * xvs_qos_pick() only picks a class with a frame, says when to come back
 * when it picks none, and never lets a capped class exceed
 * cap x elapsed + its bucket + one frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rd {
	const uint8_t *p;
	size_t left;
};

static uint64_t
take(struct rd *r, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v = v << 8;
		if (r->left > 0) {
			v |= *r->p++;
			r->left--;
		}
	}
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = {data, size};
	struct xvs_qos_cfg cfg;
	struct xvs_qos_sched s;
	struct xvs_err err = {0};
	uint64_t sent[XVS_QOS_MAX_CLASSES] = {0}, t = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = (enum xvs_qos_mode)(take(&r, 1) % 3);
	cfg.capacity_bps = take(&r, 5);
	cfg.shape_port = take(&r, 1) & 1;
	cfg.n_classes = (uint32_t)take(&r, 1) % (XVS_QOS_MAX_CLASSES + 2);
	for (uint32_t i = 0; i < cfg.n_classes && i < XVS_QOS_MAX_CLASSES; i++) {
		cfg.cls[i].name[0] = (char)('a' + i);
		cfg.cls[i].weight = (uint32_t)take(&r, 1);
		cfg.cls[i].min_bps = take(&r, 5);
		cfg.cls[i].max_bps = take(&r, 5);
		cfg.cls[i].strict = (uint8_t)(take(&r, 1) % 10);
	}
	if (xvs_qos_validate(&cfg, &err) != 0) {
		if (err.code == 0 || err.msg[0] == '\0')
			abort();
		return 0;
	}
	xvs_qos_sched_init(&s, &cfg, 0);
	while (r.left > 0) {
		uint32_t head[XVS_QOS_MAX_CLASSES];
		uint64_t wake = 0;

		for (uint32_t i = 0; i < cfg.n_classes; i++)
			head[i] = (uint32_t)take(&r, 2);
		t += take(&r, 2);
		int k = xvs_qos_pick(&s, head, t, &wake);

		if (k >= 0) {
			if ((uint32_t)k >= cfg.n_classes || head[k] == 0)
				abort();
			sent[k] += head[k];
		} else if (wake <= t) {
			abort();
		}
	}
	for (uint32_t i = 0; i < cfg.n_classes; i++) {
		uint64_t cap = cfg.cls[i].max_bps;

		if (cap == 0)
			continue;
		/* bits allowed: cap x t + bucket (>= 2 x 64 KB) + one frame */
		unsigned __int128 bucket = cap / 1000 > 2 * 65536 * 8 ? cap / 1000 : 2 * 65536 * 8;
		unsigned __int128 allowed = (unsigned __int128)cap * t / 1000000000u +
					    bucket + 65536 * 8 + 8;

		if ((unsigned __int128)sent[i] * 8 > allowed)
			abort();
	}
	return 0;
}

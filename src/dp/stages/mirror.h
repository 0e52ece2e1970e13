/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port mirroring stage (datapath, built-in capture stage).
 *
 * A mirror session copies the frames a source port receives (its ingress:
 * what it sends into the switch) and/or the frames the switch delivers to it
 * (its egress) to a destination port, as Hyper-V's port mirroring does. The
 * stage runs on the source port only; its per-port state lists where each
 * direction's copies go. Copies (mbuf copies with the frame's offload
 * requests, see mirror_copy) go on the worker's emit queue, which sends them
 * straight to the destination's transmit path after the burst, so they are
 * never forwarded, learned, flooded or mirrored again.
 *
 * Configuration (control thread, cmd_mirror.c) is the stage's per-port
 * key=value list, complete each time:
 *   in=D:S[,D:S...]   copies of received frames to port slot D for session S
 *   out=D:S[,...]     copies of sent frames
 * Counters per session and worker live in the stage's context (summed by
 * xvs_mirror_session_counters on the control thread).
 */
#ifndef XVS_STAGE_MIRROR_H
#define XVS_STAGE_MIRROR_H

#include <stdint.h>

#include <xvs/xvs_ext.h>

#define XVS_MIRROR_MAX 64          /* sessions in the switch */
#define XVS_MIRROR_PER_PORT 8      /* destinations of one port, per direction */

extern const struct xvs_ext_desc xvs_mirror_desc;

struct xvs_mirror_counters {
	uint64_t packets;     /* copies handed to the destination */
	uint64_t bytes;
	uint64_t drops;       /* copies lost: emit queue or copy pool empty */
};

/* Sum over workers of session id's counters since xvsd started (any thread;
 * torn-free loads). A new session in a reused id starts from the sum as it is
 * then (workers own the counters: nobody else writes them). */
void xvs_mirror_session_counters(unsigned id, struct xvs_mirror_counters *out);

#endif /* XVS_STAGE_MIRROR_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP program of xvs's afxdp port, in a header of its own so that the
 * bench's bare AF_XDP relay (bench/xdprelay.c, which links nothing of xvs)
 * loads the very same one: bpf_redirect_map(&xsks, ctx->rx_queue_index,
 * XDP_PASS), a frame on a queue with a socket to it, any other to the stack.
 */
#ifndef XVS_PORTS_XSK_REDIRECT_H
#define XVS_PORTS_XSK_REDIRECT_H

#include <stddef.h>

#include <linux/bpf.h>

#include <bpf/bpf.h>

/* Load the program for the XSKMAP map_fd under name; its fd, or -1 (errno). */
static inline int
xvs_xsk_redirect_prog_load(int map_fd, const char *name)
{
	struct bpf_insn insn[] = {
		/* r2 = ctx->rx_queue_index */
		{.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1,
		 .off = offsetof(struct xdp_md, rx_queue_index)},
		/* r1 = &xsks (two instructions) */
		{.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		 .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd},
		{.code = 0},
		/* r3 = XDP_PASS: the action when the map has no socket */
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map},
		{.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insn,
			     sizeof(insn) / sizeof(insn[0]), NULL);
}

#endif

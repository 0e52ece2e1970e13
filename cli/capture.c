/* SPDX-License-Identifier: BSD-3-Clause */
/* xvsctl capture: a port's frames to a pcapng file (RPC: src/ctl/cmd_capture.c). */
#include <stdio.h>

#include "xvsctl.h"

static void
print_captures(json_t *r)
{
	json_t *a = json_object_get(r, "captures"), *c;
	size_t idx;

	if (!json_is_array(a)) {
		print_kv(r); /* start / stop: the capture itself */
		return;
	}
	printf("%-15s %-5s %-9s %10s %12s %8s %-20s %s\n", "PORT", "DIR", "STATE", "PACKETS",
	       "BYTES", "DROPS", "REASON", "FILE");
	json_array_foreach(a, idx, c)
		printf("%-15s %-5s %-9s %10lld %12lld %8lld %-20s %s\n", s(c, "port"), s(c, "dir"),
		       s(c, "state"), i(c, "packets"), i(c, "bytes"), i(c, "drops"),
		       s(c, "reason"), s(c, "file"));
}

const struct cmd capture_cmds[] = {
	{{"capture", "start"}, "capture.start", ARGS_PORT_FILE_KV,
	 "PORT FILE [dir=in|out|both] [limit=BYTES] [count=PACKETS]",
	 "capture a port's frames to a pcapng file", print_captures},
	{{"capture", "stop"}, "capture.stop", ARGS_PORT, "PORT",
	 "stop a port's capture and close its file", print_captures},
	{{"capture", "show"}, "capture.show", ARGS_NONE, "",
	 "captures with packets written and drops", print_captures},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char capture_options_help[] =
	"\ncapture start: FILE is an absolute path in a directory xvsd can write; dir=in\n"
	"  the frames PORT sends into the switch, out those the switch sends to it, both\n"
	"  (default); limit=BYTES (k, M, G suffixes; at least 1024) caps the file size and\n"
	"  count=PACKETS the packets written: the capture then stops by itself and the\n"
	"  file stays valid. Copies lost to full buffers count as drops (capture show).\n"
	"  Captures are not stored: they end when xvsd stops.\n";

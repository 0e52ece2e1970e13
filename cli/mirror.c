/* SPDX-License-Identifier: BSD-3-Clause */
/* xvsctl mirror: port mirroring sessions (RPC: src/ctl/cmd_mirror.c). */
#include <stdio.h>

#include "xvsctl.h"

static void
print_mirrors(json_t *r)
{
	json_t *a = json_object_get(r, "mirrors"), *m;
	size_t idx;

	if (!json_is_array(a)) {
		print_kv(r); /* mirror add: the session itself */
		return;
	}
	printf("%-15s %-15s %-15s %-5s %-17s %10s %12s %8s\n", "NAME", "SRC", "DST", "DIR",
	       "STATE", "PACKETS", "BYTES", "DROPS");
	json_array_foreach(a, idx, m)
		printf("%-15s %-15s %-15s %-5s %-17s %10lld %12lld %8lld\n", s(m, "name"),
		       s(m, "src"), s(m, "dst"), s(m, "dir"), s(m, "state"),
		       i(m, "mirrored_packets"), i(m, "mirrored_bytes"), i(m, "drops"));
}

const struct cmd mirror_cmds[] = {
	{{"mirror", "add"}, "mirror.add", ARGS_NAME_KV, "NAME src=PORT dst=PORT [dir=in|out|both]",
	 "copy a port's frames to another port (stored)", print_mirrors},
	{{"mirror", "del"}, "mirror.del", ARGS_NAME, "NAME", "delete a mirror session", print_kv},
	{{"mirror", "show"}, "mirror.show", ARGS_OPT_NAME, "[NAME]",
	 "mirror sessions and the copies they made", print_mirrors},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char mirror_options_help[] =
	"\nmirror add: dir=in copies the frames src sends into the switch, dir=out those the\n"
	"  switch delivers to src, dir=both (default) both. A port is a source or a\n"
	"  destination, not both. Copies are never forwarded, learned or mirrored again;\n"
	"  port stats counts them on dst as \"mirrored\".\n";

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl switch commands: show and set (switch.*), the switch's settings
 * and totals.
 */
#include <jansson.h>

#include "xvsctl.h"

const struct cmd switch_cmds[] = {
	{{"switch", "show"}, "switch.show", ARGS_NONE, "", "settings and totals", print_kv},
	{{"switch", "set"}, "switch.set", ARGS_KV, "key=value ...",
	 "aging=SECONDS fdb-max=N workers=N", print_kv},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

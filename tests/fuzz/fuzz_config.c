/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the configuration parsers. Input: "key=value"; the
 * first byte also picks the port kind. Checks that a rejected value leaves
 * the config unchanged, that an accepted one validates through get/set round
 * trip, that no accepted path or name can inject DPDK device arguments or
 * options, and runs the VLAN list and MAC parsers on the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t bm[XVS_VLAN_WORDS], bm2[XVS_VLAN_WORDS];
	struct xvs_port_cfg cfg, before, again;
	struct xvs_switch_cfg sw;
	static char fmt[20000];
	struct xvs_err err;
	char *key, *value, *eq;
	char buf[256];
	uint8_t mac[6];
	uint32_t u;
	bool b;

	if (size < 1)
		return 0;
	key = malloc(size);
	if (key == NULL)
		return 0;
	/* NUL-terminated copy of data[1..size) */
	memcpy(key, data + 1, size - 1);
	key[size - 1] = '\0';
	eq = strchr(key, '=');
	if (eq != NULL) {
		*eq = '\0';
		value = eq + 1;
	} else {
		value = key;
	}

	xvs_port_cfg_init(&cfg, "fz0", (enum xvs_port_kind)(data[0] % XVS_PORT__MAX));
	before = cfg;
	if (xvs_port_cfg_set(&cfg, key, value, &err) < 0) {
		if (memcmp(&before, &cfg, sizeof(cfg)) != 0 || strlen(err.msg) == 0)
			abort();
	} else if (xvs_port_cfg_get(&cfg, key, buf, sizeof(buf)) == 0) {
		/* what get prints, set must accept and reproduce */
		again = before;
		if (xvs_port_cfg_set(&again, key, buf, &err) != 0 ||
		    memcmp(&again, &cfg, sizeof(cfg)) != 0)
			abort();
	}
	xvs_port_cfg_validate(&cfg, &err);
	/* Strings pasted into DPDK device arguments and command lines: whatever
	 * was accepted cannot start another argument or option. */
	if ((cfg.path[0] != '\0' && (cfg.path[0] != '/' || strpbrk(cfg.path, ",=\n") != NULL)) ||
	    (cfg.tx_path[0] != '\0' &&
	     (cfg.tx_path[0] != '/' || strpbrk(cfg.tx_path, ",=\n") != NULL)) ||
	    strpbrk(cfg.ifname, ",= /:\n") != NULL || cfg.ifname[0] == '-' ||
	    strpbrk(cfg.netns, ",= /\n") != NULL || cfg.netns[0] == '-')
		abort();

	if (xvs_vlan_list_parse("fuzz", value, bm, &err) == 0) {
		int n = xvs_vlan_list_format(bm, fmt, sizeof(fmt));

		if (n < 0 || (size_t)n >= sizeof(fmt) ||
		    xvs_vlan_list_parse("fuzz", fmt, bm2, &err) != 0 ||
		    memcmp(bm, bm2, sizeof(bm)) != 0)
			abort();
	}
	if (xvs_mac_parse("fuzz", value, mac, &err) == 0) {
		xvs_mac_format(mac, buf);
		if (strcasecmp(buf, value) != 0)
			abort();
	}
	xvs_u32_parse("fuzz", value, 0, UINT32_MAX, &u, &err);
	xvs_bool_parse("fuzz", value, &b, &err);
	xvs_name_validate("fuzz", value, &err);
	xvs_switch_cfg_init(&sw);
	xvs_switch_cfg_set(&sw, key, value, 8, &err);

	free(key);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the port ACL rule parser and the port guard classifiers,
 * both of which read outside input (CLI text; frames from VMs).
 *
 * The first byte picks the mode. Even: the rest is a rule line for
 * xvs_acl_rule_parse_str(); an accepted rule must pass xvs_acl_rule_check()
 * and survive format -> parse unchanged. Odd: the rest is a frame, copied into
 * a buffer of exactly its size (so ASan sees any read past len), for
 * xvs_guard_classify(), the MAC guard and xvs_acl_pkt_from_frame() with a
 * small rule set in both directions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_rule(const uint8_t *data, size_t size)
{
	struct xvs_acl_rule r, again;
	struct xvs_err err;
	char *line, buf[512];
	int n;

	line = malloc(size + 1);
	if (line == NULL)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	if (xvs_acl_rule_parse_str(line, &r, &err) == 0) {
		if (xvs_acl_rule_check(&r, &err) != 0)
			abort();
		n = xvs_acl_rule_format(&r, buf, sizeof(buf));
		if (n <= 0 || (size_t)n >= sizeof(buf))
			abort();
		if (xvs_acl_rule_parse_str(buf, &again, &err) != 0 ||
		    memcmp(&r, &again, sizeof(r)) != 0)
			abort();
	} else if (err.code >= 0 || memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort();
	}
	free(line);
}

static void
fuzz_frame(const uint8_t *data, size_t size)
{
	static const char *const lines[] = {
		"dir=in action=deny remote-ip=10.0.0.0/8 proto=tcp local-port=22 weight=100",
		"dir=out action=allow proto=udp remote-port=53 stateful=on",
		"dir=both action=meter rate=1m remote-ip=2001:db8::/32",
		"dir=out action=deny remote-mac=ff:ff:ff:ff:ff:ff",
	};
	static const uint8_t assigned[1][6] = {{0x52, 0x54, 0, 0, 0, 1}};
	struct xvs_acl_rule rules[4];
	struct xvs_mac_guard g;
	struct xvs_acl_pkt p;
	uint8_t *frame;
	unsigned i;
	int cls;

	frame = malloc(size ? size : 1);
	if (frame == NULL)
		return;
	memcpy(frame, data, size);

	cls = xvs_guard_classify(frame, (uint32_t)size);
	if (cls < XVS_GUARD_NONE || cls >= XVS_GUARD__MAX)
		abort();
	if (size >= 12) {
		xvs_mac_guard_set(&g, "fuzz", false, assigned, 1, 1, NULL);
		if (xvs_mac_guard_check(&g, frame + 6) > XVS_MAC_LEARN)
			abort();
	}
	for (i = 0; i < 4; i++)
		if (xvs_acl_rule_parse_str(lines[i], &rules[i], NULL) != 0)
			abort();
	if (xvs_acl_pkt_from_frame(frame, (uint32_t)size, &p) == 0) {
		if (p.l3 != 0 && p.l3 != 4 && p.l3 != 6)
			abort();
		if (xvs_acl_match_slow(rules, 4, &p, XVS_ACL_IN) >= 4 ||
		    xvs_acl_match_slow(rules, 4, &p, XVS_ACL_OUT) >= 4)
			abort();
	}
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_rule(data + 1, size - 1);
	else
		fuzz_frame(data + 1, size - 1);
	return 0;
}

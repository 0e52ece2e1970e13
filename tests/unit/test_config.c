/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/config.c: scalar parsers at their boundaries, the
 * port key table (kinds, messages, unchanged config on error), get/set round
 * trips, whole-port validation and the switch keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

/* Set key=value expecting rc; on failure compare the message when msg != NULL. */
static void
set_expect(struct xvs_port_cfg *cfg, const char *key, const char *value, int rc, const char *msg)
{
	struct xvs_port_cfg before = *cfg;
	struct xvs_err err;

	xvs_err_clear(&err);
	if (xvs_port_cfg_set(cfg, key, value, &err) != rc)
		fail_msg("%s=%s: expected %d, got message \"%s\"", key, value, rc, err.msg);
	if (rc < 0) {
		assert_int_equal(err.code, rc);
		/* a rejected value changes nothing */
		assert_memory_equal(&before, cfg, sizeof(before));
		if (msg != NULL)
			assert_string_equal(err.msg, msg);
	}
}

static void
get_expect(const struct xvs_port_cfg *cfg, const char *key, const char *value)
{
	char buf[256];

	assert_int_equal(xvs_port_cfg_get(cfg, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, value);
}

static void
test_config_u32_parse_valid(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(xvs_u32_parse("x", "0", 0, 10, &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xvs_u32_parse("x", "10", 0, 10, &v, NULL), 0);
	assert_int_equal(v, 10);
	assert_int_equal(xvs_u32_parse("x", "007", 0, 10, &v, NULL), 0);
	assert_int_equal(v, 7);
	assert_int_equal(xvs_u32_parse("x", "4294967295", 0, UINT32_MAX, &v, NULL), 0);
	assert_int_equal(v, UINT32_MAX);
}

static void
test_config_u32_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "4294967296",
		"99999999999999999999999", "١",
	};
	struct xvs_err err;
	uint32_t v = 1234;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xvs_u32_parse("x", bad[i], 0, UINT32_MAX, &v, &err) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(v, 1234);
	}
	assert_int_equal(xvs_u32_parse("x", NULL, 0, 1, &v, &err), -EINVAL);
	assert_int_equal(xvs_u32_parse("port vm1: vlan", "5000", 1, 4094, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "port vm1: vlan 5000 outside 1-4094");
	assert_int_equal(xvs_u32_parse("port vm1: vlan", "0", 1, 4094, &v, &err), -EINVAL);
	assert_int_equal(xvs_u32_parse("port vm1: vlan", "4095", 1, 4094, &v, &err), -EINVAL);
	assert_int_equal(xvs_u32_parse("q", "abc", 1, 16, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "q \"abc\" is not a number (expected 1-16)");
	assert_int_equal(xvs_u32_parse("q", "", 1, 16, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "q: empty value (expected a number 1-16)");
}

static void
test_config_bool_parse(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "yes", "on", "1"};
	static const char *const no[] = {"false", "False", "no", "off", "0"};
	static const char *const bad[] = {"", "2", "tru", "y", "enable"};
	bool b;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		b = false;
		assert_int_equal(xvs_bool_parse("b", yes[i], &b, NULL), 0);
		assert_true(b);
		assert_int_equal(xvs_bool_parse("b", no[i], &b, NULL), 0);
		assert_false(b);
		assert_int_equal(xvs_bool_parse("b", bad[i], &b, NULL), -EINVAL);
	}
	assert_int_equal(xvs_bool_parse("b", NULL, &b, NULL), -EINVAL);
}

static void
test_config_mac_parse(void **state)
{
	static const uint8_t want[6] = {0x02, 0xab, 0xcd, 0xef, 0x00, 0x9f};
	uint8_t mac[6];
	char buf[18];

	(void)state;
	assert_int_equal(xvs_mac_parse("m", "02:ab:cd:ef:00:9f", mac, NULL), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(xvs_mac_parse("m", "02:AB:Cd:eF:00:9F", mac, NULL), 0);
	assert_memory_equal(mac, want, 6);
	xvs_mac_format(mac, buf);
	assert_string_equal(buf, "02:ab:cd:ef:00:9f");
}

static void
test_config_mac_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "zz", "02:ab:cd:ef:00", "02:ab:cd:ef:00:9f:", "02:ab:cd:ef:00:9f0",
		"02-ab-cd-ef-00-9f", "2:ab:cd:ef:00:9f", "02:ab:cd:ef:00:9", "02:ab:cd:ef:00:g0",
		"0x:ab:cd:ef:00:9f", " 02:ab:cd:ef:00:9f", "02ab.cdef.009f",
	};
	uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
	struct xvs_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xvs_mac_parse("fdb: mac", bad[i], mac, &err) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_memory_equal(mac, ((uint8_t[]){1, 2, 3, 4, 5, 6}), 6);
	}
	xvs_mac_parse("fdb: mac", "zz", mac, &err);
	assert_string_equal(err.msg,
			    "fdb: mac \"zz\" is not a MAC address (expected xx:xx:xx:xx:xx:xx)");
	assert_int_equal(xvs_mac_parse("m", NULL, mac, NULL), -EINVAL);
}

static void
test_config_name_validate(void **state)
{
	static const char *const good[] = {"a", "vm1", "eth0.100", "br_0-x", "123456789012345"};
	static const char *const bad[] = {"", "1234567890123456", "-a", ".a", "a b", "a/b",
					  "a:b", "é"};
	struct xvs_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(xvs_name_validate("port name", good[i], NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xvs_name_validate("port name", bad[i], &err) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(xvs_name_validate("port name", NULL, NULL), -EINVAL);
	xvs_name_validate("port name", "-x", &err);
	assert_string_equal(err.msg, "port name \"-x\" is not a valid name (1-15 characters of "
				     "A-Z a-z 0-9 _ . -, not starting with - or .)");
}

static void
test_config_kind_names(void **state)
{
	static const char *const names[] = {"tap", "afxdp", "afpacket", "vhost", "pcap", "null",
					    "pci"};
	enum xvs_port_kind k;
	struct xvs_err err;

	(void)state;
	for (int i = 0; i < XVS_PORT__MAX; i++) {
		assert_string_equal(xvs_port_kind_name((enum xvs_port_kind)i), names[i]);
		assert_int_equal(xvs_port_kind_parse(names[i], &k, NULL), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(xvs_port_kind_name(XVS_PORT__MAX), "unknown");
	assert_int_equal(xvs_port_kind_parse("TAP", &k, &err), -EINVAL);
	assert_int_equal(xvs_port_kind_parse("", &k, &err), -EINVAL);
	assert_int_equal(xvs_port_kind_parse(NULL, &k, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "tap, afxdp, afpacket, vhost, pcap, null, pci"));
}

static void
test_config_port_init_defaults(void **state)
{
	struct xvs_port_cfg cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	assert_string_equal(cfg.name, "vm1");
	assert_int_equal(cfg.kind, XVS_PORT_TAP);
	assert_string_equal(cfg.ifname, "vm1");
	assert_int_equal(cfg.queues, 1);
	assert_int_equal(cfg.mtu, 1500);
	assert_int_equal(cfg.mac_limit, 4096);
	assert_int_equal(cfg.vlan.mode, XVS_VLAN_ACCESS);
	assert_int_equal(cfg.vlan.access_vid, 1);
	assert_string_equal(cfg.netns, "");
	assert_string_equal(cfg.mac, "");
	assert_int_equal(xvs_port_cfg_validate(&cfg, NULL), 0);
}

static void
test_config_port_unknown_key(void **state)
{
	struct xvs_port_cfg cfg;

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	set_expect(&cfg, "colour", "red", -EINVAL,
		   "port vm1: unknown option \"colour\" (valid for tap: ifname, netns, mac, "
		   "queues, mtu, vlan-mode, vlan, trunks, native, mac-limit, rss, rss-*)");
	set_expect(&cfg, NULL, "x", -EINVAL, NULL);
	set_expect(&cfg, "", "x", -EINVAL, NULL);
}

static void
test_config_port_key_wrong_kind(void **state)
{
	struct xvs_port_cfg cfg;

	(void)state;
	xvs_port_cfg_init(&cfg, "up0", XVS_PORT_AFXDP);
	set_expect(&cfg, "path", "/tmp/x", -EINVAL,
		   "port up0: option \"path\" does not apply to afxdp ports");
	set_expect(&cfg, "netns", "ns1", -EINVAL, NULL);
	set_expect(&cfg, "client", "true", -EINVAL, NULL);
	xvs_port_cfg_init(&cfg, "n0", XVS_PORT_NULL);
	set_expect(&cfg, "queues", "2", -EINVAL, NULL);
	set_expect(&cfg, "mtu", "9000", 0, NULL);
}

/* Every key of the table is accepted exactly by the kinds it lists. */
static void
test_config_port_key_table_kinds(void **state)
{
	static const char *const sample[] = {
		"ifname", "eth1",     "netns",    "ns1", "mac",   "02:00:00:00:00:01",
		"path",   "/tmp/s",   "tx-path",  "/tmp/o", "client", "true",
		"infinite", "yes",    "queues",   "4",   "start-queue", "2",
		"xdp-mode", "copy",
		"pci",    "01:00.0",  "mtu",      "1400", "vlan-mode", "trunk",
		"vlan",   "10",       "trunks",   "1-5", "native", "none",
		"mac-limit", "16",    "mac-spoof", "off", "dhcp-guard", "off",
		"router-guard", "off", "storm-limit", "100",
		"qos", "on", "link-rate", "100M", "min-bw-weight", "5", "min-bw", "1G",
		"max-bw", "2500000",
		"vmq-weight", "50",   "vmq-queues", "4", "vmmq-queues", "2",
		"rss",    "off",      "rss-base-cpu", "2", "rss-max-cpu", "auto",
		"rss-max-cpus", "2",  "rss-queues", "all", "rss-profile", "static",
		"rss-types", "tcp4,udp6", "rss-reta-size", "64",
		"rss-key", "6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a6d5a",
	};
	struct xvs_port_cfg cfg;
	int nkeys = 0;

	(void)state;
	for (int i = 0; xvs_port_cfg_keys[i].key != NULL; i++) {
		const char *value = NULL;

		nkeys++;
		assert_non_null(xvs_port_cfg_keys[i].help);
		for (size_t j = 0; j < sizeof(sample) / sizeof(sample[0]); j += 2)
			if (strcmp(sample[j], xvs_port_cfg_keys[i].key) == 0)
				value = sample[j + 1];
		assert_non_null(value);
		for (int k = 0; k < XVS_PORT__MAX; k++) {
			bool applies = (xvs_port_cfg_keys[i].kinds >> k) & 1;
			char buf[128];

			xvs_port_cfg_init(&cfg, "p", (enum xvs_port_kind)k);
			assert_int_equal(xvs_port_cfg_set(&cfg, xvs_port_cfg_keys[i].key, value,
							  NULL),
					 applies ? 0 : -EINVAL);
			assert_int_equal(xvs_port_cfg_get(&cfg, xvs_port_cfg_keys[i].key, buf,
							  sizeof(buf)),
					 applies ? 0 : -ENOENT);
		}
	}
	assert_int_equal(nkeys, 38);
}

static void
test_config_port_mac_limit(void **state)
{
	struct xvs_port_cfg cfg;

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	get_expect(&cfg, "mac-limit", "4096");
	set_expect(&cfg, "mac-limit", "0", 0, NULL);
	get_expect(&cfg, "mac-limit", "0");
	set_expect(&cfg, "mac-limit", "1", 0, NULL);
	set_expect(&cfg, "mac-limit", "1048576", 0, NULL);
	get_expect(&cfg, "mac-limit", "1048576");
	set_expect(&cfg, "mac-limit", "1048577", -EINVAL, "port vm1: mac-limit 1048577 outside 0-1048576");
	set_expect(&cfg, "mac-limit", "-1", -EINVAL, NULL);
	set_expect(&cfg, "mac-limit", "many", -EINVAL, NULL);
	set_expect(&cfg, "mac-limit", "", -EINVAL, NULL);
	/* a refused value changes nothing */
	get_expect(&cfg, "mac-limit", "1048576");
	assert_int_equal(xvs_port_cfg_validate(&cfg, NULL), 0);
}

static void
test_config_port_set_get_round_trip(void **state)
{
	struct xvs_port_cfg cfg, back;
	char buf[256];

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	set_expect(&cfg, "ifname", "tapvm1", 0, NULL);
	set_expect(&cfg, "netns", "tenant-a.1", 0, NULL);
	set_expect(&cfg, "mac", "02:AA:bb:00:00:01", 0, NULL);
	set_expect(&cfg, "queues", "16", 0, NULL);
	set_expect(&cfg, "mtu", "9000", 0, NULL);
	set_expect(&cfg, "vlan-mode", "trunk", 0, NULL);
	set_expect(&cfg, "trunks", "30-40,10,20", 0, NULL);
	set_expect(&cfg, "native", "4094", 0, NULL);
	get_expect(&cfg, "ifname", "tapvm1");
	get_expect(&cfg, "netns", "tenant-a.1");
	get_expect(&cfg, "mac", "02:aa:bb:00:00:01");
	get_expect(&cfg, "queues", "16");
	get_expect(&cfg, "mtu", "9000");
	get_expect(&cfg, "vlan-mode", "trunk");
	get_expect(&cfg, "vlan", "1");
	get_expect(&cfg, "trunks", "10,20,30-40");
	get_expect(&cfg, "native", "4094");
	assert_int_equal(xvs_port_cfg_validate(&cfg, NULL), 0);

	/* replay every gettable key into a fresh config: same result */
	xvs_port_cfg_init(&back, "vm1", XVS_PORT_TAP);
	for (int i = 0; xvs_port_cfg_keys[i].key != NULL; i++) {
		if (xvs_port_cfg_get(&cfg, xvs_port_cfg_keys[i].key, buf, sizeof(buf)) != 0)
			continue;
		set_expect(&back, xvs_port_cfg_keys[i].key, buf, 0, NULL);
	}
	assert_memory_equal(&cfg, &back, sizeof(cfg));

	/* optional strings can be cleared */
	set_expect(&cfg, "netns", "", 0, NULL);
	set_expect(&cfg, "mac", "", 0, NULL);
	set_expect(&cfg, "native", "none", 0, NULL);
	get_expect(&cfg, "netns", "");
	get_expect(&cfg, "native", "none");
}

static void
test_config_port_get_invalid_args(void **state)
{
	struct xvs_port_cfg cfg;
	char small[3];

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	assert_int_equal(xvs_port_cfg_get(&cfg, "colour", small, sizeof(small)), -ENOENT);
	assert_int_equal(xvs_port_cfg_get(&cfg, NULL, small, sizeof(small)), -ENOENT);
	assert_int_equal(xvs_port_cfg_get(&cfg, "mtu", small, sizeof(small)), -ENOSPC);
	assert_int_equal(xvs_port_cfg_get(&cfg, "mtu", NULL, 0), -ENOSPC);
	assert_int_equal(xvs_port_cfg_get(&cfg, "vlan", small, sizeof(small)), 0);
	assert_string_equal(small, "1");
}

static void
test_config_port_ranges(void **state)
{
	struct xvs_port_cfg cfg;

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	set_expect(&cfg, "vlan", "5000", -EINVAL, "port vm1: vlan 5000 outside 1-4094");
	set_expect(&cfg, "vlan", "0", -EINVAL, NULL);
	set_expect(&cfg, "vlan", "4094", 0, NULL);
	set_expect(&cfg, "vlan", "1", 0, NULL);
	set_expect(&cfg, "mtu", "67", -EINVAL, "port vm1: mtu 67 outside 68-9000");
	set_expect(&cfg, "mtu", "68", 0, NULL);
	set_expect(&cfg, "mtu", "9001", -EINVAL, NULL);
	set_expect(&cfg, "queues", "0", -EINVAL, NULL);
	set_expect(&cfg, "queues", "17", -EINVAL, NULL);
	set_expect(&cfg, "queues", "1", 0, NULL);
	set_expect(&cfg, "native", "0", -EINVAL, NULL);
	set_expect(&cfg, "native", "4095", -EINVAL, NULL);
	set_expect(&cfg, "native", "None", -EINVAL, NULL);
	set_expect(&cfg, "vlan-mode", "hybrid", -EINVAL,
		   "port vm1: vlan-mode \"hybrid\" is neither access nor trunk");
	set_expect(&cfg, "trunks", "1,4095", -EINVAL,
		   "port vm1: trunks: VLAN 4095 outside 1-4094");
	set_expect(&cfg, "ifname", "a-very-long-name", -EINVAL, NULL);
	set_expect(&cfg, "ifname", "", -EINVAL, NULL);
	set_expect(&cfg, "netns", "-ns", -EINVAL, NULL);
	set_expect(&cfg, "netns", "n/s", -EINVAL, NULL);
	set_expect(&cfg, "netns", "a23456789012345678901234567890123456789012345678901234567890123",
		   0, NULL);
	set_expect(&cfg, "netns",
		   "a234567890123456789012345678901234567890123456789012345678901234", -EINVAL,
		   NULL);
	set_expect(&cfg, "mac", "01:00:5e:00:00:01", -EINVAL, NULL);
	set_expect(&cfg, "mac", "00:00:00:00:00:00", -EINVAL, NULL);
	set_expect(&cfg, "mac", "zz", -EINVAL,
		   "port vm1: mac \"zz\" is not a MAC address (expected xx:xx:xx:xx:xx:xx)");

	xvs_port_cfg_init(&cfg, "up0", XVS_PORT_AFXDP);
	set_expect(&cfg, "start-queue", "63", 0, NULL);
	set_expect(&cfg, "start-queue", "64", -EINVAL, NULL);
	set_expect(&cfg, "start-queue", "0", 0, NULL);
	set_expect(&cfg, "xdp-mode", "zero-copy", 0, NULL);
	assert_int_equal(cfg.xdp_mode, XVS_XDP_ZEROCOPY);
	set_expect(&cfg, "xdp-mode", "zerocopy", -EINVAL,
		   "port up0: xdp-mode \"zerocopy\" is not auto, copy or zero-copy");
	assert_int_equal(cfg.xdp_mode, XVS_XDP_ZEROCOPY);
	set_expect(&cfg, "xdp-mode", "auto", 0, NULL);
}

static void
test_config_port_paths_and_bools(void **state)
{
	char long_path[XVS_PATH_MAX + 2];
	struct xvs_port_cfg cfg;

	(void)state;
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '/';
	long_path[XVS_PATH_MAX] = '\0'; /* 107 chars: fits */
	xvs_port_cfg_init(&cfg, "vm2", XVS_PORT_VHOST);
	set_expect(&cfg, "path", long_path, 0, NULL);
	long_path[XVS_PATH_MAX] = 'a';
	long_path[XVS_PATH_MAX + 1] = '\0'; /* 108 */
	set_expect(&cfg, "path", long_path, -EINVAL,
		   "port vm2: path longer than 107 characters");
	set_expect(&cfg, "path", "", -EINVAL, NULL);
	set_expect(&cfg, "client", "maybe", -EINVAL, NULL);
	set_expect(&cfg, "client", "on", 0, NULL);
	assert_true(cfg.vhost_client);
	get_expect(&cfg, "client", "true");

	xvs_port_cfg_init(&cfg, "cap", XVS_PORT_PCAP);
	set_expect(&cfg, "tx-path", "/tmp/out.pcap", 0, NULL);
	set_expect(&cfg, "tx-path", "", 0, NULL);
	set_expect(&cfg, "infinite", "1", 0, NULL);
	assert_true(cfg.pcap_infinite);
}

/* Strings that reach DPDK device arguments ("iface=PATH", "rx_pcap=PATH,tx_pcap=PATH"):
 * one test per way of breaking out of them, for each key that carries a path. */
static void
test_config_port_path_rejects_injection(void **state)
{
	static const struct {
		enum xvs_port_kind kind;
		const char *key, *value, *msg;
	} bad[] = {
		{XVS_PORT_PCAP, "path", "/x.pcap,tx_pcap=/some/file",
		 "port p1: path \"/x.pcap,tx_pcap=/some/file\" contains ',', which separates DPDK "
		 "device arguments: rename the file"},
		{XVS_PORT_PCAP, "path", "/x=y.pcap",
		 "port p1: path \"/x=y.pcap\" contains '=', which separates DPDK device arguments: "
		 "rename the file"},
		{XVS_PORT_PCAP, "tx-path", "/out.pcap,infinite_rx=1", NULL},
		{XVS_PORT_PCAP, "tx-path", "out.pcap",
		 "port p1: tx-path \"out.pcap\" is not an absolute path (start it with /)"},
		{XVS_PORT_PCAP, "path", "x.pcap", NULL},
		{XVS_PORT_PCAP, "path", "./x.pcap", NULL},
		{XVS_PORT_PCAP, "path", "~/x.pcap", NULL},
		{XVS_PORT_PCAP, "path", "/x\n.pcap",
		 "port p1: path contains a control character (byte 0x0a at 2)"},
		{XVS_PORT_PCAP, "path", "/x\t.pcap", NULL},
		{XVS_PORT_PCAP, "path", "/x\x7f.pcap", NULL},
		{XVS_PORT_PCAP, "path", "/x\x1b[2J", NULL},
		{XVS_PORT_PCAP, "tx-path", "/x\r", NULL},
		{XVS_PORT_VHOST, "path", "/run/vm1.sock,client=1", NULL},
		{XVS_PORT_VHOST, "path", "/run/vm1.sock,queues=16", NULL},
		{XVS_PORT_VHOST, "path", "vm1.sock", NULL},
		{XVS_PORT_VHOST, "path", "", "port p1: path must not be empty"},
	};
	struct xvs_port_cfg cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xvs_port_cfg_init(&cfg, "p1", bad[i].kind);
		set_expect(&cfg, bad[i].key, bad[i].value, -EINVAL, bad[i].msg);
	}
	/* what is fine: spaces, unicode, {q}, dots inside */
	xvs_port_cfg_init(&cfg, "p1", XVS_PORT_PCAP);
	set_expect(&cfg, "path", "/tmp/my caps/q{q}.pcap", 0, NULL);
	set_expect(&cfg, "path", "/tmp/\xc3\xa9t\xc3\xa9/../a.pcap", 0, NULL);
	set_expect(&cfg, "tx-path", "/tmp/out.pcap", 0, NULL);
}

/* The same rules hold for a config that did not come through set (a store row
 * written by an older xvsd, a caller filling the struct). */
static void
test_config_port_validate_rejects_injected_strings(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_err err;

	(void)state;
	xvs_port_cfg_init(&cfg, "p1", XVS_PORT_PCAP);
	snprintf(cfg.path, sizeof(cfg.path), "/x.pcap,tx_pcap=/some/file");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port p1: path"));
	snprintf(cfg.path, sizeof(cfg.path), "/x.pcap");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
	snprintf(cfg.tx_path, sizeof(cfg.tx_path), "rel.pcap");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port p1: tx-path"));
	/* not NUL-terminated within its array */
	memset(cfg.tx_path, 'a', sizeof(cfg.tx_path));
	cfg.tx_path[0] = '/';
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);

	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_VHOST);
	snprintf(cfg.path, sizeof(cfg.path), "vm1.sock");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);

	xvs_port_cfg_init(&cfg, "t1", XVS_PORT_TAP);
	snprintf(cfg.ifname, sizeof(cfg.ifname), "t1,iface=x");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port t1: ifname"));
	xvs_port_cfg_init(&cfg, "t1", XVS_PORT_TAP);
	snprintf(cfg.netns, sizeof(cfg.netns), "../../etc");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port t1: netns"));
}

/* Interface and namespace names reach iproute2's command line (argv, no shell)
 * and the kernel's ifname: each way a name can be wrong, one case. */
static void
test_config_port_ifname_netns_rejects(void **state)
{
	static const char *const bad_if[] = {
		"", "a234567890123456", "-n", ".", "..", ".x", "a/b", "a:b", "a b", "a,b", "a=b",
		"a\nb", "a\tb", "a\x7f", "\xc3\xa9", "a;b", "$(id)",
	};
	static const char *const bad_ns[] = {
		"-x", ".", "..", "../x", "a/b", "a b", "a\nb", "a,b",
		"a234567890123456789012345678901234567890123456789012345678901234",
	};
	struct xvs_port_cfg cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_if) / sizeof(bad_if[0]); i++) {
		xvs_port_cfg_init(&cfg, "t1", XVS_PORT_TAP);
		set_expect(&cfg, "ifname", bad_if[i], -EINVAL, NULL);
		xvs_port_cfg_init(&cfg, "u1", XVS_PORT_AFPACKET);
		set_expect(&cfg, "ifname", bad_if[i], -EINVAL, NULL);
	}
	for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++) {
		xvs_port_cfg_init(&cfg, "t1", XVS_PORT_TAP);
		set_expect(&cfg, "netns", bad_ns[i], -EINVAL, NULL);
	}
	xvs_port_cfg_init(&cfg, "t1", XVS_PORT_TAP);
	set_expect(&cfg, "ifname", "a2345678901234.", 0, NULL);
	set_expect(&cfg, "netns", "", 0, NULL);
	set_expect(&cfg, "ifname", "x,y", -EINVAL,
		   "port t1: ifname \"x,y\" is not a valid name (1-15 characters of "
		   "A-Z a-z 0-9 _ . -, not starting with - or .)");
}

/* An MTU the kind cannot carry is refused by validation, before anything is stored. */
static void
test_config_port_validate_mtu_per_kind(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_err err;

	(void)state;
	xvs_port_cfg_init(&cfg, "up0", XVS_PORT_AFXDP);
	set_expect(&cfg, "mtu", "9000", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "port up0: mtu 9000 is more than afxdp ports carry (at most "
				     "1774: one 2 KB umem frame per packet)");
	set_expect(&cfg, "mtu", "1774", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
	xvs_port_cfg_init(&cfg, "up1", XVS_PORT_AFPACKET);
	set_expect(&cfg, "mtu", "9000", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
}

static void
test_config_port_pci(void **state)
{
	static const char *const bad[] = {
		"", "1:00.0", "0000:01:00", "0000:01:20.0", "0000:01:00.8", "000:01:00.0",
		"0000-01:00.0", "g000:01:00.0", "01:00.0 ", "0000:01:00.0.1", "01.00.0",
	};
	struct xvs_port_cfg cfg;

	(void)state;
	xvs_port_cfg_init(&cfg, "nic0", XVS_PORT_PCI);
	set_expect(&cfg, "pci", "0000:3B:1f.7", 0, NULL);
	get_expect(&cfg, "pci", "0000:3b:1f.7");
	set_expect(&cfg, "pci", "01:00.1", 0, NULL);
	get_expect(&cfg, "pci", "0000:01:00.1");
	set_expect(&cfg, "pci", "ffff:ff:00.0", 0, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		set_expect(&cfg, "pci", bad[i], -EINVAL, NULL);
	set_expect(&cfg, "pci", "zz", -EINVAL,
		   "port nic0: pci \"zz\" is not a PCI address (expected DDDD:BB:DD.F or "
		   "BB:DD.F)");
}

static void
test_config_port_validate(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_err err;

	(void)state;
	xvs_port_cfg_init(&cfg, "vm2", XVS_PORT_VHOST);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "port vm2: vhost ports need path=FILE");
	set_expect(&cfg, "path", "/run/xvs/vm2.sock", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);

	xvs_port_cfg_init(&cfg, "cap", XVS_PORT_PCAP);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);

	xvs_port_cfg_init(&cfg, "nic0", XVS_PORT_PCI);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "port nic0: pci ports need pci=DDDD:BB:DD.F");
	set_expect(&cfg, "pci", "01:00.0", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);

	/* trunk without trunks is accepted by set, caught by validate */
	xvs_port_cfg_init(&cfg, "up0", XVS_PORT_AFPACKET);
	set_expect(&cfg, "vlan-mode", "trunk", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port up0: trunk carries no VLAN"));
	set_expect(&cfg, "trunks", "100-200", 0, NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);

	/* names and raw fields are checked too */
	xvs_port_cfg_init(&cfg, "-bad", XVS_PORT_NULL);
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	xvs_port_cfg_init(&cfg, "up1", XVS_PORT_AFXDP);
	cfg.ifname[0] = '\0';
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "port up1: afxdp ports need ifname=NAME");
	xvs_port_cfg_init(&cfg, "up1", XVS_PORT_AFXDP);
	cfg.start_queue = 60;
	cfg.queues = 4;
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), 0);
	cfg.queues = 5;
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	cfg.queues = 1;
	cfg.mtu = 10000;
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "port up1: mtu 10000 outside 68-9000");
	xvs_port_cfg_init(&cfg, "t", XVS_PORT_TAP);
	strcpy(cfg.mac, "nonsense");
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
	cfg.mac[0] = '\0';
	cfg.kind = XVS_PORT__MAX;
	assert_int_equal(xvs_port_cfg_validate(&cfg, &err), -EINVAL);
}

static void
test_config_switch_defaults_and_keys(void **state)
{
	struct xvs_switch_cfg cfg;
	char buf[32];
	int n = 0;

	(void)state;
	xvs_switch_cfg_init(&cfg);
	assert_int_equal(cfg.aging_s, 300);
	assert_int_equal(cfg.fdb_max, 8192);
	assert_int_equal(cfg.workers, 1);
	for (int i = 0; xvs_switch_cfg_keys[i].key != NULL; i++) {
		assert_int_equal(xvs_switch_cfg_get(&cfg, xvs_switch_cfg_keys[i].key, buf,
						    sizeof(buf)), 0);
		assert_int_equal(xvs_switch_cfg_set(&cfg, xvs_switch_cfg_keys[i].key, buf, 4,
						    NULL), 0);
		n++;
	}
	assert_int_equal(n, 6);
	assert_int_equal(xvs_switch_cfg_get(&cfg, "bandwidth-mode", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "weight");
	assert_int_equal(xvs_switch_cfg_set(&cfg, "bandwidth-mode", "fast", 4, NULL), -EINVAL);
	assert_int_equal(xvs_switch_cfg_get(&cfg, "colour", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(xvs_switch_cfg_get(&cfg, "aging", buf, 2), -ENOSPC);
}

static void
test_config_switch_ranges(void **state)
{
	struct xvs_switch_cfg cfg;
	struct xvs_err err;
	char buf[32];

	(void)state;
	xvs_switch_cfg_init(&cfg);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "aging", "9", 4, &err), -EINVAL);
	assert_string_equal(err.msg, "switch: aging 9 outside 10-1000000");
	assert_int_equal(xvs_switch_cfg_set(&cfg, "aging", "10", 4, &err), 0);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "aging", "1000000", 4, &err), 0);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "aging", "1000001", 4, &err), -EINVAL);
	assert_int_equal(cfg.aging_s, 1000000);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "fdb-max", "0", 4, &err), -EINVAL);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "fdb-max", "1048576", 4, &err), 0);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "fdb-max", "1048577", 4, &err), -EINVAL);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "workers", "4", 4, &err), 0);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "workers", "5", 4, &err), -EINVAL);
	assert_string_equal(err.msg, "switch: workers 5 outside 1-4");
	assert_int_equal(xvs_switch_cfg_set(&cfg, "workers", "0", 4, &err), -EINVAL);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "workers", "1", 0, &err), -EINVAL);
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(xvs_switch_cfg_set(&cfg, "colour", "1", 4, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "switch: unknown option \"colour\" (valid: aging, fdb-max, workers, "
			    "bandwidth-mode, default-flow-weight, default-flow-min-bw)");
	assert_int_equal(xvs_switch_cfg_set(&cfg, NULL, "1", 4, &err), -EINVAL);
	assert_int_equal(xvs_switch_cfg_get(&cfg, "fdb-max", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1048576");
}

/* Port guards: on for VM ports, refused with a reason on uplinks; mac-spoof
 * defaults on for tap and vhost and is in force only with a MAC; mac=sticky
 * round-trips. */
static void
test_config_port_guards(void **state)
{
	struct xvs_port_cfg cfg;
	struct xvs_err err;
	char buf[64];

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	assert_true(cfg.mac_spoof);
	assert_false(xvs_port_cfg_mac_spoof_active(&cfg));
	assert_int_equal(xvs_port_cfg_set(&cfg, "mac", "02:00:00:00:00:01", &err), 0);
	assert_true(xvs_port_cfg_mac_spoof_active(&cfg));
	assert_int_equal(xvs_port_cfg_set(&cfg, "mac", "sticky", &err), 0);
	assert_true(cfg.mac_sticky);
	assert_int_equal(xvs_port_cfg_get(&cfg, "mac", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sticky");
	assert_true(xvs_port_cfg_mac_spoof_active(&cfg));
	assert_int_equal(xvs_port_cfg_set(&cfg, "mac-spoof", "off", &err), 0);
	assert_false(xvs_port_cfg_mac_spoof_active(&cfg));
	assert_int_equal(xvs_port_cfg_set(&cfg, "dhcp-guard", "on", &err), 0);
	assert_int_equal(xvs_port_cfg_set(&cfg, "router-guard", "on", &err), 0);
	assert_int_equal(xvs_port_cfg_set(&cfg, "storm-limit", "1000", &err), 0);
	assert_true(cfg.dhcp_guard && cfg.router_guard && cfg.storm_limit == 1000);
	assert_int_equal(xvs_port_cfg_set(&cfg, "storm-limit", "100000001", &err), -EINVAL);
	assert_int_equal(xvs_port_cfg_set(&cfg, "dhcp-guard", "maybe", &err), -EINVAL);

	xvs_port_cfg_init(&cfg, "vh", XVS_PORT_VHOST);
	assert_true(cfg.mac_spoof);
	assert_int_equal(xvs_port_cfg_set(&cfg, "mac", "02:00:00:00:00:02", &err), 0);
	assert_true(xvs_port_cfg_mac_spoof_active(&cfg));

	xvs_port_cfg_init(&cfg, "up0", XVS_PORT_AFPACKET);
	assert_false(cfg.mac_spoof);
	assert_int_equal(xvs_port_cfg_set(&cfg, "mac-spoof", "on", &err), -EPERM);
	assert_non_null(strstr(err.msg, "uplink"));
	assert_int_equal(xvs_port_cfg_set(&cfg, "dhcp-guard", "on", &err), -EPERM);
	assert_int_equal(xvs_port_cfg_set(&cfg, "router-guard", "on", &err), -EPERM);
	assert_int_equal(xvs_port_cfg_set(&cfg, "mac-spoof", "off", &err), 0);
	assert_int_equal(xvs_port_cfg_set(&cfg, "storm-limit", "500", &err), 0);
	assert_false(cfg.mac_spoof || cfg.dhcp_guard || cfg.router_guard);
}

/* VMQ options: bounds, defaults, the kinds they apply to, get/set round trip. */
static void
test_config_port_vmq(void **state)
{
	struct xvs_port_cfg cfg, before;
	struct xvs_err err;
	char buf[32];

	(void)state;
	xvs_port_cfg_init(&cfg, "vm1", XVS_PORT_TAP);
	assert_int_equal(cfg.vmq_weight, 100);
	assert_int_equal(xvs_port_cfg_get(&cfg, "vmq-weight", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "100");
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-weight", "0", &err), 0);
	assert_int_equal(cfg.vmq_weight, 0);
	before = cfg;
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-weight", "101", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "vmq-weight"));
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-weight", "-1", &err), -EINVAL);
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-weight", "x", &err), -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	assert_int_equal(cfg.vmmq_queues, 1);
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmmq-queues", "16", &err), 0);
	assert_int_equal(cfg.vmmq_queues, 16);
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmmq-queues", "0", &err), -EINVAL);
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmmq-queues", "17", &err), -EINVAL);
	assert_int_equal(cfg.vmmq_queues, 16);
	/* a VM port has no queues to give */
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-queues", "1", &err), -EINVAL);
	assert_int_equal(xvs_port_cfg_get(&cfg, "vmq-queues", buf, sizeof(buf)), -ENOENT);

	xvs_port_cfg_init(&cfg, "up0", XVS_PORT_AFPACKET);
	assert_int_equal(cfg.vmq_queues, 0);
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-queues", "128", &err), 0);
	assert_int_equal(cfg.vmq_queues, 128);
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-queues", "129", &err), -EINVAL);
	assert_int_equal(cfg.vmq_queues, 128);
	assert_int_equal(xvs_port_cfg_get(&cfg, "vmq-queues", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "128");
	/* an uplink does not ask for a queue of its own */
	assert_int_equal(xvs_port_cfg_set(&cfg, "vmq-weight", "5", &err), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_port_vmq),
		cmocka_unit_test(test_config_port_guards),
		cmocka_unit_test(test_config_u32_parse_valid),
		cmocka_unit_test(test_config_u32_parse_invalid),
		cmocka_unit_test(test_config_bool_parse),
		cmocka_unit_test(test_config_mac_parse),
		cmocka_unit_test(test_config_mac_parse_invalid),
		cmocka_unit_test(test_config_name_validate),
		cmocka_unit_test(test_config_kind_names),
		cmocka_unit_test(test_config_port_init_defaults),
		cmocka_unit_test(test_config_port_unknown_key),
		cmocka_unit_test(test_config_port_key_wrong_kind),
		cmocka_unit_test(test_config_port_key_table_kinds),
		cmocka_unit_test(test_config_port_mac_limit),
		cmocka_unit_test(test_config_port_set_get_round_trip),
		cmocka_unit_test(test_config_port_get_invalid_args),
		cmocka_unit_test(test_config_port_ranges),
		cmocka_unit_test(test_config_port_paths_and_bools),
		cmocka_unit_test(test_config_port_path_rejects_injection),
		cmocka_unit_test(test_config_port_validate_rejects_injected_strings),
		cmocka_unit_test(test_config_port_ifname_netns_rejects),
		cmocka_unit_test(test_config_port_validate_mtu_per_kind),
		cmocka_unit_test(test_config_port_pci),
		cmocka_unit_test(test_config_port_validate),
		cmocka_unit_test(test_config_switch_defaults_and_keys),
		cmocka_unit_test(test_config_switch_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

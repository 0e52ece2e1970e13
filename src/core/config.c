/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration model and validation (core).
 *
 * Port options are described once, in xvs_port_cfg_keys[]: the key, a line of
 * help and the port kinds it applies to. xvs_port_cfg_set() and
 * xvs_port_cfg_get() are indexed by the same enum, so a key cannot be added to
 * the table without the compiler pointing at the switch that must handle it.
 * Every message names the object ("port vm1", "switch") and the rule.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "fdb.h"
#include "balancer.h"
#include "vmq.h"
#include "port_mtu.h"

#define KIND(k) (1u << (k))
#define ALL_KINDS ((1u << XVS_PORT__MAX) - 1)
#define NETNS_MAX 63
#define QUEUES_MAX 16
#define START_QUEUE_MAX 63
#define MTU_MIN 68   /* RFC 791: every IPv4 host must accept 68-octet datagrams */
#define MTU_MAX 9000

static const char *const kind_names[XVS_PORT__MAX] = {
	[XVS_PORT_TAP] = "tap",     [XVS_PORT_AFXDP] = "afxdp", [XVS_PORT_AFPACKET] = "afpacket",
	[XVS_PORT_VHOST] = "vhost", [XVS_PORT_PCAP] = "pcap",   [XVS_PORT_NULL] = "null",
	[XVS_PORT_PCI] = "pci",
};

enum port_key {
	PK_IFNAME,
	PK_NETNS,
	PK_MAC,
	PK_PATH,
	PK_TX_PATH,
	PK_CLIENT,
	PK_INFINITE,
	PK_QUEUES,
	PK_START_QUEUE,
	PK_XDP_MODE,
	PK_PCI,
	PK_MTU,
	PK_VLAN_MODE,
	PK_VLAN,
	PK_TRUNKS,
	PK_NATIVE,
	PK_MAC_LIMIT,
	PK_RSS,
	PK_RSS_BASE_CPU,
	PK_RSS_MAX_CPU,
	PK_RSS_MAX_CPUS,
	PK_RSS_QUEUES,
	PK_RSS_PROFILE,
	PK_RSS_TYPES,
	PK_RSS_KEY,
	PK_RSS_RETA_SIZE,
	PK_MAC_SPOOF,
	PK_DHCP_GUARD,
	PK_ROUTER_GUARD,
	PK_STORM_LIMIT,
	PK_QOS,
	PK_LINK_RATE,
	PK_MIN_BW_WEIGHT,
	PK_MIN_BW,
	PK_MAX_BW,
	PK_VMQ_WEIGHT,
	PK_VMQ_QUEUES,
	PK_VMMQ_QUEUES,
	PK__MAX
};

static const char *const xdp_mode_names[] = {
	[XVS_XDP_AUTO] = "auto", [XVS_XDP_COPY] = "copy", [XVS_XDP_ZEROCOPY] = "zero-copy",
};

const struct xvs_cfg_key xvs_port_cfg_keys[PK__MAX + 1] = {
	[PK_IFNAME] = {"ifname", "kernel interface: tap device to create, or netdev to attach to",
		       KIND(XVS_PORT_TAP) | KIND(XVS_PORT_AFXDP) | KIND(XVS_PORT_AFPACKET)},
	[PK_NETNS] = {"netns", "network namespace to move the tap's kernel side into",
		      KIND(XVS_PORT_TAP)},
	[PK_MAC] = {"mac", "the VM's MAC (tap: its kernel side, default random), or sticky: "
			   "the first source it sends from",
		    KIND(XVS_PORT_TAP) | KIND(XVS_PORT_VHOST) | KIND(XVS_PORT_NULL) |
			    KIND(XVS_PORT_PCAP)},
	[PK_PATH] = {"path", "absolute path: vhost-user socket, or pcap to replay ({q}: queue)",
		     KIND(XVS_PORT_VHOST) | KIND(XVS_PORT_PCAP)},
	[PK_TX_PATH] = {"tx-path", "absolute path of a pcap file to write transmitted frames to",
			KIND(XVS_PORT_PCAP)},
	[PK_CLIENT] = {"client", "connect to the vhost-user socket instead of listening (bool)",
		       KIND(XVS_PORT_VHOST)},
	[PK_INFINITE] = {"infinite", "replay the pcap file forever (bool)", KIND(XVS_PORT_PCAP)},
	[PK_QUEUES] = {"queues", "rx/tx queue pairs, 1-16 (pcap: rx files, see path)",
		       KIND(XVS_PORT_TAP) | KIND(XVS_PORT_AFXDP) | KIND(XVS_PORT_AFPACKET) |
			       KIND(XVS_PORT_VHOST) | KIND(XVS_PORT_PCAP) | KIND(XVS_PORT_PCI)},
	[PK_START_QUEUE] = {"start-queue", "first netdev queue used by AF_XDP, 0-63",
			    KIND(XVS_PORT_AFXDP)},
	[PK_XDP_MODE] = {"xdp-mode", "AF_XDP sockets: auto (zero-copy if the driver can, else "
			 "copy), copy or zero-copy", KIND(XVS_PORT_AFXDP)},
	[PK_PCI] = {"pci", "PCI address of the NIC, DDDD:BB:DD.F or BB:DD.F", KIND(XVS_PORT_PCI)},
	[PK_MTU] = {"mtu", "largest L3 payload carried, 68-9000 (afxdp: 1774)", ALL_KINDS},
	[PK_VLAN_MODE] = {"vlan-mode", "access or trunk", ALL_KINDS},
	[PK_VLAN] = {"vlan", "access VLAN, 1-4094", ALL_KINDS},
	[PK_TRUNKS] = {"trunks", "VLANs carried tagged on a trunk, e.g. 1-10,20", ALL_KINDS},
	[PK_NATIVE] = {"native", "untagged VLAN of a trunk, 1-4094 or none", ALL_KINDS},
	[PK_MAC_LIMIT] = {"mac-limit", "most MACs learned on the port, 0-1048576 (0: no limit)",
			  ALL_KINDS},
	[PK_RSS] = {"rss", "receive side scaling on or off (bool)", ALL_KINDS},
	[PK_RSS_BASE_CPU] = {"rss-base-cpu", "lowest CPU whose worker takes RSS traffic, or auto",
			     ALL_KINDS},
	[PK_RSS_MAX_CPU] = {"rss-max-cpu", "highest CPU whose worker takes RSS traffic, or auto",
			    ALL_KINDS},
	[PK_RSS_MAX_CPUS] = {"rss-max-cpus", "workers RSS uses at most, 1-16 or all", ALL_KINDS},
	[PK_RSS_QUEUES] = {"rss-queues", "rx queues RSS uses, 1 to the port's queues, or all",
			   ALL_KINDS},
	[PK_RSS_PROFILE] = {"rss-profile", "closest, static or conservative", ALL_KINDS},
	[PK_RSS_TYPES] = {"rss-types", "hashed packet types, e.g. ipv4,tcp4,udp4,ipv6,tcp6,udp6",
			  ALL_KINDS},
	[PK_RSS_KEY] = {"rss-key", "Toeplitz key, 40 bytes in hex", ALL_KINDS},
	[PK_RSS_RETA_SIZE] = {"rss-reta-size", "indirection table entries, a power of two 1-512",
			      ALL_KINDS},
	[PK_MAC_SPOOF] = {"mac-spoof", "MAC spoofing protection: only mac= sources may send "
				       "(on|off; VM ports only, default on for tap and vhost)",
			  ALL_KINDS},
	[PK_DHCP_GUARD] = {"dhcp-guard", "drop DHCP server messages the VM sends (on|off)",
			   ALL_KINDS},
	[PK_ROUTER_GUARD] = {"router-guard", "drop router advertisements and redirects the VM "
					     "sends (on|off)",
			     ALL_KINDS},
	[PK_STORM_LIMIT] = {"storm-limit", "broadcast+multicast+unknown-unicast packets/s the "
					   "port may send, 0-100000000 (0: no limit)",
			    ALL_KINDS},
	[PK_QOS] = {"qos", "schedule the port's egress: minimum bandwidth, caps, traffic "
			   "classes (on|off)", ALL_KINDS},
	[PK_LINK_RATE] = {"link-rate", "bit/s the port's egress is scheduled against, e.g. 100M "
				       "(0: the link's reported speed)", ALL_KINDS},
	[PK_MIN_BW_WEIGHT] = {"min-bw-weight", "minimum bandwidth of the port's traffic as a "
					       "weight, 0-100 (0: none; bandwidth-mode=weight)",
			      ALL_KINDS},
	[PK_MIN_BW] = {"min-bw", "absolute minimum bandwidth of the port's traffic, bit/s "
				 "(0: none; bandwidth-mode=absolute)", ALL_KINDS},
	[PK_MAX_BW] = {"max-bw", "cap on the port's traffic at scheduling egress ports, bit/s "
				 "(0: none)", ALL_KINDS},
	[PK_VMQ_WEIGHT] = {"vmq-weight", "VMQ: 1-100 asks for a receive queue of its own on "
					 "each uplink with vmq-queues (priority when they run "
					 "out), 0 never; default 100", KIND(XVS_PORT_TAP) |
					 KIND(XVS_PORT_VHOST)},
	[PK_VMQ_QUEUES] = {"vmq-queues", "VMQ: queues of this uplink given to VM ports, "
					 "0-128 (0: off, every frame on the default queue)",
			   KIND(XVS_PORT_AFXDP) | KIND(XVS_PORT_AFPACKET) | KIND(XVS_PORT_PCI)},
	[PK_VMMQ_QUEUES] = {"vmmq-queues", "VMMQ: queues the port asks each VMQ uplink for, "
					   "its frames spread over them by RSS, 1-16; default 1",
			    KIND(XVS_PORT_TAP) | KIND(XVS_PORT_VHOST)},
	[PK__MAX] = {NULL, NULL, 0},
};

enum switch_key {
	SK_AGING,
	SK_FDB_MAX,
	SK_WORKERS,
	SK_BW_MODE,
	SK_DF_WEIGHT,
	SK_DF_MIN_BW,
	SK__MAX
};

const struct xvs_cfg_key xvs_switch_cfg_keys[SK__MAX + 1] = {
	[SK_AGING] = {"aging", "FDB aging time in seconds, 10-1000000", 0},
	[SK_FDB_MAX] = {"fdb-max", "FDB capacity in entries, 1-1048576 (restart to apply)", 0},
	[SK_WORKERS] = {"workers", "active worker threads, 1 to the number started", 0},
	[SK_BW_MODE] = {"bandwidth-mode", "QoS minimums: weight, absolute or none (refused while "
					  "minimums are set)", 0},
	[SK_DF_WEIGHT] = {"default-flow-weight", "minimum weight of the default flow, 0-100", 0},
	[SK_DF_MIN_BW] = {"default-flow-min-bw", "absolute minimum of the default flow, bit/s", 0},
	[SK__MAX] = {NULL, NULL, 0},
};

/* ---- scalar parsers ---- */

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Shared rule of port, interface and namespace names: a leading '-' would be
 * read as an option by ip(8), and '.' and '..' are special in sysfs paths. */
static int
name_check(const char *what, const char *name, size_t max, bool strict_first,
	   struct xvs_err *err)
{
	size_t n;

	if (name == NULL)
		name = "";
	n = strnlen(name, max + 1);
	if (n == 0 || n > max)
		goto bad;
	if (strict_first && (name[0] == '-' || name[0] == '.'))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i]))
			goto bad;
	return 0;
bad:
	return xvs_err_set(err, -EINVAL,
			   "%s \"%.64s\" is not a valid name (1-%zu characters of A-Z a-z 0-9 _ . -%s)",
			   what, name, max, strict_first ? ", not starting with - or ." : "");
}

int
xvs_name_validate(const char *what, const char *name, struct xvs_err *err)
{
	return name_check(what, name, XVS_NAME_MAX, true, err);
}

static int
netns_validate(const char *what, const char *name, struct xvs_err *err)
{
	/* Namespace names become files in /run/netns: "." and ".." are not
	 * names, so the same first-character rule applies. */
	return name_check(what, name, NETNS_MAX, true, err);
}

int
xvs_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
xvs_mac_parse(const char *what, const char *s, uint8_t mac[6], struct xvs_err *err)
{
	uint8_t tmp[6];
	int hi, lo;

	if (s == NULL)
		s = "";
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		/* Check each character before reading the next, so a short
		 * string ends the loop at its NUL. */
		if ((hi = xvs_hex_digit(p[0])) < 0 || (lo = xvs_hex_digit(p[1])) < 0)
			goto bad;
		if (p[2] != (i == 5 ? '\0' : ':'))
			goto bad;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, tmp, 6);
	return 0;
bad:
	return xvs_err_set(err, -EINVAL,
			   "%s \"%.64s\" is not a MAC address (expected xx:xx:xx:xx:xx:xx)", what, s);
}

void
xvs_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

int
xvs_u32_parse(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out,
	      struct xvs_err *err)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL)
		s = "";
	/* strtoul would accept "+5", " 5", "-1" (as a huge value) and "0x10":
	 * none of them is a plain number to an operator. */
	if (*s == '\0')
		return xvs_err_set(err, -EINVAL, "%s: empty value (expected a number %u-%u)", what,
				   min, max);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return xvs_err_set(err, -EINVAL,
					   "%s \"%.64s\" is not a number (expected %u-%u)", what, s,
					   min, max);
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return xvs_err_set(err, -EINVAL, "%s %.24s outside %u-%u", what, s, min, max);
	*out = (uint32_t)v;
	return 0;
}

int
xvs_bool_parse(const char *what, const char *s, bool *out, struct xvs_err *err)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	if (s != NULL) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcasecmp(s, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return xvs_err_set(err, -EINVAL, "%s \"%.64s\" is not a boolean (expected true or false)",
			   what, s == NULL ? "" : s);
}

const char *
xvs_port_kind_name(enum xvs_port_kind kind)
{
	if ((unsigned int)kind >= XVS_PORT__MAX)
		return "unknown";
	return kind_names[kind];
}

int
xvs_port_kind_parse(const char *s, enum xvs_port_kind *kind, struct xvs_err *err)
{
	for (int k = 0; k < XVS_PORT__MAX; k++) {
		if (s != NULL && strcmp(s, kind_names[k]) == 0) {
			*kind = (enum xvs_port_kind)k;
			return 0;
		}
	}
	return xvs_err_set(err, -EINVAL,
			   "port kind \"%.32s\" is unknown (valid: tap, afxdp, afpacket, vhost, pcap, "
			   "null, pci)",
			   s == NULL ? "" : s);
}

/* PCI address "DDDD:BB:DD.F" or "BB:DD.F" (hex); normalised to the long
 * lowercase form DPDK prints. */
static int
pci_parse(const char *what, const char *s, char out[32], struct xvs_err *err)
{
	unsigned int dom = 0, bus, dev, fn;
	const char *p = s;
	size_t n = strlen(s);
	int v;

	if (n == 12) {
		for (int i = 0; i < 4; i++) {
			if ((v = xvs_hex_digit(p[i])) < 0)
				goto bad;
			dom = dom << 4 | (unsigned int)v;
		}
		if (p[4] != ':')
			goto bad;
		p += 5;
	} else if (n != 7) {
		goto bad;
	}
	if (xvs_hex_digit(p[0]) < 0 || xvs_hex_digit(p[1]) < 0 || p[2] != ':' || xvs_hex_digit(p[3]) < 0 ||
	    xvs_hex_digit(p[4]) < 0 || p[5] != '.' || xvs_hex_digit(p[6]) < 0)
		goto bad;
	bus = (unsigned int)(xvs_hex_digit(p[0]) << 4 | xvs_hex_digit(p[1]));
	dev = (unsigned int)(xvs_hex_digit(p[3]) << 4 | xvs_hex_digit(p[4]));
	fn = (unsigned int)xvs_hex_digit(p[6]);
	/* PCI Local Bus 3.0: 5-bit device, 3-bit function. */
	if (dev > 0x1f || fn > 7)
		return xvs_err_set(err, -EINVAL,
				   "%s \"%s\": device must be 00-1f and function 0-7", what, s);
	snprintf(out, 32, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
bad:
	return xvs_err_set(err, -EINVAL,
			   "%s \"%.64s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)",
			   what, s);
}

/* ---- ports ---- */

void
xvs_port_cfg_init(struct xvs_port_cfg *cfg, const char *name, enum xvs_port_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	if (name != NULL)
		snprintf(cfg->name, sizeof(cfg->name), "%s", name);
	cfg->kind = kind;
	snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", cfg->name);
	cfg->queues = 1;
	cfg->mtu = 1500;
	cfg->mac_limit = XVS_FDB_DEFAULT_PORT_LIMIT;
	xvs_vlan_cfg_init(&cfg->vlan);
	xvs_rss_cfg_init(&cfg->rss);
	/* Hyper-V's default (-MacAddressSpoofing Off): a VM sends only from its
	 * own MAC. In force once the port has one (mac=). */
	cfg->mac_spoof = kind == XVS_PORT_TAP || kind == XVS_PORT_VHOST;
	cfg->vmq_weight = XVS_VMQ_WEIGHT_DEFAULT;
	cfg->vmmq_queues = 1;
}

/* on|off of a port guard; "on" refused on an uplink with the reason. */
static int
guard_set(const struct xvs_port_cfg *cfg, const char *what, const char *value, const char *why,
	  bool *out, struct xvs_err *err)
{
	bool on;
	int ret = xvs_bool_parse(what, value, &on, err);

	if (ret < 0)
		return ret;
	if (on && xvs_port_kind_uplink(cfg->kind))
		return xvs_err_set(err, -EPERM, "%s: %s ports are uplinks, and %s", what,
				   xvs_port_kind_name(cfg->kind), why);
	*out = on;
	return 0;
}

/* "auto" or a CPU number. */
static int
cpu_parse(const char *what, const char *value, int32_t *out, struct xvs_err *err)
{
	uint32_t v;

	if (strcmp(value, "auto") == 0) {
		*out = -1;
		return 0;
	}
	if (xvs_u32_parse(what, value, 0, XVS_RSS_CPU_MAX, &v, err) < 0)
		return xvs_err_set(err, -EINVAL, "%s \"%.32s\" is neither a CPU (0-%d) nor auto",
				   what, value, XVS_RSS_CPU_MAX);
	*out = (int32_t)v;
	return 0;
}

/* "all" or a count in [1, max]. */
static int
count_parse(const char *what, const char *value, uint32_t max, uint16_t *out,
	    struct xvs_err *err)
{
	uint32_t v;

	if (strcmp(value, "all") == 0) {
		*out = 0;
		return 0;
	}
	if (xvs_u32_parse(what, value, 1, max, &v, err) < 0)
		return xvs_err_set(err, -EINVAL, "%s \"%.32s\" is neither 1-%u nor all", what,
				   value, max);
	*out = (uint16_t)v;
	return 0;
}

static int
find_key(const struct xvs_cfg_key *table, const char *key)
{
	if (key == NULL)
		return -1;
	for (int i = 0; table[i].key != NULL; i++)
		if (strcmp(table[i].key, key) == 0)
			return i;
	return -1;
}

static int
unknown_port_key(const struct xvs_port_cfg *cfg, const char *key, struct xvs_err *err)
{
	char valid[200];
	size_t used = 0;
	int n;

	valid[0] = '\0';
	for (int i = 0; i < PK__MAX; i++) {
		if ((xvs_port_cfg_keys[i].kinds & KIND(cfg->kind)) == 0)
			continue;
		/* the RSS keys are listed as one family: the message has 256 bytes */
		if (i > PK_RSS)
			continue;
		n = snprintf(valid + used, sizeof(valid) - used, "%s%s%s", used ? ", " : "",
			     xvs_port_cfg_keys[i].key, i == PK_RSS ? ", rss-*" : "");
		if (n < 0 || (size_t)n >= sizeof(valid) - used)
			break;
		used += (size_t)n;
	}
	return xvs_err_set(err, -EINVAL, "port %s: unknown option \"%.32s\" (valid for %s: %s)",
			   cfg->name, key == NULL ? "" : key, xvs_port_kind_name(cfg->kind), valid);
}

/* A file path that goes into a DPDK device argument string ("iface=PATH",
 * "rx_pcap=PATH,tx_pcap=PATH"), where ',' starts the next argument and '='
 * separates a key from its value: "path=/x.pcap,tx_pcap=/y" would make the
 * pcap device write /y. Control characters would end up in logs and error
 * messages as they are. Relative paths would depend on xvsd's working
 * directory. The daemon takes none of them. */
static int
path_check(const char *port, const char *key, const char *value, size_t size, bool may_be_empty,
	   struct xvs_err *err)
{
	size_t n = strnlen(value, size);

	if (n == 0) {
		if (may_be_empty)
			return 0;
		return xvs_err_set(err, -EINVAL, "port %s: %s must not be empty", port, key);
	}
	if (n >= size)
		return xvs_err_set(err, -EINVAL, "port %s: %s longer than %zu characters", port,
				   key, size - 1);
	if (value[0] != '/')
		return xvs_err_set(err, -EINVAL, "port %s: %s \"%.64s\" is not an absolute path "
				   "(start it with /)", port, key, value);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7f)
			return xvs_err_set(err, -EINVAL, "port %s: %s contains a control character "
					   "(byte 0x%02x at %zu)", port, key, c, i);
		if (c == ',' || c == '=')
			return xvs_err_set(err, -EINVAL,
					   "port %s: %s \"%.64s\" contains '%c', which separates "
					   "DPDK device arguments: rename the file",
					   port, key, value, c);
	}
	return 0;
}

static int
set_path(const char *port, const char *key, const char *value, char *dst, size_t size,
	 bool may_be_empty, struct xvs_err *err)
{
	int r = path_check(port, key, value, size, may_be_empty, err);

	if (r == 0)
		memcpy(dst, value, strlen(value) + 1);
	return r;
}

int
xvs_port_cfg_set(struct xvs_port_cfg *cfg, const char *key, const char *value,
		 struct xvs_err *err)
{
	struct xvs_port_cfg tmp;
	char what[64];
	uint8_t mac[6];
	uint32_t v = 0;
	int k, ret = 0;

	if (cfg == NULL)
		return xvs_err_set(err, -EINVAL, "port: no configuration given");
	k = find_key(xvs_port_cfg_keys, key);
	if (k < 0)
		return unknown_port_key(cfg, key, err);
	if ((xvs_port_cfg_keys[k].kinds & KIND(cfg->kind)) == 0)
		return xvs_err_set(err, -EINVAL,
				   "port %s: option \"%s\" does not apply to %s ports", cfg->name, key,
				   xvs_port_kind_name(cfg->kind));
	if (value == NULL)
		value = "";

	/* Work on a copy so a rejected value leaves cfg as it was. */
	tmp = *cfg;
	snprintf(what, sizeof(what), "port %s: %s", cfg->name, key);
	switch ((enum port_key)k) {
	case PK_IFNAME:
		ret = xvs_name_validate(what, value, err);
		if (ret == 0)
			snprintf(tmp.ifname, sizeof(tmp.ifname), "%s", value);
		break;
	case PK_NETNS:
		/* "" keeps the kernel side in the daemon's namespace. */
		if (value[0] != '\0')
			ret = netns_validate(what, value, err);
		if (ret == 0)
			snprintf(tmp.netns, sizeof(tmp.netns), "%s", value);
		break;
	case PK_MAC:
		/* "" asks for a random address (tap) or none (others). */
		tmp.mac_sticky = false;
		if (value[0] == '\0') {
			tmp.mac[0] = '\0';
			break;
		}
		if (strcmp(value, "sticky") == 0) {
			tmp.mac[0] = '\0';
			tmp.mac_sticky = true;
			break;
		}
		ret = xvs_mac_parse(what, value, mac, err);
		if (ret == 0 && ((mac[0] & 1) || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] |
						  mac[5]) == 0))
			ret = xvs_err_set(err, -EINVAL,
					  "%s %s is not a unicast address (a port MAC must not be "
					  "multicast or zero)", what, value);
		if (ret == 0)
			xvs_mac_format(mac, tmp.mac);
		break;
	case PK_PATH:
		ret = set_path(cfg->name, key, value, tmp.path, sizeof(tmp.path), false, err);
		break;
	case PK_TX_PATH:
		ret = set_path(cfg->name, key, value, tmp.tx_path, sizeof(tmp.tx_path), true, err);
		break;
	case PK_CLIENT:
		ret = xvs_bool_parse(what, value, &tmp.vhost_client, err);
		break;
	case PK_INFINITE:
		ret = xvs_bool_parse(what, value, &tmp.pcap_infinite, err);
		break;
	case PK_QUEUES:
		ret = xvs_u32_parse(what, value, 1, QUEUES_MAX, &v, err);
		tmp.queues = (uint16_t)v;
		break;
	case PK_START_QUEUE:
		ret = xvs_u32_parse(what, value, 0, START_QUEUE_MAX, &v, err);
		tmp.start_queue = (uint16_t)v;
		break;
	case PK_XDP_MODE:
		ret = -EINVAL;
		for (unsigned int m = 0; m < sizeof(xdp_mode_names) / sizeof(xdp_mode_names[0]); m++)
			if (strcmp(value, xdp_mode_names[m]) == 0) {
				tmp.xdp_mode = (enum xvs_xdp_mode)m;
				ret = 0;
			}
		if (ret < 0)
			xvs_err_set(err, ret, "%s \"%.32s\" is not auto, copy or zero-copy", what,
				    value);
		break;
	case PK_PCI:
		ret = pci_parse(what, value, tmp.pci, err);
		break;
	case PK_MTU:
		ret = xvs_u32_parse(what, value, MTU_MIN, MTU_MAX, &tmp.mtu, err);
		break;
	case PK_VLAN_MODE:
		/* Switching to trunk before trunks= is set is allowed: the
		 * caller may send keys in any order; validate checks the
		 * result. */
		if (strcmp(value, "access") == 0)
			tmp.vlan.mode = XVS_VLAN_ACCESS;
		else if (strcmp(value, "trunk") == 0)
			tmp.vlan.mode = XVS_VLAN_TRUNK;
		else
			ret = xvs_err_set(err, -EINVAL,
					  "%s \"%.32s\" is neither access nor trunk", what, value);
		break;
	case PK_VLAN:
		ret = xvs_u32_parse(what, value, XVS_VLAN_MIN, XVS_VLAN_MAX, &v, err);
		tmp.vlan.access_vid = (uint16_t)v;
		break;
	case PK_TRUNKS:
		ret = xvs_vlan_list_parse(what, value, tmp.vlan.allowed, err);
		break;
	case PK_NATIVE:
		if (strcmp(value, "none") == 0) {
			tmp.vlan.native_vid = 0;
			break;
		}
		ret = xvs_u32_parse(what, value, XVS_VLAN_MIN, XVS_VLAN_MAX, &v, err);
		tmp.vlan.native_vid = (uint16_t)v;
		break;
	case PK_MAC_LIMIT:
		ret = xvs_u32_parse(what, value, 0, XVS_FDB_MAX_MAX, &tmp.mac_limit, err);
		break;
	case PK_RSS:
		ret = xvs_bool_parse(what, value, &tmp.rss.enabled, err);
		break;
	case PK_RSS_BASE_CPU:
		ret = cpu_parse(what, value, &tmp.rss.base_cpu, err);
		break;
	case PK_RSS_MAX_CPU:
		ret = cpu_parse(what, value, &tmp.rss.max_cpu, err);
		break;
	case PK_RSS_MAX_CPUS:
		ret = count_parse(what, value, 16, &tmp.rss.max_cpus, err);
		break;
	case PK_RSS_QUEUES:
		ret = count_parse(what, value, QUEUES_MAX, &tmp.rss.queues, err);
		break;
	case PK_RSS_PROFILE:
		ret = xvs_rss_profile_parse(what, value, &tmp.rss.profile, err);
		break;
	case PK_RSS_TYPES:
		ret = xvs_rss_types_parse(what, value, &tmp.rss.types, err);
		break;
	case PK_RSS_KEY:
		ret = xvs_rss_key_parse(what, value, tmp.rss.key, err);
		break;
	case PK_RSS_RETA_SIZE:
		ret = xvs_u32_parse(what, value, XVS_RSS_RETA_MIN, XVS_RSS_RETA_MAX, &v, err);
		if (ret == 0 && (v & (v - 1)) != 0)
			ret = xvs_err_set(err, -EINVAL, "%s %u is not a power of two", what, v);
		tmp.rss.reta_size = (uint16_t)v;
		break;
	case PK_MAC_SPOOF:
		ret = guard_set(cfg, what, value, "an uplink carries the traffic of many hosts",
				&tmp.mac_spoof, err);
		break;
	case PK_DHCP_GUARD:
		ret = guard_set(cfg, what, value, "the real DHCP servers are behind them",
				&tmp.dhcp_guard, err);
		break;
	case PK_ROUTER_GUARD:
		ret = guard_set(cfg, what, value, "the real routers are behind them",
				&tmp.router_guard, err);
		break;
	case PK_STORM_LIMIT:
		ret = xvs_u32_parse(what, value, 0, 100000000, &tmp.storm_limit, err);
		break;
	case PK_QOS:
		ret = xvs_bool_parse(what, value, &tmp.qos, err);
		break;
	case PK_LINK_RATE:
		ret = xvs_qos_rate_parse(what, value, &tmp.link_rate, err);
		break;
	case PK_MIN_BW_WEIGHT:
		ret = xvs_u32_parse(what, value, 0, XVS_QOS_WEIGHT_MAX, &tmp.min_bw_weight, err);
		break;
	case PK_MIN_BW:
		ret = xvs_qos_rate_parse(what, value, &tmp.min_bw, err);
		break;
	case PK_MAX_BW:
		ret = xvs_qos_rate_parse(what, value, &tmp.max_bw, err);
		break;
	case PK_VMQ_WEIGHT:
		ret = xvs_u32_parse(what, value, 0, XVS_VMQ_WEIGHT_MAX, &v, err);
		tmp.vmq_weight = (uint8_t)v;
		break;
	case PK_VMQ_QUEUES:
		ret = xvs_u32_parse(what, value, 0, XVS_VMQ_QUEUES_MAX, &v, err);
		tmp.vmq_queues = (uint16_t)v;
		break;
	case PK_VMMQ_QUEUES:
		ret = xvs_u32_parse(what, value, 1, XVS_VMMQ_QUEUES_MAX, &v, err);
		tmp.vmmq_queues = (uint8_t)v;
		break;
	case PK__MAX:
		ret = -EINVAL;
		break;
	}
	if (ret < 0)
		return ret;
	*cfg = tmp;
	return 0;
}

static int
put(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int
xvs_port_cfg_get(const struct xvs_port_cfg *cfg, const char *key, char *buf, size_t len)
{
	int k = find_key(xvs_port_cfg_keys, key);

	if (k < 0 || (xvs_port_cfg_keys[k].kinds & KIND(cfg->kind)) == 0)
		return -ENOENT;
	if (buf == NULL || len == 0)
		return -ENOSPC;
	switch ((enum port_key)k) {
	case PK_IFNAME:
		return put(buf, len, "%s", cfg->ifname);
	case PK_NETNS:
		return put(buf, len, "%s", cfg->netns);
	case PK_MAC:
		return put(buf, len, "%s", cfg->mac_sticky ? "sticky" : cfg->mac);
	case PK_PATH:
		return put(buf, len, "%s", cfg->path);
	case PK_TX_PATH:
		return put(buf, len, "%s", cfg->tx_path);
	case PK_CLIENT:
		return put(buf, len, "%s", cfg->vhost_client ? "true" : "false");
	case PK_INFINITE:
		return put(buf, len, "%s", cfg->pcap_infinite ? "true" : "false");
	case PK_QUEUES:
		return put(buf, len, "%u", cfg->queues);
	case PK_START_QUEUE:
		return put(buf, len, "%u", cfg->start_queue);
	case PK_XDP_MODE:
		return put(buf, len, "%s", xdp_mode_names[cfg->xdp_mode]);
	case PK_PCI:
		return put(buf, len, "%s", cfg->pci);
	case PK_MTU:
		return put(buf, len, "%u", cfg->mtu);
	case PK_VLAN_MODE:
		return put(buf, len, "%s", cfg->vlan.mode == XVS_VLAN_TRUNK ? "trunk" : "access");
	case PK_VLAN:
		return put(buf, len, "%u", cfg->vlan.access_vid);
	case PK_TRUNKS:
		return (size_t)xvs_vlan_list_format(cfg->vlan.allowed, buf, len) >= len ? -ENOSPC
											 : 0;
	case PK_NATIVE:
		if (cfg->vlan.native_vid == 0)
			return put(buf, len, "none");
		return put(buf, len, "%u", cfg->vlan.native_vid);
	case PK_MAC_LIMIT:
		return put(buf, len, "%u", cfg->mac_limit);
	case PK_RSS:
		return put(buf, len, "%s", cfg->rss.enabled ? "true" : "false");
	case PK_RSS_BASE_CPU:
		return cfg->rss.base_cpu < 0 ? put(buf, len, "auto")
					     : put(buf, len, "%d", cfg->rss.base_cpu);
	case PK_RSS_MAX_CPU:
		return cfg->rss.max_cpu < 0 ? put(buf, len, "auto")
					    : put(buf, len, "%d", cfg->rss.max_cpu);
	case PK_RSS_MAX_CPUS:
		return cfg->rss.max_cpus == 0 ? put(buf, len, "all")
					      : put(buf, len, "%u", cfg->rss.max_cpus);
	case PK_RSS_QUEUES:
		return cfg->rss.queues == 0 ? put(buf, len, "all")
					    : put(buf, len, "%u", cfg->rss.queues);
	case PK_RSS_PROFILE:
		return put(buf, len, "%s", xvs_rss_profile_name(cfg->rss.profile));
	case PK_RSS_TYPES:
		return xvs_rss_types_format(cfg->rss.types, buf, len);
	case PK_RSS_KEY:
		if (len < 2 * XVS_RSS_KEY_LEN + 1)
			return -ENOSPC;
		xvs_rss_key_format(cfg->rss.key, buf);
		return 0;
	case PK_RSS_RETA_SIZE:
		return put(buf, len, "%u", cfg->rss.reta_size);
	case PK_MAC_SPOOF:
		return put(buf, len, "%s", cfg->mac_spoof ? "on" : "off");
	case PK_DHCP_GUARD:
		return put(buf, len, "%s", cfg->dhcp_guard ? "on" : "off");
	case PK_ROUTER_GUARD:
		return put(buf, len, "%s", cfg->router_guard ? "on" : "off");
	case PK_STORM_LIMIT:
		return put(buf, len, "%u", cfg->storm_limit);
	case PK_QOS:
		return put(buf, len, "%s", cfg->qos ? "on" : "off");
	case PK_LINK_RATE:
		return put(buf, len, "%llu", (unsigned long long)cfg->link_rate);
	case PK_MIN_BW_WEIGHT:
		return put(buf, len, "%u", cfg->min_bw_weight);
	case PK_MIN_BW:
		return put(buf, len, "%llu", (unsigned long long)cfg->min_bw);
	case PK_MAX_BW:
		return put(buf, len, "%llu", (unsigned long long)cfg->max_bw);
	case PK_VMQ_WEIGHT:
		return put(buf, len, "%u", cfg->vmq_weight);
	case PK_VMQ_QUEUES:
		return put(buf, len, "%u", cfg->vmq_queues);
	case PK_VMMQ_QUEUES:
		return put(buf, len, "%u", cfg->vmmq_queues);
	case PK__MAX:
		break;
	}
	return -ENOENT;
}

int
xvs_port_cfg_validate(const struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	struct xvs_err tmp;
	uint8_t mac[6];
	int ret;

	if ((unsigned int)cfg->kind >= XVS_PORT__MAX)
		return xvs_err_set(err, -EINVAL, "port %.15s: kind %d is unknown", cfg->name,
				   (int)cfg->kind);
	ret = xvs_name_validate("port name", cfg->name, err);
	if (ret < 0)
		return ret;

	switch (cfg->kind) {
	case XVS_PORT_TAP:
	case XVS_PORT_AFXDP:
	case XVS_PORT_AFPACKET:
		if (cfg->ifname[0] == '\0')
			return xvs_err_set(err, -EINVAL, "port %s: %s ports need ifname=NAME",
					   cfg->name, xvs_port_kind_name(cfg->kind));
		if (xvs_name_validate("ifname", cfg->ifname, &tmp) < 0)
			return xvs_err_set(err, -EINVAL, "port %s: %s", cfg->name, tmp.msg);
		break;
	case XVS_PORT_VHOST:
	case XVS_PORT_PCAP:
		if (cfg->path[0] == '\0')
			return xvs_err_set(err, -EINVAL, "port %s: %s ports need path=FILE",
					   cfg->name, xvs_port_kind_name(cfg->kind));
		/* also for a config that did not come through xvs_port_cfg_set() */
		ret = path_check(cfg->name, "path", cfg->path, sizeof(cfg->path), false, err);
		if (ret == 0 && cfg->kind == XVS_PORT_PCAP)
			ret = path_check(cfg->name, "tx-path", cfg->tx_path, sizeof(cfg->tx_path),
					 true, err);
		if (ret < 0)
			return ret;
		break;
	case XVS_PORT_PCI:
		if (cfg->pci[0] == '\0')
			return xvs_err_set(err, -EINVAL,
					   "port %s: pci ports need pci=DDDD:BB:DD.F", cfg->name);
		break;
	default:
		break;
	}
	if (cfg->kind == XVS_PORT_TAP && cfg->mac[0] != '\0' &&
	    xvs_mac_parse("mac", cfg->mac, mac, &tmp) < 0)
		return xvs_err_set(err, -EINVAL, "port %s: %s", cfg->name, tmp.msg);
	if (cfg->kind == XVS_PORT_TAP && cfg->netns[0] != '\0' &&
	    netns_validate("netns", cfg->netns, &tmp) < 0)
		return xvs_err_set(err, -EINVAL, "port %s: %s", cfg->name, tmp.msg);
	if (cfg->queues < 1 || cfg->queues > QUEUES_MAX)
		return xvs_err_set(err, -EINVAL, "port %s: queues %u outside 1-%d", cfg->name,
				   cfg->queues, QUEUES_MAX);
	if ((unsigned int)cfg->xdp_mode > XVS_XDP_ZEROCOPY)
		return xvs_err_set(err, -EINVAL, "port %s: xdp-mode %d is unknown", cfg->name,
				   (int)cfg->xdp_mode);
	/* A netdev has at most 64 queues that AF_XDP may bind. */
	if (cfg->kind == XVS_PORT_AFXDP && cfg->start_queue + cfg->queues > START_QUEUE_MAX + 1)
		return xvs_err_set(err, -EINVAL,
				   "port %s: start-queue %u + queues %u goes past queue %d",
				   cfg->name, cfg->start_queue, cfg->queues, START_QUEUE_MAX);
	if (cfg->rss.queues > cfg->queues)
		return xvs_err_set(err, -EINVAL,
				   "port %s: rss-queues %u but the port has %u rx queue%s (set queues= "
				   "when adding the port)", cfg->name, cfg->rss.queues, cfg->queues,
				   cfg->queues == 1 ? "" : "s");
	if (cfg->rss.base_cpu >= 0 && cfg->rss.max_cpu >= 0 && cfg->rss.max_cpu < cfg->rss.base_cpu)
		return xvs_err_set(err, -EINVAL, "port %s: rss-max-cpu %d is below rss-base-cpu %d",
				   cfg->name, cfg->rss.max_cpu, cfg->rss.base_cpu);
	if (cfg->mtu < MTU_MIN || cfg->mtu > MTU_MAX)
		return xvs_err_set(err, -EINVAL, "port %s: mtu %u outside %d-%d", cfg->name,
				   cfg->mtu, MTU_MIN, MTU_MAX);
	ret = xvs_port_mtu_check(cfg->name, cfg->kind, cfg->mtu, err);
	if (ret < 0)
		return ret;
	return xvs_vlan_cfg_validate(&cfg->vlan, cfg->name, err);
}

/* ---- switch ---- */

void
xvs_switch_cfg_init(struct xvs_switch_cfg *cfg)
{
	cfg->aging_s = 300;
	cfg->fdb_max = 8192;
	cfg->workers = 1;
	cfg->bw_mode = XVS_QOS_MODE_WEIGHT;
	cfg->df_weight = 0;
	cfg->df_min_bw = 0;
}

int
xvs_switch_cfg_set(struct xvs_switch_cfg *cfg, const char *key, const char *value,
		   uint32_t max_workers, struct xvs_err *err)
{
	int k = find_key(xvs_switch_cfg_keys, key);

	switch (k) {
	case SK_AGING:
		return xvs_u32_parse("switch: aging", value, 10, 1000000, &cfg->aging_s, err);
	case SK_FDB_MAX:
		return xvs_u32_parse("switch: fdb-max", value, 1, 1u << 20, &cfg->fdb_max, err);
	case SK_WORKERS:
		if (max_workers < 1)
			return xvs_err_set(err, -EINVAL, "switch: workers cannot be set: no worker "
							 "was started");
		return xvs_u32_parse("switch: workers", value, 1, max_workers, &cfg->workers,
				     err);
	case SK_BW_MODE:
		if (value == NULL || xvs_qos_mode_parse(value, &cfg->bw_mode) < 0)
			return xvs_err_set(err, -EINVAL, "switch: bandwidth-mode \"%.32s\" is not "
					   "weight, absolute or none", value == NULL ? "" : value);
		return 0;
	case SK_DF_WEIGHT:
		return xvs_u32_parse("switch: default-flow-weight", value, 0, XVS_QOS_WEIGHT_MAX,
				     &cfg->df_weight, err);
	case SK_DF_MIN_BW:
		return xvs_qos_rate_parse("switch: default-flow-min-bw", value, &cfg->df_min_bw, err);
	default:
		return xvs_err_set(err, -EINVAL,
				   "switch: unknown option \"%.32s\" (valid: aging, fdb-max, workers, "
				   "bandwidth-mode, default-flow-weight, default-flow-min-bw)",
				   key == NULL ? "" : key);
	}
}

int
xvs_switch_cfg_get(const struct xvs_switch_cfg *cfg, const char *key, char *buf, size_t len)
{
	int k = find_key(xvs_switch_cfg_keys, key);

	if (k < 0)
		return -ENOENT;
	if (buf == NULL || len == 0)
		return -ENOSPC;
	switch (k) {
	case SK_AGING:
		return put(buf, len, "%u", cfg->aging_s);
	case SK_FDB_MAX:
		return put(buf, len, "%u", cfg->fdb_max);
	case SK_BW_MODE:
		return put(buf, len, "%s", xvs_qos_mode_name(cfg->bw_mode));
	case SK_DF_WEIGHT:
		return put(buf, len, "%u", cfg->df_weight);
	case SK_DF_MIN_BW:
		return put(buf, len, "%llu", (unsigned long long)cfg->df_min_bw);
	default:
		return put(buf, len, "%u", cfg->workers);
	}
}

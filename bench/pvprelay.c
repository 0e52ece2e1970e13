/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pvprelay — the least a learning L2 switch does in PVP: a benchmark anchor,
 * not part of xvs (EAL + ethdev + rte_hash, no xvs code).
 *
 * Usage: pvprelay EAL-ARGS -- FDB-FILE
 *
 * The ports are the EAL's --vdev ports in their order, as $XVS_ANCHORS/pvp.py
 * gives dpdk-testpmd in its testpmd-io config (p1 pcap, vh0 and vh1 vhost,
 * p2 null), with testpmd's mempool (--total-num-mbufs=32768, cache 250,
 * default buffer size), one rx and one tx queue each with the PMDs' default
 * ring sizes, promiscuous. One forwarding loop on the first worker lcore, as
 * testpmd's io forwarding: each port polled in turn for a burst of 32, each
 * burst sent to its ports in one tx burst per destination port, what a tx
 * did not take freed. Plus only the per-frame work a learning switch cannot
 * avoid, nothing more (no parse beyond the Ethernet header and its tag):
 *   - one DPDK rte_hash_lookup_bulk_data per burst, keyed by (MAC, VLAN), of
 *     every frame's destination and source (up to 64 keys; CRC32 hash, an
 *     8-byte key compare instead of rte_hash's memcmp);
 *   - the frame's VLAN (its 802.1Q tag, else the native VLAN 1) checked in
 *     the input port's and the output port's membership bitmaps (every port
 *     is a trunk of 1-4094, as bench/pvp_xvs.py sets xvs's);
 *   - a destination that is unknown, on the input port, or not a member of
 *     the VLAN: the frame dropped and counted;
 *   - the source: learned (added to the table) when unknown, its port
 *     updated when it moved, its last-seen time refreshed only when at least
 *     a second old (what xvs's FDB stores).
 * FDB-FILE holds the static entries, one "VLAN MAC PORT" a line (VLAN 0 is
 * untagged: the native VLAN 1), as bench/pvp_xvs.py gives xvs: the pcap's
 * destinations on vh0, the guest's peer MAC on p2. An empty file: every
 * frame is dropped as unknown (what shows the lookup is really done).
 *
 * With "policy-floor" after FDB-FILE it also does, per frame, the least any
 * per-flow policy answer with xvs's port guards costs (the switch-level
 * anchor of issue 12's policy target, bench/policy_anchor.py): the IPv4
 * header checked as the guards must (no options, not a fragment, TCP or
 * UDP with ports, not DHCP: what xvs's GUARD_CLEAN says), its 5-tuple read
 * (untagged or one tag), hashed (two CRC32s), its line of a 1 MB table
 * prefetched for the burst, then the line's four 16-byte keys compared; a
 * flow not found is written to a free slot of its line, or else to the one
 * the hash picks. Nothing
 * else: no metadata, no rule, no counter per rule, no epochs, no second
 * line.
 *
 * Once a second the main lcore prints each port's rates in dpdk-testpmd's
 * --stats-period format ("NIC statistics for port N" ... "Rx-pps:" ...
 * "Tx-pps:"), so the PVP scripts read it as they read testpmd-io; on SIGINT
 * or SIGTERM it prints the totals and the drops by reason.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

/* The (MAC, VLAN) key is xvs's FDB key, xvs_fdb_key_of(), an inline of this
 * header (no xvs code is linked): the anchor's lookups cost what xvs's keys
 * cost. */
#include "fdb.h"
#include "policy_floor.h"

#define BURST 32
#define MAX_PORTS 8
#define FDB_SIZE 8192 /* xvsd's default FDB size */
#define NATIVE_VLAN 1

/* One table entry: the port its MAC is on and when its source was last seen. */
struct fdb_ent {
	uint16_t port;
	uint64_t seen_tsc;
};

/* Drops by reason and tx totals, written by the forwarding lcore only. */
struct counters {
	uint64_t unknown_dst;  /* destination not in the table */
	uint64_t same_port;    /* destination on the input port */
	uint64_t vlan;         /* VLAN not allowed on the input or output port */
	uint64_t tx_full;      /* a tx burst did not take it */
	uint64_t learned;      /* sources added */
	uint64_t learn_failed; /* sources the full table could not take */
	uint64_t moved;        /* sources seen on another port */
};

static volatile bool quit;
static struct rte_hash *fdb;
static struct fdb_ent ents[FDB_SIZE];
static unsigned n_ents;
static uint16_t n_ports;
static uint64_t vlan_map[MAX_PORTS][4096 / 64]; /* each port's member VLANs */
static struct counters ctr;

/* The policy floor (policy-floor): 16384 lines of 64 bytes, four 16-byte
 * keys a line. */
#define FLOOR_LINES 16384u
static bool policy_floor;
static uint64_t (*floor_lines)[8];
static uint64_t floor_found, floor_written, floor_unclean;

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

/* rte_hash's key compare for our 8-byte keys: rte_hash has fast compares
 * for 16 bytes and up only and would call memcmp() (5 % of the worker's
 * time in a perf record of PVP at 10k flows). */
static int
key_cmp(const void *a, const void *b, size_t len)
{
	uint64_t x, y;

	(void)len;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	return x != y;
}

static inline bool
vlan_member(uint16_t port, uint16_t vid)
{
	return vlan_map[port][vid >> 6] >> (vid & 63) & 1;
}

/* Add key on port (static entries at start, learned sources after); a key
 * already there (a new source twice in one burst: both missed in the bulk
 * lookup) is left as it is. */
static int
fdb_add(uint64_t key, uint16_t port, uint64_t now)
{
	if (rte_hash_lookup(fdb, &key) >= 0)
		return 1;
	if (n_ents == FDB_SIZE)
		return -1;
	ents[n_ents] = (struct fdb_ent){.port = port, .seen_tsc = now};
	if (rte_hash_add_key_data(fdb, &key, &ents[n_ents]) < 0)
		return -1;
	n_ents++;
	return 0;
}

/* The policy floor over a burst: keys and prefetches, then the compares. */
static void
floor_burst(struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t k[BURST][2], *ln[BURST];
	uint32_t h[BURST];
	bool clean[BURST];

	for (uint16_t i = 0; i < n; i++) {
		clean[i] = policy_floor_key(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				     rte_pktmbuf_data_len(pkts[i]), k[i]);
		h[i] = rte_hash_crc_8byte(k[i][1], rte_hash_crc_8byte(k[i][0], 0));
		ln[i] = floor_lines[h[i] % FLOOR_LINES];
		rte_prefetch0(ln[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t *l = ln[i], a = k[i][0], b = k[i][1];
		unsigned w;

		if (!clean[i]) {
			floor_unclean++;
		} else if ((((l[0] ^ a) | (l[1] ^ b)) == 0) | (((l[2] ^ a) | (l[3] ^ b)) == 0) |
			   (((l[4] ^ a) | (l[5] ^ b)) == 0) | (((l[6] ^ a) | (l[7] ^ b)) == 0)) {
			floor_found++;
		} else {
			/* a free slot (no key is all zero), else the hash's */
			w = (h[i] / FLOOR_LINES) % 4 * 2;
			for (unsigned j = 0; j < 8; j += 2)
				if ((l[j] | l[j + 1]) == 0) {
					w = j;
					break;
				}
			l[w] = a;
			l[w + 1] = b;
			floor_written++;
		}
	}
}

/* Switch one burst received on port in: what is described at the top. */
static void
switch_burst(uint16_t in, struct rte_mbuf **pkts, uint16_t n, uint64_t now, uint64_t hz)
{
	struct rte_mbuf *out[MAX_PORTS][BURST];
	uint16_t n_out[MAX_PORTS] = {0};
	uint64_t keys[2 * BURST], hits = 0;
	const void *kp[2 * BURST];
	void *data[2 * BURST];

	if (policy_floor)
		floor_burst(pkts, n);
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		uint16_t vid = NATIVE_VLAN;

		if (f[12] == 0x81 && f[13] == 0x00)
			vid = (uint16_t)((f[14] & 0x0f) << 8 | f[15]);
		keys[i] = xvs_fdb_key_of(f, vid);
		keys[n + i] = xvs_fdb_key_of(f + 6, vid);
		kp[i] = &keys[i];
		kp[n + i] = &keys[n + i];
	}
	rte_hash_lookup_bulk_data(fdb, kp, 2u * n, &hits, data);
	for (uint16_t i = 0; i < n; i++) {
		uint16_t vid = (uint16_t)(keys[i] & 0xfff);
		struct fdb_ent *src = data[n + i];
		const struct fdb_ent *dst = data[i];

		if (!(hits >> (n + i) & 1)) {
			int r = fdb_add(keys[n + i], in, now);

			if (r == 0)
				ctr.learned++;
			else if (r < 0)
				ctr.learn_failed++;
		} else {
			if (src->port != in) {
				src->port = in;
				ctr.moved++;
			}
			if (now - src->seen_tsc >= hz)
				src->seen_tsc = now;
		}
		if (!(hits >> i & 1)) {
			ctr.unknown_dst++;
		} else if (dst->port == in) {
			ctr.same_port++;
		} else if (!vlan_member(in, vid) || !vlan_member(dst->port, vid)) {
			ctr.vlan++;
		} else {
			out[dst->port][n_out[dst->port]++] = pkts[i];
			continue;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	for (uint16_t p = 0; p < n_ports; p++) {
		uint16_t sent;

		if (n_out[p] == 0)
			continue;
		sent = rte_eth_tx_burst(p, 0, out[p], n_out[p]);
		if (sent < n_out[p]) {
			ctr.tx_full += n_out[p] - sent;
			rte_pktmbuf_free_bulk(&out[p][sent], n_out[p] - sent);
		}
	}
}

static int
forward(void *arg)
{
	uint64_t hz = rte_get_tsc_hz();

	(void)arg;
	while (!quit) {
		for (uint16_t p = 0; p < n_ports; p++) {
			struct rte_mbuf *pkts[BURST];
			uint16_t n = rte_eth_rx_burst(p, 0, pkts, BURST);

			if (n)
				switch_burst(p, pkts, n, rte_rdtsc(), hz);
		}
	}
	return 0;
}

static int
load_fdb(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned vid, port, m[6];
	int n = 0;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (fscanf(f, "%u %x:%x:%x:%x:%x:%x %u", &vid, &m[0], &m[1], &m[2], &m[3], &m[4],
		      &m[5], &port) == 8) {
		uint8_t mac[8] = {0};

		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)m[i];
		if (vid > 4094 || port >= n_ports ||
		    fdb_add(xvs_fdb_key_of(mac, (uint16_t)(vid ? vid : NATIVE_VLAN)), (uint16_t)port,
			    0) != 0) {
			fprintf(stderr, "%s: bad entry %u %u\n", path, vid, port);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	printf("pvprelay: %d static entries\n", n);
	return 0;
}

static int
port_init(uint16_t p, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(p, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(p, 0, 0, rte_eth_dev_socket_id(p), NULL, mp) < 0 ||
	    rte_eth_tx_queue_setup(p, 0, 0, rte_eth_dev_socket_id(p), NULL) < 0 ||
	    rte_eth_dev_start(p) < 0)
		return -1;
	rte_eth_promiscuous_enable(p);
	for (unsigned v = 1; v <= 4094; v++) /* a trunk of 1-4094 */
		vlan_map[p][v >> 6] |= UINT64_C(1) << (v & 63);
	return 0;
}

/* One testpmd-style stats block per port: rates since the last one. */
static void
print_rates(uint64_t *last_rx, uint64_t *last_tx, uint64_t *last_tsc)
{
	uint64_t now = rte_rdtsc(), dt = now - *last_tsc, hz = rte_get_tsc_hz();

	for (uint16_t p = 0; p < n_ports; p++) {
		struct rte_eth_stats s;

		if (rte_eth_stats_get(p, &s) < 0)
			continue;
		printf("\n  ######################## NIC statistics for port %-2u #########################\n"
		       "  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %" PRIu64 "\n"
		       "  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %" PRIu64 "\n"
		       "  Throughput (since last show)\n"
		       "  Rx-pps: %12" PRIu64 "\n  Tx-pps: %12" PRIu64 "\n",
		       p, s.ipackets, s.imissed, s.ibytes, s.opackets, s.oerrors, s.obytes,
		       dt ? (s.ipackets - last_rx[p]) * hz / dt : 0,
		       dt ? (s.opackets - last_tx[p]) * hz / dt : 0);
		last_rx[p] = s.ipackets;
		last_tx[p] = s.opackets;
	}
	*last_tsc = now;
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	uint64_t last_rx[MAX_PORTS] = {0}, last_tx[MAX_PORTS] = {0}, last_tsc;
	struct rte_hash_parameters hp = {
		.name = "pvprelay_fdb", .entries = FDB_SIZE, .key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc, .socket_id = SOCKET_ID_ANY,
	};
	struct rte_mempool *mp;
	unsigned lcore;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	argc -= n;
	argv += n;
	if (argc == 3 && strcmp(argv[2], "policy-floor") == 0)
		policy_floor = true;
	else if (argc != 2)
		rte_exit(EXIT_FAILURE, "usage: pvprelay EAL-ARGS -- FDB-FILE [policy-floor]\n");
	if (policy_floor &&
	    (floor_lines = rte_zmalloc("floor", FLOOR_LINES * 64, 64)) == NULL)
		rte_exit(EXIT_FAILURE, "no memory for the policy floor's table\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	n_ports = rte_eth_dev_count_avail();
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (n_ports == 0 || n_ports > MAX_PORTS || lcore >= RTE_MAX_LCORE)
		rte_exit(EXIT_FAILURE, "need 1-%d ports and a worker lcore\n", MAX_PORTS);
	/* testpmd's pool for --total-num-mbufs=32768 */
	mp = rte_pktmbuf_pool_create("mb_pool_0", 32768, 250, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	fdb = rte_hash_create(&hp);
	if (mp == NULL || fdb == NULL)
		rte_exit(EXIT_FAILURE, "mempool or hash: %s\n", rte_strerror(rte_errno));
	rte_hash_set_cmp_func(fdb, key_cmp);
	for (uint16_t p = 0; p < n_ports; p++)
		if (port_init(p, mp) < 0)
			rte_exit(EXIT_FAILURE, "port %u: cannot start\n", p);
	if (load_fdb(argv[1]) < 0)
		rte_exit(EXIT_FAILURE, "bad FDB file\n");
	printf("pvprelay: %u ports, forwarding on lcore %u\n", n_ports, lcore);
	fflush(stdout);
	last_tsc = rte_rdtsc();
	rte_eal_remote_launch(forward, NULL, lcore);
	while (!quit) {
		sleep(1);
		print_rates(last_rx, last_tx, &last_tsc);
	}
	rte_eal_mp_wait_lcore();
	print_rates(last_rx, last_tx, &last_tsc);
	printf("\npvprelay: drops unknown-dst %" PRIu64 " same-port %" PRIu64 " vlan %" PRIu64
	       " tx-full %" PRIu64 "; sources learned %" PRIu64 " moved %" PRIu64
	       " not learned (table full) %" PRIu64 "\n",
	       ctr.unknown_dst, ctr.same_port, ctr.vlan, ctr.tx_full, ctr.learned, ctr.moved,
	       ctr.learn_failed);
	if (policy_floor)
		printf("pvprelay: policy floor: found %" PRIu64 " written %" PRIu64
		       " not clean %" PRIu64 "\n", floor_found, floor_written, floor_unclean);
	for (uint16_t p = 0; p < n_ports; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_hash_free(fdb);
	rte_eal_cleanup();
	return 0;
}

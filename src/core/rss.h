/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive Side Scaling (core, no DPDK): the Toeplitz hash, the hash input of a
 * frame, the indirection table (RETA), and the per-port RSS settings with the
 * choice of workers they imply.
 *
 * Two Toeplitz implementations, which must agree bit for bit:
 * - xvs_toeplitz_ref(): the bit-serial definition of the Microsoft RSS
 *   specification, used by the tests as the reference;
 * - struct xvs_rss_table / xvs_rss_hash(): the datapath's. For a given key it
 *   precomputes, for every input byte position and byte value, the XOR of the
 *   32-bit key windows that byte selects, so hashing is one table load and XOR
 *   per input byte (12 for IPv4+TCP). Written here because DPDK 22.11 offers
 *   only rte_softrss(), which is bit-serial (a branch per input bit, several
 *   times slower), and rte_thash_gfni(), which needs the application itself to
 *   be compiled for AVX-512 GFNI. The unit tests check this table against the
 *   reference and the published vectors; tests/unit/test_rss_dpdk.c checks it
 *   against rte_softrss().
 */
#ifndef XVS_RSS_H
#define XVS_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt_parse.h"
#include "xvs_err.h"

#define XVS_RSS_KEY_LEN 40         /* NDIS_RSS_HASH_SECRET_KEY_MAX_SIZE_REVISION_1 */
#define XVS_RSS_INPUT_MAX 36       /* IPv6 + ports: 16 + 16 + 2 + 2 */
#define XVS_RSS_RETA_DEFAULT 128   /* NDIS_RSS_INDIRECTION_TABLE_MAX_SIZE_REVISION_1 */
#define XVS_RSS_RETA_MIN 1
#define XVS_RSS_RETA_MAX 512       /* the largest NIC table in use (i40e) */
#define XVS_RSS_CPU_MAX 1023

/* Hash types: which header fields are hashed for which packets. */
enum {
	XVS_RSS_IPV4 = 1u << 0,     /* IPv4 addresses (8 bytes) */
	XVS_RSS_TCP4 = 1u << 1,     /* IPv4 addresses + TCP ports (12) */
	XVS_RSS_UDP4 = 1u << 2,     /* IPv4 addresses + UDP ports (12) */
	XVS_RSS_IPV6 = 1u << 3,     /* IPv6 addresses (32) */
	XVS_RSS_TCP6 = 1u << 4,     /* IPv6 addresses + TCP ports (36) */
	XVS_RSS_UDP6 = 1u << 5,     /* IPv6 addresses + UDP ports (36) */
	XVS_RSS_IPV6_EX = 1u << 6,  /* as ipv6, addresses from Home Address option / type 2 routing header */
	XVS_RSS_TCP6_EX = 1u << 7,
	XVS_RSS_UDP6_EX = 1u << 8,
	XVS_RSS_TYPES_ALL = (1u << 9) - 1,
};
#define XVS_RSS_TYPES_DEFAULT                                                        \
	(XVS_RSS_IPV4 | XVS_RSS_TCP4 | XVS_RSS_UDP4 | XVS_RSS_IPV6 | XVS_RSS_TCP6 | XVS_RSS_UDP6)

/* Profiles, after Set-NetAdapterRss -Profile (meaning in doc/rss.md). */
enum xvs_rss_profile {
	XVS_RSS_CLOSEST = 0,     /* workers nearest base-cpu; entries rebalanced by load */
	XVS_RSS_STATIC,          /* same workers, table never changed at run time */
	XVS_RSS_CONSERVATIVE,    /* as few workers as sustain the load (default) */
	XVS_RSS_PROFILE__MAX
};

/* The well-known Microsoft/Intel verification key, the default. */
extern const uint8_t xvs_rss_default_key[XVS_RSS_KEY_LEN];

/* Bit-serial Toeplitz over in[0..len) (len <= XVS_RSS_INPUT_MAX). Reference. */
uint32_t xvs_toeplitz_ref(const uint8_t key[XVS_RSS_KEY_LEN], const uint8_t *in, size_t len);

/* Precomputed per-key table, 36 KiB. */
struct xvs_rss_table {
	uint32_t t[XVS_RSS_INPUT_MAX][256];
};

void xvs_rss_table_init(struct xvs_rss_table *t, const uint8_t key[XVS_RSS_KEY_LEN]);

static inline uint32_t
xvs_rss_hash(const struct xvs_rss_table *t, const uint8_t *in, size_t len)
{
	uint32_t h = 0;

	for (size_t i = 0; i < len; i++)
		h ^= t->t[i][in[i]];
	return h;
}

/* Build the hash input of frame[0..len), whose L2 header l2 was parsed, for
 * the enabled types: source address, destination address, then source and
 * destination port, in network order. Returns the input length (8, 12, 32 or
 * 36), or 0 when the frame is not hashed (not IP, malformed, or no enabled
 * type covers it): such frames go to RETA entry 0, the default queue.
 * Fragments hash on addresses only. */
size_t xvs_rss_input(const uint8_t *frame, uint32_t len, const struct xvs_l2 *l2, uint32_t types,
		     uint8_t in[XVS_RSS_INPUT_MAX]);

/* The same for a frame of wire bytes of which only the first cap can be read
 * (the first segment of a chain, e.g. a 64 KB TSO frame from a tap): length
 * fields are checked against wire, and headers that do not fit in cap leave
 * the frame unhashed. */
size_t xvs_rss_input_seg(const uint8_t *frame, uint32_t cap, uint32_t wire,
			 const struct xvs_l2 *l2, uint32_t types, uint8_t in[XVS_RSS_INPUT_MAX]);

/* RETA index of a hash: the low bits (size is a power of two). */
static inline uint32_t
xvs_rss_reta_index(uint32_t hash, uint32_t size)
{
	return hash & (size - 1);
}

/* Fill reta[0..size) with entry[i] = i mod n (the Linux default), n >= 1. */
void xvs_rss_reta_fill(uint16_t *reta, uint32_t size, uint16_t n);

/* Per-port RSS settings (Set-NetAdapterRss). */
struct xvs_rss_cfg {
	bool enabled;                   /* default on */
	int32_t base_cpu;               /* lowest CPU of the set; -1 = lowest worker CPU */
	int32_t max_cpu;                /* highest CPU of the set; -1 = no limit */
	uint16_t max_cpus;              /* workers used at most; 0 = all in the set */
	uint16_t queues;                /* rx queues used; 0 = every queue the port has */
	uint16_t reta_size;             /* power of two, 1..512; default 128 */
	enum xvs_rss_profile profile;   /* default conservative */
	uint32_t types;                 /* XVS_RSS_* bits; default XVS_RSS_TYPES_DEFAULT */
	uint8_t key[XVS_RSS_KEY_LEN];   /* default xvs_rss_default_key */
};

void xvs_rss_cfg_init(struct xvs_rss_cfg *cfg);

/* Parsers and formatters, `what` names the setting in messages. */
int xvs_rss_key_parse(const char *what, const char *s, uint8_t key[XVS_RSS_KEY_LEN],
		      struct xvs_err *err);   /* 80 hex digits, ':' or '-' between bytes allowed */
void xvs_rss_key_format(const uint8_t key[XVS_RSS_KEY_LEN], char buf[2 * XVS_RSS_KEY_LEN + 1]);
int xvs_rss_types_parse(const char *what, const char *s, uint32_t *types, struct xvs_err *err);
int xvs_rss_types_format(uint32_t types, char *buf, size_t len); /* "ipv4,tcp4,..." */
int xvs_rss_profile_parse(const char *what, const char *s, enum xvs_rss_profile *p,
			  struct xvs_err *err);
const char *xvs_rss_profile_name(enum xvs_rss_profile p);

/* Workers eligible for a port's RSS: of the n workers (worker_cpu[i] is the
 * CPU worker i runs on), those on CPUs in [base_cpu, max_cpu], ordered by CPU
 * then worker id, at most max_cpus of them. Writes their ids to out (room for
 * n) and returns how many, or a negative errno with a message when base_cpu
 * is not a CPU any worker runs on or the range holds no worker. */
int xvs_rss_select(const struct xvs_rss_cfg *cfg, const uint16_t *worker_cpu, uint16_t n,
		   uint16_t *out, struct xvs_err *err);

/* Conservative profile: how many of the set's n workers to use next, given
 * the k in use now and the busy % of each of those k. Grows by one when the
 * busiest is above XVS_RSS_GROW_PCT, shrinks by one when the total load would
 * fit in k - 1 workers below XVS_RSS_SHRINK_PCT each. */
#define XVS_RSS_GROW_PCT 75.0
#define XVS_RSS_SHRINK_PCT 50.0
uint16_t xvs_rss_conservative_next(uint16_t k, uint16_t n, const double *busy_pct);

/* Closest profile: when the busiest of the workers w[0..n) is over
 * XVS_RSS_REBALANCE_MIN_PCT busy and XVS_RSS_REBALANCE_GAP_PCT points above
 * the least busy, move a share of its RETA entries (gap / (2 x its busy %))
 * to the least busy; it keeps at least one. busy_pct is indexed by worker id.
 * Returns the number of entries moved. */
#define XVS_RSS_REBALANCE_MIN_PCT 60.0
#define XVS_RSS_REBALANCE_GAP_PCT 25.0
uint16_t xvs_rss_rebalance(uint16_t *reta, uint32_t size, const uint16_t *w, uint16_t n,
			   const double *busy_pct);

/* Did adding a worker pay? Software spreading costs every frame a hash, a
 * hand-off and cache misses on the other core, which can exceed what the
 * extra worker brings (a memory-only source). Compares the port's capacity,
 * its rate divided by the busiest worker's busy fraction, before and after:
 * true when it grew by at least XVS_RSS_PAY_GAIN. */
#define XVS_RSS_PAY_GAIN 1.10
bool xvs_rss_spread_paid(double pps_before, double busiest_pct_before, double pps_after,
			 double busiest_pct_after);

/* Conservative profile over time: the state a port carries between load
 * samples, and the step that decides on each sample. Growth is a trial: the
 * growth is judged on the XVS_RSS_TRIAL_SAMPLES-th sample after it (the first
 * is partly before the new snapshot); if it did not pay
 * (xvs_rss_spread_paid), the worker goes back and no growth is tried for
 * XVS_RSS_HOLD_NS. A port without traffic of its own (rx_pps 0) never grows.
 * Time is passed in (now_ns, monotonic); nothing here reads a clock. */
#define XVS_RSS_TRIAL_SAMPLES 2
#define XVS_RSS_HOLD_NS (30 * UINT64_C(1000000000))

struct xvs_rss_cons {
	uint16_t trial;         /* samples left until a growth is judged; 0 = no trial */
	double trial_pps;       /* port rate on the sample that grew */
	double trial_busy;      /* busiest worker's busy % on that sample */
	uint64_t hold_until_ns; /* no growth before this (after one that did not pay) */
};

enum xvs_rss_cons_verdict {
	XVS_RSS_CONS_KEEP = 0,  /* same number of workers (also: trial under way, paid) */
	XVS_RSS_CONS_GROW,      /* one more worker, on trial */
	XVS_RSS_CONS_SHRINK,    /* one fewer: the load fits */
	XVS_RSS_CONS_NOT_PAID,  /* the last growth did not pay: one fewer, hold */
};

/* One load sample of a port under the conservative profile: k workers of its
 * set of n in use, busy_pct[0..k) their busy %, rx_pps the port's rate over
 * the sample, now_ns the sample's time. Updates *st and returns the number
 * of workers to use from now on; *verdict (if not NULL) says why. Call it
 * again with fresh state (zeroed) when the port starts over from one
 * worker. */
uint16_t xvs_rss_conservative_step(struct xvs_rss_cons *st, uint16_t k, uint16_t n,
				   const double *busy_pct, double rx_pps, uint64_t now_ns,
				   enum xvs_rss_cons_verdict *verdict);

/* The controller that runs the step changes (the balancer is enabled or
 * disabled: ctl/balancer.c's sample and xvsd_rss_tick measure over windows
 * of their own): a growth under trial is judged afresh, on the
 * XVS_RSS_TRIAL_SAMPLES-th sample of the new controller, whose window starts
 * after the switch and so after the growth. The rate and busy % measured
 * before the growth (trial_pps, trial_busy) stay the baseline. */
void xvs_rss_cons_restart_trial(struct xvs_rss_cons *st);

/* Split a burst for software spreading: dst[i] is the target (0..n_targets-1)
 * of item i. Writes, per target t, the indices of its items in their original
 * order to idx[start[t] .. start[t+1]), where start has n_targets + 1 entries.
 * Order within a target is preserved, which is what keeps every flow in order. */
void xvs_rss_partition(const uint16_t *dst, uint16_t n, uint16_t n_targets, uint16_t *start,
		       uint16_t *idx);

#endif /* XVS_RSS_H */

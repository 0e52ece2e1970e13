/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xvs extension ABI (installed, stable; pkg-config name "xvs-ext").
 *
 * An extension is a stage of the switch pipeline:
 *
 *   parse -> ingress: capture* -> filter* -> forward (exactly one)
 *         -> egress, per destination port: filter* -> capture* -> transmit
 *
 * Capture extensions see packets read-only and may emit new ones; filter
 * extensions may pass, drop or modify a packet, and on egress exclude the
 * destination port being processed; the forward extension decides the
 * destination set. Capture runs first on ingress and last on egress, so it
 * sees what the switch received and what it really transmits. Within a kind,
 * extensions are ordered by their runs_before / runs_after constraints, then
 * by registration order. The built-in stages (L2 forward, MAC/DHCP/router
 * guards, storm limit, ACL, mirror) are described with this same ABI.
 *
 * A third-party extension is a shared object exporting the symbol
 * XVS_EXT_REGISTER_SYMBOL ("xvs_ext_register"), which returns a descriptor.
 * The descriptor and the ops table start with their ABI version and size
 * (libbpf "opts.sz" style) so that both can grow: xvsd refuses a descriptor
 * whose abi_version differs from XVS_EXT_ABI_VERSION, whose size is below the
 * first published size, or which is larger than xvsd knows and has non-zero
 * bytes in the part xvsd does not know. The refusal names the extension, the
 * field and both values.
 *
 * Threads. init, fini, config_validate, config_apply, state_free and
 * port_enable run on the control thread, one at a time. process runs on the
 * workers, concurrently for different bursts, and must not allocate from the
 * heap, lock, make syscalls or log above rate-limited debug. Per-port state is
 * immutable once published: config_apply builds a new state, xvsd publishes it
 * in its next snapshot and calls state_free on the old one after every worker
 * has passed a quiescent state (RCU). Counters are per worker; xvsd sums them.
 *
 * Only standard C types appear here; struct rte_mbuf is opaque, so an
 * extension that only reads packet bytes (through data/len) needs no DPDK.
 */
#ifndef XVS_EXT_H
#define XVS_EXT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;

/* Bumped on an incompatible change only; growing a struct at its end keeps
 * the version and is told apart by the struct's size. */
#define XVS_EXT_ABI_VERSION 1u
#define XVS_EXT_REGISTER_SYMBOL "xvs_ext_register"

#define XVS_EXT_NAME_MAX 32        /* name length including the NUL */
#define XVS_EXT_MAX_CONSTRAINTS 16 /* entries of runs_before, of runs_after */
#define XVS_EXT_MAX_COUNTERS 32    /* named counters per extension */
#define XVS_EXT_MAX_DROP_REASONS 32 /* drop reasons per extension */
#define XVS_EXT_BURST_MAX 32       /* a burst never holds more packets */
#define XVS_EXT_PORT_NONE UINT16_MAX

/* What an extension may do with a packet. */
enum xvs_ext_kind {
	XVS_EXT_CAPTURE = 1, /* read-only; may emit packets; verdicts must stay PASS */
	XVS_EXT_FILTER = 2,  /* pass, drop, modify; exclude the egress port */
	XVS_EXT_FORWARD = 3, /* fills the destination set; ingress only, one active */
};

/* Where an extension runs: a bit set. */
enum xvs_ext_place {
	XVS_EXT_INGRESS = 1u << 0, /* on packets received from a port */
	XVS_EXT_EGRESS = 1u << 1,  /* per destination port, before transmit */
	XVS_EXT_BOTH = XVS_EXT_INGRESS | XVS_EXT_EGRESS,
};

/* Verdict per packet, written by process(). xvsd sets every entry to PASS
 * before the call; an extension writes only the packets it acts on. */
enum xvs_ext_verdict {
	XVS_VERDICT_PASS = 0,     /* continue unchanged */
	XVS_VERDICT_DROP = 1,     /* free it; reason[i] names why (an index into drop_reasons) */
	XVS_VERDICT_MODIFIED = 2, /* continue; the extension changed bytes: xvsd re-parses */
	XVS_VERDICT_EXCLUDE = 3,  /* egress only: not to this destination port; others unaffected */
};
/* A verdict an extension may not give (anything but PASS from capture,
 * EXCLUDE on ingress, an unknown value) is a contract violation: xvsd treats
 * it as PASS and counts it under the extension's "bad_verdict" counter. */

/* Destination set: the forward stage's output, compact on purpose (a switch
 * has thousands of ports and the metadata area is tens of bytes). A flood is
 * resolved per egress port at transmit time: every port that carries the VLAN,
 * except the input port. */
enum xvs_dest_kind {
	XVS_DEST_NONE = 0,  /* not forwarded yet (ingress) or nowhere: dropped */
	XVS_DEST_PORT = 1,  /* one port: id is the port index */
	XVS_DEST_FLOOD = 2, /* broadcast, multicast, unknown unicast: id is the VID */
};

struct xvs_dest {
	uint8_t kind;    /* enum xvs_dest_kind */
	uint8_t rsvd;    /* zero */
	uint16_t id;     /* port index (DEST_PORT) or VID (DEST_FLOOD) */
};

/* Flags of struct xvs_pkt_meta. */
#define XVS_META_TAGGED (1u << 0)    /* the frame arrived with an 802.1Q tag (VID != 0) */
#define XVS_META_FRAGMENT (1u << 1)  /* an IP fragment: no L4 ports */
#define XVS_META_HAS_PORTS (1u << 2) /* TCP/UDP ports present (l4_off valid) */
/* Bits 5 to 7 are xvsd's own (its stages' hints to each other): ignore them. */

/* Per-packet metadata. xvsd registers it as an mbuf dynamic field at
 * start-up and fills it once, after parsing and before the first ingress
 * stage; every stage reads the same copy (process() gets a pointer per
 * packet). Stages write only tclass (filters) and dst (forward); xvsd sets
 * drop_reason from a DROP verdict and re-parses after MODIFIED. Offsets count
 * from the first byte of the frame. Size is part of the ABI: it may only grow
 * into rsvd. */
struct xvs_pkt_meta {
	uint32_t flow_hash;   /* RSS / software flow hash; 0 when not computed */
	uint16_t in_port;     /* input port index */
	uint16_t vid;         /* classified VLAN (after the input port's VLAN rules) */
	uint8_t pcp;          /* 802.1p priority, 0-7 */
	uint8_t l3;           /* 4, 6, or 0 when not IP */
	uint8_t l4_proto;     /* IP protocol after IPv6 extension headers; 0 if none */
	uint8_t flags;        /* XVS_META_* */
	uint16_t l3_off;      /* offset of the L3 header */
	uint16_t l4_off;      /* offset of the L4 header; 0 if none */
	struct xvs_dest dst;  /* forward stage output */
	uint16_t drop_reason; /* xvsd's global drop reason id; 0 = not dropped */
	uint8_t tclass;       /* a filter's traffic class, 0-7; xvsd's egress QoS
			       * classifies by its own rules and does not read it */
	uint8_t rsvd0;        /* zero */
	uint32_t rsvd[2];     /* zero; room to grow without changing the size */
};

/* static_assert is C11 and C++11; an extension built as C99 gets the same
 * check from an array that cannot have a negative size. */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
static_assert(sizeof(struct xvs_pkt_meta) == 32, "xvs_pkt_meta is 32 bytes (ABI)");
static_assert(sizeof(struct xvs_dest) == 4, "xvs_dest is 4 bytes (ABI)");
#else
typedef char xvs_ext_meta_is_32_bytes[sizeof(struct xvs_pkt_meta) == 32 ? 1 : -1];
typedef char xvs_ext_dest_is_4_bytes[sizeof(struct xvs_dest) == 4 ? 1 : -1];
#endif

/* One burst as a stage sees it. All packets of a burst share one port: on
 * ingress the input port (a burst comes from one rx queue), on egress the
 * destination port being processed. data[i]/len[i] are the first segment of
 * pkts[i], which always holds every header up to and including L4. */
struct xvs_ext_burst {
	uint32_t size;                      /* sizeof(struct xvs_ext_burst) in xvsd: an
					     * extension built against a newer header
					     * reads a newer field only if it fits */
	uint32_t rsvd0;                     /* zero */
	struct rte_mbuf *const *pkts;       /* n packets, owned by xvsd */
	uint8_t *const *data;               /* first byte of each frame */
	const uint32_t *len;                /* bytes at data[i] */
	struct xvs_pkt_meta *const *meta;   /* metadata of each packet */
	uint16_t n;                         /* 1 .. XVS_EXT_BURST_MAX */
	uint16_t port;                      /* port index, see above */
	uint8_t place;                      /* XVS_EXT_INGRESS or XVS_EXT_EGRESS */
	uint8_t rsvd[3];                    /* zero */
	unsigned worker;                    /* worker index, 0 .. n_workers-1 */
	uint64_t now_ns;                    /* monotonic time of the burst */
	const void *state;                  /* port's state from config_apply, or NULL */
	uint64_t *counters;                 /* this worker's counters, indexed as desc counters */
	/* Emit a new frame (copied) towards port, transmitted after this burst.
	 * Returns 0, or -ENOBUFS when the worker's emit queue is full (counted
	 * by xvsd). Only from process(), only by capture and filter. */
	int (*emit)(void *emit_ctx, uint16_t port, const void *frame, uint32_t len);
	void *emit_ctx;
};

/* A port as the control thread describes it to port_enable. */
struct xvs_ext_port {
	uint32_t size;     /* sizeof(struct xvs_ext_port) as built into xvsd */
	uint16_t index;    /* port index used in bursts and metadata */
	uint16_t flags;    /* XVS_EXT_PORT_UPLINK */
	const char *name;  /* "vm1.0", "up0" */
};

#define XVS_EXT_PORT_UPLINK (1u << 0) /* a host NIC or team, not a VM port */

/* One configuration setting, as the CLI sent it: "rate" = "1000". */
struct xvs_ext_kv {
	const char *key;
	const char *value;
};

/* Services of xvsd for the control-thread callbacks. */
struct xvs_ext_host {
	uint32_t abi_version; /* XVS_EXT_ABI_VERSION of xvsd */
	uint32_t size;        /* sizeof(struct xvs_ext_host) as built into xvsd */
	/* Log a line under the extension's name; level is syslog's (LOG_ERR..). */
	void (*log)(void *host_ctx, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void *host_ctx;
};

/* The callbacks. Errors are negative errno values; where err/err_len are
 * given, a failing callback writes a one-line message naming the setting and
 * the rule ("rate 0: must be 1-10000000"), which xvsd returns to the client. */
struct xvs_ext_ops {
	uint32_t size; /* sizeof(struct xvs_ext_ops) as the extension was built */

	/* Control thread, once, after the descriptor was accepted and before any
	 * other callback. Allocates the extension's context into *ctx (may stay
	 * NULL). *host stays valid until fini returns, so ctx may keep the
	 * pointer. Failure unloads the extension. Optional. */
	int (*init)(const struct xvs_ext_host *host, void **ctx);

	/* Control thread, once, after the extension was removed from every
	 * pipeline and all workers were quiescent; every state has been freed
	 * with state_free before. Releases ctx. Optional. */
	void (*fini)(void *ctx);

	/* Worker, once per burst (b->n >= 1; bursts of one port may run on
	 * several workers at once). Reads b (and packet bytes), writes verdict[i]
	 * and, for DROP, reason[i] (index into desc->drop_reasons) for i < b->n.
	 * Returns nothing: every packet keeps a verdict, so xvsd can account for
	 * all of them (rx = tx + dropped). Must not free, keep or transmit pkts.
	 * A capture extension must leave all verdicts PASS (see enum
	 * xvs_ext_verdict for what xvsd does otherwise). Required. */
	void (*process)(void *ctx, const struct xvs_ext_burst *b, uint8_t *verdict,
			uint8_t *reason);

	/* Control thread, before anything is stored. Checks settings for port
	 * (XVS_EXT_PORT_NONE: the extension's global settings) without any side
	 * effect. Returns 0 or -EINVAL with a message. Optional: without it, any
	 * setting is refused. */
	int (*config_validate)(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n,
			       char *err, size_t err_len);

	/* Control thread, after config_validate accepted kv and xvsd stored it in
	 * SQLite; also at start-up, replaying the stored settings. Builds the
	 * immutable state for port from the complete setting list (not a delta)
	 * into *state; xvsd publishes it and later passes it to process() in
	 * b->state. Must not touch a published state. Only resources may fail
	 * here (-ENOMEM). Required when config_validate is set. */
	int (*config_apply)(void *ctx, uint16_t port, const struct xvs_ext_kv *kv, unsigned n,
			    void **state, char *err, size_t err_len);

	/* Control thread, after a grace period: frees a state that no worker can
	 * see any more. Required when config_apply is set. */
	void (*state_free)(void *ctx, void *state);

	/* Control thread: the operator enables (on) or disables the extension on
	 * a port, or a port with it enabled is added or removed. An extension may
	 * refuse a port (-EPERM: port guards on an uplink) with a message; a
	 * refused enable changes nothing. Optional. */
	int (*port_enable)(void *ctx, const struct xvs_ext_port *port, bool on, char *err,
			   size_t err_len);
};

/* The descriptor, returned by xvs_ext_register(). Lives as long as the
 * shared object (static storage). Names: [a-z][a-z0-9_]*, at most
 * XVS_EXT_NAME_MAX - 1 characters, for the extension, its constraints, its
 * counters and its drop reasons. */
struct xvs_ext_desc {
	uint32_t abi_version;                /* XVS_EXT_ABI_VERSION */
	uint32_t size;                       /* sizeof(struct xvs_ext_desc) */
	const char *name;                    /* unique in the switch: "dhcp_guard" */
	const char *description;             /* one line for "xvsctl ext list" */
	uint8_t kind;                        /* enum xvs_ext_kind */
	uint8_t places;                      /* enum xvs_ext_place bits; forward: ingress */
	uint16_t flags;                      /* zero (reserved) */
	const char *const *runs_before;      /* NULL-terminated names, or NULL */
	const char *const *runs_after;       /* NULL-terminated names, or NULL */
	const char *const *counters;         /* NULL-terminated counter names, or NULL */
	const char *const *drop_reasons;     /* NULL-terminated reason names, or NULL */
	const struct xvs_ext_ops *ops;       /* callbacks, static storage */
};

/* The first published sizes, the smallest xvsd accepts. */
#define XVS_EXT_DESC_SIZE_V1 (offsetof(struct xvs_ext_desc, ops) + sizeof(void *))
#define XVS_EXT_OPS_SIZE_V1 (offsetof(struct xvs_ext_ops, port_enable) + sizeof(void *))

/* Entry point of a shared-object extension, called by xvsd right after
 * dlopen() on the control thread with xvsd's ABI version. Returns the
 * descriptor, or NULL when the extension cannot run with that version. */
typedef const struct xvs_ext_desc *xvs_ext_register_fn(uint32_t host_abi_version);

const struct xvs_ext_desc *xvs_ext_register(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* XVS_EXT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC request decoding (control plane, no DPDK): the framing of a request
 * line, the JSON envelope, and the params of every method, turned into a
 * typed request or an error whose message names the parameter and the rule.
 *
 * Nothing here looks at the running switch: a port is named, not looked up;
 * checks that need the switch (the port exists, RSS against the workers'
 * CPUs, the device) stay in the cmd_<feature>.c files. That keeps this module linkable into
 * tests/fuzz/fuzz_rpc.c and tests/unit/test_params.c, which have neither
 * DPDK nor a switch. Depends on jansson and libxvscore only.
 *
 * Every function returns 0 (or 1 where said) or a negative errno with err
 * filled; on error the request structure (or the cfg passed in) may hold a
 * partial result and must not be used.
 */
#ifndef XVS_PARAMS_H
#define XVS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "xvs_err.h"

#define XVS_RPC_MAX (64 * 1024)   /* longest request line, without its newline */
#define XVS_PARAM_NAME_LEN 64     /* buffer for a name parameter (longer is refused) */

/* Framing: buf holds len bytes read so far from one client. Returns 1 and the
 * request's length (without the newline) in *line_len when a whole line is
 * there, 0 when more bytes are needed, -E2BIG when XVS_RPC_MAX bytes came
 * without a newline. */
int xvs_rpc_frame(const char *buf, size_t len, size_t *line_len);

/* Envelope: one JSON object {"method": STRING, "params": OBJECT (optional)}.
 * On success *req is a new reference the caller releases; *method and *params
 * (NULL when absent) are borrowed from it. */
int xvs_rpc_decode(const char *line, size_t len, json_t **req, const char **method,
		   json_t **params, struct xvs_err *err);

/* One parameter as text: strings as they are, integers in decimal, booleans
 * as on/off, so clients may send {"vlan": 10} as well as {"vlan": "10"}.
 * Returns 0, 1 when absent (or null) and not required, or -EINVAL. */
int xvs_param_str(json_t *params, const char *key, bool required, char *buf, size_t len,
		  struct xvs_err *err);
/* The value v of option key as text, by the same rules. */
int xvs_param_value(const char *key, json_t *v, char *buf, size_t len, struct xvs_err *err);

/* port.add {name, kind, options}: name and kind checked, cfg initialised for
 * the kind, options applied, the whole config validated. */
struct xvs_req_port_add {
	char name[XVS_PARAM_NAME_LEN];     /* validated port name */
	char kind[32];                     /* the kind as given, for messages */
	struct xvs_port_cfg cfg;           /* the new port's configuration */
};
int xvs_params_port_add(json_t *params, struct xvs_req_port_add *req, struct xvs_err *err);

/* params.options {key: value} applied to cfg (the caller's copy), vlan-mode
 * first; then cfg validated. live_only (port.set): a key that is not one of
 * the few a running port can change is refused with -EBUSY. */
int xvs_params_port_options(json_t *params, struct xvs_port_cfg *cfg, bool live_only,
			    struct xvs_err *err);

/* rss.set: params.options {enabled|base-cpu|...: value} applied to cfg as its
 * rss-* keys, then cfg validated. */
int xvs_params_rss_options(json_t *params, struct xvs_port_cfg *cfg, struct xvs_err *err);

/* fdb.show, fdb.flush: optional port (by name) and vlan. */
struct xvs_req_fdb_filter {
	char port[XVS_PARAM_NAME_LEN];     /* "" = any port */
	int32_t vid;                       /* -1 = any VLAN */
};
int xvs_params_fdb_filter(json_t *params, struct xvs_req_fdb_filter *f, struct xvs_err *err);

/* fdb.add {mac, vlan, port}, fdb.del {mac, vlan}: a unicast MAC and a VLAN
 * (and a port name when need_port). */
struct xvs_req_fdb_static {
	uint8_t mac[6];
	char mac_s[18];                    /* canonical form, as stored */
	uint32_t vid;
	char port[XVS_PARAM_NAME_LEN];     /* "" unless need_port */
};
int xvs_params_fdb_static(json_t *params, bool need_port, struct xvs_req_fdb_static *r,
			  struct xvs_err *err);

/* switch.set {options: {aging|fdb-max|workers: value}} applied to cfg (the
 * caller's copy); at least one key. */
int xvs_params_switch_set(json_t *params, struct xvs_switch_cfg *cfg, uint32_t max_workers,
			  struct xvs_err *err);

/* test.fault {point, after, count}: see fault.h. */
struct xvs_req_fault {
	char point[16];                    /* publish | commit | apply | none */
	uint32_t after;                    /* hits of the point that still succeed */
	uint32_t count;                    /* then this many fail */
};
int xvs_params_fault(json_t *params, struct xvs_req_fault *r, struct xvs_err *err);

/* Run the parser of method on params, as xvsd would before looking at the
 * switch: port.set and rss.set apply their options to a copy of base (the
 * port as it is; NULL: a tap port with the defaults). -ENOENT for an unknown method. For the fuzz target and the
 * unit tests; xvsd calls the parsers above from its handlers. */
int xvs_params_check(const char *method, json_t *params, const struct xvs_port_cfg *base,
		     uint32_t max_workers, struct xvs_err *err);

#endif /* XVS_PARAMS_H */

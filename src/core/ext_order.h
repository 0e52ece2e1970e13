/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extension descriptors: validation and pipeline order (core, no DPDK).
 *
 * The control thread calls xvs_ext_desc_check() on every descriptor it gets
 * (from a built-in stage or from xvs_ext_register() of a dlopen'ed object)
 * before using any other field, then xvs_ext_order_resolve() on the set of
 * loaded extensions whenever that set or an order changes, and publishes the
 * result in the next snapshot. Both are pure functions.
 *
 * Order rules, per place (ingress, egress):
 *  1. Kind order is fixed. Ingress: capture, filter, forward. Egress: filter,
 *     capture (capture sees what is transmitted). Forward runs on ingress
 *     only, and at most one forward extension may be loaded.
 *  2. "a runs_before b" / "a runs_after b" order two extensions of the same
 *     kind in every place where both run. A constraint between kinds that the
 *     kind order already satisfies is accepted; one that contradicts it is
 *     refused (-EINVAL): it shows a wrong assumption of the extension author,
 *     which silently dropping the constraint would hide.
 *  3. A constraint naming an extension that is not loaded is ignored and
 *     reported through the note callback: constraints express order relative
 *     to optional peers ("before mirror, if present"), and refusing would make
 *     loading order matter.
 *  4. Otherwise registration order (index in the input array) is kept: among
 *     the extensions free to run next, the earliest registered goes first.
 *  5. A cycle is refused (-ELOOP) with the cycle spelled out: "a -> b -> a".
 * Duplicate names are refused (-EEXIST).
 */
#ifndef XVS_EXT_ORDER_H
#define XVS_EXT_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xvs/xvs_ext.h>

#include "xvs_err.h"

#define XVS_EXT_MAX 64 /* extensions loaded in one switch */

/* Check a descriptor as received: ABI version and size first (nothing else
 * is read when they are wrong), then name, kind, places, constraint, counter
 * and drop reason names and counts, and the ops table (its size, process,
 * config_validate with config_apply with state_free). Returns 0, or -EINVAL /
 * -EPROTO (ABI version or size) with a message naming the extension and the
 * field. Control thread. */
int xvs_ext_desc_check(const struct xvs_ext_desc *desc, struct xvs_err *err);

/* True when name is a valid extension, counter or reason name:
 * [a-z][a-z0-9_]*, 1 .. XVS_EXT_NAME_MAX - 1 characters. */
bool xvs_ext_name_ok(const char *name);

/* What the resolver needs to know about one extension. */
struct xvs_ext_order_in {
	const char *name;               /* unique */
	uint8_t kind;                   /* enum xvs_ext_kind */
	uint8_t places;                 /* enum xvs_ext_place bits */
	const char *const *runs_before; /* NULL-terminated, or NULL */
	const char *const *runs_after;  /* NULL-terminated, or NULL */
};

/* Stage order of one place: indices into the input array. */
struct xvs_ext_order {
	uint16_t n;                   /* stages in this place */
	uint16_t idx[XVS_EXT_MAX];    /* in execution order */
};

/* Called once per ignored constraint with a message such as
 * "extension 'acl': runs_before 'mirror' is not loaded; ignored". */
typedef void xvs_ext_note_fn(void *arg, const char *msg);

/* Resolve the order of exts[0..n) (n <= XVS_EXT_MAX, registration order) into
 * *ingress and *egress. note may be NULL. Returns 0; -EINVAL (bad argument,
 * two forward extensions, a cross-kind contradiction), -EEXIST (duplicate
 * name) or -ELOOP (cycle) with a message; the outputs are then unspecified. */
int xvs_ext_order_resolve(const struct xvs_ext_order_in *exts, unsigned n,
			  struct xvs_ext_order *ingress, struct xvs_ext_order *egress,
			  xvs_ext_note_fn *note, void *note_arg, struct xvs_err *err);

#endif /* XVS_EXT_ORDER_H */

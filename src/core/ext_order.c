/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extension descriptor validation and stage ordering (core).
 *
 * The order is a topological sort (Kahn) of the runs_before / runs_after
 * graph of each place, where the next stage is always the ready one with the
 * lowest (kind rank, registration index): kind order first, then the
 * constraints, then registration order, as ext_order.h states. Sizes are tiny
 * (XVS_EXT_MAX) and this runs on the control thread when the set changes, so
 * an adjacency matrix and quadratic scans are the simple, sufficient choice.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ext_order.h"

static const char *
kind_name(uint8_t kind)
{
	switch (kind) {
	case XVS_EXT_CAPTURE:
		return "capture";
	case XVS_EXT_FILTER:
		return "filter";
	case XVS_EXT_FORWARD:
		return "forward";
	default:
		return "?";
	}
}

bool
xvs_ext_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] < 'a' || name[0] > 'z')
		return false;
	for (i = 1; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= XVS_EXT_NAME_MAX - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* A struct larger than this xvsd knows is accepted only if the unknown tail is
 * zero: the extension then uses no field that would be ignored (libbpf's
 * libbpf_validate_opts rule). */
static bool
tail_is_zero(const void *obj, size_t known, size_t size)
{
	const uint8_t *p = obj;
	size_t i;

	for (i = known; i < size; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Check a NULL-terminated name list; returns its length or a negative errno. */
static int
check_names(const char *ext, const char *what, const char *const *list, unsigned max,
	    bool unique, struct xvs_err *err)
{
	unsigned n, j;

	if (list == NULL)
		return 0;
	for (n = 0; list[n] != NULL; n++) {
		if (n >= max)
			return xvs_err_set(err, -EINVAL, "extension '%s': more than %u %s", ext,
					   max, what);
		if (!xvs_ext_name_ok(list[n]))
			return xvs_err_set(err, -EINVAL,
					   "extension '%s': %s '%s' is not a valid name "
					   "([a-z][a-z0-9_]*, at most %d characters)",
					   ext, what, list[n], XVS_EXT_NAME_MAX - 1);
		for (j = 0; unique && j < n; j++)
			if (strcmp(list[j], list[n]) == 0)
				return xvs_err_set(err, -EINVAL, "extension '%s': %s '%s' twice",
						   ext, what, list[n]);
	}
	return (int)n;
}

static int
check_ops(const char *name, const struct xvs_ext_ops *ops, struct xvs_err *err)
{
	if (ops == NULL)
		return xvs_err_set(err, -EINVAL, "extension '%s': no ops table", name);
	if (ops->size < XVS_EXT_OPS_SIZE_V1)
		return xvs_err_set(err, -EPROTO,
				   "extension '%s': ops size %u below the ABI %u minimum %zu",
				   name, ops->size, XVS_EXT_ABI_VERSION, XVS_EXT_OPS_SIZE_V1);
	if (ops->size > sizeof(*ops) && !tail_is_zero(ops, sizeof(*ops), ops->size))
		return xvs_err_set(err, -EPROTO,
				   "extension '%s': ops of %u bytes set callbacks this xvsd "
				   "(%zu bytes) does not know; upgrade xvsd",
				   name, ops->size, sizeof(*ops));
	if (ops->process == NULL)
		return xvs_err_set(err, -EINVAL, "extension '%s': ops.process is required", name);
	if ((ops->config_validate == NULL) != (ops->config_apply == NULL))
		return xvs_err_set(err, -EINVAL,
				   "extension '%s': ops.config_validate and ops.config_apply "
				   "go together",
				   name);
	if (ops->config_apply != NULL && ops->state_free == NULL)
		return xvs_err_set(err, -EINVAL,
				   "extension '%s': ops.config_apply needs ops.state_free", name);
	return 0;
}

int
xvs_ext_desc_check(const struct xvs_ext_desc *d, struct xvs_err *err)
{
	const char *name;
	int rc;

	if (d == NULL)
		return xvs_err_set(err, -EINVAL, "extension descriptor is NULL");
	/* Version and size first: with either wrong, no other field has a known
	 * place, so the message cannot even use the name. */
	if (d->abi_version != XVS_EXT_ABI_VERSION)
		return xvs_err_set(err, -EPROTO,
				   "extension descriptor: ABI version %u, xvsd supports %u; "
				   "rebuild the extension against this xvs-ext",
				   d->abi_version, XVS_EXT_ABI_VERSION);
	if (d->size < XVS_EXT_DESC_SIZE_V1)
		return xvs_err_set(err, -EPROTO,
				   "extension descriptor: size %u below the ABI %u minimum %zu",
				   d->size, XVS_EXT_ABI_VERSION, XVS_EXT_DESC_SIZE_V1);
	name = d->name;
	if (!xvs_ext_name_ok(name))
		return xvs_err_set(err, -EINVAL,
				   "extension name '%s' is not valid ([a-z][a-z0-9_]*, "
				   "at most %d characters)",
				   name == NULL ? "(null)" : name, XVS_EXT_NAME_MAX - 1);
	if (d->size > sizeof(*d) && !tail_is_zero(d, sizeof(*d), d->size))
		return xvs_err_set(err, -EPROTO,
				   "extension '%s': descriptor of %u bytes sets fields this xvsd "
				   "(%zu bytes) does not know; upgrade xvsd",
				   name, d->size, sizeof(*d));
	if (d->kind < XVS_EXT_CAPTURE || d->kind > XVS_EXT_FORWARD)
		return xvs_err_set(err, -EINVAL, "extension '%s': kind %u is not capture (1), "
				   "filter (2) or forward (3)", name, d->kind);
	if (d->places == 0 || (d->places & ~XVS_EXT_BOTH) != 0)
		return xvs_err_set(err, -EINVAL, "extension '%s': places 0x%x is not ingress, "
				   "egress or both", name, d->places);
	if (d->kind == XVS_EXT_FORWARD && d->places != XVS_EXT_INGRESS)
		return xvs_err_set(err, -EINVAL,
				   "extension '%s': a forward extension runs on ingress only",
				   name);
	if (d->flags != 0)
		return xvs_err_set(err, -EINVAL, "extension '%s': flags 0x%x are reserved (0)",
				   name, d->flags);
	rc = check_names(name, "runs_before", d->runs_before, XVS_EXT_MAX_CONSTRAINTS, false, err);
	if (rc < 0)
		return rc;
	rc = check_names(name, "runs_after", d->runs_after, XVS_EXT_MAX_CONSTRAINTS, false, err);
	if (rc < 0)
		return rc;
	rc = check_names(name, "counters", d->counters, XVS_EXT_MAX_COUNTERS, true, err);
	if (rc < 0)
		return rc;
	rc = check_names(name, "drop_reasons", d->drop_reasons, XVS_EXT_MAX_DROP_REASONS, true,
			 err);
	if (rc < 0)
		return rc;
	return check_ops(name, d->ops, err);
}

/* Rank of a kind in a place; -1 when the kind never runs there. */
static int
kind_rank(uint8_t kind, uint8_t place)
{
	if (place == XVS_EXT_INGRESS)
		return kind == XVS_EXT_CAPTURE ? 0 : kind == XVS_EXT_FILTER ? 1 : 2;
	return kind == XVS_EXT_FILTER ? 0 : kind == XVS_EXT_CAPTURE ? 1 : -1;
}

static int
find(const struct xvs_ext_order_in *exts, unsigned n, const char *name)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(exts[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* State of one place's sort: edge[a][b] means a runs before b. */
struct graph {
	const struct xvs_ext_order_in *exts;
	unsigned n;
	uint8_t place;
	const char *place_name;
	bool member[XVS_EXT_MAX];
	bool edge[XVS_EXT_MAX][XVS_EXT_MAX];
};

/* Record "first runs before second" from the constraint of ext 'from'. */
static int
add_edge(struct graph *g, int first, int second, const char *from, const char *rel,
	 const char *to, struct xvs_err *err)
{
	const struct xvs_ext_order_in *a = &g->exts[first], *b = &g->exts[second];
	int ra, rb;

	if (!g->member[first] || !g->member[second])
		return 0;
	if (a->kind == b->kind) {
		g->edge[first][second] = true;
		return 0;
	}
	ra = kind_rank(a->kind, g->place);
	rb = kind_rank(b->kind, g->place);
	if (ra < rb)
		return 0;
	return xvs_err_set(err, -EINVAL,
			   "extension '%s' %s '%s': on %s a %s extension cannot run before a %s "
			   "one (%s runs before %s there)",
			   from, rel, to, g->place_name, kind_name(a->kind), kind_name(b->kind),
			   kind_name(b->kind), kind_name(a->kind));
}

static int
build_edges(struct graph *g, struct xvs_err *err)
{
	unsigned i, k;
	int j, rc;

	for (i = 0; i < g->n; i++) {
		const struct xvs_ext_order_in *e = &g->exts[i];

		for (k = 0; e->runs_before != NULL && e->runs_before[k] != NULL; k++) {
			j = find(g->exts, g->n, e->runs_before[k]);
			if (j < 0)
				continue;
			rc = add_edge(g, (int)i, j, e->name, "runs_before", e->runs_before[k], err);
			if (rc < 0)
				return rc;
		}
		for (k = 0; e->runs_after != NULL && e->runs_after[k] != NULL; k++) {
			j = find(g->exts, g->n, e->runs_after[k]);
			if (j < 0)
				continue;
			rc = add_edge(g, j, (int)i, e->name, "runs_after", e->runs_after[k], err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Every node left has a predecessor left: walk predecessors from the lowest
 * index until one repeats, then print that loop in run-before direction. */
static int
report_cycle(const struct graph *g, const bool *done, struct xvs_err *err)
{
	int seq[XVS_EXT_MAX + 1], pos[XVS_EXT_MAX];
	unsigned i, k = 0;
	int v = -1, u, j;
	char msg[200];
	size_t off = 0;

	for (i = 0; i < g->n; i++) {
		pos[i] = -1;
		if (v < 0 && g->member[i] && !done[i])
			v = (int)i;
	}
	while (pos[v] < 0) {
		pos[v] = (int)k;
		seq[k++] = v;
		for (u = 0; u < (int)g->n; u++)
			if (g->member[u] && !done[u] && g->edge[u][v])
				break;
		v = u;
	}
	/* seq[pos[v]..k) is the loop, walked backwards along edges: print it
	 * forwards from v, v -> seq[k-1] -> ... -> seq[pos[v]+1] -> v. */
	off = (size_t)snprintf(msg, sizeof(msg), "%s", g->exts[v].name);
	for (j = (int)k - 1; j > pos[v] && off < sizeof(msg); j--)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, " -> %s",
					g->exts[seq[j]].name);
	if (off < sizeof(msg))
		snprintf(msg + off, sizeof(msg) - off, " -> %s", g->exts[v].name);
	return xvs_err_set(err, -ELOOP,
			   "extension order on %s has a cycle: %s; remove one of these "
			   "runs_before/runs_after constraints",
			   g->place_name, msg);
}

static int
sort_place(struct graph *g, struct xvs_ext_order *out, struct xvs_err *err)
{
	bool done[XVS_EXT_MAX] = {false};
	unsigned i, left = 0, indeg[XVS_EXT_MAX] = {0};
	int rc;

	for (i = 0; i < g->n; i++)
		g->member[i] = (g->exts[i].places & g->place) != 0;
	memset(g->edge, 0, sizeof(g->edge));
	rc = build_edges(g, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < g->n; i++) {
		unsigned j;

		if (!g->member[i])
			continue;
		left++;
		for (j = 0; j < g->n; j++)
			indeg[i] += g->edge[j][i];
	}

	out->n = 0;
	while (left > 0) {
		int best = -1, best_rank = 0;

		for (i = 0; i < g->n; i++) {
			int r;

			if (!g->member[i] || done[i] || indeg[i] != 0)
				continue;
			r = kind_rank(g->exts[i].kind, g->place);
			if (best < 0 || r < best_rank) {
				best = (int)i;
				best_rank = r;
			}
		}
		if (best < 0)
			return report_cycle(g, done, err);
		done[best] = true;
		left--;
		out->idx[out->n++] = (uint16_t)best;
		for (i = 0; i < g->n; i++)
			if (g->edge[best][i])
				indeg[i]--;
	}
	return 0;
}

/* Input checks shared by both places, and the notes about absent peers. */
static int
check_set(const struct xvs_ext_order_in *exts, unsigned n, xvs_ext_note_fn *note, void *arg,
	  struct xvs_err *err)
{
	int forward = -1;
	unsigned i, k;

	for (i = 0; i < n; i++) {
		const struct xvs_ext_order_in *e = &exts[i];

		if (!xvs_ext_name_ok(e->name))
			return xvs_err_set(err, -EINVAL, "extension %u: name '%s' is not valid",
					   i, e->name == NULL ? "(null)" : e->name);
		if (find(exts, i, e->name) >= 0)
			return xvs_err_set(err, -EEXIST, "extension '%s' is loaded twice",
					   e->name);
		if (e->kind < XVS_EXT_CAPTURE || e->kind > XVS_EXT_FORWARD || e->places == 0 ||
		    (e->places & ~XVS_EXT_BOTH) != 0 ||
		    (e->kind == XVS_EXT_FORWARD && e->places != XVS_EXT_INGRESS))
			return xvs_err_set(err, -EINVAL,
					   "extension '%s': kind %u / places 0x%x not valid",
					   e->name, e->kind, e->places);
		if (e->kind == XVS_EXT_FORWARD) {
			if (forward >= 0)
				return xvs_err_set(err, -EINVAL,
						   "extensions '%s' and '%s' are both forward "
						   "extensions; a switch has one",
						   exts[forward].name, e->name);
			forward = (int)i;
		}
	}
	if (note == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		const struct xvs_ext_order_in *e = &exts[i];
		const char *const *lists[2] = {e->runs_before, e->runs_after};
		static const char *const rel[2] = {"runs_before", "runs_after"};
		unsigned l;

		for (l = 0; l < 2; l++) {
			for (k = 0; lists[l] != NULL && lists[l][k] != NULL; k++) {
				char msg[sizeof(((struct xvs_err *)0)->msg)];

				if (find(exts, n, lists[l][k]) >= 0)
					continue;
				snprintf(msg, sizeof(msg),
					 "extension '%s': %s '%s' is not loaded; ignored", e->name,
					 rel[l], lists[l][k]);
				note(arg, msg);
			}
		}
	}
	return 0;
}

int
xvs_ext_order_resolve(const struct xvs_ext_order_in *exts, unsigned n,
		      struct xvs_ext_order *ingress, struct xvs_ext_order *egress,
		      xvs_ext_note_fn *note, void *note_arg, struct xvs_err *err)
{
	struct graph g;
	int rc;

	if ((exts == NULL && n > 0) || ingress == NULL || egress == NULL)
		return xvs_err_set(err, -EINVAL, "extension order: NULL argument");
	if (n > XVS_EXT_MAX)
		return xvs_err_set(err, -EINVAL, "extension order: %u extensions, at most %d",
				   n, XVS_EXT_MAX);
	rc = check_set(exts, n, note, note_arg, err);
	if (rc < 0)
		return rc;

	g.exts = exts;
	g.n = n;
	g.place = XVS_EXT_INGRESS;
	g.place_name = "ingress";
	rc = sort_place(&g, ingress, err);
	if (rc < 0)
		return rc;
	g.place = XVS_EXT_EGRESS;
	g.place_name = "egress";
	return sort_place(&g, egress, err);
}

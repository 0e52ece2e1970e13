/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of xvsd (control thread) for the FDB: fdb.show, fdb.flush,
 * fdb.add, fdb.del, and a port's learning state (xvsd_fdb_port_json, shown by
 * port.stats too).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "cmd_util.h"
#include "log.h"
#include "params.h"
#include "xvsd.h"

/* The port's learning state in the FDB (control thread: the FDB's writer).
 * learn_limit adds the requests workers did not send because the port was
 * at its limit to those the FDB refused. */
json_t *
xvsd_fdb_port_json(const struct xvs_port *p)
{
	struct xvs_fdb_port_stats ps;
	struct xvs_port_counters c;

	xvs_fdb_get_port_stats(xvs_dp.fdb, p->slot, &ps);
	xvsd_port_counters_sum(p->slot, &c);
	return json_pack("{s:I,s:I,s:I,s:I}", "learned", (json_int_t)ps.learned, "mac_limit",
			 (json_int_t)p->cfg.mac_limit, "learn_limit",
			 (json_int_t)(ps.learn_limit + c.learn_limit), "static_conflict",
			 (json_int_t)ps.static_conflict);
}

/* ---- fdb methods ---- */

struct fdb_filter {
	int32_t port;
	int32_t vid;
	json_t *out;
};

static int
fdb_row(const struct xvs_fdb_entry_info *e, void *arg)
{
	struct fdb_filter *f = arg;
	const struct xvs_port *p = e->port < XVS_MAX_PORTS ? xvsd.port[e->port] : NULL;
	char mac[18];

	if ((f->port >= 0 && e->port != f->port) || (f->vid >= 0 && e->vid != f->vid))
		return 0;
	xvs_mac_format(e->mac, mac);
	json_array_append_new(f->out,
			      json_pack("{s:s,s:i,s:s,s:s,s:f}", "mac", mac, "vlan", (int)e->vid,
					"port", p != NULL ? p->cfg.name : "?", "type",
					e->is_static ? "static" : "dynamic", "age_s",
					(double)e->age_ns / 1e9));
	return 0;
}

static int
fdb_filter_params(json_t *params, struct fdb_filter *f, struct xvs_err *err)
{
	struct xvs_req_fdb_filter req;
	int r = xvs_params_fdb_filter(params, &req, err);

	if (r < 0)
		return r;
	f->port = -1;
	f->vid = req.vid;
	if (req.port[0] != '\0') {
		struct xvs_port *p = xvsd_port_named(req.port, err, &r);

		if (p == NULL)
			return r;
		f->port = p->slot;
	}
	return 0;
}

static int
m_fdb_show(json_t *params, json_t **result, struct xvs_err *err)
{
	struct fdb_filter f;
	struct xvs_fdb_stats st;
	json_t *ports;
	int r = fdb_filter_params(params, &f, err);

	if (r < 0)
		return r;
	f.out = json_array();
	xvs_fdb_walk(xvs_dp.fdb, xvs_now_ns(), fdb_row, &f);
	xvs_fdb_get_stats(xvs_dp.fdb, &st);
	ports = json_object();
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++)
		if (xvsd.port[slot] != NULL && (f.port < 0 || f.port == slot))
			json_object_set_new(ports, xvsd.port[slot]->cfg.name,
					    xvsd_fdb_port_json(xvsd.port[slot]));
	*result = json_pack("{s:o,s:i,s:i,s:o}", "entries", f.out, "count", (int)st.entries, "max",
			    (int)st.max_entries, "ports", ports);
	return 0;
}

static int
m_fdb_flush(json_t *params, json_t **result, struct xvs_err *err)
{
	struct fdb_filter f;
	int r = fdb_filter_params(params, &f, err);
	uint32_t n;

	if (r < 0)
		return r;
	/* Dynamic entries only: static entries are configuration (fdb del). */
	n = xvs_fdb_flush(xvs_dp.fdb, f.port, f.vid, false);
	*result = json_pack("{s:i}", "flushed", (int)n);
	return 0;
}

/* The static entry (mac, vid) as it was stored before a change: on port
 * (a name), or none (port NULL). */
struct static_undo {
	const struct xvs_req_fdb_static *s;
	const char *port;
};

static int
store_put_static_back(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct static_undo *u = arg;

	if (u->port == NULL)
		return xvs_store_static_del(st, u->s->mac_s, u->s->vid, e);
	return xvs_store_static_put(st, u->s->mac_s, u->s->vid, u->port, e);
}

/* The FDB's entry for (mac, vid), if any. */
static bool
fdb_find(const struct xvs_req_fdb_static *s, struct xvs_fdb_hit *hit)
{
	uint8_t mac[8] = {0}; /* xvs_fdb_key_of() reads 8 bytes */

	memcpy(mac, s->mac, 6);
	return xvs_fdb_lookup(xvs_dp.fdb, mac, (uint16_t)s->vid, hit);
}

static int
m_fdb_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_req_fdb_static s;
	struct static_undo u = {.s = &s};
	struct xvs_fdb_hit prior;
	struct xvs_port *p;
	int r;

	r = xvs_params_fdb_static(params, true, &s, err);
	if (r < 0)
		return r;
	p = xvsd_port_named(s.port, err, &r);
	if (p == NULL)
		return r;
	if (fdb_find(&s, &prior) && prior.is_static && prior.port < XVS_MAX_PORTS &&
	    xvsd.port[prior.port] != NULL)
		u.port = xvsd.port[prior.port]->cfg.name;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_static_put(xvsd.store, s.mac_s, s.vid, p->cfg.name, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	/* A failed add leaves the FDB as it was: only the store needs undoing. */
	r = xvsd_fault(XVSD_FAULT_APPLY) ?
		    xvs_err_set(err, -ENOSPC, "fdb: no room for %s vlan %u (injected fault)",
				s.mac_s, s.vid) :
		    xvs_fdb_add_static(xvs_dp.fdb, s.mac, (uint16_t)s.vid, p->slot, err);
	if (r < 0) {
		xvsd_store_restore(store_put_static_back, &u, err);
		return r;
	}
	*result = json_pack("{s:s,s:i,s:s}", "mac", s.mac_s, "vlan", (int)s.vid, "port",
			    p->cfg.name);
	return 0;
}

static int
m_fdb_del(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_req_fdb_static s;
	struct xvs_fdb_hit hit;
	int r;

	r = xvs_params_fdb_static(params, false, &s, err);
	if (r < 0)
		return r;
	/* Checked first, so that a refusal changes nothing; only the control
	 * thread writes the FDB, so the entry is still there below. */
	if (!fdb_find(&s, &hit))
		return xvs_err_set(err, -ENOENT, "no entry for %s vlan %u", s.mac_s, s.vid);
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_static_del(xvsd.store, s.mac_s, s.vid, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	xvs_fdb_del(xvs_dp.fdb, s.mac, (uint16_t)s.vid);
	*result = json_pack("{s:s,s:i}", "deleted", s.mac_s, "vlan", (int)s.vid);
	return 0;
}

const struct xvsd_method xvsd_fdb_methods[] = {
	{"fdb.show", m_fdb_show, "FDB entries (optional port, vlan)"},
	{"fdb.flush", m_fdb_flush, "remove dynamic FDB entries (optional port, vlan)"},
	{"fdb.add", m_fdb_add, "add a static entry: mac, vlan, port"},
	{"fdb.del", m_fdb_del, "delete an entry: mac, vlan"},
	{NULL, NULL, NULL},
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mirror sessions (control thread): the mirror.* RPC methods, the sessions'
 * store and restore, and their translation into the mirror stage's per-port
 * settings (src/dp/stages/mirror.h).
 *
 * A session copies a source port's received frames (dir=in), the frames the
 * switch sends to it (dir=out) or both to a destination port on the switch,
 * as Hyper-V's port mirroring (Source / Destination). A port is a source or a
 * destination, never both: a destination that were also a source would feed
 * copies back into sessions. Sessions name their ports; a session whose port
 * is deleted stays, inactive, and works again when a port of that name is
 * added (mirror show says which).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "params.h"
#include "pipeline.h"
#include "stages/mirror.h"
#include "xvsd.h"

#define DIR_IN 1u
#define DIR_OUT 2u

/* Owned by the control thread. */
struct mirror_session {
	bool used;
	char name[XVS_NAME_MAX + 1];
	char src[XVS_NAME_MAX + 1];
	char dst[XVS_NAME_MAX + 1];
	uint8_t dirs;                      /* DIR_IN | DIR_OUT */
	struct xvs_mirror_counters base;   /* the id's counters when it was added */
};

static struct mirror_session sessions[XVS_MIRROR_MAX];

/* What the stage was last given per port slot, to configure only changes. */
static struct {
	const struct xvs_port *port;
	char kv[2][XVS_MIRROR_PER_PORT * 12];
} applied[XVS_MAX_PORTS];

static const char *
dir_name(uint8_t dirs)
{
	return dirs == DIR_IN ? "in" : dirs == DIR_OUT ? "out" : "both";
}

static int
dir_parse(const char *v, uint8_t *dirs)
{
	*dirs = strcmp(v, "in") == 0 ? DIR_IN : strcmp(v, "out") == 0 ? DIR_OUT :
		strcmp(v, "both") == 0 ? DIR_IN | DIR_OUT : 0;
	return *dirs != 0 ? 0 : -EINVAL;
}

static struct mirror_session *
session_find(const char *name)
{
	for (unsigned i = 0; i < XVS_MIRROR_MAX; i++)
		if (sessions[i].used && strcmp(sessions[i].name, name) == 0)
			return &sessions[i];
	return NULL;
}

/* The destination slot of session m, if both of its ports exist and are up. */
static bool
session_active(const struct mirror_session *m, uint16_t *dst_slot)
{
	const struct xvs_port *s = xvsd_port_find(m->src), *d = xvsd_port_find(m->dst);

	if (s == NULL || d == NULL || !s->open || !d->open)
		return false;
	*dst_slot = d->slot;
	return true;
}

void
xvsd_mirror_sync(void)
{
	struct xvs_stage *st = xvs_stage_find(xvs_mirror_desc.name);

	if (st == NULL)
		return;
	for (uint16_t slot = 0; slot < XVS_MAX_PORTS; slot++) {
		const struct xvs_port *p = xvsd.port[slot];
		char kv[2][sizeof(applied[0].kv[0])] = {"", ""};
		struct xvs_ext_kv list[2];
		unsigned n = 0;
		struct xvs_err e;

		for (unsigned i = 0; p != NULL && i < XVS_MIRROR_MAX; i++) {
			const struct mirror_session *m = &sessions[i];
			uint16_t dst;

			if (!m->used || strcmp(m->src, p->cfg.name) != 0 || !session_active(m, &dst))
				continue;
			for (unsigned d = 0; d < 2; d++) {
				size_t len = strlen(kv[d]);

				if (m->dirs & (1u << d))
					snprintf(kv[d] + len, sizeof(kv[d]) - len, "%s%u:%u",
						 len ? "," : "", dst, i);
			}
		}
		/* Unchanged, and still enabled: the registry also disables stages
		 * by itself (a port removed, a stage switched off). */
		if (applied[slot].port == p && strcmp(applied[slot].kv[0], kv[0]) == 0 &&
		    strcmp(applied[slot].kv[1], kv[1]) == 0 &&
		    ((kv[0][0] == '\0' && kv[1][0] == '\0') || xvs_stage_port_enabled(st, slot)))
			continue;
		if (kv[0][0] != '\0')
			list[n++] = (struct xvs_ext_kv){"in", kv[0]};
		if (kv[1][0] != '\0')
			list[n++] = (struct xvs_ext_kv){"out", kv[1]};
		xvs_err_clear(&e);
		if (xvs_stage_configure(st, slot, list, n, true, &e) < 0 ||
		    (p != NULL && xvs_stage_port_enable(st, slot, p->cfg.name, n > 0, &e) < 0)) {
			/* only resources can fail here: the next publish tries again */
			XVS_ERR("mirror", "port %s: mirror not in force: %s",
				p != NULL ? p->cfg.name : "?", e.msg);
			continue;
		}
		applied[slot].port = p;
		memcpy(applied[slot].kv, kv, sizeof(kv));
	}
}

uint64_t
xvsd_mirror_port_mirrored(const char *port)
{
	struct xvs_mirror_counters c;
	uint64_t sum = 0;

	for (unsigned i = 0; i < XVS_MIRROR_MAX; i++) {
		if (!sessions[i].used || strcmp(sessions[i].dst, port) != 0)
			continue;
		xvs_mirror_session_counters(i, &c);
		sum += c.packets - sessions[i].base.packets;
	}
	return sum;
}

/* Checks of a new session against the ports and the other sessions. */
static int
session_check(const struct mirror_session *m, struct xvs_err *err)
{
	if (xvsd_port_find(m->src) == NULL)
		return xvs_err_set(err, -ENOENT, "mirror %s: no port named \"%s\" (src; see: "
				   "xvsctl port list)", m->name, m->src);
	if (xvsd_port_find(m->dst) == NULL)
		return xvs_err_set(err, -ENOENT, "mirror %s: no port named \"%s\" (dst; see: "
				   "xvsctl port list)", m->name, m->dst);
	if (strcmp(m->src, m->dst) == 0)
		return xvs_err_set(err, -EINVAL, "mirror %s: src and dst are both %s: a port "
				   "cannot mirror to itself", m->name, m->src);
	unsigned per_dir[2] = {0, 0};

	for (unsigned i = 0; i < XVS_MIRROR_MAX; i++) {
		const struct mirror_session *o = &sessions[i];

		if (!o->used)
			continue;
		for (unsigned d = 0; d < 2; d++)
			if (strcmp(o->src, m->src) == 0 && (o->dirs & m->dirs & (1u << d)) &&
			    ++per_dir[d] >= XVS_MIRROR_PER_PORT)
				return xvs_err_set(err, -ENOSPC, "mirror %s: %s already has %d "
						   "mirror destinations for dir %s", m->name,
						   m->src, XVS_MIRROR_PER_PORT, d ? "out" : "in");
		if (strcmp(o->src, m->dst) == 0)
			return xvs_err_set(err, -EINVAL, "mirror %s: dst %s is the source of "
					   "mirror %s: copies would feed back (a port is a mirror "
					   "source or a destination, not both)", m->name, m->dst,
					   o->name);
		if (strcmp(o->dst, m->src) == 0)
			return xvs_err_set(err, -EINVAL, "mirror %s: src %s is the destination of "
					   "mirror %s: copies would feed back (a port is a mirror "
					   "source or a destination, not both)", m->name, m->src,
					   o->name);
		if (strcmp(o->src, m->src) == 0 && strcmp(o->dst, m->dst) == 0)
			return xvs_err_set(err, -EEXIST, "mirror %s: mirror %s already copies "
					   "%s to %s", m->name, o->name, m->src, m->dst);
	}
	return 0;
}

/* {name, options: {src, dst, dir}} into m. */
static int
session_params(json_t *params, struct mirror_session *m, struct xvs_err *err)
{
	json_t *opts = json_object_get(params, "options"), *v;
	char buf[XVS_PARAM_NAME_LEN];
	const char *key;
	int r;

	memset(m, 0, sizeof(*m));
	m->dirs = DIR_IN | DIR_OUT;
	r = xvs_param_str(params, "name", true, buf, sizeof(buf), err);
	if (r < 0 || (r = xvs_name_validate("mirror name", buf, err)) < 0)
		return r;
	snprintf(m->name, sizeof(m->name), "%.*s", XVS_NAME_MAX, buf);
	if (opts != NULL && !json_is_object(opts))
		return xvs_err_set(err, -EINVAL, "mirror %s: options must be an object", m->name);
	json_object_foreach(opts, key, v) {
		r = xvs_param_value(key, v, buf, sizeof(buf), err);
		if (r < 0)
			return r;
		if (strcmp(key, "src") == 0 || strcmp(key, "dst") == 0) {
			char *to = key[0] == 's' ? m->src : m->dst;

			if (strlen(buf) > XVS_NAME_MAX)
				return xvs_err_set(err, -ENOENT, "mirror %s: no port named \"%s\" "
						   "(%s; see: xvsctl port list)", m->name, buf, key);
			snprintf(to, XVS_NAME_MAX + 1, "%s", buf);
		} else if (strcmp(key, "dir") == 0) {
			if (dir_parse(buf, &m->dirs) < 0)
				return xvs_err_set(err, -EINVAL, "mirror %s: dir \"%s\": must be in, "
						   "out or both", m->name, buf);
		} else {
			return xvs_err_set(err, -EINVAL, "mirror %s: unknown option \"%s\" (src, dst, "
					   "dir)", m->name, key);
		}
	}
	if (m->src[0] == '\0' || m->dst[0] == '\0')
		return xvs_err_set(err, -EINVAL, "mirror %s: src=PORT and dst=PORT are required",
				   m->name);
	return 0;
}

static json_t *
session_json(unsigned id)
{
	const struct mirror_session *m = &sessions[id];
	struct xvs_mirror_counters c;
	uint16_t dst;
	bool active = session_active(m, &dst);

	xvs_mirror_session_counters(id, &c);
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:I}", "name", m->name, "src", m->src,
			 "dst", m->dst, "dir", dir_name(m->dirs), "active", active, "state",
			 active ? "mirroring" : xvsd_port_find(m->src) == NULL ? "src port missing" :
			 xvsd_port_find(m->dst) == NULL ? "dst port missing" : "port down",
			 "mirrored_packets", (json_int_t)(c.packets - m->base.packets),
			 "mirrored_bytes", (json_int_t)(c.bytes - m->base.bytes), "drops",
			 (json_int_t)(c.drops - m->base.drops));
}

static int
store_del_session(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	return xvs_store_mirror_del(st, arg, e);
}

static int
store_put_session(struct xvs_store *st, void *arg, struct xvs_err *e)
{
	const struct mirror_session *m = arg;

	return xvs_store_mirror_put(st, m->name, m->src, m->dst, dir_name(m->dirs), e);
}

static int
m_mirror_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct mirror_session m;
	unsigned id = XVS_MIRROR_MAX;
	int r;

	r = session_params(params, &m, err);
	if (r < 0)
		return r;
	if (session_find(m.name) != NULL)
		return xvs_err_set(err, -EEXIST, "mirror %s already exists", m.name);
	r = session_check(&m, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < XVS_MIRROR_MAX && id == XVS_MIRROR_MAX; i++)
		if (!sessions[i].used)
			id = i;
	if (id == XVS_MIRROR_MAX)
		return xvs_err_set(err, -ENOSPC, "mirror %s: %d sessions already", m.name,
				   XVS_MIRROR_MAX);
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = store_put_session(xvsd.store, &m, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	m.used = true;
	xvs_mirror_session_counters(id, &m.base);
	sessions[id] = m;
	r = xvsd_publish_err(err);
	if (r < 0) {
		sessions[id].used = false;
		xvsd_mirror_sync();
		xvsd_store_restore(store_del_session, m.name, err);
		return r;
	}
	XVS_INFO("mirror", "%s: %s -> %s (dir %s)", m.name, m.src, m.dst, dir_name(m.dirs));
	*result = session_json(id);
	return 0;
}

static int
m_mirror_del(json_t *params, json_t **result, struct xvs_err *err)
{
	char name[XVS_PARAM_NAME_LEN];
	struct mirror_session *m;
	int r;

	r = xvs_param_str(params, "name", true, name, sizeof(name), err);
	if (r < 0)
		return r;
	m = session_find(name);
	if (m == NULL)
		return xvs_err_set(err, -ENOENT, "no mirror named \"%s\" (see: xvsctl mirror show)",
				   name);
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_mirror_del(xvsd.store, m->name, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	m->used = false;
	r = xvsd_publish_err(err);
	if (r < 0) {
		m->used = true;
		xvsd_mirror_sync();
		xvsd_store_restore(store_put_session, m, err);
		return r;
	}
	XVS_INFO("mirror", "%s: deleted", m->name);
	*result = json_pack("{s:s}", "deleted", m->name);
	return 0;
}

static int
m_mirror_show(json_t *params, json_t **result, struct xvs_err *err)
{
	char name[XVS_PARAM_NAME_LEN];
	json_t *a;
	int r;

	r = xvs_param_str(params, "name", false, name, sizeof(name), err);
	if (r < 0)
		return r;
	if (r == 0 && session_find(name) == NULL)
		return xvs_err_set(err, -ENOENT, "no mirror named \"%s\" (see: xvsctl mirror show)",
				   name);
	a = json_array();
	for (unsigned i = 0; i < XVS_MIRROR_MAX; i++)
		if (sessions[i].used && (r != 0 || strcmp(sessions[i].name, name) == 0))
			json_array_append_new(a, session_json(i));
	*result = json_pack("{s:o}", "mirrors", a);
	return 0;
}

static int
restore_session(const char *name, const char *src, const char *dst, const char *dir, void *arg)
{
	struct mirror_session *m = NULL;

	(void)arg;
	for (unsigned i = 0; i < XVS_MIRROR_MAX && m == NULL; i++)
		if (!sessions[i].used)
			m = &sessions[i];
	if (m == NULL) {
		XVS_ERR("store", "mirror %s not restored: %d sessions already", name,
			XVS_MIRROR_MAX);
		return 0;
	}
	memset(m, 0, sizeof(*m));
	if (dir_parse(dir, &m->dirs) < 0 || strlen(name) > XVS_NAME_MAX ||
	    strlen(src) > XVS_NAME_MAX || strlen(dst) > XVS_NAME_MAX) {
		XVS_ERR("store", "mirror %s not restored: bad row (src %s, dst %s, dir %s)", name,
			src, dst, dir);
		return 0;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->src, sizeof(m->src), "%s", src);
	snprintf(m->dst, sizeof(m->dst), "%s", dst);
	m->used = true;
	xvs_mirror_session_counters((unsigned)(m - sessions), &m->base);
	XVS_INFO("mirror", "%s: restored (%s -> %s, dir %s)", name, src, dst, dir);
	return 0;
}

int
xvsd_mirror_restore(struct xvs_err *err)
{
	return xvs_store_load_mirrors(xvsd.store, restore_session, NULL, err);
}

const struct xvsd_method xvsd_mirror_methods[] = {
	{"mirror.add", m_mirror_add,
	 "{name, options: {src, dst, dir: in|out|both}}: copy src's frames to dst"},
	{"mirror.del", m_mirror_del, "{name}: delete a mirror session"},
	{"mirror.show", m_mirror_show, "{name?}: mirror sessions with their counters"},
	{NULL, NULL, NULL},
};

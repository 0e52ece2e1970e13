/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port ACL methods of xvsd (control thread): acl.add, acl.del, acl.clear,
 * acl.show, and the restore of the stored rules at start-up (the stage is
 * registered with the other built-in ones, src/dp/stages/builtin.c).
 *
 * The rules of a port live in the store (acl_rule, in id order) and nowhere
 * else on the control side: after every change the port's complete list is
 * read back and handed to the ACL stage (xvs_stage_configure), which
 * compiles a new rte_acl state; the stage is enabled on a port exactly while
 * it has rules. Order of a change (xvsd.h): parse and validate the new list
 * (the stage compiles nothing yet), commit to the store, compile, publish;
 * when compiling or publishing fails, the store change is undone and the
 * port keeps the rules it had.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "acl_stage.h"
#include "log.h"
#include "params.h"
#include "pipeline.h"
#include "xvsd.h"

/* A port's rules as the store has them, as the stage's settings. */
struct rule_list {
	unsigned n;
	int64_t id[XVS_ACL_MAX_RULES + 1];
	char key[XVS_ACL_MAX_RULES + 1][24];
	char *text[XVS_ACL_MAX_RULES + 1];
	struct xvs_ext_kv kv[XVS_ACL_MAX_RULES + 1];
};

static struct rule_list list; /* control thread only; one request at a time */

static void
list_reset(struct rule_list *l)
{
	for (unsigned k = 0; k < l->n; k++)
		free(l->text[k]);
	l->n = 0;
}

static int
list_push(struct rule_list *l, int64_t id, const char *text)
{
	if (l->n > XVS_ACL_MAX_RULES)
		return -ENOSPC;
	l->text[l->n] = strdup(text);
	if (l->text[l->n] == NULL)
		return -ENOMEM;
	l->id[l->n] = id;
	snprintf(l->key[l->n], sizeof(l->key[0]), "%lld", (long long)id);
	l->kv[l->n].key = l->key[l->n];
	l->kv[l->n].value = l->text[l->n];
	l->n++;
	return 0;
}

static int
load_row(int64_t id, const char *rule, void *arg)
{
	return list_push(arg, id, rule);
}

static int
list_load(struct rule_list *l, const char *port, struct xvs_err *err)
{
	int r;

	list_reset(l);
	xvs_err_clear(err);
	r = xvs_store_load_acl(xvsd.store, port, load_row, l, err);
	if (r < 0 && err->msg[0] == '\0')
		xvs_err_set(err, r, "port %s: cannot read its ACL rules: %s", port, strerror(-r));
	if (r < 0)
		list_reset(l);
	return r;
}

static struct xvs_stage *
acl_stage(struct xvs_err *err)
{
	struct xvs_stage *st = xvs_stage_find(XVS_ACL_STAGE_NAME);

	if (st == NULL)
		xvs_err_set(err, -ENOENT, "the ACL stage is not registered");
	return st;
}

/* Compile l into the port's ACL state and enable the stage while it has
 * rules; nothing published yet. */
static int
port_apply(struct xvs_port *p, const struct rule_list *l, struct xvs_err *err)
{
	struct xvs_stage *st = acl_stage(err);
	int r;

	if (st == NULL)
		return -ENOENT;
	r = xvs_stage_configure(st, p->slot, l->kv, l->n, true, err);
	if (r == 0)
		r = xvs_stage_port_enable(st, p->slot, p->cfg.name, l->n > 0, err);
	return r;
}

static struct xvs_port *
port_of(json_t *params, struct xvs_err *err, int *rc)
{
	char name[XVS_PARAM_NAME_LEN];
	struct xvs_port *p;

	*rc = xvs_param_str(params, "name", true, name, sizeof(name), err);
	if (*rc != 0)
		return NULL;
	p = xvsd_port_find(name);
	if (p == NULL)
		*rc = xvs_err_set(err, -ENOENT, "no port named \"%s\" (see: xvsctl port list)",
				  name);
	return p;
}

/* The store holds the change (committed): compile and publish it. On
 * failure undo(arg) puts the store back and the port keeps its old rules. */
static int
port_sync(struct xvs_port *p, int (*undo)(void *arg, struct xvs_err *e), void *arg,
	  struct xvs_err *err)
{
	struct xvs_err e;
	int r = list_load(&list, p->cfg.name, err), undone;

	if (r == 0)
		r = port_apply(p, &list, err);
	if (r == 0 && (r = xvsd_publish()) < 0)
		xvs_err_set(err, r, "cannot publish the ACL change to the workers (%s); nothing "
			    "changed, try again", strerror(-r));
	if (r == 0)
		return 0;
	if (xvs_store_begin(xvsd.store, &e) < 0)
		undone = -1;
	else if (undo(arg, &e) < 0) {
		xvs_store_rollback(xvsd.store);
		undone = -1;
	} else {
		undone = xvsd_store_commit(&e);
	}
	if (undone < 0) {
		XVS_ERR("acl", "port %s: stored ACL rules no longer match the running switch "
			"(%s) after: %s", p->cfg.name, e.msg, err->msg);
		return r;
	}
	if (list_load(&list, p->cfg.name, &e) == 0 && port_apply(p, &list, &e) == 0)
		xvsd_publish();
	return r;
}

/* Tokens "key=value" from the options object of acl.add. */
static int
rule_from_options(json_t *opts, struct xvs_acl_rule *rule, char *canon, size_t len,
		  struct xvs_err *err)
{
	char buf[XVS_ACL_MAX_TOKENS][160], val[128];
	const char *tok[XVS_ACL_MAX_TOKENS];
	const char *key;
	unsigned n = 0;
	json_t *v;
	int r;

	if (!json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "acl.add: options must be an object of rule "
				   "settings (dir, action, ...)");
	json_object_foreach(opts, key, v) {
		if (n == XVS_ACL_MAX_TOKENS)
			return xvs_err_set(err, -EINVAL, "acl: more than %d settings",
					   XVS_ACL_MAX_TOKENS);
		r = xvs_param_value(key, v, val, sizeof(val), err);
		if (r < 0)
			return r;
		if (strchr(key, '=') != NULL || strpbrk(val, " \t\n") != NULL ||
		    snprintf(buf[n], sizeof(buf[n]), "%s=%s", key, val) >= (int)sizeof(buf[n]))
			return xvs_err_set(err, -EINVAL, "acl: setting '%.40s' is malformed", key);
		tok[n] = buf[n];
		n++;
	}
	r = xvs_acl_rule_parse(tok, n, rule, err);
	if (r < 0)
		return r;
	xvs_acl_rule_format(rule, canon, len);
	return 0;
}

struct undo_add {
	const char *port;
	int64_t id;
};

static int
undo_add(void *arg, struct xvs_err *e)
{
	struct undo_add *u = arg;

	return xvs_store_acl_del(xvsd.store, u->port, u->id, e);
}

static int
m_acl_add(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_acl_rule rule;
	struct xvs_stage *st;
	struct xvs_port *p;
	struct undo_add u;
	char canon[512];
	int64_t id = 0;
	int r;

	p = port_of(params, err, &r);
	if (p == NULL)
		return r;
	r = rule_from_options(json_object_get(params, "options"), &rule, canon, sizeof(canon),
			      err);
	if (r < 0)
		return r;
	if ((st = acl_stage(err)) == NULL)
		return -ENOENT;
	/* The new list as it will be, checked by the stage before anything is
	 * stored (the id is a placeholder). */
	r = list_load(&list, p->cfg.name, err);
	if (r == 0 && list.n >= XVS_ACL_MAX_RULES)
		r = xvs_err_set(err, -ENOSPC, "port %s has %d ACL rules, the most a port takes",
				p->cfg.name, XVS_ACL_MAX_RULES);
	if (r == 0)
		r = list_push(&list, INT64_C(4294967295), canon);
	if (r == 0)
		r = xvs_stage_configure(st, p->slot, list.kv, list.n, false, err);
	if (r < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_acl_put(xvsd.store, p->cfg.name, canon, &id, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	u.port = p->cfg.name;
	u.id = id;
	r = port_sync(p, undo_add, &u, err);
	if (r < 0)
		return r;
	XVS_INFO("acl", "port %s: rule %lld added: %s", p->cfg.name, (long long)id, canon);
	*result = json_pack("{s:s, s:I, s:s}", "port", p->cfg.name, "id", (json_int_t)id, "rule",
			    canon);
	return 0;
}

/* Undo a delete or a clear: put the saved rules back with their ids. */
struct undo_del {
	const char *port;
	struct rule_list *saved;
};

static int
undo_del(void *arg, struct xvs_err *e)
{
	struct undo_del *u = arg;
	int r = xvs_store_acl_del(xvsd.store, u->port, 0, e);

	for (unsigned k = 0; r == 0 && k < u->saved->n; k++)
		r = xvs_store_acl_put(xvsd.store, u->port, u->saved->text[k], &u->saved->id[k], e);
	return r;
}

static struct rule_list saved;

/* Delete rule id of p, or every rule when id <= 0. */
static int
acl_remove(struct xvs_port *p, int64_t id, json_t **result, struct xvs_err *err)
{
	struct undo_del u = {p->cfg.name, &saved};
	int r = list_load(&saved, p->cfg.name, err);

	if (r < 0)
		return r;
	if ((r = xvs_store_begin(xvsd.store, err)) < 0)
		return r;
	if ((r = xvs_store_acl_del(xvsd.store, p->cfg.name, id, err)) < 0) {
		xvs_store_rollback(xvsd.store);
		return r;
	}
	if ((r = xvsd_store_commit(err)) < 0)
		return r;
	r = port_sync(p, undo_del, &u, err);
	if (r < 0)
		return r;
	if (id > 0) {
		XVS_INFO("acl", "port %s: rule %lld deleted", p->cfg.name, (long long)id);
		*result = json_pack("{s:s, s:I}", "port", p->cfg.name, "deleted", (json_int_t)id);
	} else {
		XVS_INFO("acl", "port %s: %u rules cleared", p->cfg.name, saved.n);
		*result = json_pack("{s:s, s:i}", "port", p->cfg.name, "cleared", (int)saved.n);
	}
	return 0;
}

static int
m_acl_del(json_t *params, json_t **result, struct xvs_err *err)
{
	char idtxt[24], *end;
	struct xvs_port *p;
	long long id;
	int r;

	p = port_of(params, err, &r);
	if (p == NULL)
		return r;
	r = xvs_param_str(params, "id", true, idtxt, sizeof(idtxt), err);
	if (r != 0)
		return r;
	id = strtoll(idtxt, &end, 10);
	if (*end != '\0' || id <= 0 || idtxt[0] < '0' || idtxt[0] > '9')
		return xvs_err_set(err, -EINVAL, "acl: rule id '%s' is not a positive number "
				   "(see: xvsctl acl show %s)", idtxt, p->cfg.name);
	return acl_remove(p, id, result, err);
}

static int
m_acl_clear(json_t *params, json_t **result, struct xvs_err *err)
{
	struct xvs_port *p;
	int r;

	p = port_of(params, err, &r);
	if (p == NULL)
		return r;
	return acl_remove(p, 0, result, err);
}

/* One port: its rules in order with their hits, whether the stage runs on
 * it and its recorded stateful flows. */
static json_t *
port_acl_json(struct xvs_stage *st, const struct xvs_port *p, struct xvs_err *err)
{
	static uint32_t ids[XVS_ACL_MAX_RULES];
	static uint64_t hits[XVS_ACL_MAX_RULES];
	const void *state = xvs_stage_port_state(st, p->slot);
	unsigned n_hits = xvs_acl_stage_hits(state, ids, hits, XVS_ACL_MAX_RULES), h = 0;
	json_t *rules = json_array();

	if (list_load(&list, p->cfg.name, err) < 0) {
		json_decref(rules);
		return NULL;
	}
	for (unsigned k = 0; k < list.n; k++) {
		uint64_t hit = 0;

		/* Both lists are in id order. */
		while (h < n_hits && ids[h] < list.id[k])
			h++;
		if (h < n_hits && ids[h] == list.id[k])
			hit = hits[h];
		json_array_append_new(rules, json_pack("{s:I, s:s, s:I}", "id",
						       (json_int_t)list.id[k], "rule",
						       list.text[k], "hits", (json_int_t)hit));
	}
	return json_pack("{s:s, s:b, s:o, s:i}", "port", p->cfg.name, "enabled",
			 xvs_stage_port_enabled(st, p->slot), "rules", rules, "flows",
			 (int)xvs_acl_stage_flows(state));
}

static int
m_acl_show(json_t *params, json_t **result, struct xvs_err *err)
{
	uint64_t v[XVS_STAGE_CTR_MAX];
	json_t *ports, *ctr, *one;
	struct xvs_stage *st;
	struct xvs_port *p = NULL;
	unsigned n;
	int r = 0;

	if (json_object_get(params, "name") != NULL && (p = port_of(params, err, &r)) == NULL)
		return r;
	if ((st = acl_stage(err)) == NULL)
		return -ENOENT;
	ports = json_array();
	for (int k = 0; k < XVS_MAX_PORTS; k++) {
		const struct xvs_port *q = xvsd.port[k];

		if (q == NULL || (p != NULL && q != p))
			continue;
		one = port_acl_json(st, q, err);
		if (one == NULL) {
			json_decref(ports);
			return err->code;
		}
		/* Without a port named, only ports that have rules. */
		if (p == NULL && json_array_size(json_object_get(one, "rules")) == 0)
			json_decref(one);
		else
			json_array_append_new(ports, one);
	}
	ctr = json_object();
	n = xvs_stage_counters(st, v, XVS_STAGE_CTR_MAX);
	for (unsigned k = 0; k < n; k++)
		json_object_set_new(ctr, xvs_stage_counter_name(st, k), json_integer((json_int_t)v[k]));
	*result = json_pack("{s:o, s:o}", "ports", ports, "counters", ctr);
	return 0;
}

int
xvsd_acl_restore(struct xvs_err *err)
{
	for (int k = 0; k < XVS_MAX_PORTS; k++) {
		struct xvs_port *p = xvsd.port[k];
		int r;

		if (p == NULL)
			continue;
		r = list_load(&list, p->cfg.name, err);
		if (r == 0 && list.n == 0)
			continue;
		if (r == 0)
			r = port_apply(p, &list, err);
		if (r < 0)
			return xvs_err_set(err, r, "port %s: stored ACL rules refused: %s",
					   p->cfg.name, err->msg);
		XVS_INFO("acl", "port %s: %u ACL rules restored", p->cfg.name, list.n);
	}
	return 0;
}

const struct xvsd_method xvsd_acl_methods[] = {
	{"acl.add", m_acl_add, "add an ACL rule to a port: name, options {dir, action, ...}"},
	{"acl.del", m_acl_del, "delete an ACL rule: name, id"},
	{"acl.clear", m_acl_clear, "delete every ACL rule of a port: name"},
	{"acl.show", m_acl_show, "ACL rules with hit counts, stage counters (optional name)"},
	{NULL, NULL, NULL},
};

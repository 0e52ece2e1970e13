/* SPDX-License-Identifier: BSD-3-Clause */
/* RPC request decoding, no DPDK (control plane); see params.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "params.h"

int
xvs_rpc_frame(const char *buf, size_t len, size_t *line_len)
{
	const char *nl = memchr(buf, '\n', len);

	if (nl != NULL && (size_t)(nl - buf) <= XVS_RPC_MAX) {
		*line_len = (size_t)(nl - buf);
		return 1;
	}
	return len > XVS_RPC_MAX ? -E2BIG : 0;
}

int
xvs_rpc_decode(const char *line, size_t len, json_t **req, const char **method, json_t **params,
	       struct xvs_err *err)
{
	json_error_t jerr;
	json_t *r;

	*req = NULL;
	r = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r == NULL)
		return xvs_err_set(err, -EINVAL, "malformed request: %s (column %d)", jerr.text,
				   jerr.column);
	if (!json_is_object(r) || !json_is_string(json_object_get(r, "method"))) {
		json_decref(r);
		return xvs_err_set(err, -EINVAL, "malformed request: expected {\"method\": ..., "
						 "\"params\": {...}}");
	}
	*params = json_object_get(r, "params");
	if (*params != NULL && !json_is_object(*params)) {
		json_decref(r);
		return xvs_err_set(err, -EINVAL, "malformed request: \"params\" must be an object");
	}
	*method = json_string_value(json_object_get(r, "method"));
	*req = r;
	return 0;
}

int
xvs_param_value(const char *key, json_t *v, char *buf, size_t len, struct xvs_err *err)
{
	if (json_is_string(v)) {
		if (json_string_length(v) >= len)
			return xvs_err_set(err, -EINVAL, "\"%.64s\": value longer than %zu bytes",
					   key, len - 1);
		/* a NUL inside would cut the value short without anyone noticing */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return xvs_err_set(err, -EINVAL, "\"%.64s\": value contains a NUL byte",
					   key);
		snprintf(buf, len, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(buf, len, "%s", json_is_true(v) ? "on" : "off");
	} else {
		return xvs_err_set(err, -EINVAL, "\"%.64s\": value must be a string or number",
				   key);
	}
	return 0;
}

int
xvs_param_str(json_t *params, const char *key, bool required, char *buf, size_t len,
	      struct xvs_err *err)
{
	json_t *v = params != NULL ? json_object_get(params, key) : NULL;

	buf[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (required)
			return xvs_err_set(err, -EINVAL, "missing parameter \"%s\"", key);
		return 1;
	}
	return xvs_param_value(key, v, buf, len, err);
}

/* params.options, or NULL */
static json_t *
options_of(json_t *params)
{
	return params != NULL ? json_object_get(params, "options") : NULL;
}

/* Only these may change on a running port: they touch no device state but
 * the MTU, which port.set applies itself. RSS settings take effect with the
 * next snapshot, and so do the port guards (stages, src/ctl/guard.c), QoS
 * (its plans, src/ctl/cmd_qos.c) and VMQ (the pools follow the options at each
 * publish, src/ctl/vmq.c). */
static bool
live_key(const char *key)
{
	static const char *const keys[] = {"vlan-mode", "vlan", "trunks", "native", "mtu",
					   "mac-limit", "mac-spoof", "dhcp-guard",
					   "router-guard", "storm-limit", "qos", "link-rate",
					   "min-bw-weight", "min-bw", "max-bw", "vmq-weight",
					   "vmq-queues", "vmmq-queues", NULL};

	for (int i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return strcmp(key, "rss") == 0 || strncmp(key, "rss-", 4) == 0;
}

int
xvs_params_port_options(json_t *params, struct xvs_port_cfg *cfg, bool live_only,
			struct xvs_err *err)
{
	json_t *opts = options_of(params);
	const char *key;
	json_t *v;
	int r;

	if (opts == NULL || json_is_null(opts))
		return xvs_port_cfg_validate(cfg, err);
	if (!json_is_object(opts))
		return xvs_err_set(err, -EINVAL, "\"options\" must be an object of key: value");
	/* vlan-mode first, so vlan/trunks/native are judged against the new mode */
	v = json_object_get(opts, "vlan-mode");
	if (v != NULL) {
		char val[512];

		r = xvs_param_value("vlan-mode", v, val, sizeof(val), err);
		if (r < 0 || (r = xvs_port_cfg_set(cfg, "vlan-mode", val, err)) < 0)
			return r;
	}
	json_object_foreach(opts, key, v) {
		char val[512];

		if (strcmp(key, "vlan-mode") == 0)
			continue;
		if (live_only && !live_key(key) && xvs_port_cfg_get(cfg, key, val, sizeof(val)) == 0)
			return xvs_err_set(err, -EBUSY,
					   "port %s: option \"%.64s\" cannot change on a running "
					   "port; delete the port and add it again",
					   cfg->name, key);
		r = xvs_param_value(key, v, val, sizeof(val), err);
		if (r < 0)
			return r;
		r = xvs_port_cfg_set(cfg, key, val, err);
		if (r < 0)
			return r;
	}
	return xvs_port_cfg_validate(cfg, err);
}

int
xvs_params_port_add(json_t *params, struct xvs_req_port_add *req, struct xvs_err *err)
{
	enum xvs_port_kind kind;
	int r;

	if ((r = xvs_param_str(params, "name", true, req->name, sizeof(req->name), err)) < 0 ||
	    (r = xvs_param_str(params, "kind", true, req->kind, sizeof(req->kind), err)) < 0)
		return r;
	if ((r = xvs_name_validate("port name", req->name, err)) < 0 ||
	    (r = xvs_port_kind_parse(req->kind, &kind, err)) < 0)
		return r;
	xvs_port_cfg_init(&req->cfg, req->name, kind);
	return xvs_params_port_options(params, &req->cfg, false, err);
}

int
xvs_params_rss_options(json_t *params, struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	json_t *opts = options_of(params);
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "rss.set needs \"options\": {key: value, ...}");
	json_object_foreach(opts, key, v) {
		char val[512], full[32];

		if (strcmp(key, "enabled") == 0)
			snprintf(full, sizeof(full), "rss");
		else
			snprintf(full, sizeof(full), "rss-%.24s", key);
		if (strcmp(full, "rss") != 0 &&
		    (strlen(key) > 24 || xvs_port_cfg_get(cfg, full, val, sizeof(val)) == -ENOENT))
			return xvs_err_set(err, -EINVAL,
					   "port %s: unknown rss setting \"%.32s\" (valid: enabled, "
					   "base-cpu, max-cpu, max-cpus, queues, profile, types, key, "
					   "reta-size)", cfg->name, key);
		r = xvs_param_value(key, v, val, sizeof(val), err);
		if (r < 0 || (r = xvs_port_cfg_set(cfg, full, val, err)) < 0)
			return r;
	}
	return xvs_port_cfg_validate(cfg, err);
}

static int
vlan_param(json_t *params, bool required, uint32_t *vid, struct xvs_err *err)
{
	char v[32];
	int r = xvs_param_str(params, "vlan", required, v, sizeof(v), err);

	if (r != 0)
		return r;
	return xvs_u32_parse("vlan", v, XVS_VLAN_MIN, XVS_VLAN_MAX, vid, err);
}

int
xvs_params_fdb_filter(json_t *params, struct xvs_req_fdb_filter *f, struct xvs_err *err)
{
	uint32_t vid;
	int r;

	f->vid = -1;
	r = xvs_param_str(params, "port", false, f->port, sizeof(f->port), err);
	if (r < 0)
		return r;
	r = vlan_param(params, false, &vid, err);
	if (r < 0)
		return r;
	if (r == 0)
		f->vid = (int32_t)vid;
	return 0;
}

int
xvs_params_fdb_static(json_t *params, bool need_port, struct xvs_req_fdb_static *s,
		      struct xvs_err *err)
{
	char m[64];
	int r;

	s->port[0] = '\0';
	if ((r = xvs_param_str(params, "mac", true, m, sizeof(m), err)) < 0 ||
	    (r = xvs_mac_parse("mac", m, s->mac, err)) < 0)
		return r;
	if (s->mac[0] & 1)
		return xvs_err_set(err, -EINVAL, "mac %s is a multicast address", m);
	xvs_mac_format(s->mac, s->mac_s);
	if ((r = vlan_param(params, true, &s->vid, err)) < 0)
		return r;
	if (need_port && (r = xvs_param_str(params, "port", true, s->port, sizeof(s->port),
					    err)) < 0)
		return r;
	return 0;
}

int
xvs_params_switch_set(json_t *params, struct xvs_switch_cfg *cfg, uint32_t max_workers,
		      struct xvs_err *err)
{
	json_t *opts = options_of(params);
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(opts) || json_object_size(opts) == 0)
		return xvs_err_set(err, -EINVAL, "switch set needs at least one key=value");
	json_object_foreach(opts, key, v) {
		char val[64];

		r = xvs_param_value(key, v, val, sizeof(val), err);
		if (r < 0)
			return r;
		r = xvs_switch_cfg_set(cfg, key, val, max_workers, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int
xvs_params_fault(json_t *params, struct xvs_req_fault *f, struct xvs_err *err)
{
	static const char *const points[] = {"publish", "commit", "apply", "none", NULL};
	char v[32];
	int r;

	if ((r = xvs_param_str(params, "point", true, f->point, sizeof(f->point), err)) < 0)
		return r;
	for (r = 0; points[r] != NULL && strcmp(points[r], f->point) != 0; r++)
		;
	if (points[r] == NULL)
		return xvs_err_set(err, -EINVAL, "fault point \"%s\": expected publish, commit, "
				   "apply or none", f->point);
	f->after = 0;
	f->count = 1;
	r = xvs_param_str(params, "after", false, v, sizeof(v), err);
	if (r < 0 || (r == 0 && (r = xvs_u32_parse("after", v, 0, 1000000, &f->after, err)) < 0))
		return r;
	r = xvs_param_str(params, "count", false, v, sizeof(v), err);
	if (r < 0 || (r == 0 && (r = xvs_u32_parse("count", v, 0, 1000000, &f->count, err)) < 0))
		return r;
	return 0;
}

/* A name parameter: present and not too long when required. */
static int
name_param(json_t *params, const char *key, bool required, struct xvs_err *err)
{
	char name[XVS_PARAM_NAME_LEN];
	int r = xvs_param_str(params, key, required, name, sizeof(name), err);

	return r < 0 ? r : 0;
}

int
xvs_params_check(const char *method, json_t *params, const struct xvs_port_cfg *base,
		 uint32_t max_workers, struct xvs_err *err)
{
	struct xvs_req_port_add add;
	struct xvs_req_fdb_filter f;
	struct xvs_req_fdb_static s;
	struct xvs_req_fault fault;
	struct xvs_switch_cfg sw;
	struct xvs_port_cfg cfg;
	int r;

	if (strcmp(method, "port.add") == 0)
		return xvs_params_port_add(params, &add, err);
	if (strcmp(method, "port.del") == 0)
		return name_param(params, "name", true, err);
	if (strcmp(method, "port.set") == 0 || strcmp(method, "rss.set") == 0) {
		if ((r = name_param(params, "name", true, err)) < 0)
			return r;
		if (base != NULL)
			cfg = *base;
		else
			xvs_port_cfg_init(&cfg, "p0", XVS_PORT_TAP);
		return method[0] == 'p' ? xvs_params_port_options(params, &cfg, true, err) :
					  xvs_params_rss_options(params, &cfg, err);
	}
	if (strcmp(method, "port.list") == 0 || strcmp(method, "port.stats") == 0 ||
	    strcmp(method, "rss.show") == 0 || strcmp(method, "queue.show") == 0)
		return name_param(params, "name", false, err);
	if (strcmp(method, "fdb.show") == 0 || strcmp(method, "fdb.flush") == 0)
		return xvs_params_fdb_filter(params, &f, err);
	if (strcmp(method, "fdb.add") == 0 || strcmp(method, "fdb.del") == 0)
		return xvs_params_fdb_static(params, method[4] == 'a', &s, err);
	if (strcmp(method, "switch.set") == 0) {
		xvs_switch_cfg_init(&sw);
		return xvs_params_switch_set(params, &sw, max_workers, err);
	}
	if (strcmp(method, "test.fault") == 0)
		return xvs_params_fault(params, &fault, err);
	if (strcmp(method, "worker.stats") == 0 || strcmp(method, "switch.show") == 0 ||
	    strcmp(method, "help") == 0)
		return 0;
	return xvs_err_set(err, -ENOENT, "unknown method \"%.64s\"", method);
}

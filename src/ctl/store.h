/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration store (control thread): SQLite in WAL mode with synchronous=FULL.
 *
 * Every change the control thread acknowledges has been committed here first,
 * so a kill -9 (or a power cut) right after the acknowledgement loses nothing.
 * On start xvsd rebuilds the whole switch from it. Only the control thread
 * uses the connection.
 *
 * Schema (version 6; PRAGMA user_version, migrated forward at open, a newer
 * one refused):
 *   port(name PK, kind, seq)            seq orders ports as they were added
 *   port_option(port, key, value)       every key of xvs_port_cfg_keys that applies
 *   fdb_static(mac, vlan, port)         static MAC entries
 *   setting(key PK, value)              switch settings (xvs_switch_cfg_keys)
 * Extensions (version 2). Rows are keyed by extension name, not tied to a
 * loaded object: they wait for their extension to be loaded.
 *   ext_module(path PK, seq)            objects loaded with ext.load, reloaded at start
 *   ext_port(ext, port)                 extension enabled on a port (gone with the port)
 *   ext_setting(ext, port, key, value)  settings; port "" holds the global ones
 *   ext_order(ext, rel, other, seq)     operator order: ext runs rel ("before",
 *                                       "after") other
 *   mirror(name PK, src, dst, dir)      mirror sessions (version 3), ports by name
 *   acl_rule(id PK, port, rule)         port ACL rules in canonical text (v4);
 *                                       id orders them (weight ties: lowest wins)
 *   balancer_setting(key PK, value)     queue balancer settings (v5, xvs_bal_cfg_keys)
 *   qos_class(name PK, spec)            QoS traffic classes (v6): spec is the
 *                                       class's options as JSON; rowid orders them
 */
#ifndef XVS_STORE_H
#define XVS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <xvs/xvs_ext.h>

#include "config.h"
#include "xvs_err.h"

struct xvs_store;

int xvs_store_open(const char *path, struct xvs_store **out, struct xvs_err *err);
void xvs_store_close(struct xvs_store *st);

/* Transactions: every mutation below runs inside begin/commit; rollback undoes. */
int xvs_store_begin(struct xvs_store *st, struct xvs_err *err);
int xvs_store_commit(struct xvs_store *st, struct xvs_err *err);
void xvs_store_rollback(struct xvs_store *st);

/* Insert or replace a port and all its options. */
int xvs_store_port_put(struct xvs_store *st, const struct xvs_port_cfg *cfg, struct xvs_err *err);
/* A port's place in the order of ports (seq), 0 when it is not stored; and
 * setting it back, for undoing a delete (restore opens ports in this order,
 * and their slots follow from it). */
int64_t xvs_store_port_seq(struct xvs_store *st, const char *name);
int xvs_store_port_set_seq(struct xvs_store *st, const char *name, int64_t seq,
			   struct xvs_err *err);
/* Delete a port with its options and static MACs. */
int xvs_store_port_del(struct xvs_store *st, const char *name, struct xvs_err *err);
int xvs_store_static_put(struct xvs_store *st, const char *mac, unsigned int vlan,
			 const char *port, struct xvs_err *err);
int xvs_store_static_del(struct xvs_store *st, const char *mac, unsigned int vlan,
			 struct xvs_err *err);
int xvs_store_setting_put(struct xvs_store *st, const char *key, const char *value,
			  struct xvs_err *err);

/* QoS traffic classes: insert (a new row, last in order) or delete one;
 * load them in order. */
int xvs_store_qos_class_put(struct xvs_store *st, const char *name, const char *spec,
			    struct xvs_err *err);
int xvs_store_qos_class_del(struct xvs_store *st, const char *name, struct xvs_err *err);
typedef int (*xvs_store_qos_class_cb)(const char *name, const char *spec, void *arg);
int xvs_store_load_qos_classes(struct xvs_store *st, xvs_store_qos_class_cb cb, void *arg,
			       struct xvs_err *err);

/* Insert or replace a mirror session; delete one. dir: in, out or both. */
int xvs_store_mirror_put(struct xvs_store *st, const char *name, const char *src, const char *dst,
			 const char *dir, struct xvs_err *err);
int xvs_store_mirror_del(struct xvs_store *st, const char *name, struct xvs_err *err);
typedef int (*xvs_store_mirror_cb)(const char *name, const char *src, const char *dst,
				   const char *dir, void *arg);
int xvs_store_load_mirrors(struct xvs_store *st, xvs_store_mirror_cb cb, void *arg,
			   struct xvs_err *err);
/* Port ACL rules. put inserts rule (canonical text) for port with *id, or
 * with a new id written to *id when *id <= 0. del removes rule id of port
 * (-ENOENT with a message when there is none), or every rule of the port
 * when id <= 0. */
int xvs_store_acl_put(struct xvs_store *st, const char *port, const char *rule, int64_t *id,
		      struct xvs_err *err);
int xvs_store_acl_del(struct xvs_store *st, const char *port, int64_t id, struct xvs_err *err);
typedef int (*xvs_store_acl_cb)(int64_t id, const char *rule, void *arg);
/* A port's rules in id order. */
int xvs_store_load_acl(struct xvs_store *st, const char *port, xvs_store_acl_cb cb, void *arg,
		       struct xvs_err *err);

/* How many stored ports are of kind (e.g. "pci"); 0 on error. */
int xvs_store_count_kind(struct xvs_store *st, const char *kind);

/* Loading, in the order a restore needs. Callbacks return 0 to go on. A row
 * that fails validation is reported through the callback's own error path. */
typedef int (*xvs_store_port_cb)(const char *name, const char *kind, void *arg);
typedef int (*xvs_store_kv_cb)(const char *key, const char *value, void *arg);
/* The balancer's settings (version 5: balancer_setting(key PK, value)). */
int xvs_store_balancer_put(struct xvs_store *st, const char *key, const char *value,
			   struct xvs_err *err);
int xvs_store_load_balancer(struct xvs_store *st, xvs_store_kv_cb cb, void *arg,
			    struct xvs_err *err);
typedef int (*xvs_store_static_cb)(const char *mac, unsigned int vlan, const char *port,
				   void *arg);
int xvs_store_load_settings(struct xvs_store *st, xvs_store_kv_cb cb, void *arg,
			    struct xvs_err *err);
int xvs_store_load_ports(struct xvs_store *st, xvs_store_port_cb cb, void *arg,
			 struct xvs_err *err);
int xvs_store_load_port_options(struct xvs_store *st, const char *port, xvs_store_kv_cb cb,
				void *arg, struct xvs_err *err);
int xvs_store_load_static(struct xvs_store *st, xvs_store_static_cb cb, void *arg,
			  struct xvs_err *err);

/* Extensions: each put runs inside begin/commit like the rest. */
int xvs_store_ext_module_put(struct xvs_store *st, const char *path, struct xvs_err *err);
int xvs_store_ext_module_del(struct xvs_store *st, const char *path, struct xvs_err *err);
/* on: insert the (ext, port) row; off: delete it. */
int xvs_store_ext_port_put(struct xvs_store *st, const char *ext, const char *port, bool on,
			   struct xvs_err *err);
/* Replace every setting of ext for port ("" = global) with kv[0..n). */
int xvs_store_ext_settings_put(struct xvs_store *st, const char *ext, const char *port,
			       const struct xvs_ext_kv *kv, unsigned n, struct xvs_err *err);
int xvs_store_ext_order_put(struct xvs_store *st, const char *ext, const char *rel,
			    const char *other, struct xvs_err *err);
int xvs_store_ext_order_del(struct xvs_store *st, const char *ext, const char *rel,
			    const char *other, struct xvs_err *err);

enum xvs_store_ext_table {
	XVS_STORE_EXT_MODULE,   /* columns: path */
	XVS_STORE_EXT_PORT,     /* ext, port */
	XVS_STORE_EXT_SETTING,  /* ext, port, key, value */
	XVS_STORE_EXT_ORDER,    /* ext, rel, other (rows naming ext on either side) */
};
/* A row's text columns. Returns 0 to go on. */
typedef int (*xvs_store_row_cb)(const char *const *col, unsigned n, void *arg);
/* Rows of table t in stored order, all of them (ext NULL) or those of ext
 * (for XVS_STORE_EXT_MODULE, ext is a path). */
int xvs_store_load_ext(struct xvs_store *st, enum xvs_store_ext_table t, const char *ext,
		       xvs_store_row_cb cb, void *arg, struct xvs_err *err);

#endif /* XVS_STORE_H */

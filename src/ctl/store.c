/* SPDX-License-Identifier: BSD-3-Clause */
/* SQLite configuration store (control thread); see store.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <rte_common.h>

#include "store.h"

struct xvs_store {
	sqlite3 *db;
};

/* Schema migrations: migrations[v] takes a database from user_version v to
 * v + 1. A new database runs them all; an existing one the ones it lacks, in
 * one transaction with the version bump. A feature that needs tables appends
 * one entry (never edits a published one); IF NOT EXISTS keeps each one safe
 * to run on a database that has the table already. */
static const char *const migrations[] = {
	/* 0 -> 1: ports, their options, static MACs, switch settings */
	"CREATE TABLE IF NOT EXISTS port(name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
	"  seq INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS port_option(port TEXT NOT NULL REFERENCES port(name)"
	"  ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(port, key));"
	"CREATE TABLE IF NOT EXISTS fdb_static(mac TEXT NOT NULL, vlan INTEGER NOT NULL,"
	"  port TEXT NOT NULL REFERENCES port(name) ON DELETE CASCADE, PRIMARY KEY(mac, vlan));"
	"CREATE TABLE IF NOT EXISTS setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 1 -> 2: extensions (store.h, "Extensions"). No foreign key from ext
	 * names: an extension's rows outlive its shared object. */
	"CREATE TABLE IF NOT EXISTS ext_module(path TEXT PRIMARY KEY, seq INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS ext_port(ext TEXT NOT NULL,"
	"  port TEXT NOT NULL REFERENCES port(name) ON DELETE CASCADE, PRIMARY KEY(ext, port));"
	"CREATE TABLE IF NOT EXISTS ext_setting(ext TEXT NOT NULL, port TEXT NOT NULL,"
	"  key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(ext, port, key));"
	"CREATE TABLE IF NOT EXISTS ext_order(ext TEXT NOT NULL, rel TEXT NOT NULL,"
	"  other TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(ext, rel, other));",
	/* 2 -> 3: mirror sessions; ports by name, not foreign keys: a session
	 * outlives a port deleted and added again */
	"CREATE TABLE IF NOT EXISTS mirror(name TEXT PRIMARY KEY, src TEXT NOT NULL,"
	"  dst TEXT NOT NULL, dir TEXT NOT NULL);",
	/* 3 -> 4: port ACL rules in canonical text; id orders them */
	"CREATE TABLE IF NOT EXISTS acl_rule(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  port TEXT NOT NULL REFERENCES port(name) ON DELETE CASCADE, rule TEXT NOT NULL);",
	/* 4 -> 5: the queue balancer's settings (xvs_bal_cfg_keys) */
	"CREATE TABLE IF NOT EXISTS balancer_setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 5 -> 6: QoS traffic classes; options as JSON, rowid orders them */
	"CREATE TABLE IF NOT EXISTS qos_class(name TEXT PRIMARY KEY, spec TEXT NOT NULL);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int
db_err(struct xvs_store *st, struct xvs_err *err, const char *what)
{
	return xvs_err_set(err, -EIO, "config store: %s: %s", what, sqlite3_errmsg(st->db));
}

static int
exec(struct xvs_store *st, const char *sql, struct xvs_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = xvs_err_set(err, -EIO, "config store: %s", msg ? msg : "error");

		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static int
user_version(struct xvs_store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Bring the schema to SCHEMA_VERSION; a database of a newer xvs is refused
 * rather than guessed at. */
static int
migrate(struct xvs_store *st, const char *path, struct xvs_err *err)
{
	int v = user_version(st), r;
	char bump[48];

	if (v < 0)
		return db_err(st, err, "PRAGMA user_version");
	if (v > SCHEMA_VERSION)
		return xvs_err_set(err, -EPROTO, "config store %s: schema version %d is newer than "
				   "this xvsd's %d; use the xvsd that wrote it", path, v,
				   SCHEMA_VERSION);
	if (v == SCHEMA_VERSION)
		return 0;
	r = exec(st, "BEGIN IMMEDIATE", err);
	for (int i = v; r == 0 && i < SCHEMA_VERSION; i++)
		r = exec(st, migrations[i], err);
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d;", SCHEMA_VERSION);
	if (r == 0)
		r = exec(st, bump, err);
	if (r == 0)
		r = exec(st, "COMMIT", err);
	if (r < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int
xvs_store_open(const char *path, struct xvs_store **out, struct xvs_err *err)
{
	struct xvs_store *st = calloc(1, sizeof(*st));
	int r;

	if (st == NULL)
		return xvs_err_set(err, -ENOMEM, "config store: out of memory");
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = xvs_err_set(err, -EIO, "config store %s: %s", path,
				st->db ? sqlite3_errmsg(st->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 2000);
	/* WAL + FULL: a commit is on disk before we acknowledge it. */
	r = exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		 err);
	if (r < 0)
		goto fail;
	r = migrate(st, path, err);
	if (r < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	sqlite3_close(st->db);
	free(st);
	return r;
}

void
xvs_store_close(struct xvs_store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

int
xvs_store_begin(struct xvs_store *st, struct xvs_err *err)
{
	return exec(st, "BEGIN IMMEDIATE", err);
}

int
xvs_store_commit(struct xvs_store *st, struct xvs_err *err)
{
	return exec(st, "COMMIT", err);
}

void
xvs_store_rollback(struct xvs_store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Prepare, bind text parameters (NULL-terminated list), step to completion. */
static int
run(struct xvs_store *st, struct xvs_err *err, const char *sql, const char *const *params)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "prepare");
	for (int i = 0; params != NULL && params[i] != NULL; i++)
		sqlite3_bind_text(s, i + 1, params[i], -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(st, err, sql);
	return 0;
}

int
xvs_store_port_put(struct xvs_store *st, const struct xvs_port_cfg *cfg, struct xvs_err *err)
{
	const char *kind = xvs_port_kind_name(cfg->kind);
	int r;

	{
		const char *p[] = {cfg->name, kind, NULL};

		r = run(st, err,
			"INSERT INTO port(name, kind, seq) VALUES(?1, ?2,"
			" (SELECT COALESCE(MAX(seq), 0) + 1 FROM port))"
			" ON CONFLICT(name) DO UPDATE SET kind = excluded.kind", p);
		if (r < 0)
			return r;
	}
	{
		const char *p[] = {cfg->name, NULL};

		r = run(st, err, "DELETE FROM port_option WHERE port = ?1", p);
		if (r < 0)
			return r;
	}
	for (const struct xvs_cfg_key *k = xvs_port_cfg_keys; k->key != NULL; k++) {
		char val[512];

		if (!(k->kinds & (1u << cfg->kind)))
			continue;
		if (xvs_port_cfg_get(cfg, k->key, val, sizeof(val)) < 0)
			continue;
		const char *p[] = {cfg->name, k->key, val, NULL};

		r = run(st, err, "INSERT INTO port_option(port, key, value) VALUES(?1, ?2, ?3)", p);
		if (r < 0)
			return r;
	}
	return 0;
}

int64_t
xvs_store_port_seq(struct xvs_store *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	int64_t seq = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT seq FROM port WHERE name = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		seq = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return seq;
}

int
xvs_store_port_set_seq(struct xvs_store *st, const char *name, int64_t seq, struct xvs_err *err)
{
	char v[24];

	snprintf(v, sizeof(v), "%lld", (long long)seq);
	const char *p[] = {name, v, NULL};

	return run(st, err, "UPDATE port SET seq = ?2 WHERE name = ?1", p);
}

int
xvs_store_port_del(struct xvs_store *st, const char *name, struct xvs_err *err)
{
	const char *p[] = {name, NULL};
	int r = run(st, err, "DELETE FROM port WHERE name = ?1", p);

	/* ext_port rows go by the foreign key; per-port settings have none
	 * (port "" holds the global ones) */
	if (r == 0)
		r = run(st, err, "DELETE FROM ext_setting WHERE port = ?1 AND port <> ''", p);
	return r;
}

int
xvs_store_static_put(struct xvs_store *st, const char *mac, unsigned int vlan, const char *port,
		     struct xvs_err *err)
{
	char v[8];

	snprintf(v, sizeof(v), "%u", vlan);
	const char *p[] = {mac, v, port, NULL};

	return run(st, err, "INSERT OR REPLACE INTO fdb_static(mac, vlan, port) VALUES(?1, ?2, ?3)",
		   p);
}

int
xvs_store_static_del(struct xvs_store *st, const char *mac, unsigned int vlan, struct xvs_err *err)
{
	char v[8];

	snprintf(v, sizeof(v), "%u", vlan);
	const char *p[] = {mac, v, NULL};

	return run(st, err, "DELETE FROM fdb_static WHERE mac = ?1 AND vlan = ?2", p);
}

int
xvs_store_setting_put(struct xvs_store *st, const char *key, const char *value,
		      struct xvs_err *err)
{
	const char *p[] = {key, value, NULL};

	return run(st, err, "INSERT OR REPLACE INTO setting(key, value) VALUES(?1, ?2)", p);
}

int
xvs_store_balancer_put(struct xvs_store *st, const char *key, const char *value,
		       struct xvs_err *err)
{
	const char *p[] = {key, value, NULL};

	return run(st, err, "INSERT OR REPLACE INTO balancer_setting(key, value) VALUES(?1, ?2)",
		   p);
}

/* Run a query with optional text parameters and hand each row's text columns to
 * fn. */
typedef int (*row_fn)(sqlite3_stmt *s, void *cb, void *arg);

static int
query(struct xvs_store *st, struct xvs_err *err, const char *sql, const char *param, row_fn fn,
      void *cb, void *arg)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "prepare");
	if (param != NULL)
		sqlite3_bind_text(s, 1, param, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = fn(s, cb, arg);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(st, err, sql);
	sqlite3_finalize(s);
	return r;
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

int
xvs_store_acl_put(struct xvs_store *st, const char *port, const char *rule, int64_t *id,
		  struct xvs_err *err)
{
	char v[24];
	int r;

	snprintf(v, sizeof(v), "%lld", (long long)*id);
	{
		const char *p[] = {port, rule, v, NULL};

		r = run(st, err,
			*id > 0 ? "INSERT INTO acl_rule(port, rule, id) VALUES(?1, ?2, ?3)"
				: "INSERT INTO acl_rule(port, rule) VALUES(?1, ?2)",
			*id > 0 ? p : (const char *[]){port, rule, NULL});
	}
	if (r == 0 && *id <= 0)
		*id = sqlite3_last_insert_rowid(st->db);
	return r;
}

int
xvs_store_acl_del(struct xvs_store *st, const char *port, int64_t id, struct xvs_err *err)
{
	char v[24];
	int r;

	snprintf(v, sizeof(v), "%lld", (long long)id);
	const char *p[] = {port, id > 0 ? v : NULL, NULL};

	r = run(st, err, id > 0 ? "DELETE FROM acl_rule WHERE port = ?1 AND id = ?2"
				: "DELETE FROM acl_rule WHERE port = ?1", p);
	if (r == 0 && id > 0 && sqlite3_changes(st->db) == 0)
		return xvs_err_set(err, -ENOENT, "port %s has no ACL rule %lld (see: xvsctl acl "
				   "show %s)", port, (long long)id, port);
	return r;
}

static int
acl_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((xvs_store_acl_cb)cb)(sqlite3_column_int64(s, 0), col(s, 1), arg);
}

int
xvs_store_load_acl(struct xvs_store *st, const char *port, xvs_store_acl_cb cb, void *arg,
		   struct xvs_err *err)
{
	return query(st, err, "SELECT id, rule FROM acl_rule WHERE port = ?1 ORDER BY id", port,
		     acl_row, (void *)cb, arg);
}

static int
kv_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((xvs_store_kv_cb)cb)(col(s, 0), col(s, 1), arg);
}

static int
port_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((xvs_store_port_cb)cb)(col(s, 0), col(s, 1), arg);
}

static int
static_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((xvs_store_static_cb)cb)(col(s, 0), (unsigned int)sqlite3_column_int(s, 1),
					 col(s, 2), arg);
}

int
xvs_store_load_settings(struct xvs_store *st, xvs_store_kv_cb cb, void *arg, struct xvs_err *err)
{
	return query(st, err, "SELECT key, value FROM setting ORDER BY key", NULL, kv_row,
		     (void *)cb, arg);
}

int
xvs_store_load_balancer(struct xvs_store *st, xvs_store_kv_cb cb, void *arg, struct xvs_err *err)
{
	return query(st, err, "SELECT key, value FROM balancer_setting ORDER BY key", NULL, kv_row,
		     (void *)cb, arg);
}

int
xvs_store_load_ports(struct xvs_store *st, xvs_store_port_cb cb, void *arg, struct xvs_err *err)
{
	return query(st, err, "SELECT name, kind FROM port ORDER BY seq", NULL, port_row,
		     (void *)cb, arg);
}

int
xvs_store_load_port_options(struct xvs_store *st, const char *port, xvs_store_kv_cb cb,
			    void *arg, struct xvs_err *err)
{
	/* vlan-mode first: the other VLAN keys are read in its light */
	return query(st, err,
		     "SELECT key, value FROM port_option WHERE port = ?1"
		     " ORDER BY key <> 'vlan-mode', key", port, kv_row, (void *)cb, arg);
}

int
xvs_store_load_static(struct xvs_store *st, xvs_store_static_cb cb, void *arg,
		      struct xvs_err *err)
{
	return query(st, err, "SELECT mac, vlan, port FROM fdb_static ORDER BY rowid", NULL,
		     static_row, (void *)cb, arg);
}

int
xvs_store_mirror_put(struct xvs_store *st, const char *name, const char *src, const char *dst,
		     const char *dir, struct xvs_err *err)
{
	const char *p[] = {name, src, dst, dir, NULL};

	return run(st, err, "INSERT OR REPLACE INTO mirror(name, src, dst, dir) VALUES(?1, ?2, ?3, ?4)",
		   p);
}

int
xvs_store_mirror_del(struct xvs_store *st, const char *name, struct xvs_err *err)
{
	const char *p[] = {name, NULL};

	return run(st, err, "DELETE FROM mirror WHERE name = ?1", p);
}

int
xvs_store_qos_class_put(struct xvs_store *st, const char *name, const char *spec,
			struct xvs_err *err)
{
	const char *p[] = {name, spec, NULL};

	return run(st, err, "INSERT OR REPLACE INTO qos_class(name, spec) VALUES(?1, ?2)", p);
}

int
xvs_store_qos_class_del(struct xvs_store *st, const char *name, struct xvs_err *err)
{
	const char *p[] = {name, NULL};

	return run(st, err, "DELETE FROM qos_class WHERE name = ?1", p);
}

static int
qos_class_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((xvs_store_qos_class_cb)cb)(col(s, 0), col(s, 1), arg);
}

int
xvs_store_load_qos_classes(struct xvs_store *st, xvs_store_qos_class_cb cb, void *arg,
			   struct xvs_err *err)
{
	return query(st, err, "SELECT name, spec FROM qos_class ORDER BY rowid", NULL,
		     qos_class_row, (void *)cb, arg);
}

static int
mirror_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((xvs_store_mirror_cb)cb)(col(s, 0), col(s, 1), col(s, 2), col(s, 3), arg);
}

int
xvs_store_load_mirrors(struct xvs_store *st, xvs_store_mirror_cb cb, void *arg,
		       struct xvs_err *err)
{
	return query(st, err, "SELECT name, src, dst, dir FROM mirror ORDER BY rowid", NULL,
		     mirror_row, (void *)cb, arg);
}

int
xvs_store_count_kind(struct xvs_store *st, const char *kind)
{
	sqlite3_stmt *s = NULL;
	int n = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT COUNT(*) FROM port WHERE kind = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* ---- extensions ---- */

int
xvs_store_ext_module_put(struct xvs_store *st, const char *path, struct xvs_err *err)
{
	const char *p[] = {path, NULL};

	return run(st, err,
		   "INSERT OR IGNORE INTO ext_module(path, seq) VALUES(?1,"
		   " (SELECT COALESCE(MAX(seq), 0) + 1 FROM ext_module))", p);
}

int
xvs_store_ext_module_del(struct xvs_store *st, const char *path, struct xvs_err *err)
{
	const char *p[] = {path, NULL};

	return run(st, err, "DELETE FROM ext_module WHERE path = ?1", p);
}

int
xvs_store_ext_port_put(struct xvs_store *st, const char *ext, const char *port, bool on,
		       struct xvs_err *err)
{
	const char *p[] = {ext, port, NULL};

	return run(st, err,
		   on ? "INSERT OR IGNORE INTO ext_port(ext, port) VALUES(?1, ?2)"
		      : "DELETE FROM ext_port WHERE ext = ?1 AND port = ?2", p);
}

int
xvs_store_ext_settings_put(struct xvs_store *st, const char *ext, const char *port,
			   const struct xvs_ext_kv *kv, unsigned n, struct xvs_err *err)
{
	const char *p[] = {ext, port, NULL};
	int r = run(st, err, "DELETE FROM ext_setting WHERE ext = ?1 AND port = ?2", p);

	for (unsigned i = 0; r == 0 && i < n; i++) {
		const char *q[] = {ext, port, kv[i].key, kv[i].value, NULL};

		r = run(st, err,
			"INSERT INTO ext_setting(ext, port, key, value) VALUES(?1, ?2, ?3, ?4)", q);
	}
	return r;
}

int
xvs_store_ext_order_put(struct xvs_store *st, const char *ext, const char *rel,
			const char *other, struct xvs_err *err)
{
	const char *p[] = {ext, rel, other, NULL};

	return run(st, err,
		   "INSERT OR IGNORE INTO ext_order(ext, rel, other, seq) VALUES(?1, ?2, ?3,"
		   " (SELECT COALESCE(MAX(seq), 0) + 1 FROM ext_order))", p);
}

int
xvs_store_ext_order_del(struct xvs_store *st, const char *ext, const char *rel,
			const char *other, struct xvs_err *err)
{
	const char *p[] = {ext, rel, other, NULL};

	return run(st, err, "DELETE FROM ext_order WHERE ext = ?1 AND rel = ?2 AND other = ?3",
		   p);
}

static int
rows_row(sqlite3_stmt *s, void *cb, void *arg)
{
	const char *c[4];
	int n = sqlite3_column_count(s);

	for (int i = 0; i < n && i < 4; i++)
		c[i] = col(s, i);
	return ((xvs_store_row_cb)cb)(c, (unsigned)(n < 4 ? n : 4), arg);
}

int
xvs_store_load_ext(struct xvs_store *st, enum xvs_store_ext_table t, const char *ext,
		   xvs_store_row_cb cb, void *arg, struct xvs_err *err)
{
	static const char *const all[] = {
		[XVS_STORE_EXT_MODULE] = "SELECT path FROM ext_module ORDER BY seq",
		[XVS_STORE_EXT_PORT] = "SELECT ext, port FROM ext_port ORDER BY ext, rowid",
		[XVS_STORE_EXT_SETTING] = "SELECT ext, port, key, value FROM ext_setting"
					  " ORDER BY ext, port, key",
		[XVS_STORE_EXT_ORDER] = "SELECT ext, rel, other FROM ext_order ORDER BY seq",
	};
	static const char *const one[] = {
		[XVS_STORE_EXT_MODULE] = "SELECT path FROM ext_module WHERE path = ?1",
		[XVS_STORE_EXT_PORT] = "SELECT ext, port FROM ext_port WHERE ext = ?1"
				       " ORDER BY rowid",
		[XVS_STORE_EXT_SETTING] = "SELECT ext, port, key, value FROM ext_setting"
					  " WHERE ext = ?1 ORDER BY port, key",
		[XVS_STORE_EXT_ORDER] = "SELECT ext, rel, other FROM ext_order"
					" WHERE ext = ?1 OR other = ?1 ORDER BY seq",
	};

	return query(st, err, ext != NULL ? one[t] : all[t], ext, rows_row, (void *)cb, arg);
}

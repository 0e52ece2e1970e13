/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl's command tables and the helpers feature files share. Each feature
 * (port, fdb, rss, acl, ext, ...) has its commands in a table of its own,
 * listed once in xvsctl.c (xvsctl_tables); a command's words, RPC method,
 * argument mapping, help and printer live together in its feature's file.
 */
#ifndef XVSCTL_H
#define XVSCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/xvs/xvsd.sock"

enum argmode {
	ARGS_NONE,       /* no arguments */
	ARGS_NAME_KV,    /* NAME [key=value ...] -> name, options */
	ARGS_NAME_KIND_KV, /* NAME KIND [key=value ...] -> name, kind, options */
	ARGS_NAME,       /* NAME -> name */
	ARGS_OPT_NAME,   /* [NAME] -> name */
	ARGS_FILTER,     /* [key=value ...] -> params */
	ARGS_MAC_KV,     /* MAC key=value ... -> mac, params */
	ARGS_KV,         /* key=value ... -> options */
	ARGS_PORT,       /* PORT -> port */
	ARGS_PORT_FILE_KV, /* PORT FILE [key=value ...] -> port, file, options */
	ARGS_NAME_ID,    /* NAME ID -> name, id */
};

typedef void (*print_fn)(json_t *result);

struct cmd;

/* A command with its own loop and options (top): gets the words after the
 * command and returns the exit status. */
typedef int (*run_fn)(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv);

struct cmd {
	const char *words[2];
	const char *method;
	enum argmode args;   /* ignored when run is set */
	const char *usage;
	const char *help;
	print_fn print;
	run_fn run;          /* NULL: one request, print the reply */
};

/* A feature's commands: NULL-method-terminated, plus lines for --help's
 * option section ("" for none). */
struct cmd_table {
	const struct cmd *cmds;
	const char *options_help;
};

/* Features' tables (cli/<feature>.c). */
extern const struct cmd port_cmds[];
extern const char port_options_help[];
extern const struct cmd top_cmds[];     /* worker stats, top */
extern const char top_options_help[];
extern const struct cmd rss_cmds[];
extern const char rss_options_help[];
extern const struct cmd fdb_cmds[];
extern const struct cmd switch_cmds[];
extern const struct cmd queue_cmds[];
extern const struct cmd balancer_cmds[];
extern const struct cmd vmq_cmds[];
extern const struct cmd mirror_cmds[];
extern const char mirror_options_help[];
extern const struct cmd capture_cmds[];
extern const char capture_options_help[];
extern const struct cmd xvsctl_acl_cmds[];
extern const struct cmd qos_cmds[];
/* xvsctl top's QoS section (cli/qos.c): per scheduling port and class its
 * offered, sent and dropped rates, share of the link and queue, from
 * qos.show; nothing when no port schedules. Rates against the previous
 * call (none on the first). In the rows of a terminal (0: no limit) that
 * top's header and n_workers rows leave, lines cut to cols. */
void qos_top_section(const char *sock, int cols, int rows, size_t n_workers);
extern const char qos_options_help[];
extern const char xvsctl_acl_help[];

/* Helpers for feature files. */
const char *s(json_t *o, const char *k);   /* string member or "-" */
long long i(json_t *o, const char *k);     /* integer member or 0 */
void print_kv(json_t *r);                  /* key: value lines */
/* The ports of a list result, or the one port a port.add / port.set /
 * rss.set result is; new reference (port.c). */
json_t *ports_of(json_t *r);
/* A port's learning state; all false: only when something was refused (fdb.c). */
void print_fdb_port(const char *name, json_t *f, bool all);
/* A reply's error: the message on stderr (and with as_json the reply on
 * stdout); returns the exit status 1. */
int print_error(json_t *reply, bool as_json);
int fail_usage(const char *msg, const char *arg); /* one line on stderr, returns 2 */
int kv_into(json_t *obj, int argc, char **argv);   /* key=value words; 0 or 2 */
/* One request, one reply; NULL with a line in why on failure. */
json_t *call(const char *path, json_t *req, int timeout_ms, char *why, size_t why_len);

/* Send c->method with params (reference taken over), print the reply the
 * way every command does; returns the exit status. For run functions. */
int request(const struct cmd *c, const char *sock, bool as_json, json_t *params);

/* The features' tables (cli/<feature>.c). */
extern const struct cmd ext_cmds[];
#define EXT_OPTIONS_HELP \
	"\next: \"ext set NAME [port=PORT] key=value ...\" changes the extension's settings\n" \
	"  (global, or of one port); key= (empty) removes a setting. ext load PATH keeps the\n" \
	"  object loaded across restarts until ext unload NAME (or PATH).\n"

#endif /* XVSCTL_H */

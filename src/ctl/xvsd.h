/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsd control thread: the one owner of configuration and decisions.
 *
 * Change order for every request (STYLE 7): validate everything (a new
 * port's device is opened here, unseen by any worker), store in SQLite
 * (commit), apply to devices and the FDB, publish a snapshot, then
 * acknowledge. A rejected request changes nothing. When a step after the
 * commit fails, the handler puts back the running state it changed and
 * commits the previous configuration again (cmd.c, store_restore_*), so the
 * store and the running switch never disagree after a reply; only if that
 * second commit fails too do they, and xvsd logs it at ERR.
 *
 * Fault injection: with --test-faults, the test.fault method arms a point
 * (publish, commit, apply) to fail on its next hits, so the e2e tests can
 * drive the paths above. Without the flag the method is refused and the
 * points cost one branch on the control thread.
 */
#ifndef XVSD_H
#define XVSD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "dp.h"
#include "port.h"
#include "store.h"

struct xvsd {
	struct xvs_store *store;
	struct xvs_switch_cfg sw;                 /* switch settings in force */
	struct xvs_port *port[XVS_MAX_PORTS];     /* NULL = free slot */
	uint64_t gen;                             /* last snapshot generation */
	bool republish;                           /* a publish after the switch had
						   * changed failed: retry on the tick */
	bool test_faults;                         /* --test-faults: test.fault allowed */
	const char *ext_dir;                      /* --ext-dir: extensions loaded at start */
	struct xvsd_fault {                       /* an armed fault point */
		uint32_t after;                   /* hits that still succeed */
		uint32_t count;                   /* then this many fail */
		uint64_t fired;                   /* failures injected so far */
	} fault[3];                               /* enum xvsd_fault_point */
	struct xvsd_watch {                       /* an rx fd in a worker's epoll set */
		int fd;
		uint64_t data;                    /* epoll_event.data.u64 (dp.h, XVS_EV_LAZY) */
	} worker_fd[XVS_MAX_WORKERS][XVS_MAX_RXQ_PER_WORKER];
	uint16_t n_worker_fd[XVS_MAX_WORKERS];
	bool hugepages;                           /* EAL started on hugepages */
	bool pci_bus;                             /* EAL scans the PCI bus */
	/* control-thread counters (learning is counted by the FDB's own stats) */
	uint64_t rpc_requests;
	uint64_t rpc_errors;
	uint32_t rpc_clients;                     /* connections open now */
	uint64_t rpc_idle_closed;                 /* closed after --client-timeout idle */
	uint64_t rpc_evicted;                     /* closed to make room for a new one */
	/* last worker sample, for busy % over the last interval */
	uint64_t prev_busy[XVS_MAX_WORKERS], prev_idle[XVS_MAX_WORKERS];
	uint64_t prev_sleep[XVS_MAX_WORKERS];
	double busy_pct[XVS_MAX_WORKERS];
	uint64_t prev_rx[XVS_MAX_WORKERS];
	double rx_pps[XVS_MAX_WORKERS];
	uint64_t prev_switched[XVS_MAX_WORKERS];
	double switched_pps[XVS_MAX_WORKERS];
	uint64_t prev_rss_in[XVS_MAX_WORKERS], prev_rss_out[XVS_MAX_WORKERS];
	double rss_in_pps[XVS_MAX_WORKERS], rss_out_pps[XVS_MAX_WORKERS];
	uint64_t prev_sample_tsc;
	uint64_t fences;                          /* queue moves fenced (switch.c, handoff_fence) */
};

extern struct xvsd xvsd;

/* Nanoseconds on the datapath's clock (TSC), the FDB's timebase. */
uint64_t xvs_now_ns(void);

/* Settings only: read before the FDB (fdb-max, aging) is created. */
int xvsd_restore_settings(struct xvs_err *err);
/* Ports and static MACs, then publish. */
int xvsd_restore(struct xvs_err *err);
/* Build a snapshot of the port table and settings and swap it in; returns
 * once no worker can see the previous one. All or nothing: on failure
 * (-ENOMEM, or the publish fault point) no snapshot was swapped, no port's
 * state was touched, and every worker still runs on the previous snapshot,
 * so whatever only the new one would have dropped may not be freed. */
int xvsd_publish(void);

enum xvsd_fault_point {
	XVSD_FAULT_PUBLISH,   /* xvsd_publish() fails with -ENOMEM before it builds anything */
	XVSD_FAULT_COMMIT,    /* a command's store commit fails with -EIO */
	XVSD_FAULT_APPLY,     /* a command's device/FDB change fails (port.set mtu, fdb.add) */
};
/* True when the point is armed and this hit must fail (counts it). */
bool xvsd_fault(enum xvsd_fault_point p);
void xvsd_drain_learn(void);
/* After a port left the snapshot: wait (up to 100 ms) until no frame of it
 * waits in a software-RSS hand-off ring, before its slot may be reused. */
void xvsd_rss_rings_wait_empty(void);
void xvsd_tick(void);

/* Busy cycles busy_tsc since *prev (which it then becomes) as a % of dt_tsc
 * cycles: a queue's share of one worker (0 when the counter went back). */
double xvsd_busy_share(uint64_t busy_tsc, uint64_t *prev, uint64_t dt_tsc);

/* Rx queue q of port p's counters, summed over the workers (control thread). */
void xvsd_rxq_counters(const struct xvs_port *p, uint16_t q, struct xvs_rxq_counters *sum);

/* Port security (guard.c): enable and configure the guard stages on p as its
 * options say (before the publish that puts them in force); forget p's
 * stages and sticky MACs when it goes; adopt sticky MACs (1 s tick); the
 * stages enabled on p and its adopted MACs, for port show. */
int xvsd_guard_apply(const struct xvs_port *p, struct xvs_err *err);
void xvsd_guard_port_removed(const struct xvs_port *p);
void xvsd_guard_tick(void);
json_t *xvsd_guard_json(const struct xvs_port *p);
json_t *xvsd_guard_sticky_json(const struct xvs_port *p);
/* Once a second after the load sample (dt_tsc since the previous one):
 * conservative profile grows/shrinks the workers in use and takes a growth
 * back when it did not raise the port's capacity, closest rebalances the
 * software RETA. Publishes on change. */
void xvsd_rss_tick(uint64_t dt_tsc);
/* One step of port p's conservative RSS controller (xvs_rss_conservative_step)
 * from busy_w[] (busy % by worker index) and the port's rate: sets p->rss_k
 * (*changed: the worker count changed, to be published by the caller) and
 * logs the verdict under module mod: "rss" from xvsd_rss_tick, "balancer"
 * when the balancer runs it as its client (one controller). */
enum xvs_rss_cons_verdict xvsd_rss_conservative(struct xvs_port *p, const double *busy_w,
						double rx_pps, uint64_t now_ns, const char *mod,
						bool *changed);
void xvsd_shutdown_ports(void);

/* The queue balancer loop (balancer.c). init: settings at their defaults
 * (off), the workers' topology, and a timerfd at the interval, returned for
 * the control loop, which calls tick when it fires; restore: the stored
 * settings (after the ports); apply: settings checked by the caller, in
 * force (a new interval re-arms the timer; disabling puts every queue back
 * where RSS places it and publishes); json: balancer.show's result. */
struct xvs_bal_cfg;
int xvsd_balancer_init(void);
void xvsd_balancer_close(void);
void xvsd_balancer_tick(void);
int xvsd_balancer_restore(struct xvs_err *err);
int xvsd_balancer_apply(const struct xvs_bal_cfg *cfg, struct xvs_err *err);
const struct xvs_bal_cfg *xvsd_balancer_cfg(void);
/* Workers that poll: switch workers=, at most the workers started. */
uint16_t xvsd_workers_active(void);
bool xvsd_balancer_enabled(void);
json_t *xvsd_balancer_json(void);

struct xvs_port *xvsd_port_find(const char *name);
/* port.add in two halves (cmd_port.c), for port.add and port.add_many: open
 * the port params describe and put it in the store's open transaction; and
 * take such ports back (stored: their transaction was committed) before any
 * snapshot showed them. */
int xvsd_port_add_open(json_t *params, struct xvs_port **out, struct xvs_err *err);
void xvsd_port_add_undo(struct xvs_port **p, unsigned n, bool stored, struct xvs_err *err);

/* Worker w's own CPU, the first of its lcore's CPU set: where it runs under
 * load (asleep it may run on any CPU, see worker.c). */
uint16_t xvsd_worker_cpu(uint16_t w);
void xvsd_worker_cpus(uint16_t *cpu, uint16_t n);

/* Extensions (cmd_ext.c). At start-up, after the ports and before the first
 * publish: load every *.so of --ext-dir, then the objects stored by ext.load,
 * and replay each one's stored settings, ports and order. A refused object is
 * one ERR line; xvsd goes on. Returns how many were loaded. */
int xvsd_ext_restore(void);

/* Steps shared by every command (cmd.c). Commit the open transaction (the
 * commit fault point applies); on failure it is rolled back. */
int xvsd_store_commit(struct xvs_err *err);
/* xvsd_publish() with the message a client gets when it fails. */
int xvsd_publish_err(struct xvs_err *err);
/* A step after the commit failed (err says which) and the running state is
 * back as it was: commit what was stored before, run by undo(st, arg). If
 * that fails too, store and switch disagree until the next restart: say so
 * to the operator, in the log and in the reply. */
void xvsd_store_restore(int (*undo)(struct xvs_store *st, void *arg, struct xvs_err *e),
			void *arg, struct xvs_err *err);

/* Mirror sessions (cmd_mirror.c). sync: give the mirror stage every port's
 * sessions as they stand (ports come and go), called by xvsd_publish before
 * it builds a snapshot; restore: load the stored sessions (start-up, before
 * the first publish); port_mirrored: copies sent to port by its sessions. */
void xvsd_mirror_sync(void);
int xvsd_mirror_restore(struct xvs_err *err);
uint64_t xvsd_mirror_port_mirrored(const char *port);

/* Captures (cmd_capture.c), runtime only. The control loop waits at most
 * poll_ms (-1: no capture runs) and then calls poll, which writes what the
 * workers copied and stops captures that reached their limit; shutdown
 * closes every file once the workers have stopped. */
#define XVS_CAPTURE_POLL_MS 10
int xvsd_capture_poll_ms(void);
void xvsd_capture_poll(void);
void xvsd_capture_shutdown(void);

/* RPC method handlers: params in, result out (new reference), or error in err. */
typedef int (*xvsd_method_fn)(json_t *params, json_t **result, struct xvs_err *err);
struct xvsd_method {
	const char *name;
	xvsd_method_fn fn;
	const char *help;
};
/* Each feature's methods are a NULL-name-terminated table in its own
 * cmd_<feature>.c; xvsd_method_tables (rpc.c) lists every table once. */
extern const struct xvsd_method xvsd_port_methods[];   /* cmd_port.c */
extern const struct xvsd_method xvsd_worker_methods[]; /* cmd_worker.c */
extern const struct xvsd_method xvsd_rss_methods[];    /* cmd_rss.c */
extern const struct xvsd_method xvsd_fdb_methods[];    /* cmd_fdb.c */
extern const struct xvsd_method xvsd_switch_methods[]; /* cmd_switch.c */
extern const struct xvsd_method xvsd_methods[];        /* cmd.c: test.fault, help */
extern const struct xvsd_method xvsd_queue_methods[];
extern const struct xvsd_method xvsd_pipeline_methods[];
extern const struct xvsd_method xvsd_ext_methods[];   /* cmd_ext.c */

extern const struct xvsd_method xvsd_mirror_methods[];
extern const struct xvsd_method xvsd_capture_methods[];
extern const struct xvsd_method *const xvsd_method_tables[];
extern const struct xvsd_method xvsd_acl_methods[];
extern const struct xvsd_method xvsd_balancer_methods[]; /* cmd_balancer.c */
extern const struct xvsd_method xvsd_vmq_methods[];   /* cmd_vmq.c */
extern const struct xvsd_method xvsd_port_batch_methods[]; /* cmd_port_batch.c */

/* Port ACLs (cmd_acl.c): compile every port's stored rules (restore, before
 * its publish). */
int xvsd_acl_restore(struct xvs_err *err);

/* Egress QoS (cmd_qos.c). check_port / check_switch: would every
 * scheduling port's model stay valid with port p's configuration cfg (p may
 * be a port being added, not yet in the table: its name must not be a
 * class's), or with switch settings sw (a bandwidth-mode change is refused
 * while minimums are set), or without port p (check_port_del)? Settings
 * that cannot work on any port are refused even while no port schedules.
 * fill: while
 * building snapshot s, give port slot its scheduling point and plan if it
 * has qos=on; published: after the swap, free what the previous snapshot
 * alone used. queued / flushed: frames waiting at the slot's scheduling
 * point, and dropped when its QoS went away (port stats). */
extern const struct xvsd_method xvsd_qos_methods[];
int xvsd_qos_check_port(const struct xvs_port *p, const struct xvs_port_cfg *cfg,
			struct xvs_err *err);
int xvsd_qos_check_switch(const struct xvs_switch_cfg *sw, struct xvs_err *err);
int xvsd_qos_check_port_del(const struct xvs_port *p, struct xvs_err *err);
/* The QoS hand-off rings of every scheduling port into out[0..max), for the
 * queue-move fence (switch.c); returns how many. */
#define XVSD_QOS_RINGS_PER_PORT 16
unsigned int xvsd_qos_rings(struct rte_ring **out, unsigned int max);
/* Every second (xvsd_tick): republish when a scheduling port without
 * link-rate reports a link speed it had not (a vhost guest attached, an
 * ethdev link up after a start without it); a link that goes down keeps the
 * last speed it reported. */
void xvsd_qos_tick(void);
/* Wait until the frames in every hand-off ring now (software RSS, port tx,
 * QoS) have left them: after a snapshot that took queues from their
 * pollers, before the one that gives them to others (switch.c). */
void xvsd_handoff_fence(void);
void xvsd_qos_fill(struct xvs_snapshot *s, uint16_t slot);
/* After a publication is in force; true if it must be followed by another
 * at once (a QoS owner moves: see xvsd_qos_fill). */
bool xvsd_qos_published(void);
/* Does the snapshot being built move a QoS owner (ports without owner)? */
bool xvsd_qos_moving(void);
/* Give the ports without owner in s (a copy of the snapshot being built)
 * their new owners. Only once a snapshot without them was in force (its
 * grace period over: the old owner is past). final: s is the snapshot being
 * built itself (no follow-up publication then). */
void xvsd_qos_hand_over(struct xvs_snapshot *s, bool final);
uint64_t xvsd_qos_queued(uint16_t slot);
uint64_t xvsd_qos_flushed(uint16_t slot);
int xvsd_qos_restore(struct xvs_err *err);

/* Handle one request line; returns the response (new reference). */
json_t *xvsd_rpc_handle(const char *line, size_t len);

#endif /* XVSD_H */

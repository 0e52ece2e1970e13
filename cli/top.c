/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xvsctl worker stats and top: per-worker load, rates and queues
 * (worker.stats), once or as a live screen.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "xvsctl.h"

static void
print_workers(json_t *r)
{
	json_t *w;
	size_t idx;

	printf("%-6s %-4s %-6s %6s %12s %14s %14s  %s\n", "WORKER", "CPU", "ACTIVE", "BUSY%",
	       "RX_PPS", "RX_PACKETS", "TX_PACKETS", "QUEUES");
	json_array_foreach(json_object_get(r, "workers"), idx, w) {
		char qs[512] = "";
		json_t *q;
		size_t j;

		json_array_foreach(json_object_get(w, "queues"), j, q) {
			strncat(qs, j ? " " : "", sizeof(qs) - strlen(qs) - 1);
			strncat(qs, json_string_value(q), sizeof(qs) - strlen(qs) - 1);
		}
		printf("%-6lld %-4lld %-6s %6.1f %12.0f %14lld %14lld  %s\n", i(w, "worker"),
		       i(w, "cpu"),
		       json_is_true(json_object_get(w, "parked")) ? "parked" :
		       json_is_true(json_object_get(w, "active")) ? "yes" : "no",
		       json_real_value(json_object_get(w, "busy_pct")),
		       json_real_value(json_object_get(w, "rx_pps")), i(w, "rx_packets"),
		       i(w, "tx_packets"), qs[0] ? qs : "-");
	}
	/* The policy flow cache, where some worker has used it. */
	json_array_foreach(json_object_get(r, "workers"), idx, w) {
		json_t *fc = json_object_get(w, "flow_cache");

		if (fc == NULL || i(fc, "hits") + i(fc, "misses") + i(fc, "bypassed_bursts") == 0)
			continue;
		printf("worker %lld flow cache: %lld hits, %lld misses, %lld inserts, "
		       "%lld bursts bypassed\n", i(w, "worker"), i(fc, "hits"), i(fc, "misses"),
		       i(fc, "inserts"), i(fc, "bypassed_bursts"));
	}
}

/* ---- top ----
 *
 * Polls worker.stats. Busy % is always the daemon's (it samples the workers'
 * cycle counters every second), per worker and per queue (QUEUES: port/queue:busy%); packet rates are computed here from counter
 * deltas between two polls, except for a first frame, which shows the
 * daemon's *_pps fields (and "-" where the daemon has no rate).
 */

#define TOP_TIMEOUT_MS 5000 /* a daemon silent this long counts as gone */

struct top_opts {
	bool once;          /* one frame, no screen control */
	double interval_s;  /* live refresh period, 0.2-60 */
};

/* Counter k of o (0 when absent, e.g. from an older daemon). */
static double
num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static json_t *
worker_by_id(json_t *r, long long id)
{
	json_t *w;
	size_t idx;

	json_array_foreach(json_object_get(r, "workers"), idx, w)
		if (i(w, "worker") == id)
			return w;
	return NULL;
}

/* Rate of counter k between prev and cur (dt s apart); the daemon's field
 * pps_k without a previous poll or after a counter reset; -1 when unknown. */
static double
rate(json_t *cur, json_t *prev, double dt, const char *k, const char *pps_k)
{
	double now = num(cur, k), then;

	if (prev != NULL && dt > 0) {
		then = num(prev, k);
		if (now >= then)
			return (now - then) / dt;
	}
	return pps_k != NULL ? num(cur, pps_k) : -1;
}

/* One output line, built piecewise; appends past the end are dropped. */
struct line {
	char s[4096];
	size_t n;
};

static void __attribute__((format(printf, 2, 3)))
lput(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n += (size_t)k < sizeof(l->s) - l->n ? (size_t)k : sizeof(l->s) - l->n - 1;
}

/* Print l, cut to cols (0: no limit) with "..." marking the cut. */
static void
lemit(struct line *l, int cols)
{
	if (cols > 3 && l->n > (size_t)cols)
		printf("%.*s...\n", cols - 3, l->s);
	else
		printf("%s\n", l->s);
	l->n = 0;
	l->s[0] = '\0';
}

/* A rate in 8 columns: 3 significant digits with k or M above 9999, "-"
 * when unknown. */
static void
fmt_rate(char *buf, size_t len, double r)
{
	if (r < 0)
		snprintf(buf, len, "-");
	else if (r < 9999.5)
		snprintf(buf, len, "%.0f", r);
	else if (r < 999.5e3)
		snprintf(buf, len, "%.*fk", r < 99.95e3 ? 1 : 0, r / 1e3);
	else
		snprintf(buf, len, "%.*fM", r < 9.995e6 ? 2 : r < 99.95e6 ? 1 : 0, r / 1e6);
}

/* Header, column titles and one row per worker. cols/rows: terminal size, 0
 * when not a terminal (nothing is cut). */
static void
top_frame(json_t *cur, json_t *prev, double dt, int cols, int rows, const char *hint)
{
	json_t *ws = json_object_get(cur, "workers"), *w;
	double total = 0, drops = 0;
	int active = 0, shown = 0, room;
	struct line l = {.n = 0};
	char when[16];
	time_t t = time(NULL);
	size_t idx;

	json_array_foreach(ws, idx, w) {
		json_t *pw = prev != NULL ? worker_by_id(prev, i(w, "worker")) : NULL;

		active += json_is_true(json_object_get(w, "active"));
		total += rate(w, pw, dt, "switched_packets", "switched_pps");
		drops += num(w, "rss_drops");
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	lput(&l, "%s  workers %d/%zu active  switched %.0f pkt/s", when, active, json_array_size(ws),
	     total);
	if (drops > 0)
		lput(&l, "  rss hand-off drops %.0f", drops);
	if (hint != NULL)
		lput(&l, "  %s", hint);
	lemit(&l, cols);
	lput(&l, "%-6s %4s  %-19s %8s %8s %8s %9s  %s", "WORKER", "CPU", "BUSY", "SWITCH/s", "RX/s",
	     "RSS_IN/s", "RSS_OUT/s", "QUEUES");
	lemit(&l, cols);
	/* Keep the last line of the terminal free so the screen never scrolls. */
	room = rows > 3 ? rows - 3 : -1;
	json_array_foreach(ws, idx, w) {
		json_t *pw = prev != NULL ? worker_by_id(prev, i(w, "worker")) : NULL;
		double busy = num(w, "busy_pct");
		char bar[16], sw[24], rx[24], in[24], out[24];
		int hashes = (int)(busy / 10 + 0.5);
		json_t *q;
		size_t j;

		if (room >= 0 && shown == room - 1 && json_array_size(ws) > (size_t)room) {
			lput(&l, "(%zu more workers; enlarge the terminal)", json_array_size(ws) - idx);
			lemit(&l, cols);
			break;
		}
		if (json_is_true(json_object_get(w, "parked"))) {
			snprintf(bar, sizeof(bar), "[  parked  ]");
		} else if (json_is_true(json_object_get(w, "active"))) {
			bar[0] = '[';
			for (int k = 0; k < 10; k++)
				bar[1 + k] = k < hashes ? '#' : '.';
			bar[11] = ']';
			bar[12] = '\0';
		} else {
			snprintf(bar, sizeof(bar), "[ inactive ]");
		}
		fmt_rate(sw, sizeof(sw), rate(w, pw, dt, "switched_packets", "switched_pps"));
		fmt_rate(rx, sizeof(rx), rate(w, pw, dt, "rx_packets", "rx_pps"));
		fmt_rate(in, sizeof(in), rate(w, pw, dt, "rss_in", "rss_in_pps"));
		fmt_rate(out, sizeof(out), rate(w, pw, dt, "rss_out", "rss_out_pps"));
		lput(&l, "%-6lld %4lld  %-12s %5.1f%% %8s %8s %8s %9s  ", i(w, "worker"),
		     i(w, "cpu"), bar, busy, sw, rx, in, out);
		/* each queue with its busy share, as queue.show has it */
		json_array_foreach(json_object_get(w, "queues"), j, q) {
			json_t *qb = json_array_get(json_object_get(w, "queue_busy_pct"), j);

			lput(&l, "%s%s", j ? "," : "", json_is_string(q) ? json_string_value(q) : "?");
			if (json_is_number(qb))
				lput(&l, ":%.0f%%", json_number_value(qb));
		}
		if (json_array_size(json_object_get(w, "queues")) == 0)
			lput(&l, "-");
		lemit(&l, cols);
		shown++;
	}
}

/* One worker.stats request: the reply (result or error; the caller owns it),
 * or NULL with the reason in why when xvsd cannot be reached. */
static json_t *
top_poll(const struct cmd *c, const char *sock, char *why, size_t why_len)
{
	json_t *req = json_pack("{s:s,s:{}}", "method", c->method, "params");
	json_t *reply = call(sock, req, TOP_TIMEOUT_MS, why, why_len);

	json_decref(req);
	if (reply != NULL && json_object_get(reply, "error") == NULL &&
	    !json_is_array(json_object_get(json_object_get(reply, "result"), "workers"))) {
		snprintf(why, why_len, "bad reply from xvsd: no \"workers\" in the result");
		json_decref(reply);
		return NULL;
	}
	return reply;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Live mode state. Signals reach the loop through a self-pipe, so one poll()
 * waits for the next frame, a key and a signal alike. */
static int top_sigpipe[2] = {-1, -1};

static void
top_on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	if (write(top_sigpipe[1], &b, 1) < 0) {
		/* pipe full: a signal is already pending there */
	}
	errno = saved;
}

struct top_tty {
	bool in;                 /* stdin is a terminal: 'q' quits */
	bool out;                /* stdout is a terminal: alternate screen */
	bool saved;              /* orig holds stdin's modes to restore */
	struct termios orig;
};

static void
top_screen_enter(struct top_tty *t)
{
	if (t->in && tcgetattr(STDIN_FILENO, &t->orig) == 0) {
		struct termios raw = t->orig;

		/* No line buffering or echo, so a 'q' arrives alone; ISIG stays on,
		 * so Ctrl-C and Ctrl-Z still signal. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		t->saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	/* alternate screen (terminals only), hide the cursor */
	printf("%s\033[?25l", t->out ? "\033[?1049h" : "");
	fflush(stdout);
}

static void
top_screen_leave(struct top_tty *t)
{
	printf("\033[?25h%s", t->out ? "\033[?1049l" : "");
	fflush(stdout);
	if (t->saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->orig);
	t->saved = false;
}

static void
term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* SIGPIPE (top | head) and SIGQUIT (Ctrl-\\) quit like SIGINT: the terminal is restored. */
static const int top_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP};

static void
top_handlers(bool install)
{
	struct sigaction sa = {.sa_handler = install ? top_on_signal : SIG_DFL,
			       .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < sizeof(top_signals) / sizeof(top_signals[0]); k++)
		sigaction(top_signals[k], &sa, NULL);
}

/* Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT. */
static void
top_suspend(struct top_tty *t)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, mine = {.sa_handler = top_on_signal,
								.sa_flags = SA_RESTART};

	top_screen_leave(t);
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&mine.sa_mask);
	sigaction(SIGTSTP, &dfl, NULL);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &mine, NULL);
	top_screen_enter(t);
}

enum top_event {
	TOP_TICK,   /* time for the next poll */
	TOP_REDRAW, /* same data again: the terminal changed */
	TOP_QUIT,   /* 'q', SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE */
};

/* Wait until deadline (monotonic s) for a key or a signal. */
static enum top_event
top_wait(struct top_tty *tty, double deadline)
{
	for (;;) {
		struct pollfd pf[2] = {{.fd = top_sigpipe[0], .events = POLLIN},
				       {.fd = tty->in ? STDIN_FILENO : -1, .events = POLLIN}};
		enum top_event ev = TOP_TICK;
		double left = deadline - mono_s();
		char b[64];
		ssize_t n;

		if (left <= 0)
			return TOP_TICK;
		if (poll(pf, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			return TOP_QUIT;
		if (pf[1].revents & POLLIN) {
			n = read(STDIN_FILENO, b, sizeof(b));
			if (n <= 0)
				tty->in = false; /* no more keys; signals still work */
			for (ssize_t k = 0; k < n; k++)
				if (b[k] == 'q' || b[k] == 'Q')
					return TOP_QUIT;
		} else if (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			tty->in = false;
		}
		if (pf[0].revents & POLLIN) {
			n = read(top_sigpipe[0], b, sizeof(b));
			for (ssize_t k = 0; k < n; k++) {
				if (b[k] == SIGWINCH) {
					ev = TOP_REDRAW;
				} else if (b[k] == SIGTSTP) {
					top_suspend(tty);
					ev = TOP_REDRAW;
				} else {
					return TOP_QUIT;
				}
			}
		}
		if (ev != TOP_TICK)
			return ev;
	}
}

static int
top_live(const struct cmd *c, const char *sock, const struct top_opts *o)
{
	struct top_tty tty = {.in = isatty(STDIN_FILENO), .out = isatty(STDOUT_FILENO)};
	json_t *cur = NULL, *prev = NULL;
	double t_cur = 0, t_prev = 0;
	enum top_event ev = TOP_TICK;
	char why[512] = "", hint[64];
	int rc = 0;

	snprintf(hint, sizeof(hint), "every %.1f s, %s quits", o->interval_s,
		 tty.in ? "q" : "Ctrl-C");
	if (pipe2(top_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "xvsctl: pipe: %s\n", strerror(errno));
		return 1;
	}
	top_handlers(true);
	top_screen_enter(&tty);
	while (ev != TOP_QUIT) {
		json_t *reply = top_poll(c, sock, why, sizeof(why));
		double deadline;

		if (reply == NULL) {
			rc = 3;
			break;
		}
		if (json_object_get(reply, "error") != NULL) {
			snprintf(why, sizeof(why), "%s",
				 s(json_object_get(reply, "error"), "message"));
			json_decref(reply);
			rc = 1;
			break;
		}
		json_decref(prev);
		prev = cur;
		t_prev = t_cur;
		cur = json_incref(json_object_get(reply, "result"));
		json_decref(reply);
		t_cur = mono_s();
		deadline = t_cur + o->interval_s;
		do {
			int cols, rows;

			term_size(&cols, &rows);
			printf("\033[H\033[2J");
			top_frame(cur, prev, t_cur - t_prev, cols, rows, hint);
			qos_top_section(sock, cols, rows, json_array_size(json_object_get(cur, "workers")));
			fflush(stdout);
			ev = top_wait(&tty, deadline);
		} while (ev == TOP_REDRAW);
	}
	top_screen_leave(&tty);
	top_handlers(false);
	close(top_sigpipe[0]);
	close(top_sigpipe[1]);
	json_decref(prev);
	json_decref(cur);
	/* After the screen is restored, so that the message stays visible. */
	if (why[0] != '\0')
		fprintf(stderr, "xvsctl: %s\n", why);
	return rc;
}

static int
top_once(const struct cmd *c, const char *sock, bool as_json)
{
	char why[512] = "";
	int cols = 0, rows;
	json_t *reply = top_poll(c, sock, why, sizeof(why)), *cur;

	if (reply == NULL) {
		fprintf(stderr, "xvsctl: %s\n", why);
		return 3;
	}
	if (json_object_get(reply, "error") != NULL) {
		int rc = print_error(reply, as_json);

		json_decref(reply);
		return rc;
	}
	cur = json_object_get(reply, "result");
	if (as_json) {
		char *t;

		json_object_set_new(cur, "time", json_integer((json_int_t)time(NULL)));
		t = json_dumps(cur, JSON_INDENT(2));
		printf("%s\n", t);
		free(t);
	} else {
		if (isatty(STDOUT_FILENO))
			term_size(&cols, &rows);
		top_frame(cur, NULL, 0, cols, 0, NULL);
		qos_top_section(sock, cols, 0, 0);
	}
	json_decref(reply);
	return 0;
}

static int
run_top(const struct cmd *c, const char *sock, bool as_json, int argc, char **argv)
{
	struct top_opts o = {.once = false, .interval_s = 1.0};

	for (int k = 0; k < argc; k++) {
		const char *v;
		char *end;

		if (strcmp(argv[k], "--once") == 0) {
			o.once = true;
			continue;
		}
		if (strcmp(argv[k], "--interval") == 0) {
			if (k + 1 >= argc)
				return fail_usage("--interval needs SECONDS", NULL);
			v = argv[++k];
		} else if (strncmp(argv[k], "--interval=", 11) == 0) {
			v = argv[k] + 11;
		} else {
			return fail_usage("top: unexpected argument", argv[k]);
		}
		errno = 0;
		o.interval_s = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' || !(o.interval_s >= 0.2) ||
		    !(o.interval_s <= 60))
			return fail_usage("--interval must be 0.2 to 60 seconds", v);
	}
	if (as_json && !o.once)
		return fail_usage("top: --json needs --once (live mode draws a screen)", NULL);
	if (o.once)
		return top_once(c, sock, as_json);
	return top_live(c, sock, &o);
}

const struct cmd top_cmds[] = {
	{{"worker", "stats"}, "worker.stats", ARGS_NONE, "", "per-worker load, queues and policy flow cache",
	 print_workers},
	{{"top", NULL}, "worker.stats", ARGS_NONE, "[--once] [--interval SECONDS]",
	 "live per-worker load and rates, and QoS classes (q or Ctrl-C quits)", NULL, run_top},
	{{NULL, NULL}, NULL, ARGS_NONE, NULL, NULL, NULL},
};

const char top_options_help[] =
	"\ntop: --once prints one frame (with --json: the worker.stats result and\n"
	"  \"time\"); --interval SECONDS (0.2-60, default 1) between live frames.\n";

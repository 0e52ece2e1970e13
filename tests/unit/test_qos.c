/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/core/qos.c: validation (one error per impossible
 * setting), the traffic classifier, and the scheduler run on synthetic
 * arrival traces against a fluid reference model (generalized processor
 * sharing with demands and caps: weighted max-min water-filling).
 *
 * The simulator models one link of capacity C: a frame the scheduler picks
 * occupies the link for len x 8 / C; time is in picoseconds and passed to the
 * scheduler in nanoseconds. Sources are: off, saturated (always a head
 * frame), or constant rate r (bytes accumulate at r; a head frame exists once
 * a frame's worth has arrived; its queue holds (n + 1) max frames, tail drop). A trace is a list of phases; the fluid
 * model's rates are constant within a phase, and bytes sent are compared
 * with the fluid bytes over windows aligned with the phases.
 *
 * Error bound asserted (and printed): per class per window,
 * |sent - fluid| <= (n_classes + 1) x max frame. With 1500-byte frames at
 * 10 Gbit/s over 1 s windows that is <= 0.01% of the link.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qos.h"

#define GBIT 1000000000ull
#define MAXC XVS_QOS_MAX_CLASSES

/* ---- Configuration helpers. ---------------------------------------------- */

static struct xvs_qos_cfg
cfg_weights(uint64_t cap, uint32_t n, const uint32_t *w)
{
	struct xvs_qos_cfg c;

	memset(&c, 0, sizeof(c));
	c.mode = XVS_QOS_MODE_WEIGHT;
	c.capacity_bps = cap;
	c.n_classes = n;
	for (uint32_t i = 0; i < n; i++) {
		snprintf(c.cls[i].name, sizeof(c.cls[i].name), "c%u", i);
		c.cls[i].weight = w[i];
	}
	return c;
}

/* Absolute mode, class i has minimum min[i] bit/s; class 0 is "default". */
static struct xvs_qos_cfg
cfg_absolute(uint64_t cap, uint32_t n, const uint64_t *min)
{
	struct xvs_qos_cfg c = cfg_weights(cap, n, (const uint32_t[MAXC]){0});

	c.mode = XVS_QOS_MODE_ABSOLUTE;
	strcpy(c.cls[0].name, "default");
	for (uint32_t i = 0; i < n; i++)
		c.cls[i].min_bps = min[i];
	return c;
}

/* ---- Fluid reference: weighted max-min fairness with caps. --------------- */

#define SAT (-1.0)

/* rate[i] (bit/s) of each class given demand[i] (bit/s, SAT, 0 = off),
 * effective weights and caps (0 = none). Water-filling: each unsatisfied
 * class gets rem x w / sum(w); one that needs less (demand or cap) is fixed
 * at its need and the rest re-split. */
static void
fluid(double cap_link, uint32_t n, const double *weight, const double *demand,
      const double *cap, double *rate)
{
	bool fixed[MAXC] = {false};
	double rem = cap_link;

	for (uint32_t i = 0; i < n; i++) {
		rate[i] = 0;
		if (demand[i] == 0)
			fixed[i] = true;
	}
	for (;;) {
		double sw = 0;
		bool changed = false;

		for (uint32_t i = 0; i < n; i++)
			if (!fixed[i])
				sw += weight[i];
		if (sw == 0)
			return;
		for (uint32_t i = 0; i < n; i++) {
			if (fixed[i])
				continue;
			double share = rem * weight[i] / sw;
			double need = demand[i] == SAT ? INFINITY : demand[i];

			if (cap[i] > 0 && cap[i] < need)
				need = cap[i];
			if (need <= share) {
				rate[i] = need;
				rem -= need;
				fixed[i] = true;
				changed = true;
			}
		}
		if (!changed) {
			for (uint32_t i = 0; i < n; i++)
				if (!fixed[i])
					rate[i] = rem * weight[i] / sw;
			return;
		}
	}
}

/* ---- Simulator. ------------------------------------------------------------ */

struct phase {
	double dur_s;
	double demand[MAXC];  /* bit/s, SAT, or 0 (off) */
};

struct sim_result {
	double max_err_bytes;     /* worst |sent - fluid| over classes and windows */
	double max_err_frac;      /* same, relative to the link's bytes per window */
	uint32_t windows;
};

static uint64_t sim_frames;

/* Run cfg on the phases with frame[i] bytes per class, windows of win_s.
 * Asserts the error bound; returns what was measured. */
static struct sim_result
simulate(const struct xvs_qos_cfg *cfg, const uint32_t *frame,
	 const struct phase *ph, uint32_t n_ph, double win_s)
{
	struct xvs_qos_sched s;
	uint32_t n = cfg->n_classes, maxf = 0;
	double w[MAXC], cap[MAXC], queue[MAXC] = {0};
	double C = (double)cfg->capacity_bps;
	struct sim_result r = {0, 0, 0};
	double t = 0; /* seconds, kept as picoseconds in an integer below */
	uint64_t t_ps = 0;
	double burst = 0; /* allowance for caps' initial buckets, bytes */

	for (uint32_t i = 0; i < n; i++) {
		switch (cfg->mode) {
		case XVS_QOS_MODE_WEIGHT:
			w[i] = cfg->cls[i].weight ? cfg->cls[i].weight : 1;
			break;
		case XVS_QOS_MODE_ABSOLUTE:
			w[i] = cfg->cls[i].min_bps ? (double)cfg->cls[i].min_bps : 1;
			break;
		default:
			w[i] = 1;
		}
		cap[i] = (double)cfg->cls[i].max_bps;
		/* A cap lets through its bucket after idling (qos.h). */
		if (cap[i] > 0) {
			double depth = cap[i] * XVS_QOS_BURST_NS / 1e9 / 8;

			burst += depth > 131072 ? depth : 131072;
		}
		if (frame[i] > maxf)
			maxf = frame[i];
	}
	xvs_qos_sched_init(&s, cfg, 0);
	for (uint32_t p = 0; p < n_ph; p++) {
		double rate[MAXC];
		uint32_t nwin = (uint32_t)llround(ph[p].dur_s / win_s);

		/* Strict classes first, higher level first; the weighted ones
		 * share what is left. */
		double rem = C, dem[MAXC], srate[MAXC] = {0};

		memcpy(dem, ph[p].demand, sizeof(dem));
		for (int lvl = 8; lvl >= 1; lvl--)
			for (uint32_t i = 0; i < n; i++) {
				if (cfg->cls[i].strict != lvl)
					continue;
				double need = dem[i] == SAT ? INFINITY : dem[i];

				need = fmin(need, cap[i] > 0 ? cap[i] : INFINITY);
				srate[i] = fmin(need, rem);
				rem -= srate[i];
				dem[i] = 0;
			}
		fluid(rem, n, w, dem, cap, rate);
		for (uint32_t i = 0; i < n; i++)
			if (cfg->cls[i].strict != 0)
				rate[i] = srate[i];
		for (uint32_t k = 0; k < nwin; k++) {
			uint64_t end_ps = t_ps + (uint64_t)llround(win_s * 1e12);
			double sent[MAXC] = {0};

			while (t_ps < end_ps) {
				uint32_t head[MAXC];
				uint64_t wake = UINT64_MAX;

				for (uint32_t i = 0; i < n; i++) {
					double d = ph[p].demand[i];

					head[i] = d == SAT ? frame[i] :
						  (queue[i] >= frame[i] ? frame[i] : 0);
				}
				int c = xvs_qos_pick(&s, head, t_ps / 1000, &wake);
				uint64_t dt_ps;

				if (c >= 0) {
					assert_true(head[c] != 0);
					sent[c] += head[c];
					if (ph[p].demand[c] != SAT)
						queue[c] -= head[c];
					dt_ps = (uint64_t)llround(head[c] * 8.0 * 1e12 / C);
					sim_frames++;
				} else {
					/* Idle: to the next cap release, arrival or end. */
					double next = wake == UINT64_MAX ? INFINITY :
						      (double)wake * 1000 - (double)t_ps;

					for (uint32_t i = 0; i < n; i++) {
						double d = ph[p].demand[i];

						if (d > 0 && queue[i] < frame[i]) {
							double need = (frame[i] - queue[i]) * 8 / d * 1e12;

							if (need < next)
								next = need;
						}
					}
					if (next > (double)(end_ps - t_ps))
						next = (double)(end_ps - t_ps);
					dt_ps = next < 1000 ? 1000 : (uint64_t)ceil(next);
				}
				if (t_ps + dt_ps > end_ps && c < 0)
					dt_ps = end_ps - t_ps;
				for (uint32_t i = 0; i < n; i++) {
					double d = ph[p].demand[i];

					/* A queue of (n + 1) max frames, tail drop:
					 * deep enough to ride out the others' frames,
					 * and a source offering more than its share
					 * loses the excess, as a real one would. */
					if (d > 0)
						queue[i] = fmin(queue[i] + d * (double)dt_ps / 1e12 / 8,
								(double)(n + 1) * maxf);
				}
				t_ps += dt_ps;
			}
			t = (double)t_ps / 1e12;
			for (uint32_t i = 0; i < n; i++) {
				double want = rate[i] * win_s / 8;
				double e = fabs(sent[i] - want);

				if (e > r.max_err_bytes)
					r.max_err_bytes = e;
				if (e > (double)(n + 1) * maxf + burst) {
					print_error("phase %u window %u class %u: sent %.0f, fluid %.0f "
						    "bytes (err %.0f > bound %.0f)\n", p, k, i, sent[i],
						    want, e, (n + 1) * maxf + burst);
					for (uint32_t j = 0; j < n; j++)
						print_error("  class %u w %.0f cap %.0f frame %u demand %.0f fluid %.0f sent %.0f\n",
							    j, w[j], cap[j], frame[j], ph[p].demand[j], rate[j], sent[j]);
					fail();
				}
			}
			r.windows++;
		}
		/* Rate sources' leftovers do not carry into the next phase. */
		for (uint32_t i = 0; i < n; i++)
			queue[i] = 0;
	}
	(void)t;
	r.max_err_frac = r.max_err_bytes / (C * win_s / 8);
	return r;
}

static void
report(const char *name, struct sim_result r)
{
	printf("# %-32s windows %4u  max err %9.0f bytes  %.5f%% of the window's link bytes\n",
	       name, r.windows, r.max_err_bytes, r.max_err_frac * 100);
}

static void
frames_all(uint32_t *f, uint32_t n, uint32_t len)
{
	for (uint32_t i = 0; i < n; i++)
		f[i] = len;
}

static void expect_err(const struct xvs_qos_cfg *c, const char *needle);

/* ---- Acceptance vectors (acceptance-vectors.md 5). ------------------------ */

static void
test_v1_v2_531(void **state)
{
	(void)state;
	const uint32_t w[] = {5, 3, 1};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 3, w);
	uint32_t f[3];
	double rate[3], wt[3] = {5, 3, 1}, cap[3] = {0};
	const double sat3[] = {SAT, SAT, SAT}, sat2[] = {SAT, SAT, 0};

	assert_int_equal(xvs_qos_validate(&c, NULL), 0);
	/* The reference itself: 5.556 / 3.333 / 1.111, then 6.25 / 3.75. */
	fluid(10e9, 3, wt, sat3, cap, rate);
	assert_true(fabs(rate[0] - 5.5556e9) < 1e6 && fabs(rate[2] - 1.1111e9) < 1e6);
	fluid(10e9, 3, wt, sat2, cap, rate);
	assert_true(fabs(rate[0] - 6.25e9) < 1 && fabs(rate[1] - 3.75e9) < 1 && rate[2] == 0);

	frames_all(f, 3, 1500);
	struct phase ph[] = {
		{0.05, {SAT, SAT, SAT}},
		{0.05, {SAT, SAT, 0}},
		{0.05, {SAT, SAT, SAT}},
	};
	report("V1/V2 5/3/1 1500B 10G", simulate(&c, f, ph, 3, 0.01));
}

static void
test_v3_converged(void **state)
{
	(void)state;
	/* default flow 10, Mgmt 5, Cluster 5, LM 40, Storage 40. */
	const uint32_t w[] = {10, 5, 5, 40, 40};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 5, w);
	uint32_t f[5];
	double rate[5], wt[5] = {10, 5, 5, 40, 40}, cap[5] = {0};
	const double v3d[] = {SAT, 0.1e9, SAT, SAT, SAT};
	const double v3e[] = {SAT, 0.1e9, 0.1e9, SAT, 2e9};

	fluid(10e9, 5, wt, v3d, cap, rate);
	assert_true(fabs(rate[2] - 0.521e9) < 1e6 && fabs(rate[3] - 4.168e9) < 1e6 &&
		    fabs(rate[0] - 1.042e9) < 1e6);
	fluid(10e9, 5, wt, v3e, cap, rate);
	assert_true(fabs(rate[3] - 6.24e9) < 1e6 && fabs(rate[0] - 1.56e9) < 1e6);

	frames_all(f, 5, 9000);
	f[1] = f[2] = 300; /* management and heartbeat: small frames */
	struct phase ph[] = {
		{0.02, {SAT, SAT, SAT, SAT, SAT}},     /* V3a */
		{0.02, {0, 0, 0, SAT, 0}},             /* V3b: LM alone, whole link */
		{0.02, {0, 0, 0, SAT, SAT}},           /* V3c */
		{0.02, {SAT, 0.1e9, SAT, SAT, SAT}},   /* V3d */
		{0.02, {SAT, 0.1e9, 0.1e9, SAT, 2e9}}, /* V3e */
	};
	report("V3 converged team 10G", simulate(&c, f, ph, 5, 0.005));
}

/* Live Migration alone takes the whole link, but cannot take storage's and
 * the VMs' share when they are busy: LM 5, storage 3, VMs (default) 1. */
static void
test_live_migration_531(void **state)
{
	(void)state;
	const uint32_t w[] = {1, 5, 3}; /* VMs = default flow, LM, storage */
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 3, w);
	struct xvs_qos_sched s;
	uint32_t head[3] = {0, 64000, 0};
	uint64_t sent[3] = {0}, t_ns = 0;

	xvs_qos_sched_init(&s, &c, 0);
	/* LM alone for 10 ms: every pick is LM, the link is full. */
	for (; t_ns < 10000000; t_ns += 64000 * 8 / 10) {
		int k = xvs_qos_pick(&s, head, t_ns, NULL);

		assert_int_equal(k, 1);
		sent[k] += head[k];
	}
	assert_int_equal(sent[1], 64000ull * (10000000 / 51200 + 1));
	/* Storage and VMs start: within one round (one frame each) they send,
	 * and over the next 10 ms LM falls back to 5/9. */
	head[0] = 1500;
	head[2] = 9000;
	memset(sent, 0, sizeof(sent));
	int first[3] = {-1, -1, -1};
	for (int n = 0; t_ns < 20000000; n++) {
		int k = xvs_qos_pick(&s, head, t_ns, NULL);

		assert_true(k >= 0);
		if (first[k] < 0)
			first[k] = n;
		sent[k] += head[k];
		t_ns += head[k] * 8 / 10;
	}
	assert_true(first[0] >= 0 && first[0] <= 2);
	assert_true(first[2] >= 0 && first[2] <= 2);
	double tot = (double)(sent[0] + sent[1] + sent[2]);
	double lm = sent[1] / tot, st = sent[2] / tot, vm = sent[0] / tot;

	printf("# LM/storage/VMs busy: %.4f %.4f %.4f (want %.4f %.4f %.4f)\n",
	       lm, st, vm, 5.0 / 9, 3.0 / 9, 1.0 / 9);
	assert_true(fabs(lm - 5.0 / 9) < 0.01);
	assert_true(fabs(st - 3.0 / 9) < 0.01);
	assert_true(fabs(vm - 1.0 / 9) < 0.01);
}

/* ---- Traces. ------------------------------------------------------------- */

static void
test_constant_and_onoff(void **state)
{
	(void)state;
	const uint32_t w[] = {5, 3, 1};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 3, w);
	uint32_t f[3] = {1500, 1500, 1500};
	/* Class 2 asks 0.5G (< its 1.11G share): it gets it all, the others
	 * split the rest 5:3; then it goes on/off every 10 ms. */
	struct phase ph[] = {
		{0.03, {SAT, SAT, 0.5e9}},
		{0.01, {SAT, SAT, 0}},
		{0.01, {SAT, SAT, SAT}},
		{0.01, {SAT, 0, SAT}},
		{0.01, {SAT, SAT, SAT}},
		{0.01, {0.2e9, 4e9, SAT}},
	};
	report("constant + on/off 10G", simulate(&c, f, ph, 6, 0.001));
}

static void
test_classes_1_3_8(void **state)
{
	(void)state;
	const uint32_t w8[] = {1, 2, 5, 10, 20, 40, 70, 100};
	uint32_t f[8];
	struct phase ph1[] = {{0.02, {SAT}}};
	struct phase ph8[] = {
		{0.02, {SAT, SAT, SAT, SAT, SAT, SAT, SAT, SAT}},
		{0.02, {SAT, 0, SAT, 0, SAT, 0, SAT, 0}},
		{0.02, {0, SAT, 0, SAT, 0, SAT, 0, SAT}},
	};
	struct phase ph3[] = {{0.02, {SAT, SAT, SAT}}};

	for (uint32_t len = 64; len <= 65536; len = len == 64 ? 1500 : len == 1500 ? 65536 : 65537) {
		char name[64];
		struct xvs_qos_cfg c;
		double win = len == 64 ? 0.0005 : 0.005;

		frames_all(f, 8, len);
		c = cfg_weights(10 * GBIT, 1, w8 + 7);
		snprintf(name, sizeof(name), "1 class %uB", len);
		report(name, simulate(&c, f, ph1, 1, win));
		c = cfg_weights(10 * GBIT, 3, w8 + 2);
		snprintf(name, sizeof(name), "3 classes %uB", len);
		report(name, simulate(&c, f, ph3, 1, win));
		c = cfg_weights(10 * GBIT, 8, w8);
		snprintf(name, sizeof(name), "8 classes 1..100 %uB", len);
		report(name, simulate(&c, f, ph8, 3, win));
	}
	/* Mixed sizes: 64 B against 64 KB frames. */
	const uint32_t w2[] = {1, 1};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 2, w2);
	uint32_t fm[2] = {64, 65536};
	struct phase ph2[] = {{0.02, {SAT, SAT}}};

	report("64B vs 64KB equal weights", simulate(&c, fm, ph2, 1, 0.002));
}

static void
test_one_second_10g(void **state)
{
	(void)state;
	const uint32_t w[] = {5, 3, 1};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 3, w);
	uint32_t f[3] = {1500, 1500, 1500};
	struct phase ph[] = {{1.0, {SAT, SAT, SAT}}};
	struct sim_result r = simulate(&c, f, ph, 1, 1.0);

	report("5/3/1 over 1 s at 10G", r);
	assert_true(r.max_err_frac < 0.01);
}

static void
test_caps(void **state)
{
	(void)state;
	/* V4: LM 40 with a 3G cap alone on an idle link: 3G, not 10. */
	const uint32_t w[] = {10, 40, 40};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 3, w);
	uint32_t f[3] = {1500, 9000, 1500};

	c.cls[1].max_bps = 3 * GBIT;
	c.cls[0].max_bps = 0;
	c.cls[2].max_bps = 0;
	assert_int_equal(xvs_qos_validate(&c, NULL), -EINVAL); /* 3G < 4G share */
	c.cls[1].weight = 20;
	assert_int_equal(xvs_qos_validate(&c, NULL), 0);
	struct phase ph[] = {
		{0.02, {0, SAT, 0}},     /* capped alone: 3G, link idle otherwise */
		{0.02, {SAT, SAT, 0}},   /* 10 : 20 but LM capped: 7 / 3 */
		{0.02, {SAT, SAT, SAT}}, /* 10:20:40 -> 1.43 / 2.86 / 5.71 */
	};
	report("cap 3G", simulate(&c, f, ph, 3, 0.002));
}

static void
test_absolute(void **state)
{
	(void)state;
	const uint64_t min[] = {1 * GBIT, 4 * GBIT, 2 * GBIT}; /* default, storage, lm */
	struct xvs_qos_cfg c = cfg_absolute(10 * GBIT, 3, min);
	uint32_t f[3] = {1500, 1500, 64000};

	c.cls[2].max_bps = 5 * GBIT;
	assert_int_equal(xvs_qos_validate(&c, NULL), 0);
	struct phase ph[] = {
		{0.02, {SAT, SAT, SAT}},   /* 10/7 of each minimum */
		{0.02, {SAT, 0, SAT}},     /* lm capped at 5: default gets 5 */
		{0.02, {0, SAT, SAT}},     /* 4:2 -> 6.67 / 3.33 */
	};
	struct sim_result r = simulate(&c, f, ph, 3, 0.002);

	report("absolute 1G/4G/2G(cap 5G)", r);
}

/* ETS (V5): tc-bw 50/30/20, then a strict class capped at 2G and a strict
 * class asking 1G at a higher level served before them. */
static void
test_ets(void **state)
{
	(void)state;
	const uint32_t w[] = {50, 30, 20, 0, 0};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 5, w);
	uint32_t f[5] = {1500, 1500, 1500, 1500, 300};
	struct xvs_err e = {0};

	c.cls[3].strict = 1;
	c.cls[3].max_bps = 2 * GBIT;
	c.cls[4].strict = 2;
	assert_int_equal(xvs_qos_validate(&c, &e), 0);
	struct phase ph[] = {
		{0.01, {SAT, SAT, SAT, 0, 0}},      /* V5: 5 / 3 / 2 */
		{0.01, {SAT, SAT, 0, 0, 0}},        /* V5b: 6.25 / 3.75 */
		{0.01, {SAT, SAT, SAT, SAT, 0}},    /* strict 2G (cap), 8G by 5:3:2 */
		{0.01, {SAT, SAT, SAT, SAT, 1e9}},  /* 1G, 2G, then 7G by 5:3:2 */
	};
	report("ETS 50/30/20 + strict", simulate(&c, f, ph, 4, 0.002));
	c.cls[4].strict = 9;
	expect_err(&c, "strict priority 9 outside 1-8");
	c.cls[4].strict = 1;
	c.cls[4].weight = 5;
	expect_err(&c, "strict priority class has no minimum");
}

/* An idle class's share is taken over within one round, and a class waking
 * sends within one round (one frame of each other class). */
static void
test_takeover(void **state)
{
	(void)state;
	const uint32_t w[] = {1, 2, 5, 10, 20, 40, 70, 100};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 8, w);
	struct xvs_qos_sched s;
	uint32_t head[8];
	uint64_t t = 0;

	frames_all(head, 8, 1500);
	xvs_qos_sched_init(&s, &c, 0);
	for (int i = 0; i < 10000; i++, t += 1200)
		assert_true(xvs_qos_pick(&s, head, t, NULL) >= 0);
	/* The heaviest class stops: every pick goes to the others, at once
	 * (the link never idles). Then it wakes: it sends within 8 picks. */
	head[7] = 0;
	for (int i = 0; i < 1000; i++, t += 1200) {
		int k = xvs_qos_pick(&s, head, t, NULL);

		assert_true(k >= 0 && k != 7);
	}
	/* The lightest class (weight 1) wakes after a long idle: it must not
	 * have banked credit (no burst), but must send within one round. */
	head[7] = 1500;
	head[0] = 0;
	for (int i = 0; i < 100000; i++, t += 1200)
		xvs_qos_pick(&s, head, t, NULL);
	head[0] = 1500;
	int got = -1, count0 = 0;
	for (int i = 0; i < 400; i++, t += 1200) {
		int k = xvs_qos_pick(&s, head, t, NULL);

		if (k == 0) {
			count0++;
			if (got < 0)
				got = i;
		}
	}
	/* Weight 1 of 248: one frame per 248; over 400 picks at most 2-3. */
	assert_true(got >= 0 && got < 248 + 8);
	assert_true(count0 <= 3);
	/* A heavy class waking: within 8 picks. */
	head[6] = 0;
	for (int i = 0; i < 5000; i++, t += 1200)
		xvs_qos_pick(&s, head, t, NULL);
	head[6] = 1500;
	got = -1;
	for (int i = 0; i < 8 && got < 0; i++, t += 1200)
		if (xvs_qos_pick(&s, head, t, NULL) == 6)
			got = i;
	assert_true(got >= 0);
}

/* Caps hold even on an idle link; wake_ns says when to come back. */
static void
test_cap_idle_link_wake(void **state)
{
	(void)state;
	const uint32_t w[] = {1};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 1, w);
	struct xvs_qos_sched s;
	uint32_t head[1] = {1000};
	uint64_t t = 0, sent = 0, wake;

	c.cls[0].weight = 0;
	c.cls[0].max_bps = 100000000; /* 100 Mbit/s */
	assert_int_equal(xvs_qos_validate(&c, NULL), 0);
	xvs_qos_sched_init(&s, &c, 0);
	while (t < 1000000000ull) { /* 1 s */
		int k = xvs_qos_pick(&s, head, t, &wake);

		if (k == 0) {
			sent += 1000;
			/* Time only moves when the cap holds: fail, not spin. */
			assert_true(sent <= 12500000 + 131072 + 1000);
			continue;
		}
		assert_int_equal(k, -1);
		assert_true(wake > t && wake != UINT64_MAX);
		t = wake;
	}
	/* 100 Mbit/s x 1 s = 12.5 MB, plus the initial burst of 1 ms or
	 * two 64 KB frames (131072 bytes) and one frame. */
	printf("# cap 100M on idle link: %llu bytes in 1 s\n", (unsigned long long)sent);
	assert_true(sent >= 12500000 && sent <= 12500000 + 131072 + 1000);
	head[0] = 0;
	assert_int_equal(xvs_qos_pick(&s, head, t, &wake), -1);
	assert_int_equal(wake, UINT64_MAX);
}

static void
test_port_shaping(void **state)
{
	(void)state;
	const uint32_t w[] = {1, 1};
	struct xvs_qos_cfg c = cfg_weights(1 * GBIT, 2, w);
	struct xvs_qos_sched s;
	uint32_t head[2] = {1500, 1500};
	uint64_t t = 0, sent[2] = {0}, wake;

	c.shape_port = true;
	xvs_qos_sched_init(&s, &c, 0);
	while (t < 100000000ull) { /* 100 ms at 1 Gbit/s = 12.5 MB */
		int k = xvs_qos_pick(&s, head, t, &wake);

		if (k >= 0) {
			sent[k] += 1500;
			assert_true(sent[0] + sent[1] <= 12500000 + 131072 + 1500);
		} else
			t = wake;
	}
	uint64_t tot = sent[0] + sent[1];

	assert_true(tot >= 12500000 && tot <= 12500000 + 131072 + 1500);
	assert_true(sent[0] > sent[1] ? sent[0] - sent[1] <= 1500 : sent[1] - sent[0] <= 1500);
}

/* The highest rate the parser accepts still sends: a token bucket's depth
 * in bit-ns must not overflow (at 9.5 Tbit/s it went negative and the port
 * sent nothing). */
static void
test_rate_max_sends(void **state)
{
	(void)state;
	const uint32_t w[] = {1, 1};
	struct xvs_qos_cfg c = cfg_weights(XVS_QOS_RATE_MAX, 2, w);
	struct xvs_qos_sched s;
	struct xvs_err err;
	uint32_t head[2] = {1500, 0};
	uint64_t v, wake;
	char max[32];

	snprintf(max, sizeof(max), "%llu", (unsigned long long)XVS_QOS_RATE_MAX);
	assert_int_equal(xvs_qos_rate_parse("r", max, &v, &err), 0);
	assert_true(v == XVS_QOS_RATE_MAX);
	c.shape_port = true;
	c.cls[0].max_bps = XVS_QOS_RATE_MAX;
	xvs_qos_sched_init(&s, &c, 0);
	assert_int_equal(xvs_qos_pick(&s, head, 0, &wake), 0);
	assert_int_equal(xvs_qos_pick(&s, head, 1000, &wake), 0);
}

/* ---- Validation. --------------------------------------------------------- */

static void
expect_err(const struct xvs_qos_cfg *c, const char *needle)
{
	struct xvs_err e = {0};

	assert_int_equal(xvs_qos_validate(c, &e), -EINVAL);
	if (strstr(e.msg, needle) == NULL) {
		print_error("message '%s' lacks '%s'\n", e.msg, needle);
		fail();
	}
}

static void
test_validate(void **state)
{
	(void)state;
	const uint32_t w[] = {10, 40, 40};
	struct xvs_qos_cfg c = cfg_weights(10 * GBIT, 3, w), d;
	struct xvs_err e = {0};
	enum xvs_qos_mode m;

	assert_int_equal(xvs_qos_validate(&c, &e), 0);
	d = c;
	d.capacity_bps = 0;
	expect_err(&d, "capacity");
	d = c;
	d.n_classes = 0;
	expect_err(&d, "classes");
	d = c;
	d.n_classes = XVS_QOS_MAX_CLASSES + 1;
	expect_err(&d, "classes");
	d = c;
	d.cls[1].weight = 101;
	expect_err(&d, "weight 101 outside 0-100");
	d = c;
	d.cls[1].weight = 100;
	assert_int_equal(xvs_qos_validate(&d, NULL), 0);
	d = c;
	d.cls[2].min_bps = GBIT;
	expect_err(&d, "both set");
	d = c;
	d.cls[2].weight = 0;
	d.cls[2].min_bps = GBIT;
	expect_err(&d, "absolute minimum in weight mode");
	d = c;
	d.mode = XVS_QOS_MODE_ABSOLUTE;
	expect_err(&d, "weight in absolute mode");
	d = c;
	d.mode = XVS_QOS_MODE_NONE;
	expect_err(&d, "mode is none");
	for (uint32_t i = 0; i < 3; i++)
		d.cls[i].weight = 0;
	d.cls[1].max_bps = GBIT;
	assert_int_equal(xvs_qos_validate(&d, NULL), 0);
	d = c;
	strcpy(d.cls[2].name, "c1");
	expect_err(&d, "used twice");
	/* Absolute: sum above the link, exactly the link, cap below minimum. */
	d = cfg_absolute(10 * GBIT, 3, (const uint64_t[]){0, 6 * GBIT, 4 * GBIT});
	assert_int_equal(xvs_qos_validate(&d, NULL), 0);
	d.cls[2].min_bps = 4 * GBIT + 1;
	expect_err(&d, "sum above the capacity");
	d.cls[2].min_bps = 4 * GBIT;
	d.cls[2].max_bps = 3 * GBIT;
	expect_err(&d, "cap 3000000000 bit/s below its minimum");
	d.cls[2].max_bps = 4 * GBIT;
	assert_int_equal(xvs_qos_validate(&d, NULL), 0);
	/* Overflowing sum is still "above the capacity". */
	d.cls[1].min_bps = UINT64_MAX;
	d.cls[2].max_bps = 0;
	expect_err(&d, "sum above the capacity");

	/* Mode changes. */
	assert_int_equal(xvs_qos_mode_change(&c, XVS_QOS_MODE_WEIGHT, NULL), 0);
	assert_int_equal(xvs_qos_mode_change(&c, XVS_QOS_MODE_ABSOLUTE, &e), -EBUSY);
	assert_non_null(strstr(e.msg, "from weight to absolute"));
	assert_non_null(strstr(e.msg, "'c0'"));
	d = c;
	for (uint32_t i = 0; i < 3; i++)
		d.cls[i].weight = 0;
	assert_int_equal(xvs_qos_mode_change(&d, XVS_QOS_MODE_ABSOLUTE, NULL), 0);

	assert_int_equal(xvs_qos_mode_parse("absolute", &m), 0);
	assert_int_equal(m, XVS_QOS_MODE_ABSOLUTE);
	assert_string_equal(xvs_qos_mode_name(m), "absolute");
	assert_int_equal(xvs_qos_mode_parse("Weight", &m), -EINVAL);
}

/* ---- Classifier. ----------------------------------------------------------- */

/* Bit rates and matches as an operator writes them; each bad one refused. */
static void
test_rate_and_match_parse(void **state)
{
	struct xvs_qos_match m;
	struct xvs_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(xvs_qos_rate_parse("r", "100M", &v, &err), 0);
	assert_true(v == 100000000ull);
	assert_int_equal(xvs_qos_rate_parse("r", "10G", &v, &err), 0);
	assert_true(v == 10000000000ull);
	assert_int_equal(xvs_qos_rate_parse("r", "2500k", &v, &err), 0);
	assert_true(v == 2500000ull);
	assert_int_equal(xvs_qos_rate_parse("r", "0", &v, &err), 0);
	assert_true(v == 0);
	assert_int_equal(xvs_qos_rate_parse("r", "11T", &v, &err), -EINVAL);
	assert_int_equal(xvs_qos_rate_parse("r", "9500G", &v, &err), -EINVAL);
	assert_int_equal(xvs_qos_rate_parse("r", "1MM", &v, &err), -EINVAL);
	assert_int_equal(xvs_qos_rate_parse("r", "fast", &v, &err), -EINVAL);
	assert_int_equal(xvs_qos_rate_parse("r", "", &v, &err), -EINVAL);
	assert_int_equal(xvs_qos_rate_parse("r", "99999999999999999999999", &v, &err), -EINVAL);

	assert_int_equal(xvs_qos_match_parse("tcp dport 6600", &m, &err), 0);
	assert_int_equal(m.proto, 6);
	assert_int_equal(m.port_lo, 6600);
	assert_int_equal(m.port_hi, 6600);
	assert_false(m.port_is_src);
	assert_int_equal(xvs_qos_match_parse("udp sport 100-200 dscp 46,10-12", &m, &err), 0);
	assert_int_equal(m.proto, 17);
	assert_true(m.port_is_src);
	assert_int_equal(m.port_hi, 200);
	assert_true(m.dscp_mask == ((1ull << 46) | (7ull << 10)));
	assert_int_equal(xvs_qos_match_parse("pcp 3,5", &m, &err), 0);
	assert_int_equal(m.pcp_mask, (1u << 3) | (1u << 5));
	assert_int_equal(xvs_qos_match_parse("sctp", &m, &err), 0);
	assert_int_equal(m.proto, 132);
	/* matching nothing, or everything, or not understood */
	assert_int_equal(xvs_qos_match_parse("tcp dport 10-5", &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(xvs_qos_match_parse("proto 1 dport 5", &m, &err), -EINVAL);
	/* ports the datapath does not read: SCTP, DCCP, UDP-Lite */
	assert_int_equal(xvs_qos_match_parse("sctp dport 3868", &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "matches nothing"));
	assert_int_equal(xvs_qos_match_parse("proto 33 sport 5", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("proto 136 dport 5", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("dport 5", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("icmp", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("pcp 8", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("dscp 64", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("tcp dport", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("tcp dport 70000", &m, &err), -EINVAL);
	assert_int_equal(xvs_qos_match_parse("proto 0", &m, &err), -EINVAL);
}

/* 1 LM tcp/6600, 2 SMB tcp/445, 3 iSCSI tcp/3260, 4 PCP 3 (RoCE), 5 DSCP
 * 46 (EF), 6 heartbeat udp/3343 source. */
static const struct xvs_qos_match operator_rules[] = {
	{.proto = 6, .port_lo = 6600, .port_hi = 6600, .cls = 1},
	{.proto = 6, .port_lo = 445, .port_hi = 445, .cls = 2},
	{.proto = 6, .port_lo = 3260, .port_hi = 3260, .cls = 3},
	{.pcp_mask = 1 << 3, .cls = 4},
	{.dscp_mask = 1ull << 46, .cls = 5},
	{.proto = 17, .port_lo = 3343, .port_hi = 3343, .port_is_src = true, .cls = 6},
};

static void
test_classify(void **state)
{
	(void)state;
	const struct xvs_qos_match *r = operator_rules;
	struct xvs_qos_pkt p = {.is_ip = true, .proto = 6, .has_ports = true,
				.sport = 40000, .dport = 6600};
	struct xvs_err e = {0};

	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(xvs_qos_match_validate(&r[i], 7, NULL), 0);
	assert_int_equal(xvs_qos_classify(r, 6, &p), 1);
	p.dport = 445;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 2);
	p.dport = 3260;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 3);
	p.dport = 80;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 0);
	p.proto = 17; /* UDP 6600 is not LM */
	p.dport = 6600;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 0);
	p.has_ports = false; /* a later fragment of TCP 6600: no ports */
	p.proto = 6;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 0);
	p.has_ports = true;
	p.has_pcp = true;
	p.pcp = 3;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 1); /* first rule wins */
	p.dport = 80;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 4);
	p.pcp = 2;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 0);
	p.dscp = 46;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 5);
	p.is_ip = false; /* DSCP, protocol and ports need IP */
	assert_int_equal(xvs_qos_classify(r, 6, &p), 0);
	p.is_ip = true;
	p.dscp = 0;
	p.proto = 17;
	p.sport = 3343;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 6);
	p.dport = 3343;
	p.sport = 1;
	assert_int_equal(xvs_qos_classify(r, 6, &p), 0);
	/* Range edges. */
	const struct xvs_qos_match rg = {.port_lo = 100, .port_hi = 200, .cls = 1};
	p.dport = 99;
	assert_int_equal(xvs_qos_classify(&rg, 1, &p), 0);
	p.dport = 100;
	assert_int_equal(xvs_qos_classify(&rg, 1, &p), 1);
	p.dport = 200;
	assert_int_equal(xvs_qos_classify(&rg, 1, &p), 1);
	p.dport = 201;
	assert_int_equal(xvs_qos_classify(&rg, 1, &p), 0);
	/* An empty rule matches everything. */
	const struct xvs_qos_match any = {.cls = 2};
	assert_int_equal(xvs_qos_classify(&any, 1, &p), 2);
	assert_int_equal(xvs_qos_classify(NULL, 0, &p), 0);

	/* Rules that match nothing or name no class. */
	const struct xvs_qos_match bad1 = {.port_lo = 10, .port_hi = 5, .cls = 1};
	const struct xvs_qos_match bad2 = {.proto = 1, .port_lo = 10, .port_hi = 10, .cls = 1};
	const struct xvs_qos_match bad3 = {.proto = 6, .cls = 7};
	assert_int_equal(xvs_qos_match_validate(&bad1, 7, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(xvs_qos_match_validate(&bad2, 7, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "only those of tcp and udp"));
	assert_int_equal(xvs_qos_match_validate(&bad3, 7, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "does not exist"));
}

static uint64_t cl_rng = 88172645463325252ull;

static uint32_t
cl_rand(uint32_t n)
{
	cl_rng ^= cl_rng << 13;
	cl_rng ^= cl_rng >> 7;
	cl_rng ^= cl_rng << 17;
	return (uint32_t)(cl_rng % n);
}

/* A port near an edge of one of rules[0..n) (or any port). */
static uint16_t
cl_port(const struct xvs_qos_match *rules, uint32_t n)
{
	const struct xvs_qos_match *m = &rules[cl_rand(n > 0 ? n : 1)];

	switch (n > 0 ? cl_rand(6) : 5) {
	case 0: return (uint16_t)(m->port_lo - 1);
	case 1: return m->port_lo;
	case 2: return m->port_hi;
	case 3: return (uint16_t)(m->port_hi + 1);
	case 4: return (uint16_t)(m->port_lo + cl_rand(m->port_hi - m->port_lo + 1u));
	default: return (uint16_t)cl_rand(65536);
	}
}

/* The compiled classifier against the rules, in order (xvs_qos_classify):
 * random rule sets of 0-16 rules (priorities, DSCPs, protocols, source or
 * destination port ranges, each set or not), random frames with their
 * ports at the rules' range edges; and the fixed rules of test_classify. */
static void
test_classifier_matches_rules(void **state)
{
	static const uint8_t protos[] = {6, 17, 132, 1, 47};
	struct xvs_qos_classifier *c = malloc(sizeof(*c));
	struct xvs_qos_match r[XVS_QOS_RULE_BITS + 1];
	struct xvs_err e = {0};
	uint64_t checked = 0;

	(void)state;
	assert_non_null(c);
	for (unsigned set = 0; set < 150; set++) {
		uint32_t n = set == 0 ? 0 : 1 + cl_rand(XVS_QOS_RULE_BITS);

		memset(r, 0, sizeof(r));
		for (uint32_t i = 0; i < n; i++) {
			struct xvs_qos_match *m = &r[i];

			if (cl_rand(3) == 0)
				m->pcp_mask = (uint8_t)(1 + cl_rand(255));
			if (cl_rand(3) == 0)
				m->dscp_mask = (uint64_t)cl_rand(1u << 31) << 32 | cl_rand(1u << 31) | 1;
			if (cl_rand(2) == 0)
				m->proto = protos[cl_rand(sizeof(protos))];
			if (cl_rand(3) != 0) {
				uint32_t lo = cl_rand(65536), w = cl_rand(4) == 0 ? 0 : cl_rand(3000);

				if (cl_rand(6) == 0)
					lo = 0; /* from port 0 (0-1023: port_lo 0) */
				else if (cl_rand(6) == 0)
					w = 65535; /* to the last port; 0-65535 now and then */
				m->port_lo = (uint16_t)lo;
				m->port_hi = (uint16_t)(lo + w > 65535 ? 65535 : lo + w);
				m->port_is_src = cl_rand(2) == 0;
			}
			m->cls = (uint8_t)(1 + cl_rand(XVS_QOS_MAX_CLASSES - 1));
		}
		assert_int_equal(xvs_qos_classifier_build(c, r, n, &e), 0);
		for (unsigned k = 0; k < 2000; k++) {
			struct xvs_qos_pkt p = {
				.has_pcp = cl_rand(2) == 0, .pcp = (uint8_t)cl_rand(9),
				.is_ip = cl_rand(8) != 0, .dscp = (uint8_t)cl_rand(66),
				.proto = cl_rand(4) == 0 ? (uint8_t)cl_rand(256) :
							   protos[cl_rand(sizeof(protos))],
				.has_ports = cl_rand(8) != 0,
				.sport = cl_port(r, n), .dport = cl_port(r, n),
			};
			uint8_t want = xvs_qos_classify(r, n, &p), got = xvs_qos_classifier_run(c, &p);

			if (want != got)
				fail_msg("rule set %u frame %u: class %u, the rules say %u", set, k, got,
					 want);
			checked++;
		}
	}
	/* 16 rules whose ranges all start and end inside 256-port blocks of
	 * their own, on one direction: 32 blocks, and block 0, the most a
	 * classifier holds. */
	memset(r, 0, sizeof(r));
	for (uint32_t i = 0; i < XVS_QOS_RULE_BITS; i++) {
		r[i].port_lo = (uint16_t)(i * 4096 + 7);
		r[i].port_hi = (uint16_t)(i * 4096 + 2048 + 9);
		r[i].cls = (uint8_t)(1 + i % (XVS_QOS_MAX_CLASSES - 1));
	}
	assert_int_equal(xvs_qos_classifier_build(c, r, XVS_QOS_RULE_BITS, &e), 0);
	for (uint32_t port = 0; port < 65536; port++) {
		struct xvs_qos_pkt q = {.is_ip = true, .proto = 6, .has_ports = true,
					.dport = (uint16_t)port};

		assert_int_equal(xvs_qos_classifier_run(c, &q), xvs_qos_classify(r, 16, &q));
	}
	/* The operator's rules of test_classify. */
	const struct xvs_qos_match *fixed = operator_rules;
	struct xvs_qos_pkt p = {.is_ip = true, .proto = 6, .has_ports = true, .sport = 3343,
				.dport = 445};

	assert_int_equal(xvs_qos_classifier_build(c, fixed, 6, &e), 0);
	assert_int_equal(xvs_qos_classifier_run(c, &p), 2);
	p.proto = 17;
	assert_int_equal(xvs_qos_classifier_run(c, &p), 6);
	p.has_ports = false;
	assert_int_equal(xvs_qos_classifier_run(c, &p), 0);
	assert_int_equal(xvs_qos_classifier_build(c, fixed, XVS_QOS_RULE_BITS + 1, &e), -EINVAL);
	printf("# classifier: %lu frames, as the rules\n", (unsigned long)checked);
	free(c);
}

/* Random loads against the fluid model: random weights 1-100, demands and
 * caps, 2-8 classes, frames 64..9000. */
static void
test_random_loads(void **state)
{
	(void)state;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	double worst = 0, worst_capped = 0;

	for (int round = 0; round < 200; round++) {
		uint32_t n = 2 + (uint32_t)(seed % 7), w[8], f[8];
		struct xvs_qos_cfg c;
		struct phase ph[3];

		for (uint32_t i = 0; i < 8; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			w[i] = 1 + (uint32_t)((seed >> 33) % 100);
			f[i] = 64 + (uint32_t)((seed >> 20) % 8937);
		}
		c = cfg_weights(10 * GBIT, n, w);
		for (int p = 0; p < 3; p++) {
			ph[p].dur_s = 0.004;
			for (uint32_t i = 0; i < n; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				uint32_t k = (uint32_t)(seed >> 40) % 4;

				ph[p].demand[i] = k == 0 ? 0 : k == 1 ? (double)((seed >> 8) % 3000) * 1e6 + 1e6 : SAT;
			}
		}
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		bool capped = seed % 3 == 0;

		if (capped) {
			c.cls[0].weight = 0;
			c.cls[0].max_bps = (seed >> 32) % (5 * GBIT) + 100000000;
		}
		struct sim_result r = simulate(&c, f, ph, 3, 0.002);

		if (capped && r.max_err_frac > worst_capped)
			worst_capped = r.max_err_frac;
		if (!capped && r.max_err_frac > worst)
			worst = r.max_err_frac;
	}
	/* With a cap, the first window after idling includes its bucket. */
	printf("# random loads: worst error %.4f%% (uncapped), %.4f%% (capped, incl. bucket) "
	       "of a 2 ms window at 10G\n", worst * 100, worst_capped * 100);
}

/* A valid random configuration of n classes at 1 Gbit/s for the burst
 * tests: weights 1-100 (all 10 with ties), 1 class in cap_in capped, 1 in
 * strict_in strict, the port paced or not; seed as their RND. */
static struct xvs_qos_cfg
random_cfg(uint64_t *seed, uint32_t n, bool ties, unsigned cap_in, unsigned strict_in)
{
#define RND() (*seed = *seed * 6364136223846793005ull + 1442695040888963407ull, *seed >> 33)
	uint32_t w[MAXC];
	struct xvs_qos_cfg c;

	for (uint32_t i = 0; i < MAXC; i++)
		w[i] = ties ? 10 : 1 + (uint32_t)(RND() % 100);
	c = cfg_weights(1 * GBIT, n, w);
	c.shape_port = RND() % 2;
	for (uint32_t i = 0; i < n; i++) {
		if (RND() % cap_in == 0)
			c.cls[i].max_bps = 10000000ull * (1 + RND() % 50);
		if (RND() % strict_in == 0) {
			c.cls[i].weight = 0;
			c.cls[i].strict = (uint8_t)(1 + RND() % 8);
		}
		if (c.cls[i].max_bps != 0 && c.cls[i].weight != 0)
			c.cls[i].max_bps = 0; /* keep it valid: no cap below a share */
	}
	assert_int_equal(xvs_qos_validate(&c, NULL), 0);
#undef RND
	return c;
}

/* Burst picks are exactly repeated single picks: random settings (weights,
 * caps, strict classes, port pacing), random backlogs and times; the same
 * classes in the same order, the same wake time, the same scheduler state.
 * Every fourth round has equal weights and 64-byte frames, whose tags tie
 * (the lowest class first). */
static void
test_pick_burst(void **state)
{
	(void)state;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	unsigned long picks = 0;

#define RND() (seed = seed * 6364136223846793005ull + 1442695040888963407ull, seed >> 33)
	for (int round = 0; round < 300; round++) {
		uint32_t n = 1 + (uint32_t)(RND() % 8);
		bool ties = round % 4 == 0;
		struct xvs_qos_cfg c = random_cfg(&seed, n, ties, 4, 8);
		static struct xvs_qos_sched a, bs;
		uint32_t lens[MAXC][64], head[MAXC], cnt[MAXC];
		uint64_t t = 1000;

		xvs_qos_sched_init(&a, &c, t);
		xvs_qos_sched_init(&bs, &c, t);
		memset(cnt, 0, sizeof(cnt));
		memset(head, 0, sizeof(head));
		for (int step = 0; step < 40; step++) {
			struct xvs_qos_backlog bl[MAXC];
			uint8_t out[64];
			uint32_t max = 1 + (uint32_t)(RND() % 48), got, hl[MAXC];
			uint64_t wa = 0, wb = 0;

			/* Arrivals: some classes get frames (FIFO of 64 lengths). */
			for (uint32_t i = 0; i < n; i++) {
				uint32_t add = RND() % 3 == 0 ? (uint32_t)(RND() % 20) : 0;

				for (uint32_t j = 0; j < add && cnt[i] < 64; j++, cnt[i]++)
					lens[i][(head[i] + cnt[i]) & 63] =
						ties ? 64 : 64 + (uint32_t)(RND() % 9000);
				bl[i] = (struct xvs_qos_backlog){lens[i], 63, head[i], cnt[i]};
			}
			got = xvs_qos_pick_burst(&bs, bl, 24, t, out, max, &wb);
			for (uint32_t k = 0; k < max; k++) {
				for (uint32_t i = 0; i < n; i++)
					hl[i] = cnt[i] ? lens[i][head[i] & 63] + 24 : 0;
				int r = xvs_qos_pick(&a, hl, t, &wa);

				if (r < 0) {
					assert_int_equal(got, k);
					assert_true(wa == wb);
					break;
				}
				assert_true(k < got);
				assert_int_equal(out[k], r);
				head[r]++;
				cnt[r]--;
				picks++;
			}
			if (got == max)
				assert_true(wb == 0);
			assert_memory_equal(&a, &bs, sizeof(a));
			t += RND() % 200000;
		}
	}
#undef RND
	printf("# burst picks equal to single picks: %lu frames\n", picks);
}

/* A burst taken whole (xvs_qos_pick_all) leaves the scheduler exactly as
 * the burst's picks (xvs_qos_pick_burst with max = n) do, with every frame
 * picked, or refuses and changes nothing: random settings as test_pick_burst's
 * (caps, strict classes, port pacing), a random history of picks first,
 * random bursts of 1-32 frames over the classes, ties in every fourth
 * round. */
static void
test_pick_all(void **state)
{
	(void)state;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned long taken = 0, refused = 0;

#define RND() (seed = seed * 6364136223846793005ull + 1442695040888963407ull, seed >> 33)
	for (int round = 0; round < 400; round++) {
		uint32_t n = 1 + (uint32_t)(RND() % 8);
		bool ties = round % 4 == 0, absolute = round % 4 == 1;
		struct xvs_qos_cfg c = random_cfg(&seed, n, ties, 6, 10);
		static struct xvs_qos_sched a, b, was;
		uint32_t extra = round % 3 == 0 ? 0 : 24;
		uint64_t t = 1000;

		if (absolute) {
			/* absolute minimums, some classes none (their inv_w
			 * huge beside a large one's: a burst's tags move by
			 * more than 2^62), on a 10 Gbit/s link */
			uint64_t min[MAXC] = {0};

			for (uint32_t i = 0; i < n; i++)
				min[i] = RND() % 3 == 0 ? 0 : 1000000ull * (1 + RND() % (9000 / n));
			c = cfg_absolute(10 * GBIT, n, min);
			c.shape_port = RND() % 2;
			assert_int_equal(xvs_qos_validate(&c, NULL), 0);
		}

		xvs_qos_sched_init(&a, &c, t);
		for (int step = 0; step < 30; step++) {
			uint32_t lens[32], blen[MAXC][32], cnt[MAXC] = {0}, k = 1 + (uint32_t)(RND() % 32);
			struct xvs_qos_backlog bl[MAXC];
			uint8_t cls[32], out[32];
			struct xvs_qos_sent sent;
			uint32_t got;

			for (uint32_t i = 0; i < k; i++) {
				cls[i] = (uint8_t)(RND() % n);
				/* now and then about FRAME_MAX (2^17) with the 24,
				 * or a 64 KB TSO frame */
				lens[i] = ties ? 64 : RND() % 97 == 0 ? 131000 + (uint32_t)(RND() % 100) :
						 RND() % 31 == 0 ? 65536 :
						 64 + (uint32_t)(RND() % 9000);
				blen[cls[i]][cnt[cls[i]]++] = lens[i];
			}
			for (uint32_t i = 0; i < MAXC; i++)
				bl[i] = (struct xvs_qos_backlog){blen[i], 31, 0, i < n ? cnt[i] : 0};
			was = a;
			b = a;
			got = xvs_qos_pick_burst(&b, bl, extra, t, out, k, NULL);
			memset(&sent, 0xa5, sizeof(sent));
			if (xvs_qos_pick_all(&a, cls, lens, k, extra, t, &sent)) {
				if (got != k)
					fail_msg("round %d step %d: taken whole, but the picks took %u of %u",
						 round, step, got, k);
				assert_memory_equal(&a, &b, sizeof(a));
				/* what each class sent, for the port's counters */
				for (uint32_t i = 0; i < n; i++) {
					uint64_t bytes = 0;

					for (uint32_t j = 0; j < cnt[i]; j++)
						bytes += blen[i][j];
					assert_int_equal(sent.seen >> i & 1, cnt[i] > 0);
					if (cnt[i] > 0) {
						assert_int_equal(sent.frames[i], cnt[i]);
						assert_int_equal(sent.bytes[i], bytes);
					}
				}
				taken++;
			} else {
				assert_memory_equal(&a, &was, sizeof(a));
				a = b; /* go on from the picks' state */
				refused++;
			}
			t += RND() % 20000;
		}
	}
#undef RND
	printf("# bursts taken whole as their picks leave it: %lu (refused %lu)\n", taken, refused);
	assert_true(taken > 1000 && refused > 100);
}

/* 802.1Qbb PFC and 802.3x PAUSE: parsing and the pause time (quanta of 512
 * bit times at the link rate), time passed in. */
static void
test_pause(void **state)
{
	(void)state;
	uint8_t f[64] = {0x01, 0x80, 0xc2, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0x08,
			 0x01, 0x01, 0x00, 0x09};
	struct xvs_qos_pause pz;

	/* PFC, priorities 0 and 3 enabled: times 0xffff and 100. */
	f[18] = 0xff;
	f[19] = 0xff;
	f[24] = 0;
	f[25] = 100;
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 1);
	assert_true(pz.pfc);
	assert_int_equal(pz.enable, 0x09);
	assert_int_equal(pz.quanta[0], 0xffff);
	assert_int_equal(pz.quanta[3], 100);
	assert_int_equal(pz.quanta[1], 0);
	assert_int_equal(xvs_qos_pause_parse(f, 33, &pz), 0); /* too short: other MAC control */
	/* Sent to another address (unicast, broadcast): consumed, not obeyed. */
	f[5] = 0x02;
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 0);
	memset(f, 0xff, 6);
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 0);
	f[0] = 0x02;
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 0);
	memcpy(f, xvs_qos_pause_dst, 6);
	/* 802.3x PAUSE: one time for every priority. */
	f[14] = 0x00;
	f[15] = 0x01;
	f[16] = 0x12;
	f[17] = 0x34;
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 1);
	assert_false(pz.pfc);
	assert_int_equal(pz.enable, 0xff);
	for (int p = 0; p < 8; p++)
		assert_int_equal(pz.quanta[p], 0x1234);
	f[0] = 0x03; /* PAUSE to another address: consumed, not obeyed */
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 0);
	f[0] = 0x01;
	f[15] = 0x02; /* another MAC control opcode: consumed, not a pause */
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), 0);
	f[13] = 0x09; /* not MAC control (slow protocols) */
	assert_int_equal(xvs_qos_pause_parse(f, 60, &pz), -1);

	/* 1 quantum = 512 bit times: 51.2 ns at 10 Gbit/s, rounded up. */
	assert_int_equal(xvs_qos_pause_until(1, 10 * GBIT, 1000), 1000 + 52);
	assert_int_equal(xvs_qos_pause_until(10, 10 * GBIT, 1000), 1000 + 512);
	/* The longest pause at 100 Mbit/s: 65535 x 512 / 1e8 s = 335.5392 ms. */
	assert_int_equal(xvs_qos_pause_until(0xffff, 100000000ull, 0), 335539200ull);
	/* At 4 Tbit/s (the largest rate): 8.4 us. */
	assert_int_equal(xvs_qos_pause_until(0xffff, XVS_QOS_RATE_MAX, 0), 8389);
	/* 0 resumes; a link without a rate is not paused. */
	assert_int_equal(xvs_qos_pause_until(0, 10 * GBIT, 1000), 0);
	assert_int_equal(xvs_qos_pause_until(5, 0, 1000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classifier_matches_rules),
		cmocka_unit_test(test_rate_and_match_parse),
		cmocka_unit_test(test_v1_v2_531),
		cmocka_unit_test(test_v3_converged),
		cmocka_unit_test(test_live_migration_531),
		cmocka_unit_test(test_constant_and_onoff),
		cmocka_unit_test(test_classes_1_3_8),
		cmocka_unit_test(test_one_second_10g),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_ets),
		cmocka_unit_test(test_takeover),
		cmocka_unit_test(test_cap_idle_link_wake),
		cmocka_unit_test(test_port_shaping),
		cmocka_unit_test(test_rate_max_sends),
		cmocka_unit_test(test_random_loads),
		cmocka_unit_test(test_pick_burst),
		cmocka_unit_test(test_pick_all),
		cmocka_unit_test(test_pause),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	printf("# frames scheduled in simulation: %llu\n", (unsigned long long)sim_frames);
	return rc;
}

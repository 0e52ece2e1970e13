/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port security options -> built-in stages (control thread).
 *
 * A port's options mac-spoof, mac, dhcp-guard, router-guard and storm-limit
 * (src/core/config.c, validated and stored like every option) are carried
 * out by the stages mac_spoof, dhcp_guard, router_guard and storm_limit
 * (src/dp/stages/): xvsd_guard_apply() enables each on the port or not and
 * gives it its settings, before the publish that puts them in force.
 *
 * Sticky MACs (mac=sticky): the mac_spoof stage reports a new source from a
 * port with a free sticky slot; xvsd_guard_tick() adopts it (first report
 * wins, one MAC per port) and publishes. Adopted MACs live as long as the
 * port and its mac=sticky setting (not stored: after a restart the VM's next
 * frame is adopted again).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pipeline.h"
#include "stages.h"
#include "xvsd.h"

#define STICKY_MAX 1 /* sources a mac=sticky port adopts */

static struct {
	uint8_t n;
	uint8_t mac[STICKY_MAX][6];
} sticky[XVS_MAX_PORTS];

static int
enable(const char *stage, const struct xvs_port *p, bool on, struct xvs_err *err)
{
	struct xvs_stage *st = xvs_stage_find(stage);

	if (st == NULL)
		return on ? xvs_err_set(err, -ENOENT, "port %s: stage %s is not registered",
					p->cfg.name, stage)
			  : 0;
	return xvs_stage_port_enable(st, p->slot, p->cfg.name, on, err);
}

static int
configure(const char *stage, const struct xvs_port *p, const struct xvs_ext_kv *kv, unsigned n,
	  struct xvs_err *err)
{
	struct xvs_stage *st = xvs_stage_find(stage);

	if (st == NULL)
		return xvs_err_set(err, -ENOENT, "port %s: stage %s is not registered",
				   p->cfg.name, stage);
	return xvs_stage_configure(st, p->slot, kv, n, true, err);
}

static int
apply_mac_spoof(const struct xvs_port *p, struct xvs_err *err)
{
	char learned[STICKY_MAX * 18 + 1] = "", nsticky[4];
	struct xvs_ext_kv kv[3];
	int r;

	if (!xvs_port_cfg_mac_spoof_active(&p->cfg)) {
		sticky[p->slot].n = 0;
		return enable("mac_spoof", p, false, err);
	}
	if (!p->cfg.mac_sticky)
		sticky[p->slot].n = 0;
	for (unsigned i = 0; i < sticky[p->slot].n; i++) {
		char m[18];

		xvs_mac_format(sticky[p->slot].mac[i], m);
		snprintf(learned + strlen(learned), sizeof(learned) - strlen(learned), "%s%s",
			 i > 0 ? "," : "", m);
	}
	snprintf(nsticky, sizeof(nsticky), "%d", p->cfg.mac_sticky ? STICKY_MAX : 0);
	kv[0] = (struct xvs_ext_kv){"macs", p->cfg.mac};
	kv[1] = (struct xvs_ext_kv){"sticky", nsticky};
	kv[2] = (struct xvs_ext_kv){"learned", learned};
	r = configure("mac_spoof", p, kv, 3, err);
	if (r < 0)
		return r;
	return enable("mac_spoof", p, true, err);
}

int
xvsd_guard_apply(const struct xvs_port *p, struct xvs_err *err)
{
	const struct xvs_port_cfg *c = &p->cfg;
	int r;

	xvs_stage_port_set_flags(p->slot,
				 xvs_port_kind_uplink(c->kind) ? XVS_EXT_PORT_UPLINK : 0);
	r = apply_mac_spoof(p, err);
	if (r == 0)
		r = enable("dhcp_guard", p, c->dhcp_guard, err);
	if (r == 0)
		r = enable("router_guard", p, c->router_guard, err);
	if (r == 0 && c->storm_limit > 0) {
		char pps[16];
		struct xvs_ext_kv kv = {"pps", pps};

		snprintf(pps, sizeof(pps), "%u", c->storm_limit);
		r = configure("storm_limit", p, &kv, 1, err);
	}
	if (r == 0)
		r = enable("storm_limit", p, c->storm_limit > 0, err);
	return r;
}

void
xvsd_guard_port_removed(const struct xvs_port *p)
{
	xvs_stage_port_removed(p->slot, p->cfg.name);
	sticky[p->slot].n = 0;
}

void
xvsd_guard_tick(void)
{
	bool changed = false;
	uint8_t mac[6];
	uint16_t slot;

	while (xvs_mac_spoof_take_sticky(&slot, mac)) {
		struct xvs_port *p = slot < XVS_MAX_PORTS ? xvsd.port[slot] : NULL;
		struct xvs_err err;
		char m[18];

		/* A report from before a change of the port's settings (or of
		 * the port in the slot) is stale: the next frame reports again. */
		if (p == NULL || !p->cfg.mac_sticky || !xvs_port_cfg_mac_spoof_active(&p->cfg) ||
		    sticky[slot].n >= STICKY_MAX)
			continue;
		memcpy(sticky[slot].mac[sticky[slot].n++], mac, 6);
		xvs_mac_format(mac, m);
		if (apply_mac_spoof(p, &err) < 0) {
			sticky[slot].n--;
			XVS_WARN("guard", "port %s: sticky MAC %s not adopted: %s", p->cfg.name, m,
				 err.msg);
			continue;
		}
		XVS_INFO("guard", "port %s: adopted %s as its sticky MAC", p->cfg.name, m);
		changed = true;
	}
	if (changed && xvsd_publish() < 0)
		xvsd.republish = true;
}

json_t *
xvsd_guard_json(const struct xvs_port *p)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < xvs_stage_count(); i++) {
		const struct xvs_stage *st = xvs_stage_at(i);

		if (xvs_stage_port_enabled(st, p->slot))
			json_array_append_new(a, json_string(xvs_stage_desc(st)->name));
	}
	return a;
}

json_t *
xvsd_guard_sticky_json(const struct xvs_port *p)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < sticky[p->slot].n; i++) {
		char m[18];

		xvs_mac_format(sticky[p->slot].mac[i], m);
		json_array_append_new(a, json_string(m));
	}
	return a;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port VLAN rules (core): ingress classification, egress tagging, and the
 * text form of VLAN lists ("1-10,20") used by configuration and show output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vlan.h"

static inline void
bit_set(uint64_t *bm, uint16_t vid)
{
	bm[vid / 64] |= UINT64_C(1) << (vid % 64);
}

static inline bool
vid_valid(uint32_t vid)
{
	return xvs_vlan_vid_valid(vid);
}

void
xvs_vlan_cfg_init(struct xvs_vlan_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = XVS_VLAN_ACCESS;
	cfg->access_vid = XVS_VLAN_DEFAULT;
}

/* Parse a VLAN number at *p; advances *p. Returns -EINVAL with a message. */
static int
parse_vid(const char *what, const char *s, const char **p, uint16_t *vid, struct xvs_err *err)
{
	const char *q = *p;
	uint32_t v = 0;
	int ndig = 0;

	while (*q >= '0' && *q <= '9') {
		/* Stop accumulating early: anything this long is out of range. */
		if (ndig < 6)
			v = v * 10 + (uint32_t)(*q - '0');
		ndig++;
		q++;
	}
	if (ndig == 0)
		return xvs_err_set(err, -EINVAL,
				   "%s \"%.64s\" is not a VLAN list (expected e.g. 1-10,20)",
				   what, s);
	if (ndig > 6 || !vid_valid(v))
		return xvs_err_set(err, -EINVAL, "%s: VLAN %.*s outside %d-%d", what,
				   ndig > 16 ? 16 : ndig, *p, XVS_VLAN_MIN, XVS_VLAN_MAX);
	*vid = (uint16_t)v;
	*p = q;
	return 0;
}

int
xvs_vlan_list_parse(const char *what, const char *s, uint64_t bitmap[XVS_VLAN_WORDS],
		    struct xvs_err *err)
{
	uint64_t bm[XVS_VLAN_WORDS] = {0};
	const char *p = s;
	uint16_t lo, hi;
	int ret;

	if (what == NULL)
		what = "vlan list";
	if (bitmap == NULL || s == NULL)
		return xvs_err_set(err, -EINVAL, "%s: no VLAN list given", what);
	memset(bitmap, 0, XVS_VLAN_WORDS * sizeof(uint64_t));

	/* "" is the empty set, so a formatted empty list parses back. An empty
	 * item inside a list ("1,,2", "1,") is a mistake and is rejected. */
	while (*p != '\0') {
		ret = parse_vid(what, s, &p, &lo, err);
		if (ret < 0)
			return ret;
		hi = lo;
		if (*p == '-') {
			p++;
			ret = parse_vid(what, s, &p, &hi, err);
			if (ret < 0)
				return ret;
			if (hi < lo)
				return xvs_err_set(err, -EINVAL,
						   "%s: range %u-%u is descending (write %u-%u)",
						   what, lo, hi, hi, lo);
		}
		for (uint32_t v = lo; v <= hi; v++)
			bit_set(bm, (uint16_t)v);
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return xvs_err_set(err, -EINVAL,
						   "%s \"%.64s\" ends with ',' (empty item)", what, s);
		} else if (*p != '\0') {
			return xvs_err_set(err, -EINVAL,
					   "%s \"%.64s\" is not a VLAN list (expected e.g. 1-10,20)",
					   what, s);
		}
	}
	memcpy(bitmap, bm, sizeof(bm));
	return 0;
}

int
xvs_vlan_list_format(const uint64_t bitmap[XVS_VLAN_WORDS], char *buf, size_t len)
{
	size_t used = 0;
	uint32_t v = 0, start;
	int n;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	while (v < 4096) {
		if (!xvs_vlan_bit_test(bitmap, (uint16_t)v)) {
			v++;
			continue;
		}
		start = v;
		while (v + 1 < 4096 && xvs_vlan_bit_test(bitmap, (uint16_t)(v + 1)))
			v++;
		if (start == v)
			n = snprintf(buf == NULL || used >= len ? NULL : buf + used,
				     buf == NULL || used >= len ? 0 : len - used, "%s%u",
				     used ? "," : "", start);
		else
			n = snprintf(buf == NULL || used >= len ? NULL : buf + used,
				     buf == NULL || used >= len ? 0 : len - used, "%s%u-%u",
				     used ? "," : "", start, v);
		used += (size_t)n;
		v++;
	}
	return (int)used;
}

int
xvs_vlan_cfg_validate(const struct xvs_vlan_cfg *cfg, const char *port, struct xvs_err *err)
{
	bool any = false;

	if (port == NULL)
		port = "?";
	switch (cfg->mode) {
	case XVS_VLAN_ACCESS:
		if (!vid_valid(cfg->access_vid))
			return xvs_err_set(err, -EINVAL, "port %s: vlan %u outside %d-%d", port,
					   cfg->access_vid, XVS_VLAN_MIN, XVS_VLAN_MAX);
		return 0;
	case XVS_VLAN_TRUNK:
		if (cfg->native_vid != 0 && !vid_valid(cfg->native_vid))
			return xvs_err_set(err, -EINVAL, "port %s: native %u outside %d-%d", port,
					   cfg->native_vid, XVS_VLAN_MIN, XVS_VLAN_MAX);
		if (xvs_vlan_bit_test(cfg->allowed, 0) || xvs_vlan_bit_test(cfg->allowed, 4095))
			return xvs_err_set(err, -EINVAL,
					   "port %s: trunks contains reserved VLAN %u", port,
					   xvs_vlan_bit_test(cfg->allowed, 0) ? 0 : 4095);
		for (int i = 0; i < XVS_VLAN_WORDS; i++)
			any |= cfg->allowed[i] != 0;
		if (!any && cfg->native_vid == 0)
			return xvs_err_set(err, -EINVAL,
					   "port %s: trunk carries no VLAN (set trunks=LIST or "
					   "native=ID)", port);
		return 0;
	default:
		return xvs_err_set(err, -EINVAL,
				   "port %s: vlan-mode %d is neither access nor trunk", port,
				   (int)cfg->mode);
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Error reporting for the DPDK-free core (libxvscore).
 *
 * Core functions never print: they return 0 or a negative errno and, where a
 * caller passes one, fill a struct xvs_err with a message that names the
 * object and the rule that was broken (libbpf model). The control thread
 * hands that message to the client unchanged.
 */
#ifndef XVS_ERR_H
#define XVS_ERR_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

struct xvs_err {
	int code;      /* negative errno, 0 when no error was set */
	char msg[256]; /* human message: "port vm1: vlan 5000 outside 1-4094" */
};

/* Set err (if not NULL) to code and a printf-style message; returns code so
 * callers can write "return xvs_err_set(err, -EINVAL, ...)". */
static inline int __attribute__((format(printf, 3, 4)))
xvs_err_set(struct xvs_err *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static inline void
xvs_err_clear(struct xvs_err *err)
{
	if (err != NULL) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

#endif /* XVS_ERR_H */

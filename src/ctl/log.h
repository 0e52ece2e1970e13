/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging for xvsd (control thread and set-up code; never per packet).
 * One line per event: "<time> <LEVEL> <module>: <message>", on stderr.
 * Tests fail on unexpected WARNING/ERR lines, so those mean what they say.
 */
#ifndef XVS_LOG_H
#define XVS_LOG_H

enum xvs_log_level { XVS_LOG_ERR = 0, XVS_LOG_WARNING, XVS_LOG_INFO, XVS_LOG_DEBUG };

extern enum xvs_log_level xvs_log_max;

void xvs_log(enum xvs_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define XVS_ERR(mod, ...) xvs_log(XVS_LOG_ERR, mod, __VA_ARGS__)
#define XVS_WARN(mod, ...) xvs_log(XVS_LOG_WARNING, mod, __VA_ARGS__)
#define XVS_INFO(mod, ...) xvs_log(XVS_LOG_INFO, mod, __VA_ARGS__)
#define XVS_DEBUG(mod, ...) xvs_log(XVS_LOG_DEBUG, mod, __VA_ARGS__)

#endif /* XVS_LOG_H */

/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

enum xvs_log_level xvs_log_max = XVS_LOG_INFO;

static const char *const level_name[] = {"ERR", "WARNING", "INFO", "DEBUG"};

void
xvs_log(enum xvs_log_level level, const char *module, const char *fmt, ...)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > xvs_log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s %s: ", ts, now.tv_nsec / 1000000, level_name[level], module);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

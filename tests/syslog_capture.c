/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * syslog_capture.c - test helper, LD_PRELOADed: appends every syslog(3)
 * line to the file named by $MOBILEID_TEST_SYSLOG instead of /dev/log, so
 * tests can assert on what the module logs.  Not installed.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static char ident_buf[64] = "";

void openlog(const char *ident, int option, int facility);
void closelog(void);
void syslog(int priority, const char *format, ...);
void vsyslog(int priority, const char *format, va_list ap);
void __syslog_chk(int priority, int flag, const char *format, ...);
void __vsyslog_chk(int priority, int flag, const char *format, va_list ap);

void openlog(const char *ident, int option, int facility)
{
	snprintf(ident_buf, sizeof(ident_buf), "%s", ident ? ident : "");
}

void closelog(void)
{
}

void vsyslog(int priority, const char *format, va_list ap)
{
	const char *path = getenv("MOBILEID_TEST_SYSLOG");
	char line[4096];
	int n, fd;

	if (!path)
		return;
	n = snprintf(line, sizeof(line), "<%d> %s: ", LOG_PRI(priority), ident_buf);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, format, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		ssize_t w = write(fd, line, (size_t)n);
		(void)w;
		close(fd);
	}
}

void syslog(int priority, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsyslog(priority, format, ap);
	va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *format, va_list ap)
{
	vsyslog(priority, format, ap);
}

void __syslog_chk(int priority, int flag, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsyslog(priority, format, ap);
	va_end(ap);
}

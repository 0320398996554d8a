/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testutil.c - helpers shared by the unit tests (testutil.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

int tu_mkdtemp(char *dir, size_t dirlen, const char *name)
{
	int n = snprintf(dir, dirlen, "/tmp/mid-test-%s-XXXXXX", name);

	if (n < 0 || (size_t)n >= dirlen)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

void tu_rmtree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	size_t len = strlen(text);

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

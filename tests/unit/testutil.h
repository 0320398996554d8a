/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testutil.h - what the cmocka unit tests share: temporary directories
 * under /tmp, files written with a given mode, assert_contains.
 * Include after <cmocka.h>.
 */
#ifndef MID_TESTUTIL_H
#define MID_TESTUTIL_H

#include <stddef.h>
#include <string.h>
#include <sys/types.h>

/* Fails the test unless the string hay contains needle. */
#define assert_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !strstr(h_, n_)) \
		fail_msg("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
} while (0)

/* Create a new directory /tmp/mid-test-NAME-XXXXXX (mkdtemp) and put its
 * path in dir.  0, or -1 (for setup functions: no cmocka assertion). */
int tu_mkdtemp(char *dir, size_t dirlen, const char *name);

/* Remove dir and everything below it (symbolic links are not followed). */
void tu_rmtree(const char *dir);

/* Replace path with a new file holding text, mode set with fchmod (not
 * subject to the umask); every step asserted. */
void tu_write_file(const char *path, const char *text, mode_t mode);

#endif

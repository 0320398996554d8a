/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cache.h - small root-only cache files (token, user mapping) for
 * short-lived processes such as one sshd child per login.
 */
#ifndef MID_CACHE_H
#define MID_CACHE_H

#include <stddef.h>

#include "util.h"

/* Read dir/name into out.  The file must be a regular file owned by the
 * effective user with no group/other access, in a directory with the same
 * rule; -1 with a reason otherwise (a missing file is -1 with err ""). */
int mid_cache_read(const char *dir, const char *name, mid_buf *out,
                   char *err, size_t errlen);

/* Atomically replace dir/name (mode 0600), creating dir (0700) if needed. */
int mid_cache_write(const char *dir, const char *name, const char *data, size_t len,
                    char *err, size_t errlen);

void mid_cache_remove(const char *dir, const char *name);

/* dir must be a directory of the effective user, not writable by group or
 * others; created 0700 when missing and create is set.  0 or -1. */
int mid_cache_dir_check(const char *dir, int create, char *err, size_t errlen);

#endif

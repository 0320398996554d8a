/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cache.c - atomic, permission-checked cache files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

#define CACHE_MAX (64 * 1024)

int mid_cache_dir_check(const char *dir, int create, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		/* Another process may create it at the same moment: EEXIST is fine. */
		if (errno == ENOENT && create && (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
		    lstat(dir, &st) == 0)
			goto check;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
check:
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0022)) {
		snprintf(err, errlen, "%s: must be owned by uid %u and not writable by group or "
		         "others (owner %u, mode %04o)", dir, (unsigned)geteuid(),
		         (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int mid_cache_read(const char *dir, const char *name, mid_buf *out,
                   char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	char buf[4096];
	ssize_t n;
	int fd;

	err[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	/* O_NONBLOCK: a FIFO planted here must not hang the login. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (mid_cache_dir_check(dir, 0, err, errlen) != 0)
		goto fail;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0077) || st.st_size > CACHE_MAX) {
		snprintf(err, errlen, "%s: refused (must be a regular file of uid %u, mode 0600)",
		         path, (unsigned)geteuid());
		goto fail;
	}
	mid_buf_reset(out);
	out->limit = CACHE_MAX;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (mid_buf_append(out, buf, (size_t)n) != 0) {
			snprintf(err, errlen, "%s: too large", path);
			goto fail;
		}
	}
	mid_wipe(buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	mid_wipe(buf, sizeof(buf));
	close(fd);
	return -1;
}

int mid_cache_write(const char *dir, const char *name, const char *data, size_t len,
                    char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t off = 0;
	int fd;

	if (mid_cache_dir_check(dir, 1, err, errlen) != 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

void mid_cache_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path))
		unlink(path);
}

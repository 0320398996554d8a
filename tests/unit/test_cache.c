/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_cache.c - the permission-checked, atomically replaced cache files.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "testutil.h"

struct fx {
	char top[64];     /* mkdtemp */
	char dir[128];    /* top/cache: the cache directory, created by the tests */
	char err[1024];
	mid_buf buf;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (tu_mkdtemp(f->top, sizeof(f->top), "cache") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/cache", f->top);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	chmod(f->dir, 0700);
	tu_rmtree(f->top);
	mid_buf_free(&f->buf);
	free(f);
	return 0;
}

static void path_of(const struct fx *f, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", f->dir, name);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_ok(struct fx *f, const char *name, const void *data, size_t len)
{
	f->err[0] = '\0';
	if (mid_cache_write(f->dir, name, data, len, f->err, sizeof(f->err)) != 0)
		fail_msg("mid_cache_write: %s", f->err);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	static const char data[] = "{\"access_token\":\"abc\",\"expires_ms\":1700000000000}\n";
	static const char bin[] = { 'a', 0, 'b', '\n', (char)0xff, 0 };

	write_ok(f, "token", data, sizeof(data) - 1);
	f->err[0] = 'X';
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->err, "");
	assert_int_equal(f->buf.len, sizeof(data) - 1);
	assert_string_equal(f->buf.data, data);

	/* Binary content, NULs included; the buffer is replaced, not appended to. */
	write_ok(f, "bin", bin, sizeof(bin));
	assert_int_equal(mid_cache_read(f->dir, "bin", &f->buf, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->buf.len, sizeof(bin));
	assert_memory_equal(f->buf.data, bin, sizeof(bin));
	assert_int_equal(f->buf.data[f->buf.len], '\0');

	/* An empty file reads as empty. */
	write_ok(f, "empty", "", 0);
	assert_int_equal(mid_cache_read(f->dir, "empty", &f->buf, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->buf.len, 0);
	assert_string_equal(f->buf.data, "");
}

static void test_modes_after_write(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char path[256];
	mode_t old = umask(0);   /* a careless umask must not widen the modes */

	write_ok(f, "user-0123456789abcdef", "u", 1);
	umask(old);
	assert_int_equal(lstat(f->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	path_of(f, "user-0123456789abcdef", path, sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* No temporary file is left behind. */
	assert_int_equal(entries(f->dir), 1);

	/* A restrictive umask does not break writing either. */
	old = umask(0777);
	write_ok(f, "again", "x", 1);
	umask(old);
	path_of(f, "again", path, sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(mid_cache_read(f->dir, "again", &f->buf, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->buf.data, "x");
}

static void test_dir_created_0700(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char nested[256];
	mode_t old = umask(022);

	write_ok(f, "token", "t", 1);
	umask(old);
	assert_int_equal(lstat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	/* Only the last component is created. */
	snprintf(nested, sizeof(nested), "%s/a/b", f->top);
	assert_int_equal(mid_cache_write(nested, "token", "t", 1, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, nested);
	assert_contains(f->err, strerror(ENOENT));
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	char missing_dir[256];

	write_ok(f, "other", "o", 1);
	strcpy(f->err, "junk");
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "");
	/* A missing directory is a miss too. */
	snprintf(missing_dir, sizeof(missing_dir), "%s/nope", f->top);
	strcpy(f->err, "junk");
	assert_int_equal(mid_cache_read(missing_dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "");
}

static void test_refuse_mode_0644(void **state)
{
	struct fx *f = *state;
	char path[256], want[512];

	write_ok(f, "token", "secret", 6);
	path_of(f, "token", path, sizeof(path));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: refused (must be a regular file of uid %u, mode 0600)",
	         path, (unsigned)geteuid());
	assert_string_equal(f->err, want);
	for (mode_t m = 01; m <= 040; m <<= 1) {   /* any group/other bit */
		assert_int_equal(chmod(path, 0600 | m), 0);
		assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
		assert_contains(f->err, "refused");
	}
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->buf.data, "secret");
	/* Writing replaces the loose file with a 0600 one. */
	assert_int_equal(chmod(path, 0644), 0);
	write_ok(f, "token", "new", 3);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->buf.data, "new");
}

static void test_refuse_symlink(void **state)
{
	struct fx *f = *state;
	char path[256], target[256], want[512];
	struct stat st;

	write_ok(f, "real", "real content", 12);
	path_of(f, "real", target, sizeof(target));
	path_of(f, "token", path, sizeof(path));
	assert_int_equal(symlink(target, path), 0);
	strcpy(f->err, "");
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ELOOP));
	assert_string_equal(f->err, want);   /* not "" (a miss) */

	/* A dangling symlink is refused too, not taken for a miss. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/nonexistent/target", path), 0);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, want);

	/* Writing replaces the link itself, never its target. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	write_ok(f, "token", "via write", 9);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(mid_cache_read(f->dir, "real", &f->buf, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->buf.data, "real content");
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->buf.data, "via write");
}

static void test_refuse_bad_dir(void **state)
{
	struct fx *f = *state;
	char link[256], want[512], file[256];

	write_ok(f, "token", "t", 1);
	/* Writable by others or by the group. */
	static const mode_t bad[] = { 0777, 0702, 0720, 0770 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(f->dir, bad[i]), 0);
		assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
		snprintf(want, sizeof(want), "%s: must be owned by uid %u and not writable by group "
		         "or others (owner %u, mode %04o)", f->dir, (unsigned)geteuid(),
		         (unsigned)geteuid(), (unsigned)bad[i]);
		assert_string_equal(f->err, want);
		assert_int_equal(mid_cache_write(f->dir, "token", "u", 1, f->err, sizeof(f->err)), -1);
		assert_string_equal(f->err, want);
	}
	/* Readable by others is fine for the directory (the files are 0600). */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_int_equal(chmod(f->dir, 0700), 0);

	/* A symlinked directory. */
	snprintf(link, sizeof(link), "%s/link", f->top);
	assert_int_equal(symlink(f->dir, link), 0);
	assert_int_equal(mid_cache_read(link, "token", &f->buf, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: not a directory", link);
	assert_string_equal(f->err, want);
	assert_int_equal(mid_cache_write(link, "token", "u", 1, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, want);

	/* A file where the directory should be. */
	snprintf(file, sizeof(file), "%s/file", f->top);
	assert_int_equal(close(open(file, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(mid_cache_write(file, "token", "u", 1, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: not a directory", file);
	assert_string_equal(f->err, want);
}

static void test_refuse_foreign_owner(void **state)
{
	struct fx *f = *state;
	char path[256];

	if (geteuid() != 0)
		skip();   /* only root can give files away */
	write_ok(f, "token", "t", 1);
	path_of(f, "token", path, sizeof(path));
	assert_int_equal(chown(path, 4242, 4242), 0);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, "refused (must be a regular file of uid 0, mode 0600)");
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chown(f->dir, 4242, 4242), 0);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, "must be owned by uid 0 and not writable by group or others "
	                "(owner 4242, mode 0700)");
	assert_int_equal(mid_cache_write(f->dir, "token", "u", 1, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, "owner 4242");
	assert_int_equal(chown(f->dir, 0, 0), 0);
}

static void test_atomic_replace(void **state)
{
	struct fx *f = *state;
	char big[8192];

	memset(big, 'L', sizeof(big));
	write_ok(f, "token", big, sizeof(big));
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->buf.len, sizeof(big));
	/* A shorter content replaces the old one fully: no tail of it remains. */
	write_ok(f, "token", "short", 5);
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->buf.len, 5);
	assert_string_equal(f->buf.data, "short");
	assert_int_equal(entries(f->dir), 1);

	/* The old file stays whole for a reader that opened it before the
	 * rename (a new inode, not a rewrite in place). */
	{
		char path[256], got[16] = "";
		int fd;
		path_of(f, "token", path, sizeof(path));
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		write_ok(f, "token", "replacement", 11);
		assert_int_equal(read(fd, got, sizeof(got) - 1), 5);
		assert_string_equal(got, "short");
		close(fd);
		assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), 0);
		assert_string_equal(f->buf.data, "replacement");
	}
}

static void test_size_limit(void **state)
{
	struct fx *f = *state;
	size_t max = 64 * 1024;
	char *data = malloc(max + 1);

	assert_non_null(data);
	memset(data, 'x', max + 1);
	write_ok(f, "max", data, max);
	assert_int_equal(mid_cache_read(f->dir, "max", &f->buf, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->buf.len, max);
	write_ok(f, "big", data, max + 1);
	assert_int_equal(mid_cache_read(f->dir, "big", &f->buf, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, "refused");
	free(data);
}

static void test_fifo_does_not_hang(void **state)
{
	struct fx *f = *state;
	char path[256];

	write_ok(f, "other", "o", 1);
	path_of(f, "token", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);   /* a blocking open would hang the login: kill the test instead */
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	alarm(0);
	assert_contains(f->err, "refused");
	/* A directory in its place. */
	path_of(f, "sub", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mid_cache_read(f->dir, "sub", &f->buf, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, "refused");
}

static void test_remove(void **state)
{
	struct fx *f = *state;

	write_ok(f, "token", "t", 1);
	write_ok(f, "keep", "k", 1);
	mid_cache_remove(f->dir, "token");
	strcpy(f->err, "junk");
	assert_int_equal(mid_cache_read(f->dir, "token", &f->buf, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "");
	mid_cache_remove(f->dir, "token");   /* again: harmless */
	assert_int_equal(entries(f->dir), 1);
	assert_int_equal(mid_cache_read(f->dir, "keep", &f->buf, f->err, sizeof(f->err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_after_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_created_0700, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_mode_0644, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_bad_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_foreign_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_does_not_hang, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h - helpers for the libFuzzer targets in fuzz/ (see fuzz/README.md).
 * Each target is one file fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput;
 * a broken invariant calls FUZZ_CHECK, which aborts: libFuzzer reports it
 * as a crash, like a sanitizer error.
 */
#ifndef MID_FUZZ_H
#define MID_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run before a broken invariant aborts (atexit handlers do not run then). */
static void (*fuzz_abort_hook_)(void);

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
		if (fuzz_abort_hook_) \
			fuzz_abort_hook_(); \
		abort(); \
	} \
} while (0)

/* Defaults for ASan in one target (ASAN_OPTIONS still wins), e.g.
 * FUZZ_ASAN_DEFAULTS("quarantine_size_mb=16"): a target whose every input
 * allocates much (libphonenumber's ICU regexps, stdio buffers of temporary
 * files) otherwise spends its time faulting in the fresh pages ASan's
 * 256 MB quarantine hands out - two to three times fewer executions.  A
 * use-after-free is still caught while 16 MB of frees have not passed. */
#define FUZZ_ASAN_DEFAULTS(opts) \
	const char *__asan_default_options(void); \
	const char *__asan_default_options(void) { return (opts); }

/* An exact-size heap copy (no NUL after it): a parser that reads past len
 * is caught by ASan. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	FUZZ_CHECK(p != NULL);
	if (size)
		memcpy(p, data, size);
	return p;
}

/* A NUL-terminated copy (cut at the first NUL byte of data). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	FUZZ_CHECK(p != NULL);
	if (size)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

/* Split a NUL-terminated copy of data at NUL bytes into at most n fields;
 * missing fields are NULL.  Free *buf afterwards. */
static inline void fuzz_fields(const uint8_t *data, size_t size, char **buf,
                               const char **fields, size_t n)
{
	char *p, *end;
	size_t i = 0;

	*buf = p = malloc(size + 1);
	FUZZ_CHECK(p != NULL);
	if (size)
		memcpy(p, data, size);
	p[size] = '\0';
	end = p + size;
	for (; i < n; i++) {
		if (p > end) {
			fields[i] = NULL;
			continue;
		}
		fields[i] = p;
		p += strlen(p) + 1;
	}
}

/* A private directory for a target's files, made on first use (tmpfs when
 * there is one: many times the executions of a disk-backed /tmp) and
 * removed at exit, or when an invariant breaks, with the files the target
 * named by fuzz_tmp_file. */
#define FUZZ_TMP_FILES 4
static char fuzz_tmp_dir_[64];
static char fuzz_tmp_paths_[FUZZ_TMP_FILES][96];

static inline void fuzz_tmp_cleanup_(void)
{
	for (int i = 0; i < FUZZ_TMP_FILES; i++)
		if (fuzz_tmp_paths_[i][0])
			unlink(fuzz_tmp_paths_[i]);
	rmdir(fuzz_tmp_dir_);
}

/* The path of file name (a short name; at most FUZZ_TMP_FILES of them) in
 * the directory.  The file is not created. */
static inline const char *fuzz_tmp_file(const char *name)
{
	int i;

	if (!fuzz_tmp_dir_[0]) {
		const char *tmp = getenv("TMPDIR");
		if (!tmp || !*tmp || strlen(tmp) >= 32)
			tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_tmp_dir_, sizeof(fuzz_tmp_dir_), "%s/mobileid-fuzz-XXXXXX", tmp);
		FUZZ_CHECK(mkdtemp(fuzz_tmp_dir_) != NULL);
		atexit(fuzz_tmp_cleanup_);
		fuzz_abort_hook_ = fuzz_tmp_cleanup_;
	}
	for (i = 0; i < FUZZ_TMP_FILES && fuzz_tmp_paths_[i][0]; i++) {
		const char *slash = strrchr(fuzz_tmp_paths_[i], '/');
		if (!strcmp(slash + 1, name))
			return fuzz_tmp_paths_[i];
	}
	FUZZ_CHECK(i < FUZZ_TMP_FILES && strlen(name) < 24);
	snprintf(fuzz_tmp_paths_[i], sizeof(fuzz_tmp_paths_[i]), "%s/%s", fuzz_tmp_dir_, name);
	return fuzz_tmp_paths_[i];
}

/* Replace the file path with data, mode 0600. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	FUZZ_CHECK(close(fd) == 0);
}

/* 1 if s (NUL-terminated) is valid UTF-8 without overlongs or surrogates. */
static inline int fuzz_valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n;
		unsigned int cp;

		if (p[0] < 0x80) {
			p++;
			continue;
		} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
			n = 2;
			cp = p[0] & 0x1f;
		} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
			n = 3;
			cp = p[0] & 0x0f;
		} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
			n = 4;
			cp = p[0] & 0x07;
		} else {
			return 0;
		}
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		p += n;
	}
	return 1;
}

/* 1 if s holds a C0 control (tab excepted), DEL, or a C1 control. */
static inline int fuzz_has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 1;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
			return 1;
	}
	return 0;
}

/* An API id as the library accepts it: safe in a URL path and a log. */
static inline int fuzz_safe_id(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len < 128 && strcmp(s, ".") && strcmp(s, "..") &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789-_.") == len;
}

#endif

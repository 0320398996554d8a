/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h - helpers for the libFuzzer targets in fuzz/ (see fuzz/README.md).
 * Each target is one file fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput;
 * a broken invariant calls FUZZ_CHECK, which aborts: libFuzzer reports it
 * as a crash, like a sanitizer error.
 */
#ifndef MID_FUZZ_H
#define MID_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

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

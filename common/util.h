/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util.h - small helpers shared by the library: memory wiping, text
 * sanitising, random codes, clocks and a growable buffer.
 */
#ifndef MID_UTIL_H
#define MID_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Format a reason into err (nothing when err is NULL or errlen 0). */
void mid_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Overwrite memory that held a secret; never optimised away. */
void mid_wipe(void *p, size_t len);
/* Wipe a string and free it. */
void mid_free_secret(char *s);

/* 1 if s contains an ASCII control character (tab excepted). */
int mid_has_ctl(const char *s);
/* A copy of s without control characters and without invalid UTF-8;
 * newlines are kept when keep_nl.  At most max bytes (UTF-8 safe). */
char *mid_sanitize(const char *s, int keep_nl, size_t max);
/* s in double quotes with '"' and '\\' escaped: a log field value that
 * cannot end early.  s should be sanitised.  NULL on allocation failure. */
char *mid_log_quote(const char *s);
/* A value for a key=value log field: s sanitised (mid_sanitize, at most
 * max bytes), and quoted (mid_log_quote) when it is empty or holds a blank,
 * a quote, a backslash or '=', so that no value can pass for fields of its
 * own.  NULL on allocation failure. */
char *mid_log_field(const char *s, size_t max);
/* Truncate s in place to at most max bytes without splitting a UTF-8
 * sequence. */
void mid_utf8_truncate(char *s, size_t max);
/* Length (1..4) of the valid UTF-8 character at s, 0 if the bytes at s
 * are not one (overlong forms and surrogates included). */
size_t mid_utf8_char_len(const char *s);
/* 1 if the NUL-terminated s is valid UTF-8 (no overlong forms, no
 * surrogates). */
int mid_utf8_valid(const char *s);
/* A copy of s with the two-character escapes \n and \\ decoded. */
char *mid_unescape_newlines(const char *s);

/* Uniform random number of 'digits' decimal digits (1..9) from
 * getrandom(); writes digits+1 bytes.  0 or -1. */
int mid_random_code(char *out, int digits);

/* Milliseconds on CLOCK_MONOTONIC / CLOCK_REALTIME. */
int64_t mid_now_ms(void);
int64_t mid_wall_ms(void);
/* Sleep up to ms, in slices, returning early (1) when abort_fn says so. */
int mid_sleep_ms(long ms, int (*abort_fn)(void *), void *ctx);

/* A growable byte buffer, always NUL-terminated. */
typedef struct mid_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;    /* 0 = no limit */
	int overflow;    /* set when an append went past limit */
} mid_buf;

int mid_buf_append(mid_buf *b, const void *p, size_t n);
int mid_buf_printf(mid_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mid_buf_reset(mid_buf *b);   /* keeps the memory, wipes the content */
void mid_buf_free(mid_buf *b);    /* wipes and frees */

/* Lower-case hex FNV-1a 64 of s: a file-name-safe key, not a secret hash. */
void mid_hash_hex(const char *s, char out[17]);

#endif

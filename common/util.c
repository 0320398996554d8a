/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util.c - helpers shared by the library.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

void mid_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void mid_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

void mid_free_secret(char *s)
{
	if (s) {
		mid_wipe(s, strlen(s));
		free(s);
	}
}

int mid_has_ctl(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

char *mid_sanitize(const char *s, int keep_nl, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0;
	char *out = malloc(len + 1);

	if (!out)
		return NULL;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 0) {
			if (o + 1 > max)
				break;
			out[o++] = '?';
			p++;
			continue;
		}
		if (n == 1 && ((*p < 0x20 && *p != '\t' && !(keep_nl && *p == '\n')) || *p == 0x7f)) {
			p++;
			continue;
		}
		/* C1 controls U+0080..U+009F (U+009B is a terminal's CSI). */
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			p += 2;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

char *mid_log_quote(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 3), *o = out;

	if (!out)
		return NULL;
	*o++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

char *mid_log_field(const char *s, size_t max)
{
	char *c = mid_sanitize(s ? s : "", 0, max), *q;

	if (!c || (*c && !strpbrk(c, " \t\"\\=")))
		return c;
	q = mid_log_quote(c);
	free(c);
	return q;
}

void mid_utf8_truncate(char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

size_t mid_utf8_char_len(const char *s)
{
	return utf8_seq((const unsigned char *)s);
}

int mid_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

char *mid_unescape_newlines(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s += 2;
		} else if (s[0] == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

int mid_random_code(char *out, int digits)
{
	uint32_t bound = 1, limit, v;

	if (digits < 1 || digits > 9)
		return -1;
	for (int i = 0; i < digits; i++)
		bound *= 10;
	/* Reject the top of the range so every code is equally likely. */
	limit = UINT32_MAX - (UINT32_MAX % bound);
	do {
		ssize_t r = getrandom(&v, sizeof(v), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(v))
			return -1;
	} while (v >= limit);
	v %= bound;
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[digits] = '\0';
	return 0;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mid_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t mid_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int mid_sleep_ms(long ms, int (*abort_fn)(void *), void *ctx)
{
	int64_t end = mid_now_ms() + ms;

	for (;;) {
		int64_t left = end - mid_now_ms();
		struct timespec ts;

		if (abort_fn && abort_fn(ctx))
			return 1;
		if (left <= 0)
			return 0;
		if (left > 100)
			left = 100;   /* notice an abort within 100 ms */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

int mid_buf_append(mid_buf *b, const void *p, size_t n)
{
	if (b->limit && b->len + n > b->limit) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *d;
		while (cap < b->len + n + 1)
			cap *= 2;
		d = malloc(cap);
		if (!d)
			return -1;
		if (b->data) {
			memcpy(d, b->data, b->len);
			mid_wipe(b->data, b->cap);   /* bodies can hold tokens */
			free(b->data);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int mid_buf_printf(mid_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(tmp)) {
		int rc = mid_buf_append(b, tmp, (size_t)n);
		mid_wipe(tmp, sizeof(tmp));   /* form bodies hold the client secret */
		return rc;
	}
	mid_wipe(tmp, sizeof(tmp));
	{
		char *big = malloc((size_t)n + 1);
		int rc;
		if (!big)
			return -1;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		rc = mid_buf_append(b, big, (size_t)n);
		mid_wipe(big, (size_t)n + 1);
		free(big);
		return rc;
	}
}

void mid_buf_reset(mid_buf *b)
{
	if (b->data)
		mid_wipe(b->data, b->cap);
	b->len = 0;
	b->overflow = 0;
	if (b->data)
		b->data[0] = '\0';
}

void mid_buf_free(mid_buf *b)
{
	if (b->data)
		mid_wipe(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = 0;
}

void mid_hash_hex(const char *s, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

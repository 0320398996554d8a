/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authfile.c - the InfoIMAGE auth file: header and records (authfile.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authfile.h"
#include "util.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static const struct {
	const char *name;
	int col;
} known[] = {
	{ "MAINTCODE", AF_MAINT },
	{ "MAINT CODE", AF_MAINT },
	{ "MAINTENANCE CODE", AF_MAINT },
	{ "UUID", AF_UUID },
	{ "UNIQUE USER IDENTIFIER", AF_UUID },
	{ "UNIQUE USER IDENTIFIER (UUID)", AF_UUID },
	{ "SUID", AF_SUID },
	{ "SUBUSER UNIQUE IDENTIFIER", AF_SUID },
	{ "SUBUSER UNIQUE IDENTIFIER (SUID)", AF_SUID },
	{ "USER TYPE", AF_USER_TYPE },
	{ "USER NAME", AF_USER_NAME },
	{ "ACCOUNT NUMBER", AF_ACCOUNT_NUMBER },
	{ "ACCOUNT TYPE", AF_ACCOUNT_TYPE },
	{ "ACCOUNT NAME", AF_ACCOUNT_NAME },
};

static const char *const col_names[AF_NCOLS] = {
	"MAINTCODE", "UUID", "SUID", "USER TYPE", "USER NAME", "ACCOUNT NUMBER",
	"ACCOUNT TYPE", "ACCOUNT NAME"
};

/* Trim blanks (and a CR) at both ends, in place. */
static char *trim(char *s)
{
	size_t len;

	s += strspn(s, " \t");
	len = strlen(s);
	while (len && strchr(" \t\r", s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* Upper case, blanks collapsed, for matching header names. */
static void normalise(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int blank = 0;

	for (; *in && o + 1 < outlen; in++) {
		if (*in == ' ' || *in == '\t') {
			blank = 1;
			continue;
		}
		if (blank && o && o + 2 < outlen)
			out[o++] = ' ';
		blank = 0;
		out[o++] = (char)toupper((unsigned char)*in);
	}
	out[o] = '\0';
}

void af_header_free(struct af_header *h)
{
	if (h->names) {
		for (int i = 0; i < h->nfields; i++)
			free(h->names[i]);
		free(h->names);
	}
	h->names = NULL;
	h->nfields = 0;
}

static int count_fields(const char *line)
{
	int n = 1;

	for (; *line; line++)
		n += *line == '|';
	return n;
}

int af_header_parse(char *line, struct af_header *h, char *err, size_t errlen)
{
	char *p = line, norm[128];
	int n = count_fields(line);

	memset(h, 0, sizeof(*h));
	for (int c = 0; c < AF_NCOLS; c++)
		h->col[c] = -1;
	if (!mid_utf8_valid(line)) {
		snprintf(err, errlen, "the header line is not UTF-8 text (an encrypted file must be "
		         "named .pgp)");
		return -1;
	}
	h->names = calloc((size_t)n, sizeof(*h->names));
	if (!h->names) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *f = strsep(&p, "|");
		int col = -1;

		f = trim(f);
		/* Kept for messages only: printable. */
		if (!(h->names[i] = mid_sanitize(*f ? f : "(no name)", 0, 128))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		h->nfields = i + 1;
		normalise(f, norm, sizeof(norm));
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(norm, known[k].name))
				col = known[k].col;
		if (col < 0) {
			size_t o = strlen(h->unused);
			/* Whole names only: no character cut in two. */
			if (o + 2 + strlen(h->names[i]) < sizeof(h->unused))
				snprintf(h->unused + o, sizeof(h->unused) - o, "%s%s", o ? ", " : "",
				         h->names[i]);
			continue;
		}
		if (h->col[col] >= 0) {
			snprintf(err, errlen, "header: column %s appears twice (fields %d and %d)",
			         col_names[col], h->col[col] + 1, i + 1);
			goto fail;
		}
		h->col[col] = i;
	}
	{
		static const int required[] = { AF_UUID, AF_USER_TYPE, AF_USER_NAME,
		                                AF_ACCOUNT_NUMBER, AF_ACCOUNT_NAME };
		char missing[200] = "";

		for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
			if (h->col[required[k]] < 0) {
				size_t o = strlen(missing);
				snprintf(missing + o, sizeof(missing) - o, "%s%s", o ? ", " : "",
				         col_names[required[k]]);
			}
		}
		if (missing[0]) {
			snprintf(err, errlen, "header: required column%s missing: %s (the first line "
			         "must name the columns, e.g. UUID|USER TYPE|USER NAME|ACCOUNT NUMBER|"
			         "ACCOUNT TYPE|ACCOUNT NAME)", strchr(missing, ',') ? "s" : "", missing);
			goto fail;
		}
	}
	h->incremental = h->col[AF_MAINT] >= 0;
	return 0;
fail:
	af_header_free(h);
	return -1;
}

/* A value for an error line: valid UTF-8 without control characters (a
 * CR or an escape sequence would rewrite the admin's terminal), at most
 * len - 1 bytes without splitting a character. */
static const char *shown(const char *v, char *buf, size_t len)
{
	char *clean = mid_sanitize(v, 0, len - 1);

	snprintf(buf, len, "%s", clean ? clean : "?");
	free(clean);
	return buf;
}

/* UTF-8 characters in s. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

#define FIELD_ERR(which, ...) do { \
	int i_ = h->col[which]; \
	char m_[200]; \
	snprintf(m_, sizeof(m_), __VA_ARGS__); \
	snprintf(err, errlen, "field %d (%s): %s", i_ + 1, h->names[i_], m_); \
	return -1; \
} while (0)

static int text_field(const struct af_header *h, int col, const char *v, int required,
                      char *err, size_t errlen)
{
	if (!*v) {
		if (required)
			FIELD_ERR(col, "empty (it is required)");
		return 0;
	}
	if (!mid_utf8_valid(v))
		FIELD_ERR(col, "not valid UTF-8");
	if (mid_has_ctl(v) || strchr(v, '\t'))
		FIELD_ERR(col, "holds a tab or a control character");
	if (chars(v) > MID_ACCTMAP_FIELD_MAX)
		FIELD_ERR(col, "longer than %d characters", MID_ACCTMAP_FIELD_MAX);
	return 0;
}

int af_record_parse(const struct af_header *h, char *line, struct af_record *r,
                    char *err, size_t errlen)
{
	char *v[AF_NCOLS] = { 0 }, *p = line, sv[44];
	int n = count_fields(line);
	size_t len;

	memset(r, 0, sizeof(*r));
	if (n != h->nfields) {
		snprintf(err, errlen, "%d field%s, the header has %d", n, n == 1 ? "" : "s",
		         h->nfields);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *f = trim(strsep(&p, "|"));
		for (int c = 0; c < AF_NCOLS; c++)
			if (h->col[c] == i)
				v[c] = f;
	}

	r->op = 'A';
	if (h->incremental) {
		if (!strcmp(v[AF_MAINT], "A") || !strcmp(v[AF_MAINT], "D"))
			r->op = v[AF_MAINT][0];
		else if (!*v[AF_MAINT])
			FIELD_ERR(AF_MAINT, "empty (A to add or update, D to delete)");
		else
			FIELD_ERR(AF_MAINT, "'%s' is neither A (add or update) nor D (delete)",
			          shown(v[AF_MAINT], sv, 11));
	}

	/* Identifiers may be SSNs: never show their values. */
	len = strlen(v[AF_UUID]);
	if (!len)
		FIELD_ERR(AF_UUID, "empty (it is required)");
	if (len > MID_ACCTMAP_FIELD_MAX)
		FIELD_ERR(AF_UUID, "longer than %d characters", MID_ACCTMAP_FIELD_MAX);
	if (strspn(v[AF_UUID], ID_CHARS) != len)
		FIELD_ERR(AF_UUID, "holds a character other than letters, digits and . _ @ -");
	if (h->col[AF_SUID] >= 0 && *v[AF_SUID]) {
		size_t slen = strlen(v[AF_SUID]);
		if (strspn(v[AF_SUID], ID_CHARS) != slen)
			FIELD_ERR(AF_SUID, "holds a character other than letters, digits and . _ @ -");
		if (len + slen + 1 > MID_ACCTMAP_FIELD_MAX)
			FIELD_ERR(AF_SUID, "UUID and SUID together are longer than %d characters",
			          MID_ACCTMAP_FIELD_MAX - 1);
		snprintf(r->identity, sizeof(r->identity), "%s|%s", v[AF_UUID], v[AF_SUID]);
	} else {
		snprintf(r->identity, sizeof(r->identity), "%s", v[AF_UUID]);
	}

	if (strcmp(v[AF_USER_TYPE], "P") && strcmp(v[AF_USER_TYPE], "N"))
		FIELD_ERR(AF_USER_TYPE, "'%s' is neither P (consumer) nor N (business)",
		          shown(v[AF_USER_TYPE], sv, 11));
	if (h->col[AF_SUID] >= 0 && *v[AF_SUID] && v[AF_USER_TYPE][0] != 'N')
		FIELD_ERR(AF_USER_TYPE, "a sub-user (SUID set) must be a business user (N)");
	if (text_field(h, AF_USER_NAME, v[AF_USER_NAME], 1, err, errlen) != 0)
		return -1;

	len = strlen(v[AF_ACCOUNT_NUMBER]);
	if (!len)
		FIELD_ERR(AF_ACCOUNT_NUMBER, "empty (it is required)");
	if (len > MID_ACCTMAP_FIELD_MAX)
		FIELD_ERR(AF_ACCOUNT_NUMBER, "longer than %d digits", MID_ACCTMAP_FIELD_MAX);
	if (strspn(v[AF_ACCOUNT_NUMBER], "0123456789") != len)
		FIELD_ERR(AF_ACCOUNT_NUMBER, "'%s' is not a number (digits only)",
		          shown(v[AF_ACCOUNT_NUMBER], sv, 41));

	if (h->col[AF_ACCOUNT_TYPE] >= 0) {
		len = strlen(v[AF_ACCOUNT_TYPE]);
		if (len > 2 || strspn(v[AF_ACCOUNT_TYPE], ALNUM) != len)
			FIELD_ERR(AF_ACCOUNT_TYPE, "'%s' is not 1 or 2 letters or digits",
			          shown(v[AF_ACCOUNT_TYPE], sv, 11));
	}
	if (text_field(h, AF_ACCOUNT_NAME, v[AF_ACCOUNT_NAME], 1, err, errlen) != 0)
		return -1;

	r->rel.account = v[AF_ACCOUNT_NUMBER];
	r->rel.account_type = h->col[AF_ACCOUNT_TYPE] >= 0 ? v[AF_ACCOUNT_TYPE] : "";
	r->rel.identity = r->identity;
	r->rel.user_type = v[AF_USER_TYPE][0];
	r->rel.user_name = v[AF_USER_NAME];
	return 0;
}

int af_name_encrypted(const char *path)
{
	size_t len = strlen(path);

	return len > 4 && (!strcasecmp(path + len - 4, ".pgp") ||
	                   !strcasecmp(path + len - 4, ".gpg") ||
	                   !strcasecmp(path + len - 4, ".asc"));
}

int af_name_ok(const char *path)
{
	const char *base = strrchr(path, '/'), *p, *date;
	size_t cid;
	struct tm tm;
	int y, m, d;

	base = base ? base + 1 : path;
	cid = strspn(base, ALNUM);
	if (cid == 0)
		return 0;
	p = base + cid;
	if (!strncmp(p, "_auth2_", 7))
		p += 7;
	else if (!strncmp(p, "_auth_", 6))
		p += 6;
	else
		return 0;
	date = p;
	if (strspn(date, "0123456789") != 8)
		return 0;
	p += 8;
	if (strcmp(p, ".txt") && strcmp(p, ".txt.pgp"))
		return 0;
	y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
	m = (date[4] - '0') * 10 + (date[5] - '0');
	d = (date[6] - '0') * 10 + (date[7] - '0');
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if (m < 1 || m > 12 || d < 1 || timegm(&tm) == (time_t)-1)
		return 0;
	return tm.tm_mon == m - 1 && tm.tm_mday == d;
}

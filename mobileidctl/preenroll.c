/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * preenroll.c - the IDgo pre-enroll CSV without the network (see
 * preenroll.h): header, row checks, request body, .out records.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <csv.h>
#include <json-c/json.h>

#include "phone.h"
#include "preenroll.h"
#include "util.h"

#define NO_COL ((size_t)-1)

/* The result column. */
#define RC_COLUMN "RC"

void pre_header_free(struct pre_header *h)
{
	if (!h->names)
		return;
	for (size_t i = 0; i < h->ncols; i++)
		free(h->names[i]);
	free(h->names);
	h->names = NULL;
	h->ncols = 0;
}

int pre_header_parse(const ctl_csv_row *row, const char *ref_column, struct pre_header *h,
                     char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->mobile_col = h->name_col = h->ref_col = NO_COL;
	if (row->error) {
		snprintf(err, errlen, "line %zu: the header line is not valid CSV: %s", row->line,
		         row->error);
		return -1;
	}
	if (row->nfields == 0) {
		snprintf(err, errlen, "line %zu: empty header line", row->line);
		return -1;
	}
	h->names = calloc(row->nfields, sizeof(*h->names));
	if (!h->names) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->ncols = row->nfields;
	for (size_t i = 0; i < row->nfields; i++) {
		const char *n = row->fields[i];

		if (!*n) {
			snprintf(err, errlen, "line %zu: header column %zu has no name", row->line, i + 1);
			goto fail;
		}
		if (strlen(n) != row->lens[i] || !mid_utf8_valid(n) || mid_has_ctl(n)) {
			snprintf(err, errlen, "line %zu: header column %zu: the name is not printable "
			         "UTF-8", row->line, i + 1);
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcasecmp(row->fields[j], n)) {
				snprintf(err, errlen, "line %zu: header columns %zu and %zu are both "
				         "named '%s'", row->line, j + 1, i + 1, n);
				goto fail;
			}
		}
		if (!strcasecmp(n, PRE_MOBILE))
			h->mobile_col = i;
		else if (!strcasecmp(n, PRE_FULLNAME))
			h->name_col = i;
		else if (!strcasecmp(n, RC_COLUMN)) {
			snprintf(err, errlen, "line %zu: header column %zu: the name '%s' is reserved "
			         "(the result file adds the RC column)", row->line, i + 1, n);
			goto fail;
		}
		if (ref_column && !strcasecmp(n, ref_column))
			h->ref_col = i;
		if (!(h->names[i] = strdup(n))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (h->mobile_col == NO_COL) {
		snprintf(err, errlen, "line %zu: the header has no '%s' column (it is required)",
		         row->line, PRE_MOBILE);
		goto fail;
	}
	if (h->ref_col == NO_COL) {
		snprintf(err, errlen, "line %zu: the header has no column '%s' "
		         "([preenroll] externalref_column)", row->line,
		         ref_column ? ref_column : "(none)");
		goto fail;
	}
	return 0;
fail:
	pre_header_free(h);
	return -1;
}

int pre_codes_parse(const char *s, struct pre_codes *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	while (s && *s) {
		char *end;
		long v;

		s += strspn(s, " \t,");
		if (!*s)
			break;
		if (*s == '+')
			s++;
		if (*s < '0' || *s > '9') {
			snprintf(err, errlen, "'%s' is not a country calling code", s);
			return -1;
		}
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v < 1 || v > 999 || (*end && !strchr(" \t,", *end))) {
			snprintf(err, errlen, "'%s' is not a country calling code (1 to 999)", s);
			return -1;
		}
		if (c->n == PRE_MAX_CODES) {
			snprintf(err, errlen, "more than %d country calling codes", PRE_MAX_CODES);
			return -1;
		}
		c->cc[c->n++] = (int)v;
		s = end;
	}
	if (!c->n) {
		snprintf(err, errlen, "no country calling code");
		return -1;
	}
	return 0;
}

void pre_codes_format(const struct pre_codes *c, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < c->n && o < outlen; i++) {
		int n = snprintf(out + o, outlen - o, "%s+%d", i ? ", " : "", c->cc[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static int code_ok(const struct pre_codes *c, int cc)
{
	for (int i = 0; i < c->n; i++)
		if (c->cc[i] == cc)
			return 1;
	return 0;
}

/* A copy of s without leading and trailing blanks, at most max bytes. */
static void trim_copy(char *dst, size_t max, const char *s)
{
	size_t len;

	s += strspn(s, " \t\r\n");
	len = strlen(s);
	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	if (len >= max)
		len = max - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* A value for the reason (printed on the admin's terminal): without
 * control characters, at most len - 1 bytes without splitting a
 * character. */
static const char *shown(const char *v, char *buf, size_t len)
{
	char *clean = mid_sanitize(v, 0, len - 1);

	snprintf(buf, len, "%s", clean ? clean : "?");
	free(clean);
	return buf;
}

void pre_row_check(const struct pre_header *h, const struct pre_codes *codes,
                   const ctl_csv_row *row, struct pre_row *out)
{
	char number[128], codes_text[160], sv[128];
	ctl_phone ph;
	const char *v;

	memset(out, 0, sizeof(*out));
	out->rc = PRE_RC_SYSTEM;
	if (row->error) {
		snprintf(out->reason, sizeof(out->reason), "%s", row->error);
		out->sanitize = 1;
		return;
	}
	if (row->nfields != h->ncols) {
		snprintf(out->reason, sizeof(out->reason), "%zu field%s, the header has %zu",
		         row->nfields, row->nfields == 1 ? "" : "s", h->ncols);
		/* keep going: the fields may hold bad UTF-8 too */
	}
	for (size_t i = 0; i < row->nfields; i++) {
		if (!mid_utf8_valid(row->fields[i]) || strlen(row->fields[i]) != row->lens[i]) {
			size_t o = strlen(out->reason);
			snprintf(out->reason + o, sizeof(out->reason) - o, "%sfield %zu (%s): %s",
			         o ? "; " : "", i + 1, i < h->ncols ? h->names[i] : "surplus",
			         strlen(row->fields[i]) != row->lens[i] ? "holds a NUL byte"
			                                                : "not valid UTF-8");
			out->sanitize = 1;
			break;
		}
	}
	if (out->reason[0])
		return;

	v = row->fields[h->mobile_col];
	trim_copy(number, sizeof(number), v);
	if (!*number) {
		out->rc = PRE_RC_NOT_MOBILE;
		snprintf(out->reason, sizeof(out->reason), "%s is empty", PRE_MOBILE);
		return;
	}
	if (ctl_phone_parse(number, 1, &ph) != 0) {
		snprintf(out->reason, sizeof(out->reason), "%s: %s", PRE_MOBILE, ph.reason);
		return;
	}
	if (ph.kind == CTL_PHONE_UNPARSABLE) {
		out->rc = PRE_RC_NOT_MOBILE;
		snprintf(out->reason, sizeof(out->reason), "%s '%s': %s", PRE_MOBILE,
		         shown(number, sv, sizeof(sv)), ph.reason);
		return;
	}
	if (!code_ok(codes, ph.country_code)) {
		pre_codes_format(codes, codes_text, sizeof(codes_text));
		out->rc = PRE_RC_COUNTRY;
		snprintf(out->reason, sizeof(out->reason), "%s '%s': country code +%d is not "
		         "accepted (accepted: %s)", PRE_MOBILE, shown(number, sv, sizeof(sv)),
		         ph.country_code, codes_text);
		return;
	}
	if (ph.kind == CTL_PHONE_INVALID) {
		out->rc = PRE_RC_NOT_MOBILE;
		snprintf(out->reason, sizeof(out->reason), "%s '%s': %s", PRE_MOBILE,
		         shown(number, sv, sizeof(sv)), ph.reason);
		return;
	}
	if (!ph.mobile) {
		out->rc = PRE_RC_NOT_MOBILE;
		snprintf(out->reason, sizeof(out->reason), "%s '%s' is a %s number, not a mobile "
		         "number", PRE_MOBILE, shown(number, sv, sizeof(sv)), ph.type);
		return;
	}
	snprintf(out->e164, sizeof(out->e164), "%s", ph.e164);
	if (h->ref_col == h->mobile_col) {
		snprintf(out->external_ref, sizeof(out->external_ref), "%s", ph.e164);
	} else {
		const char *ref = row->fields[h->ref_col];
		char tmp[PRE_REF_MAX + 2];

		trim_copy(tmp, sizeof(tmp), ref);
		if (!*tmp || strlen(tmp) > PRE_REF_MAX || mid_has_ctl(tmp)) {
			snprintf(out->reason, sizeof(out->reason), "column %s (the externalRef): %s",
			         shown(h->names[h->ref_col], sv, 65), !*tmp ? "empty" :
			         mid_has_ctl(tmp) ? "holds control characters" : "longer than 255 bytes");
			return;
		}
		snprintf(out->external_ref, sizeof(out->external_ref), "%s", tmp);
	}
	out->rc = PRE_RC_PENDING;
}

char *pre_row_body(const struct pre_header *h, const ctl_csv_row *row, const struct pre_row *pr)
{
	json_object *body = json_object_new_object(), *attrs = json_object_new_object();
	const char *full = h->name_col != NO_COL ? row->fields[h->name_col] : "";
	/* The whole name, as the other columns: a fixed buffer cut it inside a
	 * character, and the API refuses a body that is not UTF-8. */
	char *name = malloc(strlen(full) + 1);
	char *out = NULL;

	if (!body || !attrs || !name) {
		json_object_put(body);
		json_object_put(attrs);
		free(name);
		return NULL;
	}
	json_object_object_add(body, "externalRef", json_object_new_string(pr->external_ref));
	/* The columns' names (the canonical spelling for the two the spec
	 * names, as mobileidctl enroll does): the number in E.164 form. */
	json_object_object_add(attrs, PRE_MOBILE, json_object_new_string(pr->e164));
	trim_copy(name, strlen(full) + 1, full);
	if (*name)
		json_object_object_add(attrs, PRE_FULLNAME, json_object_new_string(name));
	free(name);
	for (size_t i = 0; i < h->ncols && i < row->nfields; i++) {
		if (i == h->mobile_col || i == h->name_col || !*row->fields[i])
			continue;
		json_object_object_add(attrs, h->names[i], json_object_new_string(row->fields[i]));
	}
	json_object_object_add(body, "attributes", attrs);
	{
		const char *s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
		                                               JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s)
			out = strdup(s);
	}
	json_object_put(body);
	return out;
}

static int write_field(FILE *f, const char *s, size_t len, int sanitize)
{
	int rc;

	if (!sanitize)
		return csv_fwrite(f, s, len) == 0 ? 0 : -1;
	{
		char *clean = mid_sanitize(s, 1, SIZE_MAX);
		if (!clean)
			return -1;
		rc = csv_fwrite(f, clean, strlen(clean)) == 0 ? 0 : -1;
		free(clean);
	}
	return rc;
}

int pre_write_record(FILE *f, char *const *fields, const size_t *lens, size_t nfields,
                     size_t ncols, const char *last, const char *eol, int sanitize)
{
	for (size_t i = 0; i < ncols; i++) {
		if (i < nfields ? write_field(f, fields[i], lens[i], sanitize)
		                : write_field(f, "", 0, 0))
			return -1;
		if (fputc(',', f) == EOF)
			return -1;
	}
	if (write_field(f, last, strlen(last), 0) != 0 || fputs(eol, f) == EOF)
		return -1;
	return 0;
}

int pre_name_ok(const char *path)
{
	const char *base = strrchr(path, '/');
	int y, m, d, n = 0;
	struct tm tm;

	base = base ? base + 1 : path;
	if (strlen(base) != strlen("Preenroll-YYYY-MM-DD.csv") ||
	    strncmp(base, "Preenroll-", 10) != 0 || strcmp(base + 20, ".csv") != 0)
		return 0;
	for (int i = 10; i < 20; i++)
		if ((i == 14 || i == 17) ? base[i] != '-' : (base[i] < '0' || base[i] > '9'))
			return 0;
	if (sscanf(base + 10, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if (timegm(&tm) == (time_t)-1)
		return 0;
	return tm.tm_year == y - 1900 && tm.tm_mon == m - 1 && tm.tm_mday == d;
}

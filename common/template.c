/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * template.c - %-template expansion.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "util.h"

int mid_template_check(const char *tmpl, const char *allowed, char *bad)
{
	for (const char *p = tmpl; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (!*p || !strchr(allowed, *p)) {
			*bad = *p;
			return -1;
		}
	}
	return 0;
}

static int put_value(mid_buf *b, const char *val, int lower, int empty_missing)
{
	char *clean;
	int rc;

	if (!val || !*val)
		return empty_missing ? 0 : mid_buf_append(b, "-", 1);
	clean = mid_sanitize(val, 0, strlen(val));
	if (!clean)
		return -1;
	/* ASCII only: tolower() follows the caller's locale, and in a
	 * single-byte one (ISO-8859-x) it rewrites UTF-8 bytes, so the same
	 * login would map to another externalRef. */
	if (lower)
		for (char *c = clean; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	rc = mid_buf_append(b, clean, strlen(clean));
	free(clean);
	return rc;
}

char *mid_template_expand(const char *tmpl, const mid_tmpl_vars *v, size_t max,
                          int empty_missing)
{
	mid_buf b = { 0 };
	int rc = 0;

	for (const char *p = tmpl; *p && rc == 0; p++) {
		if (*p != '%' || !p[1]) {
			rc = mid_buf_append(&b, p, 1);
			continue;
		}
		switch (*++p) {
		case 'u': rc = put_value(&b, v->user, 0, empty_missing); break;
		case 'U': rc = put_value(&b, v->user, 1, empty_missing); break;
		case 'h': rc = put_value(&b, v->host, 0, empty_missing); break;
		case 's': rc = put_value(&b, v->service, 0, empty_missing); break;
		case 'r': rc = put_value(&b, v->rhost, 0, empty_missing); break;
		case 'c': rc = put_value(&b, v->code, 0, empty_missing); break;
		case 't': rc = put_value(&b, v->time, 0, empty_missing); break;
		case 'C': rc = put_value(&b, v->command, 0, empty_missing); break;
		case '%': rc = mid_buf_append(&b, "%", 1); break;
		default:  rc = mid_buf_append(&b, p - 1, 2); break;
		}
	}
	if (rc != 0 || (!b.data && mid_buf_append(&b, "", 0) != 0)) {
		mid_buf_free(&b);
		return NULL;
	}
	mid_utf8_truncate(b.data, max);
	return b.data;
}

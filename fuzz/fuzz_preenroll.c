/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_preenroll - the IDgo pre-enroll CSV as mobileidctl preenroll reads
 * it, without the network: the records (ctl_csv_read, libcsv), the header
 * (pre_header_parse), the checks of each row (pre_row_check, with
 * libphonenumber through mobileidctl/phone.cc), the POST /users body
 * (pre_row_body, re-parsed with json-c) and the .out record of each row
 * (pre_write_record, read back with ctl_csv_read).  Also the accepted
 * country codes (pre_codes_parse, pre_codes_format).
 *
 * Input: the country codes, NUL, the externalRef column's name, NUL, then
 * the CSV file.  The column's name is a value of root's configuration file,
 * not outside input: mobileNumber stands in for one that is not printable
 * UTF-8. */
#include "config.h"

#include <json-c/json.h>

#include "csvrows.h"
#include "fuzz.h"
#include "preenroll.h"
#include "util.h"

FUZZ_ASAN_DEFAULTS("quarantine_size_mb=16")

struct run {
	const char *refcol;
	struct pre_codes codes;
	struct pre_header h;
	int have_header;
	size_t len, next_index, last_line;
	const ctl_csv_info *info;
};

/* Printed on stderr by mobileidctl. */
static void check_message(const char *s)
{
	FUZZ_CHECK(s[0]);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

static void check_codes(const char *text, struct pre_codes *c)
{
	struct pre_codes back;
	char err[256] = "", out[PRE_MAX_CODES * 6 + 1];

	if (pre_codes_parse(text, c, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0]);
		FUZZ_CHECK(pre_codes_parse("1, 44", c, err, sizeof(err)) == 0);
		return;
	}
	FUZZ_CHECK(c->n >= 1 && c->n <= PRE_MAX_CODES);
	for (int i = 0; i < c->n; i++)
		FUZZ_CHECK(c->cc[i] >= 1 && c->cc[i] <= 999);
	/* The text in messages reads back as the same list. */
	pre_codes_format(c, out, sizeof(out));
	FUZZ_CHECK(strlen(out) < sizeof(out) - 1);
	FUZZ_CHECK(pre_codes_parse(out, &back, err, sizeof(err)) == 0);
	FUZZ_CHECK(back.n == c->n && !memcmp(back.cc, c->cc, sizeof(int) * (size_t)c->n));
}

/* ---- the .out record, read back ---------------------------------------------------- */

struct back {
	const struct pre_header *h;
	const ctl_csv_row *orig;
	const char *rc;
	int sanitize;
	size_t n;
};

static int back_row(void *ctx, const ctl_csv_row *row)
{
	struct back *b = ctx;
	size_t ncols = b->h->ncols;

	b->n++;
	FUZZ_CHECK(row->error == NULL);
	FUZZ_CHECK(row->nfields == ncols + 1);
	FUZZ_CHECK(!strcmp(row->fields[ncols], b->rc));
	for (size_t i = 0; i < ncols; i++) {
		if (i >= b->orig->nfields) {
			FUZZ_CHECK(row->lens[i] == 0);
		} else if (!b->sanitize) {
			/* Copied as is. */
			FUZZ_CHECK(row->lens[i] == b->orig->lens[i]);
			FUZZ_CHECK(!memcmp(row->fields[i], b->orig->fields[i], row->lens[i]));
		} else {
			/* Cleaned: valid UTF-8, no control characters but tab and newline. */
			FUZZ_CHECK(strlen(row->fields[i]) == row->lens[i]);
			FUZZ_CHECK(fuzz_valid_utf8(row->fields[i]));
			for (const unsigned char *p = (const unsigned char *)row->fields[i]; *p; p++)
				FUZZ_CHECK(*p >= 0x20 || *p == '\t' || *p == '\n');
		}
	}
	return 0;
}

static void check_out_record(const struct run *r, const ctl_csv_row *row, const char *rc,
                             int sanitize)
{
	struct back b = { .h = &r->h, .orig = row, .rc = rc, .sanitize = sanitize };
	ctl_csv_info info;
	char *buf = NULL, err[100];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(pre_write_record(f, row->fields, row->lens, row->nfields, r->h.ncols, rc,
	                            r->info->eol, sanitize) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	/* Every field quoted, one line end, at the end. */
	FUZZ_CHECK(len > strlen(r->info->eol) && buf[0] == '"');
	FUZZ_CHECK(!strcmp(buf + len - strlen(r->info->eol), r->info->eol));
	FUZZ_CHECK(ctl_csv_read(buf, len, back_row, &b, &info, err, sizeof(err)) == 0);
	FUZZ_CHECK(b.n == 1);
	free(buf);
}

/* ---- the POST /users body ---------------------------------------------------------- */

static void check_body(const struct run *r, const ctl_csv_row *row, const struct pre_row *pr)
{
	char *body = pre_row_body(&r->h, row, pr);
	json_tokener *tok = json_tokener_new();
	json_object *obj, *v, *attrs;

	FUZZ_CHECK(body != NULL && tok != NULL);
	/* JSON text as the API takes it: valid UTF-8. */
	FUZZ_CHECK(fuzz_valid_utf8(body));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)strlen(body));
	FUZZ_CHECK(obj && json_tokener_get_error(tok) == json_tokener_success);
	FUZZ_CHECK(json_object_object_get_ex(obj, "externalRef", &v));
	FUZZ_CHECK(!strcmp(json_object_get_string(v), pr->external_ref));
	FUZZ_CHECK(json_object_object_get_ex(obj, "attributes", &attrs));
	FUZZ_CHECK(json_object_object_get_ex(attrs, PRE_MOBILE, &v));
	FUZZ_CHECK(!strcmp(json_object_get_string(v), pr->e164));
	json_object_put(obj);
	json_tokener_free(tok);
	free(body);
}

/* ---- the rows -------------------------------------------------------------------------- */

static int on_row(void *ctx, const ctl_csv_row *row)
{
	struct run *r = ctx;
	struct pre_row pr;
	char err[512] = "", rc[8];

	/* The reader's bookkeeping. */
	FUZZ_CHECK(row->index == r->next_index++);
	/* One record per line at most; after a malformed record the reading
	 * resumes on the line after the one it started on (end_offset may go
	 * back then). */
	FUZZ_CHECK(row->line >= 1 && (row->index == 0 || row->line > r->last_line));
	FUZZ_CHECK(row->end_line >= row->line);
	FUZZ_CHECK(row->end_offset <= r->len);
	r->last_line = row->line;
	for (size_t i = 0; i < row->nfields; i++)
		FUZZ_CHECK(row->fields[i][row->lens[i]] == '\0');
	if (row->error)
		check_message(row->error);

	if (!r->have_header) {
		if (pre_header_parse(row, r->refcol, &r->h, err, sizeof(err)) != 0) {
			check_message(err);
			return 1;
		}
		FUZZ_CHECK(r->h.ncols == row->nfields);
		FUZZ_CHECK(r->h.mobile_col < r->h.ncols && r->h.ref_col < r->h.ncols);
		r->have_header = 1;
		return 0;
	}
	pre_row_check(&r->h, &r->codes, row, &pr);
	/* Without the network: passed (PENDING) or RC 1, 3 or 4 with a reason. */
	FUZZ_CHECK(pr.rc == PRE_RC_PENDING || pr.rc == PRE_RC_SYSTEM ||
	           pr.rc == PRE_RC_NOT_MOBILE || pr.rc == PRE_RC_COUNTRY);
	if (pr.rc == PRE_RC_PENDING) {
		size_t n = strlen(pr.e164);
		FUZZ_CHECK(!row->error && row->nfields == r->h.ncols && !pr.reason[0]);
		FUZZ_CHECK(n >= 2 && pr.e164[0] == '+' && strspn(pr.e164 + 1, "0123456789") == n - 1);
		FUZZ_CHECK(pr.external_ref[0] && strlen(pr.external_ref) <= PRE_REF_MAX);
		FUZZ_CHECK(!mid_has_ctl(pr.external_ref) && fuzz_valid_utf8(pr.external_ref));
		if (r->h.ref_col == r->h.mobile_col)
			FUZZ_CHECK(!strcmp(pr.external_ref, pr.e164));
		check_body(r, row, &pr);
	} else {
		check_message(pr.reason);
	}
	if (row->error)
		FUZZ_CHECK(pr.sanitize);
	snprintf(rc, sizeof(rc), "%d", pr.rc == PRE_RC_PENDING ? PRE_RC_OK : pr.rc);
	check_out_record(r, row, rc, pr.sanitize);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *n1 = memchr(data, 0, size), *n2;
	char *codes, *refcol, *csv, err[100] = "";
	struct run r;
	ctl_csv_info info;
	size_t off;
	int rc;

	if (!n1 || !(n2 = memchr(n1 + 1, 0, size - (size_t)(n1 - data) - 1)))
		return 0;
	codes = fuzz_str(data, (size_t)(n1 - data));
	refcol = fuzz_str(n1 + 1, (size_t)(n2 - n1 - 1));
	off = (size_t)(n2 - data) + 1;
	csv = fuzz_copy(data + off, size - off);

	memset(&r, 0, sizeof(r));
	/* [preenroll] externalref_column: root's configuration, printable. */
	r.refcol = fuzz_valid_utf8(refcol) && !fuzz_has_control(refcol) ? refcol : PRE_MOBILE;
	r.len = size - off;
	r.info = &info;
	check_codes(codes, &r.codes);
	rc = ctl_csv_read(csv, size - off, on_row, &r, &info, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == 1);
	if (rc == 1)
		FUZZ_CHECK(!r.have_header);
	FUZZ_CHECK(info.records == r.next_index && info.malformed <= info.records);
	FUZZ_CHECK(!strcmp(info.eol, "\n") || !strcmp(info.eol, "\r\n") || !strcmp(info.eol, "\r"));
	pre_header_free(&r.h);
	free(csv);
	free(refcol);
	free(codes);
	return 0;
}

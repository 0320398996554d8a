/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_batch.c - the batch imports without the network: CSV records
 * (mobileidctl/csvrows.c), pre-enroll rows and .out records
 * (mobileidctl/preenroll.c, with libphonenumber), auth file lines
 * (mobileidctl/authfile.c) and the account map (common/acctmap.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "acctmap.h"
#include "authfile.h"
#include "csvrows.h"
#include "mid_config.h"
#include "preenroll.h"
#include "testutil.h"
#include "util.h"

/* ---- CSV records -------------------------------------------------------------------- */

#define MAXREC 16

struct recs {
	size_t n;
	size_t line[MAXREC], end_line[MAXREC], nfields[MAXREC];
	char fields[MAXREC][8][64];
	size_t lens[MAXREC][8];
	char error[MAXREC][160];
	int stop_after;
};

static int collect(void *ctx, const ctl_csv_row *row)
{
	struct recs *r = ctx;

	if (r->n < MAXREC) {
		assert_int_equal(row->index, r->n);
		r->line[r->n] = row->line;
		r->end_line[r->n] = row->end_line;
		r->nfields[r->n] = row->nfields;
		for (size_t i = 0; i < row->nfields && i < 8; i++) {
			snprintf(r->fields[r->n][i], sizeof(r->fields[r->n][i]), "%s", row->fields[i]);
			r->lens[r->n][i] = row->lens[i];
		}
		snprintf(r->error[r->n], sizeof(r->error[r->n]), "%s", row->error ? row->error : "");
	}
	r->n++;
	return r->stop_after && r->n == (size_t)r->stop_after ? 7 : 0;
}

static void read_csv(const char *data, size_t len, struct recs *r, ctl_csv_info *info)
{
	char err[100];

	memset(r, 0, sizeof(*r));
	assert_int_equal(ctl_csv_read(data, len, collect, r, info, err, sizeof(err)), 0);
}

static void test_csv_basic_quoting(void **state)
{
	static const char in[] =
		"\"mobileNumber\",\"fullName\",\"note\"\n"
		"\"+12015550123\",\"Doe, John\",\"say \"\"hi\"\"\"\n"
		"\n"
		"  \"+12015550124\" , plain value ,\"two\nlines\"\n"
		"+12015550125,,\"\"\n";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_int_equal(info.bom, 0);
	assert_string_equal(info.eol, "\n");
	assert_int_equal(r.n, 4);
	assert_int_equal(info.records, 4);
	assert_int_equal(info.malformed, 0);
	assert_string_equal(r.fields[1][1], "Doe, John");
	assert_string_equal(r.fields[1][2], "say \"hi\"");
	assert_int_equal(r.line[2], 4);          /* the blank line 3 is not a record */
	assert_int_equal(r.end_line[2], 5);
	assert_string_equal(r.fields[2][0], "+12015550124");
	assert_string_equal(r.fields[2][1], "plain value");
	assert_string_equal(r.fields[2][2], "two\nlines");
	assert_int_equal(r.line[3], 6);
	assert_int_equal(r.nfields[3], 3);
	assert_string_equal(r.fields[3][1], "");
	assert_string_equal(r.fields[3][2], "");
}

static void test_csv_bom_crlf(void **state)
{
	static const char in[] = "\xef\xbb\xbf\"a\",\"b\"\r\n\"1\",\"2\"\r\n\r\n\"3\",\"4\"";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_int_equal(info.bom, 1);
	assert_string_equal(info.eol, "\r\n");
	assert_int_equal(r.n, 3);
	assert_string_equal(r.fields[0][0], "a");   /* no BOM in the first name */
	assert_int_equal(r.line[2], 4);
	assert_string_equal(r.fields[2][1], "4");    /* no line end at the end of the file */
}

static void test_csv_lone_cr(void **state)
{
	static const char in[] = "a,b\r1,2\r3,4\r";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_string_equal(info.eol, "\r");
	assert_int_equal(r.n, 3);
	assert_int_equal(r.line[2], 3);
}

static void test_csv_bad_quoting_recovers(void **state)
{
	static const char in[] =
		"\"a\",\"b\"\n"
		"\"1\",\"x\"y\"\n"             /* text after a closing quote */
		"\"2\",ab\"c\n"                /* a quote inside an unquoted field */
		"\"3\",\"4\"\n";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_int_equal(r.n, 4);
	assert_int_equal(info.malformed, 2);
	assert_int_equal(r.line[1], 2);
	assert_contains(r.error[1], "bad quoting on line 2, column 8");
	assert_int_equal(r.nfields[1], 1);      /* the fields read before the error */
	assert_string_equal(r.fields[1][0], "1");
	assert_int_equal(r.line[2], 3);
	assert_contains(r.error[2], "line 3");
	assert_string_equal(r.error[3], "");
	assert_string_equal(r.fields[3][0], "3");
}

static void test_csv_unclosed_quote(void **state)
{
	/* The quoted field of line 2 swallows the rest; the reader gives line
	 * 2 up and reads again from line 3. */
	static const char in[] = "a,b\n1,\"open\n2,3\n4,5";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_int_equal(r.n, 4);
	assert_contains(r.error[1], "never closed");
	assert_int_equal(r.line[1], 2);
	assert_string_equal(r.error[2], "");
	assert_int_equal(r.line[2], 3);
	assert_string_equal(r.fields[3][1], "5");
}

static void test_csv_multiline_error_names_start(void **state)
{
	static const char in[] = "a,b\n\"x\ny\"z,1\n5,6\n";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_int_equal(r.line[1], 2);
	assert_contains(r.error[1], "line 3");
	assert_contains(r.error[1], "starts on line 2");
	/* Line 3 is read again on its own: y"z is malformed too; line 4 fine. */
	assert_int_equal(r.n, 4);
	assert_int_equal(r.line[2], 3);
	assert_true(r.error[2][0] != '\0');
	assert_string_equal(r.fields[3][0], "5");
}

static void test_csv_nul_byte(void **state)
{
	static const char in[] = "a,b\n\"x\0y\",1\n2,3\n";
	struct recs r;
	ctl_csv_info info;

	(void)state;
	read_csv(in, sizeof(in) - 1, &r, &info);
	assert_int_equal(r.n, 3);
	assert_contains(r.error[1], "NUL");
	assert_int_equal(r.lens[1][0], 3);
	assert_string_equal(r.error[2], "");
}

static void test_csv_stop(void **state)
{
	static const char in[] = "a\n1\n2\n3\n";
	struct recs r;
	ctl_csv_info info;
	char err[100];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	assert_int_equal(ctl_csv_read(in, sizeof(in) - 1, collect, &r, &info, err, sizeof(err)), 7);
	assert_int_equal(r.n, 2);
}

/* ---- pre-enroll rows -------------------------------------------------------------------- */

/* A row from string literals. */
struct trow {
	ctl_csv_row row;
	char *f[8];
	size_t l[8];
};

static void mkrow(struct trow *t, size_t line, const char *error, int n, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		t->f[i] = va_arg(ap, char *);
		t->l[i] = strlen(t->f[i]);
	}
	va_end(ap);
	t->row.line = line;
	t->row.nfields = (size_t)n;
	t->row.fields = t->f;
	t->row.lens = t->l;
	t->row.error = error;
}

static void header(struct pre_header *h, const char *ref_col)
{
	struct trow t;
	char err[300];

	mkrow(&t, 1, NULL, 3, "mobileNumber", "fullName", "memberId");
	assert_int_equal(pre_header_parse(&t.row, ref_col, h, err, sizeof(err)), 0);
}

static void test_pre_header(void **state)
{
	struct pre_header h;
	struct trow t;
	char err[300];

	(void)state;
	mkrow(&t, 1, NULL, 3, "MobileNumber", "FULLNAME", "memberId");
	assert_int_equal(pre_header_parse(&t.row, "mobileNumber", &h, err, sizeof(err)), 0);
	assert_int_equal(h.mobile_col, 0);
	assert_int_equal(h.name_col, 1);
	assert_int_equal(h.ref_col, 0);
	pre_header_free(&h);

	mkrow(&t, 1, NULL, 2, "fullName", "phoneNumber");
	assert_int_equal(pre_header_parse(&t.row, "mobileNumber", &h, err, sizeof(err)), -1);
	assert_contains(err, "no 'mobileNumber' column");

	mkrow(&t, 1, NULL, 3, "mobileNumber", "x", "X");
	assert_int_equal(pre_header_parse(&t.row, "mobileNumber", &h, err, sizeof(err)), -1);
	assert_contains(err, "columns 2 and 3");

	mkrow(&t, 1, NULL, 2, "mobileNumber", "RC");
	assert_int_equal(pre_header_parse(&t.row, "mobileNumber", &h, err, sizeof(err)), -1);
	assert_contains(err, "reserved");

	mkrow(&t, 1, NULL, 2, "mobileNumber", "");
	assert_int_equal(pre_header_parse(&t.row, "mobileNumber", &h, err, sizeof(err)), -1);
	assert_contains(err, "column 2 has no name");

	mkrow(&t, 1, NULL, 2, "mobileNumber", "x");
	assert_int_equal(pre_header_parse(&t.row, "memberId", &h, err, sizeof(err)), -1);
	assert_contains(err, "externalref_column");

	mkrow(&t, 1, "malformed CSV: bad quoting", 1, "mobileNumber");
	assert_int_equal(pre_header_parse(&t.row, "mobileNumber", &h, err, sizeof(err)), -1);
	assert_contains(err, "not valid CSV");
}

static void check(const char *number, const char *codes_text, int want_rc, const char *want)
{
	struct pre_header h;
	struct pre_codes codes;
	struct pre_row pr;
	struct trow t;
	char err[100];

	header(&h, "mobileNumber");
	assert_int_equal(pre_codes_parse(codes_text, &codes, err, sizeof(err)), 0);
	mkrow(&t, 2, NULL, 3, number, "John Doe", "1");
	pre_row_check(&h, &codes, &t.row, &pr);
	if (pr.rc != want_rc)
		fail_msg("%s: RC %d, expected %d (%s)", number, pr.rc, want_rc, pr.reason);
	if (want_rc == PRE_RC_PENDING)
		assert_string_equal(pr.e164, want);
	else
		assert_contains(pr.reason, want);
	pre_header_free(&h);
}

static void test_pre_numbers(void **state)
{
	(void)state;
	check("+12015550123", "1", PRE_RC_PENDING, "+12015550123");
	check(" (201) 555-0123 ", "1", PRE_RC_PENDING, "+12015550123");   /* no +: US */
	check("12015550123", "1", PRE_RC_PENDING, "+12015550123");
	check("+18002530000", "1", PRE_RC_NOT_MOBILE, "TOLL_FREE");
	check("+15005550006", "1", PRE_RC_NOT_MOBILE, "PERSONAL_NUMBER");
	check("+1201555", "1", PRE_RC_NOT_MOBILE, "not a valid number");
	check("", "1", PRE_RC_NOT_MOBILE, "empty");
	check("call me", "1", PRE_RC_NOT_MOBILE, "not a phone number");
	check("+447400123456", "1", PRE_RC_COUNTRY, "+44 is not accepted (accepted: +1)");
	check("+447400123456", "+1, +44", PRE_RC_PENDING, "+447400123456");
	check("+442079460000", "1 44", PRE_RC_NOT_MOBILE, "FIXED_LINE");
	check("+4420794", "1", PRE_RC_COUNTRY, "+44");      /* invalid, but not US anyway */
}

/* Found by fuzz/fuzz_preenroll: the number was quoted back raw in the
 * reason, which goes to the admin's terminal. */
static void test_pre_reason_printable(void **state)
{
	(void)state;
	check("+1201555 \x1a+01", "1", PRE_RC_NOT_MOBILE, "'+1201555 +01'");
	check("\x1b[2J+447400123456", "1", PRE_RC_NOT_MOBILE, "'[2J+447400123456': not a phone");
	check("+1800253\xc2\x9b" "0000", "1", PRE_RC_NOT_MOBILE, "'+18002530000': not a phone");
}

static void test_pre_row_structure(void **state)
{
	struct pre_header h;
	struct pre_codes codes;
	struct pre_row pr;
	struct trow t;
	char err[100];

	(void)state;
	header(&h, "memberId");
	assert_int_equal(pre_codes_parse("1", &codes, err, sizeof(err)), 0);

	mkrow(&t, 2, "malformed CSV: bad quoting on line 2, column 5", 1, "x");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_SYSTEM);
	assert_contains(pr.reason, "bad quoting");

	mkrow(&t, 3, NULL, 2, "+12015550123", "x");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_SYSTEM);
	assert_contains(pr.reason, "2 fields, the header has 3");

	mkrow(&t, 4, NULL, 3, "+12015550123", "Bad \xff byte", "1");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_SYSTEM);
	assert_contains(pr.reason, "field 2 (fullName): not valid UTF-8");
	assert_int_equal(pr.sanitize, 1);

	mkrow(&t, 5, NULL, 3, "+12015550123", "Overlong \xc0\xaf", "1");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_SYSTEM);

	mkrow(&t, 6, NULL, 3, "+12015550123", "John", "  ");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_SYSTEM);
	assert_contains(pr.reason, "column memberId (the externalRef): empty");

	mkrow(&t, 7, NULL, 3, "+12015550123", "John", " M-42 ");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_PENDING);
	assert_string_equal(pr.external_ref, "M-42");
	pre_header_free(&h);
}

static void test_pre_body(void **state)
{
	struct pre_header h;
	struct pre_codes codes;
	struct pre_row pr;
	struct trow t;
	char err[100], *body;

	(void)state;
	header(&h, "mobileNumber");
	assert_int_equal(pre_codes_parse("1", &codes, err, sizeof(err)), 0);
	mkrow(&t, 2, NULL, 3, "2015550123", " Jos\xc3\xa9 \"J\" Doe ", "");
	pre_row_check(&h, &codes, &t.row, &pr);
	assert_int_equal(pr.rc, PRE_RC_PENDING);
	body = pre_row_body(&h, &t.row, &pr);
	assert_non_null(body);
	assert_string_equal(body, "{\"externalRef\":\"+12015550123\",\"attributes\":{"
	                    "\"mobileNumber\":\"+12015550123\",\"fullName\":"
	                    "\"Jos\xc3\xa9 \\\"J\\\" Doe\"}}");
	free(body);

	/* Found by fuzz/fuzz_preenroll: a name longer than 1023 bytes was cut
	 * inside a character, and the body was not UTF-8.  All of it now. */
	{
		char name[1100];
		memset(name, 'A', 1022);
		snprintf(name + 1022, sizeof(name) - 1022, "\xc3\xa9\xc3\xa9");
		mkrow(&t, 2, NULL, 3, "2015550123", name, "");
		pre_row_check(&h, &codes, &t.row, &pr);
		assert_int_equal(pr.rc, PRE_RC_PENDING);
		body = pre_row_body(&h, &t.row, &pr);
		assert_non_null(body);
		assert_true(mid_utf8_valid(body));
		assert_contains(body, name);
		free(body);
	}
	pre_header_free(&h);
}

static void test_pre_codes(void **state)
{
	struct pre_codes c;
	char err[100], text[100];

	(void)state;
	assert_int_equal(pre_codes_parse("+1, +44 33", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 3);
	pre_codes_format(&c, text, sizeof(text));
	assert_string_equal(text, "+1, +44, +33");
	assert_int_equal(pre_codes_parse("1,x", &c, err, sizeof(err)), -1);
	assert_int_equal(pre_codes_parse("1000", &c, err, sizeof(err)), -1);
	assert_int_equal(pre_codes_parse(" , ", &c, err, sizeof(err)), -1);
}

static void test_pre_write_record(void **state)
{
	char *fields[3] = { "a\"b", "c,d", "e\nf" };
	size_t lens[3] = { 3, 3, 3 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(pre_write_record(f, fields, lens, 3, 3, "0", "\r\n", 0), 0);
	assert_int_equal(pre_write_record(f, fields, lens, 1, 3, "1", "\n", 0), 0);   /* padded */
	assert_int_equal(pre_write_record(f, fields, lens, 3, 2, "1", "\n", 0), 0);   /* cut */
	fields[0] = "x\xff\x01y";
	assert_int_equal(pre_write_record(f, fields, lens, 1, 1, "1", "\n", 1), 0);   /* cleaned */
	fclose(f);
	assert_string_equal(buf, "\"a\"\"b\",\"c,d\",\"e\nf\",\"0\"\r\n"
	                    "\"a\"\"b\",\"\",\"\",\"1\"\n"
	                    "\"a\"\"b\",\"c,d\",\"1\"\n"
	                    "\"x?y\",\"1\"\n");
	free(buf);
}

static void test_pre_name(void **state)
{
	(void)state;
	assert_true(pre_name_ok("Preenroll-2023-06-25.csv"));
	assert_true(pre_name_ok("/srv/preenroll/Preenroll-2024-02-29.csv"));
	assert_false(pre_name_ok("Preenroll-2023-02-29.csv"));     /* no such day */
	assert_false(pre_name_ok("Preenroll-2023-13-01.csv"));
	assert_false(pre_name_ok("preenroll-2023-06-25.csv"));
	assert_false(pre_name_ok("Preenroll-2023-06-25.CSV"));
	assert_false(pre_name_ok("Preenroll-23-06-25.csv"));
	assert_false(pre_name_ok("Preenroll-2023-06-25.csv.out"));
}

/* ---- auth file ------------------------------------------------------------------------- */

static void test_af_header(void **state)
{
	struct af_header h;
	char line[300], err[400];

	(void)state;
	snprintf(line, sizeof(line), "MAINTCODE|UUID|SUID|USER TYPE|User  Name|ACCOUNT NUMBER|"
	         "ACCOUNT TYPE|ACCOUNT NAME|SSN|DOB\r");
	assert_int_equal(af_header_parse(line, &h, err, sizeof(err)), 0);
	assert_true(h.incremental);
	assert_int_equal(h.nfields, 10);
	assert_int_equal(h.col[AF_USER_NAME], 4);
	assert_int_equal(h.col[AF_SUID], 2);
	assert_string_equal(h.unused, "SSN, DOB");
	af_header_free(&h);

	snprintf(line, sizeof(line), "UUID|USER TYPE|ACCOUNT NUMBER");
	assert_int_equal(af_header_parse(line, &h, err, sizeof(err)), -1);
	assert_contains(err, "required columns missing: USER NAME, ACCOUNT NAME");

	snprintf(line, sizeof(line), "UUID|UUID|USER TYPE|USER NAME|ACCOUNT NUMBER|ACCOUNT NAME");
	assert_int_equal(af_header_parse(line, &h, err, sizeof(err)), -1);
	assert_contains(err, "UUID appears twice");

	snprintf(line, sizeof(line), "123456789|P|John Doe|654321789|DD|John Doe");
	assert_int_equal(af_header_parse(line, &h, err, sizeof(err)), -1);
	assert_contains(err, "required columns missing");
}

static int parse_line(const char *hdr, const char *text, struct af_record *r, char *err,
                      size_t errlen)
{
	struct af_header h;
	char hl[300], line[400];
	int rc;

	snprintf(hl, sizeof(hl), "%s", hdr);
	snprintf(line, sizeof(line), "%s", text);
	assert_int_equal(af_header_parse(hl, &h, err, errlen), 0);
	rc = af_record_parse(&h, line, r, err, errlen);
	if (rc == 0) {
		/* the record points into line: copy what the tests look at */
		static char acct[128], type[8], name[128];
		snprintf(acct, sizeof(acct), "%s", r->rel.account);
		snprintf(type, sizeof(type), "%s", r->rel.account_type);
		snprintf(name, sizeof(name), "%s", r->rel.user_name);
		r->rel.account = acct;
		r->rel.account_type = type;
		r->rel.user_name = name;
	}
	af_header_free(&h);
	return rc;
}

#define FULL "UUID|SUID|USER TYPE|USER NAME|ACCOUNT NUMBER|ACCOUNT TYPE|ACCOUNT NAME|SSN|DOB"
#define INCR "MAINTCODE|UUID|USER TYPE|USER NAME|ACCOUNT NUMBER|ACCOUNT NAME"

static void test_af_records(void **state)
{
	struct af_record r;
	char err[400];

	(void)state;
	assert_int_equal(parse_line(FULL, " 455555000 |ADMIN|N|John Doe|888888888|LN|BUSINESS LLC|"
	                            "123456789|11/11/1990", &r, err, sizeof(err)), 0);
	assert_int_equal(r.op, 'A');
	assert_string_equal(r.rel.identity, "455555000|ADMIN");
	assert_string_equal(r.rel.account, "888888888");
	assert_string_equal(r.rel.account_type, "LN");
	assert_int_equal(r.rel.user_type, 'N');

	assert_int_equal(parse_line(FULL, "123|P|P|John|1|DD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 3 (USER TYPE): a sub-user (SUID set) must be a business user");

	assert_int_equal(parse_line(FULL, "123||X|John|1|DD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 3 (USER TYPE): 'X' is neither P");

	assert_int_equal(parse_line(FULL, "123||P|John|12a|DD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 5 (ACCOUNT NUMBER): '12a' is not a number");

	assert_int_equal(parse_line(FULL, "123||P|John|12|DDD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 6 (ACCOUNT TYPE)");

	assert_int_equal(parse_line(FULL, "123||P||12|DD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 4 (USER NAME): empty");

	assert_int_equal(parse_line(FULL, "123||P|J\xff|12|DD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 4 (USER NAME): not valid UTF-8");

	assert_int_equal(parse_line(FULL, "123||P|John|12|DD|J|", &r, err, sizeof(err)), -1);
	assert_contains(err, "8 fields, the header has 9");

	/* An identifier that may be an SSN is never quoted back. */
	assert_int_equal(parse_line(FULL, "123 45 6789||P|John|12|DD|J||", &r, err, sizeof(err)),
	                 -1);
	assert_contains(err, "field 1 (UUID)");
	assert_null(strstr(err, "6789"));

	assert_int_equal(parse_line(INCR, "D|123|P|John|12|J", &r, err, sizeof(err)), 0);
	assert_int_equal(r.op, 'D');
	assert_string_equal(r.rel.account_type, "");
	assert_int_equal(parse_line(INCR, "a|123|P|John|12|J", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 1 (MAINTCODE): 'a' is neither A");
	assert_int_equal(parse_line(INCR, "|123|P|John|12|J", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 1 (MAINTCODE): empty");
}

/* Error lines go to the admin's terminal.  Found by fuzz/fuzz_authfile: a
 * CR, an escape sequence or a C1 control in a value that is quoted back,
 * or in the name of a column that is not read (the debug note), reached
 * the terminal; "%.10s" cut a character in two. */
static int printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 &&
		                                                  p[1] < 0xa0))
			return 0;
	return mid_utf8_valid(s);
}

static void test_af_messages_printable(void **state)
{
	struct af_header h;
	struct af_record r;
	char line[300], err[400];

	(void)state;
	assert_int_equal(parse_line(INCR, "eo\rDA|123|P|John|12|J", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 1 (MAINTCODE): 'eoDA' is neither A");
	assert_true(printable(err));
	assert_int_equal(parse_line(FULL, "123||\x1b[2J|John|12|DD|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "field 3 (USER TYPE): '[2J' is neither P");
	assert_true(printable(err));
	assert_int_equal(parse_line(FULL, "123||P|John|12\xc2\x9b" "31m|DD|J||", &r, err,
	                            sizeof(err)), -1);
	assert_contains(err, "'1231m' is not a number");
	assert_true(printable(err));
	/* Ten bytes of it at most, no character cut in two. */
	assert_int_equal(parse_line(FULL, "123||P|John|12|D\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                            "\xc3\xa9|J||", &r, err, sizeof(err)), -1);
	assert_contains(err, "'D\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9' is not 1 or 2");
	assert_true(printable(err));

	snprintf(line, sizeof(line), "UUID|USER TYPE|USER NAME|ACCOUNT NUMBER|ACCOUNT NAME|"
	         "S\x1b]0;x\aSN|DOB");
	assert_int_equal(af_header_parse(line, &h, err, sizeof(err)), 0);
	assert_string_equal(h.unused, "S]0;xSN, DOB");
	af_header_free(&h);
}

static void test_af_names(void **state)
{
	(void)state;
	assert_true(af_name_ok("demo_auth_20200312.txt"));
	assert_true(af_name_ok("/in/demo_auth_20200312.txt.pgp"));
	assert_true(af_name_ok("demo_auth2_20200312.txt"));
	assert_false(af_name_ok("demo_auth_20200230.txt"));
	assert_false(af_name_ok("demo_auth_2020031.txt"));
	assert_false(af_name_ok("demo-auth_20200312.txt"));
	assert_false(af_name_ok("demo_auth_20200312.csv"));
	assert_true(af_name_encrypted("x.txt.pgp"));
	assert_true(af_name_encrypted("x.GPG"));
	assert_false(af_name_encrypted("x.txt"));
}

/* ---- the account map ------------------------------------------------------------------ */

struct mapfx {
	char dir[64];
	char path[128];
	char err[600];
};

static int map_setup(void **state)
{
	struct mapfx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(tu_mkdtemp(fx->dir, sizeof(fx->dir), "batch"), 0);
	snprintf(fx->path, sizeof(fx->path), "%s/accounts.map", fx->dir);
	*state = fx;
	return 0;
}

static int map_teardown(void **state)
{
	struct mapfx *fx = *state;

	tu_rmtree(fx->dir);
	free(fx);
	return 0;
}

static void add(mid_acctmap *m, const char *acct, const char *type, const char *id, char ut,
                const char *name)
{
	mid_acct_rel r = { .account = (char *)acct, .account_type = (char *)type,
	                   .identity = (char *)id, .user_type = ut, .user_name = (char *)name };
	char err[200];

	assert_int_equal(mid_acctmap_add(m, &r, err, sizeof(err)), 0);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_map_roundtrip(void **state)
{
	struct mapfx *fx = *state;
	mid_acctmap m = { 0 }, back;
	mid_acct_identity *ids;
	size_t n;
	int missing;
	struct stat st;

	add(&m, "888", "LN", "455|ADMIN", 'N', "John Doe");
	add(&m, "888", "LN", "455", 'N', "Business LLC");
	add(&m, "777", "LN", "455|ADMIN", 'N', "John Doe");
	add(&m, "888", "SV", "455", 'N', "Business LLC");
	add(&m, "888", "LN", "455|ADMIN", 'N', "John Q Doe");   /* later one wins */
	mid_acctmap_sort(&m);
	assert_int_equal(m.n, 4);
	assert_int_equal(mid_acctmap_save(&m, fx->path, "test", fx->err, sizeof(fx->err)), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(mid_acctmap_load(fx->path, 0, &back, &missing, fx->err,
	                                  sizeof(fx->err)), 0);
	assert_int_equal(missing, 0);
	assert_int_equal(back.n, 4);
	/* account, primary before sub-user, identity, type */
	assert_string_equal(back.rel[0].account, "777");
	assert_string_equal(back.rel[1].identity, "455");
	assert_string_equal(back.rel[1].account_type, "LN");
	assert_string_equal(back.rel[2].account_type, "SV");
	assert_string_equal(back.rel[3].identity, "455|ADMIN");
	assert_string_equal(back.rel[3].user_name, "John Q Doe");
	mid_acctmap_free(&back);

	assert_int_equal(mid_acctmap_identities(fx->path, 0, "888", &ids, &n, fx->err,
	                                        sizeof(fx->err)), 0);
	assert_int_equal(n, 2);        /* 455 once, though it has two account types */
	assert_string_equal(ids[0].identity, "455");
	assert_string_equal(ids[0].label, "Business LLC");
	assert_string_equal(ids[1].identity, "455|ADMIN");
	assert_string_equal(ids[1].label, "John Q Doe (ADMIN)");
	mid_acct_identities_free(ids, n);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "999", &ids, &n, fx->err,
	                                        sizeof(fx->err)), 0);
	assert_int_equal(n, 0);
	mid_acctmap_free(&m);
}

static void test_map_keeps_0640(void **state)
{
	struct mapfx *fx = *state;
	mid_acctmap m = { 0 };
	struct stat st;

	add(&m, "1", "", "a", 'P', "A");
	assert_int_equal(mid_acctmap_save(&m, fx->path, NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(chmod(fx->path, 0640), 0);
	assert_int_equal(mid_acctmap_save(&m, fx->path, NULL, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	mid_acctmap_free(&m);
}

static void test_map_refusals(void **state)
{
	struct mapfx *fx = *state;
	mid_acct_identity *ids;
	mid_acctmap m;
	size_t n;
	int missing;
	char link[160];

	/* missing: an error for the modules, an empty map for the importer */
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, "no account map");
	assert_int_equal(mid_acctmap_load(fx->path, 0, &m, &missing, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(missing, 1);
	assert_int_equal(m.n, 0);

	write_text(fx->path, MID_ACCTMAP_MAGIC "\n1\t\ta\tP\tA\n", 0644);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, "lets others read it");
	chmod(fx->path, 0620);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, "write");
	chmod(fx->path, 0640);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	if (getegid() == getgid()) {
		/* our own group, and the caller allows group reading (RADIUS) */
		assert_int_equal(mid_acctmap_identities(fx->path, MID_CONF_ALLOW_GROUP_READ, "1", &ids,
		                                        &n, fx->err, sizeof(fx->err)), 0);
		assert_int_equal(n, 1);
		mid_acct_identities_free(ids, n);
	}
	chmod(fx->path, 0600);
	snprintf(link, sizeof(link), "%s/link.map", fx->dir);
	assert_int_equal(symlink(fx->path, link), 0);
	assert_int_equal(mid_acctmap_identities(link, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, "symbolic link");

	write_text(fx->path, "1\t\ta\tP\tA\n", 0600);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, ":1: not an account map");

	write_text(fx->path, MID_ACCTMAP_MAGIC "\n# c\n1\ta\tP\tA\n", 0600);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, ":3: not an account map line");

	write_text(fx->path, MID_ACCTMAP_MAGIC "\n1\t\ta\tX\tA\n", 0600);
	assert_int_equal(mid_acctmap_identities(fx->path, 0, "1", &ids, &n, fx->err,
	                                        sizeof(fx->err)), -1);
	assert_contains(fx->err, ":2: bad account map line");
}

/* externalref = map: the choice */

struct cbfx {
	int answer;
	int asked;
	int n;
	char question[300];
	char option1[100];
	char log[600];
};

static int choose_cb(void *ctx, const char *question, const char *const *options, int n)
{
	struct cbfx *c = ctx;

	c->asked++;
	c->n = n;
	snprintf(c->question, sizeof(c->question), "%s", question);
	snprintf(c->option1, sizeof(c->option1), "%s", options[1]);
	return c->answer;
}

static void log_cb(void *ctx, int prio, const char *msg)
{
	struct cbfx *c = ctx;

	(void)prio;
	snprintf(c->log, sizeof(c->log), "%s", msg);
}

static void test_map_external_ref(void **state)
{
	struct mapfx *fx = *state;
	mid_config *cfg = mid_config_new();
	struct cbfx c = { 0 };
	mid_callbacks cb = { .ctx = &c, .log = log_cb, .choose = choose_cb };
	mid_callbacks radius = { .ctx = &c, .log = log_cb };
	mid_result res;
	char *ref, why[600];

	assert_non_null(cfg);
	assert_int_equal(mid_config_set(cfg, "auth.externalref", "map", "test", why, sizeof(why)), 0);
	assert_true(mid_externalref_is_map(cfg));
	assert_int_equal(mid_config_set(cfg, "map.file", fx->path, "test", why, sizeof(why)), 0);
	write_text(fx->path, MID_ACCTMAP_MAGIC "\n"
	           "1\t\talice\tP\tAlice\n"
	           "2\tLN\tbiz\tN\tBiz LLC\n"
	           "2\tLN\tbiz|BOB\tN\tBob\n", 0600);

	assert_int_equal(mid_acctmap_external_ref(cfg, "1", &cb, &ref, &res, why, sizeof(why)), 0);
	assert_string_equal(ref, "alice");
	assert_int_equal(c.asked, 0);          /* one identity: nobody is asked */
	free(ref);

	c.answer = 1;
	assert_int_equal(mid_acctmap_external_ref(cfg, "2", &cb, &ref, &res, why, sizeof(why)), 0);
	assert_string_equal(ref, "biz|BOB");
	assert_int_equal(c.asked, 1);
	assert_int_equal(c.n, 2);
	assert_contains(c.question, "Account 2");
	assert_string_equal(c.option1, "Bob (BOB)");
	free(ref);

	c.answer = -1;
	assert_int_equal(mid_acctmap_external_ref(cfg, "2", &cb, &ref, &res, why, sizeof(why)), -1);
	assert_int_equal(res, MID_CANCELLED);
	c.answer = 5;
	assert_int_equal(mid_acctmap_external_ref(cfg, "2", &cb, &ref, &res, why, sizeof(why)), -1);
	assert_int_equal(res, MID_CANCELLED);

	/* RADIUS: no choose callback, the first identity, and a log line */
	assert_int_equal(mid_acctmap_external_ref(cfg, "2", &radius, &ref, &res, why,
	                                          sizeof(why)), 0);
	assert_string_equal(ref, "biz");
	assert_contains(c.log, "using the first, biz");
	free(ref);

	assert_int_equal(mid_acctmap_external_ref(cfg, "3", &cb, &ref, &res, why, sizeof(why)), -1);
	assert_int_equal(res, MID_USER_UNKNOWN);
	assert_contains(why, "not in the account map");

	chmod(fx->path, 0644);
	assert_int_equal(mid_acctmap_external_ref(cfg, "1", &cb, &ref, &res, why, sizeof(why)), -1);
	assert_int_equal(res, MID_CONFIG_ERROR);
	mid_config_free(cfg);
}

static void test_config_keys(void **state)
{
	mid_config *cfg = mid_config_new();
	char err[300];

	(void)state;
	assert_non_null(cfg);
	assert_string_equal(cfg->map_file, "/var/lib/mobileid/accounts.map");
	assert_int_equal(cfg->map_max_purge_percent, 10);
	assert_null(cfg->map_gnupg_home);
	assert_string_equal(cfg->preenroll_country_codes, "1");
	assert_string_equal(cfg->preenroll_externalref_column, "mobileNumber");
	assert_int_equal(mid_config_set(cfg, "preenroll.country_codes", "+1, +44 33", "t", err,
	                                sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "preenroll.country_codes", "1,x", "t", err,
	                                sizeof(err)), -1);
	assert_contains(err, "[preenroll] country_codes: bad value");
	assert_int_equal(mid_config_set(cfg, "preenroll.country_codes", "", "t", err,
	                                sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "preenroll.country_codes", "01", "t", err,
	                                sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "map.max_purge_percent", "101", "t", err,
	                                sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "map.file", "relative.map", "t", err,
	                                sizeof(err)), -1);
	mid_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_basic_quoting),
		cmocka_unit_test(test_csv_bom_crlf),
		cmocka_unit_test(test_csv_lone_cr),
		cmocka_unit_test(test_csv_bad_quoting_recovers),
		cmocka_unit_test(test_csv_unclosed_quote),
		cmocka_unit_test(test_csv_multiline_error_names_start),
		cmocka_unit_test(test_csv_nul_byte),
		cmocka_unit_test(test_csv_stop),
		cmocka_unit_test(test_pre_header),
		cmocka_unit_test(test_pre_numbers),
		cmocka_unit_test(test_pre_reason_printable),
		cmocka_unit_test(test_pre_row_structure),
		cmocka_unit_test(test_pre_body),
		cmocka_unit_test(test_pre_codes),
		cmocka_unit_test(test_pre_write_record),
		cmocka_unit_test(test_pre_name),
		cmocka_unit_test(test_af_header),
		cmocka_unit_test(test_af_records),
		cmocka_unit_test(test_af_messages_printable),
		cmocka_unit_test(test_af_names),
		cmocka_unit_test_setup_teardown(test_map_roundtrip, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_map_keeps_0640, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_map_refusals, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_map_external_ref, map_setup, map_teardown),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

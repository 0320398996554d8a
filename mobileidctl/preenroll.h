/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * preenroll.h - the IDgo pre-enroll CSV (idgo-preenroll-batch.txt): the
 * header, the checks of one row that need no network, the POST /users
 * body, and the records of the FILE.out result file.  The command itself
 * (the network, the files) is cmd_preenroll.c.
 */
#ifndef MOBILEIDCTL_PREENROLL_H
#define MOBILEIDCTL_PREENROLL_H

#include <stddef.h>
#include <stdio.h>

#include "csvrows.h"

/* The RC column (the spec's codes). */
enum pre_rc {
	PRE_RC_OK = 0,            /* the MobileID user was created */
	PRE_RC_SYSTEM = 1,        /* system error, or a malformed row */
	PRE_RC_ENROLLED = 2,      /* a user with this externalRef exists already */
	PRE_RC_NOT_MOBILE = 3,    /* not a (valid) mobile number */
	PRE_RC_COUNTRY = 4,       /* country code not accepted ("non-US") */
	PRE_RC_PENDING = -1       /* checks passed: create the user */
};

#define PRE_MOBILE "mobileNumber"
#define PRE_FULLNAME "fullName"
#define PRE_MAX_CODES 32
#define PRE_REF_MAX 255

struct pre_header {
	size_t ncols;
	char **names;
	size_t mobile_col;        /* index of mobileNumber */
	size_t name_col;          /* index of fullName, or (size_t)-1 */
	size_t ref_col;           /* the externalRef column */
};

/* Read the header record.  ref_column names the column whose value is the
 * externalRef (mobileNumber: the number in E.164 form).  0, or -1 with
 * err (fatal: nothing can be processed). */
int pre_header_parse(const ctl_csv_row *row, const char *ref_column, struct pre_header *h,
                     char *err, size_t errlen);
void pre_header_free(struct pre_header *h);

/* The accepted country calling codes ("1", "+1, +44"). */
struct pre_codes {
	int n;
	int cc[PRE_MAX_CODES];
};
int pre_codes_parse(const char *s, struct pre_codes *c, char *err, size_t errlen);
/* "+1, +44" */
void pre_codes_format(const struct pre_codes *c, char *out, size_t outlen);

struct pre_row {
	int rc;                   /* enum pre_rc */
	char reason[1200];        /* why, for every rc but 0 and PENDING */
	char e164[24];
	char external_ref[PRE_REF_MAX + 1];
	int sanitize;             /* write the fields cleaned (bad UTF-8, NUL) */
};

/* Every check that needs no network (structure, UTF-8, the number). */
void pre_row_check(const struct pre_header *h, const struct pre_codes *codes,
                   const ctl_csv_row *row, struct pre_row *out);

/* POST /users body for a row that passed: {"externalRef","attributes":
 * {"mobileNumber" (E.164),"fullName",<extra columns>}}; empty values are
 * left out.  NULL when out of memory; free() it. */
char *pre_row_body(const struct pre_header *h, const ctl_csv_row *row, const struct pre_row *pr);

/* One .out record: exactly ncols fields (missing ones empty, surplus ones
 * left out), then last (the RC), every field double-quoted, eol at the
 * end.  sanitize: invalid UTF-8 and control characters (but tab and
 * newline) removed.  0 or -1 (write error, out of memory). */
int pre_write_record(FILE *f, char *const *fields, const size_t *lens, size_t nfields,
                     size_t ncols, const char *last, const char *eol, int sanitize);

/* 1 if the base name follows Preenroll-YYYY-MM-DD.csv with a real date. */
int pre_name_ok(const char *path);

#endif

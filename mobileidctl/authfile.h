/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authfile.h - the InfoIMAGE auth file (infoimage-auth-file.txt): the
 * header line and one record, checked field by field.  Pipe-delimited,
 * no quoting (the format has none).  Columns are found by their header
 * names, so any column order and the optional modules (ACCOUNT TYPE, SUID,
 * MAINTCODE, DSO, enrollment, restricted access) are accepted; only the
 * columns the account map needs are read, the others (SSN, DOB, e-mail,
 * phone, attachment password, ...) are counted and never stored or shown.
 */
#ifndef MOBILEIDCTL_AUTHFILE_H
#define MOBILEIDCTL_AUTHFILE_H

#include <stddef.h>

#include "acctmap.h"

enum af_col {
	AF_MAINT = 0,       /* MAINTCODE: the incremental form */
	AF_UUID,
	AF_SUID,
	AF_USER_TYPE,
	AF_USER_NAME,
	AF_ACCOUNT_NUMBER,
	AF_ACCOUNT_TYPE,
	AF_ACCOUNT_NAME,
	AF_NCOLS
};

struct af_header {
	int col[AF_NCOLS];  /* field index of each, -1 when the file has none */
	int nfields;
	char **names;       /* the header's names, for messages */
	int incremental;
	char unused[300];   /* names of the columns that are not read, for a note */
};

/* Parse the header line (modified in place).  0, or -1 with err. */
int af_header_parse(char *line, struct af_header *h, char *err, size_t errlen);
void af_header_free(struct af_header *h);

struct af_record {
	char op;            /* 'A' (add or update; every line of a full file) or 'D' */
	mid_acct_rel rel;   /* points into the line and into identity */
	char identity[2 * MID_ACCTMAP_FIELD_MAX + 2];   /* UUID or UUID|SUID */
};

/* Parse one record line (modified in place; no line end).  0, or -1 with
 * err naming the field ("field 5 (ACCOUNT TYPE): ...") - never quoting
 * the value of an identifier or of a column that is not read. */
int af_record_parse(const struct af_header *h, char *line, struct af_record *r,
                    char *err, size_t errlen);

/* 1 if the base name is CID_auth_YYYYMMDD.txt or ....txt.pgp (auth2 too). */
int af_name_ok(const char *path);
/* 1 if the name says the file is OpenPGP-encrypted (.pgp, .gpg, .asc). */
int af_name_encrypted(const char *path);

#endif

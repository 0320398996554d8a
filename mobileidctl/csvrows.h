/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * csvrows.h - CSV records out of a memory buffer, parsed by libcsv (strict
 * mode), with the physical line each record starts on, and recovery after
 * a malformed record so that one bad record never stops the rest.
 *
 * A UTF-8 byte order mark at the start is skipped (and reported).  CRLF,
 * LF and lone CR all end records; blank lines are not records.  A record
 * that libcsv refuses (a quote inside an unquoted field, text after a
 * closing quote, a quoted field never closed) or that holds a NUL byte is
 * handed over with row->error set and the fields read so far; parsing
 * resumes on the line after the one the bad record started on.
 */
#ifndef MOBILEIDCTL_CSVROWS_H
#define MOBILEIDCTL_CSVROWS_H

#include <stddef.h>

typedef struct ctl_csv_row {
	size_t index;         /* 0 for the first record (the header), 1, 2, ... */
	size_t line;          /* physical line (1-based) the record starts on */
	size_t end_line;      /* and the one it ends on */
	size_t end_offset;    /* bytes of the input consumed so far (progress) */
	size_t nfields;
	char **fields;        /* NUL-terminated copies */
	size_t *lens;         /* their lengths (a field may hold a NUL byte) */
	const char *error;    /* NULL, or why the record is malformed */
	char errbuf[160];
} ctl_csv_row;

typedef struct ctl_csv_info {
	int bom;              /* the input started with a UTF-8 BOM */
	const char *eol;      /* line end of the first line: "\r\n", "\n" or "\r"; "\n" if none */
	size_t records;       /* records handed over */
	size_t malformed;     /* of which with an error */
} ctl_csv_info;

/* Called once per record, in order; non-zero stops the reading (and is
 * returned by ctl_csv_read).  The row and its fields are only valid
 * during the call. */
typedef int (*ctl_csv_row_fn)(void *ctx, const ctl_csv_row *row);

/* Read data[0..len).  0 when every record was handed over, the callback's
 * non-zero value when it stopped, -1 when out of memory (err says so). */
int ctl_csv_read(const char *data, size_t len, ctl_csv_row_fn fn, void *ctx,
                 ctl_csv_info *info, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * csvrows.c - CSV records with line numbers and recovery (see csvrows.h).
 *
 * libcsv does the CSV itself.  We feed it one physical line at a time so
 * that we know on which line a record starts; a record only ends at a
 * line end, so every callback of one csv_parse() call belongs to that
 * line.  After a strict-mode error libcsv cannot go on: we hand over what
 * we have, start a fresh parser on the line after the one the bad record
 * started on, and carry on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "csvrows.h"

struct reader {
	ctl_csv_row row;
	size_t cap;
	int pending;          /* a record has started and not ended yet */
	int nul;              /* it holds a NUL byte */
	int oom;
	int stop;             /* the callback's non-zero answer */
	size_t cur_line;      /* the line being fed */
	size_t offset;        /* end of the line being fed */
	ctl_csv_row_fn fn;
	void *ctx;
	ctl_csv_info *info;
};

static void clear_row(struct reader *r)
{
	for (size_t i = 0; i < r->row.nfields; i++)
		free(r->row.fields[i]);
	r->row.nfields = 0;
	r->row.error = NULL;
	r->row.errbuf[0] = '\0';
	r->nul = 0;
	r->pending = 0;
}

static void on_field(void *field, size_t len, void *data)
{
	struct reader *r = data;
	char *copy;

	if (r->oom || r->stop)
		return;
	if (r->row.nfields == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		char **f = realloc(r->row.fields, ncap * sizeof(*f));
		size_t *l;

		if (!f) {
			r->oom = 1;
			return;
		}
		r->row.fields = f;
		l = realloc(r->row.lens, ncap * sizeof(*l));
		if (!l) {
			r->oom = 1;
			return;
		}
		r->row.lens = l;
		r->cap = ncap;
	}
	copy = malloc(len + 1);
	if (!copy) {
		r->oom = 1;
		return;
	}
	if (len)
		memcpy(copy, field, len);
	copy[len] = '\0';
	if (memchr(copy, '\0', len))
		r->nul = 1;
	r->row.fields[r->row.nfields] = copy;
	r->row.lens[r->row.nfields] = len;
	r->row.nfields++;
}

static void emit(struct reader *r)
{
	if (r->oom || r->stop) {
		clear_row(r);
		return;
	}
	if (r->nul && !r->row.error) {
		snprintf(r->row.errbuf, sizeof(r->row.errbuf), "a field holds a NUL byte");
		r->row.error = r->row.errbuf;
	}
	r->row.end_offset = r->offset;
	r->info->records++;
	if (r->row.error)
		r->info->malformed++;
	r->stop = r->fn(r->ctx, &r->row);
	r->row.index++;
	clear_row(r);
}

static void on_row(int c, void *data)
{
	struct reader *r = data;

	(void)c;
	r->row.end_line = r->cur_line;
	emit(r);
}

/* Index just past the line end that follows pos (or len). */
static size_t line_end(const char *d, size_t len, size_t pos)
{
	for (; pos < len; pos++) {
		if (d[pos] == '\n')
			return pos + 1;
		if (d[pos] == '\r')
			return (pos + 1 < len && d[pos + 1] == '\n') ? pos + 2 : pos + 1;
	}
	return len;
}

static int blank(const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i] != ' ' && d[i] != '\t' && d[i] != '\r' && d[i] != '\n')
			return 0;
	return 1;
}

static void malformed(struct reader *r, size_t start_line, const char *what)
{
	if (start_line != r->cur_line)
		snprintf(r->row.errbuf, sizeof(r->row.errbuf), "malformed CSV: %s "
		         "(the record starts on line %zu)", what, start_line);
	else
		snprintf(r->row.errbuf, sizeof(r->row.errbuf), "malformed CSV: %s", what);
	r->row.error = r->row.errbuf;
	r->row.end_line = r->cur_line;
	emit(r);
}

int ctl_csv_read(const char *data, size_t len, ctl_csv_row_fn fn, void *ctx,
                 ctl_csv_info *info, char *err, size_t errlen)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct reader r;
	size_t pos = 0, line = 1;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(info, 0, sizeof(*info));
	r.fn = fn;
	r.ctx = ctx;
	r.info = info;
	info->eol = "\n";
	if (len >= 3 && memcmp(data, bom, 3) == 0) {
		info->bom = 1;
		pos = 3;
	}
	{
		size_t e = line_end(data, len, pos);
		if (e >= 2 && data[e - 2] == '\r' && data[e - 1] == '\n')
			info->eol = "\r\n";
		else if (e >= 1 && data[e - 1] == '\r')
			info->eol = "\r";
	}

	while (pos < len && !r.stop && !r.oom) {
		struct csv_parser p;
		size_t row_pos = pos, row_line = line;
		int restart = 0;

		if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
			r.oom = 1;
			break;
		}
		while (pos < len && !r.stop && !r.oom) {
			size_t end = line_end(data, len, pos), n;

			if (!r.pending && !blank(data + pos, end - pos)) {
				r.pending = 1;
				row_pos = pos;
				row_line = line;
				r.row.line = line;
			}
			r.cur_line = line;
			r.offset = end;
			n = csv_parse(&p, data + pos, end - pos, on_field, on_row, &r);
			if (r.stop || r.oom)
				break;
			if (n < end - pos) {
				if (csv_error(&p) != CSV_EPARSE) {
					r.oom = 1;
					break;
				}
				char what[80];

				snprintf(what, sizeof(what), "bad quoting on line %zu, column %zu",
				         line, n + 1);
				malformed(&r, row_line, what);
				pos = line_end(data, len, row_pos);
				line = row_line + 1;
				restart = 1;
				break;
			}
			pos = end;
			line++;
		}
		if (!restart && !r.stop && !r.oom) {
			r.cur_line = line > 1 ? line - 1 : 1;
			if (csv_fini(&p, on_field, on_row, &r) != 0) {
				malformed(&r, row_line, "a quoted field is never closed");
				pos = line_end(data, len, row_pos);
				line = row_line + 1;
				restart = 1;
			}
		}
		csv_free(&p);
		if (!restart)
			break;
	}
	clear_row(&r);
	free(r.row.fields);
	free(r.row.lens);
	if (r.oom) {
		snprintf(err, errlen, "out of memory while reading CSV");
		return -1;
	}
	rc = r.stop;
	return rc;
}

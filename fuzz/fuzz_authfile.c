/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_authfile - the InfoIMAGE auth file as mobileidctl auth-import reads
 * it (its line loop: UTF-8 BOM, LF lines, NUL bytes and blank lines
 * skipped): the header (af_header_parse) and each record
 * (af_record_parse).  Every record the parser accepts must go into the
 * account map (mid_acctmap_add) and come back the same from the map file
 * (mid_acctmap_save, mid_acctmap_load through a temporary file). */
#include "config.h"

#include "acctmap.h"
#include "authfile.h"
#include "fuzz.h"
#include "util.h"

FUZZ_ASAN_DEFAULTS("quarantine_size_mb=16")

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-"

/* Error lines go to the terminal: printable UTF-8. */
static void check_message(const char *s)
{
	FUZZ_CHECK(s[0]);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void check_record(const struct af_header *h, const struct af_record *r)
{
	const mid_acct_rel *rel = &r->rel;
	const char *bar = strchr(rel->identity, '|');
	size_t n = strlen(rel->account);

	FUZZ_CHECK(r->op == 'A' || (h->incremental && r->op == 'D'));
	FUZZ_CHECK(n >= 1 && n <= MID_ACCTMAP_FIELD_MAX && strspn(rel->account, "0123456789") == n);
	FUZZ_CHECK(strlen(rel->account_type) <= 2);
	/* The identity: UUID or UUID|SUID of letters, digits and . _ @ - */
	FUZZ_CHECK(rel->identity == r->identity && rel->identity[0]);
	FUZZ_CHECK(strlen(rel->identity) <= MID_ACCTMAP_FIELD_MAX);
	if (bar) {
		FUZZ_CHECK(bar > rel->identity && bar[1] && !strchr(bar + 1, '|'));
		FUZZ_CHECK(rel->user_type == 'N');
	}
	FUZZ_CHECK(strspn(rel->identity, ID_CHARS "|") == strlen(rel->identity));
	FUZZ_CHECK(rel->user_type == 'P' || rel->user_type == 'N');
	FUZZ_CHECK(rel->user_name[0] && utf8_chars(rel->user_name) <= MID_ACCTMAP_FIELD_MAX);
	FUZZ_CHECK(fuzz_valid_utf8(rel->user_name) && !mid_has_ctl(rel->user_name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_str(data, size), *p = buf, *end = buf + size, err[400];
	const char *path = fuzz_tmp_file("auth.map");
	struct af_header h;
	mid_acctmap m = { 0 }, back;
	int have_header = 0, missing;

	if (size >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p;
		struct af_record rec;

		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : end;
		if (strlen(line) != (size_t)((nl ? nl : end) - line))
			continue;   /* a NUL byte: refused by the caller */
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		err[0] = '\0';
		if (!have_header) {
			if (af_header_parse(line, &h, err, sizeof(err)) != 0) {
				check_message(err);
				FUZZ_CHECK(h.names == NULL);
				break;
			}
			have_header = 1;
			FUZZ_CHECK(h.nfields >= 1 && h.names);
			for (int c = 0; c < AF_NCOLS; c++)
				FUZZ_CHECK(h.col[c] >= -1 && h.col[c] < h.nfields);
			FUZZ_CHECK(h.incremental == (h.col[AF_MAINT] >= 0));
			/* The names of the columns not read, for a debug line. */
			FUZZ_CHECK(strlen(h.unused) < sizeof(h.unused));
			FUZZ_CHECK(fuzz_valid_utf8(h.unused) && !fuzz_has_control(h.unused));
			continue;
		}
		if (af_record_parse(&h, line, &rec, err, sizeof(err)) != 0) {
			check_message(err);
			continue;
		}
		check_record(&h, &rec);
		/* What the parser accepts, the account map takes. */
		FUZZ_CHECK(mid_acctmap_add(&m, &rec.rel, err, sizeof(err)) == 0);
	}
	if (have_header)
		af_header_free(&h);

	/* ... and the modules read it back. */
	mid_acctmap_sort(&m);
	FUZZ_CHECK(mid_acctmap_save(&m, path, NULL, err, sizeof(err)) == 0);
	FUZZ_CHECK(mid_acctmap_load(path, 0, &back, &missing, err, sizeof(err)) == 0);
	FUZZ_CHECK(back.n == m.n);
	for (size_t i = 0; i < m.n; i++)
		FUZZ_CHECK(mid_acct_rel_cmp(&m.rel[i], &back.rel[i]) == 0 &&
		           m.rel[i].user_type == back.rel[i].user_type &&
		           !strcmp(m.rel[i].user_name, back.rel[i].user_name));
	mid_acctmap_free(&back);
	mid_acctmap_free(&m);
	free(buf);
	return 0;
}

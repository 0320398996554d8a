/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_preenroll.c - mobileidctl preenroll FILE: one MobileID user per row
 * of an IDgo pre-enroll CSV (idgo-preenroll-batch.txt), results in
 * FILE.out with the spec's RC column.  See mobileidctl/batch.md.
 *
 * FILE is only read.  FILE.out is written to a temporary file in the same
 * directory, synced and renamed over FILE.out at the end, so that it is
 * either the complete old file or the complete new one.  A row never stops
 * the rest: malformed rows get RC 1 and their reason on stderr.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "csvrows.h"
#include "ctl.h"
#include "preenroll.h"
#include "util.h"

int cmd_preenroll(struct ctl_ctx *ctx, int argc, char **argv);

#define INPUT_MAX_BYTES (512L * 1024 * 1024)
#define MAX_UNAVAILABLE 3     /* consecutive rows before we stop calling */

struct run {
	struct ctl_ctx *ctx;
	const mid_config *cfg;
	const char *path;
	FILE *out;
	const ctl_csv_info *info;   /* BOM and line end of the input */
	size_t input_len;
	struct pre_header hdr;
	int have_header;
	char fatal[600];
	struct pre_codes codes;
	mid_api api;
	int api_ready;
	size_t rows;
	size_t counts[5];
	int write_failed;
	/* Once the service refuses us or is gone, the remaining rows are not
	 * attempted (RC 1, with this reason). */
	int stop_calls;
	mid_result stop_result;
	char stop_reason[700];
	int unavailable_run;
};

static void stop_calls(struct run *r, mid_result why, const char *reason)
{
	if (r->stop_calls)
		return;
	r->stop_calls = 1;
	r->stop_result = why;
	snprintf(r->stop_reason, sizeof(r->stop_reason), "%s", reason);
	ctl_error(r->ctx, NULL, "%s; the remaining rows are not attempted (RC 1)", r->stop_reason);
}

/* POST /users for a checked row: sets pr->rc and pr->reason; *trace gets
 * the vendor trace id of a failure. */
static void create_user(struct run *r, const ctl_csv_row *row, struct pre_row *pr,
                        char *trace, size_t tracelen)
{
	char *body;
	int64_t deadline;
	int rc;

	trace[0] = '\0';
	if (!r->stop_calls && ctl_interrupted())
		stop_calls(r, MID_CANCELLED, "interrupted");
	if (r->stop_calls) {
		pr->rc = PRE_RC_SYSTEM;
		snprintf(pr->reason, sizeof(pr->reason), "not attempted: %s", r->stop_reason);
		return;
	}
	body = pre_row_body(&r->hdr, row, pr);
	if (!body) {
		pr->rc = PRE_RC_SYSTEM;
		snprintf(pr->reason, sizeof(pr->reason), "out of memory");
		return;
	}
	/* token (maybe) + the call, each bounded by request_timeout */
	deadline = mid_now_ms() + 2 * r->cfg->request_timeout_ms + r->cfg->connect_timeout_ms;
	rc = mid_api_call(&r->api, MID_OP_CREATE_USER, NULL, NULL, body, deadline);
	free(body);
	if (rc == 0) {
		pr->rc = PRE_RC_OK;
		r->unavailable_run = 0;
		return;
	}
	snprintf(trace, tracelen, "%s", r->api.trace_id);
	if (r->api.status == 409) {
		pr->rc = PRE_RC_ENROLLED;
		snprintf(pr->reason, sizeof(pr->reason), "a MobileID user with externalRef '%s' "
		         "exists already", pr->external_ref);
		r->unavailable_run = 0;
		return;
	}
	pr->rc = PRE_RC_SYSTEM;
	snprintf(pr->reason, sizeof(pr->reason), "%s", r->api.error);
	if (r->api.status == 400) {
		/* Refused: maybe because the user exists (the duplicate answer of
		 * the real service is not documented).  Ask. */
		json_object *q = json_object_new_object();
		char saved_trace[80];

		snprintf(saved_trace, sizeof(saved_trace), "%s", r->api.trace_id);
		if (q) {
			json_object_object_add(q, "externalRef",
			                       json_object_new_string(pr->external_ref));
			deadline = mid_now_ms() + r->cfg->request_timeout_ms;
			if (mid_api_call(&r->api, MID_OP_RESOLVE, NULL, NULL,
			                 json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN),
			                 deadline) == 0) {
				pr->rc = PRE_RC_ENROLLED;
				snprintf(pr->reason, sizeof(pr->reason), "a MobileID user with "
				         "externalRef '%s' exists already", pr->external_ref);
			}
			json_object_put(q);
		}
		snprintf(trace, tracelen, "%s", saved_trace);
		r->unavailable_run = 0;
		return;
	}
	switch (r->api.fail) {
	case MID_CONFIG_ERROR: {
		char why[600];
		snprintf(why, sizeof(why), "the service refuses our credentials: %s", r->api.error);
		stop_calls(r, MID_CONFIG_ERROR, why);
		break;
	}
	case MID_CANCELLED:
		stop_calls(r, MID_CANCELLED, "interrupted");
		break;
	case MID_UNAVAILABLE:
		if (++r->unavailable_run >= MAX_UNAVAILABLE) {
			char why[200];
			snprintf(why, sizeof(why), "the service is unavailable (%d rows in a row)",
			         MAX_UNAVAILABLE);
			stop_calls(r, MID_UNAVAILABLE, why);
		}
		break;
	default:
		break;
	}
}

static int on_row(void *arg, const ctl_csv_row *row)
{
	struct run *r = arg;
	struct pre_row pr;
	char trace[80] = "";

	if (!r->have_header) {
		if (pre_header_parse(row, r->cfg->preenroll_externalref_column, &r->hdr,
		                     r->fatal, sizeof(r->fatal)) != 0)
			return 1;
		r->have_header = 1;
		/* The output keeps the input's BOM and line ends. */
		if ((r->info->bom && fputs("\xef\xbb\xbf", r->out) == EOF) ||
		    pre_write_record(r->out, row->fields, row->lens, row->nfields, row->nfields,
		                     "RC", r->info->eol, 0) != 0) {
			r->write_failed = 1;
			return 1;
		}
		return 0;
	}
	r->rows++;
	pre_row_check(&r->hdr, &r->codes, row, &pr);
	if (pr.rc == PRE_RC_PENDING)
		create_user(r, row, &pr, trace, sizeof(trace));
	r->counts[pr.rc]++;
	{
		char rc_text[4];
		snprintf(rc_text, sizeof(rc_text), "%d", pr.rc);
		if (pre_write_record(r->out, row->fields, row->lens, row->nfields, r->hdr.ncols,
		                     rc_text, r->info->eol, pr.sanitize) != 0) {
			r->write_failed = 1;
			return 1;
		}
	}
	if (pr.rc == PRE_RC_ENROLLED)
		ctl_debug(r->ctx, 1, "%s:%zu: RC 2: %s", r->path, row->line, pr.reason);
	else if (pr.rc != PRE_RC_OK)
		ctl_error(r->ctx, trace, "%s:%zu: RC %d: %s", r->path, row->line, pr.rc, pr.reason);
	if (r->rows % 25 == 0 || row->end_offset == r->input_len)
		ctl_progress(r->ctx, "preenroll: %zu rows, %zu%% of the file", r->rows,
		             r->input_len ? row->end_offset * 100 / r->input_len : 100);
	return 0;
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void summary(struct run *r, const char *outpath)
{
	if (r->ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(r->path));
		json_object_object_add(o, "output", json_object_new_string(outpath));
		json_object_object_add(o, "rows", json_object_new_int64((int64_t)r->rows));
		json_object_object_add(o, "created", json_object_new_int64((int64_t)r->counts[0]));
		json_object_object_add(o, "failed", json_object_new_int64((int64_t)r->counts[1]));
		json_object_object_add(o, "alreadyEnrolled",
		                       json_object_new_int64((int64_t)r->counts[2]));
		json_object_object_add(o, "notMobile", json_object_new_int64((int64_t)r->counts[3]));
		json_object_object_add(o, "countryNotAccepted",
		                       json_object_new_int64((int64_t)r->counts[4]));
		ctl_json_print(r->ctx, o);
		return;
	}
	ctl_out(r->ctx, "%s: %zu row%s: %zu created (RC 0), %zu already enrolled (RC 2), "
	        "%zu not a mobile number (RC 3), %zu country code not accepted (RC 4), "
	        "%zu failed (RC 1)\nresults in %s\n", r->path, r->rows, r->rows == 1 ? "" : "s",
	        r->counts[0], r->counts[2], r->counts[3], r->counts[4], r->counts[1], outpath);
}

int cmd_preenroll(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct run r;
	ctl_csv_info info;
	char *data = NULL, *outpath = NULL, *tmppath = NULL, err[300];
	mode_t mode = 0600;
	int c, fd = -1, rc = CTL_EXIT_FAIL, rd, created = 0;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			ctl_usage(ctx, argv[0], NULL);
			return CTL_EXIT_OK;
		}
		return ctl_usage(ctx, argv[0], NULL);
	}
	if (optind != argc - 1)
		return ctl_usage(ctx, argv[0], "preenroll: give exactly one FILE");

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.path = argv[optind];
	if (!(r.cfg = ctl_config(ctx)))
		return CTL_EXIT_CONFIG;
	if (pre_codes_parse(r.cfg->preenroll_country_codes, &r.codes, err, sizeof(err)) != 0) {
		ctl_error(ctx, NULL, "%s: [preenroll] country_codes: %s", r.cfg->path, err);
		return CTL_EXIT_CONFIG;
	}
	if (!pre_name_ok(r.path))
		ctl_warn(ctx, "%s: the file name does not follow the IDgo pattern "
		         "Preenroll-YYYY-MM-DD.csv (processing it anyway)", r.path);
	if (ctl_read_file(ctx, r.path, INPUT_MAX_BYTES, "; split it", &data, &r.input_len, &mode) != 0)
		return CTL_EXIT_FAIL;

	/* The result file first: if it cannot be written, create nobody. */
	if (asprintf(&outpath, "%s.out", r.path) < 0 ||
	    asprintf(&tmppath, "%s.out.XXXXXX", r.path) < 0) {
		ctl_error(ctx, NULL, "out of memory");
		goto out;
	}
	fd = mkostemp(tmppath, O_CLOEXEC);
	if (fd < 0) {
		ctl_error(ctx, NULL, "cannot create the result file next to %s: %s", r.path,
		          strerror(errno));
		goto out;
	}
	created = 1;
	if (fchmod(fd, mode) != 0 || !(r.out = fdopen(fd, "w"))) {
		ctl_error(ctx, NULL, "%s: %s", tmppath, strerror(errno));
		goto out;
	}
	fd = -1;
	if (ctl_api_open(ctx, &r.api) != 0) {
		rc = CTL_EXIT_CONFIG;
		goto out;
	}
	r.api_ready = 1;

	r.info = &info;
	rd = ctl_csv_read(data, r.input_len, on_row, &r, &info, err, sizeof(err));
	ctl_progress_done(ctx);
	if (rd < 0) {
		ctl_error(ctx, NULL, "%s: %s", r.path, err);
		goto out;
	}
	if (r.fatal[0]) {
		ctl_error(ctx, NULL, "%s: %s; nothing was done", r.path, r.fatal);
		goto out;
	}
	if (!r.have_header) {
		ctl_error(ctx, NULL, "%s: empty file (a header line with %s is required); nothing "
		          "was done", r.path, PRE_MOBILE);
		goto out;
	}
	if (r.write_failed || fflush(r.out) != 0 || fsync(fileno(r.out)) != 0) {
		ctl_error(ctx, NULL, "%s: cannot write: %s; %s is unchanged", tmppath,
		          strerror(errno), outpath);
		goto out;
	}
	if (fclose(r.out) != 0) {
		r.out = NULL;
		ctl_error(ctx, NULL, "%s: cannot write: %s; %s is unchanged", tmppath,
		          strerror(errno), outpath);
		goto out;
	}
	r.out = NULL;
	if (rename(tmppath, outpath) != 0) {
		ctl_error(ctx, NULL, "cannot rename %s to %s: %s", tmppath, outpath, strerror(errno));
		goto out;
	}
	created = 0;
	if (fsync_dir(outpath) != 0)
		ctl_warn(ctx, "cannot sync the directory of %s: %s", outpath, strerror(errno));
	summary(&r, outpath);
	if (r.stop_calls)
		rc = r.stop_result == MID_CANCELLED ? CTL_EXIT_INTERRUPTED :
		     r.stop_result == MID_CONFIG_ERROR ? CTL_EXIT_CONFIG : CTL_EXIT_UNAVAILABLE;
	else
		rc = r.counts[PRE_RC_SYSTEM] ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	if (r.out)
		fclose(r.out);
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmppath);
	if (r.api_ready)
		mid_api_cleanup(&r.api);
	pre_header_free(&r.hdr);
	free(tmppath);
	free(outpath);
	free(data);
	return rc;
}

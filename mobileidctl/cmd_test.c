/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_test.c - mobileidctl test LOGIN: a real push through
 * mid_authenticate(), exactly as the modules send it (same externalRef,
 * context, guard and timeouts), with the code, the wait and the outcome.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ctl.h"
#include "mobileid.h"
#include "push.h"
#include "util.h"

int cmd_test(struct ctl_ctx *ctx, int argc, char **argv);

struct test_state {
	struct ctl_ctx *ctx;
	mid_handle *h;
	int64_t last_progress;
	int shown;           /* the message was shown: we are waiting */
};

static int cb_info(void *c, const char *msg)
{
	struct test_state *t = c;

	t->shown = 1;
	if (t->ctx->json)
		return 0;
	ctl_out(t->ctx, "Push sent (transaction %s, code %s).\n%s\n",
	        mid_handle_transaction_id(t->h), mid_handle_code(t->h), msg);
	return 0;
}

static void cb_log(void *c, int priority, const char *msg)
{
	struct test_state *t = c;

	if (priority <= LOG_WARNING)
		ctl_warn(t->ctx, "%s", msg);
	else
		ctl_debug(t->ctx, 1, "%s", msg);
}

/* Asked every few milliseconds while waiting: the progress line too. */
static int cb_aborted(void *c)
{
	struct test_state *t = c;
	int64_t now = mid_now_ms();

	if (t->shown && now - t->last_progress >= 250) {
		int64_t left = mid_handle_deadline(t->h) - now;

		t->last_progress = now;
		ctl_progress(t->ctx, "waiting for the phone... %llds left (Ctrl-C cancels)",
		             (long long)(left > 0 ? (left + 999) / 1000 : 0));
	}
	return ctl_interrupted();
}

int cmd_test(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "rhost", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct test_state t = { .ctx = ctx };
	mid_callbacks cb = { .ctx = &t, .info = cb_info, .log = cb_log, .aborted = cb_aborted };
	mid_request req = { .service = CTL_DEFAULT_SERVICE, .prompt_mode = MID_PROMPT_INFO };
	mid_config *cfg;
	int64_t t0;
	mid_result r;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			req.service = optarg;
			break;
		case 'r':
			req.rhost = optarg;
			break;
		default:
			return ctl_usage(ctx, "test", NULL);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(ctx, "test", "test: exactly one LOGIN is required");
	req.user = argv[optind];
	if ((rc = ctl_check_text(ctx, "test", "LOGIN", req.user)) != CTL_EXIT_OK ||
	    (rc = ctl_check_text(ctx, "test", "--service", req.service)) != CTL_EXIT_OK ||
	    (req.rhost && (rc = ctl_check_text(ctx, "test", "--rhost", req.rhost)) != CTL_EXIT_OK))
		return rc;
	if (!(cfg = ctl_config(ctx)))
		return CTL_EXIT_CONFIG;
	if (!(t.h = mid_handle_new(cfg))) {
		ctl_error(ctx, NULL, "out of memory");
		return CTL_EXIT_FAIL;
	}
	t0 = mid_now_ms();
	r = mid_authenticate(t.h, &req, &cb);
	ctl_progress_done(ctx);
	rc = ctl_exit_for_result(r);
	if (ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "login", json_object_new_string(req.user));
		json_object_object_add(o, "service", json_object_new_string(req.service));
		json_object_object_add(o, "externalRef", ctl_json_str(mid_handle_external_ref(t.h)));
		json_object_object_add(o, "result", json_object_new_string(mid_result_name(r)));
		json_object_object_add(o, "approved", json_object_new_boolean(r == MID_APPROVED));
		json_object_object_add(o, "code", ctl_json_str(t.shown ? mid_handle_code(t.h) : NULL));
		json_object_object_add(o, "transactionId",
		                       ctl_json_str(mid_handle_transaction_id(t.h)));
		json_object_object_add(o, "traceId", ctl_json_str(mid_handle_trace_id(t.h)));
		json_object_object_add(o, "error", ctl_json_str(mid_handle_error(t.h)));
		json_object_object_add(o, "durationMs", json_object_new_int64(mid_now_ms() - t0));
		ctl_json_print(ctx, o);
	} else {
		ctl_out(ctx, "Result: %s (%s, externalRef %s, %.1f s)\n", mid_result_name(r),
		        r == MID_APPROVED ? "the login would be allowed"
		                          : "the login would be refused",
		        *mid_handle_external_ref(t.h) ? mid_handle_external_ref(t.h) : "-",
		        (double)(mid_now_ms() - t0) / 1000.0);
	}
	if (r != MID_APPROVED) {
		char *shown = ctl_printable(req.user, 64);   /* it may be 4 KiB long */

		ctl_error(ctx, mid_handle_trace_id(t.h), "%s: %s%s%s", shown ? shown : "?",
		          mid_result_name(r), *mid_handle_error(t.h) ? ": " : "", mid_handle_error(t.h));
		free(shown);
	}
	mid_handle_free(t.h);
	return rc;
}

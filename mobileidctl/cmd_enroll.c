/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_enroll.c - mobileidctl enroll LOGIN: the MobileID user with the
 * externalRef the modules use (created when missing), a device
 * registration, its activation code, and the wait until the device is
 * registered.  Ctrl-C cancels the registration.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "ctl.h"
#include "util.h"

int cmd_enroll(struct ctl_ctx *ctx, int argc, char **argv);

#define DEFAULT_TIMEOUT_S 600
#define MAX_TIMEOUT_S 3600     /* the API's sessionTimeout limit */
#define MIN_POLL_MS 1000
#define EXPIRY_GRACE_MS 5000   /* the server's clock and ours may differ a little */
#define DEVICE_NAME_MAX 128    /* the API's limit, in characters; cut in bytes */

struct enroll_opts {
	struct ctl_user_opts user;   /* --service, --name, --phone, --email */
	const char *device_name;
	long timeout_s;
	int no_wait;
};

static void format_left(char *buf, size_t len, int64_t ms)
{
	long s = ms > 0 ? (long)((ms + 999) / 1000) : 0;

	if (s >= 60)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
}

static void format_local(char *buf, size_t len, int64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (wall_ms <= 0 || !localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, len, "-");
}

/* DELETE the registration without the Ctrl-C abort (a client of its own). */
static void cancel_registration(struct ctl_ctx *ctx, const char *tid)
{
	mid_api c;

	if (mid_api_init(&c, ctx->cfg, NULL, NULL) != 0) {
		ctl_error(ctx, NULL, "cannot cancel the registration %s: out of memory", tid);
		return;
	}
	if (mid_admin_cancel_registration(&c, tid, mid_now_ms() + ctx->cfg->request_timeout_ms) != 0)
		ctl_error(ctx, c.trace_id, "cancel of the registration %s failed: %s", tid, c.error);
	else
		ctl_debug(ctx, 0, "registration %s cancelled", tid);
	mid_api_cleanup(&c);
}

static json_object *reg_json(const char *event, const char *login, const char *ref,
                             const char *uid, int created, const mid_registration *r)
{
	json_object *o = json_object_new_object();
	static const char *const states[] = { "PENDING", "COMPLETED", "FAILED" };

	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "login", json_object_new_string(login));
	json_object_object_add(o, "externalRef", json_object_new_string(ref));
	json_object_object_add(o, "userId", json_object_new_string(uid));
	json_object_object_add(o, "userCreated", json_object_new_boolean(created));
	json_object_object_add(o, "transactionId", json_object_new_string(r->transaction_id));
	json_object_object_add(o, "state", json_object_new_string(states[r->state]));
	json_object_object_add(o, "activationCode", ctl_json_str(r->activation_code));
	json_object_object_add(o, "expires", ctl_json_str(r->expiry));
	json_object_object_add(o, "deviceId", ctl_json_str(r->device_id));
	json_object_object_add(o, "deviceName", ctl_json_str(r->device_name));
	json_object_object_add(o, "errorCode", ctl_json_str(r->error_code));
	json_object_object_add(o, "errorDescription", ctl_json_str(r->error_description));
	return o;
}

static int parse(struct ctl_ctx *ctx, int argc, char **argv, struct enroll_opts *o)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "phone", required_argument, NULL, 'p' },
		{ "email", required_argument, NULL, 'e' },
		{ "device-name", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	ctl_user_opts_init(&o->user);
	o->timeout_s = DEFAULT_TIMEOUT_S;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ctl_user_opt(&o->user, c, optarg))
			continue;
		switch (c) {
		case 'd':
			o->device_name = optarg;
			break;
		case 't': {
			long ms = mid_parse_duration(optarg, 1000);
			if (ms < 1000 || ms > MAX_TIMEOUT_S * 1000L) {
				ctl_usage(ctx, "enroll", "enroll: --timeout '%s': a duration from 1s to "
				          "%dm (e.g. 600 or 10m)", optarg, MAX_TIMEOUT_S / 60);
				return -1;
			}
			o->timeout_s = ms / 1000;
			break;
		}
		case 'W':
			o->no_wait = 1;
			break;
		default:
			ctl_usage(ctx, "enroll", NULL);
			return -1;
		}
	}
	if (argc - optind != 1) {
		ctl_usage(ctx, "enroll", "enroll: exactly one LOGIN is required");
		return -1;
	}
	return 0;
}

/* The user of login (*ref its externalRef): found, or created.
 * CTL_EXIT_OK or an exit code. */
static int ensure_user(struct ctl_ctx *ctx, mid_api *a, const char *login,
                       const struct ctl_user_opts *o, char **ref, char uid[MID_ID_MAX],
                       int *created)
{
	const char *attrs[7];
	mid_user_info u;
	int rc, found;

	*created = 0;
	rc = ctl_find_login(ctx, a, login, o->service, o->service_given, ref, uid, &found);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (found) {
		if ((rc = ctl_get_user(ctx, a, login, uid, &u)) != CTL_EXIT_OK)
			return rc;
		if (strcmp(u.state, "ACTIVE") != 0) {
			ctl_error(ctx, a->trace_id, "%s: the MobileID user %s is %s: no device can be "
			          "registered; run 'mobileidctl user unlock %s' first", login, uid,
			          u.state, login);
			mid_user_info_free(&u);
			return CTL_EXIT_FAIL;
		}
		mid_user_info_free(&u);
		if (o->name || o->phone || o->email)
			ctl_warn(ctx, "%s already has a MobileID user (%s): --name, --phone and --email "
			         "are not applied to it", login, uid);
		return CTL_EXIT_OK;
	}
	ctl_user_attrs(o, attrs);
	if (mid_admin_create_user(a, *ref, NULL, attrs, &u, 0) != 0) {
		ctl_api_error(ctx, a, login);
		return a->status == 409 ? CTL_EXIT_FAIL : ctl_exit_for_api(a);
	}
	snprintf(uid, MID_ID_MAX, "%s", u.id);
	mid_user_info_free(&u);
	*created = 1;
	return CTL_EXIT_OK;
}

/* Poll until the registration ends.  CTL_EXIT_* */
static int wait_registration(struct ctl_ctx *ctx, mid_api *a, const char *login,
                             mid_registration *r, int64_t expiry_wall)
{
	long poll = ctx->cfg->poll_interval_ms > MIN_POLL_MS ? ctx->cfg->poll_interval_ms
	                                                     : MIN_POLL_MS;
	char tid[MID_ID_MAX], left[32];
	int transient = 0;

	snprintf(tid, sizeof(tid), "%s", r->transaction_id);
	for (;;) {
		int64_t now = mid_wall_ms();
		mid_registration st;

		format_left(left, sizeof(left), expiry_wall - now);
		ctl_progress(ctx, "waiting for the device to register (code %s, %s left; Ctrl-C "
		             "cancels)", r->activation_code, left);
		if (mid_sleep_ms(poll, ctl_aborted, NULL) || ctl_interrupted()) {
			ctl_progress_done(ctx);
			ctl_error(ctx, NULL, "%s: interrupted: cancelling the registration %s", login, tid);
			cancel_registration(ctx, tid);
			return CTL_EXIT_INTERRUPTED;
		}
		if (mid_admin_registration_state(a, tid, &st, 0) != 0) {
			if (ctl_interrupted())
				continue;   /* handled at the top */
			if (a->status == 404) {
				ctl_progress_done(ctx);
				ctl_error(ctx, a->trace_id, "%s: the registration %s no longer exists "
				          "(HTTP 404): it expired or was cancelled", login, tid);
				return CTL_EXIT_FAIL;
			}
			if (a->fail != MID_UNAVAILABLE) {
				ctl_progress_done(ctx);
				ctl_api_error(ctx, a, login);
				return ctl_exit_for_api(a);
			}
			if (!transient++)
				ctl_warn(ctx, "%s (trace id %s); still trying", a->error,
				         a->trace_id[0] ? a->trace_id : "-");
		} else {
			transient = 0;
			if (st.state != MID_STATE_PENDING) {
				snprintf(st.activation_code, sizeof(st.activation_code), "%s",
				         r->activation_code);
				if (!st.expiry[0])
					snprintf(st.expiry, sizeof(st.expiry), "%s", r->expiry);
				*r = st;
				ctl_progress_done(ctx);
				return CTL_EXIT_OK;
			}
		}
		if (mid_wall_ms() > expiry_wall + EXPIRY_GRACE_MS) {
			ctl_progress_done(ctx);
			ctl_error(ctx, a->trace_id, "%s: the activation code expired before the device "
			          "registered; cancelling the registration %s", login, tid);
			cancel_registration(ctx, tid);
			return transient ? CTL_EXIT_UNAVAILABLE : CTL_EXIT_FAIL;
		}
	}
}

int cmd_enroll(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct enroll_opts o;
	const char *login;
	char *ref = NULL, *device_name = NULL, uid[MID_ID_MAX], when[64], left[32];
	mid_registration r;
	int64_t expiry_wall;
	mid_api a;
	int rc, created = 0;

	if (parse(ctx, argc, argv, &o) != 0)
		return CTL_EXIT_USAGE;
	login = argv[optind];
	{
		const char *const extra[][2] = { { "--device-name", o.device_name } };

		if ((rc = ctl_check_user_args(ctx, "enroll", login, &o.user, 1, extra)) !=
		    CTL_EXIT_OK)
			return rc;
	}
	if ((rc = ctl_api_open(ctx, &a)) != CTL_EXIT_OK)
		return rc;
	rc = ensure_user(ctx, &a, login, &o.user, &ref, uid, &created);
	if (rc != CTL_EXIT_OK)
		goto out;
	/* The default device name is the login, cut to the API's 128 characters. */
	if (!o.device_name && !(device_name = strdup(login))) {
		ctl_error(ctx, NULL, "out of memory");
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	if (device_name)
		mid_utf8_truncate(device_name, DEVICE_NAME_MAX);
	if (mid_admin_start_registration(&a, uid, o.device_name ? o.device_name : device_name,
	                                 o.timeout_s * 1000, &r, 0) != 0) {
		ctl_api_error(ctx, &a, login);
		rc = ctl_exit_for_api(&a);
		goto out;
	}
	if (r.state == MID_STATE_FAILED) {
		ctl_error(ctx, a.trace_id, "%s: the registration failed at once: %s%s%s", login,
		          r.error_code, r.error_description[0] ? ": " : "", r.error_description);
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	expiry_wall = r.expiry_ms ? r.expiry_ms : mid_wall_ms() + o.timeout_s * 1000;
	format_local(when, sizeof(when), expiry_wall);
	format_left(left, sizeof(left), expiry_wall - mid_wall_ms());
	if (ctx->json) {
		ctl_json_line(ctx, reg_json("started", login, ref, uid, created, &r));
	} else {
		ctl_out(ctx, "MobileID user:   %s (externalRef %s, %s)\n", uid, ref,
		        created ? "created now" : "already there");
		ctl_out(ctx, "Activation code: %s\n", r.activation_code);
		ctl_out(ctx, "Expires:         %s (in %s)\n", when, left);
		ctl_out(ctx, "Enter the activation code in the MobileID app on the phone of %s.\n",
		        login);
	}
	if (o.no_wait || r.state == MID_STATE_COMPLETED) {
		rc = CTL_EXIT_OK;
		goto out;
	}
	rc = wait_registration(ctx, &a, login, &r, expiry_wall);
	if (rc != CTL_EXIT_OK)
		goto out;
	if (ctx->json)
		ctl_json_line(ctx, reg_json(r.state == MID_STATE_COMPLETED ? "registered" : "failed",
		                            login, ref, uid, created, &r));
	if (r.state == MID_STATE_COMPLETED) {
		ctl_out(ctx, "Device registered: %s%s%s%s\n", r.device_id[0] ? r.device_id : "(id not "
		        "given)", r.device_name[0] ? " \"" : "", r.device_name,
		        r.device_name[0] ? "\"" : "");
		rc = CTL_EXIT_OK;
	} else {
		ctl_error(ctx, a.trace_id, "%s: the device registration failed: %s%s%s%s", login,
		          r.error_code, r.error_description[0] ? ": " : "", r.error_description,
		          !strcmp(r.error_code, "EXPIRED") ? " (run mobileidctl enroll again for a new "
		          "code)" : "");
		rc = CTL_EXIT_FAIL;
	}
out:
	free(device_name);
	free(ref);
	mid_api_cleanup(&a);
	return rc;
}

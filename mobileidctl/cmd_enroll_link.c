/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_enroll_link.c - mobileidctl enroll-link LOGIN: a Namirial VerifID
 * self-enrollment for the login; prints its EnrollUrl.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "verifid.h"

int cmd_enroll_link(struct ctl_ctx *ctx, int argc, char **argv);

int cmd_enroll_link(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "first-name", required_argument, NULL, 'f' },
		{ "last-name", required_argument, NULL, 'l' },
		{ "service", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *email = NULL, *first = NULL, *last = NULL, *service = CTL_DEFAULT_SERVICE;
	char *sys_email = NULL, *sys_first = NULL, *sys_last = NULL, err[1024], trace[80];
	mid_verifid_enrollment e;
	mid_verifid_person p;
	const char *login;
	mid_config *cfg;
	mid_result r;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			email = optarg;
			break;
		case 'f':
			first = optarg;
			break;
		case 'l':
			last = optarg;
			break;
		case 's':
			service = optarg;
			break;
		default:
			return ctl_usage(ctx, "enroll-link", NULL);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(ctx, "enroll-link", "enroll-link: exactly one LOGIN is required");
	login = argv[optind];
	{
		const char *const checks[][2] = {
			{ "LOGIN", login }, { "--service", service }, { "--email", email },
			{ "--first-name", first }, { "--last-name", last },
		};

		for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			if (checks[i][1] && (rc = ctl_check_text(ctx, "enroll-link", checks[i][0],
			                                         checks[i][1])) != CTL_EXIT_OK)
				return rc;
	}
	if (!(cfg = ctl_config(ctx)))
		return CTL_EXIT_CONFIG;
	if (mid_verifid_person_of(cfg, login, service, &sys_email, &sys_first, &sys_last) != 0) {
		ctl_error(ctx, NULL, "out of memory");
		return CTL_EXIT_FAIL;
	}
	p.email = email ? email : sys_email;
	p.first_name = first ? first : sys_first;
	p.last_name = last ? last : sys_last;
	if (!p.email || !*p.email) {
		rc = ctl_usage(ctx, "enroll-link", "enroll-link: no e-mail address for %s: pass "
		               "--email ADDRESS or set [verifid] email (a template such as "
		               "%%u@example.com)", login);
		goto out;
	}
	if (!p.first_name || !*p.first_name || !p.last_name || !*p.last_name) {
		rc = ctl_usage(ctx, "enroll-link", "enroll-link: no %s for %s in the GECOS field of "
		               "the account: pass --first-name and --last-name",
		               (!p.first_name || !*p.first_name) ? "first name" : "last name", login);
		goto out;
	}
	ctl_debug(ctx, 1, "VerifID enrollment for %s: %s, %s %s", login, p.email, p.first_name,
	          p.last_name);
	r = mid_verifid_create(cfg, &p, ctl_aborted, NULL, &e, trace, err, sizeof(err));
	if (r != MID_APPROVED) {
		ctl_error(ctx, trace, "%s: %s", login, err);
		rc = ctl_exit_for_result(r);
		goto out;
	}
	if (ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "login", json_object_new_string(login));
		json_object_object_add(o, "email", json_object_new_string(p.email));
		json_object_object_add(o, "firstName", json_object_new_string(p.first_name));
		json_object_object_add(o, "lastName", json_object_new_string(p.last_name));
		json_object_object_add(o, "id", json_object_new_string(e.id));
		json_object_object_add(o, "state", ctl_json_str(e.state));
		json_object_object_add(o, "provider", ctl_json_str(e.provider));
		json_object_object_add(o, "enrollUrl", json_object_new_string(e.enroll_url));
		json_object_object_add(o, "traceId", ctl_json_str(trace));
		ctl_json_print(ctx, o);
	} else {
		ctl_out(ctx, "VerifID enrollment %s for %s (%s %s <%s>)%s%s:\n%s\n", e.id, login,
		        p.first_name, p.last_name, p.email, e.state[0] ? ", state " : "", e.state,
		        e.enroll_url);
	}
	if (err[0])
		ctl_warn(ctx, "%s", err);
	mid_verifid_enrollment_free(&e);
	rc = CTL_EXIT_OK;
out:
	free(sys_email);
	free(sys_first);
	free(sys_last);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_user.c - mobileidctl user show|create|lock|unlock|delete LOGIN and
 * device list|lock|unlock|delete LOGIN [DEVICE-ID].
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "ctl.h"

int cmd_user(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_device(struct ctl_ctx *ctx, int argc, char **argv);

struct user_opts {
	struct ctl_user_opts user;   /* --service; create: --name, --phone, --email */
	const char *segment;
};

/* Options shared by user and device; argv[1] is the action.  Returns -1
 * on a usage error (printed). */
static int parse_opts(struct ctl_ctx *ctx, const char *cmd, int create, int argc, char **argv,
                      struct user_opts *o)
{
	static const struct option user_create_opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "phone", required_argument, NULL, 'p' },
		{ "email", required_argument, NULL, 'e' },
		{ "segment", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option plain_opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	ctl_user_opts_init(&o->user);
	optind = 0;
	while ((c = getopt_long(argc, argv, "", create ? user_create_opts : plain_opts,
	                        NULL)) != -1) {
		if (ctl_user_opt(&o->user, c, optarg))
			continue;
		switch (c) {
		case 'g':
			o->segment = optarg;
			break;
		default:
			ctl_usage(ctx, cmd, NULL);
			return -1;
		}
	}
	return 0;
}

/* Device ids are the API's: letters, digits, '-', '_' and '.' (not "." or
 * ".."), as admin.c accepts them in answers. */
static int device_id_ok(const char *s)
{
	size_t len = strlen(s);

	return len && len < MID_ID_MAX && strcmp(s, ".") && strcmp(s, "..") &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

/* The text arguments: refused, never altered (ctl_check_text). */
static int check_args(struct ctl_ctx *ctx, const char *cmd, const char *login,
                      const char *device_id, const struct user_opts *o)
{
	const char *const extra[][2] = { { "--segment", o->segment }, { "DEVICE-ID", device_id } };
	int rc = ctl_check_user_args(ctx, cmd, login, &o->user, 2, extra);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (device_id && !device_id_ok(device_id))
		return ctl_usage(ctx, cmd, "%s: DEVICE-ID '%s' is not a device id (letters, digits, "
		                 "'-', '_' and '.'); see 'mobileidctl device list %s'", cmd, device_id,
		                 login);
	return CTL_EXIT_OK;
}

static void print_user(struct ctl_ctx *ctx, const char *login, const mid_user_info *u)
{
	ctl_out(ctx, "login        %s\n", login);
	ctl_out(ctx, "externalRef  %s\n", u->external_ref[0] ? u->external_ref : "-");
	ctl_out(ctx, "userId       %s\n", u->id);
	ctl_out(ctx, "state        %s\n", u->state);
	if (u->segment[0])
		ctl_out(ctx, "segment      %s\n", u->segment);
	ctl_out(ctx, "created      %s\n", u->created[0] ? u->created : "-");
	ctl_out(ctx, "lastUsed     %s\n", u->last_used[0] ? u->last_used : "-");
	for (size_t i = 0; i < u->n_attributes; i++)
		ctl_out(ctx, "%-13s%s=%s\n", i ? "" : "attributes", u->attr_names[i],
		        u->attr_values[i]);
}

static void print_devices(struct ctl_ctx *ctx, const mid_device_info *d, size_t n)
{
	if (!n) {
		ctl_out(ctx, "no devices\n");
		return;
	}
	ctl_out(ctx, "%-38s %-7s %-20s %-26s %s\n", "DEVICE", "STATE", "NAME", "LAST USED",
	        "LAST OPERATION");
	for (size_t i = 0; i < n; i++)
		ctl_out(ctx, "%-38s %-7s %-20s %-26s %s\n", d[i].id, d[i].state,
		        d[i].name[0] ? d[i].name : "-", d[i].last_used[0] ? d[i].last_used : "-",
		        d[i].last_operation[0] ? d[i].last_operation : "-");
}

static json_object *device_array(const mid_device_info *d, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, ctl_json_device(&d[i]));
	return arr;
}

static json_object *head(const char *login, const char *ref, const char *user_id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "login", json_object_new_string(login));
	json_object_object_add(o, "externalRef", ctl_json_str(ref));
	json_object_object_add(o, "userId", ctl_json_str(user_id));
	return o;
}

/* ---- user ------------------------------------------------------------------------ */

static int user_show(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *ref,
                     const char *uid)
{
	mid_device_info *devs = NULL;
	mid_user_info u;
	size_t n = 0;
	int rc;

	if ((rc = ctl_get_user(ctx, a, login, uid, &u)) != CTL_EXIT_OK)
		return rc;
	if (mid_admin_list_devices(a, uid, "ACTIVE,LOCKED", &devs, &n, 0) != 0) {
		ctl_api_error(ctx, a, login);
		mid_user_info_free(&u);
		return ctl_exit_for_api(a);
	}
	if (ctx->json) {
		json_object *o = head(login, ref, uid);

		json_object_object_add(o, "user", ctl_json_user(&u));
		json_object_object_add(o, "devices", device_array(devs, n));
		ctl_json_print(ctx, o);
	} else {
		print_user(ctx, login, &u);
		ctl_out(ctx, "\n");
		print_devices(ctx, devs, n);
	}
	free(devs);
	mid_user_info_free(&u);
	return CTL_EXIT_OK;
}

static int user_create(struct ctl_ctx *ctx, mid_api *a, const char *login,
                       const struct user_opts *o)
{
	const char *attrs[7];
	char *ref = NULL, uid[MID_ID_MAX];
	mid_user_info u;
	int rc, found;

	rc = ctl_find_login(ctx, a, login, o->user.service, o->user.service_given, &ref, uid,
	                    &found);
	if (rc != CTL_EXIT_OK) {
		free(ref);
		return rc;
	}
	if (found) {
		ctl_error(ctx, a->trace_id, "%s is already enrolled: the MobileID user %s has the "
		          "externalRef '%s'", login, uid, ref);
		free(ref);
		return CTL_EXIT_FAIL;
	}
	ctl_user_attrs(&o->user, attrs);
	if (mid_admin_create_user(a, ref, o->segment, attrs, &u, 0) != 0) {
		if (a->status == 409)
			ctl_error(ctx, a->trace_id, "%s: a MobileID user with the externalRef '%s' "
			          "already exists (HTTP 409)", login, ref);
		else
			ctl_api_error(ctx, a, login);
		free(ref);
		return a->status == 409 ? CTL_EXIT_FAIL : ctl_exit_for_api(a);
	}
	if (ctx->json) {
		json_object *j = head(login, ref, u.id);

		json_object_object_add(j, "created", json_object_new_boolean(1));
		json_object_object_add(j, "user", ctl_json_user(&u));
		ctl_json_print(ctx, j);
	} else {
		ctl_out(ctx, "created the MobileID user of %s\n\n", login);
		print_user(ctx, login, &u);
		ctl_out(ctx, "\nnext: mobileidctl enroll %s   (registers a device)\n", login);
	}
	mid_user_info_free(&u);
	free(ref);
	return CTL_EXIT_OK;
}

static int user_set_state(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *ref,
                          const char *uid, int lock)
{
	mid_user_info u;

	if (mid_admin_set_user_state(a, uid, lock, &u, 0) != 0) {
		ctl_api_error(ctx, a, login);
		return ctl_exit_for_api(a);
	}
	if (ctx->json) {
		json_object *o = head(login, ref, uid);

		json_object_object_add(o, "user", ctl_json_user(&u));
		ctl_json_print(ctx, o);
	} else {
		ctl_out(ctx, "%s: the MobileID user %s is now %s\n", login, uid, u.state);
	}
	mid_user_info_free(&u);
	return CTL_EXIT_OK;
}

static int user_delete(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *ref,
                       const char *uid)
{
	mid_user_info u;
	int rc;

	if ((rc = ctl_get_user(ctx, a, login, uid, &u)) != CTL_EXIT_OK)
		return rc;
	if (strcmp(u.state, "LOCKED") != 0) {
		ctl_error(ctx, a->trace_id, "%s: the MobileID user %s is %s; only a LOCKED user can be "
		          "deleted: run 'mobileidctl user lock %s' first", login, uid, u.state, login);
		mid_user_info_free(&u);
		return CTL_EXIT_FAIL;
	}
	mid_user_info_free(&u);
	if (mid_admin_delete_user(a, uid, 0) != 0) {
		ctl_api_error(ctx, a, login);
		return a->status == 404 ? CTL_EXIT_FAIL : ctl_exit_for_api(a);
	}
	if (ctx->json) {
		json_object *o = head(login, ref, uid);

		json_object_object_add(o, "deleted", json_object_new_boolean(1));
		ctl_json_print(ctx, o);
	} else {
		ctl_out(ctx, "%s: deleted the MobileID user %s with its devices\n", login, uid);
	}
	return CTL_EXIT_OK;
}

int cmd_user(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const char *const actions[] = { "show", "create", "lock", "unlock", "delete", NULL };
	struct user_opts o;
	const char *action, *login;
	char *ref = NULL, uid[MID_ID_MAX];
	mid_api a;
	int rc, create, known = 0;

	if (argc < 2)
		return ctl_usage(ctx, "user", "user: an action is required");
	action = argv[1];
	for (size_t i = 0; actions[i]; i++)
		known |= !strcmp(actions[i], action);
	if (!known)
		return ctl_usage(ctx, "user", "user: unknown action '%s'", action);
	create = !strcmp(action, "create");
	if (parse_opts(ctx, "user", create, argc - 1, argv + 1, &o) != 0)
		return CTL_EXIT_USAGE;
	if (argc - 1 - optind != 1)
		return ctl_usage(ctx, "user", "user %s: exactly one LOGIN is required", action);
	login = argv[1 + optind];
	if ((rc = check_args(ctx, "user", login, NULL, &o)) != CTL_EXIT_OK)
		return rc;
	if ((rc = ctl_api_open(ctx, &a)) != CTL_EXIT_OK)
		return rc;
	if (create) {
		rc = user_create(ctx, &a, login, &o);
		goto out;
	}
	rc = ctl_resolve_login(ctx, &a, login, o.user.service, o.user.service_given, &ref,
	                       uid);
	if (rc != CTL_EXIT_OK)
		goto out;
	if (!strcmp(action, "show"))
		rc = user_show(ctx, &a, login, ref, uid);
	else if (!strcmp(action, "lock") || !strcmp(action, "unlock"))
		rc = user_set_state(ctx, &a, login, ref, uid, !strcmp(action, "lock"));
	else
		rc = user_delete(ctx, &a, login, ref, uid);
out:
	free(ref);
	mid_api_cleanup(&a);
	return rc;
}

/* ---- device ----------------------------------------------------------------------- */

/* A failed call on device_id: the error printed, the exit code. */
static int device_failed(struct ctl_ctx *ctx, const mid_api *a, const char *login,
                         const char *device_id)
{
	if (a->status == 404)
		ctl_error(ctx, a->trace_id, "%s has no device %s (HTTP 404); see "
		          "'mobileidctl device list %s'", login, device_id, login);
	else
		ctl_api_error(ctx, a, login);
	return ctl_exit_for_api(a);
}

int cmd_device(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const char *const actions[] = { "list", "lock", "unlock", "delete", NULL };
	struct user_opts o;
	const char *action, *login, *device_id = NULL;
	char *ref = NULL, uid[MID_ID_MAX];
	mid_device_info *devs = NULL, d;
	size_t n = 0;
	mid_api a;
	int rc, known = 0, nargs;

	if (argc < 2)
		return ctl_usage(ctx, "device", "device: an action is required");
	action = argv[1];
	for (size_t i = 0; actions[i]; i++)
		known |= !strcmp(actions[i], action);
	if (!known)
		return ctl_usage(ctx, "device", "device: unknown action '%s'", action);
	if (parse_opts(ctx, "device", 0, argc - 1, argv + 1, &o) != 0)
		return CTL_EXIT_USAGE;
	nargs = argc - 1 - optind;
	if (!strcmp(action, "list") ? nargs != 1 : nargs != 2)
		return ctl_usage(ctx, "device", "device %s: %s", action, !strcmp(action, "list")
		                 ? "exactly one LOGIN is required"
		                 : "LOGIN and DEVICE-ID are required (see 'mobileidctl device list "
		                   "LOGIN')");
	login = argv[1 + optind];
	if (nargs == 2)
		device_id = argv[2 + optind];
	if ((rc = check_args(ctx, "device", login, device_id, &o)) != CTL_EXIT_OK)
		return rc;
	if ((rc = ctl_api_open(ctx, &a)) != CTL_EXIT_OK)
		return rc;
	rc = ctl_resolve_login(ctx, &a, login, o.user.service, o.user.service_given, &ref,
	                       uid);
	if (rc != CTL_EXIT_OK)
		goto out;
	if (!strcmp(action, "list")) {
		if (mid_admin_list_devices(&a, uid, "ACTIVE,LOCKED", &devs, &n, 0) != 0) {
			ctl_api_error(ctx, &a, login);
			rc = ctl_exit_for_api(&a);
			goto out;
		}
		if (ctx->json) {
			json_object *j = head(login, ref, uid);

			json_object_object_add(j, "devices", device_array(devs, n));
			ctl_json_print(ctx, j);
		} else {
			print_devices(ctx, devs, n);
		}
	} else if (!strcmp(action, "delete")) {
		if (mid_admin_delete_device(&a, uid, device_id, 0) != 0) {
			rc = device_failed(ctx, &a, login, device_id);
			goto out;
		}
		if (ctx->json) {
			json_object *j = head(login, ref, uid);

			json_object_object_add(j, "deviceId", json_object_new_string(device_id));
			json_object_object_add(j, "deleted", json_object_new_boolean(1));
			ctl_json_print(ctx, j);
		} else {
			ctl_out(ctx, "%s: deleted the device %s\n", login, device_id);
		}
	} else {
		if (mid_admin_set_device_state(&a, uid, device_id, !strcmp(action, "lock"), &d,
		                               0) != 0) {
			rc = device_failed(ctx, &a, login, device_id);
			goto out;
		}
		if (ctx->json) {
			json_object *j = head(login, ref, uid);

			json_object_object_add(j, "device", ctl_json_device(&d));
			ctl_json_print(ctx, j);
		} else {
			ctl_out(ctx, "%s: the device %s is now %s\n", login, d.id, d.state);
		}
	}
out:
	free(devs);
	free(ref);
	mid_api_cleanup(&a);
	return rc;
}

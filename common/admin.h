/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * admin.h - administration calls of the MobileID API (users, devices,
 * device registrations) for mobileidctl, on top of api.h's mid_api_call and
 * its endpoint table, plus their response parsers (pure functions, unit
 * tested) and the externalRef the modules use for a login.
 *
 * Every call returns 0 on success or -1 with the failure in the mid_api
 * (a->fail, a->error, a->status, a->code, a->trace_id), like mid_api_call.
 * deadline_ms is an absolute mid_now_ms() time (0: request_timeout only).
 */
#ifndef MID_ADMIN_H
#define MID_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "mid_config.h"
#include "parse.h"

#define MID_EXTERNAL_REF_MAX 255

/* The externalRef that mid_push_start() uses for user and service: the
 * [auth] externalref template (%h = this host), or with externalref = map
 * the account's first identity in the account map.  0, or -1 with a reason
 * (a user name with control characters, empty or longer than
 * MID_EXTERNAL_REF_MAX, not in the map, out of memory).  free() *out. */
int mid_external_ref_for(const mid_config *cfg, const char *user, const char *service,
                         char **out, char *err, size_t errlen);

/* ---- users ----------------------------------------------------------------- */

typedef struct mid_user_info {
	char id[MID_ID_MAX];
	char external_ref[256];
	char state[16];          /* ACTIVE or LOCKED, as the API says it */
	char segment[129];
	char created[40];        /* ISO 8601 as sent */
	char last_used[40];      /* "" when absent */
	size_t n_attributes;
	char **attr_names;       /* n_attributes names and values, sanitised */
	char **attr_values;
} mid_user_info;

void mid_user_info_free(mid_user_info *u);

/* A user object (GET/POST/PATCH /users). */
int mid_parse_user_info(const char *body, size_t len, mid_user_info *u,
                        char *err, size_t errlen);

/* POST /users/resolve: 1 found (*user_id set), 0 not found (HTTP 404), -1 failed. */
int mid_admin_resolve(mid_api *a, const char *external_ref, char user_id[MID_ID_MAX],
                      int64_t deadline_ms);

int mid_admin_get_user(mid_api *a, const char *user_id, mid_user_info *u, int64_t deadline_ms);

/* POST /users.  attrs: NULL or pairs name, value, name, value, ... ended by
 * a NULL name; an attribute whose value is NULL or "" is left out.
 * segment may be NULL. */
int mid_admin_create_user(mid_api *a, const char *external_ref, const char *segment,
                          const char *const *attrs, mid_user_info *u, int64_t deadline_ms);

/* PATCH /users/{id} {"state": LOCKED|ACTIVE}. */
int mid_admin_set_user_state(mid_api *a, const char *user_id, int locked, mid_user_info *u,
                             int64_t deadline_ms);

/* DELETE /users/{id} (the API accepts only LOCKED users). */
int mid_admin_delete_user(mid_api *a, const char *user_id, int64_t deadline_ms);

/* ---- devices ----------------------------------------------------------------- */

typedef struct mid_device_info {
	char id[MID_ID_MAX];
	char name[129];
	char state[16];
	char last_operation[32];
	char last_used[40];
	char created[40];
} mid_device_info;

/* GET /devices -> array of devices; *list is malloc'ed (free()). */
int mid_parse_device_list(const char *body, size_t len, mid_device_info **list, size_t *n,
                          char *err, size_t errlen);
/* One device object. */
int mid_parse_device_info(const char *body, size_t len, mid_device_info *d,
                          char *err, size_t errlen);

/* states: e.g. "ACTIVE,LOCKED" (NULL: the API's default, ACTIVE). */
int mid_admin_list_devices(mid_api *a, const char *user_id, const char *states,
                           mid_device_info **list, size_t *n, int64_t deadline_ms);
int mid_admin_set_device_state(mid_api *a, const char *user_id, const char *device_id,
                               int locked, mid_device_info *d, int64_t deadline_ms);
int mid_admin_delete_device(mid_api *a, const char *user_id, const char *device_id,
                            int64_t deadline_ms);

/* ---- device registrations -------------------------------------------------------- */

typedef struct mid_registration {
	char transaction_id[MID_ID_MAX];
	mid_op_state state;
	char activation_code[32];
	char expiry[40];              /* operationProperties.sessionExpiryTime as sent */
	int64_t expiry_ms;            /* the same, wall clock ms; 0 when unparsable */
	char device_id[MID_ID_MAX];   /* COMPLETED: the new device */
	char device_name[129];
	char error_code[64];          /* FAILED */
	char error_description[256];
} mid_registration;

/* A registration response / state. */
int mid_parse_registration(const char *body, size_t len, mid_registration *r,
                           char *err, size_t errlen);

/* POST /registrations for user_id; device_name may be NULL; timeout_ms is
 * the session timeout (1..3600000). */
int mid_admin_start_registration(mid_api *a, const char *user_id, const char *device_name,
                                 long timeout_ms, mid_registration *r, int64_t deadline_ms);
int mid_admin_registration_state(mid_api *a, const char *transaction_id, mid_registration *r,
                                 int64_t deadline_ms);
int mid_admin_cancel_registration(mid_api *a, const char *transaction_id, int64_t deadline_ms);

/* ---- helpers ------------------------------------------------------------------------ */

/* ISO 8601 "2021-01-21T22:47:27.123Z" (or +hh:mm) -> wall clock ms; -1 if bad. */
int64_t mid_parse_iso8601(const char *s);

/* Host and port of an https:// URL (libcurl's URL parser).  0 or -1. */
int mid_url_host_port(const char *url, char *host, size_t hostlen, int *port);

#endif

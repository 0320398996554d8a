/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse.c - response parsers (json-c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json_util.h"
#include "parse.h"
#include "util.h"

int mid_parse_token(const char *body, size_t len, char **token, long *expires_in,
                    char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen), *v;
	const char *at;
	int rc = -1;

	*token = NULL;
	*expires_in = 0;
	if (!obj)
		return -1;
	if (!(at = mid_json_bearer_token(obj, err, errlen)))
		goto out;
	if (json_object_object_get_ex(obj, "expires_in", &v)) {
		if (json_object_is_type(v, json_type_int))
			*expires_in = (long)json_object_get_int64(v);
		else if (json_object_is_type(v, json_type_double)) {
			double d = json_object_get_double(v);
			/* Casting a double outside long's range (1e30, NaN) is
			 * undefined: only what passes the check below. */
			*expires_in = d > 0 && d <= 86400 ? (long)d : 0;
		}
		else if (json_object_is_type(v, json_type_string))
			*expires_in = strtol(json_object_get_string(v), NULL, 10);
		else {
			mid_seterr(err, errlen, "expires_in is not a number");
			goto out;
		}
	}
	if (mid_json_take_token(at, token, expires_in, err, errlen) == 0)
		rc = 0;
out:
	/* The parsed tree holds a copy of the token. */
	mid_json_wipe_member(obj, "access_token");
	json_object_put(obj);
	return rc;
}

int mid_parse_error(const char *body, size_t len, mid_api_error *e)
{
	json_object *obj, *v;

	memset(e, 0, sizeof(*e));
	if (!(obj = mid_json_parse_object(body, len, NULL, 0)))
		return -1;
	mid_json_clean_str(e->code, sizeof(e->code), obj, "code");
	if (!e->code[0])   /* OAuth errors: {"error":"invalid_client"} */
		mid_json_clean_str(e->code, sizeof(e->code), obj, "error");
	mid_json_clean_str(e->title, sizeof(e->title), obj, "title");
	mid_json_clean_str(e->detail, sizeof(e->detail), obj, "detail");
	if (!e->detail[0])
		mid_json_clean_str(e->detail, sizeof(e->detail), obj, "error_description");
	if (mid_json_valid_id(mid_json_str(obj, "traceId")))
		mid_json_clean_str(e->trace_id, sizeof(e->trace_id), obj, "traceId");
	if (json_object_object_get_ex(obj, "status", &v) && json_object_is_type(v, json_type_int))
		e->status = (long)json_object_get_int64(v);
	json_object_put(obj);
	return 0;
}

int mid_parse_resolve(const char *body, size_t len, char user_id[MID_ID_MAX],
                      char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	const char *id;
	int rc = -1;

	if (!obj)
		return -1;
	id = mid_json_str(obj, "userId");
	if (!mid_json_valid_id(id)) {
		mid_seterr(err, errlen, "no valid userId in the answer");
	} else {
		snprintf(user_id, MID_ID_MAX, "%s", id);
		rc = 0;
	}
	json_object_put(obj);
	return rc;
}

int mid_parse_user(const char *body, size_t len, int *locked, char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	const char *state;
	int rc = -1;

	if (!obj)
		return -1;
	state = mid_json_str(obj, "state");
	if (!state || !mid_json_valid_id(mid_json_str(obj, "id"))) {
		mid_seterr(err, errlen, "not a user object");
	} else {
		*locked = strcmp(state, "ACTIVE") != 0;
		rc = 0;
	}
	json_object_put(obj);
	return rc;
}

int mid_parse_devices(const char *body, size_t len, int *active,
                      char first_id[MID_ID_MAX], char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	int rc = -1;

	*active = 0;
	first_id[0] = '\0';
	if (!obj)
		return -1;
	if (!json_object_is_type(obj, json_type_array)) {
		mid_seterr(err, errlen, "the device list is not an array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(obj); i++) {
		json_object *d = json_object_array_get_idx(obj, i);
		const char *id = mid_json_str(d, "id"), *state = mid_json_str(d, "state");
		if (!mid_json_valid_id(id) || !state) {
			mid_seterr(err, errlen, "device %zu has no valid id or state", i);
			goto out;
		}
		if (strcmp(state, "ACTIVE") != 0)
			continue;
		if (!(*active)++)
			snprintf(first_id, MID_ID_MAX, "%s", id);
	}
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

int mid_json_auth_state(json_object *obj, mid_auth_state *st, char *err, size_t errlen)
{
	const char *tid = mid_json_str(obj, "transactionId"), *state = mid_json_str(obj, "state");

	if (!mid_json_valid_id(tid)) {
		mid_seterr(err, errlen, "no valid transactionId");
		return -1;
	}
	snprintf(st->transaction_id, sizeof(st->transaction_id), "%s", tid);
	if (!state) {
		mid_seterr(err, errlen, "no state");
		return -1;
	}
	if (!strcmp(state, "PENDING")) {
		st->state = MID_STATE_PENDING;
	} else if (!strcmp(state, "COMPLETED")) {
		st->state = MID_STATE_COMPLETED;
	} else if (!strcmp(state, "FAILED")) {
		st->state = MID_STATE_FAILED;
		mid_json_clean_str(st->error_code, sizeof(st->error_code), obj, "errorCode");
		mid_json_clean_str(st->error_description, sizeof(st->error_description), obj,
		                   "errorDescription");
		if (!st->error_code[0])
			snprintf(st->error_code, sizeof(st->error_code), "UNKNOWN");
	} else {
		mid_seterr(err, errlen, "unknown state");
		return -1;
	}
	return 0;
}

int mid_parse_auth(const char *body, size_t len, mid_auth_state *st,
                   char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	int rc;

	memset(st, 0, sizeof(*st));
	if (!obj)
		return -1;
	rc = mid_json_auth_state(obj, st, err, errlen);
	json_object_put(obj);
	return rc;
}

mid_result mid_error_code_result(const char *code)
{
	static const struct { const char *code; mid_result r; } map[] = {
		{ "EXPIRED", MID_EXPIRED },
		{ "CANCELLED_BY_DEVICE", MID_DENIED },
		{ "CANCELLED_BY_SP", MID_CANCELLED },
		{ "CANCELLED_AUTH_METHOD_DEACTIVATED", MID_CANCELLED },
		{ "CANCELLED_NEW_ACTIVATION", MID_CANCELLED },
		{ "CANCELLED_PERFORM_RECOVERY_STARTED", MID_CANCELLED },
		{ "CANCELLED_INTERMEDIATE_PUSH_REQUIRED", MID_DENIED },
		{ "CANCELLED_APPATTEST_REQUIRED", MID_DENIED },
		{ "GEOFENCING_FAILED", MID_DENIED },
		{ "AUTHORIZATION_TOKEN_VERIFICATION_FAILED", MID_DENIED },
		{ "FAILED_RECOVERY_DOES_NOT_EXIST", MID_DENIED },
		{ "CALLBACK_FAILED", MID_DENIED },
		{ "CALLBACK_PROCESSING_ERROR", MID_DENIED },
	};

	if (!code)
		return MID_DENIED;
	/* LOCKED, LOCKED_BY_ADMIN, LOCKED_PIN_VERIFICATION_FAILED, ... */
	if (!strncmp(code, "LOCKED", 6))
		return MID_LOCKED;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].code, code))
			return map[i].r;
	/* An errorCode we do not know never becomes a success. */
	return MID_DENIED;
}

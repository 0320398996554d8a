/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse.c - response parsers (json-c).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "parse.h"
#include "util.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Parse exactly len bytes of JSON; NULL (and a reason) if it is not JSON. */
static json_object *parse_json(const char *body, size_t len, char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;

	if (!body || len == 0) {
		seterr(err, errlen, "empty body");
		return NULL;
	}
	if (len > 16 * 1024 * 1024 || memchr(body, '\0', len)) {
		seterr(err, errlen, "body is not JSON text");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		seterr(err, errlen, "invalid JSON (%s)",
		       jerr == json_tokener_continue ? "truncated" : json_tokener_error_desc(jerr));
		json_object_put(obj);
		obj = NULL;
	} else {
		size_t used = json_tokener_get_parse_end(tok);
		for (; used < len; used++) {
			char c = body[used];
			if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
				seterr(err, errlen, "invalid JSON (trailing data)");
				json_object_put(obj);
				obj = NULL;
				break;
			}
		}
	}
	json_tokener_free(tok);
	return obj;
}

/* The string member key of obj, or NULL when absent, not a string, or
 * holding a NUL (\u0000) that would silently cut it short. */
static const char *get_str(json_object *obj, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* Copy a server string for logs and messages: no control characters. */
static void copy_clean(char *dst, size_t dstlen, const char *src)
{
	char *clean;

	dst[0] = '\0';
	if (!src)
		return;
	clean = mid_sanitize(src, 0, dstlen - 1);
	if (clean) {
		snprintf(dst, dstlen, "%s", clean);
		free(clean);
	}
}

/* An id as the API returns it: safe to put in a URL path and a log. */
static int valid_id(const char *s)
{
	size_t len;

	if (!s)
		return 0;
	len = strlen(s);
	if (len == 0 || len >= MID_ID_MAX)
		return 0;
	/* "." and ".." would be dot segments in a URL path. */
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

int mid_parse_token(const char *body, size_t len, char **token, long *expires_in,
                    char *err, size_t errlen)
{
	json_object *obj = parse_json(body, len, err, errlen), *v;
	const char *at, *type;
	int rc = -1;

	*token = NULL;
	*expires_in = 0;
	if (!obj)
		return -1;
	at = get_str(obj, "access_token");
	type = get_str(obj, "token_type");
	if (!at || !*at || strlen(at) > 4096 || mid_has_ctl(at) || strpbrk(at, " \t")) {
		seterr(err, errlen, "no usable access_token");
		goto out;
	}
	if (type && strcasecmp(type, "Bearer") != 0) {
		seterr(err, errlen, "token_type is not Bearer");
		goto out;
	}
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
			seterr(err, errlen, "expires_in is not a number");
			goto out;
		}
	}
	if (*expires_in <= 0 || *expires_in > 86400)
		*expires_in = 60;   /* be conservative about a lifetime we cannot read */
	if (!(*token = strdup(at))) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	/* The parsed tree holds a copy of the token. */
	if (obj && (v = json_object_object_get(obj, "access_token")) &&
	    json_object_is_type(v, json_type_string))
		mid_wipe((char *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
	json_object_put(obj);
	return rc;
}

int mid_parse_error(const char *body, size_t len, mid_api_error *e)
{
	json_object *obj, *v;

	memset(e, 0, sizeof(*e));
	obj = parse_json(body, len, NULL, 0);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -1;
	}
	copy_clean(e->code, sizeof(e->code), get_str(obj, "code"));
	if (!e->code[0])   /* OAuth errors: {"error":"invalid_client"} */
		copy_clean(e->code, sizeof(e->code), get_str(obj, "error"));
	copy_clean(e->title, sizeof(e->title), get_str(obj, "title"));
	copy_clean(e->detail, sizeof(e->detail), get_str(obj, "detail"));
	if (!e->detail[0])
		copy_clean(e->detail, sizeof(e->detail), get_str(obj, "error_description"));
	if (valid_id(get_str(obj, "traceId")))
		copy_clean(e->trace_id, sizeof(e->trace_id), get_str(obj, "traceId"));
	if (json_object_object_get_ex(obj, "status", &v) && json_object_is_type(v, json_type_int))
		e->status = (long)json_object_get_int64(v);
	json_object_put(obj);
	return 0;
}

int mid_parse_resolve(const char *body, size_t len, char user_id[MID_ID_MAX],
                      char *err, size_t errlen)
{
	json_object *obj = parse_json(body, len, err, errlen);
	const char *id;
	int rc = -1;

	if (!obj)
		return -1;
	id = get_str(obj, "userId");
	if (!valid_id(id)) {
		seterr(err, errlen, "no valid userId in the answer");
	} else {
		snprintf(user_id, MID_ID_MAX, "%s", id);
		rc = 0;
	}
	json_object_put(obj);
	return rc;
}

int mid_parse_user(const char *body, size_t len, int *locked, char *err, size_t errlen)
{
	json_object *obj = parse_json(body, len, err, errlen);
	const char *state;
	int rc = -1;

	if (!obj)
		return -1;
	state = get_str(obj, "state");
	if (!state || !valid_id(get_str(obj, "id"))) {
		seterr(err, errlen, "not a user object");
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
	json_object *obj = parse_json(body, len, err, errlen);
	int rc = -1;

	*active = 0;
	first_id[0] = '\0';
	if (!obj)
		return -1;
	if (!json_object_is_type(obj, json_type_array)) {
		seterr(err, errlen, "the device list is not an array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(obj); i++) {
		json_object *d = json_object_array_get_idx(obj, i);
		const char *id = get_str(d, "id"), *state = get_str(d, "state");
		if (!valid_id(id) || !state) {
			seterr(err, errlen, "device %zu has no valid id or state", i);
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

int mid_parse_auth(const char *body, size_t len, mid_auth_state *st,
                   char *err, size_t errlen)
{
	json_object *obj = parse_json(body, len, err, errlen);
	const char *tid, *state;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (!obj)
		return -1;
	tid = get_str(obj, "transactionId");
	state = get_str(obj, "state");
	if (!valid_id(tid)) {
		seterr(err, errlen, "no valid transactionId");
		goto out;
	}
	snprintf(st->transaction_id, sizeof(st->transaction_id), "%s", tid);
	if (!state) {
		seterr(err, errlen, "no state");
		goto out;
	}
	if (!strcmp(state, "PENDING")) {
		st->state = MID_STATE_PENDING;
	} else if (!strcmp(state, "COMPLETED")) {
		st->state = MID_STATE_COMPLETED;
	} else if (!strcmp(state, "FAILED")) {
		st->state = MID_STATE_FAILED;
		copy_clean(st->error_code, sizeof(st->error_code), get_str(obj, "errorCode"));
		copy_clean(st->error_description, sizeof(st->error_description),
		           get_str(obj, "errorDescription"));
		if (!st->error_code[0])
			snprintf(st->error_code, sizeof(st->error_code), "UNKNOWN");
	} else {
		seterr(err, errlen, "unknown state");
		goto out;
	}
	rc = 0;
out:
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

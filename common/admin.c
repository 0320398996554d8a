/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * admin.c - MobileID administration calls (users, devices, registrations)
 * and their parsers; see admin.h.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "admin.h"
#include "json_util.h"
#include "push.h"
#include "util.h"

/* ---- the externalRef ------------------------------------------------------------ */

int mid_external_ref_for(const mid_config *cfg, const char *user, const char *service,
                         char **out, char *err, size_t errlen)
{
	mid_result r;

	return mid_external_ref(cfg, user, service, NULL, out, &r, err, errlen);
}

/* ---- parsers --------------------------------------------------------------------------- */

/* 1 if s starts with layout, where 'd' stands for a decimal digit: sscanf's
 * %2d alone takes signs and blanks ("22:47:-0Z"). */
static int layout_ok(const char *s, const char *layout)
{
	for (; *layout; s++, layout++)
		if (*layout == 'd' ? (*s < '0' || *s > '9') : *s != *layout)
			return 0;
	return 1;
}

int64_t mid_parse_iso8601(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, tzh = 0, tzm = 0;
	long frac_ms = 0;
	struct tm tm;
	time_t t;
	const char *p;

	if (!s || !layout_ok(s, "dddd-dd-ddTdd:dd:dd") ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60 ||
	    y < 1970 || h < 0 || mi < 0 || sec < 0)
		return -1;
	p = s + n;
	if (*p == '.') {
		long scale = 100;
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			frac_ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		if (!layout_ok(p + 1, "dd:dd") || sscanf(p + 1, "%2d:%2d%n", &tzh, &tzm, &n) != 2 ||
		    n != 5 || tzh > 23 || tzm > 59)
			return -1;
		tzh *= sign;
		tzm *= sign;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;   /* 24 (as in a vendor sample) normalises to the next day */
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	t -= (time_t)tzh * 3600 + (time_t)tzm * 60;
	return (int64_t)t * 1000 + frac_ms;
}

void mid_user_info_free(mid_user_info *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_attributes; i++) {
		free(u->attr_names[i]);
		free(u->attr_values[i]);
	}
	free(u->attr_names);
	free(u->attr_values);
	memset(u, 0, sizeof(*u));
}

static int user_from_json(json_object *obj, mid_user_info *u, char *err, size_t errlen)
{
	json_object *attrs = mid_json_obj(obj, "attributes");
	const char *id = mid_json_str(obj, "id"), *state = mid_json_str(obj, "state");

	if (!mid_json_valid_id(id)) {
		mid_seterr(err, errlen, "not a user object (no valid id)");
		return -1;
	}
	if (!state || !*state) {
		mid_seterr(err, errlen, "not a user object (no state)");
		return -1;
	}
	snprintf(u->id, sizeof(u->id), "%s", id);
	mid_json_copy_clean(u->state, sizeof(u->state), state);
	mid_json_clean_str(u->external_ref, sizeof(u->external_ref), obj, "externalRef");
	mid_json_clean_str(u->segment, sizeof(u->segment), obj, "segment");
	mid_json_clean_str(u->created, sizeof(u->created), obj, "created");
	mid_json_clean_str(u->last_used, sizeof(u->last_used), obj, "lastUsed");
	if (attrs) {
		size_t n = (size_t)json_object_object_length(attrs), i = 0;

		if (n) {
			u->attr_names = calloc(n, sizeof(char *));
			u->attr_values = calloc(n, sizeof(char *));
			if (!u->attr_names || !u->attr_values) {
				mid_seterr(err, errlen, "out of memory");
				return -1;
			}
		}
		json_object_object_foreach(attrs, key, val) {
			const char *sv;

			if (i >= n)
				break;
			/* Values are strings; show anything else as JSON text. */
			sv = json_object_is_type(val, json_type_string) ? json_object_get_string(val)
			     : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
			u->attr_names[i] = mid_sanitize(key, 0, 256);
			u->attr_values[i] = mid_sanitize(sv ? sv : "null", 0, 4096);
			if (!u->attr_names[i] || !u->attr_values[i]) {
				u->n_attributes = i + 1;
				mid_seterr(err, errlen, "out of memory");
				return -1;
			}
			u->n_attributes = ++i;
		}
	}
	return 0;
}

int mid_parse_user_info(const char *body, size_t len, mid_user_info *u,
                        char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	int rc;

	memset(u, 0, sizeof(*u));
	if (!obj)
		return -1;
	rc = user_from_json(obj, u, err, errlen);
	if (rc != 0)
		mid_user_info_free(u);
	json_object_put(obj);
	return rc;
}

static int device_from_json(json_object *obj, mid_device_info *d, char *err, size_t errlen)
{
	const char *id = mid_json_str(obj, "id"), *state = mid_json_str(obj, "state");

	memset(d, 0, sizeof(*d));
	if (!mid_json_valid_id(id) || !state || !*state) {
		mid_seterr(err, errlen, "not a device object (no valid id or state)");
		return -1;
	}
	snprintf(d->id, sizeof(d->id), "%s", id);
	mid_json_copy_clean(d->state, sizeof(d->state), state);
	mid_json_clean_str(d->name, sizeof(d->name), obj, "name");
	mid_json_clean_str(d->last_operation, sizeof(d->last_operation), obj, "lastOperationType");
	mid_json_clean_str(d->last_used, sizeof(d->last_used), obj, "lastUsed");
	mid_json_clean_str(d->created, sizeof(d->created), obj, "created");
	return 0;
}

int mid_parse_device_info(const char *body, size_t len, mid_device_info *d,
                          char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	int rc;

	memset(d, 0, sizeof(*d));
	if (!obj)
		return -1;
	rc = device_from_json(obj, d, err, errlen);
	json_object_put(obj);
	return rc;
}

int mid_parse_device_list(const char *body, size_t len, mid_device_info **list, size_t *n,
                          char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);
	size_t count;
	int rc = -1;

	*list = NULL;
	*n = 0;
	if (!obj)
		return -1;
	if (!json_object_is_type(obj, json_type_array)) {
		mid_seterr(err, errlen, "the device list is not an array");
		goto out;
	}
	count = json_object_array_length(obj);
	if (count) {
		*list = calloc(count, sizeof(**list));
		if (!*list) {
			mid_seterr(err, errlen, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < count; i++) {
		char why[128];

		if (device_from_json(json_object_array_get_idx(obj, i), &(*list)[i], why,
		                     sizeof(why)) != 0) {
			mid_seterr(err, errlen, "device %zu: %s", i, why);
			free(*list);
			*list = NULL;
			goto out;
		}
	}
	*n = count;
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

int mid_parse_registration(const char *body, size_t len, mid_registration *r,
                           char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen), *props, *dev;
	mid_auth_state st = { 0 };
	const char *code;
	int rc = -1, state_rc;

	memset(r, 0, sizeof(*r));
	if (!obj)
		return -1;
	/* The same rules as an authentication's state (parse.c); r gets what
	 * was read, also when it stopped at a problem. */
	state_rc = mid_json_auth_state(obj, &st, err, errlen);
	snprintf(r->transaction_id, sizeof(r->transaction_id), "%s", st.transaction_id);
	r->state = st.state;
	snprintf(r->error_code, sizeof(r->error_code), "%s", st.error_code);
	snprintf(r->error_description, sizeof(r->error_description), "%s", st.error_description);
	if (state_rc != 0)
		goto out;
	props = mid_json_obj(obj, "operationProperties");
	code = mid_json_str(props, "activationCode");
	if (code && (!*code || strlen(code) >= sizeof(r->activation_code) ||
	             strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")
	             != strlen(code))) {
		mid_seterr(err, errlen, "unusable activationCode");
		goto out;
	}
	if (code)
		snprintf(r->activation_code, sizeof(r->activation_code), "%s", code);
	if (r->state == MID_STATE_PENDING && !r->activation_code[0]) {
		mid_seterr(err, errlen, "a PENDING registration without an activationCode");
		goto out;
	}
	mid_json_clean_str(r->expiry, sizeof(r->expiry), props, "sessionExpiryTime");
	r->expiry_ms = mid_parse_iso8601(r->expiry);
	if (r->expiry_ms < 0)
		r->expiry_ms = 0;
	dev = mid_json_obj(obj, "device");
	mid_json_clean_str(r->device_name, sizeof(r->device_name), dev, "name");
	if (mid_json_valid_id(mid_json_str(dev, "id")))
		snprintf(r->device_id, sizeof(r->device_id), "%s", mid_json_str(dev, "id"));
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

/* ---- calls -------------------------------------------------------------------------- */

static int call_json(mid_api *a, mid_op op, const char *id, const char *query, json_object *body,
                     int64_t deadline_ms)
{
	int rc;

	if (!body) {
		snprintf(a->error, sizeof(a->error), "%s: out of memory", mid_endpoint_of(op)->name);
		a->fail = MID_INTERNAL_ERROR;
		a->fail_op = op;
		return -1;
	}
	rc = mid_api_call(a, op, id, query, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	                  deadline_ms);
	json_object_put(body);
	return rc;
}

static int oom(mid_api *a, mid_op op)
{
	a->fail = MID_INTERNAL_ERROR;
	a->fail_op = op;
	snprintf(a->error, sizeof(a->error), "%s: out of memory", mid_endpoint_of(op)->name);
	return -1;
}

/* Parse the answer of op with fn-style parsers; garbage is MID_UNAVAILABLE. */
#define PARSE_OR_FAIL(a, op, call) do { \
	char why_[200]; \
	if ((call) != 0) { \
		mid_api_garbage((a), (op), why_); \
		return -1; \
	} \
} while (0)

static const char *body_of(mid_api *a) { return a->resp.body.data; }

int mid_admin_resolve(mid_api *a, const char *external_ref, char user_id[MID_ID_MAX],
                      int64_t deadline_ms)
{
	json_object *body = json_object_new_object();

	user_id[0] = '\0';
	if (body)
		json_object_object_add(body, "externalRef", json_object_new_string(external_ref));
	if (call_json(a, MID_OP_RESOLVE, NULL, NULL, body, deadline_ms) != 0)
		return (a->status == 404 && a->fail_op == MID_OP_RESOLVE) ? 0 : -1;
	PARSE_OR_FAIL(a, MID_OP_RESOLVE, mid_parse_resolve(body_of(a), a->resp.body.len, user_id,
	                                                   why_, sizeof(why_)));
	return 1;
}

int mid_admin_get_user(mid_api *a, const char *user_id, mid_user_info *u, int64_t deadline_ms)
{
	memset(u, 0, sizeof(*u));
	if (mid_api_call(a, MID_OP_GET_USER, user_id, NULL, NULL, deadline_ms) != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_GET_USER, mid_parse_user_info(body_of(a), a->resp.body.len, u,
	                                                      why_, sizeof(why_)));
	return 0;
}

int mid_admin_create_user(mid_api *a, const char *external_ref, const char *segment,
                          const char *const *attrs, mid_user_info *u, int64_t deadline_ms)
{
	json_object *body = json_object_new_object(), *ao = NULL;

	memset(u, 0, sizeof(*u));
	if (!body)
		return oom(a, MID_OP_CREATE_USER);
	json_object_object_add(body, "externalRef", json_object_new_string(external_ref));
	if (segment && *segment)
		json_object_object_add(body, "segment", json_object_new_string(segment));
	for (size_t i = 0; attrs && attrs[i]; i += 2) {
		if (!attrs[i + 1] || !*attrs[i + 1])
			continue;
		if (!ao && !(ao = json_object_new_object())) {
			json_object_put(body);
			return oom(a, MID_OP_CREATE_USER);
		}
		json_object_object_add(ao, attrs[i], json_object_new_string(attrs[i + 1]));
	}
	if (ao)
		json_object_object_add(body, "attributes", ao);
	if (call_json(a, MID_OP_CREATE_USER, NULL, NULL, body, deadline_ms) != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_CREATE_USER, mid_parse_user_info(body_of(a), a->resp.body.len, u,
	                                                         why_, sizeof(why_)));
	return 0;
}

int mid_admin_set_user_state(mid_api *a, const char *user_id, int locked, mid_user_info *u,
                             int64_t deadline_ms)
{
	json_object *body = json_object_new_object();

	memset(u, 0, sizeof(*u));
	if (body)
		json_object_object_add(body, "state",
		                       json_object_new_string(locked ? "LOCKED" : "ACTIVE"));
	if (call_json(a, MID_OP_UPDATE_USER, user_id, NULL, body, deadline_ms) != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_UPDATE_USER, mid_parse_user_info(body_of(a), a->resp.body.len, u,
	                                                         why_, sizeof(why_)));
	return 0;
}

int mid_admin_delete_user(mid_api *a, const char *user_id, int64_t deadline_ms)
{
	return mid_api_call(a, MID_OP_DELETE_USER, user_id, NULL, NULL, deadline_ms);
}

/* "userId=<escaped>[&states=<escaped>]" */
static char *device_query(mid_api *a, const char *user_id, const char *states)
{
	char *uid = mid_http_escape(a->http, user_id), *st = NULL;
	mid_buf q = { 0 };

	if (states)
		st = mid_http_escape(a->http, states);
	if (!uid || (states && !st) ||
	    mid_buf_printf(&q, "userId=%s%s%s", uid, st ? "&states=" : "", st ? st : "") != 0) {
		mid_buf_free(&q);
		q.data = NULL;
	}
	free(uid);
	free(st);
	return q.data;
}

int mid_admin_list_devices(mid_api *a, const char *user_id, const char *states,
                           mid_device_info **list, size_t *n, int64_t deadline_ms)
{
	char *q = device_query(a, user_id, states);
	int rc;

	*list = NULL;
	*n = 0;
	if (!q)
		return oom(a, MID_OP_LIST_DEVICES);
	rc = mid_api_call(a, MID_OP_LIST_DEVICES, NULL, q, NULL, deadline_ms);
	free(q);
	if (rc != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_LIST_DEVICES, mid_parse_device_list(body_of(a), a->resp.body.len,
	                                                            list, n, why_, sizeof(why_)));
	return 0;
}

int mid_admin_set_device_state(mid_api *a, const char *user_id, const char *device_id,
                               int locked, mid_device_info *d, int64_t deadline_ms)
{
	json_object *body = json_object_new_object();
	char *q = device_query(a, user_id, NULL);
	int rc;

	memset(d, 0, sizeof(*d));
	if (!q) {
		json_object_put(body);
		return oom(a, MID_OP_UPDATE_DEVICE);
	}
	if (body)
		json_object_object_add(body, "state",
		                       json_object_new_string(locked ? "LOCKED" : "ACTIVE"));
	rc = call_json(a, MID_OP_UPDATE_DEVICE, device_id, q, body, deadline_ms);
	free(q);
	if (rc != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_UPDATE_DEVICE, mid_parse_device_info(body_of(a), a->resp.body.len,
	                                                             d, why_, sizeof(why_)));
	return 0;
}

int mid_admin_delete_device(mid_api *a, const char *user_id, const char *device_id,
                            int64_t deadline_ms)
{
	char *q = device_query(a, user_id, NULL);
	int rc;

	if (!q)
		return oom(a, MID_OP_DELETE_DEVICE);
	rc = mid_api_call(a, MID_OP_DELETE_DEVICE, device_id, q, NULL, deadline_ms);
	free(q);
	return rc;
}

int mid_admin_start_registration(mid_api *a, const char *user_id, const char *device_name,
                                 long timeout_ms, mid_registration *r, int64_t deadline_ms)
{
	json_object *body = json_object_new_object(), *dev, *props;
	char timeout[32];

	memset(r, 0, sizeof(*r));
	if (!body)
		return oom(a, MID_OP_START_REGISTRATION);
	dev = json_object_new_object();
	props = json_object_new_object();
	if (!dev || !props) {
		json_object_put(dev);
		json_object_put(props);
		json_object_put(body);
		return oom(a, MID_OP_START_REGISTRATION);
	}
	snprintf(timeout, sizeof(timeout), "%ld", timeout_ms);
	json_object_object_add(body, "userId", json_object_new_string(user_id));
	if (device_name && *device_name)
		json_object_object_add(dev, "name", json_object_new_string(device_name));
	json_object_object_add(body, "device", dev);
	json_object_object_add(props, "registrationMode", json_object_new_string("REGISTRATION"));
	json_object_object_add(props, "authLevel", json_object_new_string(a->cfg->auth_level));
	json_object_object_add(props, "sessionTimeout", json_object_new_string(timeout));
	json_object_object_add(body, "operationProperties", props);
	if (call_json(a, MID_OP_START_REGISTRATION, NULL, NULL, body, deadline_ms) != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_START_REGISTRATION,
	              mid_parse_registration(body_of(a), a->resp.body.len, r, why_, sizeof(why_)));
	return 0;
}

int mid_admin_registration_state(mid_api *a, const char *transaction_id, mid_registration *r,
                                 int64_t deadline_ms)
{
	memset(r, 0, sizeof(*r));
	if (mid_api_call(a, MID_OP_REGISTRATION_STATE, transaction_id, NULL, NULL, deadline_ms) != 0)
		return -1;
	PARSE_OR_FAIL(a, MID_OP_REGISTRATION_STATE,
	              mid_parse_registration(body_of(a), a->resp.body.len, r, why_, sizeof(why_)));
	return 0;
}

int mid_admin_cancel_registration(mid_api *a, const char *transaction_id, int64_t deadline_ms)
{
	return mid_api_call(a, MID_OP_CANCEL_REGISTRATION, transaction_id, NULL, NULL, deadline_ms);
}

/* ---- URLs ---------------------------------------------------------------------------- */

int mid_url_host_port(const char *url, char *host, size_t hostlen, int *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	int rc = -1;

	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	/* "[::1]" -> "::1" for getaddrinfo() */
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		memmove(h, h + 1, strlen(h));
	}
	if (strlen(h) >= hostlen)
		goto out;
	snprintf(host, hostlen, "%s", h);
	*port = atoi(p);
	rc = 0;
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth.c - the push: map the login to a MobileID user, start the
 * authentication with its context, tell the user, wait for the phone.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "acctmap.h"
#include "api.h"
#include "cache.h"
#include "dqe.h"
#include "guard.h"
#include "mobileid.h"
#include "push.h"
#include "template.h"

#define CONTEXT_MAX 5000   /* characters of preOperationContext.content */
#define TITLE_MAX 200
#define REF_MAX 255
#define CODE_DIGITS 4

struct mid_handle {
	const mid_config *cfg;
	mid_api api;
	const mid_callbacks *cb;
	int64_t start_ms;
	int64_t deadline_ms;
	char *external_ref;
	char user_id[MID_ID_MAX];
	char device_id[MID_ID_MAX];   /* "" = broadcast to every ACTIVE device */
	char transaction_id[MID_ID_MAX];
	char code[CODE_DIGITS + 1];
	char *message;                /* what the user sees */
	char error[600];
	char trace_id[80];
	int from_cache;
	mid_guard guard;
	mid_dqe *dqe;                 /* [dqe] enabled: made on first use */
	mid_buf dqe_user;             /* the GET /users/{id} body, for DQE matching */
};

static const char *const result_names[MID_RESULT_COUNT] = {
	[MID_APPROVED] = "approved",
	[MID_DENIED] = "denied",
	[MID_EXPIRED] = "expired",
	[MID_CANCELLED] = "cancelled",
	[MID_USER_UNKNOWN] = "user unknown",
	[MID_NO_DEVICE] = "no active device",
	[MID_LOCKED] = "locked",
	[MID_UNAVAILABLE] = "service unavailable",
	[MID_CONFIG_ERROR] = "configuration error",
	[MID_INTERNAL_ERROR] = "internal error",
	[MID_PUSH_PENDING] = "push already pending",
	[MID_RATE_LIMITED] = "rate limited",
	[MID_PHONE_UNVERIFIED] = "phone number unverified",
};

const char *mid_result_name(mid_result r)
{
	return (r >= 0 && r < MID_RESULT_COUNT) ? result_names[r] : "unknown";
}

const char *mid_result_user_message(mid_result r)
{
	switch (r) {
	case MID_APPROVED: return "Approved.";
	case MID_DENIED: return "The login was denied on your phone.";
	case MID_EXPIRED: return "The login request expired before it was approved.";
	case MID_CANCELLED: return "The login request was cancelled.";
	case MID_USER_UNKNOWN:
		return "You are not enrolled for MobileID; contact your administrator.";
	case MID_NO_DEVICE:
		return "You have no active MobileID device; contact your administrator.";
	case MID_LOCKED:
		return "Your MobileID account or device is locked; contact your administrator.";
	case MID_UNAVAILABLE: return "The MobileID service is unavailable.";
	case MID_PUSH_PENDING:
		return "Another login for you is already waiting for your phone; answer or let it "
		       "expire first.";
	case MID_RATE_LIMITED:
		return "Too many denied logins; new requests are paused for a while.";
	case MID_PHONE_UNVERIFIED:
		return "Phone number verification failed; contact your administrator.";
	default: return "MobileID is not set up correctly; contact your administrator.";
	}
}

/* ---- the handle --------------------------------------------------------------- */

static int handle_aborted(void *ctx)
{
	mid_handle *h = ctx;

	return h->cb && h->cb->aborted && h->cb->aborted(h->cb->ctx);
}

mid_handle *mid_handle_new(const mid_config *cfg)
{
	mid_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->cfg = cfg;
	if (mid_api_init(&h->api, cfg, handle_aborted, h) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

void mid_handle_free(mid_handle *h)
{
	if (!h)
		return;
	mid_api_cleanup(&h->api);
	mid_dqe_free(h->dqe);
	mid_buf_free(&h->dqe_user);
	free(h->external_ref);
	free(h->message);
	free(h);
}

const char *mid_handle_error(const mid_handle *h) { return h->error; }
const char *mid_handle_trace_id(const mid_handle *h) { return h->trace_id; }
const char *mid_handle_transaction_id(const mid_handle *h) { return h->transaction_id; }
const char *mid_handle_code(const mid_handle *h) { return h->code; }
const char *mid_handle_message(const mid_handle *h) { return h->message ? h->message : ""; }

const char *mid_handle_external_ref(const mid_handle *h)
{
	return h->external_ref ? h->external_ref : "";
}

void mid_handle_counters(const mid_handle *h, mid_counters *c)
{
	mid_http_stats st;

	mid_http_get_stats(h->api.http, &st);
	c->requests = st.requests;
	c->connects = st.connects;
	c->token_fetches = h->api.token_fetches;
	c->user_from_cache = h->from_cache;
}

static void bind_callbacks(mid_handle *h, const mid_callbacks *cb)
{
	h->cb = cb;
	h->api.log = cb ? cb->log : NULL;
	h->api.log_ctx = cb ? cb->ctx : NULL;
}

/* Fail with the API's classification and message. */
static mid_result api_fail(mid_handle *h)
{
	snprintf(h->error, sizeof(h->error), "%s", h->api.error);
	if (h->api.trace_id[0])
		snprintf(h->trace_id, sizeof(h->trace_id), "%s", h->api.trace_id);
	return h->api.fail;
}

static mid_result fail(mid_handle *h, mid_result r, const char *what)
{
	snprintf(h->error, sizeof(h->error), "%s", what);
	return r;
}

static void note_trace(mid_handle *h)
{
	if (h->api.trace_id[0])
		snprintf(h->trace_id, sizeof(h->trace_id), "%s", h->api.trace_id);
}

/* ---- the user mapping ----------------------------------------------------------- */

static int user_cache_on(const mid_handle *h)
{
	return h->cfg->cache_dir && *h->cfg->cache_dir && h->cfg->user_cache_ttl_ms > 0;
}

static void user_cache_name(const mid_handle *h, char name[64])
{
	mid_buf b = { 0 };
	char key[17];

	mid_buf_printf(&b, "%s\n%s", h->cfg->api_url, h->external_ref);
	mid_hash_hex(b.data ? b.data : "", key);
	mid_buf_free(&b);
	snprintf(name, 64, "user-%s.json", key);
}

static int user_cache_get(mid_handle *h)
{
	char name[64], err[512];
	mid_buf b = { 0 };
	json_object *obj = NULL, *v;
	const char *ref, *uid, *did;
	int rc = -1;

	if (!user_cache_on(h))
		return -1;
	user_cache_name(h, name);
	if (mid_cache_read(h->cfg->cache_dir, name, &b, err, sizeof(err)) != 0) {
		if (err[0])
			mid_api_log(&h->api, LOG_WARNING, "user cache ignored: %s", err);
		goto out;
	}
	obj = json_tokener_parse(b.data);
	if (!obj || !json_object_object_get_ex(obj, "expires_ms", &v) ||
	    json_object_get_int64(v) <= mid_wall_ms())
		goto out;
	ref = json_object_object_get_ex(obj, "externalRef", &v) ? json_object_get_string(v) : NULL;
	uid = json_object_object_get_ex(obj, "userId", &v) ? json_object_get_string(v) : NULL;
	did = json_object_object_get_ex(obj, "deviceId", &v) ? json_object_get_string(v) : NULL;
	if (!ref || strcmp(ref, h->external_ref) != 0 || !uid || !*uid ||
	    strlen(uid) >= MID_ID_MAX || !did || strlen(did) >= MID_ID_MAX)
		goto out;
	snprintf(h->user_id, sizeof(h->user_id), "%s", uid);
	snprintf(h->device_id, sizeof(h->device_id), "%s", did);
	rc = 0;
out:
	json_object_put(obj);
	mid_buf_free(&b);
	return rc;
}

static void user_cache_put(mid_handle *h)
{
	char name[64], err[512];
	json_object *obj;
	const char *s;

	if (!user_cache_on(h))
		return;
	user_cache_name(h, name);
	obj = json_object_new_object();
	if (!obj)
		return;
	json_object_object_add(obj, "externalRef", json_object_new_string(h->external_ref));
	json_object_object_add(obj, "userId", json_object_new_string(h->user_id));
	json_object_object_add(obj, "deviceId", json_object_new_string(h->device_id));
	json_object_object_add(obj, "expires_ms",
	                       json_object_new_int64(mid_wall_ms() + h->cfg->user_cache_ttl_ms));
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	if (s && mid_cache_write(h->cfg->cache_dir, name, s, strlen(s), err, sizeof(err)) != 0)
		mid_api_log(&h->api, LOG_WARNING, "cannot write the user cache: %s", err);
	json_object_put(obj);
}

static void user_cache_drop(mid_handle *h)
{
	char name[64];

	if (!user_cache_on(h))
		return;
	user_cache_name(h, name);
	mid_cache_remove(h->cfg->cache_dir, name);
}

/* externalRef -> userId, then the ACTIVE devices. */
static mid_result lookup_user(mid_handle *h)
{
	json_object *body = json_object_new_object();
	char err[200], *uid_q = NULL;
	mid_buf query = { 0 };
	int locked = 0, active = 0, rc;

	if (!body)
		return fail(h, MID_INTERNAL_ERROR, "out of memory");
	json_object_object_add(body, "externalRef", json_object_new_string(h->external_ref));
	rc = mid_api_call(&h->api, MID_OP_RESOLVE, NULL, NULL,
	                  json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	                  h->deadline_ms);
	json_object_put(body);
	note_trace(h);
	if (rc != 0) {
		if (h->api.status == 404 && h->api.fail_op == MID_OP_RESOLVE) {
			snprintf(h->error, sizeof(h->error), "resolve externalRef: '%s' is not enrolled "
			         "(HTTP 404%s%s)", h->external_ref, h->api.code[0] ? ", " : "",
			         h->api.code);
			return MID_USER_UNKNOWN;
		}
		return api_fail(h);
	}
	if (mid_parse_resolve(h->api.resp.body.data, h->api.resp.body.len, h->user_id,
	                      err, sizeof(err)) != 0) {
		mid_api_garbage(&h->api, MID_OP_RESOLVE, err);
		return api_fail(h);
	}

	rc = mid_api_call(&h->api, MID_OP_GET_USER, h->user_id, NULL, NULL, h->deadline_ms);
	note_trace(h);
	if (rc != 0)
		return api_fail(h);
	if (mid_parse_user(h->api.resp.body.data, h->api.resp.body.len, &locked,
	                   err, sizeof(err)) != 0) {
		mid_api_garbage(&h->api, MID_OP_GET_USER, err);
		return api_fail(h);
	}
	if (locked)
		return fail(h, MID_LOCKED, "get user: the MobileID user is LOCKED");
	if (h->cfg->dqe_enabled) {   /* its attributes, for DQE matching */
		mid_buf_reset(&h->dqe_user);
		if (mid_buf_append(&h->dqe_user, h->api.resp.body.data, h->api.resp.body.len) != 0)
			return fail(h, MID_INTERNAL_ERROR, "out of memory");
	}

	uid_q = mid_http_escape(h->api.http, h->user_id);
	if (!uid_q || mid_buf_printf(&query, "userId=%s&states=ACTIVE", uid_q) != 0) {
		free(uid_q);
		return fail(h, MID_INTERNAL_ERROR, "out of memory");
	}
	free(uid_q);
	rc = mid_api_call(&h->api, MID_OP_LIST_DEVICES, NULL, query.data, NULL, h->deadline_ms);
	mid_buf_free(&query);
	note_trace(h);
	if (rc != 0)
		return api_fail(h);
	if (mid_parse_devices(h->api.resp.body.data, h->api.resp.body.len, &active,
	                      h->device_id, err, sizeof(err)) != 0) {
		mid_api_garbage(&h->api, MID_OP_LIST_DEVICES, err);
		return api_fail(h);
	}
	if (active == 0)
		return fail(h, MID_NO_DEVICE, "list devices: the user has no ACTIVE device");
	if (active > 1)
		h->device_id[0] = '\0';   /* push to all of them */
	user_cache_put(h);
	return MID_APPROVED;
}

/* ---- starting the push ------------------------------------------------------------ */

static char *expand(const char *tmpl, const mid_request *req, const char *code, size_t max)
{
	char host[HOST_NAME_MAX + 1] = "";
	char when[64] = "";
	time_t now = time(NULL);
	struct tm tm;
	mid_tmpl_vars v;

	gethostname(host, sizeof(host) - 1);
	if (localtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	v = (mid_tmpl_vars){ .user = req->user, .host = host, .service = req->service,
	                     .rhost = req->rhost, .code = code, .time = when,
	                     .command = req->command };
	return mid_template_expand(tmpl, &v, max, 0);
}

static json_object *auth_body(mid_handle *h, const mid_request *req)
{
	json_object *body = json_object_new_object(), *props, *ctx, *tags;
	char *title = expand(h->cfg->context_title, req, h->code, TITLE_MAX);
	char *content = expand(h->cfg->context_content, req, h->code, CONTEXT_MAX);
	char timeout[32];
	long budget = (long)(h->deadline_ms - mid_now_ms());

	if (!body || !title || !content)
		goto oom;
	snprintf(timeout, sizeof(timeout), "%ld", budget > 1000 ? budget : 1000);
	props = json_object_new_object();
	ctx = json_object_new_object();
	tags = json_object_new_array();
	if (!props || !ctx || !tags) {
		json_object_put(props);
		json_object_put(ctx);
		json_object_put(tags);
		goto oom;
	}
	json_object_object_add(body, "userId", json_object_new_string(h->user_id));
	if (h->device_id[0]) {
		json_object *dev = json_object_new_object();
		json_object_object_add(dev, "id", json_object_new_string(h->device_id));
		json_object_object_add(body, "device", dev);
	}
	json_object_array_add(tags, json_object_new_string(PACKAGE_NAME));
	json_object_object_add(body, "tags", tags);
	json_object_object_add(props, "sessionTimeout", json_object_new_string(timeout));
	json_object_object_add(props, "authLevel", json_object_new_string(h->cfg->auth_level));
	json_object_object_add(props, "broadcast", json_object_new_boolean(!h->device_id[0]));
	json_object_object_add(ctx, "title", json_object_new_string(title));
	json_object_object_add(ctx, "content", json_object_new_string(content));
	json_object_object_add(ctx, "mimeType", json_object_new_string("text/plain"));
	json_object_object_add(props, "preOperationContext", ctx);
	json_object_object_add(body, "operationProperties", props);
	free(title);
	free(content);
	return body;
oom:
	free(title);
	free(content);
	json_object_put(body);
	return NULL;
}

static mid_result start_auth(mid_handle *h, const mid_request *req, mid_auth_state *st)
{
	json_object *body = auth_body(h, req);
	char err[200];
	int rc;

	if (!body)
		return fail(h, MID_INTERNAL_ERROR, "out of memory");
	rc = mid_api_call(&h->api, MID_OP_START_AUTH, NULL, NULL,
	                  json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	                  h->deadline_ms);
	json_object_put(body);
	note_trace(h);
	if (rc != 0)
		return api_fail(h);
	if (mid_parse_auth(h->api.resp.body.data, h->api.resp.body.len, st, err, sizeof(err)) != 0) {
		mid_api_garbage(&h->api, MID_OP_START_AUTH, err);
		return api_fail(h);
	}
	snprintf(h->transaction_id, sizeof(h->transaction_id), "%s", st->transaction_id);
	return MID_APPROVED;
}

static mid_result failed_state(mid_handle *h, const mid_auth_state *st)
{
	mid_result r = mid_error_code_result(st->error_code);

	snprintf(h->error, sizeof(h->error), "authentication %s: %s%s%s", st->transaction_id,
	         st->error_code, st->error_description[0] ? ": " : "", st->error_description);
	return r;
}

int mid_external_ref(const mid_config *cfg, const char *user, const char *service,
                     const mid_callbacks *cb, char **out, mid_result *res,
                     char *err, size_t errlen)
{
	char host[HOST_NAME_MAX + 1] = "";
	mid_tmpl_vars v = { .user = user, .service = service, .host = host };
	char *clean;

	*out = NULL;
	*res = MID_INTERNAL_ERROR;
	if (!user || !*user) {
		snprintf(err, errlen, "no user name");
		return -1;
	}
	/* Refuse a name that is not clean text, never alter it: the cleaned
	 * copy ("a\r\nb" -> "ab") could be another user. */
	clean = mid_sanitize(user, 0, strlen(user));
	if (!clean) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (strcmp(clean, user) != 0) {
		free(clean);
		*res = MID_USER_UNKNOWN;
		snprintf(err, errlen, "the user name holds control characters or invalid UTF-8");
		return -1;
	}
	free(clean);
	/* The login is an account: its identity comes from the account map
	 * (with several, cb->choose asks; without it, the first is taken). */
	if (mid_externalref_is_map(cfg))
		return mid_acctmap_external_ref(cfg, user, cb, out, res, err, errlen);
	gethostname(host, sizeof(host) - 1);
	/* The expansion is cut on a character: with room for one more (up to
	 * 4 bytes), a longer result is still longer than REF_MAX once cut,
	 * never a shorter name that could be another user's. */
	*out = mid_template_expand(cfg->externalref, &v, REF_MAX + 4, 1);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!**out || strlen(*out) > REF_MAX) {
		char shown[68];

		/* at most 64 bytes of the name, not cut inside a character */
		snprintf(shown, sizeof(shown), "%.65s", user);
		mid_utf8_truncate(shown, 64);
		snprintf(err, errlen, "the externalRef is empty or too long (over %d bytes) for "
		         "'%s%s' (template '%.64s')", REF_MAX, shown, strlen(user) > 64 ? "..." : "",
		         cfg->externalref);
		free(*out);
		*out = NULL;
		*res = MID_USER_UNKNOWN;
		return -1;
	}
	return 0;
}

static int push_start_guarded(mid_handle *h, const mid_request *req, mid_result *res);
static void guard_release(mid_handle *h, mid_result r);

int mid_push_start(mid_handle *h, const mid_request *req, const mid_callbacks *cb,
                   mid_result *res)
{
	int rc;

	bind_callbacks(h, cb);
	h->error[0] = h->trace_id[0] = h->transaction_id[0] = '\0';
	h->start_ms = mid_now_ms();
	h->deadline_ms = h->start_ms + h->cfg->push_timeout_ms;
	h->from_cache = 0;

	free(h->external_ref);
	h->external_ref = NULL;
	{
		char why[600];
		if (mid_external_ref(h->cfg, req->user, req->service, cb, &h->external_ref, res,
		                     why, sizeof(why)) != 0) {
			*res = fail(h, *res, why);
			return -1;
		}
	}
	if (mid_random_code(h->code, CODE_DIGITS) != 0) {
		*res = fail(h, MID_INTERNAL_ERROR, "getrandom failed");
		return -1;
	}
	free(h->message);
	h->message = expand(h->cfg->message, req, h->code, 1024);
	if (!h->message) {
		*res = fail(h, MID_INTERNAL_ERROR, "out of memory");
		return -1;
	}

	{
		char why[300];
		int g = mid_guard_begin(&h->guard, h->cfg, h->external_ref,
		                        mid_wall_ms() + h->cfg->push_timeout_ms, res, why, sizeof(why));
		if (g != 0) {
			if (g < 0)
				*res = MID_INTERNAL_ERROR;
			snprintf(h->error, sizeof(h->error), "%s", why);
			return -1;
		}
	}
	rc = push_start_guarded(h, req, res);
	if (rc != 0)
		guard_release(h, *res);
	return rc;
}

/* Release the push-bombing guard once the push is over. */
static void guard_release(mid_handle *h, mid_result r)
{
	if (mid_guard_end(&h->guard, h->cfg, r))
		mid_api_log(&h->api, LOG_WARNING, "push guard: %d denials for %s within %ld s; "
		            "new pushes refused for %ld s", h->cfg->max_denials, h->external_ref,
		            h->cfg->denial_window_ms / 1000, h->cfg->cooldown_ms / 1000);
}

/* DQE matching (issue 5), when enabled: after the user lookup, before any
 * push.  A warm login (mapping from the cache) fetches the user's
 * attributes first: one GET. */
static mid_result dqe_gate(mid_handle *h, const mid_request *req)
{
	mid_result r;

	if (!h->cfg->dqe_enabled)
		return MID_APPROVED;
	if (!h->dqe_user.len) {
		if (mid_api_call(&h->api, MID_OP_GET_USER, h->user_id, NULL, NULL, h->deadline_ms)) {
			note_trace(h);
			return api_fail(h);
		}
		if (mid_buf_append(&h->dqe_user, h->api.resp.body.data, h->api.resp.body.len) != 0)
			return fail(h, MID_INTERNAL_ERROR, "out of memory");
	}
	if (!h->dqe && !(h->dqe = mid_dqe_new(h->cfg, handle_aborted, h)))
		return fail(h, MID_INTERNAL_ERROR, "out of memory");
	mid_dqe_set_log(h->dqe, h->api.log, h->api.log_ctx);
	r = mid_dqe_check(h->dqe, req->user, h->dqe_user.data, h->dqe_user.len, h->deadline_ms);
	mid_buf_reset(&h->dqe_user);
	if (r != MID_APPROVED) {
		snprintf(h->error, sizeof(h->error), "%s", mid_dqe_error(h->dqe));
		snprintf(h->trace_id, sizeof(h->trace_id), "%s", mid_dqe_trace_id(h->dqe));
	}
	return r;
}

static int push_start_guarded(mid_handle *h, const mid_request *req, mid_result *res)
{
	mid_auth_state st;
	mid_result r;

	mid_buf_reset(&h->dqe_user);
	if (user_cache_get(h) == 0) {
		h->from_cache = 1;
		r = dqe_gate(h, req);
		if (r == MID_APPROVED)
			r = start_auth(h, req, &st);
		/* A stale mapping (user or device gone): resolve again, once. */
		if (r != MID_APPROVED && (h->api.status == 404 || h->api.status == 400)) {
			mid_api_log(&h->api, LOG_INFO, "cached mapping of %s refused (HTTP %ld); "
			            "resolving again", h->external_ref, h->api.status);
			user_cache_drop(h);
			h->from_cache = 0;
		} else if (r != MID_APPROVED) {
			*res = r;
			return -1;
		}
	}
	if (!h->from_cache) {
		r = lookup_user(h);
		if (r == MID_APPROVED)
			r = dqe_gate(h, req);
		if (r == MID_APPROVED)
			r = start_auth(h, req, &st);
		if (r != MID_APPROVED) {
			*res = r;
			return -1;
		}
	}
	mid_api_log(&h->api, LOG_DEBUG, "push %s started for %s (code %s)", h->transaction_id,
	            h->external_ref, h->code);
	if (st.state == MID_STATE_COMPLETED) {
		*res = MID_APPROVED;
		return 1;
	}
	if (st.state == MID_STATE_FAILED) {
		*res = failed_state(h, &st);
		return 1;
	}
	return 0;
}

int mid_push_resume(mid_handle *h, const char *transaction_id, const char *code,
                    int64_t deadline_ms)
{
	if (!transaction_id || !*transaction_id || strlen(transaction_id) >= MID_ID_MAX ||
	    !code || strlen(code) != CODE_DIGITS)
		return -1;
	snprintf(h->transaction_id, sizeof(h->transaction_id), "%s", transaction_id);
	snprintf(h->code, sizeof(h->code), "%s", code);
	h->error[0] = h->trace_id[0] = '\0';
	h->start_ms = mid_now_ms();
	h->deadline_ms = deadline_ms;
	return 0;
}

int64_t mid_handle_deadline(const mid_handle *h)
{
	return h->deadline_ms;
}

/* ---- waiting ------------------------------------------------------------------------ */

void mid_push_cancel(mid_handle *h)
{
	/* Cancel even if the caller aborted: a short deadline of our own, and
	 * the abort callback must not stop the cancel itself. */
	const mid_callbacks *saved = h->cb;
	int64_t deadline = mid_now_ms() + (h->cfg->request_timeout_ms < 5000
	                                   ? h->cfg->request_timeout_ms : 5000);

	if (!h->transaction_id[0])
		return;
	h->cb = NULL;
	if (mid_api_call(&h->api, MID_OP_CANCEL_AUTH, h->transaction_id, NULL, NULL, deadline) != 0)
		mid_api_log(&h->api, LOG_WARNING, "cancel of %s failed: %s (trace %s)",
		            h->transaction_id, h->api.error,
		            h->api.trace_id[0] ? h->api.trace_id : "-");
	else
		mid_api_log(&h->api, LOG_DEBUG, "push %s cancelled", h->transaction_id);
	h->cb = saved;
}

/* One status request.  1 when the push is finished (*res set), 0 while it
 * is pending or the request failed in a way worth retrying. */
static int poll_once(mid_handle *h, mid_result *res, int *transient)
{
	mid_auth_state st;
	char err[200];

	if (mid_api_call(&h->api, MID_OP_AUTH_STATE, h->transaction_id, NULL, NULL,
	                 h->deadline_ms) != 0) {
		note_trace(h);
		if (h->api.status == 404) {
			snprintf(h->error, sizeof(h->error), "get authentication state: transaction %s "
			         "no longer exists%s%s", h->transaction_id, h->api.code[0] ? ": " : "",
			         h->api.code);
			*res = MID_EXPIRED;
			return 1;
		}
		if (h->api.fail == MID_UNAVAILABLE) {
			/* A blip: keep polling until the deadline.  A request cut
			 * short by our own deadline says nothing about the service. */
			if (mid_now_ms() < h->deadline_ms - 20) {
				api_fail(h);
				(*transient)++;
			}
			return 0;
		}
		*res = api_fail(h);
		return 1;
	}
	note_trace(h);
	if (mid_parse_auth(h->api.resp.body.data, h->api.resp.body.len, &st, err, sizeof(err)) != 0) {
		mid_api_garbage(&h->api, MID_OP_AUTH_STATE, err);
		api_fail(h);
		(*transient)++;
		return 0;
	}
	*transient = 0;
	if (st.state == MID_STATE_PENDING)
		return 0;
	if (st.state == MID_STATE_COMPLETED) {
		h->error[0] = '\0';
		*res = MID_APPROVED;
	} else {
		*res = failed_state(h, &st);
	}
	return 1;
}

static mid_result push_wait(mid_handle *h, mid_prompt_mode mode, const mid_callbacks *cb);

mid_result mid_push_wait(mid_handle *h, mid_prompt_mode mode, const mid_callbacks *cb)
{
	mid_result r = push_wait(h, mode, cb);

	guard_release(h, r);
	return r;
}

static mid_result push_wait(mid_handle *h, mid_prompt_mode mode, const mid_callbacks *cb)
{
	int transient = 0, first = 1;
	mid_result res;

	bind_callbacks(h, cb);
	if (mode == MID_PROMPT_INFO && cb && cb->info && cb->info(cb->ctx, h->message) != 0) {
		mid_push_cancel(h);
		return fail(h, MID_CANCELLED, "the conversation failed while showing the message");
	}
	if (mode == MID_PROMPT_ENTER && cb && cb->prompt) {
		mid_buf p = { 0 };
		int rc = mid_buf_printf(&p, "%s, then press Enter: ", h->message);
		if (rc == 0)
			rc = cb->prompt(cb->ctx, p.data);
		mid_buf_free(&p);
		if (rc != 0) {
			mid_push_cancel(h);
			return fail(h, MID_CANCELLED, "the conversation failed or was aborted");
		}
	}
	for (;;) {
		int64_t next = mid_now_ms() + h->cfg->poll_interval_ms;

		/* After "press Enter" look at once: the user says it is done. */
		if (!(first && mode == MID_PROMPT_ENTER)) {
			int64_t wait = next - mid_now_ms();
			if (wait > h->deadline_ms - mid_now_ms())
				wait = h->deadline_ms - mid_now_ms();
			if (wait > 0 && mid_sleep_ms((long)wait, handle_aborted, h)) {
				mid_push_cancel(h);
				return fail(h, MID_CANCELLED, "aborted while waiting for the phone");
			}
		}
		if (handle_aborted(h)) {
			mid_push_cancel(h);
			return fail(h, MID_CANCELLED, "aborted while waiting for the phone");
		}
		if (!first && mid_now_ms() >= h->deadline_ms)
			break;
		first = 0;
		if (poll_once(h, &res, &transient)) {
			if (res == MID_CANCELLED)
				mid_push_cancel(h);
			return res;
		}
		if (mid_now_ms() >= h->deadline_ms)
			break;
	}
	mid_push_cancel(h);
	if (transient)
		return MID_UNAVAILABLE;   /* h->error holds the last failure */
	snprintf(h->error, sizeof(h->error), "no answer from the phone within %ld s",
	         h->cfg->push_timeout_ms / 1000);
	return MID_EXPIRED;
}

mid_result mid_authenticate(mid_handle *h, const mid_request *req, const mid_callbacks *cb)
{
	mid_result r;
	int rc = mid_push_start(h, req, cb, &r);

	if (rc < 0)
		return r;
	if (rc > 0) {
		guard_release(h, r);
		return r;
	}
	return mid_push_wait(h, req->prompt_mode, cb);
}

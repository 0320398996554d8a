/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api.c - the Signicat MobileID REST client.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "api.h"
#include "token_cache.h"

/*
 * THE endpoint table (see shared/specs/README.md): a corrected path is a
 * one-line change here.  MID_OP_TOKEN's path is unused: token_url is a
 * configuration key of its own.
 */
static const mid_endpoint endpoints[MID_OP_COUNT] = {
	[MID_OP_TOKEN]               = { "POST",   "",                        "get access token" },
	[MID_OP_RESOLVE]             = { "POST",   "/users/resolve",          "resolve externalRef" },
	[MID_OP_GET_USER]            = { "GET",    "/users/%s",               "get user" },
	[MID_OP_CREATE_USER]         = { "POST",   "/users",                  "create user" },
	[MID_OP_UPDATE_USER]         = { "PATCH",  "/users/%s",               "update user" },
	[MID_OP_DELETE_USER]         = { "DELETE", "/users/%s",               "delete user" },
	[MID_OP_USER_TRANSACTIONS]   = { "GET",    "/users/%s/transactions",  "list transactions" },
	[MID_OP_LIST_DEVICES]        = { "GET",    "/devices",                "list devices" },
	[MID_OP_GET_DEVICE]          = { "GET",    "/devices/%s",             "get device" },
	[MID_OP_UPDATE_DEVICE]       = { "PATCH",  "/devices/%s",             "update device" },
	[MID_OP_DELETE_DEVICE]       = { "DELETE", "/devices/%s",             "delete device" },
	[MID_OP_START_REGISTRATION]  = { "POST",   "/registrations",          "start registration" },
	[MID_OP_REGISTRATION_STATE]  = { "GET",    "/registrations/%s",       "get registration state" },
	[MID_OP_CANCEL_REGISTRATION] = { "DELETE", "/registrations/%s",       "cancel registration" },
	[MID_OP_START_AUTH]          = { "POST",   "/authentications",        "start authentication" },
	[MID_OP_AUTH_STATE]          = { "GET",    "/authentications/%s",     "get authentication state" },
	[MID_OP_CANCEL_AUTH]         = { "DELETE", "/authentications/%s",     "cancel authentication" },
};

const mid_endpoint *mid_endpoint_of(mid_op op)
{
	return (op >= 0 && op < MID_OP_COUNT) ? &endpoints[op] : NULL;
}

/* ---- the process-wide token cache ------------------------------------------ */

static mid_token_cache tcache = MID_TOKEN_CACHE_INIT;

/* The module can be unloaded (pam_end() dlcloses it): free the cache. */
__attribute__((destructor)) static void forget_token_on_unload(void)
{
	mid_api_forget_token();
}

void mid_api_forget_token(void)
{
	mid_token_cache_forget(&tcache);
}

void mid_api_log(mid_api *a, int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!a->log || (priority == LOG_DEBUG && !a->cfg->debug))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->log(a->log_ctx, priority, line);
}

int mid_api_init(mid_api *a, const mid_config *cfg, int (*aborted)(void *), void *abort_ctx)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->http = mid_http_new_from_config(cfg, aborted, abort_ctx);
	return a->http ? 0 : -1;
}

void mid_api_cleanup(mid_api *a)
{
	mid_http_free(a->http);
	mid_http_response_free(&a->resp);
	mid_free_secret(a->token);
	a->token = NULL;
	a->http = NULL;
}

static void set_fail(mid_api *a, mid_op op, mid_result r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_fail(mid_api *a, mid_op op, mid_result r, const char *fmt, ...)
{
	char reason[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	a->fail = r;
	a->fail_op = op;
	snprintf(a->error, sizeof(a->error), "%s: %s", endpoints[op].name, reason);
}

void mid_api_garbage(mid_api *a, mid_op op, const char *reason)
{
	set_fail(a, op, MID_UNAVAILABLE, "unusable answer: %s", reason);
}

/* Classify a transport failure or a non-2xx answer of op. */
static void classify_failure(mid_api *a, mid_op op, mid_http_status hs)
{
	mid_api_error e;
	long st = a->resp.status;

	if (hs != MID_HTTP_OK) {
		set_fail(a, op, hs == MID_HTTP_ERR_ABORTED ? MID_CANCELLED :
		         hs == MID_HTTP_ERR_INTERNAL ? MID_INTERNAL_ERROR : MID_UNAVAILABLE,
		         "%s", a->resp.error);
		return;
	}
	a->status = st;
	if (mid_parse_error(a->resp.body.data, a->resp.body.len, &e) == 0) {
		snprintf(a->code, sizeof(a->code), "%s", e.code);
		if (!a->trace_id[0] && e.trace_id[0])
			snprintf(a->trace_id, sizeof(a->trace_id), "%s", e.trace_id);
	}
#define WHY(what) "%s (HTTP %ld%s%s%s%s)", what, st, a->code[0] ? ", " : "", a->code, \
	e.detail[0] ? ": " : "", e.detail
	if (st == 401 || (op == MID_OP_TOKEN && st == 400))
		set_fail(a, op, MID_CONFIG_ERROR, WHY("credentials rejected"));
	else if (st == 403)
		set_fail(a, op, MID_CONFIG_ERROR, WHY("permission denied"));
	else if (st == 400)
		set_fail(a, op, MID_INTERNAL_ERROR, WHY("request refused"));
	else if (st == 404)
		set_fail(a, op, MID_UNAVAILABLE, WHY("not found"));
	else if (st == 429)
		set_fail(a, op, MID_UNAVAILABLE, WHY("rate limited"));
	else if (st >= 500)
		set_fail(a, op, MID_UNAVAILABLE, WHY("server error"));
	else
		set_fail(a, op, MID_UNAVAILABLE, WHY("unexpected answer"));
#undef WHY
}

/* A new token into a->token (mid_token_service.fetch). */
static int fetch_token(void *ctx, int64_t deadline_ms, long *expires_in)
{
	mid_api *a = ctx;
	char *id = mid_http_escape(a->http, a->cfg->client_id);
	char *secret = mid_http_escape(a->http, a->cfg->client_secret);
	mid_buf form = { 0 };
	char err[200];
	mid_http_status hs;
	int rc = -1;

	a->token_fetches++;
	if (!id || !secret ||
	    mid_buf_printf(&form, "grant_type=client_credentials&scope=signicat-api"
	                   "&client_id=%s&client_secret=%s", id, secret) != 0) {
		set_fail(a, MID_OP_TOKEN, MID_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	hs = mid_http_request(a->http, "POST", a->cfg->token_url, NULL,
	                      "application/x-www-form-urlencoded", form.data, deadline_ms,
	                      &a->resp);
	snprintf(a->trace_id, sizeof(a->trace_id), "%s", a->resp.trace_id);
	a->status = a->resp.status;
	if (hs != MID_HTTP_OK || a->resp.status != 200) {
		classify_failure(a, MID_OP_TOKEN, hs);
		goto out;
	}
	mid_free_secret(a->token);
	a->token = NULL;
	if (mid_parse_token(a->resp.body.data, a->resp.body.len, &a->token, expires_in,
	                    err, sizeof(err)) != 0) {
		mid_api_garbage(a, MID_OP_TOKEN, err);
		goto out;
	}
	rc = 0;
out:
	mid_buf_reset(&a->resp.body);   /* it held the token */
	mid_free_secret(secret);
	free(id);
	mid_buf_free(&form);
	return rc;
}

static void token_log(void *ctx, int priority, const char *msg)
{
	mid_api_log(ctx, priority, "%s", msg);
}

static const mid_token_service signicat_token = {
	.cache = &tcache, .file_prefix = "token-",
	.token_name = "access token", .cache_name = "token cache",
	.fetch = fetch_token, .log = token_log,
};

int mid_api_token(mid_api *a, int force, int64_t deadline_ms)
{
	char key[17];

	mid_token_key(key, 2, a->cfg->token_url, a->cfg->client_id);
	return mid_token_get(&signicat_token, key, a->cfg->cache_dir, a, force, deadline_ms,
	                     &a->token);
}

int mid_api_call(mid_api *a, mid_op op, const char *id, const char *query,
                 const char *json_body, int64_t deadline_ms)
{
	const mid_endpoint *ep = &endpoints[op];
	mid_buf url = { 0 };
	char *eid = NULL;
	int rc = -1;

	a->fail = MID_APPROVED;
	a->error[0] = a->code[0] = a->trace_id[0] = '\0';
	a->status = 0;
	/* libcurl removes dot segments: "." and ".." would name another path */
	if (id && (!*id || !strcmp(id, ".") || !strcmp(id, ".."))) {
		set_fail(a, op, MID_INTERNAL_ERROR, "'%s' is not an id", id);
		return -1;
	}
	if (id && !(eid = mid_http_escape(a->http, id))) {
		set_fail(a, op, MID_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	mid_buf_printf(&url, "%s", a->cfg->api_url);
	if (url.len && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	if (eid) {
		const char *pct = strstr(ep->path, "%s");
		mid_buf_append(&url, ep->path, (size_t)(pct - ep->path));
		mid_buf_append(&url, eid, strlen(eid));
		mid_buf_append(&url, pct + 2, strlen(pct + 2));
	} else {
		mid_buf_append(&url, ep->path, strlen(ep->path));
	}
	if (query)
		mid_buf_printf(&url, "?%s", query);
	if (!url.data) {
		set_fail(a, op, MID_INTERNAL_ERROR, "out of memory");
		goto out;
	}

	for (int attempt = 0; attempt < 2; attempt++) {
		mid_http_status hs;

		if (mid_api_token(a, attempt > 0, deadline_ms) != 0)
			goto out;
		hs = mid_http_request(a->http, ep->method, url.data, a->token,
		                      json_body ? "application/json" : NULL, json_body,
		                      deadline_ms, &a->resp);
		snprintf(a->trace_id, sizeof(a->trace_id), "%s", a->resp.trace_id);
		a->status = a->resp.status;
		mid_api_log(a, LOG_DEBUG, "%s %s -> %ld in %ld ms (trace %s)", ep->method,
		            ep->name, a->resp.status, a->resp.elapsed_ms,
		            a->trace_id[0] ? a->trace_id : "-");
		if (hs == MID_HTTP_OK && a->resp.status >= 200 && a->resp.status < 300) {
			rc = 0;
			goto out;
		}
		classify_failure(a, op, hs);
		/* A refused token: refresh once and retry once. */
		if (hs != MID_HTTP_OK || a->resp.status != 401)
			goto out;
	}
out:
	free(eid);
	mid_buf_free(&url);
	return rc;
}

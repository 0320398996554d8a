/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dqe.c - DQE ID Mobile matching without OTP: the token (memory and file
 * cache: token_cache.c, as for the Signicat one), the matching call with
 * one refetch and retry on error 30, and what each outcome means for the
 * login.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dqe.h"
#include "http.h"
#include "token_cache.h"
#include "util.h"

#define FORM "application/x-www-form-urlencoded"

struct mid_dqe {
	const mid_config *cfg;
	mid_http *http;
	mid_http_response resp;
	char *token;
	void (*log)(void *ctx, int priority, const char *msg);
	void *log_ctx;
	int (*aborted)(void *ctx);
	void *abort_ctx;
	int token_fetches;
	char error[600];    /* "<op>: phone <masked>: <why>" */
	char why[480];      /* what went wrong, without the operation */
	char trace_id[80];
	char op[40];        /* the failed operation */
};

/* ---- the process-wide token cache -------------------------------------------- */

static mid_token_cache tcache = MID_TOKEN_CACHE_INIT;

__attribute__((destructor)) static void forget_token_on_unload(void)
{
	mid_dqe_forget_token();
}

void mid_dqe_forget_token(void)
{
	mid_token_cache_forget(&tcache);
}

/* ---- the handle ------------------------------------------------------------------- */

mid_dqe *mid_dqe_new(const mid_config *cfg, int (*aborted)(void *), void *abort_ctx)
{
	mid_dqe *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = cfg;
	d->aborted = aborted;
	d->abort_ctx = abort_ctx;
	if (!(d->http = mid_http_new_from_config(cfg, aborted, abort_ctx))) {
		free(d);
		return NULL;
	}
	return d;
}

void mid_dqe_free(mid_dqe *d)
{
	if (!d)
		return;
	mid_http_free(d->http);
	mid_http_response_free(&d->resp);
	mid_free_secret(d->token);
	free(d);
}

void mid_dqe_set_log(mid_dqe *d, void (*log)(void *ctx, int priority, const char *msg),
                     void *ctx)
{
	d->log = log;
	d->log_ctx = ctx;
}

const char *mid_dqe_error(const mid_dqe *d) { return d->error; }
const char *mid_dqe_trace_id(const mid_dqe *d) { return d->trace_id; }
int mid_dqe_token_fetches(const mid_dqe *d) { return d->token_fetches; }

long mid_dqe_requests(const mid_dqe *d)
{
	mid_http_stats st;

	mid_http_get_stats(d->http, &st);
	return st.requests;
}

static void dlog(mid_dqe *d, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dlog(mid_dqe *d, int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!d->log || (priority == LOG_DEBUG && !d->cfg->debug))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->log(d->log_ctx, priority, line);
}

static void set_error(mid_dqe *d, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(mid_dqe *d, const char *op, const char *fmt, ...)
{
	va_list ap;

	snprintf(d->op, sizeof(d->op), "%s", op);
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	snprintf(d->error, sizeof(d->error), "%s: %s", d->op, d->why);
}

/* The message for the caller, once the phone number is known. */
static void compose_error(mid_dqe *d, const char *masked)
{
	if (masked && *masked)
		snprintf(d->error, sizeof(d->error), "%s: phone %s: %s", d->op, masked, d->why);
	else
		snprintf(d->error, sizeof(d->error), "%s: %s", d->op, d->why);
}

static int is_aborted(mid_dqe *d)
{
	return d->aborted && d->aborted(d->abort_ctx);
}

static int url_of(mid_dqe *d, const char *path, mid_buf *url)
{
	return mid_buf_printf(url, "https://%s%s", d->cfg->dqe_server, path);
}

/* Append "&name=value" (escaped) to a form. */
static int form_add(mid_dqe *d, mid_buf *form, const char *name, const char *value)
{
	char *e = mid_http_escape(d->http, value ? value : "");
	int rc;

	if (!e)
		return -1;
	rc = mid_buf_printf(form, "%s%s=%s", form->len ? "&" : "", name, e);
	mid_free_secret(e);
	return rc;
}

/* A failed exchange: transport error, an HTTP status without a DQE body,
 * or a body we cannot use.  Returns the outcome. */
static mid_dqe_outcome transport_or_status(mid_dqe *d, const char *op, mid_http_status hs,
                                           const char *why)
{
	long st = d->resp.status;

	if (hs != MID_HTTP_OK) {
		set_error(d, op, "%s", d->resp.error);
		return hs == MID_HTTP_ERR_INTERNAL ? MID_DQE_INTERNAL : MID_DQE_OPERATOR;
	}
	if (st == 401 || st == 403) {
		set_error(d, op, "credentials refused (HTTP %ld)", st);
		return MID_DQE_CONFIG;
	}
	if (st >= 200 && st < 300)
		set_error(d, op, "unusable answer: %s", why);
	else
		set_error(d, op, "HTTP %ld", st);
	return MID_DQE_OPERATOR;
}

/* POST form to url for op: the answer in d->resp, its trace id in
 * d->trace_id, *hs the transport's result.  0, or -1 with *o set when no
 * answer came. */
static int post_form(mid_dqe *d, const char *op, const char *url, const char *form,
                     int64_t deadline_ms, mid_http_status *hs, mid_dqe_outcome *o)
{
	*hs = mid_http_request(d->http, "POST", url, NULL, FORM, form, deadline_ms, &d->resp);
	snprintf(d->trace_id, sizeof(d->trace_id), "%s", d->resp.trace_id);
	dlog(d, LOG_DEBUG, "POST %s -> %ld in %ld ms (trace %s)", op, d->resp.status,
	     d->resp.elapsed_ms, d->trace_id[0] ? d->trace_id : "-");
	if (*hs != MID_HTTP_OK) {
		*o = transport_or_status(d, op, *hs, NULL);
		return -1;
	}
	return 0;
}

static mid_dqe_outcome error_id_outcome(mid_dqe *d, const char *op, const mid_dqe_err *e)
{
	mid_dqe_outcome o = mid_dqe_error_outcome(e->id);

	set_error(d, op, "DQE error %s '%s' (%s; HTTP %ld)", e->id[0] ? e->id : "-",
	          e->type[0] ? e->type : mid_dqe_error_text(e->id), mid_dqe_outcome_name(o),
	          d->resp.status);
	return o;
}

/* ---- the token ---------------------------------------------------------------------- */

static mid_dqe_outcome fetch_token(mid_dqe *d, int64_t deadline_ms, long *expires_in)
{
	static const char op[] = "get DQE token";
	mid_buf url = { 0 }, form = { 0 };
	mid_dqe_err e;
	mid_http_status hs;
	mid_dqe_outcome o;
	char err[200] = "";
	int rc;

	d->token_fetches++;
	if (url_of(d, MID_DQE_TOKEN_PATH, &url) != 0 ||
	    form_add(d, &form, "licence", d->cfg->dqe_licence) != 0 ||
	    form_add(d, &form, "client_secret", d->cfg->dqe_secret) != 0 ||
	    form_add(d, &form, "grant_type", "client_idmobile") != 0) {
		set_error(d, op, "out of memory");
		o = MID_DQE_INTERNAL;
		goto out;
	}
	if (post_form(d, op, url.data, form.data, deadline_ms, &hs, &o) != 0)
		goto out;
	mid_free_secret(d->token);
	d->token = NULL;
	rc = mid_dqe_parse_token(d->resp.body.data, d->resp.body.len, &d->token, expires_in, &e,
	                         err, sizeof(err));
	if (rc == 1) {
		o = error_id_outcome(d, op, &e);
		/* "Token expired" while asking for a token: the service misbehaves. */
		if (o == MID_DQE_TOKEN_EXPIRED || o == MID_DQE_DENY)
			o = MID_DQE_OPERATOR;
	} else if (rc != 0 || d->resp.status < 200 || d->resp.status >= 300) {
		mid_free_secret(d->token);
		d->token = NULL;
		o = transport_or_status(d, op, hs, err);
	} else {
		o = MID_DQE_PASS;
	}
out:
	mid_buf_reset(&d->resp.body);   /* it held the token */
	mid_buf_free(&form);            /* wipes licence and secret */
	mid_buf_free(&url);
	return o;
}

static int fetch_token_cb(void *ctx, int64_t deadline_ms, long *expires_in)
{
	return (int)fetch_token(ctx, deadline_ms, expires_in);
}

static void token_log(void *ctx, int priority, const char *msg)
{
	dlog(ctx, priority, "%s", msg);
}

static const mid_token_service dqe_token = {
	.cache = &tcache, .file_prefix = "dqe-token-",
	.token_name = "DQE token", .cache_name = "DQE token cache",
	.fetch = fetch_token_cb, .log = token_log,
};

/* Make sure d->token holds a usable token (force: a new one). */
static mid_dqe_outcome get_token(mid_dqe *d, int force, int64_t deadline_ms)
{
	char key[17];

	mid_token_key(key, 3, d->cfg->dqe_server, d->cfg->dqe_licence, d->cfg->dqe_partner_name);
	return (mid_dqe_outcome)mid_token_get(&dqe_token, key, d->cfg->cache_dir, d, force,
	                                      deadline_ms, &d->token);
}

/* ---- matching ------------------------------------------------------------------------ */

static mid_dqe_outcome matching_once(mid_dqe *d, const char *number, const char *user_infos,
                                     int64_t deadline_ms, mid_dqe_scores *s)
{
	static const char op[] = "DQE matching";
	mid_buf url = { 0 }, form = { 0 };
	char mode[16], err[200] = "";
	mid_dqe_err e;
	mid_http_status hs;
	mid_dqe_outcome o;
	int rc;

	snprintf(mode, sizeof(mode), "%d", d->cfg->dqe_mode);
	if (url_of(d, MID_DQE_MATCHING_PATH, &url) != 0 ||
	    form_add(d, &form, "licence", d->cfg->dqe_licence) != 0 ||
	    form_add(d, &form, "number", number) != 0 ||
	    form_add(d, &form, "token", d->token) != 0 ||
	    form_add(d, &form, "mode", mode) != 0 ||
	    form_add(d, &form, "name", d->cfg->dqe_partner_name) != 0 ||
	    (d->cfg->dqe_code_name && *d->cfg->dqe_code_name &&
	     form_add(d, &form, "code_name", d->cfg->dqe_code_name) != 0) ||
	    form_add(d, &form, "user_infos", user_infos) != 0 ||
	    form_add(d, &form, "scope", MID_DQE_SCOPE) != 0 ||
	    (d->cfg->dqe_country && *d->cfg->dqe_country &&
	     form_add(d, &form, "country", d->cfg->dqe_country) != 0)) {
		set_error(d, op, "out of memory");
		o = MID_DQE_INTERNAL;
		goto out;
	}
	if (post_form(d, op, url.data, form.data, deadline_ms, &hs, &o) != 0)
		goto out;
	rc = mid_dqe_parse_matching(d->resp.body.data, d->resp.body.len, s, &e, err, sizeof(err));
	if (rc == 1)
		o = error_id_outcome(d, op, &e);
	else if (rc != 0 || d->resp.status < 200 || d->resp.status >= 300)
		o = transport_or_status(d, op, hs, err);
	else
		o = MID_DQE_PASS;   /* scores: judged by the caller */
out:
	mid_buf_free(&form);   /* licence, token and the personal data */
	mid_buf_free(&url);
	return o;
}

static int64_t check_deadline(const mid_dqe *d, int64_t deadline_ms)
{
	int64_t dl = mid_now_ms() + d->cfg->dqe_timeout_ms;

	return deadline_ms > 0 && deadline_ms < dl ? deadline_ms : dl;
}

/* Which judged fields have no value of ours: "birthdate email", "" if none. */
static void missing_values(const mid_config *cfg, const mid_dqe_person *p, char *out,
                           size_t outlen)
{
	out[0] = '\0';
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++) {
		mid_dqe_info f = mid_dqe_score_source((mid_dqe_score)i);
		size_t used = strlen(out);
		if (cfg->dqe_min[i] >= 0 && !*p->v[f] && used + 1 < outlen)
			snprintf(out + used, outlen - used, "%s%s", used ? " " : "",
			         mid_dqe_score_name((mid_dqe_score)i));
	}
}

mid_result mid_dqe_check(mid_dqe *d, const char *login, const char *user_body, size_t len,
                         int64_t deadline_ms)
{
	static const char op_match[] = "DQE matching";
	const mid_config *cfg = d->cfg;
	int64_t dl = check_deadline(d, deadline_ms);
	mid_dqe_person person;
	mid_dqe_scores s;
	mid_dqe_outcome o;
	char number[32], masked[40] = "", why[200], detail[400], missing[200];
	char *gecos = NULL, *infos = NULL, *num;
	const char *user = login ? login : "?";
	mid_result r;
	int rc;

	d->error[0] = d->why[0] = d->trace_id[0] = d->op[0] = '\0';
	if (mid_dqe_person_from_user(cfg, user_body, len, NULL, &person, why, sizeof(why)) != 0)
		goto bad_user;
	/* The passwd database (maybe LDAP) only when a name is missing. */
	if (cfg->dqe_gecos_fallback &&
	    (!*person.v[MID_DQE_FIRSTNAME] || !*person.v[MID_DQE_LASTNAME]) &&
	    (gecos = mid_dqe_gecos_name(login))) {
		mid_dqe_person_free(&person);
		rc = mid_dqe_person_from_user(cfg, user_body, len, gecos, &person, why, sizeof(why));
		mid_free_secret(gecos);
		if (rc != 0)
			goto bad_user;
	}
	if (person.from_gecos)
		dlog(d, LOG_DEBUG, "dqe: user=%s: %s taken from the login's GECOS field", user,
		     person.from_gecos == (1u << MID_DQE_FIRSTNAME) ? "first name" :
		     person.from_gecos == (1u << MID_DQE_LASTNAME) ? "last name" : "names");

	/* What we can tell without asking DQE. */
	if (!*person.v[MID_DQE_PHONE]) {
		set_error(d, op_match, "the MobileID user has no phone number attribute "
		          "(attr_phone = %s)", cfg->dqe_attr[MID_DQE_PHONE]);
		goto local_deny;
	}
	mid_dqe_mask_phone(person.v[MID_DQE_PHONE], masked, sizeof(masked));
	if (mid_dqe_normalize_phone(person.v[MID_DQE_PHONE], number, sizeof(number)) != 0) {
		set_error(d, op_match, "the phone attribute is not a phone number");
		goto local_deny;
	}
	mid_dqe_mask_phone(number, masked, sizeof(masked));
	missing_values(cfg, &person, missing, sizeof(missing));
	if (missing[0]) {
		set_error(d, op_match, "nothing known of the user to compare for %s (a minimum "
		          "score is set)", missing);
		goto local_deny;
	}
	/* The number we ask about is the one we compare. */
	if (!(num = strdup(number))) {
		mid_dqe_person_free(&person);
		set_error(d, op_match, "out of memory");
		return MID_INTERNAL_ERROR;
	}
	mid_free_secret(person.v[MID_DQE_PHONE]);
	person.v[MID_DQE_PHONE] = num;
	infos = mid_dqe_user_infos_json(&person);
	mid_dqe_person_free(&person);
	if (!infos) {
		set_error(d, op_match, "out of memory");
		return MID_INTERNAL_ERROR;
	}

	o = get_token(d, 0, dl);
	if (o == MID_DQE_PASS) {
		o = matching_once(d, number, infos, dl, &s);
		if (o == MID_DQE_TOKEN_EXPIRED) {
			/* Error 30: a new token, and one more try. */
			dlog(d, LOG_INFO, "dqe: user=%s operation=%s phone=%s: token refused (error 30); "
			     "fetching a new one (trace %s)", user, op_match, masked,
			     d->trace_id[0] ? d->trace_id : "-");
			o = get_token(d, 1, dl);
			if (o == MID_DQE_PASS) {
				o = matching_once(d, number, infos, dl, &s);
				if (o == MID_DQE_TOKEN_EXPIRED) {
					/* Refused twice: the service is broken. */
					size_t n = strlen(d->why);
					snprintf(d->why + n, sizeof(d->why) - n, ", again with a new token");
					o = MID_DQE_OPERATOR;
				}
			}
		}
	}
	mid_wipe(infos, strlen(infos));
	free(infos);
	mid_wipe(number, sizeof(number));

	if (o == MID_DQE_PASS) {
		if (mid_dqe_judge(cfg->dqe_min, &s, detail, sizeof(detail))) {
			dlog(d, LOG_INFO, "dqe: user=%s phone=%s matching passed: %s (trace %s)", user,
			     masked, detail, d->trace_id[0] ? d->trace_id : "-");
			return MID_APPROVED;
		}
		set_error(d, op_match, "scores below the minimum: %s", detail);
		o = MID_DQE_DENY;
	}
	compose_error(d, masked);
	if (o != MID_DQE_DENY && is_aborted(d)) {
		dlog(d, LOG_INFO, "dqe: user=%s operation=%s phone=%s: aborted", user, d->op, masked);
		return MID_CANCELLED;
	}
	switch (o) {
	case MID_DQE_DENY:
		r = MID_PHONE_UNVERIFIED;
		break;
	case MID_DQE_OPERATOR:
		r = cfg->dqe_on_error == MID_DQE_ON_ERROR_SKIP ? MID_APPROVED : MID_PHONE_UNVERIFIED;
		dlog(d, LOG_WARNING, "dqe: user=%s operation=%s phone=%s: %s (trace %s); on_error = %s",
		     user, d->op, masked, d->why, d->trace_id[0] ? d->trace_id : "-",
		     r == MID_APPROVED ? "skip_check: going on without the phone-number check"
		                       : "deny");
		return r;
	case MID_DQE_CONFIG:
		r = MID_CONFIG_ERROR;
		break;
	default:
		r = MID_INTERNAL_ERROR;
		break;
	}
	dlog(d, r == MID_PHONE_UNVERIFIED ? LOG_WARNING : LOG_ERR,
	     "dqe: user=%s operation=%s phone=%s: %s (trace %s)", user, d->op, masked, d->why,
	     d->trace_id[0] ? d->trace_id : "-");
	return r;

bad_user:
	set_error(d, op_match, "the MobileID user: %s", why);
	dlog(d, LOG_ERR, "dqe: user=%s operation=%s: %s", user, d->op, d->why);
	return MID_INTERNAL_ERROR;

local_deny:
	mid_dqe_person_free(&person);
	compose_error(d, masked);
	dlog(d, LOG_WARNING, "dqe: user=%s operation=%s phone=%s: %s (no request sent)", user,
	     d->op, masked[0] ? masked : "-", d->why);
	return MID_PHONE_UNVERIFIED;
}

mid_result mid_dqe_token_check(mid_dqe *d, int force, int64_t deadline_ms)
{
	mid_dqe_outcome o;

	d->error[0] = d->why[0] = d->trace_id[0] = d->op[0] = '\0';
	o = get_token(d, force, check_deadline(d, deadline_ms));
	switch (o) {
	case MID_DQE_PASS:
		return MID_APPROVED;
	case MID_DQE_CONFIG:
		return MID_CONFIG_ERROR;
	case MID_DQE_INTERNAL:
		return MID_INTERNAL_ERROR;
	default:
		return is_aborted(d) ? MID_CANCELLED : MID_UNAVAILABLE;
	}
}

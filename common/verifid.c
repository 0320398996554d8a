/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verifid.c - Namirial VerifID enrollments (see verifid.h and
 * /work/shared/specs/namirial-verifid-enrollment.txt).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "http.h"
#include "json_util.h"
#include "template.h"
#include "util.h"
#include "verifid.h"

#define ENROLLMENTS_PATH "/Enrollments"
#define TOKEN_HEADER "X-VerifiD-ApiToken"
#define FIELD_MAX 256     /* bytes of each person field we send */

/* ---- parsers ------------------------------------------------------------------- */

/* An enrollment answer or a remembered link: at most 1 MiB, an object. */
static json_object *parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	if (!body || !len || len > 1024 * 1024 || memchr(body, '\0', len)) {
		mid_seterr(err, errlen, "empty or not JSON text");
		return NULL;
	}
	return mid_json_parse_object(body, len, err, errlen);
}

/* 1 if the URL is printable ASCII without the characters a URL must
 * escape: no control character (C0, DEL, or C1 such as U+009B, a
 * terminal's CSI), no invalid UTF-8 or any other non-ASCII byte. */
static int url_chars_ok(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			return 0;
	return 1;
}

/* 1 if s is valid UTF-8 without control characters (C1 included). */
static int printable(const char *s)
{
	char *clean = mid_sanitize(s, 0, strlen(s));
	int ok = clean && !strcmp(clean, s);

	free(clean);
	return ok;
}

void mid_verifid_enrollment_free(mid_verifid_enrollment *e)
{
	if (!e)
		return;
	free(e->enroll_url);
	memset(e, 0, sizeof(*e));
}

int mid_parse_verifid_enrollment(const char *body, size_t len, mid_verifid_enrollment *e,
                                 char *err, size_t errlen)
{
	json_object *obj;
	const char *url, *id;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	if (!(obj = parse_object(body, len, err, errlen)))
		return -1;
	url = mid_json_str(obj, "EnrollUrl");
	id = mid_json_str(obj, "Id");
	/* The URL goes to a user's terminal: https, printable, bounded. */
	if (!url || strncmp(url, "https://", 8) != 0 || !url[8] || strlen(url) > 2048 ||
	    !url_chars_ok(url)) {
		mid_seterr(err, errlen, "no usable EnrollUrl in the enrollment");
		goto out;
	}
	if (!id || !*id || strlen(id) >= sizeof(e->id) || !printable(id)) {
		mid_seterr(err, errlen, "no usable Id in the enrollment");
		goto out;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	mid_json_clean_str(e->state, sizeof(e->state), obj, "State");
	mid_json_clean_str(e->provider, sizeof(e->provider), obj, "Provider");
	if (!(e->enroll_url = strdup(url))) {
		mid_seterr(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

int mid_parse_verifid_error(const char *body, size_t len, mid_verifid_error *e)
{
	json_object *obj;

	memset(e, 0, sizeof(*e));
	if (!(obj = parse_object(body, len, NULL, 0)))
		return -1;
	mid_json_clean_str(e->type, sizeof(e->type), obj, "Type");
	mid_json_clean_str(e->title, sizeof(e->title), obj, "Title");
	mid_json_clean_str(e->details, sizeof(e->details), obj, "Details");
	json_object_put(obj);
	return (e->title[0] || e->details[0] || e->type[0]) ? 0 : -1;
}

/* ---- the person ------------------------------------------------------------------ */

/* A copy of n bytes of s without surrounding blanks or control characters;
 * NULL when nothing is left. */
static char *trimmed_copy(const char *s, size_t n)
{
	char *raw, *clean;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n || !(raw = strndup(s, n)))
		return NULL;
	clean = mid_sanitize(raw, 0, FIELD_MAX);
	free(raw);
	if (clean && !*clean) {
		free(clean);
		clean = NULL;
	}
	return clean;
}

int mid_verifid_person_of(const mid_config *cfg, const char *user, const char *service,
                          char **email, char **first_name, char **last_name)
{
	char host[HOST_NAME_MAX + 1] = "";
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);

	*email = *first_name = *last_name = NULL;
	if (cfg->verifid_email && *cfg->verifid_email) {
		mid_tmpl_vars v = { .user = user, .service = service, .host = host };

		gethostname(host, sizeof(host) - 1);
		if (!(*email = mid_template_expand(cfg->verifid_email, &v, FIELD_MAX, 1)))
			return -1;
		if (!**email) {
			free(*email);
			*email = NULL;
		}
	}
	if (bufsize < 1024)
		bufsize = 16384;
	if (!(buf = malloc((size_t)bufsize)))
		return -1;
	if (getpwnam_r(user, &pw, buf, (size_t)bufsize, &res) == 0 && res && pw.pw_gecos) {
		const char *g = pw.pw_gecos;
		size_t n = strcspn(g, ",");
		const char *sp;

		/* The full name is the first comma-separated field. */
		while (n && g[n - 1] == ' ')
			n--;
		while (n && *g == ' ') {
			g++;
			n--;
		}
		sp = NULL;
		for (size_t i = 0; i < n; i++)
			if (g[i] == ' ')
				sp = g + i;
		if (sp) {
			*first_name = trimmed_copy(g, (size_t)(sp - g));
			*last_name = trimmed_copy(sp + 1, n - (size_t)(sp + 1 - g));
		} else if (n) {
			/* One word: a surname is what the service insists on. */
			*last_name = trimmed_copy(g, n);
		}
	}
	free(buf);
	return 0;
}

/* ---- the API call ------------------------------------------------------------------ */

/* The API token from api_token or api_token_file (a secret). */
static char *load_token(const mid_config *cfg, char *err, size_t errlen)
{
	const char *where = cfg->path ? cfg->path : "configuration";
	char line[1024];
	size_t len;
	FILE *f;
	char *tok;

	if (cfg->verifid_api_token && *cfg->verifid_api_token && cfg->verifid_api_token_file &&
	    *cfg->verifid_api_token_file) {
		mid_seterr(err, errlen, "%s: [verifid] api_token_file: set either api_token or "
		           "api_token_file, not both", where);
		return NULL;
	}
	if (cfg->verifid_api_token && *cfg->verifid_api_token) {
		if (!(tok = strdup(cfg->verifid_api_token)))
			mid_seterr(err, errlen, "out of memory");
		return tok;
	}
	if (!cfg->verifid_api_token_file || !*cfg->verifid_api_token_file) {
		mid_seterr(err, errlen, "%s: [verifid] api_token: missing (or set api_token_file)", where);
		return NULL;
	}
	if (mid_check_secret_file(cfg->verifid_api_token_file, cfg->load_flags, line,
	                          sizeof(line)) != 0) {
		mid_seterr(err, errlen, "%s: [verifid] api_token_file: %s", where, line);
		return NULL;
	}
	if (!(f = fopen(cfg->verifid_api_token_file, "re"))) {
		mid_seterr(err, errlen, "%s: [verifid] api_token_file: %s: %s", where,
		           cfg->verifid_api_token_file, strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	tok = len ? strdup(line) : NULL;
	mid_wipe(line, sizeof(line));
	if (!len)
		mid_seterr(err, errlen, "%s: [verifid] api_token_file: %s is empty", where,
		           cfg->verifid_api_token_file);
	else if (!tok)
		mid_seterr(err, errlen, "out of memory");
	return tok;
}

static json_object *request_body(const mid_config *cfg, const mid_verifid_person *p)
{
	json_object *b = json_object_new_object();

	if (!b)
		return NULL;
	json_object_object_add(b, "Profile", json_object_new_string(cfg->verifid_profile));
	json_object_object_add(b, "Language", json_object_new_string(
	                       cfg->verifid_language && *cfg->verifid_language
	                       ? cfg->verifid_language : "en"));
	json_object_object_add(b, "Email", json_object_new_string(p->email));
	json_object_object_add(b, "FirstName", json_object_new_string(p->first_name));
	json_object_object_add(b, "LastName", json_object_new_string(p->last_name));
	if (cfg->verifid_return_url && *cfg->verifid_return_url)
		json_object_object_add(b, "ReturnUrl", json_object_new_string(cfg->verifid_return_url));
	return b;
}

static int usable_field(const char *s)
{
	return s && *s && strlen(s) <= FIELD_MAX && !mid_has_ctl(s);
}

mid_result mid_verifid_create(const mid_config *cfg, const mid_verifid_person *p,
                              int (*aborted)(void *), void *abort_ctx,
                              mid_verifid_enrollment *e, char *trace_id,
                              char *err, size_t errlen)
{
	const char *where = cfg->path ? cfg->path : "configuration";
	mid_http_response resp = { 0 };
	mid_verifid_error ve;
	mid_buf url = { 0 }, hdr = { 0 };
	json_object *body = NULL;
	mid_http *http = NULL;
	mid_http_status hs;
	mid_result r = MID_INTERNAL_ERROR;
	char *token = NULL, why[200];

	memset(e, 0, sizeof(*e));
	if (trace_id)
		trace_id[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	if (!cfg->verifid_profile || !*cfg->verifid_profile) {
		mid_seterr(err, errlen, "%s: [verifid] profile: missing (the enrollment profile agreed "
		           "with Namirial)", where);
		return MID_CONFIG_ERROR;
	}
	if (!usable_field(p->email) || !strchr(p->email, '@')) {
		mid_seterr(err, errlen, "no usable e-mail address (set [verifid] email, e.g. "
		           "%%u@example.com)");
		return MID_CONFIG_ERROR;
	}
	if (!usable_field(p->first_name) || !usable_field(p->last_name)) {
		mid_seterr(err, errlen, "no first and last name (from the GECOS field of the account)");
		return MID_CONFIG_ERROR;
	}
	if (!(token = load_token(cfg, err, errlen)))
		return strstr(err ? err : "", "out of memory") ? MID_INTERNAL_ERROR : MID_CONFIG_ERROR;
	if (!(body = request_body(cfg, p)) ||
	    mid_buf_printf(&url, "%s", cfg->verifid_url) != 0) {
		mid_seterr(err, errlen, "out of memory");
		goto out;
	}
	while (url.len && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	if (mid_buf_printf(&url, "%s", ENROLLMENTS_PATH) != 0 ||
	    mid_buf_printf(&hdr, TOKEN_HEADER ": %s", token) != 0 ||
	    !(http = mid_http_new_from_config(cfg, aborted, abort_ctx))) {
		mid_seterr(err, errlen, "out of memory");
		goto out;
	}
	hs = mid_http_request_hdr(http, "PUT", url.data, NULL, hdr.data, "application/json",
	                          json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	                          mid_now_ms() + cfg->request_timeout_ms, &resp);
	if (trace_id)
		snprintf(trace_id, 80, "%s", resp.trace_id);
	if (hs != MID_HTTP_OK) {
		r = hs == MID_HTTP_ERR_ABORTED ? MID_CANCELLED
		    : hs == MID_HTTP_ERR_INTERNAL ? MID_INTERNAL_ERROR : MID_UNAVAILABLE;
		mid_seterr(err, errlen, "create VerifID enrollment: %s", resp.error);
		goto out;
	}
	if (resp.status == 200 || resp.status == 201) {
		if (mid_parse_verifid_enrollment(resp.body.data, resp.body.len, e, why,
		                                 sizeof(why)) != 0) {
			r = MID_UNAVAILABLE;
			mid_seterr(err, errlen, "create VerifID enrollment: unusable answer: %s", why);
			goto out;
		}
		r = MID_APPROVED;
		goto out;
	}
	if (mid_parse_verifid_error(resp.body.data, resp.body.len, &ve) != 0)
		memset(&ve, 0, sizeof(ve));
#define VE_FMT "%s%s%s%s%s"
#define VE_ARGS ve.title[0] || ve.details[0] ? ": " : "", ve.title, \
	ve.title[0] && ve.details[0] ? ": " : "", ve.details, ""
	switch (resp.status) {
	case 400:
		r = MID_INTERNAL_ERROR;
		mid_seterr(err, errlen, "VerifID refused the enrollment request (HTTP 400" VE_FMT
		           "); check [verifid] profile and language and the user's e-mail and name",
		           VE_ARGS);
		break;
	case 401:
	case 403:
		r = MID_CONFIG_ERROR;
		mid_seterr(err, errlen, "VerifID rejected the API token (HTTP %ld" VE_FMT "); check "
		           "[verifid] api_token or api_token_file", resp.status, VE_ARGS);
		break;
	case 503:
		r = MID_UNAVAILABLE;
		mid_seterr(err, errlen, "VerifID is unavailable (HTTP 503" VE_FMT "); try again later",
		           VE_ARGS);
		break;
	default:
		r = MID_UNAVAILABLE;
		mid_seterr(err, errlen, "VerifID answered HTTP %ld" VE_FMT "; check [verifid] url",
		           resp.status, VE_ARGS);
		break;
	}
#undef VE_FMT
#undef VE_ARGS
out:
	mid_free_secret(token);
	mid_buf_free(&hdr);    /* wipes: it held the token */
	mid_buf_free(&url);
	json_object_put(body);
	mid_http_response_free(&resp);
	mid_http_free(http);
	return r;
}

int mid_verifid_check_config(const mid_config *cfg, char *err, size_t errlen)
{
	const char *where = cfg->path ? cfg->path : "configuration";
	char *token;

	if (!cfg->verifid_profile || !*cfg->verifid_profile) {
		mid_seterr(err, errlen, "%s: [verifid] profile: missing (the enrollment profile agreed "
		           "with Namirial)", where);
		return -1;
	}
	if (!(token = load_token(cfg, err, errlen)))
		return -1;
	mid_free_secret(token);
	if (!cfg->verifid_email || !*cfg->verifid_email) {
		mid_seterr(err, errlen, "%s: [verifid] email: missing (a template for the users' e-mail "
		           "addresses, e.g. %%u@example.com)", where);
		return -1;
	}
	return 0;
}

/* ---- rate-limited links for unenrolled logins ------------------------------------------ */

static void link_file_name(const mid_config *cfg, const char *user, char name[64])
{
	mid_buf b = { 0 };
	char key[17];

	mid_buf_printf(&b, "%s\n%s\n%s", cfg->verifid_url, cfg->verifid_profile, user);
	mid_hash_hex(b.data ? b.data : "", key);
	mid_buf_free(&b);
	snprintf(name, 64, "enroll-%s.json", key);
}

/* A link created for user less than link_interval ago, or NULL. */
static char *remembered_link(const mid_config *cfg, const char *user, const char *name)
{
	mid_buf b = { 0 };
	json_object *obj = NULL, *v;
	char err[300], *url = NULL;
	int64_t created, now = mid_wall_ms();
	const char *u, *s;

	if (mid_cache_read(cfg->cache_dir, name, &b, err, sizeof(err)) != 0)
		goto out;
	if (!(obj = parse_object(b.data, b.len, NULL, 0)))
		goto out;
	u = mid_json_str(obj, "user");
	s = mid_json_str(obj, "url");
	if (!u || strcmp(u, user) != 0 || !s || strncmp(s, "https://", 8) != 0 || mid_has_ctl(s) ||
	    !json_object_object_get_ex(obj, "created_ms", &v))
		goto out;
	created = json_object_get_int64(v);
	/* A clock set back must not extend the interval without end. */
	if (created > now || now - created >= cfg->verifid_link_interval_ms)
		goto out;
	url = strdup(s);
out:
	json_object_put(obj);
	mid_buf_free(&b);
	return url;
}

mid_result mid_enroll_link(const mid_config *cfg, const char *user, const char *service,
                           int (*aborted)(void *), void *abort_ctx, char **url, int *reused,
                           char *trace_id, char *err, size_t errlen)
{
	char *email = NULL, *first = NULL, *last = NULL, name[64], why[300];
	mid_verifid_enrollment e;
	mid_verifid_person p;
	json_object *rec = NULL;
	const char *s;
	mid_result r;

	*url = NULL;
	*reused = 0;
	if (trace_id)
		trace_id[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	if (!user || !*user) {
		mid_seterr(err, errlen, "no user name");
		return MID_INTERNAL_ERROR;
	}
	{
		/* Only clean names: never a link for a look-alike of another user. */
		char *clean = mid_sanitize(user, 0, strlen(user));
		int bad = !clean || strcmp(clean, user) != 0;

		free(clean);
		if (bad) {
			mid_seterr(err, errlen, "the user name holds control characters or invalid UTF-8");
			return MID_USER_UNKNOWN;
		}
	}
	if (!cfg->cache_dir || !*cfg->cache_dir) {
		mid_seterr(err, errlen, "%s: [signicat] cache_dir: needed for the enrollment link rate "
		           "limit of unenrolled = enroll", cfg->path ? cfg->path : "configuration");
		return MID_CONFIG_ERROR;
	}
	if (!cfg->verifid_profile || !*cfg->verifid_profile) {
		mid_seterr(err, errlen, "%s: [verifid] profile: missing (needed with unenrolled = enroll)",
		           cfg->path ? cfg->path : "configuration");
		return MID_CONFIG_ERROR;
	}
	link_file_name(cfg, user, name);
	if ((*url = remembered_link(cfg, user, name))) {
		*reused = 1;
		return MID_APPROVED;
	}
	/* Check now that the link can be remembered, before creating one. */
	if (mid_cache_dir_check(cfg->cache_dir, 1, why, sizeof(why)) != 0) {
		mid_seterr(err, errlen, "enrollment link state: %s", why);
		return MID_CONFIG_ERROR;
	}
	if (mid_verifid_person_of(cfg, user, service, &email, &first, &last) != 0) {
		mid_seterr(err, errlen, "out of memory");
		r = MID_INTERNAL_ERROR;
		goto out;
	}
	p = (mid_verifid_person){ .email = email, .first_name = first, .last_name = last };
	r = mid_verifid_create(cfg, &p, aborted, abort_ctx, &e, trace_id, err, errlen);
	if (r != MID_APPROVED)
		goto out;
	rec = json_object_new_object();
	if (rec) {
		json_object_object_add(rec, "user", json_object_new_string(user));
		json_object_object_add(rec, "url", json_object_new_string(e.enroll_url));
		json_object_object_add(rec, "id", json_object_new_string(e.id));
		json_object_object_add(rec, "created_ms", json_object_new_int64(mid_wall_ms()));
	}
	s = rec ? json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN) : NULL;
	/* The link exists now: hand it out even if it cannot be remembered
	 * (err then holds a warning for the log). */
	if (!s || mid_cache_write(cfg->cache_dir, name, s, strlen(s), why, sizeof(why)) != 0)
		mid_seterr(err, errlen, "enrollment link not remembered (no rate limit): %s",
		           s ? why : "out of memory");
	*url = e.enroll_url;
	e.enroll_url = NULL;
	mid_verifid_enrollment_free(&e);
out:
	json_object_put(rec);
	free(email);
	free(first);
	free(last);
	return r;
}

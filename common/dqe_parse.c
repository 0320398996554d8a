/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dqe_parse.c - DQE ID Mobile: response parsers, the error-id table, score
 * judging and the person's data (pure functions, no network).
 */
#include "config.h"

#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dqe.h"
#include "json_util.h"
#include "util.h"

#define VALUE_MAX 256   /* bytes of one user_infos value */

/* ---- names ------------------------------------------------------------------------ */

/* In the order of the vendor's user_infos table. */
static const char *const info_keys[MID_DQE_INFO_COUNT] = {
	[MID_DQE_STREET_ADDRESS] = "street_address",
	[MID_DQE_POSTAL_CODE] = "postal_code",
	[MID_DQE_LOCALITY] = "locality",
	[MID_DQE_COUNTRY] = "country",
	[MID_DQE_BIRTHDATE] = "birthdate",
	[MID_DQE_EMAIL] = "email",
	[MID_DQE_LASTNAME] = "lastname",
	[MID_DQE_MAIDEN_NAME] = "maiden_name",
	[MID_DQE_GENDER] = "gender",
	[MID_DQE_FIRSTNAME] = "firstname",
	[MID_DQE_PHONE] = "phone",
	[MID_DQE_NUMBER] = "number",
};

static const struct {
	const char *name;      /* for logs */
	const char *key;       /* member of the answer (of "address" when in_address) */
	int in_address;
	mid_dqe_info source;   /* the user_infos value it compares */
} scores[MID_DQE_SCORE_COUNT] = {
	[MID_DQE_S_FAMILY_NAME] = { "family_name", "family_name", 0, MID_DQE_LASTNAME },
	[MID_DQE_S_GIVEN_NAME] = { "given_name", "given_name", 0, MID_DQE_FIRSTNAME },
	[MID_DQE_S_BIRTHDATE] = { "birthdate", "birthdate", 0, MID_DQE_BIRTHDATE },
	[MID_DQE_S_EMAIL] = { "email", "email", 0, MID_DQE_EMAIL },
	[MID_DQE_S_GENDER] = { "gender", "gender", 0, MID_DQE_GENDER },
	[MID_DQE_S_ADDRESS_COUNTRY] = { "address.country", "country", 1, MID_DQE_COUNTRY },
	[MID_DQE_S_ADDRESS_POSTAL_CODE] = { "address.postal_code", "postal_code", 1,
	                                    MID_DQE_POSTAL_CODE },
	[MID_DQE_S_ADDRESS_STREET] = { "address.street_address", "street_address", 1,
	                               MID_DQE_STREET_ADDRESS },
	[MID_DQE_S_ADDRESS_LOCALITY] = { "address.locality", "locality", 1, MID_DQE_LOCALITY },
};

const char *mid_dqe_info_key(mid_dqe_info f)
{
	return (f >= 0 && f < MID_DQE_INFO_COUNT) ? info_keys[f] : "?";
}

const char *mid_dqe_score_name(mid_dqe_score s)
{
	return (s >= 0 && s < MID_DQE_SCORE_COUNT) ? scores[s].name : "?";
}

mid_dqe_info mid_dqe_score_source(mid_dqe_score s)
{
	return (s >= 0 && s < MID_DQE_SCORE_COUNT) ? scores[s].source : MID_DQE_INFO_COUNT;
}

/* ---- error ids --------------------------------------------------------------------- */

/* Every id of the vendor's table. */
static const struct {
	const char *id;
	mid_dqe_outcome outcome;
	const char *text;
} errors[] = {
	{ "01", MID_DQE_INTERNAL, "invalid request" },
	{ "02", MID_DQE_CONFIG, "invalid licence key" },
	{ "04", MID_DQE_CONFIG, "invalid scope" },
	{ "05", MID_DQE_INTERNAL, "missing or empty parameter (user_infos) for this scope" },
	{ "06", MID_DQE_INTERNAL, "bad parameter format (user_infos) is not a valid JSON" },
	{ "07", MID_DQE_INTERNAL, "missing mandatory key in user informations (phone)" },
	{ "09", MID_DQE_OPERATOR, "ineligible phone number" },
	{ "10", MID_DQE_DENY, "invalid phone number" },
	{ "11", MID_DQE_INTERNAL, "phone number is empty" },
	{ "12", MID_DQE_DENY, "phone check failed" },
	{ "13", MID_DQE_OPERATOR, "operator not found" },
	{ "14", MID_DQE_OPERATOR, "operator not authorized for this licence" },
	{ "15", MID_DQE_OPERATOR, "operator not supported yet" },
	{ "16", MID_DQE_OPERATOR, "operator unreachable" },
	{ "17", MID_DQE_OPERATOR, "scope not supported by this operator yet" },
	{ "30", MID_DQE_TOKEN_EXPIRED, "invalid or expired token" },
};

#define NERRORS (sizeof(errors) / sizeof(errors[0]))

mid_dqe_outcome mid_dqe_error_outcome(const char *error_id)
{
	for (size_t i = 0; error_id && i < NERRORS; i++)
		if (!strcmp(errors[i].id, error_id))
			return errors[i].outcome;
	/* An id the vendor did not document: the service misbehaves. */
	return MID_DQE_OPERATOR;
}

const char *mid_dqe_error_text(const char *error_id)
{
	for (size_t i = 0; error_id && i < NERRORS; i++)
		if (!strcmp(errors[i].id, error_id))
			return errors[i].text;
	return "unknown error id";
}

const char *mid_dqe_outcome_name(mid_dqe_outcome o)
{
	switch (o) {
	case MID_DQE_PASS: return "pass";
	case MID_DQE_DENY: return "deny";
	case MID_DQE_OPERATOR: return "operator limit or service failure";
	case MID_DQE_TOKEN_EXPIRED: return "token expired";
	case MID_DQE_CONFIG: return "configuration error";
	case MID_DQE_INTERNAL: return "internal error";
	}
	return "unknown";
}

/* ---- JSON ---------------------------------------------------------------------------- */

/* 1 and e filled when obj is a DQE error body. */
static int dqe_error_body(json_object *obj, mid_dqe_err *e)
{
	json_object *v;
	const char *status = mid_json_str(obj, "status"), *type = mid_json_str(obj, "error_type");
	int has_id = json_object_object_get_ex(obj, "error_id", &v);

	memset(e, 0, sizeof(*e));
	if (!(status && !strcasecmp(status, "error")) && !has_id)
		return 0;
	if (has_id && json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);
		if (n >= 0 && n < 1000)
			snprintf(e->id, sizeof(e->id), "%02d", (int)n);
	} else if (has_id && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		size_t n = strlen(s);
		/* Only digits reach logs and the table: nothing to inject. */
		if (n > 0 && n < sizeof(e->id) && strspn(s, "0123456789") == n)
			memcpy(e->id, s, n + 1);
	}
	mid_json_copy_clean(e->type, sizeof(e->type), type);
	return 1;
}

/* ---- parsers --------------------------------------------------------------------------- */

int mid_dqe_parse_token(const char *body, size_t len, char **token, long *expires_in,
                        mid_dqe_err *e, char *err, size_t errlen)
{
	json_object *obj = mid_json_parse_object(body, len, err, errlen), *v;
	const char *at;
	int rc = -1;

	*token = NULL;
	*expires_in = 0;
	memset(e, 0, sizeof(*e));
	if (!obj)
		return -1;
	if (dqe_error_body(obj, e)) {
		rc = 1;
		goto out;
	}
	if (!(at = mid_json_bearer_token(obj, err, errlen)))
		goto out;
	if (json_object_object_get_ex(obj, "expires_in", &v)) {
		if (json_object_is_type(v, json_type_int)) {
			*expires_in = (long)json_object_get_int64(v);
		} else if (json_object_is_type(v, json_type_string)) {
			/* DQE sends "300": a string. */
			const char *s = json_object_get_string(v);
			char *end;
			long n = strtol(s, &end, 10);
			if (*s >= '0' && *s <= '9' && !*end)
				*expires_in = n;
		} else {
			mid_seterr(err, errlen, "expires_in is neither a number nor a string");
			goto out;
		}
	}
	if (mid_json_take_token(at, token, expires_in, err, errlen) == 0)
		rc = 0;
out:
	mid_json_wipe_member(obj, "access_token");
	mid_json_wipe_member(obj, "refresh_token");
	json_object_put(obj);
	return rc;
}

/* One score: 0 and *out (MID_DQE_NO_SCORE for "" or null), -1 if unusable. */
static int score_value(json_object *v, double *out)
{
	double d;

	*out = MID_DQE_NO_SCORE;
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
		d = json_object_get_double(v);
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		size_t n = strspn(s, " ");
		if (!s[n])
			return 0;   /* "" (or blanks): DQE did not score it */
		if (!strchr("0123456789.", s[n]))
			return -1;
		d = strtod(s + n, &end);
		if (end == s + n || end[strspn(end, " ")])
			return -1;
	} else {
		return -1;
	}
	if (!isfinite(d) || d < 0 || d > 1)
		return -1;
	*out = d;
	return 0;
}

int mid_dqe_parse_matching(const char *body, size_t len, mid_dqe_scores *s,
                           mid_dqe_err *e, char *err, size_t errlen)
{
	json_object *obj = mid_json_parse_object(body, len, err, errlen), *addr = NULL, *v;
	int rc = -1, seen = 0;

	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
		s->v[i] = MID_DQE_NO_SCORE;
	memset(e, 0, sizeof(*e));
	if (!obj)
		return -1;
	if (dqe_error_body(obj, e)) {
		rc = 1;
		goto out;
	}
	if (json_object_object_get_ex(obj, "address", &addr)) {
		seen++;
		if (json_object_is_type(addr, json_type_null) ||
		    (json_object_is_type(addr, json_type_string) && !*json_object_get_string(addr))) {
			addr = NULL;
		} else if (!json_object_is_type(addr, json_type_object)) {
			mid_seterr(err, errlen, "address is not an object");
			goto out;
		}
	}
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++) {
		json_object *from = scores[i].in_address ? addr : obj;
		v = NULL;
		if (!from || !json_object_object_get_ex(from, scores[i].key, &v))
			continue;
		seen++;
		if (score_value(v, &s->v[i]) != 0) {
			mid_seterr(err, errlen, "score %s is not a number from 0 to 1 or \"\"",
			           scores[i].name);
			goto out;
		}
	}
	if (!seen) {
		mid_seterr(err, errlen, "neither scores nor an error");
		goto out;
	}
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

/* ---- judging ---------------------------------------------------------------------------- */

static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

int mid_dqe_judge(const double min[MID_DQE_SCORE_COUNT], const mid_dqe_scores *s,
                  char *detail, size_t detaillen)
{
	int pass = 1;

	if (detail && detaillen)
		detail[0] = '\0';
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++) {
		int judged = min[i] >= 0, scored = s->v[i] >= 0;
		/* Scores and minimums are read from short decimals: allow for the
		 * last bit of the binary fraction. */
		int ok = scored && s->v[i] + 1e-9 >= min[i];
		if (judged && !ok)
			pass = 0;
		if (!detail || !detaillen || (!judged && !scored))
			continue;
		append(detail, detaillen, "%s%s=", detail[0] ? " " : "", scores[i].name);
		if (scored)
			append(detail, detaillen, "%.2f", s->v[i]);
		else
			append(detail, detaillen, "none");
		if (judged)
			append(detail, detaillen, "%s%.2f", ok ? ">=" : "<", min[i]);
	}
	if (detail && detaillen && !detail[0])
		snprintf(detail, detaillen, "no scores");
	return pass;
}

/* ---- the person ------------------------------------------------------------------------- */

int mid_dqe_normalize_phone(const char *in, char *out, size_t outlen)
{
	size_t o = 0, digits = 0;

	if (!in || !out || outlen < 2)
		return -1;
	for (const char *p = in; *p; p++) {
		if (strchr(" \t.-()/", *p))
			continue;
		if (*p == '+' && o == 0) {
			out[o++] = '+';
		} else if (*p >= '0' && *p <= '9') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p;
			digits++;
		} else {
			return -1;
		}
	}
	out[o] = '\0';
	return digits >= 6 && digits <= 20 ? 0 : -1;
}

void mid_dqe_mask_phone(const char *phone, char *out, size_t outlen)
{
	size_t len, head, tail, o = 0;

	if (!out || !outlen)
		return;
	out[0] = '\0';
	if (!phone)
		return;
	len = strlen(phone);
	head = len >= 8 ? 3 : 0;
	tail = len >= 3 ? 2 : 0;
	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		char c = phone[i];
		/* Only what normalisation lets through is shown as is. */
		if ((i < head || i >= len - tail) && ((c >= '0' && c <= '9') || c == '+'))
			out[o++] = c;
		else
			out[o++] = '*';
	}
	out[o] = '\0';
}

static char *trimmed(const char *s, size_t n)
{
	char *raw, *r;
	size_t skip, len;

	if (!(raw = malloc(n + 1)))
		return NULL;
	memcpy(raw, s, n);
	raw[n] = '\0';
	/* Valid UTF-8 without control characters: DQE refuses a user_infos
	 * that is not JSON text (error 06), and a Latin-1 GECOS name or a byte
	 * json-c let through would make it so.  Then without surrounding
	 * blanks, at most VALUE_MAX bytes. */
	r = mid_sanitize(raw, 0, n);
	mid_free_secret(raw);
	if (!r)
		return NULL;
	skip = strspn(r, " \t");
	len = strlen(r + skip);
	memmove(r, r + skip, len + 1);
	mid_utf8_truncate(r, VALUE_MAX);
	len = strlen(r);
	while (len && strchr(" \t", r[len - 1]))
		r[--len] = '\0';
	return r;
}

int mid_dqe_split_name(const char *full, char **given, char **family)
{
	const char *p = full ? full : "";
	size_t n = strcspn(p, ",");   /* GECOS: the full name is the first field */
	size_t first;

	*given = *family = NULL;
	while (n && strchr(" \t", *p)) {
		p++;
		n--;
	}
	while (n && strchr(" \t", p[n - 1]))
		n--;
	first = strcspn(p, " \t");
	if (first >= n) {
		/* One word (or none): take it for the family name. */
		*given = strdup("");
		*family = trimmed(p, n);
	} else {
		*given = trimmed(p, first);
		*family = trimmed(p + first, n - first);
	}
	if (!*given || !*family) {
		free(*given);
		free(*family);
		*given = *family = NULL;
		return -1;
	}
	return 0;
}

/* The first non-empty string attribute among the comma-separated names. */
static const char *attr_value(json_object *attrs, const char *names)
{
	char name[130];

	if (!attrs || !names)
		return NULL;
	for (const char *p = names; *p;) {
		size_t n;
		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n && n < sizeof(name)) {
			const char *v;
			memcpy(name, p, n);
			name[n] = '\0';
			v = mid_json_str(attrs, name);
			if (v && v[strspn(v, " \t")])
				return v;
		}
		p += n;
	}
	return NULL;
}

static int set_value(mid_dqe_person *p, mid_dqe_info f, const char *v)
{
	char *copy = trimmed(v, strlen(v));

	if (!copy)
		return -1;
	mid_free_secret(p->v[f]);
	p->v[f] = copy;
	return 0;
}

static int empty(const mid_dqe_person *p, mid_dqe_info f)
{
	return !p->v[f] || !p->v[f][0];
}

/* Fill missing first/last names from a "Given Family" full name. */
static int names_from(mid_dqe_person *p, const char *full, unsigned gecos_bit)
{
	char *given, *family;
	int rc = 0;

	if (!full || (!empty(p, MID_DQE_FIRSTNAME) && !empty(p, MID_DQE_LASTNAME)))
		return 0;
	if (mid_dqe_split_name(full, &given, &family) != 0)
		return -1;
	if (empty(p, MID_DQE_FIRSTNAME) && *given) {
		rc |= set_value(p, MID_DQE_FIRSTNAME, given);
		p->from_gecos |= gecos_bit ? 1u << MID_DQE_FIRSTNAME : 0;
	}
	if (empty(p, MID_DQE_LASTNAME) && *family) {
		rc |= set_value(p, MID_DQE_LASTNAME, family);
		p->from_gecos |= gecos_bit ? 1u << MID_DQE_LASTNAME : 0;
	}
	mid_free_secret(given);
	mid_free_secret(family);
	return rc;
}

int mid_dqe_person_from_user(const mid_config *cfg, const char *body, size_t len,
                             const char *gecos, mid_dqe_person *p, char *err, size_t errlen)
{
	json_object *obj = NULL, *attrs = NULL;

	memset(p, 0, sizeof(*p));
	if (body) {
		if (!(obj = mid_json_parse_object(body, len, err, errlen)))
			return -1;
		if (json_object_object_get_ex(obj, "attributes", &attrs) &&
		    !json_object_is_type(attrs, json_type_object))
			attrs = NULL;   /* no usable attributes: GECOS may still help */
	}
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++) {
		const char *v = attr_value(attrs, cfg->dqe_attr[f]);
		if (v && set_value(p, (mid_dqe_info)f, v) != 0)
			goto oom;
	}
	if (names_from(p, attr_value(attrs, cfg->dqe_attr_fullname), 0) != 0 ||
	    (cfg->dqe_gecos_fallback && names_from(p, gecos, 1) != 0))
		goto oom;
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++)
		if (!p->v[f] && !(p->v[f] = strdup("")))
			goto oom;
	json_object_put(obj);
	return 0;
oom:
	mid_seterr(err, errlen, "out of memory");
	json_object_put(obj);
	mid_dqe_person_free(p);
	return -1;
}

void mid_dqe_person_free(mid_dqe_person *p)
{
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++) {
		mid_free_secret(p->v[f]);
		p->v[f] = NULL;
	}
	p->from_gecos = 0;
}

char *mid_dqe_user_infos_json(const mid_dqe_person *p)
{
	json_object *obj = json_object_new_object();
	const char *s;
	char *r = NULL;

	if (!obj)
		return NULL;
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++) {
		json_object *v = json_object_new_string(p->v[f] ? p->v[f] : "");
		if (!v || json_object_object_add(obj, info_keys[f], v) != 0) {
			json_object_put(v);
			goto out;
		}
	}
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		r = strdup(s);
out:
	/* The tree and its printed copy hold personal data. */
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		mid_wipe((char *)s, strlen(s));
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++)
		mid_json_wipe_member(obj, info_keys[f]);
	json_object_put(obj);
	return r;
}

char *mid_dqe_gecos_name(const char *login)
{
	struct passwd pw, *res = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *buf, *name = NULL;
	size_t n;
	const char *g;

	if (!login || !*login)
		return NULL;
	if (sz < 1024 || sz > 1 << 20)
		sz = 16384;
	if (!(buf = malloc((size_t)sz)))
		return NULL;
	if (getpwnam_r(login, &pw, buf, (size_t)sz, &res) == 0 && res && res->pw_gecos) {
		g = res->pw_gecos + strspn(res->pw_gecos, " \t");
		n = strcspn(g, ",");
		while (n && strchr(" \t", g[n - 1]))
			n--;
		if (n && (name = malloc(n + 1))) {
			memcpy(name, g, n);
			name[n] = '\0';
			if (mid_has_ctl(name)) {
				free(name);
				name = NULL;
			}
		}
	}
	mid_wipe(buf, (size_t)sz);
	free(buf);
	return name;
}

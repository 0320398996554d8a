/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json_util.c - the JSON reading rules shared by the parsers (json_util.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_util.h"
#include "util.h"

json_object *mid_json_parse(const char *body, size_t len, char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;

	if (!body || len == 0) {
		mid_seterr(err, errlen, "empty body");
		return NULL;
	}
	if (len > MID_JSON_MAX || memchr(body, '\0', len)) {
		mid_seterr(err, errlen, "body is not JSON text");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		mid_seterr(err, errlen, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		mid_seterr(err, errlen, "invalid JSON (%s)",
		           jerr == json_tokener_continue ? "truncated" : json_tokener_error_desc(jerr));
		json_object_put(obj);
		obj = NULL;
	} else {
		for (size_t used = json_tokener_get_parse_end(tok); used < len; used++) {
			char c = body[used];
			if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
				mid_seterr(err, errlen, "invalid JSON (trailing data)");
				json_object_put(obj);
				obj = NULL;
				break;
			}
		}
	}
	json_tokener_free(tok);
	return obj;
}

json_object *mid_json_parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_object *obj = mid_json_parse(body, len, err, errlen);

	if (obj && !json_object_is_type(obj, json_type_object)) {
		mid_seterr(err, errlen, "not a JSON object");
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

const char *mid_json_str(json_object *obj, const char *key)
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

json_object *mid_json_obj(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

void mid_json_copy_clean(char *dst, size_t dstlen, const char *src)
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

void mid_json_clean_str(char *dst, size_t dstlen, json_object *obj, const char *key)
{
	mid_json_copy_clean(dst, dstlen, mid_json_str(obj, key));
}

int mid_json_valid_id(const char *s)
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

void mid_json_wipe_member(json_object *obj, const char *key)
{
	json_object *v;

	if (obj && json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string))
		mid_wipe((char *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

const char *mid_json_bearer_token(json_object *obj, char *err, size_t errlen)
{
	const char *at = mid_json_str(obj, "access_token"), *type = mid_json_str(obj, "token_type");

	if (!at || !*at || strlen(at) > 4096 || mid_has_ctl(at) || strpbrk(at, " \t")) {
		mid_seterr(err, errlen, "no usable access_token");
		return NULL;
	}
	if (type && strcasecmp(type, "Bearer") != 0) {
		mid_seterr(err, errlen, "token_type is not Bearer");
		return NULL;
	}
	return at;
}

int mid_json_take_token(const char *at, char **token, long *expires_in, char *err,
                        size_t errlen)
{
	if (*expires_in <= 0 || *expires_in > 86400)
		*expires_in = 60;   /* be conservative about a lifetime we cannot read */
	if (!(*token = strdup(at))) {
		mid_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json_util.h - the rules every response parser of the library reads JSON
 * by (json-c), in one place: exactly len bytes of one JSON text, string
 * members without an embedded NUL, server strings cleaned before they
 * reach logs and output, secrets wiped from parsed trees.
 *
 * Internal to common/libmobileid.la (the modules' version scripts export
 * only their entry points); the public parsers stay in parse.h, admin.h,
 * dqe.h and verifid.h.
 */
#ifndef MID_JSON_UTIL_H
#define MID_JSON_UTIL_H

#include <stddef.h>

#include <json-c/json.h>

#include "parse.h"

/* The largest body mid_json_parse() reads. */
#define MID_JSON_MAX (16 * 1024 * 1024)

/* Parse exactly len bytes as one JSON text (blanks may follow it); NULL
 * and a reason in err when the body is empty, holds a NUL, is larger than
 * MID_JSON_MAX, is not JSON or has trailing data. */
json_object *mid_json_parse(const char *body, size_t len, char *err, size_t errlen);
/* The same, and the text must be an object ("not a JSON object"). */
json_object *mid_json_parse_object(const char *body, size_t len, char *err, size_t errlen);

/* The string member key of obj, or NULL when obj is not an object, the
 * member is absent or not a string, or it holds a NUL (\u0000) that would
 * silently cut it short. */
const char *mid_json_str(json_object *obj, const char *key);
/* The object member key of obj, or NULL. */
json_object *mid_json_obj(json_object *obj, const char *key);

/* Copy a server string (may be NULL: "") for logs and output: no control
 * characters, no invalid UTF-8, at most dstlen - 1 bytes. */
void mid_json_copy_clean(char *dst, size_t dstlen, const char *src);
/* mid_json_copy_clean() of the string member key of obj ("" when none). */
void mid_json_clean_str(char *dst, size_t dstlen, json_object *obj, const char *key);

/* An id as the API returns it (user, device, transaction, trace): 1 to
 * MID_ID_MAX - 1 of A-Z a-z 0-9 - _ . and not "." or "..", so that it is
 * safe in a URL path and a log line. */
int mid_json_valid_id(const char *s);

/* Overwrite the string member key of obj (a secret) in the parsed tree. */
void mid_json_wipe_member(json_object *obj, const char *key);

/* The access_token of a token answer obj, when usable: not empty, at most
 * 4096 bytes, no blanks or control characters, and token_type absent or
 * Bearer; otherwise NULL and the reason in err. */
const char *mid_json_bearer_token(json_object *obj, char *err, size_t errlen);
/* The end of reading a token answer: an *expires_in outside 1..86400 s
 * becomes 60 (a lifetime we cannot read), *token a copy of at (free with
 * mid_free_secret).  0, or -1 with err (out of memory). */
int mid_json_take_token(const char *at, char **token, long *expires_in, char *err,
                        size_t errlen);

/* The state of an authentication or a registration (transactionId,
 * state, errorCode and errorDescription when FAILED) from the parsed
 * answer obj.  Defined in parse.c with mid_parse_auth(); admin.c reads
 * registrations with it.  0, or -1 with err (st holds what was read up
 * to the failure). */
int mid_json_auth_state(json_object *obj, mid_auth_state *st, char *err, size_t errlen);

#endif

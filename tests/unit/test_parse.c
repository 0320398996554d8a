/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_parse.c - the response parsers, on the vendor spec's sample bodies
 * (/work/shared/specs/signicat-mobileid-api.txt) and on broken ones.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "testutil.h"

#define L(s) (s), (sizeof(s) - 1)   /* a literal body and its length */

/* ---- sample bodies from the spec ------------------------------------------------- */

static const char token_body[] =
	"{\"access_token\":\"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2ln\","
	"\"token_type\":\"Bearer\",\"expires_in\":600,\"scope\":\"signicat-api\"}";

static const char resolve_body[] =
	"{\n  \"externalRef\": \"Empl10300469\",\n"
	"  \"userId\": \"0e99b25c-abde-4553-973b-8d94d49cd87e\"\n}\n";

static const char user_body[] =
	"{\n"
	"  \"externalRef\": \"Empl10300469\",\n"
	"  \"segment\": \"SE\",\n"
	"  \"id\": \"0e99b25c-abde-4553-973b-8d94d49cd87e\",\n"
	"  \"created\": \"2022-08-23T12:28:57.123Z\",\n"
	"  \"state\": \"ACTIVE\",\n"
	"  \"attributes\": {\n"
	"    \"firstname\": \"George\",\n"
	"    \"lastname\": \"Harrison\"\n"
	"  }\n"
	"}";

static const char devices_body[] =
	"[\n"
	"  {\n"
	"    \"id\": \"20874199-f4d1-4e9d-86ee-dd4a46030acb\",\n"
	"    \"name\": \"sampleDevice\",\n"
	"    \"state\": \"ACTIVE\",\n"
	"    \"lastOperationType\": \"AUTHENTICATION\",\n"
	"    \"lastUsed\": \"2021-01-21T22:47:27.123Z\",\n"
	"    \"created\": \"2021-01-21T22:47:27.123Z\"\n"
	"  }\n"
	"]";

static const char auth_pending_body[] =
	"{\n"
	"  \"transactionId\": \"7daa489e-6b35-46ca-83a4-1bba2ea35f68\",\n"
	"  \"accountId\": \"a-sdge-Abcdefghijk123456789\",\n"
	"  \"state\": \"PENDING\",\n"
	"  \"operationProperties\": {\n"
	"    \"sessionExpiryTime\": \"2022-08-19T06:03:07.123Z\",\n"
	"    \"pushSent\": false\n"
	"  },\n"
	"  \"created\": \"2022-08-19T06:01:37.123Z\",\n"
	"  \"device\": {\n"
	"    \"id\": \"20874199-f4d1-4e9d-86ee-dd4a46030acb\",\n"
	"    \"name\": \"sampleDevice\",\n"
	"    \"state\": \"ACTIVE\",\n"
	"    \"lastOperationType\": \"AUTHENTICATION\",\n"
	"    \"lastUsed\": \"2022-08-22T09:09:42.123Z\",\n"
	"    \"created\": \"2022-08-22T09:09:24.123Z\"\n"
	"  },\n"
	"  \"user\": {\n"
	"    \"externalRef\": \"Empl10300469\",\n"
	"    \"id\": \"0e99b25c-abde-4553-973b-8d94d49cd87e\",\n"
	"    \"created\": \"2022-08-19T05:59:16.123Z\",\n"
	"    \"lastUsed\": \"2022-08-19T05:59:26.123Z\",\n"
	"    \"state\": \"ACTIVE\"\n"
	"  },\n"
	"  \"tags\": [\n"
	"    \"some tag\",\n"
	"    \"another tag\"\n"
	"  ]\n"
	"}";

static const char error_404_body[] =
	"{\n"
	"  \"title\": \"Transaction ID does not exist\",\n"
	"  \"code\": \"transaction_id_does_not_exist\",\n"
	"  \"status\": 404,\n"
	"  \"traceId\": \"4bf239c088089f2bca77d3a413909f1c\",\n"
	"  \"detail\": \"There is no request with the specified transaction ID\"\n"
	"}";

/* As printed in the spec, with its trailing comma. */
static const char error_403_body[] =
	"{\n"
	"  \"code\": \"missing_permission\",\n"
	"  \"detail\": \"The subject with ID 'dev-ghastly-thread-446' does not have the required "
	"permission 'mobileid:user:read' on the target resource 'a-sdge-c2z0wgHkZjpBnS7uB621'\",\n"
	"  \"status\": 403,\n"
	"  \"traceId\": \"4bf239c088089f2bca77d3a413909f1c\",\n"
	"  \"title\": \"You do not have the required permission to perform this operation on "
	"the target resource\",\n"
	"}";

/* Bodies that no parser may accept, with the reason each gives. */
static const struct { const char *body; size_t len; const char *why; } garbage[] = {
	{ "", 0, "empty body" },
	{ NULL, 0, "empty body" },
	{ L("{\"userId\": \"0e99b25c\""), "invalid JSON (truncated)" },
	{ L("{\"userId\": \"0e99"), "invalid JSON (truncated)" },
	{ L("{\"userId\": \"a\"} trailing"), "invalid JSON (trailing data)" },
	{ L("{\"userId\": \"a\"}{\"userId\": \"b\"}"), "invalid JSON (trailing data)" },
	{ L("{\"userId\": \"a\"}\n\r\t x"), "invalid JSON (trailing data)" },
	{ L("{\"userId\": \"a\0\"}"), "body is not JSON text" },
	{ L("{\"userId\": \"a\"}\0"), "body is not JSON text" },
	{ L("\0{\"userId\": \"a\"}"), "body is not JSON text" },
	{ L("<html><body>502 Bad Gateway</body></html>"), "invalid JSON" },
	{ L("userId=abc"), "invalid JSON" },
	{ L("}"), "invalid JSON" },
};

/* ---- mid_parse_token ----------------------------------------------------------- */

static void test_token_good(void **state)
{
	char err[256] = "";
	char *token = NULL;
	long exp = -1;

	(void)state;
	assert_int_equal(mid_parse_token(L(token_body), &token, &exp, err, sizeof(err)), 0);
	assert_string_equal(token, "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2ln");
	assert_int_equal(exp, 600);
	free(token);

	/* expires_in as a string (DQE style) and as an int, lower-case bearer. */
	assert_int_equal(mid_parse_token(L("{\"access_token\":\"t1\",\"token_type\":\"bearer\","
	                                   "\"expires_in\":\"300\"}"), &token, &exp, err,
	                                 sizeof(err)), 0);
	assert_string_equal(token, "t1");
	assert_int_equal(exp, 300);
	free(token);
	assert_int_equal(mid_parse_token(L("{\"access_token\":\"t2\",\"expires_in\":3600}"),
	                                 &token, &exp, err, sizeof(err)), 0);
	assert_string_equal(token, "t2");   /* token_type may be absent */
	assert_int_equal(exp, 3600);
	free(token);

	/* A 4096-byte token is the longest accepted. */
	{
		char body[4200];
		int n = snprintf(body, sizeof(body), "{\"access_token\":\"%0*d\"}", 4096, 7);
		assert_int_equal(mid_parse_token(body, (size_t)n, &token, &exp, err, sizeof(err)), 0);
		assert_int_equal(strlen(token), 4096);
		free(token);
		n = snprintf(body, sizeof(body), "{\"access_token\":\"%0*d\"}", 4097, 7);
		assert_int_equal(mid_parse_token(body, (size_t)n, &token, &exp, err, sizeof(err)), -1);
		assert_null(token);
		assert_string_equal(err, "no usable access_token");
	}
}

static void test_token_expires_in(void **state)
{
	/* A lifetime we cannot use becomes a conservative 60 s. */
	static const struct { const char *body; long want; } t[] = {
		{ "{\"access_token\":\"t\",\"expires_in\":600}", 600 },
		{ "{\"access_token\":\"t\",\"expires_in\":\"300\"}", 300 },
		{ "{\"access_token\":\"t\",\"expires_in\":1}", 1 },
		{ "{\"access_token\":\"t\",\"expires_in\":86400}", 86400 },
		{ "{\"access_token\":\"t\"}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":0}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":-5}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":86401}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":99999999999999999999}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":\"\"}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":\"soon\"}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":\"-300\"}", 60 },
		/* doubles: a cast outside long's range would be undefined (fuzzer) */
		{ "{\"access_token\":\"t\",\"expires_in\":600.5}", 600 },
		{ "{\"access_token\":\"t\",\"expires_in\":1e300}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":-1e300}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":11111111111111111111111111111111116.}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":NaN}", 60 },
		{ "{\"access_token\":\"t\",\"expires_in\":Infinity}", 60 },
	};
	char err[256];
	char *token;
	long exp;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mid_parse_token(t[i].body, strlen(t[i].body), &token, &exp, err, sizeof(err)))
			fail_msg("%s: %s", t[i].body, err);
		if (exp != t[i].want)
			fail_msg("%s: expires_in %ld, want %ld", t[i].body, exp, t[i].want);
		free(token);
	}
	/* Not a number at all. */
	assert_int_equal(mid_parse_token(L("{\"access_token\":\"t\",\"expires_in\":true}"),
	                                 &token, &exp, err, sizeof(err)), -1);
	assert_string_equal(err, "expires_in is not a number");
	assert_null(token);
	assert_int_equal(mid_parse_token(L("{\"access_token\":\"t\",\"expires_in\":[600]}"),
	                                 &token, &exp, err, sizeof(err)), -1);
	assert_string_equal(err, "expires_in is not a number");
	assert_int_equal(mid_parse_token(L("{\"access_token\":\"t\",\"expires_in\":null}"),
	                                 &token, &exp, err, sizeof(err)), -1);
	assert_string_equal(err, "expires_in is not a number");
}

static void test_token_bad(void **state)
{
	static const struct { const char *body; const char *why; } t[] = {
		{ "{\"access_token\":\"t\",\"token_type\":\"MAC\"}", "token_type is not Bearer" },
		{ "{\"access_token\":\"t\",\"token_type\":\"Bearer \"}", "token_type is not Bearer" },
		{ "{\"access_token\":\"t\",\"token_type\":\"\"}", "token_type is not Bearer" },
		{ "{\"token_type\":\"Bearer\",\"expires_in\":600}", "no usable access_token" },
		{ "{\"access_token\":\"\"}", "no usable access_token" },
		{ "{\"access_token\":600}", "no usable access_token" },
		{ "{\"access_token\":{\"value\":\"t\"}}", "no usable access_token" },
		{ "{\"access_token\":null}", "no usable access_token" },
		{ "{\"access_token\":\"a b\"}", "no usable access_token" },
		{ "{\"access_token\":\"abc\\r\\nX-Evil: 1\"}", "no usable access_token" },
		{ "{\"access_token\":\"abc\\u0000def\"}", "no usable access_token" },
		{ "{\"access_token\":\"abc\\t\"}", "no usable access_token" },
		{ "[{\"access_token\":\"t\"}]", "no usable access_token" },
		{ "\"t\"", "no usable access_token" },
		{ "{\"error\":\"invalid_client\"}", "no usable access_token" },
	};
	char err[256];
	char *token = (char *)"sentinel";
	long exp = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		token = (char *)"sentinel";
		if (mid_parse_token(t[i].body, strlen(t[i].body), &token, &exp, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", t[i].body);
		assert_null(token);
		if (strcmp(err, t[i].why) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", t[i].body, err, t[i].why);
	}
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		token = (char *)"sentinel";
		assert_int_equal(mid_parse_token(garbage[i].body, garbage[i].len, &token, &exp, err,
		                                 sizeof(err)), -1);
		assert_null(token);
		assert_contains(err, garbage[i].why);
	}
	/* A NULL err is allowed. */
	assert_int_equal(mid_parse_token(L("{}"), &token, &exp, NULL, 0), -1);
}

/* ---- mid_parse_error ------------------------------------------------------------- */

static void test_error_bodies(void **state)
{
	mid_api_error e;

	(void)state;
	assert_int_equal(mid_parse_error(L(error_404_body), &e), 0);
	assert_string_equal(e.code, "transaction_id_does_not_exist");
	assert_string_equal(e.title, "Transaction ID does not exist");
	assert_string_equal(e.detail, "There is no request with the specified transaction ID");
	assert_string_equal(e.trace_id, "4bf239c088089f2bca77d3a413909f1c");
	assert_int_equal(e.status, 404);

	/* The spec's own sample has a trailing comma; it still parses. */
	assert_int_equal(mid_parse_error(L(error_403_body), &e), 0);
	assert_string_equal(e.code, "missing_permission");
	assert_int_equal(e.status, 403);
	assert_contains(e.detail, "does not have the required permission");
	assert_string_equal(e.trace_id, "4bf239c088089f2bca77d3a413909f1c");

	/* Validation error with invalidParams. */
	assert_int_equal(mid_parse_error(L("{\"type\":\"about:blank\",\"title\":\"Invalid_request\","
	                                   "\"code\":\"invalid_request_parameter\",\"status\":400,"
	                                   "\"invalidParams\":[{\"name\":\"userId\","
	                                   "\"reason\":\"must not be blank\"}]}"), &e), 0);
	assert_string_equal(e.code, "invalid_request_parameter");
	assert_string_equal(e.title, "Invalid_request");
	assert_string_equal(e.detail, "");
	assert_string_equal(e.trace_id, "");
	assert_int_equal(e.status, 400);

	/* OAuth errors from the token endpoint. */
	assert_int_equal(mid_parse_error(L("{\"error\":\"invalid_client\",\"error_description\":"
	                                   "\"Client authentication failed\"}"), &e), 0);
	assert_string_equal(e.code, "invalid_client");
	assert_string_equal(e.detail, "Client authentication failed");
	assert_string_equal(e.title, "");
	assert_int_equal(e.status, 0);
	/* code wins over error, detail over error_description. */
	assert_int_equal(mid_parse_error(L("{\"code\":\"invalid_token\",\"error\":\"x\","
	                                   "\"detail\":\"d\",\"error_description\":\"y\"}"), &e), 0);
	assert_string_equal(e.code, "invalid_token");
	assert_string_equal(e.detail, "d");

	/* An empty object is an error body with nothing in it. */
	assert_int_equal(mid_parse_error(L("{}"), &e), 0);
	assert_string_equal(e.code, "");
	assert_int_equal(e.status, 0);
}

static void test_error_bodies_hostile(void **state)
{
	mid_api_error e;
	char body[2048];
	int n;

	(void)state;
	/* Control characters are removed from everything we log. */
	assert_int_equal(mid_parse_error(L("{\"code\":\"bad\\r\\ncode\",\"title\":\"t\\u001b[2J\","
	                                   "\"detail\":\"line1\\nline2\\u0007\"}"), &e), 0);
	assert_string_equal(e.code, "badcode");
	assert_string_equal(e.title, "t[2J");
	assert_string_equal(e.detail, "line1line2");

	/* Wrong types are ignored, not trusted. */
	assert_int_equal(mid_parse_error(L("{\"code\":404,\"title\":[\"t\"],\"detail\":{},"
	                                   "\"status\":\"404\",\"traceId\":12}"), &e), 0);
	assert_string_equal(e.code, "");
	assert_string_equal(e.title, "");
	assert_string_equal(e.detail, "");
	assert_string_equal(e.trace_id, "");
	assert_int_equal(e.status, 0);

	/* A traceId that is not an id is dropped. */
	assert_int_equal(mid_parse_error(L("{\"traceId\":\"abc/../def\"}"), &e), 0);
	assert_string_equal(e.trace_id, "");
	assert_int_equal(mid_parse_error(L("{\"traceId\":\"abc def\"}"), &e), 0);
	assert_string_equal(e.trace_id, "");

	/* Long fields are cut to their buffers on a UTF-8 boundary. */
	memset(body, 0, sizeof(body));
	n = snprintf(body, sizeof(body), "{\"detail\":\"");
	for (int i = 0; i < 300; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "\xc3\xa9");
	n += snprintf(body + n, sizeof(body) - (size_t)n, "\",\"code\":\"");
	for (int i = 0; i < 100; i++)
		body[n++] = 'c';
	n += snprintf(body + n, sizeof(body) - (size_t)n, "\"}");
	assert_int_equal(mid_parse_error(body, (size_t)n, &e), 0);
	assert_int_equal(strlen(e.detail), 254);   /* 127 two-byte characters */
	assert_int_equal(strlen(e.code), 63);

	/* Not an error object. */
	memset(&e, 'x', sizeof(e));
	assert_int_equal(mid_parse_error(L("[{\"code\":\"x\"}]"), &e), -1);
	assert_string_equal(e.code, "");   /* zeroed even on failure */
	assert_int_equal(mid_parse_error(L("\"invalid_request\""), &e), -1);
	assert_int_equal(mid_parse_error(L("null"), &e), -1);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		assert_int_equal(mid_parse_error(garbage[i].body, garbage[i].len, &e), -1);
}

/* ---- ids: resolve and user --------------------------------------------------------- */

static void test_resolve(void **state)
{
	char uid[MID_ID_MAX], err[256];
	char body[512], id[256];

	(void)state;
	assert_int_equal(mid_parse_resolve(L(resolve_body), uid, err, sizeof(err)), 0);
	assert_string_equal(uid, "0e99b25c-abde-4553-973b-8d94d49cd87e");

	/* The longest id: 127 characters. */
	memset(id, 'a', sizeof(id));
	id[127] = '\0';
	snprintf(body, sizeof(body), "{\"userId\":\"%s\"}", id);
	assert_int_equal(mid_parse_resolve(body, strlen(body), uid, err, sizeof(err)), 0);
	assert_string_equal(uid, id);
	id[0] = '_'; id[1] = '.'; id[2] = '-'; id[3] = 'Z';
	snprintf(body, sizeof(body), "{\"userId\":\"%s\"}", id);
	assert_int_equal(mid_parse_resolve(body, strlen(body), uid, err, sizeof(err)), 0);
	assert_string_equal(uid, id);
}

static void test_invalid_ids(void **state)
{
	static const char *bad_ids[] = {
		"\"\"", "\"abc/def\"", "\"../../users\"", "\"a b\"", "\"abc\\n\"", "\"abc?x=1\"",
		"\"abc%2F\"", "\"abc#\"", "\"\\u00e9t\\u00e9\"", "\"abc\\u0000def\"", "\".\"", "\"..\"",
		"12345", "true", "null", "{\"id\":\"abc\"}", "[\"abc\"]",
	};
	char uid[MID_ID_MAX], err[256], body[512], id[256];
	mid_auth_state st;
	int locked, active;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		snprintf(body, sizeof(body), "{\"externalRef\":\"x\",\"userId\":%s}", bad_ids[i]);
		err[0] = '\0';
		if (mid_parse_resolve(body, strlen(body), uid, err, sizeof(err)) == 0)
			fail_msg("resolve accepted userId %s", bad_ids[i]);
		assert_string_equal(err, "no valid userId in the answer");

		snprintf(body, sizeof(body), "{\"id\":%s,\"state\":\"ACTIVE\"}", bad_ids[i]);
		if (mid_parse_user(body, strlen(body), &locked, err, sizeof(err)) == 0)
			fail_msg("user accepted id %s", bad_ids[i]);
		assert_string_equal(err, "not a user object");

		snprintf(body, sizeof(body), "[{\"id\":%s,\"state\":\"ACTIVE\"}]", bad_ids[i]);
		if (mid_parse_devices(body, strlen(body), &active, uid, err, sizeof(err)) == 0)
			fail_msg("devices accepted id %s", bad_ids[i]);
		assert_string_equal(err, "device 0 has no valid id or state");

		snprintf(body, sizeof(body), "{\"transactionId\":%s,\"state\":\"COMPLETED\"}",
		         bad_ids[i]);
		if (mid_parse_auth(body, strlen(body), &st, err, sizeof(err)) == 0)
			fail_msg("auth accepted transactionId %s", bad_ids[i]);
		assert_string_equal(err, "no valid transactionId");
	}
	/* 128 and 200 characters are too long. */
	for (size_t len = 128; len <= 200; len += 72) {
		memset(id, 'a', sizeof(id));
		id[len] = '\0';
		snprintf(body, sizeof(body), "{\"userId\":\"%s\"}", id);
		assert_int_equal(mid_parse_resolve(body, strlen(body), uid, err, sizeof(err)), -1);
		assert_string_equal(err, "no valid userId in the answer");
		snprintf(body, sizeof(body), "{\"transactionId\":\"%s\",\"state\":\"PENDING\"}", id);
		assert_int_equal(mid_parse_auth(body, strlen(body), &st, err, sizeof(err)), -1);
		assert_string_equal(err, "no valid transactionId");
	}
	/* Missing, array instead of object, garbage. */
	assert_int_equal(mid_parse_resolve(L("{\"externalRef\":\"Empl10300469\"}"), uid, err,
	                                   sizeof(err)), -1);
	assert_string_equal(err, "no valid userId in the answer");
	assert_int_equal(mid_parse_resolve(L("[{\"userId\":\"abc\"}]"), uid, err, sizeof(err)), -1);
	assert_string_equal(err, "no valid userId in the answer");
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mid_parse_resolve(garbage[i].body, garbage[i].len, uid, err,
		                                   sizeof(err)), -1);
		assert_contains(err, garbage[i].why);
	}
}

static void test_user(void **state)
{
	char err[256];
	int locked = -1;

	(void)state;
	assert_int_equal(mid_parse_user(L(user_body), &locked, err, sizeof(err)), 0);
	assert_int_equal(locked, 0);
	assert_int_equal(mid_parse_user(L("{\"id\":\"u1\",\"state\":\"LOCKED\"}"), &locked, err,
	                                sizeof(err)), 0);
	assert_int_equal(locked, 1);
	/* Anything but ACTIVE is locked: fail closed. */
	assert_int_equal(mid_parse_user(L("{\"id\":\"u1\",\"state\":\"SUSPENDED\"}"), &locked, err,
	                                sizeof(err)), 0);
	assert_int_equal(locked, 1);
	assert_int_equal(mid_parse_user(L("{\"id\":\"u1\",\"state\":\"active\"}"), &locked, err,
	                                sizeof(err)), 0);
	assert_int_equal(locked, 1);

	/* Wrong types and missing fields. */
	assert_int_equal(mid_parse_user(L("{\"id\":\"u1\",\"state\":1}"), &locked, err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "not a user object");
	assert_int_equal(mid_parse_user(L("{\"id\":\"u1\"}"), &locked, err, sizeof(err)), -1);
	assert_string_equal(err, "not a user object");
	assert_int_equal(mid_parse_user(L("{\"state\":\"ACTIVE\"}"), &locked, err, sizeof(err)), -1);
	assert_string_equal(err, "not a user object");
	assert_int_equal(mid_parse_user(L("{\"id\":{\"x\":1},\"state\":\"ACTIVE\"}"), &locked, err,
	                                sizeof(err)), -1);
	assert_int_equal(mid_parse_user(L("[{\"id\":\"u1\",\"state\":\"ACTIVE\"}]"), &locked, err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "not a user object");
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		assert_int_equal(mid_parse_user(garbage[i].body, garbage[i].len, &locked, err,
		                                sizeof(err)), -1);
		assert_contains(err, garbage[i].why);
	}
}

/* ---- devices ----------------------------------------------------------------------- */

static void test_devices(void **state)
{
	char first[MID_ID_MAX], err[256];
	int active = -1;

	(void)state;
	assert_int_equal(mid_parse_devices(L(devices_body), &active, first, err, sizeof(err)), 0);
	assert_int_equal(active, 1);
	assert_string_equal(first, "20874199-f4d1-4e9d-86ee-dd4a46030acb");

	/* Only ACTIVE devices count; the first ACTIVE one is the first id. */
	assert_int_equal(mid_parse_devices(L("[{\"id\":\"d-locked\",\"state\":\"LOCKED\"},"
	                                     "{\"id\":\"d-a1\",\"state\":\"ACTIVE\"},"
	                                     "{\"id\":\"d-new\",\"state\":\"PENDING\"},"
	                                     "{\"id\":\"d-a2\",\"state\":\"ACTIVE\"}]"),
	                                   &active, first, err, sizeof(err)), 0);
	assert_int_equal(active, 2);
	assert_string_equal(first, "d-a1");

	assert_int_equal(mid_parse_devices(L("[{\"id\":\"d1\",\"state\":\"LOCKED\"}]"), &active,
	                                   first, err, sizeof(err)), 0);
	assert_int_equal(active, 0);
	assert_string_equal(first, "");
	assert_int_equal(mid_parse_devices(L("[]"), &active, first, err, sizeof(err)), 0);
	assert_int_equal(active, 0);
	assert_string_equal(first, "");
	assert_int_equal(mid_parse_devices(L(" [ ] \n"), &active, first, err, sizeof(err)), 0);

	/* An object instead of an array. */
	assert_int_equal(mid_parse_devices(L("{\"id\":\"d1\",\"state\":\"ACTIVE\"}"), &active,
	                                   first, err, sizeof(err)), -1);
	assert_string_equal(err, "the device list is not an array");
	assert_int_equal(active, 0);
	assert_int_equal(mid_parse_devices(L("{\"devices\":[]}"), &active, first, err,
	                                   sizeof(err)), -1);
	assert_string_equal(err, "the device list is not an array");
	/* A broken entry spoils the list. */
	assert_int_equal(mid_parse_devices(L("[{\"id\":\"d1\",\"state\":\"ACTIVE\"},"
	                                     "{\"state\":\"ACTIVE\"}]"), &active, first, err,
	                                   sizeof(err)), -1);
	assert_string_equal(err, "device 1 has no valid id or state");
	assert_int_equal(mid_parse_devices(L("[{\"id\":\"d1\"}]"), &active, first, err,
	                                   sizeof(err)), -1);
	assert_string_equal(err, "device 0 has no valid id or state");
	assert_int_equal(mid_parse_devices(L("[{\"id\":\"d1\",\"state\":[\"ACTIVE\"]}]"), &active,
	                                   first, err, sizeof(err)), -1);
	assert_int_equal(mid_parse_devices(L("[\"d1\"]"), &active, first, err, sizeof(err)), -1);
	assert_string_equal(err, "device 0 has no valid id or state");
	assert_int_equal(mid_parse_devices(L("[null]"), &active, first, err, sizeof(err)), -1);
	assert_int_equal(mid_parse_devices(L("[[{\"id\":\"d1\",\"state\":\"ACTIVE\"}]]"), &active,
	                                   first, err, sizeof(err)), -1);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		active = -1;
		assert_int_equal(mid_parse_devices(garbage[i].body, garbage[i].len, &active, first,
		                                   err, sizeof(err)), -1);
		assert_int_equal(active, 0);
		assert_contains(err, garbage[i].why);
	}
}

/* ---- authentication state ------------------------------------------------------------ */

static void test_auth_states(void **state)
{
	mid_auth_state st;
	char err[256];

	(void)state;
	assert_int_equal(mid_parse_auth(L(auth_pending_body), &st, err, sizeof(err)), 0);
	assert_int_equal(st.state, MID_STATE_PENDING);
	assert_string_equal(st.transaction_id, "7daa489e-6b35-46ca-83a4-1bba2ea35f68");
	assert_string_equal(st.error_code, "");
	assert_string_equal(st.error_description, "");

	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t-1\",\"state\":\"COMPLETED\","
	                                  "\"device\":{\"id\":\"d\"}}"), &st, err, sizeof(err)), 0);
	assert_int_equal(st.state, MID_STATE_COMPLETED);
	assert_string_equal(st.transaction_id, "t-1");

	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t-2\",\"state\":\"FAILED\","
	                                  "\"errorCode\":\"CANCELLED_BY_DEVICE\","
	                                  "\"errorDescription\":\"The operation failed because the "
	                                  "session was cancelled by the device.\"}"),
	                                &st, err, sizeof(err)), 0);
	assert_int_equal(st.state, MID_STATE_FAILED);
	assert_string_equal(st.error_code, "CANCELLED_BY_DEVICE");
	assert_string_equal(st.error_description, "The operation failed because the session was "
	                    "cancelled by the device.");
	assert_int_equal(mid_error_code_result(st.error_code), MID_DENIED);

	/* FAILED without (or with a non-string) errorCode: UNKNOWN, a denial. */
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t-3\",\"state\":\"FAILED\"}"),
	                                &st, err, sizeof(err)), 0);
	assert_string_equal(st.error_code, "UNKNOWN");
	assert_int_equal(mid_error_code_result(st.error_code), MID_DENIED);
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t-3\",\"state\":\"FAILED\","
	                                  "\"errorCode\":42}"), &st, err, sizeof(err)), 0);
	assert_string_equal(st.error_code, "UNKNOWN");
	/* errorCode and errorDescription only count on FAILED. */
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t-4\",\"state\":\"PENDING\","
	                                  "\"errorCode\":\"EXPIRED\"}"), &st, err, sizeof(err)), 0);
	assert_string_equal(st.error_code, "");
}

static void test_auth_bad(void **state)
{
	static const struct { const char *body; const char *why; } t[] = {
		{ "{\"transactionId\":\"t\",\"state\":\"SUCCESS\"}", "unknown state" },
		{ "{\"transactionId\":\"t\",\"state\":\"pending\"}", "unknown state" },
		{ "{\"transactionId\":\"t\",\"state\":\"\"}", "unknown state" },
		{ "{\"transactionId\":\"t\",\"state\":1}", "no state" },
		{ "{\"transactionId\":\"t\",\"state\":{\"value\":\"COMPLETED\"}}", "no state" },
		{ "{\"transactionId\":\"t\"}", "no state" },
		{ "{\"state\":\"COMPLETED\"}", "no valid transactionId" },
		{ "{\"transactionId\":7,\"state\":\"COMPLETED\"}", "no valid transactionId" },
		{ "[{\"transactionId\":\"t\",\"state\":\"COMPLETED\"}]", "no valid transactionId" },
		{ "{\"transactionId\":\"t\",\"state\":\"COMPLETED\\u0000\"}", "no state" },
	};
	mid_auth_state st;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (mid_parse_auth(t[i].body, strlen(t[i].body), &st, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", t[i].body);
		if (strcmp(err, t[i].why) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", t[i].body, err, t[i].why);
		assert_int_not_equal(st.state, MID_STATE_COMPLETED);
	}
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		assert_int_equal(mid_parse_auth(garbage[i].body, garbage[i].len, &st, err,
		                                sizeof(err)), -1);
		assert_contains(err, garbage[i].why);
		assert_int_equal(st.state, MID_STATE_PENDING);
		assert_string_equal(st.transaction_id, "");
	}
	/* Truncated in the middle of the spec sample. */
	assert_int_equal(mid_parse_auth(auth_pending_body, 120, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid JSON (truncated)");
	/* Deep nesting is refused, not a crash. */
	{
		char deep[4096];
		memset(deep, '[', sizeof(deep));
		assert_int_equal(mid_parse_auth(deep, sizeof(deep), &st, err, sizeof(err)), -1);
		assert_contains(err, "invalid JSON");
	}
	/* Over 16 MiB is refused before parsing. */
	{
		size_t big = 16 * 1024 * 1024 + 1;
		char *body = malloc(big);
		assert_non_null(body);
		memset(body, ' ', big);
		{
			static const char ok[] = "{\"transactionId\":\"t\",\"state\":\"COMPLETED\"}";
			memcpy(body, ok, sizeof(ok) - 1);
		}
		assert_int_equal(mid_parse_auth(body, big, &st, err, sizeof(err)), -1);
		assert_string_equal(err, "body is not JSON text");
		/* ... while the same body with 1 MiB of trailing blanks is fine. */
		assert_int_equal(mid_parse_auth(body, 1024 * 1024, &st, err, sizeof(err)), 0);
		assert_int_equal(st.state, MID_STATE_COMPLETED);
		free(body);
	}
}

static void test_auth_description_cleaned(void **state)
{
	mid_auth_state st;
	char err[256], body[2048];
	int n;

	(void)state;
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t\",\"state\":\"FAILED\","
	                                  "\"errorCode\":\"GEOFENCING_FAILED\",\"errorDescription\":"
	                                  "\"bad\\r\\nInjected: line\\u001b[1m\\u007ftail\\t!\\u009b2J\"}"),
	                                &st, err, sizeof(err)), 0);
	assert_string_equal(st.error_code, "GEOFENCING_FAILED");
	assert_null(strpbrk(st.error_description, "\r\n\x1b"));
	assert_string_equal(st.error_description, "badInjected: line[1mtail\t!2J");
	/* A NUL escape does not cut the text short: the field is dropped. */
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t\",\"state\":\"FAILED\","
	                                  "\"errorCode\":\"EXPIRED\",\"errorDescription\":"
	                                  "\"ok\\u0000hidden\"}"), &st, err, sizeof(err)), 0);
	assert_string_equal(st.error_description, "");
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t\",\"state\":\"FAILED\","
	                                  "\"errorCode\":\"EXPIRED\\u0000X\"}"), &st, err,
	                                sizeof(err)), 0);
	assert_string_equal(st.error_code, "UNKNOWN");
	/* Control characters in the code are removed too. */
	assert_int_equal(mid_parse_auth(L("{\"transactionId\":\"t\",\"state\":\"FAILED\","
	                                  "\"errorCode\":\"LOCKED\\n\"}"), &st, err, sizeof(err)), 0);
	assert_string_equal(st.error_code, "LOCKED");
	/* A long description is cut on a character boundary. */
	n = snprintf(body, sizeof(body), "{\"transactionId\":\"t\",\"state\":\"FAILED\","
	             "\"errorCode\":\"EXPIRED\",\"errorDescription\":\"");
	for (int i = 0; i < 200; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "\xe2\x82\xac");
	n += snprintf(body + n, sizeof(body) - (size_t)n, "\"}");
	assert_int_equal(mid_parse_auth(body, (size_t)n, &st, err, sizeof(err)), 0);
	assert_int_equal(strlen(st.error_description), 255);   /* 85 three-byte characters */
	assert_int_equal(mid_error_code_result(st.error_code), MID_EXPIRED);
}

/* ---- mid_error_code_result ------------------------------------------------------------ */

static void test_error_codes(void **state)
{
	/* Every errorCode of the spec's table. */
	static const struct { const char *code; mid_result r; } t[] = {
		{ "CANCELLED_BY_DEVICE", MID_DENIED },
		{ "CANCELLED_BY_SP", MID_CANCELLED },
		{ "CANCELLED_AUTH_METHOD_DEACTIVATED", MID_CANCELLED },
		{ "CANCELLED_NEW_ACTIVATION", MID_CANCELLED },
		{ "EXPIRED", MID_EXPIRED },
		{ "LOCKED", MID_LOCKED },
		{ "LOCKED_BY_ADMIN", MID_LOCKED },
		{ "LOCKED_DEVICE_VERIFICATION_FAILED", MID_LOCKED },
		{ "LOCKED_PIN_VERIFICATION_FAILED", MID_LOCKED },
		{ "LOCKED_INCORRECT_SALT_KEY_ID", MID_LOCKED },
		{ "CALLBACK_FAILED", MID_DENIED },
		{ "LOCKED_HW_KEY_VERIFICATION_FAILED", MID_LOCKED },
		{ "LOCKED_INTERMEDIATE_PUSH_VERIFICATION_FAILED", MID_LOCKED },
		{ "CANCELLED_INTERMEDIATE_PUSH_REQUIRED", MID_DENIED },
		{ "AUTHORIZATION_TOKEN_VERIFICATION_FAILED", MID_DENIED },
		{ "CANCELLED_PERFORM_RECOVERY_STARTED", MID_CANCELLED },
		{ "FAILED_RECOVERY_DOES_NOT_EXIST", MID_DENIED },
		{ "LOCKED_PERFORM_RECOVERY_FAILED", MID_LOCKED },
		{ "GEOFENCING_FAILED", MID_DENIED },
		{ "LOCKED_APPATTEST_VERIFICATION_FAILED", MID_LOCKED },
		{ "CANCELLED_APPATTEST_REQUIRED", MID_DENIED },
		{ "CALLBACK_PROCESSING_ERROR", MID_DENIED },
		{ "LOCKED_PLAYINTEGRITY_VERIFICATION_FAILED", MID_LOCKED },
		/* Not in the table: never a success. */
		{ "UNKNOWN", MID_DENIED },
		{ "", MID_DENIED },
		{ "expired", MID_DENIED },
		{ "EXPIRED ", MID_DENIED },
		{ "COMPLETED", MID_DENIED },
		{ "APPROVED", MID_DENIED },
		{ "CANCELLED", MID_DENIED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mid_result r = mid_error_code_result(t[i].code);
		if (r != t[i].r)
			fail_msg("%s -> %d, want %d", t[i].code, r, t[i].r);
		assert_int_not_equal(r, MID_APPROVED);
	}
	assert_int_equal(mid_error_code_result(NULL), MID_DENIED);

	/* Through the parser, each code of the table. */
	for (size_t i = 0; i < 23; i++) {
		char body[256], err[256];
		mid_auth_state st;
		snprintf(body, sizeof(body), "{\"transactionId\":\"t\",\"state\":\"FAILED\","
		         "\"errorCode\":\"%s\"}", t[i].code);
		assert_int_equal(mid_parse_auth(body, strlen(body), &st, err, sizeof(err)), 0);
		assert_string_equal(st.error_code, t[i].code);
		assert_int_equal(mid_error_code_result(st.error_code), t[i].r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_good),
		cmocka_unit_test(test_token_expires_in),
		cmocka_unit_test(test_token_bad),
		cmocka_unit_test(test_error_bodies),
		cmocka_unit_test(test_error_bodies_hostile),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_invalid_ids),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_auth_states),
		cmocka_unit_test(test_auth_bad),
		cmocka_unit_test(test_auth_description_cleaned),
		cmocka_unit_test(test_error_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

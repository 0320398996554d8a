/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_admin.c - the administration parsers (users, devices,
 * registrations), the VerifID parsers and settings, the externalRef for a
 * login, and the enrollment-link memory, on the vendors' sample bodies
 * (/work/shared/specs) and on broken ones.  No network.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "cache.h"
#include "mid_config.h"
#include "testutil.h"
#include "util.h"
#include "verifid.h"

#define L(s) (s), (sizeof(s) - 1)

/* ---- users ------------------------------------------------------------------------ */

/* The spec's Update user response. */
static const char user_body[] =
	"{\"externalRef\": \"Empl10300469\", \"segment\": \"NO\",\n"
	" \"id\": \"0e99b25c-abde-4553-973b-8d94d49cd87e\",\n"
	" \"created\": \"2021-01-21T22:47:27.123Z\", \"lastUsed\": \"2021-01-21T22:47:27.123Z\",\n"
	" \"state\": \"ACTIVE\", \"attributes\": {\"firstname\": \"George\", \"age\": \"44\"}}\n";

static void test_user_info(void **state)
{
	mid_user_info u;
	char err[200];

	(void)state;
	assert_int_equal(mid_parse_user_info(L(user_body), &u, err, sizeof(err)), 0);
	assert_string_equal(u.id, "0e99b25c-abde-4553-973b-8d94d49cd87e");
	assert_string_equal(u.external_ref, "Empl10300469");
	assert_string_equal(u.state, "ACTIVE");
	assert_string_equal(u.segment, "NO");
	assert_string_equal(u.created, "2021-01-21T22:47:27.123Z");
	assert_string_equal(u.last_used, "2021-01-21T22:47:27.123Z");
	assert_int_equal(u.n_attributes, 2);
	assert_string_equal(u.attr_names[0], "firstname");
	assert_string_equal(u.attr_values[0], "George");
	assert_string_equal(u.attr_names[1], "age");
	assert_string_equal(u.attr_values[1], "44");
	mid_user_info_free(&u);
	assert_int_equal(u.n_attributes, 0);
	assert_null(u.attr_names);

	/* Optional members absent; the created-user sample has no lastUsed. */
	assert_int_equal(mid_parse_user_info(L("{\"id\":\"u1\",\"state\":\"LOCKED\"}"), &u, err,
	                                     sizeof(err)), 0);
	assert_string_equal(u.state, "LOCKED");
	assert_string_equal(u.external_ref, "");
	assert_string_equal(u.last_used, "");
	assert_int_equal(u.n_attributes, 0);
	mid_user_info_free(&u);
}

static void test_user_info_hostile(void **state)
{
	mid_user_info u;
	char err[200];

	(void)state;
	/* Control characters never reach a terminal; odd attribute values are shown as JSON. */
	assert_int_equal(mid_parse_user_info(L("{\"id\":\"u1\",\"state\":\"ACTIVE\","
	                                       "\"externalRef\":\"a\\u001b[2Jb\",\"attributes\":"
	                                       "{\"n\\nx\":\"v\\r\\n1\",\"num\":5,\"nul\":null}}"),
	                                     &u, err, sizeof(err)), 0);
	assert_string_equal(u.external_ref, "a[2Jb");
	assert_int_equal(u.n_attributes, 3);
	assert_string_equal(u.attr_names[0], "nx");
	assert_string_equal(u.attr_values[0], "v1");
	assert_string_equal(u.attr_values[1], "5");
	assert_string_equal(u.attr_values[2], "null");
	mid_user_info_free(&u);

	static const char *const bad[] = {
		"", "{", "[]", "null", "{\"state\":\"ACTIVE\"}", "{\"id\":\"u1\"}",
		"{\"id\":\"../x\",\"state\":\"ACTIVE\"}", "{\"id\":\"u1\",\"state\":\"\"}",
		"{\"id\":\"u1\",\"state\":\"ACTIVE\"} trailing", "{\"id\":5,\"state\":\"ACTIVE\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mid_parse_user_info(bad[i], strlen(bad[i]), &u, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_null(u.attr_names);
	}
	/* A NUL inside the body is not JSON text. */
	assert_int_equal(mid_parse_user_info("{\"id\":\"u1\",\0\"state\":\"A\"}", 25, &u, err,
	                                     sizeof(err)), -1);
}

/* ---- devices ------------------------------------------------------------------------- */

static const char devices_body[] =
	"[{\"id\": \"20874199-f4d1-4e9d-86ee-dd4a46030acb\", \"name\": \"sampleDevice\",\n"
	"  \"state\": \"ACTIVE\", \"lastOperationType\": \"AUTHENTICATION\",\n"
	"  \"lastUsed\": \"2021-01-21T22:47:27.123Z\", \"created\": \"2021-01-21T22:47:27.123Z\"},\n"
	" {\"id\": \"d2\", \"state\": \"LOCKED\"}]";

static void test_device_list(void **state)
{
	mid_device_info *d = NULL, one;
	size_t n = 99;
	char err[200];

	(void)state;
	assert_int_equal(mid_parse_device_list(L(devices_body), &d, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id, "20874199-f4d1-4e9d-86ee-dd4a46030acb");
	assert_string_equal(d[0].name, "sampleDevice");
	assert_string_equal(d[0].state, "ACTIVE");
	assert_string_equal(d[0].last_operation, "AUTHENTICATION");
	assert_string_equal(d[0].last_used, "2021-01-21T22:47:27.123Z");
	assert_string_equal(d[1].id, "d2");
	assert_string_equal(d[1].state, "LOCKED");
	assert_string_equal(d[1].name, "");
	free(d);

	assert_int_equal(mid_parse_device_list(L("[]"), &d, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(d);

	assert_int_equal(mid_parse_device_list(L("{}"), &d, &n, err, sizeof(err)), -1);
	assert_contains(err, "not an array");
	assert_int_equal(mid_parse_device_list(L("[{\"id\":\"a\",\"state\":\"ACTIVE\"},{\"id\":\"\","
	                                         "\"state\":\"ACTIVE\"}]"), &d, &n, err,
	                                       sizeof(err)), -1);
	assert_contains(err, "device 1");
	assert_null(d);
	assert_int_equal(n, 0);

	/* The spec's Update device response. */
	assert_int_equal(mid_parse_device_info(L("{\"id\": \"20874199-f4d1-4e9d-86ee-dd4a46030acb\","
	                                         "\"name\": \"My New iPhone\",\"state\": \"LOCKED\"}"),
	                                       &one, err, sizeof(err)), 0);
	assert_string_equal(one.state, "LOCKED");
	assert_string_equal(one.name, "My New iPhone");
	assert_int_equal(mid_parse_device_info(L("[]"), &one, err, sizeof(err)), -1);
}

/* ---- registrations ------------------------------------------------------------------- */

/* The spec's Start registration response (its hour 24 included). */
static const char registration_body[] =
	"{\"transactionId\": \"7daa489e-6b35-46ca-83a4-1bba2ea35f68\",\n"
	" \"accountId\": \"a-sdge-Abcdefghijk123456789\", \"state\": \"PENDING\",\n"
	" \"operationProperties\": {\"activationCode\": \"928401\", \"authLevel\": \"TWO_FACTOR\",\n"
	"   \"sessionTimeout\": \"90000\", \"sessionExpiryTime\": \"2021-01-21T24:17:57.123Z\",\n"
	"   \"registrationMode\": \"REGISTRATION\"},\n"
	" \"created\": \"2021-01-21T22:47:27.123Z\", \"device\": {\"name\": \"My iPhone\"},\n"
	" \"user\": {\"externalRef\": \"Empl10300469\", \"id\": \"0e99b25c-abde-4553-973b-8d94d49cd87e\",\n"
	"   \"created\": \"2021-01-21T22:47:27.100Z\", \"state\": \"ACTIVE\"}}";

static void test_registration(void **state)
{
	mid_registration r;
	char err[200];

	(void)state;
	assert_int_equal(mid_parse_registration(L(registration_body), &r, err, sizeof(err)), 0);
	assert_string_equal(r.transaction_id, "7daa489e-6b35-46ca-83a4-1bba2ea35f68");
	assert_int_equal(r.state, MID_STATE_PENDING);
	assert_string_equal(r.activation_code, "928401");
	assert_string_equal(r.expiry, "2021-01-21T24:17:57.123Z");
	/* 2021-01-22T00:17:57.123Z */
	assert_int_equal(r.expiry_ms, 1611274677123LL);
	assert_string_equal(r.device_name, "My iPhone");
	assert_string_equal(r.device_id, "");

	assert_int_equal(mid_parse_registration(L("{\"transactionId\":\"t1\",\"state\":\"COMPLETED\","
	                                          "\"device\":{\"id\":\"dev-1\",\"name\":\"p\"}}"),
	                                        &r, err, sizeof(err)), 0);
	assert_int_equal(r.state, MID_STATE_COMPLETED);
	assert_string_equal(r.device_id, "dev-1");
	assert_int_equal(r.expiry_ms, 0);

	assert_int_equal(mid_parse_registration(L("{\"transactionId\":\"t1\",\"state\":\"FAILED\","
	                                          "\"errorCode\":\"EXPIRED\",\"errorDescription\":"
	                                          "\"The operation failed\\u0007.\"}"),
	                                        &r, err, sizeof(err)), 0);
	assert_int_equal(r.state, MID_STATE_FAILED);
	assert_string_equal(r.error_code, "EXPIRED");
	assert_string_equal(r.error_description, "The operation failed.");
	assert_int_equal(mid_parse_registration(L("{\"transactionId\":\"t1\",\"state\":\"FAILED\"}"),
	                                        &r, err, sizeof(err)), 0);
	assert_string_equal(r.error_code, "UNKNOWN");
}

static void test_registration_bad(void **state)
{
	static const struct { const char *body, *why; } bad[] = {
		{ "{\"state\":\"PENDING\"}", "transactionId" },
		{ "{\"transactionId\":\"a/b\",\"state\":\"PENDING\"}", "transactionId" },
		{ "{\"transactionId\":\"t\"}", "no state" },
		{ "{\"transactionId\":\"t\",\"state\":\"SUCCESS\"}", "unknown state" },
		{ "{\"transactionId\":\"t\",\"state\":\"PENDING\"}", "activationCode" },
		{ "{\"transactionId\":\"t\",\"state\":\"PENDING\",\"operationProperties\":"
		  "{\"activationCode\":\"\"}}", "activationCode" },
		{ "{\"transactionId\":\"t\",\"state\":\"PENDING\",\"operationProperties\":"
		  "{\"activationCode\":\"12 34\"}}", "activationCode" },
		{ "{\"transactionId\":\"t\",\"state\":\"PENDING\",\"operationProperties\":"
		  "{\"activationCode\":\"1\\u001b[31m\"}}", "activationCode" },
		{ "not json", "invalid JSON" },
	};
	mid_registration r;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mid_parse_registration(bad[i].body, strlen(bad[i].body), &r, err,
		                                        sizeof(err)), -1);
		assert_contains(err, bad[i].why);
	}
}

static void test_iso8601(void **state)
{
	(void)state;
	assert_int_equal(mid_parse_iso8601("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(mid_parse_iso8601("2021-01-21T22:47:27.123Z"), 1611269247123LL);
	assert_int_equal(mid_parse_iso8601("2021-01-21T22:47:27.1Z"), 1611269247100LL);
	assert_int_equal(mid_parse_iso8601("2021-01-21T22:47:27.123456Z"), 1611269247123LL);
	assert_int_equal(mid_parse_iso8601("2021-01-21T23:47:27+01:00"), 1611269247000LL);
	assert_int_equal(mid_parse_iso8601("2021-01-21T21:47:27-01:00"), 1611269247000LL);
	static const char *const bad[] = {
		NULL, "", "2021-01-21", "2021-01-21T22:47:27", "2021-01-21 22:47:27Z",
		"2021-13-01T00:00:00Z", "2021-01-21T22:61:00Z", "2021-01-21T22:47:27.Z",
		"2021-01-21T22:47:27Zjunk", "2021-01-21T22:47:27+1:00", "1969-12-31T23:59:59Z",
		"2021-1-21T22:47:27Z",
		/* Found by fuzz/fuzz_admin_registration: signs and blanks where
		 * sscanf's %2d took them. */
		"2021-01-02T22:47:-0Z", "2021-01-21T22:47:27+-1:00", "2021-01-21T22:47:27+01:-0",
		"2021- 1-21T22:47:27Z", "+021-01-21T22:47:27Z", "2021-01-21T 2:47:27Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mid_parse_iso8601(bad[i]), -1);
}

/* ---- VerifID ------------------------------------------------------------------------ */

/* The spec's 200 example. */
static const char enrollment_body[] =
	"{\n\"Id\": \"018fa01b-1c42-4588-90da-dcaa52a8a236\",\n\"Kinds\": [\"Email\"],\n"
	"\"State\": \"New\",\n\"Outcome\": null,\n\"Name\": \"John\",\n\"LastName\": \"Doe\",\n"
	"\"DocumentNumber\": null,\n\"Email\": \"j.doe@namirial.com\",\n\"Phone\": null,\n"
	"\"Language\": \"it\",\n\"Provider\": \"bit4id\",\n\n\"Consumer\": \"duferco\",\n"
	"\"IdentificationUrl\": null,\n"
	"\"EnrollUrl\": \"https://verifid.ecertia.com/enrollment/start/018fa01b-1c42-4588-90da-dcaa52a8a236\",\n"
	"\"ReturnUrl\": \"https://duferco.com/a9474480-ffbe-4382-b2f0-9a7d7592fec2/enroll\"\n}";

static void test_verifid_enrollment(void **state)
{
	mid_verifid_enrollment e;
	char err[200];

	(void)state;
	assert_int_equal(mid_parse_verifid_enrollment(L(enrollment_body), &e, err, sizeof(err)), 0);
	assert_string_equal(e.id, "018fa01b-1c42-4588-90da-dcaa52a8a236");
	assert_string_equal(e.state, "New");
	assert_string_equal(e.provider, "bit4id");
	assert_string_equal(e.enroll_url, "https://verifid.ecertia.com/enrollment/start/"
	                    "018fa01b-1c42-4588-90da-dcaa52a8a236");
	mid_verifid_enrollment_free(&e);
	assert_null(e.enroll_url);

	static const char *const bad[] = {
		"{\"Id\":\"x\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"http://verifid.example/e\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.example/\\u001b]8;;evil\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.example/a b\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.example/\\\"><script>\"}",
		/* Found by fuzz/fuzz_verifid: a C1 control (U+009B is a terminal's
		 * CSI) or a raw non-ASCII byte in the link, a C1 control in the Id. */
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.example/\\u009b31m\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.example/\xc2\x9b" "31m\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.example/\xff\"}",
		"{\"Id\":\"x\",\"EnrollUrl\":\"https://v.\xc3\xa9xample/\"}",
		"{\"Id\":\"x\\u009b2J\",\"EnrollUrl\":\"https://v.example/e\"}",
		"{\"Id\":\"x\\u0007\",\"EnrollUrl\":\"https://v.example/e\"}",
		"{\"EnrollUrl\":\"https://v.example/e\"}",
		"{\"Id\":\"\",\"EnrollUrl\":\"https://v.example/e\"}",
		"[\"https://v.example/e\"]",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mid_parse_verifid_enrollment(bad[i], strlen(bad[i]), &e, err,
		                                              sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_null(e.enroll_url);
	}
}

static void test_verifid_errors(void **state)
{
	mid_verifid_error e;

	(void)state;
	/* The spec's 401, 400 and 503 examples. */
	assert_int_equal(mid_parse_verifid_error(L(
		"{\n    \"Type\": \"https://verif.id/error/-authn\",\n"
		"    \"Title\": \"There was a problem authenticating the request\",\n"
		"    \"Details\": \"Authentication failed: bad token.\"\n}"), &e), 0);
	assert_string_equal(e.type, "https://verif.id/error/-authn");
	assert_string_equal(e.title, "There was a problem authenticating the request");
	assert_string_equal(e.details, "Authentication failed: bad token.");
	assert_int_equal(mid_parse_verifid_error(L(
		"{\"Type\": \"https://verif.id/error/-bad-request\",\"Title\": \"The request is invalid\","
		"\"Details\": \"Bit4Id::SPIDOnly::Duferco can't enroll requests with an empty lastname\"}"),
		&e), 0);
	assert_contains(e.details, "empty lastname");
	assert_int_equal(mid_parse_verifid_error(L(
		"{\"Type\": \"https://verif.id/error/-service-unavailable\",\"Title\": \"The server is "
		"currently unable to handle the request\",\"Details\": \"Problems found trying to contact "
		"with OnBoarding Today API\"}"), &e), 0);
	assert_contains(e.title, "unable to handle");
	/* Control characters removed; not an error body. */
	assert_int_equal(mid_parse_verifid_error(L("{\"Title\":\"a\\r\\nInjected: 1\"}"), &e), 0);
	assert_string_equal(e.title, "aInjected: 1");
	assert_int_equal(mid_parse_verifid_error(L("{}"), &e), -1);
	assert_int_equal(mid_parse_verifid_error(L("<html>503</html>"), &e), -1);
	assert_int_equal(mid_parse_verifid_error(NULL, 0, &e), -1);
}

/* ---- configuration ------------------------------------------------------------------ */

static mid_config *conf(void)
{
	mid_config *cfg = mid_config_new();
	char err[300];

	assert_non_null(cfg);
	assert_int_equal(mid_config_set(cfg, "client_id", "id", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "client_secret", "pw", "t", err, sizeof(err)), 0);
	return cfg;
}

static void test_verifid_keys(void **state)
{
	mid_config *cfg = conf();
	char err[300];

	(void)state;
	assert_string_equal(cfg->verifid_url, "https://verifid.ecertia.com/api/v1");
	assert_string_equal(cfg->verifid_language, "en");
	assert_int_equal(cfg->verifid_link_interval_ms, 900000);
	assert_null(cfg->verifid_profile);
	/* Bare names stay unambiguous: api_url is still [signicat]'s. */
	assert_int_equal(mid_config_set(cfg, "api_url", "https://a.example/core", "t", err,
	                                sizeof(err)), 0);
	assert_string_equal(cfg->api_url, "https://a.example/core");
	assert_string_equal(cfg->verifid_url, "https://verifid.ecertia.com/api/v1");
	assert_int_equal(mid_config_set(cfg, "url", "https://v.example/api/v1", "t", err,
	                                sizeof(err)), 0);
	assert_string_equal(cfg->verifid_url, "https://v.example/api/v1");
	assert_int_equal(mid_config_set(cfg, "verifid.profile", "P1", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "email", "%u@example.com", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "link_interval", "5m", "t", err, sizeof(err)), 0);
	assert_int_equal(cfg->verifid_link_interval_ms, 300000);

	assert_int_equal(mid_config_set(cfg, "verifid.url", "http://v.example", "t", err,
	                                sizeof(err)), -1);
	assert_contains(err, "[verifid] url");
	assert_int_equal(mid_config_set(cfg, "return_url", "ftp://x", "t", err, sizeof(err)), -1);
	assert_contains(err, "[verifid] return_url");
	assert_int_equal(mid_config_set(cfg, "email", "%c@example.com", "t", err, sizeof(err)), -1);
	assert_contains(err, "unknown template code");
	assert_int_equal(mid_config_set(cfg, "link_interval", "10s", "t", err, sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "api_token_file", "rel/path", "t", err, sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "api_token", "a\nb", "t", err, sizeof(err)), -1);
	mid_config_free(cfg);
}

static void test_verifid_check_config(void **state)
{
	char dir[] = "/tmp/mobileid-test-admin-XXXXXX", path[PATH_MAX], err[600];
	mid_config *cfg = conf();
	FILE *f;

	(void)state;
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "[verifid] profile: missing");
	assert_int_equal(mid_config_set(cfg, "profile", "P1", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "[verifid] api_token: missing");
	assert_int_equal(mid_config_set(cfg, "api_token", "tok", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "[verifid] email: missing");
	assert_int_equal(mid_config_set(cfg, "email", "%u@example.com", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), 0);

	/* The token from a file: not both, and the file's permissions count. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token", dir);
	assert_int_equal(mid_config_set(cfg, "api_token_file", path, "t", err, sizeof(err)), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "not both");
	assert_int_equal(mid_config_set(cfg, "api_token", "", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "[verifid] api_token_file");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("from-file\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "chmod 0600");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(mid_verifid_check_config(cfg, err, sizeof(err)), -1);
	assert_contains(err, "is empty");
	unlink(path);
	rmdir(dir);
	mid_config_free(cfg);
}

static void test_external_ref(void **state)
{
	mid_config *cfg = conf();
	char err[300], *ref = NULL, host[HOST_NAME_MAX + 1] = "", want[600], longuser[300];

	(void)state;
	assert_int_equal(mid_external_ref_for(cfg, "Alice", "sshd", &ref, err, sizeof(err)), 0);
	assert_string_equal(ref, "Alice");
	free(ref);
	assert_int_equal(mid_config_set(cfg, "externalref", "corp-%U.%s@%h", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_external_ref_for(cfg, "Alice", "sshd", &ref, err, sizeof(err)), 0);
	gethostname(host, sizeof(host) - 1);
	snprintf(want, sizeof(want), "corp-alice.sshd@%s", host);
	assert_string_equal(ref, want);
	free(ref);
	/* No service: "" as in the modules' expansion. */
	assert_int_equal(mid_external_ref_for(cfg, "Alice", NULL, &ref, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "corp-alice.@%s", host);
	assert_string_equal(ref, want);
	free(ref);

	assert_int_equal(mid_external_ref_for(cfg, "", "s", &ref, err, sizeof(err)), -1);
	assert_null(ref);
	/* Never a cleaned copy of a bad name: that could be another user. */
	assert_int_equal(mid_external_ref_for(cfg, "ali\rce", "s", &ref, err, sizeof(err)), -1);
	assert_contains(err, "control characters");
	assert_null(ref);
	assert_int_equal(mid_external_ref_for(cfg, "ali\xff" "ce", "s", &ref, err, sizeof(err)), -1);
	assert_null(ref);
	/* externalref = map: the account map decides (here: there is none). */
	assert_int_equal(mid_config_set(cfg, "externalref", "map", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "map.file", "/nonexistent/mobileid-test.map", "t", err,
	                                sizeof(err)), 0);
	assert_int_equal(mid_external_ref_for(cfg, "alice", "s", &ref, err, sizeof(err)), -1);
	assert_null(ref);
	assert_true(err[0] != '\0');
	assert_int_equal(mid_config_set(cfg, "externalref", "%u", "t", err, sizeof(err)), 0);
	memset(longuser, 'x', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	assert_int_equal(mid_external_ref_for(cfg, longuser, "s", &ref, err, sizeof(err)), -1);
	assert_contains(err, "too long (over 255 bytes)");
	assert_null(ref);
	mid_config_free(cfg);
}

static void test_url_host_port(void **state)
{
	char host[64];
	int port = 0;

	(void)state;
	assert_int_equal(mid_url_host_port("https://127.0.0.1:8443/mobileid/core", host,
	                                   sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8443);
	assert_int_equal(mid_url_host_port("https://API.signicat.com/auth/open/connect/token", host,
	                                   sizeof(host), &port), 0);
	assert_string_equal(host, "API.signicat.com");
	assert_int_equal(port, 443);
	assert_int_equal(mid_url_host_port("https://[::1]:9/x", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9);
	assert_int_equal(mid_url_host_port("http://proxy.example:3128", host, sizeof(host), &port), 0);
	assert_int_equal(port, 3128);
	assert_int_equal(mid_url_host_port("not a url", host, sizeof(host), &port), -1);
	assert_int_equal(mid_url_host_port("https://a-very-long-host-name.example/", host, 8, &port),
	                 -1);
}

/* ---- the remembered enrollment link ---------------------------------------------------- */

static void write_record(const mid_config *cfg, const char *user, const char *rec_user,
                         int64_t created_ms)
{
	char name[64], key[17], data[512], err[300];
	mid_buf b = { 0 };

	/* The file name verifid.c uses: hash of url, profile and user. */
	assert_int_equal(mid_buf_printf(&b, "%s\n%s\n%s", cfg->verifid_url, cfg->verifid_profile,
	                                user), 0);
	mid_hash_hex(b.data, key);
	mid_buf_free(&b);
	snprintf(name, sizeof(name), "enroll-%s.json", key);
	snprintf(data, sizeof(data), "{\"user\":\"%s\",\"url\":\"https://v.example/e/%s\","
	         "\"id\":\"x\",\"created_ms\":%lld}", rec_user, rec_user, (long long)created_ms);
	assert_int_equal(mid_cache_write(cfg->cache_dir, name, data, strlen(data), err,
	                                 sizeof(err)), 0);
}

static void test_enroll_link_memory(void **state)
{
	char dir[] = "/tmp/mobileid-test-link-XXXXXX", err[600], trace[80], *url = NULL;
	mid_config *cfg = conf();
	int reused = 7;
	mid_result r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Nowhere to remember links: refused before any network call. */
	assert_int_equal(mid_config_set(cfg, "cache_dir", "", "t", err, sizeof(err)), 0);
	r = mid_enroll_link(cfg, "alice", "sshd", NULL, NULL, &url, &reused, trace, err, sizeof(err));
	assert_int_equal(r, MID_CONFIG_ERROR);
	assert_contains(err, "cache_dir");
	assert_null(url);
	assert_int_equal(reused, 0);

	assert_int_equal(mid_config_set(cfg, "cache_dir", dir, "t", err, sizeof(err)), 0);
	r = mid_enroll_link(cfg, "ali\nce", "sshd", NULL, NULL, &url, &reused, trace, err,
	                    sizeof(err));
	assert_int_equal(r, MID_USER_UNKNOWN);
	assert_null(url);
	r = mid_enroll_link(cfg, "alice", "sshd", NULL, NULL, &url, &reused, trace, err, sizeof(err));
	assert_int_equal(r, MID_CONFIG_ERROR);
	assert_contains(err, "[verifid] profile");

	/* A fresh record is shown again without asking VerifID (the URL is unreachable). */
	assert_int_equal(mid_config_set(cfg, "profile", "P1", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "verifid.url", "https://127.0.0.1:1/api/v1", "t", err,
	                                sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "connect_timeout", "1", "t", err, sizeof(err)), 0);
	write_record(cfg, "alice", "alice", mid_wall_ms() - 1000);
	r = mid_enroll_link(cfg, "alice", "sshd", NULL, NULL, &url, &reused, trace, err, sizeof(err));
	assert_int_equal(r, MID_APPROVED);
	assert_int_equal(reused, 1);
	assert_string_equal(url, "https://v.example/e/alice");
	free(url);
	url = NULL;

	/* Too old, from the future, or another user's: a new link is wanted, which
	 * needs a person and the token (not configured here) - never the old URL. */
	write_record(cfg, "alice", "alice", mid_wall_ms() - cfg->verifid_link_interval_ms - 1);
	r = mid_enroll_link(cfg, "alice", "sshd", NULL, NULL, &url, &reused, trace, err, sizeof(err));
	assert_int_not_equal(r, MID_APPROVED);
	assert_null(url);
	assert_int_equal(reused, 0);
	write_record(cfg, "alice", "alice", mid_wall_ms() + 3600000);
	r = mid_enroll_link(cfg, "alice", "sshd", NULL, NULL, &url, &reused, trace, err, sizeof(err));
	assert_int_not_equal(r, MID_APPROVED);
	assert_null(url);
	write_record(cfg, "alice", "mallory", mid_wall_ms());
	r = mid_enroll_link(cfg, "alice", "sshd", NULL, NULL, &url, &reused, trace, err, sizeof(err));
	assert_int_not_equal(r, MID_APPROVED);
	assert_null(url);

	/* With e-mail and token but no name (no such account): refused, no network. */
	assert_int_equal(mid_config_set(cfg, "email", "%u@example.com", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "api_token", "tok", "t", err, sizeof(err)), 0);
	r = mid_enroll_link(cfg, "no-such-account-mobileid-test", "sshd", NULL, NULL, &url, &reused,
	                    trace, err, sizeof(err));
	assert_int_equal(r, MID_CONFIG_ERROR);
	assert_contains(err, "name");
	/* And with a name, the unreachable service is MID_UNAVAILABLE. */
	{
		mid_verifid_person p = { "a@example.com", "Ann", "Example" };
		mid_verifid_enrollment e;

		r = mid_verifid_create(cfg, &p, NULL, NULL, &e, trace, err, sizeof(err));
		assert_int_equal(r, MID_UNAVAILABLE);
		assert_contains(err, "create VerifID enrollment");
		assert_null(e.enroll_url);
	}
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
	mid_config_free(cfg);
}

static void test_person_of(void **state)
{
	mid_config *cfg = conf();
	char *email, *first, *last, err[200];

	(void)state;
	/* No e-mail template, no such account: nothing known. */
	assert_int_equal(mid_verifid_person_of(cfg, "no-such-account-mobileid-test", "s", &email,
	                                       &first, &last), 0);
	assert_null(email);
	assert_null(first);
	assert_null(last);
	assert_int_equal(mid_config_set(cfg, "email", "%U@Example.com", "t", err, sizeof(err)), 0);
	assert_int_equal(mid_verifid_person_of(cfg, "Bob", "s", &email, &first, &last), 0);
	assert_string_equal(email, "bob@Example.com");
	free(email);
	free(first);
	free(last);
	/* root's GECOS is one word ("root"): a last name only. */
	assert_int_equal(mid_verifid_person_of(cfg, "root", "s", &email, &first, &last), 0);
	assert_string_equal(email, "root@Example.com");
	assert_null(first);
	assert_non_null(last);
	free(email);
	free(first);
	free(last);
	mid_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_info),
		cmocka_unit_test(test_user_info_hostile),
		cmocka_unit_test(test_device_list),
		cmocka_unit_test(test_registration),
		cmocka_unit_test(test_registration_bad),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_verifid_enrollment),
		cmocka_unit_test(test_verifid_errors),
		cmocka_unit_test(test_verifid_keys),
		cmocka_unit_test(test_verifid_check_config),
		cmocka_unit_test(test_external_ref),
		cmocka_unit_test(test_url_host_port),
		cmocka_unit_test(test_enroll_link_memory),
		cmocka_unit_test(test_person_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

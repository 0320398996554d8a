/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_config.c - mobileid.conf: defaults, every key, durations, ranges,
 * URLs, templates, file safety checks, client_secret_file, overrides.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mid_config.h"
#include "testutil.h"

struct fx {
	char dir[64];
	char path[128];      /* dir/mobileid.conf */
	char secret[128];    /* dir/secret */
	char err[1024];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (tu_mkdtemp(f->dir, sizeof(f->dir), "config") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/mobileid.conf", f->dir);
	snprintf(f->secret, sizeof(f->secret), "%s/secret", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Write text as the config file (mode 0600) and load it. */
static mid_config *load_text(struct fx *f, const char *text, int flags)
{
	tu_write_file(f->path, text, 0600);
	f->err[0] = '\0';
	return mid_config_load(f->path, flags, f->err, sizeof(f->err));
}

/* Load text and expect failure; err must be exactly "<path>:<rest>". */
static void expect_load_error(struct fx *f, const char *text, const char *rest)
{
	char want[1024];
	mid_config *cfg = load_text(f, text, 0);

	if (cfg) {
		mid_config_free(cfg);
		fail_msg("loading succeeded; expected \"%s\"", rest);
	}
	snprintf(want, sizeof(want), "%s:%s", f->path, rest);
	assert_string_equal(f->err, want);
}

static void check_defaults(const mid_config *cfg)
{
	assert_string_equal(cfg->api_url, "https://api.signicat.com/mobileid/core");
	assert_string_equal(cfg->token_url, "https://api.signicat.com/auth/open/connect/token");
	assert_null(cfg->client_id);
	assert_null(cfg->client_secret);
	assert_null(cfg->client_secret_file);
	assert_null(cfg->ca_file);
	assert_null(cfg->http_proxy);
	assert_int_equal(cfg->connect_timeout_ms, 5000);
	assert_int_equal(cfg->request_timeout_ms, 10000);
	assert_int_equal(cfg->max_response_size, 262144);
	assert_string_equal(cfg->auth_level, "TWO_FACTOR");
	assert_string_equal(cfg->cache_dir, "/var/cache/mobileid");
	assert_int_equal(cfg->user_cache_ttl_ms, 3600000);
	assert_string_equal(cfg->externalref, "%u");
	assert_int_equal(cfg->push_timeout_ms, 60000);
	assert_int_equal(cfg->poll_interval_ms, 500);
	assert_int_equal(cfg->failmode, MID_FAILMODE_SECURE);
	assert_int_equal(cfg->prompt, MID_PROMPT_SETTING_AUTO);
	assert_string_equal(cfg->context_title, "Login to %h");
	/* The default's \n escapes are real newlines. */
	assert_string_equal(cfg->context_content,
	                    "User: %u\nService: %s\nFrom: %r\nCode: %c\nTime: %t");
	assert_string_equal(cfg->message, "Approve the login on your phone (code %c)");
	assert_int_equal(cfg->debug, 0);
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults_new(void **state)
{
	mid_config *cfg = mid_config_new();

	(void)state;
	assert_non_null(cfg);
	check_defaults(cfg);
	assert_null(cfg->path);
	assert_int_equal(cfg->load_flags, 0);
	mid_config_free(cfg);
	mid_config_free(NULL);   /* harmless */
}

static void test_defaults_empty_file(void **state)
{
	struct fx *f = *state;
	mid_config *cfg = load_text(f, "", 0);

	assert_non_null(cfg);
	check_defaults(cfg);
	assert_string_equal(cfg->path, f->path);
	mid_config_free(cfg);

	/* Comments, blank lines, sections without keys change nothing. */
	cfg = load_text(f, "# comment\n; another\n\n[signicat]\n\n[auth]\n", 0);
	assert_non_null(cfg);
	check_defaults(cfg);
	mid_config_free(cfg);
}

/* ---- every key ----------------------------------------------------------- */

static void test_every_key(void **state)
{
	struct fx *f = *state;
	mid_config *cfg;

	cfg = load_text(f,
		"[signicat]\n"
		"api_url = https://sim.example:8443/mobileid/core\n"
		"token_url = https://sim.example:8443/auth/open/connect/token\n"
		"client_id = sandbox-client-1\n"
		"client_secret = s3cr3t value\n"
		"ca_file = /etc/mobileid/ca.pem\n"
		"http_proxy = http://proxy.example:3128\n"
		"connect_timeout = 2\n"
		"request_timeout = 1500ms\n"
		"max_response_size = 65536\n"
		"auth_level = ONE_FACTOR\n"
		"cache_dir = /run/mobileid\n"
		"user_cache_ttl = 5m\n"
		"\n"
		"[auth]\n"
		"externalref = corp-%U@%h\n"
		"push_timeout = 90s\n"
		"poll_interval = 250\n"
		"failmode = safe\n"
		"prompt = enter\n"
		"context_title = %s on %h\n"
		"context_content = %u from %r\\ncode %c at %t: %C 100%%\n"
		"message = Check your phone (%c)\n"
		"debug = yes\n", 0);
	assert_non_null(cfg);
	assert_string_equal(cfg->api_url, "https://sim.example:8443/mobileid/core");
	assert_string_equal(cfg->token_url, "https://sim.example:8443/auth/open/connect/token");
	assert_string_equal(cfg->client_id, "sandbox-client-1");
	assert_string_equal(cfg->client_secret, "s3cr3t value");
	assert_null(cfg->client_secret_file);
	assert_string_equal(cfg->ca_file, "/etc/mobileid/ca.pem");
	assert_string_equal(cfg->http_proxy, "http://proxy.example:3128");
	assert_int_equal(cfg->connect_timeout_ms, 2000);
	assert_int_equal(cfg->request_timeout_ms, 1500);
	assert_int_equal(cfg->max_response_size, 65536);
	assert_string_equal(cfg->auth_level, "ONE_FACTOR");
	assert_string_equal(cfg->cache_dir, "/run/mobileid");
	assert_int_equal(cfg->user_cache_ttl_ms, 300000);
	assert_string_equal(cfg->externalref, "corp-%U@%h");
	assert_int_equal(cfg->push_timeout_ms, 90000);
	assert_int_equal(cfg->poll_interval_ms, 250);
	assert_int_equal(cfg->failmode, MID_FAILMODE_SAFE);
	assert_int_equal(cfg->prompt, MID_PROMPT_SETTING_ENTER);
	assert_string_equal(cfg->context_title, "%s on %h");
	assert_string_equal(cfg->context_content, "%u from %r\ncode %c at %t: %C 100%%");
	assert_string_equal(cfg->message, "Check your phone (%c)");
	assert_int_equal(cfg->debug, 1);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), 0);
	assert_string_equal(cfg->client_secret, "s3cr3t value");
	mid_config_free(cfg);
}

static void test_comments_and_whitespace(void **state)
{
	struct fx *f = *state;
	mid_config *cfg;

	cfg = load_text(f,
		"\xef\xbb\xbf# a UTF-8 BOM, comments and odd spacing\n"
		"[signicat]\n"
		"client_id=abc   ; inline comment\n"
		"   client_secret   =   xyz   \n"
		"\n"
		"[auth]\n"
		"\tpush_timeout = 30\n"
		"  poll_interval = 1s\n"
		"; push_timeout = 99\n"
		"# poll_interval = 99\n", 0);
	if (!cfg)
		fail_msg("load failed: %s", f->err);
	assert_string_equal(cfg->client_id, "abc");
	assert_string_equal(cfg->client_secret, "xyz");
	assert_int_equal(cfg->push_timeout_ms, 30000);
	assert_int_equal(cfg->poll_interval_ms, 1000);
	mid_config_free(cfg);
}

/* ---- durations ----------------------------------------------------------- */

static void test_duration_keys(void **state)
{
	static const struct { const char *v; long ms; } push[] = {
		{ "30", 30000 }, { "30s", 30000 }, { "1m", 60000 }, { "5000ms", 5000 },
		{ "5", 5000 }, { "10m", 600000 }, { "600s", 600000 }, { "45500ms", 45500 },
	};
	static const struct { const char *v; long ms; } poll[] = {
		{ "500", 500 }, { "500ms", 500 }, { "1s", 1000 }, { "100", 100 },
		{ "10000", 10000 }, { "10s", 10000 },
	};
	struct fx *f = *state;
	char text[256];
	mid_config *cfg;

	for (size_t i = 0; i < sizeof(push) / sizeof(push[0]); i++) {
		snprintf(text, sizeof(text), "[auth]\npush_timeout = %s\n", push[i].v);
		cfg = load_text(f, text, 0);
		if (!cfg)
			fail_msg("push_timeout = %s: %s", push[i].v, f->err);
		assert_int_equal(cfg->push_timeout_ms, push[i].ms);
		mid_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(poll) / sizeof(poll[0]); i++) {
		snprintf(text, sizeof(text), "[auth]\npoll_interval = %s\n", poll[i].v);
		cfg = load_text(f, text, 0);
		if (!cfg)
			fail_msg("poll_interval = %s: %s", poll[i].v, f->err);
		assert_int_equal(cfg->poll_interval_ms, poll[i].ms);
		mid_config_free(cfg);
	}
}

static void test_duration_bad(void **state)
{
	static const char *bad[] = {
		"", "-30", "+30", "30x", "30 s", "1.5s", "s", "ms", "30S", "1h", "0x10",
		"30sec", "99999999999999999999", "9223372036854775807m", " 30", "\t30",
		" -999999999999999m", "30 ",
	};
	struct fx *f = *state;
	char err[512];
	mid_config *cfg = mid_config_new();

	assert_non_null(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[256];
		err[0] = '\0';
		if (mid_config_set(cfg, "auth.push_timeout", bad[i], "test", err, sizeof(err)) == 0)
			fail_msg("push_timeout '%s' was accepted", bad[i]);
		snprintf(want, sizeof(want), "test: [auth] push_timeout: bad value '%s' "
		         "(a duration from 2000ms to 600s, e.g. 30 or 30s)", bad[i]);
		assert_string_equal(err, want);
		assert_int_equal(cfg->push_timeout_ms, 60000);   /* unchanged */
	}
	mid_config_free(cfg);

	/* In a file the message names file and line. */
	expect_load_error(f, "[auth]\n\npoll_interval = fast\n",
	                  "3: [auth] poll_interval: bad value 'fast' "
	                  "(a duration from 100ms to 10s, e.g. 500 or 500ms)");
}

/* ---- ranges -------------------------------------------------------------- */

static void test_ranges(void **state)
{
	static const struct { const char *key, *value; int ok; long ms; } t[] = {
		{ "auth.push_timeout", "1", 0, 0 },
		{ "auth.push_timeout", "1999ms", 0, 0 },
		{ "auth.push_timeout", "2000ms", 1, 2000 },
		{ "auth.push_timeout", "2", 1, 2000 },
		{ "auth.push_timeout", "600", 1, 600000 },
		{ "auth.push_timeout", "601", 0, 0 },
		{ "auth.push_timeout", "11m", 0, 0 },
		{ "auth.push_timeout", "0", 0, 0 },
		{ "auth.poll_interval", "99", 0, 0 },
		{ "auth.poll_interval", "100", 1, 100 },
		{ "auth.poll_interval", "10001", 0, 0 },
		{ "auth.poll_interval", "11s", 0, 0 },
		{ "signicat.connect_timeout", "99ms", 0, 0 },
		{ "signicat.connect_timeout", "100ms", 1, 100 },
		{ "signicat.connect_timeout", "60", 1, 60000 },
		{ "signicat.connect_timeout", "61", 0, 0 },
		{ "signicat.request_timeout", "199ms", 0, 0 },
		{ "signicat.request_timeout", "200ms", 1, 200 },
		{ "signicat.request_timeout", "2m", 1, 120000 },
		{ "signicat.request_timeout", "121", 0, 0 },
		{ "signicat.user_cache_ttl", "0", 1, 0 },
		{ "signicat.user_cache_ttl", "604800", 1, 604800000 },
		{ "signicat.user_cache_ttl", "604801", 0, 0 },
		{ "signicat.max_response_size", "1023", 0, 0 },
		{ "signicat.max_response_size", "1024", 1, 1024 },
		{ "signicat.max_response_size", "16777216", 1, 16777216 },
		{ "signicat.max_response_size", "16777217", 0, 0 },
		{ "signicat.max_response_size", "64k", 0, 0 },
		{ "signicat.max_response_size", "4096ms", 0, 0 },
		{ "signicat.max_response_size", "-4096", 0, 0 },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mid_config *cfg = mid_config_new();
		int rc;
		long got = -1;

		assert_non_null(cfg);
		err[0] = '\0';
		rc = mid_config_set(cfg, t[i].key, t[i].value, "arg", err, sizeof(err));
		if (!strcmp(t[i].key, "auth.push_timeout"))
			got = cfg->push_timeout_ms;
		else if (!strcmp(t[i].key, "auth.poll_interval"))
			got = cfg->poll_interval_ms;
		else if (!strcmp(t[i].key, "signicat.connect_timeout"))
			got = cfg->connect_timeout_ms;
		else if (!strcmp(t[i].key, "signicat.request_timeout"))
			got = cfg->request_timeout_ms;
		else if (!strcmp(t[i].key, "signicat.user_cache_ttl"))
			got = cfg->user_cache_ttl_ms;
		else if (!strcmp(t[i].key, "signicat.max_response_size"))
			got = cfg->max_response_size;
		mid_config_free(cfg);
		if (t[i].ok) {
			if (rc != 0)
				fail_msg("%s = %s refused: %s", t[i].key, t[i].value, err);
			assert_int_equal(got, t[i].ms);
		} else {
			if (rc == 0)
				fail_msg("%s = %s accepted", t[i].key, t[i].value);
			assert_contains(err, "bad value '");
			assert_contains(err, t[i].value);
		}
	}

	mid_config *cfg = mid_config_new();
	assert_non_null(cfg);
	assert_int_equal(mid_config_set(cfg, "max_response_size", "1k", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] max_response_size: bad value '1k' "
	                    "(bytes, 1024 to 16777216)");
	assert_int_equal(mid_config_set(cfg, "connect_timeout", "61s", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] connect_timeout: bad value '61s' "
	                    "(a duration from 100ms to 60s, e.g. 30 or 30s)");
	mid_config_free(cfg);
}

/* ---- URLs, paths, strings ---------------------------------------------------- */

static void test_urls_https_only(void **state)
{
	static const char *bad[] = {
		"http://api.signicat.com/mobileid/core", "https://", "HTTPS://api.example",
		"ftp://api.example", "api.signicat.com", "", " https://api.example",
		"https:/api.example",
	};
	char err[512], want[512];
	mid_config *cfg = mid_config_new();
	struct fx *f = *state;

	assert_non_null(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mid_config_set(cfg, "api_url", bad[i], "arg", err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "arg: [signicat] api_url: '%s' is not an https:// URL",
		         bad[i]);
		assert_string_equal(err, want);
		assert_int_equal(mid_config_set(cfg, "signicat.token_url", bad[i], "arg", err,
		                                sizeof(err)), -1);
		assert_contains(err, "[signicat] token_url: '");
		assert_contains(err, "is not an https:// URL");
	}
	assert_string_equal(cfg->api_url, "https://api.signicat.com/mobileid/core");
	assert_int_equal(mid_config_set(cfg, "api_url", "https://127.0.0.1:8443/core", "arg",
	                                err, sizeof(err)), 0);
	assert_string_equal(cfg->api_url, "https://127.0.0.1:8443/core");
	/* Control characters are refused even in an https URL. */
	assert_int_equal(mid_config_set(cfg, "api_url", "https://a\r\nHost: evil", "arg",
	                                err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] api_url: control characters are not allowed");
	mid_config_free(cfg);

	expect_load_error(f, "[signicat]\napi_url = http://sim:8080/core\n",
	                  "2: [signicat] api_url: 'http://sim:8080/core' is not an https:// URL");
}

static void test_paths_and_strings(void **state)
{
	char err[512];
	mid_config *cfg = mid_config_new();

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(mid_config_set(cfg, "ca_file", "ca.pem", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] ca_file: 'ca.pem' is not an absolute path");
	assert_int_equal(mid_config_set(cfg, "cache_dir", "var/cache", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] cache_dir: 'var/cache' is not an absolute path");
	assert_int_equal(mid_config_set(cfg, "client_secret_file", "./s", "arg", err,
	                                sizeof(err)), -1);
	assert_contains(err, "client_secret_file: './s' is not an absolute path");
	/* An empty cache_dir disables the caches. */
	assert_int_equal(mid_config_set(cfg, "cache_dir", "", "arg", err, sizeof(err)), 0);
	assert_string_equal(cfg->cache_dir, "");
	assert_int_equal(mid_config_set(cfg, "client_id", "a\x01" "b", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] client_id: control characters are not allowed");
	assert_int_equal(mid_config_set(cfg, "client_secret", "x\ny", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] client_secret: control characters are not allowed");
	assert_int_equal(mid_config_set(cfg, "http_proxy", "p\x7f", "arg", err, sizeof(err)), -1);
	assert_null(cfg->client_id);
	assert_null(cfg->client_secret);
	/* A tab is not a control character here. */
	assert_int_equal(mid_config_set(cfg, "client_id", "a\tb", "arg", err, sizeof(err)), 0);
	assert_string_equal(cfg->client_id, "a\tb");
	mid_config_free(cfg);
}

static void test_enums_and_bool(void **state)
{
	static const struct { const char *v; int b; } bools[] = {
		{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 }, { "on", 1 },
		{ "off", 0 }, { "1", 1 }, { "0", 0 }, { "YES", 1 }, { "False", 0 },
	};
	char err[512];
	mid_config *cfg = mid_config_new();

	(void)state;
	assert_non_null(cfg);
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		cfg->debug = -1;
		assert_int_equal(mid_config_set(cfg, "auth.debug", bools[i].v, "arg", err,
		                                sizeof(err)), 0);
		assert_int_equal(cfg->debug, bools[i].b);
	}
	assert_int_equal(mid_config_set(cfg, "debug", "maybe", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] debug: bad value 'maybe' (yes or no)");
	assert_int_equal(mid_config_set(cfg, "debug", "", "arg", err, sizeof(err)), -1);

	assert_int_equal(mid_config_set(cfg, "failmode", "safe", "arg", err, sizeof(err)), 0);
	assert_int_equal(cfg->failmode, MID_FAILMODE_SAFE);
	assert_int_equal(mid_config_set(cfg, "failmode", "secure", "arg", err, sizeof(err)), 0);
	assert_int_equal(cfg->failmode, MID_FAILMODE_SECURE);
	assert_int_equal(mid_config_set(cfg, "failmode", "SAFE", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] failmode: bad value 'SAFE' (secure or safe)");
	assert_int_equal(mid_config_set(cfg, "failmode", "open", "arg", err, sizeof(err)), -1);
	assert_int_equal(cfg->failmode, MID_FAILMODE_SECURE);

	assert_int_equal(mid_config_set(cfg, "prompt", "info", "arg", err, sizeof(err)), 0);
	assert_int_equal(cfg->prompt, MID_PROMPT_SETTING_INFO);
	assert_int_equal(mid_config_set(cfg, "prompt", "enter", "arg", err, sizeof(err)), 0);
	assert_int_equal(cfg->prompt, MID_PROMPT_SETTING_ENTER);
	assert_int_equal(mid_config_set(cfg, "prompt", "auto", "arg", err, sizeof(err)), 0);
	assert_int_equal(cfg->prompt, MID_PROMPT_SETTING_AUTO);
	assert_int_equal(mid_config_set(cfg, "prompt", "none", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] prompt: bad value 'none' (auto, info or enter)");

	assert_int_equal(mid_config_set(cfg, "auth_level", "ONE_FACTOR", "arg", err,
	                                sizeof(err)), 0);
	assert_string_equal(cfg->auth_level, "ONE_FACTOR");
	assert_int_equal(mid_config_set(cfg, "auth_level", "two_factor", "arg", err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "arg: [signicat] auth_level: bad value 'two_factor' "
	                    "(TWO_FACTOR or ONE_FACTOR)");
	assert_string_equal(cfg->auth_level, "ONE_FACTOR");
	mid_config_free(cfg);
}

/* ---- templates ----------------------------------------------------------- */

static void test_templates(void **state)
{
	char err[512];
	mid_config *cfg = mid_config_new();
	struct fx *f = *state;

	assert_non_null(cfg);
	/* externalRef: only %u %U %s %h %%. */
	assert_int_equal(mid_config_set(cfg, "externalref", "%x", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] externalref: unknown template code '%x' "
	                    "(allowed: uUsh%)");
	assert_int_equal(mid_config_set(cfg, "externalref", "%u-%c", "arg", err, sizeof(err)), -1);
	assert_contains(err, "unknown template code '%c'");
	assert_int_equal(mid_config_set(cfg, "externalref", "user%", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] externalref: the template ends with a lone '%'");
	assert_int_equal(mid_config_set(cfg, "externalref", "", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] externalref: must not be empty");
	assert_string_equal(cfg->externalref, "%u");
	assert_int_equal(mid_config_set(cfg, "externalref", "%U@%h-%s%%", "arg", err,
	                                sizeof(err)), 0);
	assert_string_equal(cfg->externalref, "%U@%h-%s%%");

	/* The other templates allow %u %U %h %s %r %c %t %C %%. */
	assert_int_equal(mid_config_set(cfg, "context_title", "%u%U%h%s%r%c%t%C%%", "arg", err,
	                                sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "message", "code %z", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] message: unknown template code '%z' "
	                    "(allowed: uUhsrctC%)");
	assert_int_equal(mid_config_set(cfg, "context_content", "100%", "arg", err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] context_content: the template ends with a lone '%'");
	/* Empty context templates are allowed. */
	assert_int_equal(mid_config_set(cfg, "context_title", "", "arg", err, sizeof(err)), 0);
	assert_string_equal(cfg->context_title, "");
	mid_config_free(cfg);

	expect_load_error(f, "[auth]\nexternalref = %u\ncontext_title = Login %q\n",
	                  "3: [auth] context_title: unknown template code '%q' "
	                  "(allowed: uUhsrctC%)");
	/* Control characters (but newline and tab) and bad UTF-8: refused, as
	 * they would reach terminals, JSON and logs as they are. */
	expect_load_error(f, "[auth]\nmessage = \x1b[2Jcode %c\n",
	                  "2: [auth] message: control characters are not allowed");
	expect_load_error(f, "[auth]\nexternalref = %u\x7f\n",
	                  "2: [auth] externalref: control characters are not allowed");
	expect_load_error(f, "[auth]\ncontext_title = Login \xc2%h\x9b\n",
	                  "2: [auth] context_title: not valid UTF-8");
	cfg = mid_config_new();
	assert_non_null(cfg);
	assert_int_equal(mid_config_set(cfg, "message", "a\rb", "arg", err, sizeof(err)), -1);
	assert_string_equal(err, "arg: [auth] message: control characters are not allowed");
	assert_int_equal(mid_config_set(cfg, "message", "line 1\n\tline 2 \xc3\xa9", "arg", err,
	                                sizeof(err)), 0);
	mid_config_free(cfg);
}

static void test_template_newline_escapes(void **state)
{
	struct fx *f = *state;
	mid_config *cfg;

	cfg = load_text(f,
		"[auth]\n"
		"context_content = line1\\nline2\\\\n\\tx\\\\\\nz\n"
		"message = Press Enter\\n\n", 0);
	if (!cfg)
		fail_msg("load failed: %s", f->err);
	/* \n -> newline, \\ -> backslash, other escapes stay as they are */
	assert_string_equal(cfg->context_content, "line1\nline2\\n\\tx\\\nz");
	assert_string_equal(cfg->message, "Press Enter\n");
	mid_config_free(cfg);
}

/* ---- file structure errors ----------------------------------------------- */

static void test_structure_errors(void **state)
{
	static const struct { const char *text, *rest; } t[] = {
		/* An unknown section. */
		{ "[signicat]\nclient_id = a\n[sigincat]\nclient_secret = b\n",
		  "4: unknown section [sigincat] (key client_secret)" },
		/* A key before any section. */
		{ "push_timeout = 30\n", "1: unknown section [] (key push_timeout)" },
		/* An unknown key. */
		{ "[auth]\npush_timout = 30\n", "2: [auth] push_timout: unknown key" },
		/* A real key in the wrong section. */
		{ "[signicat]\nclient_id = x\n\n# note\npush_timeout = 30\n",
		  "5: [signicat] push_timeout: unknown key" },
		/* A duplicate key... */
		{ "[auth]\n"                 /* 1 */
		  "# timeouts\n"             /* 2 */
		  "push_timeout = 30\n"      /* 3 */
		  "poll_interval = 500\n"    /* 4 */
		  "\n"                       /* 5 */
		  "failmode = secure\n"      /* 6 */
		  "push_timeout = 40\n",     /* 7 */
		  "7: [auth] push_timeout: duplicate key (first set on line 3)" },
		/* ... also when the section is repeated. */
		{ "[signicat]\nclient_id = a\n[auth]\ndebug = no\n[signicat]\nclient_id = b\n",
		  "6: [signicat] client_id: duplicate key (first set on line 2)" },
		/* Syntax errors, with their line. */
		{ "[auth]\npush_timeout = 30\n\nthis is not ini\ndebug = no\n",
		  "4: syntax error (expected [section] or key = value)" },
		{ "[signicat\nclient_id = a\n",
		  "1: syntax error (expected [section] or key = value)" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_load_error(f, t[i].text, t[i].rest);
}

static void test_line_too_long(void **state)
{
	struct fx *f = *state;
	char text[1024], value[400];
	mid_config *cfg;

	/* 198 characters fit. */
	memset(value, 'x', sizeof(value));
	value[198 - strlen("client_id = ")] = '\0';
	snprintf(text, sizeof(text), "[signicat]\nclient_id = %s\n", value);
	cfg = load_text(f, text, 0);
	if (!cfg)
		fail_msg("a 198-character line was refused: %s", f->err);
	assert_int_equal(strlen(cfg->client_id), 198 - strlen("client_id = "));
	mid_config_free(cfg);

	/* 300 do not, and the rest of the line is not read as a new line. */
	memset(value, 'x', sizeof(value));
	value[300] = '\0';
	memcpy(value + 250, "=z", 2);
	snprintf(text, sizeof(text), "[signicat]\n\nclient_id = %s\nclient_secret = s\n", value);
	expect_load_error(f, text,
	                  "3: [signicat] client_id: line too long (at most 198 characters)");

	/* A long comment is refused with its own line number, not the next key's. */
	memset(value, 'c', sizeof(value));
	value[300] = '\0';
	snprintf(text, sizeof(text), "[auth]\n# %s\npush_timeout = 30\ndebug = no\n", value);
	expect_load_error(f, text, "2: line too long (at most 198 characters)");

	/* A cut line that is not "key = value" either: the length is the reason. */
	snprintf(text, sizeof(text), "[auth]\n%s\ndebug = no\n", value);
	expect_load_error(f, text, "2: line too long (at most 198 characters)");

	/* Also as the last line of the file. */
	snprintf(text, sizeof(text), "[auth]\npush_timeout = 30\n# %s\n", value);
	expect_load_error(f, text, "3: line too long (at most 198 characters)");
}

/* ---- file safety ----------------------------------------------------------- */

static void test_mode_0644_refused(void **state)
{
	struct fx *f = *state;
	mid_config *cfg;
	char want[512];

	tu_write_file(f->path, "[auth]\n", 0644);
	cfg = mid_config_load(f->path, 0, f->err, sizeof(f->err));
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: mode 0644 gives access to group or others; run "
	         "chmod 0600 %s (it holds a secret)", f->path, f->path);
	assert_string_equal(f->err, want);

	/* 0640 needs MID_CONF_ALLOW_GROUP_READ (and our group). */
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_null(mid_config_load(f->path, 0, f->err, sizeof(f->err)));
	assert_contains(f->err, "mode 0640");
	assert_contains(f->err, "chmod 0600");
	cfg = mid_config_load(f->path, MID_CONF_ALLOW_GROUP_READ, f->err, sizeof(f->err));
	if (!cfg)
		fail_msg("0640 with ALLOW_GROUP_READ refused: %s", f->err);
	assert_int_equal(cfg->load_flags, MID_CONF_ALLOW_GROUP_READ);
	mid_config_free(cfg);

	/* Others never. */
	assert_int_equal(chmod(f->path, 0604), 0);
	assert_null(mid_config_load(f->path, MID_CONF_ALLOW_GROUP_READ, f->err, sizeof(f->err)));
	assert_contains(f->err, "mode 0604 gives access to group or others; run chmod 0640");
	/* Group write is refused even with the flag. */
	assert_int_equal(chmod(f->path, 0660), 0);
	assert_null(mid_config_load(f->path, MID_CONF_ALLOW_GROUP_READ, f->err, sizeof(f->err)));
	assert_contains(f->err, "mode 0660");

	/* MID_CONF_SKIP_PERMS (tests only) skips the mode check. */
	assert_int_equal(chmod(f->path, 0644), 0);
	cfg = mid_config_load(f->path, MID_CONF_SKIP_PERMS, f->err, sizeof(f->err));
	assert_non_null(cfg);
	mid_config_free(cfg);
}

static void test_symlink_refused(void **state)
{
	struct fx *f = *state;
	char link[160], want[512];

	tu_write_file(f->path, "[auth]\n", 0600);
	snprintf(link, sizeof(link), "%s/link.conf", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_null(mid_config_load(link, 0, f->err, sizeof(f->err)));
	snprintf(want, sizeof(want), "%s: refusing a symbolic link (it holds a secret)", link);
	assert_string_equal(f->err, want);
	assert_null(mid_config_load(link, MID_CONF_ALLOW_GROUP_READ, f->err, sizeof(f->err)));
	assert_contains(f->err, "refusing a symbolic link");
	/* Even with SKIP_PERMS the file is opened with O_NOFOLLOW. */
	assert_null(mid_config_load(link, MID_CONF_SKIP_PERMS, f->err, sizeof(f->err)));
	assert_contains(f->err, link);
}

static void test_not_regular_or_missing(void **state)
{
	struct fx *f = *state;
	char sub[160], want[512];

	snprintf(sub, sizeof(sub), "%s/d", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_null(mid_config_load(sub, 0, f->err, sizeof(f->err)));
	snprintf(want, sizeof(want), "%s: not a regular file", sub);
	assert_string_equal(f->err, want);

	assert_null(mid_config_load(f->path, 0, f->err, sizeof(f->err)));
	snprintf(want, sizeof(want), "%s: %s", f->path, strerror(ENOENT));
	assert_string_equal(f->err, want);
}

static void test_foreign_owner_refused(void **state)
{
	struct fx *f = *state;
	char want[512];

	if (geteuid() != 0)
		skip();   /* only root can give a file away */
	tu_write_file(f->path, "[auth]\n", 0600);
	assert_int_equal(chown(f->path, 4242, (gid_t)-1), 0);
	assert_null(mid_config_load(f->path, 0, f->err, sizeof(f->err)));
	snprintf(want, sizeof(want), "%s: owned by uid 4242; it must be owned by root "
	         "(it holds a secret)", f->path);
	assert_string_equal(f->err, want);

	/* Group-readable by a group that is not ours. */
	assert_int_equal(chown(f->path, 0, 4242), 0);
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_null(mid_config_load(f->path, MID_CONF_ALLOW_GROUP_READ, f->err, sizeof(f->err)));
	snprintf(want, sizeof(want), "%s: group-readable by gid 4242, which is not ours", f->path);
	assert_string_equal(f->err, want);
	/* 0600 with a foreign group is fine. */
	assert_int_equal(chmod(f->path, 0600), 0);
	mid_config *cfg = mid_config_load(f->path, 0, f->err, sizeof(f->err));
	assert_non_null(cfg);
	mid_config_free(cfg);
}

/* ---- client_secret_file and mid_config_finish ----------------------------------- */

static mid_config *load_with_secret_file(struct fx *f, const char *secret, mode_t mode)
{
	char text[512];

	if (secret)
		tu_write_file(f->secret, secret, mode);
	snprintf(text, sizeof(text), "[signicat]\nclient_id = cid\nclient_secret_file = %s\n",
	         f->secret);
	return load_text(f, text, 0);
}

static void test_secret_file_read(void **state)
{
	struct fx *f = *state;
	mid_config *cfg = load_with_secret_file(f, "top-secret\n", 0600);

	assert_non_null(cfg);
	assert_string_equal(cfg->client_secret_file, f->secret);
	assert_null(cfg->client_secret);   /* read by finish, not load */
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), 0);
	assert_string_equal(cfg->client_secret, "top-secret");
	mid_config_free(cfg);

	/* CRLF and no newline at all; only the first line counts. */
	cfg = load_with_secret_file(f, "crlf-secret\r\nsecond line\n", 0600);
	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), 0);
	assert_string_equal(cfg->client_secret, "crlf-secret");
	mid_config_free(cfg);
	cfg = load_with_secret_file(f, "no-newline", 0600);
	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), 0);
	assert_string_equal(cfg->client_secret, "no-newline");
	mid_config_free(cfg);
}

static void test_secret_file_perms(void **state)
{
	struct fx *f = *state;
	char want[512], link[160];
	mid_config *cfg = load_with_secret_file(f, "top-secret\n", 0644);

	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: mode 0644 gives access to group or others; run "
	         "chmod 0600 %s (it holds a secret)", f->secret, f->secret);
	assert_string_equal(f->err, want);
	assert_null(cfg->client_secret);
	mid_config_free(cfg);

	/* A symlink to a good file. */
	tu_write_file(f->secret, "top-secret\n", 0600);
	snprintf(link, sizeof(link), "%s/secret.link", f->dir);
	assert_int_equal(symlink(f->secret, link), 0);
	snprintf(want, sizeof(want), "[signicat]\nclient_id = c\nclient_secret_file = %s\n", link);
	cfg = load_text(f, want, 0);
	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), -1);
	assert_contains(f->err, "refusing a symbolic link");
	mid_config_free(cfg);

	/* A missing file. */
	unlink(f->secret);
	cfg = load_with_secret_file(f, NULL, 0);
	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: %s", f->secret, strerror(ENOENT));
	assert_string_equal(f->err, want);
	mid_config_free(cfg);
}

static void test_secret_file_empty(void **state)
{
	static const char *empty[] = { "", "\n", "\r\n", "\nsecret-on-line-2\n" };
	struct fx *f = *state;
	char want[512];

	snprintf(want, sizeof(want), "%s: empty client secret", f->secret);
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		mid_config *cfg = load_with_secret_file(f, empty[i], 0600);
		assert_non_null(cfg);
		assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), -1);
		assert_string_equal(f->err, want);
		mid_config_free(cfg);
	}
}

static void test_secret_and_file_refused(void **state)
{
	struct fx *f = *state;
	char text[512], want[512];
	mid_config *cfg;

	tu_write_file(f->secret, "from-file\n", 0600);
	snprintf(text, sizeof(text), "[signicat]\nclient_id = cid\nclient_secret = inline\n"
	         "client_secret_file = %s\n", f->secret);
	cfg = load_text(f, text, 0);
	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: [signicat] client_secret_file: set either "
	         "client_secret or client_secret_file, not both", f->path);
	assert_string_equal(f->err, want);
	mid_config_free(cfg);
}

static void test_finish_missing(void **state)
{
	struct fx *f = *state;
	char err[512], want[512];
	mid_config *cfg = mid_config_new();

	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "configuration: [signicat] client_id: missing");
	assert_int_equal(mid_config_set(cfg, "client_id", "", "arg", err, sizeof(err)), 0);
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "configuration: [signicat] client_id: missing");
	assert_int_equal(mid_config_set(cfg, "client_id", "cid", "arg", err, sizeof(err)), 0);
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "configuration: [signicat] client_secret: missing "
	                    "(or set client_secret_file)");
	assert_int_equal(mid_config_set(cfg, "client_secret", "", "arg", err, sizeof(err)), 0);
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	assert_contains(err, "client_secret: missing");
	assert_int_equal(mid_config_set(cfg, "client_secret", "pw", "arg", err, sizeof(err)), 0);
	err[0] = '\0';
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	mid_config_free(cfg);

	/* From a file the message names the file. */
	cfg = load_text(f, "[signicat]\nclient_secret = pw\n", 0);
	assert_non_null(cfg);
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: [signicat] client_id: missing", f->path);
	assert_string_equal(err, want);
	mid_config_free(cfg);
}

/* ---- mid_config_set ---------------------------------------------------------- */

static void test_set_overrides(void **state)
{
	struct fx *f = *state;
	char err[512];
	mid_config *cfg = load_text(f, "[auth]\npush_timeout = 30\nfailmode = safe\n", 0);

	assert_non_null(cfg);
	assert_int_equal(cfg->push_timeout_ms, 30000);
	/* section.key and bare key both override the file (no duplicate error). */
	assert_int_equal(mid_config_set(cfg, "auth.push_timeout", "45", "pam argument", err,
	                                sizeof(err)), 0);
	assert_int_equal(cfg->push_timeout_ms, 45000);
	assert_int_equal(mid_config_set(cfg, "push_timeout", "20s", "pam argument", err,
	                                sizeof(err)), 0);
	assert_int_equal(cfg->push_timeout_ms, 20000);
	assert_int_equal(mid_config_set(cfg, "failmode", "secure", "pam argument", err,
	                                sizeof(err)), 0);
	assert_int_equal(cfg->failmode, MID_FAILMODE_SECURE);
	assert_int_equal(mid_config_set(cfg, "signicat.client_id", "one", "x", err, sizeof(err)), 0);
	assert_int_equal(mid_config_set(cfg, "client_id", "two", "x", err, sizeof(err)), 0);
	assert_string_equal(cfg->client_id, "two");

	/* A bad value names where it came from. */
	assert_int_equal(mid_config_set(cfg, "push_timeout", "x", "pam argument", err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "pam argument: [auth] push_timeout: bad value 'x' "
	                    "(a duration from 2000ms to 600s, e.g. 30 or 30s)");
	assert_int_equal(cfg->push_timeout_ms, 20000);

	/* Unknown keys, wrong sections, odd spellings. */
	assert_int_equal(mid_config_set(cfg, "auth.nokey", "1", "pam argument", err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "pam argument: unknown key 'auth.nokey'");
	assert_int_equal(mid_config_set(cfg, "signicat.push_timeout", "30", "pam argument", err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "pam argument: unknown key 'signicat.push_timeout'");
	assert_int_equal(mid_config_set(cfg, "nosuch", "1", "pam argument", err, sizeof(err)), -1);
	assert_string_equal(err, "pam argument: unknown key 'nosuch'");
	assert_int_equal(mid_config_set(cfg, ".push_timeout", "30", "a", err, sizeof(err)), -1);
	assert_string_equal(err, "a: unknown key '.push_timeout'");
	assert_int_equal(mid_config_set(cfg, "auth.", "30", "a", err, sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "Auth.Push_Timeout", "30", "a", err, sizeof(err)), -1);
	assert_int_equal(mid_config_set(cfg, "auth.push_timeout.x", "30", "a", err, sizeof(err)), -1);
	{
		char longkey[200];
		memset(longkey, 'a', sizeof(longkey));
		strcpy(longkey + 150, ".push_timeout");
		assert_int_equal(mid_config_set(cfg, longkey, "30", "a", err, sizeof(err)), -1);
		assert_contains(err, "unknown key");
	}
	/* A NULL or zero-length err buffer is allowed. */
	assert_int_equal(mid_config_set(cfg, "nosuch", "1", "a", NULL, 0), -1);
	assert_int_equal(mid_config_set(cfg, "nosuch", "1", "a", err, 0), -1);
	mid_config_free(cfg);
}

static void test_set_every_bare_key(void **state)
{
	/* Every key of the table, with a value it accepts.  No bare name is in
	 * two sections, so no bare name is ambiguous. */
	static const struct { const char *section, *name, *value; } keys[] = {
		{ "signicat", "api_url", "https://a.example" },
		{ "signicat", "token_url", "https://t.example" },
		{ "signicat", "client_id", "id" },
		{ "signicat", "client_secret", "pw" },
		{ "signicat", "client_secret_file", "/etc/mobileid/secret" },
		{ "signicat", "ca_file", "/etc/ssl/ca.pem" },
		{ "signicat", "http_proxy", "http://p:3128" },
		{ "signicat", "connect_timeout", "3" },
		{ "signicat", "request_timeout", "7" },
		{ "signicat", "max_response_size", "2048" },
		{ "signicat", "auth_level", "ONE_FACTOR" },
		{ "signicat", "cache_dir", "/tmp/x" },
		{ "signicat", "user_cache_ttl", "60" },
		{ "auth", "externalref", "%U" },
		{ "auth", "push_timeout", "30" },
		{ "auth", "poll_interval", "300" },
		{ "auth", "failmode", "safe" },
		{ "auth", "prompt", "info" },
		{ "auth", "context_title", "t %h" },
		{ "auth", "context_content", "c %c" },
		{ "auth", "message", "m %c" },
		{ "auth", "debug", "on" },
	};
	char err[512], dotted[64];
	mid_config *a = mid_config_new(), *b = mid_config_new();

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		err[0] = '\0';
		if (mid_config_set(a, keys[i].name, keys[i].value, "arg", err, sizeof(err)) != 0)
			fail_msg("bare %s: %s", keys[i].name, err);
		snprintf(dotted, sizeof(dotted), "%s.%s", keys[i].section, keys[i].name);
		if (mid_config_set(b, dotted, keys[i].value, "arg", err, sizeof(err)) != 0)
			fail_msg("%s: %s", dotted, err);
	}
	assert_string_equal(a->api_url, "https://a.example");
	assert_string_equal(b->token_url, "https://t.example");
	assert_string_equal(a->client_secret_file, "/etc/mobileid/secret");
	assert_int_equal(a->connect_timeout_ms, 3000);
	assert_int_equal(b->request_timeout_ms, 7000);
	assert_int_equal(a->max_response_size, 2048);
	assert_int_equal(b->user_cache_ttl_ms, 60000);
	assert_string_equal(a->externalref, "%U");
	assert_int_equal(b->poll_interval_ms, 300);
	assert_int_equal(a->prompt, MID_PROMPT_SETTING_INFO);
	assert_int_equal(b->debug, 1);
	assert_string_equal(a->message, "m %c");
	mid_config_free(a);
	mid_config_free(b);
}

static void test_check_secret_file_direct(void **state)
{
	struct fx *f = *state;
	char err[512];

	tu_write_file(f->secret, "x\n", 0600);
	err[0] = '\0';
	assert_int_equal(mid_check_secret_file(f->secret, 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(chmod(f->secret, 0400), 0);
	assert_int_equal(mid_check_secret_file(f->secret, 0, err, sizeof(err)), 0);
	assert_int_equal(chmod(f->secret, 0601), 0);
	assert_int_equal(mid_check_secret_file(f->secret, 0, err, sizeof(err)), -1);
	assert_contains(err, "mode 0601");
	assert_int_equal(chmod(f->secret, 0620), 0);
	assert_int_equal(mid_check_secret_file(f->secret, MID_CONF_ALLOW_GROUP_READ, err,
	                                       sizeof(err)), -1);
	assert_contains(err, "mode 0620");
	/* A NULL err is allowed. */
	assert_int_equal(mid_check_secret_file(f->secret, 0, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_new),
		cmocka_unit_test_setup_teardown(test_defaults_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_and_whitespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration_bad, setup, teardown),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test_setup_teardown(test_urls_https_only, setup, teardown),
		cmocka_unit_test(test_paths_and_strings),
		cmocka_unit_test(test_enums_and_bool),
		cmocka_unit_test_setup_teardown(test_templates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_newline_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_structure_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_0644_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular_or_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_perms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_and_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_overrides, setup, teardown),
		cmocka_unit_test(test_set_every_bare_key),
		cmocka_unit_test_setup_teardown(test_check_secret_file_direct, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

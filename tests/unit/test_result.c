/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_result.c - library result -> PAM return code (pam_result.c), and the
 * names and user messages of results.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <security/pam_modules.h>

#include "mobileid.h"
#include "push.h"
#include "../../pam_mobileid/pam_result.h"

static const struct {
	mid_result r;
	int secure;   /* PAM code with failmode = secure */
	int safe;     /* PAM code with failmode = safe */
	const char *name;
} table[] = {
	{ MID_APPROVED, PAM_SUCCESS, PAM_SUCCESS, "approved" },
	{ MID_DENIED, PAM_AUTH_ERR, PAM_AUTH_ERR, "denied" },
	{ MID_EXPIRED, PAM_AUTH_ERR, PAM_AUTH_ERR, "expired" },
	{ MID_CANCELLED, PAM_AUTH_ERR, PAM_AUTH_ERR, "cancelled" },
	{ MID_USER_UNKNOWN, PAM_USER_UNKNOWN, PAM_USER_UNKNOWN, "user unknown" },
	{ MID_NO_DEVICE, PAM_AUTH_ERR, PAM_AUTH_ERR, "no active device" },
	{ MID_LOCKED, PAM_MAXTRIES, PAM_MAXTRIES, "locked" },
	{ MID_UNAVAILABLE, PAM_AUTHINFO_UNAVAIL, PAM_SUCCESS, "service unavailable" },
	{ MID_CONFIG_ERROR, PAM_SERVICE_ERR, PAM_SERVICE_ERR, "configuration error" },
	{ MID_INTERNAL_ERROR, PAM_SERVICE_ERR, PAM_SERVICE_ERR, "internal error" },
	{ MID_PUSH_PENDING, PAM_AUTH_ERR, PAM_AUTH_ERR, "push already pending" },
	{ MID_RATE_LIMITED, PAM_MAXTRIES, PAM_MAXTRIES, "rate limited" },
	{ MID_PHONE_UNVERIFIED, PAM_AUTH_ERR, PAM_AUTH_ERR, "phone number unverified" },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

static void test_table_is_complete(void **state)
{
	(void)state;
	assert_int_equal(NTABLE, MID_RESULT_COUNT);
	for (size_t i = 0; i < NTABLE; i++)
		assert_int_equal(table[i].r, (mid_result)i);
}

static void test_to_pam_secure(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTABLE; i++) {
		int got = mid_result_to_pam(table[i].r, MID_FAILMODE_SECURE);
		if (got != table[i].secure)
			fail_msg("%s (secure): %d, want %d", table[i].name, got, table[i].secure);
	}
}

static void test_to_pam_safe(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTABLE; i++) {
		int got = mid_result_to_pam(table[i].r, MID_FAILMODE_SAFE);
		if (got != table[i].safe)
			fail_msg("%s (safe): %d, want %d", table[i].name, got, table[i].safe);
	}
}

static void test_success_only_when_allowed(void **state)
{
	static const int modes[] = { MID_FAILMODE_SECURE, MID_FAILMODE_SAFE, 2, -1, 1000 };

	(void)state;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (int r = -2; r < MID_RESULT_COUNT + 3; r++) {
			int pam = mid_result_to_pam((mid_result)r, (mid_failmode)modes[m]);
			int allowed = r == MID_APPROVED ||
			              (r == MID_UNAVAILABLE && modes[m] == MID_FAILMODE_SAFE);
			if ((pam == PAM_SUCCESS) != allowed)
				fail_msg("result %d, failmode %d -> %d", r, modes[m], pam);
		}
	}
	/* The ones that must never be let through by failmode = safe. */
	assert_int_equal(mid_result_to_pam(MID_DENIED, MID_FAILMODE_SAFE), PAM_AUTH_ERR);
	assert_int_equal(mid_result_to_pam(MID_LOCKED, MID_FAILMODE_SAFE), PAM_MAXTRIES);
	assert_int_equal(mid_result_to_pam(MID_CONFIG_ERROR, MID_FAILMODE_SAFE), PAM_SERVICE_ERR);
	assert_int_equal(mid_result_to_pam(MID_INTERNAL_ERROR, MID_FAILMODE_SAFE), PAM_SERVICE_ERR);
	assert_int_equal(mid_result_to_pam(MID_USER_UNKNOWN, MID_FAILMODE_SAFE), PAM_USER_UNKNOWN);
	assert_int_equal(mid_result_to_pam(MID_PUSH_PENDING, MID_FAILMODE_SAFE), PAM_AUTH_ERR);
	assert_int_equal(mid_result_to_pam(MID_RATE_LIMITED, MID_FAILMODE_SAFE), PAM_MAXTRIES);
	assert_int_equal(mid_result_to_pam(MID_PHONE_UNVERIFIED, MID_FAILMODE_SAFE), PAM_AUTH_ERR);
}

static void test_out_of_range(void **state)
{
	(void)state;
	assert_int_equal(mid_result_to_pam(MID_RESULT_COUNT, MID_FAILMODE_SECURE), PAM_SERVICE_ERR);
	assert_int_equal(mid_result_to_pam(MID_RESULT_COUNT, MID_FAILMODE_SAFE), PAM_SERVICE_ERR);
	assert_int_equal(mid_result_to_pam((mid_result)-1, MID_FAILMODE_SAFE), PAM_SERVICE_ERR);
	assert_int_equal(mid_result_to_pam((mid_result)1000, MID_FAILMODE_SAFE), PAM_SERVICE_ERR);
	/* An unknown failmode is not safe. */
	assert_int_equal(mid_result_to_pam(MID_UNAVAILABLE, (mid_failmode)2), PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(mid_result_to_pam(MID_UNAVAILABLE, (mid_failmode)-1), PAM_AUTHINFO_UNAVAIL);
}

static void test_result_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTABLE; i++) {
		assert_string_equal(mid_result_name(table[i].r), table[i].name);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(mid_result_name(table[i].r), mid_result_name(table[j].r));
	}
	assert_string_equal(mid_result_name(MID_RESULT_COUNT), "unknown");
	assert_string_equal(mid_result_name((mid_result)(MID_RESULT_COUNT + 1)), "unknown");
	assert_string_equal(mid_result_name((mid_result)-1), "unknown");
	assert_string_equal(mid_result_name((mid_result)100000), "unknown");
}

static void test_user_messages(void **state)
{
	(void)state;
	assert_string_equal(mid_result_user_message(MID_APPROVED), "Approved.");
	for (size_t i = 1; i < NTABLE; i++) {
		const char *m = mid_result_user_message(table[i].r);
		assert_non_null(m);
		assert_true(strlen(m) > 10);
		assert_null(strpbrk(m, "\r\n%"));
		assert_string_not_equal(m, "Approved.");
	}
	assert_string_equal(mid_result_user_message(MID_DENIED),
	                    "The login was denied on your phone.");
	assert_string_equal(mid_result_user_message(MID_UNAVAILABLE),
	                    "The MobileID service is unavailable.");
	assert_non_null(mid_result_user_message(MID_RESULT_COUNT));
	assert_string_not_equal(mid_result_user_message(MID_RESULT_COUNT), "Approved.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_complete),
		cmocka_unit_test(test_to_pam_secure),
		cmocka_unit_test(test_to_pam_safe),
		cmocka_unit_test(test_success_only_when_allowed),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_user_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

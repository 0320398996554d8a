/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_rcode.c - the ONE mapping of library results to FreeRADIUS return
 * codes (rlm_mobileid/mobileid_rcode.c).
 */
#include "mobileid_rcode.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define SECURE MID_FAILMODE_SECURE
#define SAFE MID_FAILMODE_SAFE
#define DENY MID_UNENROLLED_DENY
#define IGNORE MID_UNENROLLED_IGNORE

static void test_each_result(void **state)
{
	static const struct {
		mid_result r;
		rlm_rcode_t secure, safe;
	} cases[] = {
		{ MID_APPROVED, RLM_MODULE_OK, RLM_MODULE_OK },
		{ MID_DENIED, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
		{ MID_EXPIRED, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
		{ MID_CANCELLED, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
		{ MID_USER_UNKNOWN, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
		{ MID_NO_DEVICE, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
		{ MID_LOCKED, RLM_MODULE_USERLOCK, RLM_MODULE_USERLOCK },
		/* only unavailability is let through by failmode = safe */
		{ MID_UNAVAILABLE, RLM_MODULE_FAIL, RLM_MODULE_OK },
		{ MID_CONFIG_ERROR, RLM_MODULE_FAIL, RLM_MODULE_FAIL },
		{ MID_INTERNAL_ERROR, RLM_MODULE_FAIL, RLM_MODULE_FAIL },
		{ MID_PUSH_PENDING, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
		{ MID_RATE_LIMITED, RLM_MODULE_USERLOCK, RLM_MODULE_USERLOCK },
		{ MID_PHONE_UNVERIFIED, RLM_MODULE_REJECT, RLM_MODULE_REJECT },
	};
	size_t i;

	(void) state;
	/* a new result must be mapped here (and in mobileid_rcode.c) */
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), MID_RESULT_COUNT);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mobileid_rcode(cases[i].r, SECURE, DENY), cases[i].secure);
		assert_int_equal(mobileid_rcode(cases[i].r, SAFE, DENY), cases[i].safe);
	}
}

static void test_unenrolled_ignore(void **state)
{
	(void) state;
	assert_int_equal(mobileid_rcode(MID_USER_UNKNOWN, SECURE, IGNORE), RLM_MODULE_NOOP);
	assert_null(mobileid_reply_text(MID_USER_UNKNOWN, SECURE, IGNORE));
	/* nothing else changes */
	for (int r = 0; r < MID_RESULT_COUNT; r++) {
		if (r == MID_USER_UNKNOWN) continue;
		assert_int_equal(mobileid_rcode((mid_result) r, SECURE, IGNORE),
				 mobileid_rcode((mid_result) r, SECURE, DENY));
	}
}

static void test_out_of_range_fails_closed(void **state)
{
	(void) state;
	assert_int_equal(mobileid_rcode(MID_RESULT_COUNT, SAFE, IGNORE), RLM_MODULE_FAIL);
	assert_int_equal(mobileid_rcode((mid_result) -1, SAFE, IGNORE), RLM_MODULE_FAIL);
}

/*
 *	In an Auth-Type section after pap, only reject, userlock, fail and
 *	handled end the section; notfound, noop and updated rank below pap's
 *	"ok" and would turn into an Access-Accept.
 */
static void test_failures_end_the_section(void **state)
{
	(void) state;
	for (int r = 0; r < MID_RESULT_COUNT; r++) {
		rlm_rcode_t rc = mobileid_rcode((mid_result) r, SECURE, DENY);

		if (r == MID_APPROVED) {
			assert_int_equal(rc, RLM_MODULE_OK);
			continue;
		}
		assert_true(rc == RLM_MODULE_REJECT || rc == RLM_MODULE_USERLOCK ||
			    rc == RLM_MODULE_FAIL);
	}
}

static void test_reply_text(void **state)
{
	(void) state;
	for (int r = 0; r < MID_RESULT_COUNT; r++) {
		char const *t = mobileid_reply_text((mid_result) r, SECURE, DENY);

		assert_non_null(t);
		assert_true(strlen(t) > 0 && strlen(t) <= 253);	/* one Reply-Message */
	}
	assert_non_null(strstr(mobileid_reply_text(MID_UNAVAILABLE, SAFE, DENY), "without"));
	assert_null(strstr(mobileid_reply_text(MID_UNAVAILABLE, SECURE, DENY), "without"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_result),
		cmocka_unit_test(test_unenrolled_ignore),
		cmocka_unit_test(test_out_of_range_fails_closed),
		cmocka_unit_test(test_failures_end_the_section),
		cmocka_unit_test(test_reply_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

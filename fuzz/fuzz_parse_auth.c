/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_parse_auth - an authentication's (or registration's) state
 * (mid_parse_auth) and what its errorCode means (mid_error_code_result). */
#include "config.h"

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "";
	mid_auth_state st;

	if (mid_parse_auth(body, size, &st, err, sizeof(err)) == 0) {
		FUZZ_CHECK(fuzz_safe_id(st.transaction_id));
		FUZZ_CHECK(st.state == MID_STATE_PENDING || st.state == MID_STATE_COMPLETED ||
		           st.state == MID_STATE_FAILED);
		FUZZ_CHECK(memchr(st.error_code, 0, sizeof(st.error_code)) &&
		           memchr(st.error_description, 0, sizeof(st.error_description)));
		FUZZ_CHECK(!fuzz_has_control(st.error_code) &&
		           !fuzz_has_control(st.error_description));
		FUZZ_CHECK(fuzz_valid_utf8(st.error_code) && fuzz_valid_utf8(st.error_description));
		if (st.state == MID_STATE_FAILED) {
			mid_result r = mid_error_code_result(st.error_code);
			/* No errorCode, known or not, ever means approved. */
			FUZZ_CHECK(st.error_code[0] && r != MID_APPROVED && r < MID_RESULT_COUNT);
		}
	} else {
		FUZZ_CHECK(err[0]);
	}
	free(body);
	return 0;
}

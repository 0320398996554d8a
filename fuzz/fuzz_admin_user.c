/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_admin_user - a MobileID user object as mobileidctl reads it
 * (mid_parse_user_info: GET/POST/PATCH /users). */
#include "config.h"

#include "admin.h"
#include "fuzz.h"

/* Printed by mobileidctl: bounded, valid UTF-8, no control characters. */
static void check_text(const char *s, size_t size)
{
	FUZZ_CHECK(strlen(s) < size);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "";
	mid_user_info u;

	if (mid_parse_user_info(body, size, &u, err, sizeof(err)) == 0) {
		/* The id goes into URL paths (/users/{id}). */
		FUZZ_CHECK(fuzz_safe_id(u.id));
		/* (a state of control characters only is shown as "") */
		check_text(u.state, sizeof(u.state));
		check_text(u.external_ref, sizeof(u.external_ref));
		check_text(u.segment, sizeof(u.segment));
		check_text(u.created, sizeof(u.created));
		check_text(u.last_used, sizeof(u.last_used));
		FUZZ_CHECK(u.n_attributes == 0 || (u.attr_names && u.attr_values));
		for (size_t i = 0; i < u.n_attributes; i++) {
			check_text(u.attr_names[i], 257);
			check_text(u.attr_values[i], 4097);
		}
	} else {
		FUZZ_CHECK(err[0]);
		FUZZ_CHECK(u.n_attributes == 0 && !u.attr_names && !u.attr_values);
	}
	mid_user_info_free(&u);
	free(body);
	return 0;
}

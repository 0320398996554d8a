/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_parse_error - the vendor's error body (mid_parse_error). */
#include "config.h"

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size);
	mid_api_error e;

	if (mid_parse_error(body, size, &e) == 0) {
		/* Every field ends up in a log line or a message. */
		FUZZ_CHECK(memchr(e.code, 0, sizeof(e.code)) && memchr(e.title, 0, sizeof(e.title)) &&
		           memchr(e.detail, 0, sizeof(e.detail)) &&
		           memchr(e.trace_id, 0, sizeof(e.trace_id)));
		FUZZ_CHECK(!fuzz_has_control(e.code) && !fuzz_has_control(e.title) &&
		           !fuzz_has_control(e.detail));
		FUZZ_CHECK(fuzz_valid_utf8(e.code) && fuzz_valid_utf8(e.title) &&
		           fuzz_valid_utf8(e.detail));
		FUZZ_CHECK(!e.trace_id[0] || fuzz_safe_id(e.trace_id));
	}
	free(body);
	return 0;
}

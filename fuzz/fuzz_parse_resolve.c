/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_parse_resolve - POST /users/resolve's answer (mid_parse_resolve). */
#include "config.h"

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "", user_id[MID_ID_MAX];

	if (mid_parse_resolve(body, size, user_id, err, sizeof(err)) == 0)
		FUZZ_CHECK(fuzz_safe_id(user_id));   /* it goes into URL paths */
	else
		FUZZ_CHECK(err[0]);
	free(body);
	return 0;
}

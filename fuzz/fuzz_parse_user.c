/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_parse_user - GET /users/{id}'s answer (mid_parse_user). */
#include "config.h"

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "";
	int locked = -1;

	if (mid_parse_user(body, size, &locked, err, sizeof(err)) == 0)
		FUZZ_CHECK(locked == 0 || locked == 1);
	else
		FUZZ_CHECK(err[0]);
	free(body);
	return 0;
}

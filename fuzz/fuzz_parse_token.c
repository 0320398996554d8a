/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_parse_token - the OAuth token endpoint's answer (mid_parse_token). */
#include "config.h"

#include "fuzz.h"
#include "parse.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), *token = NULL, err[256] = "";
	long expires_in = -1;

	if (mid_parse_token(body, size, &token, &expires_in, err, sizeof(err)) == 0) {
		FUZZ_CHECK(token && *token);
		/* It goes into an "Authorization: Bearer" header line. */
		FUZZ_CHECK(strlen(token) <= 4096 && !mid_has_ctl(token) && !strpbrk(token, " \t"));
		FUZZ_CHECK(expires_in > 0 && expires_in <= 86400);
	} else {
		FUZZ_CHECK(token == NULL && err[0]);
	}
	mid_free_secret(token);
	free(body);
	return 0;
}

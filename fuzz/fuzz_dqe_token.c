/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_dqe_token - DQE's /ACCESS_TOKEN/ answer (mid_dqe_parse_token): a
 * token, a DQE error body, or garbage. */
#include "config.h"

#include "dqe.h"
#include "fuzz.h"
#include "util.h"

/* What dqe.c does with an error body: its id and text go into a log line. */
static void check_error(const mid_dqe_err *e)
{
	size_t n = strlen(e->id);

	FUZZ_CHECK(n < sizeof(e->id) && strspn(e->id, "0123456789") == n);
	FUZZ_CHECK(strlen(e->type) < sizeof(e->type));
	FUZZ_CHECK(fuzz_valid_utf8(e->type) && !fuzz_has_control(e->type));
	FUZZ_CHECK(mid_dqe_error_text(e->id) != NULL);
	FUZZ_CHECK(mid_dqe_outcome_name(mid_dqe_error_outcome(e->id)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), *token = (char *)"unset", err[256] = "";
	long expires_in = -1;
	mid_dqe_err e;
	int rc;

	rc = mid_dqe_parse_token(body, size, &token, &expires_in, &e, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(token && *token);
		/* It goes into a form field and the cache file. */
		FUZZ_CHECK(strlen(token) <= 4096 && !mid_has_ctl(token) && !strpbrk(token, " \t"));
		FUZZ_CHECK(expires_in > 0 && expires_in <= 86400);
	} else {
		FUZZ_CHECK(token == NULL);
		if (rc == 1)
			check_error(&e);
		else
			FUZZ_CHECK(err[0]);
	}
	mid_free_secret(token);
	free(body);
	return 0;
}

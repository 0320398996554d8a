/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_verifid - Namirial VerifID answers: the enrollment object of a 200
 * (mid_parse_verifid_enrollment) and the error body of 400/401/503
 * (mid_parse_verifid_error), both on every input. */
#include "config.h"

#include "fuzz.h"
#include "util.h"
#include "verifid.h"

static void check_text(const char *s, size_t size)
{
	FUZZ_CHECK(strlen(s) < size);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "";
	mid_verifid_enrollment e;
	mid_verifid_error ve;

	if (mid_parse_verifid_enrollment(body, size, &e, err, sizeof(err)) == 0) {
		const char *u = e.enroll_url;
		/* The link is shown on the user's terminal (PAM) or in a RADIUS
		 * Reply-Message: https, bounded, nothing a terminal interprets. */
		FUZZ_CHECK(u && !strncmp(u, "https://", 8) && u[8] && strlen(u) <= 2048);
		FUZZ_CHECK(!mid_has_ctl(u) && !fuzz_has_control(u) && !strpbrk(u, " \t\"<>\\^`{|}"));
		FUZZ_CHECK(e.id[0] && fuzz_valid_utf8(e.id) && !fuzz_has_control(e.id));
		check_text(e.state, sizeof(e.state));
		check_text(e.provider, sizeof(e.provider));
	} else {
		FUZZ_CHECK(err[0] && e.enroll_url == NULL);
	}
	mid_verifid_enrollment_free(&e);
	FUZZ_CHECK(e.enroll_url == NULL);

	if (mid_parse_verifid_error(body, size, &ve) == 0) {
		/* Title and Details go into err and log lines. */
		FUZZ_CHECK(ve.type[0] || ve.title[0] || ve.details[0]);
		check_text(ve.type, sizeof(ve.type));
		check_text(ve.title, sizeof(ve.title));
		check_text(ve.details, sizeof(ve.details));
	} else {
		FUZZ_CHECK(!ve.type[0] && !ve.title[0] && !ve.details[0]);
	}
	free(body);
	return 0;
}

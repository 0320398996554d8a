/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_admin_registration - a device registration's answer and state
 * (mid_parse_registration), and the ISO 8601 times of the API
 * (mid_parse_iso8601) on the whole input as text. */
#include "config.h"

#include "admin.h"
#include "fuzz.h"

static void check_text(const char *s, size_t size)
{
	FUZZ_CHECK(strlen(s) < size);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

/* n decimal digits at s. */
static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void check_iso8601(const char *s)
{
	int64_t ms = mid_parse_iso8601(s);
	const char *p;

	if (ms == -1)
		return;
	/* Only the form the API sends. */
	FUZZ_CHECK(digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
	           digits(s + 8, 2) && s[10] == 'T' && digits(s + 11, 2) && s[13] == ':' &&
	           digits(s + 14, 2) && s[16] == ':' && digits(s + 17, 2));
	p = s + 19;
	if (*p == '.') {
		FUZZ_CHECK(digits(p + 1, 1));
		p += 1 + strspn(p + 1, "0123456789");
	}
	FUZZ_CHECK(!strcmp(p, "Z") || ((*p == '+' || *p == '-') && digits(p + 1, 2) &&
	                                 p[3] == ':' && digits(p + 4, 2) && !p[6]));
	/* YYYY-MM-DDThh:mm:ss[.f]Z|+hh:mm: 1970 (less a zone offset) to 9999
	 * (hour 24 and a zone offset may reach into 10000-01-02). */
	FUZZ_CHECK(strlen(s) >= 20);
	FUZZ_CHECK(ms >= -24LL * 3600 * 1000 && ms < 253402560000000LL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), *text, err[256] = "";
	mid_registration r;

	if (mid_parse_registration(body, size, &r, err, sizeof(err)) == 0) {
		/* Ids go into URL paths; the code is shown to the user. */
		FUZZ_CHECK(fuzz_safe_id(r.transaction_id));
		FUZZ_CHECK(r.state == MID_STATE_PENDING || r.state == MID_STATE_COMPLETED ||
		           r.state == MID_STATE_FAILED);
		FUZZ_CHECK(strspn(r.activation_code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                  "abcdefghijklmnopqrstuvwxyz-") == strlen(r.activation_code));
		if (r.state == MID_STATE_PENDING)
			FUZZ_CHECK(r.activation_code[0]);
		if (r.state == MID_STATE_FAILED)
			FUZZ_CHECK(r.error_code[0]);
		FUZZ_CHECK(!r.device_id[0] || fuzz_safe_id(r.device_id));
		check_text(r.expiry, sizeof(r.expiry));
		check_text(r.device_name, sizeof(r.device_name));
		check_text(r.error_code, sizeof(r.error_code));
		check_text(r.error_description, sizeof(r.error_description));
		FUZZ_CHECK(r.expiry_ms >= 0);
		if (r.expiry_ms)
			FUZZ_CHECK(r.expiry_ms == mid_parse_iso8601(r.expiry));
	} else {
		FUZZ_CHECK(err[0]);
	}
	text = fuzz_str(data, size);
	check_iso8601(text);
	free(text);
	free(body);
	return 0;
}

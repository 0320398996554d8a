/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_text - the text helpers every log line and message goes through
 * (mid_sanitize, mid_utf8_truncate, mid_unescape_newlines, mid_has_ctl)
 * and mid_parse_duration.
 *
 * Input: one flag byte (bit 0: keep newlines), one byte of max length,
 * then the text. */
#include "config.h"

#include "fuzz.h"
#include "mid_config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *clean, *un;
	size_t max;
	int keep_nl;
	long d;

	if (size < 2)
		return 0;
	keep_nl = data[0] & 1;
	max = data[1];
	s = fuzz_str(data + 2, size - 2);

	clean = mid_sanitize(s, keep_nl, max);
	FUZZ_CHECK(clean != NULL);
	FUZZ_CHECK(strlen(clean) <= max);
	FUZZ_CHECK(fuzz_valid_utf8(clean));
	for (const unsigned char *p = (const unsigned char *)clean; *p; p++)
		FUZZ_CHECK(*p >= 0x20 || *p == '\t' || (keep_nl && *p == '\n'));
	FUZZ_CHECK(!strchr(clean, 0x7f));
	if (!keep_nl)
		FUZZ_CHECK(!fuzz_has_control(clean) && !mid_has_ctl(clean));
	free(clean);

	un = mid_unescape_newlines(s);
	FUZZ_CHECK(un != NULL && strlen(un) <= strlen(s));
	free(un);

	d = mid_parse_duration(s, data[0] & 2 ? 1000 : 1);
	FUZZ_CHECK(d >= -1);

	if (fuzz_valid_utf8(s)) {
		mid_utf8_truncate(s, max);
		FUZZ_CHECK(strlen(s) <= max && fuzz_valid_utf8(s));
	} else {
		mid_utf8_truncate(s, max);
		FUZZ_CHECK(strlen(s) <= max);
	}
	free(s);
	return 0;
}

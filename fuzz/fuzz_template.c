/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_template - the externalRef, context and message templates
 * (mid_template_check, mid_template_expand) with hostile values.
 *
 * Input: one flag byte (bit 0: the context codes, else the externalRef
 * codes; bit 1: empty_missing), two bytes of max length, then NUL-separated
 * template, user, host, service, rhost, code, time, command. */
#include "config.h"

#include "fuzz.h"
#include "template.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[8];
	char *buf, *out, bad = 1;
	size_t max;
	int flags, ok;
	mid_tmpl_vars v;

	if (size < 3)
		return 0;
	flags = data[0];
	max = (size_t)data[1] << 8 | data[2];
	fuzz_fields(data + 3, size - 3, &buf, f, 8);
	ok = mid_template_check(f[0], flags & 1 ? MID_TMPL_CTX_CODES : MID_TMPL_REF_CODES,
	                        &bad) == 0;
	if (!ok)
		FUZZ_CHECK(bad == 0 || strchr(f[0], bad));
	v = (mid_tmpl_vars){ .user = f[1], .host = f[2], .service = f[3], .rhost = f[4],
	                     .code = f[5], .time = f[6], .command = f[7] };
	out = mid_template_expand(f[0], &v, max, flags & 2);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(strlen(out) <= max);
	/* Substituted values never bring control characters or bad UTF-8 in
	 * (into a template the configuration accepts: valid UTF-8; in one that
	 * is not, "\xc2%h\x9b" with an empty %h makes U+009B). */
	if (fuzz_valid_utf8(f[0])) {
		FUZZ_CHECK(fuzz_valid_utf8(out));
		if (!fuzz_has_control(f[0]))
			FUZZ_CHECK(!fuzz_has_control(out));
	}
	free(out);
	free(buf);
	return 0;
}

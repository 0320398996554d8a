/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_admin_devices - MobileID devices as mobileidctl reads them: the
 * GET /devices list (mid_parse_device_list) and one device object
 * (mid_parse_device_info), both on every input. */
#include "config.h"

#include "admin.h"
#include "fuzz.h"

static void check_text(const char *s, size_t size)
{
	FUZZ_CHECK(strlen(s) < size);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

static void check_device(const mid_device_info *d)
{
	/* The id goes into URL paths (/users/{u}/devices/{id}). */
	FUZZ_CHECK(fuzz_safe_id(d->id));
	check_text(d->state, sizeof(d->state));
	check_text(d->name, sizeof(d->name));
	check_text(d->last_operation, sizeof(d->last_operation));
	check_text(d->last_used, sizeof(d->last_used));
	check_text(d->created, sizeof(d->created));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "";
	mid_device_info *list = NULL, d;
	size_t n = 12345;

	if (mid_parse_device_list(body, size, &list, &n, err, sizeof(err)) == 0) {
		FUZZ_CHECK(n == 0 || list != NULL);
		for (size_t i = 0; i < n; i++)
			check_device(&list[i]);
	} else {
		FUZZ_CHECK(err[0] && list == NULL && n == 0);
	}
	free(list);

	err[0] = '\0';
	if (mid_parse_device_info(body, size, &d, err, sizeof(err)) == 0)
		check_device(&d);
	else
		FUZZ_CHECK(err[0]);
	free(body);
	return 0;
}

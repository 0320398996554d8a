/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_parse_devices - GET /devices' answer (mid_parse_devices). */
#include "config.h"

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size), err[256] = "", first[MID_ID_MAX];
	int active = -1;

	if (mid_parse_devices(body, size, &active, first, err, sizeof(err)) == 0) {
		FUZZ_CHECK(active >= 0);
		FUZZ_CHECK(active == 0 ? first[0] == '\0' : fuzz_safe_id(first));
	} else {
		FUZZ_CHECK(err[0]);
	}
	free(body);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_policy - exempt_networks and groups lists (mid_networks_check,
 * mid_groups_check) and the remote address a client sends
 * (mid_networks_match).  Input: list, NUL, address. */
#include "config.h"

#include "fuzz.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[2];
	char *buf, err[512];
	int m;

	fuzz_fields(data, size, &buf, f, 2);
	err[0] = '\0';
	if (mid_networks_check(f[0], err, sizeof(err)) == 0) {
		m = mid_networks_match(f[0], f[1]);
		FUZZ_CHECK(m == 0 || m == 1);
	} else {
		FUZZ_CHECK(err[0]);
	}
	err[0] = '\0';
	if (mid_groups_check(f[0], err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0]);
	free(buf);
	return 0;
}

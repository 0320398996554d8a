/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_config - the configuration file (mid_config_load, mid_config_finish)
 * through a temporary file, as a module reads it. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "mid_config.h"

static char path[64];
static int fd = -1;

static void remove_file(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	mid_config *cfg;

	if (fd < 0) {
		/* tmpfs: twenty times the executions of a disk-backed /tmp */
		const char *tmp = getenv("TMPDIR");
		if (!tmp || !*tmp || strlen(tmp) >= 32)
			tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(path, sizeof(path), "%s/mobileid-fuzz-XXXXXX", tmp);
		fd = mkstemp(path);
		FUZZ_CHECK(fd >= 0);
		atexit(remove_file);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);

	err[0] = '\0';
	cfg = mid_config_load(path, MID_CONF_SKIP_PERMS, err, sizeof(err));
	if (!cfg) {
		/* Errors name the file (and the line and key). */
		FUZZ_CHECK(err[0] && !strncmp(err, path, strlen(path)));
		return 0;
	}
	/* Cross-key checks, but never read a file the input names. */
	free(cfg->client_secret_file);
	cfg->client_secret_file = NULL;
	err[0] = '\0';
	if (mid_config_finish(cfg, err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0] && !strncmp(err, path, strlen(path)));
	FUZZ_CHECK(cfg->poll_interval_ms >= 100 && cfg->push_timeout_ms >= 2000);
	FUZZ_CHECK(cfg->externalref && *cfg->externalref);
	mid_config_free(cfg);
	return 0;
}

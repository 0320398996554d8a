/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard.h - the push-bombing guard: at most one pending push per user
 * across all processes, and a cooldown after repeated denials.  State is
 * one small file per user in a root-only directory (state_dir), updated
 * under flock(2), replaced atomically, so it survives restarts and is safe
 * with many concurrent logins.
 */
#ifndef MID_GUARD_H
#define MID_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "mid_config.h"
#include "mobileid.h"

typedef struct mid_guard {
	char key[17];       /* file name key of the user ("" = guard off) */
	char nonce[17];     /* identifies our pending entry */
	int holding;        /* we recorded a pending push */
} mid_guard;

/*
 * Before a push for user (the externalRef): refuse when a push is pending
 * (MID_PUSH_PENDING) or the user is cooling down (MID_RATE_LIMITED);
 * otherwise record our pending push until expires_wall_ms.
 * 0: go on; 1: refused, *refused and err say why; -1: the state directory
 * cannot be used (err says why).
 */
int mid_guard_begin(mid_guard *g, const mid_config *cfg, const char *user,
                    int64_t expires_wall_ms, mid_result *refused, char *err, size_t errlen);

/* After the push: drop our pending entry; count a denial.  Returns 1 when
 * this denial started a cooldown (for the log), else 0. */
int mid_guard_end(mid_guard *g, const mid_config *cfg, mid_result r);

#endif

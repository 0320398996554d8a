/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mobileid_rcode.h - library result -> FreeRADIUS module return code, in
 * one place (unit tested in tests/radius/test_rcode.c).
 */
#ifndef MOBILEID_RCODE_H
#define MOBILEID_RCODE_H

#include <freeradius/radiusd.h>

#include "mobileid.h"

/* THE mapping of library results to rlm_rcode_t. */
rlm_rcode_t mobileid_rcode(mid_result r, mid_failmode failmode, mid_unenrolled unenrolled);

/* Text for Reply-Message: what the user should know about r (NULL: none). */
char const *mobileid_reply_text(mid_result r, mid_failmode failmode, mid_unenrolled unenrolled);

#endif

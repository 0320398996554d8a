/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PAM_MOBILEID_RESULT_H
#define PAM_MOBILEID_RESULT_H

#include "mobileid.h"

/* THE mapping of library results to PAM return codes. */
int mid_result_to_pam(mid_result r, mid_failmode failmode);

#endif

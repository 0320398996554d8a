/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam_result.c - library result -> PAM return code, in one place.
 */
#include "config.h"

#include <security/pam_modules.h>

#include "pam_result.h"

int mid_result_to_pam(mid_result r, mid_failmode failmode)
{
	switch (r) {
	case MID_APPROVED:
		return PAM_SUCCESS;
	case MID_DENIED:
	case MID_EXPIRED:
	case MID_CANCELLED:
	case MID_NO_DEVICE:
		return PAM_AUTH_ERR;
	case MID_USER_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case MID_LOCKED:
	case MID_RATE_LIMITED:
		return PAM_MAXTRIES;
	case MID_PUSH_PENDING:
	case MID_PHONE_UNVERIFIED:   /* DQE matching: never let through by failmode */
		return PAM_AUTH_ERR;
	case MID_UNAVAILABLE:
		/* Only an unreachable or broken service is let through by "safe":
		 * never a denial, never a configuration error. */
		return failmode == MID_FAILMODE_SAFE ? PAM_SUCCESS : PAM_AUTHINFO_UNAVAIL;
	case MID_CONFIG_ERROR:
	case MID_INTERNAL_ERROR:
	default:
		return PAM_SERVICE_ERR;
	}
}

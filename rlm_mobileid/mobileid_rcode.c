/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mobileid_rcode.c - library result -> FreeRADIUS module return code.
 */
#include "mobileid_rcode.h"

#include "push.h"

rlm_rcode_t mobileid_rcode(mid_result r, mid_failmode failmode, mid_unenrolled unenrolled)
{
	switch (r) {
	case MID_APPROVED:
		return RLM_MODULE_OK;

	/*
	 *	Never "notfound", "noop" or "updated" for a failure: in an
	 *	Auth-Type section after pap, their priority is below pap's "ok"
	 *	and the section would end in "ok" - an Access-Accept.  reject,
	 *	userlock and fail end the section whatever came before.
	 */
	/*
	 *	unenrolled = ignore: "noop", the rest of the policy decides (after
	 *	pap: a password-only login), like PAM_IGNORE for pam_mobileid.
	 */
	case MID_USER_UNKNOWN:
		return unenrolled == MID_UNENROLLED_IGNORE ? RLM_MODULE_NOOP : RLM_MODULE_REJECT;

	case MID_DENIED:
	case MID_EXPIRED:
	case MID_CANCELLED:
	case MID_NO_DEVICE:
	case MID_PUSH_PENDING:
	case MID_PHONE_UNVERIFIED:
		return RLM_MODULE_REJECT;

	case MID_LOCKED:
	case MID_RATE_LIMITED:
		return RLM_MODULE_USERLOCK;

	/*
	 *	Only an unreachable or broken service is let through by
	 *	"safe": never a denial, never a configuration error.
	 */
	case MID_UNAVAILABLE:
		return failmode == MID_FAILMODE_SAFE ? RLM_MODULE_OK : RLM_MODULE_FAIL;

	case MID_CONFIG_ERROR:
	case MID_INTERNAL_ERROR:
	default:
		return RLM_MODULE_FAIL;
	}
}

char const *mobileid_reply_text(mid_result r, mid_failmode failmode, mid_unenrolled unenrolled)
{
	if (r == MID_USER_UNKNOWN && unenrolled == MID_UNENROLLED_IGNORE) return NULL;
	if (r == MID_UNAVAILABLE && failmode == MID_FAILMODE_SAFE) {
		return "The MobileID service is unavailable; login allowed without it.";
	}
	return mid_result_user_message(r);
}

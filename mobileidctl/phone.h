/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phone.h - phone number validity and type from libphonenumber, through a
 * small C++ shim (phone.cc) with a C API.  Only mobileidctl links it.
 */
#ifndef MOBILEIDCTL_PHONE_H
#define MOBILEIDCTL_PHONE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ctl_phone_kind {
	CTL_PHONE_UNPARSABLE = 0,  /* not a phone number at all */
	CTL_PHONE_INVALID,         /* parsed (country code known) but no valid number */
	CTL_PHONE_VALID
} ctl_phone_kind;

typedef struct ctl_phone {
	ctl_phone_kind kind;
	int country_code;          /* calling code, 0 when unparsable */
	char region[4];            /* "US", "GB"; "" when unknown */
	char e164[24];             /* "+12015550123" (VALID and INVALID) */
	const char *type;          /* "MOBILE", "FIXED_LINE_OR_MOBILE", ...; "" */
	int mobile;                /* type MOBILE or FIXED_LINE_OR_MOBILE */
	char reason[96];           /* why UNPARSABLE or INVALID */
} ctl_phone;

/*
 * Parse text.  A number without a '+' country code is read as a number of
 * default_cc (its main region: 1 -> US).  0, or -1 on an internal error
 * (out of memory; out->reason says so).
 */
int ctl_phone_parse(const char *text, int default_cc, ctl_phone *out);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verifid.h - Namirial VerifID self-enrollment links: create an enrollment
 * (PUT {url}/Enrollments with X-VerifiD-ApiToken) and hand its EnrollUrl to
 * the caller; the per-user rate limit used by the modules for
 * "unenrolled = enroll".  No PAM or RADIUS knowledge.
 */
#ifndef MID_VERIFID_H
#define MID_VERIFID_H

#include <stddef.h>
#include <stdint.h>

#include "mobileid.h"
#include "parse.h"

/* The person to enroll (every field required by the service). */
typedef struct mid_verifid_person {
	const char *email;
	const char *first_name;
	const char *last_name;
} mid_verifid_person;

typedef struct mid_verifid_enrollment {
	char id[MID_ID_MAX];
	char state[32];
	char provider[64];
	char *enroll_url;     /* malloc'ed; free() */
} mid_verifid_enrollment;

void mid_verifid_enrollment_free(mid_verifid_enrollment *e);

/* The 200 answer: the enrollment object; EnrollUrl must be an https:// URL
 * of printable ASCII (no control character, C1 included, no raw non-ASCII
 * byte), Id printable UTF-8. */
int mid_parse_verifid_enrollment(const char *body, size_t len, mid_verifid_enrollment *e,
                                 char *err, size_t errlen);

/* The error body {"Type","Title","Details"} of 400/401/503.  0 or -1. */
typedef struct mid_verifid_error {
	char type[128];
	char title[160];
	char details[320];
} mid_verifid_error;
int mid_parse_verifid_error(const char *body, size_t len, mid_verifid_error *e);

/* What the modules and mobileidctl know about a login: the e-mail address
 * from the [verifid] email template, first and last name from the GECOS
 * field of the passwd entry ("First Middle Last,..." -> "First Middle",
 * "Last").  Each out string is malloc'ed, NULL when unknown.  0, or -1 on
 * allocation failure. */
int mid_verifid_person_of(const mid_config *cfg, const char *user, const char *service,
                          char **email, char **first_name, char **last_name);

/*
 * Create an enrollment for p with [verifid] profile, language and
 * return_url.  MID_APPROVED on success (*e filled); otherwise
 * MID_CONFIG_ERROR (token missing or refused: 401/403, bad [verifid]
 * settings), MID_INTERNAL_ERROR (400: the request was refused; err has
 * the service's Title and Details), MID_UNAVAILABLE (503, other statuses,
 * network, garbage), MID_CANCELLED (aborted).  err says why; trace_id (80
 * bytes, may be NULL) gets the X-TRACE-ID of the answer, if any.
 */
mid_result mid_verifid_create(const mid_config *cfg, const mid_verifid_person *p,
                              int (*aborted)(void *), void *abort_ctx,
                              mid_verifid_enrollment *e, char *trace_id,
                              char *err, size_t errlen);

/* The [verifid] settings without a network call: profile set, the API
 * token readable, the e-mail template set.  0, or -1 with the first
 * problem in err (naming the file and key). */
int mid_verifid_check_config(const mid_config *cfg, char *err, size_t errlen);

/*
 * The link for an unenrolled login (PAM "unenrolled = enroll"): at most one
 * new enrollment per user per [verifid] link_interval; within it the link
 * created before is returned again (*reused = 1).  The links are remembered
 * in a root-only file under [signicat] cache_dir (required).  *url is
 * malloc'ed.  Results as mid_verifid_create(); MID_CONFIG_ERROR also when
 * cache_dir is "" or the person is incomplete (no e-mail template, no
 * name in GECOS).
 */
mid_result mid_enroll_link(const mid_config *cfg, const char *user, const char *service,
                           int (*aborted)(void *), void *abort_ctx, char **url, int *reused,
                           char *trace_id, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dqe.h - DQE ID Mobile "matching without OTP": before the push, ask DQE
 * whether the phone number of the MobileID user still belongs to the person
 * we know (SIM swap, ported or recycled number).  Spec:
 * shared/specs/dqe-idmobile-matching-notp.txt and README.md.
 *
 * The parsers and the judging below are pure functions over (body, length)
 * or plain values, so that unit tests and fuzzers reach them without a
 * network.
 */
#ifndef MID_DQE_H
#define MID_DQE_H

#include <stddef.h>
#include <stdint.h>

#include "mobileid.h"

/* ---- the endpoints (relative to https://{server}) ---------------------------- */

#define MID_DQE_TOKEN_PATH "/ACCESS_TOKEN/"
#define MID_DQE_MATCHING_PATH "/IDMOBILE/"
#define MID_DQE_SCOPE "matching_notp"

/* The user_infos key of a field, and the response key of a score
 * ("address.locality" for the address members). */
const char *mid_dqe_info_key(mid_dqe_info f);
const char *mid_dqe_score_name(mid_dqe_score s);

/* ---- error ids ------------------------------------------------------------------ */

typedef enum mid_dqe_outcome {
	MID_DQE_PASS = 0,       /* the scores meet every threshold */
	MID_DQE_DENY,           /* the number does not belong to the person: deny */
	MID_DQE_OPERATOR,       /* operator limit or service failure: on_error decides */
	MID_DQE_TOKEN_EXPIRED,  /* error 30: fetch a new token and retry once */
	MID_DQE_CONFIG,         /* our licence or account: configuration error */
	MID_DQE_INTERNAL        /* our request was refused: a bug */
} mid_dqe_outcome;

/* What an error_id ("01".."17", "30") means; unknown ids are MID_DQE_OPERATOR. */
mid_dqe_outcome mid_dqe_error_outcome(const char *error_id);
/* The vendor's description of an error id, or "unknown error id". */
const char *mid_dqe_error_text(const char *error_id);
const char *mid_dqe_outcome_name(mid_dqe_outcome o);

/* A DQE error body {"status":"error","error_type","error_id"}. */
typedef struct mid_dqe_error {
	char id[8];          /* "" when absent */
	char type[128];      /* control characters removed */
} mid_dqe_err;

/* ---- parsers ----------------------------------------------------------------------- */

/* /ACCESS_TOKEN/: {"access_token","token_type","expires_in":"300" (a string
 * or a number),"refresh_token"}.  0: *token set (free with mid_free_secret);
 * 1: a DQE error body (e set); -1: unusable (err set). */
int mid_dqe_parse_token(const char *body, size_t len, char **token, long *expires_in,
                        mid_dqe_err *e, char *err, size_t errlen);

/* Scores: a number from 0 to 1, or MID_DQE_NO_SCORE when DQE answered the
 * empty string (or null, or left the key out). */
#define MID_DQE_NO_SCORE (-1.0)
typedef struct mid_dqe_scores {
	double v[MID_DQE_SCORE_COUNT];
} mid_dqe_scores;

/* /IDMOBILE/: the scores, or a DQE error body.  0: scores; 1: error (e set);
 * -1: unusable (err set). */
int mid_dqe_parse_matching(const char *body, size_t len, mid_dqe_scores *s,
                           mid_dqe_err *e, char *err, size_t errlen);

/* ---- judging ------------------------------------------------------------------------ */

/* 1 when every judged field (min >= 0) has a score >= its minimum; a judged
 * field without a score fails.  detail gets one "name=score" item per field
 * that has a score or is judged, e.g. "family_name=0.40<0.80 email=1.00
 * birthdate=none<0.50" (only scores: never the personal data). */
int mid_dqe_judge(const double min[MID_DQE_SCORE_COUNT], const mid_dqe_scores *s,
                  char *detail, size_t detaillen);

/* The user_infos field whose value a score compares. */
mid_dqe_info mid_dqe_score_source(mid_dqe_score s);

/* ---- personal data --------------------------------------------------------------- */

/* The phone number for DQE: blanks, dots, dashes and parentheses dropped;
 * then an optional '+' and 6 to 20 digits.  0 or -1. */
int mid_dqe_normalize_phone(const char *in, char *out, size_t outlen);

/* For logs: "+33*******78" -- the first 3 and last 2 characters of numbers
 * of 8 or more, the last 2 of shorter ones, '*' for the rest. */
void mid_dqe_mask_phone(const char *phone, char *out, size_t outlen);

/* "Given Family Name" -> "Given" and "Family Name"; a GECOS field's first
 * comma-separated part only.  Either may come back "" (never NULL unless out
 * of memory: -1). */
int mid_dqe_split_name(const char *full, char **given, char **family);

/* The person: one value per user_infos key ("" when unknown): trimmed,
 * valid UTF-8 without control characters (invalid bytes become '?'), at
 * most 256 bytes. */
typedef struct mid_dqe_person {
	char *v[MID_DQE_INFO_COUNT];
	unsigned from_gecos;   /* bit per field that came from GECOS */
} mid_dqe_person;

/* Fill p from the attributes of a GET /users/{id} body (names from cfg,
 * comma-separated candidates, first non-empty wins), then the full-name
 * attribute, then gecos (the login's GECOS field, may be NULL) for missing
 * names.  0, or -1 with err (not a user object, out of memory). */
int mid_dqe_person_from_user(const mid_config *cfg, const char *body, size_t len,
                             const char *gecos, mid_dqe_person *p, char *err, size_t errlen);
void mid_dqe_person_free(mid_dqe_person *p);   /* wipes */

/* The user_infos JSON: all 12 keys, "" for unknown.  free() after wiping. */
char *mid_dqe_user_infos_json(const mid_dqe_person *p);

/* The GECOS full name of a local login (first comma-separated part), or
 * NULL when there is none. */
char *mid_dqe_gecos_name(const char *login);

/* ---- the check ---------------------------------------------------------------------- */

typedef struct mid_dqe mid_dqe;

mid_dqe *mid_dqe_new(const mid_config *cfg, int (*aborted)(void *), void *abort_ctx);
void mid_dqe_free(mid_dqe *d);

/* Where log lines go (syslog priorities), e.g. the caller's callback. */
void mid_dqe_set_log(mid_dqe *d, void (*log)(void *ctx, int priority, const char *msg),
                     void *ctx);

/*
 * Run the matching for login (the name in log lines) with the MobileID user
 * object user_body.  deadline_ms (mid_now_ms() clock, 0: none) bounds it
 * together with [dqe] timeout.  Returns MID_APPROVED to go on with the push
 * (matched, or skipped by on_error = skip_check), MID_PHONE_UNVERIFIED,
 * MID_CONFIG_ERROR, MID_INTERNAL_ERROR or MID_CANCELLED; the reason (masked
 * number, scores, error id) is in mid_dqe_error() and DQE's trace id, if
 * any, in mid_dqe_trace_id().
 */
mid_result mid_dqe_check(mid_dqe *d, const char *login, const char *user_body, size_t len,
                         int64_t deadline_ms);

/* Fetch (force) or take from the cache a token: for mobileidctl check.
 * MID_APPROVED or the failure as for mid_dqe_check (on_error not applied:
 * a failure is MID_UNAVAILABLE). */
mid_result mid_dqe_token_check(mid_dqe *d, int force, int64_t deadline_ms);

const char *mid_dqe_error(const mid_dqe *d);
const char *mid_dqe_trace_id(const mid_dqe *d);
int mid_dqe_token_fetches(const mid_dqe *d);
long mid_dqe_requests(const mid_dqe *d);

/* Forget the process-wide token cache (tests). */
void mid_dqe_forget_token(void);

#endif

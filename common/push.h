/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * push.h - the steps of mid_authenticate(), for callers that must split
 * them (RADIUS challenge mode, mobileidctl), and counters for benchmarks.
 */
#ifndef MID_PUSH_H
#define MID_PUSH_H

#include <stdint.h>

#include "mobileid.h"

/* Start the push.  0: pending (transaction id in the handle); 1: already
 * finished, *res is the outcome; -1: failed before or while starting, *res
 * says why. */
int mid_push_start(mid_handle *h, const mid_request *req, const mid_callbacks *cb,
                   mid_result *res);

/* Tell the user (mode) and wait for the phone or push_timeout; cancels the
 * push when it stops waiting before the phone answered. */
mid_result mid_push_wait(mid_handle *h, mid_prompt_mode mode, const mid_callbacks *cb);

/* Take over a push started elsewhere (RADIUS challenge mode: the first
 * request started it, a later one waits for it) so that mid_push_wait()
 * and mid_push_cancel() act on it.  deadline_ms is on mid_now_ms()'s
 * clock.  0 or -1 (bad arguments). */
int mid_push_resume(mid_handle *h, const char *transaction_id, const char *code,
                    int64_t deadline_ms);

/* The absolute deadline (mid_now_ms() clock) of the current push. */
int64_t mid_handle_deadline(const mid_handle *h);

/* Cancel the pending push (DELETE); failures are logged. */
void mid_push_cancel(mid_handle *h);

/* The externalRef of a login, exactly as the push uses it: the template,
 * or with externalref = map the account map (cb->choose picks among
 * several identities; without it the first is taken).  A user name with
 * control characters or invalid UTF-8 is refused, never altered.
 * 0, or -1 with *res and err saying why.  free() *out. */
int mid_external_ref(const mid_config *cfg, const char *user, const char *service,
                     const mid_callbacks *cb, char **out, mid_result *res,
                     char *err, size_t errlen);

/* What the user sees ("Approve the login on your phone (code 4821)"). */
const char *mid_handle_message(const mid_handle *h);

/* A short text for the user about a failed result. */
const char *mid_result_user_message(mid_result r);

typedef struct mid_counters {
	long requests;        /* HTTPS requests */
	long connects;        /* new TLS connections */
	int token_fetches;
	int user_from_cache;
} mid_counters;
void mid_handle_counters(const mid_handle *h, mid_counters *c);

#endif

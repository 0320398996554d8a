/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mobileid.h - the push second factor, as seen by the PAM and RADIUS modules
 * and by mobileidctl.  Nothing in common/ knows about PAM or FreeRADIUS:
 * callers pass callbacks in and get a mid_result back.
 */
#ifndef MOBILEID_H
#define MOBILEID_H

#include <stddef.h>

#include "mid_config.h"

typedef enum mid_result {
	MID_APPROVED = 0,    /* the phone approved the push */
	MID_DENIED,          /* the phone denied it */
	MID_EXPIRED,         /* nobody answered before the push expired */
	MID_CANCELLED,       /* the user or the caller aborted the wait */
	MID_USER_UNKNOWN,    /* the externalRef does not resolve to a user */
	MID_NO_DEVICE,       /* the user has no ACTIVE device */
	MID_LOCKED,          /* user or device locked */
	MID_UNAVAILABLE,     /* the service could not be reached or answered garbage */
	MID_CONFIG_ERROR,    /* bad or unsafe configuration, rejected credentials */
	MID_INTERNAL_ERROR,  /* out of memory, our bug, a request the API refused */
	MID_PUSH_PENDING,    /* refused: another push for this user is still pending */
	MID_RATE_LIMITED,    /* refused: too many denials, the user is cooling down */
	MID_PHONE_UNVERIFIED, /* DQE matching: the phone number may no longer be the user's */
	MID_RESULT_COUNT
} mid_result;

const char *mid_result_name(mid_result r);

/* How the user learns that a push was sent. */
typedef enum mid_prompt_mode {
	MID_PROMPT_NONE = 0,  /* no conversation (RADIUS, scripts) */
	MID_PROMPT_INFO,      /* a text message, then poll at once */
	MID_PROMPT_ENTER      /* the message as a prompt; poll after the answer */
} mid_prompt_mode;

typedef struct mid_callbacks {
	void *ctx;
	/* Show text without waiting for an answer.  0 on success. */
	int (*info)(void *ctx, const char *msg);
	/* Show a prompt and wait for the user to answer (the answer is
	 * discarded).  0 on success, -1 when the conversation failed or was
	 * aborted. */
	int (*prompt)(void *ctx, const char *msg);
	/* A log line; priority is a syslog(3) priority. */
	void (*log)(void *ctx, int priority, const char *msg);
	/* Asked while waiting: non-zero stops the wait and cancels the push. */
	int (*aborted)(void *ctx);
	/* Optional (NULL: the first option is taken and logged): ask the user
	 * to pick one of n options (externalref = map, an account with several
	 * identities).  The index, or -1 when there is no answer. */
	int (*choose)(void *ctx, const char *question, const char *const *options, int n);
} mid_callbacks;

typedef struct mid_request {
	const char *user;      /* the login name (required) */
	const char *service;   /* PAM service, "radius", "mobileidctl" */
	const char *rhost;     /* remote host or address, may be NULL */
	const char *command;   /* e.g. the sudo command, may be NULL */
	mid_prompt_mode prompt_mode;
} mid_request;

typedef struct mid_handle mid_handle;

/* The handle borrows cfg, which must outlive it. */
mid_handle *mid_handle_new(const mid_config *cfg);
void mid_handle_free(mid_handle *h);

/* The whole push: resolve the user, start the authentication, tell the
 * user, wait for the phone, cancel when we stop waiting early. */
mid_result mid_authenticate(mid_handle *h, const mid_request *req,
                            const mid_callbacks *cb);

/* Per-handle details of the last call, "" when there are none. */
const char *mid_handle_error(const mid_handle *h);
const char *mid_handle_trace_id(const mid_handle *h);
const char *mid_handle_transaction_id(const mid_handle *h);
const char *mid_handle_code(const mid_handle *h);
const char *mid_handle_external_ref(const mid_handle *h);

#endif

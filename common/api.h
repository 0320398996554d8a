/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api.h - the Signicat MobileID REST client: ONE endpoint table, the OAuth2
 * token (memory and file cache), calls with one refresh-and-retry on 401,
 * and the classification of failures into mid_result.
 */
#ifndef MID_API_H
#define MID_API_H

#include "http.h"
#include "mobileid.h"
#include "parse.h"

typedef enum mid_op {
	MID_OP_TOKEN = 0,
	MID_OP_RESOLVE,
	MID_OP_GET_USER,
	MID_OP_CREATE_USER,
	MID_OP_UPDATE_USER,
	MID_OP_DELETE_USER,
	MID_OP_USER_TRANSACTIONS,
	MID_OP_LIST_DEVICES,
	MID_OP_GET_DEVICE,
	MID_OP_UPDATE_DEVICE,
	MID_OP_DELETE_DEVICE,
	MID_OP_START_REGISTRATION,
	MID_OP_REGISTRATION_STATE,
	MID_OP_CANCEL_REGISTRATION,
	MID_OP_START_AUTH,
	MID_OP_AUTH_STATE,
	MID_OP_CANCEL_AUTH,
	MID_OP_COUNT
} mid_op;

typedef struct mid_endpoint {
	const char *method;
	const char *path;   /* relative to api_url; "%s" is the escaped id */
	const char *name;   /* for log lines */
} mid_endpoint;

const mid_endpoint *mid_endpoint_of(mid_op op);

typedef struct mid_api {
	const mid_config *cfg;
	mid_http *http;
	mid_http_response resp;     /* body of the last call */
	char *token;                /* our copy of the bearer token */
	void (*log)(void *ctx, int priority, const char *msg);
	void *log_ctx;
	int token_fetches;          /* for tests and benchmarks */

	/* The last failure. */
	mid_result fail;
	mid_op fail_op;
	char error[512];
	char trace_id[80];          /* of the last response, failed or not */
	long status;
	char code[64];
} mid_api;

int mid_api_init(mid_api *a, const mid_config *cfg, int (*aborted)(void *), void *abort_ctx);
void mid_api_cleanup(mid_api *a);

/*
 * Call op.  id (may be NULL) fills the path's %s, escaped; query (may be
 * NULL) is appended after '?', already escaped; json_body (may be NULL) is
 * sent as application/json.  0 on a 2xx answer (body in a->resp.body),
 * -1 otherwise with a->fail, a->error, a->status, a->code set.
 */
int mid_api_call(mid_api *a, mid_op op, const char *id, const char *query,
                 const char *json_body, int64_t deadline_ms);

/* Record that op answered 2xx with a body we cannot use. */
void mid_api_garbage(mid_api *a, mid_op op, const char *reason);

/* Make sure a->token holds a usable token (force: fetch a new one). */
int mid_api_token(mid_api *a, int force, int64_t deadline_ms);

/* Log through the caller's callback. */
void mid_api_log(mid_api *a, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget the process-wide token cache (tests). */
void mid_api_forget_token(void);

#endif

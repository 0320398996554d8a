/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse.h - parsers for every response body the library reads.  Pure
 * functions over (body, length) so that unit tests and fuzzers reach them
 * without a network.  Each returns 0, or -1 with a reason in err.
 */
#ifndef MID_PARSE_H
#define MID_PARSE_H

#include <stddef.h>

#include "mobileid.h"

#define MID_ID_MAX 128   /* user, device and transaction ids */

/* Token endpoint: {"access_token","token_type":"Bearer","expires_in"}. */
int mid_parse_token(const char *body, size_t len, char **token, long *expires_in,
                    char *err, size_t errlen);

/* Vendor error body {"type","title","code","status","traceId","detail"}. */
typedef struct mid_api_error {
	char code[64];
	char title[128];
	char detail[256];
	char trace_id[80];
	long status;
} mid_api_error;
int mid_parse_error(const char *body, size_t len, mid_api_error *e);

/* POST /users/resolve -> {"externalRef","userId"}. */
int mid_parse_resolve(const char *body, size_t len, char user_id[MID_ID_MAX],
                      char *err, size_t errlen);

/* GET /users/{id} -> user object; *locked set when state is LOCKED. */
int mid_parse_user(const char *body, size_t len, int *locked, char *err, size_t errlen);

/* GET /devices -> array.  Counts ACTIVE devices, copies the first id. */
int mid_parse_devices(const char *body, size_t len, int *active,
                      char first_id[MID_ID_MAX], char *err, size_t errlen);

typedef enum mid_op_state {
	MID_STATE_PENDING = 0,
	MID_STATE_COMPLETED,
	MID_STATE_FAILED
} mid_op_state;

typedef struct mid_auth_state {
	char transaction_id[MID_ID_MAX];
	mid_op_state state;
	char error_code[64];          /* on FAILED */
	char error_description[256];  /* on FAILED, control characters removed */
} mid_auth_state;

/* Authentication (or registration) response / state. */
int mid_parse_auth(const char *body, size_t len, mid_auth_state *st,
                   char *err, size_t errlen);

/* What a FAILED operation's errorCode means for the login. */
mid_result mid_error_code_result(const char *error_code);

#endif

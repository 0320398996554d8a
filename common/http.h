/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * http.h - HTTPS over libcurl with the project's safety rules: TLS
 * verification always on, connect timeout and overall deadline per call,
 * response size cap, X-TRACE-ID capture, keep-alive reuse.
 */
#ifndef MID_HTTP_H
#define MID_HTTP_H

#include <stdint.h>

#include "util.h"

typedef enum mid_http_status {
	MID_HTTP_OK = 0,       /* a complete response arrived (any HTTP status) */
	MID_HTTP_ERR_DNS,
	MID_HTTP_ERR_CONNECT,
	MID_HTTP_ERR_TLS,      /* handshake, untrusted certificate, wrong name */
	MID_HTTP_ERR_TIMEOUT,  /* connect timeout or deadline */
	MID_HTTP_ERR_TOOBIG,   /* body over the size cap */
	MID_HTTP_ERR_ABORTED,  /* the caller's abort callback fired */
	MID_HTTP_ERR_PROTOCOL, /* truncated body, bad HTTP, connection closed */
	MID_HTTP_ERR_INTERNAL
} mid_http_status;

typedef struct mid_http_opts {
	const char *ca_file;        /* NULL: the system store */
	const char *proxy;          /* NULL: none (environment is ignored) */
	long connect_timeout_ms;
	long request_timeout_ms;
	long max_response_size;
	int (*aborted)(void *ctx);
	void *abort_ctx;
} mid_http_opts;

typedef struct mid_http_response {
	long status;               /* HTTP status, 0 when none arrived */
	mid_buf body;
	char trace_id[80];         /* X-TRACE-ID, "" when absent */
	char error[256];           /* transport error text */
	long elapsed_ms;
} mid_http_response;

typedef struct mid_http mid_http;

mid_http *mid_http_new(const mid_http_opts *opts);
/* mid_http_new() with the [signicat] ca_file, http_proxy, connect_timeout,
 * request_timeout and max_response_size of cfg. */
struct mid_config;
mid_http *mid_http_new_from_config(const struct mid_config *cfg, int (*aborted)(void *ctx),
                                   void *abort_ctx);
void mid_http_free(mid_http *h);

/*
 * One request.  bearer (may be NULL) is sent as "Authorization: Bearer";
 * content_type/body (may be NULL) for POST/PATCH.  deadline_ms is an
 * absolute mid_now_ms() time the call must end by (0: none beyond
 * request_timeout).  The response is reset first.
 */
mid_http_status mid_http_request(mid_http *h, const char *method, const char *url,
                                 const char *bearer, const char *content_type,
                                 const char *body, int64_t deadline_ms,
                                 mid_http_response *resp);

/* The same with one more header line "Name: value" that holds a secret
 * (e.g. "X-VerifiD-ApiToken: ..."): wiped from memory after the call. */
mid_http_status mid_http_request_hdr(mid_http *h, const char *method, const char *url,
                                     const char *bearer, const char *secret_header,
                                     const char *content_type, const char *body,
                                     int64_t deadline_ms, mid_http_response *resp);

void mid_http_response_free(mid_http_response *resp);

const char *mid_http_status_name(mid_http_status s);

/* Counters for benchmarks and tests. */
typedef struct mid_http_stats {
	long requests;
	long connects;   /* new TCP+TLS connections */
} mid_http_stats;
void mid_http_get_stats(const mid_http *h, mid_http_stats *st);

/* URL-escape one path or query component; free() the result. */
char *mid_http_escape(mid_http *h, const char *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * http.c - HTTPS over libcurl.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"
#include "mid_config.h"

struct mid_http {
	CURL *curl;                 /* kept: its connection cache gives keep-alive */
	mid_http_opts opts;
	char *ca_file;
	char *proxy;
	mid_http_response *cur;
	mid_http_stats stats;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	/* Never cleaned up: unsafe in a library loaded into someone else's
	 * process; the memory is process-wide and reused. */
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	mid_http *h = userdata;
	size_t n = size * nmemb;

	if (mid_buf_append(&h->cur->body, ptr, n) != 0)
		return 0;   /* too big or out of memory: curl fails the transfer */
	return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	mid_http *h = userdata;
	size_t n = size * nitems;
	static const char name[] = "x-trace-id:";

	if (n > sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1)) {
		const char *v = buf + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1), o = 0;
		char *out = h->cur->trace_id;
		/* Keep only characters safe to log. */
		for (size_t i = 0; i < len && o < sizeof(h->cur->trace_id) - 1; i++) {
			char c = v[i];
			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.')
				out[o++] = c;
		}
		out[o] = '\0';
	}
	return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
	mid_http *h = clientp;

	if (h->opts.aborted && h->opts.aborted(h->opts.abort_ctx))
		return 1;
	return 0;
}

mid_http *mid_http_new(const mid_http_opts *opts)
{
	mid_http *h;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->opts = *opts;
	if ((opts->ca_file && *opts->ca_file && !(h->ca_file = strdup(opts->ca_file))) ||
	    (opts->proxy && *opts->proxy && !(h->proxy = strdup(opts->proxy))) ||
	    !(h->curl = curl_easy_init())) {
		mid_http_free(h);
		return NULL;
	}
	return h;
}

mid_http *mid_http_new_from_config(const mid_config *cfg, int (*aborted)(void *ctx),
                                   void *abort_ctx)
{
	mid_http_opts o = {
		.ca_file = cfg->ca_file,
		.proxy = cfg->http_proxy,
		.connect_timeout_ms = cfg->connect_timeout_ms,
		.request_timeout_ms = cfg->request_timeout_ms,
		.max_response_size = cfg->max_response_size,
		.aborted = aborted,
		.abort_ctx = abort_ctx,
	};

	return mid_http_new(&o);
}

void mid_http_free(mid_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h->proxy);
	free(h);
}

void mid_http_response_free(mid_http_response *resp)
{
	mid_buf_free(&resp->body);
}

char *mid_http_escape(mid_http *h, const char *s)
{
	char *e = curl_easy_escape(h->curl, s, 0);
	char *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

void mid_http_get_stats(const mid_http *h, mid_http_stats *st)
{
	*st = h->stats;
}

const char *mid_http_status_name(mid_http_status s)
{
	switch (s) {
	case MID_HTTP_OK: return "ok";
	case MID_HTTP_ERR_DNS: return "DNS lookup failed";
	case MID_HTTP_ERR_CONNECT: return "connection failed";
	case MID_HTTP_ERR_TLS: return "TLS failure";
	case MID_HTTP_ERR_TIMEOUT: return "timed out";
	case MID_HTTP_ERR_TOOBIG: return "response too large";
	case MID_HTTP_ERR_ABORTED: return "aborted";
	case MID_HTTP_ERR_PROTOCOL: return "protocol error";
	case MID_HTTP_ERR_INTERNAL: return "internal error";
	}
	return "unknown";
}

static mid_http_status classify(CURLcode rc, const mid_http_response *resp)
{
	switch (rc) {
	case CURLE_OK:
		return MID_HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return MID_HTTP_ERR_DNS;
	case CURLE_COULDNT_CONNECT:
		return MID_HTTP_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return MID_HTTP_ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return MID_HTTP_ERR_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return MID_HTTP_ERR_TOOBIG;
	case CURLE_WRITE_ERROR:
		return resp->body.overflow ? MID_HTTP_ERR_TOOBIG : MID_HTTP_ERR_INTERNAL;
	case CURLE_ABORTED_BY_CALLBACK:
		return MID_HTTP_ERR_ABORTED;
	case CURLE_OUT_OF_MEMORY:
		return MID_HTTP_ERR_INTERNAL;
	default:
		return MID_HTTP_ERR_PROTOCOL;
	}
}

#define SETOPT(opt, val) \
	do { if (curl_easy_setopt(c, opt, val) != CURLE_OK) goto setopt_failed; } while (0)

mid_http_status mid_http_request(mid_http *h, const char *method, const char *url,
                                 const char *bearer, const char *content_type,
                                 const char *body, int64_t deadline_ms,
                                 mid_http_response *resp)
{
	return mid_http_request_hdr(h, method, url, bearer, NULL, content_type, body,
	                            deadline_ms, resp);
}

mid_http_status mid_http_request_hdr(mid_http *h, const char *method, const char *url,
                                     const char *bearer, const char *secret_header,
                                     const char *content_type, const char *body,
                                     int64_t deadline_ms, mid_http_response *resp)
{
	struct curl_slist *hdrs = NULL, *tmp;
	char auth[4096 + 32], ctype[128];
	char errbuf[CURL_ERROR_SIZE] = "";
	long timeout = h->opts.request_timeout_ms;
	int64_t t0 = mid_now_ms();
	long connects = 0;
	CURL *c = h->curl;
	CURLcode rc;
	mid_http_status st;

	mid_buf_reset(&resp->body);
	resp->body.limit = (size_t)h->opts.max_response_size;
	resp->status = 0;
	resp->trace_id[0] = resp->error[0] = '\0';
	resp->elapsed_ms = 0;
	h->cur = resp;

	if (deadline_ms > 0) {
		int64_t left = deadline_ms - t0;
		if (left <= 0) {
			snprintf(resp->error, sizeof(resp->error), "deadline passed before the request");
			return MID_HTTP_ERR_TIMEOUT;
		}
		if (left < timeout)
			timeout = (long)left;
	}

	curl_easy_reset(c);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		SETOPT(CURLOPT_CAINFO, h->ca_file);
	/* "" disables proxies, including any from the environment. */
	SETOPT(CURLOPT_PROXY, h->proxy ? h->proxy : "");
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms < timeout
	                                  ? h->opts.connect_timeout_ms : timeout);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->opts.max_response_size);
	SETOPT(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, h);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, h);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_TCP_NODELAY, 1L);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->opts.aborted) {
		SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
		SETOPT(CURLOPT_XFERINFODATA, h);
		SETOPT(CURLOPT_NOPROGRESS, 0L);
	}
	if (strcmp(method, "GET") != 0)
		SETOPT(CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		SETOPT(CURLOPT_POSTFIELDS, body);
		SETOPT(CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}

	if (!(tmp = curl_slist_append(hdrs, "Accept: application/json")))
		goto oom;
	hdrs = tmp;
	if (content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		if (!(tmp = curl_slist_append(hdrs, ctype)))
			goto oom;
		hdrs = tmp;
	}
	if (bearer) {
		if (strlen(bearer) > 4096) {
			snprintf(resp->error, sizeof(resp->error), "access token too long");
			curl_slist_free_all(hdrs);
			return MID_HTTP_ERR_INTERNAL;
		}
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		tmp = curl_slist_append(hdrs, auth);
		mid_wipe(auth, sizeof(auth));
		if (!tmp)
			goto oom;
		hdrs = tmp;
	}
	if (secret_header) {
		if (strlen(secret_header) > 4096 || mid_has_ctl(secret_header) ||
		    !strchr(secret_header, ':')) {
			snprintf(resp->error, sizeof(resp->error), "unusable request header");
			curl_slist_free_all(hdrs);
			return MID_HTTP_ERR_INTERNAL;
		}
		if (!(tmp = curl_slist_append(hdrs, secret_header)))
			goto oom;
		hdrs = tmp;
	}
	/* No "Expect: 100-continue" round trip. */
	if (!(tmp = curl_slist_append(hdrs, "Expect:")))
		goto oom;
	hdrs = tmp;
	SETOPT(CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	h->stats.requests++;
	h->stats.connects += connects;
	resp->elapsed_ms = (long)(mid_now_ms() - t0);
	st = classify(rc, resp);
	if (st != MID_HTTP_OK)
		snprintf(resp->error, sizeof(resp->error), "%s: %s", mid_http_status_name(st),
		         errbuf[0] ? errbuf : curl_easy_strerror(rc));
	/* Drop the header list: it holds the bearer token (or another secret). */
	for (tmp = hdrs; tmp; tmp = tmp->next)
		mid_wipe(tmp->data, strlen(tmp->data));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	h->cur = NULL;
	return st;

setopt_failed:
oom:
	for (tmp = hdrs; tmp; tmp = tmp->next)
		mid_wipe(tmp->data, strlen(tmp->data));
	curl_slist_free_all(hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	snprintf(resp->error, sizeof(resp->error), "cannot set up the request");
	h->cur = NULL;
	return MID_HTTP_ERR_INTERNAL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rlm_mobileid.c - FreeRADIUS 3.2 module: a Signicat MobileID push as the
 * second factor of an Access-Request.
 *
 *   mobileid {
 *	config_file = /etc/mobileid/mobileid.conf	# and/or the keys inline
 *	mode = push					# or "challenge"
 *   }
 *
 * "push": authenticate sends the push and waits for the phone in the same
 * request (after another module checked the password).  "challenge": the
 * first request starts the push and answers Access-Challenge with State and
 * the code in Reply-Message; the request carrying that State waits for (or
 * reads) the result.
 *
 * A request for a user whose push is still pending (a retransmission that
 * got past the duplicate detection, or a new request the NAS re-sent) never
 * starts a second push: it joins the pending one and gets its result.
 *
 * Threading: the instance data is read-only after instantiate, except the
 * table of pushes in progress and the pool of idle library handles, each
 * under its own mutex.  One library handle (and so one HTTPS connection) per
 * polling request; the OAuth token cache is shared by the library under its
 * own lock.
 */
#include "rlm_mobileid.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/time.h>

#include "mid_config.h"
#include "mobileid_rcode.h"
#include "policy.h"
#include "push.h"
#include "util.h"

#define JOIN_SLICE_MS 250	/* how often a waiting request looks at its own state */

static const CONF_PARSER module_config[] = {
	{ "config_file", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mobileid_t, config_file), NULL },
	{ "mode", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_NOT_EMPTY, rlm_mobileid_t, mode), "push" },
	{ "user_name", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_XLAT | PW_TYPE_NOT_EMPTY,
				      rlm_mobileid_t, user_name),
	  "%{%{Stripped-User-Name}:-%{User-Name}}" },
	{ "join_key", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_XLAT, rlm_mobileid_t, join_key),
	  "%{Calling-Station-Id}" },
	{ "max_pending", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mobileid_t, max_pending), "4096" },
	{ "answer_margin", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mobileid_t, answer_margin), "2" },
	{ "idle_handles", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mobileid_t, idle_handles), "64" },
	CONF_PARSER_TERMINATOR
};

/*
 *	Per request: what the callbacks of the library need, and what
 *	the log line of the attempt reports.
 */
typedef struct mobileid_rctx {
	rlm_mobileid_t		*inst;
	REQUEST			*request;
	char const		*user;		/* sanitised, for log lines */
	char const		*op;		/* what this request does, for log lines */
	int64_t			start_ms;
	int64_t			cutoff_ms;	/* answer by then: max_request_time - answer_margin */
	mobileid_push_t		*push;		/* the push we start, wait for or poll */
	bool			stopped;	/* the server gave up on the request */
	bool			late;		/* we stopped waiting at cutoff_ms */
	bool			kept_alive;	/* logged: polling on for other requests */

	/* copied from the push when it is done */
	char			transaction_id[128];
	char			trace_id[80];
	char			error[600];
} mobileid_rctx_t;

static inline bool request_stopped(REQUEST *request)
{
	/*
	 *	The main thread writes master_state without a lock when
	 *	max_request_time expires or the listener goes away: read it
	 *	afresh every time.
	 */
	return __atomic_load_n(&request->master_state, __ATOMIC_RELAXED) == REQUEST_STOP_PROCESSING;
}

/*
 *	When we must have answered: the server stops waiting for the
 *	request max_request_time after it arrived (time spent queued
 *	counts), and then sends nothing at all to the NAS.
 */
static int64_t request_cutoff(rlm_mobileid_t const *inst, REQUEST *request)
{
	struct timeval now;
	int64_t elapsed_ms, limit_ms;
	uint32_t max_request_time = request->root ? request->root->max_request_time
						  : main_config.max_request_time;

	gettimeofday(&now, NULL);
	elapsed_ms = (int64_t) (now.tv_sec - request->packet->timestamp.tv_sec) * 1000 +
		     (now.tv_usec - request->packet->timestamp.tv_usec) / 1000;
	if (elapsed_ms < 0) elapsed_ms = 0;
	limit_ms = ((int64_t) max_request_time - (int64_t) inst->answer_margin) * 1000;

	return mid_now_ms() + (limit_ms - elapsed_ms);
}

/* ---- library callbacks ---------------------------------------------------------------------- */

static void mod_log(void *ctx, int priority, char const *msg)
{
	mobileid_rctx_t *rctx = ctx;
	REQUEST *request = rctx->request;
	char *clean = mid_sanitize(msg, 0, 2048);

	/*
	 *	The server's log turns CR and LF into blanks, but lets ESC
	 *	and the other control characters through.
	 */
	if (!clean) return;
	msg = clean;

	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		RERROR("user=%s op=%s %s", rctx->user, rctx->op, msg);
		break;

	case LOG_WARNING:
		RWARN("user=%s op=%s %s", rctx->user, rctx->op, msg);
		break;

	case LOG_NOTICE:
	case LOG_INFO:
		RDEBUG("user=%s %s", rctx->user, msg);
		break;

	default:
		RDEBUG2("user=%s %s", rctx->user, msg);
		break;
	}
	free(clean);
}

/*
 *	Asked by the library while it waits (every 100 ms and during every
 *	HTTP transfer).  Non-zero stops the wait and cancels the push.
 */
static int mod_aborted(void *ctx)
{
	mobileid_rctx_t *rctx = ctx;
	rlm_mobileid_t *inst = rctx->inst;
	REQUEST *request = rctx->request;
	bool stopped = request_stopped(request);
	bool late = mid_now_ms() >= rctx->cutoff_ms;
	int waiters;

	if (!stopped && !late) return 0;

	/*
	 *	Other requests (re-sent by the NAS) wait for this push: the
	 *	NAS has moved on to them, so go on polling on their behalf
	 *	rather than cancelling their push.
	 */
	pthread_mutex_lock(&inst->lock);
	waiters = rctx->push ? rctx->push->waiters : 0;
	if (waiters == 0 && rctx->push) mobileid_push_unlink(inst, rctx->push);
	pthread_mutex_unlock(&inst->lock);

	if (waiters > 0) {
		if (!rctx->kept_alive) {
			RWARN("user=%s op=%s this request %s, but %d other request(s) wait for the "
			      "same push: polling on for them", rctx->user, rctx->op,
			      stopped ? "was stopped by the server" : "reached max_request_time",
			      waiters);
			rctx->kept_alive = true;
		}
		return 0;
	}

	rctx->stopped = stopped;
	rctx->late = late && !stopped;
	return 1;
}

/* ---- pushes ----------------------------------------------------------------------------------- */

static void copy_result(mobileid_rctx_t *rctx, mobileid_push_t const *push)
{
	snprintf(rctx->transaction_id, sizeof(rctx->transaction_id), "%s", push->transaction_id);
	snprintf(rctx->trace_id, sizeof(rctx->trace_id), "%s", push->trace_id);
	snprintf(rctx->error, sizeof(rctx->error), "%s", push->error ? push->error : "");
}

/*
 *	Why a wait we ended ourselves ended.  "late" is an expiry for the
 *	user; "stopped" means nobody will see the answer.
 */
static mid_result own_end(mobileid_rctx_t *rctx, mid_result r, mid_handle *h, char *error,
			  size_t errlen)
{
	snprintf(error, errlen, "%s", h ? mid_handle_error(h) : "");
	if (r != MID_CANCELLED) return r;

	if (rctx->late) {
		snprintf(error, errlen, "no answer from the phone before max_request_time "
			 "(%u s) less answer_margin (%u s)",
			 rctx->request->root ? rctx->request->root->max_request_time
					     : main_config.max_request_time,
			 rctx->inst->answer_margin);
		return MID_EXPIRED;
	}
	if (rctx->stopped) snprintf(error, errlen, "the server stopped processing the request");
	return r;
}

/* The push has a result: record it, wake whoever waits, forget the push. */
static void push_done(mobileid_rctx_t *rctx, mid_result r, mid_handle *h, char const *error)
{
	rlm_mobileid_t *inst = rctx->inst;
	mobileid_push_t *push = rctx->push;

	pthread_mutex_lock(&inst->lock);
	push->status = PUSH_DONE;
	push->polling = false;
	push->result = r;
	free(push->error);
	push->error = strdup(error ? error : "");
	if (h) {
		if (*mid_handle_transaction_id(h)) {
			snprintf(push->transaction_id, sizeof(push->transaction_id), "%s",
				 mid_handle_transaction_id(h));
		}
		if (*mid_handle_trace_id(h)) {
			snprintf(push->trace_id, sizeof(push->trace_id), "%s", mid_handle_trace_id(h));
		}
	}
	mobileid_push_unlink(inst, push);
	pthread_cond_broadcast(&push->cond);
	copy_result(rctx, push);
	pthread_mutex_unlock(&inst->lock);
}

/* The push is on the phone: publish what the other requests need. */
static int push_pending(mobileid_rctx_t *rctx, mid_handle *h)
{
	rlm_mobileid_t *inst = rctx->inst;
	mobileid_push_t *push = rctx->push;
	int rcode = 0;

	pthread_mutex_lock(&inst->lock);
	snprintf(push->transaction_id, sizeof(push->transaction_id), "%s",
		 mid_handle_transaction_id(h));
	snprintf(push->code, sizeof(push->code), "%s", mid_handle_code(h));
	snprintf(push->trace_id, sizeof(push->trace_id), "%s", mid_handle_trace_id(h));
	free(push->message);
	push->message = strdup(mid_handle_message(h));
	free(push->external_ref);
	push->external_ref = strdup(mid_handle_external_ref(h));
	push->deadline_ms = mid_handle_deadline(h);
	if (!push->message || !push->external_ref) rcode = -1;
	if ((rcode == 0) && inst->challenge) {
		rcode = mobileid_push_link_state(inst, push);
		if (rcode == 0) {
			push->handle = h;	/* until the follow-up request polls it */
			push->polling = false;
		}
	}
	if (rcode == 0) push->status = PUSH_PENDING;
	pthread_cond_broadcast(&push->cond);
	pthread_mutex_unlock(&inst->lock);

	return rcode;
}

/* The request that poll the push, whoever started it, to its end. */
static mid_result push_poll(mobileid_rctx_t *rctx, mid_handle *h, mid_callbacks const *cb)
{
	char error[600];
	mid_result r;

	r = mid_push_wait(h, MID_PROMPT_NONE, cb);
	r = own_end(rctx, r, h, error, sizeof(error));
	push_done(rctx, r, h, error);
	return r;
}

/*
 *	Poll a challenge-mode push: the handle that started it does, so the
 *	library's per-handle state (push-bombing guard, deadline) follows the
 *	push from the first request to the one that waits for it.
 */
static mid_result push_take_over(mobileid_rctx_t *rctx, mid_handle *h)
{
	mid_callbacks cb = { .ctx = rctx, .log = mod_log, .aborted = mod_aborted };
	mid_result r;

	r = push_poll(rctx, h, &cb);
	mobileid_handle_put(rctx->inst, h);
	return r;
}

/*
 *	Wait for a push another request works on.  until_started: return
 *	once it is no longer starting (challenge mode, to repeat the
 *	challenge).  A pending push that nobody polls is taken over.
 *	*pending is set when the push is still pending on return.
 */
static mid_result push_join(mobileid_rctx_t *rctx, bool until_started, bool *pending)
{
	rlm_mobileid_t *inst = rctx->inst;
	mobileid_push_t *push = rctx->push;
	REQUEST *request = rctx->request;
	mid_result r;

	*pending = false;
	pthread_mutex_lock(&inst->lock);
	for (;;) {
		int64_t left;

		if (push->status == PUSH_DONE) {
			r = push->result;
			copy_result(rctx, push);
			pthread_mutex_unlock(&inst->lock);
			return r;
		}
		if (push->status == PUSH_PENDING && until_started) {
			*pending = true;
			copy_result(rctx, push);
			pthread_mutex_unlock(&inst->lock);
			return MID_APPROVED;	/* unused */
		}
		if (push->status == PUSH_PENDING && !push->polling && push->handle) {
			mid_handle *h = push->handle;

			push->handle = NULL;
			push->polling = true;
			pthread_mutex_unlock(&inst->lock);

			RDEBUG2("Polling push %s", mid_handle_transaction_id(h));
			return push_take_over(rctx, h);
		}

		if (request_stopped(request)) {
			rctx->stopped = true;
			copy_result(rctx, push);
			snprintf(rctx->error, sizeof(rctx->error),
				 "the server stopped processing the request");
			pthread_mutex_unlock(&inst->lock);
			return MID_CANCELLED;
		}
		left = rctx->cutoff_ms - mid_now_ms();
		if (left <= 0) {
			rctx->late = true;
			copy_result(rctx, push);
			snprintf(rctx->error, sizeof(rctx->error), "no answer from the phone before "
				 "max_request_time less answer_margin (%u s)", inst->answer_margin);
			pthread_mutex_unlock(&inst->lock);
			return MID_EXPIRED;
		}
		mobileid_push_wait_cond(inst, push, left < JOIN_SLICE_MS ? (long) left : JOIN_SLICE_MS);
	}
}

/* ---- replies and log lines --------------------------------------------------------------------- */

/* ONE line per request, whatever happened. */
static void log_attempt(mobileid_rctx_t *rctx, mid_result r, rlm_rcode_t rcode)
{
	REQUEST *request = rctx->request;
	char *clean = mid_sanitize(rctx->error, 0, sizeof(rctx->error));
	char *error = clean && *clean ? mid_log_quote(clean) : NULL;	/* text from the API and the NAS */
	char const *note = "";

	if (r == MID_UNAVAILABLE && rcode == RLM_MODULE_OK) {
		note = " failmode=safe: login allowed without the second factor";
	} else if (r == MID_USER_UNKNOWN && rcode == RLM_MODULE_NOOP) {
		note = " unenrolled=ignore: the rest of the policy decides";
	}

#define ATTEMPT_FMT "user=%s op=%s result=%s rcode=%s transaction=%s trace=%s duration_ms=%ld%s%s%s"
#define ATTEMPT_ARGS rctx->user, rctx->op, mid_result_name(r), \
	fr_int2str(mod_rcode_table, rcode, "<invalid>"), \
	rctx->transaction_id[0] ? rctx->transaction_id : "-", \
	rctx->trace_id[0] ? rctx->trace_id : "-", (long) (mid_now_ms() - rctx->start_ms), \
	error ? " reason=" : "", error ? error : "", note

	switch (r) {
	case MID_APPROVED:
		RINFO(ATTEMPT_FMT, ATTEMPT_ARGS);
		break;

	case MID_DENIED:
	case MID_EXPIRED:
	case MID_CANCELLED:
	case MID_USER_UNKNOWN:
	case MID_NO_DEVICE:
	case MID_LOCKED:
		RWARN(ATTEMPT_FMT, ATTEMPT_ARGS);
		break;

	default:
		RERROR(ATTEMPT_FMT, ATTEMPT_ARGS);
		break;
	}
#undef ATTEMPT_FMT
#undef ATTEMPT_ARGS
	free(error);
	free(clean);
}

static rlm_rcode_t reply_result(mobileid_rctx_t *rctx, mid_result r)
{
	REQUEST *request = rctx->request;
	mid_config const *cfg = rctx->inst->cfg;
	rlm_rcode_t rcode = mobileid_rcode(r, cfg->failmode, cfg->unenrolled);
	char const *text = mobileid_reply_text(r, cfg->failmode, cfg->unenrolled);

	log_attempt(rctx, r, rcode);
	if (rctx->stopped) return RLM_MODULE_FAIL;	/* nobody will see the answer */

	if (text) pair_make_reply("Reply-Message", text, T_OP_SET);
	return rcode;
}

/* Access-Challenge with our State and the code. */
static rlm_rcode_t reply_challenge(mobileid_rctx_t *rctx)
{
	rlm_mobileid_t *inst = rctx->inst;
	mobileid_push_t *push = rctx->push;
	REQUEST *request = rctx->request;
	VALUE_PAIR *vp;
	char text[1200];
	int64_t left_ms;

	pthread_mutex_lock(&inst->lock);
	snprintf(text, sizeof(text), "%s, then press Enter.", push->message ? push->message : "");
	vp = fr_pair_afrom_num(request->reply, PW_STATE, 0);
	if (vp) {
		fr_pair_value_memcpy(vp, push->state, sizeof(push->state));
		fr_pair_replace(&request->reply->vps, vp);
	}
	left_ms = push->deadline_ms - mid_now_ms();
	pthread_mutex_unlock(&inst->lock);
	if (!vp) {
		snprintf(rctx->error, sizeof(rctx->error), "out of memory (State)");
		return reply_result(rctx, MID_INTERNAL_ERROR);
	}

	pair_make_reply("Reply-Message", text, T_OP_SET);

	/* How long the NAS should wait for the user's answer (RFC 2865 5.27). */
	vp = radius_pair_create(request->reply, &request->reply->vps, PW_SESSION_TIMEOUT, 0);
	if (vp) vp->vp_integer = left_ms > 1000 ? (uint32_t) (left_ms / 1000) : 1;

	vp = radius_pair_create(request->reply, &request->reply->vps, PW_PROMPT, 0);
	if (vp) vp->vp_integer = 1;	/* Echo: the answer is not a secret */

	request->reply->code = PW_CODE_ACCESS_CHALLENGE;
	RINFO("user=%s op=%s result=challenged rcode=handled transaction=%s trace=%s "
	      "duration_ms=%ld", rctx->user, rctx->op,
	      rctx->transaction_id[0] ? rctx->transaction_id : "-",
	      rctx->trace_id[0] ? rctx->trace_id : "-", (long) (mid_now_ms() - rctx->start_ms));
	return RLM_MODULE_HANDLED;
}

/* ---- the request ----------------------------------------------------------------------------- */

/* Start the push as the first request for it.  In push mode, wait for it too. */
static rlm_rcode_t push_start(mobileid_rctx_t *rctx, mid_request const *req)
{
	mid_callbacks cb = { .ctx = rctx, .log = mod_log, .aborted = mod_aborted };
	rlm_mobileid_t *inst = rctx->inst;
	REQUEST *request = rctx->request;
	mid_handle *h = mobileid_handle_get(inst);
	char error[600];
	mid_result r;
	rlm_rcode_t rcode;
	int rc;

	if (!h) {
		push_done(rctx, MID_INTERNAL_ERROR, NULL, "out of memory (new library handle)");
		return reply_result(rctx, MID_INTERNAL_ERROR);
	}

	rc = mid_push_start(h, req, &cb, &r);
	if (rc != 0) {
		/* Failed before the phone was asked, or already finished. */
		r = own_end(rctx, r, h, error, sizeof(error));
		push_done(rctx, r, h, error);
		mobileid_handle_put(inst, h);
		return reply_result(rctx, r);
	}

	if (push_pending(rctx, h) != 0) {
		mid_push_cancel(h);
		push_done(rctx, MID_INTERNAL_ERROR, h, "out of memory (pending push)");
		mobileid_handle_put(inst, h);
		return reply_result(rctx, MID_INTERNAL_ERROR);
	}

	if (inst->challenge) {
		snprintf(rctx->transaction_id, sizeof(rctx->transaction_id), "%s",
			 mid_handle_transaction_id(h));
		snprintf(rctx->trace_id, sizeof(rctx->trace_id), "%s", mid_handle_trace_id(h));
		/* h now belongs to the push: the follow-up request polls with it */
		RDEBUG2("Push %s is pending: challenging the user", rctx->transaction_id);
		return reply_challenge(rctx);
	}

	RDEBUG2("Push %s is pending: waiting for the phone", mid_handle_transaction_id(h));
	r = push_poll(rctx, h, &cb);
	mobileid_handle_put(inst, h);
	rcode = reply_result(rctx, r);
	return rcode;
}

/* Expand an xlat config item into buf.  -1 on failure. */
static int expand(REQUEST *request, char const *fmt, char *buf, size_t len)
{
	if (radius_xlat(buf, len, request, fmt, NULL, NULL) < 0) return -1;
	return 0;
}

/*
 *	xlat escape function for user_name: attribute values as they are.
 *	Without one, FreeRADIUS prints them quoted ('o"brien' becomes
 *	'o\"brien', CR LF '\r\n', the byte 0xff '\377'): another name,
 *	and a name with control characters would pass for a clean one.
 */
static size_t xlat_verbatim(UNUSED REQUEST *request, char *out, size_t outlen, char const *in,
			    UNUSED void *arg)
{
	size_t len = strlen(in);

	if (!outlen) return 0;
	if (len >= outlen) len = outlen - 1;
	memcpy(out, in, len);
	out[len] = '\0';
	return len;
}

/* Does the template mention the attribute?  (Names are case-insensitive.) */
static bool names_attribute(char const *fmt, char const *name)
{
	size_t len = strlen(name);

	for (; *fmt; fmt++) {
		if (strncasecmp(fmt, name, len) == 0) return true;
	}
	return false;
}

/*
 *	A string attribute of the request with a NUL byte inside, that the
 *	user_name template may use: the expansion would end the name there
 *	("alice\0x" -> "alice").  One NUL at the end is the terminator some
 *	NASes count, as FreeRADIUS itself takes it.
 */
static DICT_ATTR const *nul_in_user_name(rlm_mobileid_t const *inst, REQUEST *request)
{
	VALUE_PAIR *lists[] = { request->packet->vps, request->config };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (VALUE_PAIR *vp = lists[i]; vp; vp = vp->next) {
			size_t len = vp->vp_length;

			if (vp->da->type != PW_TYPE_STRING || !len) continue;
			if (vp->vp_strvalue[len - 1] == '\0') len--;
			if (memchr(vp->vp_strvalue, '\0', len) &&
			    names_attribute(inst->user_name, vp->da->name)) {
				return vp->da;
			}
		}
	}
	return NULL;
}

/*
 *	The user name from user_name, exactly as the NAS sent it.  Refused,
 *	never altered: a name with control characters, invalid UTF-8 or a
 *	NUL byte inside, or longer than len - 1 bytes.  0 with the name in
 *	user; 1 with why it is refused in error (and what can be shown of
 *	the name in user); -1 when it expands to nothing.
 */
static int expand_user_name(rlm_mobileid_t const *inst, REQUEST *request, char *user, size_t len,
			    char *error, size_t errlen)
{
	ssize_t n = radius_xlat(user, len, request, inst->user_name, xlat_verbatim, NULL);
	DICT_ATTR const *da;
	char *clean;
	bool changed;

	if (n < 0 || !*user) return -1;
	da = nul_in_user_name(inst, request);
	if (da) {
		snprintf(error, errlen, "the user name holds a NUL byte (in %s)", da->name);
		return 1;
	}
	if ((size_t) n >= len) {
		snprintf(error, errlen, "the user name is longer than %zu bytes", len - 1);
		return 1;
	}
	clean = mid_sanitize(user, 0, len);
	if (!clean) {
		snprintf(error, errlen, "out of memory");
		return 1;
	}
	changed = strcmp(clean, user) != 0;
	free(clean);
	if (changed) {
		snprintf(error, errlen, "the user name holds control characters or invalid UTF-8");
		return 1;
	}
	return 0;
}

static rlm_rcode_t CC_HINT(nonnull) mod_authenticate(void *instance, REQUEST *request)
{
	rlm_mobileid_t *inst = instance;
	mobileid_rctx_t rctx = { .inst = inst, .request = request, .op = "push" };
	char user[256], join[MOBILEID_KEY_MAX], client[64], key[MOBILEID_KEY_MAX + 512];
	char *clean_user = NULL;
	mid_request req = { .service = "radius", .prompt_mode = MID_PROMPT_NONE };
	VALUE_PAIR *state, *vp;
	bool pending = false, joined = false;
	rlm_rcode_t rcode;
	mid_result r;
	int rc;

	rctx.start_ms = mid_now_ms();
	rctx.cutoff_ms = request_cutoff(inst, request);
	rctx.user = "?";

	rc = expand_user_name(inst, request, user, sizeof(user), rctx.error, sizeof(rctx.error));
	if (rc < 0) {
		RWARN("op=expand-user_name: no user name (user_name = \"%s\" expanded to nothing)",
		      inst->user_name);
		return RLM_MODULE_INVALID;
	}
	clean_user = mid_log_field(user, sizeof(user));
	if (!clean_user) return RLM_MODULE_FAIL;
	rctx.user = clean_user;
	if (rc > 0) {
		/*
		 *	Whatever unenrolled says: not "noop", the name is not
		 *	the one a password module may have checked.
		 */
		rctx.op = !inst->challenge ? "push" :
			  fr_pair_find_by_num(request->packet->vps, PW_STATE, 0, TAG_ANY)
			  ? "challenge-response" : "challenge";
		log_attempt(&rctx, MID_USER_UNKNOWN, RLM_MODULE_INVALID);
		free(clean_user);
		return RLM_MODULE_INVALID;
	}

	if (expand(request, inst->join_key, join, sizeof(join)) < 0) {
		REDEBUG("user=%s op=expand-join_key: cannot expand join_key", rctx.user);
		free(clean_user);
		return RLM_MODULE_FAIL;
	}
	ip_ntoh(&request->packet->src_ipaddr, client, sizeof(client));
	snprintf(key, sizeof(key), "%s\n%s\n%s", user, client, join);

	req.user = user;
	vp = fr_pair_find_by_num(request->packet->vps, PW_CALLING_STATION_ID, 0, TAG_ANY);
	req.rhost = vp ? vp->vp_strvalue : client;

	/*
	 *	exempt_networks of mobileid.conf: logins from these stations
	 *	(Calling-Station-Id, as reported by the NAS) skip the push.
	 */
	if (vp && inst->cfg->exempt_networks && *inst->cfg->exempt_networks &&
	    mid_networks_match(inst->cfg->exempt_networks, vp->vp_strvalue) == 1) {
		char *station = mid_log_field(vp->vp_strvalue, 256);

		RINFO("user=%s op=push result=exempt station=%s: in exempt_networks, no push",
		      rctx.user, station ? station : "?");
		free(station);
		free(clean_user);
		return RLM_MODULE_NOOP;
	}

	state = inst->challenge ? fr_pair_find_by_num(request->packet->vps, PW_STATE, 0, TAG_ANY)
				: NULL;

	/*
	 *	Challenge mode, the answer to our Access-Challenge: wait for
	 *	the push it names, or read its result.
	 */
	if (state) {
		rctx.op = "challenge-response";
		pthread_mutex_lock(&inst->lock);
		rctx.push = mobileid_push_by_state(inst, state->vp_octets, state->vp_length);
		if (rctx.push && (strcmp(rctx.push->user, user) != 0 ||
				  strcmp(rctx.push->client, client) != 0)) {
			char *owner = mid_log_field(rctx.push->user, 256);

			RWARN("user=%s op=%s the State belongs to another user or NAS (user=%s client=%s)",
			      rctx.user, rctx.op, owner ? owner : "?", rctx.push->client);
			free(owner);
			mobileid_push_release(inst, rctx.push);
			rctx.push = NULL;
		}
		pthread_mutex_unlock(&inst->lock);

		if (!rctx.push) {
			snprintf(rctx.error, sizeof(rctx.error), "unknown or expired State: "
				 "the push ended or was never started here");
			rcode = reply_result(&rctx, MID_EXPIRED);
			free(clean_user);
			return rcode;
		}
		r = push_join(&rctx, false, &pending);
		rcode = reply_result(&rctx, r);
		goto release;
	}

	/*
	 *	A push for this user from this NAS and station is under way:
	 *	join it.  Otherwise start one.
	 */
	pthread_mutex_lock(&inst->lock);
	rctx.push = mobileid_push_by_key(inst, key);
	if (rctx.push) {
		joined = true;
	} else {
		rctx.push = mobileid_push_create(inst, key, user, client);
	}
	pthread_mutex_unlock(&inst->lock);

	if (!rctx.push) {
		snprintf(rctx.error, sizeof(rctx.error), "%u pushes are pending already (max_pending)",
			 inst->max_pending);
		rctx.op = inst->challenge ? "challenge" : "push";
		rcode = reply_result(&rctx, MID_UNAVAILABLE);
		free(clean_user);
		return rcode;
	}

	if (!joined) {
		rctx.op = inst->challenge ? "challenge" : "push";
		rcode = push_start(&rctx, &req);
		goto release;
	}

	rctx.op = inst->challenge ? "challenge-joined" : "push-joined";
	RDEBUG2("A push for this user is pending already: joining it");
	r = push_join(&rctx, inst->challenge, &pending);
	if (pending) {
		rcode = reply_challenge(&rctx);
	} else {
		rcode = reply_result(&rctx, r);
	}

release:
	pthread_mutex_lock(&inst->lock);
	mobileid_push_release(inst, rctx.push);
	pthread_mutex_unlock(&inst->lock);
	free(clean_user);
	return rcode;
}

/*
 *	Claim the request: Auth-Type := <instance name>, unless it is
 *	someone else's (no User-Name, Auth-Type already set, EAP, a State
 *	that is not ours).
 */
static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	rlm_mobileid_t *inst = instance;
	VALUE_PAIR *vp;

	if (!inst->auth_type) {
		RWDEBUG2("No \"Auth-Type %s\" section in authenticate {}: not claiming the request",
			 inst->name);
		return RLM_MODULE_NOOP;
	}
	if (!fr_pair_find_by_num(request->packet->vps, PW_USER_NAME, 0, TAG_ANY)) {
		RDEBUG2("No User-Name: not for us");
		return RLM_MODULE_NOOP;
	}
	if (fr_pair_find_by_num(request->config, PW_AUTH_TYPE, 0, TAG_ANY)) {
		RDEBUG2("Auth-Type already set: not setting it to %s", inst->name);
		return RLM_MODULE_NOOP;
	}
	if (fr_pair_find_by_num(request->packet->vps, PW_EAP_MESSAGE, 0, TAG_ANY)) {
		RDEBUG2("EAP request: not for us");
		return RLM_MODULE_NOOP;
	}

	vp = fr_pair_find_by_num(request->packet->vps, PW_STATE, 0, TAG_ANY);
	if (vp) {
		mobileid_push_t *push = NULL;

		if (inst->challenge) {
			pthread_mutex_lock(&inst->lock);
			push = mobileid_push_by_state(inst, vp->vp_octets, vp->vp_length);
			if (push) mobileid_push_release(inst, push);
			pthread_mutex_unlock(&inst->lock);
		}
		if (!push) {
			if (inst->challenge) {
				VALUE_PAIR *name = fr_pair_find_by_num(request->packet->vps,
								      PW_USER_NAME, 0, TAG_ANY);
				char *user = mid_log_field(name ? name->vp_strvalue : "", 256);

				/*
				 *	An answer after the push ended, or a
				 *	State made up: worth a line, as the
				 *	request ends without us.
				 */
				RINFO("user=%s op=challenge-response the State (%zu bytes) is not one of "
				      "ours (the push ended, another server's, or made up): not claiming "
				      "the request", user ? user : "?", vp->vp_length);
				free(user);
			} else {
				RDEBUG2("The State is not one of ours: not for us");
			}
			return RLM_MODULE_NOOP;
		}
	}

	vp = radius_pair_create(request, &request->config, PW_AUTH_TYPE, 0);
	if (!vp) return RLM_MODULE_FAIL;
	vp->vp_integer = inst->auth_type;
	RDEBUG2("Setting Auth-Type := %s", inst->name);
	return RLM_MODULE_UPDATED;
}

/* ---- instantiate / detach ------------------------------------------------------------------- */

static int check_range(CONF_SECTION *conf, char const *item, uint32_t value, uint32_t lo,
		       uint32_t hi)
{
	CONF_PAIR *cp;

	if (value >= lo && value <= hi) return 0;
	cp = cf_pair_find(conf, item);
	if (cp) {
		cf_log_err_cp(cp, "%s = %u is out of range (%u to %u)", item, value, lo, hi);
	} else {
		cf_log_err_cs(conf, "%s = %u is out of range (%u to %u)", item, value, lo, hi);
	}
	return -1;
}

static bool is_module_item(char const *name)
{
	CONF_PARSER const *p;

	for (p = module_config; p->name; p++) {
		if (strcmp(p->name, name) == 0) return true;
	}
	return false;
}

/*
 *	Every other item of the module section is a key of mobileid.conf:
 *	"key = value" at the top (any key whose name is unambiguous), or
 *	"key = value" in a subsection named like the file's section
 *	("signicat { ... }", "auth { ... }", "dqe { ... }").  The library
 *	checks names, values and ranges exactly as for the file.  None of
 *	them is printed by radiusd -X: several are secrets.
 */
static int apply_items(CONF_SECTION *cs, char const *section, mid_config *cfg, char const *where)
{
	CONF_ITEM *ci;
	char err[1024], key[256];

	for (ci = cf_item_find_next(cs, NULL); ci; ci = cf_item_find_next(cs, ci)) {
		if (cf_item_is_section(ci)) {
			CONF_SECTION *sub = cf_item_to_section(ci);

			if (section) {
				cf_log_err_cs(sub, "Unexpected subsection \"%s\" in \"%s\"",
					      cf_section_name1(sub), section);
				return -1;
			}
			if (apply_items(sub, cf_section_name1(sub), cfg, where) < 0) return -1;
			continue;
		}
		if (cf_item_is_pair(ci)) {
			CONF_PAIR *cp = cf_item_to_pair(ci);
			char const *attr = cf_pair_attr(cp);
			char const *value = cf_pair_value(cp);

			if (!section && is_module_item(attr)) continue;
			if (!value) {
				cf_log_err_cp(cp, "\"%s\" needs a value", attr);
				return -1;
			}
			snprintf(key, sizeof(key), "%s%s%s", section ? section : "", section ? "." : "", attr);
			if (mid_config_set(cfg, key, value, where, err, sizeof(err)) != 0) {
				cf_log_err_cp(cp, "%s", err);
				return -1;
			}
		}
	}
	return 0;
}

static mid_config *load_config(CONF_SECTION *conf, rlm_mobileid_t *inst)
{
	char err[1024], where[300];
	mid_config *cfg;

	if (inst->config_file) {
		cfg = mid_config_load(inst->config_file, MID_CONF_ALLOW_GROUP_READ, err, sizeof(err));
		if (!cfg) {
			cf_log_err_cp(cf_pair_find(conf, "config_file"), "config_file: %s", err);
			return NULL;
		}
	} else {
		cfg = mid_config_new();
		if (!cfg) {
			cf_log_err_cs(conf, "Out of memory");
			return NULL;
		}
	}

	/*
	 *	Items in the module section win over the file.
	 */
	snprintf(where, sizeof(where), "module %s", inst->name);
	if (apply_items(conf, NULL, cfg, where) < 0) {
		mid_config_free(cfg);
		return NULL;
	}
	if (mid_config_finish(cfg, err, sizeof(err)) != 0) {
		cf_log_err_cs(conf, "%s", err);
		mid_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int mod_detach(void *instance)
{
	rlm_mobileid_t *inst = instance;

	mobileid_pending_free(inst);
	mid_config_free(inst->cfg);
	inst->cfg = NULL;

	return 0;
}

static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_mobileid_t *inst = instance;
	DICT_VALUE *dval;
	mid_handle *h;
	uint32_t push_s;

	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);

	if (strcmp(inst->mode, "push") == 0) {
		inst->challenge = false;
	} else if (strcmp(inst->mode, "challenge") == 0) {
		inst->challenge = true;
	} else {
		cf_log_err_cp(cf_pair_find(conf, "mode"), "mode = \"%s\" is invalid: "
			      "use \"push\" or \"challenge\"", inst->mode);
		return -1;
	}
	if (check_range(conf, "max_pending", inst->max_pending, 1, 1048576) < 0 ||
	    check_range(conf, "answer_margin", inst->answer_margin, 0, 60) < 0 ||
	    check_range(conf, "idle_handles", inst->idle_handles, 0, 65536) < 0) return -1;

	inst->cfg = load_config(conf, inst);
	if (!inst->cfg) return -1;

	if (mobileid_pending_init(inst) < 0) {
		cf_log_err_cs(conf, "Failed initialising the table of pending pushes");
		return -1;
	}

	/* One handle now: sets up libcurl before the threads run. */
	h = mid_handle_new(inst->cfg);
	if (!h) {
		cf_log_err_cs(conf, "Failed creating an HTTPS handle (libcurl)");
		return -1;
	}
	mobileid_handle_put(inst, h);

	if (inst->cfg->groups && *inst->cfg->groups) {
		WARN("rlm_mobileid (%s): \"groups\" is ignored: RADIUS users are not local "
		     "accounts; select users with unlang instead", inst->name);
	}
	if (inst->cfg->unenrolled == MID_UNENROLLED_ENROLL) {
		WARN("rlm_mobileid (%s): unenrolled = enroll is not supported over RADIUS: "
		     "users who are not enrolled are rejected", inst->name);
	}

	dval = dict_valbyname(PW_AUTH_TYPE, 0, inst->name);
	inst->auth_type = dval ? dval->value : 0;
	if (!dval) {
		WARN("rlm_mobileid (%s): no \"Auth-Type %s\" section in authenticate {}: "
		     "authorize will not claim requests", inst->name, inst->name);
	}

	/*
	 *	With the default max_request_time (30 s) a longer push is
	 *	dropped with no reply at all to the NAS.  We answer early
	 *	instead, but the push is then cut short.
	 */
	push_s = (uint32_t) ((inst->cfg->push_timeout_ms + 999) / 1000);
	if (main_config.max_request_time <= push_s + inst->answer_margin) {
		WARN("rlm_mobileid (%s): max_request_time = %u is not above push_timeout (%u s) + "
		     "answer_margin (%u s): %s after %u s.  Set max_request_time to at least %u "
		     "in radiusd.conf", inst->name, main_config.max_request_time, push_s,
		     inst->answer_margin,
		     inst->challenge ? "a challenge response still waiting for the phone is rejected"
				     : "pushes not yet approved are cancelled and rejected",
		     main_config.max_request_time > inst->answer_margin
			     ? main_config.max_request_time - inst->answer_margin : 0,
		     push_s + inst->answer_margin + 5);
	}

	cf_log_info(conf, "\tmobileid: mode %s, push_timeout %u s, failmode %s, %s",
		    inst->challenge ? "challenge" : "push", push_s,
		    inst->cfg->failmode == MID_FAILMODE_SAFE ? "safe" : "secure",
		    inst->config_file ? inst->config_file : "inline configuration");
	return 0;
}

/*
 *	The module name should be the only globally exported symbol.
 *	That is, everything else should be 'static'.
 */
extern module_t rlm_mobileid;
module_t rlm_mobileid = {
	.magic		= RLM_MODULE_INIT,
	.name		= "mobileid",
	.type		= RLM_TYPE_THREAD_SAFE,
	.inst_size	= sizeof(rlm_mobileid_t),
	.config		= module_config,
	.instantiate	= mod_instantiate,
	.detach		= mod_detach,
	.methods = {
		[MOD_AUTHENTICATE]	= mod_authenticate,
		[MOD_AUTHORIZE]		= mod_authorize,
	},
};

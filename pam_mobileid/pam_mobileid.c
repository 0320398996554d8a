/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam_mobileid.c - Linux-PAM module: a Signicat MobileID push as a second
 * factor.
 *
 *   auth required pam_mobileid.so [conf=/etc/mobileid/mobileid.conf] [debug]
 *                                 [key=value ...]
 *
 * Any configuration key may be given as key=value (or section.key=value);
 * arguments win over the file.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "mobileid.h"
#include "pam_result.h"
#include "push.h"
#include "util.h"

struct conv_ctx {
	pam_handle_t *pamh;
	const char *user;      /* sanitised, for log lines */
	int silent;
	int conv_failed;
};

static int conv_info(void *ctx, const char *msg)
{
	struct conv_ctx *c = ctx;

	if (c->silent)
		return 0;
	if (pam_info(c->pamh, "%s", msg) != PAM_SUCCESS) {
		c->conv_failed = 1;
		return -1;
	}
	return 0;
}

static int conv_prompt(void *ctx, const char *msg)
{
	struct conv_ctx *c = ctx;
	char *answer = NULL;
	int rc = pam_prompt(c->pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", msg);

	/* No answer at all (end of input, Ctrl-D) means the user gave up. */
	if (rc != PAM_SUCCESS || !answer) {
		c->conv_failed = 1;
		mid_free_secret(answer);
		return -1;
	}
	mid_free_secret(answer);
	return 0;
}

static void conv_log(void *ctx, int priority, const char *msg)
{
	struct conv_ctx *c = ctx;

	pam_syslog(c->pamh, priority, "user=%s %s", c->user, msg);
}

/* The file, then the module arguments.  Any error fails closed. */
static mid_config *load_config(pam_handle_t *pamh, int argc, const char **argv)
{
	const char *path = MID_DEFAULT_CONFIG;
	char err[1024];
	mid_config *cfg;
	int debug = 0;

	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "conf=", 5))
			path = argv[i] + 5;
		else if (!strcmp(argv[i], "debug"))
			debug = 1;
	}
	cfg = mid_config_load(path, 0, err, sizeof(err));
	if (!cfg) {
		pam_syslog(pamh, LOG_ERR, "configuration refused: %s", err);
		return NULL;
	}
	for (int i = 0; i < argc; i++) {
		char key[128];
		const char *eq = strchr(argv[i], '=');
		size_t len = eq ? (size_t)(eq - argv[i]) : 0;

		if (!strncmp(argv[i], "conf=", 5) || !strcmp(argv[i], "debug"))
			continue;
		if (!eq || len == 0 || len >= sizeof(key)) {
			pam_syslog(pamh, LOG_ERR, "configuration refused: module argument '%s' "
			           "is not key=value", argv[i]);
			goto fail;
		}
		memcpy(key, argv[i], len);
		key[len] = '\0';
		if (mid_config_set(cfg, key, eq + 1, "module argument", err, sizeof(err)) != 0) {
			pam_syslog(pamh, LOG_ERR, "configuration refused: %s", err);
			goto fail;
		}
	}
	if (debug)
		cfg->debug = 1;
	if (mid_config_finish(cfg, err, sizeof(err)) != 0) {
		pam_syslog(pamh, LOG_ERR, "configuration refused: %s", err);
		goto fail;
	}
	return cfg;
fail:
	mid_config_free(cfg);
	return NULL;
}

/* sshd shows PAM text only with the next prompt: ask it to press Enter. */
static mid_prompt_mode prompt_mode(const mid_config *cfg, const char *service)
{
	char exe[PATH_MAX];
	ssize_t n;
	const char *base;

	if (cfg->prompt == MID_PROMPT_SETTING_INFO)
		return MID_PROMPT_INFO;
	if (cfg->prompt == MID_PROMPT_SETTING_ENTER)
		return MID_PROMPT_ENTER;
	if (service && !strcmp(service, "sshd"))
		return MID_PROMPT_ENTER;
	/* sshd started from a link has another service name; its binary does not. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		base = strrchr(exe, '/');
		if (!strcmp(base ? base + 1 : exe, "sshd"))
			return MID_PROMPT_ENTER;
	}
	return MID_PROMPT_INFO;
}

static const char *item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || !v)
		return NULL;
	return v;
}

static char *clean(const char *s)
{
	return mid_sanitize(s ? s : "-", 0, 256);
}

/* ONE line per attempt. */
static void log_attempt(pam_handle_t *pamh, const mid_request *req, mid_handle *h,
                        mid_result r, int pamrc, long ms, mid_failmode failmode)
{
	char *user = clean(req->user), *service = clean(req->service), *rhost = clean(req->rhost);
	char *error = h ? clean(mid_handle_error(h)) : NULL;
	int prio = r == MID_APPROVED ? LOG_INFO : LOG_WARNING;
	const char *note = "";

	if (r == MID_UNAVAILABLE && pamrc == PAM_SUCCESS)
		note = " failmode=safe: login allowed without the second factor";
	pam_syslog(pamh, prio, "user=%s service=%s rhost=%s externalref=%s result=%s pam=%s "
	           "transaction=%s trace=%s duration_ms=%ld%s%s%s%s",
	           user ? user : "?", service ? service : "?", rhost ? rhost : "?",
	           h && *mid_handle_external_ref(h) ? mid_handle_external_ref(h) : "-",
	           mid_result_name(r), pam_strerror(pamh, pamrc),
	           h && *mid_handle_transaction_id(h) ? mid_handle_transaction_id(h) : "-",
	           h && *mid_handle_trace_id(h) ? mid_handle_trace_id(h) : "-", ms,
	           error && *error ? " reason=\"" : "", error && *error ? error : "",
	           error && *error ? "\"" : "", note);
	(void)failmode;
	free(user);
	free(service);
	free(rhost);
	free(error);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	int64_t t0 = mid_now_ms();
	mid_request req = { 0 };
	struct conv_ctx cc = { .pamh = pamh, .silent = !!(flags & PAM_SILENT) };
	mid_callbacks cb = { .ctx = &cc, .info = conv_info, .prompt = conv_prompt,
	                     .log = conv_log };
	mid_config *cfg;
	mid_handle *h = NULL;
	char *logname = NULL;
	mid_result r;
	int rc;

	if (pam_get_user(pamh, &req.user, NULL) != PAM_SUCCESS || !req.user || !*req.user) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
		return PAM_USER_UNKNOWN;
	}
	req.service = item(pamh, PAM_SERVICE);
	req.rhost = item(pamh, PAM_RHOST);
	logname = clean(req.user);
	cc.user = logname ? logname : "?";

	cfg = load_config(pamh, argc, argv);
	if (!cfg) {
		r = MID_CONFIG_ERROR;
		rc = PAM_SERVICE_ERR;   /* whatever failmode says */
		log_attempt(pamh, &req, NULL, r, rc, (long)(mid_now_ms() - t0), MID_FAILMODE_SECURE);
		free(logname);
		return rc;
	}
	req.prompt_mode = prompt_mode(cfg, req.service);
	h = mid_handle_new(cfg);
	if (!h) {
		r = MID_INTERNAL_ERROR;
	} else {
		r = mid_authenticate(h, &req, &cb);
		/* A conversation error is a failure whatever else happened. */
		if (cc.conv_failed && r == MID_APPROVED)
			r = MID_CANCELLED;
	}
	rc = mid_result_to_pam(r, cfg->failmode);
	log_attempt(pamh, &req, h, r, rc, (long)(mid_now_ms() - t0), cfg->failmode);
	if (rc != PAM_SUCCESS && !cc.conv_failed && r != MID_CANCELLED)
		conv_info(&cc, mid_result_user_message(r));
	mid_handle_free(h);
	mid_config_free(cfg);
	free(logname);
	return rc;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

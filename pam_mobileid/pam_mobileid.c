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
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "mobileid.h"
#include "policy.h"
#include "pam_result.h"
#include "push.h"
#include "util.h"

struct conv_ctx {
	pam_handle_t *pamh;
	const char *user;      /* sanitised, for log lines */
	int silent;
	int conv_failed;
	pid_t parent;          /* our parent when the attempt started */
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

/* ONE line per attempt.  result is mid_result_name() or why the push was
 * skipped. */
static void log_attempt(pam_handle_t *pamh, const mid_request *req, mid_handle *h,
                        const char *result, int pamrc, long ms, const char *reason)
{
	char *user = clean(req->user), *service = clean(req->service), *rhost = clean(req->rhost);
	char *error = clean(reason ? reason : h ? mid_handle_error(h) : "");
	const char *ref = h && *mid_handle_external_ref(h) ? mid_handle_external_ref(h) : "-";
	char *cref = clean(ref);
	int prio = pamrc == PAM_SUCCESS || pamrc == PAM_IGNORE ? LOG_INFO : LOG_WARNING;
	const char *note = "";

	if (!strcmp(result, mid_result_name(MID_UNAVAILABLE)) && pamrc == PAM_SUCCESS) {
		note = " failmode=safe: login allowed without the second factor";
		prio = LOG_WARNING;
	}
	pam_syslog(pamh, prio, "user=%s service=%s rhost=%s externalref=%s result=%s pam=%s "
	           "transaction=%s trace=%s duration_ms=%ld%s%s%s%s",
	           user ? user : "?", service ? service : "?", rhost ? rhost : "?",
	           cref ? cref : "-", result, pam_strerror(pamh, pamrc),
	           h && *mid_handle_transaction_id(h) ? mid_handle_transaction_id(h) : "-",
	           h && *mid_handle_trace_id(h) ? mid_handle_trace_id(h) : "-", ms,
	           error && *error ? " reason=\"" : "", error && *error ? error : "",
	           error && *error ? "\"" : "", note);
	free(user);
	free(service);
	free(rhost);
	free(error);
	free(cref);
}

/* ---- abort: signals while we wait ------------------------------------------ */

/*
 * sshd kills its PAM process with SIGTERM when the client goes away, and a
 * terminal user presses Ctrl-C.  While the push is pending we catch those
 * signals (only where the application left the default action), cancel the
 * push, restore the action and deliver the signal again.
 */
static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
	caught_signal = sig;
}

static const int watched[] = { SIGTERM, SIGHUP, SIGINT };
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

struct sig_guard {
	struct sigaction old[NWATCHED];
	int installed[NWATCHED];
};

static void signals_catch(struct sig_guard *sg)
{
	struct sigaction sa;

	caught_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NWATCHED; i++) {
		sg->installed[i] = 0;
		if (sigaction(watched[i], NULL, &sg->old[i]) == 0 &&
		    !(sg->old[i].sa_flags & SA_SIGINFO) && sg->old[i].sa_handler == SIG_DFL &&
		    sigaction(watched[i], &sa, NULL) == 0)
			sg->installed[i] = 1;
	}
}

/* Restore the actions; returns the signal caught meanwhile, if any. */
static int signals_restore(struct sig_guard *sg)
{
	for (size_t i = 0; i < NWATCHED; i++)
		if (sg->installed[i])
			sigaction(watched[i], &sg->old[i], NULL);
	return caught_signal;
}

static int conv_aborted(void *ctx)
{
	struct conv_ctx *c = ctx;

	return caught_signal != 0 || getppid() != c->parent;
}

/* ---- the request ------------------------------------------------------------- */

/* sudo and su: the command line, for %C in the phone-side context. */
static char *command_line(pam_handle_t *pamh)
{
	const char *env = pam_getenv(pamh, "SUDO_COMMAND");
	char exe[PATH_MAX], buf[2048];
	const char *base;
	ssize_t n;
	int fd;

	if (env && *env)
		return mid_sanitize(env, 0, 512);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strcmp(base, "sudo") && strcmp(base, "su"))
		return NULL;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return mid_sanitize(buf, 0, 512);
}

/* Is this login exempt?  NULL when the push is required, else why not. */
static const char *exemption(const mid_config *cfg, const mid_request *req)
{
	int g = mid_groups_require(cfg->groups, req->user);

	/* g < 0: not a local user, so no groups; the push is asked for. */
	if (g == 0)
		return "not in the groups that use MobileID";
	if (cfg->exempt_networks && mid_networks_match(cfg->exempt_networks, req->rhost))
		return "remote address in exempt_networks";
	return NULL;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	int64_t t0 = mid_now_ms();
	mid_request req = { 0 };
	struct conv_ctx cc = { .pamh = pamh, .silent = !!(flags & PAM_SILENT),
	                       .parent = getppid() };
	mid_callbacks cb = { .ctx = &cc, .info = conv_info, .prompt = conv_prompt,
	                     .log = conv_log, .aborted = conv_aborted };
	struct sig_guard sg;
	mid_config *cfg;
	mid_handle *h = NULL;
	char *logname = NULL, *command = NULL;
	const char *skip;
	mid_result r;
	int rc, sig;

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
		/* Config errors fail whatever failmode says. */
		log_attempt(pamh, &req, NULL, mid_result_name(MID_CONFIG_ERROR), PAM_SERVICE_ERR,
		            (long)(mid_now_ms() - t0), "configuration refused (see above)");
		free(logname);
		return PAM_SERVICE_ERR;
	}
	skip = exemption(cfg, &req);
	if (skip) {
		log_attempt(pamh, &req, NULL, "skipped", PAM_IGNORE, (long)(mid_now_ms() - t0), skip);
		mid_config_free(cfg);
		free(logname);
		return PAM_IGNORE;
	}
	req.prompt_mode = prompt_mode(cfg, req.service);
	req.command = command = command_line(pamh);
	h = mid_handle_new(cfg);
	if (!h) {
		r = MID_INTERNAL_ERROR;
	} else {
		signals_catch(&sg);
		r = mid_authenticate(h, &req, &cb);
		sig = signals_restore(&sg);
		/* A conversation error or an abort is a failure, whatever else happened. */
		if ((cc.conv_failed || sig) && r == MID_APPROVED)
			r = MID_CANCELLED;
	}
	rc = mid_result_to_pam(r, cfg->failmode);
	if (r == MID_USER_UNKNOWN && cfg->unenrolled == MID_UNENROLLED_IGNORE)
		rc = PAM_IGNORE;
	log_attempt(pamh, &req, h, mid_result_name(r), rc, (long)(mid_now_ms() - t0), NULL);
	if (rc != PAM_SUCCESS && rc != PAM_IGNORE && !cc.conv_failed && r != MID_CANCELLED)
		conv_info(&cc, mid_result_user_message(r));
	mid_handle_free(h);
	mid_config_free(cfg);
	free(command);
	free(logname);
	if (h && sig)
		raise(sig);   /* what the signal meant to do, now that the push is cancelled */
	return rc;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

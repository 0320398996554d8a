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

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <limits.h>
#include <pthread.h>
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
#include "verifid.h"

struct watch;
static void watch_prompt(struct watch *w, int on);

struct conv_ctx {
	pam_handle_t *pamh;
	const char *user;      /* sanitised, for log lines */
	int silent;
	int conv_failed;
	pid_t parent;          /* our parent when the attempt started */
	struct watch *watch;   /* abort handling, while the push is pending */
	int peer[4];           /* the client's connection, if we hold it */
	int npeer;
};

/* The push message: what to do and the code.  Like a prompt, it is shown
 * even under PAM_SILENT (sudo always sets it): without it the user cannot
 * tell their push from someone else's. */
static int conv_info(void *ctx, const char *msg)
{
	struct conv_ctx *c = ctx;

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
	int rc;

	watch_prompt(c->watch, 1);
	rc = pam_prompt(c->pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", msg);
	watch_prompt(c->watch, 0);

	/* No answer at all (end of input, Ctrl-D) means the user gave up. */
	if (rc != PAM_SUCCESS || !answer) {
		c->conv_failed = 1;
		mid_free_secret(answer);
		return -1;
	}
	mid_free_secret(answer);
	return 0;
}

/* externalref = map and an account with several identities: a numbered
 * list, the answer is the number (three tries). */
static int conv_choose(void *ctx, const char *question, const char *const *options, int n)
{
	struct conv_ctx *c = ctx;

	for (int attempt = 0; attempt < 3; attempt++) {
		mid_buf b = { 0 };
		char *answer = NULL, *end;
		long k;
		int rc;

		mid_buf_printf(&b, "%s\n", question);
		for (int i = 0; i < n; i++)
			mid_buf_printf(&b, "  %d) %s\n", i + 1, options[i]);
		mid_buf_printf(&b, "Number (1-%d): ", n);
		if (!b.data || b.overflow) {
			mid_buf_free(&b);
			return -1;
		}
		watch_prompt(c->watch, 1);
		rc = pam_prompt(c->pamh, PAM_PROMPT_ECHO_ON, &answer, "%s", b.data);
		watch_prompt(c->watch, 0);
		mid_buf_free(&b);
		if (rc != PAM_SUCCESS || !answer) {
			c->conv_failed = 1;
			free(answer);
			return -1;
		}
		k = strtol(answer, &end, 10);
		if (end != answer && !*(end + strspn(end, " \t\r\n")) && k >= 1 && k <= n) {
			free(answer);
			return (int)(k - 1);
		}
		free(answer);
		if (pam_error(c->pamh, "Please answer with a number from 1 to %d.", n) != PAM_SUCCESS) {
			c->conv_failed = 1;
			return -1;
		}
	}
	return -1;
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

/* A key=value log field value that cannot pass for fields of its own
 * (mid_log_field); a missing value is "-". */
static char *field(const char *s)
{
	return mid_log_field(s ? s : "-", 256);
}

/* ONE line per attempt.  result is mid_result_name() or why the push was
 * skipped. */
static void log_attempt(pam_handle_t *pamh, const mid_request *req, mid_handle *h,
                        const char *result, int pamrc, long ms, const char *reason)
{
	char *user = field(req->user), *service = field(req->service), *rhost = field(req->rhost);
	const char *why = reason ? reason : h ? mid_handle_error(h) : "";
	char *cwhy = mid_sanitize(why, 0, 1024), *error = NULL;
	const char *ref = h && *mid_handle_external_ref(h) ? mid_handle_external_ref(h) : "-";
	char *cref = field(ref);
	int prio = pamrc == PAM_SUCCESS || pamrc == PAM_IGNORE ? LOG_INFO : LOG_WARNING;
	const char *note = "";

	if (!strcmp(result, mid_result_name(MID_UNAVAILABLE)) && pamrc == PAM_SUCCESS) {
		note = " failmode=safe: login allowed without the second factor";
		prio = LOG_WARNING;
	}
	if (cwhy && *cwhy)
		error = mid_log_quote(cwhy);   /* text from the server and the user: escaped */
	pam_syslog(pamh, prio, "user=%s service=%s rhost=%s externalref=%s result=%s pam=%s "
	           "transaction=%s trace=%s duration_ms=%ld%s%s%s",
	           user ? user : "?", service ? service : "?", rhost ? rhost : "?",
	           cref ? cref : "-", result, pam_strerror(pamh, pamrc),
	           h && *mid_handle_transaction_id(h) ? mid_handle_transaction_id(h) : "-",
	           h && *mid_handle_trace_id(h) ? mid_handle_trace_id(h) : "-", ms,
	           error ? " reason=" : "", error ? error : "", note);
	free(user);
	free(service);
	free(rhost);
	free(error);
	free(cwhy);
	free(cref);
}

/* ---- abort: signals while we wait ------------------------------------------ */

/*
 * sshd kills its PAM process with SIGTERM when the client goes away (and
 * then waits for it), and a terminal user presses Ctrl-C.  While the push
 * is pending we catch those signals (only where the application left the
 * default action):
 *  - while we poll, the loop sees the flag, cancels the push and fails;
 *  - while we are blocked in the conversation (sshd's reader restarts on
 *    EINTR, so we would never return), a watcher thread woken by the
 *    handler cancels the push and then lets the signal kill the process,
 *    as it would have without us.
 */
static volatile sig_atomic_t caught_signal;
static int wake_fd = -1;   /* write end of the watcher's pipe */

static void on_signal(int sig)
{
	int saved = errno;

	caught_signal = sig;
	if (wake_fd >= 0) {
		ssize_t n = write(wake_fd, "s", 1);
		(void)n;
	}
	errno = saved;
}

static const int watched[] = { SIGTERM, SIGHUP, SIGINT };
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

struct watch {
	struct sigaction old[NWATCHED];
	int installed[NWATCHED];
	int pipe[2];
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;     /* held by whoever uses the handle */
	int in_prompt;            /* the main thread is blocked in the conversation */
	mid_handle *h;
};

/* Mark that the main thread is (or no longer is) blocked in the
 * conversation; taking the lock also waits for a cancel in progress. */
static void watch_prompt(struct watch *w, int on)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->in_prompt = on;
	pthread_mutex_unlock(&w->lock);
}

static void *watcher(void *arg)
{
	struct watch *w = arg;
	char c;

	while (read(w->pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	if (c != 's')
		return NULL;   /* told to stop */
	pthread_mutex_lock(&w->lock);
	if (!w->in_prompt) {
		/* The main thread polls and will see caught_signal itself. */
		pthread_mutex_unlock(&w->lock);
		return NULL;
	}
	mid_push_cancel(w->h);
	/* Now do what the signal was sent for.  The lock stays held. */
	for (size_t i = 0; i < NWATCHED; i++)
		if (w->installed[i] && watched[i] == caught_signal)
			sigaction(watched[i], &w->old[i], NULL);
	raise(caught_signal);
	pthread_mutex_unlock(&w->lock);   /* the application ignored it after all */
	return NULL;
}

static void watch_start(struct watch *w, mid_handle *h)
{
	struct sigaction sa;

	memset(w, 0, sizeof(*w));
	w->h = h;
	pthread_mutex_init(&w->lock, NULL);
	caught_signal = 0;
	if (pipe2(w->pipe, O_CLOEXEC) != 0) {
		w->pipe[0] = w->pipe[1] = -1;
	} else if (pthread_create(&w->thread, NULL, watcher, w) == 0) {
		w->thread_started = 1;
		wake_fd = w->pipe[1];
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NWATCHED; i++) {
		if (sigaction(watched[i], NULL, &w->old[i]) == 0 &&
		    !(w->old[i].sa_flags & SA_SIGINFO) && w->old[i].sa_handler == SIG_DFL &&
		    sigaction(watched[i], &sa, NULL) == 0)
			w->installed[i] = 1;
	}
}

/* Restore the actions; returns the signal caught meanwhile, if any. */
static int watch_stop(struct watch *w)
{
	for (size_t i = 0; i < NWATCHED; i++)
		if (w->installed[i])
			sigaction(watched[i], &w->old[i], NULL);
	wake_fd = -1;
	if (w->thread_started) {
		ssize_t n = write(w->pipe[1], "q", 1);
		(void)n;
		pthread_join(w->thread, NULL);
	}
	if (w->pipe[0] >= 0) {
		close(w->pipe[0]);
		close(w->pipe[1]);
	}
	pthread_mutex_destroy(&w->lock);
	return caught_signal;
}

/*
 * The login's own network connection, when this process holds it (sshd's
 * PAM process inherits the client's socket): a closed connection means the
 * user went away.  Found once by matching the peer address to PAM_RHOST.
 */
#define MAX_PEER_FDS 4

static int find_peer_fds(const char *rhost, int *fds)
{
	unsigned char want[16];
	int family, n = 0;

	if (!rhost)
		return 0;
	if (inet_pton(AF_INET, rhost, want) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, rhost, want) == 1)
		family = AF_INET6;
	else
		return 0;
	for (int fd = 0; fd < 256 && n < MAX_PEER_FDS; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int type = 0;
		socklen_t tlen = sizeof(type);
		const void *addr = NULL;

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM ||
		    getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
			continue;
		if (ss.ss_family == AF_INET && family == AF_INET)
			addr = &((struct sockaddr_in *)&ss)->sin_addr;
		else if (ss.ss_family == AF_INET6 && family == AF_INET6)
			addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (addr && !memcmp(addr, want, family == AF_INET ? 4 : 16))
			fds[n++] = fd;
	}
	return n;
}

static int peer_gone(const struct conv_ctx *c)
{
	for (int i = 0; i < c->npeer; i++) {
		struct pollfd p = { .fd = c->peer[i], .events = POLLRDHUP };
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
			return 1;
	}
	return 0;
}

static int conv_aborted(void *ctx)
{
	struct conv_ctx *c = ctx;

	return caught_signal != 0 || getppid() != c->parent || peer_gone(c);
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

/* unenrolled = enroll: show a VerifID self-enrollment link (created on
 * demand, at most one new link per user per [verifid] link_interval)
 * instead of a bare failure; the login fails all the same.  1 if shown. */
static int show_enroll_link(pam_handle_t *pamh, const mid_config *cfg, const mid_request *req,
                            struct conv_ctx *cc)
{
	char err[600], trace[80], *url = NULL;
	int reused = 0, shown = 0;
	mid_result r = mid_enroll_link(cfg, req->user, req->service, conv_aborted, cc, &url,
	                               &reused, trace, err, sizeof(err));

	if (r != MID_APPROVED) {
		pam_syslog(pamh, LOG_ERR, "user=%s enrollment link: %s: %s (trace %s)", cc->user,
		           mid_result_name(r), err, trace[0] ? trace : "-");
		return 0;
	}
	if (err[0])
		pam_syslog(pamh, LOG_WARNING, "user=%s enrollment link: %s", cc->user, err);
	pam_syslog(pamh, LOG_INFO, "user=%s enrollment link %s (trace %s)", cc->user,
	           reused ? "shown again" : "created", trace[0] ? trace : "-");
	if (pam_info(pamh, "You are not enrolled for MobileID yet. Enroll with this link, then "
	             "log in again:\n%s", url) == PAM_SUCCESS)
		shown = 1;
	free(url);
	return shown;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	int64_t t0 = mid_now_ms();
	mid_request req = { 0 };
	struct conv_ctx cc = { .pamh = pamh, .silent = !!(flags & PAM_SILENT),
	                       .parent = getppid() };
	mid_callbacks cb = { .ctx = &cc, .info = conv_info, .prompt = conv_prompt,
	                     .log = conv_log, .aborted = conv_aborted, .choose = conv_choose };
	struct watch w;
	mid_config *cfg;
	mid_handle *h = NULL;
	char *logname = NULL, *command = NULL;
	const char *skip;
	mid_result r;
	int rc, sig = 0;

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
	cc.npeer = find_peer_fds(req.rhost, cc.peer);
	req.command = command = command_line(pamh);
	h = mid_handle_new(cfg);
	if (!h) {
		r = MID_INTERNAL_ERROR;
	} else {
		watch_start(&w, h);
		cc.watch = &w;
		r = mid_authenticate(h, &req, &cb);
		cc.watch = NULL;
		sig = watch_stop(&w);
		/* A conversation error or an abort is a failure, whatever else happened. */
		if ((cc.conv_failed || sig) && r == MID_APPROVED)
			r = MID_CANCELLED;
	}
	rc = mid_result_to_pam(r, cfg->failmode);
	if (r == MID_USER_UNKNOWN && cfg->unenrolled == MID_UNENROLLED_IGNORE)
		rc = PAM_IGNORE;
	log_attempt(pamh, &req, h, mid_result_name(r), rc, (long)(mid_now_ms() - t0), NULL);
	/* Why it failed: an informational message, so PAM_SILENT holds. */
	if (rc != PAM_SUCCESS && rc != PAM_IGNORE && !cc.conv_failed && r != MID_CANCELLED &&
	    !cc.silent && !(r == MID_USER_UNKNOWN && cfg->unenrolled == MID_UNENROLLED_ENROLL &&
	                    show_enroll_link(pamh, cfg, &req, &cc)))
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl.c - helpers shared by the mobileidctl commands (see ctl.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#include "admin.h"
#include "ctl.h"
#include "util.h"

mid_config *ctl_config(struct ctl_ctx *ctx)
{
	char err[1024];

	if (ctx->cfg)
		return ctx->cfg;
	ctx->cfg = mid_config_load(ctx->config_path, 0, err, sizeof(err));
	if (!ctx->cfg) {
		ctl_error(ctx, NULL, "%s", err);
		return NULL;
	}
	if (mid_config_finish(ctx->cfg, err, sizeof(err)) != 0) {
		ctl_error(ctx, NULL, "%s", err);
		mid_config_free(ctx->cfg);
		ctx->cfg = NULL;
		return NULL;
	}
	if (ctx->verbose >= 2)
		ctx->cfg->debug = 1;
	return ctx->cfg;
}

static void json_line(FILE *f, json_object *o)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(f);
}

/* A message cut by vsnprintf() must not end inside a character. */
static void drop_partial_char(char *s)
{
	size_t len = strlen(s), i = len;

	while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0 && mid_utf8_char_len(s + i - 1) == 0)
		s[i - 1] = '\0';
}

static void verror(struct ctl_ctx *ctx, const char *trace_id, const char *fmt, va_list ap)
{
	char msg[2048];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		drop_partial_char(msg);
	ctl_progress_done(ctx);
	if (ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		json_object_object_add(o, "traceId", ctl_json_str(trace_id));
		json_line(stderr, o);
		json_object_put(o);
		return;
	}
	if (trace_id && *trace_id)
		fprintf(stderr, "%s: %s (trace id %s)\n", ctx->prog, msg, trace_id);
	else
		fprintf(stderr, "%s: %s\n", ctx->prog, msg);
}

void ctl_error(struct ctl_ctx *ctx, const char *trace_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(ctx, trace_id, fmt, ap);
	va_end(ap);
}

void ctl_api_error(struct ctl_ctx *ctx, const mid_api *a, const char *what)
{
	if (what && *what)
		ctl_error(ctx, a->trace_id, "%s: %s", what, a->error[0] ? a->error : "failed");
	else
		ctl_error(ctx, a->trace_id, "%s", a->error[0] ? a->error : "failed");
}

int ctl_usage(struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		verror(ctx, NULL, fmt, ap);
		va_end(ap);
	}
	for (const struct ctl_command *c = ctl_commands; c->name; c++)
		if (strcmp(c->name, cmd) == 0)
			fprintf(stderr, "usage: %s [OPTIONS] %s%s%s\n", ctx->prog, c->name,
			        *c->usage ? " " : "", c->usage);
	return CTL_EXIT_USAGE;
}

void ctl_warn(struct ctl_ctx *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		drop_partial_char(msg);
	va_end(ap);
	ctl_progress_done(ctx);
	if (ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "warning", json_object_new_string(msg));
		json_line(stderr, o);
		json_object_put(o);
	} else {
		fprintf(stderr, "%s: warning: %s\n", ctx->prog, msg);
	}
}

void ctl_debug(struct ctl_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (ctx->verbose < level)
		return;
	ctl_progress_done(ctx);
	fprintf(stderr, "%s: ", ctx->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

char *ctl_printable(const char *s, size_t max)
{
	mid_buf b = { 0 };
	size_t used = 0;

	while (*s && used < max) {
		unsigned char c = (unsigned char)*s;
		size_t n = mid_utf8_char_len(s);

		if (c == '\r' || c == '\n' || c == '\t' || c == '\\') {
			mid_buf_printf(&b, "\\%c", c == '\r' ? 'r' : c == '\n' ? 'n' :
			                           c == '\t' ? 't' : '\\');
		} else if (n == 1 && (c < 0x20 || c == 0x7f)) {
			mid_buf_printf(&b, "\\x%02x", c);
		} else if (n == 0) {
			mid_buf_printf(&b, "\\x%02x", c);
			n = 1;
		} else if (n == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0) {
			/* C1 controls, e.g. U+009B, a terminal's CSI */
			mid_buf_printf(&b, "\\x%02x\\x%02x", c, (unsigned char)s[1]);
		} else {
			mid_buf_append(&b, s, n);
		}
		s += n;
		used += n;
	}
	if (*s)
		mid_buf_append(&b, "...", 3);
	if (!b.data)
		mid_buf_append(&b, "", 0);
	return b.data;
}

int ctl_check_text(struct ctl_ctx *ctx, const char *cmd, const char *what, const char *value)
{
	char *clean = mid_sanitize(value, 0, strlen(value)), *shown;
	int same = clean && !strcmp(clean, value);

	free(clean);
	if (same)
		return CTL_EXIT_OK;
	shown = ctl_printable(value, 64);
	ctl_usage(ctx, cmd, "%s: %s '%s' holds control characters or invalid UTF-8: refused, "
	          "not altered", cmd, what, shown ? shown : "?");
	free(shown);
	return CTL_EXIT_USAGE;
}

int ctl_read_file(struct ctl_ctx *ctx, const char *path, long max_bytes, const char *too_big,
                  char **data, size_t *len, mode_t *mode)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf;

	if (fd < 0) {
		ctl_error(ctx, NULL, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ctl_error(ctx, NULL, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size > max_bytes) {
		ctl_error(ctx, NULL, "%s: larger than %ld MiB%s", path, max_bytes >> 20, too_big);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ctl_error(ctx, NULL, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ctl_error(ctx, NULL, "%s: %s", path, n < 0 ? strerror(errno)
			          : "the file shrank while it was read");
			mid_wipe(buf, got);
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	*mode = st.st_mode & 0666;
	return 0;
}

void ctl_out(struct ctl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json)
		return;
	ctl_progress_done(ctx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

int ctl_json_print(struct ctl_ctx *ctx, json_object *obj)
{
	int rc = 0;

	(void)ctx;
	if (!obj)
		return -1;
	if (printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	                   JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
	    fflush(stdout) != 0)
		rc = -1;
	json_object_put(obj);
	return rc;
}

int ctl_json_line(struct ctl_ctx *ctx, json_object *obj)
{
	int rc = 0;

	(void)ctx;
	if (!obj)
		return -1;
	if (printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	                   JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 || fflush(stdout) != 0)
		rc = -1;
	json_object_put(obj);
	return rc;
}

json_object *ctl_json_str(const char *s)
{
	return (s && *s) ? json_object_new_string(s) : NULL;
}

static int progress_shown;

void ctl_progress(struct ctl_ctx *ctx, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!ctx->tty || ctx->json)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* \r, the line, then clear to the end of the line. */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	progress_shown = 1;
}

void ctl_progress_done(struct ctl_ctx *ctx)
{
	(void)ctx;
	if (!progress_shown)
		return;
	fputc('\n', stderr);
	fflush(stderr);
	progress_shown = 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

void ctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking read returns EINTR and sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int ctl_interrupted(void)
{
	return got_signal != 0;
}

int ctl_aborted(void *unused)
{
	(void)unused;
	return got_signal != 0;
}

static void api_log(void *c, int priority, const char *msg)
{
	struct ctl_ctx *ctx = c;

	if (priority <= LOG_WARNING || ctx->verbose >= 1)
		ctl_debug(ctx, 0, "%s", msg);
}

int ctl_api_open(struct ctl_ctx *ctx, mid_api *a)
{
	mid_config *cfg = ctl_config(ctx);

	if (!cfg)
		return CTL_EXIT_CONFIG;
	if (mid_api_init(a, cfg, ctl_aborted, NULL) != 0) {
		ctl_error(ctx, NULL, "cannot initialise the HTTPS client (out of memory?)");
		mid_api_cleanup(a);
		return CTL_EXIT_FAIL;
	}
	a->log = api_log;
	a->log_ctx = ctx;
	return CTL_EXIT_OK;
}

int ctl_exit_for_result(mid_result r)
{
	switch (r) {
	case MID_APPROVED:
		return CTL_EXIT_OK;
	case MID_CANCELLED:
		return ctl_interrupted() ? CTL_EXIT_INTERRUPTED : CTL_EXIT_FAIL;
	case MID_USER_UNKNOWN:
	case MID_NO_DEVICE:
		return CTL_EXIT_NOT_FOUND;
	case MID_UNAVAILABLE:
		return CTL_EXIT_UNAVAILABLE;
	case MID_CONFIG_ERROR:
		return CTL_EXIT_CONFIG;
	default:
		/* denied, expired, locked, phone unverified, internal error, push
		 * pending, rate limited, and whatever the library adds later */
		break;
	}
	return CTL_EXIT_FAIL;
}

int ctl_exit_for_api(const mid_api *a)
{
	if (a->status == 404)
		return CTL_EXIT_NOT_FOUND;
	if (a->fail == MID_APPROVED)
		return CTL_EXIT_FAIL;
	return ctl_exit_for_result(a->fail);
}

int ctl_external_ref(struct ctl_ctx *ctx, const mid_config *cfg, const char *login,
                     const char *service, int service_given, char **ref)
{
	char err[700];

	if (mid_external_ref_for(cfg, login, service, ref, err, sizeof(err)) != 0) {
		char *shown = ctl_printable(login, 64);   /* it may be 4 KiB long */

		ctl_error(ctx, NULL, "%s: %s", shown ? shown : "?", err);
		free(shown);
		return CTL_EXIT_FAIL;
	}
	if (!strcmp(cfg->externalref, "map"))
		ctl_warn(ctx, "externalref = map: %s is an account; using its first identity in the "
		         "account map, %s", login, *ref);
	else if (!service_given && strstr(cfg->externalref, "%s"))
		ctl_warn(ctx, "the externalref template '%s' uses the service (%%s): using '%s'; "
		         "pass --service NAME for the service the modules see", cfg->externalref,
		         service);
	ctl_debug(ctx, 1, "login %s -> externalRef %s", login, *ref);
	return CTL_EXIT_OK;
}

void ctl_user_opts_init(struct ctl_user_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->service = CTL_DEFAULT_SERVICE;
}

int ctl_user_opt(struct ctl_user_opts *o, int c, const char *arg)
{
	switch (c) {
	case 's':
		o->service = arg;
		o->service_given = 1;
		return 1;
	case 'n':
		o->name = arg;
		return 1;
	case 'p':
		o->phone = arg;
		return 1;
	case 'e':
		o->email = arg;
		return 1;
	default:
		return 0;
	}
}

int ctl_check_user_args(struct ctl_ctx *ctx, const char *cmd, const char *login,
                        const struct ctl_user_opts *o, size_t n, const char *const extra[][2])
{
	const char *const args[][2] = {
		{ "LOGIN", login }, { "--service", o->service }, { "--name", o->name },
		{ "--phone", o->phone }, { "--email", o->email },
	};
	int rc = CTL_EXIT_OK;

	for (size_t i = 0; rc == CTL_EXIT_OK && i < sizeof(args) / sizeof(args[0]); i++)
		if (args[i][1])
			rc = ctl_check_text(ctx, cmd, args[i][0], args[i][1]);
	for (size_t i = 0; rc == CTL_EXIT_OK && i < n; i++)
		if (extra[i][1])
			rc = ctl_check_text(ctx, cmd, extra[i][0], extra[i][1]);
	return rc;
}

void ctl_user_attrs(const struct ctl_user_opts *o, const char *attrs[7])
{
	attrs[0] = "fullName";
	attrs[1] = o->name;
	attrs[2] = "mobileNumber";
	attrs[3] = o->phone;
	attrs[4] = "email";
	attrs[5] = o->email;
	attrs[6] = NULL;
}

int ctl_find_login(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *service,
                   int service_given, char **ref, char user_id[MID_ID_MAX], int *found)
{
	int rc;

	user_id[0] = '\0';
	*ref = NULL;
	*found = 0;
	if ((rc = ctl_external_ref(ctx, a->cfg, login, service, service_given, ref)) != CTL_EXIT_OK)
		return rc;
	rc = mid_admin_resolve(a, *ref, user_id, 0);
	if (rc < 0) {
		ctl_api_error(ctx, a, login);
		return ctl_exit_for_api(a);
	}
	*found = rc > 0;
	return CTL_EXIT_OK;
}

int ctl_resolve_login(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *service,
                      int service_given, char **ref, char user_id[MID_ID_MAX])
{
	int rc, found;

	rc = ctl_find_login(ctx, a, login, service, service_given, ref, user_id, &found);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (!found) {
		ctl_error(ctx, a->trace_id, "%s is not enrolled: no MobileID user has the externalRef "
		          "'%s'", login, *ref);
		return CTL_EXIT_NOT_FOUND;
	}
	return CTL_EXIT_OK;
}

int ctl_get_user(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *user_id,
                 mid_user_info *u)
{
	if (mid_admin_get_user(a, user_id, u, 0) != 0) {
		ctl_api_error(ctx, a, login);
		return ctl_exit_for_api(a);
	}
	return CTL_EXIT_OK;
}

json_object *ctl_json_user(const mid_user_info *u)
{
	json_object *o = json_object_new_object(), *at = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "externalRef", ctl_json_str(u->external_ref));
	json_object_object_add(o, "state", json_object_new_string(u->state));
	json_object_object_add(o, "segment", ctl_json_str(u->segment));
	json_object_object_add(o, "created", ctl_json_str(u->created));
	json_object_object_add(o, "lastUsed", ctl_json_str(u->last_used));
	for (size_t i = 0; i < u->n_attributes; i++)
		json_object_object_add(at, u->attr_names[i], json_object_new_string(u->attr_values[i]));
	json_object_object_add(o, "attributes", at);
	return o;
}

json_object *ctl_json_device(const mid_device_info *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "name", ctl_json_str(d->name));
	json_object_object_add(o, "state", json_object_new_string(d->state));
	json_object_object_add(o, "lastOperationType", ctl_json_str(d->last_operation));
	json_object_object_add(o, "lastUsed", ctl_json_str(d->last_used));
	json_object_object_add(o, "created", ctl_json_str(d->created));
	return o;
}

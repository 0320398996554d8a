/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl.h - what every mobileidctl command shares: the context (config,
 * output mode, verbosity), the command table type, exit codes, and helpers
 * for errors (stderr, with the vendor trace id), JSON output (json-c),
 * progress lines and Ctrl-C handling.
 *
 * A command is
 *     int cmd_x(struct ctl_ctx *ctx, int argc, char **argv);
 * argv[0] is the command name, argv[1..] its arguments (global options
 * already removed); it returns one of the CTL_EXIT_* codes.  Add it with
 * one line to the table in commands.c.
 */
#ifndef MOBILEIDCTL_CTL_H
#define MOBILEIDCTL_CTL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "api.h"
#include "mid_config.h"
#include "mobileid.h"

/* Exit codes (documented in mobileidctl --help and the man page). */
enum ctl_exit {
	CTL_EXIT_OK = 0,           /* done; check: every check passed; test: approved */
	CTL_EXIT_FAIL = 1,         /* the operation failed or was refused; a check failed;
	                              test: denied, expired or locked */
	CTL_EXIT_USAGE = 2,        /* bad command line */
	CTL_EXIT_CONFIG = 3,       /* configuration cannot be loaded, or credentials rejected */
	CTL_EXIT_UNAVAILABLE = 4,  /* the service could not be reached or answered garbage */
	CTL_EXIT_NOT_FOUND = 5,    /* no such user / device, or no active device */
	CTL_EXIT_INTERRUPTED = 130 /* Ctrl-C (SIGINT) or SIGTERM; what was started is cancelled */
};

struct ctl_ctx {
	const char *prog;          /* "mobileidctl" */
	const char *config_path;   /* -c FILE, default MID_DEFAULT_CONFIG */
	mid_config *cfg;           /* loaded on demand by ctl_config() */
	int json;                  /* --json: machine output on stdout */
	int verbose;               /* -v, repeatable */
	int tty;                   /* stderr is a terminal: progress lines */
};

struct ctl_command {
	const char *name;
	const char *usage;         /* arguments, e.g. "LOGIN [--name NAME]" */
	const char *help;          /* one line */
	int (*run)(struct ctl_ctx *ctx, int argc, char **argv);
};

/* The table (commands.c), terminated by a NULL name. */
extern const struct ctl_command ctl_commands[];

/* Load the configuration once (ctx->config_path); NULL after printing the
 * loader's message on stderr. */
mid_config *ctl_config(struct ctl_ctx *ctx);

/* Error on stderr: "mobileidctl: MESSAGE (trace id T)" - trace id left
 * out when NULL or "".  With --json, one JSON object
 * {"error":MESSAGE,"traceId":T} per line on stderr instead. */
void ctl_error(struct ctl_ctx *ctx, const char *trace_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An API failure: "WHAT: a->error (HTTP status, code) (trace id ...)". */
void ctl_api_error(struct ctl_ctx *ctx, const mid_api *a, const char *what);
/* Usage error for cmd: message, then "usage: mobileidctl NAME USAGE". */
int ctl_usage(struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A warning on stderr ("mobileidctl: warning: ..."), also with --json. */
void ctl_warn(struct ctl_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Debug line on stderr when ctx->verbose >= level. */
void ctl_debug(struct ctl_ctx *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s as it can be shown on a terminal: control characters, bytes that are
 * not UTF-8 and '\\' as \r, \n, \t, \\ or \xNN; at most max bytes of s,
 * then "...".  malloc'ed (NULL when out of memory). */
char *ctl_printable(const char *s, size_t max);

/* A text argument (a LOGIN, --name, ...) with control characters or
 * invalid UTF-8 is refused, never altered: CTL_EXIT_OK, or CTL_EXIT_USAGE
 * after saying so ("cmd: WHAT '<printable value>' holds ...").  what
 * names the argument. */
int ctl_check_text(struct ctl_ctx *ctx, const char *cmd, const char *what, const char *value);

/* A batch input file read whole (a regular file of at most max_bytes;
 * too_big is added to that error, e.g. "; split it").  0 with *data
 * (NUL-terminated, free() it; mid_wipe it first if it holds secrets),
 * *len and *mode (its permission bits, for the results file), or -1 after
 * saying why; nothing read is left behind (wiped). */
int ctl_read_file(struct ctl_ctx *ctx, const char *path, long max_bytes, const char *too_big,
                  char **data, size_t *len, mode_t *mode);

/* Human output on stdout (nothing with --json). */
void ctl_out(struct ctl_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print obj on stdout (pretty, one document) and release it.  0 or -1. */
int ctl_json_print(struct ctl_ctx *ctx, json_object *obj);
/* Print obj on stdout as one compact line (JSON Lines, for commands that
 * report more than once, e.g. enroll) and release it.  0 or -1. */
int ctl_json_line(struct ctl_ctx *ctx, json_object *obj);
/* json_object_new_string, but NULL/"" gives JSON null. */
json_object *ctl_json_str(const char *s);

/* A progress line on stderr, rewritten in place; only on a terminal and
 * never with --json.  ctl_progress_done() ends it. */
void ctl_progress(struct ctl_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_progress_done(struct ctl_ctx *ctx);

/* SIGINT/SIGTERM set a flag instead of killing the process, so that a
 * command can cancel what it started.  ctl_aborted() fits the library's
 * aborted callbacks. */
void ctl_catch_signals(void);
int ctl_interrupted(void);
int ctl_aborted(void *unused);

/* mid_api_init with the loaded config, ctl_aborted, and the library's log
 * lines shown with -v.  CTL_EXIT_OK, or an exit code after printing an
 * error (CTL_EXIT_CONFIG when the configuration cannot be loaded); a is
 * usable (mid_api_cleanup) only on CTL_EXIT_OK. */
int ctl_api_open(struct ctl_ctx *ctx, mid_api *a);

/* The exit code for a push / lookup outcome. */
int ctl_exit_for_result(mid_result r);

/* The service name commands use for the externalRef template (%s) and for
 * pushes when no --service is given. */
#define CTL_DEFAULT_SERVICE "mobileidctl"

/* The options of the commands that name a login's MobileID user
 * (--service) and describe a new one (--name, --phone, --email). */
struct ctl_user_opts {
	const char *service;       /* CTL_DEFAULT_SERVICE unless given */
	int service_given;
	const char *name, *phone, *email;
};
void ctl_user_opts_init(struct ctl_user_opts *o);
/* Take getopt_long's option c ('s', 'n', 'p' or 'e') with its argument
 * arg into o: 1, or 0 when c is none of these. */
int ctl_user_opt(struct ctl_user_opts *o, int c, const char *arg);
/* The attributes of a new user from o, as mid_admin_create_user takes
 * them: fullName, mobileNumber, email (NULL when not given). */
void ctl_user_attrs(const struct ctl_user_opts *o, const char *attrs[7]);
/* ctl_check_text() on LOGIN, the options in o and the extra (name, value)
 * pairs (n of them; NULL values are skipped): CTL_EXIT_OK or the first
 * refusal's exit code. */
int ctl_check_user_args(struct ctl_ctx *ctx, const char *cmd, const char *login,
                        const struct ctl_user_opts *o, size_t n, const char *const extra[][2]);

/* The externalRef of a login as the modules compute it (mid_external_ref_for)
 * with the warnings (template uses %s without --service; externalref =
 * map).  CTL_EXIT_OK with *ref (free() it), or an exit code after an error. */
int ctl_external_ref(struct ctl_ctx *ctx, const mid_config *cfg, const char *login,
                     const char *service, int service_given, char **ref);

/* Look up the MobileID user of a login: its externalRef (as the modules
 * compute it for service, warning when the template uses %s and
 * service_given is not set) resolved to a userId.  CTL_EXIT_OK with
 * *found (1: user_id set, 0: no user has that externalRef), or an exit
 * code after printing the error.  *ref is malloc'ed once computed (also
 * on a failed lookup), free() it. */
int ctl_find_login(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *service,
                   int service_given, char **ref, char user_id[MID_ID_MAX], int *found);

/* ctl_find_login() for a login that must be enrolled: CTL_EXIT_NOT_FOUND
 * after an error message when it is not. */
int ctl_resolve_login(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *service,
                      int service_given, char **ref, char user_id[MID_ID_MAX]);

/* The exit code for a failed mid_api call (a->fail). */
int ctl_exit_for_api(const mid_api *a);

struct mid_user_info;
struct mid_device_info;
/* GET the MobileID user user_id of login into *u (mid_user_info_free()).
 * CTL_EXIT_OK, or an exit code after printing the error. */
int ctl_get_user(struct ctl_ctx *ctx, mid_api *a, const char *login, const char *user_id,
                 struct mid_user_info *u);
/* JSON objects of the admin structures (admin.h), API field names. */
json_object *ctl_json_user(const struct mid_user_info *u);
json_object *ctl_json_device(const struct mid_device_info *d);

#endif

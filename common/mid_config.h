/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mid_config.h - /etc/mobileid/mobileid.conf, shared by every component.
 */
#ifndef MID_CONFIG_H
#define MID_CONFIG_H

#include <stddef.h>

#define MID_DEFAULT_CONFIG "/etc/mobileid/mobileid.conf"

typedef enum mid_failmode {
	MID_FAILMODE_SECURE = 0,
	MID_FAILMODE_SAFE
} mid_failmode;

typedef enum mid_prompt_setting {
	MID_PROMPT_SETTING_AUTO = 0,
	MID_PROMPT_SETTING_INFO,
	MID_PROMPT_SETTING_ENTER
} mid_prompt_setting;

typedef enum mid_unenrolled {
	MID_UNENROLLED_DENY = 0,    /* fail the login */
	MID_UNENROLLED_IGNORE,      /* PAM_IGNORE: let the stack decide */
	MID_UNENROLLED_ENROLL       /* show a self-enrollment link (VerifID), then fail */
} mid_unenrolled;

typedef struct mid_config {
	char *path;                 /* the file it came from */

	/* [signicat] */
	char *api_url;
	char *token_url;
	char *client_id;
	char *client_secret;        /* a secret: wiped on free, never logged */
	char *client_secret_file;
	char *ca_file;
	char *http_proxy;
	long connect_timeout_ms;
	long request_timeout_ms;
	long max_response_size;     /* bytes */
	char *auth_level;           /* TWO_FACTOR or ONE_FACTOR */
	char *cache_dir;            /* "" disables the file caches */
	long user_cache_ttl_ms;

	/* [auth] */
	char *externalref;          /* template: %u %U %s %h %% */
	long push_timeout_ms;
	long poll_interval_ms;
	mid_failmode failmode;
	mid_prompt_setting prompt;
	char *context_title;        /* template: %u %h %s %r %c %t %C %% */
	char *context_content;
	char *message;
	mid_unenrolled unenrolled;
	char *groups;               /* "wheel, !contractors": who must use the push */
	char *exempt_networks;      /* CIDR list of remote addresses that skip it */
	char *state_dir;            /* push-bombing guard state; "" disables */
	int single_pending;         /* one pending push per user */
	int max_denials;            /* denials within denial_window start a cooldown */
	long denial_window_ms;
	long cooldown_ms;

	int debug;
	int load_flags;             /* MID_CONF_* given to mid_config_load */
} mid_config;

/* Flags for mid_config_load(). */
#define MID_CONF_ALLOW_GROUP_READ 0x1   /* mode 0640 with our group (freerad) */
#define MID_CONF_SKIP_PERMS       0x2   /* unit tests only */

/*
 * Load a configuration file.  The file must be a regular file (not a
 * symlink) owned by root or by the effective user, and not accessible by
 * group or others.  Unknown keys, bad values and duplicates fail with a
 * message naming file, line and key in err.  Returns NULL on failure.
 * Apply overrides with mid_config_set(), then call mid_config_finish().
 */
mid_config *mid_config_load(const char *path, int flags, char *err, size_t errlen);

/* Defaults only: the starting point for inline configuration (RADIUS). */
mid_config *mid_config_new(void);

/* Set "section.key" or a bare "key" (if it names one key).  where names
 * the origin in messages ("pam argument", "file:line").  0 or -1. */
int mid_config_set(mid_config *cfg, const char *key, const char *value,
                   const char *where, char *err, size_t errlen);

/* Check cross-key constraints and load client_secret_file.  0 or -1. */
int mid_config_finish(mid_config *cfg, char *err, size_t errlen);

void mid_config_free(mid_config *cfg);

/* Check that path is safe to read secrets from (see mid_config_load). */
int mid_check_secret_file(const char *path, int flags, char *err, size_t errlen);

/* Parse a duration such as "5", "500ms", "2s", "1m"; a bare number is in
 * default_unit_ms.  -1 on error. */
long mid_parse_duration(const char *s, long default_unit_ms);

#endif

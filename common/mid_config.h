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

/* [dqe]: DQE ID Mobile matching before the push (common/dqe.h). */
typedef enum mid_dqe_on_error {
	MID_DQE_ON_ERROR_DENY = 0,  /* operator limit or service failure: fail the login */
	MID_DQE_ON_ERROR_SKIP       /* ...: log it and go on with the push */
} mid_dqe_on_error;

/* The 12 user_infos keys DQE wants, all present in every request. */
typedef enum mid_dqe_info {
	MID_DQE_STREET_ADDRESS = 0,
	MID_DQE_POSTAL_CODE,
	MID_DQE_LOCALITY,
	MID_DQE_COUNTRY,
	MID_DQE_BIRTHDATE,
	MID_DQE_EMAIL,
	MID_DQE_LASTNAME,
	MID_DQE_MAIDEN_NAME,
	MID_DQE_GENDER,
	MID_DQE_FIRSTNAME,
	MID_DQE_PHONE,
	MID_DQE_NUMBER,
	MID_DQE_INFO_COUNT
} mid_dqe_info;

/* The scores DQE answers with. */
typedef enum mid_dqe_score {
	MID_DQE_S_FAMILY_NAME = 0,
	MID_DQE_S_GIVEN_NAME,
	MID_DQE_S_BIRTHDATE,
	MID_DQE_S_EMAIL,
	MID_DQE_S_GENDER,
	MID_DQE_S_ADDRESS_COUNTRY,
	MID_DQE_S_ADDRESS_POSTAL_CODE,
	MID_DQE_S_ADDRESS_STREET,
	MID_DQE_S_ADDRESS_LOCALITY,
	MID_DQE_SCORE_COUNT
} mid_dqe_score;

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
	char *externalref;          /* template: %u %U %s %h %%, or "map" (acctmap.h) */
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

	/* [dqe] */
	int dqe_enabled;
	char *dqe_server;           /* host[:port] of the DQE server */
	char *dqe_licence;          /* a secret: wiped on free, never logged */
	char *dqe_secret;           /* client_secret; a secret */
	char *dqe_secret_file;
	char *dqe_partner_name;     /* "name" */
	char *dqe_code_name;        /* "" = not sent */
	int dqe_mode;
	char *dqe_country;          /* "" or ISO 3166 alpha-2, upper case */
	mid_dqe_on_error dqe_on_error;
	long dqe_timeout_ms;        /* the whole check: token + matching + retry */
	char *dqe_attr[MID_DQE_INFO_COUNT];  /* attribute names, comma-separated */
	char *dqe_attr_fullname;    /* "First Last" when first/last are missing */
	int dqe_gecos_fallback;     /* names from the login's GECOS as a last resort */
	double dqe_min[MID_DQE_SCORE_COUNT]; /* minimum scores; < 0: not judged */

	/* [verifid]: Namirial VerifID self-enrollment links (common/verifid.h) */
	char *verifid_url;          /* API base, e.g. https://verifid.ecertia.com/api/v1 */
	char *verifid_api_token;    /* X-VerifiD-ApiToken; a secret */
	char *verifid_api_token_file;
	char *verifid_profile;
	char *verifid_language;
	char *verifid_return_url;
	char *verifid_email;        /* template (%u %U %h %s) for the user's e-mail address */
	long verifid_link_interval_ms;  /* at most one new link per user per interval */

	/* [map]: the account map for externalref = map (common/acctmap.h),
	 * maintained by mobileidctl auth-import */
	char *map_file;
	int map_max_purge_percent;  /* a full auth file may drop at most this share */
	char *map_gnupg_home;       /* GnuPG home for .pgp files; NULL: GnuPG's default */

	/* [preenroll]: mobileidctl preenroll */
	char *preenroll_country_codes;       /* accepted calling codes: "1", "+1, +44" */
	char *preenroll_externalref_column;  /* column holding the externalRef */

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

/* Open path for reading if it is safe to read secrets from (see
 * mid_config_load): the checks are made on the opened file.  fd or -1. */
int mid_open_secret_file(const char *path, int flags, char *err, size_t errlen);

/* The same check, for a file read later by name. */
int mid_check_secret_file(const char *path, int flags, char *err, size_t errlen);

/* Parse a duration such as "5", "500ms", "2s", "1m"; a bare number is in
 * default_unit_ms.  -1 on error. */
long mid_parse_duration(const char *s, long default_unit_ms);

#endif

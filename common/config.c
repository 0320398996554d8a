/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.c - mobileid.conf: one table of keys, parsed with libinih.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "mid_config.h"
#include "policy.h"
#include "template.h"
#include "util.h"

enum kind {
	K_STRING,
	K_SECRET,
	K_URL,
	K_PATH,
	K_DURATION_S,    /* bare number = seconds */
	K_DURATION_MS,   /* bare number = milliseconds */
	K_SIZE,
	K_FAILMODE,
	K_PROMPT,
	K_UNENROLLED,
	K_COUNT,
	K_GROUPS,
	K_NETWORKS,
	K_AUTHLEVEL,
	K_BOOL,
	K_TMPL_REF,      /* externalRef template */
	K_TMPL_CTX,      /* context and message templates */
	K_HOSTPORT,      /* host or host:port, no scheme */
	K_COUNTRY,       /* "" or two letters (ISO 3166 alpha-2) */
	K_SCORE,         /* "" (not judged) or a score from 0 to 1 */
	K_DQE_ONERROR,   /* deny or skip_check */
	K_ATTRS,         /* comma-separated attribute names */
	K_CALLING_CODES  /* country calling codes: "1", "+1, +44" */
};

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;
	const char *def;   /* parsed like a value from the file; NULL = unset */
	long lo, hi;       /* range for numbers */
};

#define OFF(f) offsetof(mid_config, f)
#define LETTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

static const struct key keys[] = {
	{ "signicat", "api_url", K_URL, OFF(api_url),
	  "https://api.signicat.com/mobileid/core", 0, 0 },
	{ "signicat", "token_url", K_URL, OFF(token_url),
	  "https://api.signicat.com/auth/open/connect/token", 0, 0 },
	{ "signicat", "client_id", K_STRING, OFF(client_id), NULL, 0, 0 },
	{ "signicat", "client_secret", K_SECRET, OFF(client_secret), NULL, 0, 0 },
	{ "signicat", "client_secret_file", K_PATH, OFF(client_secret_file), NULL, 0, 0 },
	{ "signicat", "ca_file", K_PATH, OFF(ca_file), NULL, 0, 0 },
	{ "signicat", "http_proxy", K_STRING, OFF(http_proxy), NULL, 0, 0 },
	{ "signicat", "connect_timeout", K_DURATION_S, OFF(connect_timeout_ms), "5", 100, 60000 },
	{ "signicat", "request_timeout", K_DURATION_S, OFF(request_timeout_ms), "10", 200, 120000 },
	{ "signicat", "max_response_size", K_SIZE, OFF(max_response_size), "262144", 1024, 16777216 },
	{ "signicat", "auth_level", K_AUTHLEVEL, OFF(auth_level), "TWO_FACTOR", 0, 0 },
	{ "signicat", "cache_dir", K_PATH, OFF(cache_dir), "/var/cache/mobileid", 0, 0 },
	{ "signicat", "user_cache_ttl", K_DURATION_S, OFF(user_cache_ttl_ms), "3600", 0, 604800000 },

	{ "auth", "externalref", K_TMPL_REF, OFF(externalref), "%u", 0, 0 },
	{ "auth", "push_timeout", K_DURATION_S, OFF(push_timeout_ms), "60", 2000, 600000 },
	{ "auth", "poll_interval", K_DURATION_MS, OFF(poll_interval_ms), "500", 100, 10000 },
	{ "auth", "failmode", K_FAILMODE, OFF(failmode), "secure", 0, 0 },
	{ "auth", "prompt", K_PROMPT, OFF(prompt), "auto", 0, 0 },
	{ "auth", "context_title", K_TMPL_CTX, OFF(context_title), "Login to %h", 0, 0 },
	{ "auth", "context_content", K_TMPL_CTX, OFF(context_content),
	  "User: %u\nService: %s\nFrom: %r\nCode: %c\nTime: %t", 0, 0 },
	{ "auth", "message", K_TMPL_CTX, OFF(message),
	  "Approve the login on your phone (code %c)", 0, 0 },
	{ "auth", "unenrolled", K_UNENROLLED, OFF(unenrolled), "deny", 0, 0 },
	{ "auth", "groups", K_GROUPS, OFF(groups), NULL, 0, 0 },
	{ "auth", "exempt_networks", K_NETWORKS, OFF(exempt_networks), NULL, 0, 0 },
	{ "auth", "state_dir", K_PATH, OFF(state_dir), "/var/lib/mobileid", 0, 0 },
	{ "auth", "single_pending", K_BOOL, OFF(single_pending), "yes", 0, 0 },
	{ "auth", "max_denials", K_COUNT, OFF(max_denials), "3", 0, 1000 },
	{ "auth", "denial_window", K_DURATION_S, OFF(denial_window_ms), "600", 1000, 86400000 },
	{ "auth", "cooldown", K_DURATION_S, OFF(cooldown_ms), "900", 1000, 86400000 },
	{ "auth", "debug", K_BOOL, OFF(debug), "no", 0, 0 },

	{ "dqe", "enabled", K_BOOL, OFF(dqe_enabled), "no", 0, 0 },
	{ "dqe", "server", K_HOSTPORT, OFF(dqe_server), NULL, 0, 0 },
	{ "dqe", "licence", K_SECRET, OFF(dqe_licence), NULL, 0, 0 },
	{ "dqe", "secret", K_SECRET, OFF(dqe_secret), NULL, 0, 0 },
	{ "dqe", "secret_file", K_PATH, OFF(dqe_secret_file), NULL, 0, 0 },
	{ "dqe", "partner_name", K_STRING, OFF(dqe_partner_name), NULL, 0, 0 },
	{ "dqe", "code_name", K_STRING, OFF(dqe_code_name), "", 0, 0 },
	{ "dqe", "mode", K_COUNT, OFF(dqe_mode), "2", 1, 99 },
	{ "dqe", "country", K_COUNTRY, OFF(dqe_country), "", 0, 0 },
	{ "dqe", "on_error", K_DQE_ONERROR, OFF(dqe_on_error), "deny", 0, 0 },
	{ "dqe", "timeout", K_DURATION_S, OFF(dqe_timeout_ms), "10", 500, 120000 },
	{ "dqe", "attr_phone", K_ATTRS, OFF(dqe_attr[MID_DQE_PHONE]), "mobileNumber,phone", 0, 0 },
	{ "dqe", "attr_firstname", K_ATTRS, OFF(dqe_attr[MID_DQE_FIRSTNAME]),
	  "firstname,firstName", 0, 0 },
	{ "dqe", "attr_lastname", K_ATTRS, OFF(dqe_attr[MID_DQE_LASTNAME]), "lastname,lastName", 0, 0 },
	{ "dqe", "attr_maiden_name", K_ATTRS, OFF(dqe_attr[MID_DQE_MAIDEN_NAME]),
	  "maiden_name,maidenName", 0, 0 },
	{ "dqe", "attr_fullname", K_ATTRS, OFF(dqe_attr_fullname), "fullName,fullname", 0, 0 },
	{ "dqe", "attr_birthdate", K_ATTRS, OFF(dqe_attr[MID_DQE_BIRTHDATE]), "birthdate", 0, 0 },
	{ "dqe", "attr_email", K_ATTRS, OFF(dqe_attr[MID_DQE_EMAIL]), "email", 0, 0 },
	{ "dqe", "attr_gender", K_ATTRS, OFF(dqe_attr[MID_DQE_GENDER]), "gender", 0, 0 },
	{ "dqe", "attr_street_address", K_ATTRS, OFF(dqe_attr[MID_DQE_STREET_ADDRESS]),
	  "street_address,streetAddress", 0, 0 },
	{ "dqe", "attr_street_number", K_ATTRS, OFF(dqe_attr[MID_DQE_NUMBER]),
	  "street_number,streetNumber", 0, 0 },
	{ "dqe", "attr_postal_code", K_ATTRS, OFF(dqe_attr[MID_DQE_POSTAL_CODE]),
	  "postal_code,postalCode", 0, 0 },
	{ "dqe", "attr_locality", K_ATTRS, OFF(dqe_attr[MID_DQE_LOCALITY]), "locality,city", 0, 0 },
	{ "dqe", "attr_country", K_ATTRS, OFF(dqe_attr[MID_DQE_COUNTRY]), "country", 0, 0 },
	{ "dqe", "gecos_fallback", K_BOOL, OFF(dqe_gecos_fallback), "yes", 0, 0 },
	{ "dqe", "min_family_name", K_SCORE, OFF(dqe_min[MID_DQE_S_FAMILY_NAME]), "", 0, 0 },
	{ "dqe", "min_given_name", K_SCORE, OFF(dqe_min[MID_DQE_S_GIVEN_NAME]), "", 0, 0 },
	{ "dqe", "min_birthdate", K_SCORE, OFF(dqe_min[MID_DQE_S_BIRTHDATE]), "", 0, 0 },
	{ "dqe", "min_email", K_SCORE, OFF(dqe_min[MID_DQE_S_EMAIL]), "", 0, 0 },
	{ "dqe", "min_gender", K_SCORE, OFF(dqe_min[MID_DQE_S_GENDER]), "", 0, 0 },
	{ "dqe", "min_address_country", K_SCORE, OFF(dqe_min[MID_DQE_S_ADDRESS_COUNTRY]), "", 0, 0 },
	{ "dqe", "min_address_postal_code", K_SCORE, OFF(dqe_min[MID_DQE_S_ADDRESS_POSTAL_CODE]),
	  "", 0, 0 },
	{ "dqe", "min_address_street", K_SCORE, OFF(dqe_min[MID_DQE_S_ADDRESS_STREET]), "", 0, 0 },
	{ "dqe", "min_address_locality", K_SCORE, OFF(dqe_min[MID_DQE_S_ADDRESS_LOCALITY]),
	  "", 0, 0 },

	/* [verifid]: bare names must not repeat another section's ("url", not "api_url"). */
	{ "verifid", "url", K_URL, OFF(verifid_url), "https://verifid.ecertia.com/api/v1", 0, 0 },
	{ "verifid", "api_token", K_SECRET, OFF(verifid_api_token), NULL, 0, 0 },
	{ "verifid", "api_token_file", K_PATH, OFF(verifid_api_token_file), NULL, 0, 0 },
	{ "verifid", "profile", K_STRING, OFF(verifid_profile), NULL, 0, 0 },
	{ "verifid", "language", K_STRING, OFF(verifid_language), "en", 0, 0 },
	{ "verifid", "return_url", K_URL, OFF(verifid_return_url), NULL, 0, 0 },
	{ "verifid", "email", K_TMPL_REF, OFF(verifid_email), NULL, 0, 0 },
	{ "verifid", "link_interval", K_DURATION_S, OFF(verifid_link_interval_ms), "900",
	  60000, 604800000 },

	/* [map]: the account map (externalref = map; mobileidctl auth-import) */
	{ "map", "file", K_PATH, OFF(map_file), "/var/lib/mobileid/accounts.map", 0, 0 },
	{ "map", "max_purge_percent", K_COUNT, OFF(map_max_purge_percent), "10", 0, 100 },
	{ "map", "gnupg_home", K_PATH, OFF(map_gnupg_home), NULL, 0, 0 },

	/* [preenroll]: mobileidctl preenroll (IDgo pre-enroll CSV) */
	{ "preenroll", "country_codes", K_CALLING_CODES, OFF(preenroll_country_codes), "1", 0, 0 },
	{ "preenroll", "externalref_column", K_STRING, OFF(preenroll_externalref_column),
	  "mobileNumber", 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

long mid_parse_duration(const char *s, long default_unit_ms)
{
	char *end;
	long mult = default_unit_ms;
	long long v;

	/* Digits first: strtoll would also take blanks and a sign. */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		if (!strcmp(end, "ms"))
			mult = 1;
		else if (!strcmp(end, "s"))
			mult = 1000;
		else if (!strcmp(end, "m"))
			mult = 60000;
		else
			return -1;
	}
	if (v > LONG_MAX / mult)
		return -1;
	return (long)(v * mult);
}

static int parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "1", "yes", "true", "on" };
	static const char *no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static void free_string(char **slot, int secret)
{
	if (*slot && secret)
		mid_wipe(*slot, strlen(*slot));
	free(*slot);
	*slot = NULL;
}

/* host, host:port or [v6]:port: no scheme, no path, nothing to inject. */
static int valid_hostport(const char *v)
{
	const char *port = NULL;
	size_t hl;

	if (*v == '[') {
		const char *end = strchr(v, ']');
		if (!end || end == v + 1 || strspn(v + 1, "0123456789abcdefABCDEF:.") !=
		    (size_t)(end - v - 1))
			return 0;
		if (end[1] && end[1] != ':')
			return 0;
		port = end[1] ? end + 2 : NULL;
	} else {
		hl = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (hl == 0 || hl > 253 || *v == '-' || *v == '.' || (v[hl] && v[hl] != ':'))
			return 0;
		port = v[hl] ? v + hl + 1 : NULL;
	}
	if (port) {
		char *end;
		long n;
		if (*port < '0' || *port > '9')
			return 0;
		n = strtol(port, &end, 10);
		if (*end || n < 1 || n > 65535)
			return 0;
	}
	return 1;
}

/* "name, other": attribute names as the MobileID API allows them. */
static int valid_attr_list(const char *v)
{
	const char *p = v;

	while (*p) {
		size_t n;
		p += strspn(p, " \t");
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
		if (n == 0 || n > 128)
			return 0;
		p += n;
		p += strspn(p, " \t");
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return 0;
	}
	return 1;
}

/* The [dqe] value kinds. */
static int apply_dqe_kind(mid_config *cfg, const struct key *k, const char *value,
                          const char *where, char *err, size_t errlen)
{
	void *slot = (char *)cfg + k->off;
	char *copy;

	switch (k->kind) {
	case K_HOSTPORT:
		if (*value && !valid_hostport(value)) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (a host name or address, "
			           "optionally with :port; no https:// and no path)", where, k->section,
			           k->name, value);
			return -1;
		}
		break;
	case K_COUNTRY:
		if (*value && (strlen(value) != 2 || !strchr(LETTERS, value[0]) ||
		               !strchr(LETTERS, value[1]))) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (an ISO 3166 two-letter "
			           "country code such as FR, or empty)", where, k->section, k->name, value);
			return -1;
		}
		break;
	case K_SCORE: {
		char *end;
		double d = -1;
		size_t digits = strspn(value, "0123456789");
		if (*value) {
			if (!digits || (value[digits] && (value[digits] != '.' ||
			    strspn(value + digits + 1, "0123456789") != strlen(value + digits + 1))))
				d = 2;
			else
				d = strtod(value, &end);
		}
		if (d > 1) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (a minimum score from 0 to 1 "
			           "such as 0.8, or empty for not judged)", where, k->section, k->name, value);
			return -1;
		}
		*(double *)slot = d;
		return 0;
	}
	case K_DQE_ONERROR:
		if (!strcmp(value, "deny"))
			*(mid_dqe_on_error *)slot = MID_DQE_ON_ERROR_DENY;
		else if (!strcmp(value, "skip_check"))
			*(mid_dqe_on_error *)slot = MID_DQE_ON_ERROR_SKIP;
		else {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (deny or skip_check)",
			           where, k->section, k->name, value);
			return -1;
		}
		return 0;
	case K_ATTRS:
		if (!valid_attr_list(value)) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (attribute names separated by "
			           "commas, each of A-Z a-z 0-9 _ . -)", where, k->section, k->name, value);
			return -1;
		}
		break;
	default:
		mid_seterr(err, errlen, "%s: [%s] %s: internal error", where, k->section, k->name);
		return -1;
	}
	if (!(copy = strdup(value))) {
		mid_seterr(err, errlen, "%s: out of memory", where);
		return -1;
	}
	if (k->kind == K_COUNTRY)
		for (char *c = copy; *c; c++)
			*c = (char)toupper((unsigned char)*c);
	free_string(slot, 0);
	*(char **)slot = copy;
	return 0;
}

/* Store one value; where is "file:line" or "pam argument". */
static int apply(mid_config *cfg, const struct key *k, const char *value,
                 const char *where, char *err, size_t errlen)
{
	void *slot = (char *)cfg + k->off;
	long n;

	switch (k->kind) {
	case K_URL:
		if (strncmp(value, "https://", 8) != 0 || !value[8]) {
			mid_seterr(err, errlen, "%s: [%s] %s: '%s' is not an https:// URL",
			           where, k->section, k->name, value);
			return -1;
		}
		/* fall through */
	case K_STRING:
	case K_SECRET:
	case K_PATH:
		if (mid_has_ctl(value)) {
			mid_seterr(err, errlen, "%s: [%s] %s: control characters are not allowed",
			           where, k->section, k->name);
			return -1;
		}
		if (k->kind == K_PATH && *value && *value != '/') {
			mid_seterr(err, errlen, "%s: [%s] %s: '%s' is not an absolute path",
			           where, k->section, k->name, value);
			return -1;
		}
		free_string(slot, k->kind == K_SECRET);
		if (!(*(char **)slot = strdup(value)))
			goto oom;
		return 0;
	case K_TMPL_REF:
	case K_TMPL_CTX: {
		char bad = 0;
		const char *allowed = k->kind == K_TMPL_REF ? MID_TMPL_REF_CODES
		                                            : MID_TMPL_CTX_CODES;
		/* As for the other strings, but for newlines (the defaults and
		 * inline RADIUS configuration hold real ones; a file writes \n). */
		for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
			if ((*c < 0x20 && *c != '\t' && *c != '\n') || *c == 0x7f) {
				mid_seterr(err, errlen, "%s: [%s] %s: control characters are not allowed",
				           where, k->section, k->name);
				return -1;
			}
		}
		if (!mid_utf8_valid(value)) {
			mid_seterr(err, errlen, "%s: [%s] %s: not valid UTF-8", where, k->section, k->name);
			return -1;
		}
		if (mid_template_check(value, allowed, &bad) != 0) {
			if (bad)
				mid_seterr(err, errlen, "%s: [%s] %s: unknown template code '%%%c' (allowed: %s)",
				           where, k->section, k->name, bad, allowed);
			else
				mid_seterr(err, errlen, "%s: [%s] %s: the template ends with a lone '%%'",
				           where, k->section, k->name);
			return -1;
		}
		if (k->kind == K_TMPL_REF && !*value) {
			mid_seterr(err, errlen, "%s: [%s] %s: must not be empty", where, k->section, k->name);
			return -1;
		}
		free_string(slot, 0);
		if (!(*(char **)slot = mid_unescape_newlines(value)))
			goto oom;
		return 0;
	}
	case K_DURATION_S:
	case K_DURATION_MS:
		n = mid_parse_duration(value, k->kind == K_DURATION_S ? 1000 : 1);
		if (n < 0 || n < k->lo || n > k->hi) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (a duration from %ldms to %lds, "
			           "e.g. %s)", where, k->section, k->name, value, k->lo, k->hi / 1000,
			           k->kind == K_DURATION_S ? "30 or 30s" : "500 or 500ms");
			return -1;
		}
		*(long *)slot = n;
		return 0;
	case K_SIZE:
		n = mid_parse_duration(value, 1);   /* plain integer parser */
		if (n < 0 || strspn(value, "0123456789") != strlen(value) || n < k->lo || n > k->hi) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (bytes, %ld to %ld)",
			           where, k->section, k->name, value, k->lo, k->hi);
			return -1;
		}
		*(long *)slot = n;
		return 0;
	case K_FAILMODE:
		if (!strcmp(value, "secure"))
			*(mid_failmode *)slot = MID_FAILMODE_SECURE;
		else if (!strcmp(value, "safe"))
			*(mid_failmode *)slot = MID_FAILMODE_SAFE;
		else {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (secure or safe)",
			           where, k->section, k->name, value);
			return -1;
		}
		return 0;
	case K_PROMPT:
		if (!strcmp(value, "auto"))
			*(mid_prompt_setting *)slot = MID_PROMPT_SETTING_AUTO;
		else if (!strcmp(value, "info"))
			*(mid_prompt_setting *)slot = MID_PROMPT_SETTING_INFO;
		else if (!strcmp(value, "enter"))
			*(mid_prompt_setting *)slot = MID_PROMPT_SETTING_ENTER;
		else {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (auto, info or enter)",
			           where, k->section, k->name, value);
			return -1;
		}
		return 0;
	case K_COUNT: {
		char *end;
		long v = strtol(value, &end, 10);
		if (!*value || *end || v < k->lo || v > k->hi) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (a whole number from %ld to %ld)",
			           where, k->section, k->name, value, k->lo, k->hi);
			return -1;
		}
		*(int *)slot = (int)v;
		return 0;
	}
	case K_GROUPS:
	case K_NETWORKS: {
		char why[300];
		if ((k->kind == K_GROUPS ? mid_groups_check : mid_networks_check)(value, why,
		                                                                   sizeof(why))) {
			mid_seterr(err, errlen, "%s: [%s] %s: %s", where, k->section, k->name, why);
			return -1;
		}
		free_string(slot, 0);
		if (!(*(char **)slot = strdup(value)))
			goto oom;
		return 0;
	}
	case K_UNENROLLED:
		if (!strcmp(value, "deny"))
			*(mid_unenrolled *)slot = MID_UNENROLLED_DENY;
		else if (!strcmp(value, "ignore"))
			*(mid_unenrolled *)slot = MID_UNENROLLED_IGNORE;
		else if (!strcmp(value, "enroll"))
			*(mid_unenrolled *)slot = MID_UNENROLLED_ENROLL;
		else {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (deny, ignore or enroll)",
			           where, k->section, k->name, value);
			return -1;
		}
		return 0;
	case K_AUTHLEVEL:
		if (strcmp(value, "TWO_FACTOR") && strcmp(value, "ONE_FACTOR")) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (TWO_FACTOR or ONE_FACTOR)",
			           where, k->section, k->name, value);
			return -1;
		}
		free_string(slot, 0);
		if (!(*(char **)slot = strdup(value)))
			goto oom;
		return 0;
	case K_BOOL:
		if (parse_bool(value, (int *)slot) != 0) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (yes or no)",
			           where, k->section, k->name, value);
			return -1;
		}
		return 0;
	case K_HOSTPORT:
	case K_COUNTRY:
	case K_SCORE:
	case K_DQE_ONERROR:
	case K_ATTRS:
		return apply_dqe_kind(cfg, k, value, where, err, errlen);
	case K_CALLING_CODES: {
		/* numbers 1..999, each with an optional '+', separated by commas or blanks */
		const char *p = value + strspn(value, " \t,");
		int ncodes = 0;
		while (*p) {
			size_t d;
			p += *p == '+';
			d = strspn(p, "0123456789");
			if (d == 0 || d > 3 || *p == '0' || (p[d] && !strchr(" \t,", p[d])))
				break;
			ncodes++;
			p += d;
			p += strspn(p, " \t,");
		}
		if (*p || !ncodes) {
			mid_seterr(err, errlen, "%s: [%s] %s: bad value '%s' (country calling codes such "
			           "as 1 or +1, +44)", where, k->section, k->name, value);
			return -1;
		}
		free_string(slot, 0);
		if (!(*(char **)slot = strdup(value)))
			goto oom;
		return 0;
	}
	}
	mid_seterr(err, errlen, "%s: [%s] %s: internal error", where, k->section, k->name);
	return -1;
oom:
	mid_seterr(err, errlen, "%s: out of memory", where);
	return -1;
}

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static int known_section(const char *section)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section))
			return 1;
	return 0;
}

mid_config *mid_config_new(void)
{
	mid_config *cfg = calloc(1, sizeof(*cfg));
	char err[256];

	if (!cfg)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].def && apply(cfg, &keys[i], keys[i].def, "default", err, sizeof(err))) {
			mid_config_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

void mid_config_free(mid_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		enum kind kd = keys[i].kind;
		if (kd == K_STRING || kd == K_SECRET || kd == K_URL || kd == K_PATH ||
		    kd == K_TMPL_REF || kd == K_TMPL_CTX || kd == K_AUTHLEVEL ||
		    kd == K_GROUPS || kd == K_NETWORKS || kd == K_HOSTPORT || kd == K_COUNTRY ||
		    kd == K_ATTRS || kd == K_CALLING_CODES)
			free_string((char **)((char *)cfg + keys[i].off), kd == K_SECRET);
	}
	free(cfg->path);
	free(cfg);
}

int mid_config_set(mid_config *cfg, const char *key, const char *value,
                   const char *where, char *err, size_t errlen)
{
	const struct key *k = NULL;
	const char *dot = strchr(key, '.');

	if (dot) {
		char section[64];
		size_t len = (size_t)(dot - key);
		if (len < sizeof(section)) {
			memcpy(section, key, len);
			section[len] = '\0';
			k = find_key(section, dot + 1);
		}
	} else {
		for (size_t i = 0; i < NKEYS; i++) {
			if (!strcmp(keys[i].name, key)) {
				if (k) {
					mid_seterr(err, errlen, "%s: '%s' is ambiguous: write section.%s",
					           where, key, key);
					return -1;
				}
				k = &keys[i];
			}
		}
	}
	if (!k) {
		mid_seterr(err, errlen, "%s: unknown key '%s'", where, key);
		return -1;
	}
	return apply(cfg, k, value, where, err, errlen);
}

/* ---- the file ------------------------------------------------------------ */

struct parse_state {
	mid_config *cfg;
	FILE *f;
	const char *path;
	int line;
	int line_too_long;     /* the current line was cut */
	int long_line;         /* the first line that was cut */
	int seen[NKEYS];       /* line where each key was set */
	char *err;
	size_t errlen;
	int failed;            /* the line where the handler failed */
};

/* ini_reader that counts lines, so that errors can name them. */
static char *counting_reader(char *buf, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *r = fgets(buf, num, ps->f);
	size_t len, skip;

	if (!r)
		return NULL;
	ps->line++;
	ps->line_too_long = 0;
	len = strlen(buf);
	if (len == (size_t)num - 1 && buf[len - 1] != '\n' && !feof(ps->f)) {
		int c;
		/* Swallow the rest so inih does not see it as the next line. */
		while ((c = fgetc(ps->f)) != EOF && c != '\n')
			;
		ps->line_too_long = 1;
		if (!ps->long_line)
			ps->long_line = ps->line;
	}
	/* inih takes an indented line for the continuation of the previous
	 * key's value; we have no multi-line values, so indentation is only
	 * indentation. */
	skip = strspn(buf, " \t");
	if (skip)
		memmove(buf, buf + skip, len - skip + 1);
	return r;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	const struct key *k;
	char where[PATH_MAX + 32];

	if (ps->failed)
		return 0;
	snprintf(where, sizeof(where), "%s:%d", ps->path, ps->line);
	if (ps->line_too_long) {
		mid_seterr(ps->err, ps->errlen, "%s: [%s] %s: line too long (at most %d characters)",
		           where, section, name, INI_MAX_LINE - 2);
		goto fail;
	}
	if (!known_section(section)) {
		mid_seterr(ps->err, ps->errlen, "%s: unknown section [%s] (key %s)", where, section, name);
		goto fail;
	}
	k = find_key(section, name);
	if (!k) {
		mid_seterr(ps->err, ps->errlen, "%s: [%s] %s: unknown key", where, section, name);
		goto fail;
	}
	if (ps->seen[k - keys]) {
		mid_seterr(ps->err, ps->errlen, "%s: [%s] %s: duplicate key (first set on line %d)",
		           where, section, name, ps->seen[k - keys]);
		goto fail;
	}
	ps->seen[k - keys] = ps->line;
	if (apply(ps->cfg, k, value, where, ps->err, ps->errlen) != 0)
		goto fail;
	return 1;
fail:
	ps->failed = ps->line;
	return 0;
}

int mid_open_secret_file(const char *path, int flags, char *err, size_t errlen)
{
	struct stat st;
	mode_t forbidden = (flags & MID_CONF_ALLOW_GROUP_READ) ? 0037 : 0077;
	int fd;

	/* Check what was opened, not the name: nothing can be swapped in
	 * between.  O_NONBLOCK: a FIFO planted here must not hang the login. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			mid_seterr(err, errlen, "%s: refusing a symbolic link (it holds a secret)", path);
		else
			mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		mid_seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (!(flags & MID_CONF_SKIP_PERMS)) {
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			mid_seterr(err, errlen, "%s: owned by uid %u; it must be owned by root "
			           "(it holds a secret)", path, (unsigned)st.st_uid);
			goto fail;
		}
		if (st.st_mode & forbidden) {
			mid_seterr(err, errlen, "%s: mode %04o gives access to group or others; run "
			           "chmod %s %s (it holds a secret)", path, (unsigned)(st.st_mode & 07777),
			           (flags & MID_CONF_ALLOW_GROUP_READ) ? "0640" : "0600", path);
			goto fail;
		}
		if ((st.st_mode & 0040) && st.st_gid != getegid()) {
			mid_seterr(err, errlen, "%s: group-readable by gid %u, which is not ours", path,
			           (unsigned)st.st_gid);
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, 0) != 0) {
		mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int mid_check_secret_file(const char *path, int flags, char *err, size_t errlen)
{
	int fd = mid_open_secret_file(path, flags, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Read the first line of path into *slot (a secret). */
static int read_secret_file(const char *path, char **slot, int flags, char *err, size_t errlen)
{
	char buf[1024];
	FILE *f;
	size_t len;

	int fd = mid_open_secret_file(path, flags, err, errlen);

	if (fd < 0)
		return -1;
	f = fdopen(fd, "r");
	if (!f) {
		mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (!len) {
		mid_seterr(err, errlen, "%s: empty client secret", path);
		return -1;
	}
	free_string(slot, 1);
	*slot = strdup(buf);
	mid_wipe(buf, sizeof(buf));
	if (!*slot) {
		mid_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* [dqe] is checked only when it is enabled: with enabled = no nothing changes. */
static int finish_dqe(mid_config *cfg, int flags, char *err, size_t errlen)
{
	const char *where = cfg->path ? cfg->path : "configuration";
	static const struct { size_t off; const char *name; } required[] = {
		{ OFF(dqe_server), "server" },
		{ OFF(dqe_licence), "licence" },
		{ OFF(dqe_partner_name), "partner_name" },
		{ OFF(dqe_attr[MID_DQE_PHONE]), "attr_phone" },
	};

	if (!cfg->dqe_enabled)
		return 0;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = *(char **)((char *)cfg + required[i].off);
		if (!v || !*v) {
			mid_seterr(err, errlen, "%s: [dqe] %s: missing (needed with enabled = yes)", where,
			           required[i].name);
			return -1;
		}
	}
	if (cfg->dqe_secret && cfg->dqe_secret_file) {
		mid_seterr(err, errlen, "%s: [dqe] secret_file: set either secret or secret_file, "
		           "not both", where);
		return -1;
	}
	if (cfg->dqe_secret_file)
		return read_secret_file(cfg->dqe_secret_file, &cfg->dqe_secret, flags, err, errlen);
	if (!cfg->dqe_secret || !*cfg->dqe_secret) {
		mid_seterr(err, errlen, "%s: [dqe] secret: missing (or set secret_file; needed with "
		           "enabled = yes)", where);
		return -1;
	}
	return 0;
}

static int finish(mid_config *cfg, int flags, char *err, size_t errlen)
{
	const char *where = cfg->path ? cfg->path : "configuration";

	if (!cfg->client_id || !*cfg->client_id) {
		mid_seterr(err, errlen, "%s: [signicat] client_id: missing", where);
		return -1;
	}
	if (cfg->client_secret && cfg->client_secret_file) {
		mid_seterr(err, errlen, "%s: [signicat] client_secret_file: set either client_secret "
		           "or client_secret_file, not both", where);
		return -1;
	}
	if (cfg->client_secret_file) {
		if (read_secret_file(cfg->client_secret_file, &cfg->client_secret, flags,
		                     err, errlen) != 0)
			return -1;
	} else if (!cfg->client_secret || !*cfg->client_secret) {
		mid_seterr(err, errlen, "%s: [signicat] client_secret: missing (or set client_secret_file)",
		           where);
		return -1;
	}
	return finish_dqe(cfg, flags, err, errlen);
}

int mid_config_finish(mid_config *cfg, char *err, size_t errlen)
{
	return finish(cfg, cfg->load_flags, err, errlen);
}

mid_config *mid_config_load(const char *path, int flags, char *err, size_t errlen)
{
	struct parse_state ps;
	mid_config *cfg;
	int fd, rc;

	fd = mid_open_secret_file(path, flags, err, errlen);
	if (fd < 0)
		return NULL;
	cfg = mid_config_new();
	if (!cfg || !(cfg->path = strdup(path))) {
		mid_config_free(cfg);
		close(fd);
		mid_seterr(err, errlen, "out of memory");
		return NULL;
	}
	memset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	ps.path = path;
	ps.err = err;
	ps.errlen = errlen;
	if (!(ps.f = fdopen(fd, "r"))) {
		mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		mid_config_free(cfg);
		return NULL;
	}
	rc = ini_parse_stream(counting_reader, &ps, handler, &ps);
	fclose(ps.f);
	/* Report the first problem.  rc is the first line that inih or the
	 * handler refused; a cut comment or section line is refused too. */
	if (ps.long_line && (!ps.failed || ps.long_line < ps.failed) &&
	    (rc <= 0 || ps.long_line <= rc)) {
		mid_seterr(err, errlen, "%s:%d: line too long (at most %d characters)",
		           path, ps.long_line, INI_MAX_LINE - 2);
		mid_config_free(cfg);
		return NULL;
	}
	if (ps.failed && !(rc > 0 && rc < ps.failed)) {
		mid_config_free(cfg);
		return NULL;
	}
	if (rc != 0) {
		if (rc > 0)
			mid_seterr(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
			           path, rc);
		else
			mid_seterr(err, errlen, "%s: cannot parse (%s)", path,
			           rc == -2 ? "out of memory" : "read error");
		mid_config_free(cfg);
		return NULL;
	}
	cfg->load_flags = flags;
	return cfg;
}

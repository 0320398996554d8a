/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * template.h - %-templates for the externalRef, the phone-side context and
 * the user-side message.
 */
#ifndef MID_TEMPLATE_H
#define MID_TEMPLATE_H

#include <stddef.h>

/* Codes allowed in the externalRef template and in the others. */
#define MID_TMPL_REF_CODES "uUsh%"
#define MID_TMPL_CTX_CODES "uUhsrctC%"

typedef struct mid_tmpl_vars {
	const char *user;      /* %u, and %U lower-cased */
	const char *host;      /* %h this host */
	const char *service;   /* %s */
	const char *rhost;     /* %r remote host */
	const char *code;      /* %c the short code */
	const char *time;      /* %t */
	const char *command;   /* %C e.g. the sudo command */
} mid_tmpl_vars;

/* 0 if every % code of tmpl is in allowed; otherwise -1 and *bad is the
 * offending character (0 for a trailing '%'). */
int mid_template_check(const char *tmpl, const char *allowed, char *bad);

/* Expand tmpl.  Substituted values are stripped of control characters;
 * missing values expand to "-" (or "" when empty_missing).  The result is
 * truncated to max bytes on a UTF-8 boundary.  NULL on allocation failure. */
char *mid_template_expand(const char *tmpl, const mid_tmpl_vars *v, size_t max,
                          int empty_missing);

#endif

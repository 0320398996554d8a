/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * acctmap.h - the account map: which identities (MobileID externalRefs)
 * may approve a login to which account.  mobileidctl auth-import writes
 * it from InfoIMAGE auth files; with [auth] externalref = map the modules
 * read it.  Format (one file, [map] file = /var/lib/mobileid/accounts.map):
 *
 *   # mobileid account map 1
 *   # any other comment lines
 *   ACCOUNT <TAB> ACCOUNT-TYPE <TAB> IDENTITY <TAB> USER-TYPE <TAB> USER-NAME
 *
 * one relationship per line, sorted by account, then primary users before
 * sub-users, then identity, then account type.  ACCOUNT is the account
 * number, ACCOUNT-TYPE may be empty, IDENTITY is the auth file's UUID or
 * UUID|SUID for a business sub-user, USER-TYPE is P or N.  No field holds
 * a tab, a newline or another control character.  The file is owned by
 * root (or the user reading it), mode 0600 (0640 with a group for a
 * module that runs as another user, e.g. freerad), never a symlink.
 *
 * The login name is the account number: the identities of account A are
 * those of every relationship of A, whatever its account type, each once,
 * in file order.
 */
#ifndef MID_ACCTMAP_H
#define MID_ACCTMAP_H

#include <stddef.h>

#include "mid_config.h"
#include "mobileid.h"

#define MID_ACCTMAP_MAGIC "# mobileid account map 1"
#define MID_ACCTMAP_FIELD_MAX 100      /* the auth file's limit for every field */

/* [auth] externalref = map */
int mid_externalref_is_map(const mid_config *cfg);

typedef struct mid_acct_rel {
	char *account;
	char *account_type;     /* "" when none */
	char *identity;         /* UUID or UUID|SUID */
	char user_type;         /* 'P' or 'N' */
	char *user_name;
} mid_acct_rel;

typedef struct mid_acctmap {
	mid_acct_rel *rel;
	size_t n, cap;
} mid_acctmap;

/* The identities of one account, for the login. */
typedef struct mid_acct_identity {
	char *identity;
	char *label;            /* for a choice: "John Doe", "Nick Johnson (NJOHNSON)" */
} mid_acct_identity;

/* For mobileidctl, which replaces the map: group-readable by any group is
 * fine (it keeps a 0640 map's group); only others and writers are refused. */
#define MID_ACCTMAP_ANY_GROUP 0x100

/*
 * Check the file's ownership and mode (flags: MID_CONF_ALLOW_GROUP_READ,
 * MID_CONF_SKIP_PERMS, MID_ACCTMAP_ANY_GROUP) on the open file.  fd: an
 * open descriptor of path.  0, or -1 with err.
 */
int mid_acctmap_check_perms(int fd, const char *path, int flags, char *err, size_t errlen);

/* The identities of account, in order.  0 (*n may be 0: not in the map),
 * or -1 with err (missing or unsafe file, bad format: name file and line). */
int mid_acctmap_identities(const char *path, int flags, const char *account,
                           mid_acct_identity **ids, size_t *n, char *err, size_t errlen);
void mid_acct_identities_free(mid_acct_identity *ids, size_t n);

/* Load the whole map.  A missing file is an empty map (*missing = 1).
 * 0 or -1 with err. */
int mid_acctmap_load(const char *path, int flags, mid_acctmap *m, int *missing,
                     char *err, size_t errlen);
/* Append a copy of r (no checks but the characters: -1 with err when a
 * field holds a tab or control character or is too long). */
int mid_acctmap_add(mid_acctmap *m, const mid_acct_rel *r, char *err, size_t errlen);
/* Sort in file order and drop duplicate relationships (the later one
 * wins, so append in the order the changes happened). */
void mid_acctmap_sort(mid_acctmap *m);
/* Compare two relationships' keys (account, primary/sub-user, identity,
 * account type) in file order. */
int mid_acct_rel_cmp(const mid_acct_rel *a, const mid_acct_rel *b);
/* Replace path atomically (temporary file in the same directory, fsync,
 * rename, fsync of the directory) with mode 0600, or with the old file's
 * mode and group when it was 0640.  comment: one line for the file's
 * header (may be NULL).  0 or -1 with err. */
int mid_acctmap_save(const mid_acctmap *m, const char *path, const char *comment,
                     char *err, size_t errlen);
void mid_acctmap_free(mid_acctmap *m);

/*
 * The externalRef for a login with externalref = map: the identities of
 * the account named by the login; one: that one; several: cb->choose asks
 * the user (when cb has it), otherwise the first is used and a log line
 * says so.  0 with *ref (malloc'd), or -1 with *res (MID_USER_UNKNOWN: not
 * in the map; MID_CONFIG_ERROR: the map cannot be used; MID_CANCELLED: no
 * choice; MID_INTERNAL_ERROR) and why.
 */
int mid_acctmap_external_ref(const mid_config *cfg, const char *login, const mid_callbacks *cb,
                             char **ref, mid_result *res, char *why, size_t whylen);

#endif

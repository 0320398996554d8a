/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * acctmap.c - the account map (see acctmap.h): the reader the modules use,
 * the loader and atomic writer mobileidctl auth-import uses, and the
 * choice of identity for externalref = map.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "acctmap.h"
#include "util.h"

#define NFIELDS 5
#define QUESTION_MAX 300

int mid_externalref_is_map(const mid_config *cfg)
{
	return cfg && cfg->externalref && !strcmp(cfg->externalref, "map");
}

int mid_acctmap_check_perms(int fd, const char *path, int flags, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		mid_seterr(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (flags & MID_CONF_SKIP_PERMS)
		return 0;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		mid_seterr(err, errlen, "%s: owned by uid %u; the account map must be owned by root "
		           "(it decides who approves logins)", path, (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & 0022) {
		mid_seterr(err, errlen, "%s: mode %04o lets group or others write it; run chmod 0600 %s",
		           path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (flags & MID_ACCTMAP_ANY_GROUP)
		flags |= MID_CONF_ALLOW_GROUP_READ;
	if ((st.st_mode & 0004) ||
	    ((st.st_mode & 0040) && !(flags & MID_CONF_ALLOW_GROUP_READ))) {
		mid_seterr(err, errlen, "%s: mode %04o lets %s read it; run chmod %s %s", path,
		           (unsigned)(st.st_mode & 07777), (st.st_mode & 0004) ? "others" : "the group",
		           (flags & MID_CONF_ALLOW_GROUP_READ) ? "0640" : "0600", path);
		return -1;
	}
	if ((st.st_mode & 0040) && st.st_gid != getegid() && !(flags & MID_ACCTMAP_ANY_GROUP)) {
		mid_seterr(err, errlen, "%s: group-readable by gid %u, which is not ours", path,
		           (unsigned)st.st_gid);
		return -1;
	}
	return 0;
}

static FILE *open_map(const char *path, int flags, int *missing, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	FILE *f;

	if (missing)
		*missing = 0;
	if (fd < 0) {
		if (errno == ENOENT && missing) {
			*missing = 1;
			return NULL;
		}
		if (errno == ELOOP)
			mid_seterr(err, errlen, "%s: refusing a symbolic link", path);
		else if (errno == ENOENT)
			mid_seterr(err, errlen, "%s: no account map (import an auth file with "
			           "mobileidctl auth-import)", path);
		else
			mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (mid_acctmap_check_perms(fd, path, flags, err, errlen) != 0) {
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		mid_seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Split a map line in place.  0, or -1 with err naming path:line. */
static int split_line(char *line, char *fields[NFIELDS], const char *path, size_t lineno,
                      char *err, size_t errlen)
{
	char *p = line;
	int n = 0;

	while (n < NFIELDS) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != NFIELDS || p) {
		mid_seterr(err, errlen, "%s:%zu: not an account map line (%d tab-separated fields "
		           "expected)", path, lineno, NFIELDS);
		return -1;
	}
	if (!*fields[0] || !*fields[2] || (strcmp(fields[3], "P") && strcmp(fields[3], "N"))) {
		mid_seterr(err, errlen, "%s:%zu: bad account map line (empty account or identity, "
		           "or user type not P or N)", path, lineno);
		return -1;
	}
	for (int i = 0; i < NFIELDS; i++) {
		if (strlen(fields[i]) > MID_ACCTMAP_FIELD_MAX * 4 || mid_has_ctl(fields[i]) ||
		    strchr(fields[i], '\t')) {
			mid_seterr(err, errlen, "%s:%zu: bad account map line (field %d too long or "
			           "with control characters)", path, lineno, i + 1);
			return -1;
		}
	}
	return 0;
}

/* Read every relationship; fn gets the fields of each.  0 or -1. */
static int read_map(FILE *f, const char *path,
                    int (*fn)(void *ctx, char *fields[NFIELDS], char *err, size_t errlen),
                    void *ctx, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		char *fields[NFIELDS];

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, MID_ACCTMAP_MAGIC) != 0) {
				mid_seterr(err, errlen, "%s:1: not an account map (the first line must be "
				           "'%s')", path, MID_ACCTMAP_MAGIC);
				rc = -1;
				break;
			}
			continue;
		}
		if (!*line || *line == '#')
			continue;
		if (strlen(line) != (size_t)len) {
			mid_seterr(err, errlen, "%s:%zu: a NUL byte in the account map", path, lineno);
			rc = -1;
			break;
		}
		if (split_line(line, fields, path, lineno, err, errlen) != 0 ||
		    fn(ctx, fields, err, errlen) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		mid_seterr(err, errlen, "%s: read error", path);
		rc = -1;
	}
	if (rc == 0 && lineno == 0) {
		mid_seterr(err, errlen, "%s: empty file, not an account map", path);
		rc = -1;
	}
	free(line);
	return rc;
}

/* ---- lookup -------------------------------------------------------------------------- */

struct lookup {
	const char *account;
	mid_acct_identity *ids;
	size_t n, cap;
};

static char *make_label(const char *identity, const char *user_name)
{
	const char *bar = strchr(identity, '|');
	mid_buf b = { 0 };

	if (mid_buf_printf(&b, "%s", *user_name ? user_name : identity) != 0 ||
	    (bar && mid_buf_printf(&b, " (%s)", bar + 1) != 0)) {
		mid_buf_free(&b);
		return NULL;
	}
	return b.data;
}

static int lookup_fn(void *ctx, char *fields[NFIELDS], char *err, size_t errlen)
{
	struct lookup *l = ctx;
	mid_acct_identity *id;

	if (strcmp(fields[0], l->account) != 0)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->ids[i].identity, fields[2]))
			return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		mid_acct_identity *nids = realloc(l->ids, ncap * sizeof(*nids));
		if (!nids)
			goto oom;
		l->ids = nids;
		l->cap = ncap;
	}
	id = &l->ids[l->n];
	id->identity = strdup(fields[2]);
	id->label = make_label(fields[2], fields[4]);
	if (!id->identity || !id->label) {
		free(id->identity);
		free(id->label);
		goto oom;
	}
	l->n++;
	return 0;
oom:
	mid_seterr(err, errlen, "out of memory");
	return -1;
}

void mid_acct_identities_free(mid_acct_identity *ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++) {
		free(ids[i].identity);
		free(ids[i].label);
	}
	free(ids);
}

int mid_acctmap_identities(const char *path, int flags, const char *account,
                           mid_acct_identity **ids, size_t *n, char *err, size_t errlen)
{
	struct lookup l = { .account = account };
	FILE *f = open_map(path, flags, NULL, err, errlen);
	int rc;

	*ids = NULL;
	*n = 0;
	if (!f)
		return -1;
	rc = read_map(f, path, lookup_fn, &l, err, errlen);
	fclose(f);
	if (rc != 0) {
		mid_acct_identities_free(l.ids, l.n);
		return -1;
	}
	*ids = l.ids;
	*n = l.n;
	return 0;
}

/* ---- the whole map (mobileidctl) -------------------------------------------------------- */

static void rel_free(mid_acct_rel *r)
{
	free(r->account);
	free(r->account_type);
	free(r->identity);
	free(r->user_name);
}

void mid_acctmap_free(mid_acctmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		rel_free(&m->rel[i]);
	free(m->rel);
	memset(m, 0, sizeof(*m));
}

static int field_ok(const char *s, int may_be_empty)
{
	return s && (may_be_empty || *s) && strlen(s) <= MID_ACCTMAP_FIELD_MAX * 4 &&
	       !mid_has_ctl(s) && !strchr(s, '\t');
}

int mid_acctmap_add(mid_acctmap *m, const mid_acct_rel *r, char *err, size_t errlen)
{
	mid_acct_rel *n;

	if (!field_ok(r->account, 0) || !field_ok(r->account_type, 1) ||
	    !field_ok(r->identity, 0) || !field_ok(r->user_name, 1) ||
	    (r->user_type != 'P' && r->user_type != 'N')) {
		mid_seterr(err, errlen, "a relationship with an empty, too long or unprintable field");
		return -1;
	}
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		mid_acct_rel *nrel = realloc(m->rel, ncap * sizeof(*nrel));
		if (!nrel)
			goto oom;
		m->rel = nrel;
		m->cap = ncap;
	}
	n = &m->rel[m->n];
	memset(n, 0, sizeof(*n));
	n->account = strdup(r->account);
	n->account_type = strdup(r->account_type);
	n->identity = strdup(r->identity);
	n->user_name = strdup(r->user_name);
	n->user_type = r->user_type;
	if (!n->account || !n->account_type || !n->identity || !n->user_name) {
		rel_free(n);
		goto oom;
	}
	m->n++;
	return 0;
oom:
	mid_seterr(err, errlen, "out of memory");
	return -1;
}

static int load_fn(void *ctx, char *fields[NFIELDS], char *err, size_t errlen)
{
	mid_acct_rel r = { .account = fields[0], .account_type = fields[1],
	                   .identity = fields[2], .user_type = fields[3][0],
	                   .user_name = fields[4] };

	return mid_acctmap_add(ctx, &r, err, errlen);
}

int mid_acctmap_load(const char *path, int flags, mid_acctmap *m, int *missing,
                     char *err, size_t errlen)
{
	FILE *f;
	int rc;

	memset(m, 0, sizeof(*m));
	f = open_map(path, flags, missing, err, errlen);
	if (!f)
		return *missing ? 0 : -1;
	rc = read_map(f, path, load_fn, m, err, errlen);
	fclose(f);
	if (rc != 0)
		mid_acctmap_free(m);
	return rc;
}

int mid_acct_rel_cmp(const mid_acct_rel *a, const mid_acct_rel *b)
{
	int c = strcmp(a->account, b->account);
	int sa = strchr(a->identity, '|') != NULL, sb = strchr(b->identity, '|') != NULL;

	if (c)
		return c;
	if (sa != sb)
		return sa - sb;          /* primary users first */
	c = strcmp(a->identity, b->identity);
	if (c)
		return c;
	return strcmp(a->account_type, b->account_type);
}

static int rel_cmp(const void *x, const void *y)
{
	return mid_acct_rel_cmp(x, y);
}

/* qsort is not stable: the index breaks ties so that the later one of two
 * equal relationships is known. */
struct ranked {
	mid_acct_rel rel;
	size_t seq;
};

static int ranked_cmp(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	int c = mid_acct_rel_cmp(&a->rel, &b->rel);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void mid_acctmap_sort(mid_acctmap *m)
{
	struct ranked *r;
	size_t o = 0;

	if (m->n < 2)
		return;
	r = malloc(m->n * sizeof(*r));
	if (!r) {
		/* Sorting without the tie-break still gives a valid map; which
		 * duplicate survives is then unspecified. */
		qsort(m->rel, m->n, sizeof(*m->rel), rel_cmp);
	} else {
		for (size_t i = 0; i < m->n; i++) {
			r[i].rel = m->rel[i];
			r[i].seq = i;
		}
		qsort(r, m->n, sizeof(*r), ranked_cmp);
		for (size_t i = 0; i < m->n; i++)
			m->rel[i] = r[i].rel;
		free(r);
	}
	/* Keep the last of each run of equal keys. */
	for (size_t i = 0; i < m->n; i++) {
		if (i + 1 < m->n && mid_acct_rel_cmp(&m->rel[i], &m->rel[i + 1]) == 0) {
			rel_free(&m->rel[i]);
			continue;
		}
		m->rel[o++] = m->rel[i];
	}
	m->n = o;
}

static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int mid_acctmap_save(const mid_acctmap *m, const char *path, const char *comment,
                     char *err, size_t errlen)
{
	struct stat old;
	mode_t mode = 0600;
	gid_t gid = (gid_t)-1;
	mid_buf tmp = { 0 };
	FILE *f = NULL;
	int fd = -1, rc = -1;

	if (lstat(path, &old) == 0 && S_ISREG(old.st_mode) && (old.st_mode & 07777) == 0640) {
		mode = 0640;
		gid = old.st_gid;
	}
	if (mid_buf_printf(&tmp, "%s.XXXXXX", path) != 0) {
		mid_seterr(err, errlen, "out of memory");
		return -1;
	}
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		mid_seterr(err, errlen, "cannot create a temporary file next to %s: %s", path,
		           strerror(errno));
		mid_buf_free(&tmp);
		return -1;
	}
	if (fchmod(fd, mode) != 0 || (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) ||
	    !(f = fdopen(fd, "w"))) {
		mid_seterr(err, errlen, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	fd = -1;
	fprintf(f, "%s\n", MID_ACCTMAP_MAGIC);
	if (comment && *comment && !strchr(comment, '\n'))
		fprintf(f, "# %s\n", comment);
	fprintf(f, "# account\taccount type\tidentity (UUID or UUID|SUID)\tuser type\tuser name\n");
	for (size_t i = 0; i < m->n; i++) {
		const mid_acct_rel *r = &m->rel[i];
		fprintf(f, "%s\t%s\t%s\t%c\t%s\n", r->account, r->account_type, r->identity,
		        r->user_type, r->user_name);
	}
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		mid_seterr(err, errlen, "%s: cannot write: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		mid_seterr(err, errlen, "%s: cannot write: %s", tmp.data, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp.data, path) != 0) {
		mid_seterr(err, errlen, "cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
		goto out;
	}
	fsync_parent(path);
	rc = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp.data);
	mid_buf_free(&tmp);
	return rc;
}

/* ---- the identity of a login ----------------------------------------------------------- */

static void cb_log(const mid_callbacks *cb, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cb_log(const mid_callbacks *cb, int prio, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (!cb || !cb->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb->log(cb->ctx, prio, msg);
}

int mid_acctmap_external_ref(const mid_config *cfg, const char *login, const mid_callbacks *cb,
                             char **ref, mid_result *res, char *why, size_t whylen)
{
	mid_acct_identity *ids = NULL;
	const char **labels = NULL;
	size_t n = 0, pick = 0;
	char err[600], *clean;
	int rc = -1;

	*ref = NULL;
	if (!cfg->map_file || !*cfg->map_file) {
		*res = MID_CONFIG_ERROR;
		mid_seterr(why, whylen, "externalref = map, but [map] file is empty");
		return -1;
	}
	if (mid_acctmap_identities(cfg->map_file, cfg->load_flags, login, &ids, &n,
	                           err, sizeof(err)) != 0) {
		*res = MID_CONFIG_ERROR;
		mid_seterr(why, whylen, "account map: %s", err);
		return -1;
	}
	clean = mid_sanitize(login, 0, 128);
	if (n == 0) {
		*res = MID_USER_UNKNOWN;
		mid_seterr(why, whylen, "account '%s' is not in the account map %s",
		           clean ? clean : "?", cfg->map_file);
		goto out;
	}
	if (n > 1) {
		if (cb && cb->choose) {
			char question[QUESTION_MAX];
			int k;

			labels = calloc(n, sizeof(*labels));
			if (!labels) {
				*res = MID_INTERNAL_ERROR;
				mid_seterr(why, whylen, "out of memory");
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				labels[i] = ids[i].label;
			snprintf(question, sizeof(question), "Account %s: who approves this login "
			         "on their phone?", clean ? clean : "?");
			k = cb->choose(cb->ctx, question, labels, n > 1000 ? 1000 : (int)n);
			if (k < 0 || (size_t)k >= n) {
				*res = MID_CANCELLED;
				mid_seterr(why, whylen, "account '%s': no identity was chosen",
				           clean ? clean : "?");
				goto out;
			}
			pick = (size_t)k;
		} else {
			cb_log(cb, LOG_WARNING, "account %s has %zu identities in the account map and "
			       "this caller cannot ask which one: using the first, %s",
			       clean ? clean : "?", n, ids[0].identity);
		}
	}
	*ref = strdup(ids[pick].identity);
	if (!*ref) {
		*res = MID_INTERNAL_ERROR;
		mid_seterr(why, whylen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(labels);
	free(clean);
	mid_acct_identities_free(ids, n);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_auth_import.c - mobileidctl auth-import [--force] [--dry-run] FILE:
 * an InfoIMAGE auth file (infoimage-auth-file.txt), plain or .pgp, into
 * the account map ([map] file).  See mobileidctl/batch.md.
 *
 * The whole file is checked first; one bad line rejects the whole file and
 * the map stays as it was (every bad line is reported with its line number
 * and field).  A full file replaces the map, but not when it would drop
 * more than [map] max_purge_percent of the existing relationships (unless
 * --force); an incremental file (MAINTCODE column) applies its A and D
 * lines in order.  The map is replaced atomically, under a lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>
#include <json-c/json.h>

#include "acctmap.h"
#include "authfile.h"
#include "ctl.h"
#include "util.h"

int cmd_auth_import(struct ctl_ctx *ctx, int argc, char **argv);

#define INPUT_MAX_BYTES (512L * 1024 * 1024)
#define MAX_SHOWN_ERRORS 20

/* The file's content; it may hold SSNs and passwords: wiped when freed. */
struct input {
	char *data;
	size_t len;
};

static void input_free(struct input *in)
{
	if (in->data) {
		mid_wipe(in->data, in->len);
		free(in->data);
	}
	in->data = NULL;
	in->len = 0;
}

/* Decrypt the OpenPGP message in 'in' with GnuPG (gpgme), replacing it. */
static int decrypt(struct ctl_ctx *ctx, const mid_config *cfg, const char *path,
                   struct input *in)
{
	gpgme_ctx_t g = NULL;
	gpgme_data_t cipher = NULL, plain = NULL;
	gpgme_error_t e;
	char *mem = NULL;
	size_t n = 0;
	int rc = -1;

	if (!gpgme_check_version(NULL)) {
		ctl_error(ctx, NULL, "%s: cannot initialise gpgme", path);
		return -1;
	}
	gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
	e = gpgme_new(&g);
	if (!e)
		e = gpgme_set_protocol(g, GPGME_PROTOCOL_OpenPGP);
	if (!e && cfg->map_gnupg_home && *cfg->map_gnupg_home)
		e = gpgme_ctx_set_engine_info(g, GPGME_PROTOCOL_OpenPGP, NULL, cfg->map_gnupg_home);
	if (!e)
		e = gpgme_data_new_from_mem(&cipher, in->data, in->len, 0);
	if (!e)
		e = gpgme_data_new(&plain);
	if (e) {
		ctl_error(ctx, NULL, "%s: GnuPG: %s", path, gpgme_strerror(e));
		goto out;
	}
	e = gpgme_op_decrypt(g, cipher, plain);
	if (e) {
		gpgme_decrypt_result_t dr = gpgme_op_decrypt_result(g);
		char keys[200] = "";

		for (gpgme_recipient_t r = dr ? dr->recipients : NULL; r; r = r->next) {
			size_t o = strlen(keys);
			snprintf(keys + o, sizeof(keys) - o, "%s%s", o ? ", " : "", r->keyid);
		}
		ctl_error(ctx, NULL, "%s: cannot decrypt: %s%s%s%s (GnuPG home: %s)", path,
		          gpgme_strerror(e), keys[0] ? "; encrypted to key " : "", keys,
		          gpgme_err_code(e) == GPG_ERR_NO_SECKEY ? " - import that secret key" : "",
		          cfg->map_gnupg_home && *cfg->map_gnupg_home ? cfg->map_gnupg_home
		          : getenv("GNUPGHOME") ? getenv("GNUPGHOME") : "~/.gnupg");
		goto out;
	}
	mem = gpgme_data_release_and_get_mem(plain, &n);
	plain = NULL;
	if (!mem && n) {
		ctl_error(ctx, NULL, "%s: out of memory", path);
		goto out;
	}
	input_free(in);
	in->data = malloc(n + 1);
	if (!in->data) {
		ctl_error(ctx, NULL, "%s: out of memory", path);
		goto out;
	}
	if (n)
		memcpy(in->data, mem, n);
	in->data[n] = '\0';
	in->len = n;
	rc = 0;
out:
	if (mem) {
		mid_wipe(mem, n);
		gpgme_free(mem);
	}
	gpgme_data_release(plain);
	gpgme_data_release(cipher);
	gpgme_release(g);
	return rc;
}

/* ---- the records -------------------------------------------------------------------- */

struct op {
	mid_acct_rel rel;     /* points into the input (or the old map) */
	char op;              /* 'A', 'D', or 'O' for a relationship of the old map */
	size_t seq;
	size_t line;
	char *owned;          /* the identity of a record (UUID|SUID), ours to free */
};

struct ops {
	struct op *v;
	size_t n, cap;
};

static int ops_push(struct ops *o, const struct op *x)
{
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 256;
		struct op *nv = realloc(o->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		o->v = nv;
		o->cap = ncap;
	}
	o->v[o->n++] = *x;
	return 0;
}

static int op_cmp(const void *x, const void *y)
{
	const struct op *a = x, *b = y;
	int c = mid_acct_rel_cmp(&a->rel, &b->rel);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct stats {
	size_t lines;             /* records in the file */
	size_t added, removed, changed, unchanged;
	size_t missing_deletes;   /* D for a relationship the map did not have */
	size_t old_n, new_n;
};

static int same_data(const mid_acct_rel *a, const mid_acct_rel *b)
{
	return a->user_type == b->user_type && !strcmp(a->user_name, b->user_name);
}

/* Parse every line; the records go to ops (seq from 'first_seq').  The
 * number of bad lines, or -1 (out of memory, no header). */
static long parse_file(struct ctl_ctx *ctx, const char *path, struct input *in,
                       struct af_header *h, struct ops *ops, size_t first_seq)
{
	char *p = in->data, *end = in->data + in->len, err[400];
	size_t lineno = 0;
	long bad = 0;
	int have_header = 0;

	if (in->len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p;
		struct af_record rec;
		struct op o;

		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : end;
		lineno++;
		if (strlen(line) != (size_t)((nl ? nl : end) - line)) {
			if (bad++ < MAX_SHOWN_ERRORS)
				ctl_error(ctx, NULL, "%s:%zu: a NUL byte (binary data; an encrypted file "
				          "must be named .pgp)", path, lineno);
			continue;
		}
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if (!have_header) {
			if (af_header_parse(line, h, err, sizeof(err)) != 0) {
				ctl_error(ctx, NULL, "%s:%zu: %s", path, lineno, err);
				return -1;
			}
			have_header = 1;
			continue;
		}
		if (af_record_parse(h, line, &rec, err, sizeof(err)) != 0) {
			if (bad++ < MAX_SHOWN_ERRORS)
				ctl_error(ctx, NULL, "%s:%zu: %s", path, lineno, err);
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.rel = rec.rel;
		o.op = rec.op;
		o.seq = first_seq + ops->n;
		o.line = lineno;
		o.owned = strdup(rec.identity);
		o.rel.identity = o.owned;
		if (!o.owned || ops_push(ops, &o) != 0) {
			free(o.owned);
			ctl_error(ctx, NULL, "out of memory");
			return -1;
		}
	}
	if (!have_header) {
		ctl_error(ctx, NULL, "%s: empty file (a header line is required)", path);
		return -1;
	}
	if (bad > MAX_SHOWN_ERRORS)
		ctl_error(ctx, NULL, "%s: %ld more bad lines not shown", path,
		          bad - MAX_SHOWN_ERRORS);
	return bad;
}

/*
 * The new map.  old: the current map (sorted).  Full file: its records,
 * the later of two equal ones winning.  Incremental: the old map with the
 * A and D lines applied in file order.
 */
static int build(struct ctl_ctx *ctx, const char *path, const mid_acctmap *old, struct ops *ops,
                 int incremental, mid_acctmap *out, struct stats *st)
{
	char err[300];
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	st->old_n = old->n;
	st->lines = ops->n;
	/* The old relationships go first (seq below every record's). */
	for (size_t k = 0; k < old->n; k++) {
		struct op o;

		memset(&o, 0, sizeof(o));
		o.rel = old->rel[k];
		o.op = 'O';
		o.seq = k;
		if (ops_push(ops, &o) != 0)
			goto oom;
	}
	qsort(ops->v, ops->n, sizeof(*ops->v), op_cmp);
	while (i < ops->n) {
		size_t j = i;
		const mid_acct_rel *before = NULL, *now = NULL;

		/* one key: the old state (if any), then the file's lines in order */
		for (; j < ops->n && mid_acct_rel_cmp(&ops->v[i].rel, &ops->v[j].rel) == 0; j++) {
			struct op *o = &ops->v[j];

			if (o->op == 'O') {
				before = &o->rel;
				if (incremental)
					now = &o->rel;
			} else if (o->op == 'A') {
				now = &o->rel;
			} else {
				if (!now) {
					st->missing_deletes++;
					ctl_debug(ctx, 1, "%s:%zu: D for a relationship that is not in the "
					          "map (nothing to delete)", path, o->line);
				}
				now = NULL;
			}
		}
		if (now && mid_acctmap_add(out, now, err, sizeof(err)) != 0)
			goto oom;
		if (before && now)
			same_data(before, now) ? st->unchanged++ : st->changed++;
		else if (before)
			st->removed++;
		else if (now)
			st->added++;
		i = j;
	}
	st->new_n = out->n;
	return 0;
oom:
	ctl_error(ctx, NULL, "out of memory");
	mid_acctmap_free(out);
	return -1;
}

static size_t count_accounts(const mid_acctmap *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += i == 0 || strcmp(m->rel[i].account, m->rel[i - 1].account) != 0;
	return n;
}

static void report(struct ctl_ctx *ctx, const char *path, const char *map, int incremental,
                   int dry_run, const struct stats *st, const mid_acctmap *m)
{
	if (ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "map", json_object_new_string(map));
		json_object_object_add(o, "kind", json_object_new_string(incremental ? "incremental"
		                                                                    : "full"));
		json_object_object_add(o, "dryRun", json_object_new_boolean(dry_run));
		json_object_object_add(o, "lines", json_object_new_int64((int64_t)st->lines));
		json_object_object_add(o, "added", json_object_new_int64((int64_t)st->added));
		json_object_object_add(o, "removed", json_object_new_int64((int64_t)st->removed));
		json_object_object_add(o, "changed", json_object_new_int64((int64_t)st->changed));
		json_object_object_add(o, "unchanged", json_object_new_int64((int64_t)st->unchanged));
		json_object_object_add(o, "missingDeletes",
		                       json_object_new_int64((int64_t)st->missing_deletes));
		json_object_object_add(o, "relationships", json_object_new_int64((int64_t)m->n));
		json_object_object_add(o, "accounts",
		                       json_object_new_int64((int64_t)count_accounts(m)));
		ctl_json_print(ctx, o);
		return;
	}
	ctl_out(ctx, "%s: %s auth file, %zu record%s: %zu added, %zu removed, %zu changed, "
	        "%zu unchanged", path, incremental ? "incremental" : "full", st->lines,
	        st->lines == 1 ? "" : "s", st->added, st->removed, st->changed, st->unchanged);
	if (st->missing_deletes)
		ctl_out(ctx, ", %zu deletion%s of relationships the map did not have",
		        st->missing_deletes, st->missing_deletes == 1 ? "" : "s");
	ctl_out(ctx, "\n%s %s %zu relationship%s for %zu account%s\n", map,
	        dry_run ? "would have" : "now has", m->n, m->n == 1 ? "" : "s", count_accounts(m),
	        count_accounts(m) == 1 ? "" : "s");
	if (dry_run)
		ctl_out(ctx, "dry run: the map was not changed\n");
}

/* One import at a time: an exclusive lock on MAP.lock. */
static int lock_map(struct ctl_ctx *ctx, const char *map)
{
	mid_buf b = { 0 };
	int fd;

	if (mid_buf_printf(&b, "%s.lock", map) != 0) {
		ctl_error(ctx, NULL, "out of memory");
		return -1;
	}
	fd = open(b.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		ctl_error(ctx, NULL, "%s: %s (does the directory exist?)", b.data, strerror(errno));
		mid_buf_free(&b);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ctl_error(ctx, NULL, "%s: another auth-import is running", b.data);
		close(fd);
		mid_buf_free(&b);
		return -1;
	}
	mid_buf_free(&b);
	return fd;
}

int cmd_auth_import(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const mid_config *cfg;
	const char *path;
	struct input in = { 0 };
	mode_t mode;   /* of the input: not used here */
	struct af_header h = { 0 };
	struct ops ops = { 0 };
	mid_acctmap old = { 0 }, neu = { 0 };
	struct stats st;
	int c, force = 0, dry_run = 0, lock = -1, missing = 0, rc = CTL_EXIT_FAIL;
	long bad;
	char err[600];

	while ((c = getopt_long(argc, argv, "+fnh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'h':
			ctl_usage(ctx, argv[0], NULL);
			return CTL_EXIT_OK;
		default:
			return ctl_usage(ctx, argv[0], NULL);
		}
	}
	if (optind != argc - 1)
		return ctl_usage(ctx, argv[0], "auth-import: give exactly one FILE");
	path = argv[optind];
	if (!(cfg = ctl_config(ctx)))
		return CTL_EXIT_CONFIG;
	if (!cfg->map_file || !*cfg->map_file) {
		ctl_error(ctx, NULL, "%s: [map] file is empty: there is no account map to import into",
		          cfg->path);
		return CTL_EXIT_CONFIG;
	}
	if (!af_name_ok(path))
		ctl_warn(ctx, "%s: the file name does not follow the InfoIMAGE pattern "
		         "CID_auth_YYYYMMDD.txt[.pgp] (importing it anyway)", path);

	if (ctl_read_file(ctx, path, INPUT_MAX_BYTES, "", &in.data, &in.len, &mode) != 0)
		return CTL_EXIT_FAIL;
	if (af_name_encrypted(path) && decrypt(ctx, cfg, path, &in) != 0)
		goto out;

	memset(&st, 0, sizeof(st));
	bad = parse_file(ctx, path, &in, &h, &ops, 0);
	if (bad < 0)
		goto out;
	if (bad > 0) {
		ctl_error(ctx, NULL, "%s: %ld bad line%s; the whole file is refused and the account "
		          "map is unchanged", path, bad, bad == 1 ? "" : "s");
		goto out;
	}
	if (h.unused[0])
		ctl_debug(ctx, 1, "%s: columns not used (never stored): %s", path, h.unused);

	if (!dry_run && (lock = lock_map(ctx, cfg->map_file)) < 0)
		goto out;
	if (mid_acctmap_load(cfg->map_file, MID_ACCTMAP_ANY_GROUP, &old, &missing, err,
	                     sizeof(err)) != 0) {
		ctl_error(ctx, NULL, "%s", err);
		goto out;
	}
	mid_acctmap_sort(&old);
	/* The records' seq must come after the old map's: renumber. */
	for (size_t i = 0; i < ops.n; i++)
		ops.v[i].seq += old.n;
	if (build(ctx, path, &old, &ops, h.incremental, &neu, &st) != 0)
		goto out;
	mid_acctmap_sort(&neu);

	if (!h.incremental && st.old_n > 0 &&
	    st.removed * 100 > (size_t)cfg->map_max_purge_percent * st.old_n) {
		if (!force) {
			ctl_error(ctx, NULL, "%s: this full file would remove %zu of the %zu relationships "
			          "in %s (%zu%%), more than [map] max_purge_percent = %d%%; nothing was "
			          "changed (check the file, or use --force)", path, st.removed, st.old_n,
			          cfg->map_file, st.removed * 100 / st.old_n, cfg->map_max_purge_percent);
			goto out;
		}
		ctl_warn(ctx, "%s: removing %zu of the %zu relationships (--force)", path,
		         st.removed, st.old_n);
	}
	if (!dry_run) {
		char comment[300];
		char when[40] = "";
		time_t now = time(NULL);
		struct tm tm;
		const char *base = strrchr(path, '/');

		if (gmtime_r(&now, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(comment, sizeof(comment), "written by mobileidctl auth-import from %s "
		         "(%s file) at %s; do not edit", base ? base + 1 : path,
		         h.incremental ? "incremental" : "full", when);
		if (mid_acctmap_save(&neu, cfg->map_file, comment, err, sizeof(err)) != 0) {
			ctl_error(ctx, NULL, "%s; the account map is unchanged", err);
			goto out;
		}
	}
	report(ctx, path, cfg->map_file, h.incremental, dry_run, &st, &neu);
	rc = CTL_EXIT_OK;
out:
	if (lock >= 0)
		close(lock);
	mid_acctmap_free(&neu);
	mid_acctmap_free(&old);
	for (size_t i = 0; i < ops.n; i++)
		free(ops.v[i].owned);
	free(ops.v);
	af_header_free(&h);
	input_free(&in);
	return rc;
}

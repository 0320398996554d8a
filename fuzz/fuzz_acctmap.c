/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_acctmap - the account map file (common/acctmap.c) through a
 * temporary file, as mobileidctl auth-import and the modules read it:
 * mid_acctmap_load, then sort, save and load again (the same map);
 * mid_acctmap_identities and mid_acctmap_external_ref (externalref = map)
 * for the first and the last account of the file and for an unknown one. */
#include "config.h"

#include "acctmap.h"
#include "fuzz.h"
#include "mid_config.h"
#include "util.h"

FUZZ_ASAN_DEFAULTS("quarantine_size_mb=16")

static mid_config *cfg;

static void check_message(const char *s)
{
	FUZZ_CHECK(s[0]);
	FUZZ_CHECK(fuzz_valid_utf8(s) && !fuzz_has_control(s));
}

/* mid_acctmap_add's rules, which every loaded relationship meets. */
static void check_rel(const mid_acct_rel *r)
{
	const char *f[4] = { r->account, r->account_type, r->identity, r->user_name };

	FUZZ_CHECK(r->account[0] && r->identity[0]);
	FUZZ_CHECK(r->user_type == 'P' || r->user_type == 'N');
	for (int i = 0; i < 4; i++)
		FUZZ_CHECK(strlen(f[i]) <= 4 * MID_ACCTMAP_FIELD_MAX && !mid_has_ctl(f[i]) &&
		           !strchr(f[i], '\t'));
}

static int last_choice(void *ctx, const char *question, const char *const *options, int n)
{
	(void)ctx;
	FUZZ_CHECK(n >= 2 && question[0]);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(options[i] && options[i][0]);
	return n - 1;
}

/* The identities of account as a login sees them. */
static void check_account(const char *path, const mid_acctmap *m, const char *account)
{
	mid_acct_identity *ids;
	mid_callbacks cb = { .choose = last_choice };
	size_t n, distinct = 0;
	char err[1024] = "", *ref = NULL;
	mid_result res = MID_APPROVED;

	FUZZ_CHECK(mid_acctmap_identities(path, 0, account, &ids, &n, err, sizeof(err)) == 0);
	for (size_t i = 0; i < m->n; i++) {
		int first = !strcmp(m->rel[i].account, account);
		for (size_t j = 0; first && j < i; j++)
			if (!strcmp(m->rel[j].account, account) &&
			    !strcmp(m->rel[j].identity, m->rel[i].identity))
				first = 0;
		distinct += first;
	}
	/* Each identity of the account once, in file order. */
	FUZZ_CHECK(n == distinct);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(ids[i].identity[0] && ids[i].label && ids[i].label[0]);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(ids[i].identity, ids[j].identity) != 0);
	}
	if (mid_acctmap_external_ref(cfg, account, &cb, &ref, &res, err, sizeof(err)) == 0) {
		FUZZ_CHECK(n > 0 && !strcmp(ref, ids[n - 1].identity));
	} else {
		FUZZ_CHECK(n == 0 && res == MID_USER_UNKNOWN);
		check_message(err);
	}
	free(ref);
	mid_acct_identities_free(ids, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = fuzz_tmp_file("in.map"), *out = fuzz_tmp_file("out.map");
	mid_acctmap m, back;
	char err[1024] = "";
	int missing = -1;

	if (!cfg) {
		cfg = mid_config_new();
		FUZZ_CHECK(cfg != NULL);
		free(cfg->map_file);
		cfg->map_file = strdup(in);
		FUZZ_CHECK(cfg->map_file != NULL);
		cfg->load_flags = 0;
	}
	fuzz_write_file(in, data, size);
	if (mid_acctmap_load(in, 0, &m, &missing, err, sizeof(err)) != 0) {
		/* Errors name the file (and the line). */
		FUZZ_CHECK(m.n == 0 && m.rel == NULL && missing == 0);
		FUZZ_CHECK(!strncmp(err, in, strlen(in)));
		check_message(err);
		return 0;
	}
	FUZZ_CHECK(missing == 0);
	for (size_t i = 0; i < m.n; i++)
		check_rel(&m.rel[i]);
	if (m.n) {
		check_account(in, &m, m.rel[0].account);
		check_account(in, &m, m.rel[m.n - 1].account);
	}
	check_account(in, &m, "no such account \x1b[2J");

	/* auth-import's way: sort, save, and the modules read the same map. */
	mid_acctmap_sort(&m);
	for (size_t i = 0; i + 1 < m.n; i++)
		FUZZ_CHECK(mid_acct_rel_cmp(&m.rel[i], &m.rel[i + 1]) < 0);
	FUZZ_CHECK(mid_acctmap_save(&m, out, "fuzz", err, sizeof(err)) == 0);
	FUZZ_CHECK(mid_acctmap_load(out, 0, &back, &missing, err, sizeof(err)) == 0);
	FUZZ_CHECK(back.n == m.n);
	for (size_t i = 0; i < m.n; i++) {
		const mid_acct_rel *a = &m.rel[i], *b = &back.rel[i];
		FUZZ_CHECK(!strcmp(a->account, b->account) && !strcmp(a->account_type, b->account_type) &&
		           !strcmp(a->identity, b->identity) && a->user_type == b->user_type &&
		           !strcmp(a->user_name, b->user_name));
	}
	mid_acctmap_free(&back);
	mid_acctmap_free(&m);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_dqe.c - DQE ID Mobile matching (common/dqe.h): the token and matching
 * parsers on the vendor's sample bodies and on broken ones, every error id,
 * score thresholds (empty-string scores included), phone masking, the
 * person's data, the [dqe] configuration keys, and the checks decided
 * without a network.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dqe.h"
#include "mid_config.h"
#include "testutil.h"
#include "util.h"

#define assert_not_contains(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ && strstr(h_, n_)) \
		fail_msg("\"%s\" contains \"%s\"", h_, n_); \
} while (0)

#define L(s) (s), (sizeof(s) - 1)
#define EPS 1e-9

/* The vendor's sample answer (dqe-idmobile-matching-notp.txt). */
static const char sample_scores[] =
	"{\n"
	"  \"family_name\": 1.0,\n"
	"  \"gender\": \"\",\n"
	"  \"birthdate\": 1.0,\n"
	"  \"given_name\": 1.0,\n"
	"  \"address\": {\n"
	"    \"country\": 1.0,\n"
	"    \"postal_code\": 0.78,\n"
	"    \"street_address\": 0.56,\n"
	"    \"locality\": 0.44\n"
	"  },\n"
	"  \"email\": 1.0\n"
	"}";

static const char sample_error[] =
	"{\n  \"status\": \"error\",\n  \"error_type\": \"invalid phone number\",\n"
	"  \"error_id\": \"10\"\n}";

/* ---- token ------------------------------------------------------------------------ */

static void test_token_ok(void **state)
{
	static const char body[] = "{\"access_token\":\"a1b2.c3\",\"token_type\":\"Bearer\","
	                           "\"expires_in\":\"300\",\"refresh_token\":\"r-9\"}";
	char *tok = NULL, err[200] = "";
	long exp = 0;
	mid_dqe_err e;

	(void)state;
	assert_int_equal(mid_dqe_parse_token(L(body), &tok, &exp, &e, err, sizeof(err)), 0);
	assert_string_equal(tok, "a1b2.c3");
	assert_int_equal(exp, 300);   /* a string at DQE */
	mid_free_secret(tok);

	assert_int_equal(mid_dqe_parse_token(L("{\"access_token\":\"x\",\"expires_in\":120}"),
	                                     &tok, &exp, &e, err, sizeof(err)), 0);
	assert_int_equal(exp, 120);
	mid_free_secret(tok);
	/* A lifetime we cannot read is taken as short. */
	static const char *const odd[] = {
		"{\"access_token\":\"x\"}",
		"{\"access_token\":\"x\",\"expires_in\":\"soon\"}",
		"{\"access_token\":\"x\",\"expires_in\":\"0\"}",
		"{\"access_token\":\"x\",\"expires_in\":\"-5\"}",
		"{\"access_token\":\"x\",\"expires_in\":\" 300\"}",
		"{\"access_token\":\"x\",\"expires_in\":999999}",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(mid_dqe_parse_token(odd[i], strlen(odd[i]), &tok, &exp, &e, err,
		                                     sizeof(err)), 0);
		assert_int_equal(exp, 60);
		mid_free_secret(tok);
	}
}

static void test_token_error_and_garbage(void **state)
{
	static const char *const bad[] = {
		"", "not json", "[]", "\"x\"", "{}", "{\"access_token\":\"\"}",
		"{\"access_token\":\"a b\"}", "{\"access_token\":7}",
		"{\"access_token\":\"x\",\"token_type\":\"MAC\"}",
		"{\"access_token\":\"x\",\"expires_in\":[1]}",
		"{\"access_token\":\"x\"} trailing", "{\"access_token\":\"x\"",
		"{\"access_token\":\"x\\u0000y\"}",
	};
	char *tok = (char *)1, err[200];
	long exp;
	mid_dqe_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (mid_dqe_parse_token(bad[i], strlen(bad[i]), &tok, &exp, &e, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_null(tok);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(mid_dqe_parse_token(L("{\"status\":\"error\",\"error_type\":"
	                                       "\"invalid licence key\",\"error_id\":\"02\"}"),
	                                     &tok, &exp, &e, err, sizeof(err)), 1);
	assert_null(tok);
	assert_string_equal(e.id, "02");
	assert_string_equal(e.type, "invalid licence key");
	/* NULL body with a length of 0: no crash. */
	assert_int_equal(mid_dqe_parse_token(NULL, 0, &tok, &exp, &e, err, sizeof(err)), -1);
}

/* ---- matching ------------------------------------------------------------------------ */

static void test_matching_sample(void **state)
{
	mid_dqe_scores s;
	mid_dqe_err e;
	char err[200];

	(void)state;
	assert_int_equal(mid_dqe_parse_matching(L(sample_scores), &s, &e, err, sizeof(err)), 0);
	assert_float_equal(s.v[MID_DQE_S_FAMILY_NAME], 1.0, EPS);
	assert_float_equal(s.v[MID_DQE_S_GENDER], MID_DQE_NO_SCORE, EPS);   /* "" */
	assert_float_equal(s.v[MID_DQE_S_BIRTHDATE], 1.0, EPS);
	assert_float_equal(s.v[MID_DQE_S_GIVEN_NAME], 1.0, EPS);
	assert_float_equal(s.v[MID_DQE_S_ADDRESS_COUNTRY], 1.0, EPS);
	assert_float_equal(s.v[MID_DQE_S_ADDRESS_POSTAL_CODE], 0.78, EPS);
	assert_float_equal(s.v[MID_DQE_S_ADDRESS_STREET], 0.56, EPS);
	assert_float_equal(s.v[MID_DQE_S_ADDRESS_LOCALITY], 0.44, EPS);
	assert_float_equal(s.v[MID_DQE_S_EMAIL], 1.0, EPS);

	assert_int_equal(mid_dqe_parse_matching(L(sample_error), &s, &e, err, sizeof(err)), 1);
	assert_string_equal(e.id, "10");
	assert_string_equal(e.type, "invalid phone number");
}

static void test_matching_variants(void **state)
{
	mid_dqe_scores s;
	mid_dqe_err e;
	char err[200];

	(void)state;
	/* Integers, numeric strings, null, blanks, absent keys, address "" or absent. */
	assert_int_equal(mid_dqe_parse_matching(L("{\"family_name\":1,\"given_name\":\"0.5\","
	                                          "\"birthdate\":null,\"email\":\"  \","
	                                          "\"address\":\"\"}"), &s, &e, err, sizeof(err)), 0);
	assert_float_equal(s.v[MID_DQE_S_FAMILY_NAME], 1.0, EPS);
	assert_float_equal(s.v[MID_DQE_S_GIVEN_NAME], 0.5, EPS);
	assert_float_equal(s.v[MID_DQE_S_BIRTHDATE], MID_DQE_NO_SCORE, EPS);
	assert_float_equal(s.v[MID_DQE_S_EMAIL], MID_DQE_NO_SCORE, EPS);
	assert_float_equal(s.v[MID_DQE_S_GENDER], MID_DQE_NO_SCORE, EPS);
	for (int i = MID_DQE_S_ADDRESS_COUNTRY; i <= MID_DQE_S_ADDRESS_LOCALITY; i++)
		assert_float_equal(s.v[i], MID_DQE_NO_SCORE, EPS);
	assert_int_equal(mid_dqe_parse_matching(L("{\"address\":{\"locality\":0}}"), &s, &e, err,
	                                        sizeof(err)), 0);
	assert_float_equal(s.v[MID_DQE_S_ADDRESS_LOCALITY], 0.0, EPS);
	assert_float_equal(s.v[MID_DQE_S_FAMILY_NAME], MID_DQE_NO_SCORE, EPS);

	/* Error bodies: the id as a number, a bad id, no id. */
	assert_int_equal(mid_dqe_parse_matching(L("{\"status\":\"error\",\"error_id\":9}"), &s, &e,
	                                        err, sizeof(err)), 1);
	assert_string_equal(e.id, "09");
	assert_string_equal(e.type, "");
	assert_int_equal(mid_dqe_parse_matching(L("{\"status\":\"error\",\"error_id\":\"1\\n0\","
	                                          "\"error_type\":\"x\\u0007y\"}"), &s, &e, err,
	                                        sizeof(err)), 1);
	assert_string_equal(e.id, "");
	assert_null(strchr(e.type, '\a'));
	assert_int_equal(mid_dqe_parse_matching(L("{\"status\":\"ERROR\"}"), &s, &e, err,
	                                        sizeof(err)), 1);
	assert_string_equal(e.id, "");
	assert_int_equal(mid_dqe_parse_matching(L("{\"error_id\":\"16\",\"error_type\":"
	                                          "\"operator Orange unreachable\"}"), &s, &e, err,
	                                        sizeof(err)), 1);
	assert_string_equal(e.id, "16");
}

static void test_matching_garbage(void **state)
{
	static const char *const bad[] = {
		"", "<html>502</html>", "[1.0]", "{}", "{\"unrelated\":1}",
		"{\"family_name\":1.5}", "{\"family_name\":-0.1}", "{\"family_name\":\"abc\"}",
		"{\"family_name\":\"1.0x\"}", "{\"family_name\":true}", "{\"family_name\":[1]}",
		"{\"family_name\":{}}", "{\"address\":5}", "{\"address\":[]}",
		"{\"address\":{\"country\":2}}", "{\"email\":\"nan\"}", "{\"email\":\"inf\"}",
		"{\"email\":1e400}", "{\"family_name\":1.0", "{\"family_name\":1.0}}",
	};
	mid_dqe_scores s;
	mid_dqe_err e;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (mid_dqe_parse_matching(bad[i], strlen(bad[i]), &s, &e, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* Exactly len bytes are read: a longer buffer does not leak in. */
	assert_int_equal(mid_dqe_parse_matching("{\"email\":1}xyz", 11, &s, &e, err, sizeof(err)), 0);
	assert_int_equal(mid_dqe_parse_matching("{\"email\":1}\0{", 13, &s, &e, err, sizeof(err)),
	                 -1);
}

/* ---- error ids ------------------------------------------------------------------------ */

static void test_error_ids(void **state)
{
	static const struct { const char *id; mid_dqe_outcome o; const char *text; } t[] = {
		{ "01", MID_DQE_INTERNAL, "invalid request" },
		{ "02", MID_DQE_CONFIG, "invalid licence key" },
		{ "04", MID_DQE_CONFIG, "invalid scope" },
		{ "05", MID_DQE_INTERNAL, "missing or empty parameter" },
		{ "06", MID_DQE_INTERNAL, "not a valid JSON" },
		{ "07", MID_DQE_INTERNAL, "(phone)" },
		{ "09", MID_DQE_OPERATOR, "ineligible phone number" },
		{ "10", MID_DQE_DENY, "invalid phone number" },
		{ "11", MID_DQE_INTERNAL, "phone number is empty" },
		{ "12", MID_DQE_DENY, "phone check failed" },
		{ "13", MID_DQE_OPERATOR, "not found" },
		{ "14", MID_DQE_OPERATOR, "not authorized" },
		{ "15", MID_DQE_OPERATOR, "not supported yet" },
		{ "16", MID_DQE_OPERATOR, "unreachable" },
		{ "17", MID_DQE_OPERATOR, "scope not supported" },
		{ "30", MID_DQE_TOKEN_EXPIRED, "expired token" },
	};
	static const char *const unknown[] = { "03", "08", "18", "29", "31", "99", "1", "", "10 " };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mid_dqe_error_outcome(t[i].id) != t[i].o)
			fail_msg("error %s: %s", t[i].id, mid_dqe_outcome_name(mid_dqe_error_outcome(t[i].id)));
		assert_contains(mid_dqe_error_text(t[i].id), t[i].text);
	}
	/* Undocumented ids: the service misbehaves, on_error decides. */
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_int_equal(mid_dqe_error_outcome(unknown[i]), MID_DQE_OPERATOR);
		assert_string_equal(mid_dqe_error_text(unknown[i]), "unknown error id");
	}
	assert_int_equal(mid_dqe_error_outcome(NULL), MID_DQE_OPERATOR);
	assert_string_equal(mid_dqe_outcome_name(MID_DQE_PASS), "pass");
	assert_string_equal(mid_dqe_outcome_name((mid_dqe_outcome)77), "unknown");
}

/* ---- judging --------------------------------------------------------------------------- */

static void no_thresholds(double min[MID_DQE_SCORE_COUNT])
{
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
		min[i] = -1;
}

static void test_judge_each_field(void **state)
{
	double min[MID_DQE_SCORE_COUNT];
	mid_dqe_scores s;
	char detail[400];

	(void)state;
	for (int f = 0; f < MID_DQE_SCORE_COUNT; f++) {
		char want[80];
		no_thresholds(min);
		for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
			s.v[i] = 0.1;   /* every other field scores low: not judged */
		min[f] = 0.8;
		s.v[f] = 0.8;       /* exactly the minimum passes */
		assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 1);
		snprintf(want, sizeof(want), "%s=0.80>=0.80", mid_dqe_score_name((mid_dqe_score)f));
		assert_contains(detail, want);
		s.v[f] = 0.79;
		assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 0);
		snprintf(want, sizeof(want), "%s=0.79<0.80", mid_dqe_score_name((mid_dqe_score)f));
		assert_contains(detail, want);
		s.v[f] = MID_DQE_NO_SCORE;   /* "": a judged field without a score fails */
		assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 0);
		snprintf(want, sizeof(want), "%s=none<0.80", mid_dqe_score_name((mid_dqe_score)f));
		assert_contains(detail, want);
		s.v[f] = 1.0;
		assert_int_equal(mid_dqe_judge(min, &s, NULL, 0), 1);
	}
}

static void test_judge_mixed(void **state)
{
	double min[MID_DQE_SCORE_COUNT];
	mid_dqe_scores s;
	mid_dqe_err e;
	char detail[400], err[200];

	(void)state;
	no_thresholds(min);
	assert_int_equal(mid_dqe_parse_matching(L(sample_scores), &s, &e, err, sizeof(err)), 0);
	/* Nothing judged: passes, every score is reported, the empty one is not. */
	assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 1);
	assert_contains(detail, "family_name=1.00");
	assert_contains(detail, "address.locality=0.44");
	assert_not_contains(detail, "gender");
	/* gender is "" in the sample: not judged, no harm; judged, a failure. */
	min[MID_DQE_S_FAMILY_NAME] = 0.9;
	min[MID_DQE_S_ADDRESS_POSTAL_CODE] = 0.7;
	assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 1);
	min[MID_DQE_S_GENDER] = 0;
	assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 0);
	assert_contains(detail, "gender=none<0.00");
	min[MID_DQE_S_GENDER] = -1;
	min[MID_DQE_S_ADDRESS_LOCALITY] = 0.45;
	assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 0);
	assert_contains(detail, "address.locality=0.44<0.45");
	assert_contains(detail, "family_name=1.00>=0.90");
	/* A minimum of 0 accepts any score, even 0. */
	no_thresholds(min);
	min[MID_DQE_S_EMAIL] = 0;
	s.v[MID_DQE_S_EMAIL] = 0;
	assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 1);
	/* No scores at all, nothing judged. */
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
		s.v[i] = MID_DQE_NO_SCORE;
	no_thresholds(min);
	assert_int_equal(mid_dqe_judge(min, &s, detail, sizeof(detail)), 1);
	assert_string_equal(detail, "no scores");
	/* A tiny buffer is cut, never overrun. */
	s.v[0] = 0.5;
	min[0] = 0.9;
	assert_int_equal(mid_dqe_judge(min, &s, detail, 5), 0);
	assert_true(strlen(detail) < 5);
}

static void test_score_names_and_sources(void **state)
{
	(void)state;
	assert_string_equal(mid_dqe_score_name(MID_DQE_S_FAMILY_NAME), "family_name");
	assert_string_equal(mid_dqe_score_name(MID_DQE_S_ADDRESS_STREET), "address.street_address");
	assert_string_equal(mid_dqe_score_name(MID_DQE_SCORE_COUNT), "?");
	assert_int_equal(mid_dqe_score_source(MID_DQE_S_FAMILY_NAME), MID_DQE_LASTNAME);
	assert_int_equal(mid_dqe_score_source(MID_DQE_S_GIVEN_NAME), MID_DQE_FIRSTNAME);
	assert_int_equal(mid_dqe_score_source(MID_DQE_S_ADDRESS_POSTAL_CODE), MID_DQE_POSTAL_CODE);
	assert_string_equal(mid_dqe_info_key(MID_DQE_NUMBER), "number");
	assert_string_equal(mid_dqe_info_key(MID_DQE_INFO_COUNT), "?");
}

/* ---- phone numbers ------------------------------------------------------------------------ */

static void test_mask_phone(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "+33612345678", "+33*******78" },
		{ "0612345678", "061*****78" },
		{ "12345678", "123***78" },
		{ "1234567", "*****67" },
		{ "123", "*23" },
		{ "12", "**" },
		{ "", "" },
		{ "+33 6 12 34 56 78", "+33************78" },   /* blanks are masked too */
		{ "ab-cd-ef-gh", "***********" },              /* letters are never shown */
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mid_dqe_mask_phone(t[i].in, out, sizeof(out));
		assert_string_equal(out, t[i].out);
	}
	mid_dqe_mask_phone(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	mid_dqe_mask_phone("+33612345678", out, 5);
	assert_string_equal(out, "+33*");
	mid_dqe_mask_phone("+33612345678", NULL, 0);   /* no crash */
}

static void test_normalize_phone(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "+33612345678", "+33612345678" },
		{ "+33 6 12.34-56(78)", "+33612345678" },
		{ "06 12 34 56 78", "0612345678" },
		{ "123456", "123456" },
		{ "+1 (503) 000-0001", "+15030000001" },
	};
	static const char *const bad[] = {
		"", "abc", "12345", "++33612345678", "33+612345678", "0612345678x",
		"123456789012345678901", "+", "06 12 34 56 78\n", "0612345678\xc2\xa0",
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(mid_dqe_normalize_phone(ok[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mid_dqe_normalize_phone(bad[i], out, sizeof(out)) != -1)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(mid_dqe_normalize_phone("+33612345678", out, 8), -1);   /* too small */
	assert_int_equal(mid_dqe_normalize_phone(NULL, out, sizeof(out)), -1);
}

/* ---- the person ------------------------------------------------------------------------- */

static void test_split_name(void **state)
{
	static const struct { const char *in, *given, *family; } t[] = {
		{ "Jean Dupont", "Jean", "Dupont" },
		{ "Jean de la Fontaine,Room 4,555-1234,,", "Jean", "de la Fontaine" },
		{ "  Alice \t Martin  ", "Alice", "Martin" },
		{ "Dupont", "", "Dupont" },
		{ "Dupont,,,", "", "Dupont" },
		{ "", "", "" },
		{ ",Room 4", "", "" },
		{ "Élodie Müller", "Élodie", "Müller" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *g, *f;
		assert_int_equal(mid_dqe_split_name(t[i].in, &g, &f), 0);
		assert_string_equal(g, t[i].given);
		assert_string_equal(f, t[i].family);
		free(g);
		free(f);
	}
}

static mid_config *dqe_config(void)
{
	mid_config *cfg = mid_config_new();

	assert_non_null(cfg);
	return cfg;
}

static void set(mid_config *cfg, const char *key, const char *value)
{
	char err[512] = "";

	if (mid_config_set(cfg, key, value, "test", err, sizeof(err)) != 0)
		fail_msg("%s = %s: %s", key, value, err);
}

static void test_person_from_attributes(void **state)
{
	static const char body[] =
		"{\"id\":\"u1\",\"state\":\"ACTIVE\",\"attributes\":{"
		"\"mobileNumber\":\" +33 6 12 34 56 78 \",\"firstName\":\"Alice\","
		"\"lastname\":\"Martin\",\"email\":\"a@example.org\",\"birthdate\":\"1980-01-02\","
		"\"city\":\"Paris\",\"postalCode\":\"75001\",\"gender\":\"F\",\"age\":44,"
		"\"street_address\":\"rue de Rivoli\",\"streetNumber\":\"3\",\"country\":\"France\","
		"\"maidenName\":\"Durand\"}}";
	mid_config *cfg = dqe_config();
	mid_dqe_person p;
	char err[200];

	(void)state;
	assert_int_equal(mid_dqe_person_from_user(cfg, L(body), "Gecos Name", &p, err,
	                                          sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_PHONE], "+33 6 12 34 56 78");   /* trimmed */
	assert_string_equal(p.v[MID_DQE_FIRSTNAME], "Alice");
	assert_string_equal(p.v[MID_DQE_LASTNAME], "Martin");
	assert_string_equal(p.v[MID_DQE_MAIDEN_NAME], "Durand");
	assert_string_equal(p.v[MID_DQE_EMAIL], "a@example.org");
	assert_string_equal(p.v[MID_DQE_BIRTHDATE], "1980-01-02");
	assert_string_equal(p.v[MID_DQE_LOCALITY], "Paris");
	assert_string_equal(p.v[MID_DQE_POSTAL_CODE], "75001");
	assert_string_equal(p.v[MID_DQE_GENDER], "F");
	assert_string_equal(p.v[MID_DQE_STREET_ADDRESS], "rue de Rivoli");
	assert_string_equal(p.v[MID_DQE_NUMBER], "3");
	assert_string_equal(p.v[MID_DQE_COUNTRY], "France");
	assert_int_equal(p.from_gecos, 0);   /* the attributes had the names */
	mid_dqe_person_free(&p);

	/* Other attribute names, from the configuration. */
	set(cfg, "dqe.attr_phone", "tel, gsm");
	set(cfg, "attr_lastname", "surname");
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"attributes\":{\"gsm\":\"0611\","
	                                                 "\"tel\":\"  \",\"surname\":\"Roy\","
	                                                 "\"mobileNumber\":\"+1\"}}"), NULL, &p,
	                                          err, sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_PHONE], "0611");   /* tel is blank: the next one */
	assert_string_equal(p.v[MID_DQE_LASTNAME], "Roy");
	assert_string_equal(p.v[MID_DQE_FIRSTNAME], "");
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++)
		assert_non_null(p.v[f]);
	mid_dqe_person_free(&p);

	/* Not a user object. */
	assert_int_equal(mid_dqe_person_from_user(cfg, L("[1]"), NULL, &p, err, sizeof(err)), -1);
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"id\""), NULL, &p, err, sizeof(err)), -1);
	mid_config_free(cfg);
}

static void test_person_name_fallbacks(void **state)
{
	mid_config *cfg = dqe_config();
	mid_dqe_person p;
	char err[200];

	(void)state;
	/* The fullName attribute first. */
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"attributes\":{\"fullName\":"
	                                                 "\"John Doe\",\"phone\":\"+15030000001\"}}"),
	                                          "Gecos Person", &p, err, sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_FIRSTNAME], "John");
	assert_string_equal(p.v[MID_DQE_LASTNAME], "Doe");
	assert_int_equal(p.from_gecos, 0);
	mid_dqe_person_free(&p);

	/* GECOS for what is missing: only the missing one. */
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"attributes\":{\"lastname\":\"Roy\"}}"),
	                                          "Jeanne Durand,Room 1", &p, err, sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_FIRSTNAME], "Jeanne");
	assert_string_equal(p.v[MID_DQE_LASTNAME], "Roy");
	assert_int_equal(p.from_gecos, 1u << MID_DQE_FIRSTNAME);
	mid_dqe_person_free(&p);

	/* No attributes at all (or not an object). */
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"id\":\"u\",\"attributes\":\"x\"}"),
	                                          "Jeanne Durand", &p, err, sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_LASTNAME], "Durand");
	assert_int_equal(p.from_gecos, (1u << MID_DQE_FIRSTNAME) | (1u << MID_DQE_LASTNAME));
	mid_dqe_person_free(&p);

	/* gecos_fallback = no */
	set(cfg, "gecos_fallback", "no");
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"id\":\"u\"}"), "Jeanne Durand", &p, err,
	                                          sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_FIRSTNAME], "");
	assert_string_equal(p.v[MID_DQE_LASTNAME], "");
	mid_dqe_person_free(&p);
	mid_config_free(cfg);
}

/* Found by fuzz/fuzz_dqe_person: a Latin-1 GECOS name, or a byte json-c
 * let through in an attribute, made user_infos invalid UTF-8, which DQE
 * refuses as "not a valid JSON" (error 06: an internal error); control
 * characters left blanks around a name. */
static void test_person_values_clean(void **state)
{
	mid_config *cfg = dqe_config();
	mid_dqe_person p;
	char err[200], *infos, *given, *family;
	json_tokener *tok;
	json_object *obj;

	(void)state;
	assert_int_equal(mid_dqe_person_from_user(cfg, L("{\"attributes\":{\"phone\":"
	                                                 "\"+33 6 12\xa6 34\",\"email\":"
	                                                 "\"\\u0007 a@b.example\"}}"),
	                                          "Jos\xe9 Garc\xed" "a,\x1c", &p, err, sizeof(err)), 0);
	assert_string_equal(p.v[MID_DQE_FIRSTNAME], "Jos?");
	assert_string_equal(p.v[MID_DQE_LASTNAME], "Garc?a");
	assert_string_equal(p.v[MID_DQE_PHONE], "+33 6 12? 34");
	assert_string_equal(p.v[MID_DQE_EMAIL], "a@b.example");
	infos = mid_dqe_user_infos_json(&p);
	assert_non_null(infos);
	assert_true(mid_utf8_valid(infos));
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, infos, (int)strlen(infos));
	assert_non_null(obj);
	json_object_put(obj);
	json_tokener_free(tok);
	free(infos);
	mid_dqe_person_free(&p);

	/* A control character between blanks: no blank left around the name. */
	assert_int_equal(mid_dqe_split_name("\xff\t\x1c Durand ", &given, &family), 0);
	assert_string_equal(given, "?");
	assert_string_equal(family, "Durand");
	free(given);
	free(family);
	mid_config_free(cfg);
}

static void test_user_infos_json(void **state)
{
	mid_dqe_person p = { 0 };
	json_object *obj, *v;
	char *s;
	int n = 0;

	(void)state;
	p.v[MID_DQE_PHONE] = strdup("+33612345678");
	p.v[MID_DQE_LASTNAME] = strdup("O'Brien \"the\" \\ / é\n");
	s = mid_dqe_user_infos_json(&p);
	assert_non_null(s);
	obj = json_tokener_parse(s);
	assert_non_null(obj);
	json_object_object_foreach(obj, key, val) {
		(void)key;
		assert_true(json_object_is_type(val, json_type_string));
		n++;
	}
	assert_int_equal(n, 12);
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++)
		assert_true(json_object_object_get_ex(obj, mid_dqe_info_key((mid_dqe_info)f), &v));
	json_object_object_get_ex(obj, "phone", &v);
	assert_string_equal(json_object_get_string(v), "+33612345678");
	json_object_object_get_ex(obj, "lastname", &v);
	assert_string_equal(json_object_get_string(v), "O'Brien \"the\" \\ / é\n");
	json_object_object_get_ex(obj, "maiden_name", &v);
	assert_string_equal(json_object_get_string(v), "");
	json_object_put(obj);
	free(s);
	mid_dqe_person_free(&p);
}

static void test_gecos_lookup(void **state)
{
	char *name;

	(void)state;
	/* An account that does not exist has no GECOS; root has a passwd entry. */
	assert_null(mid_dqe_gecos_name("no-such-user-mobileid-test"));
	assert_null(mid_dqe_gecos_name(""));
	assert_null(mid_dqe_gecos_name(NULL));
	name = mid_dqe_gecos_name("root");
	if (name) {
		assert_null(strchr(name, ','));
		assert_true(*name != '\0');
		free(name);
	}
}

/* ---- configuration ------------------------------------------------------------------------- */

static void test_config_defaults(void **state)
{
	mid_config *cfg = dqe_config();

	(void)state;
	assert_int_equal(cfg->dqe_enabled, 0);
	assert_int_equal(cfg->dqe_mode, 2);
	assert_int_equal(cfg->dqe_on_error, MID_DQE_ON_ERROR_DENY);
	assert_int_equal(cfg->dqe_timeout_ms, 10000);
	assert_int_equal(cfg->dqe_gecos_fallback, 1);
	assert_string_equal(cfg->dqe_country, "");
	assert_string_equal(cfg->dqe_code_name, "");
	assert_null(cfg->dqe_server);
	assert_null(cfg->dqe_licence);
	assert_string_equal(cfg->dqe_attr[MID_DQE_PHONE], "mobileNumber,phone");
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
		assert_true(cfg->dqe_min[i] < 0);   /* nothing judged */
	/* Disabled: the [dqe] keys are not required. */
	set(cfg, "client_id", "id");
	set(cfg, "client_secret", "pw");
	{
		char err[512] = "";
		assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), 0);
	}
	mid_config_free(cfg);
}

static void test_config_values(void **state)
{
	static const struct { const char *key, *value; } bad[] = {
		{ "dqe.min_family_name", "1.5" }, { "dqe.min_family_name", "-0.1" },
		{ "dqe.min_family_name", "abc" }, { "dqe.min_family_name", "0,5" },
		{ "dqe.min_email", ".5" }, { "dqe.min_email", "0.5x" }, { "dqe.min_email", "1e-1" },
		{ "dqe.min_email", "nan" }, { "dqe.min_email", " 0.5" },
		{ "dqe.country", "FRA" }, { "dqe.country", "F1" }, { "dqe.country", "F" },
		{ "dqe.server", "https://dqe.example" }, { "dqe.server", "dqe.example/IDMOBILE" },
		{ "dqe.server", "dqe.example:0" }, { "dqe.server", "dqe.example:99999" },
		{ "dqe.server", "dqe.example:" }, { "dqe.server", "-dqe" }, { "dqe.server", "[::1" },
		{ "dqe.server", "a b" }, { "dqe.server", "user@host" },
		{ "dqe.on_error", "skip" }, { "dqe.on_error", "DENY" },
		{ "dqe.attr_phone", "a b" }, { "dqe.attr_phone", "a,,b" }, { "dqe.attr_phone", "a," },
		{ "dqe.attr_phone", "é" }, { "dqe.mode", "0" }, { "dqe.mode", "x" },
		{ "dqe.timeout", "100ms" }, { "dqe.enabled", "maybe" }, { "dqe.licence", "a\nb" },
	};
	mid_config *cfg = dqe_config();
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (mid_config_set(cfg, bad[i].key, bad[i].value, "f:3", err, sizeof(err)) == 0)
			fail_msg("%s = '%s' accepted", bad[i].key, bad[i].value);
		assert_contains(err, "f:3: [dqe] ");
	}
	set(cfg, "dqe.min_family_name", "0.8");
	assert_float_equal(cfg->dqe_min[MID_DQE_S_FAMILY_NAME], 0.8, EPS);
	set(cfg, "min_address_locality", "1");
	assert_float_equal(cfg->dqe_min[MID_DQE_S_ADDRESS_LOCALITY], 1.0, EPS);
	set(cfg, "min_email", "0");
	assert_float_equal(cfg->dqe_min[MID_DQE_S_EMAIL], 0.0, EPS);
	set(cfg, "min_email", "");   /* back to not judged */
	assert_true(cfg->dqe_min[MID_DQE_S_EMAIL] < 0);
	set(cfg, "dqe.country", "fr");
	assert_string_equal(cfg->dqe_country, "FR");
	set(cfg, "dqe.server", "idmobile.dqe-software.com");
	set(cfg, "dqe.server", "127.0.0.1:8443");
	set(cfg, "dqe.server", "[::1]:8443");
	assert_string_equal(cfg->dqe_server, "[::1]:8443");
	set(cfg, "dqe.on_error", "skip_check");
	assert_int_equal(cfg->dqe_on_error, MID_DQE_ON_ERROR_SKIP);
	set(cfg, "dqe.attr_phone", " tel ,gsm");
	set(cfg, "dqe.attr_email", "");
	set(cfg, "dqe.timeout", "3");
	assert_int_equal(cfg->dqe_timeout_ms, 3000);
	mid_config_free(cfg);
}

/* [dqe] enabled with everything but the secret set (and the Signicat
 * credentials). */
static mid_config *enabled_config(void)
{
	mid_config *cfg = dqe_config();

	set(cfg, "client_id", "id");
	set(cfg, "client_secret", "pw");
	set(cfg, "dqe.enabled", "yes");
	set(cfg, "dqe.server", "127.0.0.1:1");
	set(cfg, "dqe.licence", "L");
	set(cfg, "dqe.partner_name", "ACME");
	return cfg;
}

static void test_config_finish(void **state)
{
	static const char *const need[] = { "server", "licence", "partner_name", "secret" };
	char err[512], path[] = "/tmp/test_dqe_secret_XXXXXX";
	mid_config *cfg;
	int fd;

	(void)state;
	for (size_t miss = 0; miss < 4; miss++) {
		cfg = dqe_config();
		set(cfg, "client_id", "id");
		set(cfg, "client_secret", "pw");
		set(cfg, "dqe.enabled", "yes");
		if (miss != 0)
			set(cfg, "dqe.server", "127.0.0.1:1");
		if (miss != 1)
			set(cfg, "dqe.licence", "L");
		if (miss != 2)
			set(cfg, "dqe.partner_name", "ACME");
		if (miss != 3)
			set(cfg, "dqe.secret", "S");
		err[0] = '\0';
		assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
		assert_contains(err, "[dqe] ");
		assert_contains(err, need[miss]);
		mid_config_free(cfg);
	}
	/* secret_file: read (first line), exclusive with secret. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "file-secret\nsecond\n", 19), 19);
	close(fd);
	cfg = enabled_config();
	set(cfg, "dqe.secret_file", path);
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->dqe_secret, "file-secret");
	assert_string_equal(cfg->client_secret, "pw");   /* untouched */
	set(cfg, "dqe.secret", "S");
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	assert_contains(err, "either secret or secret_file");
	mid_config_free(cfg);
	/* The phone attribute may not be switched off. */
	cfg = enabled_config();
	set(cfg, "dqe.secret", "S");
	set(cfg, "dqe.attr_phone", "");
	assert_int_equal(mid_config_finish(cfg, err, sizeof(err)), -1);
	assert_contains(err, "attr_phone");
	mid_config_free(cfg);
	unlink(path);
}

/* ---- the check, where no request is needed or the server is down ---------------------------- */

struct logs {
	char text[4096];
};

static void collect(void *ctx, int priority, const char *msg)
{
	struct logs *l = ctx;
	size_t used = strlen(l->text);

	(void)priority;
	snprintf(l->text + used, sizeof(l->text) - used, "%s\n", msg);
}

static mid_config *check_config(void)
{
	mid_config *cfg = dqe_config();

	set(cfg, "dqe.enabled", "yes");
	set(cfg, "dqe.server", "127.0.0.1:1");   /* nothing listens on port 1 */
	set(cfg, "dqe.licence", "LIC-1");
	set(cfg, "dqe.secret", "S");
	set(cfg, "dqe.partner_name", "ACME");
	set(cfg, "cache_dir", "");
	set(cfg, "connect_timeout", "1");
	set(cfg, "dqe.timeout", "3");
	return cfg;
}

static void test_check_local_denials(void **state)
{
	static const struct { const char *body; const char *why; } t[] = {
		{ "{\"id\":\"u\",\"attributes\":{\"lastname\":\"Martin\"}}", "no phone number attribute" },
		{ "{\"id\":\"u\",\"attributes\":{\"phone\":\"call me 0612345678\"}}", "not a phone number" },
		{ "{\"id\":\"u\",\"attributes\":{\"phone\":\"+33612345678\"}}", "family_name" },
	};
	mid_config *cfg = check_config();
	struct logs logs;
	mid_dqe *d;

	(void)state;
	set(cfg, "gecos_fallback", "no");
	set(cfg, "min_family_name", "0.5");
	d = mid_dqe_new(cfg, NULL, NULL);
	assert_non_null(d);
	mid_dqe_set_log(d, collect, &logs);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		logs.text[0] = '\0';
		assert_int_equal(mid_dqe_check(d, "alice", t[i].body, strlen(t[i].body), 0),
		                 MID_PHONE_UNVERIFIED);
		assert_contains(mid_dqe_error(d), t[i].why);
		assert_contains(logs.text, "user=alice");
		assert_not_contains(logs.text, "Martin");
		assert_not_contains(logs.text, "0612345678");
		assert_not_contains(logs.text, "LIC-1");
	}
	assert_contains(mid_dqe_error(d), "+33*******78");
	assert_int_equal(mid_dqe_requests(d), 0);   /* decided without asking DQE */
	assert_int_equal(mid_dqe_token_fetches(d), 0);
	mid_dqe_free(d);
	mid_config_free(cfg);
}

static void test_check_service_down(void **state)
{
	static const char body[] = "{\"id\":\"u\",\"attributes\":{\"phone\":\"+33612345678\","
	                           "\"lastname\":\"Martin\"}}";
	mid_config *cfg = check_config();
	struct logs logs = { "" };
	mid_dqe *d;

	(void)state;
	mid_dqe_forget_token();
	d = mid_dqe_new(cfg, NULL, NULL);
	mid_dqe_set_log(d, collect, &logs);
	/* on_error = deny (the default) */
	assert_int_equal(mid_dqe_check(d, "bob", L(body), 0), MID_PHONE_UNVERIFIED);
	assert_contains(mid_dqe_error(d), "get DQE token");
	assert_contains(logs.text, "user=bob operation=get DQE token phone=+33*******78");
	assert_contains(logs.text, "on_error = deny");
	assert_int_equal(mid_dqe_token_check(d, 1, 0), MID_UNAVAILABLE);
	mid_dqe_free(d);
	/* on_error = skip_check: the push goes on, with a warning */
	set(cfg, "on_error", "skip_check");
	logs.text[0] = '\0';
	d = mid_dqe_new(cfg, NULL, NULL);
	mid_dqe_set_log(d, collect, &logs);
	assert_int_equal(mid_dqe_check(d, "bob", L(body), 0), MID_APPROVED);
	assert_contains(logs.text, "skip_check");
	assert_not_contains(logs.text, "Martin");
	assert_not_contains(logs.text, "LIC-1");
	mid_dqe_free(d);
	mid_config_free(cfg);
}

static int abort_now(void *ctx)
{
	(void)ctx;
	return 1;
}

static void test_check_aborted(void **state)
{
	static const char body[] = "{\"attributes\":{\"phone\":\"+33612345678\"}}";
	mid_config *cfg = check_config();
	mid_dqe *d;

	(void)state;
	set(cfg, "on_error", "skip_check");   /* an abort is not a service failure */
	d = mid_dqe_new(cfg, abort_now, NULL);
	assert_int_equal(mid_dqe_check(d, "carol", L(body), 0), MID_CANCELLED);
	mid_dqe_free(d);
	mid_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_ok),
		cmocka_unit_test(test_token_error_and_garbage),
		cmocka_unit_test(test_matching_sample),
		cmocka_unit_test(test_matching_variants),
		cmocka_unit_test(test_matching_garbage),
		cmocka_unit_test(test_error_ids),
		cmocka_unit_test(test_judge_each_field),
		cmocka_unit_test(test_judge_mixed),
		cmocka_unit_test(test_score_names_and_sources),
		cmocka_unit_test(test_mask_phone),
		cmocka_unit_test(test_normalize_phone),
		cmocka_unit_test(test_split_name),
		cmocka_unit_test(test_person_from_attributes),
		cmocka_unit_test(test_person_name_fallbacks),
		cmocka_unit_test(test_person_values_clean),
		cmocka_unit_test(test_user_infos_json),
		cmocka_unit_test(test_gecos_lookup),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_config_finish),
		cmocka_unit_test(test_check_local_denials),
		cmocka_unit_test(test_check_service_down),
		cmocka_unit_test(test_check_aborted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

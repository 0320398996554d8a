/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_dqe_person - the person DQE is asked about: a GET /users/{id}
 * answer and a GECOS full name (mid_dqe_person_from_user with the default
 * [dqe] attr_* settings), the user_infos JSON made of it
 * (mid_dqe_user_infos_json, re-parsed with json-c), and the hostile-string
 * helpers mid_dqe_normalize_phone, mid_dqe_mask_phone, mid_dqe_split_name.
 *
 * Input: the user body, then optionally a NUL byte and the GECOS name. */
#include "config.h"

#include <json-c/json.h>

#include "dqe.h"
#include "fuzz.h"
#include "mid_config.h"
#include "util.h"

static mid_config *cfg;

/* Without surrounding blanks. */
static int trimmed(const char *s)
{
	size_t n = strlen(s);

	return !n || (!strchr(" \t", s[0]) && !strchr(" \t", s[n - 1]));
}

/* mid_dqe_normalize_phone into an exact-size buffer: "+" then digits, 6 to
 * 20 of them. */
static void check_phone(const char *in, size_t outlen)
{
	char *out = malloc(outlen), masked[40];
	size_t n;

	FUZZ_CHECK(out != NULL);
	if (mid_dqe_normalize_phone(in, out, outlen) == 0) {
		const char *d = out + (out[0] == '+');
		n = strlen(d);
		FUZZ_CHECK(strlen(out) < outlen);
		FUZZ_CHECK(n >= 6 && n <= 20 && strspn(d, "0123456789") == n);
		/* The masked number for logs shows at most 5 digits. */
		mid_dqe_mask_phone(out, masked, sizeof(masked));
		FUZZ_CHECK(strlen(masked) == strlen(out));
		FUZZ_CHECK(strspn(masked, "+*0123456789") == strlen(masked));
		n = 0;
		for (const char *m = masked; *m; m++)
			n += *m != '*';
		FUZZ_CHECK(n <= 5);
	}
	/* A raw value is masked too: only digits, '+' and '*' come out. */
	mid_dqe_mask_phone(in, masked, sizeof(masked));
	n = strlen(masked);
	FUZZ_CHECK(n < sizeof(masked) && strspn(masked, "+*0123456789") == n);
	free(out);
}

static void check_split(const char *full)
{
	char *given = NULL, *family = NULL;

	FUZZ_CHECK(mid_dqe_split_name(full, &given, &family) == 0);
	FUZZ_CHECK(given && family);
	FUZZ_CHECK(strlen(given) <= 256 && strlen(family) <= 256);
	FUZZ_CHECK(fuzz_valid_utf8(given) && !fuzz_has_control(given));
	FUZZ_CHECK(fuzz_valid_utf8(family) && !fuzz_has_control(family));
	/* Only the first GECOS field; the given name is one word. */
	FUZZ_CHECK(!strchr(given, ',') && !strchr(family, ','));
	FUZZ_CHECK(!strpbrk(given, " \t"));
	FUZZ_CHECK(trimmed(given) && trimmed(family));
	/* A name before the first comma gives at least a family name. */
	if (fuzz_valid_utf8(full) && !fuzz_has_control(full) && full[strspn(full, " \t")] &&
	    full[strspn(full, " \t")] != ',')
		FUZZ_CHECK(*family);
	mid_free_secret(given);
	mid_free_secret(family);
}

/* The JSON sent to DQE: an object of the 12 keys, each the person's value. */
static void check_infos(const mid_dqe_person *p)
{
	char *infos = mid_dqe_user_infos_json(p);
	json_tokener *tok;
	json_object *obj, *v;

	FUZZ_CHECK(infos != NULL);
	/* DQE refuses a user_infos that is not JSON text (error 06). */
	FUZZ_CHECK(fuzz_valid_utf8(infos));
	tok = json_tokener_new();
	FUZZ_CHECK(tok != NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, infos, (int)strlen(infos));
	FUZZ_CHECK(obj && json_tokener_get_error(tok) == json_tokener_success);
	FUZZ_CHECK(json_tokener_get_parse_end(tok) == strlen(infos));
	FUZZ_CHECK(json_object_is_type(obj, json_type_object));
	FUZZ_CHECK(json_object_object_length(obj) == MID_DQE_INFO_COUNT);
	for (int f = 0; f < MID_DQE_INFO_COUNT; f++) {
		FUZZ_CHECK(json_object_object_get_ex(obj, mid_dqe_info_key((mid_dqe_info)f), &v));
		FUZZ_CHECK(json_object_is_type(v, json_type_string));
		FUZZ_CHECK((size_t)json_object_get_string_len(v) == strlen(p->v[f]));
		FUZZ_CHECK(!strcmp(json_object_get_string(v), p->v[f]));
	}
	json_object_put(obj);
	json_tokener_free(tok);
	mid_free_secret(infos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t blen = nul ? (size_t)(nul - data) : size;
	char *body = fuzz_copy(data, blen), *gecos = NULL, err[256] = "";
	mid_dqe_person p;

	if (!cfg) {
		cfg = mid_config_new();
		FUZZ_CHECK(cfg != NULL && cfg->dqe_gecos_fallback);
	}
	if (nul)
		gecos = fuzz_str(nul + 1, size - blen - 1);

	if (mid_dqe_person_from_user(cfg, body, blen, gecos, &p, err, sizeof(err)) == 0) {
		for (int f = 0; f < MID_DQE_INFO_COUNT; f++) {
			FUZZ_CHECK(p.v[f] != NULL);
			FUZZ_CHECK(strlen(p.v[f]) <= 256);
			FUZZ_CHECK(fuzz_valid_utf8(p.v[f]) && !fuzz_has_control(p.v[f]));
			FUZZ_CHECK(trimmed(p.v[f]));
		}
		/* Names from GECOS only where the user object had none. */
		FUZZ_CHECK((p.from_gecos & ~(1u << MID_DQE_FIRSTNAME | 1u << MID_DQE_LASTNAME)) == 0);
		if (!gecos)
			FUZZ_CHECK(p.from_gecos == 0);
		check_infos(&p);
		check_phone(p.v[MID_DQE_PHONE], 32);
		mid_dqe_person_free(&p);
		for (int f = 0; f < MID_DQE_INFO_COUNT; f++)
			FUZZ_CHECK(p.v[f] == NULL);
	} else {
		FUZZ_CHECK(err[0]);
	}
	if (gecos) {
		check_split(gecos);
		check_phone(gecos, 2 + size % 30);
	}
	free(gecos);
	free(body);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_dqe_matching - DQE's /IDMOBILE/ answer (mid_dqe_parse_matching):
 * scores or a DQE error body; the scores are then judged (mid_dqe_judge)
 * against thresholds taken from the input's first byte. */
#include "config.h"

#include "dqe.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body, err[256] = "", detail[512];
	double min[MID_DQE_SCORE_COUNT];
	mid_dqe_scores s;
	mid_dqe_err e;
	int rc, pass;

	if (size < 1)
		return 0;
	/* Bits 0 to 6 of the first byte: scores 0 to 6 are judged, minimum
	 * 0.5; bit 7: the family name is judged with minimum 0 (any score
	 * passes, none fails). */
	for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
		min[i] = i < 7 && (data[0] >> i & 1) ? 0.5 : -1;
	if (data[0] & 0x80)
		min[MID_DQE_S_FAMILY_NAME] = 0;
	body = fuzz_copy(data + 1, size - 1);
	rc = mid_dqe_parse_matching(body, size - 1, &s, &e, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1);
	if (rc == 0) {
		/* Every score is "none" or a number from 0 to 1. */
		for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
			FUZZ_CHECK(s.v[i] == MID_DQE_NO_SCORE || (s.v[i] >= 0 && s.v[i] <= 1));
		pass = mid_dqe_judge(min, &s, detail, sizeof(detail));
		FUZZ_CHECK(pass == 0 || pass == 1);
		FUZZ_CHECK(detail[0] && strlen(detail) < sizeof(detail));
		FUZZ_CHECK(!fuzz_has_control(detail));
		for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
			if (min[i] >= 0 && s.v[i] == MID_DQE_NO_SCORE)
				FUZZ_CHECK(!pass);   /* a judged field without a score fails */
		/* Nothing judged: always a pass. */
		if (data[0] == 0)
			FUZZ_CHECK(pass);
	} else if (rc == 1) {
		size_t n = strlen(e.id);
		FUZZ_CHECK(strspn(e.id, "0123456789") == n);
		FUZZ_CHECK(fuzz_valid_utf8(e.type) && !fuzz_has_control(e.type));
	} else {
		FUZZ_CHECK(err[0]);
		for (int i = 0; i < MID_DQE_SCORE_COUNT; i++)
			FUZZ_CHECK(s.v[i] == MID_DQE_NO_SCORE || (s.v[i] >= 0 && s.v[i] <= 1));
	}
	free(body);
	return 0;
}

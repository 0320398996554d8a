/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_template.c - %-template expansion and the text helpers of util.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mid_config.h"
#include "template.h"
#include "util.h"

/* 1 if s is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned int cp;
		size_t n;

		if (s[0] < 0x80) {
			s++;
			continue;
		} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
			n = 2; cp = s[0] & 0x1f;
		} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
			n = 3; cp = s[0] & 0x0f;
		} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
			n = 4; cp = s[0] & 0x07;
		} else {
			return 0;
		}
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n;
	}
	return 1;
}

/* A string of count copies of unit (caller frees). */
static char *repeat(const char *unit, size_t count)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * count + 1);

	assert_non_null(s);
	for (size_t i = 0; i < count; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * count] = '\0';
	return s;
}

static void expect_expand(const char *tmpl, const mid_tmpl_vars *v, size_t max,
                          int empty_missing, const char *want)
{
	char *got = mid_template_expand(tmpl, v, max, empty_missing);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static const mid_tmpl_vars full = {
	.user = "Alice.Smith",
	.host = "bastion1",
	.service = "sshd",
	.rhost = "192.0.2.7",
	.code = "4821",
	.time = "2024-06-25 06:18:13",
	.command = "/usr/bin/systemctl restart nginx",
};

/* ---- mid_template_expand ------------------------------------------------------ */

/* Templates expanded with the values of full (max 5000, "-" for none). */
struct full_case {
	const char *tmpl, *want;
};

static void expect_full(const struct full_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_expand(t[i].tmpl, &full, 5000, 0, t[i].want);
}

static void test_every_code(void **state)
{
	static const struct full_case t[] = {
		{ "%u", "Alice.Smith" },
		{ "%U", "alice.smith" },
		{ "%h", "bastion1" },
		{ "%s", "sshd" },
		{ "%r", "192.0.2.7" },
		{ "%c", "4821" },
		{ "%t", "2024-06-25 06:18:13" },
		{ "%C", "/usr/bin/systemctl restart nginx" },
		{ "%%", "%" },
		{ "User: %u\nService: %s\nFrom: %r\nCode: %c\nTime: %t",
		  "User: Alice.Smith\nService: sshd\nFrom: 192.0.2.7\nCode: 4821\n"
		  "Time: 2024-06-25 06:18:13" },
		{ "[%u|%U|%h|%s|%r|%c|%t|%C|%%|100%%]",
		  "[Alice.Smith|alice.smith|bastion1|sshd|192.0.2.7|4821|"
		  "2024-06-25 06:18:13|/usr/bin/systemctl restart nginx|%|100%]" },
		/* Plain text, empty template. */
		{ "no codes here", "no codes here" },
		{ "", "" },
	};

	(void)state;
	expect_full(t, sizeof(t) / sizeof(t[0]));
	/* A value is not expanded again. */
	{
		mid_tmpl_vars v = { .user = "%h%%", .host = "H" };
		expect_expand("%u/%h", &v, 5000, 0, "%h%%/H");
	}
}

static void test_unknown_code_and_lone_percent(void **state)
{
	/* mid_template_check refuses these at configuration time; expansion
	 * keeps them as they are. */
	static const struct full_case t[] = {
		{ "%x%u", "%xAlice.Smith" },
		{ "50%", "50%" },
		{ "%", "%" },
		{ "%%%", "%%" },
	};

	(void)state;
	expect_full(t, sizeof(t) / sizeof(t[0]));
}

static void test_missing_values(void **state)
{
	mid_tmpl_vars none = { 0 };
	mid_tmpl_vars empty = { "", "", "", "", "", "", "" };

	(void)state;
	expect_expand("%u|%U|%h|%s|%r|%c|%t|%C|%%", &none, 5000, 0, "-|-|-|-|-|-|-|-|%");
	expect_expand("%u|%U|%h|%s|%r|%c|%t|%C|%%", &empty, 5000, 0, "-|-|-|-|-|-|-|-|%");
	expect_expand("%u|%U|%h|%s|%r|%c|%t|%C|%%", &none, 5000, 1, "||||||||%");
	expect_expand("%u|%U|%h|%s|%r|%c|%t|%C|%%", &empty, 5000, 1, "||||||||%");
	expect_expand("%C", &none, 5000, 1, "");
	/* A value made only of control characters counts as present. */
	{
		mid_tmpl_vars v = { .user = "\r\n" };
		expect_expand("[%u]", &v, 5000, 0, "[]");
	}
}

static void test_control_chars_stripped(void **state)
{
	mid_tmpl_vars v = {
		.user = "ali\rce\n",
		.host = "host\x1b[31mred",
		.service = "s\x01s\x7fh\x1f" "d",
		.rhost = "10.0.0.1\r\nApproved: yes",
		.code = "12\t34",
		.time = "\b\a\v\f",
		.command = "rm\x00 -rf",
	};

	(void)state;
	expect_expand("%u|%h|%s|%r|%c|%t|%C", &v, 5000, 0,
	              "alice|host[31mred|sshd|10.0.0.1Approved: yes|12\t34||rm");
	/* %U lower-cases the cleaned value. */
	expect_expand("%U", &v, 5000, 0, "alice");
	/* C1 controls (U+009B is CSI on some terminals) go too. */
	{
		mid_tmpl_vars c1 = { .user = "bob\xc2\x9b" "2J\xc2\x85" "x\xc2\xa0y" };
		expect_expand("%u", &c1, 5000, 0, "bob2Jx\xc2\xa0y");
	}
	/* Newlines of the template itself are kept. */
	expect_expand("a\nb%%\n", &v, 5000, 0, "a\nb%\n");
}

static void test_invalid_utf8_replaced(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "J\xc3\xb8rgen", "J\xc3\xb8rgen" },                 /* valid 2-byte */
		{ "\xe2\x82\xac 5", "\xe2\x82\xac 5" },               /* valid 3-byte */
		{ "\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!" },         /* valid 4-byte */
		{ "a\xff" "b", "a?b" },                               /* invalid byte */
		{ "a\x80" "b", "a?b" },                               /* lone continuation */
		{ "\xc0\xaf", "??" },                                 /* overlong '/' */
		{ "\xe0\x80\xaf", "???" },                            /* overlong, 3 bytes */
		{ "\xed\xa0\x80", "???" },                            /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", "????" },                       /* past U+10FFFF */
		{ "\xf5\x80\x80\x80", "????" },
		{ "ab\xc3", "ab?" },                                  /* cut at the end */
		{ "\xe2\x82" "x", "??x" },                            /* cut in the middle */
		{ "\xc3\xc3\xa9", "?\xc3\xa9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mid_tmpl_vars v = { .user = t[i].in };
		char *got = mid_template_expand("%u", &v, 5000, 0);
		assert_non_null(got);
		if (strcmp(got, t[i].out) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, t[i].out);
		assert_true(utf8_valid(got));
		free(got);
	}
}

static void test_truncation_utf8(void **state)
{
	static const struct { const char *unit; size_t count; size_t max; size_t want; } t[] = {
		{ "\xc3\xa9", 2600, 5000, 5000 },              /* 2-byte, even */
		{ "\xe2\x82\xac", 2000, 5000, 4998 },          /* 3-byte: 1666 fit */
		{ "\xf0\x9f\x98\x80", 1300, 5000, 5000 },      /* 4-byte: 1250 fit */
		{ "\xf0\x9f\x98\x80", 1300, 4999, 4996 },
		{ "\xf0\x9f\x98\x80", 1300, 4997, 4996 },
		{ "a", 6000, 5000, 5000 },
		{ "\xc3\xa9", 10, 100, 20 },                    /* fits: untouched */
		{ "\xc3\xa9", 10, 1, 0 },
		{ "\xc3\xa9", 10, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *val = repeat(t[i].unit, t[i].count);
		mid_tmpl_vars v = { .command = val };
		char *got = mid_template_expand("%C", &v, t[i].max, 0);

		assert_non_null(got);
		if (strlen(got) != t[i].want)
			fail_msg("case %zu: length %zu, want %zu", i, strlen(got), t[i].want);
		assert_true(utf8_valid(got));
		assert_memory_equal(got, val, t[i].want);
		free(got);
		free(val);
	}

	/* One ASCII byte of template shifts the boundary by one. */
	{
		char *val = repeat("\xe2\x82\xac", 2000);
		mid_tmpl_vars v = { .command = val };
		char *got = mid_template_expand("x%C", &v, 5000, 0);
		assert_non_null(got);
		assert_int_equal(strlen(got), 1 + 3 * 1666);
		assert_true(utf8_valid(got));
		free(got);
		got = mid_template_expand("xy%C", &v, 5000, 0);
		assert_non_null(got);
		assert_int_equal(strlen(got), 5000);   /* 2 + 3 * 1666 */
		assert_true(utf8_valid(got));
		free(got);
		free(val);
	}
	/* Truncation applies to the template's own text too. */
	expect_expand("\xc3\xa9\xc3\xa9%%", &full, 3, 0, "\xc3\xa9");
	expect_expand("abc%u", &full, 5, 0, "abcAl");
}

static void test_template_check(void **state)
{
	static const struct { const char *tmpl; unsigned char bad; } refused[] = {
		{ "ok %u then %q", 'q' },
		{ "%u%", 0 },
		{ "%%%", 0 },
		{ "% u", ' ' },
		{ "%\xc3\xa9", 0xc3 },
	};
	char bad = 'X';

	(void)state;
	assert_int_equal(mid_template_check("", MID_TMPL_CTX_CODES, &bad), 0);
	assert_int_equal(mid_template_check("plain", MID_TMPL_REF_CODES, &bad), 0);
	assert_int_equal(mid_template_check("%u%U%s%h%%", MID_TMPL_REF_CODES, &bad), 0);
	assert_int_equal(mid_template_check("%u%U%h%s%r%c%t%C%%", MID_TMPL_CTX_CODES, &bad), 0);
	assert_int_equal(mid_template_check("%%%%", MID_TMPL_REF_CODES, &bad), 0);

	for (const char *c = "rctC"; *c; c++) {
		char tmpl[4] = { '%', *c, 0, 0 };
		bad = 'X';
		assert_int_equal(mid_template_check(tmpl, MID_TMPL_REF_CODES, &bad), -1);
		assert_int_equal(bad, *c);
	}
	/* Refused, with the offending code (0: a lone '%' at the end). */
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		bad = 'X';
		assert_int_equal(mid_template_check(refused[i].tmpl, MID_TMPL_CTX_CODES, &bad), -1);
		assert_int_equal((unsigned char)bad, refused[i].bad);
	}
}

/* ---- util.c ------------------------------------------------------------------ */

static void test_sanitize(void **state)
{
	static const struct { const char *in; int keep_nl; size_t max; const char *want; } t[] = {
		{ "a\r\nb\tc\x1b" "d\x7f" "e", 0, 100, "ab\tcde" },
		{ "a\r\nb\n", 1, 100, "a\nb\n" },
		{ "", 0, 100, "" },
		/* max counts bytes and never splits a character. */
		{ "\xc3\xa9\xc3\xa9\xc3\xa9", 0, 5, "\xc3\xa9\xc3\xa9" },
		{ "abc", 0, 0, "" },
		/* Stripped characters do not count against max. */
		{ "\r\r\r\rabc", 0, 3, "abc" },
		/* A replacement '?' counts, and max holds for it too. */
		{ "\xff\xff\xff\xff", 0, 2, "??" },
		{ "ab\xff\xff", 0, 3, "ab?" },
		/* C1 control characters (U+0080..U+009F, e.g. U+009B CSI) are
		 * control characters too; U+00A0 and up are not. */
		{ "a\xc2\x9b" "31mb\xc2\x85" "c\xc2\xa0" "d", 0, 100, "a31mbc\xc2\xa0" "d" },
		/* Invalid UTF-8 becomes '?'. */
		{ "x\xc0\xaf" "y", 1, 100, "x??y" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = mid_sanitize(t[i].in, t[i].keep_nl, t[i].max);
		assert_string_equal(s, t[i].want);
		free(s);
	}
}

static void test_has_ctl(void **state)
{
	(void)state;
	assert_int_equal(mid_has_ctl(""), 0);
	assert_int_equal(mid_has_ctl("plain text\twith tab"), 0);
	assert_int_equal(mid_has_ctl("\xc3\xa9"), 0);
	assert_int_equal(mid_has_ctl("a\n"), 1);
	assert_int_equal(mid_has_ctl("a\rb"), 1);
	assert_int_equal(mid_has_ctl("\x01"), 1);
	assert_int_equal(mid_has_ctl("\x1f"), 1);
	assert_int_equal(mid_has_ctl("del\x7f"), 1);
}

/* Log field values: sanitised, quoted only when they could pass for other
 * fields, and a quoted value cannot end early. */
static void test_log_field(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "alice", "alice" },
		{ "", "\"\"" },
		{ "x result=approved", "\"x result=approved\"" },
		{ "a=b", "\"a=b\"" },
		{ "tab\there", "\"tab\there\"" },
		{ "y\" result=\"approved", "\"y\\\" result=\\\"approved\"" },
		{ "z\\", "\"z\\\\\"" },
		{ "eve\r\nmallory", "evemallory" },
		{ "esc\x1b[2J x", "\"esc[2J x\"" },
		{ "bad\xffname", "bad?name" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = mid_log_field(cases[i].in, 256);
		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	s = mid_log_field(NULL, 256);
	assert_string_equal(s, "\"\"");
	free(s);
	/* max bounds the value (on a character), not the quotes */
	s = mid_log_field("\xc3\xa9\xc3\xa9 b", 3);
	assert_string_equal(s, "\xc3\xa9");
	free(s);
	s = mid_log_field("a b c", 3);
	assert_string_equal(s, "\"a b\"");
	free(s);
	s = mid_log_quote("");
	assert_string_equal(s, "\"\"");
	free(s);
	s = mid_log_quote("\\\"");
	assert_string_equal(s, "\"\\\\\\\"\"");
	free(s);
}

static void test_utf8_char_len(void **state)
{
	(void)state;
	assert_int_equal(mid_utf8_char_len("a"), 1);
	assert_int_equal(mid_utf8_char_len("\x1b"), 1);
	assert_int_equal(mid_utf8_char_len("\xc3\xa9"), 2);
	assert_int_equal(mid_utf8_char_len("\xc2\x9b"), 2);   /* C1: valid UTF-8 */
	assert_int_equal(mid_utf8_char_len("\xe2\x82\xac"), 3);
	assert_int_equal(mid_utf8_char_len("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(mid_utf8_char_len("\xff"), 0);
	assert_int_equal(mid_utf8_char_len("\xc3"), 0);          /* cut short */
	assert_int_equal(mid_utf8_char_len("\xc0\xaf"), 0);      /* overlong */
	assert_int_equal(mid_utf8_char_len("\xed\xa0\x80"), 0);  /* surrogate */
}

static void test_utf8_truncate(void **state)
{
	char s[64];

	(void)state;
	strcpy(s, "h\xc3\xa9llo");       /* h é l l o: 6 bytes */
	mid_utf8_truncate(s, 100);
	assert_string_equal(s, "h\xc3\xa9llo");
	mid_utf8_truncate(s, 6);
	assert_string_equal(s, "h\xc3\xa9llo");
	mid_utf8_truncate(s, 4);
	assert_string_equal(s, "h\xc3\xa9l");
	mid_utf8_truncate(s, 2);         /* would split é */
	assert_string_equal(s, "h");
	strcpy(s, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
	for (size_t max = 4; max < 8; max++) {
		char t[16];
		strcpy(t, s);
		mid_utf8_truncate(t, max);
		assert_string_equal(t, "\xf0\x9f\x98\x80");
	}
	mid_utf8_truncate(s, 3);
	assert_string_equal(s, "");
	strcpy(s, "abc");
	mid_utf8_truncate(s, 0);
	assert_string_equal(s, "");
}

static void test_unescape_newlines(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "a\\nb", "a\nb" },
		{ "\\n\\n", "\n\n" },
		{ "a\\\\nb", "a\\nb" },        /* \\n is a backslash and an n */
		{ "a\\\\\\nb", "a\\\nb" },
		{ "tab\\t", "tab\\t" },        /* only \n and \\ are escapes */
		{ "end\\", "end\\" },
		{ "real\nnewline", "real\nnewline" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = mid_unescape_newlines(t[i].in);
		assert_non_null(got);
		assert_string_equal(got, t[i].out);
		free(got);
	}
}

static void test_random_code(void **state)
{
	char out[16];

	(void)state;
	for (int d = 1; d <= 9; d++) {
		memset(out, 'X', sizeof(out));
		assert_int_equal(mid_random_code(out, d), 0);
		assert_int_equal(strlen(out), (size_t)d);
		assert_int_equal(strspn(out, "0123456789"), (size_t)d);
		assert_int_equal(out[d + 1], 'X');   /* writes digits + 1 bytes */
	}
	memset(out, 'X', sizeof(out));
	assert_int_equal(mid_random_code(out, 0), -1);
	assert_int_equal(mid_random_code(out, 10), -1);
	assert_int_equal(mid_random_code(out, -1), -1);
	assert_int_equal(out[0], 'X');
}

static void test_random_code_distribution(void **state)
{
	long count[10] = { 0 };
	int seen2[100] = { 0 };
	int distinct6 = 0;
	char out[16], prev[16] = "";

	(void)state;
	/* 2000 one-digit codes: every digit appears (P(miss) ~ 10 * 0.9^2000). */
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(mid_random_code(out, 1), 0);
		count[out[0] - '0']++;
	}
	for (int d = 0; d < 10; d++)
		if (count[d] == 0)
			fail_msg("digit %d never drawn in 2000 draws", d);

	/* 20000 more: each digit within 2000 +- 400 (about 9.5 sigma). */
	memset(count, 0, sizeof(count));
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(mid_random_code(out, 1), 0);
		count[out[0] - '0']++;
	}
	for (int d = 0; d < 10; d++)
		if (count[d] < 1600 || count[d] > 2400)
			fail_msg("digit %d drawn %ld times of 20000", d, count[d]);

	/* Two digits: all of 00..99 appear in 5000 draws; leading zeros kept. */
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(mid_random_code(out, 2), 0);
		assert_int_equal(strlen(out), 2);
		seen2[(out[0] - '0') * 10 + (out[1] - '0')] = 1;
	}
	for (int n = 0; n < 100; n++)
		if (!seen2[n])
			fail_msg("code %02d never drawn in 5000 draws", n);

	/* Six digits do not repeat back to back (P ~ 1e-6 per draw). */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(mid_random_code(out, 6), 0);
		if (strcmp(out, prev) != 0)
			distinct6++;
		strcpy(prev, out);
	}
	assert_true(distinct6 >= 49);
}

static void test_parse_duration(void **state)
{
	static const struct { const char *s; long unit; long want; } t[] = {
		{ "30", 1000, 30000 }, { "30s", 1000, 30000 }, { "500ms", 1000, 500 },
		{ "1m", 1000, 60000 }, { "0", 1000, 0 }, { "500", 1, 500 }, { "2s", 1, 2000 },
		{ "007", 1000, 7000 }, { "0ms", 1, 0 },
		/* errors */
		{ "", 1000, -1 }, { NULL, 1000, -1 }, { "-1", 1000, -1 }, { "+1", 1000, -1 },
		{ " 1", 1000, -1 }, { "\t1", 1000, -1 }, { " -5", 1000, -1 },
		{ " -999999999999999m", 1000, -1 }, { "1 ", 1000, -1 }, { "1 s", 1000, -1 },
		{ "1.5s", 1000, -1 }, { "1h", 1000, -1 }, { "1S", 1000, -1 }, { "1M", 1000, -1 },
		{ "1mss", 1000, -1 }, { "s", 1000, -1 }, { "ms", 1000, -1 }, { "x1", 1000, -1 },
		{ "0x10", 1000, -1 }, { "99999999999999999999", 1, -1 },
		{ "9223372036854775807", 1000, -1 }, { "153722867280912931m", 1000, -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long got = mid_parse_duration(t[i].s, t[i].unit);
		if (got != t[i].want)
			fail_msg("mid_parse_duration(\"%s\", %ld) = %ld, want %ld",
			         t[i].s ? t[i].s : "(null)", t[i].unit, got, t[i].want);
	}
	/* The largest value that fits. */
	assert_int_equal(mid_parse_duration("9223372036854775807ms", 1000), LONG_MAX);
}

static void test_buf(void **state)
{
	mid_buf b = { 0 };
	char big[3000];

	(void)state;
	/* An empty append still yields a NUL-terminated string. */
	assert_int_equal(mid_buf_append(&b, "", 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	/* Growth keeps the content. */
	memset(big, 'a', sizeof(big));
	for (int i = 0; i < 5; i++)
		assert_int_equal(mid_buf_append(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 5 * sizeof(big));
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strspn(b.data, "a"), b.len);
	/* printf, short and longer than its stack buffer. */
	mid_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(mid_buf_printf(&b, "%s=%d;", "n", 42), 0);
	assert_string_equal(b.data, "n=42;");
	assert_int_equal(mid_buf_printf(&b, "%.*s", 1000, big), 0);
	assert_int_equal(b.len, 5 + 1000);
	assert_int_equal(b.data[5], 'a');
	assert_int_equal(b.data[b.len], '\0');
	mid_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);

	/* The limit: an append past it fails whole and sets overflow. */
	b.limit = 10;
	assert_int_equal(mid_buf_append(&b, "12345678", 8), 0);
	assert_int_equal(b.overflow, 0);
	assert_int_equal(mid_buf_append(&b, "abc", 3), -1);
	assert_int_equal(b.overflow, 1);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(mid_buf_append(&b, "ab", 2), 0);   /* exactly the limit */
	assert_string_equal(b.data, "12345678ab");
	assert_int_equal(mid_buf_append(&b, "x", 1), -1);
	assert_int_equal(mid_buf_printf(&b, "%d", 1), -1);
	assert_int_equal(b.len, 10);
	/* reset clears overflow and keeps the limit and memory. */
	mid_buf_reset(&b);
	assert_int_equal(b.overflow, 0);
	assert_int_equal(b.limit, 10);
	assert_non_null(b.data);
	assert_int_equal(mid_buf_printf(&b, "%s", "0123456789"), 0);
	assert_int_equal(mid_buf_printf(&b, "%s", "0"), -1);
	assert_int_equal(b.overflow, 1);
	mid_buf_free(&b);
	assert_int_equal(b.overflow, 0);
}

static void test_hash_and_wipe(void **state)
{
	char out[17];
	char secret[] = "hunter2";
	char *heap;

	(void)state;
	/* FNV-1a 64 reference values. */
	mid_hash_hex("", out);
	assert_string_equal(out, "cbf29ce484222325");
	mid_hash_hex("a", out);
	assert_string_equal(out, "af63dc4c8601ec8c");
	mid_hash_hex("foobar", out);
	assert_string_equal(out, "85944171f73967e8");

	mid_wipe(secret, strlen(secret));
	for (size_t i = 0; i < sizeof(secret); i++)
		assert_int_equal(secret[i], 0);
	mid_wipe(NULL, 10);
	mid_wipe(secret, 0);
	heap = strdup("pw");
	assert_non_null(heap);
	mid_free_secret(heap);
	mid_free_secret(NULL);
}

static int abort_after(void *ctx)
{
	int *calls = ctx;

	return ++*calls >= 3;
}

static void test_clocks_and_sleep(void **state)
{
	int64_t t0, t1;
	int calls = 0;

	(void)state;
	assert_true(mid_wall_ms() > 1500000000000LL);   /* after 2017 */
	t0 = mid_now_ms();
	assert_int_equal(mid_sleep_ms(120, NULL, NULL), 0);
	t1 = mid_now_ms();
	assert_true(t1 - t0 >= 120);
	assert_true(t1 - t0 < 2000);
	/* An abort ends the sleep early (asked at least every 100 ms). */
	t0 = mid_now_ms();
	assert_int_equal(mid_sleep_ms(10000, abort_after, &calls), 1);
	assert_int_equal(calls, 3);
	assert_true(mid_now_ms() - t0 < 1000);
	assert_int_equal(mid_sleep_ms(0, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code),
		cmocka_unit_test(test_unknown_code_and_lone_percent),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_control_chars_stripped),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_truncation_utf8),
		cmocka_unit_test(test_template_check),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_has_ctl),
		cmocka_unit_test(test_log_field),
		cmocka_unit_test(test_utf8_char_len),
		cmocka_unit_test(test_utf8_truncate),
		cmocka_unit_test(test_unescape_newlines),
		cmocka_unit_test(test_random_code),
		cmocka_unit_test(test_random_code_distribution),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_hash_and_wipe),
		cmocka_unit_test(test_clocks_and_sleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

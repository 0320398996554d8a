/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam_login.c - the PAM application that bench/pam_bench.py runs (under
 * pam_wrapper) for one login: pam_start(SERVICE, USER), pam_authenticate(),
 * pam_end().  It prints wall-clock timestamps (milliseconds since the
 * epoch, the clock of the simulator's request log) on stdout:
 *
 *   start MS            just before pam_authenticate()
 *   info MS TEXT        each message shown (the push message, errors)
 *   prompt MS TEXT      each prompt; answered with an empty line
 *   end MS RC           just after pam_authenticate() returned
 *
 * Exit status 0 when the login succeeded.  A benchmark tool, not a test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* One line of text: newlines shown as spaces. */
static void print_event(const char *what, const char *text)
{
	printf("%s %.3f ", what, wall_ms());
	for (const char *p = text ? text : ""; *p; p++)
		putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
	putchar('\n');
	fflush(stdout);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			print_event("info", msg[i]->msg);
			break;
		case PAM_PROMPT_ECHO_ON:
		case PAM_PROMPT_ECHO_OFF:
			print_event("prompt", msg[i]->msg);
			r[i].resp = strdup("");
			if (!r[i].resp) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_BUF_ERR;
			}
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *pamh = NULL;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SERVICE USER\n", argv[0]);
		return 2;
	}
	rc = pam_start(argv[1], argv[2], &c, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start: %d\n", rc);
		return 2;
	}
	printf("start %.3f\n", wall_ms());
	fflush(stdout);
	rc = pam_authenticate(pamh, 0);
	printf("end %.3f %d\n", wall_ms(), rc);
	fflush(stdout);
	pam_end(pamh, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}

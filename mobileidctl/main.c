/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - mobileidctl: global options and dispatch through the command
 * table in commands.c.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s [OPTIONS] COMMAND [ARGUMENTS]\n"
	        "\n"
	        "Administration of the MobileID push second factor.\n"
	        "\n"
	        "Options (before the command; --json also after it):\n"
	        "  -c, --config FILE  configuration file (default %s)\n"
	        "      --json         machine-readable output on stdout (JSON)\n"
	        "  -v, --verbose      more detail on stderr (twice: the HTTP calls)\n"
	        "  -h, --help         this text\n"
	        "  -V, --version      the version\n"
	        "\n"
	        "Commands:\n", prog, MID_DEFAULT_CONFIG);
	for (const struct ctl_command *c = ctl_commands; c->name; c++)
		fprintf(f, "  %s%s%s\n      %s\n", c->name, *c->usage ? " " : "", c->usage, c->help);
	fprintf(f,
	        "\n"
	        "Exit status:\n"
	        "  0    success (check: every check passed; test: the push was approved)\n"
	        "  1    the operation failed or was refused, a check failed, the push was\n"
	        "       denied, expired or hit a locked user or device\n"
	        "  2    usage error\n"
	        "  3    the configuration cannot be used, or the credentials were rejected\n"
	        "  4    the service could not be reached or answered garbage\n"
	        "  5    no such user or device, or no active device\n"
	        "  130  interrupted (Ctrl-C); what the command started was cancelled\n"
	        "\n"
	        "Errors go to stderr with the vendor trace id (with --json as one JSON\n"
	        "object per line: {\"error\": ..., \"traceId\": ...}).\n");
}

/* Take every "--json" out of argv (before a "--"), so that it may follow
 * the command too.  Returns the new argc. */
static int strip_json(struct ctl_ctx *ctx, int argc, char **argv)
{
	int j = 1, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0) {
			ctx->json = 1;
			continue;
		}
		argv[j++] = argv[i];
	}
	for (; i < argc; i++)
		argv[j++] = argv[i];
	argv[j] = NULL;
	return j;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_ctx ctx = {
		.prog = "mobileidctl",
		.config_path = MID_DEFAULT_CONFIG,
	};
	const struct ctl_command *cmd = NULL;
	int c, rc;

	setlocale(LC_CTYPE, "");
	argc = strip_json(&ctx, argc, argv);
	/* '+': stop at the command; its options are its own. */
	while ((c = getopt_long(argc, argv, "+c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'j':
			ctx.json = 1;
			break;
		case 'v':
			ctx.verbose++;
			break;
		case 'h':
			usage(stdout, ctx.prog);
			return CTL_EXIT_OK;
		case 'V':
			printf("mobileidctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			usage(stderr, ctx.prog);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, ctx.prog);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout, ctx.prog);
		return CTL_EXIT_OK;
	}
	for (const struct ctl_command *t = ctl_commands; t->name; t++)
		if (strcmp(t->name, argv[optind]) == 0)
			cmd = t;
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", ctx.prog,
		        argv[optind], ctx.prog);
		return CTL_EXIT_USAGE;
	}
	ctx.tty = isatty(STDERR_FILENO);
	ctl_catch_signals();
	/* The command sees argv[0] = its name; getopt starts afresh. */
	{
		int first = optind;

		optind = 0;
		rc = cmd->run(&ctx, argc - first, argv + first);
	}
	ctl_progress_done(&ctx);
	mid_config_free(ctx.cfg);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the output\n", ctx.prog);
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_FAIL;
	}
	return rc;
}

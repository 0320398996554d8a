/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands.c - THE command table of mobileidctl: one line per command
 * (keep the prototypes next to it, one per command).
 */
#include "config.h"

#include <stddef.h>

#include "ctl.h"

int cmd_check(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_test(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_user(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_device(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_enroll(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_enroll_link(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_preenroll(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_auth_import(struct ctl_ctx *ctx, int argc, char **argv);

const struct ctl_command ctl_commands[] = {
	{ "check", "",
	  "check the configuration, the network path, the credentials and the permissions",
	  cmd_check },
	{ "test", "LOGIN [--service NAME] [--rhost HOST]",
	  "send a real push for LOGIN, exactly as the modules do, and show the outcome",
	  cmd_test },
	{ "user", "show|create|lock|unlock|delete LOGIN [--service NAME]\n"
	  "        (create: [--name NAME] [--phone NUMBER] [--email ADDRESS] [--segment SEGMENT])",
	  "show, create, lock, unlock or delete the MobileID user of LOGIN",
	  cmd_user },
	{ "device", "list LOGIN | lock|unlock|delete LOGIN DEVICE-ID [--service NAME]",
	  "list, lock, unlock or delete the devices of LOGIN",
	  cmd_device },
	{ "enroll", "LOGIN [--name NAME] [--phone NUMBER] [--email ADDRESS] [--device-name NAME]\n"
	  "        [--timeout DURATION] [--no-wait] [--service NAME]",
	  "create the user of LOGIN if needed, register a device, wait for it",
	  cmd_enroll },
	{ "enroll-link", "LOGIN [--email ADDRESS] [--first-name NAME] [--last-name NAME]\n"
	  "        [--service NAME]",
	  "create a VerifID self-enrollment link for LOGIN and print it",
	  cmd_enroll_link },
	{ "preenroll", "FILE",
	  "create one user per row of an IDgo pre-enroll CSV; results with RC in FILE.out",
	  cmd_preenroll },
	{ "auth-import", "[--dry-run] [--force] FILE",
	  "import an InfoIMAGE auth file (.txt or .pgp, full or incremental) into the account map",
	  cmd_auth_import },
	{ NULL, NULL, NULL, NULL }
};

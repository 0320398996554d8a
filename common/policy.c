/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.c - group and network rules.
 */
#include "config.h"

#include <arpa/inet.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

#define ITEM_MAX 256

/* Next comma- or blank-separated item of *p into buf; 0 at the end. */
static int next_item(const char **p, char buf[ITEM_MAX], int *too_long)
{
	const char *s = *p;
	size_t n;

	*too_long = 0;
	s += strspn(s, ", \t");
	if (!*s)
		return 0;
	n = strcspn(s, ", \t");
	if (n >= ITEM_MAX) {
		*too_long = 1;
		n = ITEM_MAX - 1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = s + strcspn(s, ", \t");
	return 1;
}

int mid_groups_check(const char *list, char *err, size_t errlen)
{
	char item[ITEM_MAX];
	int too_long;

	while (next_item(&list, item, &too_long)) {
		const char *name = item[0] == '!' ? item + 1 : item;
		if (too_long || !*name || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-$@")
		                          != strlen(name)) {
			snprintf(err, errlen, "'%s' is not a group name", item);
			return -1;
		}
	}
	return 0;
}

static int is_member(const char *group, const char *user, gid_t primary,
                     const gid_t *gids, int ngids)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return 0;   /* a group that does not exist has no members */
	if (gr.gr_gid == primary)
		return 1;
	for (int i = 0; i < ngids; i++)
		if (gids[i] == gr.gr_gid)
			return 1;
	for (char **m = gr.gr_mem; m && *m; m++)
		if (!strcmp(*m, user))
			return 1;
	return 0;
}

int mid_groups_require(const char *list, const char *user)
{
	struct passwd pw, *res = NULL;
	char pwbuf[16384], item[ITEM_MAX];
	gid_t gids[NGROUPS_MAX + 1];
	int ngids = NGROUPS_MAX + 1, too_long, includes = 0, included = 0;

	if (!list || !*list)
		return 1;
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res)
		return -1;
	if (getgrouplist(user, pw.pw_gid, gids, &ngids) < 0)
		ngids = 0;
	while (next_item(&list, item, &too_long)) {
		if (item[0] == '!') {
			if (is_member(item + 1, user, pw.pw_gid, gids, ngids))
				return 0;
		} else {
			includes = 1;
			if (!included && is_member(item, user, pw.pw_gid, gids, ngids))
				included = 1;
		}
	}
	return includes ? included : 1;
}

struct net {
	int family;
	unsigned char addr[16];
	int prefix;
};

static int parse_net(const char *item, struct net *n)
{
	char host[ITEM_MAX];
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	int maxbits;

	if (len >= sizeof(host))
		return -1;
	memcpy(host, item, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, n->addr) == 1) {
		n->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, n->addr) == 1) {
		n->family = AF_INET6;
		maxbits = 128;
	} else {
		return -1;
	}
	n->prefix = maxbits;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || v < 0 || v > maxbits)
			return -1;
		n->prefix = (int)v;
	}
	return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		return (a[bytes] & mask) == (b[bytes] & mask);
	}
	return 1;
}

int mid_networks_check(const char *list, char *err, size_t errlen)
{
	char item[ITEM_MAX];
	struct net n;
	int too_long;

	while (next_item(&list, item, &too_long)) {
		if (too_long || parse_net(item, &n) != 0) {
			snprintf(err, errlen, "'%s' is not an address or CIDR network", item);
			return -1;
		}
	}
	return 0;
}

int mid_networks_match(const char *list, const char *addr)
{
	char item[ITEM_MAX];
	struct net a, n;
	int too_long;

	if (!list || !addr || parse_net(addr, &a) != 0 || strchr(addr, '/'))
		return 0;
	/* An IPv4-mapped IPv6 address (::ffff:10.1.2.3) is the IPv4 address. */
	if (a.family == AF_INET6 && !memcmp(a.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(a.addr, a.addr + 12, 4);
		a.family = AF_INET;
		a.prefix = 32;
	}
	while (next_item(&list, item, &too_long)) {
		if (too_long || parse_net(item, &n) != 0 || n.family != a.family)
			continue;
		if (prefix_equal(a.addr, n.addr, n.prefix))
			return 1;
	}
	return 0;
}

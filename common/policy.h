/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.h - who must use the second factor: group membership (with
 * !exclusions) and exempt networks (CIDR, IPv4 and IPv6).
 */
#ifndef MID_POLICY_H
#define MID_POLICY_H

#include <stddef.h>

/* Validate "wheel, admins, !contractors".  0, or -1 with a reason. */
int mid_groups_check(const char *list, char *err, size_t errlen);

/* 1 if user must use the push under the group list (NULL or "" = every
 * user): a member of no excluded group and, when the list names any
 * group without '!', a member of one of those.  -1 if the user is
 * unknown to the system. */
int mid_groups_require(const char *list, const char *user);

/* Validate "10.0.0.0/8, 192.168.1.7, 2001:db8::/32".  0 or -1. */
int mid_networks_check(const char *list, char *err, size_t errlen);

/* 1 if addr (an IP literal; a host name never matches) is inside one of
 * the networks, else 0. */
int mid_networks_match(const char *list, const char *addr);

#endif

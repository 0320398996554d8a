#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: every man page renders without a groff/man warning, and
# mobileid.conf(5) documents every key of the table in common/config.c
# under its section.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
pages="pam_mobileid.8 mobileid.conf.5 rlm_mobileid.5 mobileidctl.8"

echo "1..6"
n=0
for page in $pages; do
	n=$((n + 1))
	f=$srcdir/man/$page
	if [ ! -f "$f" ]; then
		echo "not ok $n - $page: missing"
		continue
	fi
	# groff itself (all warnings), then man-db's own checks when it is there.
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>&1)
	if [ -z "$out" ] && command -v man >/dev/null 2>&1; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$f" 2>&1 >/dev/null)
	fi
	if [ -n "$out" ]; then
		echo "not ok $n - $page renders with warnings"
		printf '%s\n' "$out" | sed 's/^/# /'
	else
		echo "ok $n - $page renders without warnings"
	fi
done

# The keys table: lines like	{ "signicat", "api_url", K_URL, ...
# In the page each key is a ".B key" line after ".TP", under '.SS "[section]"'.
n=$((n + 1))
missing=$(sed -n 's/^[[:space:]]*{ *"\([a-z_]*\)", *"\([a-z_0-9]*\)",.*/\1 \2/p' \
		"$srcdir/common/config.c" |
	while read -r section key; do
		awk -v sec="[$section]" -v key="$key" '
			/^\.SS / { cur = $0; sub(/^\.SS "?/, "", cur); sub(/"$/, "", cur); next }
			/^\.SH / { cur = ""; next }
			cur == sec && prev == ".TP" && $0 == ".B " key { found = 1 }
			{ prev = $0 }
			END { exit !found }' "$srcdir/man/mobileid.conf.5" || echo "[$section] $key"
	done)
nkeys=$(grep -c '^[[:space:]]*{ *"[a-z_]*", *"[a-z_0-9]*",' "$srcdir/common/config.c")
if [ "$nkeys" -gt 0 ] && [ -z "$missing" ]; then
	echo "ok $n - mobileid.conf(5) documents all $nkeys keys of common/config.c"
else
	echo "not ok $n - mobileid.conf(5) lacks keys of common/config.c ($nkeys keys)"
	printf '%s\n' "$missing" | sed 's/^/# missing: /'
fi

# Each documented key exists (no stale entries).
n=$((n + 1))
stale=$(awk '
	/^\.SS / { cur = $0; sub(/^\.SS "?/, "", cur); sub(/"$/, "", cur) }
	/^\.SH / { cur = "" }
	cur ~ /^\[[a-z]+\]$/ && prev == ".TP" && /^\.B [a-z_0-9]+$/ { print cur, $2 }
	{ prev = $0 }' "$srcdir/man/mobileid.conf.5" |
	while read -r section key; do
		s=${section#[}; s=${s%]}
		grep -q "^[[:space:]]*{ *\"$s\", *\"$key\"," "$srcdir/common/config.c" ||
			echo "$section $key"
	done)
if [ -z "$stale" ]; then
	echo "ok $n - every key in mobileid.conf(5) exists in common/config.c"
else
	echo "not ok $n - mobileid.conf(5) documents keys common/config.c does not have"
	printf '%s\n' "$stale" | sed 's/^/# unknown: /'
fi

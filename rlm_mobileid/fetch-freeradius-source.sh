#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-freeradius-source.sh [--print-cflags] [--source SRCTREE] DESTDIR
#
# --source SRCTREE takes the headers from an unpacked FreeRADIUS source
# tree of the installed version instead of downloading it with apt.
#
# Debian's libfreeradius-dev does not ship every header that
# <freeradius/radiusd.h> includes (automask.h clients.h connection.h
# log.h process.h tmpl.h xlat.h listen.h; known upstream, see
# BUILD-NOTES.md).  This
# script takes the missing headers from Debian's own source package of
# the *installed* FreeRADIUS version, so that they match the installed
# headers and the installed server exactly.  Nothing third-party is
# committed to the repository; everything lands in DESTDIR:
#
#   DESTDIR/include/freeradius/*.h   headers Debian does not install
#                                    (include lines rewritten the way
#                                    upstream's "make install" does)
#   DESTDIR/cflags                   compiler flags to use (one line)
#   DESTDIR/.version                 "<source package>=<source version>"
#
# Idempotent: when DESTDIR/.version matches the installed version nothing
# is done.  Quiet unless something goes wrong.  The only network access
# is through apt.  If no deb-src entry provides the source package, one
# is added as /etc/apt/sources.list.d/mobileid-deb-src.sources (and/or
# mobileid-deb-src.list), mirroring the existing "deb" entry of the
# archive the installed package came from; that step needs root.
#
# With --print-cflags the contents of DESTDIR/cflags are printed on
# stdout at the end (e.g. for CFLAGS += $(shell ...)).

# The '${...}' strings passed to dpkg-query are its fields, not shell.
# shellcheck disable=SC2016
set -euo pipefail

prog=${0##*/}
DEV_PKG=libfreeradius-dev
SERVER_PKG=freeradius
INSTALLED_INC=/usr/include/freeradius

tmp=
log=/dev/null

die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	if [ -n "$tmp" ] && [ -s "$log" ]; then
		printf '%s: last lines of the log:\n' "$prog" >&2
		tail -n 25 "$log" | sed 's/^/    /' >&2
	fi
	exit 1
}

usage() {
	printf 'usage: %s [--print-cflags] [--source SRCTREE] DESTDIR\n' "$prog" >&2
	exit 2
}

print_cflags=0
from_source=
while [ $# -gt 0 ]; do
	case "$1" in
		--print-cflags) print_cflags=1; shift ;;
		--source) [ $# -ge 2 ] || usage; from_source=$2; shift 2 ;;
		-h|--help) usage ;;
		--) shift; break ;;
		-*) usage ;;
		*) break ;;
	esac
done
[ $# -eq 1 ] || usage
[ -n "$1" ] || usage
if [ -n "$from_source" ]; then
	[ -f "$from_source/src/include/radiusd.h" ] ||
		die "--source $from_source: not an unpacked FreeRADIUS source tree (src/include/radiusd.h missing)"
	from_source=$(cd -- "$from_source" && pwd -P)
fi

for tool in dpkg-query apt-get apt-cache apt-config; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found: this script needs a Debian-based system"
done

# Where apt reads its sources from (normally /etc/apt/sources.list{,.d}).
SRCLIST_DIR=/etc/apt/sources.list.d
SRCLIST_FILE=/etc/apt/sources.list
eval "$(apt-config shell SRCLIST_DIR Dir::Etc::sourceparts/d SRCLIST_FILE Dir::Etc::sourcelist/f)"
SRCLIST_DIR=${SRCLIST_DIR%/}
OUR_SOURCES=$SRCLIST_DIR/mobileid-deb-src.sources
OUR_LIST=$SRCLIST_DIR/mobileid-deb-src.list

# ---------------------------------------------------------------------------
# Installed versions
# ---------------------------------------------------------------------------
pkg_field() {	# pkg format -> value, empty if not installed
	local status
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)
	case "$status" in
		ii*) dpkg-query -W -f="$2" "$1" ;;
		*) ;;
	esac
}

dev_ver=$(pkg_field "$DEV_PKG" '${Version}')
[ -n "$dev_ver" ] || die "$DEV_PKG is not installed (apt-get install $DEV_PKG)"
src_pkg=$(pkg_field "$DEV_PKG" '${source:Package}')
src_ver=$(pkg_field "$DEV_PKG" '${source:Version}')
srv_ver=$(pkg_field "$SERVER_PKG" '${Version}')
if [ -n "$srv_ver" ] && [ "$srv_ver" != "$dev_ver" ]; then
	die "$SERVER_PKG $srv_ver and $DEV_PKG $dev_ver differ; install matching versions"
fi
[ -d "$INSTALLED_INC" ] || die "$INSTALLED_INC missing although $DEV_PKG is installed"

stamp="$src_pkg=$src_ver"

mkdir -p -- "$1" || die "cannot create $1"
DEST=$(cd -- "$1" && pwd -P)

cflags_line() {
	local f="-I$DEST/include"
	local h
	for h in autoconf.h build.h features.h radpaths.h; do
		f="$f -include freeradius/$h"
	done
	# The REQUEST struct layout depends on NDEBUG: match the server build.
	if grep -Eq '^#define[[:space:]]+WITH_NDEBUG[[:space:]]+1' "$INSTALLED_INC/features.h"; then
		f="$f -DNDEBUG"
	fi
	printf '%s\n' "$f"
}

finish() {
	if [ "$print_cflags" = 1 ]; then
		cat "$DEST/cflags"
	fi
	exit 0
}

up_to_date() {
	[ -f "$DEST/.version" ] && [ "$(cat "$DEST/.version")" = "$stamp" ] &&
		[ -f "$DEST/cflags" ] && [ "$(cat "$DEST/cflags")" = "$(cflags_line)" ] &&
		[ -f "$DEST/include/freeradius/log.h" ]
}

up_to_date && finish

# Serialise concurrent runs on the same DESTDIR (e.g. parallel make).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$DEST/.lock"
	flock 9
	up_to_date && finish
fi

command -v dpkg-source >/dev/null 2>&1 || die "dpkg-source not found (apt-get install dpkg-dev)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch-freeradius.XXXXXX") || die "mktemp failed"
trap 'rm -rf -- "$tmp"' EXIT
log=$tmp/log
: >"$log"

is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# ---------------------------------------------------------------------------
# Make sure apt can find the source package
# ---------------------------------------------------------------------------
source_known() {
	apt-get source --print-uris -q "$src_pkg=$src_ver" >>"$log" 2>&1
}

# URIs of the archives that serve the installed version, from apt-cache
# policy, without trailing slash.
serving_archives() {
	LC_ALL=C apt-cache policy "$DEV_PKG" | awk -v want="$dev_ver" '
		/^  Version table:/ { table = 1; next }
		!table { next }
		/^ \*\*\* / || /^     [^ ]/ {
			v = ($1 == "***") ? $2 : $1
			cur = (v == want)
			next
		}
		cur && $NF == "Packages" && $2 ~ /:\/\// { print $2 }
	' | sed 's,/*$,,' | sort -u
}

# Print the deb822 stanzas (of *.sources files other than ours) whose Types
# contain $1 and whose URIs contain one of the archives in $2 (space list).
deb822_stanzas() {
	local want_type=$1 uris=$2 f
	for f in "$SRCLIST_DIR"/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$OUR_SOURCES" ] && continue
		awk -v want="$want_type" -v uris="$uris" '
			BEGIN { RS = ""; FS = "\n"; n = split(uris, u, " "); for (i = 1; i <= n; i++) ok[u[i]] = 1 }
			{
				out = ""; types = ""; urilist = ""; enabled = "yes"
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^#/) continue
					if (tolower(line) ~ /^types:/) { types = line; sub(/^[^:]*:/, "", types) }
					if (tolower(line) ~ /^uris:/) { urilist = line; sub(/^[^:]*:/, "", urilist) }
					if (tolower(line) ~ /^enabled:/) { enabled = tolower(line); sub(/^[^:]*:[ \t]*/, "", enabled) }
					out = out line "\n"
				}
				if (enabled == "no") next
				nt = split(types, t, /[ \t]+/); typeok = 0
				for (i = 1; i <= nt; i++) if (t[i] == want) typeok = 1
				if (!typeok) next
				nu = split(urilist, x, /[ \t]+/); uriok = 0
				for (i = 1; i <= nu; i++) { y = x[i]; sub(/\/+$/, "", y); if (y in ok) uriok = 1 }
				if (!uriok) next
				if (want == "deb") sub(/(^|\n)[Tt][Yy][Pp][Ee][Ss]:[^\n]*/, "\nTypes: deb-src", out)
				sub(/^\n/, "", out)
				printf "%s\n", out
			}' "$f"
	done
}

# One-line style entries (sources.list, *.list other than ours) of type $1
# for the archives in $2, rewritten to deb-src when $1 is "deb".
oneline_entries() {
	local want_type=$1 uris=$2 f
	for f in "$SRCLIST_FILE" "$SRCLIST_DIR"/*.list; do
		[ -f "$f" ] || continue
		[ "$f" = "$OUR_LIST" ] && continue
		awk -v want="$want_type" -v uris="$uris" '
			BEGIN { n = split(uris, u, " "); for (i = 1; i <= n; i++) ok[u[i]] = 1 }
			/^[ \t]*#/ { next }
			$1 == want {
				line = $0
				rest = $0; sub(/^[ \t]*[^ \t]+[ \t]+/, "", rest)
				if (rest ~ /^\[/) { sub(/^\[[^]]*\][ \t]*/, "", rest) }
				split(rest, w, /[ \t]+/); y = w[1]; sub(/\/+$/, "", y)
				if (!(y in ok)) next
				if (want == "deb") sub(/^[ \t]*deb[ \t]/, "deb-src ", line)
				print line
			}' "$f"
	done
}

add_deb_src() {
	local archives stanzas lines
	archives=$(serving_archives | tr '\n' ' ')
	[ -n "${archives// /}" ] ||
		die "no configured archive provides $DEV_PKG $dev_ver (see apt-cache policy $DEV_PKG); upgrade freeradius and $DEV_PKG to a version the archive still has"

	# A deb-src entry for that archive may already exist (lists just stale).
	if [ -n "$(deb822_stanzas deb-src "$archives")$(oneline_entries deb-src "$archives")" ]; then
		return 0
	fi

	stanzas=$(deb822_stanzas deb "$archives")
	lines=$(oneline_entries deb "$archives")
	[ -n "$stanzas$lines" ] ||
		die "cannot find the apt source entry for $archives to derive a deb-src entry from; add one yourself"
	if [ -n "$stanzas" ]; then
		{
			printf '# Added by mobileid fetch-freeradius-source.sh: source package of the\n'
			printf '# installed FreeRADIUS (headers missing from %s).\n\n' "$DEV_PKG"
			printf '%s\n' "$stanzas"
		} >"$OUR_SOURCES" || die "cannot write $OUR_SOURCES"
	fi
	if [ -n "$lines" ]; then
		{
			printf '# Added by mobileid fetch-freeradius-source.sh: source package of the\n'
			printf '# installed FreeRADIUS (headers missing from %s).\n' "$DEV_PKG"
			printf '%s\n' "$lines"
		} >"$OUR_LIST" || die "cannot write $OUR_LIST"
	fi
}

if [ -n "$from_source" ]; then
	: # headers come from the given tree; no apt at all
elif ! source_known; then
	if [ "$is_root" != 1 ]; then
		die "apt knows no source package $stamp (no matching deb-src entry).
Run this script once as root so it can add $OUR_SOURCES, or add a deb-src
entry for the archive of $DEV_PKG yourself and run 'apt-get update'."
	fi
	if [ ! -e "$OUR_SOURCES" ] && [ ! -e "$OUR_LIST" ]; then
		add_deb_src
	fi
	apt-get update -q >>"$log" 2>&1 || die "apt-get update failed"
	source_known ||
		die "apt still cannot find source package $stamp; is that version still in the archive? (apt-cache showsrc $src_pkg)"
fi

# ---------------------------------------------------------------------------
# Download and unpack (dpkg-source applies Debian's patches, which matter:
# the headers must be exactly those of the installed build)
# ---------------------------------------------------------------------------
if [ -n "$from_source" ]; then
	srcinc=$from_source/src/include
else
	apt_opts=(-q)
	[ "$is_root" = 1 ] && apt_opts+=(-o APT::Sandbox::User=root)
	(cd "$tmp" && apt-get "${apt_opts[@]}" source --download-only "$src_pkg=$src_ver") >>"$log" 2>&1 ||
		die "apt-get source $stamp failed"

	dsc=
	for f in "$tmp"/*.dsc; do
		[ -f "$f" ] && dsc=$f
	done
	[ -n "$dsc" ] || die "apt-get source produced no .dsc file"
	(cd "$tmp" && dpkg-source -x "$dsc" src) >>"$log" 2>&1 || die "dpkg-source -x failed"

	srcinc=$tmp/src/src/include
fi
[ -f "$srcinc/radiusd.h" ] || die "unexpected source layout: $srcinc/radiusd.h missing"

# Upstream's install rule (src/include/all.mk) rewrites <freeradius-devel/x.h>
# to <freeradius/x.h>; do the same.
rewrite() {
	sed -e 's/#\([\t ]*\)include <freeradius-devel\/\([^>]*\)>/#\1include <freeradius\/\2>/g' "$1"
}

stage=$tmp/stage/include/freeradius
mkdir -p "$stage"
for h in "$srcinc"/*.h; do
	name=${h##*/}
	if [ -e "$INSTALLED_INC/$name" ]; then
		# Same version check: every header both have must be identical.
		rewrite "$h" | cmp -s - "$INSTALLED_INC/$name" ||
			die "$INSTALLED_INC/$name differs from $name in source package $stamp"
	else
		rewrite "$h" >"$stage/$name"
	fi
done

# Every <freeradius/...> include reachable from the installed headers must
# now resolve.
missing=
for f in "$INSTALLED_INC"/*.h "$stage"/*.h; do
	while IFS= read -r inc; do
		[ -e "$INSTALLED_INC/$inc" ] || [ -e "$stage/$inc" ] || missing="$missing ${f##*/}->$inc"
	done < <(sed -n 's/^#[\t ]*include <freeradius\/\([^>]*\)>.*/\1/p' "$f")
done
[ -z "$missing" ] || die "still unresolved includes:$missing"

# Install into DESTDIR (replace include/ as a whole, stamp last).
rm -rf -- "$DEST/include.new" "$DEST/include.old"
mv "$tmp/stage/include" "$DEST/include.new"
[ -e "$DEST/include" ] && mv "$DEST/include" "$DEST/include.old"
mv "$DEST/include.new" "$DEST/include"
rm -rf -- "$DEST/include.old"
cflags_line >"$DEST/cflags"
printf '%s\n' "$stamp" >"$DEST/.version"

finish

#!/bin/sh
# fetch-source.sh [--file PATH] PKG
#
# Unpacks Debian source package PKG, at the version pinned in sources.pin,
# into $B/src/PKG-UPSTREAM/ with Debian's patches applied, and leaves the
# stamp .wisp-src-VERSION (':' written '_') in it. Does nothing when that
# stamp is there. Downloads go through the private apt configuration of
# apt-source.sh and are kept in $B/apt/source.
#
# --file PATH: only the file PATH of that tree (for a test that needs one
# file of a large package), into $B/src/PKG-UPSTREAM.files/PATH, with the
# Debian patches that touch it applied; prints its absolute path.
set -eu

die() { echo "fetch-source: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$root/$B ;; esac
export B
pins=${WISP_SOURCES_PIN:-$here/sources.pin}

pinned() { sed 's/#.*//' "$pins" | awk -v p="$1" '$1 == p { print $2; exit }'; }

# Upstream version: the Debian version without epoch and revision.
upstream() { echo "$1" | sed 's/^[0-9]*://; s/-[^-]*$//'; }

# Versions of source package $1 in the private lists, one line.
available() {
	APT_CONFIG=$conf apt-cache showsrc "$1" 2>/dev/null |
		awk -v p="$1" 'BEGIN { RS = ""; FS = "\n" }
		{
			name = ""; ver = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Package: /) name = substr($i, 10)
				if ($i ~ /^Version: /) ver = substr($i, 10)
			}
			if (name == p) print ver
		}' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

has_pin() { available "$pkg" | tr ' ' '\n' | grep -qxF "$ver"; }

find_pin() {
	conf=$("$here/apt-source.sh")
	has_pin && return 0
	# Lists older than the pin: fetch them once more before giving up.
	conf=$("$here/apt-source.sh" --update)
	has_pin && return 0
	avail=$(available "$pkg")
	die "$pkg: pinned version $ver (in $pins) not available; available: ${avail:-none}"
}

download() {
	(cd "$B/apt/source" &&
		APT_CONFIG=$conf apt-get -q source --download-only "$pkg=$ver") \
		>"$B/apt/source/$pkg.download.log" 2>&1 ||
		die "$pkg $ver: apt-get source failed: see $B/apt/source/$pkg.download.log"
}

# Unpack next to the destination, then rename: an interrupted run never
# leaves a half-patched tree that looks finished.
unpack() {
	dsc=$B/apt/source/${pkg}_$(echo "$ver" | sed 's/^[0-9]*://').dsc
	[ -f "$dsc" ] || die "$pkg $ver: $dsc missing after download"
	rm -rf "$dest" "$dest.tmp"
	dpkg-source --no-copy -x "$dsc" "$dest.tmp" \
		>"$B/apt/source/$pkg.unpack.log" 2>&1 ||
		die "$pkg $ver: dpkg-source -x failed: see $B/apt/source/$pkg.unpack.log"
	touch "$dest.tmp/$stamp"
	mv "$dest.tmp" "$dest"
}

# The tarball of the source package holding $1 (a path of the unpacked
# tree), and that path inside it: a component's own tarball
# (PKG_UP.orig-COMP.tar.*) for a path under COMP/, the main one otherwise.
tarball_of() {
	up=$(upstream "$ver")
	comp=${1%%/*}
	set -- "$B/apt/source/${pkg}_$up.orig-$comp".tar.* "$1"
	if [ -f "$1" ]; then
		echo "$1 ${2#"$comp"/}"
		return
	fi
	set -- "$B/apt/source/${pkg}_$up".orig.tar.* "$2"
	[ -f "$1" ] || die "$pkg $ver: no orig tarball in $B/apt/source"
	echo "$1 $2"
}

# Copies $1 (a path of the unpacked tree) out of its tarball into $work;
# fails when the tarball has no such file. Its members sit under one top
# directory of any name (moby-20.10.24/, ./moby-20.10.24/).
extract_one() {
	tb=$(tarball_of "$1") || exit 1
	set -- "$1" "${tb%% *}" "${tb#* }"
	member=$(tar -tf "$2" | awk -v p="$3" '{ m = $0; sub(/^\.\//, "", m) }
		index(m, "/") && substr(m, index(m, "/") + 1) == p { print; exit }')
	[ -n "$member" ] || return 1
	mkdir -p "$work/$(dirname "$1")"
	tar -xOf "$2" "$member" >"$work/$1"
}

# Files a patch writes ("+++ a/PATH" lines), without their first component.
patched_files() {
	sed -n 's/^+++ [^/]*\/\([^[:space:]]*\).*/\1/p' "$1"
}

# Applies, in series order, each Debian patch that touches $path; the other
# files such a patch touches are extracted first so that it applies whole.
patch_one() {
	set -- "$B/apt/source/${pkg}_$(echo "$ver" | sed 's/^[0-9]*://')".debian.tar.*
	[ -f "$1" ] || die "$pkg $ver: no debian.tar.* (--file knows 3.0 (quilt) packages only)"
	tar -C "$work" -xf "$1" || die "$pkg $ver: cannot unpack $1"
	series=$work/debian/patches/series
	[ -f "$series" ] || return 0
	sed 's/#.*//' "$series" | while read -r name opt; do
		[ -n "$name" ] || continue
		p=$work/debian/patches/$name
		patched_files "$p" | grep -qxF "$path" || continue
		for f in $(patched_files "$p"); do
			[ -e "$work/$f" ] || extract_one "$f" || :
		done
		patch -s -d "$work" "${opt:--p1}" --no-backup-if-mismatch <"$p" ||
			die "$pkg $ver: $name does not apply to $path"
	done
}

# --file: the one file PATH, in its own tree next to the full unpack's.
fetch_file() {
	dest=$dest.files
	[ -e "$dest/$stamp" ] && [ -f "$dest/$path" ] && { echo "$dest/$path"; return; }
	mkdir -p "$B/apt" "$B/src"
	exec 9>"$B/apt/.lock"
	flock 9
	[ -e "$dest/$stamp" ] && [ -f "$dest/$path" ] && { echo "$dest/$path"; return; }
	find_pin
	echo "fetch-source: $pkg $ver: $path -> ${dest#"$root"/}" >&2
	download
	work=$dest.tmp
	rm -rf "$work"
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work"
	extract_one "$path" || die "$pkg $ver: no $path in its tarballs"
	patch_one
	[ -e "$dest/$stamp" ] || rm -rf "$dest"
	mkdir -p "$(dirname "$dest/$path")"
	mv "$work/$path" "$dest/$path"
	touch "$dest/$stamp"
	echo "$dest/$path"
}

path=
if [ "${1:-}" = --file ] && [ $# = 3 ]; then path=$2; shift 2; fi
[ $# = 1 ] || die "usage: fetch-source.sh [--file PATH] PKG"
pkg=$1
ver=$(pinned "$pkg")
[ -n "$ver" ] || die "$pkg: no pin in $pins"
dest=$B/src/$pkg-$(upstream "$ver")
stamp=.wisp-src-$(echo "$ver" | tr : _)
if [ -n "$path" ]; then
	fetch_file
	exit 0
fi
[ -e "$dest/$stamp" ] && exit 0

mkdir -p "$B/apt" "$B/src"
# One apt user at a time: parallel make fetches several packages at once.
exec 9>"$B/apt/.lock"
flock 9
[ -e "$dest/$stamp" ] && exit 0
find_pin
echo "fetch-source: $pkg $ver -> ${dest#"$root"/}"
download
unpack

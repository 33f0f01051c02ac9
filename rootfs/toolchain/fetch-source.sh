#!/bin/sh
# fetch-source.sh PKG
#
# Unpacks Debian source package PKG, at the version pinned in sources.pin,
# into $B/src/PKG-UPSTREAM/ with Debian's patches applied, and leaves the
# stamp .wisp-src-VERSION (':' written '_') in it. Does nothing when that
# stamp is there. Downloads go through the private apt configuration of
# apt-source.sh and are kept in $B/apt/source.
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

[ $# = 1 ] || die "usage: fetch-source.sh PKG"
pkg=$1
ver=$(pinned "$pkg")
[ -n "$ver" ] || die "$pkg: no pin in $pins"
dest=$B/src/$pkg-$(upstream "$ver")
stamp=.wisp-src-$(echo "$ver" | tr : _)
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

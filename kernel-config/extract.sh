#!/bin/sh
# extract.sh TARBALL DEST STAMP
#
# Unpacks Debian's linux-source tarball into DEST and writes STAMP (inside
# DEST) last. Unpacks next to DEST and renames, so an interrupted run never
# leaves a half tree behind a stamp. The tree is only ever read (builds use
# O=), so it stays byte-identical to the package.
#
# Several makes may run in one checkout at once: DEST's lock is held
# exclusively here and shared by everything that reads the tree, and a make
# that lost the race finds the stamp already written and does nothing.
set -eu

main() {
	[ $# -eq 3 ] || { echo "usage: $0 TARBALL DEST STAMP" >&2; exit 2; }
	tarball=$1 dest=${2%/} stamp=$3
	parent=$(dirname "$dest")
	top=$(basename "$dest")
	mkdir -p "$parent"
	exec 8> "$parent/.$top.lock"
	flock 8
	[ -f "$stamp" ] && return 0
	tmp=$parent/.extract.$top.$$
	rm -rf "$tmp"
	mkdir "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	echo "kernel: extracting $tarball"
	tar -xJf "$tarball" -C "$tmp"
	[ -d "$tmp/$top" ] || { echo "kernel: $tarball has no $top/" >&2; exit 1; }
	rm -rf "$dest"
	mv "$tmp/$top" "$dest"
	echo "unpacked from $tarball" > "$stamp"
}

main "$@"

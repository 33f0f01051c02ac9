#!/bin/sh
# merge.sh SRCDIR CFGDIR FRAGMENT...
#
# Writes CFGDIR/.config: `make tinyconfig`, the fragments merged on top in
# the order given, then olddefconfig to settle dependencies and defaults.
# Then check.sh makes sure no request was lost on the way.
# Takes a few seconds, so the kernel rule can afford to run it every time.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# The kernel's make must see neither our make's flags nor its command-line
# variables (B=, O=, V=... would be passed down through MAKEFLAGS).
kmake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES -u MAKELEVEL \
	    -u KCONFIG_CONFIG \
	    make -C "$src" O="$cfg" ARCH=x86_64 "$@"
}

abspaths() {
	for f in "$@"; do
		case $f in /*) echo "$f" ;; *) echo "$PWD/$f" ;; esac
	done
}

# What tinyconfig's result depends on: the source (its unpack stamp names
# the package version) and the toolchain, which Kconfig probes.
base_id() {
	echo "$src" "$src"/.wisp-unpacked-*
	stat -c '%Y %s' "$src/Makefile"
	gcc --version | head -n 1
	ld --version | head -n 1
}

# tinyconfig takes most of the merge's time (three Kconfig runs): keep its
# result and redo it only when what it depends on changes.
base() {
	id=$(base_id)
	if [ -f "$cfg/tinyconfig" ] && [ "$(cat "$cfg/tinyconfig.id")" = "$id" ]; then
		cp "$cfg/tinyconfig" "$cfg/.config"
		return
	fi
	kmake tinyconfig >> "$log" 2>&1 || fail "make tinyconfig"
	cp "$cfg/.config" "$cfg/tinyconfig"
	echo "$id" > "$cfg/tinyconfig.id"
}

merge() {
	log=$cfg/merge.log
	: > "$log"
	base
	# merge_config.sh puts its temporary files in the current directory
	(cd "$cfg" && "$src/scripts/kconfig/merge_config.sh" -m -O . .config \
	    "$@") >> "$log" 2>&1 || fail "merge_config.sh"
	kmake olddefconfig >> "$log" 2>&1 || fail "make olddefconfig"
}

fail() {
	tail -n 20 "$log" >&2
	echo "kernel-config: $1 failed (log: $log)" >&2
	exit 1
}

main() {
	[ $# -ge 3 ] || { echo "usage: $0 SRCDIR CFGDIR FRAGMENT..." >&2; exit 2; }
	src=$(cd "$1" && pwd)
	mkdir -p "$2"
	cfg=$(cd "$2" && pwd)
	shift 2
	# shellcheck disable=SC2046 # fragment paths have no blanks
	set -- $(abspaths "$@")
	merge "$@"
	"$here/check.sh" "$cfg/.config" "$src" "$@"
}

main "$@"

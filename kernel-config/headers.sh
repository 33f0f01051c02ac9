#!/bin/sh
# headers.sh SRCDIR OBJDIR DEST
#
# Installs the kernel's UAPI headers into DEST/include (headers_install),
# building out of tree in OBJDIR so the source stays pristine. rsync adds
# and replaces files but deletes nothing: DEST/include is shared with the
# musl libraries that rootfs.mk installs there.
set -eu

main() {
	[ $# -eq 3 ] || { echo "usage: $0 SRCDIR OBJDIR DEST" >&2; exit 2; }
	src=$1 obj=$2 dest=$3
	mkdir -p "$obj" "$dest"
	obj=$(cd "$obj" && pwd)
	dest=$(cd "$dest" && pwd)
	# parallel `make sysroot` runs would share OBJDIR; extract.sh must not
	# replace the source tree under us
	exec 9> "$obj/.lock"
	flock 9
	exec 8> "$(dirname "$src")/.$(basename "$src").lock"
	flock -s 8
	echo "kernel: headers_install -> $dest/include"
	env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES -u MAKELEVEL LC_ALL=C \
	    make -s -C "$src" O="$obj" ARCH=x86_64 \
	    INSTALL_HDR_PATH="$dest" headers_install
	[ -f "$dest/include/linux/version.h" ] ||
		{ echo "kernel: headers_install left no linux/version.h" >&2; exit 1; }
}

main "$@"

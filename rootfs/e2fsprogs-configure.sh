#!/bin/sh
# e2fsprogs-configure.sh SRC OBJ
#
# Configures e2fsprogs in OBJ (made anew) for static musl e2fsck and
# resize2fs. CC, CFLAGS and LDFLAGS come from the environment. The options
# live here rather than in rootfs.mk so that changing them reconfigures
# (the rule depends on this file) and editing rootfs.mk does not.
set -eu

die() { echo "e2fsprogs: $*" >&2; exit 1; }

[ $# = 2 ] || die "usage: e2fsprogs-configure.sh SRC OBJ"
src=$(cd "$1" && pwd)
obj=$2
rm -rf "$obj"
mkdir -p "$obj"
cd "$obj"
echo "e2fsprogs: configure (log: $obj/configure.log)"
# musl has no libuuid or libblkid: e2fsprogs' own, linked in statically.
# No NLS, fuse, daemons or udev/cron/systemd files: ROOT has none of them.
# No tdb (only e2undo and the -z undo files use it), no debug I/O manager,
# no backtrace (musl has no execinfo.h).
"$src/configure" \
	--enable-libuuid --enable-libblkid --disable-elf-shlibs \
	--disable-nls --disable-fuse2fs --disable-uuidd \
	--disable-debugfs --disable-imager --disable-defrag \
	--disable-e2initrd-helper --disable-tdb --disable-testio-debug \
	--disable-backtrace --disable-bmap-stats --disable-rpath \
	--without-libarchive --with-crond-dir=no \
	--with-systemd-unit-dir=no --with-udev-rules-dir=no \
	>configure.log 2>&1 || die "configure failed: see $obj/configure.log"

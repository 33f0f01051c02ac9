#!/bin/sh
# dropbear-configure.sh SRC OBJ
#
# Configures dropbear in OBJ (made anew, out of tree) for a static musl
# server. CC, CFLAGS and LDFLAGS come from the environment; compile-time
# options are rootfs/dropbear-localoptions.h, copied in as localoptions.h.
# The options live here rather than in rootfs.mk so that changing them
# reconfigures (the rule depends on this file).
set -eu

die() { echo "dropbear: $*" >&2; exit 1; }

[ $# = 2 ] || die "usage: dropbear-configure.sh SRC OBJ"
src=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
obj=$2
rm -rf "$obj"
mkdir -p "$obj"
cp "$here/dropbear-localoptions.h" "$obj/localoptions.h"
cd "$obj"
echo "dropbear: configure (log: $obj/configure.log)"
# The bundled libtomcrypt/libtommath: Debian's are glibc shared libraries.
# No zlib (compression is off by default in OpenSSH clients anyway), no PAM.
# No syslog: Wisp runs no syslogd; dropbear logs to stderr, the unit's log.
# No lastlog/utmp/wtmp: musl's are stubs and /var/log has no such files.
# No --enable-harden: it adds -pie alone, which a -static link refuses; rootfs.mk
# makes it static-pie with its compiler (the top Makefile's MUSL_PIE_CC).
# libtommath defaults to -O3 -funroll-loops; size matters more here.
LTM_CFLAGS=-Os "$src/configure" \
	--enable-bundled-libtom --disable-zlib --disable-pam --disable-syslog \
	--disable-lastlog --disable-utmp --disable-utmpx --disable-wtmp \
	--disable-wtmpx --disable-loginfunc --disable-pututline \
	--disable-pututxline --disable-harden \
	>configure.log 2>&1 || die "configure failed: see $obj/configure.log"

#!/bin/sh
# build.sh: merged config -> cached or freshly built bzImage -> build/kernel.
#
# Called by kernel.mk on every `make`, so the common case (nothing changed)
# must be cheap: merge the fragments (seconds), hash, copy from the cache.
# Inputs come from the environment (set by kernel.mk):
#   KSRC     pristine kernel source tree (never written to)
#   KOBJ     directory for the out-of-tree build (O=) and the config merge
#   KCACHE   cache root: KCACHE/<key>/{bzImage,config,System.map}
#   KOUT     result directory: KOUT/{bzImage,config,System.map}
#   KPKGVER  version of Debian's linux-source package
#   KEPOCH   seconds since the epoch, for KBUILD_BUILD_TIMESTAMP
#   KBUDGET  maximum bzImage size in bytes
#   NPROC    parallel jobs
# Arguments: the fragments, in merge order.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

abs() { (cd "$1" && pwd); }
say() { echo "kernel: $*"; }
die() { echo "kernel: $*" >&2; exit 1; }

# The key names everything the bzImage is a function of. The timestamp is
# in it because it is baked into the image: a cached kernel must carry the
# same one a clean build would.
cache_key() {
	{
		echo "wisp-kernel-cache v1"
		echo "source linux-source-6.1 $KPKGVER"
		echo "compiler $(gcc --version | head -n 1)"
		echo "timestamp $KEPOCH"
		echo "builder $(sha256sum <"$0" | cut -d ' ' -f 1)"
		cat "$1"
	} | sha256sum | cut -d ' ' -f 1
}

# The kernel's make must not inherit our make's flags or command-line
# variables; the build identity is fixed so the image is reproducible.
kmake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES -u MAKELEVEL \
	    -u KCONFIG_CONFIG \
	    LC_ALL=C TZ=UTC \
	    KBUILD_BUILD_TIMESTAMP="$(date -u -d "@$KEPOCH" '+%a %b %e %H:%M:%S UTC %Y')" \
	    KBUILD_BUILD_USER=wisp KBUILD_BUILD_HOST=wisp KBUILD_BUILD_VERSION=1 \
	    make -C "$KSRC" O="$KOBJ/build" ARCH=x86_64 "$@"
}

# Copy only when the content differs, so the mtime of the result (and with
# it everything downstream in make) moves only when the kernel does.
install_if_changed() {
	if ! cmp -s "$1" "$2"; then
		cp "$1" "$2.tmp"
		mv -f "$2.tmp" "$2"
		return 0
	fi
	return 1
}

build() {
	key=$1 cfg=$2
	mkdir -p "$KOBJ/build"
	install_if_changed "$cfg" "$KOBJ/build/.config" || :
	log=$KOBJ/build.log
	say "building $(printf %.12s "$key") with $NPROC jobs (log: $log)"
	start=$(date +%s)
	if ! kmake -j"$NPROC" bzImage > "$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "build failed (log: $log)"
	fi
	# syncconfig must not have changed anything the merge settled
	cmp -s "$cfg" "$KOBJ/build/.config" ||
		die "the kernel build changed .config; run 'make kernel' again"
	say "built in $(($(date +%s) - start)) s"
	tmp=$KCACHE/.$key.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	cp "$KOBJ/build/arch/x86/boot/bzImage" "$tmp/bzImage"
	cp "$KOBJ/build/System.map" "$tmp/System.map"
	cp "$cfg" "$tmp/config"
	# rename is atomic: a concurrent reader sees all of the entry or none
	mv "$tmp" "$KCACHE/$key" 2>/dev/null || rm -rf "$tmp"
}

report_size() {
	size=$(wc -c < "$1")
	kib=$(((size + 1023) / 1024))
	say "$2: $size bytes ($kib KiB; budget $((KBUDGET / 1024)) KiB)"
	[ "$size" -le "$KBUDGET" ] ||
		die "bzImage is over its size budget by $((size - KBUDGET)) bytes"
}

main() {
	mkdir -p "$KOBJ" "$KCACHE" "$KOUT"
	shown=${KOUT%/}/bzImage
	# O= is taken relative to the source tree: use absolute paths
	KSRC=$(abs "$KSRC") KOBJ=$(abs "$KOBJ")
	KCACHE=$(abs "$KCACHE") KOUT=$(abs "$KOUT")
	# one kernel build per checkout at a time (builds share KOBJ), and
	# none while extract.sh replaces the source tree
	exec 9> "$KOBJ/.lock"
	flock -n 9 || { say "waiting for another kernel build"; flock 9; }
	exec 8> "$(dirname "$KSRC")/.$(basename "$KSRC").lock"
	flock -s 8
	"$here/merge.sh" "$KSRC" "$KOBJ/config" "$@"
	cfg=$KOBJ/config/.config
	key=$(cache_key "$cfg")
	if [ -f "$KCACHE/$key/bzImage" ] && [ -f "$KCACHE/$key/config" ] &&
	    [ -f "$KCACHE/$key/System.map" ]; then
		say "cached $(printf %.12s "$key")"
	else
		build "$key" "$cfg"
	fi
	if install_if_changed "$KCACHE/$key/bzImage" "$KOUT/bzImage"; then
		say "updated $shown"
	fi
	install_if_changed "$KCACHE/$key/config" "$KOUT/config" || :
	install_if_changed "$KCACHE/$key/System.map" "$KOUT/System.map" || :
	report_size "$KOUT/bzImage" "$shown"
}

main "$@"

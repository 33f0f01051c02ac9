#!/bin/sh
# Reproducibility, two ways:
#  1. the image step: two image-builder runs from the same inputs and
#     SOURCE_DATE_EPOCH, in different temporary directories, give the same
#     bytes as build/wisp.img made by `make`;
#  2. the whole build: a copy of the source tree in another directory,
#     built from scratch (only the kernel may come from the shared cache,
#     whose entries are keyed by their inputs), gives the same bytes for
#     every artefact, the disk image and its cloud formats.
# Needs: B, SOURCE_DATE_EPOCH and KERNEL_EPOCH from make.
set -eu
B=${B:-build}
out=$B/tests/repro
rm -rf "$out"; mkdir -p "$out/t1" "$out/t2"
sum() { sha256sum <"$1" | cut -d' ' -f1; }
fail() { echo "FAIL reproducible: $*" >&2; exit 1; }

for i in 1 2; do
	$B/host/image-builder -C . --tmpdir "$PWD/$out/t$i" -o "$out/wisp$i.img" \
		image-builder/wisp.yaml >"$out/build$i.log"
done
s0=$(sum "$B/wisp.img") s1=$(sum "$out/wisp1.img") s2=$(sum "$out/wisp2.img")
echo "  image step: make $s0, run1 $s1, run2 $s2"
[ "$s0" = "$s1" ] && [ "$s1" = "$s2" ] || fail "image-builder runs differ"
echo "  ok: image step is reproducible"

copy=$out/tree
mkdir -p "$copy"
git ls-files -co --exclude-standard -z | xargs -0 tar cf - | tar xf - -C "$copy"
echo "  building a copy of the tree in $copy (log: $out/copy.log)"
if ! make -C "$copy" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" KERNEL_EPOCH="$KERNEL_EPOCH" \
		all >"$out/copy.log" 2>&1; then
	tail -20 "$out/copy.log" >&2; fail "the copy did not build"
fi
bad=0
for f in kernel/bzImage init/init busybox/busybox e2fsprogs/e2fsck e2fsprogs/resize2fs \
		dropbear/dropbearmulti wisp.kernel wisp.cmdline wisp.root wisp.verity wisp.img \
		wisp-update.bundle cloud/wisp.qcow2 cloud/wisp.vhd cloud/wisp.vmdk \
		cloud/wisp-gce.tar.gz cloud/wisp.iso init/initramfs-init cloud/pxe/vmlinuz \
		cloud/pxe/initrd.img cloud/pxe/cmdline cloud/pxe/boot.ipxe cloud/pxe/grub.cfg \
		cloud/pxe/grubx64.efi; do
	a=$(sum "$B/$f") b=$(sum "$copy/build/$f")
	if [ "$a" = "$b" ]; then echo "  same $f $a"; else echo "  DIFF $f $a $b"; bad=1; fi
done
[ $bad = 0 ] || fail "a build of the same tree elsewhere gave different bytes"
rm -rf "$out"
echo "PASS reproducible"

#!/bin/sh
# Two builds of the image from the same inputs and SOURCE_DATE_EPOCH, in
# different temporary directories, must be byte-identical, and identical to
# build/wisp.img made by `make`.
set -eu
B=${B:-build}
out=$B/tests/repro
rm -rf "$out"; mkdir -p "$out/t1" "$out/t2"
for i in 1 2; do
	TMPDIR=$PWD/$out/t$i $B/host/image-builder -C . -o "$out/wisp$i.img" image-builder/wisp.yaml >"$out/build$i.log"
done
s0=$(sha256sum <"$B/wisp.img" | cut -d' ' -f1)
s1=$(sha256sum <"$out/wisp1.img" | cut -d' ' -f1)
s2=$(sha256sum <"$out/wisp2.img" | cut -d' ' -f1)
echo "  sha256 make: $s0"
echo "  sha256 run1: $s1"
echo "  sha256 run2: $s2"
if [ "$s1" != "$s2" ] || [ "$s0" != "$s1" ]; then
	echo "FAIL reproducible: the image differs between builds" >&2
	cmp -l "$out/wisp1.img" "$out/wisp2.img" | head -5 >&2 || true
	exit 1
fi
rm -rf "$out"
echo "PASS reproducible"

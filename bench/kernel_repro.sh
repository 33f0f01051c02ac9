#!/bin/sh
# The kernel, built twice from nothing: two empty caches and build trees
# (WISP_CACHE and B of their own), the same sources and KERNEL_EPOCH. The
# reproducibility system test rebuilds everything else but takes the kernel
# from the shared cache, so only this shows that the kernel build itself is
# reproducible. Prints each build's time and its bzImage's SHA-256; exits 1
# when they differ. About 2 x 6 minutes on 2 cores (make bench runs it with
# WISP_BENCH_CLEAN=1).
set -eu
B=${B:-build}
work=$B/bench/kernel-repro
rm -rf "$work"
for i in 1 2; do
	mkdir -p "$work/$i"
	t0=$(date +%s.%N)
	make -s B="$work/$i/build" WISP_CACHE="$work/$i/cache" kernel >"$work/$i.log" 2>&1 ||
		{ echo "kernel_repro: build $i failed (see $work/$i.log)" >&2; exit 1; }
	t1=$(date +%s.%N)
	sum=$(sha256sum <"$work/$i/build/kernel/bzImage" | cut -d' ' -f1)
	printf 'kernel_build_%d_s %.0f bzImage %s\n' "$i" "$(echo "$t1 - $t0" | bc)" "$sum"
	eval "sum$i=\$sum"
done
# shellcheck disable=SC2154 # set by the eval above
if [ "$sum1" = "$sum2" ]; then
	echo "kernel_reproducible yes"
	rm -rf "$work"
else
	echo "kernel_reproducible NO: the two bzImages differ (kept in $work)"
	exit 1
fi

#!/bin/sh
# Every number of bench/RESULTS.md but the fuzzing (make fuzz). Prints,
# does not judge; results are copied into bench/RESULTS.md with the command
# that produced them. `make bench` runs it, as root.
#   bench/run.sh            sizes, rebuild time, cached kernel step, kernel
#                           time to init, provisioning time, PID 1's numbers
#                           (TCG), Secure Boot's boot cost, containerd-lite
#                           against crun and runc
#                           (device policy and user namespace rows too), the
#                           seccomp filter's build cost, the image store
#                           against umoci (ext4, then tmpfs), file creation
#   WISP_BENCH_CLEAN=1 ...  also a clean build in build/bench-clean and the
#                           kernel built twice from nothing (minutes)
# Not here: the fuzzing (make fuzz, bench/fuzz_cpu.sh) and the comparisons
# with another tree (bench/init_numbers.py and bench/provision.py take
# several; RESULTS.md gives their command lines).
set -eu
B=${B:-build}
echo "== sizes"
bench/sizes.sh "$B"

echo "== image rebuild after touching one rootfs file"
make -s all >/dev/null
touch rootfs/skel/etc/profile
t0=$(date +%s.%N)
make -s all >/dev/null
t1=$(date +%s.%N)
printf 'rebuild_s %.2f (target 5)\n' "$(echo "$t1 - $t0" | bc)"

echo "== cached kernel step (config merge and option check, kernel from the cache)"
t0=$(date +%s.%N)
make -s kernel >/dev/null
t1=$(date +%s.%N)
printf 'cached_make_kernel_s %.2f\n' "$(echo "$t1 - $t0" | bc)"

echo "== kernel time to init under TCG (direct -kernel boot, kernel timestamps)"
python3 bench/boot_time.py "$B" "${WISP_BENCH_BOOTS:-3}"

echo "== provisioning: init's start to the end of cloud-init's step (TCG)"
python3 bench/provision.py "$B" "${WISP_BENCH_BOOTS:-3}"

echo "== what Secure Boot costs a boot: OVMF, OVMF's Secure Boot, the signed image (TCG)"
make -s "$B/secureboot/wisp.img" >/dev/null
B="$B" python3 bench/secureboot.py "${WISP_BENCH_BOOTS:-3}"

echo "== what a network boot costs against a disk's: iPXE and GRUB over TFTP, the initramfs (TCG)"
B="$B" python3 bench/netboot.py "${WISP_BENCH_BOOTS:-3}"

echo "== PID 1: RSS with 50 units, init's start to the first unit's exec (TCG)"
python3 bench/init_numbers.py -n "${WISP_BENCH_BOOTS:-3}" .

echo "== the floor of that path: an init that only execs busybox cat (TCG)"
python3 bench/exec_floor.py -n "${WISP_BENCH_BOOTS:-3}" .

echo "== provision's whole run on the default image, no datasource (TCG)"
python3 bench/provision_done.py "${WISP_BENCH_BOOTS:-3}" .

echo "== loading a declaration file (native, init's musl build)"
B="$B" sh bench/parse.sh

echo "== containerd-lite against crun and runc (root)"
B="$B" WISP_BENCH_DEVICES="${WISP_BENCH_DEVICES:-1}" WISP_BENCH_USERNS="${WISP_BENCH_USERNS:-1}" \
	python3 bench/runtime.py

echo "== ctr run (containerd 1.6's runc v2 shim) with containerd-lite and runc (root)"
# crun cannot run ctr's spec on these hosts (RLIMIT_MEMLOCK): named, not hidden.
B="$B" WISP_BENCH_NO_CRUN=1 python3 bench/ctr_run.py

echo "== a container on the bridge with a published port: containerd-lite against the CNI plugins (root)"
B="$B" python3 bench/net_attach.py

echo "== containerd-lite's seccomp filter built without its cache"
B="$B" sh bench/seccomp.sh

echo "== the image store against umoci (root), on the build's file system"
B="$B" python3 bench/images.py
echo "== the same on a tmpfs"
B="$B" WISP_BENCH_TMPFS=1 python3 bench/images.py

echo "== the cost of creating an empty file (build's file system, /tmp)"
python3 bench/file_create.py "$B/bench" /tmp

if [ "${WISP_BENCH_CLEAN:-0}" = 1 ]; then
	echo "== clean build (build/bench-clean, nothing cached, kernel included)"
	rm -rf "$B/bench-clean"
	t0=$(date +%s.%N)
	make -s B="$B/bench-clean" WISP_CACHE="$B/bench-clean/cache" all >/dev/null
	t1=$(date +%s.%N)
	printf 'clean_build_s %.0f\n' "$(echo "$t1 - $t0" | bc)"
	rm -rf "$B/bench-clean"
fi
if [ "${WISP_BENCH_CLEAN:-0}" = 1 ]; then
	echo "== the kernel built twice from nothing, compared"
	B="$B" sh bench/kernel_repro.sh
fi

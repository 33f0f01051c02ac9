#!/bin/sh
# The cost of building containerd-lite's seccomp filter without its cache
# (bench/RESULTS.md, issue 4): bench/seccomp_build.c compiled against
# containerd-lite's sources with the host's glibc, libseccomp and jansson
# (Debian's libseccomp-dev, libjansson-dev), then run. Needs no root.
#   sh bench/seccomp.sh [RUNS]     medians of RUNS rounds (default 100)
set -eu
B=${B:-build}
out="$B/bench/seccomp_build"
mkdir -p "$B/bench"
cl=containerd-lite
# cl_spec's unit-test sources (containerd-lite.mk) but seccomp.c, which
# the bench program includes to reach its static functions.
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$out" bench/seccomp_build.c \
	$cl/runtime/spec.c $cl/runtime/err.c $cl/runtime/util.c $cl/cli/defspec.c $cl/runtime/caps.c \
	$cl/runtime/rlimits.c $cl/runtime/ns.c $cl/runtime/seccomp-cache.c $cl/runtime/signals.c \
	$cl/runtime/state.c $cl/runtime/cgroup.c $cl/runtime/devices.c $cl/runtime/rootpath.c \
	$cl/runtime/kerneltree.c $cl/runtime/pidfd.c \
	-ljansson -lseccomp
"$out" "${1:-${WISP_BENCH_RUNS:-100}}"

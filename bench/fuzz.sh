#!/bin/sh
# Fuzz every target for a bounded time (libFuzzer, clang from Debian:
# packages clang and libclang-rt-14-dev). Prints one line per target.
#   bench/fuzz.sh                 each target FUZZ_SECONDS (default 60)
#   bench/fuzz.sh decl            only the named targets (an unknown name is an error)
# `make test` runs every target briefly (make fuzz-test: FUZZ_SECONDS=20),
# `make fuzz` for longer (FUZZ_SECONDS, default 600).
# Corpora grow in build/fuzz/corpus-NAME (seeded from tests/fuzz/seeds/NAME);
# a crash, or a target that does not build, makes the script fail.
set -eu
B=${B:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Iinit"

# name: sources and libraries (one target a line; add yours here)
TARGETS='
decl: tests/fuzz/fuzz_decl.c init/lib/decl.c init/lib/declset.c init/lib/yamltree.c init/lib/parse.c init/lib/users.c init/lib/deps.c init/lib/err.c init/lib/util.c -lyaml
declbin: tests/fuzz/fuzz_declbin.c init/lib/declbin.c init/lib/decl.c init/lib/declset.c init/lib/yamltree.c init/lib/parse.c init/lib/users.c init/lib/deps.c init/lib/err.c init/lib/util.c -lyaml
netcfg: tests/fuzz/fuzz_netcfg.c init/lib/b64.c init/lib/regcfg.c init/provision/parse/userdata.c init/provision/parse/gunzip.c init/provision/parse/yvalue.c init/provision/parse/cloudcfg.c init/provision/parse/ccreg.c init/provision/parse/ccca.c init/provision/parse/netcfg.c init/provision/parse/meta.c init/provision/parse/ovfenv.c init/provision/parse/xmltext.c init/provision/parse/plan.c init/provision/parse/child.c init/lib/yamltree.c init/lib/parse.c init/lib/err.c init/lib/util.c -lyaml -lz
proto: tests/fuzz/fuzz_proto.c init/lib/proto.c init/lib/err.c init/lib/util.c
cl_spec: tests/fuzz/fuzz_cl_spec.c -Icontainerd-lite containerd-lite/runtime/spec.c containerd-lite/runtime/err.c init/lib/ttyesc.c containerd-lite/runtime/util.c containerd-lite/runtime/caps.c containerd-lite/runtime/rlimits.c containerd-lite/runtime/ns.c containerd-lite/runtime/pidfd.c containerd-lite/runtime/seccomp.c containerd-lite/runtime/seccomp-cache.c containerd-lite/runtime/signals.c -ljansson -lseccomp
cloudcfg: tests/fuzz/fuzz_cloudcfg.c init/lib/b64.c init/lib/regcfg.c init/provision/parse/userdata.c init/provision/parse/gunzip.c init/provision/parse/yvalue.c init/provision/parse/cloudcfg.c init/provision/parse/ccreg.c init/provision/parse/ccca.c init/provision/parse/netcfg.c init/provision/parse/meta.c init/provision/parse/ovfenv.c init/provision/parse/xmltext.c init/provision/parse/plan.c init/provision/parse/child.c init/lib/yamltree.c init/lib/parse.c init/lib/err.c init/lib/util.c -lyaml -lz
plan: tests/fuzz/fuzz_plan.c init/lib/b64.c init/lib/regcfg.c init/provision/parse/userdata.c init/provision/parse/gunzip.c init/provision/parse/yvalue.c init/provision/parse/cloudcfg.c init/provision/parse/ccreg.c init/provision/parse/ccca.c init/provision/parse/netcfg.c init/provision/parse/meta.c init/provision/parse/ovfenv.c init/provision/parse/xmltext.c init/provision/parse/plan.c init/provision/parse/child.c init/lib/yamltree.c init/lib/parse.c init/lib/err.c init/lib/util.c -lyaml -lz
image: tests/fuzz/fuzz_image.c -Icontainerd-lite containerd-lite/image/source.c containerd-lite/image/blob.c containerd-lite/image/reserve.c containerd-lite/image/fs.c containerd-lite/image/sha256.c containerd-lite/runtime/err.c init/lib/ttyesc.c containerd-lite/runtime/util.c -ljansson
bundle: tests/fuzz/fuzz_bundle.c init/update/bundle.c init/update/manifest.c init/update/minisig.c init/update/version.c init/update/utc.c init/update/slotcfg.c init/update/kargs.c init/lib/err.c init/lib/util.c -lsodium
pull: tests/fuzz/fuzz_pull.c -Icontainerd-lite containerd-lite/image/ref.c containerd-lite/image/httphdr.c containerd-lite/image/auth.c containerd-lite/image/regcfg.c containerd-lite/image/mtype.c containerd-lite/image/blob.c containerd-lite/image/reserve.c containerd-lite/image/fs.c containerd-lite/image/sha256.c containerd-lite/runtime/err.c init/lib/ttyesc.c containerd-lite/runtime/util.c -ljansson
ib_spec: tests/fuzz/fuzz_ib_spec.c image-builder/spec.c image-builder/spec_emit.c image-builder/size.c image-builder/err.c image-builder/fsutil.c init/lib/regcfg.c init/lib/b64.c init/lib/err.c init/lib/util.c init/update/kargs.c -lyaml
tar: tests/fuzz/fuzz_tar.c -Icontainerd-lite containerd-lite/image/tar.c containerd-lite/image/tar_path.c containerd-lite/image/tar_extract.c containerd-lite/image/reserve.c containerd-lite/image/fs.c containerd-lite/image/stream.c containerd-lite/image/sha256.c containerd-lite/runtime/err.c init/lib/ttyesc.c containerd-lite/runtime/util.c -lz -lzstd
'

names=$(echo "$TARGETS" | sed -n 's/^\([a-z_]*\):.*/\1/p')
for want in "$@"; do
	echo " $names " | tr '\n' ' ' | grep -q " $want " ||
		{ echo "fuzz: no target \"$want\" (targets: $(echo $names))" >&2; exit 2; }
done
# Every target source has its line above, so none can stop compiling unnoticed.
for f in tests/fuzz/fuzz_*.c; do
	n=${f#tests/fuzz/fuzz_}; n=${n%.c}
	echo " $names " | tr '\n' ' ' | grep -q " $n " ||
		{ echo "fuzz: $f has no line in bench/fuzz.sh's TARGETS" >&2; exit 2; }
done
mkdir -p "$B/fuzz"
fail=0
echo "$TARGETS" | while IFS=: read -r name srcs; do
	[ -n "$name" ] || continue
	if [ $# -gt 0 ] && ! echo " $* " | grep -q " $name "; then continue; fi
	bin=$B/fuzz/fuzz_$name corpus=$B/fuzz/corpus-$name
	mkdir -p "$corpus"
	[ -d "tests/fuzz/seeds/$name" ] || { echo "fuzz_$name FAILED: no seeds in tests/fuzz/seeds/$name"; exit 1; }
	cp -n tests/fuzz/seeds/$name/* "$corpus/" 2>/dev/null || true
	# shellcheck disable=SC2086
	clang $CFLAGS -o "$bin" $srcs || { echo "fuzz_$name: build FAILED"; exit 1; }
	log=$B/fuzz/$name.log
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$B/fuzz/crash-$name-" "$corpus" >"$log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
		[ -n "$runs" ] || runs=$(grep -Eo '#[0-9]+' "$log" | tail -1 | tr -d '#')
		echo "fuzz_$name ok: ${runs:-?} runs in ${FUZZ_SECONDS} s, corpus $(ls "$corpus" | wc -l)"
	else
		echo "fuzz_$name FAILED (see $log):"; tail -n 20 "$log"; exit 1
	fi
done || fail=1
exit $fail

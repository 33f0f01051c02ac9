# tests/tests.mk: unit tests (native, cmocka, ASan + UBSan) and system tests.
#
# A component registers a unit test tests/unit/test_NAME.c in its own .mk:
#   UNIT_TESTS += NAME
#   UNIT_NAME_SRCS := init/lib/decl.c init/lib/err.c     # code under test
#   UNIT_NAME_LIBS := -lyaml                      # extra libraries
#   UNIT_NAME_INCLUDED := init/pid1/control.c     # in SRCS, #included by the test, not linked
# It is built as build/unit/test_NAME with $(HOST_CFLAGS) $(SAN_FLAGS). Helpers the
# tests share are headers in tests/unit (logged.h: log_msg() into a buffer).

.SECONDEXPANSION:
UNIT_BINS = $(UNIT_TESTS:%=$(B)/unit/test_%)

$(B)/unit/test_%: tests/unit/test_%.c $$(UNIT_$$*_SRCS) $(wildcard tests/unit/*.h) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Iinit -Iimage-builder -Icontainerd-lite \
		-o $@ $(filter-out $(UNIT_$*_INCLUDED),$(filter %.c,$^)) $(UNIT_$*_LIBS) -lcmocka

unit-test: $$(UNIT_BINS)
	@test -n "$(UNIT_BINS)" || { echo "unit-test: no unit tests registered" >&2; exit 1; }
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

# System tests boot build/wisp.img under QEMU (TCG; WISP_KVM=1 opts in),
# independent boots in parallel. A subset: make system-test ONLY="boot-bios".
system-test: all
	WISP_VERSION=$(WISP_VERSION) B=$(B) KERNEL_EPOCH=$(KERNEL_EPOCH) \
		python3 tests/system/run.py $(ONLY)
test: cl-test
test: image-test
test: pull-test

# Every C file follows the repo's .clang-format.
.PHONY: format-check
test: format-check
format-check: | $(DEPS_STAMP)
	@bad=$$(for f in $$(git ls-files '*.c' '*.h'); do \
		clang-format --dry-run --Werror "$$f" >/dev/null 2>&1 || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format-check: not clang-formatted (run clang-format -i):" $$bad >&2; exit 1; fi

# init/'s include rules (issue 11): PID 1 and provision include none of each
# other's headers, lib only lib, wispctl only lib/proto.h; no include cycles;
# program, lib and containerd-lite headers under 400 lines; containerd-lite's folders are layers
# (runtime/ < net/ < image/ < cli/). The self-test shows each rule can fail.
.PHONY: include-check
test: include-check
include-check:
	@python3 tests/check_includes.py --self-test
	@python3 tests/check_includes.py

# Every program in the image but PID 1 is static-pie (docs/hardening.md): each
# loads at a random address, PID 1 at its fixed one (the two execs of each are read
# from /proc/PID/maps, stopped by ptrace at their first instruction); an ELF file
# ROOT's manifest names that is not in this list fails it.
PIE_PROGRAMS := $(PROVISION_BIN) $(UPDATE_BIN) $(WISPCTL_BIN) $(INITRAMFS_BIN) $(CL_MUSL) $(BUSYBOX) $(DROPBEAR) \
	$(E2FSCK) $(RESIZE2FS)
.PHONY: pie-check
test: pie-check
pie-check: $(PIE_PROGRAMS) $(INIT_BIN)
	@python3 tests/check_pie.py --manifest rootfs/manifest $(PIE_PROGRAMS) --fixed $(INIT_BIN)

# Third-party code in the image has stack canaries (rootfs/rootfs.mk's ROOTFS_CFLAGS
# and BUSYBOX_CFLAGS, docs/hardening.md): every static library of the sysroot,
# dropbear's and e2fsck's objects, and busybox's DHCP client and shell call
# __stack_chk_fail somewhere (none does without the flag).
.PHONY: ssp-check
test: ssp-check
ssp-check: $(DROPBEAR) $(E2FSCK) $(BUSYBOX) $(PROVISION_BIN) $(CL_MUSL) $(UPDATE_BIN)
	@bad=; for f in $(SYSROOT)/lib/*.a "$(DROPBEAR_OBJ)/*.o" "$(E2FSPROGS_OBJ)/e2fsck/*.o" \
			$(BUSYBOX_OBJ)/networking/udhcp/dhcpc.o $(BUSYBOX_OBJ)/shell/ash.o; do \
		nm $$f 2>/dev/null | grep -q ' U __stack_chk_fail$$' || bad="$$bad $$f"; done; \
	if [ -n "$$bad" ]; then echo "ssp-check: no stack canary in:$$bad" >&2; exit 1; fi; \
	echo "ssp-check: the sysroot's libraries, dropbear, e2fsck and busybox have stack canaries"

# Fuzz targets (tests/fuzz, listed in bench/fuzz.sh): `make test` builds every one
# and runs it on its seeds for FUZZ_TEST_SECONDS; `make fuzz` longer (FUZZ_SECONDS,
# FUZZ="name ..." for some). A crash, or a target that does not build, fails.
FUZZ_TEST_SECONDS ?= 20
FUZZ_SECONDS ?= 600
.PHONY: fuzz fuzz-test
test: fuzz-test
fuzz-test: | $(DEPS_STAMP)
	B=$(B) FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) sh bench/fuzz.sh
fuzz: | $(DEPS_STAMP)
	B=$(B) FUZZ_SECONDS=$(FUZZ_SECONDS) sh bench/fuzz.sh $(FUZZ)

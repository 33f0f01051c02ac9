# Wisp: top-level build. Component rules live next to their code
# (*/*.mk); this file holds the shared variables and the user-facing goals.
#
#   make          build everything (build/wisp.img)
#   make run      build, then boot build/wisp.img in QEMU on this terminal
#   make test     unit tests (ASan/UBSan) and system tests (QEMU boots)
#   make bench    print the numbers recorded in bench/RESULTS.md
#   make deps     install the Debian packages the build and tests need

WISP_VERSION := 0.1.0
B := build
SRC := $(CURDIR)

# One timestamp for everything that ends up in an image: the last commit,
# so that a clean clone rebuilds byte-identical images. Evaluated once (:=):
# a commit made while make runs must not give its later rules another value.
ifndef SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH := $(shell git -C $(SRC) log -1 --format=%ct 2>/dev/null || echo 1767225600)
endif
export SOURCE_DATE_EPOCH

# $(call text_stamp,FILE,TEXT): FILE holds TEXT and is rewritten only when TEXT
# changes, so that a rule depending on FILE reruns exactly then: a value that is
# an input of its output (a flag, a timestamp) but no file make could date.
text_stamp = $(shell mkdir -p $(dir $(1)); f='$(2)'; \
	[ "$$(cat $(1) 2>/dev/null)" = "$$f" ] || echo "$$f" > $(1))

# Rules whose output embeds the timestamp depend on this file, rewritten
# only when the value changes (a new commit), so make redoes them then.
SDE_STAMP := $(B)/.source-date-epoch
$(call text_stamp,$(SDE_STAMP),$(SOURCE_DATE_EPOCH))

NPROC := $(shell nproc 2>/dev/null || echo 2)

# Everything that goes into the image: static, musl, kernel UAPI headers
# from the very kernel source we boot (build/sysroot).
SYSROOT := $(CURDIR)/$(B)/sysroot
MUSL_CC := musl-gcc
# -fstack-protector-strong: Debian's gcc enables no stack protector by default
# (PID 1 takes a lighter one, init/init.mk's INIT_SSP; docs/hardening.md).
# -fPIE: Wisp's programs are static-pie (below), loaded at a random address.
# -z norelro: musl applies PT_GNU_RELRO in its dynamic linker only, so in a
# static binary those pages stay writable anyway (its maps show them rw-p);
# the segment only cost page-alignment padding in the file.
MUSL_CFLAGS := -std=c11 -Os -Wall -Wextra -Werror -D_GNU_SOURCE -fPIE -fstack-protector-strong \
	-isystem $(SYSROOT)/include -ffunction-sections -fdata-sections \
	-ffile-prefix-map=$(CURDIR)/= -DWISP_VERSION='"$(WISP_VERSION)"'
MUSL_LDFLAGS := -static -Wl,--gc-sections -Wl,-z,norelro -s -L$(SYSROOT)/lib
# static-pie (docs/hardening.md): the program relocates itself at its start
# (musl's rcrt1.o) wherever the kernel put it, so its code and globals are at a
# random address at every exec, as its stack, heap and mmaps are. musl-gcc's
# specs start every program with Scrt1.o (no self-relocation): MUSL_PIE_CC is
# musl-gcc with a specs file of ours after its own (rootfs/toolchain/). Every
# program in the image but PID 1 is linked with it, third-party ones too; PID 1
# alone stays at a fixed address (init/init.mk: its budget).
MUSL_PIE_CC := $(CURDIR)/rootfs/toolchain/musl-pie-gcc
# Rewritten only when the flags or the static-pie driver change, so that programs
# built with them are rebuilt then (a flags change is an input change).
MUSL_FLAGS_STAMP := $(B)/.musl-flags
MUSL_PIE_ID := $(shell cat rootfs/toolchain/musl-pie-gcc rootfs/toolchain/musl-pie.specs | sha256sum | cut -c1-16)
$(call text_stamp,$(MUSL_FLAGS_STAMP),$(MUSL_CC) $(MUSL_CFLAGS) $(MUSL_LDFLAGS) pie:$(MUSL_PIE_ID))

# Host tools (image-builder) and unit tests: native glibc.
HOST_CC := gcc
HOST_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-DWISP_VERSION='"$(WISP_VERSION)"'
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

.DEFAULT_GOAL := all
.PHONY: all run test unit-test system-test bench deps deps-check clean distclean

DEPS_STAMP := $(B)/.deps-ok

# What the rest of the Makefile computes from installed packages (the kernel
# source's version, wildcards under /usr) is only right once they are
# installed. An included makefile that depends on the install stamp makes
# GNU make install first, then restart and read everything again, so the
# README's first command works on a fresh machine. Goals that install
# nothing (deps-check, clean) are left alone.
ifneq ($(or $(filter-out deps-check clean distclean,$(MAKECMDGOALS)),$(if $(MAKECMDGOALS),,all)),)
include $(B)/.deps.mk
endif
$(B)/.deps.mk: $(DEPS_STAMP)
	@echo '# $(DEPS_STAMP) is up to date: packages installed before this makefile was read' >$@

include rootfs/toolchain/toolchain.mk
include kernel-config/kernel.mk
include rootfs/rootfs.mk
include init/init.mk
include containerd-lite/containerd-lite.mk
include image-builder/image-builder.mk
include tests/tests.mk
include tests/images.mk
include tests/registry/registry.mk
include tests/escape/escape.mk
include tests/update/update.mk
include tests/system/secureboot.mk

all: $(B)/wisp.img $(WISP_BUNDLE) $(CLOUD_IMAGES)
	@bench/sizes.sh $(B)

# QEMU is the user's; TCG unless WISP_KVM=1 (KVM hangs on some hosts).
run: all
	@tests/system/qemu-run.sh $(B)/wisp.img

test: unit-test system-test

bench: all $(DEBIAN_IMAGE)
	bench/run.sh

clean:
	rm -rf $(B)/init $(B)/host $(B)/unit $(B)/wisp.* $(B)/rootfs $(B)/tmp

distclean:
	rm -rf $(B)

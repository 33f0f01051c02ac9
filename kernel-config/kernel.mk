# kernel-config/kernel.mk: the Wisp kernel and the kernel UAPI headers
# (see kernel-config/README.md and docs/build.md).
#
#   make kernel             build/kernel/{bzImage,config,System.map}, cached if
#                           a kernel of this exact configuration was built
#   make sysroot            kernel headers in build/sysroot/include
#   make kernel-menuconfig  explore options; prints changes as fragment lines
#
# For other .mk files: $(KERNEL_IMAGE), $(KERNEL_CONFIG),
# $(KERNEL_SYSTEM_MAP) (to decode oopses: kernel-config/symbolize.sh), and
# $(SYSROOT_HEADERS), the prerequisite of anything compiled against
# build/sysroot/include.

KERNEL_PKG := linux-source-6.1
KERNEL_TARBALL := /usr/src/$(KERNEL_PKG).tar.xz
KERNEL_PKG_VERSION := $(shell dpkg-query -W -f='$${Version}' $(KERNEL_PKG) 2>/dev/null)
KERNEL_SRC := $(B)/src/$(KERNEL_PKG)
# The stamp is named after the package version: an upgraded package is
# unpacked again even if its tarball is older than the old stamp.
KERNEL_SRC_STAMP := $(KERNEL_SRC)/.wisp-unpacked-$(subst :,_,$(KERNEL_PKG_VERSION))
KERNEL_OBJ := $(B)/obj/kernel
# Outside the checkout by default, like ccache: a fresh clone (CI) reuses
# kernels built from the same inputs. WISP_CACHE=build/cache keeps it local.
WISP_CACHE ?= $(HOME)/.cache/wisp
KERNEL_CACHE := $(WISP_CACHE)/kernel
KERNEL_IMAGE := $(B)/kernel/bzImage
KERNEL_CONFIG := $(B)/kernel/config
KERNEL_SYSTEM_MAP := $(B)/kernel/System.map
KERNEL_BUDGET := 3145728
SYSROOT_HEADERS := $(B)/sysroot/.headers-ok

# Merge order; a later fragment that contradicts an earlier one fails the
# check, so the order only decides which fragment the error names.
KERNEL_FRAGMENTS := $(addprefix kernel-config/, \
	base.config virt.config fs.config containers.config net.config \
	efi.config slots.config hardening.config tpm.config netboot.config)

# KBUILD_BUILD_TIMESTAMP: SOURCE_DATE_EPOCH's rule (time of the last
# commit) applied to the kernel's own inputs, so that an unrelated commit
# does not turn into a new kernel. Falls back to SOURCE_DATE_EPOCH.
ifndef KERNEL_EPOCH
KERNEL_EPOCH := $(shell git -C $(SRC) log -1 --format=%ct -- \
	$(KERNEL_FRAGMENTS) 2>/dev/null)
ifeq ($(KERNEL_EPOCH),)
KERNEL_EPOCH := $(SOURCE_DATE_EPOCH)
endif
endif

.PHONY: kernel sysroot kernel-menuconfig kernel-always

kernel: $(KERNEL_IMAGE)

$(KERNEL_SRC_STAMP): $(wildcard $(KERNEL_TARBALL)) | $(DEPS_STAMP)
	@test -n '$(KERNEL_PKG_VERSION)' || \
		{ echo 'kernel: $(KERNEL_PKG) is not installed (make deps)' >&2; exit 1; }
	@kernel-config/extract.sh $(KERNEL_TARBALL) $(KERNEL_SRC) $@

# The recipe always runs: merging the fragments is the only way to know
# whether the kernel changed. build.sh leaves the outputs' mtimes alone
# when their content is the same, so nothing downstream is redone.
$(KERNEL_IMAGE) $(KERNEL_CONFIG) $(KERNEL_SYSTEM_MAP) &: $(KERNEL_FRAGMENTS) \
		$(KERNEL_SRC_STAMP) kernel-always | $(DEPS_STAMP)
	@KSRC=$(KERNEL_SRC) KOBJ=$(KERNEL_OBJ) KCACHE=$(KERNEL_CACHE) \
	KOUT=$(dir $(KERNEL_IMAGE)) KPKGVER='$(KERNEL_PKG_VERSION)' \
	KEPOCH='$(KERNEL_EPOCH)' KBUDGET=$(KERNEL_BUDGET) NPROC=$(NPROC) \
	kernel-config/build.sh $(KERNEL_FRAGMENTS)

kernel-always:

sysroot: $(SYSROOT_HEADERS)

$(SYSROOT_HEADERS): $(KERNEL_SRC_STAMP) | $(DEPS_STAMP)
	@kernel-config/headers.sh $(KERNEL_SRC) $(B)/obj/kernel-headers $(B)/sysroot
	@touch $@

kernel-menuconfig: $(KERNEL_SRC_STAMP) | $(DEPS_STAMP)
	@kernel-config/menuconfig.sh $(KERNEL_SRC) $(KERNEL_OBJ)/menuconfig \
		$(KERNEL_FRAGMENTS)

# image-builder/image-builder.mk: the image builder (native host tool) and
# the disk image it makes. See docs/image-spec.md.
#
#   build/host/image-builder   spec -> hybrid BIOS/UEFI GPT image
#   build/wisp.img             the image; build/wisp.kernel and
#                              build/wisp.cmdline for direct -kernel boots

IB := $(B)/host/image-builder
IB_SPEC := image-builder/wisp.yaml
IB_MANIFEST := rootfs/manifest
IB_KERNEL := $(B)/kernel/bzImage
IB_LIBS := -lyaml -luuid -lz -lsodium

# update.slot_b reads bundles with the updater's own reader (one format, one parser);
# slot.cfg and the kernel's arguments are rendered by the updater's slotcfg.c.
IB_UPDATE_SRCS := $(addprefix init/update/, bundle.c manifest.c minisig.c version.c utc.c slotcfg.c \
	kargs.c) \
	init/lib/err.c init/lib/util.c
# registries: renders the files user-data's wisp.registries does, with the same code.
IB_REG_SRCS := init/lib/regcfg.c init/lib/b64.c init/lib/etcfiles.c
# ROOT's declarations parsed with init's parser and compiled for PID 1 (decls.c).
IB_DECL_SRCS := $(LIB_DECL)
$(IB): $(wildcard image-builder/*.c) $(wildcard image-builder/*.h) $(IB_UPDATE_SRCS) $(IB_REG_SRCS) \
		$(IB_DECL_SRCS) init/update/update.h init/lib/base.h init/lib/errtext.h init/lib/fdio.h init/lib/regcfg.h init/lib/decl.h \
		init/lib/ytree.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^) $(IB_LIBS)

# The builder writes the exact input list (spec, every manifest, every file
# they name, the kernel) to a depfile when it runs. For the first build,
# when there is no depfile yet, the top-level manifest's files and includes
# are named here so that make builds them (busybox, init, ...) first.
IB_FIRST_DEPS := $(shell awk '$$1 == "file" { print $$3 } $$1 == "include" { print $$2 }' \
	$(IB_MANIFEST) 2>/dev/null)

# The default image's demo container runs this image (wisp.yaml's images:
# and services: demo): the build's busybox, the applets /bin/demo
# (demo.sh) and its health check use, and /tmp. The same bytes from the
# same inputs (busybox_image.py), so it is made again only when one of them
# changes, this file included.
DEMO_IMAGE := $(B)/images/demo.tar
DEMO_APPLETS := sh awk cat date sleep stat
$(DEMO_IMAGE): image-builder/busybox_image.py image-builder/oci_layout.py image-builder/demo.sh \
		image-builder/image-builder.mk $(BUSYBOX) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@python3 image-builder/busybox_image.py -o $@ --busybox $(BUSYBOX) \
		$(DEMO_APPLETS:%=--applet %) --dir tmp:1777 --file bin/demo=image-builder/demo.sh \
		--cmd /bin/demo
	$(call print_size,$@)

# A spec's images: are imported by the host containerd-lite (built first,
# order-only; the depfile names it, and every archive, once a spec has
# images). The default spec's one archive is named here for the first
# build, before there is a depfile.
# One run writes all five (grouped target; $@ may be any of them).
$(B)/wisp.img $(B)/wisp.kernel $(B)/wisp.cmdline $(B)/wisp.root $(B)/wisp.verity &: $(IB) $(IB_SPEC) $(IB_MANIFEST) \
		$(IB_KERNEL) $(IB_FIRST_DEPS) $(DEMO_IMAGE) $(SDE_STAMP) | $(DEPS_STAMP) $(CL_HOST)
	$(IB) -C . -o $(B)/wisp.img -M $(B)/wisp.img.d $(IB_SPEC)
	@n=$$(($$(od -An -tu4 -j 1060 -N4 $(B)/wisp.root) << $$(od -An -tu1 -j 1036 -N1 $(B)/wisp.root))); \
	max=$$(($(ROOT_BUDGET) + $$(stat -c %s $(DEMO_IMAGE)))); \
	[ $$n -le $$max ] || { rm -f $(B)/wisp.img; \
		echo "image: ROOT's erofs is $$n bytes, over its budget of $$max" \
			"($(ROOT_BUDGET) and the demo archive)" >&2; exit 1; }

# ROOT's budget (bench/sizes.sh prints it): its erofs's size, from the superblock at
# 1024 (blocks at +36, log2 of the block size at +12). Past it the build fails and
# leaves no image, as PID 1's (init/init.mk) and the kernel's (kernel.mk) budgets do.
# Wisp's own part; the spec's archive (the demo image), which ROOT carries for the live
# media (image-builder/live.c), is added to it at its size.
ROOT_BUDGET := 2621440

-include $(B)/wisp.img.d

.PHONY: image
image: $(B)/wisp.img

# Unit tests (tests/tests.mk). The header is listed so that changing it
# rebuilds the tests (tests.mk compiles only the .c files).
IB_H := image-builder/image-builder.h init/lib/errtext.h
UNIT_TESTS += ib_spec ib_size ib_gpt ib_manifest ib_grub ib_uuid
IB_SPEC_SRCS := $(addprefix image-builder/,spec.c spec_emit.c size.c err.c fsutil.c) $(IB_REG_SRCS) \
	init/update/kargs.c \
	init/lib/regcfg.h init/lib/err.c init/lib/util.c
UNIT_ib_spec_SRCS := $(IB_H) $(IB_SPEC_SRCS)
UNIT_ib_spec_LIBS := -lyaml
UNIT_ib_size_SRCS := $(IB_H) image-builder/size.c
UNIT_ib_gpt_SRCS := $(IB_H) $(addprefix image-builder/,gpt.c uuid.c err.c)
UNIT_ib_gpt_LIBS := -luuid -lz
UNIT_ib_manifest_SRCS := $(IB_H) $(addprefix image-builder/,manifest.c stage.c err.c fsutil.c)
UNIT_ib_grub_SRCS := $(IB_H) $(addprefix image-builder/,grub.c bios.c verity.c uuid.c size.c err.c \
	fsutil.c exec.c) init/update/slotcfg.c init/update/update.h init/lib/util.c init/lib/err.c
UNIT_ib_grub_LIBS := -luuid
UNIT_ib_uuid_SRCS := $(IB_H) image-builder/uuid.c
UNIT_TESTS += ib_iso
UNIT_ib_iso_SRCS := $(IB_H) image-builder/iso.h $(addprefix image-builder/,iso_boot.c grub.c esp.c \
	verity.c uuid.c size.c err.c fsutil.c exec.c) init/update/slotcfg.c init/update/update.h \
	init/lib/util.c init/lib/err.c
UNIT_ib_iso_LIBS := -luuid
UNIT_TESTS += ib_args
UNIT_ib_args_SRCS := $(IB_H) image-builder/args.c
UNIT_ib_uuid_LIBS := -luuid
UNIT_TESTS += ib_vmdk
UNIT_ib_vmdk_SRCS := $(IB_H) image-builder/vmdk.c

# The signed update bundle (docs/update-bundle.md): the kernel and ROOT's part with its
# verity tree, which `image-builder build` writes beside the image, and the verity
# parameters, under a manifest signed with minisign. `make bundle` signs with the test
# key (tests/keys: public, for tests only); BUNDLE_KEY=path signs with a real one
# (minisign asks for its password). Part of `all`.
WISP_BUNDLE := $(B)/wisp-update.bundle
BUNDLE_KEY ?= tests/keys/wisp-test.key
BUNDLE_EXPIRES ?= 365d
$(WISP_BUNDLE): $(IB) $(B)/wisp.kernel $(B)/wisp.root $(B)/wisp.verity $(IB_SPEC) \
		$(SDE_STAMP) | $(DEPS_STAMP)
	$(IB) bundle -C . -o $@ --key $(BUNDLE_KEY) --expires $(BUNDLE_EXPIRES) --spec $(IB_SPEC) \
		--os-version $(WISP_VERSION) --kernel $(B)/wisp.kernel --root $(B)/wisp.root \
		--verity $(B)/wisp.verity

# The image in each cloud's format (docs/image-spec.md, "Cloud image formats"), part of
# `all` (under a second for the five): build/cloud/wisp.qcow2 (QEMU/KVM, OpenStack),
# wisp.vhd (Azure, Hyper-V: fixed), wisp.vmdk (VMware, AWS VM import: streamOptimized),
# wisp-gce.tar.gz (Google Compute Engine), wisp.iso (a live CD of slot A, BIOS and UEFI),
# pxe/ (a netboot of slot A: vmlinuz, initrd.img, cmdline, boot.ipxe; named by its script).
# The same bytes from the same image and epoch.
CLOUD_IMAGES := $(addprefix $(B)/cloud/,wisp.qcow2 wisp.vhd wisp.vmdk wisp-gce.tar.gz wisp.iso \
	pxe/boot.ipxe)
$(B)/cloud/wisp.%: $(B)/wisp.img $(IB) $(SDE_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(IB) convert --format $* $< $@
	$(call print_size,$@)
$(B)/cloud/wisp-gce.tar.gz: $(B)/wisp.img $(IB) $(SDE_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(IB) convert --format gce $< $@
	$(call print_size,$@)

$(B)/cloud/pxe/boot.ipxe: $(B)/wisp.img $(IB) $(SDE_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(B)/cloud
	$(IB) convert --format pxe $< $(B)/cloud/pxe
	$(call print_size,$(B)/cloud/pxe/initrd.img)

.PHONY: bundle update-test cloud-images
cloud-images: $(CLOUD_IMAGES)
bundle: $(WISP_BUNDLE)

# The writer and the updater together (tests/update/bundle.py): real erofs, veritysetup
# and minisign; the static updater of ROOT runs on the build host, and with wispctl and
# the host's containerd-lite for an apply from a URL.
unit-test: update-test
update-test: $(IB) $(UPDATE_BIN) $(WISPCTL_BIN) $(CL_HOST) | $(DEPS_STAMP)
	@WISP_VERSION=$(WISP_VERSION) python3 tests/update/bundle.py $(IB) $(UPDATE_BIN) tests/keys \
		$(WISPCTL_BIN) $(CL_HOST)

UNIT_TESTS += ib_bundle
UNIT_ib_bundle_SRCS := $(IB_H) $(IB_SPEC_SRCS) $(addprefix image-builder/,bundle_verity.c bundle_args.c \
	bundle.c exec.c secboot.c uuid.c grub.c) init/update/slotcfg.c init/update/version.c
UNIT_ib_bundle_LIBS := -lyaml -lsodium -luuid

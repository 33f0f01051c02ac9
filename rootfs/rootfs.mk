# rootfs/rootfs.mk: the inputs of ROOT other than init, listed in
# rootfs/manifest: static musl busybox, e2fsck and resize2fs, the dropbear
# SSH server, the rendered os-release; and libyaml as a static musl library
# for init. The third-party code comes from the Debian sources pinned in
# rootfs/toolchain/sources.pin.
#
#   make busybox          build/busybox/busybox + busybox.manifest
#   make e2fsprogs        build/e2fsprogs/{e2fsck,resize2fs}
#   make dropbear         build/dropbear/dropbearmulti
#   make libyaml-musl     build/sysroot/lib/libyaml.a + include/yaml.h
#   make rootfs-inputs    everything rootfs/manifest references but init
#                         (build/rootfs/tzrules: time zone rules, from tzdata)
#   make busybox-config   regenerate rootfs/busybox.config (then review it)

.PHONY: busybox e2fsprogs dropbear libyaml-musl rootfs-inputs busybox-config

# Kernel UAPI headers (kernel-config/kernel.mk, `make sysroot`).
SYSROOT_HEADERS ?= $(B)/sysroot/.headers-ok

# Third-party code keeps its own warning flags; ours are for size and for
# the headers of the kernel we boot.
# -ffile-prefix-map: __FILE__ (assertions) must not carry the checkout's
# path, or two clones build different binaries.
ROOTFS_CFLAGS := -Os -ffunction-sections -fdata-sections -isystem $(SYSROOT)/include \
	-ffile-prefix-map=$(CURDIR)/=
ROOTFS_LDFLAGS := -static -Wl,--gc-sections -s

# Foreign makefiles get none of our make's flags or command-line variables:
# a `make CC=clang` of ours must not reach e2fsprogs' Makefile.
SUBMAKE := env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES $(MAKE) -j$(NPROC)

# $(call print_size,FILE): busybox-style, every artefact says how big it is.
print_size = @printf '%-32s %9d bytes\n' $(1) $$(stat -c %s $(1))

# --- libyaml ---------------------------------------------------------------
# Compiled directly: the Debian source has no generated configure, and the
# only thing configure decides for libyaml is the version in config.h.

LIBYAML_A := $(B)/sysroot/lib/libyaml.a
LIBYAML_H := $(B)/sysroot/include/yaml.h
LIBYAML_OBJDIR := $(B)/libyaml
LIBYAML_OBJS := $(addprefix $(LIBYAML_OBJDIR)/,api.o dumper.o emitter.o \
	loader.o parser.o reader.o scanner.o writer.o)
LIBYAML_UPSTREAM := $(call upstream_version,$(LIBYAML_VERSION))

libyaml-musl: $(LIBYAML_A) $(LIBYAML_H)

$(LIBYAML_OBJDIR)/config.h: $(LIBYAML_SRC_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@set -- $(subst ., ,$(LIBYAML_UPSTREAM)); { \
		echo "#define YAML_VERSION_MAJOR $$1"; \
		echo "#define YAML_VERSION_MINOR $$2"; \
		echo "#define YAML_VERSION_PATCH $$3"; \
		echo '#define YAML_VERSION_STRING "$(LIBYAML_UPSTREAM)"'; } >$@

$(LIBYAML_OBJS): $(LIBYAML_OBJDIR)/%.o: $(LIBYAML_SRC_STAMP) \
		$(LIBYAML_OBJDIR)/config.h $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@echo "libyaml: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) -DHAVE_CONFIG_H -I$(LIBYAML_OBJDIR) \
		-I$(LIBYAML_SRC)/include -c -o $@ $(LIBYAML_SRC)/src/$*.c

$(LIBYAML_A): $(LIBYAML_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

# After the headers: `make sysroot` may lay the include dir anew.
$(LIBYAML_H): $(LIBYAML_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@install -m 0644 $(LIBYAML_SRC)/include/yaml.h $@

# --- busybox ---------------------------------------------------------------
# Built out of tree from the Debian source with our config (not Debian's
# debian/config). The banner names the Debian version instead of a build
# date, so that rebuilding the same sources gives the same bytes.

BUSYBOX := $(B)/busybox/busybox
BUSYBOX_MANIFEST := $(B)/busybox/busybox.manifest
BUSYBOX_OBJ := $(B)/busybox/obj
BUSYBOX_MAKE = $(SUBMAKE) -s -C $(BUSYBOX_SRC) O=$(CURDIR)/$(BUSYBOX_OBJ)

busybox: $(BUSYBOX) $(BUSYBOX_MANIFEST)

# oldconfig must not change a thing: if it does, the checked-in config was
# made for another busybox and would be silently reinterpreted.
$(BUSYBOX_OBJ)/.config: rootfs/busybox.config $(BUSYBOX_SRC_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@cp rootfs/busybox.config $@
	@yes '' | $(BUSYBOX_MAKE) oldconfig >$(@D)/oldconfig.log 2>&1
	@grep '^CONFIG_\|^# CONFIG_' rootfs/busybox.config >$(@D)/want
	@grep '^CONFIG_\|^# CONFIG_' $@ | diff -q $(@D)/want - >/dev/null || { \
		echo "busybox: rootfs/busybox.config does not fit busybox" \
			"$(BUSYBOX_VERSION): make busybox-config" >&2; rm -f $@; exit 1; }

$(BUSYBOX): $(BUSYBOX_OBJ)/.config $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@echo "busybox: building $(BUSYBOX_VERSION) (log: $(@D)/build.log)"
	@$(BUSYBOX_MAKE) CC=$(MUSL_CC) \
		CONFIG_EXTRA_CFLAGS='-isystem $(SYSROOT)/include' \
		BB_EXTRA_VERSION='Debian $(BUSYBOX_VERSION)' \
		busybox busybox.links >$(@D)/build.log 2>&1 || \
		{ tail -20 $(@D)/build.log; echo "busybox: build failed: see $(@D)/build.log" >&2; exit 1; }
	@cp $(BUSYBOX_OBJ)/busybox $@
	$(call print_size,$@)

# One slink line per applet, all to /bin/busybox (the image builder wants
# parents first: the dirs are listed in rootfs/manifest before the include).
$(BUSYBOX_MANIFEST): $(BUSYBOX)
	@{ echo "# generated by rootfs/rootfs.mk from busybox.links"; \
	   sort -u $(BUSYBOX_OBJ)/busybox.links | grep -vx /bin/busybox | \
		sed 's|.*|slink	&	/bin/busybox|'; } >$@
	@echo "$@: $$(grep -c ^slink $@) applet links"

busybox-config: $(BUSYBOX_SRC_STAMP) | $(DEPS_STAMP)
	rootfs/busybox-config.sh $(BUSYBOX_SRC) rootfs/busybox.config

# --- e2fsprogs -------------------------------------------------------------
# Only e2fsck and resize2fs, with e2fsprogs' own libuuid and libblkid (musl
# has neither), no NLS, no fuse, nothing that needs a daemon.

E2FSCK := $(B)/e2fsprogs/e2fsck
RESIZE2FS := $(B)/e2fsprogs/resize2fs
E2FSPROGS_OBJ := $(B)/e2fsprogs/obj

e2fsprogs: $(E2FSCK) $(RESIZE2FS)

# configure records the flags, so a change of flags must configure again.
E2FSPROGS_FLAGS := $(B)/e2fsprogs/flags
$(shell mkdir -p $(B)/e2fsprogs; f='$(MUSL_CC) $(ROOTFS_CFLAGS) $(ROOTFS_LDFLAGS)'; \
	[ "$$(cat $(E2FSPROGS_FLAGS) 2>/dev/null)" = "$$f" ] || echo "$$f" > $(E2FSPROGS_FLAGS))

$(E2FSPROGS_OBJ)/config.status: rootfs/e2fsprogs-configure.sh $(E2FSPROGS_FLAGS) \
		$(E2FSPROGS_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@CC=$(MUSL_CC) CFLAGS='$(ROOTFS_CFLAGS)' LDFLAGS='$(ROOTFS_LDFLAGS)' \
		rootfs/e2fsprogs-configure.sh $(E2FSPROGS_SRC) $(@D)

# One build gives both programs; the stamp keeps make from running it twice.
$(B)/e2fsprogs/.built: $(E2FSPROGS_OBJ)/config.status | $(DEPS_STAMP)
	@echo "e2fsprogs: building e2fsck and resize2fs (log: $(@D)/build.log)"
	@{ $(SUBMAKE) -C $(E2FSPROGS_OBJ) libs && \
	   $(SUBMAKE) -C $(E2FSPROGS_OBJ)/e2fsck e2fsck && \
	   $(SUBMAKE) -C $(E2FSPROGS_OBJ)/resize resize2fs; } >$(@D)/build.log 2>&1 || \
		{ tail -20 $(@D)/build.log; echo "e2fsprogs: build failed: see $(@D)/build.log" >&2; exit 1; }
	@touch $@

$(E2FSCK): $(B)/e2fsprogs/.built
	@cp $(E2FSPROGS_OBJ)/e2fsck/e2fsck $@
	$(call print_size,$@)

$(RESIZE2FS): $(B)/e2fsprogs/.built
	@cp $(E2FSPROGS_OBJ)/resize/resize2fs $@
	$(call print_size,$@)

# --- dropbear --------------------------------------------------------------
# The SSH server init runs when cloud-config gives authorized keys
# (init/provision/sshd.c): one static multi-call binary, dropbear and dropbearkey
# (host key fingerprints), key-only (rootfs/dropbear-localoptions.h).

DROPBEAR := $(B)/dropbear/dropbearmulti
DROPBEAR_OBJ := $(B)/dropbear/obj

dropbear: $(DROPBEAR)

DROPBEAR_FLAGS := $(B)/dropbear/flags
$(shell mkdir -p $(B)/dropbear; f='$(MUSL_CC) $(ROOTFS_CFLAGS) $(ROOTFS_LDFLAGS)'; \
	[ "$$(cat $(DROPBEAR_FLAGS) 2>/dev/null)" = "$$f" ] || echo "$$f" > $(DROPBEAR_FLAGS))

$(DROPBEAR_OBJ)/config.status: rootfs/dropbear-configure.sh rootfs/dropbear-localoptions.h \
		$(DROPBEAR_FLAGS) $(DROPBEAR_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@CC=$(MUSL_CC) CFLAGS='$(ROOTFS_CFLAGS)' LDFLAGS='$(ROOTFS_LDFLAGS)' \
		rootfs/dropbear-configure.sh $(DROPBEAR_SRC) $(@D)

$(DROPBEAR): $(DROPBEAR_OBJ)/config.status | $(DEPS_STAMP)
	@echo "dropbear: building $(DROPBEAR_VERSION) (log: $(@D)/build.log)"
	@$(SUBMAKE) -C $(DROPBEAR_OBJ) MULTI=1 PROGRAMS='dropbear dropbearkey' \
		>$(@D)/build.log 2>&1 || \
		{ tail -20 $(@D)/build.log; echo "dropbear: build failed: see $(@D)/build.log" >&2; exit 1; }
	@cp $(DROPBEAR_OBJ)/dropbearmulti $@
	$(call print_size,$@)

# --- /etc ------------------------------------------------------------------

# The top Makefile holds WISP_VERSION.
$(B)/rootfs/os-release: rootfs/skel/etc/os-release.in Makefile | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@sed 's/@VERSION@/$(WISP_VERSION)/g' $< >$@

# --- time zones --------------------------------------------------------------
# No zoneinfo in ROOT: one line per zone, "Europe/Berlin CET-1CEST,M3.5.0,M10.5.0/3",
# the POSIX rule of each TZif file of Debian's tzdata (make deps), for cloud-config's
# timezone (init/provision/tzrules.c). tzdata.zi changes with every tzdata release.

TZRULES := $(B)/rootfs/tzrules
TZDATA := /usr/share/zoneinfo

$(TZRULES): rootfs/tzrules.py $(TZDATA)/tzdata.zi | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@python3 rootfs/tzrules.py $(TZDATA) $@
	$(call print_size,$@)

rootfs-inputs: $(BUSYBOX) $(BUSYBOX_MANIFEST) $(E2FSCK) $(RESIZE2FS) \
	$(DROPBEAR) $(B)/rootfs/os-release $(TZRULES)

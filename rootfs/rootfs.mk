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
#   make libsodium-musl   build/sysroot/lib/libsodium.a + include/sodium.h (the updater)
#   make rootfs-inputs    everything rootfs/manifest references but init
#                         (build/rootfs/tzrules: time zone rules, from tzdata;
#                         build/rootfs/ca-certificates.crt: rootfs/tls/tls.mk)
#   make busybox-config   regenerate rootfs/busybox.config (then review it)

.PHONY: busybox e2fsprogs dropbear libyaml-musl libsodium-musl rootfs-inputs busybox-config

# Kernel UAPI headers (kernel-config/kernel.mk, `make sysroot`).
SYSROOT_HEADERS ?= $(B)/sysroot/.headers-ok

# Third-party code keeps its own warning flags; ours are for size and for
# the headers of the kernel we boot.
# -ffile-prefix-map: __FILE__ (assertions) must not carry the checkout's
# path, or two clones build different binaries.
# -fstack-protector-strong: the libraries parse what the network and images
# send inside Wisp's programs (libyaml user-data, zlib, jansson, wolfSSL,
# curl), dropbear faces the network and e2fsck reads STATE's disk; Debian's
# gcc enables no stack protector by default (docs/hardening.md, ssp-check).
ROOTFS_CFLAGS := -Os -ffunction-sections -fdata-sections -isystem $(SYSROOT)/include \
	-ffile-prefix-map=$(CURDIR)/= -fstack-protector-strong
ROOTFS_LDFLAGS := -static -Wl,--gc-sections -s
# The libraries compiled here with ROOTFS_CFLAGS are compiled again when the flags
# change (configure-based builds keep flag stamps of their own, below).
ROOTFS_FLAGS_STAMP := $(B)/.rootfs-flags
$(call text_stamp,$(ROOTFS_FLAGS_STAMP),$(MUSL_CC) $(ROOTFS_CFLAGS))

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

$(LIBYAML_OBJS): $(LIBYAML_OBJDIR)/%.o: $(LIBYAML_SRC_STAMP) $(ROOTFS_FLAGS_STAMP) \
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

# --- libsodium ---------------------------------------------------------------
# Ed25519, BLAKE2b and SHA-256 for the updater's signed bundles (init/update,
# docs/update-bundle.md). Compiled directly like libyaml and jansson: the Debian
# source has no generated configure (Debian runs autoreconf), and for musl on
# x86-64 configure would only pick the -D below. The file list is Makefile.am's
# libsodium_la_SOURCES as --enable-minimal leaves it (SODIUM_LIBRARY_MINIMAL:
# no scrypt, no XChaCha box, no ristretto; Ed25519 signatures, BLAKE2b and
# SHA-256 stay), with the portable implementations only: no SSE/AVX variants
# (none of the HAVE_*INTRIN_H), no amd64 assembly. The updater hashes a few
# hundred MiB once per update; the reference code costs no measurable time there
# and keeps the library free of CPU dispatch.
LIBSODIUM_A := $(B)/sysroot/lib/libsodium.a
LIBSODIUM_H := $(B)/sysroot/include/sodium.h
LIBSODIUM_OBJDIR := $(B)/libsodium
LIBSODIUM_UPSTREAM := $(call upstream_version,$(LIBSODIUM_VERSION))
LIBSODIUM_C := $(addprefix crypto_aead/, chacha20poly1305/sodium/aead_chacha20poly1305 \
		xchacha20poly1305/sodium/aead_xchacha20poly1305) \
	$(addprefix crypto_auth/, crypto_auth hmacsha256/auth_hmacsha256 hmacsha512/auth_hmacsha512 \
		hmacsha512256/auth_hmacsha512256) \
	$(addprefix crypto_box/, crypto_box crypto_box_easy crypto_box_seal \
		curve25519xsalsa20poly1305/box_curve25519xsalsa20poly1305) \
	$(addprefix crypto_core/, ed25519/ref10/ed25519_ref10 hchacha20/core_hchacha20 \
		hsalsa20/ref2/core_hsalsa20_ref2 hsalsa20/core_hsalsa20 salsa/ref/core_salsa_ref) \
	$(addprefix crypto_generichash/, crypto_generichash blake2b/generichash_blake2 \
		blake2b/ref/blake2b-compress-ref blake2b/ref/blake2b-ref blake2b/ref/generichash_blake2b) \
	$(addprefix crypto_hash/, crypto_hash sha256/hash_sha256 sha256/cp/hash_sha256_cp \
		sha512/hash_sha512 sha512/cp/hash_sha512_cp) \
	crypto_kdf/blake2b/kdf_blake2b crypto_kdf/crypto_kdf crypto_kx/crypto_kx \
	$(addprefix crypto_onetimeauth/, crypto_onetimeauth poly1305/onetimeauth_poly1305 \
		poly1305/donna/poly1305_donna poly1305/sse2/poly1305_sse2) \
	$(addprefix crypto_pwhash/, argon2/argon2-core argon2/argon2-encoding argon2/argon2-fill-block-ref \
		argon2/argon2 argon2/blake2b-long argon2/pwhash_argon2i argon2/pwhash_argon2id crypto_pwhash) \
	$(addprefix crypto_scalarmult/, crypto_scalarmult curve25519/ref10/x25519_ref10 \
		curve25519/scalarmult_curve25519) \
	$(addprefix crypto_secretbox/, crypto_secretbox crypto_secretbox_easy \
		xsalsa20poly1305/secretbox_xsalsa20poly1305) \
	crypto_secretstream/xchacha20poly1305/secretstream_xchacha20poly1305 \
	$(addprefix crypto_shorthash/, crypto_shorthash siphash24/shorthash_siphash24 \
		siphash24/ref/shorthash_siphash24_ref) \
	$(addprefix crypto_sign/, crypto_sign ed25519/sign_ed25519 ed25519/ref10/keypair \
		ed25519/ref10/open ed25519/ref10/sign) \
	$(addprefix crypto_stream/, chacha20/stream_chacha20 chacha20/ref/chacha20_ref crypto_stream \
		salsa20/stream_salsa20 salsa20/ref/salsa20_ref xsalsa20/stream_xsalsa20) \
	crypto_verify/sodium/verify randombytes/randombytes randombytes/sysrandom/randombytes_sysrandom \
	randombytes/internal/randombytes_internal_random \
	$(addprefix sodium/, codecs core runtime utils version)
LIBSODIUM_OBJS := $(addprefix $(LIBSODIUM_OBJDIR)/, $(addsuffix .o, $(LIBSODIUM_C)))
# What configure finds for musl on x86-64 Linux (HAVE_TI_MODE: the 64-bit field
# arithmetic of ref10, fe_51), the SIMD headers left out on purpose.
LIBSODIUM_DEFS := -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 -DHAVE_TI_MODE=1 -DHAVE_WEAK_SYMBOLS=1 \
	-DHAVE_ATOMIC_OPS=1 -DHAVE_C_VARARRAYS=1 -DHAVE_INLINE_ASM=1 -DHAVE_ALLOCA_H=1 -DHAVE_ALLOCA=1 \
	-DHAVE_SYS_MMAN_H=1 -DHAVE_MMAP=1 -DHAVE_MPROTECT=1 -DHAVE_MLOCK=1 -DHAVE_MADVISE=1 \
	-DHAVE_POSIX_MEMALIGN=1 -DHAVE_GETPID=1 -DHAVE_NANOSLEEP=1 -DHAVE_PTHREAD=1 \
	-DHAVE_SYS_RANDOM_H=1 -DHAVE_GETRANDOM=1 \
	-DHAVE_EXPLICIT_BZERO=1 -DSODIUM_STATIC=1
LIBSODIUM_INC := $(LIBSODIUM_SRC)/src/libsodium/include
# As init's programs (init.mk): C without exceptions, nothing unwinds (3 KiB).
LIBSODIUM_NOUNWIND := -fno-asynchronous-unwind-tables -fno-unwind-tables

libsodium-musl: $(LIBSODIUM_A) $(LIBSODIUM_H)

# version.h is the one header configure writes.
$(LIBSODIUM_OBJDIR)/sodium/version.h: $(LIBSODIUM_SRC_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@sed -e 's/@VERSION@/$(LIBSODIUM_UPSTREAM)/' -e 's/@SODIUM_LIBRARY_VERSION_MAJOR@/10/' \
		-e 's/@SODIUM_LIBRARY_VERSION_MINOR@/3/' \
		-e 's/@SODIUM_LIBRARY_MINIMAL_DEF@/#define SODIUM_LIBRARY_MINIMAL 1/' \
		$(LIBSODIUM_INC)/sodium/version.h.in >$@

$(LIBSODIUM_OBJS): $(LIBSODIUM_OBJDIR)/%.o: $(LIBSODIUM_SRC_STAMP) $(ROOTFS_FLAGS_STAMP) \
		$(LIBSODIUM_OBJDIR)/sodium/version.h $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "libsodium: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(LIBSODIUM_NOUNWIND) $(LIBSODIUM_DEFS) -I$(LIBSODIUM_OBJDIR)/sodium \
		-I$(LIBSODIUM_OBJDIR) -I$(LIBSODIUM_INC)/sodium -I$(LIBSODIUM_INC) \
		-c -o $@ $(LIBSODIUM_SRC)/src/libsodium/$*.c

$(LIBSODIUM_A): $(LIBSODIUM_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

# The public headers (sodium.h and sodium/*.h, private/ left out), version.h ours.
$(LIBSODIUM_H): $(LIBSODIUM_SRC_STAMP) $(LIBSODIUM_OBJDIR)/sodium/version.h $(SYSROOT_HEADERS) \
		| $(DEPS_STAMP)
	@mkdir -p $(@D)/sodium
	@install -m 0644 $(LIBSODIUM_INC)/sodium/*.h $(LIBSODIUM_OBJDIR)/sodium/version.h $(@D)/sodium/
	@install -m 0644 $(LIBSODIUM_INC)/sodium.h $@

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

# Stack canaries and static-pie as in the rest of the image (ROOTFS_CFLAGS' and
# MUSL_PIE_CC's reasons): busybox is the console's and the units' shell, and
# udhcpc parses the network's DHCP replies as root. Its kbuild recompiles an
# object whose command changed; the flags file makes this rule run when they do.
BUSYBOX_CFLAGS := -isystem $(SYSROOT)/include -fstack-protector-strong -fPIE
BUSYBOX_FLAGS := $(B)/busybox/flags
$(call text_stamp,$(BUSYBOX_FLAGS),$(MUSL_PIE_CC) $(BUSYBOX_CFLAGS) pie:$(MUSL_PIE_ID))

$(BUSYBOX): $(BUSYBOX_OBJ)/.config $(BUSYBOX_FLAGS) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@echo "busybox: building $(BUSYBOX_VERSION) (log: $(@D)/build.log)"
	@$(BUSYBOX_MAKE) CC=$(MUSL_PIE_CC) CONFIG_EXTRA_CFLAGS='$(BUSYBOX_CFLAGS)' \
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

# static-pie (MUSL_PIE_CC), as its build-time helpers (util/subst, which run
# on the build host) are. configure records the flags, so a change of flags must
# configure again.
E2FSPROGS_CFLAGS := $(ROOTFS_CFLAGS) -fPIE
E2FSPROGS_FLAGS := $(B)/e2fsprogs/flags
$(call text_stamp,$(E2FSPROGS_FLAGS),$(MUSL_PIE_CC) $(E2FSPROGS_CFLAGS) $(ROOTFS_LDFLAGS) pie:$(MUSL_PIE_ID))

$(E2FSPROGS_OBJ)/config.status: rootfs/e2fsprogs-configure.sh $(E2FSPROGS_FLAGS) \
		$(E2FSPROGS_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@CC=$(MUSL_PIE_CC) CFLAGS='$(E2FSPROGS_CFLAGS)' LDFLAGS='$(ROOTFS_LDFLAGS)' \
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
# static-pie as Wisp's own programs (the top Makefile's MUSL_PIE_CC): the one
# root daemon that faces the network gets its code at a random address.

DROPBEAR := $(B)/dropbear/dropbearmulti
DROPBEAR_OBJ := $(B)/dropbear/obj
DROPBEAR_CFLAGS := $(ROOTFS_CFLAGS) -fPIE

dropbear: $(DROPBEAR)

DROPBEAR_FLAGS := $(B)/dropbear/flags
$(call text_stamp,$(DROPBEAR_FLAGS),$(MUSL_PIE_CC) $(DROPBEAR_CFLAGS) $(ROOTFS_LDFLAGS) pie:$(MUSL_PIE_ID))

$(DROPBEAR_OBJ)/config.status: rootfs/dropbear-configure.sh rootfs/dropbear-localoptions.h \
		$(DROPBEAR_FLAGS) $(DROPBEAR_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@CC=$(MUSL_PIE_CC) CFLAGS='$(DROPBEAR_CFLAGS)' LDFLAGS='$(ROOTFS_LDFLAGS)' \
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

# wolfSSL, libcurl, the CA bundle (before rootfs-inputs: it names $(CA_BUNDLE))
include rootfs/tls/tls.mk

rootfs-inputs: $(BUSYBOX) $(BUSYBOX_MANIFEST) $(E2FSCK) $(RESIZE2FS) \
	$(DROPBEAR) $(B)/rootfs/os-release $(TZRULES) $(CA_BUNDLE)

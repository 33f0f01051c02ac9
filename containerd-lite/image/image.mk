# containerd-lite/image/image.mk: `containerd-lite image` (issue 6) and the
# static musl zlib and zstd it links, built from pinned Debian source like
# jansson. Included by containerd-lite.mk. See docs/images.md.
#
#   make zlib-musl libzstd-musl   build/sysroot/lib/lib{z,zstd}.a
#   make image-test               host tests (root), compared with umoci
#   make pull-test                `image pull` against a local registry (root)

.PHONY: zlib-musl libzstd-musl image-test pull-test

IMG_SRCS := $(addprefix containerd-lite/image/,sha256.c tar.c tar_path.c stream.c fs.c \
	reserve.c tar_extract.c blob.c source.c store.c lookup.c query.c user.c bundle.c overlay.c runtime.c host.c \
	layers.c importdir.c userns.c shift.c netjoin.c) containerd-lite/cli/image.c
CL_SRCS += $(IMG_SRCS)
CL_HDRS += containerd-lite/image/image.h
IMG_LIBS := -lz -lzstd

# `image pull` (issue 15): the registry client, over libcurl. Its parsers
# (references, headers, credentials, settings) need no curl and are unit
# tested alone; image/registry.c and image/fetch.c are the HTTP side, image/reach.c
# the guard on where a registry may lead the host.
# The native build links Debian's libcurl4-openssl-dev, the static musl
# one libcurl and wolfSSL built from Debian source (rootfs/tls/tls.mk:
# TLS_LIBS, docs/tls.md).
PULL_PARSE_SRCS := $(addprefix containerd-lite/image/,ref.c httphdr.c auth.c regcfg.c mtype.c)
PULL_SRCS := $(PULL_PARSE_SRCS) $(addprefix containerd-lite/image/,registry.c fetch.c tls.c reach.c \
	pull.c pullnet.c staged.c drop.c urlget.c)
PULL_HDRS := $(addprefix containerd-lite/image/,pull.h http.h)
PULL_HOST_LIBS := -lcurl

# --- zlib (static musl): only what inflate needs ----------------------------

ZLIB_A := $(B)/sysroot/lib/libz.a
ZLIB_H := $(B)/sysroot/include/zlib.h
ZLIB_OBJDIR := $(B)/zlib
ZLIB_OBJS := $(addprefix $(ZLIB_OBJDIR)/,adler32.o crc32.o inffast.o inflate.o inftrees.o zutil.o)

zlib-musl: $(ZLIB_A) $(ZLIB_H)

$(ZLIB_OBJS): $(ZLIB_OBJDIR)/%.o: $(ZLIB_SRC_STAMP) $(SYSROOT_HEADERS) $(ROOTFS_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "zlib: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) -DHAVE_UNISTD_H -DHAVE_STDARG_H -c -o $@ $(ZLIB_SRC)/$*.c

$(ZLIB_A): $(ZLIB_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

$(ZLIB_H): $(ZLIB_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@install -m 0644 $(ZLIB_SRC)/zconf.h $(@D)/zconf.h
	@install -m 0644 $(ZLIB_SRC)/zlib.h $@

# --- zstd (static musl): the decompressor only, portable C ---------------
# No assembly (ZSTD_DISABLE_ASM), no threads, no legacy formats: layers
# are written by current zstd.

ZSTD_A := $(B)/sysroot/lib/libzstd.a
ZSTD_H := $(B)/sysroot/include/zstd.h
ZSTD_OBJDIR := $(B)/libzstd
ZSTD_CSRCS := common/debug.c common/entropy_common.c common/error_private.c \
	common/fse_decompress.c common/xxhash.c common/zstd_common.c \
	decompress/huf_decompress.c decompress/zstd_ddict.c decompress/zstd_decompress.c \
	decompress/zstd_decompress_block.c
ZSTD_OBJS := $(addprefix $(ZSTD_OBJDIR)/,$(ZSTD_CSRCS:.c=.o))

libzstd-musl: $(ZSTD_A) $(ZSTD_H)

$(ZSTD_OBJS): $(ZSTD_OBJDIR)/%.o: $(LIBZSTD_SRC_STAMP) $(SYSROOT_HEADERS) $(ROOTFS_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "libzstd: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) -DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 -DXXH_NAMESPACE=ZSTD_ \
		-I$(LIBZSTD_SRC)/lib -I$(LIBZSTD_SRC)/lib/common -c -o $@ $(LIBZSTD_SRC)/lib/$*.c

$(ZSTD_A): $(ZSTD_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

$(ZSTD_H): $(LIBZSTD_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@install -m 0644 $(LIBZSTD_SRC)/lib/zstd_errors.h $(@D)/zstd_errors.h
	@install -m 0644 $(LIBZSTD_SRC)/lib/zstd.h $@

IMG_MUSL_DEPS := $(ZLIB_A) $(ZLIB_H) $(ZSTD_A) $(ZSTD_H)

# --- tests -------------------------------------------------------------------

# tests/unit/swaplink.h: a racing writer swaps an entry for a link to a host file right after
# the call that made or first named it
SWAPLINK_WRAP := -Wl,--wrap=openat,--wrap=fstatat,--wrap=symlinkat,--wrap=mknodat
UNIT_TESTS += cl_tar
UNIT_cl_tar_SRCS := $(addprefix containerd-lite/image/,tar.c tar_path.c sha256.c tar_extract.c \
	reserve.c stream.c fs.c image.h) $(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)
# the racing writer of swaplink.h (test_extract_swapped)
UNIT_cl_tar_LIBS := $(IMG_LIBS) $(SWAPLINK_WRAP)
# owners moved between id ranges, setuid kept, nothing set through a swapped name (swaplink.h)
UNIT_TESTS += cl_shift
UNIT_cl_shift_SRCS := $(addprefix containerd-lite/image/,shift.c fs.c image.h) \
	$(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)
UNIT_cl_shift_LIBS := $(SWAPLINK_WRAP)
UNIT_TESTS += cl_image
UNIT_cl_image_SRCS := $(addprefix containerd-lite/image/,source.c blob.c reserve.c fs.c sha256.c \
	image.h) \
	$(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)
UNIT_cl_image_LIBS := -ljansson
# an image's User in its own /etc (the container writes them: sizes bounded)
UNIT_TESTS += cl_user
UNIT_cl_user_SRCS := $(addprefix containerd-lite/image/,user.c fs.c image.h) \
	$(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)
# an image's record by REF: names before digest prefixes
UNIT_TESTS += cl_lookup
UNIT_cl_lookup_SRCS := $(addprefix containerd-lite/image/,lookup.c ref.c blob.c reserve.c fs.c \
	sha256.c image.h pull.h) $(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)
UNIT_cl_lookup_LIBS := -ljansson
# pull's parsers: references, WWW-Authenticate, Content-Range, config.json
# auths, registries.json, the index's platform choice, a manifest's media type
UNIT_TESTS += cl_pull
UNIT_cl_pull_SRCS := $(PULL_PARSE_SRCS) $(addprefix containerd-lite/image/,source.c blob.c \
	reserve.c fs.c sha256.c image.h pull.h) $(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)
UNIT_cl_pull_LIBS := -ljansson

# Real images built with umoci and skopeo, hostile ones crafted; bundles
# with host access (--volume, --pid host, --privileged); the store's reserve
# of free space, on a small tmpfs (reserve.py); both builds of the CLI.
image-test: $(CL_HOST) $(CL_MUSL) $(BUSYBOX)
	@echo "== image-test: $(CL_HOST)"
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/images.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/hostaccess.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/reserve.py
	@echo "== image-test: $(CL_MUSL)"
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/images.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/hostaccess.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/reserve.py

# `image pull` against Debian's docker-registry on loopback through a
# recording, fault-injecting front (tests/containerd-lite/pull.py),
# compared with skopeo and umoci; both builds of the CLI (libcurl with
# OpenSSL, and with wolfSSL). reach.py: a registry leading the host to its own
# loopback or metadata service (a realm, a redirect), in a private network namespace.
# pullsep.py: the pull's network side unprivileged, what it staged checked by root.
pull-test: $(CL_HOST) $(CL_MUSL) $(BUSYBOX)
	@echo "== pull-test: $(CL_HOST)"
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/pull.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/pullsep.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/reach.py
	@echo "== pull-test: $(CL_MUSL)"
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/pull.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/pullsep.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/reach.py

# Fuzz target tests/fuzz/fuzz_tar.c: run by bench/fuzz.sh tar.

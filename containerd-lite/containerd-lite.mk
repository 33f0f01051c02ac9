# containerd-lite/containerd-lite.mk: the OCI runtime library, its CLI
# (native for host tests and the bench, static musl for the image), the
# static musl jansson and libseccomp it links, and its tests.
# See docs/containerd-lite.md.
#
#   build/host/containerd-lite             native CLI (host tests, bench)
#   build/containerd-lite/containerd-lite  static musl CLI (/bin/containerd-lite)
#   make jansson-musl libseccomp-musl      build/sysroot/lib/lib{jansson,seccomp}.a
#   make cl-test                           host tests (root), compared with runc

.PHONY: containerd-lite jansson-musl libseccomp-musl libnl-musl cl-test

# Container networks (net.h): libnl's route library, static musl in ROOT,
# Debian's libnl-route-3-dev for the native build.
NET_SRCS := $(addprefix containerd-lite/net/,cfg.c imds.c port.c rate.c tc.c ipam.c link.c nft.c nat.c \
	l2.c ct.c fw.c hosts.c) containerd-lite/cli/network.c
NET_LIBS := -lnl-route-3 -lnl-3
NET_HOST_CFLAGS := -I/usr/include/libnl3

# What of outside's text reaches a terminal: init/lib's filter, which wispctl
# links too (runtime/tty.c; the two programs include nothing of each other's).
CL_TTY := init/lib/ttyesc.c

# The runtime library (runtime/), the CLI (cli/); image/ and net/ are the
# `image` and `network` commands' own folders.
CL_LIB_SRCS := $(addprefix containerd-lite/runtime/, \
	err.c util.c spec.c ns.c mounts.c caps.c rlimits.c seccomp.c seccomp-cache.c cgroup.c \
	devices.c userns.c userjoin.c idmap.c rootpath.c mountfd.c devnodes.c masks.c hooks.c \
	state.c create.c start.c exec.c pidfd.c console.c signals.c fds.c inroot.c exeseal.c kerneltree.c \
	tty.c) $(CL_TTY)
CL_SRCS := $(CL_LIB_SRCS) $(addprefix containerd-lite/cli/,main.c defspec.c cliopt.c args.c) \
	$(NET_SRCS)
CL_HDRS := containerd-lite/containerd-lite.h containerd-lite/runtime/cl-private.h init/lib/errtext.h init/lib/fdio.h \
	containerd-lite/cli/cliopt.h containerd-lite/net/net.h
CL_HOST := $(B)/host/containerd-lite
# The native build is the tests' (and the bench's): only it honours hooks that
# spoil what a step produced, to show the next step's check (CL_TEST_PULL_SPOIL).
CL_TEST_HOOKS := -DCL_TEST_HOOKS
CL_MUSL := $(B)/containerd-lite/containerd-lite
include containerd-lite/image/image.mk

containerd-lite: $(CL_HOST) $(CL_MUSL)

# --- jansson (static musl) -------------------------------------------------
# Compiled directly like libyaml: configure only decides the two config
# headers, written here for musl on Linux.

JANSSON_A := $(B)/sysroot/lib/libjansson.a
JANSSON_H := $(B)/sysroot/include/jansson.h
JANSSON_OBJDIR := $(B)/jansson
JANSSON_OBJS := $(addprefix $(JANSSON_OBJDIR)/,dump.o error.o hashtable.o \
	hashtable_seed.o load.o memory.o pack_unpack.o strbuffer.o strconv.o \
	utf.o value.o version.o)
# The hash seed comes from /dev/urandom; the rest is plain C99 + POSIX.
JANSSON_DEFS := -DHAVE_CONFIG_H -DHAVE_STDINT_H=1 -DHAVE_UNISTD_H=1 \
	-DHAVE_FCNTL_H=1 -DHAVE_SYS_TIME_H=1 -DHAVE_SYS_TYPES_H=1 -DHAVE_SYS_STAT_H=1 \
	-DHAVE_SCHED_H=1 -DHAVE_ENDIAN_H=1 -DHAVE_SYS_PARAM_H=1 -DHAVE_GETPID=1 \
	-DHAVE_GETTIMEOFDAY=1 -DHAVE_SCHED_YIELD=1 -DHAVE_OPEN=1 -DHAVE_CLOSE=1 \
	-DHAVE_READ=1 -DUSE_URANDOM=1 -DHAVE_ATOMIC_BUILTINS=1 -DHAVE_SYNC_BUILTINS=1

jansson-musl: $(JANSSON_A) $(JANSSON_H)

$(JANSSON_OBJDIR)/jansson_config.h: $(JANSSON_SRC_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@sed -e 's/@json_inline@/inline/' -e 's/@json_have_long_long@/1/' \
		-e 's/@json_have_localeconv@/1/' -e 's/@json_have_atomic_builtins@/1/' \
		-e 's/@json_have_sync_builtins@/1/' $(JANSSON_SRC)/src/jansson_config.h.in >$@

# Empty: every private setting is a -D above.
$(JANSSON_OBJDIR)/jansson_private_config.h: $(JANSSON_SRC_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo '/* containerd-lite.mk passes the settings with -D */' >$@

$(JANSSON_OBJS): $(JANSSON_OBJDIR)/%.o: $(JANSSON_SRC_STAMP) $(JANSSON_OBJDIR)/jansson_config.h $(ROOTFS_FLAGS_STAMP) \
		$(JANSSON_OBJDIR)/jansson_private_config.h $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@echo "jansson: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(JANSSON_DEFS) -I$(JANSSON_OBJDIR) \
		-I$(JANSSON_SRC)/src -c -o $@ $(JANSSON_SRC)/src/$*.c

$(JANSSON_A): $(JANSSON_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

$(JANSSON_H): $(JANSSON_SRC_STAMP) $(JANSSON_OBJDIR)/jansson_config.h $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@install -m 0644 $(JANSSON_OBJDIR)/jansson_config.h $(@D)/jansson_config.h
	@install -m 0644 $(JANSSON_SRC)/src/jansson.h $@

# --- libseccomp (static musl) ----------------------------------------------
# The Debian source ships a generated configure and the gperf output, so
# only its configure and the library directory are run.

LIBSECCOMP_A := $(B)/sysroot/lib/libseccomp.a
LIBSECCOMP_H := $(B)/sysroot/include/seccomp.h
LIBSECCOMP_OBJ := $(B)/libseccomp/obj

libseccomp-musl: $(LIBSECCOMP_A) $(LIBSECCOMP_H)

$(LIBSECCOMP_OBJ)/config.status: $(LIBSECCOMP_SRC_STAMP) $(SYSROOT_HEADERS) $(ROOTFS_FLAGS_STAMP) | $(DEPS_STAMP)
	@rm -rf $(@D) # a configure with other flags keeps the old objects (automake)
	@mkdir -p $(@D)
	@echo "libseccomp: configure $(LIBSECCOMP_VERSION) (log: $(@D)/configure.log)"
	@cd $(@D) && CC=$(MUSL_CC) CFLAGS='$(ROOTFS_CFLAGS)' \
		$(CURDIR)/$(LIBSECCOMP_SRC)/configure --enable-static --disable-shared \
		--disable-python >configure.log 2>&1 || \
		{ tail -20 configure.log; echo "libseccomp: configure failed" >&2; exit 1; }

$(B)/libseccomp/.built: $(LIBSECCOMP_OBJ)/config.status | $(DEPS_STAMP)
	@echo "libseccomp: building (log: $(@D)/build.log)"
	@$(SUBMAKE) -C $(LIBSECCOMP_OBJ)/include >$(@D)/build.log 2>&1 && \
	 $(SUBMAKE) -C $(LIBSECCOMP_OBJ)/src libseccomp.la >>$(@D)/build.log 2>&1 || \
		{ tail -20 $(@D)/build.log; echo "libseccomp: build failed" >&2; exit 1; }
	@touch $@

$(LIBSECCOMP_A): $(B)/libseccomp/.built
	@mkdir -p $(@D)
	@cp $(LIBSECCOMP_OBJ)/src/.libs/libseccomp.a $@
	$(call print_size,$@)

$(LIBSECCOMP_H): $(B)/libseccomp/.built $(SYSROOT_HEADERS)
	@install -m 0644 $(LIBSECCOMP_OBJ)/include/seccomp.h $@
	@install -m 0644 $(LIBSECCOMP_SRC)/include/seccomp-syscalls.h $(@D)/seccomp-syscalls.h

# --- libnl (static musl): container networks' netlink ------------------------
# libnl-3 and libnl-route-3 (links, veth, bridge, addresses, routes), from
# the Debian source's generated configure; only their two libraries are made.
# Debian's patches touch Makefile.am for the shared library only (symbol
# versions, the /etc path of tc's classid file): the shipped Makefile.in is
# kept (AUTOMAKE=true and friends) rather than regenerated with autotools.

LIBNL_A := $(B)/sysroot/lib/libnl-route-3.a $(B)/sysroot/lib/libnl-3.a
LIBNL_H := $(B)/sysroot/include/netlink/version.h
LIBNL_OBJ := $(B)/libnl/obj

libnl-musl: $(LIBNL_A) $(LIBNL_H)

$(LIBNL_OBJ)/config.status: $(LIBNL_SRC_STAMP) $(SYSROOT_HEADERS) $(ROOTFS_FLAGS_STAMP) | $(DEPS_STAMP)
	@rm -rf $(@D) # a configure with other flags keeps the old objects (automake)
	@mkdir -p $(@D)
	@echo "libnl: configure $(LIBNL_VERSION) (log: $(@D)/configure.log)"
	@cd $(@D) && CC=$(MUSL_CC) CFLAGS='$(ROOTFS_CFLAGS) -isystem $(CURDIR)/$(B)/sysroot/include' \
		$(CURDIR)/$(LIBNL_SRC)/configure --enable-static --disable-shared --disable-cli \
		--disable-debug >configure.log 2>&1 || \
		{ tail -20 configure.log; echo "libnl: configure failed" >&2; exit 1; }

$(B)/libnl/.built: $(LIBNL_OBJ)/config.status | $(DEPS_STAMP)
	@echo "libnl: building (log: $(@D)/build.log)"
	@$(SUBMAKE) -C $(LIBNL_OBJ) ACLOCAL=true AUTOMAKE=true AUTOCONF=true AUTOHEADER=true \
		lib/libnl-3.la lib/libnl-route-3.la >$(@D)/build.log 2>&1 || \
		{ tail -20 $(@D)/build.log; echo "libnl: build failed" >&2; exit 1; }
	@touch $@

$(LIBNL_A): $(B)/libnl/.built
	@mkdir -p $(@D)
	@cp $(LIBNL_OBJ)/lib/.libs/$(@F) $@
	$(call print_size,$@)

# The public headers, and version.h that configure generates.
$(LIBNL_H): $(B)/libnl/.built $(SYSROOT_HEADERS)
	@mkdir -p $(B)/sysroot/include
	@cp -R $(LIBNL_SRC)/include/netlink $(B)/sysroot/include/
	@install -m 0644 $(LIBNL_OBJ)/include/netlink/version.h $@

# --- the CLI ----------------------------------------------------------------

CL_MUSL_DEPS := $(JANSSON_A) $(JANSSON_H) $(LIBSECCOMP_A) $(LIBSECCOMP_H) $(SYSROOT_HEADERS) \
	$(IMG_MUSL_DEPS) $(LIBNL_A) $(LIBNL_H)

# A hash of the linked output (reproducible): seccomp-cache.c keys its filters by it.
CL_BUILD_ID := -Wl,--build-id=sha1
# image pull over libcurl and wolfSSL, static musl (rootfs/tls/tls.mk).
$(CL_MUSL): $(CL_SRCS) $(PULL_SRCS) $(CL_HDRS) $(PULL_HDRS) containerd-lite/containerd-lite.mk \
		containerd-lite/image/image.mk $(CL_MUSL_DEPS) $(TLS_MUSL_DEPS) $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_PIE_CC) $(MUSL_CFLAGS) -DWISP_TLS_WOLFSSL -o $@ $(CL_SRCS) $(PULL_SRCS) $(MUSL_LDFLAGS) \
		$(CL_BUILD_ID) -ljansson -lseccomp $(IMG_LIBS) $(NET_LIBS) $(TLS_LIBS)
	$(call print_size,$@)

$(CL_HOST): $(CL_SRCS) $(PULL_SRCS) $(CL_HDRS) $(PULL_HDRS) containerd-lite/containerd-lite.mk \
		containerd-lite/image/image.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(NET_HOST_CFLAGS) $(CL_TEST_HOOKS) -o $@ $(CL_SRCS) $(PULL_SRCS) $(CL_BUILD_ID) -ljansson \
		-lseccomp $(IMG_LIBS) $(NET_LIBS) $(PULL_HOST_LIBS)

# --- tests -------------------------------------------------------------------

# text from outside to a terminal: error messages, names, JSON (runtime/tty.c)
# the metadata endpoints a container network drops (wisp.imds= moves one)
UNIT_TESTS += cl_imds
UNIT_cl_imds_SRCS := $(addprefix containerd-lite/net/,imds.c cfg.c net.h) \
	$(addprefix containerd-lite/runtime/,err.c util.c) $(CL_TTY)

UNIT_TESTS += cl_tty
UNIT_cl_tty_SRCS := $(addprefix containerd-lite/runtime/,err.c tty.c) $(CL_TTY) $(CL_HDRS)

UNIT_TESTS += cl_spec
UNIT_cl_spec_SRCS := $(CL_TTY) $(addprefix containerd-lite/runtime/,spec.c err.c util.c caps.c rlimits.c \
	ns.c pidfd.c seccomp.c seccomp-cache.c signals.c state.c cgroup.c devices.c rootpath.c \
	kerneltree.c) \
	containerd-lite/cli/defspec.c $(CL_HDRS)
UNIT_cl_spec_LIBS := -ljansson -lseccomp

# Host tests need root and a busybox; the containers run in a private
# mount namespace with its own cgroup2 (tests/containerd-lite/run.py).
# seccomp_moby.py compares spec's seccomp profile with moby's (docker.io
# source package, fetched by fetch-source.sh --file) and probes it.
# net.py: `network attach|detach|ls` in a private network namespace.
# ctr.py: Debian's containerd and its runc v2 shim drive containerd-lite
# (`ctr run --runc-binary`), on the Debian minbase image (tests/images.mk).
# Both builds: the native one, and the static musl one of the image.
cl-test: $(CL_HOST) $(CL_MUSL) $(BUSYBOX)
	@echo "== cl-test: $(CL_HOST)"
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/run.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/pidreuse.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/seccomp_moby.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/ctr.py
	@B=$(B) CL_BIN=$(CL_HOST) /usr/bin/python3 tests/containerd-lite/cri.py
	@B=$(B) CL_BIN=$(CL_HOST) python3 tests/containerd-lite/net.py
	@echo "== cl-test: $(CL_MUSL)"
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/run.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/pidreuse.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/seccomp_moby.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/ctr.py
	@B=$(B) CL_BIN=$(CL_MUSL) /usr/bin/python3 tests/containerd-lite/cri.py
	@B=$(B) CL_BIN=$(CL_MUSL) python3 tests/containerd-lite/net.py

# Fuzz target tests/fuzz/fuzz_cl_spec.c: run by bench/fuzz.sh cl_spec.

# The command lines (cli/: cliopt.c, args.c, image.c): everything but main()
# and the network's netlink side (--publish and rates are checked, the hosts
# file made).
UNIT_TESTS += cl_cli
UNIT_cl_cli_SRCS := $(filter-out containerd-lite/cli/main.c $(NET_SRCS),$(CL_SRCS)) \
	$(addprefix containerd-lite/net/,cfg.c imds.c port.c rate.c hosts.c ipam.c) $(PULL_SRCS) \
	$(CL_HDRS) $(PULL_HDRS)
UNIT_cl_cli_LIBS := -ljansson -lseccomp $(IMG_LIBS) $(PULL_HOST_LIBS)

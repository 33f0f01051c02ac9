# init/init.mk: Wisp's PID 1 (static musl) and its unit tests.
# See docs/build.md for the layout and docs/declarations.md for what it reads.

INIT_SRCS := $(addprefix init/, \
	main.c err.c util.c log.c console.c mounts.c sysctl.c cmdline.c hostname.c \
	sysfs.c state.c yamltree.c decl.c restart.c spawn.c unit.c loop.c shutdown.c \
	parse.c users.c deps.c health.c cgroup.c logs.c)
# The control socket, power button, network, /etc and STATE growth (issue 3).
INIT_SRCS += $(addprefix init/, proto.c control.c powerbtn.c etc.c net.c netcfg.c grow.c)
# Units of kind container, through the containerd-lite binary (docs/declarations.md).
INIT_SRCS += init/container.c init/userns.c init/report.c
# Provisioning from cloud-init style user-data (issue 5, docs/cloud-config.md).
INIT_SRCS += $(addprefix init/, b64.c userdata.c cloudcfg.c ccapply.c ccsem.c ds.c cloudinit.c sshd.c \
	ccfinal.c)
INIT_SRCS += init/imgimport.c
INIT_BIN := $(B)/init/init
# PID 1's size budget (issue 3): the build fails past it.
INIT_BUDGET := 262144

.PHONY: init
init: $(INIT_BIN)

# libyaml is linked statically from the musl sysroot (rootfs.mk: libyaml-musl),
# named as rootfs.mk names them ($(B)-relative) so that make finds its rules;
# the kernel headers stamp because MUSL_CFLAGS puts the sysroot first.
INIT_DEPS := $(B)/sysroot/lib/libyaml.a $(B)/sysroot/include/yaml.h $(B)/sysroot/.headers-ok

# One compiler run: the small files build in a few seconds. -flto: whole-
# program inlining and dead-code removal, about 4 KiB of PID 1's budget.
# No unwind tables (.eh_frame, about 14.6 KiB): PID 1 is C without
# exceptions, cancellation or backtrace(3); nothing unwinds its stack
# (busybox builds the same way). Crashes are read from the core's
# registers and the symbolized build, not from unwinding in the guest.
INIT_CFLAGS := -flto=auto -fno-asynchronous-unwind-tables -fno-unwind-tables
$(INIT_BIN): $(INIT_SRCS) init/init.h init/init.mk $(INIT_DEPS) $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) $(INIT_CFLAGS) -o $@ $(INIT_SRCS) $(MUSL_LDFLAGS) -lyaml
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)
	@n=$$(stat -c %s $@); [ $$n -le $(INIT_BUDGET) ] || { rm -f $@; \
		echo "init: $$n bytes is over its budget of $(INIT_BUDGET)" >&2; exit 1; }

# Unit tests (tests/tests.mk): native glibc + host libyaml, ASan + UBSan.
UNIT_TESTS += init_decl init_sysfs init_cmdline init_restart init_spawn
UNIT_init_decl_SRCS := init/decl.c init/yamltree.c init/parse.c init/users.c init/deps.c \
	init/err.c init/util.c init/init.h
UNIT_init_decl_LIBS := -lyaml
UNIT_init_sysfs_SRCS := init/sysfs.c init/err.c init/util.c init/init.h
UNIT_init_cmdline_SRCS := init/cmdline.c init/hostname.c init/err.c init/util.c init/init.h
UNIT_init_restart_SRCS := init/restart.c init/init.h
UNIT_TESTS += init_cgroup init_logs init_health init_unit
UNIT_init_unit_SRCS := init/unit.c init/decl.c init/yamltree.c init/parse.c init/users.c \
	init/deps.c init/restart.c init/container.c init/userns.c init/err.c init/util.c init/init.h
UNIT_init_unit_LIBS := -lyaml
UNIT_init_cgroup_SRCS := init/cgroup.c init/err.c init/util.c init/init.h
UNIT_init_logs_SRCS := init/logs.c init/err.c init/util.c init/init.h
UNIT_init_health_SRCS := init/health.c init/err.c init/util.c init/init.h
UNIT_init_spawn_SRCS := init/spawn.c init/err.c init/util.c init/init.h
UNIT_TESTS += init_sysctl
UNIT_init_sysctl_SRCS := init/sysctl.c init/err.c init/util.c init/init.h

# wispctl: the control socket's client (docs/wispctl.md), static musl, /bin/wispctl.
WISPCTL_SRCS := $(addprefix init/, wispctl.c proto.c err.c util.c)
WISPCTL_BIN := $(B)/init/wispctl
init: $(WISPCTL_BIN)
$(WISPCTL_BIN): $(WISPCTL_SRCS) init/init.h init/init.mk $(B)/sysroot/.headers-ok $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) -o $@ $(WISPCTL_SRCS) $(MUSL_LDFLAGS)
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)

UNIT_TESTS += init_proto init_grow init_etc init_net
UNIT_init_proto_SRCS := init/proto.c init/err.c init/util.c init/init.h
UNIT_init_grow_SRCS := init/grow.c init/err.c init/util.c init/init.h
UNIT_init_net_SRCS := init/net.c init/netcfg.c init/report.c init/yamltree.c init/err.c init/util.c init/init.h
UNIT_init_net_LIBS := -lyaml
UNIT_init_etc_SRCS := init/etc.c init/hostname.c init/err.c init/util.c init/init.h
UNIT_TESTS += init_imgimport
UNIT_init_imgimport_SRCS := init/imgimport.c init/init.h

# The user-data side of issue 5: formats, MIME, #cloud-config, write_files, users, labels.
UNIT_TESTS += init_cloudcfg
UNIT_init_cloudcfg_SRCS := init/spawn.c init/b64.c init/userdata.c init/cloudcfg.c init/ccapply.c \
	init/ccsem.c init/ds.c init/cmdline.c init/yamltree.c init/users.c init/hostname.c \
	init/decl.c init/parse.c init/deps.c \
	init/etc.c init/err.c init/util.c init/init.h
UNIT_init_cloudcfg_LIBS := -lyaml

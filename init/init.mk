# init/init.mk: Wisp's PID 1, provision, update, wispctl and a netboot's /init (static musl), and their unit tests.
# See docs/build.md for the layout and docs/declarations.md for what PID 1 reads.
# init/lib: shared pieces; init/pid1: PID 1; init/provision (+parse/): what a cloud
# sends, turned into files; init/wispctl: the client. One header per program.

LIB_BASE := $(addprefix init/lib/, err.c util.c log.c cmdline.c hostname.c etcfiles.c spawn.c)
LIB_BLKDEV := init/lib/blkdev.c init/lib/loopdev.c
# LIB_DECL_SET: a set of declarations and its compiled form, what PID 1 reads; LIB_DECL adds
# the YAML walker and the compiler (provision, image-builder, the unit tests): never in PID 1.
LIB_DECL_SET := $(addprefix init/lib/, declset.c parse.c deps.c declbin.c)
LIB_DECL := $(LIB_DECL_SET) $(addprefix init/lib/, yamltree.c decl.c users.c declcomp.c)
INIT_HDRS := $(wildcard init/lib/*.h init/pid1/*.h init/provision/*.h init/provision/parse/*.h)

INIT_SRCS := $(LIB_BASE) $(LIB_BLKDEV) $(LIB_DECL_SET) init/lib/proto.c $(addprefix init/pid1/, \
	main.c console.c mounts.c sysctl.c sysfs.c state.c livestore.c grow.c etc.c restart.c unit.c loop.c \
	shutdown.c health.c cgroup.c logs.c control.c powerbtn.c container.c userns.c \
	dispatch.c provrun.c lo.c fsclean.c printf.c bootlog.c rcu.c klog.c)
INIT_BIN := $(B)/init/init
# PID 1's size budget (issue 11: 160 KiB, it parses nothing from outside): the build fails past it.
INIT_BUDGET := 163840

.PHONY: init
init: $(INIT_BIN)

# No libyaml: PID 1 reads declarations compiled (lib/declbin.c), parsed by image-builder
# and provision. The kernel headers stamp because MUSL_CFLAGS puts the sysroot first.
INIT_DEPS := $(B)/sysroot/.headers-ok

# One compiler run: the small files build in a few seconds. -flto: whole-
# program inlining and dead-code removal, about 4 KiB of PID 1's budget.
# No unwind tables (.eh_frame, about 14.6 KiB): PID 1 is C without
# exceptions, cancellation or backtrace(3); nothing unwinds its stack
# (busybox builds the same way). Crashes are read from the core's
# registers and the symbolized build, not from unwinding in the guest.
INIT_CFLAGS := -flto=auto -fno-asynchronous-unwind-tables -fno-unwind-tables
# PID 1 only: -fstack-protector, not the -strong of the other programs:
# canaries where a function has a char array (every path and line buffer) in
# 160 KiB; -strong costs it 8 KiB more. PID 1 parses no untrusted input.
INIT_SSP := -fstack-protector
# PID 1 alone is linked at a fixed address, not static-pie (the top Makefile):
# position-independent code and its relocations cost the others 1-6% of their
# size, and PID 1's budget has no room left; it parses no untrusted input.
INIT_FIXED := -fno-pie
INIT_FIXED_LD := -no-pie
$(INIT_BIN): $(INIT_SRCS) $(INIT_HDRS) init/init.mk $(INIT_DEPS) \
		$(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) $(INIT_FIXED) $(INIT_CFLAGS) $(INIT_SSP) -o $@ $(INIT_SRCS) \
		$(MUSL_LDFLAGS) $(INIT_FIXED_LD)
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)
	@n=$$(stat -c %s $@); [ $$n -le $(INIT_BUDGET) ] || { rm -f $@; \
		echo "init: $$n bytes is over its budget of $(INIT_BUDGET)" >&2; exit 1; }

# provision: /usr/libexec/wisp/provision (docs/provisioning.md), what a cloud sends
# (cloud-init style user-data, docs/cloud-config.md) turned into files and
# declarations for PID 1. Static musl like init; no budget of PID 1's.
# parse/: the parsers of untrusted bytes and the unprivileged child they run in.
# LIB_REG: base64 and the registry files' checks and renderer, shared with
# image-builder (the image spec's registries); never in PID 1.
LIB_REG := init/lib/b64.c init/lib/regcfg.c
PARSE_SRCS := $(addprefix init/provision/parse/, userdata.c gunzip.c yvalue.c cloudcfg.c ccreg.c ccca.c netcfg.c \
	meta.c ovfenv.c xmltext.c plan.c child.c sandbox.c) $(LIB_REG)
PROVISION_OWN := $(addprefix init/provision/, main.c run.c root.c declw.c bootgood.c update.c ccapply.c idmap.c dirwalk.c ccsem.c ds.c dsdev.c \
	cloudinit.c ccfinal.c tzrules.c sshd.c firewall.c bridge.c imgimport.c net.c dsnet.c dsmeta.c dsuser.c \
	azure.c report.c console.c)
# The host's firewall (firewall.c): containerd-lite's table (containerd-lite.h's
# cl_host_firewall), linked in with what it needs (the nf_tables batch, the port
# syntax and its address helpers, its errors) and libnl-3: at boot an exec of
# containerd-lite cost ~100 ms of reading ROOT under TCG.
PROVISION_CL := $(addprefix containerd-lite/, runtime/err.c net/fw.c net/nft.c net/port.c net/cfg.c) \
	init/lib/ttyesc.c
PROVISION_SRCS := $(LIB_BASE) $(LIB_DECL) $(PROVISION_OWN) $(PARSE_SRCS) $(PROVISION_CL)
PROVISION_HDRS := $(INIT_HDRS) containerd-lite/containerd-lite.h containerd-lite/net/net.h
PROVISION_BIN := $(B)/init/provision
init: $(PROVISION_BIN)
# libyaml, zlib (the parser child's gunzip) and libnl-3 from the musl sysroot
# (rootfs.mk, containerd-lite.mk: named here, that file comes later).
PROVISION_DEPS := $(INIT_DEPS) $(B)/sysroot/include/yaml.h $(B)/sysroot/lib/libyaml.a $(B)/sysroot/lib/libz.a \
	$(B)/sysroot/lib/libnl-3.a $(B)/sysroot/include/netlink/version.h
$(PROVISION_BIN): $(PROVISION_SRCS) $(PROVISION_HDRS) init/init.mk $(PROVISION_DEPS) $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_PIE_CC) $(MUSL_CFLAGS) $(INIT_CFLAGS) -Icontainerd-lite -o $@ $(PROVISION_SRCS) \
		$(MUSL_LDFLAGS) -lyaml -lz -lnl-3
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)

# update: /usr/libexec/wisp/update (docs/update-bundle.md), the updater wispctl's
# `update` verb runs: signed bundles checked with libsodium (static musl,
# rootfs.mk: libsodium-musl). Its own program: nothing of PID 1's or provision's.
UPDATE_SRCS := $(addprefix init/update/, main.c args.c bundle.c manifest.c minisig.c version.c utc.c \
	apply.c fetch.c slotcfg.c kargs.c grubenv.c esp.c boot.c slotdev.c mark.c watch.c status.c trial.c units.c \
	lock.c goodslot.c) \
	$(addprefix init/lib/, err.c util.c cmdline.c blkdev.c spawn.c proto.c)
UPDATE_BIN := $(B)/init/update
init: $(UPDATE_BIN)
UPDATE_DEPS := $(B)/sysroot/.headers-ok $(B)/sysroot/lib/libsodium.a $(B)/sysroot/include/sodium.h
$(UPDATE_BIN): $(UPDATE_SRCS) init/update/update.h init/update/units.h $(INIT_HDRS) init/init.mk $(UPDATE_DEPS) \
		$(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_PIE_CC) $(MUSL_CFLAGS) $(INIT_CFLAGS) -o $@ $(UPDATE_SRCS) $(MUSL_LDFLAGS) -lsodium
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)

# Golden trees (tests/provision/golden/CASE/{root,seed,expected}): provision built for
# the build host (glibc, ASan + UBSan, as the unit tests) runs `--root TMP --seed SEED`
# on each case; the tree it leaves must be expected/ (tests/provision/golden.py;
# WISP_GOLDEN_UPDATE=1 rewrites expected/ instead, for a reviewed change).
PROVISION_HOST := $(B)/host/provision
$(PROVISION_HOST): $(PROVISION_SRCS) $(PROVISION_HDRS) init/init.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Icontainerd-lite -I/usr/include/libnl3 -o $@ \
		$(PROVISION_SRCS) -lyaml -lz -lnl-3
# The same with PARSE_FAULT_INJECT ("wisp-fault: ..." in an input makes the parser child
# die on purpose): tests/provision/golden-fault, provision's fallbacks when a child fails.
PROVISION_FAULT := $(B)/host/provision-fault
$(PROVISION_FAULT): $(PROVISION_SRCS) $(PROVISION_HDRS) init/init.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -DPARSE_FAULT_INJECT -Icontainerd-lite \
		-I/usr/include/libnl3 -o $@ $(PROVISION_SRCS) -lyaml -lz -lnl-3
.PHONY: provision-golden
provision-golden: $(PROVISION_HOST) $(PROVISION_FAULT)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		python3 tests/provision/golden.py $(PROVISION_HOST) tests/provision/golden
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		python3 tests/provision/golden.py $(PROVISION_FAULT) tests/provision/golden-fault
unit-test: provision-golden
test: provision-golden

# No parser of what a cloud sends in PID 1 (issue 11), and no YAML parser (its declarations
# come compiled, lib/declbin.c): the same build unstripped, and nm must show none of their
# symbols (user-data, base64, cloud-config, network-config, cloud-config steps, datasources,
# meta-data, XML, Azure's report, gzip; libyaml, the YAML tree, the declarations' walker).
INIT_FORBIDDEN := ^(ud_|b64_|cloudcfg_|netcfg_|cc_|ds_|meta_|xml_|azure_|yaml_|ytree_|decl_load)|gunzip|inflate
INIT_UNSTRIPPED := $(B)/init/init.unstripped
$(INIT_UNSTRIPPED): $(INIT_SRCS) $(INIT_HDRS) init/init.mk $(INIT_DEPS) \
		$(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) $(INIT_FIXED) $(INIT_CFLAGS) $(INIT_SSP) -o $@ $(INIT_SRCS) \
		$(filter-out -s,$(MUSL_LDFLAGS)) $(INIT_FIXED_LD)
.PHONY: init-symbols-check
test: init-symbols-check
init-symbols-check: $(INIT_UNSTRIPPED)
	@bad=$$(nm $< | awk '{print $$NF}' | grep -E '$(INIT_FORBIDDEN)' || true); \
	if [ -n "$$bad" ]; then echo "init-symbols-check: parsers PID 1 must not link:" \
		$$bad >&2; exit 1; fi; echo "init-symbols-check: $$(nm $< | wc -l) symbols, none of a cloud or YAML parser"
# PID 1 is built with a stack protector (INIT_SSP): the handler of the control
# socket's requests, its one input from other processes, reads the canary (under LTO
# its symbol may carry a suffix: on_client.lto_priv.0).
.PHONY: init-ssp-check
test: init-ssp-check
init-ssp-check: $(INIT_UNSTRIPPED)
	@objdump -d --no-show-raw-insn $< | awk '/^[0-9a-f]+ <on_client(\.[a-z_0-9.]+)?>:$$/{f=1; next} \
		/^[0-9a-f]+ <.*>:$$/{f=0} f && /%fs:0x28/{n++} END{exit n ? 0 : 1}' || \
		{ echo "init-ssp-check: on_client in $< reads no stack canary (-fstack-protector?)" >&2; \
		exit 1; }; echo "init-ssp-check: on_client reads the stack canary"

# Unit tests (tests/tests.mk): native glibc + host libyaml, ASan + UBSan.
UNIT_TESTS += init_decl init_sysfs init_cmdline init_restart init_spawn
UNIT_init_decl_SRCS := $(LIB_DECL) init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_decl_LIBS := -lyaml
UNIT_TESTS += init_declbin
UNIT_init_declbin_SRCS := $(UNIT_init_decl_SRCS)
UNIT_init_declbin_LIBS := -lyaml
UNIT_init_sysfs_SRCS := init/pid1/sysfs.c init/lib/blkdev.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_cmdline_SRCS := init/lib/cmdline.c init/lib/hostname.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_restart_SRCS := init/pid1/restart.c $(INIT_HDRS)
UNIT_TESTS += init_cgroup init_logs init_health init_unit
UNIT_init_unit_SRCS := init/pid1/unit.c init/pid1/dispatch.c $(LIB_DECL) init/pid1/restart.c init/pid1/container.c \
	init/pid1/userns.c init/pid1/bootlog.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_unit_LIBS := -lyaml
UNIT_TESTS += init_early
# test_init_early.c includes test_init_unit.c (its stubs)
UNIT_init_early_SRCS := $(UNIT_init_unit_SRCS)
UNIT_init_early_LIBS := -lyaml
UNIT_init_cgroup_SRCS := init/pid1/cgroup.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_logs_SRCS := init/pid1/logs.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
# logs.c's write() calls counted, its clock fixed (the batching's probe)
UNIT_init_logs_LIBS := -Wl,--wrap=write,--wrap=clock_gettime
UNIT_init_health_SRCS := init/pid1/health.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_spawn_SRCS := init/lib/spawn.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_TESTS += init_sysctl
UNIT_init_sysctl_SRCS := init/pid1/sysctl.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_TESTS += init_rcu
UNIT_init_rcu_SRCS := init/pid1/rcu.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_TESTS += init_printf
UNIT_init_printf_SRCS := init/pid1/printf.c $(INIT_HDRS)
UNIT_TESTS += init_bootlog
UNIT_init_bootlog_SRCS := init/pid1/bootlog.c $(INIT_HDRS)
UNIT_TESTS += init_fsclean
UNIT_init_fsclean_SRCS := init/pid1/fsclean.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_TESTS += init_provrun
UNIT_init_provrun_SRCS := init/pid1/provrun.c init/pid1/bootlog.c init/lib/err.c init/lib/util.c \
	$(INIT_HDRS)
# control.c is included by the test itself (its listener's handler is static)
UNIT_TESTS += init_control
UNIT_init_control_SRCS := init/lib/proto.c init/lib/err.c init/lib/util.c init/pid1/control.c $(INIT_HDRS)
UNIT_init_control_INCLUDED := init/pid1/control.c
# loop.c is included by the test (its epoll descriptor is static)
UNIT_TESTS += init_loop
UNIT_init_loop_SRCS := init/lib/err.c init/lib/util.c init/pid1/loop.c $(INIT_HDRS)
UNIT_init_loop_INCLUDED := init/pid1/loop.c
# klog.c is included by the test (its relay's state is static); its files are faked by path
UNIT_TESTS += init_klog
UNIT_init_klog_SRCS := init/lib/err.c init/lib/util.c init/pid1/klog.c $(INIT_HDRS)
UNIT_init_klog_INCLUDED := init/pid1/klog.c
UNIT_init_klog_LIBS := -Wl,--wrap=open,--wrap=lseek
UNIT_TESTS += init_log
UNIT_init_log_SRCS := init/lib/log.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_log_LIBS := -Wl,--wrap=open
# provision's console writer against a stopped and a full pseudo-terminal
UNIT_TESTS += init_provcon
UNIT_init_provcon_SRCS := init/provision/console.c init/lib/log.c init/lib/err.c init/lib/util.c \
	$(INIT_HDRS) init/provision/provision.h

# wispctl: the control socket's client (docs/wispctl.md), static musl, /bin/wispctl.
WISPCTL_SRCS := init/wispctl/wispctl.c init/wispctl/args.c init/wispctl/netinfo.c init/wispctl/tty.c \
	$(addprefix init/lib/, proto.c err.c util.c ttyesc.c)
WISPCTL_BIN := $(B)/init/wispctl
init: $(WISPCTL_BIN)
$(WISPCTL_BIN): $(WISPCTL_SRCS) $(INIT_HDRS) init/wispctl/wispctl.h init/init.mk $(B)/sysroot/.headers-ok $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_PIE_CC) $(MUSL_CFLAGS) -o $@ $(WISPCTL_SRCS) $(MUSL_LDFLAGS)
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)

# initramfs: a netboot initramfs's /init (docs/image-spec.md, "Network boot"), in ROOT as
# /usr/libexec/wisp/initramfs-init for `image-builder convert --format pxe` to take; never
# run from ROOT. Static-pie musl over init/lib's base (errors, log lines, the command line).
INITRAMFS_SRCS := $(addprefix init/initramfs/, main.c dmspec.c devmapper.c switchroot.c) init/lib/loopdev.c \
	$(addprefix init/lib/, err.c util.c log.c cmdline.c)
INITRAMFS_BIN := $(B)/init/initramfs-init
init: $(INITRAMFS_BIN)
$(INITRAMFS_BIN): $(INITRAMFS_SRCS) $(INIT_HDRS) init/initramfs/initramfs.h init/init.mk $(B)/sysroot/.headers-ok \
		$(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_PIE_CC) $(MUSL_CFLAGS) -o $@ $(INITRAMFS_SRCS) $(MUSL_LDFLAGS)
	@printf '%-32s %9d bytes\n' $@ $$(stat -c %s $@)

# The device of wisp.initramfs.dm= (dm-mod.create='s syntax), good and bad.
UNIT_TESTS += initramfs_dmspec
UNIT_initramfs_dmspec_SRCS := init/initramfs/dmspec.c init/lib/err.c init/lib/util.c \
	init/initramfs/initramfs.h $(INIT_HDRS)

# --help and --version on the build host (tests/wispctl/cli.py): the usage
# is docs/wispctl.md's, the version the build's.
.PHONY: wispctl-test
test: wispctl-test
wispctl-test: $(WISPCTL_BIN)
	@WISP_VERSION=$(WISP_VERSION) python3 tests/wispctl/cli.py $(WISPCTL_BIN) docs/wispctl.md

UNIT_TESTS += init_proto init_grow init_etc init_net
# wispctl's command line: options anywhere, "--", --help/--version, errors.
UNIT_TESTS += wispctl_args wispctl_tty
UNIT_wispctl_tty_SRCS := init/wispctl/tty.c init/lib/ttyesc.c init/wispctl/wispctl.h $(INIT_HDRS)
UNIT_wispctl_args_SRCS := init/wispctl/args.c init/lib/proto.c init/lib/err.c init/lib/util.c \
	init/wispctl/wispctl.h $(INIT_HDRS)
UNIT_init_proto_SRCS := init/lib/proto.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_grow_SRCS := init/pid1/grow.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
PROVISION_DECLW := init/provision/declw.c init/provision/root.c init/provision/report.c $(LIB_DECL)
UNIT_init_net_SRCS := init/provision/net.c init/provision/dsnet.c init/lib/spawn.c $(PARSE_SRCS) $(PROVISION_DECLW) \
	init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_net_LIBS := -lyaml -lz
UNIT_init_etc_SRCS := init/pid1/etc.c init/lib/etcfiles.c init/lib/hostname.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_TESTS += init_imgimport
UNIT_init_imgimport_SRCS := init/provision/imgimport.c $(PROVISION_DECLW) init/lib/err.c init/lib/util.c \
	init/lib/cmdline.c \
	$(INIT_HDRS)
UNIT_init_imgimport_LIBS := -lyaml
UNIT_TESTS += init_declw
UNIT_init_declw_SRCS := $(PROVISION_DECLW) init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_declw_LIBS := -lyaml

# The user-data side of issue 5: formats, MIME, #cloud-config, write_files, users, labels.
UNIT_TESTS += init_cloudcfg
UNIT_init_cloudcfg_SRCS := init/lib/spawn.c $(PARSE_SRCS) init/provision/ccapply.c init/provision/idmap.c init/provision/dirwalk.c \
	init/provision/ccsem.c init/provision/ds.c init/provision/dsdev.c init/provision/dsmeta.c init/provision/root.c init/provision/tzrules.c init/lib/cmdline.c init/lib/yamltree.c init/lib/users.c init/lib/hostname.c init/lib/etcfiles.c \
	init/lib/decl.c init/lib/declset.c init/lib/parse.c init/lib/deps.c init/lib/declbin.c \
	init/lib/declcomp.c init/pid1/etc.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_cloudcfg_LIBS := -lyaml -lz
$(B)/unit/test_init_cloudcfg: HOST_CFLAGS += -DPARSE_FAULT_INJECT -DTZRULES_BUILT='"$(TZRULES)"'
# the time zone table the build makes (rootfs.mk), looked up by tzrules.c
$(B)/unit/test_init_cloudcfg: $(TZRULES)

# the ids given to users and groups, kept on STATE (idmap.c), across boots (ccapply.c)
UNIT_TESTS += init_idmap
UNIT_init_idmap_SRCS := $(UNIT_init_cloudcfg_SRCS)
UNIT_init_idmap_LIBS := $(UNIT_init_cloudcfg_LIBS)

# the block devices the datasource probe reads (in use: held, mounted, partitioned): a fake sysfs
UNIT_TESTS += init_dsdev
UNIT_init_dsdev_SRCS := init/provision/dsdev.c init/lib/err.c init/lib/util.c $(INIT_HDRS)

# provision's children and the host's firewall (issue 11): the first table runs beside
# provision, nothing provision runs starts before it has ended. The table itself is a
# slow stand-in here (the test's cl_host_firewall); tests/containerd-lite/net.py and the
# system tests make the real one.
UNIT_TESTS += init_firewall
UNIT_init_firewall_SRCS := init/provision/firewall.c init/provision/run.c init/provision/root.c \
	init/provision/report.c init/lib/spawn.c init/lib/err.c init/lib/util.c $(INIT_HDRS)

# The parser child and its plan (issue 11): round trips, malformed plans, and a child
# made to crash or hang on purpose (PARSE_FAULT_INJECT: this test binary only).
UNIT_TESTS += init_plan
UNIT_init_plan_SRCS := $(PARSE_SRCS) init/lib/spawn.c init/lib/yamltree.c init/lib/parse.c init/lib/err.c init/lib/util.c $(INIT_HDRS)
UNIT_init_plan_LIBS := -lyaml -lz
$(B)/unit/test_init_plan: HOST_CFLAGS += -DPARSE_FAULT_INJECT

# The updater (issue 14): bundles signed by Debian's minisign with tests/keys, each way
# one is refused; the manifest parser, versions and the command line. Debian's libsodium.
UNIT_TESTS += update_bundle update_manifest update_grubenv update_trial
UPDATE_LIB_SRCS := $(addprefix init/update/, bundle.c manifest.c minisig.c version.c utc.c slotcfg.c \
	kargs.c) \
	init/lib/err.c init/lib/util.c init/update/update.h $(INIT_HDRS)
UNIT_update_bundle_SRCS := $(UPDATE_LIB_SRCS)
UNIT_update_bundle_LIBS := -lsodium
UNIT_update_manifest_SRCS := $(UPDATE_LIB_SRCS) init/update/args.c
UNIT_update_manifest_LIBS := -lsodium
UNIT_update_grubenv_SRCS := init/update/grubenv.c init/update/goodslot.c init/lib/err.c init/lib/util.c \
	init/update/update.h $(INIT_HDRS)
UNIT_TESTS += update_fetch
UNIT_update_fetch_SRCS := init/update/fetch.c init/lib/err.c init/lib/util.c init/lib/spawn.c init/update/update.h $(INIT_HDRS)
UNIT_update_trial_SRCS := init/update/trial.c init/update/units.c init/lib/proto.c init/lib/err.c init/lib/util.c \
	init/update/update.h init/update/units.h $(INIT_HDRS)

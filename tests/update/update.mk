# tests/update/update.mk: what the update system test (tests/system/test_update.py)
# updates to: Wisp UPDATE_TEST_VERSION, the same image but for the programs whose
# version shows (init's banner, the updater's checks) and /etc/os-release, built again
# with that version in build/v2, and its bundle signed with the test key. The real
# build's rules and sources; only WISP_VERSION differs.
UPDATE_TEST_VERSION := 0.2.0
V2 := $(B)/v2
V2_CFLAGS := $(subst '"$(WISP_VERSION)"','"$(UPDATE_TEST_VERSION)"',$(MUSL_CFLAGS))
V2_BUNDLE := $(V2)/wisp-update.bundle

$(V2)/init: $(INIT_SRCS) $(INIT_HDRS) init/init.mk $(INIT_DEPS) \
		tests/update/update.mk $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(V2_CFLAGS) $(INIT_FIXED) $(INIT_CFLAGS) -o $@ $(INIT_SRCS) \
		$(MUSL_LDFLAGS) $(INIT_FIXED_LD)
$(V2)/update: $(UPDATE_SRCS) init/update/update.h $(INIT_HDRS) init/init.mk $(UPDATE_DEPS) \
		tests/update/update.mk $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_PIE_CC) $(V2_CFLAGS) $(INIT_CFLAGS) -o $@ $(UPDATE_SRCS) $(MUSL_LDFLAGS) -lsodium
$(V2)/os-release: $(B)/rootfs/os-release tests/update/update.mk
	@mkdir -p $(@D)
	sed 's/$(subst .,\.,$(WISP_VERSION))/$(UPDATE_TEST_VERSION)/g' $< > $@
# rootfs/manifest with those three files in place of the build's
$(V2)/manifest: $(IB_MANIFEST) tests/update/update.mk
	@mkdir -p $(@D)
	sed -e 's|build/init/init\b|$(V2)/init|; s|build/init/update\b|$(V2)/update|' \
		-e 's|build/rootfs/os-release\b|$(V2)/os-release|' $< > $@
$(V2)/wisp.yaml: $(IB_SPEC) tests/update/update.mk
	@mkdir -p $(@D)
	sed 's|^  manifest: rootfs/manifest|  manifest: $(V2)/manifest|' $< > $@
	@grep -q '^  manifest: $(V2)/manifest' $@ || { echo "$@: no rootfs.manifest to replace" >&2; exit 1; }

$(V2)/wisp.img $(V2)/wisp.kernel $(V2)/wisp.root $(V2)/wisp.verity &: $(IB) $(V2)/wisp.yaml \
		$(V2)/manifest $(V2)/init $(V2)/update $(V2)/os-release $(B)/wisp.img | $(DEPS_STAMP)
	$(IB) -C . -o $(V2)/wisp.img $(V2)/wisp.yaml
$(V2_BUNDLE): $(V2)/wisp.img $(V2)/wisp.kernel $(V2)/wisp.root $(V2)/wisp.verity
	$(IB) bundle -C . -o $@ --key $(BUNDLE_KEY) --expires $(BUNDLE_EXPIRES) --spec $(IB_SPEC) \
		--os-version $(UPDATE_TEST_VERSION) --kernel $(V2)/wisp.kernel --root $(V2)/wisp.root \
		--verity $(V2)/wisp.verity

.PHONY: update-bundle-v2
update-bundle-v2: $(V2_BUNDLE)
system-test: $(V2_BUNDLE)

# The built image's ROOT-A against Debian's veritysetup verify (tests/update/verity.py).
.PHONY: verity-test
test: verity-test
verity-test: $(B)/wisp.img | $(DEPS_STAMP)
	@python3 tests/update/verity.py $(B)/wisp.img

# Images whose init does not come up, as a broken update would: $(1) the build
# directory, $(2) the program in /sbin/init's place.
define broken_image
$(1)/manifest: $$(IB_MANIFEST) tests/update/update.mk
	@mkdir -p $$(@D)
	sed 's|build/init/init\b|$(2)|' $$< > $$@
$(1)/wisp.yaml: $$(IB_SPEC) tests/update/update.mk
	@mkdir -p $$(@D)
	sed 's|^  manifest: rootfs/manifest|  manifest: $(1)/manifest|' $$< > $$@
$(1)/wisp.img $(1)/wisp.kernel $(1)/wisp.root $(1)/wisp.verity &: $$(IB) $(1)/wisp.yaml \
		$(1)/manifest $(2) $$(B)/wisp.img | $$(DEPS_STAMP)
	$$(IB) -C . -o $(1)/wisp.img $(1)/wisp.yaml
endef

# Wisp 0.3.0, whose init fails (tests/update/failing-init): a bundle GRUB must roll back.
UPDATE_FAIL_VERSION := 0.3.0
V3 := $(B)/v3
V3_BUNDLE := $(V3)/wisp-update.bundle
$(eval $(call broken_image,$(V3),tests/update/failing-init))
$(V3_BUNDLE): $(V3)/wisp.img $(V3)/wisp.kernel $(V3)/wisp.root $(V3)/wisp.verity
	$(IB) bundle -C . -o $@ --key $(BUNDLE_KEY) --expires $(BUNDLE_EXPIRES) --spec $(IB_SPEC) \
		--os-version $(UPDATE_FAIL_VERSION) --kernel $(V3)/wisp.kernel --root $(V3)/wisp.root \
		--verity $(V3)/wisp.verity
system-test: $(V3_BUNDLE)

# An image whose init hangs (tests/update/hanging-init): system test boot-hang puts its
# ROOT into slot B of a copy of the build's image.
$(eval $(call broken_image,$(B)/hang,tests/update/hanging-init))
system-test: $(B)/hang/wisp.img

# Bundles of 0.2.0 the device must refuse: signed by a key the image does not trust,
# and one that expired (made as if in 2020, valid for a day).
V2_REFUSED := $(V2)/other-key.bundle $(V2)/expired.bundle
$(V2)/other-key.bundle: $(V2_BUNDLE)
	$(IB) bundle -C . -o $@ --key tests/keys/other-test.key --expires $(BUNDLE_EXPIRES) \
		--spec $(IB_SPEC) --os-version $(UPDATE_TEST_VERSION) --kernel $(V2)/wisp.kernel \
		--root $(V2)/wisp.root --verity $(V2)/wisp.verity
$(V2)/expired.bundle: $(V2_BUNDLE)
	SOURCE_DATE_EPOCH=1577836800 $(IB) bundle -C . -o $@ --key $(BUNDLE_KEY) --expires 1d \
		--spec $(IB_SPEC) --os-version $(UPDATE_TEST_VERSION) --kernel $(V2)/wisp.kernel \
		--root $(V2)/wisp.root --verity $(V2)/wisp.verity
system-test: $(V2_REFUSED)

# update.slot_b (docs/image-spec.md): the build's image with the 0.2.0 bundle in slot B
# from the start, booted first (system test boot-slotb-spec).
$(B)/slotb/wisp.yaml: $(IB_SPEC) tests/update/update.mk
	@mkdir -p $(@D)
	sed -e 's|^  default_slot: A|  default_slot: B|' \
		-e 's|^\(  key: tests/keys/wisp-test.pub.*\)|\1\n  slot_b: $(V2_BUNDLE)|' $< > $@
	@grep -q '^  slot_b: ' $@ && grep -q '^  default_slot: B' $@ || \
		{ echo "$@: the spec's boot or update section moved" >&2; rm -f $@; exit 1; }
$(B)/slotb/wisp.img: $(IB) $(B)/slotb/wisp.yaml $(V2_BUNDLE) $(B)/wisp.img | $(DEPS_STAMP)
	$(IB) -C . -o $@ $(B)/slotb/wisp.yaml
system-test: $(B)/slotb/wisp.img

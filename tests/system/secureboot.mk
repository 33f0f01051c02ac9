# The Secure Boot test image (system test secureboot, docs/image-spec.md "Secure Boot"):
# the build's spec with `secure_boot:`, signed for Debian's snakeoil test key (ovmf's
# PkKek-1-snakeoil, which OVMF_VARS_4M.snakeoil.fd enrolls in PK, KEK and db; its key
# file is protected by the passphrase "snakeoil") and GRUB's OpenPGP test key
# (tests/keys/grub-test.sec.asc). Test keys only: they prove nothing.
SB_DIR := $(B)/secureboot
SNAKEOIL := /usr/share/ovmf/PkKek-1-snakeoil

$(SB_DIR)/db.key: $(SNAKEOIL).key | $(DEPS_STAMP)
	@mkdir -p $(@D)
	openssl rsa -in $< -passin pass:snakeoil -out $@.tmp 2>/dev/null && mv $@.tmp $@
$(SB_DIR)/db.crt: $(SNAKEOIL).pem | $(DEPS_STAMP)
	@mkdir -p $(@D)
	cp $< $@
$(SB_DIR)/wisp.yaml: $(IB_SPEC) tests/system/secureboot.mk
	@mkdir -p $(@D)
	{ cat $<; printf 'secure_boot:\n  key: %s\n  cert: %s\n  gpg_key: %s\n' \
		$(SB_DIR)/db.key $(SB_DIR)/db.crt tests/keys/grub-test.sec.asc; } > $@
$(SB_DIR)/wisp.img: $(IB) $(SB_DIR)/wisp.yaml $(SB_DIR)/db.key $(SB_DIR)/db.crt \
		tests/keys/grub-test.sec.asc $(B)/wisp.img | $(DEPS_STAMP)
	$(IB) -C . -o $@ $(SB_DIR)/wisp.yaml
system-test: $(SB_DIR)/wisp.img

# Wisp 0.2.0 (tests/update/update.mk's build) as a format 2 bundle for this image: the
# spec's secure_boot signs its kernel and the slot.cfg the updater writes (system test
# secureboot updates the signed image with it, under Secure Boot).
SB_V2_BUNDLE := $(SB_DIR)/wisp-update-$(UPDATE_TEST_VERSION).bundle
$(SB_V2_BUNDLE): $(IB) $(SB_DIR)/wisp.yaml $(SB_DIR)/db.key $(SB_DIR)/db.crt \
		tests/keys/grub-test.sec.asc $(V2)/wisp.img $(V2)/wisp.kernel $(V2)/wisp.root \
		$(V2)/wisp.verity | $(DEPS_STAMP)
	$(IB) bundle -C . -o $@ --key $(BUNDLE_KEY) --expires $(BUNDLE_EXPIRES) \
		--spec $(SB_DIR)/wisp.yaml --os-version $(UPDATE_TEST_VERSION) \
		--kernel $(V2)/wisp.kernel --root $(V2)/wisp.root --verity $(V2)/wisp.verity
system-test: $(SB_V2_BUNDLE)

# The same 0.2.0 bundle with GRUB's signatures made by another OpenPGP key than the
# image's (tests/keys/grub-other-test.sec.asc): written by the updater, refused by
# GRUB at its trial boot, which falls back to the running slot.
SB_OTHER_BUNDLE := $(SB_DIR)/wisp-update-$(UPDATE_TEST_VERSION)-other-key.bundle
$(SB_DIR)/other-key.yaml: $(SB_DIR)/wisp.yaml
	sed 's|^  gpg_key: .*|  gpg_key: tests/keys/grub-other-test.sec.asc|' $< > $@
$(SB_OTHER_BUNDLE): $(IB) $(SB_DIR)/other-key.yaml $(SB_DIR)/db.key $(SB_DIR)/db.crt \
		tests/keys/grub-other-test.sec.asc $(V2)/wisp.img $(V2)/wisp.kernel \
		$(V2)/wisp.root $(V2)/wisp.verity | $(DEPS_STAMP)
	$(IB) bundle -C . -o $@ --key $(BUNDLE_KEY) --expires $(BUNDLE_EXPIRES) \
		--spec $(SB_DIR)/other-key.yaml --os-version $(UPDATE_TEST_VERSION) \
		--kernel $(V2)/wisp.kernel --root $(V2)/wisp.root --verity $(V2)/wisp.verity
system-test: $(SB_OTHER_BUNDLE)

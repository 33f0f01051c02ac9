# rootfs/toolchain/toolchain.mk: the Debian packages the build needs
# (make deps) and the pinned Debian source packages it builds from.
#
# $(DEPS_STAMP) is an order-only prerequisite of every build rule, so the
# first `make`, `make run` or `make test` on a new machine installs what is
# missing. It is redone when the package list changes, and re-checked when
# dpkg's database changes (a package removed behind the build's back).

TOOLCHAIN_DIR := rootfs/toolchain
DEPS_LIST := $(TOOLCHAIN_DIR)/packages.list

$(DEPS_STAMP): $(DEPS_LIST) $(TOOLCHAIN_DIR)/deps.sh $(wildcard /var/lib/dpkg/status)
	@mkdir -p $(@D)
	@$(TOOLCHAIN_DIR)/deps.sh $(DEPS_LIST)
	@touch $@

deps:
	@$(TOOLCHAIN_DIR)/deps.sh $(DEPS_LIST)
	@mkdir -p $(B) && touch $(DEPS_STAMP)

# Reports what is missing without installing anything.
deps-check:
	@$(TOOLCHAIN_DIR)/deps.sh --check $(DEPS_LIST)

# --- Debian source packages (versions in sources.pin) ----------------------

PIN_FILE := $(TOOLCHAIN_DIR)/sources.pin
FETCH_SOURCE := B=$(B) WISP_SOURCES_PIN=$(PIN_FILE) $(TOOLCHAIN_DIR)/fetch-source.sh

# $(call pin_version,PKG): the pinned Debian version of source package PKG.
pin_version = $(shell sed 's/\#.*//' $(PIN_FILE) | awk '$$1 == "$(1)" { print $$2; exit }')
# $(call upstream_version,VERSION): without epoch and Debian revision.
upstream_version = $(shell echo '$(1)' | sed 's/^[0-9]*://; s/-[^-]*$$//')

# $(call debian_source,PKG,VAR) defines VAR_VERSION, VAR_SRC (the unpacked
# tree, build/src/PKG-UPSTREAM) and VAR_SRC_STAMP, named after the exact
# version so that a new pin unpacks again. Same names as fetch-source.sh.
define debian_source
$(2)_VERSION := $$(call pin_version,$(1))
$(2)_SRC := $(B)/src/$(1)-$$(call upstream_version,$$($(2)_VERSION))
$(2)_SRC_STAMP := $$($(2)_SRC)/.wisp-src-$$(subst :,_,$$($(2)_VERSION))
$$($(2)_SRC_STAMP): | $(DEPS_STAMP)
	@$(FETCH_SOURCE) $(1)
endef

$(eval $(call debian_source,busybox,BUSYBOX))
$(eval $(call debian_source,libyaml,LIBYAML))
$(eval $(call debian_source,e2fsprogs,E2FSPROGS))
$(eval $(call debian_source,jansson,JANSSON))
$(eval $(call debian_source,libseccomp,LIBSECCOMP))
$(eval $(call debian_source,zlib,ZLIB))
$(eval $(call debian_source,libzstd,LIBZSTD))
$(eval $(call debian_source,dropbear,DROPBEAR))
$(eval $(call debian_source,libnl3,LIBNL))
$(eval $(call debian_source,libsodium,LIBSODIUM))
$(eval $(call debian_source,wolfssl,WOLFSSL))
$(eval $(call debian_source,curl,CURL))
$(eval $(call debian_source,ca-certificates,CA_CERTIFICATES))

.PHONY: sources
sources: $(BUSYBOX_SRC_STAMP) $(LIBYAML_SRC_STAMP) $(E2FSPROGS_SRC_STAMP) \
	$(JANSSON_SRC_STAMP) $(LIBSECCOMP_SRC_STAMP) $(ZLIB_SRC_STAMP) $(LIBZSTD_SRC_STAMP) \
	$(DROPBEAR_SRC_STAMP) $(LIBNL_SRC_STAMP) $(LIBSODIUM_SRC_STAMP) $(WOLFSSL_SRC_STAMP) \
	$(CURL_SRC_STAMP) $(CA_CERTIFICATES_SRC_STAMP)

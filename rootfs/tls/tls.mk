# rootfs/tls/tls.mk: TLS for the image (docs/tls.md): mbedTLS and libcurl as
# static musl libraries for the programs that fetch over HTTPS (registry
# pulls, the updater's https:// URLs), and Mozilla's CA bundle for ROOT, all
# from the Debian sources pinned in rootfs/toolchain/sources.pin. Included by
# rootfs/rootfs.mk.
#
#   make mbedtls-musl     build/sysroot/lib/lib{mbedtls,mbedx509,mbedcrypto}.a
#                         + include/mbedtls/ (config.h: rootfs/tls/mbedtls-config.h)
#   make libcurl-musl     build/sysroot/lib/libcurl.a + include/curl/
#   make ca-certificates  build/rootfs/ca-certificates.crt (ROOT's /etc/ssl/certs/)
#   make tls-test         tests/tls/test_tls.py: build/tls/tlsget against a local server
#   make tls-sizes        what libcurl + mbedTLS add to a static program (docs/tls.md)
#
# A program of the image that fetches over HTTPS lists $(TLS_MUSL_DEPS) among its
# prerequisites and links $(TLS_LIBS) (in that order) after $(MUSL_LDFLAGS).

.PHONY: mbedtls-musl libcurl-musl ca-certificates tls-test tls-sizes

# --- mbedTLS -------------------------------------------------------------------
# Compiled directly like libsodium: the only thing its CMake or Makefile would
# add is the file list, given here for what mbedtls-config.h enables (the
# other files of library/ compile to nothing under that config). The library
# is built with our config file named on the command line; consumers get the
# same options from the installed mbedtls/config.h, which is that file.

MBEDTLS_OBJDIR := $(B)/mbedtls
MBEDTLS_CONFIG := rootfs/tls/mbedtls-config.h
MBEDCRYPTO_C := aes aesni asn1parse asn1write base64 bignum chacha20 chachapoly cipher \
	cipher_wrap constant_time ctr_drbg ecdh ecdsa ecp ecp_curves entropy entropy_poll \
	error gcm md oid pem pk pk_wrap pkparse pkwrite platform_util poly1305 rsa \
	rsa_internal sha1 sha256 sha512 version
MBEDX509_C := x509 x509_crt
MBEDTLS_C := ssl_ciphersuites ssl_cli ssl_msg ssl_tls
MBEDTLS_A := $(B)/sysroot/lib/libmbedtls.a $(B)/sysroot/lib/libmbedx509.a \
	$(B)/sysroot/lib/libmbedcrypto.a
MBEDTLS_H := $(B)/sysroot/include/mbedtls/config.h
MBEDTLS_DEFS := -DMBEDTLS_CONFIG_FILE='"mbedtls-config.h"' -Irootfs/tls -I$(MBEDTLS_SRC)/include
# As libsodium and init's programs: C that nothing unwinds needs no unwind
# tables (40 KiB of a program linking both libraries).
TLS_NOUNWIND := -fno-asynchronous-unwind-tables -fno-unwind-tables

mbedtls-musl: $(MBEDTLS_A) $(MBEDTLS_H)

# The bulk cipher of a download (AES-GCM, image_tlsip.c puts it first where
# the CPU has AES-NI) at -O2: a pull's time is mostly in these loops, and -Os
# leaves gcm.c's byte loops unvectorised (bench/pull.py; docs/tls.md).
MBEDTLS_FAST := aes aesni cipher gcm
$(addprefix $(MBEDTLS_OBJDIR)/,$(addsuffix .o,$(MBEDTLS_FAST))): MBEDTLS_OPT := -O2

# This file is a prerequisite: its flags and file lists are inputs.
$(MBEDTLS_OBJDIR)/%.o: $(MBEDTLS_SRC_STAMP) $(MBEDTLS_CONFIG) rootfs/tls/tls.mk $(SYSROOT_HEADERS) \
		| $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "mbedtls: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(MBEDTLS_OPT) $(TLS_NOUNWIND) $(MBEDTLS_DEFS) -c -o $@ $(MBEDTLS_SRC)/library/$*.c

# $(call mbedtls_lib,NAME,FILES): one of the three libraries.
define mbedtls_lib
$(B)/sysroot/lib/lib$(1).a: $(addprefix $(MBEDTLS_OBJDIR)/,$(addsuffix .o,$(2))) | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@rm -f $$@
	@ar rcD $$@ $$^
	$$(call print_size,$$@)
endef
$(eval $(call mbedtls_lib,mbedcrypto,$(MBEDCRYPTO_C)))
$(eval $(call mbedtls_lib,mbedx509,$(MBEDX509_C)))
$(eval $(call mbedtls_lib,mbedtls,$(MBEDTLS_C)))

# The public headers, config.h ours (psa/: some headers name its types).
$(MBEDTLS_H): $(MBEDTLS_SRC_STAMP) $(MBEDTLS_CONFIG) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D) $(@D)/../psa
	@install -m 0644 $(MBEDTLS_SRC)/include/mbedtls/*.h $(@D)/
	@install -m 0644 $(MBEDTLS_SRC)/include/psa/*.h $(@D)/../psa/
	@install -m 0644 $(MBEDTLS_CONFIG) $@

# --- libcurl ---------------------------------------------------------------------
# Compiled directly with rootfs/tls/curl_config.h (why not configure: there).
# CURL_C is lib/Makefile.inc's CSOURCES less the files that compile to nothing
# under that config (other protocols, TLS libraries, authentications), plus
# vquic/vquic.c for its stub of Curl_conn_may_http3 (no HTTP/3 here).

CURL_OBJDIR := $(B)/curl
CURL_A := $(B)/sysroot/lib/libcurl.a
CURL_H := $(B)/sysroot/include/curl/curl.h
CURL_C := asyn-thread base64 bufref cf-http cf-socket cfilters conncache connect content_encoding \
	curl_addrinfo curl_endian curl_gethostname curl_log curl_memrchr curl_threads dynbuf \
	easy easygetopt easyoptions escape formdata getenv getinfo hash headers hostasyn hostip \
	hostip6 http http2 http_chunks idn if2ip llist mime mprintf multi nonblock parsedate \
	progress rand rename select sendf setopt share slist speedcheck splay strcase strdup \
	strerror strtoofft timediff timeval transfer url urlapi vauth/vauth version vtls/keylog \
	vtls/mbedtls vtls/mbedtls_threadlock vtls/vtls warnless ws vquic/vquic
CURL_OBJS := $(addprefix $(CURL_OBJDIR)/,$(addsuffix .o,$(CURL_C)))
# As lib/Makefile.am: the library's own build, its private headers, symbols
# hidden but for the API (CURL_EXTERN_SYMBOL).
CURL_DEFS := -DHAVE_CONFIG_H -DBUILDING_LIBCURL -DCURL_HIDDEN_SYMBOLS -fvisibility=hidden \
	-Irootfs/tls -I$(CURL_SRC)/include -I$(CURL_SRC)/lib

libcurl-musl: $(CURL_A) $(CURL_H)

$(CURL_OBJS): $(CURL_OBJDIR)/%.o: $(CURL_SRC_STAMP) rootfs/tls/curl_config.h rootfs/tls/tls.mk \
		$(MBEDTLS_H) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "curl: CC $*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(TLS_NOUNWIND) $(CURL_DEFS) -c -o $@ $(CURL_SRC)/lib/$*.c

$(CURL_A): $(CURL_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

$(CURL_H): $(CURL_SRC_STAMP) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@install -m 0644 $(CURL_SRC)/include/curl/*.h $(@D)/

# --- the proof: tlsget, its test, its size -------------------------------------

TLS_LIBS := -lcurl -lmbedtls -lmbedx509 -lmbedcrypto
TLS_MUSL_DEPS := $(CURL_A) $(CURL_H) $(MBEDTLS_A) $(MBEDTLS_H)
TLSGET := $(B)/tls/tlsget
TLS_HELLO := $(B)/tls/hello

$(TLSGET): tests/tls/tlsget.c $(TLS_MUSL_DEPS) $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) -o $@ $< $(MUSL_LDFLAGS) $(TLS_LIBS)
	$(call print_size,$@)

$(TLS_HELLO): tests/tls/hello.c $(SYSROOT_HEADERS) $(MUSL_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) -o $@ $< $(MUSL_LDFLAGS)
	$(call print_size,$@)


# --- the CA bundle -------------------------------------------------------------
# Mozilla's CAs from the pinned ca-certificates source, as Debian's
# update-ca-certificates bundles them (rootfs/tls/ca-bundle.sh), not the
# build host's /etc/ssl: that one holds whatever the host's admin added.

CA_BUNDLE := $(B)/rootfs/ca-certificates.crt

ca-certificates: $(CA_BUNDLE)

$(CA_BUNDLE): rootfs/tls/ca-bundle.sh $(CA_CERTIFICATES_SRC_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rootfs/tls/ca-bundle.sh $(CA_CERTIFICATES_SRC) $@
	$(call print_size,$@)

# Host test (no root, no QEMU): tlsget against local HTTP(S) servers, and
# with ROOT's CA bundle (plus the test's root) as its CA file.
tls-test: $(TLSGET) $(CA_BUNDLE) | $(DEPS_STAMP)
	@echo "== tls-test: $(TLSGET)"
	@python3 tests/tls/test_tls.py $(TLSGET) $(CA_BUNDLE)
test: tls-test

# tlsget against a static hello with the same flags (both stripped by -s):
# the difference is what the libraries cost a program that does a GET.
tls-sizes: $(TLSGET) $(TLS_HELLO)
	@t=$$(stat -c %s $(TLSGET)); h=$$(stat -c %s $(TLS_HELLO)); \
	printf '%-32s %9d bytes\n' $(TLS_HELLO) $$h $(TLSGET) $$t 'libcurl + mbedTLS (difference)' $$((t - h))

# rootfs/tls/tls.mk: TLS for the image (docs/tls.md): wolfSSL and libcurl as
# static musl libraries for the programs that fetch over HTTPS (registry
# pulls, the updater's https:// URLs), and Mozilla's CA bundle for ROOT, all
# from the Debian sources pinned in rootfs/toolchain/sources.pin. Included by
# rootfs/rootfs.mk.
#
#   make wolfssl-musl     build/sysroot/lib/libwolfssl.a + include/wolfssl/
#                         (options: include/user_settings.h, rootfs/tls/wolfssl-settings.h)
#   make libcurl-musl     build/sysroot/lib/libcurl.a + include/curl/
#   make ca-certificates  build/rootfs/ca-certificates.crt (ROOT's /etc/ssl/certs/)
#   make tls-test         tests/tls/test_tls.py: build/tls/tlsget against a local server
#   make tls-sizes        what libcurl + wolfSSL add to a static program (docs/tls.md)
#
# A program of the image that fetches over HTTPS lists $(TLS_MUSL_DEPS) among its
# prerequisites and links $(TLS_LIBS) (in that order) after $(MUSL_LDFLAGS).

.PHONY: wolfssl-musl libcurl-musl ca-certificates tls-test tls-sizes

# --- wolfSSL --------------------------------------------------------------------
# Compiled directly like libsodium: configure would only turn options into -D
# flags, which are rootfs/tls/wolfssl-settings.h here, installed as the
# sysroot's user_settings.h (wolfssl/options.h, which libcurl includes first,
# defines WOLFSSL_USER_SETTINGS so that settings.h reads it): the library and
# its users agree on every option. The file lists are what those options
# need (the rest of src/ and wolfcrypt/src/ compiles to nothing or is unused).
#
# AES-NI (docs/tls.md, issue 15's bench): aes_asm.S and aes_gcm_asm.S, chosen
# at run time by CPUID in aes.c, C otherwise. No -maes or other -m flag (what
# configure adds for aes.c's intrinsics, in AES_set_decrypt_key, which
# NO_AES_DECRYPT leaves out): the compiler emits nothing beyond SSE2 in the C
# files, so the fallback runs on any x86-64 (QEMU's TCG CPUs). aes_gcm_asm.S defines
# HAVE_INTEL_AVX1/AVX2 itself; its AVX code (24 KiB) is unreachable without
# USE_INTEL_SPEEDUP (why not: wolfssl-settings.h), so the copy assembled
# here has those two lines removed.

WOLFSSL_OBJDIR := $(B)/wolfssl
WOLFSSL_SETTINGS := rootfs/tls/wolfssl-settings.h
WOLFSSL_SSL_C := internal keys ssl tls tls13 wolfio
WOLFCRYPT_C := aes asn chacha chacha20_poly1305 coding cpuid curve25519 ecc error fe_low_mem \
	hash hmac kdf logging memory poly1305 random rsa sha sha256 sha512 sp_int wc_encrypt \
	wc_port wolfmath
WOLFSSL_OBJS := $(addprefix $(WOLFSSL_OBJDIR)/src/,$(addsuffix .o,$(WOLFSSL_SSL_C))) \
	$(addprefix $(WOLFSSL_OBJDIR)/wolfcrypt/,$(addsuffix .o,$(WOLFCRYPT_C))) \
	$(WOLFSSL_OBJDIR)/wolfcrypt/aes_asm.o $(WOLFSSL_OBJDIR)/wolfcrypt/aes_gcm_asm.o \
	$(WOLFSSL_OBJDIR)/compat.o
WOLFSSL_A := $(B)/sysroot/lib/libwolfssl.a
WOLFSSL_H := $(B)/sysroot/include/wolfssl/options.h
WOLFSSL_DEFS := -DWOLFSSL_USER_SETTINGS -I$(WOLFSSL_SRC)
# As libsodium and init's programs: C that nothing unwinds needs no unwind
# tables.
TLS_NOUNWIND := -fno-asynchronous-unwind-tables -fno-unwind-tables

wolfssl-musl: $(WOLFSSL_A) $(WOLFSSL_H)

# This file is a prerequisite: its flags and file lists are inputs.
$(WOLFSSL_OBJDIR)/src/%.o: $(WOLFSSL_SRC_STAMP) $(WOLFSSL_H) rootfs/tls/tls.mk $(ROOTFS_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "wolfssl: CC src/$*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(TLS_NOUNWIND) $(WOLFSSL_DEFS) -c -o $@ \
		$(or $(WOLFSSL_FILE),$(WOLFSSL_SRC)/src/$*.c)

$(WOLFSSL_OBJDIR)/wolfcrypt/%.o: $(WOLFSSL_SRC_STAMP) $(WOLFSSL_H) rootfs/tls/tls.mk $(ROOTFS_FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "wolfssl: CC wolfcrypt/src/$*.c"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(TLS_NOUNWIND) $(WOLFSSL_DEFS) -c -o $@ \
		$(or $(WOLFSSL_FILE),$(WOLFSSL_SRC)/wolfcrypt/src/$*.c)

# rootfs/tls/wolfssl.patch (iPAddress entries compared in binary, for IPv6
# hosts; a missing prototype) applies to copies of the two files it changes,
# compiled in place of the originals; their includes resolve through
# -I$(WOLFSSL_SRC) as the originals' do.
WOLFSSL_PATCHED_C := src/internal.c wolfcrypt/src/aes.c
WOLFSSL_PATCHED := $(WOLFSSL_OBJDIR)/patched/.stamp
$(WOLFSSL_PATCHED): $(WOLFSSL_SRC_STAMP) rootfs/tls/wolfssl.patch | $(DEPS_STAMP)
	@rm -rf $(@D) $(@D).tmp
	@mkdir -p $(@D).tmp/src $(@D).tmp/wolfcrypt/src
	@for f in $(WOLFSSL_PATCHED_C); do cp $(WOLFSSL_SRC)/$$f $(@D).tmp/$$f || exit 1; done
	@patch -s -p1 --no-backup-if-mismatch -d $(@D).tmp <rootfs/tls/wolfssl.patch
	@touch $(@D).tmp/.stamp
	@mv $(@D).tmp $(@D)
$(WOLFSSL_OBJDIR)/src/internal.o $(WOLFSSL_OBJDIR)/wolfcrypt/aes.o: $(WOLFSSL_PATCHED)
$(WOLFSSL_OBJDIR)/src/internal.o: WOLFSSL_FILE = $(WOLFSSL_OBJDIR)/patched/src/internal.c
$(WOLFSSL_OBJDIR)/wolfcrypt/aes.o: WOLFSSL_FILE = $(WOLFSSL_OBJDIR)/patched/wolfcrypt/src/aes.c

# What libcurl needs of the OpenSSL layer beyond the small one.
$(WOLFSSL_OBJDIR)/compat.o: rootfs/tls/wolfssl-compat.c $(WOLFSSL_H) rootfs/tls/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "wolfssl: CC rootfs/tls/wolfssl-compat.c"
	@$(MUSL_CC) $(MUSL_CFLAGS) $(TLS_NOUNWIND) -c -o $@ $<

# aes_asm.S reads no settings: configure passes it the target.
$(WOLFSSL_OBJDIR)/wolfcrypt/aes_asm.o: $(WOLFSSL_SRC_STAMP) rootfs/tls/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "wolfssl: AS wolfcrypt/src/aes_asm.S"
	@$(MUSL_CC) -DWOLFSSL_X86_64_BUILD -c -o $@ $(WOLFSSL_SRC)/wolfcrypt/src/aes_asm.S

$(WOLFSSL_OBJDIR)/wolfcrypt/aes_gcm_asm.S: $(WOLFSSL_SRC_STAMP) rootfs/tls/tls.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@sed '/^#define HAVE_INTEL_AVX[12]$$/d' $(WOLFSSL_SRC)/wolfcrypt/src/aes_gcm_asm.S >$@.tmp
	@! grep -q '^#define HAVE_INTEL_AVX' $@.tmp || { echo "wolfssl: AVX defines left in $@" >&2; exit 1; }
	@mv $@.tmp $@

$(WOLFSSL_OBJDIR)/wolfcrypt/aes_gcm_asm.o: $(WOLFSSL_OBJDIR)/wolfcrypt/aes_gcm_asm.S $(WOLFSSL_H) $(ROOTFS_FLAGS_STAMP)
	@echo "wolfssl: AS wolfcrypt/src/aes_gcm_asm.S (without AVX)"
	@$(MUSL_CC) $(ROOTFS_CFLAGS) $(WOLFSSL_DEFS) -c -o $@ $<

$(WOLFSSL_A): $(WOLFSSL_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcD $@ $^
	$(call print_size,$@)

# The public headers; user_settings.h is ours, and options.h (which
# configure would generate) only points settings.h at it.
$(WOLFSSL_H): $(WOLFSSL_SRC_STAMP) $(WOLFSSL_SETTINGS) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)/wolfcrypt $(@D)/openssl
	@install -m 0644 $(WOLFSSL_SRC)/wolfssl/*.h $(@D)/
	@install -m 0644 $(WOLFSSL_SRC)/wolfssl/wolfcrypt/*.h $(@D)/wolfcrypt/
	@install -m 0644 $(WOLFSSL_SRC)/wolfssl/openssl/*.h $(@D)/openssl/
	@install -m 0644 $(WOLFSSL_SETTINGS) $(@D)/../user_settings.h
	@printf '%s\n' '/* rootfs/tls/tls.mk: the options are user_settings.h (rootfs/tls/wolfssl-settings.h) */' \
		'#ifndef WOLFSSL_USER_SETTINGS' '#define WOLFSSL_USER_SETTINGS' '#endif' >$@

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
	vtls/vtls vtls/wolfssl warnless ws vquic/vquic
CURL_OBJS := $(addprefix $(CURL_OBJDIR)/,$(addsuffix .o,$(CURL_C)))
# As lib/Makefile.am: the library's own build, its private headers, symbols
# hidden but for the API (CURL_EXTERN_SYMBOL).
CURL_DEFS := -DHAVE_CONFIG_H -DBUILDING_LIBCURL -DCURL_HIDDEN_SYMBOLS -fvisibility=hidden \
	-Irootfs/tls -I$(CURL_SRC)/include -I$(CURL_SRC)/lib

libcurl-musl: $(CURL_A) $(CURL_H)

$(CURL_OBJS): $(CURL_OBJDIR)/%.o: $(CURL_SRC_STAMP) rootfs/tls/curl_config.h rootfs/tls/tls.mk $(ROOTFS_FLAGS_STAMP) \
		$(WOLFSSL_H) $(SYSROOT_HEADERS) | $(DEPS_STAMP)
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

TLS_LIBS := -lcurl -lwolfssl
TLS_MUSL_DEPS := $(CURL_A) $(CURL_H) $(WOLFSSL_A) $(WOLFSSL_H)
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
	printf '%-32s %9d bytes\n' $(TLS_HELLO) $$h $(TLSGET) $$t 'libcurl + wolfSSL (difference)' $$((t - h))

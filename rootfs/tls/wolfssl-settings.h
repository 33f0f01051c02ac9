/* wolfssl-settings.h: wolfSSL's options for Wisp (rootfs/tls/tls.mk,
 * docs/tls.md), what configure would pass as -D flags. Installed as the
 * sysroot's user_settings.h, which wolfssl/wolfcrypt/settings.h includes
 * under WOLFSSL_USER_SETTINGS (the sysroot's wolfssl/options.h defines it):
 * the library, libcurl and containerd-lite read the same options, so they
 * agree on struct layouts.
 *
 * A TLS 1.2 and 1.3 client for libcurl: ECDHE (X25519, P-256, P-384) with
 * RSA or ECDSA certificates, AES-GCM and ChaCha20-Poly1305, X.509 chains
 * against a CA file, names and iPAddress entries. No server side, no old
 * protocols or ciphers, no PSK, DH, CRL, OCSP, no OpenSSL compatibility
 * layer beyond the core names libcurl uses.
 */
#ifndef WISP_WOLFSSL_SETTINGS_H
#define WISP_WOLFSSL_SETTINGS_H

/* --- protocol: client only, TLS 1.2 and 1.3 ------------------------------- */
#define NO_WOLFSSL_SERVER
#define NO_OLD_TLS /* no SSL 3.0, TLS 1.0, 1.1 */
#define WOLFSSL_TLS13
#define HAVE_TLS_EXTENSIONS
#define HAVE_SUPPORTED_CURVES
#define HAVE_SNI
#define HAVE_ALPN
#define HAVE_EXTENDED_MASTER
#define HAVE_HKDF /* TLS 1.3's key schedule */
#define NO_PSK
#define SMALL_SESSION_CACHE /* libcurl resumes sessions: a few suffice */

/* libcurl's vtls/wolfssl.c is written against the OpenSSL names of
 * wolfssl/openssl/ssl.h (SSL_CTX, SSL_CTX_new...), which need one of the
 * compatibility levels: the small one, not OPENSSL_EXTRA. */
#define OPENSSL_EXTRA_X509_SMALL

/* --- certificates ---------------------------------------------------------- */
#define WOLFSSL_ASN_TEMPLATE
/* iPAddress entries of subjectAltName are matched against a host named by
 * its address (a registry at 10.0.2.2:5000, [fd00::1]), as RFC 5280 and
 * OpenSSL do (mbedTLS 2.28, used before, could not). */
#define WOLFSSL_IP_ALT_NAME
/* ... compared as addresses, not as text (rootfs/tls/wolfssl.patch,
 * applied by tls.mk): wolfSSL writes IPv6 entries in full, libcurl passes
 * "fd00::1". */
#define WISP_IP_ALT_NAME_BINARY
/* The chain needs to reach one trusted CA, not the last certificate the
 * server sent (a cross-signed root whose own signer has expired or was
 * removed from Mozilla's list: Let's Encrypt's), as OpenSSL does. */
#define WOLFSSL_ALT_CERT_CHAINS
#define NO_WOLFSSL_DIR /* a CA file, no hashed directory */
#define WOLFSSL_NO_CLIENT_AUTH

/* --- public keys ----------------------------------------------------------- */
/* sp_int for RSA (up to 4096-bit keys) and the NIST curves, generic C. */
#define WOLFSSL_SP_MATH_ALL
#define WOLFSSL_SP_SMALL
#define SP_INT_BITS 4096
/* RSA verification is all a client needs, but WOLFSSL_RSA_PUBLIC_ONLY
 * breaks sp_int.c of 5.5.4 with SP_MATH_ALL (a function's #if nesting). */
#define WC_RSA_PSS /* TLS 1.3's RSA signatures, RSA-PSS certificates */
#define HAVE_ECC
#define ECC_TIMING_RESISTANT
#define HAVE_ECC384
#define ECC_SHAMIR
#define HAVE_CURVE25519
#define CURVE25519_SMALL
#define NO_DH
#define NO_DSA

/* --- symmetric ------------------------------------------------------------- */
#define HAVE_AESGCM
#define GCM_TABLE_4BIT
#define NO_AES_CBC
/* GCM runs AES forwards only: no inverse cipher, its tables, its key schedule */
#define NO_AES_DECRYPT
#define HAVE_AESGCM_DECRYPT
/* C AES (CPUs without AES-NI, where ChaCha20 goes first: image/tls.c) with
 * one 256-byte table instead of 8 KiB of them */
#define WOLFSSL_AES_SMALL_TABLES
#define NO_AES_192
#define HAVE_CHACHA
#define HAVE_POLY1305
#define HAVE_ONE_TIME_AUTH
/* AES-NI and PCLMULQDQ (aes_asm.S, aes_gcm_asm.S) where CPUID says the CPU
 * has AES-NI, C otherwise (QEMU's TCG CPUs): aes.c decides at the first
 * key set (Check_CPU_support_AES). USE_INTEL_SPEEDUP (the AVX1/AVX2 paths,
 * SHA and ChaCha assembly) is left out: its AES-GCM entry points are chosen
 * by the AVX flags without looking at the AES flag, which would run AES
 * instructions on a CPU that has AVX but not AES-NI. */
#define WOLFSSL_AESNI
#ifndef WOLFSSL_X86_64_BUILD /* tls.mk passes it to aes_asm.S, which reads no settings */
#define WOLFSSL_X86_64_BUILD
#endif
#define NO_DES3
#define NO_RC4
#define NO_MD4
#define NO_MD5
#define NO_SHA	    /* SHA-1: no TLS 1.2 signature or certificate of ours needs it */
#define NO_PWDBASED /* no encrypted private keys */
#define WOLFSSL_SHA384
#define WOLFSSL_SHA512
#define WOLFSSL_NOSHA512_224
#define WOLFSSL_NOSHA512_256

/* --- platform ------------------------------------------------------------- */
#define HAVE_HASHDRBG
#define WOLFSSL_GETRANDOM /* getrandom(2), no /dev/urandom to open */
#define TFM_TIMING_RESISTANT
#define WC_RSA_BLINDING
#define WOLFSSL_USE_ALIGN
#define HAVE_C___ATOMIC
#define WOLFSSL_IGNORE_FILE_WARN

#endif

/* mbedtls-config.h: Wisp's mbedTLS 2.28 configuration (rootfs/tls/tls.mk,
 * docs/tls.md), installed as the sysroot's mbedtls/config.h so that the
 * library and every program that includes its headers agree on the struct
 * layouts the options change.
 *
 * What it is for: a TLS 1.2 client (mbedTLS 2.28 has no production TLS 1.3)
 * that verifies the server's certificate chain against a CA bundle and its
 * name, for registry pulls and the updater's https:// URLs. What it keeps is
 * what Mozilla's "intermediate" server profile offers to TLS 1.2 clients:
 * ECDHE key exchange with RSA or ECDSA certificates, AES-GCM and
 * ChaCha20-Poly1305. No server side, no CBC, no static RSA key exchange, no
 * PSK, no DTLS, no PSA crypto, no self tests.
 */
#ifndef WISP_MBEDTLS_CONFIG_H
#define WISP_MBEDTLS_CONFIG_H

/* The platform: x86-64 assembly for bignum, AES-NI chosen at run time (a
 * registry layer is hundreds of MiB through AES-GCM), time for certificate
 * validity, files for the CA bundle. */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_AESNI_C
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_FS_IO

/* Randomness: the kernel's getrandom(2) through the entropy module, stretched
 * by CTR_DRBG (what curl's mbedTLS backend uses). */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* Hashes: SHA-256/384/512 for TLS 1.2 and certificates; SHA-1 because curl's
 * certificate profile still accepts it for old intermediates. */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C

/* Ciphers: AEAD only. */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

/* Public keys: RSA (PKCS#1 v1.5 and PSS signatures) and ECDSA on the curves
 * the CA bundle and public servers use; X25519 and P-256/P-384 for ECDHE. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_SECP521R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
/* curl's public key pinning re-encodes the peer's key (pk_write_pubkey_der). */
#define MBEDTLS_PK_WRITE_C

/* Certificates: DER and PEM parsing, chain and name verification, key usage
 * checks, RSASSA-PSS signed certificates. */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* TLS: the client side of TLS 1.2 with forward secrecy only. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SESSION_TICKETS
/* curl inspects and pins the peer's certificate after the handshake. */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Diagnostics: error strings name the failure ("X509 - Certificate
 * verification failed") in curl's messages; the version for curl_version(). */
#define MBEDTLS_ERROR_C
#define MBEDTLS_VERSION_C

#include "mbedtls/check_config.h"

#endif

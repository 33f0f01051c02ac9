/*
 * image_tlsip.c: HTTPS to a registry named by its IP address (10.0.2.2:5000,
 * [fd00::1]:443) under mbedTLS 2.28, which matches only dNSName entries of a
 * certificate's subjectAltName: a certificate naming the address as an
 * iPAddress entry (RFC 5280 4.2.1.6, what registries named by address carry)
 * would fail with BADCERT_CN_MISMATCH. A verify callback, set through curl's
 * SSL_CTX hook, clears that one flag of the server's certificate when the
 * URL's host is an address and an iPAddress entry holds exactly its bytes;
 * every other check (chain, dates, usage, a name for a host name) stays
 * mbedTLS's. OpenSSL (the native build) matches iPAddress entries itself.
 *
 * The same hook orders the cipher suites for this CPU. mbedTLS 2.28 lists
 * ChaCha20-Poly1305 first, and a server takes the client's first choice
 * when it looks like a CPU without AES instructions (Go's, docker-registry's,
 * does): a 50 MB pull spent two thirds of its time in software ChaCha20 and
 * Poly1305 (bench/pull.py, perf). With AES-NI and PCLMULQDQ (mbedTLS's
 * AESNI code) AES-GCM goes first; without them ChaCha20 stays first.
 */
#include "image_http.h"

#ifdef WISP_TLS_MBEDTLS
#include <mbedtls/aesni.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>
#include <string.h>

#define SAN_IP 7 /* GeneralName's iPAddress [7] */

static bool names_ip(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t len)
{
	if (!(crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME))
		return false;
	for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s; s = s->next)
		if ((s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) == SAN_IP && s->buf.len == len &&
		    !memcmp(s->buf.p, ip, len))
			return true;
	return false;
}

static int verify(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	const struct img_req *req = p;
	unsigned char ip[16];
	size_t len;

	if (depth == 0 && (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) &&
	    (len = img_url_ip(req->url, ip)) && names_ip(crt, ip, len))
		*flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

#define AES_GCM                                                                                    \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                                           \
	    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,                                         \
	    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,                                       \
	    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
#define CHACHA                                                                                     \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,                                     \
	    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256

static const int aes_first[] = {AES_GCM, CHACHA, 0}, chacha_first[] = {CHACHA, AES_GCM, 0};

static CURLcode on_ssl_ctx(CURL *h, void *conf, void *req)
{
	bool aes = mbedtls_aesni_has_support(MBEDTLS_AESNI_AES) &&
		   mbedtls_aesni_has_support(MBEDTLS_AESNI_CLMUL);

	(void)h;
	mbedtls_ssl_conf_ciphersuites(conf, aes ? aes_first : chacha_first);
	mbedtls_ssl_conf_verify(conf, verify, req);
	return CURLE_OK;
}

void img_tls_hook(CURL *h, struct img_req *req)
{
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, req);
}
#else
void img_tls_hook(CURL *h, struct img_req *req)
{
	(void)h, (void)req;
}
#endif

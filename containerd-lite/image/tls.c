/*
 * image/tls.c: the cipher suites of a pull, ordered for this CPU, through
 * curl's SSL_CTX hook, under wolfSSL (the static musl build, docs/tls.md).
 *
 * A server takes the client's first choice when it seems to lack AES
 * instructions itself, and Go's (docker-registry's) prefers ChaCha20 when
 * the client lists it first. wolfSSL lists AES-GCM first, which is right
 * where wolfSSL runs AES-GCM on AES-NI and PCLMULQDQ (aes_gcm_asm.S: GB/s);
 * where it does not (CPUID without AES-NI: QEMU's TCG CPUs), its C AES-GCM
 * is slower than its C ChaCha20-Poly1305, so ChaCha20 goes first. The test
 * is wolfSSL's own (cpuid_get_flags), so the two always agree.
 *
 * wolfSSL 5.5.4 looks at CPUID's AES-NI bit alone, but aes_gcm_asm.S also
 * runs PCLMULQDQ, SSSE3 and SSE4.1 instructions: every CPU with AES-NI has
 * them, a VM's CPU model need not (QEMU's "-cpu qemu64,+aes": SIGILL). Where
 * one is missing the hook clears the AES-NI flag wolfSSL reads, before the
 * first handshake sets the first key, and wolfSSL runs C.
 *
 * Names: iPAddress entries of a certificate match a URL's address in
 * wolfSSL itself (WOLFSSL_IP_ALT_NAME, rootfs/tls/wolfssl-settings.h); no
 * verify callback here, which in wolfSSL 5.5.4 would also make chain errors
 * of the server's certificate non-fatal until the callback's last call.
 * OpenSSL (the native build) needs neither.
 */
#include "http.h"

#ifdef WISP_TLS_WOLFSSL
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/cpuid.h>
#include <cpuid.h>

static const char chacha_first[] =
    "TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

/* wolfSSL's flags, less AES-NI where aes_gcm_asm.S could not run. */
static word32 aes_flags(void)
{
	word32 f = cpuid_get_flags();
	unsigned a, b, c, d;
	const unsigned need = bit_PCLMUL | bit_SSSE3 | bit_SSE4_1;

	if (IS_INTEL_AESNI(f) && (!__get_cpuid(1, &a, &b, &c, &d) || (c & need) != need))
		cpuid_select_flags(f &= ~(word32)CPUID_AESNI);
	return f;
}

static CURLcode on_ssl_ctx(CURL *h, void *ctx, void *p)
{
	(void)h, (void)p;
	if (IS_INTEL_AESNI(aes_flags()))
		return CURLE_OK;
	return wolfSSL_CTX_set_cipher_list(ctx, chacha_first) == WOLFSSL_SUCCESS ? CURLE_OK
										 : CURLE_SSL_CIPHER;
}

void img_tls_hook(CURL *h)
{
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
}
#else
void img_tls_hook(CURL *h)
{
	(void)h;
}
#endif

/*
 * wolfssl-compat.c: the one OpenSSL-compatible function libcurl's
 * vtls/wolfssl.c calls that wolfSSL builds only with OPENSSL_EXTRA (not
 * built: rootfs/tls/wolfssl-settings.h). Without it wolfSSL keeps no error
 * queue, so there is nothing to clear.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

void wolfSSL_ERR_clear_error(void)
{
}

/* b64.c: base64 (write_files encodings, wisp.userdata=, MIME parts; registry credentials). */
#include "regcfg.h"

#include <string.h>

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62; /* '-' and '_': the URL-safe alphabet, harmless to accept */
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Blanks and line breaks are skipped (MIME wraps at 76); '=' ends the data. */
ssize_t b64_decode(const char *in, size_t len, unsigned char *out, size_t size)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == '=')
			break;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if ((v = b64_val(c)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= size)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (ssize_t)n;
}

/* len bytes as base64 with '=' padding into out (4 * ((len + 2) / 3) + 1 bytes). */
void b64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

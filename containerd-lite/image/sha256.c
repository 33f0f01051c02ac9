/* image/sha256.c: SHA-256 (FIPS 180-4), small and dependency-free so the
 * static binary needs no libcrypto. Verified against the NIST vectors in
 * tests/unit/test_cl_tar.c and against sha256sum in the image tests.
 *
 * On an x86-64 CPU with the SHA extensions (Intel since Goldmont and Ice
 * Lake, AMD since Zen) blocks go through SHA256RNDS2/MSG1/MSG2, as Go's
 * and OpenSSL's hashing does: every pulled and imported byte is hashed,
 * and the portable code was a third of a pull's time (bench/pull.py). The
 * choice is made once, from CPUID; sha256_impl() lets tests run both. */
#include "image.h"
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

#if defined(__x86_64__)
/* N blocks at p with the SHA extensions. The state is kept as the
 * instructions want it: ABEF and CDGH, two rounds per SHA256RNDS2. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t h[8],
								  const unsigned char *p, size_t n)
{
	const __m128i order = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xB1), efgh = _mm_shuffle_epi32(hgfe, 0x1B);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8), cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

	for (; n; n--, p += 64) {
		__m128i w[4], a0 = abef, c0 = cdgh;

		for (int i = 0; i < 4; i++)
			w[i] =
			    _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), order);
		for (int i = 0; i < 16; i++) {
			__m128i m =
			    _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)&K[4 * i]));

			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0E));
			/* W[i+4..i+7] from W[i..i+3] ... W[i+12..i+15], into the slot just used */
			if (i < 12)
				w[i & 3] = _mm_sha256msg2_epu32(
				    _mm_add_epi32(
					_mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]),
					_mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4)),
				    w[(i + 3) & 3]);
		}
		abef = _mm_add_epi32(abef, a0);
		cdgh = _mm_add_epi32(cdgh, c0);
	}
	cdab = _mm_shuffle_epi32(abef, 0x1B); /* FEBA */
	efgh = _mm_shuffle_epi32(cdgh, 0xB1); /* DCHG */
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(cdab, efgh, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(efgh, cdab, 8));
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;

	/* leaf 7 EBX bit 29: SHA; SSE4.1 (leaf 1 ECX bit 19) and SSSE3 (bit 9) for the shuffles */
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1) &&
	       __get_cpuid(1, &a, &b, &c, &d) && (c >> 19 & 1) && (c >> 9 & 1);
}
#else
static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h, (void)p, (void)n;
}

static bool cpu_has_sha(void)
{
	return false;
}
#endif

static int use_ni = -1; /* -1: not asked yet */

int sha256_impl(int want)
{
	if (use_ni < 0 || want >= 0)
		use_ni = want != 0 && cpu_has_sha();
	return use_ni;
}

static void blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	if (use_ni < 0)
		sha256_impl(-1);
	if (use_ni) {
		blocks_ni(h, p, n);
		return;
	}
	for (; n; n--, p += 64)
		block(h, p);
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->len += len;
	if (s->n) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, take);
		s->n += take, p += take, len -= take;
		if (s->n < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->n = 0;
	}
	blocks(s->h, p, len / 64);
	p += len / 64 * 64, len %= 64;
	memcpy(s->buf, p, len);
	s->n = len;
}

void sha256_hex(struct sha256 *s, char hex[65])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++) {
			static const char x[] = "0123456789abcdef";
			unsigned char byte = (unsigned char)(s->h[i] >> (24 - 8 * j));
			hex[8 * i + 2 * j] = x[byte >> 4];
			hex[8 * i + 2 * j + 1] = x[byte & 15];
		}
	hex[64] = 0;
}

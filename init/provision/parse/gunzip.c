/*
 * gunzip.c: gzip-compressed user-data and write_files content, unpacked
 * in the parser child with zlib (no busybox child: the parser child may
 * not exec). The output is bounded, so a gzip bomb is refused after
 * max bytes rather than filling memory.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int gz_unpack(const unsigned char *in, size_t len, size_t max, unsigned char **out, size_t *outlen)
{
	z_stream z = {0};
	unsigned char *buf = malloc(max + 1);
	int r;

	*out = NULL;
	if (!buf || len > UINT32_MAX || max > UINT32_MAX ||
	    inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return -1;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)max + 1; /* one byte more: a member that does not fit is noticed */
	r = inflate(&z, Z_FINISH);
	*outlen = z.total_out;
	inflateEnd(&z);
	/* one member, wholly used, within max: concatenated members or trailing bytes are refused
	 */
	if (r != Z_STREAM_END || *outlen > max || z.avail_in != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

void ud_split_gzip(const char *src, const char *data, size_t len, struct ud_sink *s)
{
	unsigned char *raw;
	size_t n;
	char name[300];

	if (gz_unpack((const unsigned char *)data, len, YAML_MAX_BYTES, &raw, &n) < 0) {
		s->warn(s->ctx, "%s: gzip: not valid, or over %d bytes unpacked; nothing applied",
			src, YAML_MAX_BYTES);
		return;
	}
	snprintf(name, sizeof(name), "%s (gunzipped)", src);
	ud_split(name, (const char *)raw, n, s);
	free(raw);
}

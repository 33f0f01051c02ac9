/* image/stream.c: a layer's bytes, read plain or through zlib (gzip) or zstd.
 * Both libraries come from Debian source for the static binary. */
#include "image.h"
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define INBUF (128 * 1024)

struct stream {
	int fd;
	enum stream_comp comp;
	z_stream z;
	ZSTD_DStream *zs;
	ZSTD_inBuffer zin;
	unsigned char *in;
	size_t inlen;
	bool eof, done;
	struct sha256 *hash; /* every byte read from fd, when set */
};

struct stream *stream_open(int fd, enum stream_comp c, struct cl_err *err)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s || !(s->in = malloc(INBUF)))
		return free(s), cl_error(err, ENOMEM, "stream"), NULL;
	s->fd = fd;
	s->comp = c;
	/* 15 + 32: a gzip (or zlib) header, detected */
	if (c == COMP_GZIP && inflateInit2(&s->z, 15 + 32) != Z_OK)
		return stream_close(s), cl_error(err, 0, "zlib: init failed"), NULL;
	if (c == COMP_ZSTD && !(s->zs = ZSTD_createDStream()))
		return stream_close(s), cl_error(err, ENOMEM, "zstd: init"), NULL;
	return s;
}

static int refill(struct stream *s, struct cl_err *err)
{
	ssize_t n;

	do
		n = read(s->fd, s->in, INBUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cl_error(err, errno, "read");
	if (s->hash)
		sha256_update(s->hash, s->in, (size_t)n);
	s->inlen = (size_t)n;
	s->eof = n == 0;
	return 0;
}

static ssize_t read_gzip(struct stream *s, void *buf, size_t n, struct cl_err *err)
{
	s->z.next_out = buf;
	s->z.avail_out = (uInt)n;
	while (s->z.avail_out == n && !s->done) {
		int r;

		if (s->z.avail_in == 0) {
			if (refill(s, err) < 0)
				return -1;
			if (s->eof)
				return cl_error(err, 0, "gzip: truncated stream");
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)s->inlen;
		}
		r = inflate(&s->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
			s->done = true;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			return cl_error(err, 0, "gzip: %s", s->z.msg ? s->z.msg : "corrupt data");
	}
	return (ssize_t)(n - s->z.avail_out);
}

static ssize_t read_zstd(struct stream *s, void *buf, size_t n, struct cl_err *err)
{
	ZSTD_outBuffer out = {buf, n, 0};

	while (out.pos == 0) {
		size_t r;

		if (s->zin.pos == s->zin.size) {
			if (refill(s, err) < 0)
				return -1;
			if (s->eof)
				return s->done ? 0 : cl_error(err, 0, "zstd: truncated stream");
			s->zin = (ZSTD_inBuffer){s->in, s->inlen, 0};
		}
		r = ZSTD_decompressStream(s->zs, &out, &s->zin);
		if (ZSTD_isError(r))
			return cl_error(err, 0, "zstd: %s", ZSTD_getErrorName(r));
		s->done = r == 0;
	}
	return (ssize_t)out.pos;
}

ssize_t stream_read(struct stream *s, void *buf, size_t n, struct cl_err *err)
{
	ssize_t r;

	if (s->comp == COMP_GZIP)
		return read_gzip(s, buf, n, err);
	if (s->comp == COMP_ZSTD)
		return read_zstd(s, buf, n, err);
	do
		r = read(s->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r > 0 && s->hash)
		sha256_update(s->hash, buf, (size_t)r);
	return r < 0 ? cl_error(err, errno, "read") : r;
}

void stream_hash(struct stream *s, struct sha256 *h)
{
	s->hash = h;
}

/* A tar's end-of-archive blocks may come before the end of its blob (or
 * the extraction stopped at an error): the hash covers the whole file. */
int stream_drain(struct stream *s, struct cl_err *err)
{
	do {
		if (refill(s, err) < 0)
			return -1;
	} while (!s->eof);
	return 0;
}

void stream_close(struct stream *s)
{
	if (!s)
		return;
	if (s->comp == COMP_GZIP)
		inflateEnd(&s->z);
	ZSTD_freeDStream(s->zs);
	free(s->in);
	free(s);
}

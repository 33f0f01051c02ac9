/* image/blob.c: verified blob copies. A blob is only used once its copy
 * in the staging directory has the size and sha256 its descriptor says. */
#include "../runtime/cl-private.h"
#include "image.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool img_digest_valid(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return false;
	for (int i = 7; i < 71; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return false;
	return true;
}

static int copy_fd(int in, int out, uint64_t limit, char hex[65], uint64_t *size,
		   struct img_meter *m, struct cl_err *err)
{
	static char buf[1 << 17];
	struct sha256 h;
	ssize_t n;

	sha256_init(&h);
	*size = 0;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cl_error(err, errno, "read");
		sha256_update(&h, buf, (size_t)n);
		*size += (uint64_t)n;
		if (*size > limit)
			return cl_error(err, 0, "larger than %llu bytes",
					(unsigned long long)limit);
		if (out >= 0 && img_meter_add(m, (uint64_t)n, err) < 0)
			return -1;
		if (out >= 0 && write_all(out, buf, (size_t)n) < 0)
			return cl_error(err, errno, "write");
	}
	sha256_hex(&h, hex);
	return 0;
}

int img_hash_fd(int fd, uint64_t limit, char hex[65], uint64_t *size, struct cl_err *err)
{
	return copy_fd(fd, -1, limit, hex, size, NULL, err);
}

int img_copy_hash(const char *dir, const char *rel, const char *dst, uint64_t limit, char hex[65],
		  uint64_t *size, const struct img_reserve *res, struct cl_err *err)
{
	struct stat st;
	int in = img_open_file(dir, rel, &st, err), out = -1, r;
	struct img_meter m = {.r = res, .what = "copying"};

	*size = 0;
	if (in < 0)
		return -1;
	if ((uint64_t)st.st_size > limit) {
		*size = (uint64_t)st.st_size;
		close(in);
		return cl_error(err, 0, "%s: larger than %llu bytes", rel,
				(unsigned long long)limit);
	}
	/* its size known before a byte is read: refused unread */
	if (dst && img_reserve_declared(res, -1, (uint64_t)st.st_size, err) < 0) {
		close(in);
		return cl_error_wrap(err, "%s", rel);
	}
	if (dst && (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0) {
		close(in);
		return cl_error(err, errno, "create %s", dst);
	}
	m.fd = out;
	r = copy_fd(in, out, limit, hex, size, &m, err) < 0 ? cl_error_wrap(err, "%s", rel) : 0;
	close(in);
	if (out >= 0 && (close(out) < 0 && r == 0))
		r = cl_error(err, errno, "close %s", dst);
	return r;
}

int img_blob_stage(const char *srcdir, const char *stage, const char *digest, uint64_t size,
		   const struct img_reserve *res, struct cl_err *err)
{
	char rel[80], dst[4096], hex[65];
	uint64_t got = 0;
	struct stat st;

	if (!img_digest_valid(digest))
		return cl_error(err, 0, "blob %.80s: not a sha256 digest", digest);
	img_fmt(dst, sizeof(dst), "%s/blobs/%s", stage, digest + 7);
	if (stat(dst, &st) == 0)
		return 0; /* already staged and verified (a shared blob) */
	if (img_reserve_declared(res, -1, size, err) < 0) /* refused before a byte is copied */
		return cl_error_wrap(err, "blob %s", digest);
	img_fmt(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	/* reading one byte past the size tells "too big" without reading it all */
	if (img_copy_hash(srcdir, rel, dst, size, hex, &got, res, err) < 0) {
		unlink(dst);
		if (got > size)
			return cl_error(err, 0, "blob %s: size larger than %llu, expected %llu",
					digest, (unsigned long long)size, (unsigned long long)size);
		return cl_error_wrap(err, "blob %s", digest);
	}
	if (got != size) {
		unlink(dst);
		return cl_error(err, 0, "blob %s: size %llu, expected %llu", digest,
				(unsigned long long)got, (unsigned long long)size);
	}
	if (strcmp(hex, digest + 7) != 0) {
		unlink(dst);
		return cl_error(err, 0, "blob %s: sha256 is %s", digest, hex);
	}
	return 0;
}

char *img_slurp(const char *dir, const char *rel, size_t limit, size_t *len, struct cl_err *err)
{
	struct stat st;
	int fd = img_open_file(dir, rel, &st, err);
	ssize_t n;
	char *b;

	if (fd < 0)
		return NULL;
	if ((uint64_t)st.st_size > limit)
		return close(fd), cl_error(err, 0, "%s: larger than %zu bytes", rel, limit), NULL;
	if (!(b = malloc(limit + 1)))
		return close(fd), cl_error(err, ENOMEM, "%s", rel), NULL;
	n = read_full(fd, b, limit + 1);
	close(fd);
	if (n < 0)
		return free(b), cl_error(err, errno, "read %s", rel), NULL;
	if ((size_t)n > limit)
		return free(b), cl_error(err, 0, "%s: larger than %zu bytes", rel, limit), NULL;
	*len = (size_t)n;
	b[*len] = 0;
	return b;
}

char *img_slurp_path(const char *path, size_t limit, struct stat *st, size_t *len,
		     struct cl_err *err)
{
	/* a settings file: not a symlink's target, not a FIFO to hang on */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	ssize_t n;
	char *b;

	if (fd < 0)
		return cl_error(err, errno, "%s", path), NULL;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))
		return close(fd), cl_error(err, 0, "%s: not a regular file", path), NULL;
	if (!(b = malloc(limit + 1)))
		return close(fd), cl_error(err, ENOMEM, "%s", path), NULL;
	n = read_full(fd, b, limit + 1);
	close(fd);
	if (n < 0)
		return free(b), cl_error(err, errno, "read %s", path), NULL;
	if ((size_t)n > limit)
		return free(b), cl_error(err, 0, "%s: larger than %zu bytes", path, limit), NULL;
	*len = (size_t)n;
	b[*len] = 0;
	return b;
}

json_t *img_load_json(const char *dir, const char *rel, struct cl_err *err)
{
	size_t len;
	char *b = img_slurp(dir, rel, IMG_MAX_JSON, &len, err);
	json_error_t je;
	json_t *j;

	if (!b)
		return NULL;
	j = json_loadb(b, len, 0, &je);
	free(b);
	if (!j)
		cl_error(err, 0, "%s: %s (line %d)", rel, je.text, je.line);
	return j;
}

int img_layer_comp(const char *mt, enum stream_comp *c, struct cl_err *err)
{
	static const struct {
		const char *mt;
		enum stream_comp c;
	} known[] = {
	    {"application/vnd.oci.image.layer.v1.tar", COMP_NONE},
	    {"application/vnd.oci.image.layer.v1.tar+gzip", COMP_GZIP},
	    {"application/vnd.oci.image.layer.v1.tar+zstd", COMP_ZSTD},
	    {"application/vnd.docker.image.rootfs.diff.tar", COMP_NONE},
	    {"application/vnd.docker.image.rootfs.diff.tar.gzip", COMP_GZIP},
	    {"application/vnd.docker.image.rootfs.diff.tar.zstd", COMP_ZSTD},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(mt, known[i].mt) == 0)
			return *c = known[i].c, 0;
	return cl_error(err, 0, "layer media type %s: not supported (tar, gzip, zstd)", mt);
}

/* sparse.c: place a filesystem image into the disk image without writing
 * its holes or zero blocks, so the disk image stays sparse (a 227 MiB
 * image holds a few MiB of data) and assembling it is quick. The disk
 * image is a fresh file, so every byte not written reads as zero. */
#include "image-builder.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)
#define BLOCK 4096

static bool all_zero(const uint8_t *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

/* Write the non-zero blocks of buf (which starts at file offset pos). */
static int write_nonzero(int fd, uint64_t base, const uint8_t *buf, size_t n, uint64_t pos,
			 const char *name, struct ib_err *err)
{
	size_t i = 0;

	while (i < n) {
		size_t start, len;

		for (; i < n; i += BLOCK)
			if (!all_zero(buf + i, n - i < BLOCK ? n - i : BLOCK))
				break;
		start = i;
		for (; i < n; i += BLOCK)
			if (all_zero(buf + i, n - i < BLOCK ? n - i : BLOCK))
				break;
		len = (i < n ? i : n) - start;
		if (len && ib_pwrite_all(fd, buf + start, len, base + pos + start, name, err) < 0)
			return -1;
	}
	return 0;
}

static int copy_range(int in, int fd, uint64_t base, uint64_t from, uint64_t to, uint8_t *buf,
		      const char *src, const char *name, struct ib_err *err)
{
	while (from < to) {
		size_t want = to - from < CHUNK ? (size_t)(to - from) : CHUNK;
		ssize_t n = pread(in, buf, want, (off_t)from);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ib_err_set(err, n < 0 ? errno : EIO, "read %s", src);
		if (write_nonzero(fd, base, buf, (size_t)n, from, name, err) < 0)
			return -1;
		from += (uint64_t)n;
	}
	return ib_check_interrupt(err);
}

/* Walk the data extents; without SEEK_DATA the whole file is one extent. */
static int copy_extents(int in, int fd, uint64_t base, uint64_t size, uint8_t *buf, const char *src,
			const char *name, struct ib_err *err)
{
	uint64_t pos = 0;

	while (pos < size) {
		off_t data = lseek(in, (off_t)pos, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			return 0;
		if (data < 0)
			return copy_range(in, fd, base, pos, size, buf, src, name, err);
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = (off_t)size;
		if (copy_range(in, fd, base, (uint64_t)data, (uint64_t)hole, buf, src, name, err) <
		    0)
			return -1;
		pos = (uint64_t)hole;
	}
	return 0;
}

int ib_copy_sparse(int fd, uint64_t offset, const char *src, uint64_t max, const char *name,
		   struct ib_err *err)
{
	struct stat st;
	uint8_t *buf;
	int in, ret;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return ib_err_set(err, errno, "open %s", src);
	if (fstat(in, &st) < 0) {
		ret = ib_err_set(err, errno, "stat %s", src);
	} else if ((uint64_t)st.st_size > max) {
		ret = ib_err_set(err, EFBIG, "%s (%lld bytes) does not fit its partition (%llu)",
				 src, (long long)st.st_size, (unsigned long long)max);
	} else if (!(buf = malloc(CHUNK))) {
		ret = ib_err_set(err, ENOMEM, "copy %s", src);
	} else {
		ret = copy_extents(in, fd, offset, (uint64_t)st.st_size, buf, src, name, err);
		free(buf);
	}
	close(in);
	return ret;
}

/*
 * cpio.c: an initramfs as the kernel unpacks it (its "newc" format,
 * Documentation/driver-api/early-userspace/buffer-format.rst): for each
 * entry a 110-byte header of thirteen 8-digit hex fields, the name and its
 * NUL padded to 4 bytes, the data padded to 4 bytes; "TRAILER!!!" ends it.
 *
 * Written here rather than by cpio(1) from a staged tree: the archive holds
 * exactly the listed entries, owned by root, dated SOURCE_DATE_EPOCH, their
 * inode numbers counted from 1, whatever the build user and the files on
 * disk are: the same image gives the same initramfs.
 */
#include "iso.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cpio {
	int fd;
	uint64_t at;
	const char *out;
	struct ib_err *err;
};

static int put(struct cpio *c, const void *buf, size_t len)
{
	static const char zeros[4];

	if (ib_pwrite_all(c->fd, buf, len, c->at, c->out, c->err) < 0)
		return -1;
	c->at += len;
	if (c->at % 4 == 0)
		return 0;
	len = 4 - c->at % 4;
	if (ib_pwrite_all(c->fd, zeros, len, c->at, c->out, c->err) < 0)
		return -1;
	c->at += len;
	return 0;
}

static int header(struct cpio *c, const char *name, unsigned ino, mode_t mode, uint64_t size,
		  time_t epoch)
{
	char h[111 + 256];
	size_t nlen = strlen(name) + 1;
	int n;

	if (size > 0xffffffffu || nlen > 256)
		return ib_err_set(c->err, EFBIG, "%s: %s: too large for a newc archive", c->out,
				  name);
	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	 * rdevmajor, rdevminor, namesize, check */
	n = snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		     ino, (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, (unsigned)epoch,
		     (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)nlen, 0u);
	memcpy(h + n, name, nlen);
	return put(c, h, (size_t)n + nlen);
}

static int entry(struct cpio *c, const struct ib_cpio_entry *e, unsigned ino, time_t epoch)
{
	uint64_t size = 0;

	if (e->src && ib_file_size(e->src, &size, NULL, c->err) < 0)
		return -1;
	if (header(c, e->name, ino, e->mode, size, epoch) < 0)
		return -1;
	if (!e->src)
		return 0;
	/* zero blocks left as holes read as zeros: the archive's bytes are the same */
	if (ib_copy_sparse(c->fd, c->at, e->src, size, c->out, c->err) < 0)
		return -1;
	c->at += size;
	return put(c, "", 0);
}

int ib_cpio_write(const char *out, const struct ib_cpio_entry *entries, size_t n, time_t epoch,
		  struct ib_err *err)
{
	struct cpio c = {.at = 0, .out = out, .err = err};
	int ret = 0;

	if ((c.fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		return ib_err_set(err, errno, "create %s", out);
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = entry(&c, &entries[i], (unsigned)i + 1, epoch);
	if (ret == 0)
		ret = header(&c, "TRAILER!!!", 0, 0, 0, 0);
	close(c.fd);
	return ret;
}

/* image/reserve.c: the free space the store keeps on its file system.
 *
 * The store lives on STATE, the host's only writable disk, beside PID 1's
 * logs and every container's data. An image that declares or unpacks to
 * more than is free (a registry's 100 GiB blob, a gzip layer of zeros)
 * must be refused before the disk is full, not end in ENOSPC once every
 * other writer has failed too. So every write into the store first asks
 * whether it would leave less than the reserve free (f_bavail: what is
 * left after ext4's own root reserve, which root ignores), and whether it
 * would leave fewer inodes than the reserve's (inodes_kept()); kubelet keeps
 * imagefs.available and imagefs.inodesFree for the same reason. */
#include "image.h"
#include <errno.h>
#include <sys/statvfs.h>

#define MIB (1ULL << 20)

uint64_t img_reserve_of(const struct img_reserve *r, uint64_t fs_size)
{
	uint64_t b = fs_size / 100 * IMG_RESERVE_PCT;

	if (r->bytes != IMG_RESERVE_AUTO)
		return r->bytes;
	/* a small file system (the image's 64 MiB STATE before it grows) would
	 * otherwise keep everything back */
	b = b > IMG_RESERVE_MIN ? b : IMG_RESERVE_MIN;
	return b < fs_size / 4 ? b : fs_size / 4;
}

/* "24 MiB", or bytes below a MiB: the message's sizes */
static const char *human(uint64_t n, char buf[32])
{
	img_fmt(buf, 32, n >= MIB ? "%llu MiB" : "%llu bytes",
		(unsigned long long)(n >= MIB ? n / MIB : n));
	return buf;
}

/* The inodes kept: IMG_RESERVE_PCT % of the file system's, at least
 * IMG_RESERVE_MIN_INODES, at most a quarter. A layer of a million empty files
 * takes no data block and every inode of STATE (ext4 has a fixed number):
 * PID 1's logs and every container then fail to create a file. A meter asks
 * once per IMG_RESERVE_STEP, every 2048 entries (512 bytes each), well
 * inside the minimum. */
static uint64_t inodes_kept(uint64_t files)
{
	uint64_t k = files / 100 * IMG_RESERVE_PCT;

	k = k > IMG_RESERVE_MIN_INODES ? k : IMG_RESERVE_MIN_INODES;
	return k < files / 4 ? k : files / 4;
}

int img_reserve_check(const struct img_reserve *r, int fd, uint64_t need, const char *what,
		      struct cl_err *err)
{
	struct statvfs v;
	uint64_t keep, avail;
	char a[32];

	if (!r || !r->where || r->bytes == 0)
		return 0;
	if ((fd >= 0 ? fstatvfs(fd, &v) : statvfs(r->where, &v)) < 0)
		return cl_error(err, errno, "statvfs %s", r->where);
	keep = img_reserve_of(r, (uint64_t)v.f_blocks * v.f_frsize);
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (avail < keep || need > avail - keep)
		return cl_error(err, 0,
				"%s would leave less than %s free on %s (the store's reserve); "
				"refused",
				what, human(keep, a), r->where);
	/* f_files 0: a file system without an inode count (btrfs) */
	if (v.f_files && (uint64_t)v.f_favail <= inodes_kept(v.f_files))
		return cl_error(err, 0,
				"%s would leave less than %llu inodes free on %s (the store's "
				"reserve); refused",
				what, (unsigned long long)inodes_kept(v.f_files), r->where);
	return 0;
}

int img_reserve_declared(const struct img_reserve *r, int fd, uint64_t size, struct cl_err *err)
{
	char what[64], a[32];

	img_fmt(what, sizeof(what), "storing its %s", human(size, a));
	return img_reserve_check(r, fd, size, what, err);
}

int img_meter_add(struct img_meter *m, uint64_t n, struct cl_err *err)
{
	uint64_t need = n > IMG_RESERVE_STEP ? n : IMG_RESERVE_STEP;

	if (n <= m->budget)
		return m->budget -= n, 0;
	if (img_reserve_check(m->r, m->fd, need, m->what, err) < 0)
		return -1;
	m->budget = need - n;
	return 0;
}

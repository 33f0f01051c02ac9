/*
 * dsdev.c: which block devices the datasource probe (ds.c) reads, and in
 * what order. Each read is a round trip through the block layer (1-30 ms of
 * the one vCPU under QEMU's TCG, a CD-ROM's more), so what cannot hold a
 * seed is not read:
 *  - loop, ram, zram and device-mapper devices (this host's own);
 *  - a CD-ROM drive without a disc (reading it prints a dozen I/O errors);
 *  - a device this host already uses: one something holds (ROOT under
 *    dm-verity, an LVM or RAID member), one mounted (STATE on /var), and a
 *    disk one of whose partitions is so used (the boot disk: its other
 *    partitions are still probed one by one, so a config drive in a
 *    partition of it, as OpenStack's bare-metal service writes one, is
 *    found; a disk none of whose partitions is used is read whole too, for
 *    an ISO whose partition table does not start at its volume descriptor).
 * cloud-init finds a seed by its label (blkid), which a device in use here
 * (ext4 STATE, erofs ROOT, a partition table) never carries. The rest are
 * read in a fixed order, likeliest first (ds_devices()): a seed on a CD-ROM
 * is found before the boot disk's partitions are read, and of two seeds the
 * same one wins at every boot (cloud-init leaves that to blkid's order).
 */
#include "provision.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h> /* linux/cdrom.h uses INT_MAX */
#include <linux/cdrom.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* sysblock/dir/file's first line into buf (read_text): its length, 0 if none. */
static size_t attr(const char *sysblock, const char *dir, const char *file, char *buf, size_t size)
{
	char path[512];
	struct err e;

	if (fmt_path(path, sizeof(path), "%s/%s/%s", sysblock, dir, file) < 0 ||
	    read_text(path, buf, size, &e) < 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strlen(buf);
}

/* sysfs's size (512-byte units) of a drive the sr driver found without a disc: the
 * capacity it starts every drive with (sr_probe()), kept when the drive is not ready. */
#define SR_GUESS_SECTORS "2097151" /* 0x1fffff */

/*
 * A drive with no disc answers every read with an I/O error, and the kernel
 * prints a dozen "I/O error, dev sr0" lines on the console for one probe.
 * When the kernel found the drive it read the capacity of a disc in it: a
 * size in sysfs other than 0 or the driver's guess for an empty drive means
 * a disc, without a command to the drive (30-50 ms of QEMU's ATAPI emulation
 * under TCG). Otherwise the drive is asked (CDROM_DRIVE_STATUS, on a
 * non-blocking fd, which opens without media), which reads nothing; a drive
 * that cannot say is read as before.
 */
bool ds_no_media(const char *sysblock, const char *name)
{
	char dev[300], size[32];
	int fd, st;

	if (strncmp(name, "sr", 2) != 0)
		return false;
	if (attr(sysblock, name, "size", size, sizeof(size)) && strcmp(size, "0") != 0 &&
	    strcmp(size, SR_GUESS_SECTORS) != 0)
		return false;
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	if ((fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return true; /* ENOMEDIUM and the like: nothing to read either */
	st = ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT);
	close(fd);
	/* not ready (spinning up) is read as before: a seed's disc must not be missed */
	return st == CDS_NO_DISC || st == CDS_TRAY_OPEN;
}

/* The third field of a mountinfo line ("ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ..."). */
static const char *mount_dev(const char *line)
{
	for (int i = 0; i < 2 && line; i++)
		if ((line = strpbrk(line, " \n")) && *line++ == '\n')
			return NULL;
	return line;
}

/* NAME's "MAJOR:MINOR" (sysfs's dev file) is a mount's device in mountinfo. */
static bool mounted(const char *sysblock, const char *name, const char *mountinfo)
{
	char dev[32];
	size_t len = attr(sysblock, name, "dev", dev, sizeof(dev));
	const char *f;

	if (!len)
		return false;
	for (const char *l = mountinfo; l && *l;) {
		if ((f = mount_dev(l)) && !strncmp(f, dev, len) && f[len] == ' ')
			return true;
		if ((l = strchr(l, '\n')))
			l++;
	}
	return false;
}

/* The device in sysfs directory sysblock/dir is held by another (its holders/ has an
 * entry: dm-verity over ROOT, LVM, md) or mounted. */
static bool used(const char *sysblock, const char *dir, const char *mountinfo)
{
	char path[512];
	struct dirent *de;
	bool held = false;
	DIR *d;

	if (fmt_path(path, sizeof(path), "%s/%s/holders", sysblock, dir) == 0 &&
	    (d = opendir(path))) {
		while (!held && (de = readdir(d)))
			held = de->d_name[0] != '.';
		closedir(d);
	}
	return held || mounted(sysblock, dir, mountinfo);
}

/* A partition of disk name (sysfs: the subdirectory NAMEx holding a file "partition")
 * is used: the disk is this host's own. */
static bool part_used(const char *sysblock, const char *name, const char *mountinfo)
{
	size_t len = strlen(name);
	char path[512], part[512];
	struct dirent *de;
	bool found = false;
	DIR *d = fmt_path(path, sizeof(path), "%s/%s", sysblock, name) ? NULL : opendir(path);

	while (d && !found && (de = readdir(d))) {
		if (strncmp(de->d_name, name, len) != 0 || !de->d_name[len] ||
		    fmt_path(part, sizeof(part), "%s/%s/partition", path, de->d_name) < 0 ||
		    access(part, F_OK) != 0)
			continue;
		snprintf(part, sizeof(part), "%s/%s", name, de->d_name);
		found = used(sysblock, part, mountinfo);
	}
	if (d)
		closedir(d);
	return found;
}

bool ds_in_use(const char *sysblock, const char *name, const char *mountinfo)
{
	return used(sysblock, name, mountinfo) || part_used(sysblock, name, mountinfo);
}

bool ds_skip(const char *sysblock, const char *name, const char *mountinfo)
{
	return name[0] == '.' || !strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) ||
	       !strncmp(name, "zram", 4) || !strncmp(name, "dm-", 3) ||
	       ds_in_use(sysblock, name, mountinfo) || ds_no_media(sysblock, name);
}

/* Where a seed is likeliest first: a removable drive (a CD-ROM, where cloud-localds's
 * ISO and most config drives are), then a whole disk (a seed on a disk of its own), then
 * a partition. */
static int rank(const char *sysblock, const char *name)
{
	char v[8];

	if (attr(sysblock, name, "removable", v, sizeof(v)) && v[0] == '1')
		return 0;
	return attr(sysblock, name, "partition", v, sizeof(v)) ? 2 : 1;
}

static int by_rank(const void *a, const void *b)
{
	const struct ds_dev *x = a, *y = b;

	return x->rank != y->rank ? x->rank - y->rank : strverscmp(x->name, y->name);
}

size_t ds_devices(const char *sysblock, const char *mountinfo, struct ds_dev **out)
{
	DIR *d = opendir(sysblock);
	struct ds_dev *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) >= sizeof(v->name) ||
		    ds_skip(sysblock, de->d_name, mountinfo))
			continue; /* the kernel's names are shorter (DISK_NAME_LEN) */
		if (n == cap) {
			struct ds_dev *grown = realloc(v, (cap ? 2 * cap : 16) * sizeof(*v));
			if (!grown)
				break; /* out of memory: the devices so far */
			v = grown;
			cap = cap ? 2 * cap : 16;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].rank = rank(sysblock, de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), by_rank);
	*out = v;
	return n;
}

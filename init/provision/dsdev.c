/*
 * dsdev.c: which block devices the datasource probe (ds.c) reads. Each read
 * is a round trip through the block layer (2-27 ms under QEMU's TCG, where a
 * boot without a datasource spends most of its probe on them), so what
 * cannot hold a seed is not read:
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
 * (ext4 STATE, erofs ROOT, a partition table) never carries.
 */
#include "provision.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h> /* linux/cdrom.h uses INT_MAX */
#include <linux/cdrom.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * A drive with no disc answers every read with an I/O error, and the kernel
 * prints a dozen "I/O error, dev sr0" lines on the console for one probe.
 * Asking the drive (CDROM_DRIVE_STATUS, on a non-blocking fd, which opens
 * without media) reads nothing; a drive that cannot say is read as before.
 * (sysfs has no answer: an empty drive's size is the sr driver's guess,
 * 0x1fffff sectors, not 0.)
 */
bool ds_no_media(const char *name)
{
	char dev[300];
	int fd, st;

	if (strncmp(name, "sr", 2) != 0)
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
static bool mounted(int at, const char *name, const char *mountinfo)
{
	char path[300], dev[32];
	const char *f;
	size_t len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/dev", name);
	if ((fd = openat(at, path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, dev, sizeof(dev) - 1);
	close(fd);
	if (n <= 0)
		return false;
	dev[n] = '\0';
	if (!(len = strcspn(dev, "\n")))
		return false;
	for (const char *l = mountinfo; l && *l;) {
		if ((f = mount_dev(l)) && !strncmp(f, dev, len) && f[len] == ' ')
			return true;
		if ((l = strchr(l, '\n')))
			l++;
	}
	return false;
}

/* Opens dir (at) for reading its entries; NULL when there is none. */
static DIR *open_dir(int at, const char *dir)
{
	int fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* The device in sysfs directory dir (at) is held by another (its holders/ has an
 * entry: dm-verity over ROOT, LVM, md) or mounted. */
static bool used(int at, const char *dir, const char *mountinfo)
{
	char path[300];
	struct dirent *de;
	bool held = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/holders", dir);
	if ((d = open_dir(at, path))) {
		while (!held && (de = readdir(d)))
			held = de->d_name[0] != '.';
		closedir(d);
	}
	return held || mounted(at, dir, mountinfo);
}

/* A partition of disk name (sysfs: the subdirectory NAMEx holding a file "partition")
 * is used: the disk is this host's own. */
static bool part_used(int at, const char *name, const char *mountinfo)
{
	size_t len = strlen(name);
	struct dirent *de;
	bool found = false;
	DIR *d = open_dir(at, name);

	while (d && !found && (de = readdir(d))) {
		char part[600];
		if (strncmp(de->d_name, name, len) != 0 || !de->d_name[len])
			continue;
		snprintf(part, sizeof(part), "%s/%s/partition", name, de->d_name);
		if (faccessat(at, part, F_OK, 0) == 0) {
			*strrchr(part, '/') = '\0';
			found = used(at, part, mountinfo);
		}
	}
	if (d)
		closedir(d);
	return found;
}

bool ds_in_use(const char *sysblock, const char *name, const char *mountinfo)
{
	int at = open(sysblock, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool in_use;

	if (at < 0)
		return false; /* nothing known: read it */
	in_use = used(at, name, mountinfo) || part_used(at, name, mountinfo);
	close(at);
	return in_use;
}

bool ds_skip(const char *sysblock, const char *name, const char *mountinfo)
{
	return name[0] == '.' || !strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) ||
	       !strncmp(name, "zram", 4) || !strncmp(name, "dm-", 3) ||
	       ds_in_use(sysblock, name, mountinfo) || ds_no_media(name);
}

/*
 * blkdev.c: which partition of the root's disk is which, answered from sysfs
 * (PID 1 looks for STATE, the updater for the ESP and the other ROOT slot).
 *
 * Everything takes the sysfs root as a parameter ("/sys" at boot) so the
 * unit tests can build a fake tree in a temporary directory.
 */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Value of "KEY=" in a uevent text, copied to val. Returns 0 or -1 when absent. */
static int uevent_get(const char *text, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			len -= klen + 1;
			if (len >= size)
				len = size - 1;
			memcpy(val, p + klen + 1, len);
			val[len] = '\0';
			return 0;
		}
		p += len + (end ? 1 : 0);
	}
	return -1;
}

/* in made absolute without "." and ".." components, lexically. */
static int normalize(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = in, *e; *p; p = *e ? e + 1 : e) {
		size_t len = (size_t)((e = strchrnul(p, '/')) - p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			while (o > 0 && out[--o] != '/')
				;
		else if (len && !(len == 1 && *p == '.')) {
			if (o + len + 2 > size)
				return errno = ENAMETOOLONG, -1;
			out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* realpath(3) for sysfs, where only a path's last component is a link
 * (class/block/NAME, dev/block/M:N, slaves/NAME) and the directories above
 * it are real: its target, joined to its directory, made absolute
 * lexically. (musl's realpath, which walks every component, is 1 KiB of
 * PID 1's budget.) A path that is no link is made absolute as it is. */
int sysfs_resolve(const char *path, char *out, size_t size)
{
	char target[PATH_MAX], joined[2 * PATH_MAX + 2];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *slash = strrchr(path, '/');

	if (n < 0)
		return errno == EINVAL ? normalize(path, out, size) : -1;
	target[n] = '\0';
	if (target[0] == '/' || !slash)
		return normalize(target, out, size);
	snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - path), path, target);
	return normalize(joined, out, size);
}

/* A device-mapper device over one device (the root's dm-verity, data and
 * tree on one partition) stands for it: dir becomes its only slave's. */
static void below_dm(char *dir)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (fmt_path(path, sizeof(path), "%s/slaves", dir) < 0 || !(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && n++ == 0)
			fmt_path(path, sizeof(path), "%s/slaves/%s", dir, de->d_name);
	closedir(d);
	if (n == 1 && sysfs_resolve(path, real, sizeof(real)) == 0)
		memcpy(dir, real, sizeof(real));
}

/* The device directory of the disk that holds dev: itself if it is a whole disk. */
static int disk_of(const char *sys, dev_t dev, char *disk, struct err *e)
{
	char link[PATH_MAX], part[PATH_MAX + 16];
	struct stat st;

	if (fmt_path(link, sizeof(link), "%s/dev/block/%u:%u", sys, major(dev), minor(dev)) < 0)
		return err_set(e, ENAMETOOLONG, "%s/dev/block", sys);
	if (sysfs_resolve(link, disk, PATH_MAX) < 0)
		return err_set(e, errno, "disk of block device %u:%u (%s)", major(dev), minor(dev),
			       link);
	below_dm(disk);
	/* A partition's directory has a "partition" file and sits in its disk's. */
	if (fmt_path(part, sizeof(part), "%s/partition", disk) == 0 && stat(part, &st) == 0) {
		char *slash = strrchr(disk, '/');
		if (slash)
			*slash = '\0';
	}
	return 0;
}

/* The entry names of dir, sorted, so that what is found does not depend on readdir order. */
static char **list_dir(const char *dir, size_t *n, struct err *e)
{
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	DIR *d;

	*n = 0;
	d = opendir(dir);
	if (!d) {
		err_set(e, errno, "open %s", dir);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (*n + 1 >= cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[*n] = strdup(de->d_name)))
			goto nomem;
		v[++*n] = NULL;
	}
	closedir(d);
	if (!v && !(v = calloc(1, sizeof(*v)))) {
		err_set(e, ENOMEM, "list %s", dir);
		return NULL;
	}
	strv_sort(v, *n);
	return v;
nomem:
	closedir(d);
	strv_free(v);
	err_set(e, ENOMEM, "list %s", dir);
	return NULL;
}

/* Is class/block/<name> a partition called partname whose disk is disk? */
static bool is_wanted(const char *sys, const char *name, const char *partname, const char *disk,
		      char *devname, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX], uevent[4096], val[256];
	struct err e;
	char *slash;

	if (fmt_path(path, sizeof(path), "%s/class/block/%s", sys, name) < 0 ||
	    sysfs_resolve(path, real, sizeof(real)) < 0)
		return false;
	if (fmt_path(path, sizeof(path), "%s/uevent", real) < 0 ||
	    read_text(path, uevent, sizeof(uevent), &e) < 0)
		return false;
	if (uevent_get(uevent, "DEVTYPE", val, sizeof(val)) < 0 || strcmp(val, "partition") != 0)
		return false;
	if (uevent_get(uevent, "PARTNAME", val, sizeof(val)) < 0 || strcmp(val, partname) != 0)
		return false;
	slash = strrchr(real, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (strcmp(real, disk) != 0)
		return false; /* a STATE of another disk: some other installation's */
	if (uevent_get(uevent, "DEVNAME", devname, size) < 0)
		snprintf(devname, size, "%s", name);
	return true;
}

int sysfs_find_partition(const char *sys, dev_t dev, const char *partname, char *name, size_t size,
			 struct err *e)
{
	char disk[PATH_MAX], dir[PATH_MAX], found[256] = "", cand[256];
	const char *diskname;
	size_t n, hits = 0;
	char **names;

	if (disk_of(sys, dev, disk, e) < 0)
		return -1;
	diskname = strrchr(disk, '/') ? strrchr(disk, '/') + 1 : disk;
	if (fmt_path(dir, sizeof(dir), "%s/class/block", sys) < 0)
		return err_set(e, ENAMETOOLONG, "%s/class/block", sys);
	names = list_dir(dir, &n, e);
	if (!names)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_wanted(sys, names[i], partname, disk, cand, sizeof(cand)))
			continue;
		if (hits++ == 0)
			snprintf(found, sizeof(found), "%s", cand);
	}
	strv_free(names);
	/* Two partitions of the same name on one disk: refuse to guess which holds the data. */
	if (hits > 1)
		return err_set(e, 0, "%zu partitions named %s on disk %s", hits, partname,
			       diskname);
	if (hits == 0) {
		err_set(e, 0, "no partition named %s on disk %s", partname, diskname);
		e->num = ENOENT; /* for callers; the text says it better than strerror */
		return -1;
	}
	snprintf(name, size, "%s", found);
	return 0;
}

/*
 * slotdev.c: the partition of a ROOT slot, found as PID 1 finds STATE (on the
 * root's disk, by GPT name), and its PARTUUID read from the disk's GPT: the
 * slot's command line names its partition by PARTUUID, and the kernel does
 * not tell it (no udev, no blkid here).
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static int sys_number(const char *fmt, const char *name, uint64_t *v, struct err *e)
{
	char path[PATH_MAX], text[64];
	const char *end;

	if (fmt_path(path, sizeof(path), fmt, name) < 0 ||
	    read_text(path, text, sizeof(text), e) < 0)
		return -1;
	end = dec_scan(text, v);
	if (!end || (*end && *end != '\n'))
		return err_set(e, 0, "%s: not a number", path);
	return 0;
}

/* The GPT's unique GUID of partition number partn, as the kernel prints it. */
static int gpt_partuuid(const char *disk, uint64_t partn, struct slot_dev *d, struct err *e)
{
	unsigned char hdr[512], ent[128];
	char dev[80];
	uint64_t lbs, lba, count, size;
	int fd, ret = 0;

	if (sys_number("/sys/class/block/%s/queue/logical_block_size", disk, &lbs, e) < 0)
		return -1;
	snprintf(dev, sizeof(dev), "/dev/%s", disk);
	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, errno, "open %s", dev);
	if (pread(fd, hdr, sizeof(hdr), (off_t)lbs) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, "EFI PART", 8) != 0) {
		close(fd);
		return err_set(e, 0, "%s: no GPT header", dev);
	}
	lba = le(hdr + 72, 8), count = le(hdr + 80, 4), size = le(hdr + 84, 4);
	if (partn == 0 || partn > count || size < 128 || size > 4096 ||
	    pread(fd, ent, sizeof(ent), (off_t)(lba * lbs + (partn - 1) * size)) != sizeof(ent))
		ret = err_set(e, 0, "%s: no GPT entry %llu", dev, (unsigned long long)partn);
	close(fd);
	if (ret == 0)
		snprintf(d->partuuid, sizeof(d->partuuid),
			 "%08llx-%04llx-%04llx-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 (unsigned long long)le(ent + 16, 4), (unsigned long long)le(ent + 20, 2),
			 (unsigned long long)le(ent + 22, 2), ent[24], ent[25], ent[26], ent[27],
			 ent[28], ent[29], ent[30], ent[31]);
	return ret;
}

int slot_dev_find(char slot, struct slot_dev *d, struct err *e)
{
	char label[8], part[64], link[PATH_MAX], real[PATH_MAX];
	uint64_t sectors, partn;
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->slot = slot;
	snprintf(label, sizeof(label), "ROOT-%c", slot);
	if (stat("/", &st) < 0)
		return err_set(e, errno, "stat /");
	if (sysfs_find_partition("/sys", st.st_dev, label, part, sizeof(part), e) < 0 ||
	    sys_number("/sys/class/block/%s/size", part, &sectors, e) < 0 ||
	    sys_number("/sys/class/block/%s/partition", part, &partn, e) < 0)
		return err_ctx(e, "slot %c", slot);
	snprintf(d->dev, sizeof(d->dev), "/dev/%s", part);
	d->size = sectors * 512; /* sysfs counts 512-byte sectors whatever the disk's */
	/* the partition's directory sits in its disk's */
	if (fmt_path(link, sizeof(link), "/sys/class/block/%s", part) < 0 || !realpath(link, real))
		return err_set(e, errno, "slot %c: %s", slot, link);
	return gpt_partuuid(basename(dirname(real)), partn, d, e);
}

/* Unit tests: init/provision/dsdev.c, which block devices the datasource probe reads, on a
 * fake /sys/class/block shaped as a Wisp guest's (vda: BIOS-BOOT, ESP, ROOT-A under
 * dm-verity, ROOT-B, STATE on /var) with a seed disk beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char sys[64];

/* sys/path (its parents made), with content when text is not NULL, else a directory. */
static void put(const char *path, const char *text)
{
	char full[256];
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", sys, path);
	for (char *p = strchr(full + strlen(sys) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(full, 0755);
		*p = '/';
	}
	if (!text) {
		assert_int_equal(mkdir(full, 0755), 0);
		return;
	}
	assert_non_null(f = fopen(full, "w"));
	fputs(text, f);
	fclose(f);
}

/* A block device's directory: dev, holders/, and partition for a partition. */
static void dev(const char *name, const char *majmin, bool partition)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/dev", name);
	put(path, majmin);
	snprintf(path, sizeof(path), "%s/holders", name);
	put(path, NULL);
	if (partition) {
		snprintf(path, sizeof(path), "%s/partition", name);
		put(path, "1\n");
	}
}

static const char mountinfo[] =
    "22 1 253:0 / / ro,relatime - erofs /dev/dm-0 ro\n"
    "23 22 0:5 / /dev rw,nosuid - devtmpfs devtmpfs rw,size=4096k\n"
    "36 22 254:5 / /var rw,nosuid,nodev,relatime - ext4 /dev/vda5 rw\n"
    "37 36 254:160 / /var/mnt rw,relatime - ext4 /dev/vdk rw"; /* no final newline */

static int setup(void **state)
{
	(void)state;
	snprintf(sys, sizeof(sys), "/tmp/test_dsdev_XXXXXX");
	assert_non_null(mkdtemp(sys));
	dev("vda", "254:0\n", false);
	for (int i = 1; i <= 5; i++) { /* in /sys/class/block, and in the disk's directory */
		char name[48], majmin[16];
		snprintf(majmin, sizeof(majmin), "254:%d\n", i);
		snprintf(name, sizeof(name), "vda%d", i);
		dev(name, majmin, true);
		snprintf(name, sizeof(name), "vda/vda%d", i);
		dev(name, majmin, true);
	}
	put("vda3/holders/dm-0", ""); /* dm-verity's ROOT-A */
	put("vda/vda3/holders/dm-0", "");
	dev("dm-0", "253:0\n", false);
	dev("vdb", "254:16\n", false); /* a seed: no partitions, not mounted */
	dev("nvme0n1", "259:0\n", false);
	dev("nvme0n1p1", "259:1\n", true);
	put("nvme0n1p1/holders/md0", ""); /* a RAID member */
	dev("nvme0n1/nvme0n1p1", "259:1\n", true);
	put("nvme0n1/nvme0n1p1/holders/md0", "");
	dev("sdb", "8:16\n", false); /* partitioned, none of it used: an isohybrid seed, say */
	dev("sdb/sdb1", "8:17\n", true);
	dev("sr0", "11:0\n", false); /* a CD-ROM drive with a disc of 368 KiB */
	put("sr0/removable", "1\n");
	put("sr0/size", "736\n");
	dev("vda10", "254:10\n", true);
	dev("vda/vda10", "254:10\n", true);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", sys);
	return system(cmd);
}

static void test_in_use(void **state)
{
	(void)state;
	assert_true(ds_in_use(sys, "vda", mountinfo));	   /* the boot disk: vda3, vda5 used */
	assert_false(ds_in_use(sys, "vda1", mountinfo));   /* BIOS-BOOT */
	assert_false(ds_in_use(sys, "vda2", mountinfo));   /* the ESP */
	assert_true(ds_in_use(sys, "vda3", mountinfo));	   /* held by dm-0 */
	assert_false(ds_in_use(sys, "vda4", mountinfo));   /* ROOT-B, or a config-2 partition */
	assert_true(ds_in_use(sys, "vda5", mountinfo));	   /* mounted on /var */
	assert_false(ds_in_use(sys, "vdb", mountinfo));	   /* 254:16 is not 254:160 */
	assert_true(ds_in_use(sys, "nvme0n1", mountinfo)); /* nvme0n1p1 is held */
	assert_true(ds_in_use(sys, "nvme0n1p1", mountinfo));
	assert_false(ds_in_use(sys, "sdb", mountinfo)); /* partitioned, none of it used */
}

/* Each rule alone: the boot disk with only its mounted STATE, only its held ROOT. */
static void test_each_rule(void **state)
{
	static const char var[] = "36 22 254:5 / /var rw - ext4 /dev/vda5 rw\n";

	(void)state;
	assert_true(ds_in_use(sys, "vda5", var));
	assert_true(ds_in_use(sys, "vda", var)); /* through vda/vda5's dev */
	assert_false(ds_in_use(sys, "vda2", var));
	assert_true(ds_in_use(sys, "vda3", "")); /* holders only */
	assert_true(ds_in_use(sys, "vda", ""));	 /* through vda/vda3's holders */
}

static void test_unknown_is_read(void **state)
{
	(void)state;
	assert_false(ds_in_use(sys, "vda5", NULL)); /* mountinfo unreadable */
	assert_false(ds_in_use(sys, "vda5", ""));
	assert_false(ds_in_use(sys, "sdz", mountinfo));		    /* not in sysfs */
	assert_false(ds_in_use("/nonexistent", "vda3", mountinfo)); /* no sysfs */
}

static void test_skip(void **state)
{
	(void)state;
	assert_true(ds_skip(sys, "loop0", mountinfo));
	assert_true(ds_skip(sys, "dm-0", mountinfo));
	assert_true(ds_skip(sys, "zram0", mountinfo));
	assert_true(ds_skip(sys, ".", mountinfo));
	assert_true(ds_skip(sys, "vda", mountinfo));
	assert_false(ds_skip(sys, "sdb", mountinfo));
	assert_true(ds_skip(sys, "vda5", mountinfo));
	assert_false(ds_skip(sys, "vda2", mountinfo));
	assert_false(ds_skip(sys, "vdb", mountinfo));
}

/* A disc the kernel saw (its size) is read without a command to the drive (without it
 * the test would open the build host's /dev/sr0); a name not a CD-ROM's is not asked. */
static void test_media(void **state)
{
	char path[128];

	(void)state;
	assert_false(ds_no_media(sys, "sr0"));
	assert_false(ds_no_media(sys, "vdb"));
	/* the size of a drive found empty, or none: asked (there is no /dev/sr_x to ask) */
	assert_true(ds_no_media(sys, "sr_x"));
	put("sr_x/size", "2097151\n");
	assert_true(ds_no_media(sys, "sr_x"));
	put("sr_x/size", "0\n");
	assert_true(ds_no_media(sys, "sr_x"));
	put("sr_x/size", "736\n");
	assert_false(ds_no_media(sys, "sr_x"));
	snprintf(path, sizeof(path), "%s/sr_x/size", sys);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/sr_x", sys);
	assert_int_equal(rmdir(path), 0); /* not a device for test_order */
}

/* Removable drives, whole disks, partitions, each by name (vda2 before vda10); nothing
 * in use, nothing that is not a disk. */
static void test_order(void **state)
{
	static const char *const want[] = {"sr0", "sdb", "vdb", "vda1", "vda2", "vda4", "vda10"};
	struct ds_dev *d;
	size_t n;

	(void)state;
	n = ds_devices(sys, mountinfo, &d);
	assert_int_equal(n, ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(d[i].name, want[i]);
	free(d);
	assert_int_equal(ds_devices("/nonexistent", mountinfo, &d), 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_use),	    cmocka_unit_test(test_each_rule),
	    cmocka_unit_test(test_unknown_is_read), cmocka_unit_test(test_skip),
	    cmocka_unit_test(test_media),	    cmocka_unit_test(test_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

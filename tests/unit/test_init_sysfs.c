/* Unit tests: init/pid1/sysfs.c (the STATE finder, the active console) against a fake sysfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char sys[] = "/tmp/test_init_sysfs.XXXXXX";

/* mkdir -p of sys/rel's directory part, then write text to sys/rel. */
static void put(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", sys, rel);
	for (char *p = path + strlen(sys) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", sys, rel);
	for (char *p = path + strlen(sys) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	assert_int_equal(symlink(target, path), 0);
}

/* A disk and its partitions, the way the kernel lays them out. */
static void disk(const char *bus, const char *name, int maj, int min, const char *const *parts)
{
	char rel[256], text[256], target[256];

	snprintf(rel, sizeof(rel), "devices/%s/block/%s/uevent", bus, name);
	snprintf(text, sizeof(text), "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=disk\nDISKSEQ=9\n",
		 maj, min, name);
	put(rel, text);
	snprintf(target, sizeof(target), "../../devices/%s/block/%s", bus, name);
	snprintf(rel, sizeof(rel), "dev/block/%d:%d", maj, min);
	link_to(target, rel);
	snprintf(rel, sizeof(rel), "class/block/%s", name);
	link_to(target, rel);

	for (int i = 0; parts[i]; i++) {
		char pname[64];
		int pmin = min + i + 1;

		/* nvme0n1 -> nvme0n1p1, vda -> vda1 */
		bool digit = name[strlen(name) - 1] >= '0' && name[strlen(name) - 1] <= '9';
		snprintf(pname, sizeof(pname), "%s%s%d", name, digit ? "p" : "", i + 1);
		snprintf(rel, sizeof(rel), "devices/%s/block/%s/%s/uevent", bus, name, pname);
		if (parts[i][0])
			snprintf(text, sizeof(text),
				 "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%d\n"
				 "PARTNAME=%s\n",
				 maj, pmin, pname, i + 1, parts[i]);
		else /* MBR: no names */
			snprintf(text, sizeof(text),
				 "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%d\n",
				 maj, pmin, pname, i + 1);
		put(rel, text);
		snprintf(rel, sizeof(rel), "devices/%s/block/%s/%s/partition", bus, name, pname);
		snprintf(text, sizeof(text), "%d\n", i + 1);
		put(rel, text);
		snprintf(target, sizeof(target), "../../devices/%s/block/%s/%s", bus, name, pname);
		snprintf(rel, sizeof(rel), "dev/block/%d:%d", maj, pmin);
		link_to(target, rel);
		snprintf(rel, sizeof(rel), "class/block/%s", pname);
		link_to(target, rel);
	}
}

static int setup(void **state)
{
	static const char *const wisp[] = {"ESP", "ROOT-A", "ROOT-B", "STATE", NULL};
	static const char *const other_wisp[] = {"STATE", NULL};
	static const char *const plain[] = {"", "", NULL};
	static const char *const twice[] = {"STATE", "ROOT-A", "STATE", NULL};

	(void)state;
	if (!mkdtemp(sys))
		return -1;
	/* In readdir order the other disk's STATE may well come first. */
	disk("pci0000:00/0000:00:05.0/virtio2", "vdb", 254, 16, other_wisp);
	disk("pci0000:00/0000:00:04.0/virtio1", "vda", 254, 0, wisp);
	disk("pci0000:00/0000:00:06.0/virtio3", "vdc", 254, 32, plain);
	disk("pci0000:00/0000:00:07.0/virtio4", "vdd", 254, 48, twice);
	disk("pci0000:00/0000:00:08.0/nvme/nvme0", "nvme0n1", 259, 0, wisp);
	/* The verity root: dm-0 over vda's ROOT-A (data and tree on it). */
	put("devices/virtual/block/dm-0/uevent",
	    "MAJOR=253\nMINOR=0\nDEVNAME=dm-0\nDEVTYPE=disk\n");
	link_to("../../devices/virtual/block/dm-0", "dev/block/253:0");
	link_to("../../../../pci0000:00/0000:00:04.0/virtio1/block/vda/vda2",
		"devices/virtual/block/dm-0/slaves/vda2");
	/* dm-1 over two devices: nothing to stand for */
	put("devices/virtual/block/dm-1/uevent",
	    "MAJOR=253\nMINOR=1\nDEVNAME=dm-1\nDEVTYPE=disk\n");
	link_to("../../devices/virtual/block/dm-1", "dev/block/253:1");
	link_to("../../../../pci0000:00/0000:00:04.0/virtio1/block/vda/vda2",
		"devices/virtual/block/dm-1/slaves/vda2");
	link_to("../../../../pci0000:00/0000:00:05.0/virtio2/block/vdb/vdb1",
		"devices/virtual/block/dm-1/slaves/vdb1");
	put("class/tty/console/active", "tty0 ttyS0\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sys);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect_found(dev_t dev, const char *want)
{
	char name[64] = "";
	struct err e = {0};

	if (sysfs_find_partition(sys, dev, "STATE", name, sizeof(name), &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(name, want);
}

/* sysfs_resolve: realpath(3)'s answer for sysfs's links, lexically. */
static void test_resolve(void **state)
{
	static const struct {
		const char *rel, *want; /* want: under sys; NULL: fails */
	} cases[] = {
	    {"class/block/vda2", "/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda2"},
	    {"dev/block/253:0", "/devices/virtual/block/dm-0"},
	    {"devices/virtual/block/dm-0/slaves/vda2",
	     "/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda2"},
	    {"devices/./virtual//block/dm-0/../dm-1/", "/devices/virtual/block/dm-1"},
	    {"class/block/nothere", NULL},
	};
	char path[512], out[4096], want[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(path, sizeof(path), "%s/%s", sys, cases[i].rel);
		if (!cases[i].want) {
			assert_int_equal(sysfs_resolve(path, out, sizeof(out)), -1);
			assert_int_equal(errno, ENOENT);
			continue;
		}
		assert_int_equal(sysfs_resolve(path, out, sizeof(out)), 0);
		snprintf(want, sizeof(want), "%s%s", sys, cases[i].want);
		assert_string_equal(out, want);
		assert_non_null(realpath(path, want)); /* the libc's answer, the same */
		assert_string_equal(out, want);
	}
	assert_int_equal(sysfs_resolve("/..", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	snprintf(path, sizeof(path), "%s/class/block/vda2", sys);
	assert_int_equal(sysfs_resolve(path, out, 20), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_root_on_partition(void **state)
{
	(void)state;
	expect_found(makedev(254, 2), "vda4"); /* ROOT-A */
	expect_found(makedev(254, 3), "vda4"); /* ROOT-B */
	expect_found(makedev(259, 2), "nvme0n1p4");
}

static void test_root_on_whole_disk(void **state)
{
	(void)state;
	expect_found(makedev(254, 0), "vda4");
	expect_found(makedev(254, 16), "vdb1");
}

/* Root on dm-verity: STATE is looked for on the disk of the partition under it. */
static void test_root_on_dm(void **state)
{
	char name[64];
	struct err e = {0};

	(void)state;
	expect_found(makedev(253, 0), "vda4");
	assert_int_equal(
	    sysfs_find_partition(sys, makedev(253, 1), "STATE", name, sizeof(name), &e), -1);
	assert_string_equal(e.msg, "no partition named STATE on disk dm-1");
}

static void test_no_state_on_root_disk(void **state)
{
	char name[64];
	struct err e = {0};

	(void)state;
	/* vdb and vda have a STATE; vdc, where root is, has none. */
	assert_int_equal(
	    sysfs_find_partition(sys, makedev(254, 33), "STATE", name, sizeof(name), &e), -1);
	assert_int_equal(e.num, ENOENT);
	assert_string_equal(e.msg, "no partition named STATE on disk vdc");
}

static void test_two_states(void **state)
{
	char name[64];
	struct err e = {0};

	(void)state;
	assert_int_equal(
	    sysfs_find_partition(sys, makedev(254, 49), "STATE", name, sizeof(name), &e), -1);
	assert_string_equal(e.msg, "2 partitions named STATE on disk vdd");
}

static void test_not_a_block_device(void **state)
{
	char name[64], want[256];
	struct err e = {0};

	(void)state;
	/* Root on tmpfs or overlay: an anonymous device that sysfs does not know. */
	assert_int_equal(sysfs_find_partition(sys, makedev(0, 23), "STATE", name, sizeof(name), &e),
			 -1);
	assert_int_equal(e.num, ENOENT);
	snprintf(want, sizeof(want),
		 "disk of block device 0:23 (%s/dev/block/0:23): No such file or directory", sys);
	assert_string_equal(e.msg, want);
}

static void test_console(void **state)
{
	char path[64];
	struct err e = {0};

	(void)state;
	assert_int_equal(sysfs_active_console(sys, path, sizeof(path), &e), 0);
	assert_string_equal(path, "/dev/ttyS0");

	put("class/tty/console/active", "ttyS0");
	assert_int_equal(sysfs_active_console(sys, path, sizeof(path), &e), 0);
	assert_string_equal(path, "/dev/ttyS0");

	put("class/tty/console/active", "ttyS1 tty0\n");
	assert_int_equal(sysfs_active_console(sys, path, sizeof(path), &e), 0);
	assert_string_equal(path, "/dev/tty0");

	put("class/tty/console/active", "\n");
	assert_int_equal(sysfs_active_console(sys, path, sizeof(path), &e), -1);
	assert_int_equal(e.num, ENODEV);
}

static void test_console_missing(void **state)
{
	char path[64];
	struct err e = {0};

	(void)state;
	assert_int_equal(sysfs_active_console("/nonexistent", path, sizeof(path), &e), -1);
	assert_int_equal(e.num, ENOENT);
	assert_string_equal(e.msg, "open /nonexistent/class/tty/console/active: No such file or "
				   "directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_root_on_partition),
	    cmocka_unit_test(test_root_on_whole_disk),
	    cmocka_unit_test(test_root_on_dm),
	    cmocka_unit_test(test_no_state_on_root_disk),
	    cmocka_unit_test(test_two_states),
	    cmocka_unit_test(test_not_a_block_device),
	    cmocka_unit_test(test_console),
	    cmocka_unit_test(test_console_missing),
	};

	return cmocka_run_group_tests_name("init_sysfs", tests, setup, teardown);
}

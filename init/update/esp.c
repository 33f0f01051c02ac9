/*
 * esp.c: the ESP, mounted for this process only.
 *
 * Nothing mounts the ESP at boot: only the updater needs it, for the moment
 * it reads or rewrites grubenv and a slot's files. It finds the partition
 * named ESP on the disk of / (under the verity device) as PID 1 finds STATE,
 * and mounts it in a mount namespace of its own, so the mount is gone with
 * the process and no other program ever sees the ESP writable.
 */
#include "update.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

int esp_mount(struct err *e)
{
	char name[64], dev[80];
	struct stat st;

	if (stat("/", &st) < 0)
		return err_set(e, errno, "stat /");
	if (sysfs_find_partition("/sys", st.st_dev, "ESP", name, sizeof(name), e) < 0)
		return err_ctx(e, "the ESP");
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	if (unshare(CLONE_NEWNS) < 0)
		return err_set(e, errno, "unshare the mount namespace");
	/* shared mounts would carry ours back into PID 1's namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_set(e, errno, "make / private");
	/* mkdir_p alone would make the run directory 0755 (a parent's mode) */
	if (upd_run_dir(e) < 0 || mkdir_p(ESP_DIR, 0700, e) < 0)
		return -1;
	if (mount(dev, ESP_DIR, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=077") < 0)
		return err_set(e, errno, "mount %s (ESP) on %s", dev, ESP_DIR);
	return 0;
}

/* mounts.c: mount, umount and remount (the old and the new mount API).
 * Docker's profile denies all of them without CAP_SYS_ADMIN: a container
 * that mounts can unmask /proc, remount /proc/sys or /sys writable, or
 * mount a cgroup v1 hierarchy with a release_agent. Each attempt runs in
 * a child, so that a success changes nothing the other probes see. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPEN_TREE_CLONE		1
#define AT_RECURSIVE_		0x8000
#define MOUNT_ATTR_RDONLY	0x00000001
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004

struct mount_attr_ {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

struct mnt {
	const char *name;
	const char *src, *target, *type;
	unsigned long flags;
	const char *data;
	int kind; /* 0 mount, 1 umount2, 2 fsopen, 3 open_tree, 4 mount_setattr */
};

#define DIR_ "/tmp/escape-mnt"

static const struct mnt mnts[] = {
    {"mount-tmpfs", "tmpfs", DIR_, "tmpfs", 0, NULL, 0},
    {"mount-proc", "proc", DIR_, "proc", 0, NULL, 0},
    {"mount-sysfs", "sysfs", DIR_, "sysfs", 0, NULL, 0},
    {"mount-bind-root", "/", DIR_, NULL, MS_BIND | MS_REC, NULL, 0},
    {"mount-cgroup1-release-agent", "cgroup", DIR_, "cgroup", 0, "none,name=escape", 0},
    {"mount-cgroup1-rdma", "cgroup", DIR_, "cgroup", 0, "rdma", 0},
    {"mount-cgroup2", "cgroup2", DIR_, "cgroup2", 0, NULL, 0},
    {"mount-devtmpfs", "devtmpfs", DIR_, "devtmpfs", 0, NULL, 0},
    {"remount-root-rw", NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL, 0},
    {"remount-proc-sys-rw", NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL, 0},
    {"remount-sysrq-trigger-rw", NULL, "/proc/sysrq-trigger", NULL, MS_REMOUNT | MS_BIND, NULL, 0},
    {"remount-sys-rw", NULL, "/sys", NULL, MS_REMOUNT, NULL, 0},
    {"remount-cgroup-rw", NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT, NULL, 0},
    {"umount-proc", NULL, "/proc", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-sys", NULL, "/proc/sys", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-kcore", NULL, "/proc/kcore", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-keys", NULL, "/proc/keys", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-timer_list", NULL, "/proc/timer_list", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-sched_debug", NULL, "/proc/sched_debug", NULL, MNT_DETACH, NULL, 1},
    {"umount-sys-firmware", NULL, "/sys/firmware", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-acpi", NULL, "/proc/acpi", NULL, MNT_DETACH, NULL, 1},
    {"umount-proc-scsi", NULL, "/proc/scsi", NULL, MNT_DETACH, NULL, 1},
    {"umount-sysrq-trigger", NULL, "/proc/sysrq-trigger", NULL, MNT_DETACH, NULL, 1},
    {"umount-root", NULL, "/", NULL, MNT_DETACH, NULL, 1},
    {"fsopen-tmpfs", "tmpfs", NULL, NULL, 0, NULL, 2},
    {"open-tree-clone-root", NULL, "/", NULL, 0, NULL, 3},
    {"mount-setattr-proc-sys-rw", NULL, "/proc/sys", NULL, 0, NULL, 4},
};

static enum res attempt(void *arg, char *detail, size_t size)
{
	const struct mnt *m = arg;
	struct mount_attr_ ma = {.attr_clr = MOUNT_ATTR_RDONLY};
	long r = -1;

	switch (m->kind) {
	case 0:
		r = mount(m->src, m->target, m->type, m->flags, m->data);
		break;
	case 1:
		r = umount2(m->target, (int)m->flags);
		break;
	case 2:
		r = syscall(SYS_fsopen, m->src, 0);
		break;
	case 3:
		r = syscall(SYS_open_tree, AT_FDCWD, m->target, OPEN_TREE_CLONE | AT_RECURSIVE_);
		break;
	case 4:
		r = syscall(SYS_mount_setattr, AT_FDCWD, m->target, 0, &ma, sizeof(ma));
		break;
	}
	if (r < 0) {
		fmt(detail, size, "%s: %s", m->target ? m->target : m->src, errname(errno));
		return BLOCKED;
	}
	fmt(detail, size, "%s: succeeded (mount calls need CAP_SYS_ADMIN)",
	    m->target ? m->target : m->src);
	return ESCAPED;
}

int probes_mounts(void)
{
	if (mkdir(DIR_, 0700) < 0 && errno != EEXIST) {
		report("mounts", ERROR, "mkdir " DIR_ ": %s", errname(errno));
		return 0;
	}
	for (size_t i = 0; i < sizeof(mnts) / sizeof(mnts[0]); i++)
		in_child(mnts[i].name, attempt, (void *)&mnts[i]);
	return 0;
}

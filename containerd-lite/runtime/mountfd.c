/* runtime/mountfd.c: mounts as file descriptors (the mount API of Linux 5.2):
 * a new filesystem (fsopen, fsconfig, fsmount) or a bind (open_tree) is
 * made as a detached mount, given its flags while nobody can see it
 * (mount_setattr), then attached onto an O_PATH fd of its target
 * (move_mount with MOVE_MOUNT_T_EMPTY_PATH): no path is looked up again
 * between the resolution of the target and the mount. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h> /* struct statx: musl 1.2.3 has no statx() */
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_statx
#define SYS_statx 332
#endif
/* linux/mount.h (not in every libc; glibc's differ in kind) */
#define CL_OPEN_TREE_CLONE	   1
#define CL_MOVE_MOUNT_F_EMPTY_PATH 0x04
#define CL_MOVE_MOUNT_T_EMPTY_PATH 0x40
#define CL_FSOPEN_CLOEXEC	   1
#define CL_FSMOUNT_CLOEXEC	   1
#define CL_FSCONFIG_SET_FLAG	   0
#define CL_FSCONFIG_SET_STRING	   1
#define CL_FSCONFIG_CMD_CREATE	   6

struct cl_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

int cl_mount_setattr(int fd, bool rec, uint64_t set, uint64_t clr, uint64_t propagation, int userns)
{
	struct cl_mount_attr a = {set, clr, propagation, userns >= 0 ? (uint64_t)userns : 0};

	return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a,
			    sizeof(a));
}

int cl_mount_clone(int fd, bool rec)
{
	return (int)syscall(SYS_open_tree, fd, "",
			    AT_EMPTY_PATH | CL_OPEN_TREE_CLONE | O_CLOEXEC |
				(rec ? AT_RECURSIVE : 0));
}

/* The per-mount flags of MS_* FLAGS, for fsmount and mount_setattr. */
uint64_t cl_mount_attrs(unsigned long flags)
{
	uint64_t a = 0;

	if (flags & MS_RDONLY)
		a |= CL_MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		a |= CL_MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a |= CL_MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a |= CL_MOUNT_ATTR_NOEXEC;
	if (flags & MS_NODIRATIME)
		a |= CL_MOUNT_ATTR_NODIRATIME;
	if (flags & MS_NOATIME)
		a |= CL_MOUNT_ATTR_NOATIME;
	else if (flags & MS_STRICTATIME)
		a |= CL_MOUNT_ATTR_STRICTATIME;
	return a; /* relatime is 0: the default, as for mount(2) */
}

/* The data options ("a=b,c") and the superblock flags as fsconfig calls,
 * as mount(2) would split them. */
static int configure(int fs, unsigned long flags, const char *data)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} sb[] = {{MS_RDONLY, "ro"}, {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"}};
	char *copy = cl_strdup(data ? data : ""), *save = NULL;
	int r = 0;

	for (size_t i = 0; i < sizeof(sb) / sizeof(sb[0]) && r == 0; i++)
		if (flags & sb[i].flag)
			r = (int)syscall(SYS_fsconfig, fs, CL_FSCONFIG_SET_FLAG, sb[i].name, NULL,
					 0);
	for (char *o = strtok_r(copy, ",", &save); o && r == 0; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');

		if (eq) {
			*eq = 0;
			r = (int)syscall(SYS_fsconfig, fs, CL_FSCONFIG_SET_STRING, o, eq + 1, 0);
		} else {
			r = (int)syscall(SYS_fsconfig, fs, CL_FSCONFIG_SET_FLAG, o, NULL, 0);
		}
	}
	free(copy);
	return r;
}

int cl_mount_fs(const char *type, const char *source, unsigned long flags, const char *data,
		const char *dest, struct cl_err *e)
{
	int fs = (int)syscall(SYS_fsopen, type, CL_FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return cl_error(e, errno, "mount %s on %s", type, dest);
	/* filesystems without a source ignore it */
	if (syscall(SYS_fsconfig, fs, CL_FSCONFIG_SET_STRING, "source", source ? source : type, 0) <
		0 ||
	    configure(fs, flags, data) < 0 ||
	    syscall(SYS_fsconfig, fs, CL_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mnt = (int)syscall(SYS_fsmount, fs, CL_FSMOUNT_CLOEXEC, cl_mount_attrs(flags))) < 0)
		cl_error(e, errno, "mount %s on %s", type, dest);
	close(fs);
	return mnt;
}

static int mnt_id(int fd, uint64_t *id)
{
	struct statx stx;

	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return -1;
	if (!(stx.stx_mask & STATX_MNT_ID)) {
		errno = ENOSYS;
		return -1;
	}
	*id = stx.stx_mnt_id;
	return 0;
}

int cl_mount_attach(int mnt, int target, int rootfd, const char *rel, const char *dest,
		    struct cl_err *e)
{
	uint64_t want, got;
	int fd;

	if (syscall(SYS_move_mount, mnt, "", target, "",
		    CL_MOVE_MOUNT_F_EMPTY_PATH | CL_MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return cl_error(e, errno, "attach the mount on %s", dest);
	if (rootfd < 0)
		return 0;
	/* The path, looked up again beneath the root, must lead to this very
	 * mount: nothing moved the target away while it was mounted. */
	fd = cl_root_openat(rootfd, rel, O_PATH | O_NOFOLLOW, true);
	if (fd < 0)
		return cl_error(e, errno, "check the mount on %s", dest);
	if (mnt_id(mnt, &want) < 0 || mnt_id(fd, &got) < 0) {
		int err = errno;
		close(fd);
		return cl_error(e, err, "check the mount on %s", dest);
	}
	close(fd);
	if (want != got)
		return cl_error(e, 0, "the mount on %s was moved while it was made", dest);
	return 0;
}

int cl_node_check(int fd, mode_t type, dev_t rdev, const char *what, struct cl_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return cl_error(e, errno, "stat %s", what);
	if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != rdev))
		return cl_error(e, 0, "%s is not the device %u:%u", what, major(rdev), minor(rdev));
	return 0;
}

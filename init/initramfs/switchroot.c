/*
 * switchroot.c: the verified root becomes /, as the kernel itself makes it
 * on a disk's boot, and its /sbin/init runs as PID 1.
 *
 * The initramfs (a tmpfs the kernel unpacked) stays underneath, out of
 * reach: ROOT's file in it is what loop0 reads. /dev moves along (PID 1
 * finds the devtmpfs mounted, as the kernel leaves it on a disk's boot);
 * /proc is unmounted (PID 1 mounts its own).
 */
#include "initramfs.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT_NODE "/dev/wisp-initramfs-root"

static int mount_root(dev_t dev, struct err *e)
{
	int ret = 0;

	if (mknod(ROOT_NODE, S_IFBLK | 0400, dev) < 0)
		return err_set(e, errno, "mknod %s", ROOT_NODE);
	if (mount(ROOT_NODE, INITRAMFS_SYSROOT, "erofs", MS_RDONLY, NULL) < 0)
		ret = err_set(e, errno, "mount the verified root (erofs) on %s", INITRAMFS_SYSROOT);
	unlink(ROOT_NODE); /* the mount holds the device, not the node */
	return ret;
}

int switch_root(dev_t dev, char **argv, struct err *e)
{
	if (mount_root(dev, e) < 0)
		return -1;
	if (mount("/dev", INITRAMFS_SYSROOT "/dev", NULL, MS_MOVE, NULL) < 0)
		return err_set(e, errno, "move /dev to %s/dev", INITRAMFS_SYSROOT);
	if (umount2("/proc", MNT_DETACH) < 0)
		return err_set(e, errno, "unmount /proc");
	if (chdir(INITRAMFS_SYSROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		return err_set(e, errno, "make %s the root", INITRAMFS_SYSROOT);
	argv[0] = "/sbin/init";
	execv(argv[0], argv);
	return err_set(e, errno, "exec /sbin/init of the verified root");
}

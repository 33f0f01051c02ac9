/*
 * loopdev.c: ROOT's file in the initramfs as loop0, read-only.
 *
 * The kernel makes no loop device at boot (netboot.config: a disk's boot
 * would have one more device to probe), so loop0 is added through
 * /dev/loop-control; the slot's table on the command line names it 7:0.
 * LOOP_CONFIGURE sets the file and the flags in one call (Linux 5.8).
 */
#include "initramfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOOP_MAJOR 7

/* loop0's node: devtmpfs makes it as the device appears; mknod if it has not. */
static int open_loop0(struct err *e)
{
	int fd = open("/dev/loop0", O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT &&
	    mknod("/dev/loop0", S_IFBLK | 0600, makedev(LOOP_MAJOR, 0)) == 0)
		fd = open("/dev/loop0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		err_set(e, errno, "open /dev/loop0");
	return fd;
}

int loop_attach(const char *file, struct err *e)
{
	struct loop_config cfg;
	int ctl, loop = -1, back = -1, ret = -1;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0)
		return err_set(e, errno, "open /dev/loop-control");
	if (ioctl(ctl, LOOP_CTL_ADD, 0) < 0) {
		err_set(e, errno, "add loop0");
		goto out;
	}
	if ((back = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		err_set(e, errno, "open %s", file);
		goto out;
	}
	if ((loop = open_loop0(e)) < 0)
		goto out;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)back;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY;
	memcpy(cfg.info.lo_file_name, file, strlen(file) + 1);
	if (ioctl(loop, LOOP_CONFIGURE, &cfg) < 0)
		err_set(e, errno, "loop0 over %s", file);
	else
		ret = 0;
out:
	if (loop >= 0)
		close(loop);
	if (back >= 0)
		close(back);
	close(ctl);
	return ret;
}

/*
 * loopdev.c: a file as a loop device, for the two programs that need one: the
 * initramfs (ROOT's file as loop0, read-only) and PID 1 on a live medium (the
 * store's ext4 in RAM, read-write, on a free device).
 *
 * The kernel makes no loop device at boot (netboot.config: a disk's boot would
 * have one more device to probe), so one is added, or found free, through
 * /dev/loop-control. LOOP_CONFIGURE sets the file and the flags in one call
 * (Linux 5.8).
 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOOP_MAJOR 7

/* Device nr added (nr >= 0) or a free one found (nr < 0): its number, its path in dev. */
static int loop_number(int ctl, int nr, char *dev, size_t len, struct err *e)
{
	int got = nr < 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : ioctl(ctl, LOOP_CTL_ADD, nr);

	if (got < 0)
		return nr < 0 ? err_set(e, errno, "a free loop device")
			      : err_set(e, errno, "add loop%d", nr);
	snprintf(dev, len, "/dev/loop%d", got);
	return got;
}

int loop_attach(const char *file, int nr, bool read_only, char *dev, size_t len, struct err *e)
{
	struct loop_config cfg;
	int ctl, loop = -1, back = -1, ret = -1;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0)
		return err_set(e, errno, "open /dev/loop-control");
	if ((nr = loop_number(ctl, nr, dev, len, e)) < 0)
		goto out;
	/* devtmpfs makes the node as the device appears; mknod if it has not yet */
	if ((loop = open(dev, O_RDWR | O_CLOEXEC)) < 0 && errno == ENOENT &&
	    mknod(dev, S_IFBLK | 0600, makedev(LOOP_MAJOR, (unsigned)nr)) == 0)
		loop = open(dev, O_RDWR | O_CLOEXEC);
	if (loop < 0 || (back = open(file, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0) {
		err_set(e, errno, "open %s", loop < 0 ? dev : file);
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)back;
	cfg.info.lo_flags = read_only ? LO_FLAGS_READ_ONLY : 0;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", file);
	if (ioctl(loop, LOOP_CONFIGURE, &cfg) < 0)
		err_set(e, errno, "%s over %s", dev, file);
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

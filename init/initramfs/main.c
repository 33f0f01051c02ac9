/*
 * main.c: /init of a netboot initramfs (initramfs.h). The kernel runs it as
 * PID 1 with the initramfs as its root; it leaves by exec'ing ROOT's
 * /sbin/init, or, failing, by exiting: the kernel panics after the line
 * that says why, and panic= restarts the machine for another try.
 */
#include "initramfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

static int api_mounts(struct err *e)
{
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0 &&
	    errno != EBUSY)
		return err_set(e, errno, "mount devtmpfs on /dev");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_set(e, errno, "mount proc on /proc");
	return 0;
}

static int root_spec(struct dm_spec *s, struct err *e)
{
	static char line[4096], val[1024];

	if (read_text("/proc/cmdline", line, sizeof(line), e) < 0)
		return -1;
	if (cmdline_get(line, INITRAMFS_DM_KEY, val, sizeof(val)) < 0)
		return err_set(e, 0, "no " INITRAMFS_DM_KEY "= on the kernel command line");
	return dm_spec_parse(val, s, e);
}

int main(int argc, char **argv)
{
	struct dm_spec spec;
	char loop[16]; /* /dev/loop0: the table on the command line names 7:0 */
	struct err e;
	dev_t dev;

	(void)argc;
	/* ROOT carries this program for image-builder; run there, it would mount over
	 * the running host's /proc before finding no table */
	if (getpid() != 1) {
		fprintf(stderr, "initramfs-init: not PID 1: this is a network boot's /init "
				"(docs/image-spec.md, \"Network boot\")\n");
		return 2;
	}
	log_set_ident("initramfs");
	if (api_mounts(&e) < 0 || root_spec(&spec, &e) < 0 ||
	    loop_attach(INITRAMFS_ROOT_FILE, 0, true, loop, sizeof(loop), &e) < 0 ||
	    dm_make(&spec, &dev, &e) < 0)
		goto fail;
	log_msg(LOG_INFO, "root %s (%s) over loop0, switching to it", spec.name, spec.target);
	switch_root(dev, argv, &e);
fail:
	log_msg(LOG_CRIT, "no verified root: %s", e.msg);
	return EXIT_FAILURE;
}

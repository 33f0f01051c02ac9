/*
 * livestore.c: /var/lib/wisp on a live boot, an ext4 in RAM.
 *
 * A live boot (the ISO, the network boot) has /var on a tmpfs, and Linux 6.1's tmpfs
 * cannot be idmapped: a container in a user namespace of its own (userns: auto, the
 * default) sees the image store's layers through idmapped mounts, so on a tmpfs it
 * could not start ("tmpfs cannot be idmapped by this kernel"). /var/lib/wisp (the
 * store, the containers' uppers, the id ranges) is therefore an ext4 on a loop device
 * over a sparse file in that tmpfs: the empty file system image-builder puts into
 * ROOT (verified with it) is copied, holes left as holes, grown to three quarters of
 * the tmpfs's size by resize2fs, and mounted with discard, so that RAM is taken as the
 * store writes and given back as it deletes. The quarter left is the rest of /var's
 * (logs, /var/lib/cloud): a store grown to the whole tmpfs filled it when full, and its
 * own ext4 then met I/O errors from the loop device, with the logs' writes refused.
 * Nothing here reads bytes from outside ROOT.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIVE_STORE_FS "/usr/share/wisp/live-store.ext4" /* image-builder/live.c */
#define LIVE_FILE     "/var/lib/wisp.ext4"
#define LIVE_DIR      "/var/lib/wisp"
#define RESIZE2FS     "/sbin/resize2fs"

static bool all_zero(const char *p, size_t n)
{
	while (n > 0 && p[n - 1] == 0)
		n--;
	return n == 0;
}

/* src into a new dst of size bytes: blocks of zeros are left as holes. The buffer is on
 * the stack: a static one would stay in PID 1's resident memory for good. */
static int copy_sparse(const char *src, const char *dst, off_t size, struct err *e)
{
	char buf[16384];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = -1;
	off_t at = 0;
	ssize_t n;

	if (in < 0)
		return err_set(e, errno, "open %s", src);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		err_set(e, errno, "create %s", dst);
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (!all_zero(buf, (size_t)n) && pwrite(out, buf, (size_t)n, at) != n) {
			err_set(e, errno, "write %s", dst);
			goto out;
		}
		at += n;
	}
	if (n < 0)
		err_set(e, errno, "read %s", src);
	else if (ftruncate(out, size > at ? size : at) < 0)
		err_set(e, errno, "truncate %s", dst);
	else
		ret = 0;
out:
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

static int grow(const char *file, struct err *e)
{
	char *argv[] = {RESIZE2FS, (char *)file, NULL};
	int st = state_run(argv);

	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(e, 0, "%s %s failed (status %d; its output: /run/wisp/storage.log)",
			       RESIZE2FS, file, st);
	return 0;
}

void live_store(void)
{
	struct statvfs vfs;
	char dev[32] = "";
	struct err e;
	off_t size;

	if (access(LIVE_STORE_FS, F_OK) < 0)
		return; /* a ROOT of an older builder: the store stays on the tmpfs */
	if (statvfs("/var", &vfs) < 0) {
		err_set(&e, errno, "statvfs /var");
		goto fail;
	}
	size = (off_t)vfs.f_blocks * (off_t)vfs.f_frsize / 4 * 3;
	if (mkdir_p(LIVE_DIR, 0755, &e) < 0 ||
	    copy_sparse(LIVE_STORE_FS, LIVE_FILE, size, &e) < 0 || grow(LIVE_FILE, &e) < 0 ||
	    loop_attach(LIVE_FILE, -1, false, dev, sizeof(dev), &e) < 0)
		goto fail;
	if (mount(dev, LIVE_DIR, "ext4", MS_NOSUID | MS_NODEV, "discard,noinit_itable") < 0) {
		err_set(&e, errno, "mount %s on %s", dev, LIVE_DIR);
		goto fail;
	}
	log_msg(LOG_INFO, "live medium: %s is an ext4 in RAM (%s), for idmapped image layers",
		LIVE_DIR, dev);
	return;
fail:
	log_msg(LOG_ERR,
		"live medium: %s stays on the tmpfs, where containers in a user "
		"namespace cannot start: %s",
		LIVE_DIR, e.msg);
}

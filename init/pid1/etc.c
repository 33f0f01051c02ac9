/*
 * etc.c: a writable /etc for this boot only.
 *
 * ROOT's /etc is read-only (erofs). Programs still expect to write a few
 * files there (resolv.conf from DHCP, hosts, passwd changes), so init
 * mounts an overlay on /etc whose upper layer is on /run's tmpfs: writes
 * land in memory and are gone at the next boot, so a host comes back the
 * same after a reboot. /etc/hosts and resolv.conf's placeholder are in
 * ROOT (image-builder writes them from the spec, lib/etcfiles.c): init
 * writes them only for a root that lacks them, off a normal boot's
 * critical path (each first write to the overlay cost ~10 ms under TCG).
 */
#include "pid1.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define ETC_RUN	  "/run/wisp/etc"
#define ETC_UPPER ETC_RUN "/upper"
#define ETC_WORK  ETC_RUN "/work"

/* Write the whole file under a temporary name, then rename: never half a file. (No
 * fsync: the upper layer is tmpfs, gone at the next boot whatever happens.) */
static int replace(const char *path, const char *text, size_t len, struct err *e)
{
	char tmp[256];

	if (fmt_path(tmp, sizeof(tmp), "%s.init-new", path) < 0)
		return err_set(e, ENAMETOOLONG, "%s", path);
	if (write_file(tmp, text, len, 0644, e) < 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		err_set(e, errno, "rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int overlay(struct err *e)
{
	if (mkdir_p(ETC_UPPER, 0755, e) < 0 || mkdir_p(ETC_WORK, 0755, e) < 0)
		return -1;
	/* lowerdir is resolved before the mount covers /etc: the overlay sits on ROOT's /etc. */
	if (mount("overlay", "/etc", "overlay", MS_NOSUID | MS_NODEV,
		  "lowerdir=/etc,upperdir=" ETC_UPPER ",workdir=" ETC_WORK) < 0)
		return err_set(e, errno, "mount overlay on /etc");
	return 0;
}

static bool missing(const char *path)
{
	return access(path, F_OK) < 0 && errno == ENOENT;
}

static void render_missing(void)
{
	char text[256], name[80] = "wisp", hosts[512];
	struct err e;
	int n;

	if (missing("/etc/resolv.conf") && replace("/etc/resolv.conf", etc_resolv_placeholder,
						   strlen(etc_resolv_placeholder), &e) < 0)
		log_err(&e);
	if (!missing("/etc/hosts"))
		return;
	if (read_text("/etc/hostname", text, sizeof(text), &e) >= 0)
		hostname_parse(text, name, sizeof(name)); /* invalid: keeps "wisp", as hostname.c */
	n = etc_hosts_render(name, hosts, sizeof(hosts));
	if (n < 0 || replace("/etc/hosts", hosts, (size_t)n, &e) < 0) {
		if (n < 0)
			err_set(&e, ENAMETOOLONG, "render /etc/hosts");
		log_err(&e);
	}
}

void etc_setup(void)
{
	struct err e;

	if (overlay(&e) < 0) {
		log_msg(LOG_ERR, "%s; /etc stays read-only this boot", e.msg);
		return;
	}
	render_missing();
	log_msg(LOG_INFO, "/etc is writable for this boot (overlay on %s)", ETC_UPPER);
}

/*
 * mounts.c: the kernel's API filesystems, ROOT's read-ahead, and letting go of /var.
 *
 * The root is a read-only erofs in which every mount point already
 * exists; init never creates anything in it. Below /dev (a devtmpfs,
 * writable) it creates what devtmpfs does not provide.
 */
#include "pid1.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct mnt {
	const char *src, *dir, *type;
	unsigned long flags;
	const char *data;
};

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* Before the console: /dev holds the console, /proc tells log.c the console log level. */
static const struct mnt early[] = {
    /* The kernel may have mounted it already (DEVTMPFS_MOUNT): EBUSY is fine. */
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"},
    {"proc", "/proc", "proc", NOSUID_NODEV_NOEXEC, NULL},
};

static const struct mnt later[] = {
    {"sysfs", "/sys", "sysfs", NOSUID_NODEV_NOEXEC, NULL},
    /* the TPM's event log of the measured boot (tpm0/), the lockdown state */
    {"securityfs", "/sys/kernel/security", "securityfs", NOSUID_NODEV_NOEXEC, NULL},
    /* gid 5 = tty: what ptys get, so that `write`/`mesg` conventions hold. */
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=0666"},
    {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    /* nsdelegate: a cgroup namespace is a delegation boundary (containers later). */
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", NOSUID_NODEV_NOEXEC, "nsdelegate"},
};

/* Its mount point exists only on a UEFI boot. Read-only: a write can brick
 * some firmware (an rm -r of it did); who changes a variable remounts it. */
static const struct mnt efivars = {"efivarfs", "/sys/firmware/efi/efivars", "efivarfs",
				   NOSUID_NODEV_NOEXEC | MS_RDONLY, NULL};

/* Links that programs expect in /dev and devtmpfs does not make. */
static const char *const dev_links[][2] = {
    {"/proc/self/fd", "/dev/fd"},
    {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"},
    {"/proc/self/fd/2", "/dev/stderr"},
};

static struct err early_err[ARRAY_LEN(early)];
static bool early_failed[ARRAY_LEN(early)];

static int mount_one(const struct mnt *m, struct err *e)
{
	if (mount(m->src, m->dir, m->type, m->flags, m->data) == 0)
		return 0;
	if (errno == EBUSY)
		return 0; /* already there: the kernel or a previous step did it */
	return err_set(e, errno, "mount %s on %s", m->type, m->dir);
}

void mounts_early(void)
{
	for (size_t i = 0; i < ARRAY_LEN(early); i++)
		early_failed[i] = mount_one(&early[i], &early_err[i]) < 0;
}

/* Mount points inside /dev live on the devtmpfs, not on the read-only root. */
static void dev_dirs(void)
{
	static const char *const dirs[] = {"/dev/pts", "/dev/shm"};
	struct err e;

	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		if (mkdir_p(dirs[i], 0755, &e) < 0)
			log_err(&e);
	for (size_t i = 0; i < ARRAY_LEN(dev_links); i++)
		if (symlink(dev_links[i][0], dev_links[i][1]) < 0 && errno != EEXIST) {
			err_set(&e, errno, "symlink %s", dev_links[i][1]);
			log_err(&e);
		}
}

/*
 * ROOT's read-ahead, raised from the kernel's 128 KiB: a program's first page
 * fault then reads all of a binary up to 1 MiB (the read-around is centred on
 * the fault), one I/O that dm-verity checks and erofs decompresses at once,
 * instead of one round trip for every 128 KiB a program touches on its way to
 * main(). The first unit's exec came ~10% sooner under TCG (bench/RESULTS.md).
 */
#define ROOT_READAHEAD_KB "2048"

static void root_readahead(void)
{
	char path[80];
	struct stat st;
	struct err e;

	if (stat("/", &st) < 0)
		return; /* cannot happen: init runs from it */
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	/* ENOENT: not a block device's file system (none of Wisp's images) */
	if (write_value(path, ROOT_READAHEAD_KB, &e) < 0 && e.num != ENOENT)
		log_msg(LOG_WARNING, "%s; ROOT keeps the kernel's read-ahead", e.msg);
}

void mounts_setup(void)
{
	struct err e;

	for (size_t i = 0; i < ARRAY_LEN(early); i++)
		if (early_failed[i])
			log_err(&early_err[i]);
	dev_dirs();
	for (size_t i = 0; i < ARRAY_LEN(later); i++)
		if (mount_one(&later[i], &e) < 0)
			log_err(&e);
	root_readahead();
	if (access(efivars.dir, F_OK) == 0 && mount_one(&efivars, &e) < 0)
		log_err(&e);
	/* before /var, users' homes and user-data are touched */
	sysctl_setup("/proc/sys");
}

/* /proc/mounts escapes blanks and backslashes as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static bool at_or_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Read-only first: a remount reaches the file system itself, which ext4 then
 * marks clean, even where a mount of it lives on after ours goes (root's bind
 * of a directory of /var elsewhere, another mount namespace's copy torn down
 * late): umount alone drops only this mount, and would leave STATE's journal
 * to be recovered at the next boot.
 */
static void release_one(const char *dir)
{
	struct err e;
	bool ro = mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0;

	if (!ro && errno != EINVAL) { /* EINVAL: not a mount point */
		err_set(&e, errno, "remount %s read-only", dir);
		log_err(&e);
	}
	if (umount2(dir, 0) == 0) {
		log_msg(LOG_INFO, "unmounted %s", dir);
		return;
	}
	if (errno == EINVAL || errno == ENOENT)
		return; /* not a mount point (any more) */
	/* Busy: something still holds a file open; read-only, it is clean all the same. */
	err_set(&e, errno, "unmount %s", dir);
	if (ro)
		log_msg(LOG_WARNING, "%s; left read-only", e.msg);
	else
		log_msg(LOG_CRIT, "%s: it will be checked at next boot", e.msg);
}

void mounts_release(const char *dir)
{
	char line[4096], *mnts[64];
	size_t n = 0;
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f) {
		release_one(dir); /* no /proc: try the one we know about */
		return;
	}
	/* "src dir type opts 0 0"; later lines are mounted on top of earlier ones. */
	while (n < ARRAY_LEN(mnts) && fgets(line, sizeof(line), f)) {
		char *dirp = strchr(line, ' ');
		if (!dirp)
			continue;
		dirp++;
		dirp[strcspn(dirp, " ")] = '\0';
		unescape(dirp);
		if (at_or_below(dirp, dir) && (mnts[n] = strdup(dirp)))
			n++;
	}
	fclose(f);
	while (n > 0) {
		release_one(mnts[--n]);
		free(mnts[n]);
	}
}

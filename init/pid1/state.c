/*
 * state.c: the STATE partition, Wisp's only writable storage, on /var.
 *
 * It is looked up by GPT name on the disk the root came from, so that a
 * second Wisp disk attached to the machine (or a stray disk with its own
 * STATE) is never mounted by mistake. On the first boot of a disk larger
 * than the image it is grown to fill the disk (grow.c, then an online
 * resize2fs). It is checked before it is mounted, by e2fsck only when its
 * superblock says that e2fsck -p would check it (fsclean.c): a clean
 * STATE costs the boot one read, not a fork and a wait. A STATE that e2fsck
 * cannot repair is never reformatted (it holds the only copy of the
 * host's data): it is mounted read-only on /run/wisp/state for rescue,
 * /var becomes a tmpfs, and the console says so loudly. The host still
 * comes up, reachable and fixable. A boot from the live CD (wisp.live=1)
 * looks for no STATE: /var is a tmpfs, said once.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STATE_LABEL  "STATE"
#define STATE_DIR    "/var"
#define STATE_RESCUE "/run/wisp/state"
#define E2FSCK	     "/sbin/e2fsck"
#define STORAGE_LOG  "/run/wisp/storage.log" /* what e2fsck and resize2fs print (run()) */
#define RESIZE2FS    "/sbin/resize2fs"
/* ext4's blocks reserved for root (mke2fs's 5 %) go to uid resuid (0 by default) and to holders
 * of CAP_SYS_RESOURCE. A container's writes into its root reach ext4 with the overlay mounter's
 * credentials, uid 0 less CAP_SYS_RESOURCE (the kernel drops it there, "never use reserved
 * space"), so with the default resuid a container in a user namespace of its own took the
 * reserve too and PID 1 could write no log. A resuid no process has leaves it to PID 1 and
 * root's programs (logs, provisioning, the store): docs/security.md. (uid_t)-2: -1 is no uid. */
#define STATE_OPTS "resuid=4294967294"

enum fsck_result { FSCK_OK, FSCK_BROKEN, FSCK_NOT_RUN };

/* Run a tool to the end; boot waits, since nothing else runs yet. Returns its wait status or -1.
 * Its output goes to STORAGE_LOG, not to the console: resize2fs's banner and counts landed in
 * the console shell's line at every live boot, and e2fsck names what it repairs by file
 * names a container chose (init's own lines say what ran and how it ended). */
static int run(char *const argv[])
{
	char *envp[] = {"PATH=/sbin:/usr/sbin:/bin:/usr/bin", NULL};
	struct spawn_req r = {.argv = argv, .envp = envp, .nice = BOOT_NICE, .wait_exec = true};
	int out = open(STORAGE_LOG, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	char why[256];
	size_t len = 0;
	struct err e;
	int report, st;
	pid_t pid;

	r.out_fd = out > 2 ? out : 0; /* else the console, as before */
	pid = spawn(&r, &report, &e);
	if (out >= 0)
		close(out);
	if (pid < 0) {
		log_msg(LOG_ERR, "%s: %s", STATE_LABEL, e.msg);
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			err_set(&e, errno, "wait for %s", argv[0]);
			log_err(&e);
			close(report);
			return -1;
		}
	}
	/* The child is gone, so whatever it had to report is in the pipe. */
	spawn_read_report(report, why, sizeof(why), &len);
	close(report);
	if (len > 0) {
		log_msg(LOG_ERR, "%s: %s", STATE_LABEL, why);
		return -1;
	}
	return st;
}

int state_run(char *const argv[])
{
	return run(argv);
}

static void shout(const char *fmt, const char *dev, int code)
{
	log_msg(LOG_CRIT, "****************************************************************");
	log_msg(LOG_CRIT, fmt, dev, code);
	log_msg(LOG_CRIT, "%s is NOT reformatted; it is mounted read-only on %s (if it mounts)",
		STATE_LABEL, STATE_RESCUE);
	log_msg(LOG_CRIT, "%s is a tmpfs this boot: NOTHING written there will persist", STATE_DIR);
	log_msg(LOG_CRIT, "****************************************************************");
}

static enum fsck_result fsck(const char *dev)
{
	char *argv[] = {E2FSCK, "-p", (char *)dev, NULL};
	char why[64];
	struct err e;
	int st, code;

	switch (ext4_needs_check(dev, (int64_t)time(NULL), why, sizeof(why), &e)) {
	case 0:
		log_msg(LOG_INFO, "%s %s: clean, not checked (superblock)", STATE_LABEL, dev);
		return FSCK_OK;
	case 1:
		log_msg(LOG_NOTICE, "%s %s: %s: running %s", STATE_LABEL, dev, why, E2FSCK);
		break;
	default:
		log_msg(LOG_WARNING, "%s: %s: running %s", STATE_LABEL, e.msg, E2FSCK);
		break;
	}
	st = run(argv);
	if (st < 0)
		return FSCK_NOT_RUN;
	if (WIFSIGNALED(st)) {
		log_msg(LOG_CRIT, "%s: %s %s killed by signal %d", STATE_LABEL, E2FSCK, dev,
			WTERMSIG(st));
		return FSCK_NOT_RUN;
	}
	code = WEXITSTATUS(st);
	if (code >= 4) {
		shout("STATE: e2fsck -p %s left errors uncorrected (status %d); its "
		      "output: " STORAGE_LOG,
		      dev, code);
		return FSCK_BROKEN;
	}
	if (code & 2)
		log_msg(LOG_WARNING,
			"%s: %s %s corrected errors and asks for a reboot (status %d; "
			"which: " STORAGE_LOG ")",
			STATE_LABEL, E2FSCK, dev, code);
	else if (code & 1)
		log_msg(LOG_NOTICE, "%s: %s %s corrected errors (which: " STORAGE_LOG ")",
			STATE_LABEL, E2FSCK, dev);
	return FSCK_OK;
}

/* /var on a tmpfs: the system runs, nothing persists. */
static bool tmpfs_var(void)
{
	struct err e;

	if (mount("tmpfs", STATE_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
		err_set(&e, errno, "mount tmpfs on %s", STATE_DIR);
		log_err(&e);
		return false;
	}
	return true;
}

static void var_tmpfs(void)
{
	if (tmpfs_var())
		log_msg(LOG_WARNING, "%s is a tmpfs: nothing written there survives a reboot",
			STATE_DIR);
}

static void rescue_mount(const char *dev)
{
	struct err e;
	int r = mkdir_p(STATE_RESCUE, 0700, &e);

	if (r == 0 && mount(dev, STATE_RESCUE, "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "noload") < 0) /* noload: do not replay the journal onto a damaged fs */
		r = err_set(&e, errno, "mount %s read-only on %s", dev, STATE_RESCUE);
	if (r < 0) {
		log_msg(LOG_CRIT, "%s: %s; left unmounted", STATE_LABEL, e.msg);
		return;
	}
	log_msg(LOG_CRIT, "%s %s mounted read-only on %s for rescue", STATE_LABEL, dev,
		STATE_RESCUE);
}

/* A number from a sysfs file of the partition, e.g. "start" or "partition". */
static int part_attr(const char *part, const char *attr, uint64_t *v)
{
	char path[256], text[32];
	struct err e;

	if (fmt_path(path, sizeof(path), "/sys/class/block/%s/%s", part, attr) < 0 ||
	    read_text(path, text, sizeof(text), &e) < 0)
		return -1;
	return dec_scan(text, v) ? 0 : -1;
}

/* "vda" for "vda5": the directory that holds the partition's in sysfs. */
static int disk_name(const char *part, char *disk, size_t size)
{
	char path[256], real[4096], *slash, *base;

	if (fmt_path(path, sizeof(path), "/sys/class/block/%s", part) < 0 ||
	    sysfs_resolve(path, real, sizeof(real)) < 0)
		return -1;
	if (!(slash = strrchr(real, '/')))
		return -1;
	*slash = '\0';
	base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	return fmt_path(disk, size, "%s", base);
}

/* Tell the kernel the partition's new size (it keeps the old table until told). */
static int kernel_resize(int fd, uint64_t pno, uint64_t start, uint64_t end, struct err *e)
{
	struct blkpg_partition p = {.start = (long long)(start * 512),
				    .length = (long long)((end - start + 1) * 512),
				    .pno = (int)pno};
	struct blkpg_ioctl_arg a = {.op = BLKPG_RESIZE_PARTITION, .datalen = sizeof(p), .data = &p};

	if (ioctl(fd, BLKPG, &a) < 0)
		return err_set(e, errno, "BLKPG_RESIZE_PARTITION %llu", (unsigned long long)pno);
	return 0;
}

/* Grow STATE to the end of its disk if the disk grew. Returns true if it did. */
static bool grow_partition(const char *part)
{
	char disk[64], dev[96];
	uint64_t pno, start, size, end = 0;
	struct err e;
	bool grown = false;
	int fd, ret;

	if (disk_name(part, disk, sizeof(disk)) < 0 || part_attr(part, "partition", &pno) < 0 ||
	    part_attr(part, "start", &start) < 0) {
		log_msg(LOG_ERR, "%s: cannot tell the disk of %s from sysfs; not grown",
			STATE_LABEL, part);
		return false;
	}
	snprintf(dev, sizeof(dev), "/dev/%s", disk);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		err_set(&e, errno, "open %s", dev);
		goto fail;
	}
	ret = gpt_grow(fd, size, (unsigned)pno, &end, &e);
	if (ret < 0 || (ret == 1 && kernel_resize(fd, pno, start, end, &e) < 0))
		goto fail;
	if (ret == 1) {
		log_msg(LOG_NOTICE, "%s /dev/%s grown to %llu MiB (end of %s)", STATE_LABEL, part,
			(unsigned long long)((end - start + 1) / 2048), dev);
		grown = true;
	}
	close(fd);
	return grown;
fail:
	log_msg(LOG_ERR, "%s: grow: %s", STATE_LABEL, e.msg);
	if (fd >= 0)
		close(fd);
	return false;
}

static void resize_fs(const char *dev)
{
	char *argv[] = {RESIZE2FS, (char *)dev, NULL};
	int st = run(argv);

	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		log_msg(LOG_ERR,
			"%s: %s %s failed (status %d, its output in %s); the file system keeps "
			"its size",
			STATE_LABEL, RESIZE2FS, dev, st, STORAGE_LOG);
	else
		log_msg(LOG_NOTICE, "%s: file system on %s grown to fill the partition",
			STATE_LABEL, dev);
}

/* Bytes of the ext4 file system on dev, from its superblock; 0 if unreadable. */
static uint64_t fs_bytes(const char *dev)
{
	unsigned char sb[1024];
	uint64_t blocks;
	uint32_t log;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, sb, sizeof(sb), 1024);

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(sb) || sb[0x38] != 0x53 || sb[0x39] != 0xef)
		return 0;
	/* Little-endian fields: s_blocks_count_lo, _hi (64bit feature), s_log_block_size. */
	blocks =
	    (uint64_t)sb[4] | (uint64_t)sb[5] << 8 | (uint64_t)sb[6] << 16 | (uint64_t)sb[7] << 24;
	if (sb[0x60] & 0x80)
		blocks |= ((uint64_t)sb[0x150] | (uint64_t)sb[0x151] << 8 |
			   (uint64_t)sb[0x152] << 16 | (uint64_t)sb[0x153] << 24)
			  << 32;
	log = sb[0x18];
	return log > 6 ? 0 : blocks << (10 + log);
}

/*
 * Does the file system fall short of its partition by a MiB or more? Asked
 * at every boot, not only after a grow: a boot cut between the GPT grow
 * and resize2fs would otherwise leave it short for good.
 */
static bool fs_short(const char *dev, const char *part)
{
	uint64_t sectors, bytes = fs_bytes(dev);

	return bytes && part_attr(part, "size", &sectors) == 0 &&
	       bytes + (1u << 20) <= sectors * 512;
}

static void mount_state(void)
{
	char name[128], dev[160];
	struct stat st;
	struct err e;
	bool grown;

	if (stat("/", &st) < 0) {
		err_set(&e, errno, "stat /");
		log_msg(LOG_ERR, "%s: %s", STATE_LABEL, e.msg);
		var_tmpfs();
		return;
	}
	if (sysfs_find_partition("/sys", st.st_dev, STATE_LABEL, name, sizeof(name), &e) < 0) {
		log_err(&e);
		var_tmpfs();
		return;
	}
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	grown = grow_partition(name);
	if (fsck(dev) == FSCK_BROKEN) {
		rescue_mount(dev);
		var_tmpfs();
		return;
	}
	if (mount(dev, STATE_DIR, "ext4", MS_NOSUID | MS_NODEV, STATE_OPTS) < 0) {
		err_set(&e, errno, "mount %s on %s", dev, STATE_DIR);
		log_msg(LOG_CRIT, "%s: %s", STATE_LABEL, e.msg);
		var_tmpfs();
		return;
	}
	log_msg(LOG_INFO, "%s %s mounted on %s", STATE_LABEL, dev, STATE_DIR);
	if (grown || fs_short(dev, name))
		resize_fs(dev);
}

/*
 * What programs expect under /var (the FHS), made at every boot when
 * missing: a new STATE holds only what image-builder put there, a tmpfs
 * /var nothing. One that exists keeps its mode (the administrator's
 * choice). /var itself is root's alone: no user can plant a link here.
 * /var/lib/wisp is Wisp's own (userns.c, the image store): a tmpfs /var
 * (the live CD) has none.
 */
static void var_dirs(void)
{
	static const struct {
		const char *path;
		mode_t mode;
	} dirs[] = {{"/var/tmp", 01777},  {"/var/lib", 0755},	{"/var/lib/wisp", 0755},
		    {"/var/cache", 0755}, {"/var/spool", 0755}, {"/var/log", 0755}};
	struct err e;

	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		if (mkdir(dirs[i].path, dirs[i].mode) < 0) {
			if (errno != EEXIST) {
				err_set(&e, errno, "mkdir %s", dirs[i].path);
				log_err(&e);
			}
			continue;
		}
		/* mkdir(2) applies the umask: the sticky, world-writable mode needs chmod. */
		if (chmod(dirs[i].path, dirs[i].mode) < 0) {
			err_set(&e, errno, "chmod %s", dirs[i].path);
			log_err(&e);
		}
	}
}

void state_setup(bool live)
{
	/* the live CD (docs/image-spec.md): no STATE by design, not a failure to shout */
	if (!live)
		mount_state();
	else if (tmpfs_var())
		log_msg(LOG_NOTICE, "live medium: %s is a tmpfs", STATE_DIR);
	var_dirs();
	if (live)
		live_store(); /* livestore.c: on ext4, which can be idmapped */
}

/*
 * lock.c: one updater at a time on the slots.
 *
 * apply, rollback, mark-good and watch's fallback each load grubenv, change it
 * and store it whole, and apply writes the other slot's kernel and partition:
 * two at once would write the same vmlinuz.new and ROOT-X, or one would store
 * a grubenv that undoes the other's. So each holds an flock on LOCK_FILE from
 * its load to its store (apply: for the whole apply). The lock lives in /run
 * (shared by every mount namespace, gone at reboot), not on the ESP, which
 * each process mounts in a namespace of its own. It goes with the process
 * (and its descriptor is close-on-exec: the fetcher does not keep it).
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int lock_fd = -1;

int upd_run_dir(struct err *e)
{
	struct stat st;

	if (mkdir_p(LOCK_DIR, 0700, e) < 0)
		return -1;
	if (lstat(LOCK_DIR, &st) < 0)
		return err_set(e, errno, "stat %s", LOCK_DIR);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return err_set(e, 0, "%s: not a directory of root's", LOCK_DIR);
	if ((st.st_mode & 07777) != 0700 && chmod(LOCK_DIR, 0700) < 0)
		return err_set(e, errno, "chmod %s", LOCK_DIR);
	return 0;
}

/* Ours alone: root's directory, no symlink, a regular file of root's. */
static int lock_open(struct err *e)
{
	struct stat st;
	int fd;

	if (upd_run_dir(e) < 0)
		return -1;
	fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return err_set(e, errno, "open %s", LOCK_FILE);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return err_set(e, 0, "%s: not a regular file of root's", LOCK_FILE);
	}
	return fd;
}

int upd_lock(unsigned wait_s, struct err *e)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	int fd;

	if (lock_fd >= 0)
		return 0; /* ours already */
	if ((fd = lock_open(e)) < 0)
		return -1;
	for (unsigned i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return err_set(e, errno, "lock %s", LOCK_FILE);
		}
		if (i >= wait_s * 10) {
			close(fd);
			return err_set(e, 0, "another update is running (%s is held%s)", LOCK_FILE,
				       wait_s ? ", waited for it" : "");
		}
		nanosleep(&tick, NULL);
	}
	lock_fd = fd;
	return 0;
}

void upd_unlock(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

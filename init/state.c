/*
 * state.c: the STATE partition, Wisp's only writable storage, on /var.
 *
 * It is looked up by GPT name on the disk the root came from, so that a
 * second Wisp disk attached to the machine (or a stray disk with its own
 * STATE) is never mounted by mistake. It is checked before it is mounted
 * and mounted even when the check finds errors it cannot fix: a host with
 * a damaged /var is still worth reaching over the network.
 */
#include "init.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATE_LABEL "STATE"
#define STATE_DIR   "/var"
#define E2FSCK	    "/sbin/e2fsck"

/* Run e2fsck -p before anything else runs, so waiting for it here blocks no one. */
static void fsck(const char *dev)
{
	char *argv[] = {E2FSCK, "-p", (char *)dev, NULL};
	char *envp[] = {"PATH=/sbin:/usr/sbin:/bin:/usr/bin", NULL};
	struct spawn_req r = {.argv = argv, .envp = envp};
	char why[256];
	size_t len = 0;
	struct err e;
	int report, st, code;
	pid_t pid;

	pid = spawn(&r, &report, &e);
	if (pid < 0) {
		log_msg(LOG_ERR, "%s: %s", STATE_LABEL, e.msg);
		return;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			err_set(&e, errno, "wait for %s", E2FSCK);
			log_err(&e);
			close(report);
			return;
		}
	}
	/* The child is gone, so whatever it had to report is in the pipe. */
	spawn_read_report(report, why, sizeof(why), &len);
	close(report);
	if (len > 0) {
		log_msg(LOG_ERR, "%s: %s; mounting unchecked", STATE_LABEL, why);
		return;
	}
	if (WIFSIGNALED(st)) {
		log_msg(LOG_CRIT, "%s: %s %s killed by signal %d; mounting anyway", STATE_LABEL,
			E2FSCK, dev, WTERMSIG(st));
		return;
	}
	code = WEXITSTATUS(st);
	if (code >= 4)
		log_msg(LOG_CRIT,
			"%s: %s %s left errors uncorrected (status %d); mounting anyway, "
			"data on /var may be damaged",
			STATE_LABEL, E2FSCK, dev, code);
	else if (code & 2)
		log_msg(LOG_WARNING, "%s: %s %s corrected errors and asks for a reboot (status %d)",
			STATE_LABEL, E2FSCK, dev, code);
	else if (code & 1)
		log_msg(LOG_NOTICE, "%s: %s %s corrected errors", STATE_LABEL, E2FSCK, dev);
}

void state_setup(void)
{
	char name[128], dev[160];
	struct stat st;
	struct err e;

	if (stat("/", &st) < 0) {
		err_set(&e, errno, "stat /");
		log_msg(LOG_ERR, "%s: %s; %s is not persistent", STATE_LABEL, e.msg, STATE_DIR);
		return;
	}
	if (sysfs_find_partition("/sys", st.st_dev, STATE_LABEL, name, sizeof(name), &e) < 0) {
		log_msg(LOG_ERR, "%s; %s is not persistent", e.msg, STATE_DIR);
		return;
	}
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	fsck(dev);
	if (mount(dev, STATE_DIR, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
		err_set(&e, errno, "mount %s on %s", dev, STATE_DIR);
		log_msg(LOG_ERR, "%s: %s; %s is not persistent", STATE_LABEL, e.msg, STATE_DIR);
		return;
	}
	log_msg(LOG_INFO, "%s %s mounted on %s", STATE_LABEL, dev, STATE_DIR);
}

/*
 * watch.c: `update watch [--deadline SECONDS]`, the guard of a trial boot.
 *
 * A service of every image (/etc/wisp/update.yaml), started at every boot.
 * Not a trial boot (wisp_tries empty): it exits at once. A trial: it arms the
 * watchdog (/dev/watchdog, 30 s) and feeds it every 10 s while it waits for
 * mark-good's file (inotify: no polling). Marked good: it disarms the
 * watchdog (magic close) and exits. The deadline first: the boot is not
 * good; it says so on the console and asks PID 1 for an orderly reboot
 * (SIGTERM, as busybox's reboot), after which GRUB counts the try. If that
 * reboot does not come, nothing feeds the watchdog any more and it resets the
 * machine; a hang of the kernel or of PID 1 ends the same way.
 */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define WATCHDOG_TIMEOUT 30 /* s: the hardware's, armed */
#define FEED_EVERY	 10000u
#define DEFAULT_DEADLINE 300u

static int arm_watchdog(void)
{
	int fd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC), t = WATCHDOG_TIMEOUT;

	if (fd < 0) {
		console_say("no watchdog (/dev/watchdog: %s): a hang is not caught",
			    strerror(errno));
		return -1;
	}
	ioctl(fd, WDIOC_SETTIMEOUT, &t);
	return fd;
}

static void feed(int wd)
{
	if (wd >= 0)
		(void)!write(wd, "k", 1);
}

/* Until BOOT_GOOD_FILE exists (1) or the deadline passes (0). */
static int wait_good(int wd, uint64_t deadline, struct err *e)
{
	int in = inotify_init1(IN_CLOEXEC);

	if (in < 0 || mkdir_p("/run/wisp/update", 0700, e) < 0 ||
	    inotify_add_watch(in, "/run/wisp/update", IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
		return err_set(e, errno, "watch /run/wisp/update");
	for (;;) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		char buf[4096];
		uint64_t now = now_ms();

		feed(wd);
		if (access(BOOT_GOOD_FILE, F_OK) == 0)
			return 1;
		if (now >= deadline)
			return 0;
		if (poll(&p, 1, (int)(deadline - now < FEED_EVERY ? deadline - now : FEED_EVERY)) >
		    0)
			(void)!read(in, buf, sizeof(buf));
	}
}

int cmd_watch(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;
	uint64_t deadline = DEFAULT_DEADLINE;
	const char *end;
	int wd, good;

	if (a->deadline && (!(end = dec_scan(a->deadline, &deadline)) || *end || deadline == 0 ||
			    deadline > 86400))
		return err_set(e, 0, "watch: --deadline %s: not 1 to 86400 seconds", a->deadline);
	if (boot_load(&b, e) < 0)
		return err_ctx(e, "watch");
	if (!*grubenv_get(&b.env, "wisp_tries")) {
		printf("update: not a trial boot: nothing to watch\n");
		return 0;
	}
	console_say("slot %c on trial: good within %llu s, or a reboot counts the try (%s left)",
		    b.booted ? b.booted : '?', (unsigned long long)deadline,
		    grubenv_get(&b.env, "wisp_tries"));
	wd = arm_watchdog();
	good = wait_good(wd, now_ms() + deadline * 1000, e);
	if (good > 0) {
		if (wd >= 0)
			(void)!write(wd, "V", 1); /* magic close: disarmed */
		return 0;
	}
	console_say("slot %c was not good within %llu s%s%s: rebooting", b.booted ? b.booted : '?',
		    (unsigned long long)deadline, good < 0 ? ": " : "", good < 0 ? e->msg : "");
	kill(1, SIGTERM);
	for (;;)
		pause(); /* the shutdown ends us; the watchdog, unfed, ends a stuck one */
}

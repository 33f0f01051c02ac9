/*
 * watch.c: `update watch [--deadline SECONDS]`, the guard of a trial boot.
 *
 * A service of every image (/etc/wisp/update.yaml), started at every boot.
 * Not a trial boot (wisp_tries empty): it exits at once. A trial: it arms every
 * watchdog (/dev/watchdogN, 30 s: the hardware's, and softdog, which the trial's
 * command line started with the kernel) and feeds them every 10 s while it
 * waits for mark-good's file (inotify: no polling). Marked good: it disarms
 * them (magic close) and exits. The deadline first: the boot is not
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

#define MAX_DOGS 4

struct dogs {
	int fd[MAX_DOGS];
	int n;
};

/* Every /dev/watchdogN: the hardware one and softdog, which a trial boot's command line
 * started at the kernel's start (it resets the host unless someone feeds it now). */
static void arm_watchdogs(struct dogs *d)
{
	d->n = 0;
	for (int i = 0; i < MAX_DOGS; i++) {
		char path[32];
		int t = WATCHDOG_TIMEOUT, fd;

		snprintf(path, sizeof(path), "/dev/watchdog%d", i);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
			continue;
		ioctl(fd, WDIOC_SETTIMEOUT, &t);
		d->fd[d->n++] = fd;
	}
	if (d->n == 0)
		console_say("no watchdog (/dev/watchdog0: %s): a hang is not caught",
			    strerror(errno));
}

static void feed(const struct dogs *d, const char *what)
{
	for (int i = 0; i < d->n; i++)
		(void)!write(d->fd[i], what, 1);
}

/* Until BOOT_GOOD_FILE exists (1) or the deadline passes (0). */
static int wait_good(const struct dogs *d, uint64_t deadline, struct err *e)
{
	int in = inotify_init1(IN_CLOEXEC);

	if (in < 0 || mkdir_p("/run/wisp/update", 0700, e) < 0 ||
	    inotify_add_watch(in, "/run/wisp/update", IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
		return err_set(e, errno, "watch /run/wisp/update");
	for (;;) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		char buf[4096];
		uint64_t now = now_ms();

		feed(d, "k");
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
	struct dogs d;
	int good;

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
	arm_watchdogs(&d);
	good = wait_good(&d, now_ms() + deadline * 1000, e);
	if (good > 0) {
		feed(&d, "V"); /* magic close: disarmed when closed */
		return 0;
	}
	console_say("slot %c was not good within %llu s%s%s: rebooting", b.booted ? b.booted : '?',
		    (unsigned long long)deadline, good < 0 ? ": " : "", good < 0 ? e->msg : "");
	kill(1, SIGTERM);
	for (;;)
		pause(); /* the shutdown ends us; the watchdog, unfed, ends a stuck one */
}

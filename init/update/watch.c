/*
 * watch.c: `update watch [--deadline SECONDS]`, the guard of a trial boot.
 *
 * A service of every image (/etc/wisp/update.yaml), started at every boot,
 * early: on the boot's critical path. Not a trial boot (wisp_tries empty): it
 * exits at once, told so by the kernel command line (GRUB adds wisp.tries= and
 * wisp.rollback=), without mounting the ESP (a new mount namespace and a vfat
 * mount: kernel code run for the first time among the first units); a
 * command line without wisp.tries= (a grub.cfg from before it, a direct kernel
 * boot) is answered by grubenv, as a rollback to be said is. A trial: it arms every
 * watchdog (/dev/watchdogN, 30 s: the hardware's, and softdog, which the trial's
 * command line started with the kernel) and feeds them every 10 s while it
 * waits for mark-good's file (inotify: no polling). Marked good: it disarms
 * them (magic close) and exits. The deadline first: the boot is not
 * good; it says so on the console and asks PID 1 for an orderly reboot
 * (SIGTERM, as busybox's reboot), after which GRUB counts the try. If that
 * reboot does not come, nothing feeds the watchdog any more and it resets the
 * machine; a hang of the kernel or of PID 1 ends the same way.
 *
 * A good slot's counted boot (goodslot.c: GRUB counts it while the other slot holds a
 * system) is no trial of the units: the watchdogs are fed until the system is up (STATE
 * on /var, PID 1 answering), which marks the boot good (mark_system); the units' health
 * is said at the deadline, never counted, so that no unit, nor the image a container runs
 * in it, can take the host back to the older slot.
 */
#include "update.h"
#include "units.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCHDOG_TIMEOUT 30 /* s: the hardware's, armed */
#define FEED_EVERY	 10000u
#define DEFAULT_DEADLINE 300u

#define MAX_DOGS    4
#define VAR_WAIT_MS 60000u /* half of softdog's default margin */
#define RETRY_MS    1000u  /* a good slot's system not up yet: asked again */

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

/* Magic close: 'V', then closed, and the watchdog stops. */
static void disarm(struct dogs *d)
{
	feed(d, "V");
	for (int i = 0; i < d->n; i++)
		close(d->fd[i]);
	d->n = 0;
}

/* An orderly reboot (SIGTERM to PID 1, as busybox's reboot), after which GRUB counts the try. */
static _Noreturn void reboot_now(void)
{
	kill(1, SIGTERM);
	for (;;)
		pause(); /* the shutdown ends us; the watchdog, unfed, ends a stuck one */
}

/* Until BOOT_GOOD_FILE exists (1) or the deadline passes (0). */
static int wait_good(const struct dogs *d, uint64_t deadline, struct err *e)
{
	int in = inotify_init1(IN_CLOEXEC);

	if (in < 0 || upd_run_dir(e) < 0 ||
	    inotify_add_watch(in, LOCK_DIR, IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
		return err_set(e, errno, "watch %s", LOCK_DIR);
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

/* On STATE, for `update status` after a rollback (trial.c). */
static void record(char slot, const struct trial *t)
{
	struct err e;

	if (slot && trial_store(TRIAL_DIR, slot, t, &e) < 0)
		console_say("the trial's record: %s", e.msg);
}

static void record_start(char slot, const char *tries, struct trial *t)
{
	trial_load(TRIAL_DIR, slot, t);
	t->reached++;
	snprintf(t->last, sizeof(t->last), "came up with %s tries left, not yet good", tries);
	record(slot, t);
}

/* The units not up, as PID 1 lists them (empty: every one is), or why it did not say. */
static void units_down(char *down, size_t size)
{
	struct unit_now *units;
	struct err e;
	size_t n;

	if (units_ps(&units, &n, &e) < 0)
		snprintf(down, size, "(PID 1 did not say: %s)", e.msg);
	else
		units_not_up(units, n, down, size);
	free(units);
}

static void record_deadline(char slot, uint64_t deadline, struct trial *t)
{
	char down[TRIAL_TEXT_MAX];

	units_down(down, sizeof(down));
	snprintf(t->last, sizeof(t->last), "not good within %llu s; not up: %s",
		 (unsigned long long)deadline,
		 *down ? down : "(every unit is, yet nothing marked the boot good)");
	record(slot, t);
}

/* Not a trial: a rollback GRUB did is said at every boot until the next update. */
static void say_rollback(const struct boot_state *b)
{
	char slot = slot_of(grubenv_get(&b->env, "wisp_rollback")), version[UPD_VERSION_MAX];
	char why[TRIAL_WHY_MAX];
	struct trial t;

	if (!slot)
		return;
	slot_version(slot, version, sizeof(version));
	trial_load(TRIAL_DIR, slot, &t);
	trial_why(&t, why, sizeof(why));
	console_say("slot %c (Wisp %s) was rolled back: %s", slot, *version ? version : "?", why);
}

/*
 * A trial whose slot GRUB did not boot: its fallback when the slot could not be
 * (its kernel or slot.cfg unreadable: an apply cut short, a damaged ESP), or the
 * previous slot chosen in GRUB's menu. Either way GRUB put the trial's counter
 * (wisp.tries=) on the previous slot's command line and started softdog. Another
 * try would read the same bytes, so the trial ends here as GRUB ends one out of
 * tries (the booted slot next, the other rolled back), and this boot is an
 * ordinary one of the good slot: softdog disarmed.
 */
static void end_trial(struct boot_state *b, char trial)
{
	char mine[2] = {b->booted, 0}, other[2] = {trial, 0};
	struct trial t;
	struct err e;

	/* grubenv again, under the lock: an apply or a rollback may have stored it since */
	if (upd_lock(UPD_LOCK_WAIT, &e) < 0 || grubenv_load(&b->env, b->path, &e) < 0) {
		console_say("slot %c's fallback: %s (GRUB counts the next tries)", trial, e.msg);
		return;
	}
	if (slot_of(grubenv_get(&b->env, "wisp_slot")) != trial ||
	    !*grubenv_get(&b->env, "wisp_tries")) {
		upd_unlock(); /* another run ended the trial meanwhile */
		return;
	}
	trial_load(TRIAL_DIR, trial, &t);
	snprintf(t.last, sizeof(t.last),
		 "GRUB booted slot %c instead (its fallback when a slot cannot be booted, or a "
		 "choice in its menu)",
		 b->booted);
	record(trial, &t);
	if (grubenv_set(&b->env, "wisp_slot", mine, &e) < 0 ||
	    grubenv_set(&b->env, "wisp_prev", other, &e) < 0 ||
	    grubenv_set(&b->env, "wisp_tries", "", &e) < 0 ||
	    grubenv_set(&b->env, "wisp_rollback", other, &e) < 0 ||
	    grubenv_set(&b->env, "wisp_good", mine, &e) < 0 ||
	    grubenv_store(&b->env, b->path, &e) < 0)
		console_say("slot %c's fallback: grubenv: %s (GRUB counts the next tries)", trial,
			    e.msg);
	else
		console_say("slot %c's trial ended: GRUB booted slot %c instead; slot %c was "
			    "rolled back",
			    trial, b->booted, trial);
	upd_unlock();
}

static void fell_back(struct boot_state *b, char trial)
{
	struct dogs d;

	end_trial(b, trial);
	arm_watchdogs(&d);
	disarm(&d);
}

/* --deadline, else the trial's command line (grubenv's wisp_watch may carry
 * wisp.update_deadline=), else DEFAULT_DEADLINE. */
static int deadline_of(const struct upd_args *a, const char *cmdline, uint64_t *deadline,
		       struct err *e)
{
	const char *end;
	unsigned v = 0;
	int got;

	*deadline = DEFAULT_DEADLINE;
	if (a->deadline) {
		if (!(end = dec_scan(a->deadline, deadline)) || *end || *deadline == 0 ||
		    *deadline > 86400)
			return err_set(e, 0, "--deadline %s: not 1 to 86400 seconds", a->deadline);
		return 0;
	}
	if ((got = cmdline_uint(cmdline, "wisp.update_deadline", 86400, &v, e)) < 0)
		return -1;
	if (got && v == 0)
		return err_set(e, 0, "wisp.update_deadline=0: not 1 to 86400 seconds");
	if (got)
		*deadline = v;
	return 0;
}

/*
 * An early unit starts before STATE is mounted on /var, where the trial's record
 * is; and the ESP is then mounted in a mount namespace of this program's own,
 * which PID 1's later mount of /var would not reach. So a trial (or a rollback
 * to say) first waits for /var, on the mount table's own events (proc(5):
 * /proc/self/mounts is pollable; a mount after the open is never missed), at
 * most VAR_WAIT_MS, well inside softdog's margin.
 */
static void wait_var(void)
{
	int fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC);
	uint64_t end = now_ms() + VAR_WAIT_MS;
	struct stat root, var;

	while (fd >= 0 && stat("/", &root) == 0 && stat("/var", &var) == 0 &&
	       var.st_dev == root.st_dev) {
		struct pollfd p = {.fd = fd, .events = POLLPRI};
		uint64_t now = now_ms();

		if (now >= end) {
			console_say(
			    "/var is not mounted after %u s: the trial's record is not kept",
			    VAR_WAIT_MS / 1000);
			break;
		}
		if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
			break;
	}
	if (fd >= 0)
		close(fd);
}

/* Until mark_system makes the boot good (1) or the deadline passes (0: E says what is not up). */
static int wait_system(struct boot_state *b, const struct dogs *d, uint64_t deadline, struct err *e)
{
	for (;;) {
		uint64_t now = now_ms();

		feed(d, "k");
		if (mark_system(b, e) == 0)
			return 1;
		if (now >= deadline)
			return 0;
		poll(NULL, 0, (int)(deadline - now < RETRY_MS ? deadline - now : RETRY_MS));
	}
}

/* At a good slot's deadline, what is not up: on the console and for `update status`. */
static void say_not_up(char slot, uint64_t deadline)
{
	char down[TRIAL_TEXT_MAX], text[TRIAL_TEXT_MAX + 64], shown[4 * sizeof(text)];
	struct err e;
	int len;

	units_down(down, sizeof(down));
	if (!*down)
		return;
	len = snprintf(text, sizeof(text), "not up within %llu s of this boot: %s",
		       (unsigned long long)deadline, down);
	if (write_file(NOT_UP_FILE, text, (size_t)len, 0600, &e) < 0)
		console_say("%s", e.msg);
	text_escaped(down, strlen(down), shown, sizeof(shown));
	console_say("slot %c stays good: not up within %llu s: %s; a good slot's boots count only "
		    "the system's failures",
		    slot, (unsigned long long)deadline, shown);
}

/* A good slot's counted boot (goodslot.c): the watchdogs fed until the system is up, which
 * marks it good; else the deadline reboots it, and GRUB counts the try. */
static void watch_good_slot(struct boot_state *b, uint64_t deadline, struct err *e)
{
	static struct dogs d, none;
	uint64_t end = now_ms() + deadline * 1000;
	char tries[GRUBENV_SHOWN];
	struct trial t;

	grubenv_shown(&b->env, "wisp_tries", tries, sizeof(tries));
	record_start(b->booted, tries, &t);
	console_say("slot %c (marked good before) is counted: good once the system is up, within "
		    "%llu s (%s tries left)",
		    b->booted, (unsigned long long)deadline, tries);
	arm_watchdogs(&d);
	if (wait_system(b, &d, end, e) == 0) {
		snprintf(t.last, sizeof(t.last), "the system was not up within %llu s: %s",
			 (unsigned long long)deadline, e->msg);
		record(b->booted, &t);
		console_say("slot %c: the system was not up within %llu s (%s): rebooting",
			    b->booted, (unsigned long long)deadline, e->msg);
		reboot_now();
	}
	disarm(&d);
	if (wait_good(&none, end, e) == 0)
		say_not_up(b->booted, deadline);
}

/* GRUB's word on the command line line: neither a trial nor a rollback to say. */
static bool plain_boot(const char *line)
{
	char v[8];

	return cmdline_get(line, "wisp.tries", v, sizeof(v)) == 0 &&
	       cmdline_get(line, "wisp.rollback", v, sizeof(v)) == 0;
}

int cmd_watch(const struct upd_args *a, struct err *e)
{
	static struct boot_state b;
	char tries[GRUBENV_SHOWN];
	uint64_t deadline;
	struct trial t;
	struct dogs d;
	char trial;
	int good;

	if (read_text("/proc/cmdline", b.cmdline, sizeof(b.cmdline), e) < 0 ||
	    deadline_of(a, b.cmdline, &deadline, e) < 0)
		return err_ctx(e, "watch");
	if (plain_boot(b.cmdline)) {
		printf("update: not a trial boot (GRUB's wisp.tries=): nothing to watch\n");
		return 0;
	}
	wait_var();
	if (boot_load(&b, e) < 0)
		return err_ctx(e, "watch");
	if (!*grubenv_get(&b.env, "wisp_tries")) {
		say_rollback(&b);
		printf("update: not a trial boot: nothing to watch\n");
		return 0;
	}
	trial = slot_of(grubenv_get(&b.env, "wisp_slot"));
	if (b.booted && trial && trial != b.booted &&
	    cmdline_get(b.cmdline, "wisp.tries", (char[8]){0}, 8) > 0) {
		fell_back(&b, trial);
		return 0;
	}
	if (slot_counted_good(&b.env, b.booted)) {
		watch_good_slot(&b, deadline, e);
		return 0;
	}
	grubenv_shown(&b.env, "wisp_tries", tries, sizeof(tries));
	record_start(b.booted, tries, &t);
	console_say("slot %c on trial: good within %llu s, or a reboot counts the try (%s left)",
		    b.booted ? b.booted : '?', (unsigned long long)deadline, tries);
	arm_watchdogs(&d);
	good = wait_good(&d, now_ms() + deadline * 1000, e);
	if (good > 0) {
		disarm(&d);
		return 0;
	}
	record_deadline(b.booted, deadline, &t);
	console_say("slot %c was not good within %llu s%s%s: rebooting", b.booted ? b.booted : '?',
		    (unsigned long long)deadline, good < 0 ? ": " : "", good < 0 ? e->msg : "");
	reboot_now();
}

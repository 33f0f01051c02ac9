/*
 * shutdown.c: halt, power off or reboot, leaving /var clean.
 *
 * TERM phase: every program gets SIGTERM (its unit's process group, then
 * kill(-1) for anything else) and a bounded grace period to exit, watched
 * from the event loop. KILL phase: SIGKILL to whatever is left, and a
 * short wait for the kernel to finish them. Then sync, unmount /var (or
 * at least make it read-only, so ext4 is marked clean), reboot(2).
 * Each phase ends early as soon as init has no child left.
 */
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum phase { IDLE, TERM, KILL, FINAL };

static enum phase phase = IDLE;
static enum shutdown_kind kind;
static unsigned grace_s = SHUTDOWN_GRACE_S;

static void on_deadline(struct timer *t);
static struct timer deadline = {.fire = on_deadline};

const char *shutdown_name(enum shutdown_kind k)
{
	switch (k) {
	case SHUTDOWN_HALT:
		return "halt";
	case SHUTDOWN_POWEROFF:
		return "poweroff";
	case SHUTDOWN_REBOOT:
		break;
	}
	return "reboot";
}

static int reboot_cmd(enum shutdown_kind k)
{
	switch (k) {
	case SHUTDOWN_HALT:
		return RB_HALT_SYSTEM;
	case SHUTDOWN_POWEROFF:
		return RB_POWER_OFF;
	case SHUTDOWN_REBOOT:
		break;
	}
	return RB_AUTOBOOT;
}

void shutdown_set_grace(unsigned seconds)
{
	grace_s = seconds;
}

static void finish(void)
{
	struct err e;

	phase = FINAL;
	timer_stop(&deadline);
	sync();
	mounts_release("/var");
	sync();
	log_msg(LOG_NOTICE, "reached shutdown target: %s", shutdown_name(kind));
	reboot(reboot_cmd(kind));
	/* Still here: PID 1 must not exit, so it goes on reaping. */
	err_set(&e, errno, "reboot(%s)", shutdown_name(kind));
	log_err(&e);
}

static void on_deadline(struct timer *t)
{
	(void)t;
	if (phase == TERM) {
		log_msg(LOG_WARNING, "processes still running after %u s: sending SIGKILL",
			grace_s);
		phase = KILL;
		kill(-1, SIGKILL);
		timer_start(&deadline, now_ms() + SHUTDOWN_KILL_WAIT_MS);
		reap();
	} else if (phase == KILL) {
		log_msg(LOG_WARNING, "processes survive SIGKILL (stuck in the kernel?): going on");
		finish();
	}
}

void shutdown_request(enum shutdown_kind k, int sig, pid_t from)
{
	char buf[16];

	if (phase != IDLE) {
		log_msg(LOG_NOTICE, "SIG%s from pid %d: already shutting down for %s",
			signal_name(sig, buf), (int)from, shutdown_name(kind));
		return;
	}
	kind = k;
	phase = TERM;
	log_msg(LOG_NOTICE,
		"SIG%s from pid %d: shutting down for %s; stopping all programs "
		"(grace %u s)",
		signal_name(sig, buf), (int)from, shutdown_name(k), grace_s);
	units_stop_all();
	/* Everything else too; SIGCONT so that stopped processes see the SIGTERM. */
	kill(-1, SIGTERM);
	kill(-1, SIGCONT);
	timer_start(&deadline, now_ms() + (uint64_t)grace_s * 1000u);
	reap(); /* nothing may be left: then there is nothing to wait for */
}

void shutdown_no_children(void)
{
	if (phase == TERM || phase == KILL) {
		log_msg(LOG_INFO, "all processes have ended");
		finish();
	}
}

/* Emergency path only: reap until no child is left or ms have passed. */
static void wait_children(uint64_t ms)
{
	uint64_t end = now_ms() + ms;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		uint64_t now = now_ms();
		struct timespec ts;
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
			;
		if ((pid < 0 && errno == ECHILD) || now >= end)
			return;
		ts.tv_sec = (time_t)((end - now) / 1000);
		ts.tv_nsec = (long)((end - now) % 1000) * 1000000L;
		sigtimedwait(&chld, NULL, &ts);
	}
}

void shutdown_now(enum shutdown_kind k)
{
	if (phase == IDLE) {
		kind = k;
		log_msg(LOG_NOTICE, "shutting down for %s (grace %u s)", shutdown_name(k), grace_s);
	}
	phase = TERM;
	kill(-1, SIGTERM);
	kill(-1, SIGCONT);
	wait_children((uint64_t)grace_s * 1000u);
	kill(-1, SIGKILL);
	wait_children(SHUTDOWN_KILL_WAIT_MS);
	finish();
}

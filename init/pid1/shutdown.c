/*
 * shutdown.c: halt, power off or reboot, leaving /var clean.
 *
 * UNITS phase: the units stop, dependants first, each with its
 * stop_signal and its stop_timeout before SIGKILL to its cgroup
 * (unit.c, reached through the operations dispatch.c gives: shutdown
 * knows no unit and reaps no child; it is told when none is left).
 * TERM phase: every process left gets SIGTERM. KILL phase: SIGKILL, and a short wait for the kernel
 * to finish them. Then sync, make /var read-only (its file system, so ext4 is marked clean even
 * where a mount of it lives on elsewhere) and unmount it, reboot(2). Each phase ends early when
 * there is nothing left for it to wait for; the whole sequence is bounded by the grace period
 * (wisp.shutdown_timeout), which the phases share: 70 % for the units,
 * up to 90 % for the rest to take SIGTERM, then SIGKILL.
 */
#include "pid1.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum phase { IDLE, UNITS, TERM, KILL, FINAL };

static enum phase phase = IDLE;
static enum shutdown_kind kind;
static unsigned grace_s = SHUTDOWN_GRACE_S;
static uint64_t t0; /* when the shutdown began */
static const struct shutdown_ops *ops;

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

void shutdown_setup(const struct shutdown_ops *o)
{
	ops = o;
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
	klog_stop(); /* the loop runs no more: the kernel prints its last records itself */
	if (ops)
		ops->release();
	sync();
	mounts_release("/var");
	sync();
	log_msg(LOG_NOTICE, "reached shutdown target: %s", shutdown_name(kind));
	reboot(reboot_cmd(kind));
	/* Still here: PID 1 must not exit, so it goes on reaping. */
	err_set(&e, errno, "reboot(%s)", shutdown_name(kind));
	log_err(&e);
}

/* Is any child left (a zombie too)? Asked, not reaped: reaping is dispatch.c's. */
static bool children_left(void)
{
	siginfo_t si;

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0;
}

/* Share of the grace period, from the start of the shutdown. */
static uint64_t at(unsigned percent)
{
	return t0 + (uint64_t)grace_s * 10u * percent;
}

static void term_phase(void)
{
	phase = TERM;
	/* Everything else too; SIGCONT so that stopped processes see the SIGTERM. */
	kill(-1, SIGTERM);
	kill(-1, SIGCONT);
	timer_start(&deadline, at(90));
	/* Nothing left: nothing to wait for. Else the reaper says when the last has gone. */
	if (!children_left())
		shutdown_no_children();
}

static void kill_phase(void)
{
	uint64_t end = at(100);

	phase = KILL;
	kill(-1, SIGKILL);
	/* Past the grace already (a zero grace): still give the kernel a moment. */
	timer_start(&deadline, end > now_ms() + 200 ? end : now_ms() + 200);
	if (!children_left())
		shutdown_no_children();
}

static void on_deadline(struct timer *t)
{
	(void)t;
	switch (phase) {
	case UNITS:
		log_msg(LOG_WARNING, "units still stopping after %u.%u s: going on",
			grace_s * 7 / 10, grace_s * 7 % 10);
		term_phase();
		break;
	case TERM:
		log_msg(LOG_WARNING, "processes still running: sending SIGKILL");
		kill_phase();
		break;
	case KILL:
		log_msg(LOG_WARNING, "processes survive SIGKILL (stuck in the kernel?): going on");
		finish();
		break;
	default:
		break;
	}
}

/* Who asked, for the log: a signal, a control-socket client, or the power button (sig 0, pid 0). */
static const char *origin(int sig, pid_t from, char *buf, size_t size)
{
	char name[16];

	if (sig)
		snprintf(buf, size, "SIG%s from pid %d", signal_name(sig, name), (int)from);
	else if (from > 0)
		snprintf(buf, size, "control request from pid %d", (int)from);
	else
		snprintf(buf, size, "power button");
	return buf;
}

void shutdown_request(enum shutdown_kind k, int sig, pid_t from)
{
	char who[64];

	if (phase != IDLE) {
		log_msg(LOG_NOTICE, "%s: already shutting down for %s",
			origin(sig, from, who, sizeof(who)), shutdown_name(kind));
		return;
	}
	kind = k;
	phase = UNITS;
	t0 = now_ms();
	log_msg(LOG_NOTICE, "%s: shutting down for %s; stopping all programs (grace %u s)",
		origin(sig, from, who, sizeof(who)), shutdown_name(k), grace_s);
	timer_start(&deadline, at(70));
	if (ops)
		ops->stop_units(shutdown_units_stopped); /* may call it at once */
	else
		term_phase();
}

void shutdown_units_stopped(void)
{
	if (phase != UNITS)
		return;
	log_msg(LOG_INFO, "all units have stopped");
	term_phase();
}

void shutdown_no_children(void)
{
	if (phase == UNITS && (!ops || ops->units_stopped()))
		term_phase();
	else if (phase == TERM || phase == KILL) {
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

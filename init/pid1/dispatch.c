/*
 * dispatch.c: the top of PID 1, where signals and ended children go.
 *
 * The loop (loop.c) knows file descriptors, timers and the signalfd; the
 * units (unit.c), the provision runner (provrun.c) and shutdown
 * (shutdown.c) know nothing of each other. They are tied here only (the
 * s6-supervise shape): a signal becomes a reap or a shutdown request, an
 * ended child goes to whoever started it, and shutdown reaches the units
 * through the operations wired in dispatch_setup(). So nothing calls back
 * down into the loop, and no callee calls its caller.
 */
#include "pid1.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define REAP_TURN 64 /* children reaped a turn of the loop */

/*
 * Each ended child is peeked at (WNOWAIT) before it is reaped, and every
 * container's create that has ended is reaped first. A create's process is
 * its child until create exits, and the kernel hands it to init in the
 * same step that makes create a zombie: so when init peeks at that process,
 * create's exit is there too, and the unit learns the pid (and takes it as
 * its own) while the pid is still held. Reaped first, it could be free and
 * another process's by the time init would start or kill it (containerd's
 * shim checks "early exits" for the same race). No count of orphans is
 * kept: anyone's may end at any rate (a user's double forks) without
 * telling init less about a create.
 */
void dispatch_reap(void)
{
	/* At most REAP_TURN a turn: a local user's processes forking orphans as fast as they can
	 * (each an exit for init to reap) would hold PID 1 here for as long as they liked. */
	for (int n = 0; n < REAP_TURN; n++) {
		siginfo_t si = {.si_pid = 0};
		int st;

		/* __WALL: also children whose exit signal is not SIGCHLD. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				shutdown_no_children();
			return;
		}
		if (si.si_pid == 0)
			return;
		unit_reap_creates();
		/* Neither's: an orphan re-parented to init. Reaping is all it needs. */
		if (waitpid(si.si_pid, &st, WNOHANG | __WALL) == si.si_pid &&
		    !provrun_reaped(si.si_pid, st))
			unit_reaped(si.si_pid, st);
	}
	/* More may wait: SIGCHLD again (blocked, it waits on the signalfd), so that the loop comes
	 * back to them on its next turn, after the timers, units and clients it has ready. */
	kill(getpid(), SIGCHLD);
}

/* busybox's convention, which its halt/poweroff/reboot applets follow. */
void dispatch_signal(int sig, pid_t from)
{
	switch (sig) {
	case SIGCHLD:
		dispatch_reap();
		break;
	case SIGUSR1:
		shutdown_request(SHUTDOWN_HALT, SIGUSR1, from);
		break;
	case SIGUSR2:
		shutdown_request(SHUTDOWN_POWEROFF, SIGUSR2, from);
		break;
	case SIGTERM:
	case SIGINT: /* ctrl-alt-del, since reboot(RB_DISABLE_CAD) */
		shutdown_request(SHUTDOWN_REBOOT, sig, from);
		break;
	default:
		break; /* taken off the queue, nothing to do */
	}
}

/* Shutdown's first phase: no provisioning left to finish (no units to load after it), the
 * units stopped, dependants first. */
static void stop_all(void (*done)(void))
{
	provrun_cancel();
	units_stop_all(done);
}

static const struct shutdown_ops ops = {
    .stop_units = stop_all,
    .units_stopped = units_all_stopped,
    .release = units_release,
};

void dispatch_setup(void)
{
	shutdown_setup(&ops);
}

_Noreturn void dispatch_emergency(void)
{
	static const int sigs[] = {SIGCHLD, SIGUSR1, SIGUSR2, SIGTERM, SIGINT};
	sigset_t set;

	klog_stop(); /* the relay needs the loop */
	log_msg(LOG_CRIT, "no event loop: no programs are supervised; reaping and "
			  "honouring shutdown signals only");
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigaddset(&set, sigs[i]); /* blocked since signals_block() */
	for (;;) {
		siginfo_t si;

		switch (sigwaitinfo(&set, &si)) {
		case SIGCHLD:
			while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
				;
			break;
		case SIGUSR1:
			shutdown_now(SHUTDOWN_HALT);
			break;
		case SIGUSR2:
			shutdown_now(SHUTDOWN_POWEROFF);
			break;
		case SIGTERM:
		case SIGINT:
			shutdown_now(SHUTDOWN_REBOOT);
			break;
		default:
			break;
		}
	}
}

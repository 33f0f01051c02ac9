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

void dispatch_reap(void)
{
	for (;;) {
		int st;
		/* __WALL: also children whose exit signal is not SIGCHLD. */
		pid_t pid = waitpid(-1, &st, WNOHANG | __WALL);

		if (pid > 0) {
			/* Neither's: an orphan re-parented to init. Reaping is all it needs, but
			 * a container's create may be about to name it (orphan.c). */
			if (!provrun_reaped(pid, st) && !unit_reaped(pid, st))
				orphan_reaped(pid, st);
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0 && errno == ECHILD)
			shutdown_no_children();
		return;
	}
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

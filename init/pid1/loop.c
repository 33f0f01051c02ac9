/*
 * loop.c: the one event loop of PID 1.
 *
 * One thread, one epoll: signals arrive through a signalfd (they are
 * blocked, so they are handled here, in order, never in a handler that
 * interrupts half-updated state), deadlines through a single timerfd
 * armed for the earliest one, and anything else (spawn report pipes, log
 * pipes, the control socket) as a struct watch. Nothing polls, nothing
 * sleeps, nothing waits for a child. The loop knows no unit, no child and
 * no shutdown: each signal goes to the one handler given at loop_setup()
 * (dispatch.c, the top of PID 1, which knows them all).
 */
#include "pid1.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int epfd = -1;
static sigset_t blocked;
static struct timer *timers; /* the armed ones; few, so a plain list */
static struct watch sigw = {.fd = -1}, timw = {.fd = -1};
static loop_signal_fn *on_sig;

void signals_block(void)
{
	/* Faults stay deliverable: blocked, a fault in PID 1 would loop forever
	 * on the faulting instruction instead of ending in a kernel panic. */
	static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

	sigfillset(&blocked);
	for (size_t i = 0; i < ARRAY_LEN(faults); i++)
		sigdelset(&blocked, faults[i]);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
}

int loop_watch(struct watch *w, struct err *e)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		return err_set(e, errno, "watch fd %d", w->fd);
	return 0;
}

int loop_watch_out(struct watch *w, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = w};

	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

int loop_watch_writable(struct watch *w, bool on)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = w};

	return epoll_ctl(epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, w->fd, &ev);
}

void loop_unwatch(struct watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void timer_start(struct timer *t, uint64_t due)
{
	if (!t->armed) {
		t->next = timers;
		timers = t;
		t->armed = true;
	}
	t->due = due;
}

void timer_stop(struct timer *t)
{
	for (struct timer **p = &timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->armed = false;
	t->next = NULL;
}

/* Point the timerfd at the earliest armed deadline, or disarm it. */
static void timers_arm(void)
{
	struct itimerspec its;
	struct timer *first = NULL;
	struct err e;

	memset(&its, 0, sizeof(its));
	for (struct timer *t = timers; t; t = t->next)
		if (!first || t->due < first->due)
			first = t;
	if (first) {
		its.it_value.tv_sec = (time_t)(first->due / 1000);
		its.it_value.tv_nsec = (long)(first->due % 1000) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1; /* zero would disarm it */
	}
	if (timerfd_settime(timw.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		err_set(&e, errno, "arm the timer");
		log_err(&e);
	}
}

static void on_timer(struct watch *w, uint32_t events)
{
	uint64_t ticks;
	struct timer *t;

	(void)events;
	(void)!read(w->fd, &ticks, sizeof(ticks));
	/* One at a time: a fire() may start or stop other timers. */
	for (;;) {
		uint64_t now = now_ms();

		for (t = timers; t && t->due > now; t = t->next)
			;
		if (!t)
			break;
		timer_stop(t);
		t->fire(t);
	}
}

/* One read a turn: a handler may send a signal again to come back next turn (dispatch.c,
 * with more children to reap), which must not bring it back before the others' turn. */
static void on_signal(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si[16];
	ssize_t n = read(w->fd, si, sizeof(si));

	(void)events;
	for (size_t i = 0; n > 0 && i < (size_t)n / sizeof(si[0]); i++)
		on_sig((int)si[i].ssi_signo, (pid_t)si[i].ssi_pid);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int loop_setup(loop_signal_fn *fn, struct err *e)
{
	on_sig = fn;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return err_set(e, errno, "epoll_create1");
	sigw.fd = signalfd(-1, &blocked, SFD_CLOEXEC | SFD_NONBLOCK);
	sigw.ready = on_signal;
	if (sigw.fd < 0) {
		err_set(e, errno, "signalfd");
		goto fail;
	}
	timw.fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	timw.ready = on_timer;
	if (timw.fd < 0) {
		err_set(e, errno, "timerfd_create");
		goto fail;
	}
	if (loop_watch(&sigw, e) < 0 || loop_watch(&timw, e) < 0)
		goto fail;
	return 0;
fail:
	close_fd(&timw.fd);
	close_fd(&sigw.fd);
	close_fd(&epfd);
	return -1;
}

int loop_run(struct err *e)
{
	struct epoll_event ev[16];

	for (;;) {
		int n;

		timers_arm();
		n = epoll_wait(epfd, ev, (int)ARRAY_LEN(ev), -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, errno, "epoll_wait");
		/* A handler may close a watch that is later in this batch; watches
		 * live as long as their unit and ignore readiness they cannot use. */
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;
			if (w->fd >= 0)
				w->ready(w, ev[i].events);
		}
	}
}

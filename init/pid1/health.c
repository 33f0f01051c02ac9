/*
 * health.c: a unit's health check, as in Docker's HEALTHCHECK.
 *
 * The check is a program, run first when the unit's program starts and
 * then every interval; one that runs longer than timeout is killed and
 * counts as a failure. retries failures in a row make the unit
 * unhealthy, one success makes it healthy. During start_period failures
 * do not count (a slow starter is not unhealthy yet), a success does.
 * Timers and the reaper drive it; nothing waits.
 */
#include "pid1.h"

#include <signal.h>
#include <sys/wait.h>

const char *health_name(enum health h)
{
	switch (h) {
	case H_STARTING:
		return "starting";
	case H_HEALTHY:
		return "healthy";
	case H_UNHEALTHY:
		return "unhealthy";
	case H_NONE:
		break;
	}
	return "none";
}

static void set_state(struct hcheck *h, enum health s)
{
	if (h->state == s)
		return;
	h->state = s;
	if (h->changed)
		h->changed(h);
}

static void on_next(struct timer *t)
{
	struct hcheck *h = container_of(t, struct hcheck, next);

	if (h->pid > 0)
		return; /* the last one is still running: its timeout will end it */
	h->pid = h->run(h);
	if (h->pid <= 0) {
		h->pid = 0;
		health_result(h, false, now_ms());
		return;
	}
	timer_start(&h->timeout, now_ms() + h->cfg->timeout_ms);
}

static void on_timeout(struct timer *t)
{
	struct hcheck *h = container_of(t, struct hcheck, timeout);

	/* Its own process group (spawn makes it a session leader): all of it. */
	if (h->pid > 0 && kill(-h->pid, SIGKILL) < 0)
		kill(h->pid, SIGKILL);
}

void health_start(struct hcheck *h)
{
	h->next.fire = on_next;
	h->timeout.fire = on_timeout;
	h->fails = 0;
	h->started = now_ms();
	h->pid = 0; /* a check of the last run was killed; reap() takes it as a stranger */
	h->active = true;
	if (!h->cfg || !h->cfg->argv) {
		h->state = H_NONE;
		return;
	}
	h->state = H_STARTING;
	timer_start(&h->next, h->started);
}

void health_stop(struct hcheck *h)
{
	h->active = false;
	timer_stop(&h->next);
	timer_stop(&h->timeout);
	if (h->pid > 0)
		kill(h->pid, SIGKILL); /* reaped later; health_reaped() ignores it then */
	h->state = h->cfg && h->cfg->argv ? H_STARTING : H_NONE;
}

void health_result(struct hcheck *h, bool ok, uint64_t now)
{
	if (ok) {
		h->fails = 0;
		set_state(h, H_HEALTHY);
	} else if (now - h->started >= h->cfg->start_period_ms && ++h->fails >= h->cfg->retries) {
		set_state(h, H_UNHEALTHY);
	}
}

bool health_reaped(struct hcheck *h, pid_t pid, int st)
{
	if (pid <= 0 || h->pid != pid)
		return false;
	h->pid = 0;
	timer_stop(&h->timeout);
	if (!h->active)
		return true; /* stopped meanwhile: the result no longer matters */
	health_result(h, WIFEXITED(st) && WEXITSTATUS(st) == 0, now_ms());
	timer_start(&h->next, now_ms() + h->cfg->interval_ms);
	return true;
}

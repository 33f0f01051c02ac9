/*
 * restart.c: the restart policy and its backoff, as plain arithmetic so
 * that the unit tests can check it without processes or clocks.
 *
 * A program that keeps failing is restarted after 100 ms, then 200 ms,
 * 400 ms... up to 30 s between tries: quick recovery from a one-off
 * crash, no CPU burnt on a crash loop. A run of 60 s or more counts as a
 * success and the next failure starts again from 100 ms.
 */
#include "init.h"

#include <sys/wait.h>

bool restart_wanted(enum restart r, int st)
{
	bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;

	switch (r) {
	case RESTART_ALWAYS:
		return true;
	case RESTART_ON_FAILURE:
		return !clean;
	case RESTART_NO:
		break;
	}
	return false;
}

uint32_t backoff_next(struct backoff *b, uint64_t ran_ms)
{
	uint32_t delay;

	if (b->next_ms == 0 || ran_ms >= BACKOFF_RESET_MS)
		b->next_ms = BACKOFF_MIN_MS;
	delay = b->next_ms;
	b->next_ms = delay >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : delay * 2;
	return delay;
}

/*
 * restart.c: the restart policy and its backoff, as plain arithmetic so
 * that the unit tests can check it without processes or clocks.
 *
 * A program that keeps failing is restarted after 100 ms, then 200 ms,
 * 400 ms... up to 30 s between tries: quick recovery from a one-off
 * crash, no CPU burnt on a crash loop. A run of 60 s or more counts as a
 * success and the next failure starts again from 100 ms.
 */
#include "pid1.h"

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

uint32_t backoff_next_cfg(struct backoff *b, uint64_t ran_ms, uint32_t initial, uint32_t max,
			  uint32_t reset)
{
	uint32_t delay;

	initial = initial ? initial : BACKOFF_MIN_MS;
	max = max ? max : BACKOFF_MAX_MS;
	reset = reset ? reset : BACKOFF_RESET_MS;
	if (max < initial)
		max = initial;
	if (b->next_ms == 0 || ran_ms >= reset)
		b->next_ms = initial;
	delay = b->next_ms;
	b->next_ms = delay >= max / 2 ? max : delay * 2;
	return delay;
}

uint32_t backoff_next(struct backoff *b, uint64_t ran_ms)
{
	return backoff_next_cfg(b, ran_ms, 0, 0, 0);
}

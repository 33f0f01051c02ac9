/*
 * update/units.h: what PID 1 says its units are doing (units.c), for mark-good's critical
 * units and update watch's record of the units not up: its own header, update.h being at
 * its size bound.
 */
#ifndef WISP_UPDATE_UNITS_H
#define WISP_UPDATE_UNITS_H

#include "../lib/base.h"

#define UNIT_STEADY_MS 10000u /* a critical unit without a health check: up this long */

struct unit_now {
	char name[DECL_NAME_MAX + 1], state[32], health[32];
	uint64_t uptime_ms;
	bool has_uptime;
};

/* Every unit PID 1 has, however many, in *v (malloc'd: the caller frees it; NULL if none).
 * Returns 0, or -1 (*v NULL) when the socket does not answer in full. */
int units_ps(struct unit_now **v, size_t *n, struct err *e);
/* units_ps's reading: the P_UNIT records on fd (a ps request's answer) up to its P_OK. */
int units_read(int fd, struct unit_now **v, size_t *n, struct err *e);
/* 1: up steadily: healthy (its check passed), done (ended well), or running without a health
 * check for UNIT_STEADY_MS. 0: not (yet); *wait_ms > 0: it will be if it runs that long more. */
int unit_steady(const struct unit_now *u, uint64_t *wait_ms);
/* 0 when each of names is a unit of v up steadily, else -1 and the first that is not, or
 * that PID 1 has not ("critical unit web: backoff, health none"). */
int units_critical_up(const struct unit_now *v, size_t n, const char *const *names, size_t nnames,
		      struct err *e);
/* The units not steady, "web (backoff, health none), ...", cut to size; "" if none. */
void units_not_up(const struct unit_now *v, size_t n, char *out, size_t size);

#endif /* WISP_UPDATE_UNITS_H */

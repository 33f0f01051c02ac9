/*
 * net/rate.c: a container's bandwidth limit as tc(8) writes rates,
 *     NUMBER{bit|kbit|mbit|gbit}
 * decimal bits per second (1mbit = 1 000 000 bit/s), a whole number.
 * The unit is required: tc reads a bare number as bits, docker as bytes,
 * and "bps" is bytes to tc; text that could be read two ways is refused.
 * From NET_RATE_MIN to NET_RATE_MAX (net.h; net/tc.c says why).
 * PID 1 checks declarations by the same rules (init/lib/decl.c).
 */
#include "net.h"

#include <string.h>

int net_rate_parse(const char *text, uint64_t *bps, struct cl_err *e)
{
	static const char *const units[] = {"bit", "kbit", "mbit", "gbit"};
	const char *p = text;
	uint64_t n = 0, mul = 1;
	size_t u = 0;

	for (; *p >= '0' && *p <= '9'; p++) /* past NET_RATE_MAX n stays there: no overflow */
		n = n > NET_RATE_MAX ? n : n * 10 + (uint64_t)(*p - '0');
	while (u < 4 && strcmp(p, units[u]) != 0)
		u++, mul *= 1000;
	if (p == text || u == 4)
		return cl_error(
		    e, 0, "\"%s\": not a rate (a whole number and bit, kbit, mbit or gbit)", text);
	if (n > NET_RATE_MAX / mul || n * mul < NET_RATE_MIN)
		return cl_error(e, 0, "\"%s\": not from 100kbit to 16gbit", text);
	*bps = n * mul;
	return 0;
}

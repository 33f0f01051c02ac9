/*
 * parse.c: the value syntaxes of declarations (durations, sizes, cpu.max,
 * signal names), as plain functions the unit tests can hammer.
 *
 * Everything is strict: no blanks, no signs, no silent truncation. A
 * declaration value that is almost right is a typo to report, not a
 * guess to make in PID 1.
 */
#include "decl.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Leading decimal digits of s as a number (at most 18 of them); end after them. */
static int digits(const char *s, uint64_t *v, const char **end)
{
	size_t n = 0;

	*v = 0;
	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 18)
			return -1;
		*v = *v * 10 + (uint64_t)(s[n] - '0');
		n++;
	}
	*end = s + n;
	return n == 0 ? -1 : 0;
}

int parse_duration(const char *s, uint32_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *end;
	uint64_t v;

	if (digits(s, &v, &end) < 0)
		return -1;
	if (*end == '\0')
		return v == 0 ? (*ms = 0, 0) : -1; /* a bare number has no unit, except 0 */
	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v > UINT32_MAX / units[i].ms)
				return -1;
			*ms = (uint32_t)(v * units[i].ms);
			return 0;
		}
	return -1;
}

int parse_size(const char *s, uint64_t *bytes)
{
	const char *end;
	uint64_t v, mul = 1;

	if (digits(s, &v, &end) < 0)
		return -1;
	if (end[0] != '\0') {
		const char *sfx = strchr("KMGT", end[0]);
		/* "64M", "64MiB" and "64MB" all mean 64 * 2^20: memory is counted in pages. */
		if (!sfx || !(end[1] == '\0' || !strcmp(end + 1, "B") || !strcmp(end + 1, "iB")))
			return -1;
		mul = 1ull << (10 * (sfx - "KMGT" + 1));
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

/* "0.5", "2", "1.25" -> quota per 100 ms period. */
static int cpus(const char *s, uint64_t *quota)
{
	uint64_t whole, frac = 0, scale = 100000;
	const char *end;

	if (digits(s, &whole, &end) < 0 || whole > 4096)
		return -1;
	if (*end == '.') {
		const char *p = end + 1;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
		end = p;
	}
	if (*end != '\0')
		return -1;
	*quota = whole * 100000 + frac;
	/* The kernel refuses quotas under 1 ms. */
	return *quota >= 1000 ? 0 : -1;
}

int parse_cpu_max(const char *s, char *out, size_t size)
{
	uint64_t quota, period = 100000;
	const char *sp = strchr(s, ' ');
	const char *end;

	if (sp) {
		/* "QUOTA PERIOD" or "max PERIOD", as cgroup.max itself reads */
		if (digits(sp + 1, &period, &end) < 0 || *end || period < 1000 || period > 1000000)
			return -1;
		if (!strncmp(s, "max ", 4))
			return fmt_path(out, size, "max %llu", (unsigned long long)period);
		if (digits(s, &quota, &end) < 0 || end != sp || quota < 1000)
			return -1;
	} else if (!strcmp(s, "max")) {
		return fmt_path(out, size, "max 100000");
	} else if (cpus(s, &quota) < 0) {
		return -1;
	}
	return fmt_path(out, size, "%llu %llu", (unsigned long long)quota,
			(unsigned long long)period);
}

int parse_signal(const char *s)
{
	static const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGKILL, SIGUSR1,
				   SIGUSR2, SIGTERM, SIGALRM, SIGPWR,  SIGCONT};
	char buf[16];
	const char *end;
	uint64_t v;

	if (s[0] >= '0' && s[0] <= '9')
		return digits(s, &v, &end) == 0 && !*end && v >= 1 && v < 65 ? (int)v : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		if (!strcmp(s, signal_name(sigs[i], buf)))
			return sigs[i];
	return -1;
}

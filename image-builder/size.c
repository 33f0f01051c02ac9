/* size.c: "64MiB"-style sizes in the spec, and sizes in the summary. */
#include "image-builder.h"

#include <ctype.h>
#include <string.h>

static const struct {
	const char *suffix;
	uint64_t mult;
} units[] = {
    {"", 1}, {"B", 1}, {"KiB", IB_KIB}, {"MiB", IB_MIB}, {"GiB", IB_GIB},
};

static int lookup_unit(const char *s, uint64_t *mult)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].suffix) == 0) {
			*mult = units[i].mult;
			return 0;
		}
	}
	return -1;
}

int ib_parse_size(const char *s, uint64_t *out, const char **problem)
{
	uint64_t n = 0, mult;
	const char *p = s;

	if (!isdigit((unsigned char)*p)) {
		*problem = "expected a size like 64MiB (a number with KiB, MiB or GiB)";
		return -1;
	}
	/* Our own digit loop: strtoull accepts signs, blanks and hex. */
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - 9) / 10) {
			*problem = "size too large";
			return -1;
		}
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (lookup_unit(p, &mult) < 0) {
		*problem = "unknown size suffix (use KiB, MiB or GiB)";
		return -1;
	}
	if (n == 0) {
		*problem = "size must not be zero";
		return -1;
	}
	if (n > UINT64_MAX / mult / 2) { /* keep sums of sizes far from overflow */
		*problem = "size too large";
		return -1;
	}
	*out = n * mult;
	return 0;
}

const char *ib_human_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= IB_GIB)
		snprintf(buf, len, "%.1f GiB", (double)bytes / (double)IB_GIB);
	else if (bytes >= IB_MIB)
		snprintf(buf, len, "%.1f MiB", (double)bytes / (double)IB_MIB);
	else if (bytes >= IB_KIB)
		snprintf(buf, len, "%.1f KiB", (double)bytes / (double)IB_KIB);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	return buf;
}

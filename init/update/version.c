/*
 * version.c: Wisp versions ("0.1.0", WISP_VERSION) and their order.
 *
 * Numbers, not strings, are compared: 0.1.10 comes after 0.1.9. The syntax is
 * strict (no leading zeros, no sign, no pre-release suffix) so that one version
 * has one spelling, and a manifest that names it cannot be read two ways.
 */
#include "update.h"

#include <stdio.h>
#include <string.h>

/* One number at *s, below 2^32, no leading zero; *s moves past it. */
static int number(const char **s, uint32_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	*s = p;
	return 0;
}

int upd_version_parse(const char *s, struct upd_version *v, struct err *e)
{
	const char *p = s;

	if (strlen(s) > UPD_VERSION_LEN)
		return err_set(e, 0,
			       "version \"%.*s...\": longer than %d characters (MAJOR.MINOR.PATCH, "
			       "each below 2^32)",
			       UPD_VERSION_LEN, s, UPD_VERSION_LEN);
	if (number(&p, &v->major) < 0 || *p++ != '.' || number(&p, &v->minor) < 0 || *p++ != '.' ||
	    number(&p, &v->patch) < 0 || *p)
		return err_set(e, 0,
			       "version \"%s\": not MAJOR.MINOR.PATCH (decimal numbers, each "
			       "below 2^32)",
			       s);
	return 0;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

int upd_version_cmp(const struct upd_version *a, const struct upd_version *b)
{
	int c = cmp_u32(a->major, b->major);

	if (c == 0)
		c = cmp_u32(a->minor, b->minor);
	if (c == 0)
		c = cmp_u32(a->patch, b->patch);
	return c;
}

/* The booted slot's version is on the ESP, which nothing signs: taken only when it is
 * higher, so that a changed slot.cfg can raise the floor (refusing updates, which
 * --allow-downgrade overrides) but never lower it below the updater's own. */
void upd_version_floor(const char *own, const char *installed, struct upd_version *floor,
		       char text[UPD_VERSION_MAX])
{
	struct upd_version v;
	struct err e;

	if (upd_version_parse(own, floor, &e) < 0)
		memset(floor, 0, sizeof(*floor));
	snprintf(text, UPD_VERSION_MAX, "%s", own);
	if (installed && upd_version_parse(installed, &v, &e) == 0 &&
	    upd_version_cmp(&v, floor) > 0) {
		*floor = v;
		snprintf(text, UPD_VERSION_MAX, "%s", installed);
	}
}

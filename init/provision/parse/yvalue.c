/*
 * yvalue.c: a YAML scalar's value as cloud-init sees it.
 *
 * cloud-init loads user-data with PyYAML, which follows YAML 1.1: a plain
 * (unquoted, untagged) scalar may be a boolean (yes, On, FALSE), an
 * integer (384, 0600 octal, 0x180, 0b1, 6:24 base 60, 1_000), a float or
 * null (~, null, nothing); anything quoted is a string. cloud-init's
 * modules then read each type their own way (write_files takes an
 * integer as the mode itself and a string as octal text). The tree keeps
 * every scalar as text plus whether it was plain (lib/ytree.h), so the
 * resolution is done here, with PyYAML's implicit resolvers' rules
 * (yaml/resolver.py) and its constructors' arithmetic (yaml/constructor.py),
 * and so are the readings of cloud-init's helpers (cloudinit/util.py).
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

/* PyYAML's bool resolver: these spellings only (no y/n, no tRue). */
static int yaml_bool(const char *s)
{
	static const char *const t[] = {"yes",	"Yes", "YES", "true", "True",
					"TRUE", "on",  "On",  "ON"};
	static const char *const f[] = {"no",	 "No",	"NO",  "false", "False",
					"FALSE", "off", "Off", "OFF"};

	return one_of(s, t, ARRAY_LEN(t)) ? 1 : one_of(s, f, ARRAY_LEN(f)) ? 0 : -1;
}

static bool yaml_null(const char *s)
{
	static const char *const v[] = {"", "~", "null", "Null", "NULL"};

	return one_of(s, v, ARRAY_LEN(v));
}

static int digit_of(char c)
{
	return isdigit((unsigned char)c)    ? c - '0'
	       : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10
					    : 99;
}

/* Digits of base (and '_', skipped) from s to its end into *v; false if another char
 * or no digit at all. Overflow only clears *fits. */
static bool digits(const char *s, int base, long long *v, bool *fits)
{
	bool any = false;

	for (; *s; s++) {
		int d = digit_of(*s);
		if (*s == '_')
			continue;
		if (d >= base)
			return false;
		any = true;
		if (*v > (LLONG_MAX - d) / base)
			*fits = false;
		else
			*v = *v * base + d;
	}
	return any;
}

/* [1-9][0-9_]*(:[0-5]?[0-9])+ (after the sign): base 60, as PyYAML reads 1:20 (80). */
static bool sexagesimal(const char *s, long long *v, bool *fits)
{
	const char *colon = strchr(s, ':');
	char first[32];

	if (!colon || !(*s >= '1' && *s <= '9') || (size_t)(colon - s) >= sizeof(first))
		return false;
	memcpy(first, s, (size_t)(colon - s)), first[colon - s] = '\0';
	if (!digits(first, 10, v, fits))
		return false;
	for (s = colon + 1;;) { /* each later part: [0-5]?[0-9] */
		size_t n = strcspn(s, ":");
		int part;
		if (n < 1 || n > 2 || !isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[n - 1]) || (n == 2 && s[0] > '5'))
			return false;
		part = n == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
		if (*v > LLONG_MAX / 60 - 1)
			*fits = false;
		else
			*v = *v * 60 + part;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

/* PyYAML's int resolver and constructor. */
static bool yaml_int(const char *s, struct yvalue *out)
{
	int sign = *s == '-' ? -1 : 1;
	long long v = 0;
	bool fits = true, ok;

	s += *s == '-' || *s == '+';
	if (!strcmp(s, "0"))
		ok = true;
	else if (!strncmp(s, "0b", 2))
		ok = digits(s + 2, 2, &v, &fits);
	else if (!strncmp(s, "0x", 2))
		ok = digits(s + 2, 16, &v, &fits);
	else if (s[0] == '0') /* 0[0-7_]+: "0_" is 0 */
		ok = s[1] && (digits(s + 1, 8, &v, &fits) || !s[1 + strspn(s + 1, "_")]);
	else if (strchr(s, ':'))
		ok = sexagesimal(s, &v, &fits);
	else
		ok = *s >= '1' && *s <= '9' && digits(s, 10, &v, &fits);
	if (!ok)
		return false;
	out->type = YV_INT;
	out->fits = fits;
	out->i = sign * v;
	out->f = (double)out->i;
	return true;
}

/* PyYAML's float resolver: a '.' is required (1.5, 1., .5, 1.0e+3, 1:30.5, .inf, .nan). */
static bool yaml_float(const char *s, struct yvalue *out)
{
	const char *p = s + (*s == '-' || *s == '+');
	char buf[64], *o = buf, *end;

	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		out->f = *s == '-' ? -INFINITY : INFINITY;
	} else if (p == s && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) {
		out->f = NAN;
	} else {
		/* [0-9][0-9_]*.[0-9_]*([eE][-+][0-9]+)? or .[0-9][0-9_]*(...)? (no sign) */
		if (!isdigit((unsigned char)*p) &&
		    !(p == s && *p == '.' && isdigit((unsigned char)p[1])))
			return false;
		if (strchr(p, ':') || strlen(s) >= sizeof(buf))
			return false; /* base 60 floats: nobody writes a mode or a delay so */
		for (const char *q = s; *q; q++)
			if (*q != '_')
				*o++ = *q;
		*o = '\0';
		const char *dot = strchr(buf, '.'), *e = strpbrk(buf, "eE");
		if (!dot || (e && (e < dot || (e[1] != '-' && e[1] != '+') ||
				   !isdigit((unsigned char)e[2]))))
			return false;
		errno = 0;
		out->f = strtod(buf, &end);
		if (*end)
			return false;
	}
	out->type = YV_FLOAT;
	out->fits = out->f > -9e18 && out->f < 9e18; /* NaN and the infinities: no */
	out->i = out->fits ? (long long)out->f : 0;  /* Python's int(): toward zero */
	return true;
}

struct yvalue yv_resolve(const struct ynode *n)
{
	struct yvalue v = {.type = YV_STR, .fits = true};
	int b;

	if (!n || n->type != Y_SCALAR) {
		v.type = YV_OTHER;
		return v;
	}
	v.s = n->str;
	if (!n->plain)
		return v;
	if ((b = yaml_bool(n->str)) >= 0)
		v.type = YV_BOOL, v.i = b, v.f = b;
	else if (yaml_null(n->str))
		v.type = YV_NULL;
	else if (!yaml_float(n->str, &v) && !yaml_int(n->str, &v))
		v.type = YV_STR;
	return v;
}

/* str(val).lower().strip() in the set, for a string or an integer (str(1) is "1"). */
static bool str_in(const struct yvalue *v, const char *const *set, size_t n)
{
	char buf[16];
	size_t len;
	const char *s = v->s;

	if (v->type == YV_INT) /* str() of an int: its decimal digits; only 0 and 1 can match */
		return v->fits && (v->i == 0 || v->i == 1) && one_of(v->i ? "1" : "0", set, n);
	if (v->type != YV_STR)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= sizeof(buf))
		return false;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[len] = '\0';
	return one_of(buf, set, n);
}

bool yv_is_true(const struct yvalue *v)
{
	static const char *const t[] = {"true", "1", "on", "yes"};

	return v->type == YV_BOOL ? v->i == 1 : str_in(v, t, ARRAY_LEN(t));
}

bool yv_is_false(const struct yvalue *v)
{
	static const char *const f[] = {"off", "0", "no", "false"};

	return v->type == YV_BOOL ? v->i == 0 : str_in(v, f, ARRAY_LEN(f));
}

bool yv_truthy(const struct yvalue *v)
{
	switch (v->type) {
	case YV_NULL:
		return false;
	case YV_BOOL:
	case YV_INT:
		return v->i != 0 || !v->fits;
	case YV_FLOAT:
		return v->f != 0; /* NaN too, as in Python */
	case YV_STR:
		return *v->s != '\0';
	default:
		return true; /* a non-empty list or mapping; the tree keeps no empty one apart */
	}
}

bool yv_translate(const struct yvalue *v)
{
	return yv_truthy(v) && (v->type == YV_BOOL ? v->i == 1 : yv_is_true(v));
}

/* Python's int(s, 8): blanks around, a sign, "0o", '_' between digits. */
int yv_octal(const char *s, long long *out)
{
	int sign = 1;
	long long v = 0;
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len && (*s == '-' || *s == '+'))
		sign = *s == '-' ? -1 : 1, s++, len--;
	if (len >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		s += 2, len -= 2;
		if (len && *s == '_') /* int("0o_644", 8) is 420 */
			s++, len--;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_' && i > 0 && i + 1 < len && s[i + 1] != '_')
			continue;
		if (s[i] < '0' || s[i] > '7' || v > 0777777777)
			return -1;
		v = v * 8 + (s[i] - '0');
	}
	if (!len)
		return -1;
	*out = sign * v;
	return 0;
}

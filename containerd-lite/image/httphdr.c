/* image/httphdr.c: the few HTTP header values a registry client must
 * understand, parsed without libcurl (and unit-tested alone):
 *
 *   WWW-Authenticate: Bearer realm="https://auth/token",service="reg",scope="repository:x:pull"
 *   Content-Range:    bytes 100-199/200
 *
 * and the origin of a URL, which decides whether a redirect may carry
 * the registry's Authorization (never to another origin). */
#include "pull.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The auth-params we keep, by name (case-insensitive, RFC 7235). */
static const struct {
	const char *name;
	size_t off, size;
} params[] = {
    {"realm", offsetof(struct img_challenge, realm), sizeof(((struct img_challenge *)0)->realm)},
    {"service", offsetof(struct img_challenge, service),
     sizeof(((struct img_challenge *)0)->service)},
    {"scope", offsetof(struct img_challenge, scope), sizeof(((struct img_challenge *)0)->scope)},
};

static bool tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A token or a quoted-string (backslash escapes) at *p into out. */
static int param_value(const char **p, char *out, size_t n)
{
	const char *s = *p;
	size_t o = 0;

	if (*s != '"') {
		while (tchar(*s) || *s == '/' || *s == ':' || *s == '=')
			if (o + 1 < n)
				out[o++] = *s++;
			else
				return -1;
	} else {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			if (o + 1 >= n)
				return -1;
			out[o++] = *s;
		}
		if (*s++ != '"')
			return -1;
	}
	out[o] = 0;
	*p = s;
	return 0;
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

int img_challenge_parse(const char *v, struct img_challenge *c, struct cl_err *err)
{
	const char *p = v;
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	skip_ws(&p);
	while (tchar(p[n]))
		n++;
	if (n == 0 || n >= sizeof(c->scheme))
		return cl_error(err, 0, "WWW-Authenticate %.200s: no scheme", v);
	memcpy(c->scheme, p, n);
	for (p += n; skip_ws(&p), *p; p += *p == ',') {
		char name[32], value[1024];
		size_t k = 0;

		while (tchar(p[k]) && k + 1 < sizeof(name))
			name[k] = p[k], k++;
		name[k] = 0;
		p += k;
		skip_ws(&p);
		if (k == 0 || *p++ != '=' ||
		    (skip_ws(&p), param_value(&p, value, sizeof(value))) < 0)
			return cl_error(err, 0, "WWW-Authenticate %.200s: bad parameter", v);
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			if (!strcasecmp(name, params[i].name))
				snprintf((char *)c + params[i].off, params[i].size, "%s", value);
		skip_ws(&p);
		if (*p && *p != ',')
			return cl_error(err, 0, "WWW-Authenticate %.200s: ',' expected", v);
	}
	if (!strcasecmp(c->scheme, "Bearer") && !c->realm[0])
		return cl_error(err, 0, "WWW-Authenticate %.200s: Bearer without a realm", v);
	return 0;
}

/* An unsigned decimal at *p (no sign, no overflow). */
static int number(const char **p, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	*out = strtoull(*p, &end, 10);
	if (errno == ERANGE)
		return -1;
	*p = end;
	return 0;
}

int img_content_range_parse(const char *v, uint64_t *first, uint64_t *last, int64_t *total,
			    struct cl_err *err)
{
	const char *p = v;
	uint64_t t;

	skip_ws(&p);
	if (strncasecmp(p, "bytes ", 6) != 0)
		goto bad;
	p += 6;
	skip_ws(&p);
	if (number(&p, first) < 0 || *p++ != '-' || number(&p, last) < 0 || *p++ != '/' ||
	    *last < *first)
		goto bad;
	if (*p == '*') {
		*total = -1;
		p++;
	} else if (number(&p, &t) < 0 || t > INT64_MAX || *last >= t) {
		goto bad;
	} else {
		*total = (int64_t)t;
	}
	skip_ws(&p);
	if (*p == '\r' || *p == '\n' || !*p)
		return 0;
bad:
	return cl_error(err, 0, "Content-Range %.100s: not bytes FIRST-LAST/TOTAL", v);
}

/* scheme://host[:port] of url, with the scheme's default port, lowercase. */
static bool origin(const char *url, char *out, size_t n)
{
	const char *sep = strstr(url, "://"), *host, *end, *br;
	size_t sl, hl;
	bool port, https;

	if (!sep)
		return false;
	sl = (size_t)(sep - url);
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)))
		return false; /* userinfo: not a URL of ours */
	hl = (size_t)(end - host);
	br = host[0] == '[' ? memchr(host, ']', hl) : NULL;
	port = br ? br + 1 < end && br[1] == ':' : memchr(host, ':', hl) != NULL;
	https = sl == 5 && !strncasecmp(url, "https", 5);
	if ((size_t)snprintf(out, n, "%.*s://%.*s%s", (int)sl, url, (int)hl, host,
			     port    ? ""
			     : https ? ":443"
				     : ":80") >= n)
		return false;
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return true;
}

bool img_same_origin(const char *a, const char *b)
{
	char oa[512], ob[512];

	return origin(a, oa, sizeof(oa)) && origin(b, ob, sizeof(ob)) && !strcmp(oa, ob);
}

size_t img_url_ip(const char *url, unsigned char out[16])
{
	const char *sep = strstr(url, "://"), *host = sep ? sep + 3 : "";
	char text[64];
	size_t n;

	if (*host == '[') { /* [v6]: up to the bracket */
		n = strcspn(++host, "]/?#");
		if (host[n] != ']' || n >= sizeof(text))
			return 0;
		img_fmt(text, sizeof(text), "%.*s", (int)n, host);
		return inet_pton(AF_INET6, text, out) == 1 ? 16 : 0;
	}
	n = strcspn(host, ":/?#");
	if (!sep || n >= sizeof(text))
		return 0;
	img_fmt(text, sizeof(text), "%.*s", (int)n, host);
	return inet_pton(AF_INET, text, out) == 1 ? 4 : 0;
}

int img_url_escape(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c)) {
			if (o + 1 >= n)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= n)
				return -1;
			o += (size_t)snprintf(out + o, n - o, "%%%02X", c);
		}
	}
	out[o] = 0;
	return 0;
}

/* The userinfo ("user:password@") of the URL whose authority starts at auth: up to its last
 * '@' (the authority ends at a '/', '?', '#' or the word's end), an '@' after it the path's
 * or query's; its length, with the '@', or 0. */
static size_t userinfo_len(const char *auth)
{
	size_t len = 0;

	for (const char *p = auth; *p && !strchr("/?# ", *p); p++)
		if (*p == '@')
			len = (size_t)(p + 1 - auth);
	return len;
}

int img_url_tls(const char *url)
{
	static const char *const schemes[] = {"http://", "https://"}; /* by index: TLS or not */

	for (int i = 0; i < 2; i++)
		if (!strncasecmp(url, schemes[i], strlen(schemes[i])))
			return i;
	return -1;
}

int img_url_no_userinfo(const char *url, const char *prefix, struct cl_err *err)
{
	const char *sep = strstr(url, "://");
	size_t cred = sep ? userinfo_len(sep + 3) : 0;

	if (!cred)
		return 0;
	/* the message is built past the userinfo: a cut URL cannot leave half of it */
	return cl_error(err, 0, "%s%.*s%.300s: credentials in a URL are not supported", prefix,
			(int)(sep + 3 - url), url, sep + 3 + cred);
}

void img_strip_url_secrets(char *msg)
{
	for (char *u = msg; (u = strstr(u, "://"));) {
		size_t cred = userinfo_len(u += 3);
		char *q, *end;

		memmove(u, u + cred, strlen(u + cred) + 1);
		q = u + strcspn(u, "?# ");
		end = q + strcspn(q, " ");
		if (*q == ' ' || !*q) {
			u = q;
			continue;
		}
		if (end > q + 1 && end[-1] == ':')
			end--;
		memmove(q, end, strlen(end) + 1);
		u = q;
	}
}

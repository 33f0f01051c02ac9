/* image/ref.c: image references normalised as docker does (the grammar
 * of distribution's reference package):
 *
 *   nginx                      docker.io/library/nginx:latest
 *   ghcr.io/org/app:1.4        ghcr.io/org/app:1.4
 *   host:5000/x/y@sha256:HEX   host:5000/x/y@sha256:HEX (no tag)
 *
 * The first component is a registry host only when it has a '.' or a ':'
 * or is "localhost"; otherwise the image is on docker.io, whose one-name
 * images live under library/ and whose API is registry-1.docker.io. */
#include "pull.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define DOCKER_HUB     "docker.io"
#define DOCKER_HUB_API "registry-1.docker.io"

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static const char *path_component_bad(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return "an empty path component";
	while (i < n) {
		size_t run = 0;
		while (i < n && lower_alnum(s[i]))
			i++, run++;
		if (run == 0)
			return isupper((unsigned char)s[i]) ? "repository names must be lowercase"
							    : "a path component must start and end "
							      "with a lowercase letter or a digit";
		if (i == n)
			break;
		if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_'))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return isupper((unsigned char)s[i]) ? "repository names must be lowercase"
							    : "invalid character in the repository";
		if (i == n)
			return "a path component must start and end with a lowercase letter or a "
			       "digit";
	}
	return NULL;
}

/* A DNS label: [A-Za-z0-9-], not starting or ending with '-'. */
static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host[:port]: dot-separated labels or a bracketed IPv6 address; a port
 * of 1 to 5 digits. */
static const char *host_bad(const char *s)
{
	const char *end, *port;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end == s + 1 ||
		    strspn(s + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - s - 1))
			return "invalid IPv6 registry host";
		end++;
	} else {
		end = s + strcspn(s, ":");
		for (const char *l = s, *dot; l <= end; l = dot + 1) {
			dot = memchr(l, '.', (size_t)(end - l)) ?: end;
			if (!label_ok(l, (size_t)(dot - l)))
				return "invalid registry host";
		}
	}
	if (!*end)
		return NULL;
	port = end + 1;
	if (*end != ':' || !*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		return "invalid registry port";
	return NULL;
}

/* A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool tag_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
			return false;
	return true;
}

/* Is the first component (len n) a registry host? */
static bool is_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
	       s[0] == '[';
}

static int bad(struct cl_err *err, const char *in, const char *why)
{
	return cl_error(err, 0, "reference %.300s: %s", in, why);
}

/* Split "NAME[:TAG][@DIGEST]" into its parts, each checked. */
static int split(const char *in, char *name, size_t nn, struct img_ref *r, struct cl_err *err)
{
	char buf[IMG_REF_MAX];
	char *at, *slash, *colon;

	if (!*in || strlen(in) >= sizeof(buf))
		return bad(err, in, *in ? "too long" : "empty");
	memcpy(buf, in, strlen(in) + 1);
	if ((at = strchr(buf, '@'))) {
		*at++ = 0;
		if (!img_digest_valid(at))
			return bad(err, in,
				   "the digest is not sha256: and 64 lowercase hex digits");
		snprintf(r->digest, sizeof(r->digest), "%s", at);
	}
	slash = strrchr(buf, '/');
	colon = strrchr(buf, ':');
	if (colon && (!slash || colon > slash)) {
		*colon++ = 0;
		if (!tag_ok(colon))
			return bad(err, in, "invalid tag");
		snprintf(r->tag, sizeof(r->tag), "%s", colon);
	}
	if (strlen(buf) >= nn)
		return bad(err, in, "name too long");
	memcpy(name, buf, strlen(buf) + 1);
	return 0;
}

/* name -> host and repository, docker's defaults applied. */
static int locate(const char *in, const char *name, struct img_ref *r, struct cl_err *err)
{
	const char *slash = strchr(name, '/'), *path = name, *why;

	if (slash && is_host(name, (size_t)(slash - name))) {
		snprintf(r->host, sizeof(r->host), "%.*s", (int)(slash - name), name);
		if ((why = host_bad(r->host)))
			return bad(err, in, why);
		if (!strcmp(r->host, "index.docker.io"))
			snprintf(r->host, sizeof(r->host), DOCKER_HUB);
		path = slash + 1;
	} else {
		snprintf(r->host, sizeof(r->host), DOCKER_HUB);
	}
	for (const char *p = path, *e;; p = e + 1) {
		e = strchr(p, '/') ?: p + strlen(p);
		if ((why = path_component_bad(p, (size_t)(e - p))))
			return bad(err, in, why);
		if (!*e)
			break;
	}
	if (strlen(path) + 9 >= sizeof(r->repo) || strlen(r->host) + strlen(path) > 255)
		return bad(err, in, "name longer than 255 characters");
	/* the precision only tells the compiler what the check above made sure of */
	snprintf(r->repo, sizeof(r->repo), "%s%.*s",
		 !strcmp(r->host, DOCKER_HUB) && !strchr(path, '/') ? "library/" : "",
		 (int)(sizeof(r->repo) - 9), path);
	snprintf(r->api_host, sizeof(r->api_host), "%s",
		 !strcmp(r->host, DOCKER_HUB) ? DOCKER_HUB_API : r->host);
	return 0;
}

int img_ref_parse(const char *in, struct img_ref *r, struct cl_err *err)
{
	char name[IMG_REF_MAX];

	memset(r, 0, sizeof(*r));
	if (split(in, name, sizeof(name), r, err) < 0 || locate(in, name, r, err) < 0)
		return -1;
	if (!r->tag[0] && !r->digest[0])
		snprintf(r->tag, sizeof(r->tag), "latest");
	/* the name an image is recorded under: docker's full form */
	snprintf(r->full, sizeof(r->full), "%s/%s%s%s%s%s", r->host, r->repo, r->tag[0] ? ":" : "",
		 r->tag, r->digest[0] ? "@" : "", r->digest);
	return 0;
}

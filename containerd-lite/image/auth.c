/* image/auth.c: what a pull authenticates with.
 *
 * Credentials come from a file in Docker's config.json format, of which
 * only "auths" is read:
 *
 *   {"auths": {"registry.example": {"auth": "base64(user:password)"}}}
 *
 * ("username" and "password" are taken instead of "auth" too, as some
 * tools write them.) The file must be readable by its owner only (root,
 * or whoever runs the pull): credentials other users can read are
 * refused rather than used. The bearer token of a challenge comes from
 * the token service as JSON, {"token": ...} or {"access_token": ...}. */
#include "pull.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const char *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
		v |= i + 1 < n ? (uint32_t)(unsigned char)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? (uint32_t)(unsigned char)in[i + 2] : 0;
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

/* Is s base64 of something with a ':' (user:password)? */
static bool auth_ok(const char *s)
{
	size_t n = strlen(s), bits = 0;
	uint32_t acc = 0;
	bool colon = false;

	if (n == 0 || n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *c = strchr(b64, s[i]);
		if (s[i] == '=') {
			if (n - i > 2 || strspn(s + i, "=") != n - i)
				return false;
			break;
		}
		if (!c)
			return false;
		acc = acc << 6 | (uint32_t)(c - b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			colon |= (acc >> bits & 0xff) == ':';
		}
	}
	return colon;
}

/* docker.io's credentials are filed under its index's v1 URL. */
static bool key_names(const char *key, const char *host)
{
	static const char *hub[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
	const char *k = strstr(key, "://") ? strstr(key, "://") + 3 : key;
	size_t kl = strcspn(k, "/");
	bool host_hub = false, key_hub = false;

	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++) {
		host_hub |= !strcmp(host, hub[i]);
		key_hub |= strlen(hub[i]) == kl && !strncmp(k, hub[i], kl);
	}
	return (host_hub && key_hub) || (strlen(host) == kl && !strncmp(k, host, kl));
}

static int entry_auth(json_t *e, const char *path, const char *key, char **basic,
		      struct cl_err *err)
{
	const char *a = json_string_value(json_object_get(e, "auth"));
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *pw = json_string_value(json_object_get(e, "password"));
	char up[1024];

	if (a && !auth_ok(a))
		return cl_error(err, 0, "%s: auths.%.200s.auth: not base64 of user:password", path,
				key);
	if (!a && u && pw && (size_t)snprintf(up, sizeof(up), "%s:%s", u, pw) < sizeof(up))
		return (*basic = base64(up, strlen(up))) ? 0 : cl_error(err, ENOMEM, "%s", path);
	if (!a)
		return cl_error(err, 0, "%s: auths.%.200s: no auth (nor username and password)",
				path, key);
	return (*basic = strdup(a)) ? 0 : cl_error(err, ENOMEM, "%s", path);
}

int img_creds_parse(const char *text, size_t len, const char *path, const char *host, char **basic,
		    struct cl_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je), *auths, *e;
	const char *key;
	int r = 0;

	*basic = NULL;
	if (!root)
		return cl_error(err, 0, "%s: %s (line %d)", path, je.text, je.line);
	auths = json_object_get(root, "auths");
	if (!json_is_object(root) || (auths && !json_is_object(auths)))
		r = cl_error(err, 0, "%s: not a docker config.json (an object with auths)", path);
	json_object_foreach(auths, key, e)
	{
		if (r < 0 || !key_names(key, host))
			continue;
		r = json_is_object(e)
			? entry_auth(e, path, key, basic, err)
			: cl_error(err, 0, "%s: auths.%.200s: not an object", path, key);
		break;
	}
	json_decref(root);
	return r;
}

int img_creds_load(const char *path, bool required, const char *host, char **basic,
		   struct cl_err *err)
{
	struct stat st;
	size_t len;
	char *text;
	int r;

	*basic = NULL;
	if (!(text = img_slurp_path(path, IMG_MAX_JSON, &st, &len, err)))
		return !required && err->num == ENOENT ? 0 : cl_error_wrap(err, "credentials");
	if (st.st_mode & 077)
		r = cl_error(err, 0, "credentials %s: mode %03o: others may read it (chmod 600)",
			     path, st.st_mode & 0777);
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		r = cl_error(err, 0, "credentials %s: owned by uid %u, not root", path, st.st_uid);
	else
		r = img_creds_parse(text, len, path, host, basic, err);
	free(text);
	return r;
}

int img_token_url(const struct img_challenge *c, const char *dflt_scope, char *out, size_t n,
		  struct cl_err *err)
{
	char service[800], scope[1600];
	const char *sc = c->scope[0] ? c->scope : dflt_scope;

	/* curl would send them to the realm, with or instead of ours; first, so that no
	 * message cuts the realm inside a long password */
	if (img_url_no_userinfo(c->realm, "token realm ", err) < 0)
		return -1;
	if (img_url_tls(c->realm) < 0)
		return cl_error(err, 0, "token realm %.300s: not an http(s) URL", c->realm);
	if (img_url_escape(c->service, service, sizeof(service)) < 0 ||
	    img_url_escape(sc, scope, sizeof(scope)) < 0 ||
	    (size_t)snprintf(out, n, "%s%sservice=%s&scope=%s", c->realm,
			     strchr(c->realm, '?') ? "&" : "?", service, scope) >= n)
		return cl_error(err, 0, "token realm %.300s: too long", c->realm);
	return 0;
}

char *img_token_parse(const char *body, size_t len, struct cl_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	const char *t = json_string_value(json_object_get(j, "token"));
	char *out = NULL;

	if (!t || !*t)
		t = json_string_value(json_object_get(j, "access_token"));
	if (!j)
		cl_error(err, 0, "token answer: %s (line %d)", je.text, je.line);
	else if (!t || !*t || strpbrk(t, "\r\n"))
		cl_error(err, 0, "token answer: no token (nor access_token)");
	else if (!(out = strdup(t)))
		cl_error(err, ENOMEM, "token answer");
	json_decref(j);
	return out;
}

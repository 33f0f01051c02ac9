/* image/regcfg.c: per-registry settings for pulls, JSON (the image
 * store's other documents are JSON too), keyed by the host[:port] a
 * reference names:
 *
 *   {"registries": {
 *      "docker.io":        {"mirrors": ["mirror.lan:5000"]},
 *      "mirror.lan:5000":  {"insecure": true},
 *      "registry.example": {"ca": "/etc/wisp/registry-ca.pem"}}}
 *
 * mirrors: hosts tried in order before the registry itself, each with
 * its own entry's settings; insecure: plain HTTP, only for a host named
 * so (TLS is otherwise always verified); ca: a PEM bundle instead of
 * IMG_CA_DEFAULT. An unknown key is an error (a typo must not silently
 * turn a setting off). */
#include "pull.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef int (*setter)(json_t *v, struct img_regcfg *c);

static int set_insecure(json_t *v, struct img_regcfg *c)
{
	if (!json_is_boolean(v))
		return -1;
	c->insecure = json_is_true(v);
	return 0;
}

static int set_ca(json_t *v, struct img_regcfg *c)
{
	const char *s = json_string_value(v);

	if (!s || s[0] != '/' || strlen(s) >= sizeof(c->ca))
		return -1;
	snprintf(c->ca, sizeof(c->ca), "%s", s);
	return 0;
}

static int set_mirrors(json_t *v, struct img_regcfg *c)
{
	struct img_ref probe;
	struct cl_err e;
	size_t i;
	json_t *m;

	if (!json_is_array(v) || json_array_size(v) > IMG_MAX_MIRRORS)
		return -1;
	json_array_foreach(v, i, m)
	{
		char ref[300];
		const char *s = json_string_value(m);
		/* a mirror is a host[:port], checked by the reference grammar */
		if (!s || strlen(s) >= sizeof(c->mirrors[0]) || strchr(s, '/'))
			return -1;
		snprintf(ref, sizeof(ref), "%s/x", s);
		if (img_ref_parse(ref, &probe, &e) < 0 || strcmp(probe.host, s) != 0)
			return -1;
		snprintf(c->mirrors[c->nmirrors++], sizeof(c->mirrors[0]), "%s", s);
	}
	return 0;
}

static const struct {
	const char *key, *want;
	setter set;
} fields[] = {
    {"insecure", "true or false", set_insecure},
    {"ca", "an absolute path", set_ca},
    {"mirrors", "an array of at most 8 host[:port]", set_mirrors},
};

static int entry(json_t *e, const char *path, const char *host, struct img_regcfg *c,
		 struct cl_err *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(e))
		return cl_error(err, 0, "%s: registries.%.200s: not an object", path, host);
	json_object_foreach(e, key, v)
	{
		size_t i = 0;
		while (i < sizeof(fields) / sizeof(fields[0]) && strcmp(key, fields[i].key))
			i++;
		if (i == sizeof(fields) / sizeof(fields[0]))
			return cl_error(err, 0, "%s: registries.%.200s.%.100s: unknown setting",
					path, host, key);
		if (fields[i].set(v, c) < 0)
			return cl_error(err, 0, "%s: registries.%.200s.%s: not %s", path, host, key,
					fields[i].want);
	}
	return 0;
}

int img_regcfg_parse(const char *text, size_t len, const char *path, const char *host,
		     struct img_regcfg *c, struct cl_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je), *regs, *e;
	const char *key;
	int r = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->ca, sizeof(c->ca), IMG_CA_DEFAULT);
	if (!root)
		return cl_error(err, 0, "%s: %s (line %d)", path, je.text, je.line);
	regs = json_object_get(root, "registries");
	if (!json_is_object(root) || json_object_size(root) != (regs ? 1 : 0) ||
	    (regs && !json_is_object(regs)))
		r = cl_error(err, 0, "%s: one key expected, registries (an object)", path);
	/* every entry checked, not only host's: a bad file fails every pull */
	json_object_foreach(regs, key, e)
	{
		struct img_regcfg scratch = {0};
		if (r == 0)
			r = entry(e, path, key, strcmp(key, host) ? &scratch : c, err);
	}
	json_decref(root);
	return r;
}

int img_regcfg_load(const char *path, bool required, const char *host, struct img_regcfg *c,
		    struct cl_err *err)
{
	struct stat st;
	size_t len;
	char *text;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->ca, sizeof(c->ca), IMG_CA_DEFAULT);
	if (!(text = img_slurp_path(path, IMG_MAX_JSON, &st, &len, err)))
		return !required && err->num == ENOENT ? 0 : cl_error_wrap(err, "registries");
	r = img_regcfg_parse(text, len, path, host, c, err);
	free(text);
	return r;
}

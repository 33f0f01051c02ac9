/*
 * regcfg.c: registry entries (user-data's wisp.registries, the image spec's
 * registries) checked and rendered as the files containerd-lite reads at every pull
 * (docs/images.md): the settings in registries.json (mirrors, insecure, ca), the
 * credentials in registry-auth.json (docker's config.json "auths": 0600, root's
 * alone, as the runtime demands) and each CA given as PEM text in
 * registry-ca/HOST.pem. One renderer for both sources, so that an image and a
 * host's user-data can never write the same setting differently. Every string
 * written into JSON was checked by reg_problem() as it was read (hosts of
 * REG_HOST_CHARS, paths of REG_PATH_CHARS, base64), so none needs escaping.
 */
#include "regcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool host_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 256 && !s[strspn(s, REG_HOST_CHARS)] && s[0] != '.' && s[0] != '-';
}

bool reg_path_ok(const char *s)
{
	for (const char *p = s; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || !p[3])
			return false;
	return s[0] == '/' && strlen(s) < 1024 && !s[strspn(s, REG_PATH_CHARS)];
}

bool reg_pem_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((*p < ' ' || *p > '~') && *p != '\n' && *p != '\r' && *p != '\t')
			return false;
	return strstr(s, "-----BEGIN CERTIFICATE-----") != NULL && strlen(s) < (1 << 20);
}

static bool ca_ok(const char *s)
{
	return s[0] == '/' ? reg_path_ok(s) : reg_pem_ok(s);
}

static bool password_ok(const char *s)
{
	return *s && strlen(s) <= 512;
}

static bool user_ok(const char *s)
{
	return password_ok(s) && !strchr(s, ':');
}

/* base64 (the standard alphabet) of text holding a ':', as docker's "auth" */
static bool auth_ok(const char *s)
{
	unsigned char raw[1024];
	ssize_t n;

	return password_ok(s) &&
	       !s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")] &&
	       (n = b64_decode(s, strlen(s), raw, sizeof(raw))) >= 0 && memchr(raw, ':', (size_t)n);
}

static const struct check {
	const char *key;
	bool (*ok)(const char *s);
	const char *problem;
} checks[] = {
    {"host", host_ok, "not a registry host[:port] (docker.io, ghcr.io, 10.0.0.5:5000)"},
    {"mirrors", host_ok, "not a registry host[:port]"},
    {"ca", ca_ok, "neither PEM certificates nor an absolute path"},
    {"username", user_ok, "not a user name (1-512 characters, no ':')"},
    {"password", password_ok, "not a password (1-512 characters)"},
    {"auth", auth_ok, "not base64 of USER:PASSWORD"},
};

const char *reg_problem(const char *key, const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(checks); i++)
		if (!strcmp(checks[i].key, key))
			return s && checks[i].ok(s) ? NULL : checks[i].problem;
	return "unknown key";
}

const char *reg_cfg_problem(const struct reg_cfg *r)
{
	return !r->user != !r->password ? "username and password go together" : NULL;
}

void reg_cfg_free(struct reg_cfg *r)
{
	free(r->host), strv_free(r->mirrors), free(r->ca);
	free(r->user), free(r->password), free(r->auth);
}

/* The files made so far; after a failure, nothing more is added. */
struct out {
	struct reg_file *v;
	size_t n;
	bool failed;
};

/* Take text (malloc'd, or NULL: out of memory) as the file path. */
static void add(struct out *o, const char *path, char *text, size_t len, mode_t mode)
{
	struct reg_file *nv = text && !o->failed ? realloc(o->v, (o->n + 1) * sizeof(*nv)) : NULL;
	char *p = nv ? strdup(path) : NULL;

	if (nv)
		o->v = nv;
	if (!p) {
		free(text);
		o->failed = true;
		return;
	}
	o->v[o->n++] = (struct reg_file){.path = p, .text = text, .len = len, .mode = mode};
}

static bool has_settings(const struct reg_cfg *r)
{
	return r->mirrors || r->insecure >= 0 || r->ca;
}

/* One host's entry of registries.json; its inline CA as a file of its own. */
static void settings(struct out *o, FILE *f, const struct reg_cfg *r, bool *first)
{
	const char *sep = "";
	char ca[300];

	fprintf(f, "%s\n    \"%s\": {", *first ? "" : ",", r->host);
	*first = false;
	if (r->mirrors) {
		fputs("\"mirrors\": [", f);
		for (size_t i = 0; r->mirrors[i]; i++)
			fprintf(f, "%s\"%s\"", i ? ", " : "", r->mirrors[i]);
		fputs("]", f), sep = ", ";
	}
	if (r->insecure >= 0)
		fprintf(f, "%s\"insecure\": %s", sep, r->insecure ? "true" : "false"), sep = ", ";
	if (r->ca && r->ca[0] != '/') {
		snprintf(ca, sizeof(ca), REG_CA_DIR "/%s.pem", r->host);
		add(o, ca, strdup(r->ca), strlen(r->ca), 0644);
	}
	if (r->ca)
		fprintf(f, "%s\"ca\": \"%s\"", sep, r->ca[0] == '/' ? r->ca : ca);
	fputs("}", f);
}

/* "auth": base64 of user:password, as docker login writes it. */
static void credentials(FILE *f, const struct reg_cfg *r, bool *first)
{
	size_t ul = strlen(r->user ? r->user : ""), pl = strlen(r->password ? r->password : "");
	char *pair = r->auth ? NULL : malloc(ul + pl + 2), *b64 = NULL;

	if (!r->auth && pair) {
		memcpy(pair, r->user, ul);
		pair[ul] = ':';
		memcpy(pair + ul + 1, r->password, pl + 1);
		if ((b64 = malloc(4 * ((ul + pl + 3) / 3) + 1)))
			b64_encode((unsigned char *)pair, ul + pl + 1, b64);
	}
	if (r->auth || b64)
		fprintf(f, "%s\n    \"%s\": {\"auth\": \"%s\"}", *first ? "" : ",", r->host,
			r->auth ? r->auth : b64);
	*first = false;
	free(pair), free(b64);
}

/* registries.json (auth false) or registry-auth.json, unless no entry has a part of it. */
static void render(struct out *o, const struct reg_cfg *regs, size_t n, bool auth)
{
	char *buf = NULL;
	size_t len = 0;
	bool first = true;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		o->failed = true;
		return;
	}
	fprintf(f, "{\"%s\": {", auth ? "auths" : "registries");
	for (size_t i = 0; i < n; i++) {
		if (auth && (regs[i].auth || regs[i].user))
			credentials(f, &regs[i], &first);
		else if (!auth && has_settings(&regs[i]))
			settings(o, f, &regs[i], &first);
	}
	fputs("\n}}\n", f);
	if (fclose(f) == 0 && !first) {
		add(o, auth ? REG_AUTH_JSON : REG_JSON, buf, len, auth ? 0600 : 0644);
		return;
	}
	o->failed |= !first; /* fclose failed: the text is not whole */
	free(buf);
}

int reg_render(const struct reg_cfg *regs, size_t n, struct reg_file **files, size_t *nfiles)
{
	struct out o = {0};

	render(&o, regs, n, false);
	render(&o, regs, n, true);
	if (o.failed) {
		reg_files_free(o.v, o.n);
		o.v = NULL, o.n = 0;
	}
	*files = o.v, *nfiles = o.n;
	return o.failed ? -1 : 0;
}

void reg_files_free(struct reg_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].path), free(f[i].text);
	free(f);
}

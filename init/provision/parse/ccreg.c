/*
 * ccreg.c: user-data's wisp.registries (docs/cloud-config.md) as the files
 * containerd-lite reads at every pull (docs/images.md): the settings in
 * /etc/wisp/registries.json (mirrors, insecure, ca), the credentials in
 * /etc/wisp/registry-auth.json (docker's config.json "auths": 0600, root's
 * alone, as the runtime demands) and each CA given as PEM text in
 * /etc/wisp/registry-ca/HOST.pem. They are made here, in the parser child,
 * and join write_files, which the root parent applies at every boot (/etc
 * is rebuilt at each): the parent gets no new kind of record to trust.
 * Every string written into JSON was checked as it was read (hosts of
 * CC_HOST_CHARS, paths of CC_PATH_CHARS, base64), so none needs escaping.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

#define REG_JSON  "/etc/wisp/registries.json"
#define AUTH_JSON "/etc/wisp/registry-auth.json"
#define CA_DIR	  "/etc/wisp/registry-ca/"

bool cc_registry_host(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 256 && !s[strspn(s, CC_HOST_CHARS)] && s[0] != '.' && s[0] != '-';
}

/* An absolute path of the image's, without a ".." component. */
bool cc_registry_path(const char *s)
{
	for (const char *p = s; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || !p[3])
			return false;
	return s[0] == '/' && strlen(s) < 1024 && !s[strspn(s, CC_PATH_CHARS)];
}

/* PEM certificates: printable ASCII and line breaks, at least one BEGIN line. */
bool cc_registry_pem(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((*p < ' ' || *p > '~') && *p != '\n' && *p != '\r' && *p != '\t')
			return false;
	return strstr(s, "-----BEGIN CERTIFICATE-----") != NULL && strlen(s) < (1 << 20);
}

static void add(struct cloudcfg *c, const char *path, char *text, size_t len, mode_t mode)
{
	struct cc_file *nv = text ? realloc(c->files, (c->nfiles + 1) * sizeof(*nv)) : NULL;
	char *p = strdup(path);

	if (!nv || !p) {
		free(text), free(p);
		return;
	}
	c->files = nv;
	c->files[c->nfiles++] =
	    (struct cc_file){.path = p, .content = (unsigned char *)text, .len = len, .mode = mode};
}

static bool has_settings(const struct cc_registry *r)
{
	return r->mirrors || r->insecure >= 0 || r->ca;
}

/* One host's entry of registries.json; its inline CA as a file of its own. */
static void settings(struct cloudcfg *c, FILE *f, const struct cc_registry *r, bool *first)
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
		snprintf(ca, sizeof(ca), CA_DIR "%s.pem", r->host);
		add(c, ca, strdup(r->ca), strlen(r->ca), 0644);
	}
	if (r->ca)
		fprintf(f, "%s\"ca\": \"%s\"", sep, r->ca[0] == '/' ? r->ca : ca);
	fputs("}", f);
}

/* "auth": base64 of user:password, as docker login writes it. */
static void credentials(FILE *f, const struct cc_registry *r, bool *first)
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

static char *render(struct cloudcfg *c, const struct cc_registry *regs, size_t n, bool auth,
		    size_t *len)
{
	char *buf = NULL;
	bool first = true;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fprintf(f, "{\"%s\": {", auth ? "auths" : "registries");
	for (size_t i = 0; i < n; i++) {
		if (auth && (regs[i].auth || regs[i].user))
			credentials(f, &regs[i], &first);
		else if (!auth && has_settings(&regs[i]))
			settings(c, f, &regs[i], &first);
	}
	fputs("\n}}\n", f);
	if (fclose(f) != 0 || first) {
		free(buf);
		return NULL;
	}
	return buf;
}

void cc_registry_files(struct cloudcfg *c, const struct cc_registry *regs, size_t n)
{
	size_t len = 0;
	char *text;

	if ((text = render(c, regs, n, false, &len)))
		add(c, REG_JSON, text, len, 0644);
	if ((text = render(c, regs, n, true, &len)))
		add(c, AUTH_JSON, text, len, 0600);
}

void cc_registry_free(struct cc_registry *r)
{
	free(r->host), strv_free(r->mirrors), free(r->ca);
	free(r->user), free(r->password), free(r->auth);
}

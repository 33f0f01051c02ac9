/*
 * ovfenv.c: Azure's ovf-env.xml, from its provisioning media (ds.c copies
 * it), read in the parser child as cloud-init's OvfEnvXml reads it: the
 * LinuxProvisioningConfigurationSet's HostName (required: without it the
 * file is not Azure's provisioning configuration), UserName, public keys
 * (SSH/PublicKeys/PublicKey's Value; one given only by Fingerprint and
 * Path carries no key: its key is IMDS's publicKeys, which meta.c merges)
 * and CustomData, base64: the user-data (child.c). UserPassword and
 * DisableSshPasswordAuthentication are noted, not used: Wisp logs in by
 * key only. Each of these properties given twice refuses the file. The elements wanted are a table.
 * One bound for all: each element's text has a buffer as long as the file (at most YAML_MAX_BYTES,
 * as the parent read it), so no long value refuses the whole file; each
 * value is then checked against its own limit, and one that fails it is
 * one warning and left out.
 */
#include "parse.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LPC "Environment/ProvisioningSection/LinuxProvisioningConfigurationSet/"

/* The texts (each as long as the file at most, NUL-terminated), and the keys so far. */
struct ovf {
	char *host, *user, *password, *nopw, *custom, *value, *fp;
	char **keys; /* the Values, one line each */
	unsigned nfp, nvalue, nbad;
};

static void on_value(void *ctx, const char *text)
{
	struct ovf *o = ctx;

	if (!*text)
		return; /* an empty Value: a key by fingerprint, as none */
	if (strpbrk(text, "\r\n"))
		o->nbad++; /* more lines of authorized_keys than the one key meant */
	else
		o->keys = strv_push(o->keys, text), o->nvalue++;
}

static void on_fingerprint(void *ctx, const char *text)
{
	(void)text;
	((struct ovf *)ctx)->nfp++;
}

/* The wanted elements: where each one's text goes, and what takes every one of many. */
static const struct ovf_field {
	const char *path;
	size_t off;
	void (*each)(void *ctx, const char *text);
} fields[] = {
    {LPC "HostName", offsetof(struct ovf, host), NULL},
    {LPC "UserName", offsetof(struct ovf, user), NULL},
    {LPC "UserPassword", offsetof(struct ovf, password), NULL},
    {LPC "DisableSshPasswordAuthentication", offsetof(struct ovf, nopw), NULL},
    {LPC "CustomData", offsetof(struct ovf, custom), NULL},
    {LPC "SSH/PublicKeys/PublicKey/Value", offsetof(struct ovf, value), on_value},
    {LPC "SSH/PublicKeys/PublicKey/Fingerprint", offsetof(struct ovf, fp), on_fingerprint},
};

static char **field(struct ovf *o, size_t i)
{
	return (char **)((char *)o + fields[i].off);
}

/* CustomData is strict base64 as Python's b64decode reads it (blanks dropped): only its
 * alphabet, '=' only as the last one or two of a whole quartet. */
static bool b64_strict(const char *s)
{
	size_t n = 0, pad = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			continue;
		if (*s == '=')
			pad++;
		else if (pad || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789+/",
					*s))
			return false;
		n++;
	}
	return n % 4 == 0 && pad <= 2;
}

/* CustomData decoded into m->userdata; an empty one is none (cloud-init: ""). */
static void custom_data(const char *name, const char *text, struct ds_meta *m, struct ud_sink *w)
{
	size_t len = strlen(text);
	unsigned char *out = NULL;
	ssize_t n = -1;

	if (!*text)
		return;
	if (b64_strict(text) && (out = malloc(len / 4 * 3 + 1)))
		n = b64_decode(text, len, out, len / 4 * 3);
	if (n < 0) {
		w->warn(w->ctx, "%s: CustomData %s; no user-data from it", name,
			!b64_strict(text) ? "is not valid base64" : "out of memory");
		free(out);
		return;
	}
	free(m->userdata);
	m->userdata = out, m->userdata_len = (size_t)n;
}

/* The names: host and user replace m's (each checked against its own limit). */
static void names(const char *name, const struct ovf *o, struct ds_meta *m, struct ud_sink *w)
{
	if (strlen(o->host) < sizeof(m->hostname) && !strpbrk(o->host, "\r\n"))
		snprintf(m->hostname, sizeof(m->hostname), "%s", o->host);
	else
		w->warn(w->ctx, "%s: HostName longer than %zu bytes or of more lines; not used",
			name, sizeof(m->hostname) - 1);
	if (*o->user && cc_valid_name(o->user))
		snprintf(m->user, sizeof(m->user), "%s", o->user);
	else if (*o->user)
		w->warn(w->ctx,
			"%s: UserName is not one of [a-z_][a-z0-9_.-]* (at most 32); no default "
			"user from it",
			name);
}

/* What the file gave into m: names, keys added, CustomData as the user-data. */
static void take(const char *name, const struct ovf *o, struct ds_meta *m, struct ud_sink *w)
{
	names(name, o, m, w);
	for (char **k = o->keys; k && *k; k++)
		meta_add_key(m, *k);
	if (o->nbad)
		w->warn(w->ctx, "%s: %u public key Value(s) of more than one line; ignored", name,
			o->nbad);
	if (o->nfp > o->nvalue && w->info)
		w->info(w->ctx,
			"%s: %u public key(s) named by fingerprint only: their keys are IMDS's "
			"publicKeys",
			name, o->nfp - o->nvalue);
	if ((*o->password || (*o->nopw && strcmp(o->nopw, "true"))) && w->info)
		w->info(w->ctx,
			"%s: a password or password logins asked for: not used (SSH keys only)",
			name);
	custom_data(name, o->custom, m, w);
}

/* The want table over o's buffers, len + 1 bytes each. -1: out of memory. */
static int wants(struct ovf *o, size_t len, struct xml_want *want)
{
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		if (!(*field(o, i) = malloc(len + 1)))
			return -1;
		/* a property given twice refuses the file (cloud-init: "multiple configuration
		 * matches"): which HostName or CustomData would be meant? */
		want[i] = (struct xml_want){
		    fields[i].path, *field(o, i), len + 1, fields[i].each, o, !fields[i].each};
	}
	return 0;
}

static void ovf_free(struct ovf *o, size_t len)
{
	if (!o)
		return;
	if (o->password) /* not left in the child's heap */
		memset(o->password, 0, len + 1);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		free(*field(o, i));
	strv_free(o->keys);
	free(o);
}

void meta_ovf(const char *name, const char *buf, size_t len, struct ds_meta *m, struct ud_sink *w)
{
	struct xml_want want[ARRAY_LEN(fields)];
	struct ovf *o = calloc(1, sizeof(*o));
	char why[128];
	int line;

	if (!o || wants(o, len, want) < 0)
		w->warn(w->ctx, "%s: out of memory; not read", name);
	else if (xml_texts(buf, len, want, ARRAY_LEN(want), why, &line) < 0)
		w->warn(w->ctx, "%s:%d: %s; Azure's provisioning media not used", name, line, why);
	else if (!*o->host)
		w->warn(w->ctx,
			"%s: no %sHostName: not Azure's provisioning configuration; not used", name,
			LPC);
	else
		take(name, o, m, w);
	ovf_free(o, len);
}

/*
 * minisig.c: minisign's public keys and signatures, checked with libsodium.
 *
 * Operators sign with Debian's minisign (0.11), so its formats are ours:
 *   key.pub:  "untrusted comment: ..." / base64("Ed" || key id (8) || key (32))
 *   x.minisig: "untrusted comment: ..." / base64(alg || key id (8) || sig (64))
 *             "trusted comment: TEXT" / base64(global sig (64))
 * alg "ED" signs BLAKE2b-512 of the data (minisign 0.11's default, -H before),
 * "Ed" the data itself (minisign -l). The global signature covers sig || TEXT,
 * so the trusted comment cannot be changed without the key.
 */
#include "update.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNTRUSTED    "untrusted comment: "
#define TRUSTED	     "trusted comment: "
#define PUB_FILE_MAX 2048

struct lines {
	const char *p, *end;
};

/* The next line (without its '\n'); the last may lack one. false at the end. */
static bool next_line(struct lines *l, const char **line, size_t *n)
{
	const char *nl;

	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	*line = l->p;
	*n = nl ? (size_t)(nl - l->p) : (size_t)(l->end - l->p);
	l->p += *n + (nl != NULL);
	return true;
}

/* Exactly want bytes of standard base64 (with padding) in the line, nothing else. */
static bool b64_exact(const char *line, size_t n, uint8_t *out, size_t want)
{
	size_t got = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, want, line, n, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return got == want && end == line + n;
}

/* A comment line: the prefix, at most UPD_COMMENT_MAX bytes of text, no NUL. */
static bool comment(const char *line, size_t n, const char *prefix, const char **text, size_t *tlen)
{
	size_t pl = strlen(prefix);

	if (n < pl || memcmp(line, prefix, pl) != 0 || n - pl > UPD_COMMENT_MAX ||
	    memchr(line, '\0', n))
		return false;
	*text = line + pl;
	*tlen = n - pl;
	return true;
}

void upd_key_id_str(const uint8_t id[UPD_KEY_ID_LEN], char out[2 * UPD_KEY_ID_LEN + 1])
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 0; i < UPD_KEY_ID_LEN; i++) {
		out[2 * i] = hex[id[UPD_KEY_ID_LEN - 1 - i] >> 4];
		out[2 * i + 1] = hex[id[UPD_KEY_ID_LEN - 1 - i] & 15];
	}
	out[2 * UPD_KEY_ID_LEN] = '\0';
}

int upd_pubkey_parse(const char *text, size_t len, const char *name, struct upd_pubkey *k,
		     struct err *e)
{
	struct lines l = {text, text + len};
	uint8_t raw[2 + UPD_KEY_ID_LEN + UPD_PUBKEY_LEN] = {0};
	char alg[9];
	const char *line, *c;
	size_t n, cn;

	if (!next_line(&l, &line, &n) || !comment(line, n, UNTRUSTED, &c, &cn))
		return err_set(e, 0, "%s: not a minisign public key (no \"%s\" line)", name,
			       UNTRUSTED);
	if (!next_line(&l, &line, &n) || !b64_exact(line, n, raw, sizeof(raw)))
		return err_set(e, 0, "%s: the key line is not the base64 of a minisign key", name);
	if (raw[0] != 'E' || raw[1] != 'd')
		return err_set(e, 0, "%s: key algorithm \"%s\", expected Ed25519 (\"Ed\")", name,
			       text_escaped(raw, 2, alg, sizeof(alg)));
	if (next_line(&l, &line, &n))
		return err_set(e, 0, "%s: text after the key line", name);
	memcpy(k->id, raw + 2, UPD_KEY_ID_LEN);
	memcpy(k->pk, raw + 2 + UPD_KEY_ID_LEN, UPD_PUBKEY_LEN);
	snprintf(k->file, sizeof(k->file), "%s", name);
	return 0;
}

static int key_load(const char *dir, const char *file, struct upd_pubkey *k, struct err *e)
{
	char path[512], text[PUB_FILE_MAX];
	int n;

	if (fmt_path(path, sizeof(path), "%s/%s", dir, file) < 0)
		return err_set(e, ENAMETOOLONG, "%s/%s", dir, file);
	n = read_file(path, text, sizeof(text), e);
	if (n < 0)
		return -1;
	return upd_pubkey_parse(text, (size_t)n, path, k, e);
}

static bool is_pub(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".pub") == 0;
}

/* The .pub names of dir into *v (NULL: none). Sorted by the caller: the key order
 * (and the first error) is the same on every boot. */
static int pub_names(const char *dir, char ***v, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*v = NULL;
	if (!d)
		return err_set(e, errno, "open trusted keys %s", dir);
	while ((de = readdir(d)))
		if (is_pub(de->d_name))
			*v = strv_push(*v, de->d_name);
	closedir(d);
	return 0;
}

int upd_keys_load(const char *dir, struct upd_keys *keys, struct err *e)
{
	char **v;
	size_t n;
	int ret = 0;

	keys->n = 0;
	if (pub_names(dir, &v, e) < 0)
		return -1;
	n = strv_len(v);
	strv_sort(v, n);
	if (n > UPD_KEYS_MAX)
		ret = err_set(e, 0, "trusted keys %s: %zu keys, at most %d", dir, n, UPD_KEYS_MAX);
	for (size_t i = 0; ret == 0 && i < n; i++)
		if (key_load(dir, v[i], &keys->key[keys->n], e) < 0)
			ret = -1;
		else
			keys->n++;
	if (ret == 0 && keys->n == 0)
		ret = err_set(e, 0, "trusted keys %s: no *.pub file", dir);
	strv_free(v);
	return ret;
}

/* The trusted comment is printed by `update verify`: text without control characters
 * (minisign's own uses tabs). */
static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return false;
	return true;
}

static int sig_line(const char *line, size_t n, const char *name, struct upd_sig *s, struct err *e)
{
	uint8_t raw[2 + UPD_KEY_ID_LEN + UPD_SIG_LEN] = {0};
	char alg[9]; /* two bytes, escaped: they come from the bundle */

	if (!b64_exact(line, n, raw, sizeof(raw)))
		return err_set(e, 0, "%s: the signature line is not the base64 of a signature",
			       name);
	if (raw[0] != 'E' || (raw[1] != 'D' && raw[1] != 'd'))
		return err_set(e, 0, "%s: signature algorithm \"%s\", expected \"ED\" or \"Ed\"",
			       name, text_escaped(raw, 2, alg, sizeof(alg)));
	s->prehashed = raw[1] == 'D';
	memcpy(s->id, raw + 2, UPD_KEY_ID_LEN);
	memcpy(s->sig, raw + 2 + UPD_KEY_ID_LEN, UPD_SIG_LEN);
	return 0;
}

int upd_sig_parse(const char *text, size_t len, const char *name, struct upd_sig *s, struct err *e)
{
	struct lines l = {text, text + len};
	const char *line, *c;
	size_t n, cn;

	if (!next_line(&l, &line, &n) || !comment(line, n, UNTRUSTED, &c, &cn))
		return err_set(e, 0, "%s: not a minisign signature (no \"%s\" line)", name,
			       UNTRUSTED);
	if (!next_line(&l, &line, &n))
		return err_set(e, 0, "%s: no signature line", name);
	if (sig_line(line, n, name, s, e) < 0)
		return -1;
	if (!next_line(&l, &line, &n) || !comment(line, n, TRUSTED, &c, &cn) || !printable(c, cn))
		return err_set(e, 0, "%s: no valid \"%s\" line", name, TRUSTED);
	memcpy(s->trusted, c, cn);
	s->trusted[cn] = '\0';
	if (!next_line(&l, &line, &n) || !b64_exact(line, n, s->global, UPD_SIG_LEN))
		return err_set(
		    e, 0, "%s: the global signature line is not the base64 of a signature", name);
	if (next_line(&l, &line, &n))
		return err_set(e, 0, "%s: text after the global signature", name);
	return 0;
}

static const struct upd_pubkey *key_find(const struct upd_keys *keys,
					 const uint8_t id[UPD_KEY_ID_LEN])
{
	for (size_t i = 0; i < keys->n; i++)
		if (memcmp(keys->key[i].id, id, UPD_KEY_ID_LEN) == 0)
			return &keys->key[i];
	return NULL;
}

/* The signature over the data: prehashed ("ED") signs its BLAKE2b-512. */
static bool data_ok(const struct upd_sig *s, const void *data, size_t len, const uint8_t *pk)
{
	uint8_t h[crypto_generichash_BYTES_MAX];

	if (!s->prehashed)
		return crypto_sign_verify_detached(s->sig, data, len, pk) == 0;
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	return crypto_sign_verify_detached(s->sig, h, sizeof(h), pk) == 0;
}

static bool global_ok(const struct upd_sig *s, const uint8_t *pk)
{
	uint8_t msg[UPD_SIG_LEN + UPD_COMMENT_MAX];
	size_t tlen = strlen(s->trusted);

	memcpy(msg, s->sig, UPD_SIG_LEN);
	memcpy(msg + UPD_SIG_LEN, s->trusted, tlen);
	return crypto_sign_verify_detached(s->global, msg, UPD_SIG_LEN + tlen, pk) == 0;
}

/* Both signatures are checked before either failure is reported: which of them fails
 * tells the data changed (the data's only), the trusted comment changed (the global
 * only) or the signature itself is damaged (both: the global covers it). */
int upd_sig_verify(const struct upd_sig *s, const void *data, size_t len,
		   const struct upd_keys *keys, const char *name, const struct upd_pubkey **used,
		   struct err *e)
{
	const struct upd_pubkey *k = key_find(keys, s->id);
	char id[2 * UPD_KEY_ID_LEN + 1];
	bool data_good, global_good;

	upd_key_id_str(s->id, id);
	if (!k)
		return err_set(e, 0, "%s: signed by key %s, which is not a trusted key", name, id);
	data_good = data_ok(s, data, len, k->pk);
	global_good = global_ok(s, k->pk);
	if (!data_good && !global_good)
		return err_set(e, 0, "%s: the signature is damaged or not made by key %s (%s)",
			       name, id, k->file);
	if (!data_good)
		return err_set(e, 0, "%s: the manifest does not match its signature by key %s",
			       name, id);
	if (!global_good)
		return err_set(e, 0,
			       "%s: the trusted comment does not match its signature by key %s",
			       name, id);
	*used = k;
	return 0;
}

/*
 * lib/regcfg.h: per-registry settings and credentials (mirrors, insecure, a CA,
 * username and password or auth) as the files containerd-lite reads at every pull
 * (docs/images.md, "Where the two files come from on a host"). One schema, one set
 * of checks and one renderer for its two sources: user-data's wisp.registries
 * (provision's parser child, parse/ccreg.c) and the image spec's registries
 * (image-builder, into ROOT). PID 1 links none of it.
 */
#ifndef WISP_LIB_REGCFG_H
#define WISP_LIB_REGCFG_H

#include "base.h"

/* ---- b64.c: base64 ---------------------------------------------------- */

/* Decode base64 (blanks skipped, '=' ends it) into out. Returns its length or -1. */
ssize_t b64_decode(const char *in, size_t len, unsigned char *out, size_t size);
/* len bytes as base64 ('=' padded) into out, 4 * ((len + 2) / 3) + 1 bytes. */
void b64_encode(const unsigned char *in, size_t len, char *out);

/* ---- regcfg.c: registries as containerd-lite's files ----------------- */

/* What a host name or an address is made of (a registry's host[:port]). */
#define REG_HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]"
/* what a path written into JSON unescaped may hold */
#define REG_PATH_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/+@:"
#define REG_MIRRORS_MAX 8
#define REG_JSON	"/etc/wisp/registries.json"
#define REG_AUTH_JSON	"/etc/wisp/registry-auth.json"
#define REG_CA_DIR	"/etc/wisp/registry-ca" /* HOST.pem: each CA given as PEM text */

/* One registry's entry, keyed by the host[:port] a reference names; every string was
 * checked with reg_problem() as it was read, so none needs escaping in JSON. */
struct reg_cfg {
	char *host;
	char **mirrors; /* at most REG_MIRRORS_MAX; NULL: none */
	int insecure;	/* -1: not given */
	char *ca;	/* PEM text, or an absolute path in the image */
	char *user, *password, *auth;
};

/* What is wrong with the value s (NULL: not a string) of key: "host" (the entry's own
 * key), "mirrors" (one item), "ca", "username", "password" or "auth"; NULL: nothing. */
const char *reg_problem(const char *key, const char *s);
/* An absolute path without a ".." component, of REG_PATH_CHARS: a CA file in the image. */
bool reg_path_ok(const char *s);
/* PEM certificates: printable ASCII and line breaks, at least one BEGIN line, < 1 MiB
 * (a registry's ca, and cloud-init's ca_certs.trusted). */
bool reg_pem_ok(const char *s);
/* What is wrong with a whole entry (a username without a password, or the reverse). */
const char *reg_cfg_problem(const struct reg_cfg *r);
void reg_cfg_free(struct reg_cfg *r);

/* One file to write: its absolute path, text (NUL-terminated, len bytes) and mode. */
struct reg_file {
	char *path, *text;
	size_t len;
	mode_t mode;
};

/* The N entries at regs as files: REG_CA_DIR/HOST.pem of each PEM ca (0644), then
 * REG_JSON (mirrors, insecure, ca; 0644) and REG_AUTH_JSON (docker config.json's
 * "auths": 0600, as the runtime demands), each only when some entry has what it holds.
 * Returns 0 (*files malloc'd, *nfiles of them) or -1 (out of memory; nothing kept). */
int reg_render(const struct reg_cfg *regs, size_t n, struct reg_file **files, size_t *nfiles);
void reg_files_free(struct reg_file *f, size_t n);

#endif /* WISP_LIB_REGCFG_H */

/*
 * cloudcfg.c: a #cloud-config document -> struct cloudcfg.
 *
 * Only reading and checking here; ccapply.c changes the host. Every
 * problem is one line naming file:line:col and the key path, and the
 * offending key is skipped while the rest of the document still applies
 * (cloud-init's behaviour: a bad module does not stop the others).
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pctx {
	const char *path;
	struct ud_sink *w;
	int problems;
};

static void bad(struct pctx *p, const struct ynode *n, const char *key, const char *what)
{
	p->problems++;
	p->w->warn(p->w->ctx, "%s:%d:%d: %s: %s", p->path, n->line, n->col, key, what);
}

static const char *scalar(const struct ynode *n)
{
	return n && n->type == Y_SCALAR ? n->str : NULL;
}

/* How a cloud-init module reads a key its schema calls a boolean (yvalue.c). */
enum ci_bool {
	CB_TRUTHY,    /* Python's bool(): users' lock_passwd, system, no_create_home */
	CB_TRANSLATE, /* util.get_cfg_option_bool: append, defer, preserve_hostname */
	CB_NOT_FALSE, /* not util.is_false: ntp's enabled */
};

static const char *yv_what(const struct yvalue *y)
{
	static const char *const what[] = {"the string",  "null",	"the boolean",
					   "the integer", "the number", "a collection"};
	return what[y->type];
}

/* The value cloud-init's module takes; anything but a YAML boolean is warned about, as
 * cloud-init's schema check does, and still taken as cloud-init takes it ('no' quoted
 * is a non-empty string: true for lock_passwd). */
static bool get_bool(struct pctx *p, const struct ynode *v, const char *key, enum ci_bool how)
{
	struct yvalue y = yv_resolve(v);
	bool b = how == CB_TRUTHY      ? yv_truthy(&y)
		 : how == CB_TRANSLATE ? yv_translate(&y)
				       : !yv_is_false(&y);
	char what[160];

	if (y.type != YV_BOOL) {
		snprintf(what, sizeof(what),
			 "expected true or false; cloud-init takes %s%s%.40s%s as %s", yv_what(&y),
			 y.type == YV_OTHER ? "" : " \"", y.type == YV_OTHER ? "" : y.s,
			 y.type == YV_OTHER ? "" : "\"", b ? "true" : "false");
		bad(p, v, key, what);
	}
	return b;
}

static bool get_str(struct pctx *p, const struct ynode *v, const char *key, char **out)
{
	const char *s = scalar(v);
	if (!s) {
		bad(p, v, key, "expected a string");
		return false;
	}
	free(*out);
	*out = strdup(s);
	return *out != NULL;
}

/* A list of strings, or one string of comma-separated names (cloud-init accepts both). */
static char **get_list(struct pctx *p, const struct ynode *v, const char *key, bool commas)
{
	char **out = NULL;

	if (v->type == Y_SCALAR && commas) {
		char *dup = strdup(v->str), *save = NULL;
		for (char *t = dup ? strtok_r(dup, ", ", &save) : NULL; t;
		     t = strtok_r(NULL, ", ", &save))
			out = strv_push(out, t);
		free(dup);
		return out;
	}
	if (v->type == Y_SCALAR)
		return strv_push(NULL, v->str);
	if (v->type != Y_SEQ) {
		bad(p, v, key, "expected a list of strings");
		return NULL;
	}
	for (size_t i = 0; i < v->n; i++)
		if (scalar(v->kid[i]))
			out = strv_push(out, v->kid[i]->str);
		else
			bad(p, v->kid[i], key, "expected a string");
	return out;
}

/* key with '-' read as '_': cloud-init's old hyphenated forms (ssh-authorized-keys). */
static bool key_is(const char *k, const char *want)
{
	for (; *k && *want; k++, want++)
		if (*k != *want && !(*k == '-' && *want == '_'))
			return false;
	return !*k && !*want;
}

/* ---- the walker: a table of keys per mapping, in lib/decl.c's fields[]/submap() shape -- */

struct key;

/* One key and its value as the walker found them; path is "prefix.key" for messages. */
struct kv {
	const struct key *k;
	const struct ynode *kn, *v;
	const char *path;
	void *obj; /* the mapping's object: a struct cc_user, struct fctx, ... */
};

struct key {
	const char *name;
	void (*read)(struct pctx *p, const struct kv *a);
	size_t off;   /* generic readers: where in obj */
	bool hyphens; /* "ssh-authorized-keys" for ssh_authorized_keys (cloud-init's old forms) */
	bool commas;  /* lists: "a, b" as well as [a, b] */
};

struct keymap {
	const struct key *keys;
	size_t n;
	const char *unknown; /* what an unknown key is told */
	bool key_in_path;    /* ... under its own path, or under the mapping's */
	bool strict;	     /* a key that is no string is unknown too (else skipped) */
	bool done_only;	     /* values parsed to their end only (the top level) */
};

#define AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

static void walk_map(struct pctx *p, const struct ynode *m, const struct keymap *km,
		     const char *prefix, void *obj)
{
	char path[256];

	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const char *k = scalar(m->kid[i]);
		const struct key *found = NULL;

		if (!k && km->strict)
			bad(p, m->kid[i], prefix, km->unknown);
		if (!k || (km->done_only && !m->kid[i + 1]->done))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		for (size_t j = 0; j < km->n && !found; j++)
			if (km->keys[j].hyphens ? key_is(k, km->keys[j].name)
						: !strcmp(k, km->keys[j].name))
				found = &km->keys[j];
		if (found)
			found->read(p, &(struct kv){found, m->kid[i], m->kid[i + 1], path, obj});
		else
			bad(p, m->kid[i], km->key_in_path ? path : prefix, km->unknown);
	}
}

static void r_str(struct pctx *p, const struct kv *a)
{
	get_str(p, a->v, a->path, AT(a->obj, a->k->off, char *));
}

static void r_truthy(struct pctx *p, const struct kv *a)
{
	*AT(a->obj, a->k->off, bool) = get_bool(p, a->v, a->path, CB_TRUTHY);
}

static void r_bool(struct pctx *p, const struct kv *a)
{
	*AT(a->obj, a->k->off, bool) = get_bool(p, a->v, a->path, CB_TRANSLATE);
}

static void r_enabled(struct pctx *p, const struct kv *a)
{
	*AT(a->obj, a->k->off, bool) = get_bool(p, a->v, a->path, CB_NOT_FALSE);
}

/* A boolean that may be absent (-1), so that a later part's false can replace a true. */
static void r_tri(struct pctx *p, const struct kv *a)
{
	*AT(a->obj, a->k->off, int) = get_bool(p, a->v, a->path, CB_TRANSLATE);
}

/* given twice (or hyphenated too): the last wins */
static void r_list(struct pctx *p, const struct kv *a)
{
	char ***l = AT(a->obj, a->k->off, char **);

	strv_free(*l);
	*l = get_list(p, a->v, a->path, a->k->commas);
}

/* An authorized_keys entry is one line: a line break inside one (a quoted
 * scalar, or a plain one folded over lines) would add lines the user never
 * wrote as keys. Such an entry is dropped with a warning, the others kept. */
static char **key_lines(struct pctx *p, const struct ynode *v, const char *key)
{
	char **l = get_list(p, v, key, false);
	size_t k = 0;

	for (size_t i = 0; l && l[i]; i++) {
		if (strpbrk(l[i], "\r\n")) {
			bad(p, v, key, "a key with a line break inside, ignored");
			free(l[i]);
		} else
			l[k++] = l[i];
	}
	if (l)
		l[k] = NULL;
	return l;
}

static void r_keylist(struct pctx *p, const struct kv *a)
{
	char ***l = AT(a->obj, a->k->off, char **);

	strv_free(*l);
	*l = key_lines(p, a->v, a->path);
}

bool cc_subnet(const char *s)
{
	unsigned long b[5] = {0};
	const char *p = s;

	for (int i = 0; i < 5; i++) {
		size_t n = strspn(p, "0123456789");
		if (n == 0 || n > 3 || p[n] != (i < 3 ? '.' : i == 3 ? '/' : '\0'))
			return false;
		for (size_t j = 0; j < n; j++)
			b[i] = b[i] * 10 + (unsigned long)(p[j] - '0');
		p += n + (i < 4);
	}
	if (b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255 || b[4] < 8 || b[4] > 30)
		return false;
	return ((b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) & ~(~0ul << (32 - b[4])) &
		0xfffffffful) == 0;
}

static bool hhmm(const char *s)
{
	return strlen(s) == 5 && strspn(s, "0123456789") == 2 && s[2] == ':' &&
	       strspn(s + 3, "0123456789") == 2 && (s[0] - '0') * 10 + (s[1] - '0') < 24 &&
	       s[3] < '6';
}

bool cc_update_value(const char *key, const char *s)
{
	size_t n = strlen(s);

	if (!strcmp(key, "url")) /* argv of the unit: no quoting needed, none allowed */
		return n < 1024 && strspn(s, CC_URL_CHARS) == n &&
		       ((n > 7 && !strncasecmp(s, "http://", 7)) ||
			(n > 8 && !strncasecmp(s, "https://", 8))); /* RFC 3986 3.1 */
	if (!strcmp(key, "sha256"))
		return n == 64 && strspn(s, "0123456789abcdef") == 64;
	return !strcmp(s, "now") || !strcmp(s, "never") || hhmm(s);
}

bool cc_fw_port(const char *s, char out[16])
{
	unsigned long port = 0;
	size_t n = strspn(s, "0123456789");
	const char *proto = s[n] ? s + n + 1 : "tcp";

	for (size_t i = 0; i < n && port <= 65535; i++)
		port = port * 10 + (unsigned long)(s[i] - '0');
	if (n == 0 || port == 0 || port > 65535 || (s[n] && s[n] != '/') ||
	    (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		return false;
	snprintf(out, 16, "%lu/%s", port, proto);
	return true;
}

/* A user or group name as useradd takes it: nothing that breaks /etc/passwd. */
bool cc_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.' || (*s == '$' && s[1] == '\0')))
			return false;
	return true;
}

static bool names_valid(char **v)
{
	for (; v && *v; v++)
		if (!cc_valid_name(*v))
			return false;
	return true;
}

bool cc_passwd_safe(const char *s)
{
	return !s || !strpbrk(s, ":\n\r");
}

static void user_free(struct cc_user *u)
{
	free(u->name), free(u->gecos), free(u->shell), free(u->homedir);
	free(u->passwd), free(u->primary_group);
	strv_free(u->groups), strv_free(u->keys);
}

static void r_uid(struct pctx *p, const struct kv *a)
{
	struct cc_user *u = a->obj;
	struct yvalue y = yv_resolve(a->v);
	const char *s = y.type == YV_STR ? y.s : NULL;
	char *end = "";
	/* an integer as YAML reads it (0x3e8, 01750); a string as useradd reads it */
	unsigned long id = s					    ? strtoul(s, &end, 10)
			   : y.type == YV_INT && y.fits && y.i >= 0 ? (unsigned long)y.i
								    : 65535;

	if ((s && (!*s || *end)) || id >= 65535)
		bad(p, a->v, a->path, "expected a number below 65535");
	else
		u->has_uid = true, u->uid = (uid_t)id;
}

static void r_sudo(struct pctx *p, const struct kv *a)
{
	p->w->warn(p->w->ctx, "%s:%d:%d: %s: Wisp has no sudo; ignored", p->path, a->v->line,
		   a->v->col, a->path);
}

#define U(n, fn, m)                                                                                \
	{                                                                                          \
		n, fn, offsetof(struct cc_user, m), true, false                                    \
	}
#define UL(n, m, commas)                                                                           \
	{                                                                                          \
		n, r_list, offsetof(struct cc_user, m), true, commas                               \
	}

static const struct key user_keys[] = {
    U("name", r_str, name),
    U("gecos", r_str, gecos),
    U("shell", r_str, shell),
    U("homedir", r_str, homedir),
    U("primary_group", r_str, primary_group),
    U("passwd", r_str, passwd),
    U("hashed_passwd", r_str, passwd),
    UL("groups", groups, true),
    U("ssh_authorized_keys", r_keylist, keys),
    U("lock_passwd", r_truthy, lock_passwd),
    U("system", r_truthy, system),
    U("no_create_home", r_truthy, no_create_home),
    U("uid", r_uid, uid),
    U("sudo", r_sudo, name),
    U("doas", r_sudo, name),
};

static const struct keymap user_map = {
    user_keys, ARRAY_LEN(user_keys), "unknown key, ignored", true, false, false};

static void parse_user(struct pctx *p, const struct ynode *n, struct cloudcfg *c)
{
	struct cc_user u = {.lock_passwd = true};
	char prefix[40];

	if (scalar(n)) {
		if (!strcmp(n->str, "default")) {
			p->w->warn(p->w->ctx,
				   "%s:%d:%d: users: \"default\": Wisp has no distribution default "
				   "user; ignored",
				   p->path, n->line, n->col);
			return;
		}
		u.name = strdup(n->str); /* a bare name: a user with the defaults */
	} else if (n->type != Y_MAP) {
		bad(p, n, "users", "expected a name or a mapping");
		return;
	}
	snprintf(prefix, sizeof(prefix), "users[%zu]", c->nusers);
	if (n->type == Y_MAP)
		walk_map(p, n, &user_map, prefix, &u);
	if (!u.name || !cc_valid_name(u.name)) {
		bad(p, n, "users", "a user needs a name of [a-z_][a-z0-9_.-]* (at most 32)");
		user_free(&u);
		return;
	}
	if (!cc_passwd_safe(u.gecos) || !cc_passwd_safe(u.shell) || !cc_passwd_safe(u.homedir) ||
	    !cc_passwd_safe(u.passwd) || (u.primary_group && !cc_valid_name(u.primary_group)) ||
	    !names_valid(u.groups)) {
		bad(p, n, "users",
		    "a field holds ':' or a line break, or a group name is invalid; "
		    "user not created");
		user_free(&u);
		return;
	}
	struct cc_user *nv = realloc(c->users, (c->nusers + 1) * sizeof(*nv));
	if (!nv)
		return;
	c->users = nv;
	c->users[c->nusers++] = u;
}

static void parse_users(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	if (scalar(v)) { /* "users: a, b" */
		char **names = get_list(p, v, "users", true);
		for (size_t i = 0; names && names[i]; i++) {
			struct ynode fake = {.type = Y_SCALAR,
					     .str = names[i],
					     .line = v->line,
					     .col = v->col,
					     .done = true};
			parse_user(p, &fake, c);
		}
		strv_free(names);
		return;
	}
	if (v->type != Y_SEQ) {
		bad(p, v, "users", "expected a list");
		return;
	}
	for (size_t i = 0; i < v->n; i++)
		parse_user(p, v->kid[i], c);
}

static void add_group(struct pctx *p, const struct ynode *at, struct cloudcfg *c, const char *name,
		      char **members)
{
	struct cc_group *nv;

	if (!cc_valid_name(name) || !names_valid(members)) {
		bad(p, at, "groups", "invalid group or member name; group not created");
		strv_free(members);
		return;
	}
	nv = realloc(c->groups, (c->ngroups + 1) * sizeof(*nv));
	if (!nv) {
		strv_free(members);
		return;
	}
	c->groups = nv;
	c->groups[c->ngroups].name = strdup(name);
	c->groups[c->ngroups++].members = members;
}

/* groups: [a, b] | "a, b" | [{admins: [u1, u2]}] | {admins: [u1]} */
static void parse_groups(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	if (v->type == Y_MAP) {
		for (size_t i = 0; i + 1 < v->n; i += 2)
			if (scalar(v->kid[i]))
				add_group(p, v->kid[i], c, v->kid[i]->str,
					  scalar(v->kid[i + 1]) && !*v->kid[i + 1]->str
					      ? NULL
					      : get_list(p, v->kid[i + 1], "groups", true));
		return;
	}
	if (scalar(v)) {
		char **names = get_list(p, v, "groups", true);
		for (size_t i = 0; names && names[i]; i++)
			add_group(p, v, c, names[i], NULL);
		strv_free(names);
		return;
	}
	if (v->type != Y_SEQ) {
		bad(p, v, "groups", "expected a list");
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (scalar(v->kid[i]))
			add_group(p, v->kid[i], c, v->kid[i]->str, NULL);
		else if (v->kid[i]->type == Y_MAP)
			parse_groups(p, v->kid[i], c);
		else
			bad(p, v->kid[i], "groups", "expected a name or a mapping");
	}
}

int cc_parse_mode(const char *s, mode_t *mode)
{
	long long m;

	if (yv_octal(s, &m) < 0 || m < 0 || m > 07777)
		return -1;
	*mode = (mode_t)m;
	return 0;
}

/* content + encoding -> bytes. gzip forms stay compressed: ccapply has busybox undo them. */
static bool decode_content(struct pctx *p, const struct ynode *encn, const struct ynode *at,
			   const char *key, const char *content, struct cc_file *f)
{
	static const char *const gz[] = {"gz",	      "gzip",	  "gz+b64",
					 "gz+base64", "gzip+b64", "gzip+base64"};
	const char *enc = encn ? scalar(encn) : "text/plain";

	if (!encn)
		encn = at; /* messages point at the entry */
	size_t len = strlen(content);

	if (!enc) {
		bad(p, encn, key, "expected a string");
		enc = "text/plain";
	}
	for (size_t i = 0; i < ARRAY_LEN(gz); i++)
		if (!strcasecmp(enc, gz[i])) {
			f->gzip = true;
			enc += i < 2 ? strlen(enc) : strcspn(enc, "+") + 1;
		}
	if (!strcasecmp(enc, "b64") || !strcasecmp(enc, "base64")) {
		ssize_t n;
		f->content = malloc(len + 1);
		if (!f->content || (n = b64_decode(content, len, f->content, len)) < 0) {
			bad(p, encn, key, "content is not valid base64; file not written");
			return false;
		}
		f->len = (size_t)n;
		return true;
	}
	if (*enc && strcasecmp(enc, "text/plain") != 0)
		bad(p, encn, key, "unknown encoding; content written as is");
	f->content = (unsigned char *)strdup(content);
	f->len = len;
	return f->content != NULL;
}

/* A write_files entry while it is read: content and encoding are decoded at its end. */
struct fctx {
	struct cc_file f;
	const struct ynode *encn;
	const char *content;
};

static void r_content(struct pctx *p, const struct kv *a)
{
	struct fctx *x = a->obj;

	if (!(x->content = scalar(a->v)))
		bad(p, a->v, a->path, "expected a string"), x->content = "";
}

static void r_encoding(struct pctx *p, const struct kv *a)
{
	(void)p;
	((struct fctx *)a->obj)->encn = a->v;
}

/* cloud-init's decode_perms(): a number is the mode itself (384 and 0600 unquoted, YAML
 * 1.1's octal, are 0600), a string is octal text ('0600', '0o600'), null the default. */
static void r_mode(struct pctx *p, const struct kv *a)
{
	struct yvalue y = yv_resolve(a->v);
	long long m = -1;
	char what[200];

	if (y.type == YV_NULL)
		return;
	if (y.type == YV_STR)
		(void)yv_octal(y.s, &m);
	else if (y.type != YV_OTHER && y.fits)
		m = y.i; /* a float is cut (int()), a boolean is 0 or 1, as in Python */
	if (m < 0 || m > 07777) {
		bad(p, a->v, a->path,
		    "expected octal permissions ('0644', 0644) or the mode as an integer (420); "
		    "0644 used");
		return;
	}
	((struct fctx *)a->obj)->f.mode = (mode_t)m;
	/* 644 unquoted is the integer 644 (01204): what cloud-init does, seldom what was meant */
	if (y.type == YV_BOOL) {
		snprintf(what, sizeof(what), "%s is a boolean: mode 0%llo, as cloud-init takes it",
			 y.s, m);
		bad(p, a->v, a->path, what);
	} else if (y.type == YV_INT && y.s[0] >= '1' && y.s[0] <= '7' && strlen(y.s) >= 3 &&
		   !y.s[strspn(y.s, "01234567")]) {
		snprintf(what, sizeof(what),
			 "%.8s unquoted is a decimal integer: mode 0%llo, as cloud-init takes it; "
			 "write '%.8s' or 0%.8s for octal",
			 y.s, m, y.s, y.s);
		bad(p, a->v, a->path, what);
	}
}

static void r_unsupported(struct pctx *p, const struct kv *a)
{
	bad(p, a->kn, a->path, "not supported; ignored");
}

#define FK(n, fn, m)                                                                               \
	{                                                                                          \
		n, fn, offsetof(struct fctx, m), false, false                                      \
	}

static const struct key file_keys[] = {
    FK("path", r_str, f.path),	   FK("owner", r_str, f.owner),	   FK("content", r_content, f),
    FK("encoding", r_encoding, f), FK("append", r_bool, f.append), FK("defer", r_bool, f.defer),
    FK("permissions", r_mode, f),  FK("source", r_unsupported, f),
};

static const struct keymap file_map = {
    file_keys, ARRAY_LEN(file_keys), "unknown key, ignored", true, false, false};

static void parse_file(struct pctx *p, const struct ynode *n, size_t idx, struct cloudcfg *c)
{
	struct fctx x = {.f = {.mode = 0644}, .content = ""};
	char key[96];

	snprintf(key, sizeof(key), "write_files[%zu]", idx);
	if (n->type != Y_MAP) {
		bad(p, n, key, "expected a mapping");
		return;
	}
	walk_map(p, n, &file_map, key, &x);
	if (!x.f.path || x.f.path[0] != '/') {
		bad(p, n, key, "needs an absolute path; not written");
		free(x.f.path);
		free(x.f.owner);
		return;
	}
	snprintf(key, sizeof(key), "write_files[%zu].encoding", idx);
	if (!decode_content(p, x.encn, n, key, x.content, &x.f)) {
		free(x.f.path);
		free(x.f.owner);
		free(x.f.content);
		return;
	}
	cc_file_add(c, x.f);
}

void cc_file_add(struct cloudcfg *c, struct cc_file f)
{
	struct cc_file *nv =
	    f.path && f.content ? realloc(c->files, (c->nfiles + 1) * sizeof(*nv)) : NULL;

	if (!nv) {
		free(f.path), free(f.owner), free(f.content);
		return;
	}
	c->files = nv;
	c->files[c->nfiles++] = f;
}

static void cmds_free(char ***v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_free(v[i]);
	free(v);
}

/* bootcmd/runcmd: each item a string (sh -c) or a list (argv). */
static char ***parse_cmds(struct pctx *p, const struct ynode *v, const char *key, size_t *n)
{
	char ***out = NULL;

	if (v->type != Y_SEQ) {
		bad(p, v, key, "expected a list of commands");
		return NULL;
	}
	out = calloc(v->n + 1, sizeof(*out));
	for (size_t i = 0; out && i < v->n; i++) {
		const struct ynode *it = v->kid[i];
		char **argv = NULL;

		if (scalar(it)) {
			argv = strv_push(strv_push(strv_push(NULL, "/bin/sh"), "-c"), it->str);
		} else if (it->type == Y_SEQ && it->n > 0) {
			argv = get_list(p, it, key, false);
		} else {
			bad(p, it, key, "expected a string or a list of strings");
			continue;
		}
		if (argv)
			out[(*n)++] = argv;
	}
	return out;
}

char *cc_shell_line(char *const *argv)
{
	size_t len = 1;
	char *out;

	/* sh -c STRING: the string is the line itself */
	if (strv_len(argv) == 3 && !strcmp(argv[0], "/bin/sh") && !strcmp(argv[1], "-c"))
		return strdup(argv[2]);
	out = calloc(1, 1);
	for (size_t i = 0; out && argv[i]; i++) {
		char *q = single_quoted(argv[i]);
		char *no = q ? realloc(out, len + strlen(q) + 1) : NULL;
		if (!no) {
			free(q);
			free(out);
			return NULL;
		}
		out = no;
		if (i)
			strcat(out, " ");
		strcat(out, q);
		len += strlen(q) + 1;
		free(q);
	}
	return out;
}

/* The wisp: key as YAML flow text: every scalar double-quoted, so values stay strings. */
static void emit(FILE *f, const struct ynode *n)
{
	if (n->type == Y_SCALAR || n->type == Y_ALIAS) {
		fputc('"', f);
		for (const char *s = n->str; *s; s++) {
			if (*s == '"' || *s == '\\')
				fputc('\\', f);
			if (*s == '\n')
				fputs("\\n", f);
			else if ((unsigned char)*s < 0x20)
				fprintf(f, "\\x%02x", (unsigned char)*s);
			else
				fputc(*s, f);
		}
		fputc('"', f);
		return;
	}
	fputc(n->type == Y_SEQ ? '[' : '{', f);
	for (size_t i = 0; i < n->n; i++) {
		if (i)
			fputs(n->type == Y_MAP && i % 2 ? ": " : ", ", f);
		emit(f, n->kid[i]);
	}
	fputc(n->type == Y_SEQ ? ']' : '}', f);
}

struct wctx {
	FILE *units;
	struct cloudcfg *c;
};

/* services: and containers: as a declarations file's keys, with where they came from. */
static void r_units(struct pctx *p, const struct kv *a)
{
	FILE *f = ((struct wctx *)a->obj)->units;
	const char *k = a->kn->str;

	fprintf(f, "# from user-data %s:%d:%d (wisp.%s)\n%s: ", p->path, a->v->line, a->v->col, k,
		k);
	emit(f, a->v);
	fputc('\n', f);
}

/* firewall.allow: ports the host firewall opens this boot (docs/network.md) */
static void r_fw_allow(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct wctx *)a->obj)->c;
	char **l = get_list(p, a->v, a->path, false), port[16];

	for (size_t j = 0; l && l[j]; j++)
		if (!cc_fw_port(l[j], port))
			bad(p, a->v, a->path, "not PORT, PORT/tcp or PORT/udp (1-65535); ignored");
		else if (strv_len(c->fw_allow) >= 32)
			bad(p, a->v, a->path, "more than 32 ports; the rest ignored");
		else
			c->fw_allow = strv_push(c->fw_allow, port);
	strv_free(l);
}

static const struct key fw_keys[] = {{"allow", r_fw_allow, 0, false, false}};

static const struct keymap fw_map = {
    fw_keys, ARRAY_LEN(fw_keys), "unknown key, ignored (known: allow)", true, true, false};

static void r_firewall(struct pctx *p, const struct kv *a)
{
	if (a->v->type != Y_MAP)
		bad(p, a->v, a->path, "expected a mapping with \"allow\"");
	else
		walk_map(p, a->v, &fw_map, a->path, a->obj);
}

/* bridge.subnet: the containers' bridge's IPv4 subnet this boot (docs/network.md) */
static void r_bridge_subnet(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct wctx *)a->obj)->c;
	const char *s = a->v->type == Y_SCALAR ? a->v->str : NULL;

	if (!s || !cc_subnet(s)) {
		bad(p, a->v, a->path,
		    "not an IPv4 subnet A.B.C.D/N (N 8-30, no host bits); ignored");
		return;
	}
	free(c->bridge_subnet);
	c->bridge_subnet = strdup(s);
}

static const struct key bridge_keys[] = {{"subnet", r_bridge_subnet, 0, false, false}};

static const struct keymap bridge_map = {
    bridge_keys, ARRAY_LEN(bridge_keys), "unknown key, ignored (known: subnet)", true, true, false};

static void r_bridge(struct pctx *p, const struct kv *a)
{
	if (a->v->type != Y_MAP)
		bad(p, a->v, a->path, "expected a mapping with \"subnet\"");
	else
		walk_map(p, a->v, &bridge_map, a->path, a->obj);
}

/* update.url, .sha256, .reboot: a bundle applied at boot (docs/update.md) */
static void r_update_value(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct wctx *)a->obj)->c;
	const char *s = a->v->type == Y_SCALAR ? a->v->str : NULL;
	const char *key = strrchr(a->path, '.') + 1;
	char **dst = !strcmp(key, "url")      ? &c->update_url
		     : !strcmp(key, "sha256") ? &c->update_sha256
					      : &c->update_reboot;

	if (!s || !cc_update_value(key, s)) {
		bad(p, a->v, a->path,
		    !strcmp(key, "url")	     ? "not an http:// or https:// URL; ignored"
		    : !strcmp(key, "sha256") ? "not 64 lower-case hex digits; ignored"
					     : "not now, never or HH:MM (UTC); ignored");
		return;
	}
	free(*dst);
	*dst = strdup(s);
}

static const struct key update_keys[] = {{"url", r_update_value, 0, false, false},
					 {"sha256", r_update_value, 0, false, false},
					 {"reboot", r_update_value, 0, false, false}};

static const struct keymap update_map = {update_keys,
					 ARRAY_LEN(update_keys),
					 "unknown key, ignored (known: url, sha256, reboot)",
					 true,
					 true,
					 false};

static void r_update(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct wctx *)a->obj)->c;

	if (a->v->type != Y_MAP) {
		bad(p, a->v, a->path, "expected a mapping with \"url\"");
		return;
	}
	walk_map(p, a->v, &update_map, a->path, a->obj);
	/* sha256 and reboot say how to apply a URL's bundle: without one, nothing */
	if (!c->update_url && (c->update_sha256 || c->update_reboot)) {
		bad(p, a->v, a->path, "no (valid) url: sha256 and reboot ignored");
		free(c->update_sha256), c->update_sha256 = NULL;
		free(c->update_reboot), c->update_reboot = NULL;
	}
}

/* A value of registries.HOST refused by lib/regcfg.c's checks (the image spec's too). */
static void reg_bad(struct pctx *p, const struct ynode *n, const char *key, const char *problem,
		    const char *outcome)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "%s; %s", problem, outcome);
	bad(p, n, key, msg);
}

/* registries.HOST.mirrors: host[:port] each, at most 8, asked before HOST */
static void r_reg_mirrors(struct pctx *p, const struct kv *a)
{
	struct reg_cfg *r = a->obj;
	char **l = get_list(p, a->v, a->path, false);
	const char *why;

	for (size_t j = 0; l && l[j]; j++)
		if ((why = reg_problem("mirrors", l[j])))
			reg_bad(p, a->v, a->path, why, "ignored");
		else if (strv_len(r->mirrors) >= REG_MIRRORS_MAX)
			bad(p, a->v, a->path, "more than 8 mirrors; the rest ignored");
		else
			r->mirrors = strv_push(r->mirrors, l[j]);
	strv_free(l);
}

static void r_reg_insecure(struct pctx *p, const struct kv *a)
{
	((struct reg_cfg *)a->obj)->insecure = get_bool(p, a->v, a->path, CB_TRANSLATE);
}

/* ca: PEM text (written to a file of its own), or the path of one in the image;
 * username and password, or auth (base64 of user:password, as docker's config.json) */
static void r_reg_string(struct pctx *p, const struct kv *a)
{
	struct reg_cfg *r = a->obj;
	const char *s = scalar(a->v), *key = a->k->name, *why = reg_problem(key, s);
	char **dst = *key == 'c'   ? &r->ca
		     : *key == 'u' ? &r->user
		     : *key == 'p' ? &r->password
				   : &r->auth;

	if (why) {
		reg_bad(p, a->v, a->path, why, "ignored");
		return;
	}
	free(*dst);
	*dst = strdup(s);
}

static const struct key registry_keys[] = {
    {"mirrors", r_reg_mirrors, 0, false, false}, {"insecure", r_reg_insecure, 0, false, false},
    {"ca", r_reg_string, 0, false, false},	 {"username", r_reg_string, 0, false, false},
    {"password", r_reg_string, 0, false, false}, {"auth", r_reg_string, 0, false, false}};

static const struct keymap registry_map = {
    registry_keys,
    ARRAY_LEN(registry_keys),
    "unknown key, ignored (known: mirrors, insecure, ca, username, password, auth)",
    true,
    true,
    false};

/* The registries of one wisp.registries mapping, while it is read. */
struct regs {
	struct reg_cfg *v;
	size_t n;
};

/* One registries.HOST: read into a new entry, kept when whole. */
static void parse_registry(struct pctx *p, const struct ynode *k, const struct ynode *v,
			   const char *path, struct regs *rs)
{
	struct reg_cfg r = {.insecure = -1}, *nv;
	const char *why = reg_problem("host", k->str);

	if (why) {
		reg_bad(p, k, path, why, "ignored");
		return;
	}
	if (v->type != Y_MAP) {
		bad(p, v, path,
		    "expected a mapping (mirrors, insecure, ca, username, password, "
		    "auth); ignored");
		return;
	}
	walk_map(p, v, &registry_map, path, &r);
	if ((why = reg_cfg_problem(&r))) {
		reg_bad(p, v, path, why, "credentials ignored");
		free(r.user), free(r.password), r.user = r.password = NULL;
	}
	if (!(r.host = strdup(k->str)))
		goto drop;
	/* a host given twice: the last wins, as any key (PyYAML's) */
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].host, r.host) == 0) {
			reg_cfg_free(&rs->v[i]);
			rs->v[i] = r;
			return;
		}
	if ((nv = realloc(rs->v, (rs->n + 1) * sizeof(*nv)))) {
		rs->v = nv;
		rs->v[rs->n++] = r;
		return;
	}
drop:
	reg_cfg_free(&r);
}

/* registries: {HOST: {...}}: containerd-lite's files (ccreg.c), as write_files entries;
 * a later part's are written after an earlier part's */
static void r_registries(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct wctx *)a->obj)->c;
	struct regs rs = {0};
	char path[512];

	if (a->v->type != Y_MAP) {
		bad(p, a->v, a->path, "expected a mapping of registry hosts");
		return;
	}
	for (size_t i = 0; i + 1 < a->v->n; i += 2) {
		const char *host = scalar(a->v->kid[i]);

		snprintf(path, sizeof(path), "%s.%.256s", a->path, host ? host : "?");
		if (!host)
			bad(p, a->v->kid[i], a->path, "expected a registry host as the key");
		else
			parse_registry(p, a->v->kid[i], a->v->kid[i + 1], path, &rs);
	}
	cc_registry_files(c, rs.v, rs.n);
	for (size_t i = 0; i < rs.n; i++)
		reg_cfg_free(&rs.v[i]);
	free(rs.v);
}

/* ca_certs (cloud-init's; ca-certs its old name): PEM certificates the host trusts
 * besides, or instead of (remove_defaults), the image's CAs (ccca.c) */
struct cactx {
	char **trusted;
	bool remove_defaults;
};

static void r_ca_trusted(struct pctx *p, const struct kv *a)
{
	struct cactx *x = a->obj;
	char **l = get_list(p, a->v, a->path, false);

	for (size_t i = 0; l && l[i]; i++)
		if (!reg_pem_ok(l[i]))
			bad(p, a->v, a->path, "not a PEM certificate; ignored");
		else
			x->trusted = strv_push(x->trusted, l[i]);
	strv_free(l);
}

static const struct key ca_keys[] = {
    {"trusted", r_ca_trusted, 0, false, false},
    {"remove_defaults", r_bool, offsetof(struct cactx, remove_defaults), true, false}};

static const struct keymap ca_map = {ca_keys,
				     ARRAY_LEN(ca_keys),
				     "unknown key, ignored (known: trusted, remove_defaults)",
				     true,
				     true,
				     false};

static void r_ca_certs(struct pctx *p, const struct kv *a)
{
	struct cactx x = {0};

	if (a->v->type != Y_MAP) {
		bad(p, a->v, a->path, "expected a mapping (trusted, remove_defaults)");
		return;
	}
	walk_map(p, a->v, &ca_map, a->path, &x);
	cc_ca_bundle(a->obj, x.trusted, x.remove_defaults);
	strv_free(x.trusted);
}

static const struct key wisp_keys[] = {
    {"services", r_units, 0, false, false},    {"containers", r_units, 0, false, false},
    {"firewall", r_firewall, 0, false, false}, {"bridge", r_bridge, 0, false, false},
    {"update", r_update, 0, false, false},     {"registries", r_registries, 0, false, false}};

static const struct keymap wisp_map = {
    wisp_keys,
    ARRAY_LEN(wisp_keys),
    "unknown key, ignored (known: services, containers, firewall, bridge, update, registries)",
    false,
    true,
    false};

static void parse_wisp(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	char *buf = NULL;
	size_t len = 0;
	struct wctx w = {.c = c};

	if (v->type != Y_MAP) {
		bad(p, v, "wisp",
		    "expected a mapping with \"services\", \"containers\", \"firewall\", "
		    "\"bridge\", \"update\" or \"registries\"");
		return;
	}
	if (!(w.units = open_memstream(&buf, &len)))
		return;
	walk_map(p, v, &wisp_map, "wisp", &w);
	fclose(w.units);
	free(c->wisp_units);
	c->wisp_units = len ? buf : NULL;
	if (!len)
		free(buf);
}

/* YAML null (plain ~, null or nothing: '' quoted is a string) or cloud-init's "none". */
static bool nullish(const struct ynode *n)
{
	const char *s = scalar(n);
	return s && (yv_resolve(n).type == YV_NULL || !strcasecmp(s, "none"));
}

/* Not the whole POSIX grammar: a name, an offset, nothing a shell or a path would take. */
bool cc_posix_tz(const char *s)
{
	if (!strcmp(s, "UTC") || !strcmp(s, "GMT"))
		return true;
	/* A name of 3 letters at least (the NUL of a shorter one is no letter:
	 * the loop stops there), or <...>, whose length is not counted here. */
	for (int i = 0; *s != '<' && i < 3; i++)
		if (!isalpha((unsigned char)s[i]))
			return false;
	const char *digit = strpbrk(s, "0123456789"), *slash = strchr(s, '/');
	/* a '/' before the offset is an Olson name's; after it, a rule's time (M10.5.0/3) */
	return strlen(s) < 60 && digit && (!slash || slash > digit) && !strpbrk(s, " \t\n\"'\\$`");
}

/* A tz database name as the image's table (/usr/share/wisp/tzrules) may hold one: only
 * what such names are made of, never a path out of the table ("..", a leading '/'). */
bool cc_zone_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 &&
	       !s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789/_+-")] &&
	       !strstr(s, "..") && !strstr(s, "//") && s[0] != '/' && s[0] != '-' &&
	       s[n - 1] != '/';
}

static void parse_tz(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	const char *s = scalar(v);

	/* the common spelling of UTC in cloud configs: no table needed */
	if (s && (!strcmp(s, "Etc/UTC") || !strcmp(s, "Etc/GMT") || !strcmp(s, "Universal")))
		s = "UTC";
	if (s && !cc_posix_tz(s) && !cc_zone_name(s)) {
		bad(p, v, "timezone",
		    "neither a POSIX TZ string (\"UTC\", \"EST5EDT\") nor a time zone name "
		    "(\"Europe/Berlin\"); not set");
		return;
	}
	if (s)
		get_str(p, v, "timezone", &c->timezone);
	else
		bad(p, v, "timezone", "expected a string");
}

/* power_state while it is read: mode is checked once the mapping is read; a delay,
 * timeout or condition cloud-init cannot take stops the whole power_state there. */
struct pwctx {
	struct cloudcfg *c;
	char *mode;
	bool invalid;
};

static void power_bad(struct pctx *p, const struct kv *a, const char *what)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "%s; power_state not done (as cloud-init)", what);
	bad(p, a->v, a->path, msg);
	((struct pwctx *)a->obj)->invalid = true;
}

/* delay: "now", or int(delay) minutes (distros' shutdown_command): "+N", N, 5.5 (5). */
static void r_delay(struct pctx *p, const struct kv *a)
{
	struct yvalue y = yv_resolve(a->v);
	long long m = -1;
	char *end;

	if (y.type == YV_STR && !strcmp(y.s, "now"))
		return;
	if (y.type == YV_STR) {
		errno = 0;
		m = strtoll(y.s, &end, 10); /* Python's int() takes blanks and a sign too */
		end += strspn(end, " \t\n");
		if (end == y.s || *end || errno)
			m = -1;
	} else if (y.type == YV_INT || y.type == YV_FLOAT || y.type == YV_BOOL) {
		m = y.fits ? y.i : -1;
	}
	if (m < 0 || m > 60 * 24 * 365)
		power_bad(p, a, "expected \"now\", \"+N\" or N (minutes, at most a year)");
	else
		((struct pwctx *)a->obj)->c->power_delay_s = (unsigned)m * 60;
}

/* timeout: float(timeout) must work; Wisp has nothing for it to bound (see the docs). */
static void r_timeout(struct pctx *p, const struct kv *a)
{
	struct yvalue y = yv_resolve(a->v);
	char *end = "";

	if (y.type == YV_STR) {
		(void)strtod(y.s, &end);
		end += strspn(end, " \t\n");
	}
	if (y.type == YV_NULL || y.type == YV_OTHER ||
	    (y.type == YV_STR && (end == y.s || *end || strpbrk(y.s, "xX"))))
		power_bad(p, a, "expected a number (seconds)");
}

/* condition: a boolean, a string (a shell line: 'true' quoted is the command true) or
 * a list (argv); stored as a shell line. */
static void r_cond(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct pwctx *)a->obj)->c;
	struct yvalue y = yv_resolve(a->v);
	char **argv = NULL;

	free(c->power_cond), c->power_cond = NULL;
	if (y.type == YV_BOOL) {
		c->power_cond = y.i ? NULL : strdup("false");
		return;
	}
	if (y.type == YV_STR)
		argv = strv_push(strv_push(strv_push(NULL, "/bin/sh"), "-c"), y.s);
	else if (a->v->type == Y_SEQ)
		argv = get_list(p, a->v, a->path, false);
	else
		power_bad(p, a, "expected true, false, a command line or a list");
	if (argv)
		c->power_cond = cc_shell_line(argv);
	strv_free(argv);
}

static void r_pmessage(struct pctx *p, const struct kv *a)
{
	get_str(p, a->v, a->path, &((struct pwctx *)a->obj)->c->power_message);
}

static const struct key power_keys[] = {
    {"mode", r_str, offsetof(struct pwctx, mode), false, false},
    {"delay", r_delay, 0, false, false},
    {"message", r_pmessage, 0, false, false},
    {"condition", r_cond, 0, false, false},
    {"timeout", r_timeout, 0, false, false}, /* checked only: see the docs */
};

static const struct keymap power_map = {
    power_keys, ARRAY_LEN(power_keys), "unknown key, ignored", false, false, false};

static void parse_power(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	static const char *const modes[] = {"poweroff", "reboot", "halt"};
	struct pwctx x = {.c = c};
	const char *mode = NULL;

	if (v->type != Y_MAP) {
		bad(p, v, "power_state", "expected a mapping");
		return;
	}
	free(c->power_mode), c->power_mode = NULL; /* given twice: the last wins */
	walk_map(p, v, &power_map, "power_state", &x);
	for (size_t i = 0; x.mode && i < ARRAY_LEN(modes); i++)
		if (!strcmp(x.mode, modes[i]))
			mode = modes[i];
	if (!mode)
		bad(p, v, "power_state.mode", "expected poweroff, reboot or halt; not done");
	else if (!x.invalid)
		c->power_mode = strdup(mode);
	free(x.mode);
}

struct ntpctx {
	struct cloudcfg *c;
	bool on;
};

/* servers and pools alike, each a host name or an address (busybox ntpd -p) */
static void r_servers(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = ((struct ntpctx *)a->obj)->c;
	char **l = get_list(p, a->v, "ntp.servers", false);

	for (size_t j = 0; l && l[j]; j++)
		if (l[j][strspn(l[j], CC_HOST_CHARS)] || !*l[j])
			bad(p, a->v, "ntp.servers", "not a host name or address; ignored");
		else
			c->ntp_servers = strv_push(c->ntp_servers, l[j]);
	strv_free(l);
}

static const struct key ntp_keys[] = {
    {"enabled", r_enabled, offsetof(struct ntpctx, on), false, false},
    {"servers", r_servers, 0, false, false},
    {"pools", r_servers, 0, false, false},
};

static const struct keymap ntp_map = {
    ntp_keys, ARRAY_LEN(ntp_keys), "not supported by Wisp (busybox ntpd); ignored", false, false,
    false};

static void parse_ntp(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	struct ntpctx x = {.c = c, .on = true};

	if (nullish(v)) { /* "ntp:" alone: cloud-init's defaults */
		c->ntp = 1;
		return;
	}
	if (v->type != Y_MAP) {
		bad(p, v, "ntp", "expected a mapping");
		return;
	}
	walk_map(p, v, &ntp_map, "ntp", &x);
	c->ntp = x.on;
}

static void drop_mounts(struct cloudcfg *c, const char *dev)
{
	for (size_t i = 0; i < c->nmounts; i++)
		if (!strcmp(c->mounts[i].dev, dev))
			c->mounts[i].dir[0] = '\0'; /* removed: not mounted */
}

/* [device, mountpoint, fstype, options, dump, pass]: fstype and options from defaults later. */
static void parse_mount(struct pctx *p, const struct ynode *n, size_t idx, struct cloudcfg *c)
{
	char key[40], dev[256];
	struct cc_mount m = {.line = n->line, .col = n->col};
	const char *d = n->type == Y_SEQ && n->n ? scalar(n->kid[0]) : NULL;

	snprintf(key, sizeof(key), "mounts[%zu]", idx);
	if (!d || n->n > 6 || !*d) {
		bad(p, n, key, "expected [device, mountpoint, fstype, options, dump, pass]");
		return;
	}
	/* cloud-init's short names: "sdb" is /dev/sdb */
	snprintf(dev, sizeof(dev), "%s%s", *d == '/' || strchr(d, '=') ? "" : "/dev/", d);
	if (n->n < 2 || nullish(n->kid[1])) { /* only a device: remove its entry */
		drop_mounts(c, dev);
		return;
	}
	for (size_t i = 1; i < n->n; i++)
		if (!scalar(n->kid[i])) {
			bad(p, n->kid[i], key, "expected a string");
			return;
		}
	if (*n->kid[1]->str != '/' || !strncmp(d, "ephemeral", 9) || !strcmp(d, "swap")) {
		bad(p, n, key,
		    "needs an absolute mountpoint and a device (no ephemeral/swap "
		    "names); not mounted");
		return;
	}
	m.dev = strdup(dev), m.dir = strdup(n->kid[1]->str);
	m.type = n->n > 2 && !nullish(n->kid[2]) ? strdup(n->kid[2]->str) : NULL;
	m.opts = n->n > 3 && !nullish(n->kid[3]) ? strdup(n->kid[3]->str) : NULL;
	struct cc_mount *nv = realloc(c->mounts, (c->nmounts + 1) * sizeof(*nv));
	if (nv)
		c->mounts = nv, c->mounts[c->nmounts++] = m;
}

static void parse_mdef(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	if (v->type != Y_SEQ || v->n > 6) {
		bad(p, v, "mount_default_fields", "expected a list of up to 6 fields");
		return;
	}
	for (size_t i = 2; i < 4 && i < v->n; i++)
		if (scalar(v->kid[i]) && !nullish(v->kid[i]))
			get_str(p, v->kid[i], "mount_default_fields", &c->mount_defaults[i - 2]);
}

/* After the whole document: defaults filled in, swap refused, removed entries gone. */
static void finish_mounts(struct pctx *p, struct cloudcfg *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nmounts; i++) {
		struct cc_mount *m = &c->mounts[i];
		const char *o = c->mount_defaults[1] ? c->mount_defaults[1] : "defaults,nofail";
		if (!m->opts)
			m->opts = strdup(o);
		if (!m->type)
			m->type = strdup(c->mount_defaults[0] ? c->mount_defaults[0] : "auto");
		if (m->type && !strcmp(m->type, "swap")) {
			struct ynode at = {.line = m->line, .col = m->col};
			bad(p, &at, "mounts", "swap is not supported by Wisp; not enabled");
		} else if (*m->dir && m->type && m->opts) {
			c->mounts[n++] = *m;
			continue;
		}
		free(m->dev), free(m->dir), free(m->type), free(m->opts);
	}
	c->nmounts = n;
}

static void r_users(struct pctx *p, const struct kv *a)
{
	parse_users(p, a->v, a->obj);
}

static void r_groups(struct pctx *p, const struct kv *a)
{
	parse_groups(p, a->v, a->obj);
}

static void r_keys(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = a->obj;
	char **keys = key_lines(p, a->v, a->path);

	for (size_t i = 0; keys && keys[i]; i++)
		c->ssh_keys = strv_push(c->ssh_keys, keys[i]);
	strv_free(keys);
}

static void r_files(struct pctx *p, const struct kv *a)
{
	if (a->v->type != Y_SEQ)
		bad(p, a->v, a->path, "expected a list");
	for (size_t i = 0; a->v->type == Y_SEQ && i < a->v->n; i++)
		parse_file(p, a->v->kid[i], i, a->obj);
}

/* bootcmd, runcmd: a key given twice: the last wins, as in PyYAML */
static void r_cmds(struct pctx *p, const struct kv *a)
{
	struct cloudcfg *c = a->obj;
	bool boot = !strcmp(a->k->name, "bootcmd");
	char ****v = boot ? &c->bootcmd : &c->runcmd;
	size_t *n = boot ? &c->nbootcmd : &c->nruncmd;

	cmds_free(*v, *n), *n = 0;
	*v = parse_cmds(p, a->v, a->path, n);
}

static void r_wisp(struct pctx *p, const struct kv *a)
{
	parse_wisp(p, a->v, a->obj);
}

/* Wisp's SSH server takes keys only (dropbear built without passwords): false is what
 * it does already; true cannot be done. cc_set_passwords reads it with is_true/is_false. */
static void r_pwauth(struct pctx *p, const struct kv *a)
{
	struct yvalue y = yv_resolve(a->v);

	if (yv_is_true(&y))
		bad(p, a->v, a->path,
		    "Wisp's SSH server has no password authentication (keys only); ignored");
	else if (!yv_is_false(&y) && y.type != YV_NULL &&
		 !(y.type == YV_STR && !strcasecmp(y.s, "unchanged")))
		bad(p, a->v, a->path, "expected true, false or \"unchanged\"; ignored");
}

static void r_tz(struct pctx *p, const struct kv *a)
{
	parse_tz(p, a->v, a->obj);
}

static void r_power(struct pctx *p, const struct kv *a)
{
	parse_power(p, a->v, a->obj);
}

static void r_ntp(struct pctx *p, const struct kv *a)
{
	parse_ntp(p, a->v, a->obj);
}

static void r_mounts(struct pctx *p, const struct kv *a)
{
	if (a->v->type != Y_SEQ)
		bad(p, a->v, a->path, "expected a list");
	for (size_t i = 0; a->v->type == Y_SEQ && i < a->v->n; i++)
		parse_mount(p, a->v->kid[i], i, a->obj);
}

static void r_mdef(struct pctx *p, const struct kv *a)
{
	parse_mdef(p, a->v, a->obj);
}

#define T(n, fn, m)                                                                                \
	{                                                                                          \
		n, fn, offsetof(struct cloudcfg, m), false, false                                  \
	}
#define TF(n, fn)                                                                                  \
	{                                                                                          \
		n, fn, 0, false, false                                                             \
	}

/* Keys cloud-init knows that Wisp does not do: one warning each, nothing else. */
static const struct key top_keys[] = {
    T("hostname", r_str, hostname),
    T("fqdn", r_str, fqdn),
    T("preserve_hostname", r_tri, preserve_hostname),
    TF("users", r_users),
    TF("user", r_users),
    TF("groups", r_groups),
    {"ssh_authorized_keys", r_keys, 0, true, false},
    TF("write_files", r_files),
    TF("bootcmd", r_cmds),
    TF("runcmd", r_cmds),
    TF("wisp", r_wisp),
    T("final_message", r_str, final_message),
    TF("timezone", r_tz),
    TF("ssh_pwauth", r_pwauth),
    TF("power_state", r_power),
    TF("ntp", r_ntp),
    TF("mounts", r_mounts),
    TF("mount_default_fields", r_mdef),
    {"ca_certs", r_ca_certs, 0, true, false},
};

static const struct keymap top_map = {
    top_keys, ARRAY_LEN(top_keys), "not supported by Wisp; ignored", true, false, true};

/* The document's top level, walked once it is a tree. */
static void walk(struct pctx *p, struct yfile *y, struct cloudcfg *c)
{
	const struct ynode *root = y->ndoc ? y->doc[0] : NULL;

	if (y->failed)
		p->w->warn(p->w->ctx, "%s:%d:%d: %s (what came before it still applies)", p->path,
			   y->line, y->col, y->problem);
	if (root && root->type != Y_MAP)
		bad(p, root, "cloud-config", "the top level must be a mapping");
	if (root && root->type == Y_MAP)
		walk_map(p, root, &top_map, "", c);
	finish_mounts(p, c);
	ytree_free(y);
}

int cloudcfg_load(const char *path, struct cloudcfg *c, struct ud_sink *w)
{
	struct pctx p = {.path = path, .w = w};
	struct yfile y;
	struct err e;

	memset(c, 0, sizeof(*c));
	c->ntp = -1;
	c->preserve_hostname = -1;
	if (ytree_load(path, &y, &e) < 0) {
		w->warn(w->ctx, "%s", e.msg);
		return -1;
	}
	walk(&p, &y, c);
	return p.problems;
}

int cloudcfg_parse(const char *name, const char *buf, size_t len, struct cloudcfg *c,
		   struct ud_sink *w)
{
	struct pctx p = {.path = name, .w = w};
	struct yfile y;
	struct err e;

	memset(c, 0, sizeof(*c));
	c->ntp = -1;
	c->preserve_hostname = -1;
	if (ytree_parse(name, buf, len, &y, &e) < 0) {
		w->warn(w->ctx, "%s", e.msg);
		return -1;
	}
	walk(&p, &y, c);
	return p.problems;
}

void cloudcfg_free(struct cloudcfg *c)
{
	for (size_t i = 0; i < c->nusers; i++)
		user_free(&c->users[i]);
	for (size_t i = 0; i < c->ngroups; i++)
		free(c->groups[i].name), strv_free(c->groups[i].members);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i].path), free(c->files[i].owner), free(c->files[i].content);
	free(c->users), free(c->groups), free(c->files);
	free(c->hostname), free(c->fqdn), free(c->wisp_units);
	strv_free(c->ssh_keys), strv_free(c->ntp_servers), strv_free(c->fw_allow);
	free(c->bridge_subnet), free(c->update_url), free(c->update_sha256), free(c->update_reboot);
	for (size_t i = 0; i < c->nmounts; i++)
		free(c->mounts[i].dev), free(c->mounts[i].dir), free(c->mounts[i].type),
		    free(c->mounts[i].opts);
	free(c->mounts), free(c->mount_defaults[0]), free(c->mount_defaults[1]);
	free(c->final_message), free(c->timezone), free(c->power_mode);
	free(c->power_message), free(c->power_cond);
	cmds_free(c->bootcmd, c->nbootcmd);
	cmds_free(c->runcmd, c->nruncmd);
	memset(c, 0, sizeof(*c));
}

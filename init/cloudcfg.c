/*
 * cloudcfg.c: a #cloud-config document -> struct cloudcfg.
 *
 * Only reading and checking here; ccapply.c changes the host. Every
 * problem is one line naming file:line:col and the key path, and the
 * offending key is skipped while the rest of the document still applies
 * (cloud-init's behaviour: a bad module does not stop the others).
 */
#include "init.h"

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

static bool truthy(const char *s)
{
	static const char *const yes[] = {"true", "yes", "on", "1", "y"};
	for (size_t i = 0; i < ARRAY_LEN(yes); i++)
		if (!strcasecmp(s, yes[i]))
			return true;
	return false;
}

static bool falsy(const char *s)
{
	static const char *const no[] = {"false", "no", "off", "0", "n"};
	for (size_t i = 0; i < ARRAY_LEN(no); i++)
		if (!strcasecmp(s, no[i]))
			return true;
	return false;
}

static bool get_bool(struct pctx *p, const struct ynode *v, const char *key, bool *out)
{
	const char *s = scalar(v);
	if (s && truthy(s))
		return *out = true;
	if (s && falsy(s))
		return !(*out = false);
	bad(p, v, key, "expected true or false");
	return false;
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

static char **strv_push(char **v, const char *s)
{
	size_t n = v ? strv_len(v) : 0;
	char **nv = realloc(v, (n + 2) * sizeof(*nv));
	if (!nv)
		return v;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv;
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

/* A user or group name as useradd takes it: nothing that breaks /etc/passwd. */
static bool valid_name(const char *s)
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
		if (!valid_name(*v))
			return false;
	return true;
}

static bool passwd_safe(const char *s)
{
	return !s || !strpbrk(s, ":\n\r");
}

static void user_free(struct cc_user *u)
{
	free(u->name), free(u->gecos), free(u->shell), free(u->homedir);
	free(u->passwd), free(u->primary_group);
	strv_free(u->groups), strv_free(u->keys);
}

static void parse_user(struct pctx *p, const struct ynode *n, struct cloudcfg *c)
{
	struct cc_user u = {.lock_passwd = true};
	char key[96];

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
	for (size_t i = 0; n->type == Y_MAP && i + 1 < n->n; i += 2) {
		const char *k = scalar(n->kid[i]);
		const struct ynode *v = n->kid[i + 1];
		unsigned long id;
		char *end;

		if (!k)
			continue;
		snprintf(key, sizeof(key), "users[%zu].%s", c->nusers, k);
		if (key_is(k, "name"))
			get_str(p, v, key, &u.name);
		else if (key_is(k, "gecos"))
			get_str(p, v, key, &u.gecos);
		else if (key_is(k, "shell"))
			get_str(p, v, key, &u.shell);
		else if (key_is(k, "homedir"))
			get_str(p, v, key, &u.homedir);
		else if (key_is(k, "primary_group"))
			get_str(p, v, key, &u.primary_group);
		else if (key_is(k, "passwd") || key_is(k, "hashed_passwd"))
			get_str(p, v, key, &u.passwd);
		else if (key_is(k, "groups")) /* given twice (or hyphenated too): the last wins */
			strv_free(u.groups), u.groups = get_list(p, v, key, true);
		else if (key_is(k, "ssh_authorized_keys"))
			strv_free(u.keys), u.keys = get_list(p, v, key, false);
		else if (key_is(k, "lock_passwd"))
			get_bool(p, v, key, &u.lock_passwd);
		else if (key_is(k, "system"))
			get_bool(p, v, key, &u.system);
		else if (key_is(k, "no_create_home"))
			get_bool(p, v, key, &u.no_create_home);
		else if (key_is(k, "uid")) {
			const char *s = scalar(v);
			id = s ? strtoul(s, &end, 10) : 0;
			if (!s || !*s || *end || id >= 65535)
				bad(p, v, key, "expected a number below 65535");
			else
				u.has_uid = true, u.uid = (uid_t)id;
		} else if (key_is(k, "sudo") || key_is(k, "doas"))
			p->w->warn(p->w->ctx, "%s:%d:%d: %s: Wisp has no sudo; ignored", p->path,
				   v->line, v->col, key);
		else
			bad(p, n->kid[i], key, "unknown key, ignored");
	}
	if (!u.name || !valid_name(u.name)) {
		bad(p, n, "users", "a user needs a name of [a-z_][a-z0-9_.-]* (at most 32)");
		user_free(&u);
		return;
	}
	if (!passwd_safe(u.gecos) || !passwd_safe(u.shell) || !passwd_safe(u.homedir) ||
	    !passwd_safe(u.passwd) || (u.primary_group && !valid_name(u.primary_group)) ||
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

	if (!valid_name(name) || !names_valid(members)) {
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
	unsigned long m = 0;

	if (!strncasecmp(s, "0o", 2))
		s += 2;
	if (!*s || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -1;
		m = m * 8 + (unsigned long)(*s - '0');
	}
	if (m > 07777)
		return -1;
	*mode = (mode_t)m;
	return 0;
}

/* content + encoding -> bytes. gzip needs zlib, which init does not link (yet). */
static bool decode_content(struct pctx *p, const struct ynode *encn, const struct ynode *at,
			   const char *key, const char *content, struct cc_file *f)
{
	const char *enc = encn ? scalar(encn) : "text/plain";

	if (!encn)
		encn = at; /* messages point at the entry */
	size_t len = strlen(content);

	if (!enc) {
		bad(p, encn, key, "expected a string");
		enc = "text/plain";
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
	if (strcasestr(enc, "gz")) {
		bad(p, encn, key,
		    "gzip encodings are not supported yet (no zlib in init); file "
		    "not written");
		return false;
	}
	if (strcasecmp(enc, "text/plain") != 0)
		bad(p, encn, key, "unknown encoding; content written as is");
	f->content = (unsigned char *)strdup(content);
	f->len = len;
	return f->content != NULL;
}

static void parse_file(struct pctx *p, const struct ynode *n, size_t idx, struct cloudcfg *c)
{
	struct cc_file f = {.mode = 0644};
	const struct ynode *encn = NULL;
	const char *content = "";
	char key[96];

	if (n->type != Y_MAP) {
		snprintf(key, sizeof(key), "write_files[%zu]", idx);
		bad(p, n, key, "expected a mapping");
		return;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const char *k = scalar(n->kid[i]);
		const struct ynode *v = n->kid[i + 1];

		if (!k)
			continue;
		snprintf(key, sizeof(key), "write_files[%zu].%s", idx, k);
		if (!strcmp(k, "path"))
			get_str(p, v, key, &f.path);
		else if (!strcmp(k, "owner"))
			get_str(p, v, key, &f.owner);
		else if (!strcmp(k, "content")) {
			if (!(content = scalar(v)))
				bad(p, v, key, "expected a string"), content = "";
		} else if (!strcmp(k, "encoding"))
			encn = v;
		else if (!strcmp(k, "append"))
			get_bool(p, v, key, &f.append);
		else if (!strcmp(k, "defer"))
			get_bool(p, v, key, &f.defer);
		else if (!strcmp(k, "permissions")) {
			if (!scalar(v) || cc_parse_mode(v->str, &f.mode) < 0)
				bad(p, v, key, "expected octal permissions (\"0644\")");
		} else if (!strcmp(k, "source"))
			bad(p, n->kid[i], key, "not supported; ignored");
		else
			bad(p, n->kid[i], key, "unknown key, ignored");
	}
	snprintf(key, sizeof(key), "write_files[%zu]", idx);
	if (!f.path || f.path[0] != '/') {
		bad(p, n, key, "needs an absolute path; not written");
		free(f.path);
		free(f.owner);
		return;
	}
	snprintf(key, sizeof(key), "write_files[%zu].encoding", idx);
	if (!decode_content(p, encn, n, key, content, &f)) {
		free(f.path);
		free(f.owner);
		free(f.content);
		return;
	}
	struct cc_file *nv = realloc(c->files, (c->nfiles + 1) * sizeof(*nv));
	if (!nv)
		return;
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

static char *dup_quoted(const char *s)
{
	size_t n = 3;
	for (const char *q = s; *q; q++)
		n += *q == '\'' ? 4 : 1;
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	*o++ = '\'';
	for (; *s; s++)
		if (*s == '\'')
			memcpy(o, "'\\''", 4), o += 4;
		else
			*o++ = *s;
	*o++ = '\'';
	*o = '\0';
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
		char *q = dup_quoted(argv[i]);
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

static void parse_wisp(struct pctx *p, const struct ynode *v, struct cloudcfg *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (v->type != Y_MAP) {
		bad(p, v, "wisp", "expected a mapping with \"services\" or \"containers\"");
		return;
	}
	if (!(f = open_memstream(&buf, &len)))
		return;
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const char *k = scalar(v->kid[i]);
		if (!k || (strcmp(k, "services") != 0 && strcmp(k, "containers") != 0)) {
			bad(p, v->kid[i], "wisp",
			    "unknown key, ignored (known: services, containers)");
			continue;
		}
		fprintf(f, "# from user-data %s:%d:%d (wisp.%s)\n%s: ", p->path,
			v->kid[i + 1]->line, v->kid[i + 1]->col, k, k);
		emit(f, v->kid[i + 1]);
		fputc('\n', f);
	}
	fclose(f);
	free(c->wisp_units);
	c->wisp_units = len ? buf : NULL;
	if (!len)
		free(buf);
}

/* Keys cloud-init knows that Wisp does not do: one warning each, nothing else. */
static void top_key(struct pctx *p, const char *k, const struct ynode *kn, const struct ynode *v,
		    struct cloudcfg *c)
{
	if (!strcmp(k, "hostname"))
		get_str(p, v, k, &c->hostname);
	else if (!strcmp(k, "fqdn"))
		get_str(p, v, k, &c->fqdn);
	else if (!strcmp(k, "preserve_hostname"))
		get_bool(p, v, k, &c->preserve_hostname);
	else if (!strcmp(k, "users") || !strcmp(k, "user"))
		parse_users(p, v, c);
	else if (!strcmp(k, "groups"))
		parse_groups(p, v, c);
	else if (key_is(k, "ssh_authorized_keys")) {
		char **keys = get_list(p, v, k, false);
		for (size_t i = 0; keys && keys[i]; i++)
			c->ssh_keys = strv_push(c->ssh_keys, keys[i]);
		strv_free(keys);
	} else if (!strcmp(k, "write_files")) {
		if (v->type != Y_SEQ)
			bad(p, v, k, "expected a list");
		for (size_t i = 0; v->type == Y_SEQ && i < v->n; i++)
			parse_file(p, v->kid[i], i, c);
	} else if (!strcmp(k, "bootcmd")) { /* a key given twice: the last wins, as in PyYAML */
		cmds_free(c->bootcmd, c->nbootcmd), c->nbootcmd = 0;
		c->bootcmd = parse_cmds(p, v, k, &c->nbootcmd);
	} else if (!strcmp(k, "runcmd")) {
		cmds_free(c->runcmd, c->nruncmd), c->nruncmd = 0;
		c->runcmd = parse_cmds(p, v, k, &c->nruncmd);
	} else if (!strcmp(k, "wisp"))
		parse_wisp(p, v, c);
	else
		bad(p, kn, k, "not supported by Wisp; ignored");
}

int cloudcfg_load(const char *path, struct cloudcfg *c, struct ud_sink *w)
{
	struct pctx p = {.path = path, .w = w};
	struct yfile y;
	struct err e;
	const struct ynode *root;

	memset(c, 0, sizeof(*c));
	if (ytree_load(path, &y, &e) < 0) {
		w->warn(w->ctx, "%s", e.msg);
		return -1;
	}
	if (y.failed)
		w->warn(w->ctx, "%s:%d:%d: %s (what came before it still applies)", path, y.line,
			y.col, y.problem);
	root = y.ndoc ? y.doc[0] : NULL;
	if (root && root->type != Y_MAP)
		bad(&p, root, "cloud-config", "the top level must be a mapping");
	for (size_t i = 0; root && root->type == Y_MAP && i + 1 < root->n; i += 2) {
		const char *k = scalar(root->kid[i]);
		if (k && root->kid[i + 1]->done)
			top_key(&p, k, root->kid[i], root->kid[i + 1], c);
	}
	ytree_free(&y);
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
	strv_free(c->ssh_keys);
	cmds_free(c->bootcmd, c->nbootcmd);
	cmds_free(c->runcmd, c->nruncmd);
	memset(c, 0, sizeof(*c));
}

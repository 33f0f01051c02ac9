/*
 * plan.c: the parser child's result, written by the child and read by
 * provision (docs/provisioning-plan.md).
 *
 * A record stream: "NAME LEN\n", LEN bytes, "\n". Lengths rather than
 * quoting, because write_files content is any bytes (NUL included) and a
 * length check is the one thing a reader cannot get wrong; a text header,
 * so that a plan reads in `cat -v`. One table (fields[], arrays[], in the
 * shape of lib/decl.c's) says where every record goes in struct cloudcfg
 * or struct netcfg: the writer walks it to emit a structure, the reader
 * to rebuild it, so the two cannot drift apart. The reader trusts nothing:
 * an unknown record, a bad number, a value out of its set, a record
 * outside its object, or a plan without its last record is an error and
 * the whole plan is dropped; once rebuilt, every value the applying code
 * relies on is checked again as the parser checked it.
 */
#include "parse.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 32
#define LEN_DIGITS   8

/* Where a record's value goes: the object its name's prefix names. */
enum scope {
	S_PART,
	S_CC,
	S_USER,
	S_GROUP,
	S_FILE,
	S_MOUNT,
	S_BOOT,
	S_RUN,
	S_NET,
	S_IF,
	S_ROUTE,
	S_META
};

enum ftype {
	T_STR,	    /* char * */
	T_BOOL,	    /* bool: "0" or "1" */
	T_TRI,	    /* int: -1 (not given), 0 or 1 */
	T_LINE,	    /* int: 0 .. INT_MAX/2 (a line or column) */
	T_DELAY,    /* unsigned: seconds, at most a year */
	T_UID,	    /* uid_t below 65535, sets has_uid */
	T_MODE,	    /* mode_t in octal, at most 07777 */
	T_BYTES,    /* unsigned char * or char * + size_t at aux */
	T_STRV,	    /* char **, one item a record */
	T_CHARS,    /* char[aux] */
	T_CHARLIST, /* char[NET_MAX_LIST][aux], count (size_t) at aux2 */
};

struct field {
	const char *name;
	enum scope scope;
	enum ftype type;
	size_t off, aux, aux2;
};

#define F(n, sc, t, type, m)                                                                       \
	{                                                                                          \
		n, sc, t, offsetof(type, m), 0, 0                                                  \
	}
#define FB(n, sc, type, m, len)                                                                    \
	{                                                                                          \
		n, sc, T_BYTES, offsetof(type, m), offsetof(type, len), 0                          \
	}
#define FC(n, sc, type, m)                                                                         \
	{                                                                                          \
		n, sc, T_CHARS, offsetof(type, m), sizeof(((type *)0)->m), 0                       \
	}
#define FL(n, sc, type, m, count)                                                                  \
	{                                                                                          \
		n, sc, T_CHARLIST, offsetof(type, m), sizeof(((type *)0)->m[0]),                   \
		    offsetof(type, count)                                                          \
	}

static const struct field fields[] = {
    F("part.name", S_PART, T_STR, struct plan_part, name),
    FB("part.data", S_PART, struct plan_part, data, len),
    F("part.whole", S_PART, T_BOOL, struct plan_part, whole),
    F("hostname", S_CC, T_STR, struct cloudcfg, hostname),
    F("fqdn", S_CC, T_STR, struct cloudcfg, fqdn),
    F("preserve_hostname", S_CC, T_TRI, struct cloudcfg, preserve_hostname),
    F("ssh_key", S_CC, T_STRV, struct cloudcfg, ssh_keys),
    F("wisp_units", S_CC, T_STR, struct cloudcfg, wisp_units),
    F("fw_allow", S_CC, T_STRV, struct cloudcfg, fw_allow),
    F("bridge_subnet", S_CC, T_STR, struct cloudcfg, bridge_subnet),
    F("update_url", S_CC, T_STR, struct cloudcfg, update_url),
    F("update_sha256", S_CC, T_STR, struct cloudcfg, update_sha256),
    F("update_reboot", S_CC, T_STR, struct cloudcfg, update_reboot),
    F("final_message", S_CC, T_STR, struct cloudcfg, final_message),
    F("timezone", S_CC, T_STR, struct cloudcfg, timezone),
    F("power_mode", S_CC, T_STR, struct cloudcfg, power_mode),
    F("power_message", S_CC, T_STR, struct cloudcfg, power_message),
    F("power_cond", S_CC, T_STR, struct cloudcfg, power_cond),
    F("power_delay", S_CC, T_DELAY, struct cloudcfg, power_delay_s),
    F("ntp", S_CC, T_TRI, struct cloudcfg, ntp),
    F("ntp_server", S_CC, T_STRV, struct cloudcfg, ntp_servers),
    F("mount_default_type", S_CC, T_STR, struct cloudcfg, mount_defaults[0]),
    F("mount_default_opts", S_CC, T_STR, struct cloudcfg, mount_defaults[1]),
    F("user.name", S_USER, T_STR, struct cc_user, name),
    F("user.gecos", S_USER, T_STR, struct cc_user, gecos),
    F("user.shell", S_USER, T_STR, struct cc_user, shell),
    F("user.homedir", S_USER, T_STR, struct cc_user, homedir),
    F("user.passwd", S_USER, T_STR, struct cc_user, passwd),
    F("user.primary_group", S_USER, T_STR, struct cc_user, primary_group),
    F("user.group", S_USER, T_STRV, struct cc_user, groups),
    F("user.key", S_USER, T_STRV, struct cc_user, keys),
    F("user.lock_passwd", S_USER, T_BOOL, struct cc_user, lock_passwd),
    F("user.system", S_USER, T_BOOL, struct cc_user, system),
    F("user.no_create_home", S_USER, T_BOOL, struct cc_user, no_create_home),
    F("user.uid", S_USER, T_UID, struct cc_user, uid),
    F("group.name", S_GROUP, T_STR, struct cc_group, name),
    F("group.member", S_GROUP, T_STRV, struct cc_group, members),
    F("file.path", S_FILE, T_STR, struct cc_file, path),
    F("file.owner", S_FILE, T_STR, struct cc_file, owner),
    FB("file.content", S_FILE, struct cc_file, content, len),
    F("file.mode", S_FILE, T_MODE, struct cc_file, mode),
    F("file.append", S_FILE, T_BOOL, struct cc_file, append),
    F("file.defer", S_FILE, T_BOOL, struct cc_file, defer),
    F("file.gzip", S_FILE, T_BOOL, struct cc_file, gzip),
    F("mount.dev", S_MOUNT, T_STR, struct cc_mount, dev),
    F("mount.dir", S_MOUNT, T_STR, struct cc_mount, dir),
    F("mount.type", S_MOUNT, T_STR, struct cc_mount, type),
    F("mount.opts", S_MOUNT, T_STR, struct cc_mount, opts),
    F("mount.line", S_MOUNT, T_LINE, struct cc_mount, line),
    F("mount.col", S_MOUNT, T_LINE, struct cc_mount, col),
    {"bootcmd.arg", S_BOOT, T_STRV, 0, 0, 0},
    {"runcmd.arg", S_RUN, T_STRV, 0, 0, 0},
    F("net.present", S_NET, T_BOOL, struct netcfg, present),
    F("net.disabled", S_NET, T_BOOL, struct netcfg, disabled),
    FC("if.key", S_IF, struct ifcfg, key),
    FC("if.match_name", S_IF, struct ifcfg, match_name),
    FC("if.match_mac", S_IF, struct ifcfg, match_mac),
    FC("if.set_name", S_IF, struct ifcfg, set_name),
    F("if.dhcp4", S_IF, T_BOOL, struct ifcfg, dhcp4),
    FL("if.addr", S_IF, struct ifcfg, addr, naddr),
    FC("if.gw4", S_IF, struct ifcfg, gw4),
    FL("if.dns", S_IF, struct ifcfg, dns, ndns),
    FL("if.search", S_IF, struct ifcfg, search, nsearch),
    FC("route.to", S_ROUTE, struct net_route, to),
    FC("route.via", S_ROUTE, struct net_route, via),
    FC("meta.iid", S_META, struct ds_meta, iid),
    FC("meta.hostname", S_META, struct ds_meta, hostname),
    F("meta.key", S_META, T_STRV, struct ds_meta, keys),
    FC("meta.user", S_META, struct ds_meta, user),
    F("meta.customdata", S_META, T_BOOL, struct ds_meta, customdata),
    FC("meta.ready.incarnation", S_META, struct ds_meta, ready.incarnation),
    FC("meta.ready.container", S_META, struct ds_meta, ready.container),
    FC("meta.ready.instance", S_META, struct ds_meta, ready.instance),
};

/* Records that open a new element of an array of their parent: "user", "if", ... */
struct array {
	const char *name;
	enum scope parent, scope;
	size_t off, count, elem;
	size_t cap; /* 0: a malloc'd array (pointer at off); else inline, at most cap */
};

#define A(n, p, s, type, m, count, elem)                                                           \
	{                                                                                          \
		n, p, s, offsetof(type, m), offsetof(type, count), elem, 0                         \
	}
#define AI(n, p, s, type, m, count, elem, c)                                                       \
	{                                                                                          \
		n, p, s, offsetof(type, m), offsetof(type, count), elem, c                         \
	}

static const struct array arrays[] = {
    A("user", S_CC, S_USER, struct cloudcfg, users, nusers, sizeof(struct cc_user)),
    A("group", S_CC, S_GROUP, struct cloudcfg, groups, ngroups, sizeof(struct cc_group)),
    A("file", S_CC, S_FILE, struct cloudcfg, files, nfiles, sizeof(struct cc_file)),
    A("mount", S_CC, S_MOUNT, struct cloudcfg, mounts, nmounts, sizeof(struct cc_mount)),
    A("bootcmd", S_CC, S_BOOT, struct cloudcfg, bootcmd, nbootcmd, sizeof(char **)),
    A("runcmd", S_CC, S_RUN, struct cloudcfg, runcmd, nruncmd, sizeof(char **)),
    AI("if", S_NET, S_IF, struct netcfg, ifs, n, sizeof(struct ifcfg), NET_MAX_IFS),
    AI("route", S_IF, S_ROUTE, struct ifcfg, route, nroute, sizeof(struct net_route), NET_MAX_LIST),
};

static const struct {
	enum ud_kind kind;
	const char *name;
} kinds[] = {{UD_CLOUD_CONFIG, "cloud-config"},
	     {UD_SCRIPT, "script"},
	     {UD_SCRIPT_BOOT, "per-boot"},
	     {UD_SCRIPT_INSTANCE, "per-instance"},
	     {UD_SCRIPT_ONCE, "per-once"}};

#define AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

/* ---- the writer ------------------------------------------------------------ */

void plan_put(FILE *f, const char *name, const void *val, size_t len)
{
	fprintf(f, "%s %zu\n", name, len);
	fwrite(val, 1, len, f);
	fputc('\n', f);
}

void plan_put_str(FILE *f, const char *name, const char *s)
{
	if (s)
		plan_put(f, name, s, strlen(s));
}

static void put_num(FILE *f, const char *name, const char *fmt, long long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), fmt, v);
	plan_put(f, name, buf, (size_t)n);
}

static void put_field(FILE *f, const struct field *fd, const void *obj)
{
	switch (fd->type) {
	case T_STR:
		plan_put_str(f, fd->name, *AT(obj, fd->off, char *const));
		break;
	case T_BOOL:
		plan_put(f, fd->name, *AT(obj, fd->off, const bool) ? "1" : "0", 1);
		break;
	case T_TRI:
	case T_LINE:
		put_num(f, fd->name, "%lld", *AT(obj, fd->off, const int));
		break;
	case T_DELAY:
		put_num(f, fd->name, "%lld", *AT(obj, fd->off, const unsigned));
		break;
	case T_UID:
		if (((const struct cc_user *)obj)->has_uid)
			put_num(f, fd->name, "%lld", *AT(obj, fd->off, const uid_t));
		break;
	case T_MODE:
		put_num(f, fd->name, "%llo", *AT(obj, fd->off, const mode_t));
		break;
	case T_BYTES:
		if (*AT(obj, fd->off, void *const))
			plan_put(f, fd->name, *AT(obj, fd->off, void *const),
				 *AT(obj, fd->aux, const size_t));
		break;
	case T_STRV:
		for (char *const *v = *AT(obj, fd->off, char **const); v && *v; v++)
			plan_put_str(f, fd->name, *v);
		break;
	case T_CHARS:
		if (*AT(obj, fd->off, const char))
			plan_put_str(f, fd->name, AT(obj, fd->off, const char));
		break;
	case T_CHARLIST:
		for (size_t i = 0; i < *AT(obj, fd->aux2, const size_t); i++)
			plan_put_str(f, fd->name, AT(obj, fd->off + i * fd->aux, const char));
		break;
	}
}

/* Every field of scope sc in obj, then each element of its arrays, depth first. */
static void put_obj(FILE *f, enum scope sc, const void *obj)
{
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (fields[i].scope == sc)
			put_field(f, &fields[i], obj);
	for (size_t i = 0; i < ARRAY_LEN(arrays); i++) {
		const struct array *a = &arrays[i];
		const char *base;

		if (a->parent != sc)
			continue;
		base = a->cap ? AT(obj, a->off, const char) : *AT(obj, a->off, const char *const);
		for (size_t j = 0; base && j < *AT(obj, a->count, const size_t); j++) {
			plan_put(f, a->name, "", 0);
			put_obj(f, a->scope, base + j * a->elem);
		}
	}
}

void plan_put_part(FILE *f, enum ud_kind k, const char *name, const char *data, size_t len,
		   bool whole)
{
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (kinds[i].kind == k)
			plan_put_str(f, "part", kinds[i].name);
	plan_put_str(f, "part.name", name);
	if (data)
		plan_put(f, "part.data", data, len);
	if (whole)
		plan_put(f, "part.whole", "1", 1);
}

void plan_put_cloudcfg(FILE *f, const struct cloudcfg *c)
{
	put_obj(f, S_CC, c);
}

void plan_put_netcfg(FILE *f, const struct netcfg *n)
{
	plan_put(f, "net", "", 0);
	put_obj(f, S_NET, n);
}

void plan_put_meta(FILE *f, const struct ds_meta *m)
{
	plan_put(f, "meta", "", 0);
	put_obj(f, S_META, m);
}

void plan_begin(FILE *f)
{
	plan_put_str(f, "plan", PLAN_VERSION);
}

void plan_put_end(FILE *f)
{
	plan_put(f, "end", "", 0);
}

void plan_finish(FILE *f)
{
	plan_put(f, "done", "", 0);
}

/* ---- the reader ------------------------------------------------------------- */

struct reader {
	struct parse_plan *p;
	struct plan_part *part; /* open between "part" and "end" */
	bool net, meta, done;	/* net, meta: open from their record to "done" */
	struct err *e;
	size_t idx;
	const char *name;
	size_t listed; /* items of every list so far (PLAN_MAX_LISTED) */
};

/* Elements of one array, items of one list; items of all lists of a plan. A
 * list is found long by walking it (push()): without both bounds a child's 8
 * MiB of one-byte keys costs the root parent minutes of TCG, and the
 * provisioning deadline the whole datasource, not the file that did it. */
#define PLAN_MAX_ELEMS	4096
#define PLAN_MAX_LISTED 65536

static int fail(struct reader *r, const char *why)
{
	return err_set(r->e, 0, "plan: record %zu (%.32s): %s", r->idx, r->name ? r->name : "?",
		       why);
}

/* The open object of scope sc, or NULL: the last element of each array on the way down. */
static void *current(struct reader *r, enum scope sc)
{
	if (sc == S_PART)
		return r->part;
	if (sc == S_CC)
		return r->part && r->part->kind == UD_CLOUD_CONFIG ? &r->part->cc : NULL;
	if (sc == S_NET)
		return r->net ? &r->p->net : NULL;
	if (sc == S_META)
		return r->meta ? &r->p->meta : NULL;
	for (size_t i = 0; i < ARRAY_LEN(arrays); i++) {
		const struct array *a = &arrays[i];
		void *parent;
		size_t n;
		char *base;

		if (a->scope != sc || !(parent = current(r, a->parent)))
			continue;
		n = *AT(parent, a->count, size_t);
		base = a->cap ? AT(parent, a->off, char) : *AT(parent, a->off, char *);
		return n ? base + (n - 1) * a->elem : NULL;
	}
	return NULL;
}

static bool text_ok(const char *v, size_t len)
{
	return !memchr(v, '\0', len);
}

/* A decimal (octal: base 8) number of at most 11 digits in [min, max]. */
static bool number(const char *v, size_t len, int base, long long min, long long max,
		   long long *out)
{
	bool neg = len && *v == '-';
	long long n = 0;

	if (len - neg == 0 || len - neg > 11)
		return false;
	for (size_t i = neg; i < len; i++) {
		if (v[i] < '0' || v[i] >= '0' + base)
			return false;
		n = n * base + (v[i] - '0');
	}
	*out = neg ? -n : n;
	return *out >= min && *out <= max;
}

static char *dup_text(const char *v, size_t len)
{
	char *s = malloc(len + 1);
	if (s) {
		memcpy(s, v, len);
		s[len] = '\0';
	}
	return s;
}

static int push(struct reader *r, char ***vp, const char *v, size_t len)
{
	size_t n = *vp ? strv_len(*vp) : 0;
	char **nv;

	if (n == PLAN_MAX_ELEMS || r->listed++ == PLAN_MAX_LISTED)
		return fail(r, "too many items in lists");
	if (!(nv = realloc(*vp, (n + 2) * sizeof(*nv))))
		return fail(r, "out of memory");
	*vp = nv;
	nv[n + 1] = NULL;
	if (!(nv[n] = dup_text(v, len)))
		return fail(r, "out of memory");
	return 0;
}

static int set_field(struct reader *r, const struct field *fd, void *obj, const char *v, size_t len)
{
	long long n;

	if (fd->type != T_BYTES && !text_ok(v, len))
		return fail(r, "a NUL in a text value");
	switch (fd->type) {
	case T_STR:
		free(*AT(obj, fd->off, char *));
		if (!(*AT(obj, fd->off, char *) = dup_text(v, len)))
			return fail(r, "out of memory");
		return 0;
	case T_BOOL:
		if (len != 1 || (*v != '0' && *v != '1'))
			return fail(r, "expected 0 or 1");
		*AT(obj, fd->off, bool) = *v == '1';
		return 0;
	case T_TRI:
	case T_LINE:
		if (!number(v, len, 10, fd->type == T_TRI ? -1 : 0,
			    fd->type == T_TRI ? 1 : INT_MAX / 2, &n))
			return fail(r, "number out of range");
		*AT(obj, fd->off, int) = (int)n;
		return 0;
	case T_DELAY:
		if (!number(v, len, 10, 0, 366LL * 24 * 3600, &n))
			return fail(r, "number out of range");
		*AT(obj, fd->off, unsigned) = (unsigned)n;
		return 0;
	case T_UID:
		if (!number(v, len, 10, 0, 65534, &n))
			return fail(r, "number out of range");
		*AT(obj, fd->off, uid_t) = (uid_t)n;
		((struct cc_user *)obj)->has_uid = true;
		return 0;
	case T_MODE:
		if (!number(v, len, 8, 0, 07777, &n))
			return fail(r, "expected an octal mode");
		*AT(obj, fd->off, mode_t) = (mode_t)n;
		return 0;
	case T_BYTES:
		free(*AT(obj, fd->off, void *));
		if (!(*AT(obj, fd->off, char *) = dup_text(v, len)))
			return fail(r, "out of memory");
		*AT(obj, fd->aux, size_t) = len;
		return 0;
	case T_STRV:
		return push(r, AT(obj, fd->off, char **), v, len);
	case T_CHARS:
		if (len >= fd->aux)
			return fail(r, "too long");
		memcpy(AT(obj, fd->off, char), v, len);
		AT(obj, fd->off, char)[len] = '\0';
		return 0;
	case T_CHARLIST: {
		size_t *count = AT(obj, fd->aux2, size_t);
		char *slot = AT(obj, fd->off + *count * fd->aux, char);
		if (*count == NET_MAX_LIST || len >= fd->aux)
			return fail(r, "too many, or too long");
		memcpy(slot, v, len);
		slot[len] = '\0';
		(*count)++;
		return 0;
	}
	}
	return fail(r, "unknown type");
}

static int new_elem(struct reader *r, const struct array *a)
{
	void *parent = current(r, a->parent);
	size_t *count;

	if (!parent)
		return fail(r, "outside its object");
	count = AT(parent, a->count, size_t);
	if (a->cap) {
		if (*count == a->cap)
			return fail(r, "too many");
		memset(AT(parent, a->off + *count * a->elem, char), 0, a->elem);
	} else {
		char **base = AT(parent, a->off, char *);
		char *nv = *count < PLAN_MAX_ELEMS ? realloc(*base, (*count + 1) * a->elem) : NULL;
		if (!nv)
			return fail(r, "too many, or out of memory");
		*base = nv;
		memset(nv + *count * a->elem, 0, a->elem);
	}
	(*count)++;
	return 0;
}

static int add_item(struct reader *r, enum plan_item_kind k, char *text, struct plan_part *part)
{
	struct plan_item *nv = realloc(r->p->items, (r->p->n + 1) * sizeof(*nv));

	if (!nv) {
		free(text);
		return fail(r, "out of memory");
	}
	r->p->items = nv;
	nv[r->p->n++] = (struct plan_item){.kind = k, .text = text, .part = part};
	return 0;
}

static void part_free(struct plan_part *pp)
{
	if (!pp)
		return;
	free(pp->name), free(pp->data), strv_free(pp->warn);
	cloudcfg_free(&pp->cc);
	free(pp);
}

static int open_part(struct reader *r, const char *v, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (strlen(kinds[i].name) == len && !memcmp(kinds[i].name, v, len)) {
			if (!(r->part = calloc(1, sizeof(*r->part))))
				return fail(r, "out of memory");
			r->part->kind = kinds[i].kind;
			r->part->cc.ntp = -1;
			r->part->cc.preserve_hostname = -1;
			return 0;
		}
	return fail(r, "unknown part kind");
}

/* The stream's own records: plan, warn, info, part, end, net, meta, done. */
static int stream_record(struct reader *r, const char *v, size_t len)
{
	const char *n = r->name;
	char *text;

	if (!strcmp(n, "warn") || !strcmp(n, "info")) {
		if (!text_ok(v, len) || !(text = dup_text(v, len)))
			return fail(r, "a NUL in a text value, or out of memory");
		if (r->part && *n == 'w') {
			struct plan_part *pp = r->part;
			int ret = push(r, &pp->warn, v, len);
			free(text);
			return ret;
		}
		return add_item(r, *n == 'w' ? PLAN_WARN : PLAN_INFO, text, NULL);
	}
	if (!strcmp(n, "part"))
		return r->part || r->net || r->meta ? fail(r, "a part inside another")
						    : open_part(r, v, len);
	if (!strcmp(n, "net"))
		return r->part || r->net || r->meta || r->p->has_net
			   ? fail(r, "a second network configuration")
			   : (r->net = r->p->has_net = true, 0);
	if (!strcmp(n, "meta"))
		return r->part || r->net || r->meta || r->p->has_meta
			   ? fail(r, "a second meta-data")
			   : (r->meta = r->p->has_meta = true, 0);
	if (!strcmp(n, "end")) {
		struct plan_part *pp = r->part;
		if (!pp)
			return fail(r, "no part to end");
		r->part = NULL;
		return add_item(r, PLAN_PART, NULL, pp) < 0 ? (part_free(pp), -1) : 0;
	}
	if (!strcmp(n, "done")) {
		if (r->part)
			return fail(r, "a part without its end");
		r->net = r->meta = false;
		r->done = true;
		return 0;
	}
	return fail(r, "unknown record");
}

static int record(struct reader *r, const char *v, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (!strcmp(fields[i].name, r->name)) {
			void *obj = current(r, fields[i].scope);
			return obj ? set_field(r, &fields[i], obj, v, len)
				   : fail(r, "outside its object");
		}
	for (size_t i = 0; i < ARRAY_LEN(arrays); i++)
		if (!strcmp(arrays[i].name, r->name))
			return len ? fail(r, "expected no value") : new_elem(r, &arrays[i]);
	return stream_record(r, v, len);
}

/* "NAME LEN\n" at *pos: the name into name, the length into *len. */
static int header(struct reader *r, const char *buf, size_t size, size_t *pos, char *name,
		  size_t *len)
{
	size_t i = *pos, n = 0, digits = 0;

	while (i < size && n < NAME_MAX_LEN &&
	       ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= '0' && buf[i] <= '9') ||
		buf[i] == '_' || buf[i] == '.' || buf[i] == '-'))
		name[n++] = buf[i++];
	name[n] = '\0';
	r->name = name;
	if (!n || i >= size || buf[i++] != ' ')
		return fail(r, "expected \"NAME LEN\"");
	*len = 0;
	while (i < size && buf[i] >= '0' && buf[i] <= '9' && digits++ < LEN_DIGITS)
		*len = *len * 10 + (size_t)(buf[i++] - '0');
	if (!digits || digits > LEN_DIGITS || i >= size || buf[i++] != '\n')
		return fail(r, "expected a length and a line break");
	if (*len > size - i || size - i - *len < 1 || buf[i + *len] != '\n')
		return fail(r, "value cut short or not followed by a line break");
	*pos = i;
	return 0;
}

/* ---- what the applying code relies on, checked again ----------------------- */

static bool names_ok(char **v)
{
	for (; v && *v; v++)
		if (!cc_valid_name(*v))
			return false;
	return true;
}

static bool lines_ok(char **v)
{
	for (; v && *v; v++)
		if (strpbrk(*v, "\r\n"))
			return false;
	return true;
}

static bool user_ok(const struct cc_user *u)
{
	return u->name && cc_valid_name(u->name) && names_ok(u->groups) &&
	       (!u->primary_group || cc_valid_name(u->primary_group)) && cc_passwd_safe(u->gecos) &&
	       cc_passwd_safe(u->shell) && cc_passwd_safe(u->homedir) &&
	       cc_passwd_safe(u->passwd) && lines_ok(u->keys);
}

static bool cmds_ok(char ***v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i] || !v[i][0])
			return false;
	return true;
}

static bool power_ok(const struct cloudcfg *c)
{
	static const char *const modes[] = {"poweroff", "reboot", "halt"};

	for (size_t i = 0; c->power_mode && i < ARRAY_LEN(modes); i++)
		if (!strcmp(c->power_mode, modes[i]))
			return true;
	return !c->power_mode;
}

static bool cc_ok(const struct cloudcfg *c)
{
	for (size_t i = 0; i < c->nusers; i++)
		if (!user_ok(&c->users[i]))
			return false;
	for (size_t i = 0; i < c->ngroups; i++)
		if (!c->groups[i].name || !cc_valid_name(c->groups[i].name) ||
		    !names_ok(c->groups[i].members))
			return false;
	for (size_t i = 0; i < c->nfiles; i++)
		if (!c->files[i].path || c->files[i].path[0] != '/' || !c->files[i].content)
			return false;
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct cc_mount *m = &c->mounts[i];
		if (!m->dev || !m->dir || !m->type || !m->opts || m->dir[0] != '/')
			return false;
	}
	for (char **v = c->ntp_servers; v && *v; v++)
		if (!**v || (*v)[strspn(*v, CC_HOST_CHARS)])
			return false;
	for (char **v = c->fw_allow; v && *v; v++) {
		char port[16];
		if (!cc_fw_port(*v, port) || strcmp(port, *v))
			return false;
	}
	if (c->bridge_subnet && !cc_subnet(c->bridge_subnet))
		return false;
	if ((c->update_url && !cc_update_value("url", c->update_url)) ||
	    (c->update_sha256 && !cc_update_value("sha256", c->update_sha256)) ||
	    (c->update_reboot && !cc_update_value("reboot", c->update_reboot)) ||
	    ((c->update_sha256 || c->update_reboot) && !c->update_url))
		return false;
	return cmds_ok(c->bootcmd, c->nbootcmd) && cmds_ok(c->runcmd, c->nruncmd) && power_ok(c) &&
	       (!c->timezone || cc_posix_tz(c->timezone) || cc_zone_name(c->timezone)) &&
	       lines_ok(c->ssh_keys);
}

static bool safe_or_empty(const char *s, const char *allowed)
{
	return !*s || net_safe(s, allowed);
}

static bool list_ok(const char (*l)[48], size_t n, const char *allowed)
{
	for (size_t i = 0; i < n; i++)
		if (!net_safe(l[i], allowed))
			return false;
	return true;
}

static bool if_ok(const struct ifcfg *c)
{
	bool ok =
	    safe_or_empty(c->key, NET_NAME_CHARS) &&
	    safe_or_empty(c->match_name, NET_NAME_CHARS "*?") &&
	    safe_or_empty(c->match_mac, NET_ADDR_CHARS) &&
	    safe_or_empty(c->set_name, NET_NAME_CHARS) && safe_or_empty(c->gw4, NET_ADDR_CHARS) &&
	    list_ok(c->addr, c->naddr, NET_ADDR_CHARS) && list_ok(c->dns, c->ndns, NET_ADDR_CHARS);

	for (size_t i = 0; i < c->nsearch; i++)
		ok = ok && net_safe(c->search[i], NET_NAME_CHARS);
	for (size_t i = 0; i < c->nroute; i++)
		ok = ok && net_safe(c->route[i].via, NET_ADDR_CHARS) &&
		     (!strcmp(c->route[i].to, "default") ||
		      net_safe(c->route[i].to, NET_ADDR_CHARS));
	return ok;
}

static int check(struct reader *r)
{
	r->name = "done";
	for (size_t i = 0; i < r->p->n; i++) {
		const struct plan_part *pp = r->p->items[i].part;
		if (pp && (!pp->name || (pp->kind != UD_CLOUD_CONFIG && !pp->data)))
			return fail(r, "a part without its name or its bytes");
		if (pp && !cc_ok(&pp->cc))
			return fail(r, "a cloud-config value the parser would have refused");
	}
	for (size_t i = 0; i < r->p->net.n; i++)
		if (!if_ok(&r->p->net.ifs[i]))
			return fail(r, "a network value the parser would have refused");
	if (!lines_ok(r->p->meta.keys))
		return fail(r, "a meta-data key the parser would have refused");
	if ((*r->p->meta.user && !cc_valid_name(r->p->meta.user)) ||
	    !meta_ready_ok(&r->p->meta.ready))
		return fail(r, "a meta-data user or goal state the parser would have refused");
	return 0;
}

int plan_read(const char *buf, size_t size, struct parse_plan *p, struct err *e)
{
	struct reader r = {.p = p, .e = e};
	char name[NAME_MAX_LEN + 1];
	size_t pos = 0, len = 0;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	for (r.idx = 1; ret == 0 && pos < size; r.idx++) {
		if (r.done) {
			ret = fail(&r, "a record after \"done\"");
			break;
		}
		if ((ret = header(&r, buf, size, &pos, name, &len)) < 0)
			break;
		if (r.idx == 1)
			ret = strcmp(name, "plan") || len != strlen(PLAN_VERSION) ||
				      memcmp(buf + pos, PLAN_VERSION, len)
				  ? fail(&r, "not a plan of version " PLAN_VERSION)
				  : 0;
		else
			ret = record(&r, buf + pos, len);
		pos += len + 1;
	}
	if (ret == 0 && !r.done)
		ret = err_set(e, 0, "plan: cut short (no \"done\" record)");
	if (ret == 0)
		ret = check(&r);
	part_free(r.part);
	if (ret < 0)
		plan_free(p);
	return ret;
}

void plan_free(struct parse_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].text);
		part_free(p->items[i].part);
	}
	free(p->items);
	meta_free(&p->meta);
	memset(p, 0, sizeof(*p));
}

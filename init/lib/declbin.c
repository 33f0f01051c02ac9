/*
 * declbin.c: the compiled form of a set of declarations (docs/declarations.md,
 * "Compiled declarations").
 *
 * PID 1 reads declarations only in this form: image-builder compiles ROOT's
 * /etc/wisp with this library's parser at build time, provision every
 * declaration it writes once it has checked it (declcomp.c). PID 1 then links
 * no YAML parser (libyaml and the walker were a third of its 160 KiB) and
 * parses none on the boot's critical path (their first run cost about 35 ms
 * of TCG's translation). s6-rc's compiled database is the same idea. The form
 * is the structs' fields in the tables' order, each as a tagged width, so
 * that a PID 1 built with other tables refuses the file (the header's
 * signature): never a unit read with the wrong layout.
 */
#include "decl.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "wisp compiled declarations\n"

/* B_INT: an integer of `size` bytes, at most max (0: any); B_BYTES: a char array,
 * NUL-terminated; B_DEPS: struct decl's deps and ndeps, as dep_fields[] records. */
enum btype { B_STR, B_STRV, B_INT, B_BYTES, B_DEPS };

struct bfield {
	unsigned char type, size;
	unsigned short off;
	uint32_t max;
};

#define F(t, m, mx)                                                                                \
	{                                                                                          \
		t, sizeof(((struct decl *)0)->m), offsetof(struct decl, m), mx                     \
	}
#define D(t, m, mx)                                                                                \
	{                                                                                          \
		t, sizeof(((struct dep *)0)->m), offsetof(struct dep, m), mx                       \
	}

/* Every field of struct decl, in the file's order (sizeof below keeps it complete). */
static const struct bfield fields[] = {
    F(B_STR, name, 0),
    F(B_INT, kind, KIND_CONTAINER),
    F(B_STRV, argv, 0),
    F(B_STRV, env, 0),
    F(B_STR, tty, 0),
    F(B_STR, working_dir, 0),
    F(B_INT, has_uid, 1),
    F(B_INT, has_gid, 1),
    F(B_INT, uid, 0),
    F(B_INT, gid, 0),
    F(B_DEPS, deps, 0),
    F(B_INT, restart, RESTART_ALWAYS),
    F(B_INT, backoff_initial_ms, 0),
    F(B_INT, backoff_max_ms, 0),
    F(B_INT, backoff_reset_ms, 0),
    F(B_INT, stop_signal, 0),
    F(B_INT, stop_timeout_ms, 0),
    F(B_STRV, health.argv, 0),
    F(B_INT, health.interval_ms, 0),
    F(B_INT, health.timeout_ms, 0),
    F(B_INT, health.start_period_ms, 0),
    F(B_INT, health.retries, 0),
    F(B_INT, res.cpu_weight, 0),
    F(B_BYTES, res.cpu_max, 0),
    F(B_INT, res.memory_max, 0),
    F(B_INT, res.pids_max, 0),
    F(B_BYTES, res.net_egress, 0),
    F(B_BYTES, res.net_ingress, 0),
    F(B_INT, stop_signal_set, 1),
    F(B_STR, image, 0),
    F(B_STRV, entrypoint, 0),
    F(B_STR, user_spec, 0),
    F(B_INT, net, DECL_NET_CONTAINER),
    F(B_STR, net_peer, 0),
    F(B_INT, pull, DECL_PULL_NEVER),
    F(B_STRV, ports, 0),
    F(B_INT, read_only, 1),
    F(B_INT, host_userns, 1),
    F(B_INT, privileged, 1),
    F(B_INT, host_pid, 1),
    F(B_STRV, volumes, 0),
    F(B_INT, userns_base, 0),
    F(B_INT, early, 1),
    F(B_INT, critical, 1),
    F(B_STR, file, 0),
    F(B_INT, line, 0),
    F(B_INT, col, 0),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
static const struct bfield dep_fields[] = {
    D(B_STR, name, 0),
    D(B_INT, cond, DEP_DEFAULT),
    D(B_INT, line, 0),
    D(B_INT, col, 0),
};
#define NDEP_FIELDS (sizeof(dep_fields) / sizeof(dep_fields[0]))
#define S(t, m)                                                                                    \
	{                                                                                          \
		t, sizeof(((struct decls *)0)->m), offsetof(struct decls, m), 0                    \
	}
/* The set's own fields, before its units: the problems its loader reports, the names of the
 * units they cost (for their dependants' messages). */
static const struct bfield set_fields[] = {
    S(B_STRV, environment),
    S(B_STRV, broken),
    S(B_STRV, errors),
};
#define NSET_FIELDS (sizeof(set_fields) / sizeof(set_fields[0]))
/* A field added to struct decl changes its size: add it to fields[] too, then here. */
_Static_assert(sizeof(struct decl) == 320, "struct decl changed: update declbin.c's fields[]");
_Static_assert(sizeof(struct dep) == 24, "struct dep changed: update declbin.c's dep_fields[]");
_Static_assert(sizeof(struct decls) == 48, "struct decls changed: update declbin.c's set_fields[]");

static uint32_t hash_table(uint32_t h, const struct bfield *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t w[] = {t[i].type, t[i].size, t[i].max};
		for (size_t j = 0; j < 3; j++)
			h = (h ^ w[j]) * 16777619u;
	}
	return h;
}

/* The tables' shape (FNV-1a of types, sizes and limits), which the file's reader must share. */
static uint32_t signature(void)
{
	uint32_t h = hash_table(2166136261u, set_fields, NSET_FIELDS);

	return hash_table(hash_table(h, fields, NFIELDS), dep_fields, NDEP_FIELDS);
}

/* ---- writing ------------------------------------------------------------ */

struct out {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct out *o, const void *data, size_t n)
{
	if (o->failed || n == 0)
		return;
	if (o->len + n > o->cap) {
		size_t cap = (o->cap ? o->cap * 2 : 4096) + n;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->failed = true;
			return;
		}
		o->p = p, o->cap = cap;
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
}

static void put_int(struct out *o, uint64_t v, size_t size)
{
	unsigned char b[8];

	for (size_t i = 0; i < size; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(o, b, size);
}

/* Length + 1 (0: NULL), then the bytes. */
static void put_str(struct out *o, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	put_int(o, s ? n + 1 : 0, 4);
	put(o, s, n);
}

static void put_strv(struct out *o, char *const *v)
{
	put_int(o, v ? strv_len(v) + 1 : 0, 4);
	for (size_t i = 0; v && v[i]; i++)
		put_str(o, v[i]);
}

/* The integer of size bytes at p, whatever its type. */
static uint64_t load_int(const void *p, size_t size)
{
	uint8_t b;
	uint32_t w;
	uint64_t q;

	switch (size) {
	case 1:
		memcpy(&b, p, 1);
		return b;
	case 4:
		memcpy(&w, p, 4);
		return w;
	default:
		memcpy(&q, p, 8);
		return q;
	}
}

static void put_record(struct out *o, const void *base, const struct bfield *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)base + t[i].off;
		const struct decl *d = base;

		switch (t[i].type) {
		case B_STR:
			put_str(o, *(char *const *)(const void *)p);
			break;
		case B_STRV:
			put_strv(o, *(char **const *)(const void *)p);
			break;
		case B_INT:
			put_int(o, load_int(p, t[i].size), t[i].size);
			break;
		case B_BYTES:
			put(o, p, t[i].size);
			break;
		case B_DEPS:
			put_int(o, d->ndeps, 4);
			for (size_t j = 0; j < d->ndeps; j++)
				put_record(o, &d->deps[j], dep_fields, NDEP_FIELDS);
			break;
		}
	}
}

int declbin_encode(const struct decls *set, char **buf, size_t *len)
{
	struct out o = {0};

	put(&o, MAGIC, strlen(MAGIC));
	put_int(&o, signature(), 4);
	put_record(&o, set, set_fields, NSET_FIELDS);
	put_int(&o, set->n, 4);
	for (size_t i = 0; i < set->n; i++)
		put_record(&o, &set->v[i], fields, NFIELDS);
	if (o.failed) {
		free(o.p);
		return -1;
	}
	*buf = o.p;
	*len = o.len;
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

struct in {
	const unsigned char *p;
	size_t len, pos;
	const char *bad; /* the first problem, or NULL */
};

/* n bytes of the file, or NULL (then in->bad says why). */
static const unsigned char *take(struct in *in, uint64_t n)
{
	const unsigned char *p = in->p + in->pos;

	if (in->bad || n > in->len - in->pos) {
		in->bad = in->bad ? in->bad : "truncated";
		return NULL;
	}
	in->pos += n;
	return p;
}

static uint64_t get_int(struct in *in, size_t size)
{
	const unsigned char *p = take(in, size);
	uint64_t v = 0;

	for (size_t i = 0; p && i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static char *get_str(struct in *in)
{
	uint64_t n = get_int(in, 4);
	const unsigned char *p = n ? take(in, n - 1) : NULL;
	char *s;

	if (!p)
		return NULL;
	/* one string, one reading: a NUL inside would read as a shorter one */
	if (memchr(p, 0, n - 1)) {
		in->bad = "a string with a NUL byte";
		return NULL;
	}
	if (!(s = strndup((const char *)p, n - 1)))
		in->bad = "out of memory";
	return s;
}

/* A count of things of at least min bytes each, no more than the rest of the file holds. */
static uint64_t get_count(struct in *in, size_t min)
{
	uint64_t n = get_int(in, 4);

	if (!in->bad && n > (in->len - in->pos) / min + 1)
		in->bad = "a count past the end of the file";
	return in->bad ? 0 : n;
}

static char **get_strv(struct in *in)
{
	uint64_t n = get_count(in, 4);
	char **v;

	if (n-- == 0)
		return NULL;
	if (!(v = calloc(n + 1, sizeof(*v))))
		in->bad = "out of memory";
	for (size_t i = 0; v && i < n && !in->bad; i++)
		if (!(v[i] = get_str(in)) && !in->bad)
			in->bad = "a list with a NULL string";
	return v;
}

static void store_int(void *p, size_t size, uint64_t v)
{
	uint8_t b = (uint8_t)v;
	uint32_t w = (uint32_t)v;

	memcpy(p, size == 1 ? (void *)&b : size == 4 ? (void *)&w : (void *)&v, size);
}

static void get_record(struct in *in, void *base, const struct bfield *t, size_t n)
{
	for (size_t i = 0; i < n && !in->bad; i++) {
		char *p = (char *)base + t[i].off;
		const unsigned char *b;
		struct decl *d = base;
		uint64_t v;

		switch (t[i].type) {
		case B_STR:
			*(char **)(void *)p = get_str(in);
			break;
		case B_STRV:
			*(char ***)(void *)p = get_strv(in);
			break;
		case B_INT:
			if ((v = get_int(in, t[i].size)) > t[i].max && t[i].max)
				in->bad = "a value out of its range";
			else
				store_int(p, t[i].size, v);
			break;
		case B_BYTES:
			if ((b = take(in, t[i].size)) && b[t[i].size - 1])
				in->bad = "an unterminated string";
			else if (b)
				memcpy(p, b, t[i].size);
			break;
		case B_DEPS:
			v = get_count(in, 16);
			if (v && !(d->deps = calloc(v, sizeof(*d->deps))))
				in->bad = "out of memory";
			for (; d->ndeps < v && !in->bad; d->ndeps++) {
				get_record(in, &d->deps[d->ndeps], dep_fields, NDEP_FIELDS);
				if (!in->bad && !d->deps[d->ndeps].name)
					in->bad = "a dependency without a name";
			}
			break;
		}
	}
}

int declbin_decode(struct decls *set, const void *buf, size_t len, const char *src, struct err *e)
{
	struct in in = {.p = buf, .len = len};
	const unsigned char *magic = take(&in, strlen(MAGIC));
	uint64_t n;

	if (!magic || memcmp(magic, MAGIC, strlen(MAGIC)) || get_int(&in, 4) != signature())
		return err_set(e, EINVAL, "%s: not declarations compiled for this init", src);
	get_record(&in, set, set_fields, NSET_FIELDS);
	n = get_count(&in, 4);
	if (n && !(set->v = calloc(n, sizeof(*set->v))))
		in.bad = "out of memory";
	for (; !in.bad && set->n < n; set->n++)
		get_record(&in, &set->v[set->n], fields, NFIELDS);
	set->cap = set->n;
	for (size_t i = 0; !in.bad && i < set->n; i++)
		if (!set->v[i].name || !set->v[i].file ||
		    (!set->v[i].argv && set->v[i].kind != KIND_CONTAINER)) /* else its image's */
			in.bad = "a unit without a name, command or file";
	if (!in.bad && in.pos != len)
		in.bad = "bytes after the last unit";
	if (!in.bad)
		return 0;
	decls_free(set);
	return err_set(e, EINVAL, "%s: %s at byte %zu", src, in.bad, in.pos);
}

int declbin_read(struct decls *set, const char *path, struct err *e)
{
	/* read once per boot: static, so that only the pages read are ever touched */
	static char buf[DECLBIN_MAX + 1];
	/* a longer file reads truncated, and so is refused */
	int n = read_text(path, buf, sizeof(buf), e);

	return n < 0 ? n : declbin_decode(set, buf, (size_t)n, path, e);
}

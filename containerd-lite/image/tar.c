/* image/tar.c: tar header and pax record parsing (ustar, pax, GNU long names
 * and base-256 numbers), kept apart from I/O so the unit tests and the
 * fuzzer can drive it with arbitrary bytes. */
#include "image.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tar_entry_clear(struct tar_entry *e)
{
	free(e->path);
	free(e->link);
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	memset(e, 0, sizeof(*e));
}

/* Octal, or GNU base-256 when the high bit of the first byte is set. */
static int num(const unsigned char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80) {
		if (p[0] & 0x40)
			return -1; /* negative */
		v = p[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | p[i];
		}
		*out = v;
		return 0;
	}
	while (i < n && (p[i] == ' ' || p[i] == 0))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v << 3 | (uint64_t)(p[i] - '0');
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != 0)
			return -1;
	*out = v;
	return 0;
}

static char *field(const unsigned char *p, size_t n)
{
	size_t len = strnlen((const char *)p, n);
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = 0;
	}
	return s;
}

static int type_of(unsigned char t, enum tar_type *out)
{
	static const char codes[] = "0\0"
				    "1234567xgLK";
	static const enum tar_type types[] = {
	    TAR_FILE,	    TAR_FILE,	      TAR_HARDLINK,    TAR_SYMLINK, TAR_CHAR,
	    TAR_BLOCK,	    TAR_DIR,	      TAR_FIFO,	       TAR_FILE,    TAR_PAX,
	    TAR_PAX_GLOBAL, TAR_GNU_LONGNAME, TAR_GNU_LONGLINK};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (codes[i] == (char)t) {
			*out = types[i];
			return 0;
		}
	return -1;
}

static bool checksum_ok(const unsigned char *b)
{
	uint64_t want;
	unsigned long sum = 0;

	if (num(b + 148, 8, &want) < 0)
		return false;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	return sum == want;
}

static bool all_zero(const unsigned char *b)
{
	for (int i = 0; i < 512; i++)
		if (b[i])
			return false;
	return true;
}

/* ustar splits long names into prefix "/" name. */
static char *ustar_name(const unsigned char *b)
{
	char *name = field(b, 100), *prefix, *full;

	if (!name || memcmp(b + 257, "ustar", 5) != 0 || !b[345])
		return name;
	prefix = field(b + 345, 155);
	full = prefix ? malloc(strlen(prefix) + strlen(name) + 2) : NULL;
	if (full)
		strcat(strcat(strcpy(full, prefix), "/"), name);
	free(prefix);
	free(name);
	return full;
}

static int numbers(const unsigned char *b, struct tar_entry *e, struct cl_err *err)
{
	uint64_t mode, uid, gid, size, mtime, maj, min;

	if (num(b + 100, 8, &mode) < 0 || num(b + 108, 8, &uid) < 0 || num(b + 116, 8, &gid) < 0 ||
	    num(b + 124, 12, &size) < 0 || num(b + 136, 12, &mtime) < 0 ||
	    num(b + 329, 8, &maj) < 0 || num(b + 337, 8, &min) < 0)
		return cl_error(err, 0, "tar header: bad number field");
	if (uid > UINT32_MAX || gid > UINT32_MAX || maj > UINT32_MAX || min > UINT32_MAX)
		return cl_error(err, 0, "tar header: number out of range");
	e->mode = (uint32_t)(mode & 07777);
	/* pax values (already in *e) win over the header's */
	if (!(e->set & TAR_SET_UID))
		e->uid = (uint32_t)uid;
	if (!(e->set & TAR_SET_GID))
		e->gid = (uint32_t)gid;
	if (!(e->set & TAR_SET_SIZE))
		e->size = size;
	if (!(e->set & TAR_SET_MTIME))
		e->mtime = mtime > INT64_MAX ? INT64_MAX : (int64_t)mtime;
	e->devmajor = (uint32_t)maj;
	e->devminor = (uint32_t)min;
	return 0;
}

int tar_header_parse(const unsigned char b[512], struct tar_entry *e, struct cl_err *err)
{
	if (all_zero(b))
		return 1;
	if (!checksum_ok(b))
		return cl_error(err, 0, "tar header: bad checksum");
	if (type_of(b[156], &e->type) < 0)
		return cl_error(err, 0, "tar header: unknown entry type '%c'",
				b[156] >= 32 && b[156] < 127 ? b[156] : '?');
	if (e->type >= TAR_PAX)
		e->set = 0; /* a meta record is parsed into a fresh entry */
	if (numbers(b, e, err) < 0)
		return -1;
	if (e->type >= TAR_PAX)
		return 0;
	if (!e->path && !(e->path = ustar_name(b)))
		return cl_error(err, ENOMEM, "tar header");
	if ((e->type == TAR_HARDLINK || e->type == TAR_SYMLINK) && !e->link &&
	    !(e->link = field(b + 157, 100)))
		return cl_error(err, ENOMEM, "tar header");
	if (e->type == TAR_DIR || e->type == TAR_SYMLINK || e->type == TAR_HARDLINK ||
	    e->type == TAR_CHAR || e->type == TAR_BLOCK || e->type == TAR_FIFO)
		e->size = 0;
	return 0;
}

/* -1 out of memory, -2 over the entry's limits */
static int add_xattr(struct tar_entry *e, const char *name, size_t nlen, const char *v, size_t vlen)
{
	struct tar_xattr *x;

	if (e->nxattrs >= TAR_MAX_XATTRS || nlen + vlen > TAR_MAX_XATTR_BYTES - e->xattr_bytes)
		return -2;
	if (!(x = realloc(e->xattrs, (e->nxattrs + 1) * sizeof(*x))))
		return -1;
	e->xattrs = x;
	x = &x[e->nxattrs];
	x->name = strndup(name, nlen);
	x->value = malloc(vlen ? vlen : 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return -1;
	}
	memcpy(x->value, v, vlen);
	x->len = vlen;
	e->nxattrs++;
	e->xattr_bytes += nlen + vlen;
	return 0;
}

static int pax_num(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i = 0;

	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		if (x > UINT64_MAX / 10 - 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	/* mtime may carry a fraction: ignore it */
	if (i == 0 || (i < n && v[i] != '.'))
		return -1;
	*out = x;
	return 0;
}

static int pax_record(const char *k, size_t klen, const char *v, size_t vlen, struct tar_entry *e)
{
	uint64_t n;

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
	if (KEY("path"))
		return free(e->path), (e->path = strndup(v, vlen)) ? 0 : -1;
	if (KEY("linkpath"))
		return free(e->link), (e->link = strndup(v, vlen)) ? 0 : -1;
	if (klen > 13 && memcmp(k, "SCHILY.xattr.", 13) == 0)
		return add_xattr(e, k + 13, klen - 13, v, vlen);
	if (!KEY("size") && !KEY("uid") && !KEY("gid") && !KEY("mtime"))
		return 0; /* atime, ctime, comments...: not kept */
	if (pax_num(v, vlen, &n) < 0)
		return -1;
	if (KEY("size"))
		e->size = n, e->set |= TAR_SET_SIZE;
	else if (KEY("mtime"))
		e->mtime = n > INT64_MAX ? INT64_MAX : (int64_t)n, e->set |= TAR_SET_MTIME;
	else if (n > UINT32_MAX)
		return -1;
	else if (KEY("uid"))
		e->uid = (uint32_t)n, e->set |= TAR_SET_UID;
	else
		e->gid = (uint32_t)n, e->set |= TAR_SET_GID;
	return 0;
#undef KEY
}

/* Records are "LEN KEY=VALUE\n", LEN counting the whole record. */
int tar_pax_parse(const char *buf, size_t len, struct tar_entry *e, struct cl_err *err)
{
	size_t off = 0;

	while (off < len) {
		size_t rlen = 0, i = off;
		const char *eq, *rec;
		int r;

		while (i < len && buf[i] >= '0' && buf[i] <= '9' && rlen < len)
			rlen = rlen * 10 + (size_t)(buf[i++] - '0');
		if (i >= len || buf[i] != ' ' || rlen == 0 || rlen > len - off ||
		    buf[off + rlen - 1] != '\n')
			return cl_error(err, 0, "tar pax header: malformed record at %zu", off);
		rec = buf + i + 1;
		eq = memchr(rec, '=', (size_t)(buf + off + rlen - 1 - rec));
		if (!eq)
			return cl_error(err, 0, "tar pax header: record without '=' at %zu", off);
		r = pax_record(rec, (size_t)(eq - rec), eq + 1,
			       (size_t)(buf + off + rlen - 1 - (eq + 1)), e);
		if (r == -2)
			return cl_error(err, 0,
					"tar pax header: %.*s: more than %d xattrs or %d bytes of "
					"them for one entry",
					(int)(eq - rec > 64 ? 64 : eq - rec), rec, TAR_MAX_XATTRS,
					TAR_MAX_XATTR_BYTES);
		if (r < 0)
			return cl_error(err, 0, "tar pax header: bad value for %.*s",
					(int)(eq - rec > 64 ? 64 : eq - rec), rec);
		off += rlen;
	}
	return 0;
}

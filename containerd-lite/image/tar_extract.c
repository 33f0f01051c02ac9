/* image/tar_extract.c: extract a tar stream beneath a directory, safely.
 *
 * Every parent is opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)
 * (held, with its ancestors, for the entries after it: img_dirs) and every
 * final component is created with O_EXCL/O_NOFOLLOW or an *at
 * call that does not follow it, so no entry can write through a symlink
 * or escape the root, whatever earlier entries planted. Hardlink targets
 * are resolved the same way, so they stay inside the tree. Owners, modes,
 * xattrs and times are set on an fd of what the entry made, never by its
 * name again: whatever a racing writer put at the name since gets none. */
#include "../runtime/cl-private.h"
#include "image.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The pax and GNU records before one entry, together: Go's archive/tar
 * (docker, containerd) takes 1 MiB for one; chained ones get no more. */
#define PAX_MAX (1024 * 1024)

/* The names kept until the layer's end (directory times, a flattening's
 * created and opaque paths), each counted with what holds it (a record or
 * tree node, malloc's own): a hostile layer of a million entries, each
 * under another 4 KiB parent, would otherwise hold gigabytes. A real
 * layer keeps well under a MiB. */
#define KEEP_MAX  (64u << 20)
#define KEEP_NODE 64

struct ctx {
	struct stream *in;
	int root;
	const struct tar_limits *l;
	uint64_t entries, total;
	/* tsearch trees (balanced: a hostile layer gets log n, no worse): the
	 * paths this layer created, which its opaque dirs keep, and the dirs
	 * made opaque already (once is all: what follows is this layer's) */
	void *created, *opaqued;
	struct dir_time *dirs; /* set last: writing children changes them */
	size_t ndirs, cap;
	size_t kept;		/* bytes of names kept, against KEEP_MAX */
	bool over;		/* a name refused for KEEP_MAX */
	struct img_meter meter; /* l->reserve, for what is written */
	/* the last entry's parent and its ancestors: an entry removes or
	 * replaces only its parent's children, none of them */
	struct img_dirs parents;
};

/* A directory's mtime to set at the end: its entry's (explicit), or the
 * one it had before this layer wrote into it (parent), as umoci does. */
struct dir_time {
	char *path;
	int64_t mtime;
	bool parent;
};

void tar_limits_default(struct tar_limits *l)
{
	*l = (struct tar_limits){.max_entries = 1000000,
				 .max_total = 64ULL << 30,
				 .max_path = 4096,
				 .reserve.bytes = IMG_RESERVE_AUTO};
}

static int get(struct ctx *c, void *buf, size_t n, struct cl_err *err)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = stream_read(c->in, (char *)buf + got, n - got, err);

		if (r < 0)
			return -1;
		if (r == 0)
			return cl_error(err, 0, "tar: truncated archive");
		got += (size_t)r;
	}
	return 0;
}

static int skip(struct ctx *c, uint64_t n, struct cl_err *err)
{
	char buf[16384];

	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (get(c, buf, k, err) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static uint64_t pad(uint64_t n)
{
	return (512 - n % 512) % 512;
}

/* A pax or GNU long-name body, read whole (meta_limits bounded it). */
static char *body(struct ctx *c, uint64_t size, struct cl_err *err)
{
	char *b;

	if (!(b = malloc((size_t)size + 1)))
		return cl_error(err, ENOMEM, "tar"), NULL;
	if (get(c, b, (size_t)size, err) < 0 || skip(c, pad(size), err) < 0)
		return free(b), NULL;
	b[size] = 0;
	return b;
}

static int meta(struct ctx *c, struct tar_entry *h, struct tar_entry *next, struct cl_err *err)
{
	char *b = body(c, h->size, err);
	int r = 0;

	if (!b)
		return -1;
	if (h->type == TAR_PAX)
		r = tar_pax_parse(b, (size_t)h->size, next, err);
	else if (h->type == TAR_GNU_LONGNAME)
		free(next->path), next->path = strdup(b);
	else if (h->type == TAR_GNU_LONGLINK)
		free(next->link), next->link = strdup(b);
	free(b);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A copy of name to keep until the layer's end; NULL past KEEP_MAX or out of memory. */
static char *keep(struct ctx *c, const char *name)
{
	size_t n = strlen(name) + 1 + KEEP_NODE;

	if (c->kept > KEEP_MAX - n)
		return c->over = true, NULL;
	c->kept += n;
	return strdup(name);
}

/* keep()'s refusal, for entry PATH. */
static int keep_failed(struct ctx *c, const char *path, struct cl_err *err)
{
	if (c->over)
		return cl_error(err, 0,
				"tar: entry %.64s: more than %u MiB of directory names to keep "
				"(directory times, whiteouts)",
				path, KEEP_MAX >> 20);
	return cl_error(err, ENOMEM, "entry %s", path);
}

/* path into the tree: 1 added, 0 there already, -1 refused (keep) */
static int add_path(struct ctx *c, void **tree, const char *path)
{
	char *p = keep(c, path);
	void **at = p ? tsearch(p, tree, by_name) : NULL;

	if (!at)
		return free(p), -1;
	if (*at != p)
		return free(p), 0;
	return 1;
}

static int remember(struct ctx *c, const char *path, struct cl_err *err)
{
	if (c->l->whiteouts != WH_APPLY || add_path(c, &c->created, path) >= 0)
		return 0;
	return keep_failed(c, path, err);
}

static int xattrs(int fd, const struct tar_entry *e, struct cl_err *err)
{
	for (size_t i = 0; i < e->nxattrs; i++)
		if (fsetxattr(fd, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len, 0) < 0 &&
		    errno != ENOTSUP && errno != EPERM)
			return cl_error(err, errno, "entry %s: xattr %s", e->path,
					e->xattrs[i].name);
	return 0;
}

/* owner, EPERM tolerated (an extraction without root keeps its own ids);
 * fd may be O_PATH */
static int owner(int fd, const struct tar_entry *e, struct cl_err *err)
{
	if (fchownat(fd, "", e->uid, e->gid, AT_EMPTY_PATH) < 0 && errno != EPERM)
		return cl_error(err, errno, "entry %s: chown", e->path);
	return 0;
}

/* A file's or a directory's metadata, on the fd this entry opened (or, for
 * a file, created): no name is looked up again, so nothing swapped in since
 * gets it. Owner first: a chown clears the setuid and setgid bits and a
 * file's security.capability; then xattrs (that capability; an ACL, whose
 * mask chmod then sets from the group bits), mode, times last (a
 * directory's at the layer's end: writing its children changes them). */
static int meta_fd(int fd, const struct tar_entry *e, struct cl_err *err)
{
	struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};

	if (owner(fd, e, err) < 0 || xattrs(fd, e, err) < 0)
		return -1;
	if (fchmod(fd, e->mode) < 0)
		return cl_error(err, errno, "entry %s: chmod", e->path);
	if (e->type != TAR_DIR && futimens(fd, ts) < 0)
		return cl_error(err, errno, "entry %s: utimes", e->path);
	return 0;
}

/* A symlink's, a device node's or a FIFO's, just made as name: no call makes
 * one and returns an fd, so it is opened O_PATH|O_NOFOLLOW once (nothing
 * of a device's driver runs) and must still be of the type made (not a
 * hardlink to a file swapped in meanwhile). A symlink has no mode; the
 * others' is set through the fd's /proc link (kernels before 6.6 have no
 * fchmodat2), which names this inode. */
static int meta_path(int pfd, const char *name, const struct tar_entry *e, mode_t type,
		     struct cl_err *err)
{
	struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
	int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r = -1;
	struct stat st;

	if (fd < 0)
		return cl_error(err, errno, "entry %s: open", e->path);
	if (fstat(fd, &st) < 0)
		cl_error(err, errno, "entry %s: stat", e->path);
	else if ((st.st_mode & S_IFMT) != type)
		cl_error(err, 0, "entry %s: replaced while extracted", e->path);
	else if (owner(fd, e, err) < 0)
		;
	else if (type != S_IFLNK && img_chmod_fd(fd, e->mode) < 0)
		cl_error(err, errno, "entry %s: chmod", e->path);
	else if (utimensat(fd, "", ts, AT_EMPTY_PATH) < 0)
		cl_error(err, errno, "entry %s: utimes", e->path);
	else
		r = 0;
	close(fd);
	return r;
}

static int write_file(struct ctx *c, int pfd, const char *name, struct tar_entry *e,
		      struct cl_err *err)
{
	int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	char buf[65536];
	uint64_t left = e->size;

	if (fd < 0)
		return cl_error(err, errno, "entry %s: create", e->path);
	while (left) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		if (get(c, buf, k, err) < 0 || img_meter_add(&c->meter, k, err) < 0)
			return close(fd), -1;
		if (write_all(fd, buf, k) < 0)
			return close(fd), cl_error(err, errno, "entry %s: write", e->path);
		left -= k;
	}
	if (meta_fd(fd, e, err) < 0)
		return close(fd), -1;
	close(fd);
	return skip(c, pad(e->size), err);
}

static int hardlink(struct ctx *c, int pfd, const char *name, struct tar_entry *e,
		    struct cl_err *err)
{
	char target[PATH_MAX], *slash;
	struct stat st;
	int tfd, r;

	if (tar_path_clean(e->link, target, sizeof(target), err) < 0)
		return cl_error_wrap(err, "hardlink %s", e->path);
	slash = strrchr(target, '/');
	if (slash)
		*slash = 0;
	tfd = img_open_dir_beneath(c->root, slash ? target : "", false, err);
	if (tfd < 0)
		return cl_error_wrap(err, "entry %s: hardlink target %s", e->path, e->link);
	if (fstatat(tfd, slash ? slash + 1 : target, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    S_ISDIR(st.st_mode)) {
		close(tfd);
		return cl_error(err, 0, "entry %s: hardlink target %s: not in the layer", e->path,
				e->link);
	}
	r = linkat(tfd, slash ? slash + 1 : target, pfd, name, 0);
	close(tfd);
	return r < 0 ? cl_error(err, errno, "entry %s: link", e->path) : 0;
}

static int defer_mtime(struct ctx *c, const char *rel, int64_t mtime, bool parent)
{
	struct dir_time *d = c->dirs;

	if (c->ndirs == c->cap) { /* doubled: a million records are not a million copies */
		if (!(d = realloc(c->dirs, (c->cap ? 2 * c->cap : 64) * sizeof(*d))))
			return -1;
		c->dirs = d;
		c->cap = c->cap ? 2 * c->cap : 64;
	}
	d[c->ndirs].mtime = mtime;
	d[c->ndirs].parent = parent;
	if (!(d[c->ndirs].path = keep(c, rel)))
		return -1;
	c->ndirs++;
	return 0;
}

/* Through the directory's own fd, resolved beneath the root without
 * symlinks: whatever took its name since (a hardlink to a file) is not
 * touched, and a directory removed by a whiteout is skipped. Nothing is
 * removed by then: c->parents walks to the records' directories too. */
static void set_mtime(struct ctx *c, const char *path, int64_t mtime)
{
	struct timespec ts[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
	struct cl_err ignored;
	int fd = img_dirs_open(&c->parents, path, false, &ignored);

	if (fd >= 0)
		utimensat(fd, "", ts, AT_EMPTY_PATH);
}

/* Order: utimensat on a directory does not touch its parent, so only
 * repeats matter: of the parent records the earliest wins (applied
 * last), and an entry's own mtime wins over all of them. A directory
 * removed since by a whiteout is skipped. */
static void dir_mtimes(struct ctx *c)
{
	for (size_t i = c->ndirs; i-- > 0;)
		if (c->dirs[i].parent)
			set_mtime(c, c->dirs[i].path, c->dirs[i].mtime);
	for (size_t i = 0; i < c->ndirs; i++)
		if (!c->dirs[i].parent)
			set_mtime(c, c->dirs[i].path, c->dirs[i].mtime);
}

static int make_dir(int pfd, const char *name, struct tar_entry *e, bool exists, struct cl_err *err)
{
	int fd, r;

	if (!exists && mkdirat(pfd, name, 0700) < 0)
		return cl_error(err, errno, "entry %s: mkdir", e->path);
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cl_error(err, errno, "entry %s: open", e->path);
	r = meta_fd(fd, e, err);
	close(fd);
	return r;
}

static int create(struct ctx *c, int pfd, const char *name, struct tar_entry *e, bool dir_exists,
		  struct cl_err *err)
{
	mode_t t = e->type == TAR_CHAR ? S_IFCHR : e->type == TAR_BLOCK ? S_IFBLK : S_IFIFO;

	switch (e->type) {
	case TAR_DIR:
		return make_dir(pfd, name, e, dir_exists, err);
	case TAR_FILE:
		return write_file(c, pfd, name, e, err);
	case TAR_HARDLINK: /* the target's inode: its own entry set its metadata */
		return hardlink(c, pfd, name, e, err);
	case TAR_SYMLINK:
		if (symlinkat(e->link, pfd, name) < 0)
			return cl_error(err, errno, "entry %s: symlink", e->path);
		return meta_path(pfd, name, e, S_IFLNK, err);
	case TAR_CHAR:
	case TAR_BLOCK:
		if (!c->l->allow_devices)
			return cl_error(err, 0, "entry %s: device node not allowed in this store",
					e->path);
		/* fallthrough */
	default:
		if (mknodat(pfd, name, t | 0600, makedev(e->devmajor, e->devminor)) < 0)
			return cl_error(err, errno, "entry %s: mknod", e->path);
		return meta_path(pfd, name, e, t, err);
	}
}

/* Opaque directory: what lower layers put in it goes, this layer's stays. */
static int opaque(struct ctx *c, int pfd, const char *dir, struct cl_err *err)
{
	int fd, r = add_path(c, &c->opaqued, dir);
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];

	if (r <= 0)
		return r < 0 ? keep_failed(c, dir, err) : 0;
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!(d = fd < 0 ? NULL : fdopendir(fd)))
		return fd >= 0 ? close(fd) : 0, cl_error(err, errno, "opaque dir %s", dir);
	r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		img_fmt(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", de->d_name);
		if (!tfind(path, &c->created, by_name))
			r = img_rm_tree_at(pfd, de->d_name, err);
	}
	closedir(d);
	return r;
}

/* overlayfs form: the whiteout a 0/0 character device, the opaque
 * directory marked with an xattr (trusted.*: needs root, as overlay). */
static int overlay_whiteout(int pfd, const char *parent, const char *name, struct cl_err *err)
{
	int fd;

	if (strcmp(name, ".wh..wh..opq") != 0) {
		if (img_rm_tree_at(pfd, name + 4, err) < 0)
			return -1;
		if (mknodat(pfd, name + 4, S_IFCHR | 0600, makedev(0, 0)) < 0)
			return cl_error(err, errno, "whiteout %s/%s", parent, name + 4);
		return 0;
	}
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0) {
		cl_error(err, errno, "opaque dir %s", *parent ? parent : "/");
		return fd >= 0 ? close(fd), -1 : -1;
	}
	close(fd);
	return 0;
}

static int whiteout(struct ctx *c, int pfd, const char *parent, const char *name,
		    struct cl_err *err)
{
	bool opq = strcmp(name, ".wh..wh..opq") == 0;

	if (!opq && (!name[4] || strcmp(name + 4, ".") == 0 || strcmp(name + 4, "..") == 0 ||
		     strchr(name + 4, '/')))
		return cl_error(err, 0, "entry %s/%s: bad whiteout", parent, name);
	if (c->l->whiteouts == WH_OVERLAY)
		return overlay_whiteout(pfd, parent, name, err);
	return opq ? opaque(c, pfd, parent, err) : img_rm_tree_at(pfd, name + 4, err);
}

/* Consecutive entries mostly share a parent: one record per run. */
static int keep_parent_mtime(struct ctx *c, int pfd, const char *parent)
{
	struct stat st;

	if (c->ndirs && c->dirs[c->ndirs - 1].parent &&
	    strcmp(c->dirs[c->ndirs - 1].path, parent) == 0)
		return 0;
	if (fstat(pfd, &st) < 0)
		return 0;
	return defer_mtime(c, parent, st.st_mtim.tv_sec, true);
}

static int apply(struct ctx *c, struct tar_entry *e, struct cl_err *err)
{
	char rel[PATH_MAX], *slash, *name;
	struct stat st;
	bool dir_exists = false;
	int pfd, r;

	if (tar_path_clean(e->path, rel, sizeof(rel), err) < 0)
		return -1;
	if (!*rel) /* the root itself: keep the store's */
		return e->type == TAR_FILE ? skip(c, e->size + pad(e->size), err) : 0;
	slash = strrchr(rel, '/');
	name = slash ? slash + 1 : rel;
	if (slash)
		*slash = 0;
	/* c->parents' fd: what follows removes or replaces its children only */
	pfd = img_dirs_open(&c->parents, slash ? rel : "", true, err);
	if (pfd < 0)
		return cl_error_wrap(err, "entry %s", e->path);
	if (slash && keep_parent_mtime(c, pfd, rel) < 0)
		return keep_failed(c, e->path, err);
	if (c->l->whiteouts != WH_KEEP && strncmp(name, ".wh.", 4) == 0) {
		r = whiteout(c, pfd, slash ? rel : "", name, err);
		return r < 0 ? -1 : skip(c, e->size + pad(e->size), err);
	}
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		dir_exists = S_ISDIR(st.st_mode) && e->type == TAR_DIR;
		if (!dir_exists && img_rm_tree_at(pfd, name, err) < 0)
			return -1;
	}
	r = create(c, pfd, name, e, dir_exists, err);
	if (slash)
		*slash = '/';
	if (r == 0 && e->type == TAR_DIR && defer_mtime(c, rel, e->mtime, false) < 0)
		return keep_failed(c, e->path, err);
	return r < 0 || remember(c, rel, err) < 0 ? -1 : 0;
}

/* One more header of the archive, its body size bytes. name: the entry's, or
 * NULL for a meta record. */
static int count(struct ctx *c, const char *name, uint64_t size, struct cl_err *err)
{
	if (++c->entries > c->l->max_entries)
		return cl_error(err, 0, "tar: more than %llu entries",
				(unsigned long long)c->l->max_entries);
	if (size > c->l->max_total - c->total)
		return cl_error(err, 0, "tar: %s%s: contents exceed %llu bytes",
				name ? "entry " : "pax or GNU record", name ?: "",
				(unsigned long long)c->l->max_total);
	c->total += size;
	return 0;
}

/* The free space an entry takes: a file larger than a meter's step is
 * refused at its header when its size alone would eat into the reserve;
 * every entry counts a header's worth (its inode, its name). */
static int reserve_entry(struct ctx *c, const struct tar_entry *e, struct cl_err *err)
{
	if (e->type == TAR_FILE && e->size > IMG_RESERVE_STEP &&
	    img_reserve_check(c->meter.r, c->root, e->size, c->meter.what, err) < 0)
		return -1;
	return img_meter_add(&c->meter, 512, err);
}

static int check_limits(struct ctx *c, struct tar_entry *e, struct cl_err *err)
{
	if (strlen(e->path) > c->l->max_path || (e->link && strlen(e->link) > c->l->max_path))
		return cl_error(err, ENAMETOOLONG, "tar: entry %.64s...: path longer than %llu",
				e->path, (unsigned long long)c->l->max_path);
	if (count(c, e->path, e->size, err) < 0)
		return -1;
	return reserve_entry(c, e, err);
}

/* Meta records are headers too (a layer of empty pax headers is a layer of
 * entries); those before one entry, global ones aside, PAX_MAX together. */
static int meta_limits(struct ctx *c, const struct tar_entry *h, uint64_t *gathered,
		       struct cl_err *err)
{
	if (count(c, NULL, h->size, err) < 0)
		return -1;
	if (h->type == TAR_PAX_GLOBAL)
		return 0;
	if (h->size > PAX_MAX - *gathered)
		return cl_error(err, 0,
				"tar: pax and GNU records of more than %d bytes for one entry",
				PAX_MAX);
	*gathered += h->size;
	return 0;
}

static int one(struct ctx *c, struct tar_entry *e, int *end, struct cl_err *err)
{
	unsigned char blk[512];
	uint64_t gathered = 0; /* bytes of meta records for *e */

	for (;;) {
		struct tar_entry h = {0};
		int r;

		if (get(c, blk, sizeof(blk), err) < 0)
			return -1;
		/* meta records go into h; the real header then fills *e on top
		 * of what they set */
		r = tar_header_parse(blk, &h, err);
		if (r == 0 && h.type < TAR_PAX) {
			tar_entry_clear(&h);
			if (tar_header_parse(blk, e, err) != 0)
				return cl_error_wrap(err, "tar");
			break;
		}
		if (r == 0 && meta_limits(c, &h, &gathered, err) < 0)
			r = -1;
		else if (r == 0 && h.type == TAR_PAX_GLOBAL)
			r = skip(c, h.size + pad(h.size), err);
		else if (r == 0)
			r = meta(c, &h, e, err);
		tar_entry_clear(&h);
		if (r != 0)
			return r < 0 ? -1 : (*end = 1, 0);
	}
	if (!e->path)
		return cl_error(err, 0, "tar: entry without a name");
	if (check_limits(c, e, err) < 0 || apply(c, e, err) < 0)
		return -1;
	return 0;
}

int tar_extract(struct stream *in, int dirfd, const struct tar_limits *l, struct cl_err *err)
{
	struct ctx c = {.in = in, .root = dirfd, .l = l};
	int end = 0, r = 0;

	c.meter = (struct img_meter){.r = &l->reserve, .fd = dirfd, .what = "unpacking"};
	img_dirs_init(&c.parents, dirfd);
	while (!end && r == 0) {
		struct tar_entry e = {0};

		r = one(&c, &e, &end, err);
		tar_entry_clear(&e);
	}
	if (r == 0)
		dir_mtimes(&c);
	img_dirs_close(&c.parents);
	for (size_t i = 0; i < c.ndirs; i++)
		free(c.dirs[i].path);
	free(c.dirs);
	tdestroy(c.created, free);
	tdestroy(c.opaqued, free);
	return r;
}

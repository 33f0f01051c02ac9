/* image/store.c: the content-addressed store.
 *
 *   STORE/blobs/HEX      verified blobs (manifest, config, layers)
 *   STORE/layers/HEX     each layer blob unpacked once, shared by images
 *   STORE/images/KEY     one record per reference (KEY = sha256 of it)
 *   STORE/tmp/import-*   staging; renamed into place last
 *   STORE/lock           flock: commits, rm and gc are serialised
 *
 * An import does all its work in its staging directory and only renames
 * into place under the lock, so a failed import leaves nothing and two
 * imports sharing a layer both succeed (the second finds it present).
 * A lazy import (--no-unpack) stores the verified blobs and the record
 * only: image/layers.c unpacks the layers when they are first needed. */
#include "../runtime/cl-private.h"
#include "image.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int store_dirs(const char *store, struct cl_err *err)
{
	static const char *sub[] = {"blobs", "layers", "images", "tmp"};
	char p[4096];

	/* 0700: the stored layers hold the images' setuid files and device
	 * nodes, not for host users (docs/images.md, "Store layout") */
	if (img_mkdir_private(store, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		img_fmt(p, sizeof(p), "%s/%s", store, sub[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return cl_error(err, errno, "store %s", p);
	}
	return 0;
}

int img_store_lock(const char *store, struct cl_err *err)
{
	char p[4096];
	int fd;

	img_fmt(p, sizeof(p), "%s/lock", store);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cl_error(err, errno, "store lock %s", p);
	if (flock(fd, LOCK_EX) < 0)
		return close(fd), cl_error(err, errno, "store lock %s", p);
	return fd;
}

static void ref_key(const char *ref, char hex[65])
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, ref, strlen(ref));
	sha256_hex(&h, hex);
}

/* --- import ---------------------------------------------------------------- */

static int unpack_layer(const char *stage, const char *store, const struct img_layer *l,
			const struct tar_limits *lim, struct cl_err *err)
{
	char blob[4096], dst[4096];
	struct tar_limits keep = *lim;
	enum stream_comp comp;
	struct stream *s;
	struct stat st;
	int fd, dfd, r;

	img_fmt(dst, sizeof(dst), "%s/layers/%s", store, l->digest + 7);
	if (stat(dst, &st) == 0)
		return 0; /* unpacked once, shared */
	img_fmt(blob, sizeof(blob), "%s/blobs/%s", stage, l->digest + 7);
	img_fmt(dst, sizeof(dst), "%s/layers/%s", stage, l->digest + 7);
	if (img_layer_comp(l->media_type, &comp, err) < 0)
		return -1;
	if ((fd = open(blob, O_RDONLY | O_CLOEXEC)) < 0)
		return cl_error(err, errno, "open %s", blob);
	if (mkdir(dst, 0755) < 0 || (dfd = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return close(fd), cl_error(err, errno, "mkdir %s", dst);
	keep.whiteouts = WH_OVERLAY; /* a stored layer is an overlay lower */
	keep.reserve.where = store;
	s = stream_open(fd, comp, err);
	r = s ? tar_extract(s, dfd, &keep, err) : -1;
	stream_close(s);
	close(fd);
	close(dfd);
	return r < 0 ? cl_error_wrap(err, "layer %s", l->digest) : 0;
}

static int write_record(const char *stage, const struct img_plan *p, struct cl_err *err)
{
	json_t *ls = json_array(), *o;
	char path[4096];
	int r;

	for (size_t i = 0; i < p->nlayers; i++)
		json_array_append_new(ls, json_pack("{s:s, s:s}", "digest", p->layers[i].digest,
						    "mediaType", p->layers[i].media_type));
	o = json_pack("{s:s, s:s, s:s, s:o}", "ref", p->ref, "manifest", p->manifest, "config",
		      p->config, "layers", ls);
	img_fmt(path, sizeof(path), "%s/record.json", stage);
	r = o && json_dump_file(o, path, JSON_INDENT(1)) == 0 ? 0
							      : cl_error(err, 0, "write %s", path);
	json_decref(o);
	return r;
}

/* rename(2) each staged blob/layer not yet in the store, then the record. */
static int commit(const char *stage, const char *store, const struct img_plan *p, bool lazy,
		  struct cl_err *err)
{
	char from[4096], to[4096], key[65];
	int lock = img_store_lock(store, err);
	const char *kinds[] = {"blobs", "layers"};
	int r = 0;

	if (lock < 0)
		return -1;
	for (int k = 0; k < 2 && r == 0; k++) {
		DIR *d;
		struct dirent *de;

		img_fmt(from, sizeof(from), "%s/%s", stage, kinds[k]);
		if (!(d = opendir(from)))
			continue;
		while (r == 0 && (de = readdir(d))) {
			struct stat st;
			if (de->d_name[0] == '.')
				continue;
			img_fmt(from, sizeof(from), "%s/%s/%s", stage, kinds[k], de->d_name);
			img_fmt(to, sizeof(to), "%s/%s/%s", store, kinds[k], de->d_name);
			if (stat(to, &st) != 0 && rename(from, to) < 0)
				r = cl_error(err, errno, "rename %s", to);
		}
		closedir(d);
	}
	/* a layer found present before the lock may have been collected since
	 * (a lazy import counts on its blobs only, all staged and renamed) */
	for (size_t i = 0; r == 0 && !lazy && i < p->nlayers; i++) {
		struct stat st;
		img_fmt(to, sizeof(to), "%s/layers/%s", store, p->layers[i].digest + 7);
		if (stat(to, &st) < 0)
			r = cl_error(err, 0, "layer %s: removed by a concurrent gc; import again",
				     p->layers[i].digest);
	}
	ref_key(p->ref, key);
	img_fmt(from, sizeof(from), "%s/record.json", stage);
	img_fmt(to, sizeof(to), "%s/images/%s", store, key);
	if (r == 0 && rename(from, to) < 0)
		r = cl_error(err, errno, "rename %s", to);
	close(lock);
	return r;
}

/* An archive is extracted (safely) into the staging directory first. */
static int source_dir(const char *src, const char *stage, const char *store,
		      const struct tar_limits *lim, char *out, size_t n, struct cl_err *err)
{
	struct tar_limits l = *lim;
	struct stat st;
	struct stream *s;
	int fd, dfd, r;

	if (stat(src, &st) < 0)
		return cl_error(err, errno, "%s", src);
	if (S_ISDIR(st.st_mode))
		return img_fmt(out, n, "%s", src), 0;
	/* a FIFO or a device (on a seed, in the drop directory) is not an
	 * archive: never opened, so never waited on nor read forever */
	if (!S_ISREG(st.st_mode))
		return cl_error(err, 0, "not a regular file or a directory");
	img_fmt(out, n, "%s/src", stage);
	if ((fd = open(src, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return cl_error(err, errno, "open %s", src);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return close(fd), cl_error(err, 0, "not a regular file or a directory");
	if (mkdir(out, 0700) < 0 || (dfd = open(out, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return close(fd), cl_error(err, errno, "mkdir %s", out);
	l.whiteouts = WH_KEEP;
	l.allow_devices = false;
	l.reserve.where = store;
	s = stream_open(fd, COMP_NONE, err);
	r = s ? tar_extract(s, dfd, &l, err) : -1;
	stream_close(s);
	close(fd);
	close(dfd);
	return r < 0 ? cl_error_wrap(err, "archive") : 0;
}

/* srcdir's image (an OCI layout or a docker-archive directory) into the
 * store: its plan (each blob verified into stage/blobs, or found there
 * already verified: a pull's), its layers unpacked, the record written,
 * all renamed into place last. */
int img_import_from(const struct img_opts *o, const char *srcdir, const char *stage, char **ref,
		    char digest[72], struct cl_err *err)
{
	struct img_reserve res = {o->limits.reserve.bytes, o->store};
	struct img_plan p = {.reserve = &res};
	int r = -1;

	if (img_plan_build(srcdir, stage, o->tag, &p, err) < 0)
		goto out;
	if (o->name) {
		free(p.ref);
		p.ref = strdup(o->name);
	}
	if (!p.ref)
		p.ref = strdup(p.manifest[0] ? p.manifest : p.config);
	for (size_t i = 0; i < p.nlayers && !o->lazy; i++)
		if (unpack_layer(stage, o->store, &p.layers[i], &o->limits, err) < 0)
			goto out;
	if (write_record(stage, &p, err) < 0 || commit(stage, o->store, &p, o->lazy, err) < 0)
		goto out;
	img_fmt(digest, 72, "%s", p.manifest[0] ? p.manifest : p.config);
	*ref = p.ref;
	p.ref = NULL;
	r = 0;
out:
	img_plan_free(&p);
	return r;
}

int img_stage_open(const char *store, const char *kind, char stage[4096], struct cl_err *err)
{
	const char *sub[] = {"blobs", "layers"};
	char p[4096];
	int fd;

	if (store_dirs(store, err) < 0)
		return -1;
	img_fmt(stage, 4096, "%s/tmp/%s-XXXXXX", store, kind);
	if (!mkdtemp(stage))
		return cl_error(err, errno, "mkdtemp %s", stage);
	/* held while staging: gc removes only unlocked (dead) staging dirs */
	fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		cl_error(err, errno, "lock %s", stage);
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		img_fmt(p, sizeof(p), "%s/%s", stage, sub[i]);
		if (mkdir(p, 0700) < 0) {
			cl_error(err, errno, "mkdir %s", p);
			goto fail;
		}
	}
	return fd;
fail:
	img_stage_close(stage, fd);
	return -1;
}

void img_stage_close(const char *stage, int fd)
{
	struct cl_err ignored;

	img_rm_tree(stage, &ignored);
	if (fd >= 0)
		close(fd);
}

int img_import_one(const struct img_opts *o, const char *src, char **ref, char digest[72],
		   struct cl_err *err)
{
	char stage[4096], dir[4096];
	int fd = img_stage_open(o->store, "import", stage, err), r;

	if (fd < 0)
		return cl_error_wrap(err, "image import %s", src);
	r = source_dir(src, stage, o->store, &o->limits, dir, sizeof(dir), err);
	if (r == 0)
		r = img_import_from(o, dir, stage, ref, digest, err);
	img_stage_close(stage, fd);
	return r < 0 ? cl_error_wrap(err, "image import %s", src) : 0;
}

int img_import(const struct img_opts *o, const char *src, struct cl_err *err)
{
	char digest[72], *ref = NULL;

	if (img_import_one(o, src, &ref, digest, err) < 0)
		return -1;
	cl_print_name(stdout, ref); /* the archive's name for itself */
	printf(" %s\n", digest);
	free(ref);
	return 0;
}

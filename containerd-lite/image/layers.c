/* image/layers.c: stored layers made on demand.
 *
 * A lazy import (--no-unpack, as image-builder does: an unprivileged
 * builder cannot create overlay whiteouts, 0/0 character devices, nor
 * trusted.* xattrs) leaves STORE/layers without the image's layers, and a
 * gc may have removed a shared one. img_ensure_layers() makes what is
 * missing from the blobs, which are hashed again as they are read: the
 * store's disk is not trusted more than the archive was. It works under
 * the store lock (no gc, no other ensure in between) in a staging
 * directory, and renames a layer into place only once it is whole and its
 * blob's digest matched, so a failure leaves nothing half unpacked. */
#include "image.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool layer_present(const char *store, const char *digest)
{
	char p[4096];
	struct stat st;

	img_fmt(p, sizeof(p), "%s/layers/%s", store, digest + 7);
	return stat(p, &st) == 0;
}

/* Extract blob into dfd as overlay layer; 0, or -1 with the error of the
 * digest when it differs (a flipped byte is a digest problem, even if the
 * tar reader hit it first). */
static int extract_verified(const char *blobs, const char *digest, enum stream_comp comp, int dfd,
			    const struct tar_limits *lim, struct cl_err *err)
{
	struct sha256 h;
	struct stream *s;
	struct stat st;
	char hex[65];
	int fd, r;

	if ((fd = img_open_file(blobs, digest + 7, &st, err)) < 0)
		return cl_error_wrap(err, "blob %s", digest);
	sha256_init(&h);
	s = stream_open(fd, comp, err);
	if (s)
		stream_hash(s, &h);
	r = s ? tar_extract(s, dfd, lim, err) : -1;
	if (s && stream_drain(s, r < 0 ? &(struct cl_err){0} : err) < 0 && r == 0)
		r = -1;
	stream_close(s);
	close(fd);
	if (!s)
		return -1;
	sha256_hex(&h, hex);
	if (strcmp(hex, digest + 7) != 0)
		return cl_error(err, 0, "blob %s: sha256 is %s (changed in the store)", digest,
				hex);
	return r;
}

/* One missing layer: STORE/tmp/layer-XXXXXX/HEX, then renamed. */
static int make_layer(const struct img_opts *o, json_t *l, struct cl_err *err)
{
	const char *digest = json_string_value(json_object_get(l, "digest")) ?: "";
	const char *mt = json_string_value(json_object_get(l, "mediaType")) ?: "";
	char stage[4096], dir[4200], blobs[4096], dst[4096];
	struct tar_limits lim = o->limits;
	struct cl_err ignored;
	enum stream_comp comp;
	int dfd, r = -1;

	if (!img_digest_valid(digest) || img_layer_comp(mt, &comp, err) < 0)
		return cl_error(err, 0, "layer %s: bad record", digest);
	img_fmt(stage, sizeof(stage), "%s/tmp/layer-XXXXXX", o->store);
	if (!mkdtemp(stage))
		return cl_error(err, errno, "mkdtemp %s", stage);
	img_fmt(dir, sizeof(dir), "%s/%s", stage, digest + 7);
	img_fmt(blobs, sizeof(blobs), "%s/blobs", o->store);
	img_fmt(dst, sizeof(dst), "%s/layers/%s", o->store, digest + 7);
	lim.whiteouts = WH_OVERLAY;
	lim.reserve.where = o->store;
	if (mkdir(dir, 0755) < 0 || (dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cl_error(err, errno, "mkdir %s", dir);
		goto out;
	}
	r = extract_verified(blobs, digest, comp, dfd, &lim, err);
	close(dfd);
	if (r == 0 && rename(dir, dst) < 0)
		r = cl_error(err, errno, "rename %s", dst);
out:
	img_rm_tree(stage, &ignored);
	return r < 0 ? cl_error_wrap(err, "layer %s", digest) : 0;
}

/* Layers made now, or -1. */
static int ensure(const struct img_opts *o, json_t *layers, struct cl_err *err)
{
	int lock = -1, made = 0;
	size_t i;
	json_t *l;

	json_array_foreach(layers, i, l)
	{
		const char *d = json_string_value(json_object_get(l, "digest")) ?: "";

		if (img_digest_valid(d) && layer_present(o->store, d))
			continue;
		/* taken at the first missing layer; checked again under it */
		if (lock < 0 && (lock = img_store_lock(o->store, err)) < 0)
			return -1;
		if (img_digest_valid(d) && layer_present(o->store, d))
			continue;
		if (make_layer(o, l, err) < 0) {
			close(lock);
			return -1;
		}
		made++;
	}
	if (lock >= 0)
		close(lock);
	return made;
}

static int ensure_ref(const struct img_opts *o, const char *ref, size_t *n, struct cl_err *err)
{
	json_t *rec = img_record(o->store, ref, err);
	int made;

	if (!rec)
		return -1;
	*n = json_array_size(json_object_get(rec, "layers"));
	made = ensure(o, json_object_get(rec, "layers"), err);
	json_decref(rec);
	return made < 0 ? cl_error_wrap(err, "image %s", ref) : made;
}

int img_ensure_layers(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	size_t n;

	return ensure_ref(o, ref, &n, err) < 0 ? -1 : 0;
}

int img_prepare(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	size_t n;
	int made = ensure_ref(o, ref, &n, err);

	if (made < 0)
		return cl_error_wrap(err, "image prepare");
	printf("%s: %zu layers, %d unpacked now\n", ref, n, made);
	return 0;
}

/* image/query.c: list, inspect, unpack, rm and gc over the store's
 * records (see image/store.c for the layout; image/lookup.c finds one). */
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

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

static int print_one(const char *key, json_t *rec, void *arg, struct cl_err *err)
{
	(void)key, (void)arg, (void)err;
	/* the ref is an archive's choice: one field of one line, whatever it holds */
	cl_print_name(stdout, str(rec, "ref"));
	printf("\t%s\t%zu layers\n", str(rec, "config"),
	       json_array_size(json_object_get(rec, "layers")));
	return 0;
}

/* list --json: {"ref", "manifest", "config", "layers": N} per image. */
static int add_one(const char *key, json_t *rec, void *arg, struct cl_err *err)
{
	(void)key, (void)err;
	json_array_append_new(
	    arg, json_pack("{s:s, s:s, s:s, s:I}", "ref", str(rec, "ref"), "manifest",
			   str(rec, "manifest"), "config", str(rec, "config"), "layers",
			   (json_int_t)json_array_size(json_object_get(rec, "layers"))));
	return 0;
}

static int list_json(const struct img_opts *o, struct cl_err *err)
{
	json_t *a = json_array();
	char *s = NULL;
	int r = img_each_record(o->store, add_one, a, err);

	if (r == 0 && !(s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		r = cl_error(err, ENOMEM, "image list");
	if (r == 0) {
		cl_json_write(stdout, s, isatty(STDOUT_FILENO));
		putchar('\n');
	}
	free(s);
	json_decref(a);
	return r;
}

int img_list(const struct img_opts *o, struct cl_err *err)
{
	if (o->json)
		return list_json(o, err);
	return img_each_record(o->store, print_one, NULL, err);
}

int img_inspect(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	char digest[80], blobs[4096], *text;
	json_t *cfg;

	if (img_config_digest(o, ref, digest, sizeof(digest), err) < 0)
		return -1;
	img_fmt(blobs, sizeof(blobs), "%s/blobs", o->store);
	if (!(cfg = img_load_json(blobs, digest + 7, err)))
		return cl_error_wrap(err, "image %s: config %s", ref, digest);
	text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(cfg);
	if (!text)
		return cl_error(err, ENOMEM, "image %s", ref);
	cl_json_write(stdout, text, isatty(STDOUT_FILENO)); /* the image's strings */
	putchar('\n');
	free(text);
	return 0;
}

static int unpack_blob(const char *store, json_t *l, int dfd, const struct tar_limits *lim,
		       struct cl_err *err)
{
	const char *digest = str(l, "digest");
	enum stream_comp comp;
	char blobs[4096];
	struct stream *s;
	struct stat st;
	int fd, r;

	if (!img_digest_valid(digest) || img_layer_comp(str(l, "mediaType"), &comp, err) < 0)
		return cl_error(err, 0, "layer %s: bad record", digest);
	img_fmt(blobs, sizeof(blobs), "%s/blobs", store);
	if ((fd = img_open_file(blobs, digest + 7, &st, err)) < 0)
		return cl_error_wrap(err, "layer %s", digest);
	s = stream_open(fd, comp, err);
	r = s ? tar_extract(s, dfd, lim, err) : -1;
	stream_close(s);
	close(fd);
	return r < 0 ? cl_error_wrap(err, "layer %s", digest) : 0;
}

/* The flattened tree: layers in order, whiteouts applied. The stored
 * layers are made first, so that a lazily imported image is verified
 * (and ready as overlay lowers) before anything is written to dir. */
/* The layer blobs hash to their digests, before anything is written:
 * unpack reads the blobs, not the stored layers (a lazy import has none,
 * and making them would create every file twice). */
static int verify_blobs(const char *store, json_t *layers, struct cl_err *err)
{
	char blobs[4096], hex[65];
	uint64_t size;
	json_t *l;
	size_t i;

	img_fmt(blobs, sizeof(blobs), "%s/blobs", store);
	json_array_foreach(layers, i, l)
	{
		const char *d = str(l, "digest");
		if (!img_digest_valid(d))
			return cl_error(err, 0, "layer %s: bad record", d);
		if (img_copy_hash(blobs, d + 7, NULL, UINT64_MAX, hex, &size, NULL, err) < 0)
			return cl_error_wrap(err, "blob %s", d);
		if (strcmp(hex, d + 7) != 0)
			return cl_error(err, 0, "blob %s: sha256 is %s", d, hex);
	}
	return 0;
}

int img_unpack(const struct img_opts *o, const char *ref, const char *dir, struct cl_err *err)
{
	json_t *rec, *l;
	struct tar_limits lim = o->limits;
	size_t i;
	int dfd, r = 0;

	if (!(rec = img_lookup(o->store, ref, NULL, err)))
		return -1;
	if (verify_blobs(o->store, json_object_get(rec, "layers"), err) < 0)
		return json_decref(rec), cl_error_wrap(err, "image unpack %s", ref);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return json_decref(rec),
		       cl_error(err, errno, "image unpack %s: mkdir %s", ref, dir);
	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return json_decref(rec), cl_error(err, errno, "image unpack %s: %s", ref, dir);
	lim.whiteouts = WH_APPLY;
	json_array_foreach(json_object_get(rec, "layers"), i, l)
	{
		if ((r = unpack_blob(o->store, l, dfd, &lim, err)) < 0)
			break;
	}
	close(dfd);
	json_decref(rec);
	return r < 0 ? cl_error_wrap(err, "image unpack %s", ref) : 0;
}

int img_rm(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	char key[80] = "", path[4096];
	int lock = img_store_lock(o->store, err), r = 0;
	json_t *rec;

	if (lock < 0)
		return -1;
	if (!(rec = img_lookup(o->store, ref, key, err)))
		r = -1;
	img_fmt(path, sizeof(path), "%s/images/%s", o->store, key);
	if (rec && unlink(path) < 0)
		r = cl_error(err, errno, "image rm %s: %s", ref, path);
	json_decref(rec);
	close(lock);
	return r;
}

/* --- gc: mark the digests records name, sweep the rest ------------------- */

static int mark(const char *key, json_t *rec, void *arg, struct cl_err *err)
{
	json_t *used = arg, *l;
	size_t i;

	(void)key, (void)err;
	/* a digest is a file name only once it is "sha256:" + 64 hex */
	if (img_digest_valid(str(rec, "manifest")))
		json_object_set_new(used, str(rec, "manifest") + 7, json_true());
	if (img_digest_valid(str(rec, "config")))
		json_object_set_new(used, str(rec, "config") + 7, json_true());
	json_array_foreach(json_object_get(rec, "layers"), i, l)
	{
		if (img_digest_valid(str(l, "digest")))
			json_object_set_new(used, str(l, "digest") + 7, json_true());
	}
	return 0;
}

/* Staging directories are removed only when no import holds their lock. */
static bool removable(const char *kind, int dfd, const char *name, json_t *used)
{
	int fd;
	bool dead;

	if (strcmp(kind, "tmp") != 0)
		return !json_object_get(used, name);
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	dead = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return dead;
}

static int sweep(const char *store, const char *kind, json_t *used, struct cl_err *err)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int r = 0;

	img_fmt(dir, sizeof(dir), "%s/%s", store, kind);
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : cl_error(err, errno, "gc %s", dir);
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !removable(kind, dirfd(d), de->d_name, used))
			continue;
		r = img_rm_tree_at(dirfd(d), de->d_name, err);
		if (r == 0)
			printf("removed %s/%s\n", kind, de->d_name);
	}
	closedir(d);
	return r;
}

/* The layer a lowerdir names: one in layers/ (prefix), or an idmapped clone
 * of one attached at BUNDLE/lower/HEX (overlay.c: a container in a user
 * namespace), whose own name is gone from mountinfo. NULL: neither. */
static const char *lower_hex(const char *d, const char *prefix)
{
	const char *base = strrchr(d, '/');

	if (!strncmp(d, prefix, strlen(prefix)))
		return d + strlen(prefix);
	if (base && base - d >= 6 && !strncmp(base - 6, "/lower", 6))
		return base + 1;
	return NULL;
}

/* Mark the layers of lowerdir=A:B:... (lower_hex). */
static void mark_lowers(char *opts, const char *prefix, json_t *used)
{
	char *low = strstr(opts, "lowerdir="), *save = NULL;

	if (!low)
		return;
	low += strlen("lowerdir=");
	low[strcspn(low, ",\n")] = 0;
	for (char *d = strtok_r(low, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		const char *hex = lower_hex(d, prefix);
		char digest[80];

		if (!hex)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.70s", hex);
		if (img_digest_valid(digest))
			json_object_set_new(used, hex, json_true());
	}
}

/* A layer that is a lower of a mounted overlay — a running container's
 * root, even one whose image was removed — is in use: gc keeps it. A
 * lower at some BUNDLE/lower/HEX that is not a clone of the layer HEX
 * (only root mounts overlays) keeps it too: gc errs on keeping. */
static int mark_mounted(const char *store, json_t *used, struct cl_err *err)
{
	char real[4096], prefix[4200], line[8192];
	FILE *f;

	if (!realpath(store, real))
		return cl_error(err, errno, "store %s", store);
	img_fmt(prefix, sizeof(prefix), "%s/layers/", real);
	if (!(f = fopen("/proc/self/mountinfo", "re")))
		return cl_error(err, errno, "/proc/self/mountinfo");
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - overlay ");
		if (sep)
			mark_lowers(sep, prefix, used);
	}
	fclose(f);
	return 0;
}

int img_gc(const struct img_opts *o, struct cl_err *err)
{
	json_t *used = json_object();
	int lock = img_store_lock(o->store, err), r;

	if (lock < 0)
		return json_decref(used), -1;
	r = mark_mounted(o->store, used, err);
	if (r == 0)
		r = img_each_record(o->store, mark, used, err);
	if (r == 0)
		r = sweep(o->store, "blobs", used, err);
	if (r == 0)
		r = sweep(o->store, "layers", used, err);
	if (r == 0)
		r = sweep(o->store, "tmp", used, err);
	close(lock);
	json_decref(used);
	return r < 0 ? cl_error_wrap(err, "image gc") : 0;
}

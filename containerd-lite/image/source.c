/* image/source.c: read an OCI image layout or a docker-archive (already
 * a directory) into a plan, every blob verified into stage/blobs first:
 * nothing is parsed or unpacked before its digest is checked. */
#include "image.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REF_NAME       "org.opencontainers.image.ref.name"

void img_plan_free(struct img_plan *p)
{
	for (size_t i = 0; i < p->nlayers; i++)
		free(p->layers[i].media_type);
	free(p->layers);
	free(p->ref);
	memset(p, 0, sizeof(*p));
}

/* A descriptor's blob, verified, then decoded. */
static json_t *load_blob(const char *src, const char *stage, json_t *desc, const char *what,
			 const struct img_reserve *res, struct cl_err *err)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	json_t *size = json_object_get(desc, "size");
	char rel[80];

	if (!digest || !json_is_integer(size) || json_integer_value(size) < 0)
		return cl_error(err, 0, "%s descriptor: digest or size missing", what), NULL;
	if (json_integer_value(size) > IMG_MAX_JSON)
		return cl_error(err, 0, "%s %s: %lld bytes is too large", what, digest,
				(long long)json_integer_value(size)),
		       NULL;
	if (img_blob_stage(src, stage, digest, (uint64_t)json_integer_value(size), res, err) < 0)
		return NULL;
	img_fmt(rel, sizeof(rel), "blobs/%s", digest + 7);
	return img_load_json(stage, rel, err);
}

static bool platform_ok(json_t *d, int *score)
{
	json_t *p = json_object_get(d, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *variant = json_string_value(json_object_get(p, "variant"));

	if (!p)
		return *score = 0, true; /* single-platform layouts carry none */
	if (!os || !arch || strcmp(os, "linux") != 0 || strcmp(arch, "amd64") != 0)
		return false;
	/* amd64 variants are micro-architecture levels: the baseline first */
	*score = !variant || strcmp(variant, "v1") == 0 ? 3 : strcmp(variant, "v2") == 0 ? 2 : 1;
	return true;
}

static void describe(json_t *ms, char *buf, size_t n)
{
	size_t i, o = 0;
	json_t *d;

	buf[0] = 0;
	json_array_foreach(ms, i, d)
	{
		json_t *p = json_object_get(d, "platform");
		const char *v = json_string_value(json_object_get(p, "variant"));
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s/%s%s%s", i ? ", " : "",
				      json_string_value(json_object_get(p, "os")) ?: "?",
				      json_string_value(json_object_get(p, "architecture")) ?: "?",
				      v ? "/" : "", v ?: "");
		if (o >= n)
			break;
	}
}

/* The manifest descriptor of the index for linux/amd64 (and tag): a
 * layout's index.json, or an index a registry serves (image/pull.c). */
json_t *img_index_choose(json_t *index, const char *tag, struct cl_err *err)
{
	json_t *ms = json_object_get(index, "manifests"), *d, *best = NULL;
	int best_score = -1, score, n = 0;
	size_t i;
	char found[512];

	json_array_foreach(ms, i, d)
	{
		const char *ref =
		    json_string_value(json_object_get(json_object_get(d, "annotations"), REF_NAME));
		if (tag && (!ref || strcmp(ref, tag) != 0))
			continue;
		n++;
		if (platform_ok(d, &score) && score > best_score)
			best = d, best_score = score;
	}
	if (n == 0)
		return cl_error(err, 0,
				tag ? "index.json: no manifest tagged %s"
				    : "index.json: no manifests%s",
				tag ? tag : ""),
		       NULL;
	if (!best) {
		describe(ms, found, sizeof(found));
		return cl_error(err, 0, "index.json: no linux/amd64 manifest (found %s)", found),
		       NULL;
	}
	if (!tag && n > 1 && !json_object_get(best, "platform"))
		return cl_error(err, 0, "index.json: %d images; choose one with --tag", n), NULL;
	return best;
}

static int add_layer(struct img_plan *p, const char *digest, const char *mt)
{
	struct img_layer *l = realloc(p->layers, (p->nlayers + 1) * sizeof(*l));

	if (!l)
		return -1;
	p->layers = l;
	l += p->nlayers;
	img_fmt(l->digest, sizeof(l->digest), "%s", digest);
	if (!(l->media_type = strdup(mt)))
		return -1;
	p->nlayers++;
	return 0;
}

static int oci_layers(const char *src, const char *stage, json_t *man, struct img_plan *p,
		      struct cl_err *err)
{
	json_t *cfg = json_object_get(man, "config"), *ls = json_object_get(man, "layers"), *l;
	const char *cd = json_string_value(json_object_get(cfg, "digest"));
	json_t *c = load_blob(src, stage, cfg, "config", p->reserve, err);
	size_t i;

	if (!c)
		return -1;
	json_decref(c);
	img_fmt(p->config, sizeof(p->config), "%s", cd);
	if (!json_is_array(ls))
		return cl_error(err, 0, "manifest %s: no layers", p->manifest);
	json_array_foreach(ls, i, l)
	{
		const char *mt = json_string_value(json_object_get(l, "mediaType")) ?: "(none)";
		const char *d = json_string_value(json_object_get(l, "digest"));
		json_t *size = json_object_get(l, "size");
		enum stream_comp comp;

		if (img_layer_comp(mt, &comp, err) < 0)
			return -1;
		if (!d || !json_is_integer(size) || json_integer_value(size) < 0)
			return cl_error(err, 0, "layer %zu: digest or size missing", i);
		if (img_blob_stage(src, stage, d, (uint64_t)json_integer_value(size), p->reserve,
				   err) < 0 ||
		    add_layer(p, d, mt) < 0)
			return -1;
	}
	return 0;
}

static int from_oci(const char *src, const char *stage, const char *tag, struct img_plan *p,
		    struct cl_err *err)
{
	json_t *index, *desc, *man = NULL;
	int r = -1;

	if (!(index = img_load_json(src, "index.json", err)))
		return -1;
	/* nested indexes (a multi-platform image tagged in the layout) */
	for (int depth = 0; depth < 4; depth++) {
		const char *mt;

		if (!(desc = img_index_choose(index, depth ? NULL : tag, err)))
			goto out;
		if (depth == 0 && !p->ref) {
			const char *ref = json_string_value(
			    json_object_get(json_object_get(desc, "annotations"), REF_NAME));
			p->ref = ref ? strdup(ref) : NULL;
		}
		img_fmt(p->manifest, sizeof(p->manifest), "%s",
			json_string_value(json_object_get(desc, "digest")) ?: "");
		if (!(man = load_blob(src, stage, desc, "manifest", p->reserve, err)))
			goto out;
		mt = json_string_value(json_object_get(desc, "mediaType")) ?: "";
		if (strcmp(mt, MT_INDEX) != 0 && strcmp(mt, MT_DOCKER_LIST) != 0)
			break;
		json_decref(index);
		index = man;
		man = NULL;
	}
	r = man ? oci_layers(src, stage, man, p, err)
		: cl_error(err, 0, "index.json: nested too deep");
out:
	json_decref(man);
	json_decref(index);
	return r;
}

/* docker-archive: names, not descriptors. The config is named by its
 * sha256; layer tars must hash to the config's rootfs.diff_ids. */
static int docker_config(const char *src, const char *stage, const char *name, json_t **cfg,
			 struct img_plan *p, struct cl_err *err)
{
	char hex[65], tmp[4096], dst[4096];
	uint64_t size;

	img_fmt(tmp, sizeof(tmp), "%s/config.tmp", stage);
	/* name is the archive's: beneath src, no symlink (img_open_file) */
	if (img_copy_hash(src, name, tmp, IMG_MAX_JSON, hex, &size, p->reserve, err) < 0)
		return cl_error_wrap(err, "docker-archive config");
	if (strncmp(name, hex, 64) != 0 && strstr(name, hex) == NULL)
		return cl_error(err, 0, "docker-archive config %s: sha256 is %s", name, hex);
	img_fmt(dst, sizeof(dst), "%s/blobs/%s", stage, hex);
	if (rename(tmp, dst) < 0)
		return cl_error(err, errno, "rename %s", tmp);
	img_fmt(p->config, sizeof(p->config), "sha256:%s", hex);
	img_fmt(dst, sizeof(dst), "blobs/%s", hex);
	return (*cfg = img_load_json(stage, dst, err)) ? 0 : -1;
}

static int docker_layer(const char *src, const char *stage, const char *name, const char *diff_id,
			struct img_plan *p, struct cl_err *err)
{
	char hex[65], tmp[4096], dst[4096], digest[72];
	uint64_t size;

	img_fmt(tmp, sizeof(tmp), "%s/layer.tmp", stage);
	if (!diff_id)
		return cl_error(err, 0, "docker-archive layer %s: no diff_id", name);
	/* a regular file beneath src, so its size bounds the copy */
	if (img_copy_hash(src, name, tmp, UINT64_MAX, hex, &size, p->reserve, err) < 0)
		return cl_error_wrap(err, "docker-archive layer");
	img_fmt(digest, sizeof(digest), "sha256:%s", hex);
	if (strcmp(digest, diff_id) != 0) {
		unlink(tmp);
		return cl_error(err, 0, "blob %s (layer %s): sha256 differs from diff_id %s",
				digest, name, diff_id);
	}
	img_fmt(dst, sizeof(dst), "%s/blobs/%s", stage, hex);
	if (rename(tmp, dst) < 0)
		return cl_error(err, errno, "rename %s", tmp);
	return add_layer(p, digest, "application/vnd.oci.image.layer.v1.tar");
}

static int from_docker(const char *src, const char *stage, struct img_plan *p, struct cl_err *err)
{
	json_t *m = NULL, *e, *cfg = NULL, *ls, *ids, *l;
	const char *cname;
	size_t i;
	int r = -1;

	if (!(m = img_load_json(src, "manifest.json", err)))
		return -1;
	if (json_array_size(m) != 1) {
		cl_error(err, 0, "docker-archive: %zu images; one is supported",
			 json_array_size(m));
		goto out;
	}
	e = json_array_get(m, 0);
	if (!p->ref && json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0)))
		p->ref =
		    strdup(json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0)));
	if (!(cname = json_string_value(json_object_get(e, "Config")))) {
		cl_error(err, 0, "docker-archive: manifest.json has no Config");
		goto out;
	}
	if (docker_config(src, stage, cname, &cfg, p, err) < 0)
		goto out;
	ls = json_object_get(e, "Layers");
	ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (json_array_size(ls) != json_array_size(ids)) {
		cl_error(err, 0, "docker-archive: %zu layers, %zu diff_ids", json_array_size(ls),
			 json_array_size(ids));
		goto out;
	}
	json_array_foreach(ls, i, l)
	{
		if (!json_is_string(l) ||
		    docker_layer(src, stage, json_string_value(l),
				 json_string_value(json_array_get(ids, i)), p, err) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(cfg);
	json_decref(m);
	return r;
}

int img_plan_build(const char *src, const char *stage, const char *tag, struct img_plan *p,
		   struct cl_err *err)
{
	char path[4096];
	struct stat st;

	/* which kind, by name only: what is read is opened by img_open_file */
	img_fmt(path, sizeof(path), "%s/oci-layout", src);
	if (lstat(path, &st) == 0)
		return from_oci(src, stage, tag, p, err);
	img_fmt(path, sizeof(path), "%s/manifest.json", src);
	if (lstat(path, &st) == 0)
		return from_docker(src, stage, p, err);
	return cl_error(err, 0,
			"neither an OCI image layout (oci-layout) nor a docker-archive "
			"(manifest.json)");
}

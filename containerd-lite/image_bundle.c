/* image_bundle.c: `image bundle REF DIR`, an OCI runtime bundle from an
 * image, as `docker run` would start it: DIR/rootfs the flattened image,
 * DIR/config.json the default spec with the image config's Entrypoint +
 * Cmd, Env, WorkingDir and User (resolved in the image's /etc/passwd and
 * /etc/group). */
#include "image.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *args_of(json_t *cfg)
{
	json_t *args = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(cfg, "Entrypoint"), i, v)
	{
		json_array_append(args, v);
	}
	json_array_foreach(json_object_get(cfg, "Cmd"), i, v)
	{
		json_array_append(args, v);
	}
	return args;
}

/* The image's Env, with PATH added when it has none (docker's rule). */
static json_t *env_of(json_t *cfg)
{
	json_t *env = json_array(), *v;
	bool path = false;
	size_t i;

	json_array_foreach(json_object_get(cfg, "Env"), i, v)
	{
		if (json_is_string(v) && strncmp(json_string_value(v), "PATH=", 5) == 0)
			path = true;
		json_array_append(env, v);
	}
	if (!path)
		json_array_append_new(
		    env, json_string(
			     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	return env;
}

static int process(json_t *spec, json_t *cfg, int root, struct cl_err *err)
{
	json_t *p = json_object_get(spec, "process"), *args = args_of(cfg);
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	uint32_t uid, gid;

	if (json_array_size(args) == 0) {
		json_decref(args);
		return cl_error(err, 0, "image config: no Entrypoint or Cmd");
	}
	if (img_resolve_user(root, json_string_value(json_object_get(cfg, "User")), &uid, &gid,
			     err) < 0) {
		json_decref(args);
		return -1;
	}
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "env", env_of(cfg));
	json_object_set_new(p, "cwd", json_string(wd && *wd ? wd : "/"));
	json_object_set_new(
	    p, "user", json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid));
	return 0;
}

static json_t *image_config(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	char path[4096], digest[80];
	json_error_t je;
	json_t *cfg;

	if (img_config_digest(o, ref, digest, sizeof(digest), err) < 0)
		return NULL;
	img_fmt(path, sizeof(path), "%s/blobs/%s", o->store, digest + 7);
	if (!(cfg = json_load_file(path, 0, &je)))
		return cl_error(err, 0, "config %s: %s", path, je.text), NULL;
	return cfg;
}

int img_bundle(const struct img_opts *o, const char *ref, const char *dir, struct cl_err *err)
{
	char rootfs[4096], path[4096];
	json_t *cfg = NULL, *spec = NULL;
	char *text = NULL;
	int root = -1, r = -1;

	img_fmt(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return cl_error(err, errno, "image bundle %s: mkdir %s", ref, dir);
	if (img_unpack(o, ref, rootfs, err) < 0)
		return -1;
	if (!(cfg = image_config(o, ref, err)))
		goto out;
	if ((root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cl_error(err, errno, "%s", rootfs);
		goto out;
	}
	text = cl_spec_default();
	spec = text ? json_loads(text, 0, NULL) : NULL;
	if (!spec || process(spec, json_object_get(cfg, "config"), root, err) < 0)
		goto out;
	json_object_set_new(json_object_get(spec, "root"), "readonly", json_false());
	img_fmt(path, sizeof(path), "%s/config.json", dir);
	if (json_dump_file(spec, path, JSON_INDENT(8) | JSON_PRESERVE_ORDER) < 0) {
		cl_error(err, 0, "write %s", path);
		goto out;
	}
	r = 0;
out:
	if (root >= 0)
		close(root);
	free(text);
	json_decref(spec);
	json_decref(cfg);
	return r < 0 ? cl_error_wrap(err, "image bundle %s", ref) : 0;
}

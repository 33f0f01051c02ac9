/* image/bundle.c: `image bundle REF DIR`, an OCI runtime bundle from an
 * image, as `docker run` would start it: DIR/rootfs the flattened image,
 * DIR/config.json the default spec with the image config's Entrypoint +
 * Cmd, Env, WorkingDir and User (resolved in the image's /etc/passwd and
 * /etc/group). */
#include "../runtime/cl-private.h"
#include "pull.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void append_all(json_t *to, json_t *from)
{
	json_t *v;
	size_t i;

	json_array_foreach(from, i, v)
	{
		json_array_append(to, v);
	}
}

static json_t *strv_json(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		if (*v[i] || n > 1) /* a lone "" clears (docker's --entrypoint "") */
			json_array_append_new(a, json_string(v[i]));
	return a;
}

/* docker's rule: a new entrypoint drops the image's Cmd unless a command is given too. */
static json_t *args_of(json_t *cfg, const struct img_over *ov)
{
	json_t *args = json_array(), *part;

	part = ov->has_entrypoint ? strv_json(ov->entrypoint, ov->nentrypoint)
				  : json_incref(json_object_get(cfg, "Entrypoint"));
	append_all(args, part);
	json_decref(part);
	if (ov->has_cmd) {
		part = strv_json(ov->cmd, ov->ncmd);
		append_all(args, part);
		json_decref(part);
	} else if (!ov->has_entrypoint) {
		append_all(args, json_object_get(cfg, "Cmd"));
	}
	return args;
}

static bool same_key(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* KEY=value set (replacing the image's KEY) or added. */
static void env_set(json_t *env, const char *kv)
{
	json_t *v;
	size_t i;

	json_array_foreach(env, i, v)
	{
		if (json_is_string(v) && same_key(kv, json_string_value(v))) {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

/* The image's Env, with PATH added when it has none (docker's rule), then the overrides. */
static json_t *env_of(json_t *cfg, const struct img_over *ov)
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
	for (size_t k = 0; k < ov->nenv; k++)
		env_set(env, ov->env[k]);
	return env;
}

/* docker's additionalGids: the groups the image's /etc/group puts the user in. */
static void supplementary(json_t *u, int root, const char *user, uint32_t gid)
{
	uint32_t gids[64];
	size_t n = img_user_groups(root, user, gid, gids, 64);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(gids[i]));
	if (n)
		json_object_set_new(u, "additionalGids", a);
	else
		json_decref(a);
}

/* The process's cwd: absolute, clean, not in the kernel's trees. The
 * runtime resolves it beneath the root without magic links too; this
 * refuses what no image needs (WORKDIR /proc/self/fd/N reached the host's
 * tree through a leaked fd: CVE-2024-21626; /dev/fd is a link to it). */
static int cwd_of(json_t *cfg, const struct img_over *ov, char *out, size_t n, struct cl_err *err)
{
	const char *what = ov->cwd ? "--cwd" : "WorkingDir", *kernel;
	const char *wd = ov->cwd ? ov->cwd : json_string_value(json_object_get(cfg, "WorkingDir"));

	if (!wd || !*wd)
		return img_fmt(out, n, "/"), 0;
	if (!img_abs_clean(wd, out, n))
		return cl_error(err, 0, "%s %s: not an absolute path without '..'", what, wd);
	if ((kernel = img_kernel_path(out)))
		return cl_error(err, 0, "%s %s: under %s (refused)", what, wd, kernel);
	return 0;
}

static int process(json_t *spec, json_t *cfg, int root, const struct img_over *ov,
		   struct cl_err *err)
{
	json_t *p = json_object_get(spec, "process"), *args;
	const char *user = ov->user ? ov->user : json_string_value(json_object_get(cfg, "User"));
	char wd[4096];
	uint32_t uid, gid;

	if (cwd_of(cfg, ov, wd, sizeof(wd), err) < 0)
		return -1;
	args = args_of(cfg, ov);
	if (json_array_size(args) == 0) {
		json_decref(args);
		return cl_error(err, 0, "image config: no Entrypoint or Cmd, and no command given");
	}
	if (img_resolve_user(root, user, &uid, &gid, err) < 0) {
		json_decref(args);
		return -1;
	}
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "env", env_of(cfg, ov));
	json_object_set_new(p, "cwd", json_string(wd));
	json_object_set_new(
	    p, "user", json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid));
	supplementary(json_object_get(p, "user"), root, user, gid);
	return 0;
}

static json_t *image_config(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	char blobs[4096], digest[80];
	json_t *cfg;

	if (img_config_digest(o, ref, digest, sizeof(digest), err) < 0)
		return NULL;
	img_fmt(blobs, sizeof(blobs), "%s/blobs", o->store);
	if (!(cfg = img_load_json(blobs, digest + 7, err)))
		return cl_error_wrap(err, "config %s", digest), NULL;
	return cfg;
}

/* The root: a flattened copy (the default), or an overlay of the stored
 * layers. Read-only, it still gets a scratch upper, as docker --read-only:
 * the runtime makes its mount points there before it remounts / read-only. */
static int make_root(const struct img_opts *o, const char *ref, const char *dir, const char *rootfs,
		     struct cl_err *err)
{
	uint32_t base = o->over.userns_base;
	char scratch[4096];

	/* a lazy import (baked by image-builder) has its layers made on first use */
	if ((o->over.upper || o->over.readonly) && img_ensure_layers(o, ref, err) < 0)
		return -1;
	if (o->over.upper) {
		/* an earlier run's root lets go of the upper before it is shifted */
		while (umount2(rootfs, MNT_DETACH) == 0)
			;
		return img_userns_upper(o->over.upper, base, err) < 0
			   ? -1
			   : img_overlay_mount(o, ref, rootfs, o->over.upper, err);
	}
	if (!o->over.readonly)
		return img_unpack(o, ref, rootfs, err) < 0 ? -1
							   : img_shift_tree(rootfs, 0, base, err);
	img_fmt(scratch, sizeof(scratch), "%s/scratch", dir);
	while (umount2(rootfs, MNT_DETACH) == 0)
		;
	if (img_rm_tree(scratch, err) < 0 || img_userns_upper(scratch, base, err) < 0)
		return -1;
	return img_overlay_mount(o, ref, rootfs, scratch, err);
}

/* 0600: the process's env may hold secrets (a declaration's env). */
static int write_spec(json_t *spec, const char *dir, struct cl_err *err)
{
	char path[4096];
	int fd, r;

	img_fmt(path, sizeof(path), "%s/config.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cl_error(err, errno, "write %s", path);
	/* an older bundle's file keeps its mode through O_TRUNC */
	r = fchmod(fd, 0600) < 0 ? cl_error(err, errno, "chmod %s", path) : 0;
	if (r == 0 && json_dumpfd(spec, fd, JSON_INDENT(8) | JSON_PRESERVE_ORDER) < 0)
		r = cl_error(err, 0, "write %s", path);
	if (close(fd) < 0 && r == 0)
		r = cl_error(err, errno, "write %s", path);
	return r;
}

/* DIR and its parent (/run/wisp/bundles) 0700: the root mounted in DIR
 * holds the image's and the container's setuid files and device nodes,
 * which no host user may reach. An existing DIR is a bundle: tightened;
 * an existing parent is the caller's and is left as it is. In a user
 * namespace the container's root (host uid BASE) reaches DIR/rootfs by
 * path while it sets itself up: DIR is 0710 root:BASE, its parent
 * searchable (0711), image/userns.c. */
static int bundle_dir(const char *dir, uint32_t base, struct cl_err *err)
{
	char parent[4096], *slash;

	img_fmt(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if (img_mkdir_private(parent, err) < 0)
			return -1;
		if (base && img_userns_traverse(dir, err) < 0)
			return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cl_error(err, errno, "mkdir %s", dir);
	return img_userns_dir(dir, base, err);
}

static json_t *default_spec(struct cl_err *err)
{
	char *text = cl_spec_default();
	json_t *spec = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	if (!spec)
		cl_error(err, ENOMEM, "default spec");
	return spec;
}

int img_bundle(const struct img_opts *o, const char *ref, const char *dir, struct cl_err *err)
{
	json_t *cfg = NULL, *spec = NULL, *c;
	char rootfs[4096];
	int root = -1, r = -1;
	bool mounted = false;

	img_fmt(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	if (img_pull_policy(o, ref, err) < 0)
		return cl_error_wrap(err, "image bundle %s", ref);
	if (bundle_dir(dir, o->over.userns_base, err) < 0)
		return cl_error_wrap(err, "image bundle %s", ref);
	if (make_root(o, ref, dir, rootfs, err) < 0)
		goto out;
	mounted = o->over.upper || o->over.readonly;
	if (!(cfg = image_config(o, ref, err)))
		goto out;
	c = json_object_get(cfg, "config");
	if ((root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cl_error(err, errno, "%s", rootfs);
		goto out;
	}
	if (!(spec = default_spec(err)) || process(spec, c, root, &o->over, err) < 0 ||
	    img_bundle_runtime(spec, c, &o->over, root, err) < 0 ||
	    write_spec(spec, dir, err) < 0 || img_stop_signal_write(dir, c, err) < 0)
		goto out;
	r = 0;
out:
	if (root >= 0)
		close(root);
	if (r < 0 && mounted)
		umount2(rootfs, MNT_DETACH);
	json_decref(spec);
	json_decref(cfg);
	return r < 0 ? cl_error_wrap(err, "image bundle %s", ref) : 0;
}

/* image/host.c: what a container shares with the host because its author
 * says so, in docker's words. `--volume SRC:DST[:OPTS]` binds a host path,
 * `--pid host` keeps the host's pid namespace, `--privileged` gives every
 * capability and drops the seccomp filter, the masked and read-only paths
 * and the device policy, with /sys and the container's own cgroup
 * writable: what a node agent that makes containers itself (containerd)
 * needs. Only a root author asks for them (docs/declarations.md, "Host
 * access"); this file makes sure they mean no more than that. */
#include "../runtime/cl-private.h"
#include "image.h"
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

/* A directory on the way to a bind's source must stay what it is until
 * the runtime mounts it: root's and writable by root alone, so that no
 * user, nor a container through a directory it writes, can swap a
 * component for a symlink (to /) in between. */
static int safe_dir(const char *path, const char *src, struct cl_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return cl_error(err, errno, "volume %s: %s", src, path);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return cl_error(err, 0,
				"volume %s: %s is not a directory only root can write (refused: "
				"its owner could swap the path)",
				src, path);
	return 0;
}

/* Symlinks one source's walk follows, as the kernel's own limit. */
#define SOURCE_LINKS 40

/* The first component of todo moved into comp; false when none is left. */
static bool next_comp(char *todo, char comp[PATH_MAX])
{
	size_t skip = strspn(todo, "/"), n = strcspn(todo + skip, "/");

	if (n == 0)
		return false;
	img_fmt(comp, PATH_MAX, "%.*s", (int)n, todo + skip);
	memmove(todo, todo + skip + n, strlen(todo + skip + n) + 1);
	return true;
}

/* out's last component dropped ("/a/b" -> "/a", "/a" -> "/"). */
static void up(char *out)
{
	char *slash = strrchr(out, '/');

	slash[slash == out] = '\0';
}

/* The symlink at path: its text put before what is left to walk; an
 * absolute one starts again from "/". */
static int follow(const char *path, char *out, char *todo, int *links, const char *src,
		  struct cl_err *err)
{
	char text[PATH_MAX], rest[PATH_MAX];
	ssize_t n = readlink(path, text, sizeof(text) - 1);

	if (n < 0)
		return cl_error(err, errno, "volume %s: %s", src, path);
	if (++*links > SOURCE_LINKS)
		return cl_error(err, ELOOP, "volume %s: %s", src, path);
	text[n] = '\0';
	img_fmt(rest, sizeof(rest), "%s", todo);
	if ((size_t)snprintf(todo, PATH_MAX, "%s/%s", text, rest) >= PATH_MAX)
		return cl_error(err, ENAMETOOLONG, "volume %s: %s", src, path);
	if (text[0] == '/')
		img_fmt(out, PATH_MAX, "/");
	return 0;
}

/* out + "/" + the n bytes of name (out "/" stays one slash). */
static void join(char *out, const char *name, size_t n)
{
	size_t len = strlen(out);

	img_fmt(out + len, PATH_MAX - len, "%s%.*s", len > 1 ? "/" : "", (int)n, name);
}

/* Component comp of the checked directory out: entered (a missing one made
 * a directory, as docker -v makes it), or the symlink there followed. */
static int enter(char *out, const char *comp, char *todo, int *links, const char *src,
		 struct cl_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	img_fmt(path, sizeof(path), "%s", out);
	join(path, comp, strlen(comp));
	if (lstat(path, &st) < 0) {
		/* a symlink's missing target is not made (docker's -v refuses
		 * it too): its ".." would have made directories on the way */
		if (errno != ENOENT || *links)
			return cl_error(err, errno, "volume %s: %s", src, path);
		/* in a directory only root writes: what is there next is root's */
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return cl_error(err, errno, "volume %s: mkdir %s", src, path);
		st.st_mode = S_IFDIR;
	}
	if (S_ISLNK(st.st_mode))
		return follow(path, out, todo, links, src, err);
	if (!S_ISDIR(st.st_mode) && todo[strspn(todo, "/")])
		return cl_error(err, ENOTDIR, "volume %s: %s", src, path);
	img_fmt(out, PATH_MAX, "%s", path);
	return 0;
}

/* SRC resolved into out a component at a time, now (the runtime mounts out
 * later): every directory the walk looks into, those a symlink's text
 * leads through included, is checked first (safe_dir), so neither the
 * path's own directories nor a symlink planted in one a user or a
 * container writes can choose where the bind points. The source itself
 * may be anyone's: its name cannot change. */
static int host_source(const char *src, char *out, struct cl_err *err)
{
	char todo[PATH_MAX], comp[PATH_MAX];
	int links = 0;

	if (!img_abs_clean(src, todo, sizeof(todo)))
		return cl_error(err, 0, "volume %s: the host path is not absolute without '..'",
				src);
	img_fmt(out, PATH_MAX, "/");
	while (next_comp(todo, comp)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0)
			up(out);
		else if (safe_dir(out, src, err) < 0 ||
			 enter(out, comp, todo, &links, src, err) < 0)
			return -1;
	}
	return 0;
}

/* OPTS: docker -v's, comma-separated: ro or rw, and a propagation. */
static int volume_opts(const char *src, const char *opts, char *out, size_t size,
		       struct cl_err *err)
{
	static const char *const known[] = {"ro",    "rw",     "shared",  "rshared",
					    "slave", "rslave", "private", "rprivate"};
	size_t used = (size_t)snprintf(out, size, "rbind");
	bool ro = false;

	for (const char *p = opts; p && *p;) {
		size_t n = strcspn(p, ","), k = 0;
		while (k < 8 && (strlen(known[k]) != n || strncmp(p, known[k], n) != 0))
			k++;
		if (k == 8)
			return cl_error(err, 0,
					"volume %s: option \"%.*s\": ro, rw, [r]shared, [r]slave "
					"or [r]private",
					src, (int)n, p);
		if (k < 2)
			ro = k == 0;
		else if (used < size)
			used += (size_t)snprintf(out + used, size - used, ",%s", known[k]);
		p += n + (p[n] == ',');
	}
	/* ro all the way down, as docker's -v since 25.0: a plain ro binds
	 * the top read-only and leaves what is mounted below it (a host
	 * /'s /var, /run, /sys/fs/cgroup) writable in the container */
	if (used < size)
		snprintf(out + used, size - used, ",%s", ro ? "rro" : "rw");
	return 0;
}

/* "SRC:DST[:OPTS]" into a bind of the spec. DST is the container's: not
 * "/", and not in the kernel's trees unless privileged (where the runtime
 * masks nothing anyway). */
static int volume(json_t *spec, const char *v, bool privileged, struct cl_err *err)
{
	char src[PATH_MAX], dst[PATH_MAX], clean[PATH_MAX], resolved[PATH_MAX], opts[128];
	const char *colon = strchr(v, ':'), *o;

	if (!colon || (size_t)(colon - v) >= sizeof(src))
		return cl_error(err, 0, "volume %s: not SRC:DST[:OPTS]", v);
	img_fmt(src, sizeof(src), "%.*s", (int)(colon - v), v);
	o = strchr(colon + 1, ':');
	img_fmt(dst, sizeof(dst), "%.*s", (int)(o ? o - colon - 1 : (long)strlen(colon + 1)),
		colon + 1);
	if (img_volume_dest(dst, clean, sizeof(clean),
			    privileged ? NULL : "refused unless --privileged", err) < 0 ||
	    volume_opts(v, o ? o + 1 : NULL, opts, sizeof(opts), err) < 0 ||
	    host_source(src, resolved, err) < 0)
		return -1;
	img_add_mount(spec, clean, "bind", resolved, opts);
	return 0;
}

/* Every capability the runtime may give (its own bounding set: where the
 * host's root lacks one, as in a container, asking for it would fail the
 * start), in each set a process has. */
static void all_caps(json_t *proc)
{
	json_t *caps = json_array();
	const char *name;

	for (int c = 0; (name = cl_cap_name(c)); c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			json_array_append_new(caps, json_string(name));
	json_object_set_new(
	    proc, "capabilities",
	    json_pack("{s:O, s:O, s:O}", "bounding", caps, "effective", caps, "permitted", caps));
	json_decref(caps);
}

/* docker --privileged: no filter, no masks, every device, /sys and the
 * cgroup (the container's own subtree, in its cgroup namespace) writable. */
static void privileged(json_t *spec)
{
	json_t *proc = json_object_get(spec, "process"), *lin = json_object_get(spec, "linux");
	json_t *m, *opts, *o;
	size_t i, j;

	all_caps(proc);
	json_object_set_new(proc, "noNewPrivileges", json_false());
	json_object_del(lin, "seccomp");
	json_object_del(lin, "maskedPaths");
	json_object_del(lin, "readonlyPaths");
	json_object_set_new(json_object_get(lin, "resources"), "devices",
			    json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm"));
	json_array_foreach(json_object_get(spec, "mounts"), i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type")) ?: "";
		if (strcmp(type, "sysfs") != 0 && strcmp(type, "cgroup") != 0)
			continue;
		opts = json_object_get(m, "options");
		json_array_foreach(opts, j, o)
		{
			if (strcmp(json_string_value(o) ?: "", "ro") == 0)
				json_array_set_new(opts, j, json_string("rw"));
		}
	}
}

int img_host_spec(json_t *spec, const struct img_over *ov, struct cl_err *err)
{
	if ((ov->privileged || ov->host_pid) && ov->userns_base)
		return cl_error(err, 0,
				"image bundle: %s needs --userns host (its root is the host's)",
				ov->privileged ? "--privileged" : "--pid host");
	for (size_t i = 0; i < ov->nvolume; i++)
		if (volume(spec, ov->volume[i], ov->privileged, err) < 0)
			return cl_error_wrap(err, "image bundle");
	if (ov->host_pid)
		img_drop_namespace(json_object_get(spec, "linux"), "pid");
	if (ov->privileged)
		privileged(spec);
	return 0;
}

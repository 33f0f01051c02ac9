/* image/runtime.c: what of an image config, beyond its process, becomes
 * the bundle's spec, as `docker run` does it: Labels and ExposedPorts as
 * annotations (umoci's names), Volumes as mounts of their own that
 * outlive the container's root, the host's network when asked (then its
 * resolv.conf and hosts too), the cgroup, the device policy and the
 * root's writability. */
#include "image.h"
#include "../net/net.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of obj, sorted (jansson's order is its hash's): "80/tcp,443/tcp". */
static char *joined_keys(json_t *obj)
{
	size_t n = json_object_size(obj), i = 0, len = 1;
	const char **k = calloc(n ? n : 1, sizeof(*k)), *key;
	json_t *v;
	char *out;

	if (!k)
		return NULL;
	json_object_foreach(obj, key, v)
	{
		k[i++] = key;
		len += strlen(key) + 1;
	}
	qsort(k, n, sizeof(*k), by_string);
	if ((out = calloc(1, len)))
		for (i = 0; i < n; i++)
			strcat(strcat(out, i ? "," : ""), k[i]);
	free(k);
	return out;
}

static void annotations(json_t *spec, json_t *cfg)
{
	json_t *a = json_object(), *v;
	const char *key;
	char *ports;

	/* org.wisp.*: the runtime's own (org.wisp.ns-owner, create's pidfd
	 * check, runtime/ns.c), which only Wisp writes, never an image */
	json_object_foreach(json_object_get(cfg, "Labels"), key, v)
	{
		if (json_is_string(v) &&
		    strncmp(key, CL_WISP_ANNOTATIONS, strlen(CL_WISP_ANNOTATIONS)))
			json_object_set(a, key, v);
	}
	if (json_object_size(json_object_get(cfg, "ExposedPorts")) &&
	    (ports = joined_keys(json_object_get(cfg, "ExposedPorts")))) {
		json_object_set_new(a, "org.opencontainers.image.exposedPorts", json_string(ports));
		free(ports);
	}
	if (json_object_size(a))
		json_object_set_new(spec, "annotations", a);
	else
		json_decref(a);
}

void img_add_mount(json_t *spec, const char *dest, const char *type, const char *src,
		   const char *opts)
{
	json_t *o = json_array();

	for (const char *p = opts; *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(o, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	json_array_append_new(json_object_get(spec, "mounts"),
			      json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type,
					"source", src, "options", o));
}

/* "/var/lib/db" -> "var%2Flib%2Fdb": one directory per volume, no collisions. */
static void volume_dir(const char *upper, const char *path, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s/volumes/", upper);

	for (const char *p = path + (*path == '/'); *p && n + 4 < size; p++)
		n += (size_t)(*p == '/' || *p == '%' ? snprintf(out + n, size - n, "%%%02X", *p)
						     : snprintf(out + n, size - n, "%c", *p));
}

/* A volume's destination, clean ("/a/b"): absolute, no "..", not "/",
 * nor in the kernel's trees: a volume over /dev (or /dev/null) would let
 * what the container wrote there stand in for the runtime's own nodes
 * and mask targets at the next start (CVE-2025-31133), and one over
 * /proc or /sys would shadow what the runtime masks (a privileged
 * container's bind, whose runtime masks nothing, passes REFUSED NULL). */
int img_volume_dest(const char *path, char *out, size_t n, const char *refused, struct cl_err *err)
{
	const char *kernel;

	if (!img_abs_clean(path, out, n) || strcmp(out, "/") == 0)
		return cl_error(err, 0, "volume %s: not an absolute path without '..' below /",
				path);
	if (refused && (kernel = img_kernel_path(out)))
		return cl_error(err, 0, "volume %s: under %s (%s)", path, kernel, refused);
	return 0;
}

/* The image's Volumes, each a directory made on STATE (or under /run for a
 * read-only container's mount points) at every bundle: far more than any
 * real image has, far less than an image of a few MiB of config could ask
 * (200 of 250 levels each made 50 000 directories). */
#define IMG_CONFIG_VOLUMES   64
#define IMG_MAX_VOLUME_DEPTH 32

static int volume_depth(const char *path)
{
	int n = 0;

	for (const char *p = path; *p; p++)
		n += *p == '/';
	return n;
}

/* With an upper (a container that keeps its data), a volume is a
 * directory beside it; without, a tmpfs: writable even on a read-only root. */
static int volumes(json_t *spec, json_t *cfg, const struct img_over *ov, struct cl_err *err)
{
	const char *key;
	char dir[4096], path[4096];
	json_t *v, *all = json_object_get(cfg, "Volumes");

	if (json_object_size(all) > IMG_CONFIG_VOLUMES)
		return cl_error(err, 0, "image config: %zu Volumes, %d at most",
				json_object_size(all), IMG_CONFIG_VOLUMES);
	json_object_foreach(all, key, v)
	{
		if (img_volume_dest(key, path, sizeof(path), "refused", err) < 0)
			return cl_error_wrap(err, "image config");
		if (volume_depth(path) > IMG_MAX_VOLUME_DEPTH)
			return cl_error(err, 0,
					"image config: volume %.64s...: %d levels deep, %d at most",
					path, volume_depth(path), IMG_MAX_VOLUME_DEPTH);
		if (!ov->upper) {
			img_add_mount(spec, path, "tmpfs", "tmpfs",
				      "nosuid,nodev,mode=755," IMG_VOLUME_TMPFS);
			continue;
		}
		img_fmt(dir, sizeof(dir), "%s/volumes", ov->upper);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return cl_error(err, errno, "mkdir %s", dir);
		if (img_userns_dir(dir, ov->userns_base, err) < 0)
			return -1;
		volume_dir(ov->upper, path, dir, sizeof(dir));
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return cl_error(err, errno, "volume %s: mkdir %s", path, dir);
		if (img_userns_volume(dir, ov->userns_base, err) < 0)
			return -1;
		img_add_mount(spec, path, "bind", dir, "rbind,rw");
	}
	return 0;
}

void img_drop_namespace(json_t *lin, const char *type)
{
	json_t *ns = json_object_get(lin, "namespaces"), *v;
	size_t i;

	json_array_foreach(ns, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "type")) ?: "", type) == 0) {
			json_array_remove(ns, i);
			return;
		}
	}
}

/* The host's name resolution, read-only, where the root can take it. */
static void host_files(json_t *spec, int root, bool writable)
{
	static const char *const files[] = {"/etc/resolv.conf", "/etc/hosts"};

	for (size_t i = 0; i < 2; i++)
		if (access(files[i], R_OK) == 0 &&
		    (writable || faccessat(root, files[i] + 1, F_OK, AT_SYMLINK_NOFOLLOW) == 0))
			img_add_mount(spec, files[i], "bind", files[i],
				      "rbind,ro,nosuid,nodev,noexec");
}

static void opt_arg(json_t *args, const char *opt, const char *value)
{
	json_array_append_new(args, json_string(opt));
	json_array_append_new(args, json_string(value));
}

/* HOOK (createRuntime, poststop) runs `THIS network VERB --oci-state`: the
 * runtime hands the hook the container's state (id, pid) on stdin; attach
 * gets the ports to publish and the bandwidth limits. */
static void net_hook(json_t *spec, const char *hook, const char *self, const char *verb,
		     const struct img_over *ov)
{
	json_t *hooks = json_object_get(spec, "hooks"), *list, *args;

	if (!hooks)
		json_object_set_new(spec, "hooks", hooks = json_object());
	if (!(list = json_object_get(hooks, hook)))
		json_object_set_new(hooks, hook, list = json_array());
	args = json_pack("[s, s, s, s]", self, "network", verb, "--oci-state");
	for (size_t i = 0; ov && i < ov->npublish; i++)
		opt_arg(args, "--publish", ov->publish[i]);
	if (ov && ov->net_egress)
		opt_arg(args, "--egress", ov->net_egress);
	if (ov && ov->net_ingress)
		opt_arg(args, "--ingress", ov->net_ingress);
	json_array_append_new(list, json_pack("{s:s, s:o}", "path", self, "args", args));
}

/* --network bridge: eth0 on the bridge (docs/network.md), set up in the
 * container's new network namespace before its process runs, released
 * when it is deleted; the host's resolvers, read-only. */
static int bridge(json_t *spec, const struct img_over *ov, int root, struct cl_err *err)
{
	char self[4096], hosts[300];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0 || (size_t)n >= sizeof(self) - 1 || self[0] != '/')
		return cl_error(err, errno,
				"image bundle: --network bridge: the runtime's own path");
	self[n] = '\0';
	net_hook(spec, "createRuntime", self, "attach", ov);
	net_hook(spec, "poststop", self, "detach", NULL);
	/* the bridge's names: its containers' (net/hosts.c) */
	if (net_hosts_path(NET_DEFAULT_NAME, hosts, sizeof(hosts), err) < 0)
		return cl_error_wrap(err, "image bundle: --network bridge");
	if (!ov->readonly || faccessat(root, "etc/hosts", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		img_add_mount(spec, "/etc/hosts", "bind", hosts, "rbind,ro,nosuid,nodev,noexec");
	if (access("/etc/resolv.conf", R_OK) == 0 &&
	    (!ov->readonly || faccessat(root, "etc/resolv.conf", F_OK, AT_SYMLINK_NOFOLLOW) == 0))
		img_add_mount(spec, "/etc/resolv.conf", "bind", "/etc/resolv.conf",
			      "rbind,ro,nosuid,nodev,noexec");
	return 0;
}

static void network(json_t *spec, const struct img_over *ov, int root)
{
	json_t *lin = json_object_get(spec, "linux");

	if (!ov->host_net)
		return;
	img_drop_namespace(lin, "network");
	/* docker --network host: the host's name too */
	img_drop_namespace(lin, "uts");
	json_object_del(spec, "hostname");
	host_files(spec, root, !ov->readonly);
}

/* Docker's device policy: nothing but runc's default devices (which the
 * runtime always adds after the spec's rules) — with CAP_MKNOD in the
 * default capabilities, a node of the host's disk must not be usable. */
static void device_policy(json_t *lin)
{
	json_t *res = json_object_get(lin, "resources");

	if (!res)
		json_object_set_new(lin, "resources", res = json_object());
	if (!json_object_get(res, "devices"))
		json_object_set_new(res, "devices",
				    json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm"));
}

/* The OOM killer's choice when the host runs out of memory: a container
 * before any host process (IMG_OOM_SCORE_ADJ), unless --oom-score-adj. */
static void oom_score_adj(json_t *spec, const struct img_over *ov)
{
	int adj = ov->has_oom_score_adj ? ov->oom_score_adj : IMG_OOM_SCORE_ADJ;

	json_object_set_new(json_object_get(spec, "process"), "oomScoreAdj", json_integer(adj));
}

int img_bundle_runtime(struct json_t *spec, struct json_t *cfg, const struct img_over *ov, int root,
		       struct cl_err *err)
{
	json_t *lin = json_object_get(spec, "linux");

	device_policy(lin);
	oom_score_adj(spec, ov);
	annotations(spec, cfg);
	if (volumes(spec, cfg, ov, err) < 0)
		return -1;
	if (ov->npublish && !ov->bridge_net)
		return cl_error(err, 0,
				"image bundle: --publish %s: ports are published from "
				"--network bridge only",
				ov->publish[0]);
	if ((ov->net_egress || ov->net_ingress) && !ov->bridge_net)
		return cl_error(err, 0,
				"image bundle: --net-egress and --net-ingress limit "
				"--network bridge only");
	network(spec, ov, root);
	if (ov->bridge_net && bridge(spec, ov, root, err) < 0)
		return -1;
	img_userns_spec(spec, ov);
	if (ov->net_peer && img_netjoin(spec, ov, root, err) < 0)
		return -1;
	if (img_host_spec(spec, ov, err) < 0)
		return -1;
	if (ov->hostname && !ov->host_net)
		json_object_set_new(spec, "hostname", json_string(ov->hostname));
	if (ov->cgroups_path)
		json_object_set_new(lin, "cgroupsPath", json_string(ov->cgroups_path));
	json_object_set_new(json_object_get(spec, "root"), "readonly", json_boolean(ov->readonly));
	return 0;
}

/* StopSignal is for whoever stops the container (init), not for the
 * runtime: DIR/stop-signal, its text as the image gives it. */
int img_stop_signal_write(const char *dir, struct json_t *cfg, struct cl_err *err)
{
	const char *sig = json_string_value(json_object_get(cfg, "StopSignal"));
	char path[4096];
	bool bad;
	FILE *f;

	img_fmt(path, sizeof(path), "%s/stop-signal", dir);
	if (!sig || !*sig)
		return unlink(path) < 0 && errno != ENOENT ? cl_error(err, errno, "%s", path) : 0;
	if (!(f = fopen(path, "we")))
		return cl_error(err, errno, "write %s", path);
	bad = fprintf(f, "%s\n", sig) < 0;
	if (fclose(f) != 0 || bad)
		return cl_error(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

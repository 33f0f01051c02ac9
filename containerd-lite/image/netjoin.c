/*
 * image/netjoin.c: `image bundle --network container:ID`, docker's mode and
 * a Kubernetes pod's: the container joins the network namespace of ID, a
 * running container (its addresses, its published ports, its loopback),
 * and with it ID's user namespace when ID has one of its own: a network
 * namespace belongs to the user namespace that made it, and only that
 * one's root may bind a port below 1024 in it or configure it (a pod's
 * containers share one user namespace for the same reason). ID's name
 * files (/etc/hosts, /etc/resolv.conf) come along: its bundle's mounts.
 *
 * The namespaces are named by /proc/PID/ns paths, checked against ID's
 * state (its pid's start time) here, and the pid and start time go into
 * the annotation org.wisp.ns-owner: create holds that process by a pidfd
 * (refused if the pid is another's by then), opens the paths once and
 * joins those fds, and refuses if the process ended while they were
 * opened. So a pid reused in between never puts the container in another
 * process's namespaces, a host one's or another container's (docker's
 * `container:` mode and runc have that window). init restarts a container
 * whose network's owner ended (docs/declarations.md).
 */
#include "../runtime/cl-private.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* linux.namespaces[TYPE].path = PATH (the entry made if missing). */
static void ns_path(json_t *lin, const char *type, const char *path)
{
	json_t *ns = json_object_get(lin, "namespaces"), *v;
	size_t i;

	json_array_foreach(ns, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "type")) ?: "", type) == 0) {
			json_object_set_new(v, "path", json_string(path));
			return;
		}
	}
	json_array_append_new(ns, json_pack("{s:s, s:s}", "type", type, "path", path));
}

/* Is PID in a user namespace other than the runtime's own (the host's)? */
static int own_userns(pid_t pid, bool *own, struct cl_err *err)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &a) < 0 || stat("/proc/self/ns/user", &b) < 0)
		return cl_error(err, errno, "%s", path);
	*own = a.st_ino != b.st_ino || a.st_dev != b.st_dev;
	return 0;
}

/* ID's /etc/hosts and /etc/resolv.conf mounts, as its bundle has them
 * (sources the runtime chose: the network's hosts file, the host's
 * resolv.conf), where this root can take them. */
static void name_files(json_t *spec, const char *bundle, int root, bool writable)
{
	char path[4096];
	json_t *cfg, *m;
	size_t i;

	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path) ||
	    !(cfg = json_load_file(path, 0, NULL)))
		return;
	json_array_foreach(json_object_get(cfg, "mounts"), i, m)
	{
		const char *dest = json_string_value(json_object_get(m, "destination"));
		if (dest &&
		    (strcmp(dest, "/etc/hosts") == 0 || strcmp(dest, "/etc/resolv.conf") == 0) &&
		    (writable || faccessat(root, dest + 1, F_OK, AT_SYMLINK_NOFOLLOW) == 0))
			json_array_append(json_object_get(spec, "mounts"), m);
	}
	json_decref(cfg);
}

/* The process the paths name, for create to hold while it opens them (runtime/ns.c). */
static void owner(json_t *spec, const struct cl_state *st)
{
	json_t *ann = json_object_get(spec, "annotations");

	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(spec, "annotations", ann);
	}
	json_object_set_new(ann, CL_NS_OWNER,
			    json_sprintf("%d %llu", (int)st->pid, st->start_time));
}

static int join(json_t *spec, const struct img_over *ov, const struct cl_state *st, int root,
		struct cl_err *err)
{
	json_t *lin = json_object_get(spec, "linux");
	char path[64];
	bool own = false;

	if (st->status != CL_RUNNING && st->status != CL_CREATED && st->status != CL_PAUSED)
		return cl_error(err, 0, "it is %s, not running", cl_status_name(st->status));
	if (own_userns(st->pid, &own, err) < 0)
		return -1;
	if (own != (ov->userns_base != 0))
		return cl_error(err, 0,
				own ? "it has a user namespace of its own: give its --userns BASE"
				    : "it has the host's ids: give --userns host");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)st->pid);
	ns_path(lin, "network", path);
	if (own) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)st->pid);
		ns_path(lin, "user", path);
	}
	owner(spec, st);
	name_files(spec, st->bundle, root, !ov->readonly);
	return 0;
}

int img_netjoin(json_t *spec, const struct img_over *ov, int root, struct cl_err *err)
{
	struct cl_state st;
	int r;

	if (cl_state_read(ov->state_root, ov->net_peer, &st, err) < 0)
		return cl_error_wrap(err, "image bundle: --network container:%s", ov->net_peer);
	r = join(spec, ov, &st, root, err);
	cl_state_free(&st);
	if (r < 0)
		return cl_error_wrap(err, "image bundle: --network container:%s", ov->net_peer);
	return 0;
}

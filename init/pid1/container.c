/*
 * container.c: what init runs to start a unit of kind container.
 *
 * init does not link the runtime (its JSON, seccomp and image code would
 * double PID 1's size): it runs the containerd-lite binary for each step
 * and keeps nothing of it running. The steps, each a short-lived child:
 *
 *   clean   delete --force NAME      what an earlier run left (status ignored)
 *   bundle  image bundle ... REF B   overlay root, config.json from the image
 *                                    config and the declaration's overrides
 *   create  create --pid-file        the container's process, waiting in its
 *                                    namespaces; its pid is known before it runs
 *   start   start NAME               it runs
 *
 * Once create has exited the container's process is init's child (PID 1
 * inherits every orphan), so it is reaped and supervised like a service.
 */
#include "pid1.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#define CTR_BIN	  "/bin/containerd-lite"
#define CTR_STATE "/run/wisp/containers"     /* the runtime's --root */
#define CTR_DATA  "/var/lib/wisp/containers" /* upper layers and volumes: kept */

static const char *bundles = "/run/wisp/bundles";

void ctr_set_bundles(const char *dir)
{
	bundles = dir;
}

struct argv_buf {
	char **v;
	size_t n, cap;
	bool oom;
};

static void push(struct argv_buf *a, const char *s)
{
	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s)))
		a->oom = true;
	else
		a->v[++a->n] = NULL;
}

static void pushf(struct argv_buf *a, const char *fmt, const char *name)
{
	char buf[256];

	snprintf(buf, sizeof(buf), fmt, name);
	push(a, buf);
}

/* BUNDLES/NAME[/file] */
static void push_bundle(struct argv_buf *a, const char *name, const char *file)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s%s%s", bundles, name, file ? "/" : "", file ? file : "");
	push(a, buf);
}

static void push_each(struct argv_buf *a, const char *opt, char *const *v)
{
	for (size_t i = 0; v && v[i]; i++) {
		push(a, opt);
		push(a, v[i]);
	}
}

/* The declaration as `image bundle` flags (docs/declarations.md, "Containers"). */
static void bundle_args(struct argv_buf *a, const struct decl *d)
{
	char base[16];

	push(a, "image");
	push(a, "bundle");
	push_each(a, "--cmd", d->argv);
	push_each(a, "--entrypoint", d->entrypoint);
	push_each(a, "--env", d->env);
	if (d->working_dir) {
		push(a, "--cwd");
		push(a, d->working_dir);
	}
	if (d->user_spec) {
		push(a, "--user");
		push(a, d->user_spec);
	}
	push(a, "--network");
	if (d->net_peer)
		pushf(a, "container:%s", d->net_peer);
	else
		push(a, decl_net_names[d->net]);
	push_each(a, "--publish", d->ports);
	push_each(a, "--volume", d->volumes);
	if (d->privileged)
		push(a, "--privileged");
	if (d->host_pid) {
		push(a, "--pid");
		push(a, "host");
	}
	/* --net-egress, --net-ingress: the field names' tails, no new strings */
	if (d->res.net_egress[0]) {
		pushf(a, "--net-%s", "egress");
		push(a, d->res.net_egress);
	}
	if (d->res.net_ingress[0]) {
		pushf(a, "--net-%s", "ingress");
		push(a, d->res.net_ingress);
	}
	/* its own ids (userns.c): container root is no host user */
	/* (a base of 0, never given, is refused by the runtime: no silent host ids) */
	snprintf(base, sizeof(base), "%u", d->userns_base);
	push(a, "--userns");
	push(a, d->host_userns ? "host" : base);
	if (d->net != DECL_NET_HOST) {
		push(a, "--hostname");
		push(a, d->name);
	}
	/* below the unit's cgroup, which holds its limits, in the pool (cgroup.c) */
	push(a, "--cgroups-path");
	pushf(a, "/" CGROUP_POOL "/%s/ctr", d->name);
	if (d->read_only) {
		push(a, "--read-only");
	} else {
		push(a, "--upper");
		pushf(a, CTR_DATA "/%s", d->name);
	}
	if (d->pull != DECL_PULL_MISSING) { /* the runtime's default */
		push(a, "--pull");
		push(a, d->pull == DECL_PULL_ALWAYS ? "always" : "never");
	}
	push(a, d->image);
	push_bundle(a, d->name, NULL);
}

/* containerd-lite with our state root: every argv starts so. */
static void runtime(struct argv_buf *a)
{
	push(a, CTR_BIN);
	push(a, "--root");
	push(a, CTR_STATE);
}

static char **finish(struct argv_buf *a)
{
	if (!a->oom)
		return a->v;
	strv_free(a->v);
	return NULL;
}

char **ctr_argv(const struct decl *d, enum ctr_step step)
{
	struct argv_buf a = {0};

	runtime(&a);
	switch (step) {
	case CTR_CLEAN:
		push(&a, "delete");
		push(&a, "--force");
		break;
	case CTR_BUNDLE:
		bundle_args(&a, d);
		break;
	case CTR_CREATE:
		push(&a, "create");
		push(&a, "--bundle");
		push_bundle(&a, d->name, NULL);
		push(&a, "--pid-file");
		push_bundle(&a, d->name, "pid");
		break;
	case CTR_START:
		push(&a, "start");
		break;
	}
	if (step != CTR_BUNDLE)
		push(&a, d->name);
	return finish(&a);
}

char **ctr_exec_argv(const char *name, char *const *cmd)
{
	struct argv_buf a = {0};

	runtime(&a);
	push(&a, "exec");
	push(&a, name);
	for (size_t i = 0; cmd[i]; i++)
		push(&a, cmd[i]);
	return finish(&a);
}

/* A small file the bundle step wrote: "pid", "stop-signal". */
static int bundle_file(const char *name, const char *file, char *buf, size_t size, struct err *e)
{
	char path[512];

	if (fmt_path(path, sizeof(path), "%s/%s/%s", bundles, name, file) < 0)
		return err_set(e, ENAMETOOLONG, "%s", file);
	return read_text(path, buf, size, e);
}

pid_t ctr_pid(const char *name, struct err *e)
{
	char buf[32];
	const char *end;
	uint64_t pid;

	if (bundle_file(name, "pid", buf, sizeof(buf), e) < 0)
		return -1;
	end = dec_scan(buf, &pid);
	if (!end || pid <= 1 || pid >= INT32_MAX || (*end && *end != '\n'))
		return err_set(e, 0, "pid file of %s: \"%s\" is not a pid", name, buf);
	return (pid_t)pid;
}

int ctr_stop_signal(const char *name)
{
	char buf[32];
	struct err e;

	if (bundle_file(name, "stop-signal", buf, sizeof(buf), &e) < 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	return parse_signal(buf) > 0 ? parse_signal(buf) : 0;
}

void ctr_release(const char *name)
{
	char path[512];

	/* Detached: a busy root is let go without init ever waiting on it. */
	if (fmt_path(path, sizeof(path), "%s/%s/rootfs", bundles, name) == 0)
		umount2(path, MNT_DETACH);
}

/* cl-private.h: what the library's files share and do not export. */
#ifndef CL_PRIVATE_H
#define CL_PRIVATE_H

#include "containerd-lite.h"
#include <sched.h>
#include <stdio.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* util.c */
char *cl_strdup(const char *s);
char *cl_path_join(const char *a, const char *b);
char *cl_secure_join(const char *root, const char *path);
int cl_write_file(const char *path, const char *data, size_t len, struct cl_err *e);
int cl_read_file(const char *path, char **out, size_t *len, struct cl_err *e);
int cl_mkdir_p(const char *path, mode_t mode, struct cl_err *e);
void cl_strv_free(struct cl_strv *v);
/* Reads /proc/PID/stat field 22 (start time); 0 if the process is gone. */
unsigned long long cl_proc_start_time(pid_t pid);

/* ns.c */
int cl_ns_join(const struct cl_spec *s, struct cl_err *e);
/* ns.c: the user namespace to join by path, or NULL. userjoin.c: the
 * container process cloned with flags inside it (through a helper). */
const char *cl_userns_path(const struct cl_spec *s);
pid_t cl_clone_in_userns(const char *path, int flags, void (*child)(void *), void *arg,
			 struct cl_err *e);
int cl_ns_check_paths(const struct cl_spec *s, struct cl_err *e);
int cl_ns_pid_enter(const struct cl_spec *s, int *restore, struct cl_err *e);
void cl_ns_pid_restore(int restore);
int cl_ns_clone_flags(const struct cl_spec *s);
int cl_ns_unshare_late(const struct cl_spec *s, struct cl_err *e);

/* userns.c: run by the parent once the child exists. */
int cl_userns_write_maps(pid_t pid, const struct cl_spec *s, struct cl_err *e);
int cl_userns_write(pid_t pid, const struct cl_idmap *uids, size_t nuids,
		    const struct cl_idmap *gids, size_t ngids, struct cl_err *e);

/* idmap.c: idmapped bind mounts. The parent makes each as a detached
 * tree (its privileges over the host's filesystems); the container
 * process attaches it in its mount namespace. */
int cl_idmap_prepare(struct cl_spec *s, struct cl_err *e);
void cl_idmap_release(struct cl_spec *s);
int cl_idmap_attach(const struct cl_mount *m, const char *dest, struct cl_err *e);
/* The pieces, for `image bundle`'s idmapped layers too: an fd of a user
 * namespace with these mappings (what names the mount in errors); a
 * detached clone of source (recursive: rec) idmapped with it; a detached
 * tree attached on dest. */
int cl_idmap_userns(const struct cl_idmap *uids, size_t nuids, const struct cl_idmap *gids,
		    size_t ngids, const char *what, struct cl_err *e);
int cl_idmap_tree(const char *source, bool rec, int ns, struct cl_err *e);
int cl_idmap_move(int tree, const char *dest, struct cl_err *e);

/* mounts.c: run by the child, in its new mount namespace, in this order
 * (the createContainer hooks run before the pivot). */
int cl_mounts_prepare(const struct cl_spec *s, struct cl_err *e);
int cl_mounts_pivot(const struct cl_spec *s, struct cl_err *e);
int cl_mounts_finish(const struct cl_spec *s, struct cl_err *e);

/* caps.c */
int cl_caps_apply(const struct cl_spec *s, struct cl_err *e);
int cl_caps_drop_bounding(const struct cl_spec *s, struct cl_err *e);

/* rlimits.c */
int cl_rlimits_apply(const struct cl_spec *s, struct cl_err *e);

/* seccomp.c: built in the parent (errors before anything exists),
 * loaded in the child just before execve. */
void *cl_seccomp_build(const struct cl_spec *s, const char *cache_dir, struct cl_err *e);
int cl_seccomp_load(void *ctx, struct cl_err *e);
void cl_seccomp_free(void *ctx);

/* seccomp-cache.c: a hit returns the program; a miss returns NULL with
 * the path and key for cl_seccomp_cache_put (the caller frees both). */
void *cl_seccomp_cache_get(const struct cl_seccomp *sc, const char *dir, size_t *len, char **path,
			   void **key, size_t *key_len);
void cl_seccomp_cache_put(const char *dir, const char *path, const void *key, size_t key_len,
			  const void *prog, size_t len);
int cl_seccomp_action(const char *name, uint32_t errno_ret, uint32_t *out);
int cl_seccomp_op(const char *name);

/* cgroup.c */
char *cl_cgroup_path(const struct cl_spec *s, const char *id);
int cl_cgroup_create(const char *path, const struct cl_spec *s, struct cl_err *e);
int cl_cgroup_enter(const char *path, pid_t pid, struct cl_err *e);
int cl_cgroup_destroy(const char *path, struct cl_err *e);
int cl_cgroup_kill(const char *path, int sig);
int cl_cgroup_freeze(const char *path, bool freeze, struct cl_err *e);
bool cl_cgroup_frozen(const char *path);
int cl_cgroup_pids(const char *path, pid_t **pids, size_t *n, struct cl_err *e);

/* devices.c */
int cl_devices_attach(const char *cgroup, const struct cl_spec *s, struct cl_err *e);

/* hooks.c: STATE_JSON goes to the hook's stdin. cl_hooks_state is the
 * runtime-spec state for them (malloc'd). */
char *cl_hooks_state(const char *oci_version, const char *id, const char *status, pid_t pid,
		     const char *bundle, const char *annotations_json);
char *cl_hooks_restate(const char *state_json, const char *status);
int cl_hooks_run(const struct cl_spec *s, enum cl_hook_kind k, const char *state_json,
		 struct cl_err *e);

/* create.c: rlimits, cwd, program lookup, privileges (create and exec). */
int cl_process_setup(const struct cl_spec *s, void *sc, char **exe, struct cl_err *e);
/* ns.c: joins the namespaces of the container process PID (exec). */
int cl_ns_join_pid(const struct cl_spec *s, pid_t pid, struct cl_err *e);

/* console.c: the parent connects, the container process sets up. */
int cl_console_connect(const char *path, struct cl_err *e);
int cl_console_setup(int sock, const struct cl_spec *s, struct cl_err *e);

/* state.c */
char *cl_state_dir(const char *root, const char *id);
int cl_state_write(const char *dir, const struct cl_state *st, struct cl_err *e);
int cl_valid_id(const char *id, struct cl_err *e);
char *cl_now_rfc3339(void);

#endif

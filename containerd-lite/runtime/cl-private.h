/* runtime/cl-private.h: what the library's files share and do not export. */
#ifndef CL_PRIVATE_H
#define CL_PRIVATE_H

#include "../containerd-lite.h"
#include "../../init/lib/fdio.h" /* write_all(), read_full(): the loops init writes with */
#include <sched.h>
#include <stdio.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* util.c */
char *cl_strdup(const char *s);
char *cl_path_join(const char *a, const char *b);
/* One write(2) of data to an existing file (kernel files take a value in one call). */
int cl_write_file(const char *path, const char *data, size_t len, struct cl_err *e);
/* write(2) until done or a real error; retries EINTR. Returns 0 or -1 with errno set. */
/* All of in, from its offset to its end, into out (sendfile): 0, or -1 with errno. */
int cl_copy_fd(int out, int in);
int cl_read_file(const char *path, char **out, size_t *len, struct cl_err *e);
int cl_mkdir_p(const char *path, mode_t mode, struct cl_err *e);
void cl_strv_free(struct cl_strv *v);
/* Reads /proc/PID/stat field 22 (start time); 0 if the process is gone. */
unsigned long long cl_proc_start_time(pid_t pid);

/* ns.c */
int cl_ns_join(const struct cl_spec *s, struct cl_err *e);
/* ns.c: the user namespace to join by path, or NULL. userjoin.c: the
 * container process cloned with flags inside it (through a helper). */
const struct cl_ns *cl_userns_joined(const struct cl_spec *s);
pid_t cl_clone_in_userns(const struct cl_ns *n, int flags, void (*child)(void *), void *arg,
			 struct cl_err *e);
int cl_ns_pin(struct cl_spec *s, struct cl_err *e);
int cl_ns_pid_enter(const struct cl_spec *s, int *restore, struct cl_err *e);
void cl_ns_pid_restore(int restore);
int cl_ns_clone_flags(const struct cl_spec *s);
int cl_ns_unshare_late(const struct cl_spec *s, struct cl_err *e);
bool cl_ns_mnt_inherited(const struct cl_spec *s);

/* userns.c: run by the parent once the child exists. */
int cl_userns_write_maps(pid_t pid, const struct cl_spec *s, struct cl_err *e);
int cl_userns_write(pid_t pid, const struct cl_idmap *uids, size_t nuids,
		    const struct cl_idmap *gids, size_t ngids, struct cl_err *e);

/* rootpath.c: paths beneath the container's root as O_PATH fds
 * (openat2 RESOLVE_IN_ROOT), missing components made when asked.
 * cl_root_open returns the fd (and the resolved relative path in *REL
 * if REL), CL_ROOT_MISSING for a missing path with CL_ROOT_OPTIONAL,
 * CL_ROOT_KERNEL with CL_ROOT_STAYOUT (E filled), or -1 with E filled. */
#define CL_ROOT_MKDIR	 1 /* make missing directories */
#define CL_ROOT_MKFILE	 2 /* ... and the last component as an empty file */
#define CL_ROOT_NOFOLLOW 4 /* a last component that is a symlink is returned as is */
#define CL_ROOT_OPTIONAL 8
/* a walk entering /dev, /proc or /sys where PATH's text does not is
 * stopped there: CL_ROOT_KERNEL, *REL where it entered (kerneltree.c) */
#define CL_ROOT_STAYOUT 16
#define CL_ROOT_MISSING (-2)
#define CL_ROOT_KERNEL	(-3)
int cl_root_open(int rootfd, const char *path, int how, char **rel, struct cl_err *e);
int cl_root_openat(int rootfd, const char *rel, int flags, bool nosymlinks);
/* the O_PATH fd of a bind's SOURCE, beneath ROOT when it is inside it */
int cl_bind_source(const char *root, const char *source, struct cl_err *e);

/* kerneltree.c: the kernel tree ("dev", "proc", "sys") PATH's first
 * component names, or NULL; and the error of a PATH whose walk entered
 * one of them at REL (CL_ROOT_KERNEL), naming WHAT ("mount") and PATH. */
const char *cl_kernel_tree(const char *path);
int cl_kernel_refused(const char *what, const char *path, const char *rel, struct cl_err *e);

/* mountfd.c: detached mounts attached onto fds (see there). */
#define CL_MOUNT_ATTR_RDONLY	  0x01
#define CL_MOUNT_ATTR_NOSUID	  0x02
#define CL_MOUNT_ATTR_NODEV	  0x04
#define CL_MOUNT_ATTR_NOEXEC	  0x08
#define CL_MOUNT_ATTR__ATIME	  0x70
#define CL_MOUNT_ATTR_NOATIME	  0x10
#define CL_MOUNT_ATTR_STRICTATIME 0x20
#define CL_MOUNT_ATTR_NODIRATIME  0x80
#define CL_MOUNT_ATTR_IDMAP	  0x100000
uint64_t cl_mount_attrs(unsigned long ms_flags);
int cl_mount_setattr(int fd, bool rec, uint64_t set, uint64_t clr, uint64_t propagation,
		     int userns);
/* a detached copy of the mount (tree if REC) at the O_PATH FD */
int cl_mount_clone(int fd, bool rec);
/* a new filesystem as a detached mount (DEST names it in errors) */
int cl_mount_fs(const char *type, const char *source, unsigned long flags, const char *data,
		const char *dest, struct cl_err *e);
/* MNT onto TARGET; then, if ROOTFD >= 0, REL looked up again beneath it
 * must reach MNT */
int cl_mount_attach(int mnt, int target, int rootfd, const char *rel, const char *dest,
		    struct cl_err *e);
/* the node at FD must be TYPE (S_IFCHR...) and RDEV; WHAT names it */
int cl_node_check(int fd, mode_t type, dev_t rdev, const char *what, struct cl_err *e);

/* idmap.c: idmapped bind mounts. The parent makes each as a detached
 * tree (its privileges over the host's filesystems); the container
 * process attaches it in its mount namespace. */
int cl_idmap_prepare(struct cl_spec *s, struct cl_err *e);
void cl_idmap_release(struct cl_spec *s);
/* The pieces, for `image bundle`'s idmapped layers too: an fd of a user
 * namespace with these mappings (WHAT names the mount in errors); a
 * detached clone of the host directory SOURCE (recursive: rec) idmapped
 * with it; a detached tree attached on the host directory DEST. */
int cl_idmap_userns(const struct cl_idmap *uids, size_t nuids, const struct cl_idmap *gids,
		    size_t ngids, const char *what, struct cl_err *e);
int cl_idmap_tree(const char *source, bool rec, int ns, struct cl_err *e);
int cl_idmap_move(int tree, const char *dest, struct cl_err *e);

/* devnodes.c: nodes made beneath the root's fd (by mounts.c) */
int cl_devnodes_default(int rootfd, struct cl_err *e);
int cl_devnodes_spec(const struct cl_device *d, int rootfd, struct cl_err *e);

/* masks.c: cl_masks_open before pivot_root, cl_masks_apply after */
int cl_masks_open(const struct cl_spec *s, struct cl_err *e);
int cl_masks_apply(const struct cl_spec *s, int rootfd, struct cl_err *e);

/* mounts.c: run by the child, in its new mount namespace, in this order
 * (the createContainer hooks run before the pivot). */
int cl_mounts_prepare(const struct cl_spec *s, struct cl_err *e);
int cl_mounts_pivot(const struct cl_spec *s, struct cl_err *e);
int cl_mounts_bind_root(const char *root, struct cl_err *e);
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

/* create.c: process.oomScoreAdj of pid (one line naming it on failure) */
int cl_oom_score_adj_write(pid_t pid, int score, struct cl_err *e);

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
int cl_hooks_run(const struct cl_spec *s, enum cl_hook_kind k, const char *state_json,
		 struct cl_err *e);

/* create.c: rlimits, cwd, program lookup, privileges (create and exec). */
int cl_process_setup(const struct cl_spec *s, void *sc, char **exe, struct cl_err *e);

/* fds.c: closes every descriptor above 2 but KEEP's (at most
 * CL_KEEP_FDS_MAX): the first step of every container process. */
#define CL_KEEP_FDS_MAX 64
int cl_close_fds_except(const int *keep, size_t n, struct cl_err *e);

/* inroot.c: beneath the process root, without magic links (open: -1
 * and errno). The cwd is entered as the runtime's user, as before. */
int cl_open_in_root(const char *path, int flags);
int cl_enter_cwd(const char *cwd, struct cl_err *e);
char *cl_find_program(const struct cl_spec *s, struct cl_err *e);

/* exeseal.c: for CMD create, run and exec, re-executes the runtime from
 * a sealed memfd copy (returns only on error) unless it runs from one or
 * from a read-only mount; 0 for the other commands. */
int cl_exe_seal(const char *cmd, char **argv, struct cl_err *e);
/* ns.c: joins the namespaces of the container process (exec) through
 * PIDFD, cl_pidfd_open's. */
int cl_ns_join_pid(const struct cl_spec *s, const struct cl_state *st, int pidfd, struct cl_err *e);

/* pidfd.c: the container's process (ST's pid, checked by its start time
 * after the open) as a pidfd, or -1 with "container not running"; a
 * signal to it; cl_pidfd_signal returns 0 or -1 with errno (ESRCH: the
 * process is reaped, its pid free for another). */
int cl_pidfd_open(const struct cl_state *st, struct cl_err *e);
int cl_pidfd_signal(int pidfd, int sig);
/* A pidfd of whatever process has PID now, or -1 with errno; of the process
 * that has PID and started at START (/proc/PID/stat's field 22), or -1 with
 * errno (ESRCH: none has PID, or another process does). */
int cl_pidfd_of(pid_t pid);
int cl_pidfd_started(pid_t pid, unsigned long long start);
int cl_pidfd_kill(const struct cl_state *st, int sig, struct cl_err *e);
int cl_not_running(const char *id, struct cl_err *e);

/* console.c: the parent connects, the container process sets up. */
int cl_console_connect(const char *path, struct cl_err *e);
int cl_console_setup(int sock, const struct cl_spec *s, struct cl_err *e);

/* state.c */
char *cl_state_dir(const char *root, const char *id);
int cl_state_write(const char *dir, const struct cl_state *st, struct cl_err *e);
int cl_valid_id(const char *id, struct cl_err *e);
char *cl_now_rfc3339(void);

#endif

/* containerd-lite.h: the one public header of the OCI runtime library.
 *
 * Conventions (crun's): every fallible function returns a negative value
 * and fills a struct cl_err with errno and a message naming the object.
 * The library starts a container and returns its pid; it does not
 * supervise and leaves no process of its own behind. */
#ifndef CONTAINERD_LITE_H
#define CONTAINERD_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CL_DEFAULT_ROOT	    "/run/containerd-lite"
#define CL_WISP_ANNOTATIONS "org.wisp."		/* the runtime's own: no image label sets them */
#define CL_NS_OWNER	    "org.wisp.ns-owner" /* an annotation: struct cl_spec's ns_owner */

/* The shape of init's struct err and image-builder's (err.c); the room for
 * messages that quote a path or a tool's output. */
struct cl_err {
	int num;	/* errno of the failure; 0 when there is none */
	char msg[1024]; /* complete: "mount proc on /proc: Operation not permitted" */
};

/* --- the decoded config.json ------------------------------------------- */

struct cl_strv {
	char **v;
	size_t n;
};

struct cl_idmap {
	uint32_t container, host, size;
};

struct cl_mount {
	char *dest, *type, *source;
	unsigned long flags;	 /* MS_* from options */
	unsigned long propagate; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE(|MS_REC) */
	bool bind;
	bool rro;   /* "rro": a bind's submounts read-only too, not its top alone */
	char *data; /* the options that are not flags, comma-joined */
	/* an idmapped bind mount: its uid/gid mappings, and the detached
	 * tree the parent makes of it (tree_fd valid when idmapped) */
	struct cl_idmap *uid_maps, *gid_maps;
	size_t nuid_maps, ngid_maps;
	bool idmapped;
	int tree_fd;
};

struct cl_rlimit {
	int type;
	uint64_t soft, hard;
};

struct cl_ns {
	int type; /* CLONE_NEW* */
	char *path;
	int fd; /* path opened by create's check (cl_ns_pin), joined by it; -1 before */
};

struct cl_hook {
	char *path;
	struct cl_strv args, env;
	int timeout; /* seconds, 0 for none */
};

enum cl_hook_kind {
	CL_HOOK_PRESTART,
	CL_HOOK_CREATE_RUNTIME,
	CL_HOOK_CREATE_CONTAINER,
	CL_HOOK_START_CONTAINER,
	CL_HOOK_POSTSTART,
	CL_HOOK_POSTSTOP,
	CL_HOOK_KINDS
};

struct cl_sc_arg {
	unsigned index;
	uint64_t value, value2;
	int op; /* enum scmp_compare */
};

struct cl_sc_rule {
	struct cl_strv names;
	uint32_t action; /* SCMP_ACT_* (errno folded in) */
	struct cl_sc_arg *args;
	size_t nargs;
};

struct cl_seccomp {
	uint32_t default_action;
	struct cl_strv arches;
	struct cl_sc_rule *rules;
	size_t nrules;
	unsigned flags; /* CL_SC_FLAG_* */
};

#define CL_SC_FLAG_LOG	      1u /* SECCOMP_FILTER_FLAG_LOG */
#define CL_SC_FLAG_SPEC_ALLOW 2u /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */

struct cl_device {
	char *path;
	char type; /* 'c', 'b' or 'p' ('u' is taken as 'c') */
	uint32_t major, minor, mode, uid, gid;
};

/* linux.resources.devices: later rules override earlier ones (OCI). */
struct cl_dev_rule {
	bool allow;
	char type;	      /* 'a', 'c' or 'b' */
	int64_t major, minor; /* -1: any */
	unsigned access;      /* CL_DEV_* */
};

#define CL_DEV_MKNOD 1u /* the kernel's BPF_DEVCG_ACC_* values */
#define CL_DEV_READ  2u
#define CL_DEV_WRITE 4u

struct cl_resources {
	int64_t mem_limit, mem_reservation, mem_swap; /* -2: unset, -1: max */
	uint64_t cpu_shares, cpu_period;
	int64_t cpu_quota; /* -2 unset, -1 max */
	char *cpus, *mems;
	int64_t pids_limit; /* -2 unset, <=0 max */
	uint16_t blkio_weight;
	struct cl_strv unified; /* key=value pairs flattened: k0, v0, k1, v1... */
	struct cl_dev_rule *dev_rules;
	size_t ndev_rules;
	bool has_dev_rules; /* linux.resources.devices given (even empty) */
};

/* linux.timeOffsets, for a new time namespace */
enum { CL_TIME_MONOTONIC, CL_TIME_BOOTTIME, CL_TIME_CLOCKS };

struct cl_time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct cl_spec {
	char *oci_version;
	/* process */
	struct cl_strv args, env;
	char *cwd;
	uint32_t uid, gid, umask;
	bool has_umask;
	uint32_t *add_gids;
	size_t nadd_gids;
	bool terminal, no_new_privs;
	uint16_t console_height, console_width; /* process.consoleSize; 0: unset */
	uint64_t caps[5]; /* bounding, effective, inheritable, permitted, ambient */
	struct cl_rlimit *rlimits;
	size_t nrlimits;
	bool has_oom_score_adj;
	int oom_score_adj;
	/* root, names, mounts */
	char *root_path; /* absolute, resolved against the bundle */
	bool root_readonly;
	char *hostname, *domainname;
	struct cl_mount *mounts;
	size_t nmounts;
	/* linux */
	struct cl_ns *ns;
	size_t nns;
	int ns_flags; /* CLONE_NEW* of the namespaces to create (no path) */
	struct cl_time_offset time_offsets[CL_TIME_CLOCKS];
	struct cl_idmap *uid_maps, *gid_maps;
	size_t nuid_maps, ngid_maps;
	char *cgroups_path;
	struct cl_resources res;
	bool has_resources;
	struct cl_strv sysctl; /* k0, v0, k1, v1... */
	struct cl_seccomp *seccomp;
	struct cl_device *devices;
	size_t ndevices;
	struct cl_strv masked, readonly;
	unsigned long rootfs_propagation; /* 0: MS_REC|MS_PRIVATE default */
	bool has_personality;
	unsigned long personality; /* linux.personality.domain: PER_LINUX or PER_LINUX32 */
	struct cl_hook *hooks[CL_HOOK_KINDS];
	size_t nhooks[CL_HOOK_KINDS];
	char *annotations_json; /* compact JSON object, for the state */
	/* annotation org.wisp.ns-owner "PID START": the process the namespace
	 * paths name (image bundle --network container:ID), start time as
	 * /proc/PID/stat's; 0: none */
	pid_t ns_owner;
	unsigned long long ns_owner_start;
};

/* Decodes config.json text; BUNDLE resolves a relative root.path. */
int cl_spec_parse(const char *json, size_t len, const char *bundle, struct cl_spec **out,
		  struct cl_err *e);
int cl_spec_load(const char *bundle, struct cl_spec **out, struct cl_err *e);
void cl_spec_free(struct cl_spec *s);

/* The config.json `spec` writes (malloc'd text). ROOTLESS: not yet. */
char *cl_spec_default(void);

/* --- lifecycle ------------------------------------------------------------ */

struct cl_opts {
	const char *root; /* state root, default CL_DEFAULT_ROOT */
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	bool detach;
};

/* The container process waits on ROOT/ID/exec.fifo until cl_start(). */
int cl_create(const struct cl_opts *o, pid_t *pid, struct cl_err *e);
int cl_start(const char *root, const char *id, struct cl_err *e);
int cl_kill(const char *root, const char *id, int sig, bool all, struct cl_err *e);
int cl_delete(const char *root, const char *id, bool force, struct cl_err *e);
struct cl_exec_opts {
	const char *root, *id;
	const char *console_socket; /* for S's process.terminal */
	bool detach;
};

/* Runs S's process in the running container: *PID is its pid, *STATUS
 * its exit status (128+N for signal N; 0 with detach). S is the
 * container's spec with the process part replaced. */
int cl_exec(const struct cl_exec_opts *o, struct cl_spec *s, pid_t *pid, int *status,
	    struct cl_err *e);
/* cgroup v2 freezer: pause/resume every process of the container. */
int cl_pause(const char *root, const char *id, bool pause, struct cl_err *e);
/* The pids of the container's cgroup (malloc'd, *n of them). */
int cl_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cl_err *e);

enum cl_status { CL_CREATING, CL_CREATED, CL_RUNNING, CL_STOPPED, CL_PAUSED };
const char *cl_status_name(enum cl_status s);

struct cl_state {
	char *oci_version, *id, *bundle, *rootfs, *created, *owner, *cgroup;
	char *annotations_json;
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22 */
	bool root_bound; /* in the runtime's mount namespace: delete detaches the rootfs */
	enum cl_status status;
};

int cl_state_read(const char *root, const char *id, struct cl_state *st, struct cl_err *e);
/* runc's `state` JSON (malloc'd) */
char *cl_state_json(const struct cl_state *st);
void cl_state_free(struct cl_state *st);
/* Container ids under ROOT (malloc'd vector, NULL-terminated). */
int cl_list(const char *root, char ***ids, struct cl_err *e);

/* --- the host's firewall (net/fw.c) ---------------------------------------- */

/* provision's most: the image spec's 32, user-data's 32 and the SSH port */
#define CL_FW_MAX_PORTS 65
/* Makes the table inet wisp-firewall whole in one nf_tables batch: the host
 * closed but for ALLOW ("PORT[/tcp|udp]", N of them), established flows, lo,
 * ICMP essentials and DHCP clients; forwarded only what leaves a bridge, its
 * answers and published ports (docs/network.md, "Host firewall"). OFF: the
 * table removed. `network firewall` and provision (linked in: no exec of
 * this program on the boot's path) call it. */
int cl_host_firewall(const char *const *allow, unsigned n, bool off, struct cl_err *e);
/* ALLOW's rules appended to that table's input chain, in one batch: what
 * cl_host_firewall() puts last, so the table is then the same as one made with
 * every port. -1 (E says why) when there is no table; nothing changed then. */
int cl_host_firewall_add(const char *const *allow, unsigned n, struct cl_err *e);

/* --- errors ----------------------------------------------------------------- */

/* Fills E with NUM and the text (+ ": strerror(NUM)" when NUM != 0); returns -1. */
int cl_error(struct cl_err *e, int num, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes E's message with "CONTEXT: " and returns -1. */
int cl_error_wrap(struct cl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- text from outside to a terminal (runtime/tty.c) ----------------------- */

/* S (a name an archive chose) with its controls as \xHH text, a tab and a
 * line feed too: one field of one line, whatever it holds. */
void cl_print_name(FILE *f, const char *s);
/* TEXT, a JSON document jansson wrote; TTY: to a terminal, where its C1
 * controls and DEL are written as \u0080-\u009f and \u007f. */
void cl_json_write(FILE *f, const char *text, bool tty);

/* Name tables shared by the decoder and the CLI (-1 when unknown). */
int cl_cap_from_name(const char *name);
const char *cl_cap_name(int cap);
int cl_rlimit_from_name(const char *name);
int cl_ns_from_name(const char *name);
int cl_signal_from_name(const char *name);

#endif

/*
 * init.h: the one header of Wisp's PID 1.
 *
 * The component is small enough that a single list of its interfaces,
 * grouped by the file that implements them, reads better than a header
 * per file. Everything here is internal to init/ and its unit tests.
 *
 * Conventions (see /work/shared/DESIGN.md):
 *  - a fallible function returns a negative value and fills a struct err
 *    whose message names the object ("mount proc on /proc: ...");
 *    callers add context with err_ctx() or log it with log_err();
 *  - anything that reads the system (sysfs, /proc, /etc) takes its root
 *    or path as a parameter, so the unit tests can point it at a fake tree.
 */
#ifndef WISP_INIT_H
#define WISP_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#ifndef WISP_VERSION
#define WISP_VERSION "unknown"
#endif

#define PRINTF_LIKE(fmt, args)		__attribute__((format(printf, fmt, args)))
#define ARRAY_LEN(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- err.c: the error object ---------------------------------------- */

struct err {
	int num;       /* errno of the failure; 0 when there is none */
	char msg[512]; /* complete text: "what on which object: strerror" */
};

/* Fill e with num and the formatted text (+ ": strerror(num)" when num != 0). Returns -1. */
int err_set(struct err *e, int num, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prefix e's message with context: "context: old message". Returns -1. */
int err_ctx(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* ---- util.c: small helpers ------------------------------------------ */

/* Milliseconds since boot (CLOCK_BOOTTIME: the clock of the banner and of every timer). */
uint64_t now_ms(void);
/* Read a small text file into buf (NUL-terminated, truncated to size-1). Returns its length. */
int read_text(const char *path, char *buf, size_t size, struct err *e);
/* read_text for bytes from outside: a regular file (no symlink, FIFO or device) of at
 * most size-1 bytes, or an error (EFBIG: over the limit; nothing read). */
int read_file(const char *path, char *buf, size_t size, struct err *e);
/* snprintf that refuses to truncate (a cut path names another file). Returns 0 or -1. */
int fmt_path(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* write(2) until done or a real error; retries EINTR. Returns 0 or -1 with errno set. */
int write_all(int fd, const void *buf, size_t len);
/* Free a NULL-terminated vector of malloc'd strings, and the vector. */
void strv_free(char **v);
size_t strv_len(char *const *v);
/* A unit name as declarations allow it: [a-z0-9][a-z0-9_.-]*, at most DECL_NAME_MAX
 * (here, not in decl.c, because wispctl checks names too and does not link the parser). */
bool unit_name_valid(const char *s);
/* "Name of signal" without the SIG prefix ("TERM", "KILL"), or its number. */
const char *signal_name(int sig, char buf[static 16]);

/* ---- log.c: init's own messages ------------------------------------- */

/*
 * Every line goes to /dev/kmsg with its priority ("<29>init: ...": daemon, notice) and
 * exactly once to the console: if the kernel echoes it there itself
 * (priority below console_loglevel) init does not write it a second time.
 */
void log_line(int prio, const char *fmt, ...) PRINTF_LIKE(2, 3); /* as given */
void log_msg(int prio, const char *fmt, ...) PRINTF_LIKE(2, 3);	 /* "init: " + text */
void log_err(const struct err *e);				 /* "init: " + e->msg */

/* ---- console.c: PID 1's standard fds -------------------------------- */

/* Put /dev/console (or at worst /dev/null) on fds 0, 1 and 2. */
int console_setup(struct err *e);

/* ---- sysfs.c: what the kernel tells about devices -------------------- */

/*
 * Find the partition called partname on the same disk as the block
 * device dev (usually stat("/").st_dev), looking under sys (normally
 * "/sys"). Writes its kernel name ("vda4") to name.
 */
int sysfs_find_partition(const char *sys, dev_t dev, const char *partname, char *name, size_t size,
			 struct err *e);
/* The kernel's active console device ("/dev/ttyS0"): last entry of class/tty/console/active. */
int sysfs_active_console(const char *sys, char *path, size_t size, struct err *e);

/* ---- cmdline.c: the kernel command line ----------------------------- */

/* Value of the last "key=value" of a /proc/cmdline text, before "--". Returns its length or -1. */
int cmdline_get(const char *line, const char *key, char *val, size_t size);
/* Read key as an unsigned number <= max. Returns 1 found, 0 absent, -1 invalid (e filled). */
int cmdline_uint(const char *line, const char *key, unsigned max, unsigned *out, struct err *e);

/* ---- hostname.c ------------------------------------------------------ */

/* First line of an /etc/hostname text, if it is a valid host name. Returns 0 or -1. */
int hostname_parse(const char *text, char *name, size_t size);
/* Set the host name from path, "wisp" if it has none. */
void hostname_setup(const char *path);

/* ---- mounts.c: the API filesystems and /var ------------------------- */

/* /dev and /proc: needed before the console and the log. Errors are kept for mounts_setup(). */
void mounts_early(void);
/* Log what mounts_early() hit, then mount the rest (/sys, /dev/pts, /run, cgroup2, ...). */
void mounts_setup(void);
/* sysctl.c: the hardening baseline (docs/hardening.md) into dir (/proc/sys); a knob
 * not set is a warning. Returns how many were not. mounts_setup() calls it. */
int sysctl_setup(const char *dir);
/* Unmount every mount at or below dir, deepest first; remount read-only what stays busy. */
void mounts_release(const char *dir);

/* ---- state.c: the STATE partition ----------------------------------- */

/* Find STATE on the root disk, fsck it, mount it on /var. Logs, never fails the boot. */
void state_setup(void);

/* ---- yamltree.c: YAML file -> small node tree, kept on syntax errors - */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP, Y_ALIAS };

struct ynode {
	enum ytype type;
	bool done;	    /* its end was parsed; a syntax error leaves open nodes !done */
	int line, col;	    /* 1-based position of its start */
	char *str;	    /* Y_SCALAR: the value; Y_ALIAS: the anchor name */
	struct ynode **kid; /* Y_SEQ: items; Y_MAP: key, value, key, value... */
	size_t n, cap;
};

struct yfile {
	struct ynode **doc; /* one root per document (NULL for an empty one) */
	size_t ndoc, cap;
	bool failed;	   /* a syntax error stopped the parse: the tree is cut there */
	int line, col;	   /* where */
	char problem[200]; /* what, in libyaml's words */
};

#define YAML_MAX_BYTES                                                                             \
	(1 << 20)	  /* a declaration is small; refuse to load a huge file into PID 1         \
			   */
#define YAML_MAX_DEPTH 32 /* and bound the nesting, so nothing here recurses deep */

/* Returns 0 (check y->failed for syntax errors) or -1 if the file cannot be read. */
int ytree_load(const char *path, struct yfile *y, struct err *e);
void ytree_free(struct yfile *y);
/* The value of key in mapping m, or NULL (also when m is NULL or not a mapping). */
const struct ynode *ytree_get(const struct ynode *m, const char *key);

/* ---- decl.c: declarations (docs/declarations.md) -------------------- */

enum restart { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };
enum unit_kind { KIND_SERVICE, KIND_ONESHOT, KIND_CONTAINER };
/* DEP_DEFAULT (the list form): completed for a oneshot, started for the rest. */
enum dep_cond { DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED, DEP_DEFAULT };

struct dep {
	char *name;
	enum dep_cond cond;
	int line, col; /* where it was written, for "unknown dependency" */
};

struct healthcheck {
	char **argv; /* NULL: no health check */
	uint32_t interval_ms, timeout_ms, start_period_ms;
	unsigned retries;
};

/* cgroup v2 limits; 0 / "" mean "not set" (the kernel's default stays). */
/* A container's pids.max when its declaration gives none (docs/declarations.md). */
#define CONTAINER_PIDS_MAX 4096
struct resources {
	unsigned cpu_weight; /* 1..10000 */
	char cpu_max[32];    /* "max 100000", "50000 100000" (cpus are converted) */
	uint64_t memory_max; /* bytes; UINT64_MAX: "max" */
	uint64_t pids_max;   /* UINT64_MAX: "max"; containers: CONTAINER_PIDS_MAX if unset */
};

struct decl {
	char *name;
	enum unit_kind kind;
	char **argv;	   /* NULL-terminated; a string command becomes /bin/sh -c STRING */
	char **env;	   /* declared KEY=value, NULL-terminated, maybe empty */
	char *tty;	   /* NULL, "console" or a device path */
	char *working_dir; /* NULL: "/" */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	struct dep *deps;
	size_t ndeps;
	enum restart restart;
	uint32_t backoff_initial_ms, backoff_max_ms, backoff_reset_ms;
	int stop_signal;	  /* default SIGTERM */
	uint32_t stop_timeout_ms; /* default DECL_STOP_TIMEOUT_MS */
	struct healthcheck health;
	struct resources res;
	bool stop_signal_set; /* given: wins over a container image's StopSignal */
	/* kind container (init/container.c): argv/env/working_dir override the image's */
	char *image;	      /* reference in the image store */
	char **entrypoint;    /* NULL: the image's */
	char *user_spec;      /* "user[:group]", resolved in the image */
	bool private_net;     /* network: private (loopback only); default the host's */
	bool read_only;	      /* root read-only; default an upper on /var */
	bool host_userns;     /* userns: host; default (auto) a user namespace of its own */
	uint32_t userns_base; /* auto: its first host id, given at its start (userns.c) */
	char *file;	      /* where it was declared, for messages */
	int line, col;
};

struct decls {
	struct decl *v;
	size_t n, cap;
	char **broken; /* names of services left out for their errors (for dependants' messages) */
};

#define DECL_NAME_MAX	     64
#define DECL_DIR	     "/etc/wisp"
#define DECL_STOP_TIMEOUT_MS 10000u

/* Receives one complete error line ("path:line:col: service "x": problem"). */
typedef void decl_report_fn(void *ctx, const char *msg);

/* Add the valid services of one file to set; report each problem. Returns the number reported. */
int decl_load_file(struct decls *set, const char *path, decl_report_fn *report, void *ctx);
/* Same for every *.yaml of dir, in name order. */
int decl_load_dir(struct decls *set, const char *dir, decl_report_fn *report, void *ctx);
/* Where user and group names are looked up (default "/etc": passwd, group); for tests. */
void decl_set_etc(const char *dir);
void decl_clear(struct decl *d);
void decls_free(struct decls *set);
/* The environment a program starts with: the base one, then its declared env. NULL on ENOMEM. */
char **decl_environ(const struct decl *d);
/* TZ=... for every unit (cloud-config's timezone); "" none. */
extern char unit_tz[64];
const char *restart_name(enum restart r);
const char *kind_name(enum unit_kind k);
/* "100ms", "5s", "2m", "1h", "0" -> milliseconds. Returns 0 or -1. */
int parse_duration(const char *s, uint32_t *ms);
/* "1024", "64K", "512M", "1G" (powers of 1024) -> bytes. Returns 0 or -1. */
int parse_size(const char *s, uint64_t *bytes);
/* cpu.max value from "max", "max 100000", "50000 100000" or a number of cpus ("0.5"). */
int parse_cpu_max(const char *s, char *out, size_t size);
/* "TERM", "SIGTERM", "15" -> signal number, or -1. */
int parse_signal(const char *s);

/* ---- users.c: /etc/passwd and /etc/group -------------------------- */

/* Name or number -> uid (and that user's primary gid, if known). Returns 0 or -1. */
int user_lookup(const char *etc, const char *name, uid_t *uid, gid_t *gid, bool *has_gid);
int group_lookup(const char *etc, const char *name, gid_t *gid);

/* ---- deps.c: the dependency graph ----------------------------------- */

/*
 * Drop from set every service with an unknown dependency, on a
 * dependency cycle, or depending (directly or not) on a dropped or
 * broken one; report each, with its file:line:col. Returns the number
 * reported. What is left can always be started in some order.
 */
int deps_check(struct decls *set, decl_report_fn *report, void *ctx);
/* Index of name in set, or -1. */
int decls_find(const struct decls *set, const char *name);

/* ---- restart.c: when and how soon to restart ------------------------ */

#define BACKOFF_MIN_MS	 100u
#define BACKOFF_MAX_MS	 30000u
#define BACKOFF_RESET_MS 60000u /* a run this long was a success: start over from the minimum */

struct backoff {
	uint32_t next_ms; /* delay of the next restart; 0: fresh */
};

/* Does policy r want a restart after a program ended with wait status st? */
bool restart_wanted(enum restart r, int st);
/* Delay before the next start, given how long the last run lasted; advances the backoff. */
uint32_t backoff_next(struct backoff *b, uint64_t ran_ms);
/* Same with a declaration's own initial/max/reset (0: the defaults above). */
uint32_t backoff_next_cfg(struct backoff *b, uint64_t ran_ms, uint32_t initial, uint32_t max,
			  uint32_t reset);

/* ---- spawn.c: fork/exec with setup errors reported back ------------- */

struct spawn_req {
	char *const *argv;
	char *const *envp;
	const char *tty; /* controlling terminal on 0,1,2; NULL: /dev/null, console, console */
	const char *working_dir; /* NULL: "/" */
	/* fds 0-2 are always init's console (console_setup), so 0 can mean "none"
	 * and a zeroed request keeps the old behaviour. */
	int out_fd;    /* > 2 (and no tty): stdout and stderr; else the console */
	int cgroup_fd; /* > 2: a cgroup directory the child joins before anything else */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
};

/*
 * Start a program in its own session. *report gets the read end of a
 * close-on-exec pipe (non-blocking): EOF alone means exec succeeded;
 * text before EOF is the child's setup error ("exec /bin/x: ...").
 * report may be NULL: no pipe, a setup failure is only exit status 127.
 * The child joins r->cgroup_fd itself, before anything else, so that it
 * never runs a line of the program outside its limits.
 * Returns the pid, or -1 if not even the fork happened.
 */
pid_t spawn(const struct spawn_req *r, int *report, struct err *e);
/* Read what is in a report pipe (non-blocking). Returns 1 on EOF, 0 if more may come. */
int spawn_read_report(int fd, char *buf, size_t size, size_t *len);

/* ---- loop.c: the event loop ----------------------------------------- */

/* A file descriptor the loop watches; ready() runs with the epoll events. */
struct watch {
	int fd;
	void (*ready)(struct watch *w, uint32_t events);
};

/* A deadline on CLOCK_BOOTTIME; all share one timerfd armed at the earliest. */
struct timer {
	uint64_t due;
	bool armed;
	struct timer *next;
	void (*fire)(struct timer *t);
};

void signals_block(void);
int loop_setup(struct err *e);
int loop_watch(struct watch *w, struct err *e);
/* Also wake w when its fd is writable (a queue to send). Returns 0 or -1 (errno). */
int loop_watch_out(struct watch *w, bool out);
void loop_unwatch(struct watch *w);
void timer_start(struct timer *t, uint64_t due);
void timer_stop(struct timer *t);
/* Collect every exited child; tells units and shutdown. */
void reap(void);
_Noreturn void loop_run(void);
/* When the loop cannot be built: reap and honour shutdown signals with sigwaitinfo. */
_Noreturn void loop_emergency(void);

/* ---- unit.c: the unit table and each unit's state machine ----------- */

enum unit_state {
	U_STOPPED,  /* not running, nothing planned (maybe waiting for its dependencies) */
	U_STARTING, /* forked; exec not confirmed yet */
	U_RUNNING,  /* exec'd (health check not passed yet, or none) */
	U_HEALTHY,  /* exec'd and its health check passed */
	U_BACKOFF,  /* ended; a restart is due at its timer */
	U_STOPPING, /* asked to stop (stop_signal sent; SIGKILL to its cgroup at stop_timeout) */
	U_FAILED,   /* ended badly, no restart */
	U_DONE,	    /* ended well, no restart */
};

struct unit_info {
	const char *name;
	const char *kind; /* "service", "oneshot", "container" */
	enum unit_state state;
	pid_t pid;
	uint64_t since_ms; /* now_ms() when it entered its state */
	unsigned restarts;
	int last_status;    /* wait status of the last exit, -1 none */
	const char *health; /* "none","starting","healthy","unhealthy" */
	char userns[16];    /* containers: "host", or the first host id ("1048576"); else "" */
};

/* Load DECL_DIR (errors are logged). Returns the number of units. */
size_t units_load(const char *dir);
/* A second directory (user-data's units): its services replace dir's of the same name. */
void units_set_overlay(const char *dir);
void units_start_all(void);
/* A child ended: if it is a unit's (or a health check's), move its state machine. */
bool unit_reaped(pid_t pid, int st);
/* Shutdown: no more restarts; stop every unit, dependants first. */
void units_stop_all(void);
/* Shutdown: every unit has stopped (or none was running). */
bool units_all_stopped(void);
/* Shutdown, before /var is unmounted: let go of the units' log files. */
void units_release(void);
const char *unit_state_name(enum unit_state s);

size_t units_count(void);
int unit_info_at(size_t i, struct unit_info *out); /* 0 or -1 */
int unit_find(const char *name);		   /* index or -1 */
int unit_start(const char *name, struct err *e);
/* By hand: no restart until unit_start. */
int unit_stop(const char *name, struct err *e);
int unit_restart(const char *name, struct err *e);
/* Programmatic unit (e.g. udhcpc per NIC); takes ownership of *d's contents. */
int units_add(struct decl *d, struct err *e);

/* ---- health.c: health checks ---------------------------------------- */

enum health { H_NONE, H_STARTING, H_HEALTHY, H_UNHEALTHY };

struct hcheck {
	const struct healthcheck *cfg;
	enum health state;
	pid_t pid;	  /* the running check, 0 none */
	bool active;	  /* between health_start and health_stop */
	unsigned fails;	  /* consecutive */
	uint64_t started; /* when the unit's program started: start_period counts from there */
	struct timer next, timeout;
	void (*changed)(struct hcheck *h); /* state moved between healthy and not */
	pid_t (*run)(struct hcheck *h);	   /* spawn the check; the unit knows how */
};

const char *health_name(enum health h);
/* The program started: checks begin (now, then every interval). */
void health_start(struct hcheck *h);
void health_stop(struct hcheck *h);
/* Was pid this check's? Then account for its status. */
bool health_reaped(struct hcheck *h, pid_t pid, int st);
/* One check result (also used by the tests). */
void health_result(struct hcheck *h, bool ok, uint64_t now);

/* ---- container.c: kind container, through the containerd-lite binary - */

#define CTR_BIN "/bin/containerd-lite"
/* What cloud-init found, applied and warned about this boot (`wispctl config`). */
#define CLOUD_REPORT "/run/wisp/cloud-init.report"
/* report.c: one line of it. */
void cloudinit_report(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* The unit of the boot's image import; containers wait for it (imgimport.c). */
#define IMAGE_IMPORT "image-import"

/* The runtime's steps to start one (container.c says why steps). */
enum ctr_step { CTR_CLEAN, CTR_BUNDLE, CTR_CREATE, CTR_START };

/* The argv of a step for d (strv_free it), NULL when out of memory. */
char **ctr_argv(const struct decl *d, enum ctr_step step);
/* cmd run inside container name (its health check). */
char **ctr_exec_argv(const char *name, char *const *cmd);
/* After create: the container's pid. */
pid_t ctr_pid(const char *name, struct err *e);
/* After bundle: the image's StopSignal, 0 when it has none. */
int ctr_stop_signal(const char *name);
/* After its end: its root unmounted (lazily, never waiting). */
void ctr_release(const char *name);
/* Where bundles are made (default /run/wisp/bundles); for the tests. */
void ctr_set_bundles(const char *dir);

/* ---- userns.c: each container's range of host ids, kept on STATE ----- */

#define USERNS_BASE 0x100000u /* the first range's first id (1048576) */
#define USERNS_SIZE 65536u
/* name's first host id: the one recorded, else the next never given (recorded). */
int userns_range(const char *name, uint32_t *base, struct err *e);
/* Where the ranges are recorded (default /var/lib/wisp/userns); for the tests. */
void userns_set_file(const char *path);

/* ---- cgroup.c: cgroup v2 --------------------------------------------- */

#define CGROUP_ROOT "/sys/fs/cgroup"

/* Move init into ROOT/init and enable +cpu +memory +pids +io for ROOT/wisp/<unit>. */
int cgroup_setup(const char *root, struct err *e);
/* Make ROOT/wisp/NAME, write its limits; returns an O_DIRECTORY fd of it (for spawn). */
int cgroup_unit(const char *root, const char *name, const struct resources *r, struct err *e);
/* SIGKILL everything in it (cgroup.kill, or one by one before 5.14). */
int cgroup_kill(const char *root, const char *name, struct err *e);
/* Is anything left in it? */
bool cgroup_populated(const char *root, const char *name);

/* ---- logs.c: the units' output -> /var/log/wisp/<name>.log ----------- */

#define LOG_DIR		 "/var/log/wisp"
#define LOG_ROTATE_BYTES (1u << 20)
#define LOG_ROTATE_FILES 3u
#define LOG_LINE_MAX	 2048 /* a longer line is cut in pieces of this size */

struct logsink {
	char unit[DECL_NAME_MAX + 1];
	struct watch w; /* read end of the pipe */
	int wfd;	/* write end: the program's stdout and stderr */
	int file;	/* the open log, -1 none */
	uint64_t size;
	char part[LOG_LINE_MAX];
	size_t plen;
	unsigned long dropped;
	bool warned;
	uint64_t retry_at;
};

/* Where logs go and how big they grow (tests use a temp dir). */
void logs_configure(const char *dir, uint64_t max_bytes, unsigned files);
/* The pipe (watched by the loop) for unit name. */
int logs_open(struct logsink *l, const char *name, struct err *e);
void logs_close(struct logsink *l);
/* Shutdown: close every log file for good (so /var can be unmounted); output is dropped. */
void logs_shutdown(void);
/* Output of the program: complete lines are timestamped and written; the rest waits. */
void logs_feed(struct logsink *l, const char *buf, size_t len);
/* Called for every complete line written ("2026-...Z text", no newline), e.g. for logs -f. */
void logs_set_observer(void (*fn)(const char *unit, const char *line, size_t len));

/* ---- shutdown.c ------------------------------------------------------ */

enum shutdown_kind { SHUTDOWN_HALT, SHUTDOWN_POWEROFF, SHUTDOWN_REBOOT };

#define SHUTDOWN_GRACE_S 10u /* the whole sequence */
#define SHUTDOWN_KILL_WAIT_MS                                                                      \
	2000u /* after SIGKILL, how long to wait for the dead to be reaped                         \
	       */

void shutdown_set_grace(unsigned seconds);
void shutdown_request(enum shutdown_kind k, int sig, pid_t from);
/* reap() found no child left. */
void shutdown_no_children(void);
/* unit.c: during a shutdown, the last unit has stopped. */
void shutdown_units_stopped(void);
/* Emergency path: everything in one go, waiting with sigtimedwait. */
void shutdown_now(enum shutdown_kind k); /* returns only if reboot(2) failed */
const char *shutdown_name(enum shutdown_kind k);

/* ---- proto.c: control protocol messages (docs/control-protocol.md) --- */

#define CONTROL_SOCK	    "/run/wisp/control.sock"
#define PROTO_VERSION	    1
#define PROTO_HDR	    8	 /* "WP", version, type, payload length (u32 big-endian) */
#define PROTO_MAX_MSG	    4096 /* whole message, header included */
#define PROTO_MAX_RECS	    16
#define PROTO_MAX_LINES	    10000u
#define PROTO_DEFAULT_LINES 10u

/* Message types: requests (client -> init), replies (init -> client). */
enum proto_type {
	P_PS = 1,
	P_STATUS = 2,
	P_LOGS = 3,
	P_START = 4,
	P_STOP = 5,
	P_RESTART = 6,
	P_REBOOT = 7,
	P_POWEROFF = 8,
	P_CONFIG = 9,  /* cloud-init's report of this boot, as P_LINES */
	P_IMAGES = 10, /* the image store's listing, as P_LINES */
	P_UNIT = 0x81, /* one unit's record (ps, status) */
	P_LINES,       /* PT_TEXT: whole log lines, each ending in \n */
	P_OK,	       /* the request is done */
	P_ERROR,       /* the request failed: PT_TEXT says why */
};

/* Record tags. */
enum proto_tag {
	PT_NAME = 1,
	PT_LINES = 2,
	PT_FOLLOW = 3,
	PT_KIND = 4,
	PT_STATE = 5,
	PT_PID = 6,
	PT_UPTIME = 7,
	PT_RESTARTS = 8,
	PT_STATUS = 9,
	PT_HEALTH = 10,
	PT_TEXT = 11,
	PT_USERNS = 12,
};

struct pmsg { /* a message being built */
	unsigned char b[PROTO_MAX_MSG];
	size_t len;
	bool over; /* a record did not fit: pmsg_end() fails */
};

struct precord {
	unsigned tag;
	size_t len;
	const unsigned char *val; /* points into the decoded buffer */
};

struct pview { /* a decoded message; valid while its buffer is */
	unsigned version, type;
	size_t n;
	struct precord rec[PROTO_MAX_RECS];
};

struct preq { /* a checked request */
	unsigned op;
	char name[DECL_NAME_MAX + 1];
	uint32_t lines;
	bool follow;
};

void pmsg_start(struct pmsg *p, unsigned type);
void pmsg_bytes(struct pmsg *p, unsigned tag, const void *val, size_t len);
void pmsg_str(struct pmsg *p, unsigned tag, const char *s);
void pmsg_u32(struct pmsg *p, unsigned tag, uint32_t v);
void pmsg_u64(struct pmsg *p, unsigned tag, uint64_t v);
/* Fill in the length. Returns -1 if the message overflowed PROTO_MAX_MSG. */
int pmsg_end(struct pmsg *p);
/* Structure: header, version, length, records. e->num: EBADMSG or EPROTONOSUPPORT. */
int proto_decode(const void *buf, size_t len, struct pview *m, struct err *e);
/* Meaning: a known request with exactly the records it takes, each valid. */
int proto_request(const struct pview *m, struct preq *r, struct err *e);
const struct precord *pview_find(const struct pview *m, unsigned tag);
/* 1 found (copied, NUL-terminated), 0 absent, -1 invalid (too long, or holds a NUL). */
int pview_str(const struct pview *m, unsigned tag, char *buf, size_t size);
/* 1 found, 0 absent, -1 not exactly width bytes. Big-endian. */
int pview_uint(const struct pview *m, unsigned tag, size_t width, uint64_t *v);
const char *proto_op_name(unsigned op);

/* ---- control.c: the control socket server --------------------------- */

/* Listen on CONTROL_SOCK in the loop. Logs its errors; init runs on without it. */
void control_setup(void);

/* ---- powerbtn.c: the ACPI power button ------------------------------- */

/* Find the "Power Button" input device under sys; KEY_POWER requests a poweroff. */
void powerbtn_setup(const char *sys);

/* ---- etc.c: a writable /etc for this boot ---------------------------- */

/* tmpfs overlay on /etc (upper under /run/wisp/etc), then render hosts and resolv.conf. */
void etc_setup(void);
/* The /etc/hosts text for host name name. Returns its length or -1 if it does not fit. */
int etc_hosts_render(const char *name, char *buf, size_t size);

/* ---- netcfg.c: network configuration (v2, v1, network_data.json) ---- */

#define NET_MAX_IFS  8
#define NET_MAX_LIST 8
#define NET_IFNAMSIZ 16 /* IFNAMSIZ, without <net/if.h> in every file */
/* Values end up in `ip` command lines: only these characters, so nothing can be injected. */
#define NET_ADDR_CHARS "0123456789abcdefABCDEF.:/"
#define NET_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

struct net_route {
	char to[48], via[48]; /* to: CIDR or "default" */
};

struct ifcfg {
	char key[NET_IFNAMSIZ + 1]; /* the NIC's name when there is no match */
	char match_name[NET_IFNAMSIZ + 1], match_mac[24], set_name[NET_IFNAMSIZ];
	bool dhcp4;
	char addr[NET_MAX_LIST][48];
	size_t naddr;
	char gw4[48];
	struct net_route route[NET_MAX_LIST];
	size_t nroute;
	char dns[NET_MAX_LIST][48];
	size_t ndns;
	char search[NET_MAX_LIST][128];
	size_t nsearch;
};

struct netcfg {
	bool present;  /* a configuration was given: only the NICs it matches are configured */
	bool disabled; /* "config: disabled" (cloud-init's): no one's configuration, DHCP */
	struct ifcfg ifs[NET_MAX_IFS];
	size_t n;
};

/* s is not empty, does not start with '-' and has only allowed characters. */
bool net_safe(const char *s, const char *allowed);
/* The mapping under a `network:` key (version 1 or 2) of file path into cfg; each
 * problem is logged as path:line:col. Returns the number of problems (0: all valid). */
int netcfg_read(const char *path, const struct ynode *net, struct netcfg *cfg);
/* OpenStack's network_data.json (root: its parsed tree) into cfg; as netcfg_read(). */
int netcfg_openstack(const char *path, const struct ynode *root, struct netcfg *cfg);
/* A datasource's network-config (YAML, v1 or v2, with or without a top-level
 * network: key) or else network_data.json from dir. Invalid: one warning and cfg
 * stays empty (DHCP everywhere). Returns 1 if cfg was filled. */
int netcfg_from_ds(const char *dir, struct netcfg *cfg);

/* ---- net.c: loopback, DHCP or static addresses ----------------------- */

/* lo up; one udhcpc unit per NIC, or the static configuration of DECL_DIR's network:. */
void net_setup(const char *sys);
/* Receives each unit the network needs: a udhcpc service, or a one-shot `ip` script. */
typedef void net_unit_fn(void *ctx, const char *name, char *const argv[], bool oneshot);
/* The units for the NICs under sys and the network: key of dir's YAML files, else the
 * datasource's network configuration in ds; name servers of a static configuration
 * are written to resolv. (net_setup() without lo.) */
void net_plan(const char *sys, const char *dir, const char *ds, const char *resolv, net_unit_fn *fn,
	      void *ctx);

/* ---- grow.c: grow the last GPT partition to the end of the disk ------ */

/*
 * fd is the whole disk (or an image file) of size bytes, with 512-byte
 * sectors. If partition number partno (1-based) is the last one and the
 * disk has grown, move the backup GPT to the end and extend the partition.
 * Returns 1 grown (*new_end: its new last LBA), 0 nothing to do, -1 error.
 */
int gpt_grow(int fd, uint64_t size, unsigned partno, uint64_t *new_end, struct err *e);
uint32_t gpt_crc32(const void *buf, size_t len);

/* ---- b64.c ------------------------------------------------------------ */

/* Decode base64 (blanks skipped, '=' ends it) into out. Returns its length or -1. */
ssize_t b64_decode(const char *in, size_t len, unsigned char *out, size_t size);

/* ---- userdata.c: user-data formats, MIME parts ------------------------ */

/* UD_SCRIPT_BOOT..ONCE: MIME text/x-shellscript-per-boot, -per-instance, -per-once. */
enum ud_kind {
	UD_EMPTY,
	UD_CLOUD_CONFIG,
	UD_SCRIPT,
	UD_MIME,
	UD_GZIP,
	UD_UNKNOWN,
	UD_SCRIPT_BOOT,
	UD_SCRIPT_INSTANCE,
	UD_SCRIPT_ONCE
};

struct ud_sink {
	void *ctx;
	/* One usable part: its kind, a name for messages, its bytes (not NUL-terminated). */
	void (*part)(void *ctx, enum ud_kind k, const char *name, const char *data, size_t len);
	void (*warn)(void *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);
};

enum ud_kind ud_detect(const char *data, size_t len);
const char *ud_kind_name(enum ud_kind k);
/* Hand each cloud-config or script in data (MIME multipart split) to s; warn about the rest. */
void ud_split(const char *src, const char *data, size_t len, struct ud_sink *s);

/* ---- cloudcfg.c: #cloud-config -> struct cloudcfg ---------------------- */

struct cc_user {
	char *name, *gecos, *shell, *homedir, *passwd, *primary_group;
	char **groups, **keys;
	bool lock_passwd, system, no_create_home, has_uid;
	uid_t uid;
};

struct cc_file {
	char *path, *owner;
	unsigned char *content;
	size_t len;
	mode_t mode;
	bool append, defer, gzip; /* gzip: content is still compressed */
};

struct cc_group {
	char *name;
	char **members;
};

/* One mounts: entry, fields filled from mount_default_fields; dump and pass are read only. */
struct cc_mount {
	char *dev, *dir, *type, *opts; /* opts as given: the script takes out nofail, x-... */
	int line, col;
};

struct cloudcfg {
	char *hostname, *fqdn;
	bool preserve_hostname;
	struct cc_user *users;
	size_t nusers;
	struct cc_group *groups;
	size_t ngroups;
	char **ssh_keys;
	struct cc_file *files;
	size_t nfiles;
	char ***bootcmd, ***runcmd; /* each an argv (a string: sh -c STRING) */
	size_t nbootcmd, nruncmd;
	char *wisp_units;		  /* the wisp: key as a declarations file's text, or NULL */
	char *final_message, *timezone;	  /* timezone: a POSIX TZ string (checked) */
	char *power_mode;		  /* "poweroff", "reboot", "halt" or NULL */
	char *power_message, *power_cond; /* cond: a shell line, NULL: true */
	unsigned power_delay_s;		  /* "now": 0, "+N": N minutes */
	int ntp;			  /* -1: no ntp key, 0: disabled, 1: enabled */
	char **ntp_servers;		  /* servers then pools */
	struct cc_mount *mounts;
	size_t nmounts;
	char *mount_defaults[2]; /* mount_default_fields' fstype and options */
};

/* Parse the YAML file path (a #cloud-config); each problem goes to warn as one line. */
int cloudcfg_load(const char *path, struct cloudcfg *c, struct ud_sink *warn);
void cloudcfg_free(struct cloudcfg *c);
/* "0644", "644", "0o644" or an integer written as octal digits -> mode. Returns 0 or -1. */
int cc_parse_mode(const char *s, mode_t *mode);
/* A command as a shell script line (a list is quoted word by word). malloc'd. */
char *cc_shell_line(char *const *argv);
/* "UTC", "EST5EDT", "<+0530>-5:30": a POSIX TZ string; an Olson name (a '/') is not. */
bool cc_posix_tz(const char *s);

/* ---- ccapply.c: apply a cloudcfg to this host ------------------------ */

struct cc_env {
	const char *etc;   /* "/etc" */
	const char *root;  /* prefix of write_files paths and homes; "" */
	bool per_instance; /* first boot of this instance-id: per-instance work too */
	struct ud_sink *warn;
	/* gzip write_files: decompress (malloc'd *out); NULL: refused with a warning */
	int (*gunzip)(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen);
};

void cc_apply_hostname(const struct cloudcfg *c, const char *meta_hostname,
		       const struct cc_env *env);
/* Users, groups, homes, authorized keys. Returns the number of keys written. */
unsigned cc_apply_users(const struct cloudcfg *c, const struct cc_env *env);
void cc_apply_files(const struct cloudcfg *c, bool deferred, const struct cc_env *env);

/* ---- ds.c: datasources ------------------------------------------------ */

struct ds_found {
	char name[400];	   /* "NoCloud (/dev/sr0, iso9660)" */
	char iid[128];	   /* instance-id ("" if none given) */
	char hostname[80]; /* local-hostname / hostname ("" none) */
	char **keys;	   /* public keys from meta-data (config drive) */
};

/* The label of a filesystem in a superblock image (iso9660 or FAT). Returns 0 or -1. */
int ds_label(const unsigned char *buf, size_t len, char *label, size_t size, const char **fstype);
/* Find a datasource (cmdline, then cidata/config-2 disks); copy its files to dir. 1 found. */
int ds_find(const char *cmdline, const char *dir, struct ds_found *f, struct ud_sink *warn);

/* ---- cloudinit.c: the provisioning step of the boot ------------------- */

#define CLOUD_DIR   "/var/lib/cloud"
#define CLOUD_RUN   "/run/wisp/cidata"
#define CLOUD_UNITS "/run/wisp/units"

/* Find a datasource and apply it (before units load). Never blocks long. */
void cloudinit_setup(void);
/* After units_load: sshd if keys were written; the per-instance scripts (runcmd, #! parts)
 * as a oneshot unit. */
void cloudinit_final(void);
/* Create dir/sem/name if absent: 1 taken now, 0 taken before, -1 error. */
int cc_sem_take(const char *dir, const char *name, struct err *e);

/* ---- ccfinal.c: mounts, timezone, gunzip, ntp, the cloud-final script -- */

/* Run argv (PATH, HOME and env set), killed after ms. Its wait status, or -1 (warned). */
int cc_run(const char *what, char *const *argv, char *env, unsigned ms, struct ud_sink *w);
/* gunzip through busybox, at most YAML_MAX_BYTES out. 0 or -1. */
int cc_gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen);
/* ud_split() of gzip-compressed user-data, gunzipped. */
void cc_split_gzip(const char *src, const char *data, size_t len, struct ud_sink *s);
/* Where a MIME per-boot/-instance/-once script is kept; NULL for other kinds. */
const char *cc_script_dir(enum ud_kind k);
/* mounts, timezone, ntp of one cloud-config part, in the early stage. */
void cc_apply_late(const struct cloudcfg *c, struct ud_sink *w);
/* The text of /run/wisp/cloud-final.sh: per-once, per-boot, per-instance scripts,
 * final_message, power_state. */
void cc_final_script(const char *idir, bool per_instance, const char *ds, struct ud_sink *w);
/* A unit of cloud-init's (file "cloud-init"; a service restarts always). 0 or -1. */
int cc_unit_add(const char *name, const char *const *argv, enum unit_kind kind, struct err *e);
/* The ntpd unit when a cloud-config part asked for it. */
void cc_ntp_add(void);

/* ---- sshd.c: the SSH server ------------------------------------------- */

/* Add the unit "sshd" (dropbear, key-only); cloudinit_final() does when keys were written. */
void sshd_add(void);

/* ---- imgimport.c: archives in STATE or on the seed, imported at boot -- */

/* The directory of image archives at a seed's root (matched case-insensitively). */
#define SEED_IMAGES "wisp-images"
/* "DEV FSTYPE DIR": the seed holding SEED_IMAGES, noted by ds.c for image-import. */
#define SEED_INFO "/run/wisp/seed-images"

/* dir has an entry `containerd-lite image import-dir` would import. */
bool imgimport_pending(const char *dir);
/* Is there anything for image-import: archives in drop, or the seed file seed? */
bool imgimport_wanted(const char *drop, const char *seed);
/* After units_load: the oneshot unit image-import, if something waits. */
void imgimport_setup(void);

#endif /* WISP_INIT_H */

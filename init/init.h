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
/* snprintf that refuses to truncate (a cut path names another file). Returns 0 or -1. */
int fmt_path(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* write(2) until done or a real error; retries EINTR. Returns 0 or -1 with errno set. */
int write_all(int fd, const void *buf, size_t len);
/* Free a NULL-terminated vector of malloc'd strings, and the vector. */
void strv_free(char **v);
size_t strv_len(char *const *v);
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

/* ---- decl.c: declarations (docs/declarations.md) -------------------- */

enum restart { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct decl {
	char *name;
	char **argv;	   /* NULL-terminated; a string command becomes /bin/sh -c STRING */
	char **env;	   /* declared KEY=value, NULL-terminated, maybe empty */
	char *tty;	   /* NULL, "console" or a device path */
	char *working_dir; /* NULL: "/" */
	enum restart restart;
	char *file; /* where it was declared, for messages */
	int line, col;
};

struct decls {
	struct decl *v;
	size_t n, cap;
};

#define DECL_NAME_MAX 64
#define DECL_DIR      "/etc/wisp"

/* Receives one complete error line ("path:line:col: service "x": problem"). */
typedef void decl_report_fn(void *ctx, const char *msg);

/* Add the valid services of one file to set; report each problem. Returns the number reported. */
int decl_load_file(struct decls *set, const char *path, decl_report_fn *report, void *ctx);
/* Same for every *.yaml of dir, in name order. */
int decl_load_dir(struct decls *set, const char *dir, decl_report_fn *report, void *ctx);
void decls_free(struct decls *set);
/* The environment a program starts with: the base one, then its declared env. NULL on ENOMEM. */
char **decl_environ(const struct decl *d);
const char *restart_name(enum restart r);

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

/* ---- spawn.c: fork/exec with setup errors reported back ------------- */

struct spawn_req {
	char *const *argv;
	char *const *envp;
	const char *tty; /* controlling terminal on 0,1,2; NULL: /dev/null, console, console */
	const char *working_dir; /* NULL: "/" */
};

/*
 * Start a program in its own session. *report gets the read end of a
 * close-on-exec pipe (non-blocking): EOF alone means exec succeeded;
 * text before EOF is the child's setup error ("exec /bin/x: ...").
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
	U_STOPPED,  /* not running, nothing planned */
	U_STARTING, /* forked; exec not confirmed yet */
	U_RUNNING,  /* exec'd */
	U_BACKOFF,  /* ended; a restart is due at its timer */
	U_STOPPING, /* asked to stop (SIGTERM sent) */
	U_FAILED,   /* ended badly, no restart */
	U_DONE,	    /* ended well, no restart */
};

/* Load DECL_DIR (errors are logged). Returns the number of units. */
size_t units_load(const char *dir);
void units_start_all(void);
/* A child ended: if it is a unit's, move its state machine. Returns true if it was. */
bool unit_reaped(pid_t pid, int st);
/* Shutdown: no more restarts; SIGTERM to every running unit. */
void units_stop_all(void);
const char *unit_state_name(enum unit_state s);

/* ---- shutdown.c ------------------------------------------------------ */

enum shutdown_kind { SHUTDOWN_HALT, SHUTDOWN_POWEROFF, SHUTDOWN_REBOOT };

#define SHUTDOWN_GRACE_S 5u
#define SHUTDOWN_KILL_WAIT_MS                                                                      \
	2000u /* after SIGKILL, how long to wait for the dead to be reaped                         \
	       */

void shutdown_set_grace(unsigned seconds);
void shutdown_request(enum shutdown_kind k, int sig, pid_t from);
/* reap() found no child left. */
void shutdown_no_children(void);
/* Emergency path: everything in one go, waiting with sigtimedwait. */
void shutdown_now(enum shutdown_kind k); /* returns only if reboot(2) failed */
const char *shutdown_name(enum shutdown_kind k);

#endif /* WISP_INIT_H */

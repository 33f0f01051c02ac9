/*
 * lib/base.h: what every program of init/ shares (PID 1, provision, wispctl):
 * the error object, small helpers, log lines, the kernel command line,
 * host names and fork/exec with setup errors reported back.
 *
 * Conventions (see DESIGN.md):
 *  - a fallible function returns a negative value and fills a struct err
 *    whose message names the object ("mount proc on /proc: ...");
 *    callers add context with err_ctx() or log it with log_err();
 *  - anything that reads the system (sysfs, /proc, /etc) takes its root
 *    or path as a parameter, so the unit tests can point it at a fake tree.
 */
#ifndef WISP_LIB_BASE_H
#define WISP_LIB_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "fdio.h"   /* write_all(), read_full() */
#include "ttyesc.h" /* bytes from outside onto a terminal (wispctl, containerd-lite) */

#ifndef WISP_VERSION
#define WISP_VERSION "unknown"
#endif

#define PRINTF_LIKE(fmt, args)		__attribute__((format(printf, fmt, args)))
#define ARRAY_LEN(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* The longest unit name (declarations, the control protocol). */
#define DECL_NAME_MAX 64

/* ---- err.c: the error object ---------------------------------------- */

struct err {
	int num;       /* errno of the failure; 0 when there is none */
	char msg[512]; /* complete text: "what on which object: strerror" */
};

/* Fill e with num and the formatted text (+ ": strerror(num)" when num != 0). Returns -1. */
int err_set(struct err *e, int num, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prefix e's message with context: "context: old message". Returns -1. */
int err_ctx(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* ---- blkdev.c: partitions of the root's disk ------------------------ */

/*
 * Find the partition called partname on the same disk as the block
 * device dev (usually stat("/").st_dev; a device-mapper device over one
 * partition, the verity root, stands for that partition), looking under
 * sys (normally "/sys"). Writes its kernel name ("vda4") to name.
 */
int sysfs_find_partition(const char *sys, dev_t dev, const char *partname, char *name, size_t size,
			 struct err *e);
/* realpath(3) of a sysfs path whose last component only may be a link
 * (class/block/NAME, dev/block/M:N): 0, or -1 with errno. */
int sysfs_resolve(const char *path, char *out, size_t size);

/* ---- loopdev.c: a file as a loop device (the initramfs, PID 1's live store) ---- */

/* file on loop device nr, added through /dev/loop-control (nr >= 0), or on a free one
 * (nr < 0); read_only: the file opened and the device made read-only. The device's path
 * ("/dev/loop0") in dev. 0, or -1 with e naming the step. */
int loop_attach(const char *file, int nr, bool read_only, char *dev, size_t len, struct err *e);

/* ---- util.c: small helpers ------------------------------------------ */

/* Milliseconds since boot (CLOCK_BOOTTIME: the clock of the banner and of every timer). */
uint64_t now_ms(void);
/* Decimal digits at S (one at least; no sign, no space) into *V: the first
 * character after them, or NULL for none or an overflow. Not strtoul:
 * musl's __intscan and its wrappers are most of a page of PID 1. */
const char *dec_scan(const char *s, uint64_t *v);
/* Read a small text file into buf (NUL-terminated, truncated to size-1). Returns its length. */
int read_text(const char *path, char *buf, size_t size, struct err *e);
/* read_text for bytes from outside: a regular file (no symlink, FIFO or device) of at
 * most size-1 bytes, or an error (EFBIG: over the limit; nothing read). */
int read_file(const char *path, char *buf, size_t size, struct err *e);
/* snprintf that refuses to truncate (a cut path names another file). Returns 0 or -1. */
int fmt_path(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Create (or truncate) path, never through a symlink, with exactly mode (whatever the umask
 * or an older file had), and write len bytes of data. Returns 0 or -1 ("create PATH: ...",
 * "write PATH: ..." or "chmod PATH: ..."). */
int write_file(const char *path, const void *data, size_t len, mode_t mode, struct err *e);
/* val into an existing kernel file (a sysctl, a sysfs knob, a cgroup file): never created,
 * never through a symlink. Returns 0 or -1 (e filled). */
int write_value(const char *path, const char *val, struct err *e);
/* write_file, fsync'd before it is closed. */
int write_file_synced(const char *path, const void *data, size_t len, mode_t mode, struct err *e);
/* fsync path (a file, or a directory after a rename in it). */
int sync_path(const char *path, struct err *e);
/* mkdir -p -m mode: the missing directories above path 0755, path itself mode; existing
 * ones are left as they are. Returns 0 or -1 ("mkdir DIR: ..." naming the one that failed). */
int mkdir_p(const char *path, mode_t mode, struct err *e);
/* Free a NULL-terminated vector of malloc'd strings, and the vector. */
void strv_free(char **v);
size_t strv_len(char *const *v);
/* s in single quotes, each ' inside as '\'' : one word for sh and for GRUB's
 * script alike. malloc'd; NULL: out of memory. */
char *single_quoted(const char *s);
/* len bytes from outside (a bundle, a file on STATE) as text for a message on root's
 * terminal: bytes below 0x20, 0x7f and from 0x80 (C1 controls, in UTF-8 too) as \xHH,
 * so that none is a terminal control. Cut to fit size (not inside an escape). Returns out. */
const char *text_escaped(const void *p, size_t len, char *out, size_t size);
/* v (NULL: an empty vector) with a copy of s appended; out of memory: v as it was. */
char **strv_push(char **v, const char *s);
/* Sort v[0..n) in strcmp (byte) order. Insertion sort: the lists are short (a directory's
 * files), and qsort costs PID 1 2 KiB. */
void strv_sort(char **v, size_t n);
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
void log_msg(int prio, const char *fmt, ...) PRINTF_LIKE(2, 3);	 /* "IDENT: " + text */
void log_err(const struct err *e);				 /* "IDENT: " + e->msg */
/* The program's name in log_msg()'s prefix: "init" (default) or "provision". */
void log_set_ident(const char *name);
/* Lines go to stdout only, not /dev/kmsg (provision --root on the build host). */
void log_no_kmsg(void);
/* PID 1's console relay (pid1/klog.c): shows(prio) relays what there is and says whether
 * a line of prio is shown (NULL: no relay here; others read KLOG_LEVEL_FILE). */
void log_set_relay(bool (*shows)(int prio));
/* PID 1 (pid1/klog.c): the lines it writes to the console itself go to put, which never
 * waits for the console, instead of a write to fd 1 (NULL: that write). */
void log_set_console(void (*put)(const char *s, size_t n));
/* The kernel's console levels ("console_loglevel default_msg min_console default_console")
 * and whether it ignores them ('Y'): read by log.c and PID 1's relay. */
#define PRINTK_LEVELS	"/proc/sys/kernel/printk"
#define IGNORE_LOGLEVEL "/sys/module/printk/parameters/ignore_loglevel"

/* ---- cmdline.c: the kernel command line ----------------------------- */

/* Value of the last "key=value" of a /proc/cmdline text, before "--". Returns its length or -1. */
int cmdline_get(const char *line, const char *key, char *val, size_t size);
/* Read key as an unsigned number <= max. Returns 1 found, 0 absent, -1 invalid (e filled). */
int cmdline_uint(const char *line, const char *key, unsigned max, unsigned *out, struct err *e);
/* Booted from the live CD: the command line has wisp.live=1 (the ISO's grub.cfg sets it). */
bool cmdline_live(const char *line);

/* ---- hostname.c ------------------------------------------------------ */

/* First line of an /etc/hostname text, if it is a valid host name. Returns 0 or -1. */
int hostname_parse(const char *text, char *name, size_t size);
/* Set the host name from path, "wisp" if it has none. */
void hostname_setup(const char *path);
/* ---- etcfiles.c: /etc/hosts and resolv.conf's placeholder (ROOT's, init's, provision's) */

/* The /etc/hosts text for host name name. Returns its length or -1 if it does not fit. */
int etc_hosts_render(const char *name, char *buf, size_t size);
extern const char etc_resolv_placeholder[];

/* ---- spawn.c: fork/exec with setup errors reported back ------------- */

#define SPAWN_NOFILE_CUR 1024 /* a program's fd limit: the kernel's own default */
#define SPAWN_NOFILE_MAX 4096

struct spawn_req {
	char *const *argv;
	char *const *envp;
	const char *tty; /* controlling terminal on 0,1,2; NULL: /dev/null, console, console */
	const char *working_dir; /* NULL: "/" */
	/* fds 0-2 are always init's console (console_setup), so 0 can mean "none"
	 * and a zeroed request keeps the old behaviour. */
	int out_fd;    /* > 2 (and no tty): stdout and stderr; else the console */
	int cgroup_fd; /* > 2: a cgroup directory the child joins before anything else */
	int nice;      /* the child's, whatever its parent's (PID 1 lowers its own at boot) */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
	/* vfork: spawn() returns once the child has exec'd. Only for a program and a
	 * working directory on the image's own file systems (ROOT, /run): the wait
	 * includes the child's chdir and exec, endless on a hung network mount. */
	bool wait_exec;
};

/*
 * Start a program in its own session. *report gets the read end of a
 * close-on-exec pipe (non-blocking): EOF alone means exec succeeded;
 * text before EOF is the child's setup error ("exec /bin/x: ...").
 * report may be NULL: no pipe, a setup failure is only exit status 127.
 * The child joins r->cgroup_fd itself, before anything else, so that it
 * never runs a line of the program outside its limits.
 * With r->wait_exec it returns once the child has exec'd or ended: a setup error
 * is then already in the pipe. Returns the pid, or -1 if not even the fork happened.
 */
pid_t spawn(const struct spawn_req *r, int *report, struct err *e);
/* Read what is in a report pipe (non-blocking). Returns 1 on EOF, 0 if more may come. */
int spawn_read_report(int fd, char *buf, size_t size, size_t *len);
/* Wait for child pid to end until now_ms() reaches deadline, sleeping in poll(2) on its
 * pidfd (no polling). 1: it ended, reaped, *status set; 0: the deadline came first (it
 * still runs, not reaped); -1: e says why (it is then killed and reaped: a child that
 * cannot be waited for must not outlive its bound). Not for PID 1 (its loop reaps). */
int spawn_wait(pid_t pid, uint64_t deadline, int *status, struct err *e);

#endif /* WISP_LIB_BASE_H */

/* probe.h: what the escape probes share (docs/escape-suite.md).
 *
 * Every probe makes one attempt (or one family of attempts) and reports
 * one line, `PROBE <name> <RESULT> <detail>`:
 *   BLOCKED   the attempt failed as it must (the detail says how: errno)
 *   EXPECTED  the attempt succeeded and is allowed by design inside the
 *             container's own namespaces (Docker's default profile and
 *             capabilities allow it; the detail cites why)
 *   ESCAPED   the attempt succeeded and it must not have: a hole
 *   ERROR     the probe could not make its attempt (a failure of the suite)
 */
#ifndef ESCAPE_PROBE_H
#define ESCAPE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

enum res { BLOCKED, EXPECTED, ESCAPED, ERROR };

/* The host's marker file (the test writes it through user-data with
 * random contents): a directory from which it can be read is the host's. */
#define HOST_MARKER "var/lib/escape-marker"

/* Report one result; the detail is printf-style. Returns res. */
enum res report(const char *name, enum res res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* snprintf that may cut: details are cut at their buffer's size, on purpose. */
void fmt(char *dst, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* The errno of a failed attempt, as a word: "EPERM (Operation not permitted)". */
const char *errname(int err);
/* "/" of the container, stat'ed at start. */
extern struct stat root_st;

/* An attempt that is a plain system call: -1 with errno means BLOCKED,
 * anything else means ESCAPED (what a success gained is in why). */
enum res syscall_result(const char *name, long ret, int err, const char *why);

/* Runs fn in a child (namespace and root changes stay there) and returns
 * what the child reported, its detail in detail. */
enum res child_call(enum res (*fn)(void *arg, char *detail, size_t size), void *arg, char *detail,
		    size_t size);
/* Runs fn in a child (namespace and root changes stay there) and returns
 * what the child reported; detail as the child wrote it. */
enum res in_child(const char *name, enum res (*fn)(void *arg, char *detail, size_t size),
		  void *arg);

/* walk.c: where a directory fd leads. */
/* From DIR (any fd of a directory, O_PATH is enough), follow ".." to the
 * top and tell whether it is the container's own root. Fills detail. */
enum res judge_dir(int dir, char *detail, size_t size);
/* judge_dir on PATH (opened O_PATH|O_DIRECTORY); ENOENT etc. are BLOCKED. */
enum res judge_path(const char *path, char *detail, size_t size);

/* The groups of probes, one per file; each returns the number it ran. */
int probes_fds(void);			 /* fds.c: fds 3..1023, /proc links */
int probes_mounts(void);		 /* mounts.c */
int probes_ns(void);			 /* ns.c: unshare, setns, clone, clone3 */
int probes_calls(void);			 /* calls.c: keyctl, bpf, perf, io_uring, ... */
int probes_devices(void);		 /* devices.c: mknod + open */
int probes_files(void);			 /* files.c: /proc/sys, /sys, cgroup writes, masks */
int probes_net(bool own_netns);		 /* net.c */
int probes_watch(void);			 /* watch.c: health-check processes */
int probes_hcexe(void);			 /* watch.c: a health check exec'ing the runtime */
int probes_cwd(void);			 /* cwd.c: WorkingDir containers */
int probes_volumes(int n, char **paths); /* cwd.c: symlinked volumes */
int probes_restart(const char *variant); /* restart.c: 1 after planting, 0 after checking */
void plant(void);			 /* host.c: what the host-side checks look for */
int host_as(char **argv);		 /* host.c: run argv as uid:gid */

/* Records the fds open at start, before the probe opens any. */
void fds_record(void);

#endif

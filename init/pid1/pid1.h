/*
 * pid1/pid1.h: the one header of Wisp's PID 1: mounts, console, /etc,
 * STATE, the event loop, units and their dependencies, health checks,
 * restarts, logs, cgroups, container steps, the control socket, the power
 * button and shutdown. Everything here is internal to init/pid1 and its
 * unit tests.
 */
#ifndef WISP_PID1_H
#define WISP_PID1_H

#include "../lib/decl.h"
#include "../lib/paths.h"
#include "../lib/proto.h"

/* ---- printf.c: PID 1's snprintf/vsnprintf (integers and text only) ---- */

#include <stdarg.h>
int pid1_vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);

/* ---- console.c, sysfs.c, klog.c: the console ------------------------ */

/* Put /dev/console (or at worst /dev/null) on fds 0, 1 and 2. */
int console_setup(struct err *e);
/* The kernel's active console device ("/dev/ttyS0"): last entry of class/tty/console/active. */
int sysfs_active_console(const char *sys, char *path, size_t size, struct err *e);
/* klog.c: from klog_start() on (the loop set up) the kernel's records reach the console
 * through PID 1, escaped; klog_stop() (shutdown's end) gives the kernel its level back. */
void klog_start(void);
void klog_stop(void);
bool klog_shows(int prio); /* relay what there is: is a line of prio shown? (log.c) */

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

/* ---- rcu.c: expedited RCU grace periods while the boot runs ---------- */

/* Ask for them through path (/sys/kernel/rcu_expedited) unless already asked for. */
void rcu_boot_begin(const char *path);
/* Give the setting back (the boot's units have started); nothing if init did not take it. */
void rcu_boot_end(void);

/* ---- state.c: the STATE partition ----------------------------------- */

/* Find STATE on the root disk, fsck it, mount it on /var (live: the live CD's tmpfs
 * instead). Logs, never fails the boot. */
void state_setup(bool live);
/* Run a tool of the boot's storage to the end (state.c); its wait status or -1. */
int state_run(char *const argv[]);
/* A live boot: /var/lib/wisp as an ext4 in RAM (livestore.c). */
void live_store(void);
/* init's nice from the early units' spawn to its last boot step (main.c), and e2fsck's and
 * resize2fs's: CFS weight 110 against a nice-0 unit's 1024, a tenth of the CPU while
 * both run. */
#define BOOT_NICE 10
/* init's own fd limit (main.c): ~5 per unit, DECL_MAX_UNITS of them, the control socket's */
#define INIT_NOFILE 65536

/* ---- fsclean.c: does an ext4 file system need e2fsck? --------------- */

/* Would e2fsck -p check the file system of superblock sb (1024 bytes at offset 1024) at time
 * now (Unix seconds)? Returns 0 clean, 1 yes (why says why). */
int ext4_sb_check(const unsigned char sb[static 1024], int64_t now, char *why, size_t size);
/* The same for device dev; -1 (e filled) if its superblock cannot be read. */
int ext4_needs_check(const char *dev, int64_t now, char *why, size_t size, struct err *e);

/* ---- grow.c: grow the last GPT partition to the end of the disk ------ */

/* fd: the whole disk (or an image file) of size bytes, 512-byte sectors. If partition partno
 * (1-based) is the last and the disk has grown, move the backup GPT to the end and extend the
 * partition. Returns 1 grown (*new_end: its new last LBA), 0 nothing to do, -1 error. */
int gpt_grow(int fd, uint64_t size, unsigned partno, uint64_t *new_end, struct err *e);
uint32_t gpt_crc32(const void *buf, size_t len);

/* ---- etc.c: a writable /etc for this boot ---------------------------- */

/* tmpfs overlay on /etc (upper under /run/wisp/etc), then render hosts and resolv.conf. */
void etc_setup(void);

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

/* A signal taken off the signalfd: its number and sender. */
typedef void loop_signal_fn(int sig, pid_t from);

void signals_block(void);
/* epoll, the signalfd (each signal to fn) and the timerfd. */
int loop_setup(loop_signal_fn *fn, struct err *e);
int loop_watch(struct watch *w, struct err *e);
/* Also wake w when its fd is writable (a queue to send). Returns 0 or -1 (errno). */
int loop_watch_out(struct watch *w, bool out);
int loop_watch_writable(struct watch *w, bool on); /* EPOLLOUT only: not on a tty's input */
void loop_unwatch(struct watch *w);
void timer_start(struct timer *t, uint64_t due);
void timer_stop(struct timer *t);
/* Run the loop; returns only if it cannot go on (-1, e filled). */
int loop_run(struct err *e);

/* ---- dispatch.c: the top of PID 1: signals and ended children ------- */

/* Wire shutdown to the units (and the provision runner). */
void dispatch_setup(void);
/* The loop's signal handler: SIGCHLD reaps, the others ask for a shutdown. */
void dispatch_signal(int sig, pid_t from);
/* Collect every ended child and give it to whoever started it; tell shutdown when none is
 * left. */
void dispatch_reap(void);
/* Without a loop: reap and honour shutdown signals with sigwaitinfo. */
_Noreturn void dispatch_emergency(void);

/* ---- provrun.c: provision, run once per boot --------------------------- */

#define PROVISION_BIN	    "/usr/libexec/wisp/provision"
#define PROVISION_TIMEOUT_S 300u /* wisp.provision_timeout's default */

void provrun_set_timeout(unsigned seconds);
void provrun_set_report(const char *path); /* its failures' file (CLOUD_REPORT): tests */
/* Start provision (cgroup wisp/provision if cgroups); on failure once more with --safe;
 * done() once it is over: ok false if safe mode failed too. */
void provrun_start(bool cgroups, void (*done)(bool ok));
/* Was pid the provision run's? Then it is over, or safe mode starts. */
bool provrun_reaped(pid_t pid, int st);
/* Shutdown: no safe mode, no done() any more (the shutdown kills the run). */
void provrun_cancel(void);
/* Neither done nor cancelled yet. */
bool provrun_running(void);

/* ---- bootlog.c: the boot's timeline (`wispctl boot`) -------------------- */

/* An entry begins at start (now_ms()), after waiting for waited (NULL: nothing). Returns its
 * index for bootlog_end(), or -1 when the timeline is full. */
int bootlog_begin(const char *what, const char *waited, uint64_t start);
void bootlog_end(int i, uint64_t end); /* the first end counts; i -1: nothing */
void bootlog_step(const char *what, uint64_t start, uint64_t end);
/* Its lines, longest first ("TOOK STARTED WHAT (WAITED FOR)"), into buf. Returns the length
 * of the whole lines that fit. */
size_t bootlog_render(char *buf, size_t size, uint64_t now);

/* ---- lo.c ------------------------------------------------------------ */

int loopback_up(struct err *e); /* the kernel gives it its addresses */

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

/* Whether cgroup_setup() worked: units with resources need it. */
void units_set_cgroups(bool ok);
/* false: STATE (/var) is not mounted yet, containers wait ("waits for STATE"); true (the
 * default): they may start, and the ones waiting do. */
void units_state_ready(bool ready);
/* Load dir (DECL_DIR) and over (CLOUD_UNITS, or NULL), whose units replace dir's of the same
 * name, each from its DECL_UNITS_FILE (the problems it carries and those of the dependencies
 * are logged). Returns the number of units. */
size_t units_load(const char *dir, const char *over);
/* The units of dir declared early (and only depending on early ones: its DECL_EARLY_FILE),
 * before provision runs; units_load() later adds the others. Returns their count. */
size_t units_load_early(const char *dir);
void units_start_all(void);
/* A child ended: if it is a unit's (or a health check's), move its state machine. */
bool unit_reaped(pid_t pid, int st);
/* Each container's create that has ended, reaped before any other child (dispatch_reap()). */
void unit_reap_creates(void);
/* Shutdown: no more restarts; stop every unit, dependants first; done() once all have
 * stopped (maybe at once). */
void units_stop_all(void (*done)(void));
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
void ctr_set_bundles(const char *dir); /* where bundles are made (/run/wisp/bundles): tests */

/* ---- userns.c: each container's range of host ids, kept on STATE ----- */

#define USERNS_BASE 0x100000u /* the first range's first id (1048576) */
#define USERNS_SIZE 65536u
/* name's first host id: the one recorded, else the next never given (recorded). */
int userns_range(const char *name, uint32_t *base, struct err *e);
void userns_set_file(const char *path); /* where they are kept (/var/lib/wisp/userns): tests */

/* ---- cgroup.c: cgroup v2 --------------------------------------------- */

#define CGROUP_ROOT	       "/sys/fs/cgroup"
#define CGROUP_UNITS	       "wisp"	    /* the host's units: ROOT/wisp/NAME */
#define CGROUP_POOL	       "containers" /* ROOT/containers/NAME: one memory.max for all */
#define CGROUP_RESERVE_DEFAULT UINT64_MAX   /* no wisp.host_reserve=: cgroup_pool_max's own */

/* Make ROOT/init, ROOT/wisp and ROOT/containers, move init into ROOT/init. */
int cgroup_setup(const char *root, struct err *e);
/* Enable +cpu +memory +pids +io in ROOT and both parents, the pool's memory.max; once. */
void cgroup_controllers(const char *root);
void cgroup_set_reserve(uint64_t bytes); /* wisp.host_reserve= (0: the pool has no limit) */
/* The pool's memory.max for total bytes and a reserve, its pids.max for tasks; 0: none. */
uint64_t cgroup_pool_max(uint64_t total, uint64_t reserve);
uint64_t cgroup_pool_pids(uint64_t tasks);
/* Make ROOT/GROUP/NAME, write its limits; returns an O_DIRECTORY fd of it (for spawn). */
int cgroup_unit(const char *root, const char *group, const char *name, const struct resources *r,
		struct err *e);
/* SIGKILL everything in ROOT/GROUP/NAME (cgroup.kill, or one by one before 5.14); is anything
 * left in it? */
int cgroup_kill(int dir, const char *name, struct err *e);
bool cgroup_populated(int dir);

/* ---- logs.c: the units' output -> /var/log/wisp/<name>.log ----------- */

#define LOG_DIR		 "/var/log/wisp"
#define LOG_ROTATE_BYTES (1u << 20)
#define LOG_ROTATE_FILES 3u
#define LOG_LINE_MAX	 2048	     /* a longer line is cut in pieces of this size */
#define LOG_BATCH	 (16u << 10) /* stamped lines written at once (logs.c) */

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
	struct logsink *next_held; /* logs_hold(): opened, not yet read */
};

/* Where logs go and how big they grow (tests use a temp dir). */
void logs_configure(const char *dir, uint64_t max_bytes, unsigned files);
/* The pipe (watched by the loop) for unit name. */
int logs_open(struct logsink *l, const char *name, struct err *e);
/* Its process ended (or shutdown's release): what its pipe holds and an unfinished last
 * line written now, not when more output comes. */
void logs_end(struct logsink *l);
void logs_close(struct logsink *l);
/* While held (the boot's early units run before /var is mounted), a pipe is
 * opened but not read: the output waits in it (64 KiB) and reaches the
 * files once logs_release() lets the loop read it. */
void logs_hold(void);
void logs_release(void);
/* Shutdown: close every log file for good (so /var can be unmounted); output is dropped. */
void logs_shutdown(void);
/* Output of the program: complete lines are timestamped and written; the rest waits. */
void logs_feed(struct logsink *l, const char *buf, size_t len);
/* Called with every batch written (logs -f): whole lines ("2026-...Z text\n"), len bytes. */
void logs_set_observer(void (*fn)(const char *unit, const char *lines, size_t len));

/* ---- shutdown.c ------------------------------------------------------ */

enum shutdown_kind { SHUTDOWN_HALT, SHUTDOWN_POWEROFF, SHUTDOWN_REBOOT };

#define SHUTDOWN_GRACE_S 10u /* the whole sequence */
#define SHUTDOWN_KILL_WAIT_MS                                                                      \
	2000u /* after SIGKILL, how long to wait for the dead to be reaped                         \
	       */

/* What shutdown needs of the rest of PID 1 (dispatch.c gives it): it calls no unit itself. */
struct shutdown_ops {
	/* Stop every unit, dependants first; done() once all have stopped (maybe at once). */
	void (*stop_units)(void (*done)(void));
	bool (*units_stopped)(void);
	void (*release)(void); /* before /var is unmounted: let go of the units' log files */
};

void shutdown_setup(const struct shutdown_ops *ops);
void shutdown_set_grace(unsigned seconds);
void shutdown_request(enum shutdown_kind k, int sig, pid_t from);
/* The reaper found no child left. */
void shutdown_no_children(void);
/* During a shutdown, the last unit has stopped (stop_units' done). */
void shutdown_units_stopped(void);
/* Emergency path: everything in one go, waiting with sigtimedwait. */
void shutdown_now(enum shutdown_kind k); /* returns only if reboot(2) failed */
const char *shutdown_name(enum shutdown_kind k);

/* ---- control.c: the control socket server --------------------------- */

/* Listen on CONTROL_SOCK in the loop. Logs its errors; init runs on without it. */
void control_setup(void);

/* ---- powerbtn.c: the ACPI power button ------------------------------- */

/* Find the "Power Button" input device under sys; KEY_POWER requests a poweroff. */
void powerbtn_setup(const char *sys);

#endif /* WISP_PID1_H */

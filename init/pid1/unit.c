/*
 * unit.c: the unit table, and each unit's state machine.
 *
 * The state table is in docs/declarations.md ("States"). In short:
 *
 *   STOPPED --deps met--> STARTING --exec confirmed--> RUNNING --check ok--> HEALTHY
 *   RUNNING/HEALTHY --exit--> BACKOFF (restart wanted) --timer--> STARTING
 *                          \-> DONE (ended well) or FAILED (ended badly)
 *   any live state --stop--> STOPPING --exit--> STOPPED
 *
 * A unit learns about its process only through unit_reaped(), its
 * report pipe and its timers: nothing here waits. After every change of
 * state, schedule() looks at the whole table: units whose dependencies
 * now meet their conditions start; during a shutdown, units that no live
 * unit depends on any more are stopped (reverse dependency order).
 * Units are allocated one by one and never freed or moved: the loop
 * holds pointers to their timers and watches.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct unit {
	struct decl d;
	char **envp; /* built once from the declaration */
	enum unit_state state;
	uint64_t since; /* now_ms() when it entered state */
	pid_t pid;	/* while STARTING, RUNNING, HEALTHY, STOPPING */
	pid_t helper;	/* a container's runtime step while STARTING (container.c) */
	enum ctr_step step;
	uint64_t started; /* now_ms() at the last spawn */
	struct backoff backoff;
	struct timer restart; /* due while BACKOFF */
	struct timer kill;    /* due while STOPPING: stop_timeout */
	struct watch report;  /* the spawn report pipe while STARTING; fd -1 otherwise */
	char why[256];	      /* what the child reported: its setup failed */
	size_t whylen;
	struct hcheck hc;
	struct logsink log; /* w.fd -1: output to the console (tty, or no pipe) */
	int cgfd;	    /* its cgroup directory, -1 without cgroups */
	int *dep;	    /* index of each dependency in the table */
	unsigned restarts;
	int last_status;
	bool wanted;			/* should run: false after a stop by hand, until a start */
	bool again;			/* restart: start again once stopped */
	bool said_waiting;		/* "waits for" logged once per wait */
	bool in_bootlog;		/* its first start is in the boot's timeline */
	int boot_ev;			/* that entry, -1 none */
	char waited[DECL_NAME_MAX + 1]; /* what it last waited for before its first start */
};

static struct unit **units;
static size_t nunits, cap;
static bool booted, stopping_all, cgroups_ok, scheduling, rescan;
static bool state_pending; /* units_state_ready(false): /var is not mounted yet */
static const char *cg_root = CGROUP_ROOT;
static int devnull = -1;	  /* health checks' stdout and stderr */
static char **common_env;	  /* the declarations' top-level "environment", for every unit */
static void (*all_stopped)(void); /* units_stop_all()'s done */

const char *unit_state_name(enum unit_state s)
{
	static const char *const names[] = {
	    [U_STOPPED] = "stopped", [U_STARTING] = "starting", [U_RUNNING] = "running",
	    [U_HEALTHY] = "healthy", [U_BACKOFF] = "backoff",	[U_STOPPING] = "stopping",
	    [U_FAILED] = "failed",   [U_DONE] = "done",
	};

	return (size_t)s < ARRAY_LEN(names) ? names[s] : "?";
}

static bool live(const struct unit *u)
{
	return u->state == U_STARTING || u->state == U_RUNNING || u->state == U_HEALTHY ||
	       u->state == U_STOPPING;
}

static void schedule(void);

static void set_state(struct unit *u, enum unit_state s)
{
	u->state = s;
	u->since = now_ms();
	/* The timeline: a oneshot's start lasts until it is done, the others' until exec. */
	if ((s == U_RUNNING && u->d.kind != KIND_ONESHOT) || s == U_DONE || s == U_FAILED)
		bootlog_end(u->boot_ev, u->since);
	schedule();
}

/* ---- dependencies ---------------------------------------------------- */

static bool dep_met(const struct dep *p, const struct unit *k)
{
	bool done_ok = k->state == U_DONE;
	bool up = k->state == U_RUNNING || k->state == U_HEALTHY;

	switch (p->cond) {
	case DEP_COMPLETED:
		return done_ok;
	case DEP_HEALTHY:
		return k->state == U_HEALTHY || (up && !k->d.health.argv) || done_ok;
	case DEP_STARTED:
	case DEP_DEFAULT:
		break;
	}
	return up || done_ok;
}

/* The first dependency of u not met yet, or NULL. */
static const struct dep *unmet(const struct unit *u)
{
	for (size_t j = 0; j < u->d.ndeps; j++)
		if (!dep_met(&u->d.deps[j], units[u->dep[j]]))
			return &u->d.deps[j];
	return NULL;
}

static bool has_live_dependant(size_t i)
{
	for (size_t k = 0; k < nunits; k++)
		for (size_t j = 0; live(units[k]) && j < units[k]->d.ndeps; j++)
			if (units[k]->dep[j] == (int)i)
				return true;
	return false;
}

/* ---- starting -------------------------------------------------------- */

static void unit_ended(struct unit *u, int st, uint64_t ran_ms);
static void status_text(int st, char *buf, size_t size);

static void start_failed(struct unit *u, const struct err *e)
{
	log_msg(LOG_ERR, "%s: %s", u->d.name, e->msg);
	/* As if it had exited 127 at once: the restart policy decides. */
	unit_ended(u, 127 << 8, 0);
}

static bool has_limits(const struct resources *r)
{
	return r->cpu_weight || r->cpu_max[0] || r->memory_max || r->pids_max;
}

/* Containers share the pool's memory (cgroup.c); the host's units are beside it. */
static const char *cg_group(const struct unit *u)
{
	return u->d.kind == KIND_CONTAINER ? CGROUP_POOL : CGROUP_UNITS;
}

/* A limit the kernel refuses will be refused again: no restart loop. */
static int prepare_cgroup(struct unit *u)
{
	struct err e;

	if (u->cgfd >= 0)
		return 0;
	if (!cgroups_ok) {
		if (!has_limits(&u->d.res))
			return 0; /* nothing asked for that needs one */
		err_set(&e, 0, "resources need cgroups, which are not set up");
	} else if ((u->cgfd = cgroup_unit(cg_root, cg_group(u), u->d.name, &u->d.res, &e)) >= 0) {
		return 0;
	}
	log_msg(LOG_ERR, "%s: %s; not started", u->d.name, e.msg);
	u->wanted = false;
	set_state(u, U_FAILED);
	return -1;
}

static void prepare_log(struct unit *u)
{
	struct err e;

	if (u->d.tty || u->log.w.fd >= 0)
		return;
	if (logs_open(&u->log, u->d.name, &e) < 0)
		log_err(&e); /* its output goes to the console instead */
}

static void fill_req(struct unit *u, struct spawn_req *r)
{
	r->envp = u->envp;
	r->out_fd = u->log.wfd;
	if (u->d.kind == KIND_CONTAINER)
		return; /* the runtime on the host: working_dir and user are the container's */
	r->working_dir = u->d.working_dir;
	r->cgroup_fd = u->cgfd;
	r->set_uid = u->d.has_uid;
	r->uid = u->d.uid;
	r->set_gid = u->d.has_gid;
	r->gid = u->d.gid;
}

/* ---- containers: the runtime's steps, one short-lived child each ------ */

static int dev_null(void)
{
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	return devnull;
}

static void ctr_run(struct unit *u, enum ctr_step step)
{
	struct spawn_req r = {.argv = ctr_argv(&u->d, step)};
	struct err e;

	u->step = step;
	fill_req(u, &r);
	/* "does not exist" from the cleanup before every start says nothing */
	if (step == CTR_CLEAN && (r.out_fd = dev_null()) < 0)
		r.out_fd = 0;
	if (!r.argv) {
		err_set(&e, ENOMEM, "container");
		start_failed(u, &e);
		return;
	}
	u->helper = spawn(&r, NULL, &e);
	strv_free((char **)r.argv);
	if (u->helper < 0) {
		u->helper = 0;
		start_failed(u, &e);
	}
}

static void ctr_started(struct unit *u)
{
	log_msg(LOG_INFO, "%s started (container, pid %d)", u->d.name, (int)u->pid);
	health_start(&u->hc);
	set_state(u, U_RUNNING);
}

static bool ctr_step_failed(struct unit *u, int st)
{
	static const char *const what[] = {"delete", "image bundle", "create", "start"};
	char last[32];
	struct err e;

	if (u->step == CTR_CLEAN || (WIFEXITED(st) && WEXITSTATUS(st) == 0))
		return false;
	status_text(st, last, sizeof(last));
	err_set(&e, 0, "containerd-lite %s: %s (its error is in the unit's log)", what[u->step],
		last);
	if (u->pid > 0) {
		/* Created, not started: its end is the unit's end. */
		log_msg(LOG_ERR, "%s: %s", u->d.name, e.msg);
		kill(u->pid, SIGKILL);
	} else {
		start_failed(u, &e);
	}
	return true;
}

/* A step's child ended: the next step, or the unit's failure. */
static void ctr_step_done(struct unit *u, int st)
{
	struct err e;
	int sig;

	u->helper = 0;
	if (u->state == U_STOPPING && u->pid == 0)
		unit_ended(u, st, 0); /* stopped before there was a container */
	if (u->state != U_STARTING || ctr_step_failed(u, st))
		return;
	switch (u->step) {
	case CTR_CLEAN:
		ctr_run(u, CTR_BUNDLE);
		break;
	case CTR_BUNDLE:
		if (!u->d.stop_signal_set)
			u->d.stop_signal = (sig = ctr_stop_signal(u->d.name)) > 0 ? sig : SIGTERM;
		ctr_run(u, CTR_CREATE);
		break;
	case CTR_CREATE:
		if ((u->pid = ctr_pid(u->d.name, &e)) > 0) {
			ctr_run(u, CTR_START);
			break;
		}
		u->pid = 0;
		start_failed(u, &e);
		break;
	case CTR_START:
		ctr_started(u);
		break;
	}
}

/* network: NAME: NAME's user namespace too (image/netjoin.c), whose ids
 * its root and files then have. NAME has started (a dependency). */
static void share_userns(struct unit *u)
{
	int k = unit_find(u->d.net_peer);

	if (k >= 0) {
		u->d.host_userns = units[k]->d.host_userns;
		u->d.userns_base = units[k]->d.userns_base;
	}
}

static void unit_spawn(struct unit *u)
{
	struct spawn_req r = {.argv = u->d.argv};
	char tty[PATH_MAX];
	struct err e;
	pid_t pid;
	int fd;

	u->said_waiting = false;
	if (!u->in_bootlog) {
		u->in_bootlog = true;
		u->boot_ev = bootlog_begin(u->d.name, u->waited[0] ? u->waited : NULL, now_ms());
	}
	if (prepare_cgroup(u) < 0)
		return;
	prepare_log(u);
	if (u->d.kind == KIND_CONTAINER) {
		u->pid = 0;
		u->started = now_ms();
		set_state(u, U_STARTING);
		if (u->d.net_peer)
			share_userns(u);
		if (!u->d.host_userns && !u->d.userns_base &&
		    userns_range(u->d.name, &u->d.userns_base, &e) < 0) {
			start_failed(u, &e);
			return;
		}
		ctr_run(u, CTR_CLEAN);
		return;
	}
	fill_req(u, &r);
	/* Before STATE's mount (the early units) nothing but the image's own file systems
	 * is mounted: the first unit starts at once (spawn.c). After, a unit's directory
	 * may be on a network mount: init must never wait for it. */
	r.wait_exec = state_pending;
	/* "console" is resolved at every start: the active console is the
	 * kernel's choice (console=), not the declaration's. */
	r.tty = u->d.tty;
	if (r.tty && strcmp(r.tty, "console") == 0) {
		if (sysfs_active_console("/sys", tty, sizeof(tty), &e) < 0) {
			err_ctx(&e, "tty console");
			start_failed(u, &e);
			return;
		}
		r.tty = tty;
	}
	pid = spawn(&r, &fd, &e);
	if (pid < 0) {
		start_failed(u, &e);
		return;
	}
	u->pid = pid;
	u->started = now_ms();
	u->whylen = 0;
	u->why[0] = '\0';
	u->report.fd = fd;
	if (loop_watch(&u->report, &e) < 0) {
		/* Cannot hear the report: take the start as good; unit_reaped() still reads it. */
		log_err(&e);
		close(fd);
		u->report.fd = -1;
		log_msg(LOG_INFO, "%s started (pid %d)", u->d.name, (int)pid);
		health_start(&u->hc);
		set_state(u, U_RUNNING);
		return;
	}
	set_state(u, U_STARTING);
}

/* The spawn report is complete: an empty one means exec worked. */
static void report_done(struct unit *u)
{
	loop_unwatch(&u->report);
	close(u->report.fd);
	u->report.fd = -1;
	if (u->whylen > 0) {
		log_msg(LOG_ERR, "%s: %s", u->d.name, u->why);
		return; /* it exits 127; unit_reaped() takes it from there */
	}
	log_msg(LOG_INFO, "%s started (pid %d)", u->d.name, (int)u->pid);
	if (u->state == U_STARTING) {
		health_start(&u->hc);
		set_state(u, U_RUNNING);
	}
}

static void on_report(struct watch *w, uint32_t events)
{
	struct unit *u = container_of(w, struct unit, report);

	(void)events;
	if (spawn_read_report(w->fd, u->why, sizeof(u->why), &u->whylen))
		report_done(u);
}

static void on_restart(struct timer *t)
{
	struct unit *u = container_of(t, struct unit, restart);

	if (u->state == U_BACKOFF && !stopping_all) {
		u->restarts++;
		unit_spawn(u);
	}
}

static void on_health(struct hcheck *h)
{
	struct unit *u = container_of(h, struct unit, hc);

	if (h->state == H_HEALTHY && u->state == U_RUNNING) {
		log_msg(LOG_INFO, "%s is healthy", u->d.name);
		set_state(u, U_HEALTHY);
	} else if (h->state == H_UNHEALTHY) {
		log_msg(LOG_WARNING, "%s is unhealthy", u->d.name);
		if (u->state == U_HEALTHY)
			set_state(u, U_RUNNING);
	}
}

/* The check runs like its unit: same cgroup, user, environment; no output kept. */
static pid_t run_check(struct hcheck *h)
{
	struct unit *u = container_of(h, struct unit, hc);
	struct spawn_req r = {.argv = u->d.health.argv};
	struct err e;
	pid_t pid;

	fill_req(u, &r);
	/* Its output says nothing the exit status does not: dropped, not logged. */
	r.out_fd = dev_null();
	pid = spawn(&r, NULL, &e);
	if (pid < 0)
		log_msg(LOG_ERR, "%s: health check: %s", u->d.name, e.msg);
	return pid;
}

/* ---- ending and stopping --------------------------------------------- */

static void log_status(const struct unit *u, int st)
{
	if (WIFSIGNALED(st))
		log_msg(LOG_INFO, "%s killed by signal %d", u->d.name, WTERMSIG(st));
	else
		log_msg(LOG_INFO, "%s exited with status %d", u->d.name, WEXITSTATUS(st));
}

static void status_text(int st, char *buf, size_t size)
{
	if (WIFSIGNALED(st))
		snprintf(buf, size, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, size, "status %d", WEXITSTATUS(st));
}

/* After an end (exit, or a start that failed): restart later, or rest. */
static void begin_stop(struct unit *u);

/* A container whose network namespace was U's (network: U) stops with it
 * and starts again once U has (its dependency): the namespace it holds
 * lost U's interfaces, as a pod's containers go with its sandbox. */
static void net_followers_stop(const struct unit *u)
{
	for (size_t k = 0; k < nunits; k++) {
		struct unit *f = units[k];
		if (f->d.net_peer && !strcmp(f->d.net_peer, u->d.name) && live(f) &&
		    f->state != U_STOPPING) {
			log_msg(LOG_INFO, "%s stops with %s (its network)", f->d.name, u->d.name);
			f->again = true;
			begin_stop(f);
		}
	}
}

static void unit_ended(struct unit *u, int st, uint64_t ran_ms)
{
	char last[32];
	uint32_t delay;

	u->pid = 0;
	u->helper = 0;
	u->last_status = st;
	health_stop(&u->hc);
	if (u->d.kind == KIND_CONTAINER) {
		ctr_release(u->d.name);
		net_followers_stop(u);
	}
	timer_stop(&u->kill);
	/* Whatever it left behind in its cgroup goes with it. */
	if (u->cgfd >= 0 && cgroup_populated(u->cgfd)) {
		struct err e;
		if (cgroup_kill(u->cgfd, u->d.name, &e) < 0)
			log_err(&e);
	}
	if (u->state == U_STOPPING || stopping_all || !u->wanted) {
		bool again = u->again && !stopping_all;
		u->again = false;
		set_state(u, U_STOPPED);
		if (again)
			schedule();
		return;
	}
	if (!restart_wanted(u->d.restart, st)) {
		u->wanted = false;
		set_state(u, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? U_DONE : U_FAILED);
		return;
	}
	delay = backoff_next_cfg(&u->backoff, ran_ms, u->d.backoff_initial_ms, u->d.backoff_max_ms,
				 u->d.backoff_reset_ms);
	timer_start(&u->restart, now_ms() + delay);
	status_text(st, last, sizeof(last));
	log_msg(LOG_INFO, "%s restarts in %u.%03u s (restarts so far %u, last exit %s)", u->d.name,
		delay / 1000, delay % 1000, u->restarts, last);
	set_state(u, U_BACKOFF);
}

static void unit_signal(struct unit *u, int sig)
{
	/* A container not created yet: its runtime step. (pid 0 would be init's own group.) */
	if (u->pid <= 0) {
		if (u->helper > 0)
			kill(u->helper, sig);
		return;
	}
	/* The unit's whole process group: it is a session leader (spawn.c).
	 * Before its setsid() there is no group yet; then the process alone. */
	if (kill(-u->pid, sig) < 0)
		kill(u->pid, sig);
}

static void on_kill(struct timer *t)
{
	struct unit *u = container_of(t, struct unit, kill);
	struct err e;

	if (u->state != U_STOPPING)
		return;
	log_msg(LOG_WARNING, "%s did not stop within %u.%03u s: SIGKILL", u->d.name,
		u->d.stop_timeout_ms / 1000, u->d.stop_timeout_ms % 1000);
	if (u->helper > 0)
		kill(u->helper, SIGKILL);
	if (u->cgfd >= 0 && cgroup_kill(u->cgfd, u->d.name, &e) == 0)
		return;
	unit_signal(u, SIGKILL);
}

static void begin_stop(struct unit *u)
{
	switch (u->state) {
	case U_BACKOFF:
		timer_stop(&u->restart);
		set_state(u, U_STOPPED);
		break;
	case U_STARTING:
	case U_RUNNING:
	case U_HEALTHY:
		health_stop(&u->hc);
		unit_signal(u, u->d.stop_signal);
		/* On a terminal, also what a hangup sends: an interactive
		 * shell ignores SIGTERM, not SIGHUP (systemd's SendSIGHUP). */
		if (u->d.tty)
			unit_signal(u, SIGHUP);
		unit_signal(u, SIGCONT);
		timer_start(&u->kill, now_ms() + u->d.stop_timeout_ms);
		set_state(u, U_STOPPING);
		break;
	default:
		break;
	}
}

/* ---- the scheduler --------------------------------------------------- */

/* Containers start after the boot's image import, if there is one (imgimport.c). */
static bool images_pending(void)
{
	int k = unit_find(IMAGE_IMPORT);

	return k >= 0 && (live(units[k]) || (units[k]->wanted && units[k]->state == U_STOPPED));
}

/* PATH on STATE (/var or below): before STATE's mount, the image's own empty /var. */
static bool on_var(const char *path)
{
	return path && strncmp(path, "/var", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

/* Before STATE's mount, what an early unit cannot start without: a container's image
 * and writable layer, a service's working directory or program on /var. */
static bool needs_state(const struct unit *u)
{
	return u->d.kind == KIND_CONTAINER || on_var(u->d.working_dir) ||
	       (u->d.argv && on_var(u->d.argv[0]));
}

static bool try_start(struct unit *u)
{
	const struct dep *p;

	const char *why = NULL;

	if (!u->wanted || u->state != U_STOPPED)
		return false;
	if ((p = unmet(u)))
		why = p->name;
	else if (state_pending && needs_state(u))
		why = "STATE";
	else if (u->d.kind == KIND_CONTAINER && images_pending())
		why = IMAGE_IMPORT;
	if (why) {
		if (!u->said_waiting)
			log_msg(LOG_INFO, "%s waits for %s", u->d.name, why);
		snprintf(u->waited, sizeof(u->waited), "%s", why);
		u->said_waiting = true;
		return false;
	}
	unit_spawn(u);
	return true;
}

/* Shutdown: a live unit no live unit depends on may stop now. */
static bool try_stop(size_t i)
{
	struct unit *u = units[i];

	if (!(live(u) && u->state != U_STOPPING) && u->state != U_BACKOFF)
		return false;
	if (has_live_dependant(i))
		return false;
	begin_stop(u);
	return true;
}

/* Runs the table to a fixed point; set_state() inside it only asks for another pass. */
static void schedule(void)
{
	if (!booted && !stopping_all)
		return; /* before units_start_all() */
	if (scheduling) {
		rescan = true;
		return;
	}
	scheduling = true;
	do {
		rescan = false;
		for (size_t i = 0; i < nunits; i++)
			if (stopping_all)
				try_stop(i);
			else
				try_start(units[i]);
	} while (rescan);
	scheduling = false;
	if (stopping_all && all_stopped && units_all_stopped()) {
		void (*done)(void) = all_stopped;
		all_stopped = NULL; /* once */
		done();
	}
}

/* ---- the table ------------------------------------------------------- */

static struct unit *unit_by_pid(pid_t pid)
{
	for (size_t i = 0; i < nunits; i++)
		if (units[i]->pid == pid && live(units[i]))
			return units[i];
	return NULL;
}

static struct unit *unit_by_helper(pid_t pid)
{
	for (size_t i = 0; i < nunits; i++)
		if (units[i]->helper == pid)
			return units[i];
	return NULL;
}

/* Each container's create that has ended, reaped: dispatch.c calls this before it reaps
 * any other child, so that the pid a create wrote is the unit's before that process can be
 * reaped as nobody's (dispatch_reap() says why). */
void unit_reap_creates(void)
{
	int st;

	for (size_t i = 0; i < nunits; i++)
		if (units[i]->helper > 0 && units[i]->step == CTR_CREATE &&
		    waitpid(units[i]->helper, &st, WNOHANG | __WALL) == units[i]->helper)
			ctr_step_done(units[i], st);
}

bool unit_reaped(pid_t pid, int st)
{
	struct unit *u = unit_by_pid(pid);

	if (!u && (u = unit_by_helper(pid))) {
		ctr_step_done(u, st);
		return true;
	}
	if (!u) {
		for (size_t i = 0; i < nunits; i++)
			if (health_reaped(&units[i]->hc, pid, st))
				return true;
		return false;
	}
	/* It is dead, so everything it wrote to the report pipe is there. */
	if (u->report.fd >= 0) {
		spawn_read_report(u->report.fd, u->why, sizeof(u->why), &u->whylen);
		report_done(u);
	}
	/* Its last words: read now, not after a restart, before the log says it ended. */
	logs_end(&u->log);
	/* A failed setup was logged as such; its exit 127 would say nothing more. */
	if (u->whylen == 0)
		log_status(u, st);
	unit_ended(u, st, now_ms() - u->started);
	return true;
}

static int grow_table(struct err *e)
{
	struct unit **v;

	if (nunits < cap)
		return 0;
	v = realloc(units, (cap ? cap * 2 : 16) * sizeof(*v));
	if (!v)
		return err_set(e, ENOMEM, "unit table");
	units = v;
	cap = cap ? cap * 2 : 16;
	return 0;
}

/* Move d into a new unit at the end of the table; resolve_deps() comes next. */
static struct unit *add_unit(struct decl *d, struct err *e)
{
	struct unit *u;

	if (grow_table(e) < 0)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u || (d->ndeps && !(u->dep = calloc(d->ndeps, sizeof(*u->dep))))) {
		free(u);
		err_set(e, ENOMEM, "unit %s", d->name);
		return NULL;
	}
	u->d = *d;
	memset(d, 0, sizeof(*d));
	u->state = U_STOPPED;
	u->since = now_ms();
	u->report = (struct watch){.fd = -1, .ready = on_report};
	u->restart.fire = on_restart;
	u->kill.fire = on_kill;
	u->hc.cfg = &u->d.health;
	u->hc.changed = on_health;
	u->hc.run = run_check;
	u->log.w.fd = u->log.wfd = u->log.file = -1;
	u->cgfd = -1;
	u->boot_ev = -1;
	u->last_status = -1;
	u->wanted = true;
	u->envp = decl_environ(&u->d, common_env);
	if (u->d.kind == KIND_CONTAINER && u->d.health.argv) {
		char **x = ctr_exec_argv(u->d.name, u->d.health.argv);
		strv_free(u->d.health.argv);
		u->d.health.argv = x; /* NULL: no memory, no check (the unit still runs) */
	}
	units[nunits++] = u;
	return u;
}

/* Table indices of u's dependencies: once every unit of a load is in. */
static int resolve_deps(struct unit *u, struct err *e)
{
	for (size_t j = 0; j < u->d.ndeps; j++) {
		u->dep[j] = unit_find(u->d.deps[j].name);
		if (u->dep[j] < 0)
			return err_set(e, 0, "%s: unknown dependency \"%s\"", u->d.name,
				       u->d.deps[j].name);
	}
	return 0;
}

static void log_decl_error(void *ctx, const char *msg)
{
	(void)ctx;
	log_msg(LOG_ERR, "%s", msg);
}

static void log_decl_note(void *ctx, const char *msg)
{
	(void)ctx;
	log_msg(LOG_INFO, "%s", msg);
}

/* Every unit's dependencies as table indices, once a load has added its units. */
static void resolve_all(void)
{
	struct err e;

	for (size_t i = 0; i < nunits; i++)
		if (resolve_deps(units[i], &e) < 0) {
			/* deps_check() makes this impossible; contained all the same */
			log_err(&e);
			units[i]->wanted = false;
			units[i]->state = U_FAILED;
			units[i]->d.ndeps = 0;
		}
}

/*
 * dir's declarations as their writer compiled them (lib/declbin.c): image-builder
 * ROOT's, provision its own. PID 1 parses no YAML. The problems the writer found
 * are said here, as parsing the YAML would have said them; a file that cannot be
 * read costs its units, in one line (then: what follows it).
 */
static void load_compiled(const char *dir, const char *file, struct decls *set, const char *then)
{
	char path[256];
	struct err e;

	/* a path cut short is not found, and said so */
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (declbin_read(set, path, &e) < 0)
		log_msg(LOG_WARNING, "%s; %s", e.msg, then);
	for (size_t i = 0; set->errors && set->errors[i]; i++)
		log_decl_error(NULL, set->errors[i]);
}

/* ROOT's early units alone: a root without their file (not made by image-builder), or
 * with one that another init's table wrote, has none; they start after provisioning. */
size_t units_load_early(const char *dir)
{
	struct decls set = {0};
	struct err e;

	load_compiled(dir, DECL_EARLY_FILE, &set, "no unit starts before provisioning");
	common_env = set.environment;
	set.environment = NULL;
	for (size_t i = 0; i < set.n; i++)
		if (!add_unit(&set.v[i], &e))
			log_err(&e);
	resolve_all();
	decls_free(&set);
	return nunits;
}

void units_set_cgroups(bool ok)
{
	cgroups_ok = ok;
}

void units_state_ready(bool ready)
{
	state_pending = !ready;
	if (ready)
		schedule();
}

size_t units_load(const char *dir, const char *overlay_dir)
{
	struct decls set = {0}, over = {0};
	struct err e;

	load_compiled(dir, DECL_UNITS_FILE, &set, "none of its units is loaded");
	if (overlay_dir) {
		load_compiled(overlay_dir, DECL_UNITS_FILE, &over, "none of its units is loaded");
		decls_overlay(&set, &over, log_decl_note, NULL);
	}
	deps_check(&set, log_decl_error, NULL);
	strv_free(common_env);
	common_env = set.environment;
	set.environment = NULL;
	/* Declaration order (the order of `wispctl ps`, and of starts among
	 * units ready at the same time); dependencies may come later in it. */
	for (size_t i = 0; i < set.n; i++)
		if (unit_find(set.v[i].name) >= 0)
			decl_clear(&set.v[i]); /* early: added and started already */
		else if (!add_unit(&set.v[i], &e)) {
			log_err(&e);
			decl_clear(&set.v[i]);
		}
	resolve_all();
	decls_free(&set);
	log_msg(LOG_INFO, "%zu unit%s declared in %s%s%s", nunits, nunits == 1 ? "" : "s", dir,
		overlay_dir ? " and " : "", overlay_dir ? overlay_dir : "");
	return nunits;
}

void units_start_all(void)
{
	booted = true;
	for (size_t i = 0; i < nunits; i++)
		if (!units[i]->envp) {
			log_msg(LOG_ERR, "%s: environment: out of memory", units[i]->d.name);
			units[i]->wanted = false;
			set_state(units[i], U_FAILED);
		}
	schedule();
}

void units_stop_all(void (*done)(void))
{
	all_stopped = done;
	stopping_all = true;
	for (size_t i = 0; i < nunits; i++)
		units[i]->wanted = false;
	schedule();
}

bool units_all_stopped(void)
{
	for (size_t i = 0; i < nunits; i++)
		if (live(units[i]))
			return false;
	return true;
}

void units_release(void)
{
	/* Every process has ended: what their pipes hold goes to the files first. */
	for (size_t i = 0; i < nunits; i++)
		logs_end(&units[i]->log);
	logs_shutdown();
	for (size_t i = 0; i < nunits; i++)
		if (units[i]->log.file >= 0) {
			close(units[i]->log.file);
			units[i]->log.file = -1;
		}
}

/* ---- the API of the control socket ----------------------------------- */

size_t units_count(void)
{
	return nunits;
}

/* A container's ids: "host", its first host id, "" before it has one. */
static void userns_text(const struct unit *u, char *buf, size_t size)
{
	buf[0] = '\0';
	if (u->d.kind == KIND_CONTAINER && u->d.host_userns)
		snprintf(buf, size, "host");
	else if (u->d.kind == KIND_CONTAINER && u->d.userns_base)
		snprintf(buf, size, "%u", u->d.userns_base);
}

int unit_info_at(size_t i, struct unit_info *out)
{
	const struct unit *u;

	if (i >= nunits)
		return -1;
	u = units[i];
	*out = (struct unit_info){
	    .name = u->d.name,
	    .kind = kind_name(u->d.kind),
	    .state = u->state,
	    .pid = live(u) ? u->pid : 0,
	    .since_ms = u->since,
	    .restarts = u->restarts,
	    .last_status = u->last_status,
	    .health = health_name(u->hc.state),
	};
	userns_text(u, out->userns, sizeof(out->userns));
	return 0;
}

int unit_find(const char *name)
{
	for (size_t i = 0; i < nunits; i++)
		if (!strcmp(units[i]->d.name, name))
			return (int)i;
	return -1;
}

static struct unit *named(const char *name, struct err *e)
{
	int i = unit_find(name);

	if (i < 0) {
		err_set(e, ENOENT, "no unit \"%s\"", name);
		e->num = ENOENT;
		return NULL;
	}
	if (stopping_all) {
		err_set(e, ESHUTDOWN, "%s: shutting down", name);
		return NULL;
	}
	return units[i];
}

int unit_start(const char *name, struct err *e)
{
	struct unit *u = named(name, e);

	if (!u)
		return -1;
	u->wanted = true;
	switch (u->state) {
	case U_BACKOFF:
		timer_stop(&u->restart);
		unit_spawn(u);
		break;
	case U_FAILED:
	case U_DONE:
		u->backoff.next_ms = 0;
		set_state(u, U_STOPPED);
		break;
	case U_STOPPING:
		u->again = true;
		break;
	default:
		schedule();
		break;
	}
	return 0;
}

int unit_stop(const char *name, struct err *e)
{
	struct unit *u = named(name, e);

	if (!u)
		return -1;
	u->wanted = false;
	u->again = false;
	begin_stop(u);
	return 0;
}

int unit_restart(const char *name, struct err *e)
{
	struct unit *u = named(name, e);

	if (!u)
		return -1;
	if (live(u) && u->state != U_STOPPING) {
		u->wanted = true;
		u->again = true;
		begin_stop(u);
		return 0;
	}
	return unit_start(name, e);
}

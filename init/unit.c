/*
 * unit.c: the unit table, and each unit's state machine.
 *
 *   STOPPED --start--> STARTING --exec confirmed--> RUNNING
 *   STARTING/RUNNING --exit--> BACKOFF (restart wanted) --timer--> STARTING
 *                           \-> DONE (ended well) or FAILED (ended badly)
 *   STARTING/RUNNING --stop (shutdown)--> STOPPING --exit--> STOPPED
 *
 * A unit is a declared service now; containers and one-shot tasks will
 * be units too, with dependencies and health checks moving the same
 * states. A unit only learns about its process through unit_reaped()
 * and its report pipe: nothing here waits.
 */
#include "init.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct unit {
	struct decl d;
	char **envp; /* built once from the declaration */
	enum unit_state state;
	pid_t pid;	  /* while STARTING, RUNNING, STOPPING */
	uint64_t started; /* now_ms() at the last spawn */
	struct backoff backoff;
	struct timer restart; /* due while BACKOFF */
	struct watch report;  /* the spawn report pipe while STARTING; fd -1 otherwise */
	char why[256];	      /* what the child reported: its setup failed */
	size_t whylen;
};

static struct unit *units;
static size_t nunits;
static bool stopping_all;

const char *unit_state_name(enum unit_state s)
{
	static const char *const names[] = {
	    [U_STOPPED] = "stopped", [U_STARTING] = "starting", [U_RUNNING] = "running",
	    [U_BACKOFF] = "backoff", [U_STOPPING] = "stopping", [U_FAILED] = "failed",
	    [U_DONE] = "done",
	};

	return (size_t)s < ARRAY_LEN(names) ? names[s] : "?";
}

static void unit_start(struct unit *u);

/* After an end (exit, or a start that failed): restart later, or rest. */
static void unit_ended(struct unit *u, int st, uint64_t ran_ms)
{
	uint32_t delay;

	u->pid = 0;
	if (u->state == U_STOPPING || stopping_all) {
		u->state = U_STOPPED;
		return;
	}
	if (!restart_wanted(u->d.restart, st)) {
		u->state = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? U_DONE : U_FAILED;
		return;
	}
	delay = backoff_next(&u->backoff, ran_ms);
	u->state = U_BACKOFF;
	timer_start(&u->restart, now_ms() + delay);
	log_msg(LOG_INFO, "%s restarts in %u.%u s", u->d.name, delay / 1000, delay % 1000 / 100);
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
	if (u->state == U_STARTING)
		u->state = U_RUNNING;
	log_msg(LOG_INFO, "%s started (pid %d)", u->d.name, (int)u->pid);
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

	if (u->state == U_BACKOFF && !stopping_all)
		unit_start(u);
}

static void start_failed(struct unit *u, const struct err *e)
{
	log_msg(LOG_ERR, "%s: %s", u->d.name, e->msg);
	/* As if it had exited 127 at once: the restart policy decides. */
	unit_ended(u, 127 << 8, 0);
}

static void unit_start(struct unit *u)
{
	struct spawn_req r = {.argv = u->d.argv, .envp = u->envp, .working_dir = u->d.working_dir};
	char tty[PATH_MAX];
	struct err e;
	pid_t pid;
	int fd;

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
	u->state = U_STARTING;
	u->whylen = 0;
	u->why[0] = '\0';
	u->report.fd = fd;
	if (loop_watch(&u->report, &e) < 0) {
		/* Cannot hear the report: take the start as good; unit_reaped() still reads it. */
		log_err(&e);
		u->state = U_RUNNING;
		log_msg(LOG_INFO, "%s started (pid %d)", u->d.name, (int)pid);
	}
}

static struct unit *unit_by_pid(pid_t pid)
{
	for (size_t i = 0; i < nunits; i++)
		if (units[i].pid == pid &&
		    (units[i].state == U_STARTING || units[i].state == U_RUNNING ||
		     units[i].state == U_STOPPING))
			return &units[i];
	return NULL;
}

bool unit_reaped(pid_t pid, int st)
{
	struct unit *u = unit_by_pid(pid);

	if (!u)
		return false;
	/* It is dead, so everything it wrote to the report pipe is there. */
	if (u->report.fd >= 0) {
		spawn_read_report(u->report.fd, u->why, sizeof(u->why), &u->whylen);
		report_done(u);
	}
	/* A failed setup was logged as such; its exit 127 would say nothing more. */
	if (u->whylen == 0) {
		if (WIFSIGNALED(st))
			log_msg(LOG_INFO, "%s killed by signal %d", u->d.name, WTERMSIG(st));
		else
			log_msg(LOG_INFO, "%s exited with status %d", u->d.name, WEXITSTATUS(st));
	}
	unit_ended(u, st, now_ms() - u->started);
	return true;
}

static void log_decl_error(void *ctx, const char *msg)
{
	(void)ctx;
	log_msg(LOG_ERR, "%s", msg);
}

size_t units_load(const char *dir)
{
	struct decls set = {0};

	decl_load_dir(&set, dir, log_decl_error, NULL);
	if (set.n > 0 && !(units = calloc(set.n, sizeof(*units)))) {
		log_msg(LOG_ERR, "%s: out of memory for %zu units", dir, set.n);
		decls_free(&set);
		return 0;
	}
	for (size_t i = 0; i < set.n; i++) {
		struct unit *u = &units[i];

		u->d = set.v[i]; /* the unit owns its declaration from now on */
		u->state = U_STOPPED;
		u->report = (struct watch){.fd = -1, .ready = on_report};
		u->restart.fire = on_restart;
		u->envp = decl_environ(&u->d);
	}
	nunits = set.n;
	free(set.v);
	log_msg(LOG_INFO, "%zu program%s declared in %s", nunits, nunits == 1 ? "" : "s", dir);
	return nunits;
}

void units_start_all(void)
{
	struct err e;

	for (size_t i = 0; i < nunits; i++) {
		struct unit *u = &units[i];

		if (u->state != U_STOPPED)
			continue;
		if (!u->envp) {
			err_set(&e, ENOMEM, "environment");
			log_msg(LOG_ERR, "%s: %s", u->d.name, e.msg);
			u->state = U_FAILED;
			continue;
		}
		unit_start(u);
	}
}

/* The unit's whole process group: it is a session leader (spawn.c). Before
 * its setsid() there is no group yet; then the process alone. */
static void unit_signal(struct unit *u, int sig)
{
	if (kill(-u->pid, sig) < 0)
		kill(u->pid, sig);
}

void units_stop_all(void)
{
	stopping_all = true;
	for (size_t i = 0; i < nunits; i++) {
		struct unit *u = &units[i];

		switch (u->state) {
		case U_BACKOFF:
			timer_stop(&u->restart);
			u->state = U_STOPPED;
			break;
		case U_STARTING:
		case U_RUNNING:
			unit_signal(u, SIGTERM);
			/* On a terminal, also what a hangup sends: an interactive
			 * shell ignores SIGTERM, not SIGHUP (systemd's SendSIGHUP). */
			if (u->d.tty)
				unit_signal(u, SIGHUP);
			unit_signal(u, SIGCONT);
			u->state = U_STOPPING;
			break;
		default:
			break;
		}
	}
}

/*
 * provrun.c: PID 1 runs provision (docs/provisioning.md), once per boot.
 *
 * /usr/libexec/wisp/provision turns what a cloud sends into files: the
 * declarations of /run/wisp/units and the report of `wispctl config`.
 * PID 1 never reads its bytes, only waits for its end, from the loop (so
 * the control socket answers during a slow metadata service): its exit
 * comes through the reap dispatch, its deadline through a timer. A
 * failure (an exit status other than 0, a signal, the deadline) is one
 * console line and an "error: ..." line in the report, then one more run
 * in safe mode (`--safe`: the image's baked configuration only). Whatever
 * the outcome, done() is called once: the units are loaded after it (if
 * safe mode failed too, only the image's: done(false)).
 * It runs in its own cgroup, wisp/provision, so that the deadline kills
 * everything it started, not only itself.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROVISION_CGROUP "provision"

static struct {
	pid_t pid;	    /* the running one, 0 none */
	int boot_ev;	    /* its entry in the boot's timeline */
	int report;	    /* its spawn report pipe, -1 none */
	int cgfd;	    /* wisp/provision, -1 without cgroups */
	bool safe;	    /* this run is the safe-mode rerun (index of name[]) */
	bool late;	    /* it passed its deadline and was killed */
	bool over;	    /* done() was called, or a shutdown cancelled it */
	unsigned timeout_s; /* wisp.provision_timeout */
	uint64_t t0;
	void (*done)(bool ok);
	struct timer deadline;
} pr = {.report = -1, .cgfd = -1, .timeout_s = PROVISION_TIMEOUT_S};

static const char *const name[] = {"provision", "provision --safe"};
static const char *report_path = CLOUD_REPORT;

void provrun_set_timeout(unsigned seconds)
{
	pr.timeout_s = seconds;
}

void provrun_set_report(const char *path)
{
	report_path = path;
}

/* "error: TEXT" at the end of the report, so that `wispctl config` shows it. */
static void report_error(const char *text)
{
	char line[320];
	int fd = open(report_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int n = snprintf(line, sizeof(line), "error: %s\n", text);
	struct err e;

	if (fd < 0 || write_all(fd, line, (size_t)n) < 0) {
		err_set(&e, errno, "append to %s", report_path);
		log_err(&e);
	}
	if (fd >= 0)
		close(fd);
}

static void finish(bool ok)
{
	timer_stop(&pr.deadline);
	if (pr.cgfd >= 0)
		close(pr.cgfd);
	pr.cgfd = -1;
	pr.over = true;
	pr.done(ok);
}

/* Everything of the run led by pid. */
static void kill_all(pid_t pid)
{
	struct err e;

	if (pr.cgfd >= 0 &&
	    (!cgroup_populated(pr.cgfd) || cgroup_kill(pr.cgfd, PROVISION_CGROUP, &e) == 0))
		return;
	/* No cgroup: its process group at least (it leads its own session, spawn.c). */
	if (kill(-pid, SIGKILL) < 0 && pr.pid == pid)
		kill(pid, SIGKILL);
}

static void on_deadline(struct timer *t)
{
	(void)t;
	if (pr.pid <= 0)
		return;
	pr.late = true;
	kill_all(pr.pid); /* its end comes through the reaper, as any other */
}

/* Start run safe (0 or 1). A failure to fork is a failed run like any other. */
static int run(bool safe, struct err *e)
{
	static char *argv[2][3] = {{PROVISION_BIN, NULL}, {PROVISION_BIN, "--safe", NULL}};
	static char *envp[] = {"PATH=/sbin:/usr/sbin:/bin:/usr/bin", "HOME=/root", "TERM=linux",
			       NULL};
	/* on ROOT, working directory "/": nothing to wait for but its exec */
	struct spawn_req r = {
	    .argv = argv[safe], .envp = envp, .cgroup_fd = pr.cgfd, .wait_exec = true};

	pr.safe = safe;
	pr.late = false;
	pr.t0 = now_ms();
	pr.boot_ev = bootlog_begin(name[safe], safe ? name[0] : NULL, pr.t0);
	pr.pid = spawn(&r, &pr.report, e);
	if (pr.pid < 0) {
		pr.pid = 0;
		pr.report = -1;
		return -1;
	}
	timer_start(&pr.deadline, pr.t0 + (uint64_t)pr.timeout_s * 1000u);
	return 0;
}

/* What went wrong, as "exited with status 1", "killed by signal 11 (SEGV)", ... */
static void failure_text(int st, const char *why, char *buf, size_t size)
{
	char sig[16];

	if (why[0])
		snprintf(buf, size, "%s could not start: %s", name[pr.safe], why);
	else if (pr.late)
		snprintf(buf, size, "%s passed its deadline of %u s", name[pr.safe], pr.timeout_s);
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "%s killed by signal %d (%s)", name[pr.safe], WTERMSIG(st),
			 signal_name(WTERMSIG(st), sig));
	else
		snprintf(buf, size, "%s exited with status %d", name[pr.safe], WEXITSTATUS(st));
}

/* A run failed with text: the safe run next, or the boot goes on without provisioning. */
static void failed(const char *text)
{
	char again[320];
	struct err e;

	if (!pr.safe) {
		log_msg(LOG_ERR, "%s; running it in safe mode", text);
		report_error(text);
		if (run(true, &e) == 0)
			return;
		snprintf(again, sizeof(again), "%s could not start: %.256s", name[1], e.msg);
		text = again;
	}
	log_msg(LOG_ERR, "%s; booting with %s only", text, DECL_DIR);
	report_error(text);
	finish(false);
}

bool provrun_reaped(pid_t pid, int st)
{
	char why[256] = "", text[320];
	size_t len = 0;

	if (pid <= 0 || pid != pr.pid)
		return false;
	pr.pid = 0;
	timer_stop(&pr.deadline);
	bootlog_end(pr.boot_ev, now_ms());
	kill_all(pid); /* whatever it left behind */
	/* It is dead, so whatever it wrote to the report pipe is there. */
	spawn_read_report(pr.report, why, sizeof(why), &len);
	close(pr.report);
	pr.report = -1;
	if (pr.over)
		return true; /* a shutdown took it */
	if (!pr.late && !len && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		log_msg(LOG_INFO, "%s done (%llu ms)", name[pr.safe],
			(unsigned long long)(now_ms() - pr.t0));
		finish(true);
		return true;
	}
	failure_text(st, why, text, sizeof(text));
	failed(text);
	return true;
}

void provrun_start(bool cgroups, void (*done)(bool ok))
{
	struct resources none = {0};
	struct err e;

	pr.done = done;
	pr.over = false;
	pr.deadline.fire = on_deadline;
	if (cgroups &&
	    (pr.cgfd = cgroup_unit(CGROUP_ROOT, CGROUP_UNITS, PROVISION_CGROUP, &none, &e)) < 0)
		log_err(&e); /* it runs all the same; the deadline kills its process group */
	if (run(false, &e) < 0) {
		char text[320];
		snprintf(text, sizeof(text), "%s could not start: %.256s", name[0], e.msg);
		failed(text);
	}
}

void provrun_cancel(void)
{
	if (pr.over)
		return;
	pr.over = true; /* its end (the shutdown kills it) loads no units */
	timer_stop(&pr.deadline);
}

bool provrun_running(void)
{
	return !pr.over;
}

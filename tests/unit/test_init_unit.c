/*
 * Unit tests: init/pid1/unit.c, the unit table's scheduler: dependency order,
 * oneshots gating dependants, health conditions, reverse order at
 * shutdown, and the control-socket API. Processes, the loop, cgroups,
 * logs and health checks are stubs; pids are above any pid_max, so the
 * real kill(2) calls reach no process. One scenario forks for real: the
 * test is then its children's subreaper, as PID 1 is everyone's, and
 * dispatch.c reaps them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAKE_PID 0x10000000 /* > PID_MAX_LIMIT (4M): no such process */

static char dir[] = "/tmp/test_init_unit.XXXXXX";
static char started[256]; /* names in spawn order, blank-separated */
static char helper[2048]; /* argv of the last spawn without a report pipe (a runtime step) */
static pid_t next_pid = FAKE_PID;
static struct watch *watches[64];
static int nwatches;
static struct hcheck *checks[16];
static int nchecks;
static char logged[4096];	  /* init's messages, one a line */
static void (*real_create)(void); /* set: the next create step forks and runs it */
static pid_t real_pid;		  /* that child */

/* ---- stubs ---- */
void log_msg(int prio, const char *fmt, ...)
{
	size_t n = strlen(logged);
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
	va_end(ap);
	n = strlen(logged);
	snprintf(logged + n, sizeof(logged) - n, "\n");
}
void log_err(const struct err *e)
{
	(void)e;
}
int loop_watch(struct watch *w, struct err *e)
{
	(void)e;
	watches[nwatches++ % 64] = w;
	return 0;
}
void loop_unwatch(struct watch *w)
{
	(void)w;
}
void timer_start(struct timer *t, uint64_t due)
{
	t->armed = true;
	t->due = due;
}
void timer_stop(struct timer *t)
{
	t->armed = false;
}
/* A create step of real_create's: a child of the test's, which runs it. */
static pid_t fork_create(const struct spawn_req *r)
{
	void (*run)(void) = real_create;
	pid_t pid;

	if (!run || !r->argv[1] || !r->argv[2] || !r->argv[3] || strcmp(r->argv[3], "create") != 0)
		return 0;
	real_create = NULL;
	if ((pid = fork()) == 0) {
		run();
		_exit(0);
	}
	return real_pid = pid;
}

pid_t spawn(const struct spawn_req *r, int *report, struct err *e)
{
	pid_t real = report ? 0 : fork_create(r);

	(void)e;
	if (report) {
		/* The name of the unit is its argv[0] in these declarations. */
		snprintf(started + strlen(started), sizeof(started) - strlen(started), "%s%s",
			 started[0] ? " " : "", r->argv[0]);
		*report = open("/dev/null", O_RDONLY | O_CLOEXEC);
	} else {
		helper[0] = '\0';
		for (size_t i = 0; r->argv[i]; i++)
			snprintf(helper + strlen(helper), sizeof(helper) - strlen(helper), "%s%s",
				 i ? " " : "", r->argv[i]);
	}
	return real > 0 ? real : next_pid++;
}
int spawn_read_report(int fd, char *buf, size_t size, size_t *len)
{
	(void)fd;
	(void)buf;
	(void)size;
	(void)len;
	return 1; /* EOF, nothing written: exec worked */
}
int sysfs_active_console(const char *sys, char *path, size_t size, struct err *e)
{
	(void)sys;
	snprintf(path, size, "/dev/null");
	(void)e;
	return 0;
}
int cgroup_setup(const char *root, struct err *e)
{
	(void)root;
	return err_set(e, ENOENT, "no cgroups here");
}
static char groups[4096]; /* "NAME:GROUP " of each cgroup_unit() */
int cgroup_unit(const char *root, const char *group, const char *name, const struct resources *r,
		struct err *e)
{
	size_t n = strlen(groups);

	(void)root, (void)r, (void)e;
	snprintf(groups + n, sizeof(groups) - n, "%s:%s ", name, group);
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* a directory fd, as the real one */
}
int cgroup_kill(int dir, const char *name, struct err *e)
{
	(void)dir, (void)name;
	return err_set(e, ENOENT, "no cgroups here");
}
bool cgroup_populated(int dir)
{
	(void)dir;
	return false;
}
int logs_open(struct logsink *l, const char *name, struct err *e)
{
	(void)l, (void)name;
	return err_set(e, ENOENT, "no logs here");
}
void logs_shutdown(void)
{
}
void logs_end(struct logsink *l)
{
	(void)l;
}
const char *health_name(enum health h)
{
	return h == H_HEALTHY ? "healthy" : h == H_NONE ? "none" : "other";
}
void health_start(struct hcheck *h)
{
	h->state = h->cfg->argv ? H_STARTING : H_NONE;
	checks[nchecks++ % 16] = h;
}
void health_stop(struct hcheck *h)
{
	(void)h;
}
bool health_reaped(struct hcheck *h, pid_t pid, int st)
{
	(void)h, (void)pid, (void)st;
	return false;
}

bool provrun_reaped(pid_t pid, int st)
{
	(void)pid, (void)st;
	return false;
}
void provrun_cancel(void)
{
}
void shutdown_setup(const struct shutdown_ops *ops)
{
	(void)ops;
}
void shutdown_request(enum shutdown_kind k, int sig, pid_t from)
{
	(void)k, (void)sig, (void)from;
}
void shutdown_no_children(void)
{
}
void shutdown_now(enum shutdown_kind k)
{
	(void)k;
}
void klog_stop(void)
{
}

/* ---- helpers ---- */

/* Every pending spawn report says "exec worked". */
static void confirm_all(void)
{
	int n = nwatches;

	nwatches = 0;
	for (int i = 0; i < n; i++)
		if (watches[i]->fd >= 0)
			watches[i]->ready(watches[i], 0);
}

static enum unit_state state_of(const char *name)
{
	struct unit_info in;

	assert_int_equal(unit_info_at((size_t)unit_find(name), &in), 0);
	return in.state;
}

static pid_t pid_of(const char *name)
{
	struct unit_info in;

	assert_int_equal(unit_info_at((size_t)unit_find(name), &in), 0);
	return in.pid;
}

static void put_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mkdir(dir, 0755);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void warn_logged(void *ctx, const char *msg)
{
	(void)ctx;
	log_msg(LOG_WARNING, "%s", msg);
}

/* PID 1 reads declarations compiled: what image-builder (early too) and provision write
 * from the YAML of dir (a directory under the test's), as if in as_dir. */
static void compile(const char *name, const char *as_dir, bool early)
{
	char path[600], out[700];
	struct decls set = {0};
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(declc_load(&set, path, as_dir, warn_logged, NULL), 0);
	snprintf(out, sizeof(out), "%s/" DECL_UNITS_FILE, path);
	assert_int_equal(declbin_write(&set, out, 0600, &e), 0);
	if (early) {
		declc_early(&set, warn_logged, NULL);
		snprintf(out, sizeof(out), "%s/" DECL_EARLY_FILE, path);
		assert_int_equal(declbin_write(&set, out, 0644, &e), 0);
	}
	decls_free(&set);
}

/* The tests in the directory dir, removed afterwards: each program's main. */
static int run_in_dir(const char *name, const struct CMUnitTest *tests, size_t n)
{
	char cmd[600];
	int ret;

	if (!mkdtemp(dir))
		return 1;
	ret = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0 ? 1 : ret;
}

#ifndef TEST_INIT_UNIT_STUBS_ONLY /* test_init_early.c: these stubs, its own scenario */

static int units_stopped;

static void all_stopped(void)
{
	units_stopped++;
}

/* Each container's range is its own, recorded, never given twice: web's
 * (given at its start) stays, the next name gets the next range. */
static void check_userns_ranges(void)
{
	char path[512], text[256];
	uint32_t base = 0;
	struct err e;

	assert_int_equal(userns_range("db", &base, &e), 0);
	assert_int_equal(base, USERNS_BASE + USERNS_SIZE);
	assert_int_equal(userns_range("web", &base, &e), 0);
	assert_int_equal(base, USERNS_BASE);
	assert_int_equal(userns_range("db", &base, &e), 0);
	assert_int_equal(base, USERNS_BASE + USERNS_SIZE);
	snprintf(path, sizeof(path), "%s/userns", dir);
	assert_true(read_text(path, text, sizeof(text), &e) > 0);
	assert_string_equal(text, "web 1048576\ndb 1114112\n");
}

/* web started again, to its create step: its delete and bundle steps succeed. */
static void to_create(void)
{
	struct err e;

	assert_int_equal(unit_start("web", &e), 0);
	assert_true(unit_reaped(next_pid - 1, 0));
	assert_true(unit_reaped(next_pid - 1, 0));
	assert_non_null(strstr(helper, " create --bundle "));
	logged[0] = '\0';
}

static int go[2]; /* the real create waits for a byte here */

/* A create, for real: once let go, its container's process (which waits to be killed),
 * the pid file, its exit. */
static void create_for_real(void)
{
	char b, text[32];
	pid_t pid;

	close(go[1]);
	if (read(go[0], &b, 1) != 1)
		_exit(1);
	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	put_file("web/pid", text);
	_exit(0);
}

/* n processes that end as orphans, as a user's double forks: each a zombie, then its parent
 * ends and they are the test's (the kernel re-parents them with the parent's exit). */
static void orphans(int n)
{
	pid_t parent = fork();
	siginfo_t si;

	if (parent == 0) {
		for (int i = 0; i < n; i++) {
			pid_t child = fork();
			if (child == 0)
				_exit(0);
			if (child < 0 || waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT) < 0)
				_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(parent, NULL, 0), parent);
}

/* Anyone's orphans ending while a container is created (a local user's double forks, 40 a
 * few milliseconds) do not keep it from starting: init reaped them through dispatch.c as it
 * does, then create's exit, and ran start on the pid create wrote. Before, init kept the last
 * 32 orphans to look the pid up in, and with more it said "too many processes ended while it
 * was created" and failed the start, at every restart while the user went on. */
static void check_orphan_flood(void)
{
	siginfo_t si;
	pid_t create, pid;

	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(go), 0);
	real_create = create_for_real;
	to_create();
	close(go[0]);
	create = real_pid;
	assert_true(create > 0);
	orphans(40);
	dispatch_reap();
	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	assert_int_equal(waitid(P_PID, (id_t)create, &si, WEXITED | WNOWAIT), 0);
	dispatch_reap();
	assert_null(strstr(logged, "too many processes"));
	assert_non_null(strstr(helper, " start web"));
	pid = pid_of("web");
	assert_true(pid > 0 && pid < FAKE_PID);
	/* Its process ends (killed) before start: init reaps it as the unit's. */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	dispatch_reap();
	assert_int_equal(pid_of("web"), 0);
	assert_int_equal(state_of("web"), U_FAILED);
	assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1); /* nothing left */
}

/* SIGCHLD taken off the queue; whether one was there. */
static bool take_sigchld(void)
{
	static const struct timespec now;
	sigset_t chld;
	bool was = false;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &now) == SIGCHLD)
		was = true;
	return was;
}

/* Children ending faster than init reaps them (a local user's processes forking orphans, 128
 * of them held PID 1's reaper for more than 5 s on two CPUs) do not hold PID 1 in its reaper:
 * 64 a call, then SIGCHLD again, for the loop's next turn. Before, it reaped until none was
 * left, for as long as they came: one call took all 200. */
static void check_reap_turn(void)
{
	sigset_t chld;
	siginfo_t si;
	int calls = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &chld, NULL), 0);
	orphans(200);
	take_sigchld();
	dispatch_reap();
	calls++;
	si.si_pid = 0;
	assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT), 0);
	assert_true(si.si_pid > 0); /* left for the next turn */
	while (take_sigchld()) {
		dispatch_reap();
		calls++;
	}
	assert_int_equal(calls, 4); /* 64, 64, 64, 8 */
	assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &chld, NULL), 0);
}

/* A container starts through the runtime's steps, after the image import (a oneshot of the
 * overlay directory); its pid is the one create wrote; a failed step fails the start. */
static void check_containers(void)
{
	char path[512];
	pid_t step;

	assert_int_equal(state_of("web"), U_STOPPED); /* waits for the import */
	assert_true(unit_reaped(pid_of(IMAGE_IMPORT), 0));
	assert_int_equal(state_of("web"), U_STARTING);
	assert_string_equal(helper, "/bin/containerd-lite --root /run/wisp/containers delete "
				    "--force web");
	step = next_pid - 1;
	assert_true(unit_reaped(step, 1 << 8)); /* nothing to delete: not an error */
	snprintf(path, sizeof(path),
		 "/bin/containerd-lite --root /run/wisp/containers image bundle --cmd httpd "
		 "--cmd -f --user www:www --network bridge --userns 1048576 --hostname web "
		 "--cgroups-path "
		 "/containers/web/ctr --upper "
		 "/var/lib/wisp/containers/web bb:1 %s/web",
		 dir);
	assert_string_equal(helper, path);
	put_file("web/pid", "4242\n");
	assert_true(unit_reaped(next_pid - 1, 0));
	assert_non_null(strstr(helper, " create --bundle "));
	assert_true(unit_reaped(next_pid - 1, 0));
	assert_int_equal(pid_of("web"), 4242);
	assert_string_equal(helper, "/bin/containerd-lite --root /run/wisp/containers start web");
	assert_int_equal(state_of("web"), U_STARTING);
	assert_true(unit_reaped(next_pid - 1, 0));
	assert_int_equal(state_of("web"), U_RUNNING);
	/* its cgroup in the containers' pool, the import's (a oneshot) beside it */
	assert_non_null(strstr(groups, "web:" CGROUP_POOL " "));
	assert_non_null(strstr(groups, IMAGE_IMPORT ":" CGROUP_UNITS " "));
	/* Its end is the container's end; then a start whose bundle step fails. */
	assert_true(unit_reaped(4242, 0));
	assert_int_equal(state_of("web"), U_DONE);
	struct err e;
	assert_int_equal(unit_start("web", &e), 0);
	assert_true(unit_reaped(next_pid - 1, 0));
	assert_true(unit_reaped(next_pid - 1, 1 << 8));
	assert_int_equal(state_of("web"), U_FAILED);
	assert_int_equal(pid_of("web"), 0);
	check_orphan_flood();
	check_reap_turn();
	check_userns_ranges();
}

static void test_order_and_shutdown(void **state)
{
	char path[512], over[512];
	static char ranges[512]; /* kept by userns.c */

	(void)state;
	ctr_set_bundles(dir);
	snprintf(ranges, sizeof(ranges), "%s/userns", dir);
	userns_set_file(ranges);
	snprintf(path, sizeof(path), "%s/web", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc", dir);
	mkdir(path, 0755);
	snprintf(over, sizeof(over), "%s/run", dir);
	mkdir(over, 0755);
	/* Declared in an order the dependencies contradict. */
	put_file("etc/10-units.yaml",
		 "services:\n"
		 "  - {name: d, command: [d], depends_on: {b: {condition: healthy}}}\n"
		 "  - {name: b, command: [b], depends_on: [a],\n"
		 "     healthcheck: {command: [check], interval: 1s}}\n"
		 "  - {name: a, kind: oneshot, command: [a]}\n"
		 "  - {name: c, command: [c], env: [OLD=1]}\n"
		 "  - {name: e, command: [e], depends_on: [nope]}\n"
		 "  - {name: z, command: [z], colour: red}\n"
		 "  - {name: y, command: [y], depends_on: [z]}\n");
	/* What provision writes: c replaced, f depending on a, the import and a container. */
	put_file("run/20-cloud.yaml",
		 "services:\n"
		 "  - {name: c, command: [c2]}\n"
		 "  - {name: f, command: [f], depends_on: [a]}\n"
		 "  - {name: image-import, kind: oneshot, command: [image-import]}\n"
		 "containers:\n"
		 "  - {name: web, image: \"bb:1\", command: [httpd, -f], user: \"www:www\"}\n");
	units_set_cgroups(true);
	compile("etc", "/etc/wisp", false);
	compile("run", "/run/wisp/units", false);
	logged[0] = '\0';
	assert_int_equal(units_load(path, over), 7);
	/* what the compiler found is said by PID 1, as when it parsed the YAML */
	assert_non_null(strstr(logged, "/etc/wisp/10-units.yaml:8:29: service \"z\": unknown field "
				       "\"colour\""));
	assert_non_null(strstr(logged, "service \"y\": depends on \"z\", whose declaration has "
				       "errors"));
	assert_non_null(strstr(logged, "c: from /run/wisp/units/20-cloud.yaml replaces the one of "
				       "/etc/wisp/10-units.yaml"));
	units_start_all();
	/* The oneshot gates b and f (and d); c does not wait for it; web waits for the import. */
	assert_string_equal(started, "a c2 image-import");
	confirm_all();
	assert_int_equal(state_of("a"), U_RUNNING);
	assert_int_equal(state_of("b"), U_STOPPED);
	assert_true(unit_reaped(pid_of("a"), 0));
	assert_int_equal(state_of("a"), U_DONE);
	assert_string_equal(started, "a c2 image-import b f");
	confirm_all();
	assert_true(unit_reaped(pid_of("f"), 0));
	assert_int_equal(state_of("f"), U_DONE);
	/* b runs but is not healthy yet: d waits. */
	assert_int_equal(state_of("b"), U_RUNNING);
	assert_int_equal(state_of("d"), U_STOPPED);
	for (int i = 0; i < nchecks; i++)
		if (checks[i]->cfg->argv) { /* b's: the one unit with a check */
			checks[i]->state = H_HEALTHY;
			checks[i]->changed(checks[i]);
		}
	assert_int_equal(state_of("b"), U_HEALTHY);
	assert_string_equal(started, "a c2 image-import b f d");
	confirm_all();

	/* By hand: stop means no restart until start; restart is stop then start. */
	struct err e0;
	struct unit_info in;
	started[0] = '\0';
	assert_int_equal(unit_stop("c", &e0), 0);
	assert_int_equal(state_of("c"), U_STOPPING);
	assert_true(unit_reaped(pid_of("c"), SIGTERM));
	assert_int_equal(state_of("c"), U_STOPPED);
	assert_string_equal(started, "");
	assert_int_equal(unit_start("c", &e0), 0);
	assert_string_equal(started, "c2");
	confirm_all();
	assert_int_equal(unit_restart("c", &e0), 0);
	assert_int_equal(state_of("c"), U_STOPPING);
	assert_true(unit_reaped(pid_of("c"), SIGTERM));
	assert_string_equal(started, "c2 c2");
	confirm_all();
	assert_int_equal(state_of("c"), U_RUNNING);
	assert_int_equal(unit_info_at((size_t)unit_find("c"), &in), 0);
	assert_string_equal(in.kind, "service");
	assert_int_equal(in.last_status, SIGTERM);
	assert_int_equal(unit_info_at(99, &in), -1);

	check_containers();

	/* Shutdown: d and c first; b only once d has ended. */
	units_stop_all(all_stopped);
	assert_int_equal(state_of("d"), U_STOPPING);
	assert_int_equal(state_of("c"), U_STOPPING);
	assert_int_equal(state_of("b"), U_HEALTHY);
	assert_true(unit_reaped(pid_of("d"), SIGTERM));
	assert_int_equal(state_of("b"), U_STOPPING);
	assert_true(unit_reaped(pid_of("c"), SIGTERM));
	assert_int_equal(units_stopped, 0);
	assert_true(unit_reaped(pid_of("b"), SIGTERM));
	assert_int_equal(units_stopped, 1);
	assert_true(units_all_stopped());
	assert_false(unit_reaped(12345, 0)); /* an orphan */

	struct err e;
	assert_int_equal(unit_start("b", &e), -1); /* shutting down */
	assert_int_equal(unit_start("zzz", &e), -1);
	assert_int_equal(e.num, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_shutdown),
	};

	return run_in_dir("init_unit", tests, ARRAY_LEN(tests));
}
#endif

/*
 * sandbox.c: the unprivileged child the parsers run in (issue 11).
 *
 * provision fetches as root, then forks this child to read what came
 * from outside: before its first byte it becomes nobody (no groups, no
 * capabilities left), sets no_new_privs, bounds its memory, CPU time,
 * files and processes, and installs a seccomp allowlist of the calls a
 * parser needs once its input is in memory: read, write, memory, exit.
 * It opens nothing: its input was read by the parent before the fork, and
 * its only way out is the plan it writes to a pipe. A crash, a hang (the
 * parent kills it at the deadline) or a plan that does not read costs the
 * datasource its user-data, never provisioning.
 */
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#else
#error "sandbox.c: no seccomp architecture for this target"
#endif

#define MEM_LIMIT (256ul << 20)

#define ALLOW(name)                                                                                \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 1),                                    \
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* Anything else kills the child (SIGSYS): a parser that asks for more has been subverted. */
static int seccomp_setup(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW(read),
		ALLOW(write),
		ALLOW(mmap),
		ALLOW(munmap),
		ALLOW(mremap),
		ALLOW(brk),
		ALLOW(madvise),
		ALLOW(exit_group),
		ALLOW(exit),
#if defined(__SANITIZE_ADDRESS__) /* the unit tests' allocator */
		ALLOW(mprotect),
		ALLOW(futex),
		ALLOW(sched_yield),
		ALLOW(sigaltstack),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {.len = (unsigned short)ARRAY_LEN(f), .filter = f};

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static int limit(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {soft, hard};
	return setrlimit(res, &rl);
}

/* Close lo..hi: one close_range(2) (Linux 5.9); closing one by one, as the fallback
 * does, is a thousand system calls, tens of ms per child under emulation. */
static void close_span(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
#ifdef __NR_close_range
	if (syscall(__NR_close_range, lo, hi, 0u) == 0)
		return;
#endif
	for (unsigned fd = lo; fd <= hi && fd < 1024; fd++)
		close((int)fd);
}

/* Every fd but the plan's (and stderr under the sanitizers, for their reports). */
static void close_others(int keep)
{
	unsigned k = (unsigned)keep, lo = k, hi = k;

#if defined(__SANITIZE_ADDRESS__)
	lo = k < 2 ? k : 2, hi = k < 2 ? 2 : k;
#endif
	if (lo > 0)
		close_span(0, lo - 1);
	if (hi > lo)
		close_span(lo + 1, hi - 1);
	close_span(hi + 1, ~0u);
}

/* Everything before the first byte of input is read; any failure: no parse at all. */
static int drop(int fd, unsigned ms)
{
	sigset_t none;
	rlim_t cpu = ms / 1000 + 1;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* PID 1 blocks signals for its signalfd */
	close_others(fd);
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setresgid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID) < 0 ||
	     setresuid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID) < 0))
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -1;
#if !defined(__SANITIZE_ADDRESS__) /* ASan reserves terabytes of shadow */
	if (limit(RLIMIT_AS, MEM_LIMIT, MEM_LIMIT) < 0)
		return -1;
#endif
	if (limit(RLIMIT_CPU, cpu, cpu + 1) < 0 || limit(RLIMIT_FSIZE, 0, 0) < 0 ||
	    limit(RLIMIT_NOFILE, (rlim_t)fd + 1, (rlim_t)fd + 1) < 0 ||
	    limit(RLIMIT_NPROC, 0, 0) < 0 || limit(RLIMIT_CORE, 0, 0) < 0 ||
	    limit(RLIMIT_MEMLOCK, 0, 0) < 0)
		return -1;
	return seccomp_setup();
}

static _Noreturn void child(void (*fn)(FILE *, void *), void *arg, int fd, unsigned ms)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (drop(fd, ms) < 0)
		_exit(125);
	if (!(f = open_memstream(&buf, &len)))
		_exit(124);
	plan_begin(f);
	fn(f, arg);
	plan_finish(f);
	if (fclose(f) != 0 || write_all(fd, buf, len) < 0)
		_exit(124);
	_exit(0); /* no atexit handlers: nothing more to run, nothing more to ask for */
}

static const char *sig_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {{SIGSEGV, "SEGV"}, {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},  {SIGFPE, "FPE"},
		     {SIGILL, "ILL"},	{SIGKILL, "KILL"}, {SIGSYS, "SYS"},  {SIGXCPU, "XCPU"},
		     {SIGTRAP, "TRAP"}, {SIGXFSZ, "XFSZ"}, {SIGTERM, "TERM"}};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "?";
}

/* The child's bytes until EOF, at most PLAN_MAX_BYTES, within the deadline. */
static int collect(int fd, uint64_t deadline, unsigned ms, char **out, size_t *len, struct err *e)
{
	size_t cap = 0;

	*out = NULL;
	*len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t n;

		if (now >= deadline)
			return err_set(e, 0, "passed its deadline of %u s", ms / 1000);
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return err_set(e, errno, "poll");
		if (!p.revents)
			continue;
		if (*len ==
		    cap) { /* doubling, up to one byte past the limit: over it is an error */
			size_t ncap = cap ? 2 * cap : 65536;
			char *nv;

			if (ncap > PLAN_MAX_BYTES + 1)
				ncap = PLAN_MAX_BYTES + 1;
			if (cap == ncap || !(nv = realloc(*out, ncap)))
				return err_set(e, 0, "wrote more than %d bytes", PLAN_MAX_BYTES);
			*out = nv;
			cap = ncap;
		}
		n = read(fd, *out + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, errno, "read its plan");
		if (n == 0)
			return 0;
		*len += (size_t)n;
	}
}

/* Its exit: 0 for a clean exit after EOF; a crash, a kill or a status is the error. */
static int reap(pid_t pid, uint64_t deadline, unsigned ms, struct err *e)
{
	int st = 0, r;

	/* EOF came: the child has closed its end, by exiting or on purpose; the latter
	 * must not hold us past the deadline either. */
	if ((r = spawn_wait(pid, deadline, &st, e)) < 0)
		return -1;
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return err_set(e, 0, "passed its deadline of %u s", ms / 1000);
	}
	if (WIFSIGNALED(st))
		return err_set(e, 0, "killed by signal %d (%s)", WTERMSIG(st),
			       sig_name(WTERMSIG(st)));
	if (WEXITSTATUS(st) == 125)
		return err_set(e, 0, "could not drop its privileges");
	if (WEXITSTATUS(st) != 0)
		return err_set(e, 0, "exited with status %d", WEXITSTATUS(st));
	return 0;
}

int sandbox_run(void (*fn)(FILE *plan, void *arg), void *arg, unsigned ms, char **out, size_t *len,
		struct err *e)
{
	uint64_t deadline = now_ms() + ms;
	int p[2], r;
	pid_t pid;

	*out = NULL;
	*len = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(e, errno, "pipe");
	if ((pid = fork()) < 0) {
		close(p[0]), close(p[1]);
		return err_set(e, errno, "fork");
	}
	if (pid == 0) {
		close(p[0]);
		child(fn, arg, p[1], ms);
	}
	close(p[1]);
	r = collect(p[0], deadline, ms, out, len, e);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	} else {
		r = reap(pid, deadline, ms, e);
	}
	close(p[0]);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return r;
}

int sandbox_plan(void (*fn)(FILE *plan, void *arg), void *arg, struct parse_plan *plan,
		 struct err *e)
{
	struct err why;
	char *out = NULL;
	size_t len;
	int r = sandbox_run(fn, arg, SANDBOX_MS, &out, &len, &why);

	if (r < 0)
		err_set(e, 0, "parser %s", why.msg);
	else if ((r = plan_read(out, len, plan, &why)) < 0)
		err_set(e, 0, "parser: %s", why.msg);
	free(out);
	return r;
}

/* seccomp_probe.c: calls each syscall of a fixed list once, with harmless
 * arguments, and prints "NAME ok" or "NAME errno N" per call. Built static
 * by tests/containerd-lite/seccomp_moby.py and run as a container's only
 * program, so what it prints is what the default seccomp profile (and the
 * kernel behind it) answers. The arguments are harmless where a call is
 * let through in a container (bad fds, NULL pointers, namespace calls
 * that affect the probe only), but not on a host: it refuses to run
 * anywhere but as a pid namespace's pid 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define AF_ALG_			  38
#define AF_VSOCK_		  40
#define KEYCTL_GET_KEYRING_ID_	  0
#define KEY_SPEC_SESSION_KEYRING_ (-3L)
#define PTRACE_TRACEME_		  0
#define READ_IMPLIES_EXEC_	  0x0400000
#define CLONE_NEWUSER_		  0x10000000
#define CLONE_NEWNS_		  0x00020000

/* A child made by clone must not run on in the probe: it leaves at once. */
static long reap(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid < 0 ? -1 : 0;
}

static long p_getpid(void)
{
	return syscall(SYS_getpid);
}
static long p_fork(void)
{
	return reap(syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L));
}
static long p_socket_inet(void)
{
	return syscall(SYS_socket, 2L, 1L, 0L);
}
static long p_socket_unix(void)
{
	return syscall(SYS_socket, 1L, 1L, 0L);
}
static long p_personality_query(void)
{
	return syscall(SYS_personality, 0xffffffffL);
}
static long p_name_to_handle_at(void)
{
	/* handle_bytes 0: the kernel answers EOVERFLOW with the size it needs */
	unsigned int handle[4] = {0, 0, 0, 0};
	int mount_id;

	return syscall(SYS_name_to_handle_at, (long)AT_FDCWD, "/", handle, &mount_id, 0L);
}
static long p_pkey_alloc(void)
{
	return syscall(SYS_pkey_alloc, 0L, 0L);
}

static long p_io_uring_setup(void)
{
	/* struct io_uring_params is 120 bytes; all zero asks for defaults */
	long params[16];

	memset(params, 0, sizeof(params));
	return syscall(SYS_io_uring_setup, 1L, params);
}
static long p_io_uring_enter(void)
{
	return syscall(SYS_io_uring_enter, -1L, 0L, 0L, 0L, 0L, 0L);
}
static long p_io_uring_register(void)
{
	return syscall(SYS_io_uring_register, -1L, 0L, 0L, 0L);
}
static long p_keyctl(void)
{
	return syscall(SYS_keyctl, (long)KEYCTL_GET_KEYRING_ID_, KEY_SPEC_SESSION_KEYRING_, 0L);
}
static long p_add_key(void)
{
	return syscall(SYS_add_key, "user", "wisp-probe", "x", 1L, KEY_SPEC_SESSION_KEYRING_);
}
static long p_bpf(void)
{
	return syscall(SYS_bpf, 0L /* BPF_MAP_CREATE */, 0L, 0L);
}
static long p_perf_event_open(void)
{
	return syscall(SYS_perf_event_open, 0L, 0L, -1L, -1L, 0L);
}
static long p_userfaultfd(void)
{
	return syscall(SYS_userfaultfd, 0L);
}
static long p_unshare_user(void)
{
	return syscall(SYS_unshare, (long)CLONE_NEWUSER_);
}
static long p_unshare_mount(void)
{
	return syscall(SYS_unshare, (long)CLONE_NEWNS_);
}
static long p_setns(void)
{
	return syscall(SYS_setns, -1L, 0L);
}
static long p_clone_newuser(void)
{
	return reap(syscall(SYS_clone, (long)(CLONE_NEWUSER_ | SIGCHLD), 0L, 0L, 0L, 0L));
}
/* NULL args of size 0: EINVAL from the kernel, ENOSYS from the profile */
static long p_clone3(void)
{
	return reap(syscall(SYS_clone3, 0L, 0L));
}
static long p_mount(void)
{
	return syscall(SYS_mount, "none", "/mnt", "tmpfs", 0L, 0L);
}
static long p_umount2(void)
{
	return syscall(SYS_umount2, "/proc", 2L /* MNT_DETACH */);
}
static long p_pivot_root(void)
{
	return syscall(SYS_pivot_root, "/", "/");
}
static long p_ptrace(void)
{
	return syscall(SYS_ptrace, (long)PTRACE_TRACEME_, 0L, 0L, 0L);
}
static long p_socket_vsock(void)
{
	return syscall(SYS_socket, (long)AF_VSOCK_, 1L, 0L);
}
static long p_socket_alg(void)
{
	return syscall(SYS_socket, (long)AF_ALG_, 5L /* SEQPACKET */, 0L);
}
static long p_personality_rie(void)
{
	return syscall(SYS_personality, (long)READ_IMPLIES_EXEC_);
}
static long p_init_module(void)
{
	return syscall(SYS_init_module, 0L, 0L, "");
}
static long p_open_by_handle_at(void)
{
	return syscall(SYS_open_by_handle_at, -1L, 0L, 0L);
}

static const struct probe {
	const char *name;
	long (*call)(void);
} probes[] = {
    {"getpid", p_getpid},
    {"fork", p_fork},
    {"socket_inet", p_socket_inet},
    {"socket_unix", p_socket_unix},
    {"personality_query", p_personality_query},
    {"name_to_handle_at", p_name_to_handle_at},
    {"pkey_alloc", p_pkey_alloc},
    {"io_uring_setup", p_io_uring_setup},
    {"io_uring_enter", p_io_uring_enter},
    {"io_uring_register", p_io_uring_register},
    {"keyctl", p_keyctl},
    {"add_key", p_add_key},
    {"bpf", p_bpf},
    {"perf_event_open", p_perf_event_open},
    {"userfaultfd", p_userfaultfd},
    {"unshare_user", p_unshare_user},
    {"unshare_mount", p_unshare_mount},
    {"setns", p_setns},
    {"clone_newuser", p_clone_newuser},
    {"clone3", p_clone3},
    {"mount", p_mount},
    {"umount2", p_umount2},
    {"pivot_root", p_pivot_root},
    {"ptrace", p_ptrace},
    {"socket_vsock", p_socket_vsock},
    {"socket_alg", p_socket_alg},
    {"personality_rie", p_personality_rie},
    {"init_module", p_init_module},
    {"open_by_handle_at", p_open_by_handle_at},
};

/* Each call in a child of its own: one let through (a new user namespace,
 * a persona) must not change what the next one sees. */
static int run(const struct probe *p)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		long r;

		errno = 0;
		r = p->call();
		if (r < 0)
			printf("%s errno %d\n", p->name, errno);
		else
			printf("%s ok\n", p->name);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

int main(void)
{
	int bad = 0;

	/* Let through on a host, mount and umount2 would change the host's
	 * mount table: run only as the pid 1 of a container. */
	if (getpid() != 1) {
		fprintf(stderr, "seccomp_probe: not a container's pid 1, refusing to run\n");
		return 2;
	}

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (run(&probes[i]) < 0) {
			printf("%s crashed\n", probes[i].name);
			bad = 1;
		}
	}
	return bad;
}

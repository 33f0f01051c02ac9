/* calls.c: system calls Docker's default profile denies to a container
 * with the default capabilities (keyrings, bpf, perf, io_uring,
 * userfaultfd, kexec, modules, the shocker's open_by_handle_at, reboot,
 * swap, clocks, the kernel log, acct, pivot_root), ptrace, and the
 * chroot escape (chroot itself is allowed: CAP_SYS_CHROOT). Arguments are
 * chosen so that a call that gets through does no harm: a bad magic
 * number, a missing file, the current time. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A call gated by a capability: EPERM (the filter or the capability
 * check) or ENOSYS (the filter, or a kernel without it) is BLOCKED; any
 * other outcome means the call got past both. */
static enum res gated(const char *name, long ret, int err, const char *why)
{
	if (ret == -1 && (err == EPERM || err == ENOSYS || err == EACCES))
		return report(name, BLOCKED, "%s", errname(err));
	if (ret == -1)
		return report(name, ESCAPED,
			      "%s: got past the filter and the capability check (%s)", errname(err),
			      why);
	return report(name, ESCAPED, "returned %ld: %s", ret, why);
}

static void keyrings(void)
{
	long r = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);

	gated("keyctl-join-session", r, errno, "a new session keyring (keys are not namespaced)");
	r = syscall(SYS_add_key, "user", "escape", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
	gated("add-key", r, errno, "a key in the kernel's keyring");
	r = syscall(SYS_request_key, "user", "escape-none", NULL, 0);
	gated("request-key", r, errno, "keyring lookup");
}

static void bpf_calls(void)
{
	struct bpf_insn prog[] = {{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
				  {.code = BPF_JMP | BPF_EXIT}};
	union bpf_attr a;
	long r;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	r = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	gated("bpf-map-create", r, errno, "a BPF map");
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = 2;
	a.license = (uint64_t)(uintptr_t) "GPL";
	r = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	gated("bpf-prog-load", r, errno, "a BPF program loaded");
}

static void perf_io_uring_uffd(void)
{
	struct perf_event_attr pe = {.type = PERF_TYPE_SOFTWARE,
				     .size = sizeof(pe),
				     .config = PERF_COUNT_SW_CPU_CLOCK,
				     .disabled = 1};
	char params[120] = {0}; /* struct io_uring_params */
	long r;

	r = syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
	gated("perf-event-open", r, errno, "a perf event");
	r = syscall(SYS_io_uring_setup, 1, params);
	gated("io-uring-setup", r, errno, "an io_uring (Docker denies io_uring since 25.0)");
	r = syscall(SYS_userfaultfd, O_CLOEXEC);
	gated("userfaultfd", r, errno, "a userfaultfd");
}

static void kernel_loading(void)
{
	long r = syscall(SYS_kexec_load, 0, 0, NULL, 0);

	gated("kexec-load", r, errno, "kexec_load");
	r = syscall(SYS_kexec_file_load, -1, -1, 0, "", 4 /* KEXEC_FILE_NO_INITRAMFS */);
	gated("kexec-file-load", r, errno, "kexec_file_load");
	r = syscall(SYS_init_module, NULL, 0, "");
	gated("init-module", r, errno, "init_module");
	r = syscall(SYS_finit_module, -1, "", 0);
	gated("finit-module", r, errno, "finit_module");
	r = syscall(SYS_delete_module, "escape_none", 0);
	gated("delete-module", r, errno, "delete_module");
}

/* The shocker (2014): a file handle of inode 2 (the root of ext4 and
 * most file systems), opened through any fd on a mount of the host. */
static void shocker(const char *name, const char *anchor)
{
	struct {
		unsigned int bytes;
		int type;
		uint32_t ino, gen;
	} h = {8, 1 /* FILEID_INO32_GEN */, 2, 0};
	int fd = open(anchor, O_PATH | O_CLOEXEC);
	long r;

	if (fd < 0) {
		report(name, BLOCKED, "%s: %s (no anchor to try)", anchor, errname(errno));
		return;
	}
	r = syscall(SYS_open_by_handle_at, fd, &h, O_RDONLY | O_DIRECTORY);
	if (r >= 0) {
		char why[768];

		judge_dir((int)r, why, sizeof(why));
		close((int)r);
		report(name, ESCAPED, "%s: opened inode 2 by handle: %s", anchor, why);
	} else
		gated(name, r, errno, "open_by_handle_at needs CAP_DAC_READ_SEARCH");
	close(fd);
}

static void handles(void)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[128];
	} h = {128, 0, {0}};
	int mnt;

	shocker("open-by-handle-root", "/");
	shocker("open-by-handle-etc-hosts", "/etc/hosts");
	shocker("open-by-handle-etc-resolv", "/etc/resolv.conf");
	shocker("open-by-handle-dev", "/dev");
	if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &mnt, 0) == 0)
		report("name-to-handle-at", EXPECTED,
		       "allowed: Docker's default profile allows name_to_handle_at; a handle is "
		       "of no use without open_by_handle_at (CAP_DAC_READ_SEARCH)");
	else
		report("name-to-handle-at", BLOCKED, "%s", errname(errno));
}

static void machine(void)
{
	struct timespec now;
	struct timeval tv;
	struct timex tx = {0};
	char host[256] = "";
	char buf[256];
	long r;

	/* the capability check comes before the magic numbers' */
	r = syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0, LINUX_REBOOT_CMD_CAD_OFF, NULL);
	gated("reboot", r, errno, "CAP_SYS_BOOT (only the bad magic number stopped it)");
	r = swapon("/tmp/escape-none", 0);
	gated("swapon", r, errno, "CAP_SYS_ADMIN (only the missing file stopped it)");
	r = swapoff("/tmp/escape-none");
	gated("swapoff", r, errno, "CAP_SYS_ADMIN (only the missing file stopped it)");
	clock_gettime(CLOCK_REALTIME, &now);
	r = clock_settime(CLOCK_REALTIME, &now);
	gated("clock-settime", r, errno, "set the host's clock");
	gettimeofday(&tv, NULL);
	r = settimeofday(&tv, NULL);
	gated("settimeofday", r, errno, "set the host's clock");
	adjtimex(&tx);
	tx.modes = ADJ_FREQUENCY;
	r = adjtimex(&tx);
	gated("adjtimex-set", r < 0 ? -1 : r, errno, "adjusted the host's clock");
	r = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf));
	gated("syslog-read-all", r, errno, "read the kernel log");
	r = open("/proc/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	gated("proc-kmsg-open", r, errno, "opened the kernel log");
	if (r >= 0)
		close((int)r);
	r = acct(NULL);
	gated("acct", r, errno, "CAP_SYS_PACCT");
	gethostname(host, sizeof(host) - 1);
	r = sethostname(host, strlen(host));
	gated("sethostname", r, errno, "set the host name (to its own value)");
	r = syscall(SYS_iopl, 3);
	gated("iopl", r, errno, "I/O port access");
	r = syscall(SYS_ioperm, 0x80, 1, 1);
	gated("ioperm", r, errno, "I/O port access");
}

static enum res pivot_child(void *arg, char *detail, size_t size)
{
	(void)arg;
	if (chdir("/") < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
		fmt(detail, size, "%s", errname(errno));
		return BLOCKED;
	}
	fmt(detail, size, "pivot_root succeeded");
	return ESCAPED;
}

/* chroot into a subdirectory, fchdir back out, climb, chroot there. */
static enum res chroot_child(void *arg, char *detail, size_t size)
{
	char why[768];
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	enum res r;

	(void)arg;
	if (root < 0 || (mkdir("/tmp/escape-chroot", 0700) < 0 && errno != EEXIST)) {
		fmt(detail, size, "setup: %s", errname(errno));
		return ERROR;
	}
	if (chroot("/tmp/escape-chroot") < 0) {
		fmt(detail, size, "chroot: %s", errname(errno));
		return BLOCKED;
	}
	if (fchdir(root) < 0) {
		fmt(detail, size, "fchdir: %s", errname(errno));
		return ERROR;
	}
	for (int i = 0; i < 256; i++)
		if (chdir("..") < 0)
			break;
	if (chroot(".") < 0) {
		fmt(detail, size, "second chroot: %s", errname(errno));
		return BLOCKED;
	}
	r = judge_path("/", why, sizeof(why));
	fmt(detail, size,
	    "chroot allowed (CAP_SYS_CHROOT is one of Docker's default capabilities); "
	    "after chroot, fchdir out, \"..\" x256, chroot \".\": %s",
	    why);
	return r;
}

static void ptrace_own(void)
{
	pid_t c = fork();
	long r;
	int st;

	if (c < 0) {
		report("ptrace-own-child", ERROR, "fork: %s", errname(errno));
		return;
	}
	if (c == 0) {
		pause();
		_exit(0);
	}
	r = ptrace(PTRACE_ATTACH, c, NULL, NULL);
	if (r < 0)
		report("ptrace-own-child", BLOCKED, "%s", errname(errno));
	else
		report("ptrace-own-child", EXPECTED,
		       "attached to a process of the container's own pid namespace (Docker's "
		       "default profile allows ptrace on kernels >= 4.8)");
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
}

/* A process running the container's own probe binary. */
static bool runs_own(int pid)
{
	char path[64];
	struct stat a, b;

	fmt(path, sizeof(path), "/proc/%d/exe", pid);
	return stat(path, &a) == 0 && stat("/bin/escape-probe", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* ptrace and process_vm_readv of every pid 1..max the container sees
 * (itself and its health checks: the host's are not there to try). One
 * running the container's own program is its own process: Docker's
 * profile allows ptrace of those (kernels >= 4.8); any other is not. */
static void ptrace_visible(void)
{
	char byte, first[128] = "";
	struct iovec local = {&byte, 1}, remote = {(void *)0x10000, 1};
	int tried = 0, got = 0, own = 0, max = 0, last = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)))
		max = atoi(e->d_name) > max ? atoi(e->d_name) : max;
	if (d)
		closedir(d);
	for (int pid = 1; pid <= max; pid++) {
		if (pid == getpid() || kill(pid, 0) < 0)
			continue;
		tried++;
		if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0 ||
		    process_vm_readv(pid, &local, 1, &remote, 1, 0) >= 0 || errno == EFAULT) {
			if (runs_own(pid))
				own++;
			else if (!got++)
				fmt(first, sizeof(first), "pid %d", pid);
		} else
			last = errno;
	}
	if (got)
		report("ptrace-visible-pids", ESCAPED,
		       "ptrace or process_vm_readv of %d of %d pids not running the container's "
		       "program, first %s",
		       got, tried, first);
	else if (own)
		report("ptrace-visible-pids", EXPECTED,
		       "ptrace of %d of the container's own processes (Docker's default profile "
		       "allows ptrace on kernels >= 4.8); %d pids tried",
		       own, tried);
	else
		report("ptrace-visible-pids", BLOCKED, "%d other pids up to %d tried%s%s", tried,
		       max, last ? ": " : " (the host's are hidden)", last ? errname(last) : "");
}

/* The container's pid namespace: pid 1 is the probe itself. */
static void pidns(void)
{
	char comm[64] = "";
	FILE *f = fopen("/proc/1/comm", "r");

	if (!f || !fgets(comm, sizeof(comm), f)) {
		report("pidns-host-visible", ERROR, "read /proc/1/comm: %s", errname(errno));
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	if (getpid() == 1)
		report("pidns-host-visible", BLOCKED, "the probe is pid 1 (%s): host pids hidden",
		       comm);
	else
		report("pidns-host-visible", ESCAPED, "the probe is pid %d; pid 1 is %s",
		       (int)getpid(), comm);
}

int probes_calls(void)
{
	keyrings();
	bpf_calls();
	perf_io_uring_uffd();
	kernel_loading();
	handles();
	machine();
	in_child("pivot-root", pivot_child, NULL);
	in_child("chroot-escape", chroot_child, NULL);
	ptrace_own();
	ptrace_visible();
	pidns();
	return 0;
}

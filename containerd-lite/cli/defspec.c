/* cli/defspec.c: the config.json `spec` writes. runc's layout, with Docker's
 * default capabilities and a seccomp allowlist equivalent to Docker's
 * default profile for the default capability set (what that profile allows
 * only with CAP_SYS_ADMIN, CAP_SYS_PTRACE and the like is left out). */
#include "../containerd-lite.h"
#include <jansson.h>
#include <stdlib.h>

static const char *const default_caps[] = {"CAP_CHOWN",
					   "CAP_DAC_OVERRIDE",
					   "CAP_FSETID",
					   "CAP_FOWNER",
					   "CAP_MKNOD",
					   "CAP_NET_RAW",
					   "CAP_SETGID",
					   "CAP_SETUID",
					   "CAP_SETFCAP",
					   "CAP_SETPCAP",
					   "CAP_NET_BIND_SERVICE",
					   "CAP_SYS_CHROOT",
					   "CAP_KILL",
					   "CAP_AUDIT_WRITE",
					   NULL};

/* runc's masked paths, and /sys/devices/virtual/powercap (RAPL energy
 * counters: the PLATYPUS side channel; masked by runc and moby too). */
static const char *const masked_paths[] = {"/proc/acpi",
					   "/proc/asound",
					   "/proc/kcore",
					   "/proc/keys",
					   "/proc/latency_stats",
					   "/proc/timer_list",
					   "/proc/timer_stats",
					   "/proc/sched_debug",
					   "/sys/firmware",
					   "/proc/scsi",
					   "/sys/devices/virtual/powercap",
					   NULL};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

/* Allowed for every container: the ordinary calls of processes, files,
 * memory, signals, time reading, sockets, IPC. Not here (so denied with
 * EPERM): mount and namespace calls, module and kexec loading, reboot,
 * swap, clock setting, keyrings, bpf, perf, ptrace, userfaultfd, acct,
 * quotactl, iopl/ioperm, open_by_handle_at, syslog, io_uring (a second
 * syscall interface that seccomp cannot see into, and a long run of kernel
 * escapes: moby dropped it in 2023), and clone with namespace flags
 * (below). Every difference from moby's default.json is deliberate and
 * listed in docs/containerd-lite.md; tests/containerd-lite/seccomp_moby.py
 * compares the two. */
static const char *const allowed[] = {"accept",
				      "accept4",
				      "access",
				      "adjtimex",
				      "alarm",
				      "bind",
				      "brk",
				      "capget",
				      "capset",
				      "chdir",
				      "chmod",
				      "chown",
				      "chown32",
				      "chroot",
				      "clock_adjtime",
				      "clock_adjtime64",
				      "clock_getres",
				      "clock_getres_time64",
				      "clock_gettime",
				      "clock_gettime64",
				      "clock_nanosleep",
				      "clock_nanosleep_time64",
				      "close",
				      "close_range",
				      "connect",
				      "copy_file_range",
				      "creat",
				      "dup",
				      "dup2",
				      "dup3",
				      "epoll_create",
				      "epoll_create1",
				      "epoll_ctl",
				      "epoll_ctl_old",
				      "epoll_pwait",
				      "epoll_pwait2",
				      "epoll_wait",
				      "epoll_wait_old",
				      "eventfd",
				      "eventfd2",
				      "execve",
				      "execveat",
				      "exit",
				      "exit_group",
				      "faccessat",
				      "faccessat2",
				      "fadvise64",
				      "fadvise64_64",
				      "fallocate",
				      "fanotify_mark",
				      "fchdir",
				      "fchmod",
				      "fchmodat",
				      "fchown",
				      "fchown32",
				      "fchownat",
				      "fcntl",
				      "fcntl64",
				      "fdatasync",
				      "fgetxattr",
				      "flistxattr",
				      "flock",
				      "fork",
				      "fremovexattr",
				      "fsetxattr",
				      "fstat",
				      "fstat64",
				      "fstatat64",
				      "fstatfs",
				      "fstatfs64",
				      "fsync",
				      "ftruncate",
				      "ftruncate64",
				      "futex",
				      "futex_time64",
				      "futex_waitv",
				      "futimesat",
				      "getcpu",
				      "getcwd",
				      "getdents",
				      "getdents64",
				      "getegid",
				      "getegid32",
				      "geteuid",
				      "geteuid32",
				      "getgid",
				      "getgid32",
				      "getgroups",
				      "getgroups32",
				      "getitimer",
				      "getpeername",
				      "getpgid",
				      "getpgrp",
				      "getpid",
				      "getppid",
				      "getpriority",
				      "getrandom",
				      "getresgid",
				      "getresgid32",
				      "getresuid",
				      "getresuid32",
				      "getrlimit",
				      "get_robust_list",
				      "getrusage",
				      "getsid",
				      "getsockname",
				      "getsockopt",
				      "get_thread_area",
				      "gettid",
				      "gettimeofday",
				      "getuid",
				      "getuid32",
				      "getxattr",
				      "inotify_add_watch",
				      "inotify_init",
				      "inotify_init1",
				      "inotify_rm_watch",
				      "io_cancel",
				      "ioctl",
				      "io_destroy",
				      "io_getevents",
				      "io_pgetevents",
				      "io_pgetevents_time64",
				      "ioprio_get",
				      "ioprio_set",
				      "io_setup",
				      "io_submit",
				      "ipc",
				      "kill",
				      "landlock_add_rule",
				      "landlock_create_ruleset",
				      "landlock_restrict_self",
				      "lchown",
				      "lchown32",
				      "lgetxattr",
				      "link",
				      "linkat",
				      "listen",
				      "listxattr",
				      "llistxattr",
				      "_llseek",
				      "lremovexattr",
				      "lseek",
				      "lsetxattr",
				      "lstat",
				      "lstat64",
				      "madvise",
				      "membarrier",
				      "memfd_create",
				      "memfd_secret",
				      "mincore",
				      "mkdir",
				      "mkdirat",
				      "mknod",
				      "mknodat",
				      "mlock",
				      "mlock2",
				      "mlockall",
				      "mmap",
				      "mmap2",
				      "mprotect",
				      "mq_getsetattr",
				      "mq_notify",
				      "mq_open",
				      "mq_timedreceive",
				      "mq_timedreceive_time64",
				      "mq_timedsend",
				      "mq_timedsend_time64",
				      "mq_unlink",
				      "mremap",
				      "msgctl",
				      "msgget",
				      "msgrcv",
				      "msgsnd",
				      "msync",
				      "munlock",
				      "munlockall",
				      "munmap",
				      "name_to_handle_at",
				      "nanosleep",
				      "newfstatat",
				      "_newselect",
				      "open",
				      "openat",
				      "openat2",
				      "pause",
				      "pidfd_open",
				      "pidfd_send_signal",
				      "pipe",
				      "pipe2",
				      "pkey_alloc",
				      "pkey_free",
				      "pkey_mprotect",
				      "poll",
				      "ppoll",
				      "ppoll_time64",
				      "prctl",
				      "pread64",
				      "preadv",
				      "preadv2",
				      "prlimit64",
				      "process_mrelease",
				      "pselect6",
				      "pselect6_time64",
				      "pwrite64",
				      "pwritev",
				      "pwritev2",
				      "read",
				      "readahead",
				      "readlink",
				      "readlinkat",
				      "readv",
				      "recv",
				      "recvfrom",
				      "recvmmsg",
				      "recvmmsg_time64",
				      "recvmsg",
				      "remap_file_pages",
				      "removexattr",
				      "rename",
				      "renameat",
				      "renameat2",
				      "restart_syscall",
				      "rmdir",
				      "rseq",
				      "rt_sigaction",
				      "rt_sigpending",
				      "rt_sigprocmask",
				      "rt_sigqueueinfo",
				      "rt_sigreturn",
				      "rt_sigsuspend",
				      "rt_sigtimedwait",
				      "rt_sigtimedwait_time64",
				      "rt_tgsigqueueinfo",
				      "sched_getaffinity",
				      "sched_getattr",
				      "sched_getparam",
				      "sched_get_priority_max",
				      "sched_get_priority_min",
				      "sched_getscheduler",
				      "sched_rr_get_interval",
				      "sched_rr_get_interval_time64",
				      "sched_setaffinity",
				      "sched_setattr",
				      "sched_setparam",
				      "sched_setscheduler",
				      "sched_yield",
				      "seccomp",
				      "select",
				      "semctl",
				      "semget",
				      "semop",
				      "semtimedop",
				      "semtimedop_time64",
				      "send",
				      "sendfile",
				      "sendfile64",
				      "sendmmsg",
				      "sendmsg",
				      "sendto",
				      "setfsgid",
				      "setfsgid32",
				      "setfsuid",
				      "setfsuid32",
				      "setgid",
				      "setgid32",
				      "setgroups",
				      "setgroups32",
				      "setitimer",
				      "setpgid",
				      "setpriority",
				      "setregid",
				      "setregid32",
				      "setresgid",
				      "setresgid32",
				      "setresuid",
				      "setresuid32",
				      "setreuid",
				      "setreuid32",
				      "setrlimit",
				      "set_robust_list",
				      "setsid",
				      "setsockopt",
				      "set_thread_area",
				      "set_tid_address",
				      "setuid",
				      "setuid32",
				      "setxattr",
				      "shmat",
				      "shmctl",
				      "shmdt",
				      "shmget",
				      "shutdown",
				      "sigaltstack",
				      "signalfd",
				      "signalfd4",
				      "sigprocmask",
				      "sigreturn",
				      "socketcall",
				      "socketpair",
				      "splice",
				      "stat",
				      "stat64",
				      "statfs",
				      "statfs64",
				      "statx",
				      "symlink",
				      "symlinkat",
				      "sync",
				      "sync_file_range",
				      "syncfs",
				      "sysinfo",
				      "tee",
				      "tgkill",
				      "time",
				      "timer_create",
				      "timer_delete",
				      "timer_getoverrun",
				      "timer_gettime",
				      "timer_gettime64",
				      "timer_settime",
				      "timer_settime64",
				      "timerfd_create",
				      "timerfd_gettime",
				      "timerfd_gettime64",
				      "timerfd_settime",
				      "timerfd_settime64",
				      "times",
				      "tkill",
				      "truncate",
				      "truncate64",
				      "ugetrlimit",
				      "umask",
				      "uname",
				      "unlink",
				      "unlinkat",
				      "utime",
				      "utimensat",
				      "utimensat_time64",
				      "utimes",
				      "vfork",
				      "vmsplice",
				      "wait4",
				      "waitid",
				      "waitpid",
				      "write",
				      "writev",
				      "arch_prctl",
				      "modify_ldt",
				      NULL};

static json_t *strv(const char *const *v)
{
	json_t *a = json_array();

	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* One rule allowing NAME when argument INDEX compares (OP) with VALUE. */
static json_t *arg_rule(const char *name, const char *op, json_int_t value)
{
	return json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names", name, "action",
			 "SCMP_ACT_ALLOW", "args", "index", 0, "value", value, "op", op);
}

static json_t *seccomp(void)
{
	json_t *rules = json_array();
	/* personality: only the harmless personas (Linux, its 32-bit twin,
	 * and querying with 0xffffffff) */
	static const json_int_t personas[] = {0, 8, 0x20000, 0x20008, 0xffffffff};

	json_array_append_new(
	    rules, json_pack("{s:o, s:s}", "names", strv(allowed), "action", "SCMP_ACT_ALLOW"));
	/* every socket family but AF_ALG (38: the kernel crypto API, the
	 * CVE-2026-31431 page-cache write) and AF_VSOCK (40: the hypervisor's
	 * channel), as moby today; one rule can test arg 0 only once, so
	 * three ranges */
	json_array_append_new(rules, arg_rule("socket", "SCMP_CMP_LT", 38));
	json_array_append_new(rules, arg_rule("socket", "SCMP_CMP_EQ", 39));
	json_array_append_new(rules, arg_rule("socket", "SCMP_CMP_GT", 40));
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		json_array_append_new(rules, arg_rule("personality", "SCMP_CMP_EQ", personas[i]));
	/* clone without any CLONE_NEW* flag (the mask of all of them) */
	json_array_append_new(rules,
			      json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names", "clone",
					"action", "SCMP_ACT_ALLOW", "args", "index", 0, "value",
					(json_int_t)2114060288, "op", "SCMP_CMP_MASKED_EQ"));
	/* clone3's flags are out of a filter's reach: ENOSYS makes libcs
	 * fall back to clone, which is checked above */
	json_array_append_new(rules, json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
					       "SCMP_ACT_ERRNO", "errnoRet", 38));
	return json_pack("{s:s, s:i, s:[s,s,s], s:o}", "defaultAction", "SCMP_ACT_ERRNO",
			 "defaultErrnoRet", 1, "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
			 "SCMP_ARCH_X32", "syscalls", rules);
}

static json_t *mount(const char *dest, const char *type, const char *src, const char *const *o)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", src,
			 "options", strv(o));
}

static json_t *mounts(void)
{
	static const char *const proc[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	static const char *const pts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
					  "mode=0620", "gid=5",	 NULL};
	static const char *const shm[] = {"nosuid",    "noexec",      "nodev",
					  "mode=1777", "size=65536k", NULL};
	static const char *const mq[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const cg[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};

	return json_pack(
	    "[o,o,o,o,o,o,o]", mount("/proc", "proc", "proc", proc),
	    mount("/dev", "tmpfs", "tmpfs", dev), mount("/dev/pts", "devpts", "devpts", pts),
	    mount("/dev/shm", "tmpfs", "shm", shm), mount("/dev/mqueue", "mqueue", "mqueue", mq),
	    mount("/sys", "sysfs", "sysfs", sys), mount("/sys/fs/cgroup", "cgroup", "cgroup", cg));
}

static json_t *process(void)
{
	json_t *caps = strv(default_caps), *p;

	p = json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[s,s], s:s, s:{s:O, s:O, s:O}, "
		      "s:[{s:s, s:i, s:i}], s:b}",
		      "terminal", 0, "user", "uid", 0, "gid", 0, "args", "sh", "env",
		      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		      "TERM=xterm", "cwd", "/", "capabilities", "bounding", caps, "effective", caps,
		      "permitted", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft",
		      1024, "noNewPrivileges", 1);
	json_decref(caps); /* "O" took its own references */
	return p;
}

char *cl_spec_default(void)
{
	/* runc's: deny every device but its defaults (added by the runtime) */
	json_t *lin = json_pack(
	    "{s:{s:[{s:b, s:s}]}, s:[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}], s:o, s:o, s:o}",
	    "resources", "devices", "allow", 0, "access", "rwm", "namespaces", "type", "pid",
	    "type", "network", "type", "ipc", "type", "uts", "type", "mount", "type", "cgroup",
	    "maskedPaths", strv(masked_paths), "readonlyPaths", strv(readonly_paths), "seccomp",
	    seccomp());
	json_t *doc = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2",
				"process", process(), "root", "path", "rootfs", "readonly", 1,
				"hostname", "containerd-lite", "mounts", mounts(), "linux", lin);
	char *text = doc ? json_dumps(doc, JSON_INDENT(8) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(doc);
	return text;
}

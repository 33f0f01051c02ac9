/* runtime/caps.c: the five capability sets, with capset(2) and prctl(2) directly
 * (no libcap: the kernel interface is two structs and three prctls). */
#include "cl-private.h"
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

enum { BOUNDING, EFFECTIVE, INHERITABLE, PERMITTED, AMBIENT };

int cl_cap_from_name(const char *name)
{
	for (int i = 0; i < NCAPS; i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return i;
	return -1;
}

const char *cl_cap_name(int cap)
{
	return cap >= 0 && cap < NCAPS ? cap_names[cap] : NULL;
}

/* The running kernel may know fewer capabilities than we do. */
static int last_cap(void)
{
	int last = NCAPS - 1;

	while (last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0)
		last--;
	return last;
}

/* Needs CAP_SETPCAP: done while the process is still root. */
int cl_caps_drop_bounding(const struct cl_spec *s, struct cl_err *e)
{
	int last = last_cap();

	for (int c = 0; c <= last; c++) {
		if (s->caps[BOUNDING] & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return cl_error(e, errno, "drop %s from the bounding set", cap_names[c]);
	}
	return 0;
}

/* After the uid switch (with PR_SET_KEEPCAPS): capset, then ambient. */
int cl_caps_apply(const struct cl_spec *s, struct cl_err *e)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	int last = last_cap();

	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(s->caps[EFFECTIVE] >> (32 * i));
		data[i].permitted = (uint32_t)(s->caps[PERMITTED] >> (32 * i));
		data[i].inheritable = (uint32_t)(s->caps[INHERITABLE] >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return cl_error(e, errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return cl_error(e, errno, "clear the ambient set");
	for (int c = 0; c <= last; c++) {
		if (!(s->caps[AMBIENT] & (1ULL << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return cl_error(e, errno, "raise %s in the ambient set", cap_names[c]);
	}
	return 0;
}

/*
 * sysctl.c: the kernel's hardening knobs, set once at boot before any
 * user, user-data or container exists (docs/hardening.md says why each).
 *
 * A table, not a file in /etc: the values are part of the image, as its
 * kernel config is. A knob that cannot be set is one warning naming it;
 * the boot goes on.
 */
#include "pid1.h"

#include <stdio.h>
#include <string.h>

static const char *const knobs[][2] = {
    /* links and files that a user plants for root to follow or open */
    {"fs.protected_symlinks", "1"},
    {"fs.protected_hardlinks", "1"},
    {"fs.protected_fifos", "2"},
    {"fs.protected_regular", "2"},
    {"fs.suid_dumpable", "0"},
    /* kernel addresses and logs, a local attacker's map */
    {"kernel.kptr_restrict", "2"},
    {"kernel.dmesg_restrict", "1"},
    /* interfaces unprivileged code has used to attack the kernel */
    {"kernel.unprivileged_bpf_disabled", "1"},
    {"kernel.perf_event_paranoid", "3"},
    {"kernel.yama.ptrace_scope", "1"},
    {"kernel.randomize_va_space", "2"},
    /* a fault's report names the process (a name anyone sets, escapes included) on the
     * console, which prints it raw to the operator's terminal */
    {"debug.exception-trace", "0"},
};

int sysctl_setup(const char *dir)
{
	char path[128];
	int failed = 0;

	for (size_t i = 0; i < ARRAY_LEN(knobs); i++) {
		const char *v = knobs[i][1];
		struct err e;

		snprintf(path, sizeof(path), "%s/%s", dir, knobs[i][0]);
		for (char *p = path + strlen(dir); *p; p++)
			*p = *p == '.' ? '/' : *p; /* kernel.yama.x is kernel/yama/x */
		if (write_value(path, v, &e) < 0) {
			log_msg(LOG_WARNING, "sysctl %s=%s: %s", knobs[i][0], v, strerror(e.num));
			failed++;
		}
	}
	return failed;
}

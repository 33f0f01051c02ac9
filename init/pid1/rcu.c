/*
 * rcu.c: expedited RCU grace periods while the boot runs.
 *
 * The kernel expedites RCU through its own boot and stops just before it
 * starts init (rcu_end_inkernel_boot()). But the boot's critical path
 * goes on waiting for grace periods in user space: every move of a
 * process into a cgroup (init's own, each unit's child joining its
 * group) takes cgroup_threadgroup_rwsem for writing, which waits for a
 * normal grace period, a few scheduler ticks: 8-12 ms each on a one-vCPU
 * guest (bench/RESULTS.md). Expedited grace periods end in microseconds
 * there, and cost an interrupt to each CPU on a large host, which a boot
 * can afford. So init asks for them from /sys's mount until the boot's
 * units have started, as the kernel does for its own part, and then
 * gives the setting back; unless the kernel's command line had already
 * asked for them (rcupdate.rcu_expedited=1), a choice left alone.
 */
#include "pid1.h"

#include <errno.h>

static const char *knob; /* set while init holds the setting */

void rcu_boot_begin(const char *path)
{
	char cur[8];
	struct err e;

	if (read_text(path, cur, sizeof(cur), &e) < 0) {
		if (e.num != ENOENT) /* a kernel with tiny RCU has no such knob */
			log_err(&e);
		return;
	}
	if (cur[0] != '0')
		return; /* the command line asked for it: not init's to undo */
	if (write_value(path, "1", &e) < 0) {
		log_err(&e);
		return;
	}
	knob = path;
}

void rcu_boot_end(void)
{
	struct err e;

	if (knob && write_value(knob, "0", &e) < 0)
		log_err(&e);
	knob = NULL;
}

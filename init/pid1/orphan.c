/*
 * orphan.c: the exits of children nobody claimed (orphans re-parented to
 * init), remembered for a while.
 *
 * A container's process is `create`'s child until `create` exits, then
 * init's. If it is killed in between (an OOM kill, root's kill), init may
 * reap it as an orphan before it reaps `create` and reads the pid file;
 * that pid is then free, and could be another process's by the time the
 * unit would `start` it or, failing that, SIGKILL it. So every orphan's
 * exit is kept in a ring, and a unit looks up its container's pid among
 * those since its `create` began (containerd's shim checks its "early
 * exits" the same way). No allocation, no syscall: just the ring.
 */
#include "pid1.h"

#define ORPHANS 32 /* more than that during one create: cannot tell */

static struct {
	pid_t pid;
	int st;
} ring[ORPHANS];
static uint64_t count; /* orphans reaped since boot */

void orphan_reaped(pid_t pid, int st)
{
	ring[count % ORPHANS].pid = pid;
	ring[count % ORPHANS].st = st;
	count++;
}

uint64_t orphan_mark(void)
{
	return count;
}

int orphan_ended(uint64_t since, pid_t pid, int *st)
{
	if (count - since > ORPHANS)
		return -1;
	for (uint64_t i = since; i < count; i++)
		if (ring[i % ORPHANS].pid == pid) {
			*st = ring[i % ORPHANS].st;
			return 1;
		}
	return 0;
}

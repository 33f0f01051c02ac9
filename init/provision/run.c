/*
 * run.c: the programs provision runs and waits for (bootcmd, mounts; and the
 * firewall's child, firewall.c), each in its own process group and killed with
 * it after its time; none before the host's firewall is in (firewall.c), since
 * any of them may bring up an interface. Under --root nothing runs: each is
 * recorded in the report.
 */
#include "provision.h"

#include <signal.h>
#include <sys/wait.h>

int cc_wait(const char *what, pid_t pid, uint64_t since, unsigned ms, struct ud_sink *w)
{
	struct err e;
	int st = 0;

	switch (spawn_wait(pid, since + ms, &st, &e)) {
	case 1:
		return st;
	case 0:
		kill(-pid, SIGKILL); /* its process group: what it started too */
		waitpid(pid, &st, 0);
		if (w)
			w->warn(w->ctx, "%s: killed after %u s", what, ms / 1000);
		return -1;
	default:
		if (w)
			w->warn(w->ctx, "%s: %s", what, e.msg);
		return -1;
	}
}

int cc_run(const char *what, char *const *argv, char *env, unsigned ms, struct ud_sink *w)
{
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", env, NULL};
	/* forked (no wait_exec): a user's command may live on any mount, provision must
	 * reach its deadline */
	struct spawn_req r = {.argv = argv, .envp = envp};
	uint64_t since;
	struct err e;
	pid_t pid;

	if (prov.dry) {
		cloudinit_report("not run (--root): %s", what);
		return -1;
	}
	fw_wait(); /* a command may bring up an interface: not before the host is closed */
	since = now_ms();
	if ((pid = spawn(&r, NULL, &e)) < 0) {
		if (w)
			w->warn(w->ctx, "%s: %s", what, e.msg);
		return -1;
	}
	return cc_wait(what, pid, since, ms, w);
}

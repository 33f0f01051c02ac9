/*
 * linked.c: TRANSITIONAL (issue 11), linked into PID 1 only, never into
 * provision. Until PID 1 spawns provision from its loop (the pid1 side of
 * the contract, docs/provisioning.md), its boot sequence still calls the
 * four entry points provision.h declared when provisioning was linked in.
 * Here the first one runs the program and waits for it, bounded, as
 * bootcmd was waited for before; the other three have nothing left to do.
 * This file and those four declarations go when PID 1 spawns provision.
 */
#include "provision.h"
#include "../pid1/pid1.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define PROVISION "/usr/libexec/wisp/provision"

/* Its wait status, or -1 after the deadline (killed) or when it could not start. */
static int run(const char *mode, unsigned timeout_s)
{
	char *argv[] = {PROVISION, (char *)mode, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	const struct spawn_req r = {.argv = argv, .envp = envp};
	uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000;
	struct err e;
	pid_t pid, done;
	int st = 0;

	if ((pid = spawn(&r, NULL, &e)) < 0) {
		log_err(&e);
		return -1;
	}
	while ((done = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		nanosleep(&(struct timespec){0, 10000000L}, NULL);
	if (done == 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
		log_msg(LOG_ERR, "provision passed its deadline of %u s", timeout_s);
		return -1;
	}
	return st;
}

/* The console line, and the same as "error: ..." in the report for `wispctl config`. */
static void tell(const char *msg)
{
	FILE *f = fopen(CLOUD_REPORT, "ae");

	log_msg(LOG_ERR, "%s", msg);
	if (f)
		fprintf(f, "error: %s\n", msg), fclose(f);
}

static bool failed(int st)
{
	char sig[16], msg[128];

	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return false;
	if (st < 0)
		snprintf(msg, sizeof(msg), "provision did not run, or passed its deadline");
	else if (WIFSIGNALED(st))
		snprintf(msg, sizeof(msg), "provision killed by signal %d (%s)", WTERMSIG(st),
			 signal_name(WTERMSIG(st), sig));
	else
		snprintf(msg, sizeof(msg), "provision exited with status %d", WEXITSTATUS(st));
	tell(msg);
	return true;
}

void cloudinit_setup(void)
{
	unsigned timeout = 300;
	char line[4096], tz[80];
	struct err e;

	if (read_text("/proc/cmdline", line, sizeof(line), &e) >= 0 &&
	    cmdline_uint(line, "wisp.provision_timeout", 86400, &timeout, &e) < 0)
		log_err(&e);
	if (failed(run(NULL, timeout))) {
		log_msg(LOG_ERR, "running provision in safe mode");
		if (failed(run("--safe", timeout)))
			tell("safe mode failed too; booting with " DECL_DIR " only");
	}
	units_set_overlay(CLOUD_UNITS);
	/* 00-environment.yaml's TZ, until decl.c reads a top-level environment: */
	if (read_text("/etc/TZ", tz, sizeof(tz), &e) > 0) {
		tz[strcspn(tz, "\n")] = '\0';
		snprintf(unit_tz, sizeof(unit_tz), "%s", tz);
	}
}

void net_setup(const char *sys)
{
	(void)sys;
}

void imgimport_setup(void)
{
}

void cloudinit_final(void)
{
}

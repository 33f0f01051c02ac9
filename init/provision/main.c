/*
 * main.c: /usr/libexec/wisp/provision, the boot's provisioning step as a
 * program of its own (docs/provisioning.md). PID 1 starts it once its loop
 * runs, with a deadline, and reads nothing of it but files: the declarations
 * in CLOUD_UNITS and the report. A crash here costs the datasource, never
 * the boot: PID 1 runs `provision --safe` then, and boots.
 *
 *   provision                       a normal boot: datasource, user-data, network
 *   provision --safe                the image's configuration only: network from
 *                                   /etc/wisp's network: or DHCP, image import
 *   provision --root DIR --seed DIR a fake tree on the build host (golden tests):
 *                                   paths under DIR, the datasource SEED, nothing run
 *   provision --root DIR --safe     safe mode on a fake tree
 *
 * Exit status 0: provisioning done (warnings are fine); 2: bad arguments;
 * 1: nothing could be written (no CLOUD_UNITS).
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
	static const char msg[] = "usage: provision [--safe] | --root DIR {--seed DIR | --safe}\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	return 2;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--safe"))
			prov.safe = true;
		else if (!strcmp(argv[i], "--root") && i + 1 < argc)
			prov.root = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			prov.seed = argv[++i];
		else
			return -1;
	}
	/* --root probes no device: its datasource is --seed, or none in safe mode */
	if ((prov.seed && !*prov.root) || (prov.safe && prov.seed) ||
	    (*prov.root && ((!prov.seed && !prov.safe) || prov.root[0] != '/')))
		return -1;
	prov.dry = *prov.root != '\0';
	return 0;
}

/* A rerun (safe mode after a failure) starts clean: no declaration, no cloud-final
 * variables, no seed noted for image-import by the run before. The report is emptied
 * by a normal run only. */
static int prepare(void)
{
	static char report[4096];
	char units[4096];
	struct err e;
	int fd;

	mkdir(ROOTED("/run"), 0755);
	mkdir(ROOTED("/run/wisp"), 0755);
	snprintf(report, sizeof(report), "%s", ROOTED(CLOUD_REPORT));
	cloudinit_report_to(report);
	/* safe mode keeps what the failed run reported and PID 1's "error: ..." after it.
	 * Root's only: a warning may quote user-data's words (a malformed env entry's
	 * secret); `wispctl config` reads it through PID 1 */
	fd = open(report, O_WRONLY | O_CREAT | (prov.safe ? 0 : O_TRUNC) | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd >= 0) {
		(void)fchmod(fd, 0600);
		close(fd);
	}
	unlink(ROOTED(CF_ENV));
	unlink(ROOTED(SEED_INFO)); /* the datasource's: safe mode imports from STATE only */
	unlink(ROOTED(LIVE_INFO)); /* written again by imgimport.c on a live boot */
	snprintf(units, sizeof(units), "%s", ROOTED(CLOUD_UNITS));
	if (declw_open(units, &e) < 0) {
		log_err(&e);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char etc[4096];
	uint64_t t0 = now_ms();

	log_set_ident("provision");
	if (parse_args(argc, argv) < 0)
		return usage();
	if (prov.dry)
		log_no_kmsg(); /* the build host's kernel log is not the fake tree's */
	else
		console_use("/dev/console");
	umask(022);
	if (prepare() < 0)
		return 1;
	/* declarations name users: looked up in the tree they are written for */
	snprintf(etc, sizeof(etc), "%s", ROOTED("/etc"));
	decl_set_etc(etc);
	fw_start(); /* closed before any interface is up: beside the datasource's probe */
	if (prov.safe) {
		log_msg(LOG_NOTICE, "safe mode: no datasource, no user-data");
		cloudinit_report("datasource: none (safe mode)");
	} else
		cloudinit_setup();
	net_setup("/sys");
	imgimport_setup();
	cloudinit_final();
	fw_apply();	/* open for what this boot serves: sshd's port; waited for */
	bootgood_add(); /* last: it depends on what the others declared */
	declw_close();
	log_msg(LOG_INFO, "done%s (%llu ms)", prov.safe ? " in safe mode" : "",
		(unsigned long long)(now_ms() - t0));
	return 0;
}

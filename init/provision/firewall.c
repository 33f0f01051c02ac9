/*
 * firewall.c: the host's firewall at every boot (issue 13 point 5,
 * docs/network.md, "Host firewall"). provision closes the host before it
 * brings up an interface or runs anything, then opens what this boot serves
 * once it knows: the ports the image's spec opens (firewall.allow,
 * /etc/wisp/firewall) and the SSH port when an sshd is declared. The table
 * is containerd-lite's (`network firewall`, net/fw.c), applied in one
 * batch each time. Never on the build host (--root).
 *
 * The first table runs beside the datasource's probe (fw_start(): ~100 ms of
 * containerd-lite's exec and nf_tables' first use under TCG, which a seed's
 * reading overlaps), and everything that could bring up an interface waits for
 * it (fw_wait()): every command provision runs (cc_run(): bootcmd, mounts), the
 * EC2 helper's one-shot lease (ds.c), and provision's end, after which PID 1
 * starts the network units. Reading a seed from a disk needs no interface.
 * It runs at FW_NICE: on one vCPU the probe and the parse, which decide the
 * boot, go first, and the table takes the CPU when provision waits for it; its
 * deadline counts from that wait.
 */
#include "provision.h"

#include <stdlib.h>
#include <string.h>

#define FW_MAX	 65 /* the image's 32, user-data's 32 and SSH's */
#define FW_IMAGE "/etc/wisp/firewall"
#define FW_MS	 10000u /* containerd-lite's batch takes ~100 ms under TCG */
#define FW_NICE	 10	/* a tenth of the CPU while provision's own work runs */
#ifndef FW_BIN		/* a slow stand-in in tests/unit/test_init_firewall.c's build only */
#define FW_BIN "/bin/containerd-lite"
#endif

static char *fw_allowed[FW_MAX + 1];
static unsigned fw_n;

void fw_allow(const char *port)
{
	for (unsigned i = 0; i < fw_n; i++)
		if (!strcmp(fw_allowed[i], port))
			return;
	if (fw_n < FW_MAX && (fw_allowed[fw_n] = strdup(port)))
		fw_n++;
}

/* The image's firewall.allow: one "PORT/PROTO" a line, checked by image-builder
 * (and again by containerd-lite). */
static void image_allows(void)
{
	static char buf[2048];
	char *line, *save = NULL;
	struct err e;

	if (read_text(ROOTED(FW_IMAGE), buf, sizeof(buf), &e) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (*line && *line != '#')
			fw_allow(line);
}

static char *argv[4 + 2 * FW_MAX] = {FW_BIN, "network", "firewall"};
static char opened[1024];   /* "22/tcp, 8080/tcp": what the report says is open */
static unsigned applied_n;  /* fw_n when the table was last made */
static int applied_st = -1; /* its wait status; -1: none made (or not known yet) */
static pid_t first = -1;    /* the first table's containerd-lite while it may run */

/* argv and opened for fw_allowed[] as they are. */
static void fill(void)
{
	size_t len = 0;
	int n = 3;

	opened[0] = '\0';
	for (unsigned i = 0; i < fw_n; i++) {
		argv[n++] = "--allow";
		argv[n++] = fw_allowed[i];
		if (len < sizeof(opened))
			len += (size_t)snprintf(opened + len, sizeof(opened) - len, "%s%s",
						i ? ", " : "", fw_allowed[i]);
	}
	argv[n] = NULL;
}

static void failed(int st)
{
	if (st != 0)
		log_msg(LOG_ERR,
			"firewall: containerd-lite network firewall failed (%d): "
			"the host's ports are not filtered",
			st);
}

void fw_start(void)
{
	struct err e;

	if (prov.dry)
		return;
	image_allows();
	fill();
	applied_n = fw_n;
	if ((first = cc_spawn(argv, NULL, FW_NICE, true, &e)) < 0) { /* on ROOT */
		log_err(&e);
		failed(applied_st = -1);
	}
}

void fw_wait(void)
{
	if (first < 0)
		return;
	applied_st = cc_wait("firewall", first, now_ms(), FW_MS, NULL); /* FW_MS of full CPU */
	first = -1;
	failed(applied_st);
}

/* `containerd-lite network firewall --allow P...` again if this boot opened a port
 * since the first (an sshd's): the same table again would cost the boot an exec of
 * containerd-lite. A failure leaves the host as it was, and says so in the report
 * (`wispctl config`). */
void fw_apply(void)
{
	int st;

	if (prov.dry)
		return;
	fw_wait();
	if (applied_st == 0 && applied_n == fw_n) {
		st = 0; /* fw_allow() only adds: the same count is the same table */
	} else {
		fill();
		st = cc_run("firewall", argv, NULL, FW_MS, NULL);
		failed(st);
	}
	cloudinit_report("firewall: %s%s%s", st ? "FAILED, ports not filtered" : "closed",
			 st || !fw_n ? "" : " but for ", st ? "" : opened);
}

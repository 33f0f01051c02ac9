/*
 * firewall.c: the host's firewall at every boot (issue 13 point 5,
 * docs/network.md, "Host firewall"). provision closes the host before it
 * brings up an interface or runs anything, then opens what this boot serves
 * once it knows: the ports the image's spec opens (firewall.allow,
 * /etc/wisp/firewall) and the SSH port when an sshd is declared. The table
 * is containerd-lite's (cl_host_firewall(), net/fw.c, linked in), made whole
 * in one batch; the ports opened after it (an sshd's) are added to it in
 * another (cl_host_firewall_add()). Never on the build host (--root).
 *
 * Linked, not run: at boot `containerd-lite network firewall` cost ~100 ms
 * under TCG before its first rule, reading and hashing 1 MB of ROOT through
 * dm-verity and lz4 the first time; the batch itself costs ~15 ms.
 *
 * The first table is made by a forked child beside the datasource's probe
 * (fw_start(); a seed's reading overlaps it), and everything that could bring
 * up an interface waits for it (fw_wait()): every command provision runs
 * (cc_run(): bootcmd, mounts), the EC2 helper's one-shot lease (ds.c), and
 * provision's end, after which PID 1 starts the network units. Reading a seed
 * from a disk needs no interface. The child runs at FW_NICE: on one vCPU the
 * probe and the parse, which decide the boot, go first, and the table takes
 * the CPU when provision waits for it; its deadline counts from that wait.
 */
#include "provision.h"

#include "containerd-lite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define FW_MAX	 CL_FW_MAX_PORTS /* the image's 32, user-data's 32 and SSH's */
#define FW_IMAGE "/etc/wisp/firewall"
#define FW_MS	 10000u /* the batch takes ~15-100 ms under TCG */
#define FW_NICE	 10	/* a tenth of the CPU while provision's own work runs */

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

static char opened[1024];   /* "22/tcp, 8080/tcp": what the report says is open */
static unsigned applied_n;  /* fw_n when the table was last made */
static int applied_st = -1; /* its wait status; -1: none made (or not known yet) */
static pid_t first = -1;    /* the first table's child while it may run */

#define NOT_FILTERED "the host's ports are not filtered"

/* The table for fw_allowed[] as they are; 0 or -1 (logged). */
static int make_table(void)
{
	struct cl_err e = {0};

	applied_n = fw_n;
	if (cl_host_firewall((const char *const *)fw_allowed, fw_n, false, &e) == 0)
		return 0;
	log_msg(LOG_ERR, "firewall: %s: " NOT_FILTERED, e.msg);
	return -1;
}

/* opened[] for fw_allowed[] as they are. */
static void fill(void)
{
	size_t len = 0;

	opened[0] = '\0';
	for (unsigned i = 0; i < fw_n && len < sizeof(opened); i++)
		len += (size_t)snprintf(opened + len, sizeof(opened) - len, "%s%s", i ? ", " : "",
					fw_allowed[i]);
}

/* Forked, not exec'd: the child is provision's own pages. Its own process group, as
 * cc_wait() expects of what it kills at the deadline. */
void fw_start(void)
{
	if (prov.dry)
		return;
	image_allows();
	applied_n = fw_n;
	first = fork();
	if (first == 0) {
		setpgid(0, 0);
		setpriority(PRIO_PROCESS, 0, FW_NICE);
		_exit(make_table() < 0);
	}
	if (first < 0)
		log_msg(LOG_ERR, "firewall: fork: %s: " NOT_FILTERED, strerror(errno));
	else
		setpgid(first, first); /* either call wins; the other fails harmlessly */
}

void fw_wait(void)
{
	if (first < 0)
		return;
	applied_st = cc_wait("firewall", first, now_ms(), FW_MS, NULL); /* FW_MS of full CPU */
	first = -1;
	/* exit status 1: the child said why */
	if (applied_st != 0 && !(WIFEXITED(applied_st) && WEXITSTATUS(applied_st) == 1))
		log_msg(LOG_ERR, "firewall: the table's child ended (%d): " NOT_FILTERED,
			applied_st);
}

/* The ports opened since the first table (an sshd's) added to it: a rule each, not
 * the table again (~10 ms of nf_tables under TCG); the same table either way. 0 or -1
 * (logged: the whole table is then tried). */
static int add_rest(void)
{
	struct cl_err e = {0};
	unsigned from = applied_n;

	applied_n = fw_n;
	if (cl_host_firewall_add((const char *const *)fw_allowed + from, fw_n - from, &e) == 0)
		return 0;
	log_msg(LOG_WARNING, "%s; making the table whole", e.msg);
	return -1;
}

/* In provision, what this boot opened since the first table (an sshd's port). A
 * failure leaves the host as it was, and says so in the report (`wispctl config`). */
void fw_apply(void)
{
	int st;

	if (prov.dry)
		return;
	fw_wait();
	if (applied_st == 0 && applied_n == fw_n)
		st = 0; /* fw_allow() only adds: the same count is the same table */
	else if (applied_st == 0 && add_rest() == 0)
		st = 0;
	else
		st = make_table();
	fill();
	cloudinit_report("firewall: %s%s%s", st ? "FAILED, ports not filtered" : "closed",
			 st || !fw_n ? "" : " but for ", st ? "" : opened);
}

/*
 * firewall.c: the host's firewall at every boot (issue 13 point 5,
 * docs/network.md, "Host firewall"). provision closes the host before it
 * brings up an interface or asks a datasource, then opens what this boot
 * serves once it knows: the ports the image's spec opens (firewall.allow,
 * /etc/wisp/firewall) and the SSH port when an sshd is declared. The table
 * is containerd-lite's (`network firewall`, net/fw.c), applied in one
 * batch each time. Never on the build host (--root).
 */
#include "provision.h"

#include <stdlib.h>
#include <string.h>

#define FW_MAX	 65 /* the image's 32, user-data's 32 and SSH's */
#define FW_IMAGE "/etc/wisp/firewall"

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

/* `containerd-lite network firewall --allow P...`; a failure leaves the host
 * as it was, and says so (in the report when FINAL: `wispctl config`). The
 * final one runs only if this boot opened a port since the first (an sshd's):
 * the same table again would cost the boot an exec of containerd-lite. */
void fw_apply(bool final)
{
	char *argv[4 + 2 * FW_MAX] = {"/bin/containerd-lite", "network", "firewall"}, opened[1024];
	static bool loaded;
	static unsigned applied_n;
	static int applied_st = -1;
	size_t len = 0;
	int n = 3, st;

	if (prov.dry)
		return;
	if (!loaded)
		image_allows();
	loaded = true;
	opened[0] = '\0';
	for (unsigned i = 0; i < fw_n; i++) {
		argv[n++] = "--allow";
		argv[n++] = fw_allowed[i];
		if (len < sizeof(opened))
			len += (size_t)snprintf(opened + len, sizeof(opened) - len, "%s%s",
						i ? ", " : "", fw_allowed[i]);
	}
	if (final && applied_st == 0 && applied_n == fw_n)
		st = 0; /* fw_allow() only adds: the same count is the same table */
	else
		st = cc_run("firewall", argv, NULL, 10000, NULL);
	applied_st = st;
	applied_n = fw_n;
	if (st != 0)
		log_msg(LOG_ERR,
			"firewall: containerd-lite network firewall failed (%d): "
			"the host's ports are not filtered",
			st);
	if (final)
		cloudinit_report("firewall: %s%s%s", st ? "FAILED, ports not filtered" : "closed",
				 st || !fw_n ? "" : " but for ", st ? "" : opened);
}

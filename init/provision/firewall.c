/*
 * firewall.c: the host's firewall at every boot (issue 13 point 5,
 * docs/network.md, "Host firewall"). provision closes the host before it
 * brings up an interface or asks a datasource, then opens what this boot
 * serves once it knows: the SSH port when an sshd is declared. The table
 * is containerd-lite's (`network firewall`, net_fw.c), applied in one
 * batch each time. Never on the build host (--root).
 */
#include "provision.h"

#include <string.h>

#define FW_MAX 8

static char *fw_allowed[FW_MAX + 1];
static unsigned fw_n;

void fw_allow(const char *port)
{
	for (unsigned i = 0; i < fw_n; i++)
		if (!strcmp(fw_allowed[i], port))
			return;
	if (fw_n < FW_MAX)
		fw_allowed[fw_n++] = (char *)port;
}

/* `containerd-lite network firewall --allow P...`; a failure leaves the host
 * as it was, and says so (in the report when FINAL: `wispctl config`). */
void fw_apply(bool final)
{
	char *argv[4 + 2 * FW_MAX] = {"/bin/containerd-lite", "network", "firewall"};
	int n = 3, st;

	if (prov.dry)
		return;
	for (unsigned i = 0; i < fw_n; i++) {
		argv[n++] = "--allow";
		argv[n++] = fw_allowed[i];
	}
	st = cc_run("firewall", argv, NULL, 10000, NULL);
	if (st != 0)
		log_msg(LOG_ERR,
			"firewall: containerd-lite network firewall failed (%d): "
			"the host's ports are not filtered",
			st);
	if (final)
		cloudinit_report("firewall: %s%s", st ? "FAILED, ports not filtered" : "closed",
				 st || !fw_n ? "" : " but for the SSH port");
}

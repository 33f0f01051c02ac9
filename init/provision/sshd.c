/*
 * sshd.c: the SSH server, when cloud-config gave authorized keys
 * (docs/cloud-config.md, "SSH").
 *
 * Without a key nobody could log in, so then there is no server and no
 * open port. With one, dropbear runs as the unit "sshd" (30-sshd.yaml): in the
 * foreground, so that init supervises and restarts it; on stderr, its unit
 * log (it is built without syslog); key-only (password authentication is
 * not compiled in); root refused (-w), as cloud-init's disable_root.
 * dropbear makes each host key itself at the first connection that wants
 * its type (-R), in SSHD_KEYS on STATE, so keys survive reboots.
 */
#include "provision.h"

#include <sys/stat.h>

/* The host key paths compiled into dropbear (rootfs/dropbear-localoptions.h). */
#define SSHD_KEYS "/var/lib/wisp/ssh"

void sshd_add(void)
{
	/* init's oom_score_adj (-999, every host service's) would pass to each
	 * login: a user's memory hog outranked only by containers, which the
	 * OOM killer would take first. dropbear cannot reset its sessions as
	 * OpenSSH does, so it starts at 0; written as root, 0 is also the
	 * floor a login cannot go under (oom_score_adj_min). */
	static const char *const argv[] = {
	    "/bin/sh", "-c", "echo 0 >/proc/self/oom_score_adj && exec /usr/sbin/dropbear -F -R -w",
	    NULL};

	fw_allow("22/tcp"); /* any sshd: the port SSH clients ask for */
	/* user-data's wisp: services declared an sshd of its own: theirs it is */
	if (declw_declared("sshd")) {
		log_msg(LOG_NOTICE, "sshd: declared by user-data; the built-in one is not added");
		return;
	}
	/* dropbear -R writes the key files, but not their directory */
	mkdir(ROOTED("/var/lib/wisp"), 0755);
	mkdir(ROOTED(SSHD_KEYS), 0700);
	cc_unit_add(30, "sshd", argv, KIND_SERVICE, NULL,
		    "SSH: cloud-config wrote authorized keys");
}

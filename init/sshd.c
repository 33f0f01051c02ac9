/*
 * sshd.c: the SSH server, when cloud-config gave authorized keys
 * (docs/cloud-config.md, "SSH").
 *
 * Without a key nobody could log in, so then there is no server and no
 * open port. With one, dropbear runs as the unit "sshd": in the
 * foreground, so that init supervises and restarts it; on stderr, its unit
 * log (it is built without syslog); key-only (password authentication is
 * not compiled in); root refused (-w), as cloud-init's disable_root.
 * dropbear makes each host key itself at the first connection that wants
 * its type (-R), in SSHD_KEYS on STATE, so keys survive reboots.
 */
#include "init.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The host key paths compiled into dropbear (rootfs/dropbear-localoptions.h). */
#define SSHD_KEYS "/var/lib/wisp/ssh"

void sshd_add(void)
{
	static const char *const argv[] = {"/usr/sbin/dropbear", "-F", "-R", "-w", NULL};
	const size_t argc = sizeof(argv) / sizeof(*argv) - 1;
	struct decl d = {.kind = KIND_SERVICE, .restart = RESTART_ALWAYS};
	struct err e;

	/* dropbear -R writes the key files, but not their directory */
	mkdir("/var/lib/wisp", 0755);
	mkdir(SSHD_KEYS, 0700);
	d.backoff_initial_ms = BACKOFF_MIN_MS;
	d.backoff_max_ms = BACKOFF_MAX_MS;
	d.backoff_reset_ms = BACKOFF_RESET_MS;
	d.name = strdup("sshd");
	d.file = strdup("cloud-init");
	d.argv = calloc(argc + 1, sizeof(char *));
	d.env = calloc(1, sizeof(char *));
	for (size_t i = 0; argv[i] && d.argv; i++)
		if (!(d.argv[i] = strdup(argv[i])))
			break;
	if (!d.name || !d.file || !d.argv || !d.env || !d.argv[argc - 1]) {
		decl_clear(&d);
		log_msg(LOG_ERR, "sshd: out of memory");
		return;
	}
	/* EEXIST: user-data's wisp: services declared an sshd of its own */
	if (units_add(&d, &e) < 0)
		log_msg(LOG_WARNING, "sshd: %s; the SSH server is not added", e.msg);
}

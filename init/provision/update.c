/*
 * update.c: user-data's wisp.update (docs/update.md): the unit update-apply,
 * which applies the bundle at URL once the network units have started
 * (`update apply URL --if-newer`: a bundle the host already runs is nothing to
 * do, so that the same user-data at the next boot does not loop), checked
 * against the given SHA-256, then reboots now, never, or at the next HH:MM
 * UTC. A failure (the server not there yet) restarts it with backoff.
 *
 * The URL is in the unit's env (WISP_UPDATE_URL, the updater's UPD_URL_ENV), not
 * its command: a presigned URL's query is a credential, a command line is every
 * user's to read (/proc/PID/cmdline), an environment root's alone, and so is the
 * declaration (0600 in a 0700 directory, declw.c).
 */
#include "provision.h"

#include <stdio.h>
#include <string.h>

void update_unit(const char *url, const char *sha256, const char *reboot)
{
	const char *argv[10] = {"/usr/libexec/wisp/update", "apply", "--if-newer"};
	char kv[sizeof("WISP_UPDATE_URL=") + strlen(url)], *env[2] = {kv, NULL};
	size_t n = 3;
	const struct wunit u = {.name = "update-apply",
				.kind = KIND_ONESHOT,
				.argv = (char *const *)argv,
				.restart = RESTART_ON_FAILURE,
				.after = net_units(),
				.about = "user-data's wisp.update: a bundle applied at boot",
				.env = env};

	snprintf(kv, sizeof(kv), "WISP_UPDATE_URL=%s", url);
	if (sha256)
		argv[n++] = "--sha256", argv[n++] = sha256;
	if (!reboot || !strcmp(reboot, "now"))
		argv[n++] = "--reboot";
	else if (strcmp(reboot, "never") != 0)
		argv[n++] = "--reboot-at", argv[n++] = reboot;
	argv[n] = NULL;
	declw_unit(80, &u);
}

/*
 * imgimport.c: image archives dropped into /var/lib/wisp/import (on
 * STATE) or carried by the datasource's seed in wisp-images/ are imported
 * at boot (docs/images.md). Importing reads and hashes whole archives,
 * which PID 1's loop must never wait for, so init only looks whether the
 * directory has an entry or ds.c noted a seed with images, and then adds
 * the oneshot unit image-import, running the helper script, which runs
 * `containerd-lite image import-dir` on the drop directory and imports
 * and marks the seed's archives, one log line for each. Container units
 * wait for it when it exists.
 */
#include "provision.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORT_DIR    "/var/lib/wisp/import"
#define IMPORT_HELPER "/usr/libexec/wisp/image-import" /* rootfs/skel/usr/libexec/wisp/ */

/* Names import-dir skips: dot names (copies in progress), failed/ and
 * the NAME.name files beside archives. */
static bool archive_name(const char *s)
{
	size_t n = strlen(s);

	return s[0] != '.' && strcmp(s, "failed") != 0 && !(n > 5 && !strcmp(s + n - 5, ".name"));
}

bool imgimport_pending(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = archive_name(de->d_name);
	closedir(d);
	return found;
}

bool imgimport_wanted(const char *drop, const char *seed)
{
	return imgimport_pending(drop) || access(seed, F_OK) == 0;
}

void imgimport_setup(void)
{
	struct decl d = {.kind = KIND_ONESHOT, .restart = RESTART_NO};
	struct err e;

	if (!imgimport_wanted(IMPORT_DIR, SEED_INFO))
		return;
	d.name = strdup(IMAGE_IMPORT);
	d.file = strdup(IMPORT_DIR);
	d.argv = calloc(2, sizeof(char *));
	d.env = calloc(1, sizeof(char *));
	if (d.argv)
		d.argv[0] = strdup(IMPORT_HELPER);
	if (!d.name || !d.file || !d.env || !d.argv || !d.argv[0]) {
		decl_clear(&d);
		log_msg(LOG_ERR, "%s: out of memory", IMAGE_IMPORT);
		return;
	}
	if (units_add(&d, &e) < 0)
		log_msg(LOG_ERR, "%s: %s", IMAGE_IMPORT, e.msg);
}

/*
 * imgimport.c: image archives dropped into /var/lib/wisp/import (on
 * STATE) or carried by the datasource's seed in wisp-images/ are imported
 * at boot (docs/images.md). Importing reads and hashes whole archives,
 * which the boot must never wait for, so provision only looks whether the
 * directory has an entry or ds.c noted a seed with images, and then declares
 * the oneshot unit image-import (20-image-import.yaml), running the helper script, which runs
 * `containerd-lite image import-dir` on the drop directory and imports
 * and marks the seed's archives, one log line for each. Container units
 * wait for it when it exists. A live boot (wisp.live=1: /var is a tmpfs)
 * has none of STATE's images: image-builder put the spec's archives into
 * ROOT (LIVE_IMAGES, verified by dm-verity with the rest of ROOT), and
 * provision notes them in LIVE_INFO for the helper to import.
 */
#include "provision.h"

#include <dirent.h>
#include <stdio.h>
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

bool imgimport_live(const char *cmdline, const char *dir, const char *info)
{
	struct err e;

	if (!cmdline_live(cmdline) || !imgimport_pending(dir))
		return false;
	if (write_file(info, LIVE_IMAGES "\n", sizeof(LIVE_IMAGES), 0644, &e) < 0) {
		log_err(&e); /* the containers will find no image: their errors say which */
		return false;
	}
	return true;
}

void imgimport_setup(void)
{
	static char *const argv[] = {IMPORT_HELPER, NULL};
	const struct wunit u = {.name = IMAGE_IMPORT,
				.kind = KIND_ONESHOT,
				.argv = argv,
				.restart = RESTART_NO,
				.about = "image archives wait in " IMPORT_DIR " or on the seed"};
	char drop[4096], line[4096], live[4096];
	struct err e;
	bool is_live;

	snprintf(drop, sizeof(drop), "%s", ROOTED(IMPORT_DIR));
	snprintf(live, sizeof(live), "%s", ROOTED(LIVE_IMAGES));
	is_live = !prov.dry && read_text("/proc/cmdline", line, sizeof(line), &e) >= 0 &&
		  imgimport_live(line, live, ROOTED(LIVE_INFO));
	if (is_live || imgimport_wanted(drop, ROOTED(SEED_INFO)))
		declw_unit(20, &u);
}

/*
 * imgimport.c: image archives dropped into /var/lib/wisp/import (on
 * STATE) are imported at boot (docs/images.md). Importing reads and
 * hashes whole archives, which PID 1's loop must never wait for, so init
 * only looks whether the directory has an entry and then adds the oneshot
 * unit image-import, running `containerd-lite image import-dir`, which
 * imports, removes or sets aside each archive and logs one line for it.
 * Container units wait for it when it exists.
 */
#include "init.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_DIR  "/var/lib/wisp/import"
#define IMPORT_UNIT "image-import"

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

void imgimport_setup(void)
{
	static const char *const argv[] = {"/bin/containerd-lite", "image", "import-dir",
					   IMPORT_DIR, NULL};
	struct decl d = {.kind = KIND_ONESHOT, .restart = RESTART_NO};
	struct err e;

	if (!imgimport_pending(IMPORT_DIR))
		return;
	d.name = strdup(IMPORT_UNIT);
	d.file = strdup(IMPORT_DIR);
	d.argv = calloc(ARRAY_LEN(argv), sizeof(char *));
	d.env = calloc(1, sizeof(char *));
	for (size_t i = 0; d.argv && argv[i]; i++)
		d.argv[i] = strdup(argv[i]);
	if (!d.name || !d.file || !d.env || !d.argv || !d.argv[ARRAY_LEN(argv) - 2]) {
		decl_clear(&d);
		log_msg(LOG_ERR, "%s: out of memory", IMPORT_UNIT);
		return;
	}
	if (units_add(&d, &e) < 0)
		log_msg(LOG_ERR, "%s: %s", IMPORT_UNIT, e.msg);
}

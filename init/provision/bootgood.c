/*
 * bootgood.c: the unit that ends an update's trial boot (docs/update.md).
 *
 * The updater's `mark-good` must run once every unit declared `critical:
 * true` is healthy, in the image's /etc/wisp or in what this run declared
 * from user-data. That is a oneshot depending on each with condition
 * healthy: PID 1's ordinary ordering does the waiting, and PID 1 knows
 * nothing of updates. Declared last, when every other declaration of this
 * run is in CLOUD_UNITS. Not on the live CD, which has no grubenv to write.
 */
#include "provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARK_GOOD "/usr/libexec/wisp/update"

static void quiet(void *ctx, const char *msg)
{
	(void)ctx, (void)msg; /* each file's problems are reported where it is loaded */
}

/* A critical unit of v[i]'s name before it (user-data's unit of the image's name). */
static bool listed_before(const struct decls *set, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (set->v[j].critical && !strcmp(set->v[j].name, set->v[i].name))
			return true;
	return false;
}

/* Each critical unit of set, once, as FMT's %s. Returns how many. */
static size_t each_critical(FILE *f, const struct decls *set, const char *fmt)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct decl *d = &set->v[i];

		if (!d->critical || listed_before(set, i))
			continue;
		fprintf(f, fmt, d->name);
		n++;
	}
	return n;
}

/*
 * mark-good names the critical units too: PID 1's "healthy" holds from the start of a
 * unit without a health check, so mark-good asks again whether each is up steadily; until
 * it is, mark-good fails and PID 1 runs it again after its backoff (restart: on-failure).
 */
void bootgood_add(void)
{
	struct decls set = {0};
	char *text = NULL, line[4096];
	size_t len = 0;
	struct err e;
	FILE *f;

	/* the live CD (wisp.live=1): no slots, no grubenv, nothing to mark */
	if (!prov.dry && read_text("/proc/cmdline", line, sizeof(line), &e) >= 0 &&
	    cmdline_live(line))
		return;
	if (!(f = open_memstream(&text, &len)))
		return;
	decl_load_dir(&set, ROOTED("/etc/wisp"), quiet, NULL);
	decl_load_dir(&set, ROOTED(CLOUD_UNITS), quiet, NULL);
	fputs("# Written by provision: the updater marks this boot good once the critical units\n"
	      "# are up (docs/update.md).\n"
	      "services:\n  - name: boot-good\n    kind: oneshot\n"
	      "    command: [" MARK_GOOD ", mark-good",
	      f);
	each_critical(f, &set, ", %s");
	fputs("]\n    restart: on-failure\n"
	      "    restart_delay: {initial: 1s, max: 10s}\n",
	      f);
	if (each_critical(f, &set, "") > 0) {
		fputs("    depends_on:\n", f);
		each_critical(f, &set, "      %s: {condition: healthy}\n");
	}
	if (fclose(f) == 0)
		declw_text(99, "boot-good", text);
	free(text);
	decls_free(&set);
}

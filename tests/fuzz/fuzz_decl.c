/*
 * Fuzz target: the declaration parser (init/lib/decl.c + yamltree.c +
 * parse.c + deps.c), as init runs it at boot: load a file, check the
 * dependencies, build each environment, free everything.
 *
 * The parser reads files, so the input goes into a memfd read back
 * through /proc/self/fd (a regular file to fstat, no disk involved).
 * Build and run: bench/fuzz.sh.
 */
#include "lib/decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

static void ignore(void *ctx, const char *msg)
{
	/* Every message is a complete line naming a position. */
	(void)ctx;
	if (!strchr(msg, ':'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decls set = {0};

	if (fd < 0) {
		fd = memfd_create("decl", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		decl_set_etc("/nonexistent"); /* user names fail the same way on every host */
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	decl_load_file(&set, path, ignore, NULL);
	deps_check(&set, ignore, NULL);
	for (size_t i = 0; i < set.n; i++) {
		char **env = decl_environ(&set.v[i], set.environment);
		strv_free(env);
	}
	decls_free(&set);
	return 0;
}

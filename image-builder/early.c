/*
 * early.c: ROOT's early units, compiled (docs/declarations.md, "Compiled
 * early units").
 *
 * PID 1 starts the units declared `early: true` before provisioning from
 * /etc/wisp/early.compiled alone: parsing the YAML there cost about 35 ms
 * of the boot's critical path under TCG (libyaml and the parser run for
 * the first time), so it is parsed here, once, with init's own parser
 * (init/lib/declbin.c), from the staged tree: its /etc/wisp, and its
 * passwd and group for user names (what PID 1 would read before
 * provisioning adds users). What is said here is an early unit that has to
 * wait after all; a declaration's errors are PID 1's to log at boot.
 */
#include "image-builder.h"
#include "../init/lib/decl.h"

#include <errno.h>

static void warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "image-builder: warning: %s\n", msg);
}

int ib_compile_early(const char *root, struct ib_err *err)
{
	char *etc = ib_path_join(root, "etc"), *dir = ib_path_join(root, DECL_DIR);
	char *out = ib_path_join(dir, DECL_EARLY_FILE), *buf = NULL;
	size_t len = 0;
	int ret = 0;

	decl_set_etc(etc);
	if (declbin_compile(dir, DECL_DIR, warn, NULL, &buf, &len) < 0)
		ret = ib_err_set(err, ENOMEM, "%s", out);
	else if (len > DECLBIN_MAX)
		ret = ib_err_set(err, 0, "%s: %zu bytes of early units, over init's limit of %d",
				 out, len, DECLBIN_MAX);
	if (ret == 0)
		ret = ib_write_file(out, buf, len, 0644, err);
	decl_set_etc("/etc");
	free(buf);
	free(etc);
	free(dir);
	free(out);
	return ret;
}

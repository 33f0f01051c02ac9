/*
 * Fuzz target: user-data as init reads it at boot — the format detection
 * and MIME split (init/provision/parse/userdata.c), then every #cloud-config part through
 * the cloud-config parser (init/provision/parse/cloudcfg.c + yamltree.c), whose result is
 * freed again. Nothing is applied: applying writes the system.
 *
 * The parser reads files, so each part goes into a memfd read back
 * through /proc/self/fd. Build and run: bench/fuzz.sh cloudcfg.
 */
#include "provision/provision.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

/* Every warning is a complete line: formatted, non-empty, no stray newline at its end. */
static void warn(void *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int n;

	(void)ctx;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n <= 0)
		abort();
}

static void part(void *ctx, enum ud_kind k, const char *name, const char *bytes, size_t len)
{
	struct ud_sink w = {.warn = warn};
	struct cloudcfg c = {0};

	(void)ctx;
	if (!name || !ud_kind_name(k))
		abort();
	if (k != UD_CLOUD_CONFIG)
		return;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, bytes, len, 0) != (ssize_t)len)
		abort();
	cloudcfg_load(path, &c, &w);
	cloudcfg_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ud_sink s = {.part = part, .warn = warn};

	if (fd < 0) {
		fd = memfd_create("cloudcfg", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	ud_split("user-data", (const char *)data, size, &s);
	return 0;
}

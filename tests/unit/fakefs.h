/*
 * fakefs.h: plain files standing in for the kernel's (/proc/sys/..., /sys/module/...,
 * /dev/kmsg), by path. The test defines FAKE_PATHS ({"/proc/sys/kernel/printk",
 * "printk"}, ...) before including this, and links with -Wl,--wrap=open: an open() of
 * one of those paths, from the test or the code under test, opens that name in
 * fake_dir instead. FAKE_OPEN (optional) is tried first: a function that may hand out
 * an fd of its own for a path (a socket for /dev/kmsg) or return -2. fake_setup() and
 * fake_teardown() make and remove fake_dir; fake_put() writes a file there, fake_got()
 * reads one back.
 */
#ifndef WISP_TEST_FAKEFS_H
#define WISP_TEST_FAKEFS_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fake_dir[] = "/tmp/wisp-fakefs.XXXXXX";

int __real_open(const char *path, int flags, ...);

int __wrap_open(const char *path, int flags, ...)
{
	char p[256];
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, unsigned);
	va_end(ap);
#ifdef FAKE_OPEN
	int fd = FAKE_OPEN(path);

	if (fd != -2)
		return fd;
#endif
	for (size_t i = 0; i < sizeof(fake_paths) / sizeof(fake_paths[0]); i++)
		if (strcmp(path, fake_paths[i][0]) == 0) {
			snprintf(p, sizeof(p), "%s/%s", fake_dir, fake_paths[i][1]);
			return __real_open(p, flags, mode);
		}
	return __real_open(path, flags, mode);
}

static void fake_put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", fake_dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The file's text, or "(none)". */
static const char *fake_got(const char *name)
{
	static char buf[256];
	char p[256];
	struct err e;

	snprintf(p, sizeof(p), "%s/%s", fake_dir, name);
	if (read_text(p, buf, sizeof(buf), &e) < 0)
		return "(none)";
	return buf;
}

static void fake_setup(void)
{
	strcpy(fake_dir, "/tmp/wisp-fakefs.XXXXXX");
	assert_non_null(mkdtemp(fake_dir));
}

static void fake_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fake_dir);
	assert_int_equal(system(cmd), 0);
}

#endif /* WISP_TEST_FAKEFS_H */

/*
 * sysfs.c: PID 1's console, answered from sysfs (partitions: lib/blkdev.c).
 *
 * Everything takes the sysfs root as a parameter ("/sys" at boot) so the
 * unit tests can build a fake tree in a temporary directory.
 */
#include "pid1.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int sysfs_active_console(const char *sys, char *path, size_t size, struct err *e)
{
	char file[PATH_MAX], buf[512];
	char *end, *last;

	if (fmt_path(file, sizeof(file), "%s/class/tty/console/active", sys) < 0)
		return err_set(e, ENAMETOOLONG, "%s/class/tty", sys);
	if (read_text(file, buf, sizeof(buf), e) < 0)
		return -1;
	/* "tty0 ttyS0": the last one is the one /dev/console writes to. */
	end = buf + strlen(buf);
	while (end > buf && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t'))
		*--end = '\0';
	last = end;
	while (last > buf && last[-1] != ' ' && last[-1] != '\t' && last[-1] != '\n')
		last--;
	if (*last == '\0')
		return err_set(e, ENODEV, "active console (%s is empty)", file);
	if (strchr(last, '/') || strcmp(last, "..") == 0)
		return err_set(e, EINVAL, "active console \"%s\"", last);
	snprintf(path, size, "/dev/%s", last);
	return 0;
}

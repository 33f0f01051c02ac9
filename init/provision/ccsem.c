/*
 * ccsem.c: cloud-init's semaphores: DIR/sem/NAME exists once the work
 * it names was done for that instance, so a reboot does not repeat it
 * and a new instance-id (a new DIR) does. The file is created
 * exclusively, so taking it and testing it are one step.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int cc_sem_take(const char *dir, const char *name, struct err *e)
{
	char sem[512], path[512];
	int fd;

	if (fmt_path(sem, sizeof(sem), "%s/sem", dir) < 0 ||
	    fmt_path(path, sizeof(path), "%s/%s", sem, name) < 0)
		return err_set(e, ENAMETOOLONG, "%s/sem/%s", dir, name);
	if (mkdir_p(sem, 0755, e) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : err_set(e, errno, "create %s", path);
	dprintf(fd, "%d: %llu\n", (int)getpid(), (unsigned long long)now_ms());
	close(fd);
	return 1;
}

/* host.c: the host side. In the container, plant() leaves what a hostile
 * container would for the host's users: a setuid-root copy of this
 * program and a node of the host's disk, world-accessible, in its own
 * root (its upper layer on the host). On the host, `as` runs a command as
 * an ordinary user (busybox in ROOT has no su), who must reach neither. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int copy(const char *from, const char *to)
{
	struct stat st;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n = 0;

	if (in < 0 || fstat(in, &st) < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out >= 0)
		n = sendfile(out, in, NULL, (size_t)st.st_size);
	close(in);
	if (out < 0 || n != st.st_size || fchmod(out, 04755) < 0) {
		if (out >= 0)
			close(out);
		return -1;
	}
	return close(out);
}

void plant(void)
{
	char buf[32] = "";
	unsigned maj = 0, min = 0;
	FILE *f = fopen("/sys/block/vda/dev", "r");

	if (copy("/proc/self/exe", "/escape-planted-suid") == 0)
		dprintf(1, "PLANTED /escape-planted-suid (setuid root)\n");
	else
		dprintf(1, "NOT-PLANTED /escape-planted-suid: %s\n", errname(errno));
	if (f && fgets(buf, sizeof(buf), f))
		sscanf(buf, "%u:%u", &maj, &min);
	if (f)
		fclose(f);
	unlink("/escape-planted-disk");
	if (maj && mknod("/escape-planted-disk", S_IFBLK | 0666, makedev(maj, min)) == 0 &&
	    chmod("/escape-planted-disk", 0666) == 0)
		dprintf(1, "PLANTED /escape-planted-disk (block %u:%u, mode 0666)\n", maj, min);
	else
		dprintf(1, "NOT-PLANTED /escape-planted-disk (%u:%u): %s\n", maj, min,
			errname(errno));
}

int host_as(char **argv)
{
	uid_t uid;
	gid_t gid;

	if (!argv[0] || !argv[1] || !argv[2]) {
		dprintf(2, "usage: escape-probe as UID GID PROG [ARG...]\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[0], NULL, 10);
	gid = (gid_t)strtoul(argv[1], NULL, 10);
	if (uid == 0 || setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		dprintf(2, "escape-probe as: cannot become %u:%u: %s\n", uid, gid, errname(errno));
		return 2;
	}
	execv(argv[2], argv + 2);
	dprintf(2, "escape-probe as: exec %s: %s\n", argv[2], errname(errno));
	return 127;
}

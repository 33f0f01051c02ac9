/* devices.c: mknod + open. CAP_MKNOD is one of Docker's default
 * capabilities, so making a node is allowed; the device cgroup must
 * refuse opening anything but runc's default devices. Nodes are made on
 * the container's /dev (a tmpfs without nodev), so only the device policy
 * stands between the node and the device. Opened read-only, non-blocking,
 * never as a controlling terminal, and nothing is read from them. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct {
	const char *name;
	mode_t type;
	unsigned maj, min;
	const char *what;
} nodes[] = {
    {"sda", S_IFBLK, 8, 0, "a SCSI disk"},
    {"dm-0", S_IFBLK, 253, 0, "a device-mapper disk (verity root)"},
    {"vda-254", S_IFBLK, 254, 0, "a virtio disk"},
    {"nvme0n1", S_IFBLK, 259, 0, "an NVMe disk"},
    {"loop0", S_IFBLK, 7, 0, "a loop device"},
    {"mem", S_IFCHR, 1, 1, "physical memory"},
    {"kmem", S_IFCHR, 1, 2, "kernel memory"},
    {"port", S_IFCHR, 1, 4, "I/O ports"},
    {"kmsg", S_IFCHR, 1, 11, "the kernel log"},
    {"console", S_IFCHR, 5, 1, "the host's console (the admin's keystrokes)"},
    {"tty0", S_IFCHR, 4, 0, "the current virtual terminal"},
    {"tty1", S_IFCHR, 4, 1, "a virtual terminal"},
    {"ttyS0", S_IFCHR, 4, 64, "the serial console"},
    {"loop-control", S_IFCHR, 10, 237, "loop device control"},
    {"mapper-control", S_IFCHR, 10, 236, "device-mapper control"},
    {"vsock", S_IFCHR, 10, 121, "vhost-vsock"},
};

/* mknod then open: BLOCKED when either is refused. */
static void try_node(const char *name, mode_t type, unsigned maj, unsigned min, const char *what)
{
	char probe[64], path[96];
	int fd;

	fmt(probe, sizeof(probe), "dev-%s", name);
	fmt(path, sizeof(path), "/dev/escape-%s", name);
	unlink(path);
	if (mknod(path, type | 0600, makedev(maj, min)) < 0) {
		report(probe, BLOCKED, "mknod %u:%u: %s", maj, min, errname(errno));
		return;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		report(probe, ESCAPED, "opened %s %u:%u (%s)", type == S_IFBLK ? "block" : "char",
		       maj, min, what);
	} else if (errno == ENXIO || errno == ENODEV)
		/* the policy let the open through; only the missing device stopped it */
		report(probe, ESCAPED, "the device policy allowed %u:%u (%s), absent here: %s", maj,
		       min, what, errname(errno));
	else
		report(probe, BLOCKED,
		       "mknod allowed (CAP_MKNOD, Docker's default); open %u:%u: %s", maj, min,
		       errname(errno));
	unlink(path);
}

/* Every disk the host really has, as /sys/block lists them. */
static void real_disks(void)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int n = 0;

	if (!d) {
		report("dev-disks", ERROR, "opendir /sys/block: %s", errname(errno));
		return;
	}
	while ((e = readdir(d))) {
		char path[300], buf[32], name[300];
		unsigned maj, min;
		FILE *f;

		if (e->d_name[0] == '.' || strncmp(e->d_name, "loop", 4) == 0)
			continue;
		fmt(path, sizeof(path), "/sys/block/%s/dev", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%u:%u", &maj, &min) == 2) {
			fmt(name, sizeof(name), "disk-%s", e->d_name);
			try_node(name, S_IFBLK, maj, min, "a disk of the host (/sys/block)");
			n++;
		}
		fclose(f);
	}
	closedir(d);
	if (!n)
		report("dev-disks", ERROR, "no disk in /sys/block to try");
}

int probes_devices(void)
{
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		try_node(nodes[i].name, nodes[i].type, nodes[i].maj, nodes[i].min, nodes[i].what);
	real_disks();
	return 0;
}

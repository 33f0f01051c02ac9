/* restart.c: a container that shapes the root its runtime mounts into at
 * its next start. Its writable layer outlives a restart, so whatever it
 * leaves at the paths the runtime mounts on or enters (/etc/hosts,
 * /etc/resolv.conf, its volumes, its working directory) is there when the
 * runtime builds the next root on the same upper layer.
 *
 *   escape-probe restart [VARIANT]
 *                          first start: replaces those paths in its own
 *                          root by symlinks to host paths (absolute,
 *                          climbing with "..", dangling) and exits 1, so
 *                          that `restart: on-failure` starts it again;
 *                          second start (its state file is there): checks
 *                          where each mount landed and exits 0. VARIANT
 *                          plants one path otherwise (below): a root the
 *                          runtime may refuse, one container each.
 *
 * A mount point itself cannot be replaced while it is mounted (rename and
 * unlink of one are EBUSY): the directory above it is renamed away (the
 * mount goes with it) and made again, holding the links. /proc, /dev and
 * /sys hang from "/" itself, which cannot be renamed; that they stay is
 * checked (restart-shape-*). Every link points at a host tree the test
 * writes, /var/lib/escape-plant, whose files must be unchanged afterwards
 * and no mount of the container's be on. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE	   "/escape-restart-state"
#define HOST_TREE  "/var/lib/escape-plant"
#define CWD_TARGET HOST_TREE "/wd"

/* What the runtime mounts on at every start, and the link left there. */
static const struct {
	const char *name, *dest, *link;
} plants[] = {
    {"restart-etc-hosts", "/etc/hosts", HOST_TREE "/hosts"},
    {"restart-etc-resolv", "/etc/resolv.conf",
     "../../../../../../var/lib/escape-plant/resolv.conf"},
    {"restart-vol-abs", "/srv/vol-abs", HOST_TREE "/vol-abs"},
    {"restart-vol-rel", "/srv/vol-rel", "../../../var/lib/escape-plant/vol-rel"},
    {"restart-vol-dangle", "/srv/vol-dangle", "/var/lib/escape-plant-nothere/deep/vol"},
};
#define NPLANTS (sizeof(plants) / sizeof(plants[0]))

/* The variants: PATH made a link to LINK, or (LINK NULL) a node of TYPE.
 * (Run once too, all refused: /srv/vol-abs -> /proc/self/root/..., /srv/vol-rel
 * -> /dev/shm, /srv/vol-abs a regular file; left out for the boot's time.) */
static const struct {
	const char *name, *path, *link;
	mode_t type;
} variants[] = {
    {"p1", "/etc/hosts", "/proc/1/root/var/lib/escape-plant/hosts", 0},
    {"cwdp", "/wd", "/proc/self/cwd", 0},
    {"fifo", "/etc/hosts", NULL, S_IFIFO},
    {"dir", "/etc/resolv.conf", NULL, S_IFDIR},
};
static int variant = -1;

/* PATH a link to LINK, or (LINK NULL) a directory or FIFO (TYPE). */
static int make_node(const char *path, const char *link, mode_t type)
{
	if (link)
		return symlink(link, path);
	return type == S_IFDIR ? mkdir(path, 0755) : mkfifo(path, 0644);
}

/* PATH planted: the variant's way if it is its path, else a link to LINK. */
static int plant_one(const char *path, const char *link)
{
	mode_t type = 0;

	if (variant >= 0 && strcmp(variants[variant].path, path) == 0) {
		link = variants[variant].link;
		type = variants[variant].type;
	}
	if (make_node(path, link, type) < 0)
		return -1;
	dprintf(1, "PLANTED %s %s %s\n", path, link ? "->" : "a",
		link		  ? link
		: type == S_IFDIR ? "directory"
		: type == S_IFIFO ? "fifo"
				  : "file");
	return 0;
}

/* mountinfo's mount point of each line (field 5), octal escapes undone. */
static bool mounted_at(const char *path)
{
	char line[4096], mp[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line;
		size_t n = 0;

		for (int i = 0; i < 4 && p; i++)
			p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
		for (; p && *p && *p != ' ' && n + 1 < sizeof(mp); n++) {
			unsigned c;
			if (p[0] == '\\' && sscanf(p + 1, "%3o", &c) == 1) {
				mp[n] = (char)c;
				p += 4;
			} else {
				mp[n] = *p++;
			}
		}
		mp[n] = 0;
		found = p && strcmp(mp, path) == 0;
	}
	fclose(f);
	return found;
}

/* DIR renamed away (its mounts go with it), made again, empty. */
static int fresh_dir(const char *dir)
{
	char away[64];

	fmt(away, sizeof(away), "%s.escape-orig", dir);
	if (rename(dir, away) < 0 && errno != ENOENT)
		return -1;
	return mkdir(dir, 0755);
}

/* The roots of /proc, /dev and /sys: the runtime's mount points under
 * "/", which the container must not be able to replace. */
static void shape_kernel_trees(void)
{
	static const char *const trees[] = {"/proc", "/dev", "/sys"};

	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		char name[40], away[40];

		fmt(name, sizeof(name), "restart-shape%s", trees[i]);
		fmt(away, sizeof(away), "%s.escape-orig", trees[i]);
		if (rename(trees[i], away) < 0) {
			report(name, BLOCKED, "rename %s: %s (a mount point stays)", trees[i],
			       errname(errno));
			continue;
		}
		rename(away, trees[i]);
		report(name, ERROR,
		       "renamed %s away: the suite plants nothing there (extend restart.c)",
		       trees[i]);
	}
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	fmt(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int first_start(void)
{
	FILE *st = fopen(STATE ".tmp", "we");
	int fd, bad = 0;

	/* which of them this start had: only those are checked at the next */
	for (size_t i = 0; st && i < NPLANTS; i++)
		if (mounted_at(plants[i].dest))
			fprintf(st, "%s\n", plants[i].dest);
	if (!st || fclose(st) != 0) {
		report("restart-plant", ERROR, "write %s: %s", STATE ".tmp", errname(errno));
		return 1;
	}
	shape_kernel_trees();
	if (chdir("/") < 0 || fresh_dir("/etc") < 0 || fresh_dir("/srv") < 0)
		bad = errno;
	for (size_t i = 0; !bad && i < NPLANTS; i++)
		if (plant_one(plants[i].dest, plants[i].link) < 0)
			bad = errno;
	/* the working directory: a link to a host path that the container
	 * also has, holding a file of its own */
	if (!bad &&
	    (mkdir_p(CWD_TARGET) < 0 ||
	     (fd = open(CWD_TARGET "/container-file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0 ||
	     close(fd) < 0 || rmdir("/wd") < 0 || plant_one("/wd", CWD_TARGET) < 0))
		bad = errno ? errno : EIO;
	if (bad || rename(STATE ".tmp", STATE) < 0) {
		report("restart-plant", ERROR, "planting: %s", errname(bad ? bad : errno));
		return 1;
	}
	report("restart-plant", BLOCKED, "%zu links planted; exits 1 to be started again",
	       NPLANTS + 1);
	return 1;
}

static bool listed(const char *state, const char *dest)
{
	char line[256];

	fmt(line, sizeof(line), "\n%s\n", dest);
	return strstr(state, line) != NULL;
}

/* A mount the runtime made at this start through the planted link: where
 * the link leads inside the root must be mounted on. A volume gets a file
 * written, which the host looks for. */
static void check_mount(size_t i, const char *state)
{
	char link[PATH_MAX] = "", real[PATH_MAX], file[PATH_MAX + 40];
	ssize_t n = readlink(plants[i].dest, link, sizeof(link) - 1);
	int fd;

	if (n > 0)
		link[n] = 0;
	if (!listed(state, plants[i].dest)) {
		report(plants[i].name, BLOCKED, "%s: not mounted at the first start either",
		       plants[i].dest);
		return;
	}
	if (!realpath(plants[i].dest, real)) {
		report(plants[i].name, ESCAPED,
		       "%s -> %s: leads nowhere in the root (%s): its mount "
		       "is not in the root",
		       plants[i].dest, link, errname(errno));
		return;
	}
	if (!mounted_at(real)) {
		report(plants[i].name, ESCAPED,
		       "%s -> %s: %s has no mount: the runtime's mount of "
		       "%s landed outside the root",
		       plants[i].dest, link, real, plants[i].dest);
		return;
	}
	report(plants[i].name, BLOCKED, "%s -> %s: mounted on %s, inside the root", plants[i].dest,
	       n > 0 ? link : "(no longer a link)", real);
	if (strncmp(plants[i].name, "restart-vol-", 12) != 0)
		return;
	fmt(file, sizeof(file), "%s/escape-plant-written-%s", real, plants[i].name + 12);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		close(fd);
		dprintf(1, "WROTE %s\n", file);
	} else {
		dprintf(1, "NOT-WRITTEN %s: %s\n", file, errname(errno));
	}
}

/* The working directory /wd -> CWD_TARGET: the container's own copy. */
static void check_cwd(void)
{
	char cwd[PATH_MAX];

	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		report("restart-cwd", ESCAPED, "getcwd: %s: not beneath the root", errname(errno));
	else if (access("host-file", F_OK) == 0)
		report("restart-cwd", ESCAPED, "%s holds host-file: the host's %s", cwd,
		       CWD_TARGET);
	else if (access("container-file", F_OK) != 0)
		report("restart-cwd", ESCAPED, "%s: no container-file (%s): not the root's %s", cwd,
		       errname(errno), CWD_TARGET);
	else
		report("restart-cwd", BLOCKED, "/wd -> %s: the cwd is %s, the root's own",
		       CWD_TARGET, cwd);
}

int probes_restart(const char *name)
{
	char state[4096] = "\n";
	int fd;
	ssize_t n;

	for (size_t i = 0; name && i < sizeof(variants) / sizeof(variants[0]); i++)
		if (strcmp(variants[i].name, name) == 0)
			variant = (int)i;
	if (name && variant < 0) {
		report("restart-variant", ERROR, "no variant %s", name);
		return 0;
	}
	if ((fd = open(STATE, O_RDONLY | O_CLOEXEC)) < 0)
		return first_start();
	n = read(fd, state + 1, sizeof(state) - 2);
	close(fd);
	if (n < 0) {
		report("restart-state", ERROR, "read %s: %s", STATE, errname(errno));
		return 0;
	}
	for (size_t i = 0; i < NPLANTS; i++)
		check_mount(i, state);
	check_cwd();
	return 0;
}

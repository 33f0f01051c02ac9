/* image/userns.c: `image bundle --userns BASE`, a container in a user
 * namespace of its own: ids 0..65535 inside are BASE..BASE+65535 on the
 * host (docs/containerd-lite.md, "Images": user namespaces).
 *
 * The image's layers are shared unchanged through idmapped mounts
 * (image/overlay.c); what is the container's own (its upper directory,
 * its volumes, a flattened root) is owned by its mapped ids, shifted once
 * when its range changed (image/shift.c), the range it is in recorded
 * beside it (UPPER/userns-base). The container's root (host uid BASE)
 * reaches its root and volumes by path while it sets itself up: their
 * per-container directories are 0710 root:BASE (as Docker's
 * userns-remap), the shared ones above them 0711 (no listing). */
#include "../runtime/cl-private.h"
#include "image.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD "userns-base"

static json_t *mapping(uint32_t base)
{
	return json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID", (json_int_t)base, "size",
			 (json_int_t)IMG_USERNS_SIZE);
}

/* A user namespace owns no network namespace it did not make: with the
 * host's network, sysfs cannot be mounted (the kernel refuses it), so
 * the host's /sys is bound read-only instead, as runc does then:
 * recursively (its mounts are locked to it in the container's mount
 * namespace), the host's cgroup2 at /sys/fs/cgroup with it, every one
 * of them read-only (rro: ro would leave those below the top writable). The
 * container's own cgroup2 cannot be stacked right on that one (the same
 * superblock on its own root: EBUSY), so an empty tmpfs goes between. */
static void sys_bind(json_t *spec)
{
	json_t *mounts = json_object_get(spec, "mounts"), *m;
	size_t i;

	json_array_foreach(mounts, i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type")) ?: "";

		if (!strcmp(type, "sysfs")) {
			json_object_set_new(m, "type", json_string("bind"));
			json_object_set_new(m, "source", json_string("/sys"));
			json_object_set_new(
			    m, "options",
			    json_pack("[s,s,s,s,s]", "rbind", "nosuid", "noexec", "nodev", "rro"));
		} else if (!strcmp(type, "cgroup")) {
			json_array_insert_new(
			    mounts, i++,
			    json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination",
				      json_string_value(json_object_get(m, "destination")), "type",
				      "tmpfs", "source", "tmpfs", "options", "nosuid", "noexec",
				      "nodev", "mode=755"));
		}
	}
}

void img_userns_spec(json_t *spec, const struct img_over *ov)
{
	json_t *lin = json_object_get(spec, "linux");

	if (!ov->userns_base)
		return;
	json_array_append_new(json_object_get(lin, "namespaces"),
			      json_pack("{s:s}", "type", "user"));
	json_object_set_new(lin, "uidMappings", mapping(ov->userns_base));
	json_object_set_new(lin, "gidMappings", mapping(ov->userns_base));
	if (ov->host_net)
		sys_bind(spec);
}

int img_userns_dir(const char *path, uint32_t base, struct cl_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = 0;

	if (fd < 0)
		return cl_error(err, errno, "open %s", path);
	if (fchown(fd, 0, base) < 0 || fchmod(fd, base ? 0710 : 0700) < 0)
		r = cl_error(err, errno, "chown/chmod %s", path);
	close(fd);
	return r;
}

int img_userns_traverse(const char *path, struct cl_err *err)
{
	char parent[4096], *slash;
	struct stat st;

	img_fmt(parent, sizeof(parent), "%s", path);
	if (!(slash = strrchr(parent, '/')) || slash == parent)
		return 0;
	*slash = 0;
	if (stat(parent, &st) < 0)
		return cl_error(err, errno, "stat %s", parent);
	if ((st.st_mode & 0011) != 0011 && chmod(parent, (st.st_mode & 07777) | 0011) < 0)
		return cl_error(err, errno, "chmod %s", parent);
	return 0;
}

/* The base UPPER's tree is in: 0 (the host's ids) when never recorded. */
static int record_read(const char *upper, uint32_t *base, struct cl_err *err)
{
	char path[4096], buf[32] = "", *end;
	unsigned long v;
	FILE *f;

	img_fmt(path, sizeof(path), "%s/" RECORD, upper);
	*base = 0;
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? 0 : cl_error(err, errno, "open %s", path);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	v = strtoul(buf, &end, 10);
	if (end == buf || (*end && *end != '\n') || v > UINT32_MAX - IMG_USERNS_SIZE)
		return cl_error(err, 0, "%s: \"%.20s\" is not an id", path, buf);
	*base = (uint32_t)v;
	return 0;
}

/* Written whole (a temporary renamed over it) once the shift is done. */
static int record_write(const char *upper, uint32_t base, struct cl_err *err)
{
	char path[4096], tmp[4096];
	FILE *f;
	bool bad;

	img_fmt(path, sizeof(path), "%s/" RECORD, upper);
	img_fmt(tmp, sizeof(tmp), "%s/." RECORD, upper);
	if (!(f = fopen(tmp, "we")))
		return cl_error(err, errno, "write %s", tmp);
	bad = fprintf(f, "%u\n", base) < 0 || fflush(f) != 0 || fsync(fileno(f)) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0)
		return cl_error(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

/* UPPER/upper and every UPPER/volumes/X from one range to the other. */
static int shift_all(const char *upper, uint32_t from, uint32_t to, struct cl_err *err)
{
	char path[4096];
	int fd;

	img_fmt(path, sizeof(path), "%s/upper", upper);
	if (img_shift_tree(path, from, to, err) < 0)
		return -1;
	img_fmt(path, sizeof(path), "%s/volumes", upper);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : cl_error(err, errno, "open %s", path);
	close(fd);
	/* the volumes directory itself is then made root's again */
	if (img_shift_tree(path, from, to, err) < 0)
		return -1;
	return img_userns_dir(path, to, err);
}

int img_userns_upper(const char *upper, uint32_t base, struct cl_err *err)
{
	char path[4096];
	uint32_t was;

	if (cl_mkdir_p(upper, 0700, err) < 0)
		return -1;
	if (base && img_userns_traverse(upper, err) < 0)
		return -1;
	if (img_userns_dir(upper, base, err) < 0)
		return -1;
	img_fmt(path, sizeof(path), "%s/upper", upper);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return cl_error(err, errno, "mkdir %s", path);
	if (record_read(upper, &was, err) < 0)
		return -1;
	if (was == base)
		return 0;
	if (shift_all(upper, was, base, err) < 0)
		return -1;
	return record_write(upper, base, err);
}

int img_userns_volume(const char *dir, uint32_t base, struct cl_err *err)
{
	struct stat st;

	/* host root's in a user namespace: made now (no container can give
	 * a file to host uid 0), so given to the container's root */
	if (!base)
		return 0;
	if (lstat(dir, &st) < 0)
		return cl_error(err, errno, "stat %s", dir);
	if (st.st_uid == 0 && lchown(dir, base, base) < 0)
		return cl_error(err, errno, "chown %s", dir);
	return 0;
}

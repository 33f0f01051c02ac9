/* image_overlay.c: a container's root as an overlayfs of its image's
 * stored layers (STORE/layers/HEX, already in overlay form: whiteouts as
 * 0/0 devices, opaque directories marked), so that no image is ever
 * copied per container and the layers are never written: every write
 * lands in the container's own upper directory. */
#include "cl-private.h"
#include "image.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* The kernel takes mount data of one page at most. */
#define OVL_DATA_MAX 4096

static int mkdir_one(const char *path, struct cl_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return cl_error(err, errno, "mkdir %s", path);
	return 0;
}

/* "lowerdir=TOP:...:BOTTOM": overlayfs lists the uppermost lower first. */
static int lowerdirs(const struct img_opts *o, json_t *layers, char *buf, size_t size,
		     struct cl_err *err)
{
	size_t n = json_array_size(layers), len = 0;
	int w = snprintf(buf, size, "lowerdir=");

	if (n == 0)
		return cl_error(err, 0, "no layers");
	len = (size_t)w;
	for (size_t i = n; i-- > 0;) {
		const char *d =
		    json_string_value(json_object_get(json_array_get(layers, i), "digest"));
		struct stat st;
		char dir[4096];

		if (!d || !img_digest_valid(d))
			return cl_error(err, 0, "bad store record");
		img_fmt(dir, sizeof(dir), "%s/layers/%s", o->store, d + 7);
		if (stat(dir, &st) < 0)
			return cl_error(err, errno, "layer %s", dir);
		w = snprintf(buf + len, size - len, "%s%s", i + 1 < n ? ":" : "", dir);
		if (w < 0 || (size_t)w >= size - len)
			return cl_error(err, 0, "%zu layers are more than one overlay mount takes",
					n);
		len += (size_t)w;
	}
	return 0;
}

static int mount_ovl(const char *rootfs, const char *upper, char *data, struct cl_err *err)
{
	char up[4096], work[4096];
	size_t len = strlen(data);

	img_fmt(up, sizeof(up), "%s/upper", upper);
	img_fmt(work, sizeof(work), "%s/work", upper);
	if (cl_mkdir_p(upper, 0700, err) < 0 || mkdir_one(up, err) < 0 || mkdir_one(work, err) < 0)
		return -1;
	if ((size_t)snprintf(data + len, OVL_DATA_MAX - len, ",upperdir=%s,workdir=%s", up, work) >=
	    OVL_DATA_MAX - len)
		return cl_error(err, 0, "overlay options too long");
	/* nosuid, nodev: should a host user reach the root despite its 0700
	 * bundle directory, no setuid file nor device node of an image or a
	 * container acts through it (the container's /dev is the runtime's
	 * tmpfs; its processes have no_new_privs by default) */
	if (mount("overlay", rootfs, "overlay", MS_NOSUID | MS_NODEV, data) < 0)
		return cl_error(err, errno, "mount overlay on %s", rootfs);
	return 0;
}

int img_overlay_mount(const struct img_opts *o, const char *ref, const char *rootfs,
		      const char *upper, struct cl_err *err)
{
	json_t *rec = img_record(o->store, ref, err);
	char data[OVL_DATA_MAX];
	int r;

	if (!rec)
		return -1;
	/* A container that ended without its runtime's cleanup left its
	 * root mounted: the new one replaces it. */
	while (umount2(rootfs, MNT_DETACH) == 0)
		;
	r = mkdir_one(rootfs, err);
	if (r == 0)
		r = lowerdirs(o, json_object_get(rec, "layers"), data, sizeof(data), err);
	if (r == 0)
		r = mount_ovl(rootfs, upper, data, err);
	json_decref(rec);
	return r < 0 ? cl_error_wrap(err, "image %s: root", ref) : 0;
}

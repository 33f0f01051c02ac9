/* image/overlay.c: a container's root as an overlayfs of its image's
 * stored layers (STORE/layers/HEX, already in overlay form: whiteouts as
 * 0/0 devices, opaque directories marked), so that no image is ever
 * copied per container and the layers are never written: every write
 * lands in the container's own upper directory.
 *
 * In a user namespace (--userns BASE) each layer is first cloned as an
 * idmapped mount (0 -> BASE, ...) attached at ROOTFS/../lower/HEX (its
 * digest), which overlayfs takes as a lower (Linux 5.19) and clones
 * privately: the attached mounts are detached again once the overlay is
 * mounted. The layers themselves stay as stored, shared by every
 * container. The overlay's lowerdir= then names them by that path only,
 * so the digest is in it: `gc` keeps a layer a mounted root uses by it
 * (query.c). */
#include "../runtime/cl-private.h"
#include <fcntl.h>
#include <unistd.h>
#include "image.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
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

struct idmapped {
	int ns;		   /* the user namespace's fd; -1: layers used as they are */
	char lowers[4096]; /* where the idmapped layers are attached */
};

/* dir (the layer HEX) replaced by its idmapped clone attached at LOWERS/HEX. */
static int idmap_layer(struct idmapped *im, char *dir, const char *hex, struct cl_err *err)
{
	char at[4096];
	int tree;

	img_fmt(at, sizeof(at), "%s/%s", im->lowers, hex);
	if (mkdir_one(at, err) < 0)
		return -1;
	while (umount2(at, MNT_DETACH) == 0)
		;
	if ((tree = cl_idmap_tree(dir, false, im->ns, err)) < 0)
		return -1;
	if (cl_idmap_move(tree, at, err) < 0)
		return close(tree), -1;
	close(tree);
	img_fmt(dir, 4096, "%s", at);
	return 0;
}

/* The attached layers let go (the overlay holds its own clones): every
 * entry of LOWERS, also one an older runtime named by its index. */
static void idmap_release(struct idmapped *im)
{
	char at[4200];
	struct dirent *de;
	DIR *d;

	if (im->ns < 0)
		return;
	close(im->ns);
	if (!(d = opendir(im->lowers)))
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			img_fmt(at, sizeof(at), "%s/%s", im->lowers, de->d_name);
			while (umount2(at, MNT_DETACH) == 0)
				;
			rmdir(at);
		}
	closedir(d);
}

static int idmap_open(const struct img_opts *o, const char *rootfs, struct idmapped *im,
		      struct cl_err *err)
{
	struct cl_idmap map = {
	    .container = 0, .host = o->over.userns_base, .size = IMG_USERNS_SIZE};
	char *slash;

	im->ns = -1;
	if (!o->over.userns_base)
		return 0;
	img_fmt(im->lowers, sizeof(im->lowers), "%s", rootfs);
	if ((slash = strrchr(im->lowers, '/')))
		*slash = 0;
	img_fmt(im->lowers + strlen(im->lowers), sizeof(im->lowers) - strlen(im->lowers), "/lower");
	if (mkdir(im->lowers, 0700) < 0 && errno != EEXIST)
		return cl_error(err, errno, "mkdir %s", im->lowers);
	im->ns = cl_idmap_userns(&map, 1, &map, 1, "of the layers", err);
	return im->ns < 0 ? -1 : 0;
}

/* "lowerdir=TOP:...:BOTTOM": overlayfs lists the uppermost lower first. */
static int lowerdirs(const struct img_opts *o, json_t *layers, struct idmapped *im, char *buf,
		     size_t size, struct cl_err *err)
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
		if (im->ns >= 0 && idmap_layer(im, dir, d + 7, err) < 0)
			return -1;
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
	struct idmapped im = {.ns = -1};
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
		r = idmap_open(o, rootfs, &im, err);
	if (r == 0)
		r = lowerdirs(o, json_object_get(rec, "layers"), &im, data, sizeof(data), err);
	if (r == 0)
		r = mount_ovl(rootfs, upper, data, err);
	idmap_release(&im);
	json_decref(rec);
	return r < 0 ? cl_error_wrap(err, "image %s: root", ref) : 0;
}

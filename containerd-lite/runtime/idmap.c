/* runtime/idmap.c: idmapped bind mounts (mounts[].uidMappings/gidMappings, Linux
 * 5.12). A user namespace holding the mount's mappings is made by a
 * throwaway child; the source is cloned as a detached tree (open_tree),
 * marked MOUNT_ATTR_IDMAP with that namespace (mount_setattr) and later
 * attached by the container process (mounts.c): a detached tree can be
 * attached from any mount namespace, also from inside a user namespace
 * where the host's filesystems could not be idmapped. Which filesystems
 * take an idmap is the kernel's choice (6.1: ext4, xfs, btrfs, vfat,
 * f2fs; tmpfs from 6.3): the others give a one-line error naming it. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A user namespace with the given mappings: a child born in it waits to
 * be killed while the parent writes its maps and opens it. WHAT names the
 * mount in errors. */
int cl_idmap_userns(const struct cl_idmap *uids, size_t nuids, const struct cl_idmap *gids,
		    size_t ngids, const char *what, struct cl_err *e)
{
	char path[64];
	int fd = -1;
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL,
				   NULL, NULL);

	if (pid < 0)
		return cl_error(e, errno, "idmapped mount %s: make a user namespace", what);
	if (pid == 0) {
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (cl_userns_write(pid, uids, nuids, gids, ngids, e) < 0)
		cl_error_wrap(e, "idmapped mount %s", what);
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		cl_error(e, errno, "open %s", path);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return fd;
}

static const char *fs_name(int fd)
{
	struct statfs st;

	if (fstatfs(fd, &st) < 0)
		return "?";
	switch ((unsigned long)st.f_type) {
	case 0xEF53:
		return "ext4";
	case 0x01021994:
		return "tmpfs";
	case 0x794c7630:
		return "overlayfs";
	case 0xE0F5E1E2:
		return "erofs";
	case 0x58465342:
		return "xfs";
	case 0x9123683E:
		return "btrfs";
	case 0x9fa0:
		return "proc";
	default:
		return "this filesystem";
	}
}

/* A detached clone of the tree at SRC (an fd), idmapped with NS. */
static int idmap_fd(int src, bool rec, int ns, const char *name, struct cl_err *e)
{
	int tree = cl_mount_clone(src, rec), err;

	if (tree < 0)
		return cl_error(e, errno, "idmapped mount: open_tree %s", name);
	if (cl_mount_setattr(tree, rec, CL_MOUNT_ATTR_IDMAP, 0, 0, ns) < 0) {
		err = errno;
		if (err == EINVAL)
			cl_error(e, 0, "idmapped mount of %s: %s cannot be idmapped by this kernel",
				 name, fs_name(tree));
		else
			cl_error(e, err, "idmapped mount of %s", name);
		close(tree);
		return -1;
	}
	return tree;
}

/* For `image bundle`'s layers: SOURCE is a host path of the store. */
int cl_idmap_tree(const char *source, bool rec, int ns, struct cl_err *e)
{
	int src = open(source, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), tree;

	if (src < 0)
		return cl_error(e, errno, "idmapped mount: open %s", source);
	tree = idmap_fd(src, rec, ns, source, e);
	close(src);
	return tree;
}

/* Attaches TREE on the host directory DEST (made by `image bundle`). */
int cl_idmap_move(int tree, const char *dest, struct cl_err *e)
{
	int target = open(dest, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret;

	if (target < 0)
		return cl_error(e, errno, "attach an idmapped mount on %s", dest);
	ret = cl_mount_attach(tree, target, -1, NULL, dest, e);
	close(target);
	return ret;
}

static int make_tree(const char *root, struct cl_mount *m, struct cl_err *e)
{
	int tree, src,
	    ns = cl_idmap_userns(m->uid_maps, m->nuid_maps, m->gid_maps, m->ngid_maps, m->dest, e);

	if (ns < 0)
		return -1;
	src = cl_bind_source(root, m->source, e);
	if (src < 0) {
		close(ns);
		return -1;
	}
	tree = idmap_fd(src, (m->flags & MS_REC) != 0, ns, m->source, e);
	close(src);
	close(ns);
	return tree;
}

int cl_idmap_prepare(struct cl_spec *s, struct cl_err *e)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		struct cl_mount *m = &s->mounts[i];
		if (!m->idmapped)
			continue;
		m->tree_fd = make_tree(s->root_path, m, e);
		if (m->tree_fd < 0) {
			m->idmapped = false; /* nothing to release */
			return -1;
		}
	}
	return 0;
}

void cl_idmap_release(struct cl_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (s->mounts[i].idmapped && s->mounts[i].tree_fd >= 0) {
			close(s->mounts[i].tree_fd);
			s->mounts[i].tree_fd = -1;
		}
}

/*
 * devmapper.c: what dm-init does for a dm-mod.create= device, done from
 * userspace through /dev/mapper/control (linux/dm-ioctl.h): create the
 * device, load its one table, resume it. The table text is the command
 * line's, unchanged: the kernel's verity target parses and checks it.
 */
#include "initramfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The header, one target spec and its arguments, as DM_TABLE_LOAD reads them. */
struct dm_request {
	struct dm_ioctl io;
	struct dm_target_spec target;
	char params[sizeof(((struct dm_spec *)0)->params)];
};

static void header(struct dm_ioctl *io, const struct dm_spec *s, size_t size)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = DM_VERSION_MINOR;
	io->version[2] = DM_VERSION_PATCHLEVEL;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	memcpy(io->name, s->name, sizeof(io->name));
}

static int call(int fd, unsigned long req, struct dm_ioctl *io, const char *what,
		const struct dm_spec *s, struct err *e)
{
	if (ioctl(fd, req, io) < 0)
		return err_set(e, errno, "device-mapper: %s %s", what, s->name);
	return 0;
}

static int load(int fd, const struct dm_spec *s, struct err *e)
{
	struct dm_request r;

	header(&r.io, s, sizeof(r));
	r.io.target_count = 1;
	r.io.flags = s->read_only ? DM_READONLY_FLAG : 0;
	r.target.sector_start = s->start;
	r.target.length = s->length;
	memcpy(r.target.target_type, s->target, sizeof(r.target.target_type));
	memcpy(r.params, s->params, sizeof(r.params));
	/* next: from this spec's start to the next one's; there is none */
	r.target.next = 0;
	return call(fd, DM_TABLE_LOAD, &r.io, "load the table of", s, e);
}

int dm_make(const struct dm_spec *s, dev_t *dev, struct err *e)
{
	struct dm_ioctl io;
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return err_set(e, errno, "open /dev/mapper/control");
	header(&io, s, sizeof(io));
	memcpy(io.uuid, s->uuid, sizeof(io.uuid));
	if (call(fd, DM_DEV_CREATE, &io, "create", s, e) < 0)
		goto out;
	*dev = (dev_t)io.dev;
	if (load(fd, s, e) < 0)
		goto out;
	header(&io, s, sizeof(io)); /* DM_DEV_SUSPEND without DM_SUSPEND_FLAG: resume */
	ret = call(fd, DM_DEV_SUSPEND, &io, "resume", s, e);
out:
	close(fd);
	return ret;
}

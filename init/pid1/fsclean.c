/*
 * fsclean.c: does STATE need e2fsck this boot? Its superblock says so.
 *
 * e2fsck -p on a clean file system reads the superblock and stops; but
 * forking it, loading it and waiting for it costs the boot tens to
 * hundreds of milliseconds under TCG, before anything else can run. The
 * same questions e2fsck -p asks are answered here from the 1024 bytes at
 * offset 1024: cleanly unmounted (VALID, no ERROR), no journal to replay,
 * no orphan inodes, no check due by mount count or interval. Anything
 * else (or a superblock it cannot read) means: run e2fsck, as always.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define EXT4_MAGIC		  0xef53
#define EXT4_VALID_FS		  0x0001  /* s_state: unmounted cleanly */
#define EXT4_ERROR_FS		  0x0002  /* s_state: errors detected */
#define EXT4_ORPHAN_FS		  0x0004  /* s_state: orphans being recovered */
#define EXT4_INCOMPAT_RECOVER	  0x0004  /* needs_recovery: the journal must be replayed */
#define EXT4_RO_COMPAT_ORPHAN_PRS 0x10000 /* orphan_present: the orphan file has entries */

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

int ext4_sb_check(const unsigned char sb[static 1024], int64_t now, char *why, size_t size)
{
	uint32_t state = le16(sb + 0x3a), mnt = le16(sb + 0x34), last = le32(sb + 0x40),
		 every = le32(sb + 0x44);
	int16_t max = (int16_t)le16(sb + 0x36); /* -1 or 0: no check by count */

	if (le16(sb + 0x38) != EXT4_MAGIC)
		snprintf(why, size, "no ext4 superblock");
	else if (state & EXT4_ERROR_FS || le32(sb + 0x194)) /* s_error_count */
		snprintf(why, size, "errors recorded");
	else if (!(state & EXT4_VALID_FS))
		snprintf(why, size, "not cleanly unmounted");
	else if (le32(sb + 0x60) & EXT4_INCOMPAT_RECOVER)
		snprintf(why, size, "journal needs recovery");
	else if (state & EXT4_ORPHAN_FS || le32(sb + 0xe8) ||
		 le32(sb + 0x64) & EXT4_RO_COMPAT_ORPHAN_PRS) /* s_last_orphan */
		snprintf(why, size, "orphan inodes");
	else if (max > 0 && mnt >= (uint32_t)max)
		snprintf(why, size, "mounted %u times (check every %d)", mnt, max);
	else if (every && now >= (int64_t)last + every)
		snprintf(why, size, "check interval of %u s passed", every);
	else
		return 0;
	return 1;
}

int ext4_needs_check(const char *dev, int64_t now, char *why, size_t size, struct err *e)
{
	unsigned char sb[1024];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, sb, sizeof(sb), 1024);
	int saved = errno;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(sb))
		return err_set(e, n < 0 ? saved : EIO, "read the superblock of %s", dev);
	return ext4_sb_check(sb, now, why, size);
}

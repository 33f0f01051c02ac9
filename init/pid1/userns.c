/*
 * userns.c: each container's range of host ids (docs/declarations.md,
 * "userns").
 *
 * A container with `userns: auto` (the default) runs in a user namespace
 * of its own: its ids 0..65535 are USERNS_BASE + k*65536 + 0..65535 on
 * the host, k its own. The ranges start at 0x100000 (1048576), far above
 * every id the host itself uses (root, the system ids of /etc/passwd,
 * cloud-config's users from 1000, nobody 65534: all below 65536), and
 * Wisp has no /etc/subuid for anything else to allocate from. Which
 * container has which range is kept on STATE (USERNS_FILE, "NAME BASE"
 * lines), so that a container keeps its range, and owns its files,
 * across reboots. A range is never given to another container, even once
 * its own is gone: the files it left stay nobody else's. 65519 ranges
 * fit below 2^32 - 1 (an invalid id).
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USERNS_FILE "/var/lib/wisp/userns"
#define USERNS_MAX  (256 * 1024) /* bytes of USERNS_FILE: ~3000 containers */

static const char *file = USERNS_FILE;

void userns_set_file(const char *path)
{
	file = path;
}

/* A line's base, 0 if the line is not "NAME BASE" with a BASE of ours. */
static uint32_t line_base(const char *line, const char *name, bool *mine)
{
	const char *sp = strchr(line, ' ');
	uint64_t v;
	const char *end;

	if (!sp)
		return 0;
	end = dec_scan(sp + 1, &v);
	if (!end || (*end && *end != '\n') || v < USERNS_BASE || v > UINT32_MAX - USERNS_SIZE ||
	    (v - USERNS_BASE) % USERNS_SIZE)
		return 0;
	*mine = (size_t)(sp - line) == strlen(name) && !strncmp(line, name, (size_t)(sp - line));
	return (uint32_t)v;
}

/* name's base in text, or 0; *next the first base after every one given. */
static uint32_t find(const char *text, const char *name, uint64_t *next)
{
	*next = USERNS_BASE;
	for (const char *l = text; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		bool mine = false;
		uint32_t b = line_base(l, name, &mine);

		if (mine && b)
			return b;
		if (b && (uint64_t)b + USERNS_SIZE > *next)
			*next = (uint64_t)b + USERNS_SIZE;
	}
	return 0;
}

/* text and "NAME BASE" written whole: a temporary, synced, renamed over it. */
static int save(const char *text, const char *name, uint32_t base, struct err *e)
{
	char tmp[512], line[DECL_NAME_MAX + 16];
	size_t len = strlen(text);
	int fd, n;
	bool bad;

	if (fmt_path(tmp, sizeof(tmp), "%s.new", file) < 0)
		return err_set(e, ENAMETOOLONG, "%s", file);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return err_set(e, errno, "write %s", tmp);
	n = snprintf(line, sizeof(line), "%s%s %u\n", len && text[len - 1] != '\n' ? "\n" : "",
		     name, base);
	errno = 0;
	bad = n < 0 || (size_t)n >= sizeof(line) || write_all(fd, text, len) < 0 ||
	      write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0;
	if (close(fd) < 0 || bad) {
		unlink(tmp);
		return err_set(e, errno ? errno : EIO, "write %s", tmp);
	}
	if (rename(tmp, file) < 0)
		return err_set(e, errno, "rename %s", tmp);
	return 0;
}

int userns_range(const char *name, uint32_t *base, struct err *e)
{
	char *text = calloc(1, USERNS_MAX);
	uint64_t next;
	int len, r = 0;

	if (!text)
		return err_set(e, ENOMEM, "%s", file);
	len = read_text(file, text, USERNS_MAX, e);
	if (len < 0 && e->num != ENOENT)
		r = -1;
	else if (len < 0)
		text[0] = '\0';
	else if (len >= USERNS_MAX - 1)
		r = err_set(e, EFBIG, "%s: more than %d bytes", file, USERNS_MAX - 1);
	if (r == 0 && !(*base = find(text, name, &next))) {
		if (next > UINT32_MAX - USERNS_SIZE)
			r = err_set(e, ENOSPC, "%s: every range of ids is given", file);
		else if ((r = save(text, name, (uint32_t)next, e)) == 0)
			*base = (uint32_t)next;
	}
	free(text);
	return r < 0 ? err_ctx(e, "user namespace of %s", name) : 0;
}

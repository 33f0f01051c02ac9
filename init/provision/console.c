/*
 * console.c: provision's own console lines, never a blocking write.
 *
 * The lines nothing else shows (log.c: those above the relay's level, every
 * one on a `quiet` boot or after a root's `dmesg -n 1`) went to the console
 * provision inherits from PID 1 by a blocking write. A console that takes
 * nothing (Ctrl-S on a terminal with ixon, a host that stops reading the
 * serial port) then held provision until PID 1's deadline killed it, and its
 * safe mode the same way: the boot's units waited minutes for nothing.
 *
 * Here the console is a descriptor of its own, non-blocking: a line gets a
 * short wait (the console may be slow, not stopped), and once one found no
 * room, the next ones get a single try until a line goes through, so a
 * stopped console costs one wait. The kernel log (dmesg) keeps every line; a
 * dropped one is counted and the count said once the console takes lines
 * again.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Longer than a serial port's 4 KiB buffer takes to drain at 115200 baud (~360 ms), full
 * of the kernel's records PID 1 relays: a console that is merely busy still shows the
 * line; a stopped one costs this once. */
#define LINE_WAIT_MS 1000

static struct {
	int fd;
	bool stalled; /* the last line found no room: no wait until one passes */
	bool cut;     /* the console took part of a line: the next starts on a line of its own */
	unsigned dropped; /* lines not shown since the last one that was */
} con = {.fd = -1};

/* All of s, within until_ms (0: one try); false if the console took less. */
static bool put_within(const char *s, size_t n, uint64_t until_ms)
{
	struct pollfd p = {.fd = con.fd, .events = POLLOUT};
	size_t left = n;

	while (left > 0) {
		ssize_t w = write(con.fd, s, left);
		uint64_t now;

		if (w > 0) {
			s += w, left -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if ((w < 0 && errno != EAGAIN) || (now = now_ms()) >= until_ms ||
		    (poll(&p, 1, (int)(until_ms - now)) < 0 && errno != EINTR)) {
			con.cut = con.cut || left < n;
			return false;
		}
	}
	return true;
}

/* A line, or nothing if the console has no room for it (kmsg has it). */
static void put(const char *s, size_t n)
{
	uint64_t until = con.stalled ? 0 : now_ms() + LINE_WAIT_MS;
	char note[160];
	int k;

	/* the console took part of an earlier line: this one starts on a line of its own */
	if (con.cut && put_within("\n", 1, until))
		con.cut = false;
	if (con.cut || !put_within(s, n, until)) {
		con.stalled = true;
		con.dropped++;
		return;
	}
	con.stalled = false;
	if (con.dropped) {
		k = snprintf(note, sizeof(note),
			     "provision: console: %u of provision's lines were not shown, the "
			     "console took nothing for a while (dmesg has them)\n",
			     con.dropped);
		if (put_within(note, (size_t)k, now_ms() + LINE_WAIT_MS))
			con.dropped = 0;
	}
}

void console_use(const char *path)
{
	con.fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	/* not opened: fd 1 as before (log.c), the only console there is */
	if (con.fd >= 0)
		log_set_console(put);
}

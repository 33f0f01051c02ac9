/*
 * log.c: init's own messages (and provision's: log_set_ident()).
 *
 * Two sinks: /dev/kmsg, so `dmesg` keeps the boot story with priorities,
 * and the console, where a person (or a test) reads it. The kernel
 * itself copies a kmsg line to every console when its priority is below
 * console_loglevel; writing it to /dev/console as well would show it
 * twice, so init writes to the console only the lines the kernel will
 * not print. Either way each line appears there exactly once (with the
 * kernel's timestamp in front when the kernel printed it).
 *
 * kmsg rate-limits each open file to 10 lines per 5 s and silently drops
 * the rest; init writes few lines, and a boot log with holes is worse
 * than none, so every line gets its own open.
 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MAX 1000 /* below the kernel's LOG_LINE_MAX, so a kmsg write is never refused */

/* "init" or "provision": whose line it is, ahead of every message. */
static const char *ident = "init";
/* false: a run on the build host (provision --root), whose kernel log is not ours */
static bool use_kmsg = true;

void log_set_ident(const char *name)
{
	ident = name;
}

void log_no_kmsg(void)
{
	use_kmsg = false;
}

/* The kernel prints a record on the consoles iff prio < console_loglevel (or
 * ignore_loglevel). The level first: it decides for nearly every line, and each
 * file read is an open of its own (~1 ms each under TCG while init boots). */
#define IGNORE_LOGLEVEL "/sys/module/printk/parameters/ignore_loglevel"

static bool kernel_echoes(int prio)
{
	char buf[64];
	struct err e;
	uint64_t level;

	/* /proc/sys/kernel/printk: "console_loglevel default_msg min_console default_console" */
	if (read_text("/proc/sys/kernel/printk", buf, sizeof(buf), &e) > 0 &&
	    dec_scan(buf, &level) && (uint64_t)prio < level)
		return true;
	return read_text(IGNORE_LOGLEVEL, buf, sizeof(buf), &e) > 0 && buf[0] == 'Y';
}

static bool to_kmsg(int prio, const char *line, size_t len)
{
	char buf[LOG_MAX + 16];
	int fd, n;
	bool ok;

	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	/* Facility daemon (3): the record reads as from a system program, not a user's. */
	n = snprintf(buf, sizeof(buf), "<%d>%.*s\n", LOG_DAEMON | prio, (int)len, line);
	ok = write_all(fd, buf, (size_t)n) == 0;
	close(fd);
	return ok;
}

static void emit(int prio, bool named, const char *fmt, va_list ap)
{
	char line[LOG_MAX + 1];
	size_t len;
	int n;

	n = named ? snprintf(line, sizeof(line), "%s: ", ident) : 0;
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One record per line: a message that carries a newline (a child's
	 * error text, a file name) must not forge a second one. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	len = strlen(line);

	if (use_kmsg && to_kmsg(prio, line, len) && kernel_echoes(prio))
		return;
	line[len] = '\n';
	/* fd 1 is /dev/console (console_setup); nothing else can be done if this fails. */
	(void)write_all(STDOUT_FILENO, line, len + 1);
}

void log_line(int prio, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(prio, false, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_msg(int prio, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(prio, true, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_err(const struct err *e)
{
	log_msg(LOG_ERR, "%s", e->msg);
}

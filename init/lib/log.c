/*
 * log.c: init's own messages (and provision's: log_set_ident()).
 *
 * Two sinks: /dev/kmsg, so `dmesg` keeps the boot story with priorities,
 * and the console, where a person (or a test) reads it. A kmsg line reaches
 * the console without init writing it there when its priority is below
 * console_loglevel (the kernel prints it) or, once PID 1 relays the kernel's
 * records (pid1/klog.c), below the relay's level; writing it to the console
 * as well would show it twice, so init writes to the console only the lines
 * nothing else will, escaped as the relay's are. Either way each line appears
 * there exactly once (with the kernel's timestamp in front when the kernel or
 * the relay printed it).
 *
 * kmsg rate-limits each open file to 10 lines per 5 s and silently drops
 * the rest; init writes few lines, and a boot log with holes is worse
 * than none, so every line gets its own open.
 */
#include "base.h"
#include "paths.h"

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

/* PID 1's relay of the kernel's records (pid1/klog.c), in PID 1: relays what there is and
 * says whether a line of prio is shown. */
static bool (*relay_shows)(int prio);
/* The relay's level and console_loglevel as it left it, for the other programs (read once
 * from KLOG_LEVEL_FILE); -1: no relay. */
static int relay_level = -1, relay_own = -1;

void log_set_relay(bool (*shows)(int prio))
{
	relay_shows = shows;
}

/* PID 1's console writer (pid1/klog.c); NULL: fd 1, which may block. */
static void (*console_put)(const char *s, size_t n);

void log_set_console(void (*put)(const char *s, size_t n))
{
	console_put = put;
}

/* "LEVEL OWN": PID 1 relays below LEVEL while console_loglevel is OWN. */
static void relay_read(void)
{
	char buf[64];
	struct err e;
	uint64_t l, o;
	const char *p;

	if (read_text(KLOG_LEVEL_FILE, buf, sizeof(buf), &e) > 0 && (p = dec_scan(buf, &l)) &&
	    *p == ' ' && dec_scan(p + 1, &o) && l <= 15 && o <= 15)
		relay_level = (int)l, relay_own = (int)o;
}

/* Whether a record of priority prio reaches the console without this program writing it
 * there: below console_loglevel (unless ignore_loglevel); while PID 1 relays, below its
 * level, or below console_loglevel if that has moved from where the relay left it (a
 * root's `dmesg -n N`: the relay follows it). The level first: it decides for nearly
 * every line, and each file read is an open of its own (~1 ms each under TCG while init
 * boots). */

static bool kernel_echoes(int prio)
{
	char buf[64];
	struct err e;
	uint64_t now;

	if (read_text(PRINTK_LEVELS, buf, sizeof(buf), &e) > 0 && dec_scan(buf, &now)) {
		if (relay_level < 0)
			relay_read();
		if (relay_level >= 0)
			return prio < ((int)now == relay_own ? relay_level : (int)now);
		if ((uint64_t)prio < now)
			return true;
	}
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
	char line[LOG_MAX + 1], shown[4 * LOG_MAX + 2];
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

	if (use_kmsg && to_kmsg(prio, line, len) &&
	    (relay_shows ? relay_shows(prio) : kernel_echoes(prio)))
		return;
	/* A quoted name or error text must not reach the console as a terminal control, as
	 * the relay's lines do not (kmsg escapes them). */
	text_escaped(line, len, shown, sizeof(shown) - 1);
	len = strlen(shown);
	shown[len] = '\n';
	if (console_put)
		console_put(shown, len + 1);
	else /* fd 1 is /dev/console (console_setup); nothing else can be done if this fails */
		(void)write_all(STDOUT_FILENO, shown, len + 1);
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

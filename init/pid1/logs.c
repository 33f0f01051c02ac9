/*
 * logs.c: each unit's stdout and stderr, to LOG_DIR/<name>.log.
 *
 * The program writes into a pipe; init reads it from the event loop and
 * writes whole lines, each prefixed with the UTC time it was read
 * ("2026-01-01T12:00:00.123Z "), to the unit's file: a read's lines
 * together, LOG_BATCH bytes a write() at most, never across a rotation.
 * Files rotate by size (name.log -> name.log.1 -> name.log.2, the oldest
 * dropped).
 *
 * init must never wait for a unit's output: the pipe is non-blocking and
 * each wakeup reads a bounded amount (LOG_READ_MAX), so a program that
 * writes faster than the disk fills its pipe and waits on it itself,
 * while init goes on serving everything else. When the file cannot be
 * written (/var not mounted, disk full), lines are dropped and counted,
 * reported once; opening is retried at most every LOG_RETRY_MS. The
 * boot's early units start before /var is mounted: their pipes are held
 * (opened, not read) until it is, so nothing they print is lost.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_READ_MAX (64u << 10) /* per wakeup per unit */
#define LOG_RETRY_MS 10000u

static const char *log_dir = LOG_DIR;
static uint64_t max_bytes = LOG_ROTATE_BYTES;
static unsigned max_files = LOG_ROTATE_FILES;
static void (*observer)(const char *unit, const char *line, size_t len);
static bool closed; /* logs_shutdown(): /var is going away */
static bool holding;
static struct logsink *held; /* opened while holding, newest first */

void logs_configure(const char *dir, uint64_t bytes, unsigned files)
{
	log_dir = dir;
	max_bytes = bytes;
	max_files = files ? files : 1;
}

void logs_set_observer(void (*fn)(const char *unit, const char *line, size_t len))
{
	observer = fn;
}

static int path_of(char *buf, size_t size, const char *unit, unsigned n)
{
	if (n == 0)
		return fmt_path(buf, size, "%s/%s.log", log_dir, unit);
	return fmt_path(buf, size, "%s/%s.log.%u", log_dir, unit, n);
}

static int open_log(struct logsink *l)
{
	char path[4096];
	struct stat st;
	struct err e;

	if (path_of(path, sizeof(path), l->unit, 0) < 0)
		return -1;
	l->file = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (l->file < 0 && errno == ENOENT) {
		/* The log directory lives on /var, which starts empty. A failure shows in the
		 * open below, which the caller reports. */
		(void)mkdir_p(log_dir, 0750, &e);
		l->file = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	}
	if (l->file < 0)
		return -1;
	l->size = fstat(l->file, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static void rotate(struct logsink *l)
{
	char from[4096], to[4096];

	close(l->file);
	l->file = -1;
	for (unsigned n = max_files - 1; n > 0; n--)
		if (path_of(from, sizeof(from), l->unit, n - 1) == 0 &&
		    path_of(to, sizeof(to), l->unit, n) == 0)
			rename(from, to); /* a missing older one is fine */
	if (max_files == 1 && path_of(from, sizeof(from), l->unit, 0) == 0)
		unlink(from);
}

/* One read's stamped lines, written together: a line at a time, a flood of short
 * lines cost PID 1 a write() each (64 KiB of newlines, 65 536 calls, ~129 ms of
 * its loop). Static, not on the stack: PID 1 is single-threaded and its pages are
 * touched only as far as a batch ever reached (one for ordinary output). */
static struct {
	char buf[LOG_BATCH];
	size_t len;
	unsigned long lines;
	char stamp[40]; /* the read's time, shared by its lines */
	size_t slen;
} batch;
_Static_assert(LOG_BATCH > LOG_LINE_MAX + 40, "a batch holds the longest line");

static void drop(struct logsink *l, unsigned long lines)
{
	l->dropped += lines;
	if (!l->warned) {
		struct err e;
		err_set(&e, errno, "%s: cannot write %s/%s.log; dropping its output", l->unit,
			log_dir, l->unit);
		log_err(&e);
		l->warned = true;
	}
}

static size_t stamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	return (size_t)snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ",
				tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				tm.tm_sec, ts.tv_nsec / 1000000L);
}

/* The batch to the file, or dropped (counted per line); followers get it whole. */
static void flush(struct logsink *l)
{
	if (batch.len == 0)
		return;
	if (l->file < 0 || write_all(l->file, batch.buf, batch.len) < 0) {
		drop(l, batch.lines);
		if (l->file >= 0) {
			close(l->file); /* reopened later: the disk may come back */
			l->file = -1;
			l->retry_at = now_ms() + LOG_RETRY_MS;
		}
	} else {
		l->size += batch.len;
		if (l->warned && l->dropped) {
			log_msg(LOG_WARNING, "%s: %lu line%s of output were dropped", l->unit,
				l->dropped, l->dropped == 1 ? "" : "s");
			l->dropped = 0;
			l->warned = false;
		}
		/* whole lines, each ending in the batch's only newlines (a line holds none) */
		if (observer)
			observer(l->unit, batch.buf, batch.len);
	}
	batch.len = batch.lines = 0;
}

/* Before a batch's first line (of n bytes): the file opened, or rotated when the
 * line would take it past its size; so a batch never crosses a rotation. */
static void prepare(struct logsink *l, size_t n)
{
	if (l->file < 0 && !closed && now_ms() >= l->retry_at && open_log(l) < 0)
		l->retry_at = now_ms() + LOG_RETRY_MS;
	if (l->file >= 0 && l->size > 0 && l->size + n > max_bytes) {
		rotate(l);
		if (open_log(l) < 0)
			l->retry_at = now_ms() + LOG_RETRY_MS;
	}
}

/* One line (without its newline) into the batch, stamped. */
static void put_line(struct logsink *l, const char *text, size_t len)
{
	size_t n = batch.slen + len + 1;

	if (batch.len + n > sizeof(batch.buf) || l->size + batch.len + n > max_bytes)
		flush(l);
	if (batch.len == 0)
		prepare(l, n);
	memcpy(batch.buf + batch.len, batch.stamp, batch.slen);
	memcpy(batch.buf + batch.len + batch.slen, text, len);
	batch.len += n;
	batch.buf[batch.len - 1] = '\n';
	batch.lines++;
}

void logs_feed(struct logsink *l, const char *buf, size_t len)
{
	batch.slen = stamp(batch.stamp, sizeof(batch.stamp));
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) : len;

		if (take > sizeof(l->part) - l->plen)
			take = sizeof(l->part) - l->plen;
		memcpy(l->part + l->plen, buf, take);
		l->plen += take;
		buf += take;
		len -= take;
		/* A newline, or a full buffer (a very long line is cut in pieces). */
		if ((len > 0 && *buf == '\n') || l->plen == sizeof(l->part)) {
			put_line(l, l->part, l->plen);
			l->plen = 0;
			if (len > 0 && *buf == '\n') {
				buf++;
				len--;
			}
		}
	}
	flush(l);
}

static void on_output(struct watch *w, uint32_t events)
{
	struct logsink *l = container_of(w, struct logsink, w);
	char buf[4096];
	size_t total = 0;

	(void)events;
	while (total < LOG_READ_MAX) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EAGAIN: all read; the rest comes with the next wakeup */
		logs_feed(l, buf, (size_t)n);
		total += (size_t)n;
	}
}

/*
 * The unit's process ended: what its pipe holds now (a wakeup's worth, as on_output
 * reads: a child of it may still write) and its last line, when it did not end it with a
 * newline, go to the file now. Kept for its newline, that line waited for output that may
 * never come: a oneshot's `printf done`, a service's last words at shutdown, after which
 * the file is closed. Held (before /var), nothing was read: it all waits in the pipe.
 */
void logs_end(struct logsink *l)
{
	if (holding || l->w.fd < 0)
		return;
	on_output(&l->w, 0);
	if (l->plen == 0)
		return;
	batch.slen = stamp(batch.stamp, sizeof(batch.stamp));
	put_line(l, l->part, l->plen);
	l->plen = 0;
	flush(l);
}

int logs_open(struct logsink *l, const char *name, struct err *e)
{
	int p[2];

	snprintf(l->unit, sizeof(l->unit), "%s", name);
	l->file = -1;
	l->plen = 0;
	/* init keeps the write end too: restarts reuse the pipe, and the read end
	 * never sees EOF, so an idle unit costs nothing. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_set(e, errno, "log pipe for %s", name);
	/* The program's end blocks: a fast writer waits for init, not the reverse. */
	fcntl(p[1], F_SETFL, 0);
	l->w.fd = p[0];
	l->w.ready = on_output;
	l->wfd = p[1];
	if (holding) {
		l->next_held = held;
		held = l;
		return 0;
	}
	if (loop_watch(&l->w, e) < 0) {
		close(p[0]);
		close(p[1]);
		l->w.fd = l->wfd = -1;
		return -1;
	}
	return 0;
}

void logs_hold(void)
{
	holding = true;
}

void logs_release(void)
{
	struct err e;

	holding = false;
	for (struct logsink *l = held, *next; l; l = next) {
		next = l->next_held;
		l->next_held = NULL;
		/* Unread, the unit blocks once its pipe is full: say so, loudly. */
		if (l->w.fd >= 0 && loop_watch(&l->w, &e) < 0)
			log_msg(LOG_ERR, "%s: %s; its output is not read", l->unit, e.msg);
	}
	held = NULL;
}

static void unhold(struct logsink *l)
{
	for (struct logsink **p = &held; *p; p = &(*p)->next_held)
		if (*p == l) {
			*p = l->next_held;
			break;
		}
	l->next_held = NULL;
}

void logs_shutdown(void)
{
	closed = true;
}

void logs_close(struct logsink *l)
{
	unhold(l);
	if (l->w.fd >= 0) {
		loop_unwatch(&l->w);
		close(l->w.fd);
	}
	if (l->wfd >= 0)
		close(l->wfd);
	if (l->file >= 0)
		close(l->file);
	l->w.fd = l->wfd = l->file = -1;
}

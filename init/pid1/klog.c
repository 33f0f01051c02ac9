/*
 * klog.c: the kernel's messages on the console, with their control bytes escaped.
 *
 * The kernel copies a record to the console as it was written, and some records
 * carry what a container chose: the OOM killer's "Killed process N (NAME)" and
 * its task list name every process by its comm, which any process sets (an exec
 * of a file so named, prctl). A container whose memory cgroup runs out, which it
 * can cause at will, could so put escape sequences on the serial console and on
 * the terminal of whoever reads it (docs/security.md). /dev/kmsg hands the same
 * records out with every byte below 0x20, from 0x7f and '\' as \xHH, so from
 * klog_start() on the kernel prints only emergencies and alerts itself
 * (console_loglevel KLOG_OWN) and PID 1 relays the other records below the boot's
 * level (`level`: what console_loglevel was, from `loglevel=` or `quiet`) from
 * /dev/kmsg, in the kernel's own "[%5lu.%06lu] " form, so a console reads as before.
 *
 * Never blocking PID 1 on a slow or stopped console (Ctrl-S on a terminal with ixon, a
 * host that stops reading the serial port): the console is written non-blocking;
 * while a record waits for room, /dev/kmsg is not read (its ring holds what
 * comes, and what it overwrites is counted and said). The lines init writes to the
 * console itself (those the relay does not show: log.c) wait in the same queue, behind
 * the records before them; a line that finds it full is dropped and counted (kmsg has
 * it: dmesg). At shutdown's end what waits is given a bounded time (STOP_IDLE_MS
 * without progress, STOP_MAX_MS in all): PID 1 syncs and unmounts /var after it, and
 * a console nobody reads must not keep the machine from doing so. A root's `dmesg -n N`
 * moves console_loglevel: read back at each batch, N becomes the level (and
 * KLOG_OWN is put back if N is above it; the kernel prints at N itself until
 * then, as nothing tells PID 1 of the change). An oops raises console_loglevel to 15
 * and is printed by the kernel whatever init does. Provision's lines and init's
 * own are relayed too: log.c takes the level from log_set_relay() (init) or
 * KLOG_LEVEL_FILE (provision) to know whether its line reaches the console.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The kernel prints the records below it itself: 0 and 1, emergencies and alerts (a kernel
 * bug's). 2, not 1: a root's `dmesg -n 1`, which tests and people type to quiet the
 * console, must read as a change (`dmesg -n 2` cannot: docs/security.md). */
#define KLOG_OWN      2
#define KLOG_OWN_TEXT "2"
#define KMSG_RECORD   8192 /* the kernel's CONSOLE_EXT_LOG_MAX: a read of less is refused */
#define PRINTK_TIME   "/sys/module/printk/parameters/time"
#define STOP_IDLE_MS  2000  /* klog_stop(): a console that takes nothing for this long... */
#define STOP_MAX_MS   10000 /* ...or is still behind after this long is left behind */

static struct watch kmsg = {.fd = -1}, con = {.fd = -1};
static bool active;	  /* between klog_start() and klog_stop() */
static int level;	  /* relay the records below it */
static int own = -1;	  /* console_loglevel as klog left it: the kernel prints below it */
static bool stamps;	  /* the kernel prefixes its console lines with the time */
static bool busy;	  /* in drain(): a line logged from inside it is read by the same drain */
static uint64_t next_seq; /* the record expected next; a jump is records overwritten */
static bool seq_known;
static uint64_t lost;
static uint64_t dropped; /* init's own lines the queue had no room for */
static bool waiting;	 /* for the console to have room (kmsg not read meanwhile) */
static char rec[KMSG_RECORD + 1];
/* What waits for the console: a record as the kernel prints it (stamps on each of its lines)
 * and init's own lines behind it. Roomy because a line of init's that finds it full is lost
 * from the console (a harness slow to read QEMU's serial output fills the tty's 4 KiB in
 * bursts); untouched pages cost no memory. */
#define OUT_SIZE (64 * 1024)
static char out[OUT_SIZE];
static size_t out_len, out_off; /* out[out_off..out_len) waits for the console */

static int printk_level(void)
{
	char buf[64];
	struct err e;
	uint64_t v;

	if (read_text(PRINTK_LEVELS, buf, sizeof(buf), &e) < 0 || !dec_scan(buf, &v) || v > 15)
		return -1;
	return (int)v;
}

static bool param_on(const char *path)
{
	char buf[8];
	struct err e;

	return read_text(path, buf, sizeof(buf), &e) > 0 && buf[0] == 'Y';
}

/* The level relayed: for init's lines here, for provision's in KLOG_LEVEL_FILE. */
static void level_set(int l)
{
	char v[16];
	struct err e;

	level = l;
	snprintf(v, sizeof(v), "%d %d\n", l, own);
	if (write_file(KLOG_LEVEL_FILE, v, strlen(v), 0644, &e) < 0)
		log_err(&e);
}

/* console_loglevel moved from where klog left it (own): at the start, by a root's
 * `dmesg -n N` (or /proc/sys/kernel/printk), by an oops. Its value is the level now; the
 * kernel keeps printing only what is below KLOG_OWN. false: it could not be lowered. */
static bool level_follow(void)
{
	int now = printk_level();
	struct err e;

	if (now < 0 || now == own)
		return true;
	own = now < KLOG_OWN ? now : KLOG_OWN;
	level_set(now);
	if (own != now && write_value(PRINTK_LEVELS, KLOG_OWN_TEXT, &e) < 0) {
		log_err(&e);
		return false;
	}
	return true;
}

/* Write what waits; true when nothing is left (a console that fails drops it). */
static bool out_flush(void)
{
	while (out_off < out_len) {
		ssize_t n = write(con.fd, out + out_off, out_len - out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0)
			break;
		out_off += (size_t)n;
	}
	out_off = out_len = 0;
	return true;
}

/* What waits moved to the front, so that a line appended finds the room written out. */
static void out_compact(void)
{
	memmove(out, out + out_off, out_len - out_off);
	out_len -= out_off;
	out_off = 0;
}

static void out_put(const char *s, size_t n)
{
	if (n > sizeof(out) - out_len)
		n = sizeof(out) - out_len; /* a record's worst case still ends cut, not overrun */
	memcpy(out + out_len, s, n);
	out_len += n;
}

/* One record as the kernel prints it: the stamp in front of each of its lines (the
 * escaped text's \x0a are where the record had line breaks). */
static void out_record(uint64_t usec, const char *text, size_t len)
{
	char stamp[32];
	int n = stamps
		    ? snprintf(stamp, sizeof(stamp), "[%5lu.%06lu] ",
			       (unsigned long)(usec / 1000000u), (unsigned long)(usec % 1000000u))
		    : 0;
	size_t i = 0;

	out_put(stamp, (size_t)n);
	while (i < len) {
		const char *nl = memmem(text + i, len - i, "\\x0a", 4);
		size_t end = nl ? (size_t)(nl - text) : len;

		out_put(text + i, end - i);
		out_put("\n", 1);
		i = nl ? end + 4 : len;
		if (i < len)
			out_put(stamp, (size_t)n);
	}
	if (len == 0)
		out_put("\n", 1);
}

/* "PRIO,SEQ,USEC,FLAGS[,...];TEXT\n[ KEY=VALUE\n]...": relay it if its level is one
 * the kernel no longer prints and the console's level shows. */
static void relay(const char *r, size_t n)
{
	uint64_t prio, seq, usec;
	const char *p = dec_scan(r, &prio), *text, *end;

	if (!p || *p != ',' || !(p = dec_scan(p + 1, &seq)) || *p != ',' ||
	    !(p = dec_scan(p + 1, &usec)) || !(text = memchr(p, ';', n - (size_t)(p - r))))
		return;
	text++;
	end = memchr(text, '\n', n - (size_t)(text - r));
	if (!end)
		end = r + n;
	if (seq_known && seq > next_seq)
		lost += seq - next_seq;
	next_seq = seq + 1, seq_known = true;
	if ((int)(prio & 7) >= own && (int)(prio & 7) < level)
		out_record(usec, text, (size_t)(end - text));
}

/* Stop reading /dev/kmsg until the console has room again, or the reverse. */
static void wait_console(bool on)
{
	struct err e;

	waiting = on;
	if (on) {
		loop_unwatch(&kmsg);
		(void)loop_watch_writable(&con, true);
	} else {
		(void)loop_watch_writable(&con, false);
		if (loop_watch(&kmsg, &e) < 0)
			log_err(&e);
	}
}

static void relay_end(void);

/* Relay every record there is, as long as the console takes them. */
static void drain(void)
{
	int failed = 0;

	if (busy || !active)
		return;
	busy = true;
	(void)level_follow();
	while (out_flush()) {
		ssize_t n = read(kmsg.fd, rec, KMSG_RECORD);

		if (n < 0 && (errno == EINTR || errno == EPIPE))
			continue; /* EPIPE: overwritten before read; the next seq tells how many */
		if (n < 0 && errno != EAGAIN)
			failed = errno; /* kmsg would stay readable: the loop would spin */
		if (n <= 0)
			break;
		relay(rec, (size_t)n);
	}
	if (out_len && !waiting)
		wait_console(true);
	busy = false;
	if (failed) {
		relay_end();
		log_msg(LOG_ERR,
			"console: read /dev/kmsg: %s; the kernel prints its messages "
			"itself again, unescaped",
			strerror(failed));
		return;
	}
	if (lost) {
		uint64_t l = lost;

		lost = 0;
		log_msg(LOG_WARNING,
			"console: %llu kernel messages were overwritten before "
			"they could be shown (dmesg has the newer ones)",
			(unsigned long long)l);
	}
}

/* init's own console line (log.c's writer from klog_start() on): behind what waits while
 * the relay runs; after it (shutdown's end, a failed kmsg), written if the console takes it
 * now. Never a blocking write. */
static void console_put(const char *s, size_t n)
{
	if (!active) { /* no loop to say what a full console drops: kmsg has it */
		if (con.fd >= 0)
			(void)!write(con.fd, s, n);
		return;
	}
	if (n > sizeof(out) - out_len && !waiting)
		(void)out_flush(); /* all written: room from the start */
	if (n > sizeof(out) - out_len)
		out_compact();
	if (n > sizeof(out) - out_len) {
		dropped++;
		return;
	}
	out_put(s, n);
	if (!busy && !waiting && !out_flush())
		wait_console(true); /* busy: drain() is writing the queue out itself */
}

/* Lines dropped for a full console, said once it takes lines again. */
static void say_dropped(void)
{
	uint64_t d = dropped;

	if (!d)
		return;
	dropped = 0;
	log_msg(LOG_WARNING,
		"console: %llu of init's lines were not shown, the console took nothing for a "
		"while (dmesg has them)",
		(unsigned long long)d);
}

bool klog_shows(int prio)
{
	drain();
	return prio < level;
}

static void on_kmsg(struct watch *w, uint32_t events)
{
	(void)w, (void)events;
	drain();
}

static void on_console(struct watch *w, uint32_t events)
{
	(void)w, (void)events;
	if (!out_flush())
		return;
	wait_console(false);
	say_dropped();
	drain();
}

static void close_watch(struct watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* The records from now on (what came before, the kernel has printed), then the
 * kernel's level down: a record between the two is shown twice, none is lost. */
void klog_start(void)
{
	struct err e;
	bool ok;

	if (printk_level() < 0 || param_on(IGNORE_LOGLEVEL))
		return; /* ignore_loglevel: the kernel prints everything whatever the level */
	kmsg.fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	kmsg.ready = on_kmsg;
	con.fd = open("/dev/console", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	con.ready = on_console;
	if (kmsg.fd < 0 || con.fd < 0 || lseek(kmsg.fd, 0, SEEK_END) < 0 ||
	    loop_watch(&kmsg, &e) < 0) {
		log_msg(LOG_ERR,
			"console: cannot relay the kernel's messages (%s); it prints "
			"them itself, unescaped",
			strerror(errno));
		close_watch(&kmsg), close_watch(&con);
		return;
	}
	stamps = param_on(PRINTK_TIME);
	if (mkdir_p(KLOG_LEVEL_DIR, 0755, &e) < 0)
		log_err(&e);
	active = true;
	log_set_relay(klog_shows);
	log_set_console(console_put);
	busy = true; /* a line logged while the level goes down waits for the first drain */
	ok = level_follow();
	busy = false;
	if (!ok)
		klog_stop();
}

/* Whether the console has room within the bounds of klog_stop() (poll(2): the loop runs no
 * more). */
static bool console_room(uint64_t end)
{
	struct pollfd p = {.fd = con.fd, .events = POLLOUT};
	uint64_t now = now_ms();
	uint64_t left = end > now ? end - now : 0;

	if (left > STOP_IDLE_MS)
		left = STOP_IDLE_MS;
	return left && poll(&p, 1, (int)left) == 1;
}

/* Shutdown's end (or no loop): what is left, written while the console takes it (see the
 * top: bounded); then the kernel prints again at the level the relay used. */
void klog_stop(void)
{
	uint64_t end = now_ms() + STOP_MAX_MS;

	if (!active)
		return;
	drain();
	while (active && out_len && console_room(end))
		on_console(&con, 0);
	out_off = out_len = 0; /* what still waits is left (kmsg has it) */
	relay_end();
}

/* The kernel prints at the relay's level again; the relay's files closed. */
static void relay_end(void)
{
	char v[8];
	struct err e;

	if (!active)
		return;
	loop_unwatch(&kmsg);
	(void)loop_watch_writable(&con, false);
	active = waiting = false;
	log_set_relay(NULL);
	(void)unlink(KLOG_LEVEL_FILE);
	snprintf(v, sizeof(v), "%d", level);
	if (printk_level() == own && own != level && write_value(PRINTK_LEVELS, v, &e) < 0)
		log_err(&e);
	close_watch(&kmsg); /* con stays: console_put() writes init's lines to it from now on */
}

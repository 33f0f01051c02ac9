/*
 * Unit tests: init/pid1/control.c, included whole for its listener's
 * handler. Anyone may connect to the control socket: a flood of
 * connections must not keep PID 1 in one handler while its timers,
 * signals and units wait. accept4 is this file's, an endless queue of
 * connections; the loop, units and shutdown are stubs. A follower of a
 * unit's log (logs -f) gets each batch of lines logs.c wrote in as few
 * messages as hold it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/control.c"

#include <signal.h>

#define ENDLESS 100000 /* "no end": what a handler without a bound would take */

static int accepts;

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int sv[2];

	(void)fd, (void)addr, (void)len, (void)flags;
	if (++accepts > ENDLESS) {
		errno = EAGAIN;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	close(sv[1]);
	return sv[0];
}

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio, (void)fmt;
}

int loop_watch(struct watch *w, struct err *e)
{
	(void)w, (void)e;
	return 0;
}

int loop_watch_out(struct watch *w, bool out)
{
	(void)w, (void)out;
	return 0;
}

void loop_unwatch(struct watch *w)
{
	(void)w;
}

void timer_start(struct timer *t, uint64_t at)
{
	(void)t, (void)at;
}

void timer_stop(struct timer *t)
{
	(void)t;
}

/* What control.c asks of the rest of PID 1: nothing a connection without a request reaches. */
void log_err(const struct err *e)
{
	(void)e;
}

size_t bootlog_render(char *buf, size_t size, uint64_t now)
{
	(void)buf, (void)size, (void)now;
	return 0;
}

void logs_set_observer(void (*fn)(const char *unit, const char *lines, size_t len))
{
	(void)fn;
}

void shutdown_request(enum shutdown_kind k, int sig, pid_t from)
{
	(void)k, (void)sig, (void)from;
}

pid_t spawn(const struct spawn_req *r, int *report, struct err *e)
{
	(void)r, (void)report;
	return err_set(e, ENOSYS, "spawn");
}

const char *unit_state_name(enum unit_state s)
{
	(void)s;
	return "";
}

size_t units_count(void)
{
	return 0;
}

int unit_info_at(size_t i, struct unit_info *out)
{
	(void)i, (void)out;
	return -1;
}

int unit_find(const char *name)
{
	(void)name;
	return -1;
}

int unit_start(const char *name, struct err *e)
{
	return err_set(e, 0, "%s", name);
}

int unit_stop(const char *name, struct err *e)
{
	return err_set(e, 0, "%s", name);
}

int unit_restart(const char *name, struct err *e)
{
	return err_set(e, 0, "%s", name);
}

/* A flood: one turn of the loop takes at most MAX_CLIENTS connections. */
static void test_flood_one_turn(void **state)
{
	(void)state;
	listener.fd = 0; /* accept4 above ignores it */
	on_listener(&listener, EPOLLIN);
	assert_true(accepts <= MAX_CLIENTS);
	assert_true(accepts > 0);
	/* the next turn takes the next ones: nobody is refused for waiting */
	on_listener(&listener, EPOLLIN);
	assert_true(accepts > MAX_CLIENTS && accepts <= 2 * MAX_CLIENTS);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].in_use)
			client_close(&clients[i]);
}

/* 200 lines in one batch reach a follower whole, in order, in 3 messages of whole lines
 * (a message and a send() per line before: 200). */
static void test_follow_batch(void **state)
{
	static char batch[200 * 64], got[sizeof(batch)];
	unsigned char msg[PROTO_MAX_MSG];
	size_t len = 0, glen = 0;
	unsigned msgs = 0;
	struct client *c = &clients[0];
	int sv[2];
	ssize_t n;

	(void)state;
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(
		    batch + len, sizeof(batch) - len,
		    "2026-12-07T21:00:00.000Z line %03d of the web unit's log\n", i);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	memset(c, 0, sizeof(*c));
	c->in_use = true;
	c->w.fd = sv[0];
	c->lister.fd = -1;
	strcpy(c->follow, "web");
	on_log_lines("db", batch, len); /* not followed: nothing */
	on_log_lines("web", batch, len);
	while ((n = recv(sv[1], msg, sizeof(msg), 0)) > 0) {
		struct pview m;
		const struct precord *r;
		struct err e;

		assert_int_equal(proto_decode(msg, (size_t)n, &m, &e), 0);
		assert_int_equal(m.type, P_LINES);
		assert_non_null(r = pview_find(&m, PT_TEXT));
		assert_true(r->len > 0 && r->val[r->len - 1] == '\n'); /* whole lines */
		memcpy(got + glen, r->val, r->len);
		glen += r->len;
		msgs++;
	}
	print_message("%zu bytes of 200 lines: %u messages\n", len, msgs);
	assert_int_equal(glen, len);
	assert_memory_equal(got, batch, len);
	assert_int_equal(msgs,
			 (len + PROTO_MAX_MSG - PROTO_HDR - 4) / (PROTO_MAX_MSG - PROTO_HDR - 3));
	client_close(c);
	close(sv[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as PID 1, which blocks it: a refusal to a closed peer */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flood_one_turn),
	    cmocka_unit_test(test_follow_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

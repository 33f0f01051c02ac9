/*
 * Unit tests: init/pid1/loop.c, included whole (its epoll descriptor is static). A signal's
 * handler may send the signal again to come back on the loop's next turn (dispatch.c does
 * with more children to reap than a turn takes): the loop reads the signalfd once a turn, so
 * the timers and watches that are ready get theirs first, and it is not held in one read
 * after another for as long as the handler sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/loop.c"

void log_err(const struct err *e)
{
	(void)e;
}

static int handled;
static bool fired;

/* As dispatch_reap with children left: the signal again, for the next turn. */
static void again(int sig, pid_t from)
{
	(void)from;
	handled++;
	kill(getpid(), sig);
}

/* The timer had its turn: the test is done; loop_run() returns at its next epoll_wait. */
static void on_fire(struct timer *t)
{
	(void)t;
	fired = true;
	close(epfd);
}

static void test_signal_again(void **state)
{
	struct timer t = {.fire = on_fire};
	sigset_t alrm;
	struct err e;

	(void)state;
	signals_block();
	assert_int_equal(loop_setup(again, &e), 0);
	/* The watchdog: a loop held in the signalfd's reads never returns. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	alarm(30);
	kill(getpid(), SIGUSR1);
	timer_start(&t, now_ms());
	assert_int_equal(loop_run(&e), -1); /* epfd closed by the timer */
	alarm(0);
	assert_true(fired);
	assert_true(handled >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_again),
	};

	return cmocka_run_group_tests_name("init_loop", tests, NULL, NULL);
}

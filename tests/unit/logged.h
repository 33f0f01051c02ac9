/*
 * logged.h: log_msg() and log_err() for a test that reads what the code under test
 * logged: every line goes to logged[], newline-terminated (empty it in setup). Include
 * it once, after base.h, in place of lib/log.c.
 */
#ifndef WISP_TEST_LOGGED_H
#define WISP_TEST_LOGGED_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char logged[8192];

void log_msg(int prio, const char *fmt, ...)
{
	size_t len = strlen(logged);
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(logged + len, sizeof(logged) - len, fmt, ap);
	va_end(ap);
	strncat(logged, "\n", sizeof(logged) - strlen(logged) - 1);
}

void log_err(const struct err *e)
{
	log_msg(LOG_ERR, "%s", e->msg);
}

#endif /* WISP_TEST_LOGGED_H */

/*
 * assert.c: a failed assertion (libyaml has them) in PID 1.
 *
 * musl's __assert_fail prints with fprintf, which would link the whole
 * FILE printf (printf.c says why PID 1 does without it). The message goes
 * to init's log instead; then abort(), as C says: PID 1 dies, the kernel
 * panics with the line above on the console.
 */
#include "pid1.h"

#include <stdlib.h>

_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func);

_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
	log_msg(LOG_CRIT, "assertion failed: %s (%s: %s: %d)", expr, file, func, line);
	abort();
}

/* hello.c: the baseline of docs/tls.md's sizes, a static musl program that
 * prints one line, built with the same flags as tlsget. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}

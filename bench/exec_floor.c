/*
 * exec_floor.c: the least an init can do before its first program runs,
 * for bench/exec_floor.py (issue 11's critical path): mount /dev and /proc,
 * open the console, then fork and exec busybox `cat /proc/uptime` twice
 * (the first exec pays TCG's translation of everything it runs for the
 * first time, the second shows what is left). It prints its own start
 * (CLOCK_BOOTTIME, as Wisp's banner does) and stays, as PID 1 must.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void run_cat(void)
{
	char *argv[] = {"cat", "/proc/uptime", NULL};
	pid_t p = fork();

	if (p == 0) {
		execve("/bin/cat", argv, NULL);
		_exit(127);
	}
	waitpid(p, NULL, 0);
}

int main(void)
{
	struct timespec t0;
	int c;

	clock_gettime(CLOCK_BOOTTIME, &t0);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	c = open("/dev/console", O_RDWR);
	dup2(c, 1);
	dup2(c, 2);
	printf("FLOOR start %ld.%03ld\n", (long)t0.tv_sec, t0.tv_nsec / 1000000L);
	fflush(stdout);
	run_cat();
	run_cat();
	printf("FLOOR done\n");
	fflush(stdout);
	for (;;)
		pause();
}

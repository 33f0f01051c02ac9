/* test_cl_user.c: an image's User resolved in its own /etc/passwd and
 * /etc/group (image/user.c), and the files a container can make of them in
 * its upper layer: a sparse one of gigabytes is refused by its size, before
 * a byte of it is read (every start would read it, as root), and no link, FIFO or
 * directory a container can put at /etc/passwd or /etc is followed or read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

static char top[] = "/tmp/test_cl_user.XXXXXX";

static void put(const char *name, const char *text, off_t size)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/etc/%s", top, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	if (size)
		assert_int_equal(ftruncate(fd, size), 0); /* sparse: no disk used */
	close(fd);
}

static void test_resolve(void **state)
{
	static const struct {
		const char *user, *msg; /* msg NULL: resolved to uid, gid */
		uint32_t uid, gid;
		off_t group_size; /* /etc/group made this large (sparse); 0: as written */
	} cases[] = {
	    {"alice", NULL, 1000, 1000, 0},
	    {"alice:staff", NULL, 1000, 50, 0},
	    {"7:8", NULL, 7, 8, 0},
	    {"bob", "user bob: not in the image's /etc/passwd", 0, 0, 0},
	    {"alice:nope", "user nope: not in the image's /etc/group", 0, 0, 0},
	    {"alice:staff",
	     "user staff: /etc/group of the image: 2147483648 bytes, more than 8 MiB", 0, 0,
	     (off_t)2 << 30},
	    {"alice:staff", NULL, 1000, 50, 8 << 20}, /* 8 MiB exactly: taken */
	};
	char etc[256];
	int root;

	(void)state;
	snprintf(etc, sizeof(etc), "%s/etc", top);
	assert_int_equal(mkdir(etc, 0755), 0);
	put("passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n", 0);
	assert_true((root = open(top, O_RDONLY | O_DIRECTORY)) >= 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cl_err e = {0};
		uint32_t uid, gid;
		int r;

		put("group", "root:x:0:\nstaff:x:50:alice\n", cases[i].group_size);
		r = img_resolve_user(root, cases[i].user, &uid, &gid, &e);
		print_message("case %zu: %s: %d %s\n", i, cases[i].user, r, e.msg);
		if (cases[i].msg) {
			assert_int_equal(r, -1);
			assert_string_equal(e.msg, cases[i].msg);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(uid, cases[i].uid);
			assert_int_equal(gid, cases[i].gid);
		}
	}
	close(root);
}

/* What a container can make of /etc/passwd and /etc in its upper layer, which
 * the next start's `image bundle` (root, on the host) reads: a link to a host
 * file whose "alice" is uid 0, a FIFO no one writes (the start would hang), a
 * directory. Each is refused in one line naming the file; none is read. */
static void test_shaped(void **state)
{
	static const struct {
		const char *what, *msg;
	} cases[] = {
	    {"passwd an absolute symlink to a host file",
	     "user alice: /etc/passwd of the image: etc/passwd: a symlink (not followed)"},
	    {"passwd a relative symlink out of the root",
	     "user alice: /etc/passwd of the image: etc/passwd: a symlink (not followed)"},
	    {"passwd a FIFO",
	     "user alice: /etc/passwd of the image: etc/passwd: not a regular file"},
	    {"passwd a directory",
	     "user alice: /etc/passwd of the image: etc/passwd: not a regular file"},
	    {"etc a symlink to a host directory",
	     "user alice: /etc/passwd of the image: etc/passwd: a symlink (not followed)"},
	};
	char root[128], etc[160], passwd[192], host[128], cmd[1024];
	int rfd;

	(void)state;
	snprintf(root, sizeof(root), "%s/shaped", top);
	snprintf(etc, sizeof(etc), "%s/etc", root);
	snprintf(passwd, sizeof(passwd), "%s/passwd", etc);
	snprintf(host, sizeof(host), "%s/host", top);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(host, 0755), 0);
	snprintf(cmd, sizeof(cmd), "echo alice:x:0:0::/:/bin/sh > %s/passwd", host);
	assert_int_equal(system(cmd), 0);
	assert_true((rfd = open(root, O_RDONLY | O_DIRECTORY)) >= 0);
	alarm(10); /* a FIFO opened for reading would block here for ever */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cl_err e = {0};
		uint32_t uid, gid;
		char link[300];
		int r;

		snprintf(cmd, sizeof(cmd), "rm -rf %s", etc);
		assert_int_equal(system(cmd), 0);
		if (i == 4) {
			assert_int_equal(symlink(host, etc), 0);
		} else {
			assert_int_equal(mkdir(etc, 0755), 0);
			snprintf(link, sizeof(link), "%s/passwd", host);
			if (i == 0)
				assert_int_equal(symlink(link, passwd), 0);
			if (i == 1)
				assert_int_equal(symlink("../../host/passwd", passwd), 0);
			if (i == 2)
				assert_int_equal(mkfifo(passwd, 0644), 0);
			if (i == 3)
				assert_int_equal(mkdir(passwd, 0755), 0);
		}
		r = img_resolve_user(rfd, "alice", &uid, &gid, &e);
		print_message("case %zu: %s: %d %s\n", i, cases[i].what, r, e.msg);
		assert_int_equal(r, -1);
		assert_string_equal(e.msg, cases[i].msg);
	}
	alarm(0);
	close(rfd);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(top) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_shaped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

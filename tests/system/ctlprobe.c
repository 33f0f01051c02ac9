/*
 * ctlprobe: a test helper for tests/system/test_control.py, built into the
 * test image only (never into Wisp's ROOT). It does what wispctl must not
 * be able to: send raw bytes to init's control socket, and connect as
 * another uid.
 *
 *   ctlprobe [-u UID] [-z N] [-s SECONDS] [HEX...]
 *   ctlprobe -u UID -x PROGRAM [ARG...]
 *
 * -u: setgid/setuid to UID before connecting (-x: before exec'ing PROGRAM,
 * e.g. wispctl as a user: the image has no su). -z: also send one message
 * of N zero bytes. "connected" is printed (and flushed, so a test polling
 * the output knows) once connect() has returned. Each HEX argument is sent
 * as one message. Every reply is printed as "reply TYPE TEXT" until EOF or
 * SECONDS (default 3) of silence; "silent" then, "eof" at the end if init
 * closed the connection (EOF, or a reset when it closed with our request
 * unread).
 */
#include "lib/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static size_t unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[1] && n < max) {
		char b[3] = {s[0], s[1], 0};
		out[n++] = (unsigned char)strtoul(b, NULL, 16);
		s += 2;
	}
	return n;
}

static void print_reply(const unsigned char *buf, ssize_t n)
{
	char text[PROTO_MAX_MSG] = "";
	struct pview m;
	struct err e;

	if (proto_decode(buf, (size_t)n, &m, &e) < 0) {
		printf("reply undecodable: %s\n", e.msg);
		return;
	}
	pview_str(&m, PT_TEXT, text, sizeof(text));
	text[strcspn(text, "\n")] = '\0';
	printf("reply %02x %s\n", m.type, text);
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 16];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 3};
	size_t zeros = 0;
	int opt, fd;

	while ((opt = getopt(argc, argv, "+u:z:s:x:")) != -1) {
		if (opt == 'u') {
			unsigned id = (unsigned)atoi(optarg);
			if (setgid(id) < 0 || setuid(id) < 0)
				return perror("setuid"), 2;
		} else if (opt == 'z') {
			zeros = (size_t)atoi(optarg);
		} else if (opt == 's') {
			tv.tv_sec = atoi(optarg);
		} else if (opt == 'x') {
			execv(optarg, argv + optind - 1);
			return perror(optarg), 2;
		} else {
			return 2;
		}
	}
	strcpy(sa.sun_path, CONTROL_SOCK);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return perror("connect"), 1;
	printf("connected\n");
	fflush(stdout);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = optind; i < argc; i++) {
		size_t n = unhex(argv[i], buf, sizeof(buf));
		if (send(fd, buf, n, MSG_NOSIGNAL) < 0)
			printf("send: %s\n", strerror(errno));
	}
	if (zeros) {
		memset(buf, 0, zeros < sizeof(buf) ? zeros : sizeof(buf));
		if (send(fd, buf, zeros < sizeof(buf) ? zeros : sizeof(buf), MSG_NOSIGNAL) < 0)
			printf("send: %s\n", strerror(errno));
	}
	for (bool reset = false;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		/* init closing with our request still unread reaches us as a reset,
		 * told before the replies queued ahead of it: read on, once */
		if (n < 0 && errno == ECONNRESET && !reset) {
			reset = true;
			continue;
		}
		/* a second reset: closed all the same (a timeout is the silence) */
		if (n < 0 && errno != ECONNRESET) {
			printf("silent\n");
			break;
		}
		if (n <= 0) {
			printf("eof\n");
			break;
		}
		print_reply(buf, n);
	}
	fflush(stdout);
	return 0;
}

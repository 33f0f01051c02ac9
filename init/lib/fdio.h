/*
 * lib/fdio.h: a whole buffer written, a buffer read full, retrying EINTR and
 * short counts: the loop every program of the tree needs (init's lib/util.c
 * users, containerd-lite, the updater), written once. Header-only so that
 * each program links nothing more; system headers only, as ttyesc.h.
 */
#ifndef WISP_LIB_FDIO_H
#define WISP_LIB_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* write(2) until done or a real error. Returns 0, or -1 with write's errno (left as it
 * was when a write took nothing and said no error: it returned 0). */
static inline int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read(2) until n bytes or the end. Returns how many were read, or -1 (errno). */
static inline ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

#endif

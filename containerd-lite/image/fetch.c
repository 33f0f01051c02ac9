/* image/fetch.c: blobs downloaded in parallel (curl's multi interface,
 * IMG_PULL_PARALLEL at a time), each hashed as it streams and moved into
 * the staging directory only when its size and sha256 are right.
 *
 * Bytes go to STORE/tmp/partial/HEX first, under an flock: an
 * interrupted transfer (a cut connection, a stall, a killed pull) is
 * resumed from there with "Range: bytes=N-", the N bytes hashed again
 * first. Only a 206 whose Content-Range starts at N and has the blob's
 * size is appended; a 200 (the server ignored the range), a 416 or any
 * other Content-Range starts the blob over from byte 0. A second pull
 * wanting a blob another one is downloading gets a private file in its
 * own staging directory (no resume). gc removes tmp/partial only when no
 * pull holds it (a shared lock on the directory).
 *
 * Partials are kept for the image being pulled only: every pull first
 * removes those its image does not name (but the ones another pull holds),
 * so what a failed pull leaves lasts until the next pull of another image,
 * and a registry naming new digests at every retry fills nothing. */
#include "http.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRIES 5   /* attempts per blob that brought nothing, or restarts */
#define MAX_CUTS  100 /* transfers cut after some progress, resumed */

struct xfer {
	const struct img_want *w;
	char part[4096], dst[4096];
	int fd;
	struct sha256 h;
	uint64_t have;	/* bytes in part, all hashed into h */
	uint64_t asked; /* the Range of the current attempt */
	bool resumed;	/* part held bytes of an earlier attempt */
	bool restart;	/* the answer did not continue part: start over */
	bool too_big, body;
	int werr;		/* errno of a failed write to part */
	struct img_meter meter; /* the store's reserve, per MiB written */
	struct cl_err full;	/* the meter's refusal: the blob stops there */
	bool refused;
	int tries, cuts;
	struct img_req req;
	CURL *curl;
	char errbody[1024];
	size_t nerr;
};

/* part emptied: the blob starts over from byte 0 */
static int start_over(struct xfer *x)
{
	x->have = 0;
	x->resumed = false;
	sha256_init(&x->h);
	return ftruncate(x->fd, 0);
}

/* Does a 206 continue what part holds? */
static bool range_ok(struct xfer *x)
{
	uint64_t first, last;
	int64_t total;
	struct cl_err e;

	if (img_content_range_parse(x->req.crange, &first, &last, &total, &e) < 0)
		return false;
	return first == x->asked && last < x->w->size &&
	       (total < 0 || (uint64_t)total == x->w->size);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 && status != 206) { /* an error document, kept for its message */
		size_t k = len < sizeof(x->errbody) - x->nerr ? len : sizeof(x->errbody) - x->nerr;
		memcpy(x->errbody + x->nerr, p, k);
		x->nerr += k;
		return len;
	}
	if (!x->body) {
		x->body = true;
		/* a range other than the one asked for: ask again from 0 */
		if (status == 206 && !range_ok(x))
			return x->restart = true, 0;
		/* the whole blob instead of its rest: take it from byte 0 */
		if (status == 200 && x->asked && start_over(x) < 0)
			return x->werr = errno, 0;
	}
	if (x->have + len > x->w->size)
		return x->too_big = true, 0;
	if (img_meter_add(&x->meter, len, &x->full) < 0)
		return x->refused = true, 0;
	if (pwrite(x->fd, p, len, (off_t)x->have) != (ssize_t)len)
		return x->werr = errno ?: ENOSPC, 0;
	sha256_update(&x->h, p, len);
	x->have += len;
	return len;
}

static int start(struct img_endpoint *ep, CURLM *m, struct xfer *x, struct cl_err *err)
{
	x->asked = x->have;
	x->resumed |= x->asked > 0;
	x->body = x->restart = x->too_big = false;
	x->nerr = 0;
	if (!(x->curl = img_http_get(ep, &x->req, x->asked, err)))
		return -1;
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
	curl_multi_add_handle(m, x->curl);
	return 0;
}

/* x->part open and locked in x->fd: 0, or -1 when another pull holds it
 * (or it cannot be opened). The file locked must still be the one the
 * path names: another pull's sweep may have removed it in between. */
static int lock_part(struct xfer *x)
{
	struct stat a, b;

	for (int i = 0; i < 8; i++) {
		int fd = open(x->part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			return close(fd), x->fd = -1;
		if (fstat(fd, &a) == 0 && stat(x->part, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return x->fd = fd, 0;
		close(fd);
	}
	return x->fd = -1;
}

/* part's bytes hashed again: what an earlier attempt left is resumed. */
static int open_part(const char *partial, const char *dst, struct xfer *x, struct cl_err *err)
{
	const char *hex = x->w->digest + 7;
	static char buf[1 << 16];
	ssize_t n;

	img_fmt(x->dst, sizeof(x->dst), "%s/%s", dst, hex);
	img_fmt(x->part, sizeof(x->part), "%s/%s", partial, hex);
	if (lock_part(x) < 0) {
		/* another pull is fetching it: a private copy */
		img_fmt(x->part, sizeof(x->part), "%s/%s.part", dst, hex);
		x->fd = open(x->part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (x->fd < 0)
		return cl_error(err, errno, "open %s", x->part);
	sha256_init(&x->h);
	while ((n = read(x->fd, buf, sizeof(buf))) > 0 && x->have + (uint64_t)n <= x->w->size) {
		sha256_update(&x->h, buf, (size_t)n);
		x->have += (uint64_t)n;
	}
	if (n != 0 && start_over(x) < 0)
		return cl_error(err, errno, "truncate %s", x->part);
	x->resumed = x->have > 0;
	return 0;
}

/* A complete part: its digest checked, synced, renamed into stage. 0
 * done, 1 start over (a resumed part turned out wrong), -1 error. */
static int finish(struct xfer *x, struct cl_err *err)
{
	struct sha256 h = x->h;
	char hex[65];

	sha256_hex(&h, hex);
	if (strcmp(hex, x->w->digest + 7) != 0) {
		if (x->resumed && x->tries++ < MAX_TRIES && start_over(x) == 0)
			return 1;
		unlink(x->part);
		return cl_error(err, 0, "blob %s: sha256 is %s (GET %s)", x->w->digest, hex,
				x->req.url);
	}
	if (fsync(x->fd) < 0 || fchmod(x->fd, 0444) < 0 || rename(x->part, x->dst) < 0)
		return cl_error(err, errno, "blob %s: %s", x->w->digest, x->dst);
	printf("blob %s: %llu bytes fetched\n", x->w->digest, (unsigned long long)x->have);
	fflush(stdout);
	close(x->fd);
	x->fd = -1;
	return 0;
}

/* One transfer ended: 0 the blob is done, 1 ask again, -1 error. */
static int ended(struct img_endpoint *ep, struct xfer *x, CURLcode rc, struct cl_err *err)
{
	char why[300];
	int r;

	if (x->werr)
		return cl_error(err, x->werr, "blob %s: write %s", x->w->digest, x->part);
	if (x->refused)
		return cl_error(err, 0, "blob %s: %s", x->w->digest, x->full.msg);
	if (x->too_big)
		return cl_error(err, 0, "blob %s: larger than %llu bytes (GET %s)", x->w->digest,
				(unsigned long long)x->w->size, x->req.url);
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->req.status);
	if (x->restart || (rc == CURLE_OK && x->req.status == 416)) {
		if (x->tries++ >= MAX_TRIES || start_over(x) < 0)
			return cl_error(err, 0, "blob %s: GET %s: Range not honoured", x->w->digest,
					x->req.url);
		return 1;
	}
	if (rc != CURLE_OK && x->req.refused[0]) /* by the guard: no retry can change it */
		return cl_error(err, 0, "blob %s: GET %s: %s", x->w->digest, x->req.url,
				img_reach_error(&x->req, rc, why, sizeof(why)));
	/* a transfer cut after some progress is resumed without counting:
	 * every attempt then brings the blob closer to its end */
	if (rc != CURLE_OK && x->have > x->asked && ++x->cuts <= MAX_CUTS)
		return 1;
	if (rc != CURLE_OK)
		return x->tries++ < MAX_TRIES
			   ? 1
			   : cl_error(err, 0, "blob %s: GET %s: %s (after %d attempts)",
				      x->w->digest, x->req.url, curl_easy_strerror(rc), MAX_TRIES);
	if ((r = img_http_next(ep, x->curl, &x->req, x->errbody, x->nerr, err)) != 0)
		return r < 0 ? cl_error_wrap(err, "blob %s", x->w->digest) : 1;
	if (x->have < x->w->size) /* the body ended early without an error */
		return x->tries++ < MAX_TRIES
			   ? 1
			   : cl_error(err, 0, "blob %s: GET %s: %llu of %llu bytes", x->w->digest,
				      x->req.url, (unsigned long long)x->have,
				      (unsigned long long)x->w->size);
	return finish(x, err);
}

/* The multi loop: at most IMG_PULL_PARALLEL transfers at once. */
static int run(struct img_endpoint *ep, CURLM *m, struct xfer *xs, size_t n, struct cl_err *err)
{
	size_t next = 0, active = 0, done = 0;
	int running, r = 0;

	for (size_t i = 0; i < n; i++)
		done += xs[i].fd < 0; /* found complete in partial/ */
	while (r == 0 && done < n) {
		CURLMsg *msg;
		int left;

		for (; r == 0 && next < n && active < IMG_PULL_PARALLEL; next++)
			if (xs[next].fd >= 0 && (r = start(ep, m, &xs[next], err)) == 0)
				active++;
		curl_multi_perform(m, &running);
		while (r == 0 && (msg = curl_multi_info_read(m, &left))) {
			struct xfer *x = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (size_t i = 0; i < n; i++)
				x = xs[i].curl == msg->easy_handle ? &xs[i] : x;
			curl_multi_remove_handle(m, x->curl);
			r = ended(ep, x, msg->data.result, err);
			img_http_done(x->curl);
			x->curl = NULL;
			if (r == 1)
				r = start(ep, m, x, err);
			else if (r == 0)
				active--, done++;
		}
		if (r == 0 && done < n)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	return r;
}

static bool wanted(const char *name, const struct img_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, w[i].digest + 7))
			return true;
	return false;
}

/* The partials of dir this pull does not want, removed unless another pull
 * holds them (locked, as lock_part does). */
static void sweep(const char *dir, const struct img_want *w, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.' || wanted(de->d_name, w, n))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(d), de->d_name, 0);
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
}

/* Refused for the reserve: the partials this pull holds go too, so that
 * nothing of it is left in the store. */
static void drop_parts(struct xfer *xs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (xs[i].fd >= 0)
			unlink(xs[i].part);
}

/* x's rest, declared, against the reserve before a byte of it is asked
 * for; its meter set for what comes. */
static int reserve_rest(struct xfer *x, const struct img_reserve *res, struct cl_err *err)
{
	x->meter = (struct img_meter){.r = res, .fd = x->fd, .what = "downloading"};
	if (img_reserve_declared(res, x->fd, x->w->size - x->have, err) < 0)
		return x->refused = true, cl_error_wrap(err, "blob %s", x->w->digest);
	return 0;
}

/* The blobs still to come, together, before any is asked for: each may
 * fit alone and all of them not (one alone: reserve_rest said). */
static int reserve_all(struct xfer *xs, size_t n, const struct img_reserve *res, struct cl_err *err)
{
	uint64_t total = 0, rest;
	size_t k = 0;
	int fd = -1; /* one of theirs: statvfs of the store's file system */

	for (size_t i = 0; i < n; i++)
		if (xs[i].fd >= 0) {
			rest = xs[i].w->size - xs[i].have;
			total = total > UINT64_MAX - rest ? UINT64_MAX : total + rest;
			fd = xs[i].fd;
			k++;
		}
	if (k < 2 || img_reserve_declared(res, fd, total, err) == 0)
		return 0;
	return cl_error_wrap(err, "%zu blobs together", k);
}

static bool any_refused(const struct xfer *xs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (xs[i].refused)
			return true;
	return false;
}

int img_fetch_blobs(struct img_endpoint *ep, const char *partial, const char *dst,
		    const struct img_want *w, size_t n, const struct img_reserve *res,
		    struct cl_err *err)
{
	struct xfer *xs = calloc(n ? n : 1, sizeof(*xs));
	CURLM *m = curl_multi_init();
	int lock = -1, r = 0;
	bool refused = false; /* by reserve_all: nothing of this pull stays */

	if (!xs || !m)
		r = cl_error(err, ENOMEM, "curl");
	else if ((lock = open(partial, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		 flock(lock, LOCK_SH) < 0)
		r = cl_error(err, errno, "%s", partial);
	else
		sweep(partial, w, n);
	for (size_t i = 0; xs && i < n; i++)
		xs[i].fd = -1;
	for (size_t i = 0; r == 0 && i < n; i++) {
		xs[i].w = &w[i];
		img_ep_url(ep, "blobs", w[i].digest, xs[i].req.url, sizeof(xs[i].req.url));
		r = open_part(partial, dst, &xs[i], err);
		/* complete already (a pull stopped before its rename)? */
		if (r == 0 && xs[i].have == w[i].size && (r = finish(&xs[i], err)) == 1)
			r = 0;
		if (r == 0 && xs[i].fd >= 0)
			r = reserve_rest(&xs[i], res, err);
	}
	if (r == 0 && (r = reserve_all(xs, n, res, err)) < 0)
		refused = true;
	if (r == 0)
		r = run(ep, m, xs, n, err);
	if (xs && (refused || any_refused(xs, n)))
		drop_parts(xs, n);
	for (size_t i = 0; xs && i < n; i++) {
		if (xs[i].curl) {
			curl_multi_remove_handle(m, xs[i].curl);
			img_http_done(xs[i].curl);
		}
		if (xs[i].fd >= 0)
			close(xs[i].fd); /* a partial stays for the next pull */
	}
	if (lock >= 0)
		close(lock);
	curl_multi_cleanup(m);
	free(xs);
	return r;
}

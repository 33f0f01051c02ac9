/* image/urlget.c: `image fetch URL`, one file over HTTP(S) to stdout.
 *
 * The updater reads a bundle named by a URL through it (docs/update.md):
 * TLS is linked into this one program of ROOT, not into each that needs a
 * download. The pull's rules hold: TLS verified with the system's CAs
 * (/etc/ssl/certs/ca-certificates.crt, which user-data's ca_certs extends)
 * or --ca FILE, redirects followed by image/registry.c (never from https to
 * http, nor to a URL with a user or password), no credentials (a URL with
 * them is refused), and an error names the URL and the HTTP status. Only a
 * 2xx response's body reaches stdout: a 404's page must never be read as
 * the file's bytes. Started as root it runs as nobody (image/drop.c). */
#include "http.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A bundle is hundreds of MiB: 1 KiB/s would take days, a real mirror is far
 * faster; 60 s rides out a congested link's pause. */
#define FETCH_LOW_SPEED	  1024L
#define FETCH_LOW_SPEED_S 60L
/* The tests' low-speed time, in seconds: honoured only when it is lower. */
#define FETCH_TEST_ENV "CL_TEST_FETCH_SPEED_TIME"

struct sink {
	CURL *h;
	int fd;
	int werr; /* errno of a failed write, or 0 */
};

static size_t to_fd(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n, done = 0;
	long status = 0;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300)
		return len; /* a redirect's or an error's page: not the file */
	while (done < len) {
		ssize_t w = write(s->fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->werr = errno;
			return 0; /* curl ends the transfer */
		}
		done += (size_t)w;
	}
	return len;
}

/* ep: the URL's origin as an endpoint of its own (no repository, no
 * credentials), so img_http_next follows redirects but answers no 401. A
 * URL's own credentials (user:password@) are refused: curl would send them. */
static int origin(const char *url, const char *ca, struct img_endpoint *ep, struct cl_err *err)
{
	*ep = (struct img_endpoint){0};
	/* before any connection (curl would send them), and before a message that could
	 * cut the URL inside a long password */
	if (img_url_no_userinfo(url, "", err) < 0)
		return -1;
	if (img_url_tls(url) < 0)
		return cl_error(err, 0, "%.300s: not an http:// or https:// URL", url);
	if (img_url_origin(url, ep) < 0)
		return cl_error(err, 0, "%.300s: no host", url);
	img_fmt(ep->ca, sizeof(ep->ca), "%s", ca ? ca : IMG_CA_DEFAULT);
	return 0;
}

static long low_speed_s(void)
{
	const char *s = getenv(FETCH_TEST_ENV);
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < FETCH_LOW_SPEED_S ? v : FETCH_LOW_SPEED_S;
}

/* Why the GET failed: the low-speed limit, else curl's reason. */
static int get_error(const struct img_req *req, CURL *h, CURLcode rc, struct cl_err *err)
{
	curl_off_t conn = 0;

	if (rc == CURLE_OPERATION_TIMEDOUT &&
	    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &conn) == CURLE_OK && conn > 0)
		return cl_error(err, 0, "GET %s: slower than %ld bytes/s for %ld s", req->url,
				FETCH_LOW_SPEED, low_speed_s());
	return cl_error(err, 0, "GET %s: %s", req->url, curl_easy_strerror(rc));
}

static int fetch(const char *url, const char *ca, int fd, struct cl_err *err)
{
	struct img_endpoint ep;
	struct img_req req = {0};
	struct sink s = {.fd = fd};
	int r = 1;

	if (!url && !(url = getenv(IMG_FETCH_URL_ENV)))
		return cl_error(err, 0, "fetch: no URL (an operand, or %s)", IMG_FETCH_URL_ENV);
	if (origin(url, ca, &ep, err) < 0 || img_drop_root(ep.ca, "fetch", err) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a reader that stops is EPIPE, said below */
	img_fmt(req.url, sizeof(req.url), "%s", url);
	while (r == 1) {
		CURLcode rc;
		if (!(s.h = img_http_get(&ep, &req, 0, err)))
			return -1;
		curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, to_fd);
		curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_LIMIT, FETCH_LOW_SPEED);
		curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_TIME, low_speed_s());
		rc = curl_easy_perform(s.h);
		if (rc == CURLE_WRITE_ERROR && s.werr)
			r = cl_error(err, s.werr, "GET %s: write", req.url);
		else if (rc != CURLE_OK)
			r = get_error(&req, s.h, rc, err);
		else
			r = img_http_next(&ep, s.h, &req, NULL, 0, err);
		img_http_done(s.h);
	}
	return r;
}

int img_fetch_url(const char *url, const char *ca, int fd, struct cl_err *err)
{
	int r = fetch(url, ca, fd, err);

	if (r < 0)
		img_strip_url_secrets(err->msg);
	return r;
}

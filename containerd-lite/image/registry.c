/* image/registry.c: requests to a registry (the OCI distribution spec,
 * /v2/NAME/manifests/REF and /v2/NAME/blobs/DIGEST) through libcurl.
 *
 * Redirects are followed here, not by curl: a blob is often served by
 * another host (object storage), which must never see the registry's
 * Authorization. curl drops its own auth on a host change, but not a
 * header set by hand, and a token is one; so curl follows nothing and
 * img_http_get adds Authorization only for the endpoint's own origin. A
 * redirect from https to http is refused, and one to a URL with a user or
 * password (curl would send them: no credentials but the registry's own).
 * A 401 gets one answer: a token from the Bearer challenge's realm (with
 * the basic credentials, if any), or the basic credentials themselves;
 * the realm's own 401 none (one token request per request, at most).
 *
 * A manifest's, an index's or a token's GET has a deadline (SMALL_GET_S),
 * its redirects and the token it needed included: a registry trickling
 * a byte a second passes the low-speed limit blobs have, and held the
 * pull for as long as it liked. */
#include "http.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define UA "containerd-lite/" WISP_VERSION

/* Manifests and indexes are at most IMG_MAX_JSON (4 MiB), a token 1 MiB,
 * and a few KiB as a rule; nothing else goes on while one is awaited.
 * 60 s lets the 4 MiB cap through at 70 kB/s, far below a cloud host's
 * link; a registry that has not answered a few KiB by then never will.
 * Under 1 KiB/s for 20 s fails sooner: a registry thinking that long over
 * a document, or sending it that slowly, is stalled or trickling. Blobs,
 * whose size has no such bound, keep only img_http_get's stall limit. */
#define SMALL_GET_S	  60
#define SMALL_LOW_SPEED	  1024L
#define SMALL_LOW_SPEED_S 20L
/* The tests' deadline, in seconds (pull.py's trickling registry): honoured
 * only when it is lower, so that it cannot lengthen a registry's hold. */
#define SMALL_GET_TEST_ENV "CL_TEST_REGISTRY_DEADLINE"

void img_ep_url(const struct img_endpoint *ep, const char *kind, const char *name, char *out,
		size_t n)
{
	img_fmt(out, n, "%s://%s/v2/%s/%s/%s", ep->insecure ? "http" : "https", ep->host,
		ep->ref->repo, kind, name);
}

void img_endpoint_free(struct img_endpoint *ep)
{
	free(ep->basic);
	free(ep->bearer);
	ep->basic = ep->bearer = NULL;
}

/* Headers of every response: the status line resets what was kept. */
static size_t on_header(char *b, size_t size, size_t n, void *ud)
{
	struct img_req *req = ud;
	size_t len = size * n, k;
	const struct {
		const char *name;
		char *dst;
		size_t dn;
	} keep[] = {
	    {"content-type:", req->ctype, sizeof(req->ctype)},
	    {"content-range:", req->crange, sizeof(req->crange)},
	    {"www-authenticate:", req->www_auth, sizeof(req->www_auth)},
	};

	if (len > 5 && !strncmp(b, "HTTP/", 5))
		req->ctype[0] = req->crange[0] = req->www_auth[0] = 0;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		size_t kl = strlen(keep[i].name);
		if (len <= kl || strncasecmp(b, keep[i].name, kl))
			continue;
		/* a Basic challenge does not replace a Bearer one */
		if (keep[i].dst == req->www_auth && !strncasecmp(req->www_auth, "Bearer", 6))
			break;
		for (k = kl; k < len && (b[k] == ' ' || b[k] == '\t'); k++)
			;
		img_fmt(keep[i].dst, keep[i].dn, "%.*s", (int)strcspn(b + k, "\r\n"), b + k);
	}
	return len;
}

static bool ep_origin(const struct img_endpoint *ep, const char *url)
{
	char base[300];

	img_fmt(base, sizeof(base), "%s://%s/", ep->insecure ? "http" : "https", ep->host);
	return img_same_origin(base, url);
}

CURL *img_http_get(struct img_endpoint *ep, struct img_req *req, uint64_t range, struct cl_err *err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char line[4200], *auth;

	if (!h)
		return cl_error(err, ENOMEM, "curl"), NULL;
	if (req->accept) {
		img_fmt(line, sizeof(line), "Accept: %s", req->accept);
		hd = curl_slist_append(hd, line);
	}
	/* tokens run to kilobytes (JWTs): the line is made to their size */
	if (ep_origin(ep, req->url) && (ep->bearer || ep->basic) &&
	    asprintf(&auth, "Authorization: %s %s", ep->bearer ? "Bearer" : "Basic",
		     ep->bearer ?: ep->basic) >= 0) {
		hd = curl_slist_append(hd, auth);
		free(auth);
	}
	if (range) {
		img_fmt(line, sizeof(line), "Range: bytes=%llu-", (unsigned long long)range);
		hd = curl_slist_append(hd, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_PRIVATE, hd); /* freed by img_http_done */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CAINFO, ep->ca[0] ? ep->ca : IMG_CA_DEFAULT);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	img_tls_hook(h);
	curl_easy_setopt(h, CURLOPT_USERAGENT, UA);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (no byte in 60 s) fails and is resumed */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, req);
	img_reach_guard(h, ep, req, ep->guest || !ep_origin(ep, req->url));
	req->status = 0;
	return h;
}

void img_http_done(CURL *h)
{
	struct curl_slist *hd = NULL;

	if (!h)
		return;
	curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&hd);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
}

/* --- responses ---------------------------------------------------------- */

/* "GET URL: HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)" */
static int status_error(const struct img_req *req, const char *body, size_t len, struct cl_err *err)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));

	if (code)
		cl_error(err, 0, "GET %s: HTTP %ld (%.60s: %.200s)", req->url, req->status, code,
			 msg ?: "");
	else
		cl_error(err, 0, "GET %s: HTTP %ld", req->url, req->status);
	json_decref(j);
	return -1;
}

static size_t to_buf(char *p, size_t size, size_t n, void *ud)
{
	struct {
		char *b;
		size_t len, cap;
	} *m = ud;
	size_t len = size * n;

	if (m->len + len > m->cap)
		return 0; /* too large: curl fails the transfer */
	memcpy(m->b + m->len, p, len);
	m->len += len;
	return len;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int small_get_s(void)
{
	const char *s = getenv(SMALL_GET_TEST_ENV);
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < SMALL_GET_S ? (int)v : SMALL_GET_S;
}

/* h limited to what is left of req's deadline (set at its first request):
 * 0, or -1 when nothing is left. */
static int bound(CURL *h, struct img_req *req, struct cl_err *err)
{
	long long left;

	if (!req->deadline)
		req->deadline = now_ms() + 1000LL * small_get_s();
	if ((left = req->deadline - now_ms()) <= 0)
		return cl_error(err, 0, "GET %s: not answered in full within %d s", req->url,
				small_get_s());
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, SMALL_LOW_SPEED);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, SMALL_LOW_SPEED_S);
	return 0;
}

/* Why a bounded GET failed: the deadline, the low-speed limit (once
 * connected), else the guard's refusal or curl's reason. curl's clock
 * starts after ours and rounds: its deadline may come a few ms early. */
static const char *failure(const struct img_req *req, CURL *h, CURLcode rc, char *out, size_t n)
{
	curl_off_t conn = 0;

	if (rc != CURLE_OPERATION_TIMEDOUT)
		return img_reach_error(req, rc, out, n);
	if (now_ms() >= req->deadline - 100)
		img_fmt(out, n, "not answered in full within %d s", small_get_s());
	else if (curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &conn) == CURLE_OK && conn > 0)
		img_fmt(out, n, "slower than %ld bytes/s for %ld s", SMALL_LOW_SPEED,
			SMALL_LOW_SPEED_S);
	else
		return curl_easy_strerror(rc);
	return out;
}

/* GET url whole into a buffer of at most cap bytes (*body malloc'd),
 * within req's deadline. */
static int get_small(struct img_endpoint *ep, struct img_req *req, size_t cap, char **body,
		     size_t *len, struct cl_err *err)
{
	struct {
		char *b;
		size_t len, cap;
	} m = {malloc(cap + 1), 0, cap};
	char why[300];
	int r = 1;

	if (!m.b)
		return cl_error(err, ENOMEM, "GET %s", req->url);
	while (r == 1) {
		CURL *h = img_http_get(ep, req, 0, err);
		CURLcode rc;
		if (!h || bound(h, req, err) < 0) {
			img_http_done(h);
			r = -1;
			break;
		}
		m.len = 0;
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
		rc = curl_easy_perform(h);
		if (rc == CURLE_WRITE_ERROR)
			r = cl_error(err, 0, "GET %s: larger than %zu bytes", req->url, cap);
		else if (rc != CURLE_OK)
			r = cl_error(err, 0, "GET %s: %s", req->url,
				     failure(req, h, rc, why, sizeof(why)));
		else
			r = img_http_next(ep, h, req, m.b, m.len, err);
		img_http_done(h);
	}
	if (r < 0)
		return free(m.b), -1;
	m.b[m.len] = 0;
	*body = m.b;
	*len = m.len;
	return 0;
}

/* The token service of a challenge, as an endpoint of its own: its
 * origin gets our basic credentials (as docker sends them), no token. */
int img_url_origin(const char *url, struct img_endpoint *ep)
{
	int tls = img_url_tls(url);
	const char *host = url + (tls ? 8 : 7);

	if (tls < 0)
		return -1;
	ep->insecure = !tls;
	img_fmt(ep->host, sizeof(ep->host), "%.*s", (int)strcspn(host, "/?#"), host);
	return ep->host[0] ? 0 : -1;
}

/* The token service's endpoint: ep's CA and credentials, the realm's origin
 * (image/auth.c took only http:// and https:// realms). No repository: its
 * 401 stands (img_http_next), else a realm challenging its own token
 * requests would be asked for a token again, without end (each request
 * its own count of answers, each token request a new request). */
static int realm_endpoint(const struct img_endpoint *ep, const char *url,
			  struct img_endpoint *realm, struct cl_err *err)
{
	*realm = *ep;
	realm->bearer = NULL;
	realm->ref = NULL;
	realm->guest = !ep_origin(ep, url); /* its connections checked as a redirect's */
	if (img_url_origin(url, realm) < 0)
		return cl_error(err, 0, "token realm %.300s: no host", url);
	if (realm->insecure && ep->basic && !ep->insecure)
		return cl_error(err, 0, "token realm %.300s: credentials are not sent over http",
				url);
	return 0;
}

/* A token for ep, within the deadline of the request that needed it. */
static int fetch_token(struct img_endpoint *ep, const struct img_challenge *c, long long deadline,
		       struct cl_err *err)
{
	struct img_endpoint realm;
	struct img_req treq = {.deadline = deadline};
	char scope[400], *body;
	size_t len;
	int r;

	img_fmt(scope, sizeof(scope), "repository:%s:pull", ep->ref->repo);
	if (img_token_url(c, scope, treq.url, sizeof(treq.url), err) < 0 ||
	    realm_endpoint(ep, treq.url, &realm, err) < 0)
		return -1;
	r = get_small(&realm, &treq, 1 << 20, &body, &len, err);
	free(realm.bearer);
	if (r < 0)
		return cl_error_wrap(err, "token");
	free(ep->bearer);
	ep->bearer = img_token_parse(body, len, err);
	free(body);
	return ep->bearer ? 1 : cl_error_wrap(err, "token %s", treq.url);
}

/* A 401, answered once per request: 1 ask again, 0 it stands, -1 error.
 * Basic credentials went with the first request already (when there was
 * no token); a stale token gives way to them. */
static int authorize(struct img_endpoint *ep, struct img_req *req, struct cl_err *err)
{
	struct img_challenge c;

	if (req->auths++ || !req->www_auth[0])
		return 0;
	if (img_challenge_parse(req->www_auth, &c, err) < 0)
		return cl_error_wrap(err, "GET %s: HTTP 401", req->url);
	if (!strcasecmp(c.scheme, "Bearer"))
		return fetch_token(ep, &c, req->deadline, err);
	if (!strcasecmp(c.scheme, "Basic") && ep->basic && ep->bearer) {
		free(ep->bearer);
		ep->bearer = NULL;
		return 1;
	}
	return 0;
}

static int redirect(CURL *h, struct img_req *req, struct cl_err *err)
{
	char *to = NULL, prefix[400];

	curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to);
	if (!to)
		return cl_error(err, 0, "GET %s: HTTP %ld without a Location", req->url,
				req->status);
	if (++req->hops > IMG_MAX_REDIRECTS)
		return cl_error(err, 0, "GET %s: more than %d redirects", req->url,
				IMG_MAX_REDIRECTS);
	/* its credentials would go with it (curl sends a URL's user and password); first,
	 * so that no message below cuts to inside a long one */
	img_fmt(prefix, sizeof(prefix), "GET %.300s: redirect to ", req->url);
	if (img_url_no_userinfo(to, prefix, err) < 0)
		return -1;
	if (img_url_tls(req->url) == 1 && img_url_tls(to) != 1)
		return cl_error(err, 0, "GET %s: redirect to %.300s: not https", req->url, to);
	img_fmt(req->url, sizeof(req->url), "%s", to);
	return 1;
}

int img_http_next(struct img_endpoint *ep, CURL *h, struct img_req *req, const char *body,
		  size_t len, struct cl_err *err)
{
	int r;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &req->status);
	if (req->status >= 200 && req->status < 300)
		return 0;
	if (req->status == 301 || req->status == 302 || req->status == 303 || req->status == 307 ||
	    req->status == 308)
		return redirect(h, req, err);
	/* only the registry's own 401 is answered with its credentials (a
	 * plain fetch has no repository to ask a token for: it stands) */
	if (req->status == 401 && ep->ref && ep_origin(ep, req->url) &&
	    (r = authorize(ep, req, err)) != 0)
		return r;
	return status_error(req, body, len, err);
}

int img_reg_manifest(struct img_endpoint *ep, const char *name, char **body, size_t *len,
		     char ctype[128], struct cl_err *err)
{
	struct img_req req = {.accept =
				  "application/vnd.oci.image.manifest.v1+json, "
				  "application/vnd.oci.image.index.v1+json, "
				  "application/vnd.docker.distribution.manifest.v2+json, "
				  "application/vnd.docker.distribution.manifest.list.v2+json"};

	img_ep_url(ep, "manifests", name, req.url, sizeof(req.url));
	if (get_small(ep, &req, IMG_MAX_JSON, body, len, err) < 0)
		return -1;
	img_fmt(ctype, 128, "%.*s", (int)strcspn(req.ctype, "; "), req.ctype);
	return 0;
}

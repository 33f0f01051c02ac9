/* image/http.h: the libcurl side of pulls, shared by image/registry.c
 * (requests, redirects, authentication, manifests) and image/fetch.c
 * (blobs, in parallel). Only these two files include curl. */
#ifndef CL_IMAGE_HTTP_H
#define CL_IMAGE_HTTP_H

#include "pull.h"
#include <curl/curl.h>

#define IMG_MAX_REDIRECTS 5

/* One request's state, across its redirects and its one authentication. */
struct img_req {
	char url[4096];
	const char *accept; /* Accept header, or NULL */
	int hops, auths;
	/* from the last response's headers (the header callback) */
	long status;
	char www_auth[2048]; /* a Bearer challenge preferred over Basic */
	char ctype[128];
	char crange[128];
	/* reach.c: the endpoint whose connections' classes decide, whether this
	 * request is for another origin, and the address a guard refused */
	struct img_endpoint *guard;
	bool foreign;
	char refused[64];
	/* a manifest's or token's GET (registry.c): when it must have ended,
	 * redirects and its token included (CLOCK_MONOTONIC ms; 0 not started) */
	long long deadline;
};

/* A GET of req->url for ep: TLS verified with ep's CA (plain HTTP only
 * for an insecure endpoint), no redirect followed by curl, and the
 * Authorization header only when the URL is ep's own origin. range:
 * the first byte wanted (0: all). The headers are freed with the handle
 * by img_http_done. */
CURL *img_http_get(struct img_endpoint *ep, struct img_req *req, uint64_t range,
		   struct cl_err *err);
void img_http_done(CURL *h);
/* An http:// or https:// URL as the endpoint of its origin: host[:port] up to
 * the path, insecure for http://; 0, or -1 for another scheme or no host. */
int img_url_origin(const char *url, struct img_endpoint *ep);
/* image/reach.c: the host's own address classes a connection may not be led
 * into by a registry (a realm on another host, a redirect): */
#define IMG_REACH_LOOP 1u /* loopback, unspecified */
#define IMG_REACH_LINK 2u /* link-local, the clouds' metadata and wire-server addresses */
unsigned img_reach_class(const struct sockaddr *sa);
/* h's sockets opened through the guard: for ep's own origin (foreign false) their
 * classes are recorded in ep->reach; for another, a class outside it is refused
 * (req->refused names the address). */
void img_reach_guard(CURL *h, struct img_endpoint *ep, struct img_req *req, bool foreign);
/* A failed transfer's reason: the guard's refusal (in out) or curl's. */
const char *img_reach_error(const struct img_req *req, CURLcode rc, char *out, size_t n);
/* image/tls.c: under wolfSSL, through curl's SSL_CTX hook, the cipher suites
 * ordered for the CPU (AES-GCM first with AES-NI, ChaCha20 first without). */
void img_tls_hook(CURL *h);
/* After a response without a transport error: 0 a 2xx, 1 ask again
 * (a redirect, req->url now its target; or a 401 now authorized), -1 an
 * error naming the URL and the HTTP status (body: the registry's error
 * document, for its message). */
int img_http_next(struct img_endpoint *ep, CURL *h, struct img_req *req, const char *body,
		  size_t len, struct cl_err *err);

#endif

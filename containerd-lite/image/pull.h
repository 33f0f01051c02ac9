/* image/pull.h: `image pull` and `image fetch` (issue 15), the OCI
 * distribution spec's client side: references, the registry's headers,
 * credentials and tokens, per-registry settings, the endpoint, blobs in
 * parallel. The libcurl side is http.h's. Private to containerd-lite;
 * errors are struct cl_err. */
#ifndef CL_IMAGE_PULL_H
#define CL_IMAGE_PULL_H

#include "image.h"

/* image/ref.c: a reference normalised as docker does. */
#define IMG_REF_MAX 768
struct img_ref {
	char host[256];		/* as named: docker.io, ghcr.io, host:5000 */
	char api_host[256];	/* where its API answers: registry-1.docker.io for docker.io */
	char repo[256];		/* library/nginx */
	char tag[132];		/* "" when only a digest is given */
	char digest[72];	/* "" or sha256:HEX */
	char full[IMG_REF_MAX]; /* docker.io/library/nginx:latest: what is recorded */
};
int img_ref_parse(const char *in, struct img_ref *r, struct cl_err *err);

/* image/httphdr.c: the HTTP headers a registry client reads. */
struct img_challenge {
	char scheme[16]; /* Bearer, Basic */
	char realm[1024], service[256], scope[512];
};
/* WWW-Authenticate: SCHEME key=value|"quoted", ... */
int img_challenge_parse(const char *value, struct img_challenge *c, struct cl_err *err);
/* Content-Range: bytes FIRST-LAST/TOTAL (TOTAL -1 for '*'). */
int img_content_range_parse(const char *value, uint64_t *first, uint64_t *last, int64_t *total,
			    struct cl_err *err);
/* Same scheme, host and port (default ports made explicit). */
bool img_same_origin(const char *url_a, const char *url_b);
/* The host of url when it is an IP address literal (a.b.c.d, or [v6]): its 4 or
 * 16 bytes in out, their count returned; 0 for a host name. */
size_t img_url_ip(const char *url, unsigned char out[16]);
/* s percent-encoded for a query string (RFC 3986 unreserved kept). */
int img_url_escape(const char *s, char *out, size_t n);
/* 1 for an https:// URL, 0 for an http:// one, -1 for another: the scheme in any case
 * (RFC 3986 3.1). */
int img_url_tls(const char *url);
/* 0, or -1 when url has a userinfo ("user:password@"), with "PREFIXURL: credentials in
 * a URL are not supported" (the URL without it): nothing sends a URL's credentials (curl
 * would, as Basic), and a message shows none. */
int img_url_no_userinfo(const char *url, const char *prefix, struct cl_err *err);
/* Every URL of msg without its userinfo ("user:password@", dropped as git's
 * transport_anonymize_url does) and its query and fragment, from a '?' or '#'
 * to the end of the word (a trailing ':' of the message's kept): a password,
 * or a presigned URL's query, is a credential, not for a log or a terminal. */
void img_strip_url_secrets(char *msg);

/* image/auth.c: credentials and tokens. */
/* The "auth" (base64 user:pass) of host in a docker config.json's auths
 * (keys "host", "https://host/...", docker.io's index.docker.io forms);
 * *basic NULL when the file names none. path names it in errors. */
int img_creds_parse(const char *text, size_t len, const char *path, const char *host, char **basic,
		    struct cl_err *err);
/* The file at path, refused unless only its owner (root or us) can read it;
 * a missing file is no credentials when !required. */
int img_creds_load(const char *path, bool required, const char *host, char **basic,
		   struct cl_err *err);
/* realm?service=S&scope=SCOPE (the challenge's scope, else dflt_scope). */
int img_token_url(const struct img_challenge *c, const char *dflt_scope, char *out, size_t n,
		  struct cl_err *err);
/* The bearer token of a token service's answer: "token" or "access_token". */
char *img_token_parse(const char *body, size_t len, struct cl_err *err);

/* image/mtype.c: a manifest document's media type, into mt: its own
 * mediaType, else the response's Content-Type (ctype: "" for none); refused
 * when the two disagree or its members are the other kind's. */
#define IMG_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define IMG_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define IMG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMG_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
int img_doc_type(const char *ctype, struct json_t *doc, char mt[128], struct cl_err *err);

/* image/regcfg.c: per-registry settings (docs/images.md, "Pull"). */
#define IMG_REGISTRIES	"/etc/wisp/registries.json"
#define IMG_CREDS	"/etc/wisp/registry-auth.json"
#define IMG_CA_DEFAULT	"/etc/ssl/certs/ca-certificates.crt"
#define IMG_MAX_MIRRORS 8
struct img_regcfg {
	bool insecure; /* plain HTTP: only for a registry named so */
	char ca[1024]; /* CA bundle; IMG_CA_DEFAULT unless set */
	char mirrors[IMG_MAX_MIRRORS][256];
	size_t nmirrors;
};
int img_regcfg_parse(const char *text, size_t len, const char *path, const char *host,
		     struct img_regcfg *c, struct cl_err *err);
int img_regcfg_load(const char *path, bool required, const char *host, struct img_regcfg *c,
		    struct cl_err *err);

/* image/registry.c (libcurl): one registry endpoint (a mirror or the origin). */
struct img_endpoint {
	char host[256]; /* API host[:port] */
	bool insecure;	/* http:// */
	char ca[1024];
	char *basic;  /* base64 user:pass, or NULL */
	char *bearer; /* the token of the last challenge, or NULL */
	const struct img_ref *ref;
	/* image/reach.c: the host's own address classes the registry's own
	 * connections went to; guest: a token service on another origin */
	unsigned reach;
	bool guest;
};
/* scheme://host/v2/REPO/KIND/NAME */
void img_ep_url(const struct img_endpoint *ep, const char *kind, const char *name, char *out,
		size_t n);
/* GET a manifest (or index) by tag or digest, at most IMG_MAX_JSON bytes:
 * *body malloc'd, its Content-Type in ctype. Errors name the URL and the
 * HTTP status. */
int img_reg_manifest(struct img_endpoint *ep, const char *name, char **body, size_t *len,
		     char ctype[128], struct cl_err *err);
void img_endpoint_free(struct img_endpoint *ep);
/* image/fetch.c (libcurl multi): blobs into dst/HEX, each verified while
 * it streams, IMG_PULL_PARALLEL at a time; a partial download waits in
 * partial/HEX (STORE/tmp/partial) and is resumed (Range). */
#define IMG_PULL_PARALLEL 4
struct img_want {
	char digest[72];
	uint64_t size;
};
int img_fetch_blobs(struct img_endpoint *ep, const char *partial, const char *dst,
		    const struct img_want *w, size_t n, const struct img_reserve *res,
		    struct cl_err *err);
/* image/drop.c: started as root, the process becomes IMG_NET_ID before its
 * first connection (no groups, no_new_privs, not dumpable), its CA bundle
 * (ca, "" for IMG_CA_DEFAULT) first copied into a memfd that ca then names.
 * who names the command in errors. Not root: nothing to drop, 0. */
#define IMG_NET_ID 65534 /* nobody, as the updater's fetch */
int img_drop_root(char ca[1024], const char *who, struct cl_err *err);
/* image/pullnet.c: the pull's network side, a child of no privilege that
 * fetches for ep into STAGE/net (dir, kept open for image/staged.c) and
 * STORE/tmp/partial. */
struct img_net {
	pid_t pid;
	int sock, dir;
	int out;	/* the child's stdout and stderr, relayed */
	char line[256]; /* a line of it not ended yet */
	size_t nline;
};
int img_net_start(struct img_endpoint *ep, const char *stage, const char *store,
		  const struct img_reserve *res, struct img_net *n, struct cl_err *err);
/* As img_reg_manifest, asked of the child: errors name no URL's query. */
int img_net_manifest(struct img_net *n, const char *name, char **body, size_t *len, char ctype[128],
		     struct cl_err *err);
/* As img_fetch_blobs, asked of the child, into STAGE/net. */
int img_net_blobs(struct img_net *n, const struct img_want *w, size_t nw, struct cl_err *err);
/* The child's exit awaited (killed first if kill_it): 0 for a clean exit. */
int img_net_end(struct img_net *n, bool kill_it);
/* image/staged.c: the child's blobs in dir, once it has exited, checked
 * (a regular file, one link, size, sha256) and linked into stage/blobs. */
int img_staged_take(int dir, const char *stage, const struct img_want *w, size_t n,
		    struct cl_err *err);
/* image/pull.c: `image pull REF`: prints progress and "REF DIGEST". */
int img_pull(const struct img_opts *o, const char *ref, struct cl_err *err);
/* image/urlget.c: `image fetch URL`: the body of a 2xx answer to fd, TLS
 * verified with ca (NULL: IMG_CA_DEFAULT), redirects followed (never https
 * to http), under 1 KiB/s for 60 s an error. url NULL: the environment's
 * IMG_FETCH_URL_ENV (out of the world-readable argv). An error names no
 * URL's query. */
#define IMG_FETCH_URL_ENV "CL_FETCH_URL"
int img_fetch_url(const char *url, const char *ca, int fd, struct cl_err *err);
/* bundle --pull POLICY (o->pull): REF in the store before it is used. */
int img_pull_policy(const struct img_opts *o, const char *ref, struct cl_err *err);

#endif

/* image/pull.c: `image pull REF`: a registry's image into the store.
 *
 * The manifest is fetched by tag or digest (OCI and Docker v2 media
 * types) and its sha256 computed: with a digest in the reference it must
 * be that one (Docker-Content-Digest is not trusted). An index is
 * resolved to its linux/amd64 manifest by the rule import uses. Every
 * blob lands in the pull's staging directory verified (image/fetch.c,
 * and again by root: image/staged.c), or, when the store has it already,
 * is linked from there and fetched not at all. The network side (the
 * registry's TLS, headers, tokens and bytes) is a child of no privilege
 * (image/pullnet.c): this file, as root, asks it for documents and blobs
 * and decides everything else. Then the staging directory holds a
 * one-image OCI layout's blobs, and the import's own code
 * (img_import_from: plan, layers, record, renames under the store lock)
 * finishes: a pull interrupted anywhere leaves partial blobs in
 * STORE/tmp/partial (resumed by the next pull of the image, removed by
 * the next that does not want them: image/fetch.c) and nothing else; the
 * name is recorded last. A manifest or config is refused unfetched when
 * its descriptor says it is over IMG_MAX_JSON.
 *
 * Mirrors (image/regcfg.c) are asked for the manifest first, in order,
 * then the registry; the first that has it serves the blobs too. */
#include "../runtime/cl-private.h"
#include "pull.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pulled {
	char mt[128], digest[72]; /* the image manifest's, for the layout's index */
	uint64_t size;
	struct img_want *want; /* blobs to fetch */
	size_t nwant;
};

static bool is_index(const char *mt)
{
	return !strcmp(mt, IMG_MT_OCI_INDEX) || !strcmp(mt, IMG_MT_DOCKER_LIST);
}

static int write_blob(const char *stage, const char *hex, const char *b, size_t len,
		      struct cl_err *err)
{
	char path[4096];
	int fd, r = 0;

	img_fmt(path, sizeof(path), "%s/blobs/%s", stage, hex);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0)
		return errno == EEXIST ? 0 : cl_error(err, errno, "create %s", path);
	if (write_all(fd, b, len) < 0 || fsync(fd) < 0)
		r = cl_error(err, errno, "write %s", path);
	close(fd);
	return r;
}

/* A manifest or index by tag or digest, its digest computed (and equal
 * to want's, if given), its media type its own (image/mtype.c). */
static json_t *get_manifest(struct img_net *net, const char *name, const char *want,
			    const char *stage, struct pulled *p, struct cl_err *err)
{
	char *body, hex[65], ctype[128];
	struct sha256 h;
	size_t len;
	json_t *j = NULL;
	int r = -1;

	if (img_net_manifest(net, name, &body, &len, ctype, err) < 0)
		return NULL;
	sha256_init(&h);
	sha256_update(&h, body, len);
	sha256_hex(&h, hex);
	img_fmt(p->digest, sizeof(p->digest), "sha256:%s", hex);
	p->size = len;
	if (want && strcmp(want, p->digest) != 0)
		cl_error(err, 0, "manifest %s: sha256 is %s", want, hex);
	else if (!(j = json_loadb(body, len, 0, NULL)) || !json_is_object(j))
		cl_error(err, 0, "manifest %s: not a JSON object", p->digest);
	else if (img_doc_type(ctype, j, p->mt, err) < 0)
		cl_error_wrap(err, "manifest %s", p->digest);
	/* an index is not stored: the record names the image's manifest */
	else if (is_index(p->mt) || write_blob(stage, hex, body, len, err) == 0)
		r = 0;
	free(body);
	if (r < 0)
		json_decref(j), j = NULL;
	return j;
}

/* The manifest an index names for linux/amd64, its size and digest
 * checked against the index's descriptor. */
static json_t *follow(struct img_net *net, const char *stage, json_t *index, struct pulled *cur,
		      struct cl_err *err)
{
	json_t *d = img_index_choose(index, NULL, err), *next;
	const char *dg = json_string_value(json_object_get(d, "digest"));
	json_int_t size = json_integer_value(json_object_get(d, "size"));

	if (!d)
		return cl_error_wrap(err, "index %s", cur->digest), NULL;
	if (!img_digest_valid(dg ?: ""))
		return cl_error(err, 0, "index %s: descriptor digest %.80s", cur->digest, dg ?: ""),
		       NULL;
	if (size > IMG_MAX_JSON) /* unasked: it would fail only after 4 MiB of it */
		return cl_error(err, 0, "manifest %s: %lld bytes is too large (at most %d)", dg,
				(long long)size, IMG_MAX_JSON),
		       NULL;
	printf("index %s: linux/amd64 is %s\n", cur->digest, dg);
	if (!(next = get_manifest(net, dg, dg, stage, cur, err)) || (uint64_t)size == cur->size)
		return next;
	json_decref(next);
	return cl_error(err, 0, "manifest %s: size %llu, the index says %lld", dg,
			(unsigned long long)cur->size, (long long)size),
	       NULL;
}

/* The image manifest, through indexes (4 levels, as import follows);
 * cur says which it is. */
static json_t *resolve(struct img_net *net, const struct img_ref *r, const char *stage,
		       struct pulled *cur, struct cl_err *err)
{
	json_t *j = get_manifest(net, r->digest[0] ? r->digest : r->tag,
				 r->digest[0] ? r->digest : NULL, stage, cur, err),
	       *next;

	for (int depth = 0; j && is_index(cur->mt); depth++, j = next) {
		next = depth < 4
			   ? follow(net, stage, j, cur, err)
			   : (cl_error(err, 0, "index %s: nested too deep", cur->digest), NULL);
		json_decref(j);
	}
	if (j && strcmp(cur->mt, IMG_MT_OCI_MANIFEST) && strcmp(cur->mt, IMG_MT_DOCKER_MANIFEST)) {
		cl_error(err, 0, "manifest %s: media type %.100s: not supported", cur->digest,
			 cur->mt);
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* A stored blob linked into stage. Read again (hashed) unless its layer
 * is unpacked already and so nothing will read it. 0 linked, 1 fetch it. */
static int reuse(const struct img_opts *o, const char *stage, const char *digest, bool layer,
		 struct cl_err *err)
{
	char from[4096], to[4096], rel[80], hex[65];
	uint64_t size;
	struct stat st;

	img_fmt(from, sizeof(from), "%s/blobs/%s", o->store, digest + 7);
	img_fmt(to, sizeof(to), "%s/blobs/%s", stage, digest + 7);
	if (stat(to, &st) == 0)
		return 0; /* staged by an earlier endpoint's attempt, verified */
	if (stat(from, &st) < 0 || link(from, to) < 0)
		return 1;
	img_fmt(from, sizeof(from), "%s/layers/%s", o->store, digest + 7);
	if (layer && stat(from, &st) == 0)
		return 0;
	img_fmt(rel, sizeof(rel), "blobs/%s", digest + 7);
	if (img_copy_hash(stage, rel, NULL, UINT64_MAX, hex, &size, NULL, err) == 0 &&
	    !strcmp(hex, digest + 7))
		return 0;
	unlink(to); /* changed in the store: fetched again */
	return 1;
}

static int want(const struct img_opts *o, const char *stage, json_t *desc, bool layer,
		struct pulled *p, struct cl_err *err)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	json_t *size = json_object_get(desc, "size");
	struct img_want *w;

	if (!d || !img_digest_valid(d) || !json_is_integer(size) || json_integer_value(size) < 0)
		return cl_error(err, 0, "manifest %s: a descriptor without a sha256 digest or size",
				p->digest);
	/* refused before it is fetched: its partial would wait in the store */
	if (!layer && json_integer_value(size) > IMG_MAX_JSON)
		return cl_error(err, 0, "config %s: %lld bytes is too large (at most %d)", d,
				(long long)json_integer_value(size), IMG_MAX_JSON);
	if (reuse(o, stage, d, layer, err) == 0) {
		printf("blob %s: in the store\n", d);
		return 0;
	}
	if (!(w = realloc(p->want, (p->nwant + 1) * sizeof(*w))))
		return cl_error(err, ENOMEM, "pull");
	p->want = w;
	img_fmt(w[p->nwant].digest, sizeof(w->digest), "%s", d);
	w[p->nwant++].size = (uint64_t)json_integer_value(size);
	return 0;
}

/* stage/src: an OCI layout whose index names the image's manifest, its
 * blobs in stage/blobs already (img_blob_stage takes them as they are). */
static int layout(const char *stage, const struct pulled *top, char *src, size_t n,
		  struct cl_err *err)
{
	char path[4096];
	json_t *idx =
	    json_pack("{s:i, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "manifests", "mediaType",
		      top->mt, "digest", top->digest, "size", (json_int_t)top->size);
	int r = 0;

	img_fmt(src, n, "%s/src", stage);
	img_fmt(path, sizeof(path), "%s/index.json", src);
	if ((mkdir(src, 0700) < 0 && errno != EEXIST) || !idx || json_dump_file(idx, path, 0) < 0)
		r = cl_error(err, errno, "write %s", path);
	img_fmt(path, sizeof(path), "%s/oci-layout", src);
	json_decref(idx);
	idx = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
	if (r == 0 && (!idx || json_dump_file(idx, path, 0) < 0))
		r = cl_error(err, errno, "write %s", path);
	json_decref(idx);
	return r;
}

/* The manifest and the blobs the store lacks, fetched by the network side
 * (image/pullnet.c) and taken from it once it has exited (image/staged.c). */
static json_t *fetch(const struct img_opts *o, struct img_endpoint *ep, const char *stage,
		     struct pulled *top, struct cl_err *err)
{
	struct img_reserve res = {o->limits.reserve.bytes, o->store};
	struct img_net net;
	json_t *man = NULL, *l;
	size_t i;
	int r = img_net_start(ep, stage, o->store, &res, &net, err);

	if (r == 0 && !(man = resolve(&net, ep->ref, stage, top, err)))
		r = -1;
	if (r == 0)
		printf("manifest %s (%s)\n", top->digest, top->mt);
	if (r == 0)
		r = want(o, stage, json_object_get(man, "config"), false, top, err);
	json_array_foreach(json_object_get(man, "layers"), i, l)
	{
		if (r == 0)
			r = want(o, stage, l, true, top, err);
	}
	fflush(stdout);
	if (r == 0)
		r = img_net_blobs(&net, top->want, top->nwant, err);
	if (img_net_end(&net, r < 0) < 0 && r == 0)
		r = cl_error(err, 0, "pull: the network side did not exit cleanly");
	if (r == 0)
		r = img_staged_take(net.dir, stage, top->want, top->nwant, err);
	if (net.dir >= 0)
		close(net.dir);
	if (r < 0)
		json_decref(man), man = NULL;
	return man;
}

static int pull_from(const struct img_opts *o, struct img_endpoint *ep, const char *stage,
		     char **ref, char digest[72], struct cl_err *err)
{
	struct pulled top = {0};
	json_t *man = fetch(o, ep, stage, &top, err);
	char src[4096];
	int r = man ? 0 : -1;

	if (r == 0)
		r = layout(stage, &top, src, sizeof(src), err);
	if (r == 0)
		r = img_import_from(o, src, stage, ref, digest, err);
	json_decref(man);
	free(top.want);
	return r;
}

/* The endpoint of host: its settings, its credentials. */
static int endpoint(const struct img_opts *o, const struct img_ref *r, const char *host,
		    const char *api_host, struct img_endpoint *ep, struct cl_err *err)
{
	struct img_regcfg c;

	memset(ep, 0, sizeof(*ep));
	ep->ref = r;
	img_fmt(ep->host, sizeof(ep->host), "%s", api_host);
	if (img_regcfg_load(o->registries ?: IMG_REGISTRIES, o->registries, host, &c, err) < 0)
		return -1;
	ep->insecure = c.insecure;
	img_fmt(ep->ca, sizeof(ep->ca), "%s", c.ca);
	return img_creds_load(o->creds ?: IMG_CREDS, o->creds, host, &ep->basic, err);
}

static int pull_any(const struct img_opts *o, const struct img_ref *r, const char *stage,
		    char **ref, char digest[72], struct cl_err *err)
{
	struct img_regcfg c;
	struct img_endpoint ep;
	int res;

	if (img_regcfg_load(o->registries ?: IMG_REGISTRIES, o->registries, r->host, &c, err) < 0)
		return -1;
	for (size_t i = 0; i < c.nmirrors; i++) {
		if (endpoint(o, r, c.mirrors[i], c.mirrors[i], &ep, err) < 0)
			return -1;
		printf("pulling %s from mirror %s://%s\n", r->full, ep.insecure ? "http" : "https",
		       ep.host);
		fflush(stdout);
		res = pull_from(o, &ep, stage, ref, digest, err);
		img_endpoint_free(&ep);
		if (res == 0)
			return 0;
		printf("mirror %s: %s\n", c.mirrors[i], err->msg);
	}
	if (endpoint(o, r, r->host, r->api_host, &ep, err) < 0)
		return -1;
	printf("pulling %s from %s://%s\n", r->full, ep.insecure ? "http" : "https", ep.host);
	fflush(stdout);
	res = pull_from(o, &ep, stage, ref, digest, err);
	img_endpoint_free(&ep);
	return res;
}

int img_pull(const struct img_opts *o, const char *in, struct cl_err *err)
{
	struct img_opts po = *o;
	struct img_ref r;
	char stage[4096], digest[72], *ref = NULL;
	int fd, res;

	if (img_ref_parse(in, &r, err) < 0)
		return cl_error_wrap(err, "image pull");
	po.name = o->name ?: r.full;
	po.tag = NULL;
	if ((fd = img_stage_open(o->store, "pull", stage, err)) < 0)
		return cl_error_wrap(err, "image pull %s", in);
	res = pull_any(&po, &r, stage, &ref, digest, err);
	img_stage_close(stage, fd);
	if (res < 0)
		return cl_error_wrap(err, "image pull %s", in);
	printf("%s %s\n", ref, digest);
	free(ref);
	return 0;
}

/* bundle --pull, as docker run's: never (the store's image or an error),
 * missing (pulled only when the store has none by that name), always
 * (pulled at every start: what the store has is not transferred again). */
int img_pull_policy(const struct img_opts *o, const char *ref, struct cl_err *err)
{
	json_t *rec;

	if (o->pull == IMG_PULL_ALWAYS)
		return img_pull(o, ref, err);
	if (o->pull == IMG_PULL_NEVER)
		return 0; /* the bundle's own lookup says what is missing */
	if ((rec = img_record(o->store, ref, err))) {
		json_decref(rec);
		return 0;
	}
	if (err->num != ENOENT)
		return -1;
	printf("%s\n", err->msg);
	fflush(stdout);
	if (img_pull(o, ref, err) == 0)
		return 0;
	return cl_error_wrap(err, "image %s: not in store %s; pulled", ref, o->store);
}

/* fuzz_pull.c: the parsers of `image pull` that read what a registry (or
 * a settings file) sends: the input, NUL-terminated, is a reference, a
 * WWW-Authenticate value, a Content-Range value, a token answer, a docker
 * config.json, a registries.json and a manifest document under each
 * Content-Type; its first byte chooses the host looked up. Every refusal
 * must name what it refused, and what is accepted must hold its
 * invariants. */
#include "image/pull.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *hosts[] = {"docker.io", "reg.io", "127.0.0.1:5000", "a.io"};

static void check_named(int r, const struct cl_err *e, const char *prefix)
{
	if (r < 0 && strncmp(e->msg, prefix, strlen(prefix)) != 0)
		abort();
}

static void headers(const char *s)
{
	struct img_challenge c;
	struct img_ref ref;
	struct cl_err e;
	uint64_t first, last;
	int64_t total;
	char url[2048];
	int r;

	r = img_ref_parse(s, &ref, &e);
	check_named(r, &e, "reference ");
	if (r == 0 && (!ref.host[0] || !ref.repo[0] || (!ref.tag[0] && !ref.digest[0]) ||
		       strchr(ref.host, '/')))
		abort();
	r = img_challenge_parse(s, &c, &e);
	check_named(r, &e, "WWW-Authenticate ");
	if (r == 0 && !strcasecmp(c.scheme, "Bearer"))
		(void)img_token_url(&c, "repository:x:pull", url, sizeof(url), &e);
	r = img_content_range_parse(s, &first, &last, &total, &e);
	check_named(r, &e, "Content-Range ");
	if (r == 0 && (last < first || (total >= 0 && last >= (uint64_t)total)))
		abort();
}

/* Accepted, a document's type is its own mediaType when it has one, and
 * neither an index with an image's members nor a manifest with an index's. */
static void document(const char *s, size_t size)
{
	static const char *ctypes[] = {"",
				       "application/json",
				       IMG_MT_OCI_MANIFEST,
				       IMG_MT_OCI_INDEX,
				       IMG_MT_DOCKER_MANIFEST,
				       IMG_MT_DOCKER_LIST};
	json_t *doc = json_loadb(s, size, 0, NULL);
	const char *own = json_string_value(json_object_get(doc, "mediaType"));
	bool image = json_object_get(doc, "config") || json_object_get(doc, "layers");
	bool manifests = json_object_get(doc, "manifests") != NULL;

	for (size_t i = 0; json_is_object(doc) && i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		struct cl_err e = {0};
		char mt[128];

		if (img_doc_type(ctypes[i], doc, mt, &e) < 0) {
			if (!e.msg[0])
				abort();
			continue;
		}
		if ((own && strcmp(mt, own)) ||
		    (image && (!strcmp(mt, IMG_MT_OCI_INDEX) || !strcmp(mt, IMG_MT_DOCKER_LIST))) ||
		    (manifests &&
		     (!strcmp(mt, IMG_MT_OCI_MANIFEST) || !strcmp(mt, IMG_MT_DOCKER_MANIFEST))))
			abort();
	}
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *basic = NULL, *tok;
	const char *host = hosts[size ? data[0] % 4 : 0];
	struct img_regcfg rc;
	struct cl_err e;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	headers(s);
	document(s, size);
	tok = img_token_parse(s, size, &e);
	if (tok && (!*tok || strpbrk(tok, "\r\n")))
		abort();
	free(tok);
	r = img_creds_parse(s, size, "auth.json", host, &basic, &e);
	check_named(r, &e, "auth.json");
	if (basic && strpbrk(basic, "\r\n"))
		abort();
	free(basic);
	r = img_regcfg_parse(s, size, "regs.json", host, &rc, &e);
	check_named(r, &e, "regs.json");
	if (r == 0 && rc.nmirrors > IMG_MAX_MIRRORS)
		abort();
	free(s);
	return 0;
}

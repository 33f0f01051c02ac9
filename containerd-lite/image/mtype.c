/* image/mtype.c: what a registry's manifest document is, an index or an
 * image manifest, and of which format.
 *
 * The document's own mediaType, when it has one, says (the OCI image
 * spec: it identifies the document; Docker schema 2 always has it, OCI
 * may leave it out), and a Content-Type that says otherwise is refused:
 * the server's header is not covered by the digest, so a registry (or
 * whoever answers for a plain-HTTP one) could serve the pinned bytes of an
 * index as a manifest and have them pulled as another image than the one
 * docker and containerd pull by that digest (CVE-2021-41190's class).
 * Without a mediaType the Content-Type decides, as before (an OCI manifest
 * when it says nothing, or only application/json). Either way a document
 * carrying the other kind's members ("manifests" in a manifest; "config" or
 * "layers" in an index) is refused, as containerd does: read by the
 * members, it would be the other one. */
#include "pull.h"
#include <jansson.h>
#include <string.h>
#include <strings.h>

static bool index_type(const char *mt)
{
	return !strcmp(mt, IMG_MT_OCI_INDEX) || !strcmp(mt, IMG_MT_DOCKER_LIST);
}

static bool manifest_type(const char *mt)
{
	return !strcmp(mt, IMG_MT_OCI_MANIFEST) || !strcmp(mt, IMG_MT_DOCKER_MANIFEST);
}

/* A header that makes no claim: none, or the generic JSON type. */
static bool no_claim(const char *ctype)
{
	return !ctype[0] || !strcasecmp(ctype, "application/json");
}

int img_doc_type(const char *ctype, struct json_t *doc, char mt[128], struct cl_err *err)
{
	json_t *own = json_object_get(doc, "mediaType");
	const char *claim = no_claim(ctype) ? IMG_MT_OCI_MANIFEST : ctype;
	bool has_manifests = json_object_get(doc, "manifests") != NULL,
	     has_image = json_object_get(doc, "config") || json_object_get(doc, "layers");

	/* a NUL inside would compare as the text before it; a longer one fits no mt */
	if (own && (!json_is_string(own) || json_string_length(own) >= 128 ||
		    strlen(json_string_value(own)) != json_string_length(own)))
		return cl_error(err, 0, "mediaType is not a media type");
	if (own && !no_claim(ctype) && strcasecmp(ctype, json_string_value(own)))
		return cl_error(err, 0, "Content-Type %.100s, but its mediaType is %.100s", ctype,
				json_string_value(own));
	img_fmt(mt, 128, "%s", own ? json_string_value(own) : claim);
	if (index_type(mt) && has_image)
		return cl_error(err, 0, "an index (%.100s) with config or layers", mt);
	if (manifest_type(mt) && has_manifests)
		return cl_error(err, 0, "a manifest (%.100s) with manifests", mt);
	return 0;
}

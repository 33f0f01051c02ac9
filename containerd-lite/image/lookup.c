/* image/lookup.c: the store's records, and an image's record by REF.
 *
 * A REF is looked for as, in this order, the first kind that finds a
 * record deciding (docker's order: a name, then an id):
 *   1. the name an image was recorded as, or NAME@sha256:HEX (the whole
 *      manifest or config digest, NAME the repository of the recorded
 *      name, as docker pins; "@sha256:HEX" alone too);
 *   2. that name in docker's full form: "nginx" finds a pulled
 *      docker.io/library/nginx:latest, docker.io/library/demo:1 an image
 *      imported as demo:1;
 *   3. a prefix of 6 to 64 hex digits ("sha256:" optional) of a manifest
 *      or config digest.
 * Names come before digests because a digest's first digits are chosen by
 * whoever grinds the image (6 hex digits: 2^24 hashes, seconds of work):
 * taken first, an image of a registry's or an archive's making shadowed
 * the image named cafe01, or deadbeef:latest, that the host meant (found
 * by an audit). A REF starting with "sha256:", or of 64 hex digits, is a
 * digest only, never a name (docker refuses such names), so a name an
 * archive gives itself cannot shadow a digest either. Within a kind,
 * records of different images (configs) are "ambiguous"; several names
 * of one image are that image. */
#include "pull.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define HEX "0123456789abcdef"

int img_each_record(const char *store, img_record_fn fn, void *arg, struct cl_err *err)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int r = 0;

	img_fmt(dir, sizeof(dir), "%s/images", store);
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : cl_error(err, errno, "store %s", dir);
	while (r == 0 && (de = readdir(d))) {
		json_t *rec;

		if (de->d_name[0] == '.')
			continue;
		if (!(rec = img_load_json(dir, de->d_name, err))) {
			r = cl_error_wrap(err, "store record %s", dir);
			break;
		}
		r = fn(de->d_name, rec, arg, err);
		json_decref(rec);
	}
	closedir(d);
	return r;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

enum kind { BY_NAME, BY_FULL_NAME, BY_DIGEST };

struct find {
	const char *ref; /* as the kind compares it */
	enum kind kind;
	json_t *rec;
	char key[80];
};

/* "name:tag" -> length of "name" (a ':' after the last '/' starts the
 * tag); a pulled "name@sha256:..." (or "name:tag@...") has its name too. */
static size_t repo_len(const char *ref)
{
	size_t end = strcspn(ref, "@");
	const char *slash = memrchr(ref, '/', end), *colon = memrchr(ref, ':', end);

	return colon && (!slash || colon > slash) ? (size_t)(colon - ref) : end;
}

/* "[name]@sha256:HEX": the whole manifest (or config) digest, and the
 * repository of the name the image was imported as, as docker pins. */
static bool pinned(const char *ref, const char *at, json_t *rec)
{
	const char *name = str(rec, "ref"), *d = at + 1;
	size_t n = (size_t)(at - ref);

	if (n && (repo_len(name) != n || strncmp(name, ref, n) != 0))
		return false;
	return !strcmp(str(rec, "manifest"), d) || !strcmp(str(rec, "config"), d);
}

static bool by_name(const char *ref, json_t *rec)
{
	const char *at = strchr(ref, '@');

	return !strcmp(str(rec, "ref"), ref) || (at && pinned(ref, at, rec));
}

/* docker's full form of a name ("nginx" -> "docker.io/library/nginx:latest"),
 * or "" for what is no reference. */
static void full_form(const char *ref, char out[IMG_REF_MAX])
{
	struct img_ref r;
	struct cl_err e;

	*out = 0;
	if (img_ref_parse(ref, &r, &e) == 0)
		memcpy(out, r.full, sizeof(r.full));
}

static bool by_full_name(const char *full, json_t *rec)
{
	char name[IMG_REF_MAX];

	full_form(str(rec, "ref"), name);
	return *name && strcmp(name, full) == 0;
}

/* hex (n digits) begins digest "sha256:HEX" */
static bool begins(const char *digest, const char *hex, size_t n)
{
	return !strncmp(digest, "sha256:", 7) && !strncmp(digest + 7, hex, n);
}

static bool by_digest(const char *ref, json_t *rec)
{
	size_t n;

	if (!strncmp(ref, "sha256:", 7))
		ref += 7;
	n = strlen(ref);
	if (n < 6 || n > 64 || strspn(ref, HEX) != n)
		return false;
	return begins(str(rec, "manifest"), ref, n) || begins(str(rec, "config"), ref, n);
}

static bool digest_only(const char *ref)
{
	return !strncmp(ref, "sha256:", 7) || (strlen(ref) == 64 && strspn(ref, HEX) == 64);
}

/* Several records of the same image (tags) are one answer; of different ones, ambiguous. */
static int match(const char *key, json_t *rec, void *arg, struct cl_err *err)
{
	struct find *f = arg;
	bool (*const by[])(const char *, json_t *) = {by_name, by_full_name, by_digest};

	if (!by[f->kind](f->ref, rec))
		return 0;
	if (f->rec && strcmp(str(f->rec, "config"), str(rec, "config")) != 0)
		return cl_error(err, 0, "image %s: ambiguous", f->ref);
	if (f->rec)
		return 0;
	f->rec = json_incref(rec);
	img_fmt(f->key, sizeof(f->key), "%s", key);
	return 0;
}

json_t *img_lookup(const char *store, const char *ref, char key[80], struct cl_err *err)
{
	char full[IMG_REF_MAX] = "";
	struct find f = {0};

	if (!digest_only(ref))
		full_form(ref, full);
	for (enum kind k = digest_only(ref) ? BY_DIGEST : BY_NAME; !f.rec && k <= BY_DIGEST; k++) {
		if (k == BY_FULL_NAME && !*full)
			continue;
		f = (struct find){.ref = k == BY_FULL_NAME ? full : ref, .kind = k};
		if (img_each_record(store, match, &f, err) < 0)
			return json_decref(f.rec), NULL;
	}
	if (!f.rec) {
		cl_error(err, 0, "image %s: not in store %s", ref, store);
		err->num = ENOENT; /* for --pull missing (image/pull.c), not in the message */
		return NULL;
	}
	if (key)
		strcpy(key, f.key);
	return f.rec;
}

json_t *img_record(const char *store, const char *ref, struct cl_err *err)
{
	return img_lookup(store, ref, NULL, err);
}

int img_config_digest(const struct img_opts *o, const char *ref, char *out, size_t n,
		      struct cl_err *err)
{
	json_t *rec = img_lookup(o->store, ref, NULL, err);

	if (!rec)
		return -1;
	img_fmt(out, n, "%s", str(rec, "config"));
	json_decref(rec);
	return img_digest_valid(out) ? 0 : cl_error(err, 0, "image %s: bad record", ref);
}

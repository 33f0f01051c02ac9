/* spec.c: the image spec parser (format: docs/image-spec.md).
 *
 * The spec is loaded with libyaml's document API so that every node keeps
 * its position: each error names FILE:LINE:COLUMN and the dotted key, on
 * one line, because that is what a person fixing the spec needs. The
 * schema is a table per mapping; unknown keys are errors so that typos
 * don't silently fall back to defaults.
 */
#include "image-builder.h"
#include "../init/lib/regcfg.h"
#include "../init/update/update.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

enum kind {
	K_STR,
	K_PATH,
	K_SIZE,
	K_UINT,
	K_SLOT,
	K_MAP,
	K_SERVICES,
	K_IMAGES,
	K_PORTS,
	K_KEYS,
	K_REGISTRIES
};

struct field {
	const char *key;
	enum kind kind;
	bool required;
	size_t off;			     /* into struct ib_spec */
	const char *(*check)(const char *v); /* K_STR: problem or NULL */
	const struct field *sub;	     /* K_MAP */
};

struct ctx {
	const char *file;
	yaml_document_t *doc;
	struct ib_spec *spec;
	struct ib_err *err;
};

#define MAX_NAME 64

static const char *check_name(const char *v)
{
	if (!*v)
		return "must not be empty";
	if (strlen(v) > MAX_NAME)
		return "longer than 64 characters";
	for (const char *p = v; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *p))
			return "only letters, digits, '.', '_' and '-' are allowed";
	return NULL;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-'. */
static const char *check_hostname(const char *v)
{
	size_t label = 0;

	if (!*v || strlen(v) > 253)
		return "must be 1 to 253 characters";
	for (const char *p = v;; p++) {
		if (*p == '.' || !*p) {
			if (label == 0 || p[-1] == '-')
				return "not a valid host name (RFC 1123)";
			if (!*p)
				return NULL;
			label = 0;
			continue;
		}
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
			    *p) ||
		    (label == 0 && *p == '-') || ++label > 63)
			return "not a valid host name (RFC 1123)";
	}
}

/* The command line lands in both slots' slot.cfg (GRUB script) and the direct-boot
 * command line: the updater's own check of a bundle's tail (init/update/kargs.c), one
 * table of what the slot, GRUB and the trial set (root=, init=, softdog.*, ...), so that
 * a spec cannot give a slot what a bundle could not. */
static const char *check_cmdline(const char *v)
{
	static char why[160];

	return slot_cmdline_check(v, why, sizeof(why));
}

/* bridge.subnet: the containers' network (docs/network.md), an IPv4
 * A.B.C.D/N with N 8..30 and no host bits, as `containerd-lite network
 * attach --subnet` takes it. */
static const char *check_subnet(const char *v)
{
	unsigned a[4], n;
	char tail;
	uint32_t addr;

	if (sscanf(v, "%3u.%3u.%3u.%3u/%2u%c", &a[0], &a[1], &a[2], &a[3], &n, &tail) != 5 ||
	    a[0] > 255 || a[1] > 255 || a[2] > 255 || a[3] > 255 || !strchr(v, '/') ||
	    strspn(v, "0123456789./") != strlen(v))
		return "expected an IPv4 subnet A.B.C.D/N";
	if (n < 8 || n > 30)
		return "the prefix must be 8 to 30";
	addr = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	if (addr & ~(~0u << (32 - n)))
		return "has host bits set";
	return NULL;
}

#define F(k, kind, req, member, check, sub)                                                        \
	{                                                                                          \
		k, kind, req, offsetof(struct ib_spec, member), check, sub                         \
	}

static const struct field disk_fields[] = {
    F("esp_size", K_SIZE, true, esp_size, NULL, NULL),
    F("root_size", K_SIZE, true, root_size, NULL, NULL),
    F("state_size", K_SIZE, true, state_size, NULL, NULL),
    {0},
};
static const struct field kernel_fields[] = {
    F("image", K_PATH, true, kernel_image, NULL, NULL),
    F("cmdline", K_STR, false, kernel_cmdline, check_cmdline, NULL),
    {0},
};
static const struct field rootfs_fields[] = {
    F("manifest", K_PATH, true, manifest, NULL, NULL),
    {0},
};
static const struct field boot_fields[] = {
    F("default_slot", K_SLOT, false, default_slot, NULL, NULL),
    F("timeout", K_UINT, false, timeout, NULL, NULL),
    {0},
};
static const struct field firewall_fields[] = {
    F("allow", K_PORTS, false, firewall_allow, NULL, NULL),
    {0},
};
static const struct field bridge_fields[] = {
    F("subnet", K_STR, false, bridge_subnet, check_subnet, NULL),
    {0},
};
static const struct field update_fields[] = {
    {"key", K_KEYS, false, 0, NULL, NULL},
    F("slot_b", K_PATH, false, update_slot_b, NULL, NULL),
    {0},
};
/* secure_boot: all three, or no Secure Boot signatures (secboot.c) */
static const struct field secure_boot_fields[] = {
    F("key", K_PATH, true, sb_key, NULL, NULL),
    F("cert", K_PATH, true, sb_cert, NULL, NULL),
    F("gpg_key", K_PATH, true, sb_gpg_key, NULL, NULL),
    {0},
};
static const struct field top_fields[] = {
    F("name", K_STR, true, name, check_name, NULL),
    F("hostname", K_STR, false, hostname, check_hostname, NULL),
    {"disk", K_MAP, true, 0, NULL, disk_fields},
    {"kernel", K_MAP, true, 0, NULL, kernel_fields},
    {"rootfs", K_MAP, true, 0, NULL, rootfs_fields},
    {"boot", K_MAP, false, 0, NULL, boot_fields},
    F("services", K_SERVICES, false, services_yaml, NULL, NULL),
    F("images", K_IMAGES, false, images, NULL, NULL),
    {"firewall", K_MAP, false, 0, NULL, firewall_fields},
    {"bridge", K_MAP, false, 0, NULL, bridge_fields},
    {"update", K_MAP, false, 0, NULL, update_fields},
    {"secure_boot", K_MAP, false, 0, NULL, secure_boot_fields},
    {"registries", K_REGISTRIES, false, 0, NULL, NULL},
    {0},
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *key, int errnum, const char *fmt,
		...) IB_PRINTF(5, 6);

static int fail(struct ctx *c, const yaml_node_t *n, const char *key, int errnum, const char *fmt,
		...)
{
	char problem[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	return ib_err_set(c->err, errnum, "%s:%zu:%zu: key \"%s\": %s", c->file,
			  n->start_mark.line + 1, n->start_mark.column + 1, key, problem);
}

static const char *scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void *member(struct ctx *c, const struct field *f)
{
	return (char *)c->spec + f->off;
}

static int set_string(struct ctx *c, const struct field *f, const yaml_node_t *v, const char *key)
{
	const char *s = scalar(v);
	const char *problem;
	char **dst = member(c, f);

	if (!s)
		return fail(c, v, key, 0, "expected a string");
	if (strlen(s) != v->data.scalar.length)
		return fail(c, v, key, 0, "contains a NUL character");
	if (f->check && (problem = f->check(s)))
		return fail(c, v, key, 0, "%s", problem);
	free(*dst);
	*dst = ib_strdup(s);
	return 0;
}

/* Paths are relative to -C; checking them here points at the spec line. */
/* A path to a regular file that exists. */
static int check_path(struct ctx *c, const yaml_node_t *v, const char *key)
{
	struct stat st;
	const char *s = scalar(v);

	if (!s || !*s)
		return fail(c, v, key, 0, "expected a path");
	if (stat(s, &st) < 0)
		return fail(c, v, key, errno, "%s", s);
	if (!S_ISREG(st.st_mode))
		return fail(c, v, key, 0, "%s: not a regular file", s);
	return 0;
}

static int set_path(struct ctx *c, const struct field *f, const yaml_node_t *v, const char *key)
{
	return check_path(c, v, key) < 0 ? -1 : set_string(c, f, v, key);
}

/* update.key: one path, or a list of 1 to IB_UPDATE_KEYS_MAX (a key rotation). */
static int set_keys(struct ctx *c, yaml_node_t *v, const char *key)
{
	struct ib_spec *spec = c->spec;
	yaml_node_item_t *it;
	char item[300];

	if (v->type == YAML_SCALAR_NODE) {
		if (check_path(c, v, key) < 0)
			return -1;
		spec->update_keys[spec->nupdate_keys++] = ib_strdup(scalar(v));
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(c, v, key, 0, "expected a path or a list of paths");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *p = yaml_document_get_node(c->doc, *it);

		snprintf(item, sizeof(item), "%s[%zu]", key, spec->nupdate_keys);
		if (spec->nupdate_keys == IB_UPDATE_KEYS_MAX)
			return fail(c, p, key, 0, "at most %d keys", IB_UPDATE_KEYS_MAX);
		if (check_path(c, p, item) < 0)
			return -1;
		spec->update_keys[spec->nupdate_keys++] = ib_strdup(scalar(p));
	}
	return 0;
}

static int set_size(struct ctx *c, const struct field *f, const yaml_node_t *v, const char *key)
{
	const char *s = scalar(v), *problem;
	uint64_t size;

	if (!s)
		return fail(c, v, key, 0, "expected a size like 64MiB");
	if (ib_parse_size(s, &size, &problem) < 0)
		return fail(c, v, key, 0, "\"%s\": %s", s, problem);
	if (size % IB_ALIGN)
		return fail(c, v, key, 0,
			    "\"%s\": must be a multiple of 1MiB (partitions are 1MiB aligned)", s);
	*(uint64_t *)member(c, f) = size;
	return 0;
}

static int set_uint(struct ctx *c, const struct field *f, const yaml_node_t *v, const char *key)
{
	const char *s = scalar(v);
	unsigned n = 0;

	if (!s || !*s)
		return fail(c, v, key, 0, "expected a number of seconds");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(c, v, key, 0, "\"%s\": expected a number of seconds", s);
		n = n * 10 + (unsigned)(*p - '0');
		if (n > 3600)
			return fail(c, v, key, 0, "\"%s\": more than 3600 seconds", s);
	}
	*(unsigned *)member(c, f) = n;
	return 0;
}

static int set_slot(struct ctx *c, const struct field *f, const yaml_node_t *v, const char *key)
{
	const char *s = scalar(v);

	if (!s || (strcmp(s, "A") && strcmp(s, "B")))
		return fail(c, v, key, 0, "expected A or B");
	*(char *)member(c, f) = s[0];
	return 0;
}

static int set_services(struct ctx *c, const struct field *f, yaml_node_t *v, const char *key)
{
	yaml_node_item_t *it;
	char **dst = member(c, f);

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, key, 0, "expected a list of services");
	/* The fields of a service are init's to validate (docs/declarations.md):
	 * one format, one parser. Here only the shape is checked. */
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(c->doc, *it);

		if (item->type != YAML_MAPPING_NODE)
			return fail(c, item, key, 0, "each service must be a mapping");
	}
	free(*dst);
	*dst = NULL;
	if (ib_spec_emit_services(c->doc, v, dst, &c->spec->services_len, c->err) < 0)
		return ib_err_ctx(c->err, "%s:%zu:%zu: key \"%s\"", c->file, v->start_mark.line + 1,
				  v->start_mark.column + 1, key); /* as fail() says it */
	return 0;
}

/* ---- images: archives baked into STATE (docs/image-spec.md#images) ---- */

/* A reference as containerd-lite records it: one printable word. */
static const char *check_ref(const char *v)
{
	if (!*v || strlen(v) > 255)
		return "must be 1 to 255 characters";
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p > '~')
			return "only printable ASCII without blanks is allowed";
	return NULL;
}

/* The archive: a tar (OCI layout or docker-archive) or an OCI layout
 * directory; import: boot copies it as a file, so it must be one. */
static int image_archive(struct ctx *c, const yaml_node_t *v, const char *key, struct ib_image *img)
{
	const char *s = scalar(v), *base;
	struct stat st;

	if (!s || !*s)
		return fail(c, v, key, 0, "expected a path");
	if (stat(s, &st) < 0)
		return fail(c, v, key, errno, "%s", s);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return fail(c, v, key, 0, "%s: not a file or a directory", s);
	base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
	if (img->at_boot && (!S_ISREG(st.st_mode) || *base == '.' ||
			     strspn(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789._-") != strlen(base)))
		return fail(c, v, key, 0,
			    "%s: import: boot needs a file named with letters, digits, '.', '_', "
			    "'-', not starting with '.'",
			    s);
	free(img->archive);
	img->archive = ib_strdup(s);
	return 0;
}

static int image_option(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
			struct ib_image *img)
{
	const char *name = scalar(k), *s = scalar(v), *problem;

	if (strcmp(name, "name") == 0) {
		if (!s || (problem = check_ref(s)))
			return fail(c, v, key, 0, "%s", s ? problem : "expected a reference");
		free(img->name);
		img->name = ib_strdup(s);
		return 0;
	}
	if (strcmp(name, "import") == 0) {
		if (!s || (strcmp(s, "build") != 0 && strcmp(s, "boot") != 0))
			return fail(c, v, key, 0, "expected build or boot");
		img->at_boot = strcmp(s, "boot") == 0;
		return 0;
	}
	if (strcmp(name, "live") == 0) {
		if (!s || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
			return fail(c, v, key, 0, "expected true or false");
		img->live = strcmp(s, "true") == 0;
		return 0;
	}
	return fail(c, k, key, 0, "unknown key");
}

/* archive is checked last: whether it must be a file depends on import. */
static int image_entry(struct ctx *c, yaml_node_t *map, size_t idx, struct ib_image *img)
{
	yaml_node_t *archive = NULL;
	char key[48], sub[96];

	snprintf(key, sizeof(key), "images[%zu]", idx);
	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, key, 0, "expected a mapping (archive, name, import, live)");
	img->line = (unsigned)map->start_mark.line + 1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (!scalar(k))
			return fail(c, k, key, 0, "keys must be strings");
		snprintf(sub, sizeof(sub), "%s.%s", key, scalar(k));
		if (strcmp(scalar(k), "archive") == 0)
			archive = v;
		else if (image_option(c, k, v, sub, img) < 0)
			return -1;
	}
	snprintf(sub, sizeof(sub), "%s.archive", key);
	if (!archive)
		return fail(c, map, sub, 0, "missing (required)");
	return image_archive(c, archive, sub, img);
}

static int set_images(struct ctx *c, yaml_node_t *v, const char *key)
{
	struct ib_spec *spec = c->spec;
	yaml_node_item_t *it;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, key, 0, "expected a list of images");
	it = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - it);
	spec->images = calloc(n ? n : 1, sizeof(*spec->images));
	if (!spec->images)
		return ib_err_set(c->err, ENOMEM, "%s: images", c->file);
	for (spec->nimages = n; it < v->data.sequence.items.top; it++)
		if (image_entry(c, yaml_document_get_node(c->doc, *it),
				(size_t)(it - v->data.sequence.items.start),
				&spec->images[it - v->data.sequence.items.start]) < 0)
			return -1;
	return 0;
}

/* "PORT[/tcp|/udp]", 1-65535: as `containerd-lite network firewall --allow` takes it. */
static const char *check_port(const char *s, unsigned long *port, const char **proto)
{
	char *end;

	*port = s[0] >= '0' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
	if (*port == 0 || *port > 65535 || (*end && strcmp(end, "/tcp") && strcmp(end, "/udp")))
		return "expected PORT or PORT/tcp or PORT/udp (1-65535)";
	*proto = *end ? end + 1 : "tcp";
	return NULL;
}

/* firewall.allow: ports the host firewall opens (docs/network.md, "Host
 * firewall"), kept as the text of /etc/wisp/firewall, one "PORT/PROTO" a line. */
static int set_ports(struct ctx *c, const struct field *f, yaml_node_t *v, const char *key)
{
	char **dst = member(c, f), item[300];
	yaml_node_item_t *it;
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, key, 0, "expected a list of ports (PORT[/tcp|udp])");
	free(*dst);
	*dst = ib_strdup("");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, n++) {
		yaml_node_t *p = yaml_document_get_node(c->doc, *it);
		const char *s = scalar(p), *problem = s ? NULL : "expected a port", *proto = NULL;
		unsigned long port = 0;
		char *more;
		snprintf(item, sizeof(item), "%s[%zu]", key, n);
		if (n == 32)
			return fail(c, p, key, 0, "at most 32 ports");
		if (!problem)
			problem = check_port(s, &port, &proto);
		if (problem)
			return fail(c, p, item, 0, "%s", problem);
		more = ib_asprintf("%s%lu/%s\n", *dst, port, proto);
		free(*dst);
		*dst = more;
	}
	return 0;
}

static void join_key(char *buf, size_t len, const char *prefix, const char *key)
{
	snprintf(buf, len, "%s%s%s", prefix, *prefix ? "." : "", key);
}

/* ---- registries: containerd-lite's registry files in ROOT ---------------
 * The schema and checks of user-data's wisp.registries (docs/cloud-config.md), from
 * init/lib/regcfg.c, its renderer too (build.c); here a problem is an error, where
 * user-data's parser warns and leaves the value out. */

struct reg_field {
	const char *key;
	int (*set)(struct ctx *c, const struct reg_field *f, yaml_node_t *v, const char *key,
		   struct reg_cfg *r);
	size_t off; /* reg_string's member */
};

/* mirrors: a list of host[:port], at most REG_MIRRORS_MAX */
static int reg_mirrors(struct ctx *c, const struct reg_field *f, yaml_node_t *v, const char *key,
		       struct reg_cfg *r)
{
	yaml_node_item_t *it;
	char item[352]; /* key[320] of reg_entry, and "[N]" */

	(void)f;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, key, 0, "expected a list of registry hosts (host[:port])");
	it = v->data.sequence.items.start;
	for (size_t n = 0; it < v->data.sequence.items.top; it++, n++) {
		yaml_node_t *m = yaml_document_get_node(c->doc, *it);
		const char *problem = reg_problem("mirrors", scalar(m));

		snprintf(item, sizeof(item), "%s[%zu]", key, n);
		if (problem)
			return fail(c, m, item, 0, "%s", problem);
		if (n == REG_MIRRORS_MAX)
			return fail(c, m, key, 0, "at most %d mirrors", REG_MIRRORS_MAX);
		r->mirrors = strv_push(r->mirrors, scalar(m));
	}
	return 0;
}

/* insecure: YAML's true or false (no yes/on: a typo must not turn TLS off) */
static int reg_insecure(struct ctx *c, const struct reg_field *f, yaml_node_t *v, const char *key,
			struct reg_cfg *r)
{
	static const char *const spellings[] = {"false", "False", "FALSE", "true", "True", "TRUE"};
	const char *s = scalar(v);

	(void)f;
	for (size_t i = 0; s && i < ARRAY_LEN(spellings); i++)
		if (strcmp(s, spellings[i]) == 0) {
			r->insecure = i >= ARRAY_LEN(spellings) / 2;
			return 0;
		}
	return fail(c, v, key, 0, "expected true or false");
}

/* ca, username, password, auth: strings as lib/regcfg.c checks them */
static int reg_string(struct ctx *c, const struct reg_field *f, yaml_node_t *v, const char *key,
		      struct reg_cfg *r)
{
	const char *s = scalar(v), *problem;

	if (s && strlen(s) != v->data.scalar.length)
		return fail(c, v, key, 0, "contains a NUL character");
	if ((problem = reg_problem(f->key, s)))
		return fail(c, v, key, 0, "%s", problem);
	*(char **)((char *)r + f->off) = ib_strdup(s);
	return 0;
}

static const struct reg_field reg_fields[] = {
    {"mirrors", reg_mirrors, 0},
    {"insecure", reg_insecure, 0},
    {"ca", reg_string, offsetof(struct reg_cfg, ca)},
    {"username", reg_string, offsetof(struct reg_cfg, user)},
    {"password", reg_string, offsetof(struct reg_cfg, password)},
    {"auth", reg_string, offsetof(struct reg_cfg, auth)},
};

/* One registries.HOST: a mapping of reg_fields, each once. */
static int reg_entry(struct ctx *c, yaml_node_t *map, const char *prefix, size_t idx)
{
	struct reg_cfg *r = &c->spec->registries[idx];
	bool seen[ARRAY_LEN(reg_fields)] = {false};
	char key[320];
	size_t i;

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, prefix, 0,
			    "expected a mapping (mirrors, insecure, ca, username, password, auth)");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (!scalar(k))
			return fail(c, k, prefix, 0, "keys must be strings");
		join_key(key, sizeof(key), prefix, scalar(k));
		for (i = 0; i < ARRAY_LEN(reg_fields) && strcmp(reg_fields[i].key, scalar(k)); i++)
			;
		if (i == ARRAY_LEN(reg_fields))
			return fail(c, k, key, 0, "unknown key");
		if (seen[i])
			return fail(c, k, key, 0, "duplicate key");
		seen[i] = true;
		if (reg_fields[i].set(c, &reg_fields[i], v, key, r) < 0)
			return -1;
		/* a path: build.c looks for it in ROOT, and names this place if it is not */
		if (!strcmp(scalar(k), "ca") && r->ca[0] == '/') {
			c->spec->registry_ca_at[idx][0] = (unsigned)v->start_mark.line + 1;
			c->spec->registry_ca_at[idx][1] = (unsigned)v->start_mark.column + 1;
		}
	}
	return reg_cfg_problem(r) ? fail(c, map, prefix, 0, "%s", reg_cfg_problem(r)) : 0;
}

/* registries: {HOST: {...}}, each HOST a host[:port] as a reference names it, once. */
static int set_registries(struct ctx *c, yaml_node_t *v, const char *key)
{
	struct ib_spec *spec = c->spec;
	yaml_node_pair_t *p;
	size_t n;
	char host[288]; /* "registries." and a host of at most 255 */

	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, key, 0, "expected a mapping of registry hosts (host[:port])");
	p = v->data.mapping.pairs.start;
	n = (size_t)(v->data.mapping.pairs.top - p);
	spec->registries = calloc(n ? n : 1, sizeof(*spec->registries));
	spec->registry_ca_at = calloc(n ? n : 1, sizeof(*spec->registry_ca_at));
	if (!spec->registries || !spec->registry_ca_at)
		return ib_err_set(c->err, ENOMEM, "%s: registries", c->file);
	for (spec->nregistries = n; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		size_t i = (size_t)(p - v->data.mapping.pairs.start);
		const char *name = scalar(k), *problem = reg_problem("host", name);

		spec->registries[i].insecure = -1;
		join_key(host, sizeof(host), key, name ? name : "?");
		if (problem)
			return fail(c, k, host, 0, "%s", problem);
		for (size_t j = 0; j < i; j++)
			if (strcmp(spec->registries[j].host, name) == 0)
				return fail(c, k, host, 0, "duplicate key");
		spec->registries[i].host = ib_strdup(name);
		if (reg_entry(c, yaml_document_get_node(c->doc, p->value), host, i) < 0)
			return -1;
	}
	return 0;
}

static int walk_map(struct ctx *c, yaml_node_t *map, const struct field *fields,
		    const char *prefix);

static int set_field(struct ctx *c, const struct field *f, yaml_node_t *v, const char *key)
{
	switch (f->kind) {
	case K_STR:
		return set_string(c, f, v, key);
	case K_PATH:
		return set_path(c, f, v, key);
	case K_SIZE:
		return set_size(c, f, v, key);
	case K_UINT:
		return set_uint(c, f, v, key);
	case K_SLOT:
		return set_slot(c, f, v, key);
	case K_MAP:
		if (v->type != YAML_MAPPING_NODE)
			return fail(c, v, key, 0, "expected a mapping");
		return walk_map(c, v, f->sub, key);
	case K_SERVICES:
		return set_services(c, f, v, key);
	case K_IMAGES:
		return set_images(c, v, key);
	case K_PORTS:
		return set_ports(c, f, v, key);
	case K_KEYS:
		return set_keys(c, v, key);
	case K_REGISTRIES:
		return set_registries(c, v, key);
	}
	return fail(c, v, key, 0, "internal error: unknown field kind");
}

static const struct field *find_field(const struct field *fields, const char *key)
{
	for (const struct field *f = fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static int check_required(struct ctx *c, yaml_node_t *map, const struct field *fields,
			  const char *prefix, const bool *seen)
{
	char key[256];

	for (size_t i = 0; fields[i].key; i++) {
		if (fields[i].required && !seen[i]) {
			join_key(key, sizeof(key), prefix, fields[i].key);
			return fail(c, map, key, 0, "missing (required)");
		}
	}
	return 0;
}

static int walk_map(struct ctx *c, yaml_node_t *map, const struct field *fields, const char *prefix)
{
	bool seen[16] = {false};
	yaml_node_pair_t *p;
	char key[256];

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const struct field *f;

		if (!scalar(k))
			return fail(c, k, prefix, 0, "keys must be strings");
		join_key(key, sizeof(key), prefix, scalar(k));
		if (!(f = find_field(fields, scalar(k))))
			return fail(c, k, key, 0, "unknown key");
		if (seen[f - fields])
			return fail(c, k, key, 0, "duplicate key");
		seen[f - fields] = true;
		if (set_field(c, f, v, key) < 0)
			return -1;
	}
	return check_required(c, map, fields, prefix, seen);
}

static void set_defaults(struct ib_spec *spec)
{
	spec->default_slot = 'A';
	spec->timeout = 0;
}

static int finish(struct ib_spec *spec, struct ib_err *err)
{
	if (!spec->hostname)
		spec->hostname = ib_strdup(spec->name);
	if (!spec->kernel_cmdline)
		spec->kernel_cmdline = ib_strdup("");
	if (!spec->services_yaml) {
		spec->services_yaml = ib_strdup("services: []\n");
		spec->services_len = strlen(spec->services_yaml);
	}
	if (check_hostname(spec->hostname))
		return ib_err_set(err, 0,
				  "%s:1:1: key \"hostname\": missing, and the default "
				  "(name \"%s\") is not a valid host name",
				  spec->file, spec->name);
	return 0;
}

static int syntax_error(const char *file, yaml_parser_t *p, struct ib_err *err)
{
	return ib_err_set(err, 0, "%s:%zu:%zu: YAML syntax error: %s%s%s", file,
			  p->problem_mark.line + 1, p->problem_mark.column + 1,
			  p->problem ? p->problem : "unknown problem", p->context ? " " : "",
			  p->context ? p->context : "");
}

static int load_document(yaml_parser_t *p, yaml_document_t *doc, const char *file,
			 struct ib_err *err)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int ret = 0;

	if (!yaml_parser_load(p, doc))
		return syntax_error(file, p, err);
	root = yaml_document_get_root_node(doc);
	if (!root)
		ret = ib_err_set(err, 0, "%s:1:1: empty spec", file);
	else if (root->type != YAML_MAPPING_NODE)
		ret = ib_err_set(err, 0, "%s:%zu:%zu: the spec must be a mapping", file,
				 root->start_mark.line + 1, root->start_mark.column + 1);
	else if (!yaml_parser_load(p, &extra))
		ret = syntax_error(file, p, err);
	else {
		if (yaml_document_get_root_node(&extra))
			ret = ib_err_set(err, 0, "%s:%zu:%zu: more than one YAML document", file,
					 extra.start_mark.line + 1, extra.start_mark.column + 1);
		yaml_document_delete(&extra);
	}
	if (ret < 0)
		yaml_document_delete(doc);
	return ret;
}

int ib_spec_parse(struct ib_spec *spec, const char *path, const char *buf, size_t len,
		  struct ib_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = {.file = path, .doc = &doc, .spec = spec, .err = err};
	int ret;

	memset(spec, 0, sizeof(*spec));
	spec->file = ib_strdup(path);
	set_defaults(spec);
	if (!yaml_parser_initialize(&parser))
		return ib_err_set(err, ENOMEM, "%s: yaml parser", path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	ret = load_document(&parser, &doc, path, err);
	if (ret == 0) {
		ret = walk_map(&c, yaml_document_get_root_node(&doc), top_fields, "");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (ret == 0)
		ret = finish(spec, err);
	if (ret < 0)
		ib_spec_free(spec);
	return ret;
}

int ib_spec_load(struct ib_spec *spec, const char *path, struct ib_err *err)
{
	char *buf;
	size_t len;
	int ret;

	memset(spec, 0, sizeof(*spec));
	if (ib_read_file(path, &buf, &len, err) < 0)
		return -1;
	ret = ib_spec_parse(spec, path, buf, len, err);
	free(buf);
	return ret;
}

void ib_spec_free(struct ib_spec *spec)
{
	free(spec->file);
	free(spec->name);
	free(spec->hostname);
	free(spec->firewall_allow);
	free(spec->bridge_subnet);
	for (size_t i = 0; i < spec->nupdate_keys; i++)
		free(spec->update_keys[i]);
	free(spec->update_slot_b);
	free(spec->sb_key), free(spec->sb_cert), free(spec->sb_gpg_key);
	for (size_t i = 0; i < spec->nregistries; i++)
		reg_cfg_free(&spec->registries[i]);
	free(spec->registries);
	free(spec->registry_ca_at);
	free(spec->kernel_image);
	free(spec->kernel_cmdline);
	free(spec->manifest);
	free(spec->services_yaml);
	for (size_t i = 0; i < spec->nimages; i++) {
		free(spec->images[i].archive);
		free(spec->images[i].name);
		free(spec->images[i].ref);
	}
	free(spec->images);
	memset(spec, 0, sizeof(*spec));
}

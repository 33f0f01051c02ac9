/*
 * meta.c: a datasource's meta-data, read in the parser child (issue 11):
 * NoCloud's and EC2's meta-data (YAML: instance-id, local-hostname,
 * public-keys) and the config drive's meta_data.json (uuid, hostname,
 * public_keys). It comes from the same disk or metadata service as
 * user-data, so it is parsed as unprivileged as user-data is; provision
 * gets the three values through the plan's meta records.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

/* Which key holds each value, in NoCloud/EC2 meta-data and in OpenStack's JSON. */
static const struct {
	const char *yaml, *json;
} keys[] = {
    {"instance-id", "uuid"},
    {"local-hostname", "hostname"},
    {"public-keys", "public_keys"},
};

static const char *scalar(const struct ynode *n)
{
	return n && n->type == Y_SCALAR ? n->str : NULL;
}

/* One key: a scalar of one line. A line break would make it more lines of
 * authorized_keys than the one key meant (the fuzzer found the block scalar). */
static void one_key(struct ds_meta *m, const struct ynode *k, const char *name, struct ud_sink *w)
{
	if (scalar(k) && !strpbrk(k->str, "\r\n"))
		m->keys = strv_push(m->keys, k->str);
	else
		w->warn(w->ctx, "%s:%d:%d: a public key that is not one line; ignored", name,
			k->line, k->col);
}

/* A key, a list of keys, or {name: key} (OpenStack's and EC2's public keys). */
static void add_keys(struct ds_meta *m, const struct ynode *n, const char *name, struct ud_sink *w)
{
	if (n && n->type == Y_SCALAR)
		one_key(m, n, name, w);
	for (size_t i = n && n->type == Y_MAP; n && n->type != Y_SCALAR && i < n->n;
	     i += 1 + (n->type == Y_MAP))
		one_key(m, n->kid[i], name, w);
}

void meta_parse(const char *name, const char *buf, size_t len, struct ds_meta *m, struct ud_sink *w)
{
	bool json = strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".json");
	const struct ynode *root;
	const char *s;
	struct yfile y;
	struct err e;

	if (ytree_parse(name, buf, len, &y, &e) < 0) {
		w->warn(w->ctx, "datasource: %s", e.msg);
		return;
	}
	if (y.failed)
		w->warn(w->ctx, "%s:%d:%d: %s", name, y.line, y.col, y.problem);
	root = y.ndoc ? y.doc[0] : NULL;
	if (root && root->type != Y_MAP)
		w->warn(w->ctx, "%s:%d:%d: expected a mapping", name, root->line, root->col);
	if ((s = scalar(ytree_get(root, json ? keys[0].json : keys[0].yaml))))
		snprintf(m->iid, sizeof(m->iid), "%s", s);
	if ((s = scalar(ytree_get(root, json ? keys[1].json : keys[1].yaml))) ||
	    (s = scalar(ytree_get(root, "hostname"))))
		snprintf(m->hostname, sizeof(m->hostname), "%s", s);
	add_keys(m, ytree_get(root, json ? keys[2].json : keys[2].yaml), name, w);
	ytree_free(&y);
}

void meta_free(struct ds_meta *m)
{
	strv_free(m->keys);
	memset(m, 0, sizeof(*m));
}

/*
 * meta.c: a datasource's meta-data, read in the parser child (issue 11):
 * NoCloud's and EC2's meta-data (YAML: instance-id, local-hostname,
 * public-keys), the config drive's meta_data.json (uuid, hostname,
 * public_keys), Azure's IMDS answer (JSON, read as YAML flow: vmId,
 * computerName, publicKeys, adminUsername) and its wire server's goal
 * state (XML: xmltext.c), and the ovf-env.xml of Azure's provisioning
 * media (ovfenv.c). It comes from the same disk or metadata service
 * as user-data, so it is parsed as unprivileged as user-data is; provision
 * gets the values through the plan's meta records.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

/* Which key holds each value in each format (a '.' steps into a mapping), chosen by how
 * the file's name ends: Azure's IMDS answer is JSON of its own shape (a list of
 * {keyData: KEY} for the keys, the admin user Azure's default user). */
static const struct meta_format {
	const char *suffix;
	const char *iid, *hostname, *hostname2, *keys, *key_field, *user;
} formats[] = {
    {AZURE_IMDS_FILE, "compute.vmId", "compute.osProfile.computerName", NULL, "compute.publicKeys",
     "keyData", "compute.osProfile.adminUsername"},
    {".json", "uuid", "hostname", NULL, "public_keys", NULL, NULL},
    {"", "instance-id", "local-hostname", "hostname", "public-keys", NULL, NULL},
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static const char *scalar(const struct ynode *n)
{
	return n && n->type == Y_SCALAR ? n->str : NULL;
}

/* The node at path ("compute.osProfile.computerName"), or NULL. */
static const struct ynode *get_path(const struct ynode *n, const char *path)
{
	char key[64];

	while (n && *path) {
		size_t k = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)k, path);
		n = ytree_get(n, key);
		path += k + (path[k] == '.');
	}
	return n;
}

/* Azure names a key twice (ovf-env.xml's Value, IMDS's keyData): one line of it. */
void meta_add_key(struct ds_meta *m, const char *key)
{
	for (char **k = m->keys; k && *k; k++)
		if (!strcmp(*k, key))
			return;
	m->keys = strv_push(m->keys, key);
}

/* One key: a scalar of one line. A line break would make it more lines of
 * authorized_keys than the one key meant (the fuzzer found the block scalar). */
static void one_key(struct ds_meta *m, const struct ynode *k, const char *name, struct ud_sink *w)
{
	if (scalar(k) && !strpbrk(k->str, "\r\n"))
		meta_add_key(m, k->str);
	else
		w->warn(w->ctx, "%s:%d:%d: a public key that is not one line; ignored", name,
			k->line, k->col);
}

/* A key, a list of keys, or {name: key} (OpenStack's and EC2's public keys); with a
 * field, a list of mappings whose field is the key (Azure's [{keyData: KEY}]). */
static void add_keys(struct ds_meta *m, const struct ynode *n, const char *field, const char *name,
		     struct ud_sink *w)
{
	if (n && n->type == Y_SCALAR && !field)
		one_key(m, n, name, w);
	for (size_t i = n && n->type == Y_MAP; n && n->type != Y_SCALAR && i < n->n;
	     i += 1 + (n->type == Y_MAP)) {
		const struct ynode *k = field ? ytree_get(n->kid[i], field) : n->kid[i];
		if (k)
			one_key(m, k, name, w);
		else
			w->warn(w->ctx, "%s:%d:%d: a public key without %s; ignored", name,
				n->kid[i]->line, n->kid[i]->col, field);
	}
}

/* The default user a cloud names (Azure's adminUsername), if a valid user name. */
static void take_user(struct ds_meta *m, const struct ynode *u, const char *name, struct ud_sink *w)
{
	if (scalar(u) && cc_valid_name(u->str))
		snprintf(m->user, sizeof(m->user), "%s", u->str);
	else if (u)
		w->warn(w->ctx,
			"%s:%d:%d: the admin user's name is not one of [a-z_][a-z0-9_.-]* "
			"(at most 32); no default user",
			name, u->line, u->col);
}

static void take_values(const struct meta_format *f, const struct ynode *root, const char *name,
			struct ds_meta *m, struct ud_sink *w)
{
	const char *s;

	if ((s = scalar(get_path(root, f->iid))))
		snprintf(m->iid, sizeof(m->iid), "%s", s);
	else if (f->user) /* Azure's: an answer without it is not its IMDS's */
		w->warn(w->ctx, "%s: no %s: not an answer of Azure's IMDS", name, f->iid);
	if ((s = scalar(get_path(root, f->hostname))) ||
	    (f->hostname2 && (s = scalar(get_path(root, f->hostname2)))))
		snprintf(m->hostname, sizeof(m->hostname), "%s", s);
	add_keys(m, get_path(root, f->keys), f->key_field, name, w);
	if (f->user)
		take_user(m, get_path(root, f->user), name, w);
}

/* Azure's answer is JSON: one that does not parse whole, or is not an object, is
 * refused whole (libyaml reads more than JSON, and a cut answer parses in part). */
static bool json_refused(const struct yfile *y, const struct ynode *root, const char *name,
			 struct ud_sink *w)
{
	if (y->failed)
		w->warn(w->ctx, "%s:%d:%d: not valid JSON (%s); Azure's IMDS answer not used", name,
			y->line, y->col, y->problem);
	else if (!root || root->type != Y_MAP)
		w->warn(w->ctx, "%s: not a JSON object; Azure's IMDS answer not used", name);
	return y->failed || !root || root->type != Y_MAP;
}

static void yaml_meta(const char *name, const char *buf, size_t len, struct ds_meta *m,
		      struct ud_sink *w)
{
	const struct meta_format *f = &formats[ARRAY_LEN(formats) - 1];
	const struct ynode *root;
	struct yfile y;
	struct err e;

	for (size_t i = 0; i < ARRAY_LEN(formats); i++)
		if (ends_with(name, formats[i].suffix)) {
			f = &formats[i];
			break;
		}
	if (ytree_parse(name, buf, len, &y, &e) < 0) {
		w->warn(w->ctx, "datasource: %s", e.msg);
		return;
	}
	root = y.ndoc ? y.doc[0] : NULL;
	if (f->user && json_refused(&y, root, name, w)) {
		ytree_free(&y);
		return;
	}
	if (y.failed)
		w->warn(w->ctx, "%s:%d:%d: %s", name, y.line, y.col, y.problem);
	if (root && root->type != Y_MAP)
		w->warn(w->ctx, "%s:%d:%d: expected a mapping", name, root->line, root->col);
	take_values(f, root, name, m, w);
	ytree_free(&y);
}

static bool id_ok(const char *s)
{
	return *s && net_safe(s, NET_NAME_CHARS);
}

bool meta_ready_ok(const struct ds_ready *r)
{
	if (!*r->incarnation && !*r->container && !*r->instance)
		return true;
	return *r->incarnation && strspn(r->incarnation, "0123456789") == strlen(r->incarnation) &&
	       id_ok(r->container) && id_ok(r->instance);
}

/* Azure's goal state: the three values its health report names, checked as the plan's
 * reader checks them (they go into an XML document and a console line). */
static void goalstate(const char *name, const char *buf, size_t len, struct ds_meta *m,
		      struct ud_sink *w)
{
	struct ds_ready r;
	const struct xml_want want[] = {
	    {"GoalState/Incarnation", r.incarnation, sizeof(r.incarnation), NULL, NULL, false},
	    {"GoalState/Container/ContainerId", r.container, sizeof(r.container), NULL, NULL,
	     false},
	    {"GoalState/Container/RoleInstanceList/RoleInstance/InstanceId", r.instance,
	     sizeof(r.instance), NULL, NULL, false},
	};
	char why[128];
	int line;

	if (xml_texts(buf, len, want, ARRAY_LEN(want), why, &line) < 0)
		w->warn(w->ctx, "%s:%d: %s; no ready report", name, line, why);
	else if (!*r.incarnation || !*r.container || !*r.instance)
		w->warn(w->ctx, "%s: no %s; no ready report", name,
			!*r.incarnation ? want[0].path
			: !*r.container ? want[1].path
					: want[2].path);
	else if (!meta_ready_ok(&r))
		w->warn(w->ctx,
			"%s: an incarnation not of digits, or an id not of "
			"[A-Za-z0-9_.-]; no ready report",
			name);
	else
		m->ready = r;
}

void meta_parse(const char *name, const char *buf, size_t len, struct ds_meta *m, struct ud_sink *w)
{
	if (ends_with(name, AZURE_GOALSTATE_FILE))
		goalstate(name, buf, len, m, w);
	else if (ends_with(name, AZURE_OVF_FILE))
		meta_ovf(name, buf, len, m, w);
	else
		yaml_meta(name, buf, len, m, w);
}

void meta_free(struct ds_meta *m)
{
	strv_free(m->keys);
	free(m->userdata);
	memset(m, 0, sizeof(*m));
}

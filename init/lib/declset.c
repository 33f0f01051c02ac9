/*
 * declset.c: a set of declarations once read, whichever way it was read: the
 * YAML walker (decl.c) in provision and image-builder, the compiled form
 * (declbin.c) in PID 1. Freeing, merging a second set over a first, the
 * environment a unit's program gets. Nothing here reads YAML: PID 1 links this
 * and not the walker.
 */
#include "decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every program starts from this; its declared env adds to it or overrides it. */
static const char *const base_env[] = {
    "PATH=/sbin:/usr/sbin:/bin:/usr/bin",
    "HOME=/root",
    "TERM=linux",
};

/* Index of name in the KEY=value entries env[0..n), or -1. */
int env_find(char *const *env, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (env[i] && strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return (int)i;
	return -1;
}

const char *const decl_net_names[3] = {"host", "private", "bridge"};

void decl_clear(struct decl *d)
{
	for (size_t i = 0; i < d->ndeps; i++)
		free(d->deps[i].name);
	free(d->deps);
	strv_free(d->health.argv);
	free(d->name);
	strv_free(d->argv);
	strv_free(d->env);
	free(d->tty);
	free(d->working_dir);
	free(d->image);
	strv_free(d->entrypoint);
	strv_free(d->ports);
	strv_free(d->volumes);
	free(d->net_peer);
	free(d->user_spec);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

/* Remember a left-out service's name: its dependants get a precise message. */
void decls_note_broken(struct decls *set, const char *name)
{
	set->broken = strv_push(set->broken, name);
}

/* KEY=value into set->environment: a key already there (an earlier file's) is replaced. */
int decls_env_put(struct decls *set, const char *kv)
{
	size_t klen = strcspn(kv, "="), n = strv_len(set->environment);
	int i = env_find(set->environment, n, kv, klen);
	char *copy = strdup(kv), **v;

	if (!copy)
		return -1;
	if (i >= 0) {
		free(set->environment[i]);
		set->environment[i] = copy;
		return 0;
	}
	if (!(v = realloc(set->environment, (n + 2) * sizeof(*v)))) {
		free(copy);
		return -1;
	}
	v[n] = copy;
	v[n + 1] = NULL;
	set->environment = v;
	return 0;
}

/* Append d (moved) to set. Returns 0, or -1 with d left as it was. */
static int decls_append(struct decls *set, struct decl *d)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct decl *v = realloc(set->v, cap * sizeof(*v));
		if (!v)
			return -1;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = *d;
	memset(d, 0, sizeof(*d));
	return 0;
}

void decls_overlay(struct decls *set, struct decls *over, decl_report_fn *note, void *ctx)
{
	char msg[768];

	for (size_t i = 0; i < over->n; i++) {
		struct decl *d = &over->v[i];
		int k = decls_find(set, d->name);

		if (d->early) { /* loaded after provisioning: too late to start early */
			snprintf(msg, sizeof(msg), "%s: %s: early applies to %s only; ignored",
				 d->file, d->name, DECL_DIR);
			note(ctx, msg);
			d->early = false;
		}
		if (k >= 0 && set->v[k].early) { /* running already, the image's */
			snprintf(msg, sizeof(msg),
				 "%s: from %s ignored: the early unit of %s stays", d->name,
				 d->file, set->v[k].file);
			note(ctx, msg);
			continue;
		}
		if (k < 0) {
			if (decls_append(set, d) < 0) {
				snprintf(msg, sizeof(msg), "%s: %s: out of memory; left out",
					 d->file, d->name);
				note(ctx, msg);
			}
			continue;
		}
		snprintf(msg, sizeof(msg), "%s: from %s replaces the one of %s", d->name, d->file,
			 set->v[k].file);
		note(ctx, msg);
		decl_clear(&set->v[k]);
		set->v[k] = *d;
		memset(d, 0, sizeof(*d));
	}
	for (size_t i = 0; over->environment && over->environment[i]; i++)
		if (decls_env_put(set, over->environment[i]) < 0)
			note(ctx, "environment: out of memory; an entry is left out");
	/* over's left-out names, for the messages of their dependants (deps_check). */
	for (size_t i = 0; over->broken && over->broken[i]; i++)
		decls_note_broken(set, over->broken[i]);
	decls_free(over);
}

void decls_free(struct decls *set)
{
	for (size_t i = 0; i < set->n; i++)
		decl_clear(&set->v[i]);
	free(set->v);
	strv_free(set->broken);
	strv_free(set->environment);
	strv_free(set->errors);
	memset(set, 0, sizeof(*set));
}

/* Copy the entries of from that neither over1 nor over2 (KEY=value vectors) sets. */
static int environ_layer(char **env, size_t *n, const char *const *from, size_t nfrom,
			 char *const *over1, char *const *over2)
{
	for (size_t i = 0; i < nfrom; i++) {
		size_t klen = strcspn(from[i], "=");
		if (env_find(over1, strv_len(over1), from[i], klen) >= 0 ||
		    env_find(over2, strv_len(over2), from[i], klen) >= 0)
			continue; /* set again by a layer above */
		if (!(env[(*n)++] = strdup(from[i])))
			return -1;
	}
	return 0;
}

char **decl_environ(const struct decl *d, char *const *common)
{
	size_t nb = ARRAY_LEN(base_env), nc = strv_len(common), nd = strv_len(d->env), n = 0;
	char **env = calloc(nb + nc + nd + 1, sizeof(*env));

	/* Three layers, each winning over the ones below: base, common, the unit's own. */
	if (!env || environ_layer(env, &n, base_env, nb, common, d->env) < 0 ||
	    environ_layer(env, &n, (const char *const *)common, nc, d->env, NULL) < 0 ||
	    environ_layer(env, &n, (const char *const *)d->env, nd, NULL, NULL) < 0) {
		strv_free(env);
		return NULL;
	}
	return env;
}

const char *kind_name(enum unit_kind k)
{
	switch (k) {
	case KIND_ONESHOT:
		return "oneshot";
	case KIND_CONTAINER:
		return "container";
	case KIND_SERVICE:
		break;
	}
	return "service";
}

const char *restart_name(enum restart r)
{
	switch (r) {
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	case RESTART_NO:
		break;
	}
	return "no";
}

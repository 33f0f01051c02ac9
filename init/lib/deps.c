/*
 * deps.c: the dependency graph of the declared units.
 *
 * Checked once, after every file is read, so that the order of files
 * does not matter. What deps_check() leaves in the set has only known,
 * acyclic dependencies: the unit table can then start a unit as soon as
 * its dependencies meet their conditions, and stop dependants first,
 * without ever meeting a cycle at run time.
 */
#include "decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dctx {
	struct decls *set;
	decl_report_fn *report;
	void *rctx;
	int errors;
	bool *drop;
};

int decls_find(const struct decls *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, name))
			return (int)i;
	return -1;
}

static void say(struct dctx *c, const struct decl *d, int line, int col, const char *fmt,
		const char *a, const char *b)
{
	char msg[768], what[512];

	snprintf(what, sizeof(what), fmt, a, b);
	snprintf(msg, sizeof(msg), "%s:%d:%d: service \"%s\": %s", d->file, line, col, d->name,
		 what);
	c->errors++;
	c->report(c->rctx, msg);
}

static bool is_broken(const struct decls *set, const char *name)
{
	for (size_t i = 0; set->broken && set->broken[i]; i++)
		if (!strcmp(set->broken[i], name))
			return true;
	return false;
}

/* Unknown dependencies, and dependencies on dropped units, until nothing changes. */
static void drop_unmet(struct dctx *c)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < c->set->n; i++) {
			const struct decl *d = &c->set->v[i];

			for (size_t j = 0; !c->drop[i] && j < d->ndeps; j++) {
				const struct dep *p = &d->deps[j];
				int k = p->k;

				if (k >= 0 && !c->drop[k])
					continue;
				if (k >= 0)
					say(c, d, p->line, p->col,
					    "depends on \"%s\", which is not started%s", p->name,
					    "");
				else if (is_broken(c->set, p->name))
					say(c, d, p->line, p->col,
					    "depends on \"%s\", whose declaration has errors%s",
					    p->name, "");
				else
					say(c, d, p->line, p->col, "unknown dependency \"%s\"%s",
					    p->name, "");
				c->drop[i] = changed = true;
			}
		}
	}
}

/* Depth-first search from i; colour 1 on the path, 2 done. Marks cycle members. */
static void visit(struct dctx *c, size_t i, char *colour, size_t *path, size_t depth)
{
	const struct decl *d = &c->set->v[i];

	colour[i] = 1;
	path[depth] = i;
	for (size_t j = 0; j < d->ndeps; j++) {
		int k = d->deps[j].k;

		if (k < 0 || c->drop[k])
			continue;
		if (colour[k] == 1) {
			/* path[x..depth] with k == path[x] is the cycle: name it from each member.
			 */
			char names[400] = "";
			size_t x = depth;
			while (path[x] != (size_t)k)
				x--;
			for (size_t y = x; y <= depth; y++) {
				size_t len = strlen(names);
				snprintf(names + len, sizeof(names) - len, "%s -> ",
					 c->set->v[path[y]].name);
			}
			for (size_t y = x; y <= depth; y++) {
				const struct decl *m = &c->set->v[path[y]];
				if (!c->drop[path[y]])
					say(c, m, m->line, m->col, "dependency cycle: %s%s", names,
					    c->set->v[k].name);
				c->drop[path[y]] = true;
			}
		} else if (colour[k] == 0) {
			visit(c, (size_t)k, colour, path, depth + 1);
		}
	}
	colour[i] = 2;
}

/* Each dependency's unit, looked up once: the checks below then walk a chain
 * of n units in n passes of n, not n of n * n. */
static void find_deps(struct decls *set)
{
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->v[i].ndeps; j++)
			set->v[i].deps[j].k = decls_find(set, set->v[i].deps[j].name);
}

/* The list form means: started, or completed for a oneshot. */
static void resolve_defaults(struct decls *set)
{
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->v[i].ndeps; j++) {
			struct dep *p = &set->v[i].deps[j];
			int k = p->k;

			if (p->cond == DEP_DEFAULT)
				p->cond = k >= 0 && set->v[k].kind == KIND_ONESHOT ? DEP_COMPLETED
										   : DEP_STARTED;
		}
}

static void compact(struct decls *set, const bool *drop)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (drop[i])
			decl_clear(&set->v[i]);
		else
			set->v[n++] = set->v[i];
	}
	set->n = n;
}

int deps_check(struct decls *set, decl_report_fn *report, void *rctx)
{
	struct dctx c = {.set = set, .report = report, .rctx = rctx};
	size_t *path = NULL;
	char *colour = NULL;

	if (set->n == 0)
		return 0;
	c.drop = calloc(set->n, sizeof(*c.drop));
	colour = calloc(set->n, 1);
	path = calloc(set->n, sizeof(*path));
	if (!c.drop || !colour || !path) {
		report(rctx, "dependencies: out of memory");
		c.errors++;
		goto out;
	}
	find_deps(set);
	drop_unmet(&c);
	/* At most n deep: two sets of DECL_MAX_UNITS (ROOT's and provision's), ~1 MiB. */
	for (size_t i = 0; i < set->n; i++)
		if (!colour[i] && !c.drop[i])
			visit(&c, i, colour, path, 0);
	drop_unmet(&c); /* dependants of cycle members */
	resolve_defaults(set);
	compact(set, c.drop);
out:
	free(c.drop);
	free(colour);
	free(path);
	return c.errors;
}

/* An early unit whose dependency is not early (or not declared) waits for the others
 * after all (one report each, counted in *n); deps_early() repeats it until nothing
 * changes, so that their own dependants wait too. */
static void demote_late_deps(struct decls *set, decl_report_fn *report, void *rctx, int *n)
{
	char msg[768];

	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; set->v[i].early && j < set->v[i].ndeps; j++) {
			int k = decls_find(set, set->v[i].deps[j].name);
			if (k >= 0 && set->v[k].early)
				continue;
			snprintf(msg, sizeof(msg),
				 "%s:%d:%d: %s: early, but depends on \"%s\", which is not; "
				 "starts after provisioning",
				 set->v[i].file, set->v[i].line, set->v[i].col, set->v[i].name,
				 set->v[i].deps[j].name);
			report(rctx, msg);
			set->v[i].early = false;
			(*n)++;
		}
}

int deps_early(struct decls *set, decl_report_fn *report, void *rctx)
{
	bool *drop;
	int n = 0, before;

	do {
		before = n;
		demote_late_deps(set, report, rctx, &n);
	} while (n != before);
	if (!(drop = calloc(set->n ? set->n : 1, sizeof(*drop)))) {
		report(rctx, "early units: out of memory; none start early");
		decls_free(set);
		return n + 1;
	}
	for (size_t i = 0; i < set->n; i++)
		drop[i] = !set->v[i].early;
	compact(set, drop);
	free(drop);
	return n;
}

/*
 * dsmeta.c: the datasource's meta-data (meta-data, or the config drive's
 * meta_data.json) copied to the run directory, read here as root and
 * parsed by the unprivileged child (parse/sandbox.c, parse/meta.c), as
 * user-data is: it comes from the same disk or metadata service. The
 * plan's meta record gives the instance-id, host name and public keys. A
 * crash or a plan that does not read costs the meta-data (one warning):
 * the instance-id is then the command line's or none, as with no file.
 * On a normal boot the meta-data goes to the same child as user-data
 * (cloudinit.c, parse_datasource); ds_meta_read() is its own child, for
 * when that one failed.
 */
#include "provision.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[DS_META_FILES] = {"meta-data", "meta_data.json"};

size_t ds_meta_inputs(const char *dir, struct parse_input *in, char (*path)[512], struct ud_sink *w)
{
	size_t n = 0;
	struct err e;
	int len;

	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		char *buf;

		if (fmt_path(path[n], sizeof(path[n]), "%s/%s", dir, names[i]) < 0 ||
		    access(path[n], F_OK) < 0)
			continue;
		if (!(buf = malloc(YAML_MAX_BYTES + 1)) ||
		    (len = read_file(path[n], buf, YAML_MAX_BYTES + 1, &e)) < 0) {
			w->warn(w->ctx, "datasource: %s", buf ? e.msg : "out of memory");
			free(buf);
			continue;
		}
		in[n] = (struct parse_input){.name = path[n], .data = buf, .len = (size_t)len};
		n++;
	}
	return n;
}

void ds_meta_take(const struct ds_meta *m, struct ds_found *f)
{
	if (*m->iid)
		snprintf(f->iid, sizeof(f->iid), "%s", m->iid);
	if (*m->hostname)
		snprintf(f->hostname, sizeof(f->hostname), "%s", m->hostname);
	for (char **k = m->keys; k && *k; k++) {
		size_t len = strv_len(f->keys);
		char **nv = realloc(f->keys, (len + 2) * sizeof(*nv));
		if (!nv)
			break;
		f->keys = nv;
		nv[len] = strdup(*k);
		nv[len + 1] = NULL;
	}
}

void ds_meta_read(const char *dir, struct ds_found *f, struct ud_sink *w)
{
	struct parse_input in[DS_META_FILES];
	char path[DS_META_FILES][512], *out = NULL;
	struct parse_job job = {.meta = in};
	struct parse_plan plan;
	struct err e;
	size_t len;

	if (!(job.nmeta = ds_meta_inputs(dir, in, path, w)))
		return;
	if (sandbox_run(parse_meta, &job, SANDBOX_MS, &out, &len, &e) < 0)
		w->warn(w->ctx, "datasource: meta-data parser %s; meta-data of %s not used", e.msg,
			f->name);
	else if (plan_read(out, len, &plan, &e) < 0)
		w->warn(w->ctx, "datasource: meta-data parser: %s; meta-data of %s not used", e.msg,
			f->name);
	else {
		for (size_t i = 0; i < plan.n; i++)
			if (plan.items[i].kind == PLAN_WARN)
				w->warn(w->ctx, "%s", plan.items[i].text);
		ds_meta_take(&plan.meta, f);
		plan_free(&plan);
	}
	free(out);
	ds_inputs_free(in, job.nmeta);
}

void ds_inputs_free(struct parse_input *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)in[i].data);
}

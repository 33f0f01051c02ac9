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

/* In this order: Azure's IMDS answer names the host and the user after the media's
 * ovf-env.xml, and wins, as in cloud-init's DataSourceAzure. */
static const char *const names[DS_META_FILES] = {"meta-data", "meta_data.json", AZURE_OVF_FILE,
						 AZURE_IMDS_FILE, AZURE_GOALSTATE_FILE};

size_t ds_meta_inputs(const char *dir, struct parse_input *in, char (*path)[512], struct ud_sink *w)
{
	return ds_read_inputs(dir, names, ARRAY_LEN(names), in, path, "datasource: ", "", w);
}

void ds_meta_take(const struct ds_meta *m, struct ds_found *f)
{
	if (*m->iid)
		snprintf(f->iid, sizeof(f->iid), "%s", m->iid);
	if (*m->hostname)
		snprintf(f->hostname, sizeof(f->hostname), "%s", m->hostname);
	for (char **k = m->keys; k && *k; k++)
		f->keys = strv_push(f->keys, *k);
	if (*m->user)
		snprintf(f->user, sizeof(f->user), "%s", m->user);
	if (*m->ready.incarnation)
		f->ready = m->ready;
	f->customdata = f->customdata || m->customdata;
}

void ds_meta_read(const char *dir, struct ds_found *f, struct ud_sink *w)
{
	struct parse_input in[DS_META_FILES];
	char path[DS_META_FILES][512];
	struct parse_job job = {.meta = in};
	struct parse_plan plan;
	struct err e;

	if (!(job.nmeta = ds_meta_inputs(dir, in, path, w)))
		return;
	if (sandbox_plan(parse_meta, &job, &plan, &e) < 0)
		w->warn(w->ctx, "datasource: meta-data %s; meta-data of %s not used", e.msg,
			f->name);
	else {
		for (size_t i = 0; i < plan.n; i++)
			if (plan.items[i].kind == PLAN_WARN)
				w->warn(w->ctx, "%s", plan.items[i].text);
		ds_meta_take(&plan.meta, f);
		plan_free(&plan);
	}
	ds_inputs_free(in, job.nmeta);
}

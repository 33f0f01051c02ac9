/*
 * child.c: what the parser child does with its input (sandbox.c runs it):
 * user-data and vendor-data split into parts (gzip, MIME, base64), each
 * #cloud-config part parsed and its gzip write_files unpacked, the
 * datasource's network configuration and its meta-data parsed (Azure's
 * ovf-env.xml's CustomData is the user-data); all of it,
 * warnings included, written as a plan (plan.c) for provision to apply.
 */
#include "parse.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifdef PARSE_FAULT_INJECT
#include <fcntl.h>
#include <unistd.h>
#endif

struct cstate {
	FILE *f;
	const char *src;     /* the input being split */
	const char *partdir; /* where provision keeps copies of cloud-config parts */
	int nparts;	     /* numbered as provision numbers them: across every input */
};

static void put_msg(FILE *f, const char *rec, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	plan_put_str(f, rec, msg);
}

static void c_warn(void *ctx, const char *fmt, ...)
{
	struct cstate *st = ctx;
	va_list ap;

	va_start(ap, fmt);
	put_msg(st->f, "warn", fmt, ap);
	va_end(ap);
}

static void c_info(void *ctx, const char *fmt, ...)
{
	struct cstate *st = ctx;
	va_list ap;

	va_start(ap, fmt);
	put_msg(st->f, "info", fmt, ap);
	va_end(ap);
}

/* gzip write_files are unpacked here, not by root: a file that does not unpack is dropped. */
static void unpack_files(struct cstate *st, struct cloudcfg *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nfiles; i++) {
		struct cc_file *f = &c->files[i];
		unsigned char *raw;
		size_t len;

		if (f->gzip && gz_unpack(f->content, f->len, YAML_MAX_BYTES, &raw, &len) < 0) {
			c_warn(st, "cloud-config: write_files: %s: not valid gzip; not written",
			       f->path);
			free(f->path), free(f->owner), free(f->content);
			continue;
		}
		if (f->gzip) {
			free(f->content);
			f->content = raw, f->len = len, f->gzip = false;
		}
		c->files[n++] = *f;
	}
	c->nfiles = n;
}

static void cloud_config(struct cstate *st, const char *name, const char *data, size_t len)
{
	bool whole = !strcmp(name, st->src);
	struct ud_sink w = {.ctx = st, .warn = c_warn, .info = c_info};
	struct cloudcfg c;
	char path[512];

	/* the file itself: messages name its lines; a part: the copy provision writes */
	if (whole)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/part-%03d.yaml", st->partdir, st->nparts);
	plan_put_part(st->f, UD_CLOUD_CONFIG, name, whole ? NULL : data, len, whole);
	cloudcfg_parse(path, data, len, &c, &w);
	unpack_files(st, &c);
	plan_put_cloudcfg(st->f, &c);
	plan_put_end(st->f);
	cloudcfg_free(&c);
}

static void c_part(void *ctx, enum ud_kind k, const char *name, const char *data, size_t len)
{
	struct cstate *st = ctx;

	st->nparts++;
	if (k == UD_CLOUD_CONFIG) {
		cloud_config(st, name, data, len);
		return;
	}
	plan_put_part(st->f, k, name, data, len, false);
	plan_put_end(st->f);
}

#ifdef PARSE_FAULT_INJECT
/* Test builds only (tests/unit): a line of the input makes the parser fail on purpose. */
static void fault(FILE *plan, const struct parse_input *in)
{
	if (memmem(in->data, in->len, "wisp-fault: abort", 17))
		abort();
	if (memmem(in->data, in->len, "wisp-fault: segv", 16)) {
		int *volatile nowhere = NULL;
		*nowhere = 1;
	}
	if (memmem(in->data, in->len, "wisp-fault: hang", 16))
		for (volatile unsigned i = 0;; i++) /* unsigned: wraps, no UB */
			;
	if (memmem(in->data, in->len, "wisp-fault: open", 16))
		open("/etc/passwd", O_RDONLY); /* seccomp: SIGSYS */
	if (memmem(in->data, in->len, "wisp-fault: garbage", 19))
		plan_put(plan, "user.name", "bob", 3); /* outside a user: the reader refuses */
}
#endif

static void split(struct ud_sink *s, const char *name, const char *data, size_t len)
{
	if (ud_detect(data, len) == UD_GZIP)
		ud_split_gzip(name, data, len, s);
	else
		ud_split(name, data, len, s);
}

static bool is_userdata(const char *name)
{
	const char *base = strrchr(name, '/');
	return !strcmp(base ? base + 1 : name, "user-data");
}

/*
 * The inputs in order; with an ovf-env.xml's CustomData (m->userdata), that is the
 * user-data and the datasource's user-data file (IMDS's userData) is not read, as
 * cloud-init's DataSourceAzure reads IMDS's userData only without CustomData. Its
 * parts are named "<ovf-env.xml>: CustomData", not the file: a cloud-config part is
 * kept as a copy (part-NNN.yaml), whose lines its messages name.
 */
static void split_inputs(FILE *plan, const struct parse_job *job, const struct ds_meta *m,
			 const char *ovf)
{
	struct cstate st = {.f = plan, .partdir = job->partdir, .nparts = job->nparts};
	struct ud_sink s = {.ctx = &st, .part = c_part, .warn = c_warn, .info = c_info};
	char name[600];

	for (size_t i = 0; i < job->n; i++) {
		const struct parse_input *in = &job->in[i];
#ifdef PARSE_FAULT_INJECT
		fault(plan, in);
#endif
		if (m && m->userdata && is_userdata(in->name)) {
			c_info(&st, "%s: not read: %s's CustomData is the user-data", in->name,
			       ovf);
			continue;
		}
		st.src = in->name;
		split(&s, in->name, in->data, in->len);
	}
	if (m && m->userdata) {
		snprintf(name, sizeof(name), "%s: CustomData", ovf);
		st.src = ovf;
#ifdef PARSE_FAULT_INJECT
		fault(plan,
		      &(struct parse_input){name, (const char *)m->userdata, m->userdata_len});
#endif
		split(&s, name, (const char *)m->userdata, m->userdata_len);
	}
}

void parse_userdata(FILE *plan, void *arg)
{
	split_inputs(plan, arg, NULL, NULL);
}

void parse_network(FILE *plan, void *arg)
{
	const struct parse_input *in = arg;
	struct cstate st = {.f = plan, .src = in->name};
	struct ud_sink w = {.ctx = &st, .warn = c_warn, .info = c_info};
	struct netcfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg) {
		c_warn(&st, "%s: network: out of memory", in->name);
		return;
	}
	if (netcfg_parse_ds(in->name, in->data, in->len, cfg, &w) == 0)
		plan_put_netcfg(plan, cfg);
	free(cfg);
}

/* The meta-data files of job into m; their warnings go into the plan first. The name
 * of the one that gave CustomData, or NULL. */
static const char *meta_files(FILE *plan, const struct parse_job *job, struct ds_meta *m)
{
	struct cstate st = {.f = plan};
	struct ud_sink w = {.ctx = &st, .warn = c_warn, .info = c_info};
	const char *ovf = NULL;

	for (size_t i = 0; i < job->nmeta; i++) {
#ifdef PARSE_FAULT_INJECT
		fault(plan, &job->meta[i]);
#endif
		meta_parse(job->meta[i].name, job->meta[i].data, job->meta[i].len, m, &w);
		if (m->userdata && !ovf)
			ovf = job->meta[i].name;
	}
	m->customdata = ovf != NULL;
	return ovf;
}

void parse_meta(FILE *plan, void *arg)
{
	struct ds_meta m = {0};

	meta_files(plan, arg, &m);
	plan_put_meta(plan, &m);
	meta_free(&m);
}

static void quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx, (void)fmt;
}

/* The meta-data read again for its CustomData only: its warnings were parse_meta's, and
 * none of the files that are not Azure's provisioning media is read. */
void parse_customdata(FILE *plan, void *arg)
{
	const struct parse_job *job = arg;
	struct parse_job none = {.partdir = job->partdir, .nparts = job->nparts};
	struct ud_sink w = {.warn = quiet};
	struct ds_meta m = {0};
	const char *ovf = NULL;

	for (size_t i = 0; i < job->nmeta && !ovf; i++) {
		const char *base = strrchr(job->meta[i].name, '/');
		if (strcmp(base ? base + 1 : job->meta[i].name, AZURE_OVF_FILE))
			continue;
		meta_parse(job->meta[i].name, job->meta[i].data, job->meta[i].len, &m, &w);
		ovf = job->meta[i].name;
	}
	if (m.userdata)
		split_inputs(plan, &none, &m, ovf);
	meta_free(&m);
}

void parse_datasource(FILE *plan, void *arg)
{
	struct ds_meta m = {0};

	const char *ovf = meta_files(plan, arg, &m);

	split_inputs(plan, arg, &m, ovf);
	plan_put_meta(plan, &m); /* last: a meta record is open until "done" */
	meta_free(&m);
}

/* runtime/spec.c: config.json -> struct cl_spec. Every type error names the JSON
 * path: "config.json: .process.args: expected an array of strings". */
#include "cl-private.h"
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/personality.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define TYPE_ERR(e, path, what) cl_error(e, 0, "config.json: %s: expected %s", path, what)

/* An optional member: NULL when absent or null (JSON null means unset). */
static json_t *member(json_t *o, const char *key)
{
	json_t *v = o ? json_object_get(o, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

static int get_obj(json_t *o, const char *key, const char *path, json_t **out, struct cl_err *e)
{
	json_t *v = member(o, key);

	*out = NULL;
	if (v && !json_is_object(v))
		return TYPE_ERR(e, path, "an object");
	*out = v;
	return 0;
}

static int get_str(json_t *o, const char *key, const char *path, char **out, struct cl_err *e)
{
	json_t *v = member(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return TYPE_ERR(e, path, "a string");
	free(*out);
	*out = cl_strdup(json_string_value(v));
	return 0;
}

static int get_bool(json_t *o, const char *key, const char *path, bool *out, struct cl_err *e)
{
	json_t *v = member(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return TYPE_ERR(e, path, "a boolean");
	*out = json_is_true(v);
	return 0;
}

/* Integers above INT64_MAX (RLIM_INFINITY as 18446744073709551615 is
 * common) make jansson fail unless it decodes every integer as a double:
 * cl_spec_parse then does so, and whole doubles count as integers. */
static bool whole(json_t *v, double lo, double hi, double *out)
{
	double d;

	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return false;
	if (d != d)
		return false; /* NaN */
	/* doubles beyond 2^53 are all whole; below, the cast is defined */
	if (d > -9007199254740992.0 && d < 9007199254740992.0 && d != (double)(long long)d)
		return false;
	*out = d;
	return d >= lo && d <= hi;
}

/* An integer in [lo, hi]; HAS (optional) says whether it was there. */
static int get_int(json_t *o, const char *key, const char *path, long long lo, long long hi,
		   long long *out, bool *has, struct cl_err *e)
{
	json_t *v = member(o, key);
	double d;

	if (has)
		*has = v != NULL;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < lo || json_integer_value(v) > hi)
			return cl_error(e, 0, "config.json: %s: %lld out of range [%lld, %lld]",
					path, (long long)json_integer_value(v), lo, hi);
		*out = json_integer_value(v);
		return 0;
	}
	if (!whole(v, -9.3e18, 9.3e18, &d))
		return TYPE_ERR(e, path, "an integer");
	if (d < (double)lo || d > (double)hi)
		return cl_error(e, 0, "config.json: %s: %.0f out of range [%lld, %lld]", path, d,
				lo, hi);
	*out = (long long)d;
	return 0;
}

static int get_u64(json_t *o, const char *key, const char *path, uint64_t *out, struct cl_err *e)
{
	json_t *v = member(o, key);
	double d;

	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && whole(v, 0, 18446744073709551615.0, &d)) {
		*out = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
		return 0;
	}
	return TYPE_ERR(e, path, "an unsigned integer");
}

static int get_strv(json_t *o, const char *key, const char *path, struct cl_strv *out,
		    struct cl_err *e)
{
	json_t *v = member(o, key);
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return TYPE_ERR(e, path, "an array of strings");
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			return TYPE_ERR(e, path, "an array of strings");
	cl_strv_free(out);
	/* NULL-terminated: args and env go to execve as they are */
	out->v = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!out->v)
		abort();
	for (i = 0; i < json_array_size(v); i++)
		out->v[out->n++] = cl_strdup(json_string_value(json_array_get(v, i)));
	return 0;
}

/* A {"k": "v"} object flattened into k0, v0, k1, v1... */
static int get_strmap(json_t *o, const char *key, const char *path, struct cl_strv *out,
		      struct cl_err *e)
{
	json_t *v, *val;
	const char *k;

	if (get_obj(o, key, path, &v, e) < 0)
		return -1;
	if (!v)
		return 0;
	out->v = calloc(2 * json_object_size(v) + 1, sizeof(char *));
	if (!out->v)
		abort();
	json_object_foreach(v, k, val)
	{
		if (!json_is_string(val))
			return TYPE_ERR(e, path, "an object of strings");
		out->v[out->n++] = cl_strdup(k);
		out->v[out->n++] = cl_strdup(json_string_value(val));
	}
	return 0;
}

/* An array of objects: calls ONE for each with its path ".x[i]". */
typedef int (*each_fn)(json_t *item, const char *path, size_t i, void *arg, struct cl_err *e);

static int each_obj(json_t *o, const char *key, const char *path, each_fn one, void *arg,
		    size_t *count, struct cl_err *e)
{
	json_t *v = member(o, key), *it;
	char p[256];
	size_t i;

	*count = 0;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return TYPE_ERR(e, path, "an array of objects");
	*count = json_array_size(v);
	json_array_foreach(v, i, it)
	{
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(it))
			return TYPE_ERR(e, p, "an object");
		if (one(it, p, i, arg, e) < 0)
			return -1;
	}
	return 0;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

/* --- process -------------------------------------------------------------- */

static int caps_set(json_t *caps, const char *key, uint64_t *out, struct cl_err *e)
{
	char path[64];
	struct cl_strv v = {0};
	int ret = 0;

	snprintf(path, sizeof(path), ".process.capabilities.%s", key);
	if (get_strv(caps, key, path, &v, e) < 0)
		return -1;
	*out = 0;
	for (size_t i = 0; i < v.n && ret == 0; i++) {
		int c = cl_cap_from_name(v.v[i]);
		if (c < 0)
			ret =
			    cl_error(e, 0, "config.json: %s: unknown capability %s", path, v.v[i]);
		else
			*out |= 1ULL << c;
	}
	cl_strv_free(&v);
	return ret;
}

static int one_rlimit(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_rlimit *r = &((struct cl_rlimit *)arg)[i];
	char *type = NULL;
	int ret = 0;

	if (get_str(it, "type", path, &type, e) < 0)
		return -1;
	r->type = type ? cl_rlimit_from_name(type) : -1;
	if (r->type < 0)
		ret = cl_error(e, 0, "config.json: %s.type: unknown rlimit %s", path,
			       type ? type : "(missing)");
	free(type);
	if (ret == 0 && (get_u64(it, "soft", path, &r->soft, e) < 0 ||
			 get_u64(it, "hard", path, &r->hard, e) < 0))
		ret = -1;
	return ret;
}

static int parse_user(json_t *proc, struct cl_spec *s, struct cl_err *e)
{
	json_t *u, *g, *it;
	long long v;
	bool has;
	size_t i;

	if (get_obj(proc, "user", ".process.user", &u, e) < 0)
		return -1;
	if (!u)
		return 0;
	if (get_int(u, "uid", ".process.user.uid", 0, UINT32_MAX, &v, &has, e) < 0)
		return -1;
	s->uid = has ? (uint32_t)v : 0;
	if (get_int(u, "gid", ".process.user.gid", 0, UINT32_MAX, &v, &has, e) < 0)
		return -1;
	s->gid = has ? (uint32_t)v : 0;
	if (get_int(u, "umask", ".process.user.umask", 0, 0777, &v, &s->has_umask, e) < 0)
		return -1;
	if (s->has_umask)
		s->umask = (uint32_t)v;
	g = member(u, "additionalGids");
	if (!g)
		return 0;
	if (!json_is_array(g))
		return TYPE_ERR(e, ".process.user.additionalGids", "an array of integers");
	s->add_gids = xcalloc(json_array_size(g), sizeof(uint32_t));
	json_array_foreach(g, i, it)
	{
		double d;
		if (!whole(it, 0, UINT32_MAX, &d))
			return TYPE_ERR(e, ".process.user.additionalGids",
					"an array of integers in [0, 4294967295]");
		s->add_gids[s->nadd_gids++] = (uint32_t)d;
	}
	return 0;
}

static int parse_console_size(json_t *p, struct cl_spec *s, struct cl_err *e)
{
	json_t *cs;
	long long h = 0, w = 0;
	bool has;

	if (get_obj(p, "consoleSize", ".process.consoleSize", &cs, e) < 0 ||
	    get_int(cs, "height", ".process.consoleSize.height", 0, UINT16_MAX, &h, &has, e) < 0 ||
	    get_int(cs, "width", ".process.consoleSize.width", 0, UINT16_MAX, &w, &has, e) < 0)
		return -1;
	s->console_height = (uint16_t)h;
	s->console_width = (uint16_t)w;
	return 0;
}

/* No LSM is applied: a profile or label asked for is refused, never
 * silently dropped, here in the decoder so that exec's process.json gets
 * the same refusal as config.json. An empty string asks for nothing. */
static int refuse_label(json_t *obj, const char *key, const char *path, struct cl_err *e)
{
	char *v = NULL;
	int ret = get_str(obj, key, path, &v, e);

	if (ret == 0 && v && v[0])
		ret = cl_error(e, 0, "config.json: %s: %s: not supported (no LSM)", path, v);
	free(v);
	return ret;
}

/* linux.mountLabel labels mounts for SELinux: where the kernel runs no
 * SELinux a label has nothing to act on and is ignored, as runc and crun
 * do (specs written on SELinux hosts carry one); where SELinux runs, we
 * cannot apply it and refuse. */
static int mount_label(json_t *lin, struct cl_err *e)
{
	char *v = NULL;
	int ret = get_str(lin, "mountLabel", ".linux.mountLabel", &v, e);
	bool set = ret == 0 && v && v[0];

	free(v);
	/* a label's type is checked always; SELinux asked only when one is set */
	if (!set || access("/sys/fs/selinux/enforce", F_OK) < 0)
		return ret;
	return refuse_label(lin, "mountLabel", ".linux.mountLabel", e);
}

static int parse_process(json_t *root, struct cl_spec *s, struct cl_err *e)
{
	static const char *const sets[5] = {"bounding", "effective", "inheritable", "permitted",
					    "ambient"};
	json_t *p, *caps;
	long long v;
	json_t *rl;

	s->umask = 022; /* runc's default */
	if (get_obj(root, "process", ".process", &p, e) < 0)
		return -1;
	if (!p)
		return cl_error(e, 0, "config.json: .process: missing");
	if (get_strv(p, "args", ".process.args", &s->args, e) < 0 ||
	    get_strv(p, "env", ".process.env", &s->env, e) < 0 ||
	    get_str(p, "cwd", ".process.cwd", &s->cwd, e) < 0 ||
	    get_bool(p, "terminal", ".process.terminal", &s->terminal, e) < 0 ||
	    get_bool(p, "noNewPrivileges", ".process.noNewPrivileges", &s->no_new_privs, e) < 0 ||
	    get_int(p, "oomScoreAdj", ".process.oomScoreAdj", -1000, 1000, &v,
		    &s->has_oom_score_adj, e) < 0 ||
	    refuse_label(p, "apparmorProfile", ".process.apparmorProfile", e) < 0 ||
	    refuse_label(p, "selinuxLabel", ".process.selinuxLabel", e) < 0 ||
	    parse_user(p, s, e) < 0 || parse_console_size(p, s, e) < 0)
		return -1;
	if (s->has_oom_score_adj)
		s->oom_score_adj = (int)v;
	if (s->args.n == 0)
		return cl_error(e, 0, "config.json: .process.args: must name a program");
	if (!s->cwd)
		s->cwd = cl_strdup("/");
	if (s->cwd[0] != '/')
		return cl_error(e, 0, "config.json: .process.cwd: %s is not absolute", s->cwd);
	if (get_obj(p, "capabilities", ".process.capabilities", &caps, e) < 0)
		return -1;
	for (int i = 0; caps && i < 5; i++)
		if (caps_set(caps, sets[i], &s->caps[i], e) < 0)
			return -1;
	rl = member(p, "rlimits");
	s->rlimits = xcalloc(json_is_array(rl) ? json_array_size(rl) : 1, sizeof(struct cl_rlimit));
	return each_obj(p, "rlimits", ".process.rlimits", one_rlimit, s->rlimits, &s->nrlimits, e);
}

/* --- mounts ----------------------------------------------------------------- */

struct mount_opt {
	const char *name;
	bool clear;
	unsigned long flag;
};

static const struct mount_opt mount_opts[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

static const struct mount_opt propagation_opts[] = {
    {"shared", false, MS_SHARED},	  {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},		  {"rslave", false, MS_SLAVE | MS_REC},
    {"private", false, MS_PRIVATE},	  {"rprivate", false, MS_PRIVATE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

int cl_propagation_from_name(const char *name, unsigned long *out);
int cl_propagation_from_name(const char *name, unsigned long *out)
{
	for (size_t i = 0; i < sizeof(propagation_opts) / sizeof(propagation_opts[0]); i++)
		if (strcmp(name, propagation_opts[i].name) == 0) {
			*out = propagation_opts[i].flag;
			return 0;
		}
	return -1;
}

static void add_data(struct cl_mount *m, const char *opt)
{
	size_t old = m->data ? strlen(m->data) : 0;

	m->data = realloc(m->data, old + strlen(opt) + 2);
	if (!m->data)
		abort();
	sprintf(m->data + old, "%s%s", old ? "," : "", opt);
}

/* Every option is taken: what is not a flag, a propagation or rro is the
 * filesystem's data. rro (runc's) is read-only on every submount of a
 * bind too, not on its top alone (mounts.c). */
static void mount_option(struct cl_mount *m, const char *opt)
{
	for (size_t i = 0; i < sizeof(mount_opts) / sizeof(mount_opts[0]); i++) {
		if (strcmp(opt, mount_opts[i].name) != 0)
			continue;
		if (mount_opts[i].clear)
			m->flags &= ~mount_opts[i].flag;
		else
			m->flags |= mount_opts[i].flag;
		if (mount_opts[i].flag & MS_BIND)
			m->bind = true;
		return;
	}
	if (strcmp(opt, "rro") == 0)
		m->rro = true;
	else if (cl_propagation_from_name(opt, &m->propagate) != 0)
		add_data(m, opt);
}

static int one_idmap(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e);

/* mounts[i].uidMappings and gidMappings: an idmapped bind mount */
static int mount_idmaps(json_t *it, const char *path, struct cl_mount *m, struct cl_err *e)
{
	json_t *u = member(it, "uidMappings"), *g = member(it, "gidMappings");
	char p[300];

	if (!u && !g)
		return 0;
	m->uid_maps = xcalloc(json_is_array(u) ? json_array_size(u) : 1, sizeof(struct cl_idmap));
	m->gid_maps = xcalloc(json_is_array(g) ? json_array_size(g) : 1, sizeof(struct cl_idmap));
	snprintf(p, sizeof(p), "%s.uidMappings", path);
	if (each_obj(it, "uidMappings", p, one_idmap, m->uid_maps, &m->nuid_maps, e) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.gidMappings", path);
	if (each_obj(it, "gidMappings", p, one_idmap, m->gid_maps, &m->ngid_maps, e) < 0)
		return -1;
	if (!m->nuid_maps || !m->ngid_maps)
		return cl_error(e, 0,
				"config.json: %s: an idmapped mount needs uidMappings and "
				"gidMappings",
				path);
	if (!m->bind)
		return cl_error(e, 0, "config.json: %s: idmapped mounts are bind mounts only",
				path);
	m->idmapped = true;
	return 0;
}

static int one_mount(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_mount *m = &((struct cl_mount *)arg)[i];
	struct cl_strv opts = {0};
	char p[300];

	snprintf(p, sizeof(p), "%s.destination", path);
	if (get_str(it, "destination", p, &m->dest, e) < 0)
		return -1;
	if (!m->dest || m->dest[0] != '/')
		return cl_error(e, 0, "config.json: %s: must be an absolute path", p);
	snprintf(p, sizeof(p), "%s.type", path);
	if (get_str(it, "type", p, &m->type, e) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.source", path);
	if (get_str(it, "source", p, &m->source, e) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.options", path);
	if (get_strv(it, "options", p, &opts, e) < 0)
		return -1;
	for (size_t k = 0; k < opts.n; k++)
		mount_option(m, opts.v[k]);
	cl_strv_free(&opts);
	/* read-only whatever the order: a later "rw" does not undo rro */
	if (m->rro)
		m->flags |= MS_RDONLY;
	if (m->type && strcmp(m->type, "bind") == 0)
		m->bind = true;
	if (!m->type && !m->bind)
		return cl_error(
		    e, 0, "config.json: %s.type: missing for a mount that is not a bind", path);
	if (m->bind && !m->source)
		return cl_error(e, 0, "config.json: %s.source: missing for a bind mount", path);
	return mount_idmaps(it, path, m, e);
}

/* --- linux ------------------------------------------------------------------ */

static int one_ns(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_spec *s = arg;
	struct cl_ns *n = &s->ns[i];
	char *type = NULL;
	int ret = 0;

	n->fd = -1;
	if (get_str(it, "type", path, &type, e) < 0 || get_str(it, "path", path, &n->path, e) < 0) {
		free(type);
		return -1;
	}
	n->type = type ? cl_ns_from_name(type) : -1;
	if (n->type < 0)
		ret = cl_error(e, 0, "config.json: %s.type: unknown namespace type %s", path,
			       type ? type : "(missing)");
	for (size_t k = 0; ret == 0 && k < i; k++)
		if (s->ns[k].type == n->type)
			ret = cl_error(e, 0, "config.json: %s.type: namespace %s listed twice",
				       path, type);
	if (ret == 0 && !n->path)
		s->ns_flags |= n->type;
	free(type);
	return ret;
}

static int one_idmap(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_idmap *m = &((struct cl_idmap *)arg)[i];
	long long c, h, sz;
	bool hc, hh, hs;

	if (get_int(it, "containerID", path, 0, UINT32_MAX, &c, &hc, e) < 0 ||
	    get_int(it, "hostID", path, 0, UINT32_MAX, &h, &hh, e) < 0 ||
	    get_int(it, "size", path, 1, UINT32_MAX, &sz, &hs, e) < 0)
		return -1;
	if (!hc || !hh || !hs)
		return cl_error(e, 0, "config.json: %s: needs containerID, hostID and size", path);
	m->container = (uint32_t)c;
	m->host = (uint32_t)h;
	m->size = (uint32_t)sz;
	return 0;
}

static int one_device(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_device *d = &((struct cl_device *)arg)[i];
	long long maj = 0, min = 0, mode = 0666, uid = 0, gid = 0;
	char *type = NULL;
	bool has;
	int ret = 0;

	if (get_str(it, "path", path, &d->path, e) < 0 || get_str(it, "type", path, &type, e) < 0 ||
	    get_int(it, "major", path, 0, UINT32_MAX, &maj, &has, e) < 0 ||
	    get_int(it, "minor", path, 0, UINT32_MAX, &min, &has, e) < 0 ||
	    get_int(it, "fileMode", path, 0, 07777, &mode, &has, e) < 0 ||
	    get_int(it, "uid", path, 0, UINT32_MAX, &uid, &has, e) < 0 ||
	    get_int(it, "gid", path, 0, UINT32_MAX, &gid, &has, e) < 0) {
		free(type);
		return -1;
	}
	if (!d->path || d->path[0] != '/')
		ret = cl_error(e, 0, "config.json: %s.path: must be an absolute path", path);
	else if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
		ret = cl_error(e, 0, "config.json: %s.type: expected c, b, u or p", path);
	else
		d->type = type[0] == 'u' ? 'c' : type[0];
	d->major = (uint32_t)maj;
	d->minor = (uint32_t)min;
	d->mode = (uint32_t)mode;
	d->uid = (uint32_t)uid;
	d->gid = (uint32_t)gid;
	free(type);
	return ret;
}

static int one_sc_arg(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_sc_arg *a = &((struct cl_sc_arg *)arg)[i];
	char *op = NULL;
	long long idx;
	bool has;

	if (get_int(it, "index", path, 0, 5, &idx, &has, e) < 0 ||
	    get_u64(it, "value", path, &a->value, e) < 0 ||
	    get_u64(it, "valueTwo", path, &a->value2, e) < 0 || get_str(it, "op", path, &op, e) < 0)
		goto fail;
	a->index = (unsigned)idx;
	a->op = op ? cl_seccomp_op(op) : -1;
	if (a->op < 0) {
		cl_error(e, 0, "config.json: %s.op: unknown operator %s", path,
			 op ? op : "(missing)");
		goto fail;
	}
	free(op);
	return 0;
fail:
	free(op);
	return -1;
}

/* SCMP_ACT_NOTIFY is known but needs a listener socket (not yet): refused
 * by name rather than called unknown. */
static int bad_action(struct cl_err *e, const char *path, const char *action)
{
	if (action && strcmp(action, "SCMP_ACT_NOTIFY") == 0)
		return cl_error(e, 0, "config.json: %s: SCMP_ACT_NOTIFY: not supported", path);
	return cl_error(e, 0, "config.json: %s: unknown action %s", path,
			action ? action : "(missing)");
}

static int one_sc_rule(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_seccomp *sc = arg;
	struct cl_sc_rule *r = &sc->rules[i];
	char *action = NULL, p[300];
	long long eret = 1;
	bool has_eret;
	json_t *args = member(it, "args");
	int ret = -1;

	snprintf(p, sizeof(p), "%s.names", path);
	if (get_strv(it, "names", p, &r->names, e) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.action", path);
	if (get_str(it, "action", p, &action, e) < 0)
		return -1;
	if (get_int(it, "errnoRet", path, 0, 4095, &eret, &has_eret, e) < 0)
		goto out;
	if (!action ||
	    cl_seccomp_action(action, has_eret ? (uint32_t)eret : EPERM, &r->action) < 0) {
		bad_action(e, p, action);
		goto out;
	}
	r->args = xcalloc(json_is_array(args) ? json_array_size(args) : 1, sizeof(*r->args));
	snprintf(p, sizeof(p), "%s.args", path);
	ret = each_obj(it, "args", p, one_sc_arg, r->args, &r->nargs, e);
out:
	free(action);
	return ret;
}

static int parse_seccomp(json_t *lin, struct cl_spec *s, struct cl_err *e)
{
	json_t *sc, *rules;
	char *def = NULL;
	long long eret = EPERM;
	bool has;
	struct cl_strv flags = {0};
	int ret = -1;

	if (get_obj(lin, "seccomp", ".linux.seccomp", &sc, e) < 0)
		return -1;
	if (!sc)
		return 0;
	s->seccomp = xcalloc(1, sizeof(*s->seccomp));
	if (get_str(sc, "defaultAction", ".linux.seccomp.defaultAction", &def, e) < 0 ||
	    get_int(sc, "defaultErrnoRet", ".linux.seccomp.defaultErrnoRet", 0, 4095, &eret, &has,
		    e) < 0 ||
	    get_strv(sc, "architectures", ".linux.seccomp.architectures", &s->seccomp->arches, e) <
		0 ||
	    get_strv(sc, "flags", ".linux.seccomp.flags", &flags, e) < 0)
		goto out;
	if (!def || cl_seccomp_action(def, (uint32_t)eret, &s->seccomp->default_action) < 0) {
		bad_action(e, ".linux.seccomp.defaultAction", def);
		goto out;
	}
	for (size_t i = 0; i < flags.n; i++) {
		if (strcmp(flags.v[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
			s->seccomp->flags |= CL_SC_FLAG_LOG;
		else if (strcmp(flags.v[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			s->seccomp->flags |= CL_SC_FLAG_SPEC_ALLOW;
		else if (strcmp(flags.v[i], "SECCOMP_FILTER_FLAG_TSYNC") != 0) {
			/* TSYNC: the container process has one thread anyway */
			cl_error(e, 0, "config.json: .linux.seccomp.flags: unknown flag %s",
				 flags.v[i]);
			goto out;
		}
	}
	rules = member(sc, "syscalls");
	s->seccomp->rules =
	    xcalloc(json_is_array(rules) ? json_array_size(rules) : 1, sizeof(struct cl_sc_rule));
	ret = each_obj(sc, "syscalls", ".linux.seccomp.syscalls", one_sc_rule, s->seccomp,
		       &s->seccomp->nrules, e);
out:
	free(def);
	cl_strv_free(&flags);
	return ret;
}

static int parse_i64(json_t *o, const char *key, const char *path, int64_t *out, struct cl_err *e)
{
	long long v;
	bool has;

	if (get_int(o, key, path, INT64_MIN, INT64_MAX, &v, &has, e) < 0)
		return -1;
	if (has)
		*out = v;
	return 0;
}

/* linux.resources.devices[i]: {allow, type, major, minor, access} */
static int one_dev_rule(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_dev_rule *d = &((struct cl_dev_rule *)arg)[i];
	long long maj = -1, min = -1;
	char *type = NULL, *access = NULL;
	bool has;
	int ret = 0;

	d->type = 'a';
	d->access = CL_DEV_MKNOD | CL_DEV_READ | CL_DEV_WRITE;
	if (get_bool(it, "allow", path, &d->allow, e) < 0 ||
	    get_str(it, "type", path, &type, e) < 0 ||
	    get_str(it, "access", path, &access, e) < 0 ||
	    get_int(it, "major", path, -1, UINT32_MAX, &maj, &has, e) < 0 ||
	    get_int(it, "minor", path, -1, UINT32_MAX, &min, &has, e) < 0)
		ret = -1;
	else if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
		ret = cl_error(e, 0, "config.json: %s.type: expected a, c or b", path);
	else if (access && (!access[0] || access[strspn(access, "rwm")]))
		ret = cl_error(e, 0, "config.json: %s.access: expected letters of rwm", path);
	if (ret == 0 && type)
		d->type = type[0];
	if (ret == 0 && access)
		d->access = (strchr(access, 'r') ? CL_DEV_READ : 0) |
			    (strchr(access, 'w') ? CL_DEV_WRITE : 0) |
			    (strchr(access, 'm') ? CL_DEV_MKNOD : 0);
	d->major = maj;
	d->minor = min;
	free(type);
	free(access);
	return ret;
}

/* linux.resources.network sets net_cls and net_prio, two cgroup v1
 * controllers cgroup v2 has no counterpart of: refused, never dropped
 * (crun refuses too; match their traffic with nftables' socket cgroupv2). */
static int refuse_network(json_t *res, struct cl_err *e)
{
	json_t *net;

	if (get_obj(res, "network", ".linux.resources.network", &net, e) < 0)
		return -1;
	if (net && ((member(net, "classID") && !json_is_null(member(net, "classID"))) ||
		    json_array_size(member(net, "priorities")) > 0))
		return cl_error(e, 0,
				"config.json: .linux.resources.network: net_cls and net_prio "
				"are cgroup v1 controllers, absent in cgroup v2");
	return 0;
}

static int parse_resources(json_t *lin, struct cl_spec *s, struct cl_err *e)
{
	struct cl_resources *r = &s->res;
	json_t *res, *mem, *cpu, *pids, *blk;
	long long v;
	bool has;

	r->mem_limit = r->mem_reservation = r->mem_swap = r->cpu_quota = r->pids_limit = -2;
	if (get_obj(lin, "resources", ".linux.resources", &res, e) < 0)
		return -1;
	if (!res)
		return 0;
	if (get_obj(res, "memory", ".linux.resources.memory", &mem, e) < 0 ||
	    get_obj(res, "cpu", ".linux.resources.cpu", &cpu, e) < 0 ||
	    get_obj(res, "pids", ".linux.resources.pids", &pids, e) < 0 ||
	    get_obj(res, "blockIO", ".linux.resources.blockIO", &blk, e) < 0 ||
	    parse_i64(mem, "limit", ".linux.resources.memory.limit", &r->mem_limit, e) < 0 ||
	    parse_i64(mem, "reservation", ".linux.resources.memory.reservation",
		      &r->mem_reservation, e) < 0 ||
	    parse_i64(mem, "swap", ".linux.resources.memory.swap", &r->mem_swap, e) < 0 ||
	    get_u64(cpu, "shares", ".linux.resources.cpu.shares", &r->cpu_shares, e) < 0 ||
	    get_u64(cpu, "period", ".linux.resources.cpu.period", &r->cpu_period, e) < 0 ||
	    parse_i64(cpu, "quota", ".linux.resources.cpu.quota", &r->cpu_quota, e) < 0 ||
	    get_str(cpu, "cpus", ".linux.resources.cpu.cpus", &r->cpus, e) < 0 ||
	    get_str(cpu, "mems", ".linux.resources.cpu.mems", &r->mems, e) < 0 ||
	    parse_i64(pids, "limit", ".linux.resources.pids.limit", &r->pids_limit, e) < 0 ||
	    get_int(blk, "weight", ".linux.resources.blockIO.weight", 10, 1000, &v, &has, e) < 0 ||
	    get_strmap(res, "unified", ".linux.resources.unified", &r->unified, e) < 0 ||
	    refuse_network(res, e) < 0)
		return -1;
	if (has)
		r->blkio_weight = (uint16_t)v;
	v = (long long)json_array_size(member(res, "devices"));
	r->dev_rules = xcalloc(v ? (size_t)v : 1, sizeof(struct cl_dev_rule));
	r->has_dev_rules = member(res, "devices") != NULL;
	if (each_obj(res, "devices", ".linux.resources.devices", one_dev_rule, r->dev_rules,
		     &r->ndev_rules, e) < 0)
		return -1;
	s->has_resources = true;
	return 0;
}

/* linux.timeOffsets: {"monotonic": {"secs": N, "nanosecs": M}, "boottime": ...} */
static int parse_time_offsets(json_t *lin, struct cl_spec *s, struct cl_err *e)
{
	static const char *const clocks[CL_TIME_CLOCKS] = {"monotonic", "boottime"};
	json_t *t, *v;
	const char *k;
	char path[96];

	if (get_obj(lin, "timeOffsets", ".linux.timeOffsets", &t, e) < 0)
		return -1;
	if (!t)
		return 0;
	json_object_foreach(t, k, v)
	{
		int c = strcmp(k, clocks[0]) == 0 ? 0 : strcmp(k, clocks[1]) == 0 ? 1 : -1;
		struct cl_time_offset *o = &s->time_offsets[c < 0 ? 0 : c];
		long long secs = 0, ns = 0;
		bool has;

		snprintf(path, sizeof(path), ".linux.timeOffsets.%.40s", k);
		if (c < 0)
			return cl_error(
			    e, 0, "config.json: %s: unknown clock (monotonic or boottime)", path);
		if (!json_is_object(v))
			return TYPE_ERR(e, path, "an object");
		if (get_int(v, "secs", path, INT64_MIN, INT64_MAX, &secs, &has, e) < 0 ||
		    get_int(v, "nanosecs", path, 0, 999999999, &ns, &has, e) < 0)
			return -1;
		*o = (struct cl_time_offset){true, secs, (uint32_t)ns};
	}
	if (!(s->ns_flags & CLONE_NEWTIME))
		return cl_error(e, 0,
				"config.json: .linux.timeOffsets: given without a new time "
				"namespace");
	return 0;
}

/* linux.personality: runc's two domains; flags are not defined by runc either. */
static int parse_personality(json_t *lin, struct cl_spec *s, struct cl_err *e)
{
	char *domain = NULL;
	json_t *p;
	int ret = 0;

	if (get_obj(lin, "personality", ".linux.personality", &p, e) < 0)
		return -1;
	if (!p)
		return 0;
	if (get_str(p, "domain", ".linux.personality.domain", &domain, e) < 0)
		return -1;
	if (domain && strcmp(domain, "LINUX") == 0)
		s->personality = PER_LINUX;
	else if (domain && strcmp(domain, "LINUX32") == 0)
		s->personality = PER_LINUX32;
	else
		ret =
		    cl_error(e, 0, "config.json: .linux.personality.domain: %s (LINUX or LINUX32)",
			     domain ? domain : "missing");
	if (ret == 0 && json_array_size(member(p, "flags")))
		ret = cl_error(e, 0, "config.json: .linux.personality.flags: not supported");
	s->has_personality = ret == 0;
	free(domain);
	return ret;
}

static int parse_linux(json_t *root, struct cl_spec *s, struct cl_err *e)
{
	json_t *lin, *v;
	char *prop = NULL;
	int ret = 0;

	if (get_obj(root, "linux", ".linux", &lin, e) < 0)
		return -1;
	v = member(lin, "namespaces");
	s->ns = xcalloc(json_is_array(v) ? json_array_size(v) : 1, sizeof(struct cl_ns));
	if (each_obj(lin, "namespaces", ".linux.namespaces", one_ns, s, &s->nns, e) < 0)
		return -1;
	v = member(lin, "devices");
	s->devices = xcalloc(json_is_array(v) ? json_array_size(v) : 1, sizeof(struct cl_device));
	if (each_obj(lin, "devices", ".linux.devices", one_device, s->devices, &s->ndevices, e) < 0)
		return -1;
	v = member(lin, "uidMappings");
	s->uid_maps = xcalloc(json_is_array(v) ? json_array_size(v) : 1, sizeof(struct cl_idmap));
	if (each_obj(lin, "uidMappings", ".linux.uidMappings", one_idmap, s->uid_maps,
		     &s->nuid_maps, e) < 0)
		return -1;
	v = member(lin, "gidMappings");
	s->gid_maps = xcalloc(json_is_array(v) ? json_array_size(v) : 1, sizeof(struct cl_idmap));
	if (each_obj(lin, "gidMappings", ".linux.gidMappings", one_idmap, s->gid_maps,
		     &s->ngid_maps, e) < 0 ||
	    get_str(lin, "cgroupsPath", ".linux.cgroupsPath", &s->cgroups_path, e) < 0 ||
	    parse_resources(lin, s, e) < 0 ||
	    get_strmap(lin, "sysctl", ".linux.sysctl", &s->sysctl, e) < 0 ||
	    parse_time_offsets(lin, s, e) < 0 || parse_seccomp(lin, s, e) < 0 ||
	    parse_personality(lin, s, e) < 0 ||
	    get_strv(lin, "maskedPaths", ".linux.maskedPaths", &s->masked, e) < 0 ||
	    get_strv(lin, "readonlyPaths", ".linux.readonlyPaths", &s->readonly, e) < 0 ||
	    get_str(lin, "rootfsPropagation", ".linux.rootfsPropagation", &prop, e) < 0 ||
	    mount_label(lin, e) < 0)
		return -1;
	if (prop && cl_propagation_from_name(prop, &s->rootfs_propagation) < 0)
		ret =
		    cl_error(e, 0, "config.json: .linux.rootfsPropagation: unknown value %s", prop);
	free(prop);
	/* mappings with a joined user namespace describe it (runc wants them) */
	if (ret == 0 && (s->nuid_maps || s->ngid_maps) && !(s->ns_flags & CLONE_NEWUSER) &&
	    !cl_userns_joined(s))
		ret = cl_error(e, 0,
			       "config.json: .linux.uidMappings: given without a new user "
			       "namespace");
	if (ret == 0 && (s->ns_flags & CLONE_NEWUSER) && (!s->nuid_maps || !s->ngid_maps))
		ret = cl_error(e, 0,
			       "config.json: .linux.uidMappings: a new user namespace needs "
			       "uid and gid mappings");
	return ret;
}

/* --- hooks -------------------------------------------------------------------- */

static int one_hook(json_t *it, const char *path, size_t i, void *arg, struct cl_err *e)
{
	struct cl_hook *h = &((struct cl_hook *)arg)[i];
	long long t;
	bool has;

	if (get_str(it, "path", path, &h->path, e) < 0 ||
	    get_strv(it, "args", path, &h->args, e) < 0 ||
	    get_strv(it, "env", path, &h->env, e) < 0 ||
	    get_int(it, "timeout", path, 1, INT32_MAX, &t, &has, e) < 0)
		return -1;
	if (!h->path || h->path[0] != '/')
		return cl_error(e, 0, "config.json: %s.path: must be an absolute path", path);
	h->timeout = has ? (int)t : 0;
	return 0;
}

static int parse_hooks(json_t *root, struct cl_spec *s, struct cl_err *e)
{
	static const char *const names[CL_HOOK_KINDS] = {"prestart",	    "createRuntime",
							 "createContainer", "startContainer",
							 "poststart",	    "poststop"};
	json_t *hooks;
	char path[64];

	if (get_obj(root, "hooks", ".hooks", &hooks, e) < 0)
		return -1;
	for (int k = 0; hooks && k < CL_HOOK_KINDS; k++) {
		json_t *v = member(hooks, names[k]);
		snprintf(path, sizeof(path), ".hooks.%s", names[k]);
		s->hooks[k] =
		    xcalloc(json_is_array(v) ? json_array_size(v) : 1, sizeof(struct cl_hook));
		if (each_obj(hooks, names[k], path, one_hook, s->hooks[k], &s->nhooks[k], e) < 0)
			return -1;
	}
	return 0;
}

/* --- the document ------------------------------------------------------------ */

/* org.wisp.ns-owner, "PID START" (image/netjoin.c writes it): digits only, neither 0. */
static int ns_owner(json_t *ann, struct cl_spec *s, struct cl_err *e)
{
	json_t *v = ann ? json_object_get(ann, CL_NS_OWNER) : NULL;
	const char *t = json_string_value(v), *d = "0123456789";
	size_t a = t ? strspn(t, d) : 0, b = a && t[a] == ' ' ? strspn(t + a + 1, d) : 0;

	if (!v)
		return 0;
	if (b == 0 || a > 9 || b > 19 || t[a + 1 + b] != '\0' ||
	    !(s->ns_owner = (pid_t)strtol(t, NULL, 10)) ||
	    !(s->ns_owner_start = strtoull(t + a + 1, NULL, 10)))
		return cl_error(
		    e, 0, "config.json: .annotations[\"" CL_NS_OWNER "\"]: not \"PID START\"");
	return 0;
}

static int parse_root(json_t *root, const char *bundle, struct cl_spec *s, struct cl_err *e)
{
	json_t *r, *ann;
	char *path = NULL;

	if (get_str(root, "ociVersion", ".ociVersion", &s->oci_version, e) < 0 ||
	    get_obj(root, "root", ".root", &r, e) < 0)
		return -1;
	if (!r)
		return cl_error(e, 0, "config.json: .root: missing");
	if (get_str(r, "path", ".root.path", &path, e) < 0 ||
	    get_bool(r, "readonly", ".root.readonly", &s->root_readonly, e) < 0) {
		free(path);
		return -1;
	}
	if (!path)
		return cl_error(e, 0, "config.json: .root.path: missing");
	s->root_path = path[0] == '/' || !bundle ? cl_strdup(path) : cl_path_join(bundle, path);
	free(path);
	if (get_str(root, "hostname", ".hostname", &s->hostname, e) < 0 ||
	    get_str(root, "domainname", ".domainname", &s->domainname, e) < 0 ||
	    get_obj(root, "annotations", ".annotations", &ann, e) < 0)
		return -1;
	if (ann)
		s->annotations_json = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
	return ns_owner(ann, s, e);
}

static int parse_doc(json_t *root, const char *bundle, struct cl_spec *s, struct cl_err *e)
{
	json_t *m;

	if (!json_is_object(root))
		return cl_error(e, 0, "config.json: expected an object at the top");
	if (parse_root(root, bundle, s, e) < 0 || parse_process(root, s, e) < 0)
		return -1;
	m = member(root, "mounts");
	s->mounts = xcalloc(json_is_array(m) ? json_array_size(m) : 1, sizeof(struct cl_mount));
	if (each_obj(root, "mounts", ".mounts", one_mount, s->mounts, &s->nmounts, e) < 0 ||
	    parse_linux(root, s, e) < 0 || parse_hooks(root, s, e) < 0)
		return -1;
	return 0;
}

int cl_spec_parse(const char *json, size_t len, const char *bundle, struct cl_spec **out,
		  struct cl_err *e)
{
	struct cl_spec *s = xcalloc(1, sizeof(*s));
	json_error_t jerr;
	json_t *root;
	int ret;

	*out = NULL;
	e->msg[0] = 0;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root && strstr(jerr.text, "too big integer"))
		root =
		    json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (!root) {
		cl_spec_free(s);
		return cl_error(e, 0, "config.json: line %d column %d: %s", jerr.line, jerr.column,
				jerr.text);
	}
	ret = parse_doc(root, bundle, s, e);
	json_decref(root);
	if (ret < 0) {
		cl_spec_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int cl_spec_load(const char *bundle, struct cl_spec **out, struct cl_err *e)
{
	char *path = cl_path_join(bundle, "config.json"), *text;
	size_t len;
	int ret;

	ret = cl_read_file(path, &text, &len, e);
	free(path);
	if (ret < 0)
		return -1;
	ret = cl_spec_parse(text, len, bundle, out, e);
	free(text);
	return ret;
}

static void free_hooks(struct cl_spec *s)
{
	for (int k = 0; k < CL_HOOK_KINDS; k++) {
		for (size_t i = 0; s->hooks[k] && i < s->nhooks[k]; i++) {
			free(s->hooks[k][i].path);
			cl_strv_free(&s->hooks[k][i].args);
			cl_strv_free(&s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
}

static void free_seccomp(struct cl_seccomp *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; sc->rules && i < sc->nrules; i++) {
		cl_strv_free(&sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	cl_strv_free(&sc->arches);
	free(sc);
}

void cl_spec_free(struct cl_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	cl_strv_free(&s->args);
	cl_strv_free(&s->env);
	free(s->cwd);
	free(s->add_gids);
	free(s->rlimits);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; s->mounts && i < s->nmounts; i++) {
		free(s->mounts[i].dest);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
		free(s->mounts[i].uid_maps);
		free(s->mounts[i].gid_maps);
	}
	free(s->mounts);
	for (size_t i = 0; s->ns && i < s->nns; i++) {
		free(s->ns[i].path);
		if (s->ns[i].fd >= 0)
			close(s->ns[i].fd);
	}
	free(s->ns);
	free(s->uid_maps);
	free(s->gid_maps);
	free(s->cgroups_path);
	free(s->res.cpus);
	free(s->res.mems);
	cl_strv_free(&s->res.unified);
	free(s->res.dev_rules);
	cl_strv_free(&s->sysctl);
	free_seccomp(s->seccomp);
	for (size_t i = 0; s->devices && i < s->ndevices; i++)
		free(s->devices[i].path);
	free(s->devices);
	cl_strv_free(&s->masked);
	cl_strv_free(&s->readonly);
	free_hooks(s);
	free(s->annotations_json);
	free(s);
}

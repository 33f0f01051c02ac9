/*
 * decl.c: declarations (the *.yaml files of /etc/wisp) -> a table of services.
 *
 * The format is documented in docs/declarations.md; this is its one
 * parser. A problem costs only the service it is in: every problem of
 * that service is reported, one line each, as
 *     PATH:LINE:COL: service "NAME": PROBLEM
 * (service #N while the service has no valid name yet), the service is
 * left out, and the others are kept.
 */
#include "decl.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where user and group names are looked up. */
static const char *etc_dir = "/etc";

void decl_set_etc(const char *dir)
{
	etc_dir = dir;
}

struct ctx {
	const char *path;
	decl_report_fn *report;
	void *rctx;
	int errors;
	struct decls *set;
};

/* The service being read, for messages and for its fields. */
struct svc {
	struct ctx *c;
	int index; /* 1-based position in the services list */
	const char *name;
	const char *who; /* set: what the problems are in, instead of a service */
	bool bad;
	bool group_set;		     /* "group" given: "user" must not override it */
	const struct ynode *net_at;  /* network: NAME, where: its implied dependency */
	const struct ynode *user_at; /* a uid no passwd entry names: its group must be given */
	struct decl d;
};

static void report(struct ctx *c, int line, int col, const char *who, const char *fmt, va_list ap)
{
	char msg[768];
	int n;

	n = snprintf(msg, sizeof(msg), "%s:%d:%d: %s", c->path, line, col, who);
	if (n >= 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	c->errors++;
	c->report(c->rctx, msg);
}

/* A problem outside any service. */
static void file_problem(struct ctx *c, int line, int col, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void file_problem(struct ctx *c, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, line, col, "", fmt, ap);
	va_end(ap);
}

/* A problem in service s, at node n: the service will be skipped. */
static void problem(struct svc *s, const struct ynode *n, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* "FIELD" must be WHAT, not "VALUE": one format for them all, one string in PID 1. */
#define MUST_BE "\"%s\" must be %s, not \"%s\""
static void problem(struct svc *s, const struct ynode *n, const char *fmt, ...)
{
	char who[DECL_NAME_MAX + 32];
	va_list ap;

	if (s->who)
		snprintf(who, sizeof(who), "%s", s->who);
	else if (s->name)
		snprintf(who, sizeof(who), "service \"%s\": ", s->name);
	else
		snprintf(who, sizeof(who), "service #%d: ", s->index);
	s->bad = true;
	va_start(ap, fmt);
	report(s->c, n->line, n->col, who, fmt, ap);
	va_end(ap);
}

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* The string of a scalar value node, or NULL after reporting what it is instead. */
static const char *scalar(struct svc *s, const char *field, const struct ynode *v)
{
	if (v->type == Y_SCALAR)
		return v->str;
	if (v->type == Y_ALIAS)
		problem(s, v, "\"%s\": YAML aliases are not supported", field);
	else
		problem(s, v, "\"%s\" must be a string, not a %s", field,
			v->type == Y_SEQ ? "list" : "mapping");
	return NULL;
}

static char *dup_or_flag(struct svc *s, const struct ynode *at, const char *str)
{
	char *p = strdup(str);

	if (!p)
		problem(s, at, "out of memory");
	return p;
}

/* A vector of n+1 pointers, all NULL, or NULL after reporting. */
static char **strv_new(struct svc *s, const struct ynode *at, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		problem(s, at, "out of memory");
	return v;
}

static void field_name(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "name", v);

	if (!str)
		return;
	if (!unit_name_valid(str)) {
		problem(s, v,
			"\"name\" must match [a-z0-9][a-z0-9_.-]* (at most %d characters), "
			"not \"%s\"",
			DECL_NAME_MAX, str);
		return;
	}
	s->d.name = dup_or_flag(s, v, str);
}

static void command_list(struct svc *s, const struct ynode *v, const char *field, char ***out)
{
	if (v->n == 0) {
		problem(s, v, "\"%s\" is empty", field);
		return;
	}
	for (size_t i = 0; i < v->n; i++)
		if (!scalar(s, field, v->kid[i]))
			return;
	if (v->kid[0]->str[0] == '\0') {
		problem(s, v->kid[0], "\"%s\" has an empty program name", field);
		return;
	}
	if (!(*out = strv_new(s, v, v->n)))
		return;
	for (size_t i = 0; i < v->n; i++)
		if (!((*out)[i] = dup_or_flag(s, v->kid[i], v->kid[i]->str)))
			return;
}

/* A string command is a shell command line: the user wrote it as one. */
static void command_string(struct svc *s, const struct ynode *v, const char *field, char ***out)
{
	if (v->str[strspn(v->str, " \t\n")] == '\0') {
		problem(s, v, "\"%s\" is empty", field);
		return;
	}
	if (!(*out = strv_new(s, v, 3)))
		return;
	if (!((*out)[0] = dup_or_flag(s, v, "/bin/sh")) || !((*out)[1] = dup_or_flag(s, v, "-c")))
		return;
	(*out)[2] = dup_or_flag(s, v, v->str);
}

static void read_command(struct svc *s, const struct ynode *v, const char *field, char ***out)
{
	if (v->type == Y_SEQ)
		command_list(s, v, field, out);
	else if (v->type == Y_SCALAR)
		command_string(s, v, field, out);
	else if (v->type == Y_ALIAS)
		problem(s, v, "\"%s\": YAML aliases are not supported", field);
	else
		problem(s, v, "\"%s\" must be a list (argv) or a string (shell command)", field);
}

static void field_command(struct svc *s, const struct ynode *v)
{
	read_command(s, v, "command", &s->d.argv);
}

static void field_tty(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "tty", v);

	if (!str)
		return;
	if (strcmp(str, "console") != 0 && str[0] != '/') {
		problem(s, v, MUST_BE, "tty", "\"console\" or a device path like /dev/ttyS0", str);
		return;
	}
	s->d.tty = dup_or_flag(s, v, str);
}

static void field_restart(struct svc *s, const struct ynode *v)
{
	static const enum restart all[] = {RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS};
	const char *str = scalar(s, "restart", v);

	if (!str)
		return;
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		if (strcmp(str, restart_name(all[i])) == 0) {
			s->d.restart = all[i];
			return;
		}
	problem(s, v, MUST_BE, "restart", "no, on-failure or always", str);
}

static void field_working_dir(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "working_dir", v);

	if (!str)
		return;
	if (str[0] != '/') {
		problem(s, v, MUST_BE, "working_dir", "an absolute path", str);
		return;
	}
	s->d.working_dir = dup_or_flag(s, v, str);
}

/* Append KEY=value to the env vector (allocated large enough); at is where it was written. */
static void env_add(struct svc *s, const struct ynode *at, const char *key, size_t klen,
		    const char *val)
{
	size_t vlen = strlen(val), i = strv_len(s->d.env);
	char *kv;

	if (!valid_env_name(key, klen)) {
		problem(s, at, "env name \"%.*s\" is not valid (letters, digits, _)", (int)klen,
			key);
		return;
	}
	if (env_find(s->d.env, i, key, klen) >= 0) {
		problem(s, at, "env \"%.*s\" is given twice", (int)klen, key);
		return;
	}
	kv = malloc(klen + vlen + 2);
	if (!kv) {
		problem(s, at, "out of memory");
		return;
	}
	memcpy(kv, key, klen);
	kv[klen] = '=';
	memcpy(kv + klen + 1, val, vlen + 1);
	s->d.env[i] = kv;
}

static void env_map(struct svc *s, const struct ynode *v)
{
	size_t n = v->n / 2;

	if (!(s->d.env = strv_new(s, v, n)))
		return;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *k = v->kid[2 * i], *val = v->kid[2 * i + 1];
		const char *kstr, *vstr;

		if (!(kstr = scalar(s, "env", k)) || !(vstr = scalar(s, "env", val)))
			continue;
		env_add(s, k, kstr, strlen(kstr), vstr);
	}
}

static void env_list(struct svc *s, const struct ynode *v)
{
	if (!(s->d.env = strv_new(s, v, v->n)))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const char *str = scalar(s, "env", v->kid[i]), *eq;

		if (!str)
			continue;
		if (!(eq = strchr(str, '='))) {
			problem(s, v->kid[i], "env entry \"%s\" is not KEY=value", str);
			continue;
		}
		env_add(s, v->kid[i], str, (size_t)(eq - str), eq + 1);
	}
}

static void field_env(struct svc *s, const struct ynode *v)
{
	if (v->type == Y_MAP)
		env_map(s, v);
	else if (v->type == Y_SEQ)
		env_list(s, v);
	else if (v->type == Y_SCALAR && v->str[0] == '\0')
		return; /* "env:" with nothing: no variables */
	else
		problem(s, v, "\"env\" must be a mapping or a list of KEY=value");
}

static bool seen_before(const struct ynode *m, size_t upto, const char *key)
{
	for (size_t j = 0; j < upto; j += 2)
		if (m->kid[j]->type == Y_SCALAR && strcmp(m->kid[j]->str, key) == 0)
			return true;
	return false;
}

static void field_kind(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "kind", v);

	if (!str)
		return;
	if (!strcmp(str, "service"))
		s->d.kind = KIND_SERVICE;
	else if (!strcmp(str, "oneshot"))
		s->d.kind = KIND_ONESHOT;
	else if (!strcmp(str, "container"))
		s->d.kind = KIND_CONTAINER;
	else
		problem(s, v, MUST_BE, "kind", "service, oneshot or container", str);
}

static void field_user(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "user", v);
	bool has_gid;
	gid_t gid;

	if (!str)
		return;
	if (s->d.kind == KIND_CONTAINER) {
		/* a name in the image's own /etc/passwd, not the host's */
		s->d.user_spec = dup_or_flag(s, v, str);
		return;
	}
	if (user_lookup(etc_dir, str, &s->d.uid, &gid, &has_gid) < 0) {
		problem(s, v, "\"user\": no user \"%s\" in %s/passwd", str, etc_dir);
		return;
	}
	s->d.has_uid = true;
	/* The user's own group, unless "group" says otherwise (it may come later). */
	if (has_gid && !s->d.has_gid) {
		s->d.gid = gid;
		s->d.has_gid = true;
	}
	if (!has_gid)
		s->user_at = v;
}

static void field_group(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "group", v);

	if (!str)
		return;
	if (s->d.kind == KIND_CONTAINER) {
		problem(s, v, "\"group\" is not for containers: write user: NAME:GROUP");
		return;
	}
	if (group_lookup(etc_dir, str, &s->d.gid) < 0) {
		problem(s, v, "\"group\": no group \"%s\" in %s/group", str, etc_dir);
		return;
	}
	s->d.has_gid = true;
	s->group_set = true;
}

static void field_stop_signal(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "stop_signal", v);
	int sig;

	if (!str)
		return;
	if ((sig = parse_signal(str)) < 0) {
		problem(s, v, MUST_BE, "stop_signal", "a signal name like TERM or INT", str);
		return;
	}
	s->d.stop_signal = sig;
	s->d.stop_signal_set = true;
}

/* A duration field into *ms; field names the whole path for the message. */
static void duration(struct svc *s, const struct ynode *v, const char *field, uint32_t *ms)
{
	const char *str = scalar(s, field, v);

	if (str && parse_duration(str, ms) < 0)
		problem(s, v, MUST_BE, field, "a duration like 100ms, 5s or 2m", str);
}

static void field_stop_timeout(struct svc *s, const struct ynode *v)
{
	duration(s, v, "stop_timeout", &s->d.stop_timeout_ms);
}

/* A mapping of sub-fields, each read by the handler of its name. */
struct sub {
	const char *name;
	void (*read)(struct svc *s, const struct ynode *v, const char *path);
};

static void submap(struct svc *s, const struct ynode *m, const char *field, const struct sub *subs,
		   size_t nsubs)
{
	char path[64];

	if (m->type != Y_MAP) {
		problem(s, m, "\"%s\" must be a mapping", field);
		return;
	}
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kid[i];
		size_t j;

		if (k->type != Y_SCALAR) {
			problem(s, k, "a field name in \"%s\" must be a string", field);
			continue;
		}
		if (seen_before(m, i, k->str)) {
			problem(s, k, "field \"%s.%s\" is given twice", field, k->str);
			continue;
		}
		for (j = 0; j < nsubs && strcmp(subs[j].name, k->str); j++)
			;
		if (j == nsubs) {
			problem(s, k, "unknown field \"%s.%s\"", field, k->str);
			continue;
		}
		snprintf(path, sizeof(path), "%s.%s", field, k->str);
		subs[j].read(s, m->kid[i + 1], path);
	}
}

static void rd_initial(struct svc *s, const struct ynode *v, const char *path)
{
	duration(s, v, path, &s->d.backoff_initial_ms);
}
static void rd_max(struct svc *s, const struct ynode *v, const char *path)
{
	duration(s, v, path, &s->d.backoff_max_ms);
}
static void rd_reset(struct svc *s, const struct ynode *v, const char *path)
{
	duration(s, v, path, &s->d.backoff_reset_ms);
}

static void field_restart_delay(struct svc *s, const struct ynode *v)
{
	static const struct sub subs[] = {
	    {"initial", rd_initial}, {"max", rd_max}, {"reset_after", rd_reset}};

	submap(s, v, "restart_delay", subs, ARRAY_LEN(subs));
	if (s->d.backoff_initial_ms == 0 && seen_before(v, v->n, "initial"))
		problem(s, v, "\"restart_delay.initial\" must be more than 0");
}

static void hc_command(struct svc *s, const struct ynode *v, const char *path)
{
	read_command(s, v, path, &s->d.health.argv);
}
static void hc_interval(struct svc *s, const struct ynode *v, const char *path)
{
	duration(s, v, path, &s->d.health.interval_ms);
}
static void hc_timeout(struct svc *s, const struct ynode *v, const char *path)
{
	duration(s, v, path, &s->d.health.timeout_ms);
}
static void hc_start_period(struct svc *s, const struct ynode *v, const char *path)
{
	duration(s, v, path, &s->d.health.start_period_ms);
}

/* A small number from lo to hi. */
static bool number_in(struct svc *s, const struct ynode *v, const char *path, uint64_t lo,
		      uint64_t hi, uint64_t *out)
{
	const char *str = scalar(s, path, v), *end;
	uint64_t n;

	if (!str)
		return false;
	if ((end = dec_scan(str, &n)) && !*end && n >= lo && n <= hi) {
		*out = n;
		return true;
	}
	problem(s, v, "\"%s\" must be a number from %llu to %llu, not \"%s\"", path,
		(unsigned long long)lo, (unsigned long long)hi, str);
	return false;
}

static void hc_retries(struct svc *s, const struct ynode *v, const char *path)
{
	uint64_t n;

	if (number_in(s, v, path, 1, 1000, &n))
		s->d.health.retries = (unsigned)n;
}

static void field_healthcheck(struct svc *s, const struct ynode *v)
{
	static const struct sub subs[] = {
	    {"command", hc_command}, {"interval", hc_interval},		{"timeout", hc_timeout},
	    {"retries", hc_retries}, {"start_period", hc_start_period},
	};

	submap(s, v, "healthcheck", subs, ARRAY_LEN(subs));
	if (v->type == Y_MAP && !seen_before(v, v->n, "command"))
		problem(s, v, "missing \"healthcheck.command\"");
	if (s->d.health.interval_ms == 0 || s->d.health.timeout_ms == 0)
		problem(s, v, "\"healthcheck\" interval and timeout must be more than 0");
}

static void res_cpu_weight(struct svc *s, const struct ynode *v, const char *path)
{
	uint64_t n;

	if (number_in(s, v, path, 1, 10000, &n))
		s->d.res.cpu_weight = (unsigned)n;
}

static void res_cpu_max(struct svc *s, const struct ynode *v, const char *path)
{
	const char *str = scalar(s, path, v);

	if (str && parse_cpu_max(str, s->d.res.cpu_max, sizeof(s->d.res.cpu_max)) < 0)
		problem(s, v,
			"\"%s\" must be \"QUOTA PERIOD\" (microseconds), \"max\" or a number "
			"of cpus like 0.5, not \"%s\"",
			path, str);
}

static void res_memory_max(struct svc *s, const struct ynode *v, const char *path)
{
	const char *str = scalar(s, path, v);

	if (!str)
		return;
	if (!strcmp(str, "max"))
		s->d.res.memory_max = UINT64_MAX;
	else if (parse_size(str, &s->d.res.memory_max) < 0 || s->d.res.memory_max == 0)
		problem(s, v, MUST_BE, path, "a size like 512M or 2G, or max", str);
}

static void res_pids_max(struct svc *s, const struct ynode *v, const char *path)
{
	const char *str = scalar(s, path, v);

	if (str && !strcmp(str, "max"))
		s->d.res.pids_max = UINT64_MAX;
	else if (str)
		number_in(s, v, path, 1, 4194304, &s->d.res.pids_max);
}

/* "20mbit": tc's rate as containerd-lite's net/rate.c reads it (decimal bit,
 * kbit, mbit, gbit; 100kbit..16gbit), kept as text for it. */
static void net_rate(struct svc *s, const struct ynode *v, const char *path, char out[16])
{
	static const char kmg[] = "kmg";
	static const uint32_t mults[] = {1000, 1000000, 1000000000};
	const char *str = scalar(s, path, v), *end, *k;
	uint64_t n = 0, mul = 1;

	if (!str)
		return;
	if ((end = dec_scan(str, &n)) && *end && (k = strchr(kmg, *end)))
		mul = mults[k - kmg], end++;
	if (end && !strcmp(end, "bit") && strlen(str) < 16 && n <= 16000000000 / mul &&
	    n * mul >= 100000)
		memcpy(out, str, strlen(str) + 1);
	else
		problem(s, v, MUST_BE, path, "a rate like 20mbit", str);
}

static void res_net_egress(struct svc *s, const struct ynode *v, const char *path)
{
	net_rate(s, v, path, s->d.res.net_egress);
}

static void res_net_ingress(struct svc *s, const struct ynode *v, const char *path)
{
	net_rate(s, v, path, s->d.res.net_ingress);
}

static void field_resources(struct svc *s, const struct ynode *v)
{
	static const struct sub subs[] = {
	    {"cpu_weight", res_cpu_weight}, {"cpu_max", res_cpu_max},
	    {"memory_max", res_memory_max}, {"pids_max", res_pids_max},
	    {"net_egress", res_net_egress}, {"net_ingress", res_net_ingress},
	};

	submap(s, v, "resources", subs, ARRAY_LEN(subs));
}

/* One dependency: name, and a condition (or the default for the list form). */
static void dep_add(struct svc *s, const struct ynode *at, const char *name,
		    const struct ynode *cond)
{
	static const char *const conds[] = {
	    [DEP_STARTED] = "started", [DEP_HEALTHY] = "healthy", [DEP_COMPLETED] = "completed"};
	struct dep *d = &s->d.deps[s->d.ndeps];
	const char *str;

	if (!unit_name_valid(name)) {
		problem(s, at, "\"depends_on\": \"%s\" is not a valid unit name", name);
		return;
	}
	for (size_t i = 0; i < s->d.ndeps; i++)
		if (!strcmp(s->d.deps[i].name, name)) {
			problem(s, at, "\"depends_on\": \"%s\" is given twice", name);
			return;
		}
	d->cond = DEP_STARTED;
	d->line = at->line;
	d->col = at->col;
	if (cond) {
		const struct ynode *cv = NULL;
		for (size_t i = 0; cond->type == Y_MAP && i + 1 < cond->n; i += 2)
			if (cond->kid[i]->type == Y_SCALAR &&
			    !strcmp(cond->kid[i]->str, "condition"))
				cv = cond->kid[i + 1];
			else
				problem(s, cond->kid[i],
					"\"depends_on.%s\": only \"condition\" may be given", name);
		if (cond->type != Y_MAP || !cv) {
			problem(
			    s, cond,
			    "\"depends_on.%s\" must be {condition: started, healthy or completed}",
			    name);
			return;
		}
		if (!(str = scalar(s, "depends_on", cv)))
			return;
		size_t j;
		for (j = 0; j < ARRAY_LEN(conds) && strcmp(conds[j], str); j++)
			;
		if (j == ARRAY_LEN(conds)) {
			problem(s, cv,
				"\"depends_on.%s.condition\" must be started, healthy or "
				"completed, not \"%s\"",
				name, str);
			return;
		}
		d->cond = (enum dep_cond)j;
	} else {
		d->cond = DEP_DEFAULT; /* decided once the dependency's kind is known */
	}
	if ((d->name = dup_or_flag(s, at, name)))
		s->d.ndeps++;
}

static void field_depends_on(struct svc *s, const struct ynode *v)
{
	size_t n = v->type == Y_SEQ ? v->n : v->type == Y_MAP ? v->n / 2 : 0;

	if (v->type != Y_SEQ && v->type != Y_MAP) {
		problem(
		    s, v,
		    "\"depends_on\" must be a list of names or a mapping name: {condition: ...}");
		return;
	}
	if (!(s->d.deps = calloc(n + 1, sizeof(*s->d.deps)))) {
		problem(s, v, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *k = v->type == Y_SEQ ? v->kid[i] : v->kid[2 * i];
		const char *name = scalar(s, "depends_on", k);
		if (name)
			dep_add(s, k, name, v->type == Y_MAP ? v->kid[2 * i + 1] : NULL);
	}
}

static void field_image(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "image", v);

	if (str && !*str)
		problem(s, v, "\"image\" is empty");
	else if (str)
		s->d.image = dup_or_flag(s, v, str);
}

/* pull: missing (the default), always or never, as docker run's --pull. */
static void field_pull(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "pull", v);

	if (str && !strcmp(str, "always"))
		s->d.pull = DECL_PULL_ALWAYS;
	else if (str && !strcmp(str, "never"))
		s->d.pull = DECL_PULL_NEVER;
	else if (str && strcmp(str, "missing"))
		problem(s, v, MUST_BE, "pull", "missing, always or never", str);
}

static void field_entrypoint(struct svc *s, const struct ynode *v)
{
	read_command(s, v, "entrypoint", &s->d.entrypoint);
}

/* true/false, yes/no, on/off: what YAML 1.1 and compose files say. */
static void boolean(struct svc *s, const struct ynode *v, const char *field, bool *out)
{
	static const char *const t[] = {"true", "yes", "on"}, *const f[] = {"false", "no", "off"};
	const char *str = scalar(s, field, v);

	for (size_t i = 0; str && i < ARRAY_LEN(t); i++)
		if (!strcmp(str, t[i]) || !strcmp(str, f[i])) {
			*out = !strcmp(str, t[i]);
			return;
		}
	if (str)
		problem(s, v, MUST_BE, field, "true or false", str);
}

static void field_read_only(struct svc *s, const struct ynode *v)
{
	boolean(s, v, "read_only", &s->d.read_only);
}

static void field_early(struct svc *s, const struct ynode *v)
{
	boolean(s, v, "early", &s->d.early);
}

/* PID 1 does not read it: provision makes the boot-good unit depend on it. */
static void field_critical(struct svc *s, const struct ynode *v)
{
	boolean(s, v, "critical", &s->d.critical);
}

static void field_network(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "network", v);
	unsigned char i = 0;

	while (str && i < 3 && strcmp(str, decl_net_names[i]))
		i++;
	if (str && i == 3 && !strcmp(str, "none"))
		i = DECL_NET_PRIVATE; /* docker's name for loopback only */
	if (str && i == 3 && unit_name_valid(str)) {
		/* another container's: docker's container:NAME, a pod's */
		s->d.net_peer = dup_or_flag(s, v, str);
		s->net_at = v;
	} else if (str && i == 3) {
		problem(s, v, MUST_BE, "network", "host, bridge, none or a container", str);
		return;
	}
	if (str)
		s->d.net = i; /* 3: DECL_NET_CONTAINER */
}

/* network: NAME starts once NAME has (its namespaces exist): a dependency
 * as if written, unless it is. */
static void net_dependency(struct svc *s)
{
	struct dep *v;

	for (size_t i = 0; i < s->d.ndeps; i++)
		if (!strcmp(s->d.deps[i].name, s->d.net_peer))
			return;
	if (!(v = realloc(s->d.deps, (s->d.ndeps + 1) * sizeof(*v)))) {
		problem(s, s->net_at, "out of memory");
		return;
	}
	s->d.deps = v;
	v[s->d.ndeps] = (struct dep){.cond = DEP_STARTED,
				     .line = s->net_at->line,
				     .col = s->net_at->col,
				     .name = dup_or_flag(s, s->net_at, s->d.net_peer)};
	s->d.ndeps += v[s->d.ndeps].name != NULL;
}

/* Digits at *P up to STOP into *V, MIN..MAX; *P past STOP. */
static bool number_to(const char **p, uint64_t min, uint64_t max, char stop, uint64_t *v)
{
	const char *q = dec_scan(*p, v);

	if (!q || *q != stop || *v < min || *v > max)
		return false;
	*p = q + (stop != '\0');
	return true;
}

/* docker's -p, "[A.B.C.D:]HOST_PORT:CTR_PORT[/tcp|/udp]", as containerd-lite
 * reads it (net/port.c); KEY gets (address, host port, udp) to find clashes. */
static bool port_spec(const char *spec, uint64_t key[3])
{
	const char *slash = strchr(spec, '/'), *p;
	size_t n = slash ? (size_t)(slash - spec) : strlen(spec);
	uint64_t b, ctr;
	char buf[48];

	key[0] = 0;
	key[2] = slash && !strcmp(slash, "/udp");
	if ((slash && !key[2] && strcmp(slash, "/tcp")) || n >= sizeof(buf))
		return false;
	memcpy(buf, spec, n);
	buf[n] = '\0';
	p = buf;
	for (int i = 0; strchr(buf, '.') && i < 4; i++) { /* an address: four bytes */
		if (!number_to(&p, 0, 255, i < 3 ? '.' : ':', &b))
			return false;
		key[0] = key[0] << 8 | b;
	}
	return number_to(&p, 1, 65535, ':', &key[1]) && number_to(&p, 1, 65535, '\0', &ctr);
}

/* ports and volumes: a list of at most 32 strings of SHAPE (each checked by
 * its field); false, said, if v is not one. */
static bool short_list(struct svc *s, const struct ynode *v, const char *field, const char *shape)
{
	if (v->type == Y_SEQ && v->n <= 32)
		return true;
	problem(s, v, "\"%s\" must be a list of at most 32 \"%s\"", field, shape);
	return false;
}

/* The strings of such a list, copied (NULL-terminated). */
static char **list_copy(struct svc *s, const struct ynode *v)
{
	char **out = strv_new(s, v, v->n);

	for (size_t i = 0; out && i < v->n; i++)
		out[i] = dup_or_flag(s, v->kid[i], v->kid[i]->str);
	return out;
}

/* ports: a list of docker's -p (published from the bridge: checked once the
 * fields are read); one host port given twice is an error here already. */
static void field_ports(struct svc *s, const struct ynode *v)
{
	uint64_t key[32][3];

	if (!short_list(s, v, "ports", "[IP:]HOST_PORT:CTR_PORT[/udp]"))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const char *str = scalar(s, "ports", v->kid[i]);
		if (!str)
			return;
		if (!port_spec(str, key[i])) {
			problem(s, v->kid[i],
				"port \"%s\" is not [IP:]HOST_PORT:CTR_PORT[/tcp|udp]", str);
			return;
		}
		for (size_t j = 0; j < i; j++)
			if (key[j][1] == key[i][1] && key[j][2] == key[i][2] &&
			    (key[j][0] == key[i][0] || !key[j][0] || !key[i][0])) {
				problem(s, v->kid[i], "port \"%s\": its host port is given twice",
					str);
				return;
			}
	}
	s->d.ports = list_copy(s, v);
}

/* userns: auto (the default: a range of ids of its own, userns.c) or host. */
static void field_userns(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "userns", v);

	if (str && strcmp(str, "auto") && strcmp(str, "host"))
		problem(s, v, MUST_BE, "userns", "auto or host", str);
	else if (str)
		s->d.host_userns = !strcmp(str, "host");
}

/* Host access (docs/declarations.md): for a root author's node agent. */
static void field_privileged(struct svc *s, const struct ynode *v)
{
	boolean(s, v, "privileged", &s->d.privileged);
}

static void field_pid(struct svc *s, const struct ynode *v)
{
	const char *str = scalar(s, "pid", v);

	if (str && strcmp(str, "host") && strcmp(str, "private"))
		problem(s, v, MUST_BE, "pid", "host or private", str);
	else if (str)
		s->d.host_pid = !strcmp(str, "host");
}

/* OPTS of "SRC:DST:OPTS": comma-separated, each from docker's -v set. (Compared word by
 * word, not with strstr: that one function is ~1 KiB of PID 1.) */
static bool bind_opts(const char *o)
{
	static const char *const opts[] = {"ro",    "rw",     "shared",	 "rshared",
					   "slave", "rslave", "private", "rprivate"};

	for (;;) {
		size_t n = strcspn(o, ",");
		bool known = false;

		/* an empty one matches no word */
		for (size_t i = 0; i < ARRAY_LEN(opts); i++)
			known |= strlen(opts[i]) == n && strncmp(o, opts[i], n) == 0;
		if (!known)
			return false;
		if (!o[n])
			return true;
		o += n + 1;
	}
}

/* "SRC:DST[:OPTS]", both absolute: a named volume is docker's, not Wisp's. */
static bool volume_spec(const char *v)
{
	const char *dst = strchr(v, ':'), *opts;

	if (v[0] != '/' || !dst || dst[1] != '/')
		return false;
	opts = strchr(dst + 1, ':');
	return !opts || (opts[1] && bind_opts(opts + 1));
}

static void field_volumes(struct svc *s, const struct ynode *v)
{
	if (!short_list(s, v, "volumes", "SRC:DST[:OPTS]"))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const char *str = scalar(s, "volumes", v->kid[i]);
		if (!str)
			return;
		if (!volume_spec(str)) {
			problem(s, v->kid[i],
				"volume \"%s\" is not /HOST_PATH:/PATH[:ro|rw,rshared|rslave|...]",
				str);
			return;
		}
	}
	s->d.volumes = list_copy(s, v);
}

static const struct field {
	const char *name;
	void (*read)(struct svc *s, const struct ynode *v);
} fields[] = {
    {"name", field_name},
    {"kind", field_kind},
    {"command", field_command},
    {"tty", field_tty},
    {"restart", field_restart},
    {"restart_delay", field_restart_delay},
    {"env", field_env},
    {"working_dir", field_working_dir},
    {"user", field_user},
    {"group", field_group},
    {"depends_on", field_depends_on},
    {"stop_signal", field_stop_signal},
    {"stop_timeout", field_stop_timeout},
    {"healthcheck", field_healthcheck},
    {"resources", field_resources},
    {"image", field_image},
    {"pull", field_pull},
    {"entrypoint", field_entrypoint},
    {"read_only", field_read_only},
    {"network", field_network},
    {"ports", field_ports},
    {"userns", field_userns},
    {"privileged", field_privileged},
    {"pid", field_pid},
    {"volumes", field_volumes},
    {"early", field_early},
    {"critical", field_critical},
};

/* Fields that only a container has, and those it cannot have. */
static const char *const container_only[] = {"image",	"pull",	  "entrypoint", "read_only",
					     "network", "ports",  "userns",	"privileged",
					     "pid",	"volumes"};

static const struct field *field_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* The value of key in mapping m if it is there as a valid name, for messages. */
static const char *early_name(const struct ynode *m)
{
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kid[i], *v = m->kid[i + 1];
		if (k->type == Y_SCALAR && strcmp(k->str, "name") == 0 && v->type == Y_SCALAR &&
		    unit_name_valid(v->str))
			return v->str;
	}
	return NULL;
}

/* The kind decides how other fields read (a container's user is the image's): first. */
static void read_kind(struct svc *s, const struct ynode *m)
{
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kid[i]->type == Y_SCALAR && !strcmp(m->kid[i]->str, "kind")) {
			field_kind(s, m->kid[i + 1]);
			return;
		}
}

static bool fits_kind(struct svc *s, const struct ynode *k)
{
	bool ctr = s->d.kind == KIND_CONTAINER;

	for (size_t j = 0; j < ARRAY_LEN(container_only); j++)
		if (!ctr && !strcmp(k->str, container_only[j])) {
			problem(s, k, "field \"%s\" is only for kind container", k->str);
			return false;
		}
	if (ctr && !strcmp(k->str, "tty")) {
		problem(s, k, "field \"tty\" is not for containers");
		return false;
	}
	return true;
}

static void read_fields(struct svc *s, const struct ynode *m)
{
	read_kind(s, m);
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kid[i], *v = m->kid[i + 1];
		const struct field *f;

		if (k->type != Y_SCALAR) {
			problem(s, k, "a field name must be a string");
			continue;
		}
		if (seen_before(m, i, k->str)) {
			problem(s, k, "field \"%s\" is given twice", k->str);
			continue;
		}
		if (!strcmp(k->str, "kind"))
			continue; /* read_kind() */
		if ((f = field_find(k->str)) && fits_kind(s, k))
			f->read(s, v);
		else if (!f)
			problem(s, k, "unknown field \"%s\"", k->str);
	}
	if (!seen_before(m, m->n, "name"))
		problem(s, m, "missing \"name\"");
	if (s->d.kind == KIND_CONTAINER && !seen_before(m, m->n, "image"))
		problem(s, m, "missing \"image\"");
	/* a container's own address on the bridge unless it asks otherwise,
	 * as docker's default network (host stays for who wants it) */
	if (s->d.kind == KIND_CONTAINER && !seen_before(m, m->n, "network"))
		s->d.net = DECL_NET_BRIDGE;
	if (s->d.ports && s->d.net != DECL_NET_BRIDGE)
		problem(s, m, "\"ports\" are published from \"network: bridge\" only");
	if (s->d.net_peer && seen_before(m, m->n, "userns"))
		problem(s, m, "\"userns\" comes from network %s", s->d.net_peer);
	if (s->d.net_peer)
		net_dependency(s);
	/* docker refuses --privileged in a user namespace, and the host's pid
	 * namespace's /proc cannot be mounted from one: their root is the host's */
	if ((s->d.privileged || s->d.host_pid) &&
	    (s->d.net_peer || (seen_before(m, m->n, "userns") && !s->d.host_userns)))
		problem(s, m,
			"\"%s\" needs the host's ids: \"userns: host\", no container's network",
			s->d.privileged ? "privileged" : "pid");
	if (s->d.privileged || s->d.host_pid)
		s->d.host_userns = true;
	if ((s->d.res.net_egress[0] || s->d.res.net_ingress[0]) && s->d.net != DECL_NET_BRIDGE)
		/* the ports message's tail: one string less in PID 1 */
		problem(s, m, "\"resources.net_egress\" and \"net_ingress\" are for %s",
			"\"network: bridge\" only");
	/* a fork bomb in a container stops at its own limit, not the host's */
	if (s->d.kind == KIND_CONTAINER && !s->d.res.pids_max)
		s->d.res.pids_max = CONTAINER_PIDS_MAX;
	/* a container's command defaults to its image's */
	if (s->d.kind != KIND_CONTAINER && !seen_before(m, m->n, "command"))
		problem(s, m, "missing \"command\"");
}

static const struct decl *find_name(const struct decls *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

static void add(struct svc *s, const struct ynode *m)
{
	struct decls *set = s->c->set;
	const struct decl *other = find_name(set, s->d.name);

	if (other) {
		problem(s, m, "name already used at %s:%d:%d", other->file, other->line,
			other->col);
		return;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct decl *v = realloc(set->v, cap * sizeof(*v));
		if (!v) {
			problem(s, m, "out of memory");
			return;
		}
		set->v = v;
		set->cap = cap;
	}
	if (!(s->d.file = dup_or_flag(s, m, s->c->path)))
		return;
	s->d.line = m->line;
	s->d.col = m->col;
	set->v[set->n++] = s->d;
	memset(&s->d, 0, sizeof(s->d));
}

static void decl_defaults(struct decl *d)
{
	d->stop_signal = SIGTERM;
	d->stop_timeout_ms = DECL_STOP_TIMEOUT_MS;
	/* Docker's defaults, so that a healthcheck written for compose means the same. */
	d->health.interval_ms = 30000;
	d->health.timeout_ms = 30000;
	d->health.retries = 3;
}

static void service(struct ctx *c, const struct ynode *m, int index, enum unit_kind kind)
{
	struct svc s = {.c = c, .index = index};

	if (m->type != Y_MAP) {
		problem(&s, m, "must be a mapping of fields (name, command, ...)");
		return;
	}
	decl_defaults(&s.d);
	s.d.kind = kind;
	s.name = early_name(m);
	read_fields(&s, m);
	/* else it would keep PID 1's group, root's: every unit's log is root's group's */
	if (s.user_at && !s.d.has_gid)
		problem(&s, s.user_at, "\"user\": %s has no entry in %s/passwd: give its \"group\"",
			s.user_at->str, etc_dir);
	if (!s.bad)
		add(&s, m);
	if (s.bad && s.name)
		decls_note_broken(c->set, s.name);
	decl_clear(&s.d);
}

/* The open (cut) service of a list, if the syntax error fell inside one. */
static const struct ynode *cut_service(const struct ynode *list)
{
	if (list && list->type == Y_SEQ && list->n > 0 && !list->kid[list->n - 1]->done)
		return list->kid[list->n - 1];
	return NULL;
}

static bool top_key_known(const struct ynode *k)
{
	static const char *const known[] = {"services", "containers", "environment", "network"};

	/* network: read by provision (docs/network.md), not a declaration */
	for (size_t i = 0; k->type == Y_SCALAR && i < ARRAY_LEN(known); i++)
		if (!strcmp(k->str, known[i]))
			return true;
	return false;
}

/* The list under key ("services" or "containers"), checked; the first
 * pass (services) also reports unknown top-level keys. */
static const struct ynode *unit_list(struct ctx *c, const struct ynode *root, const char *key)
{
	const struct ynode *list = NULL;

	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const struct ynode *k = root->kid[i], *v = root->kid[i + 1];

		if (!top_key_known(k) && !strcmp(key, "services"))
			file_problem(c, k->line, k->col, "unknown top-level key%s%s%s",
				     k->type == Y_SCALAR ? " \"" : "",
				     k->type == Y_SCALAR ? k->str : "",
				     k->type == Y_SCALAR ? "\"" : "");
		if (k->type != Y_SCALAR || strcmp(k->str, key) != 0)
			continue;
		if (list) {
			file_problem(c, k->line, k->col, "\"%s\" is given twice", key);
			continue;
		}
		if (v->type == Y_SCALAR && v->str[0] == '\0')
			continue; /* "services:" with nothing under it */
		if (v->type != Y_SEQ) {
			file_problem(c, v->line, v->col, "\"%s\" must be a list", key);
			continue;
		}
		list = v;
	}
	return list;
}

/*
 * Top-level "environment": variables for every unit of every file (provision's time zone,
 * a proxy). Read like a unit's env; one problem and the file's environment is left out.
 */
static void environment(struct ctx *c, const struct ynode *root)
{
	struct svc s = {.c = c, .who = "\"environment\": "};
	const struct ynode *v = NULL;

	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const struct ynode *k = root->kid[i];

		if (k->type != Y_SCALAR || strcmp(k->str, "environment") != 0)
			continue;
		if (v)
			file_problem(c, k->line, k->col, "\"environment\" is given twice");
		else
			v = root->kid[i + 1];
	}
	if (!v || (v->type == Y_SCALAR && v->str[0] == '\0'))
		return; /* "environment:" with nothing: no variables */
	if (v->type != Y_SEQ && v->type != Y_MAP) {
		file_problem(c, v->line, v->col, "\"environment\" must be a list of KEY=value");
		return;
	}
	field_env(&s, v);
	for (size_t i = 0; !s.bad && s.d.env && s.d.env[i]; i++)
		if (decls_env_put(c->set, s.d.env[i]) < 0)
			problem(&s, v, "out of memory");
	decl_clear(&s.d);
}

static void document(struct ctx *c, const struct yfile *y, const struct ynode *root)
{
	const struct ynode *list, *cut;

	/* An empty document (only comments, or "~") declares nothing. */
	if (!root || (root->type == Y_SCALAR && (root->str[0] == '\0' || !strcmp(root->str, "~"))))
		return;
	if (root->type != Y_MAP) {
		file_problem(c, root->line, root->col,
			     "the top level must be a mapping with a \"services\" list");
		return;
	}
	environment(c, root);
	for (int k = 0; k < 2; k++) {
		list = unit_list(c, root, k ? "containers" : "services");
		cut = list && y->failed ? cut_service(list) : NULL;
		for (size_t i = 0; list && i < list->n; i++)
			if (i == DECL_MAX_UNITS || c->set->n == DECL_MAX_UNITS) {
				file_problem(c, list->kid[i]->line, list->kid[i]->col,
					     "more than %d units: the rest of \"%s\" is left out",
					     DECL_MAX_UNITS, k ? "containers" : "services");
				break;
			} else if (list->kid[i] != cut)
				service(c, list->kid[i], (int)i + 1,
					k ? KIND_CONTAINER : KIND_SERVICE);
	}
}

static void syntax(struct ctx *c, const struct yfile *y)
{
	const struct ynode *root = y->ndoc ? y->doc[y->ndoc - 1] : NULL, *list = NULL, *cut = NULL;
	struct svc s = {.c = c};

	/* Find the service the error cut short, if it was in one. */
	for (size_t i = 0; root && root->type == Y_MAP && i + 1 < root->n; i += 2)
		if (root->kid[i]->type == Y_SCALAR && !strcmp(root->kid[i]->str, "services"))
			list = root->kid[i + 1];
	cut = cut_service(list);
	if (!cut) {
		file_problem(c, y->line, y->col,
			     "YAML syntax error: %s; the rest of the file is ignored", y->problem);
		return;
	}
	s.index = (int)list->n;
	s.name = cut->type == Y_MAP ? early_name(cut) : NULL;
	problem(&s, &(struct ynode){.line = y->line, .col = y->col},
		"YAML syntax error: %s; the rest of the file is ignored", y->problem);
}

int decl_load_file(struct decls *set, const char *path, decl_report_fn *rep, void *rctx)
{
	struct ctx c = {.path = path, .report = rep, .rctx = rctx, .set = set};
	struct yfile y;
	struct err e;

	if (ytree_load(path, &y, &e) < 0) {
		c.report(rctx, e.msg);
		return 1;
	}
	for (size_t i = 0; i < y.ndoc; i++)
		document(&c, &y, y.doc[i]);
	if (y.failed)
		syntax(&c, &y);
	ytree_free(&y);
	return c.errors;
}

static bool is_yaml(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".yaml") == 0;
}

int decl_load_dir(struct decls *set, const char *dir, decl_report_fn *rep, void *rctx)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	int errors = 0;
	struct dirent *de;
	struct err e;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0; /* nothing declared */
		err_set(&e, errno, "open %s", dir);
		rep(rctx, e.msg);
		return 1;
	}
	while ((de = readdir(d))) {
		if (!is_yaml(de->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **nv = realloc(names, ncap * sizeof(*nv));
			if (!nv)
				break;
			names = nv;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	if (de) {
		err_set(&e, ENOMEM, "read %s", dir);
		rep(rctx, e.msg);
		errors++;
	}
	closedir(d);
	if (n > 0)
		strv_sort(names, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		errors += decl_load_file(set, path, rep, rctx);
		free(names[i]);
	}
	free(names);
	return errors;
}
